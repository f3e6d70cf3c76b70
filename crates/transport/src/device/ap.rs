//! The device's own access point for SoftAP provisioning: hostapd (open or WPA2-PSK with the
//! service key) and dnsmasq (DHCP; for the captive portal also wildcard DNS and RFC 8910's
//! DHCP option 114), on an address like ESP-IDF's 192.168.4.1/24.
//!
//! Both daemons are children of this process and are stopped (and the address removed) when the
//! [`AccessPoint`] is dropped.

use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::hex;

/// How to raise the AP.
#[derive(Clone)]
pub struct ApConfig {
    /// The interface (AP mode).
    pub iface: String,
    /// SSID (the service name, e.g. `PROV_01B1E8`).
    pub ssid: Vec<u8>,
    /// WPA2-PSK service key (8..=63 bytes); `None` = open, as ESP-IDF without a service key.
    pub passphrase: Option<Vec<u8>>,
    /// 2.4 GHz channel.
    pub channel: u8,
    /// The device's address (ESP-IDF: 192.168.4.1); the subnet is its /24.
    pub address: Ipv4Addr,
    /// Serve wildcard DNS (every name → `address`) and DHCP option 114 with this captive-portal
    /// API URI (RFC 8910).
    pub captive_api: Option<String>,
    /// Where configurations, control sockets and logs go.
    pub run_dir: PathBuf,
}

impl std::fmt::Debug for ApConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApConfig")
            .field("iface", &self.iface)
            .field("ssid", &String::from_utf8_lossy(&self.ssid))
            .field("secured", &self.passphrase.is_some())
            .field("channel", &self.channel)
            .field("address", &self.address)
            .field("captive_api", &self.captive_api)
            .finish()
    }
}

/// Why the AP could not be raised or changed.
#[derive(Debug, thiserror::Error)]
#[error("access point on {iface}: {what}")]
pub struct ApError {
    /// The interface.
    pub iface: String,
    /// What failed.
    pub what: String,
}

/// A running AP.
#[derive(Debug)]
pub struct AccessPoint {
    config: ApConfig,
    hostapd: Child,
    dnsmasq: Option<Child>,
}

/// MHz of a 2.4 GHz channel.
#[must_use]
pub fn channel_mhz(channel: u8) -> u32 {
    if channel == 14 {
        2484
    } else {
        2407 + 5 * u32::from(channel)
    }
}

fn run(iface: &str, program: &str, args: &[&str]) -> Result<String, ApError> {
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| ApError {
            iface: iface.to_owned(),
            what: format!("cannot run {program}: {e}"),
        })?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(ApError {
            iface: iface.to_owned(),
            what: format!(
                "{program} {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        })
    }
}

impl AccessPoint {
    /// Writes the configurations, starts hostapd and waits until the AP is enabled, then puts
    /// the address on the interface and starts dnsmasq.
    ///
    /// # Errors
    /// An [`ApError`] if a daemon is missing, fails or the AP does not come up within 20 s.
    pub fn start(config: &ApConfig) -> Result<Self, ApError> {
        let iface = config.iface.as_str();
        let err = |what: String| ApError {
            iface: iface.to_owned(),
            what,
        };
        std::fs::create_dir_all(&config.run_dir)
            .map_err(|e| err(format!("creating {}: {e}", config.run_dir.display())))?;
        if let Some(key) = &config.passphrase
            && !(8..=63).contains(&key.len())
        {
            return Err(err("the service key must be 8..63 bytes".into()));
        }
        let conf = config.run_dir.join(format!("hostapd-{iface}.conf"));
        write_private(&conf, &hostapd_conf(config))
            .map_err(|e| err(format!("writing {}: {e}", conf.display())))?;
        let _ = run(iface, "ip", &["addr", "flush", "dev", iface]);
        let hostapd_log = config.run_dir.join(format!("hostapd-{iface}.log"));
        let hostapd = Command::new("hostapd")
            .arg("-t")
            .arg("-f")
            .arg(&hostapd_log)
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| err(format!("cannot start hostapd: {e}")))?;
        // From here on, dropping `ap` stops whatever was started.
        let mut ap = Self {
            config: config.clone(),
            hostapd,
            dnsmasq: None,
        };
        ap.wait_enabled(Duration::from_secs(20))?;
        ap.dnsmasq = Some(spawn_dnsmasq(config).map_err(err)?);
        Ok(ap)
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &ApConfig {
        &self.config
    }

    fn control_dir(&self) -> PathBuf {
        self.config.run_dir.join("hostapd")
    }

    fn cli(&self, args: &[&str]) -> Result<String, ApError> {
        let dir = self.control_dir();
        let dir = dir.to_string_lossy();
        let mut all = vec!["-p", &dir, "-i", self.config.iface.as_str()];
        all.extend_from_slice(args);
        run(&self.config.iface, "hostapd_cli", &all)
    }

    fn wait_enabled(&mut self, limit: Duration) -> Result<(), ApError> {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.hostapd.try_wait() {
                return Err(ApError {
                    iface: self.config.iface.clone(),
                    what: format!(
                        "hostapd exited ({status}); see {}",
                        self.config
                            .run_dir
                            .join(format!("hostapd-{}.log", self.config.iface))
                            .display()
                    ),
                });
            }
            if self
                .cli(&["status"])
                .is_ok_and(|s| s.lines().any(|l| l == "state=ENABLED"))
            {
                return Ok(());
            }
            if started.elapsed() > limit {
                return Err(ApError {
                    iface: self.config.iface.clone(),
                    what: format!("not enabled within {} s", limit.as_secs()),
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The channel hostapd is on now.
    #[must_use]
    pub fn channel(&self) -> Option<u8> {
        let status = self.cli(&["status"]).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("channel="))
            .and_then(|c| c.trim().parse().ok())
    }

    /// Moves the AP to `channel` with a channel-switch announcement (associated clients follow),
    /// so a station on the same radio can join a network there (one channel at a time).
    ///
    /// # Errors
    /// An [`ApError`] if hostapd refuses or the switch does not finish within 5 s.
    pub fn switch_channel(&mut self, channel: u8) -> Result<(), ApError> {
        if self.channel() == Some(channel) {
            return Ok(());
        }
        let mhz = channel_mhz(channel).to_string();
        let answer = self.cli(&["chan_switch", "5", &mhz])?;
        if !answer.trim().ends_with("OK") {
            return Err(ApError {
                iface: self.config.iface.clone(),
                what: format!("chan_switch answered {}", answer.trim()),
            });
        }
        let started = Instant::now();
        while self.channel() != Some(channel) {
            if started.elapsed() > Duration::from_secs(5) {
                return Err(ApError {
                    iface: self.config.iface.clone(),
                    what: format!("still not on channel {channel} 5 s after the switch"),
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.config.channel = channel;
        Ok(())
    }

    /// Stations associated now (MACs).
    #[must_use]
    pub fn stations(&self) -> Vec<String> {
        self.cli(&["all_sta"])
            .map(|text| {
                text.lines()
                    .filter(|l| l.len() == 17 && l.matches(':').count() == 5)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for AccessPoint {
    fn drop(&mut self) {
        for child in self.dnsmasq.iter_mut().chain([&mut self.hostapd]) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap_or(0)),
                nix::sys::signal::Signal::SIGTERM,
            );
            let deadline = Instant::now() + Duration::from_secs(3);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        let iface = self.config.iface.clone();
        let _ = run(&iface, "ip", &["addr", "flush", "dev", &iface]);
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())
}

/// hostapd's configuration (the SSID in hex, so any bytes work).
#[must_use]
pub fn hostapd_conf(config: &ApConfig) -> String {
    let mut conf = String::new();
    let _ = writeln!(conf, "interface={}", config.iface);
    let _ = writeln!(conf, "driver=nl80211");
    let _ = writeln!(
        conf,
        "ctrl_interface={}",
        config.run_dir.join("hostapd").display()
    );
    let _ = writeln!(conf, "ssid2={}", hex(&config.ssid));
    let _ = writeln!(conf, "utf8_ssid=1");
    let _ = writeln!(conf, "hw_mode=g");
    let _ = writeln!(conf, "channel={}", config.channel);
    let _ = writeln!(conf, "beacon_int=100");
    let _ = writeln!(conf, "max_num_sta=5");
    let _ = writeln!(conf, "auth_algs=1");
    if let Some(key) = &config.passphrase {
        let _ = writeln!(conf, "wpa=2");
        let _ = writeln!(conf, "wpa_key_mgmt=WPA-PSK");
        let _ = writeln!(conf, "rsn_pairwise=CCMP");
        // The PSK, so the passphrase needs no escaping.
        if let Ok(psk) = super::wpa::wpa_psk(&config.ssid, key) {
            let _ = writeln!(conf, "wpa_psk={}", hex(&psk[..]));
        }
    }
    conf
}

/// dnsmasq's arguments: DHCP on the /24 of `address` (router and DNS = the device); with a
/// captive portal, every name resolves to the device and option 114 names the API.
#[must_use]
pub fn dnsmasq_args(config: &ApConfig) -> Vec<String> {
    let [a, b, c, _] = config.address.octets();
    let net = format!("{a}.{b}.{c}");
    let run = &config.run_dir;
    let mut args = vec![
        "--keep-in-foreground".to_owned(),
        "--conf-file=/dev/null".to_owned(),
        "--user=root".to_owned(),
        format!("--interface={}", config.iface),
        "--bind-interfaces".to_owned(),
        "--except-interface=lo".to_owned(),
        format!("--dhcp-range={net}.2,{net}.20,255.255.255.0,10m"),
        "--dhcp-authoritative".to_owned(),
        format!("--dhcp-option=option:router,{}", config.address),
        format!("--dhcp-option=option:dns-server,{}", config.address),
        format!(
            "--dhcp-leasefile={}",
            run.join(format!("dnsmasq-{}.leases", config.iface))
                .display()
        ),
        format!(
            "--pid-file={}",
            run.join(format!("dnsmasq-{}.pid", config.iface)).display()
        ),
        "--log-dhcp".to_owned(),
        format!(
            "--log-facility={}",
            run.join(format!("dnsmasq-{}.log", config.iface)).display()
        ),
        "--no-resolv".to_owned(),
        "--no-hosts".to_owned(),
    ];
    match &config.captive_api {
        Some(api) => {
            args.push(format!("--address=/#/{}", config.address));
            // An argument, not a shell word: no quotes (they would be sent too).
            args.push(format!("--dhcp-option=114,{api}"));
        }
        None => args.push("--port=0".to_owned()),
    }
    args
}

fn spawn_dnsmasq(config: &ApConfig) -> Result<Child, String> {
    let iface = &config.iface;
    let cidr = format!("{}/24", config.address);
    run(iface, "ip", &["link", "set", iface, "up"]).map_err(|e| e.what)?;
    run(iface, "ip", &["addr", "replace", &cidr, "dev", iface]).map_err(|e| e.what)?;
    Command::new("dnsmasq")
        .args(dnsmasq_args(config))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start dnsmasq: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> ApConfig {
        ApConfig {
            iface: "wlan9".into(),
            ssid: "PROV_01B1E8".into(),
            passphrase: None,
            channel: 6,
            address: Ipv4Addr::new(192, 168, 4, 1),
            captive_api: None,
            run_dir: PathBuf::from("/run/wifiprov"),
        }
    }

    #[test]
    fn open_ap_has_no_wpa_lines() {
        let conf = hostapd_conf(&config());
        assert!(conf.contains("ssid2=50524f565f303142314538\n"));
        assert!(conf.contains("channel=6\n"));
        assert!(!conf.contains("wpa="));
    }

    #[test]
    fn secured_ap_carries_the_psk_not_the_passphrase() {
        let mut c = config();
        c.passphrase = Some(b"service key".to_vec());
        let conf = hostapd_conf(&c);
        assert!(conf.contains("wpa=2\n"));
        assert!(conf.contains("wpa_psk="));
        assert!(!conf.contains("service key"));
    }

    #[test]
    fn captive_portal_gets_wildcard_dns_and_option_114() {
        let mut c = config();
        assert!(dnsmasq_args(&c).contains(&"--port=0".to_owned()));
        c.captive_api = Some("http://192.168.4.1/api/captive".into());
        let args = dnsmasq_args(&c);
        assert!(args.contains(&"--address=/#/192.168.4.1".to_owned()));
        assert!(args.contains(&"--dhcp-option=114,http://192.168.4.1/api/captive".to_owned()));
        assert!(
            args.contains(&"--dhcp-range=192.168.4.2,192.168.4.20,255.255.255.0,10m".to_owned())
        );
    }
}
