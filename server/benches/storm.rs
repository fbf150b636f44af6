//! A reconnect storm (issue 13, point 6): `--storm` sockets on one instance that is
//! killed (`kill -9`) while writes go on; every one of them must resume on the other
//! instances from its cursor, and the sockets those instances already held must keep
//! receiving in time.
//!
//! It creates a fresh database on the server named by `BENCH_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`) and starts three release servers on it:
//! A (the victim), B and C. `--users` users sign up; each follows their personal
//! workspace. The storm's sockets connect to A (spread over the users), the survivors'
//! (`--survivors`) to B and C. Writers add `--rate` expenses a second, spread over the
//! users, through B and C. After `--before` seconds A is killed; each of its sockets
//! reconnects as the browser client does — a random delay up to min(5 s, 1 s × 2^n) for
//! its n-th attempt in a row (full jitter; `--no-jitter` reconnects at once instead) —
//! to B or C in turn, as a round-robin balancer would send it, and subscribes from the
//! last seq it received. Writes go on for `--after` seconds more, then stop.
//!
//! Reported: how long until every storm socket had resumed (its `subscribed` answer on
//! a survivor), the attempts refused and how; the delivery latency (arrival minus the
//! event's `timestamp`, one clock) of the survivors' own sockets before the kill and
//! during the storm; and, at the end, for every socket: each event of its stream from
//! where it started to the stream's head, exactly once and in order (missing,
//! duplicate and out-of-order deliveries are counted; any of them fails the run).
//!
//! `ulimit -n 65536; cargo bench -p server --bench storm -- --storm 10000 --survivors 1000`

// The app's page views are deeply nested types (see `app`'s `recursion_limit`); proving
// the server's futures `Send` walks them.
#![recursion_limit = "256"]

mod support;

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use sqlx::Connection;
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};

use support::{add_expense, now_ms, percentile, sign_up, start, FreshPostgres};

struct Args {
    storm: usize,
    survivors: usize,
    users: usize,
    rate: u64,
    before: u64,
    after: u64,
    /// The client's full jitter before each reconnect; `--no-jitter`: none.
    jitter: bool,
}

fn args() -> Args {
    let all: Vec<String> = std::env::args().skip(1).collect();
    let jitter = !all.iter().any(|a| a == "--no-jitter");
    let [storm, survivors, users, rate, before, after] = support::numeric_flags_of(
        all.into_iter().filter(|a| a != "--no-jitter"),
        [
            ("--storm", 10_000),
            ("--survivors", 1_000),
            ("--users", 100),
            ("--rate", 100),
            ("--before", 5),
            ("--after", 40),
        ],
    );
    Args {
        storm: storm as usize,
        survivors: survivors as usize,
        users: users as usize,
        rate,
        before,
        after,
        jitter,
    }
}

/// What one socket received: every seq of its stream, in arrival order.
#[derive(Default)]
struct Log {
    /// The seq it started after (the stream's head when it first subscribed).
    start: i64,
    seqs: Vec<i64>,
}

/// Shared by every follower task.
struct Board {
    logs: Vec<Mutex<Log>>,
    /// Delivery latencies (ms) of survivors' sockets, with the arrival time.
    survivor_latency: Mutex<Vec<(i64, f64)>>,
    /// Storm sockets that resumed on a survivor since the kill.
    resumed: AtomicUsize,
    /// When the last of them resumed (ms since the epoch).
    last_resumed: AtomicU64,
    refused_status: Mutex<HashMap<String, u64>>,
    attempts: AtomicU64,
}

/// Where a follower connects: `first`, then (after any close) `then` in turn from
/// `turn`, as a round-robin balancer that has taken a dead instance out would.
struct Route {
    first: String,
    then: Vec<String>,
    turn: usize,
}

/// A follower: one socket of `token`'s user on `stream`; `survivor` sockets record
/// their latency, storm sockets their resumption after the kill. Runs until aborted.
#[allow(clippy::too_many_arguments)]
async fn follow(
    board: Arc<Board>,
    index: usize,
    token: String,
    stream: String,
    mut route: Route,
    survivor: bool,
    jitter: bool,
    ready: Arc<AtomicUsize>,
    killed_at: Arc<AtomicU64>,
) {
    let mut attempt: u32 = 0;
    let mut subscribed_once = false;
    let mut resumed = false;
    loop {
        if attempt > 0 {
            let ceiling = (1000.0 * 2f64.powi(attempt.min(8) as i32)).min(5000.0);
            let delay = if jitter { rand_unit() * ceiling } else { 0.0 };
            tokio::time::sleep(Duration::from_millis(delay as u64)).await;
        }
        let base = if subscribed_once || attempt > 0 {
            route.turn += 1;
            route.then[route.turn % route.then.len()].clone()
        } else {
            route.first.clone()
        };
        board.attempts.fetch_add(1, Ordering::Relaxed);
        let mut req = format!("{}/live", base.replace("http://", "ws://"))
            .into_client_request()
            .unwrap();
        req.headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        let mut socket = match tokio_tungstenite::connect_async(req).await {
            Ok((socket, _)) => socket,
            Err(e) => {
                let why = match &e {
                    tokio_tungstenite::tungstenite::Error::Http(r) => r.status().to_string(),
                    _ => "connect failed".to_owned(),
                };
                *board.refused_status.lock().unwrap().entry(why).or_default() += 1;
                attempt += 1;
                continue;
            }
        };
        let after = {
            let log = board.logs[index].lock().unwrap();
            log.seqs.last().copied().unwrap_or(log.start)
        };
        // The first subscription starts at the head (`after` = the head the set-up read).
        let subscribe =
            json!({"type": "subscribe", "cursors": [{"stream": stream, "after": after}]});
        if socket
            .send(Message::text(subscribe.to_string()))
            .await
            .is_err()
        {
            attempt += 1;
            continue;
        }
        while let Some(Ok(frame)) = socket.next().await {
            let Message::Text(text) = frame else { continue };
            let v: Value = serde_json::from_str(&text).unwrap();
            match v["type"].as_str() {
                Some("event") if v["stream"] == stream.as_str() => {
                    let seq = v["seq"].as_i64().unwrap();
                    board.logs[index].lock().unwrap().seqs.push(seq);
                    if survivor {
                        let at = now_ms();
                        let sent = v["timestamp"].as_i64().unwrap();
                        board
                            .survivor_latency
                            .lock()
                            .unwrap()
                            .push((at, (at - sent) as f64));
                    }
                }
                Some("subscribed") => {
                    assert_eq!(v["resync"], json!([]), "socket {index} was told to resync");
                    assert_eq!(v["denied"], json!([]), "socket {index} was denied");
                    attempt = 0;
                    if !subscribed_once {
                        subscribed_once = true;
                        ready.fetch_add(1, Ordering::Relaxed);
                    } else if !survivor && !resumed && killed_at.load(Ordering::Relaxed) > 0 {
                        resumed = true;
                        board.resumed.fetch_add(1, Ordering::Relaxed);
                        board
                            .last_resumed
                            .fetch_max(now_ms() as u64, Ordering::Relaxed);
                    }
                }
                _ => {}
            }
        }
        attempt += 1;
    }
}

/// The head (last seq) of each user's workspace stream, in the order of `users`.
async fn heads_of(database_url: &str, users: &[(String, i64)]) -> Vec<i64> {
    let mut db = sqlx::PgConnection::connect(database_url).await.unwrap();
    let mut heads = Vec::with_capacity(users.len());
    for (_, ws) in users {
        let head: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM events WHERE stream = $1")
            .bind(format!("ws:{ws}"))
            .fetch_one(&mut db)
            .await
            .unwrap();
        heads.push(head.unwrap_or(0));
    }
    heads
}

/// A number in [0, 1) from the thread's generator (no crate needed for a jitter).
fn rand_unit() -> f64 {
    use std::{
        cell::Cell,
        hash::{BuildHasher, RandomState},
    };
    thread_local!(static STATE: Cell<u64> = Cell::new(RandomState::new().hash_one(0u8) | 1));
    STATE.with(|s| {
        // xorshift64
        let mut x = s.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        (x >> 11) as f64 / (1u64 << 53) as f64
    })
}

#[tokio::main]
async fn main() {
    let a = args();
    let fresh = FreshPostgres::create("storm").await;
    let database_url = fresh.url.clone();
    let victim = start(&database_url, "storm-a");
    let survivors = [
        start(&database_url, "storm-b"),
        start(&database_url, "storm-c"),
    ];
    let survivor_bases: Vec<String> = survivors.iter().map(|i| i.base.clone()).collect();
    let http = reqwest::Client::new();

    // Users, each with a personal workspace.
    let mut users = Vec::new();
    for u in 0..a.users {
        let base = &survivor_bases[u % 2];
        let user = sign_up(
            &http,
            base,
            &format!("storm{u}@example.com"),
            &format!("Storm {u}"),
        )
        .await;
        users.push((user.token, user.workspace));
    }
    // Every socket starts at its stream's head now (sign-up wrote nothing to it since).
    let heads = heads_of(&database_url, &users).await;

    let total = a.storm + a.survivors;
    let board = Arc::new(Board {
        logs: (0..total)
            .map(|i| {
                Mutex::new(Log {
                    start: heads[i % a.users],
                    seqs: Vec::new(),
                })
            })
            .collect(),
        survivor_latency: Mutex::new(Vec::new()),
        resumed: AtomicUsize::new(0),
        last_resumed: AtomicU64::new(0),
        refused_status: Mutex::new(HashMap::new()),
        attempts: AtomicU64::new(0),
    });
    let ready = Arc::new(AtomicUsize::new(0));
    let killed_at = Arc::new(AtomicU64::new(0));
    let t0 = Instant::now();
    // The survivors' own sockets run on a runtime (a thread) of their own, so that
    // their latency is the servers', not this client's queue behind 10,000 reconnects.
    let survivor_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let mut followers = Vec::new();
    for i in 0..total {
        let (token, ws) = users[i % a.users].clone();
        let storm = i < a.storm;
        // A storm socket's first connection is to A; after it, B and C in turn.
        let route = Route {
            first: if storm {
                victim.base.clone()
            } else {
                survivor_bases[i % 2].clone()
            },
            then: survivor_bases.clone(),
            turn: i,
        };
        let follower = follow(
            board.clone(),
            i,
            token,
            format!("ws:{ws}"),
            route,
            !storm,
            a.jitter,
            ready.clone(),
            killed_at.clone(),
        );
        followers.push(if storm {
            tokio::spawn(follower)
        } else {
            survivor_rt.spawn(follower)
        });
        // Open them at a pace the set-up can take (no storm before the storm).
        if i % 200 == 199 {
            while ready.load(Ordering::Relaxed) + 100 < i {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    while ready.load(Ordering::Relaxed) < total {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "{} sockets subscribed in {:.1} s ({} on A, {} on B and C)",
        total,
        t0.elapsed().as_secs_f64(),
        a.storm,
        a.survivors
    );
    // Writers: `rate` expenses a second over all users, through B and C.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let written = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let writer = {
        let (http, users, bases) = (http.clone(), users.clone(), survivor_bases.clone());
        let (stop, written, failed) = (stop.clone(), written.clone(), failed.clone());
        let period = Duration::from_secs_f64(1.0 / a.rate as f64);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            let mut n = 0usize;
            let mut inflight = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                tick.tick().await;
                let (token, ws) = users[n % users.len()].clone();
                let base = bases[n % 2].clone();
                let (http, written, failed) = (http.clone(), written.clone(), failed.clone());
                inflight.push(tokio::spawn(async move {
                    let res = add_expense(&http, &base, &token, ws, &format!("storm {n}")).await;
                    match res {
                        Ok(r) if r.status().is_success() => written.fetch_add(1, Ordering::Relaxed),
                        _ => failed.fetch_add(1, Ordering::Relaxed),
                    };
                }));
                n += 1;
            }
            for t in inflight {
                let _ = t.await;
            }
        })
    };

    tokio::time::sleep(Duration::from_secs(a.before)).await;
    let kill_ms = now_ms();
    killed_at.store(kill_ms as u64, Ordering::Relaxed);
    drop(victim); // SIGKILL, then reaped
    println!(
        "A killed (kill -9) {:.1} s after the writes began",
        a.before as f64
    );
    let deadline = Instant::now() + Duration::from_secs(a.after);
    let mut all_resumed_ms = None;
    while Instant::now() < deadline {
        if all_resumed_ms.is_none() && board.resumed.load(Ordering::Relaxed) >= a.storm {
            all_resumed_ms = Some(board.last_resumed.load(Ordering::Relaxed) as i64 - kill_ms);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();

    // Every follower must reach its stream's head; then compare.
    let final_heads = heads_of(&database_url, &users).await;
    let caught_up = |i: usize| {
        let log = board.logs[i].lock().unwrap();
        log.seqs.last().copied().unwrap_or(log.start) >= final_heads[i % a.users]
    };
    let settle = Instant::now() + Duration::from_secs(30);
    while !(0..total).all(caught_up) && Instant::now() < settle {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (mut missing, mut duplicate, mut disorder, mut behind) = (0u64, 0u64, 0u64, 0u64);
    for i in 0..total {
        let head = final_heads[i % a.users];
        let log = board.logs[i].lock().unwrap();
        let mut seen = std::collections::HashSet::new();
        let mut last = log.start;
        for &seq in &log.seqs {
            if !seen.insert(seq) {
                duplicate += 1;
            } else if seq < last {
                disorder += 1;
            }
            last = last.max(seq);
        }
        let expected = (log.start + 1..=head).filter(|s| !seen.contains(s)).count() as u64;
        missing += expected;
        if last < head {
            behind += 1;
        }
    }

    let latency = board.survivor_latency.lock().unwrap().clone();
    let window_end = kill_ms + all_resumed_ms.unwrap_or(a.after as i64 * 1000);
    let mut before: Vec<f64> = latency
        .iter()
        .filter(|(at, _)| *at < kill_ms)
        .map(|(_, l)| *l)
        .collect();
    let mut during: Vec<f64> = latency
        .iter()
        .filter(|(at, _)| *at >= kill_ms && *at <= window_end)
        .map(|(_, l)| *l)
        .collect();
    before.sort_by(f64::total_cmp);
    during.sort_by(f64::total_cmp);
    let refused = board.refused_status.lock().unwrap().clone();
    println!(
        "writes: {} committed, {} failed ({} per s asked)",
        written.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
        a.rate
    );
    match all_resumed_ms {
        Some(ms) => println!(
            "all {} storm sockets resumed on B and C {:.2} s after the kill (jitter: {})",
            a.storm,
            ms as f64 / 1e3,
            if a.jitter { "the client's" } else { "none" }
        ),
        None => println!(
            "NOT all resumed within {} s: {} of {}",
            a.after,
            board.resumed.load(Ordering::Relaxed),
            a.storm
        ),
    }
    println!(
        "connection attempts: {} in all; refused or failed: {:?}",
        board.attempts.load(Ordering::Relaxed),
        refused
    );
    println!(
        "survivors' own sockets, delivery latency: before the kill p50 {:.0} / p99 {:.0} / max {:.0} ms ({} events); \
         during the storm p50 {:.0} / p99 {:.0} / max {:.0} ms ({} events)",
        percentile(&before, 0.5),
        percentile(&before, 0.99),
        before.last().copied().unwrap_or(f64::NAN),
        before.len(),
        percentile(&during, 0.5),
        percentile(&during, 0.99),
        during.last().copied().unwrap_or(f64::NAN),
        during.len(),
    );
    println!(
        "every socket, every event of its stream: {missing} missing, {duplicate} duplicate, \
         {disorder} out of order, {behind} sockets behind the head"
    );
    for f in followers {
        f.abort();
    }
    survivor_rt.shutdown_background();
    drop(survivors);
    fresh.drop_database().await;
    let ok = all_resumed_ms.is_some_and(|ms| ms <= 30_000)
        && missing + duplicate + disorder + behind == 0;
    if !ok {
        eprintln!("storm: FAILED");
        std::process::exit(1);
    }
}
