//! One's own account: the password change (checks, other sessions end, the new password
//! works), the export of one's data, and the deletion of the account (handover, teams
//! with nobody left, members told live, nothing of the person left).

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{
    helpers::{TestApp, User, PASSWORD},
    socket::{next, open},
};

crate::on_both_backends!(
    a_password_change_checks_both_passwords_and_the_new_one_works,
    the_export_holds_what_the_person_entered_and_nothing_of_others,
    deleting_an_account_hands_teams_over_and_leaves_nothing_of_the_person,
);

async fn change(app: &TestApp, user: &User, current: &str, new: &str) -> (StatusCode, Value) {
    app.call_as(
        user,
        "account/password",
        &[("current_password", current), ("new_password", new)],
    )
    .await
}

async fn login_status(app: &TestApp, email: &str, password: &str) -> StatusCode {
    app.http
        .post(format!("{}/api/auth/login", app.base))
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap()
        .status()
}

async fn a_password_change_checks_both_passwords_and_the_new_one_works(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let (status, body) = change(&app, &ann, "not it at all", "a brand new sentence").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["field"], "current_password", "{body}");
    for weak in ["short", "ann@example.com", "password123456"] {
        let (status, body) = change(&app, &ann, PASSWORD, weak).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{weak}: {body}");
        assert_eq!(body["field"], "new_password", "{body}");
    }
    // Nothing changed so far: the old password and the token still work.
    assert_eq!(
        login_status(&app, "ann@example.com", PASSWORD).await,
        StatusCode::OK
    );
    let (status, _) = app.call_as(&ann, "workspaces/list", &[]).await;
    assert_eq!(status, StatusCode::OK);

    let (status, body) = change(&app, &ann, PASSWORD, "a brand new sentence").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        login_status(&app, "ann@example.com", PASSWORD).await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        login_status(&app, "ann@example.com", "a brand new sentence").await,
        StatusCode::OK
    );
    // The token it was made with is renewed, not reused: the old one is revoked.
    let (status, _) = app.call_as(&ann, "workspaces/list", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app
        .call(
            "account/password",
            None,
            &[("current_password", "x"), ("new_password", "y")],
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn export(app: &TestApp, user: &User) -> Value {
    let res = app.get("/account/export", Some(&user.token)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/json");
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    res.json().await.unwrap()
}

async fn the_export_holds_what_the_person_entered_and_nothing_of_others(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let team = app.team(&ann, "Studio").await;
    app.add_member(&ann, team, &bob, "member").await;
    app.create_expense(&ann, ann.personal_ws, "5", "my coffee")
        .await;
    app.create_expense(&ann, team, "12", "team lunch").await;
    app.create_expense(&bob, team, "7", "bob's taxi").await;
    app.hear(&ann, team, &[("expenses", "unread")]).await;

    let mine = export(&app, &ann).await;
    assert_eq!(mine["format"], "liveledger-account-export/1");
    assert_eq!(mine["account"]["email"], "ann@example.com");
    let descriptions: Vec<&str> = mine["expenses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["description"].as_str().unwrap())
        .collect();
    assert_eq!(descriptions, ["my coffee", "team lunch"]);
    assert_eq!(mine["workspaces"].as_array().unwrap().len(), 2);
    assert_eq!(
        mine["notification_choices"],
        json!([{"workspace_id": team, "topic": "expenses", "mode": "unread"}])
    );
    assert!(mine["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["title"] == "bob joined Studio"));
    assert!(!mine.to_string().contains("bob's taxi"));
    let res = app.get("/account/export", None).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

async fn deleting_an_account_hands_teams_over_and_leaves_nothing_of_the_person(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let cat = app.register("cat@example.com").await;
    // Handed over: ann alone owns it; cat (admin) beats bob (member, longer there).
    let studio = app.team(&ann, "Studio").await;
    app.add_member(&ann, studio, &bob, "member").await;
    app.add_member(&ann, studio, &cat, "admin").await;
    // Left: another owner remains.
    let shop = app.team(&bob, "Shop").await;
    app.add_member(&bob, shop, &ann, "member").await;
    let (status, _) = app
        .call_as(
            &bob,
            "workspaces/set-role",
            &[
                ("workspace_id", &shop.to_string()),
                ("user_id", &ann.id.to_string()),
                ("role", "owner"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // Deleted: nobody else in it.
    let solo = app.team(&ann, "Solo").await;
    let (_, lunch) = app.create_expense(&ann, studio, "12", "team lunch").await;

    let (status, summary) = app.call_as(&ann, "account/summary", &[]).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(
        summary["teams"],
        json!([
            [studio, "Studio", {"HandedTo": "cat"}],
            [shop, "Shop", "Leaves"],
            [solo, "Solo", "Deleted"]
        ])
    );

    let studio_head = app.expenses(&cat, studio).await["cursor"].as_i64().unwrap();
    let (mut cat_ws, _) = open(&app, &cat, &[(&format!("ws:{studio}"), studio_head)]).await;
    // Both the password and the confirmation are required; nothing happens without.
    for (password, confirm, field) in [
        ("wrong password", "delete", "password"),
        (PASSWORD, "", "confirm"),
    ] {
        let (status, body) = app
            .call_as(
                &ann,
                "account/delete",
                &[("password", password), ("confirm", confirm)],
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["field"], field, "{body}");
    }
    let (status, _) = app.call_as(&ann, "workspaces/list", &[]).await;
    assert_eq!(status, StatusCode::OK);

    let (status, body) = app
        .call_as(
            &ann,
            "account/delete",
            &[("password", PASSWORD), ("confirm", "delete")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Cat, watching Studio, is told live: she owns it now, and ann left.
    let role = next(&mut cat_ws).await;
    assert_eq!(
        (
            &role["event"],
            &role["data"]["user_id"],
            &role["data"]["role"]
        ),
        (
            &json!("member:role-changed"),
            &json!(cat.id),
            &json!("owner")
        ),
        "{role}"
    );
    let left = next(&mut cat_ws).await;
    assert_eq!(
        (&left["event"], &left["data"]["user_id"]),
        (&json!("member:left"), &json!(ann.id))
    );
    let cats: Vec<Value> = app.events(&cat, &format!("user:{}", cat.id)).await;
    assert!(
        cats.iter()
            .any(|e| e["data"]["title"] == "You now own Studio"),
        "{cats:?}"
    );
    // The team keeps its books, by "Deleted user"; Shop is bob's; Solo and ann's
    // personal workspace are gone.
    let list = app.expenses(&cat, studio).await;
    let row = &list["items"][0];
    assert_eq!(
        (&row["id"], &row["created_by_name"]),
        (&lunch["id"], &json!("Deleted user"))
    );
    let (_, team) = app
        .call_as(
            &bob,
            "workspaces/team",
            &[("workspace_id", &shop.to_string())],
        )
        .await;
    assert!(!team.to_string().contains("ann"), "{team}");
    for gone in [solo, ann.personal_ws] {
        let (status, _) = app
            .call_as(
                &bob,
                "expenses/list",
                &[("workspace_id", &gone.to_string())],
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    // No token, no login; the email is free for a new account.
    let (status, _) = app.call_as(&ann, "workspaces/list", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_ne!(
        login_status(&app, "ann@example.com", PASSWORD).await,
        StatusCode::OK
    );
    let again = app.register("ann@example.com").await;
    assert_ne!(again.id, ann.id);
}
