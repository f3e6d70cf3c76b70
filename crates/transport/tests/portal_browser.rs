//! The portal page in a real headless Chromium: `http::Server` serves `portal::route` with a
//! recording backend on 127.0.0.1, and `lab/lib/portal_browser.py` (WebDriver) types the
//! credentials, clicks Connect and waits for `connected`.
//!
//! Needs the Debian packages `chromium` and `chromium-driver`; without them this test fails (it
//! does not skip), naming the packages.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::thread;
use std::time::Duration;

use wifiprov_transport::http::{
    ConnectionId, Disposition, Handler, Request, Response, Server, ServerConfig,
};
use wifiprov_transport::portal::{self, PortalBackend, PortalConfig, PortalNetwork, PortalStatus};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The script bounds itself to this; the test allows a little more before killing it.
const SCRIPT_TIMEOUT_SECONDS: u64 = 60;

/// Connect → Connecting; Connected after a couple of status reads.
#[derive(Default)]
struct Recording {
    connects: Mutex<Vec<(Vec<u8>, Vec<u8>)>>,
    state: Mutex<(PortalStatus, u32)>,
}

impl PortalBackend for Recording {
    fn networks(&self) -> Vec<PortalNetwork> {
        vec![
            PortalNetwork {
                ssid: b"Neighbour".to_vec(),
                rssi: -48,
                auth: 3,
                channel: 1,
            },
            PortalNetwork {
                ssid: b"<img src=x onerror=document.title='owned'>".to_vec(),
                rssi: -60,
                auth: 0,
                channel: 6,
            },
            PortalNetwork {
                ssid: vec![0xff, b'x'],
                rssi: -80,
                auth: 4,
                channel: 11,
            },
        ]
    }

    fn connect(&self, ssid: Vec<u8>, password: Vec<u8>) -> Result<(), String> {
        self.connects.lock().unwrap().push((ssid, password));
        *self.state.lock().unwrap() = (PortalStatus::Connecting, 0);
        Ok(())
    }

    fn status(&self) -> PortalStatus {
        let mut state = self.state.lock().unwrap();
        if state.0 == PortalStatus::Connecting {
            state.1 += 1;
            if state.1 > 2 {
                state.0 = PortalStatus::Connected {
                    ip: "10.1.2.3".to_owned(),
                };
            }
        }
        state.0.clone()
    }
}

struct PortalHandler {
    backend: Recording,
    config: OnceLock<PortalConfig>,
}

impl Handler for PortalHandler {
    fn handle(&self, _conn: ConnectionId, _peer: SocketAddr, request: &Request) -> Disposition {
        let config = self.config.get().expect("configured before serving");
        Disposition::Respond(
            portal::route(request, &self.backend, config).unwrap_or_else(|| Response::status(404)),
        )
    }
}

fn require(path: &str) {
    assert!(
        Path::new(path).exists(),
        "{path} is missing: install the Debian packages `chromium` and `chromium-driver` \
         (apt-get install -y --no-install-recommends chromium chromium-driver)"
    );
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../lab/lib/portal_browser.py")
}

#[test]
fn browser_submits_the_form_and_sees_connected() {
    require(CHROMIUM);
    require(CHROMEDRIVER);
    let handler = Arc::new(PortalHandler {
        backend: Recording::default(),
        config: OnceLock::new(),
    });
    let addr: SocketAddr = (Ipv4Addr::LOCALHOST, 0).into();
    let server = Server::bind(addr, ServerConfig::default(), Arc::clone(&handler))
        .unwrap()
        .spawn()
        .unwrap();
    let port = server.local_addr().port();
    handler
        .config
        .set(PortalConfig {
            address: Ipv4Addr::LOCALHOST,
            port,
            device_name: "PROV_browser".to_owned(),
        })
        .unwrap();

    let ssid = "Lab Net ü 1";
    let password = "pass word!23";
    let screenshot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("portal_browser.png");
    let child = Command::new("python3")
        .arg(script())
        .args(["--url", &format!("http://127.0.0.1:{port}/")])
        .args(["--ssid", ssid, "--password", password])
        .args(["--timeout", &SCRIPT_TIMEOUT_SECONDS.to_string()])
        .arg("--screenshot")
        .arg(&screenshot)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 starts");
    let pid = child.id();
    let (done, finished) = mpsc::channel();
    thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    let Ok(output) = finished.recv_timeout(Duration::from_secs(SCRIPT_TIMEOUT_SECONDS + 30)) else {
        // The script cleans up chromedriver and the browser on SIGTERM.
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(i32::try_from(pid).unwrap()),
            nix::sys::signal::Signal::SIGTERM,
        );
        panic!("portal_browser.py did not finish within its own timeout");
    };
    let output = output.unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stdout.lines().last().unwrap_or("");
    assert!(
        output.status.success(),
        "portal_browser.py failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    let result: serde_json::Value = serde_json::from_str(last).expect("a JSON result line");
    assert_eq!(result["ok"], true, "{result}");
    assert_eq!(result["state"], "connected", "{result}");
    assert_eq!(result["status"], "connected (10.1.2.3)", "{result}");
    assert_eq!(
        result["title"], "PROV_browser Wi-Fi setup",
        "an SSID ran script: {result}"
    );
    assert_eq!(
        *handler.backend.connects.lock().unwrap(),
        [(ssid.as_bytes().to_vec(), password.as_bytes().to_vec())]
    );
    assert!(screenshot.exists());
    server.shutdown();
}
