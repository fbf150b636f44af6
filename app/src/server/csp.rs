//! The Content-Security-Policy of every rendered page. Leptos puts a fresh nonce on the
//! inline scripts it writes (the hydration bootstrap, resolved resources); the policy
//! allows those, the site's own files and WebAssembly, and nothing else: no other inline
//! script, no eval, no other origin. Style *attributes* (progress-bar widths) are
//! allowed; style elements and sheets from elsewhere are not.

use http::{header, HeaderValue};
use leptos::prelude::use_context;

/// The policy for a page whose inline scripts carry `nonce`. `reload` adds the
/// development auto-reload socket (`cargo leptos watch`).
pub fn policy(nonce: &str, reload: Option<u32>) -> String {
    directives(nonce, reload, "frame-ancestors 'none'; ")
}

/// The same policy as a `<meta http-equiv>` in the page's head may carry it: all but
/// `frame-ancestors`, which a browser ignores there (with a console error);
/// `X-Frame-Options: DENY` still refuses framing.
pub fn meta_policy(nonce: &str, reload: Option<u32>) -> String {
    directives(nonce, reload, "")
}

fn directives(nonce: &str, reload: Option<u32>, frame_ancestors: &str) -> String {
    // Style sheets, fonts and connections (the live socket included) fall back to
    // `default-src 'self'`; only what differs from it is spelled out.
    let reload = reload
        .map(|port| format!("connect-src 'self' ws://127.0.0.1:{port} ws://localhost:{port}; "))
        .unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src-attr 'unsafe-inline'; img-src 'self' data:; {reload}object-src 'none'; \
         base-uri 'none'; {frame_ancestors}form-action 'self'"
    )
}

/// Gives this render a nonce and sends the policy naming it; returns the policy for the
/// page's `<meta>` (see `shell`). Called by `shell`, before anything that writes an
/// inline script.
///
/// The header alone was not enough: now and then (about once in 25 runs of an
/// end-to-end test that moves between pages quickly) a page went out without it, so
/// the server's policy for non-pages (`default-src 'none'`) applied, and the browser
/// refused the client's module ("Failed to fetch dynamically imported module": blocked
/// by CSP, in the trace); the page never hydrated. Not understood yet (the header is
/// set into Leptos' `ResponseOptions` before the render). So the page carries its policy
/// in its head as well, which no header handling can lose, and the server adds no
/// policy of its own to an HTML answer that has none (it logs that instead).
pub fn protect_page(options: &leptos::config::LeptosOptions) -> Option<String> {
    leptos::nonce::provide_nonce();
    let nonce = leptos::nonce::use_nonce()?;
    let reload = std::env::var("LEPTOS_WATCH")
        .is_ok()
        .then_some(options.reload_port);
    match use_context::<leptos_axum::ResponseOptions>() {
        Some(response) => {
            if let Ok(value) = HeaderValue::from_str(&policy(&nonce, reload)) {
                response.insert_header(header::CONTENT_SECURITY_POLICY, value);
            }
        }
        // Never seen; told apart from the header being lost later (see above).
        None => tracing::warn!("a page rendered without Leptos' response options"),
    }
    Some(meta_policy(&nonce, reload))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_meta_policy_is_the_header_policy_without_frame_ancestors() {
        let header = policy("n0nce", Some(3001));
        let meta = meta_policy("n0nce", Some(3001));
        assert!(header.contains("frame-ancestors 'none'; "), "{header}");
        assert!(!meta.contains("frame-ancestors"), "{meta}");
        assert_eq!(header.replace("frame-ancestors 'none'; ", ""), meta);
        assert!(meta.contains("'nonce-n0nce'") && meta.contains("ws://127.0.0.1:3001"));
    }
}
