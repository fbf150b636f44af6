//! Integration tests: the real router, real HTTP, real SQLite and PostgreSQL.

// The app's page views are deeply nested types (see `app`'s `recursion_limit`); proving
// the server's futures `Send` walks them.
#![recursion_limit = "256"]

mod helpers;

mod account;
mod auth;
mod budgets;
mod catalog;
mod cluster;
mod earnings;
mod expenses;
mod goals;
mod hardening;
mod http;
mod import;
mod live;
mod logs;
mod notifications;
mod ops;
mod pages;
mod panels;
mod socket;
mod team;
mod views;
mod workspaces;
mod zones;
