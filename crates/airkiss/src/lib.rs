//! WeChat AirKiss: the phone-side encoder, an open sans-IO device-side decoder, and the ack.
//!
//! AirKiss hides credentials in the *lengths* of UDP broadcasts a phone sends on its Wi-Fi
//! network (to port 10001); an unassociated device sniffs the 802.11 frames, reads the lengths
//! back, joins, and broadcasts the random byte to UDP 10000 as its ack.
//!
//! | module | role |
//! |---|---|
//! | [`encoder`] | phone: guide, magic (with the 0x08 rule), prefix and sequence values; the cycle WeChat's reverse-engineered sender uses |
//! | [`decoder`] | device: confirmed guide per stream, voted fields, sequence groups placed by round offset across rounds and air copies, scan-assisted completion |
//! | [`ack`] | the 1- or 7-byte ack to UDP 10000 |
//!
//! No I/O (no sockets, no clock, no randomness: the random byte is the caller's): see
//! `wifiprov-transport` for the sender, the ack listener and capture. `no_std`, no heap.
//!
//! Features: `std` (implements `std::error::Error` through `thiserror`).
//!
//! Secrets: decoded [`decoder::Credentials`] are not `Copy`; their password is zeroized on drop
//! (`zeroize`), and so are the decoder's votes and the encoder's data, on drop and on `reset`.
//! No `Debug` output shows a password: only its length.
//!
//! A round trip from credentials to lengths to decoded credentials:
//!
//! ```
//! use wifiprov_airkiss::decoder::Decoder;
//! use wifiprov_airkiss::encoder::{Config, Encoder, Layout};
//! use wifiprov_sniff::{Decoder as _, Instant, Observation, Progress};
//!
//! let encoder = Encoder::new(&Config::new(b"TestAP", b"12345678", 0x55))?;
//! let mut decoder = Decoder::default();
//! let (phone, ap) = ([2, 0, 0, 0, 0, 1], [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]);
//! let mut done = false;
//! for (n, value) in encoder.cycle(Layout::default()).enumerate() {
//!     let mut obs = Observation::new(Instant::from_millis(4 * n as u64), value + 76, phone, ap);
//!     obs.sequence = Some((n % 4096) as u16);
//!     done |= decoder.feed(&obs) == Progress::Complete;
//! }
//! assert!(done);
//! let credentials = decoder.take().ok_or("no result")?;
//! assert_eq!(credentials.ssid(), b"TestAP");
//! assert_eq!(credentials.password(), b"12345678");
//! assert_eq!(credentials.random(), 0x55);
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

pub mod ack;
pub mod decoder;
pub mod encoder;

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
