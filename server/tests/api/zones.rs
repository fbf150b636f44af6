//! Workspace time zones: a workspace's "today" (its current month) follows its zone,
//! the browser's at sign-up and team creation (the `ll_zone` cookie its page's script
//! writes), and set by owners and admins.
//!
//! Two zones that never share a date are used: Pacific/Kiritimati (UTC+14) and
//! Pacific/Niue (UTC-11), neither with daylight saving time. Today there is computed
//! here from the system clock and the fixed offset, independently of the server's code.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, User};

crate::on_both_backends!(
    a_new_accounts_workspace_takes_the_browsers_zone,
    an_unknown_zone_is_refused_and_nothing_is_written,
    a_browser_zone_nobody_knows_is_ignored,
    a_team_takes_the_given_zone_or_its_creators,
    owners_and_admins_set_the_zone_and_the_month_follows_it,
);

const EAST: (&str, i64) = ("Pacific/Kiritimati", 14);
const WEST: (&str, i64) = ("Pacific/Niue", -11);

/// Today's date ('YYYY-MM-DD') at a fixed offset from UTC, in hours.
fn date_at(offset_hours: i64) -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    app::dates::format_iso_date((secs + offset_hours * 3600).div_euclid(86_400))
}

/// Runs `read` and checks that it answers with the month of today at `offset` (read
/// before and after, so that a midnight between the two cannot fail the test).
async fn assert_month_at<F: std::future::Future<Output = String>>(offset: i64, read: F) {
    let before = date_at(offset)[..7].to_owned();
    let month = read.await;
    let after = date_at(offset)[..7].to_owned();
    assert!(
        month == before || month == after,
        "{month}: not the month at UTC{offset:+} ({before}/{after})"
    );
}

/// The budget month `budgets/list` takes as current in `ws`.
async fn budget_month(app: &TestApp, user: &User, ws: i64) -> String {
    let ws = ws.to_string();
    let (status, body) = app
        .call_as(user, "budgets/list", &[("workspace_id", &ws)])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["month"].as_str().unwrap().to_owned()
}

/// The month ('YYYY-MM') `expenses/list` takes when the view names no period (a search
/// only).
async fn list_month(app: &TestApp, user: &User, ws: i64) -> String {
    let ws = ws.to_string();
    let (status, body) = app
        .call_as(
            user,
            "expenses/list",
            &[("workspace_id", &ws), ("view", "q=x")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The filter travels as one line, its fields apart by U+001F: from, to, …
    let line = body["filter"].as_str().unwrap();
    let mut fields = line.split('\u{1f}');
    let (from, to) = (fields.next().unwrap(), fields.next().unwrap());
    assert!(
        from.ends_with("-01") && from[..7] == to[..7],
        "a month: {body}"
    );
    from[..7].to_owned()
}

async fn settings(app: &TestApp, user: &User, ws: i64) -> (StatusCode, Value) {
    let ws = ws.to_string();
    app.call_as(user, "workspaces/settings", &[("workspace_id", &ws)])
        .await
}

async fn set_zone(app: &TestApp, user: &User, ws: i64, zone: &str) -> (StatusCode, Value) {
    let ws = ws.to_string();
    app.call_as(
        user,
        "workspaces/time-zone",
        &[("workspace_id", &ws), ("time_zone", zone)],
    )
    .await
}

/// `workspaces/create` from a browser whose `ll_zone` cookie is `zone`; the new id.
async fn team_from_browser(app: &TestApp, user: &User, name: &str, zone: &str) -> i64 {
    let res = app
        .http
        .post(format!("{}/api/workspaces/create", app.base))
        .bearer_auth(&user.token)
        .header(reqwest::header::COOKIE, format!("ll_zone={zone}"))
        .form(&[("name", name)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    body["id"].as_i64().unwrap()
}

async fn a_new_accounts_workspace_takes_the_browsers_zone(app: TestApp) {
    // As the browser's cookie says it, in any case: stored as the database spells it.
    let east = app
        .register_with("east@example.com", "ll_zone=pacific/kiritimati")
        .await;
    let (status, s) = settings(&app, &east, east.personal_ws).await;
    assert_eq!(status, StatusCode::OK, "{s}");
    assert_eq!(s["time_zone"], EAST.0);
    assert_month_at(EAST.1, budget_month(&app, &east, east.personal_ws)).await;
    // Without JavaScript there is no cookie: UTC.
    let plain = app.register("plain@example.com").await;
    let (_, s) = settings(&app, &plain, plain.personal_ws).await;
    assert_eq!(s["time_zone"], "UTC");
    assert_month_at(0, budget_month(&app, &plain, plain.personal_ws)).await;
    // The owner has the zones to choose from.
    assert!(s["zones"].as_array().unwrap().len() > 300, "{}", s["zones"]);
}

async fn an_unknown_zone_is_refused_and_nothing_is_written(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    for bad in [
        "Mars/Olympus_Mons",
        "UTC'; DROP TABLE workspaces; --",
        &"X/".repeat(40),
    ] {
        let (status, body) = app
            .call_as(
                &ann,
                "workspaces/create",
                &[("name", "Nowhere"), ("time_zone", bad)],
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_eq!(body["field"], "time_zone", "{body}");
        assert_eq!(body["message"], "Unknown time zone.", "{body}");
    }
    // Nothing was written.
    let (_, list) = app.call_as(&ann, "workspaces/list", &[]).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
}

/// The cookie is a script's hint, not something the person typed: a zone the server
/// does not know (or garbage) is not an error, the server chooses as without it.
async fn a_browser_zone_nobody_knows_is_ignored(app: TestApp) {
    let ann = app
        .register_with("ann@example.com", "ll_zone=Mars/Olympus_Mons")
        .await;
    let (_, s) = settings(&app, &ann, ann.personal_ws).await;
    assert_eq!(s["time_zone"], "UTC");
    let crew = team_from_browser(&app, &ann, "Crew", "../../etc/passwd").await;
    let (_, s) = settings(&app, &ann, crew).await;
    assert_eq!(s["time_zone"], "UTC", "the creator's zone");
}

async fn a_team_takes_the_given_zone_or_its_creators(app: TestApp) {
    let west = app
        .register_with("west@example.com", &format!("ll_zone={}", WEST.0))
        .await;
    // No zone sent and no cookie (a form posted without JavaScript): the creator's own.
    let inherited = app.team(&west, "Inherited").await;
    let (_, s) = settings(&app, &west, inherited).await;
    assert_eq!(s["time_zone"], WEST.0);
    // The browser's zone, from its cookie.
    let from_browser = team_from_browser(&app, &west, "From the browser", EAST.0).await;
    let (_, s) = settings(&app, &west, from_browser).await;
    assert_eq!(s["time_zone"], EAST.0);
    // The zone named in the request comes first.
    let (status, body) = app
        .call_as(
            &west,
            "workspaces/create",
            &[("name", "Eastern"), ("time_zone", EAST.0)],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let eastern = body["id"].as_i64().unwrap();
    let (_, s) = settings(&app, &west, eastern).await;
    assert_eq!(s["time_zone"], EAST.0);
    assert_month_at(EAST.1, budget_month(&app, &west, eastern)).await;
    // A bad one creates nothing.
    let (status, body) = app
        .call_as(
            &west,
            "workspaces/create",
            &[("name", "Nowhere"), ("time_zone", "Nowhere/Land")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (_, list) = app.call_as(&west, "workspaces/list", &[]).await;
    assert_eq!(list.as_array().unwrap().len(), 4, "{list}");
}

async fn owners_and_admins_set_the_zone_and_the_month_follows_it(app: TestApp) {
    let owner = app.register("owner@example.com").await;
    let member = app.register("member@example.com").await;
    let admin = app.register("admin@example.com").await;
    let ws = app.team(&owner, "Crew").await;
    app.add_member(&owner, ws, &member, "member").await;
    app.add_member(&owner, ws, &admin, "admin").await;

    // A member can read the zone, not change it, nor see the list of zones.
    let (status, s) = settings(&app, &member, ws).await;
    assert_eq!(status, StatusCode::OK, "{s}");
    assert_eq!(s["zones"], serde_json::json!([]));
    let (status, _) = set_zone(&app, &member, ws, EAST.0).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Someone outside it cannot read it.
    let stranger = app.register("stranger@example.com").await;
    let (status, _) = settings(&app, &stranger, ws).await;
    assert_ne!(status, StatusCode::OK);
    let (status, _) = set_zone(&app, &stranger, ws, EAST.0).await;
    assert_ne!(status, StatusCode::OK);

    // Bad or empty zones are refused and change nothing.
    for bad in ["", "Not/AZone"] {
        let (status, body) = set_zone(&app, &admin, ws, bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
    }
    let (_, s) = settings(&app, &owner, ws).await;
    assert_eq!(s["time_zone"], "UTC");

    // An admin sets it: budgets, lists and the dashboard take today's month there.
    for (zone, offset) in [EAST, WEST] {
        let (status, body) = set_zone(&app, &admin, ws, zone).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (_, s) = settings(&app, &member, ws).await;
        assert_eq!(s["time_zone"], zone);
        assert_month_at(offset, budget_month(&app, &member, ws)).await;
        assert_month_at(offset, list_month(&app, &member, ws)).await;
        let before = date_at(offset);
        let res = app.get(&format!("/w/{ws}"), Some(&member.token)).await;
        assert_eq!(res.status(), StatusCode::OK);
        let html = res.text().await.unwrap();
        let after = date_at(offset);
        let note = html
            .find(r#"data-testid="zone-note""#)
            .map(|at| &html[at..(at + 200).min(html.len())])
            .unwrap_or_default();
        assert!(note.contains(zone), "the zone is said: {note}");
        assert!(
            html.contains(&format!(r#"value="{before}""#))
                || html.contains(&format!(r#"value="{after}""#)),
            "a new expense starts on today there ({before})"
        );
    }
}
