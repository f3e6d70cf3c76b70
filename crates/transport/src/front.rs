//! The decoder front: every sniffing decoder side by side on the same frames.
//!
//! The front itself is the `no_std` core [`wifiprov_front`] (re-exported here), which the ESP32
//! firmware embeds too; this module adds what needs `std`: feeding capture [`Record`]s and the
//! diagnostic report ([`FrontExt`]).

pub use wifiprov_front::*;

use crate::capture::Record;

/// Capture records and diagnostics for a [`Front`].
pub trait FrontExt {
    /// Feeds one capture record: data frames go to the decoders, beacons become scan results.
    fn feed_record(&mut self, record: &Record) -> Step;

    /// A diagnostic report of every decoder (see [`crate::explain`]).
    fn explain(&self) -> String;
}

impl FrontExt for Front {
    fn feed_record(&mut self, record: &Record) -> Step {
        match record {
            Record::Data(obs) => self.feed(obs),
            Record::Beacon { bssid, ssid, .. } => {
                self.add_network(ssid, *bssid);
                Step::Nothing
            }
            Record::Other => Step::Nothing,
        }
    }

    fn explain(&self) -> String {
        let mut out = self
            .esptouch_v1()
            .map(|d| crate::explain::esptouch_v1(d, self.frames(), self.networks()))
            .unwrap_or_default();
        if let Some(d) = self.airkiss() {
            out.push_str(&crate::explain::airkiss(d, self.frames()));
        }
        if let Some(d) = self.esptouch_v2() {
            out.push_str(&crate::explain::esptouch_v2(d, self.frames()));
        }
        out
    }
}
