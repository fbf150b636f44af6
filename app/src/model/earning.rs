//! Earnings (the freelancer side): what was earned on which platform, for how many hours.
//!
//! The model layer: plain types and their rules, no storage, no server functions.

use serde::{Deserialize, Serialize};

use super::expense::check_date_range;
use crate::{
    dates::parse_iso_date,
    error::{AppError, AppResult},
    model::{
        filter::ListFilter,
        ids::{UserId, WorkspaceId},
    },
    money::{self, KeyedTotals, Totals},
};

pub const MAX_NOTES: usize = 500;
pub const MAX_PLATFORM_NAME: usize = 40;
pub const MAX_PLATFORMS: i64 = 50;
/// At most 1,000 hours in one entry.
pub const MAX_HOURS_CENTI: i64 = 100_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Platform {
    pub id: i64,
    pub name: String,
    pub color: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Earning {
    pub id: i64,
    pub workspace_id: WorkspaceId,
    pub platform_id: i64,
    pub platform_name: String,
    pub platform_color: String,
    pub earned_on: String,
    pub hours_centi: i64,
    pub amount_minor: i64,
    pub currency: String,
    pub notes: String,
    pub created_by: UserId,
}
crate::json::json_struct!(Earning {
    id,
    workspace_id,
    platform_id,
    platform_name,
    platform_color,
    earned_on,
    hours_centi,
    amount_minor,
    currency,
    notes,
    created_by
});

impl Earning {
    /// Minor units per hour, rounded half up; `None` for fixed-price work (0 hours).
    pub fn hourly_rate_minor(&self) -> Option<i64> {
        hourly_rate(self.amount_minor, self.hours_centi)
    }

    pub fn rate_display(&self) -> String {
        self.hourly_rate_minor()
            .map(|r| format!("{}/h", money::format_display(r, &self.currency)))
            .unwrap_or_else(|| "—".into())
    }
}

pub fn hourly_rate(amount_minor: i64, hours_centi: i64) -> Option<i64> {
    (hours_centi > 0).then(|| (amount_minor * 100 + hours_centi / 2) / hours_centi)
}

/// "1.5" → 150, "2" → 200, "0.25" → 25.
pub fn parse_hours(raw: &str) -> AppResult<i64> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(0);
    }
    let err = || {
        AppError::validation(
            "hours",
            "Enter hours as a number with up to 2 decimals, such as 1.5.",
        )
    };
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.len() > 6
        || frac.len() > 2
        || !whole
            .chars()
            .chain(frac.chars())
            .all(|c| c.is_ascii_digit())
        || (whole.is_empty() && frac.is_empty())
    {
        return Err(err());
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| err())?
    };
    let frac: i64 = format!("{frac:0<2}").parse().map_err(|_| err())?;
    let centi = whole * 100 + frac;
    if centi > MAX_HOURS_CENTI {
        return Err(AppError::validation(
            "hours",
            "At most 1,000 hours in one entry.",
        ));
    }
    Ok(centi)
}

pub fn format_hours(centi: i64) -> String {
    if centi % 100 == 0 {
        format!("{}", centi / 100)
    } else {
        format!("{}.{:02}", centi / 100, centi % 100)
            .trim_end_matches('0')
            .to_owned()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarningList {
    pub filter: ListFilter,
    /// The first rows in the filter's order: always a prefix of what it selects.
    pub items: Vec<Earning>,
    /// Every platform of the workspace (for the forms and the filter).
    pub platforms: Vec<Platform>,
    /// Sum of every selected earning, per currency.
    pub totals: Totals,
    /// Sum of every selected earning per (month 'YYYY-MM', currency), for the chart.
    pub by_month: KeyedTotals,
    /// Sum of every selected earning per (platform id, currency).
    pub by_platform: KeyedTotals,
    pub total_hours_centi: i64,
    /// How many earnings the filter selects, also those not loaded.
    pub count: i64,
    /// The workspace stream's sequence this snapshot is consistent with.
    pub cursor: i64,
}

impl ListFilter {
    /// Whether the earning belongs in a list with this filter (the server's SQL says the same).
    pub fn matches_earning(&self, e: &Earning) -> bool {
        self.selects(&e.earned_on, &e.notes, &e.currency, e.created_by)
            && self.platform.is_none_or(|p| p == e.platform_id)
    }
}

/// A validated earning, ready to store (the platform is checked against the workspace on the server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarningInput {
    pub platform_id: i64,
    pub earned_on: String,
    pub hours_centi: i64,
    pub amount_minor: i64,
    pub currency: String,
    pub notes: String,
}

impl EarningInput {
    pub fn parse(
        platform_id: &str,
        date: &str,
        hours: &str,
        amount: &str,
        currency: &str,
        notes: &str,
    ) -> AppResult<Self> {
        let platform_id = platform_id
            .trim()
            .parse::<i64>()
            .map_err(|_| AppError::validation("platform_id", "Choose a platform."))?;
        let earned_on = date.trim().to_owned();
        let days = parse_iso_date(&earned_on)
            .ok_or_else(|| AppError::validation("date", "Enter a real date (YYYY-MM-DD)."))?;
        check_date_range(days, "date")?;
        let hours_centi = parse_hours(hours)?;
        let (amount_minor, currency) = money::parse_money(amount, currency, "amount")?;
        let notes = notes.trim().to_owned();
        if notes.chars().count() > MAX_NOTES {
            return Err(AppError::validation(
                "notes",
                format!("Use at most {MAX_NOTES} characters."),
            ));
        }
        if notes
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            return Err(AppError::validation(
                "notes",
                "The notes contain invalid characters.",
            ));
        }
        Ok(EarningInput {
            platform_id,
            earned_on,
            hours_centi,
            amount_minor,
            currency,
            notes,
        })
    }
}

/// `#rrggbb`, lower-cased.
pub fn parse_color(raw: &str) -> AppResult<String> {
    let c = raw.trim().to_lowercase();
    if c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|ch| ch.is_ascii_hexdigit()) {
        Ok(c)
    } else {
        Err(AppError::validation("color", "Pick a colour (#rrggbb)."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_parse_to_hundredths() {
        assert_eq!(parse_hours("1.5").unwrap(), 150);
        assert_eq!(parse_hours("2").unwrap(), 200);
        assert_eq!(parse_hours("0.25").unwrap(), 25);
        assert_eq!(parse_hours("").unwrap(), 0);
        assert!(parse_hours("1.234").is_err());
        assert!(parse_hours("-1").is_err());
        assert!(parse_hours("1001").is_err());
        assert!(parse_hours("abc").is_err());
        assert_eq!(format_hours(150), "1.5");
        assert_eq!(format_hours(225), "2.25");
        assert_eq!(format_hours(300), "3");
    }

    #[test]
    fn hourly_rate_is_derived_and_rounded() {
        assert_eq!(hourly_rate(10_000, 200), Some(5_000)); // 100.00 over 2 h = 50.00/h
        assert_eq!(hourly_rate(10_000, 300), Some(3_333)); // 33.33/h
        assert_eq!(hourly_rate(20_000, 300), Some(6_667)); // 66.67/h
        assert_eq!(hourly_rate(10_000, 0), None);
    }

    #[test]
    fn colors_are_checked() {
        assert_eq!(parse_color("#AABBCC").unwrap(), "#aabbcc");
        assert!(parse_color("red").is_err());
        assert!(parse_color("#12345").is_err());
    }
}
