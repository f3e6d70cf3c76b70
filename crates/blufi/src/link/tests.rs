use super::*;
use crate::security::Generation;
use alloc::vec;
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

const CUSTOM: Kind = Kind::Data(DataSubtype::CustomData);
const STATUS: Kind = Kind::Data(DataSubtype::WifiReport);
const ACK: Kind = Kind::Control(ControlSubtype::Ack);

fn pair(device_sizing: Sizing, phone_sizing: Sizing) -> (Link, Link) {
    (
        Link::new(Role::Device, device_sizing, DEFAULT_MAX_MESSAGE_LEN),
        Link::new(Role::Phone, phone_sizing, DEFAULT_MAX_MESSAGE_LEN),
    )
}

fn drain(link: &mut Link) -> Vec<Vec<u8>> {
    core::iter::from_fn(|| link.poll_transmit()).collect()
}

fn ciphers(generation: Generation) -> (Cipher, Cipher) {
    let secret: Vec<u8> = (0..384u32).map(|i| (i * 7 + 3) as u8).collect();
    (
        Cipher::new(generation, &secret, Role::Device),
        Cipher::new(generation, &secret, Role::Phone),
    )
}

#[test]
fn sizing_conventions() {
    assert_eq!(Sizing::device(23).content_len(true), 12);
    assert_eq!(Sizing::device(23).content_len(false), 12);
    assert_eq!(Sizing::device(512).content_len(true), 244);
    assert_eq!(Sizing::device(0).content_len(false), 1, "clamped");
    assert_eq!(Sizing::phone_default().content_len(false), 14);
    assert_eq!(Sizing::phone_default().content_len(true), 12);
    assert_eq!(Sizing::phone(23).content_len(false), 13);
    assert_eq!(Sizing::phone(512).content_len(false), 249);
    assert_eq!(Sizing::phone(512).content_len(true), 247);
    assert_eq!(Sizing::phone(512).merge_tail(), 2);
    assert_eq!(Sizing::new(1000, false, 1000).content_len(false), 253);
    assert_eq!(Sizing::new(1000, false, 1000).merge_tail(), 2);
}

#[test]
fn pieces_follow_the_device_rule() {
    let pieces: Vec<_> = Sizing::device(23).pieces(30, true).collect();
    assert_eq!(pieces, [(0, 12, true), (12, 12, true), (24, 6, false)]);
    let pieces: Vec<_> = Sizing::device(23).pieces(24, true).collect();
    assert_eq!(pieces, [(0, 12, true), (12, 12, false)]);
    let pieces: Vec<_> = Sizing::device(23).pieces(0, true).collect();
    assert_eq!(pieces, [(0, 0, false)]);
}

#[test]
fn pieces_never_leave_a_short_tail_for_the_phone() {
    let sizing = Sizing::phone_default();
    assert_eq!(
        sizing.pieces(16, false).collect::<Vec<_>>(),
        [(0, 16, false)]
    );
    assert_eq!(
        sizing.pieces(17, false).collect::<Vec<_>>(),
        [(0, 14, true), (14, 3, false)]
    );
    for len in 1..600 {
        for checksum in [false, true] {
            let pieces: Vec<_> = sizing.pieces(len, checksum).collect();
            let (_, last, fragment) = *pieces.last().expect("one piece");
            assert!(!fragment);
            if pieces.len() > 1 {
                assert!(last > 2, "len {len}: final piece of {last}");
            }
            let sum: usize = pieces.iter().map(|p| p.1).sum();
            assert_eq!(sum, len);
        }
    }
}

#[test]
fn frames_fit_their_limits() {
    for len in 0..700 {
        let payload = vec![0x5a; len];
        for mtu in [23u16, 100, 512] {
            let (mut device, mut phone) = pair(Sizing::device(mtu), Sizing::phone(mtu));
            let (device_cipher, phone_cipher) = ciphers(Generation::V1);
            device.set_cipher(Some(device_cipher));
            phone.set_cipher(Some(phone_cipher));
            device.set_security_mode(SecurityMode::DATA_PROTECTED);
            phone.set_security_mode(SecurityMode::DATA_PROTECTED);
            device.send(CUSTOM, &payload, false).expect("device sends");
            phone.send(CUSTOM, &payload, false).expect("phone sends");
            // Device: min(mtu, 255) - 11 content + 8 overhead. Phone: min(mtu - 4, 255).
            let device_limit = usize::from(mtu.min(255)) - 3;
            let phone_limit = usize::from(mtu - 4).min(255);
            for frame in drain(&mut device) {
                assert!(frame.len() <= device_limit, "device mtu {mtu} len {len}");
            }
            for frame in drain(&mut phone) {
                assert!(frame.len() <= phone_limit, "phone mtu {mtu} len {len}");
            }
        }
    }
}

#[test]
fn emits_fragmented_custom_data_byte_exact() {
    let (mut device, _) = pair(Sizing::device(23), Sizing::phone_default());
    let payload: Vec<u8> = (0..30).collect();
    device.send(CUSTOM, &payload, false).expect("sends");
    let frames = drain(&mut device);
    let mut first = vec![0x4d, 0x14, 0x00, 14, 30, 0];
    first.extend(0..12);
    let mut second = vec![0x4d, 0x14, 0x01, 14, 18, 0];
    second.extend(12..24);
    let mut last = vec![0x4d, 0x04, 0x02, 6];
    last.extend(24..30);
    assert_eq!(frames, [first, second, last]);
    assert_eq!(device.send_sequence(), 3);
}

fn round_trip(generation: Option<Generation>, sizing: Sizing, lens: &[usize]) {
    let (mut device, mut phone) = pair(sizing, sizing);
    if let Some(generation) = generation {
        let (device_cipher, phone_cipher) = ciphers(generation);
        device.set_cipher(Some(device_cipher));
        phone.set_cipher(Some(phone_cipher));
        device.set_security_mode(SecurityMode::from(0x13));
        phone.set_security_mode(SecurityMode::from(0x33));
    }
    for &len in lens {
        let payload: Vec<u8> = (0..len).map(|i| (i * 31 + len) as u8).collect();
        device.send(STATUS, &payload, false).expect("device sends");
        let mut received = None;
        for frame in drain(&mut device) {
            if generation.is_some() {
                let control = Frame::new_unchecked(&frame[..]).control();
                assert!(control.contains(FrameControl::ENCRYPTED | FrameControl::CHECKSUM));
            }
            assert!(received.is_none(), "message before its last frame");
            received = phone.handle_frame(&frame).expect("phone receives");
        }
        assert_eq!(
            received,
            Some(Message {
                kind: STATUS,
                data: payload.clone()
            }),
            "device → phone, {len} bytes"
        );
        phone.send(CUSTOM, &payload, false).expect("phone sends");
        let mut received = None;
        for frame in drain(&mut phone) {
            received = device.handle_frame(&frame).expect("device receives");
        }
        assert_eq!(
            received.map(|m| m.data),
            Some(payload),
            "phone → device, {len} bytes"
        );
    }
}

#[test]
fn round_trips_plaintext() {
    let lens: Vec<usize> = (0..300).chain([776, 1000, 4096]).collect();
    round_trip(None, Sizing::device(23), &lens);
    round_trip(None, Sizing::phone(512), &lens);
}

#[test]
fn round_trips_v1_encrypted() {
    let lens: Vec<usize> = (0..300).step_by(7).chain([776, 4096]).collect();
    round_trip(Some(Generation::V1), Sizing::device(23), &lens);
    round_trip(Some(Generation::V1), Sizing::phone_default(), &lens);
}

#[test]
fn round_trips_v2_encrypted() {
    let lens: Vec<usize> = (0..300).step_by(7).chain([776, 4096]).collect();
    round_trip(Some(Generation::V2), Sizing::device(23), &lens);
    round_trip(Some(Generation::V2), Sizing::phone(512), &lens);
}

#[test]
fn sequence_numbers_wrap() {
    let (mut device, mut phone) = pair(Sizing::device(23), Sizing::phone_default());
    for i in 0..600u32 {
        device.send(CUSTOM, &[i as u8], false).expect("sends");
        let frames = drain(&mut device);
        assert_eq!(frames[0][2], i as u8);
        let message = phone.handle_frame(&frames[0]).expect("in order");
        assert_eq!(message.map(|m| m.data), Some(vec![i as u8]));
    }
    assert_eq!(phone.receive_sequence(), (600 % 256) as u8);
}

#[test]
fn acks_consume_sequence_numbers() {
    let (mut device, mut phone) = pair(Sizing::device(23), Sizing::phone_default());
    phone
        .send(Kind::Control(ControlSubtype::SetOperationMode), &[1], true)
        .expect("sends");
    let frames = drain(&mut phone);
    assert_eq!(frames, [vec![0x08, 0x08, 0x00, 0x01, 0x01]]);
    let message = device.handle_frame(&frames[0]).expect("receives");
    assert_eq!(
        message.map(|m| m.kind),
        Some(Kind::Control(ControlSubtype::SetOperationMode))
    );
    // ACK: control subtype 0, TO_PHONE, device seq 0, data = acked seq 0.
    let ack = drain(&mut device);
    assert_eq!(ack, [vec![0x00, 0x04, 0x00, 0x01, 0x00]]);
    assert_eq!(device.send_sequence(), 1);
    let message = phone.handle_frame(&ack[0]).expect("receives ACK");
    assert_eq!(
        message,
        Some(Message {
            kind: ACK,
            data: vec![0]
        })
    );
}

#[test]
fn wrong_sequence_is_dropped_and_counter_kept() {
    let (mut device, mut phone) = pair(Sizing::device(23), Sizing::phone_default());
    phone.send(CUSTOM, b"a", true).expect("sends");
    phone.send(CUSTOM, b"b", true).expect("sends");
    let frames = drain(&mut phone);
    assert_eq!(
        device.handle_frame(&frames[1]),
        Err(Error::Sequence {
            expected: 0,
            got: 1
        })
    );
    assert_eq!(device.receive_sequence(), 0);
    assert!(drain(&mut device).is_empty(), "no ACK for a dropped frame");
    assert!(device.handle_frame(&frames[0]).expect("in order").is_some());
    assert!(device.handle_frame(&frames[1]).expect("in order").is_some());
}

#[test]
fn bad_checksum_consumes_the_number_but_not_the_ack() {
    let (mut device, mut phone) = pair(Sizing::device(23), Sizing::phone_default());
    phone.set_security_mode(SecurityMode::from(0x01));
    phone.send(CUSTOM, b"abc", true).expect("sends");
    let mut frame = drain(&mut phone).remove(0);
    frame[4] ^= 1;
    assert_eq!(device.handle_frame(&frame), Err(Error::Checksum));
    assert_eq!(device.receive_sequence(), 1);
    assert!(drain(&mut device).is_empty());
}

#[test]
fn corrupted_ciphertext_fails_the_checksum() {
    for generation in [Generation::V1, Generation::V2] {
        let (mut device, mut phone) = pair(Sizing::device(23), Sizing::phone_default());
        let (device_cipher, phone_cipher) = ciphers(generation);
        device.set_cipher(Some(device_cipher));
        phone.set_cipher(Some(phone_cipher));
        phone.set_security_mode(SecurityMode::DATA_PROTECTED);
        phone.send(CUSTOM, b"HomeNet", false).expect("sends");
        let mut frame = drain(&mut phone).remove(0);
        frame[6] ^= 0x40;
        assert_eq!(
            device.handle_frame(&frame),
            Err(Error::Checksum),
            "{generation:?}"
        );
    }
}

#[test]
fn encrypted_frame_without_key_is_a_crypto_error() {
    let (mut device, _) = pair(Sizing::device(23), Sizing::phone_default());
    let frame = [0x4d, 0x01, 0x00, 0x01, 0x00];
    assert!(matches!(device.handle_frame(&frame), Err(Error::Crypto(_))));
}

#[test]
fn send_without_key_queues_nothing() {
    let (mut device, _) = pair(Sizing::device(23), Sizing::phone_default());
    device.set_security_mode(SecurityMode::DATA_PROTECTED);
    assert!(matches!(
        device.send(CUSTOM, b"x", false),
        Err(Error::Crypto(_))
    ));
    assert_eq!(device.send_sequence(), 0);
    assert!(device.poll_transmit().is_none());
    // NEG and ERROR_INFO are never protected by the device; ACKs only get a checksum.
    assert_eq!(
        device.protection(Kind::Data(DataSubtype::Negotiation)),
        Protection::NONE
    );
    assert_eq!(
        device.protection(Kind::Data(DataSubtype::ErrorInfo)),
        Protection::NONE
    );
    device.set_security_mode(SecurityMode::from(0x33));
    assert_eq!(
        device.protection(ACK),
        Protection {
            checksum: true,
            encrypt: false
        }
    );
    assert!(
        device
            .send(Kind::Data(DataSubtype::Negotiation), &[0; 300], false)
            .is_ok()
    );
}

#[test]
fn ack_does_not_disturb_reassembly() {
    let (mut device, mut phone) = pair(Sizing::device(23), Sizing::phone_default());
    device.send(STATUS, &[7; 30], false).expect("sends");
    let fragments = drain(&mut device);
    assert_eq!(fragments.len(), 3);
    // Fragment (seq 0), an ACK of phone frame 5 (seq 1), the rest renumbered (no checksum).
    let mut stream = vec![fragments[0].clone(), vec![0x00, 0x04, 0x01, 0x01, 0x05]];
    for (i, frame) in fragments[1..].iter().enumerate() {
        let mut frame = frame.clone();
        frame[2] = (i + 2) as u8;
        stream.push(frame);
    }
    let results: Vec<_> = stream
        .iter()
        .map(|frame| phone.handle_frame(frame).expect("receives"))
        .collect();
    assert_eq!(results[0], None);
    assert_eq!(
        results[1],
        Some(Message {
            kind: ACK,
            data: vec![5]
        })
    );
    assert_eq!(results[2], None);
    assert_eq!(results[3].as_ref().map(|m| m.data.len()), Some(30));
}

#[test]
fn reassembly_rejects_inconsistent_fragments() {
    let mut r = Reassembler::new(100);
    assert!(r.push(CUSTOM, true, &[5]).is_err(), "no total");
    assert!(r.push(CUSTOM, true, &[101, 0, 1]).is_err(), "above limit");
    assert!(r.push(CUSTOM, true, &[2, 0, 1, 2]).is_err(), "nothing left");
    assert!(r.push(CUSTOM, true, &[0, 0]).is_err(), "zero total");
    assert!(r.is_idle());

    assert_eq!(r.push(CUSTOM, true, &[4, 0, 1]), Ok(None));
    assert!(r.push(CUSTOM, true, &[4, 0, 2]).is_err(), "total disagrees");
    assert!(r.is_idle(), "error discards");

    assert_eq!(r.push(CUSTOM, true, &[4, 0, 1]), Ok(None));
    assert!(r.push(STATUS, false, &[2, 3, 4]).is_err(), "other type");

    assert_eq!(r.push(CUSTOM, true, &[4, 0, 1]), Ok(None));
    assert!(r.push(CUSTOM, false, &[2, 3]).is_err(), "short final");

    assert_eq!(r.push(CUSTOM, true, &[4, 0, 1]), Ok(None));
    assert_eq!(r.push(CUSTOM, true, &[3, 0, 2]), Ok(None));
    assert_eq!(
        r.push(CUSTOM, false, &[3, 4]),
        Ok(Some(Message {
            kind: CUSTOM,
            data: vec![1, 2, 3, 4]
        }))
    );
    assert!(r.is_idle());
    let mut r = Reassembler::new(2);
    assert!(
        r.push(CUSTOM, false, &[1, 2, 3]).is_err(),
        "single frame above limit"
    );
}

#[test]
fn bounds_memory_at_the_limit() {
    let mut r = Reassembler::new(4096);
    assert!(
        r.push(CUSTOM, true, &[0x01, 0x10, 0]).is_err(),
        "4097 bytes announced"
    );
    assert_eq!(
        r.push(CUSTOM, true, &[0x00, 0x10, 0]),
        Ok(None),
        "4096 bytes announced"
    );
    assert_eq!(
        r.partial.as_ref().map(|p| p.data.capacity() >= 4096),
        Some(true)
    );
}

/// An obviously correct reassembler: keep every fragment's data field and re-validate the whole
/// series from the start on each push.
struct Naive {
    max_len: usize,
    pending: Vec<(Kind, Vec<u8>)>,
}

impl Naive {
    fn push(
        &mut self,
        kind: Kind,
        fragment: bool,
        data: &[u8],
    ) -> Option<Result<Option<Vec<u8>>, ()>> {
        let mut series = core::mem::take(&mut self.pending);
        series.push((kind, data.to_vec()));
        let result = Self::validate(self.max_len, &series, fragment);
        if let Ok(None) = result {
            self.pending = series;
        }
        Some(result)
    }

    fn validate(
        max_len: usize,
        series: &[(Kind, Vec<u8>)],
        last_is_fragment: bool,
    ) -> Result<Option<Vec<u8>>, ()> {
        let kind = series[0].0;
        if series.iter().any(|(k, _)| *k != kind) {
            return Err(());
        }
        let fragments = if last_is_fragment {
            series.len()
        } else {
            series.len() - 1
        };
        if fragments == 0 {
            let data = &series[0].1;
            return if data.len() > max_len {
                Err(())
            } else {
                Ok(Some(data.clone()))
            };
        }
        let mut message = Vec::new();
        let mut total = None;
        for (_, data) in &series[..fragments] {
            if data.len() < 2 {
                return Err(());
            }
            let remaining = usize::from(data[0]) | usize::from(data[1]) << 8;
            let total = *total.get_or_insert(remaining);
            if total > max_len || remaining != total - message.len() || data.len() - 2 >= remaining
            {
                return Err(());
            }
            message.extend_from_slice(&data[2..]);
        }
        if last_is_fragment {
            return Ok(None);
        }
        message.extend_from_slice(&series[fragments].1);
        if Some(message.len()) == total {
            Ok(Some(message))
        } else {
            Err(())
        }
    }
}

fn compare(max_len: usize, ops: &[(Kind, bool, Vec<u8>)]) -> Result<(), TestCaseError> {
    let mut real = Reassembler::new(max_len);
    let mut naive = Naive {
        max_len,
        pending: Vec::new(),
    };
    for (i, (kind, fragment, data)) in ops.iter().enumerate() {
        let got = real.push(*kind, *fragment, data);
        let want = naive.push(*kind, *fragment, data).expect("result");
        match (&got, &want) {
            (Ok(got), Ok(want)) => {
                prop_assert_eq!(got.as_ref().map(|m| &m.data), want.as_ref(), "op {}", i);
            }
            (Err(_), Err(())) => {}
            _ => prop_assert!(false, "op {}: real {:?}, naive {:?}", i, got, want),
        }
    }
    Ok(())
}

/// Mostly valid fragment series (from `Sizing::pieces`), with occasional damage.
fn seeded_ops(rng: &mut StdRng) -> Vec<(Kind, bool, Vec<u8>)> {
    let mut ops = Vec::new();
    for _ in 0..rng.gen_range(1..6) {
        let kind = if rng.gen_bool(0.8) { CUSTOM } else { STATUS };
        let len = rng.gen_range(0..120);
        let sizing = Sizing::new(rng.gen_range(1..40), rng.gen_bool(0.5), rng.gen_range(0..3));
        for (offset, piece, fragment) in sizing.pieces(len, false) {
            let mut data = Vec::new();
            if fragment {
                data.extend_from_slice(&((len - offset) as u16).to_le_bytes());
            }
            data.extend((offset..offset + piece).map(|i| i as u8));
            match rng.gen_range(0..40) {
                0 => continue,                                   // lost frame
                1 if !data.is_empty() => data[0] ^= 1,           // damaged total or content
                2 => ops.push((STATUS, fragment, data.clone())), // foreign frame
                3 => data.push(0),                               // long piece
                _ => {}
            }
            ops.push((kind, fragment, data));
        }
    }
    ops
}

#[test]
fn reassembly_matches_naive_model_on_seeded_series() {
    for seed in 0..3000u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let ops = seeded_ops(&mut rng);
        let max_len = if seed % 3 == 0 { 60 } else { 4096 };
        if let Err(error) = compare(max_len, &ops) {
            panic!("seed {seed}: {error}");
        }
    }
}

fn arbitrary_op() -> impl Strategy<Value = (Kind, bool, Vec<u8>)> {
    (
        prop_oneof![Just(CUSTOM), Just(STATUS)],
        any::<bool>(),
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..6),
            (0u8..12, proptest::collection::vec(any::<u8>(), 0..6)).prop_map(|(total, rest)| {
                let mut data = vec![total, 0];
                data.extend(rest);
                data
            }),
        ],
    )
}

proptest! {
    #[test]
    fn reassembly_matches_naive_model_on_arbitrary_ops(
        ops in proptest::collection::vec(arbitrary_op(), 0..20),
        max_len in 0usize..16,
    ) {
        compare(max_len, &ops)?;
    }

    #[test]
    fn handle_frame_never_panics(frames in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..8)) {
        let (mut device, _) = pair(Sizing::device(23), Sizing::phone_default());
        let (cipher, _) = ciphers(Generation::V2);
        device.set_cipher(Some(cipher));
        for frame in &frames {
            let _ = device.handle_frame(frame);
        }
    }
}

#[test]
fn device_decrypts_control_frames_the_android_app_encrypts() {
    // The app sends SET_SEC_MODE 0x03 but then encrypts SET_WIFI_OPMODE anyway (spec §7.6):
    // the device decrypts whatever is flagged, and in V2 both streams stay in step.
    for generation in [Generation::V1, Generation::V2] {
        let (mut device, mut phone) = pair(Sizing::device(23), Sizing::phone_default());
        let (device_cipher, phone_cipher) = ciphers(generation);
        device.set_cipher(Some(device_cipher));
        phone.set_cipher(Some(phone_cipher));
        phone.set_security_mode(SecurityMode::DATA_PROTECTED);
        let both = Protection {
            checksum: true,
            encrypt: true,
        };
        let opmode = Kind::Control(ControlSubtype::SetOperationMode);
        phone.send_with(opmode, &[1], both, true).expect("sends");
        phone
            .send(Kind::Data(DataSubtype::StaSsid), b"HomeNet", false)
            .expect("sends");
        let frames = drain(&mut phone);
        assert_eq!(frames[0][1], 0x0b, "encrypted, checksum, ACK requested");
        assert_eq!(
            device.handle_frame(&frames[0]).expect("decrypts"),
            Some(Message {
                kind: opmode,
                data: vec![1]
            })
        );
        assert_eq!(
            device
                .handle_frame(&frames[1])
                .expect("stream in step")
                .map(|m| m.data),
            Some(b"HomeNet".to_vec()),
            "{generation:?}"
        );
        // The ACK is a control frame: never encrypted by the device.
        let ack = drain(&mut device);
        assert_eq!(ack, [vec![0x00, 0x04, 0x00, 0x01, 0x00]]);
    }
}
