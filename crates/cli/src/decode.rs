//! `wifiprov decode`: credentials from a capture file.

use anyhow::{Context as _, Result};
use serde_json::json;
use wifiprov_transport::capture::FileCapture;
use wifiprov_transport::front::{Decoded, Front, Method, Step};

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
    }
}

pub(crate) fn run(args: &DecodeArgs) -> Result<()> {
    let methods: Vec<Method> = match args.protocol {
        Protocol::Auto => vec![Method::EsptouchV1, Method::Airkiss],
        Protocol::EsptouchV1 => vec![Method::EsptouchV1],
        Protocol::Airkiss => vec![Method::Airkiss],
    };
    let mut front = Front::new(&methods, !args.no_scan);
    let mut result = None;
    let source = match (&args.pcap, &args.observations) {
        (Some(pcap), _) => {
            let reader = FileCapture::open(pcap)
                .with_context(|| format!("cannot read capture {}", pcap.display()))?;
            for record in reader {
                let record = record.with_context(|| format!("reading {}", pcap.display()))?;
                if let Step::Complete(decoded) = front.feed_record(&record) {
                    result = Some(decoded);
                    break;
                }
            }
            pcap.display().to_string()
        }
        (None, Some(path)) => {
            for obs in crate::observations::read(path)? {
                if let Step::Complete(decoded) = front.feed(&obs) {
                    result = Some(decoded);
                    break;
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
    let Some(decoded) = result else {
        return Err(NothingFound(format!(
            "no {} credentials found in {source} ({} data frames read; try --explain)",
            match args.protocol {
                Protocol::Auto => "provisioning",
                Protocol::EsptouchV1 => "ESP-TOUCH v1",
                Protocol::Airkiss => "AirKiss",
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
    };
    if args.json {
        println!("{}", result_json(&decoded, frames_used));
    } else {
        println!("{}", result_text(&decoded, true));
    }
    Ok(())
}
