//! Channel hopping for sniffing decoders, sans-IO: the caller tunes the radio when told to.
//!
//! A device that does not know the phone's channel visits each candidate channel for `dwell`,
//! in order, until a decoder reports [`Progress::Locked`](crate::Progress::Locked); then it stays
//! there. If the lock is released (the decoder idled out), hopping resumes.
//!
//! Default dwell, 100 ms: ESP-TOUCH v1 sends its guide code (the only thing a decoder can lock on)
//! for 2 s out of every 6 s, one quartet per 32 ms. Thirteen channels at 100 ms take 1.3 s, so every
//! guide phase contains at least one whole dwell on the phone's channel, long enough for three
//! quartets (a lock needs one). Shorter dwells spend a larger share of time retuning; longer ones
//! miss guide phases (13 × 150 ms = 1.95 s is Espressif's default and only just fits).

use crate::Instant;

/// Most channels a hopper cycles through.
pub const MAX_CHANNELS: usize = 16;

/// What the radio should do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tune {
    /// Switch to this channel.
    Channel(u8),
    /// Stay where you are.
    Stay,
}

/// The hopping schedule.
#[derive(Debug, Clone)]
pub struct Hopper {
    channels: [u8; MAX_CHANNELS],
    count: usize,
    dwell_ms: u64,
    index: usize,
    since: Option<Instant>,
    locked: Option<u8>,
    /// The channel the radio was last told to use.
    tuned: Option<u8>,
    /// When the current visit began (lingering is bounded from there).
    visit: Option<Instant>,
}

/// The longest a visit may be stretched by [`Hopper::linger`], in dwells (a guide-like pattern
/// that never confirms cannot hold the hopper on one channel).
pub const MAX_LINGER_DWELLS: u64 = 5;

impl Hopper {
    /// Hops over `channels` (at most [`MAX_CHANNELS`]; empty means 1..=13) every `dwell_ms`.
    #[must_use]
    pub fn new(channels: &[u8], dwell_ms: u64) -> Self {
        let mut list = [0u8; MAX_CHANNELS];
        let mut count = 0;
        for (slot, &c) in list.iter_mut().zip(channels.iter().filter(|&&c| c != 0)) {
            *slot = c;
            count += 1;
        }
        if count == 0 {
            for (slot, c) in list.iter_mut().zip(1..=13u8) {
                *slot = c;
            }
            count = 13;
        }
        Self {
            channels: list,
            count,
            dwell_ms: dwell_ms.max(1),
            index: 0,
            since: None,
            locked: None,
            tuned: None,
            visit: None,
        }
    }

    /// The channel the radio should be on now (or was told to be on).
    #[must_use]
    pub fn channel(&self) -> u8 {
        self.locked
            .unwrap_or_else(|| self.channels.get(self.index).copied().unwrap_or(1))
    }

    /// Call regularly (at least every dwell): says whether to retune.
    pub fn poll(&mut self, now: Instant) -> Tune {
        let tune = self.next(now);
        match tune {
            Tune::Channel(c) if self.tuned == Some(c) => Tune::Stay,
            Tune::Channel(c) => {
                self.tuned = Some(c);
                tune
            }
            Tune::Stay => Tune::Stay,
        }
    }

    fn next(&mut self, now: Instant) -> Tune {
        if let Some(channel) = self.locked {
            // The lock names the channel the frame was heard on; the radio may have hopped on
            // since (frames arrive after the retune): go back there.
            return Tune::Channel(channel);
        }
        match self.since {
            None => {
                self.since = Some(now);
                self.visit = Some(now);
                Tune::Channel(self.channel())
            }
            Some(since) if now.millis_since(since) >= self.dwell_ms => {
                self.index = (self.index + 1) % self.count;
                self.since = Some(now);
                self.visit = Some(now);
                // `poll` drops it if the radio is already there (a single-channel list).
                Tune::Channel(self.channel())
            }
            Some(_) => Tune::Stay,
        }
    }

    /// When the hopper next wants to retune, if hopping.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match (self.locked, self.since) {
            (None, Some(since)) => Some(Instant::from_millis(since.as_millis() + self.dwell_ms)),
            (None, None) => Some(Instant::from_millis(0)),
            (Some(_), _) => None,
        }
    }

    /// A decoder heard something promising on `channel` (a first guide that needs confirming):
    /// if that is the channel being visited, stay at least `extra_ms` more from `now`, but never
    /// more than [`MAX_LINGER_DWELLS`] dwells in all since the visit began. Ignored while locked
    /// or for another channel (a frame processed after the hop).
    pub fn linger(&mut self, channel: u8, now: Instant, extra_ms: u64) {
        if self.locked.is_some() || channel != self.channel() {
            return;
        }
        let (Some(since), Some(visit)) = (self.since, self.visit) else {
            return;
        };
        // The visit ends at `since + dwell`; move `since` so that it ends at `now + extra`,
        // within the bound.
        let wanted = now.as_millis().saturating_add(extra_ms);
        let bound = visit
            .as_millis()
            .saturating_add(self.dwell_ms.saturating_mul(MAX_LINGER_DWELLS));
        let end = wanted.min(bound);
        let since_ms = end.saturating_sub(self.dwell_ms);
        if since_ms > since.as_millis() {
            self.since = Some(Instant::from_millis(since_ms));
        }
    }

    /// A decoder locked on `channel` (0 = the current one): stop hopping there.
    pub fn lock(&mut self, channel: u8) {
        self.locked = Some(if channel == 0 {
            self.channel()
        } else {
            channel
        });
    }

    /// The lock is gone: resume hopping from the next channel.
    pub fn unlock(&mut self, now: Instant) {
        if let Some(channel) = self.locked.take() {
            if let Some(i) = self
                .channels
                .iter()
                .take(self.count)
                .position(|&c| c == channel)
            {
                self.index = i;
            }
            self.since = Some(now);
            self.visit = Some(now);
        }
    }

    /// True while locked.
    #[must_use]
    pub const fn is_locked(&self) -> bool {
        self.locked.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    #[test]
    fn visits_every_channel_in_order_then_wraps() {
        let mut h = Hopper::new(&[], 100);
        let mut visited = [0u8; 14];
        let mut n = 0;
        for ms in (0..=1300).step_by(10) {
            if let Tune::Channel(c) = h.poll(at(ms)) {
                visited[n] = c;
                n += 1;
            }
        }
        assert_eq!(visited, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 1]);
    }

    #[test]
    fn lingering_stretches_the_visit_within_the_bound() {
        let mut h = Hopper::new(&[], 100);
        assert_eq!(h.poll(at(0)), Tune::Channel(1));
        assert_eq!(h.poll(at(100)), Tune::Channel(2));
        // A hint at 180 ms on channel 2: stay until 180 + 300.
        h.linger(2, at(180), 300);
        assert_eq!(h.poll(at(200)), Tune::Stay);
        assert_eq!(h.poll(at(470)), Tune::Stay);
        assert_eq!(h.poll(at(480)), Tune::Channel(3));
        // Hints for another channel (a late frame) or while locked change nothing.
        h.linger(2, at(490), 300);
        assert_eq!(h.poll(at(580)), Tune::Channel(4));
        // Hints every 50 ms cannot keep the hopper past five dwells from the visit's start.
        let mut left = None;
        for ms in (580..2000).step_by(50) {
            h.linger(4, at(ms), 300);
            if let Tune::Channel(c) = h.poll(at(ms)) {
                left = Some((c, ms));
                break;
            }
        }
        assert_eq!(left, Some((5, 1080)));
        h.lock(0);
        h.linger(5, at(1100), 300);
        assert_eq!(h.poll(at(5000)), Tune::Stay);
    }

    #[test]
    fn a_single_channel_is_tuned_once() {
        let mut h = Hopper::new(&[6], 100);
        assert_eq!(h.poll(at(0)), Tune::Channel(6));
        for ms in (100..2000).step_by(50) {
            assert_eq!(h.poll(at(ms)), Tune::Stay);
        }
    }

    #[test]
    fn a_lock_heard_on_the_previous_channel_retunes_back() {
        let mut h = Hopper::new(&[], 100);
        assert_eq!(h.poll(at(0)), Tune::Channel(1));
        assert_eq!(h.poll(at(100)), Tune::Channel(2));
        // A frame captured on channel 1 is processed after the hop to 2.
        h.lock(1);
        assert_eq!(h.poll(at(110)), Tune::Channel(1));
        assert_eq!(h.poll(at(5000)), Tune::Stay);
    }

    #[test]
    fn stays_when_locked_and_resumes_after_unlock() {
        let mut h = Hopper::new(&[1, 6, 11], 100);
        assert_eq!(h.poll(at(0)), Tune::Channel(1));
        assert_eq!(h.poll(at(100)), Tune::Channel(6));
        h.lock(0);
        assert_eq!(h.channel(), 6);
        assert_eq!(h.poll(at(10_000)), Tune::Stay);
        assert_eq!(h.poll_timeout(), None);
        h.unlock(at(10_000));
        assert_eq!(h.poll(at(10_050)), Tune::Stay);
        assert_eq!(h.poll(at(10_100)), Tune::Channel(11));
    }

    #[test]
    fn every_guide_phase_has_a_full_dwell_on_each_channel() {
        // 2 s guide phase starting at any offset into the hop cycle.
        for start in (0..1300).step_by(7) {
            let mut h = Hopper::new(&[], 100);
            let mut current = 0;
            let mut entered = 0;
            let mut full = [false; 14];
            for ms in 0..(start + 2000) {
                if let Tune::Channel(c) = h.poll(at(ms)) {
                    current = c;
                    entered = ms;
                }
                if ms >= start && ms + 1 - entered.max(start) >= 100 {
                    full[usize::from(current)] = true;
                }
            }
            assert!(full[1..=13].iter().all(|&f| f), "start {start}: {full:?}");
        }
    }
}
