//! Log in and register.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::common::{action_error, BrowserZone, Field, FormError};
use crate::auth::{Login, Register};

fn next_param() -> String {
    use_query_map()
        .read_untracked()
        .get("next")
        .unwrap_or_default()
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let next = next_param();
    let register_href = if next.is_empty() {
        "/register".to_owned()
    } else {
        format!("/register?next={next}")
    };
    view! {
        <Title text="Log in · LiveLedger"/>
        <main class="narrow auth">
            <h1>"Log in to LiveLedger"</h1>
            <LoginForm next/>
            <BrowserZone/>
            <p>"New here? " <a href=register_href>"Create an account"</a></p>
        </main>
    }
}

/// An island, so that a refused attempt keeps what was typed (the page stays); without
/// JavaScript the form posts and comes back with the error.
#[island]
fn LoginForm(next: String) -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let error = action_error(login.value());
    view! {
        <ActionForm action=login>
            <FormError error/>
            <input type="hidden" name="next" value=next/>
            <Field form="login" name="email" label="Email" kind="email" error required=true autocomplete="username"/>
            <Field form="login" name="password" label="Password" kind="password" error required=true autocomplete="current-password"/>
            <button type="submit" class="primary" disabled=move || login.pending().get()>"Log in"</button>
        </ActionForm>
    }
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    let next = next_param();
    let login_href = if next.is_empty() {
        "/login".to_owned()
    } else {
        format!("/login?next={next}")
    };
    let deleted =
        leptos_router::hooks::use_query_map().with_untracked(|q| q.get("deleted").is_some());
    view! {
        <Title text="Create an account · LiveLedger"/>
        <main class="narrow auth">
            {deleted.then(|| view! {
                <p class="form-ok" role="status" data-testid="account-deleted">"Your account was deleted."</p>
            })}
            <h1>"Create your LiveLedger account"</h1>
            <RegisterForm next/>
            <BrowserZone/>
            <p>"Already have an account? " <a href=login_href>"Log in"</a></p>
        </main>
    }
}

/// An island, like `LoginForm`.
#[island]
fn RegisterForm(next: String) -> impl IntoView {
    let register = ServerAction::<Register>::new();
    let error = action_error(register.value());
    view! {
        <ActionForm action=register>
            <FormError error/>
            <input type="hidden" name="next" value=next/>
            <Field form="register" name="display_name" label="Your name" error required=true autocomplete="name" maxlength=80/>
            <Field form="register" name="email" label="Email" kind="email" error required=true autocomplete="email"/>
            <Field form="register" name="password" label="Password (at least 10 characters)" kind="password" error required=true autocomplete="new-password"/>
            <button type="submit" class="primary" disabled=move || register.pending().get()>"Create account"</button>
        </ActionForm>
    }
}
