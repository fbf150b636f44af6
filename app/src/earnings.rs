//! Earnings (the freelancer side): what was earned on which platform, for how many hours.

use crate::model::ids::WorkspaceId;
use leptos::prelude::*;

use crate::error::AppError;

pub use crate::model::earning::*;
pub use crate::model::filter::{ListFilter, MAX_ROWS};

/// The earnings the view selects (`view`: the dashboard URL's query string, such as
/// `period=2026-11&q=lunch`; empty: every row, newest first): `limit` rows (at most
/// `MAX_ROWS`; default `PAGE`) from the start, or after the row `after` names
/// (`Key::encode`; empty: from the start), for the next page.
#[server(endpoint = "earnings/list", input = crate::wire::Form)]
pub async fn list_earnings(
    workspace_id: WorkspaceId,
    #[server(default)] view: String,
    #[server(default)] after: String,
    #[server(default)] limit: i64,
) -> Result<EarningList, AppError> {
    let asked =
        crate::server::listing::ListRequest::read(workspace_id, &view, &after, limit).await?;
    ssr::list(
        &asked.caller.state,
        workspace_id,
        asked.filter,
        asked.after.as_ref(),
        asked.limit,
        asked.caller.user.id,
    )
    .await
}

#[server(endpoint = "earnings/get", input = crate::wire::Form)]
pub async fn get_earning(workspace_id: WorkspaceId, id: i64) -> Result<Earning, AppError> {
    ssr::get(workspace_id, id).await
}

#[server(endpoint = "earnings/create", input = crate::wire::Form)]
pub async fn create_earning(
    workspace_id: WorkspaceId,
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
#[server(endpoint = "earnings/update", input = crate::wire::Form)]
pub async fn update_earning(
    workspace_id: WorkspaceId,
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

#[server(endpoint = "earnings/delete", input = crate::wire::Form)]
pub async fn delete_earning(workspace_id: WorkspaceId, id: i64) -> Result<(), AppError> {
    ssr::delete(workspace_id, id).await
}

/// Undoes a deletion: puts back the earning `id` of this workspace, deleted in the last
/// `UNDO_SECONDS`, as it was (same id, author and dates), announced as `earnings:new`;
/// 409 if it is not there to restore (never deleted, restored already, too long ago).
#[server(endpoint = "earnings/restore", input = crate::wire::Form)]
pub async fn restore_earning(workspace_id: WorkspaceId, id: i64) -> Result<(), AppError> {
    ssr::restore(workspace_id, id).await
}

#[server(endpoint = "earnings/platforms/create", input = crate::wire::Form)]
pub async fn create_platform(
    workspace_id: WorkspaceId,
    name: String,
    color: String,
) -> Result<Platform, AppError> {
    ssr::create_platform(workspace_id, name, color).await
}

#[server(endpoint = "earnings/platforms/update", input = crate::wire::Form)]
pub async fn update_platform(
    workspace_id: WorkspaceId,
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
    use crate::model::{filter::Bound, workspace::Need};
    use crate::server::{events::Write, trash::Trash};
    use crate::{
        error::AppResult,
        money::{self, KeyedTotals, Totals},
    };
    use crate::{
        live::{
            catalog::{EarningGone, EarningUpdate, PlatformInfo},
            Event, Stream,
        },
        server::{
            authz::{member, Caller},
            db::is_unique_violation,
            listing::{rows, sums, Columns},
            now_ms, outbox,
        },
    };

    const SELECT: &str = "SELECT e.id, e.workspace_id, e.platform_id, p.name AS platform_name, p.color AS platform_color, \
        e.earned_on, e.hours_centi, e.amount_minor, e.currency, e.notes, e.created_by \
        FROM earnings e JOIN platforms p ON p.id = e.platform_id";

    /// Stores a validated earning (its platform already checked to be the workspace's).
    pub async fn insert(
        tx: &mut Write,
        workspace_id: WorkspaceId,
        input: &EarningInput,
        user_id: crate::model::ids::UserId,
        now: i64,
    ) -> AppResult<i64> {
        Ok(crate::server::db::insert_id(
            tx,
            sqlx::query(
                "INSERT INTO earnings (workspace_id, platform_id, earned_on, hours_centi, amount_minor, currency, notes, created_by, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
            )
            .bind(workspace_id)
            .bind(input.platform_id)
            .bind(&input.earned_on)
            .bind(input.hours_centi)
            .bind(input.amount_minor)
            .bind(&input.currency)
            .bind(&input.notes)
            .bind(user_id)
            .bind(now),
        )
        .await?)
    }

    const COLUMNS: Columns = Columns {
        workspace: "e.workspace_id",
        date: "e.earned_on",
        amount: "e.amount_minor",
        id: "e.id",
        text: "e.notes",
        currency: "e.currency",
        created_by: "e.created_by",
        category: None,
        platform: Some("e.platform_id"),
    };

    /// As `expenses::ssr::list`: a page of what `filter` selects and the totals over
    /// all of it (per currency, per month, per platform, hours), in one snapshot with
    /// the stream's position. The caller has checked access and the filter.
    pub async fn list(
        state: &crate::server::AppState,
        workspace_id: WorkspaceId,
        filter: ListFilter,
        bound: Option<&Bound>,
        limit: i64,
        reader: crate::model::ids::UserId,
    ) -> AppResult<EarningList> {
        let mut tx = crate::server::authz::read_snapshot(&state.db, workspace_id, reader).await?;
        let cursor = outbox::head_in(&mut *tx, Stream::Workspace(workspace_id)).await?;
        let limit = limit.clamp(1, MAX_ROWS);
        let items: Vec<Earning> = rows(
            &mut *tx,
            SELECT,
            &COLUMNS,
            workspace_id,
            &filter,
            bound,
            limit,
        )
        .await?;
        let platforms: Vec<Platform> = sqlx::query_as(
            "SELECT id, name, color FROM platforms WHERE workspace_id = $1 ORDER BY id",
        )
        .bind(workspace_id)
        .fetch_all(&mut *tx)
        .await?;
        let sums: Vec<(String, i64, String, i64, i64, i64)> = sums(
            &mut *tx,
            "SELECT substr(e.earned_on, 1, 7), e.platform_id, e.currency, CAST(SUM(e.amount_minor) AS BIGINT), \
             CAST(SUM(e.hours_centi) AS BIGINT), COUNT(*) FROM earnings e",
            "substr(e.earned_on, 1, 7), e.platform_id, e.currency",
            &COLUMNS,
            workspace_id,
            &filter,
        )
        .await?;
        tx.commit().await?;
        let (mut totals, mut total_hours_centi, mut count) = (Totals::default(), 0, 0);
        let (mut by_month, mut by_platform) = (KeyedTotals::default(), KeyedTotals::default());
        for (month, platform, currency, sum, hours, n) in sums {
            totals.add(&currency, sum);
            by_month.add(&month, &currency, sum);
            by_platform.add(&platform.to_string(), &currency, sum);
            total_hours_centi += hours;
            count += n;
        }
        Ok(EarningList {
            filter,
            items,
            platforms,
            totals,
            by_month,
            by_platform,
            total_hours_centi,
            count,
            cursor,
        })
    }

    /// Every row `filter` selects, in its order, up to `max` (the export). The caller
    /// has checked access and the filter.
    pub async fn all(
        state: &crate::server::AppState,
        workspace_id: WorkspaceId,
        filter: &ListFilter,
        max: i64,
    ) -> AppResult<Vec<Earning>> {
        Ok(rows(
            &state.db.pool,
            SELECT,
            &COLUMNS,
            workspace_id,
            filter,
            None,
            max,
        )
        .await?)
    }

    pub async fn get(workspace_id: WorkspaceId, id: i64) -> AppResult<Earning> {
        let Caller { state, user: _, .. } = member(workspace_id, Need::Read).await?;
        fetch(&state.db.pool, workspace_id, id).await
    }

    /// Deleted earnings, kept for an undo.
    const TRASH: Trash = Trash {
        table: "earnings",
        columns: "id, workspace_id, platform_id, earned_on, hours_centi, amount_minor, currency, notes, created_by, created_at, updated_at",
    };

    async fn fetch<'e, E: Executor<'e, Database = Any>>(
        ex: E,
        workspace_id: WorkspaceId,
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
        workspace_id: WorkspaceId,
        id: Option<i64>,
        input: AppResult<EarningInput>,
    ) -> AppResult<Earning> {
        let Caller { state, user, .. } = member(workspace_id, Need::Write).await?;
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
        let mut tx =
            Write::begin_member(&state.db, user.id, workspace_id, Need::Write, now).await?;
        let earning = match id {
            None => {
                let id = insert(&mut tx, workspace_id, &input, user.id, now).await?;
                let earning = fetch(&mut *tx, workspace_id, id).await?;
                tx.emit(
                    Stream::Workspace(workspace_id),
                    Event::EarningNew(earning.clone()),
                )
                .await?;
                tracing::info!(
                    workspace_id = workspace_id.0,
                    earning_id = id,
                    "earning created"
                );
                earning
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
                tx.emit(
                    Stream::Workspace(workspace_id),
                    Event::EarningUpdated(EarningUpdate {
                        earning: earning.clone(),
                        changes,
                    }),
                )
                .await?;
                tracing::info!(
                    workspace_id = workspace_id.0,
                    earning_id = id,
                    "earning updated"
                );
                crate::server::listing::redirect_after_edit(workspace_id);
                earning
            }
        };
        tx.commit(&state.hub).await?;
        Ok(earning)
    }

    pub async fn delete(workspace_id: WorkspaceId, id: i64) -> AppResult<()> {
        let (Caller { state, .. }, mut tx) =
            Write::guarded(workspace_id, Need::Write, now_ms()).await?;
        // The row as it was goes into the event (as for expenses).
        let was = fetch(&mut *tx, workspace_id, id).await?;
        // Kept a while, so the deletion can be undone (`restore`).
        TRASH.discard(&mut tx, workspace_id, &[id]).await?;
        tx.emit(
            Stream::Workspace(workspace_id),
            Event::EarningDeleted(EarningGone { id, was: Some(was) }),
        )
        .await?;
        tx.commit(&state.hub).await?;
        tracing::info!(
            workspace_id = workspace_id.0,
            earning_id = id,
            "earning deleted"
        );
        Ok(())
    }

    pub async fn restore(workspace_id: WorkspaceId, id: i64) -> AppResult<()> {
        let (Caller { state, .. }, mut tx) =
            Write::guarded(workspace_id, Need::Write, now_ms()).await?;
        TRASH.restore(&mut tx, workspace_id, &[id], "id").await?;
        let earning = fetch(&mut *tx, workspace_id, id).await?;
        tx.emit(Stream::Workspace(workspace_id), Event::EarningNew(earning))
            .await?;
        tx.commit(&state.hub).await?;
        tracing::info!(
            workspace_id = workspace_id.0,
            earning_id = id,
            "earning restored"
        );
        Ok(())
    }

    pub async fn create_platform(
        workspace_id: WorkspaceId,
        name: String,
        color: String,
    ) -> AppResult<Platform> {
        let Caller { state, user, .. } = member(workspace_id, Need::Write).await?;
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
        let mut tx =
            Write::begin_member(&state.db, user.id, workspace_id, Need::Write, now_ms()).await?;
        let inserted = crate::server::db::insert_id(
            &mut tx,
            sqlx::query("INSERT INTO platforms (workspace_id, name, color) VALUES ($1, $2, $3)")
                .bind(workspace_id)
                .bind(&name)
                .bind(&color),
        )
        .await;
        let id = match inserted {
            Ok(id) => id,
            Err(e) if is_unique_violation(&e) => return Err(name_taken()),
            Err(e) => return Err(e.into()),
        };
        let platform = Platform { id, name, color };
        let info = PlatformInfo {
            id,
            name: platform.name.clone(),
            color: platform.color.clone(),
        };
        tx.emit(
            Stream::Workspace(workspace_id),
            Event::PlatformCreated(info),
        )
        .await?;
        tx.commit(&state.hub).await?;
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
        workspace_id: WorkspaceId,
        id: i64,
        name: String,
        color: String,
    ) -> AppResult<Platform> {
        let (Caller { state, .. }, mut tx) =
            Write::guarded(workspace_id, Need::Write, now_ms()).await?;
        let name = platform_name(&name)?;
        let color = parse_color(&color)?;
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
        tx.emit(
            Stream::Workspace(workspace_id),
            Event::PlatformUpdated(info),
        )
        .await?;
        tx.commit(&state.hub).await?;
        Ok(Platform { id, name, color })
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
}
