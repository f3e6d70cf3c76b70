//! The device's HTTP side without sockets: the sans-IO HTTP/1.1 request parser
//! (`wifiprov_transport::http::RequestParser`) fed byte chunks on up to four connections, every
//! parsed request routed through the SoftAP device server (`softap::DeviceServer` as an
//! `http::Handler`: protocomm endpoints with ESP-IDF's cookie and close rules, security 0) and
//! the captive portal's routes and JSON API (`portal::route`), every response serialised and
//! read back by the client's `ResponseParser`, which is also fed raw bytes.
//!
//! Header byte: bit 0 portal on, bit 1 a session stays busy forever (else never), bit 2 a
//! custom endpoint, bits 3–4 parser limits. Operations: `[0][conn][len16][bytes]` bytes
//! arrive on a connection; `[1][conn]` it closes; `[2][head][split][len16][bytes]` a response
//! for the client parser; `[3][state]` the portal backend's status changes.
#![no_main]

use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use wifiprov_fuzz::Bytes;
use wifiprov_protocomm::device::{self, Device};
use wifiprov_protocomm::session::DeviceSecurity;
use wifiprov_transport::http::{
    DEFAULT_CLIENT_MAX_BODY, DEFAULT_MAX_HEADER,     ConnectionId, Disposition, Handler as _, Limits, Request, RequestParser, Response,
    ResponseParser,
};
use wifiprov_transport::portal::{PortalBackend, PortalConfig, PortalNetwork, PortalStatus};
use wifiprov_transport::softap::{DeviceServer, ServerOptions, http_config};

struct Backend {
    status: Mutex<PortalStatus>,
}

impl PortalBackend for Backend {
    fn networks(&self) -> Vec<PortalNetwork> {
        vec![
            PortalNetwork {
                ssid: b"HomeNet".to_vec(),
                rssi: -40,
                auth: 3,
                channel: 6,
            },
            PortalNetwork {
                ssid: vec![0xff, b'<', 0, b'"'],
                rssi: i32::MIN,
                auth: u32::MAX,
                channel: 0,
            },
        ]
    }

    fn connect(&self, ssid: Vec<u8>, _password: Vec<u8>) -> Result<(), String> {
        if ssid == b"fail" {
            return Err("no such network".to_owned());
        }
        *self.status.lock().unwrap() = PortalStatus::Connecting;
        Ok(())
    }

    fn status(&self) -> PortalStatus {
        self.status.lock().unwrap().clone()
    }
}

/// What the client's parser makes of a response our server sends: it must read it back.
fn check_response(response: &Response, request: &Request) {
    let bytes = response.to_bytes();
    let limits = Limits {
        max_header: DEFAULT_MAX_HEADER,
        max_body: DEFAULT_CLIENT_MAX_BODY,
    };
    let mut parser = ResponseParser::new(limits, request.method == "HEAD");
    let parsed = parser.feed(&bytes);
    assert!(
        matches!(parsed, Ok(Some(_))),
        "our client cannot read our response {:?}: {parsed:?}",
        String::from_utf8_lossy(&bytes)
    );
}

fuzz_target!(|data: &[u8]| {
    let mut bytes = Bytes::new(data);
    let header = bytes.u8();
    let mut config = device::Config::new(DeviceSecurity::Sec0);
    if header & 4 != 0 {
        config = config.with_custom_endpoint("custom-data");
    }
    let Ok(device) = Device::new(config) else {
        return;
    };
    let protect = if header & 2 != 0 {
        Duration::MAX
    } else {
        Duration::ZERO
    };
    let options = ServerOptions {
        busy_timeout: protect,
        handshake_timeout: protect,
    };
    let (events, received) = mpsc::channel();
    let mut server = DeviceServer::new(
        device,
        options,
        events,
        Box::new(|_endpoint: &str, data: &[u8]| data.to_vec()),
    );
    let backend = std::sync::Arc::new(Backend {
        status: Mutex::new(PortalStatus::Idle),
    });
    if header & 1 != 0 {
        server = server.with_portal(PortalConfig::default(), backend.clone());
    }
    let limits = match (header >> 3) & 3 {
        0 => http_config().limits(),
        1 => Limits::default(),
        2 => Limits {
            max_header: 64,
            max_body: 16,
        },
        _ => Limits {
            max_header: 0,
            max_body: 0,
        },
    };
    let mut parsers: Vec<RequestParser> = (0..4).map(|_| RequestParser::new(limits)).collect();
    while !bytes.is_empty() {
        match bytes.u8() % 4 {
            0 => {
                let conn = usize::from(bytes.u8() % 4);
                let chunk = bytes.chunk16();
                let peer = SocketAddr::from(([192, 168, 4, 2], 5000 + conn as u16));
                let parser = &mut parsers[conn];
                let mut input = chunk;
                loop {
                    let result = parser.feed(input);
                    input = &[];
                    let _ = parser.take_continue();
                    match result {
                        Ok(Some(request)) => {
                            let _ = (request.keep_alive(), request.headers_named("cookie"));
                            match server.handle(ConnectionId(conn as u64), peer, &request) {
                                Disposition::Respond(response) => check_response(&response, &request),
                                Disposition::RespondAndClose(response) => {
                                    check_response(&response, &request);
                                    server.connection_closed(ConnectionId(conn as u64));
                                    parser.reset();
                                    break;
                                }
                                _ => {
                                    server.connection_closed(ConnectionId(conn as u64));
                                    parser.reset();
                                    break;
                                }
                            }
                        }
                        Ok(None) => break,
                        Err(error) => {
                            // The server answers with the error's status and closes.
                            let _ = Response::status(error.status()).to_bytes();
                            server.connection_closed(ConnectionId(conn as u64));
                            parser.reset();
                            break;
                        }
                    }
                }
                let _ = (parser.buffered_len(), parser.is_idle());
            }
            1 => {
                let conn = usize::from(bytes.u8() % 4);
                server.connection_closed(ConnectionId(conn as u64));
                parsers[conn].reset();
            }
            2 => {
                let head = bytes.u8() & 1 != 0;
                let split = usize::from(bytes.u8());
                let chunk = bytes.chunk16();
                let (first, second) = chunk.split_at(split.min(chunk.len()));
                let mut parser = ResponseParser::new(
                    Limits {
                        max_header: 1024,
                        max_body: 1024,
                    },
                    head,
                );
                if let Ok(Some(response)) = parser.feed(first).and_then(|r| match r {
                    Some(r) => Ok(Some(r)),
                    None => parser.feed(second),
                }) {
                    let _ = (response.keep_alive(), response.header("content-type"));
                }
                let _ = parser.feed(&[]);
                let _ = parser.finish();
                let _ = parser.buffered_len();
            }
            _ => {
                let status = match bytes.u8() % 4 {
                    0 => PortalStatus::Idle,
                    1 => PortalStatus::Connecting,
                    2 => PortalStatus::Connected {
                        ip: "192.168.1.50".to_owned(),
                    },
                    _ => PortalStatus::Failed {
                        reason: "wrong \"password\"\n<b>".to_owned(),
                    },
                };
                *backend.status.lock().unwrap() = status;
            }
        }
        for _event in received.try_iter() {}
    }
});
