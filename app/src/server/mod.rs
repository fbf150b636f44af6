//! Server-only core shared by every server function: state, storage, sessions,
//! authorization. Compiled with the `ssr` feature only; nothing here reaches the WASM.

pub mod assets;
pub mod authz;
pub mod csp;
pub mod db;
pub mod hub;
pub mod limiter;
pub mod live;
pub mod metrics;
pub mod outbox;
pub mod password;
pub mod session;
pub mod slots;
pub mod state;

pub use state::AppState;

use crate::error::{AppError, AppResult};

/// The application state, provided to every server function by `leptos_routes_with_context`.
pub fn state() -> AppResult<AppState> {
    leptos::prelude::use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the server function context");
        AppError::Internal
    })
}

/// Current time in Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Today's date (UTC) as days since the epoch.
pub fn today_days() -> i64 {
    now_ms().div_euclid(86_400_000)
}
