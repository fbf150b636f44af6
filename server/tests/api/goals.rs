//! Goals: contributions announced live, each milestone completed once (lowest first),
//! the goal achieved once, every member told; bad input writes nothing.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, User};

crate::on_both_backends!(
    contributions_complete_milestones_once_and_achieve_the_goal,
    custom_milestones_a_lowered_target_and_bad_input,
);

async fn call(
    app: &TestApp,
    user: &User,
    what: &str,
    args: &[(&str, &str)],
) -> (StatusCode, Value) {
    app.call_as(user, &format!("goals/{what}"), args).await
}

async fn new_goal(app: &TestApp, user: &User, ws: i64, target: &str, milestones: &str) -> i64 {
    let (status, goal) = call(
        app,
        user,
        "create",
        &[
            ("workspace_id", &ws.to_string()),
            ("name", "Laptop"),
            ("target", target),
            ("currency", "EUR"),
            ("milestones", milestones),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{goal}");
    goal["id"].as_i64().unwrap()
}

async fn give(app: &TestApp, user: &User, ws: i64, id: i64, amount: &str) -> (StatusCode, Value) {
    call(
        app,
        user,
        "contribute",
        &[
            ("workspace_id", &ws.to_string()),
            ("id", &id.to_string()),
            ("amount", amount),
        ],
    )
    .await
}

/// The workspace's goal events after `from`, as (kind, detail): saved for goal events,
/// the percent for milestones.
async fn goal_events(app: &TestApp, user: &User, ws: i64, from: usize) -> Vec<(String, i64)> {
    let events = app.events(user, &format!("ws:{ws}")).await;
    events[from..]
        .iter()
        .map(|e| {
            let kind = e["event"].as_str().unwrap().to_owned();
            let detail = if kind == "milestone:completed" {
                e["data"]["percent"].as_i64().unwrap()
            } else {
                e["data"]["saved_minor"].as_i64().unwrap_or(-1)
            };
            (kind, detail)
        })
        .collect()
}

async fn count(app: &TestApp, user: &User, ws: i64) -> usize {
    app.events(user, &format!("ws:{ws}")).await.len()
}

async fn titles(app: &TestApp, user: &User) -> Vec<String> {
    app.events(user, &format!("user:{}", user.id))
        .await
        .iter()
        .filter(|e| e["event"] == "notification:created")
        .map(|e| e["data"]["title"].as_str().unwrap().to_owned())
        .collect()
}

fn ev(kind: &str, detail: i64) -> (String, i64) {
    (kind.to_owned(), detail)
}

async fn contributions_complete_milestones_once_and_achieve_the_goal(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let ws = app.team(&ann, "Studio").await;
    app.add_member(&ann, ws, &bob, "member").await;
    let start = count(&app, &ann, ws).await;
    let id = new_goal(&app, &ann, ws, "1000", "").await;
    let events = app.events(&bob, &format!("ws:{ws}")).await;
    let created = &events[start];
    assert_eq!(created["event"], "goal:created");
    assert_eq!(created["data"]["target_minor"], 100_000);
    assert_eq!(
        created["data"]["milestones"],
        serde_json::json!([
            {"percent": 25, "reached": false}, {"percent": 50, "reached": false},
            {"percent": 75, "reached": false}, {"percent": 100, "reached": false}
        ])
    );

    let from = count(&app, &ann, ws).await;
    for amount in ["200", "400", "400", "100"] {
        let (status, body) = give(&app, &bob, ws, id, amount).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    assert_eq!(
        goal_events(&app, &ann, ws, from).await,
        vec![
            ev("goal:updated", 20_000),
            ev("goal:updated", 60_000),
            ev("milestone:completed", 25),
            ev("milestone:completed", 50),
            ev("goal:updated", 100_000),
            ev("milestone:completed", 75),
            ev("milestone:completed", 100),
            ev("goal:achieved", 100_000),
            ev("goal:updated", 110_000),
        ]
    );
    // A higher target later: the goal stays achieved, nothing is announced twice.
    let from = count(&app, &ann, ws).await;
    let (status, goal) = call(
        &app,
        &ann,
        "update",
        &[
            ("workspace_id", &ws.to_string()),
            ("id", &id.to_string()),
            ("name", "Laptop"),
            ("target", "2000"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{goal}");
    assert_eq!(
        (goal["achieved"].as_bool(), goal["target_minor"].as_i64()),
        (Some(true), Some(200_000))
    );
    assert_eq!(
        goal_events(&app, &ann, ws, from).await,
        vec![ev("goal:updated", 110_000)]
    );

    // Milestones and the achievement reach every member once, the 100 % milestone
    // through the achievement only; what one contribution passed is one notification,
    // led by the latest (25 % and 50 % in one, 75 % with the achievement); the goal's
    // creation reaches the others only.
    for user in [&ann, &bob] {
        let t = titles(&app, user).await;
        let n = |x: &str| t.iter().filter(|y| y.as_str() == x).count();
        for m in ["Laptop: 50 % reached", "Goal achieved in Studio: Laptop"] {
            assert_eq!(n(m), 1, "{m} for user {}: {t:?}", user.id);
        }
        for m in [
            "Laptop: 25 % reached",
            "Laptop: 75 % reached",
            "Laptop: 100 % reached",
        ] {
            assert_eq!(n(m), 0, "{m} for user {}: {t:?}", user.id);
        }
        assert_eq!(n("New goal in Studio"), usize::from(user.id == bob.id));
        let messages: Vec<String> = app
            .events(user, &format!("user:{}", user.id))
            .await
            .iter()
            .filter_map(|e| e["data"]["message"].as_str().map(str::to_owned))
            .collect();
        assert!(
            messages.contains(
                &"A milestone of a goal in Studio. Also: Laptop: 25 % reached.".to_owned()
            ),
            "{messages:?}"
        );
        assert!(
            messages.contains(
                &"1,000.00 EUR of 1,000.00 EUR saved. Also: Laptop: 75 % reached.".to_owned()
            ),
            "{messages:?}"
        );
    }
    let (_, list) = call(&app, &bob, "list", &[("workspace_id", &ws.to_string())]).await;
    assert_eq!(list["items"][0]["saved_minor"], 110_000);
    assert_eq!(list["items"][0]["milestones"][3]["reached"], true);
}

async fn custom_milestones_a_lowered_target_and_bad_input(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let vic = app.register("vic@example.com").await;
    let eve = app.register("eve@example.com").await;
    let ws = app.team(&ann, "Studio").await;
    app.add_member(&ann, ws, &vic, "viewer").await;
    let id = new_goal(&app, &ann, ws, "100", "90, 10%").await;
    let from = count(&app, &ann, ws).await;
    give(&app, &ann, ws, id, "50").await;
    // Lowering the target to 55 puts 50 at 90 %: that milestone completes.
    let (status, _) = call(
        &app,
        &ann,
        "update",
        &[
            ("workspace_id", &ws.to_string()),
            ("id", &id.to_string()),
            ("name", "Laptop"),
            ("target", "55"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        goal_events(&app, &ann, ws, from).await,
        vec![
            ev("goal:updated", 5_000),
            ev("milestone:completed", 10),
            ev("goal:updated", 5_000),
            ev("milestone:completed", 90),
        ]
    );

    // Refused or invalid: nothing stored, nothing announced.
    let before = count(&app, &ann, ws).await;
    assert_eq!(give(&app, &vic, ws, id, "1").await.0, StatusCode::FORBIDDEN);
    assert_eq!(give(&app, &eve, ws, id, "1").await.0, StatusCode::NOT_FOUND);
    for amount in ["-5", "0", "1.001", "lots"] {
        let (status, body) = give(&app, &ann, ws, id, amount).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{amount}: {body}");
        assert_eq!(body["field"], "amount");
    }
    assert_eq!(
        give(&app, &ann, ws, 999_999, "1").await.0,
        StatusCode::NOT_FOUND
    );
    for (name, target, milestones, field) in [
        ("", "10", "", "name"),
        ("Car", "0", "", "target"),
        ("Car", "10", "0, 50", "milestones"),
        ("Car", "10", "150", "milestones"),
    ] {
        let (status, body) = call(
            &app,
            &ann,
            "create",
            &[
                ("workspace_id", &ws.to_string()),
                ("name", name),
                ("target", target),
                ("currency", "EUR"),
                ("milestones", milestones),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["field"], field);
    }
    let (status, _) = call(&app, &eve, "list", &[("workspace_id", &ws.to_string())]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(count(&app, &ann, ws).await, before);
    let (_, list) = call(&app, &ann, "list", &[("workspace_id", &ws.to_string())]).await;
    assert_eq!(list["items"][0]["saved_minor"], 5_000);

    let args = [("workspace_id", ws.to_string()), ("id", id.to_string())];
    let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        call(&app, &vic, "delete", &args).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(call(&app, &ann, "delete", &args).await.0, StatusCode::OK);
    assert_eq!(
        goal_events(&app, &vic, ws, before).await,
        vec![ev("goal:deleted", -1)]
    );
    assert_eq!(give(&app, &ann, ws, id, "1").await.0, StatusCode::NOT_FOUND);
}
