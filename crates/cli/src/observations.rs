//! `wifiprov decode --observations FILE`: a JSON list of sniffed frames, the format of
//! `../shared/captures/airkiss-capture-*.json`:
//!
//! ```text
//! {"observations": [
//!    {"header_hex": "<first 24 bytes of the 802.11 MAC header>", "len": <frame length>, ...},
//!    {"seq": <802.11 sequence number>, "len": <frame length>, ...},   // no addresses
//!    ...]}
//! ```
//!
//! A record with `header_hex` is reduced like a captured frame (addresses, direction, sequence
//! number, QoS, Protected from the header; `len` is the frame length the radio reported). A record
//! without it is one stream of FromDS frames with its `seq`. Records carry no usable time:
//! observations are placed 5 ms apart. A top-level array of records is accepted too.

use std::path::Path;

use anyhow::{Context as _, Result, bail};
use serde_json::Value;
use wifiprov_sniff::{Direction, Instant, Observation, ieee80211};

use crate::output::parse_hex;

/// Reads and converts every record (a bad record is an error naming its index).
pub(crate) fn read(path: &Path) -> Result<Vec<Observation>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse(&text).with_context(|| path.display().to_string())
}

/// Converts every record of an observations document.
pub(crate) fn parse(text: &str) -> Result<Vec<Observation>> {
    let value: Value = serde_json::from_str(text).context("the document is not JSON")?;
    let records = value
        .get("observations")
        .unwrap_or(&value)
        .as_array()
        .context("no \"observations\" array")?;
    records
        .iter()
        .enumerate()
        .map(|(i, record)| observation(i, record).with_context(|| format!("observation {i}")))
        .collect()
}

fn observation(index: usize, record: &Value) -> Result<Observation> {
    let len = record["len"]
        .as_u64()
        .and_then(|l| u16::try_from(l).ok())
        .context("\"len\" must be a frame length (0..65535)")?;
    let at = Instant::from_millis(5 * index as u64);
    if let Some(header) = record["header_hex"].as_str() {
        let header = parse_hex(header).context("\"header_hex\"")?;
        let meta = ieee80211::Meta {
            at,
            wire_len: Some(len),
            ..ieee80211::Meta::default()
        };
        return ieee80211::observe(&header, meta)
            .context("\"header_hex\" is not an infrastructure data frame header");
    }
    let Some(seq) = record["seq"].as_u64() else {
        bail!("a record needs \"header_hex\" or \"seq\"");
    };
    let seq = u16::try_from(seq & 0x0fff).unwrap_or(0);
    let mut obs = Observation::new(at, len, [0; 6], [0; 6]);
    obs.direction = Direction::FromAp;
    obs.sequence = Some(seq);
    Ok(obs)
}
