//! `wifiprov esptouch encode --v2` and `esptouch send --v2`.

use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use rand::RngCore as _;
use serde_json::json;
use wifiprov_esptouch::v2::{self, Config, Encoder, IpVersion, Key, Replay};
use wifiprov_transport::udp::v2::{self as udp_v2, Event, SendOptions};

use crate::NothingFound;
use crate::args::{EncodeArgs, SendArgs, V2Args};
use crate::output::{credential_bytes, format_mac, parse_hex, parse_mac, to_hex};

/// An AES key as ESP-IDF and the apps take it: exactly 16 characters, their bytes the key.
pub(crate) fn parse_aes_key(text: &str) -> Result<Key> {
    Key::try_from(text.as_bytes()).map_err(|_| {
        anyhow::anyhow!(
            "the AES key is the 16 characters configured on the device (esp_touch_v2_key); got {} bytes",
            text.len()
        )
    })
}

/// Reserved data from `--reserved` or `--reserved-hex`.
fn reserved(args: &V2Args) -> Result<Vec<u8>> {
    let data = match (&args.reserved, &args.reserved_hex) {
        (Some(text), _) => text.as_bytes().to_vec(),
        (None, Some(hex)) => parse_hex(hex).context("--reserved-hex")?,
        (None, None) => Vec::new(),
    };
    if data.len() > v2::MAX_RESERVED_LEN {
        bail!(
            "reserved data is at most {} bytes, got {}",
            v2::MAX_RESERVED_LEN,
            data.len()
        );
    }
    Ok(data)
}

/// Encodes with `random` (a recorded list, or the OS).
fn encoder(
    credentials: (&[u8], &[u8]),
    reserved: &[u8],
    bssid: [u8; 6],
    ip_version: IpVersion,
    args: &V2Args,
    port_mark: u8,
    random: &mut dyn v2::Randomness,
) -> Result<Encoder> {
    let mut config = Config::new(credentials.0, credentials.1, bssid)
        .with_reserved(reserved)
        .with_port_mark(port_mark)
        .with_ip_version(ip_version);
    if let Some(key) = &args.aes_key {
        config = config.with_aes_key(parse_aes_key(key).context("--aes-key")?, args.security_ver);
    }
    Encoder::new(&config, random).context("cannot encode these credentials")
}

/// The OS's randomness.
struct Os;

impl v2::Randomness for Os {
    fn iv_byte(&mut self) -> u8 {
        rand::rngs::OsRng.next_u32().to_le_bytes()[0]
    }
    fn padding_byte(&mut self) -> u8 {
        // Uniform in 0..=126 by rejection (the reference: Random.nextInt(127)).
        loop {
            let b = rand::rngs::OsRng.next_u32().to_le_bytes()[0] & 0x7f;
            if b < 127 {
                return b;
            }
        }
    }
}

/// Warns that credentials go out readable by any sniffer.
pub(crate) fn warn_unencrypted(what: &str) {
    eprintln!(
        "warning: {what} sends the password in a form any sniffer in radio range can decode; ESP-TOUCH v2 with --aes-key does not"
    );
}

pub(crate) fn encode(args: &EncodeArgs) -> Result<()> {
    let (ssid, password) = credential_bytes(&args.credentials)?;
    let bssid = parse_mac(&args.bssid).context("--bssid")?;
    let reserved = reserved(&args.v2)?;
    let ip_version = match args.ip {
        IpAddr::V4(_) => IpVersion::V4,
        IpAddr::V6(_) => IpVersion::V6,
    };
    let port_mark = args.v2.port_mark.unwrap_or(0);
    // Recorded randomness is handed out verbatim, in order (the vectors' `random_hex`).
    let recorded = args
        .random_hex
        .as_deref()
        .map(parse_hex)
        .transpose()
        .context("--random-hex")?;
    let mut replay = recorded.as_deref().map(Replay::new);
    let random: &mut dyn v2::Randomness = match replay.as_mut() {
        Some(replay) => replay,
        None => &mut Os,
    };
    let encoder = encoder(
        (&ssid, &password),
        &reserved,
        bssid,
        ip_version,
        &args.v2,
        port_mark,
        random,
    )?;
    if let (Some(replay), Some(bytes)) = (&replay, &recorded) {
        if replay.overrun() {
            bail!(
                "--random-hex has {} bytes; this encoding needs more (security 2: 20 IV bytes, then one per padding byte)",
                bytes.len()
            );
        }
        if replay.remaining() > 0 {
            bail!(
                "--random-hex has {} bytes; this encoding uses {}",
                bytes.len(),
                bytes.len() - replay.remaining()
            );
        }
    }
    let lengths = encoder.lengths();
    if args.json {
        let header = encoder.header();
        println!(
            "{}",
            json!({
                "protocol": "esptouch-v2",
                "header_hex": to_hex(&header),
                "group_count": encoder.group_count(),
                "encrypted": encoder.is_encrypted(),
                "port_mark": port_mark,
                "lengths": lengths,
            })
        );
        return Ok(());
    }
    let line: Vec<String> = lengths.iter().map(u16::to_string).collect();
    println!("{}", line.join(","));
    Ok(())
}

pub(crate) fn send(args: &SendArgs) -> Result<()> {
    let (ssid, password) = credential_bytes(&args.credentials)?;
    let reserved = reserved(&args.v2)?;
    let (iface, _, bssid) = crate::esptouch::phone_network(args)?;
    let (socket, port_mark) = udp_v2::bind_app_port(iface.as_deref(), args.v2.port_mark)
        .context("binding the app port")?;
    let encoder = encoder(
        (&ssid, &password),
        &reserved,
        bssid,
        IpVersion::V4,
        &args.v2,
        port_mark,
        &mut Os,
    )?;
    let secrets = !(password.is_empty() && reserved.is_empty());
    if secrets && !encoder.is_encrypted() {
        warn_unencrypted("ESP-TOUCH v2 without --aes-key");
    }
    let timeout = args.timeout.unwrap_or(90.0).max(0.0);
    let options = SendOptions {
        destination: args.dest.unwrap_or(std::net::Ipv4Addr::BROADCAST),
        timeout: Duration::from_secs_f64(timeout),
        devices: args.devices,
        iface: iface.clone(),
        ..SendOptions::new(encoder.lengths().to_vec())
    };
    let stop = crate::stop_flag();
    let json = args.json;
    let port = v2::APP_PORTS
        .get(usize::from(port_mark))
        .copied()
        .unwrap_or(v2::APP_PORTS[0]);
    let devices = udp_v2::provision(&socket, &options, &stop, |event| match event {
        Event::Sync => eprintln!(
            "esptouch v2: {} groups ({}), {} lengths per pass to {}:{} from port {port}{}; Ctrl-C to stop",
            encoder.group_count(),
            if encoder.is_encrypted() {
                "encrypted"
            } else {
                "plaintext"
            },
            encoder.lengths().len(),
            options.destination,
            options.port,
            iface
                .as_deref()
                .map(|i| format!(" on {i}"))
                .unwrap_or_default(),
        ),
        Event::Progress {
            datagrams,
            passes,
            elapsed,
        } => eprint!(
            "\r  {:5.1} s  {datagrams} datagrams  {passes} passes   ",
            elapsed.as_secs_f64()
        ),
        Event::Device(d) => {
            eprintln!();
            if !json {
                println!(
                    "device {} at {} (after {:.1} s)",
                    format_mac(&d.mac),
                    d.from.ip(),
                    d.after.as_secs_f64()
                );
            }
        }
        _ => {}
    })?;
    eprintln!();
    let interrupted = stop.load(Ordering::SeqCst);
    if json {
        let list: Vec<_> = devices
            .iter()
            .map(|d| {
                json!({"mac": format_mac(&d.mac), "ip": d.from.ip().to_string(), "from": d.from.to_string(),
                       "port_mark": d.port_mark, "after_ms": d.after.as_millis()})
            })
            .collect();
        println!(
            "{}",
            json!({"protocol": "esptouch-v2", "bssid": format_mac(&bssid), "port_mark": port_mark,
                   "encrypted": encoder.is_encrypted(), "devices": list, "interrupted": interrupted})
        );
    }
    if devices.is_empty() {
        return Err(NothingFound(if interrupted {
            "interrupted before any device answered".to_owned()
        } else {
            format!("no device answered within {timeout} s")
        })
        .into());
    }
    Ok(())
}
