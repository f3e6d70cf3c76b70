//! The SoftAP device: scan, raise an AP (or, in serve-only mode, none), serve ESP-IDF protocomm
//! over HTTP (and optionally the captive portal), apply received credentials through a backend,
//! report the station state back to the client, and after a failure stay provisionable.
//!
//! Order of a run: scan for networks on the station interface (cached for `prov-scan` and the
//! portal) → raise the AP → serve → on credentials: store them (atomic, 0600), move the AP to the
//! network's channel if the radio has one channel for both (AP+STA), join → report Connected or
//! Failed(reason) → after the client read Connected (or the auto-stop time passed), stop.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use wifiprov_protocomm::device::{self as protocomm, Device};
use wifiprov_protocomm::wifi::{Action, Connected, FailReason, ScanEntry, Station};

use super::ap::{AccessPoint, ApConfig, ApError};
use super::{Config, DaemonError, Event, JoinError, format_mac, hex, nm, radio, store};
use crate::http;
use crate::portal::{PortalBackend, PortalConfig, PortalNetwork, PortalStatus};
use crate::provision::fail_text;
use crate::softap::{DeviceServer, ServerEvent, ServerOptions, http_config};

/// How received credentials are used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SoftApBackend {
    /// Store them and report Connected without joining (development and interop tests).
    Record,
    /// Join with wpa_supplicant / NetworkManager (as [`Config::backend`] says).
    Join,
}

/// SoftAP device configuration.
#[derive(Debug, Clone)]
pub struct SoftApConfig {
    /// Station side: interface (scan and join), backend, timeouts, state directory.
    pub station: Config,
    /// The AP; `None` = serve-only (`--no-ap`).
    pub ap: Option<ApConfig>,
    /// HTTP address (ESP-IDF: 192.168.4.1:80).
    pub listen: SocketAddr,
    /// Security, custom endpoints, Wi-Fi handler settings.
    pub protocomm: protocomm::Config,
    /// What to do with credentials.
    pub backend: SoftApBackend,
    /// Serve the captive portal too.
    pub portal: Option<PortalConfig>,
    /// The address the record backend reports.
    pub record_ip: Ipv4Addr,
    /// Keep serving this long after the client read Connected (its response must get out).
    pub done_grace: Duration,
    /// Stop this long after joining even if no client read the status (ESP-IDF's auto-stop,
    /// default 30 s: the phone may have lost the AP).
    pub auto_stop: Duration,
    /// Scan results to offer instead of scanning (serve-only mode, tests).
    pub scan_results: Option<Vec<ScanEntry>>,
    /// The QR payload printed for the apps.
    pub qr: String,
}

/// The outcome of a SoftAP provisioning.
#[derive(Debug, Clone)]
pub struct SoftApProvisioned {
    /// SSID joined.
    pub ssid: Vec<u8>,
    /// The device's address on it.
    pub ip: Ipv4Addr,
    /// Time from serving to receiving the credentials.
    pub credentials_after: Duration,
    /// Time to joined.
    pub joined_after: Duration,
    /// True if a client read the final Connected status.
    pub client_saw_connected: bool,
}

/// The portal's view of the protocomm device (credentials entered on the page take the same
/// path as ApplyConfig).
struct PortalBridge {
    server: Weak<DeviceServer>,
    events: Sender<ServerEvent>,
    done_sent: AtomicBool,
}

impl PortalBackend for PortalBridge {
    fn networks(&self) -> Vec<PortalNetwork> {
        let Some(server) = self.server.upgrade() else {
            return Vec::new();
        };
        server.with_device(|device| {
            device
                .provisioner()
                .scan_results()
                .iter()
                .map(|e| PortalNetwork {
                    ssid: e.ssid.clone(),
                    rssi: e.rssi,
                    auth: u32::try_from(e.auth).unwrap_or(0),
                    channel: e.channel,
                })
                .collect()
        })
    }

    fn connect(&self, ssid: Vec<u8>, password: Vec<u8>) -> Result<(), String> {
        let server = self.server.upgrade().ok_or("the device is stopping")?;
        let action = server
            .with_device(|device| device.provisioner_mut().apply(&ssid, &password))
            .map_err(|e| match e {
                wifiprov_protocomm::Error::PeerMisbehaved(text) => text.to_owned(),
                other => other.to_string(),
            })?;
        self.done_sent.store(false, Ordering::SeqCst);
        let _ = self.events.send(ServerEvent::PortalAction(action));
        Ok(())
    }

    fn status(&self) -> PortalStatus {
        let Some(server) = self.server.upgrade() else {
            return PortalStatus::Idle;
        };
        let station = server.with_device(|device| device.provisioner().station().clone());
        match station {
            Station::Idle | Station::Disconnected => PortalStatus::Idle,
            Station::Connecting | Station::AttemptFailed { .. } => PortalStatus::Connecting,
            Station::Connected(c) => {
                // The page has seen the result: provisioning is done.
                if !self.done_sent.swap(true, Ordering::SeqCst) {
                    let _ = self.events.send(ServerEvent::PortalAction(Action::Done));
                }
                PortalStatus::Connected {
                    ip: Ipv4Addr::from(c.ip).to_string(),
                }
            }
            Station::Failed(reason) => PortalStatus::Failed {
                reason: fail_text(reason),
            },
        }
    }
}

/// Parses `iw dev IFACE scan` output into scan entries (`\xNN` escapes in SSIDs decoded).
#[must_use]
pub fn parse_iw_scan(text: &str) -> Vec<ScanEntry> {
    let mut entries = Vec::new();
    let mut current: Option<(ScanEntry, bool, bool, bool, bool)> = None;
    let finish = |entry: Option<(ScanEntry, bool, bool, bool, bool)>, out: &mut Vec<ScanEntry>| {
        if let Some((mut e, privacy, wpa, rsn, sae)) = entry {
            e.auth = match (wpa, rsn, sae, privacy) {
                (_, true, true, _) => 7,
                (true, true, _, _) => 4,
                (_, true, _, _) => 3,
                (true, _, _, _) => 2,
                (_, _, _, true) => 1,
                _ => 0,
            };
            if !e.ssid.is_empty() {
                out.push(e);
            }
        }
    };
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some(rest) = line.strip_prefix("BSS ") {
            finish(current.take(), &mut entries);
            let mac = rest.get(..17).and_then(parse_mac).unwrap_or([0; 6]);
            current = Some((
                ScanEntry {
                    ssid: Vec::new(),
                    channel: 0,
                    rssi: -100,
                    bssid: mac,
                    auth: 0,
                },
                false,
                false,
                false,
                false,
            ));
            continue;
        }
        let Some((entry, privacy, wpa, rsn, sae)) = current.as_mut() else {
            continue;
        };
        if let Some(freq) = trimmed.strip_prefix("freq: ") {
            let mhz: f64 = freq.trim().parse().unwrap_or(0.0);
            entry.channel = match mhz as u32 {
                2484 => 14,
                f @ 2412..=2472 => (f - 2407) / 5,
                f @ 5000..=5900 => (f - 5000) / 5,
                _ => 0,
            };
        } else if let Some(signal) = trimmed.strip_prefix("signal: ") {
            let dbm: f64 = signal
                .split_whitespace()
                .next()
                .and_then(|v| v.parse().ok())
                .unwrap_or(-100.0);
            entry.rssi = dbm.round() as i32;
        } else if let Some(ssid) = trimmed.strip_prefix("SSID: ") {
            entry.ssid = unescape_iw(ssid);
        } else if trimmed.starts_with("capability:") && trimmed.contains("Privacy") {
            *privacy = true;
        } else if trimmed.starts_with("WPA:") {
            *wpa = true;
        } else if trimmed.starts_with("RSN:") {
            *rsn = true;
        } else if trimmed.starts_with("* Authentication suites:") && trimmed.contains("SAE") {
            *sae = true;
        }
    }
    finish(current.take(), &mut entries);
    entries
}

fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = text.split(':');
    for byte in &mut mac {
        *byte = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

fn unescape_iw(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'\\'
            && bytes.get(i + 1) == Some(&b'x')
            && let Some(v) = bytes
                .get(i + 2..i + 4)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 4;
            continue;
        }
        out.push(b);
        i += 1;
    }
    out
}

/// The AP's channel when none is configured: that of the strongest 2.4 GHz network found (the
/// network the user picks is then likely on it, and AP+STA needs no channel switch), else 1.
#[must_use]
pub fn default_channel(scanned: &[ScanEntry]) -> u8 {
    scanned
        .iter()
        .filter(|e| (1..=13).contains(&e.channel))
        .max_by_key(|e| e.rssi)
        .and_then(|e| u8::try_from(e.channel).ok())
        .unwrap_or(1)
}

/// Scans the 2.4 GHz channels on `iface` (managed, up) with `iw`, a few tries (the radio may be
/// busy just after coming up).
pub(crate) fn scan(iface: &str) -> Vec<ScanEntry> {
    let _ = Command::new("ip")
        .args(["link", "set", iface, "up"])
        .status();
    let mut args: Vec<String> = ["dev", iface, "scan", "freq"].map(str::to_owned).to_vec();
    args.extend((1..=13).map(|c| super::ap::channel_mhz(c).to_string()));
    for _ in 0..3 {
        let output = Command::new("iw")
            .args(&args)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output();
        if let Ok(output) = output
            && output.status.success()
        {
            return parse_iw_scan(&String::from_utf8_lossy(&output.stdout));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    Vec::new()
}

/// The AP interface: the configured one, or — when it is the station interface itself — a
/// second, AP-type interface on the same radio (AP+STA), which this guard removes again.
struct ApInterface {
    name: String,
    created: bool,
}

impl ApInterface {
    fn prepare(ap_iface: &str, station_iface: &str) -> Result<Self, DaemonError> {
        if ap_iface != station_iface {
            return Ok(Self {
                name: ap_iface.to_owned(),
                created: false,
            });
        }
        let name: String = format!("{station_iface}ap").chars().take(15).collect();
        let radio_err = |what: String| {
            DaemonError::AccessPoint(ApError {
                iface: station_iface.to_owned(),
                what,
            })
        };
        let _ = Command::new("iw")
            .args(["dev", &name, "del"])
            .stderr(Stdio::null())
            .status();
        let status = Command::new("iw")
            .args([
                "dev",
                station_iface,
                "interface",
                "add",
                &name,
                "type",
                "__ap",
            ])
            .status()
            .map_err(|e| radio_err(format!("cannot run iw: {e}")))?;
        if !status.success() {
            return Err(radio_err(format!(
                "the radio does not take a second (AP) interface; give --ap-iface another radio ({status})"
            )));
        }
        // A locally administered address next to the station's.
        if let Some(mut mac) = radio::mac_address(station_iface) {
            mac[0] |= 0x02;
            mac[5] ^= 0x01;
            let _ = Command::new("ip")
                .args(["link", "set", &name, "address", &format_mac(&mac)])
                .status();
        }
        Ok(Self {
            name,
            created: true,
        })
    }
}

impl Drop for ApInterface {
    fn drop(&mut self) {
        if self.created {
            let _ = Command::new("iw").args(["dev", &self.name, "del"]).status();
        }
    }
}

fn fail_reason(error: &JoinError) -> FailReason {
    match error {
        JoinError::NetworkNotFound => FailReason::NetworkNotFound,
        // Everything else the client can act on is "check the password".
        _ => FailReason::AuthError,
    }
}

/// What a served device (SoftAP, BLE, BluFi) needs to keep and join with: the credential store
/// and, with the NetworkManager backend when joining, the manager's connection.
pub(crate) fn station_backend(
    station: &Config,
    joining: bool,
) -> Result<(store::Store, Option<nm::NetworkManager>), DaemonError> {
    let store = store::Store::open(&station.state_dir)?;
    let manager = match station.backend {
        super::Backend::NetworkManager if joining => {
            Some(nm::NetworkManager::connect(&station.iface).map_err(DaemonError::Backend)?)
        }
        _ => None,
    };
    Ok((store, manager))
}

/// Runs the SoftAP device until provisioned (with `station.once`), or `stop` is set.
///
/// # Errors
/// A [`DaemonError`] if the AP, the server or the store cannot be set up; failed joins are
/// reported as [`Event::Failed`] and the device stays provisionable.
pub fn run(
    config: &SoftApConfig,
    stop: &AtomicBool,
    mut events: impl FnMut(&Event),
) -> Result<SoftApProvisioned, DaemonError> {
    let joining = config.backend == SoftApBackend::Join;
    let (store, manager) = station_backend(&config.station, joining)?;
    // Scan before the AP goes up (afterwards the radio serves the AP's channel).
    let scanned = match &config.scan_results {
        Some(list) => list.clone(),
        None if config.ap.is_some() || joining => scan(&config.station.iface),
        None => Vec::new(),
    };
    let mut device = Device::new(config.protocomm.clone()).map_err(DaemonError::Protocomm)?;
    device.provisioner_mut().set_scan_results(scanned.clone());

    let ap_interface;
    let mut access_point = None;
    if let Some(ap) = &config.ap {
        ap_interface = Some(ApInterface::prepare(&ap.iface, &config.station.iface)?);
        let mut ap = ap.clone();
        if let Some(interface) = &ap_interface {
            ap.iface.clone_from(&interface.name);
        }
        if ap.channel == 0 {
            ap.channel = default_channel(&scanned);
        }
        access_point = Some(AccessPoint::start(&ap)?);
    } else {
        ap_interface = None;
    }

    let (tx, rx) = mpsc::channel();
    // ESP-IDF's example answers its custom endpoint with "SUCCESS\0".
    let custom: crate::softap::CustomHandler = Box::new(|_, _| b"SUCCESS\0".to_vec());
    let portal = config.portal.clone();
    let portal_tx = tx.clone();
    let server = Arc::new_cyclic(|weak: &Weak<DeviceServer>| {
        let server = DeviceServer::new(device, ServerOptions::default(), tx, custom);
        match portal {
            Some(portal) => server.with_portal(
                portal,
                Arc::new(PortalBridge {
                    server: weak.clone(),
                    events: portal_tx,
                    done_sent: AtomicBool::new(false),
                }),
            ),
            None => server,
        }
    });
    let handle = http::Server::bind(config.listen, http_config(), Arc::clone(&server))
        .and_then(http::Server::spawn)
        .map_err(|source| DaemonError::Serve {
            address: config.listen,
            source,
        })?;
    let security = config.protocomm.security.version();
    events(&Event::Serving {
        address: handle.local_addr(),
        ap_ssid: config.ap.as_ref().map(|a| a.ssid.clone()),
        ap_channel: access_point.as_ref().map(|a| a.config().channel),
        security,
        scanned: scanned.len(),
        qr: config.qr.clone(),
    });

    let served = |f: &mut dyn FnMut(&mut Device)| server.with_device(|d| f(d));
    let mut before_join = |entry: Option<&ScanEntry>| {
        // One channel for AP and station: the AP goes where the network is.
        if let Some(ap) = access_point.as_mut()
            && let Some(entry) = entry
            && let Ok(channel) = u8::try_from(entry.channel)
            && channel != 0
            && let Err(e) = ap.switch_channel(channel)
        {
            return Some(format!("moving the AP to channel {channel}: {e}"));
        }
        None
    };
    let result = provision_loop(
        &Serving {
            station: &config.station,
            joining,
            record_ip: config.record_ip,
            done_grace: config.done_grace,
            auto_stop: config.auto_stop,
            method: "softap",
        },
        &scanned,
        &store,
        manager.as_ref(),
        &rx,
        &served,
        stop,
        &mut events,
        &mut before_join,
    );
    handle.shutdown();
    drop(access_point);
    drop(ap_interface);
    result
}

/// What the provisioning loop needs to know of the device it serves.
pub(crate) struct Serving<'a> {
    /// Station side: interface, backend, timeouts, `once`.
    pub(crate) station: &'a Config,
    /// Join (else record).
    pub(crate) joining: bool,
    /// The address the record backend reports.
    pub(crate) record_ip: Ipv4Addr,
    /// Keep serving this long after the client read Connected.
    pub(crate) done_grace: Duration,
    /// Stop this long after joining even if no client read the status.
    pub(crate) auto_stop: Duration,
    /// The method's name in events and the store (`softap`, `ble`).
    pub(crate) method: &'static str,
}

/// Runs `f` on the served protocomm device.
pub(crate) type WithDevice<'a> = dyn Fn(&mut dyn FnMut(&mut Device)) + 'a;

/// The device side of unified provisioning after the server is up, whatever carries it (HTTP,
/// GATT): act on the server's events — store and join on ApplyConfig, report the station state
/// back through the protocomm device, stop once the client read Connected (or the auto-stop
/// time passed), stay provisionable after a failure. `before_join` runs with the network's scan
/// entry (if it was seen) before joining (the SoftAP moves its channel, sniffing beside BLE
/// gives the interface back) and may report a problem.
#[allow(clippy::too_many_arguments)]
pub(crate) fn provision_loop(
    serving: &Serving<'_>,
    scanned: &[ScanEntry],
    store: &store::Store,
    manager: Option<&nm::NetworkManager>,
    rx: &mpsc::Receiver<ServerEvent>,
    served: &WithDevice<'_>,
    stop: &AtomicBool,
    events: &mut dyn FnMut(&Event),
    before_join: &mut dyn FnMut(Option<&ScanEntry>) -> Option<String>,
) -> Result<SoftApProvisioned, DaemonError> {
    let started = Instant::now();
    let mut received_at = None;
    let mut joined: Option<(Vec<u8>, Ipv4Addr, Duration)> = None;
    let mut done_at: Option<Instant> = None;
    loop {
        if stop.load(Ordering::SeqCst) {
            return Err(DaemonError::Stopped);
        }
        if let Some(limit) = serving.station.listen_timeout
            && joined.is_none()
            && started.elapsed() >= limit
        {
            return Err(DaemonError::ListenTimeout(limit.as_secs()));
        }
        if let Some(at) = done_at
            && at.elapsed() >= serving.done_grace
            && serving.station.once
            && let Some((ssid, ip, after)) = &joined
        {
            return Ok(SoftApProvisioned {
                ssid: ssid.clone(),
                ip: *ip,
                credentials_after: received_at.unwrap_or_default(),
                joined_after: *after,
                client_saw_connected: true,
            });
        }
        if let Some((ssid, ip, after)) = &joined
            && done_at.is_none()
            && serving.station.once
            && started.elapsed() >= *after + serving.auto_stop
        {
            return Ok(SoftApProvisioned {
                ssid: ssid.clone(),
                ip: *ip,
                credentials_after: received_at.unwrap_or_default(),
                joined_after: *after,
                client_saw_connected: false,
            });
        }
        let event = match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(event) => event,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return Err(DaemonError::Stopped),
        };
        let (action, via) = match event {
            ServerEvent::Action(action) => (action, serving.method),
            ServerEvent::PortalAction(action) => (action, "portal"),
            ServerEvent::SessionStarted { peer } => {
                events(&Event::Session { peer, busy: false });
                continue;
            }
            ServerEvent::Busy { peer } => {
                events(&Event::Session { peer, busy: true });
                continue;
            }
            ServerEvent::Established { peer } => {
                events(&Event::Established { peer });
                continue;
            }
            ServerEvent::Custom { endpoint, len, .. } => {
                events(&Event::Custom { endpoint, len });
                continue;
            }
            ServerEvent::Rejected {
                peer,
                endpoint,
                reason,
            } => {
                events(&Event::Rejected {
                    peer,
                    endpoint,
                    reason,
                });
                continue;
            }
        };
        match action {
            Action::Apply(credentials) => {
                received_at = Some(started.elapsed());
                events(&Event::Received {
                    ssid: credentials.ssid.clone(),
                    via,
                });
                store.save(&store::Stored {
                    method: serving.method.to_owned(),
                    ssid_hex: hex(&credentials.ssid),
                    password_hex: hex(&credentials.passphrase),
                    bssid: credentials.bssid.map(|b| format_mac(&b)),
                    reserved_hex: None,
                })?;
                let target = scanned.iter().find(|e| e.ssid == credentials.ssid).cloned();
                let outcome = if serving.joining {
                    events(&Event::Joining {
                        ssid: credentials.ssid.clone(),
                    });
                    if let Some(reason) = before_join(target.as_ref()) {
                        events(&Event::Failed { reason });
                    }
                    super::join_network(
                        serving.station,
                        manager,
                        &credentials.ssid,
                        &credentials.passphrase,
                        target.as_ref().and_then(|e| u8::try_from(e.channel).ok()),
                        credentials.bssid.or(target.as_ref().map(|e| e.bssid)),
                    )
                } else {
                    Ok(serving.record_ip)
                };
                match outcome {
                    Ok(ip) => {
                        let after = started.elapsed();
                        served(&mut |d| {
                            d.provisioner_mut()
                                .set_station(Station::Connected(Connected {
                                    ip: ip.octets(),
                                    auth_mode: target.as_ref().map_or(
                                        if credentials.passphrase.is_empty() {
                                            0
                                        } else {
                                            3
                                        },
                                        |e| e.auth,
                                    ),
                                    ssid: credentials.ssid.clone(),
                                    bssid: target.as_ref().map_or([0; 6], |e| e.bssid),
                                    channel: target
                                        .as_ref()
                                        .map_or(0, |e| i32::try_from(e.channel).unwrap_or(0)),
                                }));
                        });
                        events(&Event::Joined { ip });
                        joined = Some((credentials.ssid.clone(), ip, after));
                    }
                    Err(e) => {
                        served(&mut |d| {
                            d.provisioner_mut()
                                .set_station(Station::Failed(fail_reason(&e)));
                        });
                        events(&Event::Failed {
                            reason: e.to_string(),
                        });
                    }
                }
            }
            Action::Done => {
                if done_at.is_none() {
                    events(&Event::Done);
                }
                done_at.get_or_insert_with(Instant::now);
            }
            Action::Reset | Action::Reprovision => {
                joined = None;
                done_at = None;
                events(&Event::Listening {
                    hopping: false,
                    tuner: None,
                });
            }
            // Scan: the list was made before the AP went up and is already offered.
            Action::Scan(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCAN: &str = "BSS 02:1a:b0:00:00:00(on wlan2)
\tTSF: 0 usec (0d, 00:00:00)
\tfreq: 2437
\tbeacon interval: 100 TUs
\tcapability: ESS Privacy ShortSlotTime (0x0411)
\tsignal: -30.00 dBm
\tSSID: HomeNet \\xe2\\x98\\x95
\tRSN:\t * Version: 1
\t\t * Group cipher: CCMP
\t\t * Authentication suites: PSK
BSS 02:1a:b0:00:00:05(on wlan2)
\tfreq: 2412
\tcapability: ESS ShortSlotTime (0x0401)
\tsignal: -71.00 dBm
\tSSID: Cafe
BSS 02:1a:b0:00:00:06(on wlan2)
\tfreq: 2462
\tsignal: -50.00 dBm
\tSSID: 
";

    #[test]
    fn parses_iw_scan_output() {
        let list = parse_iw_scan(SCAN);
        assert_eq!(list.len(), 2, "hidden networks are left out");
        assert_eq!(list[0].ssid, "HomeNet ☕".as_bytes());
        assert_eq!(list[0].channel, 6);
        assert_eq!(list[0].rssi, -30);
        assert_eq!(list[0].auth, 3);
        assert_eq!(list[0].bssid, [0x02, 0x1a, 0xb0, 0, 0, 0]);
        assert_eq!((list[1].channel, list[1].auth, list[1].rssi), (1, 0, -71));
    }

    #[test]
    fn the_ap_goes_on_the_strongest_networks_channel() {
        let list = parse_iw_scan(SCAN);
        assert_eq!(default_channel(&list), 6);
        assert_eq!(default_channel(&[]), 1);
    }

    #[test]
    fn scan_parser_survives_garbage() {
        let list = parse_iw_scan("BSS zz\n\tfreq: x\n\tsignal: \n\tSSID: \\x");
        assert_eq!(list.len(), 1);
        assert_eq!(
            (list[0].ssid.as_slice(), list[0].bssid, list[0].channel),
            (&b"\\x"[..], [0; 6], 0)
        );
        assert!(parse_iw_scan("SSID: orphan\nfreq: 2412").is_empty());
        assert_eq!(unescape_iw("a\\x4"), b"a\\x4");
        assert_eq!(unescape_iw("\\x41\\x42c"), b"ABc");
    }
}
