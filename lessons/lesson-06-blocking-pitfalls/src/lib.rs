//! # Lesson 06: blocking pitfalls
//!
//! An executor can switch tasks only when a task's `poll` returns, which
//! happens at an `.await` that is not ready. A call that blocks the thread
//! (`std::thread::sleep`, a `std::sync::Mutex` that is held elsewhere, a long
//! computation) keeps the poll from returning, and every other task on that
//! thread waits with it. A heartbeat task ticking every 10 ms shows the harm.

use shared::TraceExt;
use shared::lesson::{Facts, Piece, Spec, Variant, fact};
use shared::work::heartbeat::Heartbeat;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::Instant;

/// How long each task in the `sleep` scenario waits.
pub const NAP: Duration = Duration::from_millis(100);
/// How many tasks wait.
pub const NAPPERS: u32 = 10;
/// The heartbeat's period.
pub const TICK: Duration = Duration::from_millis(10);
/// How long "saving" takes in the `mutex` scenario.
pub const SAVE: Duration = Duration::from_millis(20);

pub mod broken {
    use super::*;

    // ANCHOR: broken_nap
    /// Waits for `NAP` the way a synchronous program would.
    pub async fn nap() {
        shared::blocking("std::thread::sleep", || {
            std::thread::sleep(NAP); // BROKEN: blocks the whole thread
        });
    }
    // ANCHOR_END: broken_nap

    // ANCHOR: broken_hit
    /// Counts a page hit and saves the new count, holding the lock
    /// throughout so that saves happen in order.
    #[expect(
        clippy::await_holding_lock,
        reason = "the bug this lesson shows: a std guard held across .await"
    )]
    pub async fn record_hit(hits: &Mutex<u32>) {
        shared::mark("waiting for the lock");
        let mut count = hits.lock().unwrap(); // a std::sync::Mutex
        shared::mark("took the lock");
        *count += 1;
        save(*count).await; // BROKEN: the guard is held across this .await
        shared::mark("released the lock");
    }
    // ANCHOR_END: broken_hit
}

pub mod fixed {
    use super::*;

    // ANCHOR: fixed_nap
    /// Waits for `NAP` by telling the runtime's timer, and giving the thread
    /// back in the meantime.
    pub async fn nap() {
        tokio::time::sleep(NAP).await; // FIXED: yields the thread while waiting
    }
    // ANCHOR_END: fixed_nap

    // ANCHOR: fixed_hit_scope
    /// Ends the guard's scope before the `.await`: the lock is held only
    /// while the count changes, never while the task is paused.
    pub async fn record_hit(hits: &Mutex<u32>) {
        let count = {
            let mut count = hits.lock().unwrap();
            shared::mark("took the lock");
            *count += 1;
            *count
        }; // FIXED: the guard is dropped here, before the .await
        shared::mark("released the lock");
        save(count).await;
    }
    // ANCHOR_END: fixed_hit_scope

    // ANCHOR: fixed_hit_async_mutex
    /// When the lock really must be held across the `.await` (here, to keep
    /// saves in order), use an async mutex: waiting for it is an `.await`,
    /// so a task that finds it taken gives the thread back.
    pub async fn record_hit_in_order(hits: &tokio::sync::Mutex<u32>) {
        shared::mark("waiting for the lock");
        let mut count = hits.lock().await; // FIXED: waits without blocking
        shared::mark("took the lock");
        *count += 1;
        save(*count).await; // holding a tokio guard across .await is fine
        shared::mark("released the lock");
    }
    // ANCHOR_END: fixed_hit_async_mutex
}

thread_local! {
    /// The counts saved on this thread so far, for the harness.
    static SAVED: std::cell::RefCell<Vec<u32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Stands in for writing the count somewhere: an `.await` that takes `SAVE`.
pub async fn save(count: u32) {
    tokio::time::sleep(SAVE).await;
    SAVED.with(|s| s.borrow_mut().push(count));
}

/// The runtime for both scenarios: one thread, as in many servers' tests
/// and in every `#[tokio::main(flavor = "current_thread")]`.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime always builds")
}

// The compiler's error for a future that is not `Send` ("future cannot be
// sent between threads safely") has no error code, so the two doctests
// below cannot name one.

/// `std::sync::MutexGuard` is not `Send`, so a future that holds one across
/// an `.await` is not `Send` either, and `tokio::spawn` refuses it, on every
/// runtime flavour:
///
/// ```compile_fail
#[doc = include_str!("snippets/spawn_holding_guard.rs")]
/// ```
///
/// A runtime's `block_on`, futures joined inside one task (`join!`), and
/// `spawn_local` on a `LocalSet` do not need `Send` (their futures never
/// leave the thread), so there the same code compiles, and at run time the
/// second `lock()` on that thread never returns: std documents that it
/// "might panic or deadlock".
pub struct GuardIsNotSend;

/// `Sync` means that `&T` may be shared between threads. An `Arc<T>` hands
/// out `&T` to every thread that has a clone, so `Arc<T>` is `Send` only
/// when `T` is `Send + Sync`. `Cell` is `Send` but not `Sync`, so an
/// `Arc<Cell<_>>` (or an `Arc<RefCell<_>>`) cannot go into a spawned task:
///
/// ```compile_fail
#[doc = include_str!("snippets/spawn_arc_cell.rs")]
/// ```
///
/// An `Arc<Mutex<_>>` or an `Arc<AtomicU64>` can: `tests/concepts.rs`
/// spawns both.
pub struct ArcNeedsSync;

/// Follows naps as they run: how many are in progress at once (from a
/// nap's first poll until it is ready), and the shortest one.
#[derive(Clone, Default)]
struct Gauge {
    running: Arc<AtomicU32>,
    most: Arc<AtomicU32>,
    shortest_us: Arc<AtomicU64>,
}

/// One nap, followed by a [`Gauge`].
struct Followed<F> {
    inner: Pin<Box<F>>,
    gauge: Gauge,
    started: Option<Instant>,
}

impl<F: Future<Output = ()>> Future for Followed<F> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.started.is_none() {
            self.started = Some(Instant::now());
            let now = self.gauge.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.gauge.most.fetch_max(now, Ordering::SeqCst);
        }
        let done = self.inner.as_mut().poll(cx);
        if done.is_ready() {
            let took = self.started.map_or(0, |s| s.elapsed().as_micros() as u64);
            self.gauge.shortest_us.fetch_min(took, Ordering::SeqCst);
            self.gauge.running.fetch_sub(1, Ordering::SeqCst);
        }
        done
    }
}

impl Gauge {
    fn new() -> Gauge {
        let g = Gauge::default();
        g.shortest_us.store(u64::MAX, Ordering::SeqCst);
        g
    }

    fn follow<F: Future<Output = ()>>(&self, nap: F) -> Followed<F> {
        Followed {
            inner: Box::pin(nap),
            gauge: self.clone(),
            started: None,
        }
    }
}

/// The `sleep` scenario: ten tasks each wait `NAP`, beside a heartbeat.
pub mod sleep {
    use super::*;
    use std::process::ExitCode;

    pub static SPEC: Spec = Spec {
        name: "sleep",
        facts: &[
            fact("elapsed_ratio", "the time for all ten waits over one wait"),
            fact(
                "heartbeat_lateness",
                "the heartbeat's worst lateness, in 10 ms ticks",
            ),
            fact(
                "naps_at_once",
                "the most waits in progress at the same time",
            ),
            fact(
                "shortest_nap_ratio",
                "the shortest wait over the 100 ms it should last",
            ),
        ],
    };

    /// Spawns `NAPPERS` tasks running `nap` on the current runtime, beside
    /// a heartbeat, and waits for them all.
    pub async fn measure<N, F>(facts: &Facts, nap: N)
    where
        N: Fn() -> F + Clone + Send + 'static,
        F: Future<Output = ()> + Send + 'static,
    {
        let heartbeat = Heartbeat::spawn(TICK);
        let gauge = Gauge::new();
        let start = Instant::now();
        let tasks: Vec<_> = (1..=NAPPERS)
            .map(|i| {
                let nap = nap.clone();
                let napping = gauge.follow(async move { nap().await });
                tokio::spawn(napping.traced(format!("napper {i}")))
            })
            .collect();
        for task in tasks {
            task.await.expect("a napper does not panic");
        }
        let elapsed = start.elapsed();
        // Give the heartbeat one more turn, so that a late tick is measured.
        tokio::time::sleep(TICK).await;
        facts.set("elapsed_ratio", elapsed.as_secs_f64() / NAP.as_secs_f64());
        facts.set("heartbeat_lateness", heartbeat.worst_lateness_ratio());
        facts.set("naps_at_once", gauge.most.load(Ordering::SeqCst));
        let shortest = Duration::from_micros(gauge.shortest_us.load(Ordering::SeqCst));
        facts.set(
            "shortest_nap_ratio",
            shortest.as_secs_f64() / NAP.as_secs_f64(),
        );
    }

    pub fn run<N, F>(facts: &Facts, nap: N)
    where
        N: Fn() -> F + Clone + Send + 'static,
        F: Future<Output = ()> + Send + 'static,
    {
        println!(
            "{NAPPERS} tasks each wait {} ms with {}, on a one-thread runtime,",
            NAP.as_millis(),
            facts.the("nap")
        );
        println!("beside a heartbeat that should tick every 10 ms.");
        runtime().block_on(measure(facts, nap));
        println!(
            "All done after {:.1} times one wait; at most {} waits were in progress at once;",
            facts.get("elapsed_ratio").unwrap_or(0.0),
            facts.get("naps_at_once").unwrap_or(0.0)
        );
        println!(
            "the heartbeat was up to {:.1} ticks late.",
            facts.get("heartbeat_lateness").unwrap_or(0.0)
        );
    }

    pub fn piece<'a, N, F>(name: &'static str, nap: N) -> Piece<'a>
    where
        N: Fn() -> F + Clone + Send + 'static,
        F: Future<Output = ()> + Send + 'static,
    {
        Piece::new(name, move |facts| run(facts, nap))
    }

    /// The exercise binary's `main`: judges the learner's `nap`.
    pub fn exercise<N, F>(nap: N) -> ExitCode
    where
        N: Fn() -> F + Clone + Send + 'static,
        F: Future<Output = ()> + Send + 'static,
    {
        shared::lesson::main(
            "lesson-06",
            Variant::Exercise("sleep"),
            vec![SPEC.with(vec![piece("", nap)])],
        )
    }
}

/// The `mutex` scenario: two futures joined in one task each count a hit
/// under a lock and save the count, beside a heartbeat.
pub mod mutex {
    use super::*;
    use std::process::ExitCode;

    pub static SPEC: Spec = Spec {
        name: "mutex",
        facts: &[
            fact("hits_saved", "hits saved, of the two counted").live(),
            fact(
                "wrong_saves",
                "saves that did not save the counts 1 and 2, one each",
            ),
            fact(
                "heartbeat_lateness",
                "the heartbeat's worst lateness, in 10 ms ticks",
            ),
        ],
    };

    /// Runs `record_hit` twice, joined in one task on the current runtime
    /// (so no `Send` is needed), on a counter made by `new_hits`, beside a
    /// heartbeat. Never returns if the two deadlock: that is the bug.
    pub async fn measure<S, R>(facts: &Facts, new_hits: fn() -> S, record_hit: R)
    where
        R: AsyncFn(&S),
    {
        SAVED.with(|s| s.borrow_mut().clear());
        facts.set("hits_saved", 0);
        let hits = new_hits();
        let heartbeat = Heartbeat::spawn(TICK);
        tokio::join!(
            record_hit(&hits).traced("future A"),
            record_hit(&hits).traced("future B")
        );
        tokio::time::sleep(TICK).await;
        let mut saved = SAVED.with(|s| s.borrow().clone());
        facts.set("hits_saved", saved.len() as u32);
        saved.sort_unstable();
        facts.set("wrong_saves", u32::from(saved != [1, 2]));
        facts.set("heartbeat_lateness", heartbeat.worst_lateness_ratio());
    }

    pub fn run<S, R>(facts: &Facts, new_hits: fn() -> S, record_hit: R)
    where
        R: AsyncFn(&S),
    {
        println!("Futures A and B, joined in one task on a one-thread runtime, each count a");
        println!(
            "hit with {} and save the count (an .await that takes 20 ms).",
            facts.the("record_hit")
        );
        println!("(If they deadlock, the watchdog stops the program after 2 s.)");
        runtime().block_on(measure(facts, new_hits, record_hit));
        println!(
            "Both done: {} hits saved; the heartbeat was up to {:.1} ticks late.",
            facts.get("hits_saved").unwrap_or(0.0),
            facts.get("heartbeat_lateness").unwrap_or(0.0)
        );
    }

    pub fn piece<'a, S: 'a, R>(name: &'static str, new_hits: fn() -> S, record_hit: R) -> Piece<'a>
    where
        R: AsyncFn(&S) + 'a,
    {
        Piece::new(name, move |facts| run(facts, new_hits, record_hit))
    }

    /// The exercise binary's `main`: judges the learner's `record_hit`.
    pub fn exercise<S, R>(new_hits: fn() -> S, record_hit: R) -> ExitCode
    where
        R: AsyncFn(&S),
    {
        shared::lesson::main(
            "lesson-06",
            Variant::Exercise("mutex"),
            vec![SPEC.with(vec![piece("", new_hits, record_hit)])],
        )
    }
}
