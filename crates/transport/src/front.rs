//! The decoder front: every sniffing decoder side by side on the same frames.
//!
//! A device does not know which method the phone uses; the front feeds each observation to every
//! enabled decoder and reports the first lock and the first verified result. Beacons become scan
//! results for scan-assisted completion.

use wifiprov_esptouch::v1;
use wifiprov_sniff::{Decoder as _, Mac, Observation, Progress};

use crate::capture::Record;

/// Sniffing methods the front can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// ESP-TOUCH v1.
    EsptouchV1,
}

impl Method {
    /// The method's name on the command line and in JSON.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::EsptouchV1 => "esptouch-v1",
        }
    }
}

/// A verified result of any method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoded {
    /// ESP-TOUCH v1 credentials.
    EsptouchV1(v1::Credentials),
}

impl Decoded {
    /// Which method produced it.
    #[must_use]
    pub const fn method(&self) -> Method {
        match self {
            Self::EsptouchV1(_) => Method::EsptouchV1,
        }
    }

    /// SSID bytes.
    #[must_use]
    pub fn ssid(&self) -> &[u8] {
        match self {
            Self::EsptouchV1(c) => c.ssid(),
        }
    }

    /// Password bytes.
    #[must_use]
    pub fn password(&self) -> &[u8] {
        match self {
            Self::EsptouchV1(c) => c.password(),
        }
    }

    /// The channel the phone was heard on (0 if unknown).
    #[must_use]
    pub const fn channel(&self) -> u8 {
        match self {
            Self::EsptouchV1(c) => c.channel(),
        }
    }

    /// The BSSID the phone named, if the method carries one.
    #[must_use]
    pub const fn bssid(&self) -> Option<Mac> {
        match self {
            Self::EsptouchV1(c) => Some(c.bssid()),
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
        self.networks.push((ssid.to_vec(), bssid));
    }

    /// Feeds one data frame to every decoder.
    pub fn feed(&mut self, obs: &Observation) -> Step {
        self.frames += 1;
        let mut step = Step::Nothing;
        if let Some(d) = self.esptouch_v1.as_mut() {
            let method = Method::EsptouchV1;
            step = match d.feed(obs) {
                Progress::Complete => match d.take() {
                    Some(c) => return Step::Complete(Decoded::EsptouchV1(c)),
                    None => Step::Nothing,
                },
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
            };
        }
        step
    }

    /// True while some decoder is locked on a sender.
    #[must_use]
    pub fn is_locked(&self) -> bool {
        self.esptouch_v1
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
        self.networks.len()
    }

    /// Frames the decoders used.
    #[must_use]
    pub fn frames_used(&self) -> u32 {
        self.esptouch_v1.as_ref().map_or(0, |d| d.stats().used)
    }

    /// A diagnostic report of every decoder (see [`crate::explain`]).
    #[must_use]
    pub fn explain(&self) -> String {
        self.esptouch_v1
            .as_ref()
            .map(|d| crate::explain::esptouch_v1(d, self.frames, self.networks.len()))
            .unwrap_or_default()
    }

    /// The ESP-TOUCH v1 decoder, for diagnostics.
    #[must_use]
    pub const fn esptouch_v1(&self) -> Option<&v1::Decoder> {
        self.esptouch_v1.as_ref()
    }
}
