//! `wifiprov esptouch encode|send`.

use std::net::{IpAddr, Ipv4Addr};

use anyhow::{Context as _, Result};
use serde_json::json;
use wifiprov_esptouch::v1::{Config, Encoder};

use crate::NothingFound;
use crate::args::{EncodeArgs, EsptouchCommand, SendArgs};
use crate::output::{credential_bytes, format_mac, parse_mac};
use wifiprov_sniff::Mac;

pub(crate) fn run(command: EsptouchCommand) -> Result<()> {
    match command {
        EsptouchCommand::Encode(args) if args.v2.v2 => crate::esptouch_v2::encode(&args),
        EsptouchCommand::Send(args) if args.v2.v2 => crate::esptouch_v2::send(&args),
        EsptouchCommand::Encode(args) => encode(&args),
        EsptouchCommand::Send(args) => send(&args),
    }
}

fn encode(args: &EncodeArgs) -> Result<()> {
    let (ssid, password) = credential_bytes(&args.credentials)?;
    let bssid = parse_mac(&args.bssid).context("--bssid")?;
    let IpAddr::V4(ip) = args.ip else {
        anyhow::bail!("--ip: ESP-TOUCH v1 sends an IPv4 address (IPv6 needs --v2)");
    };
    let config = Config::new(&ssid, &password, bssid, ip.octets());
    let encoder = Encoder::new(&config).context("cannot encode these credentials")?;
    let cycle: Vec<u16> = encoder.data_cycle().collect();
    if args.json {
        let value = json!({
            "protocol": "esptouch-v1",
            "guide": encoder.guide(),
            "data_cycle": cycle,
            "total_len": encoder.total_len(),
            "datum_count": encoder.datum_count(),
        });
        println!("{value}");
        return Ok(());
    }
    let join = |v: &[u16]| v.iter().map(u16::to_string).collect::<Vec<_>>().join(",");
    if args.with_guide {
        println!("{}", join(&encoder.guide()));
    }
    println!("{}", join(&cycle));
    Ok(())
}

/// The BSSID `iface` is associated with, from `iw dev IFACE link`.
fn associated_bssid(iface: &str) -> Option<[u8; 6]> {
    let output = std::process::Command::new("iw")
        .args(["dev", iface, "link"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().find(|l| l.starts_with("Connected to "))?;
    parse_mac(line.split_whitespace().nth(2)?).ok()
}

/// The phone's side of the network: the interface to send on, its IPv4 address (or `--ip`) and
/// the BSSID (`--bssid`, or the one the interface is associated with).
pub(crate) fn phone_network(args: &SendArgs) -> Result<(Option<String>, Option<Ipv4Addr>, Mac)> {
    use wifiprov_transport::udp;
    let (iface, iface_ip) = match &args.iface {
        Some(name) => (Some(name.clone()), udp::interface_ipv4(name).ok()),
        None => match udp::default_ipv4() {
            Ok((name, ip)) => (Some(name), Some(ip)),
            Err(e) if args.ip.is_some() => {
                log::debug!("{e}");
                (None, None)
            }
            Err(e) => return Err(e).context("choosing the phone's interface"),
        },
    };
    let bssid = match &args.bssid {
        Some(text) => parse_mac(text).context("--bssid")?,
        None => match iface.as_deref().and_then(associated_bssid) {
            Some(bssid) => bssid,
            None => {
                eprintln!(
                    "warning: the BSSID is unknown (not associated, or `iw` missing); sending 00:00:00:00:00:00 — pass --bssid"
                );
                [0; 6]
            }
        },
    };
    Ok((iface, args.ip.or(iface_ip), bssid))
}

fn send(args: &SendArgs) -> Result<()> {
    use std::sync::atomic::Ordering;
    use std::time::Duration;
    use wifiprov_transport::udp::{self, Destination, SendEvent, V1SendOptions};

    let (ssid, password) = credential_bytes(&args.credentials)?;
    let (_, phone_ip, bssid) = phone_network(args)?;
    let phone_ip =
        phone_ip.context("no IPv4 address to announce as the phone IP: give --ip or --iface")?;
    let encoder = Encoder::new(&Config::new(&ssid, &password, bssid, phone_ip.octets()))
        .context("cannot encode these credentials")?;
    if !password.is_empty() {
        crate::esptouch_v2::warn_unencrypted("ESP-TOUCH v1 (CVE-2020-12702)");
    }
    let options = V1SendOptions {
        destination: if args.multicast {
            Destination::Multicast
        } else {
            Destination::Address(args.dest.unwrap_or(Ipv4Addr::BROADCAST))
        },
        iface: args.iface.clone(),
        timeout: Duration::from_secs_f64(args.timeout.unwrap_or(60.0).max(0.0)),
        devices: args.devices,
        ..V1SendOptions::for_encoder(&encoder)
    };
    let stop = crate::stop_flag();
    let json = args.json;
    let devices = udp::provision_v1(&options, phone_ip, &stop, |event| match event {
        SendEvent::Started {
            phone_ip,
            destination,
        } => eprintln!(
            "esptouch: sending {} DataCodes to {destination}:{} as phone {phone_ip}{}; Ctrl-C to stop",
            encoder.datum_count(),
            options.port,
            if args.multicast {
                " (multicast 234.n.n.n)"
            } else {
                ""
            }
        ),
        SendEvent::Progress {
            datagrams,
            elapsed,
            guide,
        } => eprint!(
            "\r  {:5.1} s  {datagrams} datagrams  {}   ",
            elapsed.as_secs_f64(),
            if guide { "guide" } else { "data " }
        ),
        SendEvent::Listening => eprintln!("\nesptouch: sending time over, listening for acks"),
        SendEvent::Device(d) => {
            eprintln!();
            if !json {
                println!(
                    "device {} at {} (after {:.1} s)",
                    format_mac(&d.mac),
                    d.ip,
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
                json!({"mac": format_mac(&d.mac), "ip": d.ip.to_string(), "from": d.from.to_string(),
                       "after_ms": d.after.as_millis()})
            })
            .collect();
        println!(
            "{}",
            json!({"protocol": "esptouch-v1", "phone_ip": phone_ip.to_string(), "bssid": format_mac(&bssid),
                   "devices": list, "interrupted": interrupted})
        );
    }
    if devices.is_empty() {
        return Err(NothingFound(if interrupted {
            "interrupted before any device acknowledged".to_owned()
        } else {
            format!(
                "no device acknowledged within {} s",
                args.timeout.unwrap_or(60.0)
            )
        })
        .into());
    }
    Ok(())
}
