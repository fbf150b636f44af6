use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, User};

crate::on_both_backends!(
    earnings_have_a_derived_rate_and_can_be_edited_and_deleted,
    earnings_are_validated,
    platforms_are_per_workspace,
    a_deleted_earning_can_be_restored_once,
);

async fn first_platform(app: &TestApp, user: &User, ws: i64) -> String {
    let (_, list) = app
        .call_as(user, "earnings/list", &[("workspace_id", &ws.to_string())])
        .await;
    list["platforms"][0]["id"].as_i64().unwrap().to_string()
}

async fn earn(
    app: &TestApp,
    user: &User,
    ws: i64,
    platform: &str,
    hours: &str,
    amount: &str,
) -> (StatusCode, Value) {
    app.call_as(
        user,
        "earnings/create",
        &[
            ("workspace_id", &ws.to_string()),
            ("platform_id", platform),
            ("date", "2026-11-02"),
            ("hours", hours),
            ("amount", amount),
            ("currency", "USD"),
            ("notes", "Logo design"),
        ],
    )
    .await
}

async fn earnings_have_a_derived_rate_and_can_be_edited_and_deleted(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let ws = ann.personal_ws;
    let platform = first_platform(&app, &ann, ws).await;
    let (status, e) = earn(&app, &ann, ws, &platform, "2.5", "250").await;
    assert_eq!(status, StatusCode::OK, "{e}");
    assert_eq!(
        (e["hours_centi"].as_i64(), e["amount_minor"].as_i64()),
        (Some(250), Some(25000))
    );
    let id = e["id"].as_i64().unwrap().to_string();

    let ws_s = ws.to_string();
    let (status, e) = app
        .call_as(
            &ann,
            "earnings/update",
            &[
                ("workspace_id", &ws_s),
                ("id", &id),
                ("platform_id", &platform),
                ("date", "2026-11-03"),
                ("hours", "3"),
                ("amount", "200"),
                ("currency", "USD"),
                ("notes", "Revised"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{e}");
    let (_, list) = app
        .call_as(&ann, "earnings/list", &[("workspace_id", &ws_s)])
        .await;
    assert_eq!(list["items"][0]["notes"], "Revised");
    assert_eq!(list["totals"], serde_json::json!([["USD", 20000]]));
    assert_eq!(list["total_hours_centi"], 300);

    let (status, _) = app
        .call_as(
            &ann,
            "earnings/delete",
            &[("workspace_id", &ws_s), ("id", &id)],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, list) = app
        .call_as(&ann, "earnings/list", &[("workspace_id", &ws_s)])
        .await;
    assert_eq!(list["count"], 0);
}

async fn earnings_are_validated(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let ws = ann.personal_ws;
    let platform = first_platform(&app, &ann, ws).await;
    for (field, platform, hours, amount) in [
        ("hours", platform.as_str(), "1.234", "10"),
        ("hours", &platform, "-2", "10"),
        ("hours", &platform, "5000", "10"),
        ("amount", &platform, "1", "0"),
        ("amount", &platform, "1", "ten"),
        ("platform_id", "999999", "1", "10"),
        ("platform_id", "abc", "1", "10"),
    ] {
        let (status, body) = earn(&app, &ann, ws, platform, hours, amount).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {body}");
        assert_eq!(body["field"], field, "{body}");
    }
    let (_, list) = app
        .call_as(&ann, "earnings/list", &[("workspace_id", &ws.to_string())])
        .await;
    assert_eq!(list["count"], 0, "nothing was written");
}

async fn platforms_are_per_workspace(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let ws_s = ann.personal_ws.to_string();
    let (status, p) = app
        .call_as(
            &ann,
            "earnings/platforms/create",
            &[
                ("workspace_id", &ws_s),
                ("name", "Etsy"),
                ("color", "#F56400"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{p}");
    assert_eq!(p["color"], "#f56400");
    let (status, body) = app
        .call_as(
            &ann,
            "earnings/platforms/create",
            &[
                ("workspace_id", &ws_s),
                ("name", "Etsy"),
                ("color", "#000000"),
            ],
        )
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::CONFLICT, Some("name"))
    );
    let (status, body) = app
        .call_as(
            &ann,
            "earnings/platforms/create",
            &[("workspace_id", &ws_s), ("name", "Red"), ("color", "red")],
        )
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("color"))
    );

    // Bob cannot book an earning on Ann's platform, not even in his own workspace.
    let anns_platform = p["id"].as_i64().unwrap().to_string();
    let (status, body) = earn(&app, &bob, bob.personal_ws, &anns_platform, "1", "10").await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("platform_id"))
    );
}

async fn a_deleted_earning_can_be_restored_once(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let ws = ann.personal_ws;
    let ws_s = ws.to_string();
    let platform = first_platform(&app, &ann, ws).await;
    let (_, e) = earn(&app, &ann, ws, &platform, "2", "120").await;
    let id = e["id"].as_i64().unwrap().to_string();
    let before = app
        .call_as(&ann, "earnings/list", &[("workspace_id", &ws_s)])
        .await
        .1;
    // Not deleted: nothing to restore.
    let (status, _) = app
        .call_as(
            &ann,
            "earnings/restore",
            &[("workspace_id", &ws_s), ("id", &id)],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = app
        .call_as(
            &ann,
            "earnings/delete",
            &[("workspace_id", &ws_s), ("id", &id)],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // Someone else's workspace: not found.
    let bob = app.register("bob@example.com").await;
    let (status, _) = app
        .call_as(
            &bob,
            "earnings/restore",
            &[("workspace_id", &ws_s), ("id", &id)],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = app
        .call_as(
            &ann,
            "earnings/restore",
            &[("workspace_id", &ws_s), ("id", &id)],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let after = app
        .call_as(&ann, "earnings/list", &[("workspace_id", &ws_s)])
        .await
        .1;
    assert_eq!(after["items"], before["items"]);
    assert_eq!(after["totals"], before["totals"]);
    let events = app.events(&ann, &format!("ws:{ws}")).await;
    let last = events.last().unwrap();
    assert_eq!(
        (
            &last["event"],
            last["data"]["id"].as_i64().unwrap().to_string()
        ),
        (&serde_json::json!("earnings:new"), id.clone())
    );
    // Once only.
    let (status, _) = app
        .call_as(
            &ann,
            "earnings/restore",
            &[("workspace_id", &ws_s), ("id", &id)],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
}
