//! `wifiprov softap` (the provisioner, like esp_prov) and `wifiprov gen-cred`, plus the
//! SoftAP security settings of `wifiprov device --methods softap`.

use std::net::{SocketAddr, ToSocketAddrs as _};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use rand::RngCore as _;
use serde_json::{Value, json};
use wifiprov_protocomm::sec2::Patch;
use wifiprov_protocomm::session::DeviceSecurity;
use wifiprov_protocomm::srp::{self, XDerivation};
use wifiprov_protocomm::wifi::{ScanEntry, Station};
use wifiprov_transport::provision::{
    self, Link, Network, Options, Progress, ProvisionError, Secrets,
};
use wifiprov_transport::softap::HttpLink;
use zeroize::Zeroizing;

use crate::args::{CredFormat, GenCredArgs, ProvisionArgs, Secret, SecurityArgs, SoftapArgs};
use crate::output::{display_bytes, format_mac, parse_hex, text_or_null, to_hex};

pub(crate) fn seconds(value: f64, what: &str) -> Result<Duration> {
    if !(value.is_finite() && value > 0.0) {
        bail!("{what} must be a positive number of seconds");
    }
    Ok(Duration::from_secs_f64(value))
}

/// HOST[:PORT], port 80 by default.
fn resolve(host: &str) -> Result<SocketAddr> {
    let has_port = (host.matches(':').count() == 1 && !host.starts_with('['))
        || (host.starts_with('[') && host.contains("]:"));
    let with_port = if has_port {
        host.to_owned()
    } else {
        format!("{host}:80")
    };
    with_port
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve --host {host}"))?
        .next()
        .with_context(|| format!("--host {host} resolves to no address"))
}

/// Fields of the QR payload (`{"ver":"v1","name":..,"username":..,"pop":..,"transport":..}`;
/// for security 2 the `pop` key carries the SRP password).
pub(crate) fn apply_qr(
    qr: &str,
    security: &mut SecurityArgs,
    transport_wanted: &str,
) -> Result<Value> {
    let value: Value = serde_json::from_str(qr).context("--qr is not JSON")?;
    if value["ver"].as_str().is_some_and(|v| v != "v1") {
        eprintln!(
            "{transport_wanted}: warning: QR payload version {} (expected v1)",
            value["ver"]
        );
    }
    if let Some(transport) = value["transport"].as_str()
        && !transport.eq_ignore_ascii_case(transport_wanted)
    {
        eprintln!(
            "{transport_wanted}: warning: the QR payload is for transport {transport:?}, not {transport_wanted}"
        );
    }
    let username = value["username"].as_str().map(str::to_owned);
    let pop = value["pop"].as_str().map(|p| Secret::from(p.to_owned()));
    if username.is_some() {
        security.username = security.username.take().or(username);
        security.password = security.password.take().or(pop);
        security.sec.get_or_insert(2);
    } else if pop.is_some() {
        security.pop = security.pop.take().or(pop);
    }
    Ok(value)
}

fn scan_json(list: &[ScanEntry]) -> Value {
    list.iter()
        .map(|e| {
            json!({"ssid": text_or_null(&e.ssid), "ssid_hex": to_hex(&e.ssid), "channel": e.channel,
                "rssi": e.rssi, "bssid": format_mac(&e.bssid), "auth": e.auth})
        })
        .collect()
}

fn station_json(station: &Station) -> Value {
    match station {
        Station::Connected(c) => json!({"state": "connected",
            "ip": std::net::Ipv4Addr::from(c.ip).to_string(), "ssid": text_or_null(&c.ssid),
            "ssid_hex": to_hex(&c.ssid), "bssid": format_mac(&c.bssid), "channel": c.channel,
            "auth_mode": c.auth_mode}),
        other => json!({"state": provision::station_text(other)}),
    }
}

pub(crate) fn run(args: &SoftapArgs) -> Result<()> {
    let addr = resolve(&args.host)?;
    let mut link = HttpLink::new(addr, seconds(args.http_timeout, "--http-timeout")?);
    provision_over(&mut link, &args.common, "softap", &addr.to_string())
}

/// The provisioning sequence over `link` with the user's settings; `label` (`softap`, `ble`)
/// prefixes progress lines and names the QR payload's expected transport; `device` names the
/// device in the JSON result.
pub(crate) fn provision_over(
    link: &mut impl Link,
    args: &ProvisionArgs,
    label: &str,
    device: &str,
) -> Result<()> {
    let (options, qr) = provision_options(args, label)?;
    provision_with(link, &options, qr, args.json, label, device)
}

/// The provisioning options from the user's settings (checked before any connection is made),
/// and the QR payload if one was given.
pub(crate) fn provision_options(
    args: &ProvisionArgs,
    label: &str,
) -> Result<(Options, Option<Value>)> {
    let mut security = args.security.clone();
    let qr = args
        .qr
        .as_deref()
        .map(|qr| apply_qr(qr, &mut security, label))
        .transpose()?;
    // ESP-IDF's limit for the passphrase: 63 bytes.
    let (network, passphrase) = args.network.bytes(63)?;
    if network.is_none() && !(args.scan || args.reset || args.reprov || !args.custom.is_empty()) {
        bail!(
            "nothing to do: give --ssid (and --passphrase), or --scan, --custom, --reset or --reprov"
        );
    }
    let mut custom = Vec::new();
    for item in &args.custom {
        let (name, value) = item
            .split_once('=')
            .with_context(|| format!("--custom {item:?}: expected NAME=VALUE"))?;
        if name.is_empty() {
            bail!("--custom {item:?}: empty endpoint name");
        }
        custom.push((name.to_owned(), value.as_bytes().to_vec()));
    }
    let options = Options {
        secrets: Secrets {
            scheme: security.sec,
            pop: security.pop.map(|p| p.to_bytes()),
            username: security.username.map(String::into_bytes),
            password: security.password.map(|p| p.to_bytes()),
            derivation: if args.esp_prov_verifier {
                XDerivation::EspProv
            } else {
                XDerivation::EspIdf
            },
        },
        custom,
        scan: args.scan,
        network: network.map(|ssid| Network { ssid, passphrase }),
        poll_interval: seconds(args.poll, "--poll")?,
        timeout: seconds(args.timeout, "--timeout")?,
        reset_only: args.reset,
        reprovision_only: args.reprov,
    };
    Ok((options, qr))
}

/// Runs the provisioning sequence over `link` and reports the outcome (JSON with `json`).
pub(crate) fn provision_with(
    link: &mut impl Link,
    options: &Options,
    qr: Option<Value>,
    json: bool,
    label: &str,
    device: &str,
) -> Result<()> {
    let stop = crate::stop_flag();
    let mut last_status = String::new();
    let result = provision::run(
        link,
        options,
        &|| stop.load(std::sync::atomic::Ordering::SeqCst),
        &mut |step| match step {
            Progress::DeviceInfo(info) => eprintln!(
                "{label}: device at {device}: {} security {}{}, capabilities [{}]",
                info.version,
                info.scheme(),
                info.patch
                    .map(|p| format!(" (patch {p})"))
                    .unwrap_or_default(),
                info.capabilities.join(", ")
            ),
            Progress::Handshake { scheme } => {
                eprintln!("{label}: security {scheme} handshake");
                if let Some(warning) = security_warning(*scheme, true) {
                    eprintln!("{label}: warning: {warning}");
                }
            }
            Progress::Established => eprintln!("{label}: secure session established"),
            Progress::Custom { endpoint, reply } => {
                eprintln!("{label}: {endpoint} answered {}", display_bytes(reply));
            }
            Progress::Scan(list) => {
                eprintln!("{label}: the device sees {} network(s):", list.len());
                for (i, e) in list.iter().enumerate() {
                    eprintln!(
                        "  {:>2}. {:<32} ch {:>2}  {:>4} dBm  {}  auth {}",
                        i + 1,
                        display_bytes(&e.ssid),
                        e.channel,
                        e.rssi,
                        format_mac(&e.bssid),
                        e.auth
                    );
                }
            }
            Progress::Reset => eprintln!("{label}: the device had failed before; reset it"),
            Progress::Applied => {
                eprintln!("{label}: credentials sent and applied; waiting for the device")
            }
            Progress::Status(station) => {
                let text = provision::station_text(station);
                if text != last_status {
                    eprintln!("{label}: device: {text}");
                    last_status = text;
                }
            }
            _ => {}
        },
    );
    match result {
        Ok(outcome) => {
            if json {
                let custom: Vec<Value> = outcome
                    .custom
                    .iter()
                    .map(|(name, reply)| json!({"endpoint": name, "reply": text_or_null(reply), "reply_hex": to_hex(reply)}))
                    .collect();
                println!(
                    "{}",
                    json!({"result": "ok", "device": device, "proto_ver": outcome.info,
                        "security": outcome.scheme, "custom": custom, "scan": scan_json(&outcome.scan),
                        "station": station_json(&outcome.station), "qr": qr})
                );
            } else if matches!(outcome.station, Station::Connected(_)) {
                eprintln!(
                    "{label}: provisioned: {}",
                    provision::station_text(&outcome.station)
                );
            } else {
                eprintln!("{label}: done");
            }
            Ok(())
        }
        Err(error) => {
            if json {
                let kind = match &error {
                    ProvisionError::SecurityMismatch { .. } => "security_mismatch",
                    ProvisionError::MissingSecret { .. } => "missing_secret",
                    ProvisionError::Handshake { .. } => "handshake_failed",
                    ProvisionError::Failed(_) => "connection_failed",
                    ProvisionError::Timeout(..) => "timeout",
                    ProvisionError::Link { .. } => "link",
                    ProvisionError::Interrupted => "interrupted",
                    _ => "error",
                };
                let reason = match &error {
                    ProvisionError::Failed(reason) => json!(provision::fail_text(*reason)),
                    _ => Value::Null,
                };
                println!(
                    "{}",
                    json!({"result": "error", "error": kind, "message": error.to_string(),
                        "fail_reason": reason, "device": device})
                );
            }
            Err(error).with_context(|| {
                format!(
                    "{} provisioning failed",
                    if label == "softap" { "SoftAP" } else { "BLE" }
                )
            })
        }
    }
}

/// A random salt that esp_prov hashes the same way (it strips leading zero bytes).
fn random_salt(len: usize) -> Vec<u8> {
    let mut salt = vec![0u8; len];
    loop {
        rand::rngs::OsRng.fill_bytes(&mut salt);
        if salt.first() != Some(&0) {
            return salt;
        }
    }
}

pub(crate) fn gen_cred(args: &GenCredArgs) -> Result<()> {
    let salt = match &args.salt_hex {
        Some(hex) => parse_hex(hex).context("--salt-hex")?,
        None => random_salt(usize::from(args.salt_len)),
    };
    if salt.is_empty() {
        bail!("the salt is empty");
    }
    let derivation = if args.esp_prov {
        XDerivation::EspProv
    } else {
        XDerivation::EspIdf
    };
    let (username, password) = (args.username.as_bytes(), args.password.as_bytes());
    if username.is_empty() {
        bail!("the username is empty");
    }
    let verifier = srp::verifier(&salt, username, password, derivation)?;
    let other = srp::verifier(
        &salt,
        username,
        password,
        if args.esp_prov {
            XDerivation::EspIdf
        } else {
            XDerivation::EspProv
        },
    )?;
    if other != verifier {
        eprintln!(
            "gen-cred: warning: for this username/password ESP-IDF and esp_prov derive different verifiers \
             (about 1 password in 256); clients must use the matching rule (wifiprov softap --esp-prov-verifier)"
        );
    }
    match args.format {
        CredFormat::Toml => {
            println!(
                "username = \"{}\"",
                args.username.replace('\\', "\\\\").replace('"', "\\\"")
            );
            println!("salt_hex = \"{}\"", to_hex(&salt));
            println!("verifier_hex = \"{}\"", to_hex(&verifier));
        }
        CredFormat::Json => println!(
            "{}",
            json!({"username": args.username, "salt_hex": to_hex(&salt), "verifier_hex": to_hex(&verifier),
                "derivation": if args.esp_prov {"esp_prov"} else {"esp-idf"}})
        ),
        CredFormat::C => {
            let array = |name: &str, bytes: &[u8]| {
                let lines: Vec<String> = bytes
                    .chunks(16)
                    .map(|c| {
                        let items: Vec<String> = c.iter().map(|b| format!("{b:#04x}")).collect();
                        format!("    {}", items.join(", "))
                    })
                    .collect();
                format!(
                    "static const char {name}[] = {{\n{}\n}};\n",
                    lines.join(",\n")
                )
            };
            print!("{}", array("sec2_salt", &salt));
            println!();
            print!("{}", array("sec2_verifier", &verifier));
        }
    }
    Ok(())
}

/// What a protocomm security scheme does not protect (docs/security.md), for the warning both
/// ends print; `None` for security 2. `has_pop`: security 1 with a proof of possession.
pub(crate) fn security_warning(scheme: u8, has_pop: bool) -> Option<&'static str> {
    match (scheme, has_pop) {
        (0, _) => Some(
            "security 0 is plaintext: anyone who can reach the device (its AP, or Bluetooth range) \
             reads the Wi-Fi passphrase and can provision it; use security 2",
        ),
        (1, false) => Some(
            "security 1 without a proof of possession authenticates nobody: anyone in range can \
             provision the device, and an active attacker can read the passphrase; use security 2",
        ),
        (1, true) => Some(
            "security 1: a recorded handshake lets anyone guess the proof of possession offline \
             (then decrypt the session); a short PoP is weak. Security 2 is the recommended default",
        ),
        _ => None,
    }
}

/// The device's security from its options (security 2 default, with salt/verifier or a
/// password to derive them from).
pub(crate) fn device_security(
    security: &SecurityArgs,
    salt_hex: Option<&str>,
    verifier_hex: Option<&str>,
    patch: Option<u8>,
) -> Result<(DeviceSecurity, Value)> {
    let scheme = security.sec.unwrap_or(2);
    Ok(match scheme {
        0 => (DeviceSecurity::Sec0, json!({})),
        1 => {
            let pop = security.pop.clone().unwrap_or_default();
            let qr = if pop.is_empty() {
                json!({})
            } else {
                json!({"pop": pop.as_str()})
            };
            (
                DeviceSecurity::Sec1 {
                    pop: pop.to_bytes(),
                },
                qr,
            )
        }
        _ => {
            let username = security.username.clone().context(
                "security 2 needs --username (and --password, or --salt-hex/--verifier-hex)",
            )?;
            let (salt, verifier) = match (salt_hex, verifier_hex, &security.password) {
                (Some(salt), Some(verifier), _) => (
                    parse_hex(salt).context("--salt-hex")?,
                    parse_hex(verifier).context("--verifier-hex")?,
                ),
                (None, None, Some(password)) => {
                    let salt = random_salt(16);
                    let verifier = srp::verifier(
                        &salt,
                        username.as_bytes(),
                        password.as_bytes(),
                        XDerivation::EspIdf,
                    )?;
                    (salt, verifier)
                }
                _ => bail!("security 2 needs --password, or both --salt-hex and --verifier-hex"),
            };
            if verifier.is_empty() || verifier.len() > srp::GROUP_BYTES {
                bail!("the verifier must be 1..384 bytes");
            }
            let patch = match patch.unwrap_or(1) {
                0 => Patch::Legacy,
                _ => Patch::Counter,
            };
            // The QR payload carries the password in "pop" (ESP-IDF's example does the same).
            let mut qr = json!({"username": username});
            if let Some(password) = &security.password {
                qr["pop"] = json!(password.as_str());
            }
            (
                DeviceSecurity::Sec2 {
                    salt,
                    verifier: Zeroizing::new(verifier),
                    patch,
                },
                qr,
            )
        }
    })
}

/// ESP-IDF's service name: `PROV_` + the last three MAC bytes in upper-case hex.
pub(crate) fn service_name(mac: Option<[u8; 6]>) -> String {
    let mac = mac.unwrap_or([0; 6]);
    format!("PROV_{:02X}{:02X}{:02X}", mac[3], mac[4], mac[5])
}
