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

use super::softap::{
    Serving, SoftApBackend, SoftApProvisioned, provision_loop, scan, station_backend,
};
use super::{Config, DaemonError, Event};
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
    /// Runs before each join (sniffing beside it gives the interface back).
    pub before_join: super::BeforeJoin,
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
    let joining = config.backend == SoftApBackend::Join;
    let (store, manager) = station_backend(&config.station, joining)?;
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
        &mut |_| {
            config.before_join.run();
            None
        },
    );
    server.shutdown();
    result
}

/// Runs the protocomm BLE device and the BluFi device side by side on their adapters (one
/// adapter may carry both: two GATT services, two advertisements) until one of them is
/// provisioned, or `stop` is set. The networks are scanned once, for both. Returns the method
/// that provisioned (`ble` or `blufi`) and its outcome.
///
/// # Errors
/// The first runner's [`DaemonError`] if neither provisions.
pub fn run_with_blufi(
    ble: &BleConfig,
    blufi: &super::blufi::BlufiConfig,
    stop: &AtomicBool,
    events: impl FnMut(&Event) + Send,
) -> Result<(&'static str, SoftApProvisioned), DaemonError> {
    use std::sync::Mutex;
    use std::sync::atomic::Ordering;

    let mut ble = ble.clone();
    let mut blufi = blufi.clone();
    if ble.scan_results.is_none() {
        let joining = ble.backend == SoftApBackend::Join;
        let list = if joining {
            scan(&ble.station.iface)
        } else {
            Vec::new()
        };
        ble.scan_results = Some(list.clone());
        blufi.scan_results.get_or_insert(list);
    }
    let inner = AtomicBool::new(false);
    let done = AtomicBool::new(false);
    let events = Mutex::new(events);
    let report = |event: &Event| {
        let mut events = events
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        events(event);
    };
    let (first, second) = std::thread::scope(|scope| {
        // The caller's stop (Ctrl-C) reaches both runners; so does the first success.
        scope.spawn(|| {
            while !done.load(Ordering::SeqCst) {
                if stop.load(Ordering::SeqCst) {
                    inner.store(true, Ordering::SeqCst);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        let other = scope.spawn(|| {
            let result = super::blufi::run(&blufi, &inner, report);
            // Provisioned, or failed for good: the other runner stops too.
            inner.store(true, Ordering::SeqCst);
            result
        });
        let mine = run(&ble, &inner, report);
        inner.store(true, Ordering::SeqCst);
        let theirs = other.join().unwrap_or(Err(DaemonError::Stopped));
        done.store(true, Ordering::SeqCst);
        (mine, theirs)
    });
    match (first, second) {
        (Ok(done), _) => Ok(("ble", done)),
        (_, Ok(done)) => Ok(("blufi", done)),
        // A runner stopped by the other's failure says "stopped"; the real failure is the other.
        (Err(DaemonError::Stopped), Err(e)) | (Err(e), _) => Err(e),
    }
}
