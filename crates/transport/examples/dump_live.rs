//! Run with: cargo run -p wifiprov-transport --example dump_live -- IFACE
fn main() {
    let iface = std::env::args().nth(1).unwrap_or_else(|| "lo".into());
    let mut c = wifiprov_transport::capture::LiveCapture::open(
        &iface,
        std::time::Duration::from_millis(200),
    )
    .expect("open");
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    for len in [10usize, 11, 12] {
        sock.send_to(&vec![0u8; len], "127.0.0.1:7001")
            .expect("send");
    }
    for _ in 0..20 {
        match c.next_record() {
            Ok(Some(r)) => println!("{r:?}"),
            Ok(None) => break,
            Err(e) => {
                println!("{e}");
                break;
            }
        }
    }
}
