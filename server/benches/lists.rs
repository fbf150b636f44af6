//! Filtered lists at 100,000 rows (issue 14, point 2): how long `expenses/list` takes,
//! over real HTTP against the release server, for the views a user opens — a month,
//! all time, a search, a category in a month, largest first, a deep page — and the
//! dashboard page itself, on SQLite and on PostgreSQL.
//!
//! For each backend it starts the server on a fresh database (a SQLite file; a new
//! database on the server named by `BENCH_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`, dropped at the end), signs up one user,
//! writes `--rows` expenses into their workspace with one SQL statement (dates over
//! eight years, 13 categories, one in ten in USD, one in seven a "lunch"), then sends
//! each request `--requests` times one after the other and prints p50 and p95 in ms.
//!
//! `cargo bench -p server --bench lists -- --rows 100000 --requests 200`

// The app's page views are deeply nested types (see `app`'s `recursion_limit`); proving
// the server's futures `Send` walks them.
#![recursion_limit = "256"]

mod support;

use std::time::Instant;

use serde_json::Value;
use sqlx::{Connection, Executor};

use support::{numeric_flags, percentile, sign_up, start, FreshPostgres};

struct Args {
    rows: u64,
    requests: usize,
}

fn args() -> Args {
    let [rows, requests] = numeric_flags([("--rows", 100_000), ("--requests", 200)]);
    Args {
        rows,
        requests: requests as usize,
    }
}

/// `rows` expenses of `user` in workspace `ws`, written in one statement. Day `i % 2920`
/// after 2019-01-01, so every month of 2019–2026 has about rows / 96.
fn seed_sql(postgres: bool, rows: u64, ws: i64, user: i64) -> String {
    let date = if postgres {
        "to_char(DATE '2019-01-01' + CAST(i % 2920 AS INTEGER), 'YYYY-MM-DD')"
    } else {
        "date('2019-01-01', '+' || (i % 2920) || ' days')"
    };
    format!(
        "INSERT INTO expenses (workspace_id, amount_minor, currency, category, description, spent_on, created_by, created_at, updated_at) \
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) \
         SELECT {ws}, 100 + (i * 7919) % 100000, CASE WHEN i % 10 = 0 THEN 'USD' ELSE 'EUR' END, \
         CASE i % 13 WHEN 0 THEN 'Food' WHEN 1 THEN 'Transport' WHEN 2 THEN 'Housing' WHEN 3 THEN 'Utilities' \
           WHEN 4 THEN 'Software' WHEN 5 THEN 'Equipment' WHEN 6 THEN 'Travel' WHEN 7 THEN 'Marketing' \
           WHEN 8 THEN 'Office' WHEN 9 THEN 'Health' WHEN 10 THEN 'Education' WHEN 11 THEN 'Taxes' ELSE 'Other' END, \
         CASE WHEN i % 7 = 0 THEN 'Team lunch ' || i ELSE 'Expense number ' || i END, \
         {date}, {user}, 0, 0 FROM n"
    )
}

async fn run(backend: &str, database_url: &str, a: &Args) {
    let server = start(database_url, &format!("lists-{backend}"));
    let base = &server.base;
    let http = reqwest::Client::new();
    let me = sign_up(&http, base, "lists@example.com", "Lists").await;
    let (token, ws) = (me.token.clone(), me.workspace);

    let t = Instant::now();
    let mut db = sqlx::AnyConnection::connect(database_url).await.unwrap();
    db.execute(seed_sql(backend == "postgres", a.rows, ws, me.user_id).as_str())
        .await
        .unwrap();
    if backend == "postgres" {
        // As autovacuum leaves a table at rest: statistics, and the visibility map that
        // lets the totals come off the covering index alone.
        db.execute("VACUUM ANALYZE expenses").await.unwrap();
    } else {
        db.execute("ANALYZE").await.unwrap();
    }
    drop(db);
    println!(
        "{backend}: {} rows written in {:.1} s",
        a.rows,
        t.elapsed().as_secs_f64()
    );

    let ws_s = ws.to_string();
    // Views as the dashboard's URL writes them (`view`), plus `after` for a deep page.
    let month = "period=2026-03";
    // Where the next page starts halfway down the whole list, newest first.
    let deep: Value = http
        .post(format!("{base}/api/expenses/list"))
        .bearer_auth(&token)
        .form(&[
            ("workspace_id", ws_s.as_str()),
            ("view", "period=all"),
            ("limit", "1000"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let last = &deep["items"][999];
    let after = format!("{}.{}", last["spent_on"].as_str().unwrap(), last["id"]);
    let month_lunch = format!("{month}&q=lunch");
    let month_food = format!("{month}&category=Food");
    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("a month, newest 50", vec![("view", month)]),
        ("all time, newest 50", vec![("view", "period=all")]),
        (
            "all time, search \"lunch\"",
            vec![("view", "period=all&q=lunch")],
        ),
        ("a month, search \"lunch\"", vec![("view", &month_lunch)]),
        ("a month, category Food", vec![("view", &month_food)]),
        (
            "all time, largest first",
            vec![("view", "period=all&sort=amount")],
        ),
        (
            "all time, page after row 1,000",
            vec![("view", "period=all"), ("after", after.as_str())],
        ),
    ];
    println!("| {backend}: request | p50 ms | p95 ms | rows selected |");
    println!("|---|---|---|---|");
    for (name, params) in cases {
        let mut form = vec![("workspace_id", ws_s.as_str())];
        form.extend(params);
        let mut times = Vec::with_capacity(a.requests);
        let mut count = Value::Null;
        for _ in 0..a.requests {
            let t = Instant::now();
            let res = http
                .post(format!("{base}/api/expenses/list"))
                .bearer_auth(&token)
                .form(&form)
                .send()
                .await
                .unwrap();
            assert!(res.status().is_success(), "{name}: {}", res.status());
            let body: Value = res.json().await.unwrap();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            count = body["count"].clone();
        }
        times.sort_by(f64::total_cmp);
        println!(
            "| {name} | {:.1} | {:.1} | {count} |",
            percentile(&times, 0.5),
            percentile(&times, 0.95)
        );
    }
    // The whole dashboard page of a month (both lists, budgets, goals, rendered).
    let mut times = Vec::with_capacity(a.requests);
    for _ in 0..a.requests {
        let t = Instant::now();
        let res = http
            .get(format!("{base}/w/{ws}?period=2026-03"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success());
        res.bytes().await.unwrap();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "| the dashboard page of a month | {:.1} | {:.1} | |",
        percentile(&times, 0.5),
        percentile(&times, 0.95)
    );
}

#[tokio::main]
async fn main() {
    let a = args();
    app::server::db::install_drivers();
    let dir = std::env::temp_dir().join(format!("ll-lists-db-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sqlite = format!("sqlite://{}/bench.db", dir.display());
    run("sqlite", &sqlite, &a).await;
    std::fs::remove_dir_all(&dir).ok();

    let fresh = FreshPostgres::create("lists").await;
    run("postgres", &fresh.url, &a).await;
    fresh.drop_database().await;
}
