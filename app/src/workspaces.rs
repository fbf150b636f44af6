//! Workspaces (personal and team), memberships with roles, and invites.

use crate::model::ids::{UserId, WorkspaceId};
use leptos::prelude::*;

use crate::error::AppError;

pub use crate::model::workspace::*;

/// The caller's workspaces, personal first.
#[server(endpoint = "workspaces/list", input = crate::wire::Form)]
pub async fn list_workspaces() -> Result<Vec<WorkspaceSummary>, AppError> {
    let (state, user) = crate::server::authz::signed_in().await?;
    ssr::list_workspaces(&state, user.id).await
}

/// Creates a team workspace owned by the caller and opens it. Its time zone is
/// `time_zone` if given, else the browser's (`BrowserZone`'s cookie), else the
/// caller's personal workspace's.
// `PostUrl`, not `wire::Form`: an `<ActionForm>` posts here, and it asks for `PostUrl`.
#[server(endpoint = "workspaces/create")]
pub async fn create_workspace(
    name: String,
    #[server(default)] time_zone: String,
) -> Result<WorkspaceSummary, AppError> {
    ssr::create_team(name, time_zone).await
}

#[server(endpoint = "workspaces/team", input = crate::wire::Form)]
pub async fn load_team(workspace_id: WorkspaceId) -> Result<Team, AppError> {
    ssr::team(workspace_id).await
}

// `PostUrl`, not `wire::Form`: an `<ActionForm>` posts here, and it asks for `PostUrl`.
#[server(endpoint = "workspaces/invite")]
pub async fn create_invite(workspace_id: WorkspaceId, role: String) -> Result<Invite, AppError> {
    ssr::create_invite(workspace_id, role).await
}

// `PostUrl`, not `wire::Form`: an `<ActionForm>` posts here, and it asks for `PostUrl`.
#[server(endpoint = "workspaces/revoke-invite")]
pub async fn revoke_invite(workspace_id: WorkspaceId, code: String) -> Result<(), AppError> {
    ssr::revoke_invite(workspace_id, code).await
}

#[server(endpoint = "workspaces/invite-preview", input = crate::wire::Form)]
pub async fn preview_invite(code: String) -> Result<InvitePreview, AppError> {
    ssr::invite_preview(code).await
}

// `PostUrl`, not `wire::Form`: an `<ActionForm>` posts here, and it asks for `PostUrl`.
#[server(endpoint = "workspaces/join")]
pub async fn join_workspace(code: String) -> Result<WorkspaceSummary, AppError> {
    ssr::join(code).await
}

/// Removes a member (owners and admins; admins only members and viewers), or, with
/// your own id, leaves the workspace. Their open sockets stop receiving it at once.
// `PostUrl`, not `wire::Form`: an `<ActionForm>` posts here, and it asks for `PostUrl`.
#[server(endpoint = "workspaces/remove-member")]
pub async fn remove_member(workspace_id: WorkspaceId, user_id: UserId) -> Result<(), AppError> {
    ssr::remove_member(workspace_id, user_id).await
}

// `PostUrl`, not `wire::Form`: an `<ActionForm>` posts here, and it asks for `PostUrl`.
#[server(endpoint = "workspaces/set-role")]
pub async fn change_role(
    workspace_id: WorkspaceId,
    user_id: UserId,
    role: String,
) -> Result<(), AppError> {
    ssr::change_role(workspace_id, user_id, role).await
}

/// The settings page of a workspace (any member; the zones to choose from for owners
/// and admins only).
#[server(endpoint = "workspaces/settings", input = crate::wire::Form)]
pub async fn load_settings(workspace_id: WorkspaceId) -> Result<WorkspaceSettings, AppError> {
    ssr::settings(workspace_id).await
}

/// Sets the workspace's time zone (owners and admins): its months and "today" follow it.
// `PostUrl`, not `wire::Form`: an `<ActionForm>` posts here, and it asks for `PostUrl`.
#[server(endpoint = "workspaces/time-zone")]
pub async fn set_time_zone(
    workspace_id: WorkspaceId,
    time_zone: String,
) -> Result<crate::live::catalog::WorkspaceInfo, AppError> {
    ssr::set_time_zone(workspace_id, time_zone).await
}

// `PostUrl`, not `wire::Form`: an `<ActionForm>` posts here, and it asks for `PostUrl`.
#[server(endpoint = "workspaces/rename")]
pub async fn rename_workspace(
    workspace_id: WorkspaceId,
    name: String,
) -> Result<crate::live::catalog::WorkspaceInfo, AppError> {
    ssr::rename(workspace_id, name).await
}

/// Deletes a team workspace with everything in it (owners only).
// `PostUrl`, not `wire::Form`: an `<ActionForm>` posts here, and it asks for `PostUrl`.
#[server(endpoint = "workspaces/delete")]
pub async fn delete_workspace(workspace_id: WorkspaceId) -> Result<(), AppError> {
    ssr::delete(workspace_id).await?;
    leptos_axum::redirect("/");
    Ok(())
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use crate::error::AppResult;

    use super::*;
    use crate::{
        live::{
            catalog::{InviteInfo, MemberGone, MemberInfo, NotificationLevel, WorkspaceInfo},
            Event, Stream,
        },
        model::workspace::Need,
        server::{
            authz::{member, role_of, signed_in, Caller},
            events::Write,
            now_ms,
        },
    };

    /// Renames a workspace (owners and admins); `workspace:updated`.
    pub async fn rename(workspace_id: WorkspaceId, name: String) -> AppResult<WorkspaceInfo> {
        let caller = member(workspace_id, Need::Manage).await?;
        let name = validate_workspace_name(&name)?;
        let info = update(&caller, workspace_id, "name", &name).await?;
        tracing::info!(workspace_id = workspace_id.0, "workspace renamed");
        Ok(info)
    }

    /// Sets one of a workspace's settings (`column`, a constant of the caller's) and
    /// announces `workspace:updated` in the same transaction.
    async fn update(
        Caller { state, user, .. }: &Caller,
        workspace_id: WorkspaceId,
        column: &'static str,
        value: &str,
    ) -> AppResult<WorkspaceInfo> {
        let mut tx =
            Write::begin_member(&state.db, user.id, workspace_id, Need::Manage, now_ms()).await?;
        let (name,): (String,) = sqlx::query_as(&format!(
            "UPDATE workspaces SET {column} = $1 WHERE id = $2 RETURNING name"
        ))
        .bind(value)
        .bind(workspace_id)
        .fetch_one(&mut *tx)
        .await?;
        let info = WorkspaceInfo {
            id: workspace_id,
            name,
        };
        tx.emit(
            Stream::Workspace(workspace_id),
            Event::WorkspaceUpdated(info.clone()),
        )
        .await?;
        tx.commit(&state.hub).await?;
        Ok(info)
    }

    pub async fn settings(workspace_id: WorkspaceId) -> AppResult<WorkspaceSettings> {
        let (state, user) = signed_in().await?;
        let workspace = summary(&state, &user, workspace_id).await?;
        let zones = if workspace.role.can_manage() {
            crate::server::zone::names()
        } else {
            Vec::new()
        };
        Ok(WorkspaceSettings {
            time_zone: crate::server::zone::of_workspace(&state, workspace_id).await?,
            workspace,
            zones,
        })
    }

    /// Sets the time zone (owners and admins); `workspace:updated`, as a rename, so the
    /// change is in the workspace's log.
    pub async fn set_time_zone(
        workspace_id: WorkspaceId,
        time_zone: String,
    ) -> AppResult<WorkspaceInfo> {
        let caller = member(workspace_id, Need::Manage).await?;
        if time_zone.trim().is_empty() {
            return Err(AppError::validation("time_zone", "Choose a time zone."));
        }
        let time_zone = crate::server::zone::check(&time_zone)?;
        let info = update(&caller, workspace_id, "time_zone", &time_zone).await?;
        tracing::info!(workspace_id = workspace_id.0, %time_zone, "time zone set");
        Ok(info)
    }

    /// Deletes a team workspace and everything in it (owners only). `workspace:deleted`
    /// goes out on the workspace stream (every instance then drops the room) and each
    /// other member is notified on their own stream, as the workspace's own notifications
    /// go with it.
    pub async fn delete(workspace_id: WorkspaceId) -> AppResult<()> {
        let Caller { state, user, role } = member(workspace_id, Need::Manage).await?;
        if role != Role::Owner {
            return Err(AppError::forbidden("Only an owner can delete a workspace."));
        }
        let ws = summary(&state, &user, workspace_id).await?;
        if ws.kind != WorkspaceKind::Team {
            return Err(AppError::forbidden(
                "A personal workspace cannot be deleted.",
            ));
        }
        let now = now_ms();
        let mut tx =
            Write::begin_member(&state.db, user.id, workspace_id, Need::Manage, now).await?;
        let members: Vec<(UserId,)> = sqlx::query_as(
            "SELECT user_id FROM memberships WHERE workspace_id = $1 AND user_id <> $2 ORDER BY user_id",
        )
        .bind(workspace_id)
        .bind(user.id)
        .fetch_all(&mut *tx)
        .await?;
        let info = WorkspaceInfo {
            id: workspace_id,
            name: ws.name.clone(),
        };
        tx.emit(
            Stream::Workspace(workspace_id),
            Event::WorkspaceDeleted(info),
        )
        .await?;
        let members: Vec<UserId> = members.into_iter().map(|(id,)| id).collect();
        tx.notify_all(
            &members,
            None,
            None,
            NotificationLevel::Warning,
            &format!("{} was deleted", ws.name),
            &format!(
                "{} deleted the workspace and everything in it.",
                user.display_name
            ),
        )
        .await?;
        sqlx::query("DELETE FROM workspaces WHERE id = $1")
            .bind(workspace_id)
            .execute(&mut *tx)
            .await?;
        tx.commit(&state.hub).await?;
        tracing::info!(
            workspace_id = workspace_id.0,
            by = user.id.0,
            "workspace deleted"
        );
        Ok(())
    }

    /// Platforms every new workspace starts with (name, colour).
    const DEFAULT_PLATFORMS: &[(&str, &str)] = &[
        ("Direct client", "#4f46e5"),
        ("Upwork", "#14a800"),
        ("Fiverr", "#1dbf73"),
        ("Toptal", "#204ecf"),
    ];

    /// Creates a workspace with `owner` as its owner, its time zone (checked by the
    /// caller: `zone::check`) and the default platforms.
    pub async fn create_workspace_tx(
        tx: &mut Write,
        owner: UserId,
        name: &str,
        kind: WorkspaceKind,
        time_zone: &str,
        now: i64,
    ) -> AppResult<WorkspaceId> {
        let id = WorkspaceId(
            crate::server::db::insert_id(
                tx,
                sqlx::query(
                    "INSERT INTO workspaces (name, kind, created_by, created_at, time_zone) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(name)
                .bind(kind.as_str())
                .bind(owner)
                .bind(now)
                .bind(time_zone),
            )
            .await?,
        );
        sqlx::query("INSERT INTO memberships (workspace_id, user_id, role, joined_at) VALUES ($1, $2, 'owner', $3)")
            .bind(id)
            .bind(owner)
            .bind(now)
            .execute(&mut **tx)
            .await?;
        for (pname, color) in DEFAULT_PLATFORMS {
            sqlx::query("INSERT INTO platforms (workspace_id, name, color) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(*pname)
                .bind(*color)
                .execute(&mut **tx)
                .await?;
        }
        Ok(id)
    }

    /// The workspaces `user_id` is a member of, personal first.
    pub async fn list_workspaces(
        state: &crate::server::AppState,
        user_id: UserId,
    ) -> AppResult<Vec<WorkspaceSummary>> {
        let rows: Vec<(WorkspaceId, String, String, String)> = sqlx::query_as(
            "SELECT w.id, w.name, w.kind, m.role FROM workspaces w \
             JOIN memberships m ON m.workspace_id = w.id WHERE m.user_id = $1 \
             ORDER BY CASE w.kind WHEN 'personal' THEN 0 ELSE 1 END, w.name, w.id",
        )
        .bind(user_id)
        .fetch_all(&state.db.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, name, kind, role)| {
                Some(WorkspaceSummary {
                    id,
                    name,
                    kind: WorkspaceKind::from_stored(&kind),
                    role: Role::parse(&role)?,
                })
            })
            .collect())
    }

    /// Every member's id and name, by name: whom a list can be filtered by. The
    /// caller has checked that the user may read the workspace.
    pub async fn member_names(
        state: &crate::server::AppState,
        workspace_id: WorkspaceId,
    ) -> AppResult<Vec<(UserId, String)>> {
        Ok(sqlx::query_as(
            "SELECT u.id, u.display_name FROM memberships m JOIN users u ON u.id = m.user_id \
             WHERE m.workspace_id = $1 ORDER BY u.display_name, u.id",
        )
        .bind(workspace_id)
        .fetch_all(&state.db.pool)
        .await?)
    }

    pub async fn summary(
        state: &crate::server::AppState,
        user: &crate::model::user::SessionUser,
        workspace_id: WorkspaceId,
    ) -> AppResult<WorkspaceSummary> {
        let role = role_of(state, user, workspace_id, Need::Read).await?;
        let (name, kind): (String, String) =
            sqlx::query_as("SELECT name, kind FROM workspaces WHERE id = $1")
                .bind(workspace_id)
                .fetch_one(&state.db.pool)
                .await?;
        Ok(WorkspaceSummary {
            id: workspace_id,
            name,
            kind: WorkspaceKind::from_stored(&kind),
            role,
        })
    }

    pub async fn create_team(name: String, time_zone: String) -> AppResult<WorkspaceSummary> {
        let (state, user) = signed_in().await?;
        let name = validate_workspace_name(&name)?;
        let time_zone = if !time_zone.trim().is_empty() {
            crate::server::zone::check(&time_zone)?
        } else if let Some(browser) = crate::server::zone::of_browser() {
            browser
        } else {
            // Without the browser's zone (no JavaScript), the creator's own.
            let personal: Option<(String,)> = sqlx::query_as(
                "SELECT time_zone FROM workspaces WHERE created_by = $1 AND kind = 'personal'",
            )
            .bind(user.id)
            .fetch_optional(&state.db.pool)
            .await?;
            personal.map_or_else(|| crate::server::zone::DEFAULT.to_owned(), |(z,)| z)
        };
        let (count,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM memberships WHERE user_id = $1")
                .bind(user.id)
                .fetch_one(&state.db.pool)
                .await?;
        if count >= 100 {
            return Err(AppError::validation(
                "name",
                "You are in 100 workspaces already; leave one first.",
            ));
        }
        let now = now_ms();
        let mut tx = Write::begin(&state.db, user.id, now).await?;
        let id = create_workspace_tx(
            &mut tx,
            user.id,
            &name,
            WorkspaceKind::Team,
            &time_zone,
            now,
        )
        .await?;
        tx.commit(&state.hub).await?;
        leptos_axum::redirect(&format!("/w/{id}"));
        Ok(WorkspaceSummary {
            id,
            name,
            kind: WorkspaceKind::Team,
            role: Role::Owner,
        })
    }

    pub async fn team(workspace_id: WorkspaceId) -> AppResult<Team> {
        let (state, user) = signed_in().await?;
        let workspace = summary(&state, &user, workspace_id).await?;
        let rows: Vec<(UserId, String, String, String)> = sqlx::query_as(
            "SELECT u.id, u.display_name, u.email, m.role FROM memberships m JOIN users u ON u.id = m.user_id \
             WHERE m.workspace_id = $1 ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 \
             WHEN 'member' THEN 2 ELSE 3 END, u.display_name, u.id",
        )
        .bind(workspace_id)
        .fetch_all(&state.db.pool)
        .await?;
        let members = rows
            .into_iter()
            .filter_map(|(user_id, display_name, email, role)| {
                Some(Member {
                    user_id,
                    display_name,
                    email,
                    role: Role::parse(&role)?,
                })
            })
            .collect();
        let invites = if workspace.role.can_manage() {
            let rows: Vec<(String, String, i64)> = sqlx::query_as(
                "SELECT code, role, expires_at FROM invites WHERE workspace_id = $1 AND revoked_at IS NULL \
                 AND expires_at > $2 ORDER BY created_at DESC LIMIT 50",
            )
            .bind(workspace_id)
            .bind(now_ms())
            .fetch_all(&state.db.pool)
            .await?;
            rows.into_iter()
                .filter_map(|(code, role, expires_at)| {
                    Some(Invite {
                        code,
                        role: Role::parse(&role)?,
                        expires_at,
                    })
                })
                .collect()
        } else {
            Vec::new()
        };
        let connected = workspace.role.can_manage().then(|| {
            let mut c: Vec<(UserId, usize)> = state
                .hub
                .room_members(Stream::Workspace(workspace_id))
                .into_iter()
                .collect();
            c.sort_unstable();
            c
        });
        Ok(Team {
            connected,
            workspace,
            members,
            invites,
        })
    }

    fn new_invite_code() -> String {
        use rand::{distributions::Alphanumeric, Rng};
        rand::rngs::OsRng
            .sample_iter(&Alphanumeric)
            .take(24)
            .map(char::from)
            .collect()
    }

    pub async fn create_invite(workspace_id: WorkspaceId, role: String) -> AppResult<Invite> {
        let Caller {
            state,
            user,
            role: my_role,
        } = member(workspace_id, Need::Manage).await?;
        let ws = summary(&state, &user, workspace_id).await?;
        if ws.kind != WorkspaceKind::Team {
            return Err(AppError::forbidden(
                "A personal workspace cannot be shared. Create a team workspace.",
            ));
        }
        let role = match Role::parse(&role) {
            Some(r @ (Role::Member | Role::Viewer)) => r,
            Some(Role::Admin) if my_role == Role::Owner => Role::Admin,
            Some(Role::Admin) => {
                return Err(AppError::validation(
                    "role",
                    "Only an owner can invite admins.",
                ))
            }
            _ => {
                return Err(AppError::validation(
                    "role",
                    "Choose a role: admin, member or viewer.",
                ))
            }
        };
        let (open,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM invites WHERE workspace_id = $1 AND revoked_at IS NULL AND expires_at > $2",
        )
        .bind(workspace_id)
        .bind(now_ms())
        .fetch_one(&state.db.pool)
        .await?;
        if open >= 50 {
            return Err(AppError::validation(
                "role",
                "This workspace has 50 open invites; revoke some first.",
            ));
        }
        let code = new_invite_code();
        let now = now_ms();
        let expires_at = now + INVITE_TTL_MS;
        let mut tx =
            Write::begin_member(&state.db, user.id, workspace_id, Need::Manage, now).await?;
        sqlx::query(
            "INSERT INTO invites (code, workspace_id, role, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&code)
        .bind(workspace_id)
        .bind(role.as_str())
        .bind(user.id)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        // The code itself is a secret of the managers: the event carries only its terms.
        tx.emit(
            Stream::Workspace(workspace_id),
            Event::InviteCreated(InviteInfo { role, expires_at }),
        )
        .await?;
        tx.commit(&state.hub).await?;
        Ok(Invite {
            code,
            role,
            expires_at,
        })
    }

    pub async fn revoke_invite(workspace_id: WorkspaceId, code: String) -> AppResult<()> {
        let now = now_ms();
        let (Caller { state, .. }, mut tx) =
            Write::guarded(workspace_id, Need::Manage, now).await?;
        let revoked: Option<(String, i64)> = sqlx::query_as(
            "UPDATE invites SET revoked_at = $1 WHERE code = $2 AND workspace_id = $3 AND revoked_at IS NULL \
             RETURNING role, expires_at",
        )
        .bind(now)
        .bind(&code)
        .bind(workspace_id)
        .fetch_optional(&mut *tx)
        .await?;
        let (role, expires_at) = revoked.ok_or_else(|| AppError::not_found("Invite"))?;
        let role = Role::parse(&role).ok_or(AppError::Internal)?;
        tx.emit(
            Stream::Workspace(workspace_id),
            Event::InviteRevoked(InviteInfo { role, expires_at }),
        )
        .await?;
        tx.commit(&state.hub).await?;
        Ok(())
    }

    /// A valid, open invite: (workspace id, workspace name, role).
    async fn open_invite(
        state: &crate::server::AppState,
        code: &str,
    ) -> AppResult<(WorkspaceId, String, Role, String)> {
        let code = code.trim();
        if code.is_empty() || code.len() > 64 {
            return Err(AppError::validation(
                "code",
                "Enter the invite code you were given.",
            ));
        }
        let row: Option<(WorkspaceId, String, String, String)> = sqlx::query_as(
            "SELECT w.id, w.name, i.role, u.display_name FROM invites i \
             JOIN workspaces w ON w.id = i.workspace_id JOIN users u ON u.id = i.created_by \
             WHERE i.code = $1 AND i.revoked_at IS NULL AND i.expires_at > $2",
        )
        .bind(code)
        .bind(now_ms())
        .fetch_optional(&state.db.pool)
        .await?;
        row.and_then(|(id, name, role, by)| Some((id, name, Role::parse(&role)?, by)))
            .ok_or_else(|| {
                AppError::validation(
                    "code",
                    "This invite is not valid: it may have expired or been revoked.",
                )
            })
    }

    pub async fn invite_preview(code: String) -> AppResult<InvitePreview> {
        let (state, user) = signed_in().await?;
        let (ws, workspace_name, role, invited_by) = open_invite(&state, &code).await?;
        let already_member = role_of(&state, &user, ws, Need::Read).await.is_ok();
        Ok(InvitePreview {
            workspace_name,
            invited_by,
            role,
            already_member,
        })
    }

    pub async fn join(code: String) -> AppResult<WorkspaceSummary> {
        let (state, user) = signed_in().await?;
        let (ws, _, role, _) = open_invite(&state, &code).await?;
        if role_of(&state, &user, ws, Need::Read).await.is_err() {
            let (count,): (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM memberships WHERE workspace_id = $1")
                    .bind(ws)
                    .fetch_one(&state.db.pool)
                    .await?;
            if count >= MAX_MEMBERS {
                return Err(AppError::validation("code", "This workspace is full."));
            }
            // A concurrent join of the same user inserts nothing twice (primary key).
            let mut tx = Write::begin(&state.db, user.id, now_ms()).await?;
            let inserted = sqlx::query(
                "INSERT INTO memberships (workspace_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(ws)
            .bind(user.id)
            .bind(role.as_str())
            .bind(tx.now())
            .execute(&mut *tx)
            .await;
            match inserted {
                Ok(_) => {
                    let info = MemberInfo {
                        user_id: user.id,
                        display_name: user.display_name.clone(),
                        role,
                    };
                    tx.emit(Stream::Workspace(ws), Event::MemberJoined(info))
                        .await?;
                    // The newcomer reads the log from their own member:joined on (this
                    // transaction holds the stream's head, so it is that event's seq).
                    sqlx::query(
                        "UPDATE memberships SET since_seq = \
                         (SELECT last_seq - 1 FROM stream_heads WHERE stream = $1) \
                         WHERE workspace_id = $2 AND user_id = $3",
                    )
                    .bind(Stream::Workspace(ws).key())
                    .bind(ws)
                    .bind(user.id)
                    .execute(&mut *tx)
                    .await?;
                    tx.commit(&state.hub).await?;
                    tracing::info!(
                        workspace_id = ws.0,
                        user_id = user.id.0,
                        role = role.as_str(),
                        "member joined"
                    );
                }
                Err(e) if crate::server::db::is_unique_violation(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
        leptos_axum::redirect(&format!("/w/{ws}"));
        summary(&state, &user, ws).await
    }

    pub async fn remove_member(workspace_id: WorkspaceId, target: UserId) -> AppResult<()> {
        let (state, user) = signed_in().await?;
        let leaving = target == user.id;
        let my_role = role_of(
            &state,
            &user,
            workspace_id,
            if leaving { Need::Read } else { Need::Manage },
        )
        .await?;
        let ws = summary(&state, &user, workspace_id).await?;
        if ws.kind != WorkspaceKind::Team {
            return Err(AppError::forbidden(
                "Nobody can leave or be removed from a personal workspace.",
            ));
        }
        let mut tx = Write::begin_member(
            &state.db,
            user.id,
            workspace_id,
            if leaving { Need::Read } else { Need::Manage },
            now_ms(),
        )
        .await?;
        // Delete first: it takes the write lock before the checks below read.
        let removed: Option<(String,)> = sqlx::query_as(
            "DELETE FROM memberships WHERE workspace_id = $1 AND user_id = $2 RETURNING role",
        )
        .bind(workspace_id)
        .bind(target)
        .fetch_optional(&mut *tx)
        .await?;
        let removed = removed
            .and_then(|(r,)| Role::parse(&r))
            .ok_or_else(|| AppError::not_found("Member"))?;
        if !leaving && my_role != Role::Owner && matches!(removed, Role::Owner | Role::Admin) {
            return Err(AppError::forbidden(
                "Only an owner can remove an owner or admin.",
            ));
        }
        if removed == Role::Owner {
            let (owners,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM memberships WHERE workspace_id = $1 AND role = 'owner'",
            )
            .bind(workspace_id)
            .fetch_one(&mut *tx)
            .await?;
            if owners == 0 {
                return Err(AppError::validation(
                    "user_id",
                    "A workspace needs at least one owner. Make someone else owner first.",
                ));
            }
        }
        // What they chose to hear goes with the membership (a new one starts quiet again).
        sqlx::query(
            "DELETE FROM notification_preferences WHERE workspace_id = $1 AND user_id = $2",
        )
        .bind(workspace_id)
        .bind(target)
        .execute(&mut *tx)
        .await?;
        tx.emit(
            Stream::Workspace(workspace_id),
            Event::MemberLeft(MemberGone { user_id: target }),
        )
        .await?;
        if target != user.id {
            let (name,): (String,) = sqlx::query_as("SELECT name FROM workspaces WHERE id = $1")
                .bind(workspace_id)
                .fetch_one(&mut *tx)
                .await?;
            tx.notify(
                target,
                None,
                None,
                NotificationLevel::Warning,
                &format!("You were removed from {name}"),
                "You can no longer see or change this workspace.",
            )
            .await?;
        }
        // Waking the hub (after the commit) delivers `member:left`, and at delivery (on
        // every instance) the removed user's sockets leave the room before anything
        // later goes out.
        tx.commit(&state.hub).await?;
        tracing::info!(
            workspace_id = workspace_id.0,
            target = target.0,
            by = user.id.0,
            "member removed"
        );
        Ok(())
    }

    pub async fn change_role(
        workspace_id: WorkspaceId,
        target: UserId,
        role: String,
    ) -> AppResult<()> {
        let Caller {
            state,
            user,
            role: my_role,
        } = member(workspace_id, Need::Manage).await?;
        let Some(new_role) = Role::parse(&role) else {
            return Err(AppError::validation(
                "role",
                "Choose a role: owner, admin, member or viewer.",
            ));
        };
        let mut tx =
            Write::begin_member(&state.db, user.id, workspace_id, Need::Manage, now_ms()).await?;
        let current = crate::server::authz::role_in(&mut *tx, workspace_id, target)
            .await?
            .ok_or_else(|| AppError::not_found("Member"))?;
        // Admins manage members and viewers; only owners touch owners and admins.
        if my_role != Role::Owner
            && (matches!(current, Role::Owner | Role::Admin)
                || matches!(new_role, Role::Owner | Role::Admin))
        {
            return Err(AppError::forbidden(
                "Only an owner can change who is an owner or admin.",
            ));
        }
        if current == Role::Owner && new_role != Role::Owner {
            let (owners,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM memberships WHERE workspace_id = $1 AND role = 'owner'",
            )
            .bind(workspace_id)
            .fetch_one(&mut *tx)
            .await?;
            if owners <= 1 {
                return Err(AppError::validation(
                    "role",
                    "A workspace needs at least one owner. Make someone else owner first.",
                ));
            }
        }
        if new_role == current {
            // Nothing changes, so nothing is announced (the transaction only read).
            return Ok(());
        }
        sqlx::query("UPDATE memberships SET role = $1 WHERE workspace_id = $2 AND user_id = $3")
            .bind(new_role.as_str())
            .bind(workspace_id)
            .bind(target)
            .execute(&mut *tx)
            .await?;
        let (display_name,): (String,) =
            sqlx::query_as("SELECT display_name FROM users WHERE id = $1")
                .bind(target)
                .fetch_one(&mut *tx)
                .await?;
        let info = MemberInfo {
            user_id: target,
            display_name,
            role: new_role,
        };
        tx.emit(
            Stream::Workspace(workspace_id),
            Event::MemberRoleChanged(info),
        )
        .await?;
        tx.commit(&state.hub).await?;
        tracing::info!(
            workspace_id = workspace_id.0,
            target = target.0,
            role = new_role.as_str(),
            by = user.id.0,
            "role changed"
        );
        Ok(())
    }
}
