//! SoftAP over real loopback sockets: our client (`provision::run` over `HttpLink`) provisions
//! our device (`device::softap::run`, serve-only, record backend) for security 0, 1 and 2 (both
//! patch levels), with scan and custom data; wrong secrets, a security mismatch, malformed and
//! oversized bodies are refused cleanly, and a second client is refused without disturbing the
//! first.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use wifiprov_protocomm::device::Config as ProtocommConfig;
use wifiprov_protocomm::sec2::Patch;
use wifiprov_protocomm::session::DeviceSecurity;
use wifiprov_protocomm::srp::{self, XDerivation};
use wifiprov_protocomm::wifi::{ScanEntry, Station};
use wifiprov_transport::device::softap::{self, SoftApBackend, SoftApConfig, SoftApProvisioned};
use wifiprov_transport::device::{Config, DaemonError, Event};
use wifiprov_transport::http::{self, HttpError};
use wifiprov_transport::provision::{self, LinkError, Network, Options, ProvisionError, Secrets};
use wifiprov_transport::softap::HttpLink;
use zeroize::Zeroizing;

const SALT: [u8; 16] = [0x42; 16];

fn device_security(scheme: u8, patch: Patch) -> DeviceSecurity {
    match scheme {
        0 => DeviceSecurity::Sec0,
        1 => DeviceSecurity::Sec1 {
            pop: Zeroizing::new(b"abcd1234".to_vec()),
        },
        _ => DeviceSecurity::Sec2 {
            salt: SALT.to_vec(),
            verifier: Zeroizing::new(
                srp::verifier(&SALT, b"wifiprov", b"abcd1234", XDerivation::EspIdf).unwrap(),
            ),
            patch,
        },
    }
}

struct Running {
    address: SocketAddr,
    stop: Arc<AtomicBool>,
    events: mpsc::Receiver<Event>,
    thread: JoinHandle<Result<SoftApProvisioned, DaemonError>>,
    state: tempdir::Dir,
}

mod tempdir {
    /// A directory removed on drop.
    pub(crate) struct Dir(pub(crate) std::path::PathBuf);
    impl Dir {
        pub(crate) fn new(tag: &str) -> Self {
            let path = std::env::temp_dir().join(format!(
                "wifiprov-softap-{tag}-{}-{:?}",
                std::process::id(),
                std::thread::current().id()
            ));
            let _ = std::fs::remove_dir_all(&path);
            Self(path)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn start(tag: &str, security: DeviceSecurity) -> Running {
    start_with(tag, ProtocommConfig::new(security))
}

fn start_with(tag: &str, protocomm: ProtocommConfig) -> Running {
    let state = tempdir::Dir::new(tag);
    let mut station = Config::new("");
    station.state_dir = state.0.clone();
    let config = SoftApConfig {
        station,
        ap: None,
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        protocomm: protocomm.with_custom_endpoint("custom-data"),
        backend: SoftApBackend::Record,
        portal: None,
        record_ip: std::net::Ipv4Addr::new(192, 168, 77, 50),
        done_grace: Duration::from_millis(300),
        auto_stop: Duration::from_secs(30),
        scan_results: Some(vec![
            ScanEntry {
                ssid: b"Cafe".to_vec(),
                channel: 1,
                rssi: -80,
                bssid: [2, 0, 0, 0, 0, 1],
                auth: 0,
            },
            ScanEntry {
                ssid: "HomeNet ☕".as_bytes().to_vec(),
                channel: 6,
                rssi: -40,
                bssid: [2, 0, 0, 0, 0, 2],
                auth: 3,
            },
        ]),
        qr: "{}".into(),
    };
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel();
    let (address_tx, address_rx) = mpsc::channel();
    let thread_stop = Arc::clone(&stop);
    let thread = std::thread::spawn(move || {
        softap::run(&config, &thread_stop, |event| {
            if let Event::Serving { address, .. } = event {
                let _ = address_tx.send(*address);
            }
            let _ = tx.send(event.clone());
        })
    });
    let address = address_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the device serves");
    Running {
        address,
        stop,
        events: rx,
        thread,
        state,
    }
}

impl Running {
    fn stop(
        self,
    ) -> (
        Result<SoftApProvisioned, DaemonError>,
        Vec<Event>,
        tempdir::Dir,
    ) {
        self.stop.store(true, Ordering::SeqCst);
        let result = self.thread.join().expect("device thread");
        (result, self.events.try_iter().collect(), self.state)
    }

    fn finish(
        self,
    ) -> (
        Result<SoftApProvisioned, DaemonError>,
        Vec<Event>,
        tempdir::Dir,
    ) {
        let result = self.thread.join().expect("device thread");
        (result, self.events.try_iter().collect(), self.state)
    }
}

fn secrets(scheme: u8, secret: &str) -> Secrets {
    Secrets {
        scheme: Some(scheme),
        pop: Some(Zeroizing::new(secret.as_bytes().to_vec())),
        username: Some(b"wifiprov".to_vec()),
        password: Some(Zeroizing::new(secret.as_bytes().to_vec())),
        derivation: XDerivation::EspIdf,
    }
}

fn options(scheme: u8, secret: &str) -> Options {
    Options {
        secrets: secrets(scheme, secret),
        custom: vec![("custom-data".into(), b"hello".to_vec())],
        scan: true,
        network: Some(Network {
            ssid: "HomeNet ☕".as_bytes().to_vec(),
            passphrase: Zeroizing::new(b"correct horse".to_vec()),
        }),
        poll_interval: Duration::from_millis(50),
        timeout: Duration::from_secs(20),
        ..Options::default()
    }
}

fn link(address: SocketAddr) -> HttpLink {
    HttpLink::new(address, Duration::from_secs(10))
}

#[test]
fn our_client_provisions_our_device_for_every_scheme() {
    for (scheme, patch) in [
        (0, Patch::Counter),
        (1, Patch::Counter),
        (2, Patch::Counter),
        (2, Patch::Legacy),
    ] {
        let device = start(
            &format!("all{scheme}{patch:?}"),
            device_security(scheme, patch),
        );
        let mut link = link(device.address);
        let outcome = provision::run(
            &mut link,
            &options(scheme, "abcd1234"),
            &|| false,
            &mut |_| {},
        )
        .unwrap_or_else(|e| panic!("security {scheme} {patch:?}: {e}"));
        assert_eq!(outcome.scheme, scheme);
        assert_eq!(outcome.info.security, Some(scheme));
        assert_eq!(
            outcome.info.patch,
            (scheme != 2 || patch == Patch::Counter).then_some(if scheme == 2 { 1 } else { 0 })
        );
        assert_eq!(
            outcome.custom,
            vec![("custom-data".into(), b"SUCCESS\0".to_vec())]
        );
        assert_eq!(outcome.scan.len(), 2);
        assert_eq!(
            outcome.scan[0].ssid,
            "HomeNet ☕".as_bytes(),
            "sorted by RSSI"
        );
        let Station::Connected(connected) = &outcome.station else {
            panic!("{:?}", outcome.station)
        };
        assert_eq!(connected.ip, [192, 168, 77, 50]);
        assert_eq!(connected.ssid, "HomeNet ☕".as_bytes());
        assert!(link.cookie().is_some_and(|c| c.starts_with("session=")));

        let (result, events, state) = device.finish();
        let provisioned = result.expect("the device finished");
        assert!(provisioned.client_saw_connected);
        assert!(
            events.iter().any(
                |e| matches!(e, Event::Custom { endpoint, len: 5 } if endpoint == "custom-data")
            )
        );
        let stored = std::fs::read_to_string(state.0.join("credentials.json")).unwrap();
        assert!(stored.contains(&wifiprov_transport::device::hex(b"correct horse")));
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(state.0.join("credentials.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn wrong_secrets_and_a_security_mismatch_are_refused_and_the_device_stays_provisionable() {
    for scheme in [1u8, 2] {
        let device = start(
            &format!("wrong{scheme}"),
            device_security(scheme, Patch::Counter),
        );
        let error = provision::run(
            &mut link(device.address),
            &options(scheme, "abcd1235"),
            &|| false,
            &mut |_| {},
        )
        .expect_err("wrong secret");
        assert!(matches!(error, ProvisionError::Handshake { .. }), "{error}");
        let other = if scheme == 1 { 2 } else { 1 };
        let error = provision::run(
            &mut link(device.address),
            &options(other, "abcd1234"),
            &|| false,
            &mut |_| {},
        )
        .expect_err("mismatch");
        let ProvisionError::SecurityMismatch {
            asked,
            device: seen,
            ..
        } = error
        else {
            panic!("{error}")
        };
        assert_eq!((asked, seen), (other, scheme));
        // Without --sec the client takes the device's scheme; the right secret works.
        let mut right = options(scheme, "abcd1234");
        right.secrets.scheme = None;
        provision::run(&mut link(device.address), &right, &|| false, &mut |_| {})
            .expect("right secret");
        let (result, events, _) = device.finish();
        assert!(result.is_ok());
        assert!(
            events.iter().any(
                |e| matches!(e, Event::Rejected { endpoint, .. } if endpoint == "prov-session")
            )
        );
    }
}

#[test]
fn wrong_proofs_are_throttled_across_connections_then_the_right_secret_gets_in() {
    for scheme in [1u8, 2] {
        let mut protocomm = ProtocommConfig::new(device_security(scheme, Patch::Counter));
        // The default policy's shape with a short first delay, so the test waits little.
        protocomm.throttle = Some(wifiprov_protocomm::throttle::Policy {
            first_delay_ms: 300,
            ..wifiprov_protocomm::throttle::Policy::default()
        });
        let device = start_with(&format!("throttle{scheme}"), protocomm);
        // Four wrong proofs, each a new connection: the fourth closes the door.
        for _ in 0..4 {
            let error = provision::run(
                &mut link(device.address),
                &options(scheme, "abcd1235"),
                &|| false,
                &mut |_| {},
            )
            .expect_err("wrong secret");
            assert!(matches!(error, ProvisionError::Handshake { .. }), "{error}");
        }
        // Right away, even the right secret is refused (the proof is not even looked at)...
        let error = provision::run(
            &mut link(device.address),
            &options(scheme, "abcd1234"),
            &|| false,
            &mut |_| {},
        )
        .expect_err("throttled");
        assert!(
            error.to_string().contains("retry later"),
            "the hint names the throttle: {error}"
        );
        // ...and once the delay is over it gets in (retried until the door opens; bounded).
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let mut refused = 0;
        loop {
            match provision::run(
                &mut link(device.address),
                &options(scheme, "abcd1234"),
                &|| false,
                &mut |_| {},
            ) {
                Ok(_) => break,
                Err(e) => {
                    assert!(std::time::Instant::now() < deadline, "never let in: {e}");
                    refused += 1;
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
        let (result, events, _) = device.finish();
        assert!(result.is_ok());
        let reasons: Vec<&str> = events
            .iter()
            .filter_map(|e| match e {
                Event::Rejected { reason, .. } => Some(reason.as_str()),
                _ => None,
            })
            .collect();
        let wrong = reasons
            .iter()
            .filter(|r| r.starts_with("wrong proof"))
            .count();
        let throttled = reasons
            .iter()
            .filter(|r| r.contains("too many wrong proofs"))
            .count();
        assert_eq!(wrong, 4, "sec{scheme}: {reasons:?}");
        assert_eq!(throttled, 1 + refused, "sec{scheme}: {reasons:?}");
    }
}

#[test]
fn malformed_and_oversized_bodies_are_refused_cleanly() {
    let device = start("malformed", device_security(1, Patch::Counter));
    let mut client = http::Client::new(device.address, Duration::from_secs(5));
    for body in [vec![0xff; 10], vec![0x0a; 4097], b"\x08\x01".to_vec()] {
        let result = client.post("/prov-session", &body, &[]);
        assert!(
            matches!(result, Err(HttpError::ClosedWithoutResponse { .. })),
            "{} bytes: {result:?}",
            body.len()
        );
    }
    // Beyond the HTTP layer's limit: 413 and a close, never a hang.
    let huge = client
        .post("/prov-config", &vec![0u8; 100_000], &[])
        .expect("answer");
    assert_eq!(huge.status, 413);
    // Empty body: ESP-IDF fails the request.
    let result = client.post("/proto-ver", b"", &[]);
    assert!(
        matches!(result, Err(HttpError::ClosedWithoutResponse { .. })),
        "{result:?}"
    );
    // Unknown endpoint and wrong method.
    assert_eq!(client.post("/nope", b"x", &[]).unwrap().status, 404);
    assert_eq!(client.get("/prov-session", &[]).unwrap().status, 405);
    // Encrypted endpoints before a handshake.
    let result = client.post("/prov-config", b"\x52\x00", &[]);
    assert!(
        matches!(result, Err(HttpError::ClosedWithoutResponse { .. })),
        "{result:?}"
    );
    // Still provisionable.
    provision::run(
        &mut link(device.address),
        &options(1, "abcd1234"),
        &|| false,
        &mut |_| {},
    )
    .expect("provisions");
    let (result, _, _) = device.finish();
    assert!(result.is_ok());
}

/// A link that pauses after the handshake until told to go on.
struct Paused {
    inner: HttpLink,
    established: mpsc::Sender<()>,
    resume: mpsc::Receiver<()>,
    sessions: usize,
}

impl provision::Link for Paused {
    fn round_trip(&mut self, endpoint: &str, body: &[u8]) -> Result<Vec<u8>, LinkError> {
        if endpoint != "prov-session" && endpoint != "proto-ver" && self.sessions == 2 {
            self.sessions += 1;
            let _ = self.established.send(());
            let _ = self.resume.recv_timeout(Duration::from_secs(20));
        }
        if endpoint == "prov-session" {
            self.sessions += 1;
        }
        self.inner.round_trip(endpoint, body)
    }
    fn describe(&self) -> String {
        self.inner.describe()
    }
}

#[test]
fn a_second_client_is_refused_without_disturbing_the_first() {
    let device = start("busy", device_security(2, Patch::Counter));
    let (established_tx, established_rx) = mpsc::channel();
    let (resume_tx, resume_rx) = mpsc::channel();
    let address = device.address;
    let first = std::thread::spawn(move || {
        let mut link = Paused {
            inner: link(address),
            established: established_tx,
            resume: resume_rx,
            sessions: 0,
        };
        provision::run(&mut link, &options(2, "abcd1234"), &|| false, &mut |_| {})
    });
    established_rx
        .recv_timeout(Duration::from_secs(20))
        .expect("first client established");
    // The second client: refused with 503 on its very first request.
    let error = provision::run(
        &mut link(address),
        &options(2, "abcd1234"),
        &|| false,
        &mut |_| {},
    )
    .expect_err("busy");
    assert!(
        matches!(
            &error,
            ProvisionError::Link {
                source: LinkError::Status { status: 503, .. },
                ..
            }
        ),
        "{error}"
    );
    resume_tx.send(()).unwrap();
    let outcome = first.join().unwrap().expect("the first client completes");
    assert!(matches!(outcome.station, Station::Connected(_)));
    let (result, events, _) = device.finish();
    assert!(result.is_ok());
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Session { busy: true, .. }))
    );
}

/// A client that sends the first handshake step and then hangs, its connection open.
struct Abandons {
    inner: HttpLink,
    started: mpsc::Sender<()>,
    release: mpsc::Receiver<()>,
}

impl provision::Link for Abandons {
    fn round_trip(&mut self, endpoint: &str, body: &[u8]) -> Result<Vec<u8>, LinkError> {
        let reply = self.inner.round_trip(endpoint, body)?;
        if endpoint == "prov-session" {
            let _ = self.started.send(());
            let _ = self.release.recv_timeout(Duration::from_secs(60));
            return Err(LinkError::Refused);
        }
        Ok(reply)
    }
    fn describe(&self) -> String {
        self.inner.describe()
    }
}

/// Issue 8 (fault-sec2-abandon): a handshake abandoned after its first step, with its
/// connection left open, blocks other clients for the handshake timeout only; the next client
/// (retrying the busy device) provisions it.
#[test]
fn an_abandoned_handshake_does_not_block_the_next_client() {
    let device = start("abandon", device_security(2, Patch::Counter));
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel();
    let address = device.address;
    let first = std::thread::spawn(move || {
        let mut link = Abandons {
            inner: link(address),
            started: started_tx,
            release: release_rx,
        };
        let result = provision::run(&mut link, &options(2, "abcd1234"), &|| false, &mut |_| {});
        (result.is_err(), link)
    });
    started_rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the first client sent step 0");
    let outcome = provision::run(
        &mut link(address),
        &options(2, "abcd1234"),
        &|| false,
        &mut |_| {},
    )
    .expect("the second client provisions once the abandoned handshake stops counting");
    assert!(matches!(outcome.station, Station::Connected(_)));
    release_tx.send(()).unwrap();
    let (first_failed, first_link) = first.join().unwrap();
    assert!(first_failed);
    drop(first_link);
    let (result, events, _) = device.finish();
    assert!(result.is_ok());
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Session { busy: true, .. })),
        "the second client was refused while the first handshake was protected"
    );
}

#[test]
fn the_session_cookie_survives_a_reconnect_and_a_stop_is_clean() {
    let device = start("cookie", device_security(1, Patch::Counter));
    let mut client = http::Client::new(device.address, Duration::from_secs(5));
    let first = client.post("/proto-ver", b"---", &[]).unwrap();
    let cookie = first
        .header("Set-Cookie")
        .expect("a new session sets the cookie")
        .to_owned();
    assert!(
        cookie.starts_with("session=") && cookie[8..].parse::<u32>().is_ok(),
        "{cookie}"
    );
    client.close();
    // Same cookie on a new connection: the same session (no new Set-Cookie).
    let again = client
        .post("/proto-ver", b"---", &[("Cookie", &cookie)])
        .unwrap();
    assert_eq!(again.header("Set-Cookie"), None);
    let (result, _, _) = device.stop();
    assert!(matches!(result, Err(DaemonError::Stopped)));
}
