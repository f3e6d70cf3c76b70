//! `wifiprov gen-cred`, `wifiprov softap` and `wifiprov device --methods softap` as a user runs
//! them: output, exit codes and messages (the device serves on loopback, serve-only).

use std::net::TcpListener;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use wifiprov_testkit::shared::{load_json, vector_path};

fn wifiprov(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wifiprov"))
        .args(args)
        .output()
        .expect("run wifiprov")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A serve-only device; killed on drop.
struct Device {
    child: Child,
    port: u16,
    state: std::path::PathBuf,
}

impl Device {
    fn start(tag: &str, security: &[&str]) -> Self {
        let port = free_port();
        let state = std::env::temp_dir().join(format!("wifiprov-cli-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&state);
        let listen = format!("127.0.0.1:{port}");
        let mut args = vec![
            "device",
            "--methods",
            "softap",
            "--no-ap",
            "--backend",
            "record",
            "--listen",
            &listen,
            "--json",
            "--state-dir",
        ];
        let state_text = state.to_string_lossy().into_owned();
        args.push(&state_text);
        args.extend_from_slice(security);
        let child = Command::new(env!("CARGO_BIN_EXE_wifiprov"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the device");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the device does not listen"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, port, state }
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Waits for the device to exit; its JSON events.
    fn events(mut self) -> Vec<Value> {
        let started = Instant::now();
        while self.child.try_wait().expect("wait").is_none() {
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "the device did not finish"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut out = String::new();
        use std::io::Read as _;
        if let Some(mut stdout) = self.child.stdout.take() {
            let _ = stdout.read_to_string(&mut out);
        }
        out.lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.state);
    }
}

#[test]
fn gen_cred_reproduces_the_example_verifier() {
    let sec2 = load_json(&vector_path("protocomm-sec2.json"));
    let inputs = &sec2["transcripts"][0]["inputs"];
    let o = wifiprov(&[
        "gen-cred",
        "--username",
        inputs["username"].as_str().unwrap(),
        "--password",
        inputs["password"].as_str().unwrap(),
        "--salt-hex",
        inputs["salt_hex"].as_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let value: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(value["verifier_hex"], inputs["verifier_hex"]);
    assert_eq!(value["salt_hex"], inputs["salt_hex"]);
    // A random salt: 16 bytes by default, never a leading zero (esp_prov would strip it).
    let o = wifiprov(&["gen-cred", "--password", "x", "--format", "toml"]);
    let toml = text(&o.stdout);
    let salt = toml
        .lines()
        .find_map(|l| l.strip_prefix("salt_hex = \""))
        .unwrap();
    assert_eq!(salt.trim_end_matches('"').len(), 32);
    assert!(!salt.starts_with("00"));
    let o = wifiprov(&["gen-cred", "--password", "x", "--format", "c"]);
    assert!(text(&o.stdout).contains("static const char sec2_verifier[] = {"));
}

#[test]
fn softap_provisions_a_serve_only_device_and_reports_json() {
    let device = Device::start(
        "ok",
        &[
            "--sec",
            "1",
            "--pop",
            "abcd1234",
            "--custom-endpoint",
            "custom-data",
        ],
    );
    let o = wifiprov(&[
        "softap",
        "--host",
        &device.host(),
        "--pop",
        "abcd1234",
        "--ssid",
        "Home Net",
        "--passphrase",
        "secret123",
        "--custom",
        "custom-data=hi",
        "--poll",
        "0.1",
        "--json",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let result: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(result["result"], "ok");
    assert_eq!(result["security"], 1, "taken from proto-ver without --sec");
    assert_eq!(result["station"]["state"], "connected");
    assert_eq!(result["custom"][0]["reply_hex"], "5355434345535300");
    let stderr = text(&o.stderr);
    assert!(stderr.contains("secure session established"), "{stderr}");
    let events = device.events();
    let names: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
    for expected in [
        "serving",
        "session",
        "established",
        "custom",
        "credentials",
        "joined",
        "done",
        "provisioned",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    assert!(
        !events.iter().any(|e| e.to_string().contains("secret123")),
        "no password in events"
    );
}

#[test]
fn softap_fails_fast_and_clearly() {
    let device = Device::start(
        "mismatch",
        &[
            "--sec",
            "2",
            "--username",
            "wifiprov",
            "--password",
            "abcd1234",
        ],
    );
    // Security mismatch: named, with what to use instead; exit 1, JSON says so.
    let o = wifiprov(&[
        "softap",
        "--host",
        &device.host(),
        "--sec",
        "1",
        "--pop",
        "x",
        "--ssid",
        "N",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let result: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(result["error"], "security_mismatch");
    assert!(
        text(&o.stderr).contains("security mismatch: the device uses security 2"),
        "{}",
        text(&o.stderr)
    );
    assert!(
        text(&o.stderr).contains("--sec 2 --username"),
        "{}",
        text(&o.stderr)
    );
    // Missing secret.
    let o = wifiprov(&["softap", "--host", &device.host(), "--ssid", "N"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("give --username and --password"),
        "{}",
        text(&o.stderr)
    );
    // Wrong password: the handshake fails with a hint.
    let o = wifiprov(&[
        "softap",
        "--host",
        &device.host(),
        "--username",
        "wifiprov",
        "--password",
        "nope",
        "--ssid",
        "N",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("handshake failed"),
        "{}",
        text(&o.stderr)
    );
    // The QR payload fills the secrets; the device is still provisionable.
    let o = wifiprov(&[
        "softap",
        "--host",
        &device.host(),
        "--qr",
        r#"{"ver":"v1","name":"PROV_000000","username":"wifiprov","pop":"abcd1234","transport":"softap"}"#,
        "--ssid",
        "N",
        "--poll",
        "0.1",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    drop(device);
    // Nobody listening: a clear connection error.
    let o = wifiprov(&[
        "softap",
        "--host",
        &format!("127.0.0.1:{}", free_port()),
        "--ssid",
        "N",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("reading proto-ver"),
        "{}",
        text(&o.stderr)
    );
    // Bad arguments.
    let o = wifiprov(&["softap", "--host", "127.0.0.1:9"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("nothing to do"),
        "{}",
        text(&o.stderr)
    );
    let o = wifiprov(&["softap", "--sec", "3", "--ssid", "N"]);
    assert_eq!(o.status.code(), Some(2), "usage error");
}

#[test]
fn device_softap_options_are_checked() {
    let o = wifiprov(&[
        "device",
        "--methods",
        "softap",
        "--no-ap",
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("needs --backend record"),
        "{}",
        text(&o.stderr)
    );
    let o = wifiprov(&[
        "device",
        "--methods",
        "softap,esptouch-v1",
        "--iface",
        "wlan0",
    ]);
    assert!(
        text(&o.stderr).contains("runs alone"),
        "{}",
        text(&o.stderr)
    );
    let o = wifiprov(&[
        "device",
        "--methods",
        "softap",
        "--no-ap",
        "--backend",
        "record",
        "--listen",
        "127.0.0.1:0",
        "--sec",
        "2",
    ]);
    assert!(
        text(&o.stderr).contains("security 2 needs --username"),
        "{}",
        text(&o.stderr)
    );
    let o = wifiprov(&["device", "--iface", "lo", "--backend", "record"]);
    assert!(
        text(&o.stderr).contains("--backend record is for --methods softap"),
        "{}",
        text(&o.stderr)
    );
}
