//! The acknowledgement each method's phone waits for, built by the core's ack types (the ones the
//! Linux daemon sends and the host tests parse) and sent the way ESP-IDF's `smartconfig_ack.c`
//! and the daemon send them:
//!
//! | method | payload | to | schedule |
//! |---|---|---|---|
//! | ESP-TOUCH v1 | `v1::Ack`: token, station MAC, IP (11 bytes) | the phone's IP and 255.255.255.255, UDP 18266 | 200 ms, then 30 rounds every 100 ms |
//! | ESP-TOUCH v2 | `v2::Ack`: port mark, station MAC (7 bytes) | 255.255.255.255, UDP 18266 + 10000·mark | the same |
//! | AirKiss | `ack::Ack`: the random byte | 255.255.255.255, UDP 10000 | 200 ms, then 30 rounds every 50 ms |

use core::net::Ipv4Addr;

use embassy_net::Stack;
use embassy_net::udp::{PacketMetadata, UdpSocket};
use embassy_time::{Duration, Timer};
use wifiprov_airkiss::ack as airkiss;
use wifiprov_esptouch::{v1, v2};
use wifiprov_front::Decoded;
use wifiprov_sniff::Mac;

/// Delay before the first round.
const FIRST_DELAY: Duration = Duration::from_millis(200);

/// Rounds of ESP-TOUCH acks.
const ESPTOUCH_ROUNDS: u32 = 30;

/// Interval between ESP-TOUCH rounds.
const ESPTOUCH_INTERVAL: Duration = Duration::from_millis(100);

/// Interval between AirKiss rounds.
const AIRKISS_INTERVAL: Duration = Duration::from_millis(50);

/// One method's ack: payload, destinations, schedule.
struct Plan {
    payload: [u8; v1::ACK_LEN],
    len: usize,
    unicast: Option<Ipv4Addr>,
    port: u16,
    rounds: u32,
    interval: Duration,
}

impl Plan {
    fn of(decoded: &Decoded, mac: Mac, ip: [u8; 4]) -> Self {
        let mut payload = [0u8; v1::ACK_LEN];
        match decoded {
            Decoded::EsptouchV1(credentials) => {
                let ack = v1::Ack {
                    token: credentials.total_len(),
                    mac,
                    ip,
                };
                payload = ack.emit();
                Self {
                    payload,
                    len: v1::ACK_LEN,
                    unicast: Some(Ipv4Addr::from(credentials.phone_ip())),
                    port: v1::ACK_PORT,
                    rounds: ESPTOUCH_ROUNDS,
                    interval: ESPTOUCH_INTERVAL,
                }
            }
            Decoded::EsptouchV2(decoded) => {
                let ack = v2::Ack::new(decoded.credentials.port_mark(), mac);
                let bytes = ack.emit();
                payload[..bytes.len()].copy_from_slice(&bytes);
                Self {
                    payload,
                    len: bytes.len(),
                    unicast: None,
                    port: ack.port(),
                    rounds: ESPTOUCH_ROUNDS,
                    interval: ESPTOUCH_INTERVAL,
                }
            }
            Decoded::Airkiss(credentials) => {
                let ack = airkiss::Ack {
                    random: credentials.random(),
                    mac: None,
                };
                let (bytes, len) = ack.emit();
                let len = len.min(bytes.len());
                payload[..len].copy_from_slice(&bytes[..len]);
                Self {
                    payload,
                    len,
                    unicast: None,
                    port: airkiss::ACK_PORT,
                    rounds: airkiss::ACK_ROUNDS,
                    interval: AIRKISS_INTERVAL,
                }
            }
        }
    }
}

/// Sends the ack for `decoded` from the station (`mac`, `ip`); returns the rounds sent.
pub(crate) async fn send(
    stack: Stack<'static>,
    decoded: &Decoded,
    mac: Mac,
    ip: [u8; 4],
) -> Result<u32, &'static str> {
    let plan = Plan::of(decoded, mac, ip);
    let mut rx_meta = [PacketMetadata::EMPTY; 2];
    let mut rx_buffer = [0u8; 64];
    let mut tx_meta = [PacketMetadata::EMPTY; 4];
    let mut tx_buffer = [0u8; 256];
    let mut socket = UdpSocket::new(
        stack,
        &mut rx_meta,
        &mut rx_buffer,
        &mut tx_meta,
        &mut tx_buffer,
    );
    socket.bind(0).map_err(|_| "cannot bind a UDP socket")?;
    let payload = plan.payload.get(..plan.len).unwrap_or_default();
    Timer::after(FIRST_DELAY).await;
    for _ in 0..plan.rounds {
        if let Some(phone) = plan.unicast {
            socket
                .send_to(payload, (phone, plan.port))
                .await
                .map_err(|_| "sending to the phone failed")?;
        }
        socket
            .send_to(payload, (Ipv4Addr::BROADCAST, plan.port))
            .await
            .map_err(|_| "broadcasting failed")?;
        Timer::after(plan.interval).await;
    }
    Ok(plan.rounds)
}
