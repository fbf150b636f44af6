//! Delivery: the task that takes each woken stream from the room's high-water mark (the
//! events its writer handed over, or the log) and fans every event out to the sockets
//! in its room. A socket whose bounded queue is full is told to resume instead of being
//! buffered without limit.

use std::{collections::HashMap, sync::Arc};

use tokio::sync::mpsc;

use super::{event_frame, EventOut, Frame, Hub, Wake};
use crate::{
    live::{access_change, AccessChange, EventKind, Stream},
    server::{
        db::Db,
        metrics::KindLabel,
        outbox::{self, Logged},
    },
};

impl Hub {
    /// Hands one event frame to every socket in the stream's room. Sockets whose queue
    /// is full are told to resume and leave the room.
    ///
    /// The room is read under the hub's lock, and the frame handed out after it is let
    /// go: an idle socket's outlet writes the frame at once (`queue`), and writes
    /// should not hold up every other use of the hub. A socket that joins meanwhile
    /// replays this event itself (it reads the head after joining); one that leaves
    /// meanwhile refuses it (its queue's sender is gone); a revocation comes from this
    /// same task, so it is never in between.
    async fn fan_out(&self, stream: Stream, seq: i64, kind: &'static str, frame: Frame) {
        let Some(room) = self.room_handles(stream) else {
            return;
        };
        let out = Arc::new(EventOut { stream, seq, frame });
        let (delivered, overflowed) = super::hand_out(room, &out).await;
        let label = KindLabel { kind };
        self.kinds.delivered.get_or_create(&label).inc_by(delivered);
        if !overflowed.is_empty() {
            self.kinds
                .dropped
                .get_or_create(&label)
                .inc_by(overflowed.len() as u64);
            let mut inner = self.lock();
            for id in overflowed {
                self.counters.events_dropped_overflow.inc();
                // The queue is full, so the close cannot be queued: dropping the sender
                // ends the connection's queue, which the connection reads as "resume".
                inner.remove(id);
            }
        }
    }

    /// Every stream with a room here and the last seq delivered to it.
    pub(super) fn delivered_marks(&self) -> Vec<(Stream, i64)> {
        let inner = self.lock();
        inner.delivered.iter().map(|(s, m)| (*s, *m)).collect()
    }

    /// The last seq delivered to `stream`'s room here; `None` when it has no room.
    pub(super) fn delivered(&self, stream: Stream) -> Option<i64> {
        self.lock().delivered.get(&stream).copied()
    }

    fn set_delivered(&self, stream: Stream, seq: i64) {
        if let Some(mark) = self.lock().delivered.get_mut(&stream) {
            *mark = (*mark).max(seq);
        }
    }
}

/// The delivery task: for each woken stream, fans out the events after the hub's
/// high-water mark, in order: those handed over by this instance's writer when they
/// continue the mark, else what the log holds after it. Runs until the hub is dropped.
pub async fn run(hub: Arc<Hub>, db: Db, mut wake: mpsc::UnboundedReceiver<Wake>) {
    while let Some(first) = wake.recv().await {
        // Each stream woken so far, once: the events handed over for it, and whether
        // some wake came without them (the log must be read).
        let mut woken: HashMap<Stream, (Vec<Logged>, bool)> = HashMap::new();
        let mut next = Some(first);
        while let Some(Wake { stream, events }) = next {
            let (handed, read_log) = woken.entry(stream).or_default();
            *read_log |= events.is_empty();
            handed.extend(events);
            next = wake.try_recv().ok();
        }
        for (stream, (handed, read_log)) in woken {
            if let Err(e) = deliver(&hub, &db, stream, handed, read_log).await {
                tracing::error!(error = %e, stream = %stream.key(), "live delivery failed");
            }
        }
    }
}

async fn deliver(
    hub: &Hub,
    db: &Db,
    stream: Stream,
    handed: Vec<Logged>,
    read_log: bool,
) -> Result<(), crate::error::AppError> {
    // No room, no listener: nothing to deliver (sockets replay the past themselves).
    let Some(mut after) = hub.delivered(stream) else {
        return Ok(());
    };
    if let Some(events) = continuing(after, handed, read_log) {
        if let Some(&(last, ..)) = events.last() {
            fan_out_logged(hub, stream, &events).await;
            hub.set_delivered(stream, last);
        }
        return Ok(());
    }
    loop {
        let events = outbox::read_after(&db.log, stream, after, 500).await?;
        let Some(&(last, ..)) = events.last() else {
            break;
        };
        fan_out_logged(hub, stream, &events).await;
        after = last;
        hub.set_delivered(stream, after);
        if events.len() < 500 {
            break;
        }
    }
    Ok(())
}

/// The events handed over that go out as they are, after the mark `after`; `None` when
/// the log must be read instead. Events at or below the mark went out already (a later
/// commit's wake came first and the log was read). A gap means a commit whose wake has
/// not come yet, or another instance's: the log has them all, in order.
fn continuing(after: i64, mut handed: Vec<Logged>, read_log: bool) -> Option<Vec<Logged>> {
    if read_log {
        return None;
    }
    handed.sort_unstable_by_key(|(seq, ..)| *seq);
    handed.retain(|(seq, ..)| *seq > after);
    (after + 1..)
        .zip(&handed)
        .all(|(want, (seq, ..))| *seq == want)
        .then_some(handed)
}

/// Fans out logged events of `stream`, in order, with authorization at delivery on
/// every instance, decided by each event's kind: a member who left leaves the room
/// before their `member:left` (or anything later) goes out; after a deletion has gone
/// out, nobody may read the stream any more and every socket leaves the room (each is
/// told `revoked`).
async fn fan_out_logged(hub: &Hub, stream: Stream, events: &[Logged]) {
    for (seq, kind, json) in events {
        let change = access_change(kind, json);
        if let Some(AccessChange::Left(user_id)) = change {
            hub.revoke(user_id, stream);
        }
        let kind = EventKind::from_name(kind).map_or("unknown", |k| k.name());
        hub.fan_out(stream, *seq, kind, event_frame(json)).await;
        if change == Some(AccessChange::Closed) {
            for user_id in hub.room_members(stream).into_keys() {
                hub.revoke(user_id, stream);
            }
        }
        hub.kinds.emitted.get_or_create(&KindLabel { kind }).inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ids::{UserId, WorkspaceId};
    use crate::server::hub::{queue::Next, Outbound};
    use std::collections::HashMap;

    /// A socket's queue holds up to `queue_len` of these (see `Outbound`).
    #[test]
    fn an_outbound_message_stays_small() {
        assert!(
            std::mem::size_of::<Outbound>() <= 24,
            "{}",
            std::mem::size_of::<Outbound>()
        );
    }

    use crate::server::metrics::HubStats;

    fn logged(seqs: &[i64]) -> Vec<Logged> {
        seqs.iter()
            .map(|s| (*s, "expense:created".to_owned(), format!("{{\"seq\":{s}}}")))
            .collect()
    }

    fn seqs(events: Option<Vec<Logged>>) -> Option<Vec<i64>> {
        events.map(|e| e.into_iter().map(|(seq, ..)| seq).collect())
    }

    #[test]
    fn handed_events_go_out_as_they_are_only_while_they_continue_the_mark() {
        assert_eq!(
            seqs(continuing(4, logged(&[5, 6]), false)),
            Some(vec![5, 6])
        );
        assert_eq!(
            seqs(continuing(4, logged(&[6, 5]), false)),
            Some(vec![5, 6]),
            "in seq order"
        );
        assert_eq!(
            seqs(continuing(6, logged(&[5, 6, 7]), false)),
            Some(vec![7]),
            "what went out already is left out"
        );
        assert_eq!(
            seqs(continuing(6, logged(&[5]), false)),
            Some(vec![]),
            "a late wake for what went out already: nothing to do"
        );
        assert_eq!(
            seqs(continuing(4, logged(&[6]), false)),
            None,
            "5 is committed but its wake has not come: read the log"
        );
        assert_eq!(seqs(continuing(4, logged(&[5, 7]), false)), None, "a gap");
        assert_eq!(
            seqs(continuing(4, logged(&[5]), true)),
            None,
            "another wake asked for the log"
        );
        assert_eq!(seqs(continuing(4, Vec::new(), true)), None);
    }

    /// A commit to a stream nobody here follows wakes nothing (a socket that joins
    /// later replays it: `live::subscribe` reads the head after joining); one to a
    /// stream with a room hands the delivery task its events.
    #[tokio::test]
    async fn only_a_commit_to_a_followed_stream_wakes_the_delivery() {
        let (hub, mut wake) = Hub::new(4);
        let ws = Stream::Workspace(WorkspaceId(3));
        hub.committed(ws, logged(&[1]));
        assert!(wake.try_recv().is_err(), "no room, no wake");
        let (a, _rx) = hub.connect(UserId(1), 0);
        hub.join(a, ws, 1);
        hub.committed(ws, logged(&[2]));
        let woken = wake.try_recv().expect("a room: a wake");
        assert_eq!(
            (woken.stream, seqs(Some(woken.events))),
            (ws, Some(vec![2]))
        );
        hub.disconnect(a);
        hub.committed(ws, logged(&[3]));
        assert!(wake.try_recv().is_err(), "the room is gone: no wake");
    }

    #[test]
    fn event_frames_are_the_envelope_with_a_type() {
        let frame = event_frame(r#"{"seq":1,"stream":"ws:2"}"#);
        assert_eq!(&*frame, r#"{"type":"event","seq":1,"stream":"ws:2"}"#);
    }

    #[tokio::test]
    async fn rooms_follow_joins_revokes_and_disconnects() {
        let (hub, _wake) = Hub::new(4);
        let (a, mut rx_a) = hub.connect(UserId(1), 0);
        let (b, mut rx_b) = hub.connect(UserId(2), 0);
        let ws = Stream::Workspace(WorkspaceId(9));
        hub.join(a, ws, 0);
        hub.join(b, ws, 0);
        hub.fan_out(ws, 1, "expense:created", Frame::from_static("x"))
            .await;
        assert!(matches!(
            rx_a.try_recv(),
            Some(Outbound::Event(e)) if e.seq == 1
        ));
        assert!(matches!(
            rx_b.try_recv(),
            Some(Outbound::Event(e)) if e.seq == 1
        ));

        hub.revoke(UserId(2), ws);
        hub.fan_out(ws, 2, "expense:created", Frame::from_static("y"))
            .await;
        assert!(matches!(
            rx_a.try_recv(),
            Some(Outbound::Event(e)) if e.seq == 2
        ));
        assert!(
            matches!(rx_b.try_recv(), Some(Outbound::Revoked { stream }) if stream == ws),
            "a revoked user is told so"
        );
        assert!(
            rx_b.try_recv().is_none(),
            "a revoked user receives nothing more"
        );

        let (a2, _rx_a2) = hub.connect(UserId(1), 0);
        hub.join(a2, ws, 0);
        assert_eq!(
            (hub.sockets_of(UserId(1)), hub.sockets_of(UserId(2))),
            (2, 1)
        );
        assert_eq!(hub.room_size(ws), (2, 1), "two sockets of one user");
        assert_eq!(hub.room_members(ws), HashMap::from([(UserId(1), 2)]));
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
    async fn a_revocation_that_cannot_be_told_ends_the_connection() {
        let (hub, _wake) = Hub::new(2);
        let (a, mut rx) = hub.connect(UserId(1), 0);
        let (own, ws) = (Stream::User(UserId(1)), Stream::Workspace(WorkspaceId(1)));
        hub.join(a, own, 0);
        hub.join(a, ws, 0);
        for seq in 1..=2 {
            hub.fan_out(own, seq, "expense:created", Frame::from_static("e"))
                .await;
        }
        hub.revoke(UserId(1), ws);
        assert_eq!(
            (hub.stats().connections, hub.room_size(own)),
            (0, (0, 0)),
            "the full queue could not take `revoked`: the connection is gone from every room"
        );
        let mut got = Vec::new();
        while let Next::Item(out) = rx.next().await {
            got.push(matches!(out, Outbound::Event(_)));
        }
        assert_eq!(
            got,
            [true, true],
            "what was queued, then the end of the queue (the socket must resume)"
        );
        assert_eq!(hub.counters.events_dropped_overflow.get(), 1);
    }

    #[tokio::test]
    async fn a_full_queue_ends_the_connection_instead_of_growing() {
        let (hub, _wake) = Hub::new(2);
        let (a, mut rx) = hub.connect(UserId(1), 0);
        let ws = Stream::Workspace(WorkspaceId(1));
        hub.join(a, ws, 0);
        for seq in 1..=5 {
            hub.fan_out(ws, seq, "expense:created", Frame::from_static("e"))
                .await;
        }
        assert_eq!(hub.counters.events_dropped_overflow.get(), 1);
        let mut got = Vec::new();
        while let Next::Item(Outbound::Event(e)) = rx.next().await {
            got.push(e.seq);
        }
        assert_eq!(
            got,
            [1, 2],
            "two queued, then the queue ended (the socket must resume)"
        );
        assert_eq!(hub.stats().connections, 0);
    }
}
