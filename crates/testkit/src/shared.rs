//! Loader for the reference data beside the repository (`../shared`).
//!
//! The directory is `$WIFIPROV_SHARED` if set, else `shared/` next to the workspace root.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The shared reference-data directory.
///
/// # Panics
/// If it does not exist: tests that need the contract data must not silently pass without it.
#[must_use]
pub fn dir() -> PathBuf {
    let dir = std::env::var_os("WIFIPROV_SHARED").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
        PathBuf::from,
    );
    assert!(
        dir.join("vectors").is_dir(),
        "reference data not found at {} (set WIFIPROV_SHARED)",
        dir.display()
    );
    dir
}

/// Path of a file in `shared/vectors/`.
#[must_use]
pub fn vector_path(name: &str) -> PathBuf {
    dir().join("vectors").join(name)
}

/// Path of a file in `shared/captures/`.
#[must_use]
pub fn capture_path(name: &str) -> PathBuf {
    dir().join("captures").join(name)
}

/// Parses a JSON file.
///
/// # Panics
/// If the file is missing or not JSON (a broken contract file is a test failure).
#[must_use]
pub fn load_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// The cases of a vector file (`shared/vectors/NAME`), which must be a non-empty JSON array.
///
/// # Panics
/// If the file is missing, malformed or empty.
#[must_use]
pub fn vector_cases(name: &str) -> Vec<Value> {
    let value = load_json(&vector_path(name));
    let cases = value
        .as_array()
        .unwrap_or_else(|| panic!("{name}: not an array"))
        .clone();
    assert!(!cases.is_empty(), "{name}: no cases");
    cases
}

/// The capture sidecars (`*.json` with a `pcap` key) for `protocol`, with their parsed JSON.
///
/// # Panics
/// If the captures directory cannot be read.
#[must_use]
pub fn capture_sidecars(protocol: &str) -> Vec<(PathBuf, Value)> {
    let dir = dir().join("captures");
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    entries.sort();
    for path in entries {
        let json = load_json(&path);
        if json.get("pcap").is_some() && json["protocol"] == protocol {
            out.push((path, json));
        }
    }
    out
}

/// Decodes a lowercase hex string.
///
/// # Panics
/// On odd length or a non-hex digit.
#[must_use]
pub fn hex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex length: {s}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or_else(|_| panic!("bad hex: {s}")))
        .collect()
}

/// Parses `aa:bb:cc:dd:ee:ff`.
///
/// # Panics
/// If malformed.
#[must_use]
pub fn mac(s: &str) -> [u8; 6] {
    let bytes = hex(&s.replace(':', ""));
    bytes.try_into().unwrap_or_else(|_| panic!("bad MAC: {s}"))
}

/// A JSON array of numbers as `u16`s.
///
/// # Panics
/// If not an array of small numbers.
#[must_use]
pub fn lengths(v: &Value) -> Vec<u16> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| {
            x.as_u64()
                .and_then(|n| u16::try_from(n).ok())
                .unwrap_or_else(|| panic!("not a length: {x}"))
        })
        .collect()
}
