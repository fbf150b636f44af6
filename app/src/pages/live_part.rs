//! Parts of a page that follow their workspace live while their HTML comes from the
//! server: the dashboard's panels and the goals page's panel.
//!
//! The server renders such a part (lists, totals, charts, budgets, goals and the forms
//! among them) with the same components for the page and for [`PartHtml`], the answer of
//! the part's server function, which carries the HTML and the stream position it was
//! read at. In the browser the island places the page's copy in a slot (`slot`) and
//! [`follow`]s the workspace stream: once an event past that position arrives (over the
//! socket or by polling), or the stream must be resynced, it asks for the part again and
//! [`morph`]s the slot's DOM into the answer. None of the lists' views, their logic or
//! their events' payloads is in the WASM: it holds one reconciler of HTML for every
//! part.
//!
//! The morph keeps what the user is in the middle of:
//! - an element marked `data-keep="<name>"` (the forms, with what is typed in them and
//!   the errors the enhancer wrote there; the import panel, with its loaded code) is
//!   kept as it is, matched by name; only the options of its `<select>`s follow the
//!   server's (a platform created by someone else appears in the earning form);
//! - rows are matched by `data-key`, so a row that did not change keeps its node (a
//!   ticked box, the focus); the others are matched by position and tag;
//! - only attributes and text are written: a control's live value and checked state
//!   are properties, which the morph leaves alone.
//!
//! Nothing is lost or shown twice: every answer is a snapshot as of its cursor, an
//! older answer never replaces a newer one, and while a request is out, events that
//! arrive make one more request when it returns.

use serde::{Deserialize, Serialize};

#[cfg(feature = "hydrate")]
use crate::live::client::use_live;
use crate::{error::AppError, model::ids::WorkspaceId};
#[cfg(feature = "hydrate")]
use leptos::prelude::*;

/// A part's HTML as the server renders it, and the position in the workspace stream
/// that it shows (every event up to `cursor` is in it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartHtml {
    pub cursor: i64,
    pub html: String,
}
crate::json::json_struct!(PartHtml { cursor, html });

/// A part's server function: `load(ws, query)` reads the part for `query`. One function
/// type for every part, so that [`follow`] is compiled once, whichever part it follows.
pub type Load =
    fn(
        WorkspaceId,
        String,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<PartHtml, AppError>>>>;

/// The attribute that names an element the morph keeps as it is.
pub const KEEP: &str = "data-keep";

/// Where a part is, and what the island does once it changed.
#[cfg(feature = "hydrate")]
pub struct Follow<C> {
    pub ws: WorkspaceId,
    /// The id of the slot the part is in.
    pub slot: &'static str,
    /// The stream position of the copy in the page.
    pub cursor: i64,
    /// The part's server function: `load(ws, query)`, where `query` is what the part
    /// names in its `data-refresh` (the dashboard's view and the rows it shows), or a
    /// "Show more" link's.
    pub load: Load,
    /// Set when the user can no longer read the workspace.
    pub lost: RwSignal<bool>,
    /// Called with the slot after each morph.
    pub changed: C,
}

#[cfg(feature = "hydrate")]
#[derive(Default)]
struct State {
    /// The position the slot shows.
    cursor: i64,
    /// A query the user asked for ("Show more"), read next whatever an answer says.
    asked: Option<String>,
    /// A request is out; `again` asks for one more when it returns.
    busy: bool,
    again: bool,
}

/// Keeps the part in `f.slot` following workspace `f.ws` (see the module's
/// documentation). Links in the part marked `data-more` ("Show more") load the part
/// again for their own query, in place.
#[cfg(feature = "hydrate")]
pub fn follow<C>(f: Follow<C>)
where
    C: Fn(&web_sys::Element) + Copy + Send + Sync + 'static,
{
    use crate::live::{client::Delivery, Stream};
    use wasm_bindgen::{closure::Closure, JsCast};

    let Follow {
        ws,
        slot,
        cursor,
        load,
        lost,
        changed,
    } = f;
    let state = StoredValue::new(State {
        cursor,
        ..State::default()
    });
    // The query the part names for its next read, as the page or the last answer has it.
    let named = move || {
        document()
            .get_element_by_id(slot)
            .and_then(|s| s.query_selector("[data-refresh]").ok().flatten())
            .and_then(|e| e.get_attribute("data-refresh"))
            .unwrap_or_default()
    };
    let refresh = move || {
        let started = state
            .try_update_value(|s| {
                s.again = s.busy;
                !std::mem::replace(&mut s.busy, true)
            })
            .unwrap_or(false);
        if !started {
            return;
        }
        leptos::task::spawn_local(async move {
            loop {
                let Some(asked) = state.try_update_value(|s| {
                    s.again = false;
                    s.asked.take()
                }) else {
                    return;
                };
                let query = asked.unwrap_or_else(named);
                if let Ok(part) = load(ws, query).await {
                    let newer = state
                        .try_update_value(|s| {
                            let newer = part.cursor >= s.cursor;
                            if newer {
                                s.cursor = part.cursor;
                            }
                            newer
                        })
                        .unwrap_or(false);
                    if let (true, Some(slot)) = (newer, document().get_element_by_id(slot)) {
                        morph_into(&slot, &part.html);
                        changed(&slot);
                    }
                }
                if !state.try_with_value(|s| s.again).unwrap_or(false) {
                    break;
                }
            }
            state.update_value(|s| s.busy = false);
        });
    };
    if let Some(live) = use_live() {
        Effect::new(move |_| {
            live.watch(
                Stream::Workspace(ws),
                cursor,
                move |delivery| match delivery {
                    Delivery::Events(batch) => {
                        let last = batch.iter().map(|e| e.seq).max().unwrap_or(0);
                        let behind = state.try_with_value(|s| last > s.cursor).unwrap_or(false);
                        if behind {
                            refresh();
                        }
                    }
                    Delivery::Resync => refresh(),
                    Delivery::Denied => lost.set(true),
                },
            );
        });
        // This tab's own writes: while the socket is live their events arrive within
        // milliseconds; otherwise (polling) the part is read again at once.
        let own_writes = super::forms::own_writes();
        Effect::watch(
            move || own_writes.get(),
            move |_, _, _| {
                if live.status.get_untracked() != crate::live::client::LiveStatus::Live {
                    refresh();
                }
            },
            false,
        );
    }
    // "Show more": the link's own query, read in place.
    Effect::new(move |_| {
        let Some(slot) = document().get_element_by_id(slot) else {
            return;
        };
        let on_click =
            Closure::<dyn Fn(web_sys::MouseEvent)>::new(move |ev: web_sys::MouseEvent| {
                let link = ev
                    .target()
                    .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                    .and_then(|t| t.closest("a[data-more]").ok().flatten());
                let Some(href) = link.and_then(|l| l.get_attribute("href")) else {
                    return;
                };
                ev.prevent_default();
                let query = href.split_once('?').map_or("", |(_, q)| q).to_owned();
                state.update_value(|s| s.asked = Some(query));
                refresh();
            });
        let _ = slot.add_event_listener_with_callback("click", on_click.as_ref().unchecked_ref());
        // Lives as long as the page.
        on_click.forget();
    });
}

/// Makes the children of `slot` those of `html`, keeping every node that can stay.
#[cfg(feature = "hydrate")]
pub fn morph_into(slot: &web_sys::Element, html: &str) {
    use wasm_bindgen::JsCast;
    let Ok(template) = document().create_element("template") else {
        return;
    };
    template.set_inner_html(html);
    let Ok(template) = template.dyn_into::<web_sys::HtmlTemplateElement>() else {
        return;
    };
    morph_children(slot, &template.content());
}

/// What a node is matched by: the name it is kept by or its row key.
#[cfg(feature = "hydrate")]
fn key(node: &web_sys::Node) -> Option<String> {
    use wasm_bindgen::JsCast;
    let el = node.dyn_ref::<web_sys::Element>()?;
    el.get_attribute(KEEP)
        .or_else(|| el.get_attribute("data-key"))
}

/// Whether `old` can become `new`: the same kind of node, the same tag and key.
#[cfg(feature = "hydrate")]
fn same(old: &web_sys::Node, new: &web_sys::Node) -> bool {
    old.node_type() == new.node_type() && old.node_name() == new.node_name() && key(old) == key(new)
}

#[cfg(feature = "hydrate")]
fn morph_children(old_parent: &web_sys::Node, new_parent: &web_sys::Node) {
    let mut old = old_parent.first_child();
    let mut new = new_parent.first_child();
    while let Some(n) = new {
        new = n.next_sibling();
        // A keyed node is looked for among the rest; any other must be the next one.
        let found = match key(&n) {
            Some(_) => {
                let mut at = old.clone();
                while let Some(o) = at.as_ref().filter(|o| !same(o, &n)) {
                    at = o.next_sibling();
                }
                at
            }
            None => old.clone().filter(|o| same(o, &n)),
        };
        match found {
            Some(o) => {
                if old.as_ref() == Some(&o) {
                    old = o.next_sibling();
                } else {
                    let _ = old_parent.insert_before(&o, old.as_ref());
                }
                update(&o, &n);
            }
            // Moved out of the answer into the page.
            None => {
                let _ = old_parent.insert_before(&n, old.as_ref());
            }
        }
    }
    while let Some(o) = old {
        old = o.next_sibling();
        let _ = old_parent.remove_child(&o);
    }
}

/// Makes `old` (a node that matched `new`) look like `new`.
#[cfg(feature = "hydrate")]
fn update(old: &web_sys::Node, new: &web_sys::Node) {
    use wasm_bindgen::JsCast;
    let (Some(o), Some(n)) = (
        old.dyn_ref::<web_sys::Element>(),
        new.dyn_ref::<web_sys::Element>(),
    ) else {
        if old.node_value() != new.node_value() {
            old.set_node_value(new.node_value().as_deref());
        }
        return;
    };
    if o.has_attribute(KEEP) {
        follow_options(o, n);
        return;
    }
    let names = o.get_attribute_names();
    for name in names.iter().filter_map(|v| v.as_string()) {
        if !n.has_attribute(&name) {
            let _ = o.remove_attribute(&name);
        }
    }
    for name in n.get_attribute_names().iter().filter_map(|v| v.as_string()) {
        let value = n.get_attribute(&name);
        if o.get_attribute(&name) != value {
            let _ = o.set_attribute(&name, value.as_deref().unwrap_or_default());
        }
    }
    morph_children(old, new);
}

/// In a kept element: each `<select>` gains the options the server's copy has and it
/// lacks, and takes their labels (its choice and everything else stay).
#[cfg(feature = "hydrate")]
fn follow_options(old: &web_sys::Element, new: &web_sys::Element) {
    use wasm_bindgen::JsCast;
    let (Ok(olds), Ok(news)) = (
        old.query_selector_all("select"),
        new.query_selector_all("select"),
    ) else {
        return;
    };
    for i in 0..news.length().min(olds.length()) {
        let (Some(o), Some(n)) = (
            olds.get(i)
                .and_then(|s| s.dyn_into::<web_sys::Element>().ok()),
            news.get(i)
                .and_then(|s| s.dyn_into::<web_sys::Element>().ok()),
        ) else {
            continue;
        };
        let options = n.children();
        for j in 0..options.length() {
            let Some(option) = options.item(j) else {
                continue;
            };
            let value = option.get_attribute("value").unwrap_or_default();
            let label = option.text_content();
            match o.query_selector(&format!("option[value=\"{value}\"]")) {
                Ok(Some(mine)) => {
                    if mine.text_content() != label {
                        mine.set_text_content(label.as_deref());
                    }
                }
                _ => {
                    if let Ok(copy) = document().create_element("option") {
                        let _ = copy.set_attribute("value", &value);
                        copy.set_text_content(label.as_deref());
                        let _ = o.append_child(&copy);
                    }
                }
            }
        }
    }
}
