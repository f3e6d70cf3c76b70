//! ESP-TOUCH v2 over UDP: the phone's sender (with the device-response listener) and the
//! device's response.
//!
//! The phone binds the first free port of [`APP_PORTS`] (its index, the *port mark*, goes into
//! the v2 header, so bind before encoding: [`bind_app_port`]), sends 1048-byte sync datagrams
//! every 100 ms for a moment, pauses 300 ms, then sends the pass over and over to the subnet
//! broadcast address, port 7001, 15 ms after each datagram and after each pass (100 ms after 45 s),
//! and stops after 90 s or when enough devices answered. A device answers with 7 bytes
//! (`port mark | station MAC`) broadcast to UDP `18266 + 10000 × mark` on the same app port the
//! phone sends from; the phone then sends `0x01` twice to the device's UDP 7002.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use wifiprov_esptouch::v2::{APP_PORTS, Ack, DEVICE_ACK_PORT, PHONE_ACK, SEND_PORT, SYNC};
use wifiprov_sniff::Mac;

use super::{
    AckOptions, Finish, PROGRESS_EVERY, UdpError, check_interface, is_timeout, send_repeated,
    sleep_unless_stopped, socket_error, udp_socket,
};

/// Binds the phone's app socket: the port of `mark` (0..=3) if given, else the first free one of
/// [`APP_PORTS`] as the reference app does. Returns the socket and its port mark.
///
/// # Errors
/// [`UdpError::InvalidOptions`] for a mark above 3, [`UdpError::NoSuchInterface`], or the
/// [`UdpError::Socket`] of the last port tried when none is free.
pub fn bind_app_port(iface: Option<&str>, mark: Option<u8>) -> Result<(UdpSocket, u8), UdpError> {
    check_interface(iface)?;
    let marks: Vec<u8> = match mark {
        Some(m) if usize::from(m) < APP_PORTS.len() => vec![m],
        Some(_) => return Err(UdpError::InvalidOptions("the port mark is 0..=3")),
        None => (0..4).collect(),
    };
    let mut last = None;
    for m in marks {
        let port = APP_PORTS
            .get(usize::from(m))
            .copied()
            .unwrap_or(APP_PORTS[0]);
        match udp_socket(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port), iface, false) {
            Ok(socket) => return Ok((socket, m)),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or(UdpError::InvalidOptions("no app port to try")))
}

/// Options of [`provision`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendOptions {
    /// One pass of UDP payload lengths (encoded with the app socket's port mark).
    pub pass: Vec<u16>,
    /// Destination: the subnet broadcast address (the reference app), or 255.255.255.255.
    pub destination: Ipv4Addr,
    /// Destination port (7001).
    pub port: u16,
    /// How long to send sync datagrams first (the app sends them while its form is open; 1 s).
    pub sync_time: Duration,
    /// Between sync datagrams (100 ms).
    pub sync_gap: Duration,
    /// Pause between sync and data (300 ms).
    pub pause: Duration,
    /// After every datagram and every pass (15 ms).
    pub gap: Duration,
    /// After this long the gap becomes `slow_gap` (45 s).
    pub slow_after: Duration,
    /// The later gap (100 ms).
    pub slow_gap: Duration,
    /// Overall time limit (90 s).
    pub timeout: Duration,
    /// Stop after this many distinct devices (1; 0 = until the timeout).
    pub devices: usize,
    /// Send the phone's `0x01` twice to each new device's UDP 7002 (on).
    pub phone_ack: bool,
    /// Interface the app socket is bound to (for error messages; the socket is already bound).
    pub iface: Option<String>,
}

impl SendOptions {
    /// The reference schedule for `pass`, to 255.255.255.255.
    #[must_use]
    pub fn new(pass: Vec<u16>) -> Self {
        Self {
            pass,
            destination: Ipv4Addr::BROADCAST,
            port: SEND_PORT,
            sync_time: Duration::from_secs(1),
            sync_gap: Duration::from_millis(100),
            pause: Duration::from_millis(300),
            gap: Duration::from_millis(15),
            slow_after: Duration::from_secs(45),
            slow_gap: Duration::from_millis(100),
            timeout: Duration::from_secs(90),
            devices: 1,
            phone_ack: true,
            iface: None,
        }
    }
}

/// A device that answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Device {
    /// Where the response came from (the device's address).
    pub from: SocketAddr,
    /// Its station MAC.
    pub mac: Mac,
    /// The port mark it echoed.
    pub port_mark: u8,
    /// When it first answered, since sending started.
    pub after: Duration,
}

/// What [`provision`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// Sync datagrams start.
    Sync,
    /// The pass starts (after the sync phase and the pause).
    Data,
    /// Periodic progress (at most 4 per second).
    Progress {
        /// Datagrams sent.
        datagrams: u64,
        /// Passes completed.
        passes: u64,
        /// Time since the start.
        elapsed: Duration,
    },
    /// A new device answered (each MAC once).
    Device(Device),
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

/// Sends ESP-TOUCH v2 from `socket` (see [`bind_app_port`]) with the reference schedule and
/// collects the devices' responses on it until enough devices answered, the timeout passed or
/// `stop` was set. Returns the devices in the order they answered.
///
/// # Errors
/// [`UdpError::InvalidOptions`] (empty pass, port 0), [`UdpError::Socket`],
/// [`UdpError::Send`] or [`UdpError::Receive`].
pub fn provision(
    socket: &UdpSocket,
    options: &SendOptions,
    stop: &AtomicBool,
    mut events: impl FnMut(Event),
) -> Result<Vec<Device>, UdpError> {
    if options.pass.is_empty() {
        return Err(UdpError::InvalidOptions("the ESP-TOUCH v2 pass is empty"));
    }
    if options.port == 0 {
        return Err(UdpError::InvalidOptions("the destination port is 0"));
    }
    let local = match socket.local_addr() {
        Ok(SocketAddr::V4(a)) => a,
        _ => SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0),
    };
    let iface = options.iface.as_deref();
    socket
        .set_nonblocking(true)
        .map_err(socket_error("setting O_NONBLOCK", local, iface))?;
    // The reference app sends its sync datagrams from another (ephemeral) socket.
    let sync_socket = udp_socket(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0), iface, false)?;
    let longest = options.pass.iter().copied().max().unwrap_or(0).max(SYNC);
    let payload = vec![0u8; usize::from(longest)];
    let destination = SocketAddr::V4(SocketAddrV4::new(options.destination, options.port));
    let send = |from: &UdpSocket, len: u16| {
        let body = payload.get(..usize::from(len)).unwrap_or_default();
        from.send_to(body, destination)
            .map(|_| ())
            .map_err(|source| UdpError::Send {
                address: destination,
                source,
            })
    };
    let started = Instant::now();
    let mut run = Run {
        socket,
        local,
        options,
        started,
        devices: Vec::new(),
        buffer: [0u8; 64],
    };
    let mut datagrams = 0u64;
    let mut passes = 0u64;
    let mut last_progress = started;
    events(Event::Sync);
    let finish = 'run: {
        while started.elapsed() < options.sync_time {
            if let Some(finish) = run.poll(stop, &mut events)? {
                break 'run finish;
            }
            send(&sync_socket, SYNC)?;
            datagrams += 1;
            if sleep_unless_stopped(options.sync_gap, Some(stop)) {
                break 'run Finish::Stopped;
            }
        }
        if sleep_unless_stopped(options.pause, Some(stop)) {
            break 'run Finish::Stopped;
        }
        events(Event::Data);
        loop {
            for &len in &options.pass {
                if let Some(finish) = run.poll(stop, &mut events)? {
                    break 'run finish;
                }
                send(socket, len)?;
                datagrams += 1;
                std::thread::sleep(run.gap());
                if last_progress.elapsed() >= PROGRESS_EVERY {
                    last_progress = Instant::now();
                    events(Event::Progress {
                        datagrams,
                        passes,
                        elapsed: started.elapsed(),
                    });
                }
            }
            passes += 1;
            std::thread::sleep(run.gap());
        }
    };
    events(Event::Done {
        datagrams,
        devices: run.devices.len(),
        finish,
    });
    Ok(run.devices)
}

struct Run<'a> {
    socket: &'a UdpSocket,
    local: SocketAddrV4,
    options: &'a SendOptions,
    started: Instant,
    devices: Vec<Device>,
    buffer: [u8; 64],
}

impl Run<'_> {
    fn gap(&self) -> Duration {
        if self.started.elapsed() >= self.options.slow_after {
            self.options.slow_gap
        } else {
            self.options.gap
        }
    }

    /// Reads every waiting response; `Some` when the run is over.
    fn poll(
        &mut self,
        stop: &AtomicBool,
        events: &mut impl FnMut(Event),
    ) -> Result<Option<Finish>, UdpError> {
        loop {
            match self.socket.recv_from(&mut self.buffer) {
                Ok((n, from)) => self.response(n, from, events),
                Err(e) if is_timeout(&e) => break,
                Err(source) => {
                    return Err(UdpError::Receive {
                        address: SocketAddr::V4(self.local),
                        source,
                    });
                }
            }
        }
        let options = self.options;
        Ok(
            if options.devices > 0 && self.devices.len() >= options.devices {
                Some(Finish::Devices)
            } else if stop.load(Ordering::SeqCst) {
                Some(Finish::Stopped)
            } else if self.started.elapsed() >= options.timeout {
                Some(Finish::Timeout)
            } else {
                None
            },
        )
    }

    fn response(&mut self, n: usize, from: SocketAddr, events: &mut impl FnMut(Event)) {
        let bytes = self.buffer.get(..n).unwrap_or_default();
        // Our own datagrams loop back on a broadcast-capable socket only to 7001, never here;
        // anything shorter than 7 bytes is not a response.
        let ack = match Ack::parse(bytes) {
            Ok(ack) => ack,
            Err(e) => {
                log::debug!("ignoring a datagram from {from}: {e}");
                return;
            }
        };
        if self.devices.iter().any(|d| d.mac == ack.mac) {
            return;
        }
        let device = Device {
            from,
            mac: ack.mac,
            port_mark: ack.port_mark,
            after: self.started.elapsed(),
        };
        self.devices.push(device);
        if self.options.phone_ack {
            let to = SocketAddr::new(from.ip(), DEVICE_ACK_PORT);
            for _ in 0..2 {
                if let Err(e) = self.socket.send_to(&PHONE_ACK, to) {
                    log::debug!("phone ack to {to} failed (ignored): {e}");
                }
            }
        }
        events(Event::Device(device));
    }
}

/// The device's response, as ESP-IDF sends it: `port mark | station MAC` broadcast to
/// 255.255.255.255 on `18266 + 10000 × mark` (a mark above 3 as 0), `options.rounds` times
/// `options.interval` apart after `options.first_delay`. `options.port` is ignored (the mark
/// decides); `options.broadcast` is implied.
///
/// # Errors
/// As [`send_v1_ack`](super::send_v1_ack).
pub fn send_ack(ack: &Ack, options: &AckOptions) -> Result<(), UdpError> {
    let options = AckOptions {
        port: ack.port(),
        ..options.clone()
    };
    send_repeated(&ack.emit(), None, &options)
}

/// Where the response of [`send_ack`] goes.
#[must_use]
pub fn ack_destination(ack: &Ack) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::BROADCAST), ack.port())
}
