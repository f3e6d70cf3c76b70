//! Real UDP on loopback: the ESP-TOUCH v1 sender's datagrams, the ack listener, the device's
//! ack sender, and the two together. Every wait is bounded; nothing here takes a second.

use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use wifiprov_esptouch::v1::{Ack, Config, Encoder, GUIDE};
use wifiprov_transport::udp::{
    self, AckListener, AckOptions, Destination, Finish, ListenOptions, SendEvent, Timing, UdpError,
    V1SendOptions,
};

/// Upper bound for any wait in these tests.
const LIMIT: Duration = Duration::from_secs(5);

const BSSID: [u8; 6] = [0x24, 0x0a, 0xc4, 0x77, 0x00, 0x01];

fn encoder() -> Encoder {
    Encoder::new(&Config::new(
        b"TestAP",
        b"12345678",
        BSSID,
        Ipv4Addr::LOCALHOST.octets(),
    ))
    .unwrap()
}

fn ack(token: u8, last: u8) -> Ack {
    Ack {
        token,
        mac: [0x24, 0x0a, 0xc4, 0, 0, last],
        ip: [192, 168, 4, last],
    }
}

/// Fast acks to 127.0.0.1:`port`, without the broadcast.
fn quick_acks(port: u16, rounds: u32) -> AckOptions {
    AckOptions {
        first_delay: Duration::ZERO,
        rounds,
        interval: Duration::from_millis(1),
        port,
        broadcast: false,
        ..AckOptions::default()
    }
}

/// A receiver on 127.0.0.1 with a large buffer and a short read timeout.
fn sink() -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let _ = socket2::SockRef::from(&socket).set_recv_buffer_size(4 << 20);
    socket
        .set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    socket
}

/// A port that was free a moment ago.
fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Options that send to `port` on loopback and listen on loopback (port `ack_port`).
fn loopback_options(encoder: &Encoder, port: u16, ack_port: u16) -> V1SendOptions {
    V1SendOptions {
        destination: Destination::Address(Ipv4Addr::LOCALHOST),
        port,
        ack_port,
        listen_address: Ipv4Addr::LOCALHOST,
        timeout: LIMIT,
        ..V1SendOptions::for_encoder(encoder)
    }
}

#[test]
fn listener_reports_a_device_once_although_thirty_acks_arrive() {
    let listener = AckListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0), None).unwrap();
    let port = listener.local_addr().port();
    let token = encoder().total_len();
    let options = ListenOptions {
        token,
        devices: 2,
        timeout: LIMIT,
    };
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let (devices, reported) = std::thread::scope(|scope| {
        let listening = scope.spawn(|| {
            let mut reported = Vec::new();
            let devices = listener
                .listen(&options, started, &stop, |device| reported.push(*device))
                .unwrap();
            (devices, reported)
        });
        // Noise first: a short datagram and an ack with another token.
        let noise = UdpSocket::bind("127.0.0.1:0").unwrap();
        let target = ("127.0.0.1", port);
        noise.send_to(b"hello", target).unwrap();
        noise.send_to(&ack(token ^ 0xff, 9).emit(), target).unwrap();
        // Device A: 30 rounds. Device B once, after them: the listener ends on B, so it has
        // processed all 30 of A's acks by then.
        udp::send_v1_ack(&ack(token, 1), Ipv4Addr::LOCALHOST, &quick_acks(port, 30)).unwrap();
        udp::send_v1_ack(&ack(token, 2), Ipv4Addr::LOCALHOST, &quick_acks(port, 1)).unwrap();
        listening.join().unwrap()
    });
    assert!(started.elapsed() < LIMIT, "ended on the second device");
    assert_eq!(devices, reported);
    assert_eq!(devices.len(), 2, "{devices:?}");
    assert_eq!(devices[0].mac, ack(token, 1).mac);
    assert_eq!(devices[0].ip, Ipv4Addr::new(192, 168, 4, 1));
    assert_eq!(devices[0].from.ip(), Ipv4Addr::LOCALHOST);
    assert_eq!(devices[1].mac, ack(token, 2).mac);
}

#[test]
fn listener_stops_at_the_timeout_and_on_the_stop_flag() {
    let listener = AckListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0), None).unwrap();
    let mut options = ListenOptions::new(23);
    options.timeout = Duration::from_millis(60);
    let never = AtomicBool::new(false);
    let started = Instant::now();
    let devices = listener.listen(&options, started, &never, |_| {}).unwrap();
    assert!(devices.is_empty());
    assert!(started.elapsed() < LIMIT);

    options.timeout = LIMIT;
    let stopped = AtomicBool::new(true);
    let started = Instant::now();
    assert!(
        listener
            .listen(&options, started, &stopped, |_| {})
            .unwrap()
            .is_empty()
    );
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn ack_with_broadcast_succeeds_on_loopback() {
    let receiver = sink();
    let port = receiver.local_addr().unwrap().port();
    let options = AckOptions {
        broadcast: true,
        ..quick_acks(port, 2)
    };
    let token = encoder().total_len();
    udp::send_v1_ack(&ack(token, 7), Ipv4Addr::LOCALHOST, &options).unwrap();
    let mut buffer = [0u8; 64];
    let (len, _) = receiver.recv_from(&mut buffer).unwrap();
    assert_eq!(buffer[..len], ack(token, 7).emit());
}

#[test]
fn ack_sender_stops_on_the_flag() {
    let options = AckOptions {
        stop: Some(Arc::new(AtomicBool::new(true))),
        ..quick_acks(free_port(), 30)
    };
    let started = Instant::now();
    udp::send_v1_ack(&ack(23, 1), Ipv4Addr::LOCALHOST, &options).unwrap();
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn sender_emits_guide_quartets_then_the_encoders_triplets_in_order() {
    let encoder = encoder();
    let receiver = sink();
    let port = receiver.local_addr().unwrap().port();
    let options = V1SendOptions {
        timing: Timing {
            gap: Duration::from_millis(1),
            guide: Duration::from_millis(40),
            cycle: Duration::from_millis(120),
            sending: Duration::from_millis(300),
        },
        // Listening goes on briefly after sending: the last burst completes.
        timeout: Duration::from_millis(400),
        devices: 0,
        ..loopback_options(&encoder, port, 0)
    };
    let finished = AtomicBool::new(false);
    let stop = AtomicBool::new(false);
    let mut events = Vec::new();
    let (devices, received) = std::thread::scope(|scope| {
        let receiving = scope.spawn(|| {
            let mut received: Vec<(usize, bool)> = Vec::new();
            let mut buffer = [0u8; 2048];
            let deadline = Instant::now() + LIMIT;
            while Instant::now() < deadline {
                match receiver.recv_from(&mut buffer) {
                    Ok((len, _)) => {
                        received.push((len, buffer[..len].iter().all(|&b| b == b'1')));
                    }
                    // Nothing for 20 ms after the sender returned: done.
                    Err(_) if finished.load(Ordering::SeqCst) => break,
                    Err(_) => {}
                }
            }
            received
        });
        let devices = udp::provision_v1(&options, Ipv4Addr::LOCALHOST, &stop, |event| {
            events.push(event);
        });
        finished.store(true, Ordering::SeqCst);
        (devices, receiving.join().unwrap())
    });
    assert!(devices.unwrap().is_empty());
    assert!(received.iter().all(|&(_, ones)| ones), "payload is all '1'");
    let lengths: Vec<u16> = received
        .iter()
        .map(|&(len, _)| u16::try_from(len).unwrap())
        .collect();

    // Split into guide quartets and triplets; triplets never start with 515 (their first
    // symbol is at most 0xff + 40).
    let mut at = 0;
    let mut position = 0;
    let mut phases = Vec::new();
    while at < lengths.len() {
        let rest = &lengths[at..];
        // A group cut short can only be the very last one (the run ended mid-burst).
        let guide = rest.first() == Some(&GUIDE[0]);
        if guide {
            assert_eq!(
                rest[..rest.len().min(4)],
                GUIDE[..rest.len().min(4)],
                "datagram {at}"
            );
        }
        if phases.last() != Some(&guide) {
            phases.push(guide);
        }
        if guide {
            at += 4;
        } else {
            let expected = encoder.triplet_at(position);
            assert_eq!(
                rest[..rest.len().min(3)],
                expected[..rest.len().min(3)],
                "datagram {at}: triplet at position {position}"
            );
            position += 1;
            at += 3;
        }
    }
    assert_eq!(at, lengths.len(), "the last burst is complete");
    assert_eq!(phases.first(), Some(&true), "starts with the guide code");
    assert!(phases.len() >= 3, "guide, data, guide at least: {phases:?}");
    assert!(position > 0);

    // Events: Started, phases matching what arrived, Done with the datagram count.
    assert!(matches!(events.first(), Some(SendEvent::Started { .. })));
    let phase_events: Vec<bool> = events
        .iter()
        .filter_map(|e| match e {
            SendEvent::Phase { guide } => Some(*guide),
            _ => None,
        })
        .collect();
    assert_eq!(phase_events, phases);
    assert!(events.contains(&SendEvent::Listening));
    assert_eq!(
        events.last(),
        Some(&SendEvent::Done {
            datagrams: lengths.len() as u64,
            devices: 0,
            finish: Finish::Timeout,
        })
    );
}

#[test]
fn provisions_a_device_over_loopback_and_stops_sending() {
    let encoder = encoder();
    let token = encoder.total_len();
    let receiver = sink();
    let ack_port = free_port();
    let options = V1SendOptions {
        timing: Timing {
            gap: Duration::from_millis(1),
            ..Timing::default()
        },
        ..loopback_options(&encoder, receiver.local_addr().unwrap().port(), ack_port)
    };
    let stop = AtomicBool::new(false);
    let mut events = Vec::new();
    let started = Instant::now();
    let devices = std::thread::scope(|scope| {
        scope.spawn(|| {
            // The device: once the phone sends (its listener is bound by then), acknowledge
            // 30 times.
            let mut buffer = [0u8; 2048];
            let deadline = Instant::now() + LIMIT;
            while receiver.recv_from(&mut buffer).is_err() {
                if Instant::now() > deadline {
                    return;
                }
            }
            udp::send_v1_ack(
                &ack(token, 3),
                Ipv4Addr::LOCALHOST,
                &quick_acks(ack_port, 30),
            )
            .unwrap();
        });
        udp::provision_v1(&options, Ipv4Addr::LOCALHOST, &stop, |event| {
            events.push(event);
        })
        .unwrap()
    });
    assert!(started.elapsed() < LIMIT, "returned on the first device");
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0].mac, ack(token, 3).mac);
    assert_eq!(devices[0].ip, Ipv4Addr::new(192, 168, 4, 3));
    let reported = events
        .iter()
        .filter(|e| matches!(e, SendEvent::Device(_)))
        .count();
    assert_eq!(reported, 1);
    assert!(matches!(
        events.last(),
        Some(SendEvent::Done {
            devices: 1,
            finish: Finish::Devices,
            ..
        })
    ));
}

#[test]
fn stop_flag_ends_sending_between_datagrams() {
    let encoder = encoder();
    let receiver = sink();
    let options = V1SendOptions {
        devices: 0,
        ..loopback_options(&encoder, receiver.local_addr().unwrap().port(), 0)
    };
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let mut events = Vec::new();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            // Stop after ten datagrams (or at the limit).
            let mut buffer = [0u8; 2048];
            let mut count = 0;
            let deadline = Instant::now() + LIMIT;
            while count < 10 && Instant::now() < deadline {
                if receiver.recv_from(&mut buffer).is_ok() {
                    count += 1;
                }
            }
            stop.store(true, Ordering::SeqCst);
        });
        let devices =
            udp::provision_v1(&options, Ipv4Addr::LOCALHOST, &stop, |e| events.push(e)).unwrap();
        assert!(devices.is_empty());
    });
    assert!(started.elapsed() < LIMIT);
    assert!(matches!(
        events.last(),
        Some(SendEvent::Done {
            finish: Finish::Stopped,
            ..
        })
    ));
}

/// The way `wifiprov esptouch send` calls the runtime: an `Arc` flag (as Ctrl-C sets it) and
/// the event fields it prints.
#[test]
fn cli_style_call_with_a_preset_arc_flag_returns_at_once() {
    let encoder = encoder();
    let stop = Arc::new(AtomicBool::new(true));
    let options = V1SendOptions {
        destination: Destination::Address(Ipv4Addr::LOCALHOST),
        timeout: LIMIT,
        devices: 1,
        ack_port: 0,
        listen_address: Ipv4Addr::LOCALHOST,
        ..V1SendOptions::for_encoder(&encoder)
    };
    let mut lines = Vec::new();
    let devices = udp::provision_v1(&options, Ipv4Addr::LOCALHOST, &stop, |event| match event {
        SendEvent::Started {
            phone_ip,
            destination,
        } => lines.push(format!("{phone_ip} → {destination}:{}", options.port)),
        SendEvent::Progress {
            datagrams,
            elapsed,
            guide,
        } => lines.push(format!("{datagrams} {elapsed:?} {guide}")),
        SendEvent::Listening => lines.push("listening".to_owned()),
        SendEvent::Device(d) => {
            lines.push(format!("{:?} {} {} {:?}", d.mac, d.ip, d.from, d.after))
        }
        _ => {}
    })
    .unwrap();
    assert!(devices.is_empty());
    assert_eq!(lines, ["127.0.0.1 → 127.0.0.1:7001"]);
}

#[test]
fn unknown_interface_is_reported_before_any_socket() {
    let options = V1SendOptions {
        iface: Some("nonexistent0".to_owned()),
        ..loopback_options(&encoder(), 9, 0)
    };
    let stop = AtomicBool::new(false);
    let result = udp::provision_v1(&options, Ipv4Addr::LOCALHOST, &stop, |_| {});
    assert!(matches!(result, Err(UdpError::NoSuchInterface(name)) if name == "nonexistent0"));
    let ack_options = AckOptions {
        iface: Some("nonexistent0".to_owned()),
        ..quick_acks(9, 1)
    };
    assert!(matches!(
        udp::send_v1_ack(&ack(23, 1), Ipv4Addr::LOCALHOST, &ack_options),
        Err(UdpError::NoSuchInterface(_))
    ));
    assert!(matches!(
        udp::interface_ipv4("nonexistent0"),
        Err(UdpError::NoSuchInterface(_))
    ));
}

#[test]
fn invalid_options_are_rejected() {
    let options = V1SendOptions::default();
    let stop = AtomicBool::new(false);
    assert!(matches!(
        udp::provision_v1(&options, Ipv4Addr::LOCALHOST, &stop, |_| {}),
        Err(UdpError::InvalidOptions(_))
    ));
}

/// `SO_BINDTODEVICE` needs `CAP_NET_RAW`: without it the test says so and passes.
#[test]
fn binds_to_loopback_by_name_in_both_modes() {
    let encoder = encoder();
    let receiver = sink();
    let port = receiver.local_addr().unwrap().port();
    for destination in [
        Destination::Address(Ipv4Addr::LOCALHOST),
        Destination::Multicast,
    ] {
        let options = V1SendOptions {
            iface: Some("lo".to_owned()),
            destination,
            timing: Timing {
                gap: Duration::from_millis(1),
                sending: Duration::from_millis(30),
                ..Timing::default()
            },
            timeout: Duration::from_millis(60),
            devices: 0,
            ..loopback_options(&encoder, port, 0)
        };
        let stop = AtomicBool::new(false);
        match udp::provision_v1(&options, Ipv4Addr::LOCALHOST, &stop, |_| {}) {
            Ok(devices) => assert!(devices.is_empty()),
            Err(UdpError::Socket { source, .. })
                if source.kind() == std::io::ErrorKind::PermissionDenied =>
            {
                eprintln!("skipped: binding to an interface needs CAP_NET_RAW");
                return;
            }
            Err(e) => panic!("{destination:?}: {e:?}"),
        }
    }
    // The unicast run reached the sink through `lo`.
    let mut buffer = [0u8; 2048];
    let (len, _) = receiver.recv_from(&mut buffer).unwrap();
    assert_eq!(len, 515);
    let ack_options = AckOptions {
        iface: Some("lo".to_owned()),
        broadcast: true,
        ..quick_acks(port, 1)
    };
    udp::send_v1_ack(&ack(23, 1), Ipv4Addr::LOCALHOST, &ack_options).unwrap();
}

/// AirKiss over loopback: the datagrams carry the cycle's values as payload lengths, in order,
/// and a device's 1-byte ack (first byte = the random byte) ends the run; a wrong random byte
/// and odd lengths are ignored.
#[test]
fn airkiss_sender_sends_the_cycle_and_stops_at_the_ack() {
    use wifiprov_airkiss::encoder::{Config as AkConfig, Encoder as AkEncoder, Layout};
    use wifiprov_transport::udp::{AirkissEvent, AirkissSendOptions};
    let e = AkEncoder::new(&AkConfig::new(b"TestAP", b"12345678", 0x55)).unwrap();
    let cycle: Vec<u16> = e.cycle(Layout::default()).collect();
    let device = sink();
    let ack_port = free_port();
    let mut options = AirkissSendOptions::new(cycle.clone(), 0x55);
    options.destination = Ipv4Addr::LOCALHOST;
    options.port = device.local_addr().unwrap().port();
    options.ack_port = ack_port;
    options.gap = Duration::from_micros(200);
    options.guide_gap = Duration::from_micros(200);
    options.timeout = LIMIT;
    let stop = AtomicBool::new(false);
    let heard = std::thread::scope(|scope| {
        let device_side = scope.spawn(|| {
            let mut lengths = Vec::new();
            let mut buffer = [0u8; 600];
            let started = Instant::now();
            while lengths.len() < 300 && started.elapsed() < LIMIT {
                if let Ok(n) = device.recv(&mut buffer) {
                    lengths.push(n as u16);
                }
            }
            let reply = UdpSocket::bind("127.0.0.1:0").unwrap();
            let to = SocketAddrV4::new(Ipv4Addr::LOCALHOST, ack_port);
            reply.send_to(&[0x54], to).unwrap(); // another provisioning's random byte
            reply.send_to(&[0x55, 1, 2], to).unwrap(); // neither 1 nor 7 bytes
            for _ in 0..20 {
                reply.send_to(&[0x55], to).unwrap();
            }
            lengths
        });
        let mut events = Vec::new();
        let devices = udp::provision_airkiss(&options, &stop, |e| events.push(e)).unwrap();
        assert_eq!(devices.len(), 1, "one device, once");
        assert_eq!(devices[0].mac, None);
        assert!(events.iter().any(|e| matches!(
            e,
            AirkissEvent::Done {
                finish: Finish::Devices,
                ..
            }
        )));
        device_side.join().unwrap()
    });
    assert_eq!(
        &heard[..],
        &cycle[..heard.len()],
        "payload lengths are the cycle, in order"
    );
}

/// The guide quartets that open each AirKiss cycle go out `guide_gap` apart (the official tool's
/// slower guide), the rest `gap` apart. Lower bounds only: a sleep never ends early.
#[test]
fn airkiss_guide_datagrams_are_spaced_by_the_guide_gap() {
    use wifiprov_airkiss::encoder::{Config as AkConfig, Encoder as AkEncoder, GUIDE, Layout};
    use wifiprov_transport::udp::AirkissSendOptions;
    let e = AkEncoder::new(&AkConfig::new(b"TestAP", b"12345678", 0x55)).unwrap();
    let layout = Layout {
        guide: 10,
        magic: 2,
        rounds: 1,
    };
    let cycle: Vec<u16> = e.cycle(layout).collect();
    assert!(cycle[..40].chunks(4).all(|q| q == GUIDE) && cycle[40..44] != GUIDE);
    let device = sink();
    let mut options = AirkissSendOptions::new(cycle.clone(), 0x55);
    options.destination = Ipv4Addr::LOCALHOST;
    options.port = device.local_addr().unwrap().port();
    options.ack_port = free_port();
    options.gap = Duration::from_millis(1);
    options.guide_gap = Duration::from_millis(20);
    options.timeout = Duration::from_secs(3);
    let stop = AtomicBool::new(false);
    let arrivals = std::thread::scope(|scope| {
        let device_side = scope.spawn(|| {
            let mut arrivals = Vec::new();
            let mut buffer = [0u8; 600];
            let started = Instant::now();
            while arrivals.len() < cycle.len() && started.elapsed() < LIMIT {
                if let Ok(n) = device.recv(&mut buffer) {
                    arrivals.push((n as u16, Instant::now()));
                }
            }
            stop.store(true, Ordering::SeqCst);
            arrivals
        });
        udp::provision_airkiss(&options, &stop, |_| {}).unwrap();
        device_side.join().unwrap()
    });
    let lengths: Vec<u16> = arrivals.iter().map(|&(n, _)| n).collect();
    assert_eq!(lengths, cycle, "one whole cycle, in order");
    // 40 guide datagrams: 39 guide gaps of 20 ms between the first and the last (a late first
    // arrival can shorten the span a little; 1-ms gaps would give about 40 ms).
    let guide_span = arrivals[39].1 - arrivals[0].1;
    assert!(
        guide_span >= Duration::from_millis(600),
        "40 guide datagrams within {guide_span:?}"
    );
}

/// ESP-IDF's AirKiss ack over loopback: the device learns the phone's address from the datagrams
/// it is still sending (to the send port), then sends the 7-byte ack (random byte + station MAC)
/// there; our provisioner reports the device with its MAC and stops sending.
#[test]
fn esp_idf_airkiss_ack_learns_the_phone_and_carries_the_mac() {
    use wifiprov_airkiss::ack::Ack as AkAck;
    use wifiprov_airkiss::encoder::{Config as AkConfig, Encoder as AkEncoder, Layout};
    use wifiprov_transport::udp::{AckOptions, AirkissSendOptions};
    let e = AkEncoder::new(&AkConfig::new(b"TestAP", b"12345678", 0x33)).unwrap();
    let cycle: Vec<u16> = e.cycle(Layout::default()).collect();
    let (send_port, ack_port) = (free_port(), free_port());
    let mut options = AirkissSendOptions::new(cycle, 0x33);
    options.destination = Ipv4Addr::LOCALHOST;
    options.port = send_port;
    options.ack_port = ack_port;
    options.gap = Duration::from_micros(500);
    options.guide_gap = Duration::from_micros(500);
    options.timeout = LIMIT;
    let mac = [0x02, 0x1a, 0xb0, 0x00, 0x00, 0x02];
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let device = scope.spawn(|| {
            let ack_options = AckOptions {
                first_delay: Duration::ZERO,
                rounds: 30,
                interval: Duration::from_millis(5),
                port: ack_port,
                ..AckOptions::default()
            };
            udp::send_airkiss_ack_esp_idf(
                &AkAck {
                    random: 0x33,
                    mac: Some(mac),
                },
                send_port,
                Duration::from_millis(1500),
                &ack_options,
            )
        });
        let devices = udp::provision_airkiss(&options, &stop, |_| {}).unwrap();
        assert_eq!(devices.len(), 1, "one device, once");
        assert_eq!(devices[0].mac, Some(mac));
        assert_eq!(devices[0].from.ip().to_string(), "127.0.0.1");
        let learnt = device.join().unwrap().unwrap();
        assert_eq!(
            learnt,
            Some(Ipv4Addr::LOCALHOST),
            "the phone's address was learnt"
        );
    });
}

/// Without any datagram from the phone the ESP-IDF form waits its 1.5 s (here 50 ms), learns
/// nothing and still acknowledges by broadcast (an error on `lo`, which cannot broadcast, is
/// reported as a send error, not a hang).
#[test]
fn esp_idf_airkiss_ack_without_a_phone_does_not_hang() {
    use wifiprov_airkiss::ack::Ack as AkAck;
    use wifiprov_transport::udp::AckOptions;
    let started = Instant::now();
    let result = udp::send_airkiss_ack_esp_idf(
        &AkAck {
            random: 1,
            mac: Some([2, 0, 0, 0, 0, 1]),
        },
        free_port(),
        Duration::from_millis(50),
        &AckOptions {
            first_delay: Duration::ZERO,
            rounds: 2,
            interval: Duration::from_millis(1),
            port: free_port(),
            ..AckOptions::default()
        },
    );
    assert!(started.elapsed() < LIMIT);
    // Broadcasting may or may not be allowed here; either way no address was learnt.
    if let Ok(learnt) = result {
        assert_eq!(learnt, None);
    }
}
