//! `wifiprov ble`: the provisioner over BLE GATT (esp_prov --transport ble), and the BLE
//! settings of `wifiprov device --methods ble`.

use anyhow::{Context as _, Result};
use wifiprov_transport::ble::protocomm::{ClientConfig, GattLink};
use wifiprov_transport::ble::{BleError, Target};

use crate::args::BleArgs;
use crate::softap::{provision_options, provision_with, seconds};

/// A Bluetooth address argument (`AA:BB:CC:DD:EE:FF`).
pub(crate) fn parse_address(text: &str) -> Result<bluer_address::Address> {
    text.parse()
        .map_err(|_| anyhow::anyhow!("--address {text:?}: expected AA:BB:CC:DD:EE:FF"))
}

/// A UUID argument.
pub(crate) fn parse_uuid(text: &str, what: &str) -> Result<bluer_address::Uuid> {
    text.parse().with_context(|| {
        format!("{what} {text:?}: expected a UUID like 021a9004-0382-4aea-bff4-6b3f1c5adfb4")
    })
}

/// With `--json`, the one JSON object for a connection that could not be made.
pub(crate) fn print_connect_error(json: bool, error: &BleError) {
    if !json {
        return;
    }
    let kind = match error {
        BleError::NotFound { .. } => "not_found",
        BleError::NoService { .. } => "no_service",
        BleError::Timeout { .. } => "timeout",
        _ => "bluetooth",
    };
    println!(
        "{}",
        serde_json::json!({"result": "error", "error": kind, "message": error.to_string()})
    );
}

/// The address and UUID types of the Bluetooth stack, without naming its crate in the CLI.
pub(crate) mod bluer_address {
    pub(crate) use wifiprov_transport::ble::{Address, Uuid};
}

pub(crate) fn run(args: &BleArgs) -> Result<()> {
    // Everything the user gave is checked before the radio is touched.
    let (options, qr) = provision_options(&args.common, "ble")?;
    let target = Target {
        name: args.name.clone(),
        address: args.address.as_deref().map(parse_address).transpose()?,
        services: Vec::new(),
        prefix: "PROV_",
    };
    let mut config = ClientConfig::new(target);
    config.adapter.clone_from(&args.hci);
    config.service = args
        .service_uuid
        .as_deref()
        .map(|u| parse_uuid(u, "--service-uuid"))
        .transpose()?;
    config.scan_timeout = seconds(args.scan_timeout, "--scan-timeout")?;
    config.timeout = seconds(args.gatt_timeout, "--gatt-timeout")?;
    eprintln!(
        "ble: looking for a device {} on {}",
        config.target.describe(),
        args.hci.as_deref().unwrap_or("the default adapter")
    );
    let mut link = GattLink::connect(&config)
        .inspect_err(|e| print_connect_error(args.common.json, e))
        .context("BLE connection failed")?;
    let found = link.found().clone();
    eprintln!(
        "ble: connected to {}{}; endpoints: {}",
        found.address,
        found
            .name
            .as_deref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default(),
        link.endpoints().join(", ")
    );
    let result = provision_with(
        &mut link,
        &options,
        qr,
        args.common.json,
        "ble",
        &found.address,
    );
    link.disconnect();
    result
}
