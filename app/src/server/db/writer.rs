//! Where writes run ([`Writer`]), and a write transaction on it ([`WriteTx`]).
//!
//! On SQLite the writer is one connection of the [`inline`](super::inline) driver, held
//! behind a fair lock. It used to be a sqlx pool of one connection. A pool gives a
//! connection back in a task it spawns when the connection is dropped, and that task
//! queues behind whatever the runtime has ready. After a commit that is the fan-out the
//! commit caused: one task per socket in the room. The next write waited for all of them
//! before it could begin (1–2 ms at 400 writes/s into rooms of 100; issue 12's p99). A
//! lock is free the moment its guard drops, and hands the connection to the writer that
//! has waited longest.
//!
//! On PostgreSQL, which runs writers side by side, the writer is the shared pool.
//!
//! A [`WriteTx`] begins, commits and rolls back through sqlx's `TransactionManager`, as
//! `sqlx::Transaction` does (which cannot own a connection that is not pooled). Dropped
//! while open, it rolls back: at once on the inline driver, on the connection's next use
//! on PostgreSQL (sqlx flushes it before the pool hands the connection out again).

use std::{
    fmt,
    ops::{Deref, DerefMut},
    sync::Arc,
};

use sqlx::{pool::PoolConnection, Any, AnyConnection, AnyPool, Connection, Database};
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::inline;

type Manager = <Any as Database>::TransactionManager;

/// Where every write transaction runs. See the module's notes.
#[derive(Clone)]
pub enum Writer {
    /// PostgreSQL: the shared pool.
    Pool(AnyPool),
    /// SQLite: the one writer connection, taken in turn.
    One(Arc<Mutex<AnyConnection>>),
}

impl fmt::Debug for Writer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Writer::Pool(pool) => f.debug_tuple("Writer::Pool").field(pool).finish(),
            Writer::One(_) => f.write_str("Writer::One"),
        }
    }
}

impl Writer {
    /// The SQLite writer: one inline connection to the database file at `path`.
    pub async fn sqlite(path: &str) -> Result<Writer, sqlx::Error> {
        let conn = AnyConnection::connect(&inline::InlineOptions::url(path)).await?;
        Ok(Writer::One(Arc::new(Mutex::new(conn))))
    }

    /// The writer's connection, for one statement outside a transaction. On SQLite it
    /// waits its turn behind the writes in progress, at most as long as any SQLite
    /// connection waits for the lock ([`inline::BUSY_WAIT`]); then `PoolTimedOut`.
    pub async fn acquire(&self) -> Result<WriterConn, sqlx::Error> {
        match self {
            Writer::Pool(pool) => Ok(WriterConn::Pooled(pool.acquire().await?)),
            Writer::One(conn) => {
                let mut held = tokio::time::timeout(inline::BUSY_WAIT, conn.clone().lock_owned())
                    .await
                    .map_err(|_| sqlx::Error::PoolTimedOut)?;
                // A transaction whose rollback failed when it was dropped would hold
                // every later write inside it: end it before anyone writes.
                while <Manager as sqlx::TransactionManager>::get_transaction_depth(&held) > 0 {
                    tracing::warn!("the writer was left inside a transaction: rolling it back");
                    <Manager as sqlx::TransactionManager>::rollback(&mut held).await?;
                }
                Ok(WriterConn::Held(held))
            }
        }
    }

    /// Begins a write transaction: on SQLite `BEGIN IMMEDIATE`, which takes the write lock
    /// at once (waiting, asynchronously, for a writer outside this one: an operator's
    /// revocation, a pruning); a deferred transaction that read first would instead fail
    /// when it came to write after that other commit.
    pub async fn begin(&self) -> Result<WriteTx, sqlx::Error> {
        let statement = match self {
            Writer::Pool(_) => None,
            Writer::One(_) => Some("BEGIN IMMEDIATE".into()),
        };
        let mut conn = self.acquire().await?;
        <Manager as sqlx::TransactionManager>::begin(&mut conn, statement).await?;
        Ok(WriteTx { conn, open: true })
    }
}

/// The writer's connection while someone holds it.
pub enum WriterConn {
    Pooled(PoolConnection<Any>),
    Held(OwnedMutexGuard<AnyConnection>),
}

impl Deref for WriterConn {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        match self {
            WriterConn::Pooled(conn) => conn,
            WriterConn::Held(conn) => conn,
        }
    }
}

impl DerefMut for WriterConn {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        match self {
            WriterConn::Pooled(conn) => conn,
            WriterConn::Held(conn) => conn,
        }
    }
}

/// A write transaction on the [`Writer`]; rolled back if dropped before `commit`.
pub struct WriteTx {
    conn: WriterConn,
    open: bool,
}

impl WriteTx {
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        <Manager as sqlx::TransactionManager>::commit(&mut self.conn).await?;
        self.open = false;
        Ok(())
    }

    pub async fn rollback(mut self) -> Result<(), sqlx::Error> {
        <Manager as sqlx::TransactionManager>::rollback(&mut self.conn).await?;
        self.open = false;
        Ok(())
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        if self.open {
            <Manager as sqlx::TransactionManager>::start_rollback(&mut self.conn);
        }
    }
}

impl Deref for WriteTx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.conn
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }
}
