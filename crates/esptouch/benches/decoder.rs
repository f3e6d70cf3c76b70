//! Decoder throughput (ns per observation) and state size.
//! Run with: cargo bench -p wifiprov-esptouch --bench decoder

use criterion::{Criterion, Throughput, criterion_main};
use wifiprov_esptouch::v1::{Config, Decoder, Encoder};
use wifiprov_esptouch::v2;
use wifiprov_sniff::Decoder as _;
use wifiprov_testkit::air::{AP, Air};

fn observations(loss: f64, noise: f64) -> Vec<wifiprov_sniff::Observation> {
    let ssid: Vec<u8> = (0..32u8).map(|i| b'A' + i % 26).collect();
    let password: Vec<u8> = (0..57u8).map(|i| b'a' + (i * 7) % 26).collect();
    let encoder =
        Encoder::new(&Config::new(&ssid, &password, AP, [192, 168, 77, 2])).expect("valid");
    let mut lengths = Vec::new();
    for _ in 0..63 {
        lengths.extend(encoder.guide());
    }
    for _ in 0..10 {
        lengths.extend(encoder.data_cycle());
    }
    Air {
        noise,
        ..Air::lossy(1, loss)
    }
    .transmit(&lengths)
}

fn bench(c: &mut Criterion) {
    println!(
        "decoder state: {} bytes (std::mem::size_of::<wifiprov_esptouch::v1::Decoder>())",
        std::mem::size_of::<Decoder>()
    );
    let mut group = c.benchmark_group("esptouch_v1_decoder");
    for (name, loss, noise) in [("clean", 0.0, 0.0), ("loss17_noise1", 0.17, 1.0)] {
        let mut obs = observations(loss, noise);
        // Keep only what a decoder consumes up to its result, so every observation does work.
        let mut probe = Decoder::default();
        let used = obs
            .iter()
            .position(|o| probe.feed(o) == wifiprov_sniff::Progress::Complete)
            .expect("the stream decodes");
        obs.truncate(used + 1);
        println!("{name}: {} observations up to the result", obs.len());
        group.throughput(Throughput::Elements(obs.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut decoder = Decoder::default();
                for o in &obs {
                    std::hint::black_box(decoder.feed(o));
                }
                decoder.stats()
            });
        });
    }
    group.finish();
}

/// A v2 sender with the longest plaintext payload (32-byte SSID, 64-byte password, 64 bytes of
/// 8-bit reserved data: 31 groups, 342 lengths per pass), 10 passes after a second of syncs.
fn v2_observations(loss: f64, noise: f64) -> Vec<wifiprov_sniff::Observation> {
    let ssid: Vec<u8> = (0..32u8).map(|i| b'A' + i % 26).collect();
    let password: Vec<u8> = (0..64u8).map(|i| b'a' + (i * 7) % 26).collect();
    let reserved: Vec<u8> = (0..64u8).map(|i| 0x80 | i).collect();
    let config = v2::Config::new(&ssid, &password, AP).with_reserved(&reserved);
    let mut x = 7u8;
    let mut random = || {
        x = x.wrapping_mul(13).wrapping_add(5);
        x
    };
    let encoder = v2::Encoder::new(&config, &mut random).expect("valid");
    let mut lengths = vec![v2::SYNC; 10];
    for _ in 0..10 {
        lengths.extend_from_slice(encoder.lengths());
    }
    Air {
        noise,
        gap_ms: 15,
        ..Air::lossy(1, loss)
    }
    .transmit(&lengths)
}

fn bench_v2(c: &mut Criterion) {
    println!(
        "v2 decoder state: {} bytes (std::mem::size_of::<wifiprov_esptouch::v2::Decoder>())",
        std::mem::size_of::<v2::Decoder>()
    );
    let mut group = c.benchmark_group("esptouch_v2_decoder");
    for (name, loss, noise) in [("clean", 0.0, 0.0), ("loss17_noise1", 0.17, 1.0)] {
        let mut obs = v2_observations(loss, noise);
        let mut probe = v2::Decoder::default();
        let used = obs
            .iter()
            .position(|o| probe.feed(o) == wifiprov_sniff::Progress::Complete)
            .expect("the stream decodes");
        obs.truncate(used + 1);
        println!("v2 {name}: {} observations up to the result", obs.len());
        group.throughput(Throughput::Elements(obs.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut decoder = v2::Decoder::default();
                for o in &obs {
                    std::hint::black_box(decoder.feed(o));
                }
                decoder.stats()
            });
        });
    }
    group.finish();
}

#[allow(missing_docs)]
mod harness {
    use super::{bench, bench_v2};
    criterion::criterion_group!(benches, bench, bench_v2);
}
use harness::benches;
criterion_main!(benches);
