//! Command-line arguments.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// A secret given on the command line or in the configuration file (passphrase, PoP, password,
/// AES key, verifier, QR payload): zeroized on drop, and its `Debug` shows its length only, so
/// the derived `Debug` of the argument structs holding it prints no secret.
#[derive(Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub(crate) struct Secret(String);

impl Secret {
    /// The text.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// A zeroizing copy of the bytes.
    pub(crate) fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(self.0.as_bytes().to_vec())
    }
}

impl From<String> for Secret {
    fn from(text: String) -> Self {
        Self(text)
    }
}

impl std::ops::Deref for Secret {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{} bytes>", self.0.len())
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl ZeroizeOnDrop for Secret {}

/// Provision headless Wi-Fi devices: SmartConfig (ESP-TOUCH), with both ends.
#[derive(Debug, Parser)]
#[command(name = "wifiprov", version, about, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// ESP-TOUCH (SmartConfig) provisioner side: encode lengths, or send for real.
    #[command(subcommand)]
    Esptouch(EsptouchCommand),
    /// WeChat AirKiss provisioner side: encode lengths, or send for real.
    #[command(subcommand)]
    Airkiss(AirkissCommand),
    /// Decode provisioning traffic from a capture file.
    Decode(DecodeArgs),
    /// Run the device side: sniff, decode, acknowledge; or serve SoftAP provisioning.
    Device(Box<DeviceArgs>),
    /// Provision an ESP-IDF device (or `wifiprov device --methods softap`) over SoftAP/HTTP:
    /// protocomm security 0, 1 or 2, like esp_prov.
    Softap(SoftapArgs),
    /// Provision an ESP-IDF device (or `wifiprov device --methods ble`) over BLE GATT:
    /// protocomm security 0, 1 or 2, like esp_prov --transport ble.
    Ble(BleArgs),
    /// Provision an ESP-IDF BluFi device (or `wifiprov device --methods blufi`) like the
    /// EspBlufi app: negotiate (V1 legacy or V2 crypto), send the credentials, read the status.
    Blufi(BlufiArgs),
    /// Generate a security-2 salt and verifier for a username and password.
    GenCred(GenCredArgs),
}

/// Secrets of the protocomm security schemes.
#[derive(Debug, Args, Clone, Default)]
pub(crate) struct SecurityArgs {
    /// Security scheme 0, 1 or 2 (client: default what the device's proto-ver says; device:
    /// default 2).
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=2))]
    pub(crate) sec: Option<u8>,
    /// Security 1 proof of possession.
    #[arg(long)]
    pub(crate) pop: Option<Secret>,
    /// Security 2 username.
    #[arg(long)]
    pub(crate) username: Option<String>,
    /// Security 2 password.
    #[arg(long)]
    pub(crate) password: Option<Secret>,
}

#[derive(Debug, Args)]
pub(crate) struct SoftapArgs {
    /// The device, HOST[:PORT] (ESP-IDF's SoftAP: 192.168.4.1:80).
    #[arg(long, default_value = "192.168.4.1:80")]
    pub(crate) host: String,
    /// Seconds to wait for each HTTP answer (esp_prov: 60).
    #[arg(long, default_value_t = 30.0)]
    pub(crate) http_timeout: f64,
    #[command(flatten)]
    pub(crate) common: ProvisionArgs,
}

#[derive(Debug, Args)]
pub(crate) struct BleArgs {
    /// The device's advertised name (`PROV_xxxxxx`); without it and --address: the first device
    /// named PROV_… or advertising a protocomm service.
    #[arg(long, conflicts_with = "address")]
    pub(crate) name: Option<String>,
    /// The device's Bluetooth address.
    #[arg(long)]
    pub(crate) address: Option<String>,
    /// The local Bluetooth adapter (default: bluetoothd's default adapter).
    #[arg(long, value_name = "hciN")]
    pub(crate) hci: Option<String>,
    /// The protocomm service UUID (default: the one whose characteristics name the endpoints).
    #[arg(long, value_name = "UUID")]
    pub(crate) service_uuid: Option<String>,
    /// Seconds to look for the device.
    #[arg(long, default_value_t = 20.0)]
    pub(crate) scan_timeout: f64,
    /// Seconds to wait for each GATT exchange.
    #[arg(long, default_value_t = 30.0)]
    pub(crate) gatt_timeout: f64,
    #[command(flatten)]
    pub(crate) common: ProvisionArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum DeviceCryptoArg {
    /// DH-1024 + MD5 + AES-128-CFB.
    V1,
    /// ffdhe3072 + SHA-256 + AES-256-CTR.
    V2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CryptoArg {
    /// From the device's version, like the EspBlufi app (< 1.4: V1, >= 1.4: V2).
    Auto,
    /// DH-1024 + MD5 + AES-128-CFB (ESP-IDF up to v5.5).
    V1,
    /// ffdhe3072 + SHA-256 + AES-256-CTR (ESP-IDF v6.0+).
    V2,
}

#[derive(Debug, Args)]
pub(crate) struct BlufiArgs {
    /// The device's advertised name; without it and --address: the first device named BLUFI…
    /// or advertising the BluFi service (0xFFFF).
    #[arg(long, conflicts_with = "address")]
    pub(crate) name: Option<String>,
    /// The device's Bluetooth address.
    #[arg(long)]
    pub(crate) address: Option<String>,
    /// The local Bluetooth adapter (default: bluetoothd's default adapter).
    #[arg(long, value_name = "hciN")]
    pub(crate) hci: Option<String>,
    /// The crypto generation.
    #[arg(long, value_enum, default_value_t = CryptoArg::Auto)]
    pub(crate) crypto: CryptoArg,
    #[command(flatten)]
    pub(crate) network: NetworkArgs,
    /// Ask for the device's Wi-Fi list (GET_WIFI_LIST) first (without --ssid: only that).
    #[arg(long)]
    pub(crate) scan: bool,
    /// Send this text as custom data.
    #[arg(long, value_name = "TEXT")]
    pub(crate) custom: Option<String>,
    /// Seconds to look for the device.
    #[arg(long, default_value_t = 20.0)]
    pub(crate) scan_timeout: f64,
    /// Seconds to wait for each answer (version, negotiation, ACK).
    #[arg(long, default_value_t = 30.0)]
    pub(crate) gatt_timeout: f64,
    /// Seconds to wait for the device's status report after connect (and for the Wi-Fi list).
    #[arg(long, default_value_t = 90.0)]
    pub(crate) timeout: f64,
    /// One JSON object on stdout at the end (progress goes to stderr).
    #[arg(long)]
    pub(crate) json: bool,
}

/// The network the provisioner sends.
#[derive(Debug, Args, Clone, Default)]
pub(crate) struct NetworkArgs {
    /// The network for the device, as text.
    #[arg(long, conflicts_with = "ssid_hex")]
    pub(crate) ssid: Option<String>,
    /// The network for the device, as hex bytes.
    #[arg(long, value_name = "HEX")]
    pub(crate) ssid_hex: Option<String>,
    /// Its passphrase (empty or absent: open network).
    #[arg(long, conflicts_with = "passphrase_hex")]
    pub(crate) passphrase: Option<Secret>,
    /// Its passphrase as hex bytes.
    #[arg(long, value_name = "HEX")]
    pub(crate) passphrase_hex: Option<Secret>,
}

/// An SSID (if given) and a passphrase that is zeroized on drop.
pub(crate) type NetworkBytes = (Option<Vec<u8>>, Zeroizing<Vec<u8>>);

impl NetworkArgs {
    /// The SSID (if given) and the passphrase as bytes, checked: SSID 1..32 bytes, passphrase at
    /// most `max_passphrase` bytes.
    pub(crate) fn bytes(&self, max_passphrase: usize) -> anyhow::Result<NetworkBytes> {
        use anyhow::Context as _;
        let ssid = match (&self.ssid, &self.ssid_hex) {
            (Some(text), None) => Some(text.as_bytes().to_vec()),
            (None, Some(hex)) => Some(crate::output::parse_hex(hex).context("--ssid-hex")?),
            _ => None,
        };
        let passphrase = match (&self.passphrase, &self.passphrase_hex) {
            (Some(text), _) => text.to_bytes(),
            (None, Some(hex)) => {
                Zeroizing::new(crate::output::parse_hex(hex).context("--passphrase-hex")?)
            }
            (None, None) => Zeroizing::new(Vec::new()),
        };
        if let Some(ssid) = &ssid {
            if ssid.is_empty() || ssid.len() > 32 {
                anyhow::bail!("the SSID must be 1..32 bytes");
            }
            if passphrase.len() > max_passphrase {
                anyhow::bail!("the passphrase must be at most {max_passphrase} bytes");
            }
        }
        Ok((ssid, passphrase))
    }
}

/// What the provisioner does, whatever the transport.
#[derive(Debug, Args)]
pub(crate) struct ProvisionArgs {
    #[command(flatten)]
    pub(crate) security: SecurityArgs,
    /// The device's QR payload, e.g. '{"ver":"v1","name":"PROV_01B1E8","username":"wifiprov","pop":"abcd1234","transport":"ble"}'
    /// (fills --username/--pop/--password when they are not given).
    #[arg(long, value_name = "JSON")]
    pub(crate) qr: Option<Secret>,
    #[command(flatten)]
    pub(crate) network: NetworkArgs,
    /// Show the networks the device sees (without --ssid: only that).
    #[arg(long)]
    pub(crate) scan: bool,
    /// Send VALUE to the custom endpoint NAME first (repeatable), e.g. custom-data=hello.
    #[arg(long, value_name = "NAME=VALUE")]
    pub(crate) custom: Vec<String>,
    /// Ask the device to reset a failed attempt (prov-ctrl Reset), then stop.
    #[arg(long, conflicts_with = "reprov")]
    pub(crate) reset: bool,
    /// Ask the device to provision again (prov-ctrl Reprov), then stop.
    #[arg(long)]
    pub(crate) reprov: bool,
    /// The device's verifier was made by `esp_prov --sec2_gen_cred` (it strips leading zero
    /// bytes of the inner digest; ESP-IDF and `wifiprov gen-cred` do not).
    #[arg(long)]
    pub(crate) esp_prov_verifier: bool,
    /// Seconds to wait for the device to report connected or failed.
    #[arg(long, default_value_t = 90.0)]
    pub(crate) timeout: f64,
    /// Seconds between status polls.
    #[arg(long, default_value_t = 1.0)]
    pub(crate) poll: f64,
    /// One JSON object on stdout at the end (progress goes to stderr).
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CredFormat {
    /// TOML lines for the device configuration file.
    Toml,
    /// One JSON object.
    Json,
    /// C arrays as ESP-IDF's example embeds them.
    C,
}

#[derive(Debug, Args)]
pub(crate) struct GenCredArgs {
    /// Username.
    #[arg(long, default_value = "wifiprov")]
    pub(crate) username: String,
    /// Password.
    #[arg(long)]
    pub(crate) password: Secret,
    /// Salt length in bytes.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(4..=64))]
    pub(crate) salt_len: u16,
    /// Use this salt (hex) instead of a random one.
    #[arg(long, value_name = "HEX")]
    pub(crate) salt_hex: Option<String>,
    /// Derive x like `esp_prov --sec2_gen_cred` (see `wifiprov softap --esp-prov-verifier`).
    #[arg(long)]
    pub(crate) esp_prov: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CredFormat::Toml)]
    pub(crate) format: CredFormat,
}

#[derive(Debug, Subcommand)]
pub(crate) enum EsptouchCommand {
    /// Print one full data cycle of UDP payload lengths, comma-separated, in sending order.
    Encode(EncodeArgs),
    /// Send the credentials for real and print every device that acknowledges.
    Send(SendArgs),
}

#[derive(Debug, Subcommand)]
pub(crate) enum AirkissCommand {
    /// Print one full encoder cycle of code values (UDP payload lengths), comma-separated, in
    /// sending order: 50 × guide, 20 × magic, 15 × (prefix + every sequence).
    Encode(AirkissEncodeArgs),
    /// Send for real to 255.255.255.255:10001 and print every device that acks on UDP 10000.
    Send(AirkissSendArgs),
}

#[derive(Debug, Args)]
pub(crate) struct AirkissEncodeArgs {
    #[command(flatten)]
    pub(crate) credentials: Credentials,
    /// The random byte the device echoes (0..=255; default: a random one in 1..=126).
    #[arg(long)]
    pub(crate) random: Option<u8>,
    /// Print a JSON object (fields and the cycle) instead.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct AirkissSendArgs {
    #[command(flatten)]
    pub(crate) credentials: Credentials,
    /// The random byte (default: a random one in 1..=126).
    #[arg(long)]
    pub(crate) random: Option<u8>,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 60.0)]
    pub(crate) timeout: f64,
    /// Stop after this many devices acknowledged (0 = wait for the timeout).
    #[arg(long, default_value_t = 1)]
    pub(crate) devices: usize,
    /// Network interface to send on.
    #[arg(long)]
    pub(crate) iface: Option<String>,
    /// Destination address (default 255.255.255.255).
    #[arg(long)]
    pub(crate) dest: Option<Ipv4Addr>,
    /// Milliseconds after every datagram (4, as WeChat's reverse-engineered sender).
    #[arg(long, default_value_t = 4)]
    pub(crate) gap_ms: u64,
    /// Milliseconds after each guide datagram (10, as the official AirKissDebugger: a 2-s guide
    /// phase, so a device hopping 13 channels at 100 ms hears it).
    #[arg(long, default_value_t = 10)]
    pub(crate) guide_gap_ms: u64,
    /// One JSON object at the end.
    #[arg(long)]
    pub(crate) json: bool,
}

/// SSID and password, as text or raw bytes.
#[derive(Debug, Args)]
pub(crate) struct Credentials {
    /// SSID as text (UTF-8).
    #[arg(
        long,
        required_unless_present = "ssid_hex",
        conflicts_with = "ssid_hex"
    )]
    pub(crate) ssid: Option<String>,
    /// SSID as hex bytes (e.g. for non-UTF-8 SSIDs).
    #[arg(long, value_name = "HEX")]
    pub(crate) ssid_hex: Option<String>,
    /// Password as text (UTF-8); empty or absent for an open network.
    #[arg(long, conflicts_with = "password_hex")]
    pub(crate) password: Option<Secret>,
    /// Password as hex bytes.
    #[arg(long, value_name = "HEX")]
    pub(crate) password_hex: Option<Secret>,
}

#[derive(Debug, Args)]
pub(crate) struct EncodeArgs {
    #[command(flatten)]
    pub(crate) credentials: Credentials,
    /// The AP's BSSID, aa:bb:cc:dd:ee:ff.
    #[arg(long)]
    pub(crate) bssid: String,
    /// The phone's IP address: v1 sends the IPv4 address (where the device sends its ack); v2
    /// sends only whether it is IPv4 or IPv6.
    #[arg(long)]
    pub(crate) ip: IpAddr,
    /// Print the guide code line before the data cycle (v1).
    #[arg(long, conflicts_with = "v2")]
    pub(crate) with_guide: bool,
    #[command(flatten)]
    pub(crate) v2: V2Args,
    /// The random bytes the v2 encoder consumes, hex, in the order of ../shared/vectors/README.md
    /// (security 2: 20 IV bytes first; then one padding byte, 0..=126, per padding position of
    /// each segment); default: from the OS.
    #[arg(long, value_name = "HEX", requires = "v2")]
    pub(crate) random_hex: Option<String>,
    /// Print a JSON object (v1: guide, data_cycle, total_len; v2: header, groups, lengths)
    /// instead.
    #[arg(long)]
    pub(crate) json: bool,
}

/// ESP-TOUCH v2 options of `esptouch encode` and `esptouch send`.
#[derive(Debug, Args)]
pub(crate) struct V2Args {
    /// ESP-TOUCH v2 instead of v1.
    #[arg(long)]
    pub(crate) v2: bool,
    /// AES-128 key: the 16 characters configured on the device (`esp_touch_v2_key`); password
    /// and reserved data are then encrypted (v2).
    #[arg(long, value_name = "KEY", requires = "v2")]
    pub(crate) aes_key: Option<Secret>,
    /// Security version with a key: 1 (zero IV, every v2 device) or 2 (random IV, ESP-IDF
    /// SmartConfig 3.0.2 and later).
    #[arg(long, value_name = "1|2", default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=2), requires = "v2")]
    pub(crate) security_ver: u8,
    /// Reserved (custom) data for the device application, as text (at most 64 bytes; v2).
    #[arg(
        long,
        value_name = "TEXT",
        conflicts_with = "reserved_hex",
        requires = "v2"
    )]
    pub(crate) reserved: Option<String>,
    /// Reserved data as hex bytes (v2).
    #[arg(long, value_name = "HEX", requires = "v2")]
    pub(crate) reserved_hex: Option<String>,
    /// The app port's index, 0..=3 (18266, 28266, 38266, 48266), which the device answers on
    /// (v2; encode: default 0; send: default the first free port, as the reference app).
    #[arg(long, value_name = "0-3", value_parser = clap::value_parser!(u8).range(0..=3), requires = "v2")]
    pub(crate) port_mark: Option<u8>,
}

#[derive(Debug, Args)]
pub(crate) struct SendArgs {
    #[command(flatten)]
    pub(crate) credentials: Credentials,
    #[command(flatten)]
    pub(crate) v2: V2Args,
    /// The AP's BSSID; default: the BSSID the interface is associated with (via `iw`).
    #[arg(long)]
    pub(crate) bssid: Option<String>,
    /// Send to multicast groups 234.n.n.n instead of broadcast (v1).
    #[arg(long, conflicts_with = "v2")]
    pub(crate) multicast: bool,
    /// Stop after this many distinct devices acknowledged (0 = wait for the timeout).
    #[arg(long, default_value_t = 1)]
    pub(crate) devices: usize,
    /// Give up after this many seconds (the reference apps: v1 60, of which 45 sending; v2 90).
    #[arg(long)]
    pub(crate) timeout: Option<f64>,
    /// Network interface to send on; its IPv4 address is sent as the phone IP.
    #[arg(long)]
    pub(crate) iface: Option<String>,
    /// Destination address (default 255.255.255.255; e.g. a subnet broadcast, or 127.0.0.1 for the
    /// loopback demo). Ignored with --multicast.
    #[arg(long)]
    pub(crate) dest: Option<Ipv4Addr>,
    /// Phone IP to announce (default: the interface's IPv4 address).
    #[arg(long)]
    pub(crate) ip: Option<Ipv4Addr>,
    /// Machine-readable output: one JSON object at the end.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Protocol {
    /// Every supported protocol side by side; the first to decode wins.
    Auto,
    /// ESP-TOUCH v1.
    EsptouchV1,
    /// WeChat AirKiss.
    Airkiss,
    /// ESP-TOUCH v2.
    EsptouchV2,
}

#[derive(Debug, Args)]
pub(crate) struct DecodeArgs {
    /// A pcap or pcapng file (radiotap link type 127, 802.11 link type 105, or Ethernet).
    #[arg(
        long,
        required_unless_present = "observations",
        conflicts_with = "observations"
    )]
    pub(crate) pcap: Option<PathBuf>,
    /// An observation list (JSON; the format of ../shared/captures/airkiss-capture-*.json, see
    /// the README) instead of a capture.
    #[arg(long, value_name = "FILE")]
    pub(crate) observations: Option<PathBuf>,
    /// Protocol to decode.
    #[arg(long, value_enum, default_value_t = Protocol::Auto)]
    pub(crate) protocol: Protocol,
    /// One JSON object on stdout.
    #[arg(long)]
    pub(crate) json: bool,
    /// Show what the decoder saw: senders, learned overheads, indices received and missing.
    #[arg(long)]
    pub(crate) explain: bool,
    /// Do not use beacons in the capture for scan-assisted completion.
    #[arg(long)]
    pub(crate) no_scan: bool,
    /// ESP-TOUCH v2: the AES key (16 characters) to open encrypted passwords and reserved data.
    #[arg(long, value_name = "KEY")]
    pub(crate) aes_key: Option<Secret>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Method {
    /// ESP-TOUCH v1.
    EsptouchV1,
    /// WeChat AirKiss.
    Airkiss,
    /// ESP-TOUCH v2 (with --aes-key if the phone encrypts).
    EsptouchV2,
    /// SoftAP: an AP of its own serving ESP-IDF protocomm over HTTP (and the captive portal).
    Softap,
    /// BLE: ESP-IDF protocomm over GATT on a Bluetooth adapter (--hci).
    Ble,
    /// BluFi: Espressif's BluFi GATT service on a Bluetooth adapter (--hci).
    Blufi,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum BackendArg {
    /// wpa_supplicant's control socket (started if not running).
    WpaSupplicant,
    /// NetworkManager over D-Bus (it must be running; it does DHCP itself).
    #[value(name = "networkmanager")]
    #[serde(rename = "networkmanager")]
    NetworkManager,
    /// SoftAP and BLE only: store the credentials and report CONNECTED without joining.
    Record,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum AirkissAckArg {
    /// The random byte alone, broadcast (what WeChat expects).
    Byte,
    /// ESP-IDF's form: the random byte and the station MAC, to the phone and broadcast.
    EspIdf,
}

#[derive(Debug, Args)]
pub(crate) struct DeviceArgs {
    /// TOML configuration file; command-line options override its values.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Wi-Fi interface to provision (monitor mode while listening), or an Ethernet-framed
    /// interface such as `lo` for the loopback demo (no radio control, no join).
    #[arg(long)]
    pub(crate) iface: Option<String>,
    /// Provisioning methods to listen for.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub(crate) methods: Option<Vec<Method>>,
    /// How to join the decoded network.
    #[arg(long, value_enum)]
    pub(crate) backend: Option<BackendArg>,
    /// State directory (credentials file, 0600).
    #[arg(long, value_name = "DIR")]
    pub(crate) state_dir: Option<PathBuf>,
    /// Channels to hop over, e.g. 1,6,11 (default 1..13).
    #[arg(long, value_delimiter = ',')]
    pub(crate) channels: Option<Vec<u8>>,
    /// Dwell per channel while hopping, in ms (default 100).
    #[arg(long)]
    pub(crate) dwell_ms: Option<u64>,
    /// Give up listening after this many seconds (default: never).
    #[arg(long)]
    pub(crate) timeout: Option<f64>,
    /// Association time limit in seconds (default 20).
    #[arg(long)]
    pub(crate) connect_timeout: Option<f64>,
    /// DHCP time limit in seconds (default 20).
    #[arg(long)]
    pub(crate) dhcp_timeout: Option<f64>,
    /// DHCP client command, `{iface}` replaced (default: wait for an address from elsewhere;
    /// wpa-supplicant backend only).
    #[arg(long)]
    pub(crate) dhcp_command: Option<String>,
    /// wpa_supplicant control directory (default /run/wpa_supplicant; wpa-supplicant backend only).
    #[arg(long, value_name = "DIR")]
    pub(crate) wpa_ctrl_dir: Option<PathBuf>,
    /// Command run (through `sh -c`) on every state change, with WIFIPROV_EVENT and
    /// WIFIPROV_EVENT_JSON in its environment.
    #[arg(long)]
    pub(crate) hook: Option<String>,
    /// MAC address to put in the ack (default: the interface's).
    #[arg(long)]
    pub(crate) mac: Option<String>,
    /// IPv4 address to put in the ack (default: the interface's).
    #[arg(long)]
    pub(crate) ip: Option<Ipv4Addr>,
    /// Do not send the ack.
    #[arg(long)]
    pub(crate) no_ack: bool,
    /// The form of the AirKiss ack (default byte).
    #[arg(long, value_enum, value_name = "FORM")]
    pub(crate) airkiss_ack: Option<AirkissAckArg>,
    /// ESP-TOUCH v2: the device's AES key, 16 characters (ESP-IDF `esp_touch_v2_key`); without
    /// it an encrypted provisioning is reported ("key needed") and not used. Prefer `aes_key` in
    /// the 0600 configuration file: options are visible to other users in the process list.
    #[arg(long, value_name = "KEY")]
    pub(crate) aes_key: Option<Secret>,
    /// Keep running after a successful provisioning (listen again).
    #[arg(long)]
    pub(crate) keep_running: bool,
    /// JSON event stream on stdout, one object per line.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) softap: DeviceSoftapArgs,
}

/// `wifiprov device --methods softap|ble` options.
#[derive(Debug, Args, Clone, Default)]
pub(crate) struct DeviceSoftapArgs {
    /// BLE: the Bluetooth adapter to serve on (default: bluetoothd's default adapter).
    #[arg(long, value_name = "hciN")]
    pub(crate) hci: Option<String>,
    /// BluFi: the crypto generation the device implements (v2 = ESP-IDF v6.0+, reports
    /// version 1.4; v1 = legacy, reports 1.3).
    #[arg(long, value_enum, value_name = "v1|v2")]
    pub(crate) blufi_crypto: Option<DeviceCryptoArg>,
    /// BluFi: the advertised name (default BLUFI_DEVICE; alone, --service-name also sets it).
    #[arg(long, value_name = "NAME")]
    pub(crate) blufi_name: Option<String>,
    /// BLE: the protocomm service UUID (default ESP-IDF's example
    /// 021a9004-0382-4aea-bff4-6b3f1c5adfb4).
    #[arg(long, value_name = "UUID")]
    pub(crate) service_uuid: Option<String>,
    /// SoftAP: the interface for the device's AP (default: --iface, as a second interface on
    /// the same radio, AP+STA).
    #[arg(long, value_name = "IFACE")]
    pub(crate) ap_iface: Option<String>,
    /// SoftAP: serve on this address instead of 192.168.4.1:80.
    #[arg(long, value_name = "ADDR:PORT")]
    pub(crate) listen: Option<std::net::SocketAddr>,
    /// SoftAP: raise no AP, only serve (development and interop tests).
    #[arg(long)]
    pub(crate) no_ap: bool,
    #[command(flatten)]
    pub(crate) security: SecurityArgs,
    /// SoftAP security 2: the stored salt (hex; with --verifier-hex instead of --password).
    #[arg(long, value_name = "HEX")]
    pub(crate) salt_hex: Option<String>,
    /// SoftAP security 2: the stored verifier (hex, 384 bytes).
    #[arg(long, value_name = "HEX")]
    pub(crate) verifier_hex: Option<Secret>,
    /// SoftAP security 2: data encryption patch level (1 = current ESP-IDF, 0 = old firmware).
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=1))]
    pub(crate) sec2_patch: Option<u8>,
    /// SoftAP: the AP's SSID / service name (default PROV_ + last 3 bytes of the MAC).
    #[arg(long)]
    pub(crate) service_name: Option<String>,
    /// SoftAP: WPA2 key of the AP (default: open, like ESP-IDF without a service key).
    #[arg(long)]
    pub(crate) service_key: Option<Secret>,
    /// SoftAP: the AP's channel (default: that of the strongest network found).
    #[arg(long)]
    pub(crate) ap_channel: Option<u8>,
    /// SoftAP: a custom endpoint (repeatable); it answers "SUCCESS\0" like ESP-IDF's example.
    #[arg(long, value_name = "NAME")]
    pub(crate) custom_endpoint: Vec<String>,
    /// SoftAP: also serve the captive portal (web page, wildcard DNS, RFC 8910/8908).
    #[arg(long)]
    pub(crate) portal: bool,
    /// SoftAP: offer these networks to prov-scan instead of scanning (a JSON array of
    /// {"ssid", "channel", "rssi", "bssid", "auth"}; serve-only development and tests).
    #[arg(long, value_name = "FILE")]
    pub(crate) scan_json: Option<std::path::PathBuf>,
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::Cli;

    /// The parsed arguments (as a panic or a debug log would print them) show no secret.
    #[test]
    fn debug_of_the_arguments_hides_every_secret() {
        let cases: &[&[&str]] = &[
            &[
                "wifiprov",
                "esptouch",
                "send",
                "--ssid",
                "Lab",
                "--password",
                "Pa55-Secret",
            ],
            &[
                "wifiprov",
                "esptouch",
                "send",
                "--ssid",
                "Lab",
                "--password-hex",
                "50613535",
            ],
            &[
                "wifiprov",
                "esptouch",
                "send",
                "--v2",
                "--ssid",
                "Lab",
                "--password",
                "Pa55-Secret",
                "--aes-key",
                "K3y-K3y-K3y-K3y!",
            ],
            &[
                "wifiprov",
                "airkiss",
                "send",
                "--ssid",
                "Lab",
                "--password",
                "Pa55-Secret",
            ],
            &[
                "wifiprov",
                "softap",
                "--sec",
                "2",
                "--username",
                "u",
                "--password",
                "Pa55-Secret",
                "--ssid",
                "Lab",
                "--passphrase",
                "Ph4se-Secret",
            ],
            &[
                "wifiprov",
                "softap",
                "--sec",
                "1",
                "--pop",
                "P0p-Secret",
                "--passphrase-hex",
                "50613535",
            ],
            &[
                "wifiprov",
                "softap",
                "--qr",
                r#"{"ver":"v1","name":"P","pop":"P0p-Secret","transport":"softap"}"#,
            ],
            &[
                "wifiprov",
                "gen-cred",
                "--username",
                "u",
                "--password",
                "Pa55-Secret",
            ],
            &[
                "wifiprov",
                "device",
                "--aes-key",
                "K3y-K3y-K3y-K3y!",
                "--pop",
                "P0p-Secret",
            ],
            &[
                "wifiprov",
                "decode",
                "--pcap",
                "x.pcap",
                "--aes-key",
                "K3y-K3y-K3y-K3y!",
            ],
        ];
        for args in cases {
            let cli = Cli::try_parse_from(*args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
            let debug = format!("{cli:?}");
            for secret in [
                "Pa55-Secret",
                "50613535",
                "K3y-K3y",
                "Ph4se-Secret",
                "P0p-Secret",
            ] {
                assert!(!debug.contains(secret), "{args:?} shows {secret}: {debug}");
            }
        }
    }
}
