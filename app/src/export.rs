//! CSV export of what a list shows (its period and filters), in the columns the import
//! reads (`import::ImportKind::required` and `optional`), so an export imports cleanly
//! into another workspace.
//!
//! A text cell that starts with `=`, `+`, `-` or `@` gets a `'` in front, so a
//! spreadsheet shows it rather than running it as a formula (and one that starts with
//! `'` gets another, so the guard is never ambiguous); the import takes that `'` off
//! again (`import::unguard`), so the round trip keeps the text as it was.

use crate::{import::ImportKind, model::filter::ListFilter};

/// The most rows one export holds.
pub const MAX_EXPORT_ROWS: i64 = 100_000;

/// One CSV cell: quoted when it holds a comma, a quote or a line break.
pub fn cell(text: &str) -> String {
    let guarded = match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\'') => format!("'{text}"),
        _ => text.to_owned(),
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// `expenses-2026-11-01-2026-11-30.csv`: what the file holds.
pub fn file_name(kind: ImportKind, filter: &ListFilter) -> String {
    format!("{}-{}-{}.csv", kind.as_str(), filter.from, filter.to)
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::*;
    use crate::{
        error::AppResult,
        model::{earning::format_hours, ids::WorkspaceId},
        money::format_plain,
        server::AppState,
    };

    /// The CSV of every row `filter` selects, oldest first. The caller has checked
    /// that the user may read the workspace, and the filter.
    pub async fn csv(
        state: &AppState,
        workspace_id: WorkspaceId,
        kind: ImportKind,
        filter: ListFilter,
    ) -> AppResult<String> {
        let mut out = String::new();
        let mut line = |cells: &[&str]| {
            let row: Vec<String> = cells.iter().map(|c| cell(c)).collect();
            out.push_str(&row.join(","));
            out.push_str("\r\n");
        };
        match kind {
            ImportKind::Expenses => {
                line(&["date", "amount", "currency", "category", "description"]);
                let rows = crate::expenses::ssr::all(state, workspace_id, &filter, MAX_EXPORT_ROWS)
                    .await?;
                for e in rows.iter().rev() {
                    let amount = format_plain(e.amount_minor, &e.currency);
                    line(&[
                        &e.spent_on,
                        &amount,
                        &e.currency,
                        &e.category,
                        &e.description,
                    ]);
                }
            }
            ImportKind::Earnings => {
                line(&["date", "platform", "amount", "currency", "hours", "notes"]);
                let rows = crate::earnings::ssr::all(state, workspace_id, &filter, MAX_EXPORT_ROWS)
                    .await?;
                for e in rows.iter().rev() {
                    let amount = format_plain(e.amount_minor, &e.currency);
                    let hours = format_hours(e.hours_centi);
                    line(&[
                        &e.earned_on,
                        &e.platform_name,
                        &amount,
                        &e.currency,
                        &hours,
                        &e.notes,
                    ]);
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::{read_csv, unguard};

    #[test]
    fn cells_are_quoted_and_guarded_and_read_back_as_they_were() {
        let texts = [
            "plain",
            "a, b",
            "say \"hi\"",
            "two\nlines",
            "=SUM(A1)",
            "+1",
            "-x",
            "@me",
            "'quoted",
            "'=x",
            "",
        ];
        let line: Vec<String> = texts.iter().map(|t| cell(t)).collect();
        assert_eq!(line[4], "'=SUM(A1)");
        let read = read_csv(&format!("{}\n", line.join(","))).unwrap();
        let back: Vec<&str> = read[0].1.iter().map(|c| unguard(c)).collect();
        assert_eq!(back, texts);
    }
}
