//! The live hub: which sockets listen to which stream, and delivery of the event log
//! to them.
//!
//! Writers call [`Hub::notify`] after their transaction commits. One task per process
//! (`run`) tails the log of each notified stream from its own high-water mark and hands
//! every event, serialized once into a shared `Frame` (reference-counted bytes: every socket
//! writes the same buffer, none copies it), to the bounded queue of
//! each socket in that stream's room. A socket whose queue is full is told to resume
//! (it reconnects with its cursors) instead of being buffered without limit.
//!
//! Rooms are the authorization at delivery: `revoke` takes a user's sockets out of a
//! room when the log says they lost access, before anything later is fanned out. A
//! socket joins a room *before* its access is checked (`server/src/live.rs`), so a
//! removal that commits after the check finds it in the room and revokes it, and one
//! that committed before is seen by the check: there is no moment in between.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
};

use tokio::sync::mpsc;

use super::{
    db::Db,
    metrics::{HubStats, KindCounters, KindLabel, LiveCounters},
    outbox,
};
use crate::live::{access_change, AccessChange, Envelope, Event, EventKind, Stream};

pub type ConnId = u64;

/// What the hub hands a connection.
#[derive(Debug, Clone)]
pub enum Outbound {
    /// A ready-to-send text frame of one event, with its stream and seq so the
    /// connection can drop what it already sent during replay.
    Event {
        stream: Stream,
        seq: i64,
        frame: Frame,
    },
    /// Close the socket with this code and reason.
    Close { code: u16, reason: &'static str },
    /// The socket was taken out of this stream's room (its user lost access).
    Revoked { stream: Stream },
}

/// An operator's command that every instance carries out (sent between instances on
/// PostgreSQL's `liveledger_control` channel).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Control {
    Announce(crate::live::catalog::Announcement),
    Disconnect { user_id: i64 },
}

/// Close codes (documented in docs/PROTOCOL.md), shared with clients.
pub use crate::live::protocol::close;

struct Conn {
    user_id: i64,
    tx: mpsc::Sender<Outbound>,
    streams: HashSet<Stream>,
}

#[derive(Default)]
struct Inner {
    conns: HashMap<ConnId, Conn>,
    rooms: HashMap<Stream, HashSet<ConnId>>,
    /// Last seq delivered per stream with a room (the hub's high-water marks).
    delivered: HashMap<Stream, i64>,
}

impl Inner {
    /// Takes a connection out of a room; an empty room is forgotten with its mark.
    fn leave(&mut self, id: ConnId, stream: Stream) {
        if let Some(room) = self.rooms.get_mut(&stream) {
            room.remove(&id);
            if room.is_empty() {
                self.rooms.remove(&stream);
                self.delivered.remove(&stream);
            }
        }
    }
}

pub struct Hub {
    inner: Mutex<Inner>,
    next_id: AtomicU64,
    wake: mpsc::UnboundedSender<Stream>,
    /// What the live layer counts, in the prometheus families `/metrics` encodes.
    pub counters: LiveCounters,
    /// Events emitted, delivered and dropped per kind (for `/metrics`).
    pub kinds: KindCounters,
    /// Per-connection queue length; a full queue closes the socket with RESUME.
    pub queue_len: usize,
    /// A random id telling this instance's control messages from others'.
    pub instance: u64,
}

impl Hub {
    /// Creates the hub and the receiver its delivery task (`run`) consumes.
    pub fn new(queue_len: usize) -> (Arc<Hub>, mpsc::UnboundedReceiver<Stream>) {
        let (wake, rx) = mpsc::unbounded_channel();
        let hub = Hub {
            inner: Mutex::new(Inner::default()),
            next_id: AtomicU64::new(1),
            wake,
            counters: LiveCounters::default(),
            kinds: Default::default(),
            queue_len,
            instance: rand::random(),
        };
        (Arc::new(hub), rx)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Tells the hub that `stream` has new events (call after commit).
    pub fn notify(&self, stream: Stream) {
        let _ = self.wake.send(stream);
    }

    /// Wakes every stream that has a room (after missing notifications).
    pub fn wake_all(&self) {
        let streams: Vec<Stream> = self.lock().rooms.keys().copied().collect();
        for stream in streams {
            self.notify(stream);
        }
    }

    /// Registers a connection; its queue is the receiver returned.
    pub fn connect(&self, user_id: i64) -> (ConnId, mpsc::Receiver<Outbound>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(self.queue_len);
        self.lock().conns.insert(
            id,
            Conn {
                user_id,
                tx,
                streams: HashSet::new(),
            },
        );
        self.counters.connections_opened.inc();
        (id, rx)
    }

    pub fn disconnect(&self, id: ConnId) {
        let mut inner = self.lock();
        if let Some(conn) = inner.conns.remove(&id) {
            for stream in conn.streams {
                inner.leave(id, stream);
            }
        }
    }

    /// Adds the connection to a stream's room; the caller checks access *after* this
    /// and leaves again (`revoke_conn`) if it may not read the stream. `head` is the
    /// stream's head read *before* joining; the connection then replays the log itself
    /// up to the head it reads *after* joining, and the hub delivers everything later,
    /// so nothing falls between replay and live.
    pub fn join(&self, id: ConnId, stream: Stream, head: i64) {
        let mut inner = self.lock();
        if let Some(conn) = inner.conns.get_mut(&id) {
            conn.streams.insert(stream);
            inner.rooms.entry(stream).or_default().insert(id);
            inner.delivered.entry(stream).or_insert(head);
        }
    }

    /// Takes every socket of `user_id` out of `stream`'s room, at once.
    pub fn revoke(&self, user_id: i64, stream: Stream) {
        let mut inner = self.lock();
        let ids: Vec<ConnId> = inner
            .rooms
            .get(&stream)
            .map(|room| {
                room.iter()
                    .copied()
                    .filter(|id| inner.conns.get(id).is_some_and(|c| c.user_id == user_id))
                    .collect()
            })
            .unwrap_or_default();
        for id in ids {
            inner.leave(id, stream);
            if let Some(conn) = inner.conns.get_mut(&id) {
                conn.streams.remove(&stream);
                // Tell the client, so its view can leave the workspace. A full queue
                // drops the notice; that socket is about to be told to resume anyway.
                let _ = conn.tx.try_send(Outbound::Revoked { stream });
            }
        }
    }

    /// Takes one connection out of a stream's room (the client unsubscribed).
    pub fn revoke_conn(&self, id: ConnId, stream: Stream) {
        let mut inner = self.lock();
        inner.leave(id, stream);
        if let Some(conn) = inner.conns.get_mut(&id) {
            conn.streams.remove(&stream);
        }
    }

    /// Closes every socket of `user_id` (force-disconnect); returns how many. Their
    /// queues keep what is already in them (the revocation notice) ahead of the close.
    pub fn close_user(&self, user_id: i64, code: u16, reason: &'static str) -> usize {
        let mut inner = self.lock();
        let ids: Vec<ConnId> = inner
            .conns
            .iter()
            .filter(|(_, c)| c.user_id == user_id)
            .map(|(id, _)| *id)
            .collect();
        for id in &ids {
            if let Some(conn) = inner.conns.remove(id) {
                // A full queue cannot take the close: dropping the sender ends it too.
                let _ = conn.tx.try_send(Outbound::Close { code, reason });
                for s in conn.streams {
                    inner.leave(*id, s);
                }
            }
        }
        ids.len()
    }

    /// Closes every socket (graceful shutdown).
    pub fn close_all(&self, code: u16, reason: &'static str) {
        let inner = self.lock();
        for conn in inner.conns.values() {
            let _ = conn.tx.try_send(Outbound::Close { code, reason });
        }
    }

    /// Sends an ephemeral event (not logged, `seq` 0) on the `system` stream to every
    /// socket on this instance, serialized once. Returns how many sockets got it. A
    /// socket whose queue is full misses it (ephemeral events are best effort; it is
    /// being told to resume anyway).
    pub fn broadcast(&self, event: Event) -> usize {
        self.send_ephemeral(Stream::System, event, |_| true)
    }

    /// Sends an ephemeral event on `user:<id>` to that user's sockets on this instance.
    pub fn send_to_user(&self, user_id: i64, event: Event) -> usize {
        self.send_ephemeral(Stream::User(user_id), event, |c| c.user_id == user_id)
    }

    fn send_ephemeral(&self, stream: Stream, event: Event, to: impl Fn(&Conn) -> bool) -> usize {
        let envelope = Envelope {
            seq: 0,
            stream,
            timestamp: super::clock::now_ms(),
            priority: event.kind().priority(),
            event,
        };
        let Ok(json) = serde_json::to_string(&envelope) else {
            return 0;
        };
        let frame = event_frame(&json);
        let inner = self.lock();
        let sent = inner
            .conns
            .values()
            .filter(|c| to(c))
            .filter(|c| {
                c.tx.try_send(Outbound::Event {
                    stream,
                    seq: 0,
                    frame: frame.clone(),
                })
                .is_ok()
            })
            .count();
        self.counters.events_delivered.inc_by(sent as u64);
        let label = KindLabel {
            kind: envelope.event.kind().name(),
        };
        self.kinds.emitted.get_or_create(&label).inc();
        self.kinds
            .delivered
            .get_or_create(&label)
            .inc_by(sent as u64);
        sent
    }

    /// Carries out an operator's command on this instance (see `Control`).
    pub fn apply_control(&self, control: Control) -> usize {
        match control {
            Control::Announce(a) => self.broadcast(Event::SystemAnnouncement(a)),
            Control::Disconnect { user_id } => {
                self.send_to_user(
                    user_id,
                    Event::SessionRevoked(crate::live::catalog::SessionRevoked {
                        reason: "Your sessions were ended by an operator.".into(),
                    }),
                );
                self.close_user(user_id, close::SESSION_ENDED, "session revoked")
            }
        }
    }

    /// Open sockets of one user on this instance.
    pub fn sockets_of(&self, user_id: i64) -> usize {
        self.lock()
            .conns
            .values()
            .filter(|c| c.user_id == user_id)
            .count()
    }

    /// Sockets in a stream's room, and the distinct users behind them.
    pub fn room_size(&self, stream: Stream) -> (usize, usize) {
        let inner = self.lock();
        let Some(room) = inner.rooms.get(&stream) else {
            return (0, 0);
        };
        let users: HashSet<i64> = room
            .iter()
            .filter_map(|id| inner.conns.get(id).map(|c| c.user_id))
            .collect();
        (room.len(), users.len())
    }

    /// Sockets per user in a stream's room.
    pub fn room_members(&self, stream: Stream) -> HashMap<i64, usize> {
        let inner = self.lock();
        let mut members = HashMap::new();
        for id in inner.rooms.get(&stream).into_iter().flatten() {
            if let Some(conn) = inner.conns.get(id) {
                *members.entry(conn.user_id).or_insert(0) += 1;
            }
        }
        members
    }

    pub fn stats(&self) -> HubStats {
        let inner = self.lock();
        let users: HashSet<i64> = inner.conns.values().map(|c| c.user_id).collect();
        HubStats {
            connections: inner.conns.len(),
            users: users.len(),
            rooms: inner.rooms.len(),
        }
    }

    /// Hands one event frame to every socket in the stream's room. Sockets whose queue
    /// is full are told to resume and leave the room.
    fn fan_out(&self, stream: Stream, seq: i64, kind: &'static str, frame: Frame) {
        let mut inner = self.lock();
        let Some(room) = inner.rooms.get(&stream) else {
            return;
        };
        let mut overflowed = Vec::new();
        let mut delivered = 0u64;
        for id in room {
            let Some(conn) = inner.conns.get(id) else {
                continue;
            };
            match conn.tx.try_send(Outbound::Event {
                stream,
                seq,
                frame: frame.clone(),
            }) {
                Ok(()) => delivered += 1,
                Err(mpsc::error::TrySendError::Full(_)) => overflowed.push(*id),
                Err(mpsc::error::TrySendError::Closed(_)) => {}
            }
        }
        self.counters.events_delivered.inc_by(delivered);
        let label = KindLabel { kind };
        self.kinds.delivered.get_or_create(&label).inc_by(delivered);
        if !overflowed.is_empty() {
            self.kinds
                .dropped
                .get_or_create(&label)
                .inc_by(overflowed.len() as u64);
        }
        for id in overflowed {
            self.counters.events_dropped_overflow.inc();
            if let Some(conn) = inner.conns.remove(&id) {
                // The queue is full, so the close cannot be queued: dropping the sender
                // ends the connection's queue, which the connection reads as "resume".
                for s in conn.streams {
                    inner.leave(id, s);
                }
            }
        }
    }

    fn delivered(&self, stream: Stream) -> Option<i64> {
        self.lock().delivered.get(&stream).copied()
    }

    fn set_delivered(&self, stream: Stream, seq: i64) {
        if let Some(mark) = self.lock().delivered.get_mut(&stream) {
            *mark = (*mark).max(seq);
        }
    }
}

/// A text frame ready to send. Cloning it shares the bytes (a reference count), so a
/// fan-out to N sockets allocates and copies the frame once, not N times.
pub type Frame = axum::extract::ws::Utf8Bytes;

/// The wire frame of an event: the stored envelope with `"type":"event"` in front.
pub fn event_frame(envelope_json: &str) -> Frame {
    Frame::from(crate::live::protocol::event_frame(envelope_json))
}

/// The delivery task: for each woken stream, reads the log after the hub's high-water
/// mark and fans the events out in order. Runs until the hub is dropped.
pub async fn run(hub: Arc<Hub>, db: Db, mut wake: mpsc::UnboundedReceiver<Stream>) {
    while let Some(first) = wake.recv().await {
        let mut streams = HashSet::from([first]);
        while let Ok(more) = wake.try_recv() {
            streams.insert(more);
        }
        for stream in streams {
            if let Err(e) = deliver(&hub, &db, stream).await {
                tracing::error!(error = %e, stream = %stream.key(), "live delivery failed");
            }
        }
    }
}

/// The PostgreSQL channel of operator commands: `[instance, Control]` as JSON.
pub const CONTROL_CHANNEL: &str = "liveledger_control";

/// Carries out `control` here and, on PostgreSQL, on every other instance. Returns
/// how many sockets of this instance it reached.
pub async fn command(hub: &Hub, db: &Db, control: Control) -> crate::error::AppResult<usize> {
    let here = hub.apply_control(control.clone());
    if db.backend == super::db::Backend::Postgres {
        let payload = serde_json::to_string(&(hub.instance, &control)).map_err(|e| {
            tracing::error!(error = %e, "could not serialize a control message");
            crate::error::AppError::Internal
        })?;
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CONTROL_CHANNEL)
            .bind(payload)
            .execute(&db.pool)
            .await?;
    }
    Ok(here)
}

/// Wakes this instance for commits made by any instance on the same PostgreSQL
/// database: LISTENs on `outbox::WAKE_CHANNEL` and hands each stream to `notify`. After
/// (re)connecting it wakes every room, since notifications sent while it was not
/// listening are lost; the log itself never is. Runs for the life of the process.
pub async fn listen_postgres(hub: Arc<Hub>, url: String) {
    let mut backoff = std::time::Duration::from_secs(1);
    loop {
        match sqlx::postgres::PgListener::connect(&url).await {
            Ok(mut listener) => match listener
                .listen_all([outbox::WAKE_CHANNEL, CONTROL_CHANNEL])
                .await
            {
                Ok(()) => {
                    backoff = std::time::Duration::from_secs(1);
                    hub.wake_all();
                    loop {
                        match listener.try_recv().await {
                            Ok(Some(n)) if n.channel() == CONTROL_CHANNEL => {
                                match serde_json::from_str::<(u64, Control)>(n.payload()) {
                                    // Sent by this instance: already carried out.
                                    Ok((from, _)) if from == hub.instance => {}
                                    Ok((_, control)) => {
                                        hub.apply_control(control);
                                    }
                                    Err(e) => tracing::warn!(error = %e, "bad control message"),
                                }
                            }
                            Ok(Some(n)) => {
                                if let Some(stream) = Stream::parse(n.payload()) {
                                    hub.notify(stream);
                                }
                            }
                            // The connection dropped; the next call reconnects and
                            // listens again. Catch up on whatever was missed meanwhile.
                            Ok(None) => hub.wake_all(),
                            Err(e) => {
                                tracing::warn!(error = %e, "lost the PostgreSQL listener");
                                break;
                            }
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not LISTEN for live events"),
            },
            Err(e) => tracing::warn!(error = %e, "could not connect the PostgreSQL listener"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(std::time::Duration::from_secs(30));
    }
}

async fn deliver(hub: &Hub, db: &Db, stream: Stream) -> Result<(), crate::error::AppError> {
    // No room, no listener: nothing to deliver (sockets replay the past themselves).
    let Some(mut after) = hub.delivered(stream) else {
        return Ok(());
    };
    loop {
        let events = outbox::read_after(&db.pool, stream, after, 500).await?;
        let Some(&(last, _, _)) = events.last() else {
            break;
        };
        for (seq, kind, json) in &events {
            // Authorization at delivery, on every instance, decided by the event's kind:
            // a member who left leaves the room before their `member:left` (or anything
            // later) goes out; after a deletion has gone out, nobody may read the stream
            // any more and every socket leaves the room (each is told `revoked`).
            let change = access_change(kind, json);
            if let Some(AccessChange::Left(user_id)) = change {
                hub.revoke(user_id, stream);
            }
            let kind = EventKind::from_name(kind).map_or("unknown", |k| k.name());
            hub.fan_out(stream, *seq, kind, event_frame(json));
            if change == Some(AccessChange::Closed) {
                for user_id in hub.room_members(stream).into_keys() {
                    hub.revoke(user_id, stream);
                }
            }
            hub.kinds.emitted.get_or_create(&KindLabel { kind }).inc();
        }
        hub.counters.events_emitted.inc_by(events.len() as u64);
        after = last;
        hub.set_delivered(stream, after);
        if events.len() < 500 {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_frames_are_the_envelope_with_a_type() {
        let frame = event_frame(r#"{"seq":1,"stream":"ws:2"}"#);
        assert_eq!(&*frame, r#"{"type":"event","seq":1,"stream":"ws:2"}"#);
    }

    #[tokio::test]
    async fn rooms_follow_joins_revokes_and_disconnects() {
        let (hub, _wake) = Hub::new(4);
        let (a, mut rx_a) = hub.connect(1);
        let (b, mut rx_b) = hub.connect(2);
        let ws = Stream::Workspace(9);
        hub.join(a, ws, 0);
        hub.join(b, ws, 0);
        hub.fan_out(ws, 1, "expense:created", Frame::from_static("x"));
        assert!(matches!(
            rx_a.try_recv(),
            Ok(Outbound::Event { seq: 1, .. })
        ));
        assert!(matches!(
            rx_b.try_recv(),
            Ok(Outbound::Event { seq: 1, .. })
        ));

        hub.revoke(2, ws);
        hub.fan_out(ws, 2, "expense:created", Frame::from_static("y"));
        assert!(matches!(
            rx_a.try_recv(),
            Ok(Outbound::Event { seq: 2, .. })
        ));
        assert!(
            matches!(rx_b.try_recv(), Ok(Outbound::Revoked { stream }) if stream == ws),
            "a revoked user is told so"
        );
        assert!(
            rx_b.try_recv().is_err(),
            "a revoked user receives nothing more"
        );

        let (a2, _rx_a2) = hub.connect(1);
        hub.join(a2, ws, 0);
        assert_eq!((hub.sockets_of(1), hub.sockets_of(2)), (2, 1));
        assert_eq!(hub.room_size(ws), (2, 1), "two sockets of one user");
        assert_eq!(hub.room_members(ws), HashMap::from([(1, 2)]));
        hub.disconnect(a2);
        hub.disconnect(a);
        assert_eq!(hub.room_size(ws), (0, 0));
        assert_eq!(
            hub.stats(),
            HubStats {
                connections: 1,
                users: 1,
                rooms: 0
            }
        );
    }

    #[tokio::test]
    async fn a_full_queue_ends_the_connection_instead_of_growing() {
        let (hub, _wake) = Hub::new(2);
        let (a, mut rx) = hub.connect(1);
        let ws = Stream::Workspace(1);
        hub.join(a, ws, 0);
        for seq in 1..=5 {
            hub.fan_out(ws, seq, "expense:created", Frame::from_static("e"));
        }
        assert_eq!(hub.counters.events_dropped_overflow.get(), 1);
        let mut got = Vec::new();
        while let Some(Outbound::Event { seq, .. }) = rx.recv().await {
            got.push(seq);
        }
        assert_eq!(
            got,
            [1, 2],
            "two queued, then the queue ended (the socket must resume)"
        );
        assert_eq!(hub.stats().connections, 0);
    }
}
