//! `/account`: one's own account. Change the password (other sessions end), download
//! everything one entered (`/account/export`), delete the account, with what that does
//! to each team workspace said before. Plain HTML (no island): each form posts.

use leptos::prelude::*;
use leptos_meta::Title;

use super::common::{action_error, Field, FormError, RequireUser, TopBar};
use crate::account::{account_summary, AccountOverview, ChangePassword, DeleteAccount, TeamFate};

#[component]
pub fn AccountPage() -> impl IntoView {
    view! {
        <RequireUser>
            <TopBar/>
            <AccountView/>
        </RequireUser>
    }
}

#[component]
fn AccountView() -> impl IntoView {
    let password = ServerAction::<ChangePassword>::new();
    let delete = ServerAction::<DeleteAccount>::new();
    let data = Resource::new(|| (), |_| account_summary());
    // After the post (in place with JavaScript; without, the server's redirect says so).
    let query = leptos_router::hooks::use_query_map();
    let changed = move || {
        password.value().with(|v| matches!(v, Some(Ok(()))))
            || query.with(|q| q.get("changed").as_deref() == Some("password"))
    };
    view! {
        <Title text="Your account · LiveLedger"/>
        <main class="content narrow-wide">
            <p><a href="/">"← Back to your workspace"</a></p>
            <h1>"Your account"</h1>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let password_error = action_error(password.value());
                    let delete_error = action_error(delete.value());
                    match data.await {
                        Ok(AccountOverview { email, display_name, teams }) => view! {
                            <p>{display_name} " · " <span data-testid="account-email">{email}</span></p>
                            <section class="panel" aria-labelledby="password-heading">
                                <h2 id="password-heading">"Password"</h2>
                                <p>"Changing it signs you out everywhere else at once; this browser stays signed in."</p>
                                <ActionForm action=password>
                                    <FormError error=password_error.clone()/>
                                    <Field form="password" name="current_password" label="Current password" kind="password"
                                        error=password_error.clone() required=true autocomplete="current-password"/>
                                    <Field form="password" name="new_password" label="New password (at least 10 characters)" kind="password"
                                        error=password_error required=true autocomplete="new-password"/>
                                    <button type="submit">"Change password"</button>
                                    <Show when=changed>
                                        <p class="form-ok" role="status">"Password changed. Your other sessions have ended."</p>
                                    </Show>
                                </ActionForm>
                            </section>
                            <section class="panel" aria-labelledby="export-heading">
                                <h2 id="export-heading">"Your data"</h2>
                                <p>
                                    "Everything you entered — expenses, earnings, budgets, goals, contributions — in every workspace, "
                                    "with your notifications and choices, as one JSON file."
                                </p>
                                <p><a href="/account/export" download="" data-testid="account-export">"Download your data (JSON)"</a></p>
                            </section>
                            <section class="panel" aria-labelledby="delete-account-heading">
                                <h2 id="delete-account-heading">"Delete your account"</h2>
                                <p>
                                    "Your name, email, password, personal workspace and notifications go for good. "
                                    "What you entered in team workspaces stays in their books, by “Deleted user”."
                                </p>
                                {(!teams.is_empty()).then(|| view! {
                                    <ul class="team-fates" data-testid="team-fates">
                                        {teams.into_iter().map(|(id, name, fate)| {
                                            let what = match fate {
                                                TeamFate::Leaves => "you leave it".to_owned(),
                                                TeamFate::HandedTo(to) => format!("you are its only owner: it goes to {to}"),
                                                TeamFate::Deleted => "nobody else is in it: it is deleted with everything in it".to_owned(),
                                            };
                                            view! { <li><a href=format!("/w/{id}")>{name}</a> ": " {what}</li> }
                                        }).collect_view()}
                                    </ul>
                                })}
                                <ActionForm action=delete attr:class="danger-zone">
                                    <FormError error=delete_error.clone()/>
                                    <Field form="delete-account" name="password" label="Your password" kind="password"
                                        error=delete_error.clone() required=true autocomplete="current-password"/>
                                    <label>
                                        <input type="checkbox" name="confirm" value="delete" required/>
                                        " Delete my account and my data, for good"
                                    </label>
                                    <p class="field-error" role="alert">
                                        {delete_error.and_then(|e| e.field_message("confirm"))}
                                    </p>
                                    <button type="submit" class="danger">"Delete account"</button>
                                </ActionForm>
                            </section>
                        }
                        .into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </main>
    }
}
