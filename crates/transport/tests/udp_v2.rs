//! Real UDP on loopback for ESP-TOUCH v2: the phone's app port, sync then the pass in order, a
//! device response ending the run with the phone's `0x01` acks back, malformed responses
//! ignored. Every wait is bounded.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use wifiprov_esptouch::v2::{APP_PORTS, Ack, Config, DEVICE_ACK_PORT, Encoder, SYNC, ack_port};
use wifiprov_transport::udp::v2::{self, Event, SendOptions};
use wifiprov_transport::udp::{Finish, UdpError};

const LIMIT: Duration = Duration::from_secs(5);
/// The four app ports are shared by the tests here: one test at a time holds them.
static APP_PORTS_HELD: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn hold_ports() -> std::sync::MutexGuard<'static, ()> {
    APP_PORTS_HELD
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
const BSSID: [u8; 6] = [0x24, 0x0a, 0xc4, 0x77, 0x00, 0x01];

#[test]
fn app_port_is_one_of_the_four_and_its_mark_is_its_index() {
    let _held = hold_ports();
    let (first, mark) = v2::bind_app_port(None, None).unwrap();
    let port = first.local_addr().unwrap().port();
    assert_eq!(APP_PORTS[usize::from(mark)], port);
    // While it is taken, the next free one is used.
    let (second, next) = v2::bind_app_port(None, None).unwrap();
    assert_ne!(next, mark);
    assert_eq!(
        APP_PORTS[usize::from(next)],
        second.local_addr().unwrap().port()
    );
    // A requested mark that is taken is an error, not another port.
    assert!(matches!(
        v2::bind_app_port(None, Some(mark)),
        Err(UdpError::Socket { .. })
    ));
    assert!(matches!(
        v2::bind_app_port(None, Some(4)),
        Err(UdpError::InvalidOptions(_))
    ));
    assert_eq!(ack_port(mark), port, "the device answers on the app port");
}

#[test]
fn sends_sync_then_the_pass_in_order_and_stops_at_a_response() {
    let _held = hold_ports();
    let (socket, mark) = v2::bind_app_port(None, None).unwrap();
    let app_port = socket.local_addr().unwrap().port();
    let config = Config::new(b"HomeNet", b"correct horse battery", BSSID)
        .with_reserved(b"device-42")
        .with_port_mark(mark);
    let mut random = || 7u8;
    let encoder = Encoder::new(&config, &mut random).unwrap();
    let pass = encoder.lengths().to_vec();
    let device = UdpSocket::bind("127.0.0.1:0").unwrap();
    device
        .set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    // The device answers from 127.0.0.2, where it also hears the phone's acks on UDP 7002.
    let phone_acks = UdpSocket::bind(SocketAddrV4::new(
        Ipv4Addr::new(127, 0, 0, 2),
        DEVICE_ACK_PORT,
    ));
    let mut options = SendOptions::new(pass.clone());
    options.destination = Ipv4Addr::LOCALHOST;
    options.port = device.local_addr().unwrap().port();
    options.sync_time = Duration::from_millis(30);
    options.sync_gap = Duration::from_millis(10);
    options.pause = Duration::from_millis(5);
    options.gap = Duration::from_micros(300);
    options.timeout = LIMIT;
    let mac = [0x02, 0x1a, 0xb0, 0, 0, 9];
    let stop = AtomicBool::new(false);
    let (heard, acks) = std::thread::scope(|scope| {
        let device_side = scope.spawn(|| {
            let mut lengths = Vec::new();
            let mut buffer = [0u8; 1600];
            let started = Instant::now();
            while lengths.len() < 3 * pass.len() && started.elapsed() < LIMIT {
                if let Ok(n) = device.recv(&mut buffer) {
                    lengths.push(n as u16);
                }
            }
            let reply = UdpSocket::bind("127.0.0.2:0").unwrap();
            let to = SocketAddr::from((Ipv4Addr::LOCALHOST, app_port));
            reply.send_to(&[mark, 1, 2, 3], to).unwrap(); // too short: ignored
            for _ in 0..10 {
                reply.send_to(&Ack::new(mark, mac).emit(), to).unwrap();
            }
            let mut acks = Vec::new();
            if let Ok(socket) = &phone_acks {
                socket
                    .set_read_timeout(Some(Duration::from_millis(500)))
                    .unwrap();
                while let Ok(n) = socket.recv(&mut buffer) {
                    acks.push(buffer[..n].to_vec());
                    if acks.len() == 2 {
                        break;
                    }
                }
            }
            (lengths, acks)
        });
        let mut events = Vec::new();
        let devices = v2::provision(&socket, &options, &stop, |e| events.push(e)).unwrap();
        assert_eq!(devices.len(), 1, "one device, once");
        assert_eq!(devices[0].mac, mac);
        assert_eq!(devices[0].port_mark, mark);
        assert_eq!(devices[0].from.ip().to_string(), "127.0.0.2");
        assert!(matches!(events.first(), Some(Event::Sync)));
        assert!(events.iter().any(|e| matches!(e, Event::Data)));
        assert!(events.iter().any(|e| matches!(
            e,
            Event::Done {
                finish: Finish::Devices,
                devices: 1,
                ..
            }
        )));
        device_side.join().unwrap()
    });
    let syncs = heard.iter().take_while(|&&l| l == SYNC).count();
    assert!(syncs >= 2, "sync datagrams first ({syncs})");
    // The pass starts with a sync of its own, then the count.
    let data = &heard[syncs - 1..];
    for (i, chunk) in data.chunks(pass.len()).enumerate() {
        assert_eq!(chunk, &pass[..chunk.len()], "pass {i} in order");
    }
    if phone_acks.is_ok() {
        assert_eq!(acks, vec![vec![0x01], vec![0x01]], "the phone's acks");
    }
}

#[test]
fn an_empty_pass_and_port_zero_are_rejected() {
    let _held = hold_ports();
    let (socket, _) = v2::bind_app_port(None, None).unwrap();
    let stop = AtomicBool::new(false);
    let empty = SendOptions::new(Vec::new());
    assert!(matches!(
        v2::provision(&socket, &empty, &stop, |_| {}),
        Err(UdpError::InvalidOptions(_))
    ));
    let mut zero = SendOptions::new(vec![SYNC]);
    zero.port = 0;
    assert!(matches!(
        v2::provision(&socket, &zero, &stop, |_| {}),
        Err(UdpError::InvalidOptions(_))
    ));
}

#[test]
fn the_device_response_goes_to_the_marks_port_by_broadcast() {
    for mark in 0..4u8 {
        let ack = Ack::new(mark, [2, 0, 0, 0, 0, mark]);
        let to = v2::ack_destination(&ack);
        assert_eq!(to.ip(), Ipv4Addr::BROADCAST);
        assert_eq!(to.port(), APP_PORTS[usize::from(mark)]);
    }
}
