//! What every HTTP response goes through, whatever answers it: a request id (kept from
//! `x-request-id` or made, logged in the request's span with the client's address and
//! sent back), compression, `Cache-Control` (`assets.rs`) and the security headers, a
//! caught panic turned into a 500 while the server goes on, a time limit and the body
//! limits (`body.rs`).

use std::{
    convert::Infallible, net::IpAddr, net::SocketAddr, panic::AssertUnwindSafe, sync::Arc,
    time::Duration,
};

use app::server::client_addr::TrustedProxies;

use axum::{
    body::Body,
    extract::{ConnectInfo, Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    Router,
};
use futures_util::FutureExt;
use tower::{Layer, Service, ServiceBuilder};
use tower_http::{
    compression::{CompressionLayer, CompressionLevel},
    request_id::{MakeRequestId, RequestId, SetRequestIdLayer},
    trace::TraceLayer,
};

/// How the outer layers behave.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// A request not answered within this long gets 408 (`REQUEST_TIMEOUT_SECS`).
    pub request_timeout: Duration,
    /// The site is served over HTTPS: send `Strict-Transport-Security`.
    pub https: bool,
    /// Whose forwarding headers name the client in the request log (`TRUSTED_PROXIES`).
    pub trusted_proxies: Arc<TrustedProxies>,
}

/// The client's address as the limits see it: the TCP peer, or what a trusted proxy in
/// front of it says (`client_addr`). `None` without a peer (a request made in-process).
pub fn client_of(req: &Request<Body>, proxies: &TrustedProxies) -> Option<IpAddr> {
    let ConnectInfo(peer) = req.extensions().get::<ConnectInfo<SocketAddr>>()?;
    Some(proxies.client_ip(peer.ip(), req.headers()))
}

/// Wraps `inner` (the router, or the router inside the app's own layers) in the layers
/// every response goes through (see the module's comment), the first named outermost.
pub fn outer_layers<S>(inner: S, settings: HttpSettings) -> Router
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
{
    let proxies = settings.trusted_proxies.clone();
    around(
        inner,
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::x_request_id(RandomRequestId))
            .layer(
                TraceLayer::new_for_http().make_span_with(move |req: &Request<Body>| {
                    let id = req
                        .headers()
                        .get(REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    let client = Client(client_of(req, &proxies));
                    tracing::info_span!("request", id, client = %client, method = %req.method(), path = %req.uri().path())
                }),
            )
            // Answers that are not precompressed files (those carry their
            // Content-Encoding already): pages and JSON, compressed on the fly when the
            // client accepts it. Quality 5: brotli's step from 4 to 5 takes 8 % off the
            // dashboard's HTML (5,845 to 5,374 bytes of 25.8 KB) for well under a
            // millisecond; above 5 it gains almost nothing until 11, which costs tens of
            // times more CPU per page.
            .layer(
                CompressionLayer::new()
                    .br(true)
                    .gzip(true)
                    .quality(CompressionLevel::Precise(5)),
            )
            .layer(axum::extract::DefaultBodyLimit::max(
                crate::body::LARGE_BODY_LIMIT,
            ))
            .layer(middleware::from_fn_with_state(
                Steps {
                    https: settings.https,
                    request_timeout: settings.request_timeout,
                },
                steps,
            )),
    )
}

/// What [`steps`] needs to know.
#[derive(Clone, Copy)]
struct Steps {
    https: bool,
    request_timeout: Duration,
}

/// The outer steps of every request, in one layer, the first outermost: the answer's
/// headers (`finish`), a panic caught and answered with a 500, the time limit (408),
/// the body's limits (`body::limit`). One layer rather than one each: every
/// `from_fn` layer (and tower-http's panic and time-out layers, in their way) costs a
/// request an allocation, a boxed future and a clone of the whole stack below it (issue
/// 12: ARCHITECTURE, "The write path"). The app's own steps (`startup::app_steps`) are
/// the same kind of thing, inside these.
async fn steps(State(s): State<Steps>, req: Request, next: Next) -> Response {
    finish(s.https, req, |req| async move {
        let limited = tokio::time::timeout(
            s.request_timeout,
            crate::body::limit(req, |req| next.run(req)),
        );
        match AssertUnwindSafe(limited).catch_unwind().await {
            Ok(Ok(res)) => res,
            Ok(Err(_elapsed)) => StatusCode::REQUEST_TIMEOUT.into_response(),
            Err(panic) => panicked(panic),
        }
    })
    .await
}

/// The client's address in the request's span, `-` without one: formatted once, by the
/// log's layer, instead of into a string of its own first.
struct Client(Option<IpAddr>);

impl std::fmt::Display for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(ip) => ip.fmt(f),
            None => f.write_str("-"),
        }
    }
}

/// Makes a request's id when it comes without one: a random (version 4) UUID, as
/// tower-http's `MakeRequestUuid` makes, but drawn from the thread's generator (seeded
/// and reseeded from the OS) instead of one `getrandom` system call per request.
#[derive(Clone, Copy)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let id = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
        let mut text = uuid::Uuid::encode_buffer();
        HeaderValue::from_str(id.hyphenated().encode_lower(&mut text))
            .ok()
            .map(RequestId::new)
    }
}

/// `layers` (the first outermost) around the whole of `inner`, as one service.
/// `Router::layer` wraps every route in each layer separately, and axum clones the
/// matched route's boxed service for each request: one allocation per layer, which
/// was about 5 % of an unwatched write's CPU (issue 12). Here a request clones the
/// stack once.
fn around<S, L>(inner: S, layers: ServiceBuilder<L>) -> Router
where
    L: Layer<S>,
    L::Service: Service<Request, Error = Infallible> + Clone + Send + Sync + 'static,
    <L::Service as Service<Request>>::Response: IntoResponse + 'static,
    <L::Service as Service<Request>>::Future: Send + 'static,
{
    Router::new().fallback_service(layers.service(inner))
}

/// A handler panicked: log it and answer 500 as any internal error is answered. The
/// connection and the server go on.
fn panicked(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = what, "a request handler panicked");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        axum::Json(serde_json::json!({"kind": "internal"})),
    )
        .into_response()
}

/// The policy of responses that are not pages (pages send their own, with the nonce of
/// their scripts: `app::server::csp`).
const NON_PAGE_POLICY: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/// Every answer's headers, set on its way out: `Cache-Control` (`assets::cache_control`),
/// the request's id sent back, and the security headers. A step of [`steps`]; `next`
/// is what comes after it.
async fn finish(
    https: bool,
    req: Request,
    next: impl AsyncFnOnce(Request) -> Response,
) -> Response {
    // Kept for the warning in `security_headers`; both clones share the request's bytes
    // (no copy on every request for a line that is almost never written).
    let uri = req.uri().clone();
    let fetch_mode = req.headers().get("sec-fetch-mode").cloned();
    let id = req.headers().get(REQUEST_ID).cloned();
    let mut res = next(req).await;
    crate::assets::cache_control(uri.path(), &mut res);
    let immutable = res
        .headers()
        .get(header::CACHE_CONTROL)
        .is_some_and(|v| v == crate::assets::IMMUTABLE);
    // The id stays in the request's log line; a hashed file's answer does not carry it
    // back (such a file's every header byte is first-load).
    if let Some(id) = id.filter(|_| !immutable) {
        res.headers_mut().entry(REQUEST_ID).or_insert(id);
    }
    security_headers(https, immutable, &uri, fetch_mode, &mut res);
    res
}

/// The request id's header, set on the request when it came without one
/// (`RandomRequestId`) and sent back with the answer.
const REQUEST_ID: &str = "x-request-id";

fn security_headers(
    https: bool,
    immutable: bool,
    uri: &axum::http::Uri,
    fetch_mode: Option<HeaderValue>,
    res: &mut Response,
) {
    let status = res.status();
    let h = res.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if https {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    // The client's hashed files (JS, WASM, CSS) are never a document: the headers that
    // govern documents (framing, referrer, opener, a policy) say nothing there, and
    // would cost every first load their bytes. `nosniff` and HSTS stay.
    if immutable {
        return;
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    let is_page = h
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        if is_page {
            // A page's policy names its nonce; the page carries it in a `<meta>` as well
            // (`app::server::csp::protect_page`). The non-page policy here would block
            // the page's own scripts.
            // Clues for finding what drops it (never reproduced outside the browser
            // tests): the headers it did have, and how the browser fetched it.
            let names: Vec<&str> = h.keys().map(|k| k.as_str()).collect();
            tracing::warn!(
                path = uri.path(),
                status = status.as_u16(),
                fetch_mode = ?fetch_mode,
                headers = ?names,
                "a page went out without its Content-Security-Policy header"
            );
        } else {
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(NON_PAGE_POLICY),
            );
        }
    }
}
