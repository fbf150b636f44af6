//! The server-rendered pages and plain HTML form posts (no JavaScript).

use std::time::Duration;

use reqwest::{header, StatusCode};

use crate::helpers::{spawn_app, spawn_app_with, Backend, TestApp, User};

crate::on_both_backends!(
    pages_render_for_users_and_redirect_strangers,
    plain_form_posts_redirect_back_with_errors,
    a_refused_form_without_javascript_comes_back_as_typed,
    an_edit_saved_without_javascript_returns_to_its_view,
    cross_site_posts_are_refused,
    health_check
);

/// leptos generates an application's route list by rendering it with resource loading
/// suppressed through one process-wide flag, and a resource first polled meanwhile
/// never loads: a page rendered while another application of the same process started
/// hung until the request timeout (the 408s the integration tests met now and then).
/// Pages rendered continuously while forty more applications start, on another thread as
/// the other tests do, must all answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_render_while_other_applications_start_in_the_process() {
    let app = spawn_app_with(Backend::Sqlite, |config| {
        config.request_timeout = Duration::from_secs(5)
    })
    .await;
    let ann = app.register("ann@example.com").await;
    let dashboard = format!("/w/{}", ann.personal_ws);
    let starter = std::thread::spawn(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            for _ in 0..40 {
                spawn_app(Backend::Sqlite).await;
            }
        });
    });
    let mut rendered = 0;
    // Until the thread ends, whether its starts succeeded or one panicked.
    while !starter.is_finished() {
        let res = app.get(&dashboard, Some(&ann.token)).await;
        assert_eq!(res.status(), StatusCode::OK, "the dashboard renders");
        let res = app.get("/", None).await;
        assert_eq!(res.status(), StatusCode::FOUND, "a stranger is redirected");
        rendered += 1;
    }
    starter.join().expect("the other applications start");
    assert!(rendered > 0, "pages were rendered while the others started");
}

async fn pages_render_for_users_and_redirect_strangers(app: TestApp) {
    let res = app.get("/login", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(r#"action="/api/auth/login""#),
        "the login form posts without JavaScript"
    );

    let res = app.get("/", None).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(res.headers()[header::LOCATION], "/login");

    let ann = app.register("ann@example.com").await;
    app.create_expense(&ann, ann.personal_ws, "12.5", "Coffee beans")
        .await;
    // The expense is dated 2026-11-20: all time shows it, whatever today is.
    let res = app
        .get(
            &format!("/w/{}?period=all", ann.personal_ws),
            Some(&ann.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Coffee beans") && html.contains("12.50 EUR"),
        "the dashboard is rendered on the server"
    );

    let bob = app.register("bob@example.com").await;
    let html = app
        .get(
            &format!("/w/{}?period=all", ann.personal_ws),
            Some(&bob.token),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !html.contains("Coffee beans"),
        "another user's dashboard shows nothing of it"
    );
    assert!(html.contains("Workspace not found"));

    // The goals page, rendered on the server for members only.
    app.create_goal(&ann, ann.personal_ws, "Sabbatical", "5000")
        .await;
    let goals = format!("/w/{}/goals", ann.personal_ws);
    let html = app
        .get(&goals, Some(&ann.token))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Sabbatical") && html.contains("0.00 EUR of 5,000.00 EUR"));
    let html = app
        .get(&goals, Some(&bob.token))
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("Sabbatical") && html.contains("Workspace not found"));

    assert_eq!(
        app.get("/no/such/page", None).await.status(),
        StatusCode::NOT_FOUND
    );
}

/// Posts `form` to `/api/<path>` as a browser without JavaScript does: a plain form,
/// HTML accepted, the session cookie and the page it came from (`referer`).
async fn plain_post(
    app: &TestApp,
    user: &User,
    path: &str,
    referer: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    app.http
        .post(format!("{}/api/{path}", app.base))
        .header(header::ACCEPT, "text/html")
        .header(header::REFERER, referer)
        .header(header::COOKIE, format!("ll_session={}", user.token))
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn plain_form_posts_redirect_back_with_errors(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let page = format!("{}/w/{}", app.base, ann.personal_ws);
    let ws = ann.personal_ws.to_string();
    let post = |amount: &'static str| {
        let form = [
            ("workspace_id", ws.as_str()),
            ("amount", amount),
            ("currency", "EUR"),
            ("category", "Food"),
            ("description", "form"),
            ("date", "2026-11-01"),
        ];
        let (app, ann, page) = (&app, &ann, &page);
        async move { plain_post(app, ann, "expenses/create", page, &form).await }
    };
    let res = post("3").await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(
        res.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .trim_end_matches('?'),
        page
    );

    let res = post("-3").await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let location = res.headers()[header::LOCATION].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&page) && location.contains("__err="),
        "the error travels back in the URL: {location}"
    );
    // The page it returns to shows the message next to the field.
    let path = location.trim_start_matches(&app.base);
    let html = app.get(path, Some(&ann.token)).await.text().await.unwrap();
    assert!(
        html.contains("The amount must be greater than zero."),
        "error shown after a no-JS post"
    );
    assert_eq!(app.expenses(&ann, ann.personal_ws).await["count"], 1);
}

/// The `Set-Cookie` of `name` in `res`, if any.
fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// The opening tag of the element with this `id` in `html`.
fn tag<'h>(html: &'h str, id: &str) -> &'h str {
    let at = html
        .find(&format!(r#"id="{id}""#))
        .unwrap_or_else(|| panic!("no element #{id}"));
    let start = html[..at].rfind('<').unwrap();
    &html[start..at + html[at..].find('>').unwrap() + 1]
}

/// The `<select>` with this `id`, options and all.
fn select<'h>(html: &'h str, id: &str) -> &'h str {
    let start = html.find(&format!(r#"id="{id}""#)).unwrap();
    &html[start..start + html[start..].find("</select>").unwrap()]
}

async fn a_refused_form_without_javascript_comes_back_as_typed(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let page = format!("{}/w/{}", app.base, ann.personal_ws);
    let ws = ann.personal_ws.to_string();
    let form = [
        ("workspace_id", ws.as_str()),
        ("amount", "-4"),
        ("currency", "USD"),
        ("category", "Travel"),
        ("description", r#"Tea & "cake", <typed>"#),
        ("date", "2026-10-31"),
    ];
    let res = plain_post(&app, &ann, "expenses/create", &page, &form).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let location = res.headers()[header::LOCATION].to_str().unwrap().to_owned();
    let kept = set_cookie(&res, "ll_kept").expect("the refused form is kept");
    assert!(
        kept.contains("HttpOnly") && kept.contains("Max-Age=60"),
        "{kept}"
    );
    let kept = kept.split(';').next().unwrap().to_owned();

    let res = back_to(
        &app,
        &location,
        &format!("ll_session={}; {kept}", ann.token),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let dropped = set_cookie(&res, "ll_kept").expect("the page drops the kept form");
    assert!(
        dropped.starts_with("ll_kept=;") && dropped.contains("Max-Age=0"),
        "{dropped}"
    );
    let html = res.text().await.unwrap();
    assert!(html.contains("The amount must be greater than zero."));
    assert!(
        tag(&html, "expense-amount").contains(r#"value="-4""#),
        "{}",
        tag(&html, "expense-amount")
    );
    assert!(tag(&html, "expense-date").contains(r#"value="2026-10-31""#));
    let description = tag(&html, "expense-description");
    assert!(
        description.contains(r#"value="Tea &amp; &quot;cake&quot;, &lt;typed&gt;""#),
        "typed text comes back escaped: {description}"
    );
    assert!(select(&html, "expense-currency").contains(r#"<option value="USD" selected"#));
    assert!(select(&html, "expense-category").contains(r#"<option value="Travel" selected"#));
    // Other forms on the page keep their own values (the earning form has an amount too).
    assert!(!tag(&html, "earning-amount").contains("-4"));

    // Shown once: without the cookie (the browser dropped it) the same URL shows the
    // error over a fresh form; nothing was written.
    let html = back_to(&app, &location, &format!("ll_session={}", ann.token))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("The amount must be greater than zero."));
    assert!(!tag(&html, "expense-amount").contains("-4"));
    assert_eq!(app.expenses(&ann, ann.personal_ws).await["count"], 0);

    // A refused sign-up keeps the name and the address, never the password.
    let res = app
        .http
        .post(format!("{}/api/auth/register", app.base))
        .header(header::ACCEPT, "text/html")
        .header(header::REFERER, format!("{}/register", app.base))
        .form(&[
            ("display_name", "Bea"),
            ("email", "bea@example.com"),
            ("password", "short-pw"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    let location = res.headers()[header::LOCATION].to_str().unwrap().to_owned();
    let kept = set_cookie(&res, "ll_kept").unwrap();
    assert!(
        !kept.contains("short-pw") && !kept.contains("password"),
        "{kept}"
    );
    let kept = kept.split(';').next().unwrap().to_owned();
    let html = back_to(&app, &location, &kept).await.text().await.unwrap();
    assert!(tag(&html, "register-display_name").contains(r#"value="Bea""#));
    assert!(tag(&html, "register-email").contains(r#"value="bea@example.com""#));
    assert!(
        !html.contains("short-pw"),
        "{}",
        tag(&html, "register-password")
    );

    // A request with JavaScript (JSON accepted) gets its error as JSON; no cookie.
    let res = app
        .http
        .post(format!("{}/api/expenses/create", app.base))
        .header(header::COOKIE, format!("ll_session={}", ann.token))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(set_cookie(&res, "ll_kept"), None);
}

/// GETs `location` (where a refused post redirected) as a browser sending `cookie`.
async fn back_to(app: &TestApp, location: &str, cookie: &str) -> reqwest::Response {
    app.http
        .get(location)
        .header(header::ACCEPT, "text/html")
        .header(header::COOKIE, cookie)
        .send()
        .await
        .unwrap()
}

async fn an_edit_saved_without_javascript_returns_to_its_view(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let ws = ann.personal_ws;
    let (status, e) = app.create_expense(&ann, ws, "3", "tea").await;
    assert_eq!(status, StatusCode::OK, "{e}");
    let id = e["id"].to_string();
    let view = format!("{}/w/{ws}?period=2026-11&q=tea", app.base);
    let editing = format!("{view}&edit_expense={id}");
    let ws_s = ws.to_string();
    let post = |amount: &'static str| {
        let form = [
            ("workspace_id", ws_s.as_str()),
            ("id", id.as_str()),
            ("amount", amount),
            ("currency", "EUR"),
            ("category", "Food"),
            ("description", "green tea"),
            ("date", "2026-11-20"),
        ];
        let (app, ann, editing) = (&app, &ann, &editing);
        async move { plain_post(app, ann, "expenses/update", editing, &form).await }
    };
    // Saved: back to the same month and search, out of edit mode.
    let res = post("4").await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(
        res.headers()[header::LOCATION],
        format!("/w/{ws}?period=2026-11&q=tea")
    );
    // Refused: back to the form, still editing, with the error.
    let res = post("-4").await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let location = res.headers()[header::LOCATION].to_str().unwrap();
    assert!(
        location.contains("edit_expense=") && location.contains("__err="),
        "{location}"
    );
    let list = app.expenses(&ann, ws).await;
    assert_eq!(list["items"][0]["amount_minor"], 400, "{list}");
}

async fn cross_site_posts_are_refused(app: TestApp) {
    let ann = app.register("ann@example.com").await;
    let send = |origin: &'static str| {
        app.http
            .post(format!("{}/api/expenses/create", app.base))
            .header(header::ORIGIN, origin)
            .header(header::COOKIE, format!("ll_session={}", ann.token))
            .form(&[
                ("workspace_id", ann.personal_ws.to_string().as_str()),
                ("amount", "5"),
                ("currency", "EUR"),
                ("category", "Food"),
                ("description", "csrf"),
                ("date", "2026-11-01"),
            ])
            .send()
    };
    assert_eq!(
        send("https://evil.example").await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.expenses(&ann, ann.personal_ws).await["count"], 0);
    assert_eq!(
        send("https://partner.example").await.unwrap().status(),
        StatusCode::OK,
        "ALLOWED_ORIGINS are let in"
    );
    let own = app.base.clone();
    let res = app
        .http
        .post(format!("{}/api/expenses/list", app.base))
        .header(header::ORIGIN, own)
        .bearer_auth(&ann.token)
        .form(&[("workspace_id", ann.personal_ws.to_string().as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "the site's own origin is let in"
    );
}

async fn health_check(app: TestApp) {
    let res = app
        .http
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.text().await.unwrap(), "ok");
}
