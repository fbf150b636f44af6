//! Places for live sockets: at most so many per instance, per user and per client
//! address. A place is taken before the upgrade is answered, so a refusal is a plain
//! HTTP status the client can read (503 for the instance, 429 for a user or address),
//! and taking it is one check-and-count under one lock: many upgrades at once cannot
//! all slip under a limit. A place is given back when its `Slot` drops (the socket's
//! task ended).

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

pub struct LiveSlots {
    limits: SlotLimits,
    taken: Mutex<Taken>,
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
        })
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
