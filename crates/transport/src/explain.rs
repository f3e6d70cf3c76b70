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

/// What the AirKiss decoder saw: streams and their overheads, the lock, the decoded shape, and
/// per group whether it is known and which CRCs were voted (no data values).
#[must_use]
pub fn airkiss(decoder: &wifiprov_airkiss::decoder::Decoder, frames_read: u64) -> String {
    use wifiprov_sniff::Decoder as _;
    let mut out = String::new();
    let stats = decoder.stats();
    let _ = writeln!(out, "AirKiss decoder");
    let _ = writeln!(
        out,
        "  frames read {frames_read}, observations {}, used {}, ignored {}, retries {}, duplicates {}",
        stats.observations, stats.used, stats.ignored, stats.retries, stats.duplicates
    );
    for (bssid, source, from_ap, overhead) in decoder.streams() {
        let _ = writeln!(
            out,
            "  stream {} via {} ({}): overhead {}",
            crate::device::format_mac(&source),
            crate::device::format_mac(&bssid),
            if from_ap { "from the AP" } else { "to the AP" },
            overhead.map_or_else(|| "not confirmed".to_owned(), |o| o.to_string())
        );
    }
    match decoder.locked() {
        Some((sender, bssid, channel)) => {
            let _ = writeln!(
                out,
                "  locked on {} via {} (channel {channel})",
                crate::device::format_mac(&sender),
                crate::device::format_mac(&bssid)
            );
        }
        None => {
            let _ = writeln!(out, "  no guide confirmed (no lock)");
        }
    }
    match decoder.shape() {
        Some((total, password_len, ssid_crc)) => {
            let _ = writeln!(
                out,
                "  magic + prefix: {total} data bytes, password {password_len} bytes, SSID CRC {ssid_crc:#04x}"
            );
            for g in 0..total.div_ceil(4) {
                let crcs: Vec<String> = decoder
                    .crc_candidates(g)
                    .map(|(c, n)| format!("{c:#04x}×{n}"))
                    .collect();
                let positions: Vec<String> = (0..4usize.min(total - 4 * g))
                    .map(|j| decoder.candidates(g, j).count().to_string())
                    .collect();
                let _ = writeln!(
                    out,
                    "  group {g}: {}; header CRC [{}]; candidates per byte [{}]",
                    if decoder.group_known(g) {
                        "known"
                    } else {
                        "missing"
                    },
                    crcs.join(" "),
                    positions.join(" ")
                );
            }
        }
        None => {
            let _ = writeln!(out, "  magic/prefix not decoded yet");
        }
    }
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

/// What the ESP-TOUCH v2 decoder saw: streams and their overheads, the lock, the header (lengths,
/// flags, group count) and per group slot whether its planes are complete (no data values).
#[must_use]
pub fn esptouch_v2(decoder: &wifiprov_esptouch::v2::Decoder, frames_read: u64) -> String {
    use wifiprov_esptouch::v2::GroupState;
    use wifiprov_sniff::Decoder as _;
    let mut out = String::new();
    let stats = decoder.stats();
    let _ = writeln!(out, "ESP-TOUCH v2 decoder");
    let _ = writeln!(
        out,
        "  frames read {frames_read}, observations {}, used {}, ignored {}, retries {}, duplicates {}",
        stats.observations, stats.used, stats.ignored, stats.retries, stats.duplicates
    );
    for s in decoder.streams() {
        let _ = writeln!(
            out,
            "  stream {} via {} ({:?}{}{}): {} frames, {} sync/count pairs, {} symbols, overhead {}",
            crate::device::format_mac(&s.source),
            crate::device::format_mac(&s.bssid),
            s.direction,
            if s.qos { ", QoS" } else { "" },
            if s.protected { ", protected" } else { "" },
            s.frames,
            s.syncs,
            s.symbols,
            s.overhead
                .map_or_else(|| "not confirmed".to_owned(), |o| o.to_string())
        );
    }
    match decoder.locked() {
        Some((sender, bssid, channel)) => {
            let _ = writeln!(
                out,
                "  locked on {} via {} (channel {channel}){}",
                crate::device::format_mac(&sender),
                crate::device::format_mac(&bssid),
                if decoder.is_provisional() {
                    ", provisionally: the overhead is not confirmed yet"
                } else {
                    ""
                }
            );
        }
        None => {
            let _ = writeln!(out, "  no lock");
        }
    }
    match decoder.header() {
        Some(h) => {
            let _ = writeln!(
                out,
                "  header: SSID {} bytes, password {} bytes, reserved {} bytes, security {}, port mark {}, {} groups",
                h.ssid_len,
                h.password_len,
                h.reserved_len,
                h.security,
                h.port_mark,
                decoder
                    .group_count()
                    .map_or_else(|| "?".to_owned(), |n| n.to_string())
            );
        }
        None => {
            let _ = writeln!(out, "  header not decoded yet");
        }
    }
    if let Some(n) = decoder.group_count() {
        let map: String = (0..usize::from(n))
            .map(|slot| match decoder.group_state(slot) {
                Some(GroupState::Known(_)) => '#',
                Some(GroupState::Partial { heard, .. }) if heard > 0 => '~',
                _ => '.',
            })
            .collect();
        let _ = writeln!(
            out,
            "  groups (# planes complete, ~ partial, . nothing; slot 0 = header): {map}"
        );
    }
    out
}
