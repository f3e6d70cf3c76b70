//! Shared core of wifiprov's sniffing provisioning decoders (ESP-TOUCH v1/v2, AirKiss).
//!
//! Sniffing methods carry data in the *lengths* of frames a phone sends on a network the device has
//! not joined yet. Everything they share lives here:
//!
//! * [`Observation`]: one sniffed 802.11 data frame reduced to what a length decoder needs;
//! * [`Decoder`] and [`Progress`]: the sans-IO interface every decoder implements;
//! * [`crc8`]: the CRC-8/MAXIM used by ESP-TOUCH v1, v2 and AirKiss;
//! * [`ieee80211`]: reduction of a raw 802.11 frame (monitor mode, pcap, ESP32 promiscuous buffer)
//!   to an [`Observation`], and beacon SSID extraction for scan-assisted completion.
//!
//! This crate does no I/O, reads no clock and allocates nothing: time is the caller's
//! [`Instant`], frames are byte slices. See `wifiprov-transport` for capture.
//!
//! ```
//! use wifiprov_sniff::{crc8, ieee80211, Direction};
//! assert_eq!(crc8(b"123456789"), 0xA1);
//! // A non-QoS, protected ToDS data frame from a0:cb:fd:77:00:02 to the AP 24:0a:c4:77:00:01.
//! let mut frame = [0u8; 100];
//! frame[..24].copy_from_slice(&[
//!     0x08, 0x41, 0, 0, 0x24, 0x0a, 0xc4, 0x77, 0, 1, 0xa0, 0xcb, 0xfd, 0x77, 0, 2,
//!     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x10, 0x00,
//! ]);
//! let obs = ieee80211::observe(&frame, ieee80211::Meta::default()).ok_or("not data")?;
//! assert_eq!(obs.direction, Direction::ToAp);
//! assert_eq!(obs.len, 100);
//! assert_eq!(obs.sequence, Some(1));
//! # Ok::<(), &'static str>(())
//! ```
#![no_std]
#![warn(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)
)]

#[cfg(feature = "std")]
extern crate std;

mod crc;
pub mod hop;
pub mod ieee80211;
mod observation;

pub use crc::{Crc8, crc8};
pub use observation::{Decoder, Direction, Instant, Mac, Observation, Progress, Stats};
