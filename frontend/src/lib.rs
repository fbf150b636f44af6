//! The WASM entry point: hydrates the islands (`#[island]` components of the shared `app`
//! crate) of the page the server rendered; the rest of the page stays plain HTML.

// Linking `app` in also exports its islands to the page's hydration script.
use app::pages::forms;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Every form that writes posts through one listener (see `app::pages::forms`).
    forms::enhance();
    leptos::mount::hydrate_islands();
    // Lets end-to-end tests wait for interactivity instead of sleeping. Leptos' island
    // script calls this first and then walks the page hydrating each island, awaiting
    // each in turn: a chain of microtasks (no island returns a pending promise). A task
    // queued now runs once that chain is done, that is once every island is live.
    leptos::prelude::set_timeout(
        || {
            let _ = js_sys::Reflect::set(
                &js_sys::global(),
                &"__liveledgerHydrated".into(),
                &true.into(),
            );
        },
        std::time::Duration::ZERO,
    );
}
