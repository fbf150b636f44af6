//! Forms that write: plain HTML forms that post to their server function, which the
//! browser client enhances, all of them with one piece of code.
//!
//! Every form that writes is a `<form method="post" action="/api/…">` ([`PostForm`]).
//! Without JavaScript (or before the WASM has loaded) it posts as any form does: the
//! server function answers with a redirect back to the page, the error in the URL
//! (`__path`, `__err`), and the server renders that error next to its field
//! ([`refused`]) with what was typed (`server::kept`).
//!
//! In the browser, [`enhance`] (called once by the WASM entry point) catches the
//! `submit` of every form marked `data-enhance`: it posts the same fields with
//! `Accept: application/json`, so the server function answers with its result instead
//! of a redirect, and then
//! - on success clears the form's error messages, tells the page (`ll-sent` on the
//!   form: `/enhance.js` clears what was sent and offers Undo after a deletion) and the
//!   lists (`own_writes`), and follows a redirect the function asked for (an edit goes
//!   back to its view, a login to where it was going);
//! - on failure writes the error under its field (the `FieldError` whose `data-field`
//!   names it, marking the control `aria-invalid`) or above the form (its `FormError`,
//!   or the one its `data-error-in` names), and says `ll-failed`.
//!
//! One function for every form: the WASM holds no code per server function for its
//! forms (no `ActionForm`, no form decoding, no error signal per form), which used to
//! be about a sixth of its code.

use leptos::prelude::*;

use crate::error::AppError;

/// The error of a server function that refused a plain post of this page (no
/// JavaScript): the page was sent back here with it in the URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The server function's path (`/api/expenses/create`).
    pub path: String,
    pub error: AppError,
}

/// The refusal that the URL of the page being rendered carries, if any. On the server
/// only (the router reads the URL): every form is rendered there, the forms inside
/// islands too (`slot`).
pub fn page_refusal() -> Option<Refusal> {
    #[cfg(feature = "ssr")]
    {
        use leptos::server::ServerActionError;
        use leptos::server_fn::error::ServerFnUrlError;
        use_context::<ServerActionError>().map(|e| Refusal {
            path: e.path().to_owned(),
            error: ServerFnUrlError::<AppError>::decode_err(e.err()),
        })
    }
    #[cfg(not(feature = "ssr"))]
    None
}

/// The error to show on the form that posts to `path`: the refusal of the page, if it
/// was that form's.
pub fn refused(path: &str) -> Option<AppError> {
    let refusal = page_refusal()?;
    (refusal.path == path).then_some(refusal.error)
}

/// A form that posts to the server function at `action` (its `PATH`), enhanced in the
/// browser (see the module's documentation).
#[component]
pub fn PostForm<C: IntoView + 'static>(
    action: &'static str,
    #[prop(optional, into)] id: Option<String>,
    #[prop(optional)] class: Option<&'static str>,
    #[prop(optional)] testid: Option<&'static str>,
    /// Quick entry: after a success `/enhance.js` clears only the fields still holding
    /// what was sent, and the buttons wait for the answer.
    #[prop(optional)]
    keep_typing: bool,
    /// The id of the `FormError` that shows this form's errors when it has none inside
    /// (a row's delete button).
    #[prop(optional)]
    error_in: Option<&'static str>,
    // Typed rather than `Children`: a boxed view per form costs the WASM more code.
    children: TypedChildren<C>,
) -> impl IntoView {
    let children = children.into_inner();
    view! {
        <form method="post" action=action id=id class=class data-testid=testid data-enhance=""
            data-keep-typing=keep_typing.then_some("") data-error-in=error_in>
            {children()}
        </form>
    }
}

#[cfg(feature = "hydrate")]
thread_local! {
    // Reference-counted rather than owned by a reactive owner: it is made by whichever
    // island asks first and lives as long as the page.
    static OWN_WRITES: ArcRwSignal<u64> = ArcRwSignal::new(0);
}

/// Counts this tab's writes that succeeded.
#[cfg(feature = "hydrate")]
pub fn own_writes() -> ArcReadSignal<u64> {
    OWN_WRITES.with(|w| w.read_only())
}

/// Installs the one `submit` listener of the page (see the module's documentation).
#[cfg(feature = "hydrate")]
pub fn enhance() {
    use wasm_bindgen::{closure::Closure, JsCast};
    thread_local!(static INSTALLED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) });
    // Once: a second listener would post every form twice.
    if INSTALLED.with(|i| i.replace(true)) {
        return;
    }
    let on_submit = Closure::<dyn Fn(web_sys::Event)>::new(|ev: web_sys::Event| {
        let Some(form) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok())
        else {
            return;
        };
        if ev.default_prevented() || !form.has_attribute("data-enhance") {
            return;
        }
        ev.prevent_default();
        leptos::task::spawn_local(async move {
            match post(&form).await {
                Ok((redirect, answer)) => {
                    show(&form, None);
                    OWN_WRITES.with(|w| *w.write() += 1);
                    say(&form, "ll-sent", &answer);
                    if let Some(to) = redirect {
                        let _ = window().location().assign(&to);
                    }
                }
                Err(e) => {
                    show(&form, Some(&e));
                    say(&form, "ll-failed", "");
                }
            }
        });
    });
    let _ =
        document().add_event_listener_with_callback("submit", on_submit.as_ref().unchecked_ref());
    // One listener for the page's lifetime.
    on_submit.forget();
}

/// Posts `form`'s fields as the browser would, asking for the result as JSON. `Ok`
/// carries where the server function asked to go, if anywhere, and its answer (JSON).
#[cfg(feature = "hydrate")]
async fn post(form: &web_sys::HtmlFormElement) -> Result<(Option<String>, String), AppError> {
    use leptos::server_fn::error::FromServerFnError;
    let malformed = || AppError::request("The form could not be read.");
    let fields = web_sys::FormData::new_with_form(form).map_err(|_| malformed())?;
    let body = web_sys::UrlSearchParams::new_with_str_sequence_sequence(&fields)
        .map_err(|_| malformed())?;
    let unreachable = |_| AppError::request("Could not reach the server. Check your connection.");
    let response = gloo_net::http::Request::post(&form.action())
        .header("accept", "application/json")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(String::from(body.to_string()))
        .map_err(|_| malformed())?
        .send()
        .await
        .map_err(unreachable)?;
    if response.ok() {
        let headers = response.headers();
        let redirect = headers
            .get(leptos::server_fn::redirect::REDIRECT_HEADER)
            .and(headers.get("location"));
        return Ok((redirect, response.text().await.unwrap_or_default()));
    }
    let body = response.binary().await.map_err(unreachable)?;
    Err(AppError::de(body.into()))
}

/// Writes `error` (or nothing) into `form`'s messages: each under its field, the rest
/// above the form; a field error whose field the form lacks shows above it too.
#[cfg(feature = "hydrate")]
fn show(form: &web_sys::HtmlFormElement, error: Option<&AppError>) {
    use wasm_bindgen::JsCast;
    let mut placed = false;
    if let Ok(messages) = form.query_selector_all("[data-field]") {
        for i in 0..messages.length() {
            let Some(p) = messages
                .get(i)
                .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
            else {
                continue;
            };
            let field = p.get_attribute("data-field").unwrap_or_default();
            let message = error.and_then(|e| e.field_message(&field));
            placed |= message.is_some();
            let invalid = message.is_some();
            p.set_text_content(message.as_deref());
            if let Ok(Some(control)) =
                form.query_selector(&format!("[aria-describedby=\"{}\"]", p.id()))
            {
                let _ =
                    control.set_attribute("aria-invalid", if invalid { "true" } else { "false" });
            }
        }
    }
    let general = error.filter(|_| !placed).map(ToString::to_string);
    let above = match form.get_attribute("data-error-in") {
        Some(id) => document().get_element_by_id(&id),
        None => form.query_selector(".form-error").ok().flatten(),
    };
    if let Some(above) = above {
        above.set_text_content(general.as_deref());
    }
}

/// Tells the page what became of `form`'s post: an event that bubbles, its `detail`
/// the server function's answer (JSON) after a success.
#[cfg(feature = "hydrate")]
fn say(form: &web_sys::HtmlFormElement, what: &str, answer: &str) {
    let init = web_sys::CustomEventInit::new();
    init.set_bubbles(true);
    init.set_detail(&answer.into());
    if let Ok(e) = web_sys::CustomEvent::new_with_event_init_dict(what, &init) {
        let _ = form.dispatch_event(&e);
    }
}
