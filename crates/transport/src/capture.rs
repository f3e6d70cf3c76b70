//! Capture input: pcap/pcapng files and live `AF_PACKET` sockets → [`Record`]s.
//!
//! Link types: 127 (radiotap + 802.11), 105 (802.11) and 1 (Ethernet, e.g. a capture on `lo`).
//! 802.11 frames are reduced by [`wifiprov_sniff::ieee80211`]; this module only strips radiotap,
//! reads files and sockets. An observation's `len` is the frame length as the radio reported it:
//! with an FCS in the capture it includes the 4 FCS bytes (as an ESP32's `sig_len` does).
//! Decoders learn the overhead, so either convention works as long as it is stable per stream.

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufReader, Read};
use std::os::fd::{AsRawFd as _, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant as StdInstant};

use pcap_file::DataLink;
use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::{Block, PcapNgReader};
use radiotap::Radiotap;
use wifiprov_sniff::ieee80211::{self, Meta};
use wifiprov_sniff::{Direction, Instant, Mac, Observation};

/// One captured packet, as far as provisioning cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// A data frame a sniffing decoder may use.
    Data(Observation),
    /// A beacon or probe response: a scan result.
    Beacon {
        /// BSSID.
        bssid: Mac,
        /// SSID bytes.
        ssid: Vec<u8>,
        /// Channel from the DS Parameter Set, else the radio's.
        channel: Option<u8>,
    },
    /// Anything else (kept so callers can count frames).
    Other,
}

/// Why a capture cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureError {
    /// The file cannot be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Neither pcap nor pcapng.
    #[error("{path}: not a pcap or pcapng file ({reason})")]
    NotACapture {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        reason: String,
    },
    /// A link type this tool does not read.
    #[error("unsupported link type {0} (supported: 127 radiotap, 105 802.11, 1 Ethernet)")]
    UnsupportedLinkType(u32),
    /// The file is damaged after its header.
    #[error("{path}: damaged capture: {reason}")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        reason: String,
    },
    /// A live capture socket failed.
    #[error("capture on {iface}: {action}: {source}")]
    Socket {
        /// Interface name.
        iface: String,
        /// What was being done.
        action: &'static str,
        /// The OS error.
        source: nix::Error,
    },
    /// The interface does not exist.
    #[error("no network interface named {0:?}")]
    NoSuchInterface(String),
}

/// How the bytes of one packet are framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkType {
    /// Radiotap header, then 802.11.
    Radiotap,
    /// Bare 802.11.
    Ieee80211,
    /// Ethernet II (also what `lo` delivers).
    Ethernet,
}

impl LinkType {
    fn from_data_link(link: DataLink) -> Result<Self, CaptureError> {
        match link {
            DataLink::IEEE802_11_RADIOTAP => Ok(Self::Radiotap),
            DataLink::IEEE802_11 => Ok(Self::Ieee80211),
            DataLink::ETHERNET => Ok(Self::Ethernet),
            other => Err(CaptureError::UnsupportedLinkType(u32::from(other))),
        }
    }
}

/// The channel number of a frequency in MHz (2.4 and 5 GHz), 0 if unknown.
#[must_use]
pub fn channel_of(freq: u16) -> u8 {
    match freq {
        2484 => 14,
        2412..=2472 => ((freq - 2407) / 5) as u8,
        5000..=5895 => ((freq - 5000) / 5) as u8,
        _ => 0,
    }
}

/// Turns one packet into a record. `direction_hint` is used for Ethernet only (outgoing →
/// [`Direction::ToAp`]); on Ethernet only IPv4/IPv6 UDP datagrams become observations. Never
/// panics; malformed packets become [`Record::Other`].
#[must_use]
pub fn record_of(
    link: LinkType,
    data: &[u8],
    wire_len: u32,
    at: Instant,
    channel: u8,
    direction_hint: Direction,
) -> Record {
    let wire_len = u16::try_from(wire_len).unwrap_or(u16::MAX);
    match link {
        LinkType::Ethernet => ethernet(data, wire_len, at, direction_hint),
        LinkType::Ieee80211 => dot11(data, Some(wire_len), at, channel),
        LinkType::Radiotap => {
            let Ok((radiotap, frame)) = parse_radiotap(data) else {
                return Record::Other;
            };
            let flags = radiotap.flags;
            if flags.is_some_and(|f| f.bad_fcs) {
                return Record::Other;
            }
            let header_len = data.len().saturating_sub(frame.len());
            let has_fcs = flags.is_some_and(|f| f.fcs);
            let frame_wire = wire_len.saturating_sub(u16::try_from(header_len).unwrap_or(u16::MAX));
            let frame = if has_fcs {
                // Strip the FCS from the bytes we parse (when it was captured), keep it in the length.
                let captured_fcs = usize::from(frame_wire) <= frame.len();
                if captured_fcs {
                    frame.get(..frame.len().saturating_sub(4)).unwrap_or(&[])
                } else {
                    frame
                }
            } else {
                frame
            };
            let channel = radiotap
                .channel
                .map(|c| channel_of(c.freq))
                .filter(|&c| c != 0)
                .unwrap_or(channel);
            dot11(frame, Some(frame_wire), at, channel)
        }
    }
}

/// The radiotap crate may panic on some malformed headers; contain that to a parse error.
fn parse_radiotap(data: &[u8]) -> Result<(Radiotap, &[u8]), ()> {
    // Sanity-check the header before handing it over: version 0, length within the packet.
    let [0, _, lo, hi, ..] = *data else {
        return Err(());
    };
    let len = usize::from(u16::from_le_bytes([lo, hi]));
    if len < 8 || len > data.len() {
        return Err(());
    }
    std::panic::catch_unwind(|| Radiotap::parse(data).map_err(|_| ()))
        .map_err(|_| ())
        .and_then(|r| r)
}

fn dot11(frame: &[u8], wire_len: Option<u16>, at: Instant, channel: u8) -> Record {
    if let Some(b) = ieee80211::beacon(frame) {
        return Record::Beacon {
            bssid: b.bssid,
            ssid: b.ssid.to_vec(),
            channel: b.channel.or((channel != 0).then_some(channel)),
        };
    }
    let meta = Meta {
        at,
        channel,
        wire_len,
    };
    ieee80211::observe(frame, meta).map_or(Record::Other, Record::Data)
}

fn ethernet(data: &[u8], wire_len: u16, at: Instant, direction: Direction) -> Record {
    let (Some(destination), Some(source)) = (
        data.get(0..6).and_then(|d| <[u8; 6]>::try_from(d).ok()),
        data.get(6..12).and_then(|d| <[u8; 6]>::try_from(d).ok()),
    ) else {
        return Record::Other;
    };
    // Only UDP datagrams stand for what a phone sends; ICMP errors, ARP and TCP are not.
    let udp = match (data.get(12..14), data.get(14), data.get(23), data.get(20)) {
        (Some([0x08, 0x00]), Some(version_ihl), Some(&protocol), _) => {
            version_ihl >> 4 == 4 && protocol == 17
        }
        (Some([0x86, 0xdd]), _, _, Some(&next_header)) => next_header == 17,
        _ => false,
    };
    if !udp {
        return Record::Other;
    }
    let mut obs = Observation::new(at, wire_len, source, [0; 6]);
    obs.direction = direction;
    obs.destination = destination;
    obs.receiver = destination;
    Record::Data(obs)
}

enum Format {
    Pcap(PcapReader<BufReader<File>>),
    PcapNg(PcapNgReader<BufReader<File>>),
}

/// A pcap or pcapng file, read one record at a time (bounded memory).
pub struct FileCapture {
    path: PathBuf,
    format: Format,
    link: Option<LinkType>,
    first: Option<Duration>,
    skipped: u64,
    done: bool,
}

impl std::fmt::Debug for FileCapture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileCapture")
            .field("path", &self.path)
            .field("link", &self.link)
            .field("skipped", &self.skipped)
            .finish_non_exhaustive()
    }
}

impl FileCapture {
    /// Opens a capture file (pcap or pcapng, detected by its magic number).
    ///
    /// # Errors
    /// [`CaptureError::Io`], [`CaptureError::NotACapture`] or
    /// [`CaptureError::UnsupportedLinkType`].
    pub fn open(path: &Path) -> Result<Self, CaptureError> {
        let io = |source| CaptureError::Io {
            path: path.to_owned(),
            source,
        };
        let mut magic = [0u8; 4];
        File::open(path)
            .map_err(io)?
            .read_exact(&mut magic)
            .map_err(|e| CaptureError::NotACapture {
                path: path.to_owned(),
                reason: format!("shorter than a file header: {e}"),
            })?;
        let reader = BufReader::new(File::open(path).map_err(io)?);
        let not_capture = |e: pcap_file::PcapError| CaptureError::NotACapture {
            path: path.to_owned(),
            reason: e.to_string(),
        };
        let (format, link) = if magic == [0x0a, 0x0d, 0x0d, 0x0a] {
            (
                Format::PcapNg(PcapNgReader::new(reader).map_err(not_capture)?),
                None,
            )
        } else {
            let pcap = PcapReader::new(reader).map_err(not_capture)?;
            let link = LinkType::from_data_link(pcap.header().datalink)?;
            (Format::Pcap(pcap), Some(link))
        };
        Ok(Self {
            path: path.to_owned(),
            format,
            link,
            first: None,
            skipped: 0,
            done: false,
        })
    }

    /// Packets skipped as unreadable (damaged blocks, packets of unsupported interfaces).
    #[must_use]
    pub const fn skipped(&self) -> u64 {
        self.skipped
    }

    fn at(&mut self, timestamp: Duration) -> Instant {
        let first = *self.first.get_or_insert(timestamp);
        let millis = timestamp.saturating_sub(first).as_millis();
        Instant::from_millis(u64::try_from(millis).unwrap_or(u64::MAX))
    }

    fn damaged(&mut self, reason: String) -> Option<Result<Record, CaptureError>> {
        self.done = true;
        Some(Err(CaptureError::Damaged {
            path: self.path.clone(),
            reason,
        }))
    }
}

impl Iterator for FileCapture {
    type Item = Result<Record, CaptureError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        loop {
            let (link, data, wire_len, timestamp): (LinkType, Cow<'_, [u8]>, u32, Duration) =
                match &mut self.format {
                    Format::Pcap(reader) => match reader.next_packet()? {
                        Ok(p) => {
                            let link = self.link?;
                            (
                                link,
                                Cow::Owned(p.data.into_owned()),
                                p.orig_len,
                                p.timestamp,
                            )
                        }
                        Err(e) => return self.damaged(e.to_string()),
                    },
                    Format::PcapNg(reader) => {
                        // (interface, bytes, original length, timestamp), owned, so the block's
                        // borrow of the reader ends here.
                        let packet = match reader.next_block()? {
                            Ok(Block::EnhancedPacket(p)) => Some((
                                p.interface_id as usize,
                                p.data.into_owned(),
                                p.original_len,
                                p.timestamp,
                            )),
                            Ok(Block::SimplePacket(p)) => {
                                Some((0, p.data.into_owned(), p.original_len, Duration::ZERO))
                            }
                            Ok(_) => None,
                            Err(e) => return self.damaged(e.to_string()),
                        };
                        let Some((interface, data, original_len, timestamp)) = packet else {
                            continue;
                        };
                        let link = reader
                            .interfaces()
                            .get(interface)
                            .map(|i| LinkType::from_data_link(i.linktype));
                        let Some(Ok(link)) = link else {
                            self.skipped += 1;
                            continue;
                        };
                        (link, Cow::Owned(data), original_len, timestamp)
                    }
                };
            let at = self.at(timestamp);
            let wire_len = wire_len.max(u32::try_from(data.len()).unwrap_or(u32::MAX));
            return Some(Ok(record_of(
                link,
                &data,
                wire_len,
                at,
                0,
                Direction::FromAp,
            )));
        }
    }
}

/// Everything of a capture file, collected.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capture {
    /// Data-frame observations in file order.
    pub observations: Vec<Observation>,
    /// Distinct (BSSID, SSID, channel) announced by beacons or probe responses.
    pub networks: Vec<(Mac, Vec<u8>, Option<u8>)>,
    /// Packets that were neither.
    pub other: u64,
}

/// Reads a whole capture file.
///
/// # Errors
/// As [`FileCapture::open`], and [`CaptureError::Damaged`] for a broken file body.
pub fn read_file(path: &Path) -> Result<Capture, CaptureError> {
    let mut capture = Capture::default();
    for record in FileCapture::open(path)? {
        match record? {
            Record::Data(o) => capture.observations.push(o),
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
            Record::Other => capture.other += 1,
        }
    }
    Ok(capture)
}

/// A live capture on one interface through an `AF_PACKET` raw socket (needs CAP_NET_RAW).
///
/// Monitor-mode interfaces deliver radiotap; Ethernet and loopback interfaces deliver Ethernet
/// frames, where outgoing packets become [`Direction::ToAp`] and incoming ones
/// [`Direction::FromAp`] (on `lo` each datagram is seen both ways, like the two 802.11 copies).
#[derive(Debug)]
pub struct LiveCapture {
    iface: String,
    fd: OwnedFd,
    ifindex: usize,
    link: LinkType,
    started: StdInstant,
    channel: u8,
    buffer: Vec<u8>,
}

/// `PACKET_OUTGOING` from `<linux/if_packet.h>`.
const PACKET_OUTGOING: u8 = 4;

impl LiveCapture {
    /// Opens the capture; `timeout` bounds each [`next_record`](Self::next_record) call.
    ///
    /// # Errors
    /// [`CaptureError::NoSuchInterface`], [`CaptureError::UnsupportedLinkType`] or
    /// [`CaptureError::Socket`] (e.g. without root).
    pub fn open(iface: &str, timeout: Duration) -> Result<Self, CaptureError> {
        use nix::sys::socket::{
            AddressFamily, SockFlag, SockProtocol, SockType, setsockopt, socket, sockopt,
        };
        let ifindex = nix::net::if_::if_nametoindex(iface)
            .map_err(|_| CaptureError::NoSuchInterface(iface.to_owned()))?;
        let hardware_type = std::fs::read_to_string(format!("/sys/class/net/{iface}/type"))
            .ok()
            .and_then(|t| t.trim().parse::<u32>().ok())
            .unwrap_or(1);
        let link = match hardware_type {
            803 => LinkType::Radiotap,
            801 => LinkType::Ieee80211,
            1 | 772 => LinkType::Ethernet,
            other => return Err(CaptureError::UnsupportedLinkType(other)),
        };
        let socket_error = |action| {
            move |source| CaptureError::Socket {
                iface: iface.to_owned(),
                action,
                source,
            }
        };
        let fd = socket(
            AddressFamily::Packet,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::EthAll,
        )
        .map_err(socket_error(
            "opening a raw socket (needs root or CAP_NET_RAW)",
        ))?;
        // Kernel-side filtering where supported; user-side filtering by ifindex below regardless.
        let _ = setsockopt(&fd, sockopt::BindToDevice, &std::ffi::OsString::from(iface));
        let timeout = nix::sys::time::TimeVal::new(
            i64::try_from(timeout.as_secs()).unwrap_or(i64::MAX),
            i64::from(timeout.subsec_micros()),
        );
        setsockopt(&fd, sockopt::ReceiveTimeout, &timeout)
            .map_err(socket_error("setting the receive timeout"))?;
        let _ = setsockopt(&fd, sockopt::RcvBuf, &(4 << 20));
        Ok(Self {
            iface: iface.to_owned(),
            fd,
            ifindex: ifindex as usize,
            link,
            started: StdInstant::now(),
            channel: 0,
            buffer: vec![0; 65_536],
        })
    }

    /// How this interface frames packets.
    #[must_use]
    pub const fn link_type(&self) -> LinkType {
        self.link
    }

    /// Sets the channel reported in observations when radiotap does not say.
    pub fn set_channel(&mut self, channel: u8) {
        self.channel = channel;
    }

    /// Milliseconds since the capture was opened, as decoder time.
    #[must_use]
    pub fn now(&self) -> Instant {
        Instant::from_millis(u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX))
    }

    /// The next record of this interface, or `None` when the timeout passed without one.
    ///
    /// # Errors
    /// [`CaptureError::Socket`] on a receive error other than a timeout or an interrupt.
    pub fn next_record(&mut self) -> Result<Option<Record>, CaptureError> {
        use nix::sys::socket::{LinkAddr, recvfrom};
        loop {
            let (len, from) = match recvfrom::<LinkAddr>(self.fd.as_raw_fd(), &mut self.buffer) {
                Ok(r) => r,
                Err(nix::errno::Errno::EAGAIN | nix::errno::Errno::EINTR) => return Ok(None),
                Err(source) => {
                    return Err(CaptureError::Socket {
                        iface: self.iface.clone(),
                        action: "receiving",
                        source,
                    });
                }
            };
            let Some(from) = from else { continue };
            if from.ifindex() != self.ifindex {
                continue;
            }
            let direction = if from.pkttype() == PACKET_OUTGOING {
                Direction::ToAp
            } else {
                Direction::FromAp
            };
            let data = self.buffer.get(..len).unwrap_or(&[]);
            let at = Instant::from_millis(
                u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            );
            let wire = u32::try_from(len).unwrap_or(u32::MAX);
            return Ok(Some(record_of(
                self.link,
                data,
                wire,
                at,
                self.channel,
                direction,
            )));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AP: Mac = [0x24, 0x0a, 0xc4, 0x77, 0, 1];
    const PHONE: Mac = [0xa0, 0xcb, 0xfd, 0x77, 0, 2];

    fn data_frame(len: usize) -> Vec<u8> {
        let mut f = vec![0u8; len];
        f[0] = 0x08;
        f[1] = 0x41;
        f[4..10].copy_from_slice(&AP);
        f[10..16].copy_from_slice(&PHONE);
        f[16..22].copy_from_slice(&[0xff; 6]);
        f[22] = 0x50;
        f
    }

    fn radiotap(flags: u8, freq: u16) -> Vec<u8> {
        // present: flags (bit 1) + channel (bit 3); flags at 8, pad, channel at 10..14.
        let mut h = vec![0, 0, 14, 0, 0x0a, 0, 0, 0, flags, 0];
        h.extend_from_slice(&freq.to_le_bytes());
        h.extend_from_slice(&0x00a0u16.to_le_bytes());
        h
    }

    #[test]
    fn radiotap_with_fcs_keeps_the_radio_length_and_channel() {
        let mut packet = radiotap(0x10, 2437);
        packet.extend(data_frame(120));
        packet.extend([0xde, 0xad, 0xbe, 0xef]);
        let wire = packet.len() as u32;
        let Record::Data(o) = record_of(
            LinkType::Radiotap,
            &packet,
            wire,
            Instant::default(),
            0,
            Direction::FromAp,
        ) else {
            panic!("data frame expected");
        };
        assert_eq!(o.len, 124);
        assert_eq!(o.channel, 6);
        assert_eq!(o.source, PHONE);
        assert_eq!(o.direction, Direction::ToAp);
    }

    #[test]
    fn bad_fcs_and_garbage_are_other() {
        let mut packet = radiotap(0x50, 2437);
        packet.extend(data_frame(120));
        assert_eq!(
            record_of(
                LinkType::Radiotap,
                &packet,
                0,
                Instant::default(),
                0,
                Direction::FromAp
            ),
            Record::Other
        );
        for n in 0..packet.len() {
            let _ = record_of(
                LinkType::Radiotap,
                &packet[..n],
                n as u32,
                Instant::default(),
                0,
                Direction::FromAp,
            );
            let _ = record_of(
                LinkType::Ethernet,
                &packet[..n],
                n as u32,
                Instant::default(),
                0,
                Direction::FromAp,
            );
            let _ = record_of(
                LinkType::Ieee80211,
                &packet[..n],
                n as u32,
                Instant::default(),
                0,
                Direction::FromAp,
            );
        }
        // A radiotap header that claims more bytes than there are.
        assert_eq!(
            record_of(
                LinkType::Radiotap,
                &[0, 0, 200, 0, 0, 0, 0, 0],
                8,
                Instant::default(),
                0,
                Direction::FromAp
            ),
            Record::Other
        );
    }

    #[test]
    fn channels_from_frequencies() {
        assert_eq!(channel_of(2412), 1);
        assert_eq!(channel_of(2472), 13);
        assert_eq!(channel_of(2484), 14);
        assert_eq!(channel_of(5180), 36);
        assert_eq!(channel_of(900), 0);
    }

    fn temp(name: &str, bytes: &[u8]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("wifiprov-capture-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(name);
        std::fs::write(&path, bytes).expect("write");
        path
    }

    fn pcap_bytes(link: DataLink, packets: &[Vec<u8>]) -> Vec<u8> {
        use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
        let header = PcapHeader {
            datalink: link,
            ..PcapHeader::default()
        };
        let mut writer = PcapWriter::with_header(Vec::new(), header).expect("writer");
        for (i, p) in packets.iter().enumerate() {
            let packet =
                PcapPacket::new(Duration::from_millis(100 + i as u64 * 8), p.len() as u32, p);
            writer.write_packet(&packet).expect("write packet");
        }
        writer.into_writer()
    }

    #[test]
    fn reads_pcap_files_of_each_link_type_and_every_prefix_without_panicking() {
        let mut radiotap_packet = radiotap(0, 2412);
        radiotap_packet.extend(data_frame(100));
        for (link, packet) in [
            (DataLink::IEEE802_11_RADIOTAP, radiotap_packet),
            (DataLink::IEEE802_11, data_frame(100)),
        ] {
            let bytes = pcap_bytes(link, &[packet.clone(), packet]);
            let path = temp("ok.pcap", &bytes);
            let capture = read_file(&path).expect("readable");
            assert_eq!(capture.observations.len(), 2);
            assert_eq!(capture.observations[0].len, 100);
            assert_eq!(capture.observations[1].at.as_millis(), 8);
            for n in 0..bytes.len() {
                let path = temp("prefix.pcap", &bytes[..n]);
                let _ = read_file(&path);
            }
        }
        let bytes = pcap_bytes(DataLink::PPP, &[]);
        assert!(matches!(
            read_file(&temp("ppp.pcap", &bytes)),
            Err(CaptureError::UnsupportedLinkType(9))
        ));
        assert!(matches!(
            read_file(&temp("junk.pcap", b"definitely not pcap")),
            Err(CaptureError::NotACapture { .. })
        ));
        assert!(matches!(
            read_file(Path::new("/nonexistent/x.pcap")),
            Err(CaptureError::Io { .. })
        ));
    }

    #[test]
    fn reads_pcapng() {
        use pcap_file::pcapng::PcapNgWriter;
        use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
        use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionBlock;
        let mut writer = PcapNgWriter::new(Vec::new()).expect("writer");
        let idb = InterfaceDescriptionBlock {
            linktype: DataLink::IEEE802_11,
            snaplen: 0,
            options: vec![],
        };
        writer.write_pcapng_block(idb).expect("idb");
        let frame = data_frame(90);
        let epb = EnhancedPacketBlock {
            interface_id: 0,
            timestamp: Duration::from_secs(1),
            original_len: 90,
            data: Cow::Borrowed(&frame),
            options: vec![],
        };
        writer.write_pcapng_block(epb).expect("epb");
        let bytes = writer.into_inner();
        let capture = read_file(&temp("ok.pcapng", &bytes)).expect("pcapng");
        assert_eq!(capture.observations.len(), 1);
        assert_eq!(capture.observations[0].len, 90);
        for n in 0..bytes.len() {
            let _ = read_file(&temp("prefix.pcapng", &bytes[..n]));
        }
    }
}
