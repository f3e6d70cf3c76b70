//! Shared parsing and formatting helpers.

use anyhow::{Context as _, Result, bail};
use serde_json::{Value, json};
use wifiprov_sniff::Mac;
use zeroize::Zeroizing;

use crate::args::Credentials;
pub(crate) use wifiprov_transport::device::{format_mac, hex as to_hex};

/// Parses hex digits (whitespace and `:` allowed between bytes).
pub(crate) fn parse_hex(text: &str) -> Result<Vec<u8>> {
    let digits: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .collect();
    if digits.len() % 2 != 0 {
        bail!("hex string has an odd number of digits: {text:?}");
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| {
            let pair = digits.get(i..i + 2).unwrap_or_default();
            u8::from_str_radix(pair, 16).with_context(|| format!("not hex: {pair:?} in {text:?}"))
        })
        .collect()
}

/// Parses `aa:bb:cc:dd:ee:ff` (also `-` separated or plain 12 hex digits).
pub(crate) fn parse_mac(text: &str) -> Result<Mac> {
    let bytes = parse_hex(&text.replace('-', ":"))
        .with_context(|| format!("invalid MAC address {text:?}"))?;
    <[u8; 6]>::try_from(bytes.as_slice())
        .map_err(|_| anyhow::anyhow!("invalid MAC address {text:?}: expected 6 bytes"))
}

/// SSID and password bytes from text or hex arguments.
pub(crate) fn credential_bytes(c: &Credentials) -> Result<(Vec<u8>, Zeroizing<Vec<u8>>)> {
    let ssid = match (&c.ssid, &c.ssid_hex) {
        (Some(text), None) => text.as_bytes().to_vec(),
        (None, Some(hex)) => parse_hex(hex).context("--ssid-hex")?,
        _ => bail!("give exactly one of --ssid and --ssid-hex"),
    };
    let password = match (&c.password, &c.password_hex) {
        (Some(text), None) => text.to_bytes(),
        (None, Some(hex)) => Zeroizing::new(parse_hex(hex).context("--password-hex")?),
        (None, None) => Zeroizing::new(Vec::new()),
        _ => bail!("give at most one of --password and --password-hex"),
    };
    Ok((ssid, password))
}

/// Text if the bytes are printable UTF-8, else JSON null (hex is always given beside it).
pub(crate) fn text_or_null(bytes: &[u8]) -> Value {
    match std::str::from_utf8(bytes) {
        Ok(s) if !s.chars().any(char::is_control) => json!(s),
        _ => Value::Null,
    }
}

/// Bytes for humans: the text if printable, else `hex:...`.
pub(crate) fn display_bytes(bytes: &[u8]) -> String {
    match text_or_null(bytes) {
        Value::String(s) => s,
        _ => format!("hex:{}", to_hex(bytes)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hex_and_macs() {
        assert_eq!(parse_hex("00ff10").expect("hex"), vec![0, 255, 16]);
        assert!(parse_hex("0").is_err());
        assert!(parse_hex("zz").is_err());
        assert_eq!(
            parse_mac("24:0a:c4:77:00:01").expect("mac"),
            [0x24, 0x0a, 0xc4, 0x77, 0, 1]
        );
        assert!(parse_mac("24:0a:c4:77:00").is_err());
        assert_eq!(
            format_mac(&[0x24, 0x0a, 0xc4, 0x77, 0, 1]),
            "24:0a:c4:77:00:01"
        );
    }

    #[test]
    fn non_text_bytes_become_null() {
        assert_eq!(text_or_null(b"Caf\xc3\xa9"), json!("Café"));
        assert_eq!(text_or_null(b"\xff\x00"), Value::Null);
        assert_eq!(display_bytes(b"\x01"), "hex:01");
    }
}
