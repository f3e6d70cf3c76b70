/// Why a BluFi step failed, classified by whose fault it is.
///
/// A device that fails to handle a write has already queued the matching `ERROR_INFO` report
/// (see [`crate::device::Device::handle_write`]); the connection stays usable unless the error
/// came from the negotiation, which drops the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes do not parse: a length field disagrees, a message is truncated or too long.
    #[error("invalid message: {0}")]
    InvalidMessage(&'static str),
    /// The message parses but is wrong here: out of order, a bad public key, an unexpected
    /// fragment.
    #[error("peer misbehaved: {0}")]
    PeerMisbehaved(&'static str),
    /// A frame carried another sequence number than the receiver's counter; it was dropped.
    #[error("sequence number {got}, expected {expected}")]
    Sequence {
        /// The receiver's counter.
        expected: u8,
        /// The frame's sequence number.
        got: u8,
    },
    /// A frame's CRC-16 does not match its (decrypted) content; it was dropped.
    #[error("checksum mismatch")]
    Checksum,
    /// A key could not be derived, or a frame is encrypted but no key is established.
    #[error("crypto failure: {0}")]
    Crypto(&'static str),
    /// The caller used the API wrongly (e.g. encryption requested before negotiation).
    #[error("API misuse: {0}")]
    ApiMisuse(&'static str),
    /// A frame type or parameter this implementation does not handle.
    #[error("unsupported: {0}")]
    Unsupported(&'static str),
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = core::result::Result<T, E>;
