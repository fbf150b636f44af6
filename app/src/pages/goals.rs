//! `/w/:ws/goals`: the workspace's goals on a page of their own, following live.

use leptos::prelude::*;

use super::when::show;

use super::{
    common::{
        load_failed, watch_workspace, workspace_param, Enhance, TopBar, Watched, WorkspaceGone,
    },
    forms::{page_refusal, provide_refusal, Refusal},
    island_data,
    plan::{GoalForm, GoalsPanel},
    slot::{server_html, ServerHtml},
};
use crate::goals::GoalsPageData;

/// `/w/:ws/goals`: the workspace's goals on a page of their own, following live.
#[component]
pub fn GoalsPage() -> impl IntoView {
    let ws = workspace_param();
    let data = Resource::new(move || ws.get(), crate::goals::load_goals_page);
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(page) => {
                        provide_context(page.user.clone());
                        let title = format!("Goals · {} · LiveLedger", page.workspace.name);
                        let ws = page.workspace.id;
                        let form = server_html(|| {
                            page.workspace.role.can_write().then(|| view! { <GoalForm ws/> })
                        });
                        // The page's `main` and `h1` are rendered by the server only: in the
                        // island each element costs the WASM its hydration code.
                        view! {
                            <leptos_meta::Title text=title/>
                            <TopBar/>
                            <main class="content narrow-wide">
                                <h1>"Savings goals"</h1>
                                {island_data::give(GoalsData { page, refused: page_refusal(), form })}
                                <GoalsView/>
                                <Enhance/>
                            </main>
                        }
                        .into_any()
                    }
                    Err(e) => load_failed(e),
                }
            })}
        </Suspense>
    }
}

/// `GoalsView`'s data, which the page writes beside it (`island_data`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
struct GoalsData {
    page: GoalsPageData,
    /// The error of a form of this page posted without JavaScript, if one was refused.
    refused: Option<Refusal>,
    /// The goal form, rendered by the server (`slot`).
    form: ServerHtml,
}
crate::json::json_struct!(GoalsData {
    page,
    refused,
    form
});

impl island_data::IslandData for GoalsData {
    const ID: &'static str = "goals-data";
}

/// The goals page's body, an island. Like the dashboard it follows the workspace
/// itself: renamed, the header follows; deleted, or the user removed, it says so in
/// place.
#[island]
fn GoalsView() -> impl IntoView {
    let GoalsData {
        page,
        refused,
        form,
    } = island_data::take();
    provide_refusal(refused);
    let GoalsPageData {
        workspace: w,
        goals,
        ..
    } = page;
    let watched = watch_workspace(&w, goals.cursor);
    let Watched { name, lost, .. } = watched;
    let can_write = w.role.can_write();
    let goals = StoredValue::new(goals);
    view! {
        <div>
            {show(move || !lost.get(), move || view! {
                <p><a href=format!("/w/{}", w.id)>"← Back to " {move || name.get()}</a></p>
            }, move || view! { <WorkspaceGone watched/> })}
            // Hidden rather than removed when access ends: the panel's form is a slot,
            // which the browser may hydrate but never build anew.
            <div hidden=move || lost.get()>
                <GoalsPanel ws=w.id can_write initial=goals.get_value() form/>
            </div>
        </div>
    }
}
