//! SQLite's writer connection, run on the calling thread: a driver behind `sqlx::Any`
//! for `db::Db::writer` on SQLite.
//!
//! sqlx runs every SQLite connection on a thread of its own and hands each statement
//! to it and its rows back over channels: two thread switches per statement, about
//! 10 µs of CPU each time on this project's machines (`server/benches/statements.rs`),
//! a quarter of a write's cost (ARCHITECTURE, "The write path"). This driver owns a
//! `rusqlite` connection and runs each statement at once, on the task's thread. Every
//! feature keeps its queries: they reach it through `sqlx::Any` like any other
//! connection, with the same placeholders (`$n`), the same values (SQLite's integers
//! as `BigInt`, reals as `Double`, as sqlx's SQLite driver maps them) and the same
//! error codes (the extended result code, as text).
//!
//! What running on the calling thread changes, and how it is handled:
//! - *Waiting for the lock* would block the thread in SQLite's busy handler. The
//!   connection's busy timeout is 0 instead, and a statement that meets `SQLITE_BUSY`
//!   outside a transaction (`BEGIN IMMEDIATE`, or one autocommitted) is retried after
//!   an asynchronous pause, for as long as the busy timeout of the other connections
//!   ([`BUSY_WAIT`]). Inside a transaction begun `IMMEDIATE` the lock is held already.
//! - *The checkpoint* (copying the WAL back into the database, with an `fsync`) would
//!   run at the commit that grew the WAL past its threshold ([`CHECKPOINT_PAGES`]). A
//!   WAL hook takes its place: the commit only signals a thread of the driver's own,
//!   which checkpoints (`PASSIVE`, so it never blocks the writer) on its own connection.
//! - *Rows* are read when the statement runs, all of them, rather than as the caller
//!   polls: fine for a writer, whose statements read little.
//! - *The WAL's writes*: the connection is opened on the `gather` VFS, which writes a
//!   commit's frames with one system call instead of two per page.
//!
//! Only the `Any` face of the driver exists. sqlx asks a driver for a whole family of
//! types (rows, values, statements…) before it can be installed; here those are the
//! uninhabited [`Nothing`], so no code can reach them.

use std::{
    borrow::Cow,
    ffi::{c_char, c_int, c_void},
    fmt,
    path::PathBuf,
    str::FromStr,
    sync::{mpsc, Arc, Condvar, Mutex},
    time::{Duration, Instant},
};

use futures::{future::BoxFuture, stream::BoxStream, FutureExt, StreamExt};
use rusqlite::{
    ffi,
    types::{ToSqlOutput, ValueRef},
    OpenFlags, PrepFlags,
};
use sqlx_core::{
    any::{
        Any, AnyArguments, AnyColumn, AnyConnectOptions, AnyConnectionBackend, AnyQueryResult,
        AnyRow, AnyStatement, AnyTypeInfo, AnyTypeInfoKind, AnyValue, AnyValueKind,
    },
    arguments::Arguments,
    column::{Column, ColumnIndex},
    connection::{ConnectOptions, Connection},
    database::Database,
    describe::Describe,
    encode::Encode,
    error::{BoxDynError, DatabaseError, Error, ErrorKind},
    ext::ustr::UStr,
    hash_map::EntryRef,
    row::Row,
    statement::Statement,
    transaction::{
        begin_ansi_transaction_sql, commit_ansi_transaction_sql, rollback_ansi_transaction_sql,
        Transaction, TransactionManager,
    },
    types::Type,
    value::Value,
    Either, HashMap, Url,
};

/// What every SQLite connection is set to, sqlx's and this driver's. WAL lets readers
/// run beside the one writer; waiting beats failing when two writers meet (this driver
/// then sets its own busy timeout to 0 and waits asynchronously).
pub const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;";

/// What the writer's connection is set to besides `SQLITE_PRAGMAS`. Temporary storage
/// in memory: a statement that may have to be undone on its own inside a transaction
/// (the stream heads' upsert, whose `RETURNING` and `ON CONFLICT` make it one) keeps
/// the pages it changes in a statement journal, and with temporary files allowed SQLite
/// starts that journal with one 64 KiB block, allocated and freed by every write (a
/// large allocation, about 1.5 % of a paced write's CPU, issue 12); in memory it grows
/// by 1 KiB blocks as it needs. The cost: a statement's journal holds the pages that
/// statement changed, a few for a write, but all a large delete touches (a workspace's
/// rows), which now stay in the process's memory until the statement ends instead of
/// spilling to a temporary file past 64 KiB.
const WRITER_PRAGMAS: &str = "PRAGMA temp_store = MEMORY;";

/// The URL scheme `db::Db::connect` gives the writer: `sqlite-inline:<path>`.
pub const SCHEME: &str = "sqlite-inline";

/// How long a statement outside a transaction waits for another connection's write
/// lock: the busy timeout every other SQLite connection has (`SQLITE_PRAGMAS`).
pub const BUSY_WAIT: Duration = Duration::from_secs(10);

/// WAL pages after which a commit asks for a checkpoint: four times SQLite's default
/// (`wal_autocheckpoint`, 1,000), so a WAL of up to about 16 MiB. A checkpoint copies
/// each page once however often the WAL rewrote it, and the leaves every write touches
/// (the right edges of `expenses`, `events` and their indexes, `stream_heads`) are
/// rewritten by every commit: at 4,000 pages the checkpointing thread spends about half
/// the CPU per write it spent at 1,000 (ARCHITECTURE.md, "The write path").
const CHECKPOINT_PAGES: c_int = 4000;

/// How this driver's connections open the file (and `db::claim_sqlite`'s): read and
/// write, made if missing, no SQLite mutex (each connection is used by one task at a
/// time).
pub(crate) const OPEN_FLAGS: OpenFlags = OpenFlags::SQLITE_OPEN_READ_WRITE
    .union(OpenFlags::SQLITE_OPEN_CREATE)
    .union(OpenFlags::SQLITE_OPEN_NO_MUTEX)
    .union(OpenFlags::SQLITE_OPEN_URI);

/// Statements the connection keeps prepared ([`Kept`]); past this many it starts again.
const STATEMENT_CACHE: usize = 256;

/// The driver, as `sqlx::any::install_drivers` takes it.
pub const DRIVER: sqlx_core::any::driver::AnyDriver =
    sqlx_core::any::driver::AnyDriver::without_migrate::<Inline>();

/// The database type sqlx needs a driver to name.
#[derive(Debug)]
pub struct Inline;

impl Database for Inline {
    type Connection = InlineConnection;
    type TransactionManager = InlineTransactions;
    type Row = Nothing;
    type QueryResult = AnyQueryResult;
    type Column = Nothing;
    type TypeInfo = AnyTypeInfo;
    type Value = Nothing;
    type ValueRef<'r> = Nothing;
    type Arguments<'q> = NoArguments;
    type ArgumentBuffer<'q> = ();
    type Statement<'q> = Nothing;
    const NAME: &'static str = "SQLite, inline";
    const URL_SCHEMES: &'static [&'static str] = &[SCHEME];
}

/// Where the connection opens: the database file.
#[derive(Debug, Clone)]
pub struct InlineOptions {
    path: PathBuf,
}

impl InlineOptions {
    /// The URL for the database file at `path`.
    pub fn url(path: &str) -> String {
        format!(
            "{SCHEME}:{}",
            sqlx_core::percent_encoding::utf8_percent_encode(
                path,
                sqlx_core::percent_encoding::NON_ALPHANUMERIC
            )
        )
    }
}

impl FromStr for InlineOptions {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let url = Url::parse(s).map_err(|e| Error::Configuration(Box::new(e)))?;
        Self::from_url(&url)
    }
}

impl TryFrom<&AnyConnectOptions> for InlineOptions {
    type Error = Error;
    fn try_from(options: &AnyConnectOptions) -> Result<Self, Error> {
        Self::from_url(&options.database_url)
    }
}

impl ConnectOptions for InlineOptions {
    type Connection = InlineConnection;

    fn from_url(url: &Url) -> Result<Self, Error> {
        if url.scheme() != SCHEME {
            return Err(Error::Configuration(
                format!("not a {SCHEME}: URL: {url}").into(),
            ));
        }
        let path = sqlx_core::percent_encoding::percent_decode_str(url.path())
            .decode_utf8()
            .map_err(|e| Error::Configuration(Box::new(e)))?;
        if path.is_empty() {
            return Err(Error::Configuration("no database file in the URL".into()));
        }
        Ok(InlineOptions {
            path: PathBuf::from(&*path),
        })
    }

    fn to_url_lossy(&self) -> Url {
        Url::parse(&Self::url(&self.path.to_string_lossy())).expect("a URL this type makes")
    }

    fn connect(&self) -> BoxFuture<'_, Result<InlineConnection, Error>> {
        let path = self.path.clone();
        async move { InlineConnection::open(path) }.boxed()
    }

    fn log_statements(self, _: log::LevelFilter) -> Self {
        self
    }

    fn log_slow_statements(self, _: log::LevelFilter, _: Duration) -> Self {
        self
    }
}

/// One SQLite connection whose statements run on the thread that polls them.
pub struct InlineConnection {
    /// The statements kept prepared, by their SQL ([`Kept`]). Declared before `conn`,
    /// so that they are finalized before the connection closes.
    kept: HashMap<Box<str>, Kept>,
    /// Boxed: the kept statements refer to it, so its address must not change when the
    /// `InlineConnection` moves.
    conn: Box<rusqlite::Connection>,
    /// Open transactions and savepoints.
    depth: usize,
    /// What the WAL hook signals (the checkpointing thread's end of it). Boxed so its
    /// address, which SQLite holds, does not move; the hook is removed before it goes.
    /// Only SQLite reads it, through that address.
    #[allow(dead_code)]
    checkpoints: Box<mpsc::SyncSender<()>>,
    /// How many checkpoints the thread has run, and a way to wait for the next (what
    /// the tests observe of the thread).
    #[cfg_attr(not(test), allow(dead_code))]
    checkpointed: Arc<(Mutex<u64>, Condvar)>,
}

impl fmt::Debug for InlineConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InlineConnection")
            .field("depth", &self.depth)
            .finish_non_exhaustive()
    }
}

impl Drop for InlineConnection {
    fn drop(&mut self) {
        // SAFETY: the handle is this connection's, open until `conn` drops after this;
        // removing the hook means SQLite no longer holds the sender's address.
        unsafe {
            ffi::sqlite3_wal_hook(self.conn.handle(), None, std::ptr::null_mut());
        }
    }
}

/// Called by SQLite after each commit with the WAL's size in pages.
unsafe extern "C" fn wal_grew(
    sender: *mut c_void,
    _db: *mut ffi::sqlite3,
    _name: *const c_char,
    pages: c_int,
) -> c_int {
    if pages >= CHECKPOINT_PAGES {
        // SAFETY: `sender` is the `Box` registered in `open`, alive until the hook is
        // removed in `drop`. A full channel means a checkpoint is pending already.
        let sender = unsafe { &*(sender as *const mpsc::SyncSender<()>) };
        let _ = sender.try_send(());
    }
    ffi::SQLITE_OK
}

impl InlineConnection {
    fn open(path: PathBuf) -> Result<InlineConnection, Error> {
        let flags = OPEN_FLAGS;
        // A commit's WAL frames are written together (`gather`).
        let conn = super::gather::open(&path, flags).map_err(sqlx_error)?;
        conn.execute_batch(SQLITE_PRAGMAS).map_err(sqlx_error)?;
        conn.execute_batch(WRITER_PRAGMAS).map_err(sqlx_error)?;
        conn.busy_timeout(Duration::ZERO).map_err(sqlx_error)?;

        let checkpointer =
            rusqlite::Connection::open_with_flags_and_vfs(&path, flags, super::gather::SQLITE_VFS)
                .map_err(sqlx_error)?;
        let (signal, signals) = mpsc::sync_channel::<()>(1);
        let checkpointed = Arc::new((Mutex::new(0), Condvar::new()));
        let counted = checkpointed.clone();
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                // Ends when the writer connection, which holds the sender, is gone.
                for () in signals {
                    let done =
                        checkpointer.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
                            Ok((row.get::<_, i64>(1)?, row.get::<_, i64>(2)?))
                        });
                    match done {
                        Ok((log, copied)) => {
                            tracing::debug!(log, copied, "WAL checkpointed")
                        }
                        Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
                    }
                    let (count, changed) = &*counted;
                    *count.lock().unwrap_or_else(|e| e.into_inner()) += 1;
                    changed.notify_all();
                }
            })
            .map_err(Error::Io)?;
        let checkpoints = Box::new(signal);
        // SAFETY: the handle is open; the sender's address stays valid until `drop`
        // removes the hook (the `Box` is only freed after that).
        unsafe {
            ffi::sqlite3_wal_hook(
                conn.handle(),
                Some(wal_grew),
                &*checkpoints as *const mpsc::SyncSender<()> as *mut c_void,
            );
        }
        Ok(InlineConnection {
            kept: HashMap::new(),
            conn: Box::new(conn),
            depth: 0,
            checkpoints,
            checkpointed,
        })
    }

    /// Runs `sql` now. `first_row_only`: stop at the first row (`fetch_optional`).
    fn run(
        &mut self,
        sql: &str,
        persistent: bool,
        arguments: Option<&AnyArguments<'_>>,
        first_row_only: bool,
    ) -> Result<Vec<Either<AnyQueryResult, AnyRow>>, Error> {
        let started = Instant::now();
        let done = if persistent {
            let kept = match Kept::keep(&mut self.kept, &self.conn, sql) {
                Ok(kept) => kept,
                Err(KeptError::Several) if arguments.is_none() => return batch(&self.conn, sql),
                Err(e) => return Err(e.into_error()),
            };
            let done = finish(
                &self.conn,
                &mut kept.statement,
                &kept.places,
                &mut kept.shape,
                arguments,
                first_row_only,
            );
            if done.is_err() {
                // Not kept after a failure: prepared afresh next time, whatever SQLite's
                // state of it.
                self.kept.remove(sql);
            }
            done
        } else {
            let mut statement = match self.conn.prepare(sql) {
                Ok(statement) => statement,
                Err(rusqlite::Error::MultipleStatement) if arguments.is_none() => {
                    return batch(&self.conn, sql)
                }
                Err(e) => return Err(sqlx_error(e)),
            };
            let places = places(&statement)?;
            finish(
                &self.conn,
                &mut statement,
                &places,
                &mut None,
                arguments,
                first_row_only,
            )
        };
        if let Ok(out) = &done {
            tracing::debug!(
                target: "sqlx::query",
                statement = sql,
                rows_returned = out.len() - 1,
                elapsed = ?started.elapsed(),
                "inline"
            );
        }
        done
    }

    /// Runs `sql`, waiting out another connection's write lock when nothing of this
    /// connection's is open (SQLite then changed nothing: the statement can run again).
    async fn run_waiting(
        &mut self,
        sql: &str,
        persistent: bool,
        arguments: Option<&AnyArguments<'_>>,
        first_row_only: bool,
    ) -> Result<Vec<Either<AnyQueryResult, AnyRow>>, Error> {
        let until = Instant::now() + BUSY_WAIT;
        let mut pause = Duration::from_millis(1);
        loop {
            match self.run(sql, persistent, arguments, first_row_only) {
                Err(e) if is_busy(&e) && self.conn.is_autocommit() && Instant::now() < until => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                done => return done,
            }
        }
    }

    async fn begin_with(&mut self, statement: Option<Cow<'static, str>>) -> Result<(), Error> {
        let sql = match statement {
            None => begin_ansi_transaction_sql(self.depth),
            Some(sql) if self.depth == 0 => sql,
            Some(_) => return Err(Error::InvalidSavePointStatement),
        };
        self.run_waiting(&sql, true, None, false).await?;
        if self.conn.is_autocommit() && self.depth == 0 {
            return Err(Error::BeginFailed);
        }
        self.depth += 1;
        Ok(())
    }

    fn end(&mut self, sql: Cow<'static, str>) -> Result<(), Error> {
        if self.depth > 0 {
            self.run(&sql, true, None, false)?;
            self.depth -= 1;
        }
        Ok(())
    }

    fn commit_now(&mut self) -> Result<(), Error> {
        self.end(commit_ansi_transaction_sql(self.depth))
    }

    fn rollback_now(&mut self) -> Result<(), Error> {
        self.end(rollback_ansi_transaction_sql(self.depth))
    }
}

/// The columns of a statement's rows as `AnyRow` holds them.
#[derive(Clone)]
struct Shape {
    names: Arc<HashMap<UStr, usize>>,
    columns: Vec<AnyColumn>,
}

impl Shape {
    /// Whether `statement`'s columns are these, by count and name.
    fn describes(&self, statement: &rusqlite::Statement<'_>) -> bool {
        statement.column_count() == self.columns.len()
            && self
                .columns
                .iter()
                .all(|c| statement.column_name(c.ordinal).ok() == Some(&*c.name))
    }

    fn of(statement: &rusqlite::Statement<'_>) -> Result<Shape, Error> {
        let width = statement.column_count();
        let mut names = HashMap::with_capacity(width);
        let mut columns = Vec::with_capacity(width);
        for ordinal in 0..width {
            let name = UStr::from(
                statement
                    .column_name(ordinal)
                    .map_err(sqlx_error)?
                    .to_owned(),
            );
            names.insert(name.clone(), ordinal);
            columns.push(AnyColumn {
                ordinal,
                name,
                type_info: AnyTypeInfo {
                    kind: AnyTypeInfoKind::Null,
                },
            });
        }
        Ok(Shape {
            names: Arc::new(names),
            columns,
        })
    }
}

/// A statement the connection keeps prepared, with what running it once taught:
/// which argument each parameter takes, and the columns of its rows as last read.
///
/// rusqlite keeps statements too (`prepare_cached`), in a least-recently-used list
/// keyed by the SQL as an `Arc<str>`: each use hashed the statement's text twice (to
/// take it out, and to put it back when it dropped), cleared its bindings and moved
/// list entries, and this driver then hashed the text again for the columns, and read
/// each parameter's name: about 12k instructions of a team write's 240k (issue 12;
/// ARCHITECTURE.md, "The write path", sixteenth session). Here it is one look-up.
struct Kept {
    /// Prepared on the `InlineConnection`'s own connection, which it refers to.
    /// SAFETY (of the `'static`): that connection is boxed, so its address does not
    /// change when the `InlineConnection` moves, and it outlives every kept statement:
    /// `InlineConnection` declares `kept` before `conn`, so they drop first, and takes
    /// statements out of `kept` only to drop them. No `Kept` leaves `kept`.
    statement: rusqlite::Statement<'static>,
    /// The argument (1-based) each parameter takes, in the parameters' order.
    places: Box<[usize]>,
    shape: Option<Shape>,
}

// SAFETY: a `Statement` is not `Send` because it refers to its connection, which is not
// `Sync` (rusqlite's `RefCell`s): two threads could then use one connection at once. A
// `Kept` never leaves its `InlineConnection` (`kept` is private, and statements are only
// dropped out of it), so it moves between threads only with the connection it refers
// to, as the one `Send` value the `InlineConnection` is (rusqlite's `Connection` is
// `Send`; its own statement cache is made `Send` the same way).
unsafe impl Send for Kept {}

/// Why a statement could not be kept.
enum KeptError {
    /// The SQL holds several statements.
    Several,
    Other(Error),
}

impl KeptError {
    fn into_error(self) -> Error {
        match self {
            KeptError::Several => sqlx_error(rusqlite::Error::MultipleStatement),
            KeptError::Other(e) => e,
        }
    }
}

impl Kept {
    /// The statement `kept` keeps for `sql`, prepared on `conn` (the
    /// `InlineConnection`'s own) and kept now if it was not there.
    fn keep<'k>(
        kept: &'k mut HashMap<Box<str>, Kept>,
        conn: &rusqlite::Connection,
        sql: &str,
    ) -> Result<&'k mut Kept, KeptError> {
        if kept.len() >= STATEMENT_CACHE && !kept.contains_key(sql) {
            // Past this many the connection starts again rather than keep every
            // statement it ever ran (a `VALUES` list of each length is one).
            kept.clear();
        }
        Ok(match kept.entry_ref(sql) {
            EntryRef::Occupied(entry) => entry.into_mut(),
            EntryRef::Vacant(entry) => entry.insert(Kept::prepare(conn, sql)?),
        })
    }

    /// Prepares `sql` on `conn`, which must be the `InlineConnection`'s boxed
    /// connection (see `statement`).
    fn prepare(conn: &rusqlite::Connection, sql: &str) -> Result<Kept, KeptError> {
        let statement = match conn.prepare_with_flags(sql, PrepFlags::SQLITE_PREPARE_PERSISTENT) {
            Ok(statement) => statement,
            Err(rusqlite::Error::MultipleStatement) => return Err(KeptError::Several),
            Err(e) => return Err(KeptError::Other(sqlx_error(e))),
        };
        let places = places(&statement).map_err(KeptError::Other)?;
        // SAFETY: see `Kept::statement`; only the lifetime changes.
        let statement = unsafe {
            std::mem::transmute::<rusqlite::Statement<'_>, rusqlite::Statement<'static>>(statement)
        };
        Ok(Kept {
            statement,
            places,
            shape: None,
        })
    }
}

/// Binds `arguments` to `statement` (its parameters take them as `places` says), runs
/// it and reads its rows (only the first with `first_row_only`) and what it changed.
/// `shape`: the columns of its rows as last read, read again when they changed.
fn finish(
    conn: &rusqlite::Connection,
    statement: &mut rusqlite::Statement<'_>,
    places: &[usize],
    shape: &mut Option<Shape>,
    arguments: Option<&AnyArguments<'_>>,
    first_row_only: bool,
) -> Result<Vec<Either<AnyQueryResult, AnyRow>>, Error> {
    bind(statement, places, arguments)?;
    let readonly = statement.readonly();
    let mut out = Vec::new();
    let mut rows = statement.raw_query();
    let mut checked = false;
    while let Some(row) = rows.next().map_err(sqlx_error)? {
        // The columns are read once the statement has stepped: a kept statement whose
        // table changed is prepared again by SQLite at its first step, and its rows
        // may have other columns than last time.
        if !checked {
            if !shape.as_ref().is_some_and(|s| s.describes(row.as_ref())) {
                *shape = Some(Shape::of(row.as_ref())?);
            }
            checked = true;
        }
        let Some(Shape { names, columns }) = shape.as_ref() else {
            return Err(Error::Protocol("a row without its columns".into()));
        };
        let mut values = Vec::with_capacity(columns.len());
        for i in 0..columns.len() {
            values.push(AnyValue {
                kind: any_value(row.get_ref(i).map_err(sqlx_error)?)?,
            });
        }
        out.push(Either::Right(AnyRow {
            column_names: names.clone(),
            columns: columns.clone(),
            values,
        }));
        if first_row_only {
            break;
        }
    }
    // Resets the statement, for its next run.
    drop(rows);
    out.push(Either::Left(AnyQueryResult {
        rows_affected: if readonly { 0 } else { conn.changes() },
        last_insert_id: Some(conn.last_insert_rowid()),
    }));
    Ok(out)
}

/// Runs several statements in one string (the connection's pragmas) one after another,
/// as SQLite does; they bind nothing and return no rows here.
fn batch(
    conn: &rusqlite::Connection,
    sql: &str,
) -> Result<Vec<Either<AnyQueryResult, AnyRow>>, Error> {
    conn.execute_batch(sql).map_err(sqlx_error)?;
    Ok(vec![Either::Left(AnyQueryResult {
        rows_affected: conn.changes(),
        last_insert_id: None,
    })])
}

/// The argument each parameter of `statement` takes, in order, as sqlx's SQLite driver
/// reads them: `$n` and `?n` the n-th, a bare `?` the next one.
fn places(statement: &rusqlite::Statement<'_>) -> Result<Box<[usize]>, Error> {
    let mut next = 0;
    (1..=statement.parameter_count())
        .map(|index| match statement.parameter_name(index) {
            Some(name) => name
                .strip_prefix('$')
                .or_else(|| name.strip_prefix('?'))
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|&n| n > 0)
                .ok_or_else(|| Error::Protocol(format!("unsupported placeholder {name}"))),
            None => {
                next += 1;
                Ok(next)
            }
        })
        .collect()
}

/// Binds `arguments` to `statement`, each parameter the one `places` names. Every
/// parameter is bound, so nothing of a kept statement's last run stays bound.
fn bind(
    statement: &mut rusqlite::Statement<'_>,
    places: &[usize],
    arguments: Option<&AnyArguments<'_>>,
) -> Result<(), Error> {
    let values: &[AnyValueKind<'_>] = arguments.map(|a| &a.values.0[..]).unwrap_or_default();
    for (index, &n) in places.iter().enumerate() {
        let value = values.get(n - 1).ok_or_else(|| {
            Error::Protocol(format!(
                "the statement asks for argument {n}, {} given",
                values.len()
            ))
        })?;
        let value = match value {
            AnyValueKind::Null(_) => ToSqlOutput::Borrowed(ValueRef::Null),
            AnyValueKind::Bool(b) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(*b))),
            AnyValueKind::SmallInt(i) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(*i))),
            AnyValueKind::Integer(i) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(*i))),
            AnyValueKind::BigInt(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            AnyValueKind::Real(r) => ToSqlOutput::Borrowed(ValueRef::Real(f64::from(*r))),
            AnyValueKind::Double(r) => ToSqlOutput::Borrowed(ValueRef::Real(*r)),
            AnyValueKind::Text(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
            AnyValueKind::Blob(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
            other => {
                return Err(Error::Protocol(format!(
                    "cannot bind {other:?} to a SQLite statement"
                )))
            }
        };
        statement
            .raw_bind_parameter(index + 1, value)
            .map_err(sqlx_error)?;
    }
    Ok(())
}

/// A SQLite value as sqlx's SQLite driver hands it to `Any`: by its storage class.
fn any_value(value: ValueRef<'_>) -> Result<AnyValueKind<'static>, Error> {
    Ok(match value {
        ValueRef::Null => AnyValueKind::Null(AnyTypeInfoKind::Null),
        ValueRef::Integer(i) => AnyValueKind::BigInt(i),
        ValueRef::Real(r) => AnyValueKind::Double(r),
        ValueRef::Text(t) => AnyValueKind::Text(Cow::Owned(
            std::str::from_utf8(t)
                .map_err(|e| Error::Decode(Box::new(e)))?
                .to_owned(),
        )),
        ValueRef::Blob(b) => AnyValueKind::Blob(Cow::Owned(b.to_vec())),
    })
}

/// A SQLite error as sqlx's SQLite driver reports it: the extended result code as
/// the code, SQLite's message as the message.
#[derive(Debug)]
pub struct InlineError {
    code: c_int,
    message: String,
}

impl fmt::Display for InlineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "(code: {}) {}", self.code, self.message)
    }
}

impl std::error::Error for InlineError {}

impl DatabaseError for InlineError {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Owned(self.code.to_string()))
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> ErrorKind {
        match self.code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                ErrorKind::UniqueViolation
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => ErrorKind::ForeignKeyViolation,
            ffi::SQLITE_CONSTRAINT_NOTNULL => ErrorKind::NotNullViolation,
            ffi::SQLITE_CONSTRAINT_CHECK => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}

pub(crate) fn sqlx_error(e: rusqlite::Error) -> Error {
    match e {
        rusqlite::Error::SqliteFailure(failure, message) => {
            Error::Database(Box::new(InlineError {
                code: failure.extended_code,
                message: message.unwrap_or_else(|| failure.to_string()),
            }))
        }
        other => Error::Protocol(other.to_string()),
    }
}

fn is_busy(e: &Error) -> bool {
    e.as_database_error()
        .and_then(|e| e.try_downcast_ref::<InlineError>())
        .is_some_and(|e| e.code & 0xff == ffi::SQLITE_BUSY)
}

impl AnyConnectionBackend for InlineConnection {
    fn name(&self) -> &str {
        Inline::NAME
    }

    fn close(self: Box<Self>) -> BoxFuture<'static, Result<(), Error>> {
        drop(self);
        futures::future::ok(()).boxed()
    }

    fn close_hard(self: Box<Self>) -> BoxFuture<'static, Result<(), Error>> {
        drop(self);
        futures::future::ok(()).boxed()
    }

    fn ping(&mut self) -> BoxFuture<'_, Result<(), Error>> {
        futures::future::ok(()).boxed()
    }

    fn begin(&mut self, statement: Option<Cow<'static, str>>) -> BoxFuture<'_, Result<(), Error>> {
        self.begin_with(statement).boxed()
    }

    fn commit(&mut self) -> BoxFuture<'_, Result<(), Error>> {
        futures::future::ready(self.commit_now()).boxed()
    }

    fn rollback(&mut self) -> BoxFuture<'_, Result<(), Error>> {
        futures::future::ready(self.rollback_now()).boxed()
    }

    fn start_rollback(&mut self) {
        if let Err(e) = self.rollback_now() {
            tracing::warn!(error = %e, "rolling back a dropped transaction failed");
        }
    }

    fn get_transaction_depth(&self) -> usize {
        self.depth
    }

    fn shrink_buffers(&mut self) {}

    fn flush(&mut self) -> BoxFuture<'_, Result<(), Error>> {
        futures::future::ok(()).boxed()
    }

    fn should_flush(&self) -> bool {
        false
    }

    fn fetch_many<'q>(
        &'q mut self,
        query: &'q str,
        persistent: bool,
        arguments: Option<AnyArguments<'q>>,
    ) -> BoxStream<'q, Result<Either<AnyQueryResult, AnyRow>, Error>> {
        async move {
            match self
                .run_waiting(query, persistent, arguments.as_ref(), false)
                .await
            {
                Ok(items) => futures::stream::iter(items.into_iter().map(Ok)).left_stream(),
                Err(e) => futures::stream::once(futures::future::err(e)).right_stream(),
            }
        }
        .flatten_stream()
        .boxed()
    }

    fn fetch_optional<'q>(
        &'q mut self,
        query: &'q str,
        persistent: bool,
        arguments: Option<AnyArguments<'q>>,
    ) -> BoxFuture<'q, Result<Option<AnyRow>, Error>> {
        async move {
            let items = self
                .run_waiting(query, persistent, arguments.as_ref(), true)
                .await?;
            Ok(items.into_iter().find_map(|item| item.right()))
        }
        .boxed()
    }

    fn prepare_with<'c, 'q: 'c>(
        &'c mut self,
        sql: &'q str,
        _parameters: &[AnyTypeInfo],
    ) -> BoxFuture<'c, Result<AnyStatement<'q>, Error>> {
        // Kept as `run` keeps it, so that running what was prepared finds it.
        let prepared = (|| {
            let kept =
                Kept::keep(&mut self.kept, &self.conn, sql).map_err(KeptError::into_error)?;
            let Shape { names, columns } = Shape::of(&kept.statement)?;
            Ok(AnyStatement {
                sql: Cow::Borrowed(sql),
                parameters: Some(Either::Right(kept.statement.parameter_count())),
                column_names: names,
                columns,
            })
        })();
        futures::future::ready(prepared).boxed()
    }

    fn describe<'q>(&'q mut self, _sql: &'q str) -> BoxFuture<'q, Result<Describe<Any>, Error>> {
        futures::future::err(Error::Protocol(
            "the inline SQLite writer does not describe statements (no compile-time checked queries run on it)".into(),
        ))
        .boxed()
    }
}

impl Connection for InlineConnection {
    type Database = Inline;
    type Options = InlineOptions;

    fn close(self) -> BoxFuture<'static, Result<(), Error>> {
        drop(self);
        futures::future::ok(()).boxed()
    }

    fn close_hard(self) -> BoxFuture<'static, Result<(), Error>> {
        drop(self);
        futures::future::ok(()).boxed()
    }

    fn ping(&mut self) -> BoxFuture<'_, Result<(), Error>> {
        futures::future::ok(()).boxed()
    }

    fn begin(&mut self) -> BoxFuture<'_, Result<Transaction<'_, Inline>, Error>> {
        Transaction::begin(self, None)
    }

    fn shrink_buffers(&mut self) {}

    fn flush(&mut self) -> BoxFuture<'_, Result<(), Error>> {
        futures::future::ok(()).boxed()
    }

    fn should_flush(&self) -> bool {
        false
    }
}

/// The driver's transactions, the same as through `Any`.
pub struct InlineTransactions;

impl TransactionManager for InlineTransactions {
    type Database = Inline;

    fn begin<'c>(
        conn: &'c mut InlineConnection,
        statement: Option<Cow<'static, str>>,
    ) -> BoxFuture<'c, Result<(), Error>> {
        conn.begin_with(statement).boxed()
    }

    fn commit(conn: &mut InlineConnection) -> BoxFuture<'_, Result<(), Error>> {
        futures::future::ready(conn.commit_now()).boxed()
    }

    fn rollback(conn: &mut InlineConnection) -> BoxFuture<'_, Result<(), Error>> {
        futures::future::ready(conn.rollback_now()).boxed()
    }

    fn start_rollback(conn: &mut InlineConnection) {
        AnyConnectionBackend::start_rollback(conn)
    }

    fn get_transaction_depth(conn: &InlineConnection) -> usize {
        conn.depth
    }
}

/// The rows, columns, values and statements of the driver's own face, which does not
/// exist: the driver is reached through `sqlx::Any` only. No value of this type can be
/// made, so none of its methods can run.
#[derive(Debug)]
pub enum Nothing {}

impl Row for Nothing {
    type Database = Inline;
    fn columns(&self) -> &[Nothing] {
        match *self {}
    }
    fn try_get_raw<I: ColumnIndex<Self>>(&self, _: I) -> Result<Nothing, Error> {
        match *self {}
    }
}

impl Column for Nothing {
    type Database = Inline;
    fn ordinal(&self) -> usize {
        match *self {}
    }
    fn name(&self) -> &str {
        match *self {}
    }
    fn type_info(&self) -> &AnyTypeInfo {
        match *self {}
    }
}

impl Value for Nothing {
    type Database = Inline;
    fn as_ref(&self) -> Nothing {
        match *self {}
    }
    fn type_info(&self) -> Cow<'_, AnyTypeInfo> {
        match *self {}
    }
    fn is_null(&self) -> bool {
        match *self {}
    }
}

impl sqlx_core::value::ValueRef<'_> for Nothing {
    type Database = Inline;
    fn to_owned(&self) -> Nothing {
        match *self {}
    }
    fn type_info(&self) -> Cow<'_, AnyTypeInfo> {
        match *self {}
    }
    fn is_null(&self) -> bool {
        match *self {}
    }
}

impl<'q> Statement<'q> for Nothing {
    type Database = Inline;
    fn to_owned(&self) -> Nothing {
        match *self {}
    }
    fn sql(&self) -> &str {
        match *self {}
    }
    fn parameters(&self) -> Option<Either<&[AnyTypeInfo], usize>> {
        match *self {}
    }
    fn columns(&self) -> &[Nothing] {
        match *self {}
    }
    sqlx_core::impl_statement_query!(NoArguments);
}

/// Arguments of the driver's own face: it takes none (bind through `sqlx::Any`).
#[derive(Debug, Default)]
pub struct NoArguments;

impl<'q> Arguments<'q> for NoArguments {
    type Database = Inline;
    fn reserve(&mut self, _: usize, _: usize) {}
    fn add<T>(&mut self, _: T) -> Result<(), BoxDynError>
    where
        T: Encode<'q, Inline> + Type<Inline>,
    {
        Err("the inline SQLite writer binds values through sqlx::Any only".into())
    }
    fn len(&self) -> usize {
        0
    }
}

impl<'q> sqlx_core::arguments::IntoArguments<'q, Inline> for NoArguments {
    fn into_arguments(self) -> NoArguments {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::{super::scratch::Scratch, *};

    /// A connection of the driver to a new file in a directory of its own.
    async fn scratch(name: &str) -> (Scratch, PathBuf, InlineConnection) {
        let dir = Scratch::new(name);
        let file = dir.file();
        let options =
            InlineOptions::from_str(&InlineOptions::url(&file.to_string_lossy())).unwrap();
        let conn = options.connect().await.unwrap();
        (dir, file, conn)
    }

    /// The first row among what `run` returned.
    fn first_row(items: &[Either<AnyQueryResult, AnyRow>]) -> &AnyRow {
        items.iter().find_map(|i| i.as_ref().right()).unwrap()
    }

    /// The bundled SQLite is built as `.cargo/config.toml` asks (`LIBSQLITE3_FLAGS`):
    /// without memory statistics and without memory management across connections,
    /// each of which takes a process-wide mutex on every allocation or page fetch.
    /// (Outside this workspace's cargo, the flags are not set and this fails.)
    #[test]
    fn sqlite_is_built_without_process_wide_memory_locks() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let mut options = conn.prepare("PRAGMA compile_options").unwrap();
        let options: Vec<String> = options
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(
            options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
            "{options:?}"
        );
        assert!(
            !options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"),
            "{options:?}"
        );
        // A page cache allocates its pages as it fills, not 20 at once when it is made:
        // SQLite makes one for each temporary table, as a `RETURNING` clause's rows.
        assert!(
            options.iter().any(|o| o == "DEFAULT_PCACHE_INITSZ=0"),
            "{options:?}"
        );
    }

    /// The writer keeps temporary storage, its statement journals among it, in memory
    /// (`WRITER_PRAGMAS`); the pool's connections are left as they are.
    #[tokio::test]
    async fn the_writer_keeps_temporary_storage_in_memory() {
        let (_dir, _, mut conn) = scratch("temp-store").await;
        let items = conn.run("PRAGMA temp_store", true, None, false).unwrap();
        let row = first_row(&items);
        assert!(
            matches!(row.values[0].kind, AnyValueKind::BigInt(2)),
            "2 is MEMORY: {:?}",
            row.values[0].kind
        );
    }

    /// What a kept statement keeps between runs is only itself: each run binds its own
    /// arguments to every parameter (`$n` by number, the same one twice), a run that
    /// fails keeps nothing (the next runs it afresh), and past `STATEMENT_CACHE`
    /// statements the connection starts again and each still runs as written.
    #[tokio::test]
    async fn kept_statements_run_each_time_with_their_own_arguments() {
        let (_dir, _, mut conn) = scratch("kept").await;
        conn.run(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT NOT NULL UNIQUE, b TEXT)",
            true,
            None,
            false,
        )
        .unwrap();
        let insert = "INSERT INTO t (a, b) VALUES ($2, $1)";
        // sqlx's `prepare` describes the statement and keeps it, for the runs after.
        let read = "SELECT b, a FROM t WHERE a = $1";
        let prepared = conn.prepare_with(read, &[]).await.unwrap();
        let columns: Vec<&str> = prepared.columns.iter().map(|c| &*c.name).collect();
        assert_eq!(columns, ["b", "a"]);
        assert!(matches!(prepared.parameters, Some(Either::Right(1))));
        assert!(conn.kept.contains_key(read));
        let args = |values: &[Option<&'static str>]| {
            let mut args = AnyArguments::default();
            for v in values {
                args.add(*v).unwrap();
            }
            args
        };
        conn.run(insert, true, Some(&args(&[Some("x1"), Some("a1")])), false)
            .unwrap();
        conn.run(insert, true, Some(&args(&[None, Some("a2")])), false)
            .unwrap();
        // The second run's `$1` is NULL, not the first run's value.
        let Err(failed) = conn.run(insert, true, Some(&args(&[None, Some("a1")])), false) else {
            panic!("a1 is taken")
        };
        assert!(failed.to_string().contains("UNIQUE"), "{failed}");
        assert!(!conn.kept.contains_key(insert), "not kept after it failed");
        conn.run(insert, true, Some(&args(&[Some("x3"), Some("a3")])), false)
            .unwrap();
        let Err(missing) = conn.run(insert, true, Some(&args(&[Some("x4")])), false) else {
            panic!("the statement asks for two arguments")
        };
        assert!(missing.to_string().contains("argument 2"), "{missing}");

        // More statements than are kept: each runs and reads its own value.
        for n in 0..STATEMENT_CACHE + 10 {
            let sql = format!("SELECT b FROM t WHERE a = $1 AND {n} = {n}");
            let items = conn
                .run(&sql, true, Some(&args(&[Some("a3")])), false)
                .unwrap();
            assert!(
                matches!(&first_row(&items).values[0].kind, AnyValueKind::Text(t) if t == "x3"),
                "statement {n}"
            );
            assert!(conn.kept.len() <= STATEMENT_CACHE);
        }
        let rows = conn
            .run("SELECT a, b FROM t ORDER BY id", true, None, false)
            .unwrap();
        let read: Vec<(String, Option<String>)> = rows
            .iter()
            .filter_map(|i| i.as_ref().right())
            .map(|row| {
                let text = |k: &AnyValueKind<'_>| match k {
                    AnyValueKind::Text(t) => Some(t.to_string()),
                    _ => None,
                };
                (
                    text(&row.values[0].kind).unwrap(),
                    text(&row.values[1].kind),
                )
            })
            .collect();
        assert_eq!(
            read,
            vec![
                ("a1".into(), Some("x1".into())),
                ("a2".into(), None),
                ("a3".into(), Some("x3".into())),
            ]
        );
    }

    /// A kept statement's columns are read after it steps: SQLite prepares it again
    /// then if its table changed (`SELECT *` after the table gained a column, or one
    /// was renamed), and the shape kept from its earlier runs no longer applies.
    #[tokio::test]
    async fn a_kept_statement_reads_the_columns_its_table_has_now() {
        let (_dir, _, mut conn) = scratch("shape").await;
        conn.run("CREATE TABLE t (a INTEGER)", true, None, false)
            .unwrap();
        conn.run("INSERT INTO t VALUES (1)", true, None, false)
            .unwrap();
        let names = |items: &[Either<AnyQueryResult, AnyRow>]| -> Vec<String> {
            first_row(items)
                .columns
                .iter()
                .map(|c| c.name.to_string())
                .collect()
        };
        let read = "SELECT * FROM t";
        assert_eq!(names(&conn.run(read, true, None, false).unwrap()), ["a"]);
        assert_eq!(names(&conn.run(read, true, None, false).unwrap()), ["a"]);
        conn.run(
            "ALTER TABLE t ADD COLUMN b TEXT DEFAULT 'x'",
            true,
            None,
            false,
        )
        .unwrap();
        let items = conn.run(read, true, None, false).unwrap();
        assert_eq!(names(&items), ["a", "b"]);
        let row = first_row(&items);
        assert!(matches!(&row.values[1].kind, AnyValueKind::Text(t) if t == "x"));
        assert_eq!(row.column_names.get("b"), Some(&1));
        // As many columns as before, one of another name: the kept shape is not it.
        conn.run("ALTER TABLE t RENAME COLUMN a TO c", true, None, false)
            .unwrap();
        let items = conn.run(read, true, None, false).unwrap();
        assert_eq!(names(&items), ["c", "b"]);
        assert_eq!(first_row(&items).column_names.get("c"), Some(&0));
        assert_eq!(first_row(&items).column_names.get("a"), None);
    }

    /// The WAL hook hands the checkpoint to the driver's thread once the WAL passes
    /// `CHECKPOINT_PAGES`, and the database file then holds what was written.
    #[tokio::test]
    async fn a_large_wal_is_checkpointed_by_the_drivers_thread() {
        let (_dir, file, mut conn) = scratch("checkpoint").await;
        conn.run("CREATE TABLE big (b BLOB)", true, None, false)
            .unwrap();
        let before = std::fs::metadata(&file).unwrap().len();
        let checkpointed = conn.checkpointed.clone();
        let (count, changed) = &*checkpointed;
        assert_eq!(*count.lock().unwrap(), 0);
        // 1.2 rows of a 4 KiB page each per page of the threshold, one commit each: the
        // WAL passes the threshold about halfway (each commit also rewrites the table's
        // inner page). Each runs as the driver runs a statement, waiting out a moment
        // the checkpointer's connection holds a lock (`run` alone failed now and then
        // with SQLITE_BUSY).
        for _ in 0..CHECKPOINT_PAGES * 6 / 5 {
            conn.run_waiting("INSERT INTO big VALUES (zeroblob(4000))", true, None, false)
                .await
                .unwrap();
        }
        let (checkpoints, _) = changed
            .wait_timeout_while(count.lock().unwrap(), Duration::from_secs(30), |n| *n == 0)
            .unwrap();
        assert!(*checkpoints >= 1, "no checkpoint ran");
        drop(checkpoints);
        let after = std::fs::metadata(&file).unwrap().len();
        assert!(
            after >= before + (1 << 20),
            "the database file grew from {before} to {after} B only"
        );
    }
}
