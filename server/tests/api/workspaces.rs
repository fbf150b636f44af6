use reqwest::StatusCode;

use crate::helpers::TestApp;

crate::on_both_backends!(
    roles_decide_who_reads_and_who_writes,
    outsiders_get_nothing_from_a_workspace,
    only_owners_and_admins_manage_the_team,
    invites_join_once_and_revoked_codes_fail,
    a_personal_workspace_cannot_be_shared,
    the_last_owner_stays_an_owner,
);

async fn roles_decide_who_reads_and_who_writes(app: TestApp) {
    let owner = app.register("owner@example.com").await;
    let member = app.register("member@example.com").await;
    let viewer = app.register("viewer@example.com").await;
    let ws = app.team(&owner, "Studio").await;
    app.add_member(&owner, ws, &member, "member").await;
    app.add_member(&owner, ws, &viewer, "viewer").await;

    let (status, body) = app.create_expense(&member, ws, "10", "paint").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = body["id"].as_i64().unwrap().to_string();

    // The viewer sees the member's expense…
    assert_eq!(
        app.expenses(&viewer, ws).await["items"][0]["description"],
        "paint"
    );
    // …and cannot change anything.
    let (status, body) = app.create_expense(&viewer, ws, "5", "viewer write").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let ws_s = ws.to_string();
    let (status, _) = app.update_expense(&viewer, ws, &id, "1", "x").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .call_as(
            &viewer,
            "expenses/delete",
            &[("workspace_id", &ws_s), ("id", &id)],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let list = app.expenses(&owner, ws).await;
    assert_eq!(list["count"], 1);
    assert_eq!(
        list["items"][0]["amount_minor"], 1000,
        "the viewer's update changed nothing"
    );

    // A role change takes effect on the next request, without a new login.
    let (status, _) = app
        .call_as(
            &owner,
            "workspaces/set-role",
            &[
                ("workspace_id", &ws_s),
                ("user_id", &viewer.id.to_string()),
                ("role", "member"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.create_expense(&viewer, ws, "5", "now allowed").await;
    assert_eq!(status, StatusCode::OK);
}

async fn outsiders_get_nothing_from_a_workspace(app: TestApp) {
    let owner = app.register("owner@example.com").await;
    let outsider = app.register("outsider@example.com").await;
    let ws = app.team(&owner, "Private").await;
    let (_, expense) = app.create_expense(&owner, ws, "42", "secret").await;
    let id = expense["id"].as_i64().unwrap().to_string();
    let ws_s = ws.to_string();

    for (path, form) in [
        ("expenses/list", vec![("workspace_id", ws_s.as_str())]),
        ("expenses/get", vec![("workspace_id", &ws_s), ("id", &id)]),
        ("earnings/list", vec![("workspace_id", &ws_s)]),
        ("workspaces/team", vec![("workspace_id", &ws_s)]),
        (
            "expenses/delete",
            vec![("workspace_id", &ws_s), ("id", &id)],
        ),
        (
            "workspaces/invite",
            vec![("workspace_id", &ws_s), ("role", "member")],
        ),
    ] {
        let (status, body) = app.call_as(&outsider, path, &form).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert!(!body.to_string().contains("secret"), "{path} leaked data");
    }
    // Using their own workspace id with someone else's expense id does not reach it either.
    let own = outsider.personal_ws.to_string();
    let (status, _) = app
        .update_expense(&outsider, outsider.personal_ws, &id, "1", "pwned")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .call_as(
            &outsider,
            "expenses/delete",
            &[("workspace_id", &own), ("id", &id)],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let list = app.expenses(&owner, ws).await;
    assert_eq!(
        (
            list["count"].as_i64(),
            list["items"][0]["description"].as_str()
        ),
        (Some(1), Some("secret"))
    );
    // And the outsider's workspace list does not include it.
    let (_, mine) = app.call_as(&outsider, "workspaces/list", &[]).await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
}

async fn only_owners_and_admins_manage_the_team(app: TestApp) {
    let owner = app.register("owner@example.com").await;
    let admin = app.register("admin@example.com").await;
    let member = app.register("member@example.com").await;
    let ws = app.team(&owner, "Agency").await;
    app.add_member(&owner, ws, &admin, "admin").await;
    app.add_member(&owner, ws, &member, "member").await;
    let ws_s = ws.to_string();

    let (status, _) = app
        .call_as(
            &member,
            "workspaces/invite",
            &[("workspace_id", &ws_s), ("role", "member")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "members cannot invite");
    let (status, _) = app
        .call_as(
            &admin,
            "workspaces/invite",
            &[("workspace_id", &ws_s), ("role", "viewer")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "admins can invite");
    let (status, _) = app
        .call_as(
            &admin,
            "workspaces/invite",
            &[("workspace_id", &ws_s), ("role", "admin")],
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "only owners invite admins"
    );
    let (status, _) = app
        .call_as(
            &admin,
            "workspaces/invite",
            &[("workspace_id", &ws_s), ("role", "owner")],
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "nobody is invited as owner"
    );

    let set = |by, user: i64, role| {
        let ws_s = ws_s.clone();
        let app = &app;
        async move {
            app.call_as(
                by,
                "workspaces/set-role",
                &[
                    ("workspace_id", &ws_s),
                    ("user_id", &user.to_string()),
                    ("role", role),
                ],
            )
            .await
            .0
        }
    };
    assert_eq!(
        set(&admin, member.id, "viewer").await,
        StatusCode::OK,
        "admins manage members"
    );
    assert_eq!(
        set(&admin, member.id, "owner").await,
        StatusCode::FORBIDDEN,
        "admins cannot make owners"
    );
    assert_eq!(
        set(&admin, owner.id, "viewer").await,
        StatusCode::FORBIDDEN,
        "admins cannot demote owners"
    );
    assert_eq!(
        set(&member, admin.id, "viewer").await,
        StatusCode::FORBIDDEN,
        "viewers manage nothing"
    );
    assert_eq!(
        set(&owner, member.id, "superuser").await,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let (_, team) = app
        .call_as(&owner, "workspaces/team", &[("workspace_id", &ws_s)])
        .await;
    let roles: Vec<(&str, &str)> = team["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["email"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    assert_eq!(
        roles,
        [
            ("owner@example.com", "owner"),
            ("admin@example.com", "admin"),
            ("member@example.com", "viewer")
        ]
    );
    assert_eq!(
        team["invites"].as_array().unwrap().len(),
        3,
        "owners see open invites"
    );
    let (_, team) = app
        .call_as(&member, "workspaces/team", &[("workspace_id", &ws_s)])
        .await;
    assert!(
        team["invites"].as_array().unwrap().is_empty(),
        "viewers do not see invite codes"
    );
}

async fn invites_join_once_and_revoked_codes_fail(app: TestApp) {
    let owner = app.register("owner@example.com").await;
    let guest = app.register("guest@example.com").await;
    let late = app.register("late@example.com").await;
    let ws = app.team(&owner, "Club").await;
    let ws_s = ws.to_string();
    let (_, invite) = app
        .call_as(
            &owner,
            "workspaces/invite",
            &[("workspace_id", &ws_s), ("role", "member")],
        )
        .await;
    let code = invite["code"].as_str().unwrap().to_owned();
    assert!(
        code.len() >= 20,
        "invite codes are long enough not to be guessed"
    );

    let (status, preview) = app
        .call_as(&guest, "workspaces/invite-preview", &[("code", &code)])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            preview["workspace_name"].as_str(),
            preview["role"].as_str(),
            preview["invited_by"].as_str()
        ),
        (Some("Club"), Some("member"), Some("owner")),
        "the join page says who invited: {preview}"
    );
    for _ in 0..2 {
        let (status, body) = app
            .call_as(&guest, "workspaces/join", &[("code", &code)])
            .await;
        assert_eq!(status, StatusCode::OK, "joining twice is harmless: {body}");
    }
    let (_, team) = app
        .call_as(&owner, "workspaces/team", &[("workspace_id", &ws_s)])
        .await;
    assert_eq!(team["members"].as_array().unwrap().len(), 2);

    let (status, _) = app
        .call_as(
            &owner,
            "workspaces/revoke-invite",
            &[("workspace_id", &ws_s), ("code", &code)],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app
        .call_as(&late, "workspaces/join", &[("code", &code)])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["field"], "code");
    let (status, _) = app
        .call_as(&late, "workspaces/join", &[("code", "made-up-code")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = app
        .call_as(&late, "expenses/list", &[("workspace_id", &ws_s)])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn a_personal_workspace_cannot_be_shared(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let (status, _) = app
        .call_as(
            &ann,
            "workspaces/invite",
            &[
                ("workspace_id", &ann.personal_ws.to_string()),
                ("role", "member"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = app
        .call_as(&ann, "workspaces/create", &[("name", "   ")])
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("name"))
    );
}

async fn the_last_owner_stays_an_owner(app: TestApp) {
    let owner = app.register("owner@example.com").await;
    let ws = app.team(&owner, "Solo").await;
    let (status, body) = app
        .call_as(
            &owner,
            "workspaces/set-role",
            &[
                ("workspace_id", &ws.to_string()),
                ("user_id", &owner.id.to_string()),
                ("role", "member"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (_, list) = app.call_as(&owner, "workspaces/list", &[]).await;
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["id"] == ws && w["role"] == "owner"));
}
