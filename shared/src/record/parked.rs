//! How much of a run a runtime's thread spent parked: idle, with nothing to
//! poll until a wake-up comes.
//!
//! A spin (a task or future that yields or wakes itself, again and again)
//! never lets its runtime park, however busy or idle the machine is;
//! waiting for a wake-up does. So the share of a run that the thread was
//! *not* parked tells a program that waits from one that spins, wherever
//! in the program the spin is.
//!
//! ```
//! use shared::record::parked::Parked;
//! use std::time::Duration;
//!
//! let mut builder = tokio::runtime::Builder::new_current_thread();
//! builder.enable_time();
//! let parked = Parked::watch(&mut builder);
//! let runtime = builder.build().unwrap();
//! let ((), busy) = parked.busy(|| {
//!     runtime.block_on(async { tokio::time::sleep(Duration::from_millis(50)).await })
//! });
//! assert!(busy < 0.5, "a runtime that only sleeps is mostly parked: {busy}");
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The time a runtime's thread has spent parked so far. Clones share one
/// record.
#[derive(Clone, Debug, Default)]
pub struct Parked {
    /// Time parked so far, and when the current park began.
    inner: Arc<Mutex<(Duration, Option<Instant>)>>,
    /// Times the thread was unparked (woken) so far.
    unparked: Arc<AtomicU64>,
}

impl Parked {
    /// Sets `builder`'s park and unpark hooks to keep the time here. It
    /// replaces any hooks the builder had; use it on a runtime with one
    /// thread (`new_current_thread`), whose parks do not overlap.
    pub fn watch(builder: &mut tokio::runtime::Builder) -> Parked {
        let parked = Parked::default();
        let (park, unpark) = (parked.clone(), parked.clone());
        builder
            .on_thread_park(move || park.parks())
            .on_thread_unpark(move || unpark.unparks());
        parked
    }

    fn parks(&self) {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).1 = Some(Instant::now());
    }

    fn unparks(&self) {
        self.unparked.fetch_add(1, Ordering::Relaxed);
        let mut p = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(at) = p.1.take() {
            p.0 += at.elapsed();
        }
    }

    /// The time spent parked so far, not counting a park still going on.
    pub fn total(&self) -> Duration {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).0
    }

    /// How many times the thread was woken from a park so far: once per
    /// wake-up, however many tasks that wake-up let run. A task that looks
    /// again and again (a sleep in a loop) wakes it at every look; a task
    /// that waits for a wake-up, only when what it waits for happens.
    pub fn wake_ups(&self) -> u64 {
        self.unparked.load(Ordering::Relaxed)
    }

    /// Runs `f`, which drives the runtime, and says how busy it kept it:
    /// the share of the time it was not parked, from 0 to 1.
    pub fn busy<R>(&self, f: impl FnOnce() -> R) -> (R, f64) {
        let (before, started) = (self.total(), Instant::now());
        let out = f();
        let parked = self.total().saturating_sub(before).as_secs_f64();
        let took = started.elapsed().as_secs_f64().max(1e-9);
        (out, (1.0 - parked / took).clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Poll;

    fn runtime() -> (tokio::runtime::Runtime, Parked) {
        let mut builder = tokio::runtime::Builder::new_current_thread();
        builder.enable_time();
        let parked = Parked::watch(&mut builder);
        (builder.build().unwrap(), parked)
    }

    #[test]
    fn a_spin_keeps_the_runtime_busy_and_a_wait_lets_it_park() {
        let (rt, parked) = runtime();
        // A future that wakes itself at every poll, for 100 ms: it never
        // lets the thread park.
        let ((), spin) = parked.busy(|| {
            rt.block_on(async {
                let until = Instant::now() + Duration::from_millis(100);
                std::future::poll_fn(|cx| {
                    if Instant::now() >= until {
                        return Poll::Ready(());
                    }
                    cx.waker().wake_by_ref();
                    Poll::Pending
                })
                .await
            })
        });
        // The same time spent waiting for a timer.
        let ((), wait) = parked
            .busy(|| rt.block_on(async { tokio::time::sleep(Duration::from_millis(100)).await }));
        assert!(spin > 0.9, "a spin never parks: busy {spin}");
        assert!(wait < 0.5, "a wait parks: busy {wait}");
        assert!(
            wait < spin,
            "a wait parks: busy {wait} against the spin's {spin}"
        );
        assert!(parked.total() > Duration::ZERO);
    }

    #[test]
    fn a_loop_that_looks_every_millisecond_wakes_the_runtime_at_each_look() {
        let (rt, parked) = runtime();
        let before = parked.wake_ups();
        rt.block_on(async { tokio::time::sleep(Duration::from_millis(50)).await });
        let one_wait = parked.wake_ups() - before;
        let before = parked.wake_ups();
        rt.block_on(async {
            for _ in 0..20 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        });
        let looks = parked.wake_ups() - before;
        assert!(one_wait <= 2, "one timer, one wake-up: {one_wait}");
        assert!(looks >= 10, "a wake-up per look: {looks}");
    }
}
