//! Deleted rows kept for `UNDO_SECONDS`, so that a deletion can be undone: the one
//! mechanism behind `expenses/restore` and `earnings/restore`. A table's trash is
//! `deleted_<table>`, with the table's columns and `deleted_at` (migrations 0011, 0012).
//! Restored rows come back under their own ids, which are never given out again, so a
//! second or racing restore meets the primary key and restores nothing.

use super::{
    db::{is_unique_violation, values},
    events::Write,
};
use crate::{
    error::{AppError, AppResult},
    model::{expense::UNDO_SECONDS, ids::WorkspaceId},
};

/// A table whose deletions can be undone.
pub struct Trash {
    pub table: &'static str,
    /// Every column of the table, as they are put back.
    pub columns: &'static str,
}

impl Trash {
    /// Moves rows `ids` of workspace `ws` into the trash (two statements for any number),
    /// and forgets what is older than the undo window.
    pub async fn discard(&self, tx: &mut Write, ws: WorkspaceId, ids: &[i64]) -> AppResult<()> {
        let (table, columns, now) = (self.table, self.columns, tx.now());
        let in_list = values(ids.len(), 1, 2, |p| format!("${p}"));
        let sql = format!(
            "INSERT INTO deleted_{table} ({columns}, deleted_at) SELECT {columns}, $1 FROM {table} \
             WHERE workspace_id = $2 AND id IN ({in_list})"
        );
        let mut keep = sqlx::query(&sql).bind(now).bind(ws);
        for id in ids {
            keep = keep.bind(*id);
        }
        keep.execute(&mut **tx).await?;
        let ids_after_ws = values(ids.len(), 1, 1, |p| format!("${p}"));
        let sql = format!("DELETE FROM {table} WHERE workspace_id = $1 AND id IN ({ids_after_ws})");
        let mut delete = sqlx::query(&sql).bind(ws);
        for id in ids {
            delete = delete.bind(*id);
        }
        delete.execute(&mut **tx).await?;
        sqlx::query(&format!(
            "DELETE FROM deleted_{table} WHERE deleted_at < $1"
        ))
        .bind(now - UNDO_SECONDS * 1000)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Puts rows `ids` of `ws` back, all or none: 409 on `field` if any was not deleted
    /// in the window, or was restored already.
    pub async fn restore(
        &self,
        tx: &mut Write,
        ws: WorkspaceId,
        ids: &[i64],
        field: &str,
    ) -> AppResult<()> {
        let (table, columns) = (self.table, self.columns);
        let since = tx.now() - UNDO_SECONDS * 1000;
        let in_list = values(ids.len(), 1, 2, |p| format!("${p}"));
        let sql = format!(
            "INSERT INTO {table} ({columns}) SELECT {columns} FROM deleted_{table} \
             WHERE workspace_id = $1 AND deleted_at >= $2 AND id IN ({in_list})"
        );
        let mut insert = sqlx::query(&sql).bind(ws).bind(since);
        for id in ids {
            insert = insert.bind(*id);
        }
        let put_back = match insert.execute(&mut **tx).await {
            Ok(done) => done.rows_affected() as usize == ids.len(),
            Err(e) if is_unique_violation(&e) => false,
            Err(e) => return Err(e.into()),
        };
        if !put_back {
            return Err(AppError::Conflict {
                field: field.into(),
                message: format!(
                    "This can no longer be undone: a deletion can be undone for {UNDO_SECONDS} seconds, once."
                ),
            });
        }
        let ids_after_ws = values(ids.len(), 1, 1, |p| format!("${p}"));
        let sql = format!(
            "DELETE FROM deleted_{table} WHERE workspace_id = $1 AND id IN ({ids_after_ws})"
        );
        let mut delete = sqlx::query(&sql).bind(ws);
        for id in ids {
            delete = delete.bind(*id);
        }
        delete.execute(&mut **tx).await?;
        Ok(())
    }
}
