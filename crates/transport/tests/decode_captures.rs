//! The ESP-TOUCH v1 monitor captures of `../shared/captures/` (read in place) decode to the
//! expected credentials through the capture reader and the same decoder the device runs, with and
//! without the beacons as scan results.

use wifiprov_esptouch::v1;
use wifiprov_sniff::{Decoder as _, Progress};
use wifiprov_testkit::shared::{capture_path, capture_sidecars, hex, mac};
use wifiprov_transport::capture::{FileCapture, Record};

fn decode(pcap: &std::path::Path, use_beacons: bool) -> (v1::Credentials, u32) {
    let mut decoder = v1::Decoder::default();
    for record in FileCapture::open(pcap).expect("capture opens") {
        match record.expect("readable") {
            Record::Data(obs) if decoder.feed(&obs) == Progress::Complete => {
                let used = decoder.stats().used;
                return (decoder.take().expect("result"), used);
            }
            Record::Beacon { bssid, ssid, .. } if use_beacons => {
                decoder.add_known_network(&ssid, bssid);
            }
            _ => {}
        }
    }
    panic!("{}: not decoded", pcap.display());
}

#[test]
fn esptouch_v1_captures_decode_to_the_expected_credentials() {
    let sidecars = capture_sidecars("esptouch-v1");
    assert!(!sidecars.is_empty(), "no esptouch-v1 captures");
    for (path, sidecar) in sidecars {
        let expect = &sidecar["expect"];
        let pcap = capture_path(sidecar["pcap"].as_str().expect("pcap"));
        for use_beacons in [false, true] {
            let (got, used) = decode(&pcap, use_beacons);
            let name = format!("{} (scan {use_beacons})", path.display());
            assert_eq!(
                got.ssid(),
                hex(expect["ssid_hex"].as_str().expect("ssid")),
                "{name}"
            );
            assert_eq!(
                got.password(),
                hex(expect["password_hex"].as_str().expect("pw")),
                "{name}"
            );
            assert_eq!(
                got.bssid(),
                mac(expect["bssid"].as_str().expect("bssid")),
                "{name}"
            );
            let ip: std::net::Ipv4Addr = expect["phone_ip"]
                .as_str()
                .expect("ip")
                .parse()
                .expect("ip");
            assert_eq!(got.phone_ip(), ip.octets(), "{name}");
            assert_eq!(
                got.sender(),
                mac(expect["phone_mac"].as_str().expect("mac")),
                "{name}"
            );
            assert_eq!(
                got.ssid_from_scan(),
                use_beacons,
                "{name}: scan-assisted when beacons are given"
            );
            assert!(used > 0);
        }
    }
}
