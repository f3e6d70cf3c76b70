//! The provisioning QR payload (`{"ver":"v1","name":…,"pop":…,"transport":…}`) as
//! `wifiprov softap --qr` and `wifiprov ble --qr` apply it (`wifiprov::fuzzing::parse_qr`).
//! Byte 0 bit 0 picks the transport (`softap` or `ble`); the rest is the payload text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, payload)) = data.split_first() else {
        return;
    };
    let Ok(payload) = std::str::from_utf8(payload) else {
        return;
    };
    let transport = if selector & 1 == 0 { "softap" } else { "ble" };
    let _ = wifiprov::fuzzing::parse_qr(payload, transport);
});
