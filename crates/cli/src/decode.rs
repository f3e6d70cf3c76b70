//! `wifiprov decode`: credentials from a capture file.

use anyhow::{Context as _, Result};
use serde_json::json;
use wifiprov_esptouch::v2::Outcome;
use wifiprov_transport::capture::FileCapture;
use wifiprov_transport::front::{Decoded, Front, FrontExt as _, Method, Step};

use crate::NothingFound;
use crate::args::{DecodeArgs, Protocol};
use crate::output::{display_bytes, format_mac, text_or_null, to_hex};

/// The JSON object for a result (the `decode --json` contract).
pub(crate) fn result_json(decoded: &Decoded, frames_used: u32) -> serde_json::Value {
    match decoded {
        Decoded::EsptouchV1(c) => json!({
            "protocol": "esptouch-v1",
            "ssid": text_or_null(c.ssid()),
            "ssid_hex": to_hex(c.ssid()),
            "password": text_or_null(c.password()),
            "password_hex": to_hex(c.password()),
            "bssid": format_mac(&c.bssid()),
            "phone_ip": std::net::Ipv4Addr::from(c.phone_ip()).to_string(),
            "phone_mac": format_mac(&c.sender()),
            "channel": c.channel(),
            "total_len": c.total_len(),
            "ssid_from_scan": c.ssid_from_scan(),
            "bssid_from_frames": c.bssid_from_frames(),
            "frames_used": frames_used,
        }),
        Decoded::Airkiss(c) => json!({
            "protocol": "airkiss",
            "ssid": text_or_null(c.ssid()),
            "ssid_hex": to_hex(c.ssid()),
            "password": text_or_null(c.password()),
            "password_hex": to_hex(c.password()),
            "random": c.random(),
            "bssid": format_mac(&c.bssid()),
            "phone_mac": format_mac(&c.sender()),
            "channel": c.channel(),
            "ssid_from_scan": c.ssid_from_scan(),
            "frames_used": frames_used,
        }),
        Decoded::EsptouchV2(d) => {
            let c = &d.credentials;
            json!({
                "protocol": "esptouch-v2",
                "ssid": text_or_null(d.ssid()),
                "ssid_hex": to_hex(d.ssid()),
                "password": text_or_null(c.password()),
                "password_hex": to_hex(c.password()),
                "reserved_hex": to_hex(c.reserved()),
                "bssid": format_mac(&c.bssid()),
                "bssid_verified": c.bssid_verified(),
                "phone_mac": format_mac(&c.sender()),
                "phone_ip_version": if c.is_ipv4() { "ipv4" } else { "ipv6" },
                "channel": c.channel(),
                "port_mark": c.port_mark(),
                "encrypted": c.is_encrypted(),
                "security_ver": c.security_version(),
                "header_hex": to_hex(&c.header_bytes()),
                "ssid_from_scan": d.ssid_from_scan(),
                "frames_used": frames_used,
            })
        }
    }
}

/// Human-readable lines for a result.
pub(crate) fn result_text(decoded: &Decoded, show_password: bool) -> String {
    match decoded {
        Decoded::EsptouchV1(c) => {
            let password = if show_password {
                display_bytes(c.password())
            } else {
                format!("({} bytes; --show-password to print)", c.password().len())
            };
            format!(
                "protocol:  esptouch-v1\nssid:      {}{}\npassword:  {password}\nbssid:     {}{}\nphone ip:  {}\nphone mac: {}",
                display_bytes(c.ssid()),
                if c.ssid_from_scan() {
                    " (completed from a scan result)"
                } else {
                    ""
                },
                format_mac(&c.bssid()),
                if c.bssid_from_frames() {
                    " (from the frames' BSSID)"
                } else {
                    ""
                },
                std::net::Ipv4Addr::from(c.phone_ip()),
                format_mac(&c.sender()),
            )
        }
        Decoded::Airkiss(c) => {
            let password = if show_password {
                display_bytes(c.password())
            } else {
                format!("({} bytes; --show-password to print)", c.password().len())
            };
            format!(
                "protocol:  airkiss\nssid:      {}{}\npassword:  {password}\nrandom:    {}\nphone mac: {}",
                display_bytes(c.ssid()),
                if c.ssid_from_scan() {
                    " (completed from a scan result)"
                } else {
                    ""
                },
                c.random(),
                format_mac(&c.sender()),
            )
        }
        Decoded::EsptouchV2(d) => {
            let c = &d.credentials;
            let password = if show_password {
                display_bytes(c.password())
            } else {
                format!("({} bytes; --show-password to print)", c.password().len())
            };
            format!(
                "protocol:  esptouch-v2{}\nssid:      {}{}\npassword:  {password}\nreserved:  {}\nbssid:     {}\nport mark: {}\nphone mac: {}",
                if c.is_encrypted() {
                    format!(" (AES, security {})", c.security_version())
                } else {
                    String::new()
                },
                display_bytes(d.ssid()),
                if d.ssid_from_scan() {
                    " (completed from a scan result)"
                } else {
                    ""
                },
                if c.reserved().is_empty() {
                    "(none)".to_owned()
                } else {
                    format!(
                        "{} (hex {})",
                        display_bytes(c.reserved()),
                        to_hex(c.reserved())
                    )
                },
                format_mac(&c.bssid()),
                c.port_mark(),
                format_mac(&c.sender()),
            )
        }
    }
}

pub(crate) fn run(args: &DecodeArgs) -> Result<()> {
    let methods: Vec<Method> = match args.protocol {
        Protocol::Auto => vec![Method::EsptouchV1, Method::Airkiss, Method::EsptouchV2],
        Protocol::EsptouchV1 => vec![Method::EsptouchV1],
        Protocol::Airkiss => vec![Method::Airkiss],
        Protocol::EsptouchV2 => vec![Method::EsptouchV2],
    };
    let mut v2_config = wifiprov_esptouch::v2::DecoderConfig::default();
    if let Some(key) = &args.aes_key {
        v2_config.aes_key = Some(crate::esptouch_v2::parse_aes_key(key).context("--aes-key")?);
    }
    let mut front = Front::new(&methods, !args.no_scan).with_v2_config(v2_config);
    let mut sealed = None;
    let mut result = None;
    let source = match (&args.pcap, &args.observations) {
        (Some(pcap), _) => {
            let reader = FileCapture::open(pcap)
                .with_context(|| format!("cannot read capture {}", pcap.display()))?;
            for record in reader {
                let record = record.with_context(|| format!("reading {}", pcap.display()))?;
                match front.feed_record(&record) {
                    Step::Complete(decoded) => {
                        result = Some(decoded);
                        break;
                    }
                    Step::Sealed(outcome) => sealed = Some(outcome),
                    _ => {}
                }
            }
            pcap.display().to_string()
        }
        (None, Some(path)) => {
            for obs in crate::observations::read(path)? {
                match front.feed(&obs) {
                    Step::Complete(decoded) => {
                        result = Some(decoded);
                        break;
                    }
                    Step::Sealed(outcome) => sealed = Some(outcome),
                    _ => {}
                }
            }
            path.display().to_string()
        }
        (None, None) => anyhow::bail!("give --pcap FILE or --observations FILE"),
    };
    if args.explain {
        let report = front.explain();
        if args.json {
            eprint!("{report}");
        } else {
            print!("{report}");
        }
    }
    if let (None, Some(outcome)) = (&result, &sealed) {
        let wrong = matches!(outcome, Outcome::KeyWrong(_));
        return Err(NothingFound(format!(
            "ESP-TOUCH v2 from {} for SSID {}: the password is encrypted, {}",
            format_mac(&outcome.sender()),
            display_bytes(outcome.ssid()),
            if wrong {
                "and the key given (--aes-key) is wrong: it does not open the data"
            } else {
                "key needed: give the device's AES key with --aes-key"
            }
        ))
        .into());
    }
    let Some(decoded) = result else {
        return Err(NothingFound(format!(
            "no {} credentials found in {source} ({} data frames read; try --explain)",
            match args.protocol {
                Protocol::Auto => "provisioning",
                Protocol::EsptouchV1 => "ESP-TOUCH v1",
                Protocol::Airkiss => "AirKiss",
                Protocol::EsptouchV2 => "ESP-TOUCH v2",
            },
            front.frames()
        ))
        .into());
    };
    let frames_used = match decoded {
        // ESP-TOUCH: frames that carried data; AirKiss: observations fed until the result (the
        // figure the reference decoder's "complete after" count compares with).
        Decoded::EsptouchV1(_) => front.frames_used(),
        Decoded::Airkiss(_) => front.stats(Method::Airkiss).observations,
        Decoded::EsptouchV2(_) => front.stats(Method::EsptouchV2).used,
    };
    if args.json {
        println!("{}", result_json(&decoded, frames_used));
    } else {
        println!("{}", result_text(&decoded, true));
    }
    Ok(())
}
