//! Earnings (the freelancer side): what was earned on which platform, for how many hours.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    dates::parse_iso_date,
    error::{AppError, AppResult},
    expenses::check_date_range,
    money::{self, parse_amount, KeyedTotals, Totals},
};

pub const MAX_NOTES: usize = 500;
pub const MAX_PLATFORM_NAME: usize = 40;
pub const MAX_PLATFORMS: i64 = 50;
/// At most 1,000 hours in one entry.
pub const MAX_HOURS_CENTI: i64 = 100_000;
pub const LIST_LIMIT: i64 = 500;

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
    pub workspace_id: i64,
    pub platform_id: i64,
    pub platform_name: String,
    pub platform_color: String,
    pub earned_on: String,
    pub hours_centi: i64,
    pub amount_minor: i64,
    pub currency: String,
    pub notes: String,
    pub created_by: i64,
}

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
    pub items: Vec<Earning>,
    pub platforms: Vec<Platform>,
    pub totals: Totals,
    /// Sum of every earning per (month 'YYYY-MM', currency), for the chart.
    pub by_month: KeyedTotals,
    pub total_hours_centi: i64,
    pub count: i64,
    /// The workspace stream's sequence this snapshot is consistent with.
    pub cursor: i64,
}

/// What an edit changed, field by field, as `earnings:updated` carries it.
pub fn diff(before: &Earning, after: &Earning) -> Vec<crate::live::catalog::FieldChange> {
    let fields: [(&str, String, String); 6] = [
        (
            "platform",
            before.platform_name.clone(),
            after.platform_name.clone(),
        ),
        ("date", before.earned_on.clone(), after.earned_on.clone()),
        (
            "hours",
            format_hours(before.hours_centi),
            format_hours(after.hours_centi),
        ),
        (
            "amount",
            money::format_plain(before.amount_minor, &before.currency),
            money::format_plain(after.amount_minor, &after.currency),
        ),
        ("currency", before.currency.clone(), after.currency.clone()),
        ("notes", before.notes.clone(), after.notes.clone()),
    ];
    fields
        .into_iter()
        .filter(|(_, from, to)| from != to)
        .map(|(field, from, to)| crate::live::catalog::FieldChange {
            field: field.into(),
            from,
            to,
        })
        .collect()
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
        let currency = currency.trim().to_uppercase();
        if money::currency_exponent(&currency).is_none() {
            return Err(AppError::validation(
                "currency",
                "Choose a currency from the list.",
            ));
        }
        let amount_minor = parse_amount(amount, &currency)
            .map_err(|e| AppError::validation("amount", e.to_string()))?;
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

#[server(endpoint = "earnings/list")]
pub async fn list_earnings(workspace_id: i64) -> Result<EarningList, AppError> {
    let state = crate::server::state()?;
    let user = crate::server::authz::require_user(&state).await?;
    crate::server::authz::require_member(
        &state,
        user.id,
        workspace_id,
        crate::server::authz::Need::Read,
    )
    .await?;
    ssr::list(&state, workspace_id).await
}

#[server(endpoint = "earnings/get")]
pub async fn get_earning(workspace_id: i64, id: i64) -> Result<Earning, AppError> {
    ssr::get(workspace_id, id).await
}

#[server(endpoint = "earnings/create")]
pub async fn create_earning(
    workspace_id: i64,
    platform_id: String,
    date: String,
    hours: String,
    amount: String,
    currency: String,
    notes: String,
) -> Result<Earning, AppError> {
    let input = EarningInput::parse(&platform_id, &date, &hours, &amount, &currency, &notes);
    ssr::save(workspace_id, None, input).await
}

#[allow(clippy::too_many_arguments)]
#[server(endpoint = "earnings/update")]
pub async fn update_earning(
    workspace_id: i64,
    id: i64,
    platform_id: String,
    date: String,
    hours: String,
    amount: String,
    currency: String,
    notes: String,
) -> Result<Earning, AppError> {
    let input = EarningInput::parse(&platform_id, &date, &hours, &amount, &currency, &notes);
    ssr::save(workspace_id, Some(id), input).await
}

#[server(endpoint = "earnings/delete")]
pub async fn delete_earning(workspace_id: i64, id: i64) -> Result<(), AppError> {
    ssr::delete(workspace_id, id).await
}

#[server(endpoint = "earnings/platforms/create")]
pub async fn create_platform(
    workspace_id: i64,
    name: String,
    color: String,
) -> Result<Platform, AppError> {
    ssr::create_platform(workspace_id, name, color).await
}

#[server(endpoint = "earnings/platforms/update")]
pub async fn update_platform(
    workspace_id: i64,
    id: i64,
    name: String,
    color: String,
) -> Result<Platform, AppError> {
    ssr::update_platform(workspace_id, id, name, color).await
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use sqlx::{Any, Executor};

    use super::*;
    use crate::notifications::ssr::publish;
    use crate::{
        live::{
            catalog::{Deleted, EarningUpdate, PlatformInfo},
            Event, Stream,
        },
        server::{
            authz::{require_member, require_user, Need},
            db::{is_unique_violation, snapshot},
            now_ms, outbox, state,
        },
    };

    const SELECT: &str = "SELECT e.id, e.workspace_id, e.platform_id, p.name AS platform_name, p.color AS platform_color, \
        e.earned_on, e.hours_centi, e.amount_minor, e.currency, e.notes, e.created_by \
        FROM earnings e JOIN platforms p ON p.id = e.platform_id";

    /// Stores a validated earning (its platform already checked to be the workspace's).
    pub async fn insert(
        tx: &mut sqlx::Transaction<'_, Any>,
        workspace_id: i64,
        input: &EarningInput,
        user_id: i64,
        now: i64,
    ) -> AppResult<i64> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO earnings (workspace_id, platform_id, earned_on, hours_centi, amount_minor, currency, notes, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
        )
        .bind(workspace_id)
        .bind(input.platform_id)
        .bind(&input.earned_on)
        .bind(input.hours_centi)
        .bind(input.amount_minor)
        .bind(&input.currency)
        .bind(&input.notes)
        .bind(user_id)
        .bind(now)
        .fetch_one(&mut **tx)
        .await?;
        Ok(id)
    }

    /// The caller has checked that the user may read the workspace.
    pub async fn list(
        state: &crate::server::AppState,
        workspace_id: i64,
    ) -> AppResult<EarningList> {
        let mut tx = snapshot(&state.db).await?;
        let cursor = outbox::head_in(&mut *tx, Stream::Workspace(workspace_id)).await?;
        let items: Vec<Earning> = sqlx::query_as(&format!(
            "{SELECT} WHERE e.workspace_id = $1 ORDER BY e.earned_on DESC, e.id DESC LIMIT {LIST_LIMIT}"
        ))
        .bind(workspace_id)
        .fetch_all(&mut *tx)
        .await?;
        let platforms: Vec<Platform> = sqlx::query_as(
            "SELECT id, name, color FROM platforms WHERE workspace_id = $1 ORDER BY id",
        )
        .bind(workspace_id)
        .fetch_all(&mut *tx)
        .await?;
        let sums: Vec<(String, String, i64, i64, i64)> = sqlx::query_as(
            "SELECT substr(earned_on, 1, 7), currency, CAST(SUM(amount_minor) AS BIGINT), \
             CAST(SUM(hours_centi) AS BIGINT), COUNT(*) \
             FROM earnings WHERE workspace_id = $1 GROUP BY substr(earned_on, 1, 7), currency",
        )
        .bind(workspace_id)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let (mut totals, mut total_hours_centi, mut count) = (Totals::default(), 0, 0);
        let mut by_month = KeyedTotals::default();
        for (month, currency, sum, hours, n) in sums {
            totals.add(&currency, sum);
            by_month.add(&month, &currency, sum);
            total_hours_centi += hours;
            count += n;
        }
        Ok(EarningList {
            items,
            platforms,
            totals,
            by_month,
            total_hours_centi,
            count,
            cursor,
        })
    }

    pub async fn get(workspace_id: i64, id: i64) -> AppResult<Earning> {
        let state = state()?;
        let user = require_user(&state).await?;
        require_member(&state, user.id, workspace_id, Need::Read).await?;
        fetch(&state.db.pool, workspace_id, id).await
    }

    async fn fetch<'e, E: Executor<'e, Database = Any>>(
        ex: E,
        workspace_id: i64,
        id: i64,
    ) -> AppResult<Earning> {
        sqlx::query_as(&format!("{SELECT} WHERE e.workspace_id = $1 AND e.id = $2"))
            .bind(workspace_id)
            .bind(id)
            .fetch_optional(ex)
            .await?
            .ok_or_else(|| AppError::not_found("Earning"))
    }

    /// Creates (`id` None) or updates an earning. Authorization comes before the
    /// input's own errors are reported, so an outsider learns nothing from validation.
    pub async fn save(
        workspace_id: i64,
        id: Option<i64>,
        input: AppResult<EarningInput>,
    ) -> AppResult<Earning> {
        let state = state()?;
        let user = require_user(&state).await?;
        require_member(&state, user.id, workspace_id, Need::Write).await?;
        let input = input?;
        let platform: Option<(i64,)> =
            sqlx::query_as("SELECT id FROM platforms WHERE id = $1 AND workspace_id = $2")
                .bind(input.platform_id)
                .bind(workspace_id)
                .fetch_optional(&state.db.pool)
                .await?;
        if platform.is_none() {
            return Err(AppError::validation(
                "platform_id",
                "Choose a platform from the list.",
            ));
        }
        let now = now_ms();
        let mut tx = state.db.pool.begin().await?;
        let (earning, wake) = match id {
            None => {
                let id = insert(&mut tx, workspace_id, &input, user.id, now).await?;
                let earning = fetch(&mut *tx, workspace_id, id).await?;
                let wake = publish(
                    &mut tx,
                    workspace_id,
                    Event::EarningNew(earning.clone()),
                    user.id,
                    now,
                )
                .await?;
                tracing::info!(workspace_id, earning_id = id, "earning created");
                (earning, wake)
            }
            Some(id) => {
                // Touch the row first: it takes the write lock before the read below.
                let done = sqlx::query(
                    "UPDATE earnings SET updated_at = $1 WHERE id = $2 AND workspace_id = $3",
                )
                .bind(now)
                .bind(id)
                .bind(workspace_id)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(AppError::not_found("Earning"));
                }
                let before = fetch(&mut *tx, workspace_id, id).await?;
                sqlx::query(
                    "UPDATE earnings SET platform_id = $1, earned_on = $2, hours_centi = $3, amount_minor = $4, currency = $5, notes = $6 \
                     WHERE id = $7 AND workspace_id = $8",
                )
                .bind(input.platform_id)
                .bind(&input.earned_on)
                .bind(input.hours_centi)
                .bind(input.amount_minor)
                .bind(&input.currency)
                .bind(&input.notes)
                .bind(id)
                .bind(workspace_id)
                .execute(&mut *tx)
                .await?;
                let earning = fetch(&mut *tx, workspace_id, id).await?;
                let changes = diff(&before, &earning);
                let wake = publish(
                    &mut tx,
                    workspace_id,
                    Event::EarningUpdated(EarningUpdate {
                        earning: earning.clone(),
                        changes,
                    }),
                    user.id,
                    now,
                )
                .await?;
                tracing::info!(workspace_id, earning_id = id, "earning updated");
                leptos_axum::redirect(&format!("/w/{workspace_id}"));
                (earning, wake)
            }
        };
        tx.commit().await?;
        wake.send(&state.hub);
        Ok(earning)
    }

    pub async fn delete(workspace_id: i64, id: i64) -> AppResult<()> {
        let state = state()?;
        let user = require_user(&state).await?;
        require_member(&state, user.id, workspace_id, Need::Write).await?;
        let mut tx = state.db.pool.begin().await?;
        let done = sqlx::query("DELETE FROM earnings WHERE id = $1 AND workspace_id = $2")
            .bind(id)
            .bind(workspace_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(AppError::not_found("Earning"));
        }
        outbox::append(
            &mut tx,
            Stream::Workspace(workspace_id),
            Event::EarningDeleted(Deleted { id }),
            now_ms(),
        )
        .await?;
        tx.commit().await?;
        state.hub.notify(Stream::Workspace(workspace_id));
        tracing::info!(workspace_id, earning_id = id, "earning deleted");
        Ok(())
    }

    pub async fn create_platform(
        workspace_id: i64,
        name: String,
        color: String,
    ) -> AppResult<Platform> {
        let state = state()?;
        let user = require_user(&state).await?;
        require_member(&state, user.id, workspace_id, Need::Write).await?;
        let name = platform_name(&name)?;
        let color = parse_color(&color)?;
        let (count,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM platforms WHERE workspace_id = $1")
                .bind(workspace_id)
                .fetch_one(&state.db.pool)
                .await?;
        if count >= MAX_PLATFORMS {
            return Err(AppError::validation(
                "name",
                format!("A workspace has at most {MAX_PLATFORMS} platforms."),
            ));
        }
        let mut tx = state.db.pool.begin().await?;
        let inserted: Result<(i64,), _> = sqlx::query_as(
            "INSERT INTO platforms (workspace_id, name, color) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(workspace_id)
        .bind(&name)
        .bind(&color)
        .fetch_one(&mut *tx)
        .await;
        let id = match inserted {
            Ok((id,)) => id,
            Err(e) if is_unique_violation(&e) => return Err(name_taken()),
            Err(e) => return Err(e.into()),
        };
        let platform = Platform { id, name, color };
        let info = PlatformInfo {
            id,
            name: platform.name.clone(),
            color: platform.color.clone(),
        };
        outbox::append(
            &mut tx,
            Stream::Workspace(workspace_id),
            Event::PlatformCreated(info),
            now_ms(),
        )
        .await?;
        tx.commit().await?;
        state.hub.notify(Stream::Workspace(workspace_id));
        Ok(platform)
    }

    fn platform_name(raw: &str) -> AppResult<String> {
        let name = raw.trim().to_owned();
        if name.is_empty()
            || name.chars().count() > MAX_PLATFORM_NAME
            || name.chars().any(|c| c.is_control())
        {
            return Err(AppError::validation(
                "name",
                format!("Give the platform a name of 1 to {MAX_PLATFORM_NAME} characters."),
            ));
        }
        Ok(name)
    }

    fn name_taken() -> AppError {
        AppError::Conflict {
            field: "name".into(),
            message: "This workspace already has a platform with that name.".into(),
        }
    }

    /// Renames or recolours a platform; its earnings show the change (`platform:updated`).
    pub async fn update_platform(
        workspace_id: i64,
        id: i64,
        name: String,
        color: String,
    ) -> AppResult<Platform> {
        let state = state()?;
        let user = require_user(&state).await?;
        require_member(&state, user.id, workspace_id, Need::Write).await?;
        let name = platform_name(&name)?;
        let color = parse_color(&color)?;
        let mut tx = state.db.pool.begin().await?;
        let updated = sqlx::query(
            "UPDATE platforms SET name = $1, color = $2 WHERE id = $3 AND workspace_id = $4",
        )
        .bind(&name)
        .bind(&color)
        .bind(id)
        .bind(workspace_id)
        .execute(&mut *tx)
        .await;
        match updated {
            Ok(done) if done.rows_affected() == 0 => return Err(AppError::not_found("Platform")),
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => return Err(name_taken()),
            Err(e) => return Err(e.into()),
        }
        let info = PlatformInfo {
            id,
            name: name.clone(),
            color: color.clone(),
        };
        outbox::append(
            &mut tx,
            Stream::Workspace(workspace_id),
            Event::PlatformUpdated(info),
            now_ms(),
        )
        .await?;
        tx.commit().await?;
        state.hub.notify(Stream::Workspace(workspace_id));
        Ok(Platform { id, name, color })
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
