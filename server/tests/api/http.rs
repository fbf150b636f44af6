//! The layers every response goes through (`server::http`): request ids, a time limit,
//! a caught panic, the security headers and the pages' Content-Security-Policy.

use std::time::Duration;

use axum::{routing::get, Router};
use reqwest::StatusCode;

use crate::helpers::{spawn_app, Backend};

/// A router whose handlers misbehave, behind the application's own outer layers.
async fn serve_misbehaving(https: bool) -> String {
    let router = Router::new()
        .route("/ok", get(|| async { "fine" }))
        .route(
            "/boom",
            get(|| async {
                if std::hint::black_box(true) {
                    panic!("a bug in a handler");
                }
                "unreachable"
            }),
        )
        .route("/never", get(std::future::pending::<&'static str>));
    let router = server::http::outer_layers(
        router,
        server::http::HttpSettings {
            request_timeout: Duration::from_millis(300),
            https,
            trusted_proxies: Default::default(),
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    base
}

#[tokio::test]
async fn a_panic_is_a_500_a_hung_handler_a_408_and_the_server_goes_on() {
    let base = serve_misbehaving(false).await;
    let http = reqwest::Client::new();
    let res = http.get(format!("{base}/boom")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(res.headers().contains_key("x-request-id"));
    assert_eq!(res.text().await.unwrap(), r#"{"kind":"internal"}"#);
    let res = http.get(format!("{base}/never")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::REQUEST_TIMEOUT);
    let res = http.get(format!("{base}/ok")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "still serving");
    assert_eq!(res.text().await.unwrap(), "fine");
}

#[tokio::test]
async fn request_ids_are_made_or_kept_and_sent_back() {
    let base = serve_misbehaving(false).await;
    let http = reqwest::Client::new();
    let a = http.get(format!("{base}/ok")).send().await.unwrap();
    let b = http.get(format!("{base}/ok")).send().await.unwrap();
    let id = |r: &reqwest::Response| r.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id(&a).len(), 36, "a UUID: {}", id(&a));
    assert_eq!(&id(&a)[14..15], "4", "random (version 4): {}", id(&a));
    assert_ne!(id(&a), id(&b));
    let c = http
        .get(format!("{base}/ok"))
        .header("x-request-id", "from-the-proxy-42")
        .send()
        .await
        .unwrap();
    assert_eq!(id(&c), "from-the-proxy-42");
}

#[tokio::test]
async fn security_headers_on_every_response_and_hsts_over_https() {
    let plain = serve_misbehaving(false).await;
    let tls = serve_misbehaving(true).await;
    let http = reqwest::Client::new();
    for (base, hsts) in [(plain, false), (tls, true)] {
        for path in ["/ok", "/boom", "/missing"] {
            let res = http.get(format!("{base}{path}")).send().await.unwrap();
            let h = res.headers();
            assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
            assert_eq!(h["x-frame-options"], "DENY");
            assert_eq!(h["referrer-policy"], "same-origin");
            assert_eq!(
                h["content-security-policy"],
                "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
            );
            assert_eq!(
                h.get("strict-transport-security")
                    .map(|v| v.to_str().unwrap()),
                hsts.then_some("max-age=31536000; includeSubDomains"),
                "{path}"
            );
        }
    }
}

/// Every rendered page sends a policy whose nonce is the one on each of its inline
/// scripts, a new one per page; no inline script goes without it.
#[tokio::test]
async fn pages_carry_a_content_security_policy_naming_their_scripts_nonce() {
    let app = spawn_app(Backend::Sqlite).await;
    let ann = app.register("ann@example.com").await;
    let mut nonces = Vec::new();
    for (path, token) in [
        ("/login".to_owned(), None),
        (format!("/w/{}", ann.personal_ws), Some(ann.token.as_str())),
        (
            format!("/w/{}/goals", ann.personal_ws),
            Some(ann.token.as_str()),
        ),
    ] {
        let res = app.get(&path, token).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let policy = res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        let html = res.text().await.unwrap();
        let nonce = policy
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .unwrap_or_else(|| panic!("{path}: no nonce in {policy}"))
            .to_owned();
        let scripts_policy = policy
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with("script-src "))
            .unwrap();
        assert_eq!(
            scripts_policy,
            format!("script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'"),
            "no inline script or eval beyond the nonce"
        );
        assert!(policy.contains("object-src 'none'") && policy.contains("frame-ancestors 'none'"));
        let scripts: Vec<&str> = html.split("<script").skip(1).collect();
        assert!(!scripts.is_empty(), "{path} has its hydration script");
        for script in scripts {
            let tag = &script[..script.find('>').unwrap()];
            assert!(
                tag.contains(&format!("nonce=\"{nonce}\"")),
                "{path}: a script without the page's nonce: <script{tag}>"
            );
        }
        nonces.push(nonce);
    }
    nonces.sort();
    nonces.dedup();
    assert_eq!(nonces.len(), 3, "a new nonce per page");
}

/// The client's files: the precompressed variant the request accepts, with `Vary`; the
/// plain file for a client that accepts none; immutable when the name has a content
/// hash. Pages and JSON are compressed on the fly and never cached.
#[tokio::test]
async fn static_files_are_served_precompressed_and_cached_by_name() {
    let site = std::env::temp_dir().join(format!("liveledger-site-{}", std::process::id()));
    let pkg = site.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    let hashed = "liveledger.AbCdEfGhIjKlMnOpQrStUv.wasm";
    std::fs::write(pkg.join(hashed), b"plain wasm bytes").unwrap();
    std::fs::write(pkg.join(format!("{hashed}.br")), b"brotli bytes").unwrap();
    std::fs::write(pkg.join(format!("{hashed}.gz")), b"gzip bytes").unwrap();
    std::fs::write(pkg.join("unhashed.css"), b"body{}").unwrap();
    let root = site.display().to_string();
    let app = crate::helpers::spawn_app_with(Backend::Sqlite, |c| c.site_root = root).await;
    let http = reqwest::Client::new();
    let get = |path: String, encoding: Option<&'static str>| {
        let mut req = http.get(format!("{}{path}", app.base));
        if let Some(e) = encoding {
            req = req.header("accept-encoding", e);
        }
        req.send()
    };
    for (accept, encoding, body) in [
        (Some("gzip, deflate, br"), Some("br"), "brotli bytes"),
        (Some("gzip"), Some("gzip"), "gzip bytes"),
        (None, None, "plain wasm bytes"),
        (Some("identity"), None, "plain wasm bytes"),
    ] {
        let res = get(format!("/pkg/{hashed}"), accept).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let h = res.headers().clone();
        assert_eq!(
            h.get("content-encoding").map(|v| v.to_str().unwrap()),
            encoding,
            "{accept:?}"
        );
        assert_eq!(h["vary"], "accept-encoding");
        assert_eq!(h["cache-control"], "public, max-age=31536000, immutable");
        // Never revalidated, never a document: no validators, no document headers.
        for absent in [
            "etag",
            "last-modified",
            "accept-ranges",
            "x-request-id",
            "x-frame-options",
            "referrer-policy",
            "cross-origin-opener-policy",
            "content-security-policy",
        ] {
            assert!(h.get(absent).is_none(), "{absent} on an immutable file");
        }
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(res.text().await.unwrap(), body);
    }
    let res = get("/pkg/unhashed.css".into(), Some("br")).await.unwrap();
    assert_eq!(res.headers()["cache-control"], "no-cache");
    assert_eq!(res.headers()["x-frame-options"], "DENY");
    assert!(res.headers().get("etag").is_some());
    let res = get("/pkg/missing.AbCdEfGhIjKlMnOpQrStUv.js".into(), None)
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_ne!(
        res.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );

    // A page and a JSON answer: compressed when accepted, never cached.
    let page = get("/login".into(), Some("br")).await.unwrap();
    assert_eq!(page.headers()["content-encoding"], "br");
    assert_eq!(page.headers()["cache-control"], "no-store");
    let plain = get("/login".into(), None).await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    assert!(plain.text().await.unwrap().contains("<html"));
    let ann = app.register("ann@example.com").await;
    for i in 0..20 {
        app.create_expense(&ann, ann.personal_ws, "1", &format!("expense {i}"))
            .await;
    }
    let list = http
        .post(format!("{}/api/expenses/list", app.base))
        .bearer_auth(&ann.token)
        .header("accept-encoding", "gzip")
        .form(&[("workspace_id", ann.personal_ws.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(list.headers()["content-encoding"], "gzip");
    assert_eq!(list.headers()["cache-control"], "no-store");
    let _ = std::fs::remove_dir_all(&site);
}

#[test]
fn content_hashed_names_are_told_apart() {
    use server::assets::is_content_hashed;
    assert!(is_content_hashed("liveledger.AbCdEfGhIjKlMnOpQrStUv.wasm"));
    assert!(is_content_hashed("liveledger.Ab-d_fGhIjKlMnOpQrStUv.js"));
    assert!(!is_content_hashed("liveledger.wasm"));
    assert!(!is_content_hashed("liveledger.css"));
    assert!(!is_content_hashed(".AbCdEfGhIjKlMnOpQrStUv.js"));
    assert!(!is_content_hashed("liveledger.AbCdEfGhIjKlMnOpQrStU.js"));
    assert!(!is_content_hashed("a/liveledger.AbCdEfGh%jKlMnOpQrStUv.js"));
}

/// Every connection the server accepts sends each write at once (`TCP_NODELAY`): a
/// small live frame behind an unacknowledged one would otherwise wait for the peer's
/// delayed ACK (`server::startup::no_delay`).
#[tokio::test]
async fn every_accepted_connection_sends_its_writes_at_once() {
    use axum::serve::Listener;
    use tokio::net::{TcpListener, TcpStream};

    let mut plain = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = plain.local_addr().unwrap();
    let _first = TcpStream::connect(addr).await.unwrap();
    let (accepted, _) = Listener::accept(&mut plain).await;
    // The kernel's default, which the check below tells apart.
    assert!(!accepted.nodelay().unwrap());

    let mut listener = server::startup::no_delay(plain);
    let second = TcpStream::connect(addr).await.unwrap();
    let (accepted, peer) = listener.accept().await;
    assert_eq!(peer, second.local_addr().unwrap());
    assert!(accepted.nodelay().unwrap());
}
