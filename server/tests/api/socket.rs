//! The WebSocket transport: authentication and origin on upgrade, delivery to current
//! members only, resume by cursor, and bad input that hurts nobody else.

use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest, Message};

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{spawn_app, spawn_app_with, Backend, TestApp, User};

pub(crate) type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

crate::on_both_backends!(
    upgrades_without_a_valid_session_or_from_another_site_are_refused,
    members_receive_their_workspace_events_live_and_nothing_else,
    a_reconnect_with_cursors_gets_every_missed_event_exactly_once,
    polling_returns_exactly_what_the_socket_delivers,
    bad_frames_get_errors_and_disturb_no_one_else,
    a_removed_member_stops_receiving_at_once,
    a_cursor_older_than_the_retention_gets_resync,
    the_retention_job_forgets_only_what_is_older_than_its_cut,
    a_frame_flood_is_closed_with_the_rate_limit_code,
    the_socket_closes_when_the_session_expires,
    a_client_that_stops_reading_is_told_to_resume_and_costs_bounded_memory,
    a_broadcast_reaches_every_socket_once_and_is_never_replayed,
    concurrent_writers_reach_a_socket_once_each_in_order,
    wakes_in_the_wrong_order_still_deliver_each_event_once_in_order,
);

pub(crate) async fn connect(
    app: &TestApp,
    token: Option<&str>,
    origin: Option<&str>,
) -> Result<Ws, tungstenite::Error> {
    let url = format!("{}/live", app.base.replace("http://", "ws://"));
    let mut req = url.into_client_request().unwrap();
    if let Some(t) = token {
        req.headers_mut()
            .insert("cookie", format!("ll_session={t}").parse().unwrap());
    }
    if let Some(o) = origin {
        req.headers_mut().insert("origin", o.parse().unwrap());
    }
    tokio_tungstenite::connect_async(req)
        .await
        .map(|(ws, _)| ws)
}

/// Opens a socket with a bearer token, or says with which HTTP status it was refused.
pub(crate) async fn connect_to(base: &str, token: &str) -> Result<Ws, u16> {
    let url = format!("{}/live", base.replace("http://", "ws://"));
    let mut req = url.into_client_request().unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(ws),
        Err(tungstenite::Error::Http(res)) => Err(res.status().as_u16()),
        Err(other) => panic!("upgrade failed: {other:?}"),
    }
}

/// The next text frame as JSON (pings are answered by the library).
pub(crate) async fn next(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(std::time::Duration::from_secs(10), ws.next())
            .await
            .expect("a frame within 10 s")
            .expect("socket open")
            .expect("frame");
        match msg {
            Message::Text(t) => return serde_json::from_str(&t).unwrap(),
            Message::Close(c) => {
                return json!({"type": "closed", "code": c.map(|c| u16::from(c.code))})
            }
            _ => continue,
        }
    }
}

pub(crate) async fn open(app: &TestApp, user: &User, cursors: &[(&str, i64)]) -> (Ws, Value) {
    let mut ws = connect(app, Some(&user.token), None)
        .await
        .expect("upgrade");
    assert_eq!(next(&mut ws).await["type"], "hello");
    let cursors: Vec<Value> = cursors
        .iter()
        .map(|(s, a)| json!({"stream": s, "after": a}))
        .collect();
    ws.send(Message::text(
        json!({"type": "subscribe", "cursors": cursors}).to_string(),
    ))
    .await
    .unwrap();
    // Replayed events come first, then the `subscribed` answer.
    let mut replayed = Vec::new();
    loop {
        let frame = next(&mut ws).await;
        if frame["type"] == "subscribed" {
            return (ws, json!({"replayed": replayed, "subscribed": frame}));
        }
        replayed.push(frame);
    }
}

fn status_of(err: tungstenite::Error) -> u16 {
    match err {
        tungstenite::Error::Http(res) => res.status().as_u16(),
        other => panic!("expected an HTTP refusal, got {other:?}"),
    }
}

async fn upgrades_without_a_valid_session_or_from_another_site_are_refused(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    assert_eq!(status_of(connect(&app, None, None).await.unwrap_err()), 401);
    let forged = format!("{}x", ann.token);
    assert_eq!(
        status_of(connect(&app, Some(&forged), None).await.unwrap_err()),
        401
    );
    assert_eq!(
        status_of(
            connect(&app, Some(&ann.token), Some("https://evil.example"))
                .await
                .unwrap_err()
        ),
        403
    );
    let own = app.base.clone();
    assert!(
        connect(&app, Some(&ann.token), Some(&own)).await.is_ok(),
        "the site's own origin may connect"
    );
}

async fn members_receive_their_workspace_events_live_and_nothing_else(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let team = app.team(&ann, "Team").await;
    app.add_member(&ann, team, &bob, "member").await;
    let stream = format!("ws:{team}");
    let outside = format!("ws:{}", bob.personal_ws);
    let head = app.expenses(&ann, team).await["cursor"].as_i64().unwrap();

    let (mut ws, sub) = open(&app, &ann, &[(&stream, head), (&outside, 0)]).await;
    assert_eq!(
        sub["subscribed"]["denied"],
        json!([outside]),
        "Bob's personal workspace is not Ann's to read"
    );

    // Bob writes in his own workspace, then in the team: Ann gets only the team's event.
    app.create_expense(&bob, bob.personal_ws, "1", "private")
        .await;
    let (_, created) = app.create_expense(&bob, team, "2", "shared").await;
    let frame = next(&mut ws).await;
    assert_eq!(frame["type"], "event");
    assert_eq!(frame["event"], "expense:created");
    assert_eq!(frame["stream"], stream.as_str());
    assert_eq!(frame["seq"], head + 1);
    assert_eq!(frame["data"], created);
}

async fn a_reconnect_with_cursors_gets_every_missed_event_exactly_once(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let ws_id = ann.personal_ws;
    let stream = format!("ws:{ws_id}");
    let (mut ws, _) = open(&app, &ann, &[(&stream, 0)]).await;
    app.create_expense(&ann, ws_id, "1", "one").await;
    app.create_expense(&ann, ws_id, "2", "two").await;
    let mut seen = vec![next(&mut ws).await, next(&mut ws).await];
    let cursor = seen.last().unwrap()["seq"].as_i64().unwrap();
    ws.close(None).await.unwrap();
    drop(ws);

    // While disconnected.
    for i in 3..=5 {
        app.create_expense(&ann, ws_id, &i.to_string(), &format!("n{i}"))
            .await;
    }
    let (mut ws, sub) = open(&app, &ann, &[(&stream, cursor)]).await;
    seen.extend(sub["replayed"].as_array().unwrap().iter().cloned());
    app.create_expense(&ann, ws_id, "6", "after reconnect")
        .await;
    seen.push(next(&mut ws).await);

    let seqs: Vec<i64> = seen.iter().map(|f| f["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5, 6], "every event once, in order");
    assert_eq!(
        sub["subscribed"]["cursors"],
        json!([{"stream": stream, "after": 5}])
    );
}

async fn polling_returns_exactly_what_the_socket_delivers(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let ws_id = ann.personal_ws;
    let stream = format!("ws:{ws_id}");
    let (mut ws, _) = open(&app, &ann, &[(&stream, 0)]).await;
    let (_, e) = app.create_expense(&ann, ws_id, "5", "x").await;
    app.call_as(
        &ann,
        "expenses/delete",
        &[
            ("workspace_id", &ws_id.to_string()),
            ("id", &e["id"].to_string()),
        ],
    )
    .await;
    let mut from_socket = vec![next(&mut ws).await, next(&mut ws).await];
    for frame in &mut from_socket {
        frame.as_object_mut().unwrap().remove("type");
    }
    let from_poll = app.events(&ann, &stream).await;
    assert_eq!(from_socket, from_poll);
}

async fn bad_frames_get_errors_and_disturb_no_one_else(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let stream = format!("ws:{}", ann.personal_ws);
    let (mut bystander, _) = open(&app, &ann, &[(&stream, 0)]).await;
    let (mut bad, _) = open(&app, &ann, &[]).await;

    bad.send(Message::text("{not json")).await.unwrap();
    assert_eq!(next(&mut bad).await["code"], "bad_json");
    bad.send(Message::text(r#"{"type":"launch_missiles"}"#))
        .await
        .unwrap();
    assert_eq!(next(&mut bad).await["code"], "unknown_frame");
    bad.send(Message::text(
        r#"{"type":"subscribe","cursors":[{"stream":"ws:1","after":-4}]}"#,
    ))
    .await
    .unwrap();
    assert_eq!(next(&mut bad).await["code"], "bad_cursor");
    bad.send(Message::text(r#"{"type":"ping"}"#)).await.unwrap();
    assert_eq!(
        next(&mut bad).await["type"],
        "pong",
        "still served after bad frames"
    );

    // A frame over the 64 KiB cap closes that socket (1009: message too big)…
    let huge = format!(r#"{{"type":"ping","pad":"{}"}}"#, "x".repeat(70 * 1024));
    let _ = bad.send(Message::text(huge)).await;
    let closed = next(&mut bad).await;
    assert_eq!(closed["type"], "closed");
    assert_eq!(closed["code"], 1009);

    // …and the bystander still gets its events.
    app.create_expense(&ann, ann.personal_ws, "1", "still here")
        .await;
    let frame = next(&mut bystander).await;
    assert_eq!(frame["data"]["description"], "still here");

    let (status, _) = app.poll(&ann, &[(&stream, 0)]).await;
    assert_eq!(status, StatusCode::OK);
}

async fn a_removed_member_stops_receiving_at_once(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let team = app.team(&ann, "Team").await;
    app.add_member(&ann, team, &bob, "member").await;
    let team_stream = format!("ws:{team}");
    let own_stream = format!("ws:{}", bob.personal_ws);
    let team_head = app.expenses(&ann, team).await["cursor"].as_i64().unwrap();
    let (mut ws, _) = open(&app, &bob, &[(&team_stream, team_head), (&own_stream, 0)]).await;

    app.create_expense(&ann, team, "1", "before removal").await;
    assert_eq!(next(&mut ws).await["data"]["description"], "before removal");

    app.remove_member(&ann, team, &bob).await;
    // He is told at once, so his page can leave the workspace.
    assert_eq!(
        next(&mut ws).await,
        json!({"type": "revoked", "streams": [team_stream]})
    );
    app.create_expense(&ann, team, "2", "after removal").await;
    // A sentinel on a stream Bob still reads: it must be the next thing he gets.
    app.create_expense(&bob, bob.personal_ws, "3", "sentinel")
        .await;
    let frame = next(&mut ws).await;
    assert_eq!(
        frame["data"]["description"], "sentinel",
        "nothing of the team after removal: {frame}"
    );

    let (_, polled) = app.poll(&bob, &[(&team_stream, 0)]).await;
    assert_eq!(
        polled["denied"],
        json!([team_stream]),
        "polling refuses too"
    );
    let (_, events) = app.poll(&ann, &[(&team_stream, team_head)]).await;
    assert!(events["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["event"] == "member:left" && e["data"]["user_id"] == bob.id));
}

async fn a_cursor_older_than_the_retention_gets_resync(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let stream = format!("ws:{}", ann.personal_ws);
    app.create_expense(&ann, ann.personal_ws, "1", "old").await;
    app.create_expense(&ann, ann.personal_ws, "2", "old too")
        .await;
    // The retention job runs with a cut after both events.
    let pruned = app::server::outbox::prune(&app.db, app::server::now_ms() + 1)
        .await
        .unwrap();
    assert_eq!(pruned, 2);
    app.create_expense(&ann, ann.personal_ws, "3", "new").await;

    let (_, polled) = app.poll(&ann, &[(&stream, 0)]).await;
    assert_eq!(
        polled["resync"],
        json!([stream]),
        "events 1..2 are gone: reload"
    );
    assert_eq!(polled["cursors"][0]["after"], 3);
    assert!(polled["events"].as_array().unwrap().is_empty());
    let (_, polled) = app.poll(&ann, &[(&stream, 2)]).await;
    assert_eq!(
        polled["events"][0]["seq"], 3,
        "a cursor the log still continues from is served"
    );

    let (_, sub) = open(&app, &ann, &[(&stream, 1)]).await;
    assert_eq!(
        sub["subscribed"]["resync"],
        json!([stream]),
        "the socket answers the same"
    );
    assert_eq!(sub["subscribed"]["cursors"][0]["after"], 3);
}

/// The retention job deletes the events older than its cut and nothing newer, however
/// the backend finds them (SQLite walks the log in rowid order: `outbox::prune`).
async fn the_retention_job_forgets_only_what_is_older_than_its_cut(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let stream = format!("ws:{}", ann.personal_ws);
    for n in 1..=4 {
        app.create_expense(&ann, ann.personal_ws, "1", &format!("expense {n}"))
            .await;
    }
    // The first two written long ago, the others now.
    sqlx::query("UPDATE events SET created_at = $1 WHERE stream = $2 AND seq <= 2")
        .bind(1_000_i64)
        .bind(&stream)
        .execute(&app.db.pool)
        .await
        .unwrap();
    let seqs = || async {
        sqlx::query_as::<_, (i64,)>("SELECT seq FROM events WHERE stream = $1 ORDER BY seq")
            .bind(&stream)
            .fetch_all(&app.db.pool)
            .await
            .unwrap()
            .into_iter()
            .map(|(seq,)| seq)
            .collect::<Vec<_>>()
    };
    let prune = |cut| app::server::outbox::prune(&app.db, cut);
    assert_eq!(
        prune(1_000).await.unwrap(),
        0,
        "nothing is older than the oldest"
    );
    assert_eq!(seqs().await, [1, 2, 3, 4]);
    assert_eq!(prune(2_000).await.unwrap(), 2);
    assert_eq!(seqs().await, [3, 4], "the events after the cut stay");
    assert_eq!(prune(2_000).await.unwrap(), 0, "a second run finds nothing");
    let (_, polled) = app.poll(&ann, &[(&stream, 2)]).await;
    assert_eq!(
        polled["events"][0]["seq"], 3,
        "the log continues from the cut"
    );
}

async fn a_frame_flood_is_closed_with_the_rate_limit_code(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let (mut ws, _) = open(&app, &ann, &[]).await;
    // 100 frames at once: far over the burst of 40.
    for _ in 0..100 {
        if ws.send(Message::text(r#"{"type":"ping"}"#)).await.is_err() {
            break;
        }
    }
    let mut last = json!(null);
    for _ in 0..101 {
        last = next(&mut ws).await;
        if last["type"] == "closed" {
            break;
        }
        assert_eq!(last["type"], "pong");
    }
    assert_eq!(last, json!({"type": "closed", "code": 4029}));
    // The account is not punished beyond that socket.
    assert!(connect(&app, Some(&ann.token), None).await.is_ok());
}

async fn the_socket_closes_when_the_session_expires(app: TestApp) {
    use jsonwebtoken::{encode, EncodingKey, Header};
    let ann = app.register("ann@example.com").await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let short = encode(
        &Header::default(),
        &json!({"sub": ann.id.to_string(), "iat": now, "exp": now + 2, "iss": "liveledger", "aud": "liveledger", "ver": 0}),
        &EncodingKey::from_secret(crate::helpers::JWT_SECRET.as_bytes()),
    )
    .unwrap();
    let mut ws = connect(&app, Some(&short), None)
        .await
        .expect("valid for two more seconds");
    assert_eq!(next(&mut ws).await["type"], "hello");
    assert_eq!(
        next(&mut ws).await,
        json!({"type": "closed", "code": 4001}),
        "closed when the token expires"
    );
}

/// Two instances on one PostgreSQL database (DESIGN.md §3.8): a write handled by one
/// reaches sockets on the other (woken by LISTEN/NOTIFY, read from the shared log), and
/// a member removed through one stops receiving on the other at once.
#[tokio::test]
async fn postgres_instances_share_delivery_and_revocation() {
    let a = spawn_app(Backend::Postgres).await;
    let b = a.another_instance().await;
    let ann = a.register("ann@example.com").await;
    let bob = a.register("bob@example.com").await;
    let team = a.team(&ann, "Team").await;
    a.add_member(&ann, team, &bob, "member").await;
    let team_stream = format!("ws:{team}");
    let head = a.expenses(&ann, team).await["cursor"].as_i64().unwrap();
    let (mut bob_on_b, _) = open(
        &b,
        &bob,
        &[
            (&team_stream, head),
            (&format!("ws:{}", bob.personal_ws), 0),
        ],
    )
    .await;
    let (mut ann_on_b, _) = open(&b, &ann, &[(&team_stream, head)]).await;

    a.create_expense(&ann, team, "1", "written on a").await;
    assert_eq!(
        next(&mut bob_on_b).await["data"]["description"],
        "written on a"
    );
    assert_eq!(
        next(&mut ann_on_b).await["data"]["description"],
        "written on a"
    );

    a.remove_member(&ann, team, &bob).await;
    a.create_expense(&ann, team, "2", "after removal").await;
    // Once Ann's socket on b has it, b has fanned out everything of the team up to it.
    assert_eq!(next(&mut ann_on_b).await["event"], "member:left");
    assert_eq!(
        next(&mut ann_on_b).await["data"]["description"],
        "after removal"
    );
    assert_eq!(
        next(&mut bob_on_b).await,
        json!({"type": "revoked", "streams": [team_stream]}),
        "b learnt of the removal from the log and told Bob"
    );
    a.create_expense(&bob, bob.personal_ws, "3", "sentinel")
        .await;
    let frame = next(&mut bob_on_b).await;
    assert_eq!(
        frame["data"]["description"], "sentinel",
        "nothing of the team reaches Bob on b after his removal on a: {frame}"
    );
}

/// A write whose instance died between its commit and the wake of the others (here: an
/// event committed straight into the log, as that write would have left it) still
/// reaches a socket on another instance: each instance compares its rooms with the
/// stream heads every second (`hub::cluster::check_heads`).
#[tokio::test]
async fn postgres_a_commit_whose_wake_was_lost_is_delivered_by_the_head_check() {
    let a = spawn_app(Backend::Postgres).await;
    let b = a.another_instance().await;
    let ann = a.register("ann@example.com").await;
    let stream = format!("ws:{}", ann.personal_ws);
    a.create_expense(&ann, ann.personal_ws, "1", "woken").await;
    let (mut on_b, opened) = open(&b, &ann, &[(&stream, 0)]).await;
    assert_eq!(
        opened["replayed"][0]["data"]["description"], "woken",
        "{opened}"
    );

    // The envelope of the next event, as `outbox::append_all` would store it.
    let (last,): (String,) = sqlx::query_as(
        "SELECT envelope FROM events WHERE stream = $1 AND kind = 'expense:created' ORDER BY seq DESC LIMIT 1",
    )
    .bind(&stream)
    .fetch_one(&a.db.pool)
    .await
    .unwrap();
    let mut envelope: Value = serde_json::from_str(&last).unwrap();
    let mut tx = a.db.pool.begin().await.unwrap();
    let (seq,): (i64,) = sqlx::query_as(
        "UPDATE stream_heads SET last_seq = last_seq + 1 WHERE stream = $1 RETURNING last_seq",
    )
    .bind(&stream)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    envelope["seq"] = json!(seq);
    envelope["data"]["id"] = json!(envelope["data"]["id"].as_i64().unwrap() + 1000);
    envelope["data"]["description"] = json!("never woken");
    sqlx::query(
        "INSERT INTO events (stream, seq, kind, envelope, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&stream)
    .bind(seq)
    .bind(envelope["event"].as_str().unwrap())
    .bind(envelope.to_string())
    .bind(envelope["timestamp"].as_i64().unwrap())
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();

    // No instance was told; `next` waits up to 10 s, the check runs every second.
    let frame = next(&mut on_b).await;
    assert_eq!(frame["data"]["description"], "never woken", "{frame}");
    assert_eq!(frame["seq"], json!(seq));
}

/// Server frames (unmasked) as (opcode, payload), enough for pings and closes.
fn parse_server_frames(mut bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut frames = Vec::new();
    while bytes.len() >= 2 {
        let opcode = bytes[0] & 0x0f;
        let (len, start) = match bytes[1] & 0x7f {
            126 => (u16::from_be_bytes([bytes[2], bytes[3]]) as usize, 4),
            127 => (
                u64::from_be_bytes(bytes[2..10].try_into().unwrap()) as usize,
                10,
            ),
            n => (n as usize, 2),
        };
        frames.push((opcode, bytes[start..start + len].to_vec()));
        bytes = &bytes[start + len..];
    }
    frames
}

/// The instance serves at most `max_connections` sockets; past that an upgrade is
/// refused with 503 (the client polls), and a closed socket frees its place.
#[tokio::test]
async fn sockets_past_the_cap_are_refused_until_one_closes() {
    let app = spawn_app_with(Backend::Sqlite, |c| c.live.max_connections = 2).await;
    let ann = app.register("ann@example.com").await;
    let (mut first, _) = open(&app, &ann, &[]).await;
    let (_second, _) = open(&app, &ann, &[]).await;
    let refused = connect(&app, Some(&ann.token), None).await.unwrap_err();
    assert_eq!(status_of(refused), 503);
    // A refused stranger is still told 401 first: the cap is no oracle.
    assert_eq!(status_of(connect(&app, None, None).await.unwrap_err()), 401);

    first.close(None).await.unwrap();
    // The server frees the place when the socket's task ends; until then, 503.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        match connect(&app, Some(&ann.token), None).await {
            Ok(mut third) => {
                assert_eq!(next(&mut third).await["type"], "hello");
                break;
            }
            Err(e) => {
                assert_eq!(status_of(e), 503);
                assert!(tokio::time::Instant::now() < deadline, "no place was freed");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    assert_eq!(app.hub.stats().connections, 2);
}

/// Waits for a condition the server reaches on its own (polling it, with a deadline).
pub(crate) async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A socket whose receive buffer is tiny, so a client that stops reading stops the
/// server's writes at once instead of after megabytes of kernel buffers.
async fn connect_small_buffer(app: &TestApp, user: &User) -> Ws {
    let addr: std::net::SocketAddr = app.base.trim_start_matches("http://").parse().unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(addr).await.unwrap();
    let mut req = format!("ws://{addr}/live").into_client_request().unwrap();
    req.headers_mut().insert(
        "cookie",
        format!("ll_session={}", user.token).parse().unwrap(),
    );
    let (ws, _) =
        tokio_tungstenite::client_async(req, tokio_tungstenite::MaybeTlsStream::Plain(stream))
            .await
            .unwrap();
    ws
}

/// An `expense:created` for workspace `ws` with a description of `bytes` bytes, as no
/// form made it (its id is far from any real row's).
fn made_up_expense(ws: i64, i: i64, bytes: usize) -> app::live::Event {
    app::live::Event::ExpenseCreated(app::expenses::Expense {
        id: 1_000_000 + i,
        workspace_id: app::model::ids::WorkspaceId(ws),
        amount_minor: 100,
        currency: "EUR".into(),
        category: "Other".into(),
        description: "x".repeat(bytes),
        spent_on: "2026-11-20".into(),
        created_by: app::model::ids::UserId(1),
        created_by_name: "flood".into(),
    })
}

/// Appends `n` large events to a workspace stream straight into the log (a burst no
/// form could make quickly), then wakes the hub.
pub(crate) async fn flood(app: &TestApp, ws: i64, n: i64, bytes: usize) {
    use app::{live::Stream, model::ids::WorkspaceId, server::outbox};
    let stream = Stream::Workspace(WorkspaceId(ws));
    let mut tx = app.db.pool.begin().await.unwrap();
    for i in 0..n {
        outbox::append_all(&mut tx, vec![(stream, made_up_expense(ws, i, bytes))], 0)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    app.hub.notify(stream);
}

/// A writer hands the hub what it committed, and delivery sends that without reading
/// the log only while it continues the room's mark. Two commits whose wakes come in the
/// wrong order: the later one's, first, finds a gap and reads the log (both events go
/// out, in order); the earlier one's, late, sends nothing again.
async fn wakes_in_the_wrong_order_still_deliver_each_event_once_in_order(app: TestApp) {
    use app::{live::Stream, model::ids::WorkspaceId, server::outbox};
    let ann = app.register("ann@example.com").await;
    let ws_id = ann.personal_ws;
    let stream = Stream::Workspace(WorkspaceId(ws_id));
    let head = app.expenses(&ann, ws_id).await["cursor"].as_i64().unwrap();
    let (mut ws, _) = open(&app, &ann, &[(&stream.key(), head)]).await;

    let mut logged = Vec::new();
    for i in 0..2 {
        let mut tx = app.db.pool.begin().await.unwrap();
        let appended = outbox::append_all(&mut tx, vec![(stream, made_up_expense(ws_id, i, 8))], 0)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        logged.extend(appended.into_iter().map(|(_, logged)| logged));
    }
    let later = logged.pop().unwrap();
    app.hub.committed(stream, vec![later]);
    let got = [
        next(&mut ws).await["seq"].clone(),
        next(&mut ws).await["seq"].clone(),
    ];
    assert_eq!(got, [json!(head + 1), json!(head + 2)], "both, in order");

    app.hub.committed(stream, logged);
    app.create_expense(&ann, ws_id, "1", "after").await;
    assert_eq!(
        next(&mut ws).await["seq"],
        head + 3,
        "the late wake sent nothing again"
    );
}

async fn a_client_that_stops_reading_is_told_to_resume_and_costs_bounded_memory(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let ws_id = ann.personal_ws;
    let stream = format!("ws:{ws_id}");
    let head = app.expenses(&ann, ws_id).await["cursor"].as_i64().unwrap();
    let mut slow = connect_small_buffer(&app, &ann).await;
    assert_eq!(next(&mut slow).await["type"], "hello");
    slow.send(Message::text(
        json!({"type": "subscribe", "cursors": [{"stream": stream, "after": head}]}).to_string(),
    ))
    .await
    .unwrap();
    assert_eq!(next(&mut slow).await["type"], "subscribed");

    // 1,000 events of 16 KiB: far more than the queue (256) and the socket buffers hold.
    const N: i64 = 1_000;
    flood(&app, ws_id, N, 16 * 1024).await;
    eventually("the hub to give up on the socket", || {
        app.hub.counters.events_dropped_overflow.get() >= 1
    })
    .await;
    // The server stopped buffering for it: out of every room, not counted as connected,
    // and it was handed fewer events than were written (what it holds is bounded by
    // its queue and the socket's buffers).
    assert_eq!(app.hub.stats().connections, 0);
    assert_eq!(app.hub.stats().rooms, 0);
    // The burst is all `expense:created`: the per-kind counters count it.
    let created = app::server::metrics::KindLabel {
        kind: "expense:created",
    };
    eventually("the hub to read the whole burst once", || {
        app.hub.kinds.emitted.get_or_create(&created).get() == N as u64
    })
    .await;
    let handed = app.hub.kinds.delivered.get_or_create(&created).get();
    assert!(handed < N as u64, "handed {handed} of {N}");

    // Reading again: the events it was handed, in order, then "resume" (4008).
    let mut last = head;
    let code = loop {
        let frame = next(&mut slow).await;
        if frame["type"] == "closed" {
            break frame["code"].as_u64();
        }
        assert_eq!(frame["seq"].as_i64(), Some(last + 1), "in order, no gaps");
        last += 1;
    };
    assert_eq!(code, Some(4008));
    assert!(
        last - head < N,
        "got {} of {N} before the close",
        last - head
    );

    // Resuming from its cursor delivers the rest, each exactly once.
    let (_, resumed) = open(&app, &ann, &[(&stream, last)]).await;
    let replayed = resumed["replayed"].as_array().unwrap();
    assert_eq!(replayed.len() as i64, head + N - last);
    assert_eq!(replayed[0]["seq"].as_i64(), Some(last + 1));
    assert_eq!(replayed.last().unwrap()["seq"].as_i64(), Some(head + N));
}

/// The heartbeat, with the legacy 25 s / 60 s shortened: the server pings, and a client
/// that never answers (never reads, so never pongs) is closed with 1001.
#[tokio::test]
async fn the_server_pings_and_closes_a_silent_socket() {
    let app = spawn_app_with(Backend::Sqlite, |c| {
        c.live.ping_every = Duration::from_millis(100);
        c.live.silence_limit = Duration::from_millis(400);
    })
    .await;
    let ann = app.register("ann@example.com").await;

    let mut lively = connect(&app, Some(&ann.token), None).await.unwrap();
    let ping = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Message::Ping(_) = lively.next().await.unwrap().unwrap() {
                break;
            }
        }
    })
    .await;
    assert!(ping.is_ok(), "a ping within 5 s");

    // The silent client is raw TCP: it upgrades, then never writes a byte (a WebSocket
    // library would answer pings as soon as it reads).
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut silent = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let request = format!(
        "GET /live HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Cookie: ll_session={}\r\n\r\n",
        ann.token
    );
    silent.write_all(request.as_bytes()).await.unwrap();
    // The lively socket keeps answering (reading answers pings); the silent one does not.
    let reader = tokio::spawn(async move { while let Some(Ok(_)) = lively.next().await {} });
    eventually("the silent socket to be dropped", || {
        app.hub.stats().connections == 1
    })
    .await;
    let mut bytes = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), silent.read_to_end(&mut bytes))
        .await
        .expect("the server closes the connection")
        .unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.starts_with("HTTP/1.1 101"), "{text}");
    let frames = parse_server_frames(&bytes[text.find("\r\n\r\n").unwrap() + 4..]);
    let pings = frames.iter().filter(|(op, _)| *op == 0x9).count();
    assert!(pings >= 2, "pinged before giving up: {frames:?}");
    let closed = frames
        .iter()
        .find(|(op, _)| *op == 0x8)
        .map(|(_, payload)| u64::from(u16::from_be_bytes([payload[0], payload[1]])));
    assert_eq!(closed, Some(1001));
    assert_eq!(app.hub.stats().connections, 1, "the answering socket stays");
    reader.abort();
}

async fn a_broadcast_reaches_every_socket_once_and_is_never_replayed(app: TestApp) {
    use app::live::{catalog::Announcement, Event};
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let own = format!("ws:{}", ann.personal_ws);
    let (mut ann_ws, _) = open(&app, &ann, &[(&own, 0)]).await;
    // Bob follows nothing at all: broadcasts need no subscription.
    let mut bob_ws = connect(&app, Some(&bob.token), None).await.unwrap();
    assert_eq!(next(&mut bob_ws).await["type"], "hello");
    let sent = app
        .hub
        .broadcast(Event::SystemAnnouncement(Announcement {
            title: "Maintenance".into(),
            message: "At 22:00 UTC".into(),
        }))
        .await;
    assert_eq!(sent, 2);
    for ws in [&mut ann_ws, &mut bob_ws] {
        let frame = next(ws).await;
        assert_eq!(
            (
                frame["event"].as_str(),
                frame["stream"].as_str(),
                frame["seq"].as_i64()
            ),
            (Some("system:announcement"), Some("system"), Some(0)),
            "{frame}"
        );
        assert_eq!(frame["data"]["title"], "Maintenance");
        assert_eq!(frame["priority"], "high");
    }
    // Then the next frame is ordinary again: it came once.
    app.create_expense(&ann, ann.personal_ws, "1", "after")
        .await;
    assert_eq!(next(&mut ann_ws).await["data"]["description"], "after");
    // Not logged: a resume replays nothing of it, and there is nothing to poll.
    let (_, resumed) = open(&app, &ann, &[(&own, 0)]).await;
    assert!(resumed["replayed"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["event"] != "system:announcement"));
    let (_, polled) = app.poll(&ann, &[("system", 0)]).await;
    assert_eq!(polled["denied"], json!(["system"]));
}

/// Writers hand their committed events to the hub, whose delivery skips the log while
/// they continue its mark. With four writers racing, every event must reach the socket
/// once, in order, on its team stream and on the user stream that carries the
/// notifications the others' writes cause. (This test's runtime has one thread, so the
/// wakes come in commit order here; wakes out of order are the next test's.)
async fn concurrent_writers_reach_a_socket_once_each_in_order(app: TestApp) {
    const PER_WRITER: usize = 10;
    let ann = app.register("ann@example.com").await;
    let (team, writers) = app.team_of(&ann, "Busy", 3).await;
    let stream = format!("ws:{team}");
    let own = format!("user:{}", ann.id);
    let head = app.expenses(&ann, team).await["cursor"].as_i64().unwrap();
    let (_, mine) = app.poll(&ann, &[(&own, 0)]).await;
    let own_head = mine["cursors"][0]["after"].as_i64().unwrap();
    let (mut ws, _) = open(&app, &ann, &[(&stream, head), (&own, own_head)]).await;

    let app = std::sync::Arc::new(app);
    let mut tasks = tokio::task::JoinSet::new();
    let total = (writers.len() * PER_WRITER) as i64;
    for (w, user) in writers.into_iter().enumerate() {
        for i in 0..PER_WRITER {
            let (app, user) = (app.clone(), user.clone());
            tasks.spawn(async move {
                let (status, body) = app
                    .create_expense(&user, team, &format!("{}.{i:02}", w + 1), "race")
                    .await;
                assert_eq!(status, StatusCode::OK, "{body}");
            });
        }
    }
    tasks.join_all().await;

    let (mut team_seqs, mut own_seqs) = (Vec::new(), Vec::new());
    while team_seqs.len() < total as usize {
        let frame = next(&mut ws).await;
        assert_eq!(frame["type"], "event", "{frame}");
        let seq = frame["seq"].as_i64().unwrap();
        match frame["stream"].as_str() {
            Some(s) if s == stream => team_seqs.push(seq),
            Some(s) if s == own => own_seqs.push(seq),
            other => panic!("a frame of {other:?}"),
        }
    }
    assert_eq!(
        team_seqs,
        (head + 1..=head + total).collect::<Vec<_>>(),
        "each team event once, in order"
    );
    let expected: Vec<i64> = (own_head + 1..).take(own_seqs.len()).collect();
    assert_eq!(own_seqs, expected, "each notification once, in order");
}
