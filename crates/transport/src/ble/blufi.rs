//! BluFi over GATT (spec §7.1): service 0xFFFF, characteristic 0xFF01 (phone → device, WRITE)
//! and 0xFF02 (device → phone, READ|NOTIFY): every device frame is a notification.
//!
//! * Device role: [`Server`] — advertises a name (ESP-IDF's example: `BLUFI_DEVICE`) and the
//!   16-bit service, feeds each written frame to a [`Device`], notifies what it queues, and hands
//!   its events to the caller (who answers with [`Server::with_device`] + [`Server::flush`]).
//! * Client role: [`BlufiLink`] — finds the device, connects, subscribes to 0xFF02, and moves
//!   frames for a [`Client`] (`wifiprov blufi` drives the Android app's flow on top).

use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bluer::adv::Advertisement;
use bluer::gatt::local::{
    Application, Characteristic, CharacteristicNotifier, CharacteristicNotify,
    CharacteristicNotifyMethod, CharacteristicRead, CharacteristicWrite, CharacteristicWriteMethod,
    ReqError, Service,
};
use bluer::gatt::remote;
use bluer::{Address, Uuid};
use futures::{FutureExt as _, StreamExt as _};
use rand::rngs::OsRng;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use wifiprov_blufi::device::{Device, Event};
use wifiprov_blufi::link::Sizing;
use wifiprov_blufi::{Client, client};

use super::{BleError, Found, ServerThread, Target, bt, lock, uuid16, within};

/// The BluFi service.
pub const SERVICE: Uuid = uuid16(0xFFFF);
/// Phone → device frames.
pub const WRITE_CHARACTERISTIC: Uuid = uuid16(0xFF01);
/// Device → phone frames (notifications).
pub const NOTIFY_CHARACTERISTIC: Uuid = uuid16(0xFF02);

/// The longest frame: 4 header bytes, 255 data bytes, 2 checksum bytes.
const MAX_FRAME: usize = 4 + 255 + 2;

/// The device role's settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Adapter name (`hci0`); `None` = the default adapter.
    pub adapter: Option<String>,
    /// The advertised name (ESP-IDF's example: `BLUFI_DEVICE`; the EspBlufi app lists names
    /// starting with `BLUFI`).
    pub name: String,
}

/// What the server reports to the device runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerEvent {
    /// A phone connected (its first write).
    Connected {
        /// Its address.
        peer: String,
    },
    /// The phone disconnected.
    Disconnected {
        /// Its address.
        peer: String,
    },
    /// The device rejected a frame (an ERROR_INFO report went to the phone).
    Rejected {
        /// The phone.
        peer: String,
        /// Why.
        reason: String,
    },
    /// What the phone asked for.
    Device(Event),
}

struct State {
    device: Device,
    peer: Option<Address>,
    mtu: u16,
    /// A frame written in pieces (a long write).
    partial: Vec<u8>,
}

struct Shared {
    state: Mutex<State>,
    events: Mutex<Sender<ServerEvent>>,
    flush: UnboundedSender<Command>,
}

enum Command {
    /// A phone subscribed to 0xFF02.
    Subscribed(CharacteristicNotifier),
    /// Notify whatever the device queued.
    Flush,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    fn emit(&self, event: ServerEvent) {
        let _ = lock(&self.events).send(event);
    }

    /// One write to 0xFF01. Returns true if it came from a new phone.
    fn write(&self, peer: Address, offset: u16, mtu: u16, value: &[u8]) -> Result<bool, ReqError> {
        let mut state = self.lock();
        let new_peer = state.peer != Some(peer);
        if new_peer {
            // A new connection: both sequence counters and the security start over.
            state.device.reset();
            state.peer = Some(peer);
            state.partial.clear();
            self.emit(ServerEvent::Connected {
                peer: peer.to_string(),
            });
        }
        if mtu != 0 && mtu != state.mtu {
            state.mtu = mtu;
            state.device.set_sizing(Sizing::device(mtu));
        }
        match usize::from(offset) {
            0 => {
                state.partial.clear();
                state.partial.extend_from_slice(value);
            }
            at if at == state.partial.len() && at + value.len() <= MAX_FRAME => {
                state.partial.extend_from_slice(value);
            }
            _ => {
                state.partial.clear();
                return Err(ReqError::InvalidOffset);
            }
        }
        // A frame says how long it is; a long write may deliver it in pieces.
        let complete = match state.partial.as_slice() {
            [_, control, _, len, ..] => {
                let checksum = if control & 0x02 != 0 { 2 } else { 0 };
                state.partial.len() >= 4 + usize::from(*len) + checksum
            }
            _ => false,
        };
        if !complete {
            return Ok(new_peer);
        }
        let frame = std::mem::take(&mut state.partial);
        let result = state.device.handle_write(&frame, &mut OsRng);
        let mut events = Vec::new();
        while let Some(event) = state.device.poll_event() {
            events.push(event);
        }
        drop(state);
        if let Err(e) = result {
            self.emit(ServerEvent::Rejected {
                peer: peer.to_string(),
                reason: e.to_string(),
            });
        }
        for event in events {
            self.emit(ServerEvent::Device(event));
        }
        let _ = self.flush.send(Command::Flush);
        Ok(new_peer)
    }

    fn disconnected(&self, peer: Address) {
        let mut state = self.lock();
        if state.peer == Some(peer) {
            state.peer = None;
            state.device.reset();
            state.partial.clear();
            drop(state);
            self.emit(ServerEvent::Disconnected {
                peer: peer.to_string(),
            });
        }
    }
}

/// The device role: a GATT server with the BluFi service, advertising, on its own thread.
pub struct Server {
    shared: Arc<Shared>,
    thread: ServerThread,
    address: String,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

/// Aborts the notification task when the server stops.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Server {
    /// Registers the service and the advertisement and serves `device`; its events go to
    /// `events`.
    ///
    /// # Errors
    /// [`BleError`] if bluetoothd is not reachable, the adapter is missing, or registration
    /// fails.
    pub fn start(
        config: &ServerConfig,
        device: Device,
        events: Sender<ServerEvent>,
    ) -> Result<Self, BleError> {
        let (flush_tx, flush_rx) = unbounded_channel();
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                device,
                peer: None,
                mtu: 0,
                partial: Vec::new(),
            }),
            events: Mutex::new(events),
            flush: flush_tx,
        });
        let thread_shared = Arc::clone(&shared);
        let config = config.clone();
        let (thread, address) = ServerThread::spawn("ble-blufi", move || async move {
            let (address, registered) = serve(&config, Arc::clone(&thread_shared)).await?;
            let notifier = AbortOnDrop(tokio::spawn(notify_task(thread_shared, flush_rx)));
            Ok((address, (registered, notifier)))
        })?;
        Ok(Self {
            shared,
            thread,
            address,
        })
    }

    /// The adapter's address.
    #[must_use]
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Runs `f` on the BluFi device (to send a status report, a Wi-Fi list, an error), then
    /// notifies what it queued.
    pub fn with_device<R>(&self, f: impl FnOnce(&mut Device) -> R) -> R {
        let result = f(&mut self.shared.lock().device);
        let _ = self.shared.flush.send(Command::Flush);
        result
    }

    /// True while a phone is connected.
    #[must_use]
    pub fn has_peer(&self) -> bool {
        self.shared.lock().peer.is_some()
    }

    /// Stops advertising and serving.
    pub fn shutdown(mut self) {
        self.thread.stop();
    }
}

/// Notifies the device's queued frames, in order, to the subscribed phone.
async fn notify_task(shared: Arc<Shared>, mut commands: UnboundedReceiver<Command>) {
    let mut notifier: Option<CharacteristicNotifier> = None;
    while let Some(command) = commands.recv().await {
        match command {
            Command::Subscribed(new) => notifier = Some(new),
            Command::Flush => {}
        }
        let Some(active) = notifier.as_mut() else {
            // Nobody listens yet: the frames stay queued in the device.
            continue;
        };
        if active.is_stopped() {
            notifier = None;
            continue;
        }
        loop {
            let frame = shared.lock().device.poll_transmit();
            let Some(frame) = frame else { break };
            if let Err(e) = active.notify(frame).await {
                log::debug!("blufi notification failed: {e}");
                notifier = None;
                break;
            }
        }
    }
}

/// What keeps the registration alive.
struct Registered {
    _app: bluer::gatt::local::ApplicationHandle,
    _adv: bluer::adv::AdvertisementHandle,
    _session: bluer::Session,
}

async fn serve(
    config: &ServerConfig,
    shared: Arc<Shared>,
) -> Result<(String, Registered), BleError> {
    let session = bluer::Session::new()
        .await
        .map_err(bt("connecting to bluetoothd"))?;
    let adapter = super::open_adapter(&session, config.adapter.as_deref()).await?;
    let address = adapter
        .address()
        .await
        .map_err(bt(format!("reading {}'s address", adapter.name())))?;
    let write_shared = Arc::clone(&shared);
    let write_adapter = adapter.clone();
    let notify_shared = Arc::clone(&shared);
    let app = Application {
        services: vec![Service {
            uuid: SERVICE,
            primary: true,
            characteristics: vec![
                Characteristic {
                    uuid: WRITE_CHARACTERISTIC,
                    write: Some(CharacteristicWrite {
                        write: true,
                        method: CharacteristicWriteMethod::Fun(Box::new(move |value, request| {
                            let peer = request.device_address;
                            let result =
                                write_shared.write(peer, request.offset, request.mtu, &value);
                            if result == Ok(true) {
                                let shared = Arc::clone(&write_shared);
                                super::on_disconnect(&write_adapter, peer, move || {
                                    shared.disconnected(peer);
                                });
                            }
                            async move { result.map(|_| ()) }.boxed()
                        })),
                        ..CharacteristicWrite::default()
                    }),
                    ..Characteristic::default()
                },
                Characteristic {
                    uuid: NOTIFY_CHARACTERISTIC,
                    // Readable as ESP-IDF declares it; the value is never used (frames are
                    // notified).
                    read: Some(CharacteristicRead {
                        read: true,
                        fun: Box::new(|_| async { Ok(Vec::new()) }.boxed()),
                        ..CharacteristicRead::default()
                    }),
                    notify: Some(CharacteristicNotify {
                        notify: true,
                        method: CharacteristicNotifyMethod::Fun(Box::new(move |notifier| {
                            let _ = notify_shared.flush.send(Command::Subscribed(notifier));
                            async {}.boxed()
                        })),
                        ..CharacteristicNotify::default()
                    }),
                    ..Characteristic::default()
                },
            ],
            ..Service::default()
        }],
        ..Application::default()
    };
    let app = adapter
        .serve_gatt_application(app)
        .await
        .map_err(bt(format!(
            "registering the BluFi service on {}",
            adapter.name()
        )))?;
    let adv = Advertisement {
        service_uuids: [SERVICE].into_iter().collect(),
        local_name: Some(config.name.clone()),
        discoverable: Some(true),
        ..Advertisement::default()
    };
    let adv = adapter
        .advertise(adv)
        .await
        .map_err(bt(format!("advertising on {}", adapter.name())))?;
    Ok((
        address.to_string(),
        Registered {
            _app: app,
            _adv: adv,
            _session: session,
        },
    ))
}

/// How the client finds and talks to the device.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Adapter name (`hci1`); `None` = the default adapter.
    pub adapter: Option<String>,
    /// Which device (without a name or address: the first advertising 0xFFFF or named
    /// `BLUFI…`).
    pub target: Target,
    /// Time to find the device.
    pub scan_timeout: Duration,
    /// Time for the connection and each exchange.
    pub timeout: Duration,
}

impl ClientConfig {
    /// Defaults for `target` on the default adapter: 15 s to find it, 30 s per exchange.
    #[must_use]
    pub fn new(target: Target) -> Self {
        Self {
            adapter: None,
            target,
            scan_timeout: Duration::from_secs(15),
            timeout: Duration::from_secs(30),
        }
    }
}

type Notifications = std::pin::Pin<Box<dyn futures::Stream<Item = Vec<u8>> + Send>>;

/// The client role's connection: frames out through 0xFF01, notifications in from 0xFF02.
pub struct BlufiLink {
    runtime: tokio::runtime::Runtime,
    device: bluer::Device,
    found: Found,
    write: remote::Characteristic,
    notifications: Notifications,
    mtu: u16,
    timeout: Duration,
    _session: bluer::Session,
}

impl std::fmt::Debug for BlufiLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlufiLink")
            .field("device", &self.found)
            .field("mtu", &self.mtu)
            .finish_non_exhaustive()
    }
}

/// A failure of the BluFi conversation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BlufiError {
    /// Bluetooth failed.
    #[error(transparent)]
    Ble(#[from] BleError),
    /// The protocol failed (bad frame, checksum, decryption, the device's state).
    #[error("{context}: {source}")]
    Protocol {
        /// The step.
        context: &'static str,
        /// The BluFi error.
        source: wifiprov_blufi::Error,
    },
    /// The device reported an error (ERROR_INFO).
    #[error("{context}: the device reported error {code:?}")]
    Device {
        /// The step.
        context: &'static str,
        /// Its code.
        code: wifiprov_blufi::ErrorCode,
    },
    /// The device said nothing in time.
    #[error("{context}: no answer within {seconds} s")]
    Timeout {
        /// The step.
        context: &'static str,
        /// The limit.
        seconds: u64,
    },
    /// The device disconnected.
    #[error("{context}: the device disconnected")]
    Disconnected {
        /// The step.
        context: &'static str,
    },
}

impl BlufiLink {
    /// Scans for the device, connects, and subscribes to its notifications.
    ///
    /// # Errors
    /// [`BleError`] if it is not found, the connection fails, or it has no BluFi service.
    pub fn connect(config: &ClientConfig) -> Result<Self, BleError> {
        let runtime = super::runtime()?;
        let (session, device, found, write, notifications, mtu) = runtime.block_on(async {
            let session = bluer::Session::new()
                .await
                .map_err(bt("connecting to bluetoothd"))?;
            let adapter = super::open_adapter(&session, config.adapter.as_deref()).await?;
            let mut target = config.target.clone();
            if target.services.is_empty() {
                target.services = vec![SERVICE];
            }
            let (device, found) = super::discover(&adapter, &target, config.scan_timeout).await?;
            super::connect(&device, config.timeout).await?;
            let (write, notify) = within(
                config.timeout,
                "finding the BluFi characteristics",
                characteristics(&device),
            )
            .await?;
            let mtu = write.mtu().await.unwrap_or(23);
            let stream = notify
                .notify()
                .await
                .map_err(bt(format!("subscribing to {NOTIFY_CHARACTERISTIC}")))?;
            let notifications: Notifications = Box::pin(stream);
            Ok::<_, BleError>((session, device, found, write, notifications, mtu))
        })?;
        Ok(Self {
            runtime,
            device,
            found,
            write,
            notifications,
            mtu: u16::try_from(mtu).unwrap_or(u16::MAX),
            timeout: config.timeout,
            _session: session,
        })
    }

    /// The device connected to.
    #[must_use]
    pub fn found(&self) -> &Found {
        &self.found
    }

    /// The ATT MTU of the connection.
    #[must_use]
    pub fn mtu(&self) -> u16 {
        self.mtu
    }

    /// Writes every frame `client` queued, in order.
    ///
    /// # Errors
    /// [`BlufiError::Ble`] if a write fails.
    pub fn send(&mut self, client: &mut Client, context: &'static str) -> Result<(), BlufiError> {
        while let Some(frame) = client.poll_transmit() {
            let write = self.write.clone();
            let limit = self.timeout;
            self.runtime
                .block_on(async move {
                    tokio::time::timeout(limit, write.write_ext(&frame, &super::write_request()))
                        .await
                        .map_err(|_| BleError::Timeout {
                            what: context.to_owned(),
                            seconds: limit.as_secs(),
                        })?
                        .map_err(bt(context))
                })
                .map_err(BlufiError::Ble)?;
        }
        Ok(())
    }

    /// Feeds notifications to `client` (and writes the ACKs it queues) until `done` picks an
    /// event, or `limit` passes. Device error reports end the wait with
    /// [`BlufiError::Device`].
    ///
    /// # Errors
    /// [`BlufiError`] on a protocol error, a device error report, a timeout or a disconnect.
    pub fn wait<T>(
        &mut self,
        client: &mut Client,
        context: &'static str,
        limit: Duration,
        mut done: impl FnMut(&client::Event) -> Option<T>,
    ) -> Result<T, BlufiError> {
        let started = Instant::now();
        loop {
            while let Some(event) = client.poll_event() {
                if let client::Event::DeviceError(code) = event {
                    return Err(BlufiError::Device { context, code });
                }
                if let Some(value) = done(&event) {
                    return Ok(value);
                }
            }
            let left = limit.saturating_sub(started.elapsed());
            if left.is_zero() {
                return Err(BlufiError::Timeout {
                    context,
                    seconds: limit.as_secs(),
                });
            }
            let next = self
                .runtime
                .block_on(async { tokio::time::timeout(left, self.notifications.next()).await });
            match next {
                Ok(Some(frame)) => {
                    client
                        .handle_notification(&frame)
                        .map_err(|source| BlufiError::Protocol { context, source })?;
                    self.send(client, context)?;
                }
                Ok(None) => return Err(BlufiError::Disconnected { context }),
                Err(_) => {
                    return Err(BlufiError::Timeout {
                        context,
                        seconds: limit.as_secs(),
                    });
                }
            }
        }
    }

    /// Disconnects.
    pub fn disconnect(&self) {
        let _ = self.runtime.block_on(self.device.disconnect());
    }
}

impl Drop for BlufiLink {
    fn drop(&mut self) {
        self.disconnect();
    }
}

/// The BluFi service's write and notify characteristics.
async fn characteristics(
    device: &bluer::Device,
) -> Result<(remote::Characteristic, remote::Characteristic), BleError> {
    let address = device.address();
    for service in device
        .services()
        .await
        .map_err(bt(format!("listing {address}'s services")))?
    {
        if service.uuid().await.ok() != Some(SERVICE) {
            continue;
        }
        let mut write = None;
        let mut notify = None;
        for characteristic in service
            .characteristics()
            .await
            .map_err(bt("listing the BluFi characteristics"))?
        {
            match characteristic.uuid().await {
                Ok(uuid) if uuid == WRITE_CHARACTERISTIC => write = Some(characteristic),
                Ok(uuid) if uuid == NOTIFY_CHARACTERISTIC => notify = Some(characteristic),
                _ => {}
            }
        }
        if let (Some(write), Some(notify)) = (write, notify) {
            return Ok((write, notify));
        }
    }
    Err(BleError::NoService {
        address: address.to_string(),
        what: "BluFi (0xFFFF with 0xFF01 and 0xFF02)".to_owned(),
    })
}
