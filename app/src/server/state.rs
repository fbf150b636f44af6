use std::{sync::Arc, time::Duration};

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::error::{AppError, AppResult};

use super::{db::Db, hub::Hub, limiter::LoginLimiter, session::SessionKeys};

/// Everything a request handler or server function needs, behind one `Arc`: axum and
/// leptos clone the state several times per request (the matched route's service, the
/// server function's context, each `state()`), and as a struct of sixteen reference
/// counts and an optional string each clone and drop showed in the write path's
/// profile (issue 12). Reads go through `Deref` to [`Shared`].
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> AppState {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// leptos_axum's handlers take the options from the state.
impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> LeptosOptions {
        state.leptos_options.clone()
    }
}

/// What [`AppState`] holds.
pub struct Shared {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub sessions: Arc<SessionKeys>,
    pub login_limiter: Arc<LoginLimiter>,
    pub signup_limiter: Arc<super::limiter::SignupLimiter>,
    pub hub: Arc<Hub>,
    /// Places for live sockets, per instance, user and address (`LiveSettings`).
    pub live_slots: Arc<super::slots::LiveSlots>,
    pub live: LiveSettings,
    pub metrics: Arc<super::metrics::Metrics>,
    /// Per-user limits on expensive actions (one-minute windows).
    pub action_limiter: Arc<super::limiter::ActionLimiter>,
    /// Whose forwarding headers name the client (`client_addr`).
    pub trusted_proxies: Arc<super::client_addr::TrustedProxies>,
}

/// Timing and size of each live socket (documented in docs/PROTOCOL.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveSettings {
    /// How often the server pings (legacy: 25 s).
    pub ping_every: Duration,
    /// A socket silent for this long (no frame, no pong) is closed (legacy: 60 s).
    pub silence_limit: Duration,
    /// Frames queued per socket before it is told to resume (4008).
    pub queue_len: usize,
    /// A socket that accepts no bytes for this long is dropped without ceremony.
    pub write_timeout: Duration,
    /// Open sockets this instance serves at most; beyond, upgrades get 503 and clients
    /// poll. DESIGN aims at 15,000 (the process may hold 20,000 open files here).
    pub max_connections: usize,
    /// Open sockets one user may hold on this instance; beyond, upgrades get 429.
    pub max_per_user: usize,
    /// Open sockets from one client address on this instance; beyond, upgrades get 429.
    pub max_per_address: usize,
    /// A socket replays at most this many events at once (all its streams together)…
    pub replay_burst: u32,
    /// …and earns back this many a second; a stream whose backlog is larger than what
    /// is left is answered `resync` instead of replayed.
    pub replay_per_sec: u32,
}

impl LiveSettings {
    pub fn slot_limits(&self) -> super::slots::SlotLimits {
        super::slots::SlotLimits {
            per_instance: self.max_connections,
            per_user: self.max_per_user,
            per_address: self.max_per_address,
        }
    }
}

impl Default for LiveSettings {
    fn default() -> Self {
        LiveSettings {
            ping_every: Duration::from_secs(25),
            silence_limit: Duration::from_secs(60),
            queue_len: 256,
            write_timeout: Duration::from_secs(10),
            max_connections: 15_000,
            max_per_user: 20,
            max_per_address: 500,
            replay_burst: 5_000,
            replay_per_sec: 500,
        }
    }
}

/// The application state, provided to every server function by `leptos_routes_with_context`.
pub fn state() -> AppResult<AppState> {
    leptos::prelude::use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the server function context");
        AppError::Internal
    })
}
