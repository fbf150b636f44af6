//! Goals: a target amount, what is saved towards it, and its milestones.
//!
//! The model layer: plain types and their rules, no storage, no server functions.

use serde::{Deserialize, Serialize};

use crate::{
    error::{AppError, AppResult},
    money,
};

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GoalInfo {
    pub id: i64,
    pub name: String,
    pub target_minor: i64,
    pub saved_minor: i64,
    pub currency: String,
    /// Ascending by percent.
    #[serde(default)]
    pub milestones: Vec<Milestone>,
    #[serde(default)]
    pub achieved: bool,
}
crate::json::json_struct!(GoalInfo { id, name, target_minor, saved_minor, currency, milestones = default, achieved = default });

/// A share of a goal's target; once reached it stays reached.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Milestone {
    pub percent: u8,
    pub reached: bool,
}
crate::json::json_struct!(Milestone { percent, reached });

pub const DEFAULT_MILESTONES: [u8; 4] = [25, 50, 75, 100];
pub const MAX_MILESTONES: usize = 10;
pub const MAX_NAME: usize = 80;
pub const MAX_GOALS: i64 = 100;

impl GoalInfo {
    /// Saved share of the target, in whole percent (rounded down, may exceed 100).
    pub fn percent(&self) -> i64 {
        self.saved_minor.saturating_mul(100) / self.target_minor.max(1)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoalList {
    /// Oldest first.
    pub items: Vec<GoalInfo>,
    /// The workspace stream's sequence this snapshot is consistent with.
    pub cursor: i64,
}

/// Parses "25, 50, 75" (percent of the target, 1 to 100); empty means the defaults.
pub fn parse_milestones(input: &str) -> AppResult<Vec<u8>> {
    let bad = || {
        AppError::validation(
            "milestones",
            format!(
                "List up to {MAX_MILESTONES} whole percentages from 1 to 100, separated by commas."
            ),
        )
    };
    if input.trim().is_empty() {
        return Ok(DEFAULT_MILESTONES.to_vec());
    }
    let mut out = Vec::new();
    for part in input.split(',') {
        let p: u8 = part
            .trim()
            .trim_end_matches('%')
            .trim()
            .parse()
            .map_err(|_| bad())?;
        if !(1..=100).contains(&p) {
            return Err(bad());
        }
        out.push(p);
    }
    out.sort_unstable();
    out.dedup();
    if out.len() > MAX_MILESTONES {
        return Err(bad());
    }
    Ok(out)
}

/// A validated goal name and target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoalInput {
    pub name: String,
    pub currency: String,
    pub target_minor: i64,
}

impl GoalInput {
    pub fn parse(name: &str, target: &str, currency: &str) -> AppResult<Self> {
        let name = super::text::one_line(name, "name", MAX_NAME, "Name the goal.")?;
        let (target_minor, currency) = money::parse_money(target, currency, "target")?;
        Ok(GoalInput {
            name,
            currency,
            target_minor,
        })
    }
}
