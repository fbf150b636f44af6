//! Planning panels of the dashboard: budgets (monthly limits per category with
//! progress bars) and goals (targets with milestones). Both follow the workspace
//! stream like the lists (`follow_list`), so bars move as anyone spends or saves.

use leptos::prelude::*;

use super::{
    action_error,
    dashboard::{currency_options, follow_list, reset_on_success},
    Field, FormError, SelectField,
};
use crate::{
    budgets::{list_budgets, BudgetList, BudgetState, DeleteBudget, SetBudget},
    expenses::CATEGORIES,
    live::catalog::BudgetInfo,
    money::format_display,
};

/// "2026-11" → "November 2026".
fn month_label(month: &str) -> String {
    const NAMES: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    match month.split_once('-') {
        Some((y, m)) => match m.parse::<usize>() {
            Ok(m @ 1..=12) => format!("{} {y}", NAMES[m - 1]),
            _ => month.to_owned(),
        },
        None => month.to_owned(),
    }
}

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

#[component]
pub fn BudgetsPanel(ws: i64, can_write: bool, initial: BudgetList) -> AnyView {
    let set = ServerAction::<SetBudget>::new();
    let delete = ServerAction::<DeleteBudget>::new();
    let list = RwSignal::new(initial);
    follow_list(list, ws, list_budgets, move || {
        set.version().get() + delete.version().get()
    });
    let set_error = action_error(set.value());
    let delete_error = action_error(delete.value());
    reset_on_success(set.value(), "form[data-testid=budget-form]");
    let categories: Vec<(String, String)> = CATEGORIES
        .iter()
        .map(|c| (c.to_string(), c.to_string()))
        .collect();
    view! {
        <section class="panel" aria-labelledby="budgets-heading">
            <h2 id="budgets-heading">"Budgets · " {move || list.with(|l| month_label(&l.month))}</h2>
            {can_write.then(|| view! {
                <ActionForm action=set attr:class="record-form" attr:data-testid="budget-form">
                    <h3>"Set a monthly budget"</h3>
                    <FormError error=set_error/>
                    <input type="hidden" name="workspace_id" value=ws/>
                    <div class="grid">
                        <SelectField form="budget" name="category" label="Category" error=set_error options=categories selected="Food"/>
                        <SelectField form="budget" name="currency" label="Currency" error=set_error options=currency_options() selected="EUR"/>
                        <Field form="budget" name="limit" label="Limit per month" error=set_error required=true inputmode="decimal"/>
                    </div>
                    <div class="form-actions">
                        <button type="submit" class="primary">"Set budget"</button>
                    </div>
                </ActionForm>
            })}
            <FormError error=delete_error/>
            <Show
                when=move || list.with(|l| !l.items.is_empty())
                fallback=|| view! { <p class="empty">"No budgets yet."</p> }
            >
                <ul class="rows budgets" data-testid="budget-list">
                    <For each=move || list.with(|l| l.items.clone()) key=|b| b.clone() let:b>
                        <BudgetRow b ws can_write delete/>
                    </For>
                </ul>
            </Show>
        </section>
    }
    .into_any()
}

#[component]
fn BudgetRow(
    b: BudgetInfo,
    ws: i64,
    can_write: bool,
    delete: ServerAction<DeleteBudget>,
) -> AnyView {
    let state = match b.state() {
        BudgetState::Ok => "ok",
        BudgetState::Warning => "warning",
        BudgetState::Exceeded => "exceeded",
    };
    let percent = b.percent();
    let label = format!("{} budget used", b.category);
    let delete_label = format!("Delete the {} budget", b.category);
    view! {
        <li class="budget" data-testid="budget-row" data-category=b.category.clone() data-state=state>
            <div class="budget-head">
                <span class="category">{b.category.clone()}</span>
                <span class="amount" data-testid="budget-spent">
                    {format!("{} of {}", format_display(b.spent_minor, &b.currency), format_display(b.limit_minor, &b.currency))}
                </span>
                <span class="percent" data-testid="budget-percent">{format!("{percent} %")}</span>
                {can_write.then(|| view! {
                    <ActionForm action=delete attr:class="inline">
                        <input type="hidden" name="workspace_id" value=ws/>
                        <input type="hidden" name="id" value=b.id/>
                        <button type="submit" class="danger small" aria-label=delete_label.clone()>"Delete"</button>
                    </ActionForm>
                })}
            </div>
            <ProgressBar percent class=state label/>
        </li>
    }
    .into_any()
}
