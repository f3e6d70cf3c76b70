//! Reduction of raw 802.11 frames to [`Observation`]s, and beacon parsing.
//!
//! Input is the 802.11 frame as a monitor interface, a pcap file (after the radiotap header) or an
//! ESP32 promiscuous callback delivers it. Nothing here panics on short or malformed input.

use crate::observation::{Direction, Instant, Mac, Observation};

/// Frame-control type value of data frames.
const TYPE_DATA: u8 = 2;
/// Frame-control type value of management frames.
const TYPE_MANAGEMENT: u8 = 0;
/// Management subtype of beacons.
const SUBTYPE_BEACON: u8 = 8;
/// Management subtype of probe responses.
const SUBTYPE_PROBE_RESPONSE: u8 = 5;

/// What the capture layer knows about a frame besides its bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Meta {
    /// Receive time.
    pub at: Instant,
    /// Channel the radio was on.
    pub channel: u8,
    /// Length on the air if the capture truncated the frame (snap length); `None` = the slice length.
    pub wire_len: Option<u16>,
}

/// Why a frame does not become an observation (only for diagnostics; radio noise is normal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Skip {
    /// Shorter than a data header.
    Truncated,
    /// Not a data or QoS data frame.
    NotData,
    /// Both or neither of ToDS/FromDS set (WDS or IBSS).
    NotInfrastructure,
    /// A fragment, or an A-MSDU.
    Fragment,
    /// The destination is an individual address.
    Unicast,
}

/// Reduces a frame to an observation, or `None` if it is not a group-addressed infrastructure data
/// frame (what provisioning phones send). See [`classify`] for the reason.
#[must_use]
pub fn observe(frame: &[u8], meta: Meta) -> Option<Observation> {
    classify(frame, meta).ok()
}

fn mac_at(frame: &[u8], at: usize) -> Option<Mac> {
    frame.get(at..at + 6)?.try_into().ok()
}

/// Like [`observe`], with the reason a frame was skipped.
///
/// # Errors
/// A [`Skip`] saying why the frame is not a provisioning candidate.
pub fn classify(frame: &[u8], meta: Meta) -> Result<Observation, Skip> {
    let [fc0, fc1, ..] = *frame else {
        return Err(Skip::Truncated);
    };
    let kind = (fc0 >> 2) & 0x3;
    let subtype = fc0 >> 4;
    if kind != TYPE_DATA || (subtype != 0 && subtype != 8) {
        return Err(Skip::NotData);
    }
    let qos = subtype == 8;
    let to_ds = fc1 & 0x01 != 0;
    let from_ds = fc1 & 0x02 != 0;
    let more_fragments = fc1 & 0x04 != 0;
    let retry = fc1 & 0x08 != 0;
    let protected = fc1 & 0x40 != 0;
    let header_len = if qos { 26 } else { 24 };
    if frame.len() < header_len {
        return Err(Skip::Truncated);
    }
    if to_ds == from_ds {
        return Err(Skip::NotInfrastructure);
    }
    let addr1 = mac_at(frame, 4).ok_or(Skip::Truncated)?;
    let addr2 = mac_at(frame, 10).ok_or(Skip::Truncated)?;
    let addr3 = mac_at(frame, 16).ok_or(Skip::Truncated)?;
    let seq_ctl = match frame.get(22..24) {
        Some(&[lo, hi]) => u16::from_le_bytes([lo, hi]),
        _ => return Err(Skip::Truncated),
    };
    if more_fragments || seq_ctl & 0x000f != 0 {
        return Err(Skip::Fragment);
    }
    if qos && frame.get(24).is_some_and(|qc| qc & 0x80 != 0) {
        return Err(Skip::Fragment); // A-MSDU present
    }
    let (direction, bssid, source, destination) = if to_ds {
        (Direction::ToAp, addr1, addr2, addr3)
    } else {
        (Direction::FromAp, addr2, addr3, addr1)
    };
    if destination[0] & 0x01 == 0 {
        return Err(Skip::Unicast);
    }
    let len = meta
        .wire_len
        .unwrap_or_else(|| u16::try_from(frame.len()).unwrap_or(u16::MAX));
    Ok(Observation {
        at: meta.at,
        channel: meta.channel,
        len,
        direction,
        transmitter: addr2,
        receiver: addr1,
        bssid,
        source,
        destination,
        retry,
        sequence: Some(seq_ctl >> 4),
        qos,
        protected,
    })
}

/// An access point announced by a beacon or probe response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Beacon<'a> {
    /// The BSSID (Addr3).
    pub bssid: Mac,
    /// SSID element contents (0..=32 bytes; empty for hidden networks).
    pub ssid: &'a [u8],
    /// Channel from the DS Parameter Set element, if present.
    pub channel: Option<u8>,
}

/// Parses a beacon or probe response; `None` for other or malformed frames.
#[must_use]
pub fn beacon(frame: &[u8]) -> Option<Beacon<'_>> {
    let fc0 = *frame.first()?;
    if (fc0 >> 2) & 0x3 != TYPE_MANAGEMENT {
        return None;
    }
    let subtype = fc0 >> 4;
    if subtype != SUBTYPE_BEACON && subtype != SUBTYPE_PROBE_RESPONSE {
        return None;
    }
    let bssid = mac_at(frame, 16)?;
    // 24-byte header, then timestamp (8), interval (2), capabilities (2).
    let mut elements = frame.get(36..)?;
    let mut ssid = None;
    let mut channel = None;
    while let [id, len, rest @ ..] = elements {
        let len = usize::from(*len);
        let body = rest.get(..len)?;
        match id {
            0 if ssid.is_none() && len <= 32 => ssid = Some(body),
            3 if len == 1 => channel = body.first().copied(),
            _ => {}
        }
        elements = rest.get(len..)?;
    }
    Some(Beacon {
        bssid,
        ssid: ssid?,
        channel,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const AP: Mac = [0x24, 0x0a, 0xc4, 0x77, 0, 1];
    const PHONE: Mac = [0xa0, 0xcb, 0xfd, 0x77, 0, 2];

    fn data_frame(fc1: u8, qos: bool, a1: Mac, a2: Mac, a3: Mac, seq: u16) -> [u8; 120] {
        let mut f = [0xa5u8; 120];
        f[0] = if qos { 0x88 } else { 0x08 };
        f[1] = fc1;
        f[2] = 0;
        f[3] = 0;
        f[4..10].copy_from_slice(&a1);
        f[10..16].copy_from_slice(&a2);
        f[16..22].copy_from_slice(&a3);
        f[22..24].copy_from_slice(&(seq << 4).to_le_bytes());
        if qos {
            f[24] = 0;
            f[25] = 0;
        }
        f
    }

    #[test]
    fn reduces_to_ds_and_from_ds_copies_to_the_same_sender() {
        let to = data_frame(0x41, false, AP, PHONE, [0xff; 6], 7);
        let from = data_frame(0x42, false, [0xff; 6], AP, PHONE, 9);
        let a = observe(&to, Meta::default()).expect("ToDS");
        let b = observe(&from, Meta::default()).expect("FromDS");
        assert_eq!(
            (a.direction, a.source, a.bssid),
            (Direction::ToAp, PHONE, AP)
        );
        assert_eq!(
            (b.direction, b.source, b.bssid),
            (Direction::FromAp, PHONE, AP)
        );
        assert_eq!((a.sequence, b.sequence), (Some(7), Some(9)));
        assert!(a.protected && b.protected && !a.qos);
        assert_eq!(a.transmitter, PHONE);
        assert_eq!(b.transmitter, AP);
    }

    #[test]
    fn qos_retry_and_wire_length() {
        let f = data_frame(0x09, true, AP, PHONE, [0x01, 0, 0x5e, 1, 1, 1], 1);
        let meta = Meta {
            wire_len: Some(999),
            ..Meta::default()
        };
        let o = observe(&f, meta).expect("QoS data");
        assert!(o.qos && o.retry && !o.protected);
        assert_eq!(o.len, 999);
    }

    #[test]
    fn skips_what_is_not_provisioning_traffic() {
        let unicast = data_frame(0x41, false, AP, PHONE, AP, 1);
        assert_eq!(classify(&unicast, Meta::default()), Err(Skip::Unicast));
        let wds = data_frame(0x43, false, AP, PHONE, [0xff; 6], 1);
        assert_eq!(
            classify(&wds, Meta::default()),
            Err(Skip::NotInfrastructure)
        );
        let mut frag = data_frame(0x45, false, AP, PHONE, [0xff; 6], 1);
        assert_eq!(classify(&frag, Meta::default()), Err(Skip::Fragment));
        frag[1] = 0x41;
        frag[22] |= 1;
        assert_eq!(classify(&frag, Meta::default()), Err(Skip::Fragment));
        let mut amsdu = data_frame(0x41, true, AP, PHONE, [0xff; 6], 1);
        amsdu[24] = 0x80;
        assert_eq!(classify(&amsdu, Meta::default()), Err(Skip::Fragment));
        let mut null = data_frame(0x41, false, AP, PHONE, [0xff; 6], 1);
        null[0] = 0x48;
        assert_eq!(classify(&null, Meta::default()), Err(Skip::NotData));
    }

    #[test]
    fn rejects_every_truncation_without_panicking() {
        let f = data_frame(0x41, true, AP, PHONE, [0xff; 6], 1);
        for n in 0..26 {
            assert!(observe(&f[..n], Meta::default()).is_none(), "prefix {n}");
        }
        assert!(observe(&f[..26], Meta::default()).is_some());
    }

    #[test]
    fn parses_beacon_ssid_and_channel() {
        let mut frame = [0u8; 52];
        frame[0] = 0x80;
        frame[16..22].copy_from_slice(&AP);
        frame[36..45].copy_from_slice(&[0, 7, b'H', b'o', b'm', b'e', b'N', b'e', b't']);
        frame[45..48].copy_from_slice(&[3, 1, 6]);
        frame[48..52].copy_from_slice(&[0xdd, 2, 0, 0]);
        let b = beacon(&frame).expect("beacon");
        assert_eq!(b.ssid, b"HomeNet");
        assert_eq!(b.bssid, AP);
        assert_eq!(b.channel, Some(6));
        for n in 0..45 {
            assert!(beacon(&frame[..n]).is_none(), "prefix {n}");
        }
    }
}
