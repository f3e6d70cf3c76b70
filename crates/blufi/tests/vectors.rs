//! The vectors of `tests/data/blufi-derived.json`: the spec's own values (§7.3, §7.6) and
//! vectors derived from its rules by `tests/data/derive_vectors.py` (Python `hashlib`,
//! `binascii` and `cryptography`, independent of this crate). Every intermediate is checked:
//! keys, IVs, each frame, and the reassembled messages on the receiving side.

use std::collections::HashSet;
use std::path::Path;

use std::collections::VecDeque;

use rand_core::{CryptoRng, RngCore};
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use wifiprov_blufi::client::{self, Client};
use wifiprov_blufi::device::{self, Device};
use wifiprov_blufi::link::{Link, Role, Sizing};
use wifiprov_blufi::message::{parse_wifi_list, wifi_list_to_vec};
use wifiprov_blufi::security::{self, DEVICE_DECRYPT_LABEL, DEVICE_ENCRYPT_LABEL};
use wifiprov_blufi::{
    Cipher, ControlSubtype, DataSubtype, Frame, FrameControl, Generation, Kind, OperationMode,
    Repr, SecurityMode, Status, crc,
};
use wifiprov_testkit::shared::{hex, load_json};

fn vectors() -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/blufi-derived.json");
    let value = load_json(&path);
    let list = value.as_array().expect("an array").clone();
    assert!(!list.is_empty());
    list
}

fn of_kind(kind: &str) -> Vec<Value> {
    let list: Vec<Value> = vectors()
        .into_iter()
        .filter(|v| v["kind"] == kind)
        .collect();
    assert!(!list.is_empty(), "no {kind} vectors");
    list
}

fn name(v: &Value) -> &str {
    v["name"].as_str().expect("name")
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{}: missing string {key}", name(v)))
}

fn n(v: &Value, key: &str) -> i64 {
    v[key]
        .as_i64()
        .unwrap_or_else(|| panic!("{}: missing number {key}", name(v)))
}

fn kind_of(v: &Value) -> Kind {
    let subtype = n(v, "subtype") as u8;
    match n(v, "frame_type") {
        0 => Kind::Control(ControlSubtype::from(subtype)),
        1 => Kind::Data(DataSubtype::from(subtype)),
        other => panic!("frame type {other}"),
    }
}

#[test]
fn every_vector_has_a_unique_name_and_a_source() {
    let mut names = HashSet::new();
    for (i, v) in vectors().iter().enumerate() {
        let name = v["name"]
            .as_str()
            .unwrap_or_else(|| panic!("vector {i}: no name"));
        assert!(names.insert(name.to_owned()), "duplicate {name}");
        assert!(
            v["source"].as_str().is_some_and(|s| s.len() > 20),
            "{name}: no source"
        );
        assert!(v["kind"].is_string(), "{name}: no kind");
    }
}

#[test]
fn crc_vectors() {
    for v in of_kind("crc") {
        assert_eq!(
            i64::from(crc::checksum(&hex(s(&v, "input_hex")))),
            n(&v, "crc"),
            "{}",
            name(&v)
        );
    }
}

#[test]
fn frame_vectors_parse_and_emit() {
    for v in of_kind("frame") {
        let bytes = hex(s(&v, "frame_hex"));
        let frame = Frame::new_checked(&bytes[..]).unwrap_or_else(|e| panic!("{}: {e}", name(&v)));
        let repr = Repr::parse(&frame).unwrap_or_else(|e| panic!("{}: {e}", name(&v)));
        let data = hex(s(&v, "data_hex"));
        assert_eq!(repr.kind, kind_of(&v), "{}: kind", name(&v));
        assert_eq!(
            i64::from(repr.control.bits()),
            n(&v, "fc"),
            "{}: fc",
            name(&v)
        );
        assert_eq!(i64::from(repr.sequence), n(&v, "seq"), "{}: seq", name(&v));
        assert_eq!(repr.data, &data[..], "{}: data", name(&v));
        let mut out = Frame::new_unchecked(vec![0xa5; repr.buffer_len()]);
        repr.emit(&mut out).expect("emits");
        assert_eq!(out.into_inner(), bytes, "{}: emit", name(&v));
        for cut in 0..bytes.len() {
            assert!(
                Frame::new_checked(&bytes[..cut]).is_err(),
                "{}: prefix {cut}",
                name(&v)
            );
        }
    }
}

#[test]
fn status_vectors() {
    for v in of_kind("status") {
        let data = hex(s(&v, "data_hex"));
        let status = Status::parse(&data).unwrap_or_else(|e| panic!("{}: {e}", name(&v)));
        assert_eq!(
            i64::from(u8::from(status.operation_mode)),
            n(&v, "operation_mode")
        );
        assert_eq!(
            i64::from(u8::from(status.station_state)),
            n(&v, "station_state")
        );
        assert_eq!(
            i64::from(status.softap_connections),
            n(&v, "softap_connections")
        );
        assert_eq!(
            status.bssid.map(|b| b.to_vec()),
            Some(hex(s(&v, "bssid_hex")))
        );
        assert_eq!(status.ssid.as_deref(), Some(s(&v, "ssid").as_bytes()));
        assert_eq!(status.end_reason.map(i64::from), Some(n(&v, "end_reason")));
        assert_eq!(status.rssi.map(i64::from), Some(n(&v, "rssi")));
        assert!(status.extra.is_empty());
        assert_eq!(status.to_vec().expect("emits"), data, "{}: emit", name(&v));
    }
}

#[test]
fn wifi_list_vectors() {
    for v in of_kind("wifi_list") {
        let data = hex(s(&v, "data_hex"));
        let expected: Vec<(Vec<u8>, i8)> = v["networks"]
            .as_array()
            .expect("networks")
            .iter()
            .map(|net| (s(net, "ssid").as_bytes().to_vec(), n(net, "rssi") as i8))
            .collect();
        assert_eq!(
            parse_wifi_list(&data).expect("parses"),
            expected,
            "{}",
            name(&v)
        );
        assert_eq!(
            wifi_list_to_vec(&expected).expect("emits"),
            data,
            "{}",
            name(&v)
        );
    }
}

#[test]
fn v1_key_vectors() {
    for v in of_kind("v1_key") {
        let key = security::v1_key(&hex(s(&v, "secret_hex")));
        assert_eq!(key.to_vec(), hex(s(&v, "key_hex")), "{}", name(&v));
    }
}

#[test]
fn v2_key_vectors() {
    for v in of_kind("v2_key") {
        let secret = hex(s(&v, "secret_hex"));
        assert_eq!(secret.len(), 384, "{}", name(&v));
        assert_eq!(
            security::v2_key(&secret).to_vec(),
            hex(s(&v, "key_hex")),
            "{}: key",
            name(&v)
        );
        assert_eq!(
            security::v2_iv(DEVICE_ENCRYPT_LABEL, &secret).to_vec(),
            hex(s(&v, "iv_enc_hex")),
            "{}: IV(blufi_enc)",
            name(&v)
        );
        assert_eq!(
            security::v2_iv(DEVICE_DECRYPT_LABEL, &secret).to_vec(),
            hex(s(&v, "iv_dec_hex")),
            "{}: IV(blufi_dec)",
            name(&v)
        );
    }
}

fn sizing(v: &Value) -> Sizing {
    let sizing = &v["sizing"];
    match s(sizing, "rule") {
        "device" => Sizing::device(n(sizing, "mtu") as u16),
        "phone" => Sizing::phone(n(sizing, "mtu") as u16),
        "phone_default" => Sizing::phone_default(),
        other => panic!("{}: sizing rule {other}", name(v)),
    }
}

fn link(v: &Value, role: Role) -> Link {
    let mut link = Link::new(role, sizing(v), 4096);
    let generation = match v["generation"].as_str() {
        None => return link,
        Some("v1") => Generation::V1,
        Some("v2") => Generation::V2,
        Some(other) => panic!("{}: generation {other}", name(v)),
    };
    let secret = hex(s(v, "secret_hex"));
    link.set_cipher(Some(Cipher::new(generation, &secret, role)));
    link.set_security_mode(SecurityMode::from(n(v, "mode") as u8));
    link
}

#[test]
fn link_vectors_send_byte_exact_and_reassemble() {
    for v in of_kind("link") {
        let (sender_role, receiver_role) = match s(&v, "sender") {
            "device" => (Role::Device, Role::Phone),
            "phone" => (Role::Phone, Role::Device),
            other => panic!("{}: sender {other}", name(&v)),
        };
        let messages: Vec<(Kind, Vec<u8>)> = v["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .map(|m| (kind_of(m), hex(s(m, "data_hex"))))
            .collect();
        let expected: Vec<Vec<u8>> = v["frames_hex"]
            .as_array()
            .expect("frames")
            .iter()
            .map(|f| hex(f.as_str().expect("hex")))
            .collect();

        let mut sender = link(&v, sender_role);
        for (kind, data) in &messages {
            sender
                .send(*kind, data, false)
                .unwrap_or_else(|e| panic!("{}: {e}", name(&v)));
        }
        let frames: Vec<Vec<u8>> = std::iter::from_fn(|| sender.poll_transmit()).collect();
        assert_eq!(frames.len(), expected.len(), "{}: frame count", name(&v));
        for (i, (got, want)) in frames.iter().zip(&expected).enumerate() {
            assert_eq!(hex_string(got), hex_string(want), "{}: frame {i}", name(&v));
        }
        if sender_role == Role::Device {
            assert!(frames.iter().all(|f| {
                Frame::new_unchecked(&f[..])
                    .control()
                    .contains(FrameControl::TO_PHONE)
            }));
        }

        let mut receiver = link(&v, receiver_role);
        let mut received = Vec::new();
        for (i, frame) in expected.iter().enumerate() {
            if let Some(message) = receiver
                .handle_frame(frame)
                .unwrap_or_else(|e| panic!("{}: receiving frame {i}: {e}", name(&v)))
            {
                received.push((message.kind, message.data));
            }
        }
        assert_eq!(received, messages, "{}: reassembled", name(&v));
    }
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn prime_vectors() {
    for v in of_kind("prime") {
        let prime: &[u8] = match s(&v, "prime") {
            "ffdhe3072" => &security::FFDHE3072_PRIME,
            "v1" => &security::V1_PRIME,
            other => panic!("{}: prime {other}", name(&v)),
        };
        assert_eq!(
            hex_string(&Sha256::digest(prime)),
            s(&v, "sha256"),
            "{}",
            name(&v)
        );
        let bits = prime.len() * 8 - prime[0].leading_zeros() as usize;
        assert_eq!(bits as i64, n(&v, "bits"), "{}", name(&v));
    }
    assert_eq!(
        security::FFDHE3072_PRIME[..8],
        [0xff; 8],
        "ffdhe3072 top 64 bits"
    );
    assert_eq!(
        security::FFDHE3072_PRIME[376..],
        [0xff; 8],
        "ffdhe3072 bottom 64 bits"
    );
}

/// Hands out recorded random bytes in order; running out is a test failure.
struct Replay(VecDeque<u8>);

impl RngCore for Replay {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }
    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for byte in dest {
            *byte = self
                .0
                .pop_front()
                .expect("drew more randomness than the vector holds");
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoRng for Replay {}

/// Everything both sides queue, delivered to the other side and recorded.
fn pump(
    client: &mut Client,
    device: &mut Device,
    rng: &mut Replay,
    up: &mut Vec<Vec<u8>>,
    down: &mut Vec<Vec<u8>>,
) {
    loop {
        let mut moved = false;
        while let Some(frame) = client.poll_transmit() {
            device.handle_write(&frame, rng).expect("device handles");
            up.push(frame);
            moved = true;
        }
        while let Some(frame) = device.poll_transmit() {
            client.handle_notification(&frame).expect("client handles");
            down.push(frame);
            moved = true;
        }
        if !moved {
            return;
        }
    }
}

fn assert_frames(name: &str, direction: &str, got: &[Vec<u8>], want: &Value) {
    let want: Vec<&str> = want
        .as_array()
        .expect("frames")
        .iter()
        .map(|f| f.as_str().expect("hex"))
        .collect();
    for (i, (got, want)) in got.iter().zip(&want).enumerate() {
        assert_eq!(hex_string(got), *want, "{name}: {direction} frame {i}");
    }
    assert_eq!(got.len(), want.len(), "{name}: {direction} frame count");
}

#[test]
fn conversation_vectors_reproduce_byte_for_byte() {
    for v in of_kind("conversation") {
        let name = name(&v);
        let generation = match s(&v, "generation") {
            "v1" => Generation::V1,
            "v2" => Generation::V2,
            other => panic!("{name}: generation {other}"),
        };
        let mut phone_rng = Replay(hex(s(&v, "phone_random_hex")).into());
        let mut device_rng = Replay(hex(s(&v, "device_random_hex")).into());
        let mut device = Device::new(device::Config::new(generation));
        let mut client = Client::new(client::Config::new());
        let (mut up, mut down) = (Vec::new(), Vec::new());

        client.request_version().expect("queued");
        pump(
            &mut client,
            &mut device,
            &mut device_rng,
            &mut up,
            &mut down,
        );
        client.negotiate(&mut phone_rng).expect("queued");
        pump(
            &mut client,
            &mut device,
            &mut device_rng,
            &mut up,
            &mut down,
        );
        assert!(phone_rng.0.is_empty(), "{name}: phone randomness left over");
        assert!(
            device_rng.0.is_empty(),
            "{name}: device randomness left over"
        );
        client
            .set_security_mode(SecurityMode::DATA_PROTECTED)
            .expect("queued");
        client
            .set_operation_mode(OperationMode::Station)
            .expect("queued");
        client
            .send_station(b"HomeNet", b"secret123", None)
            .expect("queued");
        client.connect().expect("queued");
        pump(
            &mut client,
            &mut device,
            &mut device_rng,
            &mut up,
            &mut down,
        );
        let status = Status::parse(&hex(s(&v, "status_hex"))).expect("status");
        device.send_status(&status).expect("queued");
        pump(
            &mut client,
            &mut device,
            &mut device_rng,
            &mut up,
            &mut down,
        );

        assert_frames(name, "phone → device", &up, &v["up_hex"]);
        assert_frames(name, "device → phone", &down, &v["down_hex"]);

        // The intermediates: both public keys are on the wire as recorded (checked above
        // through the frames); the secret gives the recorded key.
        let secret = hex(s(&v, "secret_hex"));
        let key = match generation {
            Generation::V1 => security::v1_key(&secret).to_vec(),
            Generation::V2 => security::v2_key(&secret).to_vec(),
        };
        assert_eq!(hex_string(&key), s(&v, "key_hex"), "{name}: key");
        let device_public = hex(s(&v, "device_public_hex"));
        let mut reassembler = wifiprov_blufi::link::Reassembler::new(4096);
        let mut reply = None;
        for frame in &down {
            let frame = Frame::new_checked(&frame[..]).expect("frame");
            if frame.kind() == Some(Kind::Data(DataSubtype::Negotiation)) {
                reply = reassembler
                    .push(
                        Kind::Data(DataSubtype::Negotiation),
                        frame.control().contains(FrameControl::FRAGMENT),
                        frame.data(),
                    )
                    .expect("reassembles")
                    .or(reply);
            }
        }
        assert_eq!(
            reply.map(|m| m.data),
            Some(device_public),
            "{name}: device public key"
        );

        let events: Vec<_> = std::iter::from_fn(|| device.poll_event()).collect();
        let Some(device::Event::ConnectRequested(credentials)) = events.last() else {
            panic!("{name}: {events:?}");
        };
        assert_eq!(credentials.password.as_slice(), b"secret123", "{name}");
        let events: Vec<_> = std::iter::from_fn(|| client.poll_event()).collect();
        assert_eq!(
            events.last(),
            Some(&client::Event::Status(status)),
            "{name}"
        );
    }
}
