//! Log in and register.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use leptos::server_fn::ServerFn;

use super::common::{BrowserZone, Field, FormError};
use super::forms::{refused, PostForm};
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

/// Rendered by the server only. In the browser the form enhancer posts it, so a
/// refused attempt keeps what was typed (the page stays) and a success follows the
/// server's redirect; without JavaScript the form posts and comes back with the error.
#[component]
fn LoginForm(next: String) -> impl IntoView {
    let error = refused(Login::PATH);
    view! {
        <PostForm action=Login::PATH keep_typing=true>
            <FormError error=error.clone()/>
            <input type="hidden" name="next" value=next/>
            <Field form="login" name="email" label="Email" kind="email" error=error.clone() required=true autocomplete="username"/>
            <Field form="login" name="password" label="Password" kind="password" error required=true autocomplete="current-password"/>
            <button type="submit" class="primary">"Log in"</button>
        </PostForm>
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

/// Like `LoginForm`.
#[component]
fn RegisterForm(next: String) -> impl IntoView {
    let error = refused(Register::PATH);
    view! {
        <PostForm action=Register::PATH keep_typing=true>
            <FormError error=error.clone()/>
            <input type="hidden" name="next" value=next/>
            <Field form="register" name="display_name" label="Your name" error=error.clone() required=true autocomplete="name" maxlength=80/>
            <Field form="register" name="email" label="Email" kind="email" error=error.clone() required=true autocomplete="email"/>
            <Field form="register" name="password" label="Password (at least 10 characters)" kind="password" error required=true autocomplete="new-password"/>
            <button type="submit" class="primary">"Create account"</button>
        </PostForm>
    }
}
