//! Secrets hygiene (issue 8): no `Debug` of the decoder front's results, the daemon's events,
//! the provisioner's options or the credential store shows a password, passphrase, PoP or
//! reserved data; the PSK of the join paths is zeroized.

use wifiprov_airkiss::encoder as airkiss;
use wifiprov_esptouch::{v1, v2};
use wifiprov_sniff::{Instant, Mac, Observation};
use wifiprov_transport::device::{Event, store::Stored, wpa};
use wifiprov_transport::front::{Decoded, Front, Method, Step};
use wifiprov_transport::provision::{Network, Options, Secrets};
use zeroize::{ZeroizeOnDrop, Zeroizing};

const SECRET: &[u8] = b"S3cr3t-Pa55";
const RESERVED: &[u8] = b"R3s3rv3d-Da7a";
const PHONE: Mac = [2, 0, 0, 0, 0, 1];
const AP: Mac = [2, 0, 0, 0, 0, 0xaa];

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

/// Feeds `lengths` (UDP payload lengths) to a front running `method`; the verified result.
fn decode(method: Method, lengths: impl Iterator<Item = u16>) -> Decoded {
    let mut front = Front::new(&[method], false);
    for (n, len) in lengths.enumerate() {
        let mut obs = Observation::new(Instant::from_millis(8 * n as u64), len + 76, PHONE, AP);
        obs.sequence = Some((n % 4096) as u16);
        if let Step::Complete(decoded) = front.feed(&obs) {
            let debug = format!("{:?}", Step::Complete(decoded.clone()));
            assert_hidden(&debug, SECRET);
            assert_hidden(&format!("{front:?}"), SECRET);
            return decoded;
        }
    }
    panic!("{} did not decode", method.name());
}

#[test]
fn decoded_results_and_the_event_never_show_the_secrets() {
    let v1 = v1::Encoder::new(&v1::Config::new(b"HomeNet", SECRET, AP, [192, 168, 1, 2]))
        .expect("valid");
    let from_v1 = decode(
        Method::EsptouchV1,
        v1.guide().into_iter().chain(v1.data_cycle()),
    );
    let airkiss =
        airkiss::Encoder::new(&airkiss::Config::new(b"HomeNet", SECRET, 0x55)).expect("valid");
    let from_airkiss = decode(Method::Airkiss, airkiss.cycle(airkiss::Layout::default()));
    let mut random = || 5u8;
    let config = v2::Config::new(b"HomeNet", SECRET, AP).with_reserved(RESERVED);
    let v2 = v2::Encoder::new(&config, &mut random).expect("valid");
    let pass = v2.lengths().to_vec();
    let from_v2 = decode(
        Method::EsptouchV2,
        pass.iter().copied().cycle().take(3 * pass.len()),
    );
    for decoded in [from_v1, from_airkiss, from_v2] {
        assert_eq!(decoded.password(), SECRET);
        let debug = format!("{decoded:?}");
        assert_hidden(&debug, SECRET);
        assert_hidden(&debug, RESERVED);
        assert!(debug.contains("password: <11 bytes>"), "{debug}");
        let event = format!("{:?}", Event::Credentials { decoded });
        assert_hidden(&event, SECRET);
        assert_hidden(&event, RESERVED);
    }
}

#[test]
fn provisioning_options_never_show_the_secrets() {
    let options = Options {
        secrets: Secrets {
            pop: Some(Zeroizing::new(SECRET.to_vec())),
            username: Some(b"wifiprov".to_vec()),
            password: Some(Zeroizing::new(RESERVED.to_vec())),
            ..Secrets::default()
        },
        network: Some(Network {
            ssid: b"HomeNet".to_vec(),
            passphrase: Zeroizing::new(SECRET.to_vec()),
        }),
        ..Options::default()
    };
    let debug = format!("{options:?}");
    assert_hidden(&debug, SECRET);
    assert_hidden(&debug, RESERVED);
}

#[test]
fn the_stored_credentials_never_show_the_password() {
    const { assert_zeroized_on_drop::<Stored>() };
    let stored = Stored {
        method: "esptouch-v2".into(),
        ssid_hex: "486f6d654e6574".into(),
        password_hex: SECRET.iter().map(|b| format!("{b:02x}")).collect(),
        bssid: None,
        reserved_hex: Some(RESERVED.iter().map(|b| format!("{b:02x}")).collect()),
    };
    let debug = format!("{stored:?}");
    assert_hidden(&debug, SECRET);
    assert_hidden(&debug, RESERVED);
}

#[test]
fn the_psk_is_zeroizing() {
    // The type says it: the PSK is wiped when the join path drops it.
    let psk: Zeroizing<[u8; 32]> = wpa::wpa_psk(b"IEEE", b"password").expect("valid");
    assert_eq!(psk[0], 0xf4);
}
