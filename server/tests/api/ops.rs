//! The operator's view: `/metrics` (Prometheus / OpenMetrics text), behind the
//! operator token.

use reqwest::StatusCode;

use crate::helpers::{spawn_app_with, Backend, TestApp, OPERATOR_TOKEN};

crate::on_both_backends!(metrics_count_connections_events_polls_and_requests);

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
