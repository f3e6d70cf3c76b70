//! Property tests: arbitrary observation streams never panic the decoder, and any result it
//! gives from a corrupted real stream is the truth.

use proptest::prelude::*;
use wifiprov_esptouch::v1::{Config, Decoder, Encoder};
use wifiprov_sniff::{Decoder as _, Direction, Instant, Observation, Progress};

fn arbitrary_observation() -> impl Strategy<Value = Observation> {
    (
        any::<u64>(),
        any::<u8>(),
        any::<u16>(),
        any::<bool>(),
        prop::array::uniform6(0u8..3),
        prop::array::uniform6(0u8..3),
        any::<u8>(),
        any::<bool>(),
        proptest::option::of(any::<u16>()),
        any::<(bool, bool)>(),
    )
        .prop_map(
            |(at, channel, len, to_ap, source, bssid, group, retry, sequence, (qos, protected))| {
                let mut o =
                    Observation::new(Instant::from_millis(at % 100_000), len, source, bssid);
                o.channel = channel;
                o.direction = if to_ap {
                    Direction::ToAp
                } else {
                    Direction::FromAp
                };
                o.destination = [1, 0, 0x5e, 0, 0, group];
                o.retry = retry;
                o.sequence = sequence;
                o.qos = qos;
                o.protected = protected;
                o
            },
        )
}

fn guide_biased_len() -> impl Strategy<Value = u16> {
    prop_oneof![76u16 + 512..76 + 516, 76u16 + 40..76 + 424, any::<u16>()]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_streams_never_panic(stream in prop::collection::vec(arbitrary_observation(), 0..400)) {
        let mut decoder = Decoder::default();
        for o in &stream {
            let _ = decoder.feed(o);
            let _ = decoder.known_count();
        }
        let _ = decoder.take();
        let _ = decoder.streams().count();
        for i in 0..130 {
            let _ = decoder.index_state(i);
        }
    }

    #[test]
    fn guide_and_symbol_shaped_noise_never_panics(lens in prop::collection::vec(guide_biased_len(), 0..2000), seq_step in 0u16..3) {
        let mut decoder = Decoder::default();
        let mut seq = 0u16;
        for (i, &len) in lens.iter().enumerate() {
            let mut o = Observation::new(Instant::from_millis(i as u64 * 8), len, [2; 6], [4; 6]);
            o.sequence = Some(seq);
            seq = seq.wrapping_add(seq_step) & 0xfff;
            if decoder.feed(&o) == Progress::Complete {
                prop_assert!(decoder.take().is_some());
                break;
            }
        }
    }

    #[test]
    fn mutated_real_streams_decode_right_or_not_at_all(
        mutations in prop::collection::vec((0usize..2000, 0u16..600), 0..60),
        drops in prop::collection::vec(0usize..2000, 0..200),
    ) {
        let e = Encoder::new(&Config::new(b"HomeNet", b"correct horse battery", [2; 6], [10, 0, 0, 2])).expect("valid");
        let mut lens: Vec<u16> = Vec::new();
        for _ in 0..4 { lens.extend(e.guide()); }
        for _ in 0..4 { lens.extend(e.data_cycle()); }
        for (at, value) in mutations { if let Some(l) = lens.get_mut(at) { *l = value; } }
        let mut decoder = Decoder::default();
        for (i, &len) in lens.iter().enumerate() {
            if drops.contains(&i) { continue; }
            let mut o = Observation::new(Instant::from_millis(i as u64), len + 76, [6; 6], [2; 6]);
            o.sequence = Some((i & 0xfff) as u16);
            if decoder.feed(&o) == Progress::Complete {
                let got = decoder.take().expect("result");
                prop_assert_eq!(got.ssid(), b"HomeNet");
                prop_assert_eq!(got.password(), b"correct horse battery");
                break;
            }
        }
    }
}
