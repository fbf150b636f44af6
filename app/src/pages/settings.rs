//! `/w/:ws/settings`: a workspace's name, time zone and deletion, and what the member
//! viewing it wants to be told about it (notifications per topic). Plain HTML (no
//! island): each form posts and the page comes back with the result.

use leptos::prelude::*;
use leptos_meta::Title;

use super::common::{
    action_error, workspace_param, Field, FormError, RequireUser, SelectField, TopBar,
};
use crate::notifications::{notification_preferences, Hearing, SetNotificationPreferences};
use crate::workspaces::{
    load_settings, DeleteWorkspace, RenameWorkspace, Role, SetTimeZone, WorkspaceKind,
    WorkspaceSettings,
};

#[component]
pub fn SettingsPage() -> impl IntoView {
    view! {
        <RequireUser>
            <TopBar/>
            <SettingsView/>
        </RequireUser>
    }
}

#[component]
fn SettingsView() -> impl IntoView {
    let ws = workspace_param();
    let rename = ServerAction::<RenameWorkspace>::new();
    let zone = ServerAction::<SetTimeZone>::new();
    let delete = ServerAction::<DeleteWorkspace>::new();
    let hear = ServerAction::<SetNotificationPreferences>::new();
    let data = Resource::new(
        move || (ws.get(), rename.version().get(), zone.version().get()),
        |(ws, ..)| load_settings(ws),
    );
    let hearings = Resource::new(
        move || (ws.get(), hear.version().get()),
        |(ws, _)| notification_preferences(ws),
    );
    view! {
        <main class="content narrow-wide">
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let hear_error = action_error(hear.value());
                    let rename_error = action_error(rename.value());
                    let zone_error = action_error(zone.value());
                    let delete_error = action_error(delete.value());
                    match (data.await, hearings.await) {
                        (Ok(WorkspaceSettings { workspace, time_zone, zones }), Ok(hearings)) => {
                            let id = workspace.id;
                            let manage = workspace.role.can_manage();
                            let deletable = workspace.role == Role::Owner && workspace.kind == WorkspaceKind::Team;
                            let zones: Vec<(String, String)> = zones.into_iter().map(|z| (z.clone(), z)).collect();
                            view! {
                                <Title text=format!("Settings · {} · LiveLedger", workspace.name)/>
                                <p><a href=format!("/w/{id}")>"← Back to " {workspace.name.clone()}</a></p>
                                <h1>"Settings of " {workspace.name.clone()}</h1>
                                <section class="panel" aria-labelledby="hear-heading">
                                    <h2 id="hear-heading">"Your notifications"</h2>
                                    <p>"What you are told about this workspace. Only you see this; each member chooses their own."</p>
                                    <ActionForm action=hear>
                                        <FormError error=hear_error.clone()/>
                                        <input type="hidden" name="workspace_id" value=id/>
                                        {hearings.into_iter().map(|(topic, hearing)| view! {
                                            <SelectField form="hear" name=topic.as_str() label=topic.label() error=hear_error.clone()
                                                options=hearing_options() selected=hearing.as_str()/>
                                        }).collect_view()}
                                        <button type="submit">"Save notifications"</button>
                                    </ActionForm>
                                </section>
                                <section class="panel" aria-labelledby="zone-heading">
                                    <h2 id="zone-heading">"Time zone"</h2>
                                    <p>
                                        "Months are this workspace's months in " <strong data-testid="time-zone">{time_zone.clone()}</strong>
                                        ": the dashboard opens on the current month there, and budgets count that month."
                                    </p>
                                    {manage.then(|| view! {
                                        <ActionForm action=zone>
                                            <FormError error=zone_error.clone()/>
                                            <input type="hidden" name="workspace_id" value=id/>
                                            <SelectField form="zone" name="time_zone" label="Time zone" error=zone_error options=zones selected=time_zone/>
                                            <button type="submit">"Set time zone"</button>
                                        </ActionForm>
                                    })}
                                </section>
                                {manage.then(|| view! {
                                    <section class="panel" aria-labelledby="name-heading">
                                        <h2 id="name-heading">"Name"</h2>
                                        <ActionForm action=rename>
                                            <FormError error=rename_error.clone()/>
                                            <input type="hidden" name="workspace_id" value=id/>
                                            <Field form="rename" name="name" label="Workspace name" error=rename_error value=workspace.name.clone() required=true maxlength=80/>
                                            <button type="submit">"Rename"</button>
                                        </ActionForm>
                                    </section>
                                })}
                                {deletable.then(|| view! {
                                    <section class="panel" aria-labelledby="delete-heading">
                                        <h2 id="delete-heading">"Delete"</h2>
                                        <ActionForm action=delete attr:class="danger-zone">
                                            <FormError error=delete_error/>
                                            <input type="hidden" name="workspace_id" value=id/>
                                            <label><input type="checkbox" required/> " Delete it with all its expenses, earnings, budgets and goals, for everyone"</label>
                                            <button type="submit" class="danger">"Delete workspace"</button>
                                        </ActionForm>
                                    </section>
                                })}
                            }
                            .into_any()
                        }
                        (Err(e), _) | (_, Err(e)) => view! {
                            <h1>"Settings"</h1>
                            <p class="form-error" role="alert">{e.to_string()}</p>
                            <p><a href="/">"Back to your workspace"</a></p>
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </main>
    }
}

fn hearing_options() -> Vec<(String, String)> {
    Hearing::ALL
        .into_iter()
        .map(|h| (h.as_str().to_owned(), h.label().to_owned()))
        .collect()
}
