//! Counting how many of something are in progress at once.
//!
//! Requests in flight, jobs computing, waits pending: several lessons'
//! harnesses measure "the most at the same moment" from outside the code
//! they judge. An [`AtOnce`] counts; each thing holds an [`Entered`] while
//! it is in progress.

use std::sync::atomic::{AtomicU64, Ordering};

/// How many are in progress now, and the most there ever were.
#[derive(Debug, Default)]
pub struct AtOnce {
    now: AtomicU64,
    most: AtomicU64,
}

impl AtOnce {
    pub const fn new() -> AtOnce {
        AtOnce {
            now: AtomicU64::new(0),
            most: AtomicU64::new(0),
        }
    }

    /// One more is in progress, until the returned guard is dropped.
    pub fn enter(&self) -> Entered<'_> {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        Entered(self)
    }

    /// How many are in progress now.
    pub fn now(&self) -> u64 {
        self.now.load(Ordering::SeqCst)
    }

    /// The most that were ever in progress at the same moment.
    pub fn most(&self) -> u64 {
        self.most.load(Ordering::SeqCst)
    }

    /// Starts counting the most again (from those in progress now).
    pub fn reset_most(&self) {
        self.most
            .store(self.now.load(Ordering::SeqCst), Ordering::SeqCst);
    }
}

/// Held while one thing is in progress.
#[derive(Debug)]
pub struct Entered<'a>(&'a AtOnce);

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_keeps_the_most_at_the_same_moment() {
        let gauge = AtOnce::new();
        let a = gauge.enter();
        let b = gauge.enter();
        drop(a);
        let c = gauge.enter();
        assert_eq!(gauge.most(), 2);
        drop((b, c));
        gauge.reset_most();
        assert_eq!(gauge.most(), 0);
        let _d = gauge.enter();
        assert_eq!(gauge.most(), 1);
    }
}
