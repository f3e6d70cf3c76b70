//! The phone side: credentials → header, body groups and one pass of UDP payload lengths.

use wifiprov_sniff::{Mac, crc8};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::header::{Header, IpVersion};
use super::layout::{IV_SENT, Layout, MAX_CIPHERTEXT_LEN, Part, Segment};
use super::{
    COUNT_BASE, Key, MARKER_BASE, MAX_GROUPS, MAX_PASS_LEN, SYNC, cbc, plane_bits, plane_len,
};

/// Longest SSID (802.11 limit).
pub const MAX_SSID_LEN: usize = 32;
/// Longest password.
pub const MAX_PASSWORD_LEN: usize = 64;
/// Longest reserved (custom) data.
pub const MAX_RESERVED_LEN: usize = 64;

/// Where the encoder takes its random bytes from (security-2 IV and segment padding).
///
/// The reference encoder draws the 20 IV bytes first (full range 0..=255), then one padding byte
/// per padding position, segment by segment in sending order, each in 0..=126. The encoder uses
/// only the low 7 bits of a padding byte, so that it fits a 7-bit group.
///
/// Any `FnMut() -> u8` is a source: IV bytes are taken as they come, padding bytes reduced
/// modulo 127 (values already in 0..=126, e.g. recorded ones, pass unchanged). Feed it OS
/// randomness in a sender; use [`Replay`] to reproduce a recorded vector.
pub trait Randomness {
    /// One IV byte, 0..=255.
    fn iv_byte(&mut self) -> u8;
    /// One padding byte, 0..=126 like the reference.
    fn padding_byte(&mut self) -> u8;
}

impl<F: FnMut() -> u8> Randomness for F {
    fn iv_byte(&mut self) -> u8 {
        self()
    }

    fn padding_byte(&mut self) -> u8 {
        self() % 127
    }
}

/// Recorded random bytes handed out verbatim, in order (a vector's `random_hex`).
#[derive(Debug, Clone)]
pub struct Replay<'a> {
    bytes: &'a [u8],
    next: usize,
    overrun: bool,
}

impl<'a> Replay<'a> {
    /// A source that yields `bytes` in order, then zeros (and records the overrun).
    #[must_use]
    pub const fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            next: 0,
            overrun: false,
        }
    }

    /// Bytes not consumed yet.
    #[must_use]
    pub const fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.next)
    }

    /// True if more bytes were asked for than recorded.
    #[must_use]
    pub const fn overrun(&self) -> bool {
        self.overrun
    }

    fn take(&mut self) -> u8 {
        if let Some(&b) = self.bytes.get(self.next) {
            self.next += 1;
            b
        } else {
            self.overrun = true;
            0
        }
    }
}

impl Randomness for Replay<'_> {
    fn iv_byte(&mut self) -> u8 {
        self.take()
    }

    fn padding_byte(&mut self) -> u8 {
        self.take()
    }
}

/// What the phone sends. `Debug` shows the lengths of the password and reserved data only, and
/// whether there is a key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Config<'a> {
    /// SSID bytes, 0..=32 (empty: the device must find the SSID by BSSID in a scan).
    pub ssid: &'a [u8],
    /// Password bytes, 0..=64.
    pub password: &'a [u8],
    /// Reserved (custom) data for the device application, 0..=64 bytes.
    pub reserved: &'a [u8],
    /// The AP's BSSID as the phone sees it (only its CRC-8 is sent).
    pub bssid: Mac,
    /// The phone's IP version.
    pub ip_version: IpVersion,
    /// AES-128 key; password and reserved data are encrypted if set and not both empty.
    pub aes_key: Option<Key>,
    /// 1 (zero IV) or 2 (20 random bytes sent, the first 16 are the IV). Only sent when
    /// encryption is applied, but always validated.
    pub security_version: u8,
    /// Index of the phone's app port in [`APP_PORTS`](super::APP_PORTS), 0..=3.
    pub port_mark: u8,
}

impl<'a> Config<'a> {
    /// Plaintext, IPv4, no reserved data, security version 1, port mark 0.
    #[must_use]
    pub const fn new(ssid: &'a [u8], password: &'a [u8], bssid: Mac) -> Self {
        Self {
            ssid,
            password,
            reserved: &[],
            bssid,
            ip_version: IpVersion::V4,
            aes_key: None,
            security_version: 1,
            port_mark: 0,
        }
    }

    /// With reserved data.
    #[must_use]
    pub const fn with_reserved(mut self, reserved: &'a [u8]) -> Self {
        self.reserved = reserved;
        self
    }

    /// With an AES key and security version (1 or 2).
    #[must_use]
    pub const fn with_aes_key(mut self, key: Key, security_version: u8) -> Self {
        self.aes_key = Some(key);
        self.security_version = security_version;
        self
    }

    /// With a port mark (0..=3).
    #[must_use]
    pub const fn with_port_mark(mut self, port_mark: u8) -> Self {
        self.port_mark = port_mark;
        self
    }

    /// With an IP version.
    #[must_use]
    pub const fn with_ip_version(mut self, ip_version: IpVersion) -> Self {
        self.ip_version = ip_version;
        self
    }
}

impl core::fmt::Debug for Config<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Config")
            .field("ssid", &self.ssid)
            .field("password", &crate::Redacted(self.password.len()))
            .field("reserved", &crate::Redacted(self.reserved.len()))
            .field("bssid", &self.bssid)
            .field("ip_version", &self.ip_version)
            .field("aes_key", &self.aes_key.map(|_| "<redacted>"))
            .field("security_version", &self.security_version)
            .field("port_mark", &self.port_mark)
            .finish()
    }
}

/// Why a [`Config`] cannot be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The SSID is longer than 32 bytes.
    #[error("the SSID is {0} bytes long; at most 32 are allowed")]
    SsidTooLong(usize),
    /// The password is longer than 64 bytes.
    #[error("the password is {0} bytes long; at most 64 are allowed")]
    PasswordTooLong(usize),
    /// The reserved data is longer than 64 bytes.
    #[error("the reserved data is {0} bytes long; at most 64 are allowed")]
    ReservedTooLong(usize),
    /// The port mark is not 0..=3.
    #[error("port mark {0} is not 0..=3")]
    InvalidPortMark(u8),
    /// The security version is not 1 or 2.
    #[error("security version {0} is not 1 or 2")]
    InvalidSecurityVersion(u8),
}

/// The ESP-TOUCH v2 encoder: the header, the body groups and one pass of lengths.
///
/// Build it with [`Encoder::new`], then send [`SYNC`](super::SYNC) alone while idle and
/// [`lengths`](Self::lengths) over and over. No allocation: everything lives in fixed arrays
/// sized for the protocol maximum (41 groups, 452 lengths). The groups and lengths (which carry
/// the password unless encrypted) are zeroized on drop and not shown by `Debug`.
#[derive(Clone)]
pub struct Encoder {
    header: [u8; 6],
    groups: [[u8; 6]; MAX_GROUPS - 1],
    wide: [bool; MAX_GROUPS - 1],
    body: usize,
    encrypted: bool,
    lengths: [u16; MAX_PASS_LEN],
    len: usize,
}

impl Encoder {
    /// Builds the header and the body. `random` provides the security-2 IV and the padding.
    ///
    /// # Errors
    /// [`ConfigError::SsidTooLong`], [`ConfigError::PasswordTooLong`],
    /// [`ConfigError::ReservedTooLong`], [`ConfigError::InvalidPortMark`] or
    /// [`ConfigError::InvalidSecurityVersion`].
    pub fn new<R: Randomness + ?Sized>(
        config: &Config<'_>,
        random: &mut R,
    ) -> Result<Self, ConfigError> {
        let (ssid, password, reserved) = (config.ssid, config.password, config.reserved);
        if ssid.len() > MAX_SSID_LEN {
            return Err(ConfigError::SsidTooLong(ssid.len()));
        }
        if password.len() > MAX_PASSWORD_LEN {
            return Err(ConfigError::PasswordTooLong(password.len()));
        }
        if reserved.len() > MAX_RESERVED_LEN {
            return Err(ConfigError::ReservedTooLong(reserved.len()));
        }
        if config.port_mark > 3 {
            return Err(ConfigError::InvalidPortMark(config.port_mark));
        }
        if !matches!(config.security_version, 1 | 2) {
            return Err(ConfigError::InvalidSecurityVersion(config.security_version));
        }
        let encoded = |data: &[u8]| data.iter().any(|&b| b >= 0x80);
        let key = config
            .aes_key
            .filter(|_| !password.is_empty() || !reserved.is_empty());
        // Lengths fit in 7 bits: checked above.
        let header = Header {
            ssid_len: ssid.len() as u8,
            ssid_encoded: encoded(ssid),
            password_len: password.len() as u8,
            password_encoded: encoded(password),
            reserved_len: reserved.len() as u8,
            reserved_encoded: encoded(reserved),
            bssid_crc: crc8(&config.bssid),
            ip_version: config.ip_version,
            security: if key.is_some() {
                config.security_version
            } else {
                0
            },
            port_mark: config.port_mark,
        };
        let mut iv_sent = [0u8; IV_SENT];
        let mut ciphertext = [0u8; MAX_CIPHERTEXT_LEN];
        let mut ciphertext_len = 0;
        if let Some(key) = key {
            let mut iv = [0u8; 16];
            if header.security == 2 {
                for b in &mut iv_sent {
                    *b = random.iv_byte();
                }
                for (v, &s) in iv.iter_mut().zip(&iv_sent) {
                    *v = s;
                }
            }
            let mut plain = Zeroizing::new([0u8; MAX_PASSWORD_LEN + MAX_RESERVED_LEN]);
            for (p, &b) in plain.iter_mut().zip(password.iter().chain(reserved)) {
                *p = b;
            }
            let plain = plain.get(..password.len() + reserved.len()).unwrap_or(&[]);
            ciphertext_len = cbc::encrypt(&key, &iv, plain, &mut ciphertext).unwrap_or(0);
        }
        let mut encoder = Self {
            header: header.emit(),
            groups: [[0; 6]; MAX_GROUPS - 1],
            wide: [false; MAX_GROUPS - 1],
            body: 0,
            encrypted: key.is_some(),
            lengths: [0; MAX_PASS_LEN],
            len: 0,
        };
        let mut secrets = Zeroizing::new([0u8; MAX_PASSWORD_LEN + MAX_RESERVED_LEN]);
        for (p, &b) in secrets.iter_mut().zip(password.iter().chain(reserved)) {
            *p = b;
        }
        for segment in Layout::of(&header).segments() {
            let data: &[u8] = match segment.part {
                Part::Secrets => &secrets[..],
                Part::Password => password,
                Part::Reserved => reserved,
                Part::Ciphertext => ciphertext.get(..ciphertext_len).unwrap_or(&[]),
                Part::Iv => &iv_sent,
                Part::Ssid => ssid,
            };
            encoder.push_segment(segment, data, random);
        }
        encoder.emit_lengths();
        Ok(encoder)
    }

    fn push_segment<R: Randomness + ?Sized>(
        &mut self,
        segment: Segment,
        data: &[u8],
        random: &mut R,
    ) {
        let width = segment.width();
        for g in 0..segment.groups() {
            let mut bytes = [0u8; 6];
            for (k, b) in bytes.iter_mut().enumerate().take(width) {
                let at = g * width + k;
                *b = if at < segment.len {
                    data.get(at).copied().unwrap_or(0)
                } else {
                    random.padding_byte() & 0x7f
                };
            }
            if segment.wide {
                bytes[5] = crc8(&bytes[..5]);
            }
            if let (Some(slot), Some(wide)) =
                (self.groups.get_mut(self.body), self.wide.get_mut(self.body))
            {
                *slot = bytes;
                *wide = segment.wide;
                self.body += 1;
            }
            bytes.zeroize();
        }
    }

    fn emit_lengths(&mut self) {
        let count = COUNT_BASE + self.group_count() as u16;
        // Written in place: no copy of the lengths is left behind.
        self.lengths = [0; MAX_PASS_LEN];
        let mut n = 0;
        let lengths = &mut self.lengths;
        let mut push = |len: u16| {
            if let Some(slot) = lengths.get_mut(n) {
                *slot = len;
                n += 1;
            }
        };
        for len in [SYNC, count, SYNC, count] {
            push(len);
        }
        for plane in 0..8 {
            push(plane_len(plane, plane_bits(&self.header, plane)));
        }
        for (j, (bytes, &wide)) in self
            .groups
            .iter()
            .zip(&self.wide)
            .take(self.body)
            .enumerate()
        {
            for _ in 0..3 {
                push(MARKER_BASE + j as u16);
            }
            for plane in 0..7 {
                push(plane_len(plane, plane_bits(bytes, plane)));
            }
            push(if wide {
                plane_len(7, plane_bits(bytes, 7))
            } else {
                plane_len(7, crc8(bytes))
            });
        }
        self.len = n;
    }

    /// The header bytes H0..H5.
    #[must_use]
    pub const fn header(&self) -> [u8; 6] {
        self.header
    }

    /// N: groups in one pass, the header group included (the count datagram is 1071 + N).
    #[must_use]
    pub const fn group_count(&self) -> usize {
        self.body + 1
    }

    /// Whether AES encryption was applied (a key was set and password or reserved data is not
    /// empty).
    #[must_use]
    pub const fn is_encrypted(&self) -> bool {
        self.encrypted
    }

    /// The 6 bytes of body group `j` (for an 8-bit group the sixth is the CRC-8 of the five).
    #[must_use]
    pub fn group(&self, j: usize) -> Option<[u8; 6]> {
        (j < self.body)
            .then(|| self.groups.get(j).copied())
            .flatten()
    }

    /// Whether body group `j` is an 8-bit group.
    #[must_use]
    pub fn is_wide(&self, j: usize) -> Option<bool> {
        (j < self.body).then(|| self.wide.get(j).copied()).flatten()
    }

    /// One full pass of UDP payload lengths in sending order: 12 + 11·(N − 1).
    #[must_use]
    pub fn lengths(&self) -> &[u16] {
        self.lengths.get(..self.len).unwrap_or(&[])
    }
}

impl core::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Encoder")
            .field("group_count", &self.group_count())
            .field("encrypted", &self.encrypted)
            .field("lengths", &self.len)
            .finish_non_exhaustive()
    }
}

impl Drop for Encoder {
    fn drop(&mut self) {
        self.header.zeroize();
        self.groups.zeroize();
        self.lengths.zeroize();
    }
}

impl ZeroizeOnDrop for Encoder {}

#[cfg(test)]
mod tests {
    use super::*;

    const BSSID: Mac = [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff];

    #[test]
    fn deterministic_vector_of_the_spec() {
        let mut none = Replay::new(&[]);
        let e = Encoder::new(&Config::new(b"TestAP", b"123456789012", BSSID), &mut none)
            .expect("valid");
        let expected: [u16; 45] = [
            1048, 1075, 1048, 1075, 67, 228, 369, 465, 580, 705, 832, 961, 128, 128, 128, 106, 217,
            327, 448, 639, 767, 832, 1004, 129, 129, 129, 106, 225, 352, 472, 639, 767, 832, 1020,
            130, 130, 130, 90, 200, 372, 448, 621, 732, 895, 996,
        ];
        assert_eq!(e.lengths(), expected);
        assert_eq!(e.header(), [0x06, 0x0c, 0x00, 0x12, 0x01, 0xad]);
        assert_eq!(e.group_count(), 4);
        assert!(!e.is_encrypted());
        assert_eq!(none.remaining(), 0);
        assert!(!none.overrun());
    }

    #[test]
    fn aes_security1_header_and_prefix_of_the_spec() {
        let password = [b'A'; 60];
        let config = Config::new(b"TestAP", &password, BSSID)
            .with_reserved(b"RSVD")
            .with_aes_key(*b"0123456789abcdef", 1);
        let mut none = Replay::new(&[]);
        let e = Encoder::new(&config, &mut none).expect("valid");
        assert_eq!(e.header(), [0x06, 0x3c, 0x04, 0x12, 0x03, 0xc7]);
        assert_eq!(e.group_count(), 18);
        assert_eq!(e.lengths().len(), 199);
        assert!(e.is_encrypted());
        let first: [u16; 24] = [
            1048, 1089, 1048, 1089, 67, 231, 377, 464, 596, 720, 833, 961, 128, 128, 128, 114, 225,
            350, 502, 624, 752, 852, 981, 129,
        ];
        assert_eq!(&e.lengths()[..24], first);
        assert!(!none.overrun());
    }

    #[test]
    fn a_key_without_secrets_sends_plaintext() {
        let config = Config::new(b"Open", b"", BSSID).with_aes_key([7; 16], 2);
        let mut none = Replay::new(&[]);
        let e = Encoder::new(&config, &mut none).expect("valid");
        assert!(!e.is_encrypted());
        assert_eq!(e.header()[4], 0x01);
        assert_eq!(e.group_count(), 2);
        assert_eq!(none.remaining(), 0);
    }

    #[test]
    fn closure_sources_keep_padding_seven_bit() {
        let mut x = 0u8;
        let mut random = || {
            x = x.wrapping_add(0x9d);
            x
        };
        let e = Encoder::new(&Config::new(b"TestAP", b"1", BSSID), &mut random).expect("valid");
        let group = e.group(0).expect("password group");
        assert_eq!(group[0], b'1');
        assert!(group.iter().all(|&b| b < 0x80));
    }

    #[test]
    fn maximum_inputs_fit_41_groups() {
        let long = [0xe2u8; 64];
        let config = Config::new(&long[..32], &long, BSSID)
            .with_reserved(&long)
            .with_aes_key([1; 16], 2);
        let mut random = || 0x42u8;
        let e = Encoder::new(&config, &mut random).expect("valid");
        assert_eq!(e.group_count(), MAX_GROUPS);
        assert_eq!(e.lengths().len(), MAX_PASS_LEN);
        assert_eq!(e.lengths()[1], 1112);
        assert_eq!(e.lengths()[MAX_PASS_LEN - 11], MARKER_BASE + 39);
    }

    #[test]
    fn rejects_invalid_configs() {
        let long = [b'a'; 65];
        let mut random = || 0u8;
        let mut check = |config: Config<'_>, error| {
            assert_eq!(Encoder::new(&config, &mut random).err(), Some(error));
        };
        check(
            Config::new(&long[..33], b"", BSSID),
            ConfigError::SsidTooLong(33),
        );
        check(
            Config::new(b"x", &long, BSSID),
            ConfigError::PasswordTooLong(65),
        );
        check(
            Config::new(b"x", b"", BSSID).with_reserved(&long),
            ConfigError::ReservedTooLong(65),
        );
        check(
            Config::new(b"x", b"", BSSID).with_port_mark(4),
            ConfigError::InvalidPortMark(4),
        );
        check(
            Config::new(b"x", b"p", BSSID).with_aes_key([0; 16], 3),
            ConfigError::InvalidSecurityVersion(3),
        );
        check(
            Config::new(b"x", b"p", BSSID).with_aes_key([0; 16], 0),
            ConfigError::InvalidSecurityVersion(0),
        );
    }

    #[test]
    fn debug_shows_no_password_reserved_data_or_key() {
        let (secret, reserved, key) = (b"S3cr3t-Pa55", b"R3s3rv3d-Da7a", *b"K3y-0f-16-bytes!");
        let config = Config::new(b"TestAP", secret, BSSID).with_reserved(reserved);
        let debug = std::format!("{config:?}");
        crate::test_support::assert_hidden(&debug, secret);
        crate::test_support::assert_hidden(&debug, reserved);
        assert!(debug.contains("password: <11 bytes>"), "{debug}");
        assert!(debug.contains("reserved: <13 bytes>"), "{debug}");
        let mut random = || 5u8;
        let plain = Encoder::new(&config, &mut random).expect("valid");
        crate::test_support::assert_hidden(&std::format!("{plain:?}"), secret);
        let encrypted = config.with_aes_key(key, 2);
        let debug = std::format!("{encrypted:?}");
        crate::test_support::assert_hidden(&debug, &key);
        assert!(debug.contains("aes_key: Some(\"<redacted>\")"), "{debug}");
        const { assert_zeroized_on_drop::<Encoder>() };
    }

    const fn assert_zeroized_on_drop<T: ZeroizeOnDrop>() {}
}
