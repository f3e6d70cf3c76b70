//! Entry points for the fuzz targets (`fuzz/`): the command line's own parsers, reachable without
//! running a command. Not a stable API.
#![doc(hidden)]

/// The device's TOML configuration file; `Err` is the message a user would see.
///
/// # Errors
/// If the text is not a valid configuration.
pub fn parse_config(text: &str) -> Result<(), String> {
    crate::device::parse_config(text).map(drop)
}

/// A provisioning QR payload applied to empty security options, for `transport` (`softap`, `ble`).
///
/// # Errors
/// If the payload is not JSON.
pub fn parse_qr(payload: &str, transport: &str) -> Result<(), String> {
    let mut security = crate::args::SecurityArgs::default();
    crate::softap::apply_qr(payload, &mut security, transport)
        .map(drop)
        .map_err(|e| format!("{e:#}"))
}

/// An observations document (`wifiprov decode --observations`), converted to observations.
///
/// # Errors
/// If the document or one of its records is malformed.
pub fn parse_observations(text: &str) -> Result<usize, String> {
    crate::observations::parse(text)
        .map(|o| o.len())
        .map_err(|e| format!("{e:#}"))
}

/// Hex as the command line reads it (`--ssid-hex`, `header_hex`, …).
///
/// # Errors
/// If the text is not hex.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    crate::output::parse_hex(text).map_err(|e| format!("{e:#}"))
}
