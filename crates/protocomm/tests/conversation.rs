//! Our client sessions against our device instance, in memory, for every scheme: handshake,
//! proto-ver interleaved, custom endpoint, scan, credentials, status; wrong secrets and
//! out-of-order or damaged messages are refused and leave the device usable.

use rand::SeedableRng as _;
use rand::rngs::StdRng;
use wifiprov_protocomm::device::{self, Reply, endpoint};
use wifiprov_protocomm::sec2::Patch;
use wifiprov_protocomm::session::{ClientSecurity, ClientSession, DeviceSecurity};
use wifiprov_protocomm::srp::{self, XDerivation};
use wifiprov_protocomm::wifi::{
    Action, Connected, FailReason, ScanEntry, Station, request, response,
};
use wifiprov_protocomm::{Error, Next};
use zeroize::Zeroizing;

const SALT: [u8; 16] = [0x5a; 16];

fn device_security(version: u8, patch: Patch) -> DeviceSecurity {
    match version {
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

fn client_security(version: u8, secret: &[u8], patch: Patch) -> ClientSecurity {
    match version {
        0 => ClientSecurity::Sec0,
        1 => ClientSecurity::Sec1 {
            pop: Zeroizing::new(secret.to_vec()),
        },
        _ => ClientSecurity::Sec2 {
            username: b"wifiprov".to_vec(),
            password: Zeroizing::new(secret.to_vec()),
            patch,
            derivation: XDerivation::EspIdf,
        },
    }
}

fn new_device(version: u8, patch: Patch) -> device::Device {
    let config =
        device::Config::new(device_security(version, patch)).with_custom_endpoint("custom-data");
    device::Device::new(config).unwrap()
}

fn bytes(reply: Reply) -> Vec<u8> {
    match reply {
        Reply::Bytes(b) => b,
        other => panic!("expected bytes, got {other:?}"),
    }
}

/// Runs the handshake; returns the client session or the device's error.
fn handshake(
    device: &mut device::Device,
    security: &ClientSecurity,
    rng: &mut StdRng,
) -> Result<ClientSession, Error> {
    handshake_at(device, security, 0, rng)
}

/// The handshake at time `now_ms` of the device's clock.
fn handshake_at(
    device: &mut device::Device,
    security: &ClientSecurity,
    now_ms: u64,
    rng: &mut StdRng,
) -> Result<ClientSession, Error> {
    let (mut client, mut next) = ClientSession::start(security, rng).unwrap();
    while let Next::Send(request) = next {
        let (reply, action) = device.handle_request(endpoint::SESSION, &request, now_ms, rng)?;
        assert_eq!(action, None);
        next = client
            .handle_reply(&bytes(reply))
            .expect("client accepts the reply");
    }
    Ok(client)
}

/// One encrypted round trip on a Wi-Fi endpoint.
fn call(
    device: &mut device::Device,
    client: &mut ClientSession,
    name: &str,
    plain: &[u8],
    rng: &mut StdRng,
) -> (Vec<u8>, Option<Action>) {
    let wire = client.cipher().unwrap().encrypt(plain).unwrap();
    let (reply, action) = device.handle_request(name, &wire, 0, rng).unwrap();
    (
        client.cipher().unwrap().decrypt(&bytes(reply)).unwrap(),
        action,
    )
}

fn every_scheme() -> Vec<(u8, Patch)> {
    vec![
        (0, Patch::Counter),
        (1, Patch::Counter),
        (2, Patch::Counter),
        (2, Patch::Legacy),
    ]
}

#[test]
fn full_provisioning_for_every_scheme() {
    for (seed, (version, patch)) in every_scheme().into_iter().enumerate() {
        let mut rng = StdRng::seed_from_u64(seed as u64);
        let mut device = new_device(version, patch);
        device.provisioner_mut().set_scan_results(vec![
            ScanEntry {
                ssid: b"Weak".to_vec(),
                channel: 1,
                rssi: -80,
                bssid: [2, 0, 0, 0, 0, 1],
                auth: 3,
            },
            ScanEntry {
                ssid: b"HomeNet".to_vec(),
                channel: 6,
                rssi: -40,
                bssid: [2, 0, 0, 0, 0, 2],
                auth: 3,
            },
        ]);
        let proto_ver = String::from_utf8(bytes(
            device
                .handle_request(endpoint::PROTO_VER, b"---", 0, &mut rng)
                .unwrap()
                .0,
        ))
        .unwrap();
        assert!(
            proto_ver.contains(&format!("\"sec_ver\":\t{version}")),
            "{proto_ver}"
        );
        assert_eq!(
            proto_ver.contains("sec_patch_ver"),
            !(version == 2 && patch == Patch::Legacy),
            "legacy security 2 omits sec_patch_ver like old firmware"
        );

        let security = client_security(version, b"abcd1234", patch);
        let mut client = handshake(&mut device, &security, &mut rng).expect("handshake");
        assert!(device.is_established());

        // proto-ver between encrypted messages does not disturb the stream.
        let _ = device
            .handle_request(endpoint::PROTO_VER, b"wifi_scan", 0, &mut rng)
            .unwrap();

        // Custom endpoint: raw bytes both ways through the session.
        let wire = client.cipher().unwrap().encrypt(b"hello").unwrap();
        let (reply, _) = device
            .handle_request("custom-data", &wire, 0, &mut rng)
            .unwrap();
        assert_eq!(
            reply,
            Reply::Custom {
                endpoint: "custom-data".into(),
                data: b"hello".to_vec()
            }
        );
        assert!(
            device
                .handle_request(endpoint::CONFIG, &wire, 0, &mut rng)
                .is_err(),
            "a custom reply is owed first"
        );
        let answer = device.custom_reply(b"SUCCESS\0").unwrap();
        assert_eq!(
            client.cipher().unwrap().decrypt(&answer).unwrap(),
            b"SUCCESS\0"
        );

        // Scan: start, status, results (sorted).
        let (plain, action) = call(
            &mut device,
            &mut client,
            endpoint::SCAN,
            &request::scan_start(Default::default()),
            &mut rng,
        );
        assert!(response::scan_start(&plain).is_ok());
        assert!(matches!(action, Some(Action::Scan(_))));
        let (plain, _) = call(
            &mut device,
            &mut client,
            endpoint::SCAN,
            &request::scan_status(),
            &mut rng,
        );
        assert_eq!(response::scan_status(&plain), Ok((true, 2)));
        let (plain, _) = call(
            &mut device,
            &mut client,
            endpoint::SCAN,
            &request::scan_result(0, 2),
            &mut rng,
        );
        let list = response::scan_result(&plain).unwrap();
        assert_eq!(list[0].ssid, b"HomeNet");

        // Credentials, apply, status.
        let (plain, _) = call(
            &mut device,
            &mut client,
            endpoint::CONFIG,
            &request::set_config(b"HomeNet", b"secret123", None, 0),
            &mut rng,
        );
        assert_eq!(response::set_config(&plain), Ok(()));
        let (plain, action) = call(
            &mut device,
            &mut client,
            endpoint::CONFIG,
            &request::apply_config(),
            &mut rng,
        );
        assert_eq!(response::apply_config(&plain), Ok(()));
        let Some(Action::Apply(credentials)) = action else {
            panic!("{action:?}")
        };
        assert_eq!(credentials.ssid, b"HomeNet");
        assert_eq!(credentials.passphrase.as_slice(), b"secret123");
        let (plain, _) = call(
            &mut device,
            &mut client,
            endpoint::CONFIG,
            &request::get_status(),
            &mut rng,
        );
        assert_eq!(response::status(&plain), Ok(Station::Connecting));
        let connected = Connected {
            ip: [192, 168, 77, 50],
            auth_mode: 3,
            ssid: b"HomeNet".to_vec(),
            bssid: [2, 0, 0, 0, 0, 2],
            channel: 6,
        };
        device
            .provisioner_mut()
            .set_station(Station::Connected(connected.clone()));
        let (plain, action) = call(
            &mut device,
            &mut client,
            endpoint::CONFIG,
            &request::get_status(),
            &mut rng,
        );
        assert_eq!(response::status(&plain), Ok(Station::Connected(connected)));
        assert_eq!(action, Some(Action::Done));
    }
}

#[test]
fn wrong_secrets_are_refused_and_the_device_stays_usable() {
    for (seed, (version, patch)) in every_scheme()
        .into_iter()
        .enumerate()
        .filter(|(_, (v, _))| *v > 0)
    {
        let mut rng = StdRng::seed_from_u64(100 + seed as u64);
        let mut device = new_device(version, patch);
        let wrong = client_security(version, b"abcd1235", patch);
        let err = handshake(&mut device, &wrong, &mut rng).expect_err("wrong secret");
        assert!(matches!(err, Error::WrongProof(_)), "{err:?}");
        assert!(!device.is_established());
        // Data before a handshake is refused.
        assert!(
            device
                .handle_request(endpoint::CONFIG, &[0x52, 0x00], 0, &mut rng)
                .is_err()
        );
        // The right secret works on the same device without a restart.
        let right = client_security(version, b"abcd1234", patch);
        let mut client = handshake(&mut device, &right, &mut rng).expect("right secret");
        let (plain, _) = call(
            &mut device,
            &mut client,
            endpoint::CONFIG,
            &request::get_status(),
            &mut rng,
        );
        assert_eq!(response::status(&plain), Ok(Station::Disconnected));
    }
}

#[test]
fn out_of_order_and_damaged_handshakes_are_refused() {
    for (seed, (version, patch)) in every_scheme()
        .into_iter()
        .enumerate()
        .filter(|(_, (v, _))| *v > 0)
    {
        let mut rng = StdRng::seed_from_u64(200 + seed as u64);
        let mut device = new_device(version, patch);
        let security = client_security(version, b"abcd1234", patch);
        let (mut client, next) = ClientSession::start(&security, &mut rng).unwrap();
        let Next::Send(cmd0) = next else { panic!() };
        // Damaged Cmd0: every truncation is refused without a panic.
        for n in 0..cmd0.len() {
            let _ = device.handle_request(endpoint::SESSION, &cmd0[..n], 0, &mut rng);
        }
        let (resp0, _) = device
            .handle_request(endpoint::SESSION, &cmd0, 0, &mut rng)
            .unwrap();
        let Next::Send(cmd1) = client.handle_reply(&bytes(resp0)).unwrap() else {
            panic!()
        };
        // A flipped bit in Cmd1 fails and restarts the session; the real Cmd1 then is out of order.
        let mut bad = cmd1.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(
            device
                .handle_request(endpoint::SESSION, &bad, 0, &mut rng)
                .is_err()
        );
        assert!(
            device
                .handle_request(endpoint::SESSION, &cmd1, 0, &mut rng)
                .is_err()
        );
        assert!(!device.is_established());
        // A reply to the client outside its handshake is misuse, not a crash.
        let mut client = handshake(&mut device, &security, &mut rng).unwrap();
        assert!(matches!(
            client.handle_reply(b"\x00"),
            Err(Error::ApiMisuse(_))
        ));
        // A tampered encrypted request is refused (GCM authenticates; CTR decodes garbage).
        let mut wire = client
            .cipher()
            .unwrap()
            .encrypt(&request::get_status())
            .unwrap();
        wire[0] ^= 0x80;
        if version == 2 {
            assert!(matches!(
                device.handle_request(endpoint::CONFIG, &wire, 0, &mut rng),
                Err(Error::Crypto(_))
            ));
        }
    }
}

#[test]
fn a_new_session_forgets_the_old_keys_but_keeps_the_wifi_state() {
    let mut rng = StdRng::seed_from_u64(7);
    let mut device = new_device(1, Patch::Counter);
    let security = client_security(1, b"abcd1234", Patch::Counter);
    let mut client = handshake(&mut device, &security, &mut rng).unwrap();
    let (plain, _) = call(
        &mut device,
        &mut client,
        endpoint::CONFIG,
        &request::set_config(b"Net", b"password1", None, 0),
        &mut rng,
    );
    assert_eq!(response::set_config(&plain), Ok(()));
    let _ = call(
        &mut device,
        &mut client,
        endpoint::CONFIG,
        &request::apply_config(),
        &mut rng,
    );
    device
        .provisioner_mut()
        .set_station(Station::Failed(FailReason::AuthError));
    device.new_session();
    assert!(!device.is_established());
    let wire = client
        .cipher()
        .unwrap()
        .encrypt(&request::get_status())
        .unwrap();
    assert!(
        device
            .handle_request(endpoint::CONFIG, &wire, 0, &mut rng)
            .is_err()
    );
    let mut client = handshake(&mut device, &security, &mut rng).unwrap();
    let (plain, _) = call(
        &mut device,
        &mut client,
        endpoint::CONFIG,
        &request::get_status(),
        &mut rng,
    );
    assert_eq!(
        response::status(&plain),
        Ok(Station::Failed(FailReason::AuthError))
    );
}

#[test]
fn custom_endpoints_cannot_shadow_fixed_ones() {
    for name in ["", "prov-session", "proto-ver"] {
        let config = device::Config::new(DeviceSecurity::Sec0).with_custom_endpoint(name);
        assert!(matches!(
            device::Device::new(config),
            Err(Error::ApiMisuse(_))
        ));
    }
    let device = new_device(0, Patch::Counter);
    assert!(device.has_endpoint("custom-data"));
    assert!(!device.has_endpoint("nope"));
    assert_eq!(device.endpoints().count(), 6);
}

#[test]
fn random_requests_never_panic_the_device() {
    use rand::RngCore as _;
    let seed = 0x5eed_u64;
    println!("seed {seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    for (version, patch) in every_scheme() {
        let mut device = new_device(version, patch);
        for i in 0..3000 {
            let len = (rng.next_u32() % 600) as usize;
            let mut body = vec![0u8; len];
            rng.fill_bytes(&mut body);
            let name = [
                endpoint::SESSION,
                endpoint::CONFIG,
                endpoint::SCAN,
                endpoint::CTRL,
                "custom-data",
                "x",
            ][i % 6];
            if let Ok((Reply::Custom { .. }, _)) = device.handle_request(name, &body, 0, &mut rng) {
                device.custom_reply(b"ok").unwrap();
            }
        }
        // Still provisionable afterwards.
        let security = client_security(version, b"abcd1234", patch);
        assert!(handshake(&mut device, &security, &mut rng).is_ok());
    }
}

#[test]
fn wrong_proofs_are_throttled_per_device_and_a_success_resets_the_count() {
    for (seed, (version, patch)) in every_scheme()
        .into_iter()
        .enumerate()
        .filter(|(_, (v, _))| *v > 0)
    {
        let mut rng = StdRng::seed_from_u64(300 + seed as u64);
        let mut device = new_device(version, patch);
        let wrong = client_security(version, b"abcd1235", patch);
        let right = client_security(version, b"abcd1234", patch);
        let mut now = 10_000;
        // Three free wrong proofs, each on a "new connection".
        for attempt in 0..3 {
            device.new_session();
            let err = handshake_at(&mut device, &wrong, now, &mut rng).expect_err("wrong");
            assert!(
                matches!(err, Error::WrongProof(_)),
                "attempt {attempt}: {err:?}"
            );
        }
        device.new_session();
        assert!(
            handshake_at(&mut device, &wrong, now, &mut rng).is_err(),
            "4th wrong proof"
        );
        assert_eq!(device.wrong_proofs(), 4, "sec{version} {patch:?}");
        // The door is closed for 2 s, even to the right secret and a new session.
        for later in [0, 1_000, 1_999] {
            device.new_session();
            let err =
                handshake_at(&mut device, &right, now + later, &mut rng).expect_err("throttled");
            assert_eq!(
                err,
                Error::Throttled {
                    retry_after_ms: 2_000 - later
                },
                "sec{version} at +{later} ms"
            );
        }
        now += 2_000;
        // Another wrong proof doubles the delay.
        assert!(handshake_at(&mut device, &wrong, now, &mut rng).is_err());
        assert!(matches!(
            handshake_at(&mut device, &right, now + 3_999, &mut rng),
            Err(Error::Throttled { retry_after_ms: 1 })
        ));
        now += 4_000;
        handshake_at(&mut device, &right, now, &mut rng).expect("the right secret, once allowed");
        assert!(device.is_established());
        assert_eq!(device.wrong_proofs(), 0, "a success resets the count");
    }
}

#[test]
fn without_a_throttle_wrong_proofs_cost_nothing() {
    let mut rng = StdRng::seed_from_u64(400);
    let mut config = device::Config::new(DeviceSecurity::Sec1 {
        pop: Zeroizing::new(b"abcd1234".to_vec()),
    });
    config.throttle = None;
    let mut device = device::Device::new(config).unwrap();
    let wrong = client_security(1, b"abcd1235", Patch::Counter);
    for _ in 0..10 {
        let err = handshake_at(&mut device, &wrong, 0, &mut rng).expect_err("wrong");
        assert!(matches!(err, Error::WrongProof(_)), "{err:?}");
    }
    handshake_at(
        &mut device,
        &client_security(1, b"abcd1234", Patch::Counter),
        0,
        &mut rng,
    )
    .expect("no delay");
}
