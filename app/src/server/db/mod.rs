//! Storage: one `AnyPool` over SQLite (the embedded default) or PostgreSQL.
//!
//! Both backends run the same SQL (`$n` placeholders, `RETURNING`, BIGINT-sized
//! integers, dates as ISO text, timestamps as Unix ms), so every feature works on both;
//! the one difference, a one-row insert's new id, is kept in [`insert_id`].
//! Each backend has its own migration folder because DDL differs (AUTOINCREMENT vs BIGSERIAL).

use std::{
    borrow::Cow,
    str::FromStr,
    sync::{Once, OnceLock},
};

use sqlx::{any::AnyPoolOptions, migrate::Migrator, AnyPool};

pub mod gather;
pub mod inline;
#[cfg(test)]
pub(crate) mod scratch;
pub mod writer;

pub use writer::{WriteTx, Writer};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend `conn` talks to (the writer's inline driver is SQLite too).
    pub fn of(conn: &sqlx::AnyConnection) -> Backend {
        if conn.backend_name() == <sqlx::Postgres as sqlx::Database>::NAME {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    /// Where every write transaction ([`super::events::Write`]) runs. On SQLite, one
    /// connection: SQLite lets one writer in at a time anyway, so writers queue for it,
    /// in order, instead of in SQLite's busy handler (sleep, retry), and the writer's
    /// page cache stays warm (in WAL mode a connection drops its whole cache once
    /// another connection has written). That connection runs its statements on the
    /// calling thread ([`inline`]), not on a thread of its own as sqlx's are, and is
    /// free again the moment a write ends ([`writer`]). On PostgreSQL, which runs
    /// writers side by side, it is the shared pool.
    pub writer: Writer,
    /// Two connections of its own for the hub's delivery task, which reads the log
    /// after every commit: in the shared pool it queued behind the requests, and under
    /// many concurrent writers events reached sockets hundreds of ms late (issue 13).
    pub log: AnyPool,
    pub backend: Backend,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported DATABASE_URL scheme (use sqlite:// or postgres://)")]
    UnsupportedUrl,
    #[error("could not create the database directory {0}: {1}")]
    Directory(String, std::io::Error),
    #[error("the database {0} is in use by another process (one server per SQLite file: stop the other, or give this one its own DATABASE_URL)")]
    InUse(String),
    #[error(
        "DATABASE_URL names a SQLite VFS (`vfs=`); this server chooses its own ({SQLITE_VFS})"
    )]
    VfsGiven,
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl Db {
    /// Connects (creating a SQLite file and its directory when missing) and migrates.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Db, DbError> {
        install_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(DbError::UnsupportedUrl);
        };
        let sqlx_url = match backend {
            Backend::Sqlite => {
                let sqlx_url = sqlite_url(url)?;
                claim_sqlite(sqlite_file(url))?;
                sqlx_url
            }
            Backend::Postgres => url.to_owned(),
        };
        let pool = pool_options(backend, max_connections)
            .connect(&sqlx_url)
            .await?;
        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&pool).await?;
        let log = pool_options(backend, 2).connect(&sqlx_url).await?;
        let writer = match backend {
            // The connection sets itself up (`inline`).
            Backend::Sqlite => Writer::sqlite(sqlite_file(url)).await?,
            Backend::Postgres => Writer::Pool(pool.clone()),
        };
        Ok(Db {
            pool,
            writer,
            log,
            backend,
        })
    }
}

impl Db {
    /// A pool of `max_connections` of its own on the same database and with the same
    /// settings, connecting on first use (for a task that must not queue behind the
    /// requests or the delivery task).
    pub fn dedicated(&self, max_connections: u32) -> AnyPool {
        pool_options(self.backend, max_connections)
            .connect_lazy_with((*self.pool.connect_options()).clone())
    }
}

pub use inline::SQLITE_PRAGMAS;

pub use gather::SQLITE_VFS;

/// Fails at once, with [`DbError::InUse`], when another process holds the database
/// `path` (as `SQLITE_VFS` makes a server do), rather than after SQLite's busy
/// timeout, with "database is locked", at the first statement.
fn claim_sqlite(path: &str) -> Result<(), DbError> {
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    let claimed =
        rusqlite::Connection::open_with_flags_and_vfs(path, inline::OPEN_FLAGS, SQLITE_VFS)
            .and_then(|conn| {
                conn.busy_timeout(std::time::Duration::ZERO)?;
                // Any read takes the file's lock (the process's, under `unix-excl`).
                conn.query_row("PRAGMA schema_version", [], |row| row.get::<_, i64>(0))
            });
    match claimed {
        Ok(_) => Ok(()),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::DatabaseBusy =>
        {
            Err(DbError::InUse(path.to_owned()))
        }
        Err(e) => Err(DbError::Sqlx(inline::sqlx_error(e))),
    }
}

fn pool_options(backend: Backend, max_connections: u32) -> AnyPoolOptions {
    // A request waits at most 5 s for a connection; when the database is down it is
    // answered 503 (`AppError::Unavailable`) then, not held for sqlx's 30 s default.
    let mut options = AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(std::time::Duration::from_secs(5));
    if backend == Backend::Sqlite {
        // A connection to a local file does not go stale: skip the ping sqlx sends
        // before handing out a pooled connection, a round trip to the connection's
        // worker thread on every query outside a transaction. (PostgreSQL keeps it:
        // there a connection can die with the server.)
        options = options.test_before_acquire(false).after_connect(|conn, _| {
            Box::pin(async move {
                use sqlx::Executor;
                conn.execute(SQLITE_PRAGMAS).await?;
                Ok(())
            })
        });
    }
    options
}

/// A statement whose text depends only on how many rows it names (a `VALUES` list, an
/// `IN` list), made once per process for each count up to `ROWS_KEPT` and afresh for
/// more: a write's appends name one or a few streams, and making their text (a
/// `format!` per row and per statement) was about 2 % of a team write's instructions
/// (issue 12; ARCHITECTURE.md, "The write path", sixteenth session). `make` must give
/// the same text for the same count: that is the whole of what is kept.
pub struct ByRows([OnceLock<String>; ROWS_KEPT]);

/// Counts of rows whose statements [`ByRows`] keeps.
const ROWS_KEPT: usize = 8;

impl ByRows {
    pub const fn new() -> ByRows {
        ByRows([const { OnceLock::new() }; ROWS_KEPT])
    }

    /// The statement for `n` rows, as `make(n)` writes it.
    pub fn get(&'static self, n: usize, make: impl FnOnce(usize) -> String) -> Cow<'static, str> {
        match n.checked_sub(1).and_then(|i| self.0.get(i)) {
            Some(kept) => Cow::Borrowed(kept.get_or_init(|| make(n))),
            None => Cow::Owned(make(n)),
        }
    }
}

impl Default for ByRows {
    fn default() -> ByRows {
        ByRows::new()
    }
}

/// The `VALUES` list of `n` rows of `width` parameters each, after `before` parameters
/// the statement binds first: `row(p)` writes the row whose first parameter is `$p`.
pub fn values(n: usize, width: usize, before: usize, row: impl Fn(usize) -> String) -> String {
    (0..n)
        .map(|k| row(before + 1 + k * width))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The drivers `sqlx::Any` picks from by URL scheme: sqlx's own and the inline writer.
/// Installed once per process (sqlx refuses a second installation).
pub fn install_drivers() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        sqlx::any::install_drivers(&[
            sqlx::sqlite::any::DRIVER,
            sqlx::postgres::any::DRIVER,
            inline::DRIVER,
        ])
        .expect("sqlx's drivers are installed here only");
    });
}

/// The database file a `sqlite:` URL names.
fn sqlite_file(url: &str) -> &str {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    path.split('?').next().unwrap_or_default()
}

/// Checks the URL, makes sure the file's directory exists and asks SQLite to create
/// the file: the URL for sqlx's connections.
fn sqlite_url(url: &str) -> Result<String, DbError> {
    let _ = sqlx::sqlite::SqliteConnectOptions::from_str(url)?;
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    if query.split('&').any(|pair| pair.starts_with("vfs=")) {
        return Err(DbError::VfsGiven);
    }
    let path = sqlite_file(url);
    if !path.is_empty() && path != ":memory:" {
        if let Some(dir) = std::path::Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| DbError::Directory(dir.display().to_string(), e))?;
        }
    }
    Ok(if url.contains('?') {
        format!("{url}&mode=rwc&vfs={SQLITE_VFS}")
    } else {
        format!("{url}?mode=rwc&vfs={SQLITE_VFS}")
    })
}

/// A read-only transaction whose statements all see one snapshot: SQLite's
/// transactions do; PostgreSQL's default (read committed) takes a new snapshot per
/// statement, so ask for repeatable read.
pub async fn snapshot(db: &Db) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    if db.backend == Backend::Postgres {
        use sqlx::Executor;
        tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await?;
    }
    Ok(tx)
}

/// True when a database error is a unique-constraint violation (both backends).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            d.code().as_deref() == Some("23505") // PostgreSQL unique_violation
                || d.code().as_deref() == Some("2067") // SQLITE_CONSTRAINT_UNIQUE
                || d.code().as_deref() == Some("1555") // SQLITE_CONSTRAINT_PRIMARYKEY
                || d.message().contains("UNIQUE constraint failed")
        }
        _ => false,
    }
}

/// Runs `insert`, an `INSERT` of one row into a table keyed by `id`, and gives the new
/// row's `id`. Callers write the same statement for both backends, without `RETURNING`:
/// PostgreSQL runs it with `RETURNING id`; SQLite runs it as it is, and the id is the
/// connection's last inserted row id (`sqlite3_last_insert_rowid`). SQLite carries out a
/// `RETURNING` clause as a temporary trigger that collects the rows, and inside a
/// transaction the insert then also keeps a statement journal (a copy of every page it
/// changes): 1–2 % of a write's CPU (issue 12; ARCHITECTURE.md, "The write path").
pub async fn insert_id<'q>(
    conn: &mut sqlx::AnyConnection,
    mut insert: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
) -> Result<i64, sqlx::Error> {
    use sqlx::Execute as _;
    let sql = insert.sql();
    let arguments = insert
        .take_arguments()
        .map_err(sqlx::Error::Encode)?
        .unwrap_or_default();
    if Backend::of(conn) == Backend::Postgres {
        let returning = format!("{sql} RETURNING id");
        sqlx::query_scalar_with(&returning, arguments)
            .fetch_one(conn)
            .await
    } else {
        let done = sqlx::query_with(sql, arguments).execute(&mut *conn).await?;
        match done.last_insert_id() {
            Some(id) => Ok(id),
            // sqlx's own SQLite driver does not pass the id on through `Any` (the
            // writer, `inline`, does): ask the same connection.
            None => {
                sqlx::query_scalar("SELECT last_insert_rowid()")
                    .fetch_one(conn)
                    .await
            }
        }
    }
}

/// The SQLite writer (`inline`) as `Db` hands it out, against sqlx's driver on the
/// same file. (The checkpoint thread's test is in `inline`, which it needs the inside of.)
#[cfg(test)]
mod tests {
    use sqlx::{Executor, Row as _};
    use sqlx_core::error::ErrorKind;

    use super::{scratch::Scratch, *};

    /// The test's databases, in a `Scratch` directory.
    impl Scratch {
        async fn db(&self) -> Db {
            Db::connect(&format!("sqlite://{}", self.file().display()), 2)
                .await
                .unwrap()
        }

        /// The database with the table `t` ([`TABLE`]), made through the writer.
        async fn db_with_table(&self) -> Db {
            let db = self.db().await;
            db.writer
                .acquire()
                .await
                .unwrap()
                .execute(TABLE)
                .await
                .unwrap();
            db
        }
    }

    /// Puts a row named `name` into `t` through `conn`.
    async fn put(conn: &mut sqlx::AnyConnection, name: &str) -> Result<(), sqlx::Error> {
        sqlx::query("INSERT INTO t (n, s) VALUES (1, $1)")
            .bind(name)
            .execute(conn)
            .await
            .map(|_| ())
    }

    /// One write on the writer that puts one row.
    async fn write_one(db: &Db, name: &str) -> Result<(), sqlx::Error> {
        let mut tx = db.writer.begin().await?;
        put(&mut tx, name).await?;
        tx.commit().await
    }

    /// The names in `t` in the order they were put, read through sqlx's own driver.
    async fn names(db: &Db) -> Vec<String> {
        sqlx::query_scalar("SELECT s FROM t ORDER BY id")
            .fetch_all(&db.pool)
            .await
            .unwrap()
    }

    const TABLE: &str = "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, \
        n BIGINT NOT NULL, s TEXT NOT NULL UNIQUE, r REAL, b BLOB, o TEXT)";

    /// `ByRows` hands back what `make` writes for each count, making the text of a
    /// kept count once and of any other count every time.
    #[test]
    fn by_rows_keeps_the_text_of_small_counts() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static KEPT: ByRows = ByRows::new();
        static MADE: AtomicUsize = AtomicUsize::new(0);
        let make = |n: usize| {
            MADE.fetch_add(1, Ordering::Relaxed);
            format!("IN ({})", values(n, 1, 0, |p| format!("${p}")))
        };
        for _ in 0..3 {
            for n in [1, 2, ROWS_KEPT] {
                assert_eq!(KEPT.get(n, make), make(n));
            }
        }
        // Each call of `make` above once in the comparison, and once more per kept count.
        assert_eq!(MADE.load(Ordering::Relaxed), 9 + 3);
        MADE.store(0, Ordering::Relaxed);
        for _ in 0..3 {
            assert_eq!(
                KEPT.get(ROWS_KEPT + 1, make),
                "IN ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            );
            assert_eq!(KEPT.get(0, make), "IN ()");
        }
        assert_eq!(MADE.load(Ordering::Relaxed), 6, "made afresh every time");
    }

    /// Every connection opens the file on `SQLITE_VFS`: the WAL index is kept in memory
    /// (no `-shm` file beside the database, though the WAL is in use), and writes
    /// through the writer are read through sqlx's pool as before. A URL that picks a
    /// VFS of its own is refused before anything is opened.
    #[tokio::test]
    async fn sqlite_connections_share_the_file_in_memory_and_refuse_another_vfs() {
        let scratch = Scratch::new("vfs");
        let db = scratch.db_with_table().await;
        write_one(&db, "one").await.unwrap();
        write_one(&db, "two").await.unwrap();
        assert_eq!(names(&db).await, ["one", "two"]);
        let beside = |suffix: &str| {
            let mut path = scratch.file().into_os_string();
            path.push(suffix);
            std::path::PathBuf::from(path).exists()
        };
        assert!(beside("-wal"), "the database is in WAL mode");
        assert!(!beside("-shm"), "no WAL index file: it is in memory");

        let other = Scratch::new("vfs-given");
        let dir = other.dir().join("not-made");
        let url = format!("sqlite://{}/db.sqlite?vfs=unix", dir.display());
        let refused = Db::connect(&url, 2).await.unwrap_err();
        assert!(matches!(refused, DbError::VfsGiven), "{refused}");
        assert!(!dir.exists(), "nothing was made or opened");
    }

    /// `insert_id` hands back the row it put, on the writer inside a transaction and on
    /// sqlx's driver outside one, with its arguments bound as given; a failed insert is
    /// the database's error and puts nothing.
    #[tokio::test]
    async fn insert_id_gives_the_id_of_the_row_it_put() {
        let scratch = Scratch::new("insert-id");
        let db = scratch.db_with_table().await;
        let insert = |name: &'static str, n: i64| {
            sqlx::query("INSERT INTO t (n, s) VALUES ($2, $1)")
                .bind(name)
                .bind(n)
        };
        let mut tx = db.writer.begin().await.unwrap();
        let first = insert_id(&mut tx, insert("first", 1)).await.unwrap();
        let second = insert_id(&mut tx, insert("second", 2)).await.unwrap();
        tx.commit().await.unwrap();
        let mut pooled = db.pool.acquire().await.unwrap();
        let third = insert_id(&mut pooled, insert("third", 3)).await.unwrap();
        let taken = insert_id(&mut pooled, insert("first", 4))
            .await
            .unwrap_err();
        assert!(is_unique_violation(&taken), "{taken}");
        let rows: Vec<(i64, String, i64)> = sqlx::query_as("SELECT id, s, n FROM t ORDER BY id")
            .fetch_all(&db.pool)
            .await
            .unwrap();
        assert_eq!(
            rows,
            vec![
                (first, "first".into(), 1),
                (second, "second".into(), 2),
                (third, "third".into(), 3),
            ]
        );
    }

    #[tokio::test]
    async fn the_writer_binds_and_reads_values_as_sqlx_does() {
        let scratch = Scratch::new("values");
        let db = scratch.db().await;
        let mut writer = db.writer.acquire().await.unwrap();
        assert_eq!(
            writer.backend_name(),
            "SQLite, inline",
            "the SQLite writer is the inline driver"
        );
        // Several statements in one string run one after another.
        writer
            .execute(format!("{TABLE}; CREATE TABLE u (x INTEGER)").as_str())
            .await
            .unwrap();
        // `$n` by number whatever its place, the same one twice.
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO t (s, n, r, b, o) VALUES ($2, $1, $3, $4, $5) RETURNING id",
        )
        .bind(-7_i64)
        .bind("ünï")
        .bind(2.5_f64)
        .bind(vec![0_u8, 255, 1])
        .bind(None::<String>)
        .fetch_one(&mut *writer)
        .await
        .unwrap();
        let done = sqlx::query("UPDATE t SET n = $1 + $1 WHERE id = $2")
            .bind(21_i64)
            .bind(id)
            .execute(&mut *writer)
            .await
            .unwrap();
        assert_eq!(done.rows_affected(), 1);
        let read = "SELECT n, s, r, b, o FROM t WHERE id = $1";
        type Values = (i64, String, f64, Vec<u8>, Option<String>);
        let inline: Values = sqlx::query_as(read)
            .bind(id)
            .fetch_one(&mut *writer)
            .await
            .unwrap();
        let threaded: Values = sqlx::query_as(read)
            .bind(id)
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(inline, (42, "ünï".into(), 2.5, vec![0, 255, 1], None));
        assert_eq!(inline, threaded, "both drivers read the row alike");
        let row = sqlx::query(read)
            .bind(id)
            .fetch_one(&mut *writer)
            .await
            .unwrap();
        assert_eq!(row.get::<i64, _>("n"), 42);
        assert!(sqlx::query(read)
            .bind(id + 1)
            .fetch_optional(&mut *writer)
            .await
            .unwrap()
            .is_none());
        // Too few arguments is an error, not a NULL.
        let short = sqlx::query("INSERT INTO t (n, s) VALUES ($1, $2)")
            .bind(1_i64)
            .execute(&mut *writer)
            .await;
        assert!(short.is_err(), "{short:?}");
    }

    #[tokio::test]
    async fn a_constraint_failure_reads_as_sqlx_reports_it_and_writes_nothing() {
        let scratch = Scratch::new("unique");
        let db = scratch.db_with_table().await;
        write_one(&db, "a").await.unwrap();
        let mut tx = db.writer.begin().await.unwrap();
        put(&mut tx, "b").await.unwrap();
        let e = put(&mut tx, "a").await.unwrap_err();
        assert!(is_unique_violation(&e), "{e:?}");
        let e = e.into_database_error().unwrap();
        assert_eq!(e.code().as_deref(), Some("2067"));
        assert_eq!(e.kind(), ErrorKind::UniqueViolation);
        drop(tx);
        assert_eq!(
            names(&db).await,
            ["a"],
            "the dropped transaction's row is gone"
        );
        // The writer is free again.
        let tx = db.writer.begin().await.unwrap();
        tx.commit().await.unwrap();
    }

    /// A write begins the moment the one before it ends, without the runtime running
    /// anything in between. (A pool gave the connection back in a task of its own,
    /// queued behind every task the commit had woken: the sockets of its fan-out.)
    #[tokio::test(flavor = "current_thread")]
    async fn the_writer_is_free_again_the_moment_a_write_ends() {
        use futures::FutureExt;
        let scratch = Scratch::new("handover");
        let db = scratch.db_with_table().await;
        let first = db.writer.begin().await.unwrap();
        assert!(
            db.writer.begin().now_or_never().is_none(),
            "one write at a time"
        );
        first.commit().await.unwrap();
        let second = db.writer.begin().now_or_never();
        assert!(matches!(second, Some(Ok(_))), "the writer was still taken");
        drop(second);

        // A write waiting in line gets the writer when the one holding it ends.
        let mut holding = db.writer.begin().await.unwrap();
        put(&mut holding, "first").await.unwrap();
        let waiting = tokio::spawn({
            let db = db.clone();
            async move { write_one(&db, "second").await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        holding.commit().await.unwrap();
        waiting.await.unwrap().unwrap();
        assert_eq!(names(&db).await, ["first", "second"]);
    }

    /// A connection given back inside a transaction (a rollback that failed) is rolled
    /// back before the next write, which would otherwise run inside it.
    #[tokio::test]
    async fn the_writer_ends_a_transaction_left_open_before_the_next_write() {
        use sqlx::TransactionManager;
        type Manager = <sqlx::Any as sqlx::Database>::TransactionManager;
        let scratch = Scratch::new("left-open");
        let db = scratch.db_with_table().await;
        let mut left = db.writer.acquire().await.unwrap();
        Manager::begin(&mut left, None).await.unwrap();
        put(&mut left, "left").await.unwrap();
        // and a savepoint inside it
        Manager::begin(&mut left, None).await.unwrap();
        put(&mut left, "left inside").await.unwrap();
        assert_eq!(Manager::get_transaction_depth(&left), 2);
        drop(left);
        write_one(&db, "next").await.unwrap();
        assert_eq!(
            names(&db).await,
            ["next"],
            "the rows of the transaction left open are gone"
        );
    }

    /// Another connection holds the write lock, and only a task on this same thread
    /// releases it: the writer's `BEGIN IMMEDIATE` must wait without holding the
    /// thread (SQLite's busy handler would sleep on it, and the lock never go).
    #[tokio::test(flavor = "current_thread")]
    async fn the_writer_waits_for_the_lock_without_holding_its_thread() {
        let scratch = Scratch::new("busy");
        let db = scratch.db_with_table().await;
        let mut other = db.pool.begin_with("BEGIN IMMEDIATE").await.unwrap();
        put(&mut other, "other").await.unwrap();
        // `join!` polls the write first: it meets the lock and pauses; then the other
        // connection commits.
        let (written, other) = tokio::join!(write_one(&db, "writer"), other.commit());
        other.unwrap();
        written.unwrap();
        assert_eq!(names(&db).await, ["other", "writer"]);
    }
}
