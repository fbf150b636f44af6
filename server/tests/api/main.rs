//! Integration tests: the real router, real HTTP, real SQLite and PostgreSQL.

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
mod notifications;
mod ops;
mod pages;
mod socket;
mod team;
mod views;
mod workspaces;
mod zones;
