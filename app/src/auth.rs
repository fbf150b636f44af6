//! Accounts: register, log in, log out, and who am I.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub id: i64,
    pub email: String,
    pub display_name: String,
}

pub const MIN_PASSWORD_LEN: usize = 10;
pub const MAX_PASSWORD_LEN: usize = 128;
pub const MAX_EMAIL_LEN: usize = 254;
pub const MAX_NAME_LEN: usize = 80;

/// Lower-cased, trimmed email, if it looks like one.
pub fn normalize_email(raw: &str) -> AppResult<String> {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= MAX_EMAIL_LEN
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
                && email.matches('@').count() == 1
        });
    if valid {
        Ok(email)
    } else {
        Err(AppError::validation(
            "email",
            "Enter a valid email address, like name@example.com.",
        ))
    }
}

pub fn validate_display_name(raw: &str) -> AppResult<String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(AppError::validation("display_name", "Enter your name."));
    }
    if name.chars().count() > MAX_NAME_LEN || name.chars().any(|c| c.is_control()) {
        return Err(AppError::validation(
            "display_name",
            format!("Use at most {MAX_NAME_LEN} characters."),
        ));
    }
    Ok(name.to_owned())
}

/// A password must be long enough, not absurdly long, not the email and not a
/// well-known weak one.
pub fn validate_password(password: &str, email: &str) -> AppResult<()> {
    const WEAK: &[&str] = &[
        "password",
        "1234567890",
        "qwertyuiop",
        "0123456789",
        "passwordpassword",
        "letmeinplease",
        "iloveyou12",
    ];
    let n = password.chars().count();
    let lower = password.to_lowercase();
    let err = |m: &str| Err(AppError::validation("password", m));
    if n < MIN_PASSWORD_LEN {
        return err("Use at least 10 characters.");
    }
    if n > MAX_PASSWORD_LEN {
        return err("Use at most 128 characters.");
    }
    if lower == email || WEAK.iter().any(|w| lower.starts_with(w)) {
        return err("This password is too easy to guess. Try a short sentence.");
    }
    if password
        .chars()
        .collect::<std::collections::HashSet<_>>()
        .len()
        < 4
    {
        return err("Use a mix of at least 4 different characters.");
    }
    Ok(())
}

/// Where to go after logging in: a path on this site, never another origin.
pub fn safe_next(next: &str) -> &str {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && next.len() <= 512
        && !next.chars().any(|c| c.is_control());
    if ok {
        next
    } else {
        "/"
    }
}

/// The logged-in user, or `None`. Used by every page to decide what to show.
#[server(endpoint = "auth/me")]
pub async fn current_user() -> Result<Option<SessionUser>, AppError> {
    let state = crate::server::state()?;
    crate::server::authz::current_user(&state).await
}

#[server(endpoint = "auth/register")]
pub async fn register(
    email: String,
    display_name: String,
    password: String,
    #[server(default)] next: String,
) -> Result<SessionUser, AppError> {
    ssr::register(email, display_name, password, next).await
}

#[server(endpoint = "auth/login")]
pub async fn login(
    email: String,
    password: String,
    #[server(default)] next: String,
) -> Result<SessionUser, AppError> {
    ssr::login(email, password, next).await
}

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
    use std::net::SocketAddr;

    use axum::extract::ConnectInfo;
    use leptos::prelude::*;

    use super::*;
    use crate::server::{db::is_unique_violation, now_ms, password, state};

    fn start_session(
        state: &crate::server::AppState,
        user: &SessionUser,
        token_version: i64,
    ) -> AppResult<()> {
        let token = state.sessions.issue(user.id, token_version)?;
        let res = expect_context::<leptos_axum::ResponseOptions>();
        res.append_header(http::header::SET_COOKIE, state.sessions.cookie(&token));
        // The token also goes into a header so API clients can use it as a bearer token.
        if let Ok(v) = http::HeaderValue::from_str(&token) {
            res.insert_header(http::HeaderName::from_static("x-session-token"), v);
        }
        Ok(())
    }

    /// The client's IP address, as the limits key it.
    async fn client_address() -> String {
        leptos_axum::extract::<ConnectInfo<SocketAddr>>()
            .await
            .map(|ConnectInfo(a)| a.ip().to_string())
            .unwrap_or_else(|_| "unknown".into())
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
        // Counted once the input is valid, before the costly hash.
        let address = client_address().await;
        if let Err(retry_after_secs) = state.signup_limiter.attempt(&address) {
            tracing::warn!(%address, "sign-up rate limited");
            return Err(AppError::RateLimited { retry_after_secs });
        }
        let hash = {
            let password = password.clone();
            password::bounded(move || password::hash(&password))
                .await
                .ok_or(AppError::Internal)??
        };
        let now = now_ms();
        let mut tx = state.db.pool.begin().await?;
        let inserted: Result<(i64,), sqlx::Error> = sqlx::query_as(
            "INSERT INTO users (email, display_name, password_hash, token_version, created_at) \
             VALUES ($1, $2, $3, 0, $4) RETURNING id",
        )
        .bind(&email)
        .bind(&display_name)
        .bind(&hash)
        .bind(now)
        .fetch_one(&mut *tx)
        .await;
        let (user_id,) = match inserted {
            Ok(row) => row,
            Err(e) if is_unique_violation(&e) => {
                return Err(AppError::Conflict {
                    field: "email".into(),
                    message: "An account with this email already exists. Log in instead.".into(),
                })
            }
            Err(e) => return Err(e.into()),
        };
        let personal = format!("{display_name}'s workspace");
        crate::workspaces::ssr::create_workspace_tx(&mut tx, user_id, &personal, "personal", now)
            .await?;
        tx.commit().await?;
        let user = SessionUser {
            id: user_id,
            email,
            display_name,
        };
        tracing::info!(user_id, "registered a new account");
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
        let address = client_address().await;
        if let Err(retry_after_secs) = state.login_limiter.check(&email, &address) {
            tracing::warn!(%address, "login rate limited");
            return Err(AppError::RateLimited { retry_after_secs });
        }
        let row: Option<(i64, String, String, i64)> = sqlx::query_as(
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
                state.login_limiter.record_success(&email);
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
                state.login_limiter.record_failure(&email, &address);
                Err(AppError::validation("password", "Wrong email or password."))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(
            normalize_email("  Ann@Example.COM ").unwrap(),
            "ann@example.com"
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@x.com",
            "ann@localhost",
            "a b@x.com",
            "a@@x.com",
            "a@x.com.",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next("/join/abc"), "/join/abc");
        assert_eq!(safe_next("//evil.example"), "/");
        assert_eq!(safe_next("https://evil.example"), "/");
        assert_eq!(safe_next("/\\evil.example"), "/");
        assert_eq!(safe_next(""), "/");
    }

    #[test]
    fn weak_passwords_are_refused() {
        assert!(validate_password("short", "a@x.com").is_err());
        assert!(validate_password("password123", "a@x.com").is_err());
        assert!(validate_password("aaaaaaaaaaaa", "a@x.com").is_err());
        assert!(validate_password(&"x1".repeat(80), "a@x.com").is_err());
        assert!(validate_password("correct horse battery", "a@x.com").is_ok());
    }
}
