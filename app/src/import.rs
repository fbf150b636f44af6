//! CSV import of expenses and earnings.
//!
//! A file is checked whole first: every row is parsed with the same rules as the forms
//! (`ExpenseInput`, `EarningInput`), and every problem is reported with its line and
//! column. A preview shows the first rows and all problems; an import writes only a
//! file without problems, all rows in one transaction, and announces it with one
//! `sync:completed` on the workspace stream (lists reload; budgets are recomputed)
//! rather than one event per row, which would flood every socket's queue. If the
//! write fails part way, the transaction rolls back (nothing is written) and the user
//! is told with `error:occurred` on their own stream.

use crate::model::ids::WorkspaceId;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};

/// The largest file accepted, in bytes.
pub const MAX_BYTES: usize = 512 * 1024;
/// Rows (after the header) a file may have.
pub const MAX_ROWS: usize = 2_000;
/// Rows shown in a preview.
pub const PREVIEW_ROWS: usize = 20;
/// Problems reported for one file; the count is always complete.
pub const MAX_PROBLEMS: usize = 100;
/// Imports (written, not previews) per user per minute.
pub const IMPORTS_PER_MINUTE: u32 = 5;
/// Previews per user per minute.
pub const PREVIEWS_PER_MINUTE: u32 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImportKind {
    Expenses,
    Earnings,
}

crate::json::json_enum!(ImportKind { Expenses = "expenses", Earnings = "earnings" });

impl ImportKind {
    pub fn parse(s: &str) -> AppResult<ImportKind> {
        match s.trim() {
            "expenses" => Ok(ImportKind::Expenses),
            "earnings" => Ok(ImportKind::Earnings),
            _ => Err(AppError::validation("kind", "Choose expenses or earnings.")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ImportKind::Expenses => "expenses",
            ImportKind::Earnings => "earnings",
        }
    }

    /// The columns a file must have (any order, any case); the others are optional.
    pub fn required(self) -> &'static [&'static str] {
        match self {
            ImportKind::Expenses => &["date", "amount", "currency", "category"],
            ImportKind::Earnings => &["date", "platform", "amount", "currency"],
        }
    }

    pub fn optional(self) -> &'static [&'static str] {
        match self {
            ImportKind::Expenses => &["description"],
            ImportKind::Earnings => &["hours", "notes"],
        }
    }
}

/// One problem of a file: where (line 1 is the header) and what.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RowProblem {
    pub line: usize,
    /// The column at fault, if one is.
    pub column: Option<String>,
    pub message: String,
}
crate::json::json_struct!(RowProblem {
    line,
    column,
    message
});

/// What a preview or an import found and did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub kind: ImportKind,
    /// Data rows in the file.
    pub rows: usize,
    /// The file's columns, as in its header.
    pub columns: Vec<String>,
    /// The first rows, each as its cells in `columns` order.
    pub preview: Vec<Vec<String>>,
    /// Problems, at most `MAX_PROBLEMS`; `problem_count` has them all.
    pub problems: Vec<RowProblem>,
    pub problem_count: usize,
    /// Rows written: 0 for a preview and for a file with problems.
    pub created: usize,
    pub committed: bool,
}
crate::json::json_struct!(ImportReport {
    kind,
    rows,
    columns,
    preview,
    problems,
    problem_count,
    created,
    committed
});

/// A text cell as it was before the export guarded it (`export::cell`): a `'` in front
/// of `=`, `+`, `-`, `@` or `'` comes off; anything else is kept as it is.
pub fn unguard(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\'']) => rest,
        _ => cell,
    }
}

/// Splits CSV text (RFC 4180: commas, double quotes with "" inside, CR LF or LF) into
/// records, each with the line it starts on. A record with an unclosed quote is an error.
pub fn read_csv(text: &str) -> Result<Vec<(usize, Vec<String>)>, RowProblem> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut line = 1;
    let mut start = 1;
    let mut chars = text.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        any = true;
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => quoted = true,
            ',' => record.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                record.push(std::mem::take(&mut field));
                records.push((start, std::mem::take(&mut record)));
                line += 1;
                start = line;
                any = false;
            }
            _ => field.push(c),
        }
    }
    if quoted {
        return Err(RowProblem {
            line: start,
            column: None,
            message: "A quoted field is not closed.".into(),
        });
    }
    if any {
        record.push(field);
        records.push((start, record));
    }
    // Blank lines carry nothing.
    records.retain(|(_, r)| !(r.len() == 1 && r[0].trim().is_empty()));
    Ok(records)
}

/// Previews (`commit` false) or imports a CSV file into the workspace.
#[server(endpoint = "import/csv", input = crate::wire::Form, output = crate::wire::Json)]
pub async fn import_csv(
    workspace_id: WorkspaceId,
    kind: String,
    csv: String,
    #[server(default)] commit: bool,
) -> Result<ImportReport, AppError> {
    ssr::run(workspace_id, kind, csv, commit).await
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use std::collections::HashMap;

    use super::*;
    use crate::{
        budgets::ssr::{expenses_changed, Counted},
        earnings::EarningInput,
        expenses::ExpenseInput,
        live::{
            catalog::{ErrorReport, NotificationLevel, SyncReport},
            Event, Stream,
        },
        model::{notification::Topic, workspace::Need},
        server::{
            authz::{member, Caller},
            events::Write,
            now_ms, state,
        },
    };

    enum Parsed {
        Expense(ExpenseInput),
        Earning(EarningInput),
    }

    pub async fn run(
        workspace_id: WorkspaceId,
        kind: String,
        csv: String,
        commit: bool,
    ) -> AppResult<ImportReport> {
        let Caller { state, user, .. } = member(workspace_id, Need::Write).await?;
        let (action, per_minute) = if commit {
            ("import", IMPORTS_PER_MINUTE)
        } else {
            ("import-preview", PREVIEWS_PER_MINUTE)
        };
        state
            .action_limiter
            .attempt(user.id, action, per_minute)
            .await?;
        let kind = ImportKind::parse(&kind)?;
        if csv.len() > MAX_BYTES {
            return Err(AppError::validation(
                "csv",
                format!("The file is larger than {} KiB.", MAX_BYTES / 1024),
            ));
        }
        let records = read_csv(&csv)
            .map_err(|p| AppError::validation("csv", format!("Line {}: {}", p.line, p.message)))?;
        let Some(((_, header), rows)) = records.split_first() else {
            return Err(AppError::validation("csv", "The file is empty."));
        };
        if rows.len() > MAX_ROWS {
            return Err(AppError::validation(
                "csv",
                format!("The file has more than {MAX_ROWS} rows; split it."),
            ));
        }
        let columns: Vec<String> = header.iter().map(|h| h.trim().to_lowercase()).collect();
        let known: Vec<&str> = kind
            .required()
            .iter()
            .chain(kind.optional())
            .copied()
            .collect();
        for c in &columns {
            if !known.contains(&c.as_str()) {
                return Err(AppError::validation(
                    "csv",
                    format!(
                        "Unknown column \"{c}\". The columns are: {}.",
                        known.join(", ")
                    ),
                ));
            }
        }
        for r in kind.required() {
            if !columns.iter().any(|c| c == r) {
                return Err(AppError::validation(
                    "csv",
                    format!(
                        "The column \"{r}\" is missing. Required: {}.",
                        kind.required().join(", ")
                    ),
                ));
            }
        }
        let platforms: HashMap<String, i64> = if kind == ImportKind::Earnings {
            sqlx::query_as::<_, (String, i64)>(
                "SELECT name, id FROM platforms WHERE workspace_id = $1",
            )
            .bind(workspace_id)
            .fetch_all(&state.db.pool)
            .await?
            .into_iter()
            .map(|(n, id)| (n.to_lowercase(), id))
            .collect()
        } else {
            HashMap::new()
        };

        let mut report = ImportReport {
            kind,
            rows: rows.len(),
            columns: columns.clone(),
            preview: rows
                .iter()
                .take(PREVIEW_ROWS)
                .map(|(_, r)| r.clone())
                .collect(),
            problems: Vec::new(),
            problem_count: 0,
            created: 0,
            committed: false,
        };
        let mut parsed = Vec::with_capacity(rows.len());
        for (line, cells) in rows {
            if cells.len() != columns.len() {
                report.problem(
                    *line,
                    None,
                    format!("Expected {} cells, found {}.", columns.len(), cells.len()),
                );
                continue;
            }
            let cell = |name: &str| {
                columns
                    .iter()
                    .position(|c| c == name)
                    .map(|i| cells[i].as_str())
                    .unwrap_or("")
            };
            let result = match kind {
                ImportKind::Expenses => ExpenseInput::parse(
                    cell("amount"),
                    cell("currency"),
                    cell("category"),
                    unguard(cell("description")),
                    cell("date"),
                )
                .map(Parsed::Expense),
                ImportKind::Earnings => {
                    match platforms.get(&unguard(cell("platform")).trim().to_lowercase()) {
                        None => Err(AppError::validation(
                            "platform",
                            "No platform of that name in this workspace; add it first.",
                        )),
                        Some(&platform_id) => EarningInput::parse(
                            &platform_id.to_string(),
                            cell("date"),
                            cell("hours"),
                            cell("amount"),
                            cell("currency"),
                            unguard(cell("notes")),
                        )
                        .map(Parsed::Earning),
                    }
                }
            };
            match result {
                Ok(p) => parsed.push(p),
                Err(AppError::Validation { field, message }) => {
                    report.problem(*line, Some(column_of(&field)), message)
                }
                Err(e) => return Err(e),
            }
        }
        if !commit || report.problem_count > 0 {
            return Ok(report);
        }

        let now = now_ms();
        let mut tx =
            Write::begin_member(&state.db, user.id, workspace_id, Need::Write, now).await?;
        let written = write(&mut tx, workspace_id, user.id, &parsed, now).await;
        let touched = match written {
            Ok(touched) => touched,
            Err(e) => {
                drop(tx); // rolls back: nothing of the file is kept
                tracing::error!(workspace_id = workspace_id.0, error = %e, "import failed; rolled back");
                report_failure(workspace_id, user.id, kind, now).await?;
                return Err(AppError::Internal);
            }
        };
        let created = parsed.len();
        tx.emit(
            Stream::Workspace(workspace_id),
            Event::SyncCompleted(SyncReport {
                what: kind.as_str().to_owned(),
                created: created as u32,
                skipped: 0,
            }),
        )
        .await?;
        expenses_changed(&mut tx, workspace_id, touched).await?;
        tx.notify(
            user.id,
            Some(workspace_id),
            Some(Topic::Imports),
            NotificationLevel::Success,
            "Import finished",
            &format!("{created} {} imported.", kind.as_str()),
        )
        .await?;
        tx.commit(&state.hub).await?;
        tracing::info!(
            workspace_id = workspace_id.0,
            kind = kind.as_str(),
            created,
            "import committed"
        );
        report.created = created;
        report.committed = true;
        Ok(report)
    }

    /// The file's column a form field's error belongs to.
    fn column_of(field: &str) -> String {
        match field {
            "platform_id" => "platform".into(),
            other => other.into(),
        }
    }

    /// Writes every row in `tx`; returns where the expenses count towards budgets.
    async fn write(
        tx: &mut Write,
        workspace_id: WorkspaceId,
        user_id: crate::model::ids::UserId,
        rows: &[Parsed],
        now: i64,
    ) -> AppResult<Vec<Counted>> {
        let mut touched = Vec::new();
        for row in rows {
            match row {
                Parsed::Expense(e) => {
                    crate::expenses::ssr::insert(tx, workspace_id, e, user_id, now).await?;
                    touched.push(Counted::of(&e.category, &e.currency, &e.spent_on));
                }
                Parsed::Earning(e) => {
                    crate::earnings::ssr::insert(tx, workspace_id, e, user_id, now).await?;
                }
            }
        }
        Ok(touched)
    }

    /// Tells the user their import failed: `error:occurred` and a notification on their
    /// stream, in a transaction of its own (the import's was rolled back).
    async fn report_failure(
        workspace_id: WorkspaceId,
        user_id: crate::model::ids::UserId,
        kind: ImportKind,
        now: i64,
    ) -> AppResult<()> {
        let state = state()?;
        let message = format!(
            "The import of {} failed part way; nothing was imported. Please try again.",
            kind.as_str()
        );
        let mut tx = Write::begin(&state.db, user_id, now).await?;
        tx.emit(
            Stream::User(user_id),
            Event::ErrorOccurred(ErrorReport {
                what: "import".into(),
                message: message.clone(),
            }),
        )
        .await?;
        tx.notify(
            user_id,
            Some(workspace_id),
            Some(Topic::Imports),
            NotificationLevel::Error,
            "Import failed",
            &message,
        )
        .await?;
        tx.commit(&state.hub).await?;
        Ok(())
    }
}

impl ImportReport {
    #[cfg(feature = "ssr")]
    fn problem(&mut self, line: usize, column: Option<String>, message: String) {
        self.problem_count += 1;
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(RowProblem {
                line,
                column,
                message,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_quotes_newlines_and_crlf() {
        let text = "\u{feff}date,amount,description\r\n2026-01-02,\"1,234.50\",\"Say \"\"hi\"\"\"\r\n\r\n2026-01-03,5,\"two\nlines\"\n2026-01-04,6,";
        let records = read_csv(text).unwrap();
        assert_eq!(
            records,
            vec![
                (
                    1,
                    vec!["date".into(), "amount".into(), "description".into()]
                ),
                (
                    2,
                    vec!["2026-01-02".into(), "1,234.50".into(), "Say \"hi\"".into()]
                ),
                (
                    4,
                    vec!["2026-01-03".into(), "5".into(), "two\nlines".into()]
                ),
                (6, vec!["2026-01-04".into(), "6".into(), "".into()]),
            ]
        );
    }

    #[test]
    fn an_unclosed_quote_is_reported_at_its_record() {
        let err = read_csv("a,b\n1,\"open\n2,3\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(read_csv("").unwrap().is_empty());
    }

    #[test]
    fn kinds_parse() {
        assert_eq!(ImportKind::parse("earnings").unwrap(), ImportKind::Earnings);
        assert!(ImportKind::parse("goals").is_err());
    }
}
