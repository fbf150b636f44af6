//! The rest of the catalog's emitters (invites, renaming and deleting a workspace,
//! editing a platform, dismissing a notification), and a check that every event in
//! the catalog is emitted by some feature.

use std::collections::BTreeSet;

use app::live::EventKind;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    helpers::{TestApp, User},
    socket::{next, open},
};

crate::on_both_backends!(
    invites_are_announced_without_their_code,
    renaming_and_deleting_a_workspace,
    editing_a_platform_and_dismissing_a_notification,
    every_catalog_event_has_an_emitter,
);

/// Calls `path` as `user` and expects success (a redirect counts: plain form posts).
async fn ok(app: &TestApp, user: &User, path: &str, args: Vec<(&str, String)>) -> Value {
    let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, body) = app.call_as(user, path, &args).await;
    assert!(
        status.is_success() || status.is_redirection(),
        "{path}: {status} {body}"
    );
    body
}

async fn edit_platform(
    app: &TestApp,
    user: &User,
    ws: &str,
    id: &str,
    name: &str,
    color: &str,
) -> (StatusCode, Value) {
    app.call_as(
        user,
        "earnings/platforms/update",
        &[
            ("workspace_id", ws),
            ("id", id),
            ("name", name),
            ("color", color),
        ],
    )
    .await
}

async fn ws_events(app: &TestApp, user: &User, ws: i64) -> Vec<Value> {
    app.events(user, &format!("ws:{ws}")).await
}

async fn invites_are_announced_without_their_code(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let vic = app.register("vic@example.com").await;
    let eve = app.register("eve@example.com").await;
    let ws = app.team(&ann, "Studio").await;
    app.add_member(&ann, ws, &vic, "viewer").await;
    let before = ws_events(&app, &vic, ws).await.len();
    let ws_s = ws.to_string();
    let (status, invite) = app
        .call_as(
            &ann,
            "workspaces/invite",
            &[("workspace_id", &ws_s), ("role", "member")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{invite}");
    let code = invite["code"].as_str().unwrap().to_owned();
    let (status, _) = app
        .call_as(
            &ann,
            "workspaces/revoke-invite",
            &[("workspace_id", &ws_s), ("code", &code)],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // Revoking it again, or as a viewer, changes and announces nothing.
    let (status, _) = app
        .call_as(
            &ann,
            "workspaces/revoke-invite",
            &[("workspace_id", &ws_s), ("code", &code)],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .call_as(
            &vic,
            "workspaces/invite",
            &[("workspace_id", &ws_s), ("role", "member")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let events = ws_events(&app, &vic, ws).await;
    let new: Vec<&Value> = events[before..].iter().collect();
    let terms = json!({"role": "member", "expires_at": invite["expires_at"]});
    assert_eq!(new.len(), 2, "{new:?}");
    assert_eq!(
        (&new[0]["event"], &new[0]["data"]),
        (&json!("invite:created"), &terms)
    );
    assert_eq!(
        (&new[1]["event"], &new[1]["data"]),
        (&json!("invite:revoked"), &terms)
    );
    assert!(
        !serde_json::to_string(&events).unwrap().contains(&code),
        "the code stays secret"
    );
    let (_, polled) = app.poll(&eve, &[(&format!("ws:{ws}"), 0)]).await;
    assert!(polled["events"].as_array().unwrap().is_empty());
}

async fn renaming_and_deleting_a_workspace(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let cat = app.register("cat@example.com").await;
    let ws = app.team(&ann, "Studio").await;
    app.add_member(&ann, ws, &bob, "admin").await;
    app.add_member(&ann, ws, &cat, "member").await;
    let ws_s = ws.to_string();
    let stream = format!("ws:{ws}");

    let (status, _) = app
        .call_as(
            &cat,
            "workspaces/rename",
            &[("workspace_id", &ws_s), ("name", "Mine")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = app
        .call_as(
            &bob,
            "workspaces/rename",
            &[("workspace_id", &ws_s), ("name", "  ")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = app
        .call_as(
            &bob,
            "workspaces/rename",
            &[("workspace_id", &ws_s), ("name", "Studio North")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let events = ws_events(&app, &cat, ws).await;
    let renames: Vec<_> = events
        .iter()
        .filter(|e| e["event"] == "workspace:updated")
        .collect();
    assert_eq!(renames.len(), 1);
    assert_eq!(
        renames[0]["data"],
        json!({"id": ws, "name": "Studio North"})
    );
    let (_, list) = app.call_as(&cat, "workspaces/list", &[]).await;
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["name"] == "Studio North"));

    // Deleting: owners only, team workspaces only.
    let (status, _) = app
        .call_as(&bob, "workspaces/delete", &[("workspace_id", &ws_s)])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .call_as(
            &ann,
            "workspaces/delete",
            &[("workspace_id", &ann.personal_ws.to_string())],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    app.create_expense(&cat, ws, "5", "doomed").await;

    // Cat has it open: she gets the deletion, then loses the stream.
    let head = app.expenses(&cat, ws).await["cursor"].as_i64().unwrap();
    let (mut socket, _) = open(&app, &cat, &[(&stream, head)]).await;
    let (status, body) = app
        .call_as(&ann, "workspaces/delete", &[("workspace_id", &ws_s)])
        .await;
    assert!(
        status.is_success() || status.is_redirection(),
        "{status} {body}"
    );
    let deleted = next(&mut socket).await;
    assert_eq!(
        (deleted["event"].as_str(), &deleted["data"]),
        (
            Some("workspace:deleted"),
            &json!({"id": ws, "name": "Studio North"})
        )
    );
    assert_eq!(
        next(&mut socket).await,
        json!({"type": "revoked", "streams": [stream]})
    );

    // Everything in it is gone; the others are told on their own stream, the owner is not.
    let (status, _) = app
        .call_as(&cat, "expenses/list", &[("workspace_id", &ws_s)])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, polled) = app.poll(&cat, &[(&stream, 0)]).await;
    assert_eq!(polled["denied"], json!([stream]));
    for (user, expected) in [(&bob, 1), (&cat, 1), (&ann, 0)] {
        let titles: Vec<Value> = app
            .events(user, &format!("user:{}", user.id))
            .await
            .into_iter()
            .filter(|e| e["data"]["title"] == "Studio North was deleted")
            .collect();
        assert_eq!(titles.len(), expected, "user {}", user.id);
    }
    let (_, list) = app.call_as(&cat, "notifications/list", &[]).await;
    assert_eq!(list["items"][0]["title"], "Studio North was deleted");
}

async fn editing_a_platform_and_dismissing_a_notification(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let vic = app.register("vic@example.com").await;
    let ws = app.team(&ann, "Studio").await;
    app.add_member(&ann, ws, &bob, "member").await;
    app.add_member(&ann, ws, &vic, "viewer").await;
    let ws_s = ws.to_string();
    let (_, earnings) = app
        .call_as(&ann, "earnings/list", &[("workspace_id", &ws_s)])
        .await;
    let upwork = earnings["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Upwork")
        .unwrap()["id"]
        .as_i64()
        .unwrap()
        .to_string();
    assert_eq!(
        edit_platform(&app, &vic, &ws_s, &upwork, "Up", "#000000")
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        edit_platform(&app, &bob, &ws_s, &upwork, "Fiverr", "#000000")
            .await
            .0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        edit_platform(&app, &bob, &ws_s, &upwork, "Up", "red")
            .await
            .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let before = ws_events(&app, &vic, ws).await.len();
    let (status, body) = edit_platform(&app, &bob, &ws_s, &upwork, "Upwork Pro", "#00AA00").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let events = ws_events(&app, &vic, ws).await;
    assert_eq!(events.len(), before + 1);
    assert_eq!(events[before]["event"], "platform:updated");
    assert_eq!(
        events[before]["data"],
        json!({"id": upwork.parse::<i64>().unwrap(), "name": "Upwork Pro", "color": "#00aa00"})
    );

    // Dismissing: one's own notifications only, announced on one's own stream.
    app.create_expense(&bob, ws, "3", "snack").await;
    let (_, list) = app.call_as(&ann, "notifications/list", &[]).await;
    let id = list["items"][0]["id"].as_i64().unwrap().to_string();
    let unread = list["unread"].as_i64().unwrap();
    let (status, _) = app
        .call_as(&bob, "notifications/dismiss", &[("id", &id)])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .call_as(&ann, "notifications/dismiss", &[("id", &id)])
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .call_as(&ann, "notifications/dismiss", &[("id", &id)])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let mine = app.events(&ann, &format!("user:{}", ann.id)).await;
    let last = mine.last().unwrap();
    assert_eq!(
        (last["event"].as_str(), &last["data"]),
        (
            Some("notification:dismissed"),
            &json!({"id": id.parse::<i64>().unwrap()})
        )
    );
    assert_eq!(
        mine.iter()
            .filter(|e| e["event"] == "notification:dismissed")
            .count(),
        1
    );
    let (_, after) = app.call_as(&ann, "notifications/list", &[]).await;
    assert_eq!(after["unread"].as_i64().unwrap(), unread - 1);
    assert!(after["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|n| n["id"].as_i64() != id.parse().ok()));
}

/// Runs every feature once and collects the kinds of event found in the log (the
/// ephemeral `session:revoked` and `system:announcement` are never logged; they have
/// socket tests of their own in `ops.rs` and `socket.rs`).
async fn every_catalog_event_has_an_emitter(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let ws = app.team(&ann, "Studio").await;
    let ws_s = ws.to_string();
    app.add_member(&ann, ws, &bob, "member").await;
    let w = || ("workspace_id", ws_s.clone());
    let (_, e) = app.create_expense(&bob, ws, "90", "a").await;
    let (_, e2) = app.create_expense(&bob, ws, "1", "b").await;
    let (_, e3) = app.create_expense(&bob, ws, "1", "c").await;
    app.update_expense(&bob, ws, &e["id"].to_string(), "91", "a")
        .await;
    ok(
        &app,
        &bob,
        "expenses/delete",
        vec![w(), ("id", e2["id"].to_string())],
    )
    .await;
    let (_, e4) = app.create_expense(&bob, ws, "1", "d").await;
    ok(
        &app,
        &bob,
        "expenses/delete-many",
        vec![
            w(),
            ("ids[0]", e3["id"].to_string()),
            ("ids[1]", e4["id"].to_string()),
        ],
    )
    .await;
    let p = ok(
        &app,
        &bob,
        "earnings/platforms/create",
        vec![w(), ("name", "Etsy".into()), ("color", "#f56400".into())],
    )
    .await;
    let pid = p["id"].to_string();
    ok(
        &app,
        &bob,
        "earnings/platforms/update",
        vec![
            w(),
            ("id", pid.clone()),
            ("name", "Etsy shop".into()),
            ("color", "#f56400".into()),
        ],
    )
    .await;
    let earning = |id: Option<String>| {
        let mut v = vec![
            w(),
            ("platform_id", pid.clone()),
            ("date", "2026-11-02".into()),
            ("hours", "1".into()),
            ("amount", "50".into()),
            ("currency", "EUR".into()),
            ("notes", String::new()),
        ];
        if let Some(id) = id {
            v.push(("id", id));
        }
        v
    };
    let er = ok(&app, &bob, "earnings/create", earning(None)).await;
    let mut changed = earning(Some(er["id"].to_string()));
    changed[4] = ("amount", "60".into());
    ok(&app, &bob, "earnings/update", changed).await;
    ok(
        &app,
        &bob,
        "earnings/delete",
        vec![w(), ("id", er["id"].to_string())],
    )
    .await;
    let b = ok(
        &app,
        &ann,
        "budgets/set",
        vec![
            w(),
            ("category", "Food".into()),
            ("currency", "EUR".into()),
            ("limit", "100".into()),
        ],
    )
    .await;
    ok(
        &app,
        &ann,
        "budgets/set",
        vec![
            w(),
            ("category", "Food".into()),
            ("currency", "EUR".into()),
            ("limit", "95".into()),
        ],
    )
    .await;
    // Budgets count this month's spending: 80 of 95 crosses 80 %, 20 more 100 %.
    for (amount, what) in [("80", "warn"), ("20", "over")] {
        let (status, body) = app
            .create_expense_on(&bob, ws, amount, what, &app::dates::today_iso())
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    ok(
        &app,
        &ann,
        "budgets/delete",
        vec![w(), ("id", b["id"].to_string())],
    )
    .await;
    let g = ok(
        &app,
        &ann,
        "goals/create",
        vec![
            w(),
            ("name", "Fund".into()),
            ("target", "10".into()),
            ("currency", "EUR".into()),
        ],
    )
    .await;
    ok(
        &app,
        &bob,
        "goals/contribute",
        vec![w(), ("id", g["id"].to_string()), ("amount", "10".into())],
    )
    .await;
    ok(
        &app,
        &ann,
        "goals/delete",
        vec![w(), ("id", g["id"].to_string())],
    )
    .await;
    ok(
        &app,
        &ann,
        "import/csv",
        vec![
            w(),
            ("kind", "expenses".into()),
            (
                "csv",
                "date,amount,currency,category\n2026-11-01,1,EUR,Food\n".into(),
            ),
            ("commit", "true".into()),
        ],
    )
    .await;
    let inv = ok(
        &app,
        &ann,
        "workspaces/invite",
        vec![w(), ("role", "viewer".into())],
    )
    .await;
    ok(
        &app,
        &ann,
        "workspaces/revoke-invite",
        vec![w(), ("code", inv["code"].as_str().unwrap().to_owned())],
    )
    .await;
    ok(
        &app,
        &ann,
        "workspaces/set-role",
        vec![
            w(),
            ("user_id", bob.id.to_string()),
            ("role", "viewer".into()),
        ],
    )
    .await;
    ok(
        &app,
        &ann,
        "workspaces/rename",
        vec![w(), ("name", "Studio 2".into())],
    )
    .await;
    let (_, list) = app.call_as(&bob, "notifications/list", &[]).await;
    ok(
        &app,
        &bob,
        "notifications/read",
        vec![("id", list["items"][0]["id"].to_string())],
    )
    .await;
    ok(
        &app,
        &bob,
        "notifications/dismiss",
        vec![("id", list["items"][1]["id"].to_string())],
    )
    .await;
    // A failed import (the database refuses a row) raises error:occurred.
    sqlx::query(if app.database_url.starts_with("postgres") {
        "ALTER TABLE expenses ADD CONSTRAINT no_boom CHECK (description <> 'boom')"
    } else {
        "CREATE TRIGGER no_boom BEFORE INSERT ON expenses WHEN NEW.description = 'boom' BEGIN SELECT RAISE(ABORT, 'no'); END"
    })
    .execute(&app.db.pool)
    .await
    .unwrap();
    let (status, _) = app
        .call_as(
            &ann,
            "import/csv",
            &[
                ("workspace_id", &ws_s),
                ("kind", "expenses"),
                (
                    "csv",
                    "date,amount,currency,category,description\n2026-11-01,1,EUR,Food,boom\n",
                ),
                ("commit", "true"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let user_events = app.events(&ann, &format!("user:{}", ann.id)).await;
    let bob_events = app.events(&bob, &format!("user:{}", bob.id)).await;
    let team_events = ws_events(&app, &ann, ws).await;
    ok(
        &app,
        &ann,
        "workspaces/remove-member",
        vec![w(), ("user_id", bob.id.to_string())],
    )
    .await;
    ok(&app, &ann, "workspaces/delete", vec![w()]).await;
    // After the deletion nobody may read the stream; the log still holds it.
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT kind FROM events WHERE stream = $1 ORDER BY seq DESC LIMIT 2")
            .bind(format!("ws:{ws}"))
            .fetch_all(&app.db.pool)
            .await
            .unwrap();

    let mut seen: BTreeSet<String> = BTreeSet::new();
    for e in user_events.iter().chain(&bob_events).chain(&team_events) {
        seen.insert(e["event"].as_str().unwrap().to_owned());
    }
    seen.extend(rows.into_iter().map(|(k,)| k));
    let ephemeral: BTreeSet<&str> = EventKind::ALL
        .iter()
        .filter(|k| !k.persisted())
        .map(|k| k.name())
        .collect();
    assert_eq!(
        ephemeral,
        BTreeSet::from(["session:revoked", "system:announcement"])
    );
    let missing: Vec<&str> = EventKind::ALL
        .iter()
        .map(|k| k.name())
        .filter(|n| !ephemeral.contains(n) && !seen.contains(*n))
        .collect();
    assert!(missing.is_empty(), "no feature emitted {missing:?}");
}
