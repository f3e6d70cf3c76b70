//! The phone role (GATT client) of one BLE connection.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use rand_core::{CryptoRng, RngCore};

use crate::frame::{ControlSubtype, DataSubtype, Kind};
use crate::link::{self, Link, Message, Role, Sizing};
use crate::message::{self, ErrorCode, Network, OperationMode, SecurityMode, Status, Version};
use crate::security::{Generation, Handshake};
use crate::{Error, Result};

/// How a [`Client`] behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// The security generation; `None` (the default) picks it from the device's version like
    /// the Android app (< 1.4 → V1, ≥ 1.4 → V2), so [`Client::request_version`] must have been
    /// answered before [`Client::negotiate`].
    pub generation: Option<Generation>,
    /// How outgoing messages are split; by default [`Sizing::phone_default`] (20-byte frames).
    pub sizing: Sizing,
    /// The longest message the client reassembles; by default
    /// [`link::DEFAULT_MAX_MESSAGE_LEN`].
    pub max_message_len: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}

impl Config {
    /// The defaults.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            generation: None,
            sizing: Sizing::phone_default(),
            max_message_len: link::DEFAULT_MAX_MESSAGE_LEN,
        }
    }

    /// Uses this generation whatever the device's version.
    #[must_use]
    pub const fn with_generation(mut self, generation: Generation) -> Self {
        self.generation = Some(generation);
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

/// What the device sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// REPLY_VERSION.
    Version(Version),
    /// The device's public key arrived; the key is installed. Next: [`Client::set_security_mode`].
    SecurityEstablished,
    /// WIFI_REP.
    Status(Status),
    /// WIFI_LIST: SSIDs and RSSIs.
    WifiList(Vec<Network>),
    /// CUSTOM_DATA.
    Custom(Vec<u8>),
    /// ERROR_INFO.
    DeviceError(ErrorCode),
    /// The device acknowledged the frame with this sequence number.
    Acked(u8),
    /// Any other message.
    Other(Message),
}

/// The phone side of one BluFi connection, sans-IO.
///
/// Call order, as the Android app does it (spec §7.5):
///
/// 1. [`Client::request_version`] → wait for [`Event::Version`];
/// 2. [`Client::negotiate`] → wait for [`Event::SecurityEstablished`];
/// 3. [`Client::set_security_mode`] (`SecurityMode::DATA_PROTECTED`);
/// 4. [`Client::set_operation_mode`] (ACK requested → [`Event::Acked`]);
/// 5. [`Client::send_station`], [`Client::connect`] → wait for [`Event::Status`].
///
/// Every method queues frames: write each [`Client::poll_transmit`] frame to 0xFF01 in order.
/// Feed every notification from 0xFF02 to [`Client::handle_notification`] and act on
/// [`Client::poll_event`]; the client ACKs device frames that ask for it by itself.
///
/// Frames follow the negotiated mode: control frames the high nibble, data frames the low one,
/// NEG frames never protected; SET_SEC_MODE itself always carries a checksum. (The Android app
/// also encrypts SET_WIFI_OPMODE after negotiation whatever the mode; a device decrypts any
/// frame flagged as encrypted, ours included, so both interoperate.)
#[derive(Debug)]
pub struct Client {
    config: Config,
    link: Link,
    version: Option<Version>,
    handshake: Option<Handshake>,
    events: VecDeque<Event>,
}

impl Client {
    /// A client for a new connection.
    #[must_use]
    pub fn new(config: Config) -> Self {
        Self {
            config,
            link: Link::new(Role::Phone, config.sizing, config.max_message_len),
            version: None,
            handshake: None,
            events: VecDeque::new(),
        }
    }

    /// The configuration.
    #[must_use]
    pub const fn config(&self) -> &Config {
        &self.config
    }

    /// Changes how outgoing messages are split (e.g. `Sizing::phone(mtu)` after an MTU
    /// exchange).
    pub fn set_sizing(&mut self, sizing: Sizing) {
        self.config.sizing = sizing;
        self.link.set_sizing(sizing);
    }

    /// Forgets the connection: counters 0, plaintext, key, version, queued frames and events
    /// dropped.
    pub fn reset(&mut self) {
        self.link.reset();
        self.version = None;
        self.handshake = None;
        self.events.clear();
    }

    /// The device's version, once received.
    #[must_use]
    pub const fn version(&self) -> Option<Version> {
        self.version
    }

    /// The generation [`Client::negotiate`] would use now.
    #[must_use]
    pub fn generation(&self) -> Option<Generation> {
        self.config
            .generation
            .or_else(|| self.version.map(Generation::for_version))
    }

    /// Whether a key is installed.
    #[must_use]
    pub const fn is_secure(&self) -> bool {
        self.link.has_cipher()
    }

    /// The mode the client sends with.
    #[must_use]
    pub const fn security_mode(&self) -> SecurityMode {
        self.link.security_mode()
    }

    /// The sequence number the next frame written gets.
    #[must_use]
    pub const fn send_sequence(&self) -> u8 {
        self.link.send_sequence()
    }

    /// The next frame to write to 0xFF01.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.link.poll_transmit()
    }

    /// The next thing the device sent.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn control(&mut self, subtype: ControlSubtype, data: &[u8], ack: bool) -> Result<()> {
        self.link.send(Kind::Control(subtype), data, ack)
    }

    fn data(&mut self, subtype: DataSubtype, data: &[u8]) -> Result<()> {
        self.link.send(Kind::Data(subtype), data, false)
    }

    /// Queues GET_VERSION.
    ///
    /// # Errors
    /// [`Error::Crypto`] if the mode encrypts control frames and no key is installed (cannot
    /// happen through this API).
    pub fn request_version(&mut self) -> Result<()> {
        self.control(ControlSubtype::GetVersion, &[], false)
    }

    /// Queues the two negotiation messages of the configured (or version-derived) generation:
    /// V1 with the 1024-bit group of the apps, V2 with ffdhe3072; G = 2.
    ///
    /// # Errors
    /// [`Error::ApiMisuse`] if no generation is configured and no version has been received.
    pub fn negotiate(&mut self, rng: &mut (impl RngCore + CryptoRng)) -> Result<()> {
        let generation = self.generation().ok_or(Error::ApiMisuse(
            "no generation configured and no device version received",
        ))?;
        let (handshake, [length, parameters]) = Handshake::start(generation, rng)?;
        let negotiation = Kind::Data(DataSubtype::Negotiation);
        self.link.send(negotiation, &length, false)?;
        self.link.send(negotiation, &parameters, false)?;
        self.handshake = Some(handshake);
        Ok(())
    }

    /// Queues SET_SEC_MODE (with a checksum, like the apps) and sends everything after it with
    /// `mode`.
    ///
    /// # Errors
    /// [`Error::ApiMisuse`] if `mode` encrypts and no key is installed.
    pub fn set_security_mode(&mut self, mode: SecurityMode) -> Result<()> {
        if mode.encrypts() && !self.link.has_cipher() {
            return Err(Error::ApiMisuse("encryption requested before negotiation"));
        }
        let kind = Kind::Control(ControlSubtype::SetSecurityMode);
        let mut protection = self.link.protection(kind);
        protection.checksum = true;
        self.link
            .send_with(kind, &[mode.into()], protection, false)?;
        self.link.set_security_mode(mode);
        Ok(())
    }

    /// Queues SET_WIFI_OPMODE with an ACK requested (as the Android app does).
    ///
    /// # Errors
    /// As [`Client::request_version`].
    pub fn set_operation_mode(&mut self, mode: OperationMode) -> Result<()> {
        self.control(ControlSubtype::SetOperationMode, &[mode.into()], true)
    }

    /// Queues STA_BSSID (if given), STA_SSID and STA_PASSWD.
    ///
    /// # Errors
    /// [`Error::ApiMisuse`] if a value is longer than 65535 bytes; nothing is queued then.
    pub fn send_station(
        &mut self,
        ssid: &[u8],
        password: &[u8],
        bssid: Option<[u8; 6]>,
    ) -> Result<()> {
        if ssid.len() > usize::from(u16::MAX) || password.len() > usize::from(u16::MAX) {
            return Err(Error::ApiMisuse("station value longer than 65535 bytes"));
        }
        if let Some(bssid) = bssid {
            self.data(DataSubtype::StaBssid, &bssid)?;
        }
        self.data(DataSubtype::StaSsid, ssid)?;
        self.data(DataSubtype::StaPassword, password)
    }

    /// Queues CONNECT_TO_AP.
    ///
    /// # Errors
    /// As [`Client::request_version`].
    pub fn connect(&mut self) -> Result<()> {
        self.control(ControlSubtype::ConnectToAp, &[], false)
    }

    /// Queues DISCONNECT_FROM_AP.
    ///
    /// # Errors
    /// As [`Client::request_version`].
    pub fn disconnect_from_ap(&mut self) -> Result<()> {
        self.control(ControlSubtype::DisconnectFromAp, &[], false)
    }

    /// Queues GET_WIFI_STATUS.
    ///
    /// # Errors
    /// As [`Client::request_version`].
    pub fn request_status(&mut self) -> Result<()> {
        self.control(ControlSubtype::GetWifiStatus, &[], false)
    }

    /// Queues GET_WIFI_LIST.
    ///
    /// # Errors
    /// As [`Client::request_version`].
    pub fn request_wifi_list(&mut self) -> Result<()> {
        self.control(ControlSubtype::GetWifiList, &[], false)
    }

    /// Queues DISCONNECT_BLE.
    ///
    /// # Errors
    /// As [`Client::request_version`].
    pub fn disconnect_ble(&mut self) -> Result<()> {
        self.control(ControlSubtype::DisconnectBle, &[], false)
    }

    /// Queues CUSTOM_DATA.
    ///
    /// # Errors
    /// [`Error::ApiMisuse`] if longer than 65535 bytes.
    pub fn send_custom(&mut self, data: &[u8]) -> Result<()> {
        self.data(DataSubtype::CustomData, data)
    }

    /// Queues any data message (SoftAP settings, enterprise credentials, …), protected per
    /// the mode.
    ///
    /// # Errors
    /// [`Error::ApiMisuse`] if longer than 65535 bytes or the subtype does not fit in 6 bits.
    pub fn send_data(&mut self, subtype: DataSubtype, data: &[u8]) -> Result<()> {
        self.data(subtype, data)
    }

    /// Handles one notification from 0xFF02.
    ///
    /// # Errors
    /// [`Error::InvalidMessage`] for a malformed frame, fragment sequence or payload,
    /// [`Error::Sequence`], [`Error::Checksum`], [`Error::Crypto`] (encrypted frame without a
    /// key), [`Error::PeerMisbehaved`] (a public key out of range or not asked for). A failed
    /// negotiation leaves the client without a new key; call [`Client::negotiate`] again.
    pub fn handle_notification(&mut self, bytes: &[u8]) -> Result<()> {
        let Some(message) = self.link.handle_frame(bytes)? else {
            return Ok(());
        };
        let event = match message.kind {
            Kind::Control(ControlSubtype::Ack) => {
                let sequence = message
                    .data
                    .first()
                    .copied()
                    .ok_or(Error::InvalidMessage("empty ACK"))?;
                Event::Acked(sequence)
            }
            Kind::Data(DataSubtype::Negotiation) => {
                let handshake = self
                    .handshake
                    .take()
                    .ok_or(Error::PeerMisbehaved("negotiation message not asked for"))?;
                let cipher = handshake.finish(&message.data)?;
                debug_assert_eq!(cipher.generation(), handshake.generation());
                self.link.set_cipher(Some(cipher));
                Event::SecurityEstablished
            }
            Kind::Data(DataSubtype::ReplyVersion) => {
                let version = Version::parse(&message.data)?;
                self.version = Some(version);
                Event::Version(version)
            }
            Kind::Data(DataSubtype::WifiReport) => Event::Status(Status::parse(&message.data)?),
            Kind::Data(DataSubtype::WifiList) => {
                Event::WifiList(message::parse_wifi_list(&message.data)?)
            }
            Kind::Data(DataSubtype::ErrorInfo) => match *message.data {
                [code] => Event::DeviceError(code.into()),
                _ => return Err(Error::InvalidMessage("ERROR_INFO is not 1 byte")),
            },
            Kind::Data(DataSubtype::CustomData) => Event::Custom(message.data),
            _ => Event::Other(message),
        };
        self.events.push_back(event);
        Ok(())
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

    fn drain(client: &mut Client) -> Vec<Vec<u8>> {
        core::iter::from_fn(|| client.poll_transmit()).collect()
    }

    fn notification(kind: Kind, sequence: u8, data: &[u8]) -> Vec<u8> {
        Repr {
            kind,
            control: FrameControl::TO_PHONE,
            sequence,
            data,
        }
        .to_vec()
        .expect("emits")
    }

    #[test]
    fn emits_the_android_opening_frames() {
        let mut client = Client::new(Config::new());
        client.request_version().expect("queued");
        client
            .set_operation_mode(OperationMode::Station)
            .expect("queued");
        assert_eq!(
            drain(&mut client),
            [
                vec![0x1c, 0x00, 0x00, 0x00],
                vec![0x08, 0x08, 0x01, 0x01, 0x01]
            ]
        );
    }

    #[test]
    fn set_security_mode_matches_spec_example() {
        let mut client = Client::new(Config::new());
        for _ in 0..3 {
            client.request_status().expect("queued");
        }
        drain(&mut client);
        client
            .set_security_mode(SecurityMode::from(0x00))
            .expect("plaintext mode needs no key");
        // Spec §7.3 shape: `04 02 03 01 <mode> crc crc`.
        let frames = drain(&mut client);
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0][..5], [0x04, 0x02, 0x03, 0x01, 0x00]);
        assert!(matches!(
            client.set_security_mode(SecurityMode::DATA_PROTECTED),
            Err(Error::ApiMisuse(_))
        ));
        assert!(drain(&mut client).is_empty(), "nothing queued on misuse");
    }

    #[test]
    fn negotiate_needs_a_generation() {
        let mut rng = StdRng::seed_from_u64(0);
        let mut client = Client::new(Config::new());
        assert!(matches!(
            client.negotiate(&mut rng),
            Err(Error::ApiMisuse(_))
        ));
        client
            .handle_notification(&notification(
                Kind::Data(DataSubtype::ReplyVersion),
                0,
                &[1, 3],
            ))
            .expect("version");
        assert_eq!(
            client.poll_event(),
            Some(Event::Version(Version::new(1, 3)))
        );
        assert_eq!(client.generation(), Some(Generation::V1));
        client.negotiate(&mut rng).expect("V1");
        let frames = drain(&mut client);
        // [0x00, len] then 264 bytes of parameters in 20-byte frames (14 content bytes each).
        assert_eq!(frames[0], [0x01, 0x00, 0x00, 0x03, 0x00, 0x01, 0x07]);
        assert!(frames.iter().all(|f| f.len() <= 20));
        assert_eq!(frames.len(), 1 + 264usize.div_ceil(14));
    }

    #[test]
    fn acks_device_frames_that_ask() {
        let mut client = Client::new(Config::new());
        let frame = Repr {
            kind: Kind::Data(DataSubtype::CustomData),
            control: FrameControl::TO_PHONE | FrameControl::ACK_REQUESTED,
            sequence: 0,
            data: b"hi",
        }
        .to_vec()
        .expect("emits");
        client.handle_notification(&frame).expect("handled");
        // The phone's ACK: no direction bit, its own seq 0, acked seq 0.
        assert_eq!(drain(&mut client), [vec![0x00, 0x00, 0x00, 0x01, 0x00]]);
        assert_eq!(client.poll_event(), Some(Event::Custom(b"hi".to_vec())));
    }

    #[test]
    fn reports_device_errors_and_rejects_unasked_negotiation() {
        let mut client = Client::new(Config::new());
        client
            .handle_notification(&notification(Kind::Data(DataSubtype::ErrorInfo), 0, &[9]))
            .expect("handled");
        assert_eq!(
            client.poll_event(),
            Some(Event::DeviceError(ErrorCode::DataFormat))
        );
        assert!(matches!(
            client.handle_notification(&notification(
                Kind::Data(DataSubtype::Negotiation),
                1,
                &[5]
            )),
            Err(Error::PeerMisbehaved(_))
        ));
        assert!(
            client
                .handle_notification(&notification(Kind::Data(DataSubtype::ErrorInfo), 2, &[]))
                .is_err()
        );
    }

    #[test]
    fn debug_hides_the_queued_password() {
        const SECRET: &[u8] = b"S3cr3t-Pa55";
        let mut client = Client::new(Config::new());
        // Plaintext mode: the frames in the queue carry the password as it is.
        client
            .send_station(b"HomeNet", SECRET, None)
            .expect("queued");
        crate::test_support::assert_hidden(&alloc::format!("{client:?}"), SECRET);
        let frames = drain(&mut client);
        assert!(
            frames
                .iter()
                .any(|f| f.windows(SECRET.len()).any(|w| w == SECRET))
        );
    }
}
