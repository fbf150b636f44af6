//! The WebSocket transport of the live layer (`GET /live`), on the same port as the app.
//!
//! One task per socket: it reads client frames, writes what the hub queues for it,
//! pings, and closes the socket when the session token expires. Everything it sends
//! comes from the event log through the same cursors as the polling transport.

use std::{collections::HashMap, time::Duration};

use app::{
    auth::SessionUser,
    live::{Cursor, Stream},
    server::{
        authz,
        hub::{close, Outbound},
        live::{may_read, replay, Replay},
        AppState,
    },
};
use axum::{
    extract::{
        ws::{CloseFrame, Message, Utf8Bytes, WebSocket},
        State, WebSocketUpgrade,
    },
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use tokio::time::{interval, sleep_until, Instant, MissedTickBehavior};

use crate::startup::Origins;

/// Limits of one socket (documented in docs/PROTOCOL.md).
/// Heartbeat, queue and write timeout: `AppState::live` (`LiveSettings`).
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
/// Client frames: a burst of 40, refilled at 20 per second.
const RATE_BURST: f64 = 40.0;
const RATE_PER_SEC: f64 = 20.0;
const MAX_ERRORS: u32 = 10;
const MAX_STREAMS: usize = app::live::MAX_POLL_STREAMS;
/// Replay at most this many events per stream on subscribe; beyond, the client resyncs.
const MAX_REPLAY: i64 = 5_000;

/// `GET /live`: authenticates (session cookie or bearer token) and checks the `Origin`
/// before upgrading. Nothing is opened for a stranger.
pub async fn upgrade(
    State(state): State<AppState>,
    axum::Extension(origins): axum::Extension<Origins>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if !origins.allows(&headers) {
        return (StatusCode::FORBIDDEN, "cross-site WebSocket refused").into_response();
    }
    let (user, claims) = match authz::authenticate(&state, &headers).await {
        Ok(Some(found)) => found,
        Ok(None) => return (StatusCode::UNAUTHORIZED, "log in first").into_response(),
        Err(_) => return (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response(),
    };
    // Bounded: past the cap a client is told to poll for a while instead.
    let Ok(slot) = state.live_slots.clone().try_acquire_owned() else {
        tracing::warn!(user_id = user.id, "live connection refused: at capacity");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "5")],
            "too many live connections: poll instead",
        )
            .into_response();
    };
    let expires_in = Duration::from_secs(
        claims
            .exp
            .saturating_sub(app::server::now_ms() as u64 / 1000),
    );
    ws.max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_write_buffer_size(MAX_FRAME_BYTES * 4)
        .on_upgrade(move |socket| serve(socket, state, user, expires_in, slot))
        .into_response()
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientFrame {
    Subscribe { cursors: Vec<Cursor> },
    Unsubscribe { streams: Vec<Stream> },
    Ping,
}

struct Socket {
    ws: WebSocket,
    errors: u32,
    write_timeout: Duration,
}

impl Socket {
    /// False when the socket is gone, or took no bytes for `write_timeout` (a client
    /// that stopped reading: its task and buffers are freed rather than held forever).
    async fn send(&mut self, text: impl Into<Utf8Bytes>) -> bool {
        matches!(
            tokio::time::timeout(self.write_timeout, self.ws.send(Message::Text(text.into())))
                .await,
            Ok(Ok(()))
        )
    }

    async fn json(&mut self, value: serde_json::Value) -> bool {
        self.send(value.to_string()).await
    }

    async fn error(&mut self, code: &str, message: &str) -> bool {
        self.errors += 1;
        self.json(serde_json::json!({"type": "error", "code": code, "message": message}))
            .await
    }

    async fn close(mut self, code: u16, reason: &'static str) {
        let frame = Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        }));
        let _ = tokio::time::timeout(self.write_timeout, self.ws.send(frame)).await;
    }
}

/// Serves one socket until it closes; its place (`_slot`) is freed when this returns.
/// (The permit is an argument rather than held by a wrapping future, which would keep
/// a second copy of the socket and the state in every idle task: ~0.8 KiB measured.)
async fn serve(
    ws: WebSocket,
    state: AppState,
    user: SessionUser,
    expires_in: Duration,
    _slot: tokio::sync::OwnedSemaphorePermit,
) {
    let hub = state.hub.clone();
    let (conn, mut queue) = hub.connect(user.id);
    let settings = state.live;
    let mut socket = Socket {
        ws,
        errors: 0,
        write_timeout: settings.write_timeout,
    };
    let mut cursors: HashMap<Stream, i64> = HashMap::new();
    let mut ping = interval(settings.ping_every);
    ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ping.tick().await;
    let mut last_heard = Instant::now();
    let expiry = sleep_until(Instant::now() + expires_in);
    tokio::pin!(expiry);
    let (mut tokens, mut refilled) = (RATE_BURST, Instant::now());

    let hello = serde_json::json!({"type": "hello", "user_id": user.id, "ping_ms": settings.ping_every.as_millis() as u64});
    let mut outcome: Option<(u16, &'static str)> = None;
    if socket.json(hello).await {
        outcome = loop {
            tokio::select! {
                incoming = socket.ws.recv() => {
                    let message = match incoming {
                        Some(Ok(message)) => message,
                        // Over the frame cap: say so (1009) rather than just vanishing.
                        Some(Err(e)) if e.to_string().contains("Space limit exceeded") => {
                            break Some((close::TOO_BIG, "frame over 64 KiB"));
                        }
                        _ => break None,
                    };
                    last_heard = Instant::now();
                    let text = match message {
                        Message::Text(t) => t,
                        Message::Close(_) => break None,
                        Message::Ping(_) | Message::Pong(_) => continue,
                        Message::Binary(_) => {
                            if !socket.error("binary_frame", "Send JSON text frames.").await { break None }
                            continue;
                        }
                    };
                    // Rate limit per connection.
                    let now = Instant::now();
                    tokens = (tokens + now.duration_since(refilled).as_secs_f64() * RATE_PER_SEC).min(RATE_BURST);
                    refilled = now;
                    if tokens < 1.0 {
                        break Some((close::RATE_LIMITED, "too many frames"));
                    }
                    tokens -= 1.0;
                    let frame: ClientFrame = match serde_json::from_str(&text) {
                        Ok(f) => f,
                        Err(e) => {
                            let code = if e.is_data() { "unknown_frame" } else { "bad_json" };
                            if !socket.error(code, "The frame was not understood; see docs/PROTOCOL.md.").await { break None }
                            if socket.errors >= MAX_ERRORS { break Some((close::PROTOCOL_ERROR, "too many bad frames")) }
                            continue;
                        }
                    };
                    match frame {
                        ClientFrame::Ping => {
                            if !socket.json(serde_json::json!({"type": "pong"})).await { break None }
                        }
                        ClientFrame::Unsubscribe { streams } => {
                            for stream in streams {
                                hub.revoke_conn(conn, stream);
                                cursors.remove(&stream);
                            }
                        }
                        ClientFrame::Subscribe { cursors: wanted } => {
                            if cursors.len() + wanted.len() > MAX_STREAMS {
                                if !socket.error("too_many_streams", "Subscribe to at most 64 streams.").await { break None }
                                continue;
                            }
                            if !subscribe(&state, &user, conn, &mut socket, &mut cursors, wanted).await { break None }
                        }
                    }
                }
                out = queue.recv() => match out {
                    // Ephemeral (seq 0): not logged, so no cursor to keep; pass it on.
                    Some(Outbound::Event { seq: 0, frame, .. }) => {
                        if !socket.send(frame).await { break None }
                    }
                    Some(Outbound::Event { stream, seq, frame }) => {
                        // Drop what the replay already sent, and anything for a stream
                        // this socket left.
                        let Some(cursor) = cursors.get_mut(&stream) else { continue };
                        if seq <= *cursor { continue }
                        *cursor = seq;
                        if !socket.send(frame).await { break None }
                    }
                    Some(Outbound::Close { code, reason }) => break Some((code, reason)),
                    Some(Outbound::Revoked { stream }) => {
                        if cursors.remove(&stream).is_some() {
                            let frame = serde_json::json!({"type": "revoked", "streams": [stream]});
                            if !socket.json(frame).await { break None }
                        }
                    }
                    // The hub dropped us: our queue overflowed.
                    None => {
                        hub.counters.resumes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        break Some((close::RESUME, "fell behind: resume from your cursors"));
                    }
                },
                _ = ping.tick() => {
                    if last_heard.elapsed() > settings.silence_limit { break Some((close::GOING_AWAY, "no answer to pings")) }
                    if !matches!(tokio::time::timeout(settings.write_timeout, socket.ws.send(Message::Ping(Default::default()))).await, Ok(Ok(()))) { break None }
                }
                _ = &mut expiry => break Some((close::SESSION_ENDED, "session expired")),
            }
        };
    }
    hub.disconnect(conn);
    if let Some((code, reason)) = outcome {
        tracing::debug!(user_id = user.id, code, reason, "closing live socket");
        socket.close(code, reason).await;
    }
}

/// Joins the rooms of the streams the user may read and replays what they missed.
async fn subscribe(
    state: &AppState,
    user: &SessionUser,
    conn: app::server::hub::ConnId,
    socket: &mut Socket,
    cursors: &mut HashMap<Stream, i64>,
    wanted: Vec<Cursor>,
) -> bool {
    let mut answer = Vec::new();
    let mut denied = Vec::new();
    let mut resync = Vec::new();
    for Cursor { stream, after } in wanted {
        if after < 0 {
            return socket
                .error("bad_cursor", "A cursor cannot be negative.")
                .await;
        }
        match may_read(state, user.id, stream).await {
            Ok(true) => {}
            Ok(false) => {
                denied.push(stream);
                continue;
            }
            Err(_) => return socket.error("unavailable", "Try again.").await,
        }
        let Ok(head) = app::server::outbox::head_in(&state.db.pool, stream).await else {
            return socket.error("unavailable", "Try again.").await;
        };
        state.hub.join(conn, stream, head);
        let mut cursor = after;
        loop {
            match replay(state, stream, cursor, 500).await {
                Ok(Replay::Events { events, more }) => {
                    for (seq, json) in events {
                        if !socket.send(app::server::hub::event_frame(&json)).await {
                            return false;
                        }
                        cursor = seq;
                    }
                    if !more {
                        break;
                    }
                    if cursor - after > MAX_REPLAY {
                        // Too far behind to replay: start over from the head.
                        resync.push(stream);
                        cursor = app::server::outbox::head_in(&state.db.pool, stream)
                            .await
                            .unwrap_or(cursor);
                        break;
                    }
                }
                Ok(Replay::Resync { head }) => {
                    state
                        .hub
                        .counters
                        .resyncs
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    resync.push(stream);
                    cursor = head;
                    break;
                }
                Err(_) => return socket.error("unavailable", "Try again.").await,
            }
        }
        cursors.insert(stream, cursor);
        answer.push(Cursor {
            stream,
            after: cursor,
        });
    }
    socket.json(serde_json::json!({"type": "subscribed", "cursors": answer, "resync": resync, "denied": denied})).await
}

impl Origins {
    /// A browser's `Origin`, when sent, must be the site itself or an allowed origin.
    pub fn allows(&self, headers: &HeaderMap) -> bool {
        let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
        match origin {
            None => {
                headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) != Some("cross-site")
            }
            Some(o) => {
                let authority = o.split_once("://").map(|(_, a)| a);
                (authority.is_some() && authority == host) || self.0.iter().any(|a| a == o)
            }
        }
    }
}
