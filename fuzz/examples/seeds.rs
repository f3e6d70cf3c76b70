//! Writes the committed seed corpus `fuzz/corpus/<target>/` from the encoders of the protocol
//! crates and from the reference data in `../shared` (captures, vectors).
//!
//! Run with: `cargo +nightly run --manifest-path fuzz/Cargo.toml --example seeds` (from the
//! repository root; `WIFIPROV_SHARED` overrides where `shared/` is). Existing seed files are
//! overwritten, others are left alone. Seeds are named after what they hold.

use std::fs;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use pcap_file::pcap::{PcapPacket, PcapReader};
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionBlock;
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::DataLink;
use wifiprov_blufi::{OperationMode, SecurityMode};
use wifiprov_esptouch::{v1, v2};
use wifiprov_fuzz::blufi::{self, call, device_call};
use wifiprov_fuzz::protocomm::Program;
use wifiprov_fuzz::{STREAM_HEADER_LEN, StreamWriter, push_chunk16};
use wifiprov_protocomm::wifi::{ScanRequest, request};
use wifiprov_sniff::{Direction, Observation};
use wifiprov_testkit::shared;
use wifiprov_transport::capture;

const SSID: &[u8] = b"HomeNet";
const PASSWORD: &[u8] = b"correct horse battery";
const AP: [u8; 6] = wifiprov_fuzz::APS[0];
const PHONE_IP: [u8; 4] = [192, 168, 77, 2];
const OVERHEAD: u16 = 76;

struct Corpus {
    root: PathBuf,
    total: usize,
}

impl Corpus {
    fn write(&mut self, target: &str, name: &str, bytes: &[u8]) {
        let dir = self.root.join(target);
        fs::create_dir_all(&dir).expect("create the corpus directory");
        fs::write(dir.join(name), bytes).expect("write a seed");
        self.total += bytes.len();
        println!("{target}/{name}: {} bytes", bytes.len());
    }
}

fn header(byte0: u8) -> [u8; STREAM_HEADER_LEN] {
    let mut h = [0; STREAM_HEADER_LEN];
    h[0] = byte0;
    h
}

/// Lengths sent `copies` times (ToDS, then the AP's FromDS copy), 8 ms apart.
fn stream(header: [u8; STREAM_HEADER_LEN], lengths: &[u16], both_copies: bool) -> Vec<u8> {
    let mut w = StreamWriter::new(header);
    for (i, &len) in lengths.iter().enumerate() {
        let at = i as u64 * 8;
        w.feed(at, len + OVERHEAD, 0, 0, false, i as u16);
        if both_copies {
            w.feed(at + 1, len + OVERHEAD, 0, 0, true, (i as u16 + 2000) % 4096);
        }
    }
    w.finish()
}

fn v1_lengths(ssid: &[u8], password: &[u8]) -> Vec<u16> {
    let encoder =
        v1::Encoder::new(&v1::Config::new(ssid, password, AP, PHONE_IP)).expect("v1 encoder");
    let mut lengths: Vec<u16> = encoder.guide().into_iter().cycle().take(40).collect();
    lengths.extend(encoder.data_cycle());
    lengths
}

fn v2_lengths(key: Option<[u8; 16]>) -> Vec<u16> {
    let mut config = v2::Config::new(SSID, PASSWORD, AP);
    if let Some(key) = key {
        config = config.with_aes_key(key, 2);
    }
    let mut seed = 1u8;
    let encoder = v2::Encoder::new(&config, &mut || {
        seed = seed.wrapping_mul(5).wrapping_add(3);
        seed
    })
    .expect("v2 encoder");
    let mut lengths = encoder.lengths().to_vec();
    lengths.extend_from_slice(&encoder.lengths().to_vec());
    lengths
}

fn airkiss_lengths() -> Vec<u16> {
    use wifiprov_airkiss::encoder::{Config, Encoder, Layout};
    let encoder = Encoder::new(&Config::new(SSID, PASSWORD, 0x33)).expect("airkiss encoder");
    encoder
        .cycle(Layout {
            guide: 8,
            magic: 4,
            rounds: 3,
        })
        .collect()
}

/// The observations of a shared capture (at most `limit`), as a stream.
fn capture_stream(name: &str, byte0: u8, limit: usize) -> Vec<u8> {
    let capture = capture::read_file(shared::capture_path(name)).expect("read a shared capture");
    let mut w = StreamWriter::new(header(byte0));
    for obs in capture.observations.iter().take(limit) {
        w.observation(obs);
    }
    w.finish()
}

/// The first `count` packets of a shared pcap, as (timestamp µs, bytes, original length).
fn packets(name: &str, count: usize) -> Vec<(std::time::Duration, Vec<u8>, u32)> {
    let bytes = fs::read(shared::capture_path(name)).expect("read a shared pcap");
    let mut reader = PcapReader::new(Cursor::new(bytes)).expect("a pcap");
    let mut out = Vec::new();
    while let Some(packet) = reader.next_packet() {
        let packet = packet.expect("a packet");
        out.push((packet.timestamp, packet.data.to_vec(), packet.orig_len));
        if out.len() == count {
            break;
        }
    }
    out
}

fn pcap_file(packets: &[(std::time::Duration, Vec<u8>, u32)]) -> Vec<u8> {
    let header = pcap_file::pcap::PcapHeader {
        datalink: DataLink::IEEE802_11_RADIOTAP,
        ..Default::default()
    };
    let mut writer = pcap_file::pcap::PcapWriter::with_header(Vec::new(), header).expect("writer");
    for (timestamp, data, orig_len) in packets {
        writer
            .write_packet(&PcapPacket::new_owned(*timestamp, *orig_len, data.clone()))
            .expect("write a packet");
    }
    writer.into_writer()
}

fn pcapng_file(packets: &[(std::time::Duration, Vec<u8>, u32)]) -> Vec<u8> {
    let mut writer = PcapNgWriter::new(Vec::new()).expect("writer");
    let interface = InterfaceDescriptionBlock {
        linktype: DataLink::IEEE802_11_RADIOTAP,
        snaplen: 65535,
        options: vec![],
    };
    writer.write_pcapng_block(interface).expect("IDB");
    for (timestamp, data, orig_len) in packets {
        let block = EnhancedPacketBlock {
            interface_id: 0,
            timestamp: *timestamp,
            original_len: *orig_len,
            data: data.clone().into(),
            options: vec![],
        };
        writer.write_pcapng_block(block).expect("EPB");
    }
    writer.into_inner()
}

/// The radiotap header length of a packet.
fn radiotap_len(packet: &[u8]) -> usize {
    usize::from(u16::from_le_bytes([packet[2], packet[3]]))
}

fn protocomm_programs(corpus: &mut Corpus, level: u8) {
    let target = format!("protocomm_sec{level}");
    let target = target.as_str();
    let full = Program::new(1)
        .raw("proto-ver", b"---")
        .handshake(0)
        .sealed("prov-config", &request::get_status())
        .sealed(
            "prov-config",
            &request::set_config(SSID, PASSWORD, Some(AP), 6),
        )
        .sealed("prov-config", &request::apply_config())
        .connected(SSID)
        .sealed("prov-config", &request::get_status())
        .sealed("custom-data", b"hello");
    corpus.write(target, "provision", &full.0);
    let scan = Program::new(0)
        .handshake(0)
        .sealed(
            "prov-scan",
            &request::scan_start(ScanRequest {
                blocking: true,
                passive: false,
                group_channels: 0,
                period_ms: 120,
            }),
        )
        .scan_results(&[SSID, b"Other", b""])
        .sealed("prov-scan", &request::scan_status())
        .sealed("prov-scan", &request::scan_result(0, 3))
        .sealed("prov-ctrl", &request::reset())
        .sealed("prov-ctrl", &request::reprovision());
    corpus.write(target, "scan-and-ctrl", &scan.0);
    corpus.write(target, "wrong-secret", &Program::new(8).handshake(0).0);
    corpus.write(target, "half-handshake", &Program::new(0).handshake(1).0);
    // Device requests of the reference transcripts, raw.
    let vectors = match level {
        1 => Some("protocomm-sec1.json"),
        2 => Some("protocomm-sec2.json"),
        _ => None,
    };
    if let Some(name) = vectors {
        let text = fs::read_to_string(shared::vector_path(name)).expect("vectors");
        let mut program = Program::new(0);
        let mut found = 0;
        collect_hex(&serde_json::from_str(&text).expect("JSON"), &mut |key, hex| {
            if key.contains("request") || key.contains("cmd") {
                if let Ok(bytes) = wifiprov::fuzzing::parse_hex(hex) {
                    if !bytes.is_empty() && bytes.len() < 2048 && found < 8 {
                        program = std::mem::take(&mut program).raw("prov-session", &bytes);
                        found += 1;
                    }
                }
            }
        });
        if found > 0 {
            corpus.write(target, "transcript-requests", &program.0);
        }
    }
}

/// Calls `f(key, value)` for every string value of a JSON tree that looks like hex.
fn collect_hex(value: &serde_json::Value, f: &mut impl FnMut(&str, &str)) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                if let serde_json::Value::String(text) = value {
                    if text.len() >= 4 && text.chars().all(|c| c.is_ascii_hexdigit()) {
                        f(&key.to_ascii_lowercase(), text);
                    }
                } else {
                    collect_hex(value, f);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_hex(v, f)),
        _ => {}
    }
}

fn http_program(requests: &[&[u8]]) -> Vec<u8> {
    let mut out = vec![1]; // portal on
    for (i, request) in requests.iter().enumerate() {
        out.extend([0, (i % 2) as u8]);
        push_chunk16(&mut out, request);
    }
    out
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut corpus = Corpus { root, total: 0 };

    // Observation streams from the encoders, and from the shared captures.
    let v1 = v1_lengths(SSID, PASSWORD);
    corpus.write("esptouch_v1", "encoder-both-copies", &stream(header(0), &v1, true));
    corpus.write("esptouch_v1", "encoder-todS-custom-tuning", &{
        let mut h = header(1);
        h[1..4].copy_from_slice(&[40, 128, 200]);
        stream(h, &v1, false)
    });
    corpus.write("esptouch_v1", "encoder-open-network", &stream(header(0), &v1_lengths(b"TestAP", b""), false));
    corpus.write("esptouch_v1", "capture", &capture_stream("esptouch-v1-clean.pcap", 0, 1200));
    let key = *b"0123456789abcdef";
    let v2_plain = v2_lengths(None);
    let v2_sealed = v2_lengths(Some(key));
    corpus.write("esptouch_v2", "encoder-plain", &stream(header(0), &v2_plain, true));
    corpus.write("esptouch_v2", "encoder-aes-key", &stream(header(1), &v2_sealed, true));
    corpus.write("esptouch_v2", "encoder-aes-no-key", &stream(header(0), &v2_sealed, false));
    corpus.write("esptouch_v2", "capture", &capture_stream("esptouch-v2-clean.pcap", 0, 1200));
    let airkiss = airkiss_lengths();
    corpus.write("airkiss", "encoder", &stream(header(0), &airkiss, true));
    corpus.write("airkiss", "capture", &capture_stream("airkiss-clean.pcap", 0, 1500));
    corpus.write("front", "esptouch-v1", &stream(header(8), &v1, true));
    corpus.write("front", "esptouch-v2-aes", &stream(header(16 | 8), &v2_sealed, false));
    corpus.write("front", "airkiss", &stream(header(8), &airkiss, false));
    corpus.write("front", "capture-airkiss", &capture_stream("airkiss-clean.pcap", 8, 1500));
    {
        // A scan result first, then v1 traffic.
        let mut w = StreamWriter::new(header(8));
        w.control(0xfc, 0, 0);
        let mut bytes = w.finish();
        bytes.extend_from_slice(&stream(header(8), &v1, false)[STREAM_HEADER_LEN..]);
        corpus.write("front", "scan-then-v1", &bytes);
    }

    // Frames: radiotap packets from the captures, bare 802.11, Ethernet.
    let mut n = 0;
    for name in ["esptouch-v1-clean.pcap", "esptouch-v2-clean.pcap", "airkiss-clean.pcap"] {
        for (i, (_, packet, orig_len)) in packets(name, 400).iter().enumerate() {
            // A beacon (the first packets) and a few data frames of each capture.
            if !(i < 2 || i % 97 == 5) {
                continue;
            }
            let mut radiotap = vec![0x10];
            radiotap.extend_from_slice(&orig_len.to_le_bytes());
            radiotap.push(6);
            radiotap.extend_from_slice(packet);
            corpus.write("radiotap", &format!("radiotap-{n}"), &radiotap);
            let mut dot11 = vec![6, 1];
            dot11.extend_from_slice(&(*orig_len as u16).to_le_bytes());
            dot11.extend_from_slice(&packet[radiotap_len(packet)..]);
            corpus.write("ieee80211", &format!("frame-{n}"), &dot11);
            n += 1;
        }
    }
    let mut ethernet = vec![2, 0, 0, 0, 0, 1];
    ethernet.extend_from_slice(&[0xff; 6]);
    ethernet.extend_from_slice(&[2, 0, 0, 0, 0, 1, 0x08, 0x00, 0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17]);
    ethernet.extend_from_slice(&[0; 20]);
    corpus.write("radiotap", "ethernet-udp", &ethernet);

    // Capture files: the start of each shared capture, pcap and pcapng.
    for (name, count) in [("esptouch-v1-clean.pcap", 24), ("airkiss-clean.pcap", 24)] {
        let stem = name.trim_end_matches(".pcap");
        let packets = packets(name, count);
        corpus.write("pcap", &format!("{stem}-head.pcap"), &pcap_file(&packets));
        corpus.write("pcap", &format!("{stem}-head.pcapng"), &pcapng_file(&packets));
    }

    // protocomm programs.
    for level in 0..3 {
        protocomm_programs(&mut corpus, level);
    }

    // HTTP: the routes of the device server and the portal, and a response for the client.
    let connect = br#"{"ssid":"HomeNet","password":"correct horse battery"}"#;
    let connect_request = [
        b"POST /api/connect HTTP/1.1\r\nHost: 192.168.4.1\r\nContent-Type: application/json\r\nContent-Length: ".as_slice(),
        connect.len().to_string().as_bytes(),
        b"\r\n\r\n",
        connect,
    ]
    .concat();
    let session = request_body_sec0();
    let session_request = [
        b"POST /prov-session HTTP/1.1\r\nHost: 192.168.4.1\r\nContent-Length: ".as_slice(),
        session.len().to_string().as_bytes(),
        b"\r\n\r\n",
        &session,
    ]
    .concat();
    corpus.write(
        "http",
        "portal",
        &http_program(&[
            b"GET / HTTP/1.1\r\nHost: 192.168.4.1\r\n\r\n",
            b"GET /generate_204 HTTP/1.1\r\nHost: connectivitycheck.gstatic.com\r\n\r\n",
            b"GET /api/networks HTTP/1.1\r\nHost: 192.168.4.1\r\n\r\n",
            &connect_request,
            b"GET /api/status HTTP/1.1\r\nHost: 192.168.4.1\r\nConnection: close\r\n\r\n",
            b"HEAD /api/captive HTTP/1.0\r\n\r\n",
        ]),
    );
    corpus.write(
        "http",
        "protocomm",
        &http_program(&[
            b"POST /proto-ver HTTP/1.1\r\nHost: 192.168.4.1\r\nContent-Length: 3\r\n\r\n---",
            &session_request,
            b"POST /prov-config HTTP/1.1\r\nContent-Length: 2\r\nCookie: session=1\r\nExpect: 100-continue\r\n\r\n\x08\x00",
        ]),
    );
    let mut response = vec![1, 2, 0, 40];
    push_chunk16(
        &mut response,
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nSet-Cookie: session=5\r\nContent-Length: 4\r\n\r\nbody",
    );
    corpus.write("http", "client-response", &response);

    // BluFi.
    let mode = SecurityMode::DATA_PROTECTED.bits();
    for (name, header) in [("v1", [0, 0, 23, 0, 0]), ("v2", [1, 0, 185, 0, 0])] {
        let program = blufi::Program::new(header)
            .client(call::REQUEST_VERSION, &[])
            .client(call::NEGOTIATE, &[])
            .client(call::SECURITY_MODE, &[mode])
            .client(call::OPERATION_MODE, &[u8::from(OperationMode::Station)])
            .client(call::STATION, &[7, b'H', b'o', b'm', b'e', b'N', b'e', b't', 3, b'p', b'w', b'd', 1, 0x24, 0x0a, 0xc4, 0x77, 0, 1])
            .client(call::CONNECT, &[])
            .device(device_call::STATUS, &[1, 0, 0, 7, b'H', b'o', b'm', b'e', b'N', b'e', b't'])
            .device(device_call::WIFI_LIST, &[2, 7, b'H', b'o', b'm', b'e', b'N', b'e', b't', 0xc4, 1, b'x', 0xb0])
            .client(10, &[3, 0, b'a', b'b', b'c']);
        corpus.write("blufi_device", &format!("conversation-{name}"), &program.0);
        corpus.write("blufi_client", &format!("conversation-{name}"), &program.0);
    }
    // A GET_VERSION frame (type control 0x07 << 2, seq 0) and a fragmented custom-data message.
    let version = blufi::Program::new([0; 5]).raw(&[0x1c, 0x00, 0x00, 0x00]);
    corpus.write("blufi_device", "raw-get-version", &version.0);
    let reply = blufi::Program::new([0; 5])
        .client(call::REQUEST_VERSION, &[])
        .raw(&[0x3d, 0x04, 0x00, 0x02, 0x01, 0x03]);
    corpus.write("blufi_client", "raw-version-reply", &reply.0);
    corpus.write("blufi_frames", "frame-status", &[0, 0x3d, 0x04, 0x00, 0x05, 0x01, 0x00, 0x00, 0x02, 0x00]);
    corpus.write("blufi_frames", "status-tlvs", &[0, 1, 0, 0, 0x01, 6, 0x24, 0x0a, 0xc4, 0x77, 0, 1, 0x02, 2, b'H', b'N', 0x16, 1, 0xc4]);
    corpus.write("blufi_frames", "parameters", &[0, 0, 2, 0xff, 0xfb, 0, 1, 2, 0, 1, 5]);
    corpus.write("blufi_frames", "reassembler", &[1, 0, 1, 0x4d, 1, 5, 6, 0, b'a', b'b', b'c', 0x4d, 0, 3, b'd', b'e', b'f']);
    corpus.write("blufi_frames", "link-frames", &[2, 0, 0, 16, 23, 0, 0, 0, 4, 0, 0x1c, 0, 0, 0, 6, 0, 0x4d, 0x00, 0x01, 2, b'h', b'i']);
    corpus.write("blufi_frames", "round-trip", &[3, 3, 4, 1, 2, 3, 4, 0x4d, 3, 12, 0, 40, 0, b'0', b'1', b'2', b'3', b'4', b'5', b'6', b'7', b'8', b'9', b'a', b'b', b'c', b'd', b'e', b'f', b'g', b'h', b'i', b'j', b'k', b'l', b'm', b'n', b'o', b'p', b'q', b'r', b's', b't', b'u', b'v', b'w', b'x', b'y', b'z', b'A', b'B', b'C', b'D']);

    // The command line's own parsers.
    corpus.write("qr", "softap-sec1", b"\x00{\"ver\":\"v1\",\"name\":\"PROV_01B1E8\",\"pop\":\"abcd1234\",\"transport\":\"softap\"}");
    corpus.write("qr", "ble-sec2", b"\x01{\"ver\":\"v1\",\"name\":\"PROV_01B1E8\",\"username\":\"wifiprov\",\"pop\":\"abcd1234\",\"transport\":\"ble\"}");
    corpus.write("qr", "no-pop", b"\x00{\"ver\":\"v1\",\"name\":\"PROV_01B1E8\",\"transport\":\"softap\"}");
    let toml = fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../contrib/device.toml"))
        .expect("contrib/device.toml");
    corpus.write("config", "contrib-device.toml", &toml);
    corpus.write(
        "config",
        "softap.toml",
        b"methods = [\"softap\"]\nsec = 2\nusername = \"wifiprov\"\nsalt_hex = \"00ff\"\nverifier_hex = \"aa\"\nlisten = \"0.0.0.0:80\"\nportal = true\ncustom_endpoints = [\"custom-data\"]\ntimeout = 1.5\n",
    );
    let capture: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(shared::capture_path("airkiss-capture-1.json")).expect("capture JSON"),
    )
    .expect("JSON");
    let records: Vec<serde_json::Value> = capture["observations"]
        .as_array()
        .expect("observations")
        .iter()
        .take(40)
        .map(|r| serde_json::json!({"header_hex": r["header_hex"], "len": r["len"]}))
        .collect();
    corpus.write(
        "observations",
        "airkiss-capture-1-head.json",
        serde_json::to_string(&serde_json::json!({ "observations": records }))
            .expect("JSON")
            .as_bytes(),
    );
    corpus.write("observations", "seq-records.json", br#"[{"seq": 100, "len": 180}, {"seq": 4095, "len": 0}, {"seq": 5000, "len": 65535}]"#);
    corpus.write("hex", "colons", b"24:0a:c4:77:00:01");
    corpus.write("hex", "spaced", b"48 6f 6d 65 4e 65 74\n");
    corpus.write("hex", "plain", b"0715092b01da");

    // A check of the stream writer: a real observation survives the trip.
    let mut w = StreamWriter::new(header(0));
    let mut obs = Observation::new(wifiprov_sniff::Instant::from_millis(5), 100, wifiprov_fuzz::PHONES[1], AP);
    obs.direction = Direction::FromAp;
    obs.sequence = Some(7);
    w.observation(&obs);
    let bytes = w.finish();
    let mut reader = wifiprov_fuzz::Stream::new(wifiprov_fuzz::Bytes::new(&bytes[STREAM_HEADER_LEN..]));
    assert!(matches!(reader.next(), Some(wifiprov_fuzz::StreamOp::Feed(o)) if o.len == 100 && o.source == obs.source && o.sequence == Some(7)));

    println!("total: {} bytes", corpus.total);
}

/// An `S0SessionCmd` request body as a security 0 client sends it.
fn request_body_sec0() -> Vec<u8> {
    use wifiprov_protocomm::session::{ClientSecurity, ClientSession};
    let (_client, next) =
        ClientSession::start(&ClientSecurity::Sec0, &mut wifiprov_fuzz::rng(0)).expect("sec0");
    match next {
        wifiprov_protocomm::Next::Send(bytes) => bytes,
        wifiprov_protocomm::Next::Established => Vec::new(),
    }
}
