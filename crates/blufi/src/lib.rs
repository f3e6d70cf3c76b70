//! Espressif BluFi, both ends: the frame codec, the link layer (sequence numbers, CRC-16,
//! ACKs, fragmentation, per-frame encryption), the two security generations, and sans-IO state
//! machines for the device ([`Device`]) and the phone ([`Client`]).
//!
//! BluFi runs over one GATT service (0xFFFF): the phone writes frames to characteristic 0xFF01,
//! the device notifies frames on 0xFF02. This crate does no I/O — no BLE, no clock, no OS
//! randomness (randomness is an argument, `rng: &mut (impl RngCore + CryptoRng)`); the GATT
//! plumbing lives in `wifiprov-transport` or the firmware.
//!
//! | module | what |
//! |---|---|
//! | [`frame`] | [`Frame`] view and [`Repr`]: `type \| fc \| seq \| data_len \| data \| [crc]` |
//! | [`crc`] | CRC-16/GENIBUS, the frame checksum |
//! | [`link`] | [`link::Link`]: counters, checksum, encryption, ACKs, [`link::Sizing`], [`link::Reassembler`] |
//! | [`security`] | V1 (DH ≤ 1024 bit, MD5, AES-128-CFB) and V2 (ffdhe3072, SHA-256, AES-256-CTR) |
//! | [`message`] | payloads: [`Status`], Wi-Fi list, [`Version`], [`ErrorCode`], [`SecurityMode`] |
//! | [`device`] | [`Device`]: answers version, negotiation, ACKs; reports what the phone asks |
//! | [`client`] | [`Client`]: the Android app's flow |
//!
//! The provisioning flow of the Android app (spec §7.5, §7.6):
//!
//! | step | phone → device (0xFF01) | device → phone (0xFF02) |
//! |---|---|---|
//! | version | GET_VERSION | REPLY_VERSION (1.3 ⇒ V1, 1.4 ⇒ V2) |
//! | negotiation | NEG `[0x00, len]`, NEG `[0x01] \| P \| G \| phone_pub` (fragmented) | NEG device_pub (fragmented) |
//! | security | SET_SEC_MODE 0x03 (checksum) | |
//! | mode | SET_WIFI_OPMODE 1 (ACK requested) | ACK |
//! | credentials | STA_SSID, STA_PASSWD (encrypted + checksum) | |
//! | connect | CONNECT_TO_AP | WIFI_REP when connected or failed |
//!
//! Any frame the device cannot handle is answered with ERROR_INFO (never encrypted) and
//! dropped.
//!
//! ```
//! use rand::SeedableRng as _;
//! use wifiprov_blufi::client::{self, Client};
//! use wifiprov_blufi::device::{self, Device};
//! use wifiprov_blufi::{Error, Generation, OperationMode, SecurityMode, StationState, Status};
//!
//! /// Moves frames both ways until both sides are quiet.
//! fn pump(client: &mut Client, device: &mut Device, rng: &mut rand::rngs::StdRng) -> Result<(), Error> {
//!     loop {
//!         let mut moved = false;
//!         while let Some(write) = client.poll_transmit() {
//!             device.handle_write(&write, rng)?;
//!             moved = true;
//!         }
//!         while let Some(notification) = device.poll_transmit() {
//!             client.handle_notification(&notification)?;
//!             moved = true;
//!         }
//!         if !moved {
//!             return Ok(());
//!         }
//!     }
//! }
//!
//! let mut rng = rand::rngs::StdRng::seed_from_u64(1);
//! let mut device = Device::new(device::Config::new(Generation::V1));
//! let mut client = Client::new(client::Config::new());
//!
//! client.request_version()?;
//! pump(&mut client, &mut device, &mut rng)?;
//! assert!(matches!(client.poll_event(), Some(client::Event::Version(v)) if v.minor == 3));
//!
//! client.negotiate(&mut rng)?; // V1, picked from version 1.3
//! pump(&mut client, &mut device, &mut rng)?;
//! assert_eq!(client.poll_event(), Some(client::Event::SecurityEstablished));
//!
//! client.set_security_mode(SecurityMode::DATA_PROTECTED)?;
//! client.set_operation_mode(OperationMode::Station)?;
//! client.send_station(b"HomeNet", b"secret123", None)?;
//! client.connect()?;
//! pump(&mut client, &mut device, &mut rng)?;
//!
//! let mut credentials = None;
//! while let Some(event) = device.poll_event() {
//!     if let device::Event::ConnectRequested(c) = event {
//!         credentials = Some(c);
//!     }
//! }
//! let credentials = credentials.expect("CONNECT_TO_AP arrived");
//! assert_eq!(credentials.ssid, b"HomeNet");
//! assert_eq!(credentials.password.as_slice(), b"secret123");
//!
//! // ... the device connects, then reports:
//! device.send_status(&Status::new(OperationMode::Station, StationState::Connected, 0))?;
//! pump(&mut client, &mut device, &mut rng)?;
//! let mut status = None;
//! while let Some(event) = client.poll_event() {
//!     if let client::Event::Status(s) = event {
//!         status = Some(s);
//!     }
//! }
//! assert_eq!(status.map(|s| s.station_state), Some(StationState::Connected));
//! # Ok::<(), Error>(())
//! ```
//!
//! `no_std` + `alloc`. Secrets (DH exponents, shared secrets, keys, received passwords, decrypted
//! and queued frames, half-received messages) are zeroized when dropped, and no `Debug` output
//! shows them (a password or a message's content appears as its length). Features: `std` (implements `std::error::Error` through
//! `thiserror`).
#![no_std]
#![warn(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

extern crate alloc;

/// A wire enum: the named codes plus `Unknown(u8)`, with `From<u8>`/`Into<u8>` (unknown codes
/// round-trip).
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $value:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
            /// A code this crate does not know; kept so that it round-trips.
            Unknown(u8),
        }

        impl From<u8> for $name {
            fn from(value: u8) -> Self {
                match value {
                    $($value => Self::$variant,)*
                    other => Self::Unknown(other),
                }
            }
        }

        impl From<$name> for u8 {
            fn from(value: $name) -> Self {
                match value {
                    $($name::$variant => $value,)*
                    $name::Unknown(other) => other,
                }
            }
        }
    };
}

pub mod client;
pub mod crc;
pub mod device;
mod error;
pub mod frame;
pub mod link;
pub mod message;
pub mod security;

/// The `Debug` of a secret: its length only.
struct Redacted(usize);

impl core::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "<{} bytes>", self.0)
    }
}

pub use client::Client;
pub use device::Device;
pub use error::{Error, Result};
pub use frame::{ControlSubtype, DataSubtype, Frame, FrameControl, Kind, Repr};
pub use message::{
    ErrorCode, OperationMode, Protection, SecurityMode, StationState, Status, Version,
};
pub use security::{Cipher, Generation};

#[cfg(test)]
mod test_support {
    use alloc::string::String;

    /// Panics unless `debug` hides `secret`: neither as text, nor as hex (either case), nor as
    /// the decimal byte list a derived `Debug` prints.
    pub(crate) fn assert_hidden(debug: &str, secret: &[u8]) {
        let text = core::str::from_utf8(secret).expect("a text secret");
        assert!(!debug.contains(text), "{debug} shows the secret");
        let hex: String = secret.iter().map(|b| alloc::format!("{b:02x}")).collect();
        assert!(
            !debug.to_ascii_lowercase().contains(&hex),
            "{debug} shows the secret in hex"
        );
        let list = alloc::format!("{secret:?}");
        let list = list.trim_start_matches('[').trim_end_matches(']');
        assert!(!debug.contains(list), "{debug} shows the secret's bytes");
    }
}
