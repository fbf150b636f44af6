//! The team page (members, roles, invites) and the page an invite link opens.

use crate::model::ids::{UserId, WorkspaceId};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Redirect, hooks::use_params_map};

use leptos::server_fn::ServerFn;

use super::common::{
    action_error, workspace_param, Enhance, Field, FieldError, FormError, RequireUser, SelectField,
    TopBar,
};
use super::forms::{refused, PostForm};
use crate::{
    auth::{current_user, SessionUser},
    error::AppError,
    notifications::SendNotification,
    workspaces::{
        load_team, preview_invite, ChangeRole, CreateInvite, JoinWorkspace, RemoveMember,
        RevokeInvite, Role, Team,
    },
};

#[component]
pub fn TeamPage() -> impl IntoView {
    view! {
        <RequireUser>
            <TopBar/>
            <TeamView/>
        </RequireUser>
    }
}

fn role_options(roles: &[Role]) -> Vec<(String, String)> {
    roles
        .iter()
        .map(|r| (r.as_str().to_owned(), r.label().to_owned()))
        .collect()
}

#[component]
fn TeamView() -> impl IntoView {
    let ws = workspace_param();
    let invite = ServerAction::<CreateInvite>::new();
    let revoke = ServerAction::<RevokeInvite>::new();
    let change_role = ServerAction::<ChangeRole>::new();
    let remove = ServerAction::<RemoveMember>::new();
    let data = Resource::new(
        move || {
            (
                ws.get(),
                invite.version().get(),
                revoke.version().get(),
                change_role.version().get(),
                remove.version().get(),
            )
        },
        |(ws, ..)| load_team(ws),
    );
    // The errors of a refused post, as the server reads them from the URL.
    let invite_error = move || action_error(invite.value());
    let role_error = move || {
        action_error(change_role.value())
            .or_else(|| action_error(revoke.value()))
            .or_else(|| action_error(remove.value()))
    };
    // A member's role select keeps what was chosen after a refusal (`server::kept`) on
    // the row that was posted only.
    let row_error = move |user: UserId| -> Option<AppError> {
        #[cfg(feature = "ssr")]
        if crate::server::kept::value("user_id") != Some(user.to_string()) {
            return None;
        }
        #[cfg(not(feature = "ssr"))]
        let _ = user;
        role_error()
    };
    view! {
        <main class="content narrow-wide">
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(Team { workspace, members, invites, connected }) => {
                            let manage = workspace.role.can_manage();
                            let is_owner = workspace.role == Role::Owner;
                            let ws_id = workspace.id;
                            let assignable: Vec<Role> = if is_owner { Role::ALL.to_vec() } else { vec![Role::Member, Role::Viewer] };
                            let invitable: Vec<Role> = if is_owner { vec![Role::Member, Role::Viewer, Role::Admin] } else { vec![Role::Member, Role::Viewer] };
                            let me = use_context::<SessionUser>().map(|u| u.id);
                            let others: Vec<(UserId, String)> = members.iter().filter(|m| Some(m.user_id) != me).map(|m| (m.user_id, m.display_name.clone())).collect();
                            view! {
                                <Title text=format!("Team · {} · LiveLedger", workspace.name)/>
                                <p><a href=format!("/w/{ws_id}")>"← Back to " {workspace.name.clone()}</a></p>
                                <h1>"Team of " {workspace.name.clone()}</h1>
                                <FormError error=role_error()/>
                                <table class="members" data-testid="member-table">
                                    <thead><tr>
                                        <th scope="col">"Name"</th><th scope="col">"Email"</th><th scope="col">"Role"</th>
                                        {connected.is_some().then(|| view! { <th scope="col">"Online now"</th> })}
                                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                    </tr></thead>
                                    <tbody>
                                        {members.into_iter().map(|m| {
                                            let editable = manage && (is_owner || matches!(m.role, Role::Member | Role::Viewer));
                                            let options = role_options(&assignable);
                                            // Owners and admins see who has the workspace open, and in how many tabs.
                                            let online = connected.as_ref().map(|c| {
                                                match c.iter().find(|(id, _)| *id == m.user_id).map(|(_, n)| *n) {
                                                    Some(n) => format!("● {n} {}", if n == 1 { "tab" } else { "tabs" }),
                                                    None => "—".to_owned(),
                                                }
                                            });
                                            view! {
                                                <tr data-testid="member-row">
                                                    <td>{m.display_name.clone()}</td>
                                                    <td>{m.email.clone()}</td>
                                                    <td>
                                                        {if editable {
                                                            view! {
                                                                <ActionForm action=change_role attr:class="inline">
                                                                    <input type="hidden" name="workspace_id" value=ws_id/>
                                                                    <input type="hidden" name="user_id" value=m.user_id/>
                                                                    <SelectField form=format!("role-{}", m.user_id) name="role" label="Role" error=row_error(m.user_id) options selected=m.role.as_str()/>
                                                                    <button type="submit" class="small">"Change"</button>
                                                                </ActionForm>
                                                            }.into_any()
                                                        } else {
                                                            view! { <span class="badge">{m.role.label()}</span> }.into_any()
                                                        }}
                                                    </td>
                                                    {online.map(|o| view! { <td data-testid="member-online">{o}</td> })}
                                                    <td>
                                                        {editable.then(|| view! {
                                                            <ActionForm action=remove attr:class="inline">
                                                                <input type="hidden" name="workspace_id" value=ws_id/>
                                                                <input type="hidden" name="user_id" value=m.user_id/>
                                                                <button type="submit" class="danger small" aria-label=format!("Remove {}", m.display_name)>"Remove"</button>
                                                            </ActionForm>
                                                        })}
                                                    </td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                {manage.then(|| view! {
                                    <section class="panel" aria-labelledby="invite-heading">
                                        <h2 id="invite-heading">"Invite someone"</h2>
                                        <ActionForm action=invite>
                                            <FormError error=invite_error()/>
                                            <input type="hidden" name="workspace_id" value=ws_id/>
                                            <SelectField form="invite" name="role" label="Their role" error=invite_error() options=role_options(&invitable) selected="member"/>
                                            <button type="submit" class="primary">"Create invite link"</button>
                                        </ActionForm>
                                        <h3>"Open invites"</h3>
                                        {if invites.is_empty() {
                                            view! { <p class="empty">"No open invites."</p> }.into_any()
                                        } else {
                                            view! {
                                                <ul class="invites" data-testid="invite-list">
                                                    {invites.into_iter().map(|i| view! {
                                                        <li>
                                                            <code data-testid="invite-code">{i.code.clone()}</code>
                                                            " " <a href=format!("/join/{}", i.code) data-testid="invite-link">"invite link"</a>
                                                            " " <button type="button" class="small" hidden data-copy=format!("/join/{}", i.code)
                                                                aria-label=format!("Copy link for invite {}", i.code)>"Copy link"</button>
                                                            " · " {i.role.label()}
                                                            <ActionForm action=revoke attr:class="inline">
                                                                <input type="hidden" name="workspace_id" value=ws_id/>
                                                                <input type="hidden" name="code" value=i.code.clone()/>
                                                                <button type="submit" class="danger small">"Revoke"</button>
                                                            </ActionForm>
                                                        </li>
                                                    }).collect_view()}
                                                </ul>
                                            }.into_any()
                                        }}
                                    </section>
                                })}
                                {(manage && !others.is_empty()).then(|| view! { <SendNotice ws=ws_id others/> })}
                                <p><a href=format!("/w/{ws_id}/settings")>"Workspace settings"</a> " (name, time zone" {is_owner.then_some(", deletion")} ")"</p>
                            }.into_any()
                        }
                        Err(e) => view! {
                            <h1>"Team"</h1>
                            <p class="form-error" role="alert">{e.to_string()}</p>
                            <p><a href="/">"Back to your workspace"</a></p>
                        }.into_any(),
                    }
                })}
            </Transition>
            <CopyButtons/>
            <Enhance/>
        </main>
    }
}

/// The invite list's "Copy link" buttons: shown and wired by one inline script (nonce'd,
/// no WASM: the team page has no island of its own). Without JavaScript they stay
/// hidden and the link itself is there to copy. Where the clipboard is refused, the
/// link is offered in a prompt to copy by hand.
#[component]
fn CopyButtons() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        const WIRE: &str = "document.querySelectorAll('[data-copy]').forEach(function(b){b.hidden=false;\
            b.addEventListener('click',function(){var u=new URL(b.dataset.copy,location.href).href;\
            var done=function(){b.textContent='Copied';setTimeout(function(){b.textContent='Copy link'},2000)};\
            if(navigator.clipboard){navigator.clipboard.writeText(u).then(done,function(){prompt('Copy this link',u)})}\
            else{prompt('Copy this link',u)}})})";
        view! { <script nonce=leptos::nonce::use_nonce() inner_html=WIRE></script> }
    }
}

/// Owners and admins tell the team something: everyone, or the members ticked. Plain
/// HTML like the rest of the team page; with JavaScript the form enhancer posts it and
/// `/enhance.js` says how many were told (`send-result`, from the answer).
#[component]
fn SendNotice(ws: WorkspaceId, others: Vec<(UserId, String)>) -> impl IntoView {
    let error = refused(SendNotification::PATH);
    let levels: Vec<(String, String)> = [
        ("info", "Info"),
        ("success", "Success"),
        ("warning", "Warning"),
        ("error", "Error"),
    ]
    .iter()
    .map(|(v, l)| (v.to_string(), l.to_string()))
    .collect();
    view! {
        <section class="panel" aria-labelledby="send-heading">
            <h2 id="send-heading">"Send a notification"</h2>
            <PostForm action=SendNotification::PATH testid="send-form" keep_typing=true>
                <FormError error=error.clone()/>
                <input type="hidden" name="workspace_id" value=ws/>
                <Field form="send" name="title" label="Title" error=error.clone() required=true maxlength=80/>
                <div class="field">
                    <label for="send-message">"Message"</label>
                    <textarea id="send-message" name="message" rows="3" maxlength="500" required aria-describedby="send-message-error"></textarea>
                    <FieldError error=error.clone() field="message" id="send-message-error".to_owned()/>
                </div>
                <SelectField form="send" name="level" label="Level" error options=levels selected="info"/>
                <fieldset class="recipients">
                    <legend>"To (none ticked: the whole workspace)"</legend>
                    {others.into_iter().map(|(id, name)| view! {
                        <label><input type="checkbox" name=format!("to[{id}]") value=id/> " " {name}</label>
                    }).collect_view()}
                </fieldset>
                <button type="submit" class="primary">"Send"</button>
                <p role="status" data-testid="send-result"></p>
            </PostForm>
        </section>
    }
}

/// `/join/:code`: shows what the invite is for and joins on confirmation.
#[component]
pub fn JoinPage() -> impl IntoView {
    let params = use_params_map();
    let code = move || params.read().get("code").unwrap_or_default();
    let user = Resource::new(|| (), |_| current_user());
    let preview = Resource::new(code, |code| async move {
        // Only asked for a logged-in user; the page redirects everyone else.
        match current_user().await {
            Ok(Some(_)) => preview_invite(code).await.map(Some),
            Ok(None) => Ok(None),
            Err(e) => Err(e),
        }
    });
    let join = ServerAction::<JoinWorkspace>::new();
    view! {
        <Title text="Join a workspace · LiveLedger"/>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let code = code();
                match user.await {
                    Ok(Some(user)) => {
                        // The top bar names the user and follows their notifications.
                        provide_context(user);
                        let preview = preview.await;
                        view! {
                            <TopBar/>
                            <main class="narrow">
                                {match preview {
                                    Ok(None) => view! { <p>"Please log in."</p> }.into_any(),
                                    Ok(Some(p)) if p.already_member => view! {
                                        <h1>"You are already in " {p.workspace_name}</h1>
                                        <p><a href="/">"Go to your workspaces"</a></p>
                                    }.into_any(),
                                    Ok(Some(p)) => view! {
                                        <h1>"Join " {p.workspace_name.clone()}</h1>
                                        <p data-testid="invited-by">{p.invited_by} " invited you as " <strong>{p.role.label()}</strong> "."</p>
                                        <ActionForm action=join>
                                            <FormError error=action_error(join.value())/>
                                            <input type="hidden" name="code" value=code/>
                                            <button type="submit" class="primary">"Join " {p.workspace_name}</button>
                                        </ActionForm>
                                    }.into_any(),
                                    Err(e) => view! {
                                        <h1>"Invite not valid"</h1>
                                        <p class="form-error" role="alert">{e.to_string()}</p>
                                    }.into_any(),
                                }}
                            </main>
                        }.into_any()
                    }
                    _ => view! { <Redirect path=format!("/login?next=/join/{code}")/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
