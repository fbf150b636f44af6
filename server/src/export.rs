//! `GET /account/export`: everything the signed-in user entered or chose, as a JSON
//! download (`app::account::ssr::export`).
//!
//! `GET /w/{ws}/export/{expenses|earnings}?<the dashboard's view>`: the CSV of what the
//! list shows, as a download. The same guard as every read of a workspace
//! (`authz::member_by_headers`), the same view parameters as the dashboard
//! (`Period::from_query` over today in the workspace's zone, `ListFilter::from_query`); an error is its status with the
//! message as plain text.

use std::collections::HashMap;

use app::{
    error::AppError,
    export::{file_name, ssr::csv},
    import::ImportKind,
    model::{
        filter::{ListFilter, Period},
        ids::WorkspaceId,
        workspace::Need,
    },
    server::{
        authz::{authenticate, member_by_headers},
        zone, AppState,
    },
};
use axum::{
    extract::{Path, Query, State},
    http::{header, HeaderMap},
    response::{IntoResponse, Response},
};

pub async fn export(
    State(state): State<AppState>,
    Path((workspace_id, kind)): Path<(WorkspaceId, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    match run(state, workspace_id, &kind, &query, &headers).await {
        Ok((name, body)) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                ),
                (header::CACHE_CONTROL, "no-store".to_owned()),
            ],
            body,
        )
            .into_response(),
        Err(e) => (e.status(), e.to_string()).into_response(),
    }
}

async fn run(
    state: AppState,
    workspace_id: WorkspaceId,
    kind: &str,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Result<(String, String), AppError> {
    let caller = member_by_headers(state, headers, workspace_id, Need::Read).await?;
    let kind = ImportKind::parse(kind)?;
    let get = |name: &str| query.get(name).cloned();
    let today = zone::workspace_today(&caller.state, workspace_id).await?;
    let period = Period::from_query(&get, &today)?;
    let filter = ListFilter::from_query(&get, &period)?;
    let name = file_name(kind, &filter);
    let body = csv(&caller.state, workspace_id, kind, filter).await?;
    tracing::info!(
        workspace_id = workspace_id.0,
        kind = kind.as_str(),
        bytes = body.len(),
        "export"
    );
    Ok((name, body))
}

pub async fn account(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let done = async {
        let (user, _) = authenticate(&state, &headers)
            .await?
            .ok_or(AppError::Unauthorized)?;
        let body = app::account::ssr::export(&state, user.id).await?;
        tracing::info!(user_id = user.id.0, "account export");
        Ok::<_, AppError>((user.id, body))
    };
    match done.await {
        Ok((id, body)) => (
            [
                (header::CONTENT_TYPE, "application/json".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"liveledger-account-{id}.json\""),
                ),
                (header::CACHE_CONTROL, "no-store".to_owned()),
            ],
            body.to_string(),
        )
            .into_response(),
        Err(e) => (e.status(), e.to_string()).into_response(),
    }
}
