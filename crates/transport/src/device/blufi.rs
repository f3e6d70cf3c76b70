//! The BluFi device (spec §7): advertise on a Bluetooth adapter, serve the BluFi GATT service,
//! run the negotiation of the configured generation, and on CONNECT_TO_AP store the received
//! credentials and join through the station backend, then report the result with a Wi-Fi status
//! report (WIFI_REP). After a failure the device stays provisionable; the phone may retry on the
//! same or a new connection.

use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use wifiprov_blufi::device::{self as blufi, Device, Event as BlufiEvent};
use wifiprov_blufi::{OperationMode, StationState, Status};
use wifiprov_protocomm::wifi::ScanEntry;

use super::softap::{SoftApBackend, SoftApProvisioned, scan, station_backend};
use super::{Config, DaemonError, Event, JoinError, format_mac, hex, store};
use crate::ble::blufi::{Server, ServerConfig, ServerEvent};

/// `wifi_err_reason_t` values the status report names (ESP-IDF's `esp_wifi_types`).
const REASON_HANDSHAKE_TIMEOUT: u8 = 15;
const REASON_NO_AP_FOUND: u8 = 201;

/// BluFi device configuration.
#[derive(Debug, Clone)]
pub struct BlufiConfig {
    /// Station side: interface (scan and join), backend, timeouts, state directory.
    pub station: Config,
    /// Adapter and advertised name.
    pub gatt: ServerConfig,
    /// The BluFi generation, version and sizes.
    pub blufi: blufi::Config,
    /// What to do with credentials.
    pub backend: SoftApBackend,
    /// The address the record backend reports.
    pub record_ip: Ipv4Addr,
    /// Keep serving this long after the Connected report went out (the phone reads it).
    pub done_grace: Duration,
    /// Scan results to offer instead of scanning.
    pub scan_results: Option<Vec<ScanEntry>>,
    /// Runs before each join (sniffing beside it gives the interface back).
    pub before_join: super::BeforeJoin,
}

fn end_reason(error: &JoinError) -> u8 {
    match error {
        JoinError::NetworkNotFound => REASON_NO_AP_FOUND,
        _ => REASON_HANDSHAKE_TIMEOUT,
    }
}

/// The list for WIFI_LIST: SSIDs with their RSSI (clamped to i8).
fn wifi_list(entries: &[ScanEntry]) -> Vec<(Vec<u8>, i8)> {
    entries
        .iter()
        .map(|e| {
            let rssi = i8::try_from(e.rssi.clamp(-128, 127)).unwrap_or(i8::MIN);
            (e.ssid.clone(), rssi)
        })
        .collect()
}

/// Runs the BluFi device until provisioned (with `station.once`), or `stop` is set.
///
/// # Errors
/// A [`DaemonError`] if the GATT server, the backend or the store cannot be set up; failed
/// joins are reported as [`Event::Failed`] (and to the phone) and the device stays
/// provisionable.
#[allow(clippy::too_many_lines)]
pub fn run(
    config: &BlufiConfig,
    stop: &AtomicBool,
    mut events: impl FnMut(&Event),
) -> Result<SoftApProvisioned, DaemonError> {
    let joining = config.backend == SoftApBackend::Join;
    let (store, manager) = station_backend(&config.station, joining)?;
    let mut scanned = match &config.scan_results {
        Some(list) => list.clone(),
        None if joining => scan(&config.station.iface),
        None => Vec::new(),
    };
    let (tx, rx) = mpsc::channel();
    let server =
        Server::start(&config.gatt, Device::new(config.blufi), tx).map_err(DaemonError::Ble)?;
    events(&Event::Advertising {
        method: "blufi",
        address: server.address().to_owned(),
        name: config.gatt.name.clone(),
        security: match config.blufi.generation {
            wifiprov_blufi::Generation::V1 => 1,
            _ => 2,
        },
        scanned: scanned.len(),
        qr: String::new(),
    });

    let started = Instant::now();
    let mut peer = String::new();
    let mut status = Status::new(OperationMode::Station, StationState::Failed, 0);
    let mut received_at = None;
    let mut joined: Option<(Vec<u8>, Ipv4Addr, Duration)> = None;
    let mut reported_at: Option<Instant> = None;
    let result = loop {
        if stop.load(Ordering::SeqCst) {
            break Err(DaemonError::Stopped);
        }
        if let Some(limit) = config.station.listen_timeout
            && joined.is_none()
            && started.elapsed() >= limit
        {
            break Err(DaemonError::ListenTimeout(limit.as_secs()));
        }
        if let (Some(at), Some((ssid, ip, after))) = (reported_at, &joined)
            && config.station.once
            && (at.elapsed() >= config.done_grace || !server.has_peer())
        {
            break Ok(SoftApProvisioned {
                ssid: ssid.clone(),
                ip: *ip,
                credentials_after: received_at.unwrap_or_default(),
                joined_after: *after,
                client_saw_connected: true,
            });
        }
        let event = match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(event) => event,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => break Err(DaemonError::Stopped),
        };
        let event = match event {
            ServerEvent::Connected { peer: who } => {
                events(&Event::Session {
                    peer: who.clone(),
                    busy: false,
                });
                peer = who;
                continue;
            }
            ServerEvent::Rejected { peer: who, reason } => {
                events(&Event::Rejected {
                    peer: who,
                    endpoint: "blufi".to_owned(),
                    reason,
                });
                continue;
            }
            ServerEvent::Device(event) => event,
            _ => continue,
        };
        match event {
            BlufiEvent::SecurityEstablished => events(&Event::Established { peer: peer.clone() }),
            BlufiEvent::StatusRequested => {
                let report = status.clone();
                server.with_device(|d| d.send_status(&report)).ok();
            }
            BlufiEvent::WifiListRequested => {
                if joining && config.scan_results.is_none() && joined.is_none() {
                    scanned = scan(&config.station.iface);
                }
                let list = wifi_list(&scanned);
                server.with_device(|d| d.send_wifi_list(&list)).ok();
            }
            BlufiEvent::Custom(data) => events(&Event::Custom {
                endpoint: "blufi-custom".to_owned(),
                len: data.len(),
            }),
            BlufiEvent::ConnectRequested(credentials) => {
                received_at = Some(started.elapsed());
                events(&Event::Received {
                    ssid: credentials.ssid.clone(),
                    via: "blufi",
                });
                store.save(&store::Stored {
                    method: "blufi".to_owned(),
                    ssid_hex: hex(&credentials.ssid),
                    password_hex: hex(&credentials.password),
                    bssid: credentials.bssid.map(|b| format_mac(&b)),
                    reserved_hex: None,
                })?;
                let target = scanned.iter().find(|e| e.ssid == credentials.ssid).cloned();
                let outcome = if joining {
                    config.before_join.run();
                    events(&Event::Joining {
                        ssid: credentials.ssid.clone(),
                    });
                    super::join_network(
                        &config.station,
                        manager.as_ref(),
                        &credentials.ssid,
                        &credentials.password,
                        target.as_ref().and_then(|e| u8::try_from(e.channel).ok()),
                        credentials.bssid.or(target.as_ref().map(|e| e.bssid)),
                    )
                } else {
                    Ok(config.record_ip)
                };
                let mut report = Status::new(OperationMode::Station, StationState::Failed, 0);
                report.ssid = Some(credentials.ssid.clone());
                match outcome {
                    Ok(ip) => {
                        report.station_state = StationState::Connected;
                        report.bssid = target.as_ref().map(|e| e.bssid).or(credentials.bssid);
                        report.rssi = target
                            .as_ref()
                            .and_then(|e| i8::try_from(e.rssi.clamp(-128, 127)).ok());
                        events(&Event::Joined { ip });
                        joined = Some((credentials.ssid.clone(), ip, started.elapsed()));
                        reported_at = Some(Instant::now());
                    }
                    Err(e) => {
                        report.end_reason = Some(end_reason(&e));
                        events(&Event::Failed {
                            reason: e.to_string(),
                        });
                    }
                }
                if let Err(e) = server.with_device(|d| d.send_status(&report)) {
                    events(&Event::Failed {
                        reason: format!("sending the status report: {e}"),
                    });
                }
                status = report;
                if joined.is_some() {
                    events(&Event::Done);
                }
            }
            _ => {}
        }
    };
    server.shutdown();
    result
}
