//! LiveLedger's shared crate: domain types, server functions and pages.
//!
//! Compiled twice: with `ssr` into the server (where `server` and every `ssr`
//! submodule exist) and with `hydrate` into the WASM client.

// Views are typed, not erased (`.into_any()` costs the WASM a boxed copy of each view's
// code, async hydration included); a page's view type is then deep enough for rustc's
// default limit (128) to stop the server's release build ("queries overflow the depth
// limit" computing the account page's layout).
#![recursion_limit = "256"]

pub mod account;
pub mod auth;
#[cfg(test)]
mod browser_reads;
pub mod budgets;
pub mod dates;
pub mod earnings;
pub mod error;
pub mod expenses;
pub mod export;
pub mod goals;
pub mod import;
pub mod json;
pub mod live;
pub mod model;
pub mod money;
pub mod notifications;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod server;
pub mod sorted;
pub mod wire;
pub mod workspaces;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    let policy = server::csp::protect_page(&options);
    #[cfg(not(feature = "ssr"))]
    let policy: Option<String> = None;
    // In the document's head, outside what hydrates: its name carries a content hash.
    #[cfg(feature = "ssr")]
    let stylesheet = server::assets::stylesheet_href(&options);
    #[cfg(not(feature = "ssr"))]
    let stylesheet = "";
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                {policy.map(|p| view! { <meta http-equiv="Content-Security-Policy" content=p/> })}
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options islands=true/>
                <pages::common::HydrationRetry/>
                <link rel="stylesheet" id="leptos" href=stylesheet/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                // Without JavaScript nothing is followed live: no indicator then.
                <noscript><link rel="stylesheet" href="/noscript.css"/></noscript>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    live::client::provide_live();
    view! {
        <Title text="LiveLedger"/>
        <Router>
            <Routes fallback=|| view! { <pages::NotFound/> }>
                // Pages that may redirect (not logged in) render whole before answering,
                // so the redirect is a real 302 that works without JavaScript.
                <Route path=path!("/") view=pages::Home ssr=SsrMode::Async/>
                <Route path=path!("/login") view=pages::auth::LoginPage/>
                <Route path=path!("/register") view=pages::auth::RegisterPage/>
                <Route path=path!("/account") view=pages::account::AccountPage ssr=SsrMode::Async/>
                <Route path=path!("/w/:ws") view=pages::dashboard::DashboardPage ssr=SsrMode::Async/>
                <Route path=path!("/w/:ws/team") view=pages::team::TeamPage ssr=SsrMode::Async/>
                <Route path=path!("/w/:ws/settings") view=pages::settings::SettingsPage ssr=SsrMode::Async/>
                <Route path=path!("/w/:ws/goals") view=pages::goals::GoalsPage ssr=SsrMode::Async/>
                <Route path=path!("/join/:code") view=pages::team::JoinPage ssr=SsrMode::Async/>
            </Routes>
        </Router>
    }
}
