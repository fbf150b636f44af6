use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{spawn_app_with, Backend, TestApp, JWT_SECRET, PASSWORD};

crate::on_both_backends!(
    register_sets_an_http_only_cookie_and_a_personal_workspace,
    register_refuses_a_taken_email_and_weak_passwords_writing_nothing,
    login_and_logout,
    wrong_password_and_unknown_email_look_the_same,
    login_attempts_are_rate_limited_per_account,
    tampered_forged_and_expired_tokens_are_refused,
    sign_ups_are_limited_per_address,
    the_shared_limit_store_counts_each_attempt_once,
);

async fn register_sets_an_http_only_cookie_and_a_personal_workspace(app: TestApp) {
    let res = app
        .http
        .post(format!("{}/api/auth/register", app.base))
        .form(&[
            ("email", "Ann@Example.com"),
            ("display_name", "Ann"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("ll_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain http in tests: no Secure flag"
    );
    let token = cookie
        .trim_start_matches("ll_session=")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        body["email"], "ann@example.com",
        "emails are stored lower-case"
    );

    let (status, me) = app.call("auth/me", Some(&token), &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["display_name"], "Ann");

    let (_, list) = app.call("workspaces/list", Some(&token), &[]).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["kind"], "personal");
    assert_eq!(list[0]["role"], "owner");
}

async fn register_refuses_a_taken_email_and_weak_passwords_writing_nothing(app: TestApp) {
    app.register("ann@example.com").await;
    let (status, body) = app
        .call(
            "auth/register",
            None,
            &[
                ("email", "ANN@example.com"),
                ("display_name", "Other"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["field"], "email");

    for (password, why) in [
        ("short", "too short"),
        ("password123", "well known"),
        ("aaaaaaaaaaaaa", "one character"),
    ] {
        let (status, body) = app
            .call(
                "auth/register",
                None,
                &[
                    ("email", "bob@example.com"),
                    ("display_name", "Bob"),
                    ("password", password),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{why}");
        assert_eq!(body["field"], "password", "{why}");
    }
    let (status, body) = app
        .call(
            "auth/register",
            None,
            &[
                ("email", "not-an-email"),
                ("display_name", "Bob"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("email"))
    );

    // None of the refused registrations created an account.
    let (status, _) = app
        .call(
            "auth/login",
            None,
            &[("email", "bob@example.com"), ("password", "short")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = app
        .call(
            "auth/login",
            None,
            &[("email", "bob@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "bob must not exist"
    );
}

async fn login_and_logout(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let res = app
        .http
        .post(format!("{}/api/auth/login", app.base))
        .form(&[("email", " ann@EXAMPLE.com "), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let token = res.headers()["x-session-token"]
        .to_str()
        .unwrap()
        .to_owned();
    let (_, me) = app.call("auth/me", Some(&token), &[]).await;
    assert_eq!(me["id"], ann.id);

    let res = app
        .http
        .post(format!("{}/api/auth/logout", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cookie.starts_with("ll_session=;") && cookie.contains("Max-Age=0"),
        "logout clears the cookie: {cookie}"
    );
}

async fn wrong_password_and_unknown_email_look_the_same(app: TestApp) {
    app.register("ann@example.com").await;
    let (s1, wrong_password) = app
        .call(
            "auth/login",
            None,
            &[
                ("email", "ann@example.com"),
                ("password", "not the password"),
            ],
        )
        .await;
    let (s2, unknown_email) = app
        .call(
            "auth/login",
            None,
            &[
                ("email", "nobody@example.com"),
                ("password", "not the password"),
            ],
        )
        .await;
    assert_eq!(s1, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        (s1, &wrong_password),
        (s2, &unknown_email),
        "no account enumeration through login"
    );
}

async fn login_attempts_are_rate_limited_per_account(app: TestApp) {
    app.register("ann@example.com").await;
    for _ in 0..5 {
        let (status, _) = app
            .call(
                "auth/login",
                None,
                &[
                    ("email", "ann@example.com"),
                    ("password", "guess guess guess"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    // Locked now, even with the right password.
    let (status, body) = app
        .call(
            "auth/login",
            None,
            &[("email", "ann@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["kind"], "rate_limited");
    assert!(body["retry_after_secs"].as_u64().unwrap() > 0);
}

async fn sign_ups_are_limited_per_address(app: TestApp) {
    let app = app
        .another_instance_with(|c| c.signup_limit_per_address = 3)
        .await;
    let sign_up = |email: &'static str, password: &'static str| {
        let app = &app;
        async move {
            app.call(
                "auth/register",
                None,
                &[
                    ("email", email),
                    ("display_name", "Someone"),
                    ("password", password),
                ],
            )
            .await
        }
    };
    app.register("one@example.com").await;
    app.register("two@example.com").await;
    // Refused input costs no hash and does not count.
    let (status, _) = sign_up("weak@example.com", "short").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    app.register("three@example.com").await;

    let (status, body) = sign_up("four@example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["kind"], "rate_limited");
    let wait = body["retry_after_secs"].as_u64().unwrap();
    assert!((1..=3600).contains(&wait), "{wait}");
    // Nothing was written: the account does not exist.
    let (status, _) = app
        .call(
            "auth/login",
            None,
            &[("email", "four@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // Logging in is not a sign-up: the accounts made still work.
    let (status, _) = app
        .call(
            "auth/login",
            None,
            &[("email", "one@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

fn sign(claims: serde_json::Value, secret: &[u8], alg: Algorithm) -> String {
    encode(
        &Header::new(alg),
        &claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

async fn tampered_forged_and_expired_tokens_are_refused(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = |sub: i64, exp: u64, iss: &str, aud: &str| json!({"sub": sub.to_string(), "iat": now, "exp": exp, "iss": iss, "aud": aud, "ver": 0});
    // Control: a correctly signed token works, so the refusals below are about what was changed.
    let good = sign(
        claims(ann.id, now + 600, "liveledger", "liveledger"),
        JWT_SECRET.as_bytes(),
        Algorithm::HS256,
    );
    let (_, me) = app.call("auth/me", Some(&good), &[]).await;
    assert_eq!(me["id"], ann.id);

    // Bob's payload with Ann's signature.
    let mut parts: Vec<String> = ann.token.split('.').map(str::to_owned).collect();
    let bob_payload = bob.token.split('.').nth(1).unwrap().to_owned();
    parts[1] = bob_payload;
    let tampered = parts.join(".");
    // alg=none.
    let header_none = base64_url(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = ann.token.split('.').nth(1).unwrap();
    let unsigned = format!("{header_none}.{payload}.");

    let bad_tokens = [
        ("tampered payload", tampered),
        ("alg none", unsigned),
        (
            "other secret",
            sign(
                claims(ann.id, now + 600, "liveledger", "liveledger"),
                b"another-secret-another-secret-another",
                Algorithm::HS256,
            ),
        ),
        (
            "expired",
            sign(
                claims(ann.id, now - 120, "liveledger", "liveledger"),
                JWT_SECRET.as_bytes(),
                Algorithm::HS256,
            ),
        ),
        (
            "wrong issuer",
            sign(
                claims(ann.id, now + 600, "evil", "liveledger"),
                JWT_SECRET.as_bytes(),
                Algorithm::HS256,
            ),
        ),
        (
            "wrong audience",
            sign(
                claims(ann.id, now + 600, "liveledger", "evil"),
                JWT_SECRET.as_bytes(),
                Algorithm::HS256,
            ),
        ),
        (
            "HS512",
            sign(
                claims(ann.id, now + 600, "liveledger", "liveledger"),
                JWT_SECRET.as_bytes(),
                Algorithm::HS512,
            ),
        ),
        ("garbage", "not.a.token".to_owned()),
    ];
    for (what, token) in bad_tokens {
        let (status, me) = app.call("auth/me", Some(&token), &[]).await;
        assert_eq!(
            (status, me.clone()),
            (StatusCode::OK, serde_json::Value::Null),
            "{what}: me must be nobody"
        );
        let (status, _) = app.call("workspaces/list", Some(&token), &[]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}");
        let (status, _) = app
            .create_expense(
                &crate::helpers::User {
                    token: token.clone(),
                    ..ann.clone()
                },
                ann.personal_ws,
                "5",
                "x",
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}");
    }
    assert_eq!(app.expenses(&ann, ann.personal_ws).await["count"], 0);
}

fn base64_url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (*b as u32) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// Behind a trusted proxy the sign-up limit counts each forwarded client on its own;
/// from a peer that is not a trusted proxy, `X-Forwarded-For` changes nothing (all three
/// sign-ups come from 127.0.0.1). The limiter is in memory: one backend shows it.
#[tokio::test]
async fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
    for trusted in [false, true] {
        let app = spawn_app_with(Backend::Sqlite, |c| {
            c.signup_limit_per_address = 1;
            if trusted {
                c.trusted_proxies =
                    app::server::client_addr::TrustedProxies::parse("127.0.0.1").unwrap();
            }
        })
        .await;
        let sign_up = |email: &'static str, forwarded_for: &'static str| {
            let app = &app;
            async move {
                app.http
                    .post(format!("{}/api/auth/register", app.base))
                    .header("x-forwarded-for", forwarded_for)
                    .form(&[
                        ("email", email),
                        ("display_name", "Someone"),
                        ("password", PASSWORD),
                    ])
                    .send()
                    .await
                    .unwrap()
                    .status()
            }
        };
        assert_eq!(
            sign_up("a@example.com", "198.51.100.1").await,
            StatusCode::OK
        );
        let other_client = sign_up("b@example.com", "198.51.100.2").await;
        let again = sign_up("c@example.com", "198.51.100.1").await;
        if trusted {
            assert_eq!(
                other_client,
                StatusCode::OK,
                "another client behind the proxy"
            );
        } else {
            assert_eq!(
                other_client,
                StatusCode::TOO_MANY_REQUESTS,
                "a forged header"
            );
        }
        assert_eq!(again, StatusCode::TOO_MANY_REQUESTS, "trusted: {trusted}");
    }
}

/// The shared store's statements, on SQLite and PostgreSQL: concurrent attempts are
/// each counted once (exactly `limit` pass), refusals say how long to wait, and a
/// login's failures lock the account until a success clears them.
async fn the_shared_limit_store_counts_each_attempt_once(app: TestApp) {
    use app::{
        error::AppError,
        model::ids::UserId,
        server::limiter::{ActionLimiter, LoginLimiter, Store},
    };
    use std::{sync::Arc, time::Duration};

    let store = Store::Shared(app.db.pool.clone());
    let actions = Arc::new(ActionLimiter::new(Duration::from_secs(60), &store));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let actions = actions.clone();
        set.spawn(async move { actions.attempt(UserId(7), "import", 5).await });
    }
    let results = set.join_all().await;
    let passed = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(passed, 5, "{results:?}");
    for refused in results.iter().filter(|r| r.is_err()) {
        match refused {
            Err(AppError::RateLimited { retry_after_secs }) => {
                assert!((1..=60).contains(retry_after_secs), "{retry_after_secs}")
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(
        actions.attempt(UserId(8), "import", 5).await.is_ok(),
        "another user"
    );
    assert!(
        actions.attempt(UserId(7), "bulk-delete", 5).await.is_ok(),
        "another action"
    );

    let logins = LoginLimiter::new(2, 100, Duration::from_secs(60), &store);
    for _ in 0..2 {
        logins.check("a@x", "10.0.0.1").await.unwrap();
        logins.record_failure("a@x", "10.0.0.1").await.unwrap();
    }
    assert!(
        logins.check("a@x", "10.0.0.2").await.is_err(),
        "locked from any address"
    );
    assert!(logins.check("b@x", "10.0.0.1").await.is_ok());
    logins.record_success("a@x").await.unwrap();
    assert!(logins.check("a@x", "10.0.0.1").await.is_ok());

    // A window that has passed starts afresh, and the retention job forgets it.
    let brief = ActionLimiter::new(Duration::from_millis(1), &store);
    brief.attempt(UserId(9), "import", 1).await.unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    brief.attempt(UserId(9), "import", 1).await.unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    // (The app's own retention job may prune at any moment too: check what is left.)
    app::server::limiter::prune(&app.db.pool, app::server::now_ms())
        .await
        .unwrap();
    let keys: Vec<(String,)> = sqlx::query_as("SELECT key FROM rate_limits")
        .fetch_all(&app.db.pool)
        .await
        .unwrap();
    let mut keys: Vec<&str> = keys.iter().map(|(k,)| k.as_str()).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "action:7:bulk-delete",
            "action:7:import",
            "action:8:import",
            "login:address:10.0.0.1"
        ],
        "only the passed window is pruned"
    );
}

/// On PostgreSQL the limits count across instances and survive a restart: sign-ups
/// and failed logins sent to two instances in turn reach the limit together, and a
/// third instance started afterwards (a restart) still refuses.
#[tokio::test]
async fn limits_hold_across_instances_and_restarts_on_postgres() {
    let limits = |c: &mut server::config::Config| {
        c.signup_limit_per_address = 3;
        c.login_limit_per_account = 3;
    };
    let a = spawn_app_with(Backend::Postgres, limits).await;
    let b = a.another_instance_with(limits).await;
    for (n, app) in [&a, &b, &a].into_iter().enumerate() {
        let (status, body) = sign_up(app, &format!("u{n}@example.com")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, body) = sign_up(&b, "u3@example.com").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");

    for app in [&b, &a, &b] {
        let (status, _) = login(app, "guess guess guess").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let (status, body) = login(&a, PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");

    let restarted = a.another_instance_with(limits).await;
    let (status, _) = login(&restarted, PASSWORD).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "the lock-out outlives a restart"
    );
    let (status, _) = sign_up(&restarted, "u4@example.com").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

async fn sign_up(app: &TestApp, email: &str) -> (StatusCode, serde_json::Value) {
    app.call(
        "auth/register",
        None,
        &[
            ("email", email),
            ("display_name", "Someone"),
            ("password", PASSWORD),
        ],
    )
    .await
}

async fn login(app: &TestApp, password: &str) -> (StatusCode, serde_json::Value) {
    app.call(
        "auth/login",
        None,
        &[("email", "u0@example.com"), ("password", password)],
    )
    .await
}

/// The request log names the client as the limits do (`http::client_of`): the peer, or
/// what a trusted proxy in front of it forwards; a header from anyone else is ignored.
#[test]
fn the_request_log_names_the_client_as_the_limits_do() {
    use app::server::client_addr::TrustedProxies;
    use axum::{body::Body, extract::ConnectInfo, http::Request};
    use std::net::SocketAddr;

    let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
    let request = |peer: &str| {
        let mut req = Request::builder()
            .header("x-forwarded-for", "203.0.113.7")
            .body(Body::empty())
            .unwrap();
        req.extensions_mut()
            .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        req
    };
    let client =
        |req: &Request<Body>| server::http::client_of(req, &proxies).map(|ip| ip.to_string());
    assert_eq!(
        client(&request("10.1.2.3:443")).as_deref(),
        Some("203.0.113.7")
    );
    assert_eq!(
        client(&request("198.51.100.9:5000")).as_deref(),
        Some("198.51.100.9")
    );
    assert_eq!(client(&Request::new(Body::empty())), None, "no peer");
}
