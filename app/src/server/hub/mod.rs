//! The live hub: this module is the registry (which sockets listen to which stream,
//! joins, revocations, closes, ephemeral sends); `delivery` tails the log and fans
//! events out to the rooms with back-pressure; `cluster` connects the instances on one
//! PostgreSQL (the wake listener, operator commands); `queue` and `outlet` are a
//! socket's side of it. `delivery` and `cluster` import this module, never the reverse.
//!
//! Writers call [`Hub::committed`] after their transaction commits, with the events
//! they wrote; other instances' commits arrive through [`Hub::committed_elsewhere`],
//! with the events when their wake could carry them. One task per
//! process (`delivery::run`) takes each woken stream from its own high-water mark: the
//! events handed over when they continue that mark, else the log read from it. It hands
//! every event, serialized once into a shared `Frame` (reference-counted bytes: every
//! socket writes the same buffer, none copies it), to each socket in that stream's
//! room (`hand_out`): written at once into a socket whose task waits with nothing
//! queued (its lent `outlet`), else put in its bounded queue. A socket whose queue is
//! full is told to resume (it reconnects with its cursors) instead of being buffered
//! without limit.
//!
//! Rooms are the authorization at delivery: `revoke` takes a user's sockets out of a
//! room when the log says they lost access, before anything later is fanned out. A
//! socket joins a room *before* its access is checked (`server/src/live.rs`), so a
//! removal that commits after the check finds it in the room and revokes it, and one
//! that committed before is seen by the check: there is no moment in between.

use crate::model::ids::UserId;
use std::{
    collections::{HashMap, HashSet},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
};

use tokio::sync::mpsc;

use super::{
    metrics::{HubStats, KindCounters, KindLabel, LiveCounters},
    outbox::Logged,
};
use crate::live::{Envelope, Event, Stream};
use outlet::SocketOut;
pub use outlet::{event_frame, EventOut, Frame, Outbound};

pub mod cluster;
pub mod delivery;
pub mod outlet;
pub mod queue;

pub type ConnId = u64;

/// A stream with new events, for the delivery task (and, on PostgreSQL, for the other
/// instances): the events as logged, or none when the log must be read (a wake that
/// could not carry them, a missed wake).
#[derive(Debug, Clone)]
pub struct Wake {
    pub stream: Stream,
    pub events: Vec<Logged>,
}

/// Close codes (documented in docs/PROTOCOL.md), shared with clients.
pub use crate::live::protocol::close;

struct Conn {
    user_id: UserId,
    /// The sign-in its token belongs to (`Claims::sid`).
    session: u64,
    /// The socket's outlet is boxed: the socket's task and its queue each keep a place
    /// for it, and a place for a box is 8 bytes against about 90.
    tx: queue::Sender<Outbound, Box<SocketOut>>,
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
    /// Forgets a connection and takes it out of every room it was in; the sender of its
    /// queue is handed back (dropping it ends the queue: the socket reads "resume").
    fn remove(&mut self, id: ConnId) -> Option<queue::Sender<Outbound, Box<SocketOut>>> {
        let conn = self.conns.remove(&id)?;
        for stream in conn.streams {
            self.leave(id, stream);
        }
        Some(conn.tx)
    }

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
    wake: mpsc::UnboundedSender<Wake>,
    /// What the live layer counts, in the prometheus families `/metrics` encodes.
    pub counters: LiveCounters,
    /// Events emitted, delivered and dropped per kind (for `/metrics`).
    pub kinds: KindCounters,
    /// Per-connection queue length; a full queue closes the socket with RESUME.
    pub queue_len: usize,
    /// A random id telling this instance's control messages from others'.
    pub instance: u64,
    /// On PostgreSQL, what this instance committed, for the task that wakes the other
    /// instances after the commit (`cluster::wake_peers`); unset otherwise.
    peers: std::sync::OnceLock<mpsc::UnboundedSender<Wake>>,
}

impl Hub {
    /// Creates the hub and the receiver its delivery task (`run`) consumes.
    pub fn new(queue_len: usize) -> (Arc<Hub>, mpsc::UnboundedReceiver<Wake>) {
        let (wake, rx) = mpsc::unbounded_channel();
        let hub = Hub {
            inner: Mutex::new(Inner::default()),
            next_id: AtomicU64::new(1),
            wake,
            counters: LiveCounters::default(),
            kinds: Default::default(),
            queue_len,
            instance: rand::random(),
            peers: std::sync::OnceLock::new(),
        };
        (Arc::new(hub), rx)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The queues of a stream's room, to send to once the hub's lock is let go.
    fn room_handles(&self, stream: Stream) -> Option<Vec<(ConnId, Handle)>> {
        let inner = self.lock();
        let room = inner.rooms.get(&stream)?;
        Some(
            room.iter()
                .filter_map(|id| inner.conns.get(id).map(|c| (*id, c.tx.handle())))
                .collect(),
        )
    }

    /// Another instance committed `events` to `stream` (as its wake carried them; none
    /// when they did not fit): delivers them here.
    pub fn committed_elsewhere(&self, stream: Stream, events: Vec<Logged>) {
        let _ = self.wake.send(Wake { stream, events });
    }

    /// Tells the hub that `stream` has new events in the log (committed elsewhere).
    pub fn notify(&self, stream: Stream) {
        self.committed_elsewhere(stream, Vec::new());
    }

    /// A write to `stream` has committed on this instance with `events` (as logged, in
    /// order): delivers them here when the stream has a room here and, on PostgreSQL,
    /// has the other instances woken (batched, after the commit). Without a room the
    /// delivery task would find nothing to do (issue 12: a wake-up per unwatched
    /// write); a socket that joins after this check replays these events itself, since
    /// it reads the stream's head after joining (`live::subscribe`), as when the
    /// delivery task comes before the join.
    pub fn committed(&self, stream: Stream, events: Vec<Logged>) {
        let wake = Wake { stream, events };
        if let Some(peers) = self.peers.get() {
            let _ = peers.send(wake.clone());
        }
        if self.delivered(stream).is_some() {
            let _ = self.wake.send(wake);
        }
    }

    /// Wakes every stream that has a room (after missing notifications).
    pub fn wake_all(&self) {
        let streams: Vec<Stream> = self.lock().rooms.keys().copied().collect();
        for stream in streams {
            self.notify(stream);
        }
    }

    /// Registers a connection; its queue is the receiver returned.
    pub fn connect(
        &self,
        user_id: UserId,
        session: u64,
    ) -> (ConnId, queue::Receiver<Outbound, Box<SocketOut>>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = queue::queue(self.queue_len);
        self.lock().conns.insert(
            id,
            Conn {
                user_id,
                session,
                tx,
                streams: HashSet::new(),
            },
        );
        self.counters.connections_opened.inc();
        (id, rx)
    }

    pub fn disconnect(&self, id: ConnId) {
        let mut inner = self.lock();
        inner.remove(id);
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
    pub fn revoke(&self, user_id: UserId, stream: Stream) {
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
            let Some(conn) = inner.conns.get_mut(&id) else {
                continue;
            };
            conn.streams.remove(&stream);
            // Tell the client, so its view can leave the workspace. A full queue cannot
            // take the notice, and nothing of this stream will overflow it any more:
            // the connection ends as on overflow (the client resumes, and its
            // subscription is then denied), so no socket keeps believing it follows a
            // stream it lost.
            if let Err(queue::TrySendError::Full(_)) =
                conn.tx.try_send(Outbound::Revoked { stream })
            {
                self.counters.events_dropped_overflow.inc();
                inner.remove(id);
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

    /// Ends the user's sessions here but the sign-in `keep`: each of their other
    /// sockets is told why (`session:revoked`) and closed with `SESSION_ENDED`.
    pub async fn end_sessions(&self, user_id: UserId, keep: Option<u64>, why: &str) -> usize {
        let ending = |c: &Conn| c.user_id == user_id && Some(c.session) != keep;
        self.send_ephemeral(
            Stream::User(user_id),
            Event::SessionRevoked(crate::live::catalog::SessionRevoked { reason: why.into() }),
            ending,
        )
        .await;
        self.close_where(close::SESSION_ENDED, "session revoked", ending)
    }

    fn close_where(&self, code: u16, reason: &'static str, which: impl Fn(&Conn) -> bool) -> usize {
        let mut inner = self.lock();
        let ids: Vec<ConnId> = inner
            .conns
            .iter()
            .filter(|(_, c)| which(c))
            .map(|(id, _)| *id)
            .collect();
        for id in &ids {
            if let Some(tx) = inner.remove(*id) {
                // A full queue cannot take the close: dropping the sender ends it too.
                let _ = tx.try_send(Outbound::Close { code, reason });
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
    pub async fn broadcast(&self, event: Event) -> usize {
        self.send_ephemeral(Stream::System, event, |_| true).await
    }

    async fn send_ephemeral(
        &self,
        stream: Stream,
        event: Event,
        to: impl Fn(&Conn) -> bool,
    ) -> usize {
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
        let out = Arc::new(EventOut {
            stream,
            seq: 0,
            frame: event_frame(&json),
        });
        // Handed out after the lock is let go, as in `fan_out`.
        let queues: Vec<_> = self
            .lock()
            .conns
            .iter()
            .filter(|(_, c)| to(c))
            .map(|(id, c)| (*id, c.tx.handle()))
            .collect();
        let (sent, _full) = hand_out(queues, &out).await;
        let label = KindLabel {
            kind: envelope.event.kind().name(),
        };
        self.kinds.emitted.get_or_create(&label).inc();
        self.kinds.delivered.get_or_create(&label).inc_by(sent);
        sent as usize
    }

    /// Open sockets of one user on this instance.
    pub fn sockets_of(&self, user_id: UserId) -> usize {
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
        let users: HashSet<UserId> = room
            .iter()
            .filter_map(|id| inner.conns.get(id).map(|c| c.user_id))
            .collect();
        (room.len(), users.len())
    }

    /// Sockets per user in a stream's room.
    pub fn room_members(&self, stream: Stream) -> HashMap<UserId, usize> {
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
        let users: HashSet<UserId> = inner.conns.values().map(|c| c.user_id).collect();
        HubStats {
            connections: inner.conns.len(),
            users: users.len(),
            rooms: inner.rooms.len(),
        }
    }
}

/// A socket's queue, taken under the hub's lock to send to after it is let go.
type Handle = queue::Handle<Outbound, Box<SocketOut>>;

/// Hands `out` to each queue of `to`, once the hub's lock is let go: an idle socket's
/// outlet writes it at once, on this task (see `queue`). Returns how many took it, and
/// the connections whose queue was full.
///
/// This task yields after every `TURN` sockets, and whenever its tokio budget (128
/// operations a turn, each write one of them) is spent: a fan-out writes up to 100
/// frames and a broadcast thousands, and a write request waiting on the same worker
/// should not wait for all of them. Past its budget tokio would also answer every
/// write "not now", which would leave the rest to their sockets' tasks.
async fn hand_out(to: Vec<(ConnId, Handle)>, out: &Arc<EventOut>) -> (u64, Vec<ConnId>) {
    const TURN: usize = 32;
    let (mut taken, mut full) = (0, Vec::new());
    for (n, (id, queue)) in to.into_iter().enumerate() {
        if (n > 0 && n % TURN == 0) || !tokio::task::coop::has_budget_remaining() {
            tokio::task::yield_now().await;
        }
        match queue.try_send(Outbound::Event(out.clone())) {
            Ok(()) => taken += 1,
            Err(queue::TrySendError::Full(_)) => full.push(id),
            Err(queue::TrySendError::Closed(_)) => {}
        }
    }
    (taken, full)
}
