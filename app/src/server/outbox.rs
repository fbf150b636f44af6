//! The transactional outbox: a change and the events it causes are written in the
//! same transaction, so a rolled-back write emits nothing and a committed one is never
//! lost. `append` numbers events per stream through `stream_heads`: the upsert locks
//! the stream's row until commit, so concurrent writers to one stream queue up and
//! sequence order equals commit order (a bare bigserial would not: a later number can
//! commit first and a reader would skip the earlier one).
//!
//! Features never call `append`: they write through `events::Write`, which appends,
//! applies the notify policy and wakes the hub after the commit.
//!
//! On PostgreSQL, `append` also sends `NOTIFY liveledger_events, '<stream>'` in the same
//! transaction, so every instance on the database learns of the commit
//! (`hub::cluster::listen_postgres`) and tails the log from its own high-water mark.

use sqlx::{Any, Transaction};

use crate::{
    error::AppResult,
    live::{Envelope, Event, Stream},
};

/// Appends `event` to `stream` inside `tx`; returns the stored envelope.
pub async fn append(
    tx: &mut Transaction<'_, Any>,
    stream: Stream,
    event: Event,
    now_ms: i64,
) -> AppResult<Envelope> {
    let key = stream.key();
    let (seq,): (i64,) = sqlx::query_as(
        "INSERT INTO stream_heads (stream, last_seq) VALUES ($1, 1) \
         ON CONFLICT (stream) DO UPDATE SET last_seq = stream_heads.last_seq + 1 RETURNING last_seq",
    )
    .bind(&key)
    .fetch_one(&mut **tx)
    .await?;
    let kind = event.kind();
    let envelope = Envelope {
        seq,
        stream,
        timestamp: now_ms,
        priority: kind.priority(),
        event,
    };
    let json = serde_json::to_string(&envelope).map_err(|e| {
        tracing::error!(error = %e, "could not serialize an event");
        crate::error::AppError::Internal
    })?;
    sqlx::query(
        "INSERT INTO events (stream, seq, kind, envelope, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&key)
    .bind(seq)
    .bind(kind.name())
    .bind(&json)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    // With several instances on one PostgreSQL database, wake them all. A NOTIFY in a
    // transaction is delivered at commit, and never if it rolls back; identical ones in
    // one transaction are folded into one. Each instance then tails the log itself.
    if tx.backend_name() == "PostgreSQL" {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(WAKE_CHANNEL)
            .bind(&key)
            .execute(&mut **tx)
            .await?;
    }
    Ok(envelope)
}

/// The PostgreSQL channel whose payload is a stream key with new events.
pub const WAKE_CHANNEL: &str = "liveledger_events";

/// Events of `stream` after `after`, oldest first, at most `limit`: each as (seq, kind
/// (wire name, from its own column), stored envelope JSON).
pub async fn read_after(
    pool: &sqlx::AnyPool,
    stream: Stream,
    after: i64,
    limit: i64,
) -> AppResult<Vec<(i64, String, String)>> {
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
pub async fn prune(pool: &sqlx::AnyPool, before_ms: i64) -> AppResult<u64> {
    Ok(sqlx::query("DELETE FROM events WHERE created_at < $1")
        .bind(before_ms)
        .execute(pool)
        .await?
        .rows_affected())
}
