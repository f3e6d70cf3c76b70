//! The ESP32 firmware's frame path on the real captures (`../shared/captures/*.pcap`, read in
//! place): every 802.11 frame with a 4-byte FCS appended, as the ESP32's promiscuous buffers hold
//! it, goes through `Heard::from_frame(.., fcs = true)` and `Front::hear` with every method on —
//! exactly what `firmware/esp32c3` does — and must decode the sidecar's credentials. Each reduced
//! frame must also equal what the Linux capture layer makes of the same packet, so the firmware
//! and the daemon feed the decoders the same observations.

use std::fs::File;

use pcap_file::pcap::PcapReader;
use serde_json::Value;
use wifiprov_sniff::{Instant, ieee80211};
use wifiprov_testkit::shared::{capture_path, capture_sidecars, hex};
use wifiprov_transport::capture::{self, LinkType, PacketMeta, Record};
use wifiprov_transport::front::{Decoded, Front, Heard, Method, Step};

const ALL: [Method; 3] = [Method::EsptouchV1, Method::Airkiss, Method::EsptouchV2];

/// The 802.11 frame inside a radiotap packet (its header length is bytes 2..4, little-endian).
fn dot11(packet: &[u8]) -> &[u8] {
    let len = usize::from(u16::from_le_bytes([packet[2], packet[3]]));
    &packet[len..]
}

fn replay(name: &str, sidecar: &Value) -> (Decoded, usize) {
    let file = sidecar["pcap"].as_str().expect("pcap name");
    assert_eq!(sidecar["linktype"], 127, "{name}: radiotap captures");
    let channel = u8::try_from(sidecar["channel"].as_u64().expect("channel")).expect("channel");
    let path = capture_path(file);
    let mut reader = PcapReader::new(File::open(&path).expect("open pcap")).expect("pcap header");
    let mut front = Front::new(&ALL, true);
    let (mut frames, mut compared) = (0, 0);
    while let Some(packet) = reader.next_packet() {
        let packet = packet.expect("pcap packet");
        frames += 1;
        let at = Instant::from_millis(u64::try_from(packet.timestamp.as_millis()).expect("ms"));
        // As the ESP32 delivers it: the frame, then its FCS (its value is not checked).
        let mut on_air = dot11(&packet.data).to_vec();
        on_air.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        let meta = ieee80211::Meta {
            at,
            channel,
            wire_len: None,
        };
        let heard = Heard::from_frame(&on_air, meta, true);
        let linux = capture::decode(
            LinkType::Radiotap,
            &packet.data,
            PacketMeta {
                at,
                channel,
                ..PacketMeta::default()
            },
        )
        .expect("the capture layer reads the packet");
        match (&heard, &linux) {
            (Some(Heard::Data(a)), Record::Data(b)) => {
                let mut b = *b;
                b.channel = a.channel; // radiotap may name the channel itself
                assert_eq!(
                    *a, b,
                    "{name}: frame {frames}: firmware and daemon observations differ"
                );
                compared += 1;
            }
            (
                Some(Heard::Network { bssid, ssid, len }),
                Record::Beacon {
                    bssid: b, ssid: s, ..
                },
            ) => {
                assert_eq!(
                    (bssid, &ssid[..usize::from(*len)]),
                    (b, &s[..]),
                    "{name}: frame {frames}"
                );
            }
            (None, Record::Other) => {}
            other => panic!(
                "{name}: frame {frames}: firmware path {:?} vs capture layer {:?}",
                other.0, other.1
            ),
        }
        if let Some(heard) = heard
            && let Step::Complete(decoded) = front.hear(&heard)
        {
            assert!(compared > 0);
            return (decoded, frames);
        }
    }
    panic!("{name}: the firmware path did not decode the capture ({frames} frames)");
}

#[test]
fn the_firmware_path_decodes_every_capture() {
    let mut seen = 0;
    for (protocol, method) in [
        ("esptouch-v1", Method::EsptouchV1),
        ("esptouch-v2", Method::EsptouchV2),
        ("airkiss", Method::Airkiss),
    ] {
        for (path, sidecar) in capture_sidecars(protocol) {
            let name = path.display().to_string();
            let expect = &sidecar["expect"];
            let (decoded, frames) = replay(&name, &sidecar);
            assert_eq!(decoded.method(), method, "{name}");
            assert_eq!(
                decoded.ssid(),
                hex(expect["ssid_hex"].as_str().expect("ssid_hex")),
                "{name}"
            );
            assert_eq!(
                decoded.password(),
                hex(expect["password_hex"].as_str().expect("password_hex")),
                "{name}"
            );
            assert!(frames > 0);
            seen += 1;
        }
    }
    assert!(seen >= 3, "one capture per method at least");
}

#[test]
fn a_frame_shorter_than_its_fcs_is_nothing() {
    let meta = ieee80211::Meta::default();
    assert_eq!(Heard::from_frame(&[], meta, true), None);
    assert_eq!(Heard::from_frame(&[8, 2, 0], meta, true), None);
}
