//! UDP for ESP-TOUCH v1: the phone-side sender with the reference schedule, the ack listener,
//! and the device-side ack sender.
//!
//! The schedule is a pure state machine ([`Schedule`]) so its timing is tested without sockets;
//! [`provision_v1`] drives it with a monotonic clock, a socket and a listener thread.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};
use wifiprov_esptouch::v1::{ACK_LEN, ACK_PORT, Ack, SEND_PORT};
use wifiprov_sniff::Mac;

/// Why a UDP operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UdpError {
    /// A socket could not be created, configured or bound.
    #[error("{action} ({address}{}): {source}", iface.as_ref().map(|i| format!(" on {i}")).unwrap_or_default())]
    Socket {
        /// What was being done.
        action: &'static str,
        /// The address involved.
        address: SocketAddr,
        /// The interface, if one was chosen.
        iface: Option<String>,
        /// The OS error.
        source: std::io::Error,
    },
    /// Sending failed.
    #[error("sending to {address}: {source}")]
    Send {
        /// Destination.
        address: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The interface does not exist.
    #[error("no network interface named {0:?}")]
    NoSuchInterface(String),
    /// The interface has no IPv4 address.
    #[error("interface {0:?} has no IPv4 address")]
    NoIpv4(String),
    /// No interface with an IPv4 address is up (besides loopback).
    #[error("no network interface with an IPv4 address is up; choose one with --iface")]
    NoDefaultInterface,
    /// Listing interfaces failed.
    #[error("listing network interfaces: {0}")]
    Interfaces(nix::Error),
}

/// The IPv4 address of interface `name`.
///
/// # Errors
/// [`UdpError::NoSuchInterface`], [`UdpError::NoIpv4`] or [`UdpError::Interfaces`].
pub fn interface_ipv4(name: &str) -> Result<Ipv4Addr, UdpError> {
    let mut exists = false;
    for ifaddr in nix::ifaddrs::getifaddrs().map_err(UdpError::Interfaces)? {
        if ifaddr.interface_name != name {
            continue;
        }
        exists = true;
        if let Some(addr) = ifaddr.address.as_ref().and_then(|a| a.as_sockaddr_in()) {
            return Ok(addr.ip());
        }
    }
    if exists || nix::net::if_::if_nametoindex(name).is_ok() {
        Err(UdpError::NoIpv4(name.to_owned()))
    } else {
        Err(UdpError::NoSuchInterface(name.to_owned()))
    }
}

/// The first interface that is up, not loopback, and has an IPv4 address.
///
/// # Errors
/// [`UdpError::NoDefaultInterface`] or [`UdpError::Interfaces`].
pub fn default_ipv4() -> Result<(String, Ipv4Addr), UdpError> {
    use nix::net::if_::InterfaceFlags;
    for ifaddr in nix::ifaddrs::getifaddrs().map_err(UdpError::Interfaces)? {
        let usable = ifaddr.flags.contains(InterfaceFlags::IFF_UP)
            && !ifaddr.flags.contains(InterfaceFlags::IFF_LOOPBACK);
        if let (true, Some(addr)) = (
            usable,
            ifaddr.address.as_ref().and_then(|a| a.as_sockaddr_in()),
        ) {
            return Ok((ifaddr.interface_name, addr.ip()));
        }
    }
    Err(UdpError::NoDefaultInterface)
}

/// Where the phone sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// One address (255.255.255.255 as Android does, a subnet broadcast as iOS does, or any
    /// address for tests and the loopback demo).
    Address(Ipv4Addr),
    /// Multicast groups 234.n.n.n, n = 1..=100, one group per guide quartet or data triplet.
    Multicast,
}

impl Destination {
    /// The address of the `group`-th burst.
    #[must_use]
    pub fn address(self, group: u64) -> Ipv4Addr {
        match self {
            Self::Address(a) => a,
            Self::Multicast => {
                let n = (group % 100) as u8 + 1;
                Ipv4Addr::new(234, n, n, n)
            }
        }
    }
}

/// Timing of the ESP-TOUCH v1 sender (defaults: the reference app's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Pause after every datagram (8 ms).
    pub gap: Duration,
    /// Guide phase (2 s).
    pub guide: Duration,
    /// Guide plus data phase (6 s).
    pub cycle: Duration,
    /// Total sending time (45 s); listening continues until the timeout.
    pub sending: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            gap: Duration::from_millis(8),
            guide: Duration::from_millis(2000),
            cycle: Duration::from_millis(6000),
            sending: Duration::from_millis(45_000),
        }
    }
}

/// One send call of the reference app: a guide quartet or a data triplet, to one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Burst {
    /// Payload lengths, in order.
    pub lengths: Vec<u16>,
    /// Destination of every datagram of the burst.
    pub address: Ipv4Addr,
    /// True for the guide code.
    pub guide: bool,
}

/// The reference sending schedule as a pure state machine: ask for the next burst with the time
/// elapsed since sending started.
#[derive(Debug, Clone)]
pub struct Schedule {
    guide: Vec<u16>,
    triplets: Vec<[u16; 3]>,
    destination: Destination,
    timing: Timing,
    cycle_start: Option<Duration>,
    position: usize,
    bursts: u64,
}

impl Schedule {
    /// A schedule for `guide` and the data `triplets` (in sending order).
    #[must_use]
    pub fn new(
        guide: &[u16],
        triplets: Vec<[u16; 3]>,
        destination: Destination,
        timing: Timing,
    ) -> Self {
        Self {
            guide: guide.to_vec(),
            triplets,
            destination,
            timing,
            cycle_start: None,
            position: 0,
            bursts: 0,
        }
    }

    /// The next burst at `elapsed`, or `None` once the sending time is over.
    pub fn next_burst(&mut self, elapsed: Duration) -> Option<Burst> {
        if elapsed >= self.timing.sending {
            return None;
        }
        let start = match self.cycle_start {
            Some(s) if elapsed.saturating_sub(s) < self.timing.cycle => s,
            _ => {
                self.cycle_start = Some(elapsed);
                elapsed
            }
        };
        let guide = elapsed.saturating_sub(start) < self.timing.guide || self.triplets.is_empty();
        let lengths = if guide {
            self.guide.clone()
        } else {
            let triplet = self
                .triplets
                .get(self.position % self.triplets.len())
                .copied()?;
            self.position = (self.position + 1) % self.triplets.len();
            triplet.to_vec()
        };
        let address = self.destination.address(self.bursts);
        self.bursts += 1;
        Some(Burst {
            lengths,
            address,
            guide,
        })
    }

    /// Data position (DataCode index in sending order) of the next data burst.
    #[must_use]
    pub const fn position(&self) -> usize {
        self.position
    }
}

/// A device that acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Device {
    /// Its station MAC (from the ack).
    pub mac: Mac,
    /// Its IPv4 address (from the ack).
    pub ip: Ipv4Addr,
    /// Where the ack came from.
    pub from: SocketAddr,
    /// When it arrived, since sending started.
    pub after: Duration,
}

/// What [`provision_v1`] reports while it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendEvent {
    /// Sending started (phone IP, destination).
    Started {
        /// The phone IP announced in the data.
        phone_ip: Ipv4Addr,
        /// First destination address.
        destination: Ipv4Addr,
    },
    /// Periodic progress (about 4 per second).
    Progress {
        /// Datagrams sent so far.
        datagrams: u64,
        /// Time since the start.
        elapsed: Duration,
        /// Currently sending the guide code.
        guide: bool,
    },
    /// Sending time is over; only listening now.
    Listening,
    /// A new device acknowledged.
    Device(Device),
}

/// Options of [`provision_v1`].
#[derive(Debug, Clone)]
pub struct V1SendOptions {
    /// Guide code lengths.
    pub guide: Vec<u16>,
    /// Data triplets in sending order.
    pub triplets: Vec<[u16; 3]>,
    /// Expected ack token (T).
    pub token: u8,
    /// Destination addressing.
    pub destination: Destination,
    /// Destination port (7001).
    pub port: u16,
    /// Interface to bind to.
    pub iface: Option<String>,
    /// Timing.
    pub timing: Timing,
    /// Overall time limit including listening (60 s).
    pub timeout: Duration,
    /// Stop after this many distinct devices (0 = run until the timeout).
    pub devices: usize,
    /// Port to listen on for acks (18266).
    pub ack_port: u16,
    /// Payload fill byte (Android: b'1').
    pub fill: u8,
}

impl V1SendOptions {
    /// Options that send `encoder`'s guide and data cycle, expecting its ack token; other fields
    /// at their defaults.
    #[must_use]
    pub fn for_encoder(encoder: &wifiprov_esptouch::v1::Encoder) -> Self {
        Self {
            guide: encoder.guide().to_vec(),
            triplets: (0..encoder.datum_count())
                .map(|p| encoder.triplet_at(p))
                .collect(),
            token: encoder.total_len(),
            ..Self::default()
        }
    }
}

impl Default for V1SendOptions {
    fn default() -> Self {
        Self {
            guide: Vec::new(),
            triplets: Vec::new(),
            token: 0,
            destination: Destination::Address(Ipv4Addr::BROADCAST),
            port: SEND_PORT,
            iface: None,
            timing: Timing::default(),
            timeout: Duration::from_secs(60),
            devices: 1,
            ack_port: ACK_PORT,
            fill: b'1',
        }
    }
}

fn socket_error(
    action: &'static str,
    address: SocketAddr,
    iface: Option<&str>,
) -> impl FnOnce(std::io::Error) -> UdpError {
    let iface = iface.map(str::to_owned);
    move |source| UdpError::Socket {
        action,
        address,
        iface,
        source,
    }
}

fn udp_socket(bind: SocketAddrV4, iface: Option<&str>, reuse: bool) -> Result<UdpSocket, UdpError> {
    let address = SocketAddr::V4(bind);
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))
        .map_err(socket_error("creating a UDP socket", address, iface))?;
    if reuse {
        socket.set_reuse_address(true).map_err(socket_error(
            "setting SO_REUSEADDR",
            address,
            iface,
        ))?;
    }
    socket
        .set_broadcast(true)
        .map_err(socket_error("enabling broadcast", address, iface))?;
    if let Some(name) = iface {
        socket
            .bind_device(Some(name.as_bytes()))
            .map_err(socket_error(
                "binding to the interface (needs root)",
                address,
                iface,
            ))?;
    }
    socket
        .bind(&address.into())
        .map_err(socket_error("binding", address, iface))?;
    Ok(socket.into())
}

/// Sends ESP-TOUCH v1 and collects acks until enough devices answered, the timeout passed or
/// `stop` was set. Returns the devices in the order they answered.
///
/// # Errors
/// A [`UdpError`] if a socket cannot be set up or sending fails.
pub fn provision_v1(
    options: &V1SendOptions,
    phone_ip: Ipv4Addr,
    stop: &AtomicBool,
    mut events: impl FnMut(SendEvent),
) -> Result<Vec<Device>, UdpError> {
    let iface = options.iface.as_deref();
    let listener = udp_socket(
        SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, options.ack_port),
        iface,
        true,
    )?;
    let sender = udp_socket(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0), iface, false)?;
    if options.destination == Destination::Multicast {
        let _ = socket2::SockRef::from(&sender).set_multicast_ttl_v4(1);
        if let Some(name) = iface {
            if let Ok(ip) = interface_ipv4(name) {
                let _ = socket2::SockRef::from(&sender).set_multicast_if_v4(&ip);
            }
        }
    }
    let started = Instant::now();
    let (found_tx, found_rx) = mpsc::channel();
    let done = AtomicBool::new(false);
    let token = options.token;
    let devices = std::thread::scope(|scope| -> Result<Vec<Device>, UdpError> {
        let listen =
            scope.spawn(|| listen_for_acks(&listener, token, started, &done, stop, &found_tx));
        let result = send_loop(
            options,
            phone_ip,
            &sender,
            started,
            stop,
            &found_rx,
            &mut events,
        );
        done.store(true, Ordering::SeqCst);
        let _ = listen.join();
        result
    })?;
    Ok(devices)
}

fn send_loop(
    options: &V1SendOptions,
    phone_ip: Ipv4Addr,
    sender: &UdpSocket,
    started: Instant,
    stop: &AtomicBool,
    found: &mpsc::Receiver<Device>,
    events: &mut impl FnMut(SendEvent),
) -> Result<Vec<Device>, UdpError> {
    let mut schedule = Schedule::new(
        &options.guide,
        options.triplets.clone(),
        options.destination,
        options.timing,
    );
    let payload = vec![options.fill; 1500];
    let mut devices: Vec<Device> = Vec::new();
    let mut datagrams = 0u64;
    let mut last_progress = started;
    let mut sending = true;
    events(SendEvent::Started {
        phone_ip,
        destination: options.destination.address(0),
    });
    let enough = |devices: &Vec<Device>| options.devices > 0 && devices.len() >= options.devices;
    loop {
        while let Ok(device) = found.try_recv() {
            if !devices.iter().any(|d| d.mac == device.mac) {
                devices.push(device);
                events(SendEvent::Device(device));
            }
        }
        let elapsed = started.elapsed();
        if stop.load(Ordering::SeqCst) || enough(&devices) || elapsed >= options.timeout {
            return Ok(devices);
        }
        let burst = if sending {
            schedule.next_burst(elapsed)
        } else {
            None
        };
        let Some(burst) = burst else {
            if sending {
                sending = false;
                events(SendEvent::Listening);
            }
            std::thread::sleep(Duration::from_millis(20));
            continue;
        };
        for &len in &burst.lengths {
            let address = SocketAddr::V4(SocketAddrV4::new(burst.address, options.port));
            let body = payload.get(..usize::from(len)).unwrap_or(&payload);
            sender
                .send_to(body, address)
                .map_err(|source| UdpError::Send { address, source })?;
            datagrams += 1;
            std::thread::sleep(options.timing.gap);
        }
        if last_progress.elapsed() >= Duration::from_millis(250) {
            last_progress = Instant::now();
            events(SendEvent::Progress {
                datagrams,
                elapsed: started.elapsed(),
                guide: burst.guide,
            });
        }
    }
}

fn listen_for_acks(
    socket: &UdpSocket,
    token: u8,
    started: Instant,
    done: &AtomicBool,
    stop: &AtomicBool,
    found: &mpsc::Sender<Device>,
) {
    let _ = socket.set_read_timeout(Some(Duration::from_millis(100)));
    let mut buffer = [0u8; 64];
    let mut seen: Vec<Mac> = Vec::new();
    while !done.load(Ordering::SeqCst) && !stop.load(Ordering::SeqCst) {
        let Ok((len, from)) = socket.recv_from(&mut buffer) else {
            continue;
        };
        let bytes = buffer.get(..len).unwrap_or(&[]);
        match Ack::parse_expecting(bytes, token) {
            Ok(ack) if !seen.contains(&ack.mac) => {
                seen.push(ack.mac);
                let _ = found.send(Device {
                    mac: ack.mac,
                    ip: Ipv4Addr::from(ack.ip),
                    from,
                    after: started.elapsed(),
                });
            }
            Ok(_) => {}
            Err(e) => log::debug!("ignoring datagram from {from}: {e}"),
        }
    }
}

/// Options of [`send_v1_ack`] (defaults: ESP-IDF's `smartconfig_ack.c`).
#[derive(Debug, Clone)]
pub struct AckOptions {
    /// Delay before the first round (200 ms).
    pub first_delay: Duration,
    /// Rounds (30).
    pub rounds: u32,
    /// Interval between rounds (100 ms).
    pub interval: Duration,
    /// Destination port (18266).
    pub port: u16,
    /// Also broadcast each round to 255.255.255.255 (ESP-IDF 2022+).
    pub broadcast: bool,
    /// Interface to bind to.
    pub iface: Option<String>,
}

impl Default for AckOptions {
    fn default() -> Self {
        Self {
            first_delay: Duration::from_millis(200),
            rounds: 30,
            interval: Duration::from_millis(100),
            port: ACK_PORT,
            broadcast: true,
            iface: None,
        }
    }
}

/// Sends the device's 11-byte ack to the phone as ESP-IDF does.
///
/// # Errors
/// A [`UdpError`] if the socket cannot be set up or a unicast send fails (broadcast failures
/// are logged and ignored: some interfaces, such as `lo`, cannot broadcast).
pub fn send_v1_ack(ack: &Ack, phone_ip: Ipv4Addr, options: &AckOptions) -> Result<(), UdpError> {
    let socket = udp_socket(
        SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0),
        options.iface.as_deref(),
        false,
    )?;
    let bytes: [u8; ACK_LEN] = ack.emit();
    let unicast = SocketAddr::new(IpAddr::V4(phone_ip), options.port);
    let broadcast = SocketAddr::new(IpAddr::V4(Ipv4Addr::BROADCAST), options.port);
    std::thread::sleep(options.first_delay);
    for round in 0..options.rounds {
        socket
            .send_to(&bytes, unicast)
            .map_err(|source| UdpError::Send {
                address: unicast,
                source,
            })?;
        if options.broadcast && phone_ip != Ipv4Addr::BROADCAST {
            if let Err(e) = socket.send_to(&bytes, broadcast) {
                log::debug!("ack broadcast failed: {e}");
            }
        }
        if round + 1 < options.rounds {
            std::thread::sleep(options.interval);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUIDE: [u16; 4] = [515, 514, 513, 512];

    fn triplets(n: u16) -> Vec<[u16; 3]> {
        (0..n).map(|i| [40 + i, 296 + i, 100 + i]).collect()
    }

    #[test]
    fn guide_phase_lasts_two_seconds_then_data_continues_across_phases() {
        let mut s = Schedule::new(
            &GUIDE,
            triplets(10),
            Destination::Address(Ipv4Addr::BROADCAST),
            Timing::default(),
        );
        let mut t = Duration::ZERO;
        let mut guides = 0;
        let mut data = Vec::new();
        let mut bursts = Vec::new();
        while let Some(b) = s.next_burst(t) {
            t += Timing::default().gap * b.lengths.len() as u32;
            if t > Duration::from_millis(12_000) {
                break;
            }
            if b.guide {
                guides += 1;
            } else {
                data.push(b.lengths[0] - 40);
            }
            bursts.push(b.guide);
        }
        // First cycle: quartets while < 2000 ms (32 ms each) = 63; two cycles in 12 s.
        assert_eq!(guides, 2 * 63, "guide quartets in two cycles");
        // Data positions continue across the guide phase and wrap modulo 10.
        for w in data.windows(2) {
            assert_eq!(w[1], (w[0] + 1) % 10);
        }
        assert!(bursts[..63].iter().all(|&g| g) && !bursts[63]);
    }

    #[test]
    fn sending_stops_after_the_sending_time() {
        let timing = Timing {
            sending: Duration::from_millis(100),
            ..Timing::default()
        };
        let mut s = Schedule::new(&GUIDE, triplets(3), Destination::Multicast, timing);
        assert!(s.next_burst(Duration::from_millis(99)).is_some());
        assert!(s.next_burst(Duration::from_millis(100)).is_none());
    }

    #[test]
    fn multicast_groups_advance_per_burst_and_wrap_at_one_hundred() {
        assert_eq!(
            Destination::Multicast.address(0),
            Ipv4Addr::new(234, 1, 1, 1)
        );
        assert_eq!(
            Destination::Multicast.address(99),
            Ipv4Addr::new(234, 100, 100, 100)
        );
        assert_eq!(
            Destination::Multicast.address(100),
            Ipv4Addr::new(234, 1, 1, 1)
        );
        let mut s = Schedule::new(
            &GUIDE,
            triplets(3),
            Destination::Multicast,
            Timing::default(),
        );
        let a = s.next_burst(Duration::ZERO).expect("burst");
        let b = s.next_burst(Duration::from_millis(32)).expect("burst");
        assert_eq!(
            (a.address, b.address),
            (Ipv4Addr::new(234, 1, 1, 1), Ipv4Addr::new(234, 2, 2, 2))
        );
    }

    #[test]
    fn loopback_has_an_address_and_unknown_interfaces_are_named() {
        assert_eq!(interface_ipv4("lo").expect("lo"), Ipv4Addr::LOCALHOST);
        assert!(matches!(
            interface_ipv4("nonexistent0"),
            Err(UdpError::NoSuchInterface(_))
        ));
    }
}
