//! What a decoder saw (`wifiprov decode --explain`, and the device daemon's report when it stops
//! without a result), for a firmware engineer whose provisioning failed.

use std::fmt::Write as _;

use wifiprov_esptouch::v1::{Decoder, HEADER_LEN, IndexState};
use wifiprov_sniff::{Decoder as _, Direction};

use crate::device::format_mac;

/// A multi-line report: data frames read, streams with their learned overheads, the lock, and
/// which indices are known, partial or missing. It names no data values.
#[must_use]
pub fn esptouch_v1(decoder: &Decoder, frames_read: u64, beacons: usize) -> String {
    let mut out = String::new();
    let stats = decoder.stats();
    let _ = writeln!(out, "ESP-TOUCH v1 decoder");
    let _ = writeln!(
        out,
        "  data frames read: {frames_read}; fed: {}, ignored: {}, retries dropped: {}, duplicates dropped: {}, used: {}",
        stats.observations, stats.ignored, stats.retries, stats.duplicates, stats.used
    );
    let _ = writeln!(out, "  beacons / scan results available: {beacons}");
    let streams: Vec<_> = decoder.streams().collect();
    let _ = writeln!(out, "  streams ({}):", streams.len());
    let _ = writeln!(
        out,
        "    {:<17} {:<17} {:<6} {:<4} {:<5} {:>8} {:>7} {:>6} {:>8}",
        "sender", "bssid", "dir", "qos", "prot", "overhead", "frames", "guides", "symbols"
    );
    for s in &streams {
        let _ = writeln!(
            out,
            "    {:<17} {:<17} {:<6} {:<4} {:<5} {:>8} {:>7} {:>6} {:>8}",
            format_mac(&s.source),
            format_mac(&s.bssid),
            match s.direction {
                Direction::ToAp => "ToDS",
                Direction::FromAp => "FromDS",
            },
            if s.qos { "yes" } else { "no" },
            if s.protected { "yes" } else { "no" },
            s.overhead.map_or_else(|| "-".to_owned(), |o| o.to_string()),
            s.frames,
            s.guides,
            s.symbols
        );
    }
    match decoder.locked() {
        None => {
            let _ = writeln!(
                out,
                "  lock: none — no guide code (four lengths 512..515 + overhead) was seen from any sender"
            );
            return out;
        }
        Some((sender, bssid, channel)) => {
            let _ = writeln!(
                out,
                "  lock: sender {} via {} on channel {channel}",
                format_mac(&sender),
                format_mac(&bssid)
            );
        }
    }
    let needed = decoder.needed().map(usize::from);
    match (decoder.total_len(), needed) {
        (Some(total), Some(need)) => {
            let _ = writeln!(
                out,
                "  total length T = {total}: {need} indices needed (header 0..4, phone IP 5..8, password and SSID 9..{}, BSSID {}..{})",
                total - 1,
                total,
                need - 1
            );
        }
        _ => {
            let _ = writeln!(out, "  total length (index 0) not known yet");
        }
    }
    let limit = needed.unwrap_or(HEADER_LEN + 6).max(HEADER_LEN);
    let mut map = String::new();
    let mut missing = Vec::new();
    let mut partial = Vec::new();
    for index in 0..limit {
        let c = match decoder.index_state(index) {
            IndexState::Known { .. } => '#',
            IndexState::Partial { .. } => {
                partial.push(index);
                '~'
            }
            IndexState::Missing => {
                missing.push(index);
                '.'
            }
        };
        map.push(c);
    }
    let _ = writeln!(
        out,
        "  indices (# known, ~ partial/conflicting, . missing):"
    );
    for (row, chunk) in map.as_bytes().chunks(32).enumerate() {
        let _ = writeln!(
            out,
            "    {:>3}: {}",
            row * 32,
            String::from_utf8_lossy(chunk)
        );
    }
    let _ = writeln!(
        out,
        "  known {} of {limit}; partial: {}; missing: {}",
        limit - missing.len() - partial.len(),
        list(&partial),
        list(&missing)
    );
    out
}

fn list(indices: &[usize]) -> String {
    if indices.is_empty() {
        return "none".to_owned();
    }
    // Compress runs: 3-7, 9.
    let mut parts = Vec::new();
    let mut i = 0;
    while let Some(&start) = indices.get(i) {
        let mut end = start;
        while indices.get(i + 1) == Some(&(end + 1)) {
            end += 1;
            i += 1;
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    parts.join(", ")
}
