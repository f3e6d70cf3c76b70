//! The header group H0..H5: lengths, "encoded" flags, CRC-8(BSSID), flags, CRC.

use wifiprov_sniff::crc8;

use super::encoder::{MAX_PASSWORD_LEN, MAX_RESERVED_LEN, MAX_SSID_LEN};

/// Which IP version the phone has (header flag bit 0; the device only reports it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum IpVersion {
    /// The phone has an IPv4 address (flag bit 0 set).
    #[default]
    V4,
    /// The phone has only IPv6 (flag bit 0 clear).
    V6,
}

/// The meaning of the 6-byte header group.
///
/// | byte | content |
/// |---|---|
/// | H0 | SSID length, bit 7 set if any SSID byte ≥ 0x80 |
/// | H1 | password length (plaintext), bit 7 likewise |
/// | H2 | reserved-data length (plaintext), bit 7 likewise |
/// | H3 | CRC-8 of the BSSID |
/// | H4 | bit 0 IPv4, bits 1–2 security version if encrypted (else 0), bits 3–4 port mark, bits 5–7 zero |
/// | H5 | CRC-8 of H0..H4 |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Header {
    /// SSID length in bytes (0 = not sent: resolve it from a scan).
    pub ssid_len: u8,
    /// Some SSID byte is ≥ 0x80 (the SSID travels in 8-bit groups).
    pub ssid_encoded: bool,
    /// Password length in bytes (plaintext length when encrypted).
    pub password_len: u8,
    /// Some password byte is ≥ 0x80.
    pub password_encoded: bool,
    /// Reserved-data length in bytes (plaintext length when encrypted).
    pub reserved_len: u8,
    /// Some reserved-data byte is ≥ 0x80.
    pub reserved_encoded: bool,
    /// CRC-8 of the BSSID the phone is associated with.
    pub bssid_crc: u8,
    /// The phone's IP version.
    pub ip_version: IpVersion,
    /// 0 = plaintext; 1 = AES-128-CBC with a zero IV; 2 = AES-128-CBC with a transmitted IV.
    pub security: u8,
    /// Index of the phone's app port in [`APP_PORTS`](super::APP_PORTS), 0..=3.
    pub port_mark: u8,
}

/// Why 6 bytes are not a usable header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderError {
    /// H5 is not CRC-8 of H0..H4.
    #[error("header CRC {got:#04x} does not match the computed {expected:#04x}")]
    CrcMismatch {
        /// CRC-8 of H0..H4.
        expected: u8,
        /// H5.
        got: u8,
    },
    /// Flag bits 5–7 are not zero (a protocol version this decoder does not know).
    #[error("unsupported protocol flags {0:#04x} in H4 bits 5-7")]
    UnsupportedVersion(u8),
    /// Security version 3 (undefined).
    #[error("unknown security version {0}")]
    UnknownSecurity(u8),
    /// A length above the protocol limit.
    #[error("{field} length {len} exceeds the limit")]
    LengthOutOfRange {
        /// `"ssid"`, `"password"` or `"reserved"`.
        field: &'static str,
        /// The length sent.
        len: u8,
    },
    /// Encryption flagged with nothing to encrypt (the encoder never does that).
    #[error("encryption flagged but password and reserved data are empty")]
    NothingEncrypted,
}

impl Header {
    /// Whether the password and reserved data are AES-encrypted.
    #[must_use]
    pub const fn is_encrypted(&self) -> bool {
        self.security != 0
    }

    /// Parses and checks the 6 header bytes.
    ///
    /// # Errors
    /// [`HeaderError::CrcMismatch`], [`HeaderError::UnsupportedVersion`],
    /// [`HeaderError::UnknownSecurity`], [`HeaderError::LengthOutOfRange`] or
    /// [`HeaderError::NothingEncrypted`].
    pub fn parse(bytes: &[u8; 6]) -> Result<Self, HeaderError> {
        let [h0, h1, h2, h3, h4, h5] = *bytes;
        let expected = crc8(&[h0, h1, h2, h3, h4]);
        if expected != h5 {
            return Err(HeaderError::CrcMismatch { expected, got: h5 });
        }
        if h4 & 0xe0 != 0 {
            return Err(HeaderError::UnsupportedVersion(h4 & 0xe0));
        }
        let security = (h4 >> 1) & 3;
        if security == 3 {
            return Err(HeaderError::UnknownSecurity(security));
        }
        let header = Self {
            ssid_len: h0 & 0x7f,
            ssid_encoded: h0 & 0x80 != 0,
            password_len: h1 & 0x7f,
            password_encoded: h1 & 0x80 != 0,
            reserved_len: h2 & 0x7f,
            reserved_encoded: h2 & 0x80 != 0,
            bssid_crc: h3,
            ip_version: if h4 & 1 != 0 {
                IpVersion::V4
            } else {
                IpVersion::V6
            },
            security,
            port_mark: (h4 >> 3) & 3,
        };
        for (field, len, max) in [
            ("ssid", header.ssid_len, MAX_SSID_LEN),
            ("password", header.password_len, MAX_PASSWORD_LEN),
            ("reserved", header.reserved_len, MAX_RESERVED_LEN),
        ] {
            if usize::from(len) > max {
                return Err(HeaderError::LengthOutOfRange { field, len });
            }
        }
        if header.is_encrypted() && header.password_len == 0 && header.reserved_len == 0 {
            return Err(HeaderError::NothingEncrypted);
        }
        Ok(header)
    }

    /// The 6 header bytes, H5 computed. Lengths are masked to 7 bits, the security version to
    /// 2 bits and the port mark to 2 bits.
    #[must_use]
    pub fn emit(&self) -> [u8; 6] {
        let flag = |len: u8, encoded: bool| (len & 0x7f) | if encoded { 0x80 } else { 0 };
        let h4 = u8::from(self.ip_version == IpVersion::V4)
            | ((self.security & 3) << 1)
            | ((self.port_mark & 3) << 3);
        let mut out = [
            flag(self.ssid_len, self.ssid_encoded),
            flag(self.password_len, self.password_encoded),
            flag(self.reserved_len, self.reserved_encoded),
            self.bssid_crc,
            h4,
            0,
        ];
        out[5] = crc8(&out[..5]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_spec_examples() {
        let h = Header::parse(&[0x06, 0x08, 0x00, 0x12, 0x01, 0xa3]).expect("valid");
        assert_eq!((h.ssid_len, h.password_len, h.reserved_len), (6, 8, 0));
        assert_eq!(h.bssid_crc, 0x12);
        assert_eq!(h.ip_version, IpVersion::V4);
        assert_eq!((h.security, h.port_mark), (0, 0));
        assert_eq!(h.emit(), [0x06, 0x08, 0x00, 0x12, 0x01, 0xa3]);
        let h = Header::parse(&[0x06, 0x0c, 0x00, 0x12, 0x11, 0x30]).expect("port mark 2");
        assert_eq!(h.port_mark, 2);
        let h = Header::parse(&[0x8a, 0x85, 0x06, 0x12, 0x01, 0xdc]).expect("8-bit");
        assert!(h.ssid_encoded && h.password_encoded && !h.reserved_encoded);
        assert_eq!((h.ssid_len, h.password_len), (10, 5));
        // §2.7 c): the real device log.
        let h = Header::parse(&[0x06, 0x08, 0x00, 0x26, 0x01, 0xb5]).expect("esp-idf #8431");
        assert_eq!(h.bssid_crc, 0x26);
    }

    #[test]
    fn rejects_bad_headers() {
        assert_eq!(
            Header::parse(&[0x06, 0x08, 0x00, 0x12, 0x01, 0xa4]),
            Err(HeaderError::CrcMismatch {
                expected: 0xa3,
                got: 0xa4
            })
        );
        let with = |h4: u8| {
            let mut b = [0x06, 0x08, 0x00, 0x12, h4, 0];
            b[5] = crc8(&b[..5]);
            Header::parse(&b)
        };
        assert_eq!(with(0x21), Err(HeaderError::UnsupportedVersion(0x20)));
        assert_eq!(with(0x41), Err(HeaderError::UnsupportedVersion(0x40)));
        assert_eq!(with(0x07), Err(HeaderError::UnknownSecurity(3)));
        let mut b = [33, 0, 0, 0, 1, 0];
        b[5] = crc8(&b[..5]);
        assert_eq!(
            Header::parse(&b),
            Err(HeaderError::LengthOutOfRange {
                field: "ssid",
                len: 33
            })
        );
        let mut b = [6, 0, 0, 0, 3, 0];
        b[5] = crc8(&b[..5]);
        assert_eq!(Header::parse(&b), Err(HeaderError::NothingEncrypted));
    }
}
