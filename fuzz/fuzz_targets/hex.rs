//! Hex as the command line reads it (`--ssid-hex`, `header_hex`, …), through
//! `wifiprov::fuzzing::parse_hex`: what parses must be exactly half as long as the digits.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(bytes) = wifiprov::fuzzing::parse_hex(text) {
            assert!(bytes.len() <= text.len() / 2);
        }
    }
});
