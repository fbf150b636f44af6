//! The compiled client's files (`/pkg/…`): served from the site root, precompressed at
//! build time (`cargo leptos build --release --precompress` writes `.br` and `.gz` beside
//! each file), picked by the request's `Accept-Encoding` with `Vary: accept-encoding`,
//! and cached by name: a name with a content hash is immutable for a year; any other
//! name must be revalidated. Pages and API answers are not cached at all (`no-store`):
//! they are per user.

use axum::{
    http::{header, HeaderValue},
    response::Response,
};
use tower_http::services::ServeDir;

/// The service behind `/pkg` for the site at `site_root`.
pub fn pkg_service(site_root: &str, pkg_dir: &str) -> ServeDir {
    ServeDir::new(std::path::Path::new(site_root).join(pkg_dir))
        .precompressed_br()
        .precompressed_gzip()
}

/// True for a file name cargo-leptos gave a content hash: `name.<22 base64url>.ext`.
pub fn is_content_hashed(file: &str) -> bool {
    let mut parts = file.rsplit('.');
    let (_ext, hash, name) = (parts.next(), parts.next(), parts.next());
    name.is_some_and(|n| !n.is_empty())
        && hash.is_some_and(|h| {
            h.len() == 22
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// The `Cache-Control` of a file whose name carries its content's hash.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Sets `Cache-Control` on the answer to a request for `path` where the handler did not:
/// see the module's comment. (`http::finish` calls it for every answer.)
pub fn cache_control(path: &str, res: &mut Response) {
    if res.headers().contains_key(header::CACHE_CONTROL) {
        return;
    }
    let value = if let Some(file) = path.strip_prefix("/pkg/") {
        if res.status().is_success() && is_content_hashed(file) {
            // Never revalidated (a new content is a new name): validators are bytes for
            // nothing on every first load.
            res.headers_mut().remove(header::ETAG);
            res.headers_mut().remove(header::LAST_MODIFIED);
            // Fetched whole, never in ranges (and served encoded, where ranges mislead).
            res.headers_mut().remove(header::ACCEPT_RANGES);
            IMMUTABLE
        } else {
            "no-cache"
        }
    } else {
        let content_type = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if content_type.starts_with("text/html") || content_type.starts_with("application/json") {
            "no-store"
        } else {
            "no-cache"
        }
    };
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
}
