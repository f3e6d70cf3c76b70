//! `../shared/vectors/airkiss.json` (zhchbin/WeChatAirKiss and ilivein/AndroidAirKiss encoder
//! cycles): every case reproduced exactly by our encoder, field by field, and decoded back from
//! the cycle; `../shared/captures/airkiss-capture-*.json` (real AirKissDebugger sniffer logs)
//! decoded with the expected result in fewer observations than the open reference decoder.

use serde_json::Value;
use wifiprov_airkiss::decoder::Decoder;
use wifiprov_airkiss::encoder::{Config, Encoder, Layout};
use wifiprov_sniff::{Decoder as _, Direction, Instant, Observation, Progress, ieee80211};
use wifiprov_testkit::shared::{capture_path, hex, lengths, load_json, mac, vector_cases};

fn encoder(case: &Value) -> Encoder {
    let ssid = hex(case["ssid_hex"].as_str().expect("ssid_hex"));
    let password = hex(case["password_hex"].as_str().expect("password_hex"));
    let random = u8::try_from(case["random"].as_u64().expect("random")).expect("u8");
    Encoder::new(&Config::new(&ssid, &password, random)).expect("encodes")
}

#[test]
fn every_vector_is_reproduced_field_by_field() {
    let cases = vector_cases("airkiss.json");
    assert!(cases.len() >= 5);
    for case in cases {
        let name = case["name"].as_str().unwrap_or("?");
        let e = encoder(&case);
        assert_eq!(
            e.total_len() as u64,
            case["total_len"].as_u64().unwrap(),
            "{name}: total_len"
        );
        assert_eq!(
            u64::from(e.ssid_crc()),
            case["ssid_crc8"].as_u64().unwrap(),
            "{name}: ssid_crc8"
        );
        assert_eq!(e.magic().to_vec(), lengths(&case["magic"]), "{name}: magic");
        assert_eq!(
            e.prefix().to_vec(),
            lengths(&case["prefix"]),
            "{name}: prefix"
        );
        let sequences: Vec<Vec<u16>> = case["sequences"]
            .as_array()
            .unwrap()
            .iter()
            .map(lengths)
            .collect();
        let ours: Vec<Vec<u16>> = e.sequences().map(|s| s.values().to_vec()).collect();
        assert_eq!(ours, sequences, "{name}: sequences");
        let cycle: Vec<u16> = e.cycle(Layout::default()).collect();
        assert_eq!(cycle, lengths(&case["lengths"]), "{name}: one full cycle");
        assert_eq!(
            cycle.len(),
            e.cycle_len(Layout::default()),
            "{name}: cycle_len"
        );
    }
}

#[test]
fn every_vector_cycle_decodes_back() {
    for case in vector_cases("airkiss.json") {
        let name = case["name"].as_str().unwrap_or("?");
        let mut decoder = Decoder::default();
        let mut complete = None;
        for (n, value) in lengths(&case["lengths"]).into_iter().enumerate() {
            let mut obs = Observation::new(
                Instant::from_millis(4 * n as u64),
                value + 76,
                mac("a0:cb:fd:77:00:02"),
                mac("24:0a:c4:77:00:01"),
            );
            obs.sequence = Some((n % 4096) as u16);
            if decoder.feed(&obs) == Progress::Complete {
                complete = Some(n + 1);
                break;
            }
        }
        assert!(complete.is_some(), "{name}: not decoded from one cycle");
        let c = decoder.take().expect("result");
        assert_eq!(
            c.ssid(),
            hex(case["ssid_hex"].as_str().unwrap()),
            "{name}: ssid"
        );
        assert_eq!(
            c.password(),
            hex(case["password_hex"].as_str().unwrap()),
            "{name}: password"
        );
        assert_eq!(
            u64::from(c.random()),
            case["random"].as_u64().unwrap(),
            "{name}: random"
        );
    }
}

/// The observations of a converted sniffer log: 802.11 header records (with addresses and
/// sequence numbers) or timing records (sequence number and length only). The logs carry no
/// usable time, so observations are placed 5 ms apart (AirKissDebugger's datagram gap).
fn observations(capture: &Value) -> Vec<Observation> {
    capture["observations"]
        .as_array()
        .expect("observations")
        .iter()
        .enumerate()
        .map(|(n, record)| {
            let len = u16::try_from(record["len"].as_u64().expect("len")).expect("u16");
            if let Some(header) = record["header_hex"].as_str() {
                let meta = ieee80211::Meta {
                    at: Instant::from_millis(5 * n as u64),
                    wire_len: Some(len),
                    ..ieee80211::Meta::default()
                };
                ieee80211::observe(&hex(header), meta).expect("a data frame")
            } else {
                let mut obs =
                    Observation::new(Instant::from_millis(5 * n as u64), len, [0; 6], [0; 6]);
                obs.direction = Direction::FromAp;
                obs.sequence = record["seq"].as_u64().map(|s| s as u16);
                obs
            }
        })
        .collect()
}

#[test]
fn real_airkiss_debugger_captures_decode_sooner_than_the_reference_decoder() {
    let mut files = 0;
    for n in 1..=9 {
        let path = capture_path(&format!("airkiss-capture-{n}.json"));
        if !path.exists() {
            continue;
        }
        files += 1;
        let capture = load_json(&path);
        let expect = &capture["expect"];
        // Logs without a reference count (the timing log has no headers for airkissOpen's
        // decoder) must still decode.
        let reference = capture["reference_decoder"]["complete_after_observations"]
            .as_u64()
            .map(|n| n as usize);
        let mut decoder = Decoder::default();
        let mut used = None;
        for (i, obs) in observations(&capture).iter().enumerate() {
            if decoder.feed(obs) == Progress::Complete {
                used = Some(i + 1);
                break;
            }
        }
        let used = used.unwrap_or_else(|| panic!("{}: not decoded", path.display()));
        let c = decoder.take().expect("result");
        assert_eq!(
            c.ssid(),
            hex(expect["ssid_hex"].as_str().unwrap()),
            "{}",
            path.display()
        );
        assert_eq!(
            c.password(),
            hex(expect["password_hex"].as_str().unwrap()),
            "{}",
            path.display()
        );
        assert_eq!(
            u64::from(c.random()),
            expect["random"].as_u64().unwrap(),
            "{}",
            path.display()
        );
        println!(
            "{}: complete after {used} observations (reference {reference:?})",
            path.display()
        );
        if let Some(reference) = reference {
            assert!(
                used < reference,
                "{}: {used} observations, the reference decoder needed {reference}",
                path.display()
            );
        }
    }
    assert!(files >= 1, "no airkiss-capture-N.json found");
}
