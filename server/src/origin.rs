//! Which browser pages may act with a user's cookie: the site itself and the origins in
//! `ALLOWED_ORIGINS`. Used by every state-changing request (`check`) and by the live
//! socket's upgrade, one rule for both.

use std::sync::Arc;

use axum::{
    extract::Request,
    http::{header, HeaderMap, Method, StatusCode},
    response::{IntoResponse, Response},
};

/// Origins allowed to send state-changing requests and open sockets, beyond the site's own.
#[derive(Clone)]
pub struct Origins {
    allowed: Arc<Vec<String>>,
    /// The site's own scheme: `https` when it is served over TLS (a `Secure` cookie).
    scheme: &'static str,
}

impl Origins {
    pub fn new(allowed: Vec<String>, https: bool) -> Origins {
        Origins {
            allowed: Arc::new(allowed),
            scheme: if https { "https" } else { "http" },
        }
    }

    /// A browser's `Origin`, when sent, must be the site itself (scheme, host and port)
    /// or an allowed origin. Without one, a request that says it is cross-site is refused.
    pub fn allows(&self, headers: &HeaderMap) -> bool {
        let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
        match origin {
            None => {
                headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) != Some("cross-site")
            }
            Some(o) => {
                let own = o.split_once("://").is_some_and(|(scheme, authority)| {
                    scheme == self.scheme && Some(authority) == host
                });
                own || self.allowed.iter().any(|a| a == o)
            }
        }
    }
}

/// Refuses state-changing requests sent by another site's page (CSRF defence on top
/// of SameSite=Lax). A step of the app's layer (`startup::app_steps`): `next` is what
/// comes after it.
pub async fn check(
    origins: &Origins,
    req: Request,
    next: impl AsyncFnOnce(Request) -> Response,
) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        || origins.allows(req.headers())
    {
        return next(req).await;
    }
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::warn!(origin, "refused a cross-site request");
    (StatusCode::FORBIDDEN, "cross-site request refused").into_response()
}
