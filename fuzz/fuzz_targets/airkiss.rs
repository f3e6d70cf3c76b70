//! AirKiss device-side decoder fed an observation stream (see the crate docs for the format).
//! Header: byte 0 bit 0 = custom tuning from bytes 1–4 (min/max overhead, confirmations, idle
//! timeout in 100 ms). Scan records add known SSIDs. Also `ack::Ack::parse` on header bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wifiprov_airkiss::ack::Ack;
use wifiprov_airkiss::decoder::{Decoder, DecoderConfig};
use wifiprov_fuzz::{Bytes, STREAM_HEADER_LEN, Stream, StreamOp};
use wifiprov_sniff::{Decoder as _, Progress};

fuzz_target!(|data: &[u8]| {
    let mut bytes = Bytes::new(data);
    let header: [u8; STREAM_HEADER_LEN] = bytes.array();
    let config = if header[0] & 1 != 0 {
        DecoderConfig {
            min_overhead: u16::from(header[1]),
            max_overhead: u16::from(header[2]) * 2,
            confirmations: header[3],
            idle_timeout_ms: u64::from(header[4]) * 100,
        }
    } else {
        DecoderConfig::default()
    };
    if let Some(ack) = Ack::parse(&header[1..1 + usize::from(header[0] >> 5)]) {
        let _ = ack.emit();
        let _ = ack.answers(header[7]);
    }
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
                let _ = (decoder.locked(), decoder.shape(), decoder.known_count());
                for group in 0..30 {
                    let _ = decoder.group_known(group);
                    let _ = decoder.crc_candidates(group).count();
                    for position in 0..5 {
                        let _ = decoder.candidates(group, position).count();
                    }
                }
                let _ = decoder.streams().count();
            }
            StreamOp::Scan(ssid, _) => {
                decoder.add_known_ssid(ssid);
            }
        }
    }
    let stats = decoder.stats();
    assert!(stats.ignored <= stats.observations);
});
