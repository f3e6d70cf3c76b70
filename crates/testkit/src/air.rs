//! A seeded air simulator: UDP payload lengths in → sniffed [`Observation`]s out.
//!
//! Models what a monitor-mode device sees when a phone broadcasts through an AP: every datagram
//! is a ToDS frame from the phone and, when [`Air::both_copies`] is set, a FromDS re-broadcast
//! from the AP, each with its own sequence counter and overhead. On top of that it can lose
//! frames independently per copy, repeat frames as 802.11 retries, reorder neighbouring
//! datagrams before they get sequence numbers, and interleave foreign stations' frames and the
//! phone's own unrelated broadcasts.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use wifiprov_sniff::{Direction, Instant, Mac, Observation};

/// The phone's MAC in simulations.
pub const PHONE: Mac = [0xa0, 0xcb, 0xfd, 0x77, 0x00, 0x02];
/// The AP's BSSID in simulations.
pub const AP: Mac = [0x24, 0x0a, 0xc4, 0x77, 0x00, 0x01];

/// Channel conditions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Air {
    /// Seed of the random generator (print it in failing tests).
    pub seed: u64,
    /// Probability that the sniffer misses a frame (each copy independently).
    pub loss: f64,
    /// Whether the sniffer also hears the AP's FromDS copy.
    pub both_copies: bool,
    /// Overhead of the ToDS copy (frame length − UDP payload).
    pub overhead_to_ap: u16,
    /// Overhead of the FromDS copy.
    pub overhead_from_ap: u16,
    /// Probability that a received frame is heard again as a retry (same sequence, Retry set).
    pub retry: f64,
    /// Probability that a datagram swaps places with the next one before transmission.
    pub reorder: f64,
    /// Foreign frames (other stations, other BSS) per datagram, on average.
    pub noise: f64,
    /// Probability that the phone sends one unrelated broadcast before a datagram (same SA,
    /// random length; it takes a sequence number).
    pub phone_noise: f64,
    /// Milliseconds between datagrams.
    pub gap_ms: u64,
    /// The phone's MAC.
    pub phone: Mac,
    /// The AP's BSSID.
    pub bssid: Mac,
}

impl Default for Air {
    fn default() -> Self {
        Self {
            seed: 0,
            loss: 0.0,
            both_copies: true,
            overhead_to_ap: 76,
            overhead_from_ap: 76,
            retry: 0.0,
            reorder: 0.0,
            noise: 0.0,
            phone_noise: 0.0,
            gap_ms: 8,
            phone: PHONE,
            bssid: AP,
        }
    }
}

impl Air {
    /// Conditions with the given seed and loss, defaults otherwise.
    #[must_use]
    pub fn lossy(seed: u64, loss: f64) -> Self {
        Self {
            seed,
            loss,
            ..Self::default()
        }
    }

    /// Hostile air with the given seed: 10 % loss, 20 % retries, 5 % reordering of adjacent
    /// datagrams, on average one other station's frame per datagram, 5 % of the phone's own other
    /// broadcasts (which take sequence numbers), both copies, 4 ms between datagrams.
    #[must_use]
    pub fn hostile(seed: u64) -> Self {
        Self {
            seed,
            loss: 0.1,
            retry: 0.2,
            reorder: 0.05,
            noise: 1.0,
            phone_noise: 0.05,
            gap_ms: 4,
            ..Self::default()
        }
    }

    /// Transmits `lengths` (UDP payload lengths in sending order) and returns what the sniffer
    /// hears, in air order.
    #[must_use]
    pub fn transmit(&self, lengths: &[u16]) -> Vec<Observation> {
        let datagrams: Vec<(u16, Mac)> = lengths.iter().map(|&l| (l, [0xff; 6])).collect();
        self.transmit_to(&datagrams)
    }

    /// Like [`transmit`](Self::transmit), with each datagram's 802.11 destination address
    /// (e.g. `01:00:5e:..` for multicast). Observation `at` is the datagram's index × `gap_ms`.
    #[must_use]
    pub fn transmit_to(&self, datagrams: &[(u16, Mac)]) -> Vec<Observation> {
        let slots: Vec<u64> = (0..datagrams.len() as u64)
            .map(|i| i * self.gap_ms)
            .collect();
        self.transmit_slots(datagrams, &slots)
    }

    /// Like [`transmit`](Self::transmit), with each datagram's sending time in milliseconds
    /// (`(at, len)` in sending order, e.g. a sender's real schedule with its pauses and
    /// slow-downs); `gap_ms` is not used. Reordering swaps datagrams, not their time slots.
    #[must_use]
    pub fn transmit_at(&self, timed: &[(u64, u16)]) -> Vec<Observation> {
        let datagrams: Vec<(u16, Mac)> = timed.iter().map(|&(_, l)| (l, [0xff; 6])).collect();
        let slots: Vec<u64> = timed.iter().map(|&(at, _)| at).collect();
        self.transmit_slots(&datagrams, &slots)
    }

    /// Transmits `datagrams`, the i-th one sent at `slots[i]` ms.
    fn transmit_slots(&self, datagrams: &[(u16, Mac)], slots: &[u64]) -> Vec<Observation> {
        let mut rng = StdRng::seed_from_u64(self.seed);
        let mut order: Vec<(u16, Mac)> = datagrams.to_vec();
        let mut i = 0;
        while i + 1 < order.len() {
            if rng.gen_bool(self.reorder.clamp(0.0, 1.0)) {
                order.swap(i, i + 1);
                i += 2;
            } else {
                i += 1;
            }
        }
        let mut out = Vec::with_capacity(order.len() * 2);
        let (mut phone_seq, mut ap_seq) = (rng.gen_range(0..4096u16), rng.gen_range(0..4096u16));
        for (&(len, destination), &at) in order.iter().zip(slots) {
            while rng.gen_bool((self.noise / (1.0 + self.noise)).clamp(0.0, 1.0)) {
                out.push(self.foreign(&mut rng, at));
            }
            if rng.gen_bool(self.phone_noise.clamp(0.0, 1.0)) {
                let junk = rng.gen_range(20..1400u16);
                self.emit(
                    &mut rng,
                    &mut out,
                    (junk, [0xff; 6]),
                    at,
                    &mut phone_seq,
                    &mut ap_seq,
                );
            }
            self.emit(
                &mut rng,
                &mut out,
                (len, destination),
                at,
                &mut phone_seq,
                &mut ap_seq,
            );
        }
        out
    }

    fn emit(
        &self,
        rng: &mut StdRng,
        out: &mut Vec<Observation>,
        (len, destination): (u16, Mac),
        at: u64,
        phone_seq: &mut u16,
        ap_seq: &mut u16,
    ) {
        let mut to = Observation::new(
            Instant::from_millis(at),
            len + self.overhead_to_ap,
            self.phone,
            self.bssid,
        );
        to.protected = true;
        to.destination = destination;
        to.channel = 6;
        to.sequence = Some(*phone_seq);
        *phone_seq = (*phone_seq + 1) & 0x0fff;
        self.hear(rng, out, to);
        if self.both_copies {
            let mut from = to;
            from.len = len + self.overhead_from_ap;
            from.direction = Direction::FromAp;
            from.transmitter = self.bssid;
            from.receiver = [0xff; 6];
            from.at = Instant::from_millis(at + 1);
            from.sequence = Some(*ap_seq);
            *ap_seq = (*ap_seq + 1) & 0x0fff;
            self.hear(rng, out, from);
        }
    }

    fn hear(&self, rng: &mut StdRng, out: &mut Vec<Observation>, obs: Observation) {
        if !rng.gen_bool(self.loss.clamp(0.0, 1.0)) {
            out.push(obs);
        }
        if rng.gen_bool(self.retry.clamp(0.0, 1.0)) {
            let mut again = obs;
            again.retry = true;
            if !rng.gen_bool(self.loss.clamp(0.0, 1.0)) {
                out.push(again);
            }
        }
    }

    fn foreign(&self, rng: &mut StdRng, at: u64) -> Observation {
        let mut source = [0x02, 0, 0, 0, 0, 0];
        rng.fill(&mut source[3..]);
        let mut obs = Observation::new(
            Instant::from_millis(at),
            rng.gen_range(40..1600),
            source,
            if rng.gen_bool(0.5) {
                self.bssid
            } else {
                [0x02, 0x11, 0x22, 0x33, 0x44, 0x55]
            },
        );
        obs.sequence = Some(rng.gen_range(0..4096));
        obs.direction = if rng.gen_bool(0.5) {
            Direction::ToAp
        } else {
            Direction::FromAp
        };
        obs.protected = rng.gen_bool(0.5);
        obs.qos = rng.gen_bool(0.5);
        obs.channel = 6;
        obs
    }
}

/// Interleaves two observation streams as two phones sending at once would be heard.
#[must_use]
pub fn interleave(seed: u64, a: &[Observation], b: &[Observation]) -> Vec<Observation> {
    let mut rng = StdRng::seed_from_u64(seed);
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(a.len() + b.len());
    while i < a.len() || j < b.len() {
        let take_a = j >= b.len() || (i < a.len() && rng.gen_bool(0.5));
        if take_a {
            out.push(a[i]);
            i += 1;
        } else {
            out.push(b[j]);
            j += 1;
        }
    }
    out
}

/// A seeded byte source (xorshift64), e.g. for encoder padding and IVs that differ per test but
/// repeat per seed.
pub fn seeded_bytes(seed: u64) -> impl FnMut() -> u8 {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 24) as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lossless_air_carries_every_datagram_twice_with_overheads() {
        let obs = Air::default().transmit(&[515, 514, 100]);
        assert_eq!(obs.len(), 6);
        assert_eq!(obs[0].len, 591);
        assert_eq!(obs[1].direction, Direction::FromAp);
        assert_eq!(obs[1].source, PHONE);
        assert_eq!(obs[2].sequence, obs[0].sequence.map(|s| (s + 1) & 0xfff));
    }

    #[test]
    fn timed_datagrams_keep_their_times_and_untimed_ones_their_gaps() {
        let obs = Air::default().transmit_at(&[(1000, 100), (1300, 101), (1315, 102)]);
        let at: Vec<u64> = obs.iter().map(|o| o.at.as_millis()).collect();
        assert_eq!(at, [1000, 1001, 1300, 1301, 1315, 1316]);
        assert_eq!(obs[2].len, 101 + 76);
        let obs = Air::default().transmit(&[100, 101]);
        assert_eq!(obs[2].at.as_millis(), 8);
    }

    #[test]
    fn loss_is_about_what_was_asked() {
        let lengths = vec![100u16; 10_000];
        let heard = Air::lossy(7, 0.3).transmit(&lengths).len();
        assert!((13_000..15_000).contains(&heard), "{heard}");
    }
}
