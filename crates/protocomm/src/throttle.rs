//! Back-off for wrong proofs: the device's defence against online guessing of the security 1
//! proof of possession (and the security 2 password), which ESP-IDF does not have.
//!
//! The first [`Policy::free_failures`] wrong proofs cost nothing (a user mistyping the PoP).
//! After that, each wrong proof closes the door for a delay that starts at
//! [`Policy::first_delay_ms`] and doubles with every further wrong proof, up to
//! [`Policy::max_delay_ms`]; while it is closed every `prov-session` request is refused with
//! [`Error::Throttled`](crate::Error::Throttled) (without looking at it, so a guess made then is
//! not checked). A completed handshake resets the count. The state is the device's, not a
//! connection's: reconnecting, a new BLE peer or another cookie do not reset it.
//!
//! With the default policy an attacker gets 3 free guesses, then at most one guess per minute
//! after about two minutes (2 + 4 + 8 + 16 + 32 s, then 60 s each): ~1 440 guesses a day instead of
//! thousands per second. A legitimate user locked out by an attacker's guesses waits at most
//! [`Policy::max_delay_ms`]. Offline guessing from a captured security 1 handshake is not
//! slowed by this (see `docs/security.md`).
//!
//! Sans-IO: the caller passes a monotonic time in milliseconds.

/// The back-off policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Wrong proofs allowed without any delay.
    pub free_failures: u32,
    /// Delay after the first wrong proof beyond the free ones.
    pub first_delay_ms: u64,
    /// The longest delay.
    pub max_delay_ms: u64,
}

impl Default for Policy {
    /// 3 free wrong proofs, then 2 s doubling up to 60 s.
    fn default() -> Self {
        Self {
            free_failures: 3,
            first_delay_ms: 2_000,
            max_delay_ms: 60_000,
        }
    }
}

/// Counts wrong proofs and says when the next attempt is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Throttle {
    policy: Policy,
    failures: u32,
    not_before_ms: u64,
}

impl Throttle {
    /// No failures yet.
    #[must_use]
    pub fn new(policy: Policy) -> Self {
        Self {
            policy,
            failures: 0,
            not_before_ms: 0,
        }
    }

    /// `Ok` if an attempt is allowed at `now_ms`, else the milliseconds still to wait.
    ///
    /// # Errors
    /// The wait, while the door is closed.
    pub fn check(&self, now_ms: u64) -> Result<(), u64> {
        match self.not_before_ms.checked_sub(now_ms) {
            Some(wait) if wait > 0 => Err(wait),
            _ => Ok(()),
        }
    }

    /// A wrong proof at `now_ms`; returns the delay it imposes (0 while failures are free).
    pub fn failed(&mut self, now_ms: u64) -> u64 {
        self.failures = self.failures.saturating_add(1);
        let beyond = self.failures.saturating_sub(self.policy.free_failures);
        let delay = if beyond == 0 {
            0
        } else {
            let doublings = (beyond - 1).min(63);
            self.policy
                .first_delay_ms
                .checked_shl(doublings)
                .filter(|d| d >> doublings == self.policy.first_delay_ms)
                .unwrap_or(u64::MAX)
                .min(self.policy.max_delay_ms)
        };
        self.not_before_ms = now_ms.saturating_add(delay);
        delay
    }

    /// A completed handshake: the count starts over.
    pub fn succeeded(&mut self) {
        self.failures = 0;
        self.not_before_ms = 0;
    }

    /// Wrong proofs since the last success.
    #[must_use]
    pub fn failures(&self) -> u32 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_failures_then_doubling_delays_up_to_the_cap() {
        let mut t = Throttle::new(Policy::default());
        let mut now = 1_000;
        let mut delays = alloc::vec::Vec::new();
        for _ in 0..9 {
            assert_eq!(t.check(now), Ok(()), "allowed once the delay is over");
            let delay = t.failed(now);
            delays.push(delay);
            if delay > 0 {
                assert_eq!(t.check(now), Err(delay));
                assert_eq!(t.check(now + delay - 1), Err(1));
            }
            now += delay;
        }
        assert_eq!(
            delays,
            [0, 0, 0, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000]
        );
        t.succeeded();
        assert_eq!((t.check(now), t.failures()), (Ok(()), 0));
        assert_eq!(t.failed(now), 0, "a success resets the count");
    }

    #[test]
    fn huge_counts_and_times_saturate() {
        let mut t = Throttle::new(Policy {
            free_failures: 0,
            first_delay_ms: u64::MAX / 3,
            max_delay_ms: u64::MAX,
        });
        for _ in 0..200 {
            t.failed(u64::MAX - 5);
        }
        assert_eq!(t.check(u64::MAX), Ok(()));
        assert!(t.check(0).is_err());
    }
}
