//! The observations document of `wifiprov decode --observations` (a JSON list of records with
//! `header_hex` + `len`, or `seq` + `len`), through `wifiprov::fuzzing::parse_observations`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = wifiprov::fuzzing::parse_observations(text);
    }
});
