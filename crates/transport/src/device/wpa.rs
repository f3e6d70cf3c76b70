//! Joining a network through wpa_supplicant's control socket, then DHCP.
//!
//! If no wpa_supplicant controls the interface, one is started (`-C ctrl_dir`, no config file)
//! and terminated again when joining fails, so the interface can go back to monitor mode.

use std::net::Ipv4Addr;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

pub use super::JoinError;
use super::hex;

/// Options of [`join`].
#[derive(Debug, Clone)]
pub struct JoinOptions {
    /// wpa_supplicant's control directory (its socket is `ctrl_dir/IFACE`).
    pub ctrl_dir: PathBuf,
    /// Where this process binds its own control client sockets.
    pub local_dir: PathBuf,
    /// Time allowed for association.
    pub connect_timeout: Duration,
    /// Time allowed for DHCP.
    pub dhcp_timeout: Duration,
    /// DHCP client command (`{iface}` is replaced); `None` = only wait for an address.
    pub dhcp_command: Option<String>,
    /// Scan only this 2.4 GHz channel (where the phone was heard), if known: a full scan of
    /// every band takes seconds.
    pub channel: Option<u8>,
}

/// A joined network.
#[derive(Debug)]
pub struct Joined {
    /// The device's IPv4 address.
    pub ip: Ipv4Addr,
    /// The DHCP client, if it keeps running.
    pub dhcp: Option<Child>,
}

struct Control {
    socket: UnixDatagram,
    local: PathBuf,
}

impl Control {
    fn connect(target: &Path, local_dir: &Path, tag: &str) -> Result<Self, JoinError> {
        let local = local_dir.join(format!("wifiprov-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_file(&local);
        let socket = UnixDatagram::bind(&local)
            .map_err(|e| JoinError::Supplicant(format!("binding {}: {e}", local.display())))?;
        socket.connect(target).map_err(|e| {
            JoinError::Supplicant(format!("connecting to {}: {e}", target.display()))
        })?;
        let _ = socket.set_read_timeout(Some(Duration::from_millis(200)));
        Ok(Self { socket, local })
    }

    fn request(&self, command: &str) -> Result<String, JoinError> {
        self.socket
            .send(command.as_bytes())
            .map_err(|e| JoinError::Supplicant(format!("sending {}: {e}", first_word(command))))?;
        let mut buf = vec![0u8; 4096];
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            match self.socket.recv(&mut buf) {
                // Unsolicited events start with "<level>"; requests answer without it.
                Ok(n) if buf.first() != Some(&b'<') => {
                    return Ok(String::from_utf8_lossy(buf.get(..n).unwrap_or(&[]))
                        .trim_end()
                        .to_owned());
                }
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => {
                    return Err(JoinError::Supplicant(format!(
                        "{}: {e}",
                        first_word(command)
                    )));
                }
            }
        }
        Err(JoinError::Supplicant(format!(
            "no answer to {}",
            first_word(command)
        )))
    }

    fn ok(&self, command: &str) -> Result<(), JoinError> {
        let answer = self.request(command)?;
        if answer == "OK" {
            Ok(())
        } else {
            Err(JoinError::Supplicant(format!(
                "{} answered {answer}",
                first_word(command)
            )))
        }
    }

    fn event(&self) -> Option<String> {
        let mut buf = [0u8; 4096];
        let n = self.socket.recv(&mut buf).ok()?;
        Some(String::from_utf8_lossy(buf.get(..n).unwrap_or(&[])).into_owned())
    }
}

impl Drop for Control {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.local);
    }
}

/// Never put secrets in error messages: name only the command.
fn first_word(command: &str) -> String {
    command
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The 32-byte WPA PSK for a passphrase (PBKDF2-HMAC-SHA1, 4096 rounds, salt = SSID), or the
/// PSK itself when the password is 64 hex digits; zeroized on drop.
///
/// # Errors
/// [`JoinError::InvalidPassword`] for other lengths.
pub fn wpa_psk(ssid: &[u8], password: &[u8]) -> Result<Zeroizing<[u8; 32]>, JoinError> {
    let mut psk = Zeroizing::new([0u8; 32]);
    if password.len() == 64 && password.iter().all(u8::is_ascii_hexdigit) {
        for (i, byte) in psk.iter_mut().enumerate() {
            let pair = std::str::from_utf8(password.get(2 * i..2 * i + 2).unwrap_or(b"00"))
                .unwrap_or("00");
            *byte = u8::from_str_radix(pair, 16).unwrap_or(0);
        }
        return Ok(psk);
    }
    if !(8..=63).contains(&password.len()) {
        return Err(JoinError::InvalidPassword(password.len()));
    }
    pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, ssid, 4096, &mut psk[..]);
    Ok(psk)
}

/// A wpa_supplicant this process started.
#[derive(Debug)]
pub struct Supplicant {
    child: Option<Child>,
    socket: PathBuf,
}

impl Supplicant {
    /// Connects to the running wpa_supplicant of `iface`, or starts one.
    ///
    /// # Errors
    /// [`JoinError::Supplicant`] if it cannot be started or does not come up.
    pub fn ensure(iface: &str, ctrl_dir: &Path, log_dir: &Path) -> Result<Self, JoinError> {
        let socket = ctrl_dir.join(iface);
        if socket.exists() {
            // A live supplicant answers; a socket file left by a killed one does not.
            let probe = std::os::unix::net::UnixDatagram::unbound()
                .and_then(|s| s.connect(&socket).map(|()| s));
            if probe.is_ok() {
                return Ok(Self {
                    child: None,
                    socket,
                });
            }
            let _ = std::fs::remove_file(&socket);
        }
        let child = Command::new("wpa_supplicant")
            .args(["-i", iface, "-D", "nl80211", "-t", "-C"])
            .arg(ctrl_dir)
            .arg("-f")
            .arg(log_dir.join(format!("wpa_supplicant-{iface}.log")))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| JoinError::Supplicant(format!("cannot start wpa_supplicant: {e}")))?;
        let deadline = Instant::now() + Duration::from_secs(5);
        while !socket.exists() {
            if Instant::now() >= deadline {
                return Err(JoinError::Supplicant(format!(
                    "started, but {} did not appear",
                    socket.display()
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(Self {
            child: Some(child),
            socket,
        })
    }

    /// Stops a wpa_supplicant this process started (others are only disconnected).
    pub fn release(mut self, local_dir: &Path) {
        if let Ok(control) = Control::connect(&self.socket, local_dir, "release") {
            let _ = control.request("REMOVE_NETWORK all");
            if self.child.is_some() {
                let _ = control.request("TERMINATE");
            } else {
                let _ = control.request("DISCONNECT");
            }
        }
        if let Some(mut child) = self.child.take() {
            // TERMINATE, then SIGTERM (both let it deinitialise the interface), SIGKILL last.
            let exited = |child: &mut Child, seconds: u64| {
                let deadline = Instant::now() + Duration::from_secs(seconds);
                while Instant::now() < deadline {
                    if let Ok(Some(_)) = child.try_wait() {
                        return true;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                false
            };
            if exited(&mut child, 3) {
                return;
            }
            if let Ok(pid) = i32::try_from(child.id()) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGTERM,
                );
            }
            if !exited(&mut child, 3) {
                log::warn!("wpa_supplicant did not stop; killing it");
                let _ = child.kill();
                let _ = child.wait();
                let _ = std::fs::remove_file(&self.socket);
            }
        }
    }
}

/// Configures and selects the network, waits for association, then for an IPv4 address.
///
/// # Errors
/// A [`JoinError`] saying why (wrong password, not found, timeout, no address, supplicant).
pub fn join(
    iface: &str,
    supplicant: &Supplicant,
    ssid: &[u8],
    password: &[u8],
    options: &JoinOptions,
) -> Result<Joined, JoinError> {
    let control = Control::connect(&supplicant.socket, &options.local_dir, "ctl")?;
    let events = Control::connect(&supplicant.socket, &options.local_dir, "ev")?;
    events.ok("ATTACH")?;
    control.ok("REMOVE_NETWORK all")?;
    let id = control.request("ADD_NETWORK")?;
    if id.parse::<u32>().is_err() {
        return Err(JoinError::Supplicant(format!("ADD_NETWORK answered {id}")));
    }
    control.ok(&format!("SET_NETWORK {id} ssid {}", hex(ssid)))?;
    control.ok(&format!("SET_NETWORK {id} scan_ssid 1"))?;
    if let Some(channel) = options.channel.filter(|c| (1..=14).contains(c)) {
        let mhz = if channel == 14 {
            2484
        } else {
            2407 + 5 * u32::from(channel)
        };
        control.ok(&format!("SET_NETWORK {id} scan_freq {mhz}"))?;
    }
    if password.is_empty() {
        control.ok(&format!("SET_NETWORK {id} key_mgmt NONE"))?;
    } else {
        let psk = wpa_psk(ssid, password)?;
        control.ok(&format!("SET_NETWORK {id} key_mgmt WPA-PSK"))?;
        let psk_hex = Zeroizing::new(hex(&psk[..]));
        control.ok(&Zeroizing::new(format!(
            "SET_NETWORK {id} psk {}",
            *psk_hex
        )))?;
    }
    control.ok(&format!("SELECT_NETWORK {id}"))?;
    let started = Instant::now();
    let mut not_found = 0;
    loop {
        if started.elapsed() >= options.connect_timeout {
            return Err(if not_found > 0 {
                JoinError::NetworkNotFound
            } else {
                JoinError::Timeout(options.connect_timeout.as_secs())
            });
        }
        let Some(event) = events.event() else {
            if control
                .request("STATUS")
                .is_ok_and(|s| s.lines().any(|l| l == "wpa_state=COMPLETED"))
            {
                break;
            }
            continue;
        };
        if event.contains("CTRL-EVENT-CONNECTED") {
            break;
        }
        if event.contains("reason=WRONG_KEY")
            || event.contains("4-Way Handshake failed")
            || event.contains("pre-shared key may be incorrect")
        {
            return Err(JoinError::WrongPassword);
        }
        if event.contains("CTRL-EVENT-NETWORK-NOT-FOUND") {
            not_found += 1;
        }
    }
    wait_for_address(iface, options)
}

fn wait_for_address(iface: &str, options: &JoinOptions) -> Result<Joined, JoinError> {
    let mut dhcp = options.dhcp_command.as_ref().and_then(|command| {
        let command = command.replace("{iface}", iface);
        use std::os::unix::process::CommandExt as _;
        Command::new("sh")
            .args(["-c", &command])
            // Its own process group, so a failed attempt can stop the client and its children.
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| log::warn!("cannot start the DHCP client: {e}"))
            .ok()
    });
    let deadline = Instant::now() + options.dhcp_timeout;
    while Instant::now() < deadline {
        if let Ok(ip) = crate::udp::interface_ipv4(iface) {
            return Ok(Joined { ip, dhcp });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    if let Some(child) = dhcp.as_mut() {
        if let Ok(pid) = i32::try_from(child.id()) {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    Err(JoinError::NoAddress(options.dhcp_timeout.as_secs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psk_matches_the_ieee_802_11i_test_vector() {
        // IEEE 802.11i-2004 H.4.1: "password" / "IEEE".
        let psk = wpa_psk(b"IEEE", b"password").expect("valid");
        assert_eq!(
            hex(&psk[..]),
            "f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e"
        );
        let raw = wpa_psk(b"x", psk_hex().as_bytes()).expect("hex PSK");
        assert_eq!(hex(&raw[..]), psk_hex());
        assert_eq!(wpa_psk(b"x", b"short"), Err(JoinError::InvalidPassword(5)));
    }

    fn psk_hex() -> String {
        "f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e".to_owned()
    }

    #[test]
    fn error_text_names_commands_not_secrets() {
        assert_eq!(first_word("SET_NETWORK 0 psk deadbeef"), "SET_NETWORK 0");
    }
}
