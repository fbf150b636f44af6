//! Parts of an island that never change in the browser, rendered by the server only.
//!
//! Everything an island's view could render in the browser is compiled into the WASM,
//! each element with its own build, hydrate and rebuild code. The forms at the top of
//! the dashboard's panels never change once rendered (the one enhancer of `forms`
//! posts them and clears them), yet inside the island they were part of its code. The
//! page renders such a part to HTML on the server ([`server_html`]) and hands it to the
//! island as a [`ServerHtml`] in its data (`island_data`); the island places it with
//! [`slot`], an element whose `inner_html` hydrates by keeping what the server sent. The
//! value serializes as `null`: the HTML is in the page once, and the browser's copy of
//! the value is empty.
//!
//! Only for a part placed once, outside every reactive closure: rendered again in the
//! browser, the slot would be emptied.

use leptos::prelude::*;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// HTML rendered by the server for a slot of an island; empty in the browser.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerHtml(String);

impl Serialize for ServerHtml {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_unit()
    }
}

impl<'de> Deserialize<'de> for ServerHtml {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(deserializer)?;
        Ok(ServerHtml::default())
    }
}

impl crate::json::FromJson for ServerHtml {
    fn read(r: &mut crate::json::Reader<'_>) -> crate::json::JsonResult<Self> {
        r.skip()?;
        Ok(ServerHtml::default())
    }
}

/// Renders `part` to HTML on the server; in the browser the view is never built (nor
/// compiled), and the slot keeps what the server sent.
pub fn server_html<V: IntoView>(part: impl FnOnce() -> V) -> ServerHtml {
    #[cfg(feature = "ssr")]
    {
        ServerHtml(part().into_view().to_html())
    }
    #[cfg(not(feature = "ssr"))]
    {
        let _ = part;
        ServerHtml::default()
    }
}

/// Places server-rendered HTML in an island (`display: contents`, so the wrapper does
/// not change the layout).
pub fn slot(html: ServerHtml) -> impl IntoView {
    view! { <div class="slot" inner_html=html.0></div> }
}

/// A slot with an id, for a part that follows live (`live_part`): its DOM is replaced by
/// the server's newer copies.
pub fn slot_at(id: &'static str, html: ServerHtml) -> impl IntoView {
    view! { <div class="slot" id=id inner_html=html.0></div> }
}

/// A slot inside a live part that its morph keeps as it is, matched by `name` (a form,
/// with what is typed in it; see `live_part`). Rendered by the server only.
pub fn kept(name: &'static str, html: ServerHtml) -> impl IntoView {
    view! { <div class="slot" data-keep=name inner_html=html.0></div> }
}

impl ServerHtml {
    /// The HTML itself (on the server: in the browser it is empty).
    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn the_html_is_rendered_on_the_server_and_never_sent_as_a_prop() {
        let html = server_html(|| view! { <p class="x">"a < b"</p> });
        assert_eq!(html.0, r#"<p class="x">a &lt; b</p>"#);
        assert_eq!(serde_json::to_string(&html).unwrap(), "null");
        let back: ServerHtml = serde_json::from_str("null").unwrap();
        assert_eq!(back, ServerHtml::default());
        // Whatever a page sent, the browser's copy is empty: the slot keeps the DOM.
        let back: ServerHtml = serde_json::from_str(r#""<p>x</p>""#).unwrap();
        assert_eq!(back, ServerHtml::default());
    }

    #[test]
    fn a_slot_renders_its_html_inside_its_wrapper() {
        let html = server_html(|| view! { <b>"x"</b> });
        assert_eq!(slot(html).to_html(), r#"<div class="slot"><b>x</b></div>"#);
    }
}
