//! The Linux device daemon: sniff (hopping channels until a decoder locks), decode, return to
//! managed mode, join, wait for an address, acknowledge — and go back to listening if joining
//! fails. It reports every state change as an [`Event`].
//!
//! On an interface without a wiphy (e.g. `lo` in the loopback demo) there is no radio to control
//! and no network to join: the daemon sniffs, decodes and acknowledges from the interface's own
//! address.

pub mod ap;
pub mod ble;
pub mod blufi;
pub mod nl80211;
pub mod nm;
pub mod radio;
pub mod softap;
pub mod store;
pub mod wpa;

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use wifiprov_esptouch::{v1, v2};
use wifiprov_sniff::Mac;
use wifiprov_sniff::hop::{Hopper, Tune};

use crate::capture::{CaptureError, LiveCapture};
use crate::front::{Decoded, Front, FrontExt as _, Method, Step};
use crate::udp::{AckOptions, UdpError, send_v1_ack};

/// How the device joins the decoded network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// wpa_supplicant through its control socket (started if not running).
    WpaSupplicant,
    /// NetworkManager over D-Bus: the interface is unmanaged while listening, then handed back
    /// and joined with `AddAndActivateConnection` (NetworkManager runs DHCP).
    NetworkManager,
}

/// How a device acknowledges an AirKiss provisioning (every sender matches the first byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AirkissAck {
    /// The classic form WeChat expects: the random byte alone, broadcast to UDP 10000, 30 times
    /// 50 ms apart.
    #[default]
    Byte,
    /// ESP-IDF's form (`smartconfig_ack.c`): learn the phone's address from its datagrams to
    /// UDP 10001 (at most 1.5 s), then the random byte and the station MAC (7 bytes) to the
    /// phone and to 255.255.255.255 on UDP 10000, 30 times 100 ms apart.
    EspIdf,
}

/// Daemon configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The Wi-Fi interface (or an Ethernet-framed one for the loopback demo).
    pub iface: String,
    /// Methods to listen for.
    pub methods: Vec<Method>,
    /// Join backend.
    pub backend: Backend,
    /// Where credentials are stored (0700 directory, 0600 file).
    pub state_dir: PathBuf,
    /// Channels to hop over (empty = 1..=13).
    pub channels: Vec<u8>,
    /// Dwell per channel while hopping.
    pub dwell: Duration,
    /// Give up listening after this long (`None` = never).
    pub listen_timeout: Option<Duration>,
    /// Association time limit.
    pub connect_timeout: Duration,
    /// DHCP time limit.
    pub dhcp_timeout: Duration,
    /// DHCP client command (`{iface}` replaced); `None` = wait for an address from elsewhere.
    pub dhcp_command: Option<String>,
    /// wpa_supplicant control directory.
    pub wpa_ctrl_dir: PathBuf,
    /// Send the ack after joining.
    pub ack: bool,
    /// Ack cadence.
    pub ack_options: AckOptions,
    /// The form of the AirKiss ack.
    pub airkiss_ack: AirkissAck,
    /// The ESP-TOUCH v2 decoder's settings, with the device's AES key if the phone encrypts
    /// (`esp_touch_v2_key`; its `Debug` never shows the key).
    pub esptouch_v2: v2::DecoderConfig,
    /// MAC to announce in the ack (default: the interface's).
    pub mac: Option<Mac>,
    /// IPv4 to announce (default: the interface's after joining).
    pub ip: Option<Ipv4Addr>,
    /// Stop after the first successful provisioning.
    pub once: bool,
}

impl Config {
    /// Defaults for `iface`.
    #[must_use]
    pub fn new(iface: &str) -> Self {
        Self {
            iface: iface.to_owned(),
            methods: vec![Method::EsptouchV1],
            backend: Backend::WpaSupplicant,
            state_dir: PathBuf::from("/var/lib/wifiprov"),
            channels: Vec::new(),
            dwell: Duration::from_millis(100),
            listen_timeout: None,
            connect_timeout: Duration::from_secs(20),
            dhcp_timeout: Duration::from_secs(20),
            dhcp_command: None,
            wpa_ctrl_dir: PathBuf::from("/run/wpa_supplicant"),
            ack: true,
            ack_options: AckOptions::default(),
            airkiss_ack: AirkissAck::Byte,
            esptouch_v2: v2::DecoderConfig::default(),
            mac: None,
            ip: None,
            once: true,
        }
    }
}

/// Something to run before a served device (BLE, BluFi) joins: the sniffing daemon beside it
/// gives the Wi-Fi interface back first.
#[derive(Clone, Default)]
pub struct BeforeJoin(Option<std::sync::Arc<dyn Fn() + Send + Sync>>);

impl BeforeJoin {
    /// Runs `f` before each join.
    #[must_use]
    pub fn new(f: impl Fn() + Send + Sync + 'static) -> Self {
        Self(Some(std::sync::Arc::new(f)))
    }

    /// Runs it, if set.
    pub fn run(&self) {
        if let Some(f) = &self.0 {
            f();
        }
    }
}

impl std::fmt::Debug for BeforeJoin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "BeforeJoin(set)"
        } else {
            "BeforeJoin(none)"
        })
    }
}

/// What provisioned the device when sniffing and Bluetooth ran side by side.
#[derive(Debug)]
pub enum Beside {
    /// A sniffing method.
    Sniffed(Box<Provisioned>),
    /// `ble` or `blufi`.
    Served(&'static str, softap::SoftApProvisioned),
}

/// Runs the sniffing daemon and the Bluetooth device(s) side by side until one of them
/// provisions, or `stop` is set. The networks are scanned once, before sniffing starts. When a
/// Bluetooth client sends credentials, sniffing stops for good (the interface leaves monitor
/// mode) before the device joins; the Bluetooth side stays provisionable after a failed join.
///
/// # Errors
/// The first real [`DaemonError`] if nothing provisions.
pub fn run_beside_ble(
    sniffing: &Config,
    ble: Option<&ble::BleConfig>,
    blufi: Option<&blufi::BlufiConfig>,
    stop: &AtomicBool,
    events: impl FnMut(&Event) + Send,
) -> Result<Beside, DaemonError> {
    use std::sync::atomic::Ordering;
    use std::sync::{Arc, Mutex};

    let scanned = if radio::is_wireless(&sniffing.iface) {
        softap::scan(&sniffing.iface)
    } else {
        Vec::new()
    };
    let sniff_stop = Arc::new(AtomicBool::new(false));
    let sniff_done = Arc::new(AtomicBool::new(false));
    let served_stop = AtomicBool::new(false);
    let finished = AtomicBool::new(false);
    let hand_over = {
        let (sniff_stop, sniff_done) = (Arc::clone(&sniff_stop), Arc::clone(&sniff_done));
        BeforeJoin::new(move || {
            sniff_stop.store(true, Ordering::SeqCst);
            while !sniff_done.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let ble = ble.map(|c| {
        let mut c = c.clone();
        c.scan_results.get_or_insert_with(|| scanned.clone());
        c.before_join = hand_over.clone();
        c
    });
    let blufi = blufi.map(|c| {
        let mut c = c.clone();
        c.scan_results.get_or_insert_with(|| scanned.clone());
        c.before_join = hand_over.clone();
        c
    });
    let events = Mutex::new(events);
    let report = |event: &Event| {
        let mut events = events
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        events(event);
    };
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !finished.load(Ordering::SeqCst) {
                if stop.load(Ordering::SeqCst) {
                    sniff_stop.store(true, Ordering::SeqCst);
                    served_stop.store(true, Ordering::SeqCst);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        let sniffer = scope.spawn(|| {
            let result = run(sniffing, &sniff_stop, report);
            sniff_done.store(true, Ordering::SeqCst);
            if result.is_ok() {
                served_stop.store(true, Ordering::SeqCst);
            }
            result
        });
        let served = match (&ble, &blufi) {
            (Some(ble), Some(blufi)) => ble::run_with_blufi(ble, blufi, &served_stop, report),
            (Some(ble), None) => ble::run(ble, &served_stop, report).map(|done| ("ble", done)),
            (None, Some(blufi)) => {
                blufi::run(blufi, &served_stop, report).map(|done| ("blufi", done))
            }
            (None, None) => Err(DaemonError::Stopped),
        };
        // Served or failed for good: sniffing ends too.
        sniff_stop.store(true, Ordering::SeqCst);
        let sniffed = sniffer.join().unwrap_or(Err(DaemonError::Stopped));
        finished.store(true, Ordering::SeqCst);
        match (sniffed, served) {
            (Ok(done), _) => Ok(Beside::Sniffed(Box::new(done))),
            (_, Ok((method, done))) => Ok(Beside::Served(method, done)),
            (Err(DaemonError::Stopped), Err(e)) | (Err(e), _) => Err(e),
        }
    })
}

/// A state change (the `--json` event stream and the hook are made of these).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Sniffing (hopping or, on a wired interface, fixed).
    Listening {
        /// Wireless (hopping) or the wired demo.
        hopping: bool,
        /// How channels are changed while hopping: `"nl80211"` (a netlink socket) or `"iw"`.
        tuner: Option<&'static str>,
    },
    /// A decoder locked on a phone.
    Locked {
        /// Method.
        method: Method,
        /// Channel.
        channel: u8,
        /// The phone.
        sender: Mac,
        /// Its BSSID.
        bssid: Mac,
    },
    /// Decoding progress.
    Progress {
        /// Units known.
        have: u16,
        /// Units needed.
        need: Option<u16>,
    },
    /// ESP-TOUCH v2 credentials arrived encrypted and could not be opened: no key is configured
    /// (`key_wrong` false) or the configured key is not the phone's (`key_wrong` true). Not
    /// provisioned; listening goes on.
    Sealed {
        /// The configured key does not open the data (else: no key configured).
        key_wrong: bool,
        /// The SSID (never encrypted).
        ssid: Vec<u8>,
        /// The phone.
        sender: Mac,
    },
    /// Verified credentials (the event carries no password).
    Credentials {
        /// The result.
        decoded: Decoded,
    },
    /// Joining the network.
    Joining {
        /// SSID bytes.
        ssid: Vec<u8>,
    },
    /// Joined with an address.
    Joined {
        /// The device's IPv4 address.
        ip: Ipv4Addr,
    },
    /// Joining failed; back to listening.
    Failed {
        /// Why.
        reason: String,
    },
    /// Listening ended without credentials (stopped or timed out): what the decoders saw.
    Stopped {
        /// Why.
        reason: String,
        /// The decoders' diagnostic report (no data values).
        explain: String,
    },
    /// SoftAP: serving protocomm (and the portal), on the device's AP if it raised one.
    Serving {
        /// The HTTP address.
        address: std::net::SocketAddr,
        /// The AP's SSID (`None` in serve-only mode).
        ap_ssid: Option<Vec<u8>>,
        /// The AP's channel.
        ap_channel: Option<u8>,
        /// Security scheme.
        security: u8,
        /// Networks found by the scan before the AP went up.
        scanned: usize,
        /// The QR payload for the apps (JSON).
        qr: String,
    },
    /// BLE: advertising and serving protocomm over GATT (or BluFi).
    Advertising {
        /// `ble` (protocomm) or `blufi`.
        method: &'static str,
        /// The adapter's Bluetooth address.
        address: String,
        /// The advertised name.
        name: String,
        /// Security scheme (protocomm) or crypto generation (BluFi: 1 legacy, 2 ffdhe3072).
        security: u8,
        /// Networks found by the scan before serving.
        scanned: usize,
        /// The QR payload for the apps (JSON; empty for BluFi).
        qr: String,
    },
    /// SoftAP: a client started a session (or a second one was refused, `busy`).
    Session {
        /// The client.
        peer: String,
        /// Refused (503) because another client's session is in use.
        busy: bool,
    },
    /// SoftAP: the client completed the security handshake.
    Established {
        /// The client.
        peer: String,
    },
    /// SoftAP: a request failed (wrong proof, bad message, oversized body): the connection was
    /// closed without a response, as ESP-IDF does.
    Rejected {
        /// The client.
        peer: String,
        /// The endpoint.
        endpoint: String,
        /// Why.
        reason: String,
    },
    /// SoftAP: credentials received and applied (no password in the event).
    Received {
        /// SSID bytes.
        ssid: Vec<u8>,
        /// `softap` (protocomm) or `portal`.
        via: &'static str,
    },
    /// SoftAP: a custom endpoint was called.
    Custom {
        /// Endpoint.
        endpoint: String,
        /// Request length.
        len: usize,
    },
    /// SoftAP: the client read the final Connected status.
    Done,
    /// The ack went out.
    AckSent {
        /// To this phone address.
        phone: Ipv4Addr,
        /// Rounds sent.
        rounds: u32,
    },
}

/// Why joining failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JoinError {
    /// The AP rejected the key (4-way handshake failed).
    #[error("wrong password (the 4-way handshake failed)")]
    WrongPassword,
    /// No AP with this SSID was found.
    #[error("network not found")]
    NetworkNotFound,
    /// Associated, but no IPv4 address arrived.
    #[error("no IPv4 address from DHCP within {0} s")]
    NoAddress(u64),
    /// Nothing conclusive happened in time.
    #[error("not connected within {0} s")]
    Timeout(u64),
    /// The password cannot be used as a WPA passphrase or PSK.
    #[error("the password is {0} bytes: a WPA passphrase has 8..=63, a PSK 64 hex digits")]
    InvalidPassword(usize),
    /// wpa_supplicant could not be reached or started.
    #[error("wpa_supplicant: {0}")]
    Supplicant(String),
    /// NetworkManager could not be reached or refused the request.
    #[error("NetworkManager: {0}")]
    NetworkManager(String),
}

/// Daemon failure (not a failed join: that is an [`Event::Failed`] and the daemon goes on).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DaemonError {
    /// Capture failed.
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// Radio control failed.
    #[error(transparent)]
    Radio(#[from] radio::RadioError),
    /// The ack could not be sent.
    #[error(transparent)]
    Ack(#[from] UdpError),
    /// The credential store failed.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// The join backend is unusable (e.g. NetworkManager is not running).
    #[error(transparent)]
    Backend(JoinError),
    /// The SoftAP access point failed.
    #[error(transparent)]
    AccessPoint(#[from] ap::ApError),
    /// The SoftAP HTTP server could not listen.
    #[error("cannot serve on {address}: {source}")]
    Serve {
        /// The address.
        address: std::net::SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// Bluetooth (bluetoothd, the adapter, GATT registration) failed.
    #[error("bluetooth: {0}")]
    Ble(crate::ble::BleError),
    /// The protocomm configuration is invalid (salt/verifier, endpoint names).
    #[error("protocomm configuration: {0}")]
    Protocomm(wifiprov_protocomm::Error),
    /// Listening timed out.
    #[error("no credentials within {0} s")]
    ListenTimeout(u64),
    /// Stopped by the caller.
    #[error("stopped")]
    Stopped,
}

/// The outcome of a provisioning round.
#[derive(Debug)]
pub struct Provisioned {
    /// What was decoded.
    pub decoded: Decoded,
    /// The device's address (for the wired demo: the interface's).
    pub ip: Ipv4Addr,
    /// Time from start (or the previous failure) to the lock.
    pub lock_after: Option<Duration>,
    /// Time to credentials.
    pub credentials_after: Duration,
    /// Time to joined.
    pub joined_after: Option<Duration>,
}

/// Runs the daemon until provisioned (with `once`), the listen timeout passes, or `stop` is set.
///
/// # Errors
/// A [`DaemonError`]; the interface is returned to managed mode on every exit path.
pub fn run(
    config: &Config,
    stop: &AtomicBool,
    mut events: impl FnMut(&Event),
) -> Result<Provisioned, DaemonError> {
    let wireless = radio::is_wireless(&config.iface);
    let store = store::Store::open(&config.state_dir)?;
    // Reach NetworkManager before listening: a missing backend is an error now, not after the
    // phone has sent everything.
    let manager = match config.backend {
        Backend::NetworkManager if wireless => {
            Some(nm::NetworkManager::connect(&config.iface).map_err(DaemonError::Backend)?)
        }
        _ => None,
    };
    let started = Instant::now();
    loop {
        let round_start = Instant::now();
        let sniffed = if wireless {
            if let Some(manager) = &manager {
                manager
                    .set_managed(false, config.connect_timeout)
                    .map_err(DaemonError::Backend)?;
            }
            let result = radio::set_monitor(&config.iface)
                .map_err(DaemonError::from)
                .and_then(|()| sniff(config, true, stop, started, &mut events));
            // Never leave the interface in monitor mode, nor taken away from NetworkManager.
            let restored = radio::set_managed(&config.iface);
            let handed_back = manager.as_ref().map_or(Ok(()), |manager| {
                manager.set_managed(true, config.connect_timeout)
            });
            let sniffed = result?;
            restored?;
            handed_back.map_err(DaemonError::Backend)?;
            sniffed
        } else {
            sniff(config, false, stop, started, &mut events)?
        };
        let (decoded, lock_after) = sniffed;
        let credentials_after = round_start.elapsed();
        events(&Event::Credentials {
            decoded: decoded.clone(),
        });
        store.save(&store::Stored {
            method: decoded.method().name().to_owned(),
            ssid_hex: hex(decoded.ssid()),
            password_hex: hex(decoded.password()),
            bssid: decoded.bssid().map(|b| format_mac(&b)),
            reserved_hex: match &decoded {
                Decoded::EsptouchV2(c) => Some(hex(c.credentials.reserved())),
                _ => None,
            },
        })?;
        let (ip, joined_after) = if wireless {
            events(&Event::Joining {
                ssid: decoded.ssid().to_vec(),
            });
            let joined = join_network(
                config,
                manager.as_ref(),
                decoded.ssid(),
                decoded.password(),
                Some(decoded.channel()),
                decoded.bssid(),
            );
            match joined {
                Ok(ip) => (ip, Some(round_start.elapsed())),
                Err(reason) => {
                    events(&Event::Failed {
                        reason: reason.to_string(),
                    });
                    continue;
                }
            }
        } else {
            let ip = config
                .ip
                .or_else(|| crate::udp::interface_ipv4(&config.iface).ok())
                .unwrap_or(Ipv4Addr::UNSPECIFIED);
            (ip, None)
        };
        events(&Event::Joined { ip });
        if config.ack {
            acknowledge(config, &decoded, ip, &mut events)?;
        }
        let provisioned = Provisioned {
            decoded,
            ip,
            lock_after,
            credentials_after,
            joined_after,
        };
        if config.once || stop.load(Ordering::SeqCst) {
            return Ok(provisioned);
        }
    }
}

fn sniff(
    config: &Config,
    hopping: bool,
    stop: &AtomicBool,
    started: Instant,
    events: &mut impl FnMut(&Event),
) -> Result<(Decoded, Option<Duration>), DaemonError> {
    let mut capture = LiveCapture::open(&config.iface, Duration::from_millis(20))?;
    let mut front = Front::new(&config.methods, true).with_v2_config(config.esptouch_v2);
    let mut hopper = Hopper::new(
        &config.channels,
        u64::try_from(config.dwell.as_millis()).unwrap_or(100),
    );
    let mut hop_clock = HopClock::default();
    let mut tuner = hopping.then(|| radio::Tuner::new(&config.iface));
    let round = Instant::now();
    let mut lock_after = None;
    let mut last_have = None;
    let mut last_progress: Option<Instant> = None;
    events(&Event::Listening {
        hopping,
        tuner: tuner
            .as_ref()
            .map(|t| if t.uses_netlink() { "nl80211" } else { "iw" }),
    });
    loop {
        let ended = if stop.load(Ordering::SeqCst) {
            Some(DaemonError::Stopped)
        } else {
            config
                .listen_timeout
                .filter(|&limit| started.elapsed() >= limit)
                .map(|limit| DaemonError::ListenTimeout(limit.as_secs()))
        };
        if let Some(error) = ended {
            events(&Event::Stopped {
                reason: error.to_string(),
                explain: front.explain(),
            });
            return Err(error);
        }
        if let Some(tuner) = tuner.as_mut() {
            if hopper.is_locked() && !front.is_locked() {
                hopper.unlock(hop_clock.now(capture.now()));
                lock_after = None;
            }
            if let Tune::Channel(channel) = hopper.poll(hop_clock.now(capture.now())) {
                let before = capture.now();
                tuner.set_channel(channel)?;
                hop_clock.retuned(before, capture.now());
                capture.set_channel(channel);
            }
        }
        let Some(record) = capture.next_record()? else {
            // Time-based decoder decisions also happen on a silent channel (or one of beacons
            // only). Only with the queue empty: records carry the kernel's receive time, and
            // queued ones must not be judged late by the time of reading.
            front.tick(capture.now());
            continue;
        };
        let step = front.feed_record(&record);
        if let Some(channel) = front.take_hint() {
            hopper.linger(
                channel,
                hop_clock.now(capture.now()),
                wifiprov_front::LINGER_MS,
            );
        }
        match step {
            Step::Complete(decoded) => return Ok((decoded, lock_after)),
            Step::Sealed(outcome) => {
                events(&Event::Sealed {
                    key_wrong: matches!(outcome, v2::Outcome::KeyWrong(_)),
                    ssid: outcome.ssid().to_vec(),
                    sender: outcome.sender(),
                });
                // Hop again: another phone (or this one, restarted with the key) may come.
                if hopping && !front.is_locked() {
                    hopper.unlock(hop_clock.now(capture.now()));
                    lock_after = None;
                }
            }
            Step::Locked {
                method,
                channel,
                sender,
                bssid,
            } => {
                hopper.lock(channel);
                lock_after = Some(round.elapsed());
                events(&Event::Locked {
                    method,
                    channel: hopper.channel(),
                    sender,
                    bssid,
                });
            }
            // At most four progress events a second.
            Step::Collecting { have, need, .. }
                if last_have != Some(have)
                    && last_progress.is_none_or(|t| t.elapsed() >= Duration::from_millis(250)) =>
            {
                last_have = Some(have);
                last_progress = Some(Instant::now());
                events(&Event::Progress { have, need });
            }
            _ => {}
        }
    }
}

/// The hopper's clock: the capture's time minus the time spent retuning. Retuning runs `iw`,
/// which under load (a busy host, a channel full of traffic) can take longer than a dwell; on the
/// capture's own clock the next retune would then be due the moment the last one finished, and
/// the radio would listen on no channel at all. On this clock every channel gets its whole dwell
/// of listening.
#[derive(Debug, Default, Clone, Copy)]
struct HopClock {
    retuning_ms: u64,
}

impl HopClock {
    /// `capture_now` on the hopper's clock.
    fn now(self, capture_now: wifiprov_sniff::Instant) -> wifiprov_sniff::Instant {
        wifiprov_sniff::Instant::from_millis(
            capture_now.as_millis().saturating_sub(self.retuning_ms),
        )
    }

    /// A retune ran from `before` to `after` (capture time).
    fn retuned(&mut self, before: wifiprov_sniff::Instant, after: wifiprov_sniff::Instant) {
        self.retuning_ms = self.retuning_ms.saturating_add(after.millis_since(before));
    }
}

/// Joins `ssid` with the configured backend on `config.iface` (NetworkManager if `manager`).
pub(crate) fn join_network(
    config: &Config,
    manager: Option<&nm::NetworkManager>,
    ssid: &[u8],
    password: &[u8],
    channel: Option<u8>,
    bssid: Option<Mac>,
) -> Result<Ipv4Addr, JoinError> {
    if let Some(manager) = manager {
        let options = nm::JoinOptions {
            connect_timeout: config.connect_timeout,
            dhcp_timeout: config.dhcp_timeout,
            bssid,
        };
        return manager
            .join(ssid, password, &options)
            .map(|joined| joined.ip);
    }
    let supplicant =
        wpa::Supplicant::ensure(&config.iface, &config.wpa_ctrl_dir, &config.state_dir)?;
    let options = wpa::JoinOptions {
        ctrl_dir: config.wpa_ctrl_dir.clone(),
        local_dir: config.state_dir.clone(),
        connect_timeout: config.connect_timeout,
        dhcp_timeout: config.dhcp_timeout,
        dhcp_command: config.dhcp_command.clone(),
        channel: channel.filter(|&c| c != 0),
    };
    match wpa::join(&config.iface, &supplicant, ssid, password, &options) {
        Ok(joined) => {
            // Dropping the handles does not stop the processes: the DHCP client keeps the lease
            // and wpa_supplicant the association.
            drop(joined.dhcp);
            drop(supplicant);
            Ok(joined.ip)
        }
        Err(e) => {
            supplicant.release(&config.state_dir);
            Err(e)
        }
    }
}

fn acknowledge(
    config: &Config,
    decoded: &Decoded,
    ip: Ipv4Addr,
    events: &mut impl FnMut(&Event),
) -> Result<(), DaemonError> {
    match decoded {
        Decoded::EsptouchV1(credentials) => {
            let mac = config
                .mac
                .or_else(|| radio::mac_address(&config.iface))
                .unwrap_or([0; 6]);
            let ack = v1::Ack {
                token: credentials.total_len(),
                mac,
                ip: config.ip.unwrap_or(ip).octets(),
            };
            let phone = Ipv4Addr::from(credentials.phone_ip());
            let options = AckOptions {
                iface: radio::is_wireless(&config.iface)
                    .then(|| config.iface.clone())
                    .or_else(|| config.ack_options.iface.clone()),
                ..config.ack_options.clone()
            };
            send_v1_ack(&ack, phone, &options)?;
            events(&Event::AckSent {
                phone,
                rounds: options.rounds,
            });
        }
        Decoded::Airkiss(credentials) => {
            let iface = radio::is_wireless(&config.iface)
                .then(|| config.iface.clone())
                .or_else(|| config.ack_options.iface.clone());
            match config.airkiss_ack {
                AirkissAck::Byte => {
                    // The classic 1-byte ack, broadcast to UDP 10000 (WeChat's senders wait for
                    // 20+).
                    let ack = wifiprov_airkiss::ack::Ack {
                        random: credentials.random(),
                        mac: None,
                    };
                    let options = AckOptions {
                        port: wifiprov_airkiss::ack::ACK_PORT,
                        rounds: wifiprov_airkiss::ack::ACK_ROUNDS,
                        interval: std::time::Duration::from_millis(50),
                        iface,
                        ..config.ack_options.clone()
                    };
                    crate::udp::send_airkiss_ack(&ack, &options)?;
                    events(&Event::AckSent {
                        phone: Ipv4Addr::BROADCAST,
                        rounds: options.rounds,
                    });
                }
                AirkissAck::EspIdf => {
                    let mac = config
                        .mac
                        .or_else(|| radio::mac_address(&config.iface))
                        .unwrap_or([0; 6]);
                    let ack = wifiprov_airkiss::ack::Ack {
                        random: credentials.random(),
                        mac: Some(mac),
                    };
                    let options = AckOptions {
                        port: wifiprov_airkiss::ack::ACK_PORT,
                        rounds: wifiprov_airkiss::ack::ACK_ROUNDS,
                        first_delay: std::time::Duration::ZERO,
                        iface,
                        ..config.ack_options.clone()
                    };
                    let phone = crate::udp::send_airkiss_ack_esp_idf(
                        &ack,
                        wifiprov_airkiss::ack::SEND_PORT,
                        std::time::Duration::from_millis(1500),
                        &options,
                    )?;
                    events(&Event::AckSent {
                        phone: phone.unwrap_or(Ipv4Addr::BROADCAST),
                        rounds: options.rounds,
                    });
                }
            }
        }
        Decoded::EsptouchV2(decoded) => {
            // ESP-IDF: port mark and station MAC, broadcast to 18266 + 10000 x mark, 30 x 100 ms.
            let mac = config
                .mac
                .or_else(|| radio::mac_address(&config.iface))
                .unwrap_or([0; 6]);
            let ack = v2::Ack::new(decoded.credentials.port_mark(), mac);
            let options = AckOptions {
                iface: radio::is_wireless(&config.iface)
                    .then(|| config.iface.clone())
                    .or_else(|| config.ack_options.iface.clone()),
                ..config.ack_options.clone()
            };
            crate::udp::v2::send_ack(&ack, &options)?;
            events(&Event::AckSent {
                phone: Ipv4Addr::BROADCAST,
                rounds: options.rounds,
            });
        }
    }
    Ok(())
}

/// Lowercase hex, no separators.
#[must_use]
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `aa:bb:cc:dd:ee:ff`.
#[must_use]
pub fn format_mac(mac: &Mac) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;
    use wifiprov_sniff::Instant as At;

    /// Simulates the sniffing loop for `total_ms` with retunes that cost `retune_ms` and reads
    /// that take 10 ms; returns the time spent listening on each channel (1..=13).
    fn listening(retune_ms: u64, total_ms: u64, use_clock: bool) -> [u64; 14] {
        let mut hopper = Hopper::new(&[], 100);
        let mut clock = HopClock::default();
        let mut listened = [0u64; 14];
        let mut channel = 0usize;
        let mut t = 0u64;
        while t < total_ms {
            let now = if use_clock {
                clock.now(At::from_millis(t))
            } else {
                At::from_millis(t)
            };
            if let Tune::Channel(c) = hopper.poll(now) {
                let before = At::from_millis(t);
                t += retune_ms;
                clock.retuned(before, At::from_millis(t));
                channel = usize::from(c);
                continue;
            }
            t += 10;
            if let Some(slot) = listened.get_mut(channel) {
                *slot += 10;
            }
        }
        listened
    }

    #[test]
    fn every_channel_gets_its_dwell_when_retuning_is_slower_than_the_dwell() {
        // A fast retune: both clocks give ~100 ms per visit.
        let fast = listening(5, 13 * 105 * 10, true);
        assert!(fast[1..].iter().all(|&ms| ms >= 900), "{fast:?}");
        // Retuning takes 150 ms (iw under load), longer than the 100-ms dwell.
        let slow = 13 * 250 * 10;
        let with_clock = listening(150, slow, true);
        assert!(
            with_clock[1..].iter().all(|&ms| ms >= 900),
            "ten visits of a whole dwell each: {with_clock:?}"
        );
        // On the capture's own clock the next retune is due at once: no listening anywhere.
        let without = listening(150, slow, false);
        assert!(without[1..].iter().all(|&ms| ms == 0), "{without:?}");
    }
}
