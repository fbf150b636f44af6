//! Periods, search, filters and pages of the lists (`expenses/list`, `earnings/list`,
//! the dashboard's URL): what a list selects, its count and totals over all of it,
//! keyset pages, and bad filters refused.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, User};

crate::on_both_backends!(
    filters_select_rows_and_totals_cover_all_they_select,
    pages_follow_each_other_without_gaps_or_repeats,
    bad_filters_are_refused_with_the_field_at_fault,
    deletions_carry_the_rows_as_they_were,
    the_dashboard_shows_the_period_in_its_url,
    budgets_can_be_read_for_any_month,
    an_export_of_a_view_imports_into_another_workspace_as_it_was,
);

/// Records an expense as `user` and returns its id.
async fn spend(
    app: &TestApp,
    user: &User,
    ws: i64,
    (amount, currency, category, description, date): (&str, &str, &str, &str, &str),
) -> i64 {
    let ws = ws.to_string();
    let (status, body) = app
        .call_as(
            user,
            "expenses/create",
            &[
                ("workspace_id", &ws),
                ("amount", amount),
                ("currency", currency),
                ("category", category),
                ("description", description),
                ("date", date),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["id"].as_i64().unwrap()
}

/// `expenses/list` as `user`: `after` and `limit` as they are, every other parameter
/// in `view` (the dashboard URL's query string).
async fn list(app: &TestApp, user: &User, ws: i64, params: &[(&str, &str)]) -> (StatusCode, Value) {
    let ws = ws.to_string();
    let view: String = params
        .iter()
        .filter(|(name, _)| *name != "after" && *name != "limit")
        .map(|(name, value)| format!("{name}={}", urlencoding(value)))
        .collect::<Vec<_>>()
        .join("&");
    let mut form = vec![("workspace_id", ws.as_str()), ("view", view.as_str())];
    form.extend(
        params
            .iter()
            .filter(|(name, _)| *name == "after" || *name == "limit"),
    );
    app.call_as(user, "expenses/list", &form).await
}

fn urlencoding(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn descriptions(list: &Value) -> Vec<&str> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["description"].as_str().unwrap())
        .collect()
}

async fn filters_select_rows_and_totals_cover_all_they_select(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let ws = app.team(&ann, "Studio").await;
    app.add_member(&ann, ws, &bob, "member").await;
    spend(
        &app,
        &ann,
        ws,
        ("10", "EUR", "Food", "Team lunch", "2026-11-03"),
    )
    .await;
    spend(
        &app,
        &bob,
        ws,
        ("25", "EUR", "Food", "Client LUNCH", "2026-11-20"),
    )
    .await;
    spend(
        &app,
        &ann,
        ws,
        ("7", "EUR", "Transport", "Taxi after lunch", "2026-11-21"),
    )
    .await;
    spend(
        &app,
        &ann,
        ws,
        ("30", "USD", "Food", "Lunch in NYC", "2026-11-22"),
    )
    .await;
    spend(
        &app,
        &ann,
        ws,
        ("99", "EUR", "Food", "October lunch", "2026-10-31"),
    )
    .await;
    spend(
        &app,
        &ann,
        ws,
        ("5", "EUR", "Food", "100% off_sale", "2026-11-23"),
    )
    .await;

    let november = [("from", "2026-11-01"), ("to", "2026-11-30")];
    let (status, all) = list(&app, &ann, ws, &november).await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(all["count"], 5, "October's row is outside the month");
    assert_eq!(
        all["totals"],
        serde_json::json!([["EUR", 4700], ["USD", 3000]])
    );

    // Search folds case; filters narrow; totals are for what matches, not the page.
    let mut lunch = november.to_vec();
    lunch.extend([("q", "lunch"), ("category", "Food"), ("currency", "EUR")]);
    lunch.push(("limit", "1"));
    let (_, found) = list(&app, &ann, ws, &lunch).await;
    assert_eq!(found["count"], 2);
    assert_eq!(
        descriptions(&found),
        vec!["Client LUNCH"],
        "one row asked for, newest first"
    );
    assert_eq!(found["totals"], serde_json::json!([["EUR", 3500]]));
    assert_eq!(
        found["by_category"],
        serde_json::json!([["Food", "EUR", 3500]])
    );

    let bob_id = bob.id.to_string();
    let mut by_bob = november.to_vec();
    by_bob.push(("member", &bob_id));
    let (_, mine) = list(&app, &ann, ws, &by_bob).await;
    assert_eq!(descriptions(&mine), vec!["Client LUNCH"]);

    // `%` and `_` are searched for as themselves.
    let mut literal = november.to_vec();
    literal.push(("q", "0% off_"));
    let (_, sale) = list(&app, &ann, ws, &literal).await;
    assert_eq!(descriptions(&sale), vec!["100% off_sale"]);
    let mut wildcard = november.to_vec();
    wildcard.push(("q", "l_nch"));
    assert_eq!(list(&app, &ann, ws, &wildcard).await.1["count"], 0);

    // Largest first.
    let mut by_amount = november.to_vec();
    by_amount.extend([("sort", "amount"), ("currency", "EUR")]);
    let (_, sorted) = list(&app, &ann, ws, &by_amount).await;
    assert_eq!(
        descriptions(&sorted),
        vec![
            "Client LUNCH",
            "Team lunch",
            "Taxi after lunch",
            "100% off_sale"
        ]
    );

    // Without a filter: everything, newest first.
    let (_, everything) = list(&app, &ann, ws, &[]).await;
    assert_eq!(everything["count"], 6);

    // A stranger reads nothing, filtered or not.
    let eve = app.register("eve@example.com").await;
    let (status, _) = list(&app, &eve, ws, &november).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn pages_follow_each_other_without_gaps_or_repeats(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let ws = ann.personal_ws;
    // Two rows share each date and some share amounts: the id breaks the ties.
    let mut ids = Vec::new();
    for i in 0..7 {
        let date = format!("2026-11-{:02}", 10 + i / 2);
        let amount = format!("{}", 5 + i % 3);
        ids.push(
            spend(
                &app,
                &ann,
                ws,
                (&amount, "EUR", "Food", &format!("row {i}"), &date),
            )
            .await,
        );
    }
    for sort in ["date", "amount"] {
        let mut seen: Vec<i64> = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut params = vec![("period", "all"), ("sort", sort), ("limit", "3")];
            if let Some(a) = &after {
                params.push(("after", a));
            }
            let (status, page) = list(&app, &ann, ws, &params).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            assert_eq!(
                page["count"], 7,
                "the count is of everything, on every page"
            );
            let items = page["items"].as_array().unwrap();
            seen.extend(items.iter().map(|e| e["id"].as_i64().unwrap()));
            let Some(last) = items.last() else { break };
            if items.len() < 3 {
                break;
            }
            let head = if sort == "date" {
                last["spent_on"].as_str().unwrap().to_owned()
            } else {
                last["amount_minor"].to_string()
            };
            after = Some(format!("{head}.{}", last["id"]));
        }
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 7, "{sort}: every row once: {seen:?}");
        let mut expected = ids.clone();
        expected.sort();
        assert_eq!(sorted, expected);
    }
}

async fn bad_filters_are_refused_with_the_field_at_fault(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let ws = ann.personal_ws;
    let long = "x".repeat(101);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("from", "2026-11-30"), ("to", "2026-11-01")], "to"),
        (vec![("from", "2026-02-30")], "from"),
        (vec![("category", "Yachts")], "category"),
        (vec![("currency", "XYZ")], "currency"),
        (vec![("q", &long)], "q"),
        (vec![("sort", "random")], "sort"),
        (vec![("period", "2026-13")], "period"),
        (vec![("after", "yesterday")], "after"),
        (vec![("sort", "amount"), ("after", "2026-11-01.3")], "after"),
    ];
    for (params, field) in cases {
        let (status, body) = list(&app, &ann, ws, &params).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{params:?}: {body}"
        );
        assert_eq!(body["field"], field, "{params:?}: {body}");
    }
}

async fn deletions_carry_the_rows_as_they_were(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let ws = ann.personal_ws;
    let ws_s = ws.to_string();
    let one = spend(&app, &ann, ws, ("10", "EUR", "Food", "Bread", "2026-11-03")).await;
    let two = spend(
        &app,
        &ann,
        ws,
        ("20", "EUR", "Travel", "Train", "2026-11-04"),
    )
    .await;
    let three = spend(
        &app,
        &ann,
        ws,
        ("30", "EUR", "Food", "Cheese", "2026-11-05"),
    )
    .await;
    let (status, _) = app
        .call_as(
            &ann,
            "expenses/delete",
            &[("workspace_id", &ws_s), ("id", &one.to_string())],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (two_s, three_s) = (two.to_string(), three.to_string());
    let (status, body) = app
        .call_as(
            &ann,
            "expenses/delete-many",
            &[
                ("workspace_id", &ws_s),
                ("ids[0]", &two_s),
                ("ids[1]", &three_s),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let events = app.events(&ann, &format!("ws:{ws}")).await;
    let deleted = events
        .iter()
        .find(|e| e["event"] == "expense:deleted")
        .unwrap();
    assert_eq!(deleted["data"]["was"]["description"], "Bread");
    let bulk = events
        .iter()
        .find(|e| e["event"] == "expenses:bulk-deleted")
        .unwrap();
    let was: Vec<&str> = bulk["data"]["was"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["description"].as_str().unwrap())
        .collect();
    assert_eq!(was, vec!["Train", "Cheese"]);
}

async fn the_dashboard_shows_the_period_in_its_url(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let ws = ann.personal_ws;
    spend(
        &app,
        &ann,
        ws,
        ("10", "EUR", "Food", "October bread", "2026-10-03"),
    )
    .await;
    spend(
        &app,
        &ann,
        ws,
        ("20", "EUR", "Food", "November cheese", "2026-11-04"),
    )
    .await;
    let page = |query: &'static str| {
        let app = &app;
        let ann = &ann;
        async move {
            let res = app.get(&format!("/w/{ws}?{query}"), Some(&ann.token)).await;
            assert_eq!(res.status(), StatusCode::OK);
            res.text().await.unwrap()
        }
    };
    let october = page("period=2026-10").await;
    assert!(october.contains("October 2026") && october.contains("October bread"));
    assert!(
        !october.contains("November cheese"),
        "another month's row is not shown"
    );
    assert!(
        october.contains("period=2026-09") && october.contains("period=2026-11"),
        "links to the months around"
    );
    let range = page("from=2026-10-01&to=2026-11-30&q=cheese").await;
    assert!(range.contains("November cheese") && !range.contains("October bread"));
    assert!(range.contains("2026-10-01 – 2026-11-30"));
    // A bad parameter is said, and the page still works (this month, no filter).
    let bad = page("period=2026-13&q=cheese").await;
    assert!(
        bad.contains("Choose a month as YYYY-MM."),
        "the error is shown"
    );
    assert!(bad.contains(r#"data-testid="view-error""#));
}

async fn budgets_can_be_read_for_any_month(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let ws = ann.personal_ws;
    let ws_s = ws.to_string();
    let (status, body) = app
        .call_as(
            &ann,
            "budgets/set",
            &[
                ("workspace_id", &ws_s),
                ("category", "Food"),
                ("currency", "EUR"),
                ("limit", "100"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    spend(
        &app,
        &ann,
        ws,
        ("40", "EUR", "Food", "Groceries", "2026-10-12"),
    )
    .await;
    spend(&app, &ann, ws, ("15", "EUR", "Food", "More", "2026-10-31")).await;
    spend(
        &app,
        &ann,
        ws,
        ("99", "EUR", "Food", "Next month", "2026-11-01"),
    )
    .await;
    let (status, october) = app
        .call_as(
            &ann,
            "budgets/list",
            &[("workspace_id", &ws_s), ("month", "2026-10")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{october}");
    assert_eq!(october["month"], "2026-10");
    assert_eq!(october["items"][0]["spent_minor"], 5500);
    let (status, body) = app
        .call_as(
            &ann,
            "budgets/list",
            &[("workspace_id", &ws_s), ("month", "2026-1")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}

/// The export of a view, as a browser downloads it (`GET`, the session cookie).
async fn export(app: &TestApp, user: &User, ws: i64, kind: &str, query: &str) -> reqwest::Response {
    app.get(&format!("/w/{ws}/export/{kind}?{query}"), Some(&user.token))
        .await
}

fn rows_of(list: &Value, fields: &[&str]) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| fields.iter().map(|f| e[*f].to_string()).collect())
        .collect();
    rows.sort();
    rows
}

async fn an_export_of_a_view_imports_into_another_workspace_as_it_was(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let ws = ann.personal_ws;
    let tricky = [
        "=SUM(A1:A9)",
        "Lunch, with \"quotes\"",
        "-minus",
        "'=quoted",
        "plain",
    ];
    for (i, description) in tricky.iter().enumerate() {
        let date = format!("2026-11-{:02}", i + 1);
        spend(&app, &ann, ws, ("12.5", "EUR", "Food", description, &date)).await;
    }
    spend(
        &app,
        &ann,
        ws,
        ("1500", "JPY", "Travel", "Train", "2026-11-09"),
    )
    .await;
    spend(
        &app,
        &ann,
        ws,
        ("9", "EUR", "Food", "Another month", "2026-10-09"),
    )
    .await;
    let ws_s = ws.to_string();
    let (status, earning) = app
        .call_as(
            &ann,
            "earnings/create",
            &[
                ("workspace_id", &ws_s),
                ("platform_id", &first_platform(&app, &ann, ws).await),
                ("date", "2026-11-04"),
                ("hours", "2.5"),
                ("amount", "300"),
                ("currency", "USD"),
                ("notes", "@mention, and more"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{earning}");

    let res = export(&app, &ann, ws, "expenses", "period=2026-11").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("expenses-2026-11-01-2026-11-30.csv"));
    let csv = res.text().await.unwrap();
    assert!(
        csv.starts_with("date,amount,currency,category,description\r\n"),
        "{csv}"
    );
    assert!(csv.contains("'=SUM(A1:A9)"), "a formula is guarded: {csv}");
    assert!(!csv.contains("Another month"), "only the period: {csv}");

    // Into Bob's workspace, and the rows are the same.
    let bob_ws = bob.personal_ws;
    let (status, body) = app
        .call_as(
            &bob,
            "import/csv",
            &[
                ("workspace_id", &bob_ws.to_string()),
                ("kind", "expenses"),
                ("csv", &csv),
                ("commit", "true"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["created"], 6, "{body}");
    let fields = [
        "spent_on",
        "amount_minor",
        "currency",
        "category",
        "description",
    ];
    let november = [("from", "2026-11-01"), ("to", "2026-11-30")];
    let (_, theirs) = list(&app, &ann, ws, &november).await;
    let (_, ours) = list(&app, &bob, bob_ws, &[]).await;
    assert_eq!(rows_of(&ours, &fields), rows_of(&theirs, &fields));

    // Earnings too (the platform is matched by name).
    let csv = export(&app, &ann, ws, "earnings", "period=all")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        csv.starts_with("date,platform,amount,currency,hours,notes\r\n"),
        "{csv}"
    );
    let (status, body) = app
        .call_as(
            &bob,
            "import/csv",
            &[
                ("workspace_id", &bob_ws.to_string()),
                ("kind", "earnings"),
                ("csv", &csv),
                ("commit", "true"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let fields = [
        "earned_on",
        "platform_name",
        "amount_minor",
        "currency",
        "hours_centi",
        "notes",
    ];
    let (_, theirs) = app
        .call_as(&ann, "earnings/list", &[("workspace_id", &ws_s)])
        .await;
    let (_, ours) = app
        .call_as(
            &bob,
            "earnings/list",
            &[("workspace_id", &bob_ws.to_string())],
        )
        .await;
    assert_eq!(rows_of(&ours, &fields), rows_of(&theirs, &fields));

    // Only members export; a bad view is refused; an unknown kind is not a list.
    assert_eq!(
        export(&app, &bob, ws, "expenses", "").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/w/{ws}/export/expenses"), None)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let bad = export(&app, &ann, ws, "expenses", "period=2026-13").await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().await.unwrap().contains("YYYY-MM"));
    assert_eq!(
        export(&app, &ann, ws, "goals", "").await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

async fn first_platform(app: &TestApp, user: &User, ws: i64) -> String {
    let (_, list) = app
        .call_as(user, "earnings/list", &[("workspace_id", &ws.to_string())])
        .await;
    list["platforms"][0]["id"].to_string()
}
