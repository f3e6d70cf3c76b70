//! The BLE CLI contracts that need no Bluetooth: `wifiprov ble` / `wifiprov blufi` and
//! `wifiprov device --methods ble|blufi` check every argument before touching the radio, and
//! without a reachable bluetoothd (or device) they fail with a clear error and exit status 1 —
//! never a panic or a hang. The Bluetooth paths themselves are proven in the lab (`ble-*`,
//! `blufi-*` scenarios).

use std::process::{Command, Output};

use serde_json::Value;

fn wifiprov(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wifiprov"))
        .args(args)
        // No system bus here: bluetoothd is unreachable whatever the machine runs.
        .env(
            "DBUS_SYSTEM_BUS_ADDRESS",
            "unix:path=/nonexistent/wifiprov-test-bus",
        )
        .output()
        .expect("wifiprov runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn fails_with(args: &[&str], text: &str) {
    let out = wifiprov(args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    assert!(err.contains(text), "{args:?}: expected {text:?} in: {err}");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
}

#[test]
fn ble_checks_its_arguments_before_connecting() {
    fails_with(&["ble"], "nothing to do");
    fails_with(
        &["ble", "--address", "nonsense", "--scan"],
        "expected AA:BB:CC:DD:EE:FF",
    );
    fails_with(
        &["ble", "--service-uuid", "zz", "--scan"],
        "expected a UUID",
    );
    fails_with(&["ble", "--ssid", ""], "1..32 bytes");
    fails_with(
        &["ble", "--ssid", "x", "--passphrase", &"p".repeat(64)],
        "at most 63 bytes",
    );
    fails_with(&["ble", "--scan", "--scan-timeout", "0"], "positive number");
    fails_with(
        &["ble", "--custom", "novalue", "--scan"],
        "expected NAME=VALUE",
    );
    fails_with(&["ble", "--qr", "{not json", "--scan"], "--qr is not JSON");
    let usage = wifiprov(&["ble", "--name", "a", "--address", "00:11:22:33:44:55"]);
    assert_eq!(usage.status.code(), Some(2), "{}", stderr(&usage));
}

#[test]
fn blufi_checks_its_arguments_before_connecting() {
    fails_with(&["blufi"], "nothing to do");
    fails_with(&["blufi", "--ssid", ""], "1..32 bytes");
    fails_with(
        &["blufi", "--address", "1:2:3", "--scan"],
        "expected AA:BB:CC:DD:EE:FF",
    );
    fails_with(&["blufi", "--scan", "--timeout=-1"], "positive number");
    let usage = wifiprov(&["blufi", "--crypto", "v3", "--scan"]);
    assert_eq!(usage.status.code(), Some(2), "{}", stderr(&usage));
}

#[test]
fn without_bluetoothd_the_clients_fail_clearly_with_json() {
    for command in ["ble", "blufi"] {
        let out = wifiprov(&[command, "--scan", "--json", "--scan-timeout", "1"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{command}: {err}");
        assert!(err.contains("BLE connection failed"), "{command}: {err}");
        assert!(err.contains("bluetoothd"), "{command}: {err}");
        let json: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
        assert_eq!(json["result"], "error", "{command}: {json}");
        assert_eq!(json["error"], "bluetooth", "{command}: {json}");
    }
}

#[test]
fn device_ble_methods_check_their_settings() {
    fails_with(
        &["device", "--methods", "ble,softap", "--iface", "lo"],
        "runs alone",
    );
    fails_with(
        &[
            "device",
            "--methods",
            "blufi",
            "--backend",
            "record",
            "--service-name",
            &"n".repeat(30),
        ],
        "1..29 bytes",
    );
    fails_with(
        &[
            "device",
            "--methods",
            "ble",
            "--backend",
            "record",
            "--sec",
            "0",
            "--service-uuid",
            "nope",
        ],
        "expected a UUID",
    );
    fails_with(
        &["device", "--methods", "ble", "--backend", "record"],
        "security 2 needs --username",
    );
}

#[test]
fn device_ble_without_bluetoothd_fails_clearly() {
    for method in ["ble", "blufi"] {
        let dir =
            std::env::temp_dir().join(format!("wifiprov-ble-cli-{method}-{}", std::process::id()));
        let out = wifiprov(&[
            "device",
            "--methods",
            method,
            "--backend",
            "record",
            "--sec",
            "0",
            "--state-dir",
            dir.to_str().unwrap(),
        ]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{method}: {err}");
        assert!(err.contains("bluetoothd"), "{method}: {err}");
        assert!(!err.contains("panicked"), "{method}: {err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
