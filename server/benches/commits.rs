//! The commit path on PostgreSQL with several instances (issue 13, point 5): how many
//! writes commit per second, how long a write takes, and how long its event takes to
//! reach a socket on *another* instance, with many writers at once.
//!
//! It creates a fresh database on the server named by `BENCH_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`), starts `--instances` release servers on
//! it, signs up `--writers` users (each writes into their own personal workspace, so
//! the writes share no stream), and has each write expenses back to back for
//! `--seconds` through instance `w % instances` while a socket of theirs follows the
//! workspace on instance `(w + 1) % instances`. Delivery latency is the frame's arrival
//! minus the envelope's `timestamp` (the write's time on the server; one clock, whole
//! ms). Each socket must get its stream's events once each and in order (every seq one
//! more than the last) and every committed write's event; the bench fails otherwise.
//! The database is dropped at the end.
//!
//! `cargo bench -p server --bench commits -- --instances 3 --writers 50 --seconds 10`

// The app's page views are deeply nested types (see `app`'s `recursion_limit`); proving
// the server's futures `Send` walks them.
#![recursion_limit = "256"]

mod support;

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};

use support::{add_expense, now_ms, numeric_flags, percentile, sign_up, start, FreshPostgres};

struct Args {
    instances: usize,
    writers: usize,
    seconds: u64,
}

fn args() -> Args {
    let [instances, writers, seconds] =
        numeric_flags([("--instances", 3), ("--writers", 50), ("--seconds", 10)]);
    Args {
        instances: instances as usize,
        writers: writers as usize,
        seconds,
    }
}

#[tokio::main]
async fn main() {
    let a = args();
    let fresh = FreshPostgres::create("commits").await;
    let database_url = fresh.url.clone();

    let mut instances = Vec::new();
    for n in 0..a.instances {
        instances.push(start(&database_url, &format!("commits-{n}")));
    }
    let bases: Vec<String> = instances.iter().map(|i| i.base.clone()).collect();
    let http = reqwest::Client::new();

    // Writers: a user each, with the personal workspace sign-up gives them.
    let mut writers = Vec::new();
    for w in 0..a.writers {
        let base = &bases[w % bases.len()];
        let w = sign_up(
            &http,
            base,
            &format!("writer{w}@example.com"),
            &format!("Writer {w}"),
        )
        .await;
        let (token, ws) = (w.token, w.workspace);
        writers.push((token, ws));
    }

    // A follower per writer, on the next instance.
    let deliveries = Arc::new(Mutex::new(Vec::<f64>::new()));
    // Frames that did not continue their stream by one (a gap, a duplicate, a reorder).
    let out_of_line = Arc::new(std::sync::atomic::AtomicU64::new(0));
    for (w, (token, ws)) in writers.iter().enumerate() {
        let base = &bases[(w + 1) % bases.len()];
        let mut req = format!("{}/live", base.replace("http://", "ws://"))
            .into_client_request()
            .unwrap();
        req.headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        let (mut socket, _) = tokio_tungstenite::connect_async(req).await.unwrap();
        // From the start: what sign-up wrote is replayed and not counted.
        let subscribe =
            json!({"type": "subscribe", "cursors": [{"stream": format!("ws:{ws}"), "after": 0}]});
        socket
            .send(Message::text(subscribe.to_string()))
            .await
            .unwrap();
        let deliveries = deliveries.clone();
        let out_of_line = out_of_line.clone();
        tokio::spawn(async move {
            let mut last: Option<i64> = None;
            while let Some(Ok(frame)) = socket.next().await {
                if let Message::Text(text) = frame {
                    let v: Value = serde_json::from_str(&text).unwrap();
                    if v["type"] == "event" {
                        let seq = v["seq"].as_i64().unwrap();
                        if last.is_some_and(|l| seq != l + 1) {
                            out_of_line.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                        last = Some(seq);
                    }
                    if v["type"] == "event" && v["event"] == "expense:created" {
                        let sent = v["timestamp"].as_i64().unwrap();
                        deliveries.lock().unwrap().push((now_ms() - sent) as f64);
                    }
                }
            }
        });
    }

    let deadline = Instant::now() + Duration::from_secs(a.seconds);
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for (w, (token, ws)) in writers.into_iter().enumerate() {
        let (http, base) = (http.clone(), bases[w % bases.len()].clone());
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut failed, mut latencies) = (0u64, 0u64, Vec::new());
            while Instant::now() < deadline {
                let asked = Instant::now();
                let res = add_expense(&http, &base, &token, ws, &format!("bench {ok}")).await;
                match res {
                    Ok(r) if r.status().is_success() => {
                        ok += 1;
                        latencies.push(asked.elapsed().as_secs_f64() * 1e3);
                    }
                    _ => failed += 1,
                }
            }
            (ok, failed, latencies)
        }));
    }
    let (mut ok, mut failed, mut latencies) = (0u64, 0u64, Vec::new());
    for t in tasks {
        let (o, f, l) = t.await.unwrap();
        ok += o;
        failed += f;
        latencies.extend(l);
    }
    let elapsed = t0.elapsed().as_secs_f64();
    // Let the last events arrive.
    let wait = Instant::now() + Duration::from_secs(10);
    while deliveries.lock().unwrap().len() < ok as usize && Instant::now() < wait {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    latencies.sort_by(f64::total_cmp);
    let mut delivered = deliveries.lock().unwrap().clone();
    delivered.sort_by(f64::total_cmp);
    println!(
        "{} instances, {} writers, {:.1} s: {} writes committed ({:.0}/s), {} failed; \
         write latency p50 {:.1} ms, p99 {:.1} ms; delivery to another instance: {} of {}, \
         p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms; {} out of line",
        a.instances,
        a.writers,
        elapsed,
        ok,
        ok as f64 / elapsed,
        failed,
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        delivered.len(),
        ok,
        percentile(&delivered, 0.5),
        percentile(&delivered, 0.99),
        delivered.last().copied().unwrap_or(f64::NAN),
        out_of_line.load(std::sync::atomic::Ordering::Relaxed),
    );

    drop(instances);
    fresh.drop_database().await;
    let whole =
        delivered.len() as u64 == ok && out_of_line.load(std::sync::atomic::Ordering::Relaxed) == 0;
    assert!(
        whole,
        "an event was missed, doubled or delivered out of order"
    );
}
