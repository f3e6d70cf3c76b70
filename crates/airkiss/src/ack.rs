//! The device's acknowledgement: after joining, it broadcasts the random byte to UDP 10000,
//! repeatedly (classic form: 1 byte; ESP-IDF's form: the random byte and the station MAC, 7 bytes).
//! The provisioner accepts a datagram whose first byte is its random byte and whose length is 1 or 7.

use wifiprov_sniff::Mac;

/// UDP port the device sends its ack to (and the provisioner listens on).
pub const ACK_PORT: u16 = 10_000;
/// UDP port the phone sends its datagrams to (ESP-IDF's device listens here to learn the
/// phone's address).
pub const SEND_PORT: u16 = 10_001;
/// How many ack datagrams a device sends (WeChat's senders wait for at least 20).
pub const ACK_ROUNDS: u32 = 30;

/// An ack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ack {
    /// The random byte from the decoded data.
    pub random: u8,
    /// The device's MAC, in the 7-byte form.
    pub mac: Option<Mac>,
}

impl Ack {
    /// Bytes on the wire: 1, or 7 with the MAC.
    #[must_use]
    pub fn emit(&self) -> ([u8; 7], usize) {
        let mut out = [0u8; 7];
        out[0] = self.random;
        match self.mac {
            Some(mac) => {
                out[1..].copy_from_slice(&mac);
                (out, 7)
            }
            None => (out, 1),
        }
    }

    /// Parses a received datagram; `None` unless it is 1 or 7 bytes long.
    #[must_use]
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        match bytes {
            [random] => Some(Self {
                random: *random,
                mac: None,
            }),
            [random, mac @ ..] if mac.len() == 6 => {
                let mut m = [0u8; 6];
                m.copy_from_slice(mac);
                Some(Self {
                    random: *random,
                    mac: Some(m),
                })
            }
            _ => None,
        }
    }

    /// True if this ack answers the provisioning that used `random`.
    #[must_use]
    pub fn answers(&self, random: u8) -> bool {
        self.random == random
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_both_forms() {
        for ack in [
            Ack {
                random: 0x55,
                mac: None,
            },
            Ack {
                random: 0x09,
                mac: Some([1, 2, 3, 4, 5, 6]),
            },
        ] {
            let (bytes, len) = ack.emit();
            assert_eq!(Ack::parse(&bytes[..len]), Some(ack));
        }
        assert_eq!(Ack::parse(b""), None);
        assert_eq!(Ack::parse(b"ab"), None);
        assert_eq!(Ack::parse(&[0; 8]), None);
        assert!(Ack::parse(&[7]).unwrap().answers(7));
    }
}
