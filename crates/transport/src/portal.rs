//! The captive portal: the routes a phone or laptop hits when it joins the device's SoftAP, as
//! a pure function from [`http::Request`] to [`http::Response`]. No sockets here: serve
//! [`route`] from an [`http::Server`] handler next to the protocomm endpoints.
//!
//! [`route`] answers `None` for requests that are not the portal's (non-`GET` requests to paths
//! it does not know, such as `POST /prov-session`), so a combined handler reads
//! `portal::route(..).or_else(|| protocomm(..))`.
//!
//! | Request | Answer |
//! |---|---|
//! | `GET /`, `GET /index.html` | the page ([`PAGE`]), `text/html; charset=utf-8`, `no-store` |
//! | an OS probe (table below), not yet connected | 302 to [`PortalConfig::portal_url`] |
//! | an OS probe, connected | what the OS expects from the internet (table below) |
//! | `GET` with a `Host` other than the device's address | 302 to the portal (wildcard DNS) |
//! | `GET /api/captive` ([`PortalConfig::api_url`], RFC 8908) | `application/captive+json` |
//! | `GET /api/networks` | `[{"ssid","ssid_hex","rssi","auth","auth_name","channel"}]` |
//! | `POST /api/connect` (`application/json`) | 202 + status, 400/415/500 + `{"error"}` |
//! | `GET /api/status` | `{"state","reason","ip"}` |
//! | other method on a known path | 405 with `Allow` |
//! | `GET` of an unknown path on the device's `Host` | 404 |
//!
//! OS probes (HTTP, all methods but `GET`/`HEAD` → 405) and their "online" answers:
//!
//! | OS | Paths | Online answer |
//! |---|---|---|
//! | Android, ChromeOS | `/generate_204`, `/gen_204` | `204 No Content` |
//! | Apple | `/hotspot-detect.html`, `/library/test/success.html` | the `Success` HTML page |
//! | Windows | `/connecttest.txt`, `/ncsi.txt` | `Microsoft Connect Test`, `Microsoft NCSI` |
//! | Windows (browser it opens) | `/redirect` | always 302 to the portal |
//! | Firefox | `/canonical.html`, `/success.txt` | its meta-refresh page, `success\n` |
//!
//! Choice: once [`PortalBackend::status`] is [`PortalStatus::Connected`] the probes answer
//! "online", so that the OS closes its captive-portal sheet (iOS shows "Done" only then) instead
//! of making the user cancel and leave the network; the device stops its SoftAP shortly after
//! provisioning anyway (spec §1.6). Before that, every probe is redirected so that the OS opens
//! the portal. Probe paths match whatever the `Host` (the probes use their vendors' names).
//!
//! Connect validation ([`validate_credentials`]): SSID 1–32 bytes; password empty (open
//! network), 8–63 bytes of UTF-8 without control characters (a WPA passphrase), or 64 hex digits
//! (a raw PSK). The JSON body is `{"ssid": "...", "password": "..."}`; a network picked from the
//! list may send `"ssid_hex"` instead, which carries SSIDs that are not UTF-8. `Content-Type`
//! must be `application/json` (a cross-site HTML form cannot send that without a CORS
//! preflight, which this portal never grants).
//!
//! ```
//! use wifiprov_transport::http::Request;
//! use wifiprov_transport::portal::{self, PortalBackend, PortalConfig, PortalNetwork, PortalStatus};
//!
//! struct Idle;
//! impl PortalBackend for Idle {
//!     fn networks(&self) -> Vec<PortalNetwork> { Vec::new() }
//!     fn connect(&self, _ssid: Vec<u8>, _password: Vec<u8>) -> Result<(), String> { Ok(()) }
//!     fn status(&self) -> PortalStatus { PortalStatus::Idle }
//! }
//!
//! let config = PortalConfig::default();
//! let probe = Request::new("GET", "/generate_204").with_header("Host", "connectivitycheck.gstatic.com");
//! let response = portal::route(&probe, &Idle, &config).expect("a portal route");
//! assert_eq!((response.status, response.header("location")), (302, Some("http://192.168.4.1/")));
//! let protocomm = Request::new("POST", "/prov-session").with_header("Host", "192.168.4.1");
//! assert!(portal::route(&protocomm, &Idle, &config).is_none());
//! ```
#![warn(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::net::Ipv4Addr;

use serde_json::{Value, json};

use crate::device::hex;
use crate::http::{Request, Response};

/// The portal page, with `{{device_name}}` placeholders (replaced, HTML-escaped, when served).
pub const PAGE: &str = include_str!("portal/index.html");

/// Where the portal is reached and what it calls the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalConfig {
    /// The device's address on its SoftAP (default 192.168.4.1, spec §1.1).
    pub address: Ipv4Addr,
    /// The HTTP port (default 80).
    pub port: u16,
    /// Shown as the page's title and heading.
    pub device_name: String,
}

impl Default for PortalConfig {
    fn default() -> Self {
        Self {
            address: Ipv4Addr::new(192, 168, 4, 1),
            port: 80,
            device_name: "wifiprov".to_owned(),
        }
    }
}

impl PortalConfig {
    /// `address`, plus `:port` unless the port is 80.
    #[must_use]
    pub fn authority(&self) -> String {
        if self.port == 80 {
            self.address.to_string()
        } else {
            format!("{}:{}", self.address, self.port)
        }
    }

    /// The page's URL, `http://192.168.4.1/`: where probes and foreign hosts are redirected.
    #[must_use]
    pub fn portal_url(&self) -> String {
        format!("http://{}/", self.authority())
    }

    /// The RFC 8908 captive-portal API URI, for DHCP option 114 (RFC 8910):
    /// `http://192.168.4.1/api/captive`.
    #[must_use]
    pub fn api_url(&self) -> String {
        format!("http://{}/api/captive", self.authority())
    }

    /// Whether a `Host` header names the device: its address, any port (or no `Host` at all).
    #[must_use]
    pub fn is_own_host(&self, host: Option<&str>) -> bool {
        let Some(host) = host.map(str::trim) else {
            return true;
        };
        let name = if let Some(bracketed) = host.strip_prefix('[') {
            bracketed.split(']').next().unwrap_or("")
        } else {
            host.rsplit_once(':').map_or(host, |(name, _port)| name)
        };
        name.trim_end_matches('.') == self.address.to_string()
    }
}

/// One network the device can see.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PortalNetwork {
    /// The SSID bytes (may not be UTF-8).
    pub ssid: Vec<u8>,
    /// Signal strength in dBm.
    pub rssi: i32,
    /// The raw ESP-IDF `wifi_auth_mode_t` (0 = open; spec §4.2).
    pub auth: u32,
    /// The channel.
    pub channel: u32,
}

/// Where provisioning stands, as the page shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub enum PortalStatus {
    /// No credentials received yet.
    #[default]
    Idle,
    /// Credentials received; joining the network.
    Connecting,
    /// Joined, with this IPv4 address (dotted quad).
    Connected {
        /// The station address.
        ip: String,
    },
    /// Joining failed; the form may be submitted again.
    Failed {
        /// Why, for people (e.g. "wrong password").
        reason: String,
    },
}

impl PortalStatus {
    /// The `state` string of `/api/status`: `idle`, `connecting`, `connected` or `failed`.
    #[must_use]
    pub fn state_name(&self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Connecting => "connecting",
            Self::Connected { .. } => "connected",
            Self::Failed { .. } => "failed",
        }
    }

    /// Whether provisioning succeeded.
    #[must_use]
    pub fn is_connected(&self) -> bool {
        matches!(self, Self::Connected { .. })
    }
}

/// What the portal needs from the device (the same state the protocomm handlers use).
pub trait PortalBackend: Send + Sync {
    /// The networks to offer, in the order to show them.
    fn networks(&self) -> Vec<PortalNetwork>;
    /// Starts joining `ssid` with `password` (already validated by [`validate_credentials`]).
    ///
    /// # Errors
    ///
    /// A message for the user if the device cannot start (the page shows `failed: <message>`).
    fn connect(&self, ssid: Vec<u8>, password: Vec<u8>) -> Result<(), String>;
    /// Where provisioning stands.
    fn status(&self) -> PortalStatus;
}

/// Why credentials are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsError {
    /// The SSID is empty or longer than 32 bytes.
    #[error("the SSID must be 1 to 32 bytes long, not {0}")]
    SsidLength(usize),
    /// The password is neither empty, nor 8–63 bytes, nor 64 bytes.
    #[error("the password must be empty, 8 to 63 characters, or 64 hex digits (not {0} bytes)")]
    PasswordLength(usize),
    /// A 64-byte password that is not hex.
    #[error("a 64-character password must be hex digits (a raw PSK)")]
    PasswordNotHex,
    /// The password contains a control character.
    #[error("the password contains a control character")]
    PasswordControlCharacter,
}

/// Checks credentials the way the page promises: SSID 1–32 bytes; password empty, 8–63 bytes
/// without control characters, or 64 hex digits.
///
/// # Errors
///
/// The first [`CredentialsError`] found (SSID first).
pub fn validate_credentials(ssid: &[u8], password: &[u8]) -> Result<(), CredentialsError> {
    if !(1..=32).contains(&ssid.len()) {
        return Err(CredentialsError::SsidLength(ssid.len()));
    }
    match password.len() {
        0 => Ok(()),
        64 if password.iter().all(u8::is_ascii_hexdigit) => Ok(()),
        64 => Err(CredentialsError::PasswordNotHex),
        8..=63 if password.iter().any(|&b| b < 0x20 || b == 0x7f) => {
            Err(CredentialsError::PasswordControlCharacter)
        }
        8..=63 => Ok(()),
        other => Err(CredentialsError::PasswordLength(other)),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Probe {
    Android,
    Apple,
    WindowsConnectTest,
    WindowsNcsi,
    WindowsRedirect,
    FirefoxCanonical,
    FirefoxSuccess,
}

const PROBES: &[(&str, Probe)] = &[
    ("/generate_204", Probe::Android),
    ("/gen_204", Probe::Android),
    ("/hotspot-detect.html", Probe::Apple),
    ("/library/test/success.html", Probe::Apple),
    ("/connecttest.txt", Probe::WindowsConnectTest),
    ("/ncsi.txt", Probe::WindowsNcsi),
    ("/redirect", Probe::WindowsRedirect),
    ("/canonical.html", Probe::FirefoxCanonical),
    ("/success.txt", Probe::FirefoxSuccess),
];

const APPLE_SUCCESS: &str = "<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>";
const FIREFOX_CANONICAL: &str = "<meta http-equiv=\"refresh\" content=\"0;url=https://support.mozilla.org/kb/captive-portal\"/>";
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'unsafe-inline'; \
     style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'none'";

/// Answers a portal request, or `None` if it is not the portal's (see the module docs).
#[must_use]
pub fn route(
    request: &Request,
    backend: &dyn PortalBackend,
    config: &PortalConfig,
) -> Option<Response> {
    let readable = matches!(request.method.as_str(), "GET" | "HEAD");
    let path = request.path.as_str();
    if let Some(probe) = PROBES
        .iter()
        .find(|(probe_path, _)| *probe_path == path)
        .map(|(_, probe)| *probe)
    {
        if !readable {
            return Some(method_not_allowed("GET, HEAD"));
        }
        let online = probe != Probe::WindowsRedirect && backend.status().is_connected();
        return Some(if online {
            online_answer(probe)
        } else {
            to_portal(config)
        });
    }
    if !config.is_own_host(request.header("host")) {
        return readable.then(|| to_portal(config));
    }
    let allow = match path {
        "/" | "/index.html" | "/api/captive" | "/api/networks" | "/api/status" => "GET, HEAD",
        "/api/connect" => "POST",
        _ => {
            return readable
                .then(|| Response::status(404).with_header("Cache-Control", "no-store"));
        }
    };
    if !allow.split(", ").any(|method| method == request.method) {
        return Some(method_not_allowed(allow));
    }
    Some(match path {
        "/api/captive" => captive(backend, config),
        "/api/networks" => networks(backend),
        "/api/status" => json_response(200, &status_json(&backend.status())),
        "/api/connect" => connect(request, backend),
        _ => page(config),
    })
}

fn method_not_allowed(allow: &str) -> Response {
    Response::status(405).with_header("Allow", allow)
}

fn to_portal(config: &PortalConfig) -> Response {
    Response::redirect(&config.portal_url()).with_header("Cache-Control", "no-store")
}

fn online_answer(probe: Probe) -> Response {
    let text = "text/plain";
    let response = match probe {
        Probe::Android => Response::status(204),
        Probe::Apple => Response::ok("text/html", APPLE_SUCCESS),
        Probe::WindowsConnectTest => Response::ok(text, "Microsoft Connect Test"),
        Probe::WindowsNcsi => Response::ok(text, "Microsoft NCSI"),
        Probe::FirefoxCanonical => Response::ok("text/html", FIREFOX_CANONICAL),
        Probe::FirefoxSuccess => Response::ok(text, "success\n"),
        Probe::WindowsRedirect => Response::status(404),
    };
    response.with_header("Cache-Control", "no-store")
}

fn json_response(status: u16, value: &Value) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_default();
    Response::status(status)
        .with_body("application/json", body)
        .with_header("Cache-Control", "no-store")
}

fn json_error(status: u16, message: &str) -> Response {
    json_response(status, &json!({ "error": message }))
}

fn page(config: &PortalConfig) -> Response {
    let body = PAGE.replace("{{device_name}}", &html_escape(&config.device_name));
    Response::ok("text/html; charset=utf-8", body)
        .with_header("Cache-Control", "no-store")
        .with_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        .with_header("X-Content-Type-Options", "nosniff")
        .with_header("Referrer-Policy", "no-referrer")
}

fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn captive(backend: &dyn PortalBackend, config: &PortalConfig) -> Response {
    let captive = !backend.status().is_connected();
    let body = json!({ "captive": captive, "user-portal-url": config.portal_url() });
    Response::status(200)
        .with_body(
            "application/captive+json",
            serde_json::to_vec(&body).unwrap_or_default(),
        )
        .with_header("Cache-Control", "private, no-store")
}

fn auth_name(auth: u32) -> &'static str {
    match auth {
        0 => "open",
        1 => "wep",
        2 => "wpa_psk",
        3 => "wpa2_psk",
        4 => "wpa_wpa2_psk",
        5 => "wpa2_enterprise",
        6 => "wpa3_psk",
        7 => "wpa2_wpa3_psk",
        _ => "unknown",
    }
}

fn networks(backend: &dyn PortalBackend) -> Response {
    let list: Vec<Value> = backend
        .networks()
        .iter()
        .map(|network| {
            json!({
                "ssid": String::from_utf8_lossy(&network.ssid),
                "ssid_hex": hex(&network.ssid),
                "rssi": network.rssi,
                "auth": network.auth,
                "auth_name": auth_name(network.auth),
                "channel": network.channel,
            })
        })
        .collect();
    json_response(200, &Value::Array(list))
}

fn status_json(status: &PortalStatus) -> Value {
    let (reason, ip) = match status {
        PortalStatus::Idle | PortalStatus::Connecting => (None, None),
        PortalStatus::Connected { ip } => (None, Some(ip.as_str())),
        PortalStatus::Failed { reason } => (Some(reason.as_str()), None),
    };
    json!({ "state": status.state_name(), "reason": reason, "ip": ip })
}

#[derive(serde::Deserialize)]
struct ConnectBody {
    #[serde(default)]
    ssid: Option<String>,
    #[serde(default)]
    ssid_hex: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| {
            let pair = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(pair, 16).ok()
        })
        .collect()
}

fn connect(request: &Request, backend: &dyn PortalBackend) -> Response {
    let is_json = request.header("content-type").is_some_and(|value| {
        value
            .split(';')
            .next()
            .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
    });
    if !is_json {
        return json_error(415, "Content-Type must be application/json");
    }
    let body: ConnectBody = match serde_json::from_slice(&request.body) {
        Ok(body) => body,
        Err(_) => {
            return json_error(
                400,
                "expected a JSON object {\"ssid\": \"...\", \"password\": \"...\"}",
            );
        }
    };
    let ssid = match (body.ssid_hex.as_deref(), body.ssid) {
        (Some(ssid_hex), _) => match unhex(ssid_hex) {
            Some(ssid) => ssid,
            None => return json_error(400, "ssid_hex is not hex"),
        },
        (None, Some(ssid)) => ssid.into_bytes(),
        (None, None) => return json_error(400, "ssid is required"),
    };
    let password = body.password.unwrap_or_default().into_bytes();
    if let Err(error) = validate_credentials(&ssid, &password) {
        return json_error(400, &error.to_string());
    }
    match backend.connect(ssid, password) {
        Ok(()) => json_response(202, &status_json(&backend.status())),
        Err(message) => json_error(500, &message),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn own_host_forms() {
        let config = PortalConfig::default();
        for host in [
            "192.168.4.1",
            "192.168.4.1:80",
            "192.168.4.1:8080",
            " 192.168.4.1 ",
        ] {
            assert!(config.is_own_host(Some(host)), "{host}");
        }
        assert!(config.is_own_host(None));
        for host in [
            "",
            "192.168.4.10",
            "captive.apple.com",
            "[::1]:80",
            "192.168.4.1.evil",
        ] {
            assert!(!config.is_own_host(Some(host)), "{host}");
        }
    }

    #[test]
    fn unhex_rejects_odd_and_non_hex() {
        assert_eq!(unhex("00ff"), Some(vec![0, 0xff]));
        assert_eq!(unhex(""), Some(vec![]));
        assert_eq!(unhex("0"), None);
        assert_eq!(unhex("zz"), None);
        assert_eq!(unhex("é1"), None);
    }

    #[test]
    fn page_is_small_and_self_contained() {
        assert!(PAGE.len() < 8 * 1024, "{} bytes", PAGE.len());
        for id in [
            "id=\"ssid\"",
            "id=\"password\"",
            "id=\"connect\"",
            "id=\"status\"",
        ] {
            assert!(PAGE.contains(id), "{id}");
        }
        assert!(!PAGE.contains("innerHTML"));
        assert!(!PAGE.contains("src=\"http") && !PAGE.contains("href=\"http"));
    }

    #[test]
    fn device_name_is_escaped() {
        let config = PortalConfig {
            device_name: "<b>PROV_\"1\"</b>".to_owned(),
            ..PortalConfig::default()
        };
        let body = String::from_utf8(page(&config).body).unwrap();
        assert!(body.contains("&lt;b&gt;PROV_&quot;1&quot;&lt;/b&gt;"));
        assert!(!body.contains("<b>PROV_"));
        assert!(!body.contains("{{device_name}}"));
    }
}
