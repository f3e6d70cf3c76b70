//! ESP-TOUCH v2 device-side decoder fed an observation stream (see the crate docs for the
//! format). Header: byte 0 bit 0 = the AES key `0123456789abcdef` (the seeds' key), bit 1 = a
//! key from bytes 8–23 instead, bit 2 = BSSID check off, bits 3–4 = `min_votes` 1..=3 (0 =
//! default), byte 1 = provisional timeout in 100 ms (0 = default), byte 2 = idle timeout in
//! seconds (0 = default). Tick records call `handle_timeout`. Sealed results are opened with
//! the key too; also `Header::parse` and `Ack::parse` on bytes of the header.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wifiprov_esptouch::v2::{Ack, Decoder, DecoderConfig, Header, Outcome};
use wifiprov_fuzz::{Bytes, STREAM_HEADER_LEN, Stream, StreamOp};
use wifiprov_sniff::{Decoder as _, Progress};

const SEED_KEY: [u8; 16] = *b"0123456789abcdef";

fuzz_target!(|data: &[u8]| {
    let mut bytes = Bytes::new(data);
    let header: [u8; STREAM_HEADER_LEN] = bytes.array();
    let mut config = DecoderConfig::default();
    let key = if header[0] & 2 != 0 {
        Some(bytes.array::<16>())
    } else {
        (header[0] & 1 != 0).then_some(SEED_KEY)
    };
    config.aes_key = key;
    config.verify_bssid = header[0] & 4 == 0;
    match (header[0] >> 3) & 3 {
        0 => {}
        votes => config.min_votes = votes,
    }
    if header[1] != 0 {
        config.provisional_timeout_ms = u64::from(header[1]) * 100;
    }
    if header[2] != 0 {
        config.idle_timeout_ms = u64::from(header[2]) * 1000;
    }
    // The stand-alone codecs, on header bytes.
    if let Ok(parsed) = Header::parse(&[header[2], header[3], header[4], header[5], header[6], header[7]]) {
        let _ = Header::parse(&parsed.emit());
    }
    if let Ok(ack) = Ack::parse(&header[1..]) {
        let _ = (ack.emit(), ack.port());
    }

    let mut decoder = Decoder::new(config);
    for op in Stream::new(bytes) {
        match op {
            StreamOp::Feed(obs) => {
                // (Frames after a taken result may report Complete again with nothing left.)
                if decoder.feed(&obs) == Progress::Complete
                    && let Some(outcome) = decoder.take()
                {
                    assert!(outcome.ssid().len() <= 32);
                    match outcome {
                        Outcome::Credentials(c) => {
                            assert!(c.password().len() <= 64);
                            let _ = (c.reserved(), c.header(), c.ack_port());
                        }
                        Outcome::KeyNeeded(sealed) | Outcome::KeyWrong(sealed) => {
                            let _ = sealed.open(&key.unwrap_or(SEED_KEY));
                            let _ = sealed.open(&[0; 16]);
                        }
                        _ => {}
                    }
                }
            }
            StreamOp::Reset => decoder.reset(),
            StreamOp::Take => drop(decoder.take()),
            StreamOp::Tick(now) => {
                if let Some(deadline) = decoder.poll_timeout() {
                    let _ = deadline;
                }
                decoder.handle_timeout(now);
                let _ = (decoder.locked(), decoder.is_provisional(), decoder.group_count());
                let _ = (decoder.header(), decoder.known_groups());
                for slot in 0..42 {
                    let _ = decoder.group_state(slot);
                }
                let _ = decoder.streams().count();
            }
            StreamOp::Scan(..) => {}
        }
    }
    let stats = decoder.stats();
    assert!(stats.ignored <= stats.observations);
});
