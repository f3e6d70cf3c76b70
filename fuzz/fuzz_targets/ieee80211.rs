//! 802.11 frame reduction in `wifiprov_sniff::ieee80211` (`classify`, `observe`, `beacon`):
//! bytes 0–3 are the `Meta` (channel, wire length present flag + length), the rest the frame.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wifiprov_fuzz::Bytes;
use wifiprov_sniff::Instant;
use wifiprov_sniff::ieee80211::{self, Meta};

fuzz_target!(|data: &[u8]| {
    let mut bytes = Bytes::new(data);
    let channel = bytes.u8();
    let flags = bytes.u8();
    let wire_len = bytes.u16();
    let frame = bytes.rest();
    let meta = Meta {
        at: Instant::from_millis(u64::from(wire_len)),
        channel,
        wire_len: (flags & 1 != 0).then_some(wire_len),
    };
    let classified = ieee80211::classify(frame, meta);
    assert_eq!(classified.ok(), ieee80211::observe(frame, meta));
    if let Ok(obs) = classified {
        assert_eq!(obs.channel, channel);
    }
    if let Some(beacon) = ieee80211::beacon(frame) {
        assert!(beacon.ssid.len() <= frame.len());
    }
});
