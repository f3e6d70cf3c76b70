//! The BLE device (spec §2): scan for networks on the station interface, advertise the
//! `PROV_xxxxxx` name and serve ESP-IDF protocomm over GATT on a Bluetooth adapter, apply
//! received credentials through the station backend, report the station state back to the
//! client, and after a failure stay provisionable — the SoftAP device's loop over another
//! transport. The Wi-Fi radio stays a station throughout (no AP, no channel to share).

use std::net::Ipv4Addr;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc;
use std::time::Duration;

use wifiprov_protocomm::device::{self as protocomm, Device};
use wifiprov_protocomm::wifi::ScanEntry;

use super::softap::{Serving, SoftApBackend, SoftApProvisioned, provision_loop, scan};
use super::{Config, DaemonError, Event, nm, store};
use crate::ble::protocomm::{Server, ServerConfig};

/// BLE device configuration.
#[derive(Debug, Clone)]
pub struct BleConfig {
    /// Station side: interface (scan and join), backend, timeouts, state directory.
    pub station: Config,
    /// Adapter, advertised name, service UUID.
    pub gatt: ServerConfig,
    /// Security, custom endpoints, Wi-Fi handler settings.
    pub protocomm: protocomm::Config,
    /// What to do with credentials.
    pub backend: SoftApBackend,
    /// The address the record backend reports.
    pub record_ip: Ipv4Addr,
    /// Keep serving this long after the client read Connected.
    pub done_grace: Duration,
    /// Stop this long after joining even if no client read the status (ESP-IDF's auto-stop).
    pub auto_stop: Duration,
    /// Scan results to offer instead of scanning.
    pub scan_results: Option<Vec<ScanEntry>>,
    /// The QR payload printed for the apps.
    pub qr: String,
}

/// Runs the BLE device until provisioned (with `station.once`), or `stop` is set.
///
/// # Errors
/// A [`DaemonError`] if the GATT server, the backend or the store cannot be set up; failed
/// joins are reported as [`Event::Failed`] and the device stays provisionable.
pub fn run(
    config: &BleConfig,
    stop: &AtomicBool,
    mut events: impl FnMut(&Event),
) -> Result<SoftApProvisioned, DaemonError> {
    let store = store::Store::open(&config.station.state_dir)?;
    let joining = config.backend == SoftApBackend::Join;
    let manager = match config.station.backend {
        super::Backend::NetworkManager if joining => {
            Some(nm::NetworkManager::connect(&config.station.iface).map_err(DaemonError::Backend)?)
        }
        _ => None,
    };
    let scanned = match &config.scan_results {
        Some(list) => list.clone(),
        None if joining => scan(&config.station.iface),
        None => Vec::new(),
    };
    let mut device = Device::new(config.protocomm.clone()).map_err(DaemonError::Protocomm)?;
    device.provisioner_mut().set_scan_results(scanned.clone());

    let (tx, rx) = mpsc::channel();
    // ESP-IDF's example answers its custom endpoint with "SUCCESS\0".
    let custom: crate::softap::CustomHandler = Box::new(|_, _| b"SUCCESS\0".to_vec());
    let server = Server::start(&config.gatt, device, tx, custom).map_err(DaemonError::Ble)?;
    events(&Event::Advertising {
        method: "ble",
        address: server.address().to_owned(),
        name: config.gatt.name.clone(),
        security: config.protocomm.security.version(),
        scanned: scanned.len(),
        qr: config.qr.clone(),
    });
    let served = |f: &mut dyn FnMut(&mut Device)| server.with_device(|d| f(d));
    let result = provision_loop(
        &Serving {
            station: &config.station,
            joining,
            record_ip: config.record_ip,
            done_grace: config.done_grace,
            auto_stop: config.auto_stop,
            method: "ble",
        },
        &scanned,
        &store,
        manager.as_ref(),
        &rx,
        &served,
        stop,
        &mut events,
        &mut |_| None,
    );
    server.shutdown();
    result
}
