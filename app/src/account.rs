//! One's own account: change the password (ending every other session at once), see
//! what deleting the account would do to one's team workspaces, delete it. The export
//! of one's data is `GET /account/export` (`ssr::export`, routed in `server/src/export.rs`).
//!
//! Deleting an account erases the person: their name, email and password, their
//! personal workspace with everything in it, their memberships, notifications and
//! choices. What they entered in team workspaces stays in those teams' books, by
//! "Deleted user" (the `users` row stays as that tombstone, so the books keep their
//! authors' ids). A team they alone own goes to its longest-standing admin (else
//! member, else viewer), who is told; a team with nobody else in it is deleted.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::model::ids::WorkspaceId;

/// What deleting the caller's account would do to a team workspace they are in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TeamFate {
    /// Other owners remain: the caller just leaves.
    Leaves,
    /// The caller is its only owner: it goes to this member.
    HandedTo(String),
    /// Nobody else is in it: it is deleted with everything in it.
    Deleted,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountOverview {
    pub email: String,
    pub display_name: String,
    /// Every team workspace of the caller: id, name, and what deletion would do to it.
    pub teams: Vec<(WorkspaceId, String, TeamFate)>,
}

/// Password changes per user per minute (each costs two argon2 runs).
pub const PASSWORD_CHANGES_PER_MINUTE: u32 = 5;

#[server(endpoint = "account/summary", input = crate::wire::Form)]
pub async fn account_summary() -> Result<AccountOverview, AppError> {
    ssr::summary().await
}

/// Changes the caller's password. The current one is asked again. Every other session
/// of the account ends at once: its tokens stop working and its sockets, on every
/// instance, are told and closed; this browser's session goes on with a renewed token.
// `PostUrl`, not `wire::Form`: an `<ActionForm>` posts here, and it asks for `PostUrl`.
#[server(endpoint = "account/password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    ssr::change_password(current_password, new_password).await
}

/// Deletes the caller's account (see the module's notes), after the password and an
/// explicit `confirm=delete`. Other members are told live; every session ends.
// `PostUrl`, not `wire::Form`: an `<ActionForm>` posts here, and it asks for `PostUrl`.
#[server(endpoint = "account/delete")]
pub async fn delete_account(
    password: String,
    #[server(default)] confirm: String,
) -> Result<(), AppError> {
    ssr::delete(password, confirm).await
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::*;
    use crate::{
        error::AppResult,
        live::{
            catalog::{MemberGone, MemberInfo, NotificationLevel, WorkspaceInfo},
            Event, Stream,
        },
        model::{ids::UserId, user::validate_password, workspace::Role},
        server::{
            authz::signed_in_session,
            events::Write,
            hub::cluster::{self, Control},
            now_ms, password, AppState,
        },
    };

    /// Checks `given` against the caller's stored password (bounded like a login).
    async fn check_password(
        state: &AppState,
        user_id: UserId,
        given: String,
        field: &str,
    ) -> AppResult<()> {
        if given.is_empty() || given.len() > 4 * crate::model::user::MAX_PASSWORD_LEN {
            return Err(AppError::validation(field, "Enter your current password."));
        }
        let (stored,): (String,) = sqlx::query_as("SELECT password_hash FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_one(&state.db.pool)
            .await?;
        let ok = password::bounded(move || password::verify(&given, &stored))
            .await
            .unwrap_or(false);
        if ok {
            Ok(())
        } else {
            Err(AppError::validation(
                field,
                "That is not your current password.",
            ))
        }
    }

    pub async fn change_password(current: String, new: String) -> AppResult<()> {
        let (state, user, claims) = signed_in_session().await?;
        validate_password(&new, &user.email).map_err(|e| match e {
            AppError::Validation { message, .. } => AppError::validation("new_password", message),
            other => other,
        })?;
        state
            .action_limiter
            .attempt(user.id, "password-change", PASSWORD_CHANGES_PER_MINUTE)
            .await?;
        check_password(&state, user.id, current, "current_password").await?;
        let hash = password::bounded(move || password::hash(&new))
            .await
            .ok_or(AppError::Internal)??;
        // Only from the version this token has: a revocation that got in first wins.
        let bumped: Option<(i64,)> = sqlx::query_as(
            "UPDATE users SET password_hash = $1, token_version = token_version + 1 \
             WHERE id = $2 AND token_version = $3 RETURNING token_version",
        )
        .bind(&hash)
        .bind(user.id)
        .bind(claims.ver)
        .fetch_optional(&mut *state.db.writer.acquire().await?)
        .await?;
        let Some((version,)) = bumped else {
            return Err(AppError::Unauthorized);
        };
        state
            .sessions
            .send(&state.sessions.renew(user.id, version, claims.sid)?);
        // After the commit: a socket whose upgrade raced this either registered before
        // (closed here) or checks its token after (refused there: server/src/live.rs).
        let control = Control::PasswordChanged {
            user_id: user.id,
            keep: claims.sid,
        };
        if let Err(e) = cluster::command(&state.hub, &state.db, control).await {
            tracing::warn!(error = %e, "password changed; other instances' sockets close when they next check");
        }
        tracing::info!(
            user_id = user.id.0,
            "password changed, other sessions ended"
        );
        leptos_axum::redirect("/account?changed=password");
        Ok(())
    }

    /// The caller's team workspaces (id, name, role), oldest membership first.
    async fn teams(
        state: &AppState,
        user_id: UserId,
    ) -> AppResult<Vec<(WorkspaceId, String, String)>> {
        Ok(sqlx::query_as(
            "SELECT w.id, w.name, m.role FROM memberships m JOIN workspaces w ON w.id = m.workspace_id \
             WHERE m.user_id = $1 AND w.kind = 'team' ORDER BY m.joined_at, w.id",
        )
        .bind(user_id)
        .fetch_all(&state.db.pool)
        .await?)
    }

    /// Who would own `ws` if `user_id` (an owner) left: nobody needed (another owner),
    /// this member (id, name, role), or nobody at all.
    async fn successor(
        conn: &mut sqlx::AnyConnection,
        ws: WorkspaceId,
        user_id: UserId,
    ) -> AppResult<TeamFateRow> {
        let others: Vec<(UserId, String, String)> = sqlx::query_as(
            "SELECT m.user_id, u.display_name, m.role FROM memberships m JOIN users u ON u.id = m.user_id \
             WHERE m.workspace_id = $1 AND m.user_id <> $2 ORDER BY m.joined_at, m.user_id",
        )
        .bind(ws)
        .bind(user_id)
        .fetch_all(&mut *conn)
        .await?;
        let rank = |role: &str| match Role::parse(role) {
            Some(Role::Owner) => 0,
            Some(Role::Admin) => 1,
            Some(Role::Member) => 2,
            _ => 3,
        };
        // Stable: the longest-standing of the best role.
        Ok(
            match others.into_iter().min_by_key(|(_, _, role)| rank(role)) {
                None => TeamFateRow::Deleted,
                Some((_, _, role)) if rank(&role) == 0 => TeamFateRow::Leaves,
                Some((id, name, _)) => TeamFateRow::HandedTo(id, name),
            },
        )
    }

    enum TeamFateRow {
        Leaves,
        HandedTo(UserId, String),
        Deleted,
    }

    pub async fn summary() -> AppResult<AccountOverview> {
        let (state, user, _) = signed_in_session().await?;
        let mut conn = state.db.pool.acquire().await?;
        let mut teams = Vec::new();
        for (id, name, role) in self::teams(&state, user.id).await? {
            let fate = if role == Role::Owner.as_str() {
                match successor(&mut conn, id, user.id).await? {
                    TeamFateRow::Leaves => TeamFate::Leaves,
                    TeamFateRow::HandedTo(_, to) => TeamFate::HandedTo(to),
                    TeamFateRow::Deleted => TeamFate::Deleted,
                }
            } else {
                TeamFate::Leaves
            };
            teams.push((id, name, fate));
        }
        Ok(AccountOverview {
            email: user.email,
            display_name: user.display_name,
            teams,
        })
    }

    pub async fn delete(password: String, confirm: String) -> AppResult<()> {
        let (state, user, claims) = signed_in_session().await?;
        if confirm.trim() != "delete" {
            return Err(AppError::validation(
                "confirm",
                "Tick the box to confirm that the account and its data go for good.",
            ));
        }
        state
            .action_limiter
            .attempt(user.id, "password-change", PASSWORD_CHANGES_PER_MINUTE)
            .await?;
        check_password(&state, user.id, password, "password").await?;
        let now = now_ms();
        let mut tx = Write::begin(&state.db, user.id, now).await?;
        let memberships: Vec<(WorkspaceId, String, String, String)> = sqlx::query_as(
            "SELECT w.id, w.name, w.kind, m.role FROM memberships m JOIN workspaces w ON w.id = m.workspace_id \
             WHERE m.user_id = $1 ORDER BY w.id",
        )
        .bind(user.id)
        .fetch_all(&mut *tx)
        .await?;
        for (ws, name, kind, role) in memberships {
            let fate = if kind == "personal" {
                TeamFateRow::Deleted
            } else if role == Role::Owner.as_str() {
                successor(&mut tx, ws, user.id).await?
            } else {
                TeamFateRow::Leaves
            };
            match fate {
                TeamFateRow::Deleted => {
                    tx.emit(
                        Stream::Workspace(ws),
                        Event::WorkspaceDeleted(WorkspaceInfo { id: ws, name }),
                    )
                    .await?;
                    sqlx::query("DELETE FROM workspaces WHERE id = $1")
                        .bind(ws)
                        .execute(&mut *tx)
                        .await?;
                    continue;
                }
                TeamFateRow::HandedTo(heir, heir_name) => {
                    sqlx::query(
                        "UPDATE memberships SET role = 'owner' WHERE workspace_id = $1 AND user_id = $2",
                    )
                    .bind(ws)
                    .bind(heir)
                    .execute(&mut *tx)
                    .await?;
                    tx.emit(
                        Stream::Workspace(ws),
                        Event::MemberRoleChanged(MemberInfo {
                            user_id: heir,
                            display_name: heir_name,
                            role: Role::Owner,
                        }),
                    )
                    .await?;
                    tx.notify(
                        heir,
                        Some(ws),
                        None,
                        NotificationLevel::Warning,
                        &format!("You now own {name}"),
                        &format!(
                            "{} deleted their account and was its only owner.",
                            user.display_name
                        ),
                    )
                    .await?;
                }
                TeamFateRow::Leaves => {}
            }
            sqlx::query("DELETE FROM memberships WHERE workspace_id = $1 AND user_id = $2")
                .bind(ws)
                .bind(user.id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "DELETE FROM notification_preferences WHERE workspace_id = $1 AND user_id = $2",
            )
            .bind(ws)
            .bind(user.id)
            .execute(&mut *tx)
            .await?;
            // At delivery the hub takes the leaver's sockets out of the room (and the
            // others are told, as far as they hear team changes).
            tx.emit(
                Stream::Workspace(ws),
                Event::MemberLeft(MemberGone { user_id: user.id }),
            )
            .await?;
        }
        sqlx::query("DELETE FROM notifications WHERE user_id = $1")
            .bind(user.id)
            .execute(&mut *tx)
            .await?;
        // The tombstone: nothing of the person is left, and no token or login works.
        sqlx::query(
            "UPDATE users SET email = $1, display_name = 'Deleted user', password_hash = '!', \
             token_version = token_version + 1, deleted_at = $2 WHERE id = $3",
        )
        .bind(format!("deleted-{}@deleted.invalid", user.id))
        .bind(now)
        .bind(user.id)
        .execute(&mut *tx)
        .await?;
        tx.commit(&state.hub).await?;
        let res = expect_context::<leptos_axum::ResponseOptions>();
        res.append_header(http::header::SET_COOKIE, state.sessions.clear_cookie());
        if let Err(e) = cluster::command(
            &state.hub,
            &state.db,
            Control::AccountDeleted {
                user_id: user.id,
                keep: claims.sid,
            },
        )
        .await
        {
            tracing::warn!(error = %e, "account deleted; other instances' sockets close when they next check");
        }
        tracing::info!(user_id = user.id.0, "account deleted");
        leptos_axum::redirect("/register?deleted=1");
        Ok(())
    }

    /// An earning as exported: id, workspace, date, platform, hours (centi), amount, currency, notes.
    type EarningRow = (i64, WorkspaceId, String, String, i64, i64, String, String);

    /// Everything the user entered or chose, as one JSON document: the profile, the
    /// workspaces they are in (with role), every expense, earning, budget, goal and
    /// contribution they made (in any workspace: a personal workspace's rows are all
    /// theirs), their notifications and notification choices. Sorted, for diffing.
    pub async fn export(state: &AppState, user_id: UserId) -> AppResult<serde_json::Value> {
        use serde_json::json;
        let db = &state.db.pool;
        let (email, display_name, created_at): (String, String, i64) =
            sqlx::query_as("SELECT email, display_name, created_at FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_one(db)
                .await?;
        let workspaces: Vec<(WorkspaceId, String, String, String, i64)> = sqlx::query_as(
            "SELECT w.id, w.name, w.kind, m.role, m.joined_at FROM memberships m \
             JOIN workspaces w ON w.id = m.workspace_id WHERE m.user_id = $1 ORDER BY w.id",
        )
        .bind(user_id)
        .fetch_all(db)
        .await?;
        let expenses: Vec<(i64, WorkspaceId, String, i64, String, String, String)> =
            sqlx::query_as(
                "SELECT id, workspace_id, spent_on, amount_minor, currency, category, description \
             FROM expenses WHERE created_by = $1 ORDER BY id",
            )
            .bind(user_id)
            .fetch_all(db)
            .await?;
        let earnings: Vec<EarningRow> =
            sqlx::query_as(
                "SELECT e.id, e.workspace_id, e.earned_on, p.name, e.hours_centi, e.amount_minor, e.currency, e.notes \
                 FROM earnings e JOIN platforms p ON p.id = e.platform_id WHERE e.created_by = $1 ORDER BY e.id",
            )
            .bind(user_id)
            .fetch_all(db)
            .await?;
        let budgets: Vec<(i64, WorkspaceId, String, String, i64)> = sqlx::query_as(
            "SELECT id, workspace_id, category, currency, limit_minor FROM budgets WHERE created_by = $1 ORDER BY id",
        )
        .bind(user_id)
        .fetch_all(db)
        .await?;
        let goals: Vec<(i64, WorkspaceId, String, String, i64, i64)> = sqlx::query_as(
            "SELECT id, workspace_id, name, currency, target_minor, saved_minor FROM goals WHERE created_by = $1 ORDER BY id",
        )
        .bind(user_id)
        .fetch_all(db)
        .await?;
        let contributions: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT id, goal_id, amount_minor, created_at FROM goal_contributions WHERE created_by = $1 ORDER BY id",
        )
        .bind(user_id)
        .fetch_all(db)
        .await?;
        let notifications: Vec<crate::model::notification::NotificationRow> =
            sqlx::query_as(
                "SELECT id, workspace_id, level, title, message, created_at, read_at FROM notifications \
                 WHERE user_id = $1 ORDER BY id",
            )
            .bind(user_id)
            .fetch_all(db)
            .await?;
        let choices: Vec<(WorkspaceId, String, String)> = sqlx::query_as(
            "SELECT workspace_id, topic, mode FROM notification_preferences WHERE user_id = $1 ORDER BY workspace_id, topic",
        )
        .bind(user_id)
        .fetch_all(db)
        .await?;
        Ok(json!({
            "format": "liveledger-account-export/1",
            "account": {"id": user_id, "email": email, "display_name": display_name, "created_at": created_at},
            "workspaces": workspaces.into_iter().map(|(id, name, kind, role, joined_at)|
                json!({"id": id, "name": name, "kind": kind, "role": role, "joined_at": joined_at})).collect::<Vec<_>>(),
            "expenses": expenses.into_iter().map(|(id, ws, date, amount, currency, category, description)|
                json!({"id": id, "workspace_id": ws, "date": date, "amount_minor": amount, "currency": currency,
                       "category": category, "description": description})).collect::<Vec<_>>(),
            "earnings": earnings.into_iter().map(|(id, ws, date, platform, hours, amount, currency, notes)|
                json!({"id": id, "workspace_id": ws, "date": date, "platform": platform, "hours_centi": hours,
                       "amount_minor": amount, "currency": currency, "notes": notes})).collect::<Vec<_>>(),
            "budgets": budgets.into_iter().map(|(id, ws, category, currency, limit)|
                json!({"id": id, "workspace_id": ws, "category": category, "currency": currency, "limit_minor": limit}))
                .collect::<Vec<_>>(),
            "goals": goals.into_iter().map(|(id, ws, name, currency, target, saved)|
                json!({"id": id, "workspace_id": ws, "name": name, "currency": currency, "target_minor": target,
                       "saved_minor": saved})).collect::<Vec<_>>(),
            "goal_contributions": contributions.into_iter().map(|(id, goal, amount, at)|
                json!({"id": id, "goal_id": goal, "amount_minor": amount, "created_at": at})).collect::<Vec<_>>(),
            "notifications": notifications.into_iter().map(|(id, ws, level, title, message, at, read)|
                json!({"id": id, "workspace_id": ws, "level": level, "title": title, "message": message,
                       "created_at": at, "read_at": read})).collect::<Vec<_>>(),
            "notification_choices": choices.into_iter().map(|(ws, topic, mode)|
                json!({"workspace_id": ws, "topic": topic, "mode": mode})).collect::<Vec<_>>(),
        }))
    }
}
