//! `wifiprov blufi`: the phone side of Espressif BluFi (the EspBlufi app's flow): version,
//! negotiation (V1 legacy or V2 ffdhe3072 crypto, picked from the version or forced), security
//! mode, optionally the Wi-Fi list and custom data, then station mode, credentials, connect,
//! and the device's status report.

use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use rand::rngs::OsRng;
use serde_json::{Value, json};
use wifiprov_blufi::client::{self, Client};
use wifiprov_blufi::link::Sizing;
use wifiprov_blufi::{Generation, OperationMode, SecurityMode, StationState, Status};
use wifiprov_transport::ble::Target;
use wifiprov_transport::ble::blufi::{BlufiError, BlufiLink, ClientConfig};

use crate::args::{BlufiArgs, CryptoArg};
use crate::output::{display_bytes, format_mac, text_or_null, to_hex};
use crate::softap::seconds;

fn state_text(state: StationState) -> &'static str {
    match state {
        StationState::Connected => "connected",
        StationState::Failed => "failed",
        StationState::Connecting => "connecting",
        StationState::ConnectedWithoutIp => "connected_without_ip",
        _ => "unknown",
    }
}

fn status_json(status: &Status) -> Value {
    json!({"state": state_text(status.station_state),
        "operation_mode": u8::from(status.operation_mode),
        "ssid": status.ssid.as_deref().map(text_or_null),
        "ssid_hex": status.ssid.as_deref().map(to_hex),
        "bssid": status.bssid.map(|b| format_mac(&b)),
        "rssi": status.rssi, "end_reason": status.end_reason})
}

/// What BluFi does not protect (docs/security.md), printed by both ends.
pub(crate) const UNAUTHENTICATED: &str = "BluFi's key exchange is unauthenticated (no PoP, no \
     password): it keeps a passive listener out, but anyone in Bluetooth range can provision the \
     device and an active man in the middle can read the passphrase";

pub(crate) fn run(args: &BlufiArgs) -> Result<()> {
    let (ssid, passphrase) = args.network.bytes(64)?;
    if ssid.is_none() && !(args.scan || args.custom.is_some()) {
        bail!("nothing to do: give --ssid (and --passphrase), or --scan or --custom");
    }
    let target = Target {
        name: args.name.clone(),
        address: args
            .address
            .as_deref()
            .map(crate::ble::parse_address)
            .transpose()?,
        services: Vec::new(),
        prefix: "BLUFI",
    };
    let mut config = ClientConfig::new(target);
    config.adapter.clone_from(&args.hci);
    config.scan_timeout = seconds(args.scan_timeout, "--scan-timeout")?;
    config.timeout = seconds(args.gatt_timeout, "--gatt-timeout")?;
    let wait_connected = seconds(args.timeout, "--timeout")?;
    eprintln!("blufi: warning: {UNAUTHENTICATED}");
    eprintln!(
        "blufi: looking for a device {} on {}",
        config.target.describe(),
        args.hci.as_deref().unwrap_or("the default adapter")
    );
    let mut link = BlufiLink::connect(&config)
        .inspect_err(|e| crate::ble::print_connect_error(args.json, e))
        .context("BLE connection failed")?;
    let found = link.found().clone();
    eprintln!(
        "blufi: connected to {}{} (ATT MTU {})",
        found.address,
        found
            .name
            .as_deref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default(),
        link.mtu()
    );
    let mut client_config = client::Config::new().with_sizing(Sizing::phone(link.mtu()));
    match args.crypto {
        CryptoArg::Auto => {}
        CryptoArg::V1 => client_config = client_config.with_generation(Generation::V1),
        CryptoArg::V2 => client_config = client_config.with_generation(Generation::V2),
    }
    let mut client = Client::new(client_config);
    let result = converse(
        &mut link,
        &mut client,
        ssid.as_deref(),
        &passphrase,
        args,
        wait_connected,
        config.timeout,
    );
    // The app ends with DISCONNECT_BLE; the device drops the link.
    if client.disconnect_ble().is_ok() {
        let _ = link.send(&mut client, "disconnecting");
    }
    link.disconnect();
    match result {
        Ok(mut report) => {
            report["device"] = json!(found.address);
            report["name"] = json!(found.name);
            report["mtu"] = json!(link.mtu());
            let state = report["status"]["state"].as_str().map(str::to_owned);
            let failed = state.as_deref() == Some("failed");
            if failed {
                report["result"] = json!("error");
                report["error"] = json!("connection_failed");
            }
            if args.json {
                println!("{report}");
            }
            if failed {
                bail!(
                    "the device could not join (reason {})",
                    report["status"]["end_reason"]
                );
            }
            if ssid.is_some() {
                eprintln!("blufi: provisioned: {}", state.unwrap_or_default());
            } else {
                eprintln!("blufi: done");
            }
            Ok(())
        }
        Err(error) => {
            if args.json {
                let kind = match &error {
                    BlufiError::Device { .. } => "device_error",
                    BlufiError::Protocol { .. } => "protocol",
                    BlufiError::Timeout { .. } => "timeout",
                    BlufiError::Disconnected { .. } => "disconnected",
                    _ => "link",
                };
                println!(
                    "{}",
                    json!({"result": "error", "error": kind, "message": error.to_string(),
                        "device": found.address})
                );
            }
            Err(error).context("BluFi provisioning failed")
        }
    }
}

/// The conversation after connecting; returns the JSON report (without the device fields).
fn converse(
    link: &mut BlufiLink,
    client: &mut Client,
    ssid: Option<&[u8]>,
    passphrase: &[u8],
    args: &BlufiArgs,
    wait_connected: Duration,
    step: Duration,
) -> Result<Value, BlufiError> {
    client
        .request_version()
        .map_err(|source| BlufiError::Protocol {
            context: "version",
            source,
        })?;
    link.send(client, "version")?;
    let version = link.wait(client, "version", step, |e| match e {
        client::Event::Version(v) => Some(*v),
        _ => None,
    })?;
    let generation = client.generation().unwrap_or(Generation::V1);
    let crypto = if generation == Generation::V1 {
        "v1"
    } else {
        "v2"
    };
    eprintln!(
        "blufi: device speaks BluFi {}.{}; negotiating {} crypto",
        version.major,
        version.minor,
        if generation == Generation::V1 {
            "V1 (DH-1024, MD5, AES-128-CFB)"
        } else {
            "V2 (ffdhe3072, SHA-256, AES-256-CTR)"
        }
    );
    let protocol = |context: &'static str| move |source| BlufiError::Protocol { context, source };
    client
        .negotiate(&mut OsRng)
        .map_err(protocol("negotiation"))?;
    link.send(client, "negotiation")?;
    link.wait(client, "negotiation", step, |e| {
        matches!(e, client::Event::SecurityEstablished).then_some(())
    })?;
    client
        .set_security_mode(SecurityMode::DATA_PROTECTED)
        .map_err(protocol("security mode"))?;
    link.send(client, "security mode")?;
    eprintln!("blufi: secure session established");
    let mut report = json!({"result": "ok", "version": format!("{}.{}", version.major, version.minor),
        "crypto": crypto});
    if args.scan {
        client.request_wifi_list().map_err(protocol("Wi-Fi list"))?;
        link.send(client, "Wi-Fi list")?;
        let list = link.wait(client, "Wi-Fi list", wait_connected, |e| match e {
            client::Event::WifiList(list) => Some(list.clone()),
            _ => None,
        })?;
        eprintln!("blufi: the device sees {} network(s):", list.len());
        for (i, (name, rssi)) in list.iter().enumerate() {
            eprintln!(
                "  {:>2}. {:<32} {:>4} dBm",
                i + 1,
                display_bytes(name),
                rssi
            );
        }
        report["scan"] = list
            .iter()
            .map(|(name, rssi)| json!({"ssid": text_or_null(name), "ssid_hex": to_hex(name), "rssi": rssi}))
            .collect();
    }
    if let Some(custom) = &args.custom {
        client
            .send_custom(custom.as_bytes())
            .map_err(protocol("custom data"))?;
        link.send(client, "custom data")?;
        eprintln!("blufi: custom data sent ({} bytes)", custom.len());
    }
    let Some(ssid) = ssid else {
        return Ok(report);
    };
    client
        .set_operation_mode(OperationMode::Station)
        .map_err(protocol("station mode"))?;
    link.send(client, "station mode")?;
    link.wait(client, "station mode", step, |e| {
        matches!(e, client::Event::Acked(_)).then_some(())
    })?;
    client
        .send_station(ssid, passphrase, None)
        .map_err(protocol("credentials"))?;
    client.connect().map_err(protocol("connect"))?;
    link.send(client, "credentials")?;
    eprintln!("blufi: credentials sent; waiting for the device's status report");
    let status = link.wait(client, "status report", wait_connected, |e| match e {
        client::Event::Status(s) if s.station_state != StationState::Connecting => Some(s.clone()),
        _ => None,
    })?;
    eprintln!(
        "blufi: device: {}{}",
        state_text(status.station_state),
        status
            .end_reason
            .map(|r| format!(" (reason {r})"))
            .unwrap_or_default()
    );
    report["status"] = status_json(&status);
    Ok(report)
}
