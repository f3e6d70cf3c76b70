//! Property tests: arbitrary observation streams never panic the decoder, and mutated real
//! streams decode to exactly the sent credentials or not at all.

use proptest::prelude::*;
use wifiprov_airkiss::decoder::Decoder;
use wifiprov_airkiss::encoder::{Config, Encoder, Layout};
use wifiprov_sniff::{Decoder as _, Direction, Instant, Observation, Progress};
use wifiprov_testkit::air::{AP, PHONE};

fn observation(at: u64, len: u16, seq: Option<u16>, from_ap: bool, sender: u8) -> Observation {
    let mut source = PHONE;
    source[5] = sender;
    let mut obs = Observation::new(Instant::from_millis(at), len, source, AP);
    obs.sequence = seq;
    obs.direction = if from_ap {
        Direction::FromAp
    } else {
        Direction::ToAp
    };
    obs
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_streams_never_panic(
        frames in prop::collection::vec((0u16..2000, prop::option::of(0u16..4096), any::<bool>(), 0u8..3), 0..600)
    ) {
        let mut decoder = Decoder::default();
        decoder.add_known_ssid(b"HomeNet");
        for (i, (len, seq, from_ap, sender)) in frames.into_iter().enumerate() {
            let _ = decoder.feed(&observation(4 * i as u64, len, seq, from_ap, sender));
        }
        let _ = decoder.take();
    }

    #[test]
    fn mutated_streams_decode_right_or_not_at_all(
        seed in any::<u64>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u16..600), 0..60),
        drops in prop::collection::vec(any::<prop::sample::Index>(), 0..200),
    ) {
        let e = Encoder::new(&Config::new(b"HomeNet", b"correct horse battery", 0x33)).unwrap();
        let mut values: Vec<u16> = (0..3).flat_map(|_| e.cycle(Layout::default())).collect();
        for (index, value) in &edits {
            let i = index.index(values.len());
            values[i] = *value;
        }
        let mut keep = vec![true; values.len()];
        for index in &drops {
            keep[index.index(values.len())] = false;
        }
        let mut decoder = Decoder::default();
        let start = (seed % 4096) as u16;
        for (i, v) in values.iter().enumerate() {
            if !keep[i] {
                continue;
            }
            let seq = Some(start.wrapping_add(i as u16) & 0x0fff);
            if decoder.feed(&observation(4 * i as u64, v + 76, seq, false, 2)) == Progress::Complete {
                let got = decoder.take().unwrap();
                prop_assert_eq!(got.ssid(), b"HomeNet");
                prop_assert_eq!(got.password(), b"correct horse battery");
                prop_assert_eq!(got.random(), 0x33);
                break;
            }
        }
    }
}

/// One data frame of the first round replaced by every other data value: the 7-bit group CRC
/// misses exactly one of them per position (proptest found "cor^" for "corr": their CRC-8s differ
/// only in bit 7), so a byte heard once must not decide its group. Each run must end in the sent
/// credentials.
#[test]
fn one_replaced_data_frame_never_passes_the_group_crc() {
    let e = Encoder::new(&Config::new(b"HomeNet", b"correct horse battery", 0x33)).unwrap();
    let layout = Layout::default();
    let values: Vec<u16> = e.cycle(layout).collect();
    let first_round = 4 * (layout.guide + layout.magic);
    let round_len = 4 + 2 * e.group_count() + e.total_len();
    for at in first_round..first_round + round_len {
        if values[at] & 0x100 == 0 {
            continue; // not a data frame
        }
        for replacement in 0x100..0x200u16 {
            let mut decoder = Decoder::default();
            let mut result = None;
            for (i, &v) in values.iter().enumerate() {
                let v = if i == at { replacement } else { v };
                let obs = observation(4 * i as u64, v + 76, Some(i as u16 & 0x0fff), false, 2);
                if decoder.feed(&obs) == Progress::Complete {
                    result = decoder.take();
                    break;
                }
            }
            let got =
                result.unwrap_or_else(|| panic!("frame {at} = {replacement:#x}: not decoded"));
            assert_eq!(
                got.password(),
                b"correct horse battery",
                "frame {at} = {replacement:#x}"
            );
            assert_eq!(got.ssid(), b"HomeNet", "frame {at} = {replacement:#x}");
        }
    }
}
