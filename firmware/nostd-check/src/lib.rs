//! The no-heap guard of the device core.
//!
//! A `staticlib` is a final artifact: rustc refuses to produce one that links the `alloc` crate
//! without a `#[global_allocator]`, and this crate defines none. So this builds only while the
//! decoders, the front, the hopper and the frame reduction use no heap — and no `std`. The
//! functions below make every part reachable, so that nothing is left out of the check.
#![no_std]

use wifiprov_front::{Front, Heard, Method, Step};
use wifiprov_sniff::hop::{Hopper, Tune};
use wifiprov_sniff::{Instant, ieee80211};

/// Feeds one raw 802.11 frame (received at `at_ms` on `channel`) to a fresh front with every
/// method; returns 2 for a result, 1 for a lock, 0 otherwise.
///
/// # Safety
/// `frame` must point to `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wifiprov_check_feed(
    frame: *const u8,
    len: usize,
    at_ms: u64,
    channel: u8,
) -> u8 {
    // SAFETY: the caller's contract.
    let frame = unsafe { core::slice::from_raw_parts(frame, len) };
    let mut front = Front::new(
        &[Method::EsptouchV1, Method::Airkiss, Method::EsptouchV2],
        true,
    );
    let meta = ieee80211::Meta {
        at: Instant::from_millis(at_ms),
        channel,
        wire_len: None,
    };
    // The firmware's path (FCS included, as the ESP32 delivers frames) ...
    let Some(heard) = Heard::from_frame(frame, meta, true) else {
        return 0;
    };
    if let Heard::Data(observation) = heard {
        front.tick(observation.at);
    }
    // ... and the daemon's (frame reduction, scan table, feed) on the same bytes.
    if let Some(beacon) = ieee80211::beacon(frame) {
        front.add_network(beacon.ssid, beacon.bssid);
    }
    if let Some(observation) = ieee80211::observe(frame, meta) {
        let _ = front.feed(&observation);
    }
    match front.hear(&heard) {
        Step::Complete(decoded) => 2 + u8::from(decoded.password().is_empty()),
        Step::Locked { .. } => 1,
        _ => 0,
    }
}

/// The hopper's next channel at `at_ms` (0 = stay).
#[unsafe(no_mangle)]
pub extern "C" fn wifiprov_check_hop(at_ms: u64) -> u8 {
    let mut hopper = Hopper::new(&[], 100);
    match hopper.poll(Instant::from_millis(at_ms)) {
        Tune::Channel(channel) => channel,
        Tune::Stay => 0,
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {
        core::hint::spin_loop();
    }
}
