//! The captive-portal route table, called without sockets: the page, every OS probe before and
//! after provisioning, the RFC 8908 API, the JSON API and its validation, 404/405, and the
//! redirect of foreign `Host` names.

use std::net::Ipv4Addr;
use std::sync::Mutex;

use serde_json::{Value, json};
use wifiprov_transport::http::{Request, Response};
use wifiprov_transport::portal::{
    self, CredentialsError, PortalBackend, PortalConfig, PortalNetwork, PortalStatus,
    validate_credentials,
};

struct Fake {
    status: Mutex<PortalStatus>,
    networks: Vec<PortalNetwork>,
    connects: Mutex<Vec<(Vec<u8>, Vec<u8>)>>,
    refuse: Option<String>,
}

impl Fake {
    fn new(status: PortalStatus) -> Self {
        Self {
            status: Mutex::new(status),
            networks: Vec::new(),
            connects: Mutex::new(Vec::new()),
            refuse: None,
        }
    }

    fn connects(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.connects.lock().unwrap().clone()
    }
}

impl PortalBackend for Fake {
    fn networks(&self) -> Vec<PortalNetwork> {
        self.networks.clone()
    }

    fn connect(&self, ssid: Vec<u8>, password: Vec<u8>) -> Result<(), String> {
        if let Some(reason) = &self.refuse {
            return Err(reason.clone());
        }
        self.connects.lock().unwrap().push((ssid, password));
        *self.status.lock().unwrap() = PortalStatus::Connecting;
        Ok(())
    }

    fn status(&self) -> PortalStatus {
        self.status.lock().unwrap().clone()
    }
}

fn connected() -> PortalStatus {
    PortalStatus::Connected {
        ip: "192.168.1.23".to_owned(),
    }
}

fn config() -> PortalConfig {
    PortalConfig {
        device_name: "PROV_a1b2c3".to_owned(),
        ..PortalConfig::default()
    }
}

fn get(path: &str, host: &str) -> Request {
    Request::new("GET", path).with_header("Host", host)
}

fn route(request: &Request, backend: &Fake) -> Response {
    portal::route(request, backend, &config()).expect("a portal route")
}

fn json_body(response: &Response) -> Value {
    serde_json::from_slice(&response.body).expect("a JSON body")
}

fn connect_request(body: &str) -> Request {
    Request::new("POST", "/api/connect")
        .with_header("Host", "192.168.4.1")
        .with_header("Content-Type", "application/json")
        .with_body(body.as_bytes())
}

const DEVICE: &str = "192.168.4.1";

/// (path, the vendor host that probes it, the online status, content type, body).
const PROBES: &[(&str, &str, u16, Option<&str>, &str)] = &[
    (
        "/generate_204",
        "connectivitycheck.gstatic.com",
        204,
        None,
        "",
    ),
    ("/gen_204", "clients3.google.com", 204, None, ""),
    (
        "/hotspot-detect.html",
        "captive.apple.com",
        200,
        Some("text/html"),
        "<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>",
    ),
    (
        "/library/test/success.html",
        "www.apple.com",
        200,
        Some("text/html"),
        "<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>",
    ),
    (
        "/connecttest.txt",
        "www.msftconnecttest.com",
        200,
        Some("text/plain"),
        "Microsoft Connect Test",
    ),
    (
        "/ncsi.txt",
        "www.msftncsi.com",
        200,
        Some("text/plain"),
        "Microsoft NCSI",
    ),
    (
        "/canonical.html",
        "detectportal.firefox.com",
        200,
        Some("text/html"),
        "<meta http-equiv=\"refresh\" content=\"0;url=https://support.mozilla.org/kb/captive-portal\"/>",
    ),
    (
        "/success.txt",
        "detectportal.firefox.com",
        200,
        Some("text/plain"),
        "success\n",
    ),
];

fn assert_redirect_to_portal(response: &Response, context: &str) {
    assert_eq!(response.status, 302, "{context}");
    assert_eq!(
        response.header("location"),
        Some("http://192.168.4.1/"),
        "{context}"
    );
    assert_eq!(
        response.header("cache-control"),
        Some("no-store"),
        "{context}"
    );
}

#[test]
fn root_and_index_serve_the_page() {
    let backend = Fake::new(PortalStatus::Idle);
    for path in ["/", "/index.html"] {
        for method in ["GET", "HEAD"] {
            let request = Request::new(method, path).with_header("Host", DEVICE);
            let response = route(&request, &backend);
            assert_eq!(response.status, 200, "{method} {path}");
            assert_eq!(
                response.header("content-type"),
                Some("text/html; charset=utf-8")
            );
            assert_eq!(response.header("cache-control"), Some("no-store"));
            let page = String::from_utf8(response.body).unwrap();
            assert!(page.contains("<h1 id=\"device\">PROV_a1b2c3</h1>"));
            for id in ["ssid", "password", "connect", "status"] {
                assert!(page.contains(&format!("id=\"{id}\"")), "{id}");
            }
        }
    }
    // No Host at all (HTTP/1.0) counts as the device's.
    assert_eq!(route(&Request::new("GET", "/"), &backend).status, 200);
}

#[test]
fn every_probe_redirects_to_the_portal_until_connected() {
    for status in [
        PortalStatus::Idle,
        PortalStatus::Connecting,
        PortalStatus::Failed {
            reason: "wrong password".to_owned(),
        },
    ] {
        let backend = Fake::new(status.clone());
        for (path, vendor, ..) in
            PROBES
                .iter()
                .chain(&[("/redirect", "www.msftconnecttest.com", 0, None, "")])
        {
            for host in [*vendor, DEVICE] {
                let response = route(&get(path, host), &backend);
                assert_redirect_to_portal(&response, &format!("{status:?} {host}{path}"));
            }
        }
    }
}

#[test]
fn probes_answer_online_once_connected() {
    let backend = Fake::new(connected());
    for (path, vendor, status, content_type, body) in PROBES {
        let response = route(&get(path, vendor), &backend);
        assert_eq!(response.status, *status, "{path}");
        assert_eq!(response.header("content-type"), *content_type, "{path}");
        assert_eq!(response.body, body.as_bytes(), "{path}");
    }
    // The page Windows opens after its probe still goes to the portal.
    assert_redirect_to_portal(
        &route(&get("/redirect", "www.msftconnecttest.com"), &backend),
        "/redirect",
    );
}

#[test]
fn probes_refuse_other_methods() {
    let backend = Fake::new(PortalStatus::Idle);
    let request = Request::new("POST", "/generate_204")
        .with_header("Host", "connectivitycheck.gstatic.com")
        .with_body("x");
    let response = route(&request, &backend);
    assert_eq!(
        (response.status, response.header("allow")),
        (405, Some("GET, HEAD"))
    );
}

#[test]
fn foreign_hosts_are_redirected_on_get_only() {
    let backend = Fake::new(PortalStatus::Idle);
    for (path, host) in [
        ("/", "example.com"),
        ("/anything/at/all", "neverssl.com"),
        ("/api/status", "192.168.4.1.nip.io"),
        ("/", "192.168.4.2"),
        ("/", "localhost:80"),
    ] {
        assert_redirect_to_portal(&route(&get(path, host), &backend), &format!("{host}{path}"));
        let head = Request::new("HEAD", path).with_header("Host", host);
        assert_eq!(route(&head, &backend).status, 302);
    }
    // Not the portal's: protocomm endpoints (any host) and other non-GET requests.
    for (method, path, host) in [
        ("POST", "/prov-session", DEVICE),
        ("POST", "/proto-ver", "192.168.4.1:80"),
        ("POST", "/prov-config", "example.com"),
        ("POST", "/custom-data", DEVICE),
        ("PUT", "/", "example.com"),
        ("OPTIONS", "/nothing", DEVICE),
    ] {
        let request = Request::new(method, path)
            .with_header("Host", host)
            .with_body("x");
        assert!(
            portal::route(&request, &backend, &config()).is_none(),
            "{method} {host}{path}"
        );
    }
}

#[test]
fn redirects_use_the_configured_address_and_port() {
    let backend = Fake::new(PortalStatus::Idle);
    let config = PortalConfig {
        address: Ipv4Addr::new(10, 0, 0, 1),
        port: 8080,
        device_name: "dev".to_owned(),
    };
    assert_eq!(config.portal_url(), "http://10.0.0.1:8080/");
    assert_eq!(config.api_url(), "http://10.0.0.1:8080/api/captive");
    let response = portal::route(&get("/generate_204", "example.com"), &backend, &config).unwrap();
    assert_eq!(response.header("location"), Some("http://10.0.0.1:8080/"));
    let own = portal::route(&get("/", "10.0.0.1:8080"), &backend, &config).unwrap();
    assert_eq!(own.status, 200);
    let old_default = portal::route(&get("/", DEVICE), &backend, &config).unwrap();
    assert_eq!(old_default.status, 302);
}

#[test]
fn captive_api_follows_rfc_8908_before_and_after() {
    assert_eq!(
        PortalConfig::default().api_url(),
        "http://192.168.4.1/api/captive"
    );
    for (status, captive) in [
        (PortalStatus::Idle, true),
        (PortalStatus::Connecting, true),
        (
            PortalStatus::Failed {
                reason: "x".to_owned(),
            },
            true,
        ),
        (connected(), false),
    ] {
        let backend = Fake::new(status);
        let response = route(&get("/api/captive", DEVICE), &backend);
        assert_eq!(response.status, 200);
        assert_eq!(
            response.header("content-type"),
            Some("application/captive+json")
        );
        assert_eq!(
            json_body(&response),
            json!({"captive": captive, "user-portal-url": "http://192.168.4.1/"})
        );
    }
}

#[test]
fn networks_json_carries_lossy_text_and_hex_for_non_utf8_ssids() {
    let mut backend = Fake::new(PortalStatus::Idle);
    backend.networks = vec![
        PortalNetwork {
            ssid: b"HomeNet".to_vec(),
            rssi: -42,
            auth: 3,
            channel: 6,
        },
        PortalNetwork {
            ssid: vec![0xff, 0xfe, b'A'],
            rssi: -70,
            auth: 0,
            channel: 11,
        },
        PortalNetwork {
            ssid: b"<img src=x onerror=alert(1)>".to_vec(),
            rssi: -90,
            auth: 9,
            channel: 1,
        },
    ];
    let response = route(&get("/api/networks", DEVICE), &backend);
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(
        json_body(&response),
        json!([
            {"ssid": "HomeNet", "ssid_hex": "486f6d654e6574", "rssi": -42, "auth": 3,
             "auth_name": "wpa2_psk", "channel": 6},
            {"ssid": "\u{fffd}\u{fffd}A", "ssid_hex": "fffe41", "rssi": -70, "auth": 0,
             "auth_name": "open", "channel": 11},
            {"ssid": "<img src=x onerror=alert(1)>",
             "ssid_hex": "3c696d67207372633d78206f6e6572726f723d616c6572742831293e",
             "rssi": -90, "auth": 9, "auth_name": "unknown", "channel": 1},
        ])
    );
}

#[test]
fn status_json_for_every_state() {
    for (status, expected) in [
        (
            PortalStatus::Idle,
            json!({"state": "idle", "reason": null, "ip": null}),
        ),
        (
            PortalStatus::Connecting,
            json!({"state": "connecting", "reason": null, "ip": null}),
        ),
        (
            connected(),
            json!({"state": "connected", "reason": null, "ip": "192.168.1.23"}),
        ),
        (
            PortalStatus::Failed {
                reason: "wrong password".to_owned(),
            },
            json!({"state": "failed", "reason": "wrong password", "ip": null}),
        ),
    ] {
        let response = route(&get("/api/status", DEVICE), &Fake::new(status));
        assert_eq!(response.status, 200);
        assert_eq!(response.header("cache-control"), Some("no-store"));
        assert_eq!(json_body(&response), expected);
    }
}

#[test]
fn connect_passes_valid_credentials_to_the_backend() {
    let cases: &[(&str, &[u8], &[u8])] = &[
        (
            r#"{"ssid":"HomeNet","password":"correct horse"}"#,
            b"HomeNet",
            b"correct horse",
        ),
        (
            r#"{"ssid":"Caf\u00e9 \"1\"","password":"12345678"}"#,
            "Café \"1\"".as_bytes(),
            b"12345678",
        ),
        (r#"{"ssid":"Open"}"#, b"Open", b""),
        (r#"{"ssid":"Open","password":""}"#, b"Open", b""),
        (
            r#"{"ssid":"Psk","password":"00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF"}"#,
            b"Psk",
            b"00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF",
        ),
        (
            r#"{"ssid":"ignored","ssid_hex":"fffe41","password":"12345678"}"#,
            &[0xff, 0xfe, b'A'],
            b"12345678",
        ),
        (
            r#"{"ssid":"32 bytes.......................!","password":"123456789012345678901234567890123456789012345678901234567890123"}"#,
            b"32 bytes.......................!",
            b"123456789012345678901234567890123456789012345678901234567890123",
        ),
    ];
    for (body, ssid, password) in cases {
        let backend = Fake::new(PortalStatus::Idle);
        let response = route(&connect_request(body), &backend);
        assert_eq!(
            response.status,
            202,
            "{body}: {}",
            String::from_utf8_lossy(&response.body)
        );
        assert_eq!(json_body(&response)["state"], "connecting", "{body}");
        assert_eq!(
            backend.connects(),
            [(ssid.to_vec(), password.to_vec())],
            "{body}"
        );
    }
    // A charset parameter on the media type is fine.
    let backend = Fake::new(PortalStatus::Idle);
    let mut request = connect_request(r#"{"ssid":"a","password":"12345678"}"#);
    request.headers[1].1 = "Application/JSON; charset=utf-8".to_owned();
    assert_eq!(route(&request, &backend).status, 202);
}

#[test]
fn connect_rejects_invalid_input_with_a_json_error() {
    let cases = [
        r#"{"ssid":"","password":"12345678"}"#,
        r#"{"ssid":"33 bytes.......................!!","password":"12345678"}"#,
        r#"{"ssid":"a","password":"1234567"}"#,
        r#"{"ssid":"a","password":"1234567890123456789012345678901234567890123456789012345678901234x"}"#,
        r#"{"ssid":"a","password":"zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"}"#,
        r#"{"ssid":"a","password":"1234\n5678"}"#,
        r#"{"password":"12345678"}"#,
        r#"{"ssid_hex":"fff","password":"12345678"}"#,
        r#"{"ssid":5}"#,
        r#"["ssid","password"]"#,
        "not json",
        "",
    ];
    for body in cases {
        let backend = Fake::new(PortalStatus::Idle);
        let response = route(&connect_request(body), &backend);
        assert_eq!(response.status, 400, "{body}");
        assert_eq!(response.header("content-type"), Some("application/json"));
        assert!(json_body(&response)["error"].is_string(), "{body}");
        assert!(backend.connects().is_empty(), "{body}");
    }
}

#[test]
fn connect_requires_a_json_content_type() {
    let backend = Fake::new(PortalStatus::Idle);
    let body = r#"{"ssid":"a","password":"12345678"}"#;
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/jsonx"),
    ] {
        let mut request = Request::new("POST", "/api/connect")
            .with_header("Host", DEVICE)
            .with_body(body);
        if let Some(content_type) = content_type {
            request = request.with_header("Content-Type", content_type);
        }
        let response = route(&request, &backend);
        assert_eq!(response.status, 415, "{content_type:?}");
        assert!(json_body(&response)["error"].is_string());
    }
    assert!(backend.connects().is_empty());
}

#[test]
fn connect_reports_a_backend_refusal() {
    let mut backend = Fake::new(PortalStatus::Idle);
    backend.refuse = Some("already provisioned".to_owned());
    let response = route(
        &connect_request(r#"{"ssid":"a","password":"12345678"}"#),
        &backend,
    );
    assert_eq!(response.status, 500);
    assert_eq!(
        json_body(&response),
        json!({"error": "already provisioned"})
    );
}

#[test]
fn wrong_method_on_a_known_path_is_405() {
    let backend = Fake::new(PortalStatus::Idle);
    for (method, path, allow) in [
        ("GET", "/api/connect", "POST"),
        ("HEAD", "/api/connect", "POST"),
        ("POST", "/api/status", "GET, HEAD"),
        ("POST", "/api/networks", "GET, HEAD"),
        ("DELETE", "/api/captive", "GET, HEAD"),
        ("PUT", "/", "GET, HEAD"),
        ("POST", "/index.html", "GET, HEAD"),
    ] {
        let request = Request::new(method, path).with_header("Host", DEVICE);
        let response = route(&request, &backend);
        assert_eq!(
            (response.status, response.header("allow")),
            (405, Some(allow)),
            "{method} {path}"
        );
    }
    assert!(backend.connects().is_empty());
}

#[test]
fn unknown_paths_on_the_device_host_are_404() {
    let backend = Fake::new(PortalStatus::Idle);
    for path in [
        "/nope",
        "/favicon.ico",
        "/api",
        "/api/",
        "/index.htm",
        "/API/status",
    ] {
        assert_eq!(route(&get(path, DEVICE), &backend).status, 404, "{path}");
        assert_eq!(
            route(&get(path, "192.168.4.1:80"), &backend).status,
            404,
            "{path}"
        );
    }
}

#[test]
fn credential_rules() {
    let long_hex = "ab".repeat(32);
    type Case<'a> = (&'a [u8], &'a [u8], Result<(), CredentialsError>);
    let cases: &[Case<'_>] = &[
        (b"a", b"", Ok(())),
        (&[0; 32], b"12345678", Ok(())),
        (b"", b"", Err(CredentialsError::SsidLength(0))),
        (&[b'a'; 33], b"", Err(CredentialsError::SsidLength(33))),
        (b"a", b"1", Err(CredentialsError::PasswordLength(1))),
        (b"a", b"1234567", Err(CredentialsError::PasswordLength(7))),
        (b"a", &[b'x'; 63], Ok(())),
        (b"a", long_hex.as_bytes(), Ok(())),
        (b"a", &[b'x'; 64], Err(CredentialsError::PasswordNotHex)),
        (b"a", &[b'a'; 65], Err(CredentialsError::PasswordLength(65))),
        (
            b"a",
            b"1234\x7f5678",
            Err(CredentialsError::PasswordControlCharacter),
        ),
        (b"a", "pässwört".as_bytes(), Ok(())),
    ];
    for (index, (ssid, password, expected)) in cases.iter().enumerate() {
        assert_eq!(
            &validate_credentials(ssid, password),
            expected,
            "case {index}"
        );
    }
}
