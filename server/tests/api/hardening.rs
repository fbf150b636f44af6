//! The live layer against adversarial clients: text that imitates an event kind,
//! subscriptions, upgrades and writes racing a revocation, one frame asking for a stream
//! many times, one user holding every socket, floods of every frame kind. Each test here
//! failed against the code before the fix it names (issue 9; the write race, 2026-12-06).
//!
//! The races run many trials under background load on a multi-threaded runtime, for a
//! bounded time; the rule they check must hold in every trial.

use std::time::Duration;

use app::model::ids::{UserId, WorkspaceId};
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;

use crate::{
    helpers::{TestApp, User, OPERATOR_TOKEN},
    socket::{connect, eventually, flood, next, open, Ws},
};

/// Runs an async test body once on SQLite and once on PostgreSQL, on a runtime with
/// two worker threads (so that the server, the racing clients and the load really run
/// at the same time).
macro_rules! raced_on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name(crate::helpers::spawn_app(crate::helpers::Backend::Sqlite).await).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name(crate::helpers::spawn_app(crate::helpers::Backend::Postgres).await).await
                }
            }
        )*
    };
}

crate::on_both_backends!(
    text_that_names_an_event_kind_revokes_no_one,
    a_stream_named_many_times_in_one_frame_is_replayed_once,
    a_refused_subscribe_frame_follows_nothing,
);

raced_on_both_backends!(
    a_write_racing_its_writers_removal_lands_before_it_or_not_at_all,
    a_subscribe_racing_a_removal_never_leaks_what_follows_it,
    a_force_disconnect_closes_sockets_whose_upgrade_was_in_flight,
    a_password_change_ends_every_other_session_even_mid_upgrade,
    sockets_subscribing_while_events_are_written_get_each_once_in_order,
);

/// Finding 1: the hub matched the stored JSON as text, so a description reading
/// `workspace:deleted` revoked every socket in the room.
async fn text_that_names_an_event_kind_revokes_no_one(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let team = app.team(&ann, "Team").await;
    app.add_member(&ann, team, &bob, "member").await;
    let stream = format!("ws:{team}");
    let head = app.expenses(&ann, team).await["cursor"].as_i64().unwrap();
    let (mut ann_ws, _) = open(&app, &ann, &[(&stream, head)]).await;
    let (mut bob_ws, _) = open(&app, &bob, &[(&stream, head)]).await;

    let tricks = [
        "workspace:deleted",
        "\"workspace:deleted\"",
        &format!("\"member:left\" {{\"user_id\":{}}}", bob.id),
        "after the tricks",
    ];
    for text in tricks {
        let (status, body) = app.create_expense(&ann, team, "1", text).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // A rename to the same text, for the workspace's own payload.
    let (status, _) = app
        .call_as(
            &ann,
            "workspaces/rename",
            &[
                ("workspace_id", &team.to_string()),
                ("name", "workspace:deleted"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    for socket in [&mut ann_ws, &mut bob_ws] {
        for text in tricks {
            let frame = next(socket).await;
            assert_eq!(frame["type"], "event", "still following: {frame}");
            assert_eq!(frame["data"]["description"], text);
        }
        let frame = next(socket).await;
        assert_eq!(
            (&frame["event"], &frame["data"]["name"]),
            (&json!("workspace:updated"), &json!("workspace:deleted"))
        );
    }
    assert_eq!(
        app.hub
            .room_size(app::live::Stream::Workspace(WorkspaceId(team))),
        (2, 2)
    );
}

/// Finding 4: one frame naming a stream 64 times replayed it 64 times. Duplicates
/// count once, and a socket replays at most its budget (`replay_burst`); beyond, the
/// stream is answered `resync`.
async fn a_stream_named_many_times_in_one_frame_is_replayed_once(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let stream = format!("ws:{}", ann.personal_ws);
    flood(&app, ann.personal_ws, 300, 16).await;
    let head = app.expenses(&ann, ann.personal_ws).await["cursor"]
        .as_i64()
        .unwrap();
    assert!(head >= 300);

    let mut ws = connect(&app, Some(&ann.token), None).await.unwrap();
    assert_eq!(next(&mut ws).await["type"], "hello");
    let cursors: Vec<Value> = (0..64)
        .map(|_| json!({"stream": stream, "after": 0}))
        .collect();
    ws.send(Message::text(
        json!({"type": "subscribe", "cursors": cursors}).to_string(),
    ))
    .await
    .unwrap();
    let mut replayed = Vec::new();
    let answer = loop {
        let frame = next(&mut ws).await;
        if frame["type"] == "subscribed" {
            break frame;
        }
        replayed.push(frame["seq"].as_i64().unwrap());
    };
    assert_eq!(replayed, (1..=head).collect::<Vec<_>>(), "each event once");
    assert_eq!(
        answer["cursors"],
        json!([{"stream": stream, "after": head}])
    );

    // The same again at once: more than the rest of the socket's budget (5,000 at once,
    // 500 a second back), so with a big enough log the server says resync instead.
    flood(&app, ann.personal_ws, 4_800, 16).await;
    let head = head + 4_800;
    ws.send(Message::text(
        json!({"type": "subscribe", "cursors": [{"stream": stream, "after": 0}]}).to_string(),
    ))
    .await
    .unwrap();
    // Live events of the flood may come first (the socket follows the stream).
    let answer = loop {
        let frame = next(&mut ws).await;
        if frame["type"] == "subscribed" {
            break frame;
        }
        assert_eq!(frame["type"], "event");
    };
    assert_eq!(answer["resync"], json!([stream]), "{answer}");
    assert_eq!(
        answer["cursors"],
        json!([{"stream": stream, "after": head}])
    );
}

/// Finding 7: a `subscribe` refused for its second cursor still followed its first.
async fn a_refused_subscribe_frame_follows_nothing(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let mut ws = connect(&app, Some(&ann.token), None).await.unwrap();
    assert_eq!(next(&mut ws).await["type"], "hello");
    let own = format!("ws:{}", ann.personal_ws);
    ws.send(Message::text(
        json!({"type": "subscribe", "cursors": [
            {"stream": own, "after": 0},
            {"stream": format!("user:{}", ann.id), "after": -1},
        ]})
        .to_string(),
    ))
    .await
    .unwrap();
    assert_eq!(next(&mut ws).await["code"], "bad_cursor");
    assert_eq!(
        app.hub
            .room_size(app::live::Stream::Workspace(WorkspaceId(ann.personal_ws))),
        (0, 0),
        "the refused frame joined no room"
    );
    assert_eq!(
        app.hub.room_size(app::live::Stream::User(UserId(ann.id))),
        (0, 0)
    );
}

/// A little steady work on the server while a race runs: writes and polls by `users`
/// new users who have nothing to do with it, until the returned set is dropped.
async fn background_load(app: &TestApp, users: usize) -> JoinSet<()> {
    let mut set = JoinSet::new();
    for n in 0..users {
        let user = app.register(&format!("load{n}@example.com")).await;
        let (http, base, token, ws) = (
            app.http.clone(),
            app.base.clone(),
            user.token.clone(),
            user.personal_ws,
        );
        set.spawn(async move {
            for i in 0.. {
                let amount = format!("{}", i % 50 + 1);
                let _ = post_expense(&http, &base, &token, ws, &amount, "load").await;
                let _ = http
                    .post(format!("{base}/api/live/poll"))
                    .bearer_auth(&token)
                    .json(&json!({"cursors": [{"stream": format!("ws:{ws}"), "after": 0}]}))
                    .send()
                    .await;
            }
        });
    }
    set
}

/// `expenses/create` (EUR, Food, 2026-11-20) as `token`, from a task that holds the
/// client and the address but not the `TestApp`.
async fn post_expense(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    ws: i64,
    amount: &str,
    description: &str,
) -> reqwest::Result<reqwest::Response> {
    let form = [
        ("workspace_id", ws.to_string()),
        ("amount", amount.into()),
        ("currency", "EUR".into()),
        ("category", "Food".into()),
        ("description", description.into()),
        ("date", "2026-11-20".into()),
    ];
    http.post(format!("{base}/api/expenses/create"))
        .bearer_auth(token)
        .form(&form)
        .send()
        .await
}

/// Reads a socket until `until` says stop; returns the frames before and the one it
/// stopped at.
async fn read_until(ws: &mut Ws, mut until: impl FnMut(&Value) -> bool) -> (Vec<Value>, Value) {
    let mut frames = Vec::new();
    loop {
        let frame = next(ws).await;
        if until(&frame) {
            return (frames, frame);
        }
        frames.push(frame);
    }
}

/// Finding 2: a socket that subscribed within milliseconds of the removal joined the
/// room after the hub had revoked the room's sockets, and kept receiving. Now the
/// socket joins first and its access is checked after, and its replay stops at the
/// removal: in every trial, nothing of the workspace from the removal on reaches any
/// of the removed member's sockets, and each one ends up told (`denied` or `revoked`).
/// Writes by a member whose removal commits while they are in flight: the guard let
/// each in, but the write must land before the removal (its event before `member:left`)
/// or not at all (answered as a non-member is). Before the write checked the membership
/// again inside its transaction, writes that had passed the guard and then waited for
/// the writer behind the removal were stored after it.
async fn a_write_racing_its_writers_removal_lands_before_it_or_not_at_all(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let _load = background_load(&app, 3).await;

    const WRITES: usize = 12;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(12);
    let (mut trials, mut landed, mut refused) = (0, 0, 0);
    while trials < 3 || (tokio::time::Instant::now() < deadline && trials < 40) {
        trials += 1;
        let team = app.team(&ann, &format!("Team {trials}")).await;
        app.add_member(&ann, team, &bob, "member").await;
        // Bob's writes, each sent at its own moment around the removal.
        let mut writes = JoinSet::new();
        for i in 0..WRITES {
            let (http, base, token) = (app.http.clone(), app.base.clone(), bob.token.clone());
            writes.spawn(async move {
                tokio::time::sleep(Duration::from_micros(700 * i as u64)).await;
                let res = post_expense(&http, &base, &token, team, "1", &format!("raced {i}"))
                    .await
                    .unwrap();
                (i, res.status(), res.text().await.unwrap())
            });
        }
        tokio::time::sleep(Duration::from_micros(700 * WRITES as u64 / 2)).await;
        app.remove_member(&ann, team, &bob).await;
        let answers = writes.join_all().await;

        let log = app.events(&ann, &format!("ws:{team}")).await;
        let left = log
            .iter()
            .position(|e| e["event"] == "member:left")
            .expect("the removal is logged");
        for (i, status, body) in answers {
            let logged = log.iter().position(|e| {
                e["event"] == "expense:created" && e["data"]["description"] == format!("raced {i}")
            });
            match status {
                StatusCode::OK => {
                    landed += 1;
                    let at = logged.unwrap_or_else(|| {
                        panic!("trial {trials}: write {i} answered OK is not logged")
                    });
                    assert!(
                        at < left,
                        "trial {trials}: write {i} landed at {at}, after member:left at {left}"
                    );
                }
                StatusCode::NOT_FOUND => {
                    refused += 1;
                    assert_eq!(
                        logged, None,
                        "trial {trials}: refused write {i} was logged: {body}"
                    );
                }
                other => panic!("trial {trials}: write {i} answered {other}: {body}"),
            }
        }
    }
    // Both outcomes happened, or the race was not run.
    assert!(
        landed > 0 && refused > 0,
        "{landed} landed, {refused} refused in {trials} trials"
    );
}

async fn a_subscribe_racing_a_removal_never_leaks_what_follows_it(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let _load = background_load(&app, 3).await;

    const SOCKETS: usize = 12;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(12);
    let mut trials = 0;
    while trials < 3 || (tokio::time::Instant::now() < deadline && trials < 40) {
        trials += 1;
        let team = app.team(&ann, &format!("Team {trials}")).await;
        app.add_member(&ann, team, &bob, "member").await;
        let team_stream = format!("ws:{team}");
        let own_stream = format!("ws:{}", bob.personal_ws);
        let head = app.expenses(&ann, team).await["cursor"].as_i64().unwrap();
        let (mut ann_ws, _) = open(&app, &ann, &[(&team_stream, head)]).await;
        app.create_expense(&ann, team, "1", "before").await;
        assert_eq!(next(&mut ann_ws).await["data"]["description"], "before");

        // Bob's sockets are open; each subscribes at its own moment around the removal.
        let mut sockets = Vec::new();
        for _ in 0..SOCKETS {
            let mut ws = connect(&app, Some(&bob.token), None).await.unwrap();
            assert_eq!(next(&mut ws).await["type"], "hello");
            sockets.push(ws);
        }
        let own_head = app.expenses(&bob, bob.personal_ws).await["cursor"]
            .as_i64()
            .unwrap();
        let mut subscribers = JoinSet::new();
        for (i, mut ws) in sockets.into_iter().enumerate() {
            let frame = json!({"type": "subscribe", "cursors": [
                {"stream": own_stream, "after": own_head},
                {"stream": team_stream, "after": head},
            ]})
            .to_string();
            subscribers.spawn(async move {
                tokio::time::sleep(Duration::from_micros(700 * i as u64)).await;
                ws.send(Message::text(frame)).await.unwrap();
                ws
            });
        }
        tokio::time::sleep(Duration::from_micros(700 * SOCKETS as u64 / 2)).await;
        app.remove_member(&ann, team, &bob).await;
        let sockets: Vec<Ws> = subscribers.join_all().await;

        // After the removal: one more write in the team. Once Ann's socket has it, the
        // hub has fanned it out to the whole room; then a sentinel in Bob's own stream
        // comes after anything of the team in each of his sockets' queues.
        let (_, after) = app.create_expense(&ann, team, "2", "after").await;
        let left = loop {
            let frame = next(&mut ann_ws).await;
            if frame["event"] == "member:left" {
                break frame["seq"].as_i64().unwrap();
            }
        };
        assert_eq!(next(&mut ann_ws).await["data"]["id"], after["id"]);
        app.create_expense(&bob, bob.personal_ws, "3", "sentinel")
            .await;

        for mut ws in sockets {
            // Until both the sentinel and the answer to the subscription have come (the
            // sentinel comes first when the subscription was served after it).
            let (mut sentinel, mut answered) = (false, false);
            let (mut frames, last) = read_until(&mut ws, |f| {
                sentinel |= f["data"]["description"] == "sentinel";
                answered |= f["type"] == "subscribed";
                sentinel && answered
            })
            .await;
            // The last frame is checked too: it is the answer when the subscription was
            // served after the sentinel (which its replay then carried).
            frames.push(last);
            let mut told = false;
            for frame in &frames {
                if frame["type"] == "event" && frame["stream"] == team_stream.as_str() {
                    let seq = frame["seq"].as_i64().unwrap();
                    assert!(
                        seq < left,
                        "trial {trials}: a removed member got seq {seq} (member:left is {left}): {frame}"
                    );
                }
                if frame["type"] == "subscribed" {
                    told |= frame["denied"] == json!([team_stream]);
                }
                told |= frame == &json!({"type": "revoked", "streams": [team_stream]});
            }
            assert!(
                told,
                "trial {trials}: the socket was never told: {frames:?}"
            );
        }
        let (_, polled) = app.poll(&bob, &[(&team_stream, head)]).await;
        assert_eq!(polled["denied"], json!([team_stream]));
    }
}

/// The fan-out writes an event straight into a socket whose task is waiting, and
/// queues it for a socket whose task is busy (replaying the log for a subscription,
/// writing something else); the socket's cursor drops what the replay already sent.
/// Sockets subscribing from an old cursor at staggered moments while a member writes
/// without pause must each get every event of the stream once, in order, whichever
/// path each event took.
async fn sockets_subscribing_while_events_are_written_get_each_once_in_order(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let _load = background_load(&app, 2).await;
    const SOCKETS: usize = 8;
    const WRITES: usize = 40;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut trials = 0;
    while trials < 2 || (tokio::time::Instant::now() < deadline && trials < 10) {
        trials += 1;
        let team = app.team(&ann, &format!("Team {trials}")).await;
        let stream = format!("ws:{team}");
        let start = app.expenses(&ann, team).await["cursor"].as_i64().unwrap();
        // A past to replay: the socket is busy replaying it while new events come.
        for i in 0..20 {
            app.create_expense(&ann, team, "1", &format!("past {i}"))
                .await;
        }
        let mut sockets = Vec::new();
        for _ in 0..SOCKETS {
            let mut ws = connect(&app, Some(&ann.token), None).await.unwrap();
            assert_eq!(next(&mut ws).await["type"], "hello");
            sockets.push(ws);
        }
        let frame = json!({"type": "subscribe", "cursors": [{"stream": stream, "after": start}]})
            .to_string();
        let mut subscribers = JoinSet::new();
        for (i, mut ws) in sockets.into_iter().enumerate() {
            let frame = frame.clone();
            subscribers.spawn(async move {
                tokio::time::sleep(Duration::from_millis(3 * i as u64)).await;
                ws.send(Message::text(frame)).await.unwrap();
                ws
            });
        }
        let writer = {
            let (http, base, token) = (app.http.clone(), app.base.clone(), ann.token.clone());
            tokio::spawn(async move {
                for i in 0..WRITES {
                    let res = post_expense(&http, &base, &token, team, "2", &format!("live {i}"))
                        .await
                        .unwrap();
                    assert_eq!(res.status(), StatusCode::OK);
                }
            })
        };
        let sockets: Vec<Ws> = subscribers.join_all().await;
        writer.await.unwrap();
        let head = app.expenses(&ann, team).await["cursor"].as_i64().unwrap();

        for (n, mut ws) in sockets.into_iter().enumerate() {
            let mut seqs = Vec::new();
            let mut answered = false;
            while !(answered && seqs.last() == Some(&head)) {
                let frame = next(&mut ws).await;
                match frame["type"].as_str() {
                    Some("event") if frame["stream"] == stream.as_str() => {
                        seqs.push(frame["seq"].as_i64().unwrap())
                    }
                    Some("subscribed") => {
                        assert_eq!(frame["resync"], json!([]), "{frame}");
                        answered = true;
                    }
                    _ => panic!("trial {trials}, socket {n}: {frame}"),
                }
            }
            assert_eq!(
                seqs,
                (start + 1..=head).collect::<Vec<_>>(),
                "trial {trials}, socket {n}: every event once, in order"
            );
        }
        // The next trial's sockets must not meet this one's in the per-user cap (20).
        eventually("the trial's sockets to close", || {
            app.hub.sockets_of(UserId(ann.id)) == 0
        })
        .await;
    }
}

/// `openers` tasks that open sockets with `token` again and again until the upgrade is
/// refused with 401 (429, the per-user cap, is waited out); each answers what it opened.
fn upgrade_until_refused(app: &TestApp, token: &str, openers: usize) -> JoinSet<Vec<Ws>> {
    let mut set = JoinSet::new();
    for _ in 0..openers {
        let (app_base, token) = (app.base.clone(), token.to_owned());
        set.spawn(async move {
            let mut opened = Vec::new();
            loop {
                match crate::socket::connect_to(&app_base, &token).await {
                    Ok(ws) => opened.push(ws),
                    Err(status) => {
                        assert!(matches!(status, 401 | 429), "refused with {status}");
                        if status == 401 {
                            return opened;
                        }
                    }
                }
            }
        });
    }
    set
}

/// Finding 3: a force-disconnect closed the sockets registered with the hub, but not
/// those whose upgrade was in flight: they lived on until their token expired. Now a
/// socket registers first and then reads its token's version again, so every socket
/// opened with the revoked token ends closed with 4001.
async fn a_force_disconnect_closes_sockets_whose_upgrade_was_in_flight(app: TestApp) {
    let _load = background_load(&app, 2).await;
    let bob = app.register("bob@example.com").await;

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut trial = 0;
    while trial < 6 || (tokio::time::Instant::now() < deadline && trial < 40) {
        trial += 1;
        let bob = app.login(&bob, "bob@example.com").await;
        // Openers keep upgrading with Bob's token until they are refused (401).
        let openers = upgrade_until_refused(&app, &bob.token, 12);
        // Let some sockets open first.
        while app.hub.sockets_of(UserId(bob.id)) < 3 {
            tokio::task::yield_now().await;
        }
        let res = app
            .http
            .post(format!("{}/ops/users/{}/disconnect", app.base, bob.id))
            .bearer_auth(OPERATOR_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let opened: Vec<Ws> = openers.join_all().await.into_iter().flatten().collect();
        assert!(opened.len() >= 3);
        for mut ws in opened {
            let (before, close) = read_until(&mut ws, |f| f["type"] == "closed").await;
            assert_eq!(
                close,
                json!({"type": "closed", "code": 4001}),
                "trial {trial}: a socket outlived the revocation"
            );
            // Before the close: the greeting, and the revocation notice if the socket was
            // registered when it went out; nothing else.
            for frame in before {
                assert!(
                    frame["type"] == "hello" || frame["event"] == "session:revoked",
                    "{frame}"
                );
            }
        }
        assert_eq!(app.hub.sockets_of(UserId(bob.id)), 0);
    }
}

/// Issue 15: a password change ends every other session of the account "as
/// force-disconnect does", sockets whose upgrade is in flight included, and keeps the
/// session that made it: its socket stays and still receives.
async fn a_password_change_ends_every_other_session_even_mid_upgrade(app: TestApp) {
    let _load = background_load(&app, 2).await;

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut trial = 0;
    // At most 14 trials: each signs up an account, and sign-ups are limited per address.
    while trial < 6 || (tokio::time::Instant::now() < deadline && trial < 14) {
        trial += 1;
        // A new account each trial: password changes are limited per user.
        let email = format!("bob{trial}@example.com");
        let bob = app.register(&email).await;
        let elsewhere = app.login(&bob, &email).await;
        let stream = format!("ws:{}", bob.personal_ws);
        let head = app.expenses(&bob, bob.personal_ws).await["cursor"]
            .as_i64()
            .unwrap();
        let (mut kept, _) = open(&app, &bob, &[(&stream, head)]).await;
        let openers = upgrade_until_refused(&app, &elsewhere.token, 8);
        while app.hub.sockets_of(UserId(bob.id)) < 4 {
            tokio::task::yield_now().await;
        }
        let res = app
            .http
            .post(format!("{}/api/account/password", app.base))
            .bearer_auth(&bob.token)
            .form(&[
                ("current_password", crate::helpers::PASSWORD),
                ("new_password", "a new sentence for trial"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let renewed = User {
            token: res.headers()["x-session-token"]
                .to_str()
                .unwrap()
                .to_owned(),
            ..bob.clone()
        };
        let opened: Vec<Ws> = openers.join_all().await.into_iter().flatten().collect();
        assert!(opened.len() >= 3);
        for mut ws in opened {
            let (before, close) = read_until(&mut ws, |f| f["type"] == "closed").await;
            assert_eq!(
                close,
                json!({"type": "closed", "code": 4001}),
                "trial {trial}: another session's socket outlived the password change"
            );
            for frame in before {
                assert!(
                    frame["type"] == "hello" || frame["event"] == "session:revoked",
                    "{frame}"
                );
            }
        }
        // The session that changed it goes on, with its renewed token and its socket.
        let (status, body) = app
            .create_expense(&renewed, bob.personal_ws, "4", "still here")
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let frame = next(&mut kept).await;
        assert_eq!(frame["data"]["description"], "still here", "{frame}");
        assert_eq!(app.hub.sockets_of(UserId(bob.id)), 1);
        let (status, _) = app.call_as(&elsewhere, "workspaces/list", &[]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}

crate::on_both_backends!(
    one_user_or_one_address_cannot_take_every_socket,
    every_abusive_client_gets_its_documented_close,
);

/// The status of a refused upgrade, and its `Retry-After`.
async fn refusal(app: &TestApp, user: &User) -> (u16, Option<String>) {
    let url = format!("{}/live", app.base.replace("http://", "ws://"));
    let mut req =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(url)
            .unwrap();
    req.headers_mut().insert(
        "cookie",
        format!("ll_session={}", user.token).parse().unwrap(),
    );
    match tokio_tungstenite::connect_async(req).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => (
            res.status().as_u16(),
            res.headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned()),
        ),
        other => panic!("expected a refusal, got {:?}", other.map(|_| "a socket")),
    }
}

/// Finding 5: one account opened 14,999 sockets and every other user's upgrade got 503.
/// Now a user holds at most 20 sockets per instance (and a client address 500): past
/// that, 429 with `Retry-After`, while others still connect.
async fn one_user_or_one_address_cannot_take_every_socket(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let mut anns = Vec::new();
    for _ in 0..20 {
        anns.push(
            connect(&app, Some(&ann.token), None)
                .await
                .expect("within the limit"),
        );
    }
    assert_eq!(refusal(&app, &ann).await, (429, Some("30".into())));
    let mut bobs = connect(&app, Some(&bob.token), None)
        .await
        .expect("others still connect");
    assert_eq!(next(&mut bobs).await["type"], "hello");

    // A closed socket gives its place back once the server has ended its task.
    let mut first = anns.remove(0);
    first.close(None).await.unwrap();
    while let Some(Ok(_)) = first.next().await {}
    let mut again = None;
    for _ in 0..2_000 {
        if app.hub.sockets_of(UserId(ann.id)) < 20 {
            again = Some(
                connect(&app, Some(&ann.token), None)
                    .await
                    .expect("a place again"),
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(again.is_some(), "the place was never given back");

    // Per client address (every test client is 127.0.0.1): a second instance with a
    // limit of 3 sockets per address.
    let small = app
        .another_instance_with(|c| c.live.max_per_address = 3)
        .await;
    let _a = connect(&small, Some(&ann.token), None).await.unwrap();
    let _b = connect(&small, Some(&ann.token), None).await.unwrap();
    let _c = connect(&small, Some(&bob.token), None).await.unwrap();
    assert_eq!(refusal(&small, &bob).await, (429, Some("30".into())));
}

/// Sends frames as fast as the client can without reading, then reads: what came back
/// before the close (JSON), and the close code. A reset instead of a close panics.
async fn flood_then_read(
    ws: &mut Ws,
    frames: impl Iterator<Item = Message>,
) -> (Vec<Value>, Value) {
    for frame in frames {
        if ws.send(frame).await.is_err() {
            break;
        }
    }
    read_until(ws, |f| f["type"] == "closed").await
}

/// Finding 7: a burst of frames ended in a TCP reset (the client saw 1006, not 4029);
/// binary frames and WebSocket pings were never limited; refused frames other than bad
/// JSON did not count towards 4400; invalid UTF-8 got no 1007.
async fn every_abusive_client_gets_its_documented_close(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let fresh = || async { open(&app, &ann, &[]).await.0 };

    let mut ws = fresh().await;
    let (before, close) = flood_then_read(
        &mut ws,
        (0..2_000).map(|_| Message::text(r#"{"type":"ping"}"#)),
    )
    .await;
    assert_eq!(close, json!({"type": "closed", "code": 4029}), "text flood");
    assert!(before.iter().all(|f| f["type"] == "pong"), "{before:?}");
    assert!(before.len() < 100, "{} pongs", before.len());

    let mut ws = fresh().await;
    let (_, close) =
        flood_then_read(&mut ws, (0..2_000).map(|_| Message::Ping(vec![1].into()))).await;
    assert_eq!(close, json!({"type": "closed", "code": 4029}), "ping flood");

    let mut ws = fresh().await;
    let (before, close) =
        flood_then_read(&mut ws, (0..2_000).map(|_| Message::binary(vec![0u8; 16]))).await;
    assert_eq!(
        close,
        json!({"type": "closed", "code": 4400}),
        "binary flood"
    );
    assert_eq!(before.len(), 10, "ten refusals, then the close: {before:?}");
    assert!(before.iter().all(|f| f["code"] == "binary_frame"));

    // Refused frames of every kind count, one at a time within the rate limit.
    let bad = [
        r#"{"type":"subscribe","cursors":[{"stream":"ws:1","after":-1}]}"#,
        r#"{"type":"launch"}"#,
        "{not json",
    ];
    let mut ws = fresh().await;
    let mut codes = Vec::new();
    let close = loop {
        ws.send(Message::text(bad[codes.len() % bad.len()]))
            .await
            .unwrap();
        let frame = next(&mut ws).await;
        if frame["type"] == "closed" {
            break frame;
        }
        codes.push(frame["code"].as_str().unwrap().to_owned());
    };
    assert_eq!(codes.len(), 10, "ten refusals, then the close: {codes:?}");
    assert_eq!(close, json!({"type": "closed", "code": 4400}));

    // A text frame that is not UTF-8: RFC 6455's 1007.
    let mut ws = fresh().await;
    use tokio_tungstenite::tungstenite::protocol::frame::{
        coding::{Data, OpCode},
        Frame,
    };
    ws.send(Message::Frame(Frame::message(
        vec![b'{', 0xff, 0xfe, b'}'],
        OpCode::Data(Data::Text),
        true,
    )))
    .await
    .unwrap();
    assert_eq!(next(&mut ws).await, json!({"type": "closed", "code": 1007}));

    // The account is not punished beyond those sockets.
    let (mut ok, _) = open(&app, &ann, &[]).await;
    ok.send(Message::text(r#"{"type":"ping"}"#)).await.unwrap();
    assert_eq!(next(&mut ok).await["type"], "pong");
}

crate::on_both_backends!(malformed_and_oversized_bodies_get_a_readable_refusal);

/// Finding 8: bodies the server cannot take get a status the client can read, and
/// nothing is written. A broken percent-escape is read as browsers read it (a literal
/// `%`), so it reaches validation; bytes that are not UTF-8 are refused, not stored as
/// U+FFFD; a body declared larger than the limit is refused before it is sent (413).
async fn malformed_and_oversized_bodies_get_a_readable_refusal(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let ws = ann.personal_ws;
    let post = |body: Vec<u8>| {
        app.http
            .post(format!("{}/api/expenses/create", app.base))
            .bearer_auth(&ann.token)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let form = |fields: &str| {
        format!("workspace_id={ws}&currency=EUR&category=Food&date=2026-11-20&{fields}")
    };
    for (fields, status, says) in [
        (
            "amount=%ZZ&description=x",
            422,
            "Enter the amount as a number",
        ),
        ("amount=12&description=%E2%82", 400, "not valid UTF-8"),
        ("amount=12&description=%FF", 400, "not valid UTF-8"),
        (
            "amount=1%2C2%2C3&description=x",
            422,
            "Separators go between groups of three",
        ),
    ] {
        let res = post(form(fields).into_bytes()).await.expect("an answer");
        assert_eq!(res.status().as_u16(), status, "{fields}");
        let text = res.text().await.unwrap();
        assert!(text.contains(says), "{fields}: {text}");
    }
    // The same bytes sent as they are, not percent-encoded: refused as well.
    for raw in [&b"\xFF"[..], b"\xE2\x82", b"caf\xC3"] {
        let mut body = form("amount=12&description=").into_bytes();
        body.extend_from_slice(raw);
        let res = post(body).await.expect("an answer");
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{raw:?}");
        assert!(res.text().await.unwrap().contains("not valid UTF-8"));
    }
    let res = post(format!("workspace_id=%ZZ&{}", form("amount=1&description=x")).into_bytes())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    let res = post(vec![b'a'; 10 << 20])
        .await
        .expect("an answer, not a reset");
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(res.text().await.unwrap().contains("larger than 256 KiB"));
    // A client that waits for 100 Continue before uploading is told at once.
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut raw = tokio::net::TcpStream::connect(&addr).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    raw.write_all(
        format!(
            "POST /api/expenses/create HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 10485760\r\n\
             Expect: 100-continue\r\n\r\n",
            ann.token
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut head = [0u8; 12];
    tokio::time::timeout(Duration::from_secs(10), raw.read_exact(&mut head))
        .await
        .expect("an answer before any byte of the body")
        .unwrap();
    assert_eq!(&head, b"HTTP/1.1 413");
    assert_eq!(
        app.expenses(&ann, ws).await["count"],
        0,
        "nothing was written"
    );
}

crate::on_both_backends!(origins_schemes_and_expiry_are_checked_exactly);

/// Finding 9's smaller deviations: the Origin check ignored the scheme; a lower-case
/// `bearer` was refused; HTTP accepted a token up to 5 s after its expiry while the
/// socket closed exactly at it.
async fn origins_schemes_and_expiry_are_checked_exactly(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let post_from = |origin: String| {
        app.http
            .post(format!("{}/api/workspaces/create", app.base))
            .bearer_auth(&ann.token)
            .header("origin", origin)
            .form(&[("name", "From a page")])
            .send()
    };
    let https_twin = app.base.replace("http://", "https://");
    assert_eq!(
        post_from(https_twin.clone()).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post_from(app.base.clone()).await.unwrap().status(),
        StatusCode::OK
    );
    let refused = connect(&app, Some(&ann.token), Some(&https_twin))
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, tokio_tungstenite::tungstenite::Error::Http(r) if r.status() == 403),
        "{refused:?}"
    );

    for scheme in ["bearer", "BEARER", "Bearer"] {
        let res = app
            .http
            .post(format!("{}/api/workspaces/list", app.base))
            .header("authorization", format!("{scheme} {}", ann.token))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{scheme}");
    }
    let mut ws = crate::socket::connect_to(&app.base, &ann.token)
        .await
        .unwrap();
    assert_eq!(next(&mut ws).await["type"], "hello");

    // A token whose `exp` has passed is refused at once, by HTTP as by the socket.
    use jsonwebtoken::{encode, EncodingKey, Header};
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let token = |exp: u64| {
        encode(
            &Header::default(),
            &json!({"sub": ann.id.to_string(), "iat": now - 60, "exp": exp, "iss": "liveledger", "aud": "liveledger", "ver": 0}),
            &EncodingKey::from_secret(crate::helpers::JWT_SECRET.as_bytes()),
        )
        .unwrap()
    };
    for exp in [now, now - 1, now - 4] {
        let (status, _) = app.call("workspaces/list", Some(&token(exp)), &[]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "exp {} s ago", now - exp);
        assert_eq!(
            crate::socket::connect_to(&app.base, &token(exp))
                .await
                .err(),
            Some(401)
        );
    }
    let (status, _) = app
        .call("workspaces/list", Some(&token(now + 60)), &[])
        .await;
    assert_eq!(status, StatusCode::OK);
}

crate::on_both_backends!(a_poll_answers_at_most_its_cap_and_the_rest_next_time);

/// The polling side of finding 4: one poll answers at most 2,000 events over all its
/// streams (500 per stream); streams it did not reach keep their cursors, and polling
/// on from the answer's cursors delivers every event exactly once.
async fn a_poll_answers_at_most_its_cap_and_the_rest_next_time(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let mut streams = vec![ann.personal_ws];
    for n in 0..4 {
        streams.push(app.team(&ann, &format!("Team {n}")).await);
    }
    for ws in &streams {
        flood(&app, *ws, 520, 8).await;
    }
    let keys: Vec<String> = streams.iter().map(|ws| format!("ws:{ws}")).collect();
    let mut cursors: Vec<(String, i64)> = keys.iter().map(|k| (k.clone(), 0)).collect();
    let mut seen: Vec<(String, i64)> = Vec::new();
    let mut polls = 0;
    loop {
        polls += 1;
        let asked: Vec<(&str, i64)> = cursors.iter().map(|(k, a)| (k.as_str(), *a)).collect();
        let (status, body) = app.poll(&ann, &asked).await;
        assert_eq!(status, StatusCode::OK);
        let events = body["events"].as_array().unwrap();
        assert!(
            events.len() <= 2_000,
            "{} events in one answer",
            events.len()
        );
        for e in events {
            seen.push((
                e["stream"].as_str().unwrap().to_owned(),
                e["seq"].as_i64().unwrap(),
            ));
        }
        cursors = body["cursors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["stream"].as_str().unwrap().to_owned(),
                    c["after"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(cursors.len(), keys.len(), "every stream keeps a cursor");
        if body["more"] == false {
            break;
        }
        assert!(polls < 10);
    }
    assert!(polls >= 2, "over 2,600 events cannot come in one answer");
    for key in &keys {
        let head = cursors.iter().find(|(k, _)| k == key).unwrap().1;
        let got: Vec<i64> = seen
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, s)| *s)
            .collect();
        assert_eq!(
            got,
            (1..=head).collect::<Vec<_>>(),
            "{key}: each event once, in order"
        );
        assert!(head >= 520);
    }
}
