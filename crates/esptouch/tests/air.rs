//! Encoder → simulated air → decoder, over many seeds: loss, duplicates, retries, reordering,
//! foreign frames, two senders at once, multicast, scan-assisted completion. Every result must be
//! exactly the credentials sent: a wrong result is worse than none.

use wifiprov_esptouch::v1::{Config, Credentials, Decoder, Encoder};
use wifiprov_sniff::{Decoder as _, Mac, Observation, Progress};
use wifiprov_testkit::air::{AP, Air, PHONE, interleave};

const IP: [u8; 4] = [192, 168, 77, 2];

fn encoder(ssid: &[u8], password: &[u8], bssid: Mac) -> Encoder {
    Encoder::new(&Config::new(ssid, password, bssid, IP)).expect("valid config")
}

/// `guides` guide quartets, then `passes` full data cycles.
fn stream(encoder: &Encoder, guides: usize, passes: usize) -> Vec<u16> {
    let mut out = Vec::new();
    for _ in 0..guides {
        out.extend(encoder.guide());
    }
    for _ in 0..passes {
        out.extend(encoder.data_cycle());
    }
    out
}

fn decode(observations: &[Observation], decoder: &mut Decoder) -> Option<Credentials> {
    for obs in observations {
        if decoder.feed(obs) == Progress::Complete {
            return decoder.take();
        }
    }
    None
}

fn assert_exact(got: &Credentials, ssid: &[u8], password: &[u8], bssid: Mac, seed: u64) {
    assert_eq!(got.ssid(), ssid, "seed {seed}: wrong SSID");
    assert_eq!(got.password(), password, "seed {seed}: wrong password");
    assert_eq!(got.bssid(), bssid, "seed {seed}: wrong BSSID");
    assert_eq!(got.phone_ip(), IP, "seed {seed}: wrong phone IP");
}

#[test]
fn decodes_a_single_copy_without_loss() {
    let e = encoder(b"HomeNet", b"correct horse battery", AP);
    let air = Air {
        both_copies: false,
        ..Air::default()
    };
    let got = decode(&air.transmit(&stream(&e, 2, 1)), &mut Decoder::default()).expect("decoded");
    assert_exact(&got, b"HomeNet", b"correct horse battery", AP, 0);
}

#[test]
fn decodes_with_random_loss_up_to_forty_percent_and_is_never_wrong() {
    let e = encoder(b"HomeNet", b"correct horse battery", AP);
    for (loss, passes) in [(0.0, 1), (0.1, 6), (0.2, 8), (0.3, 12), (0.4, 20)] {
        let mut decoded = 0;
        for seed in 0..40 {
            let air = Air::lossy(seed, loss);
            let obs = air.transmit(&stream(&e, 8, passes));
            if let Some(got) = decode(&obs, &mut Decoder::default()) {
                assert_exact(&got, b"HomeNet", b"correct horse battery", AP, seed);
                decoded += 1;
            }
        }
        assert!(
            decoded >= 39,
            "loss {loss}: only {decoded}/40 decoded in {passes} passes"
        );
    }
}

#[test]
fn decodes_one_copy_at_twenty_percent_loss() {
    let e = encoder(b"TestAP", b"12345678", AP);
    for seed in 0..30 {
        let air = Air {
            both_copies: false,
            ..Air::lossy(seed, 0.2)
        };
        let got = decode(&air.transmit(&stream(&e, 8, 12)), &mut Decoder::default())
            .unwrap_or_else(|| panic!("seed {seed}: not decoded"));
        assert_exact(&got, b"TestAP", b"12345678", AP, seed);
    }
}

#[test]
fn drops_retries_and_duplicates_in_both_directions() {
    let e = encoder(b"HomeNet", b"pw", AP);
    for seed in 0..20 {
        let air = Air {
            retry: 0.5,
            ..Air::lossy(seed, 0.1)
        };
        let obs = air.transmit(&stream(&e, 8, 8));
        let mut decoder = Decoder::default();
        let got = decode(&obs, &mut decoder).unwrap_or_else(|| panic!("seed {seed}: not decoded"));
        assert_exact(&got, b"HomeNet", b"pw", AP, seed);
        assert!(
            decoder.stats().retries > 0,
            "seed {seed}: retries not recognised"
        );
    }
}

#[test]
fn survives_reordering_within_a_round() {
    let e = encoder(b"HomeNet", b"correct horse battery", AP);
    for seed in 0..20 {
        let air = Air {
            reorder: 0.05,
            ..Air::lossy(seed, 0.05)
        };
        let got = decode(&air.transmit(&stream(&e, 8, 10)), &mut Decoder::default())
            .unwrap_or_else(|| panic!("seed {seed}: not decoded"));
        assert_exact(&got, b"HomeNet", b"correct horse battery", AP, seed);
    }
}

#[test]
fn ignores_foreign_frames_and_the_phones_own_other_traffic() {
    let e = encoder(b"HomeNet", b"correct horse battery", AP);
    for seed in 0..20 {
        let air = Air {
            noise: 1.0,
            phone_noise: 0.05,
            ..Air::lossy(seed, 0.1)
        };
        let obs = air.transmit(&stream(&e, 8, 10));
        let mut decoder = Decoder::default();
        let got = decode(&obs, &mut decoder).unwrap_or_else(|| panic!("seed {seed}: not decoded"));
        assert_exact(&got, b"HomeNet", b"correct horse battery", AP, seed);
        assert!(decoder.stats().ignored > 0);
    }
}

#[test]
fn two_senders_at_once_give_one_of_them_never_a_mix() {
    let other_phone = [0x02, 0x42, 0, 0, 0, 9];
    let first = encoder(b"HomeNet", b"correct horse battery", AP);
    let second = encoder(b"OfficeNet", b"another secret!", AP);
    let mut seen = [0usize; 2];
    for seed in 0..30 {
        let a = Air::lossy(seed, 0.1).transmit(&stream(&first, 8, 10));
        let b = Air {
            phone: other_phone,
            ..Air::lossy(seed + 1000, 0.1)
        }
        .transmit(&stream(&second, 8, 10));
        let got = decode(&interleave(seed, &a, &b), &mut Decoder::default())
            .unwrap_or_else(|| panic!("seed {seed}: not decoded"));
        if got.sender() == PHONE {
            assert_exact(&got, b"HomeNet", b"correct horse battery", AP, seed);
            seen[0] += 1;
        } else {
            assert_eq!(got.sender(), other_phone);
            assert_exact(&got, b"OfficeNet", b"another secret!", AP, seed);
            seen[1] += 1;
        }
    }
    assert_eq!(seen[0] + seen[1], 30);
}

#[test]
fn multicast_groups_change_per_datacode() {
    let e = encoder(b"HomeNet", b"correct horse battery", AP);
    // 234.n.n.n, n = 1..=100: one group per guide quartet and per data triplet.
    let group = |n: usize| {
        let g = (n % 100 + 1) as u8;
        [0x01, 0x00, 0x5e, g, g, g]
    };
    let mut datagrams = Vec::new();
    let mut n = 0;
    for _ in 0..8 {
        datagrams.extend(e.guide().map(|l| (l, group(n))));
        n += 1;
    }
    for _ in 0..8 {
        for position in 0..e.datum_count() {
            datagrams.extend(e.triplet_at(position).map(|l| (l, group(n))));
            n += 1;
        }
    }
    for seed in 0..20 {
        let obs = Air::lossy(seed, 0.15).transmit_to(&datagrams);
        let got = decode(&obs, &mut Decoder::default()).unwrap_or_else(|| panic!("seed {seed}"));
        assert_exact(&got, b"HomeNet", b"correct horse battery", AP, seed);
    }
}

#[test]
fn completes_from_a_scan_when_ssid_bytes_never_arrive() {
    let ssid = b"HomeNet";
    let password = b"correct horse battery";
    let e = encoder(ssid, password, AP);
    let total = usize::from(e.total_len());
    let ssid_indices = (9 + password.len())..total;
    // Drop every DataCode that carries an SSID byte.
    let mut lengths = Vec::new();
    for _ in 0..8 {
        lengths.extend(e.guide());
    }
    for _ in 0..3 {
        for position in 0..e.datum_count() {
            let (index, _) = e.datum(position).expect("position in cycle");
            if !ssid_indices.contains(&usize::from(index)) {
                lengths.extend(e.triplet_at(position));
            }
        }
    }
    let obs = Air::default().transmit(&lengths);
    let mut without_scan = Decoder::default();
    assert!(
        decode(&obs, &mut without_scan).is_none(),
        "cannot finish without the SSID"
    );

    let mut decoder = Decoder::default();
    assert!(decoder.add_known_network(b"Neighbour", [2, 2, 2, 2, 2, 2]));
    assert!(
        decoder.add_known_network(b"HomeNe7", [2, 2, 2, 2, 2, 3]),
        "same length, other CRC"
    );
    assert!(decoder.add_known_network(ssid, AP));
    let got = decode(&obs, &mut decoder).expect("scan-assisted");
    assert_exact(&got, ssid, password, AP, 0);
    assert!(got.ssid_from_scan());
}

#[test]
fn corrupted_lengths_never_yield_wrong_credentials() {
    use rand::{Rng, SeedableRng, rngs::StdRng};
    let e = encoder(b"HomeNet", b"correct horse battery", AP);
    let mut decoded = 0;
    for seed in 0..200 {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut obs = Air::lossy(seed, 0.1).transmit(&stream(&e, 8, 6));
        // Replace 5 % of the frames' lengths by plausible symbol lengths.
        for o in &mut obs {
            if rng.gen_bool(0.05) {
                o.len = 76 + rng.gen_range(40..424);
            }
        }
        if let Some(got) = decode(&obs, &mut Decoder::default()) {
            assert_exact(&got, b"HomeNet", b"correct horse battery", AP, seed);
            decoded += 1;
        }
    }
    assert!(decoded > 150, "only {decoded}/200 decoded");
}
