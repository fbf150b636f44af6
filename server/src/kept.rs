//! The server's half of keeping what was typed into a refused form (`app::server::kept`
//! says why and how the page uses it): a plain form post (HTML accepted, no
//! JavaScript) to a server function that is refused, that is answered by a redirect
//! carrying `__err`, leaves its fields, never a password, in a cookie that lives a
//! minute; any other request that brings the cookie back, the page the redirect leads
//! to first of all, is answered with the cookie dropped, so the values show once.

use app::server::kept::{self, COOKIE};
use axum::{
    body::Body,
    extract::Request,
    http::{header, HeaderValue, Method},
    response::Response,
};

/// How long a kept form lives: the redirect is followed at once; a browser that does
/// not follow it does not keep the values around.
const LIFETIME_SECS: u32 = 60;

fn header_has(req: &Request, name: header::HeaderName, part: &str) -> bool {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains(part))
}

/// A step of the app's layer (`startup::app_steps`); `https` is whether the site is
/// served over HTTPS (`Secure`), `next` what comes after it.
pub async fn keep_typed(
    https: bool,
    req: Request,
    next: impl AsyncFnOnce(Request) -> Response,
) -> Response {
    let secure = if https { "; Secure" } else { "" };
    let plain_form_post = req.method() == Method::POST
        && req.uri().path().starts_with("/api/")
        && header_has(&req, header::ACCEPT, "text/html")
        && header_has(
            &req,
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        );
    if !plain_form_post {
        let brought = app::server::session::cookie(req.headers(), COOKIE).is_some();
        let mut res = next(req).await;
        if brought {
            let drop = format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{secure}");
            if let Ok(v) = HeaderValue::from_str(&drop) {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
        }
        return res;
    }
    let path = req.uri().path().to_owned();
    let (parts, body) = req.into_parts();
    // `body::limit`, outside this layer, has already read every form body into memory
    // within its limit: this takes the same bytes, not a second copy.
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::builder()
            .status(axum::http::StatusCode::BAD_REQUEST)
            .body(Body::empty())
            .unwrap_or_default();
    };
    let mut res = next(Request::from_parts(parts, Body::from(bytes.clone()))).await;
    let refused = res.status().is_redirection()
        && res
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|l| l.contains("__err="));
    if let Some(value) = refused.then(|| kept::keep(&path, &bytes)).flatten() {
        let cookie = format!(
            "{COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={LIFETIME_SECS}{secure}"
        );
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}
