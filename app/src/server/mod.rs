//! Server-only core shared by every server function: state, storage, sessions,
//! authorization. Compiled with the `ssr` feature only; nothing here reaches the WASM.

pub mod assets;
pub mod authz;
pub mod client_addr;
pub mod clock;
pub mod csp;
pub mod db;
pub mod events;
pub mod hub;
pub mod kept;
pub mod limiter;
pub mod listing;
pub mod live;
pub mod metrics;
pub mod outbox;
pub mod password;
pub mod session;
pub mod slots;
pub mod state;
pub mod trash;
pub mod zone;

// For the features above: `crate::server::{state, AppState, now_ms}`. Modules inside
// `server` import from the defining module instead, never through this one.
pub use clock::now_ms;
pub use state::{state, AppState};
