//! The device role (GATT server) of one BLE connection.

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::fmt;

use rand_core::{CryptoRng, RngCore};
use zeroize::Zeroizing;

use crate::frame::{ControlSubtype, DataSubtype, Kind};
use crate::link::{self, Link, Message, Role, Sizing};
use crate::message::{self, ErrorCode, OperationMode, SecurityMode, Status, Version};
use crate::security::{
    self, Generation, NEGOTIATION_PARAMETER_LENGTH, NEGOTIATION_PARAMETERS, Parameters,
};
use crate::{Error, Result};

/// How a [`Device`] behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// The security generation the device implements.
    pub generation: Generation,
    /// What GET_VERSION reports; by default [`Generation::default_version`] (1.3 for V1, 1.4
    /// for V2 — the Android app picks its crypto from this).
    pub version: Version,
    /// How outgoing messages are split; by default [`Sizing::device`] at MTU 23.
    pub sizing: Sizing,
    /// The longest message the device reassembles; by default
    /// [`link::DEFAULT_MAX_MESSAGE_LEN`].
    pub max_message_len: usize,
}

impl Config {
    /// The defaults for a generation.
    #[must_use]
    pub const fn new(generation: Generation) -> Self {
        Self {
            generation,
            version: generation.default_version(),
            sizing: Sizing::device(23),
            max_message_len: link::DEFAULT_MAX_MESSAGE_LEN,
        }
    }

    /// Reports another version.
    #[must_use]
    pub const fn with_version(mut self, version: Version) -> Self {
        self.version = version;
        self
    }

    /// Splits outgoing messages differently.
    #[must_use]
    pub const fn with_sizing(mut self, sizing: Sizing) -> Self {
        self.sizing = sizing;
        self
    }

    /// Bounds reassembled messages differently.
    #[must_use]
    pub const fn with_max_message_len(mut self, max_message_len: usize) -> Self {
        self.max_message_len = max_message_len;
        self
    }
}

/// Station credentials as the phone sent them (the password is zeroized on drop and hidden
/// from `Debug`). The device does not check lengths or encodings: that is the application's
/// job (ESP-IDF's example answers a too-long SSID with a data-format error).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Credentials {
    /// STA_SSID.
    pub ssid: Vec<u8>,
    /// STA_PASSWD.
    pub password: Zeroizing<Vec<u8>>,
    /// STA_BSSID, if sent.
    pub bssid: Option<[u8; 6]>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("ssid", &self.ssid)
            .field("password", &crate::Redacted(self.password.len()))
            .field("bssid", &self.bssid)
            .finish()
    }
}

/// What the phone asked for; the application acts on it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// SET_WIFI_OPMODE.
    OperationMode(OperationMode),
    /// The negotiation completed; the device's public key is queued.
    SecurityEstablished,
    /// SET_SEC_MODE: the device now sends with this mode.
    SecurityMode(SecurityMode),
    /// CONNECT_TO_AP, with the credentials received so far. Answer later with
    /// [`Device::send_status`].
    ConnectRequested(Credentials),
    /// DISCONNECT_FROM_AP.
    DisconnectFromAp,
    /// GET_WIFI_STATUS: answer with [`Device::send_status`].
    StatusRequested,
    /// GET_WIFI_LIST: scan, then answer with [`Device::send_wifi_list`] (or
    /// [`Device::send_error`] with [`ErrorCode::WifiScanFailed`]).
    WifiListRequested,
    /// DEAUTHENTICATE_STA: the SoftAP stations to drop.
    Deauthenticate(Vec<[u8; 6]>),
    /// CUSTOM_DATA.
    Custom(Vec<u8>),
    /// DISCONNECT_BLE: close the connection (then call [`Device::reset`]).
    DisconnectBle,
    /// Any other message (SoftAP settings, enterprise credentials, unknown subtypes).
    Other(Message),
}

enum Negotiation {
    Idle,
    ExpectParameters { len: usize },
}

/// The device side of one BluFi connection, sans-IO.
///
/// Drive it like this, for every BLE connection:
///
/// 1. On connect (or after an MTU exchange) optionally [`Device::set_sizing`]; on disconnect
///    [`Device::reset`].
/// 2. Feed every GATT write to characteristic 0xFF01 to [`Device::handle_write`] (one write =
///    one frame; long writes reassembled by the GATT layer first).
/// 3. After each call (including failed ones: error reports are queued), notify every frame of
///    [`Device::poll_transmit`] on 0xFF02, in order, and act on every [`Device::poll_event`].
/// 4. Answer events with [`Device::send_status`], [`Device::send_wifi_list`],
///    [`Device::send_custom`], [`Device::send_error`], then drain `poll_transmit` again.
///
/// The device answers GET_VERSION, the negotiation and ACK requests by itself.
pub struct Device {
    config: Config,
    link: Link,
    negotiation: Negotiation,
    credentials: Credentials,
    events: VecDeque<Event>,
}

impl fmt::Debug for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Device")
            .field("config", &self.config)
            .field("link", &self.link)
            .finish_non_exhaustive()
    }
}

/// The ERROR_INFO code for a link-layer failure.
fn link_error_code(error: &Error) -> ErrorCode {
    match error {
        Error::Sequence { .. } => ErrorCode::Sequence,
        Error::Checksum => ErrorCode::Checksum,
        Error::Crypto(_) => ErrorCode::Decrypt,
        _ => ErrorCode::DataFormat,
    }
}

impl Device {
    /// A device waiting for its first frame.
    #[must_use]
    pub fn new(config: Config) -> Self {
        Self {
            config,
            link: Link::new(Role::Device, config.sizing, config.max_message_len),
            negotiation: Negotiation::Idle,
            credentials: Credentials::default(),
            events: VecDeque::new(),
        }
    }

    /// The configuration.
    #[must_use]
    pub const fn config(&self) -> &Config {
        &self.config
    }

    /// Changes how outgoing messages are split (e.g. `Sizing::device(mtu)` after an MTU
    /// exchange).
    pub fn set_sizing(&mut self, sizing: Sizing) {
        self.config.sizing = sizing;
        self.link.set_sizing(sizing);
    }

    /// Forgets the connection: counters back to 0, plaintext, key, credentials, queued frames
    /// and events dropped. Call it on every disconnect.
    pub fn reset(&mut self) {
        self.link.reset();
        self.negotiation = Negotiation::Idle;
        self.credentials = Credentials::default();
        self.events.clear();
    }

    /// Whether a key has been negotiated.
    #[must_use]
    pub const fn is_secure(&self) -> bool {
        self.link.has_cipher()
    }

    /// The mode the device sends with (set by the phone's SET_SEC_MODE).
    #[must_use]
    pub const fn security_mode(&self) -> SecurityMode {
        self.link.security_mode()
    }

    /// The credentials received so far.
    #[must_use]
    pub const fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The next frame to notify on 0xFF02.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.link.poll_transmit()
    }

    /// The next thing the phone asked for.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Handles one write to 0xFF01. Randomness is drawn only for the negotiation.
    ///
    /// On failure the matching ERROR_INFO is already queued and the frame or message dropped;
    /// the connection goes on (counters as the sequence rules leave them, key kept).
    ///
    /// # Errors
    /// [`Error::InvalidMessage`] (code 9 data format, 6 DH parameter, 7 read parameter),
    /// [`Error::Sequence`] (code 0), [`Error::Checksum`] (code 1), [`Error::Crypto`] (code 2,
    /// encrypted frame before negotiation), [`Error::PeerMisbehaved`] (DH values out of range:
    /// code 7; parameters without their length: 6; encryption requested before negotiation:
    /// code 4), [`Error::Unsupported`] (a DH prime above 1024 bits: 7; an unknown negotiation
    /// message: 9).
    pub fn handle_write(
        &mut self,
        bytes: &[u8],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<()> {
        let message = match self.link.handle_frame(bytes) {
            Ok(Some(message)) => message,
            Ok(None) => return Ok(()),
            Err(error) => return Err(self.report(link_error_code(&error), error)),
        };
        self.dispatch(message, rng)
    }

    /// Queues ERROR_INFO and hands the error back.
    fn report(&mut self, code: ErrorCode, error: Error) -> Error {
        // ERROR_INFO is never encrypted by the device, so this cannot fail.
        let _ = self.send_error(code);
        error
    }

    fn dispatch(&mut self, message: Message, rng: &mut (impl RngCore + CryptoRng)) -> Result<()> {
        let event = match message.kind {
            Kind::Control(subtype) => match subtype {
                ControlSubtype::Ack => return Ok(()),
                ControlSubtype::SetSecurityMode => {
                    let mode = SecurityMode::from(self.single_byte(&message.data)?);
                    if mode.encrypts() && !self.link.has_cipher() {
                        return Err(self.report(
                            ErrorCode::InitSecurity,
                            Error::PeerMisbehaved("encryption requested before negotiation"),
                        ));
                    }
                    self.link.set_security_mode(mode);
                    Event::SecurityMode(mode)
                }
                ControlSubtype::SetOperationMode => {
                    Event::OperationMode(self.single_byte(&message.data)?.into())
                }
                ControlSubtype::ConnectToAp => Event::ConnectRequested(self.credentials.clone()),
                ControlSubtype::DisconnectFromAp => Event::DisconnectFromAp,
                ControlSubtype::GetWifiStatus => Event::StatusRequested,
                ControlSubtype::DeauthenticateSta => {
                    let chunks = message.data.chunks_exact(6);
                    if !chunks.remainder().is_empty() {
                        return Err(self.report(
                            ErrorCode::DataFormat,
                            Error::InvalidMessage("station list not a multiple of 6 bytes"),
                        ));
                    }
                    Event::Deauthenticate(
                        chunks
                            .filter_map(|mac| <[u8; 6]>::try_from(mac).ok())
                            .collect(),
                    )
                }
                ControlSubtype::GetVersion => {
                    let version = self.config.version.to_bytes();
                    return self
                        .link
                        .send(Kind::Data(DataSubtype::ReplyVersion), &version, false)
                        .map_err(|error| self.report(ErrorCode::Encrypt, error));
                }
                ControlSubtype::DisconnectBle => Event::DisconnectBle,
                ControlSubtype::GetWifiList => Event::WifiListRequested,
                ControlSubtype::Unknown(_) => Event::Other(message),
            },
            Kind::Data(subtype) => match subtype {
                DataSubtype::Negotiation => return self.negotiate(&message.data, rng),
                DataSubtype::StaBssid => {
                    let bssid = <[u8; 6]>::try_from(message.data.as_slice()).map_err(|_| {
                        self.report(
                            ErrorCode::DataFormat,
                            Error::InvalidMessage("BSSID is not 6 bytes"),
                        )
                    })?;
                    self.credentials.bssid = Some(bssid);
                    return Ok(());
                }
                DataSubtype::StaSsid => {
                    self.credentials.ssid = message.data;
                    return Ok(());
                }
                DataSubtype::StaPassword => {
                    self.credentials.password = Zeroizing::new(message.data);
                    return Ok(());
                }
                DataSubtype::CustomData => Event::Custom(message.data),
                _ => Event::Other(message),
            },
        };
        self.events.push_back(event);
        Ok(())
    }

    fn single_byte(&mut self, data: &[u8]) -> Result<u8> {
        match *data {
            [byte] => Ok(byte),
            _ => Err(self.report(
                ErrorCode::DataFormat,
                Error::InvalidMessage("control data is not 1 byte"),
            )),
        }
    }

    fn negotiate(&mut self, data: &[u8], rng: &mut (impl RngCore + CryptoRng)) -> Result<()> {
        match *data {
            [] => Err(self.report(
                ErrorCode::DataFormat,
                Error::InvalidMessage("empty negotiation message"),
            )),
            [NEGOTIATION_PARAMETER_LENGTH, ref rest @ ..] => {
                let [high, low] = *rest else {
                    return Err(self.report(
                        ErrorCode::DataFormat,
                        Error::InvalidMessage("parameter length message is not 3 bytes"),
                    ));
                };
                self.negotiation = Negotiation::ExpectParameters {
                    len: usize::from(u16::from_be_bytes([high, low])),
                };
                Ok(())
            }
            [NEGOTIATION_PARAMETERS, ref blob @ ..] => {
                let Negotiation::ExpectParameters { len } =
                    core::mem::replace(&mut self.negotiation, Negotiation::Idle)
                else {
                    return Err(self.report(
                        ErrorCode::DhParameter,
                        Error::PeerMisbehaved("DH parameters before their length"),
                    ));
                };
                if blob.len() != len {
                    return Err(self.report(
                        ErrorCode::DhParameter,
                        Error::InvalidMessage("DH parameters disagree with the announced length"),
                    ));
                }
                let response = Parameters::parse(blob)
                    .and_then(|parameters| {
                        security::device_respond(self.config.generation, &parameters, rng)
                    })
                    .map_err(|error| self.report(ErrorCode::ReadParameter, error))?;
                self.link
                    .send(
                        Kind::Data(DataSubtype::Negotiation),
                        &response.public,
                        false,
                    )
                    .map_err(|error| self.report(ErrorCode::MakePublic, error))?;
                self.link.set_cipher(Some(response.cipher));
                self.events.push_back(Event::SecurityEstablished);
                Ok(())
            }
            [_, ..] => Err(self.report(
                ErrorCode::DataFormat,
                Error::Unsupported("negotiation message type"),
            )),
        }
    }

    /// Queues a Wi-Fi report (WIFI_REP), e.g. after CONNECT_TO_AP or GET_WIFI_STATUS.
    ///
    /// # Errors
    /// [`Error::ApiMisuse`] if a TLV is longer than 255 bytes; [`Error::Crypto`] if the mode
    /// requires encryption without a key (the device refuses such a mode, so only after
    /// misuse).
    pub fn send_status(&mut self, status: &Status) -> Result<()> {
        let data = status.to_vec()?;
        self.link
            .send(Kind::Data(DataSubtype::WifiReport), &data, false)
    }

    /// Queues scan results (WIFI_LIST).
    ///
    /// # Errors
    /// [`Error::ApiMisuse`] if an SSID is longer than 254 bytes or the list longer than 65535
    /// bytes; [`Error::Crypto`] as for [`Device::send_status`].
    pub fn send_wifi_list<S: AsRef<[u8]>>(&mut self, networks: &[(S, i8)]) -> Result<()> {
        let data = message::wifi_list_to_vec(networks)?;
        self.link
            .send(Kind::Data(DataSubtype::WifiList), &data, false)
    }

    /// Queues CUSTOM_DATA.
    ///
    /// # Errors
    /// [`Error::ApiMisuse`] if longer than 65535 bytes; [`Error::Crypto`] as for
    /// [`Device::send_status`].
    pub fn send_custom(&mut self, data: &[u8]) -> Result<()> {
        self.link
            .send(Kind::Data(DataSubtype::CustomData), data, false)
    }

    /// Queues ERROR_INFO (never encrypted or checksummed).
    ///
    /// # Errors
    /// None in practice; the signature matches the other senders.
    pub fn send_error(&mut self, code: ErrorCode) -> Result<()> {
        self.link
            .send(Kind::Data(DataSubtype::ErrorInfo), &[code.into()], false)
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::panic)] // tests may index and panic
mod tests {
    use super::*;
    use crate::frame::{FrameControl, Repr};
    use alloc::vec;
    use rand::SeedableRng as _;
    use rand::rngs::StdRng;

    fn frame(kind: Kind, control: FrameControl, sequence: u8, data: &[u8]) -> Vec<u8> {
        Repr {
            kind,
            control,
            sequence,
            data,
        }
        .to_vec()
        .expect("emits")
    }

    fn drain(device: &mut Device) -> Vec<Vec<u8>> {
        core::iter::from_fn(|| device.poll_transmit()).collect()
    }

    #[test]
    fn answers_get_version_with_configured_version() {
        let mut rng = StdRng::seed_from_u64(0);
        let mut device = Device::new(Config::new(Generation::V2));
        let request = frame(
            Kind::Control(ControlSubtype::GetVersion),
            FrameControl::EMPTY,
            0,
            &[],
        );
        device.handle_write(&request, &mut rng).expect("handled");
        // REPLY_VERSION = data subtype 0x10: type 0x41, fc TO_PHONE, seq 0, 1.4.
        assert_eq!(
            drain(&mut device),
            [vec![0x41, 0x04, 0x00, 0x02, 0x01, 0x04]]
        );
        let mut device = Device::new(Config::new(Generation::V1));
        device.handle_write(&request, &mut rng).expect("handled");
        assert_eq!(
            drain(&mut device),
            [vec![0x41, 0x04, 0x00, 0x02, 0x01, 0x03]]
        );
    }

    #[test]
    fn acks_set_operation_mode_then_reports_it() {
        let mut rng = StdRng::seed_from_u64(0);
        let mut device = Device::new(Config::new(Generation::V1));
        let request = frame(
            Kind::Control(ControlSubtype::SetOperationMode),
            FrameControl::ACK_REQUESTED,
            0,
            &[1],
        );
        device.handle_write(&request, &mut rng).expect("handled");
        assert_eq!(drain(&mut device), [vec![0x00, 0x04, 0x00, 0x01, 0x00]]);
        assert_eq!(
            device.poll_event(),
            Some(Event::OperationMode(OperationMode::Station))
        );
        assert_eq!(device.poll_event(), None);
    }

    #[test]
    fn reports_sequence_error_and_drops_frame() {
        let mut rng = StdRng::seed_from_u64(0);
        let mut device = Device::new(Config::new(Generation::V1));
        let request = frame(
            Kind::Control(ControlSubtype::GetWifiStatus),
            FrameControl::EMPTY,
            1,
            &[],
        );
        assert_eq!(
            device.handle_write(&request, &mut rng),
            Err(Error::Sequence {
                expected: 0,
                got: 1
            })
        );
        // ERROR_INFO 0x12 → type 0x49, code 0.
        assert_eq!(drain(&mut device), [vec![0x49, 0x04, 0x00, 0x01, 0x00]]);
        assert_eq!(device.poll_event(), None);
        let request = frame(
            Kind::Control(ControlSubtype::GetWifiStatus),
            FrameControl::EMPTY,
            0,
            &[],
        );
        device
            .handle_write(&request, &mut rng)
            .expect("counter unchanged");
        assert_eq!(device.poll_event(), Some(Event::StatusRequested));
    }

    #[test]
    fn reports_data_format_and_checksum_errors() {
        let mut rng = StdRng::seed_from_u64(0);
        let mut device = Device::new(Config::new(Generation::V1));
        assert!(matches!(
            device.handle_write(&[0x04, 0x02], &mut rng),
            Err(Error::InvalidMessage(_))
        ));
        assert_eq!(drain(&mut device), [vec![0x49, 0x04, 0x00, 0x01, 0x09]]);
        let mut bad = frame(
            Kind::Control(ControlSubtype::SetSecurityMode),
            FrameControl::CHECKSUM,
            0,
            &[0x00],
        );
        bad[5] ^= 0xff;
        assert_eq!(device.handle_write(&bad, &mut rng), Err(Error::Checksum));
        assert_eq!(drain(&mut device), [vec![0x49, 0x04, 0x01, 0x01, 0x01]]);
    }

    #[test]
    fn refuses_encryption_before_negotiation() {
        let mut rng = StdRng::seed_from_u64(0);
        let mut device = Device::new(Config::new(Generation::V1));
        let request = frame(
            Kind::Control(ControlSubtype::SetSecurityMode),
            FrameControl::EMPTY,
            0,
            &[0x03],
        );
        assert!(matches!(
            device.handle_write(&request, &mut rng),
            Err(Error::PeerMisbehaved(_))
        ));
        assert_eq!(drain(&mut device), [vec![0x49, 0x04, 0x00, 0x01, 0x04]]);
        assert_eq!(device.security_mode(), SecurityMode::PLAINTEXT);
        let encrypted = frame(
            Kind::Data(DataSubtype::StaSsid),
            FrameControl::ENCRYPTED,
            1,
            b"x",
        );
        assert!(matches!(
            device.handle_write(&encrypted, &mut rng),
            Err(Error::Crypto(_))
        ));
        assert_eq!(drain(&mut device), [vec![0x49, 0x04, 0x01, 0x01, 0x02]]);
    }

    #[test]
    fn negotiation_errors_carry_their_codes() {
        let mut rng = StdRng::seed_from_u64(0);
        let neg = Kind::Data(DataSubtype::Negotiation);
        let cases: [(&[&[u8]], u8); 5] = [
            (&[&[0x01, 0, 1, 5, 0, 1, 2, 0, 1, 3]], 6), // parameters without length
            (&[&[0x00, 0, 5], &[0x01, 0, 0, 0]], 6),    // length mismatch
            (&[&[0x00, 0, 3], &[0x01, 0, 9, 0]], 7),    // truncated field
            (&[&[0x00, 0, 9], &[0x01, 0, 1, 23, 0, 1, 5, 0, 1, 1]], 7), // pub = 1
            (&[&[0x07]], 9),                            // unknown type
        ];
        for (i, (messages, code)) in cases.into_iter().enumerate() {
            let mut device = Device::new(Config::new(Generation::V1));
            let mut last = Ok(());
            for (sequence, data) in messages.iter().enumerate() {
                last = device.handle_write(
                    &frame(neg, FrameControl::EMPTY, sequence as u8, data),
                    &mut rng,
                );
            }
            assert!(last.is_err(), "case {i}");
            assert_eq!(
                drain(&mut device),
                [vec![0x49, 0x04, 0x00, 0x01, code]],
                "case {i}"
            );
            assert!(!device.is_secure(), "case {i}");
        }
    }

    #[test]
    fn collects_credentials_for_connect() {
        let mut rng = StdRng::seed_from_u64(0);
        let mut device = Device::new(Config::new(Generation::V1));
        let writes = [
            frame(
                Kind::Data(DataSubtype::StaBssid),
                FrameControl::EMPTY,
                0,
                &[1, 2, 3, 4, 5, 6],
            ),
            frame(
                Kind::Data(DataSubtype::StaSsid),
                FrameControl::EMPTY,
                1,
                b"HomeNet",
            ),
            frame(
                Kind::Data(DataSubtype::StaPassword),
                FrameControl::EMPTY,
                2,
                b"secret123",
            ),
            frame(
                Kind::Control(ControlSubtype::ConnectToAp),
                FrameControl::EMPTY,
                3,
                &[],
            ),
        ];
        for write in &writes {
            device.handle_write(write, &mut rng).expect("handled");
        }
        let expected = Credentials {
            ssid: b"HomeNet".to_vec(),
            password: Zeroizing::new(b"secret123".to_vec()),
            bssid: Some([1, 2, 3, 4, 5, 6]),
        };
        assert_eq!(device.poll_event(), Some(Event::ConnectRequested(expected)));
        assert!(!alloc::format!("{:?}", device.credentials()).contains("secret123"));
        device.reset();
        assert_eq!(device.credentials(), &Credentials::default());
    }

    #[test]
    fn passes_other_messages_through() {
        let mut rng = StdRng::seed_from_u64(0);
        let mut device = Device::new(Config::new(Generation::V1));
        let writes = [
            frame(
                Kind::Data(DataSubtype::SoftApChannel),
                FrameControl::EMPTY,
                0,
                &[6],
            ),
            frame(
                Kind::Control(ControlSubtype::DeauthenticateSta),
                FrameControl::EMPTY,
                1,
                &[1; 12],
            ),
            frame(
                Kind::Control(ControlSubtype::Unknown(0x20)),
                FrameControl::EMPTY,
                2,
                &[],
            ),
        ];
        for write in &writes {
            device.handle_write(write, &mut rng).expect("handled");
        }
        assert_eq!(
            device.poll_event(),
            Some(Event::Other(Message {
                kind: Kind::Data(DataSubtype::SoftApChannel),
                data: vec![6]
            }))
        );
        assert_eq!(
            device.poll_event(),
            Some(Event::Deauthenticate(vec![[1; 6]; 2]))
        );
        assert!(matches!(device.poll_event(), Some(Event::Other(_))));
        let bad = frame(
            Kind::Control(ControlSubtype::DeauthenticateSta),
            FrameControl::EMPTY,
            3,
            &[1; 7],
        );
        assert!(device.handle_write(&bad, &mut rng).is_err());
    }

    #[test]
    fn debug_hides_passwords_half_received_and_delivered() {
        const SECRET: &[u8] = b"S3cr3t-Pa55";
        let mut rng = StdRng::seed_from_u64(0);
        let mut device = Device::new(Config::new(Generation::V1));
        let password = Kind::Data(DataSubtype::StaPassword);
        // The first fragment: total 11, 6 bytes of content.
        let mut first = vec![11, 0];
        first.extend_from_slice(&SECRET[..6]);
        device
            .handle_write(
                &frame(password, FrameControl::FRAGMENT, 0, &first),
                &mut rng,
            )
            .expect("handled");
        crate::test_support::assert_hidden(&alloc::format!("{device:?}"), &SECRET[..6]);
        device
            .handle_write(
                &frame(password, FrameControl::EMPTY, 1, &SECRET[6..]),
                &mut rng,
            )
            .expect("handled");
        let soft_ap = Kind::Data(DataSubtype::SoftApPassword);
        device
            .handle_write(&frame(soft_ap, FrameControl::EMPTY, 2, SECRET), &mut rng)
            .expect("handled");
        let connect = Kind::Control(ControlSubtype::ConnectToAp);
        device
            .handle_write(&frame(connect, FrameControl::EMPTY, 3, &[]), &mut rng)
            .expect("handled");
        let debug = alloc::format!("{:?}", device.credentials());
        crate::test_support::assert_hidden(&debug, SECRET);
        assert!(debug.contains("password: <11 bytes>"), "{debug}");
        let events: Vec<Event> = core::iter::from_fn(|| device.poll_event()).collect();
        assert!(matches!(
            events.as_slice(),
            [Event::Other(_), Event::ConnectRequested(_)]
        ));
        crate::test_support::assert_hidden(&alloc::format!("{events:?}"), SECRET);
        crate::test_support::assert_hidden(&alloc::format!("{device:?}"), SECRET);
    }
}
