//! ESP-TOUCH v2 reference vectors (`../shared/vectors/esptouch-v2.json`, read in place): every
//! case is reproduced exactly by the encoder from its recorded randomness and decoded back from
//! the reference lengths; encrypted cases without the key or with a wrong key never give
//! credentials. Also the real-device log of spec §2.7 c) and the capture sidecar's sent lengths.

use serde_json::Value;
use wifiprov_esptouch::v2::{
    Config, Decoder, DecoderConfig, Encoder, GroupState, Header, IpVersion, Outcome, Replay,
};
use wifiprov_sniff::{Decoder as _, Direction, Instant, Mac, Observation, Progress};
use wifiprov_testkit::air::{Air, PHONE};
use wifiprov_testkit::shared::{capture_sidecars, hex, lengths, mac, vector_cases};

/// One vector's inputs.
struct Case {
    n: usize,
    name: String,
    ssid: Vec<u8>,
    password: Vec<u8>,
    reserved: Vec<u8>,
    bssid: Mac,
    ip_version: IpVersion,
    key: Option<[u8; 16]>,
    security_ver: u8,
    port_mark: u8,
    random: Vec<u8>,
    header: Vec<u8>,
    group_count: usize,
    encrypted: bool,
    lengths: Vec<u16>,
}

impl Case {
    fn of(n: usize, v: &Value) -> Self {
        let name = v["name"].as_str().unwrap_or("?").to_owned();
        let text = |field: &str| {
            v[field]
                .as_str()
                .unwrap_or_else(|| panic!("vector {n} ({name}): {field}"))
                .to_owned()
        };
        let key = v["aes_key"].as_str().map(|k| {
            <[u8; 16]>::try_from(k.as_bytes())
                .unwrap_or_else(|_| panic!("vector {n} ({name}): key is not 16 bytes"))
        });
        Self {
            n,
            ssid: hex(&text("ssid_hex")),
            password: hex(&text("password_hex")),
            reserved: hex(&text("reserved_data_hex")),
            bssid: mac(&text("bssid")),
            ip_version: if text("ip").parse::<std::net::Ipv4Addr>().is_ok() {
                IpVersion::V4
            } else {
                IpVersion::V6
            },
            key,
            security_ver: v["security_ver"].as_u64().expect("security_ver") as u8,
            port_mark: v["port_mark"].as_u64().expect("port_mark") as u8,
            random: hex(&text("random_hex")),
            header: hex(&text("header_hex")),
            group_count: v["group_count"].as_u64().expect("group_count") as usize,
            encrypted: v["encrypted"].as_bool().expect("encrypted"),
            lengths: lengths(&v["lengths"]),
            name,
        }
    }

    fn all() -> Vec<Self> {
        vector_cases("esptouch-v2.json")
            .iter()
            .enumerate()
            .map(|(n, v)| Self::of(n, v))
            .collect()
    }

    fn label(&self) -> String {
        format!("vector {} ({})", self.n, self.name)
    }

    fn config(&self) -> Config<'_> {
        let mut config = Config::new(&self.ssid, &self.password, self.bssid)
            .with_reserved(&self.reserved)
            .with_port_mark(self.port_mark)
            .with_ip_version(self.ip_version);
        config.security_version = self.security_ver;
        config.aes_key = self.key;
        config
    }

    /// The reference lengths (not our encoder's) through lossless air, both copies.
    fn observations(&self, passes: usize) -> Vec<Observation> {
        let stream: Vec<u16> = (0..passes).flat_map(|_| self.lengths.clone()).collect();
        Air {
            bssid: self.bssid,
            gap_ms: 15,
            ..Air::default()
        }
        .transmit(&stream)
    }
}

fn decode(observations: &[Observation], decoder: &mut Decoder) -> Option<Outcome> {
    for obs in observations {
        if decoder.feed(obs) == Progress::Complete {
            return Some(decoder.take().expect("an outcome after Complete"));
        }
    }
    None
}

/// `lengths` + `overhead` as one air copy in `direction`, with consecutive sequence numbers.
fn one_copy(lengths: &[u16], overhead: u16, direction: Direction, bssid: Mac) -> Vec<Observation> {
    lengths
        .iter()
        .enumerate()
        .map(|(i, &len)| {
            let mut o = Observation::new(
                Instant::from_millis(i as u64 * 15),
                len + overhead,
                PHONE,
                bssid,
            );
            o.direction = direction;
            if direction == Direction::FromAp {
                o.transmitter = bssid;
                o.receiver = [0xff; 6];
            }
            o.protected = true;
            o.sequence = Some(((i + 100) & 0xfff) as u16);
            o
        })
        .collect()
}

#[test]
fn encoder_reproduces_every_vector() {
    for case in Case::all() {
        let label = case.label();
        let mut random = Replay::new(&case.random);
        let encoder =
            Encoder::new(&case.config(), &mut random).unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(
            encoder.header().to_vec(),
            case.header,
            "{label}: header_hex"
        );
        assert_eq!(
            encoder.group_count(),
            case.group_count,
            "{label}: group_count"
        );
        assert_eq!(encoder.is_encrypted(), case.encrypted, "{label}: encrypted");
        assert_eq!(
            encoder.lengths().len(),
            case.lengths.len(),
            "{label}: number of lengths"
        );
        for (i, (got, expected)) in encoder.lengths().iter().zip(&case.lengths).enumerate() {
            assert_eq!(got, expected, "{label}: lengths[{i}]");
        }
        assert_eq!(
            random.remaining(),
            0,
            "{label}: random_hex not all consumed"
        );
        assert!(
            !random.overrun(),
            "{label}: more randomness asked than recorded"
        );
    }
}

#[test]
fn decoder_recovers_every_vector() {
    for case in Case::all() {
        let label = case.label();
        let config = DecoderConfig {
            aes_key: case.key,
            ..DecoderConfig::default()
        };
        let mut decoder = Decoder::new(config);
        let outcome = decode(&case.observations(1), &mut decoder)
            .unwrap_or_else(|| panic!("{label}: not decoded from one pass, both copies"));
        let Outcome::Credentials(got) = outcome else {
            panic!("{label}: {outcome:?}");
        };
        assert_eq!(got.ssid(), case.ssid, "{label}: ssid");
        assert_eq!(got.password(), case.password, "{label}: password");
        assert_eq!(got.reserved(), case.reserved, "{label}: reserved data");
        assert_eq!(got.header_bytes().to_vec(), case.header, "{label}: header");
        assert_eq!(got.port_mark(), case.port_mark, "{label}: port mark");
        assert_eq!(
            got.is_ipv4(),
            case.ip_version == IpVersion::V4,
            "{label}: ip"
        );
        assert_eq!(got.is_encrypted(), case.encrypted, "{label}: encrypted");
        if case.encrypted {
            assert_eq!(
                got.security_version(),
                case.security_ver,
                "{label}: security"
            );
        }
        assert_eq!(got.bssid(), case.bssid, "{label}: bssid");
        assert!(got.bssid_verified(), "{label}: bssid CRC");
        assert_eq!(got.sender(), PHONE, "{label}: sender");
        assert!(!got.ssid_missing(), "{label}: ssid flagged missing");
        assert_eq!(
            decoder.locked().map(|(source, bssid, _)| (source, bssid)),
            Some((PHONE, case.bssid)),
            "{label}: lock"
        );
    }
}

#[test]
fn encrypted_vectors_without_the_key_or_with_a_wrong_key_give_no_credentials() {
    let mut checked = 0;
    for case in Case::all().into_iter().filter(|c| c.encrypted) {
        let label = case.label();
        let key = case.key.expect("encrypted cases have a key");
        let outcome = decode(&case.observations(1), &mut Decoder::default())
            .unwrap_or_else(|| panic!("{label}: no outcome without key"));
        let Outcome::KeyNeeded(sealed) = outcome else {
            panic!("{label}: expected KeyNeeded, got {outcome:?}");
        };
        assert!(outcome.credentials().is_none());
        assert_eq!(
            sealed.ssid(),
            case.ssid,
            "{label}: the SSID is not encrypted"
        );
        assert_eq!(
            sealed.header_bytes().to_vec(),
            case.header,
            "{label}: header"
        );
        // The key, once known, opens the sealed result.
        let opened = sealed.open(&key).unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(opened.password(), case.password, "{label}: opened password");
        assert_eq!(opened.reserved(), case.reserved, "{label}: opened reserved");

        for wrong in [[0u8; 16], *b"0123456789abcdeF", *b"ABCDEFGHIJKLMNOQ"] {
            assert!(
                sealed.open(&wrong).is_err(),
                "{label}: opened with {wrong:?}"
            );
            let config = DecoderConfig::default().with_aes_key(wrong);
            let outcome = decode(&case.observations(1), &mut Decoder::new(config))
                .unwrap_or_else(|| panic!("{label}: no outcome with a wrong key"));
            assert!(
                matches!(outcome, Outcome::KeyWrong(_)),
                "{label}: expected KeyWrong, got {outcome:?}"
            );
            assert_eq!(outcome.ssid(), case.ssid);
        }
        checked += 1;
    }
    assert_eq!(checked, 2, "the vector file has two encrypted cases");
}

#[test]
fn one_copy_of_one_pass_needs_a_second_vote_unless_configured() {
    for case in Case::all() {
        let label = case.label();
        for direction in [Direction::ToAp, Direction::FromAp] {
            let once = one_copy(&case.lengths, 76, direction, case.bssid);
            let config = DecoderConfig {
                aes_key: case.key,
                ..DecoderConfig::default()
            };
            assert!(
                decode(&once, &mut Decoder::new(config)).is_none(),
                "{label}: one plane heard once must not decide"
            );
            let twice: Vec<u16> = case.lengths.repeat(2);
            let got = decode(
                &one_copy(&twice, 76, direction, case.bssid),
                &mut Decoder::new(config),
            )
            .unwrap_or_else(|| panic!("{label}: not decoded from two passes, {direction:?}"));
            assert_eq!(
                got.credentials().map(|c| c.password()),
                Some(&case.password[..]),
                "{label}: {direction:?}"
            );
            let single = DecoderConfig {
                min_votes: 1,
                ..config
            };
            let got = decode(&once, &mut Decoder::new(single))
                .unwrap_or_else(|| panic!("{label}: min_votes 1 should decode one pass"));
            assert_eq!(got.ssid(), case.ssid, "{label}: {direction:?}");
        }
    }
}

#[test]
fn real_device_log_of_esp_idf_8431_decodes_header_and_first_group() {
    // Spec §2.7 c): total_seq 4, `1075 1048 1075`, the header planes, group 0's marker and planes.
    let log: Vec<u16> = [
        1075, 1048, 1075, 67, 228, 357, 464, 577, 709, 832, 961, 128, 93, 232, 356, 456, 578, 767,
        895, 1012,
    ]
    .to_vec();
    // The sync before it and the next pass's sync after it (the rest of the pass is not in
    // the log; a group is voted once the frame after it shows where it ended).
    let mut stream = vec![1048];
    stream.extend(&log);
    stream.push(1048);
    // A log has no sequence numbers (and lists each marker once).
    let mut observations = Air {
        gap_ms: 15,
        ..Air::default()
    }
    .transmit(&stream);
    for o in &mut observations {
        o.sequence = None;
    }
    let mut decoder = Decoder::default();
    for o in &observations {
        assert_ne!(decoder.feed(o), Progress::Complete, "only 2 of 4 groups");
    }
    let header = decoder.header().expect("header decoded");
    assert_eq!(
        header,
        Header::parse(&[0x06, 0x08, 0x00, 0x26, 0x01, 0xb5]).expect("spec header")
    );
    assert_eq!(decoder.group_count(), Some(4));
    let Some(GroupState::Known(bytes)) = decoder.group_state(1) else {
        panic!("group 0 not known: {:?}", decoder.group_state(1));
    };
    let seven = bytes.map(|b| b & 0x7f);
    assert_eq!(&seven, b"fakepa");
    assert_eq!(u16::from(wifiprov_sniff::crc8(&seven) & 0x3f), 1012 & 63);
}

#[test]
fn capture_sidecar_sent_lengths_decode_to_its_expectation() {
    let sidecars = capture_sidecars("esptouch-v2");
    assert!(!sidecars.is_empty(), "no esptouch-v2 capture sidecar");
    for (path, json) in sidecars {
        let label = path.display().to_string();
        let expect = &json["expect"];
        let bssid = mac(expect["bssid"].as_str().expect("bssid"));
        let phone = mac(expect["phone_mac"].as_str().expect("phone_mac"));
        let sent = lengths(&json["sender"]["sent_payload_lengths"]);
        let overhead = json["observed"]["overhead_to_ds"].as_u64().unwrap_or(76) as u16;
        let mut to_ds = one_copy(&sent, overhead, Direction::ToAp, bssid);
        let mut from_ds = one_copy(&sent, overhead, Direction::FromAp, bssid);
        for o in to_ds.iter_mut().chain(from_ds.iter_mut()) {
            o.source = phone;
            if o.direction == Direction::ToAp {
                o.transmitter = phone;
            }
        }
        // Air order: each datagram's ToDS frame, then the AP's FromDS copy.
        let both: Vec<Observation> = to_ds
            .iter()
            .zip(&from_ds)
            .flat_map(|(a, b)| [*a, *b])
            .collect();
        let key = expect["aes_key"]
            .as_str()
            .map(|k| <[u8; 16]>::try_from(k.as_bytes()).expect("16-byte key"));
        for (what, observations) in [("ToDS only", &to_ds), ("both copies", &both)] {
            let config = DecoderConfig {
                aes_key: key,
                ..DecoderConfig::default()
            };
            let mut decoder = Decoder::new(config);
            let outcome = decode(observations, &mut decoder)
                .unwrap_or_else(|| panic!("{label} ({what}): not decoded"));
            let got = outcome
                .credentials()
                .unwrap_or_else(|| panic!("{label} ({what}): {outcome:?}"));
            let field = |name: &str| hex(expect[name].as_str().expect(name));
            assert_eq!(got.ssid(), field("ssid_hex"), "{label} ({what}): ssid");
            assert_eq!(got.password(), field("password_hex"), "{label}: password");
            assert_eq!(got.reserved(), field("reserved_data_hex"), "{label}: rsv");
            assert_eq!(got.header_bytes().to_vec(), field("header_hex"), "{label}");
            assert_eq!(
                u64::from(got.port_mark()),
                expect["port_mark"].as_u64().expect("port_mark")
            );
            assert_eq!(
                got.is_encrypted(),
                expect["encrypted"].as_bool().expect("encrypted")
            );
            assert_eq!(got.bssid(), bssid);
            assert_eq!(got.sender(), phone);
            println!(
                "{label} ({what}): complete after {} of {} observations",
                decoder.stats().observations,
                observations.len()
            );
        }
    }
}
