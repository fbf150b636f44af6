//! Expenses: what a workspace spent, in integer minor units of a currency.
//!
//! The model layer: plain types and their rules, no storage, no server functions.

use serde::{Deserialize, Serialize};

pub use super::category::{parse_category, CATEGORIES};
use crate::{
    dates::parse_iso_date,
    error::{AppError, AppResult},
    model::{
        filter::ListFilter,
        ids::{UserId, WorkspaceId},
    },
    money::{self, KeyedTotals, Totals},
};

pub const MAX_DESCRIPTION: usize = 200;
pub const MAX_BULK_DELETE: usize = 500;
/// Bulk deletes (of two or more) per user per minute.
pub const BULK_DELETES_PER_MINUTE: u32 = 20;
/// How long a deletion of expenses can be undone (`expenses/restore`).
pub const UNDO_SECONDS: i64 = 60;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Expense {
    pub id: i64,
    pub workspace_id: WorkspaceId,
    pub amount_minor: i64,
    pub currency: String,
    pub category: String,
    pub description: String,
    pub spent_on: String,
    pub created_by: UserId,
    pub created_by_name: String,
}
crate::json::json_struct!(Expense {
    id,
    workspace_id,
    amount_minor,
    currency,
    category,
    description,
    spent_on,
    created_by,
    created_by_name
});

impl Expense {
    pub fn amount_display(&self) -> String {
        money::format_display(self.amount_minor, &self.currency)
    }
}

/// The expenses a filter selects: the first rows in its order (more are loaded on
/// request), and totals over every row it selects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpenseList {
    pub filter: ListFilter,
    /// The first rows in the filter's order: always a prefix of what it selects.
    pub items: Vec<Expense>,
    /// Sum of every selected expense, per currency.
    pub totals: Totals,
    /// Sum of every selected expense per (category, currency).
    pub by_category: KeyedTotals,
    /// How many expenses the filter selects, also those not loaded.
    pub count: i64,
    /// The workspace stream's sequence this snapshot is consistent with: apply only later events.
    pub cursor: i64,
}

impl ListFilter {
    /// Whether the expense belongs in a list with this filter (the server's SQL says the same).
    pub fn matches_expense(&self, e: &Expense) -> bool {
        self.selects(&e.spent_on, &e.description, &e.currency, e.created_by)
            && (self.category.is_empty() || self.category == e.category)
    }
}

/// A validated expense, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpenseInput {
    pub amount_minor: i64,
    pub currency: String,
    pub category: String,
    pub description: String,
    pub spent_on: String,
}

impl ExpenseInput {
    /// Checks every field of a submitted form; the first problem is reported against its field.
    pub fn parse(
        amount: &str,
        currency: &str,
        category: &str,
        description: &str,
        date: &str,
    ) -> AppResult<Self> {
        let (amount_minor, currency) = money::parse_money(amount, currency, "amount")?;
        let category = parse_category(category)?;
        let description = description.trim().to_owned();
        if description.chars().count() > MAX_DESCRIPTION {
            return Err(AppError::validation(
                "description",
                format!("Use at most {MAX_DESCRIPTION} characters."),
            ));
        }
        if description.chars().any(|c| c.is_control()) {
            return Err(AppError::validation(
                "description",
                "The description contains invalid characters.",
            ));
        }
        let spent_on = date.trim().to_owned();
        let days = parse_iso_date(&spent_on)
            .ok_or_else(|| AppError::validation("date", "Enter a real date (YYYY-MM-DD)."))?;
        check_date_range(days, "date")?;
        Ok(ExpenseInput {
            amount_minor,
            currency,
            category,
            description,
            spent_on,
        })
    }
}

/// Dates from 2000-01-01 up to a year ahead are accepted.
pub fn check_date_range(days: i64, field: &str) -> AppResult<()> {
    const Y2000: i64 = 10_957;
    #[cfg(feature = "ssr")]
    let latest = crate::dates::utc_today_days() + 366;
    #[cfg(not(feature = "ssr"))]
    let latest = i64::MAX;
    if days < Y2000 {
        return Err(AppError::validation(
            field,
            "Dates before 2000 are not accepted.",
        ));
    }
    if days > latest {
        return Err(AppError::validation(
            field,
            "The date is more than a year ahead.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::filter::Period;

    fn expense(date: &str, description: &str) -> Expense {
        Expense {
            id: 1,
            workspace_id: WorkspaceId(1),
            amount_minor: 500,
            currency: "EUR".into(),
            category: "Food".into(),
            description: description.into(),
            spent_on: date.into(),
            created_by: UserId(7),
            created_by_name: "Ann".into(),
        }
    }

    #[test]
    fn matching_follows_every_part_of_the_filter() {
        let mut f = ListFilter::of(&Period::Month(2026, 11));
        let lunch = expense("2026-11-30", "Team LUNCH downtown");
        assert!(f.matches_expense(&lunch));
        assert!(!f.matches_expense(&expense("2026-12-01", "Team lunch")));
        assert!(!f.matches_expense(&expense("2026-10-31", "Team lunch")));
        f.q = "lunch".into();
        assert!(f.matches_expense(&lunch));
        assert!(!f.matches_expense(&expense("2026-11-02", "Taxi")));
        f.category = "Transport".into();
        assert!(!f.matches_expense(&lunch));
        f.category = "Food".into();
        f.member = Some(UserId(8));
        assert!(!f.matches_expense(&lunch));
        f.member = Some(UserId(7));
        f.currency = "USD".into();
        assert!(!f.matches_expense(&lunch));
        f.currency = "EUR".into();
        assert!(f.matches_expense(&lunch));
        assert!(f.narrowed());
    }

    #[test]
    fn parses_a_valid_expense() {
        let e = ExpenseInput::parse("12.30", "eur", "food", "  Lunch ", "2024-03-01").unwrap();
        assert_eq!(e.amount_minor, 1230);
        assert_eq!(e.currency, "EUR");
        assert_eq!(e.category, "Food");
        assert_eq!(e.description, "Lunch");
    }

    #[test]
    fn names_the_field_at_fault() {
        let field = |r: AppResult<ExpenseInput>| match r {
            Err(AppError::Validation { field, .. }) => field,
            other => panic!("expected a validation error, got {other:?}"),
        };
        assert_eq!(
            field(ExpenseInput::parse("-1", "EUR", "Food", "", "2024-01-01")),
            "amount"
        );
        assert_eq!(
            field(ExpenseInput::parse("1", "XYZ", "Food", "", "2024-01-01")),
            "currency"
        );
        assert_eq!(
            field(ExpenseInput::parse("1", "EUR", "Yachts", "", "2024-01-01")),
            "category"
        );
        assert_eq!(
            field(ExpenseInput::parse(
                "1",
                "EUR",
                "Food",
                &"x".repeat(201),
                "2024-01-01"
            )),
            "description"
        );
        assert_eq!(
            field(ExpenseInput::parse("1", "EUR", "Food", "", "2024-02-30")),
            "date"
        );
        assert_eq!(
            field(ExpenseInput::parse("1", "EUR", "Food", "", "1999-12-31")),
            "date"
        );
    }
}
