//! Password hashing with argon2id (the crate's defaults: 19 MiB, 2 passes), in memory
//! reused from one hash to the next, at most one hash per core at a time.

use std::sync::Mutex;

use argon2::{
    password_hash::{rand_core::OsRng, Output, ParamsString, PasswordHash, Salt, SaltString},
    Algorithm, Argon2, Block, Params, Version,
};

use crate::error::{AppError, AppResult};

/// A new PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) for `password`, with
/// the crate's default parameters and a random salt: the same string
/// `Argon2::default().hash_password` makes, computed in a reused memory (`with_memory`).
pub fn hash(password: &str) -> AppResult<String> {
    let failed = |e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, "password hashing failed");
        AppError::Internal
    };
    let argon = Argon2::default();
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; Salt::MAX_LENGTH];
    let salt_bytes = salt
        .as_salt()
        .decode_b64(&mut salt_bytes)
        .map_err(|e| failed(&e))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    with_memory(argon.params().block_count(), |memory| {
        argon.hash_password_into_with_memory(password.as_bytes(), salt_bytes, &mut out, memory)
    })
    .map_err(|e| failed(&e))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon.params()).map_err(|e| failed(&e))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| failed(&e))?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the stored PHC string, whatever argon2 variant, version
/// and parameters it names (as `PasswordVerifier::verify_password` decides, with the
/// same constant-time comparison of the outputs).
pub fn verify(password: &str, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(version), Ok(params)) = (
        Algorithm::try_from(parsed.algorithm),
        parsed
            .version
            .map_or(Ok(Version::default()), Version::try_from),
        Params::try_from(&parsed),
    ) else {
        return false;
    };
    let mut salt_bytes = [0u8; Salt::MAX_LENGTH];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let argon = Argon2::new(algorithm, version, params);
    let mut out = [0u8; Output::MAX_LENGTH];
    let out = &mut out[..expected.len()];
    let computed = with_memory(argon.params().block_count(), |memory| {
        argon.hash_password_into_with_memory(password.as_bytes(), salt_bytes, &mut *out, memory)
    });
    // `Output`'s equality is constant-time.
    computed.is_ok() && Output::new(out).is_ok_and(|out| out == expected)
}

/// Runs `work` with `blocks` argon2 blocks of memory (19 MiB at the default cost),
/// taken from a pool of at most one per concurrent hash (`bounded`) and given back
/// after. Allocating them afresh for each hash left a few hundred MiB with the
/// allocator after a burst of sign-ups (each of glibc's per-thread arenas kept its own
/// 19 MiB); reused, the process holds one memory per core. Contents need no clearing:
/// argon2 writes every block before it reads it.
fn with_memory<T>(blocks: usize, work: impl FnOnce(&mut [Block]) -> T) -> T {
    static POOL: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());
    let pooled = blocks == Params::default().block_count();
    let mut memory = pooled
        .then(|| POOL.lock().unwrap_or_else(|e| e.into_inner()).pop())
        .flatten()
        .unwrap_or_else(|| vec![Block::default(); blocks]);
    let done = work(&mut memory);
    if pooled {
        let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
        if pool.len() < max_concurrent() {
            pool.push(memory);
        }
    }
    done
}

/// A hash of a random password, verified against when the email is unknown so that a
/// wrong email costs as long as a wrong password (no enumeration by timing).
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash("not a real password, only for timing").unwrap_or_default())
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

    /// Hashes stored before the memory was pooled (made by the crate's own
    /// `hash_password`) still verify, and the new ones verify with the crate's verifier.
    #[test]
    fn hashes_match_the_crates_own_both_ways() {
        use argon2::{PasswordHasher, PasswordVerifier};
        let old = Argon2::default()
            .hash_password(b"correct horse battery", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert!(verify("correct horse battery", &old));
        assert!(!verify("correct horse batterz", &old));

        let new = hash("correct horse battery").unwrap();
        assert!(new.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{new}");
        let parsed = PasswordHash::new(&new).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse battery", &parsed)
            .is_ok());
        assert!(verify("correct horse battery", &new));
        assert!(!verify("correct horse battery ", &new));
        assert_ne!(
            new,
            hash("correct horse battery").unwrap(),
            "a fresh salt each time"
        );
    }

    /// Other parameters and variants are read from the string (outside the pool).
    #[test]
    fn other_parameters_are_honoured() {
        use argon2::PasswordHasher;
        let params = Params::new(8 * 1024, 1, 1, Some(24)).unwrap();
        for algorithm in [Algorithm::Argon2i, Algorithm::Argon2d, Algorithm::Argon2id] {
            let stored = Argon2::new(algorithm, Version::V0x10, params.clone())
                .hash_password(b"a long passphrase", &SaltString::generate(&mut OsRng))
                .unwrap()
                .to_string();
            assert!(verify("a long passphrase", &stored), "{stored}");
            assert!(!verify("a long passphrasf", &stored), "{stored}");
        }
    }

    #[test]
    fn malformed_hashes_never_match() {
        let good = hash("a long passphrase").unwrap();
        let no_hash = good.rsplit_once('$').unwrap().0.to_owned();
        for stored in [
            "",
            "plain",
            "$argon2id$",
            no_hash.as_str(),
            "$scrypt$ln=4,r=8,p=1$c2FsdHNhbHQ$aGFzaA",
        ] {
            assert!(!verify("a long passphrase", stored), "{stored:?}");
        }
    }

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
