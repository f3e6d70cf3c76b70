//! The body layout (spec §2.3): which segments follow the header, in which group width. Shared by
//! the encoder (to build the groups) and the decoder (to read them back from the header alone).

use super::header::Header;

/// Random bytes sent for security 2; the first 16 are the CBC IV.
pub(crate) const IV_SENT: usize = 20;
/// Bytes of one group carried as data in a 7-bit group.
pub(crate) const NARROW_WIDTH: usize = 6;
/// Bytes of one group carried as data in an 8-bit group (the sixth is their CRC-8).
pub(crate) const WIDE_WIDTH: usize = 5;
/// Most ciphertext bytes: 64 + 64 plaintext bytes pad to 144.
pub(crate) const MAX_CIPHERTEXT_LEN: usize = ciphertext_len(128);

/// AES-128-CBC/PKCS#7 output length for `plain` bytes: always at least one byte of padding.
pub(crate) const fn ciphertext_len(plain: usize) -> usize {
    16 * (plain / 16 + 1)
}

/// What a segment carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    /// Plaintext password and reserved data, concatenated (both pure ASCII).
    Secrets,
    /// Plaintext password.
    Password,
    /// Plaintext reserved data.
    Reserved,
    /// AES-128-CBC ciphertext of password ‖ reserved data.
    Ciphertext,
    /// The 20 random bytes of security 2.
    Iv,
    /// The SSID.
    Ssid,
}

/// One body segment: `len` data bytes in groups of width 6 (7-bit) or 5 (8-bit), padded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Segment {
    pub(crate) part: Part,
    pub(crate) len: usize,
    /// 8-bit groups (width 5 + CRC-8) rather than 7-bit groups (width 6 + 6-bit CRC).
    pub(crate) wide: bool,
}

impl Segment {
    pub(crate) const fn width(&self) -> usize {
        if self.wide { WIDE_WIDTH } else { NARROW_WIDTH }
    }

    pub(crate) const fn groups(&self) -> usize {
        self.len.div_ceil(self.width())
    }
}

/// The body segments in sending order (empty segments omitted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    segments: [Option<Segment>; 4],
}

impl Layout {
    /// The layout a header implies.
    pub(crate) fn of(header: &Header) -> Self {
        let (p, r) = (
            usize::from(header.password_len),
            usize::from(header.reserved_len),
        );
        let mut segments = [None; 4];
        let mut parts = segments.iter_mut();
        let mut push = |part: Part, len: usize, wide: bool| {
            if len > 0 {
                if let Some(slot) = parts.next() {
                    *slot = Some(Segment { part, len, wide });
                }
            }
        };
        if header.is_encrypted() {
            push(Part::Ciphertext, ciphertext_len(p + r), true);
            if header.security == 2 {
                push(Part::Iv, IV_SENT, true);
            }
        } else if !header.password_encoded && !header.reserved_encoded {
            push(Part::Secrets, p + r, false);
        } else {
            push(Part::Password, p, header.password_encoded);
            push(Part::Reserved, r, header.reserved_encoded);
        }
        push(
            Part::Ssid,
            usize::from(header.ssid_len),
            header.ssid_encoded,
        );
        Self { segments }
    }

    pub(crate) fn segments(&self) -> impl Iterator<Item = Segment> + '_ {
        self.segments.iter().flatten().copied()
    }

    /// Body groups (N − 1).
    pub(crate) fn body_groups(&self) -> usize {
        self.segments().map(|s| s.groups()).sum()
    }

    /// Whether body group `j` is an 8-bit group; `None` past the end.
    pub(crate) fn is_wide(&self, j: usize) -> Option<bool> {
        let mut first = 0;
        for s in self.segments() {
            if j < first + s.groups() {
                return Some(s.wide);
            }
            first += s.groups();
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::super::header::IpVersion;
    use super::*;

    fn header(p: u8, pe: bool, r: u8, re: bool, s: u8, se: bool, security: u8) -> Header {
        Header {
            ssid_len: s,
            ssid_encoded: se,
            password_len: p,
            password_encoded: pe,
            reserved_len: r,
            reserved_encoded: re,
            bssid_crc: 0,
            ip_version: IpVersion::V4,
            security,
            port_mark: 0,
        }
    }

    #[test]
    fn group_counts_of_the_vectors() {
        // testap-plain: 8-byte password (2 narrow groups), 6-byte SSID.
        assert_eq!(
            Layout::of(&header(8, false, 0, false, 6, false, 0)).body_groups(),
            3
        );
        // reserved-data: 21 + 9 in one narrow segment, 7-byte SSID.
        assert_eq!(
            Layout::of(&header(21, false, 9, false, 7, false, 0)).body_groups(),
            7
        );
        // utf8-plain-8bit: wide password 5, narrow reserved 6, wide SSID 10.
        let l = Layout::of(&header(5, true, 6, false, 10, true, 0));
        assert_eq!(l.body_groups(), 4);
        let widths: [Option<bool>; 5] = core::array::from_fn(|j| l.is_wide(j));
        assert_eq!(
            widths,
            [Some(true), Some(false), Some(true), Some(true), None]
        );
        // aes-security2: 13 plaintext → 16 ciphertext (4 groups), IV 4 groups, SSID 8 wide (2).
        assert_eq!(
            Layout::of(&header(10, true, 3, false, 8, true, 2)).body_groups(),
            10
        );
        // The maximum: 41 groups including the header.
        assert_eq!(
            Layout::of(&header(64, true, 64, true, 32, true, 2)).body_groups(),
            40
        );
        assert_eq!(
            Layout::of(&header(64, true, 64, true, 32, true, 0)).body_groups(),
            33
        );
    }
}
