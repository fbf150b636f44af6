//! The workspace dashboard: switcher, expenses and earnings with their forms and totals.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{action_error, workspace_param, Field, FormError, RequireUser, SelectField, TopBar};
use crate::{
    dates::today_iso,
    earnings::{
        format_hours, get_earning, list_earnings, CreateEarning, CreatePlatform, DeleteEarning,
        Earning, UpdateEarning,
    },
    expenses::{
        get_expense, list_expenses, CreateExpense, DeleteExpense, DeleteExpenses, Expense,
        UpdateExpense, CATEGORIES,
    },
    live::{
        client::{use_live, LiveConnection},
        Stream,
    },
    money::{format_plain, CURRENCIES},
    workspaces::{list_workspaces, CreateWorkspace, JoinWorkspace, Role, WorkspaceSummary},
};

#[component]
pub fn DashboardPage() -> impl IntoView {
    view! {
        <RequireUser>
            <TopBar/>
            <Dashboard/>
        </RequireUser>
    }
}

#[component]
fn Dashboard() -> impl IntoView {
    let ws = workspace_param();
    let create_ws = ServerAction::<CreateWorkspace>::new();
    let join = ServerAction::<JoinWorkspace>::new();
    let workspaces = Resource::new(
        move || (create_ws.version().get(), join.version().get()),
        |_| list_workspaces(),
    );
    view! {
        <div class="layout">
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let list = workspaces.await.unwrap_or_default();
                    let id = ws.get();
                    let current = list.iter().find(|w| w.id == id).cloned();
                    view! {
                        <WorkspaceNav list current=id create_ws join/>
                        {match current {
                            Some(w) => view! { <WorkspaceView ws=w/> }.into_any(),
                            None => view! {
                                <main class="content">
                                    <h1>"Workspace not found"</h1>
                                    <p>"It does not exist or you are not a member. " <a href="/">"Go to your workspace"</a></p>
                                </main>
                            }.into_any(),
                        }}
                    }
                })}
            </Transition>
        </div>
    }
}

/// The workspace switcher: plain links, so it works before the WASM has loaded.
#[component]
fn WorkspaceNav(
    list: Vec<WorkspaceSummary>,
    current: i64,
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
                        let is_current = w.id == current;
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

#[component]
fn WorkspaceView(ws: WorkspaceSummary) -> impl IntoView {
    let can_write = ws.role.can_write();
    let title = format!("{} · LiveLedger", ws.name);
    view! {
        <Title text=title/>
        <main class="content">
            <div class="ws-header">
                <h1 data-testid="workspace-name">{ws.name.clone()}</h1>
                {(ws.kind == "team").then(|| view! { <a class="button" href=format!("/w/{}/team", ws.id)>"Team"</a> })}
            </div>
            {(ws.role == Role::Viewer).then(|| view! {
                <p class="notice" role="status">"You are a viewer in this workspace: you can see everything but change nothing."</p>
            })}
            <div class="panels">
                <ExpensesPanel ws=ws.id can_write/>
                <EarningsPanel ws=ws.id can_write/>
            </div>
        </main>
    }
}

fn currency_options() -> Vec<(String, String)> {
    CURRENCIES
        .iter()
        .map(|(c, _)| (c.to_string(), c.to_string()))
        .collect()
}

fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// What a list is keyed on so that it reloads when its workspace stream moves.
fn live_version(live: Option<LiveConnection>, ws: i64) -> Signal<(i64, u32)> {
    match live {
        Some(live) => live.version(Stream::Workspace(ws)),
        None => Signal::derive(|| (0, 0)),
    }
}

/// Once a list has loaded, follows its stream from the cursor the list came with.
fn follow_when_loaded(
    live: Option<LiveConnection>,
    ws: i64,
    cursor: impl Fn() -> Option<i64> + 'static,
) {
    if let Some(live) = live {
        Effect::new(move |_| {
            if let Some(cursor) = cursor() {
                live.follow(Stream::Workspace(ws), cursor);
            }
        });
    }
}

/// Clears the form matching the CSS `selector` (back to its initial values) each time
/// `action` succeeds; after an error the form keeps what the user typed. (Found by
/// selector: an `ActionForm` given a `node_ref` or an `attr:id` fails to hydrate in
/// leptos 0.8.23.)
fn reset_on_success<T, V>(value: V, selector: &'static str)
where
    T: 'static,
    V: With<Value = Option<Result<T, crate::error::AppError>>> + Send + Sync + 'static,
{
    Effect::new(move |_| {
        if value.with(|v| matches!(v, Some(Ok(_)))) {
            #[cfg(feature = "hydrate")]
            {
                use wasm_bindgen::JsCast;
                if let Some(form) = document()
                    .query_selector(selector)
                    .ok()
                    .flatten()
                    .and_then(|e| e.dyn_into::<web_sys::HtmlFormElement>().ok())
                {
                    form.reset();
                }
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = selector;
        }
    });
}

#[component]
fn ExpensesPanel(ws: i64, can_write: bool) -> impl IntoView {
    let create = ServerAction::<CreateExpense>::new();
    let update = ServerAction::<UpdateExpense>::new();
    let delete = ServerAction::<DeleteExpense>::new();
    let bulk = ServerAction::<DeleteExpenses>::new();
    let query = use_query_map();
    let editing = Memo::new(move |_| {
        query
            .read()
            .get("edit_expense")
            .and_then(|s| s.parse::<i64>().ok())
    });
    let live = use_live();
    let live_version = live_version(live, ws);
    let list = Resource::new(
        move || {
            (
                create.version().get(),
                update.version().get(),
                delete.version().get(),
                bulk.version().get(),
                live_version.get(),
            )
        },
        move |_| list_expenses(ws),
    );
    follow_when_loaded(live, ws, move || {
        list.get().and_then(|l| l.ok()).map(|l| l.cursor)
    });
    let edit_target = Resource::new(
        move || editing.get(),
        move |id| async move {
            match id {
                Some(id) => get_expense(ws, id).await.map(Some),
                None => Ok(None),
            }
        },
    );
    let list_error = Signal::derive(move || {
        action_error(delete.value())
            .get()
            .or_else(|| action_error(bulk.value()).get())
    });
    let bulk_form_id = format!("bulk-delete-expenses-{ws}");

    view! {
        <section class="panel" aria-labelledby="expenses-heading">
            <h2 id="expenses-heading">"Expenses"</h2>
            // The Transition is always there (an optional Transition breaks hydration).
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let target = edit_target.await.ok().flatten();
                    can_write.then(|| view! { <ExpenseForm ws target create update/> })
                })}
            </Transition>
            <Transition fallback=|| view! { <p class="loading">"Loading expenses…"</p> }>
                {
                    let bulk_form_id = bulk_form_id.clone();
                    move || {
                        let bulk_form_id = bulk_form_id.clone();
                        Suspend::new(async move {
                            match list.await {
                                Ok(list) => view! {
                                    <p class="totals" data-testid="expense-total">
                                        <span>"Total: "</span><strong>{list.totals.display()}</strong>
                                        <span class="muted">{format!(" · {}", plural(list.count, "expense", "expenses"))}</span>
                                    </p>
                                    <FormError error=list_error/>
                                    {can_write.then(|| view! {
                                        <ActionForm action=bulk attr:id=bulk_form_id.clone() attr:class="bulk-form">
                                            <input type="hidden" name="workspace_id" value=ws/>
                                            <button type="submit" class="danger small">"Delete selected"</button>
                                        </ActionForm>
                                    })}
                                    <ExpenseRows items=list.items ws can_write bulk_form_id delete/>
                                }.into_any(),
                                Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                            }
                        })
                    }
                }
            </Transition>
        </section>
    }
}

#[component]
fn ExpenseRows(
    items: Vec<Expense>,
    ws: i64,
    can_write: bool,
    bulk_form_id: String,
    delete: ServerAction<DeleteExpense>,
) -> impl IntoView {
    if items.is_empty() {
        return view! { <p class="empty">"No expenses yet."</p> }.into_any();
    }
    view! {
        <ul class="rows" data-testid="expense-list">
            {items
                .into_iter()
                .enumerate()
                .map(|(i, e)| {
                    let label = format!("Select {} of {}", e.description, e.amount_display());
                    let bulk_form_id = bulk_form_id.clone();
                    view! {
                        <li class="row" data-testid="expense-row" data-id=e.id>
                            {can_write.then(|| view! {
                                <input type="checkbox" class="select" form=bulk_form_id name=format!("ids[{i}]") value=e.id aria-label=label/>
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
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

/// One form for adding and for editing (`target`), so both behave the same.
#[component]
fn ExpenseForm(
    ws: i64,
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
fn EarningsPanel(ws: i64, can_write: bool) -> impl IntoView {
    let create = ServerAction::<CreateEarning>::new();
    let update = ServerAction::<UpdateEarning>::new();
    let delete = ServerAction::<DeleteEarning>::new();
    let add_platform = ServerAction::<CreatePlatform>::new();
    let query = use_query_map();
    let editing = Memo::new(move |_| {
        query
            .read()
            .get("edit_earning")
            .and_then(|s| s.parse::<i64>().ok())
    });
    let live = use_live();
    let live_version = live_version(live, ws);
    let list = Resource::new(
        move || {
            (
                create.version().get(),
                update.version().get(),
                delete.version().get(),
                add_platform.version().get(),
                live_version.get(),
            )
        },
        move |_| list_earnings(ws),
    );
    follow_when_loaded(live, ws, move || {
        list.get().and_then(|l| l.ok()).map(|l| l.cursor)
    });
    let edit_target = Resource::new(
        move || editing.get(),
        move |id| async move {
            match id {
                Some(id) => get_earning(ws, id).await.map(Some),
                None => Ok(None),
            }
        },
    );
    let delete_error = action_error(delete.value());

    view! {
        <section class="panel" aria-labelledby="earnings-heading">
            <h2 id="earnings-heading">"Earnings"</h2>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let target = edit_target.await.ok().flatten();
                    let platforms = list.await.map(|l| l.platforms).unwrap_or_default();
                    can_write.then(|| view! {
                        <EarningForm ws target platforms create update/>
                        <PlatformForm ws add_platform/>
                    })
                })}
            </Transition>
            <Transition fallback=|| view! { <p class="loading">"Loading earnings…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(list) => view! {
                            <p class="totals" data-testid="earning-total">
                                <span>"Total: "</span><strong>{list.totals.display()}</strong>
                                <span class="muted">{format!(" · {} h · {}", format_hours(list.total_hours_centi), plural(list.count, "entry", "entries"))}</span>
                            </p>
                            <FormError error=delete_error/>
                            <EarningRows items=list.items ws can_write delete/>
                        }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn EarningRows(
    items: Vec<Earning>,
    ws: i64,
    can_write: bool,
    delete: ServerAction<DeleteEarning>,
) -> impl IntoView {
    if items.is_empty() {
        return view! { <p class="empty">"No earnings yet."</p> }.into_any();
    }
    view! {
        <ul class="rows" data-testid="earning-list">
            {items
                .into_iter()
                .map(|e| {
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
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
fn EarningForm(
    ws: i64,
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
fn PlatformForm(ws: i64, add_platform: ServerAction<CreatePlatform>) -> impl IntoView {
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
