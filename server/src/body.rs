//! Request bodies: a size limit per route, refused before anything is read when the
//! declared length is over it (413, so a client waiting on `Expect: 100-continue`
//! uploads nothing), and form bodies that must decode to UTF-8 text (400) rather than
//! be stored with replacement characters.

use axum::{
    body::Body,
    extract::Request,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    Json,
};

/// Request bodies larger than this are refused…
pub const BODY_LIMIT: usize = 256 * 1024;
/// …except on the CSV import, whose file (up to `app::import::MAX_BYTES`) arrives
/// form-encoded, which can triple its size.
pub const LARGE_BODY_LIMIT: usize = 3 * app::import::MAX_BYTES + 64 * 1024;
const LARGE_BODY_PATHS: &[&str] = &["/api/import/csv"];

fn refuse(status: StatusCode, message: String) -> Response {
    (
        status,
        Json(serde_json::json!({"kind": "request", "message": message})),
    )
        .into_response()
}

/// A step of `http::outer_layers` (see there why the steps are not layers of their own):
/// `next` is what comes after it.
pub async fn limit(req: Request, next: impl AsyncFnOnce(Request) -> Response) -> Response {
    let limit = if LARGE_BODY_PATHS.contains(&req.uri().path()) {
        LARGE_BODY_LIMIT
    } else {
        BODY_LIMIT
    };
    let too_large = || {
        refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("The request is larger than {} KiB.", limit / 1024),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return too_large();
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let (parts, body) = req.into_parts();
    let body = if is_form {
        let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
            return too_large();
        };
        if !form_is_utf8(&bytes) {
            return refuse(
                StatusCode::BAD_REQUEST,
                "The form is not valid UTF-8 text.".into(),
            );
        }
        Body::from(bytes)
    } else {
        Body::new(http_body_util::Limited::new(body, limit))
    };
    next(Request::from_parts(parts, body)).await
}

/// Whether every name and value of an `application/x-www-form-urlencoded` body decodes
/// to UTF-8. A `%` not followed by two hex digits stays a literal `%`, as browsers and
/// the WHATWG URL standard read it; what must not happen is a byte sequence that is
/// not text being stored as U+FFFD.
pub fn form_is_utf8(body: &[u8]) -> bool {
    // Without a `%` no byte decodes to another (a `+` is a space): the body is text
    // exactly when it is UTF-8 as it came, and nothing need be decoded to know.
    if !body.contains(&b'%') {
        return std::str::from_utf8(body).is_ok();
    }
    let hex = |b: Option<&u8>| b.and_then(|b| (*b as char).to_digit(16));
    let mut decoded = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        match body[i] {
            b'%' => match (hex(body.get(i + 1)), hex(body.get(i + 2))) {
                (Some(hi), Some(lo)) => {
                    decoded.push((hi * 16 + lo) as u8);
                    i += 2;
                }
                _ => decoded.push(b'%'),
            },
            b'+' => decoded.push(b' '),
            b => decoded.push(b),
        }
        i += 1;
    }
    // `&` and `=` are ASCII: the whole body decodes to text exactly when each name and
    // value does.
    std::str::from_utf8(&decoded).is_ok()
}
