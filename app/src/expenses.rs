//! Expenses: what a workspace spent, in integer minor units of a currency.

use crate::model::ids::WorkspaceId;
use leptos::prelude::*;

use crate::error::AppError;

pub use crate::model::expense::*;
pub use crate::model::filter::{ListFilter, MAX_ROWS};

/// The expenses the view selects (`view`: the dashboard URL's query string, such as
/// `period=2026-11&q=lunch`; empty: every row, newest first): `limit` rows (at most
/// `MAX_ROWS`; default `PAGE`) from the start, or after the row `after` names
/// (`Key::encode`; empty: from the start), for the next page.
#[server(endpoint = "expenses/list", input = crate::wire::Form)]
pub async fn list_expenses(
    workspace_id: WorkspaceId,
    #[server(default)] view: String,
    #[server(default)] after: String,
    #[server(default)] limit: i64,
) -> Result<ExpenseList, AppError> {
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

#[server(endpoint = "expenses/get", input = crate::wire::Form)]
pub async fn get_expense(workspace_id: WorkspaceId, id: i64) -> Result<Expense, AppError> {
    ssr::get(workspace_id, id).await
}

#[server(endpoint = "expenses/create", input = crate::wire::Form)]
pub async fn create_expense(
    workspace_id: WorkspaceId,
    amount: String,
    currency: String,
    category: String,
    description: String,
    date: String,
) -> Result<Expense, AppError> {
    ssr::create(workspace_id, amount, currency, category, description, date).await
}

#[server(endpoint = "expenses/update", input = crate::wire::Form)]
pub async fn update_expense(
    workspace_id: WorkspaceId,
    id: i64,
    amount: String,
    currency: String,
    category: String,
    description: String,
    date: String,
) -> Result<Expense, AppError> {
    ssr::update(
        workspace_id,
        id,
        amount,
        currency,
        category,
        description,
        date,
    )
    .await
}

#[server(endpoint = "expenses/delete", input = crate::wire::Form)]
pub async fn delete_expense(workspace_id: WorkspaceId, id: i64) -> Result<(), AppError> {
    ssr::delete_many(workspace_id, vec![id]).await.map(|_| ())
}

/// Undoes a deletion: puts back the expenses with these ids, deleted from this
/// workspace in the last `UNDO_SECONDS`, as they were (same ids, authors and dates),
/// each announced as `expense:created`. All or nothing: 409 if any is not there to
/// restore (never deleted, restored already, or too long ago).
#[server(endpoint = "expenses/restore", input = crate::wire::Form)]
pub async fn restore_expenses(
    workspace_id: WorkspaceId,
    #[server(default)] ids: Vec<i64>,
) -> Result<u64, AppError> {
    ssr::restore(workspace_id, ids).await
}

/// Deletes several expenses at once; all of them or none. Returns how many were deleted.
#[server(endpoint = "expenses/delete-many", input = crate::wire::Form)]
pub async fn delete_expenses(
    workspace_id: WorkspaceId,
    #[server(default)] ids: Vec<i64>,
) -> Result<u64, AppError> {
    ssr::delete_many(workspace_id, ids).await
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use crate::{
        error::AppResult,
        money::{KeyedTotals, Totals},
    };
    use sqlx::{Any, Executor};

    use super::*;
    use crate::model::{filter::Bound, workspace::Need};
    use crate::{
        budgets::ssr::{expenses_changed, Counted},
        live::{
            catalog::{ExpenseGone, ExpensesGone},
            Event, Stream,
        },
        server::{
            authz::{member, Caller},
            events::Write,
            listing::{rows, sums, Columns},
            now_ms, outbox,
            trash::Trash,
            AppState,
        },
    };

    const SELECT: &str = "SELECT e.id, e.workspace_id, e.amount_minor, e.currency, e.category, e.description, \
        e.spent_on, e.created_by, u.display_name AS created_by_name FROM expenses e JOIN users u ON u.id = e.created_by";

    const COLUMNS: Columns = Columns {
        workspace: "e.workspace_id",
        date: "e.spent_on",
        amount: "e.amount_minor",
        id: "e.id",
        text: "e.description",
        currency: "e.currency",
        created_by: "e.created_by",
        category: Some("e.category"),
        platform: None,
    };

    /// The first `limit` expenses `filter` selects (those after a row, for the next
    /// page, or down to one: `bound`) and the totals over all it selects, read in one snapshot together with
    /// the workspace stream's position, so a client applies exactly the events after
    /// `cursor`. The caller has checked that the user may read the workspace, and the
    /// filter (`ListFilter::check`).
    pub async fn list(
        state: &AppState,
        workspace_id: WorkspaceId,
        filter: ListFilter,
        bound: Option<&Bound>,
        limit: i64,
        reader: crate::model::ids::UserId,
    ) -> AppResult<ExpenseList> {
        let mut tx = crate::server::authz::read_snapshot(&state.db, workspace_id, reader).await?;
        let cursor = outbox::head_in(&mut *tx, Stream::Workspace(workspace_id)).await?;
        let limit = limit.clamp(1, MAX_ROWS);
        let items: Vec<Expense> = rows(
            &mut *tx,
            SELECT,
            &COLUMNS,
            workspace_id,
            &filter,
            bound,
            limit,
        )
        .await?;
        let sums: Vec<(String, String, i64, i64)> = sums(
            &mut *tx,
            "SELECT e.category, e.currency, CAST(SUM(e.amount_minor) AS BIGINT), COUNT(*) FROM expenses e",
            "e.category, e.currency",
            &COLUMNS,
            workspace_id,
            &filter,
        )
        .await?;
        tx.commit().await?;
        let mut totals = Totals::default();
        let mut by_category = KeyedTotals::default();
        let mut count = 0;
        for (category, currency, sum, n) in sums {
            totals.add(&currency, sum);
            by_category.add(&category, &currency, sum);
            count += n;
        }
        Ok(ExpenseList {
            filter,
            items,
            totals,
            by_category,
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
    ) -> AppResult<Vec<Expense>> {
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

    pub async fn get(workspace_id: WorkspaceId, id: i64) -> AppResult<Expense> {
        let Caller { state, user: _, .. } = member(workspace_id, Need::Read).await?;
        fetch(&state.db.pool, workspace_id, id).await
    }

    /// Deleted expenses, kept for an undo.
    const TRASH: Trash = Trash {
        table: "expenses",
        columns: "id, workspace_id, amount_minor, currency, category, description, spent_on, created_by, created_at, updated_at",
    };

    async fn fetch<'e, E: Executor<'e, Database = Any>>(
        ex: E,
        workspace_id: WorkspaceId,
        id: i64,
    ) -> AppResult<Expense> {
        sqlx::query_as(&format!("{SELECT} WHERE e.workspace_id = $1 AND e.id = $2"))
            .bind(workspace_id)
            .bind(id)
            .fetch_optional(ex)
            .await?
            .ok_or_else(|| AppError::not_found("Expense"))
    }

    /// Stores a validated expense written by `user_id`; its id.
    pub async fn insert(
        tx: &mut Write,
        workspace_id: WorkspaceId,
        input: &ExpenseInput,
        user_id: crate::model::ids::UserId,
        now: i64,
    ) -> AppResult<i64> {
        Ok(crate::server::db::insert_id(
            tx,
            sqlx::query(
                "INSERT INTO expenses (workspace_id, amount_minor, currency, category, description, spent_on, created_by, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
            )
            .bind(workspace_id)
            .bind(input.amount_minor)
            .bind(&input.currency)
            .bind(&input.category)
            .bind(&input.description)
            .bind(&input.spent_on)
            .bind(user_id)
            .bind(now),
        )
        .await?)
    }

    pub async fn create(
        workspace_id: WorkspaceId,
        amount: String,
        currency: String,
        category: String,
        description: String,
        date: String,
    ) -> AppResult<Expense> {
        let now = now_ms();
        let (Caller { state, user, .. }, mut tx) =
            Write::guarded(workspace_id, Need::Write, now).await?;
        let input = ExpenseInput::parse(&amount, &currency, &category, &description, &date)?;
        let id = insert(&mut tx, workspace_id, &input, user.id, now).await?;
        // The row as stored: the input, with who wrote it (no read back).
        let expense = Expense {
            id,
            workspace_id,
            amount_minor: input.amount_minor,
            currency: input.currency,
            category: input.category,
            description: input.description,
            spent_on: input.spent_on,
            created_by: user.id,
            created_by_name: user.display_name,
        };
        tx.emit(
            Stream::Workspace(workspace_id),
            Event::ExpenseCreated(expense.clone()),
        )
        .await?;
        let place = Counted::of(&expense.category, &expense.currency, &expense.spent_on);
        expenses_changed(&mut tx, workspace_id, vec![place]).await?;
        tx.commit(&state.hub).await?;
        tracing::info!(
            workspace_id = workspace_id.0,
            expense_id = id,
            "expense created"
        );
        Ok(expense)
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn update(
        workspace_id: WorkspaceId,
        id: i64,
        amount: String,
        currency: String,
        category: String,
        description: String,
        date: String,
    ) -> AppResult<Expense> {
        let now = now_ms();
        let (Caller { state, .. }, mut tx) = Write::guarded(workspace_id, Need::Write, now).await?;
        let input = ExpenseInput::parse(&amount, &currency, &category, &description, &date)?;
        let before = fetch(&mut *tx, workspace_id, id).await?;
        sqlx::query(
            "UPDATE expenses SET amount_minor = $1, currency = $2, category = $3, description = $4, spent_on = $5, updated_at = $6 \
             WHERE id = $7 AND workspace_id = $8",
        )
        .bind(input.amount_minor)
        .bind(&input.currency)
        .bind(&input.category)
        .bind(&input.description)
        .bind(&input.spent_on)
        .bind(now)
        .bind(id)
        .bind(workspace_id)
        .execute(&mut *tx)
        .await?;
        let expense = fetch(&mut *tx, workspace_id, id).await?;
        tx.emit(
            Stream::Workspace(workspace_id),
            Event::ExpenseUpdated(expense.clone()),
        )
        .await?;
        let was = Counted::of(&before.category, &before.currency, &before.spent_on);
        let is = Counted::of(&expense.category, &expense.currency, &expense.spent_on);
        // Budgets move only when the amount or where it counts changed.
        if was != is || before.amount_minor != expense.amount_minor {
            expenses_changed(&mut tx, workspace_id, vec![was, is]).await?;
        }
        tx.commit(&state.hub).await?;
        tracing::info!(
            workspace_id = workspace_id.0,
            expense_id = id,
            "expense updated"
        );
        // Back to the list, out of edit mode, for a plain form post.
        crate::server::listing::redirect_after_edit(workspace_id);
        Ok(expense)
    }

    /// Deletes the given expenses of the workspace in one transaction: if any id is not
    /// an expense of this workspace, nothing is deleted. One event either way:
    /// `expense:deleted` for one, `expenses:bulk-deleted` for several.
    pub async fn delete_many(workspace_id: WorkspaceId, mut ids: Vec<i64>) -> AppResult<u64> {
        let Caller { state, user, .. } = member(workspace_id, Need::Write).await?;
        // Several at once is the expensive kind; deleting one is not limited.
        if ids.len() > 1 {
            state
                .action_limiter
                .attempt(user.id, "bulk-delete", BULK_DELETES_PER_MINUTE)
                .await?;
        }
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Err(AppError::validation("ids", "Select at least one expense."));
        }
        if ids.len() > MAX_BULK_DELETE {
            return Err(AppError::validation(
                "ids",
                format!("Delete at most {MAX_BULK_DELETE} expenses at once."),
            ));
        }
        let mut tx =
            Write::begin_member(&state.db, user.id, workspace_id, Need::Write, now_ms()).await?;
        let mut was = Vec::with_capacity(ids.len());
        for id in &ids {
            // The row as it was goes into the event (lists that have not loaded it
            // still take it out of their totals).
            let row = match fetch(&mut *tx, workspace_id, *id).await {
                Ok(row) => row,
                Err(e) => {
                    tx.rollback().await?;
                    return Err(e);
                }
            };
            was.push(row);
        }
        // Kept a while, so the deletion can be undone (`restore`).
        TRASH.discard(&mut tx, workspace_id, &ids).await?;
        let touched = was
            .iter()
            .map(|e| Counted::of(&e.category, &e.currency, &e.spent_on))
            .collect();
        let deleted = ids.len() as u64;
        let event = match ids.as_slice() {
            [id] => Event::ExpenseDeleted(ExpenseGone {
                id: *id,
                was: was.pop(),
            }),
            _ => Event::ExpensesBulkDeleted(ExpensesGone { ids, was }),
        };
        tx.emit(Stream::Workspace(workspace_id), event).await?;
        expenses_changed(&mut tx, workspace_id, touched).await?;
        tx.commit(&state.hub).await?;
        tracing::info!(workspace_id = workspace_id.0, deleted, "expenses deleted");
        Ok(deleted)
    }

    pub async fn restore(workspace_id: WorkspaceId, mut ids: Vec<i64>) -> AppResult<u64> {
        let Caller { state, user, .. } = member(workspace_id, Need::Write).await?;
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Err(AppError::validation("ids", "Name at least one expense."));
        }
        if ids.len() > MAX_BULK_DELETE {
            return Err(AppError::validation(
                "ids",
                format!("Restore at most {MAX_BULK_DELETE} expenses at once."),
            ));
        }
        let mut tx =
            Write::begin_member(&state.db, user.id, workspace_id, Need::Write, now_ms()).await?;
        TRASH.restore(&mut tx, workspace_id, &ids, "ids").await?;
        let mut touched = Vec::with_capacity(ids.len());
        for id in &ids {
            let expense = fetch(&mut *tx, workspace_id, *id).await?;
            touched.push(Counted::of(
                &expense.category,
                &expense.currency,
                &expense.spent_on,
            ));
            tx.emit(
                Stream::Workspace(workspace_id),
                Event::ExpenseCreated(expense),
            )
            .await?;
        }
        expenses_changed(&mut tx, workspace_id, touched).await?;
        tx.commit(&state.hub).await?;
        let restored = ids.len() as u64;
        tracing::info!(workspace_id = workspace_id.0, restored, "expenses restored");
        Ok(restored)
    }
}
