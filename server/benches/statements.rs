//! What a write transaction's statements cost on SQLite, as the server runs them now and
//! as a writer thread of its own would (issue 12, the write path).
//!
//! ```sh
//! taskset -c 0 cargo bench -p server --bench statements -- [--writes N] [--statements K]
//! ```
//!
//! Each write is `BEGIN IMMEDIATE`, K statements (inserts and reads by key, alternating,
//! into a table shaped like `expenses`) and `COMMIT`, one write after another, on a file
//! database with the server's pragmas (`db::SQLITE_PRAGMAS`). Four ways, each timed by
//! the CPU the whole process spent (every thread: sqlx's SQLite worker too), divided by
//! the writes:
//!
//! - `sqlx Any` — a connection of sqlx's SQLite driver through `Any`, as `Db::writer`
//!   was until 2026-12-06: every statement is handed to sqlx's worker thread and its
//!   answer handed back.
//! - `sqlx Sqlite` — the same without the `Any` layer's conversions.
//! - `inline Any` — `Db::writer` now: the same queries through `Any`, run on the
//!   calling thread by `db::inline`.
//! - `writer thread` — the whole write as one job on a thread that owns a rusqlite
//!   connection with cached statements: one hand-off there and one back per write.
//!
//! Run it pinned to one core (`taskset -c 0`), as sio-ab runs the server: then each
//! hand-off is a switch between threads on that core, as in the benchmark.

use std::{sync::mpsc, time::Instant};

use app::server::db::SQLITE_PRAGMAS;
use sqlx::{Connection, Executor};

mod support;

const TABLE: &str = "CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, workspace_id INTEGER NOT NULL, amount_minor INTEGER NOT NULL, currency TEXT NOT NULL, category TEXT NOT NULL, note TEXT NOT NULL, spent_on TEXT NOT NULL, created_by INTEGER NOT NULL)";
const INSERT: &str = "INSERT INTO rows (workspace_id, amount_minor, currency, category, note, spent_on, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
const READ: &str = "SELECT amount_minor, note FROM rows WHERE workspace_id = $1 AND id = $2";

/// Makes one untimed write, then `writes` timed ones with `write(i)`, and prints the
/// process's CPU per write and per statement (`BEGIN` and `COMMIT` counted).
async fn measure(what: &str, writes: u64, statements: u64, mut write: impl AsyncFnMut(u64)) {
    let cpu = || support::process_cpu(std::process::id()).expect("this process's CPU");
    write(0).await;
    let (before, wall) = (cpu(), Instant::now());
    for i in 0..writes {
        write(i).await;
    }
    let (cpu_us, wall) = ((cpu() - before).as_secs_f64() * 1e6, wall.elapsed());
    println!(
        "{what:>14}: {:>7.1} µs CPU per write, {:>5.1} µs per statement; {:>6.0} writes/s",
        cpu_us / writes as f64,
        cpu_us / (writes * (statements + 2)) as f64,
        writes as f64 / wall.as_secs_f64()
    );
}

macro_rules! write_with_sqlx {
    ($name:ident, $db:ty) => {
        async fn $name(conn: &mut $db, k: u64, i: u64) -> Result<(), sqlx::Error> {
            conn.execute("BEGIN IMMEDIATE").await?;
            let mut last = 0_i64;
            for s in 0..k {
                if s % 2 == 0 {
                    last = sqlx::query_scalar(INSERT)
                        .bind(7_i64)
                        .bind((i * 100 + s) as i64)
                        .bind("EUR")
                        .bind("food")
                        .bind("Coffee beans")
                        .bind("2026-12-06")
                        .bind(3_i64)
                        .fetch_one(&mut *conn)
                        .await?;
                } else {
                    let _: (i64, String) = sqlx::query_as(READ)
                        .bind(7_i64)
                        .bind(last)
                        .fetch_one(&mut *conn)
                        .await?;
                }
            }
            conn.execute("COMMIT").await?;
            Ok(())
        }
    };
}

write_with_sqlx!(write_any, sqlx::AnyConnection);
write_with_sqlx!(write_sqlite, sqlx::SqliteConnection);

/// One write on a rusqlite connection: what the writer thread runs per job.
fn write_rusqlite(conn: &mut rusqlite::Connection, k: u64, i: u64) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    {
        let mut insert = tx.prepare_cached(INSERT)?;
        let mut read = tx.prepare_cached(READ)?;
        let mut last = 0_i64;
        for s in 0..k {
            if s % 2 == 0 {
                last = insert.query_row(
                    rusqlite::params![
                        7_i64,
                        (i * 100 + s) as i64,
                        "EUR",
                        "food",
                        "Coffee beans",
                        "2026-12-06",
                        3_i64
                    ],
                    |row| row.get(0),
                )?;
            } else {
                let _: (i64, String) = read.query_row(rusqlite::params![7_i64, last], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })?;
            }
        }
    }
    tx.commit()
}

/// A connection of sqlx's kind `C` to the bench's file, set as the server sets its own
/// (a pool only hands such a connection out: the hand-offs measured are the same).
async fn connect<C>(url: &str) -> C
where
    C: sqlx::Connection,
    for<'c> &'c mut C: Executor<'c>,
{
    let mut conn = C::connect(url).await.unwrap();
    conn.execute(SQLITE_PRAGMAS).await.unwrap();
    conn
}

type Job = (u64, tokio::sync::oneshot::Sender<rusqlite::Result<()>>);

fn main() {
    let [writes, statements] = support::numeric_flags([("--writes", 5_000), ("--statements", 10)]);
    let dir = std::env::temp_dir().join(format!("liveledger-statements-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bench.db");
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    println!(
        "{writes} writes of BEGIN IMMEDIATE + {statements} statements + COMMIT, one after another"
    );

    runtime.block_on(async {
        app::server::db::install_drivers();
        let mut conn: sqlx::AnyConnection = connect(&url).await;
        conn.execute(TABLE).await.unwrap();
        measure("sqlx Any", writes, statements, async |i| {
            write_any(&mut conn, statements, i).await.unwrap()
        })
        .await;
        conn.close().await.unwrap();

        let inline = app::server::db::inline::InlineOptions::url(&path.to_string_lossy());
        // Not `connect`: the inline connection sets its pragmas itself.
        let mut conn = sqlx::AnyConnection::connect(&inline).await.unwrap();
        measure("inline Any", writes, statements, async |i| {
            write_any(&mut conn, statements, i).await.unwrap()
        })
        .await;
        conn.close().await.unwrap();

        let mut conn: sqlx::SqliteConnection = connect(&url).await;
        measure("sqlx Sqlite", writes, statements, async |i| {
            write_sqlite(&mut conn, statements, i).await.unwrap()
        })
        .await;
        conn.close().await.unwrap();

        let (jobs, queue) = mpsc::channel::<Job>();
        let writer = std::thread::spawn(move || {
            let mut conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch(SQLITE_PRAGMAS).unwrap();
            for (i, done) in queue {
                let _ = done.send(write_rusqlite(&mut conn, statements, i));
            }
        });
        measure("writer thread", writes, statements, async |i| {
            let (done, answer) = tokio::sync::oneshot::channel();
            jobs.send((i, done)).unwrap();
            answer.await.unwrap().unwrap()
        })
        .await;
        drop(jobs);
        writer.join().unwrap();
    });
    let _ = std::fs::remove_dir_all(&dir);
}
