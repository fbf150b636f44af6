//! The transactional outbox: a change and the events it causes are written in the
//! same transaction, so a rolled-back write emits nothing and a committed one is never
//! lost. `append` numbers events per stream through `stream_heads`: the upsert locks
//! the stream's row until commit, so concurrent writers to one stream queue up and
//! sequence order equals commit order (a bare bigserial would not: a later number can
//! commit first and a reader would skip the earlier one).
//!
//! Features never call `append_all`: they write through `events::Write`, which appends,
//! applies the notify policy and wakes the hub after the commit.
//!
//! Other instances on the same PostgreSQL database learn of a commit after it, not in
//! it: `Hub::committed` hands the stream to `hub::cluster::wake_peers`, which sends
//! `NOTIFY liveledger_events, '<instance> <stream>'` for a batch of commits at once, outside any
//! data transaction (a `NOTIFY` inside one takes PostgreSQL's global notify lock at
//! its commit, which would serialise every write). Each instance then tails the log
//! from its own high-water mark; `hub::cluster::check_heads` is the safety net for a
//! wake that was never sent (the writer died between its commit and the batch).

use std::collections::HashMap;

use sqlx::{Any, AnyConnection};

use super::db::{values, Backend, ByRows, Db};
use crate::{
    error::{AppError, AppResult},
    live::{Envelope, Event, Stream},
};

/// An event as the log holds it: its seq, its kind's wire name and its envelope as
/// stored (JSON).
pub type Logged = (i64, String, String);

/// Appends one event to each of several distinct streams inside `tx` (a notification
/// to every member) in two statements, whatever their number: one upsert of the
/// streams' heads, one insert of the events. The heads are taken in stream order, the order every
/// writer uses, so two writers that share streams queue rather than deadlock. Returns
/// each stream with its event as logged, in that order. A stream named twice is refused
/// (`Internal`): one statement cannot advance a head twice.
pub async fn append_all(
    tx: &mut AnyConnection,
    mut events: Vec<(Stream, Event)>,
    now_ms: i64,
) -> AppResult<Vec<(Stream, Logged)>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    events.sort_by_key(|(stream, _)| *stream);
    if events.windows(2).any(|w| w[0].0 == w[1].0) {
        tracing::error!("one append named a stream twice");
        return Err(AppError::Internal);
    }
    let keys: Vec<String> = events.iter().map(|(stream, _)| stream.key()).collect();
    let seqs = advance_heads(tx, &keys).await?;

    let mut stored = Vec::with_capacity(events.len());
    let mut rows_json = Vec::with_capacity(events.len());
    for ((stream, event), key) in events.into_iter().zip(&keys) {
        let seq = *seqs.get(key).ok_or(AppError::Internal)?;
        let priority = event.kind().priority();
        let envelope = Envelope {
            seq,
            stream,
            timestamp: now_ms,
            priority,
            event,
        };
        let json = serde_json::to_string(&envelope).map_err(|e| {
            tracing::error!(error = %e, "could not serialize an event");
            AppError::Internal
        })?;
        rows_json.push(json);
        stored.push(envelope);
    }
    // Per row: stream, seq, kind, envelope; the time is shared ($1).
    static INSERT: ByRows = ByRows::new();
    let events_sql = INSERT.get(stored.len(), |n| {
        format!(
            "INSERT INTO events (stream, seq, kind, envelope, created_at) VALUES {}",
            values(n, 4, 1, |p| format!(
                "(${p}, ${}, ${}, ${}, $1)",
                p + 1,
                p + 2,
                p + 3
            ))
        )
    });
    let mut insert = sqlx::query(&events_sql).bind(now_ms);
    for ((envelope, key), json) in stored.iter().zip(&keys).zip(&rows_json) {
        insert = insert
            .bind(key)
            .bind(envelope.seq)
            .bind(envelope.event.kind().name())
            .bind(json);
    }
    insert.execute(&mut *tx).await?;

    Ok(stored
        .into_iter()
        .zip(rows_json)
        .map(|(envelope, json)| {
            let kind = envelope.event.kind().name().to_owned();
            (envelope.stream, (envelope.seq, kind, json))
        })
        .collect())
}

/// Advances each of `keys`' heads by one (a new stream's to 1) and returns them. On
/// PostgreSQL in one statement (`RETURNING`); on SQLite in two, the upsert and then a
/// read: SQLite carries out a `RETURNING` through a temporary table (made, its first
/// page cleared, dropped) with a statement journal, which cost more than the read under
/// the writer's lock, which nothing can change in between (issue 12, ARCHITECTURE "The
/// write path").
async fn advance_heads(tx: &mut AnyConnection, keys: &[String]) -> AppResult<HashMap<String, i64>> {
    static UPSERT: ByRows = ByRows::new();
    static UPSERT_RETURNING: ByRows = ByRows::new();
    static READ: ByRows = ByRows::new();
    let upsert = |n| {
        format!(
            "INSERT INTO stream_heads (stream, last_seq) VALUES {} \
             ON CONFLICT (stream) DO UPDATE SET last_seq = stream_heads.last_seq + 1",
            values(n, 1, 0, |p| format!("(${p}, 1)"))
        )
    };
    let read = if Backend::of(tx) == Backend::Postgres {
        UPSERT_RETURNING.get(keys.len(), |n| {
            format!("{} RETURNING stream, last_seq", upsert(n))
        })
    } else {
        let sql = UPSERT.get(keys.len(), upsert);
        let mut advance = sqlx::query(&sql);
        for key in keys {
            advance = advance.bind(key);
        }
        advance.execute(&mut *tx).await?;
        READ.get(keys.len(), |n| {
            format!(
                "SELECT stream, last_seq FROM stream_heads WHERE stream IN ({})",
                values(n, 1, 0, |p| format!("${p}"))
            )
        })
    };
    let mut heads = sqlx::query_as::<_, (String, i64)>(&read);
    for key in keys {
        heads = heads.bind(key);
    }
    Ok(heads.fetch_all(&mut *tx).await?.into_iter().collect())
}

/// The PostgreSQL channel whose payload is a stream key with new events.
pub const WAKE_CHANNEL: &str = "liveledger_events";

/// Events of `stream` after `after`, oldest first, at most `limit` (the kind's name
/// from its own column).
pub async fn read_after(
    pool: &sqlx::AnyPool,
    stream: Stream,
    after: i64,
    limit: i64,
) -> AppResult<Vec<Logged>> {
    Ok(sqlx::query_as(
        "SELECT seq, kind, envelope FROM events WHERE stream = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    )
    .bind(stream.key())
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// The latest sequence number of `stream` (0 if it has none yet).
pub async fn head_in<'e, E: sqlx::Executor<'e, Database = Any>>(
    ex: E,
    stream: Stream,
) -> AppResult<i64> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT last_seq FROM stream_heads WHERE stream = $1")
        .bind(stream.key())
        .fetch_optional(ex)
        .await?;
    Ok(row.map(|(s,)| s).unwrap_or(0))
}

/// Deletes logged events older than `before_ms` (the retention job). Stream heads stay,
/// so a cursor from before the cut is recognised and answered with `resync`.
///
/// SQLite's log has no index on time (one entry and one page fewer per write): it is
/// walked in rowid order, the order rows were appended in, up to its first event at or
/// after the cut, and everything before that goes. Every event deleted is older than
/// the cut; one written out of time order (a clock set back, a writer that read the
/// clock before it waited for the lock) may stay until a later run.
pub async fn prune(db: &Db, before_ms: i64) -> AppResult<u64> {
    let sql = match db.backend {
        Backend::Sqlite => {
            "DELETE FROM events WHERE rowid < coalesce( \
               (SELECT rowid FROM events WHERE created_at >= $1 ORDER BY rowid LIMIT 1), \
               9223372036854775807)"
        }
        Backend::Postgres => "DELETE FROM events WHERE created_at < $1",
    };
    Ok(sqlx::query(sql)
        .bind(before_ms)
        .execute(&db.pool)
        .await?
        .rows_affected())
}
