//! Attempt limits in fixed windows: failed logins per account and per client address,
//! sign-ups per client address, and expensive actions (bulk deletes, imports,
//! notification sends) per user. In
//! memory, so per instance; each map is pruned so it stays bounded.

use crate::model::ids::UserId;
use std::{
    collections::HashMap,
    hash::Hash,
    sync::Mutex,
    time::{Duration, Instant},
};

const MAX_KEYS: usize = 100_000;

/// Counts per key in fixed windows: a key's window starts with its first count and
/// its count starts afresh once the window has passed.
struct FixedWindows<K> {
    window: Duration,
    counts: Mutex<HashMap<K, (Instant, u32)>>,
}

impl<K: Eq + Hash> FixedWindows<K> {
    fn new(window: Duration) -> Self {
        FixedWindows {
            window,
            counts: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, (Instant, u32)>> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `Err(seconds to wait)` while `key` has `limit` counts in its current window.
    fn wait(
        map: &HashMap<K, (Instant, u32)>,
        window: Duration,
        key: &K,
        limit: u32,
        now: Instant,
    ) -> Result<(), u64> {
        match map.get(key) {
            Some((start, count)) if now.duration_since(*start) < window && *count >= limit => {
                Err((window - now.duration_since(*start)).as_secs().max(1))
            }
            _ => Ok(()),
        }
    }

    fn check(&self, key: &K, limit: u32) -> Result<(), u64> {
        Self::wait(&self.lock(), self.window, key, limit, Instant::now())
    }

    fn count_in(map: &mut HashMap<K, (Instant, u32)>, window: Duration, key: K, now: Instant) {
        if map.len() >= MAX_KEYS {
            map.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let entry = map.entry(key).or_insert((now, 0));
        if now.duration_since(entry.0) >= window {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }

    fn count(&self, key: K) {
        Self::count_in(&mut self.lock(), self.window, key, Instant::now());
    }

    /// Checks and counts in one step (under one lock).
    fn attempt(&self, key: K, limit: u32) -> Result<(), u64> {
        let now = Instant::now();
        let mut map = self.lock();
        Self::wait(&map, self.window, &key, limit, now)?;
        Self::count_in(&mut map, self.window, key, now);
        Ok(())
    }

    fn clear(&self, key: &K) {
        self.lock().remove(key);
    }
}

/// Failed logins: an account, or a client address, is locked out for the rest of the
/// window once it reaches its limit.
pub struct LoginLimiter {
    per_account: u32,
    per_address: u32,
    failures: FixedWindows<String>,
}

impl LoginLimiter {
    pub fn new(per_account: u32, per_address: u32, window: Duration) -> Self {
        LoginLimiter {
            per_account,
            per_address,
            failures: FixedWindows::new(window),
        }
    }

    /// `Err(seconds)` while either the account or the address is locked out.
    pub fn check(&self, email: &str, address: &str) -> Result<(), u64> {
        self.failures
            .check(&format!("account:{email}"), self.per_account)?;
        self.failures
            .check(&format!("address:{address}"), self.per_address)
    }

    pub fn record_failure(&self, email: &str, address: &str) {
        self.failures.count(format!("account:{email}"));
        self.failures.count(format!("address:{address}"));
    }

    /// A successful login clears the account's failures (not the address's).
    pub fn record_success(&self, email: &str) {
        self.failures.clear(&format!("account:{email}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_an_account_after_its_limit_and_frees_it_on_success() {
        let l = LoginLimiter::new(3, 100, Duration::from_secs(60));
        for _ in 0..3 {
            assert!(l.check("a@x", "1.1.1.1").is_ok());
            l.record_failure("a@x", "1.1.1.1");
        }
        assert!(
            l.check("a@x", "2.2.2.2").is_err(),
            "the account is locked from any address"
        );
        assert!(l.check("b@x", "1.1.1.1").is_ok(), "other accounts are not");
        l.record_success("a@x");
        assert!(l.check("a@x", "1.1.1.1").is_ok());
    }

    #[test]
    fn locks_an_address_across_accounts() {
        let l = LoginLimiter::new(100, 4, Duration::from_secs(60));
        for i in 0..4 {
            l.record_failure(&format!("u{i}@x"), "9.9.9.9");
        }
        assert!(l.check("new@x", "9.9.9.9").is_err());
        assert!(l.check("new@x", "8.8.8.8").is_ok());
    }

    #[test]
    fn window_expires() {
        let l = LoginLimiter::new(1, 100, Duration::from_millis(0));
        l.record_failure("a@x", "1");
        assert!(l.check("a@x", "1").is_ok());
    }
}

/// Sign-ups per client address: every attempt that reaches the password hash counts,
/// made or refused, so one address cannot create accounts (and argon2 work) without end,
/// nor probe which emails have accounts faster than the limit.
pub struct SignupLimiter {
    per_address: u32,
    attempts: FixedWindows<String>,
}

impl SignupLimiter {
    pub fn new(per_address: u32, window: Duration) -> Self {
        SignupLimiter {
            per_address,
            attempts: FixedWindows::new(window),
        }
    }

    /// Counts an attempt; `Err(seconds to wait)` once the address made its limit.
    pub fn attempt(&self, address: &str) -> Result<(), u64> {
        self.attempts.attempt(address.to_owned(), self.per_address)
    }
}

#[cfg(test)]
mod signup_tests {
    use super::*;

    #[test]
    fn counts_sign_ups_per_address() {
        let limiter = SignupLimiter::new(2, Duration::from_secs(3600));
        assert!(limiter.attempt("1.1.1.1").is_ok());
        assert!(limiter.attempt("1.1.1.1").is_ok());
        let wait = limiter.attempt("1.1.1.1").unwrap_err();
        assert!((3500..=3600).contains(&wait), "{wait}");
        assert!(limiter.attempt("2.2.2.2").is_ok(), "another address");
    }
}

/// Limits on expensive actions per user (bulk deletes, imports, notification sends):
/// at most `limit` attempts per window per (user, action). Attempts are counted before
/// any work, valid or not.
pub struct ActionLimiter {
    counts: FixedWindows<(UserId, &'static str)>,
}

impl ActionLimiter {
    pub fn new(window: Duration) -> Self {
        ActionLimiter {
            counts: FixedWindows::new(window),
        }
    }

    /// Counts an attempt; `Err(seconds to wait)` once `limit` were made in the window.
    pub fn attempt(&self, user_id: UserId, action: &'static str, limit: u32) -> Result<(), u64> {
        self.counts.attempt((user_id, action), limit)
    }
}

#[cfg(test)]
mod action_tests {
    use super::*;

    #[test]
    fn counts_attempts_per_user_and_action() {
        let limiter = ActionLimiter::new(Duration::from_secs(60));
        for _ in 0..3 {
            assert!(limiter.attempt(UserId(1), "bulk-delete", 3).is_ok());
        }
        let wait = limiter.attempt(UserId(1), "bulk-delete", 3).unwrap_err();
        assert!((1..=60).contains(&wait), "{wait}");
        assert!(
            limiter.attempt(UserId(2), "bulk-delete", 3).is_ok(),
            "another user"
        );
        assert!(
            limiter.attempt(UserId(1), "import", 3).is_ok(),
            "another action"
        );
    }

    #[test]
    fn a_new_window_starts_afresh() {
        let limiter = ActionLimiter::new(Duration::from_millis(1));
        assert!(limiter.attempt(UserId(1), "a", 1).is_ok());
        std::thread::sleep(Duration::from_millis(5));
        assert!(limiter.attempt(UserId(1), "a", 1).is_ok());
    }
}
