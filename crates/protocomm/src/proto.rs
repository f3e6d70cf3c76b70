//! The protobuf messages (prost, generated from `crates/protocomm/proto/*.proto` by
//! `cargo run -p xtask --features protos -- protos`; the generated files are committed and
//! checked for staleness in CI).
//!
//! The one message holding a secret, [`wifi_provisioning::CmdSetConfig`] (the Wi-Fi
//! passphrase), has its `Debug` written here (the generator is told to skip it: prost's would
//! print the passphrase) and zeroizes the passphrase on drop.

/// `protocomm`: status codes, the `prov-session` envelope and the security 0/1/2 payloads.
#[rustfmt::skip]
#[allow(missing_docs, clippy::all, clippy::pedantic, unreachable_pub)]
pub mod protocomm;

/// `wifi_provisioning`: `prov-config`, `prov-scan`, `prov-ctrl` and their constants.
#[rustfmt::skip]
#[allow(missing_docs, clippy::all, clippy::pedantic, unreachable_pub)]
pub mod wifi_provisioning;

/// The passphrase appears as its length.
impl core::fmt::Debug for wifi_provisioning::CmdSetConfig {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CmdSetConfig")
            .field("ssid", &alloc::string::String::from_utf8_lossy(&self.ssid))
            .field("passphrase_len", &self.passphrase.len())
            .field("bssid", &self.bssid)
            .field("channel", &self.channel)
            .finish()
    }
}

/// Every decoded or built SetConfig (the device's request, the client's encoder) wipes its
/// passphrase when dropped.
impl Drop for wifi_provisioning::CmdSetConfig {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.passphrase);
    }
}

impl zeroize::ZeroizeOnDrop for wifi_provisioning::CmdSetConfig {}
