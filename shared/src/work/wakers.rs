//! A waker for tests: it wakes nothing, it only counts.
//!
//! Poll a future by hand with it and you can see whether (and how often) the
//! future asked to be polled again: the evidence for every claim about
//! wakers, with no executor and no clock involved.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Wake, Waker};

/// Counts calls to `wake`.
#[derive(Debug, Default)]
pub struct CountingWaker(AtomicUsize);

impl CountingWaker {
    /// A fresh counter and a `Waker` that counts into it.
    pub fn new() -> (Arc<CountingWaker>, Waker) {
        let counter = Arc::new(CountingWaker::default());
        let waker = Waker::from(counter.clone());
        (counter, waker)
    }

    /// How many times the waker was woken.
    pub fn wakes(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_counts_wake_and_wake_by_ref_and_clones_share_the_count() {
        let (counter, waker) = CountingWaker::new();
        waker.wake_by_ref();
        let copy = waker.clone();
        copy.wake();
        assert_eq!(counter.wakes(), 2);
        drop(waker);
        assert_eq!(counter.wakes(), 2, "dropping is not waking");
    }
}
