//! A small, hardened HTTP/1.1 server and client on blocking std sockets: the SoftAP transport
//! (protocomm over HTTP, spec §1) and the captive portal ([`crate::portal`]) run on it.
//!
//! Layers, from pure to I/O:
//!
//! * Sans-IO codecs. [`RequestParser`] and [`ResponseParser`] turn bytes, fed in pieces of any
//!   size, into [`Request`]s and [`ClientResponse`]s; [`Response::to_bytes`] and the client's
//!   request writer go the other way. They never panic on any input, and they enforce
//!   [`Limits`]: a header block of at most 8 KiB (and at most [`MAX_HEADERS`] fields), bodies
//!   framed by `Content-Length` only and no longer than `max_body` (16 KiB by default).
//! * [`Server`]: one thread per TCP connection, at most [`ServerConfig::max_connections`] at once
//!   and [`ServerConfig::max_per_peer`] from one address (more are accepted and closed at once:
//!   one station flooding the device cannot take the slots of the others). A [`Handler`] answers each request with a
//!   [`Disposition`]; [`Disposition::Close`] drops the connection **without any response**, which
//!   is how ESP-IDF's protocomm reports a failed request (spec §1.2).
//! * [`Client`]: one keep-alive connection, reused for every request, sending the headers
//!   `esp_prov` sends (Python `http.client`). A request is never retried: if the server closes
//!   the connection without answering, the caller gets [`HttpError::ClosedWithoutResponse`] and
//!   the next request connects again.
//!
//! # Protocol choices
//!
//! | Situation (server side) | Answer |
//! |---|---|
//! | malformed request line or header, bad `Content-Length` | 400, close |
//! | `POST`/`PUT`/`PATCH` without `Content-Length` | 411, close |
//! | body longer than `max_body` | 413, close |
//! | header block longer than `max_header`, or too many fields | 431, close |
//! | any `Transfer-Encoding` (chunked bodies) | 501, close |
//! | request not complete within `request_timeout` | 408, close |
//! | new connection silent for `request_timeout` | close silently |
//! | no new request within `idle_timeout` after a response | close silently |
//! | handler panicked | 500, close |
//! | `Expect: 100-continue` (HTTP/1.1, non-empty body) | `100 Continue`, then the body is read |
//!
//! After every response that closes the connection the server shuts down its sending side and
//! drains what the client still sends (at most 1 s, 1 MiB) before closing, so that the client
//! reads the answer instead of a reset. Keep-alive follows RFC 9112: HTTP/1.1 keeps the
//! connection unless either side says `Connection: close`; HTTP/1.0 closes unless the request
//! says `Connection: keep-alive`. Several requests sent back to back are answered in order.
//! Responses always carry `Content-Length` except 1xx, 204 and 304, which have no body (RFC 9110
//! forbids the field on 1xx and 204). `HEAD` gets the headers of the `GET` answer without a body.
//! Header values that are not UTF-8 are decoded lossily; request targets are not percent-decoded.
//! The `Host` header is not required (esp_http_server does not require it either).
//!
//! Not supported: TLS, chunked bodies in either direction, HTTP/2, compression, trailers.
//!
//! ```
//! use std::net::SocketAddr;
//! use std::sync::Arc;
//! use std::time::Duration;
//! use wifiprov_transport::http::{
//!     Client, ConnectionId, Disposition, Handler, Request, Response, Server, ServerConfig,
//! };
//!
//! struct Echo;
//! impl Handler for Echo {
//!     fn handle(&self, _conn: ConnectionId, _peer: SocketAddr, request: &Request) -> Disposition {
//!         match request.path.as_str() {
//!             "/echo" => Disposition::Respond(Response::ok("text/plain", request.body.clone())),
//!             _ => Disposition::Close, // like protocomm: no answer at all
//!         }
//!     }
//! }
//!
//! let addr: SocketAddr = "127.0.0.1:0".parse()?;
//! let server = Server::bind(addr, ServerConfig::default(), Arc::new(Echo))?.spawn()?;
//! let mut client = Client::new(server.local_addr(), Duration::from_secs(5));
//! let reply = client.post("/echo", b"hello", &[])?;
//! assert_eq!((reply.status, reply.body.as_slice()), (200, &b"hello"[..]));
//! assert!(client.post("/other", b"x", &[]).is_err()); // ClosedWithoutResponse
//! server.shutdown();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Read, Write};
use std::mem;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Default limit of a header block (request or status line included), in bytes.
pub const DEFAULT_MAX_HEADER: usize = 8 * 1024;
/// Default limit of a request body, in bytes.
pub const DEFAULT_MAX_BODY: usize = 16 * 1024;
/// Default limit of a response body read by [`Client`], in bytes.
pub const DEFAULT_CLIENT_MAX_BODY: usize = 1024 * 1024;
/// The most header fields a message may have.
pub const MAX_HEADERS: usize = 64;

/// Bytes read from a socket at a time.
const READ_CHUNK: usize = 8 * 1024;
/// How long a closing server connection drains what the client still sends.
const LINGER: Duration = Duration::from_secs(1);
/// How much a closing server connection drains at most.
const LINGER_BYTES: usize = 1024 * 1024;
/// Pause after an accept error that is not about one connection (out of descriptors).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// The shortest timeout set on a socket (the OS rejects zero).
const MIN_TIMEOUT: Duration = Duration::from_millis(1);

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Why bytes are not an acceptable HTTP message (the sans-IO boundary).
///
/// [`ParseError::status`] is the status code the server answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The start line or a header does not parse, or `Content-Length` is invalid or conflicting.
    #[error("malformed message: {0}")]
    Malformed(&'static str),
    /// The header block is longer than the limit, or has more than [`MAX_HEADERS`] fields.
    #[error("header block larger than {max} bytes or more than 64 fields")]
    HeaderTooLarge {
        /// The limit in bytes.
        max: usize,
    },
    /// The announced body is longer than the limit.
    #[error("body of {length} bytes is larger than the limit of {max}")]
    BodyTooLarge {
        /// The announced length (`u64::MAX` if it does not even fit in a `u64`).
        length: u64,
        /// The limit in bytes.
        max: usize,
    },
    /// A request whose method carries a body has no `Content-Length`.
    #[error("the request has no Content-Length")]
    LengthRequired,
    /// The message uses `Transfer-Encoding` (chunked bodies are not supported).
    #[error("Transfer-Encoding is not supported")]
    TransferEncoding,
    /// The connection ended in the middle of a message.
    #[error("the connection closed in the middle of a message")]
    Truncated,
}

impl ParseError {
    /// The status code a server answers this error with.
    #[must_use]
    pub fn status(&self) -> u16 {
        match self {
            Self::Malformed(_) | Self::Truncated => 400,
            Self::LengthRequired => 411,
            Self::BodyTooLarge { .. } => 413,
            Self::HeaderTooLarge { .. } => 431,
            Self::TransferEncoding => 501,
        }
    }
}

/// Why a [`Client`] request failed.
///
/// The OS error, where there is one, is the [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The TCP connection could not be opened.
    #[error("connecting to {peer}")]
    Connect {
        /// The server.
        peer: SocketAddr,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// Reading or writing failed (other than a timeout or a close before the response).
    #[error("I/O with {peer}")]
    Io {
        /// The server.
        peer: SocketAddr,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The response did not arrive within the client's timeout. The connection is dropped.
    #[error("{peer} did not answer within {timeout:?}")]
    Timeout {
        /// The server.
        peer: SocketAddr,
        /// The client's timeout.
        timeout: Duration,
    },
    /// The server closed (or reset) the connection without sending any response byte; for
    /// protocomm this means the request failed on the device (spec §1.2).
    #[error("{peer} closed the connection without a response")]
    ClosedWithoutResponse {
        /// The server.
        peer: SocketAddr,
    },
    /// The response does not parse or breaks a limit.
    #[error("invalid response from {peer}")]
    InvalidResponse {
        /// The server.
        peer: SocketAddr,
        /// What is wrong with it.
        #[source]
        source: ParseError,
    },
    /// The caller's request cannot be sent (bad method, path or header; a caller bug).
    #[error("invalid request: {0}")]
    InvalidRequest(&'static str),
}

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

/// Size limits of a parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Limits {
    /// Longest header block, start line and final empty line included.
    pub max_header: usize,
    /// Longest body.
    pub max_body: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_header: DEFAULT_MAX_HEADER,
            max_body: DEFAULT_MAX_BODY,
        }
    }
}

/// The HTTP version of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// HTTP/1.0: the connection closes after each response unless asked otherwise.
    Http10,
    /// HTTP/1.1: connections persist unless a side says `Connection: close`.
    Http11,
}

/// A parsed request, as a [`Handler`] sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method, as sent (methods are case-sensitive).
    pub method: String,
    /// The path, without the query, not percent-decoded; `*` for `OPTIONS *`. An absolute-form
    /// target (`http://host/path`) is reduced to its path.
    pub path: String,
    /// The query without the `?`; empty if there is none.
    pub query: String,
    /// The HTTP version.
    pub version: Version,
    /// Header fields in the order received, names as sent, values trimmed (and decoded lossily
    /// if they are not UTF-8).
    pub headers: Vec<(String, String)>,
    /// The body (empty if there is none).
    pub body: Vec<u8>,
}

impl Request {
    /// A request for tests and routers: `target` is split at the first `?`; HTTP/1.1, no
    /// headers, no body. Nothing is validated.
    #[must_use]
    pub fn new(method: &str, target: &str) -> Self {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        Self {
            method: method.to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
            version: Version::Http11,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds a header field (builder style).
    #[must_use]
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sets the body (builder style).
    #[must_use]
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// The first header field called `name` (case-insensitive).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// Every header field called `name` (case-insensitive), in order.
    #[must_use]
    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        headers_named(&self.headers, name)
    }

    /// Whether the client lets the connection persist after the response.
    #[must_use]
    pub fn keep_alive(&self) -> bool {
        keep_alive(self.version, &self.headers)
    }
}

/// A response built by a [`Handler`].
///
/// The server owns the framing: `Content-Length`, `Transfer-Encoding` and `Connection` fields
/// set here are not sent (a `Connection: close` field makes the server close the connection
/// after the response, like [`Disposition::RespondAndClose`]). Header fields with an invalid
/// name, or a value containing CR, LF or another control character, are dropped (and logged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code; codes outside 100..=999 are sent as 500.
    pub status: u16,
    /// Header fields, in order.
    pub headers: Vec<(String, String)>,
    /// The body; not sent for 1xx, 204 and 304 or in answer to `HEAD`.
    pub body: Vec<u8>,
}

impl Response {
    /// `200 OK` with a `Content-Type` and a body.
    #[must_use]
    pub fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Self::status(200).with_body(content_type, body)
    }

    /// A response with this status code, no header fields and an empty body.
    #[must_use]
    pub fn status(code: u16) -> Self {
        Self {
            status: code,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// `302 Found` to `location`, with an empty body.
    #[must_use]
    pub fn redirect(location: &str) -> Self {
        Self::status(302).with_header("Location", location)
    }

    /// Adds a header field (builder style).
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body and its `Content-Type` (builder style).
    #[must_use]
    pub fn with_body(self, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        let mut response = self.with_header("Content-Type", content_type);
        response.body = body.into();
        response
    }

    /// The first header field called `name` (case-insensitive).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The bytes sent on the wire for a `GET` on a persistent connection (status line, header
    /// fields, `Content-Length`, body).
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        self.encode(true, None)
    }

    fn wants_close(&self) -> bool {
        has_token(&self.headers, "connection", "close")
    }

    fn encode(&self, include_body: bool, connection: Option<&str>) -> Vec<u8> {
        let status = if (100..=999).contains(&self.status) {
            self.status
        } else {
            500
        };
        let bodiless = status < 200 || status == 204 || status == 304;
        let mut out = Vec::with_capacity(128 + self.body.len());
        out.extend_from_slice(format!("HTTP/1.1 {status} {}\r\n", reason(status)).as_bytes());
        for (name, value) in &self.headers {
            if ["content-length", "transfer-encoding", "connection"]
                .iter()
                .any(|framing| name.eq_ignore_ascii_case(framing))
            {
                continue;
            }
            if !is_token(name) || !is_field_value(value) {
                log::warn!("dropping invalid response header field {name:?}");
                continue;
            }
            push_field(&mut out, name, value);
        }
        if let Some(connection) = connection {
            push_field(&mut out, "Connection", connection);
        }
        if !bodiless {
            push_field(&mut out, "Content-Length", &self.body.len().to_string());
        }
        out.extend_from_slice(b"\r\n");
        if !bodiless && include_body {
            out.extend_from_slice(&self.body);
        }
        out
    }
}

/// A response as a [`Client`] (or a [`ResponseParser`]) received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientResponse {
    /// Status code.
    pub status: u16,
    /// Reason phrase (may be empty).
    pub reason: String,
    /// The HTTP version of the response.
    pub version: Version,
    /// Header fields in the order received, values trimmed (decoded lossily if not UTF-8).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl ClientResponse {
    /// The first header field called `name` (case-insensitive).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// Every header field called `name` (case-insensitive), in order: all `Set-Cookie` values,
    /// for example.
    #[must_use]
    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        headers_named(&self.headers, name)
    }

    /// Whether the server lets the connection persist.
    #[must_use]
    pub fn keep_alive(&self) -> bool {
        keep_alive(self.version, &self.headers)
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(field, _)| field.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

fn headers_named<'a>(headers: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    headers
        .iter()
        .filter(|(field, _)| field.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
        .collect()
}

/// Whether a comma-separated header field (`Connection`) contains `token`.
fn has_token(headers: &[(String, String)], name: &str, token: &str) -> bool {
    headers_named(headers, name)
        .iter()
        .flat_map(|value| value.split(','))
        .any(|item| item.trim().eq_ignore_ascii_case(token))
}

fn keep_alive(version: Version, headers: &[(String, String)]) -> bool {
    match version {
        Version::Http11 => !has_token(headers, "connection", "close"),
        Version::Http10 => has_token(headers, "connection", "keep-alive"),
    }
}

fn push_field(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// RFC 9110 token characters.
fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A header value that cannot break the framing: no control characters other than tab.
fn is_field_value(text: &str) -> bool {
    text.bytes().all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        417 => "Expectation Failed",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

// ---------------------------------------------------------------------------------------------
// Sans-IO parsers
// ---------------------------------------------------------------------------------------------

/// Index just past the first empty line (`\n\n` or `\n\r\n`), searching from `scanned - 3`.
fn find_head_end(buffer: &[u8], scanned: usize) -> Option<usize> {
    let start = scanned.saturating_sub(3);
    let tail = buffer.get(start..)?;
    tail.iter().enumerate().find_map(|(index, &byte)| {
        if byte != b'\n' {
            return None;
        }
        match (tail.get(index + 1), tail.get(index + 2)) {
            (Some(b'\n'), _) => Some(start + index + 2),
            (Some(b'\r'), Some(b'\n')) => Some(start + index + 3),
            _ => None,
        }
    })
}

/// Buffering shared by both parsers: bytes, and how far the end of the head was searched.
#[derive(Debug, Default)]
struct HeadBuffer {
    bytes: Vec<u8>,
    scanned: usize,
}

impl HeadBuffer {
    /// The length of a complete head at the start of the buffer, if there is one.
    fn complete_head(&mut self, max_header: usize) -> Result<Option<usize>, ParseError> {
        match find_head_end(&self.bytes, self.scanned) {
            Some(end) if end > max_header => Err(ParseError::HeaderTooLarge { max: max_header }),
            Some(end) => Ok(Some(end)),
            None if self.bytes.len() > max_header => {
                Err(ParseError::HeaderTooLarge { max: max_header })
            }
            None => {
                self.scanned = self.bytes.len();
                Ok(None)
            }
        }
    }

    /// Removes and returns the first `len` bytes.
    fn take(&mut self, len: usize) -> Vec<u8> {
        let rest = self.bytes.split_off(len.min(self.bytes.len()));
        self.scanned = 0;
        mem::replace(&mut self.bytes, rest)
    }

    /// Drops leading empty lines (RFC 9112 §2.2 robustness), for requests.
    fn skip_empty_lines(&mut self) {
        let skip = self
            .bytes
            .iter()
            .take_while(|b| matches!(b, b'\r' | b'\n'))
            .count();
        if skip > 0 {
            self.bytes.drain(..skip);
            self.scanned = 0;
        }
    }
}

fn convert_headers(headers: &[httparse::Header<'_>]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|header| {
            let value = String::from_utf8_lossy(header.value);
            (
                header.name.to_owned(),
                value.trim_matches([' ', '\t']).to_owned(),
            )
        })
        .collect()
}

fn map_httparse(error: httparse::Error, max_header: usize) -> ParseError {
    match error {
        httparse::Error::TooManyHeaders => ParseError::HeaderTooLarge { max: max_header },
        httparse::Error::Version => ParseError::Malformed("unsupported HTTP version"),
        httparse::Error::HeaderName | httparse::Error::HeaderValue => {
            ParseError::Malformed("invalid header field")
        }
        httparse::Error::NewLine => ParseError::Malformed("invalid line ending"),
        httparse::Error::Status => ParseError::Malformed("invalid status"),
        httparse::Error::Token => ParseError::Malformed("invalid start line"),
    }
}

fn version_of(minor: Option<u8>) -> Result<Version, ParseError> {
    match minor {
        Some(0) => Ok(Version::Http10),
        Some(1) => Ok(Version::Http11),
        _ => Err(ParseError::Malformed("unsupported HTTP version")),
    }
}

/// The announced `Content-Length`, if any. Repeated fields and lists must agree.
fn content_length(headers: &[(String, String)]) -> Result<Option<u64>, ParseError> {
    let mut found = None;
    for value in headers_named(headers, "content-length") {
        for item in value.split(',') {
            let item = item.trim_matches([' ', '\t']);
            if item.is_empty() || !item.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ParseError::Malformed("invalid Content-Length"));
            }
            let length = item
                .bytes()
                .try_fold(0_u64, |acc, digit| {
                    acc.checked_mul(10)?
                        .checked_add(u64::from(digit.wrapping_sub(b'0')))
                })
                .unwrap_or(u64::MAX);
            match found {
                Some(previous) if previous != length => {
                    return Err(ParseError::Malformed("conflicting Content-Length"));
                }
                _ => found = Some(length),
            }
        }
    }
    Ok(found)
}

fn checked_length(length: u64, max_body: usize) -> Result<usize, ParseError> {
    match usize::try_from(length) {
        Ok(length) if length <= max_body => Ok(length),
        _ => Err(ParseError::BodyTooLarge {
            length,
            max: max_body,
        }),
    }
}

/// Splits a request target into path and query (origin, absolute and asterisk forms).
fn split_target(target: &str) -> Result<(String, String), ParseError> {
    let origin = if target.starts_with('/') || target == "*" {
        target.to_owned()
    } else {
        let lower = target.get(..8).unwrap_or(target).to_ascii_lowercase();
        let scheme_len = if lower.starts_with("http://") {
            7
        } else if lower.starts_with("https://") {
            8
        } else {
            return Err(ParseError::Malformed("invalid request target"));
        };
        let rest = target.get(scheme_len..).unwrap_or("");
        let cut = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let after = rest.get(cut..).unwrap_or("");
        if after.starts_with('/') {
            after.to_owned()
        } else {
            format!("/{after}")
        }
    };
    let origin = origin
        .split_once('#')
        .map_or(origin.as_str(), |(before, _)| before);
    let (path, query) = origin.split_once('?').unwrap_or((origin, ""));
    let path = if path.is_empty() { "/" } else { path };
    Ok((path.to_owned(), query.to_owned()))
}

#[derive(Debug)]
enum RequestState {
    Head,
    Body { request: Request, length: usize },
    Failed(ParseError),
}

/// Incremental request parser: feed it bytes as they arrive, take requests as they complete.
///
/// Call [`feed`](Self::feed) with new bytes; it returns at most one request. Requests sent back
/// to back stay buffered: call `feed(&[])` until it returns `Ok(None)` before reading more
/// input. After an error the parser is poisoned and returns the same error forever (the
/// connection must close); [`reset`](Self::reset) starts over.
#[derive(Debug)]
pub struct RequestParser {
    limits: Limits,
    buffer: HeadBuffer,
    state: RequestState,
    continue_pending: bool,
}

impl RequestParser {
    /// A parser enforcing `limits`.
    #[must_use]
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            buffer: HeadBuffer::default(),
            state: RequestState::Head,
            continue_pending: false,
        }
    }

    /// Appends `bytes` and returns the next complete request, if there is one.
    ///
    /// # Errors
    ///
    /// * [`ParseError::Malformed`]: bad start line, header field or `Content-Length`.
    /// * [`ParseError::HeaderTooLarge`]: the head exceeds `max_header` or [`MAX_HEADERS`].
    /// * [`ParseError::BodyTooLarge`]: `Content-Length` exceeds `max_body`.
    /// * [`ParseError::LengthRequired`]: `POST`, `PUT` or `PATCH` without `Content-Length`.
    /// * [`ParseError::TransferEncoding`]: any `Transfer-Encoding` field.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Option<Request>, ParseError> {
        if let RequestState::Failed(error) = self.state {
            return Err(error);
        }
        self.buffer.bytes.extend_from_slice(bytes);
        let result = self.step();
        if let Err(error) = result {
            self.state = RequestState::Failed(error);
            self.buffer = HeadBuffer::default();
            self.continue_pending = false;
        }
        result
    }

    /// Bytes buffered and not yet returned as part of a request.
    #[must_use]
    pub fn buffered_len(&self) -> usize {
        self.buffer.bytes.len()
    }

    /// Whether no request is partly received (nothing buffered, no body awaited).
    #[must_use]
    pub fn is_idle(&self) -> bool {
        matches!(self.state, RequestState::Head) && self.buffer.bytes.is_empty()
    }

    /// True once after the head of an HTTP/1.1 request with `Expect: 100-continue` and a body
    /// was accepted: the server should now send `100 Continue`.
    pub fn take_continue(&mut self) -> bool {
        mem::take(&mut self.continue_pending)
    }

    /// Forgets everything buffered and any error.
    pub fn reset(&mut self) {
        *self = Self::new(self.limits);
    }

    fn step(&mut self) -> Result<Option<Request>, ParseError> {
        loop {
            match mem::replace(&mut self.state, RequestState::Head) {
                RequestState::Failed(error) => {
                    self.state = RequestState::Failed(error);
                    return Err(error);
                }
                RequestState::Head => {
                    self.buffer.skip_empty_lines();
                    let Some(end) = self.buffer.complete_head(self.limits.max_header)? else {
                        return Ok(None);
                    };
                    let head = self.buffer.bytes.get(..end).unwrap_or_default();
                    let (request, length) = parse_request_head(head, self.limits)?;
                    self.buffer.take(end);
                    self.continue_pending = length > self.buffer.bytes.len()
                        && request.version == Version::Http11
                        && request
                            .header("expect")
                            .is_some_and(|value| value.eq_ignore_ascii_case("100-continue"));
                    self.state = RequestState::Body { request, length };
                }
                RequestState::Body {
                    mut request,
                    length,
                } => {
                    if self.buffer.bytes.len() < length {
                        self.state = RequestState::Body { request, length };
                        return Ok(None);
                    }
                    request.body = self.buffer.take(length);
                    self.continue_pending = false;
                    return Ok(Some(request));
                }
            }
        }
    }
}

fn parse_request_head(head: &[u8], limits: Limits) -> Result<(Request, usize), ParseError> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut fields);
    match parsed.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => {
            return Err(ParseError::Malformed("incomplete request head"));
        }
        Err(error) => return Err(map_httparse(error, limits.max_header)),
    }
    let (Some(method), Some(target)) = (parsed.method, parsed.path) else {
        return Err(ParseError::Malformed("incomplete request line"));
    };
    let version = version_of(parsed.version)?;
    let (path, query) = split_target(target)?;
    let headers = convert_headers(parsed.headers);
    if find_header(&headers, "transfer-encoding").is_some() {
        return Err(ParseError::TransferEncoding);
    }
    let length = match content_length(&headers)? {
        Some(length) => checked_length(length, limits.max_body)?,
        None if matches!(method, "POST" | "PUT" | "PATCH") => {
            return Err(ParseError::LengthRequired);
        }
        None => 0,
    };
    let request = Request {
        method: method.to_owned(),
        path,
        query,
        version,
        headers,
        body: Vec::new(),
    };
    Ok((request, length))
}

#[derive(Debug)]
enum ResponseState {
    Head,
    Body {
        response: ClientResponse,
        length: usize,
    },
    UntilClose {
        response: ClientResponse,
    },
    Failed(ParseError),
}

/// Incremental response parser for a client.
///
/// Like [`RequestParser`]: [`feed`](Self::feed) returns at most one response (skipping 1xx
/// interim responses); call [`finish`](Self::finish) when the connection reaches EOF, which
/// completes a body delimited by the close. Bodies are framed by `Content-Length` or by the
/// close; `Transfer-Encoding` is rejected. After an error the parser is poisoned.
#[derive(Debug)]
pub struct ResponseParser {
    limits: Limits,
    head_request: bool,
    buffer: HeadBuffer,
    state: ResponseState,
}

impl ResponseParser {
    /// A parser enforcing `limits`; `head_request` says the request was `HEAD` (no body follows).
    #[must_use]
    pub fn new(limits: Limits, head_request: bool) -> Self {
        Self {
            limits,
            head_request,
            buffer: HeadBuffer::default(),
            state: ResponseState::Head,
        }
    }

    /// Appends `bytes` and returns the next complete response, if there is one.
    ///
    /// # Errors
    ///
    /// [`ParseError::Malformed`], [`ParseError::HeaderTooLarge`], [`ParseError::BodyTooLarge`]
    /// and [`ParseError::TransferEncoding`], as for requests.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Option<ClientResponse>, ParseError> {
        if let ResponseState::Failed(error) = self.state {
            return Err(error);
        }
        self.buffer.bytes.extend_from_slice(bytes);
        let result = self.step();
        self.poison_on(result)
    }

    /// The connection reached EOF: returns a response whose body ran until the close, `None` if
    /// nothing at all was buffered.
    ///
    /// # Errors
    ///
    /// [`ParseError::Truncated`] if a response was partly received.
    pub fn finish(&mut self) -> Result<Option<ClientResponse>, ParseError> {
        let result = match mem::replace(&mut self.state, ResponseState::Head) {
            ResponseState::Failed(error) => Err(error),
            ResponseState::UntilClose { mut response } => {
                response.body = self.buffer.take(usize::MAX);
                Ok(Some(response))
            }
            ResponseState::Head if self.buffer.bytes.is_empty() => Ok(None),
            ResponseState::Head | ResponseState::Body { .. } => Err(ParseError::Truncated),
        };
        self.poison_on(result)
    }

    /// Bytes buffered and not yet returned as part of a response.
    #[must_use]
    pub fn buffered_len(&self) -> usize {
        self.buffer.bytes.len()
    }

    fn poison_on(
        &mut self,
        result: Result<Option<ClientResponse>, ParseError>,
    ) -> Result<Option<ClientResponse>, ParseError> {
        if let Err(error) = result {
            self.state = ResponseState::Failed(error);
            self.buffer = HeadBuffer::default();
        }
        result
    }

    fn step(&mut self) -> Result<Option<ClientResponse>, ParseError> {
        loop {
            match mem::replace(&mut self.state, ResponseState::Head) {
                ResponseState::Failed(error) => {
                    self.state = ResponseState::Failed(error);
                    return Err(error);
                }
                ResponseState::Head => {
                    let Some(end) = self.buffer.complete_head(self.limits.max_header)? else {
                        return Ok(None);
                    };
                    let head = self.buffer.bytes.get(..end).unwrap_or_default();
                    let response = parse_response_head(head, self.limits.max_header)?;
                    self.buffer.take(end);
                    let status = response.status;
                    if (100..200).contains(&status) {
                        if status == 101 {
                            return Err(ParseError::Malformed("protocol switch"));
                        }
                        continue; // interim response: the real one follows
                    }
                    if find_header(&response.headers, "transfer-encoding").is_some() {
                        return Err(ParseError::TransferEncoding);
                    }
                    let length = content_length(&response.headers)?;
                    if self.head_request || status == 204 || status == 304 {
                        self.state = ResponseState::Body {
                            response,
                            length: 0,
                        };
                    } else if let Some(length) = length {
                        let length = checked_length(length, self.limits.max_body)?;
                        self.state = ResponseState::Body { response, length };
                    } else {
                        self.state = ResponseState::UntilClose { response };
                    }
                }
                ResponseState::Body {
                    mut response,
                    length,
                } => {
                    if self.buffer.bytes.len() < length {
                        self.state = ResponseState::Body { response, length };
                        return Ok(None);
                    }
                    response.body = self.buffer.take(length);
                    return Ok(Some(response));
                }
                ResponseState::UntilClose { response } => {
                    if self.buffer.bytes.len() > self.limits.max_body {
                        return Err(ParseError::BodyTooLarge {
                            length: u64::try_from(self.buffer.bytes.len()).unwrap_or(u64::MAX),
                            max: self.limits.max_body,
                        });
                    }
                    self.state = ResponseState::UntilClose { response };
                    return Ok(None);
                }
            }
        }
    }
}

fn parse_response_head(head: &[u8], max_header: usize) -> Result<ClientResponse, ParseError> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Response::new(&mut fields);
    match parsed.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => {
            return Err(ParseError::Malformed("incomplete response head"));
        }
        Err(error) => return Err(map_httparse(error, max_header)),
    }
    let Some(status) = parsed.code else {
        return Err(ParseError::Malformed("incomplete status line"));
    };
    Ok(ClientResponse {
        status,
        reason: parsed.reason.unwrap_or("").to_owned(),
        version: version_of(parsed.version)?,
        headers: convert_headers(parsed.headers),
        body: Vec::new(),
    })
}

// ---------------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------------

/// Identifies one TCP connection accepted by a [`Server`] (unique for the server's lifetime,
/// counting from 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(pub u64);

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// What the server does with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Disposition {
    /// Send the response; keep the connection if the client wants to.
    Respond(Response),
    /// Send the response with `Connection: close`, then close.
    RespondAndClose(Response),
    /// Close the connection without sending anything (ESP-IDF's answer to a failed protocomm
    /// request, spec §1.2).
    Close,
}

/// Answers requests; shared by all connection threads.
pub trait Handler: Send + Sync {
    /// Answers `request`, received on connection `conn` from `peer`. Requests on one
    /// connection arrive in order, one at a time. A panic is answered with 500 and a close.
    fn handle(&self, conn: ConnectionId, peer: SocketAddr, request: &Request) -> Disposition;

    /// Called exactly once when connection `conn` has ended, whatever the reason (client
    /// close, timeout, error, [`Disposition::Close`], shutdown), after its socket is closed.
    /// Connections refused by the `max_connections` limit get no id and no call.
    fn connection_closed(&self, conn: ConnectionId) {
        let _ = conn;
    }
}

/// Server limits and timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerConfig {
    /// Longest request body (default 16 KiB); longer → 413.
    pub max_body: usize,
    /// Longest header block (default 8 KiB); longer → 431.
    pub max_header: usize,
    /// A request must arrive completely within this time from its first byte (slowloris guard;
    /// default 10 s) → 408 and close. Each response must be written within it, and a new
    /// connection must send the first byte of its first request within it (else a silent close;
    /// idle connections that never ask anything would otherwise hold the few slots).
    pub request_timeout: Duration,
    /// How long a connection may wait for its next request after a response (default 300 s:
    /// ESP-IDF never closes idle sockets and esp_prov idles while the user types a passphrase)
    /// → silent close.
    pub idle_timeout: Duration,
    /// Connections served at once (default 16); more are accepted and closed at once.
    pub max_connections: usize,
    /// Connections served at once from one IP address (default 6, a browser's parallel
    /// connections); more from it are accepted and closed at once.
    pub max_per_peer: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            max_body: DEFAULT_MAX_BODY,
            max_header: DEFAULT_MAX_HEADER,
            request_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(300),
            max_connections: 16,
            max_per_peer: 6,
        }
    }
}

impl ServerConfig {
    /// The parser limits of this configuration.
    #[must_use]
    pub fn limits(&self) -> Limits {
        Limits {
            max_header: self.max_header,
            max_body: self.max_body,
        }
    }
}

/// A bound, not yet running server; [`spawn`](Self::spawn) starts it.
pub struct Server<H> {
    listener: TcpListener,
    local_addr: SocketAddr,
    config: ServerConfig,
    handler: Arc<H>,
}

impl<H> fmt::Debug for Server<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.local_addr)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<H: Handler + 'static> Server<H> {
    /// Binds a listening socket (port 0 picks a free port).
    ///
    /// # Errors
    ///
    /// The OS error of `bind`/`listen`.
    pub fn bind(addr: SocketAddr, config: ServerConfig, handler: Arc<H>) -> io::Result<Self> {
        let listener = TcpListener::bind(addr)?;
        let local_addr = listener.local_addr()?;
        Ok(Self {
            listener,
            local_addr,
            config,
            handler,
        })
    }

    /// The bound address (with the real port).
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Starts accepting on a background thread.
    ///
    /// # Errors
    ///
    /// The OS error if the listener cannot be duplicated or the thread cannot be started.
    pub fn spawn(self) -> io::Result<ServerHandle> {
        let waker = self.listener.try_clone()?;
        let shared = Arc::new(Shared::default());
        let accept = thread::Builder::new()
            .name(format!("http-accept-{}", self.local_addr.port()))
            .spawn({
                let shared = Arc::clone(&shared);
                move || accept_loop(&self.listener, &self.handler, self.config, &shared)
            })?;
        Ok(ServerHandle {
            local_addr: self.local_addr,
            shared,
            waker,
            accept: Some(accept),
        })
    }
}

/// A running server. [`shutdown`](Self::shutdown) (or dropping it) stops accepting, closes every
/// connection and joins every thread; it waits only for handler calls already running.
#[derive(Debug)]
pub struct ServerHandle {
    local_addr: SocketAddr,
    shared: Arc<Shared>,
    waker: TcpListener,
    accept: Option<JoinHandle<()>>,
}

impl ServerHandle {
    /// The bound address.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Connections being served right now.
    #[must_use]
    pub fn open_connections(&self) -> usize {
        self.shared.lock().open.len()
    }

    /// Stops the server and joins its threads.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let Some(accept) = self.accept.take() else {
            return;
        };
        self.shared.stopping.store(true, Ordering::SeqCst);
        // On Linux, shutting a listening socket down wakes a blocked accept() with EINVAL; a
        // connection to ourselves is the portable fallback.
        if socket2::SockRef::from(&self.waker)
            .shutdown(Shutdown::Both)
            .is_err()
        {
            let _ = TcpStream::connect_timeout(&wake_address(self.local_addr), LINGER);
        }
        if accept.join().is_err() {
            log::error!("http server {}: accept thread panicked", self.local_addr);
        }
        let threads = {
            let mut state = self.shared.lock();
            for (stream, _) in state.open.values() {
                let _ = stream.shutdown(Shutdown::Both);
            }
            mem::take(&mut state.threads)
        };
        for thread in threads {
            let _ = thread.join();
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

fn wake_address(local: SocketAddr) -> SocketAddr {
    match local.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => (Ipv4Addr::LOCALHOST, local.port()).into(),
        IpAddr::V6(ip) if ip.is_unspecified() => (Ipv6Addr::LOCALHOST, local.port()).into(),
        _ => local,
    }
}

#[derive(Debug, Default)]
struct Shared {
    stopping: AtomicBool,
    state: Mutex<Connections>,
}

#[derive(Debug, Default)]
struct Connections {
    /// A clone of every served connection's socket (to shut it down on stop) and its peer.
    open: HashMap<ConnectionId, (TcpStream, IpAddr)>,
    threads: Vec<JoinHandle<()>>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Connections> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }
}

fn accept_loop<H: Handler + 'static>(
    listener: &TcpListener,
    handler: &Arc<H>,
    config: ServerConfig,
    shared: &Arc<Shared>,
) {
    let mut next_id = 1_u64;
    loop {
        let accepted = listener.accept();
        if shared.stopping() {
            break;
        }
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                if !matches!(
                    error.kind(),
                    io::ErrorKind::Interrupted
                        | io::ErrorKind::ConnectionAborted
                        | io::ErrorKind::ConnectionReset
                ) {
                    log::warn!("http accept failed: {error}");
                    thread::sleep(ACCEPT_BACKOFF);
                }
                continue;
            }
        };
        let mut state = shared.lock();
        state.threads.retain(|thread| !thread.is_finished());
        let from_peer = state
            .open
            .values()
            .filter(|(_, ip)| *ip == peer.ip())
            .count();
        if state.open.len() >= config.max_connections || from_peer >= config.max_per_peer {
            drop(state);
            log::debug!(
                "http: refusing {peer}: {from_peer} connections open from it, {} in all",
                config.max_connections
            );
            drop(stream);
            continue;
        }
        let Ok(clone) = stream.try_clone() else {
            continue;
        };
        let id = ConnectionId(next_id);
        next_id = next_id.wrapping_add(1);
        state.open.insert(id, (clone, peer.ip()));
        let spawned = thread::Builder::new()
            .name(format!("http-conn-{}", id.0))
            .spawn({
                let handler = Arc::clone(handler);
                let shared = Arc::clone(shared);
                move || {
                    let guard = ConnectionGuard {
                        id,
                        handler,
                        shared,
                    };
                    serve(stream, peer, id, &*guard.handler, config, &guard.shared);
                }
            });
        match spawned {
            Ok(thread) => state.threads.push(thread),
            Err(error) => {
                state.open.remove(&id);
                drop(state);
                log::warn!("http: cannot start a thread for {peer}: {error}");
                handler.connection_closed(id);
            }
        }
    }
}

/// Unregisters a connection and reports its end, however its thread ends.
struct ConnectionGuard<H: Handler> {
    id: ConnectionId,
    handler: Arc<H>,
    shared: Arc<Shared>,
}

impl<H: Handler> Drop for ConnectionGuard<H> {
    fn drop(&mut self) {
        let clone = self.shared.lock().open.remove(&self.id);
        drop(clone); // the last descriptor: the socket is closed now
        self.handler.connection_closed(self.id);
    }
}

enum After {
    KeepOpen,
    Close,
}

fn serve<H: Handler>(
    mut stream: TcpStream,
    peer: SocketAddr,
    id: ConnectionId,
    handler: &H,
    config: ServerConfig,
    shared: &Shared,
) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_write_timeout(Some(config.request_timeout.max(MIN_TIMEOUT)));
    let mut parser = RequestParser::new(config.limits());
    let mut buffer = vec![0_u8; READ_CHUNK];
    let mut received = 0_usize;
    let mut idle_since = Instant::now();
    let mut served = false;
    let mut request_started: Option<Instant> = None;
    loop {
        let mut input = buffer.get(..received).unwrap_or_default();
        loop {
            match parser.feed(input) {
                Ok(Some(request)) => {
                    input = &[];
                    match respond(&mut stream, peer, id, handler, &request, shared) {
                        After::KeepOpen => {
                            request_started = None;
                            idle_since = Instant::now();
                            served = true;
                        }
                        After::Close => return,
                    }
                }
                Ok(None) => break,
                Err(error) => {
                    log::debug!("http {id} from {peer}: {error}");
                    let response = Response::status(error.status())
                        .with_body("text/plain; charset=utf-8", format!("{error}\n"));
                    send_and_close(&mut stream, &response, true);
                    return;
                }
            }
        }
        if parser.take_continue() && stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").is_err() {
            return;
        }
        if shared.stopping() {
            return;
        }
        let now = Instant::now();
        if !parser.is_idle() {
            request_started.get_or_insert(now);
        }
        let deadline = match request_started {
            Some(started) => started.checked_add(config.request_timeout),
            // A new connection must start its first request soon; later waits are idle time.
            None if !served => idle_since.checked_add(config.request_timeout),
            None => idle_since.checked_add(config.idle_timeout),
        };
        let timeout = match deadline {
            None => None,
            Some(deadline) => match deadline.checked_duration_since(now) {
                Some(left) if !left.is_zero() => Some(left.max(MIN_TIMEOUT)),
                _ => {
                    if request_started.is_some() {
                        log::debug!("http {id} from {peer}: request timeout");
                        send_and_close(&mut stream, &Response::status(408), true);
                    }
                    return;
                }
            },
        };
        if stream.set_read_timeout(timeout).is_err() {
            return;
        }
        received = match stream.read(&mut buffer) {
            Ok(0) => return,
            Ok(n) => n,
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) =>
            {
                0
            }
            Err(_) => return,
        };
    }
}

fn respond<H: Handler>(
    stream: &mut TcpStream,
    peer: SocketAddr,
    id: ConnectionId,
    handler: &H,
    request: &Request,
    shared: &Shared,
) -> After {
    let disposition = catch_unwind(AssertUnwindSafe(|| handler.handle(id, peer, request)))
        .unwrap_or_else(|_| {
            log::error!(
                "http {id}: handler panicked on {} {}",
                request.method,
                request.path
            );
            Disposition::RespondAndClose(Response::status(500))
        });
    let (response, close) = match disposition {
        Disposition::Respond(response) => (response, false),
        Disposition::RespondAndClose(response) => (response, true),
        Disposition::Close => {
            let _ = stream.shutdown(Shutdown::Both);
            return After::Close;
        }
    };
    let close = close || !request.keep_alive() || response.wants_close() || shared.stopping();
    let include_body = request.method != "HEAD";
    if close {
        send_and_close(stream, &response, include_body);
        return After::Close;
    }
    let connection = (request.version == Version::Http10).then_some("keep-alive");
    match stream.write_all(&response.encode(include_body, connection)) {
        Ok(()) => After::KeepOpen,
        Err(_) => After::Close,
    }
}

/// Sends `response` with `Connection: close`, then closes gracefully (drains what the client
/// still sends so that it reads the response rather than a reset).
fn send_and_close(stream: &mut TcpStream, response: &Response, include_body: bool) {
    if stream
        .write_all(&response.encode(include_body, Some("close")))
        .is_err()
    {
        return;
    }
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Write);
    let deadline = Instant::now() + LINGER;
    let mut sink = [0_u8; 4096];
    let mut drained = 0_usize;
    while drained < LINGER_BYTES {
        let Some(left) = deadline
            .checked_duration_since(Instant::now())
            .filter(|left| !left.is_zero())
        else {
            break;
        };
        if stream
            .set_read_timeout(Some(left.max(MIN_TIMEOUT)))
            .is_err()
        {
            break;
        }
        match stream.read(&mut sink) {
            Ok(0) => break,
            Ok(n) => drained += n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------------------------

/// A blocking HTTP/1.1 client keeping one keep-alive connection to one server, like Python's
/// `http.client.HTTPConnection` as `esp_prov` uses it.
///
/// The connection opens on the first request and is reused while the server keeps it. Before
/// reusing it the client checks, without blocking, whether the server has closed it meanwhile
/// (then it reconnects; nothing was sent, so this is not a retry). A request that fails is never
/// retried, and the connection is dropped: the next request opens a new one.
///
/// `timeout` bounds each request as a whole (connect, send, receive); zero counts as 1 ms.
#[derive(Debug)]
pub struct Client {
    peer: SocketAddr,
    timeout: Duration,
    limits: Limits,
    stream: Option<TcpStream>,
    connections_opened: u64,
}

impl Client {
    /// A client for `peer`; does not connect yet. Responses may be up to
    /// [`DEFAULT_CLIENT_MAX_BODY`] bytes.
    #[must_use]
    pub fn new(peer: SocketAddr, timeout: Duration) -> Self {
        Self {
            peer,
            timeout: timeout.max(MIN_TIMEOUT),
            limits: Limits {
                max_header: DEFAULT_MAX_HEADER,
                max_body: DEFAULT_CLIENT_MAX_BODY,
            },
            stream: None,
            connections_opened: 0,
        }
    }

    /// Sets the longest accepted response body (builder style).
    #[must_use]
    pub fn with_max_body(mut self, max_body: usize) -> Self {
        self.limits.max_body = max_body;
        self
    }

    /// The server address.
    #[must_use]
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Whether a connection is open (it may still turn out to be closed by the server).
    #[must_use]
    pub fn is_connected(&self) -> bool {
        self.stream.is_some()
    }

    /// How many TCP connections this client has opened so far.
    #[must_use]
    pub fn connections_opened(&self) -> u64 {
        self.connections_opened
    }

    /// Closes the connection, if one is open.
    pub fn close(&mut self) {
        self.stream = None;
    }

    /// `POST path` with `body`, sending what esp_prov sends: `Host`, `Accept-Encoding:
    /// identity`, `Content-Length`, `Content-type: application/x-www-form-urlencoded`, `Accept:
    /// text/plain`. `extra_headers` are added; one with the name of a default replaces it.
    ///
    /// # Errors
    ///
    /// See [`request`](Self::request).
    pub fn post(
        &mut self,
        path: &str,
        body: &[u8],
        extra_headers: &[(&str, &str)],
    ) -> Result<ClientResponse, HttpError> {
        let mut headers = vec![
            ("Content-type", "application/x-www-form-urlencoded"),
            ("Accept", "text/plain"),
        ];
        merge_headers(&mut headers, extra_headers);
        self.request("POST", path, Some(body), &headers)
    }

    /// `GET path` with `Host`, `Accept-Encoding: identity` and `extra_headers`.
    ///
    /// # Errors
    ///
    /// See [`request`](Self::request).
    pub fn get(
        &mut self,
        path: &str,
        extra_headers: &[(&str, &str)],
    ) -> Result<ClientResponse, HttpError> {
        self.request("GET", path, None, extra_headers)
    }

    /// Sends any request: `Host` and `Accept-Encoding: identity` (unless `headers` has them),
    /// then `headers`, then `Content-Length` if there is a body. A `Connection: close` field in
    /// `headers` closes the connection after the response.
    ///
    /// # Errors
    ///
    /// * [`HttpError::InvalidRequest`]: bad method, path or header field, or a
    ///   `Content-Length`/`Transfer-Encoding` field in `headers`.
    /// * [`HttpError::Connect`], [`HttpError::Io`]: the OS error.
    /// * [`HttpError::Timeout`]: no complete response within the timeout.
    /// * [`HttpError::ClosedWithoutResponse`]: the server closed or reset the connection before
    ///   any response byte (protocomm's failure signal).
    /// * [`HttpError::InvalidResponse`]: the response does not parse or is too large.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
        headers: &[(&str, &str)],
    ) -> Result<ClientResponse, HttpError> {
        let message = self.encode_request(method, path, body, headers)?;
        let close_after = headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("connection"))
            .flat_map(|(_, value)| value.split(','))
            .any(|item| item.trim().eq_ignore_ascii_case("close"));
        let deadline = Instant::now().checked_add(self.timeout);
        if self.stream.as_ref().is_some_and(is_stale) {
            self.stream = None;
        }
        let stream = match self.stream.take() {
            Some(stream) => stream,
            None => self.connect(deadline)?,
        };
        let (response, reusable) = self.exchange(&stream, &message, method == "HEAD", deadline)?;
        if reusable && !close_after {
            self.stream = Some(stream);
        }
        Ok(response)
    }

    fn encode_request(
        &self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
        headers: &[(&str, &str)],
    ) -> Result<Vec<u8>, HttpError> {
        if !is_token(method) {
            return Err(HttpError::InvalidRequest("method is not a token"));
        }
        if !path.starts_with('/') || path.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(HttpError::InvalidRequest(
                "path must start with '/' and contain no spaces or control characters",
            ));
        }
        for (name, value) in headers {
            if !is_token(name) || !is_field_value(value) {
                return Err(HttpError::InvalidRequest("invalid header field"));
            }
            if name.eq_ignore_ascii_case("content-length")
                || name.eq_ignore_ascii_case("transfer-encoding")
            {
                return Err(HttpError::InvalidRequest(
                    "Content-Length and Transfer-Encoding are set by the client",
                ));
            }
        }
        let has = |wanted: &str| {
            headers
                .iter()
                .any(|(name, _)| name.eq_ignore_ascii_case(wanted))
        };
        let mut out = Vec::with_capacity(256 + body.map_or(0, <[u8]>::len));
        out.extend_from_slice(format!("{method} {path} HTTP/1.1\r\n").as_bytes());
        if !has("host") {
            push_field(&mut out, "Host", &host_value(self.peer));
        }
        if !has("accept-encoding") {
            push_field(&mut out, "Accept-Encoding", "identity");
        }
        if let Some(body) = body {
            push_field(&mut out, "Content-Length", &body.len().to_string());
        }
        for (name, value) in headers {
            push_field(&mut out, name, value);
        }
        out.extend_from_slice(b"\r\n");
        if let Some(body) = body {
            out.extend_from_slice(body);
        }
        Ok(out)
    }

    fn connect(&mut self, deadline: Option<Instant>) -> Result<TcpStream, HttpError> {
        let peer = self.peer;
        let left = time_left(deadline).ok_or(HttpError::Timeout {
            peer,
            timeout: self.timeout,
        })?;
        // Without a deadline (a huge timeout), still bound the connect itself.
        let left = left.unwrap_or(Duration::from_secs(3600));
        let stream = TcpStream::connect_timeout(&peer, left).map_err(|source| {
            if matches!(
                source.kind(),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
            ) {
                HttpError::Timeout {
                    peer,
                    timeout: self.timeout,
                }
            } else {
                HttpError::Connect { peer, source }
            }
        })?;
        let _ = stream.set_nodelay(true);
        self.connections_opened += 1;
        Ok(stream)
    }

    /// Sends `message` and reads one response; also says whether the connection may be reused.
    fn exchange(
        &self,
        mut stream: &TcpStream,
        message: &[u8],
        head_request: bool,
        deadline: Option<Instant>,
    ) -> Result<(ClientResponse, bool), HttpError> {
        let peer = self.peer;
        let timed_out = || HttpError::Timeout {
            peer,
            timeout: self.timeout,
        };
        let io_error = |source: io::Error, received: bool| match source.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => HttpError::Timeout {
                peer,
                timeout: self.timeout,
            },
            io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::NotConnected
            | io::ErrorKind::UnexpectedEof
                if !received =>
            {
                HttpError::ClosedWithoutResponse { peer }
            }
            _ => HttpError::Io { peer, source },
        };
        let Some(left) = time_left(deadline) else {
            return Err(timed_out());
        };
        stream
            .set_write_timeout(left)
            .map_err(|source| HttpError::Io { peer, source })?;
        stream
            .write_all(message)
            .map_err(|source| io_error(source, false))?;
        let mut parser = ResponseParser::new(self.limits, head_request);
        let mut buffer = vec![0_u8; READ_CHUNK];
        let mut received = false;
        loop {
            let Some(left) = time_left(deadline) else {
                return Err(timed_out());
            };
            stream
                .set_read_timeout(left)
                .map_err(|source| HttpError::Io { peer, source })?;
            let n = match stream.read(&mut buffer) {
                Ok(n) => n,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error)
                    if matches!(
                        error.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    continue; // the deadline check above ends the wait
                }
                Err(error) => return Err(io_error(error, received)),
            };
            let invalid = |source| HttpError::InvalidResponse { peer, source };
            if n == 0 {
                return match parser.finish().map_err(invalid)? {
                    Some(response) => Ok((response, false)),
                    None => Err(HttpError::ClosedWithoutResponse { peer }),
                };
            }
            received = true;
            let input = buffer.get(..n).unwrap_or_default();
            if let Some(response) = parser.feed(input).map_err(invalid)? {
                // Bytes after the response were not asked for: do not reuse the connection.
                let reusable = response.keep_alive() && parser.buffered_len() == 0;
                return Ok((response, reusable));
            }
        }
    }
}

/// Appends `extra` to `defaults`, replacing defaults with the same name.
fn merge_headers<'a>(defaults: &mut Vec<(&'a str, &'a str)>, extra: &[(&'a str, &'a str)]) {
    defaults.retain(|(name, _)| {
        !extra
            .iter()
            .any(|(extra_name, _)| extra_name.eq_ignore_ascii_case(name))
    });
    defaults.extend_from_slice(extra);
}

/// `Host` as Python's http.client writes it: the port only if it is not 80.
fn host_value(peer: SocketAddr) -> String {
    match (peer.ip(), peer.port()) {
        (IpAddr::V4(ip), 80) => ip.to_string(),
        (IpAddr::V6(ip), 80) => format!("[{ip}]"),
        _ => peer.to_string(),
    }
}

/// Time until `deadline` (at least 1 ms), `None` once it has passed; no deadline → a day.
fn time_left(deadline: Option<Instant>) -> Option<Option<Duration>> {
    match deadline {
        None => Some(None),
        Some(deadline) => deadline
            .checked_duration_since(Instant::now())
            .filter(|left| !left.is_zero())
            .map(|left| Some(left.max(MIN_TIMEOUT))),
    }
}

/// Whether a kept connection was closed by the server, or has unrequested bytes waiting.
fn is_stale(stream: &TcpStream) -> bool {
    if stream.set_nonblocking(true).is_err() {
        return true;
    }
    let mut byte = [0_u8; 1];
    let stale = match stream.peek(&mut byte) {
        Ok(_) => true,
        Err(error) => error.kind() != io::ErrorKind::WouldBlock,
    };
    stream.set_nonblocking(false).is_err() || stale
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;

    const GET: &[u8] =
        b"GET /a/b?x=1&y=2 HTTP/1.1\r\nHost: example\r\nX-Many: one\r\nx-many: two\r\n\r\n";
    const POST: &[u8] =
        b"POST /prov-session HTTP/1.1\r\nHost: 192.168.4.1\r\nContent-Length: 5\r\n\r\nhello";

    fn parse_all(limits: Limits, chunks: &[&[u8]]) -> Result<Vec<Request>, ParseError> {
        let mut parser = RequestParser::new(limits);
        let mut out = Vec::new();
        for chunk in chunks {
            let mut input = *chunk;
            while let Some(request) = parser.feed(input)? {
                out.push(request);
                input = &[];
            }
        }
        Ok(out)
    }

    #[test]
    fn parses_get_with_query_and_repeated_headers() {
        let requests = parse_all(Limits::default(), &[GET]).unwrap();
        assert_eq!(requests.len(), 1);
        let request = &requests[0];
        assert_eq!(request.method, "GET");
        assert_eq!(request.path, "/a/b");
        assert_eq!(request.query, "x=1&y=2");
        assert_eq!(request.version, Version::Http11);
        assert_eq!(request.header("HOST"), Some("example"));
        assert_eq!(request.headers_named("X-MANY"), ["one", "two"]);
        assert!(request.body.is_empty());
        assert!(request.keep_alive());
    }

    #[test]
    fn same_requests_at_every_split_point() {
        let stream = [POST, GET, POST].concat();
        let whole = parse_all(Limits::default(), &[&stream]).unwrap();
        assert_eq!(whole.len(), 3);
        assert_eq!(whole[0].body, b"hello");
        for split in 0..=stream.len() {
            let (a, b) = stream.split_at(split);
            assert_eq!(
                parse_all(Limits::default(), &[a, b]).unwrap(),
                whole,
                "split {split}"
            );
        }
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(parse_all(Limits::default(), &bytes).unwrap(), whole);
    }

    #[test]
    fn accepts_bare_lf_and_leading_empty_lines() {
        let requests = parse_all(
            Limits::default(),
            &[b"\r\n\nGET / HTTP/1.0\nConnection: keep-alive\n\n"],
        )
        .unwrap();
        assert_eq!(requests[0].version, Version::Http10);
        assert!(requests[0].keep_alive());
        let requests = parse_all(Limits::default(), &[b"GET / HTTP/1.0\r\n\r\n"]).unwrap();
        assert!(!requests[0].keep_alive());
    }

    #[test]
    fn target_forms() {
        assert_eq!(split_target("/x?q#f").unwrap(), ("/x".into(), "q".into()));
        assert_eq!(split_target("*").unwrap(), ("*".into(), String::new()));
        assert_eq!(
            split_target("http://captive.apple.com/hotspot-detect.html").unwrap(),
            ("/hotspot-detect.html".into(), String::new())
        );
        assert_eq!(
            split_target("HTTP://host").unwrap(),
            ("/".into(), String::new())
        );
        assert_eq!(
            split_target("http://h?q=1").unwrap(),
            ("/".into(), "q=1".into())
        );
        assert!(split_target("example.com:443").is_err());
        assert!(split_target("").is_err());
    }

    #[test]
    fn content_length_rules() {
        let cases: &[(&[u8], Result<usize, ParseError>)] = &[
            (b"POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", Ok(0)),
            (
                b"POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab",
                Ok(2),
            ),
            (b"POST / HTTP/1.1\r\nContent-Length: 2, 2\r\n\r\nab", Ok(2)),
            (
                b"POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n",
                Err(ParseError::Malformed("conflicting Content-Length")),
            ),
            (
                b"POST / HTTP/1.1\r\nContent-Length: +2\r\n\r\n",
                Err(ParseError::Malformed("invalid Content-Length")),
            ),
            (
                b"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
                Err(ParseError::BodyTooLarge {
                    length: u64::MAX,
                    max: DEFAULT_MAX_BODY,
                }),
            ),
            (b"POST / HTTP/1.1\r\n\r\n", Err(ParseError::LengthRequired)),
            (
                b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
                Err(ParseError::TransferEncoding),
            ),
            (b"DELETE / HTTP/1.1\r\n\r\n", Ok(0)),
        ];
        for (index, (input, expected)) in cases.iter().enumerate() {
            let result = parse_all(Limits::default(), &[input]).map(|r| r[0].body.len());
            assert_eq!(&result, expected, "case {index}");
        }
    }

    #[test]
    fn header_limit_counts_the_whole_head() {
        let limits = Limits {
            max_header: 40,
            max_body: 10,
        };
        let fits = b"GET / HTTP/1.1\r\nHost: abcdefghijklmn\r\n\r\n";
        assert_eq!(fits.len(), 40);
        assert_eq!(parse_all(limits, &[fits]).unwrap().len(), 1);
        let over = b"GET / HTTP/1.1\r\nHost: abcdefghijklmno\r\n\r\n";
        assert_eq!(
            parse_all(limits, &[over]),
            Err(ParseError::HeaderTooLarge { max: 40 })
        );
        // Without a terminator, the limit trips as soon as the buffer exceeds it.
        assert_eq!(
            parse_all(limits, &[&[b'a'; 41]]),
            Err(ParseError::HeaderTooLarge { max: 40 })
        );
        assert_eq!(parse_all(limits, &[&[b'a'; 40]]).unwrap().len(), 0);
    }

    #[test]
    fn too_many_fields_is_header_too_large() {
        let mut head = b"GET / HTTP/1.1\r\n".to_vec();
        for index in 0..=MAX_HEADERS {
            head.extend_from_slice(format!("X-{index}: v\r\n").as_bytes());
        }
        head.extend_from_slice(b"\r\n");
        assert_eq!(
            parse_all(Limits::default(), &[&head]),
            Err(ParseError::HeaderTooLarge {
                max: DEFAULT_MAX_HEADER
            })
        );
    }

    #[test]
    fn parser_is_poisoned_after_an_error() {
        let mut parser = RequestParser::new(Limits::default());
        assert!(parser.feed(b"BAD\r\n\r\n").is_err());
        assert!(parser.feed(GET).is_err());
        parser.reset();
        assert!(parser.feed(GET).unwrap().is_some());
    }

    #[test]
    fn expect_continue_is_signalled_once() {
        let mut parser = RequestParser::new(Limits::default());
        let head = b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n";
        assert_eq!(parser.feed(head).unwrap(), None);
        assert!(parser.take_continue());
        assert!(!parser.take_continue());
        assert!(!parser.is_idle());
        assert_eq!(parser.feed(b"abc").unwrap().unwrap().body, b"abc");
        assert!(parser.is_idle());
    }

    #[test]
    fn encodes_response_with_content_length_and_without_framing_fields() {
        let response = Response::ok("text/plain", "hi")
            .with_header("Content-Length", "99")
            .with_header("X-Bad", "a\r\nInjected: yes")
            .with_header("Set-Cookie", "session=1");
        assert_eq!(
            response.to_bytes(),
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nSet-Cookie: session=1\r\n\
              Content-Length: 2\r\n\r\nhi"
        );
        assert_eq!(
            Response::status(204)
                .with_body("text/plain", "x")
                .to_bytes(),
            b"HTTP/1.1 204 No Content\r\nContent-Type: text/plain\r\n\r\n"
        );
        assert_eq!(
            Response::status(42).encode(false, Some("close")),
            b"HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
        );
        assert_eq!(
            Response::ok("a/b", "abc").encode(false, None),
            b"HTTP/1.1 200 OK\r\nContent-Type: a/b\r\nContent-Length: 3\r\n\r\n"
        );
    }

    #[test]
    fn response_round_trip_at_every_split_point() {
        let first = Response::ok("text/plain", "one")
            .with_header("Set-Cookie", "a=1")
            .with_header("set-cookie", "b=2")
            .to_bytes();
        let stream = [
            &b"HTTP/1.1 100 Continue\r\n\r\n"[..],
            &first,
            b"HTTP/1.1 204 No Content\r\n\r\n",
        ]
        .concat();
        for split in 0..=stream.len() {
            let mut parser = ResponseParser::new(Limits::default(), false);
            let mut responses = Vec::new();
            for mut input in [&stream[..split], &stream[split..]] {
                while let Some(response) = parser.feed(input).unwrap() {
                    responses.push(response);
                    input = &[];
                }
            }
            assert_eq!(responses.len(), 2, "split {split}");
            assert_eq!(responses[0].body, b"one");
            assert_eq!(responses[0].headers_named("SET-COOKIE"), ["a=1", "b=2"]);
            assert_eq!(responses[1].status, 204);
            assert_eq!(parser.finish().unwrap(), None);
        }
    }

    #[test]
    fn response_until_close_head_and_truncation() {
        let mut parser = ResponseParser::new(Limits::default(), false);
        assert_eq!(parser.feed(b"HTTP/1.0 200 OK\r\n\r\nabc").unwrap(), None);
        let response = parser.finish().unwrap().unwrap();
        assert_eq!(
            (response.body.as_slice(), response.keep_alive()),
            (&b"abc"[..], false)
        );

        let mut parser = ResponseParser::new(Limits::default(), true);
        let response = parser
            .feed(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(response.body.is_empty());

        let mut parser = ResponseParser::new(Limits::default(), false);
        assert_eq!(
            parser
                .feed(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab")
                .unwrap(),
            None
        );
        assert_eq!(parser.finish(), Err(ParseError::Truncated));

        let mut parser = ResponseParser::new(Limits::default(), false);
        assert_eq!(
            parser.feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Err(ParseError::TransferEncoding)
        );
    }

    #[test]
    fn client_headers_merge_and_host() {
        let mut headers = vec![("Content-type", "a"), ("Accept", "text/plain")];
        merge_headers(
            &mut headers,
            &[("content-type", "b"), ("Cookie", "session=1")],
        );
        assert_eq!(
            headers,
            [
                ("Accept", "text/plain"),
                ("content-type", "b"),
                ("Cookie", "session=1")
            ]
        );
        assert_eq!(host_value("192.168.4.1:80".parse().unwrap()), "192.168.4.1");
        assert_eq!(
            host_value("127.0.0.1:8080".parse().unwrap()),
            "127.0.0.1:8080"
        );
        assert_eq!(host_value("[::1]:80".parse().unwrap()), "[::1]");
    }

    #[test]
    fn client_encodes_like_python_http_client() {
        let client = Client::new("192.168.4.1:80".parse().unwrap(), Duration::from_secs(1));
        let message = client
            .encode_request(
                "POST",
                "/proto-ver",
                Some(b"---"),
                &[
                    ("Content-type", "application/x-www-form-urlencoded"),
                    ("Accept", "text/plain"),
                ],
            )
            .unwrap();
        assert_eq!(
            message,
            b"POST /proto-ver HTTP/1.1\r\nHost: 192.168.4.1\r\nAccept-Encoding: identity\r\n\
              Content-Length: 3\r\nContent-type: application/x-www-form-urlencoded\r\n\
              Accept: text/plain\r\n\r\n---"
        );
        for (method, path, headers) in [
            ("PO ST", "/", &[][..]),
            ("GET", "x", &[][..]),
            ("GET", "/a b", &[][..]),
            ("GET", "/", &[("X", "a\nb")][..]),
            ("GET", "/", &[("Content-Length", "1")][..]),
        ] {
            assert!(matches!(
                client.encode_request(method, path, None, headers),
                Err(HttpError::InvalidRequest(_))
            ));
        }
    }
}
