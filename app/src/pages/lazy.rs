//! Code loaded when first used: a part of an island whose view is a split module of the
//! WASM (`wasm_split`, `cargo leptos build --split`), mounted the first time the user
//! opens it (the CSV import panel, the list under the notification bell).
//!
//! The split functions are `fallible`: leptos' `#[lazy]` panics when the module cannot
//! be fetched, and a panic aborts the whole client (the live lists with it). Here a
//! failed fetch is remembered, the part says so, and the next opening fetches afresh.

use leptos::prelude::*;

/// Whether a part's code is loading or loaded, and whether its last fetch failed.
#[derive(Clone, Copy)]
pub struct SplitPart {
    /// Loading or loaded: opened again, nothing more to do. (Read by `load`, which
    /// exists in the browser only.)
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    started: StoredValue<bool>,
    failed: RwSignal<bool>,
}

impl SplitPart {
    pub fn new() -> Self {
        SplitPart {
            started: StoredValue::new(false),
            failed: RwSignal::new(false),
        }
    }

    /// True (tracked) when the last fetch of the part's module failed: the part shows
    /// its failure notice until the next opening.
    pub fn failed(&self) -> bool {
        self.failed.get()
    }

    /// Mounts the part with `mount` (a call of its split function), unless it is
    /// loading or loaded already.
    #[cfg(feature = "hydrate")]
    pub fn load<F>(&self, mount: impl FnOnce() -> F)
    where
        F: std::future::Future<Output = Result<(), leptos::wasm_split::SplitLoaderError>> + 'static,
    {
        if self.started.get_value() {
            return;
        }
        self.started.set_value(true);
        self.failed.set(false);
        let (started, failed, mounted) = (self.started, self.failed, mount());
        leptos::task::spawn_local(async move {
            if mounted.await.is_err() {
                started.set_value(false);
                failed.set(true);
            }
        });
    }
}

impl Default for SplitPart {
    fn default() -> Self {
        SplitPart::new()
    }
}
