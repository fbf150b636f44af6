//! Pages and the small components they share.

pub mod auth;
pub mod charts;
pub mod dashboard;
pub mod import;
pub mod notify;
pub mod plan;
pub mod team;

use leptos::prelude::*;
use leptos_router::{components::Redirect, hooks::use_params_map};

use crate::{
    auth::{current_user, Logout, SessionUser},
    error::AppError,
    workspaces::list_workspaces,
};

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

/// The `:ws` route parameter.
pub fn workspace_param() -> Signal<i64> {
    let params = use_params_map();
    Signal::derive(move || {
        params
            .read()
            .get("ws")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
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
                <crate::live::client::LiveIndicator/>
                {user.map(|u| view! {
                    <notify::NotificationCentre user_id=u.id/>
                    <span class="user-name" data-testid="user-name">{u.display_name}</span>
                })}
                <ActionForm action=logout>
                    <button type="submit" class="link-button">"Log out"</button>
                </ActionForm>
            </div>
        </header>
    }
}

/// The error of an action's last run, if any.
pub fn action_error<T, V>(value: V) -> Signal<Option<AppError>>
where
    T: 'static,
    V: With<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    Signal::derive(move || value.with(|v| v.as_ref().and_then(|r| r.as_ref().err().cloned())))
}

/// The message under a field, announced to screen readers.
#[component]
pub fn FieldError(
    error: Signal<Option<AppError>>,
    field: &'static str,
    id: String,
) -> impl IntoView {
    view! {
        <p class="field-error" id=id role="alert">
            {move || error.with(|e| e.as_ref().and_then(|e| e.field_message(field)))}
        </p>
    }
}

/// An error that belongs to no single field, shown above the form.
#[component]
pub fn FormError(error: Signal<Option<AppError>>) -> impl IntoView {
    view! {
        <p class="form-error" role="alert">
            {move || error.with(|e| e.as_ref().filter(|e| !e.is_field_error()).map(|e| e.to_string()))}
        </p>
    }
}

/// A labelled input with its error message wired up for assistive technology.
#[component]
pub fn Field(
    /// Prefix of the input's id; unique per form on the page.
    #[prop(into)]
    form: String,
    name: &'static str,
    label: &'static str,
    error: Signal<Option<AppError>>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(into, optional)] value: String,
    #[prop(optional)] required: bool,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(optional)] inputmode: Option<&'static str>,
    #[prop(optional)] maxlength: Option<usize>,
) -> impl IntoView {
    let id = format!("{form}-{name}");
    let err_id = format!("{id}-error");
    let invalid = move || {
        error
            .with(|e| e.as_ref().is_some_and(|e| e.field_message(name).is_some()))
            .to_string()
    };
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

/// A labelled `<select>` over fixed options, with the current one selected.
#[component]
pub fn SelectField(
    #[prop(into)] form: String,
    name: &'static str,
    label: &'static str,
    error: Signal<Option<AppError>>,
    options: Vec<(String, String)>,
    #[prop(into)] selected: String,
) -> impl IntoView {
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
