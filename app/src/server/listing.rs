//! A `ListFilter` as SQL: the `WHERE` clause of a filtered list, its order, and the
//! condition that starts the next page after a row (keyset paging: the page after a
//! row reads the index from that row on, however deep the list).
//!
//! Text search folds case with `LOWER` on both backends; `ListFilter::matches_*` does
//! the same in Rust. SQLite's `LOWER` folds ASCII letters only, so on SQLite a search
//! for "é" does not find "É" (PostgreSQL and the browser do).

use crate::{
    error::{AppError, AppResult},
    model::{
        filter::{Bound, Key, ListFilter, Period, Sort, PAGE, SEP},
        ids::WorkspaceId,
        workspace::Need,
    },
};

use super::AppState;

/// The longest view query string a list request may carry.
const MAX_VIEW: usize = 1_000;

/// What a list function (`expenses/list`, `earnings/list`) was asked, checked in order:
/// the caller may read the workspace (before anything of it is read), the view's filter,
/// the page.
pub struct ListRequest {
    pub caller: super::authz::Caller,
    pub filter: ListFilter,
    /// The rows after the one the request's `after` names (`Key::encode`) in the filter's
    /// order; empty means from the start.
    pub after: Option<Bound>,
    /// How many rows (`PAGE` when the request says 0).
    pub limit: i64,
}

impl ListRequest {
    /// Empty `after` and 0 `limit` mean none: plain strings and numbers on the wire
    /// rather than options.
    pub async fn read(
        workspace_id: WorkspaceId,
        view: &str,
        after: &str,
        limit: i64,
    ) -> AppResult<ListRequest> {
        let caller = super::authz::member(workspace_id, Need::Read).await?;
        let filter = filter_of_request(&caller.state, workspace_id, view).await?;
        let after = (!after.is_empty())
            .then(|| Key::decode(filter.sort, after).map(Bound::After))
            .transpose()?;
        let limit = if limit > 0 { limit } else { PAGE };
        Ok(ListRequest {
            caller,
            filter,
            after,
            limit,
        })
    }
}

/// The filter of a list request's view (`filter_of_view`), over today in the workspace's
/// time zone. Today costs a query, so it is read only when the view leaves its period to
/// "this month": never for the filter line the browser sends back.
async fn filter_of_request(
    state: &AppState,
    workspace_id: WorkspaceId,
    view: &str,
) -> AppResult<ListFilter> {
    let needs_today = !view.trim().is_empty()
        && !view.contains(SEP)
        && view_params(view).is_ok_and(|params| !Period::is_named(&params));
    let today = if needs_today {
        super::zone::workspace_today(state, workspace_id).await?
    } else {
        String::new() // not read: the view names its period, or is not a query
    };
    filter_of_view(view, &today)
}

/// The filter a view names over `today`'s month: a query string as the dashboard's URL
/// writes it (`period=2026-11&q=lunch`, `from=…&to=…`), or the filter line a list
/// answered with (`ListFilter::to_line`, which the browser sends back as it got it); an
/// empty one is everything, newest first. Checked like the dashboard's URL: the first
/// bad parameter is the error.
pub fn filter_of_view(view: &str, today: &str) -> AppResult<ListFilter> {
    if view.trim().is_empty() {
        return Ok(ListFilter::default());
    }
    if view.contains(SEP) {
        within_limit(view)?;
        let filter = ListFilter::from_line(view)
            .ok_or_else(|| AppError::validation("view", "The view is not a list filter."))?;
        filter.check()?;
        return Ok(filter);
    }
    let params = view_params(view)?;
    let period = Period::from_query(&params, today)?;
    ListFilter::from_query(&params, &period)
}

/// The parameters of a view query string (a leading `?` is allowed), as a lookup of
/// each name's first value.
pub fn view_params(view: &str) -> AppResult<impl Fn(&str) -> Option<String>> {
    let view = within_limit(view)?;
    let view = view.strip_prefix('?').unwrap_or(view);
    let pairs: Vec<(String, String)> = form_urlencoded::parse(view.as_bytes())
        .into_owned()
        .collect();
    Ok(move |name: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    })
}

fn within_limit(view: &str) -> AppResult<&str> {
    if view.len() > MAX_VIEW {
        return Err(AppError::validation("view", "The view is too long."));
    }
    Ok(view)
}

/// The columns a list filters on, as its query names them.
pub struct Columns {
    pub workspace: &'static str,
    pub date: &'static str,
    pub amount: &'static str,
    pub id: &'static str,
    pub text: &'static str,
    pub currency: &'static str,
    pub created_by: &'static str,
    /// The category (expenses) or the platform (earnings) column.
    pub category: Option<&'static str>,
    pub platform: Option<&'static str>,
}

/// A value bound to a placeholder, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Int(i64),
    Text(String),
}

/// `… WHERE` conditions and their arguments, numbered from `$1` (the workspace's id).
pub struct Where {
    pub sql: String,
    pub args: Vec<Arg>,
}

impl Where {
    fn push(&mut self, condition: String, arg: Arg) {
        self.args.push(arg);
        self.sql.push_str(" AND ");
        self.sql
            .push_str(&condition.replace('#', &format!("${}", self.args.len() + 1)));
    }

    /// The filter's conditions over `columns`, after `workspace_id = $1`.
    pub fn of(filter: &ListFilter, c: &Columns) -> Where {
        let mut w = Where {
            sql: String::new(),
            args: Vec::new(),
        };
        // Every stored date is inside all time's bounds (dates are checked on the way
        // in), so all time needs no condition, and "largest first" can then read the
        // amount index in order.
        if !filter.is_all_time() {
            w.push(format!("{} >= #", c.date), Arg::Text(filter.from.clone()));
            w.push(format!("{} <= #", c.date), Arg::Text(filter.to.clone()));
        }
        if !filter.q.is_empty() {
            w.push(
                format!("LOWER({}) LIKE # ESCAPE '\\'", c.text),
                Arg::Text(format!("%{}%", escape_like(&filter.q))),
            );
        }
        if !filter.currency.is_empty() {
            w.push(
                format!("{} = #", c.currency),
                Arg::Text(filter.currency.clone()),
            );
        }
        if let Some(m) = filter.member {
            w.push(format!("{} = #", c.created_by), Arg::Int(m.0));
        }
        if let (Some(col), false) = (c.category, filter.category.is_empty()) {
            w.push(format!("{col} = #"), Arg::Text(filter.category.clone()));
        }
        if let (Some(col), Some(p)) = (c.platform, filter.platform) {
            w.push(format!("{col} = #"), Arg::Int(p));
        }
        w
    }

    /// Only rows after the bound's key in the filter's order (the next page), or only
    /// those down to it, itself included.
    pub fn bound(&mut self, bound: &Bound, c: &Columns) {
        let (key, (less, or_equal)) = match bound {
            Bound::After(key) => (key, ("<", "<")),
            Bound::Until(key) => (key, (">", ">=")),
        };
        let (column, value, id) = match key {
            Key::Date(d, id) => (c.date, Arg::Text(d.clone()), *id),
            Key::Amount(a, id) => (c.amount, Arg::Int(*a), *id),
        };
        let (a, b) = (self.args.len() + 2, self.args.len() + 3);
        self.sql.push_str(&format!(
            " AND ({column} {less} ${a} OR ({column} = ${a} AND {} {or_equal} ${b}))",
            c.id
        ));
        self.args.push(value);
        self.args.push(Arg::Int(id));
    }
}

/// `ORDER BY` for the filter's sort, newest id first among equals.
pub fn order_by(sort: Sort, c: &Columns) -> String {
    let first = match sort {
        Sort::Date => c.date,
        Sort::Amount => c.amount,
    };
    format!("ORDER BY {first} DESC, {} DESC", c.id)
}

/// `%`, `_` and `\` stand for themselves in the search.
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// The rows `filter` selects with `select` (`SELECT … FROM …`, aliased as in `c`), in
/// the filter's order, those after `after` only, at most `limit`: a list's page, or
/// the whole export.
#[allow(clippy::too_many_arguments)]
pub async fn rows<'e, T, E>(
    ex: E,
    select: &str,
    c: &Columns,
    workspace_id: WorkspaceId,
    filter: &ListFilter,
    bound: Option<&Bound>,
    limit: i64,
) -> Result<Vec<T>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
    T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    let mut w = Where::of(filter, c);
    if let Some(bound) = bound {
        w.bound(bound, c);
    }
    let sql = format!(
        "{select} WHERE {} = $1{} {} LIMIT {limit}",
        c.workspace,
        w.sql,
        order_by(filter.sort, c)
    );
    bind_all(sqlx::query_as(&sql).bind(workspace_id), &w.args)
        .fetch_all(ex)
        .await
}

/// `aggregate` (`SELECT <sums> FROM …`) over every row `filter` selects, grouped by
/// `group_by`: a list's count and totals.
pub async fn sums<'e, T, E>(
    ex: E,
    aggregate: &str,
    group_by: &str,
    c: &Columns,
    workspace_id: WorkspaceId,
    filter: &ListFilter,
) -> Result<Vec<T>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
    T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    let w = Where::of(filter, c);
    let sql = format!(
        "{aggregate} WHERE {} = $1{} GROUP BY {group_by}",
        c.workspace, w.sql
    );
    bind_all(sqlx::query_as(&sql).bind(workspace_id), &w.args)
        .fetch_all(ex)
        .await
}

/// Binds `args` after the workspace's id, in order.
pub fn bind_all<'q, O>(
    mut query: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    args: &[Arg],
) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>> {
    for arg in args {
        query = match arg {
            Arg::Int(i) => query.bind(*i),
            Arg::Text(t) => query.bind(t.clone()),
        };
    }
    query
}

/// Where a plain form post (no JavaScript) that saved an edit returns: the dashboard
/// view it came from (its `Referer`, which the site's `Referrer-Policy: same-origin`
/// sends), less the `edit_expense`/`edit_earning` parameter that opened the form; the
/// workspace's default view if the `Referer` is missing or names another page. Only the
/// path and query are kept, so no other site can be named.
pub fn view_after_edit(workspace_id: WorkspaceId, referer: Option<&str>) -> String {
    let page = format!("/w/{workspace_id}");
    let Some(uri) = referer.and_then(|r| r.parse::<http::Uri>().ok()) else {
        return page;
    };
    if uri.path() != page {
        return page;
    }
    let kept: Vec<(String, String)> = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .into_owned()
        .filter(|(name, _)| name != "edit_expense" && name != "edit_earning")
        .collect();
    if kept.is_empty() {
        return page;
    }
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(kept)
        .finish();
    format!("{page}?{query}")
}

/// Sends a plain form post that saved an edit back to its view (`view_after_edit`).
/// A call from the client's JavaScript ignores it.
pub fn redirect_after_edit(workspace_id: WorkspaceId) {
    let referer = leptos::prelude::use_context::<http::request::Parts>().and_then(|p| {
        p.headers
            .get(http::header::REFERER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    });
    leptos_axum::redirect(&view_after_edit(workspace_id, referer.as_deref()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edit_saved_without_javascript_returns_to_its_view() {
        let ws = WorkspaceId(7);
        let back = |r: Option<&str>| view_after_edit(ws, r);
        assert_eq!(
            back(Some(
                "http://h:3000/w/7?period=2026-10&q=caf%C3%A9+au+lait&edit_expense=12"
            )),
            "/w/7?period=2026-10&q=caf%C3%A9+au+lait"
        );
        assert_eq!(back(Some("https://h/w/7?edit_earning=3")), "/w/7");
        assert_eq!(back(Some("/w/7?sort=amount")), "/w/7?sort=amount");
        // Another page, another workspace, another site's path, nothing, or garbage.
        for other in [
            Some("http://h/w/8?period=2026-10"),
            Some("http://h/w/7/team?x=1"),
            Some("http://evil.example/phish?period=2026-10"),
            Some("not a url at all"),
            None,
        ] {
            assert_eq!(back(other), "/w/7", "{other:?}");
        }
    }
    use crate::model::{filter::Period, ids::UserId};

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

    #[test]
    fn views_read_like_the_dashboards_url() {
        let f = filter_of_view("period=2026-11&q=Caf%C3%A9&sort=amount", "2026-12-02").unwrap();
        assert_eq!(
            (f.from.as_str(), f.to.as_str(), f.q.as_str(), f.sort),
            ("2026-11-01", "2026-11-30", "café", Sort::Amount)
        );
        assert_eq!(
            filter_of_view(
                "from=2026-11-01&to=2026-11-30&q=caf%C3%A9&sort=amount",
                "2026-12-02"
            )
            .unwrap(),
            f
        );
        assert_eq!(
            filter_of_view("", "2026-12-02").unwrap(),
            ListFilter::default()
        );
        assert!(filter_of_view("period=2026-13", "2026-12-02").is_err());
        assert!(filter_of_view(&"q=x&".repeat(300), "2026-12-02").is_err());
        // The line a list answered with reads back as the same filter, checked.
        assert_eq!(filter_of_view(&f.to_line(), "2026-12-02").unwrap(), f);
        let mut bad = f.clone();
        bad.category = "Caviar".into();
        let e = filter_of_view(&bad.to_line(), "2026-12-02").unwrap_err();
        assert!(e.field_message("category").is_some(), "{e}");
        let e = filter_of_view("2026-11-01\u{1f}2026-11-30", "2026-12-02").unwrap_err();
        assert!(e.field_message("view").is_some(), "{e}");
    }

    #[test]
    fn every_part_of_the_filter_becomes_a_numbered_condition() {
        let mut f = ListFilter::of(&Period::Month(2026, 11));
        f.q = "50%_off".into();
        f.category = "Food".into();
        f.member = Some(UserId(4));
        f.platform = Some(9); // not a column of expenses: ignored
        let mut w = Where::of(&f, &COLUMNS);
        w.bound(&Bound::After(Key::Date("2026-11-03".into(), 17)), &COLUMNS);
        assert_eq!(
            w.sql,
            " AND e.spent_on >= $2 AND e.spent_on <= $3 AND LOWER(e.description) LIKE $4 ESCAPE '\\' \
             AND e.created_by = $5 AND e.category = $6 \
             AND (e.spent_on < $7 OR (e.spent_on = $7 AND e.id < $8))"
        );
        // Down to a row, itself included (the rows a view shows).
        let mut until = Where::of(&ListFilter::of(&Period::All), &COLUMNS);
        until.bound(&Bound::Until(Key::Amount(1250, 17)), &COLUMNS);
        assert_eq!(
            until.sql,
            " AND (e.amount_minor > $2 OR (e.amount_minor = $2 AND e.id >= $3))"
        );
        assert_eq!(until.args, vec![Arg::Int(1250), Arg::Int(17)]);
        assert_eq!(w.args[2], Arg::Text("%50\\%\\_off%".into()));
        assert_eq!(w.args.len(), 7);
        assert_eq!(
            order_by(Sort::Amount, &COLUMNS),
            "ORDER BY e.amount_minor DESC, e.id DESC"
        );
        // All time has no date condition.
        let mut all = ListFilter::of(&Period::All);
        all.currency = "EUR".into();
        let w = Where::of(&all, &COLUMNS);
        assert_eq!(w.sql, " AND e.currency = $2");
    }
}
