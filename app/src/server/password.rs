//! Password hashing with argon2id (the crate's defaults: 19 MiB, 2 passes) and the
//! rules a new password must meet.

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};

use crate::error::{AppError, AppResult};

pub fn hash(password: &str) -> AppResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| {
            tracing::error!(error = %e, "password hashing failed");
            AppError::Internal
        })
}

pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash of a random password, verified against when the email is unknown so that a
/// wrong email costs as long as a wrong password (no enumeration by timing).
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(b"not a real password, only for timing", &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// Runs `work` (a hash or a verification) on a blocking thread, at most one per core at
/// a time. Each argon2 run takes 19 MiB and a core for tens of milliseconds: without a
/// bound, a burst of sign-ups or logins would claim a blocking thread and 19 MiB each,
/// hundreds at once. The others wait their turn here, asynchronously and cheaply.
/// `None` if the work panicked.
pub async fn bounded<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    let permits = PERMITS.get_or_init(|| tokio::sync::Semaphore::new(max_concurrent()));
    let _permit = permits.acquire().await.ok()?;
    tokio::task::spawn_blocking(work).await.ok()
}

/// How many password hashes may run at once: one per core.
fn max_concurrent() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    };

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn at_most_one_hash_per_core_runs_at_once() {
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let jobs = 4 * max_concurrent() + 4;
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..jobs {
            let (running, peak) = (running.clone(), peak.clone());
            set.spawn(bounded(move || {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                let ok = verify("a password", &hash("a password").unwrap());
                running.fetch_sub(1, Ordering::SeqCst);
                ok
            }));
        }
        let done = set.join_all().await;
        assert_eq!(done, vec![Some(true); jobs]);
        let peak = peak.load(Ordering::SeqCst);
        assert!(peak >= 1 && peak <= max_concurrent(), "peak {peak}");
    }
}
