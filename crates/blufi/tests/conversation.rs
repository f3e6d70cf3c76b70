//! Client ↔ Device conversations in memory, driven to completion: both generations, small and
//! large MTUs, every kind of damage a frame can take, messages out of order, reconnects.

use rand::SeedableRng as _;
use rand::rngs::StdRng;
use wifiprov_blufi::client::{self, Client};
use wifiprov_blufi::device::{self, Device};
use wifiprov_blufi::link::Sizing;
use wifiprov_blufi::{
    ControlSubtype, DataSubtype, Error, ErrorCode, Frame, FrameControl, Generation, Kind,
    OperationMode, Repr, SecurityMode, StationState, Status, Version,
};

/// One BLE connection: both ends and a record of everything that crossed the air.
struct Pair {
    client: Client,
    device: Device,
    rng: StdRng,
    /// Frames written to 0xFF01, in order.
    up: Vec<Vec<u8>>,
    /// Frames notified on 0xFF02, in order.
    down: Vec<Vec<u8>>,
}

impl Pair {
    fn new(generation: Generation, mtu: u16) -> Self {
        Self::with(
            device::Config::new(generation).with_sizing(Sizing::device(mtu)),
            client::Config::new().with_sizing(Sizing::phone(mtu)),
        )
    }

    fn with(device: device::Config, client: client::Config) -> Self {
        Self {
            client: Client::new(client),
            device: Device::new(device),
            rng: StdRng::seed_from_u64(0xb1u64),
            up: Vec::new(),
            down: Vec::new(),
        }
    }

    /// Moves frames both ways until both sides are quiet; the first error stops it.
    fn pump(&mut self) -> Result<(), Error> {
        loop {
            let mut moved = false;
            while let Some(write) = self.client.poll_transmit() {
                self.up.push(write.clone());
                self.device.handle_write(&write, &mut self.rng)?;
                moved = true;
            }
            while let Some(notification) = self.device.poll_transmit() {
                self.down.push(notification.clone());
                self.client.handle_notification(&notification)?;
                moved = true;
            }
            if !moved {
                return Ok(());
            }
        }
    }

    fn client_frames(&mut self) -> Vec<Vec<u8>> {
        std::iter::from_fn(|| self.client.poll_transmit()).collect()
    }

    fn device_frames(&mut self) -> Vec<Vec<u8>> {
        std::iter::from_fn(|| self.device.poll_transmit()).collect()
    }

    fn client_events(&mut self) -> Vec<client::Event> {
        std::iter::from_fn(|| self.client.poll_event()).collect()
    }

    fn device_events(&mut self) -> Vec<device::Event> {
        std::iter::from_fn(|| self.device.poll_event()).collect()
    }

    /// GET_VERSION, negotiation, SET_SEC_MODE 0x03; the client's events are dropped.
    fn secure(&mut self) {
        self.client.request_version().expect("version");
        self.pump().expect("version");
        self.client.negotiate(&mut self.rng).expect("negotiate");
        self.pump().expect("negotiation");
        self.client
            .set_security_mode(SecurityMode::DATA_PROTECTED)
            .expect("mode");
        self.pump().expect("mode");
        self.client_events();
    }

    /// The device's frames since `from`, passed to the client; errors collected.
    fn deliver_down(&mut self) -> Vec<Result<(), Error>> {
        self.device_frames()
            .iter()
            .map(|f| self.client.handle_notification(f))
            .collect()
    }
}

fn control_of(frame: &[u8]) -> FrameControl {
    Frame::new_unchecked(frame).control()
}

fn kind_of(frame: &[u8]) -> Option<Kind> {
    Frame::new_unchecked(frame).kind()
}

fn provisions(generation: Generation, mtu: u16) {
    let mut pair = Pair::new(generation, mtu);
    pair.client.request_version().expect("queued");
    pair.pump().expect("version");
    let expected_version = generation.default_version();
    assert_eq!(
        pair.client_events(),
        [client::Event::Version(expected_version)]
    );
    assert_eq!(
        pair.client.generation(),
        Some(generation),
        "picked from the version"
    );

    pair.client.negotiate(&mut pair.rng).expect("queued");
    pair.pump().expect("negotiation");
    assert_eq!(pair.client_events(), [client::Event::SecurityEstablished]);
    assert_eq!(pair.device_events(), [device::Event::SecurityEstablished]);
    assert!(pair.client.is_secure() && pair.device.is_secure());

    pair.client
        .set_security_mode(SecurityMode::DATA_PROTECTED)
        .expect("queued");
    let opmode_sequence = pair.client.send_sequence();
    pair.client
        .set_operation_mode(OperationMode::Station)
        .expect("queued");
    pair.client
        .send_station(
            b"HomeNet",
            b"secret123",
            Some([0xa0, 0xb1, 0xc2, 0xd3, 0xe4, 0xf5]),
        )
        .expect("queued");
    pair.client.connect().expect("queued");
    pair.pump().expect("provisioning");
    assert_eq!(
        pair.client_events(),
        [client::Event::Acked(opmode_sequence)]
    );
    let events = pair.device_events();
    assert_eq!(events.len(), 3, "{events:?}");
    assert_eq!(
        events[0],
        device::Event::SecurityMode(SecurityMode::DATA_PROTECTED)
    );
    assert_eq!(
        events[1],
        device::Event::OperationMode(OperationMode::Station)
    );
    let device::Event::ConnectRequested(credentials) = &events[2] else {
        panic!("expected ConnectRequested, got {:?}", events[2]);
    };
    assert_eq!(credentials.ssid, b"HomeNet");
    assert_eq!(credentials.password.as_slice(), b"secret123");
    assert_eq!(
        credentials.bssid,
        Some([0xa0, 0xb1, 0xc2, 0xd3, 0xe4, 0xf5])
    );

    // The device connects and reports.
    let status = Status {
        ssid: Some(b"HomeNet".to_vec()),
        rssi: Some(-52),
        ..Status::new(OperationMode::Station, StationState::Connected, 0)
    };
    pair.device.send_status(&status).expect("queued");
    pair.pump().expect("status");
    assert_eq!(pair.client_events(), [client::Event::Status(status)]);

    // What crossed the air.
    let neg = Kind::Data(DataSubtype::Negotiation);
    for frame in pair.up.iter().chain(&pair.down) {
        let control = control_of(frame);
        match kind_of(frame) {
            Some(kind) if kind == neg => {
                assert!(!control.contains(FrameControl::ENCRYPTED));
                assert!(!control.contains(FrameControl::CHECKSUM));
            }
            Some(Kind::Data(
                DataSubtype::StaSsid | DataSubtype::StaPassword | DataSubtype::StaBssid,
            ))
            | Some(Kind::Data(DataSubtype::WifiReport)) => {
                assert!(
                    control.contains(FrameControl::ENCRYPTED | FrameControl::CHECKSUM),
                    "{frame:02x?}"
                );
            }
            Some(Kind::Control(ControlSubtype::ConnectToAp)) => assert_eq!(control.bits(), 0x00),
            Some(Kind::Control(ControlSubtype::SetSecurityMode)) => {
                assert_eq!(control.bits(), 0x02, "checksum only, like the apps");
            }
            _ => assert!(!control.contains(FrameControl::ENCRYPTED), "{frame:02x?}"),
        }
        assert!(frame.len() <= usize::from(mtu) - 3, "frame fits the MTU");
        assert!(
            !frame.windows(9).any(|w| w == b"secret123"),
            "password in plaintext"
        );
    }
    for frame in &pair.down {
        assert!(control_of(frame).contains(FrameControl::TO_PHONE));
    }
    for frame in &pair.up {
        assert!(!control_of(frame).contains(FrameControl::TO_PHONE));
    }
    let fragments = pair
        .up
        .iter()
        .filter(|f| control_of(f).contains(FrameControl::FRAGMENT))
        .count();
    assert!(fragments > 0, "the negotiation blob is fragmented");
}

#[test]
fn v1_provisioning_completes_at_mtu_23() {
    provisions(Generation::V1, 23);
}

#[test]
fn v1_provisioning_completes_at_mtu_512() {
    provisions(Generation::V1, 512);
}

#[test]
fn v2_provisioning_completes_at_mtu_23() {
    provisions(Generation::V2, 23);
}

#[test]
fn v2_provisioning_completes_at_mtu_512() {
    provisions(Generation::V2, 512);
}

fn round_trips_payloads(generation: Generation) {
    let mut pair = Pair::new(generation, 23);
    pair.secure();
    pair.device_events();
    pair.client_events();

    pair.client.request_status().expect("queued");
    pair.client.request_wifi_list().expect("queued");
    let custom: Vec<u8> = (0..1000u32).map(|i| (i * 13) as u8).collect();
    pair.client.send_custom(&custom).expect("queued");
    pair.pump().expect("requests");
    assert_eq!(
        pair.device_events(),
        [
            device::Event::StatusRequested,
            device::Event::WifiListRequested,
            device::Event::Custom(custom.clone()),
        ]
    );

    let status = Status {
        bssid: Some([1, 2, 3, 4, 5, 6]),
        ssid: Some(b"HomeNet".to_vec()),
        end_reason: Some(255),
        rssi: Some(-128),
        extra: vec![(DataSubtype::StaMaxConnectionRetry, vec![3])],
        ..Status::new(OperationMode::StationSoftAp, StationState::Failed, 2)
    };
    let networks: Vec<(Vec<u8>, i8)> = (0..20)
        .map(|i| (format!("network-{i:02}").into_bytes(), -(i as i8) - 30))
        .collect();
    pair.device.send_status(&status).expect("queued");
    pair.device.send_wifi_list(&networks).expect("queued");
    pair.device.send_custom(&custom[..500]).expect("queued");
    pair.device
        .send_error(ErrorCode::WifiScanFailed)
        .expect("queued");
    pair.pump().expect("answers");
    assert_eq!(
        pair.client_events(),
        [
            client::Event::Status(status),
            client::Event::WifiList(networks),
            client::Event::Custom(custom[..500].to_vec()),
            client::Event::DeviceError(ErrorCode::WifiScanFailed),
        ]
    );
    let encrypted = pair
        .down
        .iter()
        .filter(|f| control_of(f).contains(FrameControl::ENCRYPTED))
        .count();
    assert!(encrypted > 50, "answers went out encrypted and fragmented");
}

#[test]
fn v1_status_wifi_list_and_custom_round_trip() {
    round_trips_payloads(Generation::V1);
}

#[test]
fn v2_status_wifi_list_and_custom_round_trip() {
    round_trips_payloads(Generation::V2);
}

#[test]
fn replayed_frame_is_a_sequence_error_and_session_continues() {
    for generation in [Generation::V1, Generation::V2] {
        let mut pair = Pair::new(generation, 23);
        pair.secure();
        pair.client.send_custom(b"first").expect("queued");
        let frames = pair.client_frames();
        pair.device
            .handle_write(&frames[0], &mut pair.rng)
            .expect("in order");
        let replay = pair.device.handle_write(&frames[0], &mut pair.rng);
        let expected = frames[0][2].wrapping_add(1);
        assert_eq!(
            replay,
            Err(Error::Sequence {
                expected,
                got: frames[0][2]
            }),
            "{generation:?}"
        );
        assert_eq!(pair.deliver_down(), [Ok(())]);
        assert_eq!(
            pair.client_events(),
            [client::Event::DeviceError(ErrorCode::Sequence)]
        );
        pair.client.send_custom(b"second").expect("queued");
        pair.pump().expect("session continues");
        let events = pair.device_events();
        assert_eq!(
            events.last(),
            Some(&device::Event::Custom(b"second".to_vec()))
        );
    }
}

#[test]
fn bad_checksum_is_reported_and_session_continues() {
    for generation in [Generation::V1, Generation::V2] {
        let mut pair = Pair::new(generation, 23);
        pair.secure();
        pair.device_events();
        pair.client
            .send_station(b"HomeNet", b"secret123", None)
            .expect("queued");
        let mut frames = pair.client_frames();
        let last = frames[0].len() - 1;
        frames[0][last] ^= 0x01; // the checksum's high byte
        assert_eq!(
            pair.device.handle_write(&frames[0], &mut pair.rng),
            Err(Error::Checksum)
        );
        pair.device
            .handle_write(&frames[1], &mut pair.rng)
            .expect("password");
        assert_eq!(pair.deliver_down(), [Ok(())]);
        assert_eq!(
            pair.client_events(),
            [client::Event::DeviceError(ErrorCode::Checksum)]
        );
        // The phone resends the SSID; the device decrypted the damaged frame, so even the V2
        // streams are still in step.
        pair.client
            .send_station(b"HomeNet", b"secret123", None)
            .expect("queued");
        pair.client.connect().expect("queued");
        pair.pump().expect("resent");
        let events = pair.device_events();
        let Some(device::Event::ConnectRequested(credentials)) = events.last() else {
            panic!("{generation:?}: {events:?}");
        };
        assert_eq!(credentials.ssid, b"HomeNet", "{generation:?}");
        assert_eq!(
            credentials.password.as_slice(),
            b"secret123",
            "{generation:?}"
        );
    }
}

#[test]
fn corrupted_ciphertext_fails_the_checksum() {
    for generation in [Generation::V1, Generation::V2] {
        let mut pair = Pair::new(generation, 512);
        pair.secure();
        pair.client
            .send_station(b"HomeNet", b"secret123", None)
            .expect("queued");
        let mut frames = pair.client_frames();
        assert!(control_of(&frames[1]).contains(FrameControl::ENCRYPTED));
        frames[1][6] ^= 0x80; // inside the encrypted password
        pair.device
            .handle_write(&frames[0], &mut pair.rng)
            .expect("ssid");
        assert_eq!(
            pair.device.handle_write(&frames[1], &mut pair.rng),
            Err(Error::Checksum),
            "{generation:?}"
        );
        assert_eq!(
            pair.device.credentials().password.as_slice(),
            b"",
            "not stored"
        );
    }
}

#[test]
fn corrupted_device_notification_is_rejected_by_the_client() {
    let mut pair = Pair::new(Generation::V2, 23);
    pair.secure();
    pair.device
        .send_status(&Status::new(
            OperationMode::Station,
            StationState::Connecting,
            0,
        ))
        .expect("queued");
    let mut frames = pair.device_frames();
    frames[0][5] ^= 0x10;
    assert_eq!(
        pair.client.handle_notification(&frames[0]),
        Err(Error::Checksum)
    );
}

#[test]
fn frames_delivered_out_of_order_are_dropped_then_accepted_in_order() {
    // The sequence check comes before decryption, so a dropped frame does not move the V2
    // stream: redelivered in order, both frames decrypt.
    for generation in [Generation::V1, Generation::V2] {
        let mut pair = Pair::new(generation, 23);
        pair.secure();
        pair.device_events();
        pair.client.send_custom(b"first").expect("queued");
        pair.client.send_custom(b"second").expect("queued");
        let frames = pair.client_frames();
        assert!(matches!(
            pair.device.handle_write(&frames[1], &mut pair.rng),
            Err(Error::Sequence { .. })
        ));
        pair.device
            .handle_write(&frames[0], &mut pair.rng)
            .expect("first");
        pair.device
            .handle_write(&frames[1], &mut pair.rng)
            .expect("second");
        assert_eq!(
            pair.device_events(),
            [
                device::Event::Custom(b"first".to_vec()),
                device::Event::Custom(b"second".to_vec())
            ],
            "{generation:?}"
        );
    }
}

#[test]
fn v2_lost_encrypted_frame_desynchronizes_until_reconnect() {
    let mut pair = Pair::new(Generation::V2, 23);
    pair.secure();
    pair.device_events();
    pair.client.send_custom(b"lost").expect("queued");
    let lost = pair.client_frames().remove(0);
    // The next frame, renumbered into the lost frame's place with its checksum recomputed
    // over the plaintext: it passes the sequence check, but the device's stream is 4 bytes
    // behind the phone's.
    pair.client.send_custom(b"after").expect("queued");
    let mut next = pair.client_frames().remove(0);
    next[2] = lost[2];
    let crc = wifiprov_blufi::crc::frame_checksum(lost[2], b"after").to_le_bytes();
    let len = next.len();
    next[len - 2..].copy_from_slice(&crc);
    assert_eq!(
        pair.device.handle_write(&next, &mut pair.rng),
        Err(Error::Checksum),
        "the device's CTR stream is behind the phone's"
    );
    // A new connection (and negotiation) gives both sides new streams.
    pair.client.reset();
    pair.device.reset();
    pair.secure();
    pair.client.send_custom(b"after").expect("queued");
    pair.pump().expect("works again");
    assert_eq!(
        pair.device_events().last(),
        Some(&device::Event::Custom(b"after".to_vec()))
    );
}

#[test]
fn renegotiation_replaces_the_key() {
    for generation in [Generation::V1, Generation::V2] {
        let mut pair = Pair::new(generation, 23);
        pair.secure();
        pair.client.negotiate(&mut pair.rng).expect("again");
        pair.pump().expect("renegotiated");
        pair.client.send_custom(b"new key").expect("queued");
        pair.pump().expect("works");
        assert_eq!(
            pair.device_events().last(),
            Some(&device::Event::Custom(b"new key".to_vec())),
            "{generation:?}"
        );
    }
}

fn raw(kind: Kind, control: FrameControl, sequence: u8, data: &[u8]) -> Vec<u8> {
    Repr {
        kind,
        control,
        sequence,
        data,
    }
    .to_vec()
    .expect("emits")
}

fn error_code(frames: &[Vec<u8>]) -> Option<u8> {
    let [frame] = frames else { return None };
    (kind_of(frame) == Some(Kind::Data(DataSubtype::ErrorInfo))).then(|| frame[4])
}

#[test]
fn out_of_order_messages_get_error_reports() {
    let neg = Kind::Data(DataSubtype::Negotiation);
    let mut rng = StdRng::seed_from_u64(1);

    // SET_SEC_MODE 0x03 before any negotiation: init-security error, mode unchanged.
    let mut device = Device::new(device::Config::new(Generation::V1));
    let write = raw(
        Kind::Control(ControlSubtype::SetSecurityMode),
        FrameControl::CHECKSUM,
        0,
        &[0x03],
    );
    assert!(matches!(
        device.handle_write(&write, &mut rng),
        Err(Error::PeerMisbehaved(_))
    ));
    let frames: Vec<_> = std::iter::from_fn(|| device.poll_transmit()).collect();
    assert_eq!(error_code(&frames), Some(u8::from(ErrorCode::InitSecurity)));
    assert_eq!(device.security_mode(), SecurityMode::PLAINTEXT);

    // Encrypted credentials before negotiation: decrypt error.
    let write = raw(
        Kind::Data(DataSubtype::StaSsid),
        FrameControl::ENCRYPTED | FrameControl::CHECKSUM,
        1,
        b"x",
    );
    assert!(matches!(
        device.handle_write(&write, &mut rng),
        Err(Error::Crypto(_))
    ));
    let frames: Vec<_> = std::iter::from_fn(|| device.poll_transmit()).collect();
    assert_eq!(error_code(&frames), Some(u8::from(ErrorCode::Decrypt)));

    // DH parameters without their length: DH parameter error.
    let mut device = Device::new(device::Config::new(Generation::V1));
    let write = raw(
        neg,
        FrameControl::EMPTY,
        0,
        &[0x01, 0, 1, 23, 0, 1, 5, 0, 1, 8],
    );
    assert!(matches!(
        device.handle_write(&write, &mut rng),
        Err(Error::PeerMisbehaved(_))
    ));
    let frames: Vec<_> = std::iter::from_fn(|| device.poll_transmit()).collect();
    assert_eq!(error_code(&frames), Some(u8::from(ErrorCode::DhParameter)));
    assert!(!device.is_secure());

    // A NEG message the client did not ask for.
    let mut client = Client::new(client::Config::new());
    let notification = raw(neg, FrameControl::TO_PHONE, 0, &[1, 2, 3]);
    assert!(matches!(
        client.handle_notification(&notification),
        Err(Error::PeerMisbehaved(_))
    ));

    // CONNECT_TO_AP before any credentials: passed on with empty credentials.
    let mut device = Device::new(device::Config::new(Generation::V1));
    let write = raw(
        Kind::Control(ControlSubtype::ConnectToAp),
        FrameControl::EMPTY,
        0,
        &[],
    );
    device.handle_write(&write, &mut rng).expect("handled");
    assert_eq!(
        device.poll_event(),
        Some(device::Event::ConnectRequested(
            device::Credentials::default()
        ))
    );

    // A final fragment without its first part.
    let write = raw(
        Kind::Data(DataSubtype::CustomData),
        FrameControl::FRAGMENT,
        1,
        &[10, 0, 1],
    );
    device
        .handle_write(&write, &mut rng)
        .expect("first fragment is fine");
    let write = raw(
        Kind::Data(DataSubtype::StaSsid),
        FrameControl::EMPTY,
        2,
        b"x",
    );
    assert!(matches!(
        device.handle_write(&write, &mut rng),
        Err(Error::InvalidMessage(_))
    ));
    let frames: Vec<_> = std::iter::from_fn(|| device.poll_transmit()).collect();
    assert_eq!(error_code(&frames), Some(u8::from(ErrorCode::DataFormat)));
}

#[test]
fn client_rejects_misuse_without_breaking_the_session() {
    let mut pair = Pair::new(Generation::V1, 23);
    assert!(matches!(
        pair.client.negotiate(&mut pair.rng),
        Err(Error::ApiMisuse(_))
    ));
    assert!(matches!(
        pair.client.set_security_mode(SecurityMode::DATA_PROTECTED),
        Err(Error::ApiMisuse(_))
    ));
    assert!(pair.client_frames().is_empty(), "nothing queued");
    pair.secure();
    assert!(matches!(
        pair.client.send_custom(&vec![0; 70_000]),
        Err(Error::ApiMisuse(_))
    ));
    pair.client.send_custom(b"still fine").expect("queued");
    pair.pump().expect("session intact");
}

#[test]
fn reconnect_resets_counters_and_security() {
    let mut pair = Pair::new(Generation::V1, 23);
    pair.secure();
    pair.client.send_custom(b"one").expect("queued");
    pair.pump().expect("first connection");
    assert!(pair.client.send_sequence() > 10);

    // The device side noticed the disconnect, the phone did not: its next frame is out of
    // sequence.
    pair.device.reset();
    assert!(!pair.device.is_secure());
    assert_eq!(pair.device.security_mode(), SecurityMode::PLAINTEXT);
    pair.client.request_version().expect("queued");
    let stale = pair.client_frames().remove(0);
    assert!(matches!(
        pair.device.handle_write(&stale, &mut pair.rng),
        Err(Error::Sequence { expected: 0, .. })
    ));

    // Both reset: a new session from sequence 0.
    pair.device.reset();
    pair.client.reset();
    assert_eq!(pair.client.send_sequence(), 0);
    assert_eq!(pair.client.version(), None);
    pair.up.clear();
    pair.secure();
    assert_eq!(pair.up[0][2], 0, "first frame has sequence 0");
    assert_eq!(pair.down[0][2], 0, "first notification has sequence 0");
    pair.client
        .send_station(b"Cafe", b"latte", None)
        .expect("queued");
    pair.client.connect().expect("queued");
    pair.pump().expect("second connection");
    let Some(device::Event::ConnectRequested(credentials)) = pair.device_events().pop() else {
        panic!("no connect");
    };
    assert_eq!(credentials.ssid, b"Cafe");
}

#[test]
fn v1_device_reporting_1_4_makes_the_client_pick_v2_and_fail() {
    // Spec §7.6: a custom firmware with V1 crypto but the 1.4 profile version.
    let mut pair = Pair::with(
        device::Config::new(Generation::V1).with_version(Version::new(1, 4)),
        client::Config::new().with_sizing(Sizing::phone(512)),
    );
    pair.device.set_sizing(Sizing::device(512));
    pair.client.request_version().expect("queued");
    pair.pump().expect("version");
    assert_eq!(pair.client.generation(), Some(Generation::V2));
    pair.client.negotiate(&mut pair.rng).expect("queued");
    assert!(
        matches!(pair.pump(), Err(Error::Unsupported(_))),
        "3072-bit P refused"
    );
    assert_eq!(pair.deliver_down(), [Ok(())]);
    assert_eq!(
        pair.client_events().pop(),
        Some(client::Event::DeviceError(ErrorCode::ReadParameter))
    );
    assert!(!pair.device.is_secure() && !pair.client.is_secure());
}

#[test]
fn v2_device_rejects_a_v1_negotiation() {
    let mut pair = Pair::with(
        device::Config::new(Generation::V2),
        client::Config::new().with_generation(Generation::V1),
    );
    pair.client.negotiate(&mut pair.rng).expect("queued");
    assert!(
        matches!(pair.pump(), Err(Error::InvalidMessage(_))),
        "128-byte key refused"
    );
    assert_eq!(pair.deliver_down(), [Ok(())]);
    assert_eq!(
        pair.client_events(),
        [client::Event::DeviceError(ErrorCode::ReadParameter)]
    );
}

#[test]
fn client_sizing_follows_the_android_rule() {
    let mut pair = Pair::with(
        device::Config::new(Generation::V1),
        client::Config::new().with_generation(Generation::V1),
    );
    pair.client.negotiate(&mut pair.rng).expect("queued");
    pair.pump().expect("negotiation");
    // 20-byte frames by default, no final piece of 2 bytes or less.
    for frame in &pair.up {
        assert!(frame.len() <= 20);
    }
    let last = pair.up.last().expect("frames");
    assert!(!control_of(last).contains(FrameControl::FRAGMENT));
    assert!(last.len() - 4 > 2);
}
