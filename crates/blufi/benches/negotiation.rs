//! A whole BluFi provisioning conversation in memory (the EspBlufi app's flow: version, DH
//! negotiation, security mode, station mode, SSID, password, connect, status report), both
//! sides' CPU, for each crypto generation and the default ATT MTU (23) and a large one (517).
//! Run with `cargo bench -p wifiprov-blufi`.

use criterion::{Criterion, criterion_main};
use rand::SeedableRng as _;
use rand::rngs::StdRng;
use wifiprov_blufi::client::{self, Client};
use wifiprov_blufi::device::{self, Device};
use wifiprov_blufi::link::Sizing;
use wifiprov_blufi::{Generation, OperationMode, SecurityMode, StationState, Status};

fn pump(client: &mut Client, device: &mut Device, rng: &mut StdRng) {
    loop {
        let mut moved = false;
        while let Some(write) = client.poll_transmit() {
            device.handle_write(&write, rng).expect("device");
            moved = true;
        }
        while let Some(notification) = device.poll_transmit() {
            client.handle_notification(&notification).expect("client");
            moved = true;
        }
        if !moved {
            return;
        }
    }
}

fn conversation(generation: Generation, mtu: u16, rng: &mut StdRng) {
    let mut device = Device::new(device::Config::new(generation).with_sizing(Sizing::device(mtu)));
    let mut client = Client::new(client::Config::new().with_sizing(Sizing::phone(mtu)));
    client.request_version().expect("version");
    pump(&mut client, &mut device, rng);
    client.negotiate(rng).expect("negotiate");
    pump(&mut client, &mut device, rng);
    client
        .set_security_mode(SecurityMode::DATA_PROTECTED)
        .expect("mode");
    client
        .set_operation_mode(OperationMode::Station)
        .expect("opmode");
    client
        .send_station(b"HomeNet", b"correct horse battery", None)
        .expect("station");
    client.connect().expect("connect");
    pump(&mut client, &mut device, rng);
    let mut asked = false;
    while let Some(event) = device.poll_event() {
        asked |= matches!(event, device::Event::ConnectRequested(_));
    }
    assert!(asked, "the device got the credentials");
    let mut status = Status::new(OperationMode::Station, StationState::Connected, 0);
    status.ssid = Some(b"HomeNet".to_vec());
    device.send_status(&status).expect("status");
    pump(&mut client, &mut device, rng);
}

fn conversations(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(1);
    for (generation, name) in [(Generation::V1, "v1"), (Generation::V2, "v2")] {
        for mtu in [23u16, 517] {
            c.bench_function(&format!("blufi {name} conversation, MTU {mtu}"), |b| {
                b.iter(|| conversation(generation, mtu, &mut rng));
            });
        }
    }
}

#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::conversations);
}
criterion_main!(group::benches);
