//! The device side: sniffed frames → a verified [`Outcome`].
//!
//! # How it works
//!
//! 1. **Streams.** Frames are grouped by (BSSID, sender, direction, QoS, Protected); each stream
//!    has its own length overhead O (wire length − UDP payload length). A stream learns O from
//!    the start of a pass, `1048, 1071 + N, 1048, 1071 + N`: two adjacent frames whose lengths
//!    differ by 24..=64 are a sync/count pair with O = smaller − 1048 and N = difference − 23.
//!    O is confirmed when the same (O, N) was seen rising (sync → count) *and* falling
//!    (count → sync), i.e. three frames `L M L` or `M L M`. A data plane followed by the next
//!    pass's sync can look like a rising pair, never like a falling one. O can also be proven
//!    by group CRCs (see 2), and a pass start still corrects an O proven that way.
//! 2. **Fast lock.** A pass start is 60 ms of frames every pass (2.5 s for N = 15), so a device
//!    hopping channels at 100 ms dwell hears one only by luck (6 to 84 s in the lab). Body
//!    traffic is heard in any dwell: five frames in a row of one stream (six if three of them
//!    are marker copies; at least three planes) that fit the body layout under one O in range,
//!    the copies of a marker `128 + j` equal and planes `(i << 7) | 64 | d` in order, take a
//!    *provisional* lock ([`Progress::Locked`], [`Decoder::is_provisional`]) that keeps the
//!    hopper on the channel. Each whole body group then heard on the sender's streams (a marker
//!    copy and eight planes in a row) is checked under every O that fits it (at most 40), as a
//!    7-bit group (6-bit CRC in plane 7) or an 8-bit one (CRC-8 in byte 5); the O under which
//!    the most distinct groups check, at least two and more than under any other, is the
//!    stream's (a wrong O passes one group in about 50; under it no header or other group
//!    would check). That, or the sender's pass start, confirms the lock, usually within half a
//!    second, and the stream's last twelve frames, heard before O was known, are replayed. A
//!    provisional lock not confirmed within [`DecoderConfig::provisional_timeout_ms`] (6 s:
//!    two passes of N = 15, or five groups at the slow pace of 100 ms a datagram) is dropped, so
//!    hopping resumes, and its sender may not take another for as long (twice as long after a
//!    second in a row, up to eight times).
//! 3. **Lock.** The first sender with a confirmed stream that sends a sync or count (or body
//!    traffic that fits its O) is locked on ([`Progress::Locked`]); other senders are ignored
//!    until the lock idles out, so two phones never mix. A provisional lock holds no
//!    votes: a confirmed lock of another sender takes it over, and nothing takes over a
//!    confirmed lock. Both air copies (ToDS, FromDS) of the locked sender vote into the same
//!    tables.
//! 4. **Positions.** Each stream places its frames by 802.11 sequence number (arrival order when
//!    there is none): retries and duplicates are dropped, and a lost frame leaves a visible gap.
//! 5. **Layout.** Every symbol has a fixed offset in the pass (sync 0/2, count 1/3, header plane
//!    i at 4 + i, body group j's marker copies and planes after it). Each stream follows the
//!    pass from symbol to symbol: the next symbol must sit exactly as far from the last one as
//!    their offsets differ, give or take the foreign frames heard in between (the phone's own
//!    other broadcasts take sequence numbers too). A plane is voted only once the symbol after
//!    it fits exactly. This is what keeps the phone's own frames out: the AP re-broadcasts them,
//!    so both air copies carry the same wrong value, and a 7-bit group's 6-bit CRC would pass
//!    one wrong value in 64. A foreign plane-shaped frame that happens to fit shifts every
//!    genuine frame after it by one position, so the next one does not fit and the impostor is
//!    dropped. Because a marker's three copies look alike, the last plane of a group is
//!    confirmed only by the first plane of the next group; the last plane of the last group is
//!    voted at once. Without sequence numbers only the order is checked, which is weaker.
//!    A datagram the phone itself drops (socket or queue) takes no sequence number, so the
//!    layout no longer fits after it; beside the strict path a *loose* one attributes planes by
//!    their own plane index to the group whose marker was heard twice in a row, while the indices
//!    strictly increase and no other marker or sync/count comes between. Loose votes are kept
//!    apart and decide a plane only when the strict votes do not, with at least three votes,
//!    ahead of every other loose value, not contradicted by a strict vote, and the group's CRC
//!    checking.
//! 6. **Votes.** Each plane of each group keeps up to four candidate values with counts. A plane
//!    is known when one value has at least [`DecoderConfig::min_votes`] votes (default 2: two
//!    passes, or both air copies of one pass) and strictly more than any other; a group's six
//!    bytes are rebuilt once all eight planes are known. Votes survive across passes because a
//!    group's CRC does not cover its number. The count datagram is voted the same way.
//! 7. **Completion.** The header group must pass its CRC-8 and [`Header::parse`]; it decides the
//!    layout (which groups are 7-bit or 8-bit, where each segment starts), and 1 + body groups
//!    must equal the voted N. Every body group must pass its CRC (CRC-8 for 8-bit groups, the low
//!    6 bits for 7-bit groups), every "encoded" flag must agree with the bytes, and H3 must be
//!    CRC-8 of the locked BSSID (unless [`DecoderConfig::verify_bssid`] is off). Encrypted data
//!    is then opened with [`DecoderConfig::aes_key`] (strict PKCS#7, exact plaintext length):
//!    the result is [`Outcome::Credentials`], [`Outcome::KeyNeeded`] or [`Outcome::KeyWrong`],
//!    never unverified bytes.
//!
//! An empty SSID (H0 = 0, the phone did not send it) completes with an empty SSID and
//! [`Credentials::ssid_missing`] set: the caller finds the SSID by BSSID in its scan results.
//!
//! # Calling order
//!
//! `new` → `feed` per frame (stop hopping on [`Progress::Locked`]; [`Decoder::locked`] says
//! where, and hopping resumes once it is `None`) → on [`Progress::Complete`], `take`. A lock runs
//! out on the observations' clock in `feed`; when no frames come, call
//! [`Decoder::handle_timeout`] at [`Decoder::poll_timeout`]. The introspection methods
//! ([`Decoder::streams`], [`Decoder::group_state`], [`Decoder::header`],
//! [`Decoder::is_provisional`]) may be called any time.

use wifiprov_sniff::{
    Decoder as DecoderTrait, Direction, Instant, Mac, Observation, Progress, Stats, crc8,
};
use zeroize::{DefaultIsZeroes, Zeroize, ZeroizeOnDrop, Zeroizing};

use super::encoder::{MAX_PASSWORD_LEN, MAX_RESERVED_LEN, MAX_SSID_LEN};
use super::header::{Header, IpVersion};
use super::layout::{IV_SENT, Layout, MAX_CIPHERTEXT_LEN, Part};
use super::{
    COUNT_BASE, Key, MARKER_BASE, MAX_GROUPS, SYNC, ack_port, bytes_of_planes, cbc, plane_bits,
};

/// Streams tracked at once (least recently seen is replaced).
pub const MAX_STREAMS: usize = 16;

/// Group slots: 0 is the header, 1 + j is body group j.
const SLOTS: usize = MAX_GROUPS;
const CANDIDATES: usize = 4;
const RING: usize = 8;
const PAIRS: usize = 4;
/// Position jump when a stream (re)starts, so an old anchor is out of reach.
const RESTART: u32 = 64;
/// An anchor older than this many positions is forgotten.
const STALE: u32 = 48;
const MAX_BODY: usize = (MAX_GROUPS - 1) * 6;
/// Raw frames kept per stream for the fast lock: a whole body group and a marker copy more.
const RAW: usize = 12;
/// Frames of body traffic in a row that take a provisional lock, at least three of them planes
/// (so a window of five may hold two marker copies, one of six all three).
const SIGNATURE: usize = 5;
const SIGNATURE_PLANES: usize = 3;
/// Frames of one body group: three marker copies, then planes 0..=7.
const BODY_CYCLE: usize = 11;
/// Whole groups heard before the overhead was known, kept per stream as overhead proofs.
const PROOFS: usize = 4;
/// Senders kept from a provisional lock after theirs ran out.
const BANS: usize = 4;

/// Tuning of the decoder.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct DecoderConfig {
    /// Smallest overhead (frame length − UDP payload length) accepted.
    pub min_overhead: u16,
    /// Largest overhead accepted.
    pub max_overhead: u16,
    /// Drop the lock (and its data) when the locked sender sent nothing useful for this long.
    pub idle_timeout_ms: u64,
    /// The device's AES key (`esp_touch_v2_key`), to open encrypted passwords and reserved data.
    pub aes_key: Option<Key>,
    /// Require H3 = CRC-8 of the locked BSSID (default). Off: complete anyway and report it in
    /// [`Credentials::bssid_verified`].
    pub verify_bssid: bool,
    /// Votes a plane value needs (default 2; 1 decodes one clean copy of one pass but lets a
    /// single corrupted plane through a 7-bit group's 6-bit CRC with probability 1/64).
    pub min_votes: u8,
    /// How long a provisional lock (taken on body traffic before the overhead is confirmed)
    /// holds the channel unconfirmed, and how long its sender may not take another one after it
    /// ran out (doubling for each one in a row, up to 8 times; default 6000 ms). 0 turns the
    /// fast lock off: the decoder then locks only on the start of a pass, which a hopping device
    /// hears late (see the module documentation).
    pub provisional_timeout_ms: u64,
}

impl Default for DecoderConfig {
    fn default() -> Self {
        Self {
            min_overhead: 40,
            max_overhead: 256,
            idle_timeout_ms: 20_000,
            aes_key: None,
            verify_bssid: true,
            min_votes: 2,
            provisional_timeout_ms: 6_000,
        }
    }
}

impl DecoderConfig {
    /// With the device's AES key.
    #[must_use]
    pub const fn with_aes_key(mut self, key: Key) -> Self {
        self.aes_key = Some(key);
        self
    }
}

impl core::fmt::Debug for DecoderConfig {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DecoderConfig")
            .field("min_overhead", &self.min_overhead)
            .field("max_overhead", &self.max_overhead)
            .field("idle_timeout_ms", &self.idle_timeout_ms)
            .field("aes_key", &self.aes_key.map(|_| "<redacted>"))
            .field("verify_bssid", &self.verify_bssid)
            .field("min_votes", &self.min_votes)
            .field("provisional_timeout_ms", &self.provisional_timeout_ms)
            .finish()
    }
}

/// What is known about the network, whether or not the secrets could be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Info {
    header: Header,
    header_bytes: [u8; 6],
    ssid: [u8; MAX_SSID_LEN],
    bssid: Mac,
    bssid_verified: bool,
    sender: Mac,
    channel: u8,
    stats: Stats,
}

/// Accessors shared by [`Credentials`] and [`Sealed`].
macro_rules! info_accessors {
    () => {
        /// SSID bytes; empty if the phone did not send them (see [`Self::ssid_missing`]).
        #[must_use]
        pub fn ssid(&self) -> &[u8] {
            self.info
                .ssid
                .get(..usize::from(self.info.header.ssid_len))
                .unwrap_or(&[])
        }
        /// True if the phone sent no SSID (H0 = 0): find it by [`Self::bssid`] in a scan.
        #[must_use]
        pub const fn ssid_missing(&self) -> bool {
            self.info.header.ssid_len == 0
        }
        /// The BSSID the locked frames belong to.
        #[must_use]
        pub const fn bssid(&self) -> Mac {
            self.info.bssid
        }
        /// True if H3 is CRC-8 of [`Self::bssid`] (always true unless
        /// [`DecoderConfig::verify_bssid`] is off).
        #[must_use]
        pub const fn bssid_verified(&self) -> bool {
            self.info.bssid_verified
        }
        /// The parsed header.
        #[must_use]
        pub const fn header(&self) -> Header {
            self.info.header
        }
        /// The header bytes H0..H5.
        #[must_use]
        pub const fn header_bytes(&self) -> [u8; 6] {
            self.info.header_bytes
        }
        /// The port mark (0..=3): index of the phone's app port.
        #[must_use]
        pub const fn port_mark(&self) -> u8 {
            self.info.header.port_mark
        }
        /// Where to send the device response: UDP 18266 + 10000·port mark, broadcast.
        #[must_use]
        pub const fn ack_port(&self) -> u16 {
            ack_port(self.info.header.port_mark)
        }
        /// The phone's IP version.
        #[must_use]
        pub const fn ip_version(&self) -> IpVersion {
            self.info.header.ip_version
        }
        /// True if the phone has IPv4.
        #[must_use]
        pub const fn is_ipv4(&self) -> bool {
            matches!(self.info.header.ip_version, IpVersion::V4)
        }
        /// True if password and reserved data were AES-encrypted on the air.
        #[must_use]
        pub const fn is_encrypted(&self) -> bool {
            self.info.header.security != 0
        }
        /// 0 (plaintext), 1 (zero IV) or 2 (transmitted IV).
        #[must_use]
        pub const fn security_version(&self) -> u8 {
            self.info.header.security
        }
        /// The phone's MAC address (the sender locked on).
        #[must_use]
        pub const fn sender(&self) -> Mac {
            self.info.sender
        }
        /// The channel the sender was locked on (0 if unknown).
        #[must_use]
        pub const fn channel(&self) -> u8 {
            self.info.channel
        }
        /// The decoder's counters when the result was completed.
        #[must_use]
        pub const fn stats(&self) -> Stats {
            self.info.stats
        }
    };
}

/// Decoded and verified ESP-TOUCH v2 credentials. The password and reserved data are zeroized
/// on drop; `Debug` shows their lengths only.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Credentials {
    #[zeroize(skip)]
    info: Info,
    password: [u8; MAX_PASSWORD_LEN],
    reserved: [u8; MAX_RESERVED_LEN],
}

impl Credentials {
    info_accessors!();

    /// Password bytes (empty for an open network).
    #[must_use]
    pub fn password(&self) -> &[u8] {
        self.password
            .get(..usize::from(self.info.header.password_len))
            .unwrap_or(&[])
    }

    /// Reserved (custom) data for the device application (`esp_smartconfig_get_rvd_data`).
    #[must_use]
    pub fn reserved(&self) -> &[u8] {
        self.reserved
            .get(..usize::from(self.info.header.reserved_len))
            .unwrap_or(&[])
    }
}

impl core::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Credentials")
            .field("ssid", &self.ssid())
            .field("password", &crate::Redacted(self.password().len()))
            .field("reserved", &crate::Redacted(self.reserved().len()))
            .field("bssid", &self.info.bssid)
            .field("bssid_verified", &self.info.bssid_verified)
            .field("header", &self.info.header)
            .field("sender", &self.info.sender)
            .field("channel", &self.info.channel)
            .finish_non_exhaustive()
    }
}

/// An encrypted result: everything but the password and reserved data, which need the key.
/// (The ciphertext is what the air carries: `Debug` shows it.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Zeroize)]
pub struct Sealed {
    #[zeroize(skip)]
    info: Info,
    ciphertext: [u8; MAX_CIPHERTEXT_LEN],
    ciphertext_len: u8,
    iv: [u8; 16],
}

/// Why a [`Sealed`] result cannot be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The PKCS#7 padding or the "encoded" flags do not check after decryption: not the
    /// phone's key.
    #[error("the AES key does not open the data (key wrong)")]
    KeyWrong,
}

impl Sealed {
    info_accessors!();

    /// The AES-128-CBC ciphertext of password ‖ reserved data.
    #[must_use]
    pub fn ciphertext(&self) -> &[u8] {
        self.ciphertext
            .get(..usize::from(self.ciphertext_len))
            .unwrap_or(&[])
    }

    /// The CBC IV: zero for security 1, the first 16 transmitted random bytes for security 2.
    #[must_use]
    pub const fn iv(&self) -> [u8; 16] {
        self.iv
    }

    /// Decrypts with `key` and checks the padding and flags strictly.
    ///
    /// # Errors
    /// [`OpenError::KeyWrong`].
    pub fn open(&self, key: &Key) -> Result<Credentials, OpenError> {
        let header = self.info.header;
        let (p, r) = (
            usize::from(header.password_len),
            usize::from(header.reserved_len),
        );
        let mut data = Zeroizing::new(self.ciphertext);
        let plain = data
            .get_mut(..usize::from(self.ciphertext_len))
            .ok_or(OpenError::KeyWrong)?;
        if !cbc::decrypt(key, &self.iv, plain, p + r) {
            return Err(OpenError::KeyWrong);
        }
        let (password, reserved) = (
            plain.get(..p).unwrap_or(&[]),
            plain.get(p..p + r).unwrap_or(&[]),
        );
        if encoded(password) != header.password_encoded
            || encoded(reserved) != header.reserved_encoded
        {
            return Err(OpenError::KeyWrong);
        }
        Ok(credentials(self.info, password, reserved))
    }
}

fn credentials(info: Info, password: &[u8], reserved: &[u8]) -> Credentials {
    let mut out = Credentials {
        info,
        password: [0; MAX_PASSWORD_LEN],
        reserved: [0; MAX_RESERVED_LEN],
    };
    for (d, &s) in out.password.iter_mut().zip(password) {
        *d = s;
    }
    for (d, &s) in out.reserved.iter_mut().zip(reserved) {
        *d = s;
    }
    out
}

fn encoded(data: &[u8]) -> bool {
    data.iter().any(|&b| b >= 0x80)
}

/// What the decoder delivers on [`Progress::Complete`].
#[derive(Debug, Clone, PartialEq, Eq, Zeroize)]
#[non_exhaustive]
pub enum Outcome {
    /// Everything decoded and verified (opened with the configured key if encrypted).
    Credentials(Credentials),
    /// Encrypted and no key configured ("encrypted, key needed"): open it with
    /// [`Sealed::open`] once the key is known.
    KeyNeeded(Sealed),
    /// Encrypted and the configured key does not open it ("key wrong").
    KeyWrong(Sealed),
}

impl Outcome {
    /// The credentials, if they could be decoded.
    #[must_use]
    pub const fn credentials(&self) -> Option<&Credentials> {
        match self {
            Self::Credentials(c) => Some(c),
            Self::KeyNeeded(_) | Self::KeyWrong(_) => None,
        }
    }

    /// The SSID (known in every outcome, since it is never encrypted).
    #[must_use]
    pub fn ssid(&self) -> &[u8] {
        match self {
            Self::Credentials(c) => c.ssid(),
            Self::KeyNeeded(s) | Self::KeyWrong(s) => s.ssid(),
        }
    }

    /// The phone's MAC address.
    #[must_use]
    pub const fn sender(&self) -> Mac {
        match self {
            Self::Credentials(c) => c.sender(),
            Self::KeyNeeded(s) | Self::KeyWrong(s) => s.sender(),
        }
    }
}

/// What is known about one group slot (0 = header, 1 + j = body group j), for `--explain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupState {
    /// Some planes are not known yet.
    Partial {
        /// Planes with a winning value.
        planes: u8,
        /// Planes with any vote.
        heard: u8,
    },
    /// All planes known: the six bytes they spell (not yet checked against the group's CRC,
    /// which depends on the header).
    Known([u8; 6]),
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
    /// Learned overhead, once confirmed.
    pub overhead: Option<u16>,
    /// Frames accepted on this stream.
    pub frames: u32,
    /// Sync/count pairs seen.
    pub syncs: u32,
    /// Symbols (after the overhead) seen.
    pub symbols: u32,
    /// Channel of the last frame.
    pub channel: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct StreamKey {
    bssid: Mac,
    source: Mac,
    direction: Direction,
    qos: bool,
    protected: bool,
}

impl StreamKey {
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

/// A sync/count pair hypothesis: overhead and group count, seen rising and/or falling.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Pair {
    overhead: u16,
    count: u8,
    rising: bool,
    falling: bool,
    age: u32,
}

#[derive(Debug, Clone, Copy)]
struct Stream {
    key: StreamKey,
    in_use: bool,
    last_seen: Instant,
    channel: u8,
    overhead: Option<u16>,
    pairs: [Option<Pair>; PAIRS],
    /// Position and length of the newest frame.
    previous: Option<(u32, u16)>,
    last_sequence: Option<u16>,
    last_position: u32,
    sequenced: bool,
    seen: [Option<u32>; RING],
    /// The last symbol that fitted the pass layout.
    chain: Option<Anchor>,
    /// Frames of this stream received since `chain` that did not fit (the phone's own others).
    junk: u32,
    /// The group (slot) of the pass being heard.
    group: Option<u8>,
    /// The chain restarted at a marker or header symbol that did not follow from the one
    /// before: planes count only once a second symbol of the same run fits (a foreign
    /// marker-shaped frame must not carry a genuine group into its own slot).
    tentative: bool,
    /// The plane at the anchor: voted once the next symbol fits exactly after it.
    unconfirmed: Option<Heard>,
    /// The last plane of the previous group, followed by a marker whose copy number is still
    /// uncertain: voted when the first plane of the new group fits exactly.
    closing: Option<Heard>,
    /// The newest frames as (position, raw length), each in slot `position % RAW`: the fast
    /// lock reads body traffic from them before the overhead is known, and they are replayed
    /// once it is.
    raw: [Option<(u32, u16)>; RAW],
    /// Whole groups heard before the overhead was known, with the overheads their CRC checks
    /// under.
    proofs: [Option<Proof>; PROOFS],
    /// The overhead was proven by group CRCs, not by a pass start (which may still correct it).
    proven: bool,
    /// The group being heard by markers and plane order alone (see [`Stream::loosely`]).
    loose: Option<Loose>,
    frames: u32,
    syncs: u32,
    symbols: u32,
}

const EMPTY_STREAM: Stream = Stream {
    key: StreamKey {
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
    pairs: [None; PAIRS],
    previous: None,
    last_sequence: None,
    last_position: 0,
    sequenced: false,
    seen: [None; RING],
    chain: None,
    junk: 0,
    group: None,
    tentative: false,
    unconfirmed: None,
    closing: None,
    raw: [None; RAW],
    proofs: [None; PROOFS],
    proven: false,
    loose: None,
    frames: 0,
    syncs: 0,
    symbols: 0,
};

impl Default for Stream {
    fn default() -> Self {
        EMPTY_STREAM
    }
}

/// The raw lengths and heard planes are password bits: wiped to [`EMPTY_STREAM`].
impl DefaultIsZeroes for Stream {}

impl Stream {
    fn was_seen(&self, position: u32) -> bool {
        self.seen
            .get(position as usize % RING)
            .is_some_and(|p| *p == Some(position))
    }

    fn mark_seen(&mut self, position: u32) -> u32 {
        if let Some(slot) = self.seen.get_mut(position as usize % RING) {
            *slot = Some(position);
        }
        position
    }

    /// Places a frame by sequence number. Returns its position, or `Err(retry flag)` for a retry
    /// or duplicate.
    fn place(&mut self, obs: &Observation) -> Result<u32, bool> {
        let Some(sequence) = obs.sequence.map(|s| s & 0x0fff) else {
            self.sequenced = false;
            self.last_position = self.last_position.wrapping_add(1);
            return Ok(self.mark_seen(self.last_position));
        };
        self.sequenced = true;
        let Some(last) = self.last_sequence else {
            self.last_sequence = Some(sequence);
            self.last_position = self.last_position.wrapping_add(RESTART);
            return Ok(self.mark_seen(self.last_position));
        };
        let delta = u32::from(sequence.wrapping_sub(last) & 0x0fff);
        if delta == 0 {
            return Err(obs.retry);
        }
        if delta < 2048 {
            self.last_sequence = Some(sequence);
            self.last_position = self.last_position.wrapping_add(delta);
            return Ok(self.mark_seen(self.last_position));
        }
        let back = 4096 - delta;
        if back as usize >= RING {
            // Far in the past, or the sender's counter restarted: start over from here.
            self.last_sequence = Some(sequence);
            self.last_position = self.last_position.wrapping_add(RESTART);
            return Ok(self.mark_seen(self.last_position));
        }
        let position = self.last_position.wrapping_sub(back);
        if self.was_seen(position) {
            return Err(obs.retry);
        }
        Ok(self.mark_seen(position))
    }

    /// Looks for a sync/count pair ending at this frame (raw lengths); confirms the overhead
    /// when a hypothesis was seen both rising and falling. Returns the group count N when this
    /// frame confirmed it (the count frame before it was heard before the overhead was known).
    fn learn(&mut self, position: u32, len: u16, config: &DecoderConfig) -> Option<u8> {
        let previous = self.previous;
        if previous.is_none_or(|(p, _)| position.wrapping_sub(p) < 2048) {
            self.previous = Some((position, len));
        }
        let (p, before) = previous?;
        if position.wrapping_sub(p) != 1 {
            return None;
        }
        let (low, high, rising) = if len > before {
            (before, len, true)
        } else {
            (len, before, false)
        };
        let difference = high - low;
        if !(24..=64).contains(&difference) {
            return None;
        }
        let overhead = low
            .checked_sub(SYNC)
            .filter(|o| (config.min_overhead..=config.max_overhead).contains(o))?;
        let count = (difference - 23) as u8;
        self.syncs = self.syncs.saturating_add(1);
        let age = self.frames;
        let slot = self
            .pairs
            .iter()
            .position(|c| c.is_some_and(|c| c.overhead == overhead && c.count == count))
            .or_else(|| self.pairs.iter().position(Option::is_none))
            .or_else(|| {
                self.pairs
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, c)| c.map_or(0, |c| c.age))
                    .map(|(i, _)| i)
            });
        let entry = slot.and_then(|i| self.pairs.get_mut(i))?;
        let mut pair = entry
            .filter(|c| c.overhead == overhead && c.count == count)
            .unwrap_or(Pair {
                overhead,
                count,
                ..Pair::default()
            });
        pair.age = age;
        if rising {
            pair.rising = true;
        } else {
            pair.falling = true;
        }
        *entry = Some(pair);
        if pair.rising && pair.falling {
            if self.overhead.is_none() || (self.proven && self.overhead != Some(overhead)) {
                self.overhead = Some(overhead);
                self.proven = false;
                return Some(count);
            }
            if self.overhead == Some(overhead) {
                self.proven = false;
            }
        }
        None
    }

    fn remember(&mut self, position: u32, len: u16) {
        if let Some(slot) = self.raw.get_mut(position as usize % RAW) {
            *slot = Some((position, len));
        }
    }

    /// The raw length of the frame at `position`, if it is still kept.
    fn raw_at(&self, position: u32) -> Option<u16> {
        self.raw
            .get(position as usize % RAW)
            .copied()
            .flatten()
            .filter(|&(p, _)| p == position)
            .map(|(_, len)| len)
    }

    /// Whether the frames in a row ending at `position` are a stretch of body traffic under
    /// some overhead in range (`known`, if the stream knows its own): three copies of one
    /// marker, planes 0..=7, the next marker's copies, and so on, from any place in that cycle
    /// (the fast lock). It takes [`SIGNATURE`] frames or one more, at least
    /// [`SIGNATURE_PLANES`] of them planes: a length repeated three times is common in other
    /// traffic, a plane fits its band of 64 lengths (about 1 in 25) only if the overhead agrees
    /// with every other frame's.
    fn signature(&self, position: u32, config: &DecoderConfig, known: Option<u16>) -> bool {
        let allowed = known.map_or(overhead_range(config), |o| (i32::from(o), i32::from(o)));
        let mut window = [0u16; SIGNATURE + 1];
        let mut heard = 0;
        for (back, len) in (0..=SIGNATURE as u32).rev().zip(window.iter_mut()) {
            if let Some(l) = self.raw_at(position.wrapping_sub(back)) {
                *len = l;
                heard += 1;
            } else {
                // Only the newest frames in a row count.
                heard = 0;
            }
        }
        (SIGNATURE..=heard.min(SIGNATURE + 1)).any(|frames| {
            let window = window.get(window.len() - frames..).unwrap_or(&[]);
            (0..BODY_CYCLE).any(|phase| {
                let mut range = allowed;
                let (mut marker, mut planes) = (None, 0);
                for (k, &len) in window.iter().enumerate() {
                    let class = (phase + k) % BODY_CYCLE;
                    if class < 3 {
                        // One group's copies (a window never reaches the next group's).
                        if marker.is_some_and(|m| m != len) {
                            return false;
                        }
                        marker = Some(len);
                    } else {
                        planes += 1;
                    }
                    match intersect(range, band(class, len)) {
                        Some(r) => range = r,
                        None => return false,
                    }
                }
                planes >= SIGNATURE_PLANES
            })
        })
    }

    /// Whether the frames in a row ending at `position` are a whole body group (a marker copy,
    /// then planes 0..=7), and under which overheads its CRC checks; returns the overhead once
    /// it is the only one under which the most distinct groups, at least two, check.
    ///
    /// Under a wrong overhead every plane value is off by the same amount and a group checks
    /// by chance (about 1 in 50, as a 7-bit or an 8-bit group), so two distinct groups both
    /// checking under one wrong overhead, and better than under any other, is a rare accident;
    /// it costs time, not a wrong result (no header or other group checks under it), until the
    /// next pass start corrects the overhead.
    fn prove(&mut self, position: u32, config: &DecoderConfig) -> Option<u16> {
        let mut planes = [0u16; 8];
        for (back, len) in (0..8u32).rev().zip(planes.iter_mut()) {
            *len = self.raw_at(position.wrapping_sub(back))?;
        }
        let marker = self.raw_at(position.wrapping_sub(8))?;
        // The other copies, where heard, are the same marker.
        if [9u32, 10].iter().any(|&back| {
            self.raw_at(position.wrapping_sub(back))
                .is_some_and(|l| l != marker)
        }) {
            return None;
        }
        let mut range = intersect(overhead_range(config), band(0, marker))?;
        for (i, &len) in planes.iter().enumerate() {
            range = intersect(range, band(3 + i, len))?;
        }
        // At most 40 overheads: the marker's band.
        let mut mask = 0u64;
        for (k, overhead) in (range.0..=range.1).enumerate().take(64) {
            let mut bits = [0u8; 8];
            for (i, (b, &len)) in bits.iter_mut().zip(&planes).enumerate() {
                *b = (i32::from(len) - overhead - 128 * i as i32 - 64) as u8 & 63;
            }
            if group_checks(&bits) {
                mask |= 1 << k;
            }
        }
        let proof = Proof {
            marker,
            base: range.0 as u16,
            mask,
            age: self.frames,
        };
        let slot = self
            .proofs
            .iter()
            .position(|p| p.is_some_and(|p| p.marker == marker))
            .or_else(|| self.proofs.iter().position(Option::is_none))
            .or_else(|| {
                self.proofs
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, p)| p.map_or(0, |p| p.age))
                    .map(|(i, _)| i)
            });
        if let Some(entry) = slot.and_then(|i| self.proofs.get_mut(i)) {
            *entry = Some(proof);
        }
        let (mut best, mut best_count, mut tie) = (None, 0usize, false);
        let low = self.proofs.iter().flatten().map(|p| p.base).min()?;
        let high = self
            .proofs
            .iter()
            .flatten()
            .map(|p| p.base.saturating_add(63))
            .max()?;
        for overhead in low..=high {
            let count = self
                .proofs
                .iter()
                .flatten()
                .filter(|p| p.checks(overhead))
                .count();
            if count > best_count {
                (best, best_count, tie) = (Some(overhead), count, false);
            } else if count == best_count {
                tie = true;
            }
        }
        let overhead = best.filter(|_| best_count >= 2 && !tie)?;
        self.overhead = Some(overhead);
        self.proven = true;
        Some(overhead)
    }

    /// Forgets where the pass was (the overhead changed).
    fn restart_follow(&mut self) {
        self.loose = None;
        self.chain = None;
        self.group = None;
        self.junk = 0;
        self.tentative = false;
        self.drop_unconfirmed();
    }

    /// How a symbol with pass offsets `base + k` (bit k of `mask`) at `position` continues the
    /// chain anchored at `anchor`.
    ///
    /// With sequence numbers a lost frame leaves a gap but every other frame takes a position, so
    /// the step from the anchor must equal the offset difference, give or take the foreign frames
    /// seen since the anchor (each inserted, or in the place of a lost one). Without sequence
    /// numbers arrivals are only ordered: the step may also be shorter (lost frames).
    fn fit(&self, anchor: Anchor, position: u32, base: u16, mask: u8) -> Fit {
        let steps = i64::from(position.wrapping_sub(anchor.position));
        let junk = i64::from(self.junk);
        let (mut exact, mut early, mut late, mut repeat) = (0u8, false, false, false);
        for a in anchor.offsets() {
            for (k, s) in offsets(base, mask) {
                let difference = i64::from(s) - i64::from(a);
                if difference < 0 {
                    // Backwards: a foreign (or reordered) frame, never an insertion.
                    early = true;
                } else if difference == 0 || difference < steps - junk {
                    repeat |= difference == 0;
                    // The same place again, or more frames than the layout and the foreign
                    // frames explain: the anchor was an impostor or something unseen came in.
                    late = true;
                } else if self.sequenced && difference > steps {
                    early = true;
                } else {
                    exact |= 1 << k;
                }
            }
        }
        if exact != 0 {
            Fit::Exact(exact)
        } else if early && !late {
            Fit::Early
        } else {
            Fit::Late { repeat }
        }
    }

    fn anchor(&mut self, position: u32, base: u16, mask: u8) {
        self.chain = Some(Anchor {
            position,
            base,
            mask,
        });
        self.junk = 0;
    }

    /// Forgets the planes not yet confirmed.
    fn drop_unconfirmed(&mut self) {
        self.unconfirmed = None;
        self.closing = None;
    }

    /// Attributes a symbol by what it says alone, for the loose votes: after two marker copies of
    /// group j in a row (two header symbols for the header), planes belong to j while their
    /// indices strictly increase and no other marker or header symbol intervenes. This survives
    /// datagrams the phone dropped before they got a sequence number (the layout no longer fits
    /// after them), but not a foreign plane-shaped frame in the right order: loose votes count
    /// only where the layout gave no value, and only in a group whose CRC then checks (see
    /// [`Group::refresh`]).
    fn loosely(&mut self, position: u32, symbol: Option<Symbol>) -> Option<Heard> {
        if let Some(l) = self.loose {
            let step = position.wrapping_sub(l.position);
            if step >= 1 << 31 {
                // Behind the last symbol (a late frame).
                return None;
            }
            if step > STALE {
                self.loose = None;
            }
        }
        let named = match symbol? {
            Symbol::Sync | Symbol::Count(_) => 0,
            Symbol::Marker(slot) => slot,
            Symbol::Plane(plane, bits) => {
                let l = self.loose.filter(|l| l.copies >= 2 && plane >= l.next);
                self.loose = l.map(|l| Loose {
                    next: plane + 1,
                    position,
                    ..l
                });
                return l.map(|l| Heard {
                    slot: l.slot,
                    plane,
                    bits,
                });
            }
        };
        self.loose = Some(match self.loose {
            Some(l) if l.slot == named && l.next == 0 => Loose {
                copies: l.copies.saturating_add(1),
                position,
                ..l
            },
            _ => Loose {
                slot: named,
                copies: 1,
                next: 0,
                position,
            },
        });
        None
    }

    /// Follows one frame of the locked sender through the pass layout. Returns the planes it
    /// confirmed (to be voted) and whether the frame was useful.
    ///
    /// A plane is confirmed when the next symbol fits exactly after it: an impostor (a foreign
    /// plane-shaped frame that happens to fit) shifts every genuine frame after it by one, so the
    /// next one arrives later than the layout allows. A frame that does not fit because it came
    /// too early is counted as foreign. One that comes too late drops the unconfirmed plane (an
    /// impostor, or something unseen was inserted) and the chain goes on from it.
    fn follow(
        &mut self,
        position: u32,
        symbol: Option<Symbol>,
        group_count: Option<u8>,
    ) -> ([Option<Heard>; 2], bool) {
        const NOTHING: [Option<Heard>; 2] = [None; 2];
        if let Some(a) = self.chain {
            let step = position.wrapping_sub(a.position);
            if step >= 1 << 31 {
                // Behind the anchor (a late frame): leave the chain alone.
                return (NOTHING, false);
            }
            if step > STALE {
                self.chain = None;
                self.group = None;
                self.drop_unconfirmed();
            }
        }
        let Some(symbol) = symbol else {
            self.junk = self.junk.saturating_add(1);
            return (NOTHING, false);
        };
        match symbol {
            Symbol::Sync | Symbol::Count(_) => {
                let base = if symbol == Symbol::Sync { 0 } else { 1 };
                let mask = 0b101;
                if let Some(a) = self.chain.filter(|a| a.in_header_run()) {
                    if let Fit::Exact(m) = self.fit(a, position, base, mask) {
                        self.anchor(position, base, m);
                        self.tentative = false;
                        return (NOTHING, true);
                    }
                }
                // A new pass: the last plane heard is confirmed if this starts the next pass
                // exactly where the layout of N groups ends (sync and count alternate, so no
                // shift hides here).
                let done = match (self.chain, group_count) {
                    (Some(a), Some(n)) => matches!(
                        self.fit(a, position, pass_len(n) + base, mask),
                        Fit::Exact(_)
                    )
                    .then_some(self.unconfirmed)
                    .flatten(),
                    _ => None,
                };
                self.drop_unconfirmed();
                self.group = Some(0);
                // Trusted once a second header symbol fits after this one.
                self.tentative = true;
                self.anchor(position, base, mask);
                ([done, None], true)
            }
            Symbol::Marker(slot) => {
                let base = marker_offset(slot);
                let mask = 0b111;
                match self.chain.map(|a| self.fit(a, position, base, mask)) {
                    Some(Fit::Exact(m)) => {
                        if self.group == Some(slot) {
                            // A second copy where the first put it.
                            self.tentative = false;
                        } else {
                            // Three identical copies: an impostor in the last place of the
                            // previous group and a lost first copy look alike until the new
                            // group's first plane pins the copy number down.
                            self.closing = self.unconfirmed.take();
                            self.group = Some(slot);
                        }
                        self.anchor(position, base, m);
                        (NOTHING, true)
                    }
                    Some(Fit::Early) if self.group == Some(slot) => {
                        // One copy too many: the copy numbers were misread.
                        self.closing = None;
                        self.junk = self.junk.saturating_add(1);
                        (NOTHING, false)
                    }
                    // Another group where this one cannot be: follow the marker from here on.
                    Some(Fit::Early | Fit::Late { .. }) | None => {
                        self.drop_unconfirmed();
                        self.tentative = true;
                        self.group = Some(slot);
                        self.anchor(position, base, mask);
                        (NOTHING, true)
                    }
                }
            }
            Symbol::Plane(plane, bits) => {
                let (Some(a), Some(slot)) = (self.chain, self.group) else {
                    self.junk = self.junk.saturating_add(1);
                    return (NOTHING, false);
                };
                let offset = plane_offset(slot, plane);
                let heard = Heard { slot, plane, bits };
                match self.fit(a, position, offset, 1) {
                    Fit::Exact(_) if self.tentative => {
                        self.drop_unconfirmed();
                        self.anchor(position, offset, 1);
                        (NOTHING, false)
                    }
                    Fit::Exact(_) => {
                        let confirmed = self.closing.take().or(self.unconfirmed.take());
                        self.anchor(position, offset, 1);
                        // The last plane of the last group ends the pass: nothing after it can
                        // tell more, so vote it now.
                        let last = plane == 7
                            && group_count.is_some_and(|n| u16::from(slot) + 1 == u16::from(n));
                        if last {
                            ([confirmed, Some(heard)], true)
                        } else {
                            self.unconfirmed = Some(heard);
                            ([confirmed, None], true)
                        }
                    }
                    Fit::Early if self.sequenced => {
                        self.junk = self.junk.saturating_add(1);
                        (NOTHING, false)
                    }
                    Fit::Late { repeat: false } if self.sequenced => {
                        // After an impostor or an unseen insertion this frame is genuine; if it
                        // is foreign itself (claiming too early a place), the genuine frames
                        // after it all come too early and never confirm it.
                        self.drop_unconfirmed();
                        self.anchor(position, offset, 1);
                        self.unconfirmed = (!self.tentative).then_some(heard);
                        (NOTHING, false)
                    }
                    Fit::Late { repeat: true } if self.sequenced => {
                        // Two frames claim one place: either may be the impostor, and the
                        // frames after them fit either way. Keep the place, not the values.
                        self.drop_unconfirmed();
                        self.anchor(position, offset, 1);
                        (NOTHING, false)
                    }
                    // Without sequence numbers a foreign plane fits wherever a gap could be,
                    // so a plane out of order reveals one: start over at the next marker.
                    Fit::Early | Fit::Late { .. } => {
                        self.drop_unconfirmed();
                        self.chain = None;
                        (NOTHING, false)
                    }
                }
            }
        }
    }
}

/// Loose attribution: the group the last markers (or header symbols) named, and the planes
/// heard after them in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Loose {
    slot: u8,
    /// Marker copies (or header symbols) of `slot` in a row before the planes.
    copies: u8,
    /// The lowest plane index still allowed.
    next: u8,
    /// Position of the last symbol.
    position: u32,
}

/// A symbol's place in the pass: `position` had offset `base + k` for some bit k of `mask`
/// (marker copies are indistinguishable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Anchor {
    position: u32,
    base: u16,
    mask: u8,
}

impl Anchor {
    fn offsets(self) -> impl Iterator<Item = u16> {
        offsets(self.base, self.mask).map(|(_, o)| o)
    }

    /// Sync or count of the header (offsets 0..=3).
    fn in_header_run(self) -> bool {
        self.offsets().all(|o| o <= 3)
    }
}

fn offsets(base: u16, mask: u8) -> impl Iterator<Item = (u8, u16)> {
    (0..4u8)
        .filter(move |k| mask & (1 << k) != 0)
        .map(move |k| (k, base + u16::from(k)))
}

/// Offset in the pass of the first copy of body slot `slot`'s marker.
fn marker_offset(slot: u8) -> u16 {
    12 + 11 * u16::from(slot.saturating_sub(1))
}

/// Offset in the pass of plane `plane` of slot `slot`.
fn plane_offset(slot: u8, plane: u8) -> u16 {
    if slot == 0 {
        4 + u16::from(plane)
    } else {
        marker_offset(slot) + 3 + u16::from(plane)
    }
}

/// Lengths in a pass of `n` groups.
fn pass_len(n: u8) -> u16 {
    12 + 11 * u16::from(n.saturating_sub(1))
}

/// The configured overheads (lowest, highest).
fn overhead_range(config: &DecoderConfig) -> (i32, i32) {
    (
        i32::from(config.min_overhead),
        i32::from(config.max_overhead),
    )
}

/// The overheads (lowest, highest) under which the raw length `len` has place `class` in a body
/// group: 0..=2 a marker copy (128..=167), 3 + i plane i (128·i + 64 ..= 128·i + 127).
fn band(class: usize, len: u16) -> (i32, i32) {
    let len = i32::from(len);
    if class < 3 {
        let marker = i32::from(MARKER_BASE);
        (len - marker - 39, len - marker)
    } else {
        let floor = (class as i32 - 3) * 128 + 64;
        (len - floor - 63, len - floor)
    }
}

fn intersect(a: (i32, i32), b: (i32, i32)) -> Option<(i32, i32)> {
    let range = (a.0.max(b.0), a.1.min(b.1));
    (range.0 <= range.1).then_some(range)
}

/// True if the plane values `bits` of one group pass its CRC as a 7-bit group (6-bit CRC in
/// plane 7) or as an 8-bit group (CRC-8 in byte 5): which one it is, only the header tells.
fn group_checks(bits: &[u8; 8]) -> bool {
    let bytes = bytes_of_planes(bits);
    let [b0, b1, b2, b3, b4, b5] = bytes;
    let [.., crc6] = *bits;
    crc8(&[b0, b1, b2, b3, b4]) == b5 || crc8(&bytes.map(|b| b & 0x7f)) & 0x3f == crc6
}

/// A whole body group heard before the overhead was known: bit k of `mask` is set if its CRC
/// checks under overhead `base + k`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Proof {
    /// The raw marker length: the same group under any overhead.
    marker: u16,
    base: u16,
    mask: u64,
    age: u32,
}

impl Proof {
    fn checks(self, overhead: u16) -> bool {
        overhead
            .checked_sub(self.base)
            .is_some_and(|k| k < 64 && self.mask >> k & 1 == 1)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fit {
    /// Fits; the bits of the new symbol's offsets that do.
    Exact(u8),
    /// Earlier than the layout allows: a foreign frame.
    Early,
    /// Later than the layout allows: something unseen was inserted, or the anchor was an
    /// impostor; `repeat` if it claims the anchor's own place.
    Late {
        /// Same offset as the anchor.
        repeat: bool,
    },
}

/// One plane value heard in one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Heard {
    slot: u8,
    plane: u8,
    bits: u8,
}

/// Votes for one 6-bit plane value (or the group count).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Votes {
    values: [u8; CANDIDATES],
    votes: [u8; CANDIDATES],
}

/// Candidate plane values are password bits: wiped to all zeroes.
impl DefaultIsZeroes for Votes {}

impl Votes {
    fn vote(&mut self, value: u8) {
        let mut weakest = 0;
        let mut weakest_votes = u8::MAX;
        for (i, (v, n)) in self.values.iter().zip(self.votes.iter_mut()).enumerate() {
            if *n > 0 && *v == value {
                *n = n.saturating_add(1);
                return;
            }
            if *n < weakest_votes {
                weakest = i;
                weakest_votes = *n;
            }
        }
        // Replace an empty or a once-heard candidate, never a confirmed one.
        if weakest_votes <= 1 {
            if let (Some(v), Some(n)) = (self.values.get_mut(weakest), self.votes.get_mut(weakest))
            {
                *v = value;
                *n = 1;
            }
        }
    }

    /// The value with strictly the most votes, if it has at least `min`.
    fn best(&self, min: u8) -> Option<u8> {
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
        best.filter(|&(_, n)| !tie && n >= min.max(1))
            .map(|(v, _)| v)
    }

    fn heard(&self) -> bool {
        self.votes.iter().any(|&n| n > 0)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Group {
    /// Votes of planes placed by the exact pass layout.
    planes: [Votes; 8],
    /// Votes of planes attributed loosely ([`Stream::loosely`]).
    loose: [Votes; 8],
    /// The six bytes spelled by the winning plane values, once all eight are known.
    bytes: Option<[u8; 6]>,
}

/// Votes and bytes of the password: wiped to all zeroes.
impl DefaultIsZeroes for Group {}

impl Group {
    /// Rebuilds the bytes. A plane the layout votes do not decide takes the loose winner if it
    /// has at least three loose votes (and `min`), more than any other loose value, and the layout
    /// votes name no other value; a group using one must then pass its CRC (as a 7-bit or an
    /// 8-bit group; completion checks the right one).
    fn refresh(&mut self, min: u8) -> bool {
        let mut winners = [0u8; 8];
        let mut all = true;
        let mut loose = false;
        for ((w, p), l) in winners.iter_mut().zip(&self.planes).zip(&self.loose) {
            if let Some(v) = p.best(min) {
                *w = v;
                continue;
            }
            let agrees = |v: u8| {
                p.values
                    .iter()
                    .zip(&p.votes)
                    .all(|(&value, &votes)| votes == 0 || value == v)
            };
            match l.best(min.max(3)).filter(|&v| agrees(v)) {
                Some(v) => {
                    *w = v;
                    loose = true;
                }
                None => all = false,
            }
        }
        let bytes = (all && (!loose || group_checks(&winners))).then(|| bytes_of_planes(&winners));
        let changed = bytes != self.bytes;
        self.bytes = bytes;
        changed
    }
}

/// Which sender the decoder is locked on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Lock {
    source: Mac,
    bssid: Mac,
    channel: u8,
    last_useful: Instant,
    /// A provisional lock (no stream of the sender has a confirmed overhead yet) is dropped
    /// at this instant.
    provisional_until: Option<Instant>,
}

/// A sender whose provisional lock ran out may not take another one before `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ban {
    source: Mac,
    bssid: Mac,
    until: Instant,
    /// Provisional locks that ran out in a row before this one (the ban doubles each time).
    strikes: u8,
}

/// What a normalised length means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Symbol {
    Sync,
    Count(u8),
    Marker(u8),
    Plane(u8, u8),
}

fn classify(s: u16) -> Option<Symbol> {
    match s {
        SYNC => Some(Symbol::Sync),
        1072..=1112 => Some(Symbol::Count((s - COUNT_BASE) as u8)),
        128..=167 => Some(Symbol::Marker((s - MARKER_BASE + 1) as u8)),
        _ if s < 1024 && s & 64 != 0 => Some(Symbol::Plane((s >> 7) as u8, (s & 63) as u8)),
        _ => None,
    }
}

/// The ESP-TOUCH v2 decoder. See the [module documentation](self) for the algorithm.
///
/// Its votes and frames are password bits: they are zeroized on drop, on
/// [`reset`](DecoderTrait::reset) and when a lock is released, and `Debug` does not show them.
#[derive(Clone)]
pub struct Decoder {
    config: DecoderConfig,
    streams: [Stream; MAX_STREAMS],
    lock: Option<Lock>,
    bans: [Option<Ban>; BANS],
    groups: [Group; SLOTS],
    count: Votes,
    dirty: bool,
    result: Option<Outcome>,
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
        // Never the votes, the frames or the result: they are the password.
        f.debug_struct("Decoder")
            .field("config", &self.config)
            .field("lock", &self.lock)
            .field("known_groups", &self.known_groups())
            .field("group_count", &self.group_count())
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
            bans: [None; BANS],
            groups: [Group::default(); SLOTS],
            count: Votes::default(),
            dirty: false,
            result: None,
            complete: false,
            stats: Stats::default(),
        }
    }

    /// The configuration.
    #[must_use]
    pub const fn config(&self) -> &DecoderConfig {
        &self.config
    }

    /// The sender locked on, its BSSID and channel (provisional locks included: stay on the
    /// channel while this is `Some`).
    #[must_use]
    pub fn locked(&self) -> Option<(Mac, Mac, u8)> {
        self.lock.map(|l| (l.source, l.bssid, l.channel))
    }

    /// True while the lock is provisional: taken on body traffic, the sender's overhead not
    /// confirmed yet (it is dropped at [`Self::poll_timeout`] unless confirmed by then).
    #[must_use]
    pub fn is_provisional(&self) -> bool {
        self.lock.is_some_and(|l| l.provisional_until.is_some())
    }

    /// When the lock runs out if nothing more is heard: a provisional lock's deadline, or the
    /// idle timeout of a confirmed one. `None` without a lock.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.lock.map(|l| {
            l.provisional_until.unwrap_or_else(|| {
                Instant::from_millis(
                    l.last_useful
                        .as_millis()
                        .saturating_add(self.config.idle_timeout_ms)
                        .saturating_add(1),
                )
            })
        })
    }

    /// Drops a lock whose time ran out by `now` ([`Decoder::feed`] does this too, on the
    /// observation's clock): call it at [`Self::poll_timeout`] when no frames come.
    pub fn handle_timeout(&mut self, now: Instant) {
        let Some(lock) = self.lock else {
            return;
        };
        match lock.provisional_until {
            Some(until) if now >= until => {
                self.ban(lock.source, lock.bssid, now);
                self.release_lock();
            }
            Some(_) => {}
            None if now.millis_since(lock.last_useful) > self.config.idle_timeout_ms => {
                self.release_lock();
            }
            None => {}
        }
    }

    /// Keeps `source` (via `bssid`), whose provisional lock ran out, from taking another one for
    /// the provisional timeout, twice that after a second one in a row, up to 8 times (a
    /// stream that looks like body traffic but is not holds the channel a shrinking share of
    /// the time).
    fn ban(&mut self, source: Mac, bssid: Mac, now: Instant) {
        let timeout = self.config.provisional_timeout_ms;
        let mine = |b: &Option<Ban>| b.is_some_and(|b| b.source == source && b.bssid == bssid);
        let slot = self
            .bans
            .iter()
            .position(mine)
            .or_else(|| self.bans.iter().position(Option::is_none))
            .or_else(|| {
                self.bans
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, b)| b.map(|b| b.until))
                    .map(|(i, _)| i)
            });
        let Some(entry) = slot.and_then(|i| self.bans.get_mut(i)) else {
            return;
        };
        // Strikes are forgotten once the last ban is long over.
        let strikes = entry
            .filter(|b| b.source == source && b.bssid == bssid)
            .filter(|b| now.millis_since(b.until) <= timeout.saturating_mul(8))
            .map_or(0, |b| b.strikes.saturating_add(1).min(3));
        *entry = Some(Ban {
            source,
            bssid,
            until: Instant::from_millis(
                now.as_millis()
                    .saturating_add(timeout.saturating_mul(1 << strikes)),
            ),
            strikes,
        });
    }

    fn is_banned(&self, obs: &Observation) -> bool {
        self.bans
            .iter()
            .flatten()
            .any(|b| b.source == obs.source && b.bssid == obs.bssid && obs.at < b.until)
    }

    /// N (groups including the header), once the count datagram won its vote.
    #[must_use]
    pub fn group_count(&self) -> Option<u8> {
        self.count
            .best(self.config.min_votes)
            .filter(|n| (1..=MAX_GROUPS as u8).contains(n))
    }

    /// The header, once its group is known and checks.
    #[must_use]
    pub fn header(&self) -> Option<Header> {
        self.groups
            .first()
            .and_then(|g| g.bytes)
            .and_then(|b| Header::parse(&b).ok())
    }

    /// Group slots (header included) whose eight planes are known, among the first N (or all,
    /// before N is known).
    #[must_use]
    pub fn known_groups(&self) -> u16 {
        let limit = self.group_count().map_or(SLOTS, usize::from);
        self.groups
            .iter()
            .take(limit)
            .filter(|g| g.bytes.is_some())
            .count() as u16
    }

    /// What is known about slot `slot` (0 = header, 1 + j = body group j); `None` past 40.
    #[must_use]
    pub fn group_state(&self, slot: usize) -> Option<GroupState> {
        let g = self.groups.get(slot)?;
        Some(match g.bytes {
            Some(bytes) => GroupState::Known(bytes),
            None => GroupState::Partial {
                planes: g
                    .planes
                    .iter()
                    .filter(|p| p.best(self.config.min_votes).is_some())
                    .count() as u8,
                heard: g.planes.iter().filter(|p| p.heard()).count() as u8,
            },
        })
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
                syncs: s.syncs,
                symbols: s.symbols,
                channel: s.channel,
            })
    }

    fn stream_index(&mut self, obs: &Observation) -> usize {
        let key = StreamKey::of(obs);
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
        self.stats.ignored = self.stats.ignored.saturating_add(1);
        Progress::Ignored
    }

    fn vote_plane(&mut self, slot: u8, plane: u8, bits: u8) {
        let min = self.config.min_votes;
        if let Some(g) = self.groups.get_mut(usize::from(slot)) {
            if let Some(p) = g.planes.get_mut(usize::from(plane)) {
                p.vote(bits);
            }
            self.dirty |= g.refresh(min);
        }
    }

    fn vote_loose(&mut self, heard: Heard) {
        let min = self.config.min_votes;
        if let Some(g) = self.groups.get_mut(usize::from(heard.slot)) {
            if let Some(p) = g.loose.get_mut(usize::from(heard.plane)) {
                p.vote(heard.bits);
            }
            self.dirty |= g.refresh(min);
        }
    }

    fn vote_count(&mut self, count: u8) {
        let before = self.group_count();
        self.count.vote(count);
        self.dirty |= before != self.group_count();
    }

    fn release_lock(&mut self) {
        self.lock = None;
        self.clear_votes();
    }

    fn clear_votes(&mut self) {
        self.groups.zeroize();
        self.count.zeroize();
        self.dirty = false;
    }

    /// Zeroizes everything that holds password bits: the votes, the streams' frames and a
    /// result not taken.
    fn wipe(&mut self) {
        self.groups.zeroize();
        self.count.zeroize();
        self.streams.zeroize();
        self.result.zeroize();
    }

    fn is_locked_on(&self, obs: &Observation) -> bool {
        self.lock
            .is_some_and(|l| l.source == obs.source && l.bssid == obs.bssid)
    }

    /// Locks on the sender of `obs`, provisionally until `provisional_until` if given. A
    /// confirmed lock confirms a provisional one of the same sender and takes over one of
    /// another sender (nothing was voted under it); nothing takes over a confirmed lock, so
    /// two phones never mix.
    fn lock_on(&mut self, obs: &Observation, provisional_until: Option<Instant>) -> Progress {
        match self.lock.as_mut() {
            Some(lock) if lock.source == obs.source && lock.bssid == obs.bssid => {
                if provisional_until.is_none() && lock.provisional_until.is_some() {
                    lock.provisional_until = None;
                    lock.last_useful = obs.at;
                }
                return Progress::Ignored;
            }
            Some(lock) if lock.provisional_until.is_none() || provisional_until.is_some() => {
                return Progress::Ignored;
            }
            Some(_) => self.release_lock(),
            None => {}
        }
        self.lock = Some(Lock {
            source: obs.source,
            bssid: obs.bssid,
            channel: obs.channel,
            last_useful: obs.at,
            provisional_until,
        });
        Progress::Locked {
            channel: obs.channel,
            sender: obs.source,
            bssid: obs.bssid,
        }
    }

    /// Feeds the raw frames kept before `position` of stream `index`, whose overhead just
    /// became known, through the pass layout as if they had been heard with it.
    fn replay(&mut self, index: usize, position: u32) {
        for back in (1..RAW as u32).rev() {
            let at = position.wrapping_sub(back);
            let group_count = self.group_count();
            let Some(stream) = self.streams.get_mut(index) else {
                return;
            };
            let Some(len) = stream.raw_at(at) else {
                continue;
            };
            let symbol = stream
                .overhead
                .and_then(|o| len.checked_sub(o))
                .and_then(classify);
            let (done, useful) = stream.follow(at, symbol, group_count);
            let loose = stream.loosely(at, symbol);
            for heard in done.into_iter().flatten() {
                self.vote_plane(heard.slot, heard.plane, heard.bits);
            }
            if let Some(heard) = loose {
                self.vote_loose(heard);
            }
            if let Some(Symbol::Count(n)) = symbol {
                self.vote_count(n);
            }
            if useful {
                self.stats.used = self.stats.used.saturating_add(1);
            }
        }
    }

    /// Tries to complete from the current votes; stores the outcome when everything verifies.
    fn try_complete(&mut self) -> bool {
        self.dirty = false;
        let Some(lock) = self.lock else {
            return false;
        };
        let Some(header_bytes) = self.groups.first().and_then(|g| g.bytes) else {
            return false;
        };
        let Ok(header) = Header::parse(&header_bytes) else {
            return false;
        };
        let layout = Layout::of(&header);
        let groups = layout.body_groups();
        if self.group_count().map(usize::from) != Some(1 + groups) {
            return false;
        }
        let bssid_verified = crc8(&lock.bssid) == header.bssid_crc;
        if self.config.verify_bssid && !bssid_verified {
            return false;
        }
        // Body bytes in order, each group checked against its own CRC.
        let mut body = Zeroizing::new([0u8; MAX_BODY]);
        let mut at = 0;
        for j in 0..groups {
            let (Some(bytes), Some(wide)) = (
                self.groups.get(1 + j).and_then(|g| g.bytes),
                layout.is_wide(j),
            ) else {
                return false;
            };
            let data: &[u8] = if wide {
                if crc8(&bytes[..5]) != bytes[5] {
                    return false;
                }
                &bytes[..5]
            } else {
                let seven = bytes.map(|b| b & 0x7f);
                if crc8(&seven) & 0x3f != plane_bits(&bytes, 7) {
                    return false;
                }
                // The 7-bit bytes, rebuilt from planes 0..=6.
                for (d, &s) in body.iter_mut().skip(at).zip(&seven) {
                    *d = s;
                }
                at += 6;
                continue;
            };
            for (d, &s) in body.iter_mut().skip(at).zip(data) {
                *d = s;
            }
            at += data.len();
        }
        // Segments.
        let mut info = Info {
            header,
            header_bytes,
            ssid: [0; MAX_SSID_LEN],
            bssid: lock.bssid,
            bssid_verified,
            sender: lock.source,
            channel: lock.channel,
            stats: self.stats,
        };
        let (p, r) = (
            usize::from(header.password_len),
            usize::from(header.reserved_len),
        );
        let mut secrets = Zeroizing::new([0u8; MAX_PASSWORD_LEN + MAX_RESERVED_LEN]);
        let mut ciphertext = [0u8; MAX_CIPHERTEXT_LEN];
        let mut ciphertext_len = 0;
        let mut iv = [0u8; 16];
        let mut start = 0;
        for segment in layout.segments() {
            let data = body.get(start..start + segment.len).unwrap_or(&[]);
            start += segment.groups() * segment.width();
            let copy = |into: &mut [u8], offset: usize| {
                for (d, &s) in into.iter_mut().skip(offset).zip(data) {
                    *d = s;
                }
            };
            match segment.part {
                Part::Secrets => copy(&mut secrets[..], 0),
                Part::Password => {
                    if encoded(data) != header.password_encoded {
                        return false;
                    }
                    copy(&mut secrets[..], 0);
                }
                Part::Reserved => {
                    if encoded(data) != header.reserved_encoded {
                        return false;
                    }
                    copy(&mut secrets[..], p);
                }
                Part::Ciphertext => {
                    copy(&mut ciphertext, 0);
                    ciphertext_len = segment.len;
                }
                Part::Iv => {
                    let sent = data.get(..IV_SENT).unwrap_or(&[]);
                    for (d, &s) in iv.iter_mut().zip(sent) {
                        *d = s;
                    }
                }
                Part::Ssid => {
                    if encoded(data) != header.ssid_encoded {
                        return false;
                    }
                    copy(&mut info.ssid, 0);
                }
            }
        }
        let outcome = if header.is_encrypted() {
            let sealed = Sealed {
                info,
                ciphertext,
                ciphertext_len: ciphertext_len as u8,
                iv,
            };
            match self.config.aes_key {
                None => Outcome::KeyNeeded(sealed),
                Some(key) => match sealed.open(&key) {
                    Ok(c) => Outcome::Credentials(c),
                    Err(OpenError::KeyWrong) => Outcome::KeyWrong(sealed),
                },
            }
        } else {
            Outcome::Credentials(credentials(
                info,
                secrets.get(..p).unwrap_or(&[]),
                secrets.get(p..p + r).unwrap_or(&[]),
            ))
        };
        self.result = Some(outcome);
        true
    }
}

impl DecoderTrait for Decoder {
    type Output = Outcome;

    fn feed(&mut self, obs: &Observation) -> Progress {
        self.stats.observations = self.stats.observations.saturating_add(1);
        if self.complete {
            return Progress::Complete;
        }
        self.handle_timeout(obs.at);
        let index = self.stream_index(obs);
        let config = self.config;
        let fast = config.provisional_timeout_ms > 0;
        let unlocked = self.lock.is_none();
        let Some(stream) = self.streams.get_mut(index) else {
            return self.ignore();
        };
        stream.last_seen = obs.at;
        stream.channel = obs.channel;
        let position = match stream.place(obs) {
            Ok(p) => p,
            Err(retry) => {
                if retry {
                    self.stats.retries = self.stats.retries.saturating_add(1);
                } else {
                    self.stats.duplicates = self.stats.duplicates.saturating_add(1);
                }
                return Progress::Ignored;
            }
        };
        stream.frames = stream.frames.saturating_add(1);
        stream.remember(position, obs.len);
        let before = stream.overhead;
        let confirmed = stream.learn(position, obs.len, &config);
        let corrected = before.is_some() && stream.overhead != before;
        if corrected {
            stream.restart_follow();
        }
        let overhead = stream.overhead;
        let signature = fast && unlocked && stream.signature(position, &config, stream.overhead);
        let mut symbol = overhead
            .and_then(|o| obs.len.checked_sub(o))
            .and_then(classify);
        if corrected && self.is_locked_on(obs) {
            // A pass start corrected an overhead proven by group CRCs: what was voted under the
            // old one is noise.
            self.clear_votes();
        }
        let mut progress = Progress::Ignored;
        if matches!(symbol, Some(Symbol::Sync | Symbol::Count(_))) {
            progress = self.lock_on(obs, None);
        } else if signature && overhead.is_some() {
            // A stream that knows its overhead locks for good on its own body traffic.
            progress = self.lock_on(obs, None);
        } else if signature && !self.is_banned(obs) {
            let until = obs
                .at
                .as_millis()
                .saturating_add(config.provisional_timeout_ms);
            progress = self.lock_on(obs, Some(Instant::from_millis(until)));
        }
        let locked_here = self.is_locked_on(obs);
        if locked_here && overhead.is_none() && fast {
            let proven = self
                .streams
                .get_mut(index)
                .and_then(|s| s.prove(position, &config));
            if let Some(o) = proven {
                if let Some(lock) = self.lock.as_mut() {
                    lock.provisional_until = None;
                    lock.last_useful = obs.at;
                }
                self.replay(index, position);
                symbol = obs.len.checked_sub(o).and_then(classify);
            }
        }
        if let Some(stream) = self.streams.get_mut(index) {
            if symbol.is_some() {
                stream.symbols = stream.symbols.saturating_add(1);
            }
        }
        if locked_here && symbol.is_none() {
            if let Some(stream) = self.streams.get_mut(index) {
                let _ = stream.follow(position, None, None);
            }
        }
        let (Some(symbol), true) = (symbol, locked_here) else {
            return match progress {
                Progress::Ignored => self.ignore(),
                p => p,
            };
        };
        if let Symbol::Count(n) = symbol {
            self.vote_count(n);
        }
        if let Some(n) = confirmed {
            self.vote_count(n);
        }
        let group_count = self.group_count();
        let Some(stream) = self.streams.get_mut(index) else {
            return self.ignore();
        };
        let (done, useful) = stream.follow(position, Some(symbol), group_count);
        let loose = stream.loosely(position, Some(symbol));
        for heard in done.into_iter().flatten() {
            self.vote_plane(heard.slot, heard.plane, heard.bits);
        }
        if let Some(heard) = loose {
            self.vote_loose(heard);
        }
        if useful {
            self.stats.used = self.stats.used.saturating_add(1);
            if let Some(lock) = self.lock.as_mut() {
                lock.last_useful = obs.at;
            }
        }
        if self.dirty && self.try_complete() {
            self.complete = true;
            return Progress::Complete;
        }
        match progress {
            Progress::Ignored => Progress::Collecting {
                have: self.known_groups(),
                need: self.group_count().map(u16::from),
            },
            p => p,
        }
    }

    fn take(&mut self) -> Option<Outcome> {
        let result = self.result.take();
        // `take` leaves the bytes of the moved-out value behind the `None`.
        self.result.zeroize();
        result
    }

    fn reset(&mut self) {
        // The old state is dropped, and so wiped, in place.
        *self = Self::new(self.config);
    }

    fn stats(&self) -> Stats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_every_length_class() {
        assert_eq!(classify(1048), Some(Symbol::Sync));
        assert_eq!(classify(1075), Some(Symbol::Count(4)));
        assert_eq!(classify(1112), Some(Symbol::Count(41)));
        assert_eq!(classify(1113), None);
        assert_eq!(classify(128), Some(Symbol::Marker(1)));
        assert_eq!(classify(167), Some(Symbol::Marker(40)));
        assert_eq!(classify(168), None);
        assert_eq!(classify(67), Some(Symbol::Plane(0, 3)));
        assert_eq!(classify(1023), Some(Symbol::Plane(7, 63)));
        assert_eq!(classify(63), None);
        assert_eq!(classify(1024), None);
    }

    #[test]
    fn votes_need_a_strict_majority_and_the_minimum() {
        let mut v = Votes::default();
        v.vote(5);
        assert_eq!(v.best(2), None);
        assert_eq!(v.best(1), Some(5));
        v.vote(6);
        assert_eq!(v.best(1), None, "tie");
        v.vote(5);
        assert_eq!(v.best(2), Some(5));
        // Noise fills the other candidates but never evicts the leader.
        for x in 10..20 {
            v.vote(x);
        }
        assert_eq!(v.best(2), Some(5));
    }

    #[test]
    fn learns_the_overhead_only_from_rising_and_falling_pairs() {
        let config = DecoderConfig::default();
        let mut s = EMPTY_STREAM;
        // A plane (1015 + 76) followed by the next pass's sync rises by 33 but never falls.
        for round in 0..4u32 {
            assert_eq!(s.learn(round * 10, 1015 + 76, &config), None);
            assert_eq!(s.learn(round * 10 + 1, 1048 + 76, &config), None);
        }
        assert_eq!(s.overhead, None);
        s.learn(100, 1075 + 76, &config);
        assert_eq!(s.learn(101, 1048 + 76, &config), None, "falling alone");
        assert_eq!(s.overhead, None);
        assert_eq!(s.learn(102, 1075 + 76, &config), Some(4), "rising confirms");
        assert_eq!(s.overhead, Some(76));
    }

    /// One frame in a test stream.
    #[derive(Clone, Copy)]
    enum F {
        /// A symbol.
        S(Symbol),
        /// A foreign frame received at this position.
        Foreign,
        /// Nothing received at this position.
        Lost,
    }

    /// Feeds `frames` at consecutive positions from 100; returns the confirmed plane values of
    /// slots 0..3.
    fn follow_all(s: &mut Stream, frames: &[F], n: u8) -> [[Option<u8>; 8]; 3] {
        let mut out = [[None; 8]; 3];
        for (i, &frame) in frames.iter().enumerate() {
            let symbol = match frame {
                F::S(symbol) => Some(symbol),
                F::Foreign => None,
                F::Lost => continue,
            };
            for h in s
                .follow(100 + i as u32, symbol, Some(n))
                .0
                .into_iter()
                .flatten()
            {
                assert_eq!(
                    out[usize::from(h.slot)][usize::from(h.plane)],
                    None,
                    "voted twice"
                );
                out[usize::from(h.slot)][usize::from(h.plane)] = Some(h.bits);
            }
        }
        out
    }

    fn sequenced() -> Stream {
        Stream {
            sequenced: true,
            ..EMPTY_STREAM
        }
    }

    const M: F = F::S(Symbol::Marker(1));
    const M2: F = F::S(Symbol::Marker(2));
    const X: F = F::Foreign;
    const L: F = F::Lost;
    const fn p(i: u8) -> F {
        F::S(Symbol::Plane(i, i + 10))
    }
    const ALL: [Option<u8>; 8] = [
        Some(10),
        Some(11),
        Some(12),
        Some(13),
        Some(14),
        Some(15),
        Some(16),
        Some(17),
    ];
    const fn without(planes: [usize; 2]) -> [Option<u8>; 8] {
        let mut v = ALL;
        v[planes[0]] = None;
        v[planes[1]] = None;
        v
    }

    #[test]
    fn planes_are_confirmed_by_the_next_fitting_symbol() {
        let mut s = sequenced();
        let stream = [M, M, M, p(0), p(1), p(2), p(3), p(4), p(5), p(6), p(7), M2];
        let got = follow_all(&mut s, &stream, 4);
        assert_eq!(
            got[1],
            without([7, 7]),
            "plane 7 waits for the next group's first plane"
        );
        let mut s = sequenced();
        let stream = [
            M,
            M,
            M,
            p(0),
            p(1),
            p(2),
            p(3),
            p(4),
            p(5),
            p(6),
            p(7),
            M2,
            L,
            L,
            p(0),
        ];
        assert_eq!(follow_all(&mut s, &stream, 4)[1], ALL);
    }

    #[test]
    fn foreign_frames_shift_the_layout_without_harm() {
        let mut s = sequenced();
        let stream = [
            M,
            X,
            M,
            p(0),
            p(1),
            X,
            X,
            p(2),
            p(3),
            p(4),
            p(5),
            p(6),
            p(7),
            M2,
            L,
            L,
            p(0),
        ];
        assert_eq!(follow_all(&mut s, &stream, 4)[1], ALL);
        // A frame in the place of a genuine one (a corrupted length) costs only that plane.
        let mut s = sequenced();
        let stream = [
            M,
            M,
            M,
            p(0),
            p(1),
            X,
            p(3),
            p(4),
            p(5),
            p(6),
            p(7),
            M2,
            L,
            L,
            p(0),
        ];
        assert_eq!(follow_all(&mut s, &stream, 4)[1], without([2, 2]));
    }

    #[test]
    fn lost_frames_leave_gaps_that_still_fit() {
        let mut s = sequenced();
        let stream = [M, M, L, L, p(1), p(2), L, L, L, L, p(7), L, M2, L, p(0)];
        let got = follow_all(&mut s, &stream, 4)[1];
        assert_eq!(
            got,
            [None, Some(11), Some(12), None, None, None, None, Some(17)]
        );
    }

    #[test]
    fn an_impostor_plane_is_revealed_by_the_shift_it_causes() {
        // A foreign plane-shaped frame claims plane 3 where plane 3 belongs; the real plane 3
        // (lost here) and everything after it arrive one position late.
        let impostor = F::S(Symbol::Plane(3, 63));
        let mut s = sequenced();
        let stream = [
            M,
            M,
            M,
            p(0),
            p(1),
            p(2),
            impostor,
            L,
            p(4),
            p(5),
            p(6),
            p(7),
            M2,
            L,
            L,
            p(0),
        ];
        assert_eq!(follow_all(&mut s, &stream, 4)[1], without([3, 3]));
        // The real plane, when heard, claims the impostor's place: neither is kept.
        let impostor1 = F::S(Symbol::Plane(1, 63));
        let mut s = sequenced();
        let stream = [
            M,
            M,
            M,
            p(0),
            impostor1,
            p(1),
            p(2),
            p(3),
            p(4),
            p(5),
            p(6),
            p(7),
            M2,
            L,
            L,
            p(0),
        ];
        assert_eq!(follow_all(&mut s, &stream, 4)[1], without([1, 1]));
        // An insertion nobody heard costs the plane before it; a heard one costs nothing.
        let mut s = sequenced();
        let stream = [
            M,
            M,
            M,
            p(0),
            L,
            p(1),
            p(2),
            p(3),
            p(4),
            p(5),
            p(6),
            p(7),
            M2,
            L,
            L,
            p(0),
        ];
        assert_eq!(follow_all(&mut s, &stream, 4)[1], without([0, 0]));
        let mut s = sequenced();
        let stream = [
            M,
            M,
            M,
            p(0),
            X,
            p(1),
            p(2),
            p(3),
            p(4),
            p(5),
            p(6),
            p(7),
            M2,
            L,
            L,
            p(0),
        ];
        assert_eq!(follow_all(&mut s, &stream, 4)[1], ALL);
    }

    #[test]
    fn a_foreign_marker_does_not_carry_a_group_into_its_slot() {
        // After group 1's markers, a foreign frame shaped like group 3's marker: group 1's
        // planes fit after it as group 3's. None of them may count for group 3 (or group 1).
        let m3 = F::S(Symbol::Marker(3));
        let mut s = sequenced();
        let stream = [
            M,
            M,
            M,
            m3,
            p(0),
            p(1),
            p(2),
            p(3),
            p(4),
            p(5),
            p(6),
            p(7),
            M2,
            M2,
            M2,
        ];
        let got = follow_all(&mut s, &stream, 6);
        assert_eq!(got, [[None; 8]; 3]);
        // A genuine group after a broken chain counts from its second marker copy on.
        let mut s = sequenced();
        let stream = [
            M,
            L,
            M,
            p(0),
            p(1),
            p(2),
            p(3),
            p(4),
            p(5),
            p(6),
            p(7),
            M2,
            L,
            L,
            p(0),
        ];
        assert_eq!(follow_all(&mut s, &stream, 4)[1], ALL);
        let mut s = sequenced();
        let stream = [
            M,
            L,
            L,
            p(0),
            p(1),
            p(2),
            p(3),
            p(4),
            p(5),
            p(6),
            p(7),
            M2,
            L,
            L,
            p(0),
        ];
        assert_eq!(
            follow_all(&mut s, &stream, 4)[1],
            [None; 8],
            "one copy only"
        );
    }

    #[test]
    fn an_impostor_in_the_last_place_is_revealed_by_the_next_group() {
        let impostor7 = F::S(Symbol::Plane(7, 1));
        let head = [
            M,
            M,
            M,
            p(0),
            p(1),
            p(2),
            p(3),
            p(4),
            p(5),
            p(6),
            impostor7,
            L,
        ];
        let next = |frames: &[F]| {
            let mut s = sequenced();
            let mut stream = head.to_vec();
            stream.extend_from_slice(frames);
            follow_all(&mut s, &stream, 4)[1]
        };
        let m2p0 = F::S(Symbol::Plane(0, 5));
        // The third copy of the next marker is one too many.
        assert_eq!(next(&[M2, M2, M2, m2p0]), without([7, 7]));
        // With its other copies lost, its first plane comes one position late.
        assert_eq!(next(&[M2, L, L, m2p0]), without([7, 7]));
        // Without the impostor, a lost first copy is fine.
        let mut s = sequenced();
        let stream = [
            M,
            M,
            M,
            p(0),
            p(1),
            p(2),
            p(3),
            p(4),
            p(5),
            p(6),
            p(7),
            L,
            M2,
            M2,
            m2p0,
        ];
        assert_eq!(follow_all(&mut s, &stream, 4)[1], ALL);
    }

    #[test]
    fn the_next_pass_confirms_the_last_plane_only_where_the_layout_ends() {
        // N = 2: offsets 0..=11 header, 12..=22 group 0; the next pass starts at offset 23.
        // Plane 7 of the last group is lost, so the next pass's sync must confirm plane 6.
        let sync = F::S(Symbol::Sync);
        let group = [M, M, M, p(0), p(1), p(2), p(3), p(4), p(5), p(6), L];
        let run = |tail: &[F]| {
            let mut s = sequenced();
            let mut stream = group.to_vec();
            stream.extend_from_slice(tail);
            follow_all(&mut s, &stream, 2)[1][6]
        };
        assert_eq!(run(&[sync]), Some(16));
        assert_eq!(run(&[X, sync]), Some(16), "a seen foreign frame");
        assert_eq!(run(&[L, sync]), None, "an unseen insertion");
        assert_eq!(run(&[L, L, sync]), Some(16), "sync 1 and count 1 lost");
        // The last plane of the last group is voted at once.
        let mut s = sequenced();
        let stream = [M, M, M, p(0), p(1), p(2), p(3), p(4), p(5), p(6), p(7)];
        assert_eq!(follow_all(&mut s, &stream, 2)[1], ALL);
    }

    #[test]
    fn without_sequence_numbers_arrivals_may_only_fall_short() {
        let mut s = EMPTY_STREAM;
        let stream = [M, M, p(0), p(2), p(3), p(7), M2, p(0)];
        let got = follow_all(&mut s, &stream, 4)[1];
        assert_eq!(
            got,
            [
                Some(10),
                None,
                Some(12),
                Some(13),
                None,
                None,
                None,
                Some(17)
            ]
        );
        let mut s = EMPTY_STREAM;
        let stream = [M, M, p(0), p(5), p(3), p(7), M2, p(0)];
        let got = follow_all(&mut s, &stream, 4)[1];
        assert_eq!(
            got,
            [Some(10), None, None, None, None, None, None, None],
            "out of order"
        );
    }

    /// One pass of "HomeNet"/"correct horse battery" (N = 7: the header, 6 body groups).
    fn pass() -> ([u16; 78], usize) {
        let config = crate::v2::Config::new(b"HomeNet", b"correct horse battery", [9; 6]);
        let mut seed = 7u8;
        let mut random = || {
            seed = seed.wrapping_mul(5).wrapping_add(3);
            seed & 0x7f
        };
        let encoder = crate::v2::Encoder::new(&config, &mut random).expect("valid");
        let mut out = [0u16; 78];
        for (o, &l) in out.iter_mut().zip(encoder.lengths()) {
            *o = l + 76;
        }
        (out, encoder.lengths().len())
    }

    fn heard(s: &mut Stream, lengths: &[u16], from: u32) {
        for (i, &len) in lengths.iter().enumerate() {
            s.remember(from + i as u32, len);
        }
    }

    #[test]
    fn every_stretch_of_body_traffic_is_a_signature() {
        let (pass, n) = pass();
        assert_eq!(n, 78);
        let config = DecoderConfig::default();
        // From the header's planes on (the count before them is no body traffic).
        for end in 10..n {
            let mut s = EMPTY_STREAM;
            heard(&mut s, &pass[..=end], 0);
            assert!(s.signature(end as u32, &config, None), "{end}");
            assert!(s.signature(end as u32, &config, Some(76)), "{end}");
            assert!(!s.signature(end as u32, &config, Some(77 + 64)), "{end}");
        }
        // A lost frame breaks the run.
        let mut s = EMPTY_STREAM;
        heard(&mut s, &pass[12..16], 0);
        heard(&mut s, &pass[17..19], 5);
        assert!(!s.signature(6, &config, None));
    }

    #[test]
    fn a_repeated_length_needs_three_planes_to_be_a_signature() {
        let config = DecoderConfig::default();
        let (x, o) = (76 + 128 + 5, 76);
        let mut s = EMPTY_STREAM;
        heard(&mut s, &[400, x, x, x, o + 64 + 9, o + 192 + 33], 0);
        assert!(!s.signature(5, &config, None), "two planes");
        heard(&mut s, &[o + 320 + 60], 6);
        assert!(s.signature(6, &config, Some(o)), "three planes");
        // The planes must agree on the overhead: plane 2 of 60 under O = 76 is plane 2 of 0
        // under 136, where the marker cannot be.
        heard(&mut s, &[o + 320 + 60 + 61], 6);
        assert!(!s.signature(6, &config, None));
    }

    #[test]
    fn two_whole_groups_prove_the_overhead() {
        let (pass, _) = pass();
        let config = DecoderConfig::default();
        let mut s = EMPTY_STREAM;
        // Body groups 0 and 1 (offsets 12..=22 and 23..=33).
        let mut proven = None;
        for (i, &len) in pass.iter().enumerate().take(34).skip(12) {
            s.remember(i as u32, len);
            if let Some(o) = s.prove(i as u32, &config) {
                proven = Some((i, o));
                break;
            }
        }
        assert_eq!(
            proven,
            Some((33, 76)),
            "proven by the second group's last plane"
        );
        assert!(s.proven);
        // One group alone never proves anything, however often it is heard.
        let mut s = EMPTY_STREAM;
        for round in 0..3u32 {
            for (i, &len) in pass.iter().enumerate().take(23).skip(12) {
                let at = round * 100 + i as u32;
                s.remember(at, len);
                assert_eq!(s.prove(at, &config), None);
            }
        }
    }

    #[test]
    fn a_pass_start_corrects_a_proven_overhead_but_not_a_confirmed_one() {
        let config = DecoderConfig::default();
        for (proven, expected) in [(true, 76), (false, 90)] {
            let mut s = Stream {
                overhead: Some(90),
                proven,
                ..EMPTY_STREAM
            };
            for (i, len) in [1048u16, 1075, 1048].into_iter().enumerate() {
                s.learn(i as u32, len + 76, &config);
            }
            assert_eq!(s.overhead, Some(expected));
            assert!(!s.proven);
        }
    }

    fn obs(at: u64, len: u16, source: Mac, sequence: u16) -> Observation {
        let mut o = Observation::new(Instant::from_millis(at), len, source, [9; 6]);
        o.sequence = Some(sequence);
        o.channel = 6;
        o
    }

    const PHONE: Mac = [2, 0, 0, 0, 0, 1];
    const NOISE: Mac = [2, 0, 0, 0, 0, 2];

    #[test]
    fn body_traffic_locks_provisionally_and_group_crcs_confirm_it() {
        let (pass, _) = pass();
        let mut d = Decoder::default();
        let mut locked_at = None;
        for (i, &len) in pass.iter().enumerate().skip(12) {
            let progress = d.feed(&obs(i as u64 * 15, len, PHONE, i as u16));
            if matches!(progress, Progress::Locked { .. }) {
                assert_eq!(locked_at, None, "locked twice");
                locked_at = Some(i);
            }
            if i < 33 {
                assert_eq!(d.is_provisional(), locked_at.is_some(), "{i}");
            }
        }
        // Five frames of group 0 (three marker copies and two planes are not enough).
        assert_eq!(locked_at, Some(17));
        assert!(!d.is_provisional(), "confirmed by the group CRCs");
        assert_eq!(d.locked(), Some((PHONE, [9; 6], 6)));
        assert_eq!(d.streams().next().and_then(|s| s.overhead), Some(76));
        // Groups 1.. were voted once (one copy of one pass): heard, not known.
        assert!(matches!(
            d.group_state(2),
            Some(GroupState::Partial { heard: 8, .. })
        ));
    }

    /// A marker triple and three planes under overhead 76, then junk: a signature, never a group.
    fn noise_signature(d: &mut Decoder, at: u64, sequence: u16) -> Progress {
        let mut progress = Progress::Ignored;
        for (k, len) in [300u16, 209, 209, 209, 149, 268, 420, 77, 1500]
            .into_iter()
            .enumerate()
        {
            let p = d.feed(&obs(at + k as u64 * 15, len, NOISE, sequence + k as u16));
            if matches!(p, Progress::Locked { .. }) {
                progress = p;
            }
        }
        progress
    }

    #[test]
    fn an_unconfirmed_provisional_lock_runs_out_and_its_sender_waits_longer_each_time() {
        let mut d = Decoder::default();
        assert!(matches!(
            noise_signature(&mut d, 0, 0),
            Progress::Locked { .. }
        ));
        assert!(d.is_provisional());
        // Locked at the seventh frame (90 ms: two marker copies and three planes).
        assert_eq!(d.poll_timeout(), Some(Instant::from_millis(6_090)));
        d.handle_timeout(Instant::from_millis(6_089));
        assert!(d.locked().is_some());
        d.handle_timeout(Instant::from_millis(6_090));
        assert_eq!(d.locked(), None);
        assert_eq!(d.poll_timeout(), None);
        // Banned for 6 s (the signature at 11 990 ms), then 12 s after the next one ran out.
        assert_eq!(noise_signature(&mut d, 11_900, 100), Progress::Ignored);
        assert!(matches!(
            noise_signature(&mut d, 12_100, 200),
            Progress::Locked { .. }
        ));
        d.handle_timeout(Instant::from_millis(18_190));
        assert_eq!(d.locked(), None);
        assert_eq!(noise_signature(&mut d, 30_000, 300), Progress::Ignored);
        assert!(matches!(
            noise_signature(&mut d, 30_200, 400),
            Progress::Locked { .. }
        ));
        // The deadline is on the observations' clock too.
        let _ = d.feed(&obs(36_289, 400, NOISE, 500));
        assert!(d.locked().is_some());
        let _ = d.feed(&obs(36_290, 400, NOISE, 501));
        assert_eq!(d.locked(), None);
    }

    #[test]
    fn a_confirmed_lock_takes_over_a_provisional_one_never_the_reverse() {
        let mut d = Decoder::default();
        let _ = noise_signature(&mut d, 0, 0);
        assert_eq!(d.locked().map(|l| l.0), Some(NOISE));
        let mut taken = None;
        for (i, len) in [1048u16, 1075, 1048].into_iter().enumerate() {
            if let Progress::Locked { sender, .. } =
                d.feed(&obs(200 + i as u64 * 15, len + 76, PHONE, i as u16))
            {
                taken = Some((i, sender));
            }
        }
        assert_eq!(taken, Some((2, PHONE)));
        assert!(!d.is_provisional());
        assert_eq!(noise_signature(&mut d, 300, 100), Progress::Ignored);
        assert_eq!(d.locked().map(|l| l.0), Some(PHONE));
        // A provisional lock does not take over another provisional one either.
        let mut d = Decoder::default();
        let _ = noise_signature(&mut d, 0, 0);
        let (pass, _) = pass();
        for (i, &len) in pass.iter().enumerate().skip(12).take(8) {
            assert!(!matches!(
                d.feed(&obs(200 + i as u64 * 15, len, PHONE, i as u16)),
                Progress::Locked { .. }
            ));
        }
        assert_eq!(d.locked().map(|l| l.0), Some(NOISE));
    }

    #[test]
    fn the_fast_lock_can_be_turned_off() {
        let (pass, _) = pass();
        let mut d = Decoder::new(DecoderConfig {
            provisional_timeout_ms: 0,
            ..DecoderConfig::default()
        });
        for (i, &len) in pass.iter().enumerate().skip(12) {
            let _ = d.feed(&obs(i as u64 * 15, len, PHONE, i as u16));
        }
        assert_eq!(d.locked(), None);
        assert_eq!(d.streams().next().and_then(|s| s.overhead), None);
    }

    const SECRET: &[u8] = b"S3cr3t-Pa55";
    const RESERVED: &[u8] = b"R3s3rv3d-Da7a";
    const KEY: Key = *b"K3y-0f-16-bytes!";

    /// A decoder fed three passes of [`SECRET`] and [`RESERVED`] (encrypted with [`KEY`] if
    /// `encrypt`), complete and not taken.
    fn complete_decoder(config: DecoderConfig, encrypt: bool) -> Decoder {
        let mut phone = crate::v2::Config::new(b"HomeNet", SECRET, [9; 6]).with_reserved(RESERVED);
        if encrypt {
            phone = phone.with_aes_key(KEY, 2);
        }
        let mut seed = 7u8;
        let mut random = || {
            seed = seed.wrapping_mul(5).wrapping_add(3);
            seed & 0x7f
        };
        let encoder = crate::v2::Encoder::new(&phone, &mut random).expect("valid");
        let mut decoder = Decoder::new(config);
        let mut complete = false;
        let lengths = encoder
            .lengths()
            .iter()
            .cycle()
            .take(3 * encoder.lengths().len());
        for (i, &len) in lengths.enumerate() {
            complete |=
                decoder.feed(&obs(i as u64 * 15, len + 76, PHONE, i as u16)) == Progress::Complete;
        }
        assert!(complete, "decoded");
        assert!(
            decoder.groups.iter().any(|g| g.bytes.is_some()),
            "votes hold it"
        );
        decoder
    }

    /// Nothing of the password is left in the votes, the frames or the result.
    fn assert_wiped(decoder: &Decoder) {
        assert!(decoder.groups.iter().all(|g| *g == Group::default()));
        assert_eq!(decoder.count, Votes::default());
        assert!(
            decoder
                .streams
                .iter()
                .all(|s| !s.in_use && s.raw.iter().all(Option::is_none))
        );
        assert!(decoder.result.is_none());
    }

    #[test]
    fn debug_shows_neither_the_secrets_nor_the_votes() {
        let mut d = complete_decoder(DecoderConfig::default(), false);
        let debug = std::format!("{d:?}");
        crate::test_support::assert_hidden(&debug, SECRET);
        crate::test_support::assert_hidden(&debug, RESERVED);
        let Some(Outcome::Credentials(c)) = d.take() else {
            panic!("not decoded");
        };
        assert_eq!((c.password(), c.reserved()), (SECRET, RESERVED));
        let debug = std::format!("{:?}", Outcome::Credentials(c.clone()));
        crate::test_support::assert_hidden(&debug, SECRET);
        crate::test_support::assert_hidden(&debug, RESERVED);
        assert!(debug.contains("password: <11 bytes>"), "{debug}");
        assert!(debug.contains("reserved: <13 bytes>"), "{debug}");
    }

    #[test]
    fn the_key_and_the_opened_secrets_stay_hidden() {
        let config = DecoderConfig::default().with_aes_key(KEY);
        let mut d = complete_decoder(config, true);
        let debug = std::format!("{d:?}");
        crate::test_support::assert_hidden(&debug, &KEY);
        crate::test_support::assert_hidden(&debug, SECRET);
        let Some(Outcome::Credentials(c)) = d.take() else {
            panic!("not opened");
        };
        assert_eq!(c.password(), SECRET);
        crate::test_support::assert_hidden(&std::format!("{c:?}"), SECRET);
        // Without the key: sealed, the ciphertext shown, the plaintext nowhere.
        let Some(sealed) = complete_decoder(DecoderConfig::default(), true).take() else {
            panic!("not decoded");
        };
        assert!(matches!(sealed, Outcome::KeyNeeded(_)));
        let debug = std::format!("{sealed:?}");
        crate::test_support::assert_hidden(&debug, SECRET);
        crate::test_support::assert_hidden(&debug, RESERVED);
    }

    #[test]
    fn wipe_zeroizes_votes_frames_and_the_result() {
        let mut d = complete_decoder(DecoderConfig::default(), false);
        d.wipe();
        assert_wiped(&d);
    }

    #[test]
    fn reset_and_a_released_lock_forget_the_password() {
        let mut d = complete_decoder(DecoderConfig::default(), false);
        d.reset();
        assert_wiped(&d);
        let mut d = complete_decoder(DecoderConfig::default(), false);
        let _ = d.take();
        d.release_lock();
        assert!(d.groups.iter().all(|g| *g == Group::default()));
        assert_eq!(d.count, Votes::default());
    }

    #[test]
    fn credentials_zeroize_their_secrets() {
        let mut d = complete_decoder(DecoderConfig::default(), false);
        let Some(Outcome::Credentials(mut c)) = d.take() else {
            panic!("not decoded");
        };
        c.zeroize();
        assert_eq!(c.password, [0; MAX_PASSWORD_LEN]);
        assert_eq!(c.reserved, [0; MAX_RESERVED_LEN]);
    }
}
