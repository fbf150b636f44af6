use reqwest::StatusCode;

use serde_json::Value;

use crate::helpers::{TestApp, User};

crate::on_both_backends!(
    create_edit_delete_an_expense,
    invalid_expenses_are_refused_and_write_nothing,
    bulk_delete_is_all_or_nothing,
    totals_are_per_currency,
    bulk_deletes_are_rate_limited_per_user,
    a_deletion_can_be_undone_once_for_a_minute,
);

async fn create_edit_delete_an_expense(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let ws = ann.personal_ws;
    let (status, e) = app
        .create_expense(&ann, ws, "1,234.5", "Laptop stand")
        .await;
    assert_eq!(status, StatusCode::OK, "{e}");
    assert_eq!(e["amount_minor"], 123450);
    assert_eq!(e["currency"], "EUR");
    assert_eq!(e["created_by"], ann.id);
    let id = e["id"].as_i64().unwrap().to_string();
    let ws_s = ws.to_string();

    let (status, e) = app
        .call_as(
            &ann,
            "expenses/update",
            &[
                ("workspace_id", &ws_s),
                ("id", &id),
                ("amount", "99.99"),
                ("currency", "usd"),
                ("category", "Equipment"),
                ("description", "Monitor arm"),
                ("date", "2026-10-01"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{e}");
    let list = app.expenses(&ann, ws).await;
    let item = &list["items"][0];
    assert_eq!(
        (
            item["amount_minor"].as_i64(),
            item["currency"].as_str(),
            item["category"].as_str(),
            item["description"].as_str(),
            item["spent_on"].as_str()
        ),
        (
            Some(9999),
            Some("USD"),
            Some("Equipment"),
            Some("Monitor arm"),
            Some("2026-10-01")
        )
    );

    let (status, _) = app
        .call_as(
            &ann,
            "expenses/delete",
            &[("workspace_id", &ws_s), ("id", &id)],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.expenses(&ann, ws).await["count"], 0);
    let (status, _) = app
        .call_as(
            &ann,
            "expenses/delete",
            &[("workspace_id", &ws_s), ("id", &id)],
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "deleting twice finds nothing"
    );
}

async fn invalid_expenses_are_refused_and_write_nothing(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let ws = ann.personal_ws.to_string();
    let long = "x".repeat(201);
    let cases: Vec<(&str, [(&str, &str); 5])> = vec![
        (
            "amount",
            [
                ("amount", "0"),
                ("currency", "EUR"),
                ("category", "Food"),
                ("description", ""),
                ("date", "2026-11-01"),
            ],
        ),
        (
            "amount",
            [
                ("amount", "-5"),
                ("currency", "EUR"),
                ("category", "Food"),
                ("description", ""),
                ("date", "2026-11-01"),
            ],
        ),
        (
            "amount",
            [
                ("amount", "12.345"),
                ("currency", "EUR"),
                ("category", "Food"),
                ("description", ""),
                ("date", "2026-11-01"),
            ],
        ),
        (
            "amount",
            [
                ("amount", "2000000000"),
                ("currency", "EUR"),
                ("category", "Food"),
                ("description", ""),
                ("date", "2026-11-01"),
            ],
        ),
        (
            "amount",
            [
                ("amount", "1e3"),
                ("currency", "EUR"),
                ("category", "Food"),
                ("description", ""),
                ("date", "2026-11-01"),
            ],
        ),
        (
            "currency",
            [
                ("amount", "5"),
                ("currency", "DOGE"),
                ("category", "Food"),
                ("description", ""),
                ("date", "2026-11-01"),
            ],
        ),
        (
            "category",
            [
                ("amount", "5"),
                ("currency", "EUR"),
                ("category", "Yachts"),
                ("description", ""),
                ("date", "2026-11-01"),
            ],
        ),
        (
            "description",
            [
                ("amount", "5"),
                ("currency", "EUR"),
                ("category", "Food"),
                ("description", &long),
                ("date", "2026-11-01"),
            ],
        ),
        (
            "date",
            [
                ("amount", "5"),
                ("currency", "EUR"),
                ("category", "Food"),
                ("description", ""),
                ("date", "2026-02-30"),
            ],
        ),
        (
            "date",
            [
                ("amount", "5"),
                ("currency", "EUR"),
                ("category", "Food"),
                ("description", ""),
                ("date", "yesterday"),
            ],
        ),
        (
            "date",
            [
                ("amount", "5"),
                ("currency", "EUR"),
                ("category", "Food"),
                ("description", ""),
                ("date", "2099-01-01"),
            ],
        ),
    ];
    for (field, form) in cases {
        let mut form = form.to_vec();
        form.push(("workspace_id", &ws));
        let (status, body) = app.call_as(&ann, "expenses/create", &form).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{form:?}");
        assert_eq!(body["kind"], "validation");
        assert_eq!(body["field"], field, "{form:?}: {body}");
        assert!(!body["message"].as_str().unwrap().is_empty());
    }
    // A missing field is a clear request error, not a crash.
    let (status, body) = app
        .call_as(
            &ann,
            "expenses/create",
            &[("workspace_id", &ws), ("amount", "5")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        app.expenses(&ann, ann.personal_ws).await["count"],
        0,
        "nothing was written"
    );

    // An edit with bad input leaves the stored expense as it was.
    let (_, e) = app
        .create_expense(&ann, ann.personal_ws, "7", "keep me")
        .await;
    let id = e["id"].as_i64().unwrap().to_string();
    let (status, _) = app
        .update_expense(&ann, ann.personal_ws, &id, "-1", "changed")
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let list = app.expenses(&ann, ann.personal_ws).await;
    assert_eq!(
        (
            list["items"][0]["amount_minor"].as_i64(),
            list["items"][0]["description"].as_str()
        ),
        (Some(700), Some("keep me"))
    );
}

async fn bulk_delete_is_all_or_nothing(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let ws = ann.personal_ws;
    let mut ids = Vec::new();
    for i in 0..4 {
        let (_, e) = app
            .create_expense(&ann, ws, &format!("{}", i + 1), &format!("item {i}"))
            .await;
        ids.push(e["id"].as_i64().unwrap().to_string());
    }
    let (_, bobs) = app
        .create_expense(&bob, bob.personal_ws, "9", "bob's")
        .await;
    let bobs_id = bobs["id"].as_i64().unwrap().to_string();
    let ws_s = ws.to_string();

    // One id that is not Ann's: nothing at all is deleted.
    let (status, _) = app
        .call_as(
            &ann,
            "expenses/delete-many",
            &[
                ("workspace_id", &ws_s),
                ("ids[0]", &ids[0]),
                ("ids[1]", &bobs_id),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(app.expenses(&ann, ws).await["count"], 4);
    assert_eq!(app.expenses(&bob, bob.personal_ws).await["count"], 1);

    // Indexes with gaps, as a form with some boxes unticked sends them.
    let (status, body) = app
        .call_as(
            &ann,
            "expenses/delete-many",
            &[
                ("workspace_id", &ws_s),
                ("ids[0]", &ids[0]),
                ("ids[2]", &ids[2]),
                ("ids[3]", &ids[3]),
            ],
        )
        .await;
    assert_eq!((status, body.as_u64()), (StatusCode::OK, Some(3)), "{body}");
    let list = app.expenses(&ann, ws).await;
    assert_eq!(list["count"], 1);
    assert_eq!(list["items"][0]["id"].as_i64().unwrap().to_string(), ids[1]);

    let (status, body) = app
        .call_as(&ann, "expenses/delete-many", &[("workspace_id", &ws_s)])
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("ids"))
    );
}

async fn totals_are_per_currency(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let ws = ann.personal_ws.to_string();
    for (amount, currency) in [("10.50", "EUR"), ("4.50", "EUR"), ("1500", "JPY")] {
        let (status, _) = app
            .call_as(
                &ann,
                "expenses/create",
                &[
                    ("workspace_id", &ws),
                    ("amount", amount),
                    ("currency", currency),
                    ("category", "Other"),
                    ("description", ""),
                    ("date", "2026-11-01"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let list = app.expenses(&ann, ann.personal_ws).await;
    assert_eq!(
        list["totals"],
        serde_json::json!([["EUR", 1500], ["JPY", 1500]])
    );
    assert_eq!(list["count"], 3);
}

async fn bulk_deletes_are_rate_limited_per_user(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let ws_s = ann.personal_ws.to_string();
    let (_, e) = app.create_expense(&ann, ann.personal_ws, "1", "keep").await;
    let id = e["id"].as_i64().unwrap().to_string();
    let bulk = |user| {
        let (app, ws_s) = (&app, ws_s.clone());
        async move {
            app.call_as(
                user,
                "expenses/delete-many",
                &[
                    ("workspace_id", ws_s.as_str()),
                    ("ids[0]", "999998"),
                    ("ids[1]", "999999"),
                ],
            )
            .await
        }
    };
    // Every attempt counts, refused or not: 20 a minute.
    for _ in 0..app::expenses::BULK_DELETES_PER_MINUTE {
        assert_eq!(bulk(&ann).await.0, StatusCode::NOT_FOUND);
    }
    let (status, body) = bulk(&ann).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["kind"], "rate_limited", "{body}");
    let wait = body["retry_after_secs"].as_u64().unwrap();
    assert!((1..=60).contains(&wait), "{body}");
    // What the form shows: the error as the client decodes it.
    let error: app::error::AppError = serde_json::from_value(body).unwrap();
    assert_eq!(
        error.to_string(),
        format!("Too many attempts. Try again in {wait} seconds.")
    );
    // Bob is not Ann; and a single delete is not a bulk delete.
    assert_eq!(bulk(&bob).await.0, StatusCode::NOT_FOUND);
    let (status, body) = app
        .call_as(
            &ann,
            "expenses/delete",
            &[("workspace_id", &ws_s), ("id", &id)],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn restore(app: &TestApp, who: &User, ws: i64, ids: &[&String]) -> (StatusCode, Value) {
    let ws = ws.to_string();
    let keys: Vec<String> = (0..ids.len()).map(|i| format!("ids[{i}]")).collect();
    let mut form = vec![("workspace_id", ws.as_str())];
    form.extend(
        keys.iter()
            .map(String::as_str)
            .zip(ids.iter().map(|s| s.as_str())),
    );
    app.call_as(who, "expenses/restore", &form).await
}

async fn a_deletion_can_be_undone_once_for_a_minute(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let cat = app.register("cat@example.com").await;
    let ws = app.team(&ann, "Studio").await;
    app.add_member(&ann, ws, &cat, "viewer").await;
    let ws_s = ws.to_string();
    let mut ids = Vec::new();
    for (amount, what) in [("3", "coffee"), ("12", "lunch"), ("40", "books")] {
        let (_, e) = app.create_expense(&ann, ws, amount, what).await;
        ids.push(e["id"].as_i64().unwrap().to_string());
    }
    let before = app.expenses(&ann, ws).await;
    let (status, _) = app
        .call_as(
            &ann,
            "expenses/delete-many",
            &[
                ("workspace_id", &ws_s),
                ("ids[0]", &ids[0]),
                ("ids[1]", &ids[1]),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let head = app.expenses(&ann, ws).await["cursor"].as_i64().unwrap();
    // A viewer may not; an id never deleted (or one mixed in): nothing is restored.
    let (status, _) = restore(&app, &cat, ws, &[&ids[0]]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = restore(&app, &ann, ws, &[&ids[0], &ids[2]]).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(app.expenses(&ann, ws).await["count"], 1);

    let (status, body) = restore(&app, &ann, ws, &[&ids[0], &ids[1]]).await;
    assert_eq!((status, body.as_u64()), (StatusCode::OK, Some(2)), "{body}");
    // Back as they were, same ids and totals; announced to everyone as new rows.
    let after = app.expenses(&ann, ws).await;
    assert_eq!(after["count"], before["count"]);
    assert_eq!(after["items"], before["items"]);
    assert_eq!(after["totals"], before["totals"]);
    let events = app.events(&cat, &format!("ws:{ws}")).await;
    let created: Vec<String> = events
        .iter()
        .filter(|e| e["seq"].as_i64().unwrap() > head && e["event"] == "expense:created")
        .map(|e| e["data"]["id"].as_i64().unwrap().to_string())
        .collect();
    assert_eq!(created, [ids[0].clone(), ids[1].clone()]);
    // Once only.
    let (status, _) = restore(&app, &ann, ws, &[&ids[0]]).await;
    assert_eq!(status, StatusCode::CONFLICT);

    // After the minute, no more.
    let (status, _) = app
        .call_as(
            &ann,
            "expenses/delete-many",
            &[("workspace_id", &ws_s), ("ids[0]", &ids[2])],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    sqlx::query("UPDATE deleted_expenses SET deleted_at = deleted_at - 61000")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let (status, body) = restore(&app, &ann, ws, &[&ids[2]]).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("60 seconds"),
        "{body}"
    );
}
