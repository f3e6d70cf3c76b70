//! ESP-TOUCH v1 reference vectors (`../shared/vectors/esptouch-v1.json`, read in place): every case
//! is reproduced exactly by the encoder and decoded back by the decoder.

use wifiprov_esptouch::v1::{Config, Decoder, Encoder, GUIDE};
use wifiprov_sniff::{Decoder as _, Progress};
use wifiprov_testkit::air::Air;
use wifiprov_testkit::shared::{hex, lengths, mac, vector_cases};

fn ip(s: &str) -> [u8; 4] {
    let addr: std::net::Ipv4Addr = s.parse().expect("IPv4 in vector");
    addr.octets()
}

#[test]
fn encoder_reproduces_every_vector() {
    let cases = vector_cases("esptouch-v1.json");
    for (n, case) in cases.iter().enumerate() {
        let name = case["name"].as_str().unwrap_or("?");
        let ssid = hex(case["ssid_hex"].as_str().expect("ssid_hex"));
        let password = hex(case["password_hex"].as_str().expect("password_hex"));
        let config = Config::new(
            &ssid,
            &password,
            mac(case["bssid"].as_str().expect("bssid")),
            ip(case["ip"].as_str().expect("ip")),
        );
        let encoder = Encoder::new(&config).unwrap_or_else(|e| panic!("vector {n} ({name}): {e}"));
        assert_eq!(
            lengths(&case["guide"]),
            GUIDE.to_vec(),
            "vector {n} ({name}): guide"
        );
        let expected = lengths(&case["data_cycle"]);
        let got: Vec<u16> = encoder.data_cycle().collect();
        assert_eq!(
            got.len(),
            expected.len(),
            "vector {n} ({name}): data_cycle length"
        );
        for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
            assert_eq!(g, e, "vector {n} ({name}): data_cycle[{i}]");
        }
    }
}

#[test]
fn decoder_recovers_every_vector() {
    for (n, case) in vector_cases("esptouch-v1.json").iter().enumerate() {
        let name = case["name"].as_str().unwrap_or("?");
        let ssid = hex(case["ssid_hex"].as_str().expect("ssid_hex"));
        let password = hex(case["password_hex"].as_str().expect("password_hex"));
        let bssid = mac(case["bssid"].as_str().expect("bssid"));
        let phone_ip = ip(case["ip"].as_str().expect("ip"));
        // The reference stream itself, not our encoder's: guide, then one data cycle.
        let mut stream = Vec::new();
        for _ in 0..3 {
            stream.extend(lengths(&case["guide"]));
        }
        stream.extend(lengths(&case["data_cycle"]));
        let air = Air {
            bssid,
            ..Air::default()
        };
        let mut decoder = Decoder::default();
        let complete = air
            .transmit(&stream)
            .iter()
            .any(|obs| decoder.feed(obs) == Progress::Complete);
        assert!(complete, "vector {n} ({name}): not decoded");
        let got = decoder.take().expect("result after Complete");
        assert_eq!(got.ssid(), ssid, "vector {n} ({name}): ssid");
        assert_eq!(got.password(), password, "vector {n} ({name}): password");
        assert_eq!(got.bssid(), bssid, "vector {n} ({name}): bssid");
        assert_eq!(got.phone_ip(), phone_ip, "vector {n} ({name}): phone ip");
        assert!(
            !got.ssid_from_scan(),
            "vector {n} ({name}): SSID must come from the air"
        );
    }
}
