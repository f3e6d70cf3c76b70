//! Project tasks.
//!
//! * `cargo xtask demo`: the main job. Boots the virtual radio lab (`lab/run`: QEMU, the Debian
//!   kernel, `mac80211_hwsim`, hostapd, wpa_supplicant), provisions a device by every implemented
//!   method — the phone runs `wifiprov esptouch send` (or `wifiprov softap`, a browser on the
//!   captive portal, `wifiprov ble` or `wifiprov blufi` on a second virtual Bluetooth
//!   controller), the device runs the `wifiprov device` daemon — and prints a result table
//!   (method, time to lock, to credentials, to joined, whether the phone got the confirmation:
//!   the ESP-TOUCH ack, or CONNECTED read by the SoftAP/BLE client, the portal page or the BluFi
//!   status report).
//!   Needs root; `lab/run` installs what it needs.
//! * `cargo xtask demo --loopback`: the same two programs over `lo` without the lab (the device
//!   sniffs `lo` with a raw socket, decodes, and acknowledges over UDP).
//! * `cargo run -p xtask --features protos -- protos [--check]`: regenerate the protocomm protobuf
//!   code (`crates/protocomm/src/proto/*.rs`) from `crates/protocomm/proto/*.proto` with
//!   prost-build and `protoc`, or check that the committed code is what they generate.

#[cfg(feature = "protos")]
mod protos;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use serde_json::Value;

fn main() -> Result<()> {
    let task = std::env::args().nth(1).unwrap_or_default();
    match task.as_str() {
        "demo" if std::env::args().nth(2).as_deref() == Some("--loopback") => demo(),
        "demo" => lab_demo(),
        #[cfg(feature = "protos")]
        "protos" => protos::run(
            &workspace_root(),
            std::env::args().nth(2).as_deref() == Some("--check"),
        ),
        _ => {
            eprintln!(
                "usage: cargo xtask demo [--loopback] | cargo run -p xtask --features protos -- protos [--check]"
            );
            std::process::exit(2);
        }
    }
}

/// Lab scenarios of the demo, one per method (and join backend): (method, scenario, the report
/// check that says the phone got the confirmation).
const LAB_DEMO: [(&str, &str, &str); 8] = [
    ("esptouch-v1", "esptouch-v1-basic", "device0_acked"),
    (
        "esptouch-v1/NM",
        "esptouch-v1-networkmanager",
        "device0_acked",
    ),
    ("airkiss", "airkiss-basic", "device0_acked"),
    ("esptouch-v2", "esptouch-v2-basic", "device0_acked"),
    ("softap sec2", "softap-sec2", "client_saw_connected"),
    ("captive portal", "captive-portal", "browser_saw_connected"),
    ("ble sec2", "ble-sec2", "client_saw_connected"),
    ("blufi", "blufi-basic", "client_saw_connected"),
];

fn lab_demo() -> Result<()> {
    if !is_root() {
        bail!("the lab needs root (it installs packages and runs QEMU): run as root");
    }
    let root = workspace_root();
    let scenarios: Vec<&str> = LAB_DEMO.iter().map(|(_, s, _)| *s).collect();
    let status = Command::new("bash")
        .arg(root.join("lab/run"))
        .args(&scenarios)
        .current_dir(&root)
        .status()
        .context("running lab/run")?;
    println!();
    println!(
        "{:<15} {:>7} {:>14} {:>9} {:>10}  scenario",
        "method", "lock s", "credentials s", "joined s", "confirmed"
    );
    let seconds = |v: &Value| {
        v.as_f64()
            .map_or_else(|| "-".to_owned(), |ms| format!("{:.1}", ms / 1000.0))
    };
    let mut all_ok = status.success();
    for (method, scenario, confirmation) in LAB_DEMO {
        let path = root.join("lab/out").join(scenario).join("report.json");
        let report: Value = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(Value::Null);
        let device = &report["device0"];
        // The phone listed this device's ack / read CONNECTED.
        let confirmed = report["checks"][confirmation] == true;
        all_ok &= report["pass"] == true;
        println!(
            "{:<15} {:>7} {:>14} {:>9} {:>10}  {} ({})",
            method,
            seconds(&device["lock_ms"]),
            seconds(&device["credentials_ms"]),
            seconds(&device["joined_ms"]),
            yes(confirmed),
            scenario,
            if report["pass"] == true {
                "pass"
            } else {
                "FAIL"
            }
        );
    }
    println!(
        "\ntimes are from the phone's first datagram (SoftAP and BLE: the client's start; portal: the \
         browser's, Chromium start-up included); reports in lab/out/SCENARIO/"
    );
    if all_ok {
        Ok(())
    } else {
        bail!("the lab demo failed")
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

struct Case {
    method: &'static str,
    ssid: &'static str,
    password: &'static str,
}

struct Outcome {
    method: String,
    decoded: bool,
    acked: bool,
    matches: bool,
    decode_ms: Option<u64>,
    total_ms: u128,
    note: String,
}

fn demo() -> Result<()> {
    if !is_root() {
        bail!("the loopback demo sniffs `lo` with a raw socket: run it as root");
    }
    let root = workspace_root();
    let status = Command::new("cargo")
        .args(["build", "--quiet", "--release", "--package", "wifiprov"])
        .current_dir(&root)
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("cargo build failed");
    }
    let binary = root.join("target/release/wifiprov");
    let out_dir = root.join("target/demo");
    std::fs::create_dir_all(&out_dir)?;
    let cases = [Case {
        method: "esptouch-v1",
        ssid: "HomeNet ☕",
        password: "correct horse battery",
    }];
    let mut outcomes = Vec::new();
    for case in &cases {
        outcomes.push(run_case(&binary, &out_dir, case)?);
    }
    println!();
    println!(
        "{:<14} {:<8} {:<6} {:<8} {:>10} {:>9}  note",
        "method", "decoded", "acked", "correct", "decode ms", "total ms"
    );
    for o in &outcomes {
        println!(
            "{:<14} {:<8} {:<6} {:<8} {:>10} {:>9}  {}",
            o.method,
            yes(o.decoded),
            yes(o.acked),
            yes(o.matches),
            o.decode_ms.map_or("-".to_owned(), |v| v.to_string()),
            o.total_ms,
            o.note
        );
    }
    let report: Vec<Value> = outcomes
        .iter()
        .map(|o| {
            serde_json::json!({"method": o.method, "decoded": o.decoded, "acked": o.acked,
                "correct": o.matches, "decode_ms": o.decode_ms, "total_ms": o.total_ms, "note": o.note})
        })
        .collect();
    let path = out_dir.join("report.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report)?)?;
    println!("\nreport: {}", path.display());
    if outcomes.iter().all(|o| o.decoded && o.acked && o.matches) {
        Ok(())
    } else {
        bail!("not every method provisioned its device")
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "NO" }
}

fn run_case(binary: &Path, out_dir: &Path, case: &Case) -> Result<Outcome> {
    let started = Instant::now();
    let device_log = std::fs::File::create(out_dir.join(format!("{}-device.log", case.method)))?;
    let state_dir = out_dir.join(format!("{}-state", case.method));
    let _ = std::fs::remove_dir_all(&state_dir);
    let device = Command::new(binary)
        .args(["device", "--iface", "lo", "--methods", case.method])
        .args(["--timeout", "60", "--json", "--state-dir"])
        .arg(&state_dir)
        .stdout(Stdio::piped())
        .stderr(device_log)
        .spawn()
        .context("starting the device")?;
    // Let the device open its capture before the phone starts.
    std::thread::sleep(Duration::from_millis(500));
    let sender = Command::new(binary)
        .args([
            "esptouch",
            "send",
            "--ssid",
            case.ssid,
            "--password",
            case.password,
        ])
        .args([
            "--bssid",
            "24:0a:c4:77:00:01",
            "--iface",
            "lo",
            "--dest",
            "127.0.0.1",
        ])
        .args(["--devices", "1", "--timeout", "60", "--json"])
        .stderr(std::fs::File::create(
            out_dir.join(format!("{}-sender.log", case.method)),
        )?)
        .output()
        .context("running the sender")?;
    let device_out = device
        .wait_with_output()
        .context("waiting for the device")?;
    let total_ms = started.elapsed().as_millis();
    std::fs::write(
        out_dir.join(format!("{}-device.json", case.method)),
        &device_out.stdout,
    )?;
    std::fs::write(
        out_dir.join(format!("{}-sender.json", case.method)),
        &sender.stdout,
    )?;
    // The device prints one JSON event per line; the last is "provisioned".
    let events: Vec<Value> = String::from_utf8_lossy(&device_out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let provisioned = events
        .iter()
        .find(|e| e["event"] == "provisioned")
        .cloned()
        .unwrap_or(Value::Null);
    let sender_json: Value = serde_json::from_slice(&sender.stdout).unwrap_or(Value::Null);
    let decoded = provisioned["ssid"].is_string();
    // The password is never printed: check what the device stored.
    let stored: Value = std::fs::read(state_dir.join("credentials.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    let matches = provisioned["ssid"] == case.ssid
        && stored["ssid_hex"] == hex(case.ssid.as_bytes())
        && stored["password_hex"] == hex(case.password.as_bytes());
    let acked = sender_json["devices"]
        .as_array()
        .is_some_and(|d| !d.is_empty());
    Ok(Outcome {
        method: case.method.to_owned(),
        decoded,
        acked,
        matches,
        decode_ms: provisioned["credentials_ms"]
            .as_u64()
            .zip(provisioned["lock_ms"].as_u64())
            .map(|(c, l)| c.saturating_sub(l)),
        total_ms,
        note: "loopback: real UDP on lo, raw-socket sniffer, UDP ack".to_owned(),
    })
}
