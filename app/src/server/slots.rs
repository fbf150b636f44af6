//! Places for live sockets: at most so many per instance, per user and per client
//! address. A place is taken before the upgrade is answered, so a refusal is a plain
//! HTTP status the client can read (503 for the instance, 429 for a user or address),
//! and taking it is one check-and-count under one lock: many upgrades at once cannot
//! all slip under a limit. A place is given back when its `Slot` drops (the socket's
//! task ended).
//!
//! Subscribing sockets also take turns at the database: at most
//! [`SUBSCRIBE_READS_AT_ONCE`] of their reads run at once (`LiveSlots::read`). In a
//! reconnect storm thousands of sockets resume together; unbounded, their reads took the
//! whole pool and the database's CPU, and the writes and deliveries of the sockets
//! already there waited behind them.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Arc, Mutex},
};

use crate::model::ids::UserId;

/// How many live sockets one instance serves (documented in docs/PROTOCOL.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotLimits {
    pub per_instance: usize,
    pub per_user: usize,
    pub per_address: usize,
}

/// Why a place was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The instance is full: try again later (another instance may have room).
    Instance,
    /// This user already has `per_user` sockets here.
    User,
    /// This client address already has `per_address` sockets here.
    Address,
}

#[derive(Default)]
struct Taken {
    total: usize,
    users: HashMap<UserId, usize>,
    addresses: HashMap<IpAddr, usize>,
}

/// How many of the subscribing sockets' database reads run at once, per instance.
/// Measured with the storm bench (issue 13): a pool of 4 connections kept the
/// survivors' p99 near 0.75 s, 10 let it reach 1.25 s, 40 took it to 5 s.
pub const SUBSCRIBE_READS_AT_ONCE: usize = 4;

pub struct LiveSlots {
    limits: SlotLimits,
    taken: Mutex<Taken>,
    reads: tokio::sync::Semaphore,
}

/// One socket's place; dropping it gives the place back.
pub struct Slot {
    slots: Arc<LiveSlots>,
    user: UserId,
    address: IpAddr,
}

impl LiveSlots {
    pub fn new(limits: SlotLimits) -> Arc<LiveSlots> {
        Arc::new(LiveSlots {
            limits,
            taken: Mutex::default(),
            reads: tokio::sync::Semaphore::new(SUBSCRIBE_READS_AT_ONCE),
        })
    }

    /// Runs one database read of a subscribing socket, when its turn comes.
    pub async fn read<T>(&self, read: impl std::future::Future<Output = T>) -> T {
        // The semaphore is never closed; were it, the read would just not wait.
        let _turn = self.reads.acquire().await.ok();
        read.await
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Taken> {
        self.taken.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes a place for a socket of `user` from `address`, or says which limit is full.
    pub fn take(self: &Arc<Self>, user: UserId, address: IpAddr) -> Result<Slot, Refused> {
        let mut taken = self.lock();
        if taken.total >= self.limits.per_instance {
            return Err(Refused::Instance);
        }
        if taken.users.get(&user).copied().unwrap_or(0) >= self.limits.per_user {
            return Err(Refused::User);
        }
        if taken.addresses.get(&address).copied().unwrap_or(0) >= self.limits.per_address {
            return Err(Refused::Address);
        }
        taken.total += 1;
        *taken.users.entry(user).or_default() += 1;
        *taken.addresses.entry(address).or_default() += 1;
        Ok(Slot {
            slots: self.clone(),
            user,
            address,
        })
    }

    /// Places taken: in all, by `user`, from `address`.
    pub fn counts(&self, user: UserId, address: IpAddr) -> (usize, usize, usize) {
        let taken = self.lock();
        (
            taken.total,
            taken.users.get(&user).copied().unwrap_or(0),
            taken.addresses.get(&address).copied().unwrap_or(0),
        )
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut taken = self.slots.lock();
        taken.total -= 1;
        fn give_back<K: std::hash::Hash + Eq>(map: &mut HashMap<K, usize>, key: &K) {
            if let Some(n) = map.get_mut(key) {
                *n -= 1;
                if *n == 0 {
                    map.remove(key);
                }
            }
        }
        give_back(&mut taken.users, &self.user);
        give_back(&mut taken.addresses, &self.address);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn subscribing_sockets_take_turns_at_the_database() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let slots = LiveSlots::new(SlotLimits {
            per_instance: 10,
            per_user: 10,
            per_address: 10,
        });
        let (running, gate) = (
            Arc::new(AtomicUsize::new(0)),
            Arc::new(tokio::sync::Notify::new()),
        );
        let reads: Vec<_> = (0..SUBSCRIBE_READS_AT_ONCE + 2)
            .map(|_| {
                let (slots, running, gate) = (slots.clone(), running.clone(), gate.clone());
                tokio::spawn(async move {
                    slots
                        .read(async {
                            running.fetch_add(1, Ordering::SeqCst);
                            gate.notified().await;
                        })
                        .await
                })
            })
            .collect();
        // One thread (the test's runtime): each read runs until it waits.
        tokio::task::yield_now().await;
        assert_eq!(running.load(Ordering::SeqCst), SUBSCRIBE_READS_AT_ONCE);
        // Each read that ends lets one waiting read in, until all have run.
        while !reads.iter().all(|r| r.is_finished()) {
            gate.notify_waiters();
            tokio::task::yield_now().await;
        }
        assert_eq!(running.load(Ordering::SeqCst), SUBSCRIBE_READS_AT_ONCE + 2);
    }

    #[test]
    fn each_limit_holds_and_a_dropped_slot_frees_its_place() {
        let slots = LiveSlots::new(SlotLimits {
            per_instance: 4,
            per_user: 2,
            per_address: 3,
        });
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let first = slots.take(UserId(1), a).unwrap();
        let _second = slots.take(UserId(1), a).unwrap();
        assert_eq!(slots.take(UserId(1), b).err(), Some(Refused::User));
        let _third = slots.take(UserId(2), a).unwrap();
        assert_eq!(slots.take(UserId(3), a).err(), Some(Refused::Address));
        let _fourth = slots.take(UserId(3), b).unwrap();
        assert_eq!(slots.take(UserId(4), b).err(), Some(Refused::Instance));
        assert_eq!(slots.counts(UserId(1), a), (4, 2, 3));
        drop(first);
        assert_eq!(slots.counts(UserId(1), a), (3, 1, 2));
        let _again = slots.take(UserId(1), b).unwrap();
        assert_eq!(slots.counts(UserId(1), b), (4, 2, 2));
    }

    #[test]
    fn many_takers_at_once_never_exceed_a_limit() {
        let slots = LiveSlots::new(SlotLimits {
            per_instance: 1000,
            per_user: 5,
            per_address: 1000,
        });
        let address: IpAddr = "10.0.0.1".parse().unwrap();
        let kept: Vec<Slot> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..16)
                .map(|_| {
                    let slots = slots.clone();
                    scope.spawn(move || {
                        (0..50)
                            .filter_map(|_| slots.take(UserId(7), address).ok())
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        });
        assert_eq!(kept.len(), 5);
        drop(kept);
        assert_eq!(slots.counts(UserId(7), address), (0, 0, 0));
    }
}
