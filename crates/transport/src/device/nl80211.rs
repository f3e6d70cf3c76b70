//! Channel changes over nl80211 (generic netlink) without running `iw`.
//!
//! A hopping sniffer retunes ten times a second. Starting `iw` for each retune costs a fork, an
//! exec and libnl's start-up: a few milliseconds on a board, more than the 100-ms dwell under an
//! emulator, which stretched a hop cycle past the 2-s ESP-TOUCH v1 guide phase (so whole guide
//! phases went unheard). One netlink socket, kept open, sends the same request `iw dev IFACE set
//! channel N` sends: `NL80211_CMD_SET_WIPHY` with the interface index and the frequency, and waits
//! for the kernel's acknowledgement.
//!
//! The message layout (`<linux/netlink.h>`, `<linux/genetlink.h>`, `<linux/nl80211.h>`) is built
//! and parsed here in safe code; a reply that does not parse is an error, never a panic.

use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::socket::{
    AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType, bind, recv, sendto,
    setsockopt, socket, sockopt,
};
use nix::sys::time::TimeVal;

/// `NLMSG_ERROR`: an error or (error 0) an acknowledgement.
const NLMSG_ERROR: u16 = 2;
/// `NLMSG_DONE`: the end of a multipart reply.
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_ACK: u16 = 4;
/// `GENL_ID_CTRL`: the generic netlink controller, which names families' ids.
const GENL_ID_CTRL: u16 = 0x10;
const CTRL_CMD_GETFAMILY: u8 = 3;
const CTRL_ATTR_FAMILY_ID: u16 = 1;
const CTRL_ATTR_FAMILY_NAME: u16 = 2;
const NL80211_CMD_SET_WIPHY: u8 = 2;
const NL80211_ATTR_IFINDEX: u16 = 3;
const NL80211_ATTR_WIPHY_FREQ: u16 = 38;
/// Header bytes: `nlmsghdr` (16) and `genlmsghdr` (4).
const NLMSG_HDR: usize = 16;
const GENL_HDR: usize = 4;
/// How long the kernel may take to answer one request.
const REPLY_TIMEOUT: Duration = Duration::from_secs(2);

/// Why a netlink request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetlinkError {
    /// A socket call failed (or the kernel answered with this errno).
    #[error("{action}: {errno}")]
    Os {
        /// What was being done.
        action: &'static str,
        /// The error.
        errno: Errno,
    },
    /// No answer within the reply timeout.
    #[error("no reply from the kernel within {0:?}")]
    NoReply(Duration),
    /// The reply did not parse.
    #[error("malformed netlink reply: {0}")]
    Malformed(&'static str),
    /// The kernel has no nl80211 family (no cfg80211).
    #[error("the kernel has no nl80211 family")]
    NoFamily,
}

/// The centre frequency in MHz of a 2.4 GHz (1–14) or 5 GHz channel number.
#[must_use]
pub const fn frequency(channel: u8) -> u32 {
    match channel {
        14 => 2484,
        1..=13 => 2407 + 5 * channel as u32,
        _ => 5000 + 5 * channel as u32,
    }
}

/// Appends one attribute (header, payload, padding to 4 bytes).
fn put_attr(message: &mut Vec<u8>, kind: u16, payload: &[u8]) {
    let len = u16::try_from(4 + payload.len()).unwrap_or(u16::MAX);
    message.extend_from_slice(&len.to_ne_bytes());
    message.extend_from_slice(&kind.to_ne_bytes());
    message.extend_from_slice(payload);
    message.resize(message.len().next_multiple_of(4), 0);
}

/// A generic netlink request: headers, then `attrs` (kind, payload) in order.
#[must_use]
pub fn request(
    family: u16,
    flags: u16,
    seq: u32,
    cmd: u8,
    version: u8,
    attrs: &[(u16, &[u8])],
) -> Vec<u8> {
    let mut message = vec![0; NLMSG_HDR];
    message.extend_from_slice(&[cmd, version, 0, 0]);
    for (kind, payload) in attrs {
        put_attr(&mut message, *kind, payload);
    }
    let len = u32::try_from(message.len()).unwrap_or(u32::MAX);
    message[0..4].copy_from_slice(&len.to_ne_bytes());
    message[4..6].copy_from_slice(&family.to_ne_bytes());
    message[6..8].copy_from_slice(&(flags | NLM_F_REQUEST).to_ne_bytes());
    message[8..12].copy_from_slice(&seq.to_ne_bytes());
    // nlmsg_pid 0: the kernel fills in the sender.
    message
}

/// The `NL80211_CMD_SET_WIPHY` request that tunes interface `ifindex` to `freq` MHz.
#[must_use]
pub fn set_channel_request(family: u16, seq: u32, ifindex: u32, freq: u32) -> Vec<u8> {
    request(
        family,
        NLM_F_ACK,
        seq,
        NL80211_CMD_SET_WIPHY,
        0,
        &[
            (NL80211_ATTR_IFINDEX, &ifindex.to_ne_bytes()),
            (NL80211_ATTR_WIPHY_FREQ, &freq.to_ne_bytes()),
        ],
    )
}

/// One message of a reply datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    /// `nlmsg_type`.
    pub kind: u16,
    /// `nlmsg_seq`.
    pub seq: u32,
    /// What follows the `nlmsghdr`.
    pub payload: &'a [u8],
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// The messages of one received datagram.
///
/// # Errors
/// [`NetlinkError::Malformed`] if a header's length runs past the datagram or is shorter than a
/// header.
pub fn messages(datagram: &[u8]) -> Result<Vec<Message<'_>>, NetlinkError> {
    let mut out = Vec::new();
    let mut rest = datagram;
    while !rest.is_empty() {
        let len = u32_at(rest, 0).ok_or(NetlinkError::Malformed("cut-off message header"))?;
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        if len < NLMSG_HDR || len > rest.len() {
            return Err(NetlinkError::Malformed("message length out of bounds"));
        }
        out.push(Message {
            kind: u16_at(rest, 4).unwrap_or(0),
            seq: u32_at(rest, 8).unwrap_or(0),
            payload: &rest[NLMSG_HDR..len],
        });
        rest = rest.get(len.next_multiple_of(4)..).unwrap_or(&[]);
    }
    Ok(out)
}

/// The errno of an `NLMSG_ERROR` payload: `None` for an acknowledgement (0).
///
/// # Errors
/// [`NetlinkError::Malformed`] if the payload is shorter than the error code.
pub fn error_code(payload: &[u8]) -> Result<Option<Errno>, NetlinkError> {
    let code = u32_at(payload, 0).ok_or(NetlinkError::Malformed("cut-off error message"))?;
    // The code is a negative errno, as a C int.
    let code = i32::from_ne_bytes(code.to_ne_bytes());
    Ok((code != 0).then(|| Errno::from_raw(code.saturating_neg())))
}

/// The attribute `kind` of a generic netlink payload (after the `genlmsghdr`).
///
/// # Errors
/// [`NetlinkError::Malformed`] if an attribute's length is out of bounds.
pub fn attribute(payload: &[u8], kind: u16) -> Result<Option<&[u8]>, NetlinkError> {
    let mut rest = payload
        .get(GENL_HDR..)
        .ok_or(NetlinkError::Malformed("cut-off genetlink header"))?;
    while rest.len() >= 4 {
        let len = usize::from(u16_at(rest, 0).unwrap_or(0));
        if len < 4 || len > rest.len() {
            return Err(NetlinkError::Malformed("attribute length out of bounds"));
        }
        // The top two bits of the type are flags (nested, byte order).
        if u16_at(rest, 2).unwrap_or(0) & 0x3fff == kind {
            return Ok(Some(&rest[4..len]));
        }
        rest = rest.get(len.next_multiple_of(4)..).unwrap_or(&[]);
    }
    Ok(None)
}

/// An open generic netlink socket that knows the nl80211 family.
#[derive(Debug)]
pub struct Nl80211 {
    fd: OwnedFd,
    family: u16,
    seq: u32,
    buffer: Vec<u8>,
}

impl Nl80211 {
    /// Opens the socket and asks the kernel for nl80211's family id.
    ///
    /// # Errors
    /// [`NetlinkError`]: a socket call failed, the kernel has no nl80211, or it did not answer.
    pub fn open() -> Result<Self, NetlinkError> {
        let os = |action| move |errno| NetlinkError::Os { action, errno };
        let fd = socket(
            AddressFamily::Netlink,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::NetlinkGeneric,
        )
        .map_err(os("opening a generic netlink socket"))?;
        bind(fd.as_raw_fd(), &NetlinkAddr::new(0, 0)).map_err(os("binding the netlink socket"))?;
        let timeout = TimeVal::new(
            i64::try_from(REPLY_TIMEOUT.as_secs()).unwrap_or(i64::MAX),
            0,
        );
        setsockopt(&fd, sockopt::ReceiveTimeout, &timeout)
            .map_err(os("setting the netlink receive timeout"))?;
        let mut this = Self {
            fd,
            family: 0,
            seq: 0,
            buffer: vec![0; 16 * 1024],
        };
        let seq = this.next_seq();
        let ask = request(
            GENL_ID_CTRL,
            0,
            seq,
            CTRL_CMD_GETFAMILY,
            1,
            &[(CTRL_ATTR_FAMILY_NAME, b"nl80211\0")],
        );
        this.family = this
            .exchange(&ask, seq, |message| {
                if message.kind == NLMSG_ERROR {
                    return Ok(None);
                }
                let id = attribute(message.payload, CTRL_ATTR_FAMILY_ID)?
                    .and_then(|id| u16_at(id, 0))
                    .ok_or(NetlinkError::Malformed("family reply without an id"))?;
                Ok(Some(id))
            })
            .map_err(|e| match e {
                NetlinkError::Os {
                    errno: Errno::ENOENT,
                    ..
                } => NetlinkError::NoFamily,
                other => other,
            })?;
        Ok(this)
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    /// Sends `message` and reads replies to `seq` until `answer` returns a value or the kernel
    /// reports an error; an acknowledgement gives `answer`'s value for an empty message.
    fn exchange<T>(
        &mut self,
        message: &[u8],
        seq: u32,
        mut answer: impl FnMut(&Message<'_>) -> Result<Option<T>, NetlinkError>,
    ) -> Result<T, NetlinkError> {
        let kernel = NetlinkAddr::new(0, 0);
        sendto(self.fd.as_raw_fd(), message, &kernel, MsgFlags::empty()).map_err(|errno| {
            NetlinkError::Os {
                action: "sending a netlink request",
                errno,
            }
        })?;
        let deadline = std::time::Instant::now() + REPLY_TIMEOUT;
        loop {
            let len = match recv(self.fd.as_raw_fd(), &mut self.buffer, MsgFlags::empty()) {
                Ok(len) => len,
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => return Err(NetlinkError::NoReply(REPLY_TIMEOUT)),
                Err(errno) => {
                    return Err(NetlinkError::Os {
                        action: "receiving a netlink reply",
                        errno,
                    });
                }
            };
            let datagram = self.buffer.get(..len).unwrap_or(&[]);
            for reply in messages(datagram)?.iter().filter(|m| m.seq == seq) {
                match reply.kind {
                    NLMSG_ERROR => {
                        if let Some(errno) = error_code(reply.payload)? {
                            return Err(NetlinkError::Os {
                                action: "the kernel refused the request",
                                errno,
                            });
                        }
                        let ack = Message {
                            kind: NLMSG_ERROR,
                            seq,
                            payload: &[],
                        };
                        if let Some(value) = answer(&ack)? {
                            return Ok(value);
                        }
                    }
                    NLMSG_DONE => {}
                    _ => {
                        if let Some(value) = answer(reply)? {
                            return Ok(value);
                        }
                    }
                }
            }
            if std::time::Instant::now() >= deadline {
                return Err(NetlinkError::NoReply(REPLY_TIMEOUT));
            }
        }
    }

    /// Tunes interface `ifindex` to `channel` and waits for the kernel's acknowledgement.
    ///
    /// # Errors
    /// [`NetlinkError::Os`] with the kernel's errno (e.g. `EBUSY`, `EINVAL` for a channel the
    /// radio does not have), or no reply.
    pub fn set_channel(&mut self, ifindex: u32, channel: u8) -> Result<(), NetlinkError> {
        let seq = self.next_seq();
        let message = set_channel_request(self.family, seq, ifindex, frequency(channel));
        self.exchange(&message, seq, |reply| {
            Ok((reply.kind == NLMSG_ERROR).then_some(()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_map_to_centre_frequencies() {
        assert_eq!(
            [1, 6, 13, 14, 36, 149].map(frequency),
            [2412, 2437, 2472, 2484, 5180, 5745]
        );
    }

    #[test]
    fn the_set_channel_request_has_iws_layout() {
        let m = set_channel_request(0x22, 7, 5, 2437);
        let mut expected = Vec::new();
        expected.extend_from_slice(&36u32.to_ne_bytes()); // 16 + 4 + 8 + 8
        expected.extend_from_slice(&0x22u16.to_ne_bytes());
        expected.extend_from_slice(&5u16.to_ne_bytes()); // REQUEST | ACK
        expected.extend_from_slice(&7u32.to_ne_bytes());
        expected.extend_from_slice(&0u32.to_ne_bytes());
        expected.extend_from_slice(&[2, 0, 0, 0]); // SET_WIPHY, version 0
        expected.extend_from_slice(&8u16.to_ne_bytes());
        expected.extend_from_slice(&3u16.to_ne_bytes()); // IFINDEX
        expected.extend_from_slice(&5u32.to_ne_bytes());
        expected.extend_from_slice(&8u16.to_ne_bytes());
        expected.extend_from_slice(&38u16.to_ne_bytes()); // WIPHY_FREQ
        expected.extend_from_slice(&2437u32.to_ne_bytes());
        assert_eq!(m, expected);
    }

    #[test]
    fn attributes_are_padded_to_four_bytes() {
        let m = request(
            GENL_ID_CTRL,
            0,
            1,
            CTRL_CMD_GETFAMILY,
            1,
            &[(2, b"nl80211\0"), (9, b"x")],
        );
        // 20 header bytes, 4 + 8, then 4 + 1 padded to 8.
        assert_eq!(m.len(), 20 + 12 + 8);
        let parsed = messages(&m).unwrap();
        assert_eq!(parsed.len(), 1);
        assert_eq!(
            attribute(parsed[0].payload, 2).unwrap(),
            Some(&b"nl80211\0"[..])
        );
        assert_eq!(attribute(parsed[0].payload, 9).unwrap(), Some(&b"x"[..]));
        assert_eq!(attribute(parsed[0].payload, 1).unwrap(), None);
    }

    #[test]
    fn errors_and_acks_are_told_apart() {
        assert_eq!(error_code(&0i32.to_ne_bytes()).unwrap(), None);
        assert_eq!(
            error_code(&(-16i32).to_ne_bytes()).unwrap(),
            Some(Errno::EBUSY)
        );
        assert!(error_code(&[0, 0]).is_err());
    }

    #[test]
    fn malformed_replies_are_errors_not_panics() {
        let good = request(0x22, 0, 3, 1, 0, &[(1, &[1, 2, 3, 4])]);
        for cut in 0..good.len() {
            let datagram = &good[..cut];
            if let Ok(parsed) = messages(datagram) {
                for m in parsed {
                    let _ = attribute(m.payload, 1);
                    let _ = error_code(m.payload);
                }
            }
        }
        // A length that points past the datagram, one shorter than a header, a zero-length
        // attribute.
        let mut long = good.clone();
        long[0..4].copy_from_slice(&1000u32.to_ne_bytes());
        assert!(messages(&long).is_err());
        let mut short = good.clone();
        short[0..4].copy_from_slice(&8u32.to_ne_bytes());
        assert!(messages(&short).is_err());
        let mut zero = good;
        zero[20..22].copy_from_slice(&0u16.to_ne_bytes());
        let parsed = messages(&zero).unwrap();
        assert!(attribute(parsed[0].payload, 1).is_err());
    }
}
