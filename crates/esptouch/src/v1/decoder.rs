//! The device side: sniffed frames → verified credentials.
//!
//! # How it works
//!
//! 1. **Streams.** Frames are grouped by (BSSID, sender, direction, QoS, Protected): each such
//!    stream has its own length overhead. A stream learns it from one window of four recent
//!    lengths that are distinct and span exactly three (the guide 515..512, any order or
//!    rotation): overhead = smallest − 512.
//! 2. **Lock.** The first sender whose guide is seen is locked on ([`Progress::Locked`]); data of
//!    other senders is ignored until the lock idles out, so two phones never mix.
//! 3. **Positions.** Each stream places its frames by 802.11 sequence number (arrival order when
//!    there is none), so retries and duplicates are dropped, late frames fall into place and a lost
//!    frame leaves a visible gap.
//! 4. **Evidence.** A symbol triplet (nibble, index, nibble) whose CRC checks votes 2 for
//!    `(index, value)`. Broken triplets still count: a (nibble, index) pair gives the high half
//!    and an (index, nibble) pair the low half of a byte, and halves of the same index seen in
//!    different rounds or copies are combined when their CRC checks (vote 1). Swapped or
//!    shifted triplets, and two nibbles whose index frame was lost but whose CRC names exactly
//!    one index, also vote 1. Both air copies (ToDS, FromDS) vote into the same table.
//! 5. **Completion.** An index is known when one value has the strictly highest vote. The result
//!    is released only when the total-XOR, CRC(SSID) and CRC(BSSID) all check; otherwise the
//!    decoder keeps collecting. Missing SSID bytes may be completed from scan results
//!    ([`Decoder::add_known_network`]) and missing BSSID bytes from the locked BSSID, each only
//!    when the CRC sent by the phone matches.
//!
//! # Calling order
//!
//! `new` → (`add_known_network`)* → `feed` per frame → on [`Progress::Complete`], `take`.
//! The introspection methods ([`Decoder::streams`], [`Decoder::index_state`], …) may be called
//! any time; they back `wifiprov decode --explain`.

use wifiprov_sniff::{
    Decoder as DecoderTrait, Direction, Instant, Mac, Observation, Progress, Stats, crc8,
};
use zeroize::{DefaultIsZeroes, Zeroize, ZeroizeOnDrop, Zeroizing};

use super::{EXTRA_LEN, HEADER_LEN, MAX_INDEX};
use crate::v1::encoder::{MAX_PASSWORD_LEN, MAX_SSID_LEN};

/// Streams tracked at once (least recently seen is replaced).
pub const MAX_STREAMS: usize = 16;
/// Scan results kept for scan-assisted completion.
pub const MAX_KNOWN_NETWORKS: usize = 16;

const INDICES: usize = MAX_INDEX + 1;
const RING: usize = 8;
const CANDIDATES: usize = 3;
const HALVES: usize = 3;
const GUIDE_MIN: u16 = 512;
const SYMBOL_MAX: u16 = 383;

/// Tuning of the decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecoderConfig {
    /// Smallest overhead (frame length − UDP payload length) accepted from a guide.
    pub min_overhead: u16,
    /// Largest overhead accepted from a guide.
    pub max_overhead: u16,
    /// Drop the lock (and its data) when the locked sender sent nothing useful for this long.
    pub idle_timeout_ms: u64,
}

impl Default for DecoderConfig {
    fn default() -> Self {
        Self {
            // Ethernet on loopback is 42; 802.11 is 52 (open, no FCS) and more.
            min_overhead: 40,
            max_overhead: 256,
            idle_timeout_ms: 20_000,
        }
    }
}

/// A network known from a scan, for scan-assisted completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownNetwork {
    ssid: [u8; MAX_SSID_LEN],
    ssid_len: u8,
    /// The network's BSSID.
    pub bssid: Mac,
}

impl KnownNetwork {
    /// A scanned network; `None` if the SSID is empty or longer than 32 bytes.
    #[must_use]
    pub fn new(ssid: &[u8], bssid: Mac) -> Option<Self> {
        if ssid.is_empty() || ssid.len() > MAX_SSID_LEN {
            return None;
        }
        let mut buf = [0u8; MAX_SSID_LEN];
        buf.get_mut(..ssid.len())?.copy_from_slice(ssid);
        Some(Self {
            ssid: buf,
            ssid_len: ssid.len() as u8,
            bssid,
        })
    }

    /// The SSID bytes.
    #[must_use]
    pub fn ssid(&self) -> &[u8] {
        self.ssid.get(..usize::from(self.ssid_len)).unwrap_or(&[])
    }
}

/// Decoded ESP-TOUCH v1 credentials. Zeroized on drop; `Debug` shows the password's length only.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Credentials {
    ssid: [u8; MAX_SSID_LEN],
    ssid_len: u8,
    password: [u8; MAX_PASSWORD_LEN],
    password_len: u8,
    bssid: Mac,
    phone_ip: [u8; 4],
    total_len: u8,
    ssid_from_scan: bool,
    bssid_from_frames: bool,
    sender: Mac,
    channel: u8,
}

impl Credentials {
    /// SSID bytes.
    #[must_use]
    pub fn ssid(&self) -> &[u8] {
        self.ssid.get(..usize::from(self.ssid_len)).unwrap_or(&[])
    }
    /// Password bytes (empty for an open network).
    #[must_use]
    pub fn password(&self) -> &[u8] {
        self.password
            .get(..usize::from(self.password_len))
            .unwrap_or(&[])
    }
    /// The AP BSSID the phone sent.
    #[must_use]
    pub const fn bssid(&self) -> Mac {
        self.bssid
    }
    /// The phone's IPv4 address: send the ack there.
    #[must_use]
    pub const fn phone_ip(&self) -> [u8; 4] {
        self.phone_ip
    }
    /// T, the ack token.
    #[must_use]
    pub const fn total_len(&self) -> u8 {
        self.total_len
    }
    /// True if the SSID came from a scan result (its CRC matched) rather than the air.
    #[must_use]
    pub const fn ssid_from_scan(&self) -> bool {
        self.ssid_from_scan
    }
    /// True if the BSSID came from the frames' BSSID (its CRC matched) rather than the data.
    #[must_use]
    pub const fn bssid_from_frames(&self) -> bool {
        self.bssid_from_frames
    }
    /// The phone's MAC address (the sender locked on).
    #[must_use]
    pub const fn sender(&self) -> Mac {
        self.sender
    }
    /// The channel the sender was decoded on (0 if unknown).
    #[must_use]
    pub const fn channel(&self) -> u8 {
        self.channel
    }
}

impl core::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Credentials")
            .field("ssid", &self.ssid())
            .field("password", &crate::Redacted(self.password().len()))
            .field("bssid", &self.bssid)
            .field("phone_ip", &self.phone_ip)
            .field("total_len", &self.total_len)
            .field("ssid_from_scan", &self.ssid_from_scan)
            .field("bssid_from_frames", &self.bssid_from_frames)
            .field("sender", &self.sender)
            .field("channel", &self.channel)
            .finish()
    }
}

/// What is known about one data index (for `--explain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexState {
    /// Nothing seen.
    Missing,
    /// Evidence exists but no value wins yet (conflict or only one half of the byte).
    Partial {
        /// Candidate values with votes.
        candidates: u8,
        /// High/low halves waiting for their other half.
        halves: u8,
    },
    /// A value wins.
    Known {
        /// The value.
        value: u8,
        /// Its votes.
        votes: u8,
    },
}

/// One stream as seen by the decoder (for `--explain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamInfo {
    /// BSSID.
    pub bssid: Mac,
    /// Sender (SA).
    pub source: Mac,
    /// Direction.
    pub direction: Direction,
    /// QoS data frames.
    pub qos: bool,
    /// Protected frames.
    pub protected: bool,
    /// Learned overhead, if a guide was seen.
    pub overhead: Option<u16>,
    /// Frames accepted on this stream.
    pub frames: u32,
    /// Guide windows recognised.
    pub guides: u32,
    /// Data symbols (after the overhead) seen.
    pub symbols: u32,
    /// Channel of the last frame.
    pub channel: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key {
    bssid: Mac,
    source: Mac,
    direction: Direction,
    qos: bool,
    protected: bool,
}

impl Key {
    fn of(obs: &Observation) -> Self {
        Self {
            bssid: obs.bssid,
            source: obs.source,
            direction: obs.direction,
            qos: obs.qos,
            protected: obs.protected,
        }
    }
}

/// One received frame at a stream position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    position: u32,
    /// 0..=383 data symbol, or [`NOT_SYMBOL`].
    symbol: u16,
    /// Last octet of the destination (multicast groups change per DataCode).
    group: u8,
    used: bool,
}

const NOT_SYMBOL: u16 = u16::MAX;
const EMPTY_SLOT: Slot = Slot {
    position: 0,
    symbol: NOT_SYMBOL,
    group: 0,
    used: false,
};

#[derive(Debug, Clone, Copy)]
struct Stream {
    key: Key,
    in_use: bool,
    last_seen: Instant,
    channel: u8,
    overhead: Option<u16>,
    window: [u16; 4],
    window_len: u8,
    last_sequence: Option<u16>,
    last_position: u32,
    ring: [Slot; RING],
    frames: u32,
    guides: u32,
    symbols: u32,
}

const EMPTY_STREAM: Stream = Stream {
    key: Key {
        bssid: [0; 6],
        source: [0; 6],
        direction: Direction::ToAp,
        qos: false,
        protected: false,
    },
    in_use: false,
    last_seen: Instant::from_millis(0),
    channel: 0,
    overhead: None,
    window: [0; 4],
    window_len: 0,
    last_sequence: None,
    last_position: 0,
    ring: [EMPTY_SLOT; RING],
    frames: 0,
    guides: 0,
    symbols: 0,
};

impl Default for Stream {
    fn default() -> Self {
        EMPTY_STREAM
    }
}

/// The ring holds data symbols (password nibbles): wiped to [`EMPTY_STREAM`].
impl DefaultIsZeroes for Stream {}

impl Stream {
    fn slot(&self, position: u32) -> Option<Slot> {
        let slot = self.ring.get(position as usize % RING)?;
        (slot.used && slot.position == position).then_some(*slot)
    }

    /// Records the length in the guide window; returns the overhead if the window is a guide.
    fn push_guide_window(&mut self, len: u16) -> Option<u16> {
        self.window.copy_within(1.., 0);
        if let Some(last) = self.window.last_mut() {
            *last = len;
        }
        self.window_len = (self.window_len + 1).min(4);
        if self.window_len < 4 {
            return None;
        }
        let mut sorted = self.window;
        sorted.sort_unstable();
        let [a, b, c, d] = sorted;
        (b == a + 1 && c == a + 2 && d == a + 3).then(|| a.checked_sub(GUIDE_MIN))?
    }

    /// Places a frame by sequence number. Returns its position, or `None` for a retry/duplicate
    /// (`true` if it was flagged Retry) or a frame too old to place.
    fn place(&mut self, obs: &Observation) -> Result<u32, bool> {
        let Some(sequence) = obs.sequence.map(|s| s & 0x0fff) else {
            self.last_position = self.last_position.wrapping_add(1);
            return Ok(self.last_position);
        };
        let Some(last) = self.last_sequence else {
            self.last_sequence = Some(sequence);
            self.last_position = self.last_position.wrapping_add(RING as u32 + 1);
            return Ok(self.last_position);
        };
        let delta = u32::from(sequence.wrapping_sub(last) & 0x0fff);
        if delta == 0 {
            return Err(obs.retry);
        }
        if delta < 2048 {
            self.last_sequence = Some(sequence);
            self.last_position = self.last_position.wrapping_add(delta);
            return Ok(self.last_position);
        }
        let back = 4096 - delta;
        if back as usize >= RING {
            // Far in the past, or the sender's counter restarted: start over from here.
            self.last_sequence = Some(sequence);
            self.last_position = self.last_position.wrapping_add(RING as u32 + 1);
            return Ok(self.last_position);
        }
        let position = self.last_position.wrapping_sub(back);
        if self.slot(position).is_some() {
            return Err(obs.retry);
        }
        Ok(position)
    }

    fn store(&mut self, slot: Slot) {
        if let Some(entry) = self.ring.get_mut(slot.position as usize % RING) {
            *entry = slot;
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Evidence {
    values: [u8; CANDIDATES],
    votes: [u8; CANDIDATES],
    high: [u8; HALVES],
    high_len: u8,
    low: [u8; HALVES],
    low_len: u8,
}

/// Candidate values and halves are password bytes: wiped to all zeroes.
impl DefaultIsZeroes for Evidence {}

impl Evidence {
    fn vote(&mut self, value: u8, weight: u8) {
        let mut weakest = 0;
        for i in 0..CANDIDATES {
            let (Some(v), Some(n)) = (self.values.get(i), self.votes.get(i)) else {
                continue;
            };
            if *n > 0 && *v == value {
                if let Some(n) = self.votes.get_mut(i) {
                    *n = n.saturating_add(weight);
                }
                return;
            }
            if *n < self.votes.get(weakest).copied().unwrap_or(0) {
                weakest = i;
            }
        }
        // Replace an empty or the weakest candidate (never the sole leader).
        if let (Some(v), Some(n)) = (self.values.get_mut(weakest), self.votes.get_mut(weakest)) {
            if *n <= weight {
                *v = value;
                *n = weight;
            }
        }
    }

    fn best(&self) -> Option<(u8, u8)> {
        let mut best: Option<(u8, u8)> = None;
        let mut tie = false;
        for (&value, &votes) in self.values.iter().zip(&self.votes) {
            if votes == 0 {
                continue;
            }
            match best {
                Some((_, b)) if votes == b => tie = true,
                Some((_, b)) if votes < b => {}
                _ => {
                    best = Some((value, votes));
                    tie = false;
                }
            }
        }
        if tie { None } else { best }
    }

    fn candidates(&self) -> u8 {
        self.votes.iter().filter(|&&n| n > 0).count() as u8
    }

    fn remember(halves: &mut [u8; HALVES], len: &mut u8, half: u8) {
        let n = usize::from(*len);
        if halves.iter().take(n).any(|&h| h == half) {
            return;
        }
        if n < HALVES {
            if let Some(h) = halves.get_mut(n) {
                *h = half;
            }
            *len += 1;
        } else {
            halves.copy_within(1.., 0);
            if let Some(h) = halves.last_mut() {
                *h = half;
            }
        }
    }
}

/// Splits symbols of a DataCode: (high-nibble symbol, low-nibble symbol) → (value, crc).
fn join(first: u16, third: u16) -> (u8, u8) {
    let (a, c) = ((first & 0xff) as u8, (third & 0xff) as u8);
    ((a << 4) | (c & 0x0f), (a & 0xf0) | (c >> 4))
}

fn is_nibble(symbol: u16) -> bool {
    symbol < 0x100
}

fn is_index(symbol: u16) -> bool {
    (0x100..=SYMBOL_MAX).contains(&symbol)
}

/// Which sender the decoder is locked on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Lock {
    source: Mac,
    bssid: Mac,
    channel: u8,
    since: Instant,
    last_useful: Instant,
}

/// The ESP-TOUCH v1 decoder. See the [module documentation](self) for the algorithm.
///
/// Its votes and frames are password bytes: they are zeroized on drop, on
/// [`reset`](DecoderTrait::reset) and when a lock idles out, and `Debug` does not show them.
#[derive(Clone)]
pub struct Decoder {
    config: DecoderConfig,
    streams: [Stream; MAX_STREAMS],
    lock: Option<Lock>,
    evidence: [Evidence; INDICES],
    /// `evidence[i].best()`, cached: updated whenever index i gets a vote.
    estimate: [Option<u8>; INDICES],
    /// Some estimate changed since the last completion attempt.
    dirty: bool,
    known: [Option<KnownNetwork>; MAX_KNOWN_NETWORKS],
    result: Option<Credentials>,
    complete: bool,
    stats: Stats,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new(DecoderConfig::default())
    }
}

impl core::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Never the evidence, the estimates, the frames or the result: they are the password.
        f.debug_struct("Decoder")
            .field("config", &self.config)
            .field("lock", &self.lock)
            .field("known", &self.known_count())
            .field("needed", &self.needed())
            .field("complete", &self.complete)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Drop for Decoder {
    fn drop(&mut self) {
        self.wipe();
    }
}

impl ZeroizeOnDrop for Decoder {}

const _: () = {
    const fn zeroized_on_drop<T: ZeroizeOnDrop>() {}
    zeroized_on_drop::<Credentials>();
    zeroized_on_drop::<Decoder>();
};

impl Decoder {
    /// A decoder with no state.
    #[must_use]
    pub fn new(config: DecoderConfig) -> Self {
        Self {
            config,
            streams: [EMPTY_STREAM; MAX_STREAMS],
            lock: None,
            evidence: [Evidence::default(); INDICES],
            estimate: [None; INDICES],
            dirty: false,
            known: [None; MAX_KNOWN_NETWORKS],
            result: None,
            complete: false,
            stats: Stats::default(),
        }
    }

    /// Adds a scan result for scan-assisted completion; returns false if the table is full or
    /// the SSID is invalid. Survives [`reset`](DecoderTrait::reset).
    pub fn add_known_network(&mut self, ssid: &[u8], bssid: Mac) -> bool {
        let Some(network) = KnownNetwork::new(ssid, bssid) else {
            return false;
        };
        if self.known.iter().flatten().any(|k| *k == network) {
            return true;
        }
        match self.known.iter_mut().find(|k| k.is_none()) {
            Some(slot) => {
                *slot = Some(network);
                self.dirty = true;
                true
            }
            None => false,
        }
    }

    /// The sender locked on, its BSSID and channel.
    #[must_use]
    pub fn locked(&self) -> Option<(Mac, Mac, u8)> {
        self.lock.map(|l| (l.source, l.bssid, l.channel))
    }

    /// T, once index 0 is known.
    #[must_use]
    pub fn total_len(&self) -> Option<u8> {
        self.value(0)
            .filter(|t| usize::from(*t) >= HEADER_LEN && usize::from(*t) <= MAX_TOTAL)
    }

    /// Indices needed for a full decode (T + 6), once T is known.
    #[must_use]
    pub fn needed(&self) -> Option<u16> {
        self.total_len().map(|t| u16::from(t) + 6)
    }

    /// Indices with a winning value among those needed (or among all, before T is known).
    #[must_use]
    pub fn known_count(&self) -> u16 {
        let limit = self.needed().map_or(INDICES, usize::from);
        (0..limit).filter(|&i| self.value(i).is_some()).count() as u16
    }

    /// What is known about `index`.
    #[must_use]
    pub fn index_state(&self, index: usize) -> IndexState {
        let Some(e) = self.evidence.get(index) else {
            return IndexState::Missing;
        };
        match e.best() {
            Some((value, votes)) => IndexState::Known { value, votes },
            None if e.candidates() > 0 || e.high_len > 0 || e.low_len > 0 => IndexState::Partial {
                candidates: e.candidates(),
                halves: e.high_len + e.low_len,
            },
            None => IndexState::Missing,
        }
    }

    /// The streams currently tracked.
    pub fn streams(&self) -> impl Iterator<Item = StreamInfo> + '_ {
        self.streams
            .iter()
            .filter(|s| s.in_use)
            .map(|s| StreamInfo {
                bssid: s.key.bssid,
                source: s.key.source,
                direction: s.key.direction,
                qos: s.key.qos,
                protected: s.key.protected,
                overhead: s.overhead,
                frames: s.frames,
                guides: s.guides,
                symbols: s.symbols,
                channel: s.channel,
            })
    }

    fn value(&self, index: usize) -> Option<u8> {
        self.estimate.get(index).copied().flatten()
    }

    /// Refreshes the cached estimate of `index` after a vote.
    fn refresh(&mut self, index: usize) {
        let best = self
            .evidence
            .get(index)
            .and_then(Evidence::best)
            .map(|(v, _)| v);
        if let Some(slot) = self.estimate.get_mut(index) {
            if *slot != best {
                *slot = best;
                self.dirty = true;
            }
        }
    }

    fn stream_index(&mut self, obs: &Observation) -> usize {
        let key = Key::of(obs);
        if let Some(i) = self.streams.iter().position(|s| s.in_use && s.key == key) {
            return i;
        }
        let locked = self.lock.map(|l| (l.source, l.bssid));
        // Prefer a free slot, else the least recently seen stream not of the locked sender.
        let victim = self
            .streams
            .iter()
            .enumerate()
            .min_by_key(|(_, s)| {
                let protected = locked == Some((s.key.source, s.key.bssid));
                (s.in_use, protected, s.last_seen)
            })
            .map_or(0, |(i, _)| i);
        if let Some(s) = self.streams.get_mut(victim) {
            *s = Stream {
                key,
                in_use: true,
                ..EMPTY_STREAM
            };
        }
        victim
    }

    fn ignore(&mut self) -> Progress {
        self.stats.ignored += 1;
        Progress::Ignored
    }

    fn vote(&mut self, index: u16, value: u8, weight: u8) -> bool {
        let index = usize::from(index & 0x7f);
        match self.evidence.get_mut(index) {
            Some(e) => {
                e.vote(value, weight);
                self.refresh(index);
                true
            }
            None => false,
        }
    }

    fn half(&mut self, index: u16, half: u8, high: bool) -> bool {
        let i = usize::from(index & 0x7f);
        let Some(e) = self.evidence.get_mut(i) else {
            return false;
        };
        let (own, own_len, other, other_len) = if high {
            (&mut e.high, &mut e.high_len, e.low, e.low_len)
        } else {
            (&mut e.low, &mut e.low_len, e.high, e.high_len)
        };
        Evidence::remember(own, own_len, half);
        let mut found = [None; HALVES];
        for (slot, &o) in found
            .iter_mut()
            .zip(other.iter().take(usize::from(other_len)))
        {
            let (first, third) = if high { (half, o) } else { (o, half) };
            let (value, crc) = join(u16::from(first), u16::from(third));
            if crc8(&[value, i as u8]) == crc {
                *slot = Some(value);
            }
        }
        let mut any = false;
        for value in found.into_iter().flatten() {
            e.vote(value, 1);
            any = true;
        }
        if any {
            self.refresh(i);
        }
        any
    }

    /// Interprets all windows completed by the frame at `position`; returns true if anything
    /// useful was learned.
    fn assemble(&mut self, stream: usize, position: u32) -> bool {
        let Some(s) = self.streams.get(stream).copied() else {
            return false;
        };
        let at = |p: u32| s.slot(p).filter(|slot| slot.symbol != NOT_SYMBOL);
        let mut useful = false;
        // Full windows of three that include the new frame.
        for start in [position.wrapping_sub(2), position.wrapping_sub(1), position] {
            let (Some(x), Some(y), Some(z)) = (
                at(start),
                at(start.wrapping_add(1)),
                at(start.wrapping_add(2)),
            ) else {
                continue;
            };
            if x.group != y.group || y.group != z.group {
                continue;
            }
            useful |= self.window(x.symbol, y.symbol, z.symbol);
        }
        // Pairs (nibble, index) and (index, nibble) whose third member is absent.
        for start in [position.wrapping_sub(1), position] {
            let (Some(x), Some(y)) = (at(start), at(start.wrapping_add(1))) else {
                continue;
            };
            if x.group != y.group {
                continue;
            }
            if is_nibble(x.symbol) && is_index(y.symbol) && at(start.wrapping_add(2)).is_none() {
                useful |= self.half(y.symbol, (x.symbol & 0xff) as u8, true);
            } else if is_index(x.symbol)
                && is_nibble(y.symbol)
                && at(start.wrapping_sub(1)).is_none()
            {
                useful |= self.half(x.symbol, (y.symbol & 0xff) as u8, false);
            }
        }
        // Two nibbles around a lost index frame: solve the index from the CRC.
        for start in [position.wrapping_sub(2), position] {
            let (Some(x), None, Some(z)) = (
                at(start),
                s.slot(start.wrapping_add(1)),
                at(start.wrapping_add(2)),
            ) else {
                continue;
            };
            if x.group == z.group && is_nibble(x.symbol) && is_nibble(z.symbol) {
                useful |= self.orphan(x.symbol, z.symbol);
            }
        }
        useful
    }

    fn window(&mut self, x: u16, y: u16, z: u16) -> bool {
        let check = |first: u16, index: u16, third: u16| {
            let (value, crc) = join(first, third);
            (crc8(&[value, (index & 0x7f) as u8]) == crc).then_some(value)
        };
        match (is_nibble(x), is_nibble(y), is_nibble(z)) {
            (true, false, true) if is_index(y) => {
                if let Some(value) = check(x, y, z) {
                    return self.vote(y, value, 2);
                }
                if let Some(value) = check(z, y, x) {
                    return self.vote(y, value, 1);
                }
                false
            }
            (false, true, true) if is_index(x) => self.loose(x, y, z),
            (true, true, false) if is_index(z) => self.loose(z, x, y),
            _ => false,
        }
    }

    /// An index with two nibbles next to it but out of place (reordering): vote 1 if exactly one
    /// order checks.
    fn loose(&mut self, index: u16, a: u16, b: u16) -> bool {
        let i = (index & 0x7f) as u8;
        let try_order = |first: u16, third: u16| {
            let (value, crc) = join(first, third);
            (crc8(&[value, i]) == crc).then_some(value)
        };
        match (try_order(a, b), try_order(b, a)) {
            (Some(v), None) | (None, Some(v)) => self.vote(index, v, 1),
            _ => false,
        }
    }

    fn orphan(&mut self, first: u16, third: u16) -> bool {
        let (value, crc) = join(first, third);
        let limit = self.needed().map_or(INDICES, usize::from);
        let mut found = None;
        for index in 0..limit.min(INDICES) {
            if crc8(&[value, index as u8]) == crc {
                if found.is_some() {
                    return false;
                }
                found = Some(index as u16);
            }
        }
        found.is_some_and(|index| self.vote(0x100 | index, value, 1))
    }

    /// Tries every completion rule; stores the result when one verifies.
    fn try_complete(&mut self) -> bool {
        self.dirty = false;
        let Some(lock) = self.lock else {
            return false;
        };
        let Some(total) = self.total_len() else {
            return false;
        };
        let total = usize::from(total);
        let Some(password_len) = self.value(1).map(usize::from) else {
            return false;
        };
        if password_len > MAX_PASSWORD_LEN || HEADER_LEN + password_len > total {
            return false;
        }
        let ssid_len = total - HEADER_LEN - password_len;
        if ssid_len > MAX_SSID_LEN {
            return false;
        }
        let (Some(ssid_crc), Some(bssid_crc)) = (self.value(2), self.value(3)) else {
            return false;
        };
        let mut data = Zeroizing::new([0u8; INDICES]);
        let mut have = [false; INDICES];
        for (i, (d, h)) in data
            .iter_mut()
            .zip(have.iter_mut())
            .enumerate()
            .take(total + 6)
        {
            if let Some(v) = self.value(i) {
                *d = v;
                *h = true;
            }
        }
        let head = HEADER_LEN + password_len;
        if !have.iter().take(head).all(|&h| h) {
            return false;
        }
        // SSID: from the air, else from a unique matching scan result.
        let mut ssid = [0u8; MAX_SSID_LEN];
        let mut ssid_from_scan = false;
        let ssid_slice = data.get(head..total).unwrap_or(&[]);
        if have.get(head..total).is_some_and(|h| h.iter().all(|&x| x)) {
            if ssid_len == 0 || crc8(ssid_slice) != ssid_crc {
                return false;
            }
            if let Some(s) = ssid.get_mut(..ssid_len) {
                s.copy_from_slice(ssid_slice);
            }
        } else {
            let mut matched: Option<KnownNetwork> = None;
            let mut count = 0;
            for k in self.known.iter().flatten() {
                let agrees_with_air = k
                    .ssid()
                    .iter()
                    .zip(ssid_slice)
                    .zip(have.get(head..total).unwrap_or(&[]))
                    .all(|((a, b), &h)| !h || a == b);
                if k.ssid().len() == ssid_len && crc8(k.ssid()) == ssid_crc && agrees_with_air {
                    // Several BSSIDs of one SSID are one match.
                    if matched.is_none_or(|m| m.ssid() != k.ssid()) {
                        count += 1;
                    }
                    if matched.is_none() || k.bssid == lock.bssid {
                        matched = Some(*k);
                    }
                }
            }
            let Some(network) = matched.filter(|_| count == 1) else {
                return false;
            };
            if let Some(s) = ssid.get_mut(..ssid_len) {
                s.copy_from_slice(network.ssid());
            }
            ssid_from_scan = true;
        }
        let ssid_bytes = ssid.get(..ssid_len).unwrap_or(&[]);
        let xor = data.iter().take(head).fold(0u8, |a, &b| a ^ b)
            ^ ssid_bytes.iter().fold(0u8, |a, &b| a ^ b);
        if xor != 0 {
            return false;
        }
        // BSSID: from the air, else the locked BSSID or a scan result if its CRC matches.
        let mut bssid = [0u8; 6];
        let mut bssid_from_frames = false;
        let air = data.get(total..total + 6).unwrap_or(&[]);
        if have
            .get(total..total + 6)
            .is_some_and(|h| h.iter().all(|&x| x))
            && crc8(air) == bssid_crc
        {
            bssid.copy_from_slice(air);
        } else if crc8(&lock.bssid) == bssid_crc {
            bssid = lock.bssid;
            bssid_from_frames = true;
        } else if let Some(k) = self
            .known
            .iter()
            .flatten()
            .find(|k| k.ssid() == ssid_bytes && crc8(&k.bssid) == bssid_crc)
        {
            bssid = k.bssid;
            bssid_from_frames = true;
        } else {
            return false;
        }
        // The password goes straight into the result, not through a local copy.
        let result = self.result.insert(Credentials {
            ssid,
            ssid_len: ssid_len as u8,
            password: [0; MAX_PASSWORD_LEN],
            password_len: password_len as u8,
            bssid,
            phone_ip: [
                data.get(5).copied().unwrap_or(0),
                data.get(6).copied().unwrap_or(0),
                data.get(7).copied().unwrap_or(0),
                data.get(8).copied().unwrap_or(0),
            ],
            total_len: total as u8,
            ssid_from_scan,
            bssid_from_frames,
            sender: lock.source,
            channel: lock.channel,
        });
        if let (Some(dst), Some(src)) = (
            result.password.get_mut(..password_len),
            data.get(HEADER_LEN..head),
        ) {
            dst.copy_from_slice(src);
        }
        true
    }

    fn release_lock(&mut self) {
        self.lock = None;
        self.evidence.zeroize();
        self.estimate.zeroize();
        self.dirty = false;
    }

    /// Zeroizes everything that holds password bytes: the evidence, the estimates, the
    /// streams' frames and a result not taken.
    fn wipe(&mut self) {
        self.evidence.zeroize();
        self.estimate.zeroize();
        self.streams.zeroize();
        self.result.zeroize();
    }
}

const MAX_TOTAL: usize = HEADER_LEN + MAX_PASSWORD_LEN + MAX_SSID_LEN;

impl DecoderTrait for Decoder {
    type Output = Credentials;

    fn feed(&mut self, obs: &Observation) -> Progress {
        self.stats.observations = self.stats.observations.saturating_add(1);
        if self.complete {
            return Progress::Complete;
        }
        if let Some(lock) = self.lock {
            if obs.at.millis_since(lock.last_useful) > self.config.idle_timeout_ms {
                self.release_lock();
            }
        }
        let index = self.stream_index(obs);
        let config = self.config;
        let Some(stream) = self.streams.get_mut(index) else {
            return self.ignore();
        };
        stream.last_seen = obs.at;
        stream.channel = obs.channel;
        let position = match stream.place(obs) {
            Ok(p) => p,
            Err(retry) => {
                if retry {
                    self.stats.retries += 1;
                } else {
                    self.stats.duplicates += 1;
                }
                return Progress::Ignored;
            }
        };
        stream.frames = stream.frames.saturating_add(1);
        // Guide detection on raw lengths (the overhead is unknown until it succeeds).
        let mut progress = Progress::Ignored;
        let mut useful = false;
        if let Some(overhead) = stream.push_guide_window(obs.len) {
            if (config.min_overhead..=config.max_overhead).contains(&overhead) {
                stream.overhead = Some(overhead);
                stream.guides = stream.guides.saturating_add(1);
                useful = true;
                if self.lock.is_none() {
                    self.lock = Some(Lock {
                        source: obs.source,
                        bssid: obs.bssid,
                        channel: obs.channel,
                        since: obs.at,
                        last_useful: obs.at,
                    });
                    progress = Progress::Locked {
                        channel: obs.channel,
                        sender: obs.source,
                        bssid: obs.bssid,
                    };
                }
            }
        }
        let Some(stream) = self.streams.get_mut(index) else {
            return self.ignore();
        };
        let symbol = stream
            .overhead
            .and_then(|o| obs.len.checked_sub(o))
            .and_then(|s| s.checked_sub(EXTRA_LEN))
            .filter(|&s| s <= SYMBOL_MAX)
            .unwrap_or(NOT_SYMBOL);
        if symbol != NOT_SYMBOL {
            stream.symbols = stream.symbols.saturating_add(1);
        }
        stream.store(Slot {
            position,
            symbol,
            group: obs.destination[5],
            used: true,
        });
        let locked_here = self
            .lock
            .is_some_and(|l| l.source == obs.source && l.bssid == obs.bssid);
        if locked_here && symbol != NOT_SYMBOL && self.assemble(index, position) {
            useful = true;
            self.stats.used = self.stats.used.saturating_add(1);
        }
        if !locked_here {
            return match progress {
                Progress::Ignored => self.ignore(),
                p => p,
            };
        }
        if useful {
            if let Some(lock) = self.lock.as_mut() {
                lock.last_useful = obs.at;
            }
        }
        if self.dirty && self.try_complete() {
            self.complete = true;
            return Progress::Complete;
        }
        match progress {
            Progress::Ignored if useful || symbol != NOT_SYMBOL => Progress::Collecting {
                have: self.known_count(),
                need: self.needed(),
            },
            Progress::Ignored => self.ignore(),
            p => p,
        }
    }

    fn take(&mut self) -> Option<Credentials> {
        let result = self.result.take();
        // `take` leaves the bytes of the moved-out value behind the `None`.
        self.result.zeroize();
        result
    }

    fn reset(&mut self) {
        let known = self.known;
        // The old state is dropped, and so wiped, in place.
        *self = Self::new(self.config);
        self.known = known;
    }

    fn stats(&self) -> Stats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::assert_hidden;
    use crate::v1::{Config, Encoder};
    use std::format;

    const SECRET: &[u8] = b"S3cr3t-Pa55";
    const AP: Mac = [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff];

    /// A decoder fed one whole transmission of [`SECRET`], complete and not taken.
    fn complete_decoder() -> Decoder {
        let config = Config::new(b"TestAP", SECRET, AP, [192, 168, 1, 100]);
        let encoder = Encoder::new(&config).expect("valid");
        let mut decoder = Decoder::default();
        assert!(decoder.add_known_network(b"TestAP", AP));
        let mut complete = false;
        let lengths = encoder.guide().into_iter().chain(encoder.data_cycle());
        for (sequence, len) in lengths.enumerate() {
            let at = Instant::from_millis(8 * sequence as u64);
            let mut obs = Observation::new(at, len + 76, [2, 0, 0, 0, 0, 1], AP);
            obs.sequence = Some(sequence as u16);
            complete |= decoder.feed(&obs) == Progress::Complete;
        }
        assert!(complete, "decoded");
        assert_eq!(decoder.value(HEADER_LEN), Some(SECRET[0]), "votes hold it");
        decoder
    }

    /// Nothing of the password is left in the votes, the estimates, the frames or the result.
    fn assert_wiped(decoder: &Decoder) {
        assert!(decoder.evidence.iter().all(|e| *e == Evidence::default()));
        assert!(decoder.estimate.iter().all(Option::is_none));
        assert!(
            decoder
                .streams
                .iter()
                .all(|s| !s.in_use && s.ring.iter().all(|slot| *slot == EMPTY_SLOT))
        );
        assert!(decoder.result.is_none());
    }

    #[test]
    fn debug_shows_neither_the_password_nor_the_votes() {
        let mut decoder = complete_decoder();
        assert_hidden(&format!("{decoder:?}"), SECRET);
        let credentials = decoder.take().expect("a result");
        assert_eq!(credentials.password(), SECRET);
        let debug = format!("{credentials:?}");
        assert_hidden(&debug, SECRET);
        assert!(debug.contains("password: <11 bytes>"), "{debug}");
        assert!(
            debug.contains("[84, 101, 115, 116, 65, 80]"),
            "the SSID is shown"
        );
    }

    #[test]
    fn wipe_zeroizes_votes_estimates_frames_and_the_result() {
        let mut decoder = complete_decoder();
        decoder.wipe();
        assert_wiped(&decoder);
    }

    #[test]
    fn reset_forgets_the_password_but_keeps_the_scan_results() {
        let mut decoder = complete_decoder();
        decoder.reset();
        assert_wiped(&decoder);
        assert!(
            decoder
                .known
                .iter()
                .flatten()
                .any(|k| k.ssid() == b"TestAP")
        );
    }

    #[test]
    fn an_idle_lock_releases_its_votes_zeroized() {
        let mut decoder = complete_decoder();
        let _ = decoder.take();
        decoder.release_lock();
        assert!(decoder.evidence.iter().all(|e| *e == Evidence::default()));
        assert!(decoder.estimate.iter().all(Option::is_none));
    }

    #[test]
    fn credentials_zeroize_their_password() {
        let mut credentials = complete_decoder().take().expect("a result");
        credentials.zeroize();
        assert_eq!(credentials.password, [0; MAX_PASSWORD_LEN]);
        assert!(credentials.password().is_empty());
    }
}
