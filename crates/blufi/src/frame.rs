//! The BluFi frame (spec §7.2): a checked view ([`Frame`]) and its meaning ([`Repr`]).
//!
//! ```text
//! type(1) | fc(1) | seq(1) | data_len(1) | data(data_len) | [checksum(2, LE)]
//! type = frame_type (bits 0–1: 0 control, 1 data) | subtype << 2
//! ```
//!
//! The checksum covers the **plaintext** data: to parse an encrypted frame, decrypt
//! [`Frame::data_mut`] in place first; to emit one, [`Repr::emit`] the plaintext (which fills the
//! checksum) and then encrypt `data_mut` in place. The link layer ([`crate::link`]) does both.

use core::fmt;

use crate::crc;
use crate::{Error, Result};

mod field {
    pub(super) const TYPE: usize = 0;
    pub(super) const CONTROL: usize = 1;
    pub(super) const SEQUENCE: usize = 2;
    pub(super) const DATA_LEN: usize = 3;
    pub(super) const DATA: usize = 4;
}

/// Bytes before the data field.
pub const HEADER_LEN: usize = 4;
/// Bytes of the optional checksum.
pub const CHECKSUM_LEN: usize = 2;
/// The largest data field (`BLUFI_MAX_DATA_LEN`).
pub const MAX_DATA_LEN: usize = 255;
/// The largest subtype (6 bits).
pub const MAX_SUBTYPE: u8 = 0x3f;

/// The frame control byte: a set of flags (spec §7.2). Reserved bits are kept as they are.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FrameControl(u8);

impl FrameControl {
    /// No flag set.
    pub const EMPTY: Self = Self(0);
    /// The data field is encrypted.
    pub const ENCRYPTED: Self = Self(0x01);
    /// A 2-byte checksum follows the data.
    pub const CHECKSUM: Self = Self(0x02);
    /// Direction: set on frames from the device to the phone.
    pub const TO_PHONE: Self = Self(0x04);
    /// The sender wants an ACK for this frame.
    pub const ACK_REQUESTED: Self = Self(0x08);
    /// More fragments follow; the data starts with the 2-byte remaining total.
    pub const FRAGMENT: Self = Self(0x10);

    /// The flags of a control byte, reserved bits included.
    #[must_use]
    pub const fn from_bits_retain(bits: u8) -> Self {
        Self(bits)
    }

    /// The control byte.
    #[must_use]
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Whether every flag of `other` is set.
    #[must_use]
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Sets the flags of `other`.
    pub fn insert(&mut self, other: Self) {
        self.0 |= other.0;
    }

    /// Clears the flags of `other`.
    pub fn remove(&mut self, other: Self) {
        self.0 &= !other.0;
    }

    /// These flags with those of `other` set or cleared.
    #[must_use]
    pub const fn with(self, other: Self, on: bool) -> Self {
        if on {
            Self(self.0 | other.0)
        } else {
            Self(self.0 & !other.0)
        }
    }
}

impl core::ops::BitOr for FrameControl {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl core::ops::BitOrAssign for FrameControl {
    fn bitor_assign(&mut self, rhs: Self) {
        self.0 |= rhs.0;
    }
}

impl From<u8> for FrameControl {
    fn from(bits: u8) -> Self {
        Self(bits)
    }
}

impl From<FrameControl> for u8 {
    fn from(control: FrameControl) -> Self {
        control.0
    }
}

impl fmt::Debug for FrameControl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [(FrameControl, &str); 5] = [
            (FrameControl::ENCRYPTED, "ENCRYPTED"),
            (FrameControl::CHECKSUM, "CHECKSUM"),
            (FrameControl::TO_PHONE, "TO_PHONE"),
            (FrameControl::ACK_REQUESTED, "ACK_REQUESTED"),
            (FrameControl::FRAGMENT, "FRAGMENT"),
        ];
        write!(f, "FrameControl({:#04x}", self.0)?;
        for (flag, name) in NAMES {
            if self.contains(flag) {
                write!(f, " {name}")?;
            }
        }
        write!(f, ")")
    }
}

wire_enum! {
    /// Subtypes of control frames (frame type 0, spec §7.5).
    ControlSubtype {
        /// ACK: data = the acknowledged sequence number (1 byte).
        Ack = 0x00,
        /// SET_SEC_MODE: 1 byte, see [`crate::SecurityMode`].
        SetSecurityMode = 0x01,
        /// SET_WIFI_OPMODE: 1 byte, see [`crate::OperationMode`].
        SetOperationMode = 0x02,
        /// CONNECT_TO_AP: no data.
        ConnectToAp = 0x03,
        /// DISCONNECT_FROM_AP: no data.
        DisconnectFromAp = 0x04,
        /// GET_WIFI_STATUS: no data; the device answers with a Wi-Fi report.
        GetWifiStatus = 0x05,
        /// DEAUTHENTICATE_STA: MAC addresses of SoftAP stations, 6 bytes each.
        DeauthenticateSta = 0x06,
        /// GET_VERSION: no data; the device answers REPLY_VERSION.
        GetVersion = 0x07,
        /// DISCONNECT_BLE: the device should drop the BLE connection.
        DisconnectBle = 0x08,
        /// GET_WIFI_LIST: no data; the device scans and answers WIFI_LIST.
        GetWifiList = 0x09,
    }
}

wire_enum! {
    /// Subtypes of data frames (frame type 1, spec §7.5).
    DataSubtype {
        /// NEG: security negotiation.
        Negotiation = 0x00,
        /// STA_BSSID (6 bytes).
        StaBssid = 0x01,
        /// STA_SSID.
        StaSsid = 0x02,
        /// STA_PASSWD.
        StaPassword = 0x03,
        /// SOFTAP_SSID.
        SoftApSsid = 0x04,
        /// SOFTAP_PASSWD.
        SoftApPassword = 0x05,
        /// SOFTAP_MAX_CONN_NUM.
        SoftApMaxConnections = 0x06,
        /// SOFTAP_AUTH_MODE (0 open, 1 WEP, 2 WPA, 3 WPA2, 4 WPA/WPA2).
        SoftApAuthMode = 0x07,
        /// SOFTAP_CHANNEL.
        SoftApChannel = 0x08,
        /// USERNAME (enterprise).
        Username = 0x09,
        /// CA certificate.
        CaCertificate = 0x0a,
        /// Client certificate.
        ClientCertificate = 0x0b,
        /// Server certificate.
        ServerCertificate = 0x0c,
        /// Client private key.
        ClientPrivateKey = 0x0d,
        /// Server private key.
        ServerPrivateKey = 0x0e,
        /// WIFI_REP: status report, see [`crate::Status`].
        WifiReport = 0x0f,
        /// REPLY_VERSION: major, minor.
        ReplyVersion = 0x10,
        /// WIFI_LIST: scan results.
        WifiList = 0x11,
        /// ERROR_INFO: 1 byte, see [`crate::ErrorCode`].
        ErrorInfo = 0x12,
        /// CUSTOM_DATA: application bytes.
        CustomData = 0x13,
        /// STA_MAX_CONN_RETRY.
        StaMaxConnectionRetry = 0x14,
        /// STA_CONN_END_REASON (`wifi_err_reason_t`).
        StaConnectionEndReason = 0x15,
        /// STA_CONN_RSSI (int8).
        StaConnectionRssi = 0x16,
    }
}

/// What a frame is: its frame type and subtype.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Frame type 0.
    Control(ControlSubtype),
    /// Frame type 1.
    Data(DataSubtype),
}

impl Kind {
    /// Decodes a type byte; `None` for the reserved frame types 2 and 3.
    #[must_use]
    pub fn from_type_byte(byte: u8) -> Option<Self> {
        let subtype = byte >> 2;
        match byte & 0x03 {
            0 => Some(Self::Control(subtype.into())),
            1 => Some(Self::Data(subtype.into())),
            _ => None,
        }
    }

    /// The subtype as a number.
    #[must_use]
    pub fn subtype(self) -> u8 {
        match self {
            Self::Control(subtype) => subtype.into(),
            Self::Data(subtype) => subtype.into(),
        }
    }

    /// The type byte, `frame_type | subtype << 2`.
    ///
    /// # Errors
    /// [`Error::ApiMisuse`] if the subtype does not fit in 6 bits.
    pub fn type_byte(self) -> Result<u8> {
        let subtype = self.subtype();
        if subtype > MAX_SUBTYPE {
            return Err(Error::ApiMisuse("frame subtype above 63"));
        }
        let frame_type = match self {
            Self::Control(_) => 0,
            Self::Data(_) => 1,
        };
        Ok(frame_type | (subtype << 2))
    }

    /// Whether this is a control frame.
    #[must_use]
    pub const fn is_control(self) -> bool {
        matches!(self, Self::Control(_))
    }
}

/// A read/write view of a frame buffer. After [`Frame::check_len`] no accessor panics.
#[derive(Debug, Clone)]
pub struct Frame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Frame<T> {
    /// Wraps a buffer without checking it; accessors may then return empty or default values.
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps a buffer and checks its length.
    ///
    /// # Errors
    /// See [`Frame::check_len`].
    pub fn new_checked(buffer: T) -> Result<Self> {
        let frame = Self::new_unchecked(buffer);
        frame.check_len()?;
        Ok(frame)
    }

    /// Checks that the buffer is exactly `4 + data_len (+ 2 if the checksum flag is set)` bytes,
    /// as the device does (spec §7.2).
    ///
    /// # Errors
    /// [`Error::InvalidMessage`] if the buffer is shorter than the header or its length does not
    /// match.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::InvalidMessage("frame shorter than its header"));
        }
        if len != self.total_len() {
            return Err(Error::InvalidMessage(
                "frame length does not match data_len and checksum flag",
            ));
        }
        Ok(())
    }

    /// Unwraps the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn byte(&self, index: usize) -> u8 {
        self.buffer.as_ref().get(index).copied().unwrap_or_default()
    }

    /// The length announced by the header.
    fn total_len(&self) -> usize {
        let checksum = if self.control().contains(FrameControl::CHECKSUM) {
            CHECKSUM_LEN
        } else {
            0
        };
        HEADER_LEN + usize::from(self.data_len()) + checksum
    }

    /// The raw type byte.
    pub fn type_byte(&self) -> u8 {
        self.byte(field::TYPE)
    }

    /// The frame type and subtype; `None` for a reserved frame type.
    pub fn kind(&self) -> Option<Kind> {
        Kind::from_type_byte(self.type_byte())
    }

    /// The frame control flags.
    pub fn control(&self) -> FrameControl {
        FrameControl(self.byte(field::CONTROL))
    }

    /// The sequence number.
    pub fn sequence(&self) -> u8 {
        self.byte(field::SEQUENCE)
    }

    /// The announced data length.
    pub fn data_len(&self) -> u8 {
        self.byte(field::DATA_LEN)
    }

    /// The data field (as transmitted: ciphertext if the frame is encrypted).
    pub fn data(&self) -> &[u8] {
        let end = field::DATA + usize::from(self.data_len());
        self.buffer
            .as_ref()
            .get(field::DATA..end)
            .unwrap_or_default()
    }

    /// The stored checksum, if the checksum flag is set.
    pub fn checksum(&self) -> Option<u16> {
        if !self.control().contains(FrameControl::CHECKSUM) {
            return None;
        }
        let at = field::DATA + usize::from(self.data_len());
        Some(u16::from_le_bytes([self.byte(at), self.byte(at + 1)]))
    }

    /// Whether the stored checksum matches the data; `true` if there is none. Call it on the
    /// plaintext (decrypt first).
    pub fn verify_checksum(&self) -> bool {
        self.checksum()
            .is_none_or(|stored| stored == crc::frame_checksum(self.sequence(), self.data()))
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Frame<T> {
    fn set_byte(&mut self, index: usize, value: u8) {
        if let Some(byte) = self.buffer.as_mut().get_mut(index) {
            *byte = value;
        }
    }

    /// Sets the type byte.
    pub fn set_type_byte(&mut self, value: u8) {
        self.set_byte(field::TYPE, value);
    }

    /// Sets the frame control flags.
    pub fn set_control(&mut self, value: FrameControl) {
        self.set_byte(field::CONTROL, value.0);
    }

    /// Sets the sequence number.
    pub fn set_sequence(&mut self, value: u8) {
        self.set_byte(field::SEQUENCE, value);
    }

    /// Sets the data length.
    pub fn set_data_len(&mut self, value: u8) {
        self.set_byte(field::DATA_LEN, value);
    }

    /// The data field, mutable (to decrypt or encrypt in place).
    pub fn data_mut(&mut self) -> &mut [u8] {
        let end = field::DATA + usize::from(self.data_len());
        self.buffer
            .as_mut()
            .get_mut(field::DATA..end)
            .unwrap_or_default()
    }

    /// Computes the checksum over the current (plaintext) data and stores it, if the checksum
    /// flag is set.
    pub fn fill_checksum(&mut self) {
        if !self.control().contains(FrameControl::CHECKSUM) {
            return;
        }
        let value = crc::frame_checksum(self.sequence(), self.data()).to_le_bytes();
        let at = field::DATA + usize::from(self.data_len());
        self.set_byte(at, value[0]);
        self.set_byte(at + 1, value[1]);
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Frame<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// The meaning of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr<'a> {
    /// Frame type and subtype.
    pub kind: Kind,
    /// Flags, as transmitted.
    pub control: FrameControl,
    /// Sequence number.
    pub sequence: u8,
    /// The data field (plaintext; see the module docs for encrypted frames).
    pub data: &'a [u8],
}

impl<'a> Repr<'a> {
    /// Parses a frame: length, frame type, and the checksum if present.
    ///
    /// # Errors
    /// [`Error::InvalidMessage`] for a bad length or a reserved frame type, [`Error::Checksum`]
    /// if the checksum does not match the data.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(frame: &Frame<&'a T>) -> Result<Self> {
        frame.check_len()?;
        let kind = frame
            .kind()
            .ok_or(Error::InvalidMessage("reserved frame type"))?;
        if !frame.verify_checksum() {
            return Err(Error::Checksum);
        }
        let buffer: &'a T = frame.buffer;
        let bytes: &'a [u8] = <T as AsRef<[u8]>>::as_ref(buffer);
        let end = field::DATA + usize::from(frame.data_len());
        let data = bytes.get(field::DATA..end).unwrap_or_default();
        Ok(Self {
            kind,
            control: frame.control(),
            sequence: frame.sequence(),
            data,
        })
    }

    /// The exact number of bytes [`Repr::emit`] writes.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        let checksum = if self.control.contains(FrameControl::CHECKSUM) {
            CHECKSUM_LEN
        } else {
            0
        };
        HEADER_LEN + self.data.len() + checksum
    }

    /// Writes the frame (header, data, checksum if flagged) into the first
    /// [`Repr::buffer_len`] bytes of the buffer.
    ///
    /// # Errors
    /// [`Error::ApiMisuse`] if the data is longer than 255 bytes, the subtype does not fit or the
    /// buffer is too short.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, frame: &mut Frame<T>) -> Result<()> {
        let data_len = u8::try_from(self.data.len())
            .map_err(|_| Error::ApiMisuse("frame data longer than 255 bytes"))?;
        let type_byte = self.kind.type_byte()?;
        if frame.buffer.as_ref().len() < self.buffer_len() {
            return Err(Error::ApiMisuse("buffer shorter than the frame"));
        }
        frame.set_type_byte(type_byte);
        frame.set_control(self.control);
        frame.set_sequence(self.sequence);
        frame.set_data_len(data_len);
        frame.data_mut().copy_from_slice(self.data);
        frame.fill_checksum();
        Ok(())
    }

    /// Emits into a new vector of exactly [`Repr::buffer_len`] bytes.
    ///
    /// # Errors
    /// As [`Repr::emit`].
    pub fn to_vec(&self) -> Result<alloc::vec::Vec<u8>> {
        let mut frame = Frame::new_unchecked(alloc::vec![0u8; self.buffer_len()]);
        self.emit(&mut frame)?;
        Ok(frame.into_inner())
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::panic)] // tests may index and panic
mod tests {
    use super::*;
    use alloc::vec;

    /// Spec §7.3: SET_SEC_MODE(0x03), seq 3, checksum only.
    const SET_SECURITY_MODE: [u8; 7] = [0x04, 0x02, 0x03, 0x01, 0x03, 0x61, 0x69];
    /// A device ACK of sequence 0, its own sequence 5, no checksum.
    const ACK: [u8; 5] = [0x00, 0x04, 0x05, 0x01, 0x00];

    #[test]
    fn deconstructs_set_security_mode() {
        let frame = Frame::new_checked(&SET_SECURITY_MODE[..]).expect("valid");
        assert_eq!(frame.type_byte(), 0x04);
        assert_eq!(
            frame.kind(),
            Some(Kind::Control(ControlSubtype::SetSecurityMode))
        );
        assert_eq!(frame.control(), FrameControl::CHECKSUM);
        assert_eq!(frame.sequence(), 3);
        assert_eq!(frame.data_len(), 1);
        assert_eq!(frame.data(), &[0x03]);
        assert_eq!(frame.checksum(), Some(0x6961));
        assert!(frame.verify_checksum());
    }

    #[test]
    fn parses_set_security_mode() {
        let frame = Frame::new_checked(&SET_SECURITY_MODE[..]).expect("valid");
        let repr = Repr::parse(&frame).expect("parses");
        assert_eq!(
            repr,
            Repr {
                kind: Kind::Control(ControlSubtype::SetSecurityMode),
                control: FrameControl::CHECKSUM,
                sequence: 3,
                data: &[0x03],
            }
        );
    }

    #[test]
    fn emits_set_security_mode_into_filled_buffer() {
        let repr = Repr {
            kind: Kind::Control(ControlSubtype::SetSecurityMode),
            control: FrameControl::CHECKSUM,
            sequence: 3,
            data: &[0x03],
        };
        assert_eq!(repr.buffer_len(), SET_SECURITY_MODE.len());
        let mut frame = Frame::new_unchecked(vec![0xa5; repr.buffer_len()]);
        repr.emit(&mut frame).expect("emits");
        assert_eq!(frame.into_inner(), SET_SECURITY_MODE);
    }

    #[test]
    fn constructs_ack_with_setters() {
        let mut frame = Frame::new_unchecked([0xa5u8; 5]);
        frame.set_type_byte(0x00);
        frame.set_control(FrameControl::TO_PHONE);
        frame.set_sequence(5);
        frame.set_data_len(1);
        frame.data_mut().copy_from_slice(&[0x00]);
        frame.fill_checksum();
        assert_eq!(frame.into_inner(), ACK);
    }

    #[test]
    fn emit_leaves_bytes_after_the_frame() {
        let repr = Repr {
            kind: Kind::Control(ControlSubtype::Ack),
            control: FrameControl::TO_PHONE,
            sequence: 5,
            data: &[0x00],
        };
        let mut frame = Frame::new_unchecked([0xa5u8; 8]);
        repr.emit(&mut frame).expect("emits");
        assert_eq!(frame.into_inner(), [0, 4, 5, 1, 0, 0xa5, 0xa5, 0xa5]);
    }

    #[test]
    fn rejects_every_truncation() {
        for frame in [&SET_SECURITY_MODE[..], &ACK[..]] {
            for n in 0..frame.len() {
                let prefix = frame.get(..n).expect("prefix");
                assert!(
                    matches!(Frame::new_checked(prefix), Err(Error::InvalidMessage(_))),
                    "prefix of {n} bytes accepted"
                );
            }
        }
    }

    #[test]
    fn rejects_trailing_bytes() {
        let mut long = SET_SECURITY_MODE.to_vec();
        long.push(0);
        assert!(Frame::new_checked(&long[..]).is_err());
    }

    #[test]
    fn rejects_checksum_flag_without_checksum_bytes() {
        // ACK with the checksum flag but no checksum.
        assert!(Frame::new_checked(&[0x00, 0x06, 0x05, 0x01, 0x00][..]).is_err());
    }

    #[test]
    fn rejects_bad_checksum() {
        let mut bad = SET_SECURITY_MODE;
        bad[5] ^= 1;
        let frame = Frame::new_checked(&bad[..]).expect("length ok");
        assert_eq!(Repr::parse(&frame), Err(Error::Checksum));
        let mut bad = SET_SECURITY_MODE;
        bad[4] = 0x33;
        let frame = Frame::new_checked(&bad[..]).expect("length ok");
        assert_eq!(Repr::parse(&frame), Err(Error::Checksum));
    }

    #[test]
    fn rejects_reserved_frame_type() {
        for type_byte in [0x02, 0x03, 0xfe, 0xff] {
            let bytes = [type_byte, 0, 0, 0];
            let frame = Frame::new_checked(&bytes[..]).expect("length ok");
            assert_eq!(frame.kind(), None);
            assert!(matches!(Repr::parse(&frame), Err(Error::InvalidMessage(_))));
        }
    }

    #[test]
    fn unchecked_accessors_do_not_panic_on_empty_buffer() {
        let frame = Frame::new_unchecked(&[][..]);
        assert_eq!(frame.sequence(), 0);
        assert_eq!(frame.data(), &[] as &[u8]);
        let frame = Frame::new_unchecked(&[0x09, 0x02, 0x00, 0xff][..]);
        assert_eq!(frame.data(), &[] as &[u8]);
        assert_eq!(frame.checksum(), Some(0));
    }

    #[test]
    fn type_byte_round_trips_every_value() {
        for byte in 0..=255u8 {
            match Kind::from_type_byte(byte) {
                Some(kind) => assert_eq!(kind.type_byte(), Ok(byte)),
                None => assert!(byte & 0x03 >= 2),
            }
        }
        assert_eq!(
            Kind::Data(DataSubtype::StaSsid).type_byte(),
            Ok(0x09),
            "STA_SSID is 1 | 2 << 2"
        );
        assert!(Kind::Data(DataSubtype::Unknown(64)).type_byte().is_err());
    }

    #[test]
    fn subtypes_round_trip_through_u8() {
        for value in 0..=255u8 {
            assert_eq!(u8::from(ControlSubtype::from(value)), value);
            assert_eq!(u8::from(DataSubtype::from(value)), value);
        }
        assert_eq!(ControlSubtype::from(0x09), ControlSubtype::GetWifiList);
        assert_eq!(ControlSubtype::from(0x0a), ControlSubtype::Unknown(0x0a));
        assert_eq!(DataSubtype::from(0x16), DataSubtype::StaConnectionRssi);
        assert_eq!(DataSubtype::from(0x17), DataSubtype::Unknown(0x17));
    }

    #[test]
    fn emit_rejects_long_data_and_short_buffer() {
        let data = [0u8; 256];
        let repr = Repr {
            kind: Kind::Data(DataSubtype::CustomData),
            control: FrameControl::EMPTY,
            sequence: 0,
            data: &data,
        };
        assert!(matches!(repr.to_vec(), Err(Error::ApiMisuse(_))));
        let repr = Repr {
            data: &data[..3],
            ..repr
        };
        let mut frame = Frame::new_unchecked([0u8; 6]);
        assert!(matches!(repr.emit(&mut frame), Err(Error::ApiMisuse(_))));
    }

    #[test]
    fn frame_control_flags() {
        let mut control = FrameControl::ENCRYPTED | FrameControl::CHECKSUM;
        assert_eq!(control.bits(), 0x03);
        assert!(control.contains(FrameControl::CHECKSUM));
        control.remove(FrameControl::ENCRYPTED);
        control.insert(FrameControl::FRAGMENT);
        assert_eq!(u8::from(control), 0x12);
        assert_eq!(control.with(FrameControl::FRAGMENT, false).bits(), 0x02);
        assert_eq!(
            alloc::format!("{:?}", FrameControl::from(0x1c)),
            "FrameControl(0x1c TO_PHONE ACK_REQUESTED FRAGMENT)"
        );
    }
}
