//! A full security-2 handshake (client and device CPU: SRP-6a 3072-bit, both proofs, GCM set
//! up) and, for comparison, security 1. Run with `cargo bench -p wifiprov-protocomm`.

use criterion::{Criterion, criterion_main};
use rand::SeedableRng as _;
use rand::rngs::StdRng;
use wifiprov_protocomm::Next;
use wifiprov_protocomm::sec2::Patch;
use wifiprov_protocomm::session::{ClientSecurity, ClientSession, DeviceSecurity, DeviceSession};
use wifiprov_protocomm::srp::{self, XDerivation};
use zeroize::Zeroizing;

fn run(client: &ClientSecurity, device: &DeviceSecurity, rng: &mut StdRng) {
    let mut device = DeviceSession::new(device).expect("device");
    let (mut session, mut next) = ClientSession::start(client, rng).expect("start");
    while let Next::Send(request) = next {
        let reply = device.handle_request(&request, rng).expect("device step");
        next = session.handle_reply(&reply).expect("client step");
    }
    assert!(device.is_established());
}

fn handshakes(c: &mut Criterion) {
    let salt = [0x36u8; 16];
    let verifier = srp::verifier(&salt, b"wifiprov", b"abcd1234", XDerivation::EspIdf).expect("v");
    let sec2_client = ClientSecurity::Sec2 {
        username: b"wifiprov".to_vec(),
        password: Zeroizing::new(b"abcd1234".to_vec()),
        patch: Patch::Counter,
        derivation: XDerivation::EspIdf,
    };
    let sec2_device = DeviceSecurity::Sec2 {
        salt: salt.to_vec(),
        verifier: Zeroizing::new(verifier),
        patch: Patch::Counter,
    };
    let pop = Zeroizing::new(b"abcd1234".to_vec());
    let sec1_client = ClientSecurity::Sec1 { pop: pop.clone() };
    let sec1_device = DeviceSecurity::Sec1 { pop };
    let mut rng = StdRng::seed_from_u64(1);
    c.bench_function("sec2 handshake (client + device)", |b| {
        b.iter(|| run(&sec2_client, &sec2_device, &mut rng));
    });
    c.bench_function("sec1 handshake (client + device)", |b| {
        b.iter(|| run(&sec1_client, &sec1_device, &mut rng));
    });
    c.bench_function("sec2 verifier generation", |b| {
        b.iter(|| srp::verifier(&salt, b"wifiprov", b"abcd1234", XDerivation::EspIdf));
    });
}

#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::handshakes);
}
criterion_main!(group::benches);
