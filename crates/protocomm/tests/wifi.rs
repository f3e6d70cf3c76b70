//! The device's Wi-Fi provisioning handlers (ESP-IDF semantics, spec §1.6 / §4.3) driven by our
//! client's requests and parsed by our client's response parsers.

use rand::{Rng as _, SeedableRng as _};
use wifiprov_protocomm::wifi::{
    Action, Config, Connected, FailReason, Provisioner, ScanEntry, ScanRequest, Station, request,
    response,
};

fn entry(ssid: &str, rssi: i32, auth: i32) -> ScanEntry {
    ScanEntry {
        ssid: ssid.as_bytes().to_vec(),
        channel: 6,
        rssi,
        bssid: [2, 0, 0, 0, 0, rssi.unsigned_abs() as u8],
        auth,
    }
}

#[test]
fn a_wrong_password_is_reported_and_reset_makes_the_device_provisionable_again() {
    // ESP-IDF's strict behaviour: after a failure only prov-ctrl Reset reopens provisioning.
    let mut p = Provisioner::new(Config {
        retry_after_failure: false,
        ..Config::default()
    });
    let (r, _) = p.handle_config(&request::get_status()).unwrap();
    assert_eq!(
        response::status(&r),
        Ok(Station::Disconnected),
        "idle reads as disconnected"
    );

    let (r, a) = p
        .handle_config(&request::set_config(b"Home", b"wrongpass", None, 0))
        .unwrap();
    assert_eq!((response::set_config(&r), a), (Ok(()), None));
    let (r, a) = p.handle_config(&request::apply_config()).unwrap();
    assert!(response::apply_config(&r).is_ok());
    let Some(Action::Apply(credentials)) = a else {
        panic!("{a:?}")
    };
    assert_eq!(credentials.passphrase.as_slice(), b"wrongpass");
    // Applying twice is refused (ESP-IDF: InternalError).
    let (r, a) = p.handle_config(&request::apply_config()).unwrap();
    assert!(response::apply_config(&r).is_err());
    assert_eq!(a, None);

    let (r, _) = p.handle_config(&request::get_status()).unwrap();
    assert_eq!(response::status(&r), Ok(Station::Connecting));
    p.set_station(Station::AttemptFailed { remaining: 2 });
    let (r, _) = p.handle_config(&request::get_status()).unwrap();
    assert_eq!(
        response::status(&r),
        Ok(Station::AttemptFailed { remaining: 2 })
    );
    p.set_station(Station::Failed(FailReason::AuthError));
    let (r, _) = p.handle_config(&request::get_status()).unwrap();
    assert_eq!(
        response::status(&r),
        Ok(Station::Failed(FailReason::AuthError))
    );
    // New credentials are refused until the client resets.
    let (r, _) = p
        .handle_config(&request::set_config(b"Home", b"rightpass", None, 0))
        .unwrap();
    assert!(response::set_config(&r).is_err());

    let (r, a) = p.handle_ctrl(&request::reset()).unwrap();
    assert_eq!((response::ctrl(&r), a), (Ok(()), Some(Action::Reset)));
    let (r, _) = p
        .handle_config(&request::set_config(b"Home", b"rightpass", None, 0))
        .unwrap();
    assert!(response::set_config(&r).is_ok());
    let (_, a) = p.handle_config(&request::apply_config()).unwrap();
    assert!(matches!(a, Some(Action::Apply(c)) if c.passphrase.as_slice() == b"rightpass"));
    let connected = Connected {
        ip: [10, 0, 0, 7],
        auth_mode: 3,
        ssid: b"Home".to_vec(),
        bssid: [1, 2, 3, 4, 5, 6],
        channel: 11,
    };
    p.set_station(Station::Connected(connected.clone()));
    let (r, a) = p.handle_config(&request::get_status()).unwrap();
    assert_eq!(
        response::status(&r),
        Ok(Station::Connected(connected.clone()))
    );
    assert_eq!(
        a,
        Some(Action::Done),
        "the first connected report ends provisioning"
    );
    let (_, a) = p.handle_config(&request::get_status()).unwrap();
    assert_eq!(a, None, "only once");
    // Reset is refused while connected; Reprov only when allowed.
    let (r, a) = p.handle_ctrl(&request::reset()).unwrap();
    assert!(response::ctrl(&r).is_err());
    assert_eq!(a, None);
    let (r, _) = p.handle_ctrl(&request::reprovision()).unwrap();
    assert!(response::ctrl(&r).is_err());
    let mut p = Provisioner::new(Config {
        allow_reprovision: true,
        ..Config::default()
    });
    let (r, a) = p.handle_ctrl(&request::reprovision()).unwrap();
    assert_eq!((response::ctrl(&r), a), (Ok(()), Some(Action::Reprovision)));
}

#[test]
fn set_config_checks_lengths_like_esp_idf() {
    let mut p = Provisioner::new(Config::default());
    for (ssid, pass, bssid) in [
        (&[b'a'; 33][..], &b"password"[..], None),
        (b"", b"password", None),
        (b"ok", &[b'p'; 64][..], None),
    ] {
        let (r, _) = p
            .handle_config(&request::set_config(ssid, pass, bssid, 0))
            .unwrap();
        assert!(response::set_config(&r).is_err(), "{ssid:?}");
    }
    let (r, _) = p
        .handle_config(&request::set_config(
            &[b'a'; 32],
            &[b'p'; 63],
            Some([1; 6]),
            6,
        ))
        .unwrap();
    assert!(response::set_config(&r).is_ok());
    let (_, a) = p.handle_config(&request::apply_config()).unwrap();
    assert!(matches!(a, Some(Action::Apply(c)) if c.bssid == Some([1; 6]) && c.channel == 6));
}

#[test]
fn by_default_new_credentials_after_a_failure_are_a_retry() {
    let mut p = Provisioner::new(Config::default());
    let _ = p
        .handle_config(&request::set_config(b"Home", b"wrongpass", None, 0))
        .unwrap();
    let _ = p.handle_config(&request::apply_config()).unwrap();
    // While joining, new credentials are refused.
    let (r, _) = p
        .handle_config(&request::set_config(b"Home", b"other", None, 0))
        .unwrap();
    assert!(response::set_config(&r).is_err());
    p.set_station(Station::Failed(FailReason::AuthError));
    let (r, a) = p
        .handle_config(&request::set_config(b"Home", b"rightpass", None, 0))
        .unwrap();
    assert_eq!((response::set_config(&r), a), (Ok(()), None));
    let (r, _) = p.handle_config(&request::get_status()).unwrap();
    assert_eq!(
        response::status(&r),
        Ok(Station::Disconnected),
        "back to idle"
    );
    let (r, a) = p.handle_config(&request::apply_config()).unwrap();
    assert!(response::apply_config(&r).is_ok());
    assert!(matches!(a, Some(Action::Apply(c)) if c.passphrase.as_slice() == b"rightpass"));
}

#[test]
fn scan_results_are_sorted_capped_paged_and_auth_clamped() {
    let mut p = Provisioner::new(Config {
        max_scan_entries: 5,
        ..Config::default()
    });
    let scan = ScanRequest {
        blocking: true,
        passive: false,
        group_channels: 0,
        period_ms: 120,
    };
    let (r, a) = p.handle_scan(&request::scan_start(scan)).unwrap();
    assert!(response::scan_start(&r).is_ok());
    assert_eq!(a, Some(Action::Scan(scan)));
    let (r, _) = p.handle_scan(&request::scan_status()).unwrap();
    assert_eq!(response::scan_status(&r), Ok((false, 0)));
    p.set_scan_results(vec![
        entry("weak", -90, 3),
        entry("strong", -30, 3),
        entry("wpa3", -50, 9),
        entry("mid", -60, 0),
        entry("a", -70, 4),
        entry("b", -80, 2),
        entry("c", -85, 1),
    ]);
    let (r, _) = p.handle_scan(&request::scan_status()).unwrap();
    assert_eq!(response::scan_status(&r), Ok((true, 5)));
    let (r, _) = p.handle_scan(&request::scan_result(0, 4)).unwrap();
    let first = response::scan_result(&r).unwrap();
    let (r, _) = p.handle_scan(&request::scan_result(4, 1)).unwrap();
    let rest = response::scan_result(&r).unwrap();
    let names: Vec<_> = first
        .iter()
        .chain(&rest)
        .map(|e| String::from_utf8_lossy(&e.ssid).into_owned())
        .collect();
    assert_eq!(names, ["strong", "wpa3", "mid", "a", "b"]);
    assert_eq!(first[1].auth, 7, "auth is clamped to esp_prov's table");
    // Out of range pages fail the request (ESP-IDF closes the connection).
    assert!(p.handle_scan(&request::scan_result(5, 1)).is_err());
    assert!(p.handle_scan(&request::scan_result(3, 3)).is_err());
    assert!(p.handle_scan(&request::scan_result(0, u32::MAX)).is_err());
}

#[test]
fn random_bytes_never_panic_any_handler() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut p = Provisioner::new(Config::default());
    p.set_scan_results(vec![entry("x", -40, 3)]);
    for _ in 0..20_000 {
        let len = rng.gen_range(0..64);
        let bytes: Vec<u8> = (0..len).map(|_| rng.r#gen()).collect();
        let _ = p.handle_config(&bytes);
        let _ = p.handle_scan(&bytes);
        let _ = p.handle_ctrl(&bytes);
        let _ = response::status(&bytes);
        let _ = response::scan_result(&bytes);
    }
}
