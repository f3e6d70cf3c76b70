//! The device's response: 7 bytes `port mark | station MAC`, broadcast to UDP
//! [`ack_port`]`(port mark)`, 30 times every 100 ms once the device has an IP address.

use wifiprov_sniff::Mac;

use super::APP_PORTS;

/// Length of a v2 device response (the phone accepts longer datagrams and reads bytes 0..7).
pub const ACK_LEN: usize = 7;

/// The UDP port the phone listens on for port mark `mark`: 18266 + 10000·mark; a mark above 3
/// is treated as 0, as the device does.
#[must_use]
pub const fn ack_port(mark: u8) -> u16 {
    let mark = if mark > 3 { 0 } else { mark };
    18266 + 10000 * mark as u16
}

/// The port mark of one of [`APP_PORTS`], `None` for any other port.
#[must_use]
pub fn port_mark_of(port: u16) -> Option<u8> {
    APP_PORTS.iter().position(|&p| p == port).map(|i| i as u8)
}

/// An ESP-TOUCH v2 device response: `port mark | station MAC`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ack {
    /// The port mark the device decoded from the header (echoed as the token).
    pub port_mark: u8,
    /// The device's station MAC.
    pub mac: Mac,
}

/// Why bytes are not a v2 device response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum AckError {
    /// Fewer than 7 bytes.
    #[error("an ESP-TOUCH v2 response has at least 7 bytes, got {0}")]
    Truncated(usize),
}

impl Ack {
    /// A response from its parts.
    #[must_use]
    pub const fn new(port_mark: u8, mac: Mac) -> Self {
        Self { port_mark, mac }
    }

    /// Parses a response as the phone does: at least 7 bytes, the MAC from bytes 1..7, anything
    /// after ignored. The device IP comes from the datagram's source address, not the payload.
    ///
    /// # Errors
    /// [`AckError::Truncated`].
    pub fn parse(bytes: &[u8]) -> Result<Self, AckError> {
        let Some(&[port_mark, m0, m1, m2, m3, m4, m5]) = bytes.first_chunk::<ACK_LEN>() else {
            return Err(AckError::Truncated(bytes.len()));
        };
        Ok(Self {
            port_mark,
            mac: [m0, m1, m2, m3, m4, m5],
        })
    }

    /// The number of bytes [`emit`](Self::emit) writes.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        ACK_LEN
    }

    /// The 7 bytes on the wire.
    #[must_use]
    pub fn emit(&self) -> [u8; ACK_LEN] {
        let [m0, m1, m2, m3, m4, m5] = self.mac;
        [self.port_mark, m0, m1, m2, m3, m4, m5]
    }

    /// The UDP port to send this response to.
    #[must_use]
    pub const fn port(&self) -> u16 {
        ack_port(self.port_mark)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_bytes() {
        let wire = [2, 0x24, 0x0a, 0xc4, 1, 2, 3];
        let ack = Ack::parse(&wire).expect("7 bytes");
        assert_eq!(ack, Ack::new(2, [0x24, 0x0a, 0xc4, 1, 2, 3]));
        assert_eq!(ack.emit(), wire);
        assert_eq!(ack.buffer_len(), 7);
        assert_eq!(ack.port(), 38266);
    }

    #[test]
    fn rejects_every_truncation_and_ignores_trailing_bytes() {
        let wire = [1u8, 2, 3, 4, 5, 6, 7, 8, 9];
        for n in 0..ACK_LEN {
            assert_eq!(Ack::parse(&wire[..n]), Err(AckError::Truncated(n)));
        }
        assert_eq!(Ack::parse(&wire), Ok(Ack::new(1, [2, 3, 4, 5, 6, 7])));
    }

    #[test]
    fn ports_follow_the_mark() {
        assert_eq!(
            [0, 1, 2, 3, 4, 255].map(ack_port),
            [18266, 28266, 38266, 48266, 18266, 18266]
        );
        for (mark, &port) in APP_PORTS.iter().enumerate() {
            assert_eq!(port_mark_of(port), Some(mark as u8));
            assert_eq!(ack_port(mark as u8), port);
        }
        assert_eq!(port_mark_of(7001), None);
    }
}
