//! protocomm over HTTP, both ends (spec §1): [`HttpLink`] is the client's [`Link`], and
//! [`DeviceServer`] is the device's HTTP handler with ESP-IDF's rules — POST-only `/<endpoint>`,
//! bodies of 1..4096 bytes, one session at a time bound by the cookie `session=<u32>` (or by the
//! connection when there is no cookie), and a failed request answered by closing the connection
//! without a response. Optionally the same server answers the captive portal ([`crate::portal`]).
//!
//! One deliberate difference from ESP-IDF: a request that would start a new session while
//! another client's session is in use (past its first handshake step, its connection open and
//! active within [`ServerOptions::busy_timeout`], or within [`ServerOptions::handshake_timeout`]
//! while its handshake is unfinished) gets `503 Service Unavailable` instead of silently
//! destroying the first client's session. A client that starts a handshake and vanishes (its
//! connection never closed) so blocks others for the handshake timeout only.

use std::net::SocketAddr;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rand::RngCore as _;
use rand::rngs::OsRng;
use wifiprov_protocomm::device::{Device, Reply};
use wifiprov_protocomm::wifi::Action;

use crate::http::{self, ClientResponse, ConnectionId, Disposition, HttpError, Request, Response};
use crate::portal::{self, PortalBackend, PortalConfig};
use crate::provision::{Link, LinkError};

/// ESP-IDF's request body limit.
pub const MAX_BODY: usize = 4096;
/// ESP-IDF's cookie buffer: a `Cookie` header longer than this is ignored.
const COOKIE_BUFFER: usize = 20;

/// The client's HTTP link: one keep-alive connection, the session cookie echoed exactly as
/// ESP-IDF expects (`Cookie: session=<n>`).
#[derive(Debug)]
pub struct HttpLink {
    client: http::Client,
    cookie: Option<String>,
    timeout: Duration,
}

impl HttpLink {
    /// A link to the device at `addr` (e.g. 192.168.4.1:80).
    #[must_use]
    pub fn new(addr: SocketAddr, timeout: Duration) -> Self {
        Self {
            client: http::Client::new(addr, timeout),
            cookie: None,
            timeout,
        }
    }

    /// The session cookie the device gave, if any.
    #[must_use]
    pub fn cookie(&self) -> Option<&str> {
        self.cookie.as_deref()
    }

    fn remember_cookie(&mut self, response: &ClientResponse) {
        // The last `session=` cookie wins; attributes (ESP-IDF sends none) are dropped.
        for value in response.headers_named("Set-Cookie") {
            if let Some(pair) = value.split(';').next().map(str::trim)
                && pair.starts_with("session=")
            {
                self.cookie = Some(pair.to_owned());
            }
        }
    }
}

impl Link for HttpLink {
    fn round_trip(&mut self, endpoint: &str, body: &[u8]) -> Result<Vec<u8>, LinkError> {
        let path = format!("/{endpoint}");
        let cookie = self.cookie.clone();
        let headers: Vec<(&str, &str)> = cookie.iter().map(|c| ("Cookie", c.as_str())).collect();
        let response = self
            .client
            .post(&path, body, &headers)
            .map_err(|e| match e {
                HttpError::ClosedWithoutResponse { .. } => LinkError::Refused,
                HttpError::Timeout { .. } => LinkError::Timeout(self.timeout),
                other => LinkError::Transport(error_chain(&other)),
            })?;
        self.remember_cookie(&response);
        if response.status != 200 {
            return Err(LinkError::Status {
                status: response.status,
                detail: String::from_utf8_lossy(&response.body).trim().to_owned(),
            });
        }
        Ok(response.body)
    }

    fn describe(&self) -> String {
        format!("http://{}", self.client.peer())
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// What the server reports to the device runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerEvent {
    /// A client started a session.
    SessionStarted {
        /// The client (an address and port, or a Bluetooth address).
        peer: String,
    },
    /// The handshake completed.
    Established {
        /// The client (an address and port, or a Bluetooth address).
        peer: String,
    },
    /// A request failed; the connection was closed without a response.
    Rejected {
        /// The client (an address and port, or a Bluetooth address).
        peer: String,
        /// The endpoint.
        endpoint: String,
        /// Why.
        reason: String,
    },
    /// A second client was refused (503) while another one's session was in use.
    Busy {
        /// The refused client.
        peer: String,
    },
    /// A custom endpoint was called and answered.
    Custom {
        /// The client (an address and port, or a Bluetooth address).
        peer: String,
        /// The endpoint.
        endpoint: String,
        /// Request length.
        len: usize,
    },
    /// The runtime must act (join, scan, reset, done).
    Action(Action),
    /// The same, for a request made through the captive portal's page.
    PortalAction(Action),
}

/// Server behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerOptions {
    /// A session counts as in use for this long after its last request while its connection
    /// is open (another client is refused meanwhile).
    pub busy_timeout: Duration,
    /// The same while the session's handshake is unfinished: a real client sends its next
    /// handshake step at once, so an abandoned handshake stops protecting the session soon.
    pub handshake_timeout: Duration,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            busy_timeout: Duration::from_secs(60),
            handshake_timeout: Duration::from_secs(10),
        }
    }
}

/// Answers a custom endpoint: (endpoint, decrypted request) → plaintext reply.
pub type CustomHandler = Box<dyn Fn(&str, &[u8]) -> Vec<u8> + Send + Sync>;

struct State {
    device: Device,
    /// The cookie session id, once a session exists.
    cookie_session: Option<u32>,
    /// The connection a cookie-less session is bound to.
    socket_session: Option<ConnectionId>,
    /// The connection the session's last request came on, while it is open.
    owner: Option<ConnectionId>,
    last_activity: Instant,
    /// The session got past its first handshake step: worth protecting from other clients.
    in_use: bool,
}

/// The device's HTTP handler: protocomm endpoints (and the captive portal, if configured).
pub struct DeviceServer {
    state: Mutex<State>,
    options: ServerOptions,
    events: Mutex<Sender<ServerEvent>>,
    custom: CustomHandler,
    portal: Option<(PortalConfig, Arc<dyn PortalBackend>)>,
}

impl std::fmt::Debug for DeviceServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceServer")
            .field("options", &self.options)
            .field("portal", &self.portal.as_ref().map(|(c, _)| c))
            .finish_non_exhaustive()
    }
}

impl DeviceServer {
    /// A server for `device`; events go to `events`, custom endpoints to `custom`.
    #[must_use]
    pub fn new(
        device: Device,
        options: ServerOptions,
        events: Sender<ServerEvent>,
        custom: CustomHandler,
    ) -> Self {
        Self {
            state: Mutex::new(State {
                device,
                cookie_session: None,
                socket_session: None,
                owner: None,
                last_activity: Instant::now(),
                in_use: false,
            }),
            options,
            events: Mutex::new(events),
            custom,
            portal: None,
        }
    }

    /// Also serve the captive portal (GET pages, probes, its JSON API).
    #[must_use]
    pub fn with_portal(mut self, config: PortalConfig, backend: Arc<dyn PortalBackend>) -> Self {
        self.portal = Some((config, backend));
        self
    }

    /// Runs `f` on the protocomm device (to report joining progress, scan results, …).
    pub fn with_device<R>(&self, f: impl FnOnce(&mut Device) -> R) -> R {
        f(&mut self.lock().device)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking handler thread must not take the device down with it.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn emit(&self, event: ServerEvent) {
        let sender = self
            .events
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let _ = sender.send(event);
    }

    fn protocomm(&self, conn: ConnectionId, peer: SocketAddr, request: &Request) -> Disposition {
        let endpoint = request.path.trim_start_matches('/');
        let mut state = self.lock();
        if !state.device.has_endpoint(endpoint) {
            return Disposition::Respond(Response::status(404));
        }
        if request.method != "POST" {
            return Disposition::Respond(Response::status(405).with_header("Allow", "POST"));
        }
        // The session: cookie first, then the connection (spec §1.3).
        let cookie = request.header("Cookie").filter(|c| c.len() < COOKIE_BUFFER);
        let same = match (cookie, state.cookie_session) {
            (Some(value), Some(id)) => value == format!("session={id}"),
            (Some(_), None) => false,
            (None, _) => state.socket_session == Some(conn),
        };
        let mut new_cookie = None;
        if same {
            if cookie.is_some() {
                state.socket_session = None;
            }
        } else {
            let protected_for = if state.device.is_established() {
                self.options.busy_timeout
            } else {
                self.options.handshake_timeout
            };
            let busy = state.in_use
                && state.owner.is_some_and(|owner| owner != conn)
                && state.last_activity.elapsed() < protected_for;
            if busy {
                drop(state);
                self.emit(ServerEvent::Busy {
                    peer: peer.to_string(),
                });
                return Disposition::RespondAndClose(Response::status(503).with_body(
                    "text/plain",
                    "another client is provisioning this device; try again later\n",
                ));
            }
            let id = OsRng.next_u32();
            state.device.new_session();
            state.in_use = false;
            state.cookie_session = Some(id);
            state.socket_session = Some(conn);
            new_cookie = Some(id);
            self.emit(ServerEvent::SessionStarted {
                peer: peer.to_string(),
            });
        }
        state.owner = Some(conn);
        state.last_activity = Instant::now();

        if request.body.is_empty() || request.body.len() > MAX_BODY {
            state.owner = None;
            drop(state);
            self.reject(peer, endpoint, "body is not 1..4096 bytes");
            return Disposition::Close;
        }
        let was_established = state.device.is_established();
        let answered = match answer(&mut state.device, endpoint, &request.body, &self.custom) {
            Ok(answered) => answered,
            Err((endpoint, reason)) => {
                // This connection is closed now: it holds the session no longer.
                state.owner = None;
                drop(state);
                self.reject(peer, &endpoint, &reason);
                return Disposition::Close;
            }
        };
        let Answered {
            body,
            action,
            custom,
        } = answered;
        if let Some((endpoint, len)) = custom {
            self.emit(ServerEvent::Custom {
                peer: peer.to_string(),
                endpoint,
                len,
            });
        }
        let established = !was_established && state.device.is_established();
        if endpoint == wifiprov_protocomm::device::endpoint::SESSION {
            state.in_use = true;
        }
        drop(state);
        if established {
            self.emit(ServerEvent::Established {
                peer: peer.to_string(),
            });
        }
        if let Some(action) = action {
            self.emit(ServerEvent::Action(action));
        }
        // esp_http_server's default content type; the cookie exactly as ESP-IDF sets it.
        let mut response = Response::ok("text/html", body);
        if let Some(id) = new_cookie {
            response = response.with_header("Set-Cookie", format!("session={id}"));
        }
        Disposition::Respond(response)
    }

    fn reject(&self, peer: SocketAddr, endpoint: &str, reason: &str) {
        self.emit(ServerEvent::Rejected {
            peer: peer.to_string(),
            endpoint: endpoint.to_owned(),
            reason: reason.to_owned(),
        });
    }
}

impl http::Handler for DeviceServer {
    fn handle(&self, conn: ConnectionId, peer: SocketAddr, request: &Request) -> Disposition {
        let endpoint = request.path.trim_start_matches('/');
        let is_protocomm = self.lock().device.has_endpoint(endpoint);
        if !is_protocomm
            && let Some((config, backend)) = &self.portal
            && let Some(response) = portal::route(request, backend.as_ref(), config)
        {
            return Disposition::Respond(response);
        }
        self.protocomm(conn, peer, request)
    }

    fn connection_closed(&self, conn: ConnectionId) {
        let mut state = self.lock();
        // The cookie session survives TCP reconnects; only the socket binding goes.
        if state.socket_session == Some(conn) {
            state.socket_session = None;
        }
        if state.owner == Some(conn) {
            state.owner = None;
        }
    }
}

/// A request the protocomm device answered.
pub(crate) struct Answered {
    /// The response bytes (encrypted where the session encrypts).
    pub(crate) body: Vec<u8>,
    /// What the runtime must do.
    pub(crate) action: Option<Action>,
    /// A custom endpoint was called: its name and the request's length.
    pub(crate) custom: Option<(String, usize)>,
}

/// Runs one request through `device` (custom endpoints answered by `custom`), whatever the
/// transport. A failure names the endpoint and why; the transport then ends the exchange
/// without an answer, as ESP-IDF does.
pub(crate) fn answer(
    device: &mut Device,
    endpoint: &str,
    body: &[u8],
    custom: &CustomHandler,
) -> Result<Answered, (String, String)> {
    let (reply, action) = device
        .handle_request(endpoint, body, monotonic_ms(), &mut OsRng)
        .map_err(|e| (endpoint.to_owned(), e.to_string()))?;
    match reply {
        Reply::Bytes(body) => Ok(Answered {
            body,
            action,
            custom: None,
        }),
        Reply::Custom { endpoint, data } => {
            let answer = custom(&endpoint, &data);
            let body = device
                .custom_reply(&answer)
                .map_err(|e| (endpoint.clone(), e.to_string()))?;
            Ok(Answered {
                body,
                action,
                custom: Some((endpoint, data.len())),
            })
        }
    }
}

/// Milliseconds on a monotonic clock (since its first use in this process): the time of the
/// protocomm device's wrong-proof throttle.
pub(crate) fn monotonic_ms() -> u64 {
    static EPOCH: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    let elapsed = EPOCH.get_or_init(std::time::Instant::now).elapsed();
    u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
}

/// The http server configuration for protocomm: ESP-IDF's body limit plus room for the portal's
/// form posts, a long idle timeout (esp_prov idles while the user types).
#[must_use]
pub fn http_config() -> http::ServerConfig {
    http::ServerConfig {
        max_body: 16 * 1024,
        ..http::ServerConfig::default()
    }
}
