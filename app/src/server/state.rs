use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use super::{db::Db, hub::Hub, limiter::LoginLimiter, session::SessionKeys};

/// Everything a request handler or server function needs. Cheap to clone.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub sessions: Arc<SessionKeys>,
    pub login_limiter: Arc<LoginLimiter>,
    pub hub: Arc<Hub>,
}
