//! Login throttling: after a few consecutive failures for one username, further attempts
//! are refused (429) for a delay that doubles with each failure, up to 15 minutes.
//!
//! Keyed by the username as typed (lowercased), whether or not the account exists, so the
//! throttle itself does not reveal which accounts exist. A successful login resets it. State is
//! in memory: it bounds online guessing per process (NIST SP 800-63B §3.2.2) without a
//! permanent lockout an attacker could impose on a victim.

use std::{
    collections::HashMap,
    sync::{Mutex, MutexGuard},
    time::Duration,
};

use chrono::{DateTime, Utc};

const FIRST_DELAY: Duration = Duration::from_secs(1);
const MAX_DELAY: Duration = Duration::from_secs(15 * 60);
/// Failures older than this are forgotten.
const MEMORY: Duration = Duration::from_secs(15 * 60);
/// Upper bound on tracked usernames, so a spray of random names cannot exhaust memory.
const MAX_TRACKED: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: DateTime<Utc>,
    locked_until: Option<DateTime<Utc>>,
}

pub struct LoginThrottle {
    free_failures: u32,
    entries: Mutex<HashMap<String, Failures>>,
}

impl LoginThrottle {
    /// `free_failures` consecutive failures are allowed before delays start; 0 turns it off.
    pub fn new(free_failures: u32) -> Self {
        Self {
            free_failures,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The table, or `None` when throttling is off. A poisoned lock still holds valid counts.
    fn entries(&self) -> Option<MutexGuard<'_, HashMap<String, Failures>>> {
        (self.free_failures > 0).then(|| {
            self.entries
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        })
    }

    /// `Err(retry_after)` while `username` is locked.
    pub fn check(&self, username: &str, now: DateTime<Utc>) -> Result<(), Duration> {
        let Some(entries) = self.entries() else {
            return Ok(());
        };
        match entries.get(&key(username)).and_then(|f| f.locked_until) {
            Some(until) if until > now => Err((until - now).to_std().unwrap_or(FIRST_DELAY)),
            _ => Ok(()),
        }
    }

    pub fn record_failure(&self, username: &str, now: DateTime<Utc>) {
        let Some(mut entries) = self.entries() else {
            return;
        };
        if entries.len() >= MAX_TRACKED {
            entries.retain(|_, f| is_remembered(f, now));
            if entries.len() >= MAX_TRACKED {
                return;
            }
        }
        let fresh = Failures {
            count: 0,
            last: now,
            locked_until: None,
        };
        let entry = entries.entry(key(username)).or_insert(fresh);
        if !is_remembered(entry, now) {
            *entry = fresh;
        }
        entry.count += 1;
        entry.last = now;
        if entry.count >= self.free_failures {
            let doublings = (entry.count - self.free_failures).min(20);
            let delay = FIRST_DELAY.saturating_mul(1 << doublings).min(MAX_DELAY);
            entry.locked_until = chrono::Duration::from_std(delay).ok().map(|d| now + d);
        }
    }

    pub fn record_success(&self, username: &str) {
        if let Some(mut entries) = self.entries() {
            entries.remove(&key(username));
        }
    }
}

fn key(username: &str) -> String {
    username.chars().take(64).collect::<String>().to_lowercase()
}

fn is_remembered(failures: &Failures, now: DateTime<Utc>) -> bool {
    let recent =
        chrono::Duration::from_std(MEMORY).is_ok_and(|memory| now - failures.last < memory);
    recent || failures.locked_until.is_some_and(|until| until > now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    #[test]
    fn the_first_failures_are_free() {
        let throttle = LoginThrottle::new(5);
        for _ in 0..4 {
            throttle.record_failure("alice", at(0));
        }
        assert!(throttle.check("alice", at(0)).is_ok());
    }

    #[test]
    fn further_failures_lock_for_doubling_delays() {
        let throttle = LoginThrottle::new(5);
        for _ in 0..5 {
            throttle.record_failure("alice", at(0));
        }
        assert_eq!(throttle.check("Alice", at(0)), Err(Duration::from_secs(1)));
        assert!(throttle.check("alice", at(1)).is_ok());
        throttle.record_failure("alice", at(1));
        assert_eq!(throttle.check("alice", at(1)), Err(Duration::from_secs(2)));
        throttle.record_failure("alice", at(3));
        assert_eq!(throttle.check("alice", at(3)), Err(Duration::from_secs(4)));
    }

    #[test]
    fn delays_are_capped() {
        let throttle = LoginThrottle::new(1);
        for _ in 0..40 {
            throttle.record_failure("alice", at(0));
        }
        assert_eq!(throttle.check("alice", at(0)), Err(MAX_DELAY));
    }

    #[test]
    fn a_success_resets_and_other_names_are_unaffected() {
        let throttle = LoginThrottle::new(2);
        throttle.record_failure("alice", at(0));
        throttle.record_failure("alice", at(0));
        assert!(throttle.check("alice", at(0)).is_err());
        assert!(throttle.check("bob", at(0)).is_ok());
        throttle.record_success("alice");
        assert!(throttle.check("alice", at(0)).is_ok());
    }

    #[test]
    fn old_failures_are_forgotten() {
        let throttle = LoginThrottle::new(3);
        throttle.record_failure("alice", at(0));
        throttle.record_failure("alice", at(0));
        throttle.record_failure("alice", at(16 * 60));
        assert!(
            throttle.check("alice", at(16 * 60)).is_ok(),
            "a single recent failure"
        );
    }

    #[test]
    fn zero_turns_it_off() {
        let throttle = LoginThrottle::new(0);
        for _ in 0..100 {
            throttle.record_failure("alice", at(0));
        }
        assert!(throttle.check("alice", at(0)).is_ok());
    }
}
