//! Live `AF_PACKET` capture on the loopback interface. Needs root or `CAP_NET_RAW`; without
//! them the test prints why and passes.

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use wifiprov_sniff::Direction;
use wifiprov_transport::capture::{CaptureError, LinkType, LiveCapture, Record};

/// Ethernet (14) + IPv4 (20) + UDP (8) header bytes in front of each payload on `lo`.
const OVERHEAD: usize = 42;

/// A capture on `lo`, or `None` (with the reason printed) without root or `CAP_NET_RAW`.
fn open_loopback() -> Option<LiveCapture> {
    match LiveCapture::open("lo", Duration::from_millis(50)) {
        Ok(capture) => Some(capture),
        Err(CaptureError::Socket {
            source: Errno::EPERM | Errno::EACCES,
            ..
        }) => {
            println!("skipped: opening an AF_PACKET socket needs root or CAP_NET_RAW");
            None
        }
        Err(e) => panic!("cannot capture on lo: {e}"),
    }
}

#[test]
fn loopback_capture_sees_each_datagram_outgoing_and_incoming() {
    let Some(mut capture) = open_loopback() else {
        return;
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

/// Records carry the kernel's receive time: two datagrams sent 300 ms apart and read together
/// (both queued) are still 300 ms apart, and the second is dated before the read.
#[test]
fn queued_packets_keep_their_receive_times() {
    let Some(mut capture) = open_loopback() else {
        return;
    };
    let receiver = UdpSocket::bind("127.0.0.1:0").expect("bind receiver");
    let sender = UdpSocket::bind("127.0.0.1:0").expect("bind sender");
    let target = receiver.local_addr().expect("receiver address");
    let payloads = [1171usize, 1283];
    sender
        .send_to(&vec![0x32; payloads[0]], target)
        .expect("send");
    std::thread::sleep(Duration::from_millis(300));
    sender
        .send_to(&vec![0x32; payloads[1]], target)
        .expect("send");
    std::thread::sleep(Duration::from_millis(300));
    let read_from = capture.now();

    let mut times = [None, None];
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline && times.iter().any(Option::is_none) {
        let Some(Record::Data(observation)) = capture.next_record().expect("receive") else {
            continue;
        };
        let payload = usize::from(observation.len).wrapping_sub(OVERHEAD);
        if let Some(i) = payloads.iter().position(|&p| p == payload)
            && observation.direction == Direction::ToAp
        {
            times[i] = Some(observation.at);
        }
    }
    let [Some(first), Some(second)] = times else {
        panic!("datagrams not captured: {times:?}");
    };
    // 1 ms of rounding either way.
    assert!(
        second.millis_since(first) >= 298,
        "sent 300 ms apart, dated {first:?} and {second:?}"
    );
    assert!(
        read_from.millis_since(second) >= 298,
        "queued 300 ms before the read at {read_from:?}, dated {second:?}"
    );
}

/// The socket queue holds a burst that arrives while nobody reads (a starved reader): 1000
/// datagrams, each captured twice, would overflow the kernel's default queue many times over.
#[test]
fn a_burst_waits_in_the_queue_while_the_reader_is_busy() {
    let Some(mut capture) = open_loopback() else {
        return;
    };
    let receiver = UdpSocket::bind("127.0.0.1:0").expect("bind receiver");
    let sender = UdpSocket::bind("127.0.0.1:0").expect("bind sender");
    let target = receiver.local_addr().expect("receiver address");
    const COUNT: usize = 1000;
    const PAYLOAD: usize = 1097;
    for _ in 0..COUNT {
        sender.send_to(&[0x33; PAYLOAD], target).expect("send");
    }
    let mut seen = 0;
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && seen < COUNT {
        match capture.next_record().expect("receive") {
            Some(Record::Data(o))
                if usize::from(o.len) == OVERHEAD + PAYLOAD && o.direction == Direction::ToAp =>
            {
                seen += 1;
            }
            Some(_) => {}
            None => break,
        }
    }
    assert_eq!(seen, COUNT, "datagrams captured of those queued");
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
