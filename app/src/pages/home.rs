//! `/` and the page for an unknown address.

use leptos::prelude::*;
use leptos_router::components::Redirect;

use crate::workspaces::list_workspaces;

/// `/`: the user's personal workspace, or the login page.
#[component]
pub fn Home() -> impl IntoView {
    let workspaces = Resource::new(|| (), |_| list_workspaces());
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match workspaces.await {
                    Ok(list) => match list.first() {
                        Some(ws) => view! { <Redirect path=format!("/w/{}", ws.id)/> }.into_any(),
                        None => view! { <p>"You have no workspace."</p> }.into_any(),
                    },
                    Err(_) => view! { <Redirect path="/login"/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <main class="narrow">
            <h1>"Page not found"</h1>
            <p><a href="/">"Back to your workspace"</a></p>
        </main>
    }
}
