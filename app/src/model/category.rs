//! The expense categories: the fixed list, and reading one from what people type.

use crate::error::{AppError, AppResult};

pub const CATEGORIES: &[&str] = &[
    "Food",
    "Transport",
    "Housing",
    "Utilities",
    "Software",
    "Equipment",
    "Travel",
    "Marketing",
    "Office",
    "Health",
    "Education",
    "Taxes",
    "Other",
];

/// One of `CATEGORIES`, matched without regard to case, or an error against `category`.
pub fn parse_category(raw: &str) -> AppResult<String> {
    CATEGORIES
        .iter()
        .find(|c| c.eq_ignore_ascii_case(raw.trim()))
        .map(|c| c.to_string())
        .ok_or_else(|| AppError::validation("category", "Choose a category from the list."))
}
