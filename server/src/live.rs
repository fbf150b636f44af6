//! The WebSocket transport of the live layer (`GET /live`), on the same port as the app.
//!
//! One task per socket: it reads client frames, writes what the hub queues for it,
//! pings, and closes the socket when the session token expires. Everything it sends
//! comes from the event log through the same cursors as the polling transport.
//!
//! Two orderings make the authorization hold however requests interleave:
//! - the socket registers with the hub *before* its token's version is read again, so a
//!   force-disconnect either sees it registered (and closes it) or has already bumped
//!   the version the socket then reads;
//! - a subscription joins the stream's room *before* its access is checked, so a
//!   removal either committed before the check (which refuses) or finds the socket in
//!   the room when its `member:left` is delivered (which revokes it); the replay itself
//!   stops where the log shows the reader losing access (`server::live::replay`).

use std::{net::SocketAddr, sync::Arc, time::Duration};

use app::{
    auth::SessionUser,
    live::{
        protocol::{close, ClientFrame, ErrorCode, ServerFrame},
        Cursor, Stream,
    },
    server::{
        authz,
        hub::{
            event_frame,
            outlet::SocketOut,
            queue::{Next, Receiver},
            ConnId, Outbound,
        },
        live::{readable_since, replay, Replay},
        session::Claims,
        slots::{Refused, Slot},
        AppState,
    },
};
use axum::{
    extract::{
        ws::{CloseFrame, Message, Utf8Bytes, WebSocket},
        ConnectInfo, State, WebSocketUpgrade,
    },
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use futures_util::{
    stream::{SplitStream, StreamExt},
    SinkExt,
};
use tokio::time::{interval, sleep_until, Instant, Interval, MissedTickBehavior, Sleep};

use crate::origin::Origins;

/// Limits of one socket (documented in docs/PROTOCOL.md).
/// Heartbeat, queue, write timeout, places and replay budget: `AppState::live`.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
/// Client frames of every kind (text, binary, ping, pong): a burst of 40, refilled at
/// 20 per second.
const RATE_BURST: f64 = 40.0;
const RATE_PER_SEC: f64 = 20.0;
/// Refused frames before the socket is closed with `close::PROTOCOL_ERROR`.
const MAX_ERRORS: u32 = 10;
const MAX_STREAMS: usize = app::live::MAX_POLL_STREAMS;
/// After sending a close, how long the socket keeps reading (and dropping) what the
/// client still sends, waiting for its close in return. Closing a TCP socket with
/// unread input makes the kernel reset the connection, and a reset makes the client's
/// kernel discard the close frame it had not read yet: the client would see 1006.
const CLOSE_DRAIN: Duration = Duration::from_secs(2);

/// `GET /live`: checks the `Origin`, authenticates (session cookie or bearer token) and
/// takes a place (per instance, user and address) before upgrading. Nothing is opened
/// for a stranger.
pub async fn upgrade(
    State(state): State<Arc<AppState>>,
    axum::Extension(origins): axum::Extension<Origins>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
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
    let client = state.trusted_proxies.client_ip(peer.ip(), &headers);
    let slot = match state.live_slots.take(user.id, client) {
        Ok(slot) => slot,
        Err(refused) => {
            tracing::warn!(user_id = user.id.0, ?refused, "live connection refused");
            let (status, retry, message) = match refused {
                Refused::Instance => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "5",
                    "too many live connections here: poll instead",
                ),
                Refused::User => (
                    StatusCode::TOO_MANY_REQUESTS,
                    "30",
                    "too many live connections for this user: poll instead",
                ),
                Refused::Address => (
                    StatusCode::TOO_MANY_REQUESTS,
                    "30",
                    "too many live connections from this address: poll instead",
                ),
            };
            return (status, [(header::RETRY_AFTER, retry)], message).into_response();
        }
    };
    ws.max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .read_buffer_size(512)
        .write_buffer_size(0)
        .max_write_buffer_size(MAX_FRAME_BYTES * 4)
        .on_upgrade(move |socket| serve(socket, state, user, claims, slot))
        .into_response()
}

struct Socket {
    /// The writing half and the cursors. The task holds it whenever it runs its own
    /// code, and lends it to its queue only while it waits (`wait`).
    out: Option<Box<SocketOut>>,
    read: SplitStream<WebSocket>,
    /// Refused frames so far.
    errors: u32,
    write_timeout: Duration,
}

/// What ended a socket's wait.
enum Woke {
    Read(Option<Result<Message, axum::Error>>),
    Queue(Next<Outbound>),
    Ping,
    Expired,
    /// A write its queue's outlet began could not be finished: the socket is gone.
    Gone,
}

impl Socket {
    fn new(ws: WebSocket, write_timeout: Duration) -> Socket {
        let (sink, read) = ws.split();
        Socket {
            out: Some(SocketOut::new(sink)),
            read,
            errors: 0,
            write_timeout,
        }
    }

    fn out(&mut self) -> &mut SocketOut {
        self.out
            .as_mut()
            .expect("only `wait` lends the writing half, and it takes it back before it returns")
    }

    /// Waits for a client frame, something queued, the ping's tick or the session's
    /// end, lending the writing half to the queue meanwhile: an event fanned out to an
    /// idle socket is written at once by the fan-out (see `hub::queue`). The half is
    /// taken back, and a write the fan-out left unfinished finished, before this
    /// returns.
    async fn wait(
        &mut self,
        queue: &mut Receiver<Outbound, Box<SocketOut>>,
        ping: &mut Interval,
        expiry: std::pin::Pin<&mut Sleep>,
    ) -> Woke {
        if let Some(out) = self.out.take() {
            queue.lend(out);
        }
        let woke = tokio::select! {
            incoming = self.read.next() => Woke::Read(incoming),
            next = queue.next() => Woke::Queue(next),
            _ = ping.tick() => Woke::Ping,
            _ = expiry => Woke::Expired,
        };
        let Some((out, unfinished)) = queue.reclaim() else {
            return Woke::Gone;
        };
        let out = self.out.insert(out);
        if unfinished
            && !matches!(
                tokio::time::timeout(self.write_timeout, out.sink.flush()).await,
                Ok(Ok(()))
            )
        {
            return Woke::Gone;
        }
        woke
    }

    /// Sends one message. False when the socket is gone, or took no bytes for
    /// `write_timeout` (a client that stopped reading: its task and buffers are freed
    /// rather than held forever).
    async fn send_message(&mut self, message: Message) -> bool {
        let timeout = self.write_timeout;
        matches!(
            tokio::time::timeout(timeout, self.out().sink.send(message)).await,
            Ok(Ok(()))
        )
    }

    async fn send(&mut self, text: impl Into<Utf8Bytes>) -> bool {
        self.send_message(Message::Text(text.into())).await
    }

    async fn frame(&mut self, frame: &ServerFrame) -> bool {
        match serde_json::to_string(frame) {
            Ok(text) => self.send(text).await,
            Err(_) => false,
        }
    }

    /// Refuses a client frame. `Err` carries the close the socket ends with: gone, or
    /// one refusal too many.
    async fn refuse(&mut self, code: ErrorCode, message: &str) -> Result<(), Option<Ending>> {
        if code != ErrorCode::Unavailable {
            self.errors += 1;
        }
        let error = ServerFrame::Error {
            code,
            message: message.into(),
        };
        if !self.frame(&error).await {
            return Err(None);
        }
        if self.errors >= MAX_ERRORS {
            return Err(Some((close::PROTOCOL_ERROR, "too many bad frames")));
        }
        Ok(())
    }

    /// Sends a close frame, then reads until the client answers it (see `CLOSE_DRAIN`).
    async fn close(mut self, code: u16, reason: &'static str) {
        let frame = Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        }));
        if !self.send_message(frame).await {
            return;
        }
        let _ = tokio::time::timeout(CLOSE_DRAIN, async {
            while let Some(Ok(message)) = self.read.next().await {
                if matches!(message, Message::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }
}

/// How a socket ends: the close code and reason it is sent (`None`: no close frame).
type Ending = (u16, &'static str);

/// The close a failed read calls for: 1009 for a frame over the cap, 1007 for a text
/// frame that is not UTF-8, none when the connection is simply gone.
fn read_failure(error: axum::Error) -> Option<Ending> {
    use tungstenite::error::{CapacityError, Error};
    match error.into_inner().downcast::<Error>().map(|e| *e) {
        Ok(Error::Capacity(CapacityError::MessageTooLong { .. })) => {
            Some((close::TOO_BIG, "frame over 64 KiB"))
        }
        Ok(Error::Utf8(_)) => Some((close::INVALID_DATA, "text frame is not UTF-8")),
        _ => None,
    }
}

/// A token bucket: `take` spends one (or `n`) if there are that many.
struct Bucket {
    tokens: f64,
    burst: f64,
    per_sec: f64,
    refilled: Instant,
}

impl Bucket {
    fn new(burst: f64, per_sec: f64) -> Bucket {
        Bucket {
            tokens: burst,
            burst,
            per_sec,
            refilled: Instant::now(),
        }
    }

    fn refill(&mut self) -> f64 {
        let now = Instant::now();
        self.tokens = (self.tokens
            + now.duration_since(self.refilled).as_secs_f64() * self.per_sec)
            .min(self.burst);
        self.refilled = now;
        self.tokens
    }

    fn take(&mut self, n: f64) -> bool {
        if self.refill() < n {
            return false;
        }
        self.tokens -= n;
        true
    }
}

/// Events this socket may still replay (`LiveSettings::replay_burst` / `_per_sec`).
/// (The cursors of the streams it follows are in its `SocketOut`.)
struct Following {
    replay: Bucket,
}

/// Serves one socket until it closes; its place (`slot`) is freed when this returns.
/// (The place is captured here rather than held by a wrapping future, which would keep
/// a second copy of the socket and the state in every idle task: ~0.8 KiB measured.)
///
/// A plain function returning the task's future rather than an `async fn`: an async
/// fn keeps its arguments in slots of their own beside the locals they are moved into
/// (the WebSocket into `Socket`), so every idle task paid for the socket twice.
fn serve(
    ws: WebSocket,
    state: Arc<AppState>,
    user: SessionUser,
    claims: Claims,
    slot: Slot,
) -> impl std::future::Future<Output = ()> {
    let mut socket = Socket::new(ws, state.live.write_timeout);
    async move {
        let _slot = slot;
        let hub = &state.hub;
        // Registered first, then the token is checked again: see the module's comment.
        let (conn, mut queue) = hub.connect(user.id, claims.sid);
        // The rare, large futures (a query, a subscription, the closing drain) are
        // boxed: a task is as large as its largest await, and idle sockets should not
        // pay for them.
        let ending = match Box::pin(authz::session_current(&state, user.id, claims.ver)).await {
            Ok(true) => run(&mut socket, &state, &user, &claims, conn, &mut queue).await,
            Ok(false) => Some((close::SESSION_ENDED, "session revoked")),
            Err(_) => Some((close::GOING_AWAY, "try again")),
        };
        hub.disconnect(conn);
        if let Some((code, reason)) = ending {
            tracing::debug!(user_id = user.id.0, code, reason, "closing live socket");
            Box::pin(socket.close(code, reason)).await;
        }
    }
}

/// The socket's loop, from `hello` to the ending.
async fn run(
    socket: &mut Socket,
    state: &AppState,
    user: &SessionUser,
    claims: &Claims,
    conn: ConnId,
    queue: &mut Receiver<Outbound, Box<SocketOut>>,
) -> Option<Ending> {
    let hub = &state.hub;
    let settings = state.live;
    let mut following = Following {
        replay: Bucket::new(
            f64::from(settings.replay_burst),
            f64::from(settings.replay_per_sec),
        ),
    };
    let mut frames = Bucket::new(RATE_BURST, RATE_PER_SEC);
    let mut ping = interval(settings.ping_every);
    ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ping.tick().await;
    let mut last_heard = Instant::now();
    let expires_in = Duration::from_secs(
        claims
            .exp
            .saturating_sub(app::server::now_ms() as u64 / 1000),
    );
    let expiry = sleep_until(Instant::now() + expires_in);
    tokio::pin!(expiry);

    let hello = ServerFrame::Hello {
        user_id: user.id,
        ping_ms: settings.ping_every.as_millis() as u64,
    };
    if !socket.frame(&hello).await {
        return None;
    }
    loop {
        match socket.wait(queue, &mut ping, expiry.as_mut()).await {
            Woke::Read(incoming) => {
                let message = match incoming {
                    Some(Ok(message)) => message,
                    Some(Err(e)) => return read_failure(e),
                    None => return None,
                };
                if matches!(message, Message::Close(_)) {
                    return None;
                }
                last_heard = Instant::now();
                // Every frame counts, whatever its kind.
                if !frames.take(1.0) {
                    return Some((close::RATE_LIMITED, "too many frames"));
                }
                let text = match message {
                    Message::Text(text) => text,
                    Message::Binary(_) => {
                        if let Err(ending) = socket
                            .refuse(ErrorCode::BinaryFrame, "Send JSON text frames.")
                            .await
                        {
                            return ending;
                        }
                        continue;
                    }
                    _ => continue,
                };
                let frame: ClientFrame = match serde_json::from_str(&text) {
                    Ok(frame) => frame,
                    Err(e) => {
                        let code = if e.is_data() {
                            ErrorCode::UnknownFrame
                        } else {
                            ErrorCode::BadJson
                        };
                        if let Err(ending) = socket
                            .refuse(code, "The frame was not understood; see docs/PROTOCOL.md.")
                            .await
                        {
                            return ending;
                        }
                        continue;
                    }
                };
                let answered = match frame {
                    ClientFrame::Ping => {
                        if socket.frame(&ServerFrame::Pong).await {
                            Ok(())
                        } else {
                            Err(None)
                        }
                    }
                    ClientFrame::Unsubscribe { streams } => {
                        for stream in streams {
                            hub.revoke_conn(conn, stream);
                            socket.out().cursors.remove(&stream);
                        }
                        Ok(())
                    }
                    ClientFrame::Subscribe { cursors } => {
                        // Boxed, as in `serve`.
                        Box::pin(subscribe(
                            state,
                            user,
                            conn,
                            socket,
                            &mut following,
                            cursors,
                        ))
                        .await
                    }
                };
                if let Err(ending) = answered {
                    return ending;
                }
            }
            Woke::Queue(next) => match next {
                Next::Item(Outbound::Event(out)) => {
                    // Ephemeral (seq 0) events pass; logged ones are dropped when the
                    // replay sent them already, or their stream was left.
                    if socket.out().due(&out) && !socket.send(out.frame.clone()).await {
                        return None;
                    }
                }
                Next::Item(Outbound::Close { code, reason }) => return Some((code, reason)),
                Next::Item(Outbound::Revoked { stream }) => {
                    if socket.out().cursors.remove(&stream).is_some()
                        && !socket
                            .frame(&ServerFrame::Revoked {
                                streams: vec![stream],
                            })
                            .await
                    {
                        return None;
                    }
                }
                // `wait` finished what the outlet began.
                Next::Finish => {}
                // The hub dropped us: our queue overflowed.
                Next::Ended => {
                    hub.counters.resumes.inc();
                    return Some((close::RESUME, "fell behind: resume from your cursors"));
                }
            },
            Woke::Ping => {
                if last_heard.elapsed() > settings.silence_limit {
                    return Some((close::GOING_AWAY, "no answer to pings"));
                }
                if !socket.send_message(Message::Ping(Default::default())).await {
                    return None;
                }
            }
            Woke::Expired => return Some((close::SESSION_ENDED, "session expired")),
            Woke::Gone => return None,
        }
    }
}

/// Answers `subscribe`: the whole frame is checked first (a refused frame changes
/// nothing); a stream named twice counts once. For each stream: join its room, check
/// access, then replay what the client missed, within the socket's replay budget.
async fn subscribe(
    state: &AppState,
    user: &SessionUser,
    conn: ConnId,
    socket: &mut Socket,
    following: &mut Following,
    wanted: Vec<Cursor>,
) -> Result<(), Option<Ending>> {
    if wanted.iter().any(|c| c.after < 0) {
        return socket
            .refuse(ErrorCode::BadCursor, "A cursor cannot be negative.")
            .await;
    }
    let mut distinct: Vec<Cursor> = Vec::with_capacity(wanted.len());
    for cursor in wanted {
        if !distinct.iter().any(|c| c.stream == cursor.stream) {
            distinct.push(cursor);
        }
    }
    let new = distinct
        .iter()
        .filter(|c| !socket.out().cursors.contains_key(&c.stream))
        .count();
    if socket.out().cursors.len() + new > MAX_STREAMS {
        return socket
            .refuse(
                ErrorCode::TooManyStreams,
                "Subscribe to at most 64 streams.",
            )
            .await;
    }
    let hub = &state.hub;
    let (mut cursors, mut resync, mut denied) = (Vec::new(), Vec::new(), Vec::new());
    // Takes the socket out of a stream it may not (or could not) follow.
    let leave = |socket: &mut Socket, stream: Stream| {
        hub.revoke_conn(conn, stream);
        socket.out().cursors.remove(&stream);
    };
    // Each database read below waits for its turn (`LiveSlots::read`).
    let slots = &state.live_slots;
    for Cursor { stream, after } in distinct {
        let Ok(head_before) = slots
            .read(app::server::outbox::head_in(&state.db.pool, stream))
            .await
        else {
            return socket.refuse(ErrorCode::Unavailable, "Try again.").await;
        };
        hub.join(conn, stream, head_before);
        // Read *after* joining: see the module's comment.
        let since = slots.read(readable_since(state, user.id, stream)).await;
        // Everything up to this head is replayed here; everything after it reaches the
        // room (which the socket is already in) through the hub.
        let head = slots
            .read(app::server::outbox::head_in(&state.db.pool, stream))
            .await;
        let (since, head) = match (since, head) {
            (Ok(Some(since)), Ok(head)) => (since, head),
            (Ok(None), _) => {
                leave(socket, stream);
                denied.push(stream);
                continue;
            }
            _ => {
                leave(socket, stream);
                return socket.refuse(ErrorCode::Unavailable, "Try again.").await;
            }
        };
        // A cursor from before the reader's membership, or from the future (a restored
        // database), cannot be continued; nor can more than the socket may replay now:
        // start over from the head.
        if after < since || after > head || !following.replay.take((head - after) as f64) {
            hub.counters.resyncs.inc();
            resync.push(stream);
            socket.out().cursors.insert(stream, head);
            cursors.push(Cursor {
                stream,
                after: head,
            });
            continue;
        }
        let mut cursor = after;
        let mut ended = false;
        while cursor < head && !ended {
            let limit = (head - cursor).min(500);
            let replayed = slots
                .read(replay(state, user.id, stream, cursor, since, limit))
                .await;
            let events = match replayed {
                Ok(Replay::Events { events, .. }) if !events.is_empty() => events,
                Ok(Replay::Ends { events }) => {
                    ended = true;
                    events
                }
                Ok(Replay::Events { .. } | Replay::Resync { .. }) => {
                    // The retention job took events this cursor needed: start over.
                    resync.push(stream);
                    cursor = head;
                    break;
                }
                Err(_) => {
                    leave(socket, stream);
                    return socket.refuse(ErrorCode::Unavailable, "Try again.").await;
                }
            };
            for (seq, json) in events {
                if !socket.send(event_frame(&json)).await {
                    return Err(None);
                }
                cursor = seq;
            }
        }
        if ended {
            leave(socket, stream);
            denied.push(stream);
        } else {
            socket.out().cursors.insert(stream, cursor);
            cursors.push(Cursor {
                stream,
                after: cursor,
            });
        }
    }
    let answer = ServerFrame::Subscribed {
        cursors,
        resync,
        denied,
    };
    if socket.frame(&answer).await {
        Ok(())
    } else {
        Err(None)
    }
}
