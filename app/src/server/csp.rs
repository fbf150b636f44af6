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
    // Style sheets, fonts and connections (the live socket included) fall back to
    // `default-src 'self'`; only what differs from it is spelled out.
    let reload = reload
        .map(|port| format!("connect-src 'self' ws://127.0.0.1:{port} ws://localhost:{port}; "))
        .unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src-attr 'unsafe-inline'; img-src 'self' data:; {reload}object-src 'none'; \
         base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )
}

/// Gives this render a nonce and sends the policy naming it. Called by `shell`, before
/// anything that writes an inline script.
pub fn protect_page(options: &leptos::config::LeptosOptions) {
    leptos::nonce::provide_nonce();
    let Some(nonce) = leptos::nonce::use_nonce() else {
        return;
    };
    let reload = std::env::var("LEPTOS_WATCH")
        .is_ok()
        .then_some(options.reload_port);
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    if let Ok(value) = HeaderValue::from_str(&policy(&nonce, reload)) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}
