//! The radio side: promiscuous frames in, channel hopping, the station configuration out.
//!
//! The driver calls [`on_frame`] in its own task for every received frame. It reduces the frame
//! right there with the shared core ([`Heard::from_frame`]: data frames to observations, beacons
//! to scan results) and queues the few bytes the decoders need; [`listen`] runs the decoders in the main task, so the
//! driver's task never waits for a decoder.

use core::fmt;

use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::channel::Channel;
use embassy_time::{Duration, Instant as Clock, with_timeout};
use esp_println::println;
use esp_radio::wifi::sniffer::PromiscuousPkt;
use esp_radio::wifi::sta::StationConfig;
use esp_radio::wifi::{AuthenticationMethodConfig, SecondaryChannel, WifiController};
use wifiprov_front::{Decoded, Front, Heard, Step};
use wifiprov_sniff::hop::{Hopper, Tune};
use wifiprov_sniff::{Instant, Mac as MacBytes, ieee80211};

/// Dwell per channel while hopping (the daemon's default; see [`wifiprov_sniff::hop`]).
const DWELL_MS: u64 = 100;

/// How long `listen` waits for a frame before it looks at the clock again.
const POLL: Duration = Duration::from_millis(10);

/// Frames between the driver and the decoders; when full (the decoders fall behind), new frames
/// are dropped, which the decoders tolerate like loss on the air.
static HEARD: Channel<CriticalSectionRawMutex, Heard, 48> = Channel::new();

/// The shared clock: milliseconds since boot.
fn now() -> Instant {
    Instant::from_millis(Clock::now().as_millis())
}

/// The promiscuous receive callback (runs in the Wi-Fi driver's task). The ESP32 reports frames
/// with their FCS; [`Heard::from_frame`] cuts it, so the decoders see the lengths they see on
/// Linux.
pub(crate) fn on_frame(packet: PromiscuousPkt<'_>) {
    let meta = ieee80211::Meta {
        at: now(),
        channel: u8::try_from(packet.rx_cntl.channel).unwrap_or(0),
        wire_len: None,
    };
    if let Some(heard) = Heard::from_frame(packet.data, meta, true) {
        let _ = HEARD.try_send(heard);
    }
}

/// Forgets queued frames (from before a new listening round).
pub(crate) fn drain() {
    while HEARD.try_receive().is_ok() {}
}

/// Hops, feeds every frame to the front, and returns its first verified result.
pub(crate) async fn listen(controller: &mut WifiController<'static>, front: &mut Front) -> Decoded {
    let mut hopper = Hopper::new(&[], DWELL_MS);
    let mut last_have = None;
    loop {
        let at = now();
        if hopper.is_locked() && !front.is_locked() {
            println!("wifiprov: lock released; hopping");
            hopper.unlock(at);
        }
        if let Tune::Channel(channel) = hopper.poll(at)
            && let Err(e) = controller.set_channel(channel, SecondaryChannel::None)
        {
            println!("wifiprov: cannot tune to channel {channel}: {e:?}");
        }
        // Time-based decisions happen on a silent channel too.
        front.tick(at);
        let Ok(heard) = with_timeout(POLL, HEARD.receive()).await else {
            continue;
        };
        let step = front.hear(&heard);
        if let Some(channel) = front.take_hint() {
            hopper.linger(channel, now(), wifiprov_front::LINGER_MS);
        }
        match step {
            Step::Complete(decoded) => return decoded,
            Step::Locked {
                method,
                channel,
                sender,
                bssid,
            } => {
                hopper.lock(channel);
                println!(
                    "wifiprov: locked on {} from {} via {} on channel {}",
                    method.name(),
                    Mac(sender),
                    Mac(bssid),
                    hopper.channel()
                );
            }
            Step::Collecting { method, have, need } if last_have != Some(have) => {
                last_have = Some(have);
                match need {
                    Some(need) => println!("wifiprov: {} {have}/{need}", method.name()),
                    None => println!("wifiprov: {} {have}", method.name()),
                }
            }
            Step::Sealed(outcome) => {
                println!(
                    "wifiprov: esptouch-v2 data is encrypted and {} (the key is WIFIPROV_V2_KEY at build time)",
                    if matches!(outcome, wifiprov_esptouch::v2::Outcome::KeyWrong(_)) {
                        "the key does not open it"
                    } else {
                        "no key is configured"
                    }
                );
                if !front.is_locked() {
                    hopper.unlock(now());
                }
            }
            _ => {}
        }
    }
}

/// The station configuration for a decoded network: WPA2-PSK (or open for an empty password),
/// pinned to the BSSID and channel the phone's frames named.
pub(crate) fn station_config(decoded: &Decoded) -> Result<StationConfig, &'static str> {
    let ssid = decoded
        .ssid()
        .try_into()
        .map_err(|_| "the SSID is not valid for the driver")?;
    let authentication = if decoded.password().is_empty() {
        AuthenticationMethodConfig::Open
    } else {
        AuthenticationMethodConfig::Wpa2Personal(
            decoded
                .password()
                .try_into()
                .map_err(|_| "the password is not valid for the driver (8..=64 bytes)")?,
        )
    };
    let mut config = StationConfig::default()
        .with_ssid(ssid)
        .with_authentication(authentication);
    if let Some(bssid) = decoded.bssid() {
        config = config.with_bssid(bssid);
    }
    if decoded.channel() != 0 {
        config = config.with_channel(decoded.channel());
    }
    Ok(config)
}

/// `aa:bb:cc:dd:ee:ff`.
pub(crate) struct Mac(pub(crate) MacBytes);

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

/// Dotted IPv4.
pub(crate) struct Ip(pub(crate) [u8; 4]);

impl fmt::Display for Ip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = self.0;
        write!(f, "{a}.{b}.{c}.{d}")
    }
}
