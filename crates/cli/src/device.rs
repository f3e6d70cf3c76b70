//! `wifiprov device`: sniff an interface, decode, acknowledge.

use std::net::Ipv4Addr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use wifiprov_esptouch::v1;
use wifiprov_sniff::Progress;
use wifiprov_transport::capture::{LiveCapture, Record};

use crate::NothingFound;
use crate::args::{DeviceArgs, Protocol};
use crate::decode::{Decoded, Front, Input, result_json, result_text};
use crate::output::{format_mac, parse_mac};

/// Maps a capture record to decoder input.
pub(crate) fn input_of(record: Record) -> Option<Input> {
    match record {
        Record::Data(obs) => Some(Input::Frame(obs)),
        Record::Beacon { bssid, ssid, .. } => Some(Input::Beacon { ssid, bssid }),
        Record::Other => None,
    }
}

fn interface_mac(iface: &str) -> Option<[u8; 6]> {
    let text = std::fs::read_to_string(format!("/sys/class/net/{iface}/address")).ok()?;
    parse_mac(text.trim()).ok()
}

pub(crate) fn run(args: &DeviceArgs) -> Result<()> {
    let stop = crate::stop_flag();
    let mut capture = LiveCapture::open(&args.iface, Duration::from_millis(200))
        .with_context(|| format!("cannot sniff on {}", args.iface))?;
    let mut front = Front::new(Protocol::Auto, true);
    let started = Instant::now();
    let deadline = (args.timeout > 0.0).then(|| started + Duration::from_secs_f64(args.timeout));
    eprintln!(
        "device: listening for {} on {} ({:?} framing){}",
        args.methods
            .iter()
            .map(|m| match m {
                crate::args::Method::EsptouchV1 => "esptouch-v1",
            })
            .collect::<Vec<_>>()
            .join(", "),
        args.iface,
        capture.link_type(),
        deadline.map_or(String::new(), |_| format!(", timeout {} s", args.timeout))
    );
    let mut locked_at = None;
    let mut last_report = Instant::now();
    let mut last_have = None;
    let decoded = loop {
        if stop.load(Ordering::SeqCst) {
            bail!("interrupted");
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(NothingFound(format!(
                "no credentials decoded on {} within {} s ({} data frames seen)",
                args.iface, args.timeout, front.frames_read
            ))
            .into());
        }
        let Some(record) = capture.next_record()? else {
            continue;
        };
        let Some(input) = input_of(record) else {
            continue;
        };
        match front.feed(input) {
            (_, Some(decoded)) => break decoded,
            (
                Some(Progress::Locked {
                    channel,
                    sender,
                    bssid,
                }),
                None,
            ) => {
                locked_at = Some(Instant::now());
                eprintln!(
                    "device: locked on sender {} (BSSID {}, channel {channel})",
                    format_mac(&sender),
                    format_mac(&bssid)
                );
            }
            (Some(Progress::Collecting { have, need }), None)
                if last_have != Some(have)
                    && last_report.elapsed() >= Duration::from_millis(500) =>
            {
                last_report = Instant::now();
                last_have = Some(have);
                eprintln!(
                    "device: {have}/{} bytes",
                    need.map_or_else(|| "?".to_owned(), |n| n.to_string())
                );
            }
            _ => {}
        }
    };
    let decode_ms = locked_at.map(|t| t.elapsed().as_millis());
    let Decoded::EsptouchV1(credentials) = &decoded;
    let ack_sent = if args.no_ack {
        false
    } else {
        send_ack(args, credentials)?;
        true
    };
    if args.json {
        let mut value = result_json(&decoded, front.frames_used());
        value["decode_ms"] = serde_json::json!(decode_ms);
        value["elapsed_ms"] = serde_json::json!(started.elapsed().as_millis());
        value["ack_sent"] = serde_json::json!(ack_sent);
        println!("{value}");
    } else {
        println!("{}", result_text(&decoded, args.show_password));
    }
    Ok(())
}

fn send_ack(args: &DeviceArgs, credentials: &v1::Credentials) -> Result<()> {
    let mac = match &args.mac {
        Some(text) => parse_mac(text).context("--mac")?,
        None => interface_mac(&args.iface).unwrap_or([0; 6]),
    };
    let ip = match args.ip {
        Some(ip) => ip,
        None => {
            wifiprov_transport::udp::interface_ipv4(&args.iface).unwrap_or(Ipv4Addr::UNSPECIFIED)
        }
    };
    let ack = v1::Ack {
        token: credentials.total_len(),
        mac,
        ip: ip.octets(),
    };
    let phone = Ipv4Addr::from(credentials.phone_ip());
    eprintln!(
        "device: acknowledging to {phone}:{} as {} / {ip} (30 rounds, 100 ms apart)",
        v1::ACK_PORT,
        format_mac(&mac)
    );
    wifiprov_transport::udp::send_v1_ack(
        &ack,
        phone,
        &wifiprov_transport::udp::AckOptions::default(),
    )
    .context("sending the ESP-TOUCH ack")?;
    Ok(())
}
