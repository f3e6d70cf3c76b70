//! The device's protocomm instance: every endpoint behind one sans-IO type, for any transport.
//!
//! [`Device`] routes a request by endpoint name — `proto-ver` (plaintext JSON),
//! `prov-session` (the handshake), `prov-config` / `prov-scan` / `prov-ctrl` (decrypted, handled
//! by the [`Provisioner`], encrypted back) and the application's custom endpoints — and returns
//! the response bytes plus what the runtime must do ([`Action`]).
//!
//! Call order: [`Device::new`]; on every new transport session (HTTP cookie, BLE connection)
//! [`Device::new_session`]; per request [`Device::handle_request`] with a monotonic time in
//! milliseconds (wrong proofs are throttled: [`crate::throttle`]); for a
//! [`Reply::Custom`], compute the answer and pass it to [`Device::custom_reply`] before the next
//! request; report joining progress with [`Device::provisioner_mut`].

use alloc::string::String;
use alloc::vec::Vec;

use rand_core::{CryptoRng, RngCore};

use crate::Error;
use crate::session::{DeviceSecurity, DeviceSession};
use crate::throttle::{self, Throttle};
use crate::wifi::{self, Action, ProtoVer, Provisioner};

/// The fixed endpoint names.
pub mod endpoint {
    /// Version and capabilities (never encrypted).
    pub const PROTO_VER: &str = "proto-ver";
    /// The security handshake.
    pub const SESSION: &str = "prov-session";
    /// Wi-Fi configuration.
    pub const CONFIG: &str = "prov-config";
    /// Wi-Fi scan.
    pub const SCAN: &str = "prov-scan";
    /// Reset / reprovision.
    pub const CTRL: &str = "prov-ctrl";
}

/// Device configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The security scheme and its secrets.
    pub security: DeviceSecurity,
    /// `prov.ver` in `proto-ver` (`v1.1` = wifi_provisioning).
    pub version: String,
    /// Custom endpoint names (raw bytes in and out through the session).
    pub custom_endpoints: Vec<String>,
    /// The Wi-Fi handlers' settings.
    pub wifi: wifi::Config,
    /// Back-off after wrong proofs (default: [`throttle::Policy::default`]; `None`: none, as
    /// ESP-IDF).
    pub throttle: Option<throttle::Policy>,
}

impl Config {
    /// A configuration with ESP-IDF's defaults for `security`.
    #[must_use]
    pub fn new(security: DeviceSecurity) -> Self {
        Self {
            security,
            version: String::from("v1.1"),
            custom_endpoints: Vec::new(),
            wifi: wifi::Config::default(),
            throttle: Some(throttle::Policy::default()),
        }
    }

    /// Adds a custom endpoint.
    #[must_use]
    pub fn with_custom_endpoint(mut self, name: &str) -> Self {
        self.custom_endpoints.push(String::from(name));
        self
    }
}

/// A response for the transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Send these bytes.
    Bytes(Vec<u8>),
    /// A custom endpoint received `data` (decrypted): answer it with [`Device::custom_reply`].
    Custom {
        /// The endpoint's name.
        endpoint: String,
        /// The decrypted request.
        data: Vec<u8>,
    },
}

/// The device's protocomm instance.
#[derive(Debug)]
pub struct Device {
    config: Config,
    session: DeviceSession,
    provisioner: Provisioner,
    awaiting_custom_reply: bool,
    throttle: Option<Throttle>,
}

impl Device {
    /// A device waiting for its first session.
    ///
    /// # Errors
    /// [`Error::ApiMisuse`] for an invalid security-2 salt/verifier or a custom endpoint whose
    /// name is empty or clashes with a fixed one.
    pub fn new(config: Config) -> Result<Self, Error> {
        for name in &config.custom_endpoints {
            if name.is_empty() || is_fixed(name) {
                return Err(Error::ApiMisuse(
                    "custom endpoint names must be new and non-empty",
                ));
            }
        }
        Ok(Self {
            session: DeviceSession::new(&config.security)?,
            provisioner: Provisioner::new(config.wifi),
            awaiting_custom_reply: false,
            throttle: config.throttle.map(Throttle::new),
            config,
        })
    }

    /// Every endpoint name, fixed ones first (the BLE transport gives each a characteristic).
    pub fn endpoints(&self) -> impl Iterator<Item = &str> {
        [
            endpoint::CTRL,
            endpoint::SCAN,
            endpoint::SESSION,
            endpoint::CONFIG,
            endpoint::PROTO_VER,
        ]
        .into_iter()
        .chain(self.config.custom_endpoints.iter().map(String::as_str))
    }

    /// True if `name` is one of this device's endpoints.
    #[must_use]
    pub fn has_endpoint(&self, name: &str) -> bool {
        self.endpoints().any(|e| e == name)
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The `proto-ver` document.
    #[must_use]
    pub fn proto_ver(&self) -> ProtoVer {
        let security = &self.config.security;
        ProtoVer {
            version: self.config.version.clone(),
            security: security.version(),
            patch: security.advertised_patch(),
            capabilities: ProtoVer::capabilities_for(security.version(), security.has_pop()),
        }
    }

    /// A new transport session began: the security session starts over (the Wi-Fi state
    /// stays).
    pub fn new_session(&mut self) {
        // The configuration was valid in `new`, so this cannot fail; keep the old one if it did.
        if let Ok(session) = DeviceSession::new(&self.config.security) {
            self.session = session;
        }
        self.awaiting_custom_reply = false;
    }

    /// True once the current session's handshake completed.
    #[must_use]
    pub fn is_established(&self) -> bool {
        self.session.is_established()
    }

    /// The Wi-Fi handlers (report joining progress and scan results here).
    pub fn provisioner_mut(&mut self) -> &mut Provisioner {
        &mut self.provisioner
    }

    /// The Wi-Fi handlers.
    #[must_use]
    pub fn provisioner(&self) -> &Provisioner {
        &self.provisioner
    }

    /// Wrong proofs since the last completed handshake (0 without a throttle).
    #[must_use]
    pub fn wrong_proofs(&self) -> u32 {
        self.throttle.as_ref().map_or(0, Throttle::failures)
    }

    /// Handles one request on `endpoint` at `now_ms` (a monotonic clock in milliseconds, for
    /// the wrong-proof [`throttle`]).
    ///
    /// # Errors
    /// Any error means "close the connection without a response", as ESP-IDF does:
    /// [`Error::InvalidMessage`] (bad bytes, unknown endpoint), [`Error::PeerMisbehaved`]
    /// (handshake out of order), [`Error::WrongProof`], [`Error::Throttled`] (a handshake while
    /// the throttle's door is closed), [`Error::Crypto`] (decryption failed),
    /// [`Error::ApiMisuse`] (data before the handshake, or a custom reply still owed). A
    /// failed handshake step restarts the session.
    pub fn handle_request(
        &mut self,
        endpoint: &str,
        body: &[u8],
        now_ms: u64,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(Reply, Option<Action>), Error> {
        if self.awaiting_custom_reply {
            return Err(Error::ApiMisuse(
                "a custom endpoint's reply is still owed (call custom_reply first)",
            ));
        }
        match endpoint {
            endpoint::PROTO_VER => Ok((Reply::Bytes(self.proto_ver().render().into_bytes()), None)),
            endpoint::SESSION => {
                if let Some(throttle) = &self.throttle
                    && let Err(retry_after_ms) = throttle.check(now_ms)
                {
                    self.new_session();
                    return Err(Error::Throttled { retry_after_ms });
                }
                let was_established = self.session.is_established();
                let response = self.session.handle_request(body, rng);
                if let Some(throttle) = &mut self.throttle {
                    if matches!(response, Err(Error::WrongProof(_))) {
                        throttle.failed(now_ms);
                    } else if !was_established && self.session.is_established() {
                        throttle.succeeded();
                    }
                }
                if response.is_err() {
                    self.new_session();
                }
                Ok((Reply::Bytes(response?), None))
            }
            endpoint::CONFIG | endpoint::SCAN | endpoint::CTRL => {
                let cipher = self.session.cipher()?;
                // The plaintext of prov-config holds the passphrase.
                let plain = zeroize::Zeroizing::new(cipher.decrypt(body)?);
                let (response, action) = match endpoint {
                    endpoint::CONFIG => self.provisioner.handle_config(&plain),
                    endpoint::SCAN => self.provisioner.handle_scan(&plain),
                    _ => self.provisioner.handle_ctrl(&plain),
                }?;
                let wire = self.session.cipher()?.encrypt(&response)?;
                Ok((Reply::Bytes(wire), action))
            }
            name if self.config.custom_endpoints.iter().any(|c| c == name) => {
                let data = self.session.cipher()?.decrypt(body)?;
                self.awaiting_custom_reply = true;
                Ok((
                    Reply::Custom {
                        endpoint: String::from(name),
                        data,
                    },
                    None,
                ))
            }
            _ => Err(Error::InvalidMessage("unknown endpoint")),
        }
    }

    /// Encrypts the application's answer to the last [`Reply::Custom`].
    ///
    /// # Errors
    /// [`Error::ApiMisuse`] if no custom reply is owed; [`Error::Crypto`] from the cipher.
    pub fn custom_reply(&mut self, data: &[u8]) -> Result<Vec<u8>, Error> {
        if !self.awaiting_custom_reply {
            return Err(Error::ApiMisuse("no custom request is waiting for a reply"));
        }
        self.awaiting_custom_reply = false;
        self.session.cipher()?.encrypt(data)
    }
}

fn is_fixed(name: &str) -> bool {
    [
        endpoint::PROTO_VER,
        endpoint::SESSION,
        endpoint::CONFIG,
        endpoint::SCAN,
        endpoint::CTRL,
    ]
    .contains(&name)
}
