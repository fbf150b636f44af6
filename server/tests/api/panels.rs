//! The live panels' server functions (`dashboard/panels`, `goals/panel`): the HTML the
//! pages render, read again by the islands when their workspace changes
//! (`app::pages::live_part`). Who may read them, what they hold, and the stream
//! position they say they show.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, User};

crate::on_both_backends!(
    the_dashboard_panels_show_the_view_asked_as_of_their_cursor,
    panels_are_read_by_members_only_and_hold_no_forms_for_viewers,
    the_goals_panel_follows_contributions,
    a_list_is_read_in_a_snapshot_that_proves_its_reader_a_member,
);

/// `dashboard/panels` as `user`.
async fn panels(app: &TestApp, user: &User, ws: i64, query: &str) -> (StatusCode, Value) {
    let ws = ws.to_string();
    app.call_as(
        user,
        "dashboard/panels",
        &[("workspace_id", &ws), ("query", query)],
    )
    .await
}

/// The position of the newest event of workspace `ws`'s stream.
async fn head(app: &TestApp, user: &User, ws: i64) -> i64 {
    let events = app.events(user, &format!("ws:{ws}")).await;
    events.last().map_or(0, |e| e["seq"].as_i64().unwrap())
}

fn html(body: &Value) -> &str {
    body["html"].as_str().expect("html")
}

async fn the_dashboard_panels_show_the_view_asked_as_of_their_cursor(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let ws = ann.personal_ws;
    let (status, body) = app
        .create_expense(&ann, ws, "12.50", "Bread <&> butter")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let bread = body["id"].as_i64().unwrap();

    let (status, body) = panels(&app, &ann, ws, "period=2026-11").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let cursor = body["cursor"].as_i64().unwrap();
    assert_eq!(
        cursor,
        head(&app, &ann, ws).await,
        "every event so far is in it"
    );
    let h = html(&body);
    // The row, keyed for the morph, its text escaped; the totals and the forms.
    assert!(h.contains(&format!(r#"data-key="e{bread}""#)), "{h}");
    assert!(h.contains("Bread &lt;&amp;&gt; butter"), "{h}");
    assert!(h.contains(r#"data-testid="period-summary""#), "{h}");
    let spent = format!("Spent {}", app::money::format_display(1250, "EUR"));
    assert!(h.contains(&spent), "{spent} in {h}");
    for kept in [
        "expense-form",
        "earning-form",
        "budget-form",
        "goal-form",
        "import",
    ] {
        assert!(
            h.contains(&format!(r#"data-keep="{kept}""#)),
            "{kept} in {h}"
        );
    }
    // "Show more" asks for the same view with a page more.
    assert!(h.contains("period=2026-11&amp;expenses="), "{h}");

    // Another month shows none of it; the cursor is the same.
    let (status, body) = panels(&app, &ann, ws, "period=2026-10").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!html(&body).contains(&format!(r#"data-key="e{bread}""#)));
    assert_eq!(body["cursor"].as_i64().unwrap(), cursor);

    // A write moves the cursor past it, and the row is there.
    let (status, body) = app.create_expense(&ann, ws, "3", "Milk").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let milk = body["id"].as_i64().unwrap();
    let (_, body) = panels(&app, &ann, ws, "period=2026-11").await;
    assert!(body["cursor"].as_i64().unwrap() > cursor);
    assert_eq!(body["cursor"].as_i64().unwrap(), head(&app, &ann, ws).await);
    assert!(html(&body).contains(&format!(r#"data-key="e{milk}""#)));

    // Down to a row (what a partial list showed): the rows above it and itself, not those
    // below, however many.
    let (status, body) = app
        .create_expense_on(&ann, ws, "1", "Older", "2026-11-02")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let older = body["id"].as_i64().unwrap();
    let until = format!("period=2026-11&expenses_until=2026-11-20.{bread}");
    let (status, body) = panels(&app, &ann, ws, &until).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let h = html(&body);
    for (id, shown) in [(milk, true), (bread, true), (older, false)] {
        assert_eq!(
            h.contains(&format!(r#"data-key="e{id}""#)),
            shown,
            "{id} in {h}"
        );
    }
    // …and the query to read them again with keeps that bound while the list is
    // partial (here it is: one of three is not shown).
    let refresh = format!(
        r#"data-refresh="period=2026-11&amp;expenses_until=2026-11-20.{bread}&amp;earnings=50""#
    );
    assert!(h.contains(&refresh), "{refresh} in {h}");
    let (status, body) = panels(&app, &ann, ws, "period=2026-11&expenses_until=nonsense").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a bad bound is the default view: {body}"
    );

    // A bad view is the default one, as on the page; a bad workspace id is refused.
    let (status, _) = panels(&app, &ann, ws, "period=13-13").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .call_as(
            &ann,
            "dashboard/panels",
            &[("workspace_id", "x"), ("query", "")],
        )
        .await;
    assert!(status.is_client_error(), "{status}");
}

async fn panels_are_read_by_members_only_and_hold_no_forms_for_viewers(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let ws = app.team(&ann, "Crew").await;
    let (status, body) = app.create_expense(&ann, ws, "7", "Tape").await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A stranger learns nothing, not even that the workspace exists.
    let eve = app.register("eve@example.com").await;
    let (status, body) = panels(&app, &eve, ws, "").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body.get("html").is_none(), "{body}");
    let (status, _) = app
        .call(
            "dashboard/panels",
            None,
            &[("workspace_id", &ws.to_string()), ("query", "")],
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app
        .call("goals/panel", None, &[("workspace_id", &ws.to_string())])
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app
        .call_as(&eve, "goals/panel", &[("workspace_id", &ws.to_string())])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A viewer reads the rows, and gets no form and no delete button.
    let vic = app.register("vic@example.com").await;
    app.add_member(&ann, ws, &vic, "viewer").await;
    let (status, body) = panels(&app, &vic, ws, "period=2026-11").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let h = html(&body);
    assert!(h.contains("Tape"), "{h}");
    assert!(!h.contains("<form"), "{h}");
    assert!(!h.contains(r#"data-keep="import""#), "{h}");

    // Removed, they lose it at once.
    app.remove_member(&ann, ws, &vic).await;
    let (status, _) = panels(&app, &vic, ws, "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn the_goals_panel_follows_contributions(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let ws = ann.personal_ws.to_string();
    let bike = app.create_goal(&ann, ann.personal_ws, "Bike", "100").await["id"]
        .as_i64()
        .unwrap();
    let read = || async {
        let (status, body) = app
            .call_as(&ann, "goals/panel", &[("workspace_id", &ws)])
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    };
    let before = read().await;
    let h = html(&before);
    assert!(h.contains(&format!(r#"data-key="g{bike}""#)), "{h}");
    assert!(h.contains(r#"data-achieved="false""#), "{h}");
    assert!(h.contains(r#"data-keep="goal-form""#), "{h}");
    let (status, body) = app
        .call_as(
            &ann,
            "goals/contribute",
            &[
                ("workspace_id", &ws),
                ("id", &bike.to_string()),
                ("amount", "100"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let after = read().await;
    assert!(after["cursor"].as_i64().unwrap() > before["cursor"].as_i64().unwrap());
    assert!(
        html(&after).contains(r#"data-achieved="true""#),
        "{}",
        html(&after)
    );
}

/// Every list of a workspace (and so the panels) reads in `authz::read_snapshot`, which
/// opens the snapshot only if the reader is a member in it: a removal that commits after
/// the request's membership check but before its read is seen by the read.
async fn a_list_is_read_in_a_snapshot_that_proves_its_reader_a_member(app: TestApp) {
    use app::{
        model::ids::{UserId, WorkspaceId},
        server::authz::read_snapshot,
    };
    let ann = app.register("ann@example.com").await;
    let ws = app.team(&ann, "Crew").await;
    let bob = app.register("bob@example.com").await;
    app.add_member(&ann, ws, &bob, "member").await;
    let open = |user: &User| read_snapshot(&app.db, WorkspaceId(ws), UserId(user.id));
    assert!(open(&ann).await.is_ok());
    assert!(open(&bob).await.is_ok());
    let eve = app.register("eve@example.com").await;
    let refused = open(&eve)
        .await
        .map(|_| ())
        .expect_err("a stranger gets no snapshot");
    assert!(
        matches!(refused, app::error::AppError::NotFound { .. }),
        "{refused:?}"
    );

    // Bob is removed: a snapshot opened from then on refuses him, whatever was checked
    // before it.
    app.remove_member(&ann, ws, &bob).await;
    assert!(open(&bob).await.is_err());
    assert!(open(&ann).await.is_ok());
}
