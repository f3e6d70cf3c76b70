//! `wifiprov airkiss encode` and `wifiprov decode` for AirKiss, against the reference data read in
//! place: every vector cycle reproduced by the CLI, every AirKiss capture (pcap with sidecar, and
//! observation lists) decoded with the expected result.

use std::process::{Command, Output};

use serde_json::Value;
use wifiprov_testkit::shared::{capture_path, capture_sidecars, lengths, load_json, vector_cases};

fn wifiprov(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wifiprov"))
        .args(args)
        .output()
        .expect("run wifiprov")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn encode_prints_every_vector_cycle() {
    for case in vector_cases("airkiss.json") {
        let name = case["name"].as_str().unwrap_or("?");
        let random = case["random"].as_u64().unwrap().to_string();
        let o = wifiprov(&[
            "airkiss",
            "encode",
            "--ssid-hex",
            case["ssid_hex"].as_str().unwrap(),
            "--password-hex",
            case["password_hex"].as_str().unwrap(),
            "--random",
            &random,
        ]);
        assert!(o.status.success(), "{name}: {}", text(&o.stderr));
        let expected: Vec<String> = lengths(&case["lengths"])
            .iter()
            .map(u16::to_string)
            .collect();
        assert_eq!(text(&o.stdout).trim_end(), expected.join(","), "{name}");
        // Text arguments where the case has them.
        if let (Some(ssid), Some(password)) = (case["ssid"].as_str(), case["password"].as_str()) {
            let o = wifiprov(&[
                "airkiss",
                "encode",
                "--ssid",
                ssid,
                "--password",
                password,
                "--random",
                &random,
            ]);
            assert_eq!(
                text(&o.stdout).trim_end(),
                expected.join(","),
                "{name} (text)"
            );
        }
    }
}

#[test]
fn encode_json_and_bad_input() {
    let o = wifiprov(&[
        "airkiss",
        "encode",
        "--ssid",
        "TestAP",
        "--password",
        "12345678",
        "--random",
        "85",
        "--json",
    ]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["magic"], serde_json::json!([8, 31, 46, 52]));
    assert_eq!(v["total_len"], 15);
    let o = wifiprov(&["airkiss", "encode", "--ssid", "", "--random", "1"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("SSID is empty"),
        "{}",
        text(&o.stderr)
    );
    let long = "x".repeat(65);
    let o = wifiprov(&["airkiss", "encode", "--ssid", "a", "--password", &long]);
    assert!(text(&o.stderr).contains("65 bytes"), "{}", text(&o.stderr));
    let o = wifiprov(&["airkiss", "encode", "--ssid", "a", "--random", "256"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn decode_recovers_every_airkiss_capture() {
    let sidecars = capture_sidecars("airkiss");
    assert!(!sidecars.is_empty(), "no airkiss captures");
    for (path, sidecar) in sidecars {
        let pcap = capture_path(sidecar["pcap"].as_str().unwrap());
        for protocol in ["airkiss", "auto"] {
            let o = wifiprov(&[
                "decode",
                "--pcap",
                pcap.to_str().unwrap(),
                "--protocol",
                protocol,
                "--json",
            ]);
            assert!(
                o.status.success(),
                "{}: {}",
                path.display(),
                text(&o.stderr)
            );
            let got: Value = serde_json::from_slice(&o.stdout).unwrap();
            let expect = &sidecar["expect"];
            assert_eq!(got["protocol"], "airkiss");
            for field in ["ssid", "ssid_hex", "password", "password_hex", "random"] {
                assert_eq!(got[field], expect[field], "{}: {field}", path.display());
            }
        }
        // Without beacons (no scan assistance) too.
        let o = wifiprov(&[
            "decode",
            "--pcap",
            pcap.to_str().unwrap(),
            "--no-scan",
            "--json",
        ]);
        let got: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(got["ssid_from_scan"], false);
        assert_eq!(got["password_hex"], sidecar["expect"]["password_hex"]);
    }
}

#[test]
fn decode_reads_observation_lists() {
    let mut files = 0;
    for n in 1..=9 {
        let path = capture_path(&format!("airkiss-capture-{n}.json"));
        if !path.exists() {
            continue;
        }
        files += 1;
        let capture = load_json(&path);
        let o = wifiprov(&["decode", "--observations", path.to_str().unwrap(), "--json"]);
        assert!(
            o.status.success(),
            "{}: {}",
            path.display(),
            text(&o.stderr)
        );
        let got: Value = serde_json::from_slice(&o.stdout).unwrap();
        let expect = &capture["expect"];
        for field in ["ssid_hex", "password_hex", "random"] {
            assert_eq!(got[field], expect[field], "{}: {field}", path.display());
        }
        let reference = capture["reference_decoder"]["complete_after_observations"]
            .as_u64()
            .unwrap();
        let used = got["frames_used"].as_u64().unwrap();
        assert!(
            used < reference,
            "{}: {used} observations, reference {reference}",
            path.display()
        );
    }
    assert!(files > 0);
    // Bad input is a clear error.
    let dir = std::env::temp_dir().join(format!("wifiprov-obs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, body, message) in [
        ("notjson", "{", "is not JSON"),
        ("noarray", "{\"x\":1}", "no \"observations\" array"),
        ("nolen", "{\"observations\":[{\"seq\":1}]}", "\"len\""),
        (
            "badhex",
            "{\"observations\":[{\"header_hex\":\"zz\",\"len\":80}]}",
            "header_hex",
        ),
    ] {
        let file = dir.join(name);
        std::fs::write(&file, body).unwrap();
        let o = wifiprov(&["decode", "--observations", file.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1), "{name}");
        assert!(
            text(&o.stderr).contains(message),
            "{name}: {}",
            text(&o.stderr)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
