//! The protocomm device (`wifiprov_protocomm::device::Device`, what the SoftAP and BLE device
//! servers call) with security 0, driven by a program of raw and client-encrypted requests to
//! every endpoint (`proto-ver`, `prov-session`, `prov-config`, `prov-scan`, `prov-ctrl`, a
//! custom one), real client handshakes, runtime reports and client-side replies: see
//! `wifiprov_fuzz::protocomm`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| wifiprov_fuzz::protocomm::run(0, data));
