//! Server side of the live layer: reading the event log for a caller, with the
//! authorization checked at read time (membership now, not at some earlier connect).

use super::{
    authz, outbox,
    state::{state, AppState},
};
use crate::model::ids::UserId;
use crate::{
    error::{AppError, AppResult},
    live::{
        access_change, AccessChange, Cursor, Envelope, PollResponse, Stream, MAX_POLL_EVENTS,
        MAX_POLL_STREAMS, MAX_POLL_TOTAL,
    },
};

/// May `user_id` read `stream` right now, and from where? `Some(since)`: the events
/// with `seq > since` (a member reads from their join on, `memberships.since_seq`);
/// `None`: not at all.
pub async fn readable_since(
    state: &AppState,
    user_id: UserId,
    stream: Stream,
) -> AppResult<Option<i64>> {
    Ok(match stream {
        Stream::User(id) => (id == user_id).then_some(0),
        // Broadcasts reach every socket without a subscription; there is no log to read.
        Stream::System => None,
        Stream::Workspace(ws) => authz::member_since(state, user_id, ws).await?,
    })
}

/// What one stream has for a reader after their cursor.
#[derive(Debug)]
pub enum Replay {
    /// The events after the cursor (at most the limit asked; `more` if the log has more).
    Events {
        events: Vec<(i64, String)>,
        more: bool,
    },
    /// The log cannot continue from the cursor (older than the retention or than the
    /// reader's membership, or ahead of the head): reload, then continue from `head`.
    Resync { head: i64 },
    /// The log shows the reader losing access (removed, or the workspace deleted) after
    /// `events`: hand those over, then the stream is denied. Checked in the log itself,
    /// so a reader whose access was checked just before a removal committed still gets
    /// nothing written after it.
    Ends { events: Vec<(i64, String)> },
}

/// Reads the log of `stream` after `after` for `user_id`, who may read it from `since`
/// on (`readable_since`), at most `limit` events. A `Resync` is counted here, for both
/// transports.
pub async fn replay(
    state: &AppState,
    user_id: UserId,
    stream: Stream,
    after: i64,
    since: i64,
    limit: i64,
) -> AppResult<Replay> {
    let head = outbox::head_in(&state.db.pool, stream).await?;
    let resync = || {
        state.hub.counters.resyncs.inc();
        Ok(Replay::Resync { head })
    };
    if after > head || after < since {
        // From the future (say, a database restore), or from before the reader joined.
        return resync();
    }
    if after == head {
        return Ok(Replay::Events {
            events: Vec::new(),
            more: false,
        });
    }
    let rows = outbox::read_after(&state.db.pool, stream, after, limit).await?;
    if rows.first().map(|(first, _, _)| *first) != Some(after + 1) {
        // The retention job removed events this cursor still needs.
        return resync();
    }
    let mut events = Vec::with_capacity(rows.len());
    for (seq, kind, json) in rows {
        match access_change(&kind, &json) {
            Some(AccessChange::Left(gone)) if gone == user_id => {
                return Ok(Replay::Ends { events })
            }
            Some(AccessChange::Closed) => {
                events.push((seq, json));
                return Ok(Replay::Ends { events });
            }
            _ => events.push((seq, json)),
        }
    }
    let more = events.last().is_some_and(|(last, _)| *last < head);
    Ok(Replay::Events { events, more })
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
    // The whole request is checked before anything is read: one bad cursor refuses it.
    if cursors.iter().any(|c| c.after < 0) {
        return Err(AppError::validation(
            "cursors",
            "A cursor cannot be negative.",
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for cursor in cursors {
        // A stream named twice is answered once.
        if !seen.insert(cursor.stream) {
            continue;
        }
        let Some(since) = readable_since(&state, user.id, cursor.stream).await? else {
            response.denied.push(cursor.stream);
            continue;
        };
        let room = MAX_POLL_TOTAL - response.events.len() as i64;
        if room <= 0 {
            // This answer is full: the stream keeps its cursor for the next poll.
            response.more = true;
            response.cursors.push(cursor);
            continue;
        }
        let limit = room.min(MAX_POLL_EVENTS);
        let replayed = replay(&state, user.id, cursor.stream, cursor.after, since, limit).await?;
        let (events, ends) = match replayed {
            Replay::Events { events, more } => {
                response.more |= more;
                (events, false)
            }
            Replay::Ends { events } => (events, true),
            Replay::Resync { head } => {
                response.resync.push(cursor.stream);
                response.cursors.push(Cursor {
                    stream: cursor.stream,
                    after: head,
                });
                continue;
            }
        };
        let mut after = cursor.after;
        for (seq, json) in events {
            let envelope: Envelope = crate::json::from_str(&json).map_err(|e| {
                tracing::error!(error = %e, seq, "unreadable event in the log");
                AppError::Internal
            })?;
            after = seq;
            response.events.push(envelope);
        }
        if ends {
            response.denied.push(cursor.stream);
        } else {
            response.cursors.push(Cursor {
                stream: cursor.stream,
                after,
            });
        }
    }
    Ok(response)
}
