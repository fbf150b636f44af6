//! Pages, one module each, and what they share (`common`). Pages import `common` and
//! the panels they show (`plan`), never each other.

pub mod account;
pub mod auth;
pub mod charts;
pub mod common;
pub mod dashboard;
pub mod forms;
pub mod goals;
pub mod home;
pub mod import;
pub mod island_data;
pub mod lazy;
pub mod live_part;
pub mod notify;
pub mod plan;
pub mod settings;
pub mod slot;
pub mod team;
pub mod when;

pub use home::{Home, NotFound};
