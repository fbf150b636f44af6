//! The cluster: what connects the instances on one PostgreSQL database. Each instance
//! LISTENs for the streams others wrote to and for operator commands, which every
//! instance carries out on its own sockets. A wake carries the events committed, when
//! they fit in a `NOTIFY`; the log stays the source of truth, read on a gap or a wake
//! without them.

use crate::model::ids::UserId;
use std::{sync::Arc, time::Duration};

use tokio::sync::mpsc;

use super::{Hub, Wake};
use crate::{
    live::{Event, Stream},
    server::{
        db::{values, Db},
        outbox::{self, Logged},
    },
};

/// At most this many streams per `NOTIFY` statement and per head check query.
const BATCH: usize = 500;

/// A wake's payload at most (PostgreSQL refuses a `NOTIFY` payload of 8,000 bytes or
/// more); one whose events would not fit names the stream alone.
const MAX_WAKE: usize = 7_500;

/// An operator's command that every instance carries out (sent between instances on
/// PostgreSQL's `liveledger_control` channel).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Control {
    Announce(crate::live::catalog::Announcement),
    /// Every session of the user ends: their sockets are told and closed.
    Disconnect {
        user_id: UserId,
    },
    /// The user changed their password: every session but the one that did ends.
    PasswordChanged {
        user_id: UserId,
        keep: u64,
    },
    /// The user deleted their account: every other session ends at once; the sockets of
    /// the sign-in that deleted it close as its page goes on to the sign-up page (a
    /// close from here would race that navigation with the client's own redirect to the
    /// login page). Its token is dead either way.
    AccountDeleted {
        user_id: UserId,
        keep: u64,
    },
}

impl Hub {
    /// Carries out an operator's command on this instance (see `Control`).
    pub async fn apply_control(&self, control: Control) -> usize {
        match control {
            Control::Announce(a) => self.broadcast(Event::SystemAnnouncement(a)).await,
            Control::Disconnect { user_id } => {
                let why = "Your sessions were ended by an operator.";
                self.end_sessions(user_id, None, why).await
            }
            Control::PasswordChanged { user_id, keep } => {
                let why = "Your password was changed: sign in again with the new one.";
                self.end_sessions(user_id, Some(keep), why).await
            }
            Control::AccountDeleted { user_id, keep } => {
                let why = "This account was deleted.";
                self.end_sessions(user_id, Some(keep), why).await
            }
        }
    }
}

/// The PostgreSQL channel of operator commands: `[instance, Control]` as JSON.
pub const CONTROL_CHANNEL: &str = "liveledger_control";

/// Carries out `control` here and, on PostgreSQL, on every other instance. Returns
/// how many sockets of this instance it reached.
pub async fn command(hub: &Hub, db: &Db, control: Control) -> crate::error::AppResult<usize> {
    let here = hub.apply_control(control.clone()).await;
    if db.backend == crate::server::db::Backend::Postgres {
        let payload = serde_json::to_string(&(hub.instance, &control)).map_err(|e| {
            tracing::error!(error = %e, "could not serialize a control message");
            crate::error::AppError::Internal
        })?;
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CONTROL_CHANNEL)
            .bind(payload)
            .execute(&db.pool)
            .await?;
    }
    Ok(here)
}

/// Wakes this instance for commits made by any instance on the same PostgreSQL
/// database: LISTENs on `outbox::WAKE_CHANNEL` and hands each stream to `notify`. After
/// (re)connecting it wakes every room, since notifications sent while it was not
/// listening are lost; the log itself never is. Runs for the life of the process.
pub async fn listen_postgres(hub: Arc<Hub>, url: String) {
    let mut backoff = std::time::Duration::from_secs(1);
    loop {
        match sqlx::postgres::PgListener::connect(&url).await {
            Ok(mut listener) => match listener
                .listen_all([outbox::WAKE_CHANNEL, CONTROL_CHANNEL])
                .await
            {
                Ok(()) => {
                    backoff = std::time::Duration::from_secs(1);
                    hub.wake_all();
                    loop {
                        match listener.try_recv().await {
                            Ok(Some(n)) if n.channel() == CONTROL_CHANNEL => {
                                match serde_json::from_str::<(u64, Control)>(n.payload()) {
                                    // Sent by this instance: already carried out.
                                    Ok((from, _)) if from == hub.instance => {}
                                    Ok((_, control)) => {
                                        hub.apply_control(control).await;
                                    }
                                    Err(e) => tracing::warn!(error = %e, "bad control message"),
                                }
                            }
                            Ok(Some(n)) => {
                                if let Some((stream, events)) = woken(n.payload(), hub.instance) {
                                    hub.committed_elsewhere(stream, events);
                                }
                            }
                            // The connection dropped; the next call reconnects and
                            // listens again. Catch up on whatever was missed meanwhile.
                            Ok(None) => hub.wake_all(),
                            Err(e) => {
                                tracing::warn!(error = %e, "lost the PostgreSQL listener");
                                break;
                            }
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not LISTEN for live events"),
            },
            Err(e) => tracing::warn!(error = %e, "could not connect the PostgreSQL listener"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(std::time::Duration::from_secs(30));
    }
}

/// Wakes the other instances for this instance's commits (`Hub::committed` feeds it):
/// takes every stream committed since the last batch and sends one `NOTIFY` per stream
/// in one statement, after those commits and outside any data transaction, so that the
/// writers never queue on PostgreSQL's notify lock (one short transaction per batch
/// takes it instead). While a batch is being sent the next one gathers. A batch that
/// cannot be sent is logged and dropped: the other instances' `check_heads` finds those
/// commits within its period. The hub feeds it from the call on (so no commit made
/// before the task first runs is missed); the task runs for the life of the process.
pub fn wake_peers(hub: Arc<Hub>, db: Db) -> impl std::future::Future<Output = ()> {
    let (tx, committed) = mpsc::unbounded_channel();
    if hub.peers.set(tx).is_err() {
        tracing::error!("wake_peers started twice");
    }
    // A connection of its own: behind the delivery task's reads of the log (`Db::log`)
    // the wakes waited, and events reached other instances later than with the
    // `NOTIFY` in the writing transaction.
    send_wakes(hub.instance, db.dedicated(1), committed)
}

/// The payload of a wake: the sending instance and the stream (`"<instance> <key>"`),
/// so that an instance skips its own (it delivered those at the commit); then, when
/// they fit within [`MAX_WAKE`], the events committed, one per line as
/// `<seq> <kind> <envelope>` (an envelope's JSON holds no raw line break).
fn wake_payload(instance: u64, stream: Stream, events: &[Logged]) -> String {
    let mut payload = format!("{instance} {}", stream.key());
    let size: usize = events
        .iter()
        .map(|(_, kind, json)| 22 + kind.len() + json.len())
        .sum();
    if payload.len() + size <= MAX_WAKE {
        for (seq, kind, json) in events {
            payload.push_str(&format!("\n{seq} {kind} {json}"));
        }
    }
    payload
}

/// The stream a wake names and the events it carries, unless this instance sent it. A
/// payload without an instance (a bare key) is taken as another's. Events that do not
/// read back whole count as none: the log is read instead.
fn woken(payload: &str, instance: u64) -> Option<(Stream, Vec<Logged>)> {
    let mut lines = payload.split('\n');
    let first = lines.next()?;
    let key = match first.split_once(' ') {
        Some((from, _)) if from.parse() == Ok(instance) => return None,
        Some((_, key)) => key,
        None => first,
    };
    let stream = Stream::parse(key)?;
    let events: Option<Vec<Logged>> = lines
        .map(|line| {
            let (seq, rest) = line.split_once(' ')?;
            let (kind, json) = rest.split_once(' ')?;
            Some((seq.parse().ok()?, kind.to_owned(), json.to_owned()))
        })
        .collect();
    Some((stream, events.unwrap_or_default()))
}

async fn send_wakes(
    instance: u64,
    pool: sqlx::AnyPool,
    mut committed: mpsc::UnboundedReceiver<Wake>,
) {
    while let Some(first) = committed.recv().await {
        // Each stream once, with its events in the order committed.
        let mut streams: std::collections::BTreeMap<Stream, Vec<Logged>> = Default::default();
        let mut next = Some(first);
        while let Some(Wake { stream, events }) = next {
            streams.entry(stream).or_default().extend(events);
            next = committed.try_recv().ok();
        }
        let streams: Vec<(Stream, Vec<Logged>)> = streams.into_iter().collect();
        for chunk in streams.chunks(BATCH) {
            let sql = format!(
                "SELECT pg_notify($1, s) FROM (VALUES {}) AS streams (s)",
                values(chunk.len(), 1, 1, |p| format!("(CAST(${p} AS TEXT))"))
            );
            let mut notify = sqlx::query(&sql).bind(outbox::WAKE_CHANNEL);
            for (stream, events) in chunk {
                notify = notify.bind(wake_payload(instance, *stream, events));
            }
            if let Err(e) = notify.execute(&pool).await {
                tracing::warn!(error = %e, streams = chunk.len(), "could not wake the other instances");
            }
        }
    }
}

/// The safety net of `wake_peers`: every `period`, reads the heads of the streams this
/// instance has rooms for and wakes each room that is behind its head. It catches a
/// commit whose wake was never sent (its instance died between the commit and the
/// batch, or the `NOTIFY` failed) and one sent while this instance was not listening.
/// One query per 500 rooms per period. Runs for the life of the process.
pub async fn check_heads(hub: Arc<Hub>, db: Db, period: Duration) {
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let marks = hub.delivered_marks();
        for chunk in marks.chunks(BATCH) {
            let chunk_marks: std::collections::HashMap<Stream, i64> =
                chunk.iter().copied().collect();
            let sql = format!(
                "SELECT stream, last_seq FROM stream_heads WHERE stream IN ({})",
                values(chunk.len(), 1, 0, |p| format!("${p}"))
            );
            let mut query = sqlx::query_as::<_, (String, i64)>(&sql);
            for (stream, _) in chunk {
                query = query.bind(stream.key());
            }
            let heads = match query.fetch_all(&db.log).await {
                Ok(heads) => heads,
                Err(e) => {
                    tracing::warn!(error = %e, "could not read the stream heads");
                    break;
                }
            };
            for (key, head) in heads {
                let Some(stream) = Stream::parse(&key) else {
                    continue;
                };
                if chunk_marks.get(&stream).is_some_and(|mark| *mark < head) {
                    hub.notify(stream);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ids::WorkspaceId;

    #[test]
    fn an_instance_skips_its_own_wakes() {
        let ws = Stream::Workspace(WorkspaceId(3));
        let payload = wake_payload(7, ws, &[]);
        assert_eq!(woken(&payload, 7), None, "sent by this instance");
        assert_eq!(woken(&payload, 8), Some((ws, vec![])));
        assert_eq!(
            woken("ws:3", 7),
            Some((ws, vec![])),
            "a bare key is another's"
        );
        assert_eq!(woken("7 nonsense", 8), None);
    }

    #[test]
    fn a_wake_carries_the_events_that_fit() {
        let ws = Stream::Workspace(WorkspaceId(3));
        let event = |seq: i64, size: usize| {
            let json = format!(r#"{{"seq":{seq},"data":"{}"}}"#, "x".repeat(size));
            (seq, "expense:created".to_owned(), json)
        };
        let events = vec![event(4, 10), event(5, 3_000)];
        let payload = wake_payload(7, ws, &events);
        assert_eq!(woken(&payload, 8), Some((ws, events.clone())));

        let too_many = vec![event(4, 3_000), event(5, 3_000), event(6, 3_000)];
        let payload = wake_payload(7, ws, &too_many);
        assert!(payload.len() < MAX_WAKE);
        assert_eq!(
            woken(&payload, 8),
            Some((ws, vec![])),
            "over the size: the stream alone, and the log is read"
        );
        assert_eq!(
            woken("7 ws:3\n5 expense:created", 8),
            Some((ws, vec![])),
            "an event that does not read back whole: none"
        );
    }
}
