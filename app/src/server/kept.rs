//! What was typed into a form that the server refused, kept for the page the browser
//! returns to, when the browser has no JavaScript (or has not loaded it yet).
//!
//! Such a form posts to its server function, which answers a refusal with a redirect
//! back to the page, the error in the URL (`__path`, `__err`: server_fn's form
//! redirects). The page shows the error next to its field; and, from here, the values
//! as they were typed: the server's middleware (`server/src/kept.rs`) puts the posted
//! fields, never a password, in a short-lived cookie ([`keep`]); the page rendered
//! for the redirect reads them ([`value`]) and the same middleware drops the cookie with
//! that answer, so they are shown once. A cookie rather than the URL: what was typed
//! stays out of the address bar, the history and the access logs.
//!
//! Which form gets the values: the one whose action failed, which is the one whose error
//! signal is set on that page (`ServerAction::new` reads `__path`). `Field` and
//! `SelectField` take a kept value only then. A form repeated per row (a member's role)
//! must pass each row its own error signal, set only on the row that was posted.

use http::request::Parts;

/// The cookie's name.
pub const COOKIE: &str = "ll_kept";
/// A refusal whose fields take more than this is not kept (a browser keeps about
/// 4 KB per cookie; every form of the app but the CSV import fits well below it).
pub const MAX_BYTES: usize = 3 * 1024;
/// The name, in the cookie, of the server function the fields were posted to.
const PATH_KEY: &str = "__path";

/// Whether a field of this name is never kept.
fn is_secret(name: &str) -> bool {
    name.to_ascii_lowercase().contains("password")
}

/// The cookie value for a refused form `body` posted to the server function at
/// `path`: the server function, then every field but passwords, form-encoded (which
/// leaves no character a cookie value may not hold). `None` if that exceeds
/// [`MAX_BYTES`].
pub fn keep(path: &str, body: &[u8]) -> Option<String> {
    let mut out = form_urlencoded::Serializer::new(String::new());
    out.append_pair(PATH_KEY, path);
    for (name, value) in form_urlencoded::parse(body) {
        if name != PATH_KEY && !is_secret(&name) {
            out.append_pair(&name, &value);
        }
    }
    Some(out.finish()).filter(|v| v.len() <= MAX_BYTES)
}

/// The value typed into field `name` of the form whose refusal `parts` (the request
/// for the page) shows: only when its kept fields were posted to the server function
/// that its URL's `__path` names.
pub fn value_in(parts: &Parts, name: &str) -> Option<String> {
    if is_secret(name) {
        return None;
    }
    let kept = super::session::cookie(&parts.headers, COOKIE)?;
    let refused = form_urlencoded::parse(parts.uri.query()?.as_bytes())
        .find(|(k, _)| k == PATH_KEY)?
        .1;
    let mut fields = form_urlencoded::parse(kept.as_bytes());
    if fields
        .next()
        .is_none_or(|(k, v)| k != PATH_KEY || v != refused)
    {
        return None;
    }
    fields.find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// [`value_in`] for the page being rendered.
pub fn value(name: &str) -> Option<String> {
    leptos::prelude::use_context::<Parts>().and_then(|parts| value_in(&parts, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(uri: &str, cookie: Option<&str>) -> Parts {
        let mut req = http::Request::get(uri);
        if let Some(c) = cookie {
            req = req.header(http::header::COOKIE, c);
        }
        req.body(()).unwrap().into_parts().0
    }

    #[test]
    fn passwords_are_never_kept_and_the_rest_is_kept_as_typed() {
        let kept = keep(
            "/api/auth/register",
            b"display_name=Ann+B%C3%A9&email=a%40b.c&password=hunter22hunter&new_password=x&Current_Password=y",
        )
        .unwrap();
        assert!(!kept.to_ascii_lowercase().contains("password"), "{kept}");
        let parts = page(
            "/register?__path=%2Fapi%2Fauth%2Fregister&__err=e30",
            Some(&format!("ll_session=t; {COOKIE}={kept}")),
        );
        assert_eq!(value_in(&parts, "display_name").as_deref(), Some("Ann Bé"));
        assert_eq!(value_in(&parts, "email").as_deref(), Some("a@b.c"));
        assert_eq!(value_in(&parts, "password"), None);
        assert_eq!(value_in(&parts, "missing"), None);
    }

    #[test]
    fn values_show_only_for_the_refusal_they_belong_to() {
        let kept = keep("/api/expenses/create", b"amount=-4&description=tea").unwrap();
        let cookie = format!("{COOKIE}={kept}");
        // Another server function's refusal, no refusal at all, no cookie.
        for (uri, cookie) in [
            (
                "/w/1?__path=%2Fapi%2Fearnings%2Fcreate&__err=e30",
                Some(cookie.as_str()),
            ),
            ("/w/1", Some(cookie.as_str())),
            ("/w/1?__path=%2Fapi%2Fexpenses%2Fcreate&__err=e30", None),
        ] {
            assert_eq!(value_in(&page(uri, cookie), "amount"), None, "{uri}");
        }
        let parts = page(
            "/w/1?period=all&__path=%2Fapi%2Fexpenses%2Fcreate&__err=e30",
            Some(&cookie),
        );
        assert_eq!(value_in(&parts, "amount").as_deref(), Some("-4"));
        // A posted field named like the marker cannot pose as another server function.
        let forged = keep("/api/expenses/create", b"__path=%2Fapi%2Fother&amount=1").unwrap();
        assert!(
            forged.starts_with("__path=%2Fapi%2Fexpenses%2Fcreate&amount=1"),
            "{forged}"
        );
    }

    #[test]
    fn a_refusal_too_large_for_a_cookie_is_not_kept() {
        let body = format!("notes={}", "x".repeat(MAX_BYTES));
        assert_eq!(keep("/api/earnings/create", body.as_bytes()), None);
        let body = format!("notes={}", "x".repeat(MAX_BYTES / 2));
        assert!(keep("/api/earnings/create", body.as_bytes()).is_some());
    }
}
