//! Login attempt limits, per account and per client address: a fixed window of failed
//! attempts. In memory, so per instance; the map is pruned so it stays bounded.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

pub struct LoginLimiter {
    per_account: u32,
    per_address: u32,
    window: Duration,
    failures: Mutex<HashMap<String, (Instant, u32)>>,
}

const MAX_KEYS: usize = 100_000;

impl LoginLimiter {
    pub fn new(per_account: u32, per_address: u32, window: Duration) -> Self {
        LoginLimiter {
            per_account,
            per_address,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn keys(email: &str, address: &str) -> [(String, bool); 2] {
        [
            (format!("account:{email}"), true),
            (format!("address:{address}"), false),
        ]
    }

    /// `Err(seconds)` while either the account or the address is locked out.
    pub fn check(&self, email: &str, address: &str) -> Result<(), u64> {
        let now = Instant::now();
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        for (key, is_account) in Self::keys(email, address) {
            let limit = if is_account {
                self.per_account
            } else {
                self.per_address
            };
            if let Some((start, count)) = map.get(&key) {
                let elapsed = now.duration_since(*start);
                if elapsed < self.window && *count >= limit {
                    return Err((self.window - elapsed).as_secs().max(1));
                }
            }
        }
        Ok(())
    }

    pub fn record_failure(&self, email: &str, address: &str) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_KEYS {
            let window = self.window;
            map.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        for (key, _) in Self::keys(email, address) {
            let entry = map.entry(key).or_insert((now, 0));
            if now.duration_since(entry.0) >= self.window {
                *entry = (now, 0);
            }
            entry.1 += 1;
        }
    }

    /// A successful login clears the account's failures (not the address's).
    pub fn record_success(&self, email: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&format!("account:{email}"));
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

/// Limits on expensive actions per user (bulk deletes, later imports and notification
/// sends): at most `limit` attempts per fixed window per (user, action). Attempts are
/// counted before any work, valid or not. In memory, per instance, bounded.
pub struct ActionLimiter {
    window: Duration,
    counts: Mutex<HashMap<(i64, &'static str), (Instant, u32)>>,
}

impl ActionLimiter {
    pub fn new(window: Duration) -> Self {
        ActionLimiter {
            window,
            counts: Mutex::new(HashMap::new()),
        }
    }

    /// Counts an attempt; `Err(seconds to wait)` once `limit` were made in the window.
    pub fn attempt(&self, user_id: i64, action: &'static str, limit: u32) -> Result<(), u64> {
        let now = Instant::now();
        let mut map = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_KEYS {
            let window = self.window;
            map.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let entry = map.entry((user_id, action)).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        if entry.1 >= limit {
            return Err((self.window - now.duration_since(entry.0)).as_secs().max(1));
        }
        entry.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod action_tests {
    use super::*;

    #[test]
    fn counts_attempts_per_user_and_action() {
        let limiter = ActionLimiter::new(Duration::from_secs(60));
        for _ in 0..3 {
            assert!(limiter.attempt(1, "bulk-delete", 3).is_ok());
        }
        let wait = limiter.attempt(1, "bulk-delete", 3).unwrap_err();
        assert!((1..=60).contains(&wait), "{wait}");
        assert!(limiter.attempt(2, "bulk-delete", 3).is_ok(), "another user");
        assert!(limiter.attempt(1, "import", 3).is_ok(), "another action");
    }

    #[test]
    fn a_new_window_starts_afresh() {
        let limiter = ActionLimiter::new(Duration::from_millis(1));
        assert!(limiter.attempt(1, "a", 1).is_ok());
        std::thread::sleep(Duration::from_millis(5));
        assert!(limiter.attempt(1, "a", 1).is_ok());
    }
}
