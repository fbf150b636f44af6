//! Attempt limits in fixed windows: failed logins per account and per client address,
//! sign-ups per client address, and expensive actions (bulk deletes, imports,
//! notification sends) per user.
//!
//! Where the counts live follows the database (`Store::for_db`): on PostgreSQL, in its
//! `rate_limits` table, so every instance counts the same attempts and a restart forgets
//! nothing; on SQLite (one instance), in this process, each map pruned so it stays
//! bounded. A refusal is `AppError::RateLimited` with the seconds left in the window.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use sqlx::AnyPool;

use super::{
    clock::now_ms,
    db::{Backend, Db},
};
use crate::{
    error::{AppError, AppResult},
    model::ids::UserId,
};

const MAX_KEYS: usize = 100_000;

/// Where a limiter keeps its counts.
#[derive(Clone)]
pub enum Store {
    /// In this process: for a single instance (SQLite), and for tests.
    InProcess,
    /// In the database's `rate_limits` table: shared by all instances, kept across
    /// restarts.
    Shared(AnyPool),
}

impl Store {
    /// Shared on PostgreSQL (where several instances may run), in process on SQLite.
    pub fn for_db(db: &Db) -> Store {
        match db.backend {
            Backend::Postgres => Store::Shared(db.pool.clone()),
            Backend::Sqlite => Store::InProcess,
        }
    }
}

/// Counts per key in fixed windows: a key's window starts with its first count and
/// its count starts afresh once the window has passed.
struct FixedWindows {
    window: Duration,
    counts: Counts,
}

enum Counts {
    InProcess(Mutex<HashMap<String, (Instant, u32)>>),
    Shared(AnyPool),
}

/// The most a shared count records (a count that only grows, such as failed logins,
/// stops there).
const COUNT_CAP: i64 = 1_000_000_000;

impl FixedWindows {
    fn new(window: Duration, store: &Store) -> Self {
        let counts = match store {
            Store::InProcess => Counts::InProcess(Mutex::new(HashMap::new())),
            Store::Shared(pool) => Counts::Shared(pool.clone()),
        };
        FixedWindows { window, counts }
    }

    fn refused(retry_after_secs: u64) -> AppError {
        AppError::RateLimited { retry_after_secs }
    }

    /// Refused while `key` has `limit` counts in its current window.
    async fn check(&self, key: &str, limit: u32) -> AppResult<()> {
        match &self.counts {
            Counts::InProcess(map) => {
                let map = lock(map);
                wait(&map, self.window, key, limit, Instant::now()).map_err(Self::refused)
            }
            Counts::Shared(pool) => {
                let now = now_ms();
                let row: Option<(i64, i64)> = sqlx::query_as(
                    "SELECT count, expires_at FROM rate_limits WHERE key = $1 AND expires_at > $2",
                )
                .bind(key)
                .bind(now)
                .fetch_optional(pool)
                .await?;
                match row {
                    Some((count, expires_at)) if count >= i64::from(limit) => {
                        Err(Self::refused(seconds_left(expires_at, now, self.window)))
                    }
                    _ => Ok(()),
                }
            }
        }
    }

    async fn count(&self, key: &str) -> AppResult<()> {
        match &self.counts {
            Counts::InProcess(map) => {
                count_in(&mut lock(map), self.window, key, Instant::now());
                Ok(())
            }
            Counts::Shared(pool) => self
                .upsert(pool, key, COUNT_CAP, now_ms())
                .await
                .map(|_| ()),
        }
    }

    /// Checks and counts in one step (under one lock, or in one statement), so
    /// concurrent attempts cannot all pass a check before any of them is counted.
    async fn attempt(&self, key: &str, limit: u32) -> AppResult<()> {
        match &self.counts {
            Counts::InProcess(map) => {
                let now = Instant::now();
                let mut map = lock(map);
                wait(&map, self.window, key, limit, now).map_err(Self::refused)?;
                count_in(&mut map, self.window, key, now);
                Ok(())
            }
            Counts::Shared(pool) => {
                let now = now_ms();
                let (count, expires_at) = self.upsert(pool, key, i64::from(limit), now).await?;
                if count > i64::from(limit) {
                    Err(Self::refused(seconds_left(expires_at, now, self.window)))
                } else {
                    Ok(())
                }
            }
        }
    }

    async fn clear(&self, key: &str) -> AppResult<()> {
        match &self.counts {
            Counts::InProcess(map) => {
                lock(map).remove(key);
                Ok(())
            }
            Counts::Shared(pool) => {
                sqlx::query("DELETE FROM rate_limits WHERE key = $1")
                    .bind(key)
                    .execute(pool)
                    .await?;
                Ok(())
            }
        }
    }

    /// Counts one attempt of `key` at `now` in the shared table, in one statement: a new window
    /// if the last one passed, else one more, except that a count at `limit` stays one
    /// above it (refused, and not counted further). Returns the count and when the
    /// window ends: a count above `limit` means this attempt is refused.
    async fn upsert(
        &self,
        pool: &AnyPool,
        key: &str,
        limit: i64,
        now: i64,
    ) -> AppResult<(i64, i64)> {
        let window = i64::try_from(self.window.as_millis()).unwrap_or(i64::MAX / 4);
        Ok(sqlx::query_as(
            "INSERT INTO rate_limits (key, count, expires_at) VALUES ($1, 1, $2 + $3) \
             ON CONFLICT (key) DO UPDATE SET \
               count = CASE WHEN rate_limits.expires_at <= $2 THEN 1 \
                            WHEN rate_limits.count >= $4 THEN $4 + 1 \
                            ELSE rate_limits.count + 1 END, \
               expires_at = CASE WHEN rate_limits.expires_at <= $2 THEN $2 + $3 \
                                 ELSE rate_limits.expires_at END \
             RETURNING count, expires_at",
        )
        .bind(key)
        .bind(now)
        .bind(window)
        .bind(limit)
        .fetch_one(pool)
        .await?)
    }
}

/// Forgets the shared counts whose window has passed (the retention job).
pub async fn prune(pool: &AnyPool, now_ms: i64) -> AppResult<u64> {
    Ok(
        sqlx::query("DELETE FROM rate_limits WHERE expires_at <= $1")
            .bind(now_ms)
            .execute(pool)
            .await?
            .rows_affected(),
    )
}

/// Whole seconds until `expires_at`, at least 1 and at most the window: a concurrent
/// attempt whose clock read came later may have opened the window after this
/// attempt's `now`, and no wait is longer than a window.
fn seconds_left(expires_at: i64, now: i64, window: Duration) -> u64 {
    u64::try_from((expires_at - now + 999) / 1000)
        .unwrap_or(1)
        .clamp(1, window.as_secs().max(1))
}

fn lock<K>(map: &Mutex<K>) -> std::sync::MutexGuard<'_, K> {
    map.lock().unwrap_or_else(|p| p.into_inner())
}

/// `Err(seconds to wait)` while `key` has `limit` counts in its current window.
fn wait(
    map: &HashMap<String, (Instant, u32)>,
    window: Duration,
    key: &str,
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

fn count_in(map: &mut HashMap<String, (Instant, u32)>, window: Duration, key: &str, now: Instant) {
    if map.len() >= MAX_KEYS {
        map.retain(|_, (start, _)| now.duration_since(*start) < window);
    }
    let entry = map.entry(key.to_owned()).or_insert((now, 0));
    if now.duration_since(entry.0) >= window {
        *entry = (now, 0);
    }
    entry.1 += 1;
}

/// Failed logins: an account, or a client address, is locked out for the rest of the
/// window once it reaches its limit.
pub struct LoginLimiter {
    per_account: u32,
    per_address: u32,
    failures: FixedWindows,
}

impl LoginLimiter {
    pub fn new(per_account: u32, per_address: u32, window: Duration, store: &Store) -> Self {
        LoginLimiter {
            per_account,
            per_address,
            failures: FixedWindows::new(window, store),
        }
    }

    /// Refused while either the account or the address is locked out.
    pub async fn check(&self, email: &str, address: &str) -> AppResult<()> {
        self.failures
            .check(&format!("login:account:{email}"), self.per_account)
            .await?;
        self.failures
            .check(&format!("login:address:{address}"), self.per_address)
            .await
    }

    pub async fn record_failure(&self, email: &str, address: &str) -> AppResult<()> {
        self.failures
            .count(&format!("login:account:{email}"))
            .await?;
        self.failures
            .count(&format!("login:address:{address}"))
            .await
    }

    /// A successful login clears the account's failures (not the address's).
    pub async fn record_success(&self, email: &str) -> AppResult<()> {
        self.failures.clear(&format!("login:account:{email}")).await
    }
}

/// Sign-ups per client address: every attempt that reaches the password hash counts,
/// made or refused, so one address cannot create accounts (and argon2 work) without end,
/// nor probe which emails have accounts faster than the limit.
pub struct SignupLimiter {
    per_address: u32,
    attempts: FixedWindows,
}

impl SignupLimiter {
    pub fn new(per_address: u32, window: Duration, store: &Store) -> Self {
        SignupLimiter {
            per_address,
            attempts: FixedWindows::new(window, store),
        }
    }

    /// Counts an attempt; refused once the address made its limit.
    pub async fn attempt(&self, address: &str) -> AppResult<()> {
        self.attempts
            .attempt(&format!("signup:{address}"), self.per_address)
            .await
    }
}

/// Limits on expensive actions per user (bulk deletes, imports, notification sends):
/// at most `limit` attempts per window per (user, action). Attempts are counted before
/// any work, valid or not.
pub struct ActionLimiter {
    counts: FixedWindows,
}

impl ActionLimiter {
    pub fn new(window: Duration, store: &Store) -> Self {
        ActionLimiter {
            counts: FixedWindows::new(window, store),
        }
    }

    /// Counts an attempt; refused once `limit` were made in the window.
    pub async fn attempt(
        &self,
        user_id: UserId,
        action: &'static str,
        limit: u32,
    ) -> AppResult<()> {
        self.counts
            .attempt(&format!("action:{user_id}:{action}"), limit)
            .await
    }
}

/// The in-process store's rules (the shared store is tested against a real database,
/// on SQLite and PostgreSQL, in `server/tests/api/auth.rs`).
#[cfg(test)]
mod tests {
    use super::*;

    /// A window opened by a concurrent attempt whose clock read came 500 ms after this
    /// one's still asks for at most the window's length.
    #[test]
    fn a_wait_is_never_longer_than_the_window() {
        let window = Duration::from_secs(60);
        assert_eq!(seconds_left(1_000 + 60_500, 1_000, window), 60);
        assert_eq!(seconds_left(1_000 + 59_001, 1_000, window), 60);
        assert_eq!(seconds_left(1_000 + 30_000, 1_000, window), 30);
        assert_eq!(
            seconds_left(1_000, 2_000, window),
            1,
            "already over: at least 1"
        );
    }

    fn wait_of(result: AppResult<()>) -> u64 {
        match result {
            Err(AppError::RateLimited { retry_after_secs }) => retry_after_secs,
            other => panic!("not refused: {other:?}"),
        }
    }

    #[tokio::test]
    async fn locks_an_account_after_its_limit_and_frees_it_on_success() {
        let l = LoginLimiter::new(3, 100, Duration::from_secs(60), &Store::InProcess);
        for _ in 0..3 {
            assert!(l.check("a@x", "1.1.1.1").await.is_ok());
            l.record_failure("a@x", "1.1.1.1").await.unwrap();
        }
        assert!(
            l.check("a@x", "2.2.2.2").await.is_err(),
            "the account is locked from any address"
        );
        assert!(
            l.check("b@x", "1.1.1.1").await.is_ok(),
            "other accounts are not"
        );
        l.record_success("a@x").await.unwrap();
        assert!(l.check("a@x", "1.1.1.1").await.is_ok());
    }

    #[tokio::test]
    async fn locks_an_address_across_accounts() {
        let l = LoginLimiter::new(100, 4, Duration::from_secs(60), &Store::InProcess);
        for i in 0..4 {
            l.record_failure(&format!("u{i}@x"), "9.9.9.9")
                .await
                .unwrap();
        }
        assert!(l.check("new@x", "9.9.9.9").await.is_err());
        assert!(l.check("new@x", "8.8.8.8").await.is_ok());
    }

    #[tokio::test]
    async fn window_expires() {
        let l = LoginLimiter::new(1, 100, Duration::from_millis(0), &Store::InProcess);
        l.record_failure("a@x", "1").await.unwrap();
        assert!(l.check("a@x", "1").await.is_ok());
    }

    #[tokio::test]
    async fn counts_sign_ups_per_address() {
        let limiter = SignupLimiter::new(2, Duration::from_secs(3600), &Store::InProcess);
        assert!(limiter.attempt("1.1.1.1").await.is_ok());
        assert!(limiter.attempt("1.1.1.1").await.is_ok());
        let wait = wait_of(limiter.attempt("1.1.1.1").await);
        assert!((3500..=3600).contains(&wait), "{wait}");
        assert!(limiter.attempt("2.2.2.2").await.is_ok(), "another address");
    }

    #[tokio::test]
    async fn counts_attempts_per_user_and_action() {
        let limiter = ActionLimiter::new(Duration::from_secs(60), &Store::InProcess);
        for _ in 0..3 {
            assert!(limiter.attempt(UserId(1), "bulk-delete", 3).await.is_ok());
        }
        let wait = wait_of(limiter.attempt(UserId(1), "bulk-delete", 3).await);
        assert!((1..=60).contains(&wait), "{wait}");
        assert!(
            limiter.attempt(UserId(2), "bulk-delete", 3).await.is_ok(),
            "another user"
        );
        assert!(
            limiter.attempt(UserId(1), "import", 3).await.is_ok(),
            "another action"
        );
    }

    #[tokio::test]
    async fn a_new_window_starts_afresh() {
        let limiter = ActionLimiter::new(Duration::from_millis(1), &Store::InProcess);
        assert!(limiter.attempt(UserId(1), "a", 1).await.is_ok());
        std::thread::sleep(Duration::from_millis(5));
        assert!(limiter.attempt(UserId(1), "a", 1).await.is_ok());
    }
}
