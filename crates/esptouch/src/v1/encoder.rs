//! The phone side: credentials → guide code and DataCode lengths.

use wifiprov_sniff::{Mac, crc8};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::{EXTRA_LEN, HEADER_LEN, MAX_INDEX};

/// The guide code, in sending order.
pub const GUIDE: [u16; 4] = [515, 514, 513, 512];
/// Longest SSID (802.11 limit).
pub const MAX_SSID_LEN: usize = 32;
/// Longest password (WPA passphrase 63 characters, or a 64-hex-digit PSK).
pub const MAX_PASSWORD_LEN: usize = 64;

const MAX_TOTAL: usize = HEADER_LEN + MAX_PASSWORD_LEN + MAX_SSID_LEN;
const MAX_DATA: usize = MAX_TOTAL + 6;

/// What the phone sends: the target network and the phone's own IPv4 address (where the device
/// will send its ack). `Debug` shows the password's length only.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Config<'a> {
    /// SSID bytes (UTF-8 or arbitrary octets), 1..=32.
    pub ssid: &'a [u8],
    /// Password bytes, 0..=64 (empty for an open network).
    pub password: &'a [u8],
    /// The AP's BSSID as the phone sees it.
    pub bssid: Mac,
    /// The phone's IPv4 address on that network.
    pub ip: [u8; 4],
}

impl<'a> Config<'a> {
    /// A configuration from its parts.
    #[must_use]
    pub const fn new(ssid: &'a [u8], password: &'a [u8], bssid: Mac, ip: [u8; 4]) -> Self {
        Self {
            ssid,
            password,
            bssid,
            ip,
        }
    }
}

impl core::fmt::Debug for Config<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Config")
            .field("ssid", &self.ssid)
            .field("password", &crate::Redacted(self.password.len()))
            .field("bssid", &self.bssid)
            .field("ip", &self.ip)
            .finish()
    }
}

/// Why a [`Config`] cannot be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The SSID is empty.
    #[error("the SSID is empty")]
    EmptySsid,
    /// The SSID is longer than 32 bytes.
    #[error("the SSID is {0} bytes long; at most 32 are allowed")]
    SsidTooLong(usize),
    /// The password is longer than 64 bytes.
    #[error("the password is {0} bytes long; at most 64 are allowed")]
    PasswordTooLong(usize),
    /// The data needs an index above 127.
    #[error("the data needs index {0}; ESP-TOUCH v1 indices stop at 127")]
    IndexTooLarge(usize),
}

/// The three UDP payload lengths of one DataCode (`value` at `index`).
///
/// `index` is masked to 7 bits; callers stay within [`MAX_INDEX`](super::MAX_INDEX).
#[must_use]
pub fn triplet(index: u8, value: u8) -> [u16; 3] {
    let index = index & 0x7f;
    let crc = crc8(&[value, index]);
    let first = u16::from((crc & 0xf0) | (value >> 4));
    let second = 0x100 | u16::from(index);
    let third = u16::from(((crc & 0x0f) << 4) | (value & 0x0f));
    [first + EXTRA_LEN, second + EXTRA_LEN, third + EXTRA_LEN]
}

/// The ESP-TOUCH v1 encoder: owns the data bytes and the reference sending order.
///
/// No allocation: everything lives in fixed arrays sized for the protocol maximum. The data
/// (which holds the password) is zeroized on drop and not shown by `Debug`.
#[derive(Clone)]
pub struct Encoder {
    /// Data bytes by index, 0..total+6.
    data: [u8; MAX_DATA],
    /// Indices in sending order.
    order: [u8; MAX_DATA],
    /// T + 6.
    count: usize,
}

impl Encoder {
    /// Builds the data and its sending order.
    ///
    /// # Errors
    /// [`ConfigError::EmptySsid`], [`ConfigError::SsidTooLong`],
    /// [`ConfigError::PasswordTooLong`] or [`ConfigError::IndexTooLarge`].
    pub fn new(config: &Config<'_>) -> Result<Self, ConfigError> {
        let (ssid, password) = (config.ssid, config.password);
        if ssid.is_empty() {
            return Err(ConfigError::EmptySsid);
        }
        if ssid.len() > MAX_SSID_LEN {
            return Err(ConfigError::SsidTooLong(ssid.len()));
        }
        if password.len() > MAX_PASSWORD_LEN {
            return Err(ConfigError::PasswordTooLong(password.len()));
        }
        let total = HEADER_LEN + password.len() + ssid.len();
        let count = total + 6;
        if count - 1 > MAX_INDEX {
            return Err(ConfigError::IndexTooLarge(count - 1));
        }
        // The data is written in place: no copy of the password is left behind.
        let mut encoder = Self {
            data: [0u8; MAX_DATA],
            order: sending_order(total),
            count,
        };
        let data = &mut encoder.data;
        // Lengths fit in a byte: total ≤ 105.
        let header = [
            total as u8,
            password.len() as u8,
            crc8(ssid),
            crc8(&config.bssid),
            0,
        ];
        let parts: [&[u8]; 5] = [&header, &config.ip, password, ssid, &config.bssid];
        let mut at = 0;
        for part in parts {
            for (slot, &b) in data.iter_mut().skip(at).zip(part) {
                *slot = b;
            }
            at += part.len();
        }
        let xor = data.iter().take(total).fold(0u8, |acc, &b| acc ^ b);
        if let Some(slot) = data.get_mut(4) {
            *slot = xor;
        }
        Ok(encoder)
    }

    /// The guide code lengths, in sending order.
    #[must_use]
    pub const fn guide(&self) -> [u16; 4] {
        GUIDE
    }

    /// T: the total length byte (index 0), which the device echoes as the ack token.
    #[must_use]
    pub fn total_len(&self) -> u8 {
        self.data.first().copied().unwrap_or(0)
    }

    /// Number of DataCodes in one cycle (T + 6).
    #[must_use]
    pub const fn datum_count(&self) -> usize {
        self.count
    }

    /// The data byte at `index` (0..T+6), by index.
    #[must_use]
    pub fn byte(&self, index: usize) -> Option<u8> {
        (index < self.count)
            .then(|| self.data.get(index).copied())
            .flatten()
    }

    /// The `(index, value)` of the DataCode at `position` in the sending order.
    #[must_use]
    pub fn datum(&self, position: usize) -> Option<(u8, u8)> {
        let index = *self.order.get(position % self.count.max(1))?;
        Some((index, *self.data.get(usize::from(index))?))
    }

    /// The lengths of the DataCode at `position` (modulo the cycle).
    #[must_use]
    pub fn triplet_at(&self, position: usize) -> [u16; 3] {
        self.datum(position)
            .map_or([0; 3], |(index, value)| triplet(index, value))
    }

    /// One full data cycle of UDP payload lengths, 3 per DataCode, in the reference order.
    pub fn data_cycle(&self) -> impl Iterator<Item = u16> + '_ {
        (0..self.count).flat_map(move |position| self.triplet_at(position))
    }
}

impl core::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Encoder")
            .field("total_len", &self.total_len())
            .field("datum_count", &self.count)
            .finish_non_exhaustive()
    }
}

impl Drop for Encoder {
    fn drop(&mut self) {
        self.data.zeroize();
    }
}

impl ZeroizeOnDrop for Encoder {}

/// The reference order: indices 0..T in order, then BSSID byte k inserted at list position
/// 5 + 4k, or appended when that position is past the end.
fn sending_order(total: usize) -> [u8; MAX_DATA] {
    let mut order = [0u8; MAX_DATA];
    let mut len = 0;
    for index in 0..total {
        if let Some(slot) = order.get_mut(len) {
            *slot = index as u8;
            len += 1;
        }
    }
    for k in 0..6 {
        let index = (total + k) as u8;
        let position = (5 + 4 * k).min(len);
        if len >= MAX_DATA {
            break;
        }
        order.copy_within(position..len, position + 1);
        if let Some(slot) = order.get_mut(position) {
            *slot = index;
        }
        len += 1;
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    const BSSID: Mac = [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff];
    const IP: [u8; 4] = [192, 168, 1, 100];

    #[test]
    fn worked_example_of_the_spec() {
        let e = Encoder::new(&Config::new(b"TestAP", b"12345678", BSSID, IP)).expect("valid");
        let first: [u16; 20] = [
            169, 296, 79, 72, 297, 176, 294, 298, 76, 185, 299, 282, 292, 300, 147, 66, 319, 162,
            180, 301,
        ];
        assert!(e.data_cycle().take(20).eq(first));
        assert_eq!(e.data_cycle().count(), 87);
        assert_eq!(e.total_len(), 23);
        assert_eq!(e.byte(4), Some(0xcb));
    }

    #[test]
    fn open_network_example_of_the_spec() {
        let e = Encoder::new(&Config::new(b"TestAP", b"", BSSID, IP)).expect("valid");
        let expected = [
            56u16, 296, 183, 120, 297, 264, 294, 298, 76, 185, 299, 282, 149, 300, 235, 114, 311,
            178, 180, 301, 216, 114, 302, 128, 104, 303, 153, 227, 312, 243, 206, 304, 92, 253,
            305, 44, 254, 306, 221, 100, 313, 212, 239, 307, 91, 79, 308, 268, 204, 309, 73, 293,
            314, 53, 141, 310, 168, 262, 315, 150, 167, 316, 263,
        ];
        assert!(e.data_cycle().eq(expected));
    }

    #[test]
    fn bssid_bytes_are_appended_past_the_end_of_a_short_list() {
        // T = 9 + 0 + 1 = 10: positions 5, 9 fit, 13.. are appended.
        let order = sending_order(10);
        assert_eq!(
            &order[..16],
            &[0, 1, 2, 3, 4, 10, 5, 6, 7, 11, 8, 9, 12, 13, 14, 15]
        );
    }

    #[test]
    fn rejects_oversized_inputs() {
        let long = [b'a'; 65];
        assert_eq!(
            Encoder::new(&Config::new(&long[..33], b"", BSSID, IP)).err(),
            Some(ConfigError::SsidTooLong(33))
        );
        assert_eq!(
            Encoder::new(&Config::new(b"x", &long, BSSID, IP)).err(),
            Some(ConfigError::PasswordTooLong(65))
        );
        assert_eq!(
            Encoder::new(&Config::new(b"", b"", BSSID, IP)).err(),
            Some(ConfigError::EmptySsid)
        );
        let max = Encoder::new(&Config::new(&long[..32], &long[..64], BSSID, IP)).expect("max");
        assert_eq!(max.datum_count(), 111);
    }

    #[test]
    fn every_symbol_lands_in_its_class() {
        for index in 0..=127u8 {
            for value in 0..=255u8 {
                let [a, b, c] = triplet(index, value);
                assert!((40..296).contains(&a) && (40..296).contains(&c));
                assert_eq!(b, 296 + u16::from(index));
            }
        }
    }

    #[test]
    fn debug_shows_no_password() {
        let secret = b"S3cr3t-Pa55";
        let config = Config::new(b"TestAP", secret, BSSID, IP);
        let debug = std::format!("{config:?}");
        crate::test_support::assert_hidden(&debug, secret);
        assert!(debug.contains("password: <11 bytes>"), "{debug}");
        let encoder = Encoder::new(&config).expect("valid");
        crate::test_support::assert_hidden(&std::format!("{encoder:?}"), secret);
        const { assert_zeroized_on_drop::<Encoder>() };
    }

    const fn assert_zeroized_on_drop<T: ZeroizeOnDrop>() {}
}
