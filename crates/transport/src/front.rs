//! The decoder front: every sniffing decoder side by side on the same frames.
//!
//! A device does not know which method the phone uses; the front feeds each observation to every
//! enabled decoder and reports the first lock and the first verified result. Beacons become scan
//! results for scan-assisted completion.

use wifiprov_airkiss::decoder as airkiss;
use wifiprov_esptouch::v1;
use wifiprov_sniff::{Decoder as _, Mac, Observation, Progress, Stats};

use crate::capture::Record;

/// Sniffing methods the front can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// ESP-TOUCH v1.
    EsptouchV1,
    /// WeChat AirKiss.
    Airkiss,
}

impl Method {
    /// The method's name on the command line and in JSON.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::EsptouchV1 => "esptouch-v1",
            Self::Airkiss => "airkiss",
        }
    }
}

/// A verified result of any method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoded {
    /// ESP-TOUCH v1 credentials.
    EsptouchV1(v1::Credentials),
    /// AirKiss credentials (with the random byte for the ack).
    Airkiss(airkiss::Credentials),
}

impl Decoded {
    /// Which method produced it.
    #[must_use]
    pub const fn method(&self) -> Method {
        match self {
            Self::EsptouchV1(_) => Method::EsptouchV1,
            Self::Airkiss(_) => Method::Airkiss,
        }
    }

    /// SSID bytes.
    #[must_use]
    pub fn ssid(&self) -> &[u8] {
        match self {
            Self::EsptouchV1(c) => c.ssid(),
            Self::Airkiss(c) => c.ssid(),
        }
    }

    /// Password bytes.
    #[must_use]
    pub fn password(&self) -> &[u8] {
        match self {
            Self::EsptouchV1(c) => c.password(),
            Self::Airkiss(c) => c.password(),
        }
    }

    /// The channel the phone was heard on (0 if unknown).
    #[must_use]
    pub const fn channel(&self) -> u8 {
        match self {
            Self::EsptouchV1(c) => c.channel(),
            Self::Airkiss(c) => c.channel(),
        }
    }

    /// The BSSID the phone named, if the method carries one (AirKiss does not).
    #[must_use]
    pub const fn bssid(&self) -> Option<Mac> {
        match self {
            Self::EsptouchV1(c) => Some(c.bssid()),
            Self::Airkiss(_) => None,
        }
    }

    /// The phone that sent it.
    #[must_use]
    pub const fn sender(&self) -> Mac {
        match self {
            Self::EsptouchV1(c) => c.sender(),
            Self::Airkiss(c) => c.sender(),
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
}

/// The decoders of the enabled methods, fed together.
#[derive(Debug, Clone)]
pub struct Front {
    esptouch_v1: Option<v1::Decoder>,
    airkiss: Option<airkiss::Decoder>,
    frames: u64,
    networks: Vec<(Vec<u8>, Mac)>,
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
            frames: 0,
            networks: Vec::new(),
            use_scan,
        }
    }

    /// Feeds one capture record.
    pub fn feed_record(&mut self, record: &Record) -> Step {
        match record {
            Record::Data(obs) => self.feed(obs),
            Record::Beacon { bssid, ssid, .. } => {
                self.add_network(ssid, *bssid);
                Step::Nothing
            }
            Record::Other => Step::Nothing,
        }
    }

    /// Adds a scan result (deduplicated).
    pub fn add_network(&mut self, ssid: &[u8], bssid: Mac) {
        if !self.use_scan || self.networks.iter().any(|(s, b)| s == ssid && *b == bssid) {
            return;
        }
        if let Some(d) = self.esptouch_v1.as_mut() {
            d.add_known_network(ssid, bssid);
        }
        if let Some(d) = self.airkiss.as_mut()
            && !self.networks.iter().any(|(s, _)| s == ssid)
        {
            d.add_known_ssid(ssid);
        }
        self.networks.push((ssid.to_vec(), bssid));
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
        step
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

    /// True while some decoder is locked on a sender.
    #[must_use]
    pub fn is_locked(&self) -> bool {
        self.esptouch_v1
            .as_ref()
            .is_some_and(|d| d.locked().is_some())
            || self.airkiss.as_ref().is_some_and(|d| d.locked().is_some())
    }

    /// Data frames fed.
    #[must_use]
    pub const fn frames(&self) -> u64 {
        self.frames
    }

    /// Distinct scan results seen.
    #[must_use]
    pub fn networks(&self) -> usize {
        self.networks.len()
    }

    /// Observations the decoder of `method` was fed until it completed (or so far).
    #[must_use]
    pub fn stats(&self, method: Method) -> Stats {
        match method {
            Method::EsptouchV1 => self.esptouch_v1.as_ref().map(|d| d.stats()),
            Method::Airkiss => self.airkiss.as_ref().map(|d| d.stats()),
        }
        .unwrap_or_default()
    }

    /// Frames the ESP-TOUCH decoder used (its `frames_used` figure).
    #[must_use]
    pub fn frames_used(&self) -> u32 {
        self.esptouch_v1.as_ref().map_or(0, |d| d.stats().used)
    }

    /// A diagnostic report of every decoder (see [`crate::explain`]).
    #[must_use]
    pub fn explain(&self) -> String {
        let mut out = self
            .esptouch_v1
            .as_ref()
            .map(|d| crate::explain::esptouch_v1(d, self.frames, self.networks.len()))
            .unwrap_or_default();
        if let Some(d) = &self.airkiss {
            out.push_str(&crate::explain::airkiss(d, self.frames));
        }
        out
    }

    /// The ESP-TOUCH v1 decoder, for diagnostics.
    #[must_use]
    pub const fn esptouch_v1(&self) -> Option<&v1::Decoder> {
        self.esptouch_v1.as_ref()
    }
}
