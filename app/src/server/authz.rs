//! Who is asking, and may they? Every server function that reads or writes workspace
//! data goes through `require_member`, which checks membership and role in the database
//! on every call (a role change takes effect on the next request, no new login needed).

use leptos::prelude::with_context;

use super::{
    session::{token_from_headers, Claims},
    state::{state, AppState},
};
use crate::{
    error::{AppError, AppResult},
    model::{
        ids::{UserId, WorkspaceId},
        user::SessionUser,
        workspace::{Need, Role},
    },
};

/// The logged-in user of the current request, if the token is valid and not revoked.
pub async fn current_user(state: &AppState) -> AppResult<Option<SessionUser>> {
    Ok(session_of_request(state).await?.map(|(user, _)| user))
}

/// `authenticate` for the request a server function answers.
async fn session_of_request(state: &AppState) -> AppResult<Option<(SessionUser, Claims)>> {
    identified(state, request_claims(state)).await
}

/// The one place a request's token becomes a user, for server functions and the
/// WebSocket upgrade alike: bearer header or session cookie, signature, expiry,
/// issuer and audience (`SessionKeys::verify`), then the user's current
/// `token_version` (a bumped version revokes older tokens).
pub async fn authenticate(
    state: &AppState,
    headers: &http::HeaderMap,
) -> AppResult<Option<(SessionUser, Claims)>> {
    identified(state, claims(state, headers)).await
}

/// The user holding `found` (verified claims), if their token was not revoked since.
async fn identified(
    state: &AppState,
    found: Option<(UserId, Claims)>,
) -> AppResult<Option<(SessionUser, Claims)>> {
    let Some((user_id, claims)) = found else {
        return Ok(None);
    };
    Ok(identify(&state.db.pool, user_id, claims, None)
        .await?
        .map(|(user, claims, _)| (user, claims)))
}

/// What the request's token says, if it is well signed and current by its own terms
/// (signature, expiry, issuer, audience): whose it is and the claims. Not yet whether
/// it was revoked since, which takes the database ([`identify`]).
pub fn claims(state: &AppState, headers: &http::HeaderMap) -> Option<(UserId, Claims)> {
    let claims = token_from_headers(headers).and_then(|t| state.sessions.verify(&t))?;
    let user_id = claims.sub.parse::<UserId>().ok()?;
    Some((user_id, claims))
}

/// [`claims`] of the request a server function answers, read from its headers where
/// they are (not from a copy of the whole request head, as `use_context` would make).
pub fn request_claims(state: &AppState) -> Option<(UserId, Claims)> {
    with_context::<http::request::Parts, _>(|parts| claims(state, &parts.headers)).flatten()
}

/// The user behind verified `claims` as `db` sees them, if the token was not revoked
/// (its `token_version` is the user's), with their role in `workspace` in the same query
/// (`None`: not a member), so a workspace's guard costs one round trip, not two.
async fn identify<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    user_id: UserId,
    claims: Claims,
    workspace: Option<WorkspaceId>,
) -> AppResult<Option<(SessionUser, Claims, Option<Role>)>> {
    // Without a workspace the join matches nothing (no workspace has id 0).
    let row: Option<(String, String, i64, Option<String>)> = sqlx::query_as(
        "SELECT u.email, u.display_name, u.token_version, m.role FROM users u \
         LEFT JOIN memberships m ON m.user_id = u.id AND m.workspace_id = $2 WHERE u.id = $1",
    )
    .bind(user_id)
    .bind(workspace.unwrap_or(WorkspaceId(0)))
    .fetch_optional(db)
    .await?;
    Ok(row.filter(|(_, _, version, _)| *version == claims.ver).map(
        |(email, display_name, _, role)| {
            let user = SessionUser {
                id: user_id,
                email,
                display_name,
            };
            (user, claims, role.as_deref().and_then(Role::parse))
        },
    ))
}

/// Whether a token issued at `token_version` is still good for `user_id` (not revoked
/// since). The live socket asks again once it is registered with the hub, so a
/// revocation that raced its upgrade cannot leave it open (`server/src/live.rs`).
pub async fn session_current(
    state: &AppState,
    user_id: UserId,
    token_version: i64,
) -> AppResult<bool> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT token_version FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(&state.db.pool)
        .await?;
    Ok(row.is_some_and(|(v,)| v == token_version))
}

pub async fn require_user(state: &AppState) -> AppResult<SessionUser> {
    current_user(state).await?.ok_or(AppError::Unauthorized)
}

/// The guard of a server function about the caller only (their notifications, their
/// workspaces): the state and the signed-in user, or `Unauthorized`.
pub async fn signed_in() -> AppResult<(AppState, SessionUser)> {
    let state = state()?;
    let user = require_user(&state).await?;
    Ok((state, user))
}

/// `signed_in`, with the token's claims: for what concerns the sign-in itself (its
/// `token_version`, its `sid`), such as a password change.
pub async fn signed_in_session() -> AppResult<(AppState, SessionUser, Claims)> {
    let state = state()?;
    let (user, claims) = session_of_request(&state)
        .await?
        .ok_or(AppError::Unauthorized)?;
    Ok((state, user, claims))
}

/// A caller who passed the guard of a workspace server function.
pub struct Caller {
    pub state: AppState,
    pub user: SessionUser,
    pub role: Role,
}

/// The guard of every server function on a workspace's data, called first, the same way
/// everywhere: signed in (`Unauthorized`), a member (`NotFound`, so workspace ids reveal
/// nothing), with a role that allows `need` (`Role::allows`; `Forbidden`).
pub async fn member(workspace_id: WorkspaceId, need: Need) -> AppResult<Caller> {
    let state = state()?;
    let found = request_claims(&state);
    member_holding(state, found, workspace_id, need).await
}

/// `member` for a handler outside the server functions (the CSV export), which has
/// the state and the request's headers in hand: the same checks, the same errors.
pub async fn member_by_headers(
    state: AppState,
    headers: &http::HeaderMap,
    workspace_id: WorkspaceId,
    need: Need,
) -> AppResult<Caller> {
    let found = claims(&state, headers);
    member_holding(state, found, workspace_id, need).await
}

/// `member`'s checks, on the pool, for the holder of `found` (verified claims).
async fn member_holding(
    state: AppState,
    found: Option<(UserId, Claims)>,
    workspace_id: WorkspaceId,
    need: Need,
) -> AppResult<Caller> {
    let (user_id, claims) = found.ok_or(AppError::Unauthorized)?;
    let (user, role) = member_in(&state.db.pool, user_id, claims, workspace_id, need).await?;
    Ok(Caller { state, user, role })
}

/// `member`'s checks on `db` (a pool, or a write's own transaction: `Write::guarded`)
/// for the holder of verified `claims`, with the same errors: who they are, and their
/// role in `workspace_id`.
pub async fn member_in<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    user_id: UserId,
    claims: Claims,
    workspace_id: WorkspaceId,
    need: Need,
) -> AppResult<(SessionUser, Role)> {
    let (user, _, role) = identify(db, user_id, claims, Some(workspace_id))
        .await?
        .ok_or(AppError::Unauthorized)?;
    Ok((user, allowed(role, need)?))
}

/// The permission rule applied to a role read from `memberships` (`None`: no member).
fn allowed(role: Option<Role>, need: Need) -> AppResult<Role> {
    let role = role.ok_or_else(|| AppError::not_found("Workspace"))?;
    if role.allows(need) {
        Ok(role)
    } else {
        Err(AppError::forbidden(need.refusal()))
    }
}

/// `user`'s role in the workspace, if it allows `need` (for callers that hold the state
/// and user already, such as an invite being accepted).
pub async fn role_of(
    state: &AppState,
    user: &SessionUser,
    workspace_id: WorkspaceId,
    need: Need,
) -> AppResult<Role> {
    allowed_in(&state.db.pool, workspace_id, user.id, need).await
}

/// `user_id`'s role in `workspace_id` as `db` sees it (a pool, or a transaction whose
/// snapshot or locks the answer must belong to); `None` for a non-member.
pub async fn role_in<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    workspace_id: WorkspaceId,
    user_id: UserId,
) -> Result<Option<Role>, sqlx::Error> {
    let role: Option<(String,)> =
        sqlx::query_as("SELECT role FROM memberships WHERE workspace_id = $1 AND user_id = $2")
            .bind(workspace_id)
            .bind(user_id)
            .fetch_optional(db)
            .await?;
    Ok(role.and_then(|(r,)| Role::parse(&r)))
}

/// `user_id`'s role in `workspace_id` as `db` sees it, if it allows `need` (`member`'s
/// rule and errors): on the pool for `role_of`, in a write's own transaction for
/// `Write::begin_member`, which asks once no removal can commit beside it.
pub async fn allowed_in<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    workspace_id: WorkspaceId,
    user_id: UserId,
    need: Need,
) -> AppResult<Role> {
    allowed(role_in(db, workspace_id, user_id).await?, need)
}

/// Whether `user_id` is a member of `workspace_id` now, and if so from which event of
/// its log on they may read it (`memberships.since_seq`: their own `member:joined`
/// and what follows). Any role may read.
pub async fn member_since(
    state: &AppState,
    user_id: UserId,
    workspace_id: WorkspaceId,
) -> AppResult<Option<i64>> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT since_seq FROM memberships WHERE workspace_id = $1 AND user_id = $2",
    )
    .bind(workspace_id)
    .bind(user_id)
    .fetch_optional(&state.db.pool)
    .await?;
    Ok(row.map(|(since,)| since))
}

/// A read-only snapshot of `workspace_id` for `reader` (`db::snapshot`), opened only if
/// they are a member *in that snapshot*: what a list reads in it is what a member could
/// read at one point in time. A request checks membership first (`member`), then reads;
/// had a removal committed between the two, a read in a snapshot of its own could
/// return rows written after the reader was removed. Every list of a workspace reads
/// through this. A non-member gets "Workspace not found", as from `member`.
pub async fn read_snapshot(
    db: &super::db::Db,
    workspace_id: WorkspaceId,
    reader: UserId,
) -> AppResult<sqlx::Transaction<'static, sqlx::Any>> {
    let mut tx = super::db::snapshot(db).await?;
    // The first statement: on PostgreSQL it is where the snapshot is taken.
    match role_in(&mut *tx, workspace_id, reader).await? {
        Some(_) => Ok(tx),
        None => Err(AppError::not_found("Workspace")),
    }
}
