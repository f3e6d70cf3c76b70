//! `wifiprov device`: the device daemon (sniff, decode, join, acknowledge), configured by a TOML
//! file and/or options, reporting state changes as text or a JSON event stream, and to a hook.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use serde_json::{Value, json};
use wifiprov_transport::device::{self, AirkissAck, Backend, Config, DaemonError, Event};
use wifiprov_transport::front::{Decoded, Method};

use crate::NothingFound;
use crate::args::{AirkissAckArg, BackendArg, DeviceArgs, Method as MethodArg, Secret};
use crate::output::{display_bytes, format_mac, parse_mac, text_or_null, to_hex};

/// The TOML configuration file (every key optional; options override it).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileConfig {
    iface: Option<String>,
    methods: Option<Vec<MethodArg>>,
    backend: Option<BackendArg>,
    state_dir: Option<PathBuf>,
    channels: Option<Vec<u8>>,
    dwell_ms: Option<u64>,
    timeout: Option<f64>,
    connect_timeout: Option<f64>,
    dhcp_timeout: Option<f64>,
    dhcp_command: Option<String>,
    wpa_ctrl_dir: Option<PathBuf>,
    hook: Option<String>,
    ack: Option<bool>,
    airkiss_ack: Option<AirkissAckArg>,
    aes_key: Option<Secret>,
    keep_running: Option<bool>,
    // SoftAP and BLE
    hci: Option<String>,
    service_uuid: Option<String>,
    blufi_crypto: Option<crate::args::DeviceCryptoArg>,
    blufi_name: Option<String>,
    ap_iface: Option<String>,
    listen: Option<std::net::SocketAddr>,
    no_ap: Option<bool>,
    sec: Option<u8>,
    pop: Option<Secret>,
    username: Option<String>,
    password: Option<Secret>,
    salt_hex: Option<String>,
    verifier_hex: Option<Secret>,
    sec2_patch: Option<u8>,
    service_name: Option<String>,
    service_key: Option<Secret>,
    ap_channel: Option<u8>,
    custom_endpoints: Option<Vec<String>>,
    portal: Option<bool>,
}

/// Parses the configuration file's text. The error names the line and column but does not
/// quote the line (toml's own message does: it may be the line of a passphrase or PoP).
pub(crate) fn parse_config(text: &str) -> Result<FileConfig, String> {
    toml::from_str::<FileConfig>(text).map_err(|e| {
        let message = e.message().trim_end();
        match e.span() {
            Some(span) => {
                let before = text.get(..span.start).unwrap_or(text);
                let line = before.matches('\n').count() + 1;
                let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                format!("line {line}, column {column}: {message}")
            }
            None => message.to_owned(),
        }
    })
}

fn seconds(value: f64, what: &str) -> Result<Duration> {
    if !(value.is_finite() && value >= 0.0) {
        bail!("{what} must be a non-negative number of seconds");
    }
    Ok(Duration::from_secs_f64(value))
}

fn build_config(args: &DeviceArgs) -> Result<(Config, Option<String>, FileConfig)> {
    let mut file = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map(zeroize::Zeroizing::new)
                .with_context(|| format!("cannot read {}", path.display()))?;
            parse_config(&text)
                .map_err(|e| anyhow::anyhow!("invalid configuration {}: {e}", path.display()))?
        }
        None => FileConfig::default(),
    };
    let methods = args
        .methods
        .clone()
        .or(file.methods.take())
        .unwrap_or(vec![MethodArg::EsptouchV1]);
    let softap = methods.contains(&MethodArg::Softap);
    if softap && methods.len() > 1 {
        bail!("--methods softap runs alone (the radio cannot sniff while it is an AP)");
    }
    let ble = methods.contains(&MethodArg::Ble) || methods.contains(&MethodArg::Blufi);
    if ble && softap {
        bail!("--methods softap runs alone (the radio cannot sniff while it is an AP)");
    }
    let record = args.backend.or(file.backend) == Some(BackendArg::Record);
    let serve_only =
        (softap && (args.softap.no_ap || file.no_ap.unwrap_or(false))) || (ble && record);
    let iface = match args.iface.clone().or(file.iface.take()) {
        Some(iface) => iface,
        None if serve_only => String::new(),
        None => bail!("no interface: give --iface or `iface` in the configuration"),
    };
    let mut config = Config::new(&iface);
    config.methods = methods
        .iter()
        .filter_map(|m| match m {
            MethodArg::EsptouchV1 => Some(Method::EsptouchV1),
            MethodArg::Airkiss => Some(Method::Airkiss),
            MethodArg::EsptouchV2 => Some(Method::EsptouchV2),
            MethodArg::Softap | MethodArg::Ble | MethodArg::Blufi => None,
        })
        .collect();
    let backend = args.backend.or(file.backend);
    if backend == Some(BackendArg::Record) && !(softap || ble) {
        bail!("--backend record is for --methods softap, ble or blufi");
    }
    config.backend = match backend.unwrap_or(BackendArg::WpaSupplicant) {
        BackendArg::NetworkManager => Backend::NetworkManager,
        BackendArg::WpaSupplicant | BackendArg::Record => Backend::WpaSupplicant,
    };
    if let Some(dir) = args.state_dir.clone().or(file.state_dir.take()) {
        config.state_dir = dir;
    }
    if let Some(channels) = args.channels.clone().or(file.channels.take()) {
        if let Some(bad) = channels.iter().find(|&&c| !(1..=14).contains(&c)) {
            bail!("channel {bad} is not a 2.4 GHz channel (1..14)");
        }
        config.channels = channels;
    }
    if let Some(ms) = args.dwell_ms.or(file.dwell_ms) {
        if !(10..=10_000).contains(&ms) {
            bail!("--dwell-ms must be 10..10000");
        }
        config.dwell = Duration::from_millis(ms);
    }
    if let Some(t) = args.timeout.or(file.timeout) {
        config.listen_timeout = (t > 0.0).then(|| seconds(t, "--timeout")).transpose()?;
    }
    if let Some(t) = args.connect_timeout.or(file.connect_timeout) {
        config.connect_timeout = seconds(t, "--connect-timeout")?;
    }
    if let Some(t) = args.dhcp_timeout.or(file.dhcp_timeout) {
        config.dhcp_timeout = seconds(t, "--dhcp-timeout")?;
    }
    config.dhcp_command = args.dhcp_command.clone().or(file.dhcp_command.take());
    if let Some(dir) = args.wpa_ctrl_dir.clone().or(file.wpa_ctrl_dir.take()) {
        config.wpa_ctrl_dir = dir;
    }
    config.ack = !args.no_ack && file.ack.unwrap_or(true);
    config.airkiss_ack = match args.airkiss_ack.or(file.airkiss_ack) {
        None | Some(AirkissAckArg::Byte) => AirkissAck::Byte,
        Some(AirkissAckArg::EspIdf) => AirkissAck::EspIdf,
    };
    if let Some(key) = args.aes_key.as_deref().or(file.aes_key.as_deref()) {
        config.esptouch_v2.aes_key =
            Some(crate::esptouch_v2::parse_aes_key(key).context("--aes-key")?);
    }
    config.once = !(args.keep_running || file.keep_running.unwrap_or(false));
    config.mac = args
        .mac
        .as_deref()
        .map(parse_mac)
        .transpose()
        .context("--mac")?;
    config.ip = args.ip;
    let hook = args.hook.clone().or(file.hook.take());
    Ok((config, hook, file))
}

fn method_name(decoded: &Decoded) -> &'static str {
    decoded.method().name()
}

/// The JSON object of an event (never the password).
fn event_json(event: &Event, started: Instant) -> Value {
    let mut value = event_value(event, started);
    // Wall-clock time too, so other programs can line events up with theirs.
    if let Some(object) = value.as_object_mut() {
        let unix_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        object.insert("unix_ms".to_owned(), json!(unix_ms));
    }
    value
}

fn event_value(event: &Event, started: Instant) -> Value {
    let t_ms = started.elapsed().as_millis();
    match event {
        Event::Listening { hopping, tuner } => {
            json!({"event": "listening", "t_ms": t_ms, "hopping": hopping, "tuner": tuner})
        }
        Event::Locked {
            method,
            channel,
            sender,
            bssid,
        } => json!({"event": "locked", "t_ms": t_ms,
            "method": method.name(), "channel": channel, "sender": format_mac(sender), "bssid": format_mac(bssid)}),
        Event::Progress { have, need } => {
            json!({"event": "progress", "t_ms": t_ms, "have": have, "need": need})
        }
        Event::Credentials { decoded } => json!({"event": "credentials", "t_ms": t_ms,
            "method": method_name(decoded), "ssid": text_or_null(decoded.ssid()), "ssid_hex": to_hex(decoded.ssid()),
            "password_len": decoded.password().len(),
            "bssid": decoded.bssid().map(|b| format_mac(&b)),
            "phone_ip": match decoded {
                Decoded::EsptouchV1(c) => Some(Ipv4Addr::from(c.phone_ip()).to_string()),
                Decoded::Airkiss(_) | Decoded::EsptouchV2(_) => None,
            },
            "random": match decoded { Decoded::Airkiss(c) => Some(c.random()), _ => None },
            // ESP-TOUCH v2: the application's reserved data (e.g. a binding token) and the app port.
            "reserved_hex": match decoded { Decoded::EsptouchV2(c) => Some(to_hex(c.credentials.reserved())), _ => None },
            "port_mark": match decoded { Decoded::EsptouchV2(c) => Some(c.credentials.port_mark()), _ => None },
            "encrypted": match decoded { Decoded::EsptouchV2(c) => Some(c.credentials.is_encrypted()), _ => None }}),
        Event::Sealed {
            key_wrong,
            ssid,
            sender,
        } => json!({
            "event": if *key_wrong { "key_wrong" } else { "key_needed" }, "t_ms": t_ms,
            "method": "esptouch-v2", "ssid": text_or_null(ssid), "ssid_hex": to_hex(ssid),
            "sender": format_mac(sender)}),
        Event::Joining { ssid } => {
            json!({"event": "joining", "t_ms": t_ms, "ssid": text_or_null(ssid), "ssid_hex": to_hex(ssid)})
        }
        Event::Joined { ip } => json!({"event": "joined", "t_ms": t_ms, "ip": ip.to_string()}),
        Event::Failed { reason } => json!({"event": "failed", "t_ms": t_ms, "reason": reason}),
        Event::AckSent { phone, rounds } => {
            json!({"event": "ack_sent", "t_ms": t_ms, "phone": phone.to_string(), "rounds": rounds})
        }
        Event::Stopped { reason, explain } => {
            json!({"event": "stopped", "t_ms": t_ms, "reason": reason, "explain": explain})
        }
        Event::Serving {
            address,
            ap_ssid,
            ap_channel,
            security,
            scanned,
            qr,
        } => json!({"event": "serving", "t_ms": t_ms, "address": address.to_string(),
            "ap_ssid": ap_ssid.as_deref().map(text_or_null), "ap_channel": ap_channel,
            "security": security, "scanned": scanned, "qr": serde_json::from_str::<Value>(qr).unwrap_or(Value::Null)}),
        Event::Advertising {
            method,
            address,
            name,
            security,
            scanned,
            qr,
        } => json!({"event": "advertising", "t_ms": t_ms, "method": method, "address": address,
            "name": name, "security": security, "scanned": scanned,
            "qr": serde_json::from_str::<Value>(qr).unwrap_or(Value::Null)}),
        Event::Session { peer, busy } => {
            json!({"event": if *busy { "busy" } else { "session" }, "t_ms": t_ms, "peer": peer.to_string()})
        }
        Event::Established { peer } => {
            json!({"event": "established", "t_ms": t_ms, "peer": peer.to_string()})
        }
        Event::Rejected {
            peer,
            endpoint,
            reason,
        } => {
            json!({"event": "rejected", "t_ms": t_ms, "peer": peer.to_string(), "endpoint": endpoint, "reason": reason})
        }
        Event::Received { ssid, via } => {
            // The captive portal is part of the SoftAP method.
            let method = if *via == "portal" { "softap" } else { via };
            json!({"event": "credentials", "t_ms": t_ms, "method": method,
            "via": via, "ssid": text_or_null(ssid), "ssid_hex": to_hex(ssid)})
        }
        Event::Custom { endpoint, len } => {
            json!({"event": "custom", "t_ms": t_ms, "endpoint": endpoint, "len": len})
        }
        Event::Done => json!({"event": "done", "t_ms": t_ms}),
    }
}

fn event_text(event: &Event) -> Option<String> {
    Some(match event {
        Event::Listening {
            hopping: true,
            tuner,
        } => format!(
            "listening (hopping channels with {})",
            tuner.unwrap_or("iw")
        ),
        Event::Listening { hopping: false, .. } => "listening".to_owned(),
        Event::Locked {
            method,
            channel,
            sender,
            bssid,
        } => format!(
            "locked: {} from {} via {} on channel {channel}",
            method.name(),
            format_mac(sender),
            format_mac(bssid)
        ),
        Event::Progress { .. } => return None,
        Event::Credentials { decoded } => format!(
            "credentials received by {}: SSID {} (password: {} bytes)",
            method_name(decoded),
            display_bytes(decoded.ssid()),
            decoded.password().len()
        ),
        Event::Sealed {
            key_wrong,
            ssid,
            sender,
        } => format!(
            "ESP-TOUCH v2 from {} for SSID {} is encrypted and {}; not provisioned, listening on",
            format_mac(sender),
            display_bytes(ssid),
            if *key_wrong {
                "the configured key (aes_key) does not open it: key wrong"
            } else {
                "no key is configured: key needed (aes_key / --aes-key)"
            }
        ),
        Event::Joining { ssid } => format!("joining {}", display_bytes(ssid)),
        Event::Joined { ip } => format!("joined with address {ip}"),
        Event::Failed { reason } => format!("failed: {reason}; listening again"),
        Event::AckSent { phone, rounds } => format!("ack sent to {phone} ({rounds} rounds)"),
        Event::Stopped { reason, explain } => format!("{reason}\n{explain}"),
        Event::Serving {
            address,
            ap_ssid,
            ap_channel,
            security,
            scanned,
            qr,
        } => {
            let ap = match (ap_ssid, ap_channel) {
                (Some(ssid), Some(ch)) => format!("AP {} on channel {ch}, ", display_bytes(ssid)),
                _ => String::new(),
            };
            format!(
                "serving SoftAP provisioning: {ap}http://{address}, security {security}, {scanned} network(s) scanned\nQR payload: {qr}\n{}",
                qr_text(qr)
            )
        }
        Event::Advertising {
            method,
            address,
            name,
            security,
            scanned,
            qr,
        } => {
            let what = if *method == "blufi" {
                format!("BluFi provisioning, crypto generation {security}")
            } else {
                format!("BLE provisioning, security {security}")
            };
            let qr = if qr.is_empty() {
                String::new()
            } else {
                format!("\nQR payload: {qr}\n{}", qr_text(qr))
            };
            format!("advertising {name:?} on {address}: {what}, {scanned} network(s) scanned{qr}")
        }
        Event::Session { peer, busy: false } => format!("session from {peer}"),
        Event::Session { peer, busy: true } => {
            format!("refused {peer}: another client's session is in use")
        }
        Event::Established { peer } => format!("secure session with {peer}"),
        Event::Rejected {
            peer,
            endpoint,
            reason,
        } => format!("rejected {endpoint} from {peer}: {reason}"),
        Event::Received { ssid, via } => {
            format!("credentials received ({via}): SSID {}", display_bytes(ssid))
        }
        Event::Custom { endpoint, len } => format!("custom endpoint {endpoint}: {len} bytes"),
        Event::Done => "the client read the final status".to_owned(),
    })
}

/// The QR code of `payload`, drawn with Unicode half blocks (empty if it cannot be made).
fn qr_text(payload: &str) -> String {
    qrcode::QrCode::new(payload.as_bytes())
        .map(|code| {
            code.render::<qrcode::render::unicode::Dense1x2>()
                .quiet_zone(true)
                .build()
        })
        .unwrap_or_default()
}

/// Where events go: stdout as JSON lines or stderr as text, and the hook.
struct Reporter {
    json: bool,
    hook: Option<String>,
    started: Instant,
}

impl Reporter {
    fn new(json: bool, hook: Option<String>) -> Self {
        Self {
            json,
            hook,
            started: Instant::now(),
        }
    }

    fn event(&self, event: &Event) {
        let value = event_json(event, self.started);
        if self.json {
            println!("{value}");
        } else if let Some(text) = event_text(event) {
            eprintln!("device: {text}");
        }
        if let Some(hook) = &self.hook {
            run_hook(hook, &value);
        }
    }

    /// The final `provisioned` object (`text` without `--json`).
    fn summary(&self, summary: &Value, text: &str) {
        if self.json {
            println!("{summary}");
        } else {
            eprintln!("device: {text}");
        }
        if let Some(hook) = &self.hook {
            run_hook(hook, summary);
        }
    }
}

fn run_hook(hook: &str, event: &Value) {
    let name = event["event"].as_str().unwrap_or("other").to_owned();
    let spawned = Command::new("sh")
        .args(["-c", hook])
        .env("WIFIPROV_EVENT", &name)
        .env("WIFIPROV_EVENT_JSON", event.to_string())
        .stdin(Stdio::null())
        .spawn();
    match spawned {
        // Reap it without blocking the daemon.
        Ok(mut child) => {
            std::thread::spawn(move || child.wait());
        }
        Err(e) => eprintln!("device: hook for {name} failed to start: {e}"),
    }
}

pub(crate) fn run(args: &DeviceArgs) -> Result<()> {
    let (config, hook, file) = build_config(args)?;
    if args
        .methods
        .as_ref()
        .or(file.methods.as_ref())
        .is_some_and(|m| m.contains(&MethodArg::Softap))
    {
        return run_softap(args, config, hook, file);
    }
    let methods = args.methods.as_ref().or(file.methods.as_ref());
    let has = |method| methods.is_some_and(|m| m.contains(&method));
    let bluetooth = has(MethodArg::Ble) || has(MethodArg::Blufi);
    if bluetooth && !config.methods.is_empty() {
        return run_beside_bluetooth(
            args,
            config,
            hook,
            &file,
            has(MethodArg::Ble),
            has(MethodArg::Blufi),
        );
    }
    if has(MethodArg::Ble) && has(MethodArg::Blufi) {
        return run_ble_and_blufi(args, config, hook, &file);
    }
    if has(MethodArg::Ble) {
        return run_ble(args, config, hook, &file);
    }
    if args
        .methods
        .as_ref()
        .or(file.methods.as_ref())
        .is_some_and(|m| m.contains(&MethodArg::Blufi))
    {
        return run_blufi(args, config, hook, &file);
    }
    let stop = crate::stop_flag();
    let out = Reporter::new(args.json, hook);
    let started = out.started;
    let result = device::run(&config, &stop, |event| out.event(event));
    sniffed_summary(&out, started, result, &config)
}

/// The end of a sniffing run: the summary event, or the error.
fn sniffed_summary(
    out: &Reporter,
    started: Instant,
    result: Result<device::Provisioned, DaemonError>,
    config: &Config,
) -> Result<()> {
    match result {
        Ok(done) => {
            let ms = |d: Option<Duration>| d.map(|d| d.as_millis() as u64);
            let summary = json!({"event": "provisioned", "t_ms": started.elapsed().as_millis(),
                "method": method_name(&done.decoded), "ssid": text_or_null(done.decoded.ssid()),
                "ssid_hex": to_hex(done.decoded.ssid()), "ip": done.ip.to_string(),
                "lock_ms": ms(done.lock_after), "credentials_ms": ms(Some(done.credentials_after)),
                "joined_ms": ms(done.joined_after),
                "credentials_file": config.state_dir.join("credentials.json")});
            out.summary(
                &summary,
                &format!("provisioned ({})", method_name(&done.decoded)),
            );
            Ok(())
        }
        Err(DaemonError::ListenTimeout(s)) => Err(NothingFound(format!(
            "no credentials decoded on {} within {s} s",
            config.iface
        ))
        .into()),
        Err(DaemonError::Stopped) => bail!("interrupted"),
        Err(e) => Err(e).with_context(|| format!("device on {}", config.iface)),
    }
}

/// Sniffing methods and `ble` / `blufi` side by side: the first to provision wins.
fn run_beside_bluetooth(
    args: &DeviceArgs,
    config: Config,
    hook: Option<String>,
    file: &FileConfig,
    ble: bool,
    blufi: bool,
) -> Result<()> {
    let ble = ble
        .then(|| ble_config(args, config.clone(), file))
        .transpose()?;
    let blufi = blufi
        .then(|| blufi_config(args, config.clone(), file, ble.is_some()))
        .transpose()?;
    let stop = crate::stop_flag();
    let out = Reporter::new(args.json, hook);
    let started = out.started;
    let result = device::run_beside_ble(&config, ble.as_ref(), blufi.as_ref(), &stop, |event| {
        out.event(event);
    });
    match result {
        Ok(device::Beside::Sniffed(done)) => sniffed_summary(&out, started, Ok(*done), &config),
        Ok(device::Beside::Served(method, done)) => {
            served_summary(&out, started, Ok(done), method, &config)
        }
        Err(e) => sniffed_summary(&out, started, Err(e), &config),
    }
}

/// The protocomm device settings of SoftAP and BLE (security, service name, custom
/// endpoints) and the QR payload for `transport`.
fn protocomm_settings(
    args: &DeviceArgs,
    station: &Config,
    file: &FileConfig,
    transport: &str,
) -> Result<(wifiprov_protocomm::device::Config, String, Value)> {
    let a = &args.softap;
    let security = crate::args::SecurityArgs {
        sec: a.security.sec.or(file.sec),
        pop: a.security.pop.clone().or(file.pop.clone()),
        username: a.security.username.clone().or(file.username.clone()),
        password: a.security.password.clone().or(file.password.clone()),
    };
    let (device_security, qr_secrets) = crate::softap::device_security(
        &security,
        a.salt_hex.as_deref().or(file.salt_hex.as_deref()),
        a.verifier_hex.as_deref().or(file.verifier_hex.as_deref()),
        a.sec2_patch.or(file.sec2_patch),
    )?;
    if let Some(warning) =
        crate::softap::security_warning(device_security.version(), device_security.has_pop())
    {
        eprintln!("device: warning: {warning}");
    }
    let mac = (!station.iface.is_empty())
        .then(|| wifiprov_transport::device::radio::mac_address(&station.iface))
        .flatten();
    let name = a
        .service_name
        .clone()
        .or(file.service_name.clone())
        .unwrap_or_else(|| crate::softap::service_name(mac));
    let mut qr = json!({"ver": "v1", "name": name, "transport": transport});
    if let (Some(target), Some(extra)) = (qr.as_object_mut(), qr_secrets.as_object()) {
        for (k, v) in extra {
            target.insert(k.clone(), v.clone());
        }
    }
    let mut protocomm = wifiprov_protocomm::device::Config::new(device_security);
    for endpoint in a
        .custom_endpoint
        .iter()
        .chain(file.custom_endpoints.iter().flatten())
    {
        protocomm = protocomm.with_custom_endpoint(endpoint);
    }
    Ok((protocomm, name, qr))
}

/// `--methods ble`: the BLE device (protocomm over GATT).
fn run_ble(
    args: &DeviceArgs,
    station: Config,
    hook: Option<String>,
    file: &FileConfig,
) -> Result<()> {
    let config = ble_config(args, station, file)?;
    let stop = crate::stop_flag();
    let out = Reporter::new(args.json, hook);
    let started = out.started;
    let result = wifiprov_transport::device::ble::run(&config, &stop, |event| out.event(event));
    served_summary(&out, started, result, "ble", &config.station)
}

/// `--methods ble,blufi`: both services on the adapter until one of them provisions.
fn run_ble_and_blufi(
    args: &DeviceArgs,
    station: Config,
    hook: Option<String>,
    file: &FileConfig,
) -> Result<()> {
    let ble = ble_config(args, station.clone(), file)?;
    let blufi = blufi_config(args, station, file, true)?;
    let stop = crate::stop_flag();
    let out = Reporter::new(args.json, hook);
    let started = out.started;
    let result = wifiprov_transport::device::ble::run_with_blufi(&ble, &blufi, &stop, |event| {
        out.event(event);
    });
    match result {
        Ok((method, done)) => served_summary(&out, started, Ok(done), method, &ble.station),
        Err(e) => served_summary(&out, started, Err(e), "ble,blufi", &ble.station),
    }
}

/// The protocomm-over-GATT device's settings.
fn ble_config(
    args: &DeviceArgs,
    station: Config,
    file: &FileConfig,
) -> Result<wifiprov_transport::device::ble::BleConfig> {
    use wifiprov_transport::ble::protocomm::{SERVICE_EXAMPLE, ServerConfig};
    use wifiprov_transport::device::ble::BleConfig;
    use wifiprov_transport::device::softap::SoftApBackend;

    let a = &args.softap;
    let record = args.backend.or(file.backend) == Some(BackendArg::Record);
    let (protocomm, name, qr) = protocomm_settings(args, &station, file, "ble")?;
    if name.is_empty() || name.len() > 29 {
        bail!("the BLE device name must be 1..29 bytes");
    }
    let service = a
        .service_uuid
        .as_deref()
        .or(file.service_uuid.as_deref())
        .map(|u| crate::ble::parse_uuid(u, "--service-uuid"))
        .transpose()?
        .unwrap_or(SERVICE_EXAMPLE);
    let config = BleConfig {
        station,
        gatt: ServerConfig {
            adapter: a.hci.clone().or(file.hci.clone()),
            name,
            service,
        },
        protocomm,
        backend: if record {
            SoftApBackend::Record
        } else {
            SoftApBackend::Join
        },
        record_ip: std::net::Ipv4Addr::LOCALHOST,
        done_grace: Duration::from_millis(1500),
        auto_stop: Duration::from_secs(30),
        scan_results: a.scan_json.as_deref().map(read_scan_json).transpose()?,
        qr: qr.to_string(),
        before_join: wifiprov_transport::device::BeforeJoin::default(),
    };
    Ok(config)
}

/// `--methods blufi`: the BluFi device.
fn run_blufi(
    args: &DeviceArgs,
    station: Config,
    hook: Option<String>,
    file: &FileConfig,
) -> Result<()> {
    let config = blufi_config(args, station, file, false)?;
    let stop = crate::stop_flag();
    let out = Reporter::new(args.json, hook);
    let started = out.started;
    let result = wifiprov_transport::device::blufi::run(&config, &stop, |event| out.event(event));
    served_summary(&out, started, result, "blufi", &config.station)
}

/// The BluFi device's settings; beside the protocomm service (`with_ble`) `--service-name` is
/// that one's, and BluFi's name is `--blufi-name` (default `BLUFI_DEVICE`).
fn blufi_config(
    args: &DeviceArgs,
    station: Config,
    file: &FileConfig,
    with_ble: bool,
) -> Result<wifiprov_transport::device::blufi::BlufiConfig> {
    use crate::args::DeviceCryptoArg;
    use wifiprov_blufi::Generation;
    use wifiprov_transport::ble::blufi::ServerConfig;
    use wifiprov_transport::device::blufi::BlufiConfig;
    use wifiprov_transport::device::softap::SoftApBackend;

    let a = &args.softap;
    let record = args.backend.or(file.backend) == Some(BackendArg::Record);
    let own_name = a.blufi_name.clone().or(file.blufi_name.clone());
    let name = if with_ble {
        own_name
    } else {
        own_name
            .or(a.service_name.clone())
            .or(file.service_name.clone())
    }
    .unwrap_or_else(|| "BLUFI_DEVICE".to_owned());
    if name.is_empty() || name.len() > 29 {
        bail!("the BLE device name must be 1..29 bytes");
    }
    let generation = match a.blufi_crypto.or(file.blufi_crypto) {
        Some(DeviceCryptoArg::V1) => Generation::V1,
        None | Some(DeviceCryptoArg::V2) => Generation::V2,
    };
    eprintln!("device: warning: {}", crate::blufi::UNAUTHENTICATED);
    let config = BlufiConfig {
        station,
        gatt: ServerConfig {
            adapter: a.hci.clone().or(file.hci.clone()),
            name,
        },
        blufi: wifiprov_blufi::device::Config::new(generation),
        backend: if record {
            SoftApBackend::Record
        } else {
            SoftApBackend::Join
        },
        record_ip: std::net::Ipv4Addr::LOCALHOST,
        done_grace: Duration::from_millis(1500),
        scan_results: a.scan_json.as_deref().map(read_scan_json).transpose()?,
        before_join: wifiprov_transport::device::BeforeJoin::default(),
    };
    Ok(config)
}

/// The end of a SoftAP or BLE device run: the summary event, or the error.
fn served_summary(
    out: &Reporter,
    started: Instant,
    result: Result<wifiprov_transport::device::softap::SoftApProvisioned, DaemonError>,
    method: &str,
    station: &Config,
) -> Result<()> {
    match result {
        Ok(done) => {
            let summary = json!({"event": "provisioned", "t_ms": started.elapsed().as_millis(),
                "method": method, "ssid": text_or_null(&done.ssid), "ssid_hex": to_hex(&done.ssid),
                "ip": done.ip.to_string(), "credentials_ms": done.credentials_after.as_millis() as u64,
                "joined_ms": done.joined_after.as_millis() as u64, "client_saw_connected": done.client_saw_connected,
                "credentials_file": station.state_dir.join("credentials.json")});
            out.summary(&summary, &format!("provisioned ({method})"));
            Ok(())
        }
        Err(DaemonError::Stopped) => bail!("interrupted"),
        Err(DaemonError::ListenTimeout(s)) => {
            Err(NothingFound(format!("not provisioned within {s} s")).into())
        }
        Err(e) => Err(e).with_context(|| format!("{method} device")),
    }
}

/// `--methods softap`: the SoftAP device.
fn run_softap(
    args: &DeviceArgs,
    station: Config,
    hook: Option<String>,
    file: FileConfig,
) -> Result<()> {
    use wifiprov_transport::device::ap::ApConfig;
    use wifiprov_transport::device::softap::{self, SoftApBackend, SoftApConfig};
    use wifiprov_transport::portal::PortalConfig;

    let a = &args.softap;
    let no_ap = a.no_ap || file.no_ap.unwrap_or(false);
    let record = args.backend.or(file.backend) == Some(BackendArg::Record);
    if no_ap && !record {
        bail!("--no-ap serves without a radio: it needs --backend record");
    }
    let address = std::net::Ipv4Addr::new(192, 168, 4, 1);
    let listen = a
        .listen
        .or(file.listen)
        .unwrap_or_else(|| std::net::SocketAddr::from((address, 80)));
    let (protocomm, name, qr) = protocomm_settings(args, &station, &file, "softap")?;
    if name.is_empty() || name.len() > 32 {
        bail!("the service name (AP SSID) must be 1..32 bytes");
    }
    let portal = a.portal || file.portal.unwrap_or(false);
    let portal_config = portal.then(|| PortalConfig {
        address: match listen.ip() {
            std::net::IpAddr::V4(ip) if !ip.is_unspecified() => ip,
            _ => address,
        },
        port: listen.port(),
        device_name: name.clone(),
    });
    let ap = if no_ap {
        None
    } else {
        let channel = a.ap_channel.or(file.ap_channel).unwrap_or(0);
        if channel > 13 {
            bail!("--ap-channel must be 1..13");
        }
        Some(ApConfig {
            iface: a
                .ap_iface
                .clone()
                .or(file.ap_iface.clone())
                .unwrap_or_else(|| station.iface.clone()),
            ssid: name.clone().into_bytes(),
            passphrase: a
                .service_key
                .clone()
                .or(file.service_key.clone())
                .map(|key| key.as_bytes().to_vec()),
            channel,
            address,
            captive_api: portal_config.as_ref().map(PortalConfig::api_url),
            run_dir: station.state_dir.join("run"),
        })
    };
    let config = SoftApConfig {
        station,
        ap,
        listen,
        protocomm,
        backend: if record {
            SoftApBackend::Record
        } else {
            SoftApBackend::Join
        },
        portal: portal_config,
        record_ip: match listen.ip() {
            std::net::IpAddr::V4(ip) if !ip.is_unspecified() => ip,
            _ => std::net::Ipv4Addr::LOCALHOST,
        },
        done_grace: Duration::from_millis(1500),
        auto_stop: Duration::from_secs(30),
        scan_results: a.scan_json.as_deref().map(read_scan_json).transpose()?,
        qr: qr.to_string(),
    };
    let stop = crate::stop_flag();
    let out = Reporter::new(args.json, hook);
    let started = out.started;
    let result = softap::run(&config, &stop, |event| out.event(event));
    served_summary(&out, started, result, "softap", &config.station)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ScanJson {
    ssid: String,
    #[serde(default)]
    channel: u32,
    #[serde(default)]
    rssi: i32,
    #[serde(default)]
    bssid: Option<String>,
    #[serde(default)]
    auth: i32,
}

fn read_scan_json(path: &std::path::Path) -> Result<Vec<wifiprov_protocomm::wifi::ScanEntry>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let list: Vec<ScanJson> = serde_json::from_str(&text)
        .with_context(|| format!("invalid scan list {}", path.display()))?;
    list.into_iter()
        .map(|e| {
            Ok(wifiprov_protocomm::wifi::ScanEntry {
                ssid: e.ssid.into_bytes(),
                channel: e.channel,
                rssi: e.rssi,
                bssid: e
                    .bssid
                    .as_deref()
                    .map(parse_mac)
                    .transpose()?
                    .unwrap_or([0; 6]),
                auth: e.auth,
            })
        })
        .collect()
}
