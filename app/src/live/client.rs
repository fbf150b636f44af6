//! The browser's live connection, provided through context (`provide_live`,
//! `use_live`). It replaces the legacy `useWebSocket` hook.
//!
//! - A WebSocket to `/live` first; while it is down, the `live/poll` server function
//!   every 10 s (5 s at least, 60 s at most, ×1.5 after an error).
//! - Reconnects with exponential backoff and full jitter: 1 s doubling to a 5 s cap.
//! - One cursor per followed stream; an event with `seq <= cursor` is a duplicate and
//!   ignored, so switching transports never applies anything twice.
//! - Views subscribe per stream (`watch`) and get each burst of fresh events in one
//!   call, which they apply in one reactive update (see `live::follow` for the lists).
//!
//! On the server (SSR) the connection only exists as state: it starts in the browser.

use std::{collections::HashMap, sync::Arc};

use leptos::prelude::*;

use super::{Cursor, Envelope, EventKind, Stream};

/// What a subscriber of a stream is handed.
pub enum Delivery<'a> {
    /// Fresh events of the stream, oldest first, each delivered once.
    Events(&'a [Envelope]),
    /// The server no longer has every event after the subscriber's cursor (retention),
    /// or the subscriber is behind the connection: reload from a fresh snapshot.
    Resync,
    /// The user may no longer read the stream (removed from the workspace). Nothing
    /// more will come; the stream is no longer followed.
    Denied,
}

type Handler = Arc<dyn Fn(Delivery<'_>) + Send + Sync>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveStatus {
    Connecting,
    Live,
    Polling,
    Offline,
}

impl LiveStatus {
    pub fn label(self) -> &'static str {
        match self {
            LiveStatus::Connecting => "Connecting…",
            LiveStatus::Live => "Live",
            LiveStatus::Polling => "Polling",
            LiveStatus::Offline => "Offline",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LiveStatus::Connecting => "connecting",
            LiveStatus::Live => "live",
            LiveStatus::Polling => "polling",
            LiveStatus::Offline => "offline",
        }
    }
}

/// Handle to the live connection; cheap to copy.
#[derive(Clone, Copy)]
pub struct LiveConnection {
    pub status: RwSignal<LiveStatus>,
    /// Last applied seq per followed stream.
    pub cursors: RwSignal<HashMap<Stream, i64>>,
    /// What the last 50 events received were (stream, seq, timestamp, kind), newest
    /// last, for the event log panel: not the events themselves, so that handing them
    /// to their subscribers moves them instead of cloning each one.
    pub recent: RwSignal<Vec<(Stream, i64, i64, EventKind)>>,
    /// Who is told about which stream; see `watch`.
    subscribers: StoredValue<Vec<(u64, Stream, Handler)>>,
    next_subscriber: StoredValue<u64>,
}

impl LiveConnection {
    fn new() -> Self {
        LiveConnection {
            status: RwSignal::new(LiveStatus::Connecting),
            cursors: RwSignal::new(HashMap::new()),
            recent: RwSignal::new(Vec::new()),
            subscribers: StoredValue::new(Vec::new()),
            next_subscriber: StoredValue::new(0),
        }
    }

    /// Starts following `stream` from `after` (a list's cursor). Already followed
    /// streams keep the later of the two cursors.
    pub fn follow(&self, stream: Stream, after: i64) {
        let mut added = false;
        self.cursors.update(|c| {
            let entry = c.entry(stream).or_insert_with(|| {
                added = true;
                after
            });
            *entry = (*entry).max(after);
        });
        #[cfg(feature = "hydrate")]
        if added {
            browser::start(*self);
            browser::subscribe(self, &[Cursor { stream, after }]);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = added;
    }

    /// Subscribes `handler` to `stream` for as long as the calling view lives, and
    /// follows the stream from `after` (the cursor of the snapshot the view shows).
    /// If the connection is already past `after`, the events in between were handed
    /// out before this view existed: it is told to resync at once.
    pub fn watch(
        &self,
        stream: Stream,
        after: i64,
        handler: impl Fn(Delivery<'_>) + Send + Sync + 'static,
    ) {
        let id = self.next_subscriber.with_value(|n| *n);
        self.next_subscriber.set_value(id + 1);
        let handler: Handler = Arc::new(handler);
        self.subscribers
            .update_value(|s| s.push((id, stream, handler.clone())));
        let subscribers = self.subscribers;
        on_cleanup(move || {
            // The owner may outlive the connection's arena during teardown.
            let _ = subscribers.try_update_value(|s| s.retain(|(i, _, _)| *i != id));
        });
        if stream == Stream::System {
            // Broadcasts reach every socket unasked: nothing to follow or resume.
            return;
        }
        let ahead = self
            .cursors
            .with_untracked(|c| c.get(&stream).is_some_and(|seen| *seen > after));
        self.follow(stream, after);
        if ahead {
            handler(Delivery::Resync);
        }
    }

    /// Takes a burst of events from either transport: drops duplicates, advances the
    /// cursors in one update, then hands each stream's fresh events to its
    /// subscribers in one call (so a burst is one reactive update per view).
    pub fn apply(&self, events: Vec<Envelope>, resync: Vec<Stream>) {
        let mut fresh = Vec::new();
        self.cursors.update(|c| {
            for e in events {
                // Ephemeral events (seq 0) are not numbered: each arrives once, live.
                if e.seq == 0 {
                    fresh.push(e);
                    continue;
                }
                if let Some(cursor) = c.get_mut(&e.stream) {
                    if e.seq > *cursor {
                        *cursor = e.seq;
                        fresh.push(e);
                    }
                }
            }
        });
        if !fresh.is_empty() {
            self.recent.update(|r| {
                r.extend(
                    fresh
                        .iter()
                        .map(|e| (e.stream, e.seq, e.timestamp, e.event.kind())),
                );
                let excess = r.len().saturating_sub(50);
                r.drain(..excess);
            });
        }
        // One batch per stream, in arrival order within it; the streams in the order of
        // their first event.
        while let Some(stream) = fresh.first().map(|e| e.stream) {
            let (batch, rest): (Vec<Envelope>, Vec<Envelope>) =
                fresh.into_iter().partition(|e| e.stream == stream);
            for h in self.handlers(stream) {
                h(Delivery::Events(&batch));
            }
            fresh = rest;
        }
        for stream in resync {
            for h in self.handlers(stream) {
                h(Delivery::Resync);
            }
        }
    }

    /// Stops following streams the user lost access to and tells their subscribers.
    pub fn deny(&self, streams: Vec<Stream>) {
        if streams.is_empty() {
            return;
        }
        self.cursors.update(|c| {
            for s in &streams {
                c.remove(s);
            }
        });
        for stream in streams {
            for h in self.handlers(stream) {
                h(Delivery::Denied);
            }
        }
    }

    fn handlers(&self, stream: Stream) -> Vec<Handler> {
        self.subscribers.with_value(|s| {
            s.iter()
                .filter(|(_, st, _)| *st == stream)
                .map(|(_, _, h)| h.clone())
                .collect()
        })
    }

    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn snapshot(&self) -> Vec<Cursor> {
        self.cursors.with_untracked(|c| {
            c.iter()
                .map(|(s, a)| Cursor {
                    stream: *s,
                    after: *a,
                })
                .collect()
        })
    }
}

/// Provides the live connection to the page the server renders. In the browser the
/// connection is not in any context: the page's islands hydrate each with an owner of
/// its own, and they all share one connection (`use_live`). It connects when a view
/// first follows a stream (so the login page opens no socket).
pub fn provide_live() -> LiveConnection {
    let live = LiveConnection::new();
    provide_context(live);
    live
}

/// The page's live connection: from the context on the server, the one per page in
/// the browser (created by the first island that asks).
pub fn use_live() -> Option<LiveConnection> {
    #[cfg(feature = "hydrate")]
    {
        Some(browser::shared())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        use_context::<LiveConnection>()
    }
}

/// The last events this tab received (newest first), with their stream and seq: the
/// legacy guide's `socket.onAny`, for the curious user and for debugging.
#[component]
pub fn EventLog() -> impl IntoView {
    let recent = use_live().map(|l| l.recent);
    // Written as HTML text, newest first: a display-only list, which as a keyed view
    // cost the WASM a keyed list's diffing code of its own. Every part of an entry is
    // the app's own text (a catalog name, a stream key, a number): nothing to escape.
    let rows = move || {
        let events = recent.map(|r| r.get()).unwrap_or_default();
        let mut html = String::new();
        for (stream, seq, _, kind) in events.iter().rev() {
            html.push_str(&format!(
                r#"<li data-testid="event-log-entry"><code>{}</code> <span class="muted">{} #{seq}</span></li>"#,
                kind.name(),
                stream.key(),
            ));
        }
        html
    };
    view! {
        <details class="event-log" data-testid="event-log">
            <summary>"Event log"</summary>
            <p class="muted">"The last 50 events this tab received, newest first."</p>
            <ol inner_html=rows></ol>
        </details>
    }
}

/// The visible connection state. An island of its own: it is in the top bar of every
/// page that has one, beside what the server renders once.
#[island]
pub fn LiveIndicator() -> impl IntoView {
    let status = use_live().map(|l| l.status);
    let current = move || status.map(|s| s.get()).unwrap_or(LiveStatus::Offline);
    view! {
        <span class="live-status" data-testid="live-status" data-status=move || current().as_str() role="status">
            <span class="dot" aria-hidden="true"></span>
            {move || current().label()}
        </span>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    //! The browser half: the socket, the reconnect loop and the polling loop.

    use std::{cell::RefCell, time::Duration};

    use futures::{channel::mpsc, future::poll_fn, SinkExt, StreamExt};
    use gloo_net::websocket::{futures::WebSocket, Message, WebSocketError};
    use leptos::prelude::*;

    use super::{LiveConnection, LiveStatus};
    use crate::live::{
        poll::poll_events,
        protocol::{close, ClientFrame, ServerFrame},
        Cursor,
    };

    thread_local! {
        /// The open socket's outgoing frames; `None` while there is no open socket.
        static OUTBOX: RefCell<Option<mpsc::UnboundedSender<String>>> = const { RefCell::new(None) };
        static STARTED: RefCell<bool> = const { RefCell::new(false) };
        /// When the open socket last sent anything (ms since the epoch), and whether a
        /// ping has gone out since: a socket the browser keeps open after the network
        /// died says nothing, and is given up (`check_socket`).
        static HEARD: std::cell::Cell<(f64, bool)> = const { std::cell::Cell::new((0.0, false)) };
        /// Bumped when a socket is given up: its late close must not reconnect again.
        static GENERATION: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    }

    /// Silence after which the client asks (`ping`), and after which it gives the socket
    /// up: the server answers a ping at once and pings every 25 s itself.
    const QUIET_MS: f64 = 10_000.0;
    const DEAD_MS: f64 = 20_000.0;

    fn heard() {
        HEARD.set((js_sys::Date::now(), false));
    }

    fn online() -> bool {
        window().navigator().on_line()
    }

    const RECONNECT_BASE_MS: f64 = 1_000.0;
    const RECONNECT_CAP_MS: f64 = 5_000.0;
    const POLL_DEFAULT_MS: f64 = 10_000.0;
    const POLL_MIN_MS: f64 = 5_000.0;
    const POLL_MAX_MS: f64 = 60_000.0;

    thread_local! {
        /// The page's one connection, shared by its islands.
        static SHARED: std::cell::OnceCell<LiveConnection> = const { std::cell::OnceCell::new() };
    }

    /// The page's connection, made on first use under an owner of its own that lives
    /// as long as the page (no island's teardown takes its signals with it).
    pub fn shared() -> LiveConnection {
        SHARED.with(|shared| {
            *shared.get_or_init(|| {
                let owner = Owner::new_root(None);
                let live = owner.with(LiveConnection::new);
                std::mem::forget(owner);
                live
            })
        })
    }

    pub fn start(live: LiveConnection) {
        if STARTED.with(|s| s.replace(true)) {
            return;
        }
        connect(live, 0);
        leptos::task::spawn_local(poll_loop(live));
    }

    fn socket_url() -> Option<String> {
        let location = window().location();
        let scheme = if location.protocol().ok()? == "https:" {
            "wss"
        } else {
            "ws"
        };
        Some(format!("{scheme}://{}/live", location.host().ok()?))
    }

    fn subscribe_frame(cursors: &[Cursor]) -> Option<String> {
        serde_json::to_string(&ClientFrame::Subscribe {
            cursors: cursors.to_vec(),
        })
        .ok()
    }

    /// Sends a subscription if a socket is open; one that is still connecting
    /// subscribes to every followed stream once it opens.
    pub fn subscribe(_live: &LiveConnection, cursors: &[Cursor]) {
        let Some(text) = subscribe_frame(cursors) else {
            return;
        };
        OUTBOX.with(|o| {
            if let Some(tx) = o.borrow().as_ref() {
                let _ = tx.unbounded_send(text);
            }
        });
    }

    /// Opens the socket (gloo-net) and follows it until it closes, then reconnects
    /// (or, when the session ended, goes to the login page).
    fn connect(live: LiveConnection, attempt: u32) {
        // Offline, as the browser says: try again later, and say so meanwhile.
        if !online() {
            live.status.set(LiveStatus::Offline);
            schedule_reconnect(live, attempt);
            return;
        }
        let generation = GENERATION.get();
        let Some(url) = socket_url() else { return };
        let Ok(ws) = WebSocket::open(&url) else {
            schedule_reconnect(live, attempt);
            return;
        };
        if live.status.get_untracked() != LiveStatus::Polling {
            live.status.set(LiveStatus::Connecting);
        }
        let (mut sink, mut frames) = ws.split();
        // Set by the reader at the close, so that a writer whose socket never opened
        // does not offer itself to `subscribe` afterwards.
        let closed = std::rc::Rc::new(std::cell::Cell::new(false));
        let writer_sees = closed.clone();
        // The writer: waits for the socket to open, then, in one step with no await in
        // between (so no `watch` can slip past both), queues the resumption of every
        // followed stream from its cursor and offers itself to `subscribe`; then sends
        // what is queued, in order.
        leptos::task::spawn_local(async move {
            if poll_fn(|cx| sink.poll_ready_unpin(cx)).await.is_err() || writer_sees.get() {
                return;
            }
            let Some(resume) = subscribe_frame(&live.snapshot()) else {
                return;
            };
            let (tx, mut queued) = mpsc::unbounded::<String>();
            let _ = tx.unbounded_send(resume);
            OUTBOX.with(|o| *o.borrow_mut() = Some(tx));
            heard();
            while let Some(text) = queued.next().await {
                if sink.send(Message::Text(text)).await.is_err() {
                    break;
                }
            }
            // The reader closed, or the socket was given up: let it go.
            let _ = sink.close().await;
        });
        // The reader: every frame until the close.
        leptos::task::spawn_local(async move {
            let mut code = None;
            while let Some(frame) = frames.next().await {
                if GENERATION.get() != generation {
                    return;
                }
                heard();
                match frame {
                    Ok(Message::Text(text)) => on_frame(live, &text),
                    Ok(Message::Bytes(_)) => {}
                    Err(WebSocketError::ConnectionClose(event)) => code = Some(event.code),
                    // An error event: the close event follows.
                    Err(_) => {}
                }
            }
            // Given up already (`check_socket`): a new socket is on its way.
            if GENERATION.get() != generation {
                return;
            }
            // Dropping the sender ends the writer.
            closed.set(true);
            OUTBOX.with(|o| o.borrow_mut().take());
            // The session ended (expired or revoked): reconnecting cannot help.
            if code == Some(close::SESSION_ENDED) {
                live.status.set(LiveStatus::Offline);
                let _ = window().location().set_href("/login");
                return;
            }
            live.status.set(if online() {
                LiveStatus::Polling
            } else {
                LiveStatus::Offline
            });
            schedule_reconnect(live, attempt + 1);
        });
    }

    /// Every tick of the poll loop while live: the browser went offline, or the socket
    /// said nothing for `DEAD_MS` (not even a pong to the ping sent after `QUIET_MS`):
    /// it is given up — Offline or Polling at once, and a new socket tried.
    fn check_socket(live: LiveConnection) {
        let (at, pinged) = HEARD.get();
        let quiet = js_sys::Date::now() - at;
        let offline = !online();
        if offline || quiet > DEAD_MS {
            GENERATION.set(GENERATION.get() + 1);
            OUTBOX.with(|o| o.borrow_mut().take());
            live.status.set(if offline {
                LiveStatus::Offline
            } else {
                LiveStatus::Polling
            });
            schedule_reconnect(live, 1);
        } else if quiet > QUIET_MS && !pinged {
            HEARD.set((at, true));
            if let Ok(ping) = serde_json::to_string(&ClientFrame::Ping) {
                OUTBOX.with(|o| {
                    if let Some(tx) = o.borrow().as_ref() {
                        let _ = tx.unbounded_send(ping);
                    }
                });
            }
        }
    }

    fn on_frame(live: LiveConnection, text: &str) {
        let Ok(frame) = crate::live::protocol::parse_frame(text) else {
            return;
        };
        match frame {
            ServerFrame::Event(envelope) => live.apply(vec![envelope], Vec::new()),
            ServerFrame::Revoked { streams } => live.deny(streams),
            ServerFrame::Subscribed {
                cursors,
                resync,
                denied,
            } => {
                live.cursors.update(|c| {
                    for cursor in cursors {
                        let e = c.entry(cursor.stream).or_insert(cursor.after);
                        *e = (*e).max(cursor.after);
                    }
                });
                live.apply(Vec::new(), resync);
                live.deny(denied);
                live.status.set(LiveStatus::Live);
            }
            ServerFrame::Hello { .. } | ServerFrame::Error { .. } | ServerFrame::Pong => {}
        }
    }

    fn schedule_reconnect(live: LiveConnection, attempt: u32) {
        // Full jitter: a random delay up to min(cap, base * 2^attempt).
        let ceiling = (RECONNECT_BASE_MS * 2f64.powi(attempt.min(8) as i32)).min(RECONNECT_CAP_MS);
        let delay = js_sys::Math::random() * ceiling;
        set_timeout(
            move || connect(live, attempt),
            Duration::from_millis(delay as u64),
        );
    }

    async fn sleep(ms: f64) {
        let (tx, rx) = futures_channel();
        set_timeout(tx, Duration::from_millis(ms as u64));
        rx.await;
    }

    /// A one-shot signal from a timeout to an async task.
    fn futures_channel() -> (impl FnOnce(), impl std::future::Future<Output = ()>) {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let waker: std::rc::Rc<RefCell<Option<std::task::Waker>>> = Default::default();
        let w2 = waker.clone();
        let fire = move || {
            let _ = tx.send(());
            if let Some(w) = w2.borrow_mut().take() {
                w.wake();
            }
        };
        let fut = std::future::poll_fn(move |cx| {
            if rx.try_recv().is_ok() {
                std::task::Poll::Ready(())
            } else {
                *waker.borrow_mut() = Some(cx.waker().clone());
                std::task::Poll::Pending
            }
        });
        (fire, fut)
    }

    /// Polls while the socket is not live (at once when it drops, then every 10 s,
    /// backing off ×1.5 on errors); stops as soon as the socket is live again.
    async fn poll_loop(live: LiveConnection) {
        let mut interval = POLL_DEFAULT_MS;
        let mut last_poll: Option<f64> = None;
        loop {
            sleep(500.0).await;
            if live.status.get_untracked() == LiveStatus::Live {
                check_socket(live);
            }
            if matches!(
                live.status.get_untracked(),
                LiveStatus::Live | LiveStatus::Connecting
            ) {
                last_poll = None;
                interval = POLL_DEFAULT_MS;
                continue;
            }
            let now = js_sys::Date::now();
            if last_poll.is_some_and(|t| now - t < interval) {
                continue;
            }
            last_poll = Some(now);
            let cursors = live.snapshot();
            if cursors.is_empty() {
                continue;
            }
            match poll_events(cursors).await {
                Ok(answer) => {
                    if live.status.get_untracked() != LiveStatus::Live {
                        live.status.set(LiveStatus::Polling);
                    }
                    live.apply(answer.events, answer.resync);
                    live.deny(answer.denied);
                    interval = if answer.more {
                        POLL_MIN_MS
                    } else {
                        POLL_DEFAULT_MS
                    };
                }
                Err(_) => {
                    if live.status.get_untracked() != LiveStatus::Live {
                        live.status.set(LiveStatus::Offline);
                    }
                    interval = (interval * 1.5).clamp(POLL_MIN_MS, POLL_MAX_MS);
                }
            }
        }
    }
}
