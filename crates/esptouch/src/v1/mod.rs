//! ESP-TOUCH v1 (`SC_TYPE_ESPTOUCH`).
//!
//! Data layout (index: content): 0 total length T = 9 + |password| + |ssid|; 1 |password|;
//! 2 CRC-8(ssid); 3 CRC-8(bssid); 4 XOR of indices 0..T; 5..9 phone IPv4; then the password,
//! the SSID, and the 6 BSSID bytes at T..T+6. Each byte becomes a DataCode: three 9-bit symbols
//! (CRC high nibble | value high nibble, 0x100 | index, CRC low nibble | value low nibble), sent
//! as UDP payload lengths symbol + 40. The guide code 515, 514, 513, 512 precedes the data.

mod ack;
mod decoder;
mod encoder;

pub use ack::{ACK_LEN, ACK_PORT, Ack, AckError};
pub use decoder::{
    Credentials, Decoder, DecoderConfig, IndexState, KnownNetwork, MAX_KNOWN_NETWORKS, MAX_STREAMS,
    StreamInfo,
};
pub use encoder::{Config, ConfigError, Encoder, GUIDE, MAX_PASSWORD_LEN, MAX_SSID_LEN, triplet};

/// Added to every 9-bit symbol to make a UDP payload length ("to prevent 0").
pub const EXTRA_LEN: u16 = 40;
/// Bytes before the password: T, |password|, CRC(ssid), CRC(bssid), XOR, IPv4.
pub const HEADER_LEN: usize = 9;
/// The highest index a DataCode can carry.
pub const MAX_INDEX: usize = 127;
/// UDP port the phone sends to (the device never receives it; it sniffs).
pub const SEND_PORT: u16 = 7001;
