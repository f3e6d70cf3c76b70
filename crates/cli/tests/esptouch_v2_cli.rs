//! The ESP-TOUCH v2 CLI contracts: `esptouch encode --v2` reproduces every vector of
//! `../shared/vectors/esptouch-v2.json` from its recorded randomness, `decode --protocol
//! esptouch-v2|auto` recovers every v2 capture (JSON with `reserved_hex`), and encrypted data
//! without the key, or with a wrong one, is "key needed" / "key wrong", never credentials.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::{Value, json};
use wifiprov_testkit::shared::{capture_path, capture_sidecars, lengths, vector_cases};

fn wifiprov(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wifiprov"))
        .args(args)
        .output()
        .expect("wifiprov runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The `esptouch encode --v2` arguments of a vector case (hex forms, so any bytes work).
fn encode_args(case: &Value) -> Vec<String> {
    let s = |k: &str| case[k].as_str().unwrap_or_default().to_owned();
    let mut args: Vec<String> = [
        "esptouch",
        "encode",
        "--v2",
        "--ssid-hex",
        &s("ssid_hex"),
        "--password-hex",
        &s("password_hex"),
        "--bssid",
        &s("bssid"),
        "--ip",
        &s("ip"),
        "--port-mark",
        &case["port_mark"].to_string(),
    ]
    .iter()
    .map(|a| (*a).to_owned())
    .collect();
    if !s("reserved_data_hex").is_empty() {
        args.extend(["--reserved-hex".to_owned(), s("reserved_data_hex")]);
    }
    if let Some(key) = case["aes_key"].as_str() {
        args.extend([
            "--aes-key".to_owned(),
            key.to_owned(),
            "--security-ver".to_owned(),
            case["security_ver"].to_string(),
        ]);
    }
    if !s("random_hex").is_empty() {
        args.extend(["--random-hex".to_owned(), s("random_hex")]);
    }
    args
}

fn run(args: &[String]) -> Output {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    wifiprov(&refs)
}

#[test]
fn encode_v2_reproduces_every_vector() {
    let cases = vector_cases("esptouch-v2.json");
    assert!(!cases.is_empty());
    for case in &cases {
        let name = case["name"].as_str().unwrap_or("?");
        let o = run(&encode_args(case));
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        let expected: Vec<String> = lengths(&case["lengths"])
            .iter()
            .map(u16::to_string)
            .collect();
        assert_eq!(stdout(&o).trim(), expected.join(","), "{name}");
        // --json carries the same lengths and the header.
        let mut args = encode_args(case);
        args.push("--json".to_owned());
        let o = run(&args);
        let v: Value = serde_json::from_str(&stdout(&o)).expect("JSON");
        assert_eq!(v["header_hex"], case["header_hex"], "{name}");
        assert_eq!(v["group_count"], case["group_count"], "{name}");
        assert_eq!(v["encrypted"], case["encrypted"], "{name}");
        assert_eq!(v["lengths"], case["lengths"], "{name}");
    }
}

#[test]
fn encode_v2_rejects_bad_input_clearly() {
    let base = [
        "esptouch",
        "encode",
        "--v2",
        "--ssid",
        "TestAP",
        "--password",
        "12345678",
        "--bssid",
        "aa:bb:cc:dd:ee:ff",
        "--ip",
        "192.168.1.2",
    ];
    let with = |extra: &[&str]| {
        let mut args: Vec<&str> = base.to_vec();
        args.extend_from_slice(extra);
        wifiprov(&args)
    };
    for (extra, needle) in [
        (&["--aes-key", "short"][..], "16 characters"),
        (&["--random-hex", "01"][..], "needs more"),
        (&["--random-hex", "0102030405060708"][..], "uses 4"),
        (&["--reserved-hex", "zz"][..], "not hex"),
        (&["--port-mark", "4"][..], "4"),
        (
            &["--security-ver", "3", "--aes-key", "0123456789abcdef"][..],
            "3",
        ),
    ] {
        let o = with(extra);
        assert!(!o.status.success(), "{extra:?} accepted");
        assert!(
            stderr(&o).contains(needle),
            "{extra:?}: {:?} lacks {needle:?}",
            stderr(&o)
        );
        assert!(!stderr(&o).contains("panicked"), "{extra:?}");
    }
    let too_long = "x".repeat(65);
    let o = with(&["--reserved", &too_long]);
    assert!(stderr(&o).contains("at most 64"), "{}", stderr(&o));
    // v1-only and v2-only options do not mix.
    let o = with(&["--with-guide"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    // IPv6 is a v2 thing.
    let o = wifiprov(&[
        "esptouch",
        "encode",
        "--ssid",
        "a",
        "--bssid",
        "aa:bb:cc:dd:ee:ff",
        "--ip",
        "fe80::1",
    ]);
    assert!(stderr(&o).contains("IPv6 needs --v2"), "{}", stderr(&o));
}

#[test]
fn decode_recovers_every_v2_capture() {
    let sidecars = capture_sidecars("esptouch-v2");
    assert!(!sidecars.is_empty(), "no esptouch-v2 capture");
    for (_, sidecar) in sidecars {
        let expect = &sidecar["expect"];
        let pcap = capture_path(sidecar["pcap"].as_str().expect("pcap"));
        for protocol in ["esptouch-v2", "auto"] {
            let mut args = vec![
                "decode",
                "--pcap",
                pcap.to_str().expect("utf-8 path"),
                "--protocol",
                protocol,
                "--json",
            ];
            if let Some(key) = expect["aes_key"].as_str() {
                args.extend(["--aes-key", key]);
            }
            let o = wifiprov(&args);
            assert!(o.status.success(), "{}: {}", pcap.display(), stderr(&o));
            let v: Value = serde_json::from_str(&stdout(&o)).expect("JSON");
            assert_eq!(v["protocol"], "esptouch-v2");
            assert_eq!(v["ssid_hex"], expect["ssid_hex"], "{}", pcap.display());
            assert_eq!(v["password_hex"], expect["password_hex"]);
            assert_eq!(v["reserved_hex"], expect["reserved_data_hex"]);
            assert_eq!(v["bssid"], expect["bssid"]);
            assert_eq!(v["phone_mac"], expect["phone_mac"]);
            assert_eq!(v["port_mark"], expect["port_mark"]);
            assert_eq!(v["encrypted"], expect["encrypted"]);
            assert_eq!(v["header_hex"], expect["header_hex"]);
            assert!(v["frames_used"].as_u64().unwrap_or(0) > 0);
        }
        // --explain shows the v2 decoder's view (streams, header shape, group map).
        let o = wifiprov(&[
            "decode",
            "--pcap",
            pcap.to_str().expect("utf-8 path"),
            "--protocol",
            "esptouch-v2",
            "--explain",
        ]);
        let text = stdout(&o);
        assert!(text.contains("ESP-TOUCH v2 decoder"), "{text}");
        assert!(text.contains("header: SSID"), "{text}");
        assert!(text.contains("groups (#"), "{text}");
    }
}

/// Observation records (24-byte ToDS data headers, phone → AP → broadcast) for `lengths`,
/// heard as frames 76 bytes longer, in one file.
fn observation_file(name: &str, lengths: &[u16]) -> PathBuf {
    let (ap, phone) = ("240ac4770001", "a0cbfd770002");
    let records: Vec<Value> = lengths
        .iter()
        .enumerate()
        .map(|(i, &len)| {
            let seq = (i as u16 & 0x0fff) << 4;
            // Data, ToDS + Protected; duration 0; BSSID, SA, DA; sequence control (LE).
            let header = format!(
                "08410000{ap}{phone}ffffffffffff{:02x}{:02x}",
                seq & 0xff,
                seq >> 8
            );
            json!({"header_hex": header, "len": len + 76})
        })
        .collect();
    let path = std::env::temp_dir().join(format!("wifiprov-v2-{}-{name}.json", std::process::id()));
    std::fs::write(&path, json!({ "observations": records }).to_string()).expect("write");
    path
}

#[test]
fn encrypted_data_needs_the_right_key_and_never_yields_garbage() {
    let args: Vec<String> = [
        "esptouch",
        "encode",
        "--v2",
        "--ssid",
        "HomeNet",
        "--password",
        "correct horse battery",
        "--reserved",
        "token-1",
        "--bssid",
        "24:0a:c4:77:00:01",
        "--ip",
        "192.168.77.2",
        "--aes-key",
        "0123456789abcdef",
        "--security-ver",
        "2",
    ]
    .iter()
    .map(|a| (*a).to_owned())
    .collect();
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let pass: Vec<u16> = stdout(&o)
        .trim()
        .split(',')
        .map(|l| l.parse().expect("length"))
        .collect();
    let stream: Vec<u16> = pass.iter().chain(&pass).chain(&pass).copied().collect();
    let file = observation_file("aes", &stream);
    let path = file.to_str().expect("path");
    let decode = |extra: &[&str]| {
        let mut a = vec![
            "decode",
            "--observations",
            path,
            "--protocol",
            "esptouch-v2",
            "--json",
        ];
        a.extend_from_slice(extra);
        wifiprov(&a)
    };
    let o = decode(&["--aes-key", "0123456789abcdef"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(v["password"], "correct horse battery");
    assert_eq!(v["reserved_hex"], "746f6b656e2d31");
    assert_eq!(v["encrypted"], true);
    assert_eq!(v["security_ver"], 2);
    let o = decode(&[]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("key needed"), "{}", stderr(&o));
    assert!(stdout(&o).is_empty(), "no credentials printed");
    let o = decode(&["--aes-key", "fedcba9876543210"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("wrong"), "{}", stderr(&o));
    assert!(stdout(&o).is_empty(), "no credentials printed");
    let _ = std::fs::remove_file(&file);
}

/// `esptouch send --v2` over loopback: without a key it warns that the password goes out
/// readable, with one it does not; no device answers, so it ends with "nothing found" (3) after
/// its timeout and reports the app port's mark.
#[test]
fn send_v2_warns_without_a_key_and_times_out_cleanly() {
    let base = [
        "esptouch",
        "send",
        "--v2",
        "--ssid",
        "HomeNet",
        "--password",
        "correct horse battery",
        "--bssid",
        "24:0a:c4:77:00:01",
        "--ip",
        "127.0.0.1",
        "--dest",
        "127.0.0.1",
        "--timeout",
        "1.6",
        "--json",
    ];
    let o = wifiprov(&base);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("any sniffer"), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(v["protocol"], "esptouch-v2");
    assert_eq!(v["encrypted"], false);
    assert!(v["port_mark"].as_u64().is_some_and(|m| m <= 3), "{v}");
    let mut keyed = base.to_vec();
    keyed.extend(["--aes-key", "0123456789abcdef"]);
    let o = wifiprov(&keyed);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(!stderr(&o).contains("any sniffer"), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(v["encrypted"], true);
}
