//! The LiveLedger server: configuration, telemetry and startup around the `app` crate.

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
