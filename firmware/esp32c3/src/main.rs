//! wifiprov on an ESP32-C3: the open SmartConfig / AirKiss device.
//!
//! The radio runs in promiscuous mode and hops channels; every frame goes through the same
//! `no_std` core the Linux daemon (`wifiprov device`) runs and the host tests cover:
//! [`wifiprov_sniff::ieee80211`] reduces it to an observation, [`wifiprov_front::Front`] feeds
//! ESP-TOUCH v1, ESP-TOUCH v2 and AirKiss decoders side by side, and [`wifiprov_sniff::hop::Hopper`]
//! decides when to retune and where to stay. With the first verified result the device joins the
//! network as a station (WPA2-PSK, or open for an empty password), gets an address by DHCP and
//! sends the method's acknowledgement, built by the same ack types the daemon uses. A failed join
//! (wrong password, network gone) goes back to listening.
//!
//! Progress is printed on the serial console (`espflash flash --monitor`). See
//! `firmware/README.md` for building, flashing and the size report.
#![no_std]
#![no_main]

mod ack;
mod radio;

use embassy_executor::Spawner;
use embassy_net::{Runner, StackResources};
use embassy_time::{Duration, Timer, with_timeout};
use esp_backtrace as _;
use esp_hal::clock::CpuClock;
use esp_hal::rng::Rng;
use esp_hal::timer::timg::TimerGroup;
use esp_println::println;
use esp_radio::wifi::{Config, Interface, WifiController, sta::StationConfig};
use static_cell::StaticCell;
use wifiprov_front::{Decoded, Front, Method};

esp_bootloader_esp_idf::esp_app_desc!();

/// The sniffing methods, all at once: the device cannot know which one the phone uses.
const METHODS: [Method; 3] = [Method::EsptouchV1, Method::Airkiss, Method::EsptouchV2];

/// ESP-TOUCH v2's AES key (ESP-IDF's `esp_touch_v2_key`): 16 characters from the build
/// environment (`WIFIPROV_V2_KEY=... cargo build`), or none. A wrong length stops the build.
const V2_KEY: Option<wifiprov_esptouch::v2::Key> = match option_env!("WIFIPROV_V2_KEY") {
    None => None,
    Some(text) => {
        let bytes = text.as_bytes();
        assert!(bytes.len() == 16, "WIFIPROV_V2_KEY must be 16 characters");
        let mut key = [0u8; 16];
        let mut i = 0;
        while i < 16 {
            key[i] = bytes[i];
            i += 1;
        }
        Some(key)
    }
};

/// How long a join may take before the device listens again.
const JOIN_TIMEOUT: Duration = Duration::from_secs(30);

/// How long DHCP may take after a join.
const DHCP_TIMEOUT: Duration = Duration::from_secs(30);

/// The decoders' state lives here, not on a heap: one static `Front` (its size is in the size
/// report).
static FRONT: StaticCell<Front> = StaticCell::new();

/// The network stack's sockets (DHCP and the ack's UDP socket).
static NET_RESOURCES: StaticCell<StackResources<3>> = StaticCell::new();

/// Target sizes of the device core's state, kept in the image for the size report
/// (`scripts/firmware-size.py` reads this symbol from the ELF): ESP-TOUCH v1, ESP-TOUCH v2 and
/// AirKiss decoders, the whole front, the hopper, one observation.
#[used]
#[unsafe(no_mangle)]
static WIFIPROV_STATE_SIZES: [u32; 6] = [
    size_of::<wifiprov_esptouch::v1::Decoder>() as u32,
    size_of::<wifiprov_esptouch::v2::Decoder>() as u32,
    size_of::<wifiprov_airkiss::decoder::Decoder>() as u32,
    size_of::<Front>() as u32,
    size_of::<wifiprov_sniff::hop::Hopper>() as u32,
    size_of::<wifiprov_sniff::Observation>() as u32,
];

#[embassy_executor::task]
async fn net_task(mut runner: Runner<'static, Interface>) {
    runner.run().await;
}

#[esp_rtos::main]
async fn main(spawner: Spawner) -> ! {
    let peripherals = esp_hal::init(esp_hal::Config::default().with_cpu_clock(CpuClock::max()));
    // esp-radio's driver needs a heap; the decoders do not use it.
    esp_alloc::heap_allocator!(size: 72 * 1024);

    let timg0 = TimerGroup::new(peripherals.TIMG0);
    esp_rtos::start(timg0.timer0, peripherals.FROM_CPU_INTR0);

    // SAFETY-free read of the size table, so that the linker keeps it and the log shows it.
    let sizes = core::hint::black_box(&WIFIPROV_STATE_SIZES);
    println!(
        "wifiprov: state bytes: esptouch-v1 {} esptouch-v2 {} airkiss {} front {} hopper {}",
        sizes[0], sizes[1], sizes[2], sizes[3], sizes[4]
    );

    let mut controller = match WifiController::new(peripherals.WIFI, Default::default()) {
        Ok(c) => c,
        Err(e) => halt("Wi-Fi init failed", e),
    };
    if let Err(e) = controller.set_config(&Config::Station(StationConfig::default())) {
        halt("Wi-Fi start failed", e);
    }
    let station = Interface::station();
    let mac = station.mac_address();
    println!("wifiprov: station {}", radio::Mac(mac));

    let rng = Rng::new();
    let seed = (u64::from(rng.random()) << 32) | u64::from(rng.random());
    let (stack, runner) = embassy_net::new(
        station,
        embassy_net::Config::dhcpv4(Default::default()),
        NET_RESOURCES.init(StackResources::new()),
        seed,
    );
    match net_task(runner) {
        Ok(task) => spawner.spawn(task),
        Err(e) => halt("network task", e),
    }

    let mut sniffer = controller.sniffer();
    sniffer.set_receive_cb(radio::on_frame);
    let front = FRONT.init(new_front());

    let mut attempt = 0u32;
    loop {
        attempt += 1;
        *front = new_front();
        radio::drain();
        if let Err(e) = sniffer.set_promiscuous_mode(true) {
            halt("promiscuous mode", e);
        }
        println!("wifiprov: listening (attempt {attempt}; esptouch-v1, airkiss, esptouch-v2)");
        let decoded = radio::listen(&mut controller, front).await;
        if let Err(e) = sniffer.set_promiscuous_mode(false) {
            println!("wifiprov: leaving promiscuous mode failed: {e:?}");
        }
        println!(
            "wifiprov: credentials by {} for SSID of {} bytes, password of {} bytes",
            decoded.method().name(),
            decoded.ssid().len(),
            decoded.password().len()
        );
        if let Err(reason) = join(&mut controller, &decoded).await {
            println!("wifiprov: join failed: {reason}; listening again");
            let _ = controller.disconnect_async().await;
            continue;
        }
        let ip = match with_timeout(DHCP_TIMEOUT, stack.wait_config_up()).await {
            Ok(()) => stack.config_v4().map(|c| c.address.address().octets()),
            Err(_) => None,
        };
        let Some(ip) = ip else {
            println!("wifiprov: no DHCP address; listening again");
            let _ = controller.disconnect_async().await;
            continue;
        };
        println!("wifiprov: joined, address {}", radio::Ip(ip));
        match ack::send(stack, &decoded, mac, ip).await {
            Ok(rounds) => println!("wifiprov: ack sent ({rounds} rounds); provisioned"),
            Err(e) => println!("wifiprov: ack failed: {e}"),
        }
        drop(decoded);
        // Provisioned: stay on the network; rejoin (with the driver's stored settings) if the
        // access point drops us.
        loop {
            let _ = controller.wait_for_disconnect_async().await;
            println!("wifiprov: disconnected; rejoining");
            Timer::after(Duration::from_secs(1)).await;
            let _ = with_timeout(JOIN_TIMEOUT, controller.connect_async()).await;
        }
    }
}

/// A front with every method, scan-assisted, with the v2 key if one was built in.
fn new_front() -> Front {
    let v2 = wifiprov_esptouch::v2::DecoderConfig {
        aes_key: V2_KEY,
        ..Default::default()
    };
    Front::new(&METHODS, true).with_v2_config(v2)
}

/// Joins the decoded network as a station.
async fn join(
    controller: &mut WifiController<'static>,
    decoded: &Decoded,
) -> Result<(), &'static str> {
    let config = radio::station_config(decoded)?;
    controller
        .set_config(&Config::Station(config))
        .map_err(|_| "the driver refused the station configuration")?;
    println!("wifiprov: joining");
    match with_timeout(JOIN_TIMEOUT, controller.connect_async()).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(_)) => Err("the access point refused (wrong password?)"),
        Err(_) => Err("timed out (network not found?)"),
    }
}

/// Stops with a message: the firmware cannot run without the radio.
fn halt(what: &str, error: impl core::fmt::Debug) -> ! {
    println!("wifiprov: {what}: {error:?}");
    loop {
        core::hint::spin_loop();
    }
}
