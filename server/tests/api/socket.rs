//! The WebSocket transport: authentication and origin on upgrade, delivery to current
//! members only, resume by cursor, and bad input that hurts nobody else.

use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest, Message};

use crate::helpers::{spawn_app, Backend, TestApp, User};

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

crate::on_both_backends!(
    upgrades_without_a_valid_session_or_from_another_site_are_refused,
    members_receive_their_workspace_events_live_and_nothing_else,
    a_reconnect_with_cursors_gets_every_missed_event_exactly_once,
    polling_returns_exactly_what_the_socket_delivers,
    bad_frames_get_errors_and_disturb_no_one_else,
    a_removed_member_stops_receiving_at_once,
    a_cursor_older_than_the_retention_gets_resync,
    a_frame_flood_is_closed_with_the_rate_limit_code,
    the_socket_closes_when_the_session_expires,
);

async fn connect(
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

/// The next text frame as JSON (pings are answered by the library).
async fn next(ws: &mut Ws) -> Value {
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

async fn open(app: &TestApp, user: &User, cursors: &[(&str, i64)]) -> (Ws, Value) {
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

    let (status, body) = app
        .call_as(
            &ann,
            "workspaces/remove-member",
            &[
                ("workspace_id", &team.to_string()),
                ("user_id", &bob.id.to_string()),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
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
    let pruned = app::server::outbox::prune(&app.db.pool, app::server::now_ms() + 1)
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

    let (status, body) = a
        .call_as(
            &ann,
            "workspaces/remove-member",
            &[
                ("workspace_id", &team.to_string()),
                ("user_id", &bob.id.to_string()),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    a.create_expense(&ann, team, "2", "after removal").await;
    // Once Ann's socket on b has it, b has fanned out everything of the team up to it.
    assert_eq!(next(&mut ann_on_b).await["event"], "member:left");
    assert_eq!(
        next(&mut ann_on_b).await["data"]["description"],
        "after removal"
    );
    a.create_expense(&bob, bob.personal_ws, "3", "sentinel")
        .await;
    let frame = next(&mut bob_on_b).await;
    assert_eq!(
        frame["data"]["description"], "sentinel",
        "nothing of the team reaches Bob on b after his removal on a: {frame}"
    );
}
