//! `wifiprov decode`: credentials from a capture file.

use anyhow::{Context as _, Result};
use serde_json::json;
use wifiprov_esptouch::v1;
use wifiprov_sniff::{Decoder as _, Mac, Observation, Progress};

use crate::NothingFound;
use crate::args::{DecodeArgs, Protocol};
use crate::output::{display_bytes, format_mac, text_or_null, to_hex};

/// What the capture layer hands the decoders.
pub(crate) enum Input {
    /// A data frame reduced to an observation.
    Frame(Observation),
    /// A beacon or probe response (a scan result).
    Beacon { ssid: Vec<u8>, bssid: Mac },
}

/// The sniffing decoders run side by side on the same frames (`--protocol auto`), or one of them.
pub(crate) struct Front {
    esptouch_v1: Option<v1::Decoder>,
    /// Data frames fed so far.
    pub(crate) frames_read: u64,
    /// Distinct scan results seen.
    pub(crate) beacons: usize,
    use_scan: bool,
    seen_networks: Vec<(Vec<u8>, Mac)>,
}

/// A decoded result of any protocol.
pub(crate) enum Decoded {
    EsptouchV1(v1::Credentials),
}

impl Front {
    pub(crate) fn new(protocol: Protocol, use_scan: bool) -> Self {
        let esptouch_v1 =
            matches!(protocol, Protocol::Auto | Protocol::EsptouchV1).then(v1::Decoder::default);
        Self {
            esptouch_v1,
            frames_read: 0,
            beacons: 0,
            use_scan,
            seen_networks: Vec::new(),
        }
    }

    /// Feeds one input; returns progress worth reporting and, once complete, the result.
    pub(crate) fn feed(&mut self, input: Input) -> (Option<Progress>, Option<Decoded>) {
        match input {
            Input::Beacon { ssid, bssid } => {
                if self.use_scan
                    && !self
                        .seen_networks
                        .iter()
                        .any(|(s, b)| *s == ssid && *b == bssid)
                {
                    if let Some(d) = self.esptouch_v1.as_mut() {
                        d.add_known_network(&ssid, bssid);
                    }
                    self.seen_networks.push((ssid, bssid));
                    self.beacons += 1;
                }
                (None, None)
            }
            Input::Frame(obs) => {
                self.frames_read += 1;
                let Some(d) = self.esptouch_v1.as_mut() else {
                    return (None, None);
                };
                match d.feed(&obs) {
                    Progress::Complete => {
                        (Some(Progress::Complete), d.take().map(Decoded::EsptouchV1))
                    }
                    Progress::Ignored => (None, None),
                    p => (Some(p), None),
                }
            }
        }
    }

    /// The ESP-TOUCH v1 decoder, for `--explain`.
    pub(crate) fn esptouch_v1(&self) -> Option<&v1::Decoder> {
        self.esptouch_v1.as_ref()
    }

    /// Frames the winning decoder used.
    pub(crate) fn frames_used(&self) -> u32 {
        self.esptouch_v1.as_ref().map_or(0, |d| d.stats().used)
    }
}

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
    }
}

pub(crate) fn run(args: &DecodeArgs) -> Result<()> {
    let mut front = Front::new(args.protocol, !args.no_scan);
    let mut result = None;
    let reader = wifiprov_transport::capture::FileCapture::open(&args.pcap)
        .with_context(|| format!("cannot read capture {}", args.pcap.display()))?;
    for record in reader {
        let record = record.with_context(|| format!("reading {}", args.pcap.display()))?;
        let Some(input) = crate::device::input_of(record) else {
            continue;
        };
        if let (_, Some(decoded)) = front.feed(input) {
            result = Some(decoded);
            break;
        }
    }
    if args.explain {
        if let Some(d) = front.esptouch_v1() {
            let report = crate::explain::esptouch_v1(d, front.frames_read, front.beacons);
            if args.json {
                eprint!("{report}");
            } else {
                print!("{report}");
            }
        }
    }
    let Some(decoded) = result else {
        return Err(NothingFound(format!(
            "no {} credentials found in {} ({} data frames read; try --explain)",
            match args.protocol {
                Protocol::Auto => "provisioning",
                Protocol::EsptouchV1 => "ESP-TOUCH v1",
            },
            args.pcap.display(),
            front.frames_read
        ))
        .into());
    };
    if args.json {
        println!("{}", result_json(&decoded, front.frames_used()));
    } else {
        println!("{}", result_text(&decoded, true));
    }
    Ok(())
}
