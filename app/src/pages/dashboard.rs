//! The workspace dashboard: switcher, expenses and earnings with their forms and totals.
//!
//! One request (`load_dashboard`) and one `Suspense` render the whole page on the
//! server. Only the open workspace (`WorkspaceView`) is an island: the browser hydrates
//! it from the same data, serialised into the page as its props, and each list then
//! lives in a signal that follows its workspace stream (`follow_list`): events are
//! applied in place, and the list reloads only when it cannot apply one exactly. The
//! switcher and its two forms stay plain HTML.

use crate::model::ids::WorkspaceId;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use super::common::{
    action_error, currency_options, follow_list, load_failed, reset_on_success, watch_workspace,
    workspace_param, Field, FormError, SelectField, TopBar, Watched, WorkspaceGone,
};
use crate::{
    auth::SessionUser,
    budgets::BudgetList,
    dates::today_iso,
    earnings::{
        format_hours, list_earnings, CreateEarning, CreatePlatform, DeleteEarning, Earning,
        EarningList, UpdateEarning,
    },
    error::AppError,
    expenses::{
        list_expenses, CreateExpense, DeleteExpense, DeleteExpenses, Expense, ExpenseList,
        UpdateExpense, CATEGORIES,
    },
    money::format_plain,
    workspaces::{CreateWorkspace, JoinWorkspace, Role, WorkspaceKind, WorkspaceSummary},
};

/// Everything the dashboard shows, read for one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardData {
    pub user: SessionUser,
    pub workspaces: Vec<WorkspaceSummary>,
    /// The workspace in the URL with its lists; `None` when the caller is not a member
    /// (or it does not exist: the two are not told apart).
    pub open: Option<OpenWorkspace>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenWorkspace {
    pub workspace: WorkspaceSummary,
    pub expenses: ExpenseList,
    pub earnings: EarningList,
    pub budgets: BudgetList,
    pub goals: crate::goals::GoalList,
}

#[leptos::server(endpoint = "dashboard")]
pub async fn load_dashboard(workspace_id: WorkspaceId) -> Result<DashboardData, AppError> {
    let (state, user) = crate::server::authz::signed_in().await?;
    let workspaces = crate::workspaces::ssr::list_workspaces(&state, user.id).await?;
    // Listed means a member, and every member may read: no further checks.
    let open = match workspaces.iter().find(|w| w.id == workspace_id) {
        Some(w) => Some(OpenWorkspace {
            workspace: w.clone(),
            expenses: crate::expenses::ssr::list(&state, workspace_id).await?,
            earnings: crate::earnings::ssr::list(&state, workspace_id).await?,
            budgets: crate::budgets::ssr::list(&state, workspace_id).await?,
            goals: crate::goals::ssr::list(&state, workspace_id).await?,
        }),
        None => None,
    };
    Ok(DashboardData {
        user,
        workspaces,
        open,
    })
}

/// Rendered on the server only: the switcher and the forms around the workspace are
/// plain HTML; the workspace itself (`WorkspaceView`) is the island that hydrates.
#[component]
pub fn DashboardPage() -> impl IntoView {
    let ws = workspace_param();
    let create_ws = ServerAction::<CreateWorkspace>::new();
    let join = ServerAction::<JoinWorkspace>::new();
    let data = Resource::new(move || ws.get(), load_dashboard);
    // The row being edited (`?edit_expense=<id>`, `?edit_earning=<id>`), if any.
    let query = use_query_map();
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
                        view! {
                            <TopBar/>
                            <div class="layout">
                                <WorkspaceNav list=data.workspaces current create_ws join/>
                                {match data.open {
                                    Some(open) => view! {
                                        <Title text=format!("{} · LiveLedger", open.workspace.name)/>
                                        <WorkspaceView open edit_expense=edit("edit_expense") edit_earning=edit("edit_earning")/>
                                    }.into_any(),
                                    None => view! {
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
                    <FormError error=create_error/>
                    <Field form="new-ws" name="name" label="Name" error=create_error required=true maxlength=80/>
                    <button type="submit">"Create"</button>
                </ActionForm>
            </details>
            <details>
                <summary>"Join with an invite code"</summary>
                <ActionForm action=join>
                    <FormError error=join_error/>
                    <Field form="join" name="code" label="Invite code" error=join_error required=true maxlength=64/>
                    <button type="submit">"Join"</button>
                </ActionForm>
            </details>
        </nav>
    }
}

/// The open workspace: its lists follow it live, and its forms write without a reload.
/// An island: hydrated in the browser from these props (the server serialises them
/// into the page), the only part of the dashboard the WASM client knows.
#[island]
fn WorkspaceView(
    open: OpenWorkspace,
    edit_expense: Option<i64>,
    edit_earning: Option<i64>,
) -> impl IntoView {
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
    let panels = StoredValue::new((expenses, earnings, budgets, goals));
    view! {
        <main class="content">
            <Show
                when=move || !lost.get()
                fallback=move || view! { <WorkspaceGone watched/> }
            >
                <div class="ws-header">
                    <h1 data-testid="workspace-name">{move || name.get()}</h1>
                    {(ws.kind == WorkspaceKind::Team).then(|| view! { <a class="button" href=format!("/w/{}/team", ws.id)>"Team"</a> })}
                </div>
                {(ws.role == Role::Viewer).then(|| view! {
                    <p class="notice" role="status">"You are a viewer in this workspace: you can see everything but change nothing."</p>
                })}
                <div class="panels">
                    <ExpensesPanel ws=ws.id can_write initial=panels.with_value(|p| p.0.clone()) editing=edit_expense/>
                    <EarningsPanel ws=ws.id can_write initial=panels.with_value(|p| p.1.clone()) editing=edit_earning/>
                    <super::plan::BudgetsPanel ws=ws.id can_write initial=panels.with_value(|p| p.2.clone())/>
                    <super::plan::GoalsPanel ws=ws.id can_write initial=panels.with_value(|p| p.3.clone()) link_to_page=true/>
                    {can_write.then(|| view! { <super::import::ImportPanel ws=ws.id/> })}
                </div>
                <crate::live::client::EventLog/>
            </Show>
        </main>
    }
    .into_any()
}

fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[component]
fn ExpensesPanel(
    ws: WorkspaceId,
    can_write: bool,
    initial: ExpenseList,
    /// The row being edited (from the URL), if any.
    editing: Option<i64>,
) -> AnyView {
    let create = ServerAction::<CreateExpense>::new();
    let update = ServerAction::<UpdateExpense>::new();
    let delete = ServerAction::<DeleteExpense>::new();
    let bulk = ServerAction::<DeleteExpenses>::new();
    let list = RwSignal::new(initial);
    follow_list(list, ws, list_expenses, move || {
        create.version().get()
            + update.version().get()
            + delete.version().get()
            + bulk.version().get()
    });
    // The row being edited comes from the list itself, so it is as current as the list.
    let target = Memo::new(move |_| {
        let id = editing?;
        list.with(|l| l.items.iter().find(|e| e.id == id).cloned())
    });
    let list_error = Signal::derive(move || {
        action_error(delete.value())
            .get()
            .or_else(|| action_error(bulk.value()).get())
    });
    let bulk_form_id = format!("bulk-delete-expenses-{ws}");
    let row_form_id = StoredValue::new(bulk_form_id.clone());

    view! {
        <section class="panel" aria-labelledby="expenses-heading">
            <h2 id="expenses-heading">"Expenses"</h2>
            {move || can_write.then(|| view! { <ExpenseForm ws target=target.get() create update/> })}
            <p class="totals" data-testid="expense-total">
                <span>"Total: "</span><strong>{move || list.with(|l| l.totals.display())}</strong>
                <span class="muted">{move || list.with(|l| format!(" · {}", plural(l.count, "expense", "expenses")))}</span>
            </p>
            {move || list.with(|l| view! { <super::charts::CategoryTotals by_category=l.by_category.clone()/> })}
            <FormError error=list_error/>
            {can_write.then(|| view! {
                <ActionForm action=bulk attr:id=bulk_form_id.clone() attr:class="bulk-form">
                    <input type="hidden" name="workspace_id" value=ws/>
                    <button type="submit" class="danger small">"Delete selected"</button>
                </ActionForm>
            })}
            <Show
                when=move || list.with(|l| !l.items.is_empty())
                fallback=|| view! { <p class="empty">"No expenses yet."</p> }
            >
                <ul class="rows" data-testid="expense-list">
                    // Keyed by the whole row: an edited row is rendered anew, the others
                    // (and their ticked boxes) stay as they are.
                    <For each=move || list.with(|l| l.items.clone()) key=|e| e.clone() let:e>
                        <ExpenseRow e ws can_write bulk_form_id=row_form_id.get_value() delete/>
                    </For>
                </ul>
            </Show>
        </section>
    }
    .into_any()
}

#[component]
fn ExpenseRow(
    e: Expense,
    ws: WorkspaceId,
    can_write: bool,
    bulk_form_id: String,
    delete: ServerAction<DeleteExpense>,
) -> AnyView {
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
                    <a href=format!("/w/{ws}?edit_expense={}", e.id) class="small">"Edit"</a>
                    <ActionForm action=delete attr:class="inline">
                        <input type="hidden" name="workspace_id" value=ws/>
                        <input type="hidden" name="id" value=e.id/>
                        <button type="submit" class="danger small" aria-label=format!("Delete {}", e.description)>"Delete"</button>
                    </ActionForm>
                </span>
            })}
        </li>
    }
    .into_any()
}

/// One form for adding and for editing (`target`), so both behave the same.
#[component]
fn ExpenseForm(
    ws: WorkspaceId,
    target: Option<Expense>,
    create: ServerAction<CreateExpense>,
    update: ServerAction<UpdateExpense>,
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
            today_iso(),
        ),
    };
    let error = if editing {
        action_error(update.value())
    } else {
        action_error(create.value())
    };
    let categories: Vec<(String, String)> = CATEGORIES
        .iter()
        .map(|c| (c.to_string(), c.to_string()))
        .collect();
    let fields = view! {
        <FormError error/>
        <input type="hidden" name="workspace_id" value=ws/>
        <div class="grid">
            <Field form="expense" name="amount" label="Amount" error value=amount required=true inputmode="decimal"/>
            <SelectField form="expense" name="currency" label="Currency" error options=currency_options() selected=currency/>
            <SelectField form="expense" name="category" label="Category" error options=categories selected=category/>
            <Field form="expense" name="date" label="Date" kind="date" error value=date required=true/>
        </div>
        <Field form="expense" name="description" label="Description" error value=description maxlength=200/>
    };
    if editing {
        view! {
            <ActionForm action=update attr:class="record-form" attr:data-testid="expense-form">
                <h3>"Edit expense"</h3>
                <input type="hidden" name="id" value=id/>
                {fields}
                <div class="form-actions">
                    <button type="submit" class="primary">"Save expense"</button>
                    <a href=format!("/w/{ws}")>"Cancel"</a>
                </div>
            </ActionForm>
        }
        .into_any()
    } else {
        reset_on_success(create.value(), "form[data-testid=expense-form]");
        view! {
            <ActionForm action=create attr:class="record-form" attr:data-testid="expense-form">
                <h3>"Add an expense"</h3>
                {fields}
                <div class="form-actions">
                    <button type="submit" class="primary">"Add expense"</button>
                </div>
            </ActionForm>
        }
        .into_any()
    }
}

#[component]
fn EarningsPanel(
    ws: WorkspaceId,
    can_write: bool,
    initial: EarningList,
    /// The row being edited (from the URL), if any.
    editing: Option<i64>,
) -> AnyView {
    let create = ServerAction::<CreateEarning>::new();
    let update = ServerAction::<UpdateEarning>::new();
    let delete = ServerAction::<DeleteEarning>::new();
    let add_platform = ServerAction::<CreatePlatform>::new();
    let list = RwSignal::new(initial);
    follow_list(list, ws, list_earnings, move || {
        create.version().get()
            + update.version().get()
            + delete.version().get()
            + add_platform.version().get()
    });
    let target = Memo::new(move |_| {
        let id = editing?;
        list.with(|l| l.items.iter().find(|e| e.id == id).cloned())
    });
    let platforms = Memo::new(move |_| list.with(|l| l.platforms.clone()));
    let delete_error = action_error(delete.value());

    view! {
        <section class="panel" aria-labelledby="earnings-heading">
            <h2 id="earnings-heading">"Earnings"</h2>
            {move || can_write.then(|| view! {
                <EarningForm ws target=target.get() platforms=platforms.get() create update/>
            })}
            {can_write.then(|| view! { <PlatformForm ws add_platform/> })}
            <p class="totals" data-testid="earning-total">
                <span>"Total: "</span><strong>{move || list.with(|l| l.totals.display())}</strong>
                <span class="muted">{move || list.with(|l| format!(" · {} h · {}", format_hours(l.total_hours_centi), plural(l.count, "entry", "entries")))}</span>
            </p>
            {move || list.with(|l| view! { <super::charts::EarningsChart by_month=l.by_month.clone() totals=l.totals.clone()/> })}
            <FormError error=delete_error/>
            <Show
                when=move || list.with(|l| !l.items.is_empty())
                fallback=|| view! { <p class="empty">"No earnings yet."</p> }
            >
                <ul class="rows" data-testid="earning-list">
                    <For each=move || list.with(|l| l.items.clone()) key=|e| e.clone() let:e>
                        <EarningRow e ws can_write delete/>
                    </For>
                </ul>
            </Show>
        </section>
    }
    .into_any()
}

#[component]
fn EarningRow(
    e: Earning,
    ws: WorkspaceId,
    can_write: bool,
    delete: ServerAction<DeleteEarning>,
) -> AnyView {
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
                    <a href=format!("/w/{ws}?edit_earning={}", e.id) class="small">"Edit"</a>
                    <ActionForm action=delete attr:class="inline">
                        <input type="hidden" name="workspace_id" value=ws/>
                        <input type="hidden" name="id" value=e.id/>
                        <button type="submit" class="danger small" aria-label=format!("Delete earning from {}", e.platform_name)>"Delete"</button>
                    </ActionForm>
                </span>
            })}
        </li>
    }
    .into_any()
}

#[component]
fn EarningForm(
    ws: WorkspaceId,
    target: Option<Earning>,
    platforms: Vec<crate::earnings::Platform>,
    create: ServerAction<CreateEarning>,
    update: ServerAction<UpdateEarning>,
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
            today_iso(),
            String::new(),
            String::new(),
            "EUR".to_owned(),
            String::new(),
        ),
    };
    let error = if editing {
        action_error(update.value())
    } else {
        action_error(create.value())
    };
    let platform_options: Vec<(String, String)> = platforms
        .iter()
        .map(|p| (p.id.to_string(), p.name.clone()))
        .collect();
    let fields = view! {
        <FormError error/>
        <input type="hidden" name="workspace_id" value=ws/>
        <div class="grid">
            <SelectField form="earning" name="platform_id" label="Platform" error options=platform_options selected=platform/>
            <Field form="earning" name="date" label="Date" kind="date" error value=date required=true/>
            <Field form="earning" name="hours" label="Hours" error value=hours inputmode="decimal"/>
            <Field form="earning" name="amount" label="Amount" error value=amount required=true inputmode="decimal"/>
            <SelectField form="earning" name="currency" label="Currency" error options=currency_options() selected=currency/>
        </div>
        <Field form="earning" name="notes" label="Notes" error value=notes maxlength=500/>
    };
    if editing {
        view! {
            <ActionForm action=update attr:class="record-form" attr:data-testid="earning-form">
                <h3>"Edit earning"</h3>
                <input type="hidden" name="id" value=id/>
                {fields}
                <div class="form-actions">
                    <button type="submit" class="primary">"Save earning"</button>
                    <a href=format!("/w/{ws}")>"Cancel"</a>
                </div>
            </ActionForm>
        }
        .into_any()
    } else {
        reset_on_success(create.value(), "form[data-testid=earning-form]");
        view! {
            <ActionForm action=create attr:class="record-form" attr:data-testid="earning-form">
                <h3>"Add an earning"</h3>
                {fields}
                <div class="form-actions">
                    <button type="submit" class="primary">"Add earning"</button>
                </div>
            </ActionForm>
        }
        .into_any()
    }
}

#[component]
fn PlatformForm(ws: WorkspaceId, add_platform: ServerAction<CreatePlatform>) -> impl IntoView {
    let error = action_error(add_platform.value());
    reset_on_success(add_platform.value(), ".platform-form form");
    view! {
        <details class="platform-form">
            <summary>"Add a platform"</summary>
            <ActionForm action=add_platform>
                <FormError error/>
                <input type="hidden" name="workspace_id" value=ws/>
                <div class="grid">
                    <Field form="platform" name="name" label="Platform name" error required=true maxlength=40/>
                    <Field form="platform" name="color" label="Colour" kind="color" error value="#0ea5e9"/>
                </div>
                <button type="submit">"Add platform"</button>
            </ActionForm>
        </details>
    }
}
