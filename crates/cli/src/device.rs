//! `wifiprov device`: the device daemon (sniff, decode, join, acknowledge), configured by a TOML
//! file and/or options, reporting state changes as text or a JSON event stream, and to a hook.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use serde_json::{Value, json};
use wifiprov_transport::device::{self, Backend, Config, DaemonError, Event};
use wifiprov_transport::front::{Decoded, Method};

use crate::NothingFound;
use crate::args::{BackendArg, DeviceArgs, Method as MethodArg};
use crate::output::{display_bytes, format_mac, parse_mac, text_or_null, to_hex};

/// The TOML configuration file (every key optional; options override it).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
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
    keep_running: Option<bool>,
}

fn seconds(value: f64, what: &str) -> Result<Duration> {
    if !(value.is_finite() && value >= 0.0) {
        bail!("{what} must be a non-negative number of seconds");
    }
    Ok(Duration::from_secs_f64(value))
}

fn build_config(args: &DeviceArgs) -> Result<(Config, Option<String>)> {
    let file = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            toml::from_str::<FileConfig>(&text)
                .with_context(|| format!("invalid configuration {}", path.display()))?
        }
        None => FileConfig::default(),
    };
    let iface = args
        .iface
        .clone()
        .or(file.iface)
        .context("no interface: give --iface or `iface` in the configuration")?;
    let mut config = Config::new(&iface);
    let methods = args
        .methods
        .clone()
        .or(file.methods)
        .unwrap_or(vec![MethodArg::EsptouchV1]);
    config.methods = methods
        .iter()
        .map(|m| match m {
            MethodArg::EsptouchV1 => Method::EsptouchV1,
        })
        .collect();
    config.backend = match args
        .backend
        .or(file.backend)
        .unwrap_or(BackendArg::WpaSupplicant)
    {
        BackendArg::WpaSupplicant => Backend::WpaSupplicant,
        BackendArg::NetworkManager => Backend::NetworkManager,
    };
    if let Some(dir) = args.state_dir.clone().or(file.state_dir) {
        config.state_dir = dir;
    }
    if let Some(channels) = args.channels.clone().or(file.channels) {
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
    config.dhcp_command = args.dhcp_command.clone().or(file.dhcp_command);
    if let Some(dir) = args.wpa_ctrl_dir.clone().or(file.wpa_ctrl_dir) {
        config.wpa_ctrl_dir = dir;
    }
    config.ack = !args.no_ack && file.ack.unwrap_or(true);
    config.once = !(args.keep_running || file.keep_running.unwrap_or(false));
    config.mac = args
        .mac
        .as_deref()
        .map(parse_mac)
        .transpose()
        .context("--mac")?;
    config.ip = args.ip;
    Ok((config, args.hook.clone().or(file.hook)))
}

fn method_name(decoded: &Decoded) -> &'static str {
    decoded.method().name()
}

/// The JSON object of an event (never the password).
fn event_json(event: &Event, started: Instant) -> Value {
    let t_ms = started.elapsed().as_millis();
    match event {
        Event::Listening { hopping } => {
            json!({"event": "listening", "t_ms": t_ms, "hopping": hopping})
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
            "phone_ip": match decoded { Decoded::EsptouchV1(c) => Ipv4Addr::from(c.phone_ip()).to_string() }}),
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
    }
}

fn event_text(event: &Event) -> Option<String> {
    Some(match event {
        Event::Listening { hopping: true } => "listening (hopping channels)".to_owned(),
        Event::Listening { hopping: false } => "listening".to_owned(),
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
        Event::Joining { ssid } => format!("joining {}", display_bytes(ssid)),
        Event::Joined { ip } => format!("joined with address {ip}"),
        Event::Failed { reason } => format!("failed: {reason}; listening again"),
        Event::AckSent { phone, rounds } => format!("ack sent to {phone} ({rounds} rounds)"),
        Event::Stopped { reason, explain } => format!("{reason}\n{explain}"),
    })
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
    let (config, hook) = build_config(args)?;
    let stop = crate::stop_flag();
    let started = Instant::now();
    let json = args.json;
    let result = device::run(&config, &stop, |event| {
        let value = event_json(event, started);
        if json {
            println!("{value}");
        } else if let Some(text) = event_text(event) {
            eprintln!("device: {text}");
        }
        if let Some(hook) = &hook {
            run_hook(hook, &value);
        }
    });
    match result {
        Ok(done) => {
            let ms = |d: Option<Duration>| d.map(|d| d.as_millis() as u64);
            let summary = json!({"event": "provisioned", "t_ms": started.elapsed().as_millis(),
                "method": method_name(&done.decoded), "ssid": text_or_null(done.decoded.ssid()),
                "ssid_hex": to_hex(done.decoded.ssid()), "ip": done.ip.to_string(),
                "lock_ms": ms(done.lock_after), "credentials_ms": ms(Some(done.credentials_after)),
                "joined_ms": ms(done.joined_after),
                "credentials_file": config.state_dir.join("credentials.json")});
            if json {
                println!("{summary}");
            } else {
                eprintln!("device: provisioned ({})", method_name(&done.decoded));
            }
            if let Some(hook) = &hook {
                run_hook(hook, &summary);
            }
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
