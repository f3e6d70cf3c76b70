//! One captured packet through `wifiprov_transport::capture::decode`: radiotap header parsing
//! (Flags, Channel, FCS handling), bare 802.11 and Ethernet framing, then the 802.11
//! reduction. Byte 0 = link type (radiotap, 802.11, Ethernet) and flags, bytes 1–4 the
//! reported wire length, byte 5 the channel; the rest is the packet.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wifiprov_fuzz::Bytes;
use wifiprov_sniff::{Direction, Instant};
use wifiprov_transport::capture::{self, LinkType, PacketMeta, Record};

fuzz_target!(|data: &[u8]| {
    let mut bytes = Bytes::new(data);
    let selector = bytes.u8();
    let wire_len = bytes.u32();
    let channel = bytes.u8();
    let packet = bytes.rest();
    let link = match selector % 4 {
        1 => LinkType::Ieee80211,
        2 => LinkType::Ethernet,
        _ => LinkType::Radiotap,
    };
    let meta = PacketMeta {
        at: Instant::from_millis(u64::from(wire_len)),
        channel,
        wire_len: (selector & 0x10 != 0).then_some(wire_len),
        link_direction: (selector & 0x20 != 0).then_some(Direction::ToAp),
    };
    if let Ok(Record::Beacon { ssid, .. }) = capture::decode(link, packet, meta) {
        assert!(ssid.len() <= packet.len());
    }
    let _ = capture::channel_of(u16::from_le_bytes([packet.first().copied().unwrap_or(0), channel]));
});
