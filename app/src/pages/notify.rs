//! The notification centre in the top bar (unread count, list, mark read) and the
//! toasts that pop up when a notification arrives live.
//!
//! Both are filled in the browser only: the server renders the bell without a count,
//! the client loads the list once it has hydrated and then follows the user's stream.
//! The list's view is code loaded when the bell is first opened (`mount_list`, a split
//! module): 6.5 KB of the first load's brotli for a panel most visits never open.

use crate::model::ids::UserId;
use leptos::prelude::*;

use super::{lazy::SplitPart, when::show};

use crate::{
    live::{
        catalog::{Notification, NotificationLevel},
        client::{use_live, Delivery, LiveStatus},
        follow::{apply_batch, Step},
        Event, Stream,
    },
    notifications::{
        dismiss_notification, list_notifications, mark_all_notifications_read,
        mark_notification_read, NotificationList,
    },
};

/// At most this many toasts at once; older ones make room.
const MAX_TOASTS: usize = 4;

fn level_class(level: NotificationLevel) -> &'static str {
    match level {
        NotificationLevel::Success => "toast success",
        NotificationLevel::Error => "toast error",
        NotificationLevel::Info => "toast info",
        NotificationLevel::Warning => "toast warning",
    }
}

/// `NotificationCentre`'s data, which the top bar writes beside it (`island_data`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NotifyData {
    pub user_id: UserId,
}
crate::json::json_struct!(NotifyData { user_id });

impl super::island_data::IslandData for NotifyData {
    const ID: &'static str = "notify-data";
}

/// An island: the top bar around it is plain HTML.
#[island]
pub fn NotificationCentre() -> impl IntoView {
    let NotifyData { user_id } = super::island_data::take();
    let live = use_live();
    let list = RwSignal::new(None::<NotificationList>);
    let toasts = RwSignal::new(Vec::<Notification>::new());
    let open = RwSignal::new(false);
    // Bumped to load the list afresh (a gap, a resync, an own change while polling).
    let reloads = RwSignal::new(0u32);
    let subscribed = StoredValue::new(false);
    let owner = Owner::current();

    let show_toast = move |n: Notification| {
        if let Some(ms) = n.duration_ms {
            let id = n.id;
            set_timeout(
                move || toasts.update(|t| t.retain(|x| x.id != id)),
                std::time::Duration::from_millis(ms.into()),
            );
        }
        toasts.update(|t| {
            t.retain(|x| x.id != n.id);
            t.push(n);
            let excess = t.len().saturating_sub(MAX_TOASTS);
            t.drain(..excess);
        });
    };

    let on_delivery = move |delivery: Delivery<'_>| match delivery {
        Delivery::Events(batch) => {
            let mut next = list.get_untracked();
            if let Some(l) = next.as_mut() {
                match apply_batch(l, batch) {
                    Step::Applied => list.set(next),
                    Step::Unchanged => {}
                    Step::Reload => reloads.update(|n| *n += 1),
                }
            }
            for e in batch {
                match &e.event {
                    // `Some(0)`: its member hears this topic without toasts.
                    Event::NotificationCreated(n) if n.duration_ms != Some(0) => {
                        show_toast(n.clone())
                    }
                    // Read in another tab, or retracted (its subject was deleted).
                    Event::NotificationRead(r) | Event::NotificationDismissed(r) => {
                        toasts.update(|t| t.retain(|x| x.id != r.id))
                    }
                    _ => {}
                }
            }
        }
        Delivery::Resync => reloads.update(|n| *n += 1),
        Delivery::Denied => {}
    };

    // System announcements (ephemeral, to everyone connected) only pop up as toasts.
    let on_announcement = move |delivery: Delivery<'_>| {
        let Delivery::Events(batch) = delivery else {
            return;
        };
        for e in batch {
            if let Event::SystemAnnouncement(a) = &e.event {
                // Not stored, so no id of its own: negative ids never meet stored ones.
                show_toast(Notification {
                    id: -e.timestamp,
                    level: NotificationLevel::Warning,
                    title: a.title.clone(),
                    message: a.message.clone(),
                    workspace_id: None,
                    dismissible: true,
                    duration_ms: Some(10_000),
                    created_at: e.timestamp,
                    read: true,
                });
            }
        }
    };

    // Browser only: load, then follow the user's stream from the list's cursor.
    Effect::new(move |_| {
        reloads.track();
        let owner = owner.clone();
        leptos::task::spawn_local(async move {
            let Ok(fresh) = list_notifications().await else {
                return;
            };
            let after = fresh.cursor;
            list.update(|l| {
                if l.as_ref().is_none_or(|l| fresh.cursor >= l.cursor) {
                    *l = Some(fresh);
                }
            });
            if let (Some(live), false) = (live, subscribed.get_value()) {
                subscribed.set_value(true);
                // Under the component's owner, so the subscription ends with it.
                let subscribe = || {
                    live.watch(Stream::User(user_id), after, on_delivery);
                    live.watch(Stream::System, 0, on_announcement);
                };
                match &owner {
                    Some(owner) => owner.with(subscribe),
                    None => subscribe(),
                }
            }
        });
    });

    // After marking read: the event updates every tab; while polling, reload now.
    let after_own_change = move || {
        if live.is_none_or(|l| l.status.get_untracked() != LiveStatus::Live) {
            reloads.update(|n| *n += 1);
        }
    };
    let mark_read = move |id: i64| {
        toasts.update(|t| t.retain(|x| x.id != id));
        leptos::task::spawn_local(async move {
            if mark_notification_read(id).await.is_ok() {
                after_own_change();
            }
        });
    };
    let dismiss = move |id: i64| {
        toasts.update(|t| t.retain(|x| x.id != id));
        leptos::task::spawn_local(async move {
            if dismiss_notification(id).await.is_ok() {
                after_own_change();
            }
        });
    };
    let mark_all = move |()| {
        leptos::task::spawn_local(async move {
            if mark_all_notifications_read().await.is_ok() {
                after_own_change();
            }
        });
    };
    let unread = move || unread_of(list);

    // The list under the bell: its code is a split module loaded when the bell is first
    // opened (`mount_list`), like the import panel's; the count and the toasts above
    // are live from the start.
    let body = NodeRef::<leptos::html::Section>::new();
    let part = SplitPart::new();
    // Made here, under the island's owner, once for the page.
    #[cfg(feature = "hydrate")]
    let actions = ListActions {
        list,
        mark_read: Callback::new(mark_read),
        dismiss: Callback::new(dismiss),
        mark_all: Callback::new(mark_all),
    };
    let toggle = move |_| {
        let opening = !open.get_untracked();
        open.set(opening);
        #[cfg(feature = "hydrate")]
        if let (true, Some(body)) = (opening, body.get_untracked()) {
            part.load(move || mount_list(body, actions));
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (part, body, dismiss, mark_all);
    };
    let panel = view! {
        <section class="notification-list" id="notification-list" aria-label="Notifications"
            hidden=move || !open.get() node_ref=body>
            <p class="form-error" role="alert" hidden=move || !part.failed()>
                "The notifications could not be loaded. Close and open them to try again."
            </p>
        </section>
    };
    let toasts = view! {
        <div class="toasts" aria-live="polite" data-testid="toasts">
            <For each=move || toasts.get() key=|n| n.id let:n>
                {
                    let id = n.id;
                    view! {
                        <div class=level_class(n.level) role="status" data-testid="toast">
                            <strong>{n.title.clone()}</strong>
                            <p>{n.message.clone()}</p>
                            <div class="toast-actions">
                                // Announcements are not stored: nothing to mark read.
                                {(!n.read).then(|| view! {
                                    <button type="button" class="small" on:click=move |_| mark_read(id)>"Mark read"</button>
                                })}
                                {n.dismissible.then(|| view! {
                                    <button
                                        type="button"
                                        class="small"
                                        aria-label="Dismiss"
                                        on:click=move |_| toasts.update(|t| t.retain(|x| x.id != id))
                                    >
                                        "×"
                                    </button>
                                })}
                            </div>
                        </div>
                    }
                }
            </For>
        </div>
    };
    view! {
        <div class="notify">
            <button
                type="button"
                class="bell link-button"
                data-testid="notification-bell"
                aria-expanded=move || open.get().to_string()
                aria-controls="notification-list"
                on:click=toggle
            >
                "Notifications"
                {show(move || { unread() > 0 }, move || view! {
                    <span class="count" data-testid="unread-count" aria-label=move || format!("{} unread", unread())>
                        {unread}
                    </span>
                }, || ())}
            </button>
            {panel}
        </div>
        {toasts}
    }
}

/// How many notifications are unread (0 until the list has loaded).
fn unread_of(list: RwSignal<Option<NotificationList>>) -> i64 {
    list.with(|l| l.as_ref().map_or(0, |l| l.unread))
}

/// What the list under the bell works with, from the island that owns it.
#[cfg(feature = "hydrate")]
#[derive(Clone, Copy)]
struct ListActions {
    list: RwSignal<Option<NotificationList>>,
    mark_read: Callback<i64>,
    dismiss: Callback<i64>,
    mark_all: Callback<()>,
}

/// Mounts the list into `body`, from the module split off for it (`fallible`: see
/// `lazy`).
#[cfg(feature = "hydrate")]
#[leptos::wasm_split::wasm_split(notification_list, wasm_split_path = ::leptos::wasm_split, fallible)]
fn mount_list(
    body: web_sys::HtmlElement,
    actions: ListActions,
) -> Result<(), leptos::wasm_split::SplitLoaderError> {
    // Lives as long as the page.
    leptos::mount::mount_to(body, move || notification_list(actions)).forget();
    Ok(())
}

/// The list: built in the browser only, when the bell is first opened.
#[cfg(feature = "hydrate")]
fn notification_list(a: ListActions) -> impl IntoView {
    let ListActions {
        list,
        mark_read,
        dismiss,
        mark_all,
    } = a;
    view! {
        <div class="notification-head">
            <strong>"Notifications"</strong>
            <button type="button" class="small" on:click=move |_| mark_all.run(()) disabled=move || unread_of(list) == 0>
                "Mark all read"
            </button>
        </div>
        <ul data-testid="notification-items">
            <For
                each=move || list.with(|l| l.as_ref().map(|l| l.items.clone()).unwrap_or_default())
                key=|n| n.clone()
                let:n
            >
                <li class:unread=!n.read data-testid="notification">
                    <strong>{n.title.clone()}</strong>
                    <span>{n.message.clone()}</span>
                    {(!n.read).then(|| {
                        let id = n.id;
                        view! {
                            <button type="button" class="small" on:click=move |_| mark_read.run(id)>
                                "Mark read"
                            </button>
                        }
                    })}
                    {
                        let id = n.id;
                        view! {
                            <button type="button" class="small link-button" aria-label=format!("Remove {}", n.title)
                                on:click=move |_| dismiss.run(id)>"Remove"</button>
                        }
                    }
                </li>
            </For>
        </ul>
        {show(move || list.with(|l| l.as_ref().is_some_and(|l| l.items.is_empty())), move || view! {
            <p class="empty">"Nothing yet."</p>
        }, || ())}
    }
}
