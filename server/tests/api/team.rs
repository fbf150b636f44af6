//! Team membership in the event log: `member:joined`, `member:role-changed` and
//! `member:left` are each emitted once per change, with the member's id, name and role,
//! to the workspace's current members only; a role change binds the member's very next
//! request, made with the token they already hold. Also the payloads of the two
//! "created" events no other test reads (`platform:created`, `budget:created`). And a
//! write's guard, made inside the write (`Write::guarded`): who asks is answered first.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    helpers::{TestApp, User},
    socket::{next, open, Ws},
};

crate::on_both_backends!(
    membership_changes_are_announced_once_to_current_members,
    a_role_change_binds_the_next_request_without_a_new_login,
    created_platforms_and_budgets_carry_what_the_api_returned,
    a_write_answers_who_asks_before_what_they_ask,
);

async fn set_role(app: &TestApp, by: &User, ws: i64, user: &User, role: &str) -> StatusCode {
    let (status, body) = app
        .call_as(
            by,
            "workspaces/set-role",
            &[
                ("workspace_id", &ws.to_string()),
                ("user_id", &user.id.to_string()),
                ("role", role),
            ],
        )
        .await;
    assert!(status.is_success() || status.is_client_error(), "{body}");
    status
}

/// The events of `stream` after `after`, as (name, data), read as `user` by polling.
async fn since(app: &TestApp, user: &User, stream: &str, after: i64) -> Vec<(String, Value)> {
    let (status, body) = app.poll(user, &[(stream, after)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["event"].as_str().unwrap().to_owned(), e["data"].clone()))
        .collect()
}

/// The next frames on `ws` up to and including the workspace rename to `sentinel`
/// (a rename is an event every member gets, so it marks "nothing else came before").
async fn frames_until_rename(ws: &mut Ws, sentinel: &str) -> Vec<(String, Value)> {
    let mut got = Vec::new();
    loop {
        let frame = next(ws).await;
        let name = frame["event"].as_str().unwrap_or_default().to_owned();
        let done = name == "workspace:updated" && frame["data"]["name"] == sentinel;
        got.push((name, frame["data"].clone()));
        if done {
            return got;
        }
    }
}

async fn rename(app: &TestApp, by: &User, ws: i64, name: &str) {
    let (status, body) = app
        .call_as(
            by,
            "workspaces/rename",
            &[("workspace_id", &ws.to_string()), ("name", name)],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

fn member(user: &User, name: &str, role: &str) -> Value {
    json!({"user_id": user.id, "display_name": name, "role": role})
}

async fn membership_changes_are_announced_once_to_current_members(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let cat = app.register("cat@example.com").await;
    let eve = app.register("eve@example.com").await;
    let ws = app.team(&ann, "Studio").await;
    let stream = format!("ws:{ws}");
    app.add_member(&ann, ws, &cat, "admin").await;
    let head = app.expenses(&ann, ws).await["cursor"].as_i64().unwrap();
    // Ann (owner) and Cat (admin) watch live; Eve is no member and watches nothing.
    let (mut ann_ws, _) = open(&app, &ann, &[(&stream, head)]).await;
    let (mut cat_ws, _) = open(&app, &cat, &[(&stream, head)]).await;

    app.add_member(&ann, ws, &bob, "member").await;
    // Joining again with a fresh code changes nothing and announces nothing.
    app.add_member(&ann, ws, &bob, "viewer").await;
    assert_eq!(
        set_role(&app, &cat, ws, &bob, "viewer").await,
        StatusCode::OK
    );
    // Setting the role a member already has is no change: no event.
    assert_eq!(
        set_role(&app, &cat, ws, &bob, "viewer").await,
        StatusCode::OK
    );
    // Refused changes write and announce nothing.
    assert_eq!(
        set_role(&app, &cat, ws, &bob, "owner").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        set_role(&app, &bob, ws, &cat, "viewer").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        set_role(&app, &eve, ws, &bob, "member").await,
        StatusCode::NOT_FOUND
    );
    // Bob leaves of his own accord.
    app.remove_member(&bob, ws, &bob).await;
    rename(&app, &ann, ws, "Studio 2").await;

    // Invites are announced too (terms only); the membership events are the point here.
    let expected = vec![
        ("member:joined".to_owned(), member(&bob, "bob", "member")),
        (
            "member:role-changed".to_owned(),
            member(&bob, "bob", "viewer"),
        ),
        ("member:left".to_owned(), json!({"user_id": bob.id})),
        (
            "workspace:updated".to_owned(),
            json!({"id": ws, "name": "Studio 2"}),
        ),
    ];
    let membership = |events: Vec<(String, Value)>| -> Vec<(String, Value)> {
        events
            .into_iter()
            .filter(|(name, _)| !name.starts_with("invite:"))
            .collect()
    };
    assert_eq!(membership(since(&app, &ann, &stream, head).await), expected);
    // Each watching member's socket got the same, once each, in that order.
    assert_eq!(
        membership(frames_until_rename(&mut ann_ws, "Studio 2").await),
        expected
    );
    assert_eq!(
        membership(frames_until_rename(&mut cat_ws, "Studio 2").await),
        expected
    );

    // Bob, gone, and Eve, never there, read none of it.
    for outsider in [&bob, &eve] {
        let (status, body) = app.poll(outsider, &[(&stream, 0)]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["events"], json!([]));
        assert_eq!(body["denied"], json!([stream]));
    }
}

async fn a_role_change_binds_the_next_request_without_a_new_login(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let ws = app.team(&ann, "Studio").await;
    app.add_member(&ann, ws, &bob, "member").await;
    let stream = format!("ws:{ws}");

    let (status, _) = app.create_expense(&bob, ws, "5", "as a member").await;
    assert_eq!(status, StatusCode::OK);
    let head = app.expenses(&ann, ws).await["cursor"].as_i64().unwrap();

    assert_eq!(
        set_role(&app, &ann, ws, &bob, "viewer").await,
        StatusCode::OK
    );
    // Same token, next request: a viewer cannot write, and the refusal writes nothing.
    let (status, body) = app.create_expense(&bob, ws, "6", "as a viewer").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let items = app.expenses(&bob, ws).await["items"].clone();
    assert_eq!(
        items.as_array().unwrap().len(),
        1,
        "still readable: {items}"
    );
    let events = since(&app, &ann, &stream, head).await;
    assert_eq!(
        events,
        vec![(
            "member:role-changed".to_owned(),
            member(&bob, "bob", "viewer")
        )]
    );

    // Promoted to admin, the same token now manages the team.
    assert_eq!(
        set_role(&app, &ann, ws, &bob, "admin").await,
        StatusCode::OK
    );
    let (status, body) = app
        .call_as(
            &bob,
            "workspaces/invite",
            &[("workspace_id", &ws.to_string()), ("role", "member")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = app.create_expense(&bob, ws, "7", "as an admin").await;
    assert_eq!(status, StatusCode::OK);
}

async fn created_platforms_and_budgets_carry_what_the_api_returned(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let eve = app.register("eve@example.com").await;
    let ws = app.team(&ann, "Studio").await;
    app.add_member(&ann, ws, &bob, "viewer").await;
    let ws_s = ws.to_string();
    let stream = format!("ws:{ws}");
    let head = app.expenses(&ann, ws).await["cursor"].as_i64().unwrap();

    let (status, platform) = app
        .call_as(
            &ann,
            "earnings/platforms/create",
            &[
                ("workspace_id", &ws_s),
                ("name", "Etsy"),
                ("color", "#f56400"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{platform}");
    let (status, budget) = app
        .call_as(
            &ann,
            "budgets/set",
            &[
                ("workspace_id", &ws_s),
                ("category", "Travel"),
                ("currency", "EUR"),
                ("limit", "250"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{budget}");
    // A viewer may not add a platform: nothing is written or announced.
    let (status, _) = app
        .call_as(
            &bob,
            "earnings/platforms/create",
            &[
                ("workspace_id", &ws_s),
                ("name", "Fiverr"),
                ("color", "#1dbf73"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Every member, viewers included, reads both events with the API's own answer.
    let expected = vec![
        (
            "platform:created".to_owned(),
            json!({"id": platform["id"], "name": "Etsy", "color": "#f56400"}),
        ),
        ("budget:created".to_owned(), budget.clone()),
    ];
    assert_eq!(since(&app, &bob, &stream, head).await, expected);
    assert_eq!(budget["category"], "Travel");
    assert_eq!(budget["limit_minor"], 25_000);
    assert_eq!(budget["spent_minor"], 0);
    let (_, polled) = app.poll(&eve, &[(&stream, 0)]).await;
    assert_eq!(polled["events"], json!([]));
}

/// A write's guard runs inside its transaction and its input is read after it: a
/// stranger, a viewer and a revoked token are told who they are (404, 403, 401) even
/// when what they sent is wrong too, a member with wrong input gets 422, none of them
/// writes anything, and the writer is free for the next write.
async fn a_write_answers_who_asks_before_what_they_ask(app: TestApp) {
    let cat = app.register("cat@example.com").await;
    let bob = app.register("bob@example.com").await;
    let eve = app.register("eve@example.com").await;
    let ws = app.team(&cat, "Studio").await;
    app.add_member(&cat, ws, &bob, "viewer").await;
    let ws_s = ws.to_string();
    // A goal to contribute to, and the expense to update, made before the refusals.
    let goal = app.create_goal(&cat, ws, "Laptop", "1000").await;
    let goal_id = goal["id"].as_i64().unwrap().to_string();
    let (status, expense) = app.create_expense(&cat, ws, "12", "Paper").await;
    assert_eq!(status, StatusCode::OK, "{expense}");
    let expense_id = expense["id"].as_i64().unwrap().to_string();
    let before = app.events(&cat, &format!("ws:{ws}")).await.len();

    // Each with an input that is wrong on its own (an amount of zero).
    let bad_expense = [
        ("workspace_id", ws_s.as_str()),
        ("amount", "0"),
        ("currency", "EUR"),
        ("category", "Food"),
        ("description", ""),
        ("date", "2026-11-01"),
    ];
    let mut bad_update = bad_expense.to_vec();
    bad_update.push(("id", &expense_id));
    let bad_contribution = [
        ("workspace_id", ws_s.as_str()),
        ("id", &goal_id),
        ("amount", "0"),
    ];
    let writes: [(&str, &[(&str, &str)]); 3] = [
        ("expenses/create", &bad_expense),
        ("expenses/update", &bad_update),
        ("goals/contribute", &bad_contribution),
    ];

    let revoked = cat.clone();
    sqlx::query("UPDATE users SET token_version = token_version + 1 WHERE id = $1")
        .bind(cat.id)
        .execute(&app.db.pool)
        .await
        .unwrap();
    let cat = app.login(&cat, "cat@example.com").await;
    for (function, form) in writes {
        for (who, user, expected) in [
            ("a stranger", &eve, StatusCode::NOT_FOUND),
            ("a viewer", &bob, StatusCode::FORBIDDEN),
            ("a revoked token", &revoked, StatusCode::UNAUTHORIZED),
            ("the owner", &cat, StatusCode::UNPROCESSABLE_ENTITY),
        ] {
            let (status, body) = app.call_as(user, function, form).await;
            assert_eq!(status, expected, "{function} by {who}: {body}");
        }
    }
    assert_eq!(
        app.events(&cat, &format!("ws:{ws}")).await.len(),
        before,
        "a refused write appends nothing"
    );
    let list = app.expenses(&cat, ws).await;
    assert_eq!(list["count"], 1, "{list}");
    // The refusals left the writer free.
    let (status, body) = app.create_expense(&cat, ws, "3", "Pens").await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
