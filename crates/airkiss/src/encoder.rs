//! The phone side: credentials and a random byte → AirKiss code values (UDP payload lengths).
//!
//! | field | values | meaning |
//! |---|---|---|
//! | guide | 1, 2, 3, 4 | the device learns the frame-length offset |
//! | magic | `0x00\|hi(total)` (0x08 if hi is 0), `0x10\|lo(total)`, `0x20\|hi(crc)`, `0x30\|lo(crc)` | total = len(password) + 1 + len(SSID); crc = CRC-8 of the SSID |
//! | prefix | `0x40\|hi(n)`, `0x50\|lo(n)`, `0x60\|hi(c)`, `0x70\|lo(c)` | n = password length, c = CRC-8 of the byte n |
//! | sequence i | `0x80\|(crc & 0x7F)`, `0x80\|i`, then `0x100\|byte` ×1..4 | crc = CRC-8 of i ‖ the group's bytes; data = password ‖ random ‖ SSID in groups of 4 (the last not padded) |

use wifiprov_sniff::crc8;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The guide values, in sending order.
pub const GUIDE: [u16; 4] = [1, 2, 3, 4];
/// Longest SSID (802.11 limit).
pub const MAX_SSID_LEN: usize = 32;
/// Longest password (a WPA passphrase of 63 characters or a 64-hex-digit PSK).
pub const MAX_PASSWORD_LEN: usize = 64;
/// Longest data string: password, the random byte, SSID.
pub const MAX_TOTAL: usize = MAX_PASSWORD_LEN + 1 + MAX_SSID_LEN;
/// Most sequence groups.
pub const MAX_GROUPS: usize = MAX_TOTAL.div_ceil(4);

/// The repetitions of one encoder cycle (the layout of `../shared/vectors/airkiss.json`:
/// zhchbin/WeChatAirKiss, as WeChat sent in 2015).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Guide quartets.
    pub guide: usize,
    /// Magic quartets.
    pub magic: usize,
    /// Data rounds, each a prefix quartet followed by every sequence.
    pub rounds: usize,
}

impl Default for Layout {
    fn default() -> Self {
        Self {
            guide: 50,
            magic: 20,
            rounds: 15,
        }
    }
}

/// What the phone sends. `Debug` shows the password's length only.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Config<'a> {
    /// SSID bytes exactly as in the AP's beacon, 1..=32.
    pub ssid: &'a [u8],
    /// Password bytes, 0..=64 (empty for an open network).
    pub password: &'a [u8],
    /// The random byte the device echoes in its ack (1..=126 is safest).
    pub random: u8,
}

impl<'a> Config<'a> {
    /// A configuration from its parts.
    #[must_use]
    pub const fn new(ssid: &'a [u8], password: &'a [u8], random: u8) -> Self {
        Self {
            ssid,
            password,
            random,
        }
    }
}

impl core::fmt::Debug for Config<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Config")
            .field("ssid", &self.ssid)
            .field("password", &crate::Redacted(self.password.len()))
            .field("random", &self.random)
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
}

/// The encoded fields of one provisioning. The data (which holds the password) is zeroized on
/// drop and not shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Encoder {
    data: [u8; MAX_TOTAL],
    total: usize,
    password_len: usize,
    ssid_crc: u8,
}

impl Encoder {
    /// Encodes `config`.
    ///
    /// # Errors
    /// [`ConfigError`] for an empty or too long SSID, or a too long password.
    pub fn new(config: &Config<'_>) -> Result<Self, ConfigError> {
        if config.ssid.is_empty() {
            return Err(ConfigError::EmptySsid);
        }
        if config.ssid.len() > MAX_SSID_LEN {
            return Err(ConfigError::SsidTooLong(config.ssid.len()));
        }
        if config.password.len() > MAX_PASSWORD_LEN {
            return Err(ConfigError::PasswordTooLong(config.password.len()));
        }
        // The data is written in place: no copy of the password is left behind.
        let mut encoder = Self {
            data: [0u8; MAX_TOTAL],
            total: 0,
            password_len: config.password.len(),
            ssid_crc: crc8(config.ssid),
        };
        let bytes = config
            .password
            .iter()
            .chain(core::iter::once(&config.random))
            .chain(config.ssid);
        for (slot, byte) in encoder.data.iter_mut().zip(bytes) {
            *slot = *byte;
            encoder.total += 1;
        }
        Ok(encoder)
    }

    /// The data string: password ‖ random ‖ SSID.
    #[must_use]
    pub fn data(&self) -> &[u8] {
        self.data.get(..self.total).unwrap_or_default()
    }

    /// `total_len`: the length of [`data`](Self::data).
    #[must_use]
    pub fn total_len(&self) -> usize {
        self.total
    }

    /// CRC-8 of the SSID (sent in the magic code).
    #[must_use]
    pub fn ssid_crc(&self) -> u8 {
        self.ssid_crc
    }

    /// The magic code. For a total below 16 the first value is 0x08, not 0x00: WeChat sends it so
    /// and devices (libairkiss) need it.
    #[must_use]
    pub fn magic(&self) -> [u16; 4] {
        // total ≤ 97 fits a byte.
        let total = u8::try_from(self.total).unwrap_or(u8::MAX);
        let high = match total >> 4 {
            0 => 0x08,
            h => u16::from(h),
        };
        [
            high,
            0x10 | u16::from(total & 0x0f),
            0x20 | u16::from(self.ssid_crc >> 4),
            0x30 | u16::from(self.ssid_crc & 0x0f),
        ]
    }

    /// The prefix code: the password length and its CRC-8.
    #[must_use]
    pub fn prefix(&self) -> [u16; 4] {
        let n = u8::try_from(self.password_len).unwrap_or(u8::MAX);
        let crc = crc8(&[n]);
        [
            0x40 | u16::from(n >> 4),
            0x50 | u16::from(n & 0x0f),
            0x60 | u16::from(crc >> 4),
            0x70 | u16::from(crc & 0x0f),
        ]
    }

    /// Number of sequence groups: ⌈total / 4⌉.
    #[must_use]
    pub fn group_count(&self) -> usize {
        self.total.div_ceil(4)
    }

    /// Sequence group `index`: the CRC header, the index header, then 1..=4 data values (an
    /// empty slice past the end).
    #[must_use]
    pub fn sequence(&self, index: usize) -> Sequence {
        let start = index.saturating_mul(4).min(self.total);
        let end = (start + 4).min(self.total);
        let bytes = self.data.get(start..end).unwrap_or_default();
        let mut values = [0u16; 6];
        if bytes.is_empty() {
            return Sequence { values, len: 0 };
        }
        let index = u8::try_from(index).unwrap_or(0x7f) & 0x7f;
        let mut crc = wifiprov_sniff::Crc8::new();
        crc.update(&[index]);
        crc.update(bytes);
        values[0] = 0x80 | u16::from(crc.finish() & 0x7f);
        values[1] = 0x80 | u16::from(index);
        for (slot, byte) in values.iter_mut().skip(2).zip(bytes) {
            *slot = 0x100 | u16::from(*byte);
        }
        Sequence {
            values,
            len: 2 + bytes.len(),
        }
    }

    /// Every sequence group, in order.
    pub fn sequences(&self) -> impl Iterator<Item = Sequence> + '_ {
        (0..self.group_count()).map(|i| self.sequence(i))
    }

    /// One full cycle of `layout`, in sending order: guide quartets, magic quartets, then rounds of
    /// prefix + all sequences.
    pub fn cycle(&self, layout: Layout) -> impl Iterator<Item = u16> + '_ {
        let guide = GUIDE.into_iter().cycle().take(4 * layout.guide);
        let magic = self.magic().into_iter().cycle().take(4 * layout.magic);
        let round = move || {
            self.prefix().into_iter().chain(
                self.sequences()
                    .flat_map(|s| s.values.into_iter().take(s.len)),
            )
        };
        let rounds = (0..layout.rounds).flat_map(move |_| round());
        guide.chain(magic).chain(rounds)
    }

    /// Values in one cycle of `layout`.
    #[must_use]
    pub fn cycle_len(&self, layout: Layout) -> usize {
        4 * layout.guide
            + 4 * layout.magic
            + layout.rounds * (4 + 2 * self.group_count() + self.total)
    }
}

impl core::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Encoder")
            .field("total_len", &self.total)
            .field("password_len", &self.password_len)
            .field("ssid_crc", &self.ssid_crc)
            .finish_non_exhaustive()
    }
}

impl Drop for Encoder {
    fn drop(&mut self) {
        self.data.zeroize();
    }
}

impl ZeroizeOnDrop for Encoder {}

/// One sequence group as sent. Its data values may be password bytes: `Debug` shows how many
/// values there are only.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Sequence {
    values: [u16; 6],
    len: usize,
}

impl Sequence {
    /// The values: CRC header, index header, data.
    #[must_use]
    pub fn values(&self) -> &[u16] {
        self.values.get(..self.len).unwrap_or_default()
    }
}

impl core::fmt::Debug for Sequence {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sequence")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    #[test]
    fn spec_worked_example() {
        // Spec §2.1: ssid TestAP, password 12345678, random 0x55.
        let e = Encoder::new(&Config::new(b"TestAP", b"12345678", 0x55)).unwrap();
        assert_eq!(e.total_len(), 15);
        assert_eq!(e.ssid_crc(), 0xe4);
        assert_eq!(e.magic(), [0x08, 0x1f, 0x2e, 0x34]);
        assert_eq!(e.prefix(), [0x40, 0x58, 0x6c, 0x72]);
        let seqs: Vec<Vec<u16>> = e.sequences().map(|s| s.values().to_vec()).collect();
        assert_eq!(seqs[0], [0xf1, 0x80, 0x131, 0x132, 0x133, 0x134]);
        assert_eq!(seqs[3], [0xfd, 0x83, 0x174, 0x141, 0x150]);
        assert_eq!(e.cycle(Layout::default()).count(), 685);
        assert_eq!(e.cycle_len(Layout::default()), 685);
    }

    #[test]
    fn the_0x08_rule_applies_to_every_total_below_16() {
        for total in 2..=97usize {
            let ssid_len = (total - 1).clamp(1, 32);
            let pwd_len = total - 1 - ssid_len;
            let ssid = [b's'; 32];
            let pwd = [b'p'; 64];
            let e = Encoder::new(&Config::new(&ssid[..ssid_len], &pwd[..pwd_len], 7)).unwrap();
            let first = e.magic()[0];
            if total < 16 {
                assert_eq!(first, 0x08, "total {total}");
            } else {
                assert_eq!(usize::from(first), total >> 4, "total {total}");
            }
        }
    }

    #[test]
    fn rejects_bad_lengths() {
        assert_eq!(
            Encoder::new(&Config::new(b"", b"", 1)),
            Err(ConfigError::EmptySsid)
        );
        assert_eq!(
            Encoder::new(&Config::new(&[0; 33], b"", 1)),
            Err(ConfigError::SsidTooLong(33))
        );
        assert_eq!(
            Encoder::new(&Config::new(b"a", &[0; 65], 1)),
            Err(ConfigError::PasswordTooLong(65))
        );
        let e = Encoder::new(&Config::new(&[0xff; 32], &[0xfe; 64], 0x7e)).unwrap();
        assert_eq!(e.group_count(), 25);
        assert!(e.cycle(Layout::default()).all(|v| v < 0x200));
    }

    #[test]
    fn debug_shows_no_password() {
        let secret = b"S3cr3t-Pa55";
        let config = Config::new(b"TestAP", secret, 0x55);
        let debug = std::format!("{config:?}");
        crate::test_support::assert_hidden(&debug, secret);
        assert!(debug.contains("password: <11 bytes>"), "{debug}");
        let encoder = Encoder::new(&config).expect("valid");
        crate::test_support::assert_hidden(&std::format!("{encoder:?}"), secret);
        let sequences: Vec<Sequence> = encoder.sequences().collect();
        let debug = std::format!("{sequences:?}");
        crate::test_support::assert_hidden(&debug, secret);
        let first = 0x100 | u16::from(secret[0]);
        assert!(!debug.contains(&std::format!("{first}")), "{debug}");
        const { assert_zeroized_on_drop::<Encoder>() };
    }

    const fn assert_zeroized_on_drop<T: ZeroizeOnDrop>() {}
}
