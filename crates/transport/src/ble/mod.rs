//! Bluetooth LE on BlueZ (through `bluer` and bluetoothd's D-Bus API): ESP-IDF protocomm over
//! GATT ([`protocomm`], both roles) and BluFi ([`blufi`], both roles).
//!
//! Everything here is blocking for the caller: each server runs its own thread with a small
//! tokio runtime (bluer is async), each client owns one and blocks on it per call.
//!
//! Adapters are chosen by name (`hci0`); `None` is bluetoothd's default adapter. The adapter is
//! powered on if it is not.

pub mod blufi;
pub mod protocomm;

use std::future::Future;
use std::time::{Duration, Instant};

use bluer::{Adapter, DiscoveryFilter, DiscoveryTransport, Session};
pub use bluer::{Address, Uuid};
use futures::{StreamExt as _, pin_mut};

/// A BLE failure, with what was being done.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BleError {
    /// bluetoothd refused or failed a call.
    #[error("{context}: {source}")]
    Bluetooth {
        /// What was being done.
        context: String,
        /// bluer's error (its D-Bus error name and message).
        source: bluer::Error,
    },
    /// The async runtime could not be made.
    #[error("starting the Bluetooth runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// No device matched in time.
    #[error("no device {what} found within {seconds} s (is it advertising? --hci right?)")]
    NotFound {
        /// The match (name, address, service).
        what: String,
        /// The time given.
        seconds: u64,
    },
    /// The device has no matching GATT service.
    #[error("{address} has no {what} service")]
    NoService {
        /// The device.
        address: String,
        /// Which service.
        what: String,
    },
    /// A GATT step took too long.
    #[error("{what}: no answer within {seconds} s")]
    Timeout {
        /// The step.
        what: String,
        /// The limit.
        seconds: u64,
    },
    /// The server thread ended before it was ready.
    #[error("the Bluetooth server ended before it was ready")]
    ServerGone,
}

/// A `map_err` helper: bluer error → [`BleError::Bluetooth`] with context.
pub(crate) fn bt(context: impl Into<String>) -> impl FnOnce(bluer::Error) -> BleError {
    let context = context.into();
    move |source| BleError::Bluetooth { context, source }
}

/// A single-threaded tokio runtime with I/O and timers (bluer's D-Bus connection needs both).
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, BleError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(BleError::Runtime)
}

/// A GATT server's thread: its runtime runs the registration, keeps what it returned alive, and
/// drops it (unregistering, stopping advertising) when stopped.
pub(crate) struct ServerThread {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ServerThread {
    /// Starts thread `name` running `serve`, and waits until it registered: returns the thread
    /// and the adapter address `serve` reported, or its error.
    pub(crate) fn spawn<F, Fut, Keep>(name: &str, serve: F) -> Result<(Self, String), BleError>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<(String, Keep), BleError>>,
        Keep: 'static,
    {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let runtime = runtime()?;
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                runtime.block_on(async move {
                    match serve().await {
                        Ok((address, keep)) => {
                            let _ = ready_tx.send(Ok(address));
                            let _ = stop_rx.await;
                            drop(keep);
                            // Let bluetoothd take the service and advertisement down.
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                        }
                    }
                });
            })
            .map_err(BleError::Runtime)?;
        let address = ready_rx.recv().map_err(|_| BleError::ServerGone)??;
        Ok((
            Self {
                stop: Some(stop_tx),
                thread: Some(thread),
            },
            address,
        ))
    }

    /// Stops the server and waits for its thread.
    pub(crate) fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for ServerThread {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Locks `mutex` even if a panicking thread poisoned it (a handler's panic must not take the
/// device down with it).
pub(crate) fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs `future` with a time limit, naming the step on timeout.
pub(crate) async fn within<T>(
    limit: Duration,
    what: &str,
    future: impl Future<Output = Result<T, BleError>>,
) -> Result<T, BleError> {
    tokio::time::timeout(limit, future)
        .await
        .map_err(|_| BleError::Timeout {
            what: what.to_owned(),
            seconds: limit.as_secs(),
        })?
}

/// Opens `name` (or the default adapter) and powers it on.
pub(crate) async fn open_adapter(
    session: &Session,
    name: Option<&str>,
) -> Result<Adapter, BleError> {
    let adapter = match name {
        Some(name) => session
            .adapter(name)
            .map_err(bt(format!("opening adapter {name}")))?,
        None => session
            .default_adapter()
            .await
            .map_err(bt("opening the default Bluetooth adapter"))?,
    };
    if !adapter
        .is_powered()
        .await
        .map_err(bt(format!("reading {}'s power state", adapter.name())))?
    {
        adapter
            .set_powered(true)
            .await
            .map_err(bt(format!("powering {} on", adapter.name())))?;
    }
    Ok(adapter)
}

/// Which advertising device to pick.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    /// Its advertised name, exactly.
    pub name: Option<String>,
    /// Its address.
    pub address: Option<Address>,
    /// Without a name or address: a device advertising one of these services, or whose name
    /// starts with `prefix`.
    pub services: Vec<Uuid>,
    /// Name prefix accepted without a name or address (`PROV_`, `BLUFI`).
    pub prefix: &'static str,
}

impl Target {
    /// For messages.
    #[must_use]
    pub fn describe(&self) -> String {
        match (&self.address, &self.name) {
            (Some(address), _) => address.to_string(),
            (None, Some(name)) => format!("named {name:?}"),
            (None, None) => format!("named {}… or advertising the service", self.prefix),
        }
    }
}

/// A device seen while scanning.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Found {
    /// Its address.
    pub address: String,
    /// Its advertised name.
    pub name: Option<String>,
    /// Signal strength, if reported.
    pub rssi: Option<i16>,
}

/// Scans until a device matching `target` shows up (or `limit` passes) and returns it.
pub(crate) async fn discover(
    adapter: &Adapter,
    target: &Target,
    limit: Duration,
) -> Result<(bluer::Device, Found), BleError> {
    let filter = DiscoveryFilter {
        transport: DiscoveryTransport::Le,
        duplicate_data: true,
        ..DiscoveryFilter::default()
    };
    adapter
        .set_discovery_filter(filter)
        .await
        .map_err(bt(format!("setting {}'s discovery filter", adapter.name())))?;
    let started = Instant::now();
    let not_found = || BleError::NotFound {
        what: target.describe(),
        seconds: limit.as_secs(),
    };
    loop {
        // One discovery session at a time, restarted every few seconds: a controller that
        // filters duplicates reports a device once per session, and a report that arrives
        // before the kernel has entered its "finding" state is dropped (seen with btvirt, which
        // reports at once when scanning starts) — a new session is a new chance.
        if let Some(found) = discovery_session(adapter, target, started, limit).await? {
            return Ok(found);
        }
        if started.elapsed() >= limit {
            return Err(not_found());
        }
        // The session's stream is gone (StopDiscovery); a moment, then a new one.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// One discovery session of at most [`DISCOVERY_SESSION`]: the matching device, if seen.
async fn discovery_session(
    adapter: &Adapter,
    target: &Target,
    started: Instant,
    limit: Duration,
) -> Result<Option<(bluer::Device, Found)>, BleError> {
    let events = adapter
        .discover_devices_with_changes()
        .await
        .map_err(bt(format!("scanning on {}", adapter.name())))?;
    pin_mut!(events);
    let session = Instant::now();
    while session.elapsed() < DISCOVERY_SESSION {
        // A device's name often arrives after it was added (the scan response, a later
        // report): look at every device bluetoothd knows, each time something happened or
        // a quarter of a second passed.
        for address in adapter
            .device_addresses()
            .await
            .map_err(bt(format!("listing {}'s devices", adapter.name())))?
        {
            if let Some(found) = matching(adapter, target, address).await {
                return Ok(Some(found));
            }
        }
        let left = limit.saturating_sub(started.elapsed());
        if left.is_zero() {
            return Ok(None);
        }
        if let Ok(None) =
            tokio::time::timeout(left.min(Duration::from_millis(250)), events.next()).await
        {
            return Ok(None);
        }
    }
    Ok(None)
}

/// How long one discovery session lasts before it is restarted (see [`discover`]).
const DISCOVERY_SESSION: Duration = Duration::from_secs(3);

/// The device at `address` if it matches `target` (and bluetoothd still has it).
async fn matching(
    adapter: &Adapter,
    target: &Target,
    address: bluer::Address,
) -> Option<(bluer::Device, Found)> {
    let device = adapter.device(address).ok()?;
    let name = device.name().await.ok().flatten();
    let matches = match (&target.address, &target.name) {
        (Some(wanted), _) => *wanted == address,
        (None, Some(wanted)) => name.as_deref() == Some(wanted.as_str()),
        (None, None) => {
            let uuids = device.uuids().await.ok().flatten().unwrap_or_default();
            name.as_deref()
                .is_some_and(|n| n.starts_with(target.prefix))
                || target.services.iter().any(|s| uuids.contains(s))
        }
    };
    if !matches {
        return None;
    }
    let rssi = device.rssi().await.ok().flatten();
    let found = Found {
        address: address.to_string(),
        name,
        rssi,
    };
    Some((device, found))
}

/// Connects to `device` (a few tries: the first LE connection attempt often races the
/// advertiser) and waits until bluetoothd has resolved its GATT services.
pub(crate) async fn connect(device: &bluer::Device, limit: Duration) -> Result<(), BleError> {
    let address = device.address();
    let started = Instant::now();
    let mut last = None;
    for _ in 0..4 {
        if device.is_connected().await.unwrap_or(false) {
            break;
        }
        match tokio::time::timeout(limit, device.connect()).await {
            Ok(Ok(())) => {
                last = None;
                break;
            }
            Ok(Err(e)) => last = Some(e),
            Err(_) => {
                return Err(BleError::Timeout {
                    what: format!("connecting to {address}"),
                    seconds: limit.as_secs(),
                });
            }
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    if let Some(e) = last {
        return Err(bt(format!("connecting to {address}"))(e));
    }
    while !device
        .is_services_resolved()
        .await
        .map_err(bt(format!("reading {address}'s state")))?
    {
        if started.elapsed() > limit {
            return Err(BleError::Timeout {
                what: format!("discovering {address}'s GATT services"),
                seconds: limit.as_secs(),
            });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// Runs `then` once `peer` disconnects from `adapter` (a task on the current runtime).
pub(crate) fn on_disconnect(
    adapter: &Adapter,
    peer: bluer::Address,
    then: impl FnOnce() + Send + 'static,
) {
    let Ok(device) = adapter.device(peer) else {
        return;
    };
    tokio::spawn(async move {
        let Ok(events) = device.events().await else {
            return;
        };
        pin_mut!(events);
        while let Some(event) = events.next().await {
            if let bluer::DeviceEvent::PropertyChanged(bluer::DeviceProperty::Connected(false)) =
                event
            {
                then();
                return;
            }
        }
    });
}

/// A write *with response* (ATT Write Request, or Prepare/Execute Write when the value does not
/// fit the MTU). bluer's default is a write command, which has no response, cannot be long,
/// and would let the protocomm read overtake its request.
pub(crate) fn write_request() -> bluer::gatt::remote::CharacteristicWriteRequest {
    bluer::gatt::remote::CharacteristicWriteRequest {
        op_type: bluer::gatt::WriteOp::Request,
        ..Default::default()
    }
}

/// The UUID of the Characteristic User Description descriptor (0x2901).
pub(crate) const USER_DESCRIPTION: Uuid = uuid16(0x2901);

/// A 16-bit Bluetooth SIG UUID in the base UUID.
#[must_use]
pub const fn uuid16(short: u16) -> Uuid {
    Uuid::from_u128(((short as u128) << 96) | 0x0000_0000_0000_1000_8000_0080_5f9b_34fb)
}
