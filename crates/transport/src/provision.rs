//! The provisioner's side of ESP-IDF unified provisioning, over any [`Link`] (HTTP for SoftAP,
//! GATT for BLE): read `proto-ver`, choose and check the security scheme, run the handshake,
//! send custom data, scan, send the credentials, apply them and follow the device's status until
//! it is connected or has failed — the request sequence of `esp_prov` (spec §1.4), plus what it
//! lacks: a clear error on a security mismatch, a reset-and-retry after a failed attempt, and a
//! bounded wait.

use std::time::{Duration, Instant};

use rand::rngs::OsRng;
use wifiprov_protocomm::device::endpoint;
use wifiprov_protocomm::sec2::Patch;
use wifiprov_protocomm::session::{ClientSecurity, ClientSession};
use wifiprov_protocomm::srp::XDerivation;
use wifiprov_protocomm::wifi::{FailReason, ScanEntry, ScanRequest, Station, request, response};
use wifiprov_protocomm::{Error as ProtocommError, Next};
use zeroize::Zeroizing;

/// How often a busy device's `proto-ver` is asked again, and how long apart: long enough to
/// outlast a wifiprov device's protection of an abandoned handshake (10 s).
const BUSY_RETRIES: u32 = 24;
const BUSY_PAUSE: Duration = Duration::from_millis(500);
/// How often `proto-ver` is asked again after the device closed the connection unanswered.
const REFUSED_RETRIES: u32 = 3;

/// One request/response exchange with the device on a named endpoint.
pub trait Link {
    /// Sends `body` to `endpoint` and returns the device's answer.
    ///
    /// # Errors
    /// [`LinkError::Refused`] when the device ends the exchange without an answer (protocomm's
    /// failure signal); other variants for transport failures.
    fn round_trip(&mut self, endpoint: &str, body: &[u8]) -> Result<Vec<u8>, LinkError>;

    /// Where the device is (for messages), e.g. `http://192.168.4.1:80`.
    fn describe(&self) -> String;
}

/// A failed exchange.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// The device closed the exchange without answering: it rejected the request.
    #[error("the device closed the connection without an answer")]
    Refused,
    /// The device answered with an error status of the transport (e.g. HTTP 503).
    #[error("the device answered {status}{}", if .detail.is_empty() { String::new() } else { format!(": {}", .detail) })]
    Status {
        /// The transport's status code.
        status: u16,
        /// Its text, if any.
        detail: String,
    },
    /// The device did not answer in time.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// Anything else (connection refused, reset, unparsable answer).
    #[error("{0}")]
    Transport(String),
}

/// What `proto-ver` told about the device.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct DeviceInfo {
    /// `prov.ver` (e.g. `v1.1`), or the whole answer if it is not JSON (old firmware).
    pub version: String,
    /// `prov.sec_ver` (absent before ESP-IDF v5.0).
    pub security: Option<u8>,
    /// `prov.sec_patch_ver` (absent = 0).
    pub patch: Option<u32>,
    /// `prov.cap`.
    pub capabilities: Vec<String>,
}

impl DeviceInfo {
    /// Parses the `proto-ver` answer (cJSON's pretty layout or compact; a plain string is a
    /// version without capabilities).
    #[must_use]
    pub fn parse(body: &[u8]) -> Self {
        let text = String::from_utf8_lossy(body);
        let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) else {
            return Self {
                version: text.trim().to_owned(),
                ..Self::default()
            };
        };
        let prov = &value["prov"];
        Self {
            version: prov["ver"].as_str().unwrap_or_default().to_owned(),
            security: prov["sec_ver"].as_u64().and_then(|v| u8::try_from(v).ok()),
            patch: prov["sec_patch_ver"]
                .as_u64()
                .and_then(|v| u32::try_from(v).ok()),
            capabilities: prov["cap"]
                .as_array()
                .map(|caps| {
                    caps.iter()
                        .filter_map(|c| c.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// True if `prov.cap` lists `name`.
    #[must_use]
    pub fn has(&self, name: &str) -> bool {
        self.capabilities.iter().any(|c| c == name)
    }

    /// The scheme the device uses: `sec_ver`, or (before ESP-IDF v5.0) 0 with `no_sec`, else 1
    /// — esp_prov's rule.
    #[must_use]
    pub fn scheme(&self) -> u8 {
        self.security
            .unwrap_or(if self.has("no_sec") { 0 } else { 1 })
    }
}

/// The secrets the user has, and the scheme asked for (`None` = what the device says).
#[derive(Clone, Default)]
pub struct Secrets {
    /// The scheme asked for (`--sec`).
    pub scheme: Option<u8>,
    /// Security 1 proof of possession.
    pub pop: Option<Zeroizing<Vec<u8>>>,
    /// Security 2 username.
    pub username: Option<Vec<u8>>,
    /// Security 2 password.
    pub password: Option<Zeroizing<Vec<u8>>>,
    /// How the device's security-2 verifier was made.
    pub derivation: XDerivation,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets")
            .field("scheme", &self.scheme)
            .field("pop", &self.pop.is_some())
            .field(
                "username",
                &self.username.as_deref().map(String::from_utf8_lossy),
            )
            .field("password", &self.password.is_some())
            .finish_non_exhaustive()
    }
}

/// What to do after the handshake.
#[derive(Clone, Debug)]
pub struct Options {
    /// Secrets and the scheme.
    pub secrets: Secrets,
    /// Custom endpoints to call first (name, bytes), in order.
    pub custom: Vec<(String, Vec<u8>)>,
    /// Fetch the device's scan list.
    pub scan: bool,
    /// The network to join (`None`: stop after the scan / custom data).
    pub network: Option<Network>,
    /// Pause between status polls (esp_prov: 5 s).
    pub poll_interval: Duration,
    /// Give up waiting for Connected/Failed after this long.
    pub timeout: Duration,
    /// Send prov-ctrl Reset and stop (esp_prov `--reset`).
    pub reset_only: bool,
    /// Send prov-ctrl Reprov and stop (esp_prov `--reprov`).
    pub reprovision_only: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            secrets: Secrets::default(),
            custom: Vec::new(),
            scan: false,
            network: None,
            poll_interval: Duration::from_secs(1),
            timeout: Duration::from_secs(90),
            reset_only: false,
            reprovision_only: false,
        }
    }
}

/// The network to provision.
#[derive(Clone)]
pub struct Network {
    /// SSID (1..=32 bytes).
    pub ssid: Vec<u8>,
    /// Passphrase (empty = open).
    pub passphrase: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Network")
            .field("ssid", &String::from_utf8_lossy(&self.ssid))
            .field("passphrase_len", &self.passphrase.len())
            .finish()
    }
}

/// A step, for progress output.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Progress {
    /// `proto-ver` answered.
    DeviceInfo(DeviceInfo),
    /// The handshake for this scheme starts.
    Handshake {
        /// sec_ver.
        scheme: u8,
    },
    /// The secure session is up.
    Established,
    /// A custom endpoint answered.
    Custom {
        /// Endpoint.
        endpoint: String,
        /// Its answer.
        reply: Vec<u8>,
    },
    /// The device's scan list.
    Scan(Vec<ScanEntry>),
    /// The device was in a failed state and was reset before the new credentials.
    Reset,
    /// Credentials sent and applied.
    Applied,
    /// A status poll.
    Status(Station),
}

/// How a provisioning run ended (it did not fail).
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The device's `proto-ver`.
    pub info: DeviceInfo,
    /// The scheme used.
    pub scheme: u8,
    /// Answers of the custom endpoints, in order.
    pub custom: Vec<(String, Vec<u8>)>,
    /// The scan list, if asked.
    pub scan: Vec<ScanEntry>,
    /// The final station state (`Connected` when credentials were sent; `Idle` otherwise).
    pub station: Station,
}

/// Why provisioning failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProvisionError {
    /// An exchange failed.
    #[error("{step} ({at}): {source}")]
    Link {
        /// What was being done.
        step: &'static str,
        /// Where.
        at: String,
        /// The failure.
        #[source]
        source: LinkError,
    },
    /// The device uses another scheme than the one asked for.
    #[error(
        "security mismatch: the device uses security {device} (proto-ver sec_ver), but security {asked} was asked for; {hint}"
    )]
    SecurityMismatch {
        /// Asked for.
        asked: u8,
        /// The device's.
        device: u8,
        /// What to pass instead.
        hint: &'static str,
    },
    /// A secret the scheme needs is missing.
    #[error("the device uses security {scheme}: {what}")]
    MissingSecret {
        /// The scheme.
        scheme: u8,
        /// What to give.
        what: &'static str,
    },
    /// The handshake failed: the device closed the connection or its proof did not verify.
    #[error("the security {scheme} handshake failed ({detail}); {hint}")]
    Handshake {
        /// The scheme.
        scheme: u8,
        /// What happened.
        detail: String,
        /// Likely cause.
        hint: &'static str,
    },
    /// A message did not parse or the device misbehaved.
    #[error("{step}: {source}")]
    Protocol {
        /// What was being done.
        step: &'static str,
        /// The protocomm error.
        #[source]
        source: ProtocommError,
    },
    /// The device refused a request with a protocomm status.
    #[error("{0}")]
    Refused(&'static str),
    /// The device could not join the network.
    #[error("the device could not join the network: {}", fail_text(*.0))]
    Failed(FailReason),
    /// Neither connected nor failed in time.
    #[error("the device did not report connected or failed within {0:?} (last state: {1:?})")]
    Timeout(Duration, Station),
    /// Stopped by the caller.
    #[error("interrupted")]
    Interrupted,
}

/// Human text for a fail reason.
#[must_use]
pub fn fail_text(reason: FailReason) -> String {
    match reason {
        FailReason::AuthError => "wrong password (AuthError)".to_owned(),
        FailReason::NetworkNotFound => "network not found (NetworkNotFound)".to_owned(),
        FailReason::Unknown(code) => format!("unknown reason {code}"),
    }
}

/// Runs the whole sequence on `link`; `progress` sees every step; `stop` is polled while
/// waiting.
///
/// # Errors
/// A [`ProvisionError`] naming the step and the likely cause.
pub fn run(
    link: &mut dyn Link,
    options: &Options,
    stop: &dyn Fn() -> bool,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Outcome, ProvisionError> {
    let at = link.describe();
    let exchange = |link: &mut dyn Link, step: &'static str, name: &str, body: &[u8]| {
        link.round_trip(name, body)
            .map_err(|source| ProvisionError::Link {
                step,
                at: at.clone(),
                source,
            })
    };

    // A device busy with another client answers 503 (wifiprov devices) until that client's
    // connection is gone or its session stops being protected, and one with all its
    // connections taken closes new ones at once: ask again (proto-ver changes nothing) before
    // giving up.
    let (mut busy, mut refused) = (0, 0);
    let version = loop {
        match exchange(link, "reading proto-ver", endpoint::PROTO_VER, b"---") {
            Err(ProvisionError::Link {
                source: LinkError::Status { status: 503, .. },
                ..
            }) if busy < BUSY_RETRIES => {
                busy += 1;
                wait(BUSY_PAUSE, stop)?;
            }
            Err(ProvisionError::Link {
                source: LinkError::Refused,
                ..
            }) if refused < REFUSED_RETRIES => {
                refused += 1;
                wait(BUSY_PAUSE, stop)?;
            }
            other => break other?,
        }
    };
    let info = DeviceInfo::parse(&version);
    progress(&Progress::DeviceInfo(info.clone()));
    let security = choose_security(&info, &options.secrets)?;
    let scheme = security.version();
    progress(&Progress::Handshake { scheme });

    let protocol = |step: &'static str| move |source| ProvisionError::Protocol { step, source };
    let (mut session, mut next) =
        ClientSession::start(&security, &mut OsRng).map_err(protocol("starting the session"))?;
    while let Next::Send(command) = next {
        let reply = match link.round_trip(endpoint::SESSION, &command) {
            Ok(reply) => reply,
            Err(LinkError::Refused) => {
                return Err(ProvisionError::Handshake {
                    scheme,
                    detail: "the device closed the connection".into(),
                    hint: handshake_hint(scheme),
                });
            }
            Err(source) => {
                return Err(ProvisionError::Link {
                    step: "security handshake",
                    at: at.clone(),
                    source,
                });
            }
        };
        next = session
            .handle_reply(&reply)
            .map_err(|e| ProvisionError::Handshake {
                scheme,
                detail: e.to_string(),
                hint: handshake_hint(scheme),
            })?;
    }
    progress(&Progress::Established);

    // Encrypted exchange on a session endpoint.
    let mut call = |link: &mut dyn Link, step: &'static str, name: &str, plain: &[u8]| {
        let cipher = session.cipher().map_err(protocol(step))?;
        let wire = cipher.encrypt(plain).map_err(protocol(step))?;
        let reply = exchange(link, step, name, &wire)?;
        session
            .cipher()
            .and_then(|c| c.decrypt(&reply))
            .map_err(protocol(step))
    };

    if options.reset_only || options.reprovision_only {
        let (step, body) = if options.reset_only {
            ("prov-ctrl reset", request::reset())
        } else {
            ("prov-ctrl reprovision", request::reprovision())
        };
        let reply = call(link, step, endpoint::CTRL, &body)?;
        response::ctrl(&reply).map_err(|_| {
            ProvisionError::Refused(if options.reset_only {
                "the device refused the reset (it resets only after a failed attempt)"
            } else {
                "the device refused to provision again (reprovisioning is not enabled on it)"
            })
        })?;
        return Ok(Outcome {
            info,
            scheme,
            custom: Vec::new(),
            scan: Vec::new(),
            station: Station::Idle,
        });
    }

    let mut custom = Vec::new();
    for (name, data) in &options.custom {
        let reply = call(link, "custom endpoint", name, data)?;
        progress(&Progress::Custom {
            endpoint: name.clone(),
            reply: reply.clone(),
        });
        custom.push((name.clone(), reply));
    }

    let mut scan = Vec::new();
    if options.scan {
        if !info.has("wifi_scan") {
            return Err(ProvisionError::Refused(
                "the device does not offer a Wi-Fi scan (no wifi_scan capability)",
            ));
        }
        let start = ScanRequest {
            blocking: true,
            ..ScanRequest::default()
        };
        let reply = call(
            link,
            "prov-scan start",
            endpoint::SCAN,
            &request::scan_start(start),
        )?;
        response::scan_start(&reply).map_err(protocol("prov-scan start"))?;
        let waited = Instant::now();
        let count = loop {
            let reply = call(
                link,
                "prov-scan status",
                endpoint::SCAN,
                &request::scan_status(),
            )?;
            let (finished, count) =
                response::scan_status(&reply).map_err(protocol("prov-scan status"))?;
            if finished {
                break count;
            }
            if waited.elapsed() > options.timeout {
                return Err(ProvisionError::Refused("the device's scan did not finish"));
            }
            wait(options.poll_interval, stop)?;
        };
        // Four entries per request, as esp_prov and the apps fetch them over BLE.
        let mut index = 0;
        while index < count {
            let n = (count - index).min(4);
            let reply = call(
                link,
                "prov-scan results",
                endpoint::SCAN,
                &request::scan_result(index, n),
            )?;
            scan.extend(response::scan_result(&reply).map_err(protocol("prov-scan results"))?);
            index += n;
        }
        progress(&Progress::Scan(scan.clone()));
    }

    let Some(network) = &options.network else {
        return Ok(Outcome {
            info,
            scheme,
            custom,
            scan,
            station: Station::Idle,
        });
    };
    let set_config = request::set_config(&network.ssid, &network.passphrase, None, 0);
    let reply = call(link, "prov-config set", endpoint::CONFIG, &set_config)?;
    if response::set_config(&reply).is_err() {
        // ESP-IDF refuses new credentials after a failed attempt until prov-ctrl Reset.
        let reply = call(link, "prov-ctrl reset", endpoint::CTRL, &request::reset())?;
        response::ctrl(&reply).map_err(|_| {
            ProvisionError::Refused(
                "the device refused the credentials (it is joining or joined; it cannot be reset now)",
            )
        })?;
        progress(&Progress::Reset);
        let reply = call(link, "prov-config set", endpoint::CONFIG, &set_config)?;
        response::set_config(&reply).map_err(|_| {
            ProvisionError::Refused(
                "the device refused the credentials (invalid SSID or passphrase?)",
            )
        })?;
    }
    let reply = call(
        link,
        "prov-config apply",
        endpoint::CONFIG,
        &request::apply_config(),
    )?;
    response::apply_config(&reply)
        .map_err(|_| ProvisionError::Refused("the device refused to apply the credentials"))?;
    progress(&Progress::Applied);

    let started = Instant::now();
    loop {
        let reply = call(
            link,
            "prov-config status",
            endpoint::CONFIG,
            &request::get_status(),
        )?;
        let station = response::status(&reply).map_err(protocol("prov-config status"))?;
        progress(&Progress::Status(station.clone()));
        match station {
            Station::Connected(_) => {
                return Ok(Outcome {
                    info,
                    scheme,
                    custom,
                    scan,
                    station,
                });
            }
            Station::Failed(reason) => return Err(ProvisionError::Failed(reason)),
            other if started.elapsed() >= options.timeout => {
                return Err(ProvisionError::Timeout(options.timeout, other));
            }
            _ => wait(options.poll_interval, stop)?,
        }
    }
}

fn wait(pause: Duration, stop: &dyn Fn() -> bool) -> Result<(), ProvisionError> {
    let until = Instant::now() + pause;
    while Instant::now() < until {
        if stop() {
            return Err(ProvisionError::Interrupted);
        }
        std::thread::sleep(Duration::from_millis(50).min(pause));
    }
    Ok(())
}

fn handshake_hint(scheme: u8) -> &'static str {
    match scheme {
        1 => {
            "is the proof of possession (--pop) right? (after repeated wrong proofs a wifiprov \
             device refuses handshakes for up to a minute: retry later)"
        }
        2 => {
            "are the username and password (--username/--password) right? (after repeated \
             wrong proofs a wifiprov device refuses handshakes for up to a minute: retry later)"
        }
        _ => "does the device really use security 0?",
    }
}

fn hint_for(device: u8) -> &'static str {
    match device {
        0 => "use --sec 0",
        1 => "use --sec 1 --pop POP",
        _ => "use --sec 2 --username USER --password PASS",
    }
}

/// The client security for the device's scheme and the user's secrets.
///
/// # Errors
/// [`ProvisionError::SecurityMismatch`] or [`ProvisionError::MissingSecret`].
pub fn choose_security(
    info: &DeviceInfo,
    secrets: &Secrets,
) -> Result<ClientSecurity, ProvisionError> {
    let device = info.scheme();
    let scheme = match (secrets.scheme, info.security) {
        (Some(asked), Some(device)) if asked != device => {
            return Err(ProvisionError::SecurityMismatch {
                asked,
                device,
                hint: hint_for(device),
            });
        }
        (Some(asked), _) => asked,
        (None, _) => device,
    };
    Ok(match scheme {
        0 => ClientSecurity::Sec0,
        1 => {
            let pop = if info.has("no_pop") {
                Zeroizing::new(Vec::new())
            } else {
                secrets.pop.clone().ok_or(ProvisionError::MissingSecret {
                    scheme: 1,
                    what: "give the proof of possession with --pop",
                })?
            };
            ClientSecurity::Sec1 { pop }
        }
        2 => {
            let missing = ProvisionError::MissingSecret {
                scheme: 2,
                what: "give --username and --password",
            };
            let (Some(username), Some(password)) = (&secrets.username, &secrets.password) else {
                return Err(missing);
            };
            ClientSecurity::Sec2 {
                username: username.clone(),
                password: password.clone(),
                patch: Patch::from_version(info.patch),
                derivation: secrets.derivation,
            }
        }
        other => {
            return Err(ProvisionError::MissingSecret {
                scheme: other,
                what: "this security scheme is unknown (wifiprov speaks 0, 1 and 2)",
            });
        }
    })
}

/// A station state in words.
#[must_use]
pub fn station_text(station: &Station) -> String {
    match station {
        Station::Idle => "idle (no credentials yet)".to_owned(),
        Station::Connecting => "connecting".to_owned(),
        Station::AttemptFailed { remaining } => {
            format!("connecting (an attempt failed, {remaining} left)")
        }
        Station::Connected(c) => format!(
            "connected: {}.{}.{}.{} on channel {}",
            c.ip[0], c.ip[1], c.ip[2], c.ip[3], c.channel
        ),
        Station::Failed(reason) => format!("failed: {}", fail_text(*reason)),
        Station::Disconnected => "disconnected".to_owned(),
    }
}
