//! A socket's queue: what the hub hands one connection, bounded, with one sender (the
//! hub's entry for the connection) and one receiver (the socket's task).
//!
//! Why not tokio's bounded channel: it allocates its first block of 32 slots and a
//! cache-padded channel header when the socket connects, about 1.2 KB that every idle
//! socket holds for its whole life. This queue allocates nothing until something is
//! queued and gives its buffer back once it is drained, so an idle socket holds one
//! small header (`Shared`, about 100 bytes). Sockets are mostly idle.
//!
//! The rules are the channel's: `try_send` refuses when the queue holds `capacity`
//! items (`Full`) or the receiver is gone (`Closed`); items come out in order, and the
//! receiver learns that the sender is gone once everything queued before was taken. The
//! hub drops the sender of a socket whose queue overflowed: the socket reads that as
//! "resume from your cursors".
//!
//! **The outlet.** While the receiver's task has nothing to do it lends the queue its
//! [`Outlet`] (for a socket: its writing half). An item sent while the queue is empty
//! is then offered to the outlet, which writes it at once, on the sender's thread,
//! instead of queueing it and waking the task to write it. That saves a task wake-up
//! and a poll of everything the task waits on, per item. Order is kept by
//! construction, under the queue's one lock:
//! - the outlet is offered an item only while the receiver waits in `next` (its waker
//!   is registered) and nothing is queued;
//! - the moment `next` hands the receiver anything, the receiver no longer waits, so
//!   an item sent later cannot overtake the one it now holds; `reclaim` gives the
//!   outlet back, and the receiver writes nothing itself until then;
//! - an item the outlet could not finish (`Offer::Unfinished`) stops all offers until
//!   the receiver has taken the outlet back to finish it.

use std::{
    collections::VecDeque,
    future::poll_fn,
    sync::{Arc, Mutex, MutexGuard},
    task::{Poll, Waker},
};

/// What a receiver lends its queue while it waits: something that can take an item
/// at once, without waiting.
pub trait Outlet<T> {
    /// Takes `item` now if it can, without waiting; hands it back otherwise.
    fn offer(&mut self, item: T) -> Offer<T>;
}

/// What an [`Outlet`] did with an item offered to it.
#[derive(Debug, PartialEq, Eq)]
pub enum Offer<T> {
    /// Taken and done with (written whole, or nothing of it was due).
    Done,
    /// Taken, but finishing it would mean waiting: the receiver must finish it (the
    /// queue wakes it with [`Next::Finish`]), and nothing more is offered until then.
    Unfinished,
    /// Not for the outlet: it is queued for the receiver.
    Declined(T),
}

impl<T, O: Outlet<T> + ?Sized> Outlet<T> for Box<O> {
    fn offer(&mut self, item: T) -> Offer<T> {
        (**self).offer(item)
    }
}

/// An outlet that never takes anything: the queue of a receiver that lends none.
impl<T> Outlet<T> for () {
    fn offer(&mut self, item: T) -> Offer<T> {
        Offer::Declined(item)
    }
}

struct State<T, O> {
    items: VecDeque<T>,
    /// The receiver's task, waiting for an item: only then is its outlet offered items.
    waiting: Option<Waker>,
    sender_gone: bool,
    receiver_gone: bool,
    /// The receiver's outlet, from `lend` to `reclaim`.
    outlet: Option<O>,
    /// The outlet took an item it could not finish: the receiver must.
    unfinished: bool,
}

struct Shared<T, O> {
    state: Mutex<State<T, O>>,
    capacity: usize,
}

impl<T, O> State<T, O> {
    /// The first item; the buffer is freed when that empties it (an idle socket keeps
    /// none: it costs one small allocation per burst instead).
    fn pop(&mut self) -> Option<T> {
        let item = self.items.pop_front();
        if self.items.is_empty() && self.items.capacity() > 0 {
            self.items = VecDeque::new();
        }
        item
    }
}

impl<T, O> Shared<T, O> {
    fn lock(&self) -> MutexGuard<'_, State<T, O>> {
        // No code holding the lock can panic midway through a change (an outlet's
        // `offer` must not panic either).
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Why `try_send` did not queue: the item comes back.
#[derive(Debug, PartialEq, Eq)]
pub enum TrySendError<T> {
    Full(T),
    Closed(T),
}

/// What the receiver gets next.
#[derive(Debug, PartialEq, Eq)]
pub enum Next<T> {
    Item(T),
    /// Its outlet took an item it could not finish: take the outlet back and finish it.
    Finish,
    /// The sender is gone and everything queued before was taken.
    Ended,
}

pub struct Sender<T, O = ()>(Arc<Shared<T, O>>);
/// Sends as its `Sender` does, for as long as that sender exists: the hub takes these
/// under its lock and sends with them after letting it go.
pub struct Handle<T, O = ()>(Arc<Shared<T, O>>);
pub struct Receiver<T, O = ()>(Arc<Shared<T, O>>);

/// A queue of at most `capacity` items.
pub fn queue<T, O>(capacity: usize) -> (Sender<T, O>, Receiver<T, O>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            items: VecDeque::new(),
            waiting: None,
            sender_gone: false,
            receiver_gone: false,
            outlet: None,
            unfinished: false,
        }),
        capacity,
    });
    (Sender(shared.clone()), Receiver(shared))
}

impl<T, O: Outlet<T>> Sender<T, O> {
    /// Hands `item` to the receiver's outlet if it waits with one and nothing is
    /// queued, else queues it, unless the queue is full or its receiver is gone.
    pub fn try_send(&self, item: T) -> Result<(), TrySendError<T>> {
        self.0.try_send(item)
    }

    pub fn handle(&self) -> Handle<T, O> {
        Handle(self.0.clone())
    }
}

impl<T, O: Outlet<T>> Handle<T, O> {
    /// `Sender::try_send`; `Closed` once the sender is gone.
    pub fn try_send(&self, item: T) -> Result<(), TrySendError<T>> {
        self.0.try_send(item)
    }
}

impl<T, O: Outlet<T>> Shared<T, O> {
    fn try_send(&self, item: T) -> Result<(), TrySendError<T>> {
        let waiting = {
            let mut state = self.lock();
            if state.receiver_gone || state.sender_gone {
                return Err(TrySendError::Closed(item));
            }
            let idle = state.waiting.is_some() && state.items.is_empty() && !state.unfinished;
            let offered = match state.outlet.as_mut().filter(|_| idle) {
                Some(outlet) => outlet.offer(item),
                None => Offer::Declined(item),
            };
            match offered {
                Offer::Done => return Ok(()),
                Offer::Unfinished => state.unfinished = true,
                Offer::Declined(item) => {
                    if state.items.len() >= self.capacity {
                        return Err(TrySendError::Full(item));
                    }
                    state.items.push_back(item);
                }
            }
            state.waiting.take()
        };
        wake(waiting);
        Ok(())
    }
}

/// Wakes the receiver's task, outside the queue's lock (it may run at once on another
/// thread).
fn wake(waiting: Option<Waker>) {
    if let Some(waker) = waiting {
        waker.wake();
    }
}

impl<T, O> Drop for Sender<T, O> {
    fn drop(&mut self) {
        let waiting = {
            let mut state = self.0.lock();
            state.sender_gone = true;
            state.waiting.take()
        };
        wake(waiting);
    }
}

impl<T, O> Receiver<T, O> {
    /// The next item, waiting for one, or `Finish`, or `Ended` (see [`Next`]).
    pub async fn next(&mut self) -> Next<T> {
        poll_fn(|cx| {
            let mut state = self.0.lock();
            let next = if state.unfinished {
                Next::Finish
            } else if let Some(item) = state.pop() {
                Next::Item(item)
            } else if state.sender_gone {
                Next::Ended
            } else {
                // Checked and registered under one lock: a `try_send` cannot fall
                // between.
                match &mut state.waiting {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    waiting => *waiting = Some(cx.waker().clone()),
                }
                return Poll::Pending;
            };
            // The receiver holds something now, and waits no more: nothing may overtake
            // it.
            state.waiting = None;
            Poll::Ready(next)
        })
        .await
    }

    /// The next item if one is queued now.
    pub fn try_recv(&mut self) -> Option<T> {
        let mut state = self.0.lock();
        state.waiting = None;
        state.pop()
    }

    /// Lends the queue `outlet` until [`Receiver::reclaim`]. It is offered items only
    /// while the receiver waits in [`Receiver::next`].
    pub fn lend(&mut self, outlet: O) {
        self.0.lock().outlet = Some(outlet);
    }

    /// Takes the outlet back; `true` with it when it holds an item it could not finish.
    /// Nothing is offered to it from now on.
    pub fn reclaim(&mut self) -> Option<(O, bool)> {
        let mut state = self.0.lock();
        state.waiting = None;
        let unfinished = std::mem::take(&mut state.unfinished);
        state.outlet.take().map(|outlet| (outlet, unfinished))
    }
}

impl<T, O> Drop for Receiver<T, O> {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.receiver_gone = true;
        // What was queued goes now, not when the hub forgets the sender; so does an
        // outlet never taken back.
        state.items = VecDeque::new();
        state.outlet = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_come_out_in_order_up_to_the_capacity() {
        let (tx, mut rx) = queue::<_, ()>(2);
        assert_eq!(tx.try_send(1), Ok(()));
        assert_eq!(tx.try_send(2), Ok(()));
        assert_eq!(tx.try_send(3), Err(TrySendError::Full(3)));
        assert_eq!(rx.try_recv(), Some(1));
        assert_eq!(tx.try_send(4), Ok(()));
        assert_eq!(
            (rx.try_recv(), rx.try_recv(), rx.try_recv()),
            (Some(2), Some(4), None)
        );
    }

    #[test]
    fn an_idle_queue_holds_no_buffer() {
        let (tx, mut rx) = queue::<_, ()>(64);
        for i in 0..40 {
            tx.try_send(i).unwrap();
        }
        assert!(rx.0.lock().items.capacity() >= 40);
        while rx.try_recv().is_some() {}
        assert_eq!(
            rx.0.lock().items.capacity(),
            0,
            "drained, the buffer is given back"
        );
    }

    #[test]
    fn a_gone_receiver_refuses_items() {
        let (tx, rx) = queue::<_, ()>(4);
        drop(rx);
        assert_eq!(tx.try_send(1), Err(TrySendError::Closed(1)));
    }

    #[tokio::test]
    async fn the_receiver_takes_what_was_queued_then_sees_the_sender_gone() {
        let (tx, mut rx) = queue::<_, ()>(4);
        tx.try_send(1).unwrap();
        tx.try_send(2).unwrap();
        drop(tx);
        assert_eq!(rx.next().await, Next::Item(1));
        assert_eq!(rx.next().await, Next::Item(2));
        assert_eq!(rx.next().await, Next::Ended);
    }

    /// A receiver waiting on another thread is woken by every send and by the sender's
    /// drop: 10,000 items cross one at a time and none is lost or doubled.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_waiting_receiver_is_woken_across_threads() {
        let (tx, mut rx) = queue::<_, ()>(1);
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            while let Next::Item(i) = rx.next().await {
                got.push(i);
            }
            got
        });
        let writer = tokio::task::spawn_blocking(move || {
            for i in 0..10_000 {
                let mut item = i;
                loop {
                    match tx.try_send(item) {
                        Ok(()) => break,
                        Err(TrySendError::Full(back)) => {
                            item = back;
                            std::thread::yield_now();
                        }
                        Err(TrySendError::Closed(_)) => panic!("the receiver is alive"),
                    }
                }
            }
        });
        writer.await.unwrap();
        assert_eq!(reader.await.unwrap(), (0..10_000).collect::<Vec<_>>());
    }

    /// What was written, in order, by the outlet or by the receiver.
    type Written = Arc<Mutex<Vec<u32>>>;

    /// An outlet that writes into a log shared with the test's receiver. It declines
    /// the items `declines` picks (the receiver writes those), and leaves unfinished
    /// those `leaves` picks (the receiver finishes them).
    struct Log {
        written: Written,
        declines: fn(u32) -> bool,
        leaves: fn(u32) -> bool,
        unfinished: Option<u32>,
    }

    impl Log {
        fn new(written: &Written) -> Log {
            Log {
                written: written.clone(),
                declines: |_| false,
                leaves: |_| false,
                unfinished: None,
            }
        }

        fn finish(&mut self) {
            let item = self.unfinished.take().expect("an unfinished item");
            self.written.lock().unwrap().push(item);
        }
    }

    impl Outlet<u32> for Log {
        fn offer(&mut self, item: u32) -> Offer<u32> {
            if (self.declines)(item) {
                return Offer::Declined(item);
            }
            if (self.leaves)(item) {
                self.unfinished = Some(item);
                return Offer::Unfinished;
            }
            self.written.lock().unwrap().push(item);
            Offer::Done
        }
    }

    fn written() -> Written {
        Arc::new(Mutex::new(Vec::new()))
    }

    /// Polls `next` once: the receiver is now waiting (or returns what it got).
    fn poll_next<T, O>(rx: &mut Receiver<T, O>) -> Option<Next<T>> {
        use futures::FutureExt;
        rx.next().now_or_never()
    }

    /// A queue whose receiver waits in `next` with its outlet lent; `configure` says
    /// what the outlet declines or leaves unfinished.
    fn waiting_with(
        capacity: usize,
        configure: impl FnOnce(&mut Log),
    ) -> (Written, Sender<u32, Log>, Receiver<u32, Log>) {
        let log = written();
        let (tx, mut rx) = queue(capacity);
        let mut outlet = Log::new(&log);
        configure(&mut outlet);
        rx.lend(outlet);
        assert_eq!(poll_next(&mut rx), None);
        (log, tx, rx)
    }

    #[test]
    fn a_waiting_receivers_outlet_takes_what_is_sent() {
        let log = written();
        let (tx, mut rx) = queue(4);
        rx.lend(Log::new(&log));
        assert_eq!(tx.try_send(1), Ok(()));
        assert_eq!(rx.try_recv(), Some(1), "lent but not waiting: queued");
        assert_eq!(poll_next(&mut rx), None);
        assert_eq!(tx.try_send(2), Ok(()));
        assert_eq!(tx.try_send(3), Ok(()));
        assert_eq!(*log.lock().unwrap(), [2, 3]);
        assert_eq!(rx.try_recv(), None, "the outlet took them: nothing queued");
        let (_, unfinished) = rx.reclaim().unwrap();
        assert!(!unfinished);
        assert_eq!(tx.try_send(4), Ok(()));
        assert_eq!(*log.lock().unwrap(), [2, 3], "taken back: queued");
        assert_eq!(poll_next(&mut rx), Some(Next::Item(4)));
    }

    /// The receiver waits with its outlet lent; 1 is declined (queued, the receiver
    /// woken) and handed to the receiver. 2, sent before the receiver took the outlet
    /// back, must queue behind it instead of being written first.
    #[test]
    fn nothing_overtakes_what_the_receiver_was_handed() {
        let (log, tx, mut rx) = waiting_with(4, |outlet| outlet.declines = |item| item == 1);
        tx.try_send(1).unwrap();
        assert_eq!(poll_next(&mut rx), Some(Next::Item(1)));
        tx.try_send(2).unwrap();
        assert!(log.lock().unwrap().is_empty(), "2 would overtake 1");
        assert!(rx.reclaim().is_some());
        assert_eq!(rx.try_recv(), Some(2));
    }

    #[test]
    fn what_the_outlet_declines_is_queued_and_wakes_the_receiver() {
        let (_, tx, mut rx) = waiting_with(1, |outlet| outlet.declines = |_| true);
        assert_eq!(tx.try_send(1), Ok(()));
        assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)), "still bounded");
        assert_eq!(poll_next(&mut rx), Some(Next::Item(1)));
    }

    #[test]
    fn an_unfinished_item_stops_the_offers_until_the_receiver_finishes_it() {
        let (log, tx, mut rx) = waiting_with(4, |outlet| outlet.leaves = |item| item == 2);
        tx.try_send(1).unwrap();
        tx.try_send(2).unwrap();
        tx.try_send(3).unwrap();
        assert_eq!(
            *log.lock().unwrap(),
            [1],
            "2 unfinished, 3 queued behind it"
        );
        assert_eq!(poll_next(&mut rx), Some(Next::Finish));
        let (mut outlet, unfinished) = rx.reclaim().unwrap();
        assert!(unfinished);
        outlet.finish();
        assert_eq!(poll_next(&mut rx), Some(Next::Item(3)));
        assert_eq!(*log.lock().unwrap(), [1, 2]);
    }

    #[test]
    fn a_gone_receiver_gives_up_its_outlet() {
        let (_, tx, rx) = waiting_with(4, |_| {});
        drop(rx);
        assert_eq!(tx.try_send(1), Err(TrySendError::Closed(1)));
        assert!(tx.0.lock().outlet.is_none());
    }

    /// A receiver on another thread lends its outlet whenever it waits and takes it
    /// back whenever it is handed something, as a socket's task does; the sender
    /// sends 20,000 items as fast as the queue of 4 takes them, some of which the
    /// outlet declines or leaves unfinished. Through the outlet or the queue, finished
    /// by the outlet or by the receiver, every item is written once and in order.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn items_through_the_outlet_and_the_queue_stay_in_order_across_threads() {
        const ITEMS: u32 = 20_000;
        let log = written();
        let (tx, mut rx) = queue::<u32, Log>(4);
        let mut outlet = Log::new(&log);
        outlet.declines = |item| item % 5 == 0;
        outlet.leaves = |item| item % 7 == 0;
        let receiver_log = log.clone();
        let receiver = tokio::spawn(async move {
            let mut outlet = Some(outlet);
            loop {
                rx.lend(outlet.take().unwrap());
                let next = rx.next().await;
                let (mut back, unfinished) = rx.reclaim().unwrap();
                if unfinished {
                    back.finish();
                }
                outlet = Some(back);
                match next {
                    Next::Item(item) => receiver_log.lock().unwrap().push(item),
                    Next::Finish => {}
                    Next::Ended => break,
                }
            }
        });
        let sender = tokio::task::spawn_blocking(move || {
            for i in 1..=ITEMS {
                let mut item = i;
                loop {
                    match tx.try_send(item) {
                        Ok(()) => break,
                        Err(TrySendError::Full(back)) => {
                            item = back;
                            std::thread::yield_now();
                        }
                        Err(TrySendError::Closed(_)) => panic!("the receiver is alive"),
                    }
                }
            }
        });
        sender.await.unwrap();
        receiver.await.unwrap();
        let log = log.lock().unwrap();
        assert_eq!(log.len(), ITEMS as usize);
        assert!(log.iter().copied().eq(1..=ITEMS), "out of order or doubled");
    }
}
