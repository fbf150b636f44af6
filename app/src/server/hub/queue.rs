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
//! items (`Full`) or the receiver is gone (`Closed`); `recv` yields items in order and
//! `None` once the sender is dropped and everything queued before was taken. The hub
//! drops the sender of a socket whose queue overflowed: the socket reads that `None` as
//! "resume from your cursors".

use std::{
    collections::VecDeque,
    future::poll_fn,
    sync::{Arc, Mutex, MutexGuard},
    task::{Poll, Waker},
};

struct State<T> {
    items: VecDeque<T>,
    /// The receiver's task, waiting for an item.
    waiting: Option<Waker>,
    sender_gone: bool,
    receiver_gone: bool,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    capacity: usize,
}

impl<T> State<T> {
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

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // No code holding the lock can panic midway through a change.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Why `try_send` did not queue: the item comes back.
#[derive(Debug, PartialEq, Eq)]
pub enum TrySendError<T> {
    Full(T),
    Closed(T),
}

pub struct Sender<T>(Arc<Shared<T>>);
pub struct Receiver<T>(Arc<Shared<T>>);

/// A queue of at most `capacity` items.
pub fn queue<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            items: VecDeque::new(),
            waiting: None,
            sender_gone: false,
            receiver_gone: false,
        }),
        capacity,
    });
    (Sender(shared.clone()), Receiver(shared))
}

impl<T> Sender<T> {
    /// Queues `item` unless the queue is full or its receiver is gone.
    pub fn try_send(&self, item: T) -> Result<(), TrySendError<T>> {
        let waiting = {
            let mut state = self.0.lock();
            if state.receiver_gone {
                return Err(TrySendError::Closed(item));
            }
            if state.items.len() >= self.0.capacity {
                return Err(TrySendError::Full(item));
            }
            state.items.push_back(item);
            state.waiting.take()
        };
        // Woken outside the lock: the receiver's task may run at once on another thread.
        if let Some(waker) = waiting {
            waker.wake();
        }
        Ok(())
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waiting = {
            let mut state = self.0.lock();
            state.sender_gone = true;
            state.waiting.take()
        };
        if let Some(waker) = waiting {
            waker.wake();
        }
    }
}

impl<T> Receiver<T> {
    /// The next item, waiting for one; `None` once the sender is gone and the queue empty.
    pub async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| {
            let mut state = self.0.lock();
            if let Some(item) = state.pop() {
                return Poll::Ready(Some(item));
            }
            if state.sender_gone {
                return Poll::Ready(None);
            }
            // Checked and registered under one lock: a `try_send` cannot fall between.
            match &mut state.waiting {
                Some(w) if w.will_wake(cx.waker()) => {}
                waiting => *waiting = Some(cx.waker().clone()),
            }
            Poll::Pending
        })
        .await
    }

    /// The next item if one is queued now.
    pub fn try_recv(&mut self) -> Option<T> {
        self.0.lock().pop()
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.receiver_gone = true;
        // What was queued goes now, not when the hub forgets the sender.
        state.items = VecDeque::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_come_out_in_order_up_to_the_capacity() {
        let (tx, mut rx) = queue(2);
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
        let (tx, mut rx) = queue(64);
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
        let (tx, rx) = queue(4);
        drop(rx);
        assert_eq!(tx.try_send(1), Err(TrySendError::Closed(1)));
    }

    #[tokio::test]
    async fn the_receiver_takes_what_was_queued_then_sees_the_sender_gone() {
        let (tx, mut rx) = queue(4);
        tx.try_send(1).unwrap();
        tx.try_send(2).unwrap();
        drop(tx);
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, Some(2));
        assert_eq!(rx.recv().await, None);
    }

    /// A receiver waiting on another thread is woken by every send and by the sender's
    /// drop: 10,000 items cross one at a time and none is lost or doubled.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_waiting_receiver_is_woken_across_threads() {
        let (tx, mut rx) = queue(1);
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(i) = rx.recv().await {
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
}
