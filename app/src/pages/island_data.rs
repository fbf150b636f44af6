//! An island's data, handed over through the page rather than as Leptos' island props.
//!
//! Leptos reads an island's props with serde_json (`from_str` of a derived struct) and,
//! wherever the island runs, serializes them again. That alone kept serde_json's reader
//! in the WASM client, with serde's error paths and the float formatting they bring,
//! after every other read had moved to `json` (2026-12-06). So the islands take no
//! props: the page writes each island's data once, as JSON in a
//! `<script type="application/json" id=…>` element beside it ([`give`]), and the island
//! takes it ([`take`]): on the server from the context `give` provided, in the browser
//! by reading that element with `json`.
//!
//! One island of a kind per page: the element's id names the kind.

use leptos::prelude::*;

use crate::json::FromJson;

/// The element's text: the value as JSON with every `<` escaped (`\u003c`), so no
/// `</script>` or `<!--` in a name or a note can end the element early. `<` occurs in
/// JSON only inside strings, where the escape reads back as the same character.
#[cfg(feature = "ssr")]
fn script_text<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value)
        .unwrap_or_else(|_| "null".to_owned())
        .replace('<', "\\u003c")
}

/// An island's data: what the page writes beside it and the island takes.
pub trait IslandData: FromJson + serde::Serialize + Clone + Send + Sync + 'static {
    /// The id of the element that carries it: one island of a kind per page.
    const ID: &'static str;
}

/// On the server: gives `value` to the island that follows (context) and renders the
/// element that carries it to the browser. Call it before the island in the same view.
/// In the browser the page is never built, only its islands: nothing to give.
pub fn give<T: IslandData>(value: T) -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        let text = script_text(&value);
        provide_context(value);
        // A data block runs nothing, so the policy does not ask for a nonce; it carries
        // the page's all the same, so that every `<script>` of a page has it (a test
        // checks).
        view! {
            <script type="application/json" id=T::ID nonce=leptos::nonce::use_nonce() inner_html=text></script>
        }
    }
    #[cfg(not(feature = "ssr"))]
    let _ = value;
}

/// In an island: its data. On the server the context [`give`] provided; in the browser
/// the element `give` rendered, read with `json`. Panics when it is missing or
/// unreadable, as Leptos' own props do: the page and the island are built together.
pub fn take<T: IslandData>() -> T {
    #[cfg(feature = "ssr")]
    {
        expect_context::<T>()
    }
    #[cfg(not(feature = "ssr"))]
    {
        let id = T::ID;
        let text = document()
            .get_element_by_id(id)
            .and_then(|element| element.text_content())
            .unwrap_or_else(|| panic!("the page has no #{id} for its island"));
        crate::json::from_str(&text).unwrap_or_else(|e| panic!("#{id}: {e}"))
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn no_text_can_close_the_element_and_it_reads_back() {
        let value = vec![
            "</script><script>alert(1)</script>".to_owned(),
            "<!-- a -->".to_owned(),
            "a < b".to_owned(),
        ];
        let text = script_text(&value);
        assert!(!text.contains('<'), "{text}");
        assert_eq!(crate::json::from_str::<Vec<String>>(&text).unwrap(), value);
    }
}
