//! What the pages share: form fields and errors, the top bar, the `:ws` parameter, and
//! the client side of following a workspace's own events (`watch_workspace`; its
//! panels follow through `live_part`).
//! No page imports another page; they all import this.

use leptos::{either::Either, prelude::*};
use leptos_router::{components::Redirect, hooks::use_params_map};

use crate::{
    auth::{current_user, Logout, SessionUser},
    error::AppError,
    expenses::CATEGORIES,
    live::{
        client::{use_live, Delivery},
        Event, Stream,
    },
    model::ids::WorkspaceId,
    money::CURRENCIES,
    workspaces::WorkspaceSummary,
};

/// A page whose one request failed: a visitor without a session goes to the login page
/// (a real 302 under `SsrMode::Async`), anyone else reads why.
pub fn load_failed(error: AppError) -> AnyView {
    match error {
        AppError::Unauthorized => view! { <Redirect path="/login"/> }.into_any(),
        e => view! {
            <main class="narrow"><p class="form-error" role="alert">{e.to_string()}</p></main>
        }
        .into_any(),
    }
}

/// The `:ws` route parameter; `WorkspaceId(0)`, which no workspace has (the server
/// answers "not found"), when it is not an id.
pub fn workspace_param() -> Signal<WorkspaceId> {
    let params = use_params_map();
    Signal::derive(move || {
        params
            .read()
            .get("ws")
            .and_then(|s| s.parse().ok())
            .unwrap_or(WorkspaceId(0))
    })
}

/// Renders its children for a logged-in user, sends everyone else to the login page.
#[component]
pub fn RequireUser(children: ChildrenFn) -> impl IntoView {
    let user = Resource::new(|| (), |_| current_user());
    let children = StoredValue::new(children);
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(user)) => {
                        provide_context(user);
                        children.read_value()().into_any()
                    }
                    _ => view! { <Redirect path="/login"/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The top bar: product name, the user, log out.
#[component]
pub fn TopBar() -> impl IntoView {
    let user = use_context::<SessionUser>();
    let logout = ServerAction::<Logout>::new();
    view! {
        <header class="topbar">
            <a class="brand" href="/">"LiveLedger"</a>
            <div class="topbar-user">
                // Only where something is followed: a signed-in user's notifications. A
                // page that follows no stream says nothing about live updates.
                {user.map(|u| view! {
                    <crate::live::client::LiveIndicator/>
                    {super::island_data::give(super::notify::NotifyData { user_id: u.id })}
                    <super::notify::NotificationCentre/>
                    <a class="user-name" href="/account" title="Your account" data-testid="user-name">{u.display_name}</a>
                })}
                <ActionForm action=logout>
                    <button type="submit" class="link-button">"Log out"</button>
                </ActionForm>
            </div>
        </header>
    }
}

/// The error of an action's last run, read once as the page renders. For the forms
/// that only the server renders (an `ActionForm` outside any island): their action
/// only ever has the error of a refused plain post, which the server reads from the URL.
pub fn action_error<T, V>(value: V) -> Option<AppError>
where
    T: 'static,
    V: WithUntracked<Value = Option<Result<T, AppError>>>,
{
    value.with_untracked(|v| v.as_ref().and_then(|r| r.as_ref().err().cloned()))
}

/// The message under a field, announced to screen readers. Written by the server (the
/// error of a refused post without JavaScript) and after that by the form enhancer
/// (`super::forms`), which finds it by `data-field`.
#[component]
pub fn FieldError(error: Option<AppError>, field: &'static str, id: String) -> impl IntoView {
    let message = error.and_then(|e| e.field_message(field));
    view! { <p class="field-error" id=id role="alert" data-field=field>{message}</p> }
}

/// An error that belongs to no single field, shown above the form. With `id`, the
/// place of the errors of the forms that name it in `data-error-in` (a list's row
/// forms, which have no message of their own): there every error shows, whole, and the
/// morph of a live part keeps what the enhancer wrote in it (`data-keep`, `live_part`).
#[component]
pub fn FormError(
    error: Option<AppError>,
    #[prop(optional)] id: Option<&'static str>,
) -> impl IntoView {
    let message = error
        .filter(|e| id.is_some() || !e.is_field_error())
        .map(|e| e.to_string());
    view! { <p class="form-error" role="alert" id=id data-keep=id>{message}</p> }
}

/// A list's rows in a `<ul class=class data-testid=testid>`, or `empty` when it has
/// none (the panels, rendered by the server).
pub fn rows_or<V: IntoView>(
    rows: Vec<V>,
    class: &'static str,
    testid: &'static str,
    empty: &'static str,
) -> impl IntoView {
    if rows.is_empty() {
        Either::Right(view! { <p class="empty">{empty}</p> })
    } else {
        Either::Left(view! { <ul class=class data-testid=testid>{rows}</ul> })
    }
}

/// What was typed into field `name` of a form the server refused when posted without
/// JavaScript (`server::kept`), if `error` says that this form is the one refused.
/// Rendered on the server only: hydration leaves a static attribute as the server
/// wrote it, so the client needs none of this.
#[cfg(feature = "ssr")]
fn kept(error: &Option<AppError>, name: &str) -> Option<String> {
    error
        .is_some()
        .then(|| crate::server::kept::value(name))
        .flatten()
}

/// A labelled input with its error message wired up for assistive technology. After a
/// refused post without JavaScript it shows what was typed (never a password).
#[component]
pub fn Field(
    /// Prefix of the input's id; unique per form on the page.
    #[prop(into)]
    form: String,
    name: &'static str,
    label: &'static str,
    error: Option<AppError>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(into, optional)] value: String,
    #[prop(optional)] required: bool,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(optional)] inputmode: Option<&'static str>,
    #[prop(optional)] maxlength: Option<usize>,
) -> impl IntoView {
    #[cfg(feature = "ssr")]
    let value = kept(&error, name).unwrap_or(value);
    let id = format!("{form}-{name}");
    let err_id = format!("{id}-error");
    let invalid = error
        .as_ref()
        .is_some_and(|e| e.field_message(name).is_some())
        .to_string();
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input
                id=id
                name=name
                type=kind
                value=value
                required=required
                autocomplete=autocomplete
                inputmode=inputmode
                maxlength=maxlength
                aria-invalid=invalid
                aria-describedby=err_id.clone()
            />
            <FieldError error field=name id=err_id/>
        </div>
    }
}

/// Tells the server the browser's IANA zone, for the workspaces it creates (sign-up, a
/// new team): one inline script carrying the page's nonce (the CSP allows no other
/// inline script) writes it into the `ll_zone` cookie as the page is parsed, before and
/// without any WASM (a form field would cost the island's code). On the login and sign-up
/// pages, so every session starts with it fresh, and not on the dashboard, whose every
/// byte is counted. Without JavaScript there is no cookie and the server chooses (UTC for
/// a new account, the creator's zone for a team). Server-rendered pages only: an island
/// would hydrate it.
#[component]
pub fn BrowserZone() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        const WRITE: &str = "var z=Intl.DateTimeFormat().resolvedOptions().timeZone;\
            if(z)document.cookie='ll_zone='+z+';path=/;samesite=lax;max-age=31536000'";
        view! { <script nonce=leptos::nonce::use_nonce() inner_html=WRITE></script> }
    }
}

/// A labelled `<select>` over fixed options, with the current one selected.
#[component]
pub fn SelectField(
    #[prop(into)] form: String,
    name: &'static str,
    label: &'static str,
    error: Option<AppError>,
    options: Vec<(String, String)>,
    #[prop(into)] selected: String,
) -> impl IntoView {
    #[cfg(feature = "ssr")]
    let selected = kept(&error, name).unwrap_or(selected);
    let id = format!("{form}-{name}");
    let err_id = format!("{id}-error");
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <select id=id name=name aria-describedby=err_id.clone()>
                {options
                    .into_iter()
                    .map(|(value, text)| {
                        let is_selected = value == selected;
                        view! { <option value=value selected=is_selected>{text}</option> }
                    })
                    .collect_view()}
            </select>
            <FieldError error field=name id=err_id/>
        </div>
    }
}

/// What a view of one workspace knows of the workspace itself while it is open: its
/// name (someone may rename it), whether it was deleted, and whether this user lost
/// access (removed, or deleted: the lists' stream is then denied).
#[derive(Clone, Copy)]
pub struct Watched {
    pub name: RwSignal<String>,
    pub deleted: RwSignal<bool>,
    pub lost: RwSignal<bool>,
}

/// Starts watching `ws`, whose snapshot is at stream position `after`: follows the
/// workspace's own events, a new name or its deletion. (That the user lost access is
/// learnt by the panels' `live_part::follow`, which sets `lost`.)
pub fn watch_workspace(ws: &WorkspaceSummary, after: i64) -> Watched {
    let watched = Watched {
        name: RwSignal::new(ws.name.clone()),
        deleted: RwSignal::new(false),
        lost: RwSignal::new(false),
    };
    if let Some(live) = use_live() {
        let id = ws.id;
        Effect::new(move |_| {
            live.watch(Stream::Workspace(id), after, move |delivery| {
                if let Delivery::Events(batch) = delivery {
                    for envelope in batch {
                        match &envelope.event {
                            Event::WorkspaceUpdated(w) => watched.name.set(w.name.clone()),
                            Event::WorkspaceDeleted(_) => {
                                watched.deleted.set(true);
                                watched.lost.set(true);
                            }
                            _ => {}
                        }
                    }
                }
            });
        });
    }
    watched
}

/// What a view of a workspace shows once its user can no longer see it: removed from
/// it, or it was deleted, while the page was open.
#[component]
pub fn WorkspaceGone(watched: Watched) -> impl IntoView {
    let Watched { name, deleted, .. } = watched;
    view! {
        <h1 data-testid="workspace-lost">
            {move || if deleted.get() { format!("{} was deleted", name.get()) } else { format!("You were removed from {}", name.get()) }}
        </h1>
        <p>"You can no longer see or change this workspace. " <a href="/">"Go to your workspace"</a></p>
    }
}

/// The expense categories as `SelectField` options.
pub fn category_options() -> Vec<(String, String)> {
    CATEGORIES
        .iter()
        .map(|c| (c.to_string(), c.to_string()))
        .collect()
}

pub fn currency_options() -> Vec<(String, String)> {
    CURRENCIES
        .iter()
        .map(|(c, _)| (c.to_string(), c.to_string()))
        .collect()
}

/// A second try at loading the client when the browser failed to fetch its modules.
///
/// Leptos' island script imports the JS module once, on idle, and nothing catches a
/// failure; a page whose fetch of that module failed (a network blip, a cancelled
/// request) never hydrates, and Chromium caches the failure in the document's module
/// map, so importing the same URL fails again. Importing it under another URL does not
/// help either: the module that links the split code (`__wasm_split.<hash>.js`, see
/// `pages::import`) imports the main module back by its own URL. So: if a promise is
/// rejected unhandled before the module ran (`__hydrateIsland` is set by Leptos' script
/// once the import resolved; nothing else on the page rejects before that), the page
/// reloads, once: a new document has a new module map. The reload is marked in
/// `sessionStorage` for the URL, and the next load of that URL takes the mark away, so
/// a page that fails twice stays as the server rendered it instead of reloading for
/// ever (marked `data-ll-retry="gave-up"` on `<html>`). Server-rendered, nonce'd; no
/// WASM. (Found while chasing pages that did not hydrate in the end-to-end suite; their
/// cause was a missing policy header, see
/// `server::csp::protect_page`, which this does not cover: the retry is refused too.)
#[component]
pub fn HydrationRetry() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        const RETRY: &str = "(function(){var k='ll-retry',u=location.href,again=false;\
try{again=sessionStorage.getItem(k)===u;sessionStorage.removeItem(k)}catch(e){return}\
addEventListener('unhandledrejection',function(){if(window.__hydrateIsland)return;\
if(again){document.documentElement.dataset.llRetry='gave-up';return}\
again=true;try{sessionStorage.setItem(k,u)}catch(e){return}location.reload()})})()";
        view! { <script nonce=leptos::nonce::use_nonce() inner_html=RETRY></script> }
    }
}

/// Loads `/enhance.js` (`public/enhance.js`) once the page's islands have hydrated: the
/// other half of the form enhancer (`super::forms`; quick entry: buttons wait for the answer, only
/// the values still as sent are cleared), the dashboard's undo bar and "Select all".
/// None of it is needed to see or use the page, so it is not part of the first load.
/// Without JavaScript nothing of it runs, and the forms post as plain forms.
#[component]
pub fn Enhance() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        const LOADER: &str =
            "(function load(){if(!window.__liveledgerHydrated)return setTimeout(load,100);\
var s=document.createElement('script');s.src='/enhance.js';document.head.appendChild(s)})()";
        view! { <script nonce=leptos::nonce::use_nonce() inner_html=LOADER></script> }
    }
}
