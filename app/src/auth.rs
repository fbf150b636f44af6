//! Accounts: register, log in, log out, and who am I.

use leptos::prelude::*;

use crate::error::AppError;

pub use crate::model::user::*;

/// The logged-in user, or `None`. Used by every page to decide what to show.
#[server(endpoint = "auth/me", input = crate::wire::Form)]
pub async fn current_user() -> Result<Option<SessionUser>, AppError> {
    let state = crate::server::state()?;
    crate::server::authz::current_user(&state).await
}

#[server(endpoint = "auth/register", input = crate::wire::Form)]
pub async fn register(
    email: String,
    display_name: String,
    password: String,
    #[server(default)] next: String,
) -> Result<SessionUser, AppError> {
    ssr::register(email, display_name, password, next).await
}

#[server(endpoint = "auth/login", input = crate::wire::Form)]
pub async fn login(
    email: String,
    password: String,
    #[server(default)] next: String,
) -> Result<SessionUser, AppError> {
    ssr::login(email, password, next).await
}

// `PostUrl`, not `wire::Form`: an `<ActionForm>` posts here, and it asks for `PostUrl`.
#[server(endpoint = "auth/logout")]
pub async fn logout() -> Result<(), AppError> {
    let state = crate::server::state()?;
    let res = expect_context::<leptos_axum::ResponseOptions>();
    res.append_header(http::header::SET_COOKIE, state.sessions.clear_cookie());
    leptos_axum::redirect("/login");
    Ok(())
}

#[cfg(feature = "ssr")]
mod ssr {
    use crate::error::AppResult;
    use std::net::SocketAddr;

    use axum::extract::ConnectInfo;
    use leptos::prelude::*;

    use super::*;
    use crate::model::ids::UserId;
    use crate::server::{db::is_unique_violation, events::Write, now_ms, password, state};

    fn start_session(
        state: &crate::server::AppState,
        user: &SessionUser,
        token_version: i64,
    ) -> AppResult<()> {
        state
            .sessions
            .send(&state.sessions.issue(user.id, token_version)?);
        Ok(())
    }

    /// The client's IP address, as the limits key it: the TCP peer, or behind a
    /// trusted proxy the address its forwarding headers name (`server::client_addr`).
    async fn client_address(state: &crate::server::AppState) -> String {
        let Ok(ConnectInfo(peer)) = leptos_axum::extract::<ConnectInfo<SocketAddr>>().await else {
            return "unknown".into();
        };
        // Read in place: the request head is not cloned for its headers.
        with_context::<http::request::Parts, _>(|parts| {
            state.trusted_proxies.client_ip(peer.ip(), &parts.headers)
        })
        .unwrap_or(peer.ip())
        .to_string()
    }

    pub async fn register(
        email: String,
        display_name: String,
        password: String,
        next: String,
    ) -> AppResult<SessionUser> {
        let state = state()?;
        let email = normalize_email(&email)?;
        let display_name = validate_display_name(&display_name)?;
        validate_password(&password, &email)?;
        // The personal workspace's zone: the browser's (`BrowserZone`'s cookie), else UTC.
        let time_zone = crate::server::zone::of_browser()
            .unwrap_or_else(|| crate::server::zone::DEFAULT.to_owned());
        // Counted once the input is valid, before the costly hash.
        let address = client_address(&state).await;
        state
            .signup_limiter
            .attempt(&address)
            .await
            .inspect_err(|_| tracing::warn!(%address, "sign-up refused by its limit"))?;
        let hash = {
            let password = password.clone();
            password::bounded(move || password::hash(&password))
                .await
                .ok_or(AppError::Internal)??
        };
        let now = now_ms();
        // The account does not exist yet: no one acts until it does (`set_actor`).
        let mut tx = Write::begin(&state.db, UserId(0), now).await?;
        let inserted = crate::server::db::insert_id(
            &mut tx,
            sqlx::query(
                "INSERT INTO users (email, display_name, password_hash, token_version, created_at) \
                 VALUES ($1, $2, $3, 0, $4)",
            )
            .bind(&email)
            .bind(&display_name)
            .bind(&hash)
            .bind(now),
        )
        .await;
        let user_id = match inserted {
            Ok(id) => UserId(id),
            Err(e) if is_unique_violation(&e) => {
                return Err(AppError::Conflict {
                    field: "email".into(),
                    message: "An account with this email already exists. Log in instead.".into(),
                })
            }
            Err(e) => return Err(e.into()),
        };
        tx.set_actor(user_id);
        let personal = format!("{display_name}'s workspace");
        crate::workspaces::ssr::create_workspace_tx(
            &mut tx,
            user_id,
            &personal,
            crate::model::workspace::WorkspaceKind::Personal,
            &time_zone,
            now,
        )
        .await?;
        tx.commit(&state.hub).await?;
        let user = SessionUser {
            id: user_id,
            email,
            display_name,
        };
        tracing::info!(user_id = user_id.0, "registered a new account");
        start_session(&state, &user, 0)?;
        leptos_axum::redirect(safe_next(&next));
        Ok(user)
    }

    pub async fn login(email: String, password: String, next: String) -> AppResult<SessionUser> {
        let state = state()?;
        let email = email.trim().to_lowercase();
        if email.is_empty() || email.len() > MAX_EMAIL_LEN {
            return Err(AppError::validation("email", "Enter your email address."));
        }
        if password.is_empty() || password.len() > 4 * MAX_PASSWORD_LEN {
            return Err(AppError::validation("password", "Enter your password."));
        }
        let address = client_address(&state).await;
        state
            .login_limiter
            .check(&email, &address)
            .await
            .inspect_err(|_| tracing::warn!(%address, "login refused by its limit"))?;
        let row: Option<(UserId, String, String, i64)> = sqlx::query_as(
            "SELECT id, display_name, password_hash, token_version FROM users WHERE email = $1",
        )
        .bind(&email)
        .fetch_optional(&state.db.pool)
        .await?;
        let stored = row
            .as_ref()
            .map(|r| r.2.clone())
            .unwrap_or_else(|| password::dummy_hash().to_owned());
        let ok = password::bounded(move || password::verify(&password, &stored))
            .await
            .unwrap_or(false);
        match row {
            Some((id, display_name, _, token_version)) if ok => {
                state.login_limiter.record_success(&email).await?;
                let user = SessionUser {
                    id,
                    email,
                    display_name,
                };
                start_session(&state, &user, token_version)?;
                leptos_axum::redirect(safe_next(&next));
                Ok(user)
            }
            _ => {
                state.login_limiter.record_failure(&email, &address).await?;
                Err(AppError::validation("password", "Wrong email or password."))
            }
        }
    }
}
