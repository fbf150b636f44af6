//! Planning panels of the dashboard: budgets (monthly limits per category with
//! progress bars) and goals (targets with milestones). Rendered by the server, they
//! follow the workspace like the lists (`live_part`), so bars move as anyone spends or
//! saves.

use crate::model::ids::WorkspaceId;
use leptos::prelude::*;

use super::common::{
    category_options, currency_options, rows_or, watch_workspace, Field, FormError, SelectField,
    Watched,
};
use super::forms::{refused, PostForm};
use super::slot::{kept, ServerHtml};
use crate::{
    budgets::{BudgetList, BudgetState, DeleteBudget, SetBudget},
    goals::{Contribute, CreateGoal, DeleteGoal, GoalList},
    live::catalog::{BudgetInfo, GoalInfo},
    money::format_display,
};
use leptos::server_fn::ServerFn;

use crate::model::filter::month_label;

/// Where the budgets' and the goals' row forms say their errors.
const BUDGETS_ERROR: &str = "budgets-error";
const GOALS_ERROR: &str = "goals-error";

/// A bar for a share in percent (drawn up to 100 %, announced as it is).
#[component]
pub fn ProgressBar(
    percent: i64,
    #[prop(into)] class: String,
    #[prop(into)] label: String,
) -> impl IntoView {
    let width = format!("width:{}%", percent.clamp(0, 100));
    view! {
        <div class=format!("bar {class}") role="progressbar" aria-label=label
            aria-valuemin="0" aria-valuemax="100" aria-valuenow=percent.clamp(0, 100)>
            <span style=width></span>
        </div>
    }
}

/// A planning panel's form that adds a record: a title, the form's error, the
/// workspace, a grid of fields and one submit button. Rendered by the server into
/// its panel's slot.
#[component]
fn NewRecordForm<C: IntoView + 'static>(
    action: &'static str,
    testid: &'static str,
    title: &'static str,
    submit: &'static str,
    error: Option<crate::error::AppError>,
    ws: WorkspaceId,
    /// Its fields.
    children: TypedChildren<C>,
) -> impl IntoView {
    let fields = children.into_inner();
    view! {
        <PostForm action class="record-form" testid keep_typing=true>
            <h3>{title}</h3>
            <FormError error/>
            <input type="hidden" name="workspace_id" value=ws/>
            <div class="grid">{fields()}</div>
            <div class="form-actions">
                <button type="submit" class="primary">{submit}</button>
            </div>
        </PostForm>
    }
}

/// The form that sets a budget (`BudgetsPanel`'s slot).
#[component]
pub fn BudgetForm(ws: WorkspaceId) -> impl IntoView {
    let error = refused(SetBudget::PATH);
    view! {
        <NewRecordForm action=SetBudget::PATH testid="budget-form" title="Set a monthly budget" submit="Set budget" error=error.clone() ws>
            <SelectField form="budget" name="category" label="Category" error=error.clone() options=category_options() selected="Food"/>
            <SelectField form="budget" name="currency" label="Currency" error=error.clone() options=currency_options() selected="EUR"/>
            <Field form="budget" name="limit" label="Limit per month" error required=true inputmode="decimal"/>
        </NewRecordForm>
    }
}

/// The form that creates a goal (`GoalsPanel`'s slot).
#[component]
pub fn GoalForm(ws: WorkspaceId) -> impl IntoView {
    let error = refused(CreateGoal::PATH);
    view! {
        <NewRecordForm action=CreateGoal::PATH testid="goal-form" title="New goal" submit="Add goal" error=error.clone() ws>
            <Field form="goal" name="name" label="Goal name" error=error.clone() required=true maxlength=80/>
            <Field form="goal" name="target" label="Target" error=error.clone() required=true inputmode="decimal"/>
            <SelectField form="goal" name="currency" label="Currency" error=error.clone() options=currency_options() selected="EUR"/>
            <Field form="goal" name="milestones" label="Milestones (%)" error value="25, 50, 75, 100"/>
        </NewRecordForm>
    }
}

#[component]
pub fn BudgetsPanel(
    ws: WorkspaceId,
    can_write: bool,
    list: BudgetList,
    /// Its form (`BudgetForm`), rendered by the server.
    form: ServerHtml,
) -> impl IntoView {
    let delete_error = refused(DeleteBudget::PATH);
    let month = month_label(&list.month);
    let rows: Vec<_> = list
        .items
        .into_iter()
        .map(|b| view! { <BudgetRow b ws can_write/> })
        .collect();
    view! {
        <section class="panel" aria-labelledby="budgets-heading">
            <h2 id="budgets-heading">"Budgets · " {month}</h2>
            {kept("budget-form", form)}
            <FormError error=delete_error id=BUDGETS_ERROR/>
            {rows_or(rows, "rows budgets", "budget-list", "No budgets yet.")}
        </section>
    }
}

#[component]
fn BudgetRow(b: BudgetInfo, ws: WorkspaceId, can_write: bool) -> impl IntoView {
    let state = match b.state() {
        BudgetState::Ok => "ok",
        BudgetState::Warning => "warning",
        BudgetState::Exceeded => "exceeded",
    };
    let percent = b.percent();
    let label = format!("{} budget used", b.category);
    let delete_label = format!("Delete the {} budget", b.category);
    view! {
        <li class="budget" data-testid="budget-row" data-category=b.category.clone() data-state=state data-key=format!("b{}", b.id)>
            <div class="budget-head">
                <span class="category">{b.category.clone()}</span>
                <span class="amount" data-testid="budget-spent">
                    {format!("{} of {}", format_display(b.spent_minor, &b.currency), format_display(b.limit_minor, &b.currency))}
                </span>
                <span class="percent" data-testid="budget-percent">{format!("{percent} %")}</span>
                {can_write.then(|| view! {
                    <PostForm action=DeleteBudget::PATH class="inline" error_in=BUDGETS_ERROR>
                        <input type="hidden" name="workspace_id" value=ws/>
                        <input type="hidden" name="id" value=b.id/>
                        <button type="submit" class="danger small" aria-label=delete_label.clone()>"Delete"</button>
                    </PostForm>
                })}
            </div>
            <ProgressBar percent class=state label/>
        </li>
    }
}

#[component]
pub fn GoalsPanel(
    ws: WorkspaceId,
    can_write: bool,
    list: GoalList,
    /// On the dashboard: a link to the goals page (not on that page itself).
    #[prop(optional)]
    link_to_page: bool,
    /// Its form (`GoalForm`), rendered by the server.
    form: ServerHtml,
) -> impl IntoView {
    let list_error = refused(Contribute::PATH).or_else(|| refused(DeleteGoal::PATH));
    let rows: Vec<_> = list
        .items
        .into_iter()
        .map(|g| view! { <GoalRow g ws can_write/> })
        .collect();
    view! {
        <section class="panel" aria-labelledby="goals-heading">
            <h2 id="goals-heading">
                "Goals"
                {link_to_page.then(|| view! { " " <a class="small" href=format!("/w/{ws}/goals")>"Open the goals page"</a> })}
            </h2>
            {kept("goal-form", form)}
            <FormError error=list_error id=GOALS_ERROR/>
            {rows_or(rows, "rows goals", "goal-list", "No goals yet.")}
        </section>
    }
}

/// Keeps the panels of workspace `w` in slot `slot` (server HTML at stream position
/// `cursor`, read again with `load`, `live_part`) following the workspace, and watches
/// the workspace itself (`watch_workspace`): what the island shows around them, and the
/// goals achieved meanwhile to celebrate.
pub fn follow_panels(
    w: &crate::workspaces::WorkspaceSummary,
    slot: &'static str,
    cursor: i64,
    load: super::live_part::Load,
) -> (Watched, Achieved) {
    let watched = watch_workspace(w, cursor);
    let achieved = Achieved::new(slot);
    #[cfg(feature = "hydrate")]
    super::live_part::follow(super::live_part::Follow {
        ws: w.id,
        slot,
        cursor,
        load,
        lost: watched.lost,
        changed: move |slot: &web_sys::Element| achieved.scan(slot, true),
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = load;
    (watched, achieved)
}

/// Goals achieved while the page is open, by anyone, celebrated above the panels in
/// `slot`: after each change of the panels (`live_part`), a goal row newly marked
/// achieved is announced.
#[derive(Clone, Copy)]
pub struct Achieved {
    /// The goals (`data-key`) known achieved.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    known: StoredValue<Vec<String>>,
    celebrate: RwSignal<Option<String>>,
}

impl Achieved {
    pub fn new(slot: &'static str) -> Self {
        let achieved = Achieved {
            known: StoredValue::new(Vec::new()),
            celebrate: RwSignal::new(None),
        };
        // Those achieved before the page was opened are not celebrated.
        #[cfg(feature = "hydrate")]
        Effect::new(move |_| {
            if let Some(slot) = document().get_element_by_id(slot) {
                achieved.scan(&slot, false);
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = slot;
        achieved
    }

    /// Notes the goals achieved in `slot`; with `announce`, celebrates a new one.
    #[cfg(feature = "hydrate")]
    pub fn scan(&self, slot: &web_sys::Element, announce: bool) {
        let Ok(rows) = slot.query_selector_all("li.goal[data-achieved=\"true\"]") else {
            return;
        };
        for i in 0..rows.length() {
            use wasm_bindgen::JsCast;
            let Some(row) = rows
                .get(i)
                .and_then(|r| r.dyn_into::<web_sys::Element>().ok())
            else {
                continue;
            };
            let key = row.get_attribute("data-key").unwrap_or_default();
            if self.known.with_value(|k| k.contains(&key)) {
                continue;
            }
            self.known.update_value(|k| k.push(key));
            if announce {
                self.celebrate.set(row.get_attribute("data-name"));
            }
        }
    }

    pub fn view(self) -> impl IntoView {
        let celebrate = self.celebrate;
        move || {
            celebrate.get().map(|name| {
                view! {
                    <div class="celebration" role="status" data-testid="goal-celebration">
                        <span class="confetti" aria-hidden="true"></span>
                        <strong>"Goal achieved: " {name}</strong>
                        <button type="button" class="small" on:click=move |_| celebrate.set(None)>"Nice!"</button>
                    </div>
                }
            })
        }
    }
}

#[component]
fn GoalRow(g: GoalInfo, ws: WorkspaceId, can_write: bool) -> impl IntoView {
    let percent = g.percent();
    let class = if g.achieved { "achieved" } else { "ok" };
    let label = format!("{} saved", g.name);
    let delete_label = format!("Delete the goal {}", g.name);
    let amount_id = format!("goal-{}-amount", g.id);
    let amount_label = format!("Amount to add to {}", g.name);
    let id = g.id;
    view! {
        <li class="goal" data-testid="goal-row" data-name=g.name.clone() data-achieved=g.achieved.to_string() data-key=format!("g{}", g.id)>
            <div class="budget-head">
                <span class="category">{g.name.clone()}</span>
                <span class="amount" data-testid="goal-saved">
                    {format!("{} of {}", format_display(g.saved_minor, &g.currency), format_display(g.target_minor, &g.currency))}
                </span>
                <span class="percent" data-testid="goal-percent">{format!("{percent} %")}</span>
                {g.achieved.then(|| view! { <span class="badge achieved">"Achieved"</span> })}
            </div>
            <ProgressBar percent class label/>
            <ol class="milestones" aria-label="Milestones">
                {g.milestones.iter().map(|m| view! {
                    <li class:reached=m.reached data-testid="milestone" data-reached=m.reached.to_string()>
                        {format!("{} %", m.percent)}
                    </li>
                }).collect_view()}
            </ol>
            {can_write.then(|| view! {
                <div class="goal-actions">
                    <PostForm action=Contribute::PATH class="inline contribute-form" keep_typing=true error_in=GOALS_ERROR>
                        <input type="hidden" name="workspace_id" value=ws/>
                        <input type="hidden" name="id" value=id/>
                        <label for=amount_id.clone() class="visually-hidden">{amount_label.clone()}</label>
                        <input id=amount_id name="amount" inputmode="decimal" required placeholder="Amount" size="8"/>
                        <button type="submit" class="small">"Add money"</button>
                    </PostForm>
                    <PostForm action=DeleteGoal::PATH class="inline" error_in=GOALS_ERROR>
                        <input type="hidden" name="workspace_id" value=ws/>
                        <input type="hidden" name="id" value=id/>
                        <button type="submit" class="danger small" aria-label=delete_label.clone()>"Delete"</button>
                    </PostForm>
                </div>
            })}
        </li>
    }
}
