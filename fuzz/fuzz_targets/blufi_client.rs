//! The BluFi client state machine (`wifiprov_blufi::Client`) fed raw frames from the input,
//! interleaved with a real in-memory conversation with the other side (version, DH
//! negotiation of either generation, security and operation modes, credentials, status and
//! Wi-Fi list reports, custom data, resets): see `wifiprov_fuzz::blufi`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wifiprov_fuzz::blufi::{self, Side};

fuzz_target!(|data: &[u8]| blufi::run(Side::Client, data));
