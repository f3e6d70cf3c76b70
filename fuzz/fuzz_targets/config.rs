//! The device daemon's TOML configuration file (`wifiprov device --config`), through
//! `wifiprov::fuzzing::parse_config`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = wifiprov::fuzzing::parse_config(text);
    }
});
