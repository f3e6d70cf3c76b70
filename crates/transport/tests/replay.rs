//! Real monitor captures (`../shared/captures/*.pcap`, read in place) through the capture layer:
//! the phone's frames, minus the sidecar's overhead, must be exactly the lengths the phone sent.

use serde_json::Value;
use wifiprov_sniff::{Direction, Observation};
use wifiprov_testkit::shared::{capture_path, capture_sidecars, lengths, mac};
use wifiprov_transport::capture::{self, Capture};

fn number(json: &Value, pointer: &str, name: &str) -> u64 {
    json.pointer(pointer)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("{name}: {pointer} missing or not a number"))
}

fn text<'a>(json: &'a Value, pointer: &str, name: &str) -> &'a str {
    json.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{name}: {pointer} missing or not a string"))
}

fn check_direction(
    name: &str,
    phone: &[&Observation],
    direction: Direction,
    expected_frames: u64,
    overhead: u64,
    sent: &[u16],
) {
    let frames: Vec<&Observation> = phone
        .iter()
        .copied()
        .filter(|o| o.direction == direction)
        .collect();
    assert_eq!(
        frames.len() as u64,
        expected_frames,
        "{name}: number of {direction:?} frames from the phone"
    );
    let payloads: Vec<u64> = frames
        .iter()
        .map(|o| {
            u64::from(o.len).checked_sub(overhead).unwrap_or_else(|| {
                panic!(
                    "{name}: {direction:?} frame of {} bytes < overhead {overhead}",
                    o.len
                )
            })
        })
        .collect();
    let sent: Vec<u64> = sent.iter().copied().map(u64::from).collect();
    if let Some(i) = (0..payloads.len().min(sent.len())).find(|&i| payloads[i] != sent[i]) {
        panic!(
            "{name}: {direction:?} frame {i}: payload {} (frame {} - {overhead}), sent {}",
            payloads[i], frames[i].len, sent[i]
        );
    }
    assert_eq!(
        payloads.len(),
        sent.len(),
        "{name}: {direction:?} frame count vs sent"
    );
}

fn replay(protocol: &str) {
    let sidecars = capture_sidecars(protocol);
    assert!(!sidecars.is_empty(), "no {protocol} capture sidecars found");
    for (path, json) in sidecars {
        let name = path.display().to_string();
        assert_eq!(number(&json, "/linktype", &name), 127, "{name}: link type");
        let pcap = capture_path(text(&json, "/pcap", &name));
        let capture: Capture = capture::read_file(&pcap).unwrap_or_else(|e| panic!("{name}: {e}"));

        let stats = capture.stats;
        assert_eq!(stats.skipped(), 0, "{name}: skipped packets: {stats:?}");
        assert_eq!(
            stats.packets,
            number(&json, "/observed/frames_total", &name),
            "{name}: frames in the file"
        );

        let phone = mac(text(&json, "/expect/phone_mac", &name));
        let bssid = mac(text(&json, "/expect/bssid", &name));
        let ssid = text(&json, "/expect/ssid", &name).as_bytes();
        let channel = u8::try_from(number(&json, "/channel", &name)).expect("channel fits u8");
        let sent = lengths(
            json.pointer("/sender/sent_payload_lengths")
                .unwrap_or_else(|| panic!("{name}: no sender.sent_payload_lengths")),
        );

        let from_phone: Vec<&Observation> = capture
            .observations
            .iter()
            .filter(|o| o.source == phone)
            .collect();
        for o in &from_phone {
            assert_eq!(
                o.bssid, bssid,
                "{name}: BSSID of a phone frame at {:?}",
                o.at
            );
            assert_eq!(
                o.channel, channel,
                "{name}: channel of a phone frame at {:?}",
                o.at
            );
            assert_eq!(
                o.destination, [0xff; 6],
                "{name}: destination at {:?}",
                o.at
            );
        }
        check_direction(
            &name,
            &from_phone,
            Direction::ToAp,
            number(&json, "/observed/phone_to_ds_frames", &name),
            number(&json, "/observed/overhead_to_ds", &name),
            &sent,
        );
        check_direction(
            &name,
            &from_phone,
            Direction::FromAp,
            number(&json, "/observed/phone_from_ds_frames", &name),
            number(&json, "/observed/overhead_from_ds", &name),
            &sent,
        );

        assert!(
            capture
                .networks
                .iter()
                .any(|(b, s, c)| *b == bssid && s == ssid && *c == Some(channel)),
            "{name}: no beacon for {ssid:?} / {bssid:02x?} on channel {channel}: {:?}",
            capture.networks
        );
        assert_eq!(
            capture.ssid_of(&bssid),
            Some(ssid),
            "{name}: SSID of the BSSID"
        );
    }
}

#[test]
fn esptouch_v1_capture_matches_its_sidecar() {
    replay("esptouch-v1");
}

#[test]
fn esptouch_v2_capture_matches_its_sidecar() {
    replay("esptouch-v2");
}

#[test]
fn airkiss_capture_matches_its_sidecar() {
    replay("airkiss");
}
