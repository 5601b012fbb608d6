//! Values that count themselves while they are alive.
//!
//! "How many messages are waiting?" asked of a channel misses the ones a
//! program parks somewhere else: in a `Vec` beside the channel, in a task
//! spawned per message, in a buffer of its own. A harness that makes its
//! messages with a [`Census`] does not have to know where they are kept:
//! each [`Alive`] value counts itself from the moment it is made until it
//! is dropped, wherever it is. "Made and not yet consumed" is then simply
//! the number alive.
//!
//! Only a census makes them, and only the harness holds its census; a
//! value also says which census made it ([`Census::made_it`]), so a piece
//! cannot hand over values of its own making.

use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counts the values it made: how many are alive now, the most that were
/// alive at once, and how many were made in all.
#[derive(Debug, Default)]
pub struct Census {
    counts: Arc<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    alive: AtomicU64,
    most: AtomicU64,
    made: AtomicU64,
}

impl Census {
    pub fn new() -> Census {
        Census::default()
    }

    /// `value`, counted alive until it is dropped.
    pub fn make<T>(&self, value: T) -> Alive<T> {
        let now = self.counts.alive.fetch_add(1, Ordering::SeqCst) + 1;
        self.counts.most.fetch_max(now, Ordering::SeqCst);
        self.counts.made.fetch_add(1, Ordering::SeqCst);
        Alive {
            value,
            counts: self.counts.clone(),
        }
    }

    /// Values made and not yet dropped, wherever they are kept.
    pub fn alive(&self) -> u64 {
        self.counts.alive.load(Ordering::SeqCst)
    }

    /// The most that were ever alive at the same moment.
    pub fn most(&self) -> u64 {
        self.counts.most.load(Ordering::SeqCst)
    }

    /// Values made so far.
    pub fn made(&self) -> u64 {
        self.counts.made.load(Ordering::SeqCst)
    }

    /// Whether this census made `value` (and not another one).
    pub fn made_it<T>(&self, value: &Alive<T>) -> bool {
        Arc::ptr_eq(&self.counts, &value.counts)
    }
}

/// A value that counts itself alive in the [`Census`] that made it, until
/// it is dropped. It can be read (it derefs to the value) but not copied
/// or cloned: a copy would not be counted.
#[derive(Debug)]
pub struct Alive<T> {
    value: T,
    counts: Arc<Counts>,
}

impl<T> Deref for Alive<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> Drop for Alive<T> {
    fn drop(&mut self) {
        self.counts.alive.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_count_themselves_wherever_they_are_kept() {
        let census = Census::new();
        let in_a_vec: Vec<Alive<u32>> = (0..3).map(|i| census.make(i)).collect();
        let in_a_thread = census.make(9);
        assert_eq!(census.alive(), 4);
        let t = std::thread::spawn(move || *in_a_thread + 1);
        assert_eq!(t.join().unwrap(), 10);
        assert_eq!(census.alive(), 3, "dropped with the thread's closure");
        drop(in_a_vec);
        assert_eq!(census.alive(), 0);
        assert_eq!(census.most(), 4);
        assert_eq!(census.made(), 4);
    }

    #[test]
    fn a_census_knows_its_own_values() {
        let ours = Census::new();
        let theirs = Census::new();
        let a = ours.make("a");
        let b = theirs.make("b");
        assert!(ours.made_it(&a));
        assert!(!ours.made_it(&b));
        assert_eq!(*a, "a");
    }
}
