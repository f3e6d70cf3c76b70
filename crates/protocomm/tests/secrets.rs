//! Secrets hygiene (issue 8): no `Debug` of a type holding a passphrase, PoP, password or
//! verifier shows it, and the SetConfig message zeroizes its passphrase on drop.

use prost::Message as _;
use rand::SeedableRng as _;
use rand::rngs::StdRng;
use wifiprov_protocomm::proto::wifi_provisioning::{CmdSetConfig, WiFiConfigPayload};
use wifiprov_protocomm::sec2::Patch;
use wifiprov_protocomm::session::{ClientSecurity, ClientSession, DeviceSecurity, DeviceSession};
use wifiprov_protocomm::srp::{self, XDerivation};
use wifiprov_protocomm::wifi::{Action, Config, Provisioner, request};
use wifiprov_protocomm::{device, wifi};
use zeroize::{ZeroizeOnDrop, Zeroizing};

const SECRET: &[u8] = b"S3cr3t-Pa55";

/// Panics unless `debug` hides `secret`: neither as text, nor as hex (either case), nor as the
/// decimal byte list a derived `Debug` prints.
fn assert_hidden(debug: &str, secret: &[u8]) {
    let text = std::str::from_utf8(secret).expect("a text secret");
    assert!(!debug.contains(text), "{debug} shows the secret");
    let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    assert!(
        !debug.to_ascii_lowercase().contains(&hex),
        "{debug} shows the secret in hex"
    );
    let list = format!("{secret:?}");
    let list = list.trim_start_matches('[').trim_end_matches(']');
    assert!(!debug.contains(list), "{debug} shows the secret's bytes");
}

const fn assert_zeroized_on_drop<T: ZeroizeOnDrop>() {}

#[test]
fn set_config_never_shows_the_passphrase() {
    const { assert_zeroized_on_drop::<CmdSetConfig>() };
    let wire = request::set_config(b"HomeNet", SECRET, Some([2, 0, 0, 0, 0, 1]), 6);
    let payload = WiFiConfigPayload::decode(wire.as_slice()).expect("decodes");
    let debug = format!("{payload:?}");
    assert_hidden(&debug, SECRET);
    assert!(debug.contains("passphrase_len: 11"), "{debug}");
    assert!(debug.contains("HomeNet"), "the SSID is shown: {debug}");
}

#[test]
fn the_device_handlers_never_show_the_passphrase() {
    let mut provisioner = Provisioner::new(Config::default());
    let wire = request::set_config(b"HomeNet", SECRET, None, 0);
    provisioner.handle_config(&wire).expect("handled");
    assert_hidden(&format!("{provisioner:?}"), SECRET);
    let (_, action) = provisioner
        .handle_config(&request::apply_config())
        .expect("handled");
    let Some(Action::Apply(credentials)) = action.clone() else {
        panic!("no credentials: {action:?}");
    };
    assert_eq!(credentials.passphrase.as_slice(), SECRET);
    assert_hidden(&format!("{action:?}"), SECRET);
    assert_hidden(&format!("{credentials:?}"), SECRET);
    // The captive portal's path.
    let mut portal = Provisioner::new(wifi::Config::default());
    let action = portal.apply(b"HomeNet", SECRET).expect("accepted");
    assert_hidden(&format!("{action:?} {portal:?}"), SECRET);
}

#[test]
fn security_schemes_never_show_their_secrets() {
    let mut rng = StdRng::seed_from_u64(8);
    let sec1 = ClientSecurity::Sec1 {
        pop: Zeroizing::new(SECRET.to_vec()),
    };
    let sec2 = ClientSecurity::Sec2 {
        username: b"wifiprov".to_vec(),
        password: Zeroizing::new(SECRET.to_vec()),
        patch: Patch::Counter,
        derivation: XDerivation::EspIdf,
    };
    for security in [sec1, sec2] {
        assert_hidden(&format!("{security:?}"), SECRET);
        let (session, _) = ClientSession::start(&security, &mut rng).expect("starts");
        assert_hidden(&format!("{session:?}"), SECRET);
    }
    let salt = [7u8; 16];
    let verifier = srp::verifier(&salt, b"wifiprov", SECRET, XDerivation::EspIdf).expect("valid");
    let device_sec1 = DeviceSecurity::Sec1 {
        pop: Zeroizing::new(SECRET.to_vec()),
    };
    let device_sec2 = DeviceSecurity::Sec2 {
        salt: salt.to_vec(),
        verifier: Zeroizing::new(verifier.clone()),
        patch: Patch::Counter,
    };
    for security in [device_sec1, device_sec2] {
        let debug = format!("{security:?}");
        assert_hidden(&debug, SECRET);
        assert_hidden_bytes(&debug, &verifier);
        let session = DeviceSession::new(&security).expect("valid");
        assert_hidden(&format!("{session:?}"), SECRET);
        let device = device::Device::new(device::Config::new(security)).expect("valid");
        let debug = format!("{device:?}");
        assert_hidden(&debug, SECRET);
        assert_hidden_bytes(&debug, &verifier);
    }
}

/// `debug` shows no run of 8 bytes of `secret` (binary secrets: hex or decimal list).
fn assert_hidden_bytes(debug: &str, secret: &[u8]) {
    let lower = debug.to_ascii_lowercase();
    for window in secret.windows(8) {
        let hex: String = window.iter().map(|b| format!("{b:02x}")).collect();
        let list = format!("{window:?}");
        let list = list.trim_start_matches('[').trim_end_matches(']');
        assert!(
            !lower.contains(&hex) && !debug.contains(list),
            "{debug} shows the verifier"
        );
    }
}
