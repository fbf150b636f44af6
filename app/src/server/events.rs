//! The one way a write emits events. A feature opens a [`Write`] (a database
//! transaction that knows who acts and when), changes its rows through it, and calls
//! [`Write::emit`] for each event: the event is appended to the log (`outbox`), the
//! catalog's notify policy is applied in the same transaction, and the stream is noted
//! for waking. [`Write::commit`] commits, then wakes the hub. No feature appends to
//! the outbox or wakes the hub itself, so a rolled-back write emits nothing and a
//! committed one is never missed.
//!
//! The notify policy: a workspace event whose kind `notifies_members()` becomes a stored
//! notification, and a `notification:created` on the user stream, for every other member
//! of the workspace (alerts, `notifies_actor()`: every member), worded by [`describe`].
//! Kinds addressed to chosen people (a deleted workspace, an import's report) skip it;
//! their writers call [`Write::notify`] for each recipient, as does a message.

use std::ops::{Deref, DerefMut};

use sqlx::{Any, AnyConnection, Transaction};

use super::{
    db::{values, Db},
    hub::Hub,
    outbox,
};
use crate::{
    error::AppResult,
    live::{
        catalog::{BudgetInfo, Notification, NotificationLevel},
        Envelope, Event, Stream,
    },
    model::ids::{UserId, WorkspaceId},
    money::format_display,
};

/// A write in progress: its transaction, who acts, when, and the streams to wake.
/// Derefs to the transaction's connection, so `&mut *write` (or `&mut **write` through
/// a `&mut Write`) runs a query in it.
pub struct Write {
    tx: Transaction<'static, Any>,
    wake: Vec<Stream>,
    actor: UserId,
    now: i64,
}

impl Write {
    /// Begins a write by user `actor` at `now` (Unix ms).
    pub async fn begin(db: &Db, actor: UserId, now: i64) -> AppResult<Write> {
        Ok(Write {
            tx: db.pool.begin().await?,
            wake: Vec::new(),
            actor,
            now,
        })
    }

    /// When the write happens (Unix ms): its events' timestamp, and the time derived
    /// writes (budget alerts, milestones) record.
    pub fn now(&self) -> i64 {
        self.now
    }

    /// Who acts from now on: a sign-up's new account, once its row exists.
    pub fn set_actor(&mut self, actor: UserId) {
        self.actor = actor;
    }

    /// Appends `event` to `stream`, applies the notify policy to workspace events, and
    /// notes the streams to wake once committed.
    pub async fn emit(&mut self, stream: Stream, event: Event) -> AppResult<Envelope> {
        let kind = event.kind();
        let notice = match stream {
            Stream::Workspace(ws) if kind.notifies_members() => {
                self.notice(ws, &event).await?.map(|told| (ws, told))
            }
            _ => None,
        };
        let envelope = outbox::append(&mut self.tx, stream, event, self.now).await?;
        self.wake(stream);
        if let Some((ws, (members, (level, title, message)))) = notice {
            self.notify_all(&members, Some(ws), level, &title, &message)
                .await?;
        }
        Ok(envelope)
    }

    /// Stores a notification for `user_id` and announces it on their stream.
    pub async fn notify(
        &mut self,
        user_id: UserId,
        workspace_id: Option<WorkspaceId>,
        level: NotificationLevel,
        title: &str,
        message: &str,
    ) -> AppResult<()> {
        self.notify_all(&[user_id], workspace_id, level, title, message)
            .await
    }

    /// Stores the same notification for each of `users` and announces each on its
    /// user's stream: three statements for any number of people (`outbox::append_all`).
    pub async fn notify_all(
        &mut self,
        users: &[UserId],
        workspace_id: Option<WorkspaceId>,
        level: NotificationLevel,
        title: &str,
        message: &str,
    ) -> AppResult<()> {
        let mut users = users.to_vec();
        users.sort_unstable();
        users.dedup();
        if users.is_empty() {
            return Ok(());
        }
        // Shared: $1 workspace, $2 level, $3 title, $4 message, $5 time; then a user per row.
        let sql = format!(
            "INSERT INTO notifications (user_id, workspace_id, level, title, message, created_at) \
             VALUES {} RETURNING id, user_id",
            values(users.len(), 1, 5, |p| format!("(${p}, $1, $2, $3, $4, $5)"))
        );
        let mut insert = sqlx::query_as::<_, (i64, UserId)>(&sql)
            .bind(workspace_id)
            .bind(level.as_str())
            .bind(title)
            .bind(message)
            .bind(self.now);
        for user in &users {
            insert = insert.bind(*user);
        }
        let stored = insert.fetch_all(&mut *self.tx).await?;
        let events = stored
            .into_iter()
            .map(|(id, user)| {
                let notification = Notification::from_row((
                    id,
                    workspace_id,
                    level.as_str().to_owned(),
                    title.to_owned(),
                    message.to_owned(),
                    self.now,
                    None,
                ));
                (Stream::User(user), Event::NotificationCreated(notification))
            })
            .collect::<Vec<_>>();
        for (stream, _) in &events {
            self.wake(*stream);
        }
        outbox::append_all(&mut self.tx, events, self.now).await?;
        Ok(())
    }

    /// Commits, then wakes the hub (and through it the other instances) for every
    /// stream written: waking before the commit would let them tail the log too early.
    pub async fn commit(self, hub: &Hub) -> AppResult<()> {
        self.tx.commit().await?;
        for stream in self.wake {
            hub.committed(stream);
        }
        Ok(())
    }

    /// Undoes everything, events included; nothing is woken.
    pub async fn rollback(self) -> AppResult<()> {
        Ok(self.tx.rollback().await?)
    }

    fn wake(&mut self, stream: Stream) {
        if !self.wake.contains(&stream) {
            self.wake.push(stream);
        }
    }

    /// Who to tell about a workspace event, and what; `None` when no one or nothing.
    async fn notice(
        &mut self,
        ws: WorkspaceId,
        event: &Event,
    ) -> AppResult<Option<(Vec<UserId>, (NotificationLevel, String, String))>> {
        // The actor is left out unless the event is an alert (no member has id 0).
        let except = if event.kind().notifies_actor() {
            UserId(0)
        } else {
            self.actor
        };
        // The workspace's name and the members to tell, in one query: a row with no
        // member when there is no one.
        let rows: Vec<(String, Option<UserId>)> = sqlx::query_as(
            "SELECT w.name, m.user_id FROM workspaces w \
             LEFT JOIN memberships m ON m.workspace_id = w.id AND m.user_id <> $2 \
             WHERE w.id = $1 ORDER BY m.user_id",
        )
        .bind(ws)
        .bind(except)
        .fetch_all(&mut *self.tx)
        .await?;
        let Some(workspace) = rows.first().map(|(name, _)| name.clone()) else {
            return Ok(None);
        };
        let members: Vec<UserId> = rows.into_iter().filter_map(|(_, id)| id).collect();
        // Most writes (any in a personal workspace) have no one to tell, and then
        // nothing needs describing.
        if members.is_empty() {
            return Ok(None);
        }
        let actor = self.actor;
        Ok(describe(&mut self.tx, &workspace, event, actor)
            .await?
            .map(|text| (members, text)))
    }
}

impl Deref for Write {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl DerefMut for Write {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

async fn display_name(tx: &mut Transaction<'_, Any>, id: UserId) -> AppResult<String> {
    let row: Option<(String,)> = sqlx::query_as("SELECT display_name FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.map(|(n,)| n).unwrap_or_else(|| "Someone".into()))
}

/// A notification's level, title and message for a workspace event whose kind
/// `notifies_members()`; `None` when there is nothing to say (a 100 % milestone, which
/// `goal:achieved` says).
async fn describe(
    tx: &mut Transaction<'_, Any>,
    workspace: &str,
    event: &Event,
    actor: UserId,
) -> AppResult<Option<(NotificationLevel, String, String)>> {
    Ok(Some(match event {
        Event::ExpenseCreated(e) => {
            let what = if e.description.is_empty() {
                e.category.clone()
            } else {
                e.description.clone()
            };
            (
                NotificationLevel::Info,
                format!("New expense in {workspace}"),
                format!("{} added {what}: {}", e.created_by_name, e.amount_display()),
            )
        }
        Event::EarningNew(e) => (
            NotificationLevel::Success,
            format!("New earning in {workspace}"),
            format!(
                "{} logged {} on {}",
                display_name(tx, actor).await?,
                format_display(e.amount_minor, &e.currency),
                e.platform_name
            ),
        ),
        Event::MemberJoined(m) => (
            NotificationLevel::Info,
            format!("{} joined {workspace}", m.display_name),
            format!("as {}", m.role.label()),
        ),
        Event::MemberLeft(m) => (
            NotificationLevel::Warning,
            format!("A member left {workspace}"),
            format!(
                "{} is no longer a member.",
                display_name(tx, m.user_id).await?
            ),
        ),
        Event::MemberRoleChanged(m) => (
            NotificationLevel::Info,
            format!("Role changed in {workspace}"),
            format!("{} is now {}.", m.display_name, m.role.label()),
        ),
        Event::BudgetWarning(b) => (
            NotificationLevel::Warning,
            format!("{} budget at {} % in {workspace}", b.category, b.percent()),
            spent_of(b),
        ),
        Event::BudgetExceeded(b) => (
            NotificationLevel::Error,
            format!("{} budget exceeded in {workspace}", b.category),
            spent_of(b),
        ),
        Event::GoalCreated(g) => (
            NotificationLevel::Info,
            format!("New goal in {workspace}"),
            format!(
                "{} set a goal: {}, {}",
                display_name(tx, actor).await?,
                g.name,
                format_display(g.target_minor, &g.currency)
            ),
        ),
        // The goal's completion says the same, once.
        Event::MilestoneCompleted(m) if m.percent >= 100 => return Ok(None),
        Event::MilestoneCompleted(m) => (
            NotificationLevel::Success,
            format!("{}: {} % reached", m.name, m.percent),
            format!("A milestone of a goal in {workspace}."),
        ),
        Event::GoalAchieved(g) => (
            NotificationLevel::Success,
            format!("Goal achieved in {workspace}: {}", g.name),
            format!(
                "{} of {} saved.",
                format_display(g.saved_minor, &g.currency),
                format_display(g.target_minor, &g.currency)
            ),
        ),
        _ => return Ok(None),
    }))
}

/// "450.00 EUR of 500.00 EUR spent in 2026-11."
fn spent_of(b: &BudgetInfo) -> String {
    format!(
        "{} of {} spent in {}.",
        format_display(b.spent_minor, &b.currency),
        format_display(b.limit_minor, &b.currency),
        b.month
    )
}
