//! Notifications: raised for the other members by workspace events that notify,
//! stored per user, announced on the user's stream, acknowledged by reading.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, User};

crate::on_both_backends!(
    a_new_expense_notifies_every_other_member_once,
    reading_acknowledges_and_is_announced_to_the_users_tabs,
    membership_changes_notify_and_the_removed_member_is_told,
    owners_and_admins_send_to_the_workspace_or_to_chosen_members,
    one_append_to_many_streams_numbers_each_stream_on,
    quiet_by_default_teammates_entries_are_not_news,
    what_a_member_turns_off_is_neither_stored_nor_sent,
    one_write_tells_each_member_once,
    deleting_a_row_takes_back_what_was_said_about_it,
    a_quiet_topic_is_heard_by_the_members_who_chose_it_and_no_one_else,
);

fn notifications(events: &[Value]) -> Vec<&Value> {
    events
        .iter()
        .filter(|e| e["event"] == "notification:created")
        .collect()
}

async fn list(app: &TestApp, user: &User) -> Value {
    let (status, body) = app.call_as(user, "notifications/list", &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn a_new_expense_notifies_every_other_member_once(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let cat = app.register("cat@example.com").await;
    let ws = app.team(&ann, "Studio").await;
    app.add_member(&ann, ws, &bob, "member").await;
    app.add_member(&ann, ws, &cat, "viewer").await;
    // Teammates' expenses are news only to those who ask (the default is off).
    for user in [&ann, &cat] {
        app.hear(user, ws, &[("expenses", "toast")]).await;
    }
    let ann_before = app.events(&ann, &format!("user:{}", ann.id)).await.len();

    let (status, body) = app.create_expense(&bob, ws, "12.50", "Team lunch").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Refused and invalid writes notify no one.
    app.create_expense(&cat, ws, "1", "viewer cannot").await;
    app.create_expense(&bob, ws, "-1", "bad amount").await;
    // Nor does an edit, nor an expense in a personal workspace.
    let id = body["id"].as_i64().unwrap().to_string();
    app.update_expense(&bob, ws, &id, "13", "Team lunch").await;
    app.create_expense(&ann, ann.personal_ws, "5", "mine").await;

    for user in [&ann, &cat] {
        let events = app.events(user, &format!("user:{}", user.id)).await;
        let created = notifications(&events);
        let from_expense: Vec<_> = created
            .iter()
            .filter(|e| e["data"]["title"] == "New expense in Studio")
            .collect();
        assert_eq!(from_expense.len(), 1, "{events:?}");
        let data = &from_expense[0]["data"];
        assert_eq!(data["message"], "bob added Team lunch: 12.50 EUR");
        assert_eq!(
            (data["level"].as_str(), data["workspace_id"].as_i64()),
            (Some("info"), Some(ws))
        );
        assert_eq!(data["read"], false);
    }
    let ann_after = app.events(&ann, &format!("user:{}", ann.id)).await;
    assert_eq!(
        ann_after.len(),
        ann_before + 1,
        "exactly one new event for ann"
    );
    let bobs = app.events(&bob, &format!("user:{}", bob.id)).await;
    assert!(
        notifications(&bobs)
            .iter()
            .all(|e| e["data"]["title"] != "New expense in Studio"),
        "the author is not notified of their own expense"
    );
    // Nobody reads another user's notifications, on either transport.
    let (status, body) = app.poll(&bob, &[(&format!("user:{}", ann.id), 0)]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["denied"],
        serde_json::json!([format!("user:{}", ann.id)])
    );
    assert!(body["events"].as_array().unwrap().is_empty());
    let stored = list(&app, &cat).await;
    assert_eq!(stored["items"][0]["title"], "New expense in Studio");
}

async fn reading_acknowledges_and_is_announced_to_the_users_tabs(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let ws = app.team(&ann, "Studio").await;
    app.add_member(&ann, ws, &bob, "member").await;
    app.hear(&ann, ws, &[("expenses", "toast")]).await;
    for what in ["one", "two", "three"] {
        app.create_expense(&bob, ws, "1", what).await;
    }
    let before = list(&app, &ann).await;
    // Three expenses and bob joining.
    assert_eq!(before["unread"], 4, "{before}");
    let newest = before["items"][0]["id"].as_i64().unwrap().to_string();
    let cursor = before["cursor"].as_i64().unwrap();

    // Someone else's notification is not found, and stays unread.
    let (status, _) = app
        .call_as(&bob, "notifications/read", &[("id", &newest)])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .call_as(&ann, "notifications/read", &[("id", &newest)])
        .await;
    assert_eq!(status, StatusCode::OK);
    // Reading it again changes nothing and announces nothing.
    let (status, _) = app
        .call_as(&ann, "notifications/read", &[("id", &newest)])
        .await;
    assert_eq!(status, StatusCode::OK);
    let after = list(&app, &ann).await;
    assert_eq!(after["unread"], 3);
    assert_eq!(after["items"][0]["read"], true);
    let (_, polled) = app
        .poll(&ann, &[(&format!("user:{}", ann.id), cursor)])
        .await;
    let events = polled["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{polled}");
    assert_eq!(events[0]["event"], "notification:read");
    assert_eq!(
        events[0]["data"]["id"].as_i64().unwrap().to_string(),
        newest
    );

    let (status, body) = app.call_as(&ann, "notifications/read-all", &[]).await;
    assert_eq!((status, body.as_u64()), (StatusCode::OK, Some(3)), "{body}");
    assert_eq!(list(&app, &ann).await["unread"], 0);
    let (status, _) = app.call("notifications/list", None, &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn membership_changes_notify_and_the_removed_member_is_told(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let ws = app.team(&ann, "Studio").await;
    app.add_member(&ann, ws, &bob, "member").await;
    let titles = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                format!(
                    "{} | {}",
                    n["title"].as_str().unwrap(),
                    n["message"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert_eq!(
        titles(&list(&app, &ann).await),
        vec!["bob joined Studio | as Member"]
    );

    let ws_s = ws.to_string();
    let bob_id = bob.id.to_string();
    let (status, body) = app
        .call_as(
            &ann,
            "workspaces/set-role",
            &[
                ("workspace_id", &ws_s),
                ("user_id", &bob_id),
                ("role", "viewer"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        titles(&list(&app, &bob).await),
        vec!["Role changed in Studio | bob is now Viewer."]
    );
    app.remove_member(&ann, ws, &bob).await;
    let bobs = titles(&list(&app, &bob).await);
    assert_eq!(
        bobs[0],
        "You were removed from Studio | You can no longer see or change this workspace."
    );
    // The owner acted, so the owner is not told; no one else is left to tell.
    assert_eq!(titles(&list(&app, &ann).await).len(), 1);
}

async fn owners_and_admins_send_to_the_workspace_or_to_chosen_members(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let cat = app.register("cat@example.com").await;
    let dan = app.register("dan@example.com").await;
    let eve = app.register("eve@example.com").await;
    let ws = app.team(&ann, "Studio").await;
    app.add_member(&ann, ws, &bob, "admin").await;
    app.add_member(&ann, ws, &cat, "member").await;
    app.add_member(&ann, ws, &dan, "viewer").await;
    let ws_s = ws.to_string();
    let count = |events: &[Value], title: &str| {
        notifications(events)
            .iter()
            .filter(|e| e["data"]["title"] == title)
            .count()
    };

    // To the whole workspace: every member but the sender, once.
    let (status, n) = app
        .call_as(
            &ann,
            "notifications/send",
            &[
                ("workspace_id", &ws_s),
                ("title", "Office closed"),
                ("message", "Friday off.\nEnjoy!"),
                ("level", "warning"),
            ],
        )
        .await;
    assert_eq!((status, n.as_u64()), (StatusCode::OK, Some(3)));
    for user in [&bob, &cat, &dan] {
        let events = app.events(user, &format!("user:{}", user.id)).await;
        assert_eq!(count(&events, "Office closed — from ann"), 1);
        let n = notifications(&events)
            .into_iter()
            .find(|e| e["data"]["title"] == "Office closed — from ann")
            .unwrap();
        assert_eq!(n["data"]["message"], "Friday off.\nEnjoy!");
        assert_eq!(n["data"]["level"], "warning");
        assert_eq!(n["data"]["workspace_id"], ws);
    }
    let anns = app.events(&ann, &format!("user:{}", ann.id)).await;
    assert_eq!(count(&anns, "Office closed — from ann"), 0);

    // An admin to chosen members only.
    let (status, n) = app
        .call_as(
            &bob,
            "notifications/send",
            &[
                ("workspace_id", &ws_s),
                ("title", "Invoice due"),
                ("message", "Please send it."),
                ("level", "info"),
                ("to[0]", &cat.id.to_string()),
                ("to[1]", &ann.id.to_string()),
            ],
        )
        .await;
    assert_eq!((status, n.as_u64()), (StatusCode::OK, Some(2)), "{n}");
    for (user, expected) in [(&ann, 1), (&cat, 1), (&dan, 0), (&bob, 0)] {
        let events = app.events(user, &format!("user:{}", user.id)).await;
        assert_eq!(
            count(&events, "Invoice due — from bob"),
            expected,
            "user {}",
            user.id
        );
    }

    // Refused: members and viewers, strangers as recipients, bad text. Nothing sent.
    let before: Vec<usize> = {
        let mut v = Vec::new();
        for u in [&ann, &bob, &cat, &dan, &eve] {
            v.push(app.events(u, &format!("user:{}", u.id)).await.len());
        }
        v
    };
    for (who, args, status) in [
        (
            &cat,
            vec![("title", "Hi"), ("message", "x"), ("level", "info")],
            StatusCode::FORBIDDEN,
        ),
        (
            &dan,
            vec![("title", "Hi"), ("message", "x"), ("level", "info")],
            StatusCode::FORBIDDEN,
        ),
        (
            &eve,
            vec![("title", "Hi"), ("message", "x"), ("level", "info")],
            StatusCode::NOT_FOUND,
        ),
        (
            &ann,
            vec![("title", ""), ("message", "x"), ("level", "info")],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &ann,
            vec![("title", "Hi"), ("message", "x"), ("level", "loud")],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &ann,
            vec![("title", "Hi\u{7}"), ("message", "x"), ("level", "info")],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let mut args = args;
        args.push(("workspace_id", &ws_s));
        let (got, body) = app.call_as(who, "notifications/send", &args).await;
        assert_eq!(got, status, "{body}");
    }
    let eve_id = eve.id.to_string();
    let (got, body) = app
        .call_as(
            &ann,
            "notifications/send",
            &[
                ("workspace_id", &ws_s),
                ("title", "Hi"),
                ("message", "x"),
                ("level", "info"),
                ("to[0]", &eve_id),
            ],
        )
        .await;
    assert_eq!(
        (got, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("to"))
    );
    let long = "x".repeat(501);
    let (got, body) = app
        .call_as(
            &ann,
            "notifications/send",
            &[
                ("workspace_id", &ws_s),
                ("title", "Hi"),
                ("message", &long),
                ("level", "info"),
            ],
        )
        .await;
    assert_eq!(
        (got, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("message"))
    );
    for (i, u) in [&ann, &bob, &cat, &dan, &eve].into_iter().enumerate() {
        assert_eq!(
            app.events(u, &format!("user:{}", u.id)).await.len(),
            before[i]
        );
    }
    // Ten sends a minute per sender: bob has sent once.
    let mut last = StatusCode::OK;
    let mut ok = 0;
    for _ in 0..12 {
        let (status, _) = app
            .call_as(
                &bob,
                "notifications/send",
                &[
                    ("workspace_id", &ws_s),
                    ("title", "Ping"),
                    ("message", "x"),
                    ("level", "info"),
                ],
            )
            .await;
        if status == StatusCode::OK {
            ok += 1;
        }
        last = status;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(ok, 9, "bob sent once before");
}

/// `outbox::append_all` (a notification to every member, in three statements): each
/// stream's numbering goes on from its own head, new streams start at 1, the log holds
/// exactly those events, and a stream named twice is refused.
async fn one_append_to_many_streams_numbers_each_stream_on(app: TestApp) {
    use app::{
        live::{catalog::Announcement, Event, Stream},
        model::ids::UserId,
        server::outbox,
    };
    let event = || {
        Event::SystemAnnouncement(Announcement {
            title: "t".into(),
            message: "m".into(),
        })
    };
    let (a, b, c) = (
        Stream::User(UserId(901)),
        Stream::User(UserId(902)),
        Stream::User(UserId(903)),
    );
    // Written now: the retention job, which may run at any time, prunes old events.
    let now = app::server::now_ms();
    let mut tx = app.db.pool.begin().await.unwrap();
    for _ in 0..2 {
        outbox::append_all(&mut tx, vec![(b, event())], now)
            .await
            .unwrap();
    }
    let stored = outbox::append_all(&mut tx, vec![(c, event()), (a, event()), (b, event())], now)
        .await
        .unwrap();
    let got: Vec<(Stream, i64)> = stored.iter().map(|(s, (seq, ..))| (*s, *seq)).collect();
    assert_eq!(got, vec![(a, 1), (b, 3), (c, 1)], "in stream order");
    let twice = outbox::append_all(&mut tx, vec![(a, event()), (a, event())], now).await;
    assert!(twice.is_err(), "a stream named twice is refused");
    tx.commit().await.unwrap();

    for (stream, seqs) in [(a, vec![1]), (b, vec![1, 2, 3]), (c, vec![1])] {
        let rows = outbox::read_after(&app.db.pool, stream, 0, 10)
            .await
            .unwrap();
        let logged: Vec<i64> = rows.iter().map(|(seq, _, _)| *seq).collect();
        assert_eq!(logged, seqs, "{stream:?}");
        assert!(rows
            .iter()
            .all(|(_, kind, _)| kind == "system:announcement"));
    }
}

/// The titles of the notifications `user` was sent (`notification:created`), oldest
/// first, with whether each pops up as a toast (`duration_ms` is not 0).
async fn told(app: &TestApp, user: &User) -> Vec<(String, bool)> {
    app.events(user, &format!("user:{}", user.id))
        .await
        .iter()
        .filter(|e| e["event"] == "notification:created")
        .map(|e| {
            let title = e["data"]["title"].as_str().unwrap().to_owned();
            (title, e["data"]["duration_ms"] != 0)
        })
        .collect()
}

async fn quiet_by_default_teammates_entries_are_not_news(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let ws = app.team(&ann, "Studio").await;
    app.add_member(&ann, ws, &bob, "member").await;
    app.create_expense(&bob, ws, "12.50", "Team lunch").await;
    let ws_s = ws.to_string();
    let (_, platform) = app
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
    let platform = platform["id"].as_i64().unwrap().to_string();
    let (status, body) = app
        .call_as(
            &bob,
            "earnings/create",
            &[
                ("workspace_id", &ws_s),
                ("platform_id", &platform),
                ("date", "2026-11-20"),
                ("hours", "2"),
                ("amount", "100"),
                ("currency", "EUR"),
                ("notes", ""),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Only the join is news to ann, as a toast; nothing of it was stored but that.
    assert_eq!(
        told(&app, &ann).await,
        [("bob joined Studio".to_owned(), true)]
    );
    assert_eq!(list(&app, &ann).await["unread"], 1);

    let (status, body) = app
        .call_as(
            &ann,
            "notifications/preferences",
            &[("workspace_id", &ws_s)],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        serde_json::json!([
            ["budgets", "toast"],
            ["goals", "toast"],
            ["team", "toast"],
            ["imports", "toast"],
            ["messages", "toast"],
            ["expenses", "off"],
            ["earnings", "off"]
        ])
    );
}

async fn what_a_member_turns_off_is_neither_stored_nor_sent(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let cat = app.register("cat@example.com").await;
    let ws = app.team(&ann, "Studio").await;
    app.add_member(&ann, ws, &bob, "member").await;
    app.add_member(&ann, ws, &cat, "viewer").await;
    let ws_s = ws.to_string();
    // A viewer chooses too: it is about what they are told.
    app.hear(&cat, ws, &[("expenses", "unread"), ("team", "off")])
        .await;
    app.hear(&ann, ws, &[("expenses", "toast")]).await;
    let (ann_before, cat_before) = (told(&app, &ann).await, told(&app, &cat).await);
    assert_eq!(
        cat_before,
        [],
        "cat joined last: nothing since, and her own join is not news to her"
    );

    app.create_expense(&bob, ws, "12.50", "Team lunch").await;
    let dan = app.register("dan@example.com").await;
    app.add_member(&ann, ws, &dan, "member").await;
    let ann_after = told(&app, &ann).await;
    assert_eq!(
        ann_after[ann_before.len()..],
        [
            ("New expense in Studio".to_owned(), true),
            ("dan joined Studio".to_owned(), true)
        ]
    );
    // Unread only: stored and sent, no toast; team changes: nothing at all.
    assert_eq!(
        told(&app, &cat).await,
        [("New expense in Studio".to_owned(), false)]
    );
    let cats = list(&app, &cat).await;
    assert_eq!(cats["unread"], 1, "{cats}");
    assert_eq!(cats["items"].as_array().unwrap().len(), 1);

    // A wrong value anywhere: 422 naming the topic, and nothing of the request stored.
    let (status, body) = app
        .call_as(
            &cat,
            "notifications/set-preferences",
            &[
                ("workspace_id", &ws_s),
                ("expenses", "off"),
                ("goals", "loud"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("goals"), "{body}");
    let (_, mine) = app
        .call_as(
            &cat,
            "notifications/preferences",
            &[("workspace_id", &ws_s)],
        )
        .await;
    assert!(
        mine.as_array()
            .unwrap()
            .contains(&serde_json::json!(["expenses", "unread"])),
        "{mine}"
    );
    // Back to the default: the choice is forgotten, the default applies.
    app.hear(&cat, ws, &[("expenses", "off")]).await;
    app.create_expense(&bob, ws, "3", "Coffee").await;
    assert_eq!(told(&app, &cat).await.len(), 1);
    // Someone else's workspace: not found; no session: 401.
    let outsider = app.register("eve@example.com").await;
    let (status, _) = app
        .call_as(
            &outsider,
            "notifications/set-preferences",
            &[("workspace_id", &ws_s), ("expenses", "toast")],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .call(
            "notifications/preferences",
            None,
            &[("workspace_id", &ws_s)],
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Leaving forgets the choices: a member who comes back starts quiet again.
    app.remove_member(&cat, ws, &cat).await;
    app.add_member(&ann, ws, &cat, "member").await;
    let (_, again) = app
        .call_as(
            &cat,
            "notifications/preferences",
            &[("workspace_id", &ws_s)],
        )
        .await;
    assert!(
        again
            .as_array()
            .unwrap()
            .contains(&serde_json::json!(["team", "toast"])),
        "{again}"
    );
}

async fn one_write_tells_each_member_once(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let ws = app.team(&ann, "Studio").await;
    app.add_member(&ann, ws, &bob, "member").await;
    let ws_s = ws.to_string();
    let goal = app.create_goal(&ann, ws, "Laptop", "200").await;
    let id = goal["id"].as_i64().unwrap().to_string();
    let before = (told(&app, &ann).await.len(), told(&app, &bob).await.len());
    // Past 25, 50, 75 and 100 % in one contribution, and the goal achieved.
    let (status, body) = app
        .call_as(
            &bob,
            "goals/contribute",
            &[("workspace_id", &ws_s), ("id", &id), ("amount", "200")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for (user, before) in [(&ann, before.0), (&bob, before.1)] {
        let events = app.events(user, &format!("user:{}", user.id)).await;
        let created = notifications(&events);
        assert_eq!(
            created.len(),
            before + 1,
            "one notification for the burst: {created:?}"
        );
        let data = &created[before]["data"];
        assert_eq!(data["title"], "Goal achieved in Studio: Laptop");
        assert_eq!(
            data["message"],
            "200.00 EUR of 200.00 EUR saved. Also: Laptop: 25 % reached; Laptop: 50 % reached; Laptop: 75 % reached."
        );
    }
}

async fn deleting_a_row_takes_back_what_was_said_about_it(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let ws = app.team(&ann, "Studio").await;
    app.add_member(&ann, ws, &bob, "member").await;
    app.hear(&ann, ws, &[("expenses", "toast")]).await;
    let ws_s = ws.to_string();
    let mut ids = Vec::new();
    for what in ["one", "two", "three"] {
        let (_, e) = app.create_expense(&bob, ws, "1", what).await;
        ids.push(e["id"].as_i64().unwrap().to_string());
    }
    let before = list(&app, &ann).await;
    assert_eq!(
        before["unread"], 4,
        "three expenses and bob's join: {before}"
    );
    let cursor = before["cursor"].as_i64().unwrap();
    let about = |list: &Value, what: &str| {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["message"].as_str().unwrap().contains(what))
            .map(|n| n["id"].as_i64().unwrap())
            .collect::<Vec<_>>()
    };

    let (status, _) = app
        .call_as(
            &bob,
            "expenses/delete",
            &[("workspace_id", &ws_s), ("id", &ids[0])],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app
        .call_as(
            &bob,
            "expenses/delete-many",
            &[
                ("workspace_id", &ws_s),
                ("ids[0]", &ids[1]),
                ("ids[1]", &ids[2]),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let after = list(&app, &ann).await;
    assert_eq!(after["unread"], 1, "only the join is left: {after}");
    // Each retraction is announced on ann's stream, so her toasts and list follow.
    let (_, polled) = app
        .poll(&ann, &[(&format!("user:{}", ann.id), cursor)])
        .await;
    let mut dismissed: Vec<i64> = polled["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "notification:dismissed")
        .map(|e| e["data"]["id"].as_i64().unwrap())
        .collect();
    dismissed.sort_unstable();
    let mut expected: Vec<i64> = ["one", "two", "three"]
        .iter()
        .flat_map(|w| about(&before, &format!("bob added {w}:")))
        .collect();
    expected.sort_unstable();
    assert_eq!(expected.len(), 3);
    assert_eq!(dismissed, expected, "{polled}");
}

/// Expenses are a quiet topic (off unless chosen), read from the choices alone
/// (`events::Write::notice`): only a current member who chose it is told, whatever
/// choices are stored for others.
async fn a_quiet_topic_is_heard_by_the_members_who_chose_it_and_no_one_else(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let cat = app.register("cat@example.com").await;
    let dan = app.register("dan@example.com").await;
    let ws = app.team(&ann, "Studio").await;
    app.add_member(&ann, ws, &bob, "member").await;
    app.add_member(&ann, ws, &cat, "member").await;
    app.hear(&cat, ws, &[("expenses", "unread")]).await;
    // A choice left behind for someone who is not a member (not something the app
    // leaves: removals delete choices; the read must not depend on that).
    sqlx::query(
        "INSERT INTO notification_preferences (workspace_id, user_id, topic, mode) \
         VALUES ($1, $2, 'expenses', 'toast')",
    )
    .bind(ws)
    .bind(dan.id)
    .execute(&app.db.pool)
    .await
    .unwrap();
    let before = [
        told(&app, &ann).await.len(),
        told(&app, &bob).await.len(),
        told(&app, &dan).await.len(),
    ];

    let (status, body) = app.create_expense(&bob, ws, "4.20", "Paper").await;
    assert_eq!(status, StatusCode::OK, "{body}");

    assert_eq!(
        told(&app, &cat).await,
        [("New expense in Studio".to_owned(), false)],
        "cat chose unread only"
    );
    let after = [
        told(&app, &ann).await.len(),
        told(&app, &bob).await.len(),
        told(&app, &dan).await.len(),
    ];
    assert_eq!(
        after, before,
        "ann left the default, bob wrote it, dan is no member"
    );
}
