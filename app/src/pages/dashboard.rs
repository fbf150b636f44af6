//! The workspace dashboard: switcher, expenses and earnings with their forms and totals.
//!
//! One request (`load_dashboard`) and one `Suspense` render the whole page on the
//! server. Only the open workspace (`WorkspaceView`) is an island, and its panels are
//! the server's HTML in it: when the workspace changes, the island reads them again
//! (`dashboard_panels`, the same components rendered for the same view) and morphs the
//! page into them (`live_part`). The switcher and its two forms stay plain HTML.

use crate::model::ids::{UserId, WorkspaceId};
use leptos::{either::Either, prelude::*};

use super::when::show;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use super::common::{
    action_error, category_options, currency_options, load_failed, rows_or, workspace_param,
    Enhance, Field, FormError, SelectField, TopBar, Watched, WorkspaceGone,
};
use super::forms::{refused, PostForm};
use super::island_data;
use super::plan::{BudgetForm, GoalForm};
use super::slot::{kept, server_html, slot_at, ServerHtml};
use crate::{
    auth::SessionUser,
    budgets::BudgetList,
    earnings::{
        format_hours, CreateEarning, CreatePlatform, DeleteEarning, Earning, EarningList,
        UpdateEarning,
    },
    error::AppError,
    expenses::{
        CreateExpense, DeleteExpense, DeleteExpenses, Expense, ExpenseList, UpdateExpense,
        CATEGORIES,
    },
    model::filter::{encode_query, Key, ListFilter, Period, Sort, MAX_ROWS, MAX_SEARCH, PAGE},
    money::format_plain,
    workspaces::{CreateWorkspace, JoinWorkspace, Role, WorkspaceKind, WorkspaceSummary},
};
use leptos::server_fn::ServerFn;

/// What the URL asks the dashboard to show: the period, the filters, and how many
/// rows of each list (`expenses=`, `earnings=`; a page more each time "Show more"
/// is followed without JavaScript).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardView {
    pub period: Period,
    pub filter: ListFilter,
    pub expenses_shown: i64,
    pub earnings_shown: i64,
    /// The rows of a list down to this one in its order (`expenses_until=<key>`): what
    /// a list showed, kept as rows arrive (`panels`); then `*_shown` does not count.
    pub expenses_until: Option<Key>,
    pub earnings_until: Option<Key>,
}

impl DashboardView {
    /// The view the query parameters name over `today`'s month; a bad parameter gives
    /// the error and the default view (this month, everything).
    pub fn from_query(
        get: &dyn Fn(&str) -> Option<String>,
        today: &str,
    ) -> (DashboardView, Option<AppError>) {
        let shown = |name: &str| {
            get(name)
                .and_then(|n| n.parse::<i64>().ok())
                .unwrap_or(PAGE)
                .clamp(PAGE, MAX_ROWS)
        };
        let parsed = Period::from_query(get, today).and_then(|period| {
            let filter = ListFilter::from_query(get, &period)?;
            let until = |name: &str| {
                get(name)
                    .map(|raw| Key::decode(filter.sort, &raw))
                    .transpose()
            };
            Ok(DashboardView {
                expenses_until: until("expenses_until")?,
                earnings_until: until("earnings_until")?,
                period,
                filter,
                expenses_shown: shown("expenses"),
                earnings_shown: shown("earnings"),
            })
        });
        match parsed {
            Ok(view) => (view, None),
            Err(e) => (DashboardView::this_month(today), Some(e)),
        }
    }

    /// The default view: `today`'s month, everything in it, a page of each list.
    pub fn this_month(today: &str) -> DashboardView {
        let period = Period::this_month(today);
        DashboardView {
            filter: ListFilter::of(&period),
            period,
            expenses_shown: PAGE,
            earnings_shown: PAGE,
            expenses_until: None,
            earnings_until: None,
        }
    }

    /// The query string of this view: its period, then its filters.
    pub fn query(&self) -> String {
        let mut pairs = self.period.query();
        pairs.extend(self.filter.query());
        encode_query(&pairs)
    }

    /// `/w/<id>?…` for this view.
    pub fn href(&self, ws: WorkspaceId) -> String {
        format!("/w/{ws}?{}", self.query())
    }
}

/// Everything the dashboard shows, read for one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardData {
    pub user: SessionUser,
    pub workspaces: Vec<WorkspaceSummary>,
    /// The workspace in the URL with its lists; `None` when the caller is not a member
    /// (or it does not exist: the two are not told apart).
    pub open: Option<OpenWorkspace>,
    /// Who can be picked in the member filter (id, name).
    pub members: Vec<(UserId, String)>,
    /// The view the URL names, read over today in the workspace's time zone; and what
    /// was wrong with the URL, if anything (the view is then the default one).
    pub view: DashboardView,
    pub view_error: Option<AppError>,
    /// The workspace's IANA time zone, and today there: its current month, the date a
    /// new row starts with.
    pub time_zone: String,
    pub today: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenWorkspace {
    pub workspace: WorkspaceSummary,
    pub expenses: ExpenseList,
    pub earnings: EarningList,
    pub budgets: BudgetList,
    pub goals: crate::goals::GoalList,
}
/// The dashboard of `workspace_id` for the view its URL's query string names (`query`,
/// with or without its `?`). The view is read here, on the server, because "this
/// month" is the workspace's month.
#[leptos::server(endpoint = "dashboard")]
pub async fn load_dashboard(
    workspace_id: WorkspaceId,
    query: String,
) -> Result<DashboardData, AppError> {
    let (state, user) = crate::server::authz::signed_in().await?;
    let workspaces = crate::workspaces::ssr::list_workspaces(&state, user.id).await?;
    // Listed means a member, and every member may read: no further checks.
    let Some(w) = workspaces.iter().find(|w| w.id == workspace_id).cloned() else {
        let today = crate::dates::today_iso();
        return Ok(DashboardData {
            user,
            workspaces,
            open: None,
            members: Vec::new(),
            view: DashboardView::this_month(&today),
            view_error: None,
            time_zone: crate::server::zone::DEFAULT.to_owned(),
            today,
        });
    };
    let OpenView {
        open,
        view,
        view_error,
        time_zone,
        today,
    } = open_view(&state, user.id, w, &query).await?;
    Ok(DashboardData {
        user,
        workspaces,
        open: Some(open),
        members: crate::workspaces::ssr::member_names(&state, workspace_id).await?,
        view,
        view_error,
        time_zone,
        today,
    })
}

/// An open workspace for one view, as the page and its live panels read it.
#[cfg(feature = "ssr")]
struct OpenView {
    open: OpenWorkspace,
    view: DashboardView,
    view_error: Option<AppError>,
    time_zone: String,
    today: String,
}

/// Reads workspace `w` for `reader` as the view `query` names, over today in the
/// workspace's zone (a bad parameter: the default view, and the error).
#[cfg(feature = "ssr")]
async fn open_view(
    state: &crate::server::AppState,
    reader: UserId,
    w: WorkspaceSummary,
    query: &str,
) -> Result<OpenView, AppError> {
    let workspace_id = w.id;
    let time_zone = crate::server::zone::of_workspace(state, workspace_id).await?;
    let today = crate::server::zone::today_in(&time_zone);
    let (view, view_error) = match crate::server::listing::view_params(query) {
        Ok(params) => DashboardView::from_query(&params, &today),
        Err(e) => (DashboardView::this_month(&today), Some(e)),
    };
    // Budgets are monthly: a month period shows that month's, any other the current one.
    let month = view
        .period
        .month_key()
        .unwrap_or_else(|| crate::budgets::ssr::month_of(&today).to_owned());
    let f = view.filter.clone();
    // Down to a row: every row above it, as many as there are (up to `MAX_ROWS`).
    let bound = |until: &Option<Key>, shown: i64| match until {
        Some(key) => (
            Some(crate::model::filter::Bound::Until(key.clone())),
            MAX_ROWS,
        ),
        None => (None, shown),
    };
    let (expenses_bound, expenses_limit) = bound(&view.expenses_until, view.expenses_shown);
    let (earnings_bound, earnings_limit) = bound(&view.earnings_until, view.earnings_shown);
    let open = OpenWorkspace {
        workspace: w,
        expenses: crate::expenses::ssr::list(
            state,
            workspace_id,
            f.clone(),
            expenses_bound.as_ref(),
            expenses_limit,
            reader,
        )
        .await?,
        earnings: crate::earnings::ssr::list(
            state,
            workspace_id,
            f,
            earnings_bound.as_ref(),
            earnings_limit,
            reader,
        )
        .await?,
        budgets: crate::budgets::ssr::list(state, workspace_id, month, reader).await?,
        goals: crate::goals::ssr::list(state, workspace_id, reader).await?,
    };
    Ok(OpenView {
        open,
        view,
        view_error,
        time_zone,
        today,
    })
}

/// "2 expenses deleted. Undo", for 10 s after this tab deleted expenses (the server keeps
/// them `UNDO_SECONDS`): server-rendered, wired by `/enhance.js` (see `Enhance`), no WASM.
/// The script notes the ids a delete form sends; when the form enhancer says the
/// deletion succeeded (`ll-sent` on the form, `super::forms`), Undo posts them to
/// `expenses/restore`, whose `expense:created` events bring the rows back in every open
/// list. Without JavaScript the bar never shows.
#[component]
fn UndoBar() -> impl IntoView {
    view! {
        <p class="undo-bar" role="status" data-testid="undo-bar" hidden>
            <span></span> " " <button type="button" class="small">"Undo"</button>
        </p>
    }
}

/// Where the expenses' and the earnings' row forms say their errors.
const EXPENSES_ERROR: &str = "expenses-error";
const EARNINGS_ERROR: &str = "earnings-error";

/// Rendered on the server only: the switcher and the forms around the workspace are
/// plain HTML; the workspace itself (`WorkspaceView`) is the island that hydrates.
#[component]
pub fn DashboardPage() -> impl IntoView {
    let ws = workspace_param();
    let create_ws = ServerAction::<CreateWorkspace>::new();
    let join = ServerAction::<JoinWorkspace>::new();
    let query = use_query_map();
    // The view the URL names (period, filters, rows shown) is read by the server, over
    // the workspace's today; a bad parameter is said above the lists, which then show
    // the default view.
    let url_query = query.with_untracked(|q| q.to_query_string());
    let data = Resource::new(
        move || ws.get(),
        move |ws| load_dashboard(ws, url_query.clone()),
    );
    // The row being edited (`?edit_expense=<id>`, `?edit_earning=<id>`), if any.
    let edit = move |name: &str| {
        query
            .read_untracked()
            .get(name)
            .and_then(|s| s.parse::<i64>().ok())
    };
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(data) => {
                        provide_context(data.user.clone());
                        let current = data.open.as_ref().map(|o| o.workspace.id);
                        let members = data.members;
                        let (view, view_error, today) = (data.view, data.view_error, data.today);
                        let time_zone = data.time_zone;
                        view! {
                            <TopBar/>
                            <div class="layout">
                                {match data.open {
                                    Some(open) => {
                                        let id = open.workspace.id;
                                        let platforms = open.earnings.platforms.clone();
                                        let mut currencies: Vec<String> = open
                                            .expenses
                                            .totals
                                            .0
                                            .iter()
                                            .chain(&open.earnings.totals.0)
                                            .map(|(c, _)| c.clone())
                                            .collect();
                                        currencies.sort();
                                        currencies.dedup();
                                        let here = view.href(id);
                                        let forms = panel_forms(&open, &here, &today, edit("edit_expense"), edit("edit_earning"));
                                        // The period and filters sit in the side column, under
                                        // the switcher: rendered by the server only.
                                        view! {
                                            <div class="side">
                                                <WorkspaceNav list=data.workspaces current create_ws join/>
                                                <ViewBar ws=id view=view.clone() today=today.clone() error=view_error members platforms currencies/>
                                                <p class="zone-note" data-testid="zone-note">
                                                    "Months in " {time_zone} " · " <a href=format!("/w/{id}/settings")>"Settings"</a>
                                                </p>
                                            </div>
                                            <Title text=format!("{} · LiveLedger", open.workspace.name)/>
                                            {island_data::give(WorkspaceData::new(open, &view, &here, forms))}
                                            <WorkspaceView/>
                                            <Enhance/>
                                            <UndoBar/>
                                        }.into_any()
                                    }
                                    None => view! {
                                        <div class="side">
                                            <WorkspaceNav list=data.workspaces current create_ws join/>
                                        </div>
                                        <main class="content">
                                            <h1>"Workspace not found"</h1>
                                            <p>"It does not exist or you are not a member. " <a href="/">"Go to your workspace"</a></p>
                                        </main>
                                    }.into_any(),
                                }}
                            </div>
                        }
                        .into_any()
                    }
                    Err(e) => load_failed(e),
                }
            })}
        </Suspense>
    }
}

/// The period and the filters: links and plain `GET` forms, rendered on the server
/// only (outside the island), so every view is a URL that works without JavaScript and
/// costs the WASM nothing.
#[component]
fn ViewBar(
    ws: WorkspaceId,
    view: DashboardView,
    /// Today in the workspace's zone (its current month).
    today: String,
    error: Option<AppError>,
    members: Vec<(UserId, String)>,
    platforms: Vec<crate::earnings::Platform>,
    /// The currencies the lists have amounts in.
    currencies: Vec<String>,
) -> AnyView {
    let DashboardView { period, filter, .. } = view.clone();
    let at = |p: &Period| {
        DashboardView {
            period: p.clone(),
            ..view.clone()
        }
        .href(ws)
    };
    let step = |by: i64| period.step(by).map(|p| (at(&p), p.label()));
    let this_month = Period::this_month(&today);
    let (from, to) = match &period {
        Period::All => (String::new(), String::new()),
        p => p.bounds(),
    };
    let option = |value: String, label: String, selected: bool| {
        view! { <option value=value selected=selected>{label}</option> }
    };
    let categories = CATEGORIES
        .iter()
        .map(|c| option(c.to_string(), c.to_string(), filter.category == *c))
        .collect_view();
    // The currencies this view has amounts in (and the one chosen), not all of them.
    let mut in_use: Vec<String> = currencies;
    if !filter.currency.is_empty() && !in_use.contains(&filter.currency) {
        in_use.push(filter.currency.clone());
    }
    let currencies = in_use
        .into_iter()
        .map(|c| option(c.clone(), c.clone(), filter.currency == c))
        .collect_view();
    let member_select = (members.len() > 1).then(|| {
        let options = members
            .into_iter()
            .map(|(id, name)| option(id.0.to_string(), name, filter.member == Some(id)))
            .collect_view();
        view! {
            <label>"Entered by"
                <select name="member"><option value="">"Anyone"</option>{options}</select>
            </label>
        }
    });
    let platform_select = (!platforms.is_empty()).then(|| {
        let options = platforms
            .into_iter()
            .map(|p| option(p.id.to_string(), p.name, filter.platform == Some(p.id)))
            .collect_view();
        view! {
            <label>"Platform"
                <select name="platform"><option value="">"All platforms"</option>{options}</select>
            </label>
        }
    });
    // The period's own parameters, carried by the filter form.
    let period_inputs = period
        .query()
        .into_iter()
        .map(|(name, value)| view! { <input type="hidden" name=name value=value/> })
        .collect_view();
    // And the filters', carried by the range form.
    let filter_inputs = filter
        .query()
        .into_iter()
        .map(|(name, value)| view! { <input type="hidden" name=name value=value/> })
        .collect_view();
    let action = format!("/w/{ws}");
    // The same view, as a file in the columns the import reads.
    let export = |kind: &str| format!("/w/{ws}/export/{kind}?{}", view.query());
    view! {
        <section class="view-bar" aria-label="What the lists show" data-testid="view-bar">
            <nav class="period-nav" aria-label="Period">
                {step(-1).map(|(href, label)| view! { <a href=href rel="prev" data-testid="period-prev">"‹ " {label}</a> })}
                <h2 class="period" data-testid="period">{period.label()}</h2>
                {step(1).map(|(href, label)| view! { <a href=href rel="next" data-testid="period-next">{label} " ›"</a> })}
                {(period != this_month).then(|| view! { <a href=at(&this_month)>"This month"</a> })}
                {(period != Period::All).then(|| view! { <a href=at(&Period::All)>"All time"</a> })}
            </nav>
            {error.map(|e| view! { <p class="form-error" role="alert" data-testid="view-error">{e.to_string()} " Showing this month instead."</p> })}
            <details class="filter-box" open=filter.narrowed()>
            <summary>"Search and filters"</summary>
            <form method="get" action=action.clone() class="filters" role="search" data-testid="filter-form">
                {period_inputs}
                <label>"Search"
                    <input type="search" name="q" value=filter.q.clone() maxlength=MAX_SEARCH placeholder="Description or notes"/>
                </label>
                <label>"Category"
                    <select name="category"><option value="">"All categories"</option>{categories}</select>
                </label>
                {platform_select}
                {member_select}
                <label>"Currency"
                    <select name="currency"><option value="">"All currencies"</option>{currencies}</select>
                </label>
                <label>"Sort"
                    <select name="sort">
                        {option("date".into(), "Newest first".into(), filter.sort == Sort::Date)}
                        {option("amount".into(), "Largest first".into(), filter.sort == Sort::Amount)}
                    </select>
                </label>
                <button type="submit">"Apply"</button>
                {filter.narrowed().then(|| view! { <a href=at(&period) data-testid="clear-filters">"Clear filters"</a> }.into_any())}
            </form>
            </details>
            <details class="range">
                <summary>"Date range"</summary>
                <form method="get" action=action class="filters" data-testid="range-form">
                    {filter_inputs}
                    <label>"From" <input type="date" name="from" value=from required=true/></label>
                    <label>"To" <input type="date" name="to" value=to required=true/></label>
                    <button type="submit">"Show range"</button>
                </form>
            </details>
            <p class="export">"Download what is shown (CSV): "
                <a href=export("expenses") download data-testid="export-expenses">"expenses"</a> " · "
                <a href=export("earnings") download data-testid="export-earnings">"earnings"</a>
            </p>
        </section>
    }
    .into_any()
}

/// The workspace switcher: plain links, so it works before the WASM has loaded.
#[component]
fn WorkspaceNav(
    list: Vec<WorkspaceSummary>,
    current: Option<WorkspaceId>,
    create_ws: ServerAction<CreateWorkspace>,
    join: ServerAction<JoinWorkspace>,
) -> impl IntoView {
    let create_error = action_error(create_ws.value());
    let join_error = action_error(join.value());
    view! {
        <nav class="sidebar" aria-label="Workspaces">
            <h2>"Workspaces"</h2>
            <ul class="ws-list" data-testid="workspace-list">
                {list
                    .into_iter()
                    .map(|w| {
                        let is_current = Some(w.id) == current;
                        view! {
                            <li>
                                <a href=format!("/w/{}", w.id) aria-current=is_current.then_some("page")>
                                    {w.name}
                                </a>
                                <span class="badge">{w.role.label()}</span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            <details>
                <summary>"New team workspace"</summary>
                <ActionForm action=create_ws>
                    <FormError error=create_error.clone()/>
                    <Field form="new-ws" name="name" label="Name" error=create_error required=true maxlength=80/>
                    <button type="submit">"Create"</button>
                </ActionForm>
            </details>
            <details>
                <summary>"Join with an invite code"</summary>
                <ActionForm action=join>
                    <FormError error=join_error.clone()/>
                    <Field form="join" name="code" label="Invite code" error=join_error required=true maxlength=64/>
                    <button type="submit">"Join"</button>
                </ActionForm>
            </details>
        </nav>
    }
}

/// The forms at the top of the panels. They never change in the browser (the enhancer
/// posts them, `/enhance.js` clears them), so the server renders them into the island's
/// slots (`slot`) and the WASM holds none of their code. Empty for a viewer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PanelForms {
    expense: ServerHtml,
    /// The earning form and the platform form below it.
    earning: ServerHtml,
    budget: ServerHtml,
    goal: ServerHtml,
}
crate::json::json_struct!(PanelForms {
    expense,
    earning,
    budget,
    goal
});
crate::json::serde_via_json!(PanelForms);

/// Renders the panels' forms for the page: new rows start on `today`; an edit form
/// (`?edit_expense=<id>`, `?edit_earning=<id>`) holds the row as the page's list has it,
/// and its Cancel goes back to `here`.
fn panel_forms(
    open: &OpenWorkspace,
    here: &str,
    today: &str,
    edit_expense: Option<i64>,
    edit_earning: Option<i64>,
) -> PanelForms {
    if !open.workspace.role.can_write() {
        return PanelForms::default();
    }
    let ws = open.workspace.id;
    let expense =
        edit_expense.and_then(|id| open.expenses.items.iter().find(|e| e.id == id).cloned());
    let earning =
        edit_earning.and_then(|id| open.earnings.items.iter().find(|e| e.id == id).cloned());
    let platforms = open.earnings.platforms.clone();
    let (here, today) = (here.to_owned(), today.to_owned());
    PanelForms {
        expense: server_html(|| {
            view! { <ExpenseForm ws target=expense here=here.clone() today=today.clone()/> }
        }),
        earning: server_html(|| {
            view! {
                <EarningForm ws target=earning platforms here today/>
                <PlatformForm ws/>
            }
        }),
        budget: server_html(|| view! { <BudgetForm ws/> }),
        goal: server_html(|| view! { <GoalForm ws/> }),
    }
}

/// `WorkspaceView`'s data, which the page writes beside it (`island_data`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct WorkspaceData {
    workspace: WorkspaceSummary,
    /// The stream position the panels show.
    cursor: i64,
    /// The panels, rendered by the server (`live_part`).
    panels: ServerHtml,
}
crate::json::json_struct!(WorkspaceData {
    workspace,
    cursor,
    panels
});

impl island_data::IslandData for WorkspaceData {
    const ID: &'static str = "workspace-data";
}

impl WorkspaceData {
    /// The page's copy: its panels hold the forms the page rendered (`forms`), with an
    /// edited row or the error of a post refused without JavaScript.
    fn new(open: OpenWorkspace, view: &DashboardView, here: &str, forms: PanelForms) -> Self {
        let workspace = open.workspace.clone();
        let (cursor, panels) = panels(open, &view.query(), here, forms);
        WorkspaceData {
            workspace,
            cursor,
            panels,
        }
    }
}

/// Where the dashboard's panels are.
const PANELS: &str = "workspace-panels";

/// The query the panels of view `query` are read again with (`live_part`): for each list
/// the rows it shows, down to its last row while it shows part of what the view selects
/// (so a row that arrives above it is shown too, and the list does not lose its last
/// row for it), else a page more than it holds (so a list that shows all still does).
fn refresh_query(query: &str, expenses: &ExpenseList, earnings: &EarningList) -> String {
    let sort = expenses.filter.sort;
    let bound = |name: &str, shown: usize, count: i64, last: Option<Key>| match last {
        Some(key) if (shown as i64) < count => format!("&{name}_until={}", key.encode()),
        _ => format!("&{name}={}", shown as i64 + PAGE),
    };
    let last_expense = expenses
        .items
        .last()
        .map(|e| Key::new(sort, &e.spent_on, e.amount_minor, e.id));
    let last_earning = earnings
        .items
        .last()
        .map(|e| Key::new(sort, &e.earned_on, e.amount_minor, e.id));
    format!(
        "{query}{}{}",
        bound(
            "expenses",
            expenses.items.len(),
            expenses.count,
            last_expense
        ),
        bound(
            "earnings",
            earnings.items.len(),
            earnings.count,
            last_earning
        )
    )
}

/// The summary and the panels of `open` for view `query`, rendered by the server (with
/// the query to read them again with as `data-refresh`, `refresh_query`), and the
/// stream position they show (the oldest of the lists': each list is read in a snapshot
/// of its own).
fn panels(open: OpenWorkspace, query: &str, here: &str, forms: PanelForms) -> (i64, ServerHtml) {
    let OpenWorkspace {
        workspace: ws,
        expenses,
        earnings,
        budgets,
        goals,
    } = open;
    let cursor = expenses
        .cursor
        .min(earnings.cursor)
        .min(budgets.cursor)
        .min(goals.cursor);
    let PanelForms {
        expense,
        earning,
        budget,
        goal,
    } = forms;
    let can_write = ws.role.can_write();
    let here = here.to_owned();
    let refresh = refresh_query(query, &expenses, &earnings);
    // "Show more" of one list keeps the other's rows shown.
    let (shown_expenses, shown_earnings) = (
        (expenses.items.len() as i64).max(PAGE),
        (earnings.items.len() as i64).max(PAGE),
    );
    let more_expenses = format!(
        "{here}&expenses={}&earnings={shown_earnings}",
        expenses.items.len() as i64 + PAGE
    );
    let more_earnings = format!(
        "{here}&expenses={shown_expenses}&earnings={}",
        earnings.items.len() as i64 + PAGE
    );
    let html = server_html(move || {
        let import = can_write.then(|| {
            kept(
                "import",
                server_html(|| view! { <super::import::ImportLoader/> }),
            )
        });
        view! {
            <PeriodSummary expenses=&expenses earnings=&earnings/>
            <div class="panels" data-refresh=refresh>
                <ExpensesPanel ws=ws.id can_write list=expenses here=here.clone() more=more_expenses form=expense/>
                <EarningsPanel ws=ws.id can_write list=earnings here more=more_earnings form=earning/>
                <super::plan::BudgetsPanel ws=ws.id can_write list=budgets form=budget/>
                <super::plan::GoalsPanel ws=ws.id can_write list=goals link_to_page=true form=goal/>
                {import}
            </div>
        }
    });
    (cursor, html)
}

/// The dashboard's panels for the view `query` names, as the page renders them, for
/// the island that follows them live (`live_part`). The forms in it are the empty
/// ones: the island keeps its own.
#[leptos::server(endpoint = "dashboard/panels", output = crate::wire::Json)]
pub async fn dashboard_panels(
    workspace_id: WorkspaceId,
    query: String,
) -> Result<super::live_part::PartHtml, AppError> {
    // Only what the panels show: not the switcher's workspaces, nor the filter's members.
    let (state, user) = crate::server::authz::signed_in().await?;
    let w = crate::workspaces::ssr::summary(&state, &user, workspace_id).await?;
    let OpenView {
        open, view, today, ..
    } = open_view(&state, user.id, w, &query).await?;
    let here = view.href(workspace_id);
    let forms = panel_forms(&open, &here, &today, None, None);
    let (cursor, html) = panels(open, &view.query(), &here, forms);
    Ok(super::live_part::PartHtml {
        cursor,
        html: html.into_string(),
    })
}

/// The open workspace: its panels follow it live, and its forms write without a reload.
/// An island, the only part of the dashboard the WASM client knows, hydrated in the
/// browser from the data the page writes beside it (`island_data`). The panels are the
/// server's HTML, read again when the workspace changes (`live_part`).
#[island]
fn WorkspaceView() -> impl IntoView {
    let WorkspaceData {
        workspace: ws,
        cursor,
        panels,
    } = island_data::take();
    let (watched, achieved) = super::plan::follow_panels(&ws, PANELS, cursor, |ws, query| {
        Box::pin(dashboard_panels(ws, query))
    });
    let Watched { name, lost, .. } = watched;
    #[cfg(feature = "hydrate")]
    super::import::wire(PANELS, ws.id);
    view! {
        <main class="content">
            {show(move || !lost.get(), move || view! {
                <div class="ws-header">
                    <h1 data-testid="workspace-name">{move || name.get()}</h1>
                    {(ws.kind == WorkspaceKind::Team).then(|| view! { <a class="button" href=format!("/w/{}/team", ws.id)>"Team"</a> })}
                </div>
                {(ws.role == Role::Viewer).then(|| view! {
                    <p class="notice" role="status">"You are a viewer in this workspace: you can see everything but change nothing."</p>
                })}
            }, move || view! { <WorkspaceGone watched/> })}
            // Hidden rather than removed when access ends: the panels are a slot, which
            // the browser may hydrate but never build anew.
            <div hidden=move || lost.get()>
                {achieved.view()}
                {slot_at(PANELS, panels)}
                <crate::live::client::EventLog/>
            </div>
        </main>
    }
}

fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// "50 of 622 expenses" when not all are shown, "3 expenses" when they are.
fn shown_of(shown: usize, count: i64, one: &str, many: &str) -> String {
    if shown as i64 >= count {
        plural(count, one, many)
    } else {
        format!("{shown} of {}", plural(count, one, many))
    }
}

/// What the period adds up to: spent, earned and the difference per currency, hours
/// and the hourly rate.
#[component]
fn PeriodSummary<'a>(expenses: &'a ExpenseList, earnings: &'a EarningList) -> impl IntoView {
    let mut net = earnings.totals.clone();
    for (currency, minor) in &expenses.totals.0 {
        net.add(currency, -minor);
    }
    net.0.retain(|(_, minor)| *minor != 0);
    let text = format!(
        "Spent {} · Earned {} · Net {}",
        expenses.totals.display(),
        earnings.totals.display(),
        net.display()
    );
    view! { <p class="summary" data-testid="period-summary">{text}</p> }
}

/// "Show more": without JavaScript a link to the same view with a page more rows
/// (`expenses=`); in the browser the panels are read again for that view, in place
/// (`live_part`, `data-more`).
fn more_link(href: String, testid: &'static str, complete: bool) -> impl IntoView {
    view! { <a class="button more" href=href data-more="1" data-testid=testid hidden=complete>"Show more"</a> }
}

#[component]
fn ExpensesPanel(
    ws: WorkspaceId,
    can_write: bool,
    list: ExpenseList,
    /// The URL of the view shown.
    here: String,
    /// The URL of the same view with a page more of this list ("Show more").
    more: String,
    /// Its form (`ExpenseForm`), rendered by the server.
    form: ServerHtml,
) -> impl IntoView {
    let empty = if list.filter.narrowed() {
        "No expenses match."
    } else {
        "No expenses in this period."
    };
    let list_error = refused(DeleteExpense::PATH).or_else(|| refused(DeleteExpenses::PATH));
    let bulk_form_id = format!("bulk-delete-expenses-{ws}");
    let complete = list.items.len() as i64 >= list.count;
    let count = format!(
        " · {}",
        shown_of(list.items.len(), list.count, "expense", "expenses")
    );
    let chart = super::charts::category_totals(&list.by_category, "Totals by category");
    let rows: Vec<_> = list.items.into_iter().map(|e| view! { <ExpenseRow e ws can_write here=here.clone() bulk_form_id=bulk_form_id.clone()/> }).collect();
    view! {
        <section class="panel" aria-labelledby="expenses-heading">
            <h2 id="expenses-heading">"Expenses"</h2>
            {kept("expense-form", form)}
            <p class="totals" data-testid="expense-total">
                <span>"Total: "</span><strong>{list.totals.display()}</strong>
                <span class="muted" data-testid="expense-count">{count}</span>
            </p>
            <div class="slot" inner_html=chart></div>
            <FormError error=list_error id=EXPENSES_ERROR/>
            // Kept by the morph: `/enhance.js` adds its "Select all" button.
            {can_write.then(|| view! {
                <div class="slot" data-keep="expenses-bulk">
                    <PostForm action=DeleteExpenses::PATH id=bulk_form_id.clone() class="bulk-form" error_in=EXPENSES_ERROR>
                        <input type="hidden" name="workspace_id" value=ws/>
                        <button type="submit" class="danger small">"Delete selected"</button>
                    </PostForm>
                </div>
            })}
            {rows_or(rows, "rows", "expense-list", empty)}
            {more_link(more, "expense-more", complete)}
        </section>
    }
}

#[component]
fn ExpenseRow(
    e: Expense,
    ws: WorkspaceId,
    can_write: bool,
    /// The URL of the view shown.
    here: String,
    bulk_form_id: String,
) -> impl IntoView {
    let label = format!("Select {} of {}", e.description, e.amount_display());
    view! {
        <li class="row" data-testid="expense-row" data-id=e.id data-key=format!("e{}", e.id)>
            {can_write.then(|| view! {
                // Indexed by id: the form decodes `ids[<n>]` in any order, gaps allowed.
                <input type="checkbox" class="select" form=bulk_form_id name=format!("ids[{}]", e.id) value=e.id aria-label=label/>
            })}
            <span class="date">{e.spent_on.clone()}</span>
            <span class="category">{e.category.clone()}</span>
            <span class="description">{e.description.clone()}</span>
            <span class="amount">{e.amount_display()}</span>
            <span class="by muted">{e.created_by_name.clone()}</span>
            {can_write.then(|| view! {
                <span class="actions">
                    <a href=format!("{here}&edit_expense={}", e.id) class="small">"Edit"</a>
                    <PostForm action=DeleteExpense::PATH class="inline" error_in=EXPENSES_ERROR>
                        <input type="hidden" name="workspace_id" value=ws/>
                        <input type="hidden" name="id" value=e.id/>
                        <button type="submit" class="danger small" aria-label=format!("Delete {}", e.description)>"Delete"</button>
                    </PostForm>
                </span>
            })}
        </li>
    }
}

/// One form for adding and for editing (`target`), so both behave the same.
#[component]
fn ExpenseForm(
    ws: WorkspaceId,
    target: Option<Expense>,
    /// The URL of the view shown (where Cancel goes).
    here: String,
    /// The date a new row starts with.
    today: String,
) -> impl IntoView {
    let editing = target.is_some();
    let (id, amount, currency, category, description, date) = match &target {
        Some(e) => (
            e.id.to_string(),
            format_plain(e.amount_minor, &e.currency),
            e.currency.clone(),
            e.category.clone(),
            e.description.clone(),
            e.spent_on.clone(),
        ),
        None => (
            String::new(),
            String::new(),
            "EUR".to_owned(),
            "Other".to_owned(),
            String::new(),
            today,
        ),
    };
    let error = refused(if editing {
        UpdateExpense::PATH
    } else {
        CreateExpense::PATH
    });
    let fields = view! {
        <FormError error=error.clone()/>
        <input type="hidden" name="workspace_id" value=ws/>
        <div class="grid">
            <Field form="expense" name="amount" label="Amount" error=error.clone() value=amount required=true inputmode="decimal"/>
            <SelectField form="expense" name="currency" label="Currency" error=error.clone() options=currency_options() selected=currency/>
            <SelectField form="expense" name="category" label="Category" error=error.clone() options=category_options() selected=category/>
            <Field form="expense" name="date" label="Date" kind="date" error=error.clone() value=date required=true/>
        </div>
        <Field form="expense" name="description" label="Description" error value=description maxlength=200/>
    };
    if editing {
        Either::Left(view! {
            <PostForm action=UpdateExpense::PATH class="record-form" testid="expense-form">
                <h3>"Edit expense"</h3>
                <input type="hidden" name="id" value=id/>
                {fields}
                <div class="form-actions">
                    <button type="submit" class="primary">"Save expense"</button>
                    <a href=here>"Cancel"</a>
                </div>
            </PostForm>
        })
    } else {
        Either::Right(view! {
            <PostForm action=CreateExpense::PATH class="record-form" testid="expense-form" keep_typing=true>
                <h3>"Add an expense"</h3>
                {fields}
                <div class="form-actions">
                    <button type="submit" class="primary">"Add expense"</button>
                </div>
            </PostForm>
        })
    }
}

#[component]
fn EarningsPanel(
    ws: WorkspaceId,
    can_write: bool,
    list: EarningList,
    /// The URL of the view shown.
    here: String,
    /// The URL of the same view with a page more of this list ("Show more").
    more: String,
    /// Its forms (`EarningForm`, `PlatformForm`), rendered by the server.
    form: ServerHtml,
) -> impl IntoView {
    let l = &list;
    let empty = if l.filter.narrowed() {
        "No earnings match."
    } else {
        "No earnings in this period."
    };
    let complete = l.items.len() as i64 >= l.count;
    // The period's hourly rate, when one currency makes it meaningful.
    let rate = match l.totals.0.as_slice() {
        [(currency, minor)] => crate::earnings::hourly_rate(*minor, l.total_hours_centi)
            .map(|r| format!(" ({}/h)", crate::money::format_display(r, currency))),
        _ => None,
    };
    let count = format!(
        " · {} h{} · {}",
        format_hours(l.total_hours_centi),
        rate.unwrap_or_default(),
        shown_of(l.items.len(), l.count, "entry", "entries")
    );
    // Per platform, drawn like the expenses' categories (the same chart).
    let mut named = crate::money::KeyedTotals::default();
    for (id, currency, minor) in &l.by_platform.0 {
        let name = l
            .platforms
            .iter()
            .find(|p| p.id.to_string() == *id)
            .map_or("", |p| p.name.as_str());
        named.add(name, currency, *minor);
    }
    let by_platform = super::charts::category_totals(&named, "Totals by platform");
    let by_month = super::charts::earnings_chart(&l.by_month, &l.totals);
    let totals = l.totals.display();
    let delete_error = refused(DeleteEarning::PATH);
    let rows: Vec<_> = list
        .items
        .into_iter()
        .map(|e| view! { <EarningRow e ws can_write here=here.clone()/> })
        .collect();
    view! {
        <section class="panel" aria-labelledby="earnings-heading">
            <h2 id="earnings-heading">"Earnings"</h2>
            {kept("earning-form", form)}
            <p class="totals" data-testid="earning-total">
                <span>"Total: "</span><strong>{totals}</strong>
                <span class="muted" data-testid="earning-count">{count}</span>
            </p>
            <div class="slot" inner_html=by_platform></div>
            <div class="slot" inner_html=by_month></div>
            <FormError error=delete_error id=EARNINGS_ERROR/>
            {rows_or(rows, "rows", "earning-list", empty)}
            {more_link(more, "earning-more", complete)}
        </section>
    }
}

#[component]
fn EarningRow(
    e: Earning,
    ws: WorkspaceId,
    can_write: bool,
    /// The URL of the view shown.
    here: String,
) -> impl IntoView {
    let swatch = format!("background:{}", e.platform_color);
    view! {
        <li class="row" data-testid="earning-row" data-id=e.id data-key=format!("n{}", e.id)>
            <span class="platform"><span class="swatch" style=swatch aria-hidden="true"></span>{e.platform_name.clone()}</span>
            <span class="date">{e.earned_on.clone()}</span>
            <span class="hours">{format!("{} h", format_hours(e.hours_centi))}</span>
            <span class="amount">{crate::money::format_display(e.amount_minor, &e.currency)}</span>
            <span class="rate muted" data-testid="earning-rate">{e.rate_display()}</span>
            <span class="description">{e.notes.clone()}</span>
            {can_write.then(|| view! {
                <span class="actions">
                    <a href=format!("{here}&edit_earning={}", e.id) class="small">"Edit"</a>
                    <PostForm action=DeleteEarning::PATH class="inline" error_in=EARNINGS_ERROR>
                        <input type="hidden" name="workspace_id" value=ws/>
                        <input type="hidden" name="id" value=e.id/>
                        <button type="submit" class="danger small" aria-label=format!("Delete earning from {}", e.platform_name)>"Delete"</button>
                    </PostForm>
                </span>
            })}
        </li>
    }
}

#[component]
fn EarningForm(
    ws: WorkspaceId,
    target: Option<Earning>,
    platforms: Vec<crate::earnings::Platform>,
    /// The URL of the view shown (where Cancel goes).
    here: String,
    /// The date a new row starts with.
    today: String,
) -> impl IntoView {
    let editing = target.is_some();
    let (id, platform, date, hours, amount, currency, notes) = match &target {
        Some(e) => (
            e.id.to_string(),
            e.platform_id.to_string(),
            e.earned_on.clone(),
            format_hours(e.hours_centi),
            format_plain(e.amount_minor, &e.currency),
            e.currency.clone(),
            e.notes.clone(),
        ),
        None => (
            String::new(),
            platforms
                .first()
                .map(|p| p.id.to_string())
                .unwrap_or_default(),
            today,
            String::new(),
            String::new(),
            "EUR".to_owned(),
            String::new(),
        ),
    };
    let error = refused(if editing {
        UpdateEarning::PATH
    } else {
        CreateEarning::PATH
    });
    let platform_options: Vec<(String, String)> = platforms
        .iter()
        .map(|p| (p.id.to_string(), p.name.clone()))
        .collect();
    let fields = view! {
        <FormError error=error.clone()/>
        <input type="hidden" name="workspace_id" value=ws/>
        <div class="grid">
            <SelectField form="earning" name="platform_id" label="Platform" error=error.clone() options=platform_options selected=platform/>
            <Field form="earning" name="date" label="Date" kind="date" error=error.clone() value=date required=true/>
            <Field form="earning" name="hours" label="Hours" error=error.clone() value=hours inputmode="decimal"/>
            <Field form="earning" name="amount" label="Amount" error=error.clone() value=amount required=true inputmode="decimal"/>
            <SelectField form="earning" name="currency" label="Currency" error=error.clone() options=currency_options() selected=currency/>
        </div>
        <Field form="earning" name="notes" label="Notes" error value=notes maxlength=500/>
    };
    if editing {
        Either::Left(view! {
            <PostForm action=UpdateEarning::PATH class="record-form" testid="earning-form">
                <h3>"Edit earning"</h3>
                <input type="hidden" name="id" value=id/>
                {fields}
                <div class="form-actions">
                    <button type="submit" class="primary">"Save earning"</button>
                    <a href=here>"Cancel"</a>
                </div>
            </PostForm>
        })
    } else {
        Either::Right(view! {
            <PostForm action=CreateEarning::PATH class="record-form" testid="earning-form" keep_typing=true>
                <h3>"Add an earning"</h3>
                {fields}
                <div class="form-actions">
                    <button type="submit" class="primary">"Add earning"</button>
                </div>
            </PostForm>
        })
    }
}

#[component]
fn PlatformForm(ws: WorkspaceId) -> impl IntoView {
    let error = refused(CreatePlatform::PATH);
    view! {
        <details class="platform-form">
            <summary>"Add a platform"</summary>
            <PostForm action=CreatePlatform::PATH keep_typing=true>
                <FormError error=error.clone()/>
                <input type="hidden" name="workspace_id" value=ws/>
                <div class="grid">
                    <Field form="platform" name="name" label="Platform name" error=error.clone() required=true maxlength=40/>
                    <Field form="platform" name="color" label="Colour" kind="color" error value="#0ea5e9"/>
                </div>
                <button type="submit">"Add platform"</button>
            </PostForm>
        </details>
    }
}
