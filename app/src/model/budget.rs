//! Budgets: a monthly spending limit per category and currency, and how far it has got.
//!
//! The model layer: plain types and their rules, no storage, no server functions.

use serde::{Deserialize, Serialize};

use crate::{error::AppResult, money};

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BudgetInfo {
    pub id: i64,
    pub category: String,
    pub month: String,
    pub limit_minor: i64,
    pub spent_minor: i64,
    pub currency: String,
}
crate::json::json_struct!(BudgetInfo {
    id,
    category,
    month,
    limit_minor,
    spent_minor,
    currency
});

/// Budgets a workspace may have.
pub const MAX_BUDGETS: i64 = 100;
/// `budget:warning` is raised when spending reaches this share of the limit.
pub const WARNING_PERCENT: i64 = 80;

/// How far a budget's period has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetState {
    Ok,
    Warning,
    Exceeded,
}

impl BudgetInfo {
    /// Spent share of the limit, in whole percent (rounded down, may exceed 100).
    pub fn percent(&self) -> i64 {
        self.spent_minor.saturating_mul(100) / self.limit_minor.max(1)
    }

    pub fn state(&self) -> BudgetState {
        if self.spent_minor >= self.limit_minor {
            BudgetState::Exceeded
        } else if self.spent_minor.saturating_mul(100)
            >= self.limit_minor.saturating_mul(WARNING_PERCENT)
        {
            BudgetState::Warning
        } else {
            BudgetState::Ok
        }
    }
}

/// The workspace's budgets with their spending in `month`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetList {
    /// The period shown, 'YYYY-MM' (the server's current month when loaded).
    pub month: String,
    /// By category, then currency.
    pub items: Vec<BudgetInfo>,
    /// The workspace stream's sequence this snapshot is consistent with.
    pub cursor: i64,
}

/// A validated budget, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetInput {
    pub category: String,
    pub currency: String,
    pub limit_minor: i64,
}

impl BudgetInput {
    pub fn parse(category: &str, currency: &str, limit: &str) -> AppResult<Self> {
        let category = crate::model::expense::parse_category(category)?;
        let (limit_minor, currency) = money::parse_money(limit, currency, "limit")?;
        Ok(BudgetInput {
            category,
            currency,
            limit_minor,
        })
    }
}
