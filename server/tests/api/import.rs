//! CSV import: a preview with per-row problems, a file with problems rejected whole,
//! a good file written in one transaction and announced with one `sync:completed`,
//! and a failure part way rolled back and told to its user with `error:occurred`.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, User};

crate::on_both_backends!(
    a_file_with_bad_rows_is_previewed_and_rejected_whole,
    a_good_file_is_written_at_once_and_announced_once,
    a_failure_part_way_writes_nothing_and_tells_the_user,
    bad_files_and_callers_are_refused,
);

const GOOD: &str = "Date,Amount,Currency,Category,Description\n\
2026-11-02,12.50,EUR,Food,\"Lunch, team\"\n\
2026-11-03,40,EUR,Travel,Train\n\
2026-10-30,7,EUR,Food,Snacks\n";

async fn import(
    app: &TestApp,
    user: &User,
    ws: i64,
    kind: &str,
    csv: &str,
    commit: bool,
) -> (StatusCode, Value) {
    app.call_as(
        user,
        "import/csv",
        &[
            ("workspace_id", &ws.to_string()),
            ("kind", kind),
            ("csv", csv),
            ("commit", if commit { "true" } else { "false" }),
        ],
    )
    .await
}

async fn ws_events(app: &TestApp, user: &User, ws: i64) -> Vec<Value> {
    app.events(user, &format!("ws:{ws}")).await
}

async fn a_file_with_bad_rows_is_previewed_and_rejected_whole(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let ws = ann.personal_ws;
    let bad = format!(
        "{GOOD}2026-11-04,-3,EUR,Food,Refund\n2026-11-05,3,EUR,Yachts,Boat\n2026-11-06,3,EUR\n"
    );
    let (status, report) = import(&app, &ann, ws, "expenses", &bad, false).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["rows"], 6);
    assert_eq!(report["committed"], false);
    assert_eq!(
        report["preview"][0],
        serde_json::json!(["2026-11-02", "12.50", "EUR", "Food", "Lunch, team"])
    );
    let problems: Vec<(i64, Option<&str>)> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["line"].as_i64().unwrap(), p["column"].as_str()))
        .collect();
    assert_eq!(
        problems,
        vec![(5, Some("amount")), (6, Some("category")), (7, None)]
    );
    assert_eq!(report["problem_count"], 3);

    let before = ws_events(&app, &ann, ws).await.len();
    let (status, report) = import(&app, &ann, ws, "expenses", &bad, true).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        (report["committed"].as_bool(), report["created"].as_i64()),
        (Some(false), Some(0))
    );
    assert_eq!(app.expenses(&ann, ws).await["count"], 0, "nothing written");
    assert_eq!(
        ws_events(&app, &ann, ws).await.len(),
        before,
        "nothing announced"
    );
}

async fn a_good_file_is_written_at_once_and_announced_once(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let ws = app.team(&ann, "Studio").await;
    app.add_member(&ann, ws, &bob, "member").await;
    let before = ws_events(&app, &ann, ws).await.len();
    let bob_notes = app.events(&bob, &format!("user:{}", bob.id)).await.len();

    let (status, report) = import(&app, &ann, ws, "expenses", GOOD, true).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        (report["committed"].as_bool(), report["created"].as_i64()),
        (Some(true), Some(3))
    );
    let events = ws_events(&app, &bob, ws).await;
    let new: Vec<_> = events[before..].iter().collect();
    assert_eq!(new.len(), 1, "one event for the whole file: {new:?}");
    assert_eq!(new[0]["event"], "sync:completed");
    assert_eq!(
        new[0]["data"],
        serde_json::json!({"what": "expenses", "created": 3, "skipped": 0})
    );
    let list = app.expenses(&bob, ws).await;
    assert_eq!(list["count"], 3);
    assert_eq!(list["items"][0]["description"], "Train");
    assert_eq!(list["cursor"], new[0]["seq"]);
    // The importer is told it finished; the others see the rows, not a notification.
    let mine = app.events(&ann, &format!("user:{}", ann.id)).await;
    assert_eq!(mine.last().unwrap()["data"]["title"], "Import finished");
    assert_eq!(
        mine.last().unwrap()["data"]["message"],
        "3 expenses imported."
    );
    assert_eq!(
        app.events(&bob, &format!("user:{}", bob.id)).await.len(),
        bob_notes
    );

    // Earnings name their platform; an unknown one is a problem of its row.
    // Every workspace starts with Upwork, Fiverr, Toptal and "Direct client".
    let csv = "date,platform,amount,currency,hours,notes\n2026-11-01,upwork,300,USD,4.5,Logo\n2026-11-02,Etsy,10,USD,,\n";
    let (_, report) = import(&app, &ann, ws, "earnings", csv, true).await;
    assert_eq!(report["committed"], false);
    assert_eq!(report["problems"][0]["line"], 3);
    assert_eq!(report["problems"][0]["column"], "platform");
    let csv = "date,platform,amount,currency,hours,notes\n2026-11-01,upwork,300,USD,4.5,Logo\n";
    let (_, report) = import(&app, &ann, ws, "earnings", csv, true).await;
    assert_eq!(report["created"], 1, "{report}");
    let (_, earnings) = app
        .call_as(&bob, "earnings/list", &[("workspace_id", &ws.to_string())])
        .await;
    assert_eq!(earnings["items"][0]["hours_centi"], 450);
    assert_eq!(earnings["items"][0]["platform_name"], "Upwork");
}

async fn a_failure_part_way_writes_nothing_and_tells_the_user(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let ws = ann.personal_ws;
    // A real database failure on the third row: the database refuses it.
    if app.database_url.starts_with("postgres") {
        sqlx::query(
            "CREATE FUNCTION refuse_boom() RETURNS trigger AS $$ BEGIN \
             IF NEW.description = 'boom' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
        )
        .execute(&app.db.pool)
        .await
        .unwrap();
        sqlx::query("CREATE TRIGGER refuse_boom BEFORE INSERT ON expenses FOR EACH ROW EXECUTE FUNCTION refuse_boom()")
            .execute(&app.db.pool)
            .await
            .unwrap();
    } else {
        sqlx::query(
            "CREATE TRIGGER refuse_boom BEFORE INSERT ON expenses WHEN NEW.description = 'boom' \
             BEGIN SELECT RAISE(ABORT, 'refused'); END",
        )
        .execute(&app.db.pool)
        .await
        .unwrap();
    }
    let csv = "date,amount,currency,category,description\n2026-11-01,1,EUR,Food,one\n2026-11-02,2,EUR,Food,two\n2026-11-03,3,EUR,Food,boom\n2026-11-04,4,EUR,Food,four\n";
    let before = ws_events(&app, &ann, ws).await.len();
    let (status, body) = import(&app, &ann, ws, "expenses", csv, true).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert_eq!(
        app.expenses(&ann, ws).await["count"],
        0,
        "the first two rows were rolled back"
    );
    assert_eq!(ws_events(&app, &ann, ws).await.len(), before);
    let mine = app.events(&ann, &format!("user:{}", ann.id)).await;
    let errors: Vec<_> = mine
        .iter()
        .filter(|e| e["event"] == "error:occurred")
        .collect();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["data"]["what"], "import");
    assert_eq!(errors[0]["priority"], "high");
    let last = mine.last().unwrap();
    assert_eq!(
        (
            last["event"].as_str(),
            last["data"]["title"].as_str(),
            last["data"]["level"].as_str()
        ),
        (
            Some("notification:created"),
            Some("Import failed"),
            Some("error")
        )
    );
}

async fn bad_files_and_callers_are_refused(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let vic = app.register("vic@example.com").await;
    let ws = app.team(&ann, "Studio").await;
    app.add_member(&ann, ws, &vic, "viewer").await;
    let big = format!(
        "date,amount,currency,category\n{}",
        "2026-11-01,1,EUR,Food\n".repeat(25_000)
    );
    let many = format!(
        "date,amount,currency,category\n{}",
        "2026-11-01,1,EUR,Food\n".repeat(2_001)
    );
    for (kind, csv, field) in [
        ("expenses", "", "csv"),
        (
            "expenses",
            "date,amount,currency\n2026-11-01,1,EUR\n",
            "csv",
        ),
        ("expenses", "date,amount,currency,category,colour\n", "csv"),
        (
            "expenses",
            "date,amount,currency,category\n2026-11-01,\"1,EUR,Food\n",
            "csv",
        ),
        ("expenses", big.as_str(), "csv"),
        ("expenses", many.as_str(), "csv"),
        ("goals", GOOD, "kind"),
    ] {
        let (status, body) = import(&app, &ann, ws, kind, csv, false).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["field"], field, "{body}");
    }
    assert_eq!(
        import(&app, &vic, ws, "expenses", GOOD, true).await.0,
        StatusCode::FORBIDDEN
    );
    let eve = app.register("eve@example.com").await;
    assert_eq!(
        import(&app, &eve, ws, "expenses", GOOD, false).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.expenses(&ann, ws).await["count"], 0);
    // Imports are limited per user: five a minute, then a clear refusal.
    for _ in 0..5 {
        assert_eq!(
            import(&app, &ann, ws, "expenses", GOOD, true).await.0,
            StatusCode::OK
        );
    }
    let (status, body) = import(&app, &ann, ws, "expenses", GOOD, true).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(app.expenses(&ann, ws).await["count"], 15);
    // The import's larger body limit is the import's only: a 300 KiB expense is refused.
    let (status, _) = app
        .call_as(
            &ann,
            "expenses/create",
            &[
                ("workspace_id", &ws.to_string()),
                ("amount", "1"),
                ("currency", "EUR"),
                ("category", "Food"),
                ("description", &"x".repeat(300 * 1024)),
                ("date", "2026-11-01"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(app.expenses(&ann, ws).await["count"], 15);
}
