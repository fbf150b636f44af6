//! The live layer's benchmark (the targets of DESIGN.md §6): server CPU per delivered
//! event, deliveries per second, and server memory per idle socket.
//!
//! It starts the real release server as a child process on a fresh SQLite file (on the
//! CPU named by `LIVELEDGER_BENCH_SERVER_CPU`, with `taskset`; `scripts/bench.sh` puts
//! the server on CPU 0 and this process on CPU 1), registers teams over HTTP, opens
//! real WebSockets that subscribe to their team's stream, and reads the server's own CPU
//! time (`/proc/<pid>/stat`, utime + stime) and resident memory (`VmRSS`) around each
//! phase:
//!
//! 1. idle sockets: RSS after all sockets subscribed, minus RSS before the first opened;
//! 2. broadcast: operator announcements (`system:announcement`, one POST reaches every
//!    socket): CPU per delivery with next to no write path;
//! 3. room fan-out: expenses written concurrently, one writer per team, each event
//!    delivered to every socket of the team; then the same writes into teams of the same
//!    shape that nobody watches, whose CPU is the write path alone. Their difference per
//!    delivery is the fan-out's cost.
//!
//! 4. with `--paced R1,R2,…`: the same unwatched writes one at a time, at each rate
//!    for `--paced-seconds` (10): server CPU per write, and writes per wake-up of the
//!    server's threads. Below about 500 writes a second every write wakes the server
//!    from idle, and on this project's VMs each costs more the longer the server slept
//!    (ARCHITECTURE.md, "The write path", twelfth session); sio-ab's quiet step is such
//!    a rate (200 a second).
//!
//! Every delivery is counted by the client; a phase ends when every socket got every
//! event it is owed (or fails after a time-out), never after a fixed sleep.
//!
//! `cargo bench -p server --bench live -- --sockets 2000 --teams 20 --members 5
//! --broadcasts 100 --writes 50 [--postgres] [--paced 100,200,500,1000]`
//!
//! With `--postgres` the server runs on a fresh database on `BENCH_POSTGRES_URL`'s
//! server (default: the local one), and the unwatched writes' report adds the CPU of
//! PostgreSQL's backends for that database (`/proc`, so the server must be local).

// The app's page views are deeply nested types (see `app`'s `recursion_limit`); proving
// the server's futures `Send` walks them.
#![recursion_limit = "256"]

use std::{
    process::Stdio,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::{
    io::{BufRead, BufReader},
    process::{Child, Command},
};
use tokio::sync::Notify;

mod support;
use support::{process_cpu, FreshPostgres};
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};

const PASSWORD: &str = "correct horse battery";
const OPERATOR_TOKEN: &str = "bench-operator-token-0123456789abcdefghij";
const PHASE_TIMEOUT: Duration = Duration::from_secs(120);

struct Args {
    sockets: usize,
    teams: usize,
    members: usize,
    broadcasts: usize,
    writes: usize,
    /// On a fresh PostgreSQL database (`BENCH_POSTGRES_URL`) instead of SQLite.
    postgres: bool,
    /// Phase 4's rates (writes per second), none by default.
    paced: Vec<u32>,
    /// How long phase 4 writes at each rate.
    paced_seconds: u64,
}

fn args() -> Args {
    let mut a = Args {
        sockets: 2000,
        teams: 20,
        members: 5,
        broadcasts: 100,
        writes: 50,
        postgres: false,
        paced: Vec::new(),
        paced_seconds: 10,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} wants a value"));
        let number = |v: String| -> usize {
            v.parse()
                .unwrap_or_else(|_| panic!("{flag} wants a number, not {v}"))
        };
        match flag.as_str() {
            "--sockets" => a.sockets = number(value()),
            "--teams" => a.teams = number(value()),
            "--members" => a.members = number(value()),
            "--broadcasts" => a.broadcasts = number(value()),
            "--writes" => a.writes = number(value()),
            "--postgres" => a.postgres = true,
            "--paced" => {
                a.paced = value()
                    .split(',')
                    .map(|r| number(r.to_owned()) as u32)
                    .collect();
                assert!(!a.paced.contains(&0), "--paced wants rates above 0");
            }
            "--paced-seconds" => a.paced_seconds = number(value()) as u64,
            // `cargo bench` passes `--bench`; anything else is a mistake.
            "--bench" => {}
            other => panic!("unknown flag {other}"),
        }
    }
    assert!(a.teams >= 1 && a.members >= 1 && a.sockets >= a.teams);
    assert!(
        a.broadcasts <= 200 && a.writes <= 200,
        "a phase queues at most 200 frames per socket (the queue holds 256)"
    );
    a
}

/// The server process and what the bench reads of it.
struct Server {
    child: Child,
    pid: u32,
    base: String,
    _dir: TempDir,
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts the server on `database_url`, or on a fresh SQLite file when `None`.
    fn start(database_url: Option<String>) -> Server {
        let dir = std::env::temp_dir().join(format!("liveledger-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let exe = support::server_binary();
        // scripts/bench.sh names the server's CPU (and runs this process on another).
        let pin = std::env::var("LIVELEDGER_BENCH_SERVER_CPU").ok();
        let mut cmd = match &pin {
            Some(cpu) => {
                let mut c = Command::new("taskset");
                c.args(["-c", cpu, &exe]);
                c
            }
            None => Command::new(&exe),
        };
        cmd.env("LIVELEDGER_ADDR", "127.0.0.1:0")
            .env(
                "DATABASE_URL",
                database_url
                    .unwrap_or_else(|| format!("sqlite://{}", dir.join("bench.db").display())),
            )
            .env("DATA_DIR", &dir)
            .env(
                "JWT_SECRET",
                "bench-secret-that-is-long-enough-for-hs256-0123456789",
            )
            .env("OPERATOR_TOKEN", OPERATOR_TOKEN)
            // Every user of the bench signs up and connects from 127.0.0.1, with many
            // sockets each.
            .env("SIGNUP_LIMIT_PER_ADDRESS", "1000000")
            .env("LIVE_SOCKETS_PER_USER", "1000000")
            .env("LIVE_SOCKETS_PER_ADDRESS", "1000000")
            .env("RUST_LOG", "warn")
            .env("LEPTOS_SITE_ROOT", dir.join("site"))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("start the server");
        let pid = child.id();
        // The server prints its address once it listens; the rest of its output is
        // read and dropped so that the pipe never fills.
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("LiveLedger is running at ") {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
        });
        let base = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server listens within 60 s");
        println!(
            "server: pid {pid}, {base}, CPU {}",
            pin.as_deref().unwrap_or("any")
        );
        Server {
            child,
            pid,
            base,
            _dir: TempDir(dir),
        }
    }

    /// User + system CPU time the server process has used so far.
    fn cpu(&self) -> Duration {
        process_cpu(self.pid).expect("the server is running")
    }

    /// How often the server's threads have gone to sleep waiting for something (their
    /// voluntary context switches, summed over the threads alive now): each is a
    /// wake-up later. A thread that ends between two readings takes its count with it,
    /// so take differences with `saturating_sub`.
    fn sleeps(&self) -> u64 {
        let tasks = std::fs::read_dir(format!("/proc/{}/task", self.pid)).unwrap();
        tasks
            .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("status")).ok())
            .filter_map(|status| {
                let line = status
                    .lines()
                    .find(|l| l.starts_with("voluntary_ctxt_switches:"))?;
                line.split_whitespace().nth(1)?.parse::<u64>().ok()
            })
            .sum()
    }

    /// Resident memory of the server process, in bytes.
    fn rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
        let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        kib * 1024
    }
}

struct Api {
    http: reqwest::Client,
    base: String,
}

struct User {
    token: String,
}

impl Api {
    async fn post(&self, path: &str, token: &str, form: &[(&str, &str)]) -> Value {
        let res = self
            .http
            .post(format!("{}/api/{path}", self.base))
            .bearer_auth(token)
            .form(form)
            .send()
            .await
            .unwrap();
        let status = res.status();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{path}: {status} {body}");
        body
    }

    async fn register(&self, n: usize) -> User {
        let email = format!("bench{n}@example.com");
        let res = self
            .http
            .post(format!("{}/api/auth/register", self.base))
            .form(&[
                ("email", email.as_str()),
                ("display_name", &format!("Bench {n}")),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "register: {}", res.status());
        User {
            token: res.headers()["x-session-token"]
                .to_str()
                .unwrap()
                .to_owned(),
        }
    }

    /// A team workspace of `members` users (the first one owns it): (id, its users).
    async fn team(&self, name: &str, first: usize, members: usize) -> (i64, Vec<User>) {
        let mut users = Vec::new();
        for i in 0..members {
            users.push(self.register(first + i).await);
        }
        let ws = self
            .post("workspaces/create", &users[0].token, &[("name", name)])
            .await["id"]
            .as_i64()
            .unwrap();
        let ws_s = ws.to_string();
        for user in &users[1..] {
            let invite = self
                .post(
                    "workspaces/invite",
                    &users[0].token,
                    &[("workspace_id", &ws_s), ("role", "member")],
                )
                .await;
            self.post(
                "workspaces/join",
                &user.token,
                &[("code", invite["code"].as_str().unwrap())],
            )
            .await;
        }
        (ws, users)
    }

    async fn head(&self, user: &User, ws: i64) -> i64 {
        self.post(
            "expenses/list",
            &user.token,
            &[("workspace_id", &ws.to_string())],
        )
        .await["cursor"]
            .as_i64()
            .unwrap()
    }

    async fn spend(&self, user: &User, ws: i64, n: usize) {
        // A 200-character description, the longest a form accepts: a frame of ~0.5 KiB.
        let description = format!("{n:05} {}", "x".repeat(194));
        self.post(
            "expenses/create",
            &user.token,
            &[
                ("workspace_id", &ws.to_string()),
                ("amount", "1.25"),
                ("currency", "EUR"),
                ("category", "Food"),
                ("description", &description),
                ("date", &app::dates::today_iso()),
            ],
        )
        .await;
    }
}

/// The CPU PostgreSQL's backends have used for the bench's database so far; `None` on
/// SQLite.
async fn database_cpu(postgres: &mut Option<FreshPostgres>) -> Option<Duration> {
    match postgres {
        Some(p) => Some(p.backends_cpu().await),
        None => None,
    }
}

/// What the database used between two readings of [`database_cpu`].
fn since(now: Option<Duration>, before: Option<Duration>) -> Option<Duration> {
    Some(now?.saturating_sub(before?))
}

/// The database's CPU per write for a report line, nothing on SQLite.
fn database_share(database: Option<Duration>, writes: f64) -> String {
    database.map_or(String::new(), |cpu| {
        format!(
            " + {:.0} µs of PostgreSQL's backends",
            cpu.as_secs_f64() * 1e6 / writes
        )
    })
}

/// Phase 4 at one rate: `rate` writes a second for `seconds` into the unwatched `teams`,
/// by their owners in turn, each sent at its time whether or not the one before was
/// answered (as users write: a write waits for no other). Returns how many were written,
/// once all are answered. The timer's unit is 1 ms, so above 1,000 a second several
/// leave together, as they do when this process falls behind (the interval catches up
/// in a burst, keeping the count and the mean rate).
async fn paced(api: &Arc<Api>, teams: &Arc<Vec<(i64, Vec<User>)>>, rate: u32, seconds: u64) -> u64 {
    let total = rate as u64 * seconds;
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    let mut writes = Vec::with_capacity(total as usize);
    for n in 0..total as usize {
        tick.tick().await;
        let (api, teams) = (api.clone(), teams.clone());
        writes.push(tokio::spawn(async move {
            let (ws, users) = &teams[n % teams.len()];
            api.spend(&users[0], *ws, n).await;
        }));
    }
    for write in writes {
        write.await.expect("a paced write failed");
    }
    total
}

/// What the client has received, across all sockets.
#[derive(Default)]
struct Tally {
    events: AtomicU64,
    bytes: AtomicU64,
    closed: AtomicU64,
    done: Notify,
    target: AtomicU64,
}

impl Tally {
    fn count(&self, bytes: usize) {
        self.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
        let n = self.events.fetch_add(1, Ordering::AcqRel) + 1;
        if n == self.target.load(Ordering::Acquire) {
            self.done.notify_one();
        }
    }

    /// Waits until `more` further events have arrived in all.
    async fn wait_for(&self, from: u64, more: u64) {
        let target = from + more;
        let notified = self.done.notified();
        tokio::pin!(notified);
        self.target.store(target, Ordering::Release);
        if self.events.load(Ordering::Acquire) >= target {
            return;
        }
        tokio::time::timeout(PHASE_TIMEOUT, notified)
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "timed out: {} of {more} deliveries; {} sockets closed",
                    self.events.load(Ordering::Acquire) - from,
                    self.closed.load(Ordering::Acquire)
                )
            });
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn frame(ws: &mut Ws) -> Value {
    loop {
        match ws.next().await.expect("open").expect("frame") {
            Message::Text(t) => return serde_json::from_str(&t).unwrap(),
            Message::Close(c) => panic!("closed during set-up: {c:?}"),
            _ => {}
        }
    }
}

/// Opens a socket as `token` and subscribes it to `ws` after `head`.
async fn open(base: &str, token: &str, ws: i64, head: i64) -> Ws {
    let mut req = format!("{}/live", base.replace("http://", "ws://"))
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("upgrade");
    assert_eq!(frame(&mut socket).await["type"], "hello");
    let subscribe =
        json!({"type": "subscribe", "cursors": [{"stream": format!("ws:{ws}"), "after": head}]});
    socket
        .send(Message::text(subscribe.to_string()))
        .await
        .unwrap();
    let answer = frame(&mut socket).await;
    assert_eq!(answer["type"], "subscribed", "{answer}");
    socket
}

/// Reads a socket until it closes, counting every event frame.
async fn read(mut ws: Ws, tally: Arc<Tally>) {
    while let Some(Ok(msg)) = ws.next().await {
        match msg {
            Message::Text(t) if t.starts_with("{\"type\":\"event\"") => tally.count(t.len()),
            Message::Close(_) => break,
            _ => {}
        }
    }
    tally.closed.fetch_add(1, Ordering::AcqRel);
}

/// Where the counters stood when a phase began.
struct Mark {
    events: u64,
    bytes: u64,
    cpu: Duration,
    at: Instant,
}

impl Mark {
    fn now(server: &Server, tally: &Tally) -> Mark {
        Mark {
            events: tally.events.load(Ordering::Acquire),
            bytes: tally.bytes.load(Ordering::Acquire),
            cpu: server.cpu(),
            at: Instant::now(),
        }
    }

    /// The phase from this mark until now.
    fn phase(&self, name: &'static str, server: &Server, tally: &Tally) -> Phase {
        Phase {
            name,
            deliveries: tally.events.load(Ordering::Acquire) - self.events,
            bytes: tally.bytes.load(Ordering::Acquire) - self.bytes,
            cpu: server.cpu() - self.cpu,
            wall: self.at.elapsed(),
        }
    }
}

struct Phase {
    name: &'static str,
    deliveries: u64,
    bytes: u64,
    cpu: Duration,
    wall: Duration,
}

impl Phase {
    fn report(&self) {
        if self.deliveries == 0 {
            println!(
                "{:<28} {:>9} deliveries  {:>8.1} ms wall  {:>7.1} ms server CPU",
                self.name,
                0,
                self.wall.as_secs_f64() * 1e3,
                self.cpu.as_secs_f64() * 1e3,
            );
            return;
        }
        println!(
            "{:<28} {:>9} deliveries  {:>5} B/frame  {:>8.1} ms wall  {:>9.0} deliveries/s  {:>7.1} ms server CPU  {:>6.2} µs CPU/delivery",
            self.name,
            self.deliveries,
            self.bytes.checked_div(self.deliveries).unwrap_or(0),
            self.wall.as_secs_f64() * 1e3,
            self.deliveries as f64 / self.wall.as_secs_f64(),
            self.cpu.as_secs_f64() * 1e3,
            self.cpu.as_secs_f64() * 1e6 / self.deliveries.max(1) as f64,
        );
    }
}

#[tokio::main]
async fn main() {
    let a = args();
    let mut postgres = match a.postgres {
        true => Some(FreshPostgres::create("live").await),
        false => None,
    };
    let server = Server::start(postgres.as_ref().map(|p| p.url.clone()));
    let api = Arc::new(Api {
        http: reqwest::Client::new(),
        base: server.base.clone(),
    });

    // Teams that are watched, and as many of the same shape that nobody watches.
    let t0 = Instant::now();
    let mut watched = Vec::new();
    let mut quiet = Vec::new();
    for t in 0..a.teams {
        watched.push(
            api.team(&format!("Watched {t}"), t * a.members, a.members)
                .await,
        );
    }
    for t in 0..a.teams {
        let first = (a.teams + t) * a.members;
        quiet.push(api.team(&format!("Quiet {t}"), first, a.members).await);
    }
    println!(
        "set-up: {} users in {} teams in {:.1} s",
        2 * a.teams * a.members,
        2 * a.teams,
        t0.elapsed().as_secs_f64()
    );
    let mut heads = Vec::new();
    for (ws, users) in &watched {
        heads.push(api.head(&users[0], *ws).await);
    }

    // 1. Idle sockets: socket i watches team i % teams as one of its members.
    let rss_before = server.rss();
    let t0 = Instant::now();
    let mut sockets = Vec::with_capacity(a.sockets);
    let mut per_team = vec![0u64; a.teams];
    for batch in (0..a.sockets).collect::<Vec<_>>().chunks(100) {
        let opened = futures_util::future::join_all(batch.iter().map(|&i| {
            let t = i % a.teams;
            let (ws, users) = &watched[t];
            let user = &users[(i / a.teams) % a.members];
            open(&server.base, &user.token, *ws, heads[t])
        }))
        .await;
        for (&i, socket) in batch.iter().zip(opened) {
            per_team[i % a.teams] += 1;
            sockets.push(socket);
        }
    }
    let rss_after = server.rss();
    println!(
        "idle sockets: {} opened and subscribed in {:.1} s; server RSS {:.1} MiB -> {:.1} MiB: {:.2} KiB per socket",
        a.sockets,
        t0.elapsed().as_secs_f64(),
        rss_before as f64 / 1048576.0,
        rss_after as f64 / 1048576.0,
        (rss_after.saturating_sub(rss_before)) as f64 / 1024.0 / a.sockets as f64
    );

    let tally = Arc::new(Tally::default());
    for socket in sockets {
        tokio::spawn(read(socket, tally.clone()));
    }

    // 2. Broadcasts to every socket.
    let mark = Mark::now(&server, &tally);
    let message = "m".repeat(500);
    for n in 0..a.broadcasts {
        let res = api
            .http
            .post(format!("{}/ops/announce", server.base))
            .bearer_auth(OPERATOR_TOKEN)
            .json(&json!({"title": format!("Bench {n}"), "message": message}))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "announce: {}", res.status());
    }
    tally
        .wait_for(mark.events, (a.broadcasts * a.sockets) as u64)
        .await;
    let broadcast = mark.phase("broadcast (announce)", &server, &tally);

    // 3. Room fan-out: every team's owner writes `writes` expenses, teams in parallel.
    let writes = a.writes;
    let write_all = |teams: Arc<Vec<(i64, Vec<User>)>>| {
        let api = api.clone();
        async move {
            let writers = (0..teams.len()).map(|t| {
                let api = api.clone();
                let teams = teams.clone();
                async move {
                    for n in 0..writes {
                        let (ws, users) = &teams[t];
                        api.spend(&users[0], *ws, n).await;
                    }
                }
            });
            futures_util::future::join_all(writers).await;
        }
    };
    let watched = Arc::new(watched);
    let quiet = Arc::new(quiet);
    let mark = Mark::now(&server, &tally);
    write_all(watched.clone()).await;
    let owed: u64 = per_team.iter().map(|n| n * a.writes as u64).sum();
    tally.wait_for(mark.events, owed).await;
    let fanout = mark.phase("room fan-out (writes)", &server, &tally);
    let mark = Mark::now(&server, &tally);
    let database_before = database_cpu(&mut postgres).await;
    write_all(quiet.clone()).await;
    let writes_alone = mark.phase("the same writes, unwatched", &server, &tally);
    let database = since(database_cpu(&mut postgres).await, database_before);
    assert_eq!(
        writes_alone.deliveries, 0,
        "unwatched teams' events reached a socket"
    );
    assert_eq!(
        tally.closed.load(Ordering::Acquire),
        0,
        "a socket was closed"
    );

    println!();
    broadcast.report();
    fanout.report();
    writes_alone.report();
    let net = fanout.cpu.saturating_sub(writes_alone.cpu);
    println!(
        "fan-out alone: {:.1} ms server CPU over {} deliveries: {:.2} µs CPU/delivery ({} writes of {} sockets each on average)",
        net.as_secs_f64() * 1e3,
        fanout.deliveries,
        net.as_secs_f64() * 1e6 / fanout.deliveries.max(1) as f64,
        a.teams * a.writes,
        a.sockets / a.teams,
    );
    let quiet_writes = (a.teams * a.writes) as f64;
    println!(
        "one unwatched write: {:.0} µs of server CPU{}",
        writes_alone.cpu.as_secs_f64() * 1e6 / quiet_writes,
        database_share(database, quiet_writes),
    );

    // 4. Paced: the same unwatched writes one at a time, at each rate.
    for &rate in &a.paced {
        let (cpu, sleeps) = (server.cpu(), server.sleeps());
        let database_before = database_cpu(&mut postgres).await;
        let writes = paced(&api, &quiet, rate, a.paced_seconds).await as f64;
        let (cpu, sleeps) = (server.cpu() - cpu, server.sleeps().saturating_sub(sleeps));
        let database = since(database_cpu(&mut postgres).await, database_before);
        println!(
            "paced at {rate} writes/s: {writes} unwatched writes, {:.0} µs of server CPU each{}, {:.2} writes per wake-up of the server",
            cpu.as_secs_f64() * 1e6 / writes,
            database_share(database, writes),
            writes / sleeps.max(1) as f64,
        );
    }
    drop(server);
    if let Some(p) = postgres {
        p.drop_database().await;
    }
}
