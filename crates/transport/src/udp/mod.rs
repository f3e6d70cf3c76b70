//! UDP for ESP-TOUCH v1: the phone-side sender with the reference schedule, the ack listener,
//! and the device-side ack sender.
//!
//! Layers, from pure to I/O:
//!
//! * [`Schedule`]: the reference app's sending schedule as a pure state machine. Given the time
//!   elapsed since sending started it says what to send next ([`Schedule::next_datagram`] or
//!   [`Schedule::next_burst`]) and where the phase boundaries are. No clock, no socket;
//!   [`Schedule::simulated`] runs it on an ideal clock for tests and timelines.
//! * [`AckListener`]: a socket on UDP 18266 that parses 11-byte acks, ignores everything else and
//!   reports each device (by MAC) once.
//! * [`provision_v1`]: the runtime. It drives a [`Schedule`] with [`std::time::Instant`], sleeps
//!   after every datagram, runs an [`AckListener`] on its own thread, reports [`SendEvent`]s and
//!   returns the devices that answered.
//! * [`send_v1_ack`]: the device side, ESP-IDF's `smartconfig_ack.c` cadence.
//!
//! Reference schedule (spec §1.6): guide quartets 515, 514, 513, 512 for 2 s, then one DataCode
//! (3 datagrams) per step until 6 s after the guide phase began, then the next guide phase; 8 ms
//! after every datagram; sending stops after 45 s, listening after 60 s. The data position
//! persists across phases. Payloads are ASCII `'1'` repeated to the symbol length. In multicast
//! mode every quartet or triplet goes to the next group of 234.n.n.n, n = 1..=100.
//!
//! Cancellation: every loop polls a caller's [`AtomicBool`] (between datagrams, and at least every
//! 50 ms while waiting), so a Ctrl-C handler that sets it ends the run promptly.
//!
//! ```no_run
//! use std::sync::{Arc, atomic::AtomicBool};
//! use wifiprov_esptouch::v1::{Config, Encoder};
//! use wifiprov_transport::udp::{self, SendEvent, V1SendOptions};
//!
//! let phone_ip = udp::phone_ipv4(Some("wlan0"))?;
//! let bssid = [0x24, 0x0a, 0xc4, 0, 0, 1];
//! let encoder = Encoder::new(&Config::new(b"HomeNet", b"secret", bssid, phone_ip.octets()))
//!     .expect("valid credentials");
//! let options = V1SendOptions {
//!     iface: Some("wlan0".to_owned()),
//!     ..V1SendOptions::for_encoder(&encoder)
//! };
//! let stop = Arc::new(AtomicBool::new(false)); // set it from a Ctrl-C handler
//! let devices = udp::provision_v1(&options, phone_ip, &stop, |event| {
//!     if let SendEvent::Device(device) = event {
//!         println!("{:02x?} answered from {}", device.mac, device.ip);
//!     }
//! })?;
//! # Ok::<(), udp::UdpError>(())
//! ```

pub mod v2;

use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockRef, Socket, Type};
use wifiprov_esptouch::v1::{ACK_LEN, ACK_PORT, Ack, Encoder, SEND_PORT};
use wifiprov_sniff::Mac;

/// How often waiting loops poll the stop flag.
const POLL: Duration = Duration::from_millis(50);
/// Minimum time between two [`SendEvent::Progress`] events.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);
/// The largest UDP payload over IPv4.
const MAX_UDP_PAYLOAD: u16 = 65_507;

/// Why a UDP operation failed.
///
/// The OS error, where there is one, is the [`source`](std::error::Error::source) and is not
/// repeated in the message (print with `{:#}` through `anyhow`, or walk the chain).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UdpError {
    /// A socket could not be created, configured or bound.
    #[error("{action} ({address}{})", on_interface(.iface.as_deref()))]
    Socket {
        /// What was being done.
        action: &'static str,
        /// The address involved (the local address for binds).
        address: SocketAddr,
        /// The interface, if one was chosen.
        iface: Option<String>,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Sending a datagram failed.
    #[error("sending to {address}")]
    Send {
        /// Destination.
        address: SocketAddr,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Receiving failed (other than a timeout).
    #[error("receiving on {address}")]
    Receive {
        /// The local address of the socket.
        address: SocketAddr,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The interface does not exist.
    #[error("no network interface named {0:?}")]
    NoSuchInterface(String),
    /// The interface has no IPv4 address.
    #[error("interface {0:?} has no IPv4 address")]
    NoIpv4(String),
    /// No interface besides loopback is up with an IPv4 address.
    #[error("no network interface with an IPv4 address is up; choose one with --iface")]
    NoDefaultInterface,
    /// Listing the interfaces failed.
    #[error("listing network interfaces")]
    Interfaces(#[source] nix::Error),
    /// The options cannot work (a caller bug or a bad argument).
    #[error("invalid options: {0}")]
    InvalidOptions(&'static str),
}

fn on_interface(iface: Option<&str>) -> String {
    iface.map(|name| format!(" on {name}")).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Interfaces

/// The IPv4 address of interface `name` (its first one).
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
        if let Some(address) = ifaddr.address.as_ref().and_then(|a| a.as_sockaddr_in()) {
            return Ok(address.ip());
        }
    }
    if exists || interface_exists(name) {
        Err(UdpError::NoIpv4(name.to_owned()))
    } else {
        Err(UdpError::NoSuchInterface(name.to_owned()))
    }
}

/// The default interface and its address: the first interface that is up, is not loopback and
/// has an IPv4 address.
///
/// # Errors
/// [`UdpError::NoDefaultInterface`] or [`UdpError::Interfaces`].
pub fn default_ipv4() -> Result<(String, Ipv4Addr), UdpError> {
    use nix::net::if_::InterfaceFlags;
    for ifaddr in nix::ifaddrs::getifaddrs().map_err(UdpError::Interfaces)? {
        let usable = ifaddr.flags.contains(InterfaceFlags::IFF_UP)
            && !ifaddr.flags.contains(InterfaceFlags::IFF_LOOPBACK);
        if !usable {
            continue;
        }
        if let Some(address) = ifaddr.address.as_ref().and_then(|a| a.as_sockaddr_in()) {
            return Ok((ifaddr.interface_name, address.ip()));
        }
    }
    Err(UdpError::NoDefaultInterface)
}

/// The phone IP to announce: the address of `iface`, or of the default interface.
///
/// # Errors
/// As [`interface_ipv4`] or [`default_ipv4`].
pub fn phone_ipv4(iface: Option<&str>) -> Result<Ipv4Addr, UdpError> {
    match iface {
        Some(name) => interface_ipv4(name),
        None => default_ipv4().map(|(_, ip)| ip),
    }
}

fn interface_exists(name: &str) -> bool {
    !name.is_empty() && nix::net::if_::if_nametoindex(name).is_ok()
}

/// Fails with [`UdpError::NoSuchInterface`] before any socket is bound to a missing interface.
fn check_interface(iface: Option<&str>) -> Result<(), UdpError> {
    match iface {
        Some(name) if !interface_exists(name) => Err(UdpError::NoSuchInterface(name.to_owned())),
        _ => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------------
// Schedule (pure)

/// Where the phone sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Destination {
    /// One address: 255.255.255.255 as Android does (the default), a subnet broadcast as iOS
    /// does, or any address (127.0.0.1 for tests and the loopback demo).
    Address(Ipv4Addr),
    /// Multicast groups 234.n.n.n, n = 1..=100, one group per guide quartet or data triplet.
    Multicast,
}

impl Default for Destination {
    fn default() -> Self {
        Self::Address(Ipv4Addr::BROADCAST)
    }
}

impl Destination {
    /// The address of the `burst`-th send call (counting from 0).
    #[must_use]
    pub fn address(self, burst: u64) -> Ipv4Addr {
        match self {
            Self::Address(address) => address,
            Self::Multicast => {
                // Fits: 1..=100.
                let n = (burst % 100) as u8 + 1;
                Ipv4Addr::new(234, n, n, n)
            }
        }
    }

    fn is_multicast(self) -> bool {
        match self {
            Self::Address(address) => address.is_multicast(),
            Self::Multicast => true,
        }
    }
}

/// Timing of the ESP-TOUCH v1 sender; the default is the reference app's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timing {
    /// Pause after every datagram (8 ms).
    pub gap: Duration,
    /// Guide phase, from the start of a cycle (2 s).
    pub guide: Duration,
    /// Guide plus data phase (6 s).
    pub cycle: Duration,
    /// Total sending time (45 s); listening goes on until [`V1SendOptions::timeout`].
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

/// A phase of the cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Guide quartets.
    Guide,
    /// Data triplets.
    Data,
}

/// One send call of the reference app: a guide quartet or a data triplet, to one address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Burst {
    /// Payload lengths, in order.
    pub lengths: Vec<u16>,
    /// Destination of every datagram of the burst.
    pub address: Ipv4Addr,
    /// True for the guide code.
    pub guide: bool,
    /// True for the first burst of a phase.
    pub phase_start: bool,
    /// For data bursts, the DataCode position in the sending order.
    pub position: Option<usize>,
}

/// One datagram to send: a payload length and where to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Datagram {
    /// UDP payload length.
    pub len: u16,
    /// Destination address (the port is the runtime's).
    pub address: Ipv4Addr,
    /// True for the guide code.
    pub guide: bool,
    /// True for the first datagram of a phase.
    pub phase_start: bool,
}

/// The reference sending schedule as a pure state machine.
///
/// Call either [`next_datagram`](Self::next_datagram) (one datagram at a time, as the runtime
/// does) or [`next_burst`](Self::next_burst) (one send call at a time), with the time elapsed
/// since sending started; both return `None` once the sending time is over. A burst, once
/// started, is completed by `next_datagram` whatever the time, as in the reference app, which
/// reads the clock only between send calls. Do not mix the two methods: `next_burst` drops the
/// rest of a burst that `next_datagram` started.
#[derive(Debug, Clone)]
pub struct Schedule {
    guide: Vec<u16>,
    triplets: Vec<[u16; 3]>,
    destination: Destination,
    timing: Timing,
    cycle_start: Option<Duration>,
    phase: Option<Phase>,
    position: usize,
    bursts: u64,
    current: Option<(Burst, usize)>,
}

impl Schedule {
    /// A schedule for `guide` and the data `triplets` (in sending order). With no triplets it
    /// sends the guide code only.
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
            phase: None,
            position: 0,
            bursts: 0,
            current: None,
        }
    }

    /// The schedule of `encoder`'s guide code and data cycle.
    #[must_use]
    pub fn for_encoder(encoder: &Encoder, destination: Destination, timing: Timing) -> Self {
        Self::new(&encoder.guide(), triplets_of(encoder), destination, timing)
    }

    /// The next send call at `elapsed` (since sending started), or `None` once the sending time
    /// is over.
    pub fn next_burst(&mut self, elapsed: Duration) -> Option<Burst> {
        self.current = None;
        if elapsed >= self.timing.sending {
            return None;
        }
        let mut new_cycle = false;
        let start = match self.cycle_start {
            Some(start) if elapsed.saturating_sub(start) < self.timing.cycle => start,
            _ => {
                new_cycle = true;
                self.cycle_start = Some(elapsed);
                elapsed
            }
        };
        let phase = if elapsed.saturating_sub(start) < self.timing.guide || self.triplets.is_empty()
        {
            Phase::Guide
        } else {
            Phase::Data
        };
        let phase_start = new_cycle || self.phase != Some(phase);
        self.phase = Some(phase);
        let (lengths, position) = match phase {
            Phase::Guide => (self.guide.clone(), None),
            Phase::Data => {
                let position = self.position % self.triplets.len().max(1);
                let triplet = self.triplets.get(position).copied()?;
                self.position = (position + 1) % self.triplets.len().max(1);
                (triplet.to_vec(), Some(position))
            }
        };
        let address = self.destination.address(self.bursts);
        self.bursts += 1;
        Some(Burst {
            lengths,
            address,
            guide: phase == Phase::Guide,
            phase_start,
            position,
        })
    }

    /// The next datagram at `elapsed` (since sending started), or `None` once the sending time
    /// is over. The time is only consulted at the start of a burst.
    pub fn next_datagram(&mut self, elapsed: Duration) -> Option<Datagram> {
        loop {
            if let Some((burst, next)) = self.current.as_mut() {
                if let Some(&len) = burst.lengths.get(*next) {
                    let datagram = Datagram {
                        len,
                        address: burst.address,
                        guide: burst.guide,
                        phase_start: burst.phase_start && *next == 0,
                    };
                    *next += 1;
                    return Some(datagram);
                }
            }
            // Current burst done (or none yet): start the next one. An empty guide code yields
            // empty bursts; stop rather than spin.
            let burst = self.next_burst(elapsed)?;
            if burst.lengths.is_empty() {
                return None;
            }
            self.current = Some((burst, 0));
        }
    }

    /// Runs the schedule on an ideal clock where every datagram takes exactly
    /// [`Timing::gap`]: `(send time, datagram)` pairs. With a zero gap it never ends.
    #[must_use]
    pub fn simulated(self) -> Simulated {
        Simulated {
            schedule: self,
            at: Duration::ZERO,
        }
    }

    /// DataCode position (in the sending order) of the next data burst.
    #[must_use]
    pub const fn position(&self) -> usize {
        self.position
    }

    /// Send calls (bursts) so far.
    #[must_use]
    pub const fn bursts(&self) -> u64 {
        self.bursts
    }

    /// The phase of the last burst, `None` before the first.
    #[must_use]
    pub const fn phase(&self) -> Option<Phase> {
        self.phase
    }

    /// The timing this schedule follows.
    #[must_use]
    pub const fn timing(&self) -> Timing {
        self.timing
    }
}

/// A [`Schedule`] on an ideal clock; see [`Schedule::simulated`].
#[derive(Debug, Clone)]
pub struct Simulated {
    schedule: Schedule,
    at: Duration,
}

impl Iterator for Simulated {
    type Item = (Duration, Datagram);

    fn next(&mut self) -> Option<Self::Item> {
        let datagram = self.schedule.next_datagram(self.at)?;
        let at = self.at;
        self.at = self.at.saturating_add(self.schedule.timing.gap);
        Some((at, datagram))
    }
}

fn triplets_of(encoder: &Encoder) -> Vec<[u16; 3]> {
    (0..encoder.datum_count())
        .map(|position| encoder.triplet_at(position))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Phone side: sender and listener

/// A device that acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Device {
    /// Its station MAC (from the ack).
    pub mac: Mac,
    /// Its IPv4 address (from the ack).
    pub ip: Ipv4Addr,
    /// Where the ack came from (UDP source).
    pub from: SocketAddr,
    /// When it arrived, since sending started.
    pub after: Duration,
}

/// Why [`provision_v1`] finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Finish {
    /// The requested number of devices answered.
    Devices,
    /// The timeout passed.
    Timeout,
    /// The stop flag was set.
    Stopped,
}

/// What [`provision_v1`] reports while it runs, in this order: `Started`, then `Phase`,
/// `Progress` and `Device` interleaved, `Listening` if the sending time ends first, `Done`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendEvent {
    /// Sockets are ready; sending starts.
    Started {
        /// The phone IP announced in the data.
        phone_ip: Ipv4Addr,
        /// First destination address.
        destination: Ipv4Addr,
    },
    /// A guide or data phase began.
    Phase {
        /// True for the guide phase.
        guide: bool,
    },
    /// Periodic progress (at most 4 per second).
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
    /// A new device acknowledged (each MAC once).
    Device(Device),
    /// The run is over.
    Done {
        /// Datagrams sent.
        datagrams: u64,
        /// Distinct devices that answered.
        devices: usize,
        /// Why it ended.
        finish: Finish,
    },
}

/// Options of [`provision_v1`]. Start from [`V1SendOptions::for_encoder`] (or fill `guide`,
/// `triplets` and `token` into the default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V1SendOptions {
    /// Guide code lengths.
    pub guide: Vec<u16>,
    /// Data triplets in sending order.
    pub triplets: Vec<[u16; 3]>,
    /// Expected ack token (T, [`Encoder::total_len`]).
    pub token: u8,
    /// Destination addressing (255.255.255.255).
    pub destination: Destination,
    /// Destination port (7001).
    pub port: u16,
    /// Interface to bind both sockets to (`SO_BINDTODEVICE`, needs `CAP_NET_RAW`), and to send
    /// multicast from.
    pub iface: Option<String>,
    /// Sending timing.
    pub timing: Timing,
    /// Overall time limit, listening included (60 s).
    pub timeout: Duration,
    /// Stop after this many distinct devices (1; 0 = run until the timeout).
    pub devices: usize,
    /// Port to listen on for acks (18266; 0 picks a free one).
    pub ack_port: u16,
    /// Address to listen on for acks (0.0.0.0).
    pub listen_address: Ipv4Addr,
    /// Payload fill byte (Android: `b'1'`).
    pub fill: u8,
}

impl Default for V1SendOptions {
    fn default() -> Self {
        Self {
            guide: Vec::new(),
            triplets: Vec::new(),
            token: 0,
            destination: Destination::default(),
            port: SEND_PORT,
            iface: None,
            timing: Timing::default(),
            timeout: Duration::from_secs(60),
            devices: 1,
            ack_port: ACK_PORT,
            listen_address: Ipv4Addr::UNSPECIFIED,
            fill: b'1',
        }
    }
}

impl V1SendOptions {
    /// The reference options for `encoder`'s data.
    #[must_use]
    pub fn for_encoder(encoder: &Encoder) -> Self {
        Self {
            guide: encoder.guide().to_vec(),
            triplets: triplets_of(encoder),
            token: encoder.total_len(),
            ..Self::default()
        }
    }

    /// Checks what can be checked without the network.
    ///
    /// # Errors
    /// [`UdpError::InvalidOptions`].
    pub fn validate(&self) -> Result<(), UdpError> {
        if self.guide.is_empty() {
            return Err(UdpError::InvalidOptions("the guide code is empty"));
        }
        if self.triplets.is_empty() {
            return Err(UdpError::InvalidOptions("there are no data triplets"));
        }
        if self.max_len() > MAX_UDP_PAYLOAD {
            return Err(UdpError::InvalidOptions(
                "a length exceeds the largest UDP payload (65507)",
            ));
        }
        if self.timing.cycle <= self.timing.guide {
            return Err(UdpError::InvalidOptions(
                "the cycle must be longer than the guide phase",
            ));
        }
        if self.port == 0 {
            return Err(UdpError::InvalidOptions("the destination port is 0"));
        }
        Ok(())
    }

    fn max_len(&self) -> u16 {
        let guide = self.guide.iter().copied();
        let data = self.triplets.iter().flatten().copied();
        guide.chain(data).max().unwrap_or(0)
    }
}

/// When an [`AckListener`] stops listening.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListenOptions {
    /// Expected ack token (T).
    pub token: u8,
    /// Stop after this many distinct devices (0 = until the timeout).
    pub devices: usize,
    /// Stop this long after the start instant given to [`AckListener::listen`].
    pub timeout: Duration,
}

impl ListenOptions {
    /// One device, 60 s.
    #[must_use]
    pub const fn new(token: u8) -> Self {
        Self {
            token,
            devices: 1,
            timeout: Duration::from_secs(60),
        }
    }
}

/// The phone's ack socket (UDP 18266, `SO_REUSEADDR`).
#[derive(Debug)]
pub struct AckListener {
    socket: UdpSocket,
    local: SocketAddr,
}

impl AckListener {
    /// Binds to `address` (port 0 picks a free port), on `iface` if given.
    ///
    /// # Errors
    /// [`UdpError::NoSuchInterface`] or [`UdpError::Socket`].
    pub fn bind(address: SocketAddrV4, iface: Option<&str>) -> Result<Self, UdpError> {
        check_interface(iface)?;
        let socket = udp_socket(address, iface, true)?;
        let local = socket.local_addr().map_err(socket_error(
            "reading the bound address",
            address,
            iface,
        ))?;
        socket.set_read_timeout(Some(POLL)).map_err(socket_error(
            "setting a read timeout",
            address,
            iface,
        ))?;
        Ok(Self { socket, local })
    }

    /// The bound address.
    #[must_use]
    pub const fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Collects acks carrying `options.token` until `options.devices` distinct MACs answered,
    /// `options.timeout` passed since `started`, or `stop` is set. Calls `on_device` once per
    /// new MAC as it arrives and returns the devices in arrival order. Other datagrams are
    /// logged at debug level and ignored.
    ///
    /// # Errors
    /// [`UdpError::Receive`] if the socket fails (timeouts are not failures).
    pub fn listen(
        &self,
        options: &ListenOptions,
        started: Instant,
        stop: &AtomicBool,
        mut on_device: impl FnMut(&Device),
    ) -> Result<Vec<Device>, UdpError> {
        let mut devices: Vec<Device> = Vec::new();
        let mut buffer = [0u8; 512];
        loop {
            let enough = options.devices > 0 && devices.len() >= options.devices;
            if enough || stop.load(Ordering::SeqCst) || started.elapsed() >= options.timeout {
                return Ok(devices);
            }
            let (len, from) = match self.socket.recv_from(&mut buffer) {
                Ok(received) => received,
                Err(e) if is_timeout(&e) => continue,
                Err(source) => {
                    return Err(UdpError::Receive {
                        address: self.local,
                        source,
                    });
                }
            };
            let bytes = buffer.get(..len).unwrap_or_default();
            match Ack::parse_expecting(bytes, options.token) {
                Ok(ack) if devices.iter().any(|d| d.mac == ack.mac) => {
                    log::trace!("duplicate ack from {from}");
                }
                Ok(ack) => {
                    let device = Device {
                        mac: ack.mac,
                        ip: Ipv4Addr::from(ack.ip),
                        from,
                        after: started.elapsed(),
                    };
                    log::debug!("ack from {from}: device {:02x?} at {}", ack.mac, device.ip);
                    on_device(&device);
                    devices.push(device);
                }
                Err(e) => log::debug!("ignoring a {len}-byte datagram from {from}: {e}"),
            }
        }
    }
}

fn is_timeout(e: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        e.kind(),
        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
    )
}

fn socket_error(
    action: &'static str,
    address: SocketAddrV4,
    iface: Option<&str>,
) -> impl FnOnce(std::io::Error) -> UdpError {
    let iface = iface.map(str::to_owned);
    move |source| UdpError::Socket {
        action,
        address: SocketAddr::V4(address),
        iface,
        source,
    }
}

/// A UDP socket with `SO_BROADCAST`, bound to `bind` (and to `iface`).
fn udp_socket(bind: SocketAddrV4, iface: Option<&str>, reuse: bool) -> Result<UdpSocket, UdpError> {
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))
        .map_err(socket_error("creating a UDP socket", bind, iface))?;
    if reuse {
        socket.set_reuse_address(true).map_err(socket_error(
            "setting SO_REUSEADDR",
            bind,
            iface,
        ))?;
    }
    socket
        .set_broadcast(true)
        .map_err(socket_error("setting SO_BROADCAST", bind, iface))?;
    if let Some(name) = iface {
        socket
            .bind_device(Some(name.as_bytes()))
            .map_err(socket_error(
                "binding to the interface (SO_BINDTODEVICE needs CAP_NET_RAW)",
                bind,
                iface,
            ))?;
    }
    socket
        .bind(&SocketAddr::V4(bind).into())
        .map_err(socket_error("binding", bind, iface))?;
    Ok(socket.into())
}

fn sender_socket(options: &V1SendOptions) -> Result<UdpSocket, UdpError> {
    let iface = options.iface.as_deref();
    let bind = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0);
    let socket = udp_socket(bind, iface, false)?;
    if options.destination.is_multicast() {
        let socket_ref = SockRef::from(&socket);
        socket_ref.set_multicast_ttl_v4(1).map_err(socket_error(
            "setting IP_MULTICAST_TTL",
            bind,
            iface,
        ))?;
        if let Some(name) = iface {
            let address = interface_ipv4(name)?;
            socket_ref
                .set_multicast_if_v4(&address)
                .map_err(socket_error("setting IP_MULTICAST_IF", bind, iface))?;
        }
    }
    Ok(socket)
}

/// Sends ESP-TOUCH v1 with the reference schedule and collects acks until
/// [`V1SendOptions::devices`] devices answered, [`V1SendOptions::timeout`] passed or `stop` was
/// set. Returns the devices in the order they answered.
///
/// The listener runs on its own (scoped) thread; `events` is called on the caller's thread.
/// `phone_ip` is only reported (it is already in the data).
///
/// # Errors
/// [`UdpError::InvalidOptions`] or [`UdpError::NoSuchInterface`] before anything is sent; a
/// [`UdpError::Socket`] if a socket cannot be set up; [`UdpError::Send`] or
/// [`UdpError::Receive`] if the network fails during the run.
pub fn provision_v1(
    options: &V1SendOptions,
    phone_ip: Ipv4Addr,
    stop: &AtomicBool,
    mut events: impl FnMut(SendEvent),
) -> Result<Vec<Device>, UdpError> {
    options.validate()?;
    let iface = options.iface.as_deref();
    check_interface(iface)?;
    let listener = AckListener::bind(
        SocketAddrV4::new(options.listen_address, options.ack_port),
        iface,
    )?;
    let sender = sender_socket(options)?;
    log::debug!(
        "esptouch: sending to {:?} port {}, acks on {}",
        options.destination,
        options.port,
        listener.local_addr()
    );
    let listen = ListenOptions {
        token: options.token,
        devices: options.devices,
        timeout: options.timeout,
    };
    let halt = AtomicBool::new(false);
    let (found_tx, found_rx) = mpsc::channel();
    let started = Instant::now();
    std::thread::scope(|scope| {
        let listening = scope.spawn(|| {
            let found_tx = found_tx;
            listener.listen(&listen, started, &halt, |device| {
                // The receiver lives until after the join.
                let _ = found_tx.send(*device);
            })
        });
        let mut run = Run {
            options,
            sender: &sender,
            started,
            stop,
            found: &found_rx,
            devices: Vec::new(),
            datagrams: 0,
        };
        let sent = run.drive(phone_ip, &mut events);
        halt.store(true, Ordering::SeqCst);
        let listened = match listening.join() {
            Ok(listened) => listened,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        let finish = sent?;
        listened?;
        // Devices that answered while the run was ending.
        run.collect(&mut events);
        events(SendEvent::Done {
            datagrams: run.datagrams,
            devices: run.devices.len(),
            finish,
        });
        Ok(run.devices)
    })
}

/// The sending loop's state.
struct Run<'a> {
    options: &'a V1SendOptions,
    sender: &'a UdpSocket,
    started: Instant,
    stop: &'a AtomicBool,
    found: &'a mpsc::Receiver<Device>,
    devices: Vec<Device>,
    datagrams: u64,
}

impl Run<'_> {
    /// Takes the devices the listener reported; false if the listener has ended.
    fn collect(&mut self, events: &mut impl FnMut(SendEvent)) -> bool {
        loop {
            match self.found.try_recv() {
                Ok(device) => self.add(device, events),
                Err(mpsc::TryRecvError::Empty) => return true,
                Err(mpsc::TryRecvError::Disconnected) => return false,
            }
        }
    }

    fn add(&mut self, device: Device, events: &mut impl FnMut(SendEvent)) {
        if !self.devices.iter().any(|d| d.mac == device.mac) {
            self.devices.push(device);
            events(SendEvent::Device(device));
        }
    }

    fn enough(&self) -> bool {
        self.options.devices > 0 && self.devices.len() >= self.options.devices
    }

    fn drive(
        &mut self,
        phone_ip: Ipv4Addr,
        events: &mut impl FnMut(SendEvent),
    ) -> Result<Finish, UdpError> {
        let options = self.options;
        let mut schedule = Schedule::new(
            &options.guide,
            options.triplets.clone(),
            options.destination,
            options.timing,
        );
        let payload = vec![options.fill; usize::from(options.max_len())];
        let mut last_progress = self.started;
        let mut sending = true;
        events(SendEvent::Started {
            phone_ip,
            destination: options.destination.address(0),
        });
        loop {
            let listening = self.collect(events);
            if self.enough() {
                return Ok(Finish::Devices);
            }
            if self.stop.load(Ordering::SeqCst) {
                return Ok(Finish::Stopped);
            }
            let elapsed = self.started.elapsed();
            // A listener that ended without enough devices has seen the timeout (or failed;
            // the caller reports that).
            if !listening || elapsed >= options.timeout {
                return Ok(Finish::Timeout);
            }
            if sending {
                if let Some(datagram) = schedule.next_datagram(elapsed) {
                    if datagram.phase_start {
                        events(SendEvent::Phase {
                            guide: datagram.guide,
                        });
                    }
                    let address = SocketAddr::V4(SocketAddrV4::new(datagram.address, options.port));
                    let body = payload.get(..usize::from(datagram.len)).unwrap_or_default();
                    self.sender
                        .send_to(body, address)
                        .map_err(|source| UdpError::Send { address, source })?;
                    self.datagrams += 1;
                    std::thread::sleep(options.timing.gap);
                    if last_progress.elapsed() >= PROGRESS_EVERY {
                        last_progress = Instant::now();
                        events(SendEvent::Progress {
                            datagrams: self.datagrams,
                            elapsed: self.started.elapsed(),
                            guide: datagram.guide,
                        });
                    }
                    continue;
                }
                sending = false;
                events(SendEvent::Listening);
            }
            let wait = options.timeout.saturating_sub(elapsed).min(POLL);
            match self.found.recv_timeout(wait) {
                Ok(device) => self.add(device, events),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(Finish::Timeout),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Phone side: AirKiss

/// Options of [`provision_airkiss`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AirkissSendOptions {
    /// One encoder cycle of code values (UDP payload lengths), sent over and over.
    pub cycle: Vec<u16>,
    /// The random byte the device echoes.
    pub random: u8,
    /// Destination (255.255.255.255).
    pub destination: Ipv4Addr,
    /// Destination port (10001: ESP-IDF devices listen there to learn the phone's address).
    pub port: u16,
    /// Pause after every datagram (4 ms, as WeChat's reverse-engineered sender).
    pub gap: Duration,
    /// Pause after each datagram of the guide quartets that start the cycle (10 ms: the official
    /// AirKissDebugger's spacing in real captures, about 200 guide datagrams over 2 s). The guide
    /// is all a device can lock on; a receiver hopping 13 channels at 100 ms (1.3 s a sweep)
    /// then spends a whole dwell on the phone's channel during every guide phase, which 200
    /// datagrams 4 ms apart (0.8 s) do not promise.
    pub guide_gap: Duration,
    /// Overall time limit (60 s).
    pub timeout: Duration,
    /// Stop after this many distinct devices (1; 0 = until the timeout).
    pub devices: usize,
    /// Ack port to listen on (10000).
    pub ack_port: u16,
    /// Interface to bind to (`SO_BINDTODEVICE`).
    pub iface: Option<String>,
}

impl AirkissSendOptions {
    /// Defaults for `cycle` and `random`.
    #[must_use]
    pub fn new(cycle: Vec<u16>, random: u8) -> Self {
        Self {
            cycle,
            random,
            destination: Ipv4Addr::BROADCAST,
            port: wifiprov_airkiss::ack::SEND_PORT,
            gap: Duration::from_millis(4),
            guide_gap: Duration::from_millis(10),
            timeout: Duration::from_secs(60),
            devices: 1,
            ack_port: wifiprov_airkiss::ack::ACK_PORT,
            iface: None,
        }
    }
}

/// How many datagrams at the start of an AirKiss cycle are guide quartets (1, 2, 3, 4 repeated;
/// whole quartets only, since a magic quartet may start with 1).
fn guide_prefix(cycle: &[u16]) -> usize {
    4 * cycle
        .chunks_exact(4)
        .take_while(|q| *q == wifiprov_airkiss::encoder::GUIDE)
        .count()
}

/// A device that answered an AirKiss provisioning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AirkissDevice {
    /// Where the ack came from.
    pub from: SocketAddr,
    /// Its MAC, if it sent ESP-IDF's 7-byte ack.
    pub mac: Option<Mac>,
    /// When it first answered, since sending started.
    pub after: Duration,
}

/// What [`provision_airkiss`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AirkissEvent {
    /// Sending starts.
    Started,
    /// Periodic progress.
    Progress {
        /// Datagrams sent.
        datagrams: u64,
        /// Time since the start.
        elapsed: Duration,
    },
    /// A new device answered (each source address once).
    Device(AirkissDevice),
    /// The run is over.
    Done {
        /// Datagrams sent.
        datagrams: u64,
        /// Distinct devices.
        devices: usize,
        /// Why it ended.
        finish: Finish,
    },
}

/// Sends AirKiss (the cycle, repeated) and collects acks (datagrams to `ack_port` whose first
/// byte is the random byte, 1 or 7 bytes long) until enough devices answered, the timeout passed
/// or `stop` was set.
///
/// # Errors
/// [`UdpError::InvalidOptions`], [`UdpError::NoSuchInterface`], [`UdpError::Socket`],
/// [`UdpError::Send`] or [`UdpError::Receive`].
pub fn provision_airkiss(
    options: &AirkissSendOptions,
    stop: &AtomicBool,
    mut events: impl FnMut(AirkissEvent),
) -> Result<Vec<AirkissDevice>, UdpError> {
    if options.cycle.is_empty() {
        return Err(UdpError::InvalidOptions("the AirKiss cycle is empty"));
    }
    if options.port == 0 {
        return Err(UdpError::InvalidOptions("the destination port is 0"));
    }
    let iface = options.iface.as_deref();
    check_interface(iface)?;
    let listen_at = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, options.ack_port);
    let listener = udp_socket(listen_at, iface, true)?;
    listener.set_read_timeout(Some(POLL)).map_err(socket_error(
        "setting a read timeout",
        listen_at,
        iface,
    ))?;
    let sender = udp_socket(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0), iface, false)?;
    let payload = vec![0u8; usize::from(options.cycle.iter().copied().max().unwrap_or(0))];
    let destination = SocketAddr::V4(SocketAddrV4::new(options.destination, options.port));
    let guide = guide_prefix(&options.cycle);
    let started = Instant::now();
    let mut devices: Vec<AirkissDevice> = Vec::new();
    let mut datagrams = 0u64;
    let mut last_progress = started;
    let mut buffer = [0u8; 64];
    listener
        .set_nonblocking(true)
        .map_err(socket_error("setting O_NONBLOCK", listen_at, iface))?;
    events(AirkissEvent::Started);
    let finish = 'run: loop {
        for (index, &len) in options.cycle.iter().enumerate() {
            // Acks first: they are what ends the run.
            loop {
                match listener.recv_from(&mut buffer) {
                    Ok((n, from)) => {
                        let ack = buffer.get(..n).and_then(wifiprov_airkiss::ack::Ack::parse);
                        match ack {
                            Some(ack) if ack.answers(options.random) => {
                                // One device: the same address, or the same MAC (ESP-IDF's
                                // form reaches us both unicast and broadcast, and a host with
                                // two addresses answers from either).
                                let known = devices.iter().any(|d| {
                                    d.from.ip() == from.ip()
                                        || (ack.mac.is_some() && d.mac == ack.mac)
                                });
                                if !known {
                                    let device = AirkissDevice {
                                        from,
                                        mac: ack.mac,
                                        after: started.elapsed(),
                                    };
                                    devices.push(device);
                                    events(AirkissEvent::Device(device));
                                }
                            }
                            _ => log::debug!("ignoring a {n}-byte datagram from {from}"),
                        }
                    }
                    Err(e) if is_timeout(&e) => break,
                    Err(source) => {
                        return Err(UdpError::Receive {
                            address: SocketAddr::V4(listen_at),
                            source,
                        });
                    }
                }
            }
            if options.devices > 0 && devices.len() >= options.devices {
                break 'run Finish::Devices;
            }
            if stop.load(Ordering::SeqCst) {
                break 'run Finish::Stopped;
            }
            if started.elapsed() >= options.timeout {
                break 'run Finish::Timeout;
            }
            let body = payload.get(..usize::from(len)).unwrap_or_default();
            sender
                .send_to(body, destination)
                .map_err(|source| UdpError::Send {
                    address: destination,
                    source,
                })?;
            datagrams += 1;
            std::thread::sleep(if index < guide {
                options.guide_gap
            } else {
                options.gap
            });
            if last_progress.elapsed() >= PROGRESS_EVERY {
                last_progress = Instant::now();
                events(AirkissEvent::Progress {
                    datagrams,
                    elapsed: started.elapsed(),
                });
            }
        }
    };
    events(AirkissEvent::Done {
        datagrams,
        devices: devices.len(),
        finish,
    });
    Ok(devices)
}

// ---------------------------------------------------------------------------------------------
// Device side

/// Options of [`send_v1_ack`]; the default is ESP-IDF's `smartconfig_ack.c`.
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
    /// Also send each round to 255.255.255.255 (ESP-IDF 2022+; on). Failures of the broadcast
    /// are logged, not returned: some interfaces, such as `lo`, cannot broadcast.
    pub broadcast: bool,
    /// Interface to bind to (`SO_BINDTODEVICE`, needs `CAP_NET_RAW`).
    pub iface: Option<String>,
    /// Set to stop early (checked before every send and during the waits).
    pub stop: Option<Arc<AtomicBool>>,
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
            stop: None,
        }
    }
}

/// Sends the device's 11-byte ack to `phone_ip` as ESP-IDF does: after
/// [`AckOptions::first_delay`], [`AckOptions::rounds`] rounds [`AckOptions::interval`] apart,
/// each to the phone and (optionally) to 255.255.255.255. Returns early, successfully, when the
/// stop flag is set.
///
/// # Errors
/// [`UdpError::InvalidOptions`] (port 0), [`UdpError::NoSuchInterface`], [`UdpError::Socket`],
/// or [`UdpError::Send`] if a unicast send fails.
pub fn send_v1_ack(ack: &Ack, phone_ip: Ipv4Addr, options: &AckOptions) -> Result<(), UdpError> {
    let bytes: [u8; ACK_LEN] = ack.emit();
    send_repeated(&bytes, Some(phone_ip), options)
}

/// Sends the AirKiss ack the way the spec recommends: the random byte (optionally followed by the
/// MAC, ESP-IDF's 7-byte form) broadcast to port 10000 `options.rounds` times.
///
/// # Errors
/// As [`send_v1_ack`]; broadcast failures are errors here (there is no unicast).
pub fn send_airkiss_ack(
    ack: &wifiprov_airkiss::ack::Ack,
    options: &AckOptions,
) -> Result<(), UdpError> {
    let (bytes, len) = ack.emit();
    send_repeated(bytes.get(..len).unwrap_or_default(), None, options)
}

/// ESP-IDF's AirKiss ack (`smartconfig_ack.c`): learn the phone's address from a datagram it is
/// still sending to `listen_port` (10001), waiting at most `wait`, then send the 7-byte form
/// (random byte and station MAC) to the phone's address and, with `options.broadcast`, to
/// 255.255.255.255, on `options.port` (10000). ESP-IDF gives up when no datagram arrives; this
/// broadcasts instead. Returns the phone's address when one was learnt.
///
/// # Errors
/// As [`send_v1_ack`], and a bind failure of the listening socket.
pub fn send_airkiss_ack_esp_idf(
    ack: &wifiprov_airkiss::ack::Ack,
    listen_port: u16,
    wait: Duration,
    options: &AckOptions,
) -> Result<Option<Ipv4Addr>, UdpError> {
    let iface = options.iface.as_deref();
    check_interface(iface)?;
    let phone = {
        let socket = udp_socket(
            SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, listen_port),
            iface,
            true,
        )?;
        learn_sender(&socket, wait, options.stop.as_deref())
    };
    let (bytes, len) = ack.emit();
    send_repeated(bytes.get(..len).unwrap_or_default(), phone, options)?;
    Ok(phone)
}

/// The IPv4 source of the first datagram `socket` receives within `wait` (or until `stop`).
fn learn_sender(socket: &UdpSocket, wait: Duration, stop: Option<&AtomicBool>) -> Option<Ipv4Addr> {
    let deadline = Instant::now() + wait;
    let mut buffer = [0u8; 1600];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
            return None;
        }
        // Short reads so that `stop` is seen.
        if socket
            .set_read_timeout(Some(left.min(Duration::from_millis(100))))
            .is_err()
        {
            return None;
        }
        match socket.recv_from(&mut buffer) {
            Ok((_, SocketAddr::V4(from))) => return Some(*from.ip()),
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                ) => {}
            Err(e) => {
                log::debug!("learning the phone's address: {e}");
                return None;
            }
        }
    }
}

/// `rounds` sends of `bytes` `interval` apart (after `first_delay`): unicast to `unicast` and,
/// with `options.broadcast` (or without a unicast address), to 255.255.255.255.
fn send_repeated(
    bytes: &[u8],
    unicast: Option<Ipv4Addr>,
    options: &AckOptions,
) -> Result<(), UdpError> {
    if options.port == 0 {
        return Err(UdpError::InvalidOptions("the ack port is 0"));
    }
    let iface = options.iface.as_deref();
    check_interface(iface)?;
    let socket = udp_socket(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0), iface, false)?;
    let unicast = unicast.map(|ip| SocketAddr::new(IpAddr::V4(ip), options.port));
    let broadcast = SocketAddr::new(IpAddr::V4(Ipv4Addr::BROADCAST), options.port);
    let stop = options.stop.as_deref();
    if sleep_unless_stopped(options.first_delay, stop) {
        return Ok(());
    }
    for round in 0..options.rounds {
        if round > 0 && sleep_unless_stopped(options.interval, stop) {
            return Ok(());
        }
        match unicast {
            Some(address) => {
                socket
                    .send_to(bytes, address)
                    .map_err(|source| UdpError::Send { address, source })?;
                if options.broadcast && address != broadcast {
                    if let Err(e) = socket.send_to(bytes, broadcast) {
                        log::debug!("ack broadcast to {broadcast} failed (ignored): {e}");
                    }
                }
            }
            None => {
                socket
                    .send_to(bytes, broadcast)
                    .map_err(|source| UdpError::Send {
                        address: broadcast,
                        source,
                    })?;
            }
        }
    }
    log::debug!("sent {} ack rounds", options.rounds);
    Ok(())
}

/// Sleeps for `duration` in slices of at most [`POLL`]; true if `stop` was set.
fn sleep_unless_stopped(duration: Duration, stop: Option<&AtomicBool>) -> bool {
    let stopped = || stop.is_some_and(|flag| flag.load(Ordering::SeqCst));
    let start = Instant::now();
    loop {
        if stopped() {
            return true;
        }
        let left = duration.saturating_sub(start.elapsed());
        if left.is_zero() {
            return false;
        }
        std::thread::sleep(left.min(POLL));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wifiprov_esptouch::v1::{Config, GUIDE};

    /// Whole guide quartets only: a magic quartet starting with 1 (total length 16 to 31) is
    /// not guide.
    #[test]
    fn the_airkiss_guide_prefix_counts_whole_quartets() {
        let mut cycle = [1, 2, 3, 4].repeat(3);
        cycle.extend_from_slice(&[1, 0x17, 0x28, 0x31, 0x40]);
        assert_eq!(guide_prefix(&cycle), 12);
        assert_eq!(guide_prefix(&[1, 2, 3]), 0);
        assert_eq!(guide_prefix(&[0x08, 0x17, 0x2e, 0x34]), 0);
    }

    fn triplets(n: u16) -> Vec<[u16; 3]> {
        (0..n).map(|i| [40 + i, 296 + i, 100 + i]).collect()
    }

    fn broadcast() -> Destination {
        Destination::Address(Ipv4Addr::BROADCAST)
    }

    /// The spec §1.7 example: "TestAP" / "12345678", aa:bb:cc:dd:ee:ff, 192.168.1.100.
    fn test_ap() -> Encoder {
        Encoder::new(&Config::new(
            b"TestAP",
            b"12345678",
            [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff],
            [192, 168, 1, 100],
        ))
        .unwrap()
    }

    /// Bursts of an ideal-clock run: (start time, burst).
    fn simulate_bursts(mut schedule: Schedule, until: Duration) -> Vec<(Duration, Burst)> {
        let gap = schedule.timing().gap;
        let mut at = Duration::ZERO;
        let mut out = Vec::new();
        while at < until {
            let Some(burst) = schedule.next_burst(at) else {
                break;
            };
            let len = u32::try_from(burst.lengths.len()).unwrap();
            out.push((at, burst));
            at += gap * len;
        }
        out
    }

    #[test]
    fn guide_phase_has_63_quartets_at_8_ms_per_datagram() {
        let schedule = Schedule::new(&GUIDE, triplets(10), broadcast(), Timing::default());
        let bursts = simulate_bursts(schedule, Duration::from_millis(6000));
        let guides = bursts.iter().take_while(|(_, b)| b.guide).count();
        // Quartets start at 0, 32, …, 1984 ms: ceil(2000 / 32) = 63.
        assert_eq!(guides, 2000_usize.div_ceil(4 * 8));
        assert!(bursts.iter().skip(guides).all(|(_, b)| !b.guide));
        assert!(
            bursts
                .iter()
                .all(|(_, b)| b.lengths.len() == if b.guide { 4 } else { 3 })
        );
        let (first_data_at, first_data) = &bursts[guides];
        assert_eq!(*first_data_at, Duration::from_millis(63 * 32));
        assert!(first_data.phase_start && first_data.position == Some(0));
    }

    #[test]
    fn second_guide_phase_starts_six_seconds_after_the_first() {
        let schedule = Schedule::new(&GUIDE, triplets(10), broadcast(), Timing::default());
        let bursts = simulate_bursts(schedule, Duration::from_millis(13_000));
        let starts: Vec<Duration> = bursts
            .iter()
            .filter(|(_, b)| b.guide && b.phase_start)
            .map(|(at, _)| *at)
            .collect();
        // Data steps are 24 ms: the first step at or after 6000 ms starts the next cycle.
        assert_eq!(starts.len(), 3);
        assert_eq!(starts[0], Duration::ZERO);
        for pair in starts.windows(2) {
            let cycle = pair[1] - pair[0];
            assert!(
                cycle >= Duration::from_millis(6000) && cycle < Duration::from_millis(6024),
                "{cycle:?}"
            );
        }
    }

    #[test]
    fn data_positions_continue_across_phases_and_wrap() {
        let schedule = Schedule::new(&GUIDE, triplets(7), broadcast(), Timing::default());
        let bursts = simulate_bursts(schedule, Duration::from_millis(21_000));
        let positions: Vec<usize> = bursts.iter().filter_map(|(_, b)| b.position).collect();
        assert!(positions.len() > 3 * 7, "several data phases");
        for (k, &position) in positions.iter().enumerate() {
            assert_eq!(position, k % 7, "data step {k}");
        }
        for (_, b) in &bursts {
            if let Some(p) = b.position {
                assert_eq!(b.lengths, triplets(7)[p].to_vec());
            }
        }
        // Guide phases in between: each data phase resumes where the previous one stopped.
        let phases = bursts
            .iter()
            .filter(|(_, b)| !b.guide && b.phase_start)
            .count();
        assert_eq!(phases, 4);
    }

    #[test]
    fn reproduces_the_reference_stream_of_the_spec_example() {
        let encoder = test_ap();
        let schedule = Schedule::for_encoder(&encoder, broadcast(), Timing::default());
        let lengths: Vec<u16> = schedule
            .simulated()
            .take(63 * 4 + 20)
            .map(|(_, d)| d.len)
            .collect();
        assert!(lengths[..252].chunks(4).all(|q| q == [515, 514, 513, 512]));
        assert_eq!(
            lengths[252..],
            [
                169, 296, 79, 72, 297, 176, 294, 298, 76, 185, 299, 282, 292, 300, 147, 66, 319,
                162, 180, 301
            ]
        );
    }

    #[test]
    fn sending_stops_after_45_seconds() {
        let schedule = Schedule::new(&GUIDE, triplets(10), broadcast(), Timing::default());
        let all: Vec<(Duration, Datagram)> = schedule.simulated().collect();
        // 45000 / 8 datagrams, give or take the last burst.
        let count = all.len();
        assert!((5625..=5628).contains(&count), "{count}");
        // Only the rest of the last burst goes past the sending time.
        let late = all
            .iter()
            .filter(|(at, _)| *at >= Duration::from_millis(45_000))
            .count();
        assert!(late <= 3, "{late}");
    }

    #[test]
    fn stops_at_the_sending_time() {
        let timing = Timing {
            sending: Duration::from_millis(100),
            ..Timing::default()
        };
        let mut s = Schedule::new(&GUIDE, triplets(3), Destination::Multicast, timing);
        assert!(s.next_burst(Duration::from_millis(99)).is_some());
        assert!(s.next_burst(Duration::from_millis(100)).is_none());
        assert!(s.next_datagram(Duration::from_millis(100)).is_none());
    }

    #[test]
    fn datagrams_flatten_bursts_and_mark_phase_starts_once() {
        let timing = Timing::default();
        let bursts = simulate_bursts(
            Schedule::new(&GUIDE, triplets(5), Destination::Multicast, timing),
            Duration::from_millis(45_000),
        );
        let datagrams: Vec<(Duration, Datagram)> =
            Schedule::new(&GUIDE, triplets(5), Destination::Multicast, timing)
                .simulated()
                .collect();
        let flat: Vec<(u16, Ipv4Addr, bool)> = bursts
            .iter()
            .flat_map(|(_, b)| b.lengths.iter().map(|&len| (len, b.address, b.guide)))
            .collect();
        let got: Vec<(u16, Ipv4Addr, bool)> = datagrams
            .iter()
            .map(|(_, d)| (d.len, d.address, d.guide))
            .collect();
        assert_eq!(flat, got);
        let starts = datagrams.iter().filter(|(_, d)| d.phase_start).count();
        let burst_starts = bursts.iter().filter(|(_, b)| b.phase_start).count();
        assert_eq!(starts, burst_starts);
        // 45 s = 7.5 cycles: 8 guide and 8 data phases.
        assert_eq!(starts, 16);
    }

    #[test]
    fn a_burst_in_progress_completes_even_past_the_sending_time() {
        let timing = Timing {
            sending: Duration::from_millis(10),
            ..Timing::default()
        };
        let mut s = Schedule::new(&GUIDE, triplets(3), broadcast(), timing);
        assert_eq!(s.next_datagram(Duration::ZERO).unwrap().len, 515);
        for len in [514, 513, 512] {
            assert_eq!(s.next_datagram(Duration::from_secs(1)).unwrap().len, len);
        }
        assert!(s.next_datagram(Duration::from_secs(1)).is_none());
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
        let datagrams: Vec<Datagram> = Schedule::new(
            &GUIDE,
            triplets(3),
            Destination::Multicast,
            Timing::default(),
        )
        .simulated()
        .take(4 * 63 + 3 * 2)
        .map(|(_, d)| d)
        .collect();
        // All four datagrams of a quartet share a group, then the next group.
        assert!(
            datagrams[..4]
                .iter()
                .all(|d| d.address == Ipv4Addr::new(234, 1, 1, 1))
        );
        assert_eq!(datagrams[4].address, Ipv4Addr::new(234, 2, 2, 2));
        // Triplets too: bursts 63 and 64 are the first two data triplets.
        let data = &datagrams[4 * 63..];
        assert!(
            data[..3]
                .iter()
                .all(|d| d.address == Ipv4Addr::new(234, 64, 64, 64))
        );
        assert!(
            data[3..]
                .iter()
                .all(|d| d.address == Ipv4Addr::new(234, 65, 65, 65))
        );
    }

    #[test]
    fn empty_data_sends_guide_only_and_empty_guide_ends() {
        let mut guide_only = Schedule::new(&GUIDE, Vec::new(), broadcast(), Timing::default());
        assert!(
            guide_only
                .next_burst(Duration::from_millis(3000))
                .unwrap()
                .guide
        );
        let mut nothing = Schedule::new(&[], triplets(2), broadcast(), Timing::default());
        assert!(nothing.next_datagram(Duration::ZERO).is_none());
    }

    #[test]
    fn options_from_the_encoder_validate_and_bad_ones_do_not() {
        let options = V1SendOptions::for_encoder(&test_ap());
        assert_eq!(options.token, 23);
        assert_eq!(options.triplets.len(), 29);
        assert_eq!(options.triplets[0], [169, 296, 79]);
        options.validate().unwrap();
        for bad in [
            V1SendOptions {
                guide: Vec::new(),
                ..options.clone()
            },
            V1SendOptions {
                triplets: Vec::new(),
                ..options.clone()
            },
            V1SendOptions {
                port: 0,
                ..options.clone()
            },
            V1SendOptions {
                timing: Timing {
                    cycle: Duration::from_millis(2000),
                    ..Timing::default()
                },
                ..options.clone()
            },
            V1SendOptions {
                guide: vec![u16::MAX],
                ..options.clone()
            },
        ] {
            assert!(matches!(bad.validate(), Err(UdpError::InvalidOptions(_))));
        }
    }

    #[test]
    fn loopback_has_an_address_and_unknown_interfaces_are_named() {
        assert_eq!(interface_ipv4("lo").unwrap(), Ipv4Addr::LOCALHOST);
        assert!(matches!(
            interface_ipv4("nonexistent0"),
            Err(UdpError::NoSuchInterface(name)) if name == "nonexistent0"
        ));
        assert!(matches!(
            check_interface(Some("")),
            Err(UdpError::NoSuchInterface(_))
        ));
        assert!(check_interface(Some("lo")).is_ok());
        if let Ok((name, ip)) = default_ipv4() {
            assert_ne!(name, "lo");
            assert!(!ip.is_loopback());
        }
    }

    #[test]
    fn sleeping_returns_at_once_when_stopped() {
        let stop = AtomicBool::new(true);
        let start = Instant::now();
        assert!(sleep_unless_stopped(Duration::from_secs(10), Some(&stop)));
        assert!(start.elapsed() < Duration::from_secs(1));
        assert!(!sleep_unless_stopped(Duration::ZERO, None));
    }

    #[test]
    fn socket_errors_name_the_address_and_interface() {
        let e = UdpError::Socket {
            action: "binding",
            address: "0.0.0.0:18266".parse().unwrap(),
            iface: Some("wlan0".to_owned()),
            source: std::io::Error::from(std::io::ErrorKind::AddrInUse),
        };
        assert_eq!(e.to_string(), "binding (0.0.0.0:18266 on wlan0)");
        assert!(std::error::Error::source(&e).is_some());
    }
}
