//! The link layer of one BLE connection (spec §7.3, §7.4): sequence numbers, checksums,
//! encryption, ACKs and fragmentation. [`Device`](crate::Device) and [`Client`](crate::Client)
//! each own one [`Link`]; it is public for tools that speak BluFi frames directly.
//!
//! Receiving a frame ([`Link::handle_frame`]): length check → sequence check (a wrong number
//! drops the frame and leaves the counter) → decrypt if flagged → checksum if flagged → queue an
//! ACK if requested → reassemble. Sending ([`Link::send`]): split the message per [`Sizing`];
//! every frame (each fragment, each ACK) takes the next sequence number; the checksum is
//! computed over the plaintext, then the data field (with the 2-byte fragment total) is
//! encrypted.

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::fmt;

use zeroize::{Zeroize, Zeroizing};

use crate::frame::{ControlSubtype, DataSubtype, Frame, FrameControl, Kind, MAX_DATA_LEN, Repr};
use crate::message::{Protection, SecurityMode};
use crate::security::Cipher;
use crate::{Error, Result};

/// The default bound on a reassembled message (ESP-IDF's long-write buffer is 1024 bytes; the
/// largest standard message, the V2 negotiation blob, is 776).
pub const DEFAULT_MAX_MESSAGE_LEN: usize = 4096;

/// Which end of the connection this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The ESP device (GATT server): sends with [`FrameControl::TO_PHONE`].
    Device,
    /// The phone (GATT client).
    Phone,
}

/// How a sender splits messages into frames.
///
/// A message of `len` bytes goes out as non-final fragments of [`Sizing::content_len`] bytes
/// (each data field = `remaining_total(2, LE) | content`) until at most `content_len +
/// merge_tail` bytes remain; those go out as the final frame (raw content, no total).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sizing {
    fragment_content: usize,
    checksum_room: bool,
    merge_tail: usize,
}

impl Sizing {
    /// The general rule: `fragment_content` content bytes per fragment (less 2 if
    /// `checksum_room` and the frame has a checksum); a final piece of up to `merge_tail` more
    /// bytes is not split off. Values are clamped so that every data field fits in 255 bytes
    /// and carries at least one content byte.
    #[must_use]
    pub const fn new(fragment_content: usize, checksum_room: bool, merge_tail: usize) -> Self {
        let max_content = MAX_DATA_LEN - 2;
        let fragment_content = if fragment_content == 0 {
            1
        } else if fragment_content > max_content {
            max_content
        } else {
            fragment_content
        };
        let max_tail = MAX_DATA_LEN - fragment_content;
        let merge_tail = if merge_tail > max_tail {
            max_tail
        } else {
            merge_tail
        };
        Self {
            fragment_content,
            checksum_room,
            merge_tail,
        }
    }

    /// ESP-IDF's device rule: `frag_size = min(mtu, 255) − 11` content bytes per fragment
    /// (MTU 23 ⇒ 12), whatever the checksum; no tail merging.
    #[must_use]
    pub const fn device(mtu: u16) -> Self {
        let mtu = if mtu > 255 { 255 } else { mtu as usize };
        Self::new(mtu.saturating_sub(11), false, 0)
    }

    /// The Android app's rule: a frame is at most `min(mtu − 4, 255)` bytes (header, 2-byte
    /// total, content, checksum if any), and a final piece of ≤ 2 bytes is merged into the
    /// frame before it.
    #[must_use]
    pub const fn phone(mtu: u16) -> Self {
        let packet = (mtu as usize).saturating_sub(4);
        Self::phone_packet(if packet > 255 { 255 } else { packet })
    }

    /// The Android app's rule before any MTU exchange: frames of at most 20 bytes.
    #[must_use]
    pub const fn phone_default() -> Self {
        Self::phone_packet(20)
    }

    const fn phone_packet(packet: usize) -> Self {
        Self::new(packet.saturating_sub(6), true, 2)
    }

    /// Content bytes of a non-final fragment.
    #[must_use]
    pub const fn content_len(&self, checksum: bool) -> usize {
        if checksum && self.checksum_room && self.fragment_content > 2 {
            self.fragment_content - 2
        } else {
            self.fragment_content
        }
    }

    /// A final piece may be this much longer than a fragment's content.
    #[must_use]
    pub const fn merge_tail(&self) -> usize {
        self.merge_tail
    }

    /// The pieces of a `len`-byte message: `(offset, length, is_fragment)` in order. An empty
    /// message is one empty final piece.
    pub fn pieces(&self, len: usize, checksum: bool) -> impl Iterator<Item = (usize, usize, bool)> {
        let content = self.content_len(checksum);
        let merge = self.merge_tail;
        let mut offset = 0;
        let mut done = false;
        core::iter::from_fn(move || {
            if done {
                return None;
            }
            let remaining = len - offset;
            if remaining <= content + merge {
                done = true;
                Some((offset, remaining, false))
            } else {
                let piece = (offset, content, true);
                offset += content;
                Some(piece)
            }
        })
    }
}

impl Default for Sizing {
    /// [`Sizing::device`] at the default ATT MTU of 23.
    fn default() -> Self {
        Self::device(23)
    }
}

/// A reassembled message. Its content may be a password (STA_PASSWD, SOFTAP_PASSWD, an
/// enterprise credential): `Debug` shows its length only.
#[derive(Clone, PartialEq, Eq)]
pub struct Message {
    /// Frame type and subtype.
    pub kind: Kind,
    /// The content, fragment totals removed, decrypted.
    pub data: Vec<u8>,
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("kind", &self.kind)
            .field("data", &crate::Redacted(self.data.len()))
            .finish()
    }
}

/// A message half received: zeroized when dropped unfinished.
#[derive(Clone)]
struct Partial {
    kind: Kind,
    total: usize,
    data: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for Partial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Partial")
            .field("kind", &self.kind)
            .field("total", &self.total)
            .field("data", &crate::Redacted(self.data.len()))
            .finish()
    }
}

/// Puts fragments back together (spec §7.4), with bounded memory.
///
/// The first fragment announces the total; each later fragment must announce exactly what is
/// still missing, every fragment must leave something for the final piece, and the final piece
/// must complete the total. Any violation discards the partial message.
#[derive(Debug, Clone)]
pub struct Reassembler {
    max_len: usize,
    partial: Option<Partial>,
}

impl Reassembler {
    /// A reassembler that rejects messages longer than `max_len` bytes.
    #[must_use]
    pub const fn new(max_len: usize) -> Self {
        Self {
            max_len,
            partial: None,
        }
    }

    /// Whether no message is half received.
    #[must_use]
    pub const fn is_idle(&self) -> bool {
        self.partial.is_none()
    }

    /// Drops a half-received message.
    pub fn reset(&mut self) {
        self.partial = None;
    }

    /// Feeds one frame's (plaintext) data field; `Some` when a message is complete.
    ///
    /// # Errors
    /// [`Error::InvalidMessage`] for a fragment without its total, totals that disagree, a
    /// message longer than the limit or one of another type than the fragments before it.
    pub fn push(&mut self, kind: Kind, fragment: bool, data: &[u8]) -> Result<Option<Message>> {
        let result = self.push_inner(kind, fragment, data);
        if result.is_err() {
            self.partial = None;
        }
        result
    }

    fn push_inner(&mut self, kind: Kind, fragment: bool, data: &[u8]) -> Result<Option<Message>> {
        if !fragment {
            let Some(partial) = self.partial.take() else {
                if data.len() > self.max_len {
                    return Err(Error::InvalidMessage("message longer than the limit"));
                }
                return Ok(Some(Message {
                    kind,
                    data: data.to_vec(),
                }));
            };
            if partial.kind != kind {
                return Err(Error::InvalidMessage("final piece of another type"));
            }
            if partial.data.len() + data.len() != partial.total {
                return Err(Error::InvalidMessage(
                    "final piece does not complete the total",
                ));
            }
            let mut partial = partial;
            // The buffer moves into the message (its capacity is the total: no reallocation).
            let mut message = core::mem::take(&mut *partial.data);
            message.extend_from_slice(data);
            return Ok(Some(Message {
                kind,
                data: message,
            }));
        }
        let [low, high, ref content @ ..] = *data else {
            return Err(Error::InvalidMessage("fragment without its total"));
        };
        let remaining = usize::from(u16::from_le_bytes([low, high]));
        if content.len() >= remaining {
            return Err(Error::InvalidMessage("fragment leaves nothing to follow"));
        }
        match &mut self.partial {
            None => {
                if remaining > self.max_len {
                    return Err(Error::InvalidMessage("message longer than the limit"));
                }
                let mut buffer = Zeroizing::new(Vec::with_capacity(remaining));
                buffer.extend_from_slice(content);
                self.partial = Some(Partial {
                    kind,
                    total: remaining,
                    data: buffer,
                });
            }
            Some(partial) => {
                if partial.kind != kind {
                    return Err(Error::InvalidMessage("fragment of another type"));
                }
                if partial.total - partial.data.len() != remaining {
                    return Err(Error::InvalidMessage("fragment total disagrees"));
                }
                partial.data.extend_from_slice(content);
            }
        }
        Ok(None)
    }
}

/// The link state of one connection. Output frames queue up until [`Link::poll_transmit`].
///
/// Queued frames (plaintext unless the mode encrypts them) are zeroized on reset and on drop,
/// and `Debug` shows how many there are only.
pub struct Link {
    role: Role,
    sizing: Sizing,
    mode: SecurityMode,
    send_sequence: u8,
    receive_sequence: u8,
    reassembler: Reassembler,
    cipher: Option<Cipher>,
    outbox: VecDeque<Vec<u8>>,
}

impl fmt::Debug for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Link")
            .field("role", &self.role)
            .field("sizing", &self.sizing)
            .field("mode", &self.mode)
            .field("send_sequence", &self.send_sequence)
            .field("receive_sequence", &self.receive_sequence)
            .field("reassembler", &self.reassembler)
            .field("cipher", &self.cipher)
            .field("queued_frames", &self.outbox.len())
            .finish()
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.outbox.iter_mut().for_each(Zeroize::zeroize);
    }
}

impl Link {
    /// A fresh link: both counters 0, plaintext, no key.
    #[must_use]
    pub const fn new(role: Role, sizing: Sizing, max_message_len: usize) -> Self {
        Self {
            role,
            sizing,
            mode: SecurityMode::PLAINTEXT,
            send_sequence: 0,
            receive_sequence: 0,
            reassembler: Reassembler::new(max_message_len),
            cipher: None,
            outbox: VecDeque::new(),
        }
    }

    /// Back to the state of a new connection: counters 0, plaintext, key and queued frames
    /// dropped.
    pub fn reset(&mut self) {
        self.mode = SecurityMode::PLAINTEXT;
        self.send_sequence = 0;
        self.receive_sequence = 0;
        self.reassembler.reset();
        self.cipher = None;
        self.outbox.iter_mut().for_each(Zeroize::zeroize);
        self.outbox.clear();
    }

    /// This end's role.
    #[must_use]
    pub const fn role(&self) -> Role {
        self.role
    }

    /// The splitting rule.
    #[must_use]
    pub const fn sizing(&self) -> Sizing {
        self.sizing
    }

    /// Changes the splitting rule (e.g. after an MTU exchange).
    pub fn set_sizing(&mut self, sizing: Sizing) {
        self.sizing = sizing;
    }

    /// The security mode this end sends with.
    #[must_use]
    pub const fn security_mode(&self) -> SecurityMode {
        self.mode
    }

    /// Sets the security mode this end sends with.
    pub fn set_security_mode(&mut self, mode: SecurityMode) {
        self.mode = mode;
    }

    /// Installs (or drops) the key.
    pub fn set_cipher(&mut self, cipher: Option<Cipher>) {
        self.cipher = cipher;
    }

    /// Whether a key is installed.
    #[must_use]
    pub const fn has_cipher(&self) -> bool {
        self.cipher.is_some()
    }

    /// The sequence number the next sent frame gets.
    #[must_use]
    pub const fn send_sequence(&self) -> u8 {
        self.send_sequence
    }

    /// The sequence number the next received frame must have.
    #[must_use]
    pub const fn receive_sequence(&self) -> u8 {
        self.receive_sequence
    }

    /// The next frame to transmit, oldest first.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.outbox.pop_front()
    }

    /// How a frame of this kind is protected under the current mode (spec §7.5): NEG and
    /// (from the device) ERROR_INFO never; control frames per the high nibble, but never
    /// encrypted by the device; other data frames per the low nibble.
    #[must_use]
    pub fn protection(&self, kind: Kind) -> Protection {
        match kind {
            Kind::Data(DataSubtype::Negotiation) => Protection::NONE,
            Kind::Data(DataSubtype::ErrorInfo) if self.role == Role::Device => Protection::NONE,
            Kind::Data(_) => self.mode.data(),
            Kind::Control(_) => Protection {
                checksum: self.mode.control().checksum,
                encrypt: self.mode.control().encrypt && self.role == Role::Phone,
            },
        }
    }

    /// Sends a message protected per [`Link::protection`].
    ///
    /// # Errors
    /// As [`Link::send_with`].
    pub fn send(&mut self, kind: Kind, payload: &[u8], ack_requested: bool) -> Result<()> {
        let protection = self.protection(kind);
        self.send_with(kind, payload, protection, ack_requested)
    }

    /// Sends a message with explicit protection, fragmented per [`Sizing`]. Every frame gets
    /// `ack_requested`. Nothing is queued if it fails.
    ///
    /// # Errors
    /// [`Error::Crypto`] if encryption is asked for but no key is installed;
    /// [`Error::ApiMisuse`] if the message is longer than 65535 bytes or the subtype does not
    /// fit in 6 bits.
    pub fn send_with(
        &mut self,
        kind: Kind,
        payload: &[u8],
        protection: Protection,
        ack_requested: bool,
    ) -> Result<()> {
        if payload.len() > usize::from(u16::MAX) {
            return Err(Error::ApiMisuse("message longer than 65535 bytes"));
        }
        kind.type_byte()?;
        if protection.encrypt && self.cipher.is_none() {
            return Err(Error::Crypto("encryption required but no key established"));
        }
        let mut base = FrameControl::EMPTY
            .with(FrameControl::ENCRYPTED, protection.encrypt)
            .with(FrameControl::CHECKSUM, protection.checksum)
            .with(FrameControl::ACK_REQUESTED, ack_requested);
        if self.role == Role::Device {
            base.insert(FrameControl::TO_PHONE);
        }
        let mut frames = Vec::new();
        // Plaintext pieces: zeroized when done (the frames are encrypted in place).
        let mut data = Zeroizing::new(Vec::with_capacity(MAX_DATA_LEN));
        for (offset, len, fragment) in self.sizing.pieces(payload.len(), protection.checksum) {
            data.clear();
            let content = payload
                .get(offset..offset + len)
                .ok_or(Error::ApiMisuse("piece outside the message"))?;
            if fragment {
                let remaining = u16::try_from(payload.len() - offset)
                    .map_err(|_| Error::ApiMisuse("message longer than 65535 bytes"))?;
                data.extend_from_slice(&remaining.to_le_bytes());
            }
            data.extend_from_slice(content);
            let sequence = self.send_sequence.wrapping_add(frames.len() as u8);
            let repr = Repr {
                kind,
                control: base.with(FrameControl::FRAGMENT, fragment),
                sequence,
                data: &data,
            };
            let mut frame = Frame::new_unchecked(repr.to_vec()?);
            if protection.encrypt {
                if let Some(cipher) = self.cipher.as_mut() {
                    cipher.encrypt(sequence, frame.data_mut());
                }
            }
            frames.push(frame.into_inner());
        }
        self.send_sequence = self.send_sequence.wrapping_add(frames.len() as u8);
        self.outbox.extend(frames);
        Ok(())
    }

    /// Handles one received frame (one GATT write or notification). Returns a message when one
    /// is complete; ACK frames come back as `Kind::Control(Ack)` messages without disturbing a
    /// reassembly in progress.
    ///
    /// # Errors
    /// [`Error::InvalidMessage`] for a malformed frame or fragment sequence,
    /// [`Error::Sequence`] (frame dropped, counter unchanged), [`Error::Crypto`] for an
    /// encrypted frame without a key, [`Error::Checksum`].
    pub fn handle_frame(&mut self, bytes: &[u8]) -> Result<Option<Message>> {
        let frame = Frame::new_checked(bytes)?;
        let kind = frame
            .kind()
            .ok_or(Error::InvalidMessage("reserved frame type"))?;
        let sequence = frame.sequence();
        if sequence != self.receive_sequence {
            return Err(Error::Sequence {
                expected: self.receive_sequence,
                got: sequence,
            });
        }
        self.receive_sequence = self.receive_sequence.wrapping_add(1);
        let control = frame.control();
        // The decrypted frame: zeroized when done.
        let mut buffer = Zeroizing::new(bytes.to_vec());
        if control.contains(FrameControl::ENCRYPTED) {
            let cipher = self
                .cipher
                .as_mut()
                .ok_or(Error::Crypto("encrypted frame but no key established"))?;
            cipher.decrypt(sequence, Frame::new_unchecked(&mut buffer[..]).data_mut());
        }
        let frame = Frame::new_unchecked(&buffer[..]);
        let repr = Repr::parse(&frame)?;
        if control.contains(FrameControl::ACK_REQUESTED) {
            self.send(Kind::Control(ControlSubtype::Ack), &[sequence], false)?;
        }
        if kind == Kind::Control(ControlSubtype::Ack) && !control.contains(FrameControl::FRAGMENT) {
            return Ok(Some(Message {
                kind,
                data: repr.data.to_vec(),
            }));
        }
        self.reassembler
            .push(kind, control.contains(FrameControl::FRAGMENT), repr.data)
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::panic)] // tests may index and panic
mod tests;
