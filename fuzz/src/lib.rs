//! Shared input formats of the fuzz targets (`fuzz_targets/*.rs`) and their encoders, which
//! `examples/seeds.rs` uses to write the seed corpus.
//!
//! Every target reads its input with a [`Bytes`] cursor: whatever is missing reads as zero, so
//! every input, however short, is a valid program for the target. Nothing here does I/O, reads a
//! clock or uses OS randomness: a target's behaviour is a function of its input.
//!
//! # Observation streams (`esptouch_v1`, `esptouch_v2`, `airkiss`, `front`)
//!
//! A header of [`STREAM_HEADER_LEN`] bytes (the target's configuration), then records of
//! [`RECORD_LEN`] bytes, each one [`StreamOp`]:
//!
//! | byte | feed (byte 0 < 0xfc) |
//! |---|---|
//! | 0 | flags: bit 0 FromDS, 1 Retry, 2 QoS, 3 Protected, 4–6 station (phone `bits 4–5`, AP `bit 6`), 7 has a sequence number |
//! | 1–2 | frame length, little-endian |
//! | 3 | time step: `b` ms if `b < 0x80`, else `(b & 0x7f)` seconds |
//! | 4–5 | sequence number, little-endian (not masked: the decoders take any `Observation`) |
//! | 6 | channel |
//! | 7 | bits 0–1 destination (broadcast, IPv4 multicast, the AP, `ff..ff ^ byte`), bit 2 swaps transmitter and receiver |
//!
//! Byte 0 ≥ 0xfc is a control record: 0xff reset, 0xfe take, 0xfd time passes (timeouts,
//! `tick`), 0xfc a scan result (SSID `SSIDS[byte 1]`, BSSID of AP `byte 2`).

#![forbid(unsafe_code)]

use wifiprov_sniff::{Direction, Instant, Mac, Observation};

/// A cursor over fuzz input that reads zeros past the end.
#[derive(Debug, Clone)]
pub struct Bytes<'a> {
    data: &'a [u8],
}

impl<'a> Bytes<'a> {
    /// A cursor at the start of `data`.
    #[must_use]
    pub const fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    /// True when nothing is left.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Bytes left.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.data.len()
    }

    /// The next byte (0 past the end).
    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    /// The next two bytes, little-endian.
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    /// The next four bytes, little-endian.
    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    /// Up to `n` bytes (fewer at the end).
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, tail) = self.data.split_at(n.min(self.data.len()));
        self.data = tail;
        head
    }

    /// A chunk prefixed by its length (one byte).
    pub fn chunk8(&mut self) -> &'a [u8] {
        let n = usize::from(self.u8());
        self.take(n)
    }

    /// A chunk prefixed by its length (two bytes, little-endian).
    pub fn chunk16(&mut self) -> &'a [u8] {
        let n = usize::from(self.u16());
        self.take(n)
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        self.take(self.data.len())
    }

    /// Exactly `N` bytes, zero-padded.
    pub fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        for b in &mut out {
            *b = self.u8();
        }
        out
    }
}

/// Appends a length-prefixed (one byte) chunk; longer data is cut to 255 bytes.
pub fn push_chunk8(out: &mut Vec<u8>, data: &[u8]) {
    let data = &data[..data.len().min(255)];
    out.push(data.len() as u8);
    out.extend_from_slice(data);
}

/// Appends a length-prefixed (two bytes) chunk; longer data is cut to 65535 bytes.
pub fn push_chunk16(out: &mut Vec<u8>, data: &[u8]) {
    let data = &data[..data.len().min(usize::from(u16::MAX))];
    out.extend_from_slice(&(data.len() as u16).to_le_bytes());
    out.extend_from_slice(data);
}

/// A deterministic CSPRNG-typed generator for the targets (the protocol crates take
/// `RngCore + CryptoRng`; a fixed seed keeps every run of an input identical).
#[must_use]
pub fn rng(seed: u64) -> rand::rngs::StdRng {
    rand::SeedableRng::seed_from_u64(seed)
}

// ---------------------------------------------------------------------------------------------
// Observation streams
// ---------------------------------------------------------------------------------------------

/// The phones of the station table; phone 0 and AP 0 are those of `../shared/captures`.
pub const PHONES: [Mac; 4] = [
    [0xa0, 0xcb, 0xfd, 0x77, 0x00, 0x02],
    [0x02, 0x00, 0x00, 0x00, 0x00, 0x01],
    [0x02, 0x00, 0x00, 0x00, 0x00, 0x02],
    [0x8c, 0x85, 0x90, 0x12, 0x34, 0x56],
];

/// The APs of the station table.
pub const APS: [Mac; 2] = [
    [0x24, 0x0a, 0xc4, 0x77, 0x00, 0x01],
    [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff],
];

/// SSIDs a scan-result record can announce.
pub const SSIDS: [&[u8]; 4] = [b"HomeNet", b"TestAP", b"", b"an SSID of exactly 32 bytes long"];

/// Bytes of configuration before the first record.
pub const STREAM_HEADER_LEN: usize = 8;
/// Bytes of one record.
pub const RECORD_LEN: usize = 8;

/// One record of an observation stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamOp {
    /// Feed this observation.
    Feed(Observation),
    /// `Decoder::reset`.
    Reset,
    /// `Decoder::take`.
    Take,
    /// No frame: let timeouts run out at this instant.
    Tick(Instant),
    /// A beacon: `(ssid, bssid)`.
    Scan(&'static [u8], Mac),
}

/// Reads the records of an observation stream (after its header), keeping the clock.
#[derive(Debug, Clone)]
pub struct Stream<'a> {
    bytes: Bytes<'a>,
    now: u64,
}

impl<'a> Stream<'a> {
    /// Records from `bytes` (the header already taken), starting at time 0.
    #[must_use]
    pub const fn new(bytes: Bytes<'a>) -> Self {
        Self { bytes, now: 0 }
    }
}

impl Iterator for Stream<'_> {
    type Item = StreamOp;

    fn next(&mut self) -> Option<StreamOp> {
        if self.bytes.is_empty() {
            return None;
        }
        let r: [u8; RECORD_LEN] = self.bytes.array();
        let step = if r[3] < 0x80 {
            u64::from(r[3])
        } else {
            u64::from(r[3] & 0x7f) * 1000
        };
        self.now = self.now.saturating_add(step);
        let at = Instant::from_millis(self.now);
        Some(match r[0] {
            0xff => StreamOp::Reset,
            0xfe => StreamOp::Take,
            0xfd => StreamOp::Tick(at),
            0xfc => StreamOp::Scan(
                SSIDS[usize::from(r[1]) % SSIDS.len()],
                APS[usize::from(r[2]) % APS.len()],
            ),
            flags => StreamOp::Feed(observation(flags, &r, at)),
        })
    }
}

fn observation(flags: u8, r: &[u8; RECORD_LEN], at: Instant) -> Observation {
    let phone = PHONES[usize::from((flags >> 4) & 3)];
    let ap = APS[usize::from((flags >> 6) & 1)];
    let from_ap = flags & 1 != 0;
    let destination = match r[7] & 3 {
        0 => [0xff; 6],
        1 => [0x01, 0x00, 0x5e, 0x7f, 0xff, 0xfa],
        2 => ap,
        _ => [0xff, 0xff, 0xff, 0xff, 0xff, !r[7]],
    };
    let (mut transmitter, mut receiver) = if from_ap {
        (ap, destination)
    } else {
        (phone, ap)
    };
    if r[7] & 4 != 0 {
        core::mem::swap(&mut transmitter, &mut receiver);
    }
    Observation {
        at,
        channel: r[6],
        len: u16::from_le_bytes([r[1], r[2]]),
        direction: if from_ap {
            Direction::FromAp
        } else {
            Direction::ToAp
        },
        transmitter,
        receiver,
        bssid: ap,
        source: phone,
        destination,
        retry: flags & 2 != 0,
        sequence: (flags & 0x80 != 0).then(|| u16::from_le_bytes([r[4], r[5]])),
        qos: flags & 4 != 0,
        protected: flags & 8 != 0,
    }
}

/// Writes observation streams (for seeds): the caller's observations become records.
#[derive(Debug, Clone)]
pub struct StreamWriter {
    out: Vec<u8>,
    now: u64,
}

impl StreamWriter {
    /// A stream with this header.
    #[must_use]
    pub fn new(header: [u8; STREAM_HEADER_LEN]) -> Self {
        Self {
            out: header.to_vec(),
            now: 0,
        }
    }

    fn time_byte(&mut self, at: u64) -> u8 {
        let step = at.saturating_sub(self.now);
        let byte = if step < 0x80 {
            step as u8
        } else {
            0x80 | (step / 1000).min(0x7f) as u8
        };
        self.now += if byte < 0x80 {
            u64::from(byte)
        } else {
            u64::from(byte & 0x7f) * 1000
        };
        byte
    }

    /// Appends a feed record for a frame of `len` bytes from phone `phone` via AP `ap` at `at`
    /// ms (broadcast, ToDS or FromDS).
    pub fn feed(&mut self, at: u64, len: u16, phone: usize, ap: usize, from_ap: bool, seq: u16) {
        let flags = u8::from(from_ap) | ((phone as u8 & 3) << 4) | ((ap as u8 & 1) << 6) | 0x80;
        let time = self.time_byte(at);
        let [l0, l1] = len.to_le_bytes();
        let [s0, s1] = seq.to_le_bytes();
        self.out
            .extend_from_slice(&[flags, l0, l1, time, s0, s1, 6, 0]);
    }

    /// Appends an observation: its phone and AP must be in the tables (else index 0 is used).
    pub fn observation(&mut self, obs: &Observation) {
        let phone = PHONES.iter().position(|m| *m == obs.source).unwrap_or(0);
        let ap = APS.iter().position(|m| *m == obs.bssid).unwrap_or(0);
        let from_ap = obs.direction == Direction::FromAp;
        let mut flags = u8::from(from_ap)
            | (u8::from(obs.retry) << 1)
            | (u8::from(obs.qos) << 2)
            | (u8::from(obs.protected) << 3)
            | ((phone as u8 & 3) << 4)
            | ((ap as u8 & 1) << 6);
        if obs.sequence.is_some() {
            flags |= 0x80;
        }
        if flags >= 0xfc {
            flags &= !0x08; // keep it a feed record (drop the Protected flag)
        }
        let time = self.time_byte(obs.at.as_millis());
        let [l0, l1] = obs.len.to_le_bytes();
        let [s0, s1] = obs.sequence.unwrap_or(0).to_le_bytes();
        self.out
            .extend_from_slice(&[flags, l0, l1, time, s0, s1, obs.channel, 0]);
    }

    /// Appends a control record (`0xfc..=0xff`) with two argument bytes.
    pub fn control(&mut self, op: u8, a: u8, b: u8) {
        self.out.extend_from_slice(&[op, a, b, 0, 0, 0, 0, 0]);
    }

    /// The stream's bytes.
    #[must_use]
    pub fn finish(self) -> Vec<u8> {
        self.out
    }
}

// ---------------------------------------------------------------------------------------------
// protocomm programs (`protocomm_sec0/1/2`)
// ---------------------------------------------------------------------------------------------

/// Operations of a protocomm program: one byte each, `op % PROTOCOMM_OPS`, then arguments.
pub mod protocomm_op {
    /// `[op][endpoint][len16][body]`: the raw body to endpoint `ENDPOINTS[endpoint]`.
    pub const RAW: u8 = 0;
    /// `[op][endpoint][len16][plaintext]`: encrypted with the client's cipher if it has one.
    pub const SEALED: u8 = 1;
    /// `[op]`: a full client handshake (right or wrong secret, per the header).
    pub const HANDSHAKE: u8 = 2;
    /// `[op]`: `Device::new_session`.
    pub const NEW_SESSION: u8 = 3;
    /// `[op][len8][data]`: `Device::custom_reply`.
    pub const CUSTOM_REPLY: u8 = 4;
    /// `[op][state]`: the runtime reports a station state.
    pub const STATION: u8 = 5;
    /// `[op][count]` then per entry `[len8 ssid][channel][rssi][auth]`: scan results.
    pub const SCAN_RESULTS: u8 = 6;
    /// `[op][len16][bytes]`: the next client handshake step's reply is replaced by these bytes.
    pub const CLIENT_REPLY: u8 = 7;
    /// Number of operations.
    pub const COUNT: u8 = 8;
}

/// The endpoint names a protocomm program addresses (index by a byte modulo the length).
pub const ENDPOINTS: [&str; 8] = [
    "proto-ver",
    "prov-session",
    "prov-config",
    "prov-scan",
    "prov-ctrl",
    "custom-data",
    "unknown",
    "",
];

/// The PoP and the security 2 credentials the protocomm targets configure.
pub const POP: &[u8] = b"abcd1234";
/// Security 2 username.
pub const SEC2_USERNAME: &[u8] = b"wifiprov";
/// Security 2 salt.
pub const SEC2_SALT: &[u8] = b"0123456789abcdef";

/// The protocomm device driven by a program (the three `protocomm_sec*` targets).
///
/// Input: a header byte — bit 0 a custom endpoint `custom-data`, bit 1 `allow_reprovision`,
/// bit 2 no retry after failure, bit 3 the client uses a wrong secret, bit 4 security 2
/// legacy nonces, bit 5 security 1 without PoP, bits 6–7 `max_scan_entries` (16, 1, 0, 64) —
/// then operations ([`protocomm_op`]). Randomness comes from a fixed seed.
pub mod protocomm {
    use std::sync::OnceLock;

    use wifiprov_protocomm::device::{self, Device, Reply};
    use wifiprov_protocomm::sec2::Patch;
    use wifiprov_protocomm::session::{ClientSecurity, ClientSession, DeviceSecurity};
    use wifiprov_protocomm::srp::{self, XDerivation};
    use wifiprov_protocomm::wifi::{Connected, FailReason, ScanEntry, Station};
    use wifiprov_protocomm::Next;
    use zeroize::Zeroizing;

    use super::{Bytes, ENDPOINTS, POP, SEC2_SALT, SEC2_USERNAME, protocomm_op as op};

    /// The security 2 verifier of [`SEC2_USERNAME`] / [`POP`] with [`SEC2_SALT`].
    pub fn sec2_verifier() -> &'static [u8] {
        static VERIFIER: OnceLock<Vec<u8>> = OnceLock::new();
        VERIFIER.get_or_init(|| {
            srp::verifier(SEC2_SALT, SEC2_USERNAME, POP, XDerivation::EspIdf)
                .expect("verifier of constant inputs")
        })
    }

    fn securities(level: u8, header: u8) -> (DeviceSecurity, ClientSecurity) {
        let wrong = header & 8 != 0;
        let secret: &[u8] = if wrong { b"wrong pop" } else { POP };
        let patch = if header & 16 != 0 {
            Patch::Legacy
        } else {
            Patch::Counter
        };
        match level {
            0 => (DeviceSecurity::Sec0, ClientSecurity::Sec0),
            1 => {
                let pop: &[u8] = if header & 32 != 0 { b"" } else { POP };
                (
                    DeviceSecurity::Sec1 {
                        pop: Zeroizing::new(pop.to_vec()),
                    },
                    ClientSecurity::Sec1 {
                        pop: Zeroizing::new(if wrong { secret.to_vec() } else { pop.to_vec() }),
                    },
                )
            }
            _ => (
                DeviceSecurity::Sec2 {
                    salt: SEC2_SALT.to_vec(),
                    verifier: Zeroizing::new(sec2_verifier().to_vec()),
                    patch,
                },
                ClientSecurity::Sec2 {
                    username: SEC2_USERNAME.to_vec(),
                    password: Zeroizing::new(secret.to_vec()),
                    patch,
                    derivation: XDerivation::EspIdf,
                },
            ),
        }
    }

    fn station(bytes: &mut Bytes<'_>) -> Station {
        match bytes.u8() % 6 {
            0 => Station::Idle,
            1 => Station::Connecting,
            2 => Station::AttemptFailed {
                remaining: u32::from(bytes.u8()),
            },
            3 => Station::Connected(Connected {
                ip: bytes.array(),
                auth_mode: i32::from(bytes.u8() as i8),
                ssid: bytes.chunk8().to_vec(),
                bssid: bytes.array(),
                channel: i32::from(bytes.u8()),
            }),
            4 => Station::Failed(FailReason::from(i32::from(bytes.u8() as i8))),
            _ => Station::Disconnected,
        }
    }

    /// One device request: the reply is decrypted by the client when it can.
    fn request(
        device: &mut Device,
        client: &mut Option<ClientSession>,
        endpoint: &str,
        body: &[u8],
        now_ms: u64,
        rng: &mut rand::rngs::StdRng,
    ) {
        let Ok((reply, _action)) = device.handle_request(endpoint, body, now_ms, rng) else {
            return;
        };
        let bytes = match reply {
            Reply::Bytes(bytes) => bytes,
            Reply::Custom { data, .. } => {
                // The application's answer: the request echoed.
                match device.custom_reply(&data) {
                    Ok(bytes) => bytes,
                    Err(_) => return,
                }
            }
        };
        if endpoint != device::endpoint::PROTO_VER
            && endpoint != device::endpoint::SESSION
            && let Some(cipher) = client.as_mut().and_then(|c| c.cipher().ok())
        {
            let _ = cipher.decrypt(&bytes);
        }
    }

    /// A client handshake of at most `steps` round trips (0 = to the end).
    fn handshake(
        device: &mut Device,
        security: &ClientSecurity,
        steps: u8,
        now_ms: u64,
        rng: &mut rand::rngs::StdRng,
    ) -> Option<ClientSession> {
        let (mut client, mut next) = ClientSession::start(security, rng).ok()?;
        let mut round = 0u8;
        while let Next::Send(request) = next {
            if steps != 0 && round >= steps {
                break;
            }
            round += 1;
            let Ok((Reply::Bytes(reply), _)) =
                device.handle_request(device::endpoint::SESSION, &request, now_ms, rng)
            else {
                return Some(client);
            };
            next = match client.handle_reply(&reply) {
                Ok(next) => next,
                Err(_) => return Some(client),
            };
        }
        Some(client)
    }

    /// Runs a program against a device of security `level` (0, 1, 2).
    pub fn run(level: u8, data: &[u8]) {
        let mut bytes = Bytes::new(data);
        let header = bytes.u8();
        let (device_security, client_security) = securities(level, header);
        let mut config = device::Config::new(device_security);
        if header & 1 != 0 {
            config = config.with_custom_endpoint("custom-data");
        }
        config.wifi.allow_reprovision = header & 2 != 0;
        config.wifi.retry_after_failure = header & 4 == 0;
        config.wifi.max_scan_entries = [16, 1, 0, 64][usize::from(header >> 6)];
        let Ok(mut device) = Device::new(config) else {
            return;
        };
        let mut rng = super::rng(u64::from(level));
        let mut client: Option<ClientSession> = None;
        // The clock (for the wrong-proof throttle): every operation byte's high bits advance
        // it, by up to 7 steps of 500 ms.
        let mut now = 0u64;
        while !bytes.is_empty() {
            let code = bytes.u8();
            now = now.saturating_add(u64::from(code >> 5) * 500);
            match code % op::COUNT {
                op::RAW => {
                    let endpoint = ENDPOINTS[usize::from(bytes.u8()) % ENDPOINTS.len()];
                    let body = bytes.chunk16();
                    request(&mut device, &mut client, endpoint, body, now, &mut rng);
                }
                op::SEALED => {
                    let endpoint = ENDPOINTS[usize::from(bytes.u8()) % ENDPOINTS.len()];
                    let plain = bytes.chunk16();
                    let body = match client.as_mut().and_then(|c| c.cipher().ok()) {
                        Some(cipher) => match cipher.encrypt(plain) {
                            Ok(body) => body,
                            Err(_) => continue,
                        },
                        None => plain.to_vec(),
                    };
                    request(&mut device, &mut client, endpoint, &body, now, &mut rng);
                }
                op::HANDSHAKE => {
                    let steps = bytes.u8() % 4;
                    client = handshake(&mut device, &client_security, steps, now, &mut rng);
                }
                op::NEW_SESSION => {
                    device.new_session();
                    client = None;
                }
                op::CUSTOM_REPLY => {
                    let _ = device.custom_reply(bytes.chunk8());
                }
                op::STATION => {
                    let station = station(&mut bytes);
                    device.provisioner_mut().set_station(station);
                }
                op::SCAN_RESULTS => {
                    let count = bytes.u8() % 80;
                    let entries = (0..count)
                        .map(|i| ScanEntry {
                            ssid: bytes.chunk8().to_vec(),
                            channel: u32::from(bytes.u8()),
                            rssi: i32::from(bytes.u8() as i8),
                            bssid: [2, 0, 0, 0, 0, i],
                            auth: i32::from(bytes.u8() as i8),
                        })
                        .collect();
                    device.provisioner_mut().set_scan_results(entries);
                }
                _ => {
                    // CLIENT_REPLY: the client's parsers on device-shaped bytes.
                    let reply = bytes.chunk16();
                    if let Some(c) = client.as_mut()
                        && let Ok(Next::Send(request)) = c.handle_reply(reply)
                    {
                        let _ = device.handle_request(device::endpoint::SESSION, &request, now, &mut rng);
                    }
                }
            }
        }
        let _ = (device.is_established(), device.proto_ver().render());
    }

    /// Encodes a program (for seeds).
    #[derive(Debug, Clone, Default)]
    pub struct Program(pub Vec<u8>);

    impl Program {
        /// A program with this header byte.
        #[must_use]
        pub fn new(header: u8) -> Self {
            Self(vec![header])
        }

        fn endpoint_index(endpoint: &str) -> u8 {
            ENDPOINTS
                .iter()
                .position(|e| *e == endpoint)
                .expect("a known endpoint") as u8
        }

        /// A raw request.
        #[must_use]
        pub fn raw(mut self, endpoint: &str, body: &[u8]) -> Self {
            self.0.extend([op::RAW, Self::endpoint_index(endpoint)]);
            super::push_chunk16(&mut self.0, body);
            self
        }

        /// A request encrypted by the client.
        #[must_use]
        pub fn sealed(mut self, endpoint: &str, plain: &[u8]) -> Self {
            self.0.extend([op::SEALED, Self::endpoint_index(endpoint)]);
            super::push_chunk16(&mut self.0, plain);
            self
        }

        /// A client handshake of `steps` round trips (0 = complete).
        #[must_use]
        pub fn handshake(mut self, steps: u8) -> Self {
            self.0.extend([op::HANDSHAKE, steps]);
            self
        }

        /// The runtime reports `Connected`.
        #[must_use]
        pub fn connected(mut self, ssid: &[u8]) -> Self {
            self.0.extend([op::STATION, 3, 192, 168, 1, 50, 3]);
            super::push_chunk8(&mut self.0, ssid);
            self.0.extend([0x24, 0x0a, 0xc4, 0x77, 0x00, 0x01, 6]);
            self
        }

        /// Scan results.
        #[must_use]
        pub fn scan_results(mut self, ssids: &[&[u8]]) -> Self {
            self.0.extend([op::SCAN_RESULTS, ssids.len() as u8]);
            for ssid in ssids {
                super::push_chunk8(&mut self.0, ssid);
                self.0.extend([6, 0xc4, 3]);
            }
            self
        }
    }
}

/// A BluFi conversation program (the `blufi_device` and `blufi_client` targets): a real
/// [`Client`](wifiprov_blufi::Client) and [`Device`](wifiprov_blufi::Device) talk in memory
/// (every frame of one side delivered to the other after each operation), and raw frames from
/// the input go to the side under test.
///
/// Header: byte 0 bit 0 device generation V2, bit 1 the client's generation forced to the
/// device's, bit 2 device reports version 1.`byte 1`; byte 2 device MTU; bytes 3–4 the
/// device's and the client's `max_message_len` / 16. Operations (`op % 3`):
/// `[0][len16][frame]` a raw frame to the side under test; `[1][call][args]` a client call;
/// `[2][call][args]` a device call.
pub mod blufi {
    use wifiprov_blufi::client::{self, Client};
    use wifiprov_blufi::device::{self, Device};
    use wifiprov_blufi::link::Sizing;
    use wifiprov_blufi::{
        DataSubtype, ErrorCode, Generation, OperationMode, SecurityMode, StationState, Status,
        Version,
    };

    use super::Bytes;

    /// Which side gets the raw frames.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Side {
        /// Raw frames are GATT writes to the device.
        Device,
        /// Raw frames are notifications to the client.
        Client,
    }

    /// Client calls.
    pub mod call {
        /// GET_VERSION.
        pub const REQUEST_VERSION: u8 = 0;
        /// The DH negotiation.
        pub const NEGOTIATE: u8 = 1;
        /// `[mode]` SET_SEC_MODE.
        pub const SECURITY_MODE: u8 = 2;
        /// `[mode]` SET_WIFI_OPMODE.
        pub const OPERATION_MODE: u8 = 3;
        /// `[len8 ssid][len8 password][bssid?][6 bytes]` the station credentials.
        pub const STATION: u8 = 4;
        /// CONNECT_TO_AP.
        pub const CONNECT: u8 = 5;
        /// Number of client calls.
        pub const COUNT: u8 = 14;
    }

    /// Device calls.
    pub mod device_call {
        /// `[opmode][state][connections][len8 ssid]` WIFI_REP.
        pub const STATUS: u8 = 0;
        /// `[count]` then `[len8 ssid][rssi]` WIFI_LIST.
        pub const WIFI_LIST: u8 = 1;
        /// Number of device calls.
        pub const COUNT: u8 = 6;
    }

    fn pump(client: &mut Client, device: &mut Device, rng: &mut rand::rngs::StdRng) {
        for _ in 0..64 {
            let mut moved = false;
            while let Some(write) = client.poll_transmit() {
                let _ = device.handle_write(&write, rng);
                moved = true;
            }
            while let Some(notification) = device.poll_transmit() {
                let _ = client.handle_notification(&notification);
                moved = true;
            }
            while let Some(event) = device.poll_event() {
                if let device::Event::ConnectRequested(credentials) = event {
                    let _ = (credentials.ssid.len(), credentials.password.len());
                }
            }
            while client.poll_event().is_some() {}
            if !moved {
                return;
            }
        }
    }

    fn client_call(client: &mut Client, bytes: &mut Bytes<'_>, rng: &mut rand::rngs::StdRng) {
        let _ = match bytes.u8() % call::COUNT {
            call::REQUEST_VERSION => client.request_version(),
            call::NEGOTIATE => client.negotiate(rng),
            call::SECURITY_MODE => client.set_security_mode(SecurityMode::from_bits(bytes.u8())),
            call::OPERATION_MODE => client.set_operation_mode(OperationMode::from(bytes.u8())),
            call::STATION => {
                let ssid = bytes.chunk8();
                let password = bytes.chunk8();
                let with_bssid = bytes.u8() & 1 != 0;
                let bssid: [u8; 6] = bytes.array();
                client.send_station(ssid, password, with_bssid.then_some(bssid))
            }
            call::CONNECT => client.connect(),
            6 => client.disconnect_from_ap(),
            7 => client.request_status(),
            8 => client.request_wifi_list(),
            9 => client.disconnect_ble(),
            10 => client.send_custom(bytes.chunk16()),
            11 => {
                let subtype = DataSubtype::from(bytes.u8());
                client.send_data(subtype, bytes.chunk16())
            }
            12 => {
                client.set_sizing(Sizing::phone(bytes.u16()));
                Ok(())
            }
            _ => {
                client.reset();
                Ok(())
            }
        };
        let _ = (client.version(), client.generation());
    }

    fn device_call(device: &mut Device, bytes: &mut Bytes<'_>) {
        let _ = match bytes.u8() % device_call::COUNT {
            device_call::STATUS => {
                let mut status = Status::new(
                    OperationMode::from(bytes.u8()),
                    StationState::from(bytes.u8()),
                    bytes.u8(),
                );
                let ssid = bytes.chunk8();
                if !ssid.is_empty() {
                    status.ssid = Some(ssid.to_vec());
                }
                device.send_status(&status)
            }
            device_call::WIFI_LIST => {
                let count = bytes.u8() % 32;
                let list: Vec<(Vec<u8>, i8)> = (0..count)
                    .map(|_| (bytes.chunk8().to_vec(), bytes.u8() as i8))
                    .collect();
                device.send_wifi_list(&list)
            }
            2 => device.send_custom(bytes.chunk16()),
            3 => device.send_error(ErrorCode::from(bytes.u8())),
            4 => {
                device.set_sizing(Sizing::device(bytes.u16()));
                Ok(())
            }
            _ => {
                device.reset();
                Ok(())
            }
        };
        let _ = (device.is_secure(), device.security_mode(), device.credentials().ssid.len());
    }

    /// Runs a program with raw frames going to `side`.
    pub fn run(side: Side, data: &[u8]) {
        let mut bytes = Bytes::new(data);
        let header: [u8; 5] = bytes.array();
        let generation = if header[0] & 1 != 0 {
            Generation::V2
        } else {
            Generation::V1
        };
        let mut device_config = device::Config::new(generation)
            .with_sizing(Sizing::device(u16::from(header[2]).max(23)))
            .with_max_message_len(usize::from(header[3]).max(1) * 16);
        if header[0] & 4 != 0 {
            device_config = device_config.with_version(Version::new(1, header[1]));
        }
        let mut client_config =
            client::Config::new().with_max_message_len(usize::from(header[4]).max(1) * 16);
        if header[0] & 2 != 0 {
            client_config = client_config.with_generation(generation);
        }
        let mut device = Device::new(device_config);
        let mut client = Client::new(client_config);
        let mut rng = super::rng(7);
        while !bytes.is_empty() {
            match bytes.u8() % 3 {
                0 => {
                    let frame = bytes.chunk16();
                    match side {
                        Side::Device => drop(device.handle_write(frame, &mut rng)),
                        Side::Client => drop(client.handle_notification(frame)),
                    }
                }
                1 => client_call(&mut client, &mut bytes, &mut rng),
                _ => device_call(&mut device, &mut bytes),
            }
            pump(&mut client, &mut device, &mut rng);
        }
    }

    /// Encodes a program (for seeds).
    #[derive(Debug, Clone)]
    pub struct Program(pub Vec<u8>);

    impl Program {
        /// A program with this header.
        #[must_use]
        pub fn new(header: [u8; 5]) -> Self {
            Self(header.to_vec())
        }

        /// A raw frame.
        #[must_use]
        pub fn raw(mut self, frame: &[u8]) -> Self {
            self.0.push(0);
            super::push_chunk16(&mut self.0, frame);
            self
        }

        /// A client call with its argument bytes.
        #[must_use]
        pub fn client(mut self, call: u8, args: &[u8]) -> Self {
            self.0.extend([1, call]);
            self.0.extend_from_slice(args);
            self
        }

        /// A device call with its argument bytes.
        #[must_use]
        pub fn device(mut self, call: u8, args: &[u8]) -> Self {
            self.0.extend([2, call]);
            self.0.extend_from_slice(args);
            self
        }
    }
}
