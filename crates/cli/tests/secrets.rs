//! Secrets hygiene as a user runs wifiprov: recognisable secrets (Wi-Fi passphrase, security 1
//! proof of possession, security 2 password) go through the SoftAP device and client (text and
//! `--json`, success and failure), configuration-file and argument errors; they must appear in
//! no output line and no file but where they belong: the credential store (mode 0600) and the
//! device's QR payload (which exists to hand the PoP / password to the phone, as ESP-IDF's does).
//! Plain text, lower/upper-case hex and base64 forms are all looked for.
//!
//! The sniffing and Bluetooth methods are checked the same way in the lab (every method's
//! scenario ends with `lab_no_secrets`).

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const PASSPHRASE: &str = "Xq7-passphrase-9Zk";
const POP: &str = "Pop-4242-Qzv";
const SRP_PASSWORD: &str = "Srp-Pw-7781-Yxw";

fn forms(secret: &str) -> Vec<String> {
    let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
    vec![
        secret.to_owned(),
        hex.clone(),
        hex.to_uppercase(),
        base64(secret.as_bytes()),
    ]
}

fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ABC[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    // Without padding, and without the last (partial) character: a prefix match is enough.
    out.pop();
    out
}

/// Fails naming where a secret was seen.
fn assert_clean(what: &str, text: &str) {
    for secret in [PASSPHRASE, POP, SRP_PASSWORD] {
        for form in forms(secret) {
            assert!(
                !text.contains(&form),
                "{what} contains a secret ({form:?}):\n{text}"
            );
        }
    }
}

/// The device's output without its QR payload (text: the `QR payload:` line and the drawing
/// after it; JSON: the `qr` field), the one place the PoP / password is meant to be.
fn without_qr(text: &str) -> String {
    let mut out = Vec::new();
    let mut in_drawing = false;
    for line in text.lines() {
        if line.starts_with("QR payload:") {
            in_drawing = true;
            continue;
        }
        if in_drawing && (line.is_empty() || line.chars().any(|c| "█▀▄".contains(c))) {
            continue;
        }
        in_drawing = false;
        match serde_json::from_str::<serde_json::Value>(line) {
            Ok(mut value) if value.is_object() => {
                if let Some(object) = value.as_object_mut() {
                    object.remove("qr");
                }
                out.push(value.to_string());
            }
            _ => out.push(line.to_owned()),
        }
    }
    out.join("\n")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn wifiprov(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wifiprov"))
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("run wifiprov")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

struct Device {
    child: Child,
    port: u16,
    state: std::path::PathBuf,
}

impl Device {
    fn start(tag: &str, json: bool, security: &[&str]) -> Self {
        let port = free_port();
        let state =
            std::env::temp_dir().join(format!("wifiprov-secrets-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&state);
        let listen = format!("127.0.0.1:{port}");
        let state_text = state.to_string_lossy().into_owned();
        let mut args = vec![
            "device",
            "--methods",
            "softap",
            "--no-ap",
            "--backend",
            "record",
            "--listen",
            &listen,
            "--state-dir",
            &state_text,
        ];
        if json {
            args.push("--json");
        }
        args.extend_from_slice(security);
        let child = Command::new(env!("CARGO_BIN_EXE_wifiprov"))
            .args(&args)
            .env("RUST_BACKTRACE", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
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

    /// Waits for the device to finish (provisioned) and returns stdout + stderr.
    fn output(mut self) -> String {
        let started = Instant::now();
        while self.child.try_wait().expect("wait").is_none() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the device did not finish"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        use std::io::Read as _;
        let mut out = String::new();
        if let Some(mut s) = self.child.stdout.take() {
            let _ = s.read_to_string(&mut out);
        }
        if let Some(mut s) = self.child.stderr.take() {
            let _ = s.read_to_string(&mut out);
        }
        out
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.state);
    }
}

/// Every file in the state directory but the credential store is clean; the store holds the
/// passphrase (hex) and is private.
fn check_state_dir(dir: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    for entry in std::fs::read_dir(dir).expect("state dir") {
        let path = entry.expect("entry").path();
        let body = text(&std::fs::read(&path).expect("read"));
        if path.file_name().is_some_and(|n| n == "credentials.json") {
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o077, 0, "the credential store is private");
            assert!(
                body.contains(&forms(PASSPHRASE)[1]),
                "the store has the passphrase"
            );
        } else {
            assert_clean(&path.display().to_string(), &body);
        }
    }
}

#[test]
fn softap_device_and_client_never_print_the_secrets() {
    let sec1 = ["--sec", "1", "--pop", POP];
    let sec2 = [
        "--sec",
        "2",
        "--username",
        "wifiprov",
        "--password",
        SRP_PASSWORD,
    ];
    for (scheme, device_security, client_security) in [
        (1, &sec1[..], &["--pop", POP][..]),
        (
            2,
            &sec2[..],
            &["--username", "wifiprov", "--password", SRP_PASSWORD][..],
        ),
    ] {
        for json in [false, true] {
            let tag = format!("sec{scheme}-{json}");
            let device = Device::start(&tag, json, device_security);
            // A wrong secret first (its error must not quote either secret), then the right one.
            let wrong: Vec<&str> = client_security
                .iter()
                .map(|a| {
                    if *a == POP || *a == SRP_PASSWORD {
                        "wrong-secret"
                    } else {
                        a
                    }
                })
                .collect();
            let mut args = vec!["softap", "--host"];
            let host = device.host();
            args.push(&host);
            args.extend_from_slice(&[
                "--ssid",
                "Home Net",
                "--passphrase",
                PASSPHRASE,
                "--poll",
                "0.1",
            ]);
            if json {
                args.push("--json");
            }
            let mut wrong_args = args.clone();
            wrong_args.extend_from_slice(&wrong);
            let o = wifiprov(&wrong_args);
            assert!(!o.status.success(), "{tag}: a wrong secret fails");
            assert_clean(
                &format!("{tag}: wrong-secret client"),
                &(text(&o.stdout) + &text(&o.stderr)),
            );
            args.extend_from_slice(client_security);
            let o = wifiprov(&args);
            assert!(o.status.success(), "{tag}: {}", text(&o.stderr));
            assert_clean(
                &format!("{tag}: client"),
                &(text(&o.stdout) + &text(&o.stderr)),
            );
            let state = device.state.clone();
            check_state_dir(&state);
            let output = device.output();
            assert!(output.contains("provisioned"), "{tag}: {output}");
            assert_clean(&format!("{tag}: device"), &without_qr(&output));
        }
    }
}

#[test]
fn argument_and_configuration_errors_do_not_quote_secrets() {
    let dir = std::env::temp_dir().join(format!("wifiprov-secrets-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    // A configuration whose error is on the line of a secret, and one with a secret of a wrong
    // type: the message names the key, not the value.
    for (name, body) in [
        (
            "bad-line",
            format!("iface = \"wlan0\"\npop = \"{POP}\" trailing\n"),
        ),
        (
            "bad-type",
            format!("iface = \"wlan0\"\npassword = [\"{SRP_PASSWORD}\"]\n"),
        ),
        (
            "unknown-key",
            format!("iface = \"wlan0\"\npasphrase = \"{PASSPHRASE}\"\n"),
        ),
        (
            "bad-key",
            format!("iface = \"wlan0\"\naes_key = \"{PASSPHRASE}\"\n"),
        ),
    ] {
        let file = dir.join(format!("{name}.toml"));
        std::fs::write(&file, body).expect("write");
        let o = wifiprov(&["device", "--config", file.to_str().expect("path")]);
        assert!(!o.status.success(), "{name}");
        let out = text(&o.stdout) + &text(&o.stderr);
        assert!(
            out.contains("invalid configuration") || out.contains("error"),
            "{name}: {out}"
        );
        assert_clean(name, &out);
    }
    // Arguments out of range.
    let long = PASSPHRASE.repeat(4);
    for args in [
        vec![
            "softap",
            "--host",
            "127.0.0.1:9",
            "--ssid",
            "x",
            "--passphrase",
            &long,
        ],
        vec!["esptouch", "send", "--ssid", "x", "--passphrase", &long],
        vec!["device", "--iface", "wlan0", "--aes-key", PASSPHRASE],
        vec![
            "softap",
            "--host",
            "127.0.0.1:9",
            "--sec",
            "1",
            "--pop",
            POP,
            "--ssid",
            "x",
            "--passphrase",
            PASSPHRASE,
            "--http-timeout",
            "0.2",
        ],
    ] {
        let o = wifiprov(&args);
        assert!(!o.status.success(), "{args:?}");
        let out = text(&o.stdout) + &text(&o.stderr);
        let what = format!("{:?}", &args[..2]);
        // The unknown-host case must fail without quoting the secrets too.
        assert_clean(&what, &out.replace(&long, "<LONG>").replace("<LONG>", ""));
        assert!(
            !out.contains(&long),
            "{what}: the long passphrase is quoted: {out}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
