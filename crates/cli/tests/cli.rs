//! Golden tests of the `wifiprov` binary: output and exit codes, against the reference data read in
//! place from `../shared`.

use std::process::{Command, Output};

use serde_json::Value;
use wifiprov_testkit::shared::{capture_path, capture_sidecars, lengths, vector_cases};

fn wifiprov(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wifiprov"))
        .args(args)
        .output()
        .expect("run wifiprov")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn expected_line(case: &Value) -> String {
    lengths(&case["data_cycle"])
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[test]
fn encode_reproduces_every_vector_with_hex_arguments() {
    for case in vector_cases("esptouch-v1.json") {
        let name = case["name"].as_str().unwrap_or("?");
        let o = wifiprov(&[
            "esptouch",
            "encode",
            "--ssid-hex",
            case["ssid_hex"].as_str().expect("ssid_hex"),
            "--password-hex",
            case["password_hex"].as_str().expect("password_hex"),
            "--bssid",
            case["bssid"].as_str().expect("bssid"),
            "--ip",
            case["ip"].as_str().expect("ip"),
        ]);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        assert_eq!(stdout(&o).trim_end(), expected_line(&case), "vector {name}");
    }
}

#[test]
fn encode_reproduces_text_vectors_with_text_arguments() {
    for case in vector_cases("esptouch-v1.json") {
        let (Some(ssid), Some(password)) = (case["ssid"].as_str(), case["password"].as_str())
        else {
            continue;
        };
        let o = wifiprov(&[
            "esptouch",
            "encode",
            "--ssid",
            ssid,
            "--password",
            password,
            "--bssid",
            case["bssid"].as_str().expect("bssid"),
            "--ip",
            case["ip"].as_str().expect("ip"),
        ]);
        assert!(o.status.success(), "{ssid}: {}", stderr(&o));
        assert_eq!(
            stdout(&o).trim_end(),
            expected_line(&case),
            "vector {}",
            case["name"]
        );
    }
}

#[test]
fn encode_rejects_bad_input_with_a_clear_message() {
    let long = "x".repeat(33);
    for (args, needle) in [
        (
            vec![
                "--ssid",
                long.as_str(),
                "--bssid",
                "aa:bb:cc:dd:ee:ff",
                "--ip",
                "10.0.0.2",
            ],
            "SSID is 33 bytes",
        ),
        (
            vec![
                "--ssid",
                "a",
                "--password-hex",
                "zz",
                "--bssid",
                "aa:bb:cc:dd:ee:ff",
                "--ip",
                "10.0.0.2",
            ],
            "not hex",
        ),
        (
            vec!["--ssid", "a", "--bssid", "aa:bb:cc", "--ip", "10.0.0.2"],
            "invalid MAC",
        ),
    ] {
        let mut full = vec!["esptouch", "encode"];
        full.extend(args);
        let o = wifiprov(&full);
        assert_eq!(o.status.code(), Some(1), "{full:?}");
        assert!(stderr(&o).contains(needle), "{full:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"));
    }
    let o = wifiprov(&[
        "esptouch",
        "encode",
        "--ssid",
        "a",
        "--bssid",
        "aa:bb:cc:dd:ee:ff",
        "--ip",
        "300.1.1.1",
    ]);
    assert_eq!(o.status.code(), Some(2), "usage error");
}

#[test]
fn decode_recovers_every_esptouch_v1_capture() {
    let sidecars = capture_sidecars("esptouch-v1");
    assert!(!sidecars.is_empty(), "no esptouch-v1 captures");
    for (path, sidecar) in sidecars {
        let pcap = capture_path(sidecar["pcap"].as_str().expect("pcap"));
        for protocol in ["esptouch-v1", "auto"] {
            let o = wifiprov(&[
                "decode",
                "--pcap",
                pcap.to_str().expect("utf-8 path"),
                "--protocol",
                protocol,
                "--json",
            ]);
            assert!(o.status.success(), "{}: {}", path.display(), stderr(&o));
            let got: Value = serde_json::from_str(&stdout(&o)).expect("one JSON object");
            let expect = &sidecar["expect"];
            assert_eq!(got["protocol"], "esptouch-v1");
            for field in [
                "ssid",
                "ssid_hex",
                "password",
                "password_hex",
                "bssid",
                "phone_ip",
            ] {
                assert_eq!(got[field], expect[field], "{}: {field}", path.display());
            }
            assert!(got["frames_used"].as_u64().is_some_and(|n| n > 0));
        }
    }
}

#[test]
fn decode_explains_what_it_saw() {
    let (_, sidecar) = capture_sidecars("esptouch-v1")
        .into_iter()
        .next()
        .expect("a capture");
    let pcap = capture_path(sidecar["pcap"].as_str().expect("pcap"));
    let o = wifiprov(&[
        "decode",
        "--pcap",
        pcap.to_str().expect("path"),
        "--explain",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = format!("{}{}", stdout(&o), stderr(&o));
    let phone = sidecar["expect"]["phone_mac"].as_str().expect("phone_mac");
    assert!(text.contains(phone), "explain names the sender: {text}");
    assert!(text.contains("overhead"), "{text}");
    assert!(text.contains("lock: sender"), "{text}");
}

#[test]
fn decode_fails_cleanly_on_garbage_and_on_nothing_found() {
    let dir = std::env::temp_dir().join(format!("wifiprov-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let garbage = dir.join("garbage.pcap");
    std::fs::write(&garbage, b"this is not a capture at all").expect("write");
    let o = wifiprov(&["decode", "--pcap", garbage.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"));

    let missing = dir.join("missing.pcap");
    let o = wifiprov(&["decode", "--pcap", missing.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("missing.pcap"), "{}", stderr(&o));

    // A real capture of another protocol holds no ESP-TOUCH v1 credentials.
    let (_, airkiss) = capture_sidecars("airkiss")
        .into_iter()
        .next()
        .expect("airkiss capture");
    let pcap = capture_path(airkiss["pcap"].as_str().expect("pcap"));
    let o = wifiprov(&[
        "decode",
        "--pcap",
        pcap.to_str().expect("path"),
        "--protocol",
        "esptouch-v1",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("no"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn device_reads_the_example_configuration_and_names_a_missing_interface() {
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/../../contrib/device.toml");
    let state = std::env::temp_dir().join(format!("wifiprov-device-{}", std::process::id()));
    let o = wifiprov(&[
        "device",
        "--config",
        config,
        "--iface",
        "nonexistent0",
        "--state-dir",
        state.to_str().expect("path"),
        "--timeout",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("nonexistent0"), "{}", stderr(&o));
    assert!(
        !stderr(&o).contains("invalid configuration"),
        "{}",
        stderr(&o)
    );

    let bad = state.join("bad.toml");
    std::fs::create_dir_all(&state).expect("dir");
    std::fs::write(&bad, "iface = \"wlan0\"\nno_such_key = 1\n").expect("write");
    let o = wifiprov(&["device", "--config", bad.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("invalid configuration"),
        "{}",
        stderr(&o)
    );

    // Both backends are spelled the same in the file and on the command line; a bad one is named.
    let nm = state.join("nm.toml");
    std::fs::write(
        &nm,
        "iface = \"nonexistent0\"\nbackend = \"networkmanager\"\n",
    )
    .expect("write");
    let o = wifiprov(&[
        "device",
        "--config",
        nm.to_str().expect("path"),
        "--timeout",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        !stderr(&o).contains("invalid configuration"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("nonexistent0"), "{}", stderr(&o));
    let o = wifiprov(&[
        "device",
        "--iface",
        "nonexistent0",
        "--backend",
        "networkmanager",
        "--timeout",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("nonexistent0"), "{}", stderr(&o));
    std::fs::write(&nm, "iface = \"wlan0\"\nbackend = \"connman\"\n").expect("write");
    let o = wifiprov(&["device", "--config", nm.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("invalid configuration"),
        "{}",
        stderr(&o)
    );
    let o = wifiprov(&["device", "--iface", "wlan0", "--backend", "connman"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("networkmanager"), "{}", stderr(&o));
    // The AirKiss ack form: file and option spelled alike, a bad one named.
    let ak = state.join("ak.toml");
    std::fs::write(
        &ak,
        "iface = \"nonexistent0\"\nmethods = [\"airkiss\"]\nairkiss_ack = \"esp-idf\"\n",
    )
    .expect("write");
    let o = wifiprov(&[
        "device",
        "--config",
        ak.to_str().expect("path"),
        "--timeout",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("nonexistent0"), "{}", stderr(&o));
    std::fs::write(&ak, "iface = \"wlan0\"\nairkiss_ack = \"long\"\n").expect("write");
    let o = wifiprov(&["device", "--config", ak.to_str().expect("path")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("invalid configuration"),
        "{}",
        stderr(&o)
    );
    let o = wifiprov(&["device", "--iface", "wlan0", "--airkiss-ack", "long"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("esp-idf"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&state);
}
