//! The protocomm transcripts of `shared/vectors/protocomm-sec{1,2}.json` (esp_prov v5.5.5 against a
//! device emulator), reproduced byte for byte by both of our sides: every client message comes out
//! of our client state machine, every device message out of our device one, given the same
//! randomness; every encrypted body decrypts to the recorded plaintext, which decodes with our
//! protobuf messages and re-encodes to the same bytes.

use std::collections::VecDeque;

use prost::Message as _;
use rand_core::{CryptoRng, RngCore};
use serde_json::Value;
use wifiprov_protocomm::proto::wifi_provisioning::{WiFiConfigPayload, wi_fi_config_payload};
use wifiprov_protocomm::sec2::Patch;
use wifiprov_protocomm::srp::{self, XDerivation};
use wifiprov_protocomm::wifi::{
    Action, Config, Connected, ProtoVer, Provisioner, Station, request,
};
use wifiprov_protocomm::{Next, sec1, sec2};
use wifiprov_testkit::shared::{hex, load_json, vector_path};

/// Hands out recorded random bytes in order; running out is a test failure (the state machine
/// drew more randomness than the reference did).
struct Replay(VecDeque<u8>);

impl Replay {
    fn new(parts: &[&str]) -> Self {
        Self(parts.iter().flat_map(|p| hex(p)).collect())
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

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
                .expect("drew more randomness than the reference");
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoRng for Replay {}

fn transcripts(file: &str) -> Vec<Value> {
    let data = load_json(&vector_path(file));
    let list = data["transcripts"].as_array().expect("transcripts").clone();
    assert!(!list.is_empty(), "{file} has no transcripts");
    list
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("missing string {key}"))
}

/// The handshake messages (prov-session) in order, then the encrypted ones.
fn split(messages: &[Value]) -> (Vec<&Value>, Vec<&Value>) {
    let session = messages
        .iter()
        .filter(|m| m["endpoint"] == "prov-session")
        .collect();
    let data = messages
        .iter()
        .filter(|m| m["endpoint"] != "prov-session" && m["endpoint"] != "proto-ver")
        .collect();
    (session, data)
}

fn from_client(m: &Value) -> bool {
    m["dir"] == "client->device"
}

/// prov-config plaintexts decode with our messages and re-encode identically.
fn check_config_plaintexts(name: &str, data: &[&Value], ssid: &str, passphrase: &str) {
    let mut saw_set_config = false;
    for m in data.iter().filter(|m| m["endpoint"] == "prov-config") {
        let plain = hex(s(m, "plaintext_hex"));
        let payload = WiFiConfigPayload::decode(plain.as_slice())
            .unwrap_or_else(|e| panic!("{name} message {}: {e}", m["n"]));
        assert_eq!(
            payload.encode_to_vec(),
            plain,
            "{name} message {} re-encodes",
            m["n"]
        );
        if let Some(wi_fi_config_payload::Payload::CmdSetConfig(cmd)) = payload.payload {
            assert_eq!(cmd.ssid, ssid.as_bytes());
            assert_eq!(cmd.passphrase, passphrase.as_bytes());
            saw_set_config = true;
        }
    }
    assert!(saw_set_config, "{name}: no CmdSetConfig");
}

#[test]
fn sec1_transcripts_are_reproduced_by_both_sides() {
    for t in transcripts("protocomm-sec1.json") {
        let name = s(&t, "name");
        let inputs = &t["inputs"];
        let pop = s(inputs, "pop").as_bytes();
        let (session, data) = split(t["messages"].as_array().expect("messages"));
        assert_eq!(session.len(), 4, "{name}: two exchanges");

        // Client: Cmd0 from its key, Cmd1 from the device's reply, then established.
        let mut rng = Replay::new(&[s(inputs, "client_private_key_hex")]);
        let (mut client, next) = sec1::Client::start(pop, &mut rng);
        assert!(
            rng.is_empty(),
            "{name}: client drew exactly its private key"
        );
        assert_eq!(
            next,
            Next::Send(hex(s(session[0], "hex"))),
            "{name}: SessionCmd0"
        );
        let next = client
            .handle_reply(&hex(s(session[1], "hex")))
            .expect("Resp0");
        assert_eq!(
            next,
            Next::Send(hex(s(session[2], "hex"))),
            "{name}: SessionCmd1"
        );
        assert_eq!(
            client.handle_reply(&hex(s(session[3], "hex"))),
            Ok(Next::Established)
        );

        // Device: Resp0 from its key and random, Resp1 from the client's proof.
        let mut rng = Replay::new(&[
            s(inputs, "device_private_key_hex"),
            s(inputs, "device_random_hex"),
        ]);
        let mut device = sec1::Device::new(pop);
        let resp0 = device.handle_request(&hex(s(session[0], "hex")), &mut rng);
        assert_eq!(resp0, Ok(hex(s(session[1], "hex"))), "{name}: SessionResp0");
        let resp1 = device.handle_request(&hex(s(session[2], "hex")), &mut rng);
        assert_eq!(resp1, Ok(hex(s(session[3], "hex"))), "{name}: SessionResp1");
        assert!(
            rng.is_empty(),
            "{name}: device drew exactly its key and random"
        );
        assert!(device.is_established());

        // One keystream, both directions, in order.
        for m in &data {
            let (wire, plain) = (hex(s(m, "hex")), hex(s(m, "plaintext_hex")));
            if from_client(m) {
                assert_eq!(client.cipher().unwrap().encrypt(&plain), Ok(wire.clone()));
                assert_eq!(
                    device.cipher().unwrap().decrypt(&wire),
                    Ok(plain),
                    "{name} {}",
                    m["n"]
                );
            } else {
                assert_eq!(device.cipher().unwrap().encrypt(&plain), Ok(wire.clone()));
                assert_eq!(
                    client.cipher().unwrap().decrypt(&wire),
                    Ok(plain),
                    "{name} {}",
                    m["n"]
                );
            }
        }
        check_config_plaintexts(name, &data, s(inputs, "ssid"), s(inputs, "passphrase"));
    }
}

#[test]
fn sec1_spec_vector_first_request() {
    // Spec §3.6: after the handshake, the first prov-config request (CmdGetStatus, 5200) is 21b8.
    let mut rng =
        Replay::new(&["0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"]);
    let (mut client, mut next) = sec1::Client::start(b"abcd1234", &mut rng);
    let mut device_rng = Replay::new(&[
        "4142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f60",
        "000102030405060708090a0b0c0d0e0f",
    ]);
    let mut device = sec1::Device::new(b"abcd1234");
    while let Next::Send(request) = next {
        let reply = device
            .handle_request(&request, &mut device_rng)
            .expect("device");
        next = client.handle_reply(&reply).expect("client");
    }
    assert_eq!(
        client.cipher().unwrap().encrypt(&hex("5200")),
        Ok(hex("21b8"))
    );
}

#[test]
fn sec1_wrong_pop_is_refused_by_the_device() {
    let mut rng = rand::rngs::OsRng;
    let (mut client, next) = sec1::Client::start(b"wrong pop", &mut rng);
    let mut device = sec1::Device::new(b"abcd1234");
    let Next::Send(cmd0) = next else { panic!() };
    let resp0 = device.handle_request(&cmd0, &mut rng).expect("Resp0");
    let Next::Send(cmd1) = client.handle_reply(&resp0).expect("Cmd1") else {
        panic!()
    };
    assert!(matches!(
        device.handle_request(&cmd1, &mut rng),
        Err(wifiprov_protocomm::Error::WrongProof(_))
    ));
    assert!(!device.is_established());
    assert!(device.cipher().is_err(), "no data before a handshake");
}

#[test]
fn sec2_transcripts_are_reproduced_by_both_sides() {
    let list = transcripts("protocomm-sec2.json");
    let patches: Vec<u64> = list
        .iter()
        .map(|t| t["sec_patch_ver"].as_u64().expect("sec_patch_ver"))
        .collect();
    assert!(
        patches.contains(&0) && patches.contains(&1),
        "both nonce modes are covered"
    );
    for t in list {
        let name = s(&t, "name");
        let inputs = &t["inputs"];
        let derived = &t["derived"];
        let patch = Patch::from_version(t["sec_patch_ver"].as_u64().map(|p| p as u32));
        let (username, password) = (s(inputs, "username"), s(inputs, "password"));
        let (salt, verifier) = (hex(s(inputs, "salt_hex")), hex(s(inputs, "verifier_hex")));
        let (session, data) = split(t["messages"].as_array().expect("messages"));
        assert_eq!(session.len(), 4, "{name}: two exchanges");

        // The verifier is v = g^x for the example credentials (ESP-IDF's derivation).
        assert_eq!(
            srp::verifier(
                &salt,
                username.as_bytes(),
                password.as_bytes(),
                XDerivation::EspIdf
            ),
            Ok(verifier.clone()),
            "{name}: verifier"
        );

        // Client: Cmd0 (username, A) from a, Cmd1 (M1) from B and the salt, then M2 checks.
        let mut rng = Replay::new(&[s(inputs, "client_a_hex")]);
        let (mut client, next) = sec2::Client::start(
            username.as_bytes(),
            password.as_bytes(),
            patch,
            XDerivation::EspIdf,
            &mut rng,
        )
        .expect("start");
        assert!(rng.is_empty(), "{name}: client drew exactly a");
        assert_eq!(
            next,
            Next::Send(hex(s(session[0], "hex"))),
            "{name}: S2SessionCmd0"
        );
        let next = client
            .handle_reply(&hex(s(session[1], "hex")))
            .expect("Resp0");
        assert_eq!(
            next,
            Next::Send(hex(s(session[2], "hex"))),
            "{name}: S2SessionCmd1 (M1 = {})",
            s(derived, "M1_hex")
        );
        assert_eq!(
            client.handle_reply(&hex(s(session[3], "hex"))),
            Ok(Next::Established),
            "{name}: M2 verifies"
        );

        // Device: Resp0 (B, salt) from b, Resp1 (M2, nonce) from M1 and the session id / IV.
        let nonce_input = match patch {
            Patch::Counter => s(inputs, "session_id_hex"),
            _ => s(inputs, "device_nonce_hex"),
        };
        let mut rng = Replay::new(&[s(inputs, "device_b_hex"), nonce_input]);
        let mut device = sec2::Device::new(&salt, &verifier, patch).expect("device");
        let resp0 = device.handle_request(&hex(s(session[0], "hex")), &mut rng);
        assert_eq!(
            resp0,
            Ok(hex(s(session[1], "hex"))),
            "{name}: S2SessionResp0 (B = {}…)",
            &s(derived, "B_hex")[..16]
        );
        let resp1 = device.handle_request(&hex(s(session[2], "hex")), &mut rng);
        assert_eq!(
            resp1,
            Ok(hex(s(session[3], "hex"))),
            "{name}: S2SessionResp1"
        );
        assert!(
            rng.is_empty(),
            "{name}: device drew exactly b and the nonce"
        );
        assert!(device.is_established());

        // AES-256-GCM: each message with its recorded nonce, both directions.
        for m in &data {
            let (wire, plain) = (hex(s(m, "hex")), hex(s(m, "plaintext_hex")));
            let nonce = hex(s(m, "gcm_nonce_hex"));
            let (sender, receiver) = if from_client(m) {
                (client.cipher().unwrap(), device.cipher().unwrap())
            } else {
                (device.cipher().unwrap(), client.cipher().unwrap())
            };
            assert_eq!(
                sender.next_nonce(),
                Some(nonce.clone()),
                "{name} {} nonce",
                m["n"]
            );
            assert_eq!(
                sender.encrypt(&plain),
                Ok(wire.clone()),
                "{name} {}",
                m["n"]
            );
            assert_eq!(
                receiver.next_nonce(),
                Some(nonce),
                "{name} {} nonce",
                m["n"]
            );
            assert_eq!(receiver.decrypt(&wire), Ok(plain), "{name} {}", m["n"]);
        }
        check_config_plaintexts(name, &data, s(inputs, "ssid"), s(inputs, "passphrase"));
    }
}

#[test]
fn sec2_wrong_password_is_refused_by_the_device() {
    let t = &transcripts("protocomm-sec2.json")[0];
    let inputs = &t["inputs"];
    let (salt, verifier) = (hex(s(inputs, "salt_hex")), hex(s(inputs, "verifier_hex")));
    let mut rng = rand::rngs::OsRng;
    for (username, password) in [("wifiprov", "abcd1235"), ("wifiprom", "abcd1234")] {
        let (_client, next) = sec2::Client::start(
            username.as_bytes(),
            password.as_bytes(),
            Patch::Counter,
            XDerivation::EspIdf,
            &mut rng,
        )
        .expect("start");
        let (mut client, _) = (_client, ());
        let mut device = sec2::Device::new(&salt, &verifier, Patch::Counter).expect("device");
        let Next::Send(cmd0) = next else { panic!() };
        let resp0 = device.handle_request(&cmd0, &mut rng).expect("Resp0");
        let Next::Send(cmd1) = client.handle_reply(&resp0).expect("Cmd1") else {
            panic!()
        };
        assert!(matches!(
            device.handle_request(&cmd1, &mut rng),
            Err(wifiprov_protocomm::Error::WrongProof(_))
        ));
        assert!(!device.is_established());
        assert!(device.cipher().is_err(), "no data before a handshake");
    }
}

#[test]
fn sec2_spec_vectors() {
    // Spec §3.6 (b): k, and the first request / response of the patch-1 session.
    let t = &transcripts("protocomm-sec2.json")[0];
    assert_eq!(
        s(&t["derived"], "k_hex"),
        "a9c2e2559bf0ebb53f0cbbf62282906bede7f2182f00678211fbd5bde5b285033a4993503b87397f9be5ec02080fedbc0835587ad039060879b8621e8c3659e0"
    );
    let inputs = &t["inputs"];
    let (salt, verifier) = (hex(s(inputs, "salt_hex")), hex(s(inputs, "verifier_hex")));
    let mut client_rng =
        Replay::new(&["a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5"]);
    let (mut client, mut next) = sec2::Client::start(
        b"wifiprov",
        b"abcd1234",
        Patch::Counter,
        XDerivation::EspIdf,
        &mut client_rng,
    )
    .expect("start");
    let mut device_rng = Replay::new(&[
        "5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b",
        "e0e1e2e3e4e5e6e7",
    ]);
    let mut device = sec2::Device::new(&salt, &verifier, Patch::Counter).expect("device");
    while let Next::Send(request) = next {
        let reply = device
            .handle_request(&request, &mut device_rng)
            .expect("device");
        next = client.handle_reply(&reply).expect("client");
    }
    assert_eq!(
        client.cipher().unwrap().encrypt(&hex("5200")),
        Ok(hex("1bfc4b8dfb9c50f05c5d558cc26b09843cd9"))
    );
    assert_eq!(
        device
            .cipher()
            .unwrap()
            .decrypt(&hex("1bfc4b8dfb9c50f05c5d558cc26b09843cd9")),
        Ok(hex("5200"))
    );
    assert_eq!(
        device.cipher().unwrap().encrypt(&hex("08015a021001")),
        Ok(hex("5851ad56b7bbd0fe47493f9eeba8d2b5290b76f9d104"))
    );
}

/// The device emulator's plaintext answers come out of our provisioner, given the same
/// requests and the same station reports; the proto-ver body is the same text.
fn check_provisioner(t: &Value) {
    let name = s(t, "name");
    let inputs = &t["inputs"];
    let messages = t["messages"].as_array().expect("messages");
    let security = u8::try_from(t["security"].as_u64().expect("security")).expect("u8");
    let patch = t["sec_patch_ver"]
        .as_u64()
        .map(|p| u8::try_from(p).expect("u8"));
    let advertises = t["proto_ver_advertises_patch"].as_bool().unwrap_or(true);
    let proto_ver = ProtoVer {
        version: "v1.1".into(),
        security,
        patch: if advertises {
            Some(patch.unwrap_or(0))
        } else {
            None
        },
        capabilities: ProtoVer::capabilities_for(security, true),
    };
    let recorded = messages
        .iter()
        .find(|m| m["endpoint"] == "proto-ver" && m["dir"] == "device->client")
        .expect("proto-ver answer");
    assert_eq!(proto_ver.render(), s(recorded, "text"), "{name}: proto-ver");

    let connected = &inputs["device_connected_state"];
    let ip: Vec<u8> = s(connected, "ip4_addr")
        .split('.')
        .map(|p| p.parse().unwrap())
        .collect();
    let state = Connected {
        ip: ip.try_into().unwrap(),
        auth_mode: i32::try_from(connected["auth_mode"].as_i64().unwrap()).unwrap(),
        ssid: s(inputs, "ssid").as_bytes().to_vec(),
        bssid: wifiprov_testkit::shared::mac(s(connected, "bssid")),
        channel: i32::try_from(connected["channel"].as_i64().unwrap()).unwrap(),
    };
    let mut provisioner = Provisioner::new(Config::default());
    let config: Vec<&Value> = messages
        .iter()
        .filter(|m| m["endpoint"] == "prov-config")
        .collect();
    let mut status_polls = 0;
    for pair in config.chunks(2) {
        let (request, answer) = (pair[0], pair[1]);
        let is_status = request["message"] == "CmdGetStatus";
        if is_status {
            status_polls += 1;
            // The first poll finds the device still connecting, the second connected.
            if status_polls == 2 {
                provisioner.set_station(Station::Connected(state.clone()));
            }
        }
        let (response, action) = provisioner
            .handle_config(&hex(s(request, "plaintext_hex")))
            .unwrap_or_else(|e| panic!("{name}: {} {e}", s(request, "message")));
        assert_eq!(
            response,
            hex(s(answer, "plaintext_hex")),
            "{name}: {}",
            s(answer, "message")
        );
        match s(request, "message") {
            "CmdApplyConfig" => match action {
                Some(Action::Apply(credentials)) => {
                    assert_eq!(credentials.ssid, s(inputs, "ssid").as_bytes());
                    assert_eq!(
                        credentials.passphrase.as_slice(),
                        s(inputs, "passphrase").as_bytes()
                    );
                }
                other => panic!("{name}: apply gave {other:?}"),
            },
            "CmdGetStatus" if status_polls == 2 => assert_eq!(action, Some(Action::Done)),
            _ => assert_eq!(action, None),
        }
    }
    assert_eq!(status_polls, 2, "{name}");
}

#[test]
fn provisioner_answers_like_the_device_emulator() {
    for file in ["protocomm-sec1.json", "protocomm-sec2.json"] {
        for t in transcripts(file) {
            check_provisioner(&t);
        }
    }
}

#[test]
fn client_requests_are_esp_provs_bytes() {
    for file in ["protocomm-sec1.json", "protocomm-sec2.json"] {
        for t in transcripts(file) {
            let inputs = &t["inputs"];
            for m in t["messages"].as_array().unwrap() {
                let ours = match m["message"].as_str() {
                    Some("CmdSetConfig") => request::set_config(
                        s(inputs, "ssid").as_bytes(),
                        s(inputs, "passphrase").as_bytes(),
                        None,
                        0,
                    )
                    .to_vec(),
                    Some("CmdApplyConfig") => request::apply_config(),
                    Some("CmdGetStatus") => request::get_status(),
                    _ => continue,
                };
                assert_eq!(
                    ours,
                    hex(s(m, "plaintext_hex")),
                    "{} {}",
                    s(&t, "name"),
                    m["n"]
                );
            }
        }
    }
}
