//! ESP-TOUCH (Espressif SmartConfig): the phone-side encoder and an open, sans-IO device-side
//! decoder.
//!
//! ESP-TOUCH hides credentials in the *lengths* of UDP datagrams a phone broadcasts on its Wi-Fi
//! network; an unassociated device sniffs the 802.11 frames and reads the lengths back.
//!
//! | module | role |
//! |---|---|
//! | [`v1::Encoder`] | phone: guide code and the DataCode length stream, byte-identical to EsptouchForAndroid |
//! | [`v1::Decoder`] | device: learns the per-stream overhead, votes CRC-checked bytes across rounds and copies |
//! | [`v1::Ack`] | the device's 11-byte acknowledgement to UDP 18266 |
//! | [`v2::Encoder`] | phone: v2 header, body groups (7-bit/8-bit, optional AES-128-CBC) and one pass of lengths |
//! | [`v2::Decoder`] | device: learns the overhead from sync/count pairs, votes 6-bit planes per group across passes and copies, opens encrypted data with the configured key |
//! | [`v2::Ack`] | the device's 7-byte response (port mark, station MAC) to UDP 18266 + 10000·mark |
//!
//! This crate does no I/O (no sockets, no clock, no randomness: the v2 encoder takes its IV and
//! padding bytes from a caller's [`v2::Randomness`]): see `wifiprov-transport` for the sender, the
//! ack listener and capture. It is `no_std`; neither encoders nor decoders need a heap. v2
//! encryption uses the RustCrypto `aes` block cipher.
//!
//! Features: `std` (implements `std::error::Error` through `thiserror`).
//!
//! Secrets: decoded credentials are not `Copy`; their password (and v2 reserved data) is zeroized
//! on drop (`zeroize`), and so are the decoders' votes and encoders' data, on drop and on
//! `reset`. No `Debug` output shows a password, reserved data or key: only their length.
//!
//! A round trip from credentials to lengths to decoded credentials:
//!
//! ```
//! use wifiprov_esptouch::v1::{Decoder, Encoder, Config, DecoderConfig};
//! use wifiprov_sniff::{Decoder as _, Instant, Observation, Progress};
//!
//! let config = Config::new(b"TestAP", b"12345678", [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff], [192, 168, 1, 100]);
//! let encoder = Encoder::new(&config)?;
//! let mut decoder = Decoder::new(DecoderConfig::default());
//! let (phone, ap) = ([2, 0, 0, 0, 0, 1], [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]);
//! let mut sequence = 0;
//! let mut done = false;
//! for len in encoder.guide().into_iter().chain(encoder.data_cycle()) {
//!     let mut obs = Observation::new(Instant::from_millis(u64::from(sequence) * 8), len + 76, phone, ap);
//!     obs.sequence = Some(sequence);
//!     sequence += 1;
//!     done |= decoder.feed(&obs) == Progress::Complete;
//! }
//! assert!(done);
//! let credentials = decoder.take().ok_or("no result")?;
//! assert_eq!(credentials.ssid(), b"TestAP");
//! assert_eq!(credentials.password(), b"12345678");
//! assert_eq!(credentials.phone_ip(), [192, 168, 1, 100]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![no_std]
#![warn(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)
)]

#[cfg(any(feature = "std", test))]
extern crate std;

pub mod v1;
pub mod v2;

/// The `Debug` of a secret: its length only.
struct Redacted(usize);

impl core::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "<{} bytes>", self.0)
    }
}

#[cfg(test)]
mod test_support {
    use std::string::String;

    /// Panics unless `debug` hides `secret`: neither as text, nor as hex (either case), nor as
    /// the decimal byte list a derived `Debug` prints.
    pub(crate) fn assert_hidden(debug: &str, secret: &[u8]) {
        let text = core::str::from_utf8(secret).expect("a text secret");
        assert!(!debug.contains(text), "{debug} shows the secret");
        let hex: String = secret.iter().map(|b| std::format!("{b:02x}")).collect();
        assert!(
            !debug.to_ascii_lowercase().contains(&hex),
            "{debug} shows the secret in hex"
        );
        let list = std::format!("{secret:?}");
        let list = list.trim_start_matches('[').trim_end_matches(']');
        assert!(!debug.contains(list), "{debug} shows the secret's bytes");
    }
}
