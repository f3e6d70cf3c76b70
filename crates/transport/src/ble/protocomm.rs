//! ESP-IDF protocomm over GATT (spec §2): one primary 128-bit service, one characteristic per
//! endpoint (READ|WRITE) whose UUID is the service UUID with bytes 12–13 (LSB-first) replaced
//! by the endpoint's 16-bit id, each with a Characteristic User Description (0x2901) naming the
//! endpoint. One request/response = a write of the request, then a read of the same
//! characteristic; long values use ATT long writes/reads (bluetoothd does both for us). A
//! session is a BLE connection.
//!
//! * Device role: [`Server`] — advertises the `PROV_xxxxxx` name and the service UUID and runs
//!   each request through a [`Device`]. The request is answered when the client reads it back
//!   (bluetoothd may hand a long write over in pieces; the read says it is complete).
//! * Client role: [`GattLink`] — scans by name, address or service, connects, maps endpoints by
//!   reading every 0x2901 descriptor (fixed UUIDs only for firmware without them), and is a
//!   [`Link`] for [`crate::provision::run`].

use std::collections::HashMap;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bluer::adv::Advertisement;
use bluer::gatt::local::{
    Application, Characteristic, CharacteristicRead, CharacteristicWrite,
    CharacteristicWriteMethod, Descriptor, DescriptorRead, ReqError, Service,
};
use bluer::gatt::remote;
use bluer::{Address, Uuid};
use futures::FutureExt as _;
use wifiprov_protocomm::device::{Device, endpoint};

use super::{BleError, Found, ServerThread, Target, USER_DESCRIPTION, bt, lock, within};
use crate::provision::{Link, LinkError};
use crate::softap::{CustomHandler, ServerEvent, answer};

/// wifi_provisioning's default service UUID.
pub const SERVICE_DEFAULT: Uuid = Uuid::from_u128(0x1775_244d_6b43_439b_877c_060f_2d9b_ed07);
/// The UUID ESP-IDF's examples set (and esp_prov's fallback).
pub const SERVICE_EXAMPLE: Uuid = Uuid::from_u128(0x021a_9004_0382_4aea_bff4_6b3f_1c5a_dfb4);

/// The largest request a client may write (ESP-IDF NimBLE: 512; sec2's are about 410).
const MAX_VALUE: usize = 4096;

/// The 16-bit id ESP-IDF gives an endpoint: the fixed ones, then 0xFF54… for custom endpoints
/// in the order they were created.
#[must_use]
pub fn endpoint_id(name: &str, custom: &[String]) -> Option<u16> {
    let fixed = match name {
        endpoint::CTRL => Some(0xFF4F),
        endpoint::SCAN => Some(0xFF50),
        endpoint::SESSION => Some(0xFF51),
        endpoint::CONFIG => Some(0xFF52),
        endpoint::PROTO_VER => Some(0xFF53),
        _ => None,
    };
    fixed.or_else(|| {
        let index = custom.iter().position(|c| c == name)?;
        u16::try_from(index).ok()?.checked_add(0xFF54)
    })
}

/// The characteristic UUID of endpoint `id` under `service`: bytes 12–13 of the LSB-first
/// array (characters 4–7 of the canonical form) replaced by the id.
#[must_use]
pub fn characteristic_uuid(service: Uuid, id: u16) -> Uuid {
    let mut bytes = *service.as_bytes(); // big-endian (canonical order)
    let [high, low] = id.to_be_bytes();
    bytes[2] = high;
    bytes[3] = low;
    Uuid::from_bytes(bytes)
}

/// The device role's settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Adapter name (`hci0`); `None` = the default adapter.
    pub adapter: Option<String>,
    /// The advertised name (`PROV_xxxxxx`; at most 29 bytes).
    pub name: String,
    /// The service UUID.
    pub service: Uuid,
}

/// One endpoint's attribute value on the device.
#[derive(Debug, Default)]
struct Value {
    /// The request being written (a long write may come in pieces).
    pending: Option<Vec<u8>>,
    /// The answer to the last complete request.
    response: Vec<u8>,
}

#[derive(Debug)]
struct State {
    device: Device,
    /// The connected client whose session this is.
    peer: Option<Address>,
    values: HashMap<String, Value>,
}

struct Shared {
    state: Mutex<State>,
    events: Mutex<Sender<ServerEvent>>,
    custom: CustomHandler,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    fn emit(&self, event: ServerEvent) {
        let _ = lock(&self.events).send(event);
    }

    /// A request from `peer`: a new client starts a new session (ESP-IDF: one per connection).
    fn bind(&self, state: &mut State, peer: Address) -> bool {
        if state.peer == Some(peer) {
            return false;
        }
        state.peer = Some(peer);
        state.device.new_session();
        state.values.clear();
        self.emit(ServerEvent::SessionStarted {
            peer: peer.to_string(),
        });
        true
    }

    /// The client disconnected: its session and stored values go.
    fn unbind(&self, peer: Address) {
        let mut state = self.lock();
        if state.peer == Some(peer) {
            state.peer = None;
            state.device.new_session();
            state.values.clear();
        }
    }

    fn write(
        &self,
        name: &str,
        peer: Address,
        offset: u16,
        value: Vec<u8>,
    ) -> Result<bool, ReqError> {
        let mut state = self.lock();
        let new_peer = self.bind(&mut state, peer);
        let slot = state.values.entry(name.to_owned()).or_default();
        let offset = usize::from(offset);
        match (&mut slot.pending, offset) {
            // NimBLE ignores empty writes.
            (_, 0) if value.is_empty() => {}
            (pending, 0) => *pending = Some(value),
            (Some(pending), offset) if offset == pending.len() => {
                if pending.len() + value.len() > MAX_VALUE {
                    slot.pending = None;
                    return Err(ReqError::InvalidValueLength);
                }
                pending.extend_from_slice(&value);
            }
            _ => return Err(ReqError::InvalidOffset),
        }
        if slot.pending.as_ref().is_some_and(|p| p.len() > MAX_VALUE) {
            slot.pending = None;
            return Err(ReqError::InvalidValueLength);
        }
        Ok(new_peer)
    }

    fn read(&self, name: &str, peer: Address, offset: u16) -> Result<(Vec<u8>, bool), ReqError> {
        let mut state = self.lock();
        let new_peer = self.bind(&mut state, peer);
        let pending = state
            .values
            .get_mut(name)
            .and_then(|slot| slot.pending.take());
        if let Some(request) = pending.filter(|_| offset == 0) {
            let was_established = state.device.is_established();
            match answer(&mut state.device, name, &request, &self.custom) {
                Ok(answered) => {
                    let established = !was_established && state.device.is_established();
                    state.values.entry(name.to_owned()).or_default().response = answered.body;
                    if let Some((endpoint, len)) = answered.custom {
                        self.emit(ServerEvent::Custom {
                            peer: peer.to_string(),
                            endpoint,
                            len,
                        });
                    }
                    if established {
                        self.emit(ServerEvent::Established {
                            peer: peer.to_string(),
                        });
                    }
                    if let Some(action) = answered.action {
                        self.emit(ServerEvent::Action(action));
                    }
                }
                Err((endpoint, reason)) => {
                    state.values.remove(name);
                    drop(state);
                    self.emit(ServerEvent::Rejected {
                        peer: peer.to_string(),
                        endpoint,
                        reason,
                    });
                    return Err(ReqError::Failed);
                }
            }
        }
        let response = state
            .values
            .get(name)
            .map(|slot| slot.response.as_slice())
            .unwrap_or_default();
        let rest = response
            .get(usize::from(offset)..)
            .ok_or(ReqError::InvalidOffset)?;
        Ok((rest.to_vec(), new_peer))
    }
}

/// The device role: a GATT server with the protocomm service, advertising, on its own thread.
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

impl Server {
    /// Registers the service and the advertisement on the adapter and serves `device`;
    /// events go to `events`, custom endpoints to `custom`.
    ///
    /// # Errors
    /// [`BleError`] if bluetoothd is not reachable, the adapter is missing, or registration
    /// fails.
    pub fn start(
        config: &ServerConfig,
        device: Device,
        events: Sender<ServerEvent>,
        custom: CustomHandler,
    ) -> Result<Self, BleError> {
        let names: Vec<String> = device.endpoints().map(str::to_owned).collect();
        let custom_names = device.config().custom_endpoints.clone();
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                device,
                peer: None,
                values: HashMap::new(),
            }),
            events: Mutex::new(events),
            custom,
        });
        let thread_shared = Arc::clone(&shared);
        let config = config.clone();
        let (thread, address) = ServerThread::spawn("ble-protocomm", move || async move {
            serve(&config, &names, &custom_names, thread_shared).await
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

    /// Runs `f` on the protocomm device (to report joining progress).
    pub fn with_device<R>(&self, f: impl FnOnce(&mut Device) -> R) -> R {
        f(&mut self.shared.lock().device)
    }

    /// Stops advertising and serving.
    pub fn shutdown(mut self) {
        self.thread.stop();
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
    names: &[String],
    custom: &[String],
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
    let mut characteristics = Vec::new();
    for name in names {
        let Some(id) = endpoint_id(name, custom) else {
            continue;
        };
        characteristics.push(endpoint_characteristic(
            characteristic_uuid(config.service, id),
            name,
            &shared,
            &adapter,
        ));
    }
    let app = Application {
        services: vec![Service {
            uuid: config.service,
            primary: true,
            characteristics,
            ..Service::default()
        }],
        ..Application::default()
    };
    let app = adapter
        .serve_gatt_application(app)
        .await
        .map_err(bt(format!(
            "registering the GATT service on {}",
            adapter.name()
        )))?;
    let adv = Advertisement {
        service_uuids: [config.service].into_iter().collect(),
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

/// Watches `peer` and ends its session when it disconnects.
fn watch(adapter: &bluer::Adapter, shared: &Arc<Shared>, peer: Address) {
    let shared = Arc::clone(shared);
    super::on_disconnect(adapter, peer, move || shared.unbind(peer));
}

fn endpoint_characteristic(
    uuid: Uuid,
    name: &str,
    shared: &Arc<Shared>,
    adapter: &bluer::Adapter,
) -> Characteristic {
    let read_name = name.to_owned();
    let read_shared = Arc::clone(shared);
    let read_adapter = adapter.clone();
    let write_name = name.to_owned();
    let write_shared = Arc::clone(shared);
    let write_adapter = adapter.clone();
    let description = name.as_bytes().to_vec();
    Characteristic {
        uuid,
        read: Some(CharacteristicRead {
            read: true,
            fun: Box::new(move |request| {
                let result = read_shared.read(&read_name, request.device_address, request.offset);
                let result = result.map(|(value, new_peer)| {
                    if new_peer {
                        watch(&read_adapter, &read_shared, request.device_address);
                    }
                    value
                });
                async move { result }.boxed()
            }),
            ..CharacteristicRead::default()
        }),
        write: Some(CharacteristicWrite {
            write: true,
            method: CharacteristicWriteMethod::Fun(Box::new(move |value, request| {
                let result =
                    write_shared.write(&write_name, request.device_address, request.offset, value);
                let result = result.map(|new_peer| {
                    if new_peer {
                        watch(&write_adapter, &write_shared, request.device_address);
                    }
                });
                async move { result }.boxed()
            })),
            ..CharacteristicWrite::default()
        }),
        descriptors: vec![Descriptor {
            uuid: USER_DESCRIPTION,
            read: Some(DescriptorRead {
                read: true,
                fun: Box::new(move |request| {
                    let value = description
                        .get(usize::from(request.offset)..)
                        .map(<[u8]>::to_vec)
                        .ok_or(ReqError::InvalidOffset);
                    async move { value }.boxed()
                }),
                ..DescriptorRead::default()
            }),
            ..Descriptor::default()
        }],
        ..Characteristic::default()
    }
}

/// The client role: a connected device's protocomm endpoints, as a [`Link`].
pub struct GattLink {
    runtime: tokio::runtime::Runtime,
    device: bluer::Device,
    found: Found,
    endpoints: HashMap<String, remote::Characteristic>,
    timeout: Duration,
    _session: bluer::Session,
}

impl std::fmt::Debug for GattLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GattLink")
            .field("device", &self.found)
            .field("endpoints", &self.endpoints.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// How the client finds and talks to the device.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Adapter name (`hci1`); `None` = the default adapter.
    pub adapter: Option<String>,
    /// Which device.
    pub target: Target,
    /// The service UUID, if known (else: the service whose characteristics name protocomm
    /// endpoints).
    pub service: Option<Uuid>,
    /// Time to find the device.
    pub scan_timeout: Duration,
    /// Time for each connect and each GATT exchange.
    pub timeout: Duration,
}

impl ClientConfig {
    /// Defaults for `target` on the default adapter: 15 s to find it, 30 s per exchange.
    #[must_use]
    pub fn new(target: Target) -> Self {
        Self {
            adapter: None,
            target,
            service: None,
            scan_timeout: Duration::from_secs(15),
            timeout: Duration::from_secs(30),
        }
    }
}

impl GattLink {
    /// Scans for the device, connects, and maps its endpoints.
    ///
    /// # Errors
    /// [`BleError`] if it is not found, the connection fails, or it has no protocomm service.
    pub fn connect(config: &ClientConfig) -> Result<Self, BleError> {
        let runtime = super::runtime()?;
        let (session, device, found, endpoints) = runtime.block_on(async {
            let session = bluer::Session::new()
                .await
                .map_err(bt("connecting to bluetoothd"))?;
            let adapter = super::open_adapter(&session, config.adapter.as_deref()).await?;
            let mut target = config.target.clone();
            if target.services.is_empty() {
                target.services = match config.service {
                    Some(service) => vec![service],
                    None => vec![SERVICE_EXAMPLE, SERVICE_DEFAULT],
                };
            }
            let (device, found) = super::discover(&adapter, &target, config.scan_timeout).await?;
            super::connect(&device, config.timeout).await?;
            let endpoints = within(
                config.timeout,
                "reading the endpoints",
                map_endpoints(&device, config.service),
            )
            .await?;
            Ok::<_, BleError>((session, device, found, endpoints))
        })?;
        Ok(Self {
            runtime,
            device,
            found,
            endpoints,
            timeout: config.timeout,
            _session: session,
        })
    }

    /// The device connected to.
    #[must_use]
    pub fn found(&self) -> &Found {
        &self.found
    }

    /// The endpoint names found.
    #[must_use]
    pub fn endpoints(&self) -> Vec<String> {
        let mut names: Vec<String> = self.endpoints.keys().cloned().collect();
        names.sort();
        names
    }

    /// Disconnects.
    pub fn disconnect(&self) {
        let _ = self.runtime.block_on(self.device.disconnect());
    }
}

impl Drop for GattLink {
    fn drop(&mut self) {
        self.disconnect();
    }
}

/// Reads every 0x2901 descriptor of the protocomm service (the one given, or the one whose
/// descriptors name `prov-session`); firmware without descriptors gets the fixed UUIDs.
async fn map_endpoints(
    device: &bluer::Device,
    service: Option<Uuid>,
) -> Result<HashMap<String, remote::Characteristic>, BleError> {
    let address = device.address();
    let services = device
        .services()
        .await
        .map_err(bt(format!("listing {address}'s services")))?;
    for candidate in services {
        let uuid = candidate
            .uuid()
            .await
            .map_err(bt(format!("reading a service of {address}")))?;
        if service.is_some_and(|s| s != uuid) {
            continue;
        }
        let mut named = HashMap::new();
        let mut by_uuid = HashMap::new();
        for characteristic in candidate
            .characteristics()
            .await
            .map_err(bt(format!("listing the characteristics of {uuid}")))?
        {
            if let Ok(id) = characteristic.uuid().await {
                by_uuid.insert(id, characteristic.clone());
            }
            for descriptor in characteristic.descriptors().await.unwrap_or_default() {
                if descriptor.uuid().await.ok() != Some(USER_DESCRIPTION) {
                    continue;
                }
                let value = descriptor
                    .read()
                    .await
                    .map_err(bt(format!("reading a descriptor of {uuid}")))?;
                named.insert(
                    String::from_utf8_lossy(&value).into_owned(),
                    characteristic.clone(),
                );
            }
        }
        if named.contains_key(endpoint::SESSION) {
            return Ok(named);
        }
        // Old firmware without descriptors: the fixed ids under a known service.
        if service == Some(uuid) || uuid == SERVICE_EXAMPLE || uuid == SERVICE_DEFAULT {
            let mut fixed = HashMap::new();
            for name in [
                endpoint::CTRL,
                endpoint::SCAN,
                endpoint::SESSION,
                endpoint::CONFIG,
                endpoint::PROTO_VER,
            ] {
                if let Some(id) = endpoint_id(name, &[])
                    && let Some(c) = by_uuid.get(&characteristic_uuid(uuid, id))
                {
                    fixed.insert(name.to_owned(), c.clone());
                }
            }
            if fixed.contains_key(endpoint::SESSION) {
                return Ok(fixed);
            }
        }
    }
    Err(BleError::NoService {
        address: address.to_string(),
        what: service.map_or_else(|| "protocomm".to_owned(), |s| s.to_string()),
    })
}

impl Link for GattLink {
    fn round_trip(&mut self, endpoint: &str, body: &[u8]) -> Result<Vec<u8>, LinkError> {
        let characteristic = self
            .endpoints
            .get(endpoint)
            .ok_or_else(|| LinkError::Status {
                status: 404,
                detail: format!("the device has no {endpoint} endpoint"),
            })?
            .clone();
        let limit = self.timeout;
        let device = self.device.clone();
        self.runtime.block_on(async move {
            let exchange = async {
                characteristic
                    .write_ext(body, &super::write_request())
                    .await?;
                characteristic.read().await
            };
            match tokio::time::timeout(limit, exchange).await {
                Ok(Ok(answer)) => Ok(answer),
                Ok(Err(e)) => {
                    if !device.is_connected().await.unwrap_or(false) {
                        Err(LinkError::Transport(format!(
                            "the device disconnected ({e})"
                        )))
                    } else if e.message.contains("ATT error") {
                        // An ATT error response from the device: protocomm's way of refusing.
                        log::debug!("{endpoint}: {e}");
                        Err(LinkError::Refused)
                    } else {
                        Err(LinkError::Transport(format!("{endpoint}: {e}")))
                    }
                }
                Err(_) => Err(LinkError::Timeout(limit)),
            }
        })
    }

    fn describe(&self) -> String {
        match &self.found.name {
            Some(name) => format!("ble {} ({name})", self.found.address),
            None => format!("ble {}", self.found.address),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characteristic_uuids_replace_characters_four_to_seven() {
        // Spec §2.1: prov-session under the example service, as seen in an Android log.
        assert_eq!(
            characteristic_uuid(SERVICE_EXAMPLE, 0xFF51).to_string(),
            "021aff51-0382-4aea-bff4-6b3f1c5adfb4"
        );
        // LSB-first bytes 12..13 hold the id little-endian.
        let mut lsb = *characteristic_uuid(SERVICE_DEFAULT, 0xFF53).as_bytes();
        lsb.reverse();
        assert_eq!(&lsb[12..14], &[0x53, 0xFF]);
        assert_eq!(
            SERVICE_DEFAULT
                .as_bytes()
                .iter()
                .rev()
                .copied()
                .collect::<Vec<_>>(),
            [
                0x07, 0xed, 0x9b, 0x2d, 0x0f, 0x06, 0x7c, 0x87, 0x9b, 0x43, 0x43, 0x6b, 0x4d, 0x24,
                0x75, 0x17
            ]
        );
    }

    fn shared() -> (Shared, std::sync::mpsc::Receiver<ServerEvent>) {
        use wifiprov_protocomm::device::Config;
        use wifiprov_protocomm::session::DeviceSecurity;
        let device = Device::new(Config::new(DeviceSecurity::Sec0)).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let shared = Shared {
            state: Mutex::new(State {
                device,
                peer: None,
                values: HashMap::new(),
            }),
            events: Mutex::new(tx),
            custom: Box::new(|_, _| b"SUCCESS\0".to_vec()),
        };
        (shared, rx)
    }

    const PHONE: Address = Address::new([0x02, 0, 0, 0, 0, 1]);
    const OTHER: Address = Address::new([0x02, 0, 0, 0, 0, 2]);

    #[test]
    fn a_request_written_in_pieces_is_answered_when_read() {
        let (shared, rx) = shared();
        // proto-ver answers any body with its JSON.
        assert!(shared.write("proto-ver", PHONE, 0, b"ab".to_vec()).unwrap());
        assert!(!shared.write("proto-ver", PHONE, 2, b"cd".to_vec()).unwrap());
        let (whole, _) = shared.read("proto-ver", PHONE, 0).unwrap();
        assert!(
            whole.starts_with(b"{"),
            "{}",
            String::from_utf8_lossy(&whole)
        );
        // A long read continues at an offset without running the handler again.
        let (rest, _) = shared.read("proto-ver", PHONE, 5).unwrap();
        assert_eq!(rest, whole[5..]);
        assert!(matches!(
            rx.try_recv(),
            Ok(ServerEvent::SessionStarted { peer }) if peer == PHONE.to_string()
        ));
        // Past the end, and a write that leaves a gap, are refused.
        let past = u16::try_from(whole.len() + 1).unwrap();
        assert_eq!(
            shared.read("proto-ver", PHONE, past).unwrap_err(),
            ReqError::InvalidOffset
        );
        shared.write("proto-ver", PHONE, 0, b"x".to_vec()).unwrap();
        assert_eq!(
            shared
                .write("proto-ver", PHONE, 5, b"y".to_vec())
                .unwrap_err(),
            ReqError::InvalidOffset
        );
    }

    #[test]
    fn oversized_requests_are_refused() {
        let (shared, _rx) = shared();
        shared
            .write("prov-session", PHONE, 0, vec![0; 4000])
            .unwrap();
        assert_eq!(
            shared
                .write("prov-session", PHONE, 4000, vec![0; 200])
                .unwrap_err(),
            ReqError::InvalidValueLength
        );
        // The refused request is gone: reading answers nothing new.
        assert_eq!(shared.read("prov-session", PHONE, 0).unwrap().0, b"");
    }

    #[test]
    fn a_failed_request_is_refused_on_read_and_reported() {
        let (shared, rx) = shared();
        shared
            .write("prov-session", PHONE, 0, vec![0xff; 9])
            .unwrap();
        assert_eq!(
            shared.read("prov-session", PHONE, 0).unwrap_err(),
            ReqError::Failed
        );
        let events: Vec<ServerEvent> = rx.try_iter().collect();
        assert!(
            events
                .iter()
                .any(|e| matches!(e, ServerEvent::Rejected { endpoint, .. } if endpoint == "prov-session")),
            "{events:?}"
        );
    }

    #[test]
    fn another_client_or_a_disconnect_starts_a_new_session() {
        let (shared, rx) = shared();
        shared.write("proto-ver", PHONE, 0, b"v".to_vec()).unwrap();
        shared.read("proto-ver", PHONE, 0).unwrap();
        // Another phone: a new session, nothing of the first one's values.
        assert!(
            shared
                .write("prov-config", OTHER, 0, b"q".to_vec())
                .unwrap()
        );
        assert_eq!(shared.read("proto-ver", OTHER, 0).unwrap().0, b"");
        // The first phone's disconnect does not touch the second one's session.
        shared.unbind(PHONE);
        assert_eq!(shared.lock().peer, Some(OTHER));
        shared.unbind(OTHER);
        assert_eq!(shared.lock().peer, None);
        let sessions = rx
            .try_iter()
            .filter(|e| matches!(e, ServerEvent::SessionStarted { .. }))
            .count();
        assert_eq!(sessions, 2);
    }

    #[test]
    fn endpoint_ids_follow_esp_idf() {
        let custom = vec!["custom-data".to_owned(), "other".to_owned()];
        assert_eq!(endpoint_id("prov-ctrl", &custom), Some(0xFF4F));
        assert_eq!(endpoint_id("proto-ver", &custom), Some(0xFF53));
        assert_eq!(endpoint_id("custom-data", &custom), Some(0xFF54));
        assert_eq!(endpoint_id("other", &custom), Some(0xFF55));
        assert_eq!(endpoint_id("nope", &custom), None);
    }
}
