//! The operator's view: `/metrics` (Prometheus / OpenMetrics text), behind the
//! operator token.

use reqwest::StatusCode;

use serde_json::json;

use crate::{
    helpers::{spawn_app, spawn_app_with, Backend, TestApp, OPERATOR_TOKEN},
    socket::{connect, next, open},
};

async fn ops(
    app: &TestApp,
    path: &str,
    token: &str,
    body: serde_json::Value,
) -> (StatusCode, serde_json::Value) {
    let res = app
        .http
        .post(format!("{}{path}", app.base))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(serde_json::Value::Null))
}

crate::on_both_backends!(
    metrics_count_connections_events_polls_and_requests,
    force_disconnect_revokes_sessions_and_closes_only_that_users_sockets,
    announcements_reach_every_socket_and_bad_ones_are_refused,
    owners_and_admins_see_who_is_connected_to_their_workspace,
);

async fn scrape(app: &TestApp, token: Option<&str>) -> (StatusCode, String) {
    let mut req = app.http.get(format!("{}/metrics", app.base));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

/// The value of one sample line, e.g. `liveledger_live_connections`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

async fn metrics_count_connections_events_polls_and_requests(app: TestApp) {
    assert_eq!(scrape(&app, None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        scrape(&app, Some("operator-token-for-the-tests-0123456789abcdeX"))
            .await
            .0,
        StatusCode::UNAUTHORIZED,
        "a token of the right length but wrong"
    );
    let ann = app.register("ann@example.com").await;
    let ws = ann.personal_ws;
    let url = format!("{}/live", app.base.replace("http://", "ws://"));
    let mut req =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(url)
            .unwrap();
    req.headers_mut().insert(
        "cookie",
        format!("ll_session={}", ann.token).parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    use futures_util::{SinkExt, StreamExt};
    socket.next().await.unwrap().unwrap(); // hello
    socket
        .send(tokio_tungstenite::tungstenite::Message::text(
            serde_json::json!({"type": "subscribe", "cursors": [{"stream": format!("ws:{ws}"), "after": 0}]})
                .to_string(),
        ))
        .await
        .unwrap();
    socket.next().await.unwrap().unwrap(); // subscribed
    for what in ["one", "two"] {
        app.create_expense(&ann, ws, "1", what).await;
        socket.next().await.unwrap().unwrap();
    }
    app.poll(&ann, &[(&format!("ws:{ws}"), 0)]).await;

    let (status, text) = scrape(&app, Some(OPERATOR_TOKEN)).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(
        sample(&text, "liveledger_live_connections"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(sample(&text, "liveledger_live_users"), Some(1.0));
    assert_eq!(sample(&text, "liveledger_live_rooms"), Some(1.0));
    let created = "{kind=\"expense:created\"}";
    assert_eq!(
        sample(
            &text,
            &format!("liveledger_live_events_emitted_total{created}")
        ),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            &format!("liveledger_live_events_delivered_total{created}")
        ),
        Some(2.0)
    );
    assert_eq!(
        sample(&text, "liveledger_live_poll_requests_total"),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            "liveledger_http_request_duration_seconds_count{method=\"POST\",route=\"/api/expenses/create\",status=\"200\"}"
        ),
        Some(2.0),
        "{text}"
    );
    assert!(text.ends_with("# EOF\n"));
    assert!(!text.contains(&ann.token), "no secrets in metrics");
}

#[tokio::test]
async fn metrics_do_not_exist_without_an_operator_token() {
    let app = spawn_app_with(Backend::Sqlite, |c| c.operator_token = None).await;
    assert_eq!(
        scrape(&app, Some(OPERATOR_TOKEN)).await.0,
        StatusCode::NOT_FOUND
    );
}

async fn force_disconnect_revokes_sessions_and_closes_only_that_users_sockets(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let (mut ann_ws, _) = open(&app, &ann, &[(&format!("ws:{}", ann.personal_ws), 0)]).await;
    let (mut bob_ws, _) = open(&app, &bob, &[(&format!("ws:{}", bob.personal_ws), 0)]).await;
    let path = format!("/ops/users/{}/disconnect", ann.id);

    let (status, _) = ops(
        &app,
        &path,
        "not-the-operator-token-not-the-operator",
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = ops(
        &app,
        "/ops/users/999999/disconnect",
        OPERATOR_TOKEN,
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, body) = ops(&app, &path, OPERATOR_TOKEN, json!({})).await;
    assert_eq!(
        (status, body["sockets_closed"].as_u64()),
        (StatusCode::OK, Some(1)),
        "{body}"
    );
    let notice = next(&mut ann_ws).await;
    assert_eq!(
        (
            notice["event"].as_str(),
            notice["stream"].as_str(),
            notice["seq"].as_i64()
        ),
        (
            Some("session:revoked"),
            Some(format!("user:{}", ann.id)).as_deref(),
            Some(0)
        ),
        "{notice}"
    );
    assert_eq!(
        next(&mut ann_ws).await,
        json!({"type": "closed", "code": 4001})
    );
    // The old token is dead everywhere: API and socket.
    let (status, _) = app
        .call_as(
            &ann,
            "expenses/list",
            &[("workspace_id", &ann.personal_ws.to_string())],
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let refused = connect(&app, Some(&ann.token), None).await.unwrap_err();
    assert!(refused.to_string().contains("401"), "{refused}");
    // Bob carries on.
    app.create_expense(&bob, bob.personal_ws, "1", "still here")
        .await;
    assert_eq!(next(&mut bob_ws).await["data"]["description"], "still here");
}

async fn announcements_reach_every_socket_and_bad_ones_are_refused(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let mut sockets = Vec::new();
    for user in [&ann, &bob] {
        let mut ws = connect(&app, Some(&user.token), None).await.unwrap();
        assert_eq!(next(&mut ws).await["type"], "hello");
        sockets.push(ws);
    }
    for bad in [
        json!({"title": " ", "message": "x"}),
        json!({"title": "t".repeat(101), "message": ""}),
        json!({"title": "t", "message": "m".repeat(501)}),
    ] {
        let (status, body) = ops(&app, "/ops/announce", OPERATOR_TOKEN, bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
    let res = app
        .http
        .post(format!("{}/ops/announce", app.base))
        .bearer_auth(OPERATOR_TOKEN)
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let (status, _) = ops(
        &app,
        "/ops/announce",
        "nope-nope-nope-nope-nope-nope-nope-nope",
        json!({"title": "t", "message": "m"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, body) = ops(
        &app,
        "/ops/announce",
        OPERATOR_TOKEN,
        json!({"title": "Maintenance", "message": "At 22:00 UTC"}),
    )
    .await;
    assert_eq!(
        (status, body["sockets"].as_u64()),
        (StatusCode::OK, Some(2)),
        "{body}"
    );
    for ws in &mut sockets {
        let frame = next(ws).await;
        assert_eq!(
            (frame["event"].as_str(), frame["data"]["title"].as_str()),
            (Some("system:announcement"), Some("Maintenance"))
        );
    }
}

/// On PostgreSQL, an operator's command reaches every instance, and each socket once.
#[tokio::test]
async fn operator_commands_reach_every_postgres_instance_once() {
    let a = spawn_app(Backend::Postgres).await;
    let b = a.another_instance().await;
    let ann = a.register("ann@example.com").await;
    let own = format!("ws:{}", ann.personal_ws);
    let (mut on_a, _) = open(&a, &ann, &[(&own, 0)]).await;
    let (mut on_b, _) = open(&b, &ann, &[(&own, 0)]).await;

    let (status, _) = ops(
        &a,
        "/ops/announce",
        OPERATOR_TOKEN,
        json!({"title": "Hello", "message": ""}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for ws in [&mut on_a, &mut on_b] {
        assert_eq!(next(ws).await["event"], "system:announcement");
    }
    // Once: the next frame on each is the expense, not a second announcement.
    a.create_expense(&ann, ann.personal_ws, "1", "marker").await;
    for ws in [&mut on_a, &mut on_b] {
        assert_eq!(next(ws).await["data"]["description"], "marker");
    }

    let (status, _) = ops(
        &a,
        &format!("/ops/users/{}/disconnect", ann.id),
        OPERATOR_TOKEN,
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for ws in [&mut on_a, &mut on_b] {
        assert_eq!(next(ws).await["event"], "session:revoked");
        assert_eq!(next(ws).await, json!({"type": "closed", "code": 4001}));
    }
}

async fn owners_and_admins_see_who_is_connected_to_their_workspace(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let cat = app.register("cat@example.com").await;
    let team = app.team(&ann, "Studio").await;
    app.add_member(&ann, team, &bob, "member").await;
    app.add_member(&ann, team, &cat, "admin").await;
    let stream = format!("ws:{team}");
    let (_tab1, _) = open(&app, &bob, &[(&stream, 0)]).await;
    let (_tab2, _) = open(&app, &bob, &[(&stream, 0)]).await;
    // A socket that follows only Cat's own workspace does not count here.
    let (_elsewhere, _) = open(&app, &cat, &[(&format!("ws:{}", cat.personal_ws), 0)]).await;
    let team_of = |user| {
        let app = &app;
        async move {
            let (status, body) = app
                .call_as(
                    user,
                    "workspaces/team",
                    &[("workspace_id", &team.to_string())],
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body["connected"].clone()
        }
    };
    assert_eq!(team_of(&ann).await, json!([[bob.id, 2]]));
    assert_eq!(
        team_of(&cat).await,
        json!([[bob.id, 2]]),
        "admins see it too"
    );
    assert_eq!(
        team_of(&bob).await,
        serde_json::Value::Null,
        "members do not"
    );
}
