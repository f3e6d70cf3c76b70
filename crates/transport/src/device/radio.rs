//! Radio control through `ip` and `iw` (nl80211): monitor/managed mode and channel; a
//! [`Tuner`] retunes over a kept-open nl80211 socket instead, for hopping.

use std::process::Command;

/// A radio command failed.
#[derive(Debug, thiserror::Error)]
#[error("{command}: {detail}")]
pub struct RadioError {
    /// The command line.
    pub command: String,
    /// Its stderr, or why it could not run.
    pub detail: String,
}

fn run(program: &str, args: &[&str]) -> Result<(), RadioError> {
    let command = format!("{program} {}", args.join(" "));
    let output = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| RadioError {
            command: command.clone(),
            detail: format!("cannot run: {e}"),
        })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(RadioError {
            command,
            detail: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        })
    }
}

/// True if `iface` is an 802.11 interface (has a wiphy).
#[must_use]
pub fn is_wireless(iface: &str) -> bool {
    std::path::Path::new(&format!("/sys/class/net/{iface}/phy80211")).exists()
}

/// Puts `iface` in monitor mode and brings it up.
///
/// # Errors
/// The failing command and its message.
pub fn set_monitor(iface: &str) -> Result<(), RadioError> {
    run("ip", &["link", "set", iface, "down"])?;
    run("iw", &["dev", iface, "set", "type", "monitor"])?;
    run("ip", &["link", "set", iface, "up"])
}

/// Returns `iface` to managed (station) mode and brings it up.
///
/// # Errors
/// The failing command and its message.
pub fn set_managed(iface: &str) -> Result<(), RadioError> {
    run("ip", &["link", "set", iface, "down"])?;
    run("iw", &["dev", iface, "set", "type", "managed"])?;
    run("ip", &["link", "set", iface, "up"])
}

/// Tunes a monitor interface.
///
/// # Errors
/// The failing command and its message.
pub fn set_channel(iface: &str, channel: u8) -> Result<(), RadioError> {
    run(
        "iw",
        &["dev", iface, "set", "channel", &channel.to_string()],
    )
}

/// Retunes one interface, many times: over nl80211 ([`super::nl80211`]) when the kernel has it,
/// else with `iw` like [`set_channel`].
#[derive(Debug)]
pub struct Tuner {
    iface: String,
    netlink: Option<(super::nl80211::Nl80211, u32)>,
}

impl Tuner {
    /// A tuner for `iface`. Falls back to `iw` if the interface index or the nl80211 family
    /// cannot be found.
    #[must_use]
    pub fn new(iface: &str) -> Self {
        let ifindex = std::fs::read_to_string(format!("/sys/class/net/{iface}/ifindex"))
            .ok()
            .and_then(|text| text.trim().parse::<u32>().ok());
        let netlink = ifindex.and_then(|ifindex| {
            super::nl80211::Nl80211::open()
                .ok()
                .map(|netlink| (netlink, ifindex))
        });
        Self {
            iface: iface.to_owned(),
            netlink,
        }
    }

    /// True if channel changes go over nl80211 (not `iw`).
    #[must_use]
    pub const fn uses_netlink(&self) -> bool {
        self.netlink.is_some()
    }

    /// Tunes the interface to `channel`.
    ///
    /// # Errors
    /// The request (or command) and the kernel's answer.
    pub fn set_channel(&mut self, channel: u8) -> Result<(), RadioError> {
        match self.netlink.as_mut() {
            Some((netlink, ifindex)) => {
                netlink
                    .set_channel(*ifindex, channel)
                    .map_err(|e| RadioError {
                        command: format!(
                            "nl80211 set channel {channel} ({} MHz) on {}",
                            super::nl80211::frequency(channel),
                            self.iface
                        ),
                        detail: e.to_string(),
                    })
            }
            None => set_channel(&self.iface, channel),
        }
    }
}

/// The interface's MAC address.
#[must_use]
pub fn mac_address(iface: &str) -> Option<[u8; 6]> {
    let text = std::fs::read_to_string(format!("/sys/class/net/{iface}/address")).ok()?;
    let mut mac = [0u8; 6];
    let mut parts = text.trim().split(':');
    for byte in &mut mac {
        *byte = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    Some(mac)
}
