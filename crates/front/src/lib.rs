//! The decoder front: every sniffing decoder side by side on the same frames.
//!
//! A device does not know which method the phone uses; the [`Front`] feeds each observation to
//! every enabled decoder (ESP-TOUCH v1, AirKiss, ESP-TOUCH v2) and reports the first lock and the
//! first verified result. Beacons become scan results for scan-assisted completion.
//!
//! This is the device core both device runtimes share: the Linux daemon (`wifiprov device`, through
//! `wifiprov-transport`) and the ESP32-C3 firmware (`firmware/esp32c3`). It is `no_std`, does no
//! I/O, reads no clock and allocates nothing: the scan results live in a fixed table of
//! [`MAX_NETWORKS`] entries, and a `Front` is a plain value (its size is in the firmware's size
//! report, `docs/firmware-size.md`).
//!
//! ```
//! use wifiprov_esptouch::v1;
//! use wifiprov_front::{Front, Method, Step};
//! use wifiprov_sniff::{Instant, Observation};
//!
//! let ap = [0x24, 0x0a, 0xc4, 0, 0, 1];
//! let config = v1::Config::new(b"HomeNet", b"correct horse", ap, [192, 168, 1, 7]);
//! let encoder = v1::Encoder::new(&config)?;
//! let mut front = Front::new(&[Method::EsptouchV1, Method::Airkiss, Method::EsptouchV2], true);
//! let mut result = None;
//! 'air: for round in 0..20u64 {
//!     let lengths = encoder.guide().into_iter().chain(encoder.data_cycle());
//!     for (i, len) in lengths.enumerate() {
//!         let at = Instant::from_millis(round * 1000 + i as u64 * 8);
//!         let mut obs = Observation::new(at, len + 76, [2, 0, 0, 0, 0, 9], ap);
//!         obs.sequence = Some((round * 200 + i as u64) as u16);
//!         if let Step::Complete(decoded) = front.feed(&obs) {
//!             result = Some(decoded);
//!             break 'air;
//!         }
//!     }
//! }
//! let decoded = result.ok_or("not decoded")?;
//! assert_eq!(decoded.method(), Method::EsptouchV1);
//! assert_eq!(decoded.ssid(), b"HomeNet");
//! assert_eq!(decoded.password(), b"correct horse");
//! # Ok::<(), Box<dyn core::error::Error>>(())
//! ```
#![no_std]

use wifiprov_airkiss::decoder as airkiss;
use wifiprov_esptouch::{v1, v2};
use wifiprov_sniff::{Decoder as _, Mac, Observation, Progress, Stats};

/// Length of the frame check sequence some radios (the ESP32's promiscuous buffers) append.
pub const FCS_LEN: usize = 4;

/// A received frame, reduced to what the front needs: a provisioning candidate or an access
/// point's announcement. Small and `Copy`, so that a radio's receive context can queue it for the
/// task that runs the decoders (the ESP32 firmware does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard {
    /// A group-addressed infrastructure data frame.
    Data(Observation),
    /// A beacon or probe response: an SSID (at most 32 bytes) and its BSSID.
    Network {
        /// The BSSID.
        bssid: Mac,
        /// SSID bytes, `len` of them.
        ssid: [u8; 32],
        /// SSID length.
        len: u8,
    },
}

impl Heard {
    /// Reduces a raw 802.11 frame as a radio delivers it; `None` for anything else. With `fcs`,
    /// the frame ends with the 4-byte FCS (ESP32 promiscuous buffers), which is cut first, so
    /// that lengths equal those of Linux monitor interfaces and pcap files.
    #[must_use]
    pub fn from_frame(
        frame: &[u8],
        meta: wifiprov_sniff::ieee80211::Meta,
        fcs: bool,
    ) -> Option<Self> {
        use wifiprov_sniff::ieee80211;
        let frame = if fcs {
            frame.get(..frame.len().checked_sub(FCS_LEN)?)?
        } else {
            frame
        };
        let meta = ieee80211::Meta {
            wire_len: meta.wire_len.map(|l| {
                if fcs {
                    l.saturating_sub(FCS_LEN as u16)
                } else {
                    l
                }
            }),
            ..meta
        };
        if let Some(observation) = ieee80211::observe(frame, meta) {
            return Some(Self::Data(observation));
        }
        let beacon = ieee80211::beacon(frame)?;
        let mut ssid = [0u8; 32];
        let len = beacon.ssid.len().min(ssid.len());
        ssid.get_mut(..len)?
            .copy_from_slice(beacon.ssid.get(..len)?);
        Some(Self::Network {
            bssid: beacon.bssid,
            ssid,
            len: u8::try_from(len).ok()?,
        })
    }
}

/// Scan results a [`Front`] keeps for scan-assisted completion; later distinct networks are not
/// remembered (the table is full).
pub const MAX_NETWORKS: usize = 32;

/// How long a hopper stays on a channel after a [`Front::take_hint`], from the hint: 300 ms, seven
/// more AirKiss guide quartets at the official tool's 10-ms spacing (a lock needs two).
pub const LINGER_MS: u64 = 300;

/// One scan result: an SSID (at most 32 bytes) and its BSSID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Network {
    ssid: [u8; 32],
    len: u8,
    bssid: Mac,
}

impl Network {
    fn ssid(&self) -> &[u8] {
        self.ssid.get(..usize::from(self.len)).unwrap_or_default()
    }
}

/// Sniffing methods the front can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// ESP-TOUCH v1.
    EsptouchV1,
    /// WeChat AirKiss.
    Airkiss,
    /// ESP-TOUCH v2.
    EsptouchV2,
}

impl Method {
    /// The method's name on the command line and in JSON.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::EsptouchV1 => "esptouch-v1",
            Self::Airkiss => "airkiss",
            Self::EsptouchV2 => "esptouch-v2",
        }
    }
}

/// ESP-TOUCH v2 credentials, with the SSID from a scan when the phone sent none. Not `Copy`:
/// the password and reserved data are zeroized on drop, and `Debug` shows their lengths only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2Decoded {
    /// What the decoder verified (and opened, if encrypted).
    pub credentials: v2::Credentials,
    scan_ssid: Option<([u8; 32], u8)>,
}

impl V2Decoded {
    /// The SSID: sent by the phone, or (when it sent none) the scanned SSID of the BSSID.
    #[must_use]
    pub fn ssid(&self) -> &[u8] {
        match &self.scan_ssid {
            Some((bytes, len)) => bytes.get(..usize::from(*len)).unwrap_or_default(),
            None => self.credentials.ssid(),
        }
    }

    /// True if the SSID came from a scan result.
    #[must_use]
    pub const fn ssid_from_scan(&self) -> bool {
        self.scan_ssid.is_some()
    }
}

/// A verified result of any method. Not `Copy`: the password is zeroized on drop, and `Debug`
/// shows its length only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// ESP-TOUCH v1 credentials.
    EsptouchV1(v1::Credentials),
    /// AirKiss credentials (with the random byte for the ack).
    Airkiss(airkiss::Credentials),
    /// ESP-TOUCH v2 credentials (with reserved data and the port mark for the ack).
    EsptouchV2(V2Decoded),
}

impl Decoded {
    /// Which method produced it.
    #[must_use]
    pub const fn method(&self) -> Method {
        match self {
            Self::EsptouchV1(_) => Method::EsptouchV1,
            Self::Airkiss(_) => Method::Airkiss,
            Self::EsptouchV2(_) => Method::EsptouchV2,
        }
    }

    /// SSID bytes.
    #[must_use]
    pub fn ssid(&self) -> &[u8] {
        match self {
            Self::EsptouchV1(c) => c.ssid(),
            Self::Airkiss(c) => c.ssid(),
            Self::EsptouchV2(c) => c.ssid(),
        }
    }

    /// Password bytes.
    #[must_use]
    pub fn password(&self) -> &[u8] {
        match self {
            Self::EsptouchV1(c) => c.password(),
            Self::Airkiss(c) => c.password(),
            Self::EsptouchV2(c) => c.credentials.password(),
        }
    }

    /// The channel the phone was heard on (0 if unknown).
    #[must_use]
    pub const fn channel(&self) -> u8 {
        match self {
            Self::EsptouchV1(c) => c.channel(),
            Self::Airkiss(c) => c.channel(),
            Self::EsptouchV2(c) => c.credentials.channel(),
        }
    }

    /// The BSSID the phone named, if the method carries one (AirKiss does not; ESP-TOUCH v2
    /// sends its CRC-8, checked against the frames' BSSID).
    #[must_use]
    pub const fn bssid(&self) -> Option<Mac> {
        match self {
            Self::EsptouchV1(c) => Some(c.bssid()),
            Self::Airkiss(_) => None,
            Self::EsptouchV2(c) => {
                if c.credentials.bssid_verified() {
                    Some(c.credentials.bssid())
                } else {
                    None
                }
            }
        }
    }

    /// The phone that sent it.
    #[must_use]
    pub const fn sender(&self) -> Mac {
        match self {
            Self::EsptouchV1(c) => c.sender(),
            Self::Airkiss(c) => c.sender(),
            Self::EsptouchV2(c) => c.credentials.sender(),
        }
    }
}

impl Step {
    /// This step, or `other` if this one is `Nothing` (a lock beats progress).
    fn or(self, other: Step) -> Step {
        match (self, other) {
            (_, o @ Step::Locked { .. }) | (Step::Nothing, o) => o,
            (s, _) => s,
        }
    }
}

/// What one input did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Nothing to report.
    Nothing,
    /// A decoder locked (stay on this channel).
    Locked {
        /// Which decoder.
        method: Method,
        /// Channel of the frame.
        channel: u8,
        /// The phone.
        sender: Mac,
        /// Its BSSID.
        bssid: Mac,
    },
    /// The locked decoder learned something.
    Collecting {
        /// Which decoder.
        method: Method,
        /// Units known.
        have: u16,
        /// Units needed, once known.
        need: Option<u16>,
    },
    /// A verified result.
    Complete(Decoded),
    /// ESP-TOUCH v2 decoded, but its password and reserved data are encrypted and the configured
    /// key is missing ([`v2::Outcome::KeyNeeded`]) or does not open them
    /// ([`v2::Outcome::KeyWrong`]). Reported once per sender and header; the decoder listens on.
    Sealed(v2::Outcome),
}

/// The decoders of the enabled methods, fed together.
#[derive(Debug, Clone)]
pub struct Front {
    esptouch_v1: Option<v1::Decoder>,
    airkiss: Option<airkiss::Decoder>,
    esptouch_v2: Option<v2::Decoder>,
    /// The last sealed v2 result reported (sender, header), not to report it again.
    sealed: Option<(Mac, [u8; 6])>,
    frames: u64,
    networks: [Option<Network>; MAX_NETWORKS],
    use_scan: bool,
}

impl Front {
    /// A front running `methods`; with `use_scan`, beacons are used for scan-assisted completion.
    #[must_use]
    pub fn new(methods: &[Method], use_scan: bool) -> Self {
        Self {
            esptouch_v1: methods
                .contains(&Method::EsptouchV1)
                .then(v1::Decoder::default),
            airkiss: methods
                .contains(&Method::Airkiss)
                .then(airkiss::Decoder::default),
            esptouch_v2: methods
                .contains(&Method::EsptouchV2)
                .then(v2::Decoder::default),
            sealed: None,
            frames: 0,
            networks: [None; MAX_NETWORKS],
            use_scan,
        }
    }

    /// Configures the ESP-TOUCH v2 decoder (e.g. with the device's AES key); it starts over.
    #[must_use]
    pub fn with_v2_config(mut self, config: v2::DecoderConfig) -> Self {
        if self.esptouch_v2.is_some() {
            self.esptouch_v2 = Some(v2::Decoder::new(config));
        }
        self
    }

    /// Feeds what a radio heard: data frames go to the decoders, networks to the scan table.
    pub fn hear(&mut self, heard: &Heard) -> Step {
        match heard {
            Heard::Data(observation) => self.feed(observation),
            Heard::Network { bssid, ssid, len } => {
                self.add_network(ssid.get(..usize::from(*len)).unwrap_or_default(), *bssid);
                Step::Nothing
            }
        }
    }

    /// Adds a scan result (deduplicated; ignored once [`MAX_NETWORKS`] distinct ones are known,
    /// or if the SSID is longer than 32 bytes).
    pub fn add_network(&mut self, ssid: &[u8], bssid: Mac) {
        if !self.use_scan || ssid.len() > 32 {
            return;
        }
        let known = || self.networks.iter().flatten();
        if known().any(|n| n.ssid() == ssid && n.bssid == bssid) {
            return;
        }
        let ssid_known = known().any(|n| n.ssid() == ssid);
        let Some(slot) = self.networks.iter_mut().find(|n| n.is_none()) else {
            return;
        };
        let mut network = Network {
            ssid: [0; 32],
            len: 0,
            bssid,
        };
        if let (Some(dst), Ok(len)) = (network.ssid.get_mut(..ssid.len()), u8::try_from(ssid.len()))
        {
            dst.copy_from_slice(ssid);
            network.len = len;
        }
        *slot = Some(network);
        if let Some(d) = self.esptouch_v1.as_mut() {
            d.add_known_network(ssid, bssid);
        }
        if let Some(d) = self.airkiss.as_mut()
            && !ssid_known
        {
            d.add_known_ssid(ssid);
        }
    }

    /// Feeds one data frame to every decoder. The first verified result wins; a lock is reported
    /// by the decoder that found its guide.
    pub fn feed(&mut self, obs: &Observation) -> Step {
        self.frames += 1;
        let mut step = Step::Nothing;
        if let Some(d) = self.esptouch_v1.as_mut() {
            match d.feed(obs) {
                Progress::Complete => {
                    if let Some(c) = d.take() {
                        return Step::Complete(Decoded::EsptouchV1(c));
                    }
                }
                progress => step = step.or(Self::step(Method::EsptouchV1, progress)),
            }
        }
        if let Some(d) = self.airkiss.as_mut() {
            match d.feed(obs) {
                Progress::Complete => {
                    if let Some(c) = d.take() {
                        return Step::Complete(Decoded::Airkiss(c));
                    }
                }
                progress => step = step.or(Self::step(Method::Airkiss, progress)),
            }
        }
        if let Some(d) = self.esptouch_v2.as_mut() {
            match d.feed(obs) {
                Progress::Complete => match d.take() {
                    Some(v2::Outcome::Credentials(credentials)) => {
                        let scan_ssid = if credentials.ssid_missing() {
                            self.networks
                                .iter()
                                .flatten()
                                .find(|n| n.bssid == credentials.bssid())
                                .map(|n| (n.ssid, n.len))
                        } else {
                            None
                        };
                        return Step::Complete(Decoded::EsptouchV2(V2Decoded {
                            credentials,
                            scan_ssid,
                        }));
                    }
                    Some(outcome) => {
                        // Listen on: the phone may be restarted with the right key.
                        d.reset();
                        let key = match &outcome {
                            v2::Outcome::KeyNeeded(s) | v2::Outcome::KeyWrong(s) => {
                                (s.sender(), s.header_bytes())
                            }
                            other => (other.sender(), [0; 6]),
                        };
                        if self.sealed != Some(key) {
                            self.sealed = Some(key);
                            return Step::Sealed(outcome);
                        }
                    }
                    None => {}
                },
                progress => step = step.or(Self::step(Method::EsptouchV2, progress)),
            }
        }
        step
    }

    /// Lets time-based decisions happen when no frame arrives (a silent channel): an ESP-TOUCH
    /// v2 provisional lock runs out, an idle lock is released. Call it when a capture read times
    /// out, with the capture's clock.
    pub fn tick(&mut self, now: wifiprov_sniff::Instant) {
        if let Some(d) = self.esptouch_v2.as_mut()
            && d.poll_timeout().is_some_and(|t| now >= t)
        {
            d.handle_timeout(now);
        }
    }

    fn step(method: Method, progress: Progress) -> Step {
        match progress {
            Progress::Locked {
                channel,
                sender,
                bssid,
            } => Step::Locked {
                method,
                channel,
                sender,
                bssid,
            },
            Progress::Collecting { have, need } => Step::Collecting { method, have, need },
            _ => Step::Nothing,
        }
    }

    /// A channel worth staying on a little longer while hopping (a decoder heard a first,
    /// unconfirmed guide there), once; pass it to [`Hopper::linger`](wifiprov_sniff::hop::Hopper::linger)
    /// with [`LINGER_MS`].
    pub fn take_hint(&mut self) -> Option<u8> {
        self.airkiss.as_mut().and_then(airkiss::Decoder::take_hint)
    }

    /// True while some decoder is locked on a sender.
    #[must_use]
    pub fn is_locked(&self) -> bool {
        self.esptouch_v1
            .as_ref()
            .is_some_and(|d| d.locked().is_some())
            || self.airkiss.as_ref().is_some_and(|d| d.locked().is_some())
            || self
                .esptouch_v2
                .as_ref()
                .is_some_and(|d| d.locked().is_some())
    }

    /// Data frames fed.
    #[must_use]
    pub const fn frames(&self) -> u64 {
        self.frames
    }

    /// Distinct scan results seen.
    #[must_use]
    pub fn networks(&self) -> usize {
        self.networks.iter().flatten().count()
    }

    /// Observations the decoder of `method` was fed until it completed (or so far).
    #[must_use]
    pub fn stats(&self, method: Method) -> Stats {
        match method {
            Method::EsptouchV1 => self.esptouch_v1.as_ref().map(|d| d.stats()),
            Method::Airkiss => self.airkiss.as_ref().map(|d| d.stats()),
            Method::EsptouchV2 => self.esptouch_v2.as_ref().map(|d| d.stats()),
        }
        .unwrap_or_default()
    }

    /// Frames the ESP-TOUCH decoder used (its `frames_used` figure).
    #[must_use]
    pub fn frames_used(&self) -> u32 {
        self.esptouch_v1.as_ref().map_or(0, |d| d.stats().used)
    }

    /// The ESP-TOUCH v1 decoder, for diagnostics.
    #[must_use]
    pub const fn esptouch_v1(&self) -> Option<&v1::Decoder> {
        self.esptouch_v1.as_ref()
    }

    /// The AirKiss decoder, for diagnostics.
    #[must_use]
    pub const fn airkiss(&self) -> Option<&airkiss::Decoder> {
        self.airkiss.as_ref()
    }

    /// The ESP-TOUCH v2 decoder, for diagnostics.
    #[must_use]
    pub const fn esptouch_v2(&self) -> Option<&v2::Decoder> {
        self.esptouch_v2.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wifiprov_sniff::Instant;

    /// The scan table keeps distinct (SSID, BSSID) pairs, at most `MAX_NETWORKS`, and only when
    /// scan-assisted completion is on.
    #[test]
    fn the_scan_table_is_bounded_and_deduplicated() {
        let mut front = Front::new(&[Method::EsptouchV1, Method::Airkiss], true);
        for i in 0..40u8 {
            front.add_network(b"HomeNet", [2, 0, 0, 0, 0, i]);
            front.add_network(b"HomeNet", [2, 0, 0, 0, 0, i]);
        }
        assert_eq!(front.networks(), MAX_NETWORKS);
        let mut front = Front::new(&[Method::EsptouchV1], true);
        front.add_network(&[b'x'; 33], [2, 0, 0, 0, 0, 1]);
        front.add_network(b"", [2, 0, 0, 0, 0, 2]);
        front.add_network(&[b'y'; 32], [2, 0, 0, 0, 0, 3]);
        assert_eq!(front.networks(), 2, "a 33-byte SSID is not a network");
        let mut front = Front::new(&[Method::EsptouchV1], false);
        front.add_network(b"HomeNet", [2, 0, 0, 0, 0, 1]);
        assert_eq!(front.networks(), 0, "scan off");
    }

    /// A provisional ESP-TOUCH v2 lock (body frames heard, overhead not confirmed) holds the
    /// channel, and runs out through `tick` on a silent channel.
    #[test]
    fn a_provisional_v2_lock_runs_out_on_a_silent_channel() {
        let (phone, ap) = ([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 0xaa]);
        let mut random = || 5u8;
        let encoder = v2::Encoder::new(
            &v2::Config::new(b"HomeNet", b"correct horse battery", ap),
            &mut random,
        )
        .expect("valid");
        let mut front = Front::new(&[Method::EsptouchV2], false);
        // Body group 0 only (marker x3 and planes), as a hopping device hears it mid-pass.
        let body = encoder.lengths().get(12..23).expect("a body group");
        let mut at = 0;
        for (i, &len) in body.iter().enumerate() {
            at = 15 * i as u64;
            let mut obs = Observation::new(Instant::from_millis(at), len + 76, phone, ap);
            obs.sequence = Some(100 + i as u16);
            let _ = front.feed(&obs);
        }
        assert!(front.is_locked(), "provisionally locked");
        front.tick(Instant::from_millis(at + 100));
        assert!(front.is_locked(), "still within the provisional time");
        front.tick(Instant::from_millis(at + 60_000));
        assert!(!front.is_locked(), "ran out without frames");
    }
}
