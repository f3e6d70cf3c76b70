//! ESP-TOUCH v2 with datagrams dropped by the phone itself (socket or qdisc drop, e.g.
//! `tc netem loss 20%` on the phone), before they reach the radio: the 802.11 sequence numbers
//! then stay contiguous while a symbol is missing, so the exact pass layout no longer fits after
//! it. Every result must be exactly what was sent.

use rand::{Rng, SeedableRng, rngs::StdRng};
use wifiprov_esptouch::v2::{Config, Decoder, Encoder, Outcome, Randomness, SYNC};
use wifiprov_sniff::{Decoder as _, Progress};
use wifiprov_testkit::air::{AP, Air, seeded_bytes};

const SSID: &[u8] = "HomeNet ☕".as_bytes();
const PASSWORD: &[u8] = b"correct horse battery";
const GAP_MS: u64 = 15;
const SYNCS: usize = 10;

fn encoder(seed: u64) -> Encoder {
    let mut r = seeded_bytes(seed);
    Encoder::new(
        &Config::new(SSID, PASSWORD, AP),
        &mut r as &mut dyn Randomness,
    )
    .expect("valid config")
}

/// Sync datagrams then `passes` passes, each datagram with its sending time; the phone drops
/// each one with probability `drop` before it is sent (it takes no sequence number).
fn sent(encoder: &Encoder, passes: usize, drop: f64, seed: u64) -> Vec<(u64, u16)> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed_d0d0);
    let mut lengths = vec![SYNC; SYNCS];
    for _ in 0..passes {
        lengths.extend_from_slice(encoder.lengths());
    }
    lengths
        .into_iter()
        .enumerate()
        .filter(|_| !rng.gen_bool(drop))
        .map(|(i, l)| (i as u64 * GAP_MS, l))
        .collect()
}

fn assert_exact(outcome: &Outcome, context: &str) {
    let c = outcome
        .credentials()
        .unwrap_or_else(|| panic!("{context}: {outcome:?}"));
    assert_eq!(c.ssid(), SSID, "{context}: wrong SSID");
    assert_eq!(c.password(), PASSWORD, "{context}: wrong password");
    assert_eq!(c.reserved(), b"", "{context}: wrong reserved data");
    assert_eq!(c.bssid(), AP, "{context}: wrong BSSID");
}

/// Passes (counted from the first pass datagram) after which the decoder completed, if it did.
fn passes_needed(air: &Air, drop: f64, seed: u64, passes: usize) -> Option<usize> {
    let e = encoder(seed);
    let pass_ms = e.lengths().len() as u64 * GAP_MS;
    let obs = air.transmit_at(&sent(&e, passes, drop, seed));
    let mut decoder = Decoder::default();
    for o in &obs {
        if decoder.feed(o) == Progress::Complete {
            let got = decoder.take().expect("outcome");
            assert_exact(&got, &format!("drop {drop}, seed {seed}"));
            let into = o.at.as_millis().saturating_sub(SYNCS as u64 * GAP_MS);
            return Some((into / pass_ms) as usize + 1);
        }
    }
    None
}

/// The number of passes within which `share` of `seeds` decoded (`None`: not within `passes`).
fn quantile(
    air: impl Fn(u64) -> Air,
    drop: f64,
    seeds: u64,
    passes: usize,
    share: f64,
) -> Option<usize> {
    let mut needed: Vec<usize> = (0..seeds)
        .map(|seed| passes_needed(&air(seed), drop, seed, passes).unwrap_or(usize::MAX))
        .collect();
    needed.sort_unstable();
    let at = ((seeds as f64 * share).ceil() as usize).saturating_sub(1);
    needed.get(at).copied().filter(|&n| n != usize::MAX)
}

fn clean(both: bool) -> impl Fn(u64) -> Air {
    move |seed| Air {
        seed,
        both_copies: both,
        gap_ms: GAP_MS,
        ..Air::default()
    }
}

/// 95 % of 200 seeds decode within these passes. Before loose attribution (strict layout only)
/// the same runs gave, within 30 passes: both copies 10 % drop p95 17, 20 % drop not even the
/// median; one copy 10 % drop p95 24, 20 % drop not the median. Now: both copies 6 and 11, one
/// copy 7 and 14.
#[test]
fn decodes_when_the_phone_drops_ten_or_twenty_percent() {
    for (both, drop, bound) in [
        (true, 0.1, 7),
        (true, 0.2, 12),
        (false, 0.1, 8),
        (false, 0.2, 15),
    ] {
        let p95 = quantile(clean(both), drop, 200, 30, 0.95);
        assert!(
            p95.is_some_and(|n| n <= bound),
            "both copies {both}, drop {drop}: 95 % within {p95:?} passes, want {bound}"
        );
    }
}

/// Phone-side drop with the phone's own other broadcasts (heard in both copies, taking sequence
/// numbers), other stations' frames and air loss: a wrong plane value placed loosely must never
/// make it into a result.
#[test]
fn phone_side_drop_with_the_phones_own_broadcasts_is_never_wrong() {
    for both in [true, false] {
        for (drop, phone_noise) in [(0.1, 0.05), (0.2, 0.1), (0.2, 0.3)] {
            let mut decoded = 0;
            for seed in 0..150 {
                let air = Air {
                    seed,
                    both_copies: both,
                    gap_ms: GAP_MS,
                    loss: 0.05,
                    noise: 0.5,
                    phone_noise,
                    ..Air::default()
                };
                // `passes_needed` checks every result for exactness.
                decoded += usize::from(passes_needed(&air, drop, seed, 20).is_some());
            }
            assert!(
                decoded >= 100,
                "both {both}, drop {drop}, phone noise {phone_noise}: {decoded}/150 decoded"
            );
        }
    }
}
