//! ESP-TOUCH v2 property tests: arbitrary observation and length streams never panic the
//! decoder, arbitrary valid inputs round-trip through encoder and decoder, and corrupted planes
//! never yield wrong credentials.

use proptest::prelude::*;
use wifiprov_esptouch::v2::{
    Config, Decoder, DecoderConfig, Encoder, IpVersion, MAX_PASS_LEN, Outcome, Replay,
};
use wifiprov_sniff::{Decoder as _, Direction, Instant, Observation, Progress};
use wifiprov_testkit::air::{AP, Air};

fn arbitrary_observation() -> impl Strategy<Value = Observation> {
    (
        any::<u64>(),
        any::<u8>(),
        prop_oneof![any::<u16>(), v2_shaped_len()],
        any::<bool>(),
        prop::array::uniform6(0u8..3),
        prop::array::uniform6(0u8..3),
        any::<bool>(),
        proptest::option::of(any::<u16>()),
        any::<(bool, bool)>(),
    )
        .prop_map(
            |(at, channel, len, to_ap, source, bssid, retry, sequence, (qos, protected))| {
                let mut o =
                    Observation::new(Instant::from_millis(at % 100_000), len, source, bssid);
                o.channel = channel;
                o.direction = if to_ap {
                    Direction::ToAp
                } else {
                    Direction::FromAp
                };
                o.retry = retry;
                o.sequence = sequence;
                o.qos = qos;
                o.protected = protected;
                o
            },
        )
}

/// Lengths of every v2 class at overhead 76, plus anything.
fn v2_shaped_len() -> impl Strategy<Value = u16> {
    prop_oneof![
        Just(76u16 + 1048),
        (1072u16..=1112).prop_map(|c| c + 76),
        (128u16..168).prop_map(|m| m + 76),
        (0u16..8, 0u16..64).prop_map(|(i, d)| 76 + ((i << 7) | 64 | d)),
        any::<u16>(),
    ]
}

/// Valid encoder inputs: ssid, password, reserved data, key, security version, port mark, IPv4.
type Inputs = (Vec<u8>, Vec<u8>, Vec<u8>, Option<[u8; 16]>, u8, u8, bool);

/// Valid encoder inputs.
fn arbitrary_config() -> impl Strategy<Value = Inputs> {
    let text = |max: usize| {
        prop_oneof![
            prop::collection::vec(0x20u8..0x7f, 0..=max),
            prop::collection::vec(any::<u8>(), 0..=max),
        ]
    };
    (
        text(32),
        text(64),
        text(64),
        proptest::option::of(prop::array::uniform16(any::<u8>())),
        1u8..=2,
        0u8..=3,
        any::<bool>(),
    )
}

fn feed_all(decoder: &mut Decoder, observations: &[Observation]) -> Option<Outcome> {
    for o in observations {
        if decoder.feed(o) == Progress::Complete {
            return decoder.take();
        }
    }
    None
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_streams_never_panic(stream in prop::collection::vec(arbitrary_observation(), 0..600)) {
        let mut decoder = Decoder::new(DecoderConfig { aes_key: Some([1; 16]), ..DecoderConfig::default() });
        for o in &stream {
            let _ = decoder.feed(o);
            let _ = decoder.known_groups();
        }
        let _ = decoder.take();
        let _ = decoder.streams().count();
        let _ = decoder.header();
        let _ = decoder.group_count();
        for slot in 0..45 {
            let _ = decoder.group_state(slot);
        }
    }

    #[test]
    fn v2_shaped_length_streams_never_panic(
        lens in prop::collection::vec(v2_shaped_len(), 0..3000),
        seq_step in 0u16..3,
        min_votes in 0u8..3,
    ) {
        let config = DecoderConfig { min_votes, verify_bssid: min_votes != 1, ..DecoderConfig::default() };
        let mut decoder = Decoder::new(config);
        let mut seq = 0u16;
        for (i, &len) in lens.iter().enumerate() {
            let mut o = Observation::new(Instant::from_millis(i as u64 * 15), len, [2; 6], [4; 6]);
            o.sequence = (seq_step > 0).then_some(seq);
            seq = seq.wrapping_add(seq_step) & 0xfff;
            if decoder.feed(&o) == Progress::Complete {
                prop_assert!(decoder.take().is_some());
                break;
            }
        }
    }

    #[test]
    fn arbitrary_inputs_round_trip(
        (ssid, password, reserved, key, security, port_mark, ipv4) in arbitrary_config(),
        padding in prop::collection::vec(any::<u8>(), 0..64),
        decoder_has_key in any::<bool>(),
    ) {
        let mut config = Config::new(&ssid, &password, AP)
            .with_reserved(&reserved)
            .with_port_mark(port_mark)
            .with_ip_version(if ipv4 { IpVersion::V4 } else { IpVersion::V6 });
        config.security_version = security;
        config.aes_key = key;
        let mut bytes = padding.into_iter().cycle();
        let mut random = move || bytes.next().unwrap_or(0x55);
        let encoder = Encoder::new(&config, &mut random).expect("valid inputs");
        let n = encoder.group_count();
        prop_assert!((1..=41).contains(&n));
        prop_assert_eq!(encoder.lengths().len(), 12 + 11 * (n - 1));
        prop_assert!(encoder.lengths().len() <= MAX_PASS_LEN);
        let encrypted = key.is_some() && !(password.is_empty() && reserved.is_empty());
        prop_assert_eq!(encoder.is_encrypted(), encrypted);

        let decoder_key = if decoder_has_key { key } else { None };
        let mut decoder = Decoder::new(DecoderConfig { aes_key: decoder_key, ..DecoderConfig::default() });
        let observations = Air { gap_ms: 15, ..Air::default() }.transmit(encoder.lengths());
        let outcome = feed_all(&mut decoder, &observations).expect("one clean pass, both copies");
        prop_assert_eq!(outcome.ssid(), &ssid[..]);
        match outcome {
            Outcome::Credentials(c) => {
                prop_assert!(!encrypted || decoder_has_key);
                prop_assert_eq!(c.password(), &password[..]);
                prop_assert_eq!(c.reserved(), &reserved[..]);
                prop_assert_eq!(c.port_mark(), port_mark);
                prop_assert_eq!(c.is_ipv4(), ipv4);
                prop_assert_eq!(c.is_encrypted(), encrypted);
                prop_assert_eq!(c.header_bytes(), encoder.header());
                prop_assert_eq!(c.ssid_missing(), ssid.is_empty());
            }
            Outcome::KeyNeeded(sealed) => {
                prop_assert!(encrypted && !decoder_has_key);
                let opened = sealed.open(&key.expect("encrypted")).expect("the right key opens it");
                prop_assert_eq!(opened.password(), &password[..]);
                prop_assert_eq!(opened.reserved(), &reserved[..]);
            }
            other => prop_assert!(false, "unexpected {:?}", other),
        }
    }

    /// Corrupt observations of a clean multi-pass stream (both copies, 10 % loss) with
    /// plane-shaped lengths, marker-shaped lengths or drops: the result is the truth or nothing.
    #[test]
    fn corrupted_planes_never_yield_wrong_credentials(
        seed in any::<u64>(),
        corruptions in prop::collection::vec((any::<prop::sample::Index>(), 0u16..8, 0u16..64, any::<bool>()), 0..120),
        one_copy in any::<bool>(),
    ) {
        let password = b"correct horse battery";
        let config = Config::new(b"HomeNet", password, AP).with_reserved(b"device-42");
        let mut random = Replay::new(&[0x3d, 0x39, 0x6d, 0x46, 0x3a]);
        let encoder = Encoder::new(&config, &mut random).expect("valid");
        let lens: Vec<u16> = (0..4).flat_map(|_| encoder.lengths().to_vec()).collect();
        let mut observations = Air { both_copies: !one_copy, gap_ms: 15, ..Air::lossy(seed, 0.1) }.transmit(&lens);
        for (at, plane, bits, marker) in corruptions {
            let i = at.index(observations.len());
            observations[i].len = 76 + if marker { 128 + bits % 40 } else { (plane << 7) | 64 | bits };
        }
        if let Some(outcome) = feed_all(&mut Decoder::default(), &observations) {
            let c = outcome.credentials().expect("plaintext");
            prop_assert_eq!(c.ssid(), b"HomeNet");
            prop_assert_eq!(c.password(), password);
            prop_assert_eq!(c.reserved(), b"device-42");
        }
    }

    /// Same for an encrypted sender: corruption never gives garbage credentials (a corrupted
    /// ciphertext could only show up as "key wrong", never as other bytes).
    #[test]
    fn corrupted_encrypted_streams_never_yield_wrong_credentials(
        seed in any::<u64>(),
        corruptions in prop::collection::vec((any::<prop::sample::Index>(), 0u16..8, 0u16..64), 0..120),
    ) {
        let key = *b"ABCDEFGHIJKLMNOP";
        let config = Config::new("Café☕".as_bytes(), "pässwörd".as_bytes(), AP)
            .with_reserved(b"rsv")
            .with_aes_key(key, 2);
        let mut x = seed | 1;
        let mut random = move || { x = x.wrapping_mul(6364136223846793005).wrapping_add(1); (x >> 33) as u8 };
        let encoder = Encoder::new(&config, &mut random).expect("valid");
        let lens: Vec<u16> = (0..4).flat_map(|_| encoder.lengths().to_vec()).collect();
        let mut observations = Air { gap_ms: 15, ..Air::lossy(seed, 0.1) }.transmit(&lens);
        for (at, plane, bits) in corruptions {
            let i = at.index(observations.len());
            observations[i].len = 76 + ((plane << 7) | 64 | bits);
        }
        let mut decoder = Decoder::new(DecoderConfig::default().with_aes_key(key));
        if let Some(outcome) = feed_all(&mut decoder, &observations) {
            if let Some(c) = outcome.credentials() {
                prop_assert_eq!(c.ssid(), "Café☕".as_bytes());
                prop_assert_eq!(c.password(), "pässwörd".as_bytes());
                prop_assert_eq!(c.reserved(), b"rsv");
            } else {
                prop_assert_eq!(outcome.ssid(), "Café☕".as_bytes());
            }
        }
    }
}
