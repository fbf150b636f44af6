//! Budgets: spending announced live, `budget:warning` at 80 % and `budget:exceeded` at
//! 100 % raised once per period to every member, re-armed by edits and deletes.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, User};

crate::on_both_backends!(
    alerts_are_raised_once_per_period_to_every_member,
    edits_and_deletes_recompute_and_rearm,
    a_new_limit_can_cross_a_threshold_and_bad_input_writes_nothing,
);

fn today() -> String {
    app::dates::today_iso()
}

/// The month before today's, as 'YYYY-MM-15'.
fn last_month() -> String {
    let days = app::dates::parse_iso_date(&today()).unwrap();
    let (_, _, d) = app::dates::civil_from_days(days);
    let end_of_last = app::dates::format_iso_date(days - d as i64);
    format!("{}-15", &end_of_last[..7])
}

fn of_kind<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["event"] == kind).collect()
}

async fn spend(
    app: &TestApp,
    user: &User,
    ws: i64,
    amount: &str,
    category: &str,
    date: &str,
) -> i64 {
    let ws = ws.to_string();
    let (status, body) = app
        .call_as(
            user,
            "expenses/create",
            &[
                ("workspace_id", &ws),
                ("amount", amount),
                ("currency", "EUR"),
                ("category", category),
                ("description", "spent"),
                ("date", date),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["id"].as_i64().unwrap()
}

async fn set_budget(
    app: &TestApp,
    user: &User,
    ws: i64,
    category: &str,
    limit: &str,
) -> (StatusCode, Value) {
    app.call_as(
        user,
        "budgets/set",
        &[
            ("workspace_id", &ws.to_string()),
            ("category", category),
            ("currency", "EUR"),
            ("limit", limit),
        ],
    )
    .await
}

async fn ws_events(app: &TestApp, user: &User, ws: i64) -> Vec<Value> {
    app.events(user, &format!("ws:{ws}")).await
}

/// The titles of `user`'s notifications, oldest first.
async fn notified(app: &TestApp, user: &User) -> Vec<String> {
    let events = app.events(user, &format!("user:{}", user.id)).await;
    of_kind(&events, "notification:created")
        .iter()
        .map(|e| e["data"]["title"].as_str().unwrap().to_owned())
        .collect()
}

async fn alerts_are_raised_once_per_period_to_every_member(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let cat = app.register("cat@example.com").await;
    let eve = app.register("eve@example.com").await;
    let ws = app.team(&ann, "Studio").await;
    app.add_member(&ann, ws, &bob, "member").await;
    app.add_member(&ann, ws, &cat, "viewer").await;
    let month = today()[..7].to_owned();

    let (status, budget) = set_budget(&app, &ann, ws, "food", "100").await;
    assert_eq!(status, StatusCode::OK, "{budget}");
    assert_eq!(
        (
            budget["category"].as_str(),
            budget["limit_minor"].as_i64(),
            budget["spent_minor"].as_i64(),
            budget["month"].as_str()
        ),
        (Some("Food"), Some(10_000), Some(0), Some(month.as_str()))
    );

    for amount in ["50", "30", "5", "20", "1"] {
        spend(&app, &bob, ws, amount, "Food", &today()).await;
    }
    // Other categories and other months do not count towards this period.
    spend(&app, &bob, ws, "500", "Travel", &today()).await;
    spend(&app, &bob, ws, "99", "Food", &last_month()).await;

    let events = ws_events(&app, &ann, ws).await;
    let spent: Vec<(i64, &str)> = of_kind(&events, "budget:updated")
        .iter()
        .map(|e| {
            (
                e["data"]["spent_minor"].as_i64().unwrap(),
                e["data"]["month"].as_str().unwrap(),
            )
        })
        .collect();
    let last = last_month()[..7].to_owned();
    assert_eq!(
        spent,
        vec![
            (5_000, month.as_str()),
            (8_000, month.as_str()),
            (8_500, month.as_str()),
            (10_500, month.as_str()),
            (10_600, month.as_str()),
            (9_900, last.as_str()),
        ]
    );
    let warnings: Vec<(i64, &str)> = of_kind(&events, "budget:warning")
        .iter()
        .map(|e| {
            (
                e["data"]["spent_minor"].as_i64().unwrap(),
                e["data"]["month"].as_str().unwrap(),
            )
        })
        .collect();
    // This month's at 80 (once, not again at 85), last month's 99 in its own period.
    assert_eq!(
        warnings,
        vec![(8_000, month.as_str()), (9_900, last.as_str())]
    );
    let exceeded = of_kind(&events, "budget:exceeded");
    assert_eq!(exceeded.len(), 1, "{events:?}");
    assert_eq!(exceeded[0]["data"]["spent_minor"], 10_500);
    assert_eq!(exceeded[0]["priority"], "critical");

    // Every member hears of each alert once, including bob who caused it; viewers too.
    for user in [&ann, &bob, &cat] {
        let titles = notified(&app, user).await;
        let at = |t: &str| titles.iter().filter(|x| x.as_str() == t).count();
        assert_eq!(at("Food budget at 80 % in Studio"), 1, "{titles:?}");
        assert_eq!(at("Food budget at 99 % in Studio"), 1, "{titles:?}");
        assert_eq!(at("Food budget exceeded in Studio"), 1, "{titles:?}");
    }
    // Nobody outside the workspace sees its budgets.
    let (status, _) = app
        .call_as(&eve, "budgets/list", &[("workspace_id", &ws.to_string())])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, polled) = app.poll(&eve, &[(&format!("ws:{ws}"), 0)]).await;
    assert!(polled["events"].as_array().unwrap().is_empty());

    let (status, list) = app
        .call_as(&cat, "budgets/list", &[("workspace_id", &ws.to_string())])
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["month"], month.as_str());
    assert_eq!(list["items"][0]["spent_minor"], 10_600);
    assert_eq!(list["cursor"], events.last().unwrap()["seq"]);
}

async fn edits_and_deletes_recompute_and_rearm(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let ws = ann.personal_ws;
    set_budget(&app, &ann, ws, "Food", "100").await;
    let small = spend(&app, &ann, ws, "10", "Food", &today()).await;
    // 10 → 120: both thresholds at once, only the excess is announced.
    let big = spend(&app, &ann, ws, "110", "Food", &today()).await;
    let events = ws_events(&app, &ann, ws).await;
    assert_eq!(of_kind(&events, "budget:warning").len(), 0);
    assert_eq!(of_kind(&events, "budget:exceeded").len(), 1);
    assert_eq!(
        notified(&app, &ann).await,
        vec!["Food budget exceeded in ann's workspace"]
    );

    // Deleting the big one takes spending back to 10: both alerts re-arm quietly.
    let (status, _) = app
        .call_as(
            &ann,
            "expenses/delete",
            &[("workspace_id", &ws.to_string()), ("id", &big.to_string())],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let after_delete = ws_events(&app, &ann, ws).await;
    let last = after_delete.last().unwrap();
    assert_eq!(
        (last["event"].as_str(), last["data"]["spent_minor"].as_i64()),
        (Some("budget:updated"), Some(1_000))
    );

    // Editing the small one up to 85 crosses 80 % again: a second warning.
    let ws_s = ws.to_string();
    let edit = |amount: &'static str, category: &'static str| {
        let small = small.to_string();
        let ws_s = ws_s.clone();
        let app = &app;
        let ann = &ann;
        async move {
            let (status, body) = app
                .call_as(
                    ann,
                    "expenses/update",
                    &[
                        ("workspace_id", ws_s.as_str()),
                        ("id", small.as_str()),
                        ("amount", amount),
                        ("currency", "EUR"),
                        ("category", category),
                        ("description", "edited"),
                        ("date", today().as_str()),
                    ],
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
    };
    edit("85", "Food").await;
    // Only the description changes: spending does not move, nothing is announced.
    let before = ws_events(&app, &ann, ws).await.len();
    edit("85", "Food").await;
    assert_eq!(ws_events(&app, &ann, ws).await.len(), before + 1);
    // Moving it to another category takes it out of the budget.
    edit("85", "Travel").await;
    let events = ws_events(&app, &ann, ws).await;
    assert_eq!(of_kind(&events, "budget:warning").len(), 1);
    let last = events.last().unwrap();
    assert_eq!(
        (last["event"].as_str(), last["data"]["spent_minor"].as_i64()),
        (Some("budget:updated"), Some(0))
    );
    // A bulk delete recomputes too (one budget event for the whole batch).
    let a = spend(&app, &ann, ws, "90", "Food", &today()).await;
    let b = spend(&app, &ann, ws, "20", "Food", &today()).await;
    let before = ws_events(&app, &ann, ws).await.len();
    let (status, body) = app
        .call_as(
            &ann,
            "expenses/delete-many",
            &[
                ("workspace_id", &ws.to_string()),
                ("ids[0]", &a.to_string()),
                ("ids[1]", &b.to_string()),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let events = ws_events(&app, &ann, ws).await;
    let new: Vec<_> = events[before..]
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(new, vec!["expenses:bulk-deleted", "budget:updated"]);
    assert_eq!(events.last().unwrap()["data"]["spent_minor"], 0);
    assert_eq!(
        of_kind(&events, "budget:warning").len(),
        2,
        "90 crossed 80 % again"
    );
    assert_eq!(
        of_kind(&events, "budget:exceeded").len(),
        2,
        "110 crossed 100 % again"
    );
}

async fn a_new_limit_can_cross_a_threshold_and_bad_input_writes_nothing(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let ws = app.team(&ann, "Studio").await;
    app.add_member(&ann, ws, &bob, "viewer").await;
    spend(&app, &ann, ws, "90", "Software", &today()).await;
    let (status, b) = set_budget(&app, &ann, ws, "Software", "200").await;
    assert_eq!(status, StatusCode::OK, "{b}");
    assert_eq!(b["spent_minor"], 9_000);
    let before = ws_events(&app, &ann, ws).await;

    // Refused or invalid: nothing stored, nothing announced.
    let (status, _) = set_budget(&app, &bob, ws, "Software", "50").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for (category, limit, field) in [
        ("Software", "0", "limit"),
        ("Software", "abc", "limit"),
        ("Yachts", "10", "category"),
    ] {
        let (status, body) = set_budget(&app, &ann, ws, category, limit).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["field"], field);
    }
    let (status, _) = app
        .call_as(
            &ann,
            "budgets/delete",
            &[("workspace_id", &ws.to_string()), ("id", "999999")],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(ws_events(&app, &ann, ws).await, before);

    // Lowering the limit to 100 puts the 90 spent at 90 %: a warning, once.
    let (status, b) = set_budget(&app, &ann, ws, "Software", "100").await;
    assert_eq!(status, StatusCode::OK, "{b}");
    set_budget(&app, &ann, ws, "Software", "110").await;
    let events = ws_events(&app, &ann, ws).await;
    let new: Vec<_> = events[before.len()..]
        .iter()
        .map(|e| {
            (
                e["event"].as_str().unwrap(),
                e["data"]["limit_minor"].as_i64(),
            )
        })
        .collect();
    assert_eq!(
        new,
        vec![
            ("budget:updated", Some(10_000)),
            ("budget:warning", Some(10_000)),
            ("budget:updated", Some(11_000)),
        ]
    );
    let id = b["id"].as_i64().unwrap().to_string();
    let (status, _) = app
        .call_as(
            &ann,
            "budgets/delete",
            &[("workspace_id", &ws.to_string()), ("id", &id)],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let events = ws_events(&app, &bob, ws).await;
    assert_eq!(events.last().unwrap()["event"], "budget:deleted");
    let (_, list) = app
        .call_as(&bob, "budgets/list", &[("workspace_id", &ws.to_string())])
        .await;
    assert!(list["items"].as_array().unwrap().is_empty());
}
