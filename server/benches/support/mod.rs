//! What the benchmarks share: a release server process on a database, and statistics.

#![allow(dead_code)] // each bench uses its own part

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::{SystemTime, UNIX_EPOCH},
};

pub const PASSWORD: &str = "correct horse battery";

/// A server process, killed when dropped.
pub struct Instance {
    child: Child,
    pub base: String,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The server binary to run: `LIVELEDGER_BENCH_SERVER` (a copy of an earlier build,
/// for a before/after comparison), else the one cargo built.
pub fn server_binary() -> String {
    std::env::var("LIVELEDGER_BENCH_SERVER")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_server").to_owned())
}

/// Starts the release server on `database_url` (its files in a temporary directory
/// named after `name`) and waits until it listens.
pub fn start(database_url: &str, name: &str) -> Instance {
    let dir = std::env::temp_dir().join(format!("ll-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = Command::new(server_binary())
        .env("LIVELEDGER_ADDR", "127.0.0.1:0")
        .env("DATABASE_URL", database_url)
        .env("DATA_DIR", &dir)
        .env(
            "JWT_SECRET",
            "bench-secret-that-is-long-enough-for-hs256-0123456789",
        )
        .env("SIGNUP_LIMIT_PER_ADDRESS", "1000000")
        .env("LIVE_SOCKETS_PER_ADDRESS", "1000000")
        .env("LIVE_SOCKETS_PER_USER", "1000000")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the server");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = loop {
        let line = lines.next().expect("the server starts").unwrap();
        if let Some(url) = line.strip_prefix("LiveLedger is running at ") {
            break url.trim().to_owned();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    Instance { child, base }
}

/// A user signed up through the API, with the personal workspace sign-up gives them.
pub struct SignedUp {
    pub token: String,
    pub user_id: i64,
    pub workspace: i64,
}

/// Signs `email` up on the server at `base` and finds their personal workspace.
pub async fn sign_up(http: &reqwest::Client, base: &str, email: &str, name: &str) -> SignedUp {
    let res = http
        .post(format!("{base}/api/auth/register"))
        .form(&[
            ("email", email),
            ("display_name", name),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "sign-up: {}", res.status());
    let token = res.headers()["x-session-token"]
        .to_str()
        .unwrap()
        .to_owned();
    let me: serde_json::Value = res.json().await.unwrap();
    let list: serde_json::Value = http
        .post(format!("{base}/api/workspaces/list"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    SignedUp {
        token,
        user_id: me["id"].as_i64().unwrap(),
        workspace: list[0]["id"].as_i64().unwrap(),
    }
}

/// Adds a 1.00 EUR expense to workspace `ws` as the user of `token`.
pub async fn add_expense(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    ws: i64,
    description: &str,
) -> reqwest::Result<reqwest::Response> {
    http.post(format!("{base}/api/expenses/create"))
        .bearer_auth(token)
        .form(&[
            ("workspace_id", ws.to_string().as_str()),
            ("amount", "1.00"),
            ("currency", "EUR"),
            ("category", "Other"),
            ("description", description),
            ("date", "2026-12-01"),
        ])
        .send()
        .await
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// The numeric flags `--name value` on the command line, each starting at its default
/// in `flags`; an unknown flag or a value that is not a number at least 1 stops the run.
pub fn numeric_flags<const N: usize>(flags: [(&str, u64); N]) -> [u64; N] {
    numeric_flags_of(std::env::args().skip(1), flags)
}

/// `numeric_flags` over `args` (the command line less the program's name).
pub fn numeric_flags_of<const N: usize>(
    args: impl IntoIterator<Item = String>,
    mut flags: [(&str, u64); N],
) -> [u64; N] {
    let mut it = args.into_iter();
    while let Some(flag) = it.next() {
        if flag == "--bench" {
            continue;
        }
        let slot = flags
            .iter_mut()
            .find(|(name, _)| *name == flag)
            .unwrap_or_else(|| panic!("unknown flag {flag}"));
        slot.1 = it
            .next()
            .and_then(|v| v.parse().ok())
            .filter(|v| *v >= 1)
            .unwrap_or_else(|| panic!("{flag} wants a number of at least 1"));
    }
    flags.map(|(_, value)| value)
}

/// A database of its own on the PostgreSQL server of `BENCH_POSTGRES_URL` (default: the
/// local one), created for one bench run and dropped by [`FreshPostgres::drop_database`].
pub struct FreshPostgres {
    admin: sqlx::PgConnection,
    name: String,
    /// The new database's URL.
    pub url: String,
}

impl FreshPostgres {
    /// Creates `ll_bench_<bench>_<pid>`.
    pub async fn create(bench: &str) -> FreshPostgres {
        use sqlx::{Connection, Executor};
        let admin_url = std::env::var("BENCH_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let name = format!("ll_bench_{bench}_{}", std::process::id());
        let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap();
        let url = format!("{}/{name}", admin_url.rsplit_once('/').unwrap().0);
        FreshPostgres { admin, name, url }
    }

    /// CPU time (user + system) of the PostgreSQL backends serving this database now,
    /// from `/proc` (the server runs on this machine).
    pub async fn backends_cpu(&mut self) -> std::time::Duration {
        let pids: Vec<(i32,)> =
            sqlx::query_as("SELECT pid FROM pg_stat_activity WHERE datname = $1")
                .bind(&self.name)
                .fetch_all(&mut self.admin)
                .await
                .unwrap();
        pids.iter()
            .filter_map(|(pid,)| process_cpu(*pid as u32))
            .sum()
    }

    /// Drops the database, closing whatever is still connected to it.
    pub async fn drop_database(mut self) {
        use sqlx::Executor;
        self.admin
            .execute(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name).as_str())
            .await
            .unwrap();
    }
}

/// User + system CPU time a process has used so far (`/proc/<pid>/stat`); `None` once
/// it is gone.
pub fn process_cpu(pid: u32) -> Option<std::time::Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().ok()? + fields[12].parse::<u64>().ok()?;
    Some(std::time::Duration::from_secs_f64(
        ticks as f64 / clock_ticks() as f64,
    ))
}

/// The unit of `/proc/<pid>/stat`'s CPU times (`getconf CLK_TCK`).
pub fn clock_ticks() -> u64 {
    static TICKS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100)
    })
}
