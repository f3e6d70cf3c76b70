//! The payloads of BluFi messages (spec §7.5): security mode, operation mode, version, error
//! codes, the Wi-Fi status report and the Wi-Fi list.

use alloc::vec::Vec;

use crate::frame::DataSubtype;
use crate::{Error, Result};

wire_enum! {
    /// SET_WIFI_OPMODE and the first byte of a status report.
    OperationMode {
        /// Wi-Fi off (`WIFI_MODE_NULL`).
        Null = 0,
        /// Station.
        Station = 1,
        /// SoftAP.
        SoftAp = 2,
        /// SoftAP and station.
        StationSoftAp = 3,
    }
}

wire_enum! {
    /// The station state of a status report.
    StationState {
        /// Connected and got an IP address.
        Connected = 0,
        /// Connecting failed.
        Failed = 1,
        /// Connecting.
        Connecting = 2,
        /// Connected, no IP address yet.
        ConnectedWithoutIp = 3,
    }
}

wire_enum! {
    /// ERROR_INFO codes (spec §7.5).
    ErrorCode {
        /// A frame with an unexpected sequence number.
        Sequence = 0,
        /// A checksum mismatch.
        Checksum = 1,
        /// Decryption failed (or no key).
        Decrypt = 2,
        /// Encryption failed.
        Encrypt = 3,
        /// Security could not be set up.
        InitSecurity = 4,
        /// DH allocation failed.
        DhAllocation = 5,
        /// DH parameters missing or inconsistent.
        DhParameter = 6,
        /// DH parameters do not parse or are out of range.
        ReadParameter = 7,
        /// The public key could not be made.
        MakePublic = 8,
        /// A frame or message is malformed.
        DataFormat = 9,
        /// MD5 failed.
        CalculateMd5 = 10,
        /// The Wi-Fi scan failed.
        WifiScanFailed = 11,
        /// A message arrived in the wrong state.
        MessageState = 12,
        /// SHA-256 failed.
        CalculateSha256 = 13,
    }
}

/// How one class of frames is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Protection {
    /// Append a CRC-16.
    pub checksum: bool,
    /// Encrypt the data field.
    pub encrypt: bool,
}

impl Protection {
    /// Neither checksum nor encryption.
    pub const NONE: Self = Self {
        checksum: false,
        encrypt: false,
    };

    const fn from_nibble(nibble: u8) -> Self {
        Self {
            checksum: nibble & 0x01 != 0,
            encrypt: nibble & 0x02 != 0,
        }
    }

    const fn nibble(self) -> u8 {
        (self.checksum as u8) | ((self.encrypt as u8) << 1)
    }
}

/// The SET_SEC_MODE byte: high nibble for control frames, low nibble for data frames; bit 0
/// checksum, bit 1 encryption. Other bits are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SecurityMode(u8);

impl SecurityMode {
    /// Nothing protected (the state at the start of a connection).
    pub const PLAINTEXT: Self = Self(0x00);
    /// What the apps send (0x03): data frames checksummed and encrypted, control frames plain.
    pub const DATA_PROTECTED: Self = Self(0x03);

    /// A mode from the protection of control and data frames.
    #[must_use]
    pub const fn new(control: Protection, data: Protection) -> Self {
        Self((control.nibble() << 4) | data.nibble())
    }

    /// A mode from its byte.
    #[must_use]
    pub const fn from_bits(bits: u8) -> Self {
        Self(bits)
    }

    /// The byte.
    #[must_use]
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// How control frames are protected.
    #[must_use]
    pub const fn control(self) -> Protection {
        Protection::from_nibble(self.0 >> 4)
    }

    /// How data frames are protected.
    #[must_use]
    pub const fn data(self) -> Protection {
        Protection::from_nibble(self.0 & 0x0f)
    }

    /// Whether any frame class is to be encrypted.
    #[must_use]
    pub const fn encrypts(self) -> bool {
        self.control().encrypt || self.data().encrypt
    }
}

impl From<u8> for SecurityMode {
    fn from(bits: u8) -> Self {
        Self(bits)
    }
}

impl From<SecurityMode> for u8 {
    fn from(mode: SecurityMode) -> Self {
        mode.0
    }
}

/// A BluFi protocol version, as REPLY_VERSION carries it: 1.2 (ESP-IDF v4.4–v5.0), 1.3
/// (v5.1–v5.5), 1.4 (v6.0+).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Version {
    /// Major version.
    pub major: u8,
    /// Minor version.
    pub minor: u8,
}

impl Version {
    /// A version.
    #[must_use]
    pub const fn new(major: u8, minor: u8) -> Self {
        Self { major, minor }
    }

    /// Parses REPLY_VERSION data (2 bytes).
    ///
    /// # Errors
    /// [`Error::InvalidMessage`] if it is not 2 bytes.
    pub fn parse(data: &[u8]) -> Result<Self> {
        match *data {
            [major, minor] => Ok(Self { major, minor }),
            _ => Err(Error::InvalidMessage("REPLY_VERSION is not 2 bytes")),
        }
    }

    /// REPLY_VERSION data.
    #[must_use]
    pub const fn to_bytes(self) -> [u8; 2] {
        [self.major, self.minor]
    }
}

/// A Wi-Fi status report (WIFI_REP): `opmode | sta_state | softap_conn_count | TLVs`, a TLV
/// being `subtype(1) | len(1) | value` with the data subtypes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Status {
    /// The Wi-Fi mode.
    pub operation_mode: OperationMode,
    /// The station state.
    pub station_state: StationState,
    /// Stations connected to the SoftAP.
    pub softap_connections: u8,
    /// TLV 0x01: the BSSID the station is connected to.
    pub bssid: Option<[u8; 6]>,
    /// TLV 0x02: the station SSID.
    pub ssid: Option<Vec<u8>>,
    /// TLV 0x15: why the last connection ended (`wifi_err_reason_t`, 255 = invalid).
    pub end_reason: Option<u8>,
    /// TLV 0x16: the RSSI of the connection (−128 = invalid).
    pub rssi: Option<i8>,
    /// Every other TLV, in order (SoftAP settings, max retry, …).
    pub extra: Vec<(DataSubtype, Vec<u8>)>,
}

impl Status {
    /// A report with no TLV.
    #[must_use]
    pub const fn new(
        operation_mode: OperationMode,
        station_state: StationState,
        softap_connections: u8,
    ) -> Self {
        Self {
            operation_mode,
            station_state,
            softap_connections,
            bssid: None,
            ssid: None,
            end_reason: None,
            rssi: None,
            extra: Vec::new(),
        }
    }

    /// Parses WIFI_REP data. Of a repeated BSSID, SSID, end-reason or RSSI TLV the last wins.
    ///
    /// # Errors
    /// [`Error::InvalidMessage`] if it is shorter than 3 bytes, a TLV is truncated, or a BSSID,
    /// end-reason or RSSI TLV has the wrong length.
    pub fn parse(data: &[u8]) -> Result<Self> {
        let [
            operation_mode,
            station_state,
            softap_connections,
            ref rest @ ..,
        ] = *data
        else {
            return Err(Error::InvalidMessage("Wi-Fi report shorter than 3 bytes"));
        };
        let mut status = Self::new(
            operation_mode.into(),
            station_state.into(),
            softap_connections,
        );
        let mut rest: &[u8] = rest;
        while let [subtype, len, ref tail @ ..] = *rest {
            let len = usize::from(len);
            let (value, next) = tail
                .split_at_checked(len)
                .ok_or(Error::InvalidMessage("Wi-Fi report TLV truncated"))?;
            match DataSubtype::from(subtype) {
                DataSubtype::StaBssid => {
                    status.bssid = Some(
                        value
                            .try_into()
                            .map_err(|_| Error::InvalidMessage("BSSID TLV is not 6 bytes"))?,
                    );
                }
                DataSubtype::StaSsid => status.ssid = Some(value.to_vec()),
                DataSubtype::StaConnectionEndReason => {
                    let [reason] = *value else {
                        return Err(Error::InvalidMessage("end reason TLV is not 1 byte"));
                    };
                    status.end_reason = Some(reason);
                }
                DataSubtype::StaConnectionRssi => {
                    let [rssi] = *value else {
                        return Err(Error::InvalidMessage("RSSI TLV is not 1 byte"));
                    };
                    status.rssi = Some(rssi as i8);
                }
                other => status.extra.push((other, value.to_vec())),
            }
            rest = next;
        }
        if !rest.is_empty() {
            return Err(Error::InvalidMessage("Wi-Fi report TLV truncated"));
        }
        Ok(status)
    }

    /// WIFI_REP data: the header, then BSSID, SSID, the extra TLVs, end reason, RSSI.
    ///
    /// # Errors
    /// [`Error::ApiMisuse`] if a TLV value is longer than 255 bytes.
    pub fn to_vec(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        out.extend_from_slice(&[
            self.operation_mode.into(),
            self.station_state.into(),
            self.softap_connections,
        ]);
        if let Some(bssid) = &self.bssid {
            push_tlv(&mut out, DataSubtype::StaBssid.into(), bssid)?;
        }
        if let Some(ssid) = &self.ssid {
            push_tlv(&mut out, DataSubtype::StaSsid.into(), ssid)?;
        }
        for (subtype, value) in &self.extra {
            push_tlv(&mut out, (*subtype).into(), value)?;
        }
        if let Some(reason) = self.end_reason {
            push_tlv(
                &mut out,
                DataSubtype::StaConnectionEndReason.into(),
                &[reason],
            )?;
        }
        if let Some(rssi) = self.rssi {
            push_tlv(
                &mut out,
                DataSubtype::StaConnectionRssi.into(),
                &[rssi as u8],
            )?;
        }
        Ok(out)
    }
}

fn push_tlv(out: &mut Vec<u8>, subtype: u8, value: &[u8]) -> Result<()> {
    let len = u8::try_from(value.len())
        .map_err(|_| Error::ApiMisuse("status TLV longer than 255 bytes"))?;
    out.push(subtype);
    out.push(len);
    out.extend_from_slice(value);
    Ok(())
}

/// One scan result of a Wi-Fi list: the SSID and its RSSI.
pub type Network = (Vec<u8>, i8);

/// Parses WIFI_LIST data: repeated `len(1) = ssid_len + 1 | rssi(i8) | ssid`.
///
/// # Errors
/// [`Error::InvalidMessage`] if an entry has length 0 or is truncated.
pub fn parse_wifi_list(data: &[u8]) -> Result<Vec<Network>> {
    let mut out = Vec::new();
    let mut rest = data;
    while let [len, ref tail @ ..] = *rest {
        let len = usize::from(len);
        let (entry, next) = tail
            .split_at_checked(len)
            .ok_or(Error::InvalidMessage("Wi-Fi list entry truncated"))?;
        let [rssi, ref ssid @ ..] = *entry else {
            return Err(Error::InvalidMessage("Wi-Fi list entry of length 0"));
        };
        out.push((ssid.to_vec(), rssi as i8));
        rest = next;
    }
    Ok(out)
}

/// WIFI_LIST data for scan results.
///
/// # Errors
/// [`Error::ApiMisuse`] if an SSID is longer than 254 bytes.
pub fn wifi_list_to_vec<S: AsRef<[u8]>>(networks: &[(S, i8)]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for (ssid, rssi) in networks {
        let ssid = ssid.as_ref();
        let len = u8::try_from(ssid.len() + 1)
            .map_err(|_| Error::ApiMisuse("SSID longer than 254 bytes"))?;
        out.push(len);
        out.push(*rssi as u8);
        out.extend_from_slice(ssid);
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::panic)] // tests may index and panic
mod tests {
    use super::*;
    use alloc::vec;

    fn sample_status() -> Status {
        Status {
            bssid: Some([0x11, 0x22, 0x33, 0x44, 0x55, 0x66]),
            ssid: Some(b"HomeNet".to_vec()),
            end_reason: Some(255),
            rssi: Some(-60),
            extra: vec![(DataSubtype::StaMaxConnectionRetry, vec![5])],
            ..Status::new(OperationMode::Station, StationState::Connected, 0)
        }
    }

    const SAMPLE_STATUS: [u8; 30] = [
        0x01, 0x00, 0x00, // opmode STA, connected, 0 SoftAP stations
        0x01, 0x06, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, // BSSID
        0x02, 0x07, b'H', b'o', b'm', b'e', b'N', b'e', b't', // SSID
        0x14, 0x01, 0x05, // max retry
        0x15, 0x01, 0xff, // end reason
        0x16, 0x01, 0xc4, // RSSI -60
        // (padding to check the length below)
        0x00,
    ];

    #[test]
    fn emits_status_byte_exact() {
        let bytes = sample_status().to_vec().expect("emits");
        assert_eq!(bytes, SAMPLE_STATUS[..29]);
    }

    #[test]
    fn parses_status() {
        assert_eq!(
            Status::parse(&SAMPLE_STATUS[..29]).expect("parses"),
            sample_status()
        );
    }

    #[test]
    fn rejects_every_truncated_status() {
        // Cutting inside a TLV fails; cutting between TLVs is a shorter valid report.
        let boundaries = [3, 11, 20, 23, 26, 29];
        for n in 0..29 {
            let result = Status::parse(&SAMPLE_STATUS[..n]);
            assert_eq!(result.is_ok(), boundaries.contains(&n), "prefix {n}");
        }
    }

    #[test]
    fn rejects_status_tlvs_of_wrong_length() {
        assert!(Status::parse(&[1, 0, 0, 0x01, 0x05, 1, 2, 3, 4, 5]).is_err());
        assert!(Status::parse(&[1, 0, 0, 0x16, 0x02, 1, 2]).is_err());
        assert!(Status::parse(&[1, 0, 0, 0x15, 0x00]).is_err());
        assert!(Status::parse(&[1, 0, 0, 0x02]).is_err());
    }

    #[test]
    fn status_keeps_unknown_codes() {
        let status = Status::parse(&[9, 7, 2, 0x30, 0x01, 0xaa]).expect("parses");
        assert_eq!(status.operation_mode, OperationMode::Unknown(9));
        assert_eq!(status.station_state, StationState::Unknown(7));
        assert_eq!(status.extra, vec![(DataSubtype::Unknown(0x30), vec![0xaa])]);
        assert_eq!(status.to_vec().expect("emits"), [9, 7, 2, 0x30, 0x01, 0xaa]);
    }

    #[test]
    fn wifi_list_round_trips_byte_exact() {
        let list = [
            (b"ab".to_vec(), -40i8),
            (Vec::new(), 0),
            (b"x".to_vec(), -128),
        ];
        let bytes = wifi_list_to_vec(&list).expect("emits");
        assert_eq!(bytes, [3, 0xd8, b'a', b'b', 1, 0x00, 2, 0x80, b'x']);
        assert_eq!(parse_wifi_list(&bytes).expect("parses"), list);
    }

    #[test]
    fn rejects_truncated_wifi_list() {
        let bytes = [3, 0xd8, b'a', b'b', 2, 0x80, b'x'];
        for n in [1, 2, 3, 5, 6] {
            assert!(parse_wifi_list(&bytes[..n]).is_err(), "prefix {n}");
        }
        assert!(parse_wifi_list(&[0]).is_err(), "length 0");
        assert_eq!(parse_wifi_list(&[]).expect("empty"), vec![]);
    }

    #[test]
    fn rejects_long_ssid_in_wifi_list() {
        assert!(wifi_list_to_vec(&[(vec![0u8; 255], 0)]).is_err());
        assert!(wifi_list_to_vec(&[(vec![0u8; 254], 0)]).is_ok());
    }

    #[test]
    fn security_mode_nibbles() {
        let mode = SecurityMode::DATA_PROTECTED;
        assert_eq!(mode.control(), Protection::NONE);
        assert_eq!(
            mode.data(),
            Protection {
                checksum: true,
                encrypt: true
            }
        );
        let mode = SecurityMode::new(
            Protection {
                checksum: true,
                encrypt: false,
            },
            Protection {
                checksum: false,
                encrypt: true,
            },
        );
        assert_eq!(mode.bits(), 0x12);
        assert!(mode.encrypts());
        assert!(!SecurityMode::from(0x11).encrypts());
    }

    #[test]
    fn version_parses_two_bytes() {
        assert_eq!(Version::parse(&[1, 4]), Ok(Version::new(1, 4)));
        assert!(Version::parse(&[1]).is_err());
        assert!(Version::parse(&[1, 4, 0]).is_err());
        assert!(Version::new(1, 3) < Version::new(1, 4));
    }

    #[test]
    fn wire_enums_round_trip() {
        for value in 0..=255u8 {
            assert_eq!(u8::from(OperationMode::from(value)), value);
            assert_eq!(u8::from(StationState::from(value)), value);
            assert_eq!(u8::from(ErrorCode::from(value)), value);
        }
        assert_eq!(ErrorCode::from(13), ErrorCode::CalculateSha256);
        assert_eq!(ErrorCode::from(14), ErrorCode::Unknown(14));
    }
}
