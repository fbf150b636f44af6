//! What the hub hands a socket (`Outbound`, one shared `Frame` per event) and how it
//! is written: `SocketOut`, a socket's writing half and its cursors, which its task
//! writes with and lends its queue while it waits, so that the fan-out writes an event
//! straight into an idle socket (see `queue`'s comment). Either way, the same check
//! decides whether an event is due (`SocketOut::due`).

use std::{
    collections::HashMap,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll, Waker},
};

use axum::extract::ws::{Message, WebSocket};
use futures::{stream::SplitSink, Sink};

use super::queue::{Offer, Outlet};
use crate::live::Stream;

/// What the hub hands a connection (through its `queue`). Kept to 24 bytes: a burst
/// queued for a slow socket holds up to `queue_len` of these (it was 56 bytes with the
/// event inline).
#[derive(Debug, Clone)]
pub enum Outbound {
    /// One event, shared by every socket it goes to.
    Event(Arc<EventOut>),
    /// Close the socket with this code and reason.
    Close { code: u16, reason: &'static str },
    /// The socket was taken out of this stream's room (its user lost access).
    Revoked { stream: Stream },
}

/// A ready-to-send text frame of one event, with its stream and seq so the connection
/// can drop what it already sent during replay.
#[derive(Debug)]
pub struct EventOut {
    pub stream: Stream,
    pub seq: i64,
    pub frame: Frame,
}

/// A text frame ready to send. Cloning it shares the bytes (a reference count), so a
/// fan-out to N sockets allocates and copies the frame once, not N times.
pub type Frame = axum::extract::ws::Utf8Bytes;

/// The wire frame of an event: the stored envelope with `"type":"event"` in front.
pub fn event_frame(envelope_json: &str) -> Frame {
    Frame::from(crate::live::protocol::event_frame(envelope_json))
}

pub struct SocketOut {
    pub sink: SplitSink<WebSocket, Message>,
    /// Each stream the socket follows, and the last seq it was sent on it.
    pub cursors: HashMap<Stream, i64>,
}

impl SocketOut {
    pub fn new(sink: SplitSink<WebSocket, Message>) -> Box<SocketOut> {
        Box::new(SocketOut {
            sink,
            cursors: HashMap::new(),
        })
    }

    /// Whether `out` is due on this socket, moving the stream's cursor past it if so.
    /// An ephemeral event (seq 0) always is; a logged one only on a stream the socket
    /// follows, and only once: the replay may have sent it already, and an event of a
    /// stream the socket left is not sent.
    pub fn due(&mut self, out: &EventOut) -> bool {
        if out.seq == 0 {
            return true;
        }
        match self.cursors.get_mut(&out.stream) {
            Some(cursor) if out.seq > *cursor => {
                *cursor = out.seq;
                true
            }
            _ => false,
        }
    }
}

impl Outlet<Outbound> for SocketOut {
    /// Writes an event at once if the socket's sink is free. Anything else (a close, a
    /// revocation) is the task's to handle. A write the kernel could not take whole
    /// stays in the sink for the task to finish, within its write timeout.
    fn offer(&mut self, item: Outbound) -> Offer<Outbound> {
        let Outbound::Event(out) = &item else {
            return Offer::Declined(item);
        };
        // Past the sending task's tokio budget every write is answered "not now": the
        // socket's own task writes it instead (`hub::hand_out` yields before that).
        if !tokio::task::coop::has_budget_remaining() {
            return Offer::Declined(item);
        }
        // Nobody is woken through this context: an unfinished write wakes the task
        // through the queue instead.
        let mut cx = Context::from_waker(Waker::noop());
        let mut sink = Pin::new(&mut self.sink);
        if !matches!(sink.as_mut().poll_ready(&mut cx), Poll::Ready(Ok(()))) {
            return Offer::Declined(item);
        }
        if !self.due(out) {
            return Offer::Done;
        }
        let frame = Message::Text(out.frame.clone());
        let mut sink = Pin::new(&mut self.sink);
        if sink.as_mut().start_send(frame).is_err() {
            return Offer::Unfinished;
        }
        match sink.poll_flush(&mut cx) {
            Poll::Ready(Ok(())) => Offer::Done,
            // Not written whole, or failed: the task's own flush finishes it or
            // meets the error and ends the socket.
            Poll::Pending | Poll::Ready(Err(_)) => Offer::Unfinished,
        }
    }
}
