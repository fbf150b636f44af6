//! Configuration from the environment (documented in the README).

use std::{net::SocketAddr, path::PathBuf, time::Duration};

/// A secret that never shows up in logs or `Debug` output.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Secret(bytes.into())
    }
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen (`LIVELEDGER_ADDR`, else `LEPTOS_SITE_ADDR`, else 127.0.0.1:3000).
    pub addr: SocketAddr,
    /// `DATABASE_URL`: `sqlite://…` or `postgres://…`; default `sqlite://data/liveledger.db`.
    pub database_url: String,
    pub db_max_connections: u32,
    /// `JWT_SECRET`; in development a generated one is kept in `data/jwt_secret`.
    pub jwt_secret: Secret,
    pub session_ttl: Duration,
    /// Origins allowed to post forms and call server functions besides the site itself
    /// (`ALLOWED_ORIGINS`, comma-separated, e.g. `https://ledger.example.com`).
    pub allowed_origins: Vec<String>,
    /// Serve the session cookie with `Secure` (`COOKIE_SECURE=true`, or a `PUBLIC_URL` with https).
    pub secure_cookie: bool,
    /// Compiled site (`LEPTOS_SITE_ROOT`, default `target/site`).
    pub site_root: String,
    pub login_limit_per_account: u32,
    pub login_limit_per_address: u32,
    pub login_limit_window: Duration,
    /// Sign-ups per client address per hour (`SIGNUP_LIMIT_PER_ADDRESS`, default 20).
    pub signup_limit_per_address: u32,
    /// How long logged events are kept for resuming clients (`EVENT_RETENTION_SECS`,
    /// default 24 h, never below the legacy 3600 s).
    pub event_retention: Duration,
    /// The live socket's heartbeat, queue and limits (see `LiveSettings`). The heartbeat
    /// and queue are not read from the environment (the legacy values are the product's,
    /// tests shorten them); the socket limits per user and per client address are
    /// (`LIVE_SOCKETS_PER_USER`, `LIVE_SOCKETS_PER_ADDRESS`).
    pub live: app::server::state::LiveSettings,
    /// `OPERATOR_TOKEN` (at least 32 characters): the bearer token of the operator's
    /// endpoints (`/metrics`, `/ops/...`). Unset: those endpoints answer 404.
    pub operator_token: Option<Secret>,
    /// A request not answered within this long gets 408 (`REQUEST_TIMEOUT_SECS`, 30).
    pub request_timeout: Duration,
    /// Reverse proxies whose `Forwarded` / `X-Forwarded-For` name the client
    /// (`TRUSTED_PROXIES`: addresses and CIDR ranges, comma-separated; default none).
    pub trusted_proxies: app::server::client_addr::TrustedProxies,
}

/// The shortest event retention accepted: the legacy apps' event TTL.
pub const MIN_EVENT_RETENTION_SECS: u64 = 3600;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is not valid: {1}")]
    Invalid(&'static str, String),
    #[error("could not read or create the development JWT secret at {0}: {1}")]
    Secret(String, std::io::Error),
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parse<T: std::str::FromStr>(name: &'static str, default: T) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match var(name) {
        Some(v) => v
            .trim()
            .parse()
            .map_err(|e: T::Err| ConfigError::Invalid(name, e.to_string())),
        None => Ok(default),
    }
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        let data_dir = PathBuf::from(var("DATA_DIR").unwrap_or_else(|| "data".into()));
        let addr = match var("LIVELEDGER_ADDR").or_else(|| var("LEPTOS_SITE_ADDR")) {
            Some(a) => a.parse().map_err(|e: std::net::AddrParseError| {
                ConfigError::Invalid("LIVELEDGER_ADDR", e.to_string())
            })?,
            None => SocketAddr::from(([127, 0, 0, 1], 3000)),
        };
        let database_url = var("DATABASE_URL")
            .unwrap_or_else(|| format!("sqlite://{}/liveledger.db", data_dir.display()));
        let jwt_secret = match var("JWT_SECRET") {
            Some(s) if s.len() >= 32 => Secret::new(s.into_bytes()),
            Some(_) => {
                return Err(ConfigError::Invalid(
                    "JWT_SECRET",
                    "use at least 32 characters".into(),
                ))
            }
            None => dev_secret(&data_dir)?,
        };
        let operator_token = match var("OPERATOR_TOKEN") {
            Some(t) if t.len() >= 32 => Some(Secret::new(t.into_bytes())),
            Some(_) => {
                return Err(ConfigError::Invalid(
                    "OPERATOR_TOKEN",
                    "use at least 32 characters".into(),
                ))
            }
            None => None,
        };
        let public_https = var("PUBLIC_URL").is_some_and(|u| u.starts_with("https://"));
        Ok(Config {
            addr,
            database_url,
            db_max_connections: parse("DATABASE_MAX_CONNECTIONS", 10)?,
            jwt_secret,
            session_ttl: Duration::from_secs(parse("SESSION_TTL_SECS", 7 * 24 * 3600)?),
            allowed_origins: var("ALLOWED_ORIGINS")
                .map(|v| {
                    v.split(',')
                        .map(|o| o.trim().trim_end_matches('/').to_owned())
                        .filter(|o| !o.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            secure_cookie: parse("COOKIE_SECURE", public_https)?,
            site_root: var("LEPTOS_SITE_ROOT").unwrap_or_else(|| "target/site".into()),
            login_limit_per_account: parse("LOGIN_LIMIT_PER_ACCOUNT", 5)?,
            login_limit_per_address: parse("LOGIN_LIMIT_PER_ADDRESS", 30)?,
            login_limit_window: Duration::from_secs(parse("LOGIN_LIMIT_WINDOW_SECS", 15 * 60)?),
            signup_limit_per_address: parse("SIGNUP_LIMIT_PER_ADDRESS", 20)?,
            event_retention: {
                let secs: u64 = parse("EVENT_RETENTION_SECS", 24 * 3600)?;
                if secs < MIN_EVENT_RETENTION_SECS {
                    return Err(ConfigError::Invalid(
                        "EVENT_RETENTION_SECS",
                        format!("use at least {MIN_EVENT_RETENTION_SECS}"),
                    ));
                }
                Duration::from_secs(secs)
            },
            live: {
                let defaults = app::server::state::LiveSettings::default();
                app::server::state::LiveSettings {
                    max_per_user: parse("LIVE_SOCKETS_PER_USER", defaults.max_per_user)?,
                    max_per_address: parse("LIVE_SOCKETS_PER_ADDRESS", defaults.max_per_address)?,
                    ..defaults
                }
            },
            operator_token,
            request_timeout: Duration::from_secs(parse("REQUEST_TIMEOUT_SECS", 30)?.max(1)),
            trusted_proxies: app::server::client_addr::TrustedProxies::parse(
                &var("TRUSTED_PROXIES").unwrap_or_default(),
            )
            .map_err(|e| ConfigError::Invalid("TRUSTED_PROXIES", e))?,
        })
    }
}

/// The development secret: read from `data/jwt_secret`, or generated and stored there.
fn dev_secret(data_dir: &std::path::Path) -> Result<Secret, ConfigError> {
    let path = data_dir.join("jwt_secret");
    let err = |e| ConfigError::Secret(path.display().to_string(), e);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim();
        if existing.len() >= 32 {
            tracing::warn!(path = %path.display(), "JWT_SECRET is not set: using the development secret stored on disk");
            return Ok(Secret::new(existing.as_bytes().to_vec()));
        }
    }
    std::fs::create_dir_all(data_dir).map_err(err)?;
    let mut bytes = [0u8; 32];
    getrandom(&mut bytes).map_err(err)?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    write_private(&path, &hex).map_err(err)?;
    tracing::warn!(path = %path.display(), "JWT_SECRET is not set: generated a development secret and stored it on disk");
    Ok(Secret::new(hex.into_bytes()))
}

fn getrandom(buf: &mut [u8]) -> std::io::Result<()> {
    use std::io::Read;
    std::fs::File::open("/dev/urandom")?.read_exact(buf)
}

fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    options.open(path)?.write_all(contents.as_bytes())
}
