//! ESP-TOUCH v2 encoder → simulated air → decoder, over many seeds: loss, duplicates, retries,
//! reordering, foreign frames, the phone's own other broadcasts, QoS and per-direction overheads,
//! two senders at once. Every result must be exactly what was sent: a wrong result is worse than
//! none.

use wifiprov_esptouch::v2::{
    Config, Credentials, Decoder, DecoderConfig, Encoder, Outcome, Randomness,
};
use wifiprov_sniff::{Decoder as _, Direction, Mac, Observation, Progress};
use wifiprov_testkit::air::{AP, Air, PHONE, interleave, seeded_bytes};

const KEY: [u8; 16] = *b"0123456789abcdef";

struct Sent {
    ssid: &'static [u8],
    password: &'static [u8],
    reserved: &'static [u8],
    key: Option<[u8; 16]>,
    security: u8,
}

const HOME: Sent = Sent {
    ssid: b"HomeNet",
    password: b"correct horse battery",
    reserved: b"device-42",
    key: None,
    security: 1,
};

const CAFE: Sent = Sent {
    ssid: "Café☕".as_bytes(),
    password: "pässwörd".as_bytes(),
    reserved: b"rsv",
    key: Some(KEY),
    security: 2,
};

impl Sent {
    fn encoder(&self, seed: u64) -> Encoder {
        let mut config = Config::new(self.ssid, self.password, AP).with_reserved(self.reserved);
        if let Some(key) = self.key {
            config = config.with_aes_key(key, self.security);
        }
        let mut r = seeded_bytes(seed);
        Encoder::new(&config, &mut r as &mut dyn Randomness).expect("valid config")
    }

    fn decoder(&self) -> Decoder {
        Decoder::new(DecoderConfig {
            aes_key: self.key,
            ..DecoderConfig::default()
        })
    }

    fn assert_exact(&self, got: &Credentials, context: &str) {
        assert_eq!(got.ssid(), self.ssid, "{context}: wrong SSID");
        assert_eq!(got.password(), self.password, "{context}: wrong password");
        assert_eq!(
            got.reserved(),
            self.reserved,
            "{context}: wrong reserved data"
        );
        assert_eq!(got.bssid(), AP, "{context}: wrong BSSID");
        assert_eq!(got.is_encrypted(), self.key.is_some(), "{context}");
    }

    fn assert_outcome(&self, outcome: &Outcome, context: &str) {
        match outcome.credentials() {
            Some(c) => self.assert_exact(c, context),
            None => panic!("{context}: {outcome:?}"),
        }
    }
}

/// `passes` passes after a second of sync datagrams (100 ms apart: 10 of them).
fn stream(encoder: &Encoder, passes: usize) -> Vec<u16> {
    let mut out = vec![wifiprov_esptouch::v2::SYNC; 10];
    for _ in 0..passes {
        out.extend_from_slice(encoder.lengths());
    }
    out
}

fn decode(observations: &[Observation], decoder: &mut Decoder) -> Option<Outcome> {
    for obs in observations {
        if decoder.feed(obs) == Progress::Complete {
            return decoder.take();
        }
    }
    None
}

fn air(seed: u64, loss: f64) -> Air {
    Air {
        gap_ms: 15,
        ..Air::lossy(seed, loss)
    }
}

#[test]
fn decodes_one_pass_of_both_copies_and_two_passes_of_one_copy() {
    for sent in [HOME, CAFE] {
        let e = sent.encoder(1);
        let got = decode(&air(0, 0.0).transmit(&stream(&e, 1)), &mut sent.decoder())
            .expect("one pass, both copies");
        sent.assert_outcome(&got, "both copies");
        let one = Air {
            both_copies: false,
            ..air(0, 0.0)
        };
        assert!(decode(&one.transmit(&stream(&e, 1)), &mut sent.decoder()).is_none());
        let got = decode(&one.transmit(&stream(&e, 2)), &mut sent.decoder()).expect("two passes");
        sent.assert_outcome(&got, "one copy");
    }
}

#[test]
fn decodes_with_ten_twenty_thirty_percent_loss_and_is_never_wrong() {
    for sent in [HOME, CAFE] {
        for (loss, passes) in [(0.1, 6), (0.2, 8), (0.3, 10)] {
            let mut decoded = 0;
            for seed in 0..40 {
                let e = sent.encoder(seed);
                let obs = air(seed, loss).transmit(&stream(&e, passes));
                if let Some(got) = decode(&obs, &mut sent.decoder()) {
                    sent.assert_outcome(&got, &format!("loss {loss}, seed {seed}"));
                    decoded += 1;
                }
            }
            assert!(
                decoded >= 39,
                "loss {loss}: only {decoded}/40 decoded in {passes} passes"
            );
        }
    }
}

#[test]
fn decodes_one_copy_at_twenty_percent_loss() {
    let e = HOME.encoder(3);
    let mut decoded = 0;
    for seed in 0..40 {
        let one = Air {
            both_copies: false,
            ..air(seed, 0.2)
        };
        if let Some(got) = decode(&one.transmit(&stream(&e, 14)), &mut HOME.decoder()) {
            HOME.assert_outcome(&got, &format!("seed {seed}"));
            decoded += 1;
        }
    }
    assert!(decoded >= 39, "only {decoded}/40 decoded in 14 passes");
}

#[test]
fn drops_retries_and_duplicates_in_both_directions() {
    for seed in 0..20 {
        let e = HOME.encoder(seed);
        let a = Air {
            retry: 0.5,
            ..air(seed, 0.1)
        };
        let mut decoder = HOME.decoder();
        let got = decode(&a.transmit(&stream(&e, 8)), &mut decoder)
            .unwrap_or_else(|| panic!("seed {seed}: not decoded"));
        HOME.assert_outcome(&got, &format!("seed {seed}"));
        assert!(decoder.stats().retries > 0, "seed {seed}: no retry seen");
    }
    // Duplicates without the Retry flag (a capture that lists a frame twice).
    let e = HOME.encoder(9);
    let mut doubled = Vec::new();
    for o in air(9, 0.0).transmit(&stream(&e, 1)) {
        doubled.push(o);
        doubled.push(o);
    }
    let mut decoder = Decoder::default();
    assert!(
        decode(&doubled, &mut decoder).is_some(),
        "duplicates must not hurt"
    );
    assert!(decoder.stats().duplicates > 0);
    // ... and a doubled single copy is still one vote per pass.
    let single: Vec<Observation> = doubled
        .iter()
        .filter(|o| o.direction == Direction::ToAp)
        .copied()
        .collect();
    assert!(
        decode(&single, &mut Decoder::default()).is_none(),
        "a duplicate counted as a second vote"
    );
}

#[test]
fn survives_reordering_noise_and_the_phones_own_broadcasts() {
    for sent in [HOME, CAFE] {
        let mut decoded = 0;
        for seed in 0..30 {
            let e = sent.encoder(seed);
            let obs = Air::hostile(seed).transmit(&stream(&e, 10));
            let mut decoder = sent.decoder();
            if let Some(got) = decode(&obs, &mut decoder) {
                sent.assert_outcome(&got, &format!("hostile seed {seed}"));
                decoded += 1;
            }
            assert!(decoder.stats().ignored > 0);
        }
        assert!(decoded >= 29, "hostile air: only {decoded}/30 decoded");
    }
}

#[test]
fn qos_and_different_overheads_per_direction() {
    // ToDS as QoS data with CCMP and FCS (24 + 2 + 8 + 20 + 8 + 16 + 4 = 82), FromDS non-QoS
    // TKIP without FCS (24 + 8 + 20 + 8 + 20 = 80).
    let e = CAFE.encoder(5);
    for seed in 0..20 {
        let a = Air {
            overhead_to_ap: 82,
            overhead_from_ap: 80,
            ..air(seed, 0.15)
        };
        let mut obs = a.transmit(&stream(&e, 8));
        for o in &mut obs {
            o.qos = o.direction == Direction::ToAp && o.source == PHONE;
        }
        let mut decoder = CAFE.decoder();
        let got = decode(&obs, &mut decoder).unwrap_or_else(|| panic!("seed {seed}"));
        CAFE.assert_outcome(&got, &format!("seed {seed}"));
        let mut overheads: Vec<(bool, Option<u16>)> = decoder
            .streams()
            .filter(|s| s.source == PHONE)
            .map(|s| (s.qos, s.overhead))
            .collect();
        overheads.sort();
        assert_eq!(overheads, [(false, Some(80)), (true, Some(82))]);
    }
}

#[test]
fn two_senders_at_once_give_one_of_them_never_a_mix() {
    let other_phone: Mac = [0x02, 0x42, 0, 0, 0, 9];
    // Same layout (lengths and group count), different bytes: planes of one would fit the other.
    const OFFICE: Sent = Sent {
        ssid: b"OfficeN",
        password: b"another secret phrase",
        reserved: b"device-43",
        key: None,
        security: 1,
    };
    let mut seen = [0usize; 2];
    for seed in 0..30 {
        let a = air(seed, 0.1).transmit(&stream(&HOME.encoder(seed), 8));
        let b = Air {
            phone: other_phone,
            ..air(seed + 1000, 0.1)
        }
        .transmit(&stream(&OFFICE.encoder(seed + 1), 8));
        let mut decoder = HOME.decoder();
        let got = decode(&interleave(seed, &a, &b), &mut decoder)
            .unwrap_or_else(|| panic!("seed {seed}: not decoded"));
        let (who, _, _) = decoder.locked().expect("locked");
        assert_eq!(got.sender(), who);
        if got.sender() == PHONE {
            HOME.assert_outcome(&got, &format!("seed {seed}"));
            seen[0] += 1;
        } else {
            assert_eq!(got.sender(), other_phone);
            OFFICE.assert_outcome(&got, &format!("seed {seed}"));
            seen[1] += 1;
        }
    }
    assert_eq!(seen[0] + seen[1], 30);
}

#[test]
fn the_other_sender_is_decoded_after_the_lock_idles_out() {
    let other_phone: Mac = [0x02, 0x42, 0, 0, 0, 9];
    // The first phone sends only the start of a pass (it gets locked on), then stops.
    let first = HOME.encoder(1);
    let mut obs = air(1, 0.0).transmit(&first.lengths()[..30]);
    let second = Air {
        phone: other_phone,
        ..air(2, 0.0)
    }
    .transmit(&stream(&CAFE.encoder(2), 3));
    let offset = obs.last().map_or(0, |o| o.at.as_millis()) + 25_000;
    obs.extend(second.into_iter().map(|mut o| {
        o.at = wifiprov_sniff::Instant::from_millis(o.at.as_millis() + offset);
        o
    }));
    let mut decoder = CAFE.decoder();
    let got = decode(&obs, &mut decoder).expect("decoded after the idle timeout");
    assert_eq!(got.sender(), other_phone);
    CAFE.assert_outcome(&got, "second sender");
}

#[test]
fn corrupted_lengths_never_yield_wrong_credentials() {
    use rand::{Rng, SeedableRng, rngs::StdRng};
    for sent in [HOME, CAFE] {
        let mut decoded = 0;
        for seed in 0..150 {
            let mut rng = StdRng::seed_from_u64(seed);
            let e = sent.encoder(seed);
            let mut obs = air(seed, 0.1).transmit(&stream(&e, 6));
            // Replace 5 % of the frames' lengths by plane-shaped lengths.
            for o in &mut obs {
                if rng.gen_bool(0.05) {
                    o.len = 76 + (rng.gen_range(0..8u16) << 7 | 64 | rng.gen_range(0..64u16));
                }
            }
            if let Some(got) = decode(&obs, &mut sent.decoder()) {
                sent.assert_outcome(&got, &format!("seed {seed}"));
                decoded += 1;
            }
        }
        assert!(decoded > 140, "only {decoded}/150 decoded");
    }
}

#[test]
fn an_empty_ssid_completes_flagged_for_the_scan() {
    let mut r = seeded_bytes(4);
    let e = Encoder::new(&Config::new(b"", b"hidden-pw", AP), &mut r).expect("valid");
    assert_eq!(e.header()[0], 0);
    let got = decode(
        &air(4, 0.0).transmit(&stream(&e, 1)),
        &mut Decoder::default(),
    )
    .expect("decoded");
    let c = got.credentials().expect("credentials");
    assert!(c.ssid_missing());
    assert_eq!(c.ssid(), b"");
    assert_eq!(c.password(), b"hidden-pw");
    assert_eq!(c.bssid(), AP, "look the SSID up by this BSSID");
}

#[test]
fn a_header_for_another_bssid_is_refused_unless_configured() {
    let e = HOME.encoder(6);
    // The frames travel through another BSSID than the one whose CRC the phone sent.
    let other = Air {
        bssid: [0x24, 0x0a, 0xc4, 0x77, 0x00, 0x99],
        ..air(6, 0.0)
    };
    let obs = other.transmit(&stream(&e, 3));
    assert!(decode(&obs, &mut Decoder::default()).is_none());
    let lenient = DecoderConfig {
        verify_bssid: false,
        ..DecoderConfig::default()
    };
    let got = decode(&obs, &mut Decoder::new(lenient)).expect("decoded");
    let c = got.credentials().expect("credentials");
    assert!(!c.bssid_verified());
    assert_eq!(c.password(), HOME.password);
}
