//! The polling transport's server function (`live/poll`), the socket's fallback.

use super::{Cursor, PollResponse};
use crate::error::AppError;

/// The polling transport: the same events and envelopes as the WebSocket, from the same
/// log, after the same cursors. Stateless, so any instance can answer.
#[leptos::server(
    endpoint = "live/poll",
    input = leptos::server_fn::codec::Json,
    output = crate::wire::Json
)]
pub async fn poll_events(cursors: Vec<Cursor>) -> Result<PollResponse, AppError> {
    crate::server::live::poll(cursors).await
}
