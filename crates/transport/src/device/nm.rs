//! Joining through NetworkManager over D-Bus (the system bus).
//!
//! While the daemon listens, the interface is **unmanaged** (NetworkManager would otherwise fight
//! the monitor mode and the channel hopping); afterwards it is handed back (`Managed = true`), the
//! network is scanned for, and a connection is added and activated on that device only
//! (`AddAndActivateConnection`). NetworkManager runs its own DHCP client. The connection is kept
//! (NetworkManager stores it, so the device reconnects after a reboot); on failure it is deleted
//! again so NetworkManager does not retry a wrong password on its own.
//!
//! The password never goes over D-Bus as text: the PSK is derived locally
//! ([`super::wpa::wpa_psk`]) and given as 64 hex digits, which also carries passphrases that are
//! not UTF-8.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use wifiprov_sniff::Mac;
use zbus::blocking::{Connection, Proxy};
use zbus::proxy::CacheProperties;
use zbus::zvariant::{ObjectPath, OwnedObjectPath, OwnedValue, Value};
use zeroize::Zeroizing;

use super::{JoinError, format_mac, hex};

const BUS_NAME: &str = "org.freedesktop.NetworkManager";
const ROOT: &str = "/org/freedesktop/NetworkManager";
const DEVICE: &str = "org.freedesktop.NetworkManager.Device";
const WIRELESS: &str = "org.freedesktop.NetworkManager.Device.Wireless";
const ACCESS_POINT: &str = "org.freedesktop.NetworkManager.AccessPoint";
const ACTIVE: &str = "org.freedesktop.NetworkManager.Connection.Active";
const SETTINGS_CONNECTION: &str = "org.freedesktop.NetworkManager.Settings.Connection";
const IP4_CONFIG: &str = "org.freedesktop.NetworkManager.IP4Config";

/// `NMDeviceState` values used here.
mod state {
    pub(super) const UNMANAGED: u32 = 10;
    pub(super) const DISCONNECTED: u32 = 30;
    pub(super) const NEED_AUTH: u32 = 60;
    pub(super) const IP_CONFIG: u32 = 70;
    pub(super) const ACTIVATED: u32 = 100;
    pub(super) const FAILED: u32 = 120;
}

/// `NMActiveConnectionState` values used here.
mod active {
    pub(super) const ACTIVATED: u32 = 2;
    pub(super) const DEACTIVATED: u32 = 4;
}

/// Polling period for state changes.
const POLL: Duration = Duration::from_millis(200);

/// Options of [`NetworkManager::join`].
#[derive(Debug, Clone)]
pub struct JoinOptions {
    /// Time allowed for the device to become ready, the scan and association.
    pub connect_timeout: Duration,
    /// Time allowed for DHCP (NetworkManager's own client).
    pub dhcp_timeout: Duration,
    /// The BSSID the phone was heard through, preferred among APs with the SSID.
    pub bssid: Option<Mac>,
}

/// A network joined through NetworkManager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Joined {
    /// The device's IPv4 address.
    pub ip: Ipv4Addr,
    /// The D-Bus path of the stored connection.
    pub connection: String,
}

/// A NetworkManager device, reached over the system bus.
#[derive(Debug)]
pub struct NetworkManager {
    bus: Connection,
    device: OwnedObjectPath,
    iface: String,
    /// The device's `StateChanged` signals: (new state, reason).
    transitions: Receiver<(u32, u32)>,
}

fn dbus_error<E: std::fmt::Display>(what: &str) -> impl Fn(E) -> JoinError + '_ {
    move |e| JoinError::NetworkManager(format!("{what}: {e}"))
}

/// Why an activation failed, from the device's state reason (`NMDeviceStateReason`) and whether it
/// asked for secrets on the way (which NetworkManager does when the 4-way handshake fails).
#[must_use]
pub fn failure(reason: u32, asked_for_secrets: bool, limit: Duration) -> JoinError {
    match reason {
        // NO_SECRETS, SUPPLICANT_DISCONNECT.
        7 | 8 => JoinError::WrongPassword,
        _ if asked_for_secrets => JoinError::WrongPassword,
        // SSID_NOT_FOUND.
        53 => JoinError::NetworkNotFound,
        // IP_CONFIG_UNAVAILABLE, DHCP_START_FAILED, DHCP_ERROR, DHCP_FAILED.
        5 | 15..=17 => JoinError::NoAddress(limit.as_secs()),
        // SUPPLICANT_CONFIG_FAILED, SUPPLICANT_FAILED, SUPPLICANT_TIMEOUT.
        9..=11 => JoinError::NetworkManager(format!(
            "the supplicant failed to associate (state reason {reason})"
        )),
        _ => JoinError::NetworkManager(format!("activation failed (state reason {reason})")),
    }
}

/// The connection settings (`a{sa{sv}}`) for a WPA-PSK (or open) network; `psk_hex` is the PSK as
/// 64 hex digits, `None` for an open network (borrowed, not copied: the caller zeroizes it).
#[must_use]
pub fn settings<'a>(
    ssid: &[u8],
    psk_hex: Option<&'a str>,
) -> HashMap<&'static str, HashMap<&'static str, Value<'a>>> {
    let mut all = HashMap::new();
    let id = format!("wifiprov {}", String::from_utf8_lossy(ssid));
    all.insert(
        "connection",
        HashMap::from([
            ("id", Value::from(id)),
            ("type", Value::from("802-11-wireless")),
            ("autoconnect", Value::from(true)),
        ]),
    );
    all.insert(
        "802-11-wireless",
        HashMap::from([
            ("ssid", Value::from(ssid.to_vec())),
            ("mode", Value::from("infrastructure")),
        ]),
    );
    if let Some(psk) = psk_hex {
        all.insert(
            "802-11-wireless-security",
            HashMap::from([
                ("key-mgmt", Value::from("wpa-psk")),
                ("psk", Value::from(psk)),
            ]),
        );
    }
    all.insert(
        "ipv4",
        HashMap::from([
            ("method", Value::from("auto")),
            ("may-fail", Value::from(false)),
        ]),
    );
    all.insert("ipv6", HashMap::from([("method", Value::from("ignore"))]));
    all
}

/// Where an activation stands after a transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Still going.
    Pending,
    /// Activated (IP configured).
    Activated,
    /// Failed: see [`Activation::failure`].
    Failed,
}

/// Follows one activation through the device's state transitions (sans-IO).
#[derive(Debug, Default, Clone)]
pub struct Activation {
    asked_for_secrets: bool,
    seen_ip_config: bool,
    last_reason: u32,
}

impl Activation {
    /// Feeds one transition: the new `NMDeviceState` and its `NMDeviceStateReason`.
    pub fn transition(&mut self, new: u32, reason: u32) -> Verdict {
        if reason != 0 {
            self.last_reason = reason;
        }
        // Every activation passes through need-auth once (reason "none") while NetworkManager
        // checks its secrets; after a failed 4-way handshake it comes back with a reason
        // (supplicant disconnect) to ask for new ones.
        self.asked_for_secrets |= new == state::NEED_AUTH && reason != 0;
        self.seen_ip_config |= new == state::IP_CONFIG;
        match new {
            state::ACTIVATED => Verdict::Activated,
            // Failed, or dropped back (removed, unmanaged, disconnected) before activation.
            state::FAILED => Verdict::Failed,
            n if n <= state::DISCONNECTED => Verdict::Failed,
            _ => Verdict::Pending,
        }
    }

    /// Why it failed.
    #[must_use]
    pub fn failure(&self, dhcp_limit: Duration) -> JoinError {
        if self.seen_ip_config {
            JoinError::NoAddress(dhcp_limit.as_secs())
        } else {
            failure(self.last_reason, self.asked_for_secrets, dhcp_limit)
        }
    }

    /// What a timeout means at this point.
    #[must_use]
    pub fn timed_out(&self, limit: Duration, dhcp_limit: Duration) -> JoinError {
        if self.seen_ip_config {
            JoinError::NoAddress(dhcp_limit.as_secs())
        } else if self.asked_for_secrets {
            JoinError::WrongPassword
        } else {
            JoinError::Timeout(limit.as_secs())
        }
    }
}

impl NetworkManager {
    /// Connects to the system bus and finds `iface`'s device.
    ///
    /// # Errors
    /// [`JoinError::NetworkManager`] if the bus, NetworkManager or the device is missing.
    pub fn connect(iface: &str) -> Result<Self, JoinError> {
        let bus = Connection::system().map_err(dbus_error("the system bus"))?;
        let root = proxy(&bus, ROOT, BUS_NAME)?;
        let device: OwnedObjectPath = root
            .call("GetDeviceByIpIface", &(iface,))
            .map_err(|e| JoinError::NetworkManager(format!("no device {iface}: {e}")))?;
        // Subscribed before returning, so no transition after this point is missed; a thread
        // forwards them for the life of the connection.
        let signals = proxy(&bus, device.as_str(), DEVICE)?
            .receive_signal("StateChanged")
            .map_err(dbus_error("subscribing to StateChanged"))?;
        let (sender, transitions) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("nm-signals".to_owned())
            .spawn(move || {
                for message in signals {
                    let Ok((new, _old, reason)) = message.body().deserialize::<(u32, u32, u32)>()
                    else {
                        continue;
                    };
                    if sender.send((new, reason)).is_err() {
                        break;
                    }
                }
            })
            .map_err(|e| JoinError::NetworkManager(format!("signal thread: {e}")))?;
        Ok(Self {
            bus,
            device,
            iface: iface.to_owned(),
            transitions,
        })
    }

    fn object(&self, path: &str, interface: &'static str) -> Result<Proxy<'static>, JoinError> {
        proxy(&self.bus, path, interface)
    }

    fn device(&self, interface: &'static str) -> Result<Proxy<'static>, JoinError> {
        self.object(self.device.as_str(), interface)
    }

    /// The device state and its reason.
    ///
    /// # Errors
    /// [`JoinError::NetworkManager`] on a D-Bus failure.
    pub fn state(&self) -> Result<(u32, u32), JoinError> {
        let device = self.device(DEVICE)?;
        let state: u32 = device
            .get_property("State")
            .map_err(dbus_error("device state"))?;
        let reason = device
            .get_property::<OwnedValue>("StateReason")
            .ok()
            .and_then(|v| <(u32, u32)>::try_from(v).ok())
            .map_or(0, |(_, reason)| reason);
        Ok((state, reason))
    }

    /// Hands the interface to NetworkManager (`true`) or takes it away (`false`), and waits until
    /// NetworkManager has let go of it (unmanaged) or can use it (disconnected or further).
    ///
    /// # Errors
    /// [`JoinError::NetworkManager`] on a D-Bus failure or if the device does not get there in
    /// `limit`.
    pub fn set_managed(&self, managed: bool, limit: Duration) -> Result<(), JoinError> {
        self.device(DEVICE)?
            .set_property("Managed", managed)
            .map_err(dbus_error("setting Managed"))?;
        let started = Instant::now();
        loop {
            let (now, _) = self.state()?;
            let there = if managed {
                now >= state::DISCONNECTED
            } else {
                now == state::UNMANAGED
            };
            if there {
                return Ok(());
            }
            if started.elapsed() >= limit {
                return Err(JoinError::NetworkManager(format!(
                    "{} did not become {} within {} s (device state {now})",
                    self.iface,
                    if managed { "available" } else { "unmanaged" },
                    limit.as_secs()
                )));
            }
            std::thread::sleep(POLL);
        }
    }

    /// Finds an access point with `ssid` (scanning for it), preferring `bssid`; `None` when it is
    /// not seen within `limit`.
    fn find_ap(
        &self,
        ssid: &[u8],
        bssid: Option<Mac>,
        limit: Duration,
    ) -> Result<Option<OwnedObjectPath>, JoinError> {
        let wireless = self.device(WIRELESS)?;
        let started = Instant::now();
        let mut last_request: Option<Instant> = None;
        let wanted_bssid = bssid.map(|b| format_mac(&b));
        loop {
            if last_request.is_none_or(|t| t.elapsed() >= Duration::from_secs(3)) {
                let options: HashMap<&str, Value<'_>> =
                    HashMap::from([("ssids", Value::from(vec![ssid.to_vec()]))]);
                // Refused while a scan runs or right after one: the next poll sees its results.
                let _ = wireless.call_method("RequestScan", &(options,));
                last_request = Some(Instant::now());
            }
            let aps: Vec<OwnedObjectPath> = wireless
                .call("GetAllAccessPoints", &())
                .map_err(dbus_error("listing access points"))?;
            let mut found = None;
            for path in aps {
                let Ok(ap) = self.object(path.as_str(), ACCESS_POINT) else {
                    continue;
                };
                if ap.get_property::<Vec<u8>>("Ssid").ok().as_deref() != Some(ssid) {
                    continue;
                }
                let hw = ap.get_property::<String>("HwAddress").unwrap_or_default();
                let preferred = wanted_bssid
                    .as_deref()
                    .is_some_and(|w| hw.eq_ignore_ascii_case(w));
                if preferred {
                    return Ok(Some(path));
                }
                found.get_or_insert(path);
            }
            if found.is_some() {
                return Ok(found);
            }
            if started.elapsed() >= limit {
                return Ok(None);
            }
            std::thread::sleep(POLL);
        }
    }

    /// Hands the interface back to NetworkManager, finds the network, adds and activates a
    /// connection on this device and waits until it is activated with an IPv4 address.
    ///
    /// # Errors
    /// A [`JoinError`] saying why; the connection is deleted again on failure.
    pub fn join(
        &self,
        ssid: &[u8],
        password: &[u8],
        options: &JoinOptions,
    ) -> Result<Joined, JoinError> {
        let psk = if password.is_empty() {
            None
        } else {
            Some(Zeroizing::new(hex(
                &super::wpa::wpa_psk(ssid, password)?[..],
            )))
        };
        let started = Instant::now();
        self.set_managed(true, options.connect_timeout)?;
        // Naming the AP seen in a scan activates at once (measured in the lab: handing NetworkManager
        // "/" makes it wait ~5 s before its own scan). An SSID no scan shows (a hidden network)
        // gets "/": NetworkManager then treats it as hidden and probes for it.
        let scan_limit = options
            .connect_timeout
            .saturating_sub(started.elapsed())
            .min(Duration::from_secs(10));
        let ap = match self.find_ap(ssid, options.bssid, scan_limit)? {
            Some(ap) => ap,
            None => OwnedObjectPath::try_from("/").map_err(dbus_error("object path"))?,
        };
        let root = self.object(ROOT, BUS_NAME)?;
        // Transitions before this activation (unmanaged, disconnected, ...) are not its own.
        self.transitions.try_iter().for_each(drop);
        let (connection, active): (OwnedObjectPath, OwnedObjectPath) = root
            .call(
                "AddAndActivateConnection",
                &(
                    settings(ssid, psk.as_ref().map(|p| p.as_str())),
                    &self.device,
                    &ap,
                ),
            )
            .map_err(dbus_error("AddAndActivateConnection"))?;
        match self.wait_activated(&active, started, options) {
            Ok(ip) => Ok(Joined {
                ip,
                connection: connection.as_str().to_owned(),
            }),
            Err(e) => {
                // Deleting it deactivates it too; NetworkManager must not retry on its own.
                if let Ok(stored) = self.object(connection.as_str(), SETTINGS_CONNECTION) {
                    let _ = stored.call_method("Delete", &());
                }
                Err(e)
            }
        }
    }

    fn wait_activated(
        &self,
        active: &OwnedObjectPath,
        started: Instant,
        options: &JoinOptions,
    ) -> Result<Ipv4Addr, JoinError> {
        let limit = options.connect_timeout + options.dhcp_timeout;
        let connection = self.object(active.as_str(), ACTIVE)?;
        let mut activation = Activation::default();
        loop {
            // Transitions come as signals: need-auth -> failed -> disconnected takes NetworkManager
            // a few ms, too fast to be seen by polling the state.
            match self.transitions.recv_timeout(POLL) {
                Ok((new, reason)) => match activation.transition(new, reason) {
                    Verdict::Pending => continue,
                    Verdict::Activated => return self.address(),
                    Verdict::Failed => return Err(activation.failure(options.dhcp_timeout)),
                },
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(JoinError::NetworkManager(
                        "lost the D-Bus connection while activating".to_owned(),
                    ));
                }
            }
            // A backstop for a lost signal: the active connection's own state (the object is
            // gone once it is deactivated).
            match connection.get_property::<u32>("State") {
                Ok(active::ACTIVATED) => return self.address(),
                Ok(active::DEACTIVATED) | Err(_) => {
                    // Its transitions may still be queued: they carry the reason.
                    for (new, reason) in self.transitions.try_iter() {
                        activation.transition(new, reason);
                    }
                    return Err(activation.failure(options.dhcp_timeout));
                }
                _ => {}
            }
            if started.elapsed() >= limit {
                return Err(activation.timed_out(limit, options.dhcp_timeout));
            }
        }
    }

    /// The device's IPv4 address (NetworkManager's view, else the interface's).
    fn address(&self) -> Result<Ipv4Addr, JoinError> {
        let config: Option<OwnedObjectPath> = self.device(DEVICE)?.get_property("Ip4Config").ok();
        let from_nm = config
            .filter(|path| path.as_str() != "/")
            .and_then(|path| self.object(path.as_str(), IP4_CONFIG).ok())
            .and_then(|ip4| {
                ip4.get_property::<Vec<HashMap<String, OwnedValue>>>("AddressData")
                    .ok()
            })
            .and_then(|data| {
                data.into_iter().find_map(|entry| {
                    let address = entry.get("address")?;
                    let text: &str = address.downcast_ref().ok()?;
                    text.parse().ok()
                })
            });
        from_nm
            .or_else(|| crate::udp::interface_ipv4(&self.iface).ok())
            .ok_or(JoinError::NoAddress(0))
    }
}

fn proxy(
    bus: &Connection,
    path: &str,
    interface: &'static str,
) -> Result<Proxy<'static>, JoinError> {
    let path = ObjectPath::try_from(path.to_owned())
        .map_err(|e| JoinError::NetworkManager(format!("bad object path {path}: {e}")))?;
    zbus::blocking::proxy::Builder::new(bus)
        .destination(BUS_NAME)
        .and_then(|b| b.path(path))
        .and_then(|b| b.interface(interface))
        .map(|b| b.cache_properties(CacheProperties::No))
        .and_then(zbus::blocking::proxy::Builder::build)
        .map_err(dbus_error("proxy"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_password_reasons() {
        let limit = Duration::from_secs(20);
        assert_eq!(failure(7, false, limit), JoinError::WrongPassword);
        assert_eq!(failure(8, false, limit), JoinError::WrongPassword);
        // Any reason after NetworkManager asked for new secrets.
        assert_eq!(failure(1, true, limit), JoinError::WrongPassword);
        assert_eq!(failure(53, false, limit), JoinError::NetworkNotFound);
        assert_eq!(failure(17, false, limit), JoinError::NoAddress(20));
        assert!(matches!(
            failure(11, false, limit),
            JoinError::NetworkManager(text) if text.contains("reason 11")
        ));
    }

    /// Transitions as NetworkManager 1.42 made them in the lab (NetworkManager.log).
    fn run(transitions: &[(u32, u32)]) -> (Verdict, Activation) {
        let mut activation = Activation::default();
        for &(new, reason) in transitions {
            let verdict = activation.transition(new, reason);
            if verdict != Verdict::Pending {
                return (verdict, activation);
            }
        }
        (Verdict::Pending, activation)
    }

    #[test]
    fn a_wrong_passphrase_as_networkmanager_reports_it() {
        // prepare, config, need-auth (secrets check), prepare, config, then the failed handshake:
        // need-auth (supplicant-disconnect), failed (no-secrets).
        let (verdict, activation) = run(&[
            (40, 0),
            (50, 0),
            (60, 0),
            (40, 0),
            (50, 0),
            (60, 8),
            (120, 7),
            (30, 0),
        ]);
        assert_eq!(verdict, Verdict::Failed);
        assert_eq!(
            activation.failure(Duration::from_secs(20)),
            JoinError::WrongPassword
        );
    }

    #[test]
    fn a_successful_activation_passes_need_auth_once_without_a_reason() {
        let ok = [
            (40, 0),
            (50, 0),
            (60, 0),
            (40, 0),
            (50, 0),
            (70, 0),
            (80, 0),
            (90, 0),
            (100, 0),
        ];
        let (verdict, activation) = run(&ok);
        assert_eq!(verdict, Verdict::Activated);
        // Had it failed in ip-config instead, that is a DHCP failure, not a password.
        let (verdict, activation2) = run(&[(40, 0), (50, 0), (60, 0), (50, 0), (70, 0), (120, 5)]);
        assert_eq!(verdict, Verdict::Failed);
        assert_eq!(
            activation2.failure(Duration::from_secs(9)),
            JoinError::NoAddress(9)
        );
        assert_eq!(
            activation.timed_out(Duration::from_secs(40), Duration::from_secs(20)),
            JoinError::NoAddress(20)
        );
    }

    #[test]
    fn dropping_out_of_an_activation_is_a_failure_with_its_reason() {
        let (verdict, activation) = run(&[(40, 0), (50, 0), (30, 53)]);
        assert_eq!(verdict, Verdict::Failed);
        assert_eq!(
            activation.failure(Duration::from_secs(20)),
            JoinError::NetworkNotFound
        );
        let (verdict, activation) = run(&[(40, 0), (50, 0)]);
        assert_eq!(verdict, Verdict::Pending);
        assert_eq!(
            activation.timed_out(Duration::from_secs(40), Duration::from_secs(20)),
            JoinError::Timeout(40)
        );
    }

    #[test]
    fn settings_carry_the_ssid_bytes_and_the_psk_only_when_there_is_one() {
        let ssid = [0x48, 0x6f, 0xff, 0x00];
        let psk = "00".repeat(32);
        let with = settings(&ssid, Some(&psk));
        assert_eq!(with["802-11-wireless"]["ssid"], Value::from(ssid.to_vec()));
        assert_eq!(
            with["802-11-wireless-security"]["key-mgmt"],
            Value::from("wpa-psk")
        );
        assert_eq!(
            with["802-11-wireless-security"]["psk"],
            Value::from(psk.clone())
        );
        assert_eq!(with["ipv4"]["method"], Value::from("auto"));
        assert_eq!(with["connection"]["type"], Value::from("802-11-wireless"));
        let open = settings(&ssid, None);
        assert!(!open.contains_key("802-11-wireless-security"));
        // The whole map has the signature AddAndActivateConnection takes.
        use zbus::zvariant::Type as _;
        assert_eq!(
            <HashMap<&str, HashMap<&str, Value<'_>>>>::SIGNATURE.to_string(),
            "a{sa{sv}}"
        );
    }
}
