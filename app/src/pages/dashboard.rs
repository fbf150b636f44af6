//! The workspace dashboard: switcher, expenses and earnings with their forms and totals.
//!
//! One request (`load_dashboard`) and one `Suspense` render the whole page on the
//! server. Only the open workspace (`WorkspaceView`) is an island: the browser hydrates
//! it from the same data, serialised into the page as its props, and each list then
//! lives in a signal that follows its workspace stream (`follow_list`): events are
//! applied in place, and the list reloads only when it cannot apply one exactly. The
//! switcher and its two forms stay plain HTML.

use crate::model::ids::{UserId, WorkspaceId};
use leptos::{either::Either, prelude::*};

use super::when::show;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use super::common::{
    action_error, category_options, currency_options, follow_list, load_failed, watch_workspace,
    workspace_param, Enhance, Field, FormError, SelectField, TopBar, Watched, WorkspaceGone,
};
use super::forms::{page_refusal, provide_refusal, refused, PostForm, Refusal};
use super::island_data;
use super::plan::{BudgetForm, GoalForm};
use super::slot::{server_html, slot, ServerHtml};
use crate::{
    auth::SessionUser,
    budgets::BudgetList,
    earnings::{
        format_hours, list_earnings, CreateEarning, CreatePlatform, DeleteEarning, Earning,
        EarningList, UpdateEarning,
    },
    error::AppError,
    expenses::{
        list_expenses, CreateExpense, DeleteExpense, DeleteExpenses, Expense, ExpenseList,
        UpdateExpense, CATEGORIES,
    },
    model::filter::{encode_query, ListFilter, Period, Sort, MAX_ROWS, MAX_SEARCH, PAGE},
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
            Ok(DashboardView {
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
crate::json::json_struct!(OpenWorkspace {
    workspace,
    expenses,
    earnings,
    budgets,
    goals
});

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
    let time_zone = crate::server::zone::of_workspace(&state, workspace_id).await?;
    let today = crate::server::zone::today_in(&time_zone);
    let (view, view_error) = match crate::server::listing::view_params(&query) {
        Ok(params) => DashboardView::from_query(&params, &today),
        Err(e) => (DashboardView::this_month(&today), Some(e)),
    };
    // Budgets are monthly: a month period shows that month's, any other the current one.
    let month = view
        .period
        .month_key()
        .unwrap_or_else(|| crate::budgets::ssr::month_of(&today).to_owned());
    let f = view.filter.clone();
    let open = OpenWorkspace {
        workspace: w,
        expenses: crate::expenses::ssr::list(
            &state,
            workspace_id,
            f.clone(),
            None,
            view.expenses_shown,
        )
        .await?,
        earnings: crate::earnings::ssr::list(&state, workspace_id, f, None, view.earnings_shown)
            .await?,
        budgets: crate::budgets::ssr::list(&state, workspace_id, month).await?,
        goals: crate::goals::ssr::list(&state, workspace_id).await?,
    };
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
                                                <ViewBar ws=id view today=today.clone() error=view_error members platforms currencies/>
                                                <p class="zone-note" data-testid="zone-note">
                                                    "Months in " {time_zone} " · " <a href=format!("/w/{id}/settings")>"Settings"</a>
                                                </p>
                                            </div>
                                            <Title text=format!("{} · LiveLedger", open.workspace.name)/>
                                            {island_data::give(WorkspaceData { open, here, forms, refused: page_refusal() })}
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

/// The earning form is a slot, rendered with the platforms of the page's time: those
/// created or renamed since, by anyone, are added to its choices or renamed there as the
/// list learns of them.
#[cfg(feature = "hydrate")]
fn follow_platforms(list: RwSignal<EarningList>) {
    let platforms = Memo::new(move |_| list.with(|l| l.platforms.clone()));
    Effect::new(move |_| {
        let document = document();
        let Some(select) = document.get_element_by_id("earning-platform_id") else {
            return;
        };
        platforms.with(|platforms| {
            for p in platforms {
                let value = p.id.to_string();
                let option = match select.query_selector(&format!("option[value=\"{value}\"]")) {
                    Ok(Some(option)) => option,
                    _ => {
                        let Ok(option) = document.create_element("option") else {
                            continue;
                        };
                        let _ = option.set_attribute("value", &value);
                        let _ = select.append_child(&option);
                        option
                    }
                };
                if option.text_content().as_deref() != Some(p.name.as_str()) {
                    option.set_text_content(Some(&p.name));
                }
            }
        });
    });
}

/// `WorkspaceView`'s data, which the page writes beside it (`island_data`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct WorkspaceData {
    open: OpenWorkspace,
    /// The URL of the view shown (period and filters), for links that keep it.
    here: String,
    /// The panels' forms, rendered by the server (`slot`).
    forms: PanelForms,
    /// The error of a form of this page posted without JavaScript, if one was refused.
    refused: Option<Refusal>,
}
crate::json::json_struct!(WorkspaceData {
    open,
    here,
    forms,
    refused
});

impl island_data::IslandData for WorkspaceData {
    const ID: &'static str = "workspace-data";
}

/// The open workspace: its lists follow it live, and its forms write without a reload.
/// An island, the only part of the dashboard the WASM client knows, hydrated in the
/// browser from the data the page writes beside it (`island_data`).
#[island]
fn WorkspaceView() -> impl IntoView {
    let WorkspaceData {
        open,
        here,
        forms,
        refused,
    } = island_data::take();
    provide_refusal(refused);
    let PanelForms {
        expense: expense_form,
        earning: earning_form,
        budget: budget_form,
        goal: goal_form,
    } = forms;
    let OpenWorkspace {
        workspace: ws,
        expenses,
        earnings,
        budgets,
        goals,
    } = open;
    let can_write = ws.role.can_write();
    let watched = watch_workspace(&ws, expenses.cursor);
    let Watched { name, lost, .. } = watched;
    let expenses = RwSignal::new(expenses);
    let earnings = RwSignal::new(earnings);
    let plans = StoredValue::new((budgets, goals));
    let here = StoredValue::new(here);
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
            // Hidden rather than removed when access ends (a `Show` costs the WASM far
            // more than an attribute).
            <div hidden=move || lost.get()>
                <PeriodSummary expenses earnings/>
                <div class="panels">
                    <ExpensesPanel ws=ws.id can_write list=expenses here=here.get_value() form=expense_form/>
                    <EarningsPanel ws=ws.id can_write list=earnings here=here.get_value() form=earning_form/>
                    <super::plan::BudgetsPanel ws=ws.id can_write initial=plans.with_value(|p| p.0.clone()) form=budget_form/>
                    <super::plan::GoalsPanel ws=ws.id can_write initial=plans.with_value(|p| p.1.clone()) link_to_page=true form=goal_form/>
                    {can_write.then(|| view! { <super::import::ImportLoader ws=ws.id/> })}
                </div>
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
/// and the hourly rate. Moves with both lists.
#[component]
fn PeriodSummary(
    expenses: RwSignal<ExpenseList>,
    earnings: RwSignal<EarningList>,
) -> impl IntoView {
    let net = move || {
        let mut net = earnings.with(|l| l.totals.clone());
        expenses.with(|l| {
            for (currency, minor) in &l.totals.0 {
                net.add(currency, -minor);
            }
        });
        net.0.retain(|(_, minor)| *minor != 0);
        net.display()
    };
    // One text node (each reactive node costs the WASM its own code).
    view! {
        <p class="summary" data-testid="period-summary">
            {move || format!(
                "Spent {} · Earned {} · Net {}",
                expenses.with(|l| l.totals.display()),
                earnings.with(|l| l.totals.display()),
                net()
            )}
        </p>
    }
}

/// "Show more": without JavaScript a link to the same view with a page more rows
/// (`expenses=`); in the browser the list is read again with a page more, in place
/// (`follow_list`'s `more`): one indexed `LIMIT` query, an exact snapshot with its
/// cursor. (Appending the page after the last row's key instead cost the WASM 1.8 KB
/// of brotli; the keyset page, `after`, is there for API clients.)
fn show_more(more: impl Fn(i64) + Copy + 'static) -> impl Fn(leptos::ev::MouseEvent) + Copy {
    move |ev: leptos::ev::MouseEvent| {
        ev.prevent_default();
        more(PAGE);
    }
}

#[component]
fn ExpensesPanel(
    ws: WorkspaceId,
    can_write: bool,
    list: RwSignal<ExpenseList>,
    /// The URL of the view shown.
    here: String,
    /// Its form (`ExpenseForm`), rendered by the server.
    form: ServerHtml,
) -> impl IntoView {
    let read = move |limit: i64| {
        list_expenses(
            ws,
            list.with_untracked(|l| l.filter.to_line()),
            String::new(),
            limit,
        )
    };
    let more = follow_list(list, ws, read);
    let more = show_more(more);
    // The filter is the page's: it does not change while the island lives.
    let empty = if list.with_untracked(|l| l.filter.narrowed()) {
        "No expenses match."
    } else {
        "No expenses in this period."
    };
    let list_error = refused(DeleteExpense::PATH).or_else(|| refused(DeleteExpenses::PATH));
    let bulk_form_id = format!("bulk-delete-expenses-{ws}");
    let row_form_id = StoredValue::new(bulk_form_id.clone());
    let here = StoredValue::new(here);
    // Followed only without JavaScript, where the page shows what the server rendered.
    let more_href = format!(
        "{}&expenses={}",
        here.get_value(),
        list.with_untracked(|l| l.items.len() as i64 + PAGE)
    );

    view! {
        <section class="panel" aria-labelledby="expenses-heading">
            <h2 id="expenses-heading">"Expenses"</h2>
            {slot(form)}
            <p class="totals" data-testid="expense-total">
                <span>"Total: "</span><strong>{move || list.with(|l| l.totals.display())}</strong>
                <span class="muted" data-testid="expense-count">{move || list.with(|l| format!(" · {}", shown_of(l.items.len(), l.count, "expense", "expenses")))}</span>
            </p>
            {super::charts::chart(move || list.with(|l| super::charts::category_totals(&l.by_category, "Totals by category")))}
            <FormError error=list_error id=EXPENSES_ERROR/>
            {can_write.then(|| view! {
                <PostForm action=DeleteExpenses::PATH id=bulk_form_id.clone() class="bulk-form" error_in=EXPENSES_ERROR>
                    <input type="hidden" name="workspace_id" value=ws/>
                    <button type="submit" class="danger small">"Delete selected"</button>
                </PostForm>
            })}
            {show(move || list.with(|l| !l.items.is_empty()), move || view! {
                <ul class="rows" data-testid="expense-list">
                    // Keyed by the whole row: an edited row is rendered anew, the others
                    // (and their ticked boxes) stay as they are.
                    <For each=move || list.with(|l| l.items.clone()) key=|e| e.clone() let:e>
                        <ExpenseRow e ws can_write here=here.get_value() bulk_form_id=row_form_id.get_value()/>
                    </For>
                </ul>
            }, move || view! { <p class="empty">{empty}</p> })}
            <a class="button more" href=more_href on:click=more data-testid="expense-more"
                hidden=move || list.with(|l| l.items.len() as i64 >= l.count)>"Show more"</a>
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
        <li class="row" data-testid="expense-row" data-id=e.id>
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
    list: RwSignal<EarningList>,
    /// The URL of the view shown.
    here: String,
    /// Its forms (`EarningForm`, `PlatformForm`), rendered by the server.
    form: ServerHtml,
) -> impl IntoView {
    let read = move |limit: i64| {
        list_earnings(
            ws,
            list.with_untracked(|l| l.filter.to_line()),
            String::new(),
            limit,
        )
    };
    let more = follow_list(list, ws, read);
    let more = show_more(more);
    let empty = if list.with_untracked(|l| l.filter.narrowed()) {
        "No earnings match."
    } else {
        "No earnings in this period."
    };
    let here = StoredValue::new(here);
    // Followed only without JavaScript, where the page shows what the server rendered.
    let more_href = format!(
        "{}&earnings={}",
        here.get_value(),
        list.with_untracked(|l| l.items.len() as i64 + PAGE)
    );
    #[cfg(feature = "hydrate")]
    follow_platforms(list);
    let delete_error = refused(DeleteEarning::PATH);

    view! {
        <section class="panel" aria-labelledby="earnings-heading">
            <h2 id="earnings-heading">"Earnings"</h2>
            {slot(form)}
            <p class="totals" data-testid="earning-total">
                <span>"Total: "</span><strong>{move || list.with(|l| l.totals.display())}</strong>
                <span class="muted" data-testid="earning-count">{move || list.with(|l| {
                    // The period's hourly rate, when one currency makes it meaningful.
                    let rate = match l.totals.0.as_slice() {
                        [(currency, minor)] => crate::earnings::hourly_rate(*minor, l.total_hours_centi)
                            .map(|r| format!(" ({}/h)", crate::money::format_display(r, currency))),
                        _ => None,
                    };
                    format!(" · {} h{} · {}", format_hours(l.total_hours_centi), rate.unwrap_or_default(), shown_of(l.items.len(), l.count, "entry", "entries"))
                })}</span>
            </p>
            // Per platform, drawn like the expenses' categories (the same chart).
            {super::charts::chart(move || list.with(|l| {
                let mut named = crate::money::KeyedTotals::default();
                for (id, currency, minor) in &l.by_platform.0 {
                    let name = l.platforms.iter().find(|p| p.id.to_string() == *id).map_or("", |p| p.name.as_str());
                    named.add(name, currency, *minor);
                }
                super::charts::category_totals(&named, "Totals by platform")
            }))}
            {super::charts::chart(move || list.with(|l| super::charts::earnings_chart(&l.by_month, &l.totals)))}
            <FormError error=delete_error id=EARNINGS_ERROR/>
            {show(move || list.with(|l| !l.items.is_empty()), move || view! {
                <ul class="rows" data-testid="earning-list">
                    <For each=move || list.with(|l| l.items.clone()) key=|e| e.clone() let:e>
                        <EarningRow e ws can_write here=here.get_value()/>
                    </For>
                </ul>
            }, move || view! { <p class="empty">{empty}</p> })}
            <a class="button more" href=more_href on:click=more data-testid="earning-more"
                hidden=move || list.with(|l| l.items.len() as i64 >= l.count)>"Show more"</a>
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
        <li class="row" data-testid="earning-row" data-id=e.id>
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
