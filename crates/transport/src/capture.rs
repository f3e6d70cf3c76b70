//! Capture input: pcap/pcapng files and live `AF_PACKET` sockets, turned into [`Record`]s.
//!
//! Three layers, from the bytes up:
//!
//! * [`decode`] turns one link-layer packet ([`LinkType`]: radiotap + 802.11, bare 802.11 or
//!   Ethernet) into a [`Record`]. It does no I/O; the 802.11 reduction itself is
//!   [`wifiprov_sniff::ieee80211`], only the link framing (radiotap, Ethernet) is handled here.
//! * [`FileCapture`] streams the records of a pcap or pcapng file (told apart by their magic
//!   number), one packet in memory at a time; [`read_file`] collects a whole file ([`read`]: from
//!   any reader).
//! * [`LiveCapture`] receives from a Linux interface through an `AF_PACKET` raw socket, with a
//!   read timeout so the caller's loop can check for Ctrl-C.
//!
//! # Lengths
//!
//! [`Observation::len`] is the frame length *as sniffed*: the whole 802.11 frame, header to FCS,
//! when the radio delivered the FCS (radiotap Flags field, bit 0x10), the frame without FCS
//! otherwise. The 4 FCS bytes are removed from what [`ieee80211`] parses but stay in `len`, as in
//! an ESP32's `sig_len`; decoders learn the constant overhead per stream anyway. A packet cut at
//! the snap length reports its original length (pcap `orig_len`).
//!
//! For Ethernet (and the loopback device, which uses Ethernet headers) `len` is the whole Ethernet
//! frame: 14 header bytes + IP + UDP + payload, no FCS.
//!
//! # Damage
//!
//! A damaged packet inside a valid file (a truncated record, a malformed radiotap header, a frame
//! the radio flagged with a bad FCS) is skipped and counted in [`Stats`]. Only a bad file header
//! or an I/O error is an error.
//!
//! ```
//! use std::io::Cursor;
//! use wifiprov_transport::capture::{CaptureError, FileCapture};
//!
//! // A pcap header (little-endian, link type 127 = radiotap) and no packets.
//! let mut file = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
//! file.extend_from_slice(&[0; 8]);
//! file.extend_from_slice(&65535u32.to_le_bytes());
//! file.extend_from_slice(&127u32.to_le_bytes());
//! let mut capture = FileCapture::new(Cursor::new(file), "empty.pcap")?;
//! assert!(capture.next().is_none());
//!
//! let garbage = FileCapture::new(Cursor::new(b"not a capture".to_vec()), "garbage");
//! assert!(matches!(garbage, Err(CaptureError::NotACapture { .. })));
//! # Ok::<(), CaptureError>(())
//! ```

use std::fmt;
use std::fs::File;
use std::io::{self, Chain, Cursor, IoSliceMut, Read};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::socket::{
    AddressFamily, ControlMessageOwned, LinkAddr, MsgFlags, SockFlag, SockProtocol, SockType,
    SockaddrLike, bind, recvmsg, setsockopt, socket, sockopt,
};
use nix::sys::time::{TimeSpec, TimeVal};
use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::PcapNgReader;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::blocks::{
    ENHANCED_PACKET_BLOCK, INTERFACE_DESCRIPTION_BLOCK, SECTION_HEADER_BLOCK, SIMPLE_PACKET_BLOCK,
};
use pcap_file::{Endianness, PcapError, TsResolution};
use radiotap::field::{self, Channel, Field, Flags, Header, Kind};
use wifiprov_sniff::ieee80211::{self, Meta};
use wifiprov_sniff::{Direction, Instant, Mac, Observation};

/// Errors of the capture layer.
///
/// File and interface problems are fatal. [`MalformedRadiotap`](Self::MalformedRadiotap),
/// [`TruncatedPacket`](Self::TruncatedPacket) and [`BadFcs`](Self::BadFcs) are per-packet results
/// of [`decode`]; [`FileCapture`] and [`LiveCapture`] skip such packets and count them in
/// [`Stats`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureError {
    /// The file (or a sysfs attribute) cannot be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// Neither pcap nor pcapng, or a pcap/pcapng magic number followed by a bad header.
    #[error("{path}: not a pcap or pcapng file ({reason})")]
    NotACapture {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: &'static str,
    },
    /// A link-layer header type other than radiotap (127), 802.11 (105) or Ethernet (1).
    #[error("unsupported link type {0} (supported: 127 radiotap, 105 802.11, 1 Ethernet)")]
    UnsupportedLinkType(u32),
    /// A radiotap header shorter than it claims, or whose fields overrun it.
    #[error("malformed radiotap header")]
    MalformedRadiotap,
    /// A packet shorter than its link-layer header (or than the FCS its radiotap flags announce).
    #[error("truncated packet")]
    TruncatedPacket,
    /// The radio flagged the frame as failing its FCS check.
    #[error("frame failed the FCS check")]
    BadFcs,
    /// The interface does not exist (or the name cannot be an interface name).
    #[error("no network interface named {0:?}")]
    NoSuchInterface(String),
    /// The interface's hardware type (`ARPHRD_*`) is neither radiotap monitor (803), 802.11
    /// (801), Ethernet (1) nor loopback (772).
    #[error("{iface}: unsupported hardware type {hardware_type} (need a monitor interface)")]
    UnsupportedInterface {
        /// Interface name.
        iface: String,
        /// Its `ARPHRD_*` type, from `/sys/class/net/IFACE/type`.
        hardware_type: u16,
    },
    /// A live capture socket failed (`EPERM` without root or `CAP_NET_RAW`).
    #[error("capture on {iface}: {action}: {source}")]
    Socket {
        /// Interface name.
        iface: String,
        /// What was being done.
        action: &'static str,
        /// The OS error.
        #[source]
        source: Errno,
    },
}

/// How the bytes of one packet are framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LinkType {
    /// A radiotap header, then an 802.11 frame (pcap 127; `ARPHRD_IEEE80211_RADIOTAP`).
    Radiotap,
    /// A bare 802.11 frame without FCS (pcap 105; `ARPHRD_IEEE80211`).
    Ieee80211,
    /// Ethernet II (pcap 1; `ARPHRD_ETHER`, and `ARPHRD_LOOPBACK`: what `lo` delivers).
    Ethernet,
}

impl LinkType {
    /// The link type of a pcap/pcapng `LINKTYPE_*` number, if supported.
    #[must_use]
    pub const fn from_pcap(link_type: u32) -> Option<Self> {
        match link_type {
            1 => Some(Self::Ethernet),
            105 => Some(Self::Ieee80211),
            127 => Some(Self::Radiotap),
            _ => None,
        }
    }

    /// The link type of a Linux `ARPHRD_*` hardware type, if supported.
    #[must_use]
    pub const fn from_hardware_type(hardware_type: u16) -> Option<Self> {
        match hardware_type {
            1 | 772 => Some(Self::Ethernet),
            801 => Some(Self::Ieee80211),
            803 => Some(Self::Radiotap),
            _ => None,
        }
    }

    /// The pcap `LINKTYPE_*` number.
    #[must_use]
    pub const fn pcap_number(self) -> u32 {
        match self {
            Self::Ethernet => 1,
            Self::Ieee80211 => 105,
            Self::Radiotap => 127,
        }
    }
}

/// One captured packet, as far as provisioning cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// A group-addressed infrastructure data frame (on Ethernet: any frame).
    Data(Observation),
    /// A beacon or probe response: a scan result.
    Beacon {
        /// BSSID.
        bssid: Mac,
        /// SSID element contents (empty for a hidden network).
        ssid: Vec<u8>,
        /// Channel from the DS Parameter Set element, else the radio's, if known.
        channel: Option<u8>,
    },
    /// Anything else: unicast or fragmented data, control and other management frames.
    Other,
}

/// What the capture layer knows about a packet besides its bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PacketMeta {
    /// Receive time.
    pub at: Instant,
    /// Channel to report when the packet does not say (no radiotap Channel field); 0 if unknown.
    pub channel: u8,
    /// Length of the whole packet (link header included) before any snap-length truncation;
    /// `None` if the bytes are complete.
    pub wire_len: Option<u32>,
    /// Direction for link types without 802.11 DS bits (Ethernet): `PACKET_OUTGOING` is
    /// [`Direction::ToAp`]. `None` means [`Direction::FromAp`]. Ignored for 802.11.
    pub link_direction: Option<Direction>,
}

/// Decodes one packet of link type `link`.
///
/// # Errors
/// [`CaptureError::MalformedRadiotap`], [`CaptureError::TruncatedPacket`] (shorter than the
/// Ethernet header, or than the FCS the radiotap flags announce) or [`CaptureError::BadFcs`].
/// Well-formed frames that are neither provisioning data nor beacons are `Ok(Record::Other)`.
pub fn decode(link: LinkType, packet: &[u8], meta: PacketMeta) -> Result<Record, CaptureError> {
    let captured = u32::try_from(packet.len()).unwrap_or(u32::MAX);
    let wire_len = meta.wire_len.map_or(captured, |w| w.max(captured));
    match link {
        LinkType::Ethernet => ethernet(packet, wire_len, meta),
        LinkType::Ieee80211 => Ok(dot11(packet, wire_len, meta.channel, meta.at)),
        LinkType::Radiotap => radiotap_80211(packet, wire_len, meta),
    }
}

/// Ethernet II header length.
const ETHERNET_HEADER: usize = 14;
/// Length of the 802.11 FCS.
const FCS_LEN: u32 = 4;

fn mac_at(bytes: &[u8], at: usize) -> Option<Mac> {
    bytes.get(at..at + 6)?.try_into().ok()
}

fn ethernet(packet: &[u8], wire_len: u32, meta: PacketMeta) -> Result<Record, CaptureError> {
    let (Some(destination), Some(source)) = (mac_at(packet, 0), mac_at(packet, 6)) else {
        return Err(CaptureError::TruncatedPacket);
    };
    if packet.len() < ETHERNET_HEADER {
        return Err(CaptureError::TruncatedPacket);
    }
    // Only UDP datagrams stand for what a phone sends; ICMP errors (e.g. "port unreachable" for
    // every datagram sent to a closed port on lo), ARP and TCP are not provisioning traffic.
    let udp = match (
        packet.get(12..14),
        packet.get(14),
        packet.get(23),
        packet.get(20),
    ) {
        (Some([0x08, 0x00]), Some(version_ihl), Some(&protocol), _) => {
            version_ihl >> 4 == 4 && protocol == 17
        }
        (Some([0x86, 0xdd]), _, _, Some(&next_header)) => next_header == 17,
        _ => false,
    };
    if !udp {
        return Ok(Record::Other);
    }
    Ok(Record::Data(Observation {
        at: meta.at,
        channel: meta.channel,
        len: u16::try_from(wire_len).unwrap_or(u16::MAX),
        direction: meta.link_direction.unwrap_or(Direction::FromAp),
        transmitter: source,
        receiver: destination,
        bssid: [0; 6],
        source,
        destination,
        retry: false,
        sequence: None,
        qos: false,
        protected: false,
    }))
}

/// `frame` is the 802.11 frame without FCS, `wire_len` the length to report.
fn dot11(frame: &[u8], wire_len: u32, channel: u8, at: Instant) -> Record {
    if let Some(beacon) = ieee80211::beacon(frame) {
        return Record::Beacon {
            bssid: beacon.bssid,
            ssid: beacon.ssid.to_vec(),
            channel: beacon.channel.or((channel != 0).then_some(channel)),
        };
    }
    let meta = Meta {
        at,
        channel,
        wire_len: Some(u16::try_from(wire_len).unwrap_or(u16::MAX)),
    };
    ieee80211::classify(frame, meta).map_or(Record::Other, Record::Data)
}

/// The radiotap fields this module reads.
#[derive(Debug, Default)]
struct RadioFields {
    length: usize,
    flags: Option<Flags>,
    channel: Option<Channel>,
}

/// Reads the Flags and Channel fields of a radiotap header.
///
/// Only the fields up to Channel (bits 0–3 of the first presence word: TSFT, Flags, Rate, Channel)
/// are walked. The `radiotap` crate does not know the sizes of newer fields (HE, L-SIG, TLVs), so
/// offsets after those are unreliable, and it slices vendor namespaces by their announced skip
/// length without a bounds check (a panic on hostile input), so the walk stops before one.
fn radio_fields(packet: &[u8]) -> Result<RadioFields, CaptureError> {
    // The `radiotap` crate numbers fields as `word * 32 + bit` in a `u8`: from the ninth presence
    // word on that overflows (a panic with debug assertions, wrong field kinds without).
    if presence_words(packet) > MAX_PRESENCE_WORDS {
        return Err(CaptureError::MalformedRadiotap);
    }
    let header = Header::from_bytes(packet).map_err(|_| CaptureError::MalformedRadiotap)?;
    if header.length < header.size || header.length > packet.len() {
        return Err(CaptureError::MalformedRadiotap);
    }
    let leading = header
        .present
        .iter()
        .take_while(|kind| matches!(kind, Kind::TSFT | Kind::Flags | Kind::Rate | Kind::Channel))
        .count();
    let fields_iterator = radiotap::RadiotapIterator::from_bytes(packet)
        .map_err(|_| CaptureError::MalformedRadiotap)?;
    let mut fields = RadioFields {
        length: header.length,
        ..RadioFields::default()
    };
    for item in fields_iterator.into_iter().take(leading) {
        let (kind, data) = item.map_err(|_| CaptureError::MalformedRadiotap)?;
        match kind {
            Kind::Flags => {
                fields.flags =
                    Some(field::from_bytes(data).map_err(|_| CaptureError::MalformedRadiotap)?);
            }
            Kind::Channel => {
                fields.channel =
                    Some(field::from_bytes(data).map_err(|_| CaptureError::MalformedRadiotap)?);
            }
            _ => {}
        }
    }
    Ok(fields)
}

/// Most radiotap presence words accepted (256 presence bits).
const MAX_PRESENCE_WORDS: usize = 8;

/// The number of presence words of a radiotap header (each word with bit 31 set announces
/// another), counting only words inside the packet.
fn presence_words(packet: &[u8]) -> usize {
    packet
        .get(4..)
        .unwrap_or_default()
        .chunks_exact(4)
        .position(|word| word.get(3).is_some_and(|b| b & 0x80 == 0))
        .map_or(packet.len().saturating_sub(4) / 4, |last| last + 1)
}

fn radiotap_80211(packet: &[u8], wire_len: u32, meta: PacketMeta) -> Result<Record, CaptureError> {
    let fields = radio_fields(packet)?;
    let (has_fcs, bad_fcs) = fields.flags.map_or((false, false), |f| (f.fcs, f.bad_fcs));
    if bad_fcs {
        return Err(CaptureError::BadFcs);
    }
    let header_len = u32::try_from(fields.length).unwrap_or(u32::MAX);
    let frame_wire_len = wire_len.saturating_sub(header_len);
    let captured = packet.get(fields.length..).unwrap_or_default();
    let frame = if has_fcs {
        // Strip the FCS from the bytes we parse (as far as it was captured); keep it in `len`.
        let Some(without_fcs) = frame_wire_len.checked_sub(FCS_LEN) else {
            return Err(CaptureError::TruncatedPacket);
        };
        let keep = usize::try_from(without_fcs)
            .unwrap_or(usize::MAX)
            .min(captured.len());
        captured.get(..keep).unwrap_or_default()
    } else {
        captured
    };
    let channel = fields
        .channel
        .map(|c| channel_of(c.freq))
        .filter(|&c| c != 0)
        .unwrap_or(meta.channel);
    Ok(dot11(frame, frame_wire_len, channel, meta.at))
}

/// The channel number of a 2.4 GHz (1–14) or 5 GHz (including 4.9 GHz) centre frequency in MHz;
/// 0 if unknown (6 GHz numbers would collide with these).
#[must_use]
pub const fn channel_of(freq: u16) -> u8 {
    let channel = match freq {
        2484 => 14,
        2412..=2472 if freq % 5 == 2 => (freq - 2407) / 5,
        4910..=4980 if freq % 5 == 0 => (freq - 4000) / 5,
        5000..=5895 if freq % 5 == 0 => (freq - 5000) / 5,
        _ => 0,
    };
    if channel > 255 { 0 } else { channel as u8 }
}

/// Counters of a [`FileCapture`] or [`LiveCapture`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Packets read, skipped ones included.
    pub packets: u64,
    /// [`Record::Data`] returned.
    pub data: u64,
    /// [`Record::Beacon`] returned.
    pub beacons: u64,
    /// [`Record::Other`] returned.
    pub other: u64,
    /// Skipped: the radio flagged a bad FCS.
    pub bad_fcs: u64,
    /// Skipped: malformed radiotap header.
    pub malformed: u64,
    /// Skipped: truncated or corrupt packet (including a cut-off last record of a file).
    pub truncated: u64,
    /// Skipped: on a pcapng interface with an unsupported link type.
    pub unsupported: u64,
}

impl Stats {
    /// Packets skipped for any reason.
    #[must_use]
    pub const fn skipped(&self) -> u64 {
        self.bad_fcs + self.malformed + self.truncated + self.unsupported
    }

    fn count(&mut self, result: &Result<Record, CaptureError>) {
        match result {
            Ok(Record::Data(_)) => self.data += 1,
            Ok(Record::Beacon { .. }) => self.beacons += 1,
            Ok(Record::Other) => self.other += 1,
            Err(CaptureError::BadFcs) => self.bad_fcs += 1,
            Err(CaptureError::MalformedRadiotap) => self.malformed += 1,
            Err(_) => self.truncated += 1,
        }
    }
}

/// The container format of a capture file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// Classic libpcap.
    Pcap,
    /// pcapng.
    PcapNg,
}

/// Classic pcap magic numbers (µs and ns, both byte orders), read big-endian.
const PCAP_MAGICS: [u32; 4] = [0xa1b2_c3d4, 0xd4c3_b2a1, 0xa1b2_3c4d, 0x4d3c_b2a1];
/// pcapng Section Header Block type (a palindrome).
const PCAPNG_MAGIC: u32 = 0x0a0d_0d0a;

type Inner<R> = Chain<Cursor<[u8; 4]>, R>;

/// A pcapng interface, as far as its packets need it.
#[derive(Debug, Clone, Copy)]
struct Interface {
    link_number: u32,
    link: Option<LinkType>,
    snaplen: u32,
    /// `if_tsresol`: 10^-n seconds, or 2^-n if the top bit is set. Default 6 (µs).
    tsresol: u8,
}

impl Interface {
    fn of(block: &InterfaceDescriptionBlock<'_>) -> Self {
        let link_number = u32::from(block.linktype);
        let tsresol = block
            .options
            .iter()
            .find_map(|option| match option {
                InterfaceDescriptionOption::IfTsResol(resolution) => Some(*resolution),
                _ => None,
            })
            .unwrap_or(6);
        Self {
            link_number,
            link: LinkType::from_pcap(link_number),
            snaplen: block.snaplen,
            tsresol,
        }
    }
}

enum Source<R: Read> {
    Pcap {
        reader: PcapReader<Inner<R>>,
        link: LinkType,
        nanoseconds: bool,
    },
    PcapNg {
        reader: PcapNgReader<Inner<R>>,
        big_endian: bool,
        interfaces: Vec<Interface>,
    },
}

/// Timestamps relative to the first packet.
#[derive(Debug, Default)]
struct Clock {
    first: Option<u128>,
    last: Instant,
}

impl Clock {
    /// `nanos` since the epoch; `None` (a Simple Packet Block) repeats the last instant.
    fn at(&mut self, nanos: Option<u128>) -> Instant {
        if let Some(nanos) = nanos {
            let first = *self.first.get_or_insert(nanos);
            let millis = nanos.saturating_sub(first) / 1_000_000;
            self.last = Instant::from_millis(u64::try_from(millis).unwrap_or(u64::MAX));
        }
        self.last
    }
}

/// A pcap or pcapng file, read one record at a time.
///
/// Iterate it to get one [`Record`] per packet; skipped packets are counted in
/// [`stats`](Self::stats). [`Instant`]s are milliseconds since the first packet of the file.
/// Memory is bounded: `pcap-file`'s fixed read buffer plus one packet.
///
/// An `Err` item is an I/O error of the underlying reader; the iteration ends after it.
pub struct FileCapture<R: Read = File> {
    source: Source<R>,
    path: PathBuf,
    clock: Clock,
    stats: Stats,
    unsupported_link: Option<u32>,
    done: bool,
}

impl<R: Read> fmt::Debug for FileCapture<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileCapture")
            .field("path", &self.path)
            .field("format", &self.format())
            .field("stats", &self.stats)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl FileCapture<File> {
    /// Opens a capture file (pcap or pcapng, detected by its magic number).
    ///
    /// # Errors
    /// [`CaptureError::Io`], [`CaptureError::NotACapture`] or, for classic pcap,
    /// [`CaptureError::UnsupportedLinkType`] (pcapng packets of unsupported interfaces are
    /// skipped and counted).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, CaptureError> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|source| CaptureError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::new(file, path)
    }
}

impl<R: Read> FileCapture<R> {
    /// Reads the file header from `inner`; `path` names the source in errors.
    ///
    /// # Errors
    /// As [`FileCapture::open`].
    pub fn new(mut inner: R, path: impl Into<PathBuf>) -> Result<Self, CaptureError> {
        let path = path.into();
        let mut magic = [0u8; 4];
        if let Err(source) = inner.read_exact(&mut magic) {
            return Err(if source.kind() == io::ErrorKind::UnexpectedEof {
                CaptureError::NotACapture {
                    path,
                    reason: "shorter than a file header",
                }
            } else {
                CaptureError::Io { path, source }
            });
        }
        let number = u32::from_be_bytes(magic);
        let chained = Cursor::new(magic).chain(inner);
        let source = if PCAP_MAGICS.contains(&number) {
            let reader = PcapReader::new(chained).map_err(|e| header_error(&path, e))?;
            let header = reader.header();
            let number = u32::from(header.datalink);
            let link =
                LinkType::from_pcap(number).ok_or(CaptureError::UnsupportedLinkType(number))?;
            Source::Pcap {
                reader,
                link,
                nanoseconds: header.ts_resolution == TsResolution::NanoSecond,
            }
        } else if number == PCAPNG_MAGIC {
            let reader = PcapNgReader::new(chained).map_err(|e| header_error(&path, e))?;
            let big_endian = reader.section().endianness == Endianness::Big;
            Source::PcapNg {
                reader,
                big_endian,
                interfaces: Vec::new(),
            }
        } else {
            return Err(CaptureError::NotACapture {
                path,
                reason: "unknown magic number",
            });
        };
        Ok(Self {
            source,
            path,
            clock: Clock::default(),
            stats: Stats::default(),
            unsupported_link: None,
            done: false,
        })
    }

    /// The container format.
    #[must_use]
    pub fn format(&self) -> Format {
        match self.source {
            Source::Pcap { .. } => Format::Pcap,
            Source::PcapNg { .. } => Format::PcapNg,
        }
    }

    /// Counters so far.
    #[must_use]
    pub const fn stats(&self) -> Stats {
        self.stats
    }

    /// Packets skipped so far (damaged, bad FCS, unsupported interface): `stats().skipped()`.
    #[must_use]
    pub const fn skipped(&self) -> u64 {
        self.stats.skipped()
    }

    fn end_of_stream(&mut self, error: PcapError) -> Step {
        match error {
            PcapError::IoError(e) if e.kind() != io::ErrorKind::UnexpectedEof => {
                Step::Fatal(CaptureError::Io {
                    path: self.path.clone(),
                    source: e,
                })
            }
            // A cut-off last record, or block framing there is no resynchronising after.
            _ => {
                self.stats.packets += 1;
                self.stats.truncated += 1;
                Step::End
            }
        }
    }

    fn next_packet(&mut self) -> Step {
        match &mut self.source {
            Source::Pcap {
                reader,
                link,
                nanoseconds,
            } => {
                // Raw packets: the record is consumed even if its fields are odd (orig_len >
                // snaplen, say), so a bad record is skipped instead of stalling the reader.
                let raw = match reader.next_raw_packet() {
                    None => return Step::End,
                    Some(Err(e)) => return self.end_of_stream(e),
                    Some(Ok(raw)) => raw,
                };
                let fraction = if *nanoseconds { 1 } else { 1_000 };
                let nanos =
                    u128::from(raw.ts_sec) * 1_000_000_000 + u128::from(raw.ts_frac) * fraction;
                let meta = PacketMeta {
                    at: self.clock.at(Some(nanos)),
                    wire_len: Some(raw.orig_len),
                    ..PacketMeta::default()
                };
                self.stats.packets += 1;
                Step::Record(decode(*link, &raw.data, meta))
            }
            Source::PcapNg {
                reader,
                big_endian,
                interfaces,
            } => {
                let raw = match reader.next_raw_block() {
                    None => return Step::End,
                    Some(Err(e)) => return self.end_of_stream(e),
                    Some(Ok(raw)) => raw,
                };
                let packet = match raw.type_ {
                    ENHANCED_PACKET_BLOCK => enhanced_packet(&raw.body, *big_endian),
                    SIMPLE_PACKET_BLOCK => simple_packet(&raw.body, *big_endian),
                    SECTION_HEADER_BLOCK | INTERFACE_DESCRIPTION_BLOCK => {
                        drop(raw);
                        *big_endian = reader.section().endianness == Endianness::Big;
                        *interfaces = reader.interfaces().iter().map(Interface::of).collect();
                        return Step::Skipped;
                    }
                    _ => return Step::Skipped,
                };
                self.stats.packets += 1;
                let Some(packet) = packet else {
                    self.stats.truncated += 1;
                    return Step::Skipped;
                };
                let Some(interface) = usize::try_from(packet.interface)
                    .ok()
                    .and_then(|i| interfaces.get(i))
                else {
                    self.stats.truncated += 1;
                    return Step::Skipped;
                };
                let Some(link) = interface.link else {
                    self.stats.unsupported += 1;
                    self.unsupported_link.get_or_insert(interface.link_number);
                    return Step::Skipped;
                };
                let mut data = packet.data;
                if packet.snap_to_interface {
                    let snap = usize::try_from(interface.snaplen).unwrap_or(usize::MAX);
                    if snap != 0 && data.len() > snap {
                        data = data.get(..snap).unwrap_or_default();
                    }
                }
                let nanos = packet
                    .timestamp
                    .map(|units| units_to_nanos(units, interface.tsresol));
                let meta = PacketMeta {
                    at: self.clock.at(nanos),
                    wire_len: Some(packet.original_len),
                    ..PacketMeta::default()
                };
                Step::Record(decode(link, data, meta))
            }
        }
    }
}

impl<R: Read> Iterator for FileCapture<R> {
    type Item = Result<Record, CaptureError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            match self.next_packet() {
                Step::Record(result) => {
                    self.stats.count(&result);
                    if let Ok(record) = result {
                        return Some(Ok(record));
                    }
                }
                Step::Skipped => {}
                Step::End => self.done = true,
                Step::Fatal(error) => {
                    self.done = true;
                    return Some(Err(error));
                }
            }
        }
        None
    }
}

enum Step {
    Record(Result<Record, CaptureError>),
    Skipped,
    End,
    Fatal(CaptureError),
}

fn header_error(path: &Path, error: PcapError) -> CaptureError {
    let path = path.to_path_buf();
    match error {
        PcapError::IoError(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            CaptureError::NotACapture {
                path,
                reason: "truncated file header",
            }
        }
        PcapError::IoError(source) => CaptureError::Io { path, source },
        PcapError::InvalidField(reason) => CaptureError::NotACapture { path, reason },
        _ => CaptureError::NotACapture {
            path,
            reason: "malformed file header",
        },
    }
}

/// A packet block's fields. Parsed here rather than by `pcap-file`, so that a corrupt block body
/// is skipped (the raw block was consumed) and `if_tsresol` is honoured (`pcap-file` 2 takes
/// every timestamp for nanoseconds).
struct PacketBlock<'a> {
    interface: u32,
    /// In the interface's `if_tsresol` units; none in a Simple Packet Block.
    timestamp: Option<u64>,
    original_len: u32,
    data: &'a [u8],
    /// Simple Packet Blocks include the padding and rely on the interface's snap length.
    snap_to_interface: bool,
}

fn u32_at(body: &[u8], at: usize, big_endian: bool) -> Option<u32> {
    let bytes: [u8; 4] = body.get(at..at + 4)?.try_into().ok()?;
    Some(if big_endian {
        u32::from_be_bytes(bytes)
    } else {
        u32::from_le_bytes(bytes)
    })
}

fn enhanced_packet(body: &[u8], big_endian: bool) -> Option<PacketBlock<'_>> {
    let interface = u32_at(body, 0, big_endian)?;
    let high = u32_at(body, 4, big_endian)?;
    let low = u32_at(body, 8, big_endian)?;
    let captured = usize::try_from(u32_at(body, 12, big_endian)?).ok()?;
    let original_len = u32_at(body, 16, big_endian)?;
    let data = body.get(20..20usize.checked_add(captured)?)?;
    Some(PacketBlock {
        interface,
        timestamp: Some((u64::from(high) << 32) | u64::from(low)),
        original_len,
        data,
        snap_to_interface: false,
    })
}

fn simple_packet(body: &[u8], big_endian: bool) -> Option<PacketBlock<'_>> {
    let original_len = u32_at(body, 0, big_endian)?;
    let data = body.get(4..)?;
    let data = data
        .get(..usize::try_from(original_len).ok()?)
        .unwrap_or(data);
    Some(PacketBlock {
        interface: 0,
        timestamp: None,
        original_len,
        data,
        snap_to_interface: true,
    })
}

/// Converts a pcapng timestamp in `if_tsresol` units to nanoseconds.
fn units_to_nanos(units: u64, tsresol: u8) -> u128 {
    let units = u128::from(units);
    let exponent = u32::from(tsresol & 0x7f);
    if tsresol & 0x80 == 0 {
        if exponent <= 9 {
            units * 10u128.pow(9 - exponent)
        } else {
            10u128
                .checked_pow(exponent - 9)
                .map_or(0, |divisor| units / divisor)
        }
    } else {
        (units * 1_000_000_000).checked_shr(exponent).unwrap_or(0)
    }
}

/// Everything of a capture file, collected by [`read_file`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capture {
    /// Data-frame observations in file order.
    pub observations: Vec<Observation>,
    /// Distinct (BSSID, SSID, channel) announced by beacons or probe responses, in order of
    /// first appearance.
    pub networks: Vec<(Mac, Vec<u8>, Option<u8>)>,
    /// The reader's counters (including [`Record::Other`] and skipped packets).
    pub stats: Stats,
}

impl Capture {
    /// The SSID a BSSID announced (the first non-empty one: probe responses reveal hidden
    /// networks).
    #[must_use]
    pub fn ssid_of(&self, bssid: &Mac) -> Option<&[u8]> {
        let mut announced = self.networks.iter().filter(|(b, _, _)| b == bssid);
        let first = announced.clone().next()?;
        Some(
            announced
                .find(|(_, ssid, _)| !ssid.is_empty())
                .unwrap_or(first)
                .1
                .as_slice(),
        )
    }
}

/// Reads a whole capture file.
///
/// # Errors
/// As [`FileCapture::open`]; an I/O error while reading; [`CaptureError::UnsupportedLinkType`]
/// for a pcapng file whose packets all belong to interfaces of unsupported link types.
pub fn read_file(path: impl AsRef<Path>) -> Result<Capture, CaptureError> {
    collect(FileCapture::open(path)?)
}

/// Reads a whole capture from any reader (a file in memory, say); `path` names it in errors.
///
/// # Errors
/// As [`read_file`].
pub fn read<R: Read>(inner: R, path: impl Into<PathBuf>) -> Result<Capture, CaptureError> {
    collect(FileCapture::new(inner, path)?)
}

fn collect<R: Read>(mut reader: FileCapture<R>) -> Result<Capture, CaptureError> {
    let mut capture = Capture::default();
    for record in reader.by_ref() {
        match record? {
            Record::Data(observation) => capture.observations.push(observation),
            Record::Beacon {
                bssid,
                ssid,
                channel,
            } => {
                let entry = (bssid, ssid, channel);
                if !capture.networks.contains(&entry) {
                    capture.networks.push(entry);
                }
            }
            Record::Other => {}
        }
    }
    capture.stats = reader.stats();
    let supported = capture.stats.packets - capture.stats.unsupported;
    if let (Some(link), 0) = (reader.unsupported_link, supported) {
        return Err(CaptureError::UnsupportedLinkType(link));
    }
    Ok(capture)
}

/// `PACKET_OUTGOING` from `<linux/if_packet.h>`: a packet this host sent.
const PACKET_OUTGOING: u8 = 4;
/// Receive buffer: more than any 802.11 frame (A-MSDU 11454 bytes) and than a loopback frame with
/// a 64 KiB datagram. Longer packets are still reported with their full length (`MSG_TRUNC`).
const BUFFER_LEN: usize = 65_536 + 128;
/// The socket's kernel receive queue asked for: about four seconds of a busy channel (a few
/// thousand frames), so that a reader starved for a moment (a loaded board, a retune) finds the
/// frames queued rather than dropped. Root gets it (`SO_RCVBUFFORCE`); otherwise the kernel caps
/// `SO_RCVBUF` at `net.core.rmem_max`.
const QUEUE_BYTES: usize = 4 << 20;
/// A kernel timestamp older than this is not trusted (the wall clock was stepped): the packet is
/// timed when read instead.
const MAX_QUEUED: Duration = Duration::from_secs(30);

/// A live capture on one interface through an `AF_PACKET` raw socket (needs `CAP_NET_RAW`).
///
/// Open it, then call [`next_record`](Self::next_record) in a loop: it returns `Ok(None)` when the
/// timeout given to [`open`](Self::open) passes without a record, so the caller can check for
/// Ctrl-C. [`Instant`]s are milliseconds since `open` ([`now`](Self::now)); a packet is timed when
/// the kernel received it (`SO_TIMESTAMPNS`), not when it was read, so frames that waited in the
/// socket queue while the reader was busy keep their spacing. The queue is large
/// ([`QUEUE_BYTES`]) for the same reason.
///
/// Monitor-mode interfaces (`ARPHRD_IEEE80211_RADIOTAP`) deliver radiotap + 802.11, and the
/// direction comes from the DS bits. Ethernet and loopback interfaces deliver Ethernet frames;
/// each becomes a [`Record::Data`] (no group-address filter), [`Direction::ToAp`] if this host
/// sent it (`PACKET_OUTGOING`), [`Direction::FromAp`] otherwise. On `lo` every datagram is seen
/// twice, once each way, like the ToDS and FromDS copies of an 802.11 broadcast. The channel is
/// not changed here: records carry the radiotap channel, else the one given to
/// [`set_channel`](Self::set_channel).
pub struct LiveCapture {
    iface: String,
    fd: OwnedFd,
    ifindex: usize,
    link: LinkType,
    started: std::time::Instant,
    timeout: Duration,
    channel: u8,
    buffer: Vec<u8>,
    stats: Stats,
    /// The latest packet time returned (packet times never go back).
    last_at: Instant,
}

impl fmt::Debug for LiveCapture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveCapture")
            .field("iface", &self.iface)
            .field("fd", &self.fd)
            .field("ifindex", &self.ifindex)
            .field("link", &self.link)
            .field("timeout", &self.timeout)
            .field("channel", &self.channel)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl LiveCapture {
    /// Opens a capture on `iface` (e.g. `wlan0mon`, `lo`); `timeout` (at least 1 ms) bounds each
    /// [`next_record`](Self::next_record) call.
    ///
    /// # Errors
    /// [`CaptureError::NoSuchInterface`], [`CaptureError::Io`] (reading
    /// `/sys/class/net/IFACE/type`), [`CaptureError::UnsupportedInterface`] or
    /// [`CaptureError::Socket`] (`EPERM` without root or `CAP_NET_RAW`).
    pub fn open(iface: &str, timeout: Duration) -> Result<Self, CaptureError> {
        let no_such = || CaptureError::NoSuchInterface(iface.to_owned());
        if iface.is_empty()
            || iface.len() > 15
            || iface == "."
            || iface == ".."
            || iface.contains(['/', '\0'])
            || iface.chars().any(char::is_whitespace)
        {
            return Err(no_such());
        }
        let type_path = Path::new("/sys/class/net").join(iface).join("type");
        let text = match std::fs::read_to_string(&type_path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(no_such()),
            Err(source) => {
                return Err(CaptureError::Io {
                    path: type_path,
                    source,
                });
            }
        };
        let Ok(hardware_type) = text.trim().parse::<u16>() else {
            return Err(CaptureError::Io {
                path: type_path,
                source: io::Error::new(io::ErrorKind::InvalidData, "not a hardware type number"),
            });
        };
        let link = LinkType::from_hardware_type(hardware_type).ok_or_else(|| {
            CaptureError::UnsupportedInterface {
                iface: iface.to_owned(),
                hardware_type,
            }
        })?;
        let socket_error = |action| {
            move |source| CaptureError::Socket {
                iface: iface.to_owned(),
                action,
                source,
            }
        };
        let address = nix::ifaddrs::getifaddrs()
            .map_err(socket_error("listing interfaces"))?
            .filter(|entry| entry.interface_name == iface)
            .find_map(|entry| {
                let link = *entry.address?.as_link_addr()?;
                (link.family() == Some(AddressFamily::Packet)).then_some(link)
            })
            .ok_or_else(no_such)?;
        let fd = socket(
            AddressFamily::Packet,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::EthAll,
        )
        .map_err(socket_error(
            "opening a raw socket (needs root or CAP_NET_RAW)",
        ))?;
        // The address from getifaddrs has sll_protocol 0: bind keeps the socket's ETH_P_ALL.
        bind(fd.as_raw_fd(), &address).map_err(socket_error("binding to the interface"))?;
        let timeout = timeout.max(Duration::from_millis(1));
        let timeval = TimeVal::new(
            i64::try_from(timeout.as_secs()).unwrap_or(i64::MAX),
            i64::from(timeout.subsec_micros()),
        );
        setsockopt(&fd, sockopt::ReceiveTimeout, &timeval)
            .map_err(socket_error("setting the receive timeout"))?;
        // Best effort: the default queue (about 200 KiB) still works, it only drops sooner.
        if setsockopt(&fd, sockopt::RcvBufForce, &QUEUE_BYTES).is_err() {
            let _ = setsockopt(&fd, sockopt::RcvBuf, &QUEUE_BYTES);
        }
        setsockopt(&fd, sockopt::ReceiveTimestampns, &true)
            .map_err(socket_error("enabling receive timestamps"))?;
        Ok(Self {
            iface: iface.to_owned(),
            fd,
            ifindex: address.ifindex(),
            link,
            started: std::time::Instant::now(),
            timeout,
            channel: 0,
            buffer: vec![0; BUFFER_LEN],
            stats: Stats::default(),
            last_at: Instant::from_millis(0),
        })
    }

    /// The capture time of a packet the kernel received at `received` (wall clock), read now:
    /// [`now`](Self::now) minus the time it spent queued, never before the previous packet's.
    fn packet_time(&mut self, received: Option<TimeSpec>) -> Instant {
        let now = self.now();
        let queued = received
            .and_then(|ts| {
                let received = Duration::new(
                    u64::try_from(ts.tv_sec()).ok()?,
                    u32::try_from(ts.tv_nsec()).ok()?,
                );
                let wall = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .ok()?;
                wall.checked_sub(received)
            })
            .filter(|&queued| queued <= MAX_QUEUED)
            .map_or(0, |queued| u64::try_from(queued.as_millis()).unwrap_or(0));
        let at = Instant::from_millis(now.as_millis().saturating_sub(queued)).max(self.last_at);
        self.last_at = at;
        at
    }

    /// How this interface frames packets.
    #[must_use]
    pub const fn link_type(&self) -> LinkType {
        self.link
    }

    /// The interface name.
    #[must_use]
    pub fn iface(&self) -> &str {
        &self.iface
    }

    /// Sets the channel reported when radiotap does not say (and for Ethernet).
    pub fn set_channel(&mut self, channel: u8) {
        self.channel = channel;
    }

    /// Milliseconds since the capture was opened, as decoder time.
    #[must_use]
    pub fn now(&self) -> Instant {
        Instant::from_millis(u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX))
    }

    /// Counters so far.
    #[must_use]
    pub const fn stats(&self) -> Stats {
        self.stats
    }

    /// The next record of this interface, or `None` when the timeout passed without one (or a
    /// signal interrupted the wait). Damaged packets are skipped and counted.
    ///
    /// # Errors
    /// [`CaptureError::Socket`] on a receive error other than a timeout or an interrupt.
    pub fn next_record(&mut self) -> Result<Option<Record>, CaptureError> {
        let deadline = std::time::Instant::now() + self.timeout;
        loop {
            let mut control = nix::cmsg_space!(TimeSpec);
            let received = {
                let mut buffers = [IoSliceMut::new(&mut self.buffer)];
                // MSG_TRUNC: the packet's real length even if it did not fit the buffer.
                recvmsg::<LinkAddr>(
                    self.fd.as_raw_fd(),
                    &mut buffers,
                    Some(&mut control),
                    MsgFlags::MSG_TRUNC,
                )
                .map(|message| {
                    // No (or a cut) control message: the packet is timed when read.
                    let stamp = message.cmsgs().ok().and_then(|mut c| {
                        c.find_map(|c| match c {
                            ControlMessageOwned::ScmTimestampns(ts) => Some(ts),
                            _ => None,
                        })
                    });
                    (message.bytes, message.address, stamp)
                })
            };
            let (length, from, stamp) = match received {
                Ok(received) => received,
                Err(Errno::EAGAIN | Errno::EINTR) => return Ok(None),
                Err(source) => {
                    return Err(CaptureError::Socket {
                        iface: self.iface.clone(),
                        action: "receiving",
                        source,
                    });
                }
            };
            // Packets of other interfaces can be queued between socket() and bind().
            if let Some(from) = from.filter(|from| from.ifindex() == self.ifindex) {
                self.stats.packets += 1;
                let direction = if from.pkttype() == PACKET_OUTGOING {
                    Direction::ToAp
                } else {
                    Direction::FromAp
                };
                let meta = PacketMeta {
                    at: self.packet_time(stamp),
                    channel: self.channel,
                    wire_len: Some(u32::try_from(length).unwrap_or(u32::MAX)),
                    link_direction: Some(direction),
                };
                let packet = self.buffer.get(..length).unwrap_or(&self.buffer);
                let result = decode(self.link, packet, meta);
                self.stats.count(&result);
                if let Ok(record) = result {
                    return Ok(Some(record));
                }
            }
            if std::time::Instant::now() >= deadline {
                return Ok(None);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use pcap_file::DataLink;
    use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
    use pcap_file::pcapng::PcapNgWriter;
    use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;

    use super::*;

    const AP: Mac = [0x24, 0x0a, 0xc4, 0x77, 0, 1];
    const PHONE: Mac = [0xa0, 0xcb, 0xfd, 0x77, 0, 2];

    /// A protected, non-QoS ToDS data frame from the phone to broadcast, `len` bytes, no FCS.
    fn data_frame(len: usize, sequence: u16) -> Vec<u8> {
        let mut f = vec![0xa5; len];
        f[..4].copy_from_slice(&[0x08, 0x41, 0, 0]);
        f[4..10].copy_from_slice(&AP);
        f[10..16].copy_from_slice(&PHONE);
        f[16..22].copy_from_slice(&[0xff; 6]);
        f[22..24].copy_from_slice(&(sequence << 4).to_le_bytes());
        f
    }

    fn beacon_frame() -> Vec<u8> {
        let mut f = vec![0u8; 36];
        f[0] = 0x80;
        f[4..10].copy_from_slice(&[0xff; 6]);
        f[10..16].copy_from_slice(&AP);
        f[16..22].copy_from_slice(&AP);
        f.extend_from_slice(&[0, 7]);
        f.extend_from_slice(b"HomeNet");
        f.extend_from_slice(&[3, 1, 6]);
        f
    }

    /// Radiotap header with Flags and Channel (2437 MHz = channel 6): 14 bytes.
    fn radiotap(flags: u8) -> Vec<u8> {
        let mut h = vec![0, 0, 14, 0, 0x0a, 0, 0, 0, flags, 0];
        h.extend_from_slice(&2437u16.to_le_bytes());
        h.extend_from_slice(&0x00a0u16.to_le_bytes());
        h
    }

    /// Radiotap (FCS flag) + frame + FCS (its value is not checked here).
    fn with_fcs(frame: &[u8]) -> Vec<u8> {
        let mut p = radiotap(0x10);
        p.extend_from_slice(frame);
        p.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        p
    }

    fn pcap(link: DataLink, packets: &[(u64, u32, Vec<u8>)]) -> Vec<u8> {
        let header = PcapHeader {
            datalink: link,
            endianness: Endianness::Little,
            ..PcapHeader::default()
        };
        let mut writer = PcapWriter::with_header(Vec::new(), header).unwrap();
        for (micros, orig_len, data) in packets {
            let timestamp = Duration::from_micros(*micros);
            writer
                .write_packet(&PcapPacket::new(timestamp, *orig_len, data))
                .unwrap();
        }
        writer.into_writer()
    }

    fn full(micros: u64, data: Vec<u8>) -> (u64, u32, Vec<u8>) {
        (micros, u32::try_from(data.len()).unwrap(), data)
    }

    fn records(bytes: Vec<u8>) -> (Vec<Record>, Stats) {
        let mut reader = FileCapture::new(Cursor::new(bytes), "test.pcap").unwrap();
        let records = reader.by_ref().collect::<Result<Vec<_>, _>>().unwrap();
        (records, reader.stats())
    }

    fn observation(record: &Record) -> Observation {
        match record {
            Record::Data(o) => *o,
            other => panic!("expected data, got {other:?}"),
        }
    }

    #[test]
    fn radiotap_with_fcs_reports_the_sniffed_length_and_channel() {
        let frame = data_frame(100, 7);
        let mut bad = with_fcs(&frame);
        bad[8] |= 0x40; // bad FCS
        let file = pcap(
            DataLink::IEEE802_11_RADIOTAP,
            &[
                full(1_000_000, with_fcs(&beacon_frame())),
                full(1_012_345, with_fcs(&frame)),
                full(1_020_000, bad),
            ],
        );
        let (records, stats) = records(file);
        assert_eq!(records.len(), 2);
        assert_eq!(
            records[0],
            Record::Beacon {
                bssid: AP,
                ssid: b"HomeNet".to_vec(),
                channel: Some(6)
            }
        );
        let o = observation(&records[1]);
        assert_eq!(o.len, 104, "802.11 frame plus FCS, radiotap excluded");
        assert_eq!(o.channel, 6);
        assert_eq!(o.direction, Direction::ToAp);
        assert_eq!((o.source, o.bssid), (PHONE, AP));
        assert_eq!(o.sequence, Some(7));
        assert_eq!(o.at, Instant::from_millis(12));
        let expected = Stats {
            packets: 3,
            data: 1,
            beacons: 1,
            bad_fcs: 1,
            ..Stats::default()
        };
        assert_eq!(stats, expected);
    }

    #[test]
    fn reports_the_original_length_of_a_truncated_capture() {
        let mut packet = radiotap(0);
        packet.extend_from_slice(&data_frame(200, 1)[..60]);
        // 14 + 60 bytes captured of a 14 + 200 byte packet.
        let (records, _) = records(pcap(DataLink::IEEE802_11_RADIOTAP, &[(0, 214, packet)]));
        assert_eq!(observation(&records[0]).len, 200);
    }

    #[test]
    fn skips_truncated_radiotap_headers_and_continues() {
        let mut short = radiotap(0);
        short[2] = 200; // claims 200 bytes
        let mut good = radiotap(0);
        good.extend_from_slice(&data_frame(90, 2));
        let file = pcap(
            DataLink::IEEE802_11_RADIOTAP,
            &[
                full(0, short),
                full(1, radiotap(0)[..6].to_vec()),
                full(2, good),
            ],
        );
        let (records, stats) = records(file);
        assert_eq!(records.len(), 1);
        assert_eq!(observation(&records[0]).len, 90);
        assert_eq!((stats.packets, stats.malformed), (3, 2));
    }

    #[test]
    fn rejects_an_fcs_flag_on_a_frame_shorter_than_the_fcs() {
        let mut p = radiotap(0x10);
        p.extend_from_slice(&[0x08, 0x41]);
        let result = decode(LinkType::Radiotap, &p, PacketMeta::default());
        assert!(matches!(result, Err(CaptureError::TruncatedPacket)));
    }

    #[test]
    fn stops_before_a_vendor_namespace_without_panicking() {
        // Presence word: only bit 30 (vendor namespace), then a vendor namespace header whose
        // skip length (0xffff) runs far past the end; the radiotap crate would slice past it.
        let mut p = vec![0, 0, 14, 0, 0, 0, 0, 0x40, 0x00, 0x10, 0x18, 0, 0xff, 0xff];
        p.extend_from_slice(&data_frame(50, 3));
        let record = decode(LinkType::Radiotap, &p, PacketMeta::default()).unwrap();
        assert_eq!(observation(&record).len, 50);
    }

    #[test]
    fn reads_bare_80211() {
        let frame = data_frame(120, 9);
        let file = pcap(
            DataLink::IEEE802_11,
            &[full(5, frame.clone()), (6, 300, frame[..40].to_vec())],
        );
        let (records, _) = records(file);
        let lengths: Vec<u16> = records.iter().map(|r| observation(r).len).collect();
        assert_eq!(lengths, [120, 300]);
        assert_eq!(observation(&records[0]).channel, 0);
    }

    #[test]
    fn reads_ethernet_as_from_ap_data() {
        let mut frame = vec![0xff; 6];
        frame.extend_from_slice(&PHONE);
        frame.extend_from_slice(&[0x08, 0x00]);
        frame.resize(42 + 17, 0);
        frame[14] = 0x45; // IPv4, 20-byte header
        frame[23] = 17; // UDP
        let mut icmp = frame.clone();
        icmp[23] = 1;
        let file = pcap(
            DataLink::ETHERNET,
            &[full(0, frame), full(1, vec![0; 10]), full(2, icmp)],
        );
        let (records, stats) = records(file);
        assert_eq!(
            records.last(),
            Some(&Record::Other),
            "ICMP is not provisioning traffic"
        );
        let o = observation(&records[0]);
        assert_eq!(o.len, 59);
        assert_eq!(o.direction, Direction::FromAp);
        assert_eq!(
            (o.source, o.destination, o.bssid),
            (PHONE, [0xff; 6], [0; 6])
        );
        assert_eq!(o.sequence, None);
        assert_eq!(stats.truncated, 1);
    }

    #[test]
    fn rejects_an_unsupported_link_type() {
        let result = FileCapture::new(Cursor::new(pcap(DataLink::LINUX_SLL, &[])), "sll.pcap");
        assert!(matches!(
            result,
            Err(CaptureError::UnsupportedLinkType(113))
        ));
    }

    fn pcapng() -> Vec<u8> {
        let mut writer = PcapNgWriter::new(Vec::new()).unwrap();
        let nanosecond = InterfaceDescriptionBlock {
            linktype: DataLink::IEEE802_11_RADIOTAP,
            snaplen: 0,
            options: vec![InterfaceDescriptionOption::IfTsResol(9)],
        };
        // No if_tsresol: microseconds. pcap-file writes a Duration's nanosecond count as the raw
        // timestamp, so N ns below means N µs in the file.
        let microsecond = InterfaceDescriptionBlock::new(DataLink::IEEE802_11, 0);
        let unsupported = InterfaceDescriptionBlock::new(DataLink::LINUX_SLL, 0);
        writer.write_pcapng_block(nanosecond).unwrap();
        writer.write_pcapng_block(microsecond).unwrap();
        writer.write_pcapng_block(unsupported).unwrap();
        let packets = [
            (
                0,
                Duration::from_secs(1_700_000_000),
                with_fcs(&data_frame(80, 1)),
            ),
            (
                1,
                Duration::from_nanos(1_700_000_000_250_000),
                data_frame(81, 2),
            ),
            (2, Duration::from_nanos(1), vec![0; 20]),
        ];
        for (interface_id, timestamp, data) in packets {
            let block = EnhancedPacketBlock {
                interface_id,
                timestamp,
                original_len: u32::try_from(data.len()).unwrap(),
                data: Cow::Owned(data),
                options: vec![],
            };
            writer.write_pcapng_block(block).unwrap();
        }
        writer.into_inner()
    }

    #[test]
    fn reads_pcapng_with_per_interface_time_resolution() {
        let mut reader = FileCapture::new(Cursor::new(pcapng()), "test.pcapng").unwrap();
        assert_eq!(reader.format(), Format::PcapNg);
        let records = reader.by_ref().collect::<Result<Vec<_>, _>>().unwrap();
        assert_eq!(records.len(), 2);
        let a = observation(&records[0]);
        let b = observation(&records[1]);
        assert_eq!((a.len, a.channel, a.at), (84, 6, Instant::from_millis(0)));
        assert_eq!((b.len, b.channel, b.at), (81, 0, Instant::from_millis(250)));
        assert_eq!((reader.stats().packets, reader.stats().unsupported), (3, 1));
        assert_eq!(reader.skipped(), 1);
    }

    #[test]
    fn converts_pcapng_time_units() {
        assert_eq!(units_to_nanos(5, 6), 5_000);
        assert_eq!(units_to_nanos(5, 9), 5);
        assert_eq!(units_to_nanos(5_000, 12), 5);
        assert_eq!(units_to_nanos(3, 0x80 | 1), 1_500_000_000);
        assert_eq!(units_to_nanos(u64::MAX, 127), 0);
        assert_eq!(units_to_nanos(u64::MAX, 0xff), 0);
    }

    #[test]
    fn maps_frequencies_to_channels() {
        let cases = [
            (2412, 1),
            (2437, 6),
            (2472, 13),
            (2484, 14),
            (5180, 36),
            (5825, 165),
            (4920, 184),
            (2413, 0),
            (5955, 0),
            (900, 0),
        ];
        for (freq, channel) in cases {
            assert_eq!(channel_of(freq), channel, "{freq} MHz");
        }
    }

    #[test]
    fn rejects_garbage_and_bad_headers() {
        let open = |bytes: Vec<u8>| FileCapture::new(Cursor::new(bytes), "test");
        assert!(matches!(
            open(vec![0x42; 100]),
            Err(CaptureError::NotACapture { .. })
        ));
        assert!(matches!(
            open(Vec::new()),
            Err(CaptureError::NotACapture { .. })
        ));
        let short = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0];
        assert!(matches!(open(short), Err(CaptureError::NotACapture { .. })));
        let mut ng = pcapng();
        ng[8] ^= 0xff; // the section's byte-order magic
        assert!(matches!(open(ng), Err(CaptureError::NotACapture { .. })));
        let missing = read_file("/nonexistent/wifiprov/capture.pcap");
        assert!(matches!(missing, Err(CaptureError::Io { .. })));
    }

    fn small_pcap() -> Vec<u8> {
        pcap(
            DataLink::IEEE802_11_RADIOTAP,
            &[
                full(0, with_fcs(&beacon_frame())),
                full(10, with_fcs(&data_frame(30, 1))),
            ],
        )
    }

    /// Reads everything: the record count or the first error. Must not panic.
    fn drain(bytes: &[u8]) -> Result<usize, CaptureError> {
        let mut n = 0;
        for record in FileCapture::new(Cursor::new(bytes.to_vec()), "fuzz")? {
            record?;
            n += 1;
        }
        Ok(n)
    }

    #[test]
    fn every_prefix_is_ok_or_an_error() {
        for file in [small_pcap(), pcapng()] {
            assert!(drain(&file).unwrap() >= 2);
            for n in 0..file.len() {
                let result = drain(&file[..n]);
                if n < 24 {
                    assert!(result.is_err(), "prefix {n}: {result:?}");
                }
            }
        }
    }

    #[test]
    fn mutated_files_and_random_packets_never_panic() {
        let seed = 0x2545_f491_4f6c_dd1du64;
        println!("seed {seed:#x}");
        let mut state = seed;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let files = [small_pcap(), pcapng()];
        for round in 0..2_000 {
            let mut file = files[round % 2].clone();
            for _ in 0..1 + next() % 8 {
                let at = usize::try_from(next() % file.len() as u64).unwrap();
                file[at] = next() as u8;
            }
            let _ = drain(&file);
        }
        for _ in 0..20_000 {
            let len = usize::try_from(next() % 64).unwrap();
            let mut packet: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if let Some(version) = packet.first_mut() {
                *version = 0;
            }
            for link in [LinkType::Radiotap, LinkType::Ieee80211, LinkType::Ethernet] {
                let _ = decode(link, &packet, PacketMeta::default());
            }
        }
    }

    /// Found by the `radiotap` fuzz target (fuzz/): nine presence words overflowed the
    /// `radiotap` crate's field numbering (a panic in debug builds).
    #[test]
    fn issue_8_rejects_radiotap_with_nine_presence_words() {
        let words = 9;
        let length = 4 + 4 * words;
        let mut packet = vec![0, 0];
        packet.extend_from_slice(&u16::try_from(length).unwrap().to_le_bytes());
        for i in 0..words {
            let last = i == words - 1;
            packet.extend_from_slice(&(if last { 1u32 } else { 0x8000_0001 }).to_le_bytes());
        }
        packet.extend_from_slice(&[0x08, 0x42, 0, 0]);
        packet.extend_from_slice(&[0; 20]);
        assert_eq!(presence_words(&packet), 9);
        assert!(matches!(
            decode(LinkType::Radiotap, &packet, PacketMeta::default()),
            Err(CaptureError::MalformedRadiotap)
        ));
        // Eight words are still read.
        let mut eight = vec![0, 0];
        eight.extend_from_slice(&36u16.to_le_bytes());
        for i in 0..8 {
            eight.extend_from_slice(&(if i == 7 { 0u32 } else { 0x8000_0000 }).to_le_bytes());
        }
        assert_eq!(presence_words(&eight), 8);
        assert!(decode(LinkType::Radiotap, &eight, PacketMeta::default()).is_ok());
    }

    #[test]
    fn read_file_collects_observations_and_networks() {
        let dir = std::env::temp_dir().join(format!("wifiprov-capture-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("small.pcap");
        std::fs::write(&path, small_pcap()).unwrap();
        let capture = read_file(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(capture.observations.len(), 1);
        assert_eq!(capture.networks, [(AP, b"HomeNet".to_vec(), Some(6))]);
        assert_eq!(capture.ssid_of(&AP), Some(&b"HomeNet"[..]));
        assert_eq!(capture.stats.packets, 2);
    }
}
