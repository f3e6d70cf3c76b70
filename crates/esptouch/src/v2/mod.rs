//! ESP-TOUCH v2 (`SC_TYPE_ESPTOUCH_V2`).
//!
//! # Wire format (UDP payload lengths)
//!
//! | kind | length |
//! |---|---|
//! | sync | [`SYNC`] = 1048 |
//! | group count N (header included, 1..=41) | [`COUNT_BASE`] + N = 1071 + N |
//! | marker of body group j (0..=39) | [`MARKER_BASE`] + j = 128 + j, sent three times |
//! | data plane i (0..=7) carrying 6 bits d | `(i << 7) \| 64 \| d` |
//!
//! Data travels in groups of 6 bytes; plane i carries bit i of each of the 6 bytes (byte 0 in
//! bit 5 of d, byte 5 in bit 0). A *7-bit* group carries 6 bytes below 0x80, its plane 7 is
//! CRC-8 of the six bytes masked to 6 bits. An *8-bit* group carries 5 bytes plus their CRC-8.
//!
//! One pass is the header group (`1048, count, 1048, count`, then 8 planes: see [`Header`]) and
//! the body groups in order (`128 + j` three times, then 8 planes): 12 + 11·(N − 1) lengths.
//! The body holds the password and reserved data (plaintext, or AES-128-CBC ciphertext with
//! PKCS#7 padding for security 1 and 2), the 20 random bytes of security 2 whose first 16 are
//! the IV, and the SSID last; each segment is padded with random bytes to whole groups.
//!
//! # Roles
//!
//! | type | role |
//! |---|---|
//! | [`Encoder`] | phone: credentials → header, body groups and one pass of lengths |
//! | [`Decoder`] | device: sniffed frames → [`Outcome`] (credentials, or "key needed"/"key wrong") |
//! | [`Ack`] | the device's 7-byte response `port mark \| station MAC` to UDP [`ack_port`] |
//!
//! The phone sends from one of [`APP_PORTS`] (its index is the port mark in the header) to the
//! subnet broadcast address, port [`SEND_PORT`]; after a device response it sends [`PHONE_ACK`]
//! twice to the device's [`DEVICE_ACK_PORT`].
//!
//! A round trip, encrypted with security 2 (the 20 random bytes come from any `FnMut() -> u8`;
//! a sender passes OS randomness):
//!
//! ```
//! use wifiprov_esptouch::v2::{Config, Decoder, DecoderConfig, Encoder, Outcome};
//! use wifiprov_sniff::{Decoder as _, Direction, Instant, Observation, Progress};
//!
//! let (phone, ap) = ([2, 0, 0, 0, 0, 1], [0x24, 0x0a, 0xc4, 0x77, 0x00, 0x01]);
//! let key = *b"0123456789abcdef";
//! let config = Config::new(b"HomeNet", b"correct horse battery", ap).with_aes_key(key, 2);
//! let mut seed = 1u8;
//! let encoder = Encoder::new(&config, &mut || { seed = seed.wrapping_mul(5).wrapping_add(3); seed })?;
//! let mut decoder = Decoder::new(DecoderConfig::default().with_aes_key(key));
//! let mut done = false;
//! // One pass, heard as the phone's ToDS frame and the AP's FromDS copy (sequence numbers kept).
//! for (i, &len) in encoder.lengths().iter().enumerate() {
//!     for direction in [Direction::ToAp, Direction::FromAp] {
//!         let mut obs = Observation::new(Instant::from_millis(i as u64 * 15), len + 76, phone, ap);
//!         obs.direction = direction;
//!         obs.sequence = Some(i as u16);
//!         done |= decoder.feed(&obs) == Progress::Complete;
//!     }
//! }
//! assert!(done);
//! let Some(Outcome::Credentials(credentials)) = decoder.take() else { return Err("no credentials".into()) };
//! assert_eq!(credentials.ssid(), b"HomeNet");
//! assert_eq!(credentials.password(), b"correct horse battery");
//! assert_eq!(credentials.ack_port(), 18266);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod ack;
mod cbc;
mod decoder;
mod encoder;
mod header;
mod layout;

pub use ack::{ACK_LEN, Ack, AckError, ack_port, port_mark_of};
pub use decoder::{
    Credentials, Decoder, DecoderConfig, GroupState, MAX_STREAMS, OpenError, Outcome, Sealed,
    StreamInfo,
};
pub use encoder::{
    Config, ConfigError, Encoder, MAX_PASSWORD_LEN, MAX_RESERVED_LEN, MAX_SSID_LEN, Randomness,
    Replay,
};
pub use header::{Header, HeaderError, IpVersion};

/// The sync datagram length (sent alone while idle, and twice at the start of every pass).
pub const SYNC: u16 = 1048;
/// The group-count datagram is `COUNT_BASE + N`.
pub const COUNT_BASE: u16 = 1071;
/// The marker of body group j is `MARKER_BASE + j`.
pub const MARKER_BASE: u16 = 128;
/// Most groups in one pass, the header group included.
pub const MAX_GROUPS: usize = 41;
/// Most lengths in one pass: 12 + 11·(41 − 1).
pub const MAX_PASS_LEN: usize = 12 + 11 * (MAX_GROUPS - 1);
/// An AES-128 key: the 16 ASCII characters the user typed, as bytes.
pub type Key = [u8; 16];

/// UDP port the phone sends to (the device never receives it; it sniffs).
pub const SEND_PORT: u16 = 7001;
/// The phone's UDP source port candidates; the index of the one it bound is the port mark.
pub const APP_PORTS: [u16; 4] = [18266, 28266, 38266, 48266];
/// UDP port of the device the phone sends [`PHONE_ACK`] to after a response (informational:
/// the open IDF code does not listen for it).
pub const DEVICE_ACK_PORT: u16 = 7002;
/// The phone's 1-byte acknowledgement of a device response, sent twice.
pub const PHONE_ACK: [u8; 1] = [0x01];

/// The UDP payload length of plane `plane` (0..=7) carrying the 6 bits `bits`.
#[must_use]
pub const fn plane_len(plane: u8, bits: u8) -> u16 {
    (((plane & 7) as u16) << 7) | 64 | (bits & 0x3f) as u16
}

/// The 6 bits of plane `plane` of a group of 6 bytes: bit `plane` of byte k goes to bit 5 − k.
#[must_use]
pub(crate) fn plane_bits(bytes: &[u8; 6], plane: u8) -> u8 {
    bytes
        .iter()
        .fold(0u8, |acc, &b| (acc << 1) | ((b >> (plane & 7)) & 1))
}

/// Inverse of [`plane_bits`] over 8 planes: the 6 bytes whose bit i comes from plane i.
#[must_use]
pub(crate) fn bytes_of_planes(planes: &[u8; 8]) -> [u8; 6] {
    let mut bytes = [0u8; 6];
    for (i, &d) in planes.iter().enumerate() {
        for (k, b) in bytes.iter_mut().enumerate() {
            *b |= ((d >> (5 - k)) & 1) << i;
        }
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planes_round_trip_bytes() {
        let bytes = [0x06, 0x08, 0x00, 0x12, 0x01, 0xa3];
        let mut planes = [0u8; 8];
        for (i, p) in planes.iter_mut().enumerate() {
            *p = plane_bits(&bytes, i as u8);
        }
        // Spec §2.7 a): the header planes 67 229 352 464 580 705 832 961.
        let lens: [u16; 8] = core::array::from_fn(|i| plane_len(i as u8, planes[i]));
        assert_eq!(lens, [67, 229, 352, 464, 580, 705, 832, 961]);
        assert_eq!(bytes_of_planes(&planes), bytes);
    }

    #[test]
    fn length_classes_never_overlap() {
        for plane in 0..8 {
            for bits in 0..64 {
                let len = plane_len(plane, bits);
                assert!(len & 64 != 0 && len < 1024);
                assert!(!(MARKER_BASE..MARKER_BASE + 40).contains(&len));
            }
        }
        const { assert!(COUNT_BASE + 1 > SYNC && MAX_PASS_LEN == 452) };
    }
}
