//! Property tests: no input makes the parser, the device or the client panic, and whatever
//! parses re-emits to the same bytes.

use proptest::prelude::*;
use rand::SeedableRng as _;
use rand::rngs::StdRng;
use wifiprov_blufi::client::{self, Client};
use wifiprov_blufi::device::{self, Device};
use wifiprov_blufi::link::Sizing;
use wifiprov_blufi::{
    DataSubtype, Frame, FrameControl, Generation, Kind, Repr, SecurityMode, Status, message,
    security,
};

fn kind() -> impl Strategy<Value = Kind> {
    (any::<bool>(), 0u8..64).prop_map(|(data, subtype)| {
        if data {
            Kind::Data(subtype.into())
        } else {
            Kind::Control(subtype.into())
        }
    })
}

/// (kind, fc, data): becomes a well-formed frame once a sequence number is chosen.
fn frame_parts() -> impl Strategy<Value = (Kind, u8, Vec<u8>)> {
    (
        kind(),
        any::<u8>(),
        proptest::collection::vec(any::<u8>(), 0..40),
    )
}

fn build(kind: Kind, fc: u8, sequence: u8, data: &[u8]) -> Vec<u8> {
    Repr {
        kind,
        control: FrameControl::from_bits_retain(fc),
        sequence,
        data,
    }
    .to_vec()
    .expect("emits")
}

/// A device and client with an established V1 session (cheap), counters in step.
fn secured(generation: Generation) -> (Device, Client, StdRng) {
    let mut rng = StdRng::seed_from_u64(5);
    let mut device = Device::new(device::Config::new(generation).with_sizing(Sizing::device(512)));
    let mut client = Client::new(
        client::Config::new()
            .with_generation(generation)
            .with_sizing(Sizing::phone(512)),
    );
    client.negotiate(&mut rng).expect("queued");
    while let Some(frame) = client.poll_transmit() {
        device.handle_write(&frame, &mut rng).expect("device");
    }
    while let Some(frame) = device.poll_transmit() {
        client.handle_notification(&frame).expect("client");
    }
    client
        .set_security_mode(SecurityMode::from(0x33))
        .expect("mode");
    while let Some(frame) = client.poll_transmit() {
        device.handle_write(&frame, &mut rng).expect("device");
    }
    (device, client, rng)
}

proptest! {
    #[test]
    fn frame_parser_never_panics_and_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let frame = Frame::new_unchecked(&bytes[..]);
        let _ = (frame.kind(), frame.control(), frame.sequence(), frame.data(), frame.checksum());
        if let Ok(frame) = Frame::new_checked(&bytes[..]) {
            if let Ok(repr) = Repr::parse(&frame) {
                prop_assert_eq!(repr.to_vec().expect("emits"), bytes.clone());
            }
        }
    }

    #[test]
    fn well_formed_frames_round_trip((kind, fc, data) in frame_parts(), sequence in any::<u8>()) {
        let bytes = build(kind, fc, sequence, &data);
        let frame = Frame::new_checked(&bytes[..]).expect("well formed");
        let repr = Repr::parse(&frame).expect("checksum filled");
        prop_assert_eq!(repr.kind, kind);
        prop_assert_eq!(repr.data, &data[..]);
    }

    #[test]
    fn payload_parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(status) = Status::parse(&bytes) {
            let again = Status::parse(&status.to_vec().expect("emits")).expect("reparses");
            prop_assert_eq!(again, status);
        }
        if let Ok(list) = message::parse_wifi_list(&bytes) {
            prop_assert_eq!(message::wifi_list_to_vec(&list).expect("emits"), bytes.clone());
        }
        let _ = security::Parameters::parse(&bytes);
    }

    #[test]
    fn device_survives_arbitrary_writes(
        writes in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..16),
        v2 in any::<bool>(),
    ) {
        let generation = if v2 { Generation::V2 } else { Generation::V1 };
        let mut rng = StdRng::seed_from_u64(1);
        let mut device = Device::new(device::Config::new(generation));
        for write in &writes {
            let _ = device.handle_write(write, &mut rng);
            while device.poll_transmit().is_some() {}
            while device.poll_event().is_some() {}
        }
    }

    #[test]
    fn device_survives_arbitrary_v1_groups(
        prime in proptest::collection::vec(any::<u8>(), 0..20),
        generator in proptest::collection::vec(any::<u8>(), 0..4),
        public in proptest::collection::vec(any::<u8>(), 0..20),
    ) {
        let mut rng = StdRng::seed_from_u64(3);
        let mut device = Device::new(device::Config::new(Generation::V1).with_sizing(Sizing::device(512)));
        let blob = security::Parameters { prime: &prime, generator: &generator, public: &public }
            .to_vec()
            .expect("short");
        let neg = Kind::Data(DataSubtype::Negotiation);
        let length = (blob.len() as u16).to_be_bytes();
        let _ = device.handle_write(&build(neg, 0, 0, &[0x00, length[0], length[1]]), &mut rng);
        let mut message = vec![0x01];
        message.extend_from_slice(&blob);
        let result = device.handle_write(&build(neg, 0, 1, &message), &mut rng);
        if result.is_ok() {
            prop_assert!(device.is_secure());
        }
    }

    #[test]
    fn client_survives_arbitrary_notifications(
        notifications in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..16),
    ) {
        let mut client = Client::new(client::Config::new());
        for notification in &notifications {
            let _ = client.handle_notification(notification);
            while client.poll_transmit().is_some() {}
            while client.poll_event().is_some() {}
        }
    }

}

proptest! {
    // Each secured case runs a V1 handshake first.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn device_survives_well_formed_frames_in_sequence(
        parts in proptest::collection::vec(frame_parts(), 0..24),
        secure in any::<bool>(),
    ) {
        let (mut device, _, mut rng) = if secure {
            secured(Generation::V1)
        } else {
            let rng = StdRng::seed_from_u64(2);
            (Device::new(device::Config::new(Generation::V1)), Client::new(client::Config::new()), rng)
        };
        // `secured` used 1 + 3 + 1 phone frames at MTU 512 (length, parameters in 2, mode).
        let mut sequence: u8 = if secure { 4 } else { 0 };
        for (kind, fc, data) in &parts {
            let _ = device.handle_write(&build(*kind, *fc, sequence, data), &mut rng);
            sequence = sequence.wrapping_add(1);
            while device.poll_transmit().is_some() {}
        }
    }

    #[test]
    fn client_survives_well_formed_notifications_in_sequence(
        parts in proptest::collection::vec(frame_parts(), 0..24),
        secure in any::<bool>(),
    ) {
        let mut client = if secure {
            secured(Generation::V1).1
        } else {
            Client::new(client::Config::new())
        };
        // `secured` received one NEG frame from the device at MTU 512.
        let mut sequence: u8 = if secure { 1 } else { 0 };
        for (kind, fc, data) in &parts {
            let _ = client.handle_notification(&build(*kind, *fc, sequence, data));
            sequence = sequence.wrapping_add(1);
            while client.poll_transmit().is_some() {}
        }
        let _ = client.request_version();
    }
}

#[test]
fn secured_fixture_counts_are_right() {
    // Guards the sequence offsets the properties above rely on.
    let (mut device, mut client, mut rng) = secured(Generation::V1);
    assert!(client.is_secure() && device.is_secure());
    assert_eq!(client.send_sequence(), 4);
    client.send_custom(b"x").expect("queued");
    let frame = client.poll_transmit().expect("frame");
    device.handle_write(&frame, &mut rng).expect("in sequence");
    device.send_custom(b"y").expect("queued");
    let frame = device.poll_transmit().expect("frame");
    assert_eq!(frame[2], 1, "device sent one NEG frame before");
    client.handle_notification(&frame).expect("in sequence");
}
