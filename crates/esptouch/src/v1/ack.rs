//! The device's acknowledgement: 11 bytes to the phone's UDP port 18266.

use wifiprov_sniff::Mac;

/// UDP port the phone listens on for acks.
pub const ACK_PORT: u16 = 18266;
/// Length of a v1 ack.
pub const ACK_LEN: usize = 11;

/// An ESP-TOUCH v1 ack: `token | station MAC | device IPv4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ack {
    /// The total-length byte T (index 0 of the data): 9 + |ssid| + |password|.
    pub token: u8,
    /// The device's station MAC.
    pub mac: Mac,
    /// The device's IPv4 address on the provisioned network.
    pub ip: [u8; 4],
}

/// Why bytes are not a v1 ack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum AckError {
    /// Not exactly 11 bytes (the phone ignores other lengths).
    #[error("an ESP-TOUCH v1 ack is 11 bytes, got {0}")]
    InvalidLength(usize),
    /// The token does not match the expected total length.
    #[error("ack token {got} does not match the expected {expected}")]
    TokenMismatch {
        /// Expected T.
        expected: u8,
        /// Received token.
        got: u8,
    },
}

impl Ack {
    /// Parses an ack; any 11-byte datagram is structurally valid.
    ///
    /// # Errors
    /// [`AckError::InvalidLength`].
    pub fn parse(bytes: &[u8]) -> Result<Self, AckError> {
        let bytes: &[u8; ACK_LEN] = bytes
            .try_into()
            .map_err(|_| AckError::InvalidLength(bytes.len()))?;
        let [token, m0, m1, m2, m3, m4, m5, i0, i1, i2, i3] = *bytes;
        Ok(Self {
            token,
            mac: [m0, m1, m2, m3, m4, m5],
            ip: [i0, i1, i2, i3],
        })
    }

    /// Parses an ack and checks its token, as the phone does.
    ///
    /// # Errors
    /// [`AckError::InvalidLength`] or [`AckError::TokenMismatch`].
    pub fn parse_expecting(bytes: &[u8], expected: u8) -> Result<Self, AckError> {
        let ack = Self::parse(bytes)?;
        if ack.token == expected {
            Ok(ack)
        } else {
            Err(AckError::TokenMismatch {
                expected,
                got: ack.token,
            })
        }
    }

    /// The 11 bytes on the wire.
    #[must_use]
    pub fn emit(&self) -> [u8; ACK_LEN] {
        let mut out = [0u8; ACK_LEN];
        out[0] = self.token;
        out[1..7].copy_from_slice(&self.mac);
        out[7..].copy_from_slice(&self.ip);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_bytes() {
        let wire = [23, 0x24, 0x0a, 0xc4, 1, 2, 3, 192, 168, 77, 9];
        let ack = Ack::parse(&wire).expect("11 bytes");
        assert_eq!(ack.token, 23);
        assert_eq!(ack.mac, [0x24, 0x0a, 0xc4, 1, 2, 3]);
        assert_eq!(ack.ip, [192, 168, 77, 9]);
        assert_eq!(ack.emit(), wire);
    }

    #[test]
    fn rejects_other_lengths_and_tokens() {
        let wire = [23u8; 12];
        for n in 0..12 {
            if n != ACK_LEN {
                assert_eq!(Ack::parse(&wire[..n]), Err(AckError::InvalidLength(n)));
            }
        }
        assert_eq!(
            Ack::parse_expecting(&wire[..11], 24),
            Err(AckError::TokenMismatch {
                expected: 24,
                got: 23
            })
        );
    }
}
