//! `/w/:ws/goals`: the workspace's goals on a page of their own, following live.

use leptos::prelude::*;

use super::when::show;

use super::{
    common::{load_failed, workspace_param, Enhance, TopBar, Watched, WorkspaceGone},
    island_data,
    live_part::PartHtml,
    plan::{follow_panels, GoalForm, GoalsPanel},
    slot::{server_html, slot_at, ServerHtml},
};
use crate::{
    error::AppError, goals::GoalList, model::ids::WorkspaceId, workspaces::WorkspaceSummary,
};

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
                        let data = GoalsData::new(page.workspace, page.goals);
                        // The page's `main` and `h1` are rendered by the server only: in the
                        // island each element costs the WASM its hydration code.
                        view! {
                            <leptos_meta::Title text=title/>
                            <TopBar/>
                            <main class="content narrow-wide">
                                <h1>"Savings goals"</h1>
                                {island_data::give(data)}
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
    workspace: WorkspaceSummary,
    /// The stream position the panel shows.
    cursor: i64,
    /// The goals panel with its form, rendered by the server (`live_part`).
    panel: ServerHtml,
}
crate::json::json_struct!(GoalsData {
    workspace,
    cursor,
    panel
});

impl island_data::IslandData for GoalsData {
    const ID: &'static str = "goals-data";
}

impl GoalsData {
    fn new(workspace: WorkspaceSummary, goals: GoalList) -> Self {
        let (cursor, panel) = panel(&workspace, goals);
        GoalsData {
            workspace,
            cursor,
            panel,
        }
    }
}

/// Where the goals panel is.
const PANEL: &str = "goals-panel";

/// The goals panel of workspace `w` (its form for those who may write), rendered by the
/// server, and the stream position it shows.
fn panel(w: &WorkspaceSummary, goals: GoalList) -> (i64, ServerHtml) {
    let (ws, can_write, cursor) = (w.id, w.role.can_write(), goals.cursor);
    let form = server_html(|| can_write.then(|| view! { <GoalForm ws/> }));
    let html = server_html(move || view! { <GoalsPanel ws can_write list=goals form/> });
    (cursor, html)
}

/// The goals panel as the goals page renders it, for the island that follows it live
/// (`live_part`).
#[leptos::server(endpoint = "goals/panel", output = crate::wire::Json)]
pub async fn goals_panel(workspace_id: WorkspaceId) -> Result<PartHtml, AppError> {
    let page = crate::goals::load_goals_page(workspace_id).await?;
    let (cursor, html) = panel(&page.workspace, page.goals);
    Ok(PartHtml {
        cursor,
        html: html.into_string(),
    })
}

/// The goals page's body, an island. Like the dashboard it follows the workspace
/// itself: renamed, the header follows; deleted, or the user removed, it says so in
/// place. The panel is the server's HTML, read again when the workspace changes.
#[island]
fn GoalsView() -> impl IntoView {
    let GoalsData {
        workspace: w,
        cursor,
        panel,
    } = island_data::take();
    let (watched, achieved) = follow_panels(&w, PANEL, cursor, |ws, _| Box::pin(goals_panel(ws)));
    let Watched { name, lost, .. } = watched;
    view! {
        <div>
            {show(move || !lost.get(), move || view! {
                <p><a href=format!("/w/{}", w.id)>"← Back to " {move || name.get()}</a></p>
            }, move || view! { <WorkspaceGone watched/> })}
            // Hidden rather than removed when access ends: the panel is a slot, which
            // the browser may hydrate but never build anew.
            <div hidden=move || lost.get()>
                {achieved.view()}
                {slot_at(PANEL, panel)}
            </div>
        </div>
    }
}
