/// Why a protocomm step failed. On the device side every error means "no response, close the
/// connection" (as ESP-IDF does); on the client side the session is unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes do not parse (protobuf, length, missing field).
    #[error("invalid message: {0}")]
    InvalidMessage(&'static str),
    /// The message parses but is wrong: another scheme, out of order, a bad proof or status.
    #[error("peer misbehaved: {0}")]
    PeerMisbehaved(&'static str),
    /// The caller used the session wrongly (e.g. encrypting before the handshake).
    #[error("API misuse: {0}")]
    ApiMisuse(&'static str),
    /// The client's handshake proof does not verify: a wrong security 1 proof of possession or
    /// a wrong security 2 username/password. Counted by the device's [`crate::throttle`].
    #[error("wrong proof: {0}")]
    WrongProof(&'static str),
    /// Too many wrong proofs: the device refuses handshakes for `retry_after_ms` more
    /// milliseconds ([`crate::throttle`]).
    #[error("too many wrong proofs: the device refuses handshakes for {retry_after_ms} ms more")]
    Throttled {
        /// Milliseconds until the next attempt is allowed.
        retry_after_ms: u64,
    },
    /// Decryption or authentication failed.
    #[error("crypto failure: {0}")]
    Crypto(&'static str),
}

impl From<prost::DecodeError> for Error {
    fn from(_: prost::DecodeError) -> Self {
        Self::InvalidMessage("protobuf does not decode")
    }
}
