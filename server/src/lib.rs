//! The LiveLedger server: configuration, telemetry and startup around the `app` crate.

// The app's page views are deeply nested types (see `app`'s `recursion_limit`); proving
// the server's futures `Send` walks them.
#![recursion_limit = "256"]

pub mod assets;
pub mod body;
pub mod config;
pub mod export;
pub mod http;
pub mod kept;
pub mod live;
pub mod ops;
pub mod origin;
pub mod startup;
pub mod telemetry;
