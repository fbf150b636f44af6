//! Sessions are HS256 JWTs: signature, `exp`, issuer and audience are validated and the
//! algorithm is pinned. The browser carries the token in an HttpOnly cookie; API
//! clients may send `Authorization: Bearer`. Each token also carries the user's
//! `token_version`; bumping it in the database revokes every older token.
//!
//! A token that passed those checks is kept (`SessionKeys::verified`), so the next
//! request carrying it is not parsed and signed again: the check is a pure function of
//! the token, the key and the clock, and only the expiry depends on the clock, which is
//! checked on every use, kept or not. Revocation is the database's (`authz`), read on
//! every request as before.

use std::{collections::HashMap, sync::Mutex};

use crate::model::ids::UserId;
use http::{header, HeaderMap, HeaderValue};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};

pub const COOKIE_NAME: &str = "ll_session";
pub const ISSUER: &str = "liveledger";
pub const AUDIENCE: &str = "liveledger";
/// How many verified tokens [`SessionKeys`] keeps (about 400 bytes each).
pub const VERIFIED_KEPT: usize = 1024;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub iat: u64,
    pub exp: u64,
    pub iss: String,
    pub aud: String,
    /// The user's token_version when the token was issued.
    pub ver: i64,
    /// Which sign-in this token belongs to (random, kept when the token is renewed):
    /// a password change ends every session but this one. Tokens from before it read 0.
    #[serde(default)]
    pub sid: u64,
}

/// The signing keys and cookie settings. The secret itself is never logged
/// (this type has no `Debug`).
pub struct SessionKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// Tokens that passed `decode`, with their claims; at most [`VERIFIED_KEPT`], all
    /// dropped when that is reached (only well-signed tokens get in, so only sign-ins
    /// fill it).
    verified: Mutex<HashMap<Box<str>, Claims>>,
    pub ttl_secs: u64,
    /// Mark the cookie `Secure` (the app is served over HTTPS).
    pub secure_cookie: bool,
}

impl SessionKeys {
    pub fn new(secret: &[u8], ttl_secs: u64, secure_cookie: bool) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // No leeway: a token is refused from the second of its `exp` on (`exp - 1 < now`),
        // by HTTP as by the socket, which closes exactly then.
        validation.leeway = 0;
        validation.reject_tokens_expiring_in_less_than = 1;
        SessionKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            verified: Mutex::default(),
            ttl_secs,
            secure_cookie,
        }
    }

    /// A token for a new sign-in.
    pub fn issue(&self, user_id: UserId, token_version: i64) -> AppResult<String> {
        self.renew(user_id, token_version, rand::random())
    }

    /// A token for the sign-in `sid`, at the user's current `token_version`.
    pub fn renew(&self, user_id: UserId, token_version: i64, sid: u64) -> AppResult<String> {
        let now = super::clock::now_ms() as u64 / 1000;
        let claims = Claims {
            sub: user_id.to_string(),
            iat: now,
            exp: now + self.ttl_secs,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            ver: token_version,
            sid,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(|e| {
            tracing::error!(error = %e, "could not sign a session token");
            AppError::Internal
        })
    }

    /// Validates a token; any failure is just "not logged in".
    pub fn verify(&self, token: &str) -> Option<Claims> {
        self.verify_at(token, jsonwebtoken::get_current_timestamp())
    }

    /// [`verify`](Self::verify) at `now` (seconds since the epoch). A kept token is
    /// refused from its `exp` on, as `decode` refuses it (no leeway, and
    /// `reject_tokens_expiring_in_less_than = 1`: `exp - 1 < now`).
    fn verify_at(&self, token: &str, now: u64) -> Option<Claims> {
        let current = |claims: &Claims| claims.exp > now;
        if let Some(claims) = self.kept().get(token) {
            return current(claims).then(|| claims.clone());
        }
        let claims = match decode::<Claims>(token, &self.decoding, &self.validation) {
            Ok(data) => data.claims,
            Err(e) => {
                tracing::debug!(reason = %e, "rejected a session token");
                return None;
            }
        };
        let mut kept = self.kept();
        if kept.len() >= VERIFIED_KEPT {
            kept.clear();
        }
        kept.insert(token.into(), claims.clone());
        current(&claims).then_some(claims)
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, HashMap<Box<str>, Claims>> {
        // The map is whole after any panic (an insert or a clear either happened or not).
        self.verified.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn cookie(&self, token: &str) -> HeaderValue {
        let secure = if self.secure_cookie { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{COOKIE_NAME}={token}; HttpOnly; SameSite=Lax; Path=/; Max-Age={}{secure}",
            self.ttl_secs
        ))
        .expect("a JWT is a valid header value")
    }

    /// Sends `token` with the current server function's answer: as the session cookie,
    /// and in `x-session-token` for API clients (a bearer token).
    pub fn send(&self, token: &str) {
        let Some(res) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() else {
            return;
        };
        res.append_header(header::SET_COOKIE, self.cookie(token));
        if let Ok(v) = HeaderValue::from_str(token) {
            res.insert_header(http::HeaderName::from_static("x-session-token"), v);
        }
    }

    pub fn clear_cookie(&self) -> HeaderValue {
        let secure = if self.secure_cookie { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{COOKIE_NAME}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0{secure}"
        ))
        .expect("static cookie")
    }
}

/// The credentials of an `Authorization: Bearer <token>` header. The scheme is
/// case-insensitive (RFC 7235: `bearer` and `BEARER` are the same scheme).
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The token a request carries: `Authorization: Bearer` first, then the session cookie.
pub fn token_from_headers(headers: &HeaderMap) -> Option<String> {
    if let Some(token) = bearer_token(headers) {
        return Some(token.to_owned());
    }
    cookie(headers, COOKIE_NAME).map(str::to_owned)
}

/// The value of the cookie `name` the request carries, if not empty.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"a test secret of more than thirty-two bytes";

    fn keys() -> SessionKeys {
        SessionKeys::new(SECRET, 100, false)
    }

    #[test]
    fn a_kept_token_is_refused_from_its_expiry_on() {
        let keys = keys();
        let token = keys.issue(UserId(7), 3).unwrap();
        let claims = keys.verify(&token).expect("a fresh token");
        assert_eq!((claims.sub.as_str(), claims.ver), ("7", 3));
        assert!(
            keys.kept().contains_key(token.as_str()),
            "kept once verified"
        );
        // From here on the kept claims answer; the clock is the argument.
        let exp = claims.exp;
        assert!(keys.verify_at(&token, exp - 1).is_some(), "a second before");
        assert!(keys.verify_at(&token, exp).is_none(), "refused at exp");
        assert!(keys.verify_at(&token, exp + 3600).is_none(), "and after");
        assert!(keys.kept().contains_key(token.as_str()));
    }

    #[test]
    fn only_well_signed_tokens_are_kept() {
        let keys = keys();
        let foreign = SessionKeys::new(b"another secret of more than thirty-two", 100, false)
            .issue(UserId(7), 3)
            .unwrap();
        let good = keys.issue(UserId(7), 3).unwrap();
        let (body, signature) = good.rsplit_once('.').unwrap();
        let mut forged = signature.to_owned().into_bytes();
        forged[0] = if forged[0] == b'A' { b'B' } else { b'A' };
        let forged = format!("{body}.{}", String::from_utf8(forged).unwrap());
        for bad in [foreign.as_str(), forged.as_str(), "not.a.token", ""] {
            assert!(keys.verify(bad).is_none(), "{bad:?} refused");
            assert!(keys.verify(bad).is_none(), "{bad:?} refused again");
        }
        assert!(keys.kept().is_empty(), "nothing refused is kept");
        assert!(keys.verify(&good).is_some());
    }

    #[test]
    fn the_kept_tokens_are_bounded() {
        let keys = keys();
        let tokens: Vec<String> = (0..VERIFIED_KEPT as u64 + 10)
            .map(|sid| keys.renew(UserId(1), 0, sid).unwrap())
            .collect();
        for (i, token) in tokens.iter().enumerate() {
            assert!(keys.verify(token).is_some(), "token {i}");
            assert!(keys.kept().len() <= VERIFIED_KEPT);
        }
        assert_eq!(keys.kept().len(), 10, "emptied when full, then refilled");
        assert!(
            tokens.iter().all(|t| keys.verify(t).is_some()),
            "dropped ones verify again"
        );
    }
}
