//! Decoder throughput (ns per observation) and state size.
//! Run with: cargo bench -p wifiprov-airkiss --bench decoder

use criterion::{Criterion, Throughput, criterion_main};
use wifiprov_airkiss::decoder::Decoder;
use wifiprov_airkiss::encoder::{Config, Encoder, Layout};
use wifiprov_sniff::{Decoder as _, Observation, Progress};
use wifiprov_testkit::air::Air;

/// A 97-byte payload (the most: 64-byte password, random byte, 32-byte SSID) in WeChat's layout
/// repeated, as a monitor-mode device records it.
fn observations(loss: f64, noise: f64) -> Vec<Observation> {
    let ssid: Vec<u8> = (0..32u8).map(|i| b'A' + i % 26).collect();
    let password: Vec<u8> = (0..64u8).map(|i| b'a' + (i * 7) % 26).collect();
    let encoder = Encoder::new(&Config::new(&ssid, &password, 0x42)).expect("valid");
    let lengths: Vec<u16> = (0..10)
        .flat_map(|_| encoder.cycle(Layout::default()))
        .collect();
    Air {
        noise,
        gap_ms: 4,
        ..Air::lossy(1, loss)
    }
    .transmit(&lengths)
}

fn bench(c: &mut Criterion) {
    println!(
        "decoder state: {} bytes (std::mem::size_of::<wifiprov_airkiss::decoder::Decoder>())",
        std::mem::size_of::<Decoder>()
    );
    let mut group = c.benchmark_group("airkiss_decoder");
    for (name, loss, noise) in [("clean", 0.0, 0.0), ("loss20_noise1", 0.2, 1.0)] {
        let mut obs = observations(loss, noise);
        // Keep only what a decoder consumes up to its result, so every observation does work.
        let mut probe = Decoder::default();
        let used = obs
            .iter()
            .position(|o| probe.feed(o) == Progress::Complete)
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

#[allow(missing_docs)]
mod harness {
    use super::bench;
    criterion::criterion_group!(benches, bench);
}
use harness::benches;
criterion_main!(benches);
