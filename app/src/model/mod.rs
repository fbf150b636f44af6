//! The bottom layer: entities, their validated inputs and their rules, shared by the
//! server and the WASM client. Nothing here imports a module outside `model`, `money`,
//! `dates` and `error` (checked by `checks/tests/module_graph.rs`).

pub mod budget;
pub mod category;
pub mod earning;
pub mod expense;
pub mod filter;
pub mod goal;
pub mod ids;
pub mod notification;
pub mod text;
pub mod user;
pub mod workspace;
