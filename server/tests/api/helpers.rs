//! Starts the real application on a random port with its own fresh database
//! (a SQLite file in a temporary directory, or a new PostgreSQL database) and
//! talks HTTP to it.

use std::time::Duration;

use reqwest::{header, StatusCode};
use serde_json::Value;
use server::{
    config::{Config, Secret},
    startup::Application,
};

pub const JWT_SECRET: &str = "test-secret-that-is-long-enough-for-hs256-0123456789";
pub const PASSWORD: &str = "correct horse battery";
pub const OPERATOR_TOKEN: &str = "operator-token-for-the-tests-0123456789abcdef";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    /// The app's own database, for what no HTTP call does (running the retention job).
    pub db: app::server::db::Db,
    pub database_url: String,
    /// The app's live hub, to watch its connections and counters.
    pub hub: std::sync::Arc<app::server::hub::Hub>,
    _dir: TempDir,
}

/// A directory removed when the test ends.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    /// A new empty directory under the system's temporary one, its name starting with
    /// `prefix`.
    pub fn new(prefix: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("{prefix}-{}", unique_name()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

/// A child process, killed when dropped (a failed test leaves nothing running).
pub struct Proc(pub std::process::Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the server binary, set up by `configure` (its environment), and reads what it
/// prints up to the line that says where it listens. Returns the process, those lines
/// (that one last) and the address it listens at. Its output is read on after that, so
/// the pipe never fills.
pub fn start_binary(
    configure: impl FnOnce(&mut std::process::Command),
) -> (Proc, Vec<String>, String) {
    let (proc, printed, addr, _) = start_binary_following(configure);
    (proc, printed, addr)
}

/// `start_binary`, and what the server prints after the line that says where it
/// listens, line by line (dropping the receiver is fine: the lines are read on).
pub fn start_binary_following(
    configure: impl FnOnce(&mut std::process::Command),
) -> (Proc, Vec<String>, String, std::sync::mpsc::Receiver<String>) {
    use std::io::{BufRead, BufReader};
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_server"));
    configure(&mut command);
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the server binary starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    let addr = loop {
        let line = lines
            .next()
            .expect("the server says where it listens")
            .unwrap();
        let addr = line
            .strip_prefix("LiveLedger is running at http://")
            .map(str::to_owned);
        printed.push(line);
        if let Some(addr) = addr {
            break addr;
        }
    };
    let (later, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            let _ = later.send(line);
        }
    });
    (Proc(child), printed, addr, receiver)
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn unique_name() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A fresh, empty PostgreSQL database on the server named by `TEST_POSTGRES_URL`.
pub(crate) async fn fresh_postgres_database() -> String {
    use sqlx::{Connection, Executor};
    let url = std::env::var("TEST_POSTGRES_URL").expect(
        "TEST_POSTGRES_URL is not set: the PostgreSQL half of the suite needs a server \
         (e.g. postgres://postgres@127.0.0.1:5432/test); run the README's test command",
    );
    let name = format!("ll_test_{}", unique_name());
    let mut conn = sqlx::PgConnection::connect(&url)
        .await
        .expect("connect to TEST_POSTGRES_URL");
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create test database");
    let (base, _) = url
        .rsplit_once('/')
        .expect("TEST_POSTGRES_URL ends with /database");
    format!("{base}/{name}")
}

pub fn test_config(database_url: String) -> Config {
    Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        database_url,
        db_max_connections: 5,
        jwt_secret: Secret::new(JWT_SECRET.as_bytes().to_vec()),
        session_ttl: Duration::from_secs(3600),
        allowed_origins: vec!["https://partner.example".into()],
        secure_cookie: false,
        site_root: "target/site".into(),
        login_limit_per_account: 5,
        login_limit_per_address: 50,
        login_limit_window: Duration::from_secs(600),
        signup_limit_per_address: 20,
        event_retention: Duration::from_secs(24 * 3600),
        live: Default::default(),
        operator_token: Some(Secret::new(OPERATOR_TOKEN.as_bytes().to_vec())),
        request_timeout: Duration::from_secs(30),
        trusted_proxies: Default::default(),
    }
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// `spawn_app` with the configuration adjusted first (shorter heartbeats, say).
pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        server::telemetry::init();
    }
    let dir = TempDir::new("liveledger-test");
    let database_url = match backend {
        Backend::Sqlite => format!("sqlite://{}/test.db", dir.0.display()),
        Backend::Postgres => fresh_postgres_database().await,
    };
    let mut config = test_config(database_url);
    adjust(&mut config);
    start(config, dir).await
}

async fn start(config: Config, dir: TempDir) -> TestApp {
    let database_url = config.database_url.clone();
    let app = Application::build(config)
        .await
        .expect("application starts");
    let base = format!("http://{}", app.local_addr());
    let db = app.db().clone();
    let hub = app.hub().clone();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        // A request the server never answers fails its test instead of stalling the run.
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .unwrap();
    TestApp {
        base,
        http,
        db,
        database_url,
        hub,
        _dir: dir,
    }
}

impl TestApp {
    /// Another instance of the application on this one's database (same secret), as a
    /// second server behind a load balancer would be.
    pub async fn another_instance(&self) -> TestApp {
        self.another_instance_with(|_| {}).await
    }

    /// `another_instance` with its configuration adjusted first.
    pub async fn another_instance_with(&self, adjust: impl FnOnce(&mut Config)) -> TestApp {
        let mut config = test_config(self.database_url.clone());
        adjust(&mut config);
        start(config, TempDir::new("liveledger-test")).await
    }
}

/// A logged-in user as seen by the tests.
#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub token: String,
    pub personal_ws: i64,
}

impl TestApp {
    /// POSTs a form to a server function, optionally as a user (bearer token).
    pub async fn call(
        &self,
        path: &str,
        token: Option<&str>,
        form: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .post(format!("{}/api/{path}", self.base))
            .form(form);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let text = res.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body)
    }

    pub async fn call_as(
        &self,
        user: &User,
        path: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        self.call(path, Some(&user.token), form).await
    }

    pub async fn register(&self, email: &str) -> User {
        self.register_with(email, "").await
    }

    /// `register` with a `Cookie` header (`ll_zone=<the browser's zone>`, say).
    pub async fn register_with(&self, email: &str, cookie: &str) -> User {
        let form = [
            ("email", email),
            ("display_name", email.split('@').next().unwrap()),
            ("password", PASSWORD),
        ];
        let mut req = self
            .http
            .post(format!("{}/api/auth/register", self.base))
            .form(&form);
        if !cookie.is_empty() {
            req = req.header(header::COOKIE, cookie);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "registering {email}");
        let token = res.headers()["x-session-token"]
            .to_str()
            .unwrap()
            .to_owned();
        let body: Value = res.json().await.unwrap();
        let id = body["id"].as_i64().unwrap();
        let (_, list) = self.call("workspaces/list", Some(&token), &[]).await;
        let personal_ws = list[0]["id"].as_i64().unwrap();
        User {
            id,
            token,
            personal_ws,
        }
    }

    /// A new session of a registered user (after their tokens were revoked, say).
    pub async fn login(&self, user: &User, email: &str) -> User {
        let res = self
            .http
            .post(format!("{}/api/auth/login", self.base))
            .form(&[("email", email), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "logging in {email}");
        let token = res.headers()["x-session-token"]
            .to_str()
            .unwrap()
            .to_owned();
        User {
            token,
            ..user.clone()
        }
    }

    /// A team workspace owned by `owner`.
    pub async fn team(&self, owner: &User, name: &str) -> i64 {
        let (status, body) = self
            .call_as(owner, "workspaces/create", &[("name", name)])
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["id"].as_i64().unwrap()
    }

    /// A team `name` owned by `owner` with `members` more people (`w0@example.com`, …):
    /// its id, and everyone in it, the owner first.
    pub async fn team_of(&self, owner: &User, name: &str, members: usize) -> (i64, Vec<User>) {
        let ws = self.team(owner, name).await;
        let mut people = vec![owner.clone()];
        for i in 0..members {
            let user = self.register(&format!("w{i}@example.com")).await;
            self.add_member(owner, ws, &user, "member").await;
            people.push(user);
        }
        (ws, people)
    }

    /// Sets what `user` hears of topics in `ws` (`("expenses", "toast")`, …).
    pub async fn hear(&self, user: &User, ws: i64, choices: &[(&str, &str)]) {
        let ws = ws.to_string();
        let mut form = vec![("workspace_id", ws.as_str())];
        form.extend_from_slice(choices);
        let (status, body) = self
            .call_as(user, "notifications/set-preferences", &form)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// Invites `user` into `ws` with `role`, through an invite code made by `by`.
    pub async fn add_member(&self, by: &User, ws: i64, user: &User, role: &str) {
        let ws_s = ws.to_string();
        let (status, invite) = self
            .call_as(
                by,
                "workspaces/invite",
                &[("workspace_id", &ws_s), ("role", role)],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{invite}");
        let code = invite["code"].as_str().unwrap();
        let (status, body) = self
            .call_as(user, "workspaces/join", &[("code", code)])
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// `by` removes `user` from `ws`.
    pub async fn remove_member(&self, by: &User, ws: i64, user: &User) {
        let (status, body) = self
            .call_as(
                by,
                "workspaces/remove-member",
                &[
                    ("workspace_id", &ws.to_string()),
                    ("user_id", &user.id.to_string()),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// A goal in EUR made by `user` in `ws` (asserted made): its JSON.
    pub async fn create_goal(&self, user: &User, ws: i64, name: &str, target: &str) -> Value {
        let (status, goal) = self
            .call_as(
                user,
                "goals/create",
                &[
                    ("workspace_id", &ws.to_string()),
                    ("name", name),
                    ("target", target),
                    ("currency", "EUR"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{goal}");
        goal
    }

    /// An expense in EUR, category Food, dated 2026-11-20.
    pub async fn create_expense(
        &self,
        user: &User,
        ws: i64,
        amount: &str,
        description: &str,
    ) -> (StatusCode, Value) {
        self.create_expense_on(user, ws, amount, description, "2026-11-20")
            .await
    }

    /// The same on `date` (budgets count the current month's spending).
    pub async fn create_expense_on(
        &self,
        user: &User,
        ws: i64,
        amount: &str,
        description: &str,
        date: &str,
    ) -> (StatusCode, Value) {
        let ws = ws.to_string();
        self.call_as(
            user,
            "expenses/create",
            &[
                ("workspace_id", &ws),
                ("amount", amount),
                ("currency", "EUR"),
                ("category", "Food"),
                ("description", description),
                ("date", date),
            ],
        )
        .await
    }

    /// Edits an expense (EUR, Food, 2026-11-01) with a new amount and description.
    pub async fn update_expense(
        &self,
        user: &User,
        ws: i64,
        id: &str,
        amount: &str,
        description: &str,
    ) -> (StatusCode, Value) {
        let ws = ws.to_string();
        self.call_as(
            user,
            "expenses/update",
            &[
                ("workspace_id", &ws),
                ("id", id),
                ("amount", amount),
                ("currency", "EUR"),
                ("category", "Food"),
                ("description", description),
                ("date", "2026-11-01"),
            ],
        )
        .await
    }

    pub async fn expenses(&self, user: &User, ws: i64) -> Value {
        let (status, body) = self
            .call_as(user, "expenses/list", &[("workspace_id", &ws.to_string())])
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// Polls the event log after `cursors` (stream key, after).
    pub async fn poll(&self, user: &User, cursors: &[(&str, i64)]) -> (StatusCode, Value) {
        let cursors: Vec<Value> = cursors
            .iter()
            .map(|(s, a)| serde_json::json!({"stream": s, "after": a}))
            .collect();
        let res = self
            .http
            .post(format!("{}/api/live/poll", self.base))
            .bearer_auth(&user.token)
            .json(&serde_json::json!({ "cursors": cursors }))
            .send()
            .await
            .unwrap();
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// The events of `stream` from the start, as `user` may read them. A member reads a
    /// workspace's log from their own `member:joined` on (`memberships.since_seq`): then
    /// what they read by polling is checked to be exactly that tail of the stored log,
    /// and the whole log is returned, so that positions in it mean the same for every
    /// member. A stream the user may not read gives what polling gives (nothing).
    pub async fn events(&self, user: &User, stream: &str) -> Vec<Value> {
        let since = match stream.strip_prefix("ws:") {
            Some(ws) => {
                let row: Option<(i64,)> = sqlx::query_as(
                    "SELECT since_seq FROM memberships WHERE workspace_id = $1 AND user_id = $2",
                )
                .bind(ws.parse::<i64>().unwrap())
                .bind(user.id)
                .fetch_optional(&self.db.pool)
                .await
                .unwrap();
                row.map_or(0, |(since,)| since)
            }
            None => 0,
        };
        let (status, body) = self.poll(user, &[(stream, since)]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let read = body["events"].as_array().unwrap().clone();
        if since == 0 {
            return read;
        }
        let stored: Vec<(String,)> =
            sqlx::query_as("SELECT envelope FROM events WHERE stream = $1 ORDER BY seq")
                .bind(stream)
                .fetch_all(&self.db.pool)
                .await
                .unwrap();
        let log: Vec<Value> = stored
            .iter()
            .map(|(json,)| serde_json::from_str(json).unwrap())
            .collect();
        assert_eq!(
            read,
            log[since as usize..],
            "user {} reads {stream} from seq {} on",
            user.id,
            since + 1
        );
        log
    }

    pub async fn get(&self, path: &str, cookie_token: Option<&str>) -> reqwest::Response {
        let mut req = self
            .http
            .get(format!("{}{path}", self.base))
            .header(header::ACCEPT, "text/html");
        if let Some(t) = cookie_token {
            req = req.header(header::COOKIE, format!("ll_session={t}"));
        }
        req.send().await.unwrap()
    }
}

/// Runs an async test body once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    super::$name($crate::helpers::spawn_app($crate::helpers::Backend::Sqlite).await).await
                }
                #[tokio::test]
                async fn postgres() {
                    super::$name($crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await).await
                }
            }
        )*
    };
}
