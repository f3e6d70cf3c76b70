//! The device's decoder front (`wifiprov_transport::front::Front`): every sniffing decoder on
//! the same observation stream, as the device daemon runs them. Header: byte 0 bits 0–2 =
//! methods (v1, AirKiss, v2; none set = all), bit 3 = use scan results, bit 4 = the v2 AES key
//! `0123456789abcdef`. Scan records are beacons, tick records `Front::tick`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wifiprov_esptouch::v2;
use wifiprov_fuzz::{Bytes, STREAM_HEADER_LEN, Stream, StreamOp};
use wifiprov_transport::capture::Record;
use wifiprov_transport::front::{Front, FrontExt as _, Method, Step};

fuzz_target!(|data: &[u8]| {
    let mut bytes = Bytes::new(data);
    let header: [u8; STREAM_HEADER_LEN] = bytes.array();
    let all = [Method::EsptouchV1, Method::Airkiss, Method::EsptouchV2];
    let mut methods: Vec<Method> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| header[0] & (1 << i) != 0)
        .map(|(_, m)| *m)
        .collect();
    if methods.is_empty() {
        methods = all.to_vec();
    }
    let mut front = Front::new(&methods, header[0] & 8 != 0);
    if header[0] & 16 != 0 {
        front = front.with_v2_config(v2::DecoderConfig::default().with_aes_key(*b"0123456789abcdef"));
    }
    let mut now = wifiprov_sniff::Instant::default();
    for op in Stream::new(bytes) {
        let step = match op {
            StreamOp::Feed(obs) => {
                now = obs.at;
                front.feed_record(&Record::Data(obs))
            }
            StreamOp::Scan(ssid, bssid) => front.feed_record(&Record::Beacon {
                bssid,
                ssid: ssid.to_vec(),
                channel: Some(6),
            }),
            StreamOp::Tick(at) => {
                now = at;
                front.tick(now);
                Step::Nothing
            }
            StreamOp::Reset | StreamOp::Take => front.feed_record(&Record::Other),
        };
        if let Step::Complete(decoded) = step {
            let _ = (decoded.ssid(), decoded.password());
            break;
        }
    }
    let _ = (front.is_locked(), front.networks(), front.frames_used());
    for method in methods {
        let _ = front.stats(method);
    }
    let _ = front.explain();
    let _ = now;
});
