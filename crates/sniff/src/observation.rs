//! The decoder interface shared by every sniffing protocol.

/// A 48-bit IEEE MAC address.
pub type Mac = [u8; 6];

/// A point in time on the caller's clock, in milliseconds. Decoders never read a clock themselves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(u64);

impl Instant {
    /// An instant `millis` milliseconds after the caller's epoch.
    #[must_use]
    pub const fn from_millis(millis: u64) -> Self {
        Self(millis)
    }

    /// Milliseconds since the caller's epoch.
    #[must_use]
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// Milliseconds from `earlier` to `self`, 0 if `earlier` is later.
    #[must_use]
    pub const fn millis_since(self, earlier: Instant) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

/// Which way a data frame crossed the distribution system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// ToDS: a station (the phone) sent it to the AP.
    ToAp,
    /// FromDS: the AP sent (re-broadcast) it.
    FromAp,
}

/// One sniffed 802.11 data frame, reduced to what a length decoder needs.
///
/// `len` is the length the radio reports (802.11 header, LLC/SNAP, IP, UDP, cipher expansion and,
/// depending on the radio, FCS included). Decoders learn that overhead per stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    /// When the frame was received (caller's clock).
    pub at: Instant,
    /// Channel the radio was tuned to (0 if unknown).
    pub channel: u8,
    /// Frame length as reported by the radio.
    pub len: u16,
    /// ToDS or FromDS.
    pub direction: Direction,
    /// Transmitter address (Addr2): the phone for ToDS, the AP for FromDS.
    pub transmitter: Mac,
    /// Receiver address (Addr1).
    pub receiver: Mac,
    /// The BSS the frame belongs to.
    pub bssid: Mac,
    /// The original sender (SA): the phone in both directions.
    pub source: Mac,
    /// The final destination (DA): broadcast or multicast for provisioning traffic.
    pub destination: Mac,
    /// The 802.11 Retry flag.
    pub retry: bool,
    /// The 12-bit 802.11 sequence number, if the source of observations has one.
    pub sequence: Option<u16>,
    /// A QoS data frame (2 bytes longer header).
    pub qos: bool,
    /// The Protected flag (cipher expansion in the length).
    pub protected: bool,
}

impl Observation {
    /// A ToDS observation of `len` bytes from `source` via `bssid` to broadcast, other fields
    /// zero or false. Convenient for tests and simulators.
    #[must_use]
    pub const fn new(at: Instant, len: u16, source: Mac, bssid: Mac) -> Self {
        Self {
            at,
            channel: 0,
            len,
            direction: Direction::ToAp,
            transmitter: source,
            receiver: bssid,
            bssid,
            source,
            destination: [0xff; 6],
            retry: false,
            sequence: None,
            qos: false,
            protected: false,
        }
    }
}

/// What one observation did to a decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Progress {
    /// Not useful to this decoder (noise is normal, not an error).
    Ignored,
    /// The decoder found a sender's guide and locked on it: a channel hopper should stay here.
    Locked {
        /// Channel of the observation that caused the lock.
        channel: u8,
        /// The sender (SA) locked on.
        sender: Mac,
        /// The BSS it sends through.
        bssid: Mac,
    },
    /// Useful data from the locked sender.
    Collecting {
        /// Units known (bytes for ESP-TOUCH v1).
        have: u16,
        /// Units needed, once known.
        need: Option<u16>,
    },
    /// The result is complete and verified; call [`Decoder::take`].
    Complete,
}

/// Counters every decoder keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Observations fed.
    pub observations: u32,
    /// Observations that carried nothing for this decoder.
    pub ignored: u32,
    /// 802.11 retries dropped.
    pub retries: u32,
    /// Duplicates (same stream, same sequence number) dropped.
    pub duplicates: u32,
    /// Observations that contributed a symbol from the locked sender.
    pub used: u32,
}

/// A sans-IO decoder fed one observation per sniffed frame.
///
/// Call [`feed`](Decoder::feed) for every frame; when it returns [`Progress::Complete`], call
/// [`take`](Decoder::take). [`reset`](Decoder::reset) forgets everything (e.g. after a channel
/// change without a lock).
pub trait Decoder {
    /// The decoded result.
    type Output;
    /// Feeds one observation. Never panics, whatever the input.
    fn feed(&mut self, obs: &Observation) -> Progress;
    /// The result, once [`Progress::Complete`] was returned; `None` before.
    fn take(&mut self) -> Option<Self::Output>;
    /// Forgets all state.
    fn reset(&mut self);
    /// Counters since the last reset.
    fn stats(&self) -> Stats;
}
