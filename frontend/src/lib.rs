//! The WASM entry point: hydrates the server-rendered page with the shared `app` crate.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    // Lets end-to-end tests wait for interactivity instead of sleeping.
    let _ = js_sys::Reflect::set(
        &js_sys::global(),
        &"__liveledgerHydrated".into(),
        &true.into(),
    );
}
