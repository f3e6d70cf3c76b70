//! The device side: an open AirKiss decoder fed sniffed frames ([`Observation`]s).
//!
//! How it reads the air (spec §3):
//!
//! 1. **Streams.** Frames are grouped by (BSSID, sender, direction, QoS, Protected): each stream
//!    has one constant overhead between the frame length and the code value. Retries and
//!    duplicates (same 802.11 sequence number) are dropped.
//! 2. **Guide, confirmed.** Four consecutive lengths `x, x+1, x+2, x+3` give the overhead
//!    `x − 1`. It must lie in a plausible window (a password like `1234` makes the same rising
//!    run, 0x130 higher) and be seen twice before the stream counts; the first confirmed stream
//!    locks the decoder on its sender. Other streams of that sender (the AP's re-broadcast, a
//!    second BSSID) join when they confirm their own overhead.
//! 3. **Magic and prefix** are voted per field (the field id is in the value); magic field 0 only
//!    counts when the next frame is field 1, because the guide's values share its range.
//!    The prefix's CRC checks the password length.
//! 4. **Sequences** are placed by round offset: in a round, group *k* occupies offsets
//!    `6k` (CRC header), `6k+1` (index header) and `6k+2..` (data). A CRC header directly
//!    followed by an index header anchors the round; every frame of the stream within that round —
//!    before or after the anchor, by 802.11 sequence number — then votes for its group and
//!    position, so groups whose headers were lost still fill. A group is accepted when a
//!    combination of voted bytes matches a voted header CRC.
//! 5. **Result** when every group is known (with a scan list: only the groups not covered by a
//!    scanned SSID whose CRC and length match) and the SSID's CRC equals the magic's.

use wifiprov_sniff::{
    Crc8, Decoder as DecoderTrait, Direction, Instant, Mac, Observation, Progress, Stats, crc8,
};
use zeroize::{DefaultIsZeroes, Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::encoder::{MAX_GROUPS, MAX_PASSWORD_LEN, MAX_SSID_LEN, MAX_TOTAL};

/// Streams tracked at once (the least recently seen is replaced).
pub const MAX_STREAMS: usize = 12;
/// Scanned SSIDs kept for scan-assisted completion.
pub const MAX_KNOWN_SSIDS: usize = 16;

const RING: usize = 64;
/// Frames are placed at most this many datagrams from their anchor: other stations' frames take
/// sequence numbers from the AP's counter too, so long spans drift.
const MAX_SPAN: i32 = 16;
const FOREIGN: usize = 32;
const CANDIDATES: usize = 3;

/// Tuning of the decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecoderConfig {
    /// Smallest overhead (frame length − code value) accepted from a guide.
    pub min_overhead: u16,
    /// Largest overhead accepted (below 0x130 + the smallest real one, so data runs never pass).
    pub max_overhead: u16,
    /// Guide detections with the same overhead needed before a stream counts.
    pub confirmations: u8,
    /// Drop the lock (and its data) when the locked sender sent nothing useful for this long.
    pub idle_timeout_ms: u64,
}

impl Default for DecoderConfig {
    fn default() -> Self {
        Self {
            // Ethernet on loopback is 42; 802.11 is 60 (open, no FCS) to ~100.
            min_overhead: 20,
            max_overhead: 255,
            confirmations: 2,
            idle_timeout_ms: 20_000,
        }
    }
}

/// Decoded AirKiss credentials. Zeroized on drop; `Debug` shows the password's length only.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Credentials {
    ssid: [u8; MAX_SSID_LEN],
    ssid_len: u8,
    password: [u8; MAX_PASSWORD_LEN],
    password_len: u8,
    random: u8,
    ssid_from_scan: bool,
    sender: Mac,
    bssid: Mac,
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
    /// The random byte to echo in the ack.
    #[must_use]
    pub const fn random(&self) -> u8 {
        self.random
    }
    /// True if the SSID came from the scan list (its CRC and length matched).
    #[must_use]
    pub const fn ssid_from_scan(&self) -> bool {
        self.ssid_from_scan
    }
    /// The phone.
    #[must_use]
    pub const fn sender(&self) -> Mac {
        self.sender
    }
    /// The BSSID of the locked stream.
    #[must_use]
    pub const fn bssid(&self) -> Mac {
        self.bssid
    }
    /// Channel the phone was heard on (0 if the observations carried none).
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
            .field("random", &self.random)
            .field("ssid_from_scan", &self.ssid_from_scan)
            .field("sender", &self.sender)
            .field("bssid", &self.bssid)
            .field("channel", &self.channel)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Key {
    bssid: Mac,
    source: Mac,
    from_ap: bool,
    qos: bool,
    protected: bool,
}

impl Key {
    fn of(obs: &Observation) -> Self {
        Self {
            bssid: obs.bssid,
            source: obs.source,
            from_ap: obs.direction == Direction::FromAp,
            qos: obs.qos,
            protected: obs.protected,
        }
    }
}

/// Where a round offset is known: (counter position, round offset). A firm anchor comes from a
/// header next to a header or data; a tentative one from a lone header read by its value — the
/// frames it places vote but stay free, so a firm anchor can place them again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Anchor {
    seq: u16,
    offset: u16,
    firm: bool,
}

#[derive(Debug, Clone, Copy, Default)]
struct Frame {
    /// Position on the stream's counter (802.11 sequence number, or arrival count).
    seq: u16,
    /// When it was heard (ms, truncated).
    at: u32,
    value: u16,
    voted: bool,
}

#[derive(Debug, Clone, Copy)]
struct Stream {
    key: Key,
    in_use: bool,
    last_seen: Instant,
    channel: u8,
    /// Last four raw lengths, for the guide.
    window: [u16; 4],
    window_seq: [u16; 4],
    window_len: u8,
    /// Overhead candidate and how often the guide gave it.
    candidate: u16,
    hits: u8,
    /// Confirmed overhead.
    overhead: Option<u16>,
    /// Sequence-number step per datagram (2 when an AP relays through two BSSIDs).
    step: u16,
    has_sequence: bool,
    arrivals: u16,
    last_seq: Option<u16>,
    /// Recent frames of a confirmed stream (code values), in arrival order.
    ring: [Frame; RING],
    ring_len: usize,
    ring_head: usize,
    /// Latest round anchor.
    anchor: Option<Anchor>,
}

impl Default for Stream {
    fn default() -> Self {
        Self {
            key: Key::default(),
            in_use: false,
            last_seen: Instant::default(),
            channel: 0,
            window: [0; 4],
            window_seq: [0; 4],
            window_len: 0,
            candidate: 0,
            hits: 0,
            overhead: None,
            step: 1,
            has_sequence: false,
            arrivals: 0,
            last_seq: None,
            ring: [Frame::default(); RING],
            ring_len: 0,
            ring_head: 0,
            anchor: None,
        }
    }
}

/// The ring holds code values (password bytes): wiped to the default.
impl DefaultIsZeroes for Stream {}

impl Stream {
    /// Pushes a raw length; returns an overhead when the window holds a guide run.
    fn push_guide(&mut self, len: u16, seq: u16) -> Option<u16> {
        self.window.rotate_left(1);
        self.window_seq.rotate_left(1);
        self.window[3] = len;
        self.window_seq[3] = seq;
        self.window_len = self.window_len.saturating_add(1).min(4);
        if self.window_len < 4 {
            return None;
        }
        let [a, b, c, d] = self.window;
        if b == a.wrapping_add(1) && c == a.wrapping_add(2) && d == a.wrapping_add(3) {
            let step = self.window_seq[1].wrapping_sub(self.window_seq[0]) & 0x0fff;
            let consistent = (1..=2).contains(&step)
                && (self.window_seq[2].wrapping_sub(self.window_seq[1]) & 0x0fff) == step
                && (self.window_seq[3].wrapping_sub(self.window_seq[2]) & 0x0fff) == step;
            if self.has_sequence && consistent {
                self.step = step;
            }
            return a.checked_sub(1);
        }
        None
    }

    /// The last three raw lengths rise by one each, as three values of a guide quartet do (a
    /// quartet with a frame lost): worth staying on the channel for, not a detection.
    fn guide_like(&self) -> bool {
        let [_, a, b, c] = self.window;
        self.window_len >= 3 && b == a.wrapping_add(1) && c == a.wrapping_add(2)
    }

    fn frames(&self) -> impl Iterator<Item = (usize, &Frame)> {
        (0..self.ring_len).filter_map(move |i| {
            let slot = (self.ring_head + RING - self.ring_len + i) % RING;
            self.ring.get(slot).map(|f| (slot, f))
        })
    }

    fn push_frame(&mut self, seq: u16, value: u16, at: Instant) -> usize {
        let slot = self.ring_head;
        if let Some(f) = self.ring.get_mut(slot) {
            *f = Frame {
                seq,
                at: at.as_millis() as u32,
                value,
                voted: false,
            };
        }
        self.ring_head = (self.ring_head + 1) % RING;
        self.ring_len = (self.ring_len + 1).min(RING);
        slot
    }

    /// The frame `steps` datagrams after `seq`, if in the ring.
    fn after(&self, seq: u16, steps: u16) -> Option<Frame> {
        let modulus = if self.has_sequence { 0x0fff } else { 0xffff };
        let target = seq.wrapping_add(steps.wrapping_mul(self.step)) & modulus;
        self.frames()
            .find(|(_, f)| f.seq == target)
            .map(|(_, f)| *f)
    }

    /// The frame `steps` datagrams before `seq`, if in the ring.
    fn before(&self, seq: u16, steps: u16) -> Option<Frame> {
        let target = self.back(seq, steps);
        self.frames()
            .find(|(_, f)| f.seq == target)
            .map(|(_, f)| *f)
    }

    fn back(&self, seq: u16, steps: u16) -> u16 {
        let modulus = if self.has_sequence { 0x0fff } else { 0xffff };
        seq.wrapping_sub(steps.wrapping_mul(self.step)) & modulus
    }

    /// Counter positions from `from` to `to`, signed.
    fn raw_distance(&self, from: u16, to: u16) -> i32 {
        let (modulus, half) = if self.has_sequence {
            (0x1000i32, 0x800i32)
        } else {
            (0x1_0000i32, 0x8000i32)
        };
        let mut diff = (i32::from(to) - i32::from(from)).rem_euclid(modulus);
        if diff >= half {
            diff -= modulus;
        }
        diff
    }

    /// The transmitter whose sequence counter the stream's frames carry.
    fn transmitter(&self) -> Mac {
        if self.key.from_ap {
            self.key.bssid
        } else {
            self.key.source
        }
    }

    fn is_duplicate(&self, seq: u16) -> bool {
        self.has_sequence
            && (self.last_seq == Some(seq) || self.frames().any(|(_, f)| f.seq == seq))
    }
}

/// Votes for one byte: up to three candidates (value, count, time of the last counted vote).
#[derive(Debug, Clone, Copy, Default)]
struct Votes {
    slots: [(u8, u8); CANDIDATES],
    last: [u32; CANDIDATES],
}

/// Votes for the same value closer together than this are one event (the ToDS and FromDS copies
/// of one datagram, or an AP relaying through two BSSIDs), not independent evidence.
const SAME_EVENT_MS: u32 = 50;

/// Candidates are password bytes: wiped to all zeroes.
impl DefaultIsZeroes for Votes {}

impl Votes {
    fn add(&mut self, value: u8) {
        self.add_at(value, None);
    }

    /// A vote heard at `at` ms (None: always counted).
    fn add_at(&mut self, value: u8, at: Option<u32>) {
        if let Some((slot, last)) = self
            .slots
            .iter_mut()
            .zip(self.last.iter_mut())
            .find(|((v, c), _)| *c > 0 && *v == value)
        {
            let independent = match at {
                Some(t) => t.wrapping_sub(*last) >= SAME_EVENT_MS,
                None => true,
            };
            if independent {
                slot.1 = slot.1.saturating_add(1);
                if let Some(t) = at {
                    *last = t;
                }
            }
        } else if let Some((weakest, last)) = self
            .slots
            .iter_mut()
            .zip(self.last.iter_mut())
            .min_by_key(|((_, c), _)| *c)
            && weakest.1 <= 1
        {
            // A new value replaces the weakest candidate (one seen at most once).
            *weakest = (value, 1);
            *last = at.unwrap_or(0);
        }
    }

    /// Candidates, strongest first.
    fn ranked(&self) -> impl Iterator<Item = (u8, u8)> {
        let mut slots = self.slots;
        slots.sort_unstable_by_key(|&(v, c)| (core::cmp::Reverse(c), v));
        slots.into_iter().filter(|&(_, c)| c > 0)
    }

    /// The clear winner: the strongest candidate, with at least `min` votes and more than any
    /// other.
    fn winner(&self, min: u8) -> Option<u8> {
        let mut ranked = self.ranked();
        let (value, count) = ranked.next()?;
        let second = ranked.next().map_or(0, |(_, c)| c);
        (count >= min && count > second).then_some(value)
    }

    fn is_empty(&self) -> bool {
        self.slots.iter().all(|&(_, c)| c == 0)
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Group {
    bytes: [Votes; 4],
    /// The bytes heard framed (see [`Decoder::note_framed`]), every copy counted.
    framed: [Votes; 4],
    crc: Votes,
    known: Option<[u8; 4]>,
}

/// Votes and bytes of the password: wiped to all zeroes.
impl DefaultIsZeroes for Group {}

#[derive(Debug, Clone, Copy)]
struct Lock {
    sender: Mac,
    bssid: Mac,
    channel: u8,
    last_useful: Instant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shape {
    total: usize,
    password_len: usize,
    ssid_crc: u8,
}

impl Shape {
    fn groups(&self) -> usize {
        self.total.div_ceil(4)
    }
    fn group_len(&self, group: usize) -> usize {
        self.total.saturating_sub(4 * group).min(4)
    }
    fn round_len(&self) -> u16 {
        u16::try_from(2 * self.groups() + self.total).unwrap_or(u16::MAX)
    }
}

/// Most combinations of tied candidates the first stage tries against a CRC heard in three rounds.
const STRONG_COMBINATIONS: usize = 2;
/// A CRC heard in at least this many rounds may repair a group from weaker candidates.
const REPAIR_CRC_VOTES: u8 = 10;
/// The same for a group entirely inside the SSID.
const REPAIR_CRC_VOTES_SSID: u8 = 4;
/// Most combinations the repair tries (airkissOpen resolves up to 12 position conflicts; fewer
/// keep the chance of a false match on the 7-bit CRC small).
const REPAIR_COMBINATIONS: usize = 12;

/// Candidate values for each of the `len` positions of `group`: a byte fixed by the scan is its
/// only one; `pick(position, votes, slots)` fills the others' slots and says how many it filled
/// (`None`: no decision yet). `None` when a position has no candidate.
fn candidate_options(
    group: &Group,
    len: usize,
    fixed: [Option<u8>; 4],
    mut pick: impl FnMut(usize, &Votes, &mut [u8; CANDIDATES]) -> Option<usize>,
) -> Option<([[u8; CANDIDATES]; 4], [usize; 4])> {
    let mut options = [[0u8; CANDIDATES]; 4];
    let mut counts = [0usize; 4];
    for (j, ((option, count), fixed)) in options
        .iter_mut()
        .zip(counts.iter_mut())
        .zip(fixed)
        .enumerate()
        .take(len)
    {
        *count = match fixed {
            Some(b) => {
                option[0] = b;
                1
            }
            None => pick(j, group.bytes.get(j)?, option)?,
        };
        if *count == 0 {
            return None;
        }
    }
    Some((options, counts))
}

/// The one combination of `options` (`counts` per position) whose CRC, over the group index and
/// the bytes, is among `crcs`; `None` when none or several are.
fn unique_match(
    index: usize,
    len: usize,
    options: &[[u8; CANDIDATES]; 4],
    counts: &[usize; 4],
    crcs: &[Option<u8>; 2],
) -> Option<[u8; 4]> {
    let index_byte = (index & 0x7f) as u8;
    let total = counts.iter().take(len).product::<usize>();
    let mut accepted = None;
    for combination in 0..total {
        let mut bytes = [0u8; 4];
        let mut rest = combination;
        for ((byte, option), count) in bytes.iter_mut().zip(options).zip(counts).take(len) {
            let n = (*count).max(1);
            *byte = option.get(rest % n).copied().unwrap_or(0);
            rest /= n;
        }
        let mut crc = Crc8::new();
        crc.update(&[index_byte]);
        crc.update(bytes.get(..len).unwrap_or_default());
        let crc = crc.finish() & 0x7f;
        if crcs.iter().flatten().any(|&c| c == crc) {
            if accepted.is_some() {
                return None;
            }
            accepted = Some(bytes);
        }
    }
    accepted
}

/// The AirKiss decoder. Feed it every observation ([`DecoderTrait::feed`]); after
/// [`Progress::Complete`], [`DecoderTrait::take`] gives the [`Credentials`]. Give it the SSIDs
/// of a scan with [`add_known_ssid`](Self::add_known_ssid) for scan-assisted completion.
///
/// Its votes and frames are password bytes: they are zeroized on drop, on
/// [`reset`](DecoderTrait::reset) and when a lock idles out, and `Debug` does not show them.
#[derive(Clone)]
pub struct Decoder {
    config: DecoderConfig,
    streams: [Stream; MAX_STREAMS],
    lock: Option<Lock>,
    magic: [Votes; 4],
    prefix: [Votes; 4],
    shape: Option<Shape>,
    groups: [Group; MAX_GROUPS],
    known: [([u8; MAX_SSID_LEN], u8); MAX_KNOWN_SSIDS],
    known_len: usize,
    /// The scanned SSID whose length and CRC match the magic.
    scan_ssid: Option<[u8; MAX_SSID_LEN]>,
    /// Sequence numbers other senders' frames took on a transmitter's counter (recent ones).
    foreign: [(Mac, u16); FOREIGN],
    foreign_len: usize,
    foreign_head: usize,
    result: Option<Credentials>,
    complete: bool,
    stats: Stats,
    /// The channel of a first, unconfirmed guide detection, until taken.
    hint: Option<u8>,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new(DecoderConfig::default())
    }
}

impl core::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Never the votes, the frames or the result: they are the password.
        f.debug_struct("Decoder")
            .field("config", &self.config)
            .field("lock", &self.lock)
            .field("shape", &self.shape)
            .field("known", &self.known_count())
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
    /// A decoder waiting for a guide.
    #[must_use]
    pub fn new(config: DecoderConfig) -> Self {
        Self {
            config,
            streams: [Stream::default(); MAX_STREAMS],
            lock: None,
            magic: [Votes::default(); 4],
            prefix: [Votes::default(); 4],
            shape: None,
            groups: [Group::default(); MAX_GROUPS],
            known: [([0; MAX_SSID_LEN], 0); MAX_KNOWN_SSIDS],
            known_len: 0,
            scan_ssid: None,
            foreign: [([0; 6], 0); FOREIGN],
            foreign_len: 0,
            foreign_head: 0,
            result: None,
            complete: false,
            stats: Stats::default(),
            hint: None,
        }
    }

    /// Adds a scanned SSID (false if the list is full or the SSID is empty or too long).
    pub fn add_known_ssid(&mut self, ssid: &[u8]) -> bool {
        if ssid.is_empty() || ssid.len() > MAX_SSID_LEN || self.known_len >= MAX_KNOWN_SSIDS {
            return false;
        }
        if let Some((buf, len)) = self.known.get_mut(self.known_len) {
            if let Some(dst) = buf.get_mut(..ssid.len()) {
                dst.copy_from_slice(ssid);
            }
            *len = u8::try_from(ssid.len()).unwrap_or(0);
            self.known_len += 1;
            return true;
        }
        false
    }

    /// The locked sender, its BSSID and channel.
    #[must_use]
    pub fn locked(&self) -> Option<(Mac, Mac, u8)> {
        self.lock.map(|l| (l.sender, l.bssid, l.channel))
    }

    /// The channel on which a guide was heard once but not yet confirmed (a lock needs
    /// [`DecoderConfig::confirmations`] detections), and forgets it. A hopping receiver should
    /// stay there a little longer: a dwell that catches the phone's guide late holds too few
    /// quartets to confirm it, most of all at the official tool's 10-ms guide spacing.
    pub fn take_hint(&mut self) -> Option<u8> {
        self.hint.take()
    }

    /// `(total_len, password_len, ssid_crc)` once magic and prefix are decoded.
    #[must_use]
    pub fn shape(&self) -> Option<(usize, usize, u8)> {
        self.shape.map(|s| (s.total, s.password_len, s.ssid_crc))
    }

    /// Data bytes known so far.
    #[must_use]
    pub fn known_count(&self) -> u16 {
        let Some(shape) = self.shape else { return 0 };
        let n: usize = (0..shape.groups())
            .filter(|&g| self.groups.get(g).is_some_and(|g| g.known.is_some()))
            .map(|g| shape.group_len(g))
            .sum();
        u16::try_from(n).unwrap_or(u16::MAX)
    }

    /// Whether group `index` is known.
    #[must_use]
    pub fn group_known(&self, index: usize) -> bool {
        self.groups.get(index).is_some_and(|g| g.known.is_some())
    }

    /// The voted candidates (value, votes) for byte `position` of group `group`, strongest first
    /// (introspection: `wifiprov decode --explain`).
    pub fn candidates(&self, group: usize, position: usize) -> impl Iterator<Item = (u8, u8)> + '_ {
        self.groups
            .get(group)
            .and_then(|g| g.bytes.get(position))
            .into_iter()
            .flat_map(Votes::ranked)
    }

    /// The voted header CRCs (7 bits, votes) of group `group`.
    pub fn crc_candidates(&self, group: usize) -> impl Iterator<Item = (u8, u8)> + '_ {
        self.groups
            .get(group)
            .map(|g| &g.crc)
            .into_iter()
            .flat_map(Votes::ranked)
    }

    /// Streams seen: (BSSID, sender, from the AP, confirmed overhead, frames in its ring).
    pub fn streams(&self) -> impl Iterator<Item = (Mac, Mac, bool, Option<u16>)> + '_ {
        self.streams
            .iter()
            .filter(|s| s.in_use)
            .map(|s| (s.key.bssid, s.key.source, s.key.from_ap, s.overhead))
    }

    fn stream_index(&mut self, obs: &Observation) -> usize {
        let key = Key::of(obs);
        if let Some(i) = self.streams.iter().position(|s| s.in_use && s.key == key) {
            return i;
        }
        // A free slot, else the least recently seen stream that is not the locked sender's.
        let locked = self.lock.map(|l| l.sender);
        let index = self
            .streams
            .iter()
            .position(|s| !s.in_use)
            .or_else(|| {
                self.streams
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| Some(s.key.source) != locked)
                    .min_by_key(|(_, s)| s.last_seen)
                    .map(|(i, _)| i)
            })
            .unwrap_or(0);
        if let Some(s) = self.streams.get_mut(index) {
            *s = Stream {
                key,
                in_use: true,
                has_sequence: obs.sequence.is_some(),
                ..Stream::default()
            };
        }
        index
    }

    /// Remembers that `transmitter` used sequence number `seq` for a frame that is not AirKiss.
    fn note_foreign(&mut self, transmitter: Mac, seq: u16) {
        if let Some(slot) = self.foreign.get_mut(self.foreign_head) {
            *slot = (transmitter, seq & 0x0fff);
        }
        self.foreign_head = (self.foreign_head + 1) % FOREIGN;
        self.foreign_len = (self.foreign_len + 1).min(FOREIGN);
    }

    /// Drops the lock and everything learnt from its sender; the scan results and the
    /// counters (of the decoder's whole life) stay.
    fn release(&mut self) {
        let (known, stats) = ((self.known, self.known_len), self.stats);
        // The old state is dropped, and so wiped, in place.
        *self = Self::new(self.config);
        (self.known, self.known_len) = known;
        self.stats = stats;
    }

    /// Zeroizes everything that holds password bytes: the votes, the streams' frames and a
    /// result not taken.
    fn wipe(&mut self) {
        self.magic.zeroize();
        self.prefix.zeroize();
        self.groups.zeroize();
        self.streams.zeroize();
        self.result.zeroize();
    }

    fn ignore(&mut self) -> Progress {
        self.stats.ignored = self.stats.ignored.saturating_add(1);
        Progress::Ignored
    }

    /// Magic and prefix votes; decides the shape when both are clear.
    fn vote_field(&mut self, stream: usize, seq: u16, value: u16) -> bool {
        let field = usize::from(value >> 4);
        let nibble = (value & 0x0f) as u8;
        let useful = match field {
            0 => false, // counted when its successor (field 1) arrives
            1..=3 => {
                if field == 1
                    && let Some(prev) = self.streams.get(stream).and_then(|s| s.before(seq, 1))
                    && prev.value < 0x10
                {
                    let high = (prev.value & 0x0f) as u8;
                    if let Some(v) = self.magic.get_mut(0) {
                        v.add(if high == 8 { 0 } else { high });
                    }
                }
                if let Some(v) = self.magic.get_mut(field) {
                    v.add(nibble);
                }
                true
            }
            4..=7 => {
                if let Some(v) = self.prefix.get_mut(field - 4) {
                    v.add(nibble);
                }
                true
            }
            _ => false,
        };
        if useful && self.shape.is_none() {
            self.decide_shape();
        }
        useful
    }

    fn decide_shape(&mut self) {
        let nibbles = |votes: &[Votes; 4], min: u8| -> Option<[u8; 4]> {
            let mut out = [0u8; 4];
            for (o, v) in out.iter_mut().zip(votes) {
                *o = v.winner(min)?;
            }
            Some(out)
        };
        // The prefix carries its own CRC-8 (of the password length): one uncontested quartet
        // whose CRC checks is enough (WeChat's layout sends one prefix quartet per data round).
        let prefix = nibbles(&self.prefix, 2).or_else(|| {
            nibbles(&self.prefix, 1).filter(|p| crc8(&[p[0] << 4 | p[1]]) == p[2] << 4 | p[3])
        });
        let (Some(m), Some(p)) = (nibbles(&self.magic, 2), prefix) else {
            return;
        };
        let total = usize::from(m[0] << 4 | m[1]);
        let ssid_crc = m[2] << 4 | m[3];
        let password_len = p[0] << 4 | p[1];
        let crc = p[2] << 4 | p[3];
        let password_len_usize = usize::from(password_len);
        let ssid_len = total.checked_sub(password_len_usize + 1);
        let valid = crc8(&[password_len]) == crc
            && total <= MAX_TOTAL
            && password_len_usize <= MAX_PASSWORD_LEN
            && ssid_len.is_some_and(|s| (1..=MAX_SSID_LEN).contains(&s));
        if valid {
            let shape = Shape {
                total,
                password_len: password_len_usize,
                ssid_crc,
            };
            self.shape = Some(shape);
            self.fill_from_scan(shape);
            // Frames stored before the shape was known can vote now.
            for i in 0..MAX_STREAMS {
                self.replace_anchor(i);
            }
        }
    }

    /// With a scanned SSID of the right length and CRC, its bytes are known.
    fn fill_from_scan(&mut self, shape: Shape) {
        let ssid_len = shape.total - shape.password_len - 1;
        let found = self
            .known
            .iter()
            .take(self.known_len)
            .find(|(buf, len)| {
                usize::from(*len) == ssid_len
                    && buf
                        .get(..ssid_len)
                        .is_some_and(|s| crc8(s) == shape.ssid_crc)
            })
            .map(|(buf, _)| *buf);
        let Some(ssid) = found else { return };
        // Groups entirely inside the SSID are known; partial ones get fixed positions below.
        for g in 0..shape.groups() {
            let start = 4 * g;
            let len = shape.group_len(g);
            let first_ssid = shape.password_len + 1;
            if start >= first_ssid {
                let mut bytes = [0u8; 4];
                for (j, b) in bytes.iter_mut().take(len).enumerate() {
                    *b = ssid.get(start + j - first_ssid).copied().unwrap_or(0);
                }
                if let Some(group) = self.groups.get_mut(g) {
                    group.known = Some(bytes);
                }
            }
        }
        self.scan_ssid = Some(ssid);
    }

    /// The round offset of the frame just pushed (`seq`, `value`), when it can be known:
    ///
    /// * an index header — a header right after another header, or right before data — is at
    ///   `6·index + 1`;
    /// * a lone header whose 7 bits are a valid index but no group's voted CRC is an index
    ///   header; once every group's CRC is voted, one whose bits are only group *k*'s CRC is that
    ///   group's CRC header (`6k`);
    fn find_anchor(&self, index: usize, seq: u16, value: u16) -> Option<Anchor> {
        let shape = self.shape?;
        let stream = self.streams.get(index)?;
        let groups = shape.groups();
        let is_header = |v: u16| v & 0x180 == 0x80;
        let prev = stream.before(seq, 1);
        let structural = match prev {
            Some(p) if is_header(value) && is_header(p.value) => Some((seq, value)),
            Some(p) if value & 0x100 != 0 && is_header(p.value) => Some((p.seq, p.value)),
            _ => None,
        };
        if let Some((at, header)) = structural {
            let group = usize::from(header & 0x7f);
            return (group < groups).then_some(Anchor {
                seq: at,
                offset: 6 * (header & 0x7f) + 1,
                firm: true,
            });
        }
        if is_header(value) {
            let bits = (value & 0x7f) as u8;
            // Any voted CRC equal to these bits makes an index reading doubtful.
            let crc_like = (0..groups).any(|g| {
                self.groups
                    .get(g)
                    .is_some_and(|g| g.crc.ranked().any(|(c, _)| c == bits))
            });
            let mut crc_of = (0..groups).filter(|&g| {
                self.groups
                    .get(g)
                    .and_then(|g| g.crc.winner(2))
                    .is_some_and(|c| c == bits)
            });
            let crc_group = crc_of.next();
            let unique_crc = crc_of.next().is_none();
            let as_index = usize::from(bits) < groups;
            let offset = match (as_index, crc_group) {
                (true, None) if !crc_like => 6 * u16::from(bits) + 1,
                (false, Some(g)) if unique_crc => u16::try_from(6 * g).ok()?,
                _ => return None,
            };
            return Some(Anchor {
                seq,
                offset,
                firm: false,
            });
        }
        None
    }

    /// Re-places every frame of stream `index` against its latest anchor.
    fn replace_anchor(&mut self, index: usize) {
        let Some(stream) = self.streams.get(index) else {
            return;
        };
        let Some(anchor) = stream.anchor else { return };
        let slots: [Option<usize>; RING] = {
            let mut out = [None; RING];
            for (o, (slot, f)) in out.iter_mut().zip(stream.frames()) {
                if !f.voted {
                    *o = Some(slot);
                }
            }
            out
        };
        for slot in slots.into_iter().flatten() {
            self.place(index, slot, anchor);
        }
    }

    /// AirKiss datagrams from counter position `from` to `to` in `stream` (signed), not counting
    /// positions that other stations' frames from the same transmitter were seen to take; `None`
    /// beyond [`MAX_SPAN`].
    fn datagrams_between(&self, stream: &Stream, from: u16, to: u16) -> Option<i32> {
        let mut diff = stream.raw_distance(from, to);
        if stream.has_sequence && stream.step == 1 {
            let transmitter = stream.transmitter();
            let foreign = self
                .foreign
                .iter()
                .take(self.foreign_len)
                .filter(|(t, seq)| {
                    *t == transmitter && {
                        let d = stream.raw_distance(from, *seq);
                        (diff > 0 && d > 0 && d < diff) || (diff < 0 && d < 0 && d > diff)
                    }
                })
                .count();
            let foreign = i32::try_from(foreign).unwrap_or(0);
            diff -= diff.signum() * foreign;
        }
        let step = i32::from(stream.step.max(1));
        (diff % step == 0 && (diff / step).abs() <= MAX_SPAN).then_some(diff / step)
    }

    /// Frame `seq` of stream `index`, not a data frame, may close a group heard whole: exactly
    /// its bytes right before the end frame, and before them its index header or nothing. The
    /// group is named by that index header, or (it unheard) by the next group's index header
    /// right after the end frame. In that round no frame of the phone came between unseen or was
    /// heard as data (either would put a header one place off, or a data frame where the index
    /// header goes), so the bytes' places are sure: each counts as a framed hearing (see
    /// [`strongest_match`]).
    ///
    /// [`strongest_match`]: Self::strongest_match
    fn note_framed(&mut self, index: usize, seq: u16) {
        let Some(shape) = self.shape else { return };
        let Some(stream) = self.streams.get(index) else {
            return;
        };
        let is_index = |f: &Frame, group: usize| f.value == 0x80 | (group & 0x7f) as u16;
        // This frame ends a group named by the index header before it; or this frame is an
        // index header and the one before it (the CRC header) ends the group before.
        let mut ends = [None, None];
        for len in 1..=4u16 {
            if let Some(start) = stream.before(seq, len + 1)
                && start.value & 0x180 == 0x80
            {
                let group = usize::from(start.value & 0x7f);
                if shape.group_len(group) == usize::from(len) && is_index(&start, group) {
                    ends[0] = Some((seq, group, len));
                    break;
                }
            }
        }
        if let Some(this) = stream.after(seq, 0)
            && this.value & 0x180 == 0x80
            && let Some(group) = usize::from(this.value & 0x7f).checked_sub(1)
            && is_index(&this, group + 1)
            && stream.before(seq, 1).is_some_and(|f| f.value & 0x100 == 0)
        {
            let len = shape.group_len(group) as u16;
            let end = stream.back(seq, 1);
            if len > 0 && stream.before(end, len + 1).is_none() {
                ends[1] = Some((end, group, len));
            }
        }
        let mut whole = [None, None];
        for (out, (end, group, len)) in whole.iter_mut().zip(ends.into_iter().flatten()) {
            let mut bytes = [0u8; 4];
            let complete = bytes.iter_mut().zip((1..=len).rev()).all(|(b, back)| {
                stream.before(end, back).is_some_and(|f| {
                    *b = (f.value & 0xff) as u8;
                    f.value & 0x100 != 0
                })
            });
            if complete {
                *out = Some((group, len, bytes));
            }
        }
        for (group, len, bytes) in whole.into_iter().flatten() {
            if let Some(g) = self.groups.get_mut(group) {
                for (votes, b) in g.framed.iter_mut().zip(bytes).take(usize::from(len)) {
                    votes.add(b);
                }
            }
            self.try_group(group);
        }
    }

    /// Votes with the frame in `slot` of stream `index`, placed by `anchor`.
    fn place(&mut self, index: usize, slot: usize, anchor: Anchor) -> bool {
        let Some(shape) = self.shape else {
            return false;
        };
        let Some(stream) = self.streams.get(index) else {
            return false;
        };
        let Some(frame) = stream.ring.get(slot).copied() else {
            return false;
        };
        if frame.voted {
            return false;
        }
        let round = i32::from(shape.round_len());
        let Some(delta) = self.datagrams_between(stream, anchor.seq, frame.seq) else {
            return false;
        };
        let offset = i32::from(anchor.offset) + delta;
        if !(0..round).contains(&offset) {
            return false;
        }
        let offset = offset as usize;
        let next_is_same = stream
            .after(frame.seq, 1)
            .is_some_and(|next| next.value == frame.value);
        let is_header = frame.value & 0x180 == 0x80;
        let is_data = frame.value & 0x100 != 0;
        let (group, role) = (offset / 6, offset % 6);
        let voted = match role {
            // A header whose bits are its own group's index placed as a CRC is most likely the
            // index header shifted by one (reordered or an unseen foreign frame): it counts only
            // when the index header follows it.
            0 if is_header && ((frame.value & 0x7f) as usize != group || next_is_same) => {
                if let Some(g) = self.groups.get_mut(group) {
                    g.crc.add_at((frame.value & 0x7f) as u8, Some(frame.at));
                }
                true
            }
            // An index header votes nothing (and stays free for a better anchor).
            1 => false,
            r @ 2..=5 if is_data && r - 2 < shape.group_len(group) => {
                if let Some(v) = self
                    .groups
                    .get_mut(group)
                    .and_then(|g| g.bytes.get_mut(r - 2))
                {
                    v.add_at((frame.value & 0xff) as u8, Some(frame.at));
                }
                true
            }
            _ => false,
        };
        if voted {
            if anchor.firm
                && let Some(f) = self
                    .streams
                    .get_mut(index)
                    .and_then(|s| s.ring.get_mut(slot))
            {
                f.voted = true;
            }
            self.try_group(group);
        }
        voted
    }

    /// Accepts group `index` when voted bytes match a voted CRC.
    ///
    /// Two stages. First the strongest candidates only: every combination tried is a 1/128
    /// chance of a false match on the 7-bit CRC, and misplaced frames (a counter shifted by other
    /// stations, reordering, the phone's own traffic) give weaker, scattered votes. Then, only
    /// against a CRC heard in many rounds and clearly ahead of any other, every candidate (the
    /// repair airkissOpen makes with its position conflicts): a true byte heard once beside a
    /// shifted neighbour's, as in a log where no round arrived whole.
    fn try_group(&mut self, index: usize) {
        let Some(shape) = self.shape else { return };
        let len = shape.group_len(index);
        let fixed = self.fixed_bytes(shape, index);
        let Some(group) = self.groups.get(index).copied() else {
            return;
        };
        if group.known.is_some() || len == 0 || group.crc.is_empty() {
            return;
        }
        // Inside the SSID the prefix's CRC-8 over the whole SSID checks again before any result:
        // there the repair may start sooner.
        let repair_votes = if 4 * index > shape.password_len {
            REPAIR_CRC_VOTES_SSID
        } else {
            REPAIR_CRC_VOTES
        };
        let accepted = Self::strongest_match(&group, index, len, fixed)
            .or_else(|| Self::repaired_match(&group, index, len, fixed, repair_votes));
        if let (Some(bytes), Some(g)) = (accepted, self.groups.get_mut(index)) {
            g.known = Some(bytes);
        }
    }

    /// The first stage of [`try_group`](Self::try_group).
    fn strongest_match(
        group: &Group,
        index: usize,
        len: usize,
        fixed: [Option<u8>; 4],
    ) -> Option<[u8; 4]> {
        let strong_crc = {
            let mut ranked = group.crc.ranked();
            let top = ranked.next().map_or(0, |(_, c)| c);
            let second = ranked.next().map_or(0, |(_, c)| c);
            top >= 3 && top > second.saturating_mul(2)
        };
        // One round is enough for a byte heard framed in both copies (or through both BSSIDs)
        // and nothing else heard there.
        let framed_twice = |j: usize, votes: &Votes| {
            let mut heard = votes.ranked();
            let mut framed = group.framed.get(j).into_iter().flat_map(Votes::ranked);
            match (heard.next(), heard.next(), framed.next(), framed.next()) {
                (Some((v, _)), None, Some((f, c)), None) => v == f && c >= 2,
                _ => false,
            }
        };
        let (options, counts) = candidate_options(group, len, fixed, |j, votes, option| {
            // A value that clearly wins a neighbouring position is most likely that byte shifted
            // by one (a sequence number taken by an unseen frame): leave it out, unless nothing
            // else was seen here.
            let shifted = |value: u8, count: u8| {
                [j.wrapping_sub(1), j + 1].into_iter().any(|k| {
                    group.bytes.get(k).is_some_and(|n| {
                        n.winner(2) == Some(value)
                            && n.ranked()
                                .next()
                                .is_some_and(|(_, c)| c >= count.saturating_mul(2))
                    })
                })
            };
            let unshifted = votes.ranked().filter(|&(v, c)| !shifted(v, c)).count();
            let kept = |&(v, c): &(u8, u8)| unshifted == 0 || !shifted(v, c);
            let top = votes.ranked().find(kept).map_or(0, |(_, c)| c);
            // One hearing of a byte is not enough, nor are the two air copies of one datagram
            // (or its relay through two BSSIDs): the 7-bit CRC misses exactly one wrong value of
            // each byte (for the last byte, the one whose CRC-8 differs only in bit 7), and what
            // goes wrong at the phone (its own broadcast heard as data, datagrams reordered, a
            // frame lost in both copies) goes wrong the same way in both copies. Every byte
            // must have been heard in two rounds, or framed in both copies of one.
            if top < 2 && !framed_twice(j, votes) {
                return None;
            }
            // Ties are tried only against a CRC heard in three rounds or more, and only a few
            // combinations of them: every combination tried is a chance of a false match.
            let mut count = 0;
            let tied = votes.ranked().filter(kept).filter(|&(_, c)| c == top);
            for (slot, (value, _)) in option.iter_mut().zip(tied) {
                *slot = value;
                count += 1;
            }
            (count == 1 || strong_crc).then_some(count)
        })?;
        // The header CRC likewise: heard in two rounds, or the only one heard.
        let top_crc = group.crc.ranked().next().map_or(0, |(_, c)| c);
        if top_crc < 2 && group.crc.ranked().count() > 1 {
            return None;
        }
        let total = counts.iter().take(len).product::<usize>();
        // A CRC heard once may be another group's, placed here by a counter shift: then a second
        // combination to try is a second chance of a false match. Only one combination may be
        // tried against it.
        if top_crc < 2 && total > 1 {
            return None;
        }
        if total > STRONG_COMBINATIONS {
            return None;
        }
        let crcs: [Option<u8>; 2] = {
            let mut ranked = group.crc.ranked().filter(|&(_, c)| c == top_crc);
            [ranked.next().map(|c| c.0), ranked.next().map(|c| c.0)]
        };
        unique_match(index, len, &options, &counts, &crcs)
    }

    /// The second stage of [`try_group`](Self::try_group): every voted candidate, against a CRC
    /// with at least `min_votes` votes ([`REPAIR_CRC_VOTES`], [`REPAIR_CRC_VOTES_SSID`]) and three
    /// times any other's, at most [`REPAIR_COMBINATIONS`] combinations.
    fn repaired_match(
        group: &Group,
        index: usize,
        len: usize,
        fixed: [Option<u8>; 4],
        min_votes: u8,
    ) -> Option<[u8; 4]> {
        let mut crc = group.crc.ranked();
        let (best, votes) = crc.next()?;
        let second = crc.next().map_or(0, |(_, c)| c);
        if votes < min_votes || votes < second.saturating_mul(3) {
            return None;
        }
        let (options, counts) = candidate_options(group, len, fixed, |_, votes, option| {
            let mut count = 0;
            for (slot, (value, _)) in option.iter_mut().zip(votes.ranked()) {
                *slot = value;
                count += 1;
            }
            Some(count)
        })?;
        if counts.iter().take(len).product::<usize>() > REPAIR_COMBINATIONS {
            return None;
        }
        unique_match(index, len, &options, &counts, &[Some(best), None])
    }

    /// Bytes of group `index` fixed by a scanned SSID.
    fn fixed_bytes(&self, shape: Shape, index: usize) -> [Option<u8>; 4] {
        let mut out = [None; 4];
        let Some(ssid) = self.scan_ssid else {
            return out;
        };
        let first_ssid = shape.password_len + 1;
        for (j, o) in out.iter_mut().enumerate() {
            let at = 4 * index + j;
            if at >= first_ssid {
                *o = ssid.get(at - first_ssid).copied();
            }
        }
        out
    }

    fn try_complete(&mut self) -> bool {
        let Some(shape) = self.shape else {
            return false;
        };
        let mut data = Zeroizing::new([0u8; MAX_TOTAL]);
        for g in 0..shape.groups() {
            let Some(bytes) = self.groups.get(g).and_then(|g| g.known) else {
                return false;
            };
            for (j, b) in bytes.iter().take(shape.group_len(g)).enumerate() {
                if let Some(d) = data.get_mut(4 * g + j) {
                    *d = *b;
                }
            }
        }
        let ssid = data
            .get(shape.password_len + 1..shape.total)
            .unwrap_or_default();
        if crc8(ssid) != shape.ssid_crc {
            // A wrongly accepted group: start the data over (magic and prefix stay).
            self.groups.zeroize();
            if self.scan_ssid.is_some() {
                self.fill_from_scan(shape);
            }
            return false;
        }
        let Some(lock) = self.lock else { return false };
        // The password goes straight into the result, not through a local copy.
        let credentials = self.result.insert(Credentials {
            ssid: [0; MAX_SSID_LEN],
            ssid_len: u8::try_from(ssid.len()).unwrap_or(0),
            password: [0; MAX_PASSWORD_LEN],
            password_len: u8::try_from(shape.password_len).unwrap_or(0),
            random: data.get(shape.password_len).copied().unwrap_or(0),
            ssid_from_scan: self.scan_ssid.is_some(),
            sender: lock.sender,
            bssid: lock.bssid,
            channel: lock.channel,
        });
        if let Some(dst) = credentials.ssid.get_mut(..ssid.len()) {
            dst.copy_from_slice(ssid);
        }
        if let (Some(dst), Some(src)) = (
            credentials.password.get_mut(..shape.password_len),
            data.get(..shape.password_len),
        ) {
            dst.copy_from_slice(src);
        }
        true
    }
}

impl DecoderTrait for Decoder {
    type Output = Credentials;

    fn feed(&mut self, obs: &Observation) -> Progress {
        self.stats.observations = self.stats.observations.saturating_add(1);
        if self.complete {
            return Progress::Complete;
        }
        if let Some(lock) = self.lock
            && obs.at.millis_since(lock.last_useful) > self.config.idle_timeout_ms
        {
            self.release();
        }
        if let (Some(lock), Some(seq)) = (self.lock, obs.sequence)
            && obs.source != lock.sender
        {
            self.note_foreign(obs.transmitter, seq);
        }
        let index = self.stream_index(obs);
        let config = self.config;
        let Some(stream) = self.streams.get_mut(index) else {
            return self.ignore();
        };
        stream.last_seen = obs.at;
        stream.channel = obs.channel;
        let seq = match obs.sequence {
            Some(s) => s & 0x0fff,
            None => {
                stream.arrivals = stream.arrivals.wrapping_add(1);
                stream.arrivals
            }
        };
        if stream.is_duplicate(seq) {
            if obs.retry {
                self.stats.retries = self.stats.retries.saturating_add(1);
            } else {
                self.stats.duplicates = self.stats.duplicates.saturating_add(1);
            }
            return Progress::Ignored;
        }
        stream.last_seq = Some(seq);
        // Guide detection on raw lengths.
        let mut progress = Progress::Ignored;
        let mut useful = false;
        let guide = stream.push_guide(obs.len, seq);
        if self.lock.is_none() && stream.guide_like() {
            self.hint = Some(obs.channel);
        }
        if let Some(overhead) = guide
            && (config.min_overhead..=config.max_overhead).contains(&overhead)
        {
            if stream.candidate == overhead {
                stream.hits = stream.hits.saturating_add(1);
            } else {
                stream.candidate = overhead;
                stream.hits = 1;
            }
            if stream.hits < config.confirmations && self.lock.is_none() {
                self.hint = Some(obs.channel);
            }
            if stream.hits >= config.confirmations && stream.overhead != Some(overhead) {
                let joins = self.lock.is_none_or(|l| l.sender == obs.source);
                if joins {
                    stream.overhead = Some(overhead);
                    useful = true;
                    if self.lock.is_none() {
                        // A lock supersedes hints of this same guide.
                        self.hint = None;
                        self.lock = Some(Lock {
                            sender: obs.source,
                            bssid: obs.bssid,
                            channel: obs.channel,
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
        }
        let Some(stream) = self.streams.get_mut(index) else {
            return self.ignore();
        };
        let locked_here = self.lock.is_some_and(|l| l.sender == obs.source);
        let value = stream
            .overhead
            .and_then(|o| obs.len.checked_sub(o))
            .filter(|&v| v < 0x200);
        // The sender's own other traffic (a frame no AirKiss value fits) took a sequence number
        // from its counter, like another station's frame.
        let own_other = locked_here && value.is_none() && stream.overhead.is_some();
        let (Some(value), true) = (value, locked_here) else {
            if own_other && let Some(seq) = obs.sequence {
                self.note_foreign(obs.transmitter, seq);
            }
            return match progress {
                Progress::Ignored => self.ignore(),
                p => p,
            };
        };
        let slot = stream.push_frame(seq, value, obs.at);
        if value & 0x100 == 0 {
            self.note_framed(index, seq);
        }
        if value < 0x80 {
            useful |= self.vote_field(index, seq, value);
        } else if let Some(anchor) = self.find_anchor(index, seq, value) {
            if let Some(s) = self.streams.get_mut(index) {
                s.anchor = Some(anchor);
            }
            self.replace_anchor(index);
            useful = true;
        }
        if let Some(anchor) = self.streams.get(index).and_then(|s| s.anchor) {
            useful |= self.place(index, slot, anchor);
        }
        if useful {
            self.stats.used = self.stats.used.saturating_add(1);
            if let Some(lock) = self.lock.as_mut() {
                lock.last_useful = obs.at;
            }
        }
        if self.try_complete() {
            self.complete = true;
            return Progress::Complete;
        }
        match progress {
            Progress::Ignored if useful => Progress::Collecting {
                have: self.known_count(),
                need: self
                    .shape
                    .map(|s| u16::try_from(s.total).unwrap_or(u16::MAX)),
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
        self.release();
        self.stats = Stats::default();
    }

    fn stats(&self) -> Stats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoder::{Config, Encoder, Layout};
    use crate::test_support::assert_hidden;
    use std::format;

    const SECRET: &[u8] = b"S3cr3t-Pa55";

    /// A decoder fed one whole cycle of [`SECRET`], complete and not taken.
    fn complete_decoder() -> Decoder {
        let encoder = Encoder::new(&Config::new(b"TestAP", SECRET, 0x55)).expect("valid");
        let mut decoder = Decoder::default();
        assert!(decoder.add_known_ssid(b"TestAP"));
        let (phone, ap) = ([2, 0, 0, 0, 0, 1], [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]);
        let mut complete = false;
        for (n, value) in encoder.cycle(Layout::default()).enumerate() {
            let at = Instant::from_millis(4 * n as u64);
            let mut obs = Observation::new(at, value + 76, phone, ap);
            obs.sequence = Some((n % 4096) as u16);
            complete |= decoder.feed(&obs) == Progress::Complete;
        }
        assert!(complete, "decoded");
        assert!(
            decoder.groups.iter().any(|g| g.known.is_some()),
            "votes hold it"
        );
        decoder
    }

    /// The first guide quartet gives a hint (the channel) once; the second, confirming, locks
    /// and gives none.
    #[test]
    fn a_first_guide_hints_and_the_second_locks() {
        let (phone, ap) = ([2, 0, 0, 0, 0, 1], [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]);
        let mut decoder = Decoder::default();
        let feed = |n: usize, value: u16, decoder: &mut Decoder| {
            let mut obs =
                Observation::new(Instant::from_millis(10 * n as u64), value + 76, phone, ap);
            obs.sequence = Some(n as u16);
            obs.channel = 11;
            decoder.feed(&obs)
        };
        for (n, v) in [1, 2, 3, 4].into_iter().enumerate() {
            assert_eq!(feed(n, v, &mut decoder), Progress::Ignored);
        }
        assert_eq!(decoder.take_hint(), Some(11));
        assert_eq!(decoder.take_hint(), None, "once");
        // Three rising lengths (a quartet with its last frame lost) hint too.
        for (n, v) in [1, 2, 3].into_iter().enumerate() {
            feed(n + 100, v + 40, &mut decoder);
        }
        assert_eq!(decoder.take_hint(), Some(11));
        let mut locked = false;
        for (n, v) in [1, 2, 3, 4].into_iter().enumerate() {
            locked |= matches!(
                feed(n + 4, v, &mut decoder),
                Progress::Locked { channel: 11, .. }
            );
        }
        assert!(locked);
        assert_eq!(
            decoder.take_hint(),
            None,
            "a confirmed guide is a lock, not a hint"
        );
        // Locked: a guide from another sender hints nothing either.
        let other = Observation::new(Instant::from_millis(200), 77, [2, 0, 0, 0, 0, 9], ap);
        for v in [1u16, 2, 3, 4] {
            let mut o = other;
            o.len = v + 76;
            decoder.feed(&o);
        }
        assert_eq!(decoder.take_hint(), None);
    }

    /// Nothing of the password is left in the votes, the frames or the result.
    fn assert_wiped(decoder: &Decoder) {
        let empty = |v: &Votes| v.slots == [(0, 0); CANDIDATES] && v.last == [0; CANDIDATES];
        assert!(decoder.magic.iter().chain(&decoder.prefix).all(empty));
        assert!(decoder.groups.iter().all(|g| {
            g.bytes.iter().chain(&g.framed).all(empty) && empty(&g.crc) && g.known.is_none()
        }));
        assert!(decoder.streams.iter().all(|s| {
            !s.in_use && s.ring_len == 0 && s.ring.iter().all(|f| f.value == 0 && f.seq == 0)
        }));
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
    }

    #[test]
    fn wipe_zeroizes_votes_frames_and_the_result() {
        let mut decoder = complete_decoder();
        decoder.wipe();
        assert_wiped(&decoder);
    }

    #[test]
    fn reset_forgets_the_password_but_keeps_the_scan_results() {
        let mut decoder = complete_decoder();
        decoder.reset();
        assert_wiped(&decoder);
        assert_eq!(decoder.known_len, 1);
    }

    /// Found by the `airkiss` fuzz target: an idle release in the middle of `feed` reset the
    /// counters after this observation was counted, so an ignored frame left
    /// `ignored > observations`.
    #[test]
    fn idle_release_keeps_the_counters() {
        let encoder = Encoder::new(&Config::new(b"TestAP", SECRET, 0x55)).expect("valid");
        let mut decoder = Decoder::default();
        let (phone, ap) = ([2, 0, 0, 0, 0, 1], [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]);
        let mut fed = 0u32;
        for (n, value) in encoder.cycle(Layout::default()).enumerate() {
            let mut obs =
                Observation::new(Instant::from_millis(4 * n as u64), value + 76, phone, ap);
            obs.sequence = Some((n % 4096) as u16);
            decoder.feed(&obs);
            fed += 1;
            if decoder.locked().is_some() {
                break;
            }
        }
        assert!(decoder.locked().is_some(), "locks on the sender");
        // Long after the last useful frame, one the decoder cannot use.
        let late = Instant::from_millis(1_000_000);
        assert_eq!(
            decoder.feed(&Observation::new(late, 3, phone, ap)),
            Progress::Ignored
        );
        fed += 1;
        assert!(decoder.locked().is_none(), "released");
        let stats = decoder.stats();
        assert_eq!(stats.observations, fed);
        assert!(
            stats.ignored >= 1 && stats.ignored <= stats.observations,
            "{stats:?}"
        );
        decoder.reset();
        assert_eq!(decoder.stats(), Stats::default());
    }

    #[test]
    fn credentials_zeroize_their_password() {
        let mut credentials = complete_decoder().take().expect("a result");
        credentials.zeroize();
        assert_eq!(credentials.password, [0; MAX_PASSWORD_LEN]);
        assert!(credentials.password().is_empty());
    }
}
