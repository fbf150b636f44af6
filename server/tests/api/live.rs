//! The event log: written in the same transaction as the change, numbered gap-free per
//! stream, served by the polling transport to current members only.

use reqwest::StatusCode;
use serde_json::Value;

use app::{
    earnings::EarningList,
    expenses::ExpenseList,
    live::{
        follow::{apply_batch, Followed, Step},
        Envelope,
    },
};

use crate::helpers::TestApp;

crate::on_both_backends!(
    each_change_writes_its_event_in_the_same_transaction,
    refused_and_rolled_back_writes_emit_nothing,
    concurrent_writers_get_gap_free_sequences_and_a_tailing_reader_misses_nothing,
    only_members_read_a_workspace_stream,
    lists_carry_the_cursor_they_are_consistent_with,
    odd_cursors_get_clear_answers,
    a_snapshot_plus_the_events_after_it_equals_a_fresh_snapshot,
);

fn names(events: &[Value]) -> Vec<(i64, String)> {
    events
        .iter()
        .map(|e| {
            (
                e["seq"].as_i64().unwrap(),
                e["event"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn each_change_writes_its_event_in_the_same_transaction(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let ws = ann.personal_ws;
    let stream = format!("ws:{ws}");
    let ws_s = ws.to_string();
    let (_, a) = app.create_expense(&ann, ws, "10", "a").await;
    let (_, b) = app.create_expense(&ann, ws, "20", "b").await;
    let (_, c) = app.create_expense(&ann, ws, "30", "c").await;
    let id = |v: &Value| v["id"].as_i64().unwrap().to_string();
    app.update_expense(&ann, ws, &id(&a), "11", "a2").await;
    app.call_as(
        &ann,
        "expenses/delete",
        &[("workspace_id", &ws_s), ("id", &id(&a))],
    )
    .await;
    app.call_as(
        &ann,
        "expenses/delete-many",
        &[
            ("workspace_id", &ws_s),
            ("ids[0]", &id(&b)),
            ("ids[1]", &id(&c)),
        ],
    )
    .await;

    let events = app.events(&ann, &stream).await;
    assert_eq!(
        names(&events),
        [
            (1, "expense:created"),
            (2, "expense:created"),
            (3, "expense:created"),
            (4, "expense:updated"),
            (5, "expense:deleted"),
            (6, "expenses:bulk-deleted")
        ]
        .map(|(s, n)| (s, n.to_owned()))
    );
    let first = &events[0];
    assert_eq!(first["stream"], stream.as_str());
    assert_eq!(first["priority"], "normal");
    assert!(first["timestamp"].as_i64().unwrap() > 1_700_000_000_000);
    assert_eq!(
        first["data"], a,
        "the event carries the expense as the API returned it"
    );
    assert_eq!(events[3]["data"]["description"], "a2");
    // The deletion names the row and carries it as it was (the edit above included).
    assert_eq!(events[4]["data"]["id"], a["id"]);
    assert_eq!(events[4]["data"]["was"]["description"], "a2");
    let mut bulk: Vec<i64> = events[5]["data"]["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    bulk.sort();
    assert_eq!(bulk, [b["id"].as_i64().unwrap(), c["id"].as_i64().unwrap()]);

    // Earnings: earnings:new, earnings:updated with the changed fields, earnings:deleted.
    let (_, list) = app
        .call_as(&ann, "earnings/list", &[("workspace_id", &ws_s)])
        .await;
    let platform = list["platforms"][0]["id"].as_i64().unwrap().to_string();
    let (_, e) = app
        .call_as(
            &ann,
            "earnings/create",
            &[
                ("workspace_id", &ws_s),
                ("platform_id", &platform),
                ("date", "2026-11-02"),
                ("hours", "2"),
                ("amount", "100"),
                ("currency", "USD"),
                ("notes", "n"),
            ],
        )
        .await;
    app.call_as(
        &ann,
        "earnings/update",
        &[
            ("workspace_id", &ws_s),
            ("id", &id(&e)),
            ("platform_id", &platform),
            ("date", "2026-11-02"),
            ("hours", "2.5"),
            ("amount", "100"),
            ("currency", "USD"),
            ("notes", "n"),
        ],
    )
    .await;
    app.call_as(
        &ann,
        "earnings/delete",
        &[("workspace_id", &ws_s), ("id", &id(&e))],
    )
    .await;
    let (_, polled) = app.poll(&ann, &[(&stream, 6)]).await;
    let events = polled["events"].as_array().unwrap();
    assert_eq!(
        names(events),
        [
            (7, "earnings:new"),
            (8, "earnings:updated"),
            (9, "earnings:deleted")
        ]
        .map(|(s, n)| (s, n.to_owned()))
    );
    assert_eq!(
        events[1]["data"]["changes"],
        serde_json::json!([{"field": "hours", "from": "2", "to": "2.5"}])
    );
    assert_eq!(
        polled["cursors"],
        serde_json::json!([{"stream": stream, "after": 9}])
    );
}

async fn refused_and_rolled_back_writes_emit_nothing(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let ws = ann.personal_ws;
    let (_, a) = app.create_expense(&ann, ws, "10", "a").await;
    let (_, theirs) = app
        .create_expense(&bob, bob.personal_ws, "10", "bob's")
        .await;
    let ws_s = ws.to_string();
    // Rolled back inside the transaction: one id is not in this workspace.
    let (status, _) = app
        .call_as(
            &ann,
            "expenses/delete-many",
            &[
                ("workspace_id", &ws_s),
                ("ids[0]", &a["id"].to_string()),
                ("ids[1]", &theirs["id"].to_string()),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Refused before writing: bad input, and an outsider.
    let (status, _) = app.create_expense(&ann, ws, "-1", "bad").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = app.create_expense(&bob, ws, "5", "intruder").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let events = app.events(&ann, &format!("ws:{ws}")).await;
    assert_eq!(
        names(&events),
        [(1, "expense:created".to_owned())],
        "only the committed write left an event"
    );
    assert_eq!(app.expenses(&ann, ws).await["count"], 1);
}

async fn concurrent_writers_get_gap_free_sequences_and_a_tailing_reader_misses_nothing(
    app: TestApp,
) {
    let owner = app.register("owner@example.com").await;
    let (ws, writers) = app.team_of(&owner, "Busy", 3).await;
    let stream = format!("ws:{ws}");
    let (_, start) = app.poll(&owner, &[(&stream, 0)]).await;
    let start_cursor = start["cursors"][0]["after"].as_i64().unwrap();
    const PER_WRITER: usize = 10;
    let total = writers.len() * PER_WRITER;

    // A reader tails the stream by cursor while the writers race.
    let app = std::sync::Arc::new(app);
    let reader = {
        let app = app.clone();
        let owner = owner.clone();
        let stream = stream.clone();
        tokio::spawn(async move {
            let mut cursor = start_cursor;
            let mut seen: Vec<i64> = Vec::new();
            let mut polls = 0;
            while seen.len() < total {
                let (status, body) = app.poll(&owner, &[(&stream, cursor)]).await;
                assert_eq!(status, StatusCode::OK);
                for e in body["events"].as_array().unwrap() {
                    seen.push(e["seq"].as_i64().unwrap());
                }
                cursor = body["cursors"][0]["after"].as_i64().unwrap();
                polls += 1;
                assert!(polls < 10_000, "the reader never caught up");
                tokio::task::yield_now().await;
            }
            seen
        })
    };
    let mut tasks = Vec::new();
    for (w, user) in writers.iter().enumerate() {
        for i in 0..PER_WRITER {
            let app = app.clone();
            let user = user.clone();
            tasks.push(tokio::spawn(async move {
                let (status, body) = app
                    .create_expense(
                        &user,
                        ws,
                        &format!("{}.{:02}", w + 1, i),
                        &format!("w{w}-{i}"),
                    )
                    .await;
                assert_eq!(status, StatusCode::OK, "{body}");
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    let seen = reader.await.unwrap();
    let expected: Vec<i64> = (start_cursor + 1..=start_cursor + total as i64).collect();
    assert_eq!(
        seen, expected,
        "the tailing reader saw every sequence number once, in order"
    );

    let events = app.events(&owner, &stream).await;
    let created: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "expense:created")
        .collect();
    assert_eq!(created.len(), total);
    let mut ids: Vec<i64> = created
        .iter()
        .map(|e| e["data"]["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), total, "one event per expense");
}

async fn only_members_read_a_workspace_stream(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let a_ws = app.team(&ann, "A").await;
    let b_ws = app.team(&bob, "B").await;
    app.create_expense(&ann, a_ws, "1", "in A").await;
    app.create_expense(&bob, b_ws, "2", "in B").await;

    let (status, body) = app
        .poll(
            &ann,
            &[
                (&format!("ws:{a_ws}"), 0),
                (&format!("ws:{b_ws}"), 0),
                (&format!("user:{}", bob.id), 0),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let texts = body["events"].to_string();
    assert!(texts.contains("in A") && !texts.contains("in B"), "{texts}");
    assert_eq!(
        body["denied"],
        serde_json::json!([format!("ws:{b_ws}"), format!("user:{}", bob.id)])
    );

    // Membership is checked at read time: once Bob is let in, he reads A's log from his
    // own member:joined on. What happened before is in the lists he loads, not in a
    // replay: a cursor from before his join is answered resync, with the head to go on.
    app.add_member(&ann, a_ws, &bob, "viewer").await;
    let a_stream = format!("ws:{a_ws}");
    let (_, early) = app.poll(&bob, &[(&a_stream, 0)]).await;
    assert_eq!(early["resync"], serde_json::json!([a_stream]));
    assert_eq!(early["events"], serde_json::json!([]));
    let head = early["cursors"][0]["after"].as_i64().unwrap();
    let (_, from_join) = app.poll(&bob, &[(&a_stream, head - 1)]).await;
    let joined = &from_join["events"][0];
    assert_eq!(
        (&joined["event"], &joined["data"]["user_id"], &joined["seq"]),
        (
            &serde_json::json!("member:joined"),
            &serde_json::json!(bob.id),
            &serde_json::json!(head)
        )
    );
    let (_, too_early) = app.poll(&bob, &[(&a_stream, head - 2)]).await;
    assert_eq!(too_early["resync"], serde_json::json!([a_stream]));
    let (_, lists) = app
        .call_as(
            &bob,
            "expenses/list",
            &[("workspace_id", &a_ws.to_string())],
        )
        .await;
    assert_eq!(
        lists["items"][0]["description"], "in A",
        "the list has the past"
    );

    let res = app
        .http
        .post(format!("{}/api/live/poll", app.base))
        .json(&serde_json::json!({"cursors": [{"stream": format!("ws:{a_ws}"), "after": 0}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "no token, no events"
    );
}

async fn lists_carry_the_cursor_they_are_consistent_with(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let ws = ann.personal_ws;
    app.create_expense(&ann, ws, "1", "one").await;
    app.create_expense(&ann, ws, "2", "two").await;
    let list = app.expenses(&ann, ws).await;
    assert_eq!(list["cursor"], 2);
    app.create_expense(&ann, ws, "3", "three").await;
    let (_, after) = app
        .poll(
            &ann,
            &[(&format!("ws:{ws}"), list["cursor"].as_i64().unwrap())],
        )
        .await;
    let events = after["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "exactly what the list did not have");
    assert_eq!(events[0]["data"]["description"], "three");
    let (_, earnings) = app
        .call_as(&ann, "earnings/list", &[("workspace_id", &ws.to_string())])
        .await;
    assert_eq!(earnings["cursor"], 3, "one stream per workspace");
}

async fn odd_cursors_get_clear_answers(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let ws = format!("ws:{}", ann.personal_ws);
    app.create_expense(&ann, ann.personal_ws, "1", "one").await;
    let (status, body) = app.poll(&ann, &[(&ws, 99)]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["resync"],
        serde_json::json!([ws]),
        "a cursor past the head must start over"
    );
    assert_eq!(body["cursors"][0]["after"], 1);
    let (status, body) = app.poll(&ann, &[(&ws, -1)]).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("cursors"))
    );
    let (status, _) = app.poll(&ann, &[("team:1", 0)]).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "unknown stream kinds are malformed input"
    );
    let many: Vec<(String, i64)> = (1..=65).map(|i| (format!("ws:{i}"), 0)).collect();
    let many: Vec<(&str, i64)> = many.iter().map(|(s, a)| (s.as_str(), *a)).collect();
    let (status, _) = app.poll(&ann, &many).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// What the browser does with a list: start from a snapshot, apply the events after
/// its cursor in place. The result must be exactly what a fresh load returns.
async fn a_snapshot_plus_the_events_after_it_equals_a_fresh_snapshot(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let ws = app.team(&ann, "Studio").await;
    let ws_s = ws.to_string();
    app.add_member(&ann, ws, &bob, "member").await;
    let mut ids = Vec::new();
    for (who, amount, what) in [(&ann, "1", "a"), (&bob, "2", "b"), (&ann, "3", "c")] {
        let (status, e) = app.create_expense(who, ws, amount, what).await;
        assert_eq!(status, StatusCode::OK, "{e}");
        ids.push(e["id"].as_i64().unwrap().to_string());
    }
    let load = |path: &'static str| {
        let (app, ann, ws_s) = (&app, &ann, ws_s.clone());
        async move {
            let (status, body) = app.call_as(ann, path, &[("workspace_id", &ws_s)]).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body
        }
    };
    let mut expenses: ExpenseList = serde_json::from_value(load("expenses/list").await).unwrap();
    let mut earnings: EarningList = serde_json::from_value(load("earnings/list").await).unwrap();
    let start = expenses.cursor();
    assert_eq!(start, earnings.cursor());

    // Every kind of change, by both members, in other currencies and dates too.
    let (_, e) = app.create_expense(&bob, ws, "4", "d").await;
    let d = e["id"].as_i64().unwrap().to_string();
    app.update_expense(&ann, ws, &ids[0], "10", "a, edited")
        .await;
    let (status, body) = app
        .call_as(
            &ann,
            "expenses/delete",
            &[("workspace_id", &ws_s), ("id", &ids[1])],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .call_as(
            &bob,
            "expenses/delete-many",
            &[
                ("workspace_id", &ws_s),
                (&format!("ids[{}]", ids[2]), &ids[2]),
                (&format!("ids[{d}]"), &d),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, e) = app.create_expense(&ann, ws, "5", "e").await;
    // Moved to another category and month: both sums per category must follow.
    let (status, body) = app
        .call_as(
            &ann,
            "expenses/update",
            &[
                ("workspace_id", &ws_s),
                ("id", &e["id"].as_i64().unwrap().to_string()),
                ("amount", "6"),
                ("currency", "EUR"),
                ("category", "Travel"),
                ("description", "e, moved"),
                ("date", "2026-10-05"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
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
    let platform = platform["id"].as_i64().unwrap().to_string();
    let earning = |amount: &'static str, id: Option<String>| {
        let (app, bob, ws_s, platform) = (&app, &bob, ws_s.clone(), platform.clone());
        async move {
            let mut form = vec![
                ("workspace_id", ws_s),
                ("platform_id", platform),
                ("date", "2026-11-02".to_owned()),
                ("hours", "2".to_owned()),
                ("amount", amount.to_owned()),
                ("currency", "USD".to_owned()),
                ("notes", "gig".to_owned()),
            ];
            let path = match id {
                Some(id) => {
                    form.push(("id", id));
                    "earnings/update"
                }
                None => "earnings/create",
            };
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let (status, body) = app.call_as(bob, path, &form).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body["id"].as_i64().unwrap_or_default().to_string()
        }
    };
    let first = earning("100", None).await;
    let second = earning("40", None).await;
    earning("120", Some(first.clone())).await;
    let (status, body) = app
        .call_as(
            &bob,
            "earnings/delete",
            &[("workspace_id", &ws_s), ("id", &second)],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, polled) = app.poll(&ann, &[(&format!("ws:{ws}"), start)]).await;
    assert_eq!(status, StatusCode::OK, "{polled}");
    let events: Vec<Envelope> = serde_json::from_value(polled["events"].clone()).unwrap();
    assert_eq!(events.len(), 11, "{polled}");
    assert_eq!(apply_batch(&mut expenses, &events), Step::Applied);
    assert_eq!(apply_batch(&mut earnings, &events), Step::Applied);
    let fresh_expenses: ExpenseList = serde_json::from_value(load("expenses/list").await).unwrap();
    let fresh_earnings: EarningList = serde_json::from_value(load("earnings/list").await).unwrap();
    assert_eq!(expenses, fresh_expenses);
    assert_eq!(earnings, fresh_earnings);
    assert_eq!(expenses.items.len(), 2, "a (edited) and e remain");

    // Applying the same events again changes nothing; skipping one asks for a reload.
    assert_eq!(apply_batch(&mut expenses, &events), Step::Unchanged);
    let mut stale: ExpenseList = serde_json::from_value(load("expenses/list").await).unwrap();
    stale.cursor -= 2;
    assert_eq!(
        apply_batch(&mut stale, &events[events.len() - 1..]),
        Step::Reload
    );
}

/// On SQLite every write runs on the one writer connection and holds the write lock from
/// its first statement (`Writer::begin`): a writer elsewhere cannot commit between a
/// write's read and its own write (which would fail the write with SQLITE_BUSY), and it
/// gets in once the write has committed.
#[tokio::test]
async fn a_sqlite_write_holds_the_lock_from_its_start() {
    use sqlx::{Connection, Executor};

    let app = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite).await;
    app.register("ann@example.com").await;
    let db = &app.db;
    let mut write = db.writer.begin().await.unwrap();
    let (versions,): (i64,) = sqlx::query_as("SELECT SUM(token_version) FROM users")
        .fetch_one(&mut *write)
        .await
        .unwrap();

    // Another connection that does not wait: refused while the write is open…
    let mut other = sqlx::AnyConnection::connect_with(&db.pool.connect_options())
        .await
        .unwrap();
    other.execute("PRAGMA busy_timeout = 0").await.unwrap();
    let bump = "UPDATE users SET token_version = token_version + 1";
    let refused = other.execute(bump).await.unwrap_err();
    assert!(
        refused.to_string().contains("locked"),
        "the write lock is held from the start: {refused}"
    );
    sqlx::query("UPDATE users SET token_version = $1")
        .bind(versions + 10)
        .execute(&mut *write)
        .await
        .unwrap();
    write.commit().await.unwrap();

    // …and let in after its commit, on top of what the write stored.
    other.execute(bump).await.unwrap();
    let (now,): (i64,) = sqlx::query_as("SELECT SUM(token_version) FROM users")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(now, versions + 11);
}
