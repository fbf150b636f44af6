//! Notifications: stored per user, announced on the user's stream, shown as toasts
//! and in the notification list with an unread count. Reading one acknowledges it.
//!
//! Workspace events whose kind `notifies_members()` (a budget alert, a goal's progress, a
//! member joining, leaving or changing role, a new expense or earning) raise a
//! notification for the other members, in the same transaction as the change
//! (`server::events::Write`), as far as each chose to hear that topic in that workspace
//! (`set_notification_preferences`; by default every topic but teammates' expenses and
//! earnings, which are too many to be news).

use crate::model::ids::{UserId, WorkspaceId};
use leptos::prelude::*;

use crate::error::AppError;

pub use crate::model::notification::{
    Hearing, Hearings, Notification, NotificationList, Topic, LIST_LIMIT, MARK_ALL_LIMIT,
};

#[server(endpoint = "notifications/list", input = crate::wire::Form, output = crate::wire::Json)]
pub async fn list_notifications() -> Result<NotificationList, AppError> {
    ssr::list().await
}

/// Marks one of the caller's notifications read (acknowledges it).
#[server(endpoint = "notifications/read", input = crate::wire::Form, output = crate::wire::Json)]
pub async fn mark_notification_read(id: i64) -> Result<(), AppError> {
    ssr::mark_read(Some(id)).await.map(|_| ())
}

/// Marks every unread notification of the caller read; returns how many.
#[server(endpoint = "notifications/read-all", input = crate::wire::Form, output = crate::wire::Json)]
pub async fn mark_all_notifications_read() -> Result<u64, AppError> {
    ssr::mark_read(None).await
}

/// Removes one of the caller's notifications from their list (`notification:dismissed`).
#[server(endpoint = "notifications/dismiss", input = crate::wire::Form, output = crate::wire::Json)]
pub async fn dismiss_notification(id: i64) -> Result<(), AppError> {
    ssr::dismiss(id).await
}

/// What the caller hears of each topic in a workspace: their choice, else the default.
#[server(endpoint = "notifications/preferences", input = crate::wire::Form)]
pub async fn notification_preferences(workspace_id: WorkspaceId) -> Result<Hearings, AppError> {
    ssr::preferences(workspace_id).await
}

/// Sets what the caller hears of topics in a workspace: `toast`, `unread` or `off` per
/// topic (form fields named after `Topic::as_str`); a topic left out or empty keeps its
/// choice. Any member may, viewers too: it is about what they are told.
// `PostUrl`, not `wire::Form`: an `<ActionForm>` posts here, and it asks for `PostUrl`.
#[server(endpoint = "notifications/set-preferences")]
#[allow(clippy::too_many_arguments)]
pub async fn set_notification_preferences(
    workspace_id: WorkspaceId,
    #[server(default)] budgets: String,
    #[server(default)] goals: String,
    #[server(default)] team: String,
    #[server(default)] imports: String,
    #[server(default)] messages: String,
    #[server(default)] expenses: String,
    #[server(default)] earnings: String,
) -> Result<(), AppError> {
    let given = [budgets, goals, team, imports, messages, expenses, earnings];
    ssr::set_preferences(workspace_id, Topic::ALL.into_iter().zip(given).collect()).await
}

/// Longest title and message of a notification someone sends.
pub const MAX_TITLE: usize = 80;
pub const MAX_MESSAGE: usize = 500;
/// Sends (to any number of people) per user per minute.
pub const SENDS_PER_MINUTE: u32 = 10;

/// An owner or admin tells the workspace something: every member but the sender, or
/// only the members in `to`. Returns how many were notified.
#[server(endpoint = "notifications/send", input = crate::wire::Form)]
pub async fn send_notification(
    workspace_id: WorkspaceId,
    title: String,
    message: String,
    level: String,
    #[server(default)] to: Vec<UserId>,
) -> Result<u64, AppError> {
    ssr::send(workspace_id, title, message, level, to).await
}

#[cfg(feature = "ssr")]
pub mod ssr {

    use super::*;
    use crate::live::Event;
    use crate::{
        error::AppResult,
        live::{
            catalog::{NotificationLevel, NotificationRef},
            Stream,
        },
        model::{notification::Topic, workspace::Need},
        server::{
            authz::{member, signed_in, Caller},
            db::snapshot,
            events::Write,
            now_ms, outbox,
        },
    };

    pub async fn list() -> AppResult<NotificationList> {
        let (state, user) = signed_in().await?;
        let mut tx = snapshot(&state.db).await?;
        let cursor = outbox::head_in(&mut *tx, Stream::User(user.id)).await?;
        let rows: Vec<crate::live::catalog::NotificationRow> = sqlx::query_as(&format!(
            "SELECT id, workspace_id, level, title, message, created_at, read_at FROM notifications \
             WHERE user_id = $1 ORDER BY id DESC LIMIT {LIST_LIMIT}"
        ))
        .bind(user.id)
        .fetch_all(&mut *tx)
        .await?;
        let (unread,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL",
        )
        .bind(user.id)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(NotificationList {
            items: rows.into_iter().map(Notification::from_row).collect(),
            unread,
            cursor,
        })
    }

    /// Marks `id` (or, with `None`, every unread one up to `MARK_ALL_LIMIT`) read, and
    /// announces each on the user's stream. Someone else's notification is not found.
    pub async fn mark_read(id: Option<i64>) -> AppResult<u64> {
        let (state, user) = signed_in().await?;
        let now = now_ms();
        let mut tx = Write::begin(&state.db, user.id, now).await?;
        let ids: Vec<(i64,)> = match id {
            Some(id) => {
                let found: Option<(Option<i64>,)> = sqlx::query_as(
                    "SELECT read_at FROM notifications WHERE id = $1 AND user_id = $2",
                )
                .bind(id)
                .bind(user.id)
                .fetch_optional(&mut *tx)
                .await?;
                match found {
                    None => return Err(AppError::not_found("Notification")),
                    // Already read: nothing changes, nothing is announced.
                    Some((Some(_),)) => Vec::new(),
                    Some((None,)) => vec![(id,)],
                }
            }
            None => {
                sqlx::query_as(&format!(
                    "SELECT id FROM notifications WHERE user_id = $1 AND read_at IS NULL ORDER BY id LIMIT {MARK_ALL_LIMIT}"
                ))
                .bind(user.id)
                .fetch_all(&mut *tx)
                .await?
            }
        };
        for (id,) in &ids {
            sqlx::query("UPDATE notifications SET read_at = $1 WHERE id = $2 AND read_at IS NULL")
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.emit(
                Stream::User(user.id),
                Event::NotificationRead(NotificationRef { id: *id }),
            )
            .await?;
        }
        tx.commit(&state.hub).await?;
        Ok(ids.len() as u64)
    }

    pub async fn dismiss(id: i64) -> AppResult<()> {
        let (state, user) = signed_in().await?;
        let now = now_ms();
        let mut tx = Write::begin(&state.db, user.id, now).await?;
        let gone: Option<(i64,)> =
            sqlx::query_as("DELETE FROM notifications WHERE id = $1 AND user_id = $2 RETURNING id")
                .bind(id)
                .bind(user.id)
                .fetch_optional(&mut *tx)
                .await?;
        if gone.is_none() {
            return Err(AppError::not_found("Notification"));
        }
        tx.emit(
            Stream::User(user.id),
            Event::NotificationDismissed(NotificationRef { id }),
        )
        .await?;
        tx.commit(&state.hub).await?;
        Ok(())
    }

    pub async fn preferences(workspace_id: WorkspaceId) -> AppResult<Hearings> {
        let Caller { state, user, .. } = member(workspace_id, Need::Read).await?;
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT topic, mode FROM notification_preferences WHERE workspace_id = $1 AND user_id = $2",
        )
        .bind(workspace_id)
        .bind(user.id)
        .fetch_all(&state.db.pool)
        .await?;
        Ok(Topic::ALL
            .into_iter()
            .map(|topic| {
                let chosen = rows.iter().find(|(t, _)| t == topic.as_str());
                (topic, topic.hearing(chosen.map(|(_, m)| m.as_str())))
            })
            .collect())
    }

    /// Checks every value first, then stores the choices that differ from the default
    /// and forgets the rest: nothing is written when one value is wrong.
    pub async fn set_preferences(
        workspace_id: WorkspaceId,
        given: Vec<(Topic, String)>,
    ) -> AppResult<()> {
        let Caller { state, user, .. } = member(workspace_id, Need::Read).await?;
        let mut chosen = Vec::new();
        for (topic, value) in given {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            let Some(hearing) = Hearing::from_stored(value) else {
                return Err(AppError::validation(
                    topic.as_str(),
                    "Choose toast, unread or off.",
                ));
            };
            chosen.push((topic, hearing));
        }
        let mut tx = state.db.writer.begin().await?;
        for (topic, hearing) in chosen {
            if hearing == topic.default_hearing() {
                sqlx::query(
                    "DELETE FROM notification_preferences WHERE workspace_id = $1 AND user_id = $2 AND topic = $3",
                )
                .bind(workspace_id)
                .bind(user.id)
                .bind(topic.as_str())
                .execute(&mut *tx)
                .await?;
            } else {
                sqlx::query(
                    "INSERT INTO notification_preferences (workspace_id, user_id, topic, mode) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (workspace_id, user_id, topic) DO UPDATE SET mode = excluded.mode",
                )
                .bind(workspace_id)
                .bind(user.id)
                .bind(topic.as_str())
                .bind(hearing.as_str())
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Checks a title or message someone typed: trimmed, not empty, not too long,
    /// no control characters (a message may have line breaks).
    fn text(field: &str, raw: &str, max: usize, lines: bool) -> AppResult<String> {
        let t = raw.trim().to_owned();
        if t.is_empty() {
            return Err(AppError::validation(field, "This cannot be empty."));
        }
        if t.chars().count() > max {
            return Err(AppError::validation(
                field,
                format!("Use at most {max} characters."),
            ));
        }
        if t.chars().any(|c| c.is_control() && !(lines && c == '\n')) {
            return Err(AppError::validation(
                field,
                "This contains invalid characters.",
            ));
        }
        Ok(t)
    }

    pub async fn send(
        workspace_id: WorkspaceId,
        title: String,
        message: String,
        level: String,
        mut to: Vec<UserId>,
    ) -> AppResult<u64> {
        let Caller { state, user, .. } = member(workspace_id, Need::Manage).await?;
        let title = text("title", &title, MAX_TITLE, false)?;
        let message = text("message", &message.replace("\r\n", "\n"), MAX_MESSAGE, true)?;
        let level = match level.trim() {
            "info" => NotificationLevel::Info,
            "success" => NotificationLevel::Success,
            "warning" => NotificationLevel::Warning,
            "error" => NotificationLevel::Error,
            _ => {
                return Err(AppError::validation(
                    "level",
                    "Choose a level from the list.",
                ))
            }
        };
        to.sort_unstable();
        to.dedup();
        state
            .action_limiter
            .attempt(user.id, "notification-send", SENDS_PER_MINUTE)
            .await?;
        let now = now_ms();
        let mut tx = Write::begin(&state.db, user.id, now).await?;
        let members: Vec<(UserId,)> = sqlx::query_as(
            "SELECT user_id FROM memberships WHERE workspace_id = $1 AND user_id <> $2 ORDER BY user_id",
        )
        .bind(workspace_id)
        .bind(user.id)
        .fetch_all(&mut *tx)
        .await?;
        let members: Vec<UserId> = members.into_iter().map(|(id,)| id).collect();
        let recipients = if to.is_empty() {
            members
        } else if let Some(stranger) = to.iter().find(|id| !members.contains(id)) {
            return Err(AppError::validation(
                "to",
                format!("User {stranger} is not another member of this workspace."),
            ));
        } else {
            to
        };
        let title = format!("{title} — from {}", user.display_name);
        tx.notify_all(
            &recipients,
            Some(workspace_id),
            Some(Topic::Messages),
            level,
            &title,
            &message,
        )
        .await?;
        tx.commit(&state.hub).await?;
        tracing::info!(
            workspace_id = workspace_id.0,
            recipients = recipients.len(),
            "notification sent"
        );
        Ok(recipients.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::{
        catalog::{NotificationLevel, NotificationRef},
        follow::{apply_batch, Step},
        Envelope, Event, Priority, Stream,
    };

    fn n(id: i64, read: bool) -> Notification {
        Notification {
            id,
            level: NotificationLevel::Info,
            title: format!("t{id}"),
            message: String::new(),
            workspace_id: None,
            dismissible: true,
            duration_ms: Some(6000),
            created_at: 0,
            read,
        }
    }

    fn at(seq: i64, event: Event) -> Envelope {
        Envelope {
            seq,
            stream: Stream::User(UserId(1)),
            timestamp: 0,
            priority: Priority::Normal,
            event,
        }
    }

    #[test]
    fn the_unread_count_follows_created_and_read_events() {
        let mut list = NotificationList {
            items: vec![n(2, false), n(1, true)],
            unread: 3, // one more unread beyond the window
            cursor: 4,
        };
        let batch = [
            at(5, Event::NotificationCreated(n(3, false))),
            at(6, Event::NotificationRead(NotificationRef { id: 2 })),
            at(7, Event::NotificationRead(NotificationRef { id: 77 })),
        ];
        assert_eq!(apply_batch(&mut list, &batch), Step::Applied);
        assert_eq!(list.unread, 2);
        assert_eq!(
            list.items
                .iter()
                .map(|n| (n.id, n.read))
                .collect::<Vec<_>>(),
            vec![(3, false), (2, true), (1, true)]
        );
    }
}
