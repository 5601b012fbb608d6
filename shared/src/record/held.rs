//! How long a piece of code held its thread in one go.
//!
//! A future that blocks inside `poll` (a `std::thread::sleep`, a lock held
//! too long, a loop that never yields) holds the thread that polls it: no
//! other task on that thread can run meanwhile. The symptom shows
//! elsewhere (a late heartbeat, a slow neighbour); this measures the
//! mechanism itself, from outside the code: the longest single poll.
//!
//! ```
//! # use shared::record::held::Held;
//! # use std::time::Duration;
//! let held = Held::new();
//! let answer = futures_lite_block_on(held.wrap(async { 6 * 7 }));
//! assert_eq!(answer, 42);
//! assert_eq!(held.polls(), 1);
//! assert!(held.longest() < Duration::from_secs(1));
//! # fn futures_lite_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     let mut f = std::pin::pin!(f);
//! #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
//! #     loop {
//! #         if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; }
//! #     }
//! # }
//! ```

use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// The longest single poll (or call) of everything it wrapped, and how
/// many there were. Clones share one record.
#[derive(Clone, Debug, Default)]
pub struct Held {
    inner: Arc<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    longest_ns: AtomicU64,
    polls: AtomicU64,
}

impl Held {
    pub fn new() -> Held {
        Held::default()
    }

    /// `fut`, with each of its polls timed here.
    pub fn wrap<F: Future>(&self, fut: F) -> HeldFuture<F> {
        HeldFuture {
            inner: fut,
            held: self.clone(),
        }
    }

    /// Runs `f`, a call that should return quickly, and times it like a
    /// poll: for a piece that is a plain function.
    pub fn time<R>(&self, f: impl FnOnce() -> R) -> R {
        let started = Instant::now();
        let out = f();
        self.note(started.elapsed());
        out
    }

    fn note(&self, took: Duration) {
        let ns = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.inner.longest_ns.fetch_max(ns, Ordering::Relaxed);
        self.inner.polls.fetch_add(1, Ordering::Relaxed);
    }

    /// The longest single poll so far.
    pub fn longest(&self) -> Duration {
        Duration::from_nanos(self.inner.longest_ns.load(Ordering::Relaxed))
    }

    /// The longest single poll, as a ratio to `ideal` (a tick, a wait):
    /// near 0 for code that gives its thread back, about 1 or more for
    /// code that holds it for the whole wait.
    pub fn longest_ratio(&self, ideal: Duration) -> f64 {
        self.longest().as_secs_f64() / ideal.as_secs_f64().max(1e-9)
    }

    /// Polls (and timed calls) so far.
    pub fn polls(&self) -> u64 {
        self.inner.polls.load(Ordering::Relaxed)
    }
}

pin_project! {
    /// A future whose polls are timed. Made by [`Held::wrap`].
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct HeldFuture<F> {
        #[pin]
        inner: F,
        held: Held,
    }
}

impl<F: Future> Future for HeldFuture<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let started = Instant::now();
        // Timed even if the poll panics: the guard notes it as it unwinds.
        struct Note<'a>(&'a Held, Instant);
        impl Drop for Note<'_> {
            fn drop(&mut self) {
                self.0.note(self.1.elapsed());
            }
        }
        let _note = Note(this.held, started);
        this.inner.poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    /// Pending once (waking itself), after holding the thread for `hold`.
    struct HoldThenYield {
        hold: Duration,
        done: bool,
    }

    impl Future for HoldThenYield {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.done {
                return Poll::Ready(());
            }
            std::thread::sleep(self.hold);
            self.done = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    #[test]
    fn the_longest_poll_is_the_one_that_held_the_thread() {
        let held = Held::new();
        let mut fut = std::pin::pin!(held.wrap(HoldThenYield {
            hold: Duration::from_millis(30),
            done: false,
        }));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        assert!(fut.as_mut().poll(&mut cx).is_ready());
        assert_eq!(held.polls(), 2);
        // A sleep lasts at least as long as asked, however busy the machine.
        assert!(held.longest() >= Duration::from_millis(30));
        assert!(held.longest_ratio(Duration::from_millis(30)) >= 1.0);
    }

    #[test]
    fn a_timed_call_counts_like_a_poll_and_clones_share_the_record() {
        let held = Held::new();
        let other = held.clone();
        assert_eq!(other.time(|| 7), 7);
        other.time(|| std::thread::sleep(Duration::from_millis(5)));
        assert_eq!(held.polls(), 2);
        assert!(held.longest() >= Duration::from_millis(5));
    }
}
