//! A whole capture file in memory (pcap or pcapng, any byte order and timestamp resolution)
//! through `wifiprov_transport::capture::FileCapture` and `capture::read`, as
//! `wifiprov decode` and the capture replay tests read them.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use wifiprov_transport::capture::{self, FileCapture};

fuzz_target!(|data: &[u8]| {
    if let Ok(mut reader) = FileCapture::new(Cursor::new(data), "fuzz.pcap") {
        let _ = reader.format();
        let mut records = 0u64;
        for record in reader.by_ref() {
            if record.is_err() {
                break;
            }
            records += 1;
        }
        let stats = reader.stats();
        assert!(records <= stats.packets);
        assert!(stats.skipped() <= stats.packets);
    }
    if let Ok(capture) = capture::read(Cursor::new(data), "fuzz.pcap") {
        for (bssid, _, _) in &capture.networks {
            let _ = capture.ssid_of(bssid);
        }
    }
});
