//! `show`: what Leptos' `<Show>` does, without its boxes.
//!
//! `<Show>` takes its children as `ChildrenFn` and its fallback as a `ViewFn`, both
//! boxed `AnyView`s, and every `AnyView` costs the WASM a vtable's worth of code for
//! its view (async hydration included, which nothing here uses). This is the same
//! thing typed: `Either` of the two views, rebuilt only when the condition changes.

use leptos::{either::Either, prelude::*};

/// `children()` while `when()` holds, `fallback()` otherwise. `when` is memoised: the
/// views are built again only when its value changes, not each time what it reads does.
pub fn show<A, B>(
    when: impl Fn() -> bool + Send + Sync + 'static,
    children: impl Fn() -> A + Send + Sync + 'static,
    fallback: impl Fn() -> B + Send + Sync + 'static,
) -> impl IntoView
where
    A: IntoView + 'static,
    B: IntoView + 'static,
{
    let when = Memo::new(move |_| when());
    move || {
        if when.get() {
            Either::Left(children())
        } else {
            Either::Right(fallback())
        }
    }
}
