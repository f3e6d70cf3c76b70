//! Live `AF_PACKET` capture on the loopback interface. Needs root or `CAP_NET_RAW`; without
//! them the test prints why and passes.

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use wifiprov_sniff::Direction;
use wifiprov_transport::capture::{CaptureError, LinkType, LiveCapture, Record};

/// Ethernet (14) + IPv4 (20) + UDP (8) header bytes in front of each payload on `lo`.
const OVERHEAD: usize = 42;

#[test]
fn loopback_capture_sees_each_datagram_outgoing_and_incoming() {
    let mut capture = match LiveCapture::open("lo", Duration::from_millis(50)) {
        Ok(capture) => capture,
        Err(CaptureError::Socket {
            source: Errno::EPERM | Errno::EACCES,
            ..
        }) => {
            println!("skipped: opening an AF_PACKET socket needs root or CAP_NET_RAW");
            return;
        }
        Err(e) => panic!("cannot capture on lo: {e}"),
    };
    assert_eq!(capture.link_type(), LinkType::Ethernet);

    let receiver = UdpSocket::bind("127.0.0.1:0").expect("bind receiver");
    let sender = UdpSocket::bind("127.0.0.1:0").expect("bind sender");
    let target = receiver.local_addr().expect("receiver address");
    // Unusual sizes, so that other loopback traffic is not mistaken for ours.
    let payloads = [1237usize, 1301, 1409, 1523];
    for &len in &payloads {
        sender.send_to(&vec![0x31; len], target).expect("send");
    }

    let mut outgoing = Vec::new();
    let mut incoming = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline
        && (outgoing.len() < payloads.len() || incoming.len() < payloads.len())
    {
        let Some(Record::Data(observation)) = capture.next_record().expect("receive") else {
            continue;
        };
        let payload = usize::from(observation.len).wrapping_sub(OVERHEAD);
        if !payloads.contains(&payload) {
            continue;
        }
        assert_eq!(observation.bssid, [0; 6]);
        assert_eq!(observation.sequence, None);
        assert!(observation.at <= capture.now());
        match observation.direction {
            Direction::ToAp => outgoing.push(payload),
            Direction::FromAp => incoming.push(payload),
        }
    }
    assert_eq!(outgoing, payloads, "outgoing copies (ToAp), in order");
    assert_eq!(incoming, payloads, "incoming copies (FromAp), in order");
    assert!(capture.stats().data >= 2 * payloads.len() as u64);
}

#[test]
fn unknown_interfaces_are_named_in_the_error() {
    for name in ["wifiprov-none0", "", "../lo", "a/b"] {
        match LiveCapture::open(name, Duration::from_millis(10)) {
            Err(CaptureError::NoSuchInterface(n)) => assert_eq!(n, name),
            other => panic!("{name:?}: {other:?}"),
        }
    }
}
