//! The one way a write emits events. A feature opens a [`Write`] (a database
//! transaction that knows who acts and when), changes its rows through it, and calls
//! [`Write::emit`] for each event: the event is appended to the log (`outbox`), the
//! catalog's notify policy is applied in the same transaction, and the event is kept
//! for the hub. [`Write::commit`] commits, then hands the hub every event it wrote
//! (which spares the hub reading them back from the log). No feature appends to
//! the outbox or wakes the hub itself, so a rolled-back write emits nothing and a
//! committed one is never missed.
//!
//! The notify policy: a workspace event whose kind `notifies_members()` becomes a
//! notice for every other member of the workspace (alerts, `notifies_actor()`: every
//! member), worded by [`describe`], about a [`Topic`]. Kinds addressed to chosen people
//! (a deleted workspace, an import's report) skip it; their writers call
//! [`Write::notify`] for each recipient, as does a message.
//!
//! Notices are held until [`Write::commit`], which applies what each member chose to hear
//! of each topic in that workspace (`notification_preferences`, else the topic's quiet
//! default): nothing is stored or sent for a topic someone turned off. What one member
//! is told by one write is one notification (a contribution that passes three milestones
//! and the goal says so once, led by the most severe), stored with its
//! `notification:created` on their user stream; "unread only" sends it without a toast.
//!
//! A notice about one row (`subject`, e.g. `expense:12`) is retracted when an event
//! says the row was deleted: the notifications go, with a `notification:dismissed` each.

use std::ops::{Deref, DerefMut};

use sqlx::AnyConnection;

use super::{
    authz::{self, allowed_in, Caller},
    db::{values, Backend, Db, WriteTx},
    hub::Hub,
    outbox::{self, Logged},
    state::state,
};
use crate::{
    error::{AppError, AppResult},
    live::{
        catalog::{BudgetInfo, Notification, NotificationLevel, NotificationRef},
        Event, Stream,
    },
    model::{
        ids::{UserId, WorkspaceId},
        notification::{Hearing, Topic},
        workspace::Need,
    },
    money::format_display,
};

/// A write in progress: its transaction, who acts, when, and the events it appended
/// (handed to the hub once committed).
/// Derefs to the transaction's connection, so `&mut *write` (or `&mut **write` through
/// a `&mut Write`) runs a query in it.
pub struct Write {
    tx: WriteTx,
    logged: Vec<(Stream, Logged)>,
    actor: UserId,
    now: i64,
    notices: Vec<Notice>,
}

/// Something to tell `users`, held until the write commits.
#[derive(Debug, Clone)]
struct Notice {
    /// Who, and how each chose to hear it when that is known already (the notify
    /// policy reads it with the members, [`Write::notice`]); `None`: read at commit.
    users: Vec<(UserId, Option<Hearing>)>,
    workspace_id: Option<WorkspaceId>,
    /// `None`: told whatever anyone chose (losing access to a workspace).
    topic: Option<Topic>,
    level: NotificationLevel,
    title: String,
    message: String,
    subject: Option<String>,
    /// Addressed to these people by the writer (`Write::notify`), not by the policy:
    /// it leads a burst among equally severe notices ("You now own …").
    direct: bool,
}

/// What one member hears of one write in one workspace: each notice, and how.
type Burst<'n> = (UserId, Option<WorkspaceId>, Vec<(&'n Notice, Hearing)>);

/// One member's notification from one write, as stored.
#[derive(Debug, Clone, PartialEq)]
struct Told {
    workspace_id: Option<WorkspaceId>,
    level: NotificationLevel,
    title: String,
    message: String,
    subject: Option<String>,
    toast: bool,
}

impl Write {
    /// Begins a write by user `actor` at `now` (Unix ms).
    pub async fn begin(db: &Db, actor: UserId, now: i64) -> AppResult<Write> {
        Ok(Write {
            tx: db.writer.begin().await?,
            logged: Vec::new(),
            actor,
            now,
            notices: Vec::new(),
        })
    }

    /// Begins a write on `workspace_id` by `actor`, whom the request's guard
    /// (`authz::member`) let through with `need`, and applies that rule again inside the
    /// write, where no removal or demotion can commit between the check and the rows.
    /// Between the guard and the write one could: the write then landed after
    /// `member:left` (`hardening.rs`, `a_write_racing_its_writers_removal_…`). On SQLite
    /// the write holds the database's write lock from its first statement. On PostgreSQL
    /// it first takes the workspace's stream head, which every removal and role change
    /// also takes (its `member:left` or `member:role_changed`): one that holds it has
    /// committed before the check reads, or waits for this write.
    pub async fn begin_member(
        db: &Db,
        actor: UserId,
        workspace_id: WorkspaceId,
        need: Need,
        now: i64,
    ) -> AppResult<Write> {
        let mut write = Write::begin_on(db, actor, workspace_id, now).await?;
        allowed_in(&mut *write.tx, workspace_id, actor, need).await?;
        Ok(write)
    }

    /// The guard of a server function that writes to `workspace_id` and the start of its
    /// write, in one: `authz::member`'s checks and errors (signed in, a member, a role
    /// that allows `need`), made inside the write as [`Write::begin_member`] makes its
    /// own, so one read serves both and none runs on the pool. For writes whose work
    /// before their first row is parsing their arguments, done after this (inside the
    /// write, which is refused and rolled back if they are wrong). A write with more to
    /// do first (an import reads a whole file) keeps `member` and `begin_member`, so it
    /// does not hold the write lock meanwhile.
    pub async fn guarded(
        workspace_id: WorkspaceId,
        need: Need,
        now: i64,
    ) -> AppResult<(Caller, Write)> {
        let state = state()?;
        let (user_id, claims) = authz::request_claims(&state).ok_or(AppError::Unauthorized)?;
        let mut write = Write::begin_on(&state.db, user_id, workspace_id, now).await?;
        let (user, role) =
            authz::member_in(&mut *write.tx, user_id, claims, workspace_id, need).await?;
        Ok((Caller { state, user, role }, write))
    }

    /// Begins a write on `workspace_id`: on PostgreSQL it first takes the workspace's
    /// stream head (see [`Write::begin_member`]).
    async fn begin_on(
        db: &Db,
        actor: UserId,
        workspace_id: WorkspaceId,
        now: i64,
    ) -> AppResult<Write> {
        let mut write = Write::begin(db, actor, now).await?;
        if db.backend == Backend::Postgres {
            // A no-op upsert: it locks the head's row (or makes it, at 0) until the commit.
            sqlx::query(
                "INSERT INTO stream_heads (stream, last_seq) VALUES ($1, 0) \
                 ON CONFLICT (stream) DO UPDATE SET last_seq = stream_heads.last_seq",
            )
            .bind(Stream::Workspace(workspace_id).key())
            .execute(&mut *write.tx)
            .await?;
        }
        Ok(write)
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

    /// Appends `event` to `stream`, applies the notify policy to workspace events (and
    /// retracts the notifications about a row it deletes), and keeps the event for the
    /// hub once committed.
    pub async fn emit(&mut self, stream: Stream, event: Event) -> AppResult<()> {
        let kind = event.kind();
        if let Stream::Workspace(ws) = stream {
            if kind.notifies_members() {
                if let Some((users, (level, title, message))) = self.notice(ws, &event).await? {
                    self.notices.push(Notice {
                        users: users.into_iter().map(|(u, h)| (u, Some(h))).collect(),
                        workspace_id: Some(ws),
                        topic: topic_of(&event),
                        level,
                        title,
                        message,
                        subject: subject_of(&event),
                        direct: false,
                    });
                }
            }
            let gone = subjects_gone(&event);
            if !gone.is_empty() {
                self.retract(ws, &gone).await?;
            }
        }
        self.append(vec![(stream, event)]).await
    }

    /// Tells `user_id` something when the write commits (see [`Write::notify_all`]).
    pub async fn notify(
        &mut self,
        user_id: UserId,
        workspace_id: Option<WorkspaceId>,
        topic: Option<Topic>,
        level: NotificationLevel,
        title: &str,
        message: &str,
    ) -> AppResult<()> {
        self.notify_all(&[user_id], workspace_id, topic, level, title, message)
            .await
    }

    /// Tells each of `users` the same thing when the write commits, as far as each
    /// chose to hear `topic` in `workspace_id` (`None`: whatever they chose).
    pub async fn notify_all(
        &mut self,
        users: &[UserId],
        workspace_id: Option<WorkspaceId>,
        topic: Option<Topic>,
        level: NotificationLevel,
        title: &str,
        message: &str,
    ) -> AppResult<()> {
        if !users.is_empty() {
            self.notices.push(Notice {
                users: users.iter().map(|u| (*u, None)).collect(),
                workspace_id,
                topic: topic.filter(|_| workspace_id.is_some()),
                level,
                title: title.to_owned(),
                message: message.to_owned(),
                subject: None,
                direct: true,
            });
        }
        Ok(())
    }

    /// Commits, then hands the hub every stream written with its new events (and has
    /// the other instances woken): waking before the commit would let them tail the
    /// log too early.
    pub async fn commit(mut self, hub: &Hub) -> AppResult<()> {
        self.tell().await?;
        self.tx.commit().await?;
        let mut streams: Vec<(Stream, Vec<Logged>)> = Vec::new();
        for (stream, logged) in self.logged {
            match streams.iter_mut().find(|(s, _)| *s == stream) {
                Some((_, events)) => events.push(logged),
                None => streams.push((stream, vec![logged])),
            }
        }
        for (stream, events) in streams {
            hub.committed(stream, events);
        }
        Ok(())
    }

    /// Undoes everything, events included; nothing is woken.
    pub async fn rollback(self) -> AppResult<()> {
        Ok(self.tx.rollback().await?)
    }

    /// Stores what each member is told by this write (see the module's notes).
    async fn tell(&mut self) -> AppResult<()> {
        let notices = std::mem::take(&mut self.notices);
        if notices.is_empty() {
            return Ok(());
        }
        // The choices not read with the members: those of the people a writer addressed.
        let mut workspaces: Vec<WorkspaceId> = notices
            .iter()
            .filter(|n| n.topic.is_some() && n.users.iter().any(|(_, h)| h.is_none()))
            .filter_map(|n| n.workspace_id)
            .collect();
        workspaces.sort_unstable();
        workspaces.dedup();
        let mut chosen: Vec<(WorkspaceId, UserId, String, String)> = Vec::new();
        for ws in workspaces {
            let rows: Vec<(UserId, String, String)> = sqlx::query_as(
                "SELECT user_id, topic, mode FROM notification_preferences WHERE workspace_id = $1",
            )
            .bind(ws)
            .fetch_all(&mut *self.tx)
            .await?;
            chosen.extend(rows.into_iter().map(|(u, t, m)| (ws, u, t, m)));
        }
        let hearing = |n: &Notice, user: UserId, known: Option<Hearing>| match (
            known,
            n.topic,
            n.workspace_id,
        ) {
            (Some(heard), ..) => heard,
            (None, Some(topic), Some(ws)) => topic.hearing(
                chosen
                    .iter()
                    .find(|(w, u, t, _)| *w == ws && *u == user && t == topic.as_str())
                    .map(|(.., mode)| mode.as_str()),
            ),
            _ => Hearing::Toast,
        };
        // Each member's burst per workspace, in the order the notices came.
        let mut bursts: Vec<Burst> = Vec::new();
        for n in &notices {
            let mut users = n.users.clone();
            users.sort_unstable_by_key(|(u, _)| *u);
            users.dedup_by_key(|(u, _)| *u);
            for (user, known) in users {
                let heard = hearing(n, user, known);
                if heard == Hearing::Off {
                    continue;
                }
                match bursts
                    .iter_mut()
                    .find(|(u, ws, _)| *u == user && *ws == n.workspace_id)
                {
                    Some((.., burst)) => burst.push((n, heard)),
                    None => bursts.push((user, n.workspace_id, vec![(n, heard)])),
                }
            }
        }
        // Members told the same thing are stored together.
        let mut same: Vec<(Told, Vec<UserId>)> = Vec::new();
        for (user, _, burst) in &bursts {
            let told = collapse(burst);
            match same.iter_mut().find(|(t, _)| *t == told) {
                Some((_, users)) => users.push(*user),
                None => same.push((told, vec![*user])),
            }
        }
        for (told, users) in same {
            self.store(&users, &told).await?;
        }
        Ok(())
    }

    /// Stores the same notification for each of `users` and announces each on its
    /// user's stream: three statements for any number of people (`outbox::append_all`).
    async fn store(&mut self, users: &[UserId], told: &Told) -> AppResult<()> {
        // Shared: $1 workspace, $2 level, $3 title, $4 message, $5 time, $6 subject; then a user per row.
        let sql = format!(
            "INSERT INTO notifications (user_id, workspace_id, level, title, message, created_at, subject) \
             VALUES {} RETURNING id, user_id",
            values(users.len(), 1, 6, |p| format!("(${p}, $1, $2, $3, $4, $5, $6)"))
        );
        let mut insert = sqlx::query_as::<_, (i64, UserId)>(&sql)
            .bind(told.workspace_id)
            .bind(told.level.as_str())
            .bind(&told.title)
            .bind(&told.message)
            .bind(self.now)
            .bind(&told.subject);
        for user in users {
            insert = insert.bind(*user);
        }
        let stored = insert.fetch_all(&mut *self.tx).await?;
        let events = stored
            .into_iter()
            .map(|(id, user)| {
                let mut notification = Notification::from_row((
                    id,
                    told.workspace_id,
                    told.level.as_str().to_owned(),
                    told.title.clone(),
                    told.message.clone(),
                    self.now,
                    None,
                ));
                if !told.toast {
                    notification.duration_ms = Some(0);
                }
                (Stream::User(user), Event::NotificationCreated(notification))
            })
            .collect::<Vec<_>>();
        self.append(events).await
    }

    /// Deletes the notifications about rows of `ws` that are gone, and announces each
    /// (`notification:dismissed`) on its user's stream, so its toast and entry go.
    async fn retract(&mut self, ws: WorkspaceId, subjects: &[String]) -> AppResult<()> {
        let sql = format!(
            "DELETE FROM notifications WHERE workspace_id = $1 AND subject IN ({}) RETURNING id, user_id",
            values(subjects.len(), 1, 1, |p| format!("${p}"))
        );
        let mut delete = sqlx::query_as::<_, (i64, UserId)>(&sql).bind(ws);
        for subject in subjects {
            delete = delete.bind(subject);
        }
        let mut rest = delete.fetch_all(&mut *self.tx).await?;
        // One append names a stream once: a user with several goes over several rounds.
        while !rest.is_empty() {
            let mut round: Vec<(Stream, Event)> = Vec::new();
            let mut later = Vec::new();
            for (id, user) in rest {
                let stream = Stream::User(user);
                if round.iter().any(|(s, _)| *s == stream) {
                    later.push((id, user));
                } else {
                    round.push((stream, Event::NotificationDismissed(NotificationRef { id })));
                }
            }
            self.append(round).await?;
            rest = later;
        }
        Ok(())
    }

    /// Appends events to the log (`outbox::append_all`) and keeps each as logged, for
    /// the hub after the commit.
    async fn append(&mut self, events: Vec<(Stream, Event)>) -> AppResult<()> {
        let logged = outbox::append_all(&mut self.tx, events, self.now).await?;
        self.logged.extend(logged);
        Ok(())
    }

    /// Who to tell about a workspace event, and what; `None` when no one or nothing.
    async fn notice(
        &mut self,
        ws: WorkspaceId,
        event: &Event,
    ) -> AppResult<Option<(Vec<(UserId, Hearing)>, (NotificationLevel, String, String))>> {
        // The actor is left out unless the event is an alert (no member has id 0).
        let except = if event.kind().notifies_actor() {
            UserId(0)
        } else {
            self.actor
        };
        let topic = topic_of(event);
        let (workspace, members) = match topic {
            Some(quiet) if quiet.default_hearing() == Hearing::Off => {
                // A quiet topic (a teammate's expense) is heard only by members who chose
                // to: their choices alone are read, mostly none, and the workspace's name
                // only when someone is to be told.
                let chosen: Vec<(UserId, String)> = sqlx::query_as(
                    "SELECT p.user_id, p.mode FROM notification_preferences p \
                     JOIN memberships m ON m.workspace_id = p.workspace_id AND m.user_id = p.user_id \
                     WHERE p.workspace_id = $1 AND p.user_id <> $2 AND p.topic = $3 \
                     ORDER BY p.user_id",
                )
                .bind(ws)
                .bind(except)
                .bind(quiet.as_str())
                .fetch_all(&mut *self.tx)
                .await?;
                let members = hearers(
                    chosen
                        .into_iter()
                        .map(|(id, mode)| (id, quiet.hearing(Some(mode.as_str())))),
                );
                if members.is_empty() {
                    return Ok(None);
                }
                let name: Option<String> =
                    sqlx::query_scalar("SELECT name FROM workspaces WHERE id = $1")
                        .bind(ws)
                        .fetch_optional(&mut *self.tx)
                        .await?;
                match name {
                    Some(name) => (name, members),
                    None => return Ok(None),
                }
            }
            _ => {
                // The workspace's name, the members to tell and what each chose to hear of
                // the event's topic, in one query: a row with no member when there is no one.
                let rows: Vec<(String, Option<UserId>, Option<String>)> = sqlx::query_as(
                    "SELECT w.name, m.user_id, p.mode FROM workspaces w \
                     LEFT JOIN memberships m ON m.workspace_id = w.id AND m.user_id <> $2 \
                     LEFT JOIN notification_preferences p \
                       ON p.workspace_id = w.id AND p.user_id = m.user_id AND p.topic = $3 \
                     WHERE w.id = $1 ORDER BY m.user_id",
                )
                .bind(ws)
                .bind(except)
                .bind(topic.map(Topic::as_str).unwrap_or_default())
                .fetch_all(&mut *self.tx)
                .await?;
                let Some(workspace) = rows.first().map(|(name, ..)| name.clone()) else {
                    return Ok(None);
                };
                let members = hearers(rows.into_iter().filter_map(|(_, id, mode)| {
                    let heard = topic.map_or(Hearing::Toast, |t| t.hearing(mode.as_deref()));
                    id.map(|id| (id, heard))
                }));
                (workspace, members)
            }
        };
        // Most writes have no one to tell (any in a personal workspace; in a team, a
        // topic its members leave quiet), and then nothing needs describing.
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

/// The members who hear something at all, in the order given.
fn hearers(members: impl Iterator<Item = (UserId, Hearing)>) -> Vec<(UserId, Hearing)> {
    members
        .filter(|(_, heard)| *heard != Hearing::Off)
        .collect()
}

/// What one member is told of their burst: a lone notice as it is; several as one, led
/// by the most severe (among equals, one addressed to them, then the latest), naming
/// the others.
fn collapse(burst: &[(&Notice, Hearing)]) -> Told {
    let toast = burst.iter().any(|(_, h)| *h == Hearing::Toast);
    let lead = burst
        .iter()
        .map(|(n, _)| *n)
        .max_by_key(|n| (n.level.severity(), n.direct))
        .expect("a burst has a notice");
    let (message, subject) = if burst.len() == 1 {
        (lead.message.clone(), lead.subject.clone())
    } else {
        let others: Vec<&str> = burst
            .iter()
            .filter(|(n, _)| !std::ptr::eq(*n, lead))
            .map(|(n, _)| n.title.as_str())
            .collect();
        // About several things: deleting one of them does not take back the rest.
        (
            format!("{} Also: {}.", lead.message, others.join("; ")),
            None,
        )
    };
    Told {
        workspace_id: lead.workspace_id,
        level: lead.level,
        title: lead.title.clone(),
        message,
        subject,
        toast,
    }
}

/// The topic a member chooses to hear for an event the notify policy words.
fn topic_of(event: &Event) -> Option<Topic> {
    Some(match event {
        Event::ExpenseCreated(_) => Topic::Expenses,
        Event::EarningNew(_) => Topic::Earnings,
        Event::BudgetWarning(_) | Event::BudgetExceeded(_) => Topic::Budgets,
        Event::GoalCreated(_) | Event::GoalAchieved(_) | Event::MilestoneCompleted(_) => {
            Topic::Goals
        }
        Event::MemberJoined(_) | Event::MemberLeft(_) | Event::MemberRoleChanged(_) => Topic::Team,
        _ => return None,
    })
}

/// The row a notice about `event` is about, if one.
fn subject_of(event: &Event) -> Option<String> {
    Some(match event {
        Event::ExpenseCreated(e) => format!("expense:{}", e.id),
        Event::EarningNew(e) => format!("earning:{}", e.id),
        Event::GoalCreated(g) | Event::GoalAchieved(g) => format!("goal:{}", g.id),
        Event::MilestoneCompleted(m) => format!("goal:{}", m.goal_id),
        Event::BudgetWarning(b) | Event::BudgetExceeded(b) => format!("budget:{}", b.id),
        _ => return None,
    })
}

/// The rows `event` says are deleted, as subjects.
fn subjects_gone(event: &Event) -> Vec<String> {
    match event {
        Event::ExpenseDeleted(e) => vec![format!("expense:{}", e.id)],
        Event::ExpensesBulkDeleted(e) => e.ids.iter().map(|id| format!("expense:{id}")).collect(),
        Event::EarningDeleted(e) => vec![format!("earning:{}", e.id)],
        Event::GoalDeleted(g) => vec![format!("goal:{}", g.id)],
        Event::BudgetDeleted(b) => vec![format!("budget:{}", b.id)],
        _ => Vec::new(),
    }
}

async fn display_name(tx: &mut AnyConnection, id: UserId) -> AppResult<String> {
    let row: Option<(String,)> = sqlx::query_as("SELECT display_name FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    Ok(row.map(|(n,)| n).unwrap_or_else(|| "Someone".into()))
}

/// A notification's level, title and message for a workspace event whose kind
/// `notifies_members()`; `None` when there is nothing to say (a 100 % milestone, which
/// `goal:achieved` says).
async fn describe(
    tx: &mut AnyConnection,
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
