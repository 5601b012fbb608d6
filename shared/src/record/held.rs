//! How long a piece of code held its thread in one go, and how it spent it.
//!
//! A future that blocks inside `poll` (a `std::thread::sleep`, a lock held
//! too long, a loop that never yields) holds the thread that polls it: no
//! other task on that thread can run meanwhile. The symptom shows
//! elsewhere (a late heartbeat, a slow neighbour); this measures the
//! mechanism itself, from outside the code, for every poll:
//!
//! - its **wall time**: the longest single poll;
//! - the **CPU time** the thread spent in it (work done inside one poll),
//!   which a busy machine does not stretch: being paused by the operating
//!   system costs wall time, not CPU time;
//! - the time the thread was **asleep** in it: a poll during which the
//!   thread gave up its core of its own accord (it slept, or waited for a
//!   lock, a channel or a join) counts its wall time less its CPU time
//!   (Linux; elsewhere this reads 0);
//! - how many **polls** there were: a future that wakes itself and yields
//!   over and over (a spin) is polled thousands of times.
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

use crate::record::sched;
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
    longest_cpu_ns: AtomicU64,
    longest_asleep_ns: AtomicU64,
    asleep_ns: AtomicU64,
    polls: AtomicU64,
}

/// This thread's CPU time and voluntary context switches, now.
#[derive(Clone, Copy)]
struct ThreadClock {
    cpu: Duration,
    /// Times this thread gave up its core of its own accord (Linux).
    yielded: u64,
}

impl ThreadClock {
    fn now() -> ThreadClock {
        ThreadClock {
            cpu: sched::thread_cpu_time().unwrap_or_default(),
            yielded: sched::voluntary_switches().unwrap_or(0),
        }
    }
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
        let started = (Instant::now(), ThreadClock::now());
        let out = f();
        self.note(started);
        out
    }

    fn note(&self, (wall0, clock0): (Instant, ThreadClock)) {
        let wall = wall0.elapsed();
        let clock = ThreadClock::now();
        let cpu = clock.cpu.saturating_sub(clock0.cpu);
        let ns = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        let c = &self.inner;
        c.longest_ns.fetch_max(ns(wall), Ordering::Relaxed);
        c.longest_cpu_ns.fetch_max(ns(cpu), Ordering::Relaxed);
        if clock.yielded > clock0.yielded {
            let asleep = ns(wall.saturating_sub(cpu));
            c.longest_asleep_ns.fetch_max(asleep, Ordering::Relaxed);
            c.asleep_ns.fetch_add(asleep, Ordering::Relaxed);
        }
        c.polls.fetch_add(1, Ordering::Relaxed);
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

    /// The most CPU time the thread spent inside one poll: work done
    /// without giving the thread back. A busy machine does not stretch it.
    pub fn longest_cpu(&self) -> Duration {
        Duration::from_nanos(self.inner.longest_cpu_ns.load(Ordering::Relaxed))
    }

    /// [`Held::longest_cpu`] as a ratio to `ideal`.
    pub fn longest_cpu_ratio(&self, ideal: Duration) -> f64 {
        self.longest_cpu().as_secs_f64() / ideal.as_secs_f64().max(1e-9)
    }

    /// The longest time the thread spent asleep inside one poll: blocked in
    /// a sleep, a lock, a channel or a join, holding its thread.
    pub fn longest_asleep(&self) -> Duration {
        Duration::from_nanos(self.inner.longest_asleep_ns.load(Ordering::Relaxed))
    }

    /// [`Held::longest_asleep`] as a ratio to `ideal`.
    pub fn longest_asleep_ratio(&self, ideal: Duration) -> f64 {
        self.longest_asleep().as_secs_f64() / ideal.as_secs_f64().max(1e-9)
    }

    /// The longest the wrapped code kept its thread in one poll by its own
    /// doing: computing ([`Held::longest_cpu`]) or asleep in a blocking
    /// call ([`Held::longest_asleep`]). The time a busy machine paused the
    /// thread in the middle of a poll is left out (it is in the wall time
    /// only), so a fix's few microseconds stay few however busy the
    /// machine. Where the time asleep cannot be measured (off Linux), the
    /// wall time ([`Held::longest`]) stands in.
    pub fn own_longest(&self) -> Duration {
        if cfg!(target_os = "linux") {
            self.longest_cpu() + self.longest_asleep()
        } else {
            self.longest()
        }
    }

    /// All the time the thread spent asleep inside polls.
    pub fn asleep(&self) -> Duration {
        Duration::from_nanos(self.inner.asleep_ns.load(Ordering::Relaxed))
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
        let started = (Instant::now(), ThreadClock::now());
        // Timed even if the poll panics: the guard notes it as it unwinds.
        struct Note<'a>(&'a Held, (Instant, ThreadClock));
        impl Drop for Note<'_> {
            fn drop(&mut self) {
                self.0.note(self.1);
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
    fn a_sleep_inside_a_poll_is_time_asleep_and_work_is_cpu_time() {
        let held = Held::new();
        held.time(|| std::thread::sleep(Duration::from_millis(30)));
        assert!(
            held.longest_cpu() < Duration::from_millis(20),
            "{:?}",
            held.longest_cpu()
        );
        if cfg!(target_os = "linux") {
            // It slept at least as long as it asked, however busy the machine.
            assert!(
                held.longest_asleep() >= Duration::from_millis(20),
                "{:?}",
                held.longest_asleep()
            );
            assert_eq!(held.asleep(), held.longest_asleep());
        }
        // Asleep or not, the poll held its thread for the whole sleep.
        assert!(
            held.own_longest() >= Duration::from_millis(20),
            "{:?}",
            held.own_longest()
        );
        // Work until the thread has used 15 ms of CPU, however long that
        // takes on a busy machine.
        let worker = Held::new();
        worker.time(|| {
            let start = ThreadClock::now().cpu;
            let mut x = 0u64;
            while ThreadClock::now().cpu.saturating_sub(start) < Duration::from_millis(15) {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
            }
        });
        if cfg!(unix) {
            assert!(
                worker.longest_cpu() >= Duration::from_millis(15),
                "{:?}",
                worker.longest_cpu()
            );
        }
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
