//! Real sockets on loopback: the sender emits the schedule's lengths in order, and the device's
//! ack reaches the listener and is reported once.

use std::net::{Ipv4Addr, UdpSocket};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use wifiprov_esptouch::v1::{Ack, Config, Encoder};
use wifiprov_transport::udp::{
    AckOptions, Destination, Timing, V1SendOptions, provision_v1, send_v1_ack,
};

fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn encoder() -> Encoder {
    Encoder::new(&Config::new(
        b"HomeNet",
        b"pw",
        [2, 0, 0, 0, 0, 1],
        [127, 0, 0, 1],
    ))
    .expect("valid")
}

#[test]
fn sender_emits_guide_then_triplets_in_order() {
    let receiver = UdpSocket::bind("127.0.0.1:0").expect("bind");
    receiver
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    let port = receiver.local_addr().expect("addr").port();
    let e = encoder();
    let options = V1SendOptions {
        destination: Destination::Address(Ipv4Addr::LOCALHOST),
        port,
        timing: Timing {
            gap: Duration::from_millis(1),
            guide: Duration::from_millis(20),
            cycle: Duration::from_millis(400),
            sending: Duration::from_millis(200),
        },
        timeout: Duration::from_millis(300),
        devices: 1,
        ack_port: free_port(),
        ..V1SendOptions::for_encoder(&e)
    };
    let stop = AtomicBool::new(false);
    let devices = provision_v1(&options, Ipv4Addr::LOCALHOST, &stop, |_| {}).expect("send");
    assert!(devices.is_empty());
    let mut got = Vec::new();
    let mut buf = [0u8; 2048];
    while let Ok((len, _)) = receiver.recv_from(&mut buf) {
        assert!(
            buf[..len].iter().all(|&b| b == b'1'),
            "payload is ASCII '1'"
        );
        got.push(len as u16);
    }
    let guides = got.iter().take_while(|&&l| l >= 512).count();
    assert!(
        guides >= 4 && guides % 4 == 0,
        "whole guide quartets first: {guides}"
    );
    assert_eq!(&got[..4], &[515, 514, 513, 512]);
    let data: Vec<u16> = got[guides..]
        .iter()
        .copied()
        .take_while(|&l| l < 512)
        .collect();
    let cycle: Vec<u16> = e.data_cycle().collect();
    let expected: Vec<u16> = cycle.iter().copied().cycle().take(data.len()).collect();
    assert!(data.len() >= 30, "enough data sent: {}", data.len());
    assert_eq!(data, expected);
}

#[test]
fn a_device_that_acks_thirty_times_is_reported_once() {
    let ack_port = free_port();
    let e = encoder();
    let options = V1SendOptions {
        destination: Destination::Address(Ipv4Addr::LOCALHOST),
        port: free_port(),
        timeout: Duration::from_secs(5),
        devices: 0,
        ack_port,
        timing: Timing {
            sending: Duration::from_millis(100),
            ..Timing::default()
        },
        ..V1SendOptions::for_encoder(&e)
    };
    let ack = Ack {
        token: e.total_len(),
        mac: [0x24, 0x0a, 0xc4, 1, 2, 3],
        ip: [127, 0, 0, 1],
    };
    let wrong_token = Ack {
        token: 1,
        mac: [9; 6],
        ..ack
    };
    let started = Instant::now();
    let stop = AtomicBool::new(false);
    let devices = std::thread::scope(|s| {
        s.spawn(|| {
            let options = AckOptions {
                first_delay: Duration::from_millis(100),
                interval: Duration::from_millis(5),
                port: ack_port,
                broadcast: false,
                ..AckOptions::default()
            };
            send_v1_ack(&wrong_token, Ipv4Addr::LOCALHOST, &options).expect("ack");
            send_v1_ack(&ack, Ipv4Addr::LOCALHOST, &options).expect("ack");
            std::thread::sleep(Duration::from_millis(300));
            stop.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        provision_v1(&options, Ipv4Addr::LOCALHOST, &stop, |_| {}).expect("listen")
    });
    assert_eq!(devices.len(), 1, "{devices:?}");
    assert_eq!(devices[0].mac, ack.mac);
    assert_eq!(devices[0].ip, Ipv4Addr::LOCALHOST);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "stopped by the flag, not the timeout"
    );
}
