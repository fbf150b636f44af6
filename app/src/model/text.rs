//! Rules for short text people type: names of people, workspaces and goals.

use crate::error::{AppError, AppResult};

/// A one-line name as typed: trimmed, not empty (`empty` says what to enter), at most
/// `max` characters, no control characters. Errors are reported against `field`.
pub fn one_line(raw: &str, field: &str, max: usize, empty: &str) -> AppResult<String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(AppError::validation(field, empty));
    }
    if name.chars().count() > max || name.chars().any(|c| c.is_control()) {
        return Err(AppError::validation(
            field,
            format!("Use at most {max} characters, on one line."),
        ));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_refuses_empty_long_and_control_text() {
        assert_eq!(
            one_line("  Ana ", "name", 5, "Enter a name.").unwrap(),
            "Ana"
        );
        let field_of = |r: AppResult<String>| match r {
            Err(AppError::Validation { field, .. }) => field,
            other => panic!("expected a validation error, got {other:?}"),
        };
        assert_eq!(
            field_of(one_line("   ", "name", 5, "Enter a name.")),
            "name"
        );
        assert_eq!(field_of(one_line("abcdef", "title", 5, "x")), "title");
        assert_eq!(field_of(one_line("a\nb", "name", 5, "x")), "name");
        assert!(
            one_line("ééééé", "name", 5, "x").is_ok(),
            "characters, not bytes"
        );
    }
}
