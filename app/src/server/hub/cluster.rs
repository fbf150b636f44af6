//! The cluster: what connects the instances on one PostgreSQL database. Each instance
//! LISTENs for the streams others wrote to (the log stays the source of truth) and for
//! operator commands, which every instance carries out on its own sockets.

use crate::model::ids::UserId;
use std::{sync::Arc, time::Duration};

use tokio::sync::mpsc;

use super::Hub;
use crate::{
    live::{Event, Stream},
    server::{
        db::{values, Db},
        outbox,
    },
};

/// At most this many streams per `NOTIFY` statement and per head check query.
const BATCH: usize = 500;

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
    pub fn apply_control(&self, control: Control) -> usize {
        match control {
            Control::Announce(a) => self.broadcast(Event::SystemAnnouncement(a)),
            Control::Disconnect { user_id } => {
                self.end_sessions(user_id, None, "Your sessions were ended by an operator.")
            }
            Control::PasswordChanged { user_id, keep } => self.end_sessions(
                user_id,
                Some(keep),
                "Your password was changed: sign in again with the new one.",
            ),
            Control::AccountDeleted { user_id, keep } => {
                self.end_sessions(user_id, Some(keep), "This account was deleted.")
            }
        }
    }
}

/// The PostgreSQL channel of operator commands: `[instance, Control]` as JSON.
pub const CONTROL_CHANNEL: &str = "liveledger_control";

/// Carries out `control` here and, on PostgreSQL, on every other instance. Returns
/// how many sockets of this instance it reached.
pub async fn command(hub: &Hub, db: &Db, control: Control) -> crate::error::AppResult<usize> {
    let here = hub.apply_control(control.clone());
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
                                        hub.apply_control(control);
                                    }
                                    Err(e) => tracing::warn!(error = %e, "bad control message"),
                                }
                            }
                            Ok(Some(n)) => {
                                if let Some(stream) = woken_stream(n.payload(), hub.instance) {
                                    hub.notify(stream);
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

/// The payload of a wake: the sending instance, then the stream (`"<instance> <key>"`),
/// so that an instance skips its own (it delivered those at the commit).
fn wake_payload(instance: u64, stream: Stream) -> String {
    format!("{instance} {}", stream.key())
}

/// The stream a wake names, unless this instance sent it. A payload without an instance
/// (a bare key) is taken as another's.
fn woken_stream(payload: &str, instance: u64) -> Option<Stream> {
    let key = match payload.split_once(' ') {
        Some((from, _)) if from.parse() == Ok(instance) => return None,
        Some((_, key)) => key,
        None => payload,
    };
    Stream::parse(key)
}

async fn send_wakes(
    instance: u64,
    pool: sqlx::AnyPool,
    mut committed: mpsc::UnboundedReceiver<Stream>,
) {
    while let Some(first) = committed.recv().await {
        let mut streams = vec![first];
        while let Ok(more) = committed.try_recv() {
            streams.push(more);
        }
        streams.sort();
        streams.dedup();
        for chunk in streams.chunks(BATCH) {
            let sql = format!(
                "SELECT pg_notify($1, s) FROM (VALUES {}) AS streams (s)",
                values(chunk.len(), 1, 1, |p| format!("(CAST(${p} AS TEXT))"))
            );
            let mut notify = sqlx::query(&sql).bind(outbox::WAKE_CHANNEL);
            for stream in chunk {
                notify = notify.bind(wake_payload(instance, *stream));
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
        let payload = wake_payload(7, ws);
        assert_eq!(woken_stream(&payload, 7), None, "sent by this instance");
        assert_eq!(woken_stream(&payload, 8), Some(ws));
        assert_eq!(woken_stream("ws:3", 7), Some(ws), "a bare key is another's");
        assert_eq!(woken_stream("7 nonsense", 8), None);
    }
}
