//! `wifiprov airkiss encode|send`.

use anyhow::{Context as _, Result, bail};
use rand::Rng as _;
use serde_json::json;
use wifiprov_airkiss::encoder::{Config, Encoder, Layout};

use crate::NothingFound;
use crate::args::{AirkissCommand, AirkissEncodeArgs, AirkissSendArgs};
use crate::output::{credential_bytes, format_mac};

pub(crate) fn run(command: AirkissCommand) -> Result<()> {
    match command {
        AirkissCommand::Encode(args) => encode(&args),
        AirkissCommand::Send(args) => send(&args),
    }
}

/// A random byte in 1..=126 (0 confuses some decoders; WeChat's senders draw below 127).
fn random_byte(given: Option<u8>) -> u8 {
    given.unwrap_or_else(|| rand::rngs::OsRng.gen_range(1..=126))
}

fn encoder(credentials: &crate::args::Credentials, random: u8) -> Result<Encoder> {
    let (ssid, password) = credential_bytes(credentials)?;
    Encoder::new(&Config::new(&ssid, &password, random)).context("cannot encode these credentials")
}

fn encode(args: &AirkissEncodeArgs) -> Result<()> {
    let random = random_byte(args.random);
    let e = encoder(&args.credentials, random)?;
    let cycle: Vec<u16> = e.cycle(Layout::default()).collect();
    if args.json {
        let sequences: Vec<Vec<u16>> = e.sequences().map(|s| s.values().to_vec()).collect();
        println!(
            "{}",
            json!({"protocol": "airkiss", "random": random, "total_len": e.total_len(),
                "ssid_crc8": e.ssid_crc(), "guide": wifiprov_airkiss::encoder::GUIDE,
                "magic": e.magic(), "prefix": e.prefix(), "sequences": sequences, "lengths": cycle})
        );
        return Ok(());
    }
    let line: Vec<String> = cycle.iter().map(u16::to_string).collect();
    println!("{}", line.join(","));
    Ok(())
}

fn send(args: &AirkissSendArgs) -> Result<()> {
    use std::sync::atomic::Ordering;
    use std::time::Duration;
    use wifiprov_transport::udp::{self, AirkissEvent, AirkissSendOptions};

    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        bail!("--timeout must be a positive number of seconds");
    }
    if args.gap_ms == 0 || args.gap_ms > 1000 {
        bail!("--gap-ms must be 1..1000");
    }
    if args.guide_gap_ms == 0 || args.guide_gap_ms > 1000 {
        bail!("--guide-gap-ms must be 1..1000");
    }
    let random = random_byte(args.random);
    let e = encoder(&args.credentials, random)?;
    let mut options = AirkissSendOptions::new(e.cycle(Layout::default()).collect(), random);
    options.timeout = Duration::from_secs_f64(args.timeout);
    options.devices = args.devices;
    options.iface.clone_from(&args.iface);
    options.gap = Duration::from_millis(args.gap_ms);
    options.guide_gap = Duration::from_millis(args.guide_gap_ms);
    if let Some(dest) = args.dest {
        options.destination = dest;
    }
    if !crate::output::credential_bytes(&args.credentials)?
        .1
        .is_empty()
    {
        crate::esptouch_v2::warn_unencrypted("AirKiss");
    }
    eprintln!(
        "airkiss: sending to {}:{} (random byte {random})",
        options.destination, options.port
    );
    let stop = crate::stop_flag();
    let json = args.json;
    let devices = udp::provision_airkiss(&options, &stop, |event| match event {
        AirkissEvent::Device(d) if !json => {
            println!(
                "device {}{} after {:.1} s",
                d.from.ip(),
                d.mac
                    .map(|m| format!(" ({})", format_mac(&m)))
                    .unwrap_or_default(),
                d.after.as_secs_f64()
            );
        }
        AirkissEvent::Progress { datagrams, elapsed } => {
            log::debug!("{datagrams} datagrams in {:.1} s", elapsed.as_secs_f64());
        }
        _ => {}
    })
    .context("AirKiss send")?;
    if json {
        let list: Vec<_> = devices
            .iter()
            .map(|d| json!({"ip": d.from.ip().to_string(), "mac": d.mac.map(|m| format_mac(&m)), "after_ms": d.after.as_millis() as u64}))
            .collect();
        println!(
            "{}",
            json!({"protocol": "airkiss", "random": random, "devices": list})
        );
    }
    if stop.load(Ordering::SeqCst) {
        bail!("interrupted");
    }
    if devices.is_empty() {
        return Err(
            NothingFound(format!("no device acknowledged within {} s", args.timeout)).into(),
        );
    }
    Ok(())
}
