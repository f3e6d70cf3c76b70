//! ESP-TOUCH v1 device-side decoder fed an observation stream (see the crate docs for the
//! format). Header: byte 0 bit 0 = custom tuning from bytes 1–4 (min/max overhead, idle
//! timeout in 100 ms), else the defaults.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wifiprov_esptouch::v1::{Decoder, DecoderConfig};
use wifiprov_fuzz::{Bytes, STREAM_HEADER_LEN, Stream, StreamOp};
use wifiprov_sniff::{Decoder as _, Progress};

fuzz_target!(|data: &[u8]| {
    let mut bytes = Bytes::new(data);
    let header: [u8; STREAM_HEADER_LEN] = bytes.array();
    let config = if header[0] & 1 != 0 {
        DecoderConfig {
            min_overhead: u16::from(header[1]),
            max_overhead: u16::from(header[2]) * 2,
            idle_timeout_ms: u64::from(header[3]) * 100,
        }
    } else {
        DecoderConfig::default()
    };
    let mut decoder = Decoder::new(config);
    for op in Stream::new(bytes) {
        match op {
            StreamOp::Feed(obs) => {
                // (Frames after a taken result may report Complete again with nothing left.)
                if decoder.feed(&obs) == Progress::Complete
                    && let Some(credentials) = decoder.take()
                {
                    assert!(credentials.ssid().len() <= 32);
                    assert!(credentials.password().len() <= 64);
                }
            }
            StreamOp::Reset => decoder.reset(),
            StreamOp::Take => drop(decoder.take()),
            StreamOp::Tick(_) => {
                // The diagnostics accessors must not panic in any state either.
                let _ = (decoder.locked(), decoder.total_len(), decoder.needed());
                let _ = decoder.known_count();
                for index in 0..130 {
                    let _ = decoder.index_state(index);
                }
                let _ = decoder.streams().count();
            }
            StreamOp::Scan(ssid, bssid) => {
                decoder.add_known_network(ssid, bssid);
            }
        }
    }
    let stats = decoder.stats();
    assert!(stats.ignored <= stats.observations);
});
