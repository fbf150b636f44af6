//! Who is signed in, and the rules for accounts: e-mail, display name, password.
//!
//! The model layer: plain types and their rules, no storage, no server functions.

use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};
use crate::model::ids::UserId;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
}
crate::json::json_struct!(SessionUser {
    id,
    email,
    display_name
});

pub const MIN_PASSWORD_LEN: usize = 10;
pub const MAX_PASSWORD_LEN: usize = 128;
pub const MAX_EMAIL_LEN: usize = 254;
pub const MAX_NAME_LEN: usize = 80;

/// Lower-cased, trimmed email, if it looks like one.
pub fn normalize_email(raw: &str) -> AppResult<String> {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= MAX_EMAIL_LEN
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
                && email.matches('@').count() == 1
        });
    if valid {
        Ok(email)
    } else {
        Err(AppError::validation(
            "email",
            "Enter a valid email address, like name@example.com.",
        ))
    }
}

pub fn validate_display_name(raw: &str) -> AppResult<String> {
    super::text::one_line(raw, "display_name", MAX_NAME_LEN, "Enter your name.")
}

/// A password must be long enough, not absurdly long, not the email and not a
/// well-known weak one.
pub fn validate_password(password: &str, email: &str) -> AppResult<()> {
    const WEAK: &[&str] = &[
        "password",
        "1234567890",
        "qwertyuiop",
        "0123456789",
        "passwordpassword",
        "letmeinplease",
        "iloveyou12",
    ];
    let n = password.chars().count();
    let lower = password.to_lowercase();
    let err = |m: &str| Err(AppError::validation("password", m));
    if n < MIN_PASSWORD_LEN {
        return err("Use at least 10 characters.");
    }
    if n > MAX_PASSWORD_LEN {
        return err("Use at most 128 characters.");
    }
    if lower == email || WEAK.iter().any(|w| lower.starts_with(w)) {
        return err("This password is too easy to guess. Try a short sentence.");
    }
    if password
        .chars()
        .collect::<std::collections::HashSet<_>>()
        .len()
        < 4
    {
        return err("Use a mix of at least 4 different characters.");
    }
    Ok(())
}

/// Where to go after logging in: a path on this site, never another origin.
pub fn safe_next(next: &str) -> &str {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && next.len() <= 512
        && !next.chars().any(|c| c.is_control());
    if ok {
        next
    } else {
        "/"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(
            normalize_email("  Ann@Example.COM ").unwrap(),
            "ann@example.com"
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@x.com",
            "ann@localhost",
            "a b@x.com",
            "a@@x.com",
            "a@x.com.",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next("/join/abc"), "/join/abc");
        assert_eq!(safe_next("//evil.example"), "/");
        assert_eq!(safe_next("https://evil.example"), "/");
        assert_eq!(safe_next("/\\evil.example"), "/");
        assert_eq!(safe_next(""), "/");
    }

    #[test]
    fn weak_passwords_are_refused() {
        assert!(validate_password("short", "a@x.com").is_err());
        assert!(validate_password("password123", "a@x.com").is_err());
        assert!(validate_password("aaaaaaaaaaaa", "a@x.com").is_err());
        assert!(validate_password(&"x1".repeat(80), "a@x.com").is_err());
        assert!(validate_password("correct horse battery", "a@x.com").is_ok());
    }
}
