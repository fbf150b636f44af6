//! Server side of the live layer: reading the event log for a caller, with the
//! authorization checked at read time (membership now, not at some earlier connect).

use super::{authz, outbox, state, AppState};
use crate::{
    error::{AppError, AppResult},
    live::{Cursor, Envelope, PollResponse, Stream, MAX_POLL_EVENTS, MAX_POLL_STREAMS},
};

/// May `user_id` read `stream` right now?
pub async fn may_read(state: &AppState, user_id: i64, stream: Stream) -> AppResult<bool> {
    Ok(match stream {
        Stream::User(id) => id == user_id,
        // Broadcasts reach every socket without a subscription; there is no log to read.
        Stream::System => false,
        Stream::Workspace(ws) => authz::require_member(state, user_id, ws, authz::Need::Read)
            .await
            .is_ok(),
    })
}

/// What one stream has after `after`: its events, and whether the cursor is too old.
pub enum Replay {
    Events {
        events: Vec<(i64, String)>,
        more: bool,
    },
    Resync {
        head: i64,
    },
}

/// Reads the log of `stream` after `after` (at most `limit` events). A cursor the log
/// no longer reaches back to (retention) gets `Resync`.
pub async fn replay(state: &AppState, stream: Stream, after: i64, limit: i64) -> AppResult<Replay> {
    let head = outbox::head_in(&state.db.pool, stream).await?;
    if after == head {
        return Ok(Replay::Events {
            events: Vec::new(),
            more: false,
        });
    }
    if after > head {
        // A cursor from the future (say, from before a database restore): start over.
        return Ok(Replay::Resync { head });
    }
    let events = outbox::read_after(&state.db.pool, stream, after.max(0), limit).await?;
    match events.first() {
        Some((first, _)) if *first == after.max(0) + 1 => {
            let more = events.last().is_some_and(|(last, _)| *last < head);
            Ok(Replay::Events { events, more })
        }
        _ => Ok(Replay::Resync { head }),
    }
}

pub async fn poll(cursors: Vec<Cursor>) -> AppResult<PollResponse> {
    let state = state()?;
    state.metrics.polls.inc();
    let user = authz::require_user(&state).await?;
    if cursors.len() > MAX_POLL_STREAMS {
        return Err(AppError::validation(
            "cursors",
            format!("Poll at most {MAX_POLL_STREAMS} streams at once."),
        ));
    }
    let mut response = PollResponse {
        events: Vec::new(),
        cursors: Vec::new(),
        resync: Vec::new(),
        denied: Vec::new(),
        more: false,
    };
    let mut seen = std::collections::HashSet::new();
    for cursor in cursors {
        if !seen.insert(cursor.stream) {
            continue;
        }
        if cursor.after < 0 {
            return Err(AppError::validation(
                "cursors",
                "A cursor cannot be negative.",
            ));
        }
        if !may_read(&state, user.id, cursor.stream).await? {
            response.denied.push(cursor.stream);
            continue;
        }
        match replay(&state, cursor.stream, cursor.after, MAX_POLL_EVENTS).await? {
            Replay::Events { events, more } => {
                let mut after = cursor.after;
                for (seq, json) in events {
                    let envelope: Envelope = serde_json::from_str(&json).map_err(|e| {
                        tracing::error!(error = %e, seq, "unreadable event in the log");
                        AppError::Internal
                    })?;
                    after = seq;
                    response.events.push(envelope);
                }
                response.more |= more;
                response.cursors.push(Cursor {
                    stream: cursor.stream,
                    after,
                });
            }
            Replay::Resync { head } => {
                state
                    .hub
                    .counters
                    .resyncs
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                response.resync.push(cursor.stream);
                response.cursors.push(Cursor {
                    stream: cursor.stream,
                    after: head,
                });
            }
        }
    }
    Ok(response)
}
