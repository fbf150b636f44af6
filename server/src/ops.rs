//! The operator's endpoints, behind `OPERATOR_TOKEN` (`OperatorToken`):
//! force-disconnect a user and announce to everyone connected. Both act on every
//! instance (PostgreSQL's control channel, `hub::command`).

use app::{
    live::catalog::Announcement,
    model::ids::UserId,
    server::{
        hub::cluster::{self, Control},
        AppState,
    },
};
use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;

use crate::config::Secret;

/// The operator's bearer token (`OPERATOR_TOKEN`), if configured.
#[derive(Clone)]
pub struct OperatorToken(std::sync::Arc<Option<Secret>>);

impl OperatorToken {
    pub fn new(token: Option<Secret>) -> OperatorToken {
        OperatorToken(std::sync::Arc::new(token))
    }

    pub fn configured(&self) -> bool {
        self.0.is_some()
    }

    /// True for a request carrying `Authorization: Bearer <OPERATOR_TOKEN>`. Compared
    /// in constant time; always false when no token is configured.
    pub fn allows(&self, headers: &HeaderMap) -> bool {
        let Some(secret) = self.0.as_ref() else {
            return false;
        };
        let Some(given) = app::server::session::bearer_token(headers) else {
            return false;
        };
        use subtle::ConstantTimeEq;
        bool::from(given.as_bytes().ct_eq(secret.expose()))
    }
}

pub const MAX_TITLE: usize = 100;
pub const MAX_MESSAGE: usize = 500;

/// The answer that refuses the request, if it is refused: 404 when no operator token is
/// configured (the endpoints do not exist), 401 for a missing or wrong token.
pub fn refusal(operator: &OperatorToken, headers: &HeaderMap) -> Option<Response> {
    if !operator.configured() {
        return Some(StatusCode::NOT_FOUND.into_response());
    }
    if !operator.allows(headers) {
        return Some((StatusCode::UNAUTHORIZED, "operator token required").into_response());
    }
    None
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

/// `POST /ops/users/{id}/disconnect`: revokes every session of the user (their tokens
/// stop working everywhere at once) and closes all their sockets with 4001, after a
/// `session:revoked` notice. Answers `{sockets_closed}` (on this instance).
pub async fn disconnect(
    State(state): State<AppState>,
    axum::Extension(operator): axum::Extension<OperatorToken>,
    headers: HeaderMap,
    Path(user_id): Path<UserId>,
) -> Response {
    if let Some(refused) = refusal(&operator, &headers) {
        return refused;
    }
    let revoked = async {
        let mut writer = state.db.writer.acquire().await?;
        sqlx::query("UPDATE users SET token_version = token_version + 1 WHERE id = $1")
            .bind(user_id)
            .execute(&mut *writer)
            .await
    }
    .await;
    match revoked {
        Ok(done) if done.rows_affected() == 0 => {
            return error(StatusCode::NOT_FOUND, "no such user")
        }
        Ok(_) => {}
        Err(e) => {
            tracing::error!(error = %e, "could not revoke sessions");
            return error(StatusCode::SERVICE_UNAVAILABLE, "try again");
        }
    }
    tracing::info!(
        user_id = user_id.0,
        "operator: sessions revoked, sockets closing"
    );
    match cluster::command(&state.hub, &state.db, Control::Disconnect { user_id }).await {
        Ok(closed) => Json(serde_json::json!({ "sockets_closed": closed })).into_response(),
        Err(_) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "sessions revoked; sockets on other instances may stay until they reconnect",
        ),
    }
}

#[derive(Deserialize)]
pub struct AnnounceBody {
    title: String,
    message: String,
}

/// `POST /ops/announce` `{title, message}`: a `system:announcement` to every socket on
/// every instance (live only: not stored). Answers `{sockets}` (on this instance).
pub async fn announce(
    State(state): State<AppState>,
    axum::Extension(operator): axum::Extension<OperatorToken>,
    headers: HeaderMap,
    body: Result<Json<AnnounceBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    if let Some(refused) = refusal(&operator, &headers) {
        return refused;
    }
    let Ok(Json(body)) = body else {
        return error(
            StatusCode::BAD_REQUEST,
            "send JSON {\"title\", \"message\"}",
        );
    };
    let (title, message) = (body.title.trim(), body.message.trim());
    if title.is_empty() || title.chars().count() > MAX_TITLE {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "title: 1 to 100 characters",
        );
    }
    if message.chars().count() > MAX_MESSAGE {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "message: at most 500 characters",
        );
    }
    let control = Control::Announce(Announcement {
        title: title.to_owned(),
        message: message.to_owned(),
    });
    match cluster::command(&state.hub, &state.db, control).await {
        Ok(sockets) => Json(serde_json::json!({ "sockets": sockets })).into_response(),
        Err(_) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "announced on this instance only",
        ),
    }
}
