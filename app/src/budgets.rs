//! Budgets: a monthly spending limit per category (and currency) of a workspace.
//!
//! Each calendar month is a period. The server recomputes a budget's spending whenever
//! an expense in its category, currency and month is added, edited or deleted, and
//! announces it (`budget:updated`), so progress bars move live. Crossing 80 % raises
//! `budget:warning` and crossing 100 % `budget:exceeded`, each once per period: a later
//! expense in the same month raises nothing; an edit or delete that takes spending back
//! under a threshold re-arms it, so crossing it again raises it again. A change that
//! crosses both at once raises only `budget:exceeded`.

use crate::model::ids::WorkspaceId;
use leptos::prelude::*;

use crate::error::AppError;

pub use crate::model::budget::*;

/// The budgets with what was spent in `month` ('YYYY-MM'; if none, the current month in
/// the workspace's time zone).
#[server(endpoint = "budgets/list", input = crate::wire::Form)]
pub async fn list_budgets(
    workspace_id: WorkspaceId,
    #[server(default)] month: Option<String>,
) -> Result<BudgetList, AppError> {
    let guard =
        crate::server::authz::member(workspace_id, crate::model::workspace::Need::Read).await?;
    let month = match month {
        Some(month) => {
            // The same check as a month in the dashboard's URL.
            let period = crate::model::filter::Period::from_query(
                &|name| (name == "period").then(|| month.clone()),
                "",
            )?;
            period
                .month_key()
                .ok_or_else(|| AppError::validation("month", "Choose a month as YYYY-MM."))?
        }
        None => ssr::current_month(&guard.state, workspace_id).await?,
    };
    ssr::list(&guard.state, workspace_id, month, guard.user.id).await
}

/// Sets the monthly limit of a category: creates the budget, or changes its limit.
#[server(endpoint = "budgets/set", input = crate::wire::Form)]
pub async fn set_budget(
    workspace_id: WorkspaceId,
    category: String,
    currency: String,
    limit: String,
) -> Result<BudgetInfo, AppError> {
    ssr::set(workspace_id, category, currency, limit).await
}

#[server(endpoint = "budgets/delete", input = crate::wire::Form)]
pub async fn delete_budget(workspace_id: WorkspaceId, id: i64) -> Result<(), AppError> {
    ssr::delete(workspace_id, id).await
}

#[cfg(feature = "ssr")]
pub mod ssr {

    use super::*;
    use crate::error::AppResult;
    use crate::live::Event;
    use crate::model::workspace::Need;
    use crate::{
        live::{catalog::Deleted, Stream},
        server::{
            authz::{member, Caller},
            events::Write,
            now_ms, outbox, AppState,
        },
    };

    /// The period an ISO date falls in: 'YYYY-MM'.
    pub fn month_of(date: &str) -> &str {
        date.get(..7).unwrap_or(date)
    }

    /// The current month ('YYYY-MM') in the workspace's time zone.
    pub async fn current_month(state: &AppState, workspace_id: WorkspaceId) -> AppResult<String> {
        let today = crate::server::zone::workspace_today(state, workspace_id).await?;
        Ok(month_of(&today).to_owned())
    }

    /// Budget `id` with what was spent in its category and currency in `month`.
    const INFO: &str = "SELECT b.id, b.category, b.currency, b.limit_minor, \
        COALESCE((SELECT CAST(SUM(e.amount_minor) AS BIGINT) FROM expenses e \
          WHERE e.workspace_id = b.workspace_id AND e.category = b.category \
          AND e.currency = b.currency AND e.spent_on >= $1 || '-01' AND e.spent_on <= $1 || '-31'), 0) \
        FROM budgets b";

    type Row = (i64, String, String, i64, i64);

    fn info((id, category, currency, limit_minor, spent_minor): Row, month: &str) -> BudgetInfo {
        BudgetInfo {
            id,
            category,
            month: month.to_owned(),
            limit_minor,
            spent_minor,
            currency,
        }
    }

    async fn fetch(tx: &mut Write, id: i64, month: &str) -> AppResult<BudgetInfo> {
        let row: Row = sqlx::query_as(&format!("{INFO} WHERE b.id = $2"))
            .bind(month)
            .bind(id)
            .fetch_one(&mut **tx)
            .await?;
        Ok(info(row, month))
    }

    /// The caller has checked that the user may read the workspace.
    pub async fn list(
        state: &AppState,
        workspace_id: WorkspaceId,
        month: String,
        reader: crate::model::ids::UserId,
    ) -> AppResult<BudgetList> {
        let mut tx = crate::server::authz::read_snapshot(&state.db, workspace_id, reader).await?;
        let cursor = outbox::head_in(&mut *tx, Stream::Workspace(workspace_id)).await?;
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "{INFO} WHERE b.workspace_id = $2 ORDER BY b.category, b.currency"
        ))
        .bind(&month)
        .bind(workspace_id)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(BudgetList {
            items: rows.into_iter().map(|r| info(r, &month)).collect(),
            month,
            cursor,
        })
    }

    pub async fn set(
        workspace_id: WorkspaceId,
        category: String,
        currency: String,
        limit: String,
    ) -> AppResult<BudgetInfo> {
        let Caller { state, user, .. } = member(workspace_id, Need::Write).await?;
        let input = BudgetInput::parse(&category, &currency, &limit)?;
        let now = now_ms();
        // The budget comes back with this month's spending.
        let month = current_month(&state, workspace_id).await?;
        let mut tx =
            Write::begin_member(&state.db, user.id, workspace_id, Need::Write, now).await?;
        let existing: Option<(i64,)> = sqlx::query_as(
            "SELECT id FROM budgets WHERE workspace_id = $1 AND category = $2 AND currency = $3",
        )
        .bind(workspace_id)
        .bind(&input.category)
        .bind(&input.currency)
        .fetch_optional(&mut *tx)
        .await?;
        let (id, created) = match existing {
            Some((id,)) => {
                sqlx::query("UPDATE budgets SET limit_minor = $1 WHERE id = $2")
                    .bind(input.limit_minor)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                (id, false)
            }
            None => {
                let (n,): (i64,) =
                    sqlx::query_as("SELECT COUNT(*) FROM budgets WHERE workspace_id = $1")
                        .bind(workspace_id)
                        .fetch_one(&mut *tx)
                        .await?;
                if n >= MAX_BUDGETS {
                    return Err(AppError::validation(
                        "category",
                        format!("A workspace can have at most {MAX_BUDGETS} budgets."),
                    ));
                }
                let id = crate::server::db::insert_id(
                    &mut tx,
                    sqlx::query(
                        "INSERT INTO budgets (workspace_id, category, currency, limit_minor, created_by, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(workspace_id)
                    .bind(&input.category)
                    .bind(&input.currency)
                    .bind(input.limit_minor)
                    .bind(user.id)
                    .bind(now),
                )
                .await?;
                (id, true)
            }
        };
        let budget = fetch(&mut tx, id, &month).await?;
        let event = if created {
            Event::BudgetCreated(budget.clone())
        } else {
            Event::BudgetUpdated(budget.clone())
        };
        tx.emit(Stream::Workspace(workspace_id), event).await?;
        // A new limit can put this month over a threshold, or back under one.
        settle(&mut tx, workspace_id, &budget).await?;
        tx.commit(&state.hub).await?;
        tracing::info!(
            workspace_id = workspace_id.0,
            budget_id = id,
            created,
            "budget set"
        );
        Ok(budget)
    }

    pub async fn delete(workspace_id: WorkspaceId, id: i64) -> AppResult<()> {
        let (Caller { state, .. }, mut tx) =
            Write::guarded(workspace_id, Need::Write, now_ms()).await?;
        let done = sqlx::query("DELETE FROM budgets WHERE id = $1 AND workspace_id = $2")
            .bind(id)
            .bind(workspace_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(AppError::not_found("Budget"));
        }
        tx.emit(
            Stream::Workspace(workspace_id),
            Event::BudgetDeleted(Deleted { id }),
        )
        .await?;
        tx.commit(&state.hub).await?;
        tracing::info!(
            workspace_id = workspace_id.0,
            budget_id = id,
            "budget deleted"
        );
        Ok(())
    }

    /// Where an expense counts: its category, currency and month.
    #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
    pub struct Counted {
        pub category: String,
        pub currency: String,
        pub month: String,
    }

    impl Counted {
        pub fn of(category: &str, currency: &str, spent_on: &str) -> Counted {
            Counted {
                category: category.to_owned(),
                currency: currency.to_owned(),
                month: month_of(spent_on).to_owned(),
            }
        }
    }

    /// After expenses changed in `touched` places (in `tx`, after their own events so
    /// the stream's row lock orders concurrent writers): announces each affected
    /// budget's new spending and raises or re-arms its alerts.
    pub async fn expenses_changed(
        tx: &mut Write,
        workspace_id: WorkspaceId,
        mut touched: Vec<Counted>,
    ) -> AppResult<()> {
        touched.sort();
        touched.dedup();
        for place in touched {
            let found: Option<(i64,)> = sqlx::query_as(
                "SELECT id FROM budgets WHERE workspace_id = $1 AND category = $2 AND currency = $3",
            )
            .bind(workspace_id)
            .bind(&place.category)
            .bind(&place.currency)
            .fetch_optional(&mut **tx)
            .await?;
            let Some((id,)) = found else { continue };
            let budget = fetch(tx, id, &place.month).await?;
            tx.emit(
                Stream::Workspace(workspace_id),
                Event::BudgetUpdated(budget.clone()),
            )
            .await?;
            settle(tx, workspace_id, &budget).await?;
        }
        Ok(())
    }

    /// Raises the alerts `budget`'s period has newly reached, once each, and re-arms
    /// those it is back under.
    async fn settle(
        tx: &mut Write,
        workspace_id: WorkspaceId,
        budget: &BudgetInfo,
    ) -> AppResult<()> {
        let now = tx.now();
        let reached = budget.state();
        let keep: &[&str] = match reached {
            BudgetState::Ok => &[],
            BudgetState::Warning => &["warning"],
            BudgetState::Exceeded => &["warning", "exceeded"],
        };
        let mut newly = Vec::new();
        for level in ["warning", "exceeded"] {
            if keep.contains(&level) {
                let added = sqlx::query(
                    "INSERT INTO budget_alerts (budget_id, month, level, raised_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (budget_id, month, level) DO NOTHING",
                )
                .bind(budget.id)
                .bind(&budget.month)
                .bind(level)
                .bind(now)
                .execute(&mut **tx)
                .await?
                .rows_affected();
                if added == 1 {
                    newly.push(level);
                }
            } else {
                sqlx::query(
                    "DELETE FROM budget_alerts WHERE budget_id = $1 AND month = $2 AND level = $3",
                )
                .bind(budget.id)
                .bind(&budget.month)
                .bind(level)
                .execute(&mut **tx)
                .await?;
            }
        }
        // Crossing both at once: the warning is moot, only the excess is announced.
        let event = if newly.contains(&"exceeded") {
            Event::BudgetExceeded(budget.clone())
        } else if newly.contains(&"warning") {
            Event::BudgetWarning(budget.clone())
        } else {
            return Ok(());
        };
        tx.emit(Stream::Workspace(workspace_id), event).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::Event;
    use crate::live::{
        catalog::Deleted,
        follow::{apply_batch, Step},
        Envelope, Priority, Stream,
    };

    fn b(id: i64, category: &str, month: &str, limit: i64, spent: i64) -> BudgetInfo {
        BudgetInfo {
            id,
            category: category.into(),
            month: month.into(),
            limit_minor: limit,
            spent_minor: spent,
            currency: "EUR".into(),
        }
    }

    fn at(seq: i64, event: Event) -> Envelope {
        Envelope {
            seq,
            stream: Stream::Workspace(WorkspaceId(1)),
            timestamp: 0,
            priority: Priority::Normal,
            event,
        }
    }

    #[test]
    fn thresholds_are_inclusive() {
        assert_eq!(b(1, "Food", "2026-11", 1000, 799).state(), BudgetState::Ok);
        assert_eq!(
            b(1, "Food", "2026-11", 1000, 800).state(),
            BudgetState::Warning
        );
        assert_eq!(
            b(1, "Food", "2026-11", 1000, 999).state(),
            BudgetState::Warning
        );
        assert_eq!(
            b(1, "Food", "2026-11", 1000, 1000).state(),
            BudgetState::Exceeded
        );
        assert_eq!(b(1, "Food", "2026-11", 1000, 1500).percent(), 150);
    }

    #[test]
    fn the_list_follows_its_month_only() {
        let mut list = BudgetList {
            month: "2026-11".into(),
            items: vec![b(2, "Travel", "2026-11", 1000, 0)],
            cursor: 3,
        };
        let batch = [
            at(4, Event::BudgetCreated(b(5, "Food", "2026-11", 500, 0))),
            at(5, Event::BudgetUpdated(b(5, "Food", "2026-11", 500, 420))),
            at(6, Event::BudgetWarning(b(5, "Food", "2026-11", 500, 420))),
            // Spending in October does not move November's bar.
            at(
                7,
                Event::BudgetUpdated(b(2, "Travel", "2026-10", 1000, 900)),
            ),
        ];
        assert_eq!(apply_batch(&mut list, &batch), Step::Applied);
        let shown: Vec<_> = list
            .items
            .iter()
            .map(|x| (x.id, x.category.as_str(), x.spent_minor))
            .collect();
        assert_eq!(shown, vec![(5, "Food", 420), (2, "Travel", 0)]);
        let gone = at(8, Event::BudgetDeleted(Deleted { id: 5 }));
        assert_eq!(apply_batch(&mut list, &[gone]), Step::Applied);
        assert_eq!(list.items.len(), 1);
        // A new limit announced for another month: the month has turned, reload.
        let turned = at(9, Event::BudgetUpdated(b(2, "Travel", "2026-12", 2000, 0)));
        assert_eq!(apply_batch(&mut list, &[turned]), Step::Reload);
    }

    #[test]
    fn parses_a_budget_and_names_the_field_at_fault() {
        let ok = BudgetInput::parse("food", "eur", "500").unwrap();
        assert_eq!(
            (ok.category.as_str(), ok.currency.as_str(), ok.limit_minor),
            ("Food", "EUR", 50_000)
        );
        for (args, field) in [
            (("Yachts", "EUR", "1"), "category"),
            (("Food", "XYZ", "1"), "currency"),
            (("Food", "EUR", "0"), "limit"),
            (("Food", "EUR", "-5"), "limit"),
        ] {
            match BudgetInput::parse(args.0, args.1, args.2) {
                Err(AppError::Validation { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{args:?}: {other:?}"),
            }
        }
    }
}
