//! # Lesson 06: blocking pitfalls
//!
//! An executor can switch tasks only when a task's `poll` returns, which
//! happens at an `.await` that is not ready. A call that blocks the thread
//! (`std::thread::sleep`, a `std::sync::Mutex` that is held elsewhere, a long
//! computation) keeps the poll from returning, and every other task on that
//! thread waits with it. A heartbeat task ticking every 10 ms shows the harm.

use shared::TraceExt;
use shared::lesson::{Facts, Piece, Spec, Variant, fact};
use shared::record::held::Held;
use shared::record::threads::name_threads;
use shared::work::heartbeat::Heartbeat;
use shared::work::shape::{Rng, seed};
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::Instant;

/// This lesson's id, `lesson-06`: its package name.
pub const LESSON: &str = env!("CARGO_PKG_NAME");

/// How long a wait lasts in the book's examples of the `sleep` scenario
/// (the harness asks for others too).
pub const NAP: Duration = Duration::from_millis(100);
/// How many tasks wait in the book's examples.
pub const NAPPERS: u32 = 10;
/// The heartbeat's period.
pub const TICK: Duration = Duration::from_millis(10);
/// How long "saving" takes in the `mutex` scenario, unless the harness
/// picks another time.
pub const SAVE: Duration = Duration::from_millis(20);

pub mod cache;
pub mod schedule;

pub mod broken {
    use super::*;
    use crate::cache::{Page, fetch};
    use crate::schedule::Plan;
    use std::collections::HashMap;

    // ANCHOR: broken_nap
    /// Waits for `length` the way a synchronous program would.
    pub async fn nap(length: Duration) {
        shared::blocking("std::thread::sleep", || {
            std::thread::sleep(length); // BROKEN: blocks the whole thread
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

    // ANCHOR: broken_follow
    /// Fires each event of `plan` at its time, waiting out the gap before
    /// it the way a synchronous program would.
    pub async fn follow(plan: &Plan) {
        let mut previous = Duration::ZERO;
        for (i, &due) in plan.offsets().iter().enumerate() {
            shared::blocking("std::thread::sleep", || {
                std::thread::sleep(due - previous); // BROKEN: blocks the whole thread
            });
            previous = due;
            plan.fire(i).await;
        }
    }
    // ANCHOR_END: broken_follow

    /// The pages fetched so far, by key.
    pub type Cache = Mutex<HashMap<u32, Page>>;

    pub fn new_cache() -> Cache {
        Mutex::new(HashMap::new())
    }

    // ANCHOR: broken_get
    /// Answers from the cache, fetching on a miss, holding the lock
    /// throughout so that no other get fetches the same key meanwhile.
    #[expect(
        clippy::await_holding_lock,
        reason = "the bug this lesson shows: a std guard held across .await"
    )]
    pub async fn get(cache: &Cache, key: u32) -> Page {
        let mut pages = cache.lock().unwrap();
        if let Some(page) = pages.get(&key) {
            return page.clone();
        }
        let page = fetch(key).await; // BROKEN: the guard is held across this .await
        pages.insert(key, page.clone());
        page
    }
    // ANCHOR_END: broken_get
}

pub mod fixed {
    use super::*;
    use crate::cache::{Page, fetch};
    use crate::schedule::Plan;
    use std::collections::HashMap;
    use tokio::sync::OnceCell;

    // ANCHOR: fixed_nap
    /// Waits for `length` by telling the runtime's timer, and giving the
    /// thread back in the meantime.
    pub async fn nap(length: Duration) {
        tokio::time::sleep(length).await; // FIXED: yields the thread while waiting
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

    // ANCHOR: fixed_follow
    /// Waits for each event until its own time, counted from the start:
    /// however long an event takes to fire, the next one is not moved.
    pub async fn follow(plan: &Plan) {
        let start = tokio::time::Instant::now();
        for (i, &due) in plan.offsets().iter().enumerate() {
            tokio::time::sleep_until(start + due).await; // FIXED: a deadline, not a gap
            plan.fire(i).await;
        }
    }
    // ANCHOR_END: fixed_follow

    // ANCHOR: fixed_get
    /// For each key, a cell that is filled once. The std lock is held only
    /// to find or add a key's cell; the wait for the page is on the cell.
    pub type Cache = Mutex<HashMap<u32, Arc<OnceCell<Page>>>>;

    pub fn new_cache() -> Cache {
        Mutex::new(HashMap::new())
    }

    pub async fn get(cache: &Cache, key: u32) -> Page {
        let cell = cache.lock().unwrap().entry(key).or_default().clone();
        // FIXED: the guard is gone. The first get of a key fetches; the
        // others wait on that key's cell with an .await, not on the lock.
        cell.get_or_init(|| fetch(key)).await.clone()
    }
    // ANCHOR_END: fixed_get
}

thread_local! {
    /// The saves made on this thread in the current run: each count, and
    /// the hit whose future was being polled when its save finished.
    static SAVED: RefCell<Vec<(u32, Option<usize>)>> = const { RefCell::new(Vec::new()) };
    /// How long a save takes in the current run.
    static SAVE_TIME: Cell<Duration> = const { Cell::new(SAVE) };
    /// The hit whose future is being polled on this thread, if any.
    static POLLING_HIT: Cell<Option<usize>> = const { Cell::new(None) };
}

/// Stands in for writing the count somewhere: an `.await` that takes a
/// while (`SAVE`, unless the harness picked another time).
pub async fn save(count: u32) {
    tokio::time::sleep(SAVE_TIME.get()).await;
    SAVED.with(|s| s.borrow_mut().push((count, POLLING_HIT.get())));
}

/// The runtime for both scenarios: one thread, as in many servers' tests
/// and in every `#[tokio::main(flavor = "current_thread")]`.
pub fn runtime() -> tokio::runtime::Runtime {
    let mut builder = tokio::runtime::Builder::new_current_thread();
    name_threads(&mut builder, "", 0)
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

/// Follows waits as they run: how many are in progress at once (from a
/// wait's first poll until it is ready).
#[derive(Clone, Default)]
struct Gauge {
    running: Arc<AtomicU32>,
    most: Arc<AtomicU32>,
}

/// One wait, followed by a [`Gauge`]: how long it lasted, from its first
/// poll until it was ready, and how long its polls put the thread to sleep.
struct Followed<F> {
    inner: Pin<Box<F>>,
    gauge: Gauge,
    started: Option<Instant>,
    lasted: Arc<AtomicU64>,
    asleep: Asleep,
}

/// How long polls put their thread to sleep, in all: the time of every
/// poll during which the thread blocked (waited in the kernel, as
/// `std::thread::sleep` or a contended lock does). Clones share it.
#[derive(Clone, Default)]
struct Asleep {
    us: Arc<AtomicU64>,
}

impl Asleep {
    /// Times of the blocking calls of this thread so far: how many times
    /// it gave up its core voluntarily, as Linux counts them. `None` where
    /// that cannot be read.
    fn blocking_calls() -> Option<u64> {
        shared::record::sched::voluntary_switches()
    }

    /// Whether this machine can tell (Linux can).
    fn measurable() -> bool {
        Asleep::blocking_calls().is_some()
    }

    /// Polls with `poll`, and adds its time if the thread blocked in it.
    fn poll<T>(&self, poll: impl FnOnce() -> T) -> T {
        let before = Asleep::blocking_calls();
        let started = std::time::Instant::now();
        let out = poll();
        let took = started.elapsed();
        if let (Some(a), Some(b)) = (before, Asleep::blocking_calls())
            && b > a
        {
            self.us.fetch_add(took.as_micros() as u64, Ordering::SeqCst);
        }
        out
    }

    fn total(&self) -> Duration {
        Duration::from_micros(self.us.load(Ordering::SeqCst))
    }
}

impl<F: Future<Output = ()>> Future for Followed<F> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.started.is_none() {
            self.started = Some(Instant::now());
            let now = self.gauge.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.gauge.most.fetch_max(now, Ordering::SeqCst);
        }
        let asleep = self.asleep.clone();
        let done = asleep.poll(|| self.inner.as_mut().poll(cx));
        if done.is_ready() {
            let took = self.started.map_or(0, |s| s.elapsed().as_micros() as u64);
            self.lasted.store(took, Ordering::SeqCst);
            self.gauge.running.fetch_sub(1, Ordering::SeqCst);
        }
        done
    }
}

/// Prints the seed a run's workloads came from, and how to replay it.
fn say_seed() {
    println!(
        "(workloads from seed {0}; LESSON_SEED={0} replays them)",
        seed()
    );
}

/// The `sleep` scenario: tasks that each wait a while, beside a heartbeat,
/// under two workloads.
pub mod sleep {
    use super::*;
    use std::process::ExitCode;

    pub static SPEC: Spec = Spec {
        name: "sleep",
        facts: &[
            fact(
                "elapsed_ratio",
                "the time for all the waits over the longest one (worst workload)",
            )
            .timing(),
            fact(
                "heartbeat_lateness",
                "the heartbeat's worst lateness, in 10 ms ticks",
            )
            .timing(),
            fact(
                "naps_at_once",
                "the most waits in progress at the same time, over the waits (1 is all; fewest over the workloads)",
            ),
            fact(
                "shortest_nap_ratio",
                "the shortest wait over the time it was asked to last",
            ),
            fact(
                "longest_nap_ratio",
                "the longest wait over the time it was asked to last",
            )
            .timing(),
            fact(
                "longest_poll_ratio",
                "the longest single poll of a wait over the shortest wait asked for",
            )
            .timing(),
            fact(
                "asleep_share",
                "the share of the time the thread slept inside the waits' polls (in blocking calls)",
            )
            .timing(),
            fact(
                "longest_cpu_ratio",
                "the most CPU time of one poll of a wait, over the heartbeat's tick",
            )
            .timing(),
            fact(
                "polls_per_wait",
                "polls of the waits, per wait (worst workload)",
            ),
        ],
    };

    /// One workload: how long each task is asked to wait.
    #[derive(Clone, Debug)]
    pub struct Shape {
        pub name: String,
        pub lengths: Vec<Duration>,
    }

    impl Shape {
        pub fn longest(&self) -> Duration {
            self.lengths.iter().copied().max().unwrap_or_default()
        }

        pub fn shortest(&self) -> Duration {
            self.lengths.iter().copied().min().unwrap_or_default()
        }
    }

    /// The two workloads of one run: 8 to 12 tasks that each wait the same
    /// 80 to 120 ms, then 8 to 14 tasks that each wait 60 to 150 ms (one of
    /// them 60, one 150).
    pub fn shapes(rng: &mut Rng) -> Vec<Shape> {
        // Whole milliseconds: tokio's timer counts in them.
        let ms = Duration::from_millis;
        let n = rng.between(8, 12) as usize;
        let length = ms(rng.between(80, 120));
        let even = Shape {
            name: format!("{n} waits of {} ms", length.as_millis()),
            lengths: vec![length; n],
        };
        // The shortest and the longest length are always among them.
        let n = rng.between(8, 14) as usize;
        let mut lengths = vec![ms(60), ms(150)];
        lengths.extend((2..n).map(|_| ms(rng.between(60, 150))));
        rng.shuffle(&mut lengths);
        let mixed = Shape {
            name: format!("{n} waits of 60 to 150 ms"),
            lengths,
        };
        vec![even, mixed]
    }

    /// What one workload measured.
    #[derive(Clone, Debug, PartialEq)]
    pub struct Measured {
        pub elapsed_ratio: f64,
        pub at_once: f64,
        pub shortest_ratio: f64,
        pub longest_ratio: f64,
        pub longest_poll_ratio: f64,
        pub asleep_share: f64,
        pub longest_cpu_ratio: f64,
        pub polls_per_wait: f64,
    }

    /// Whether this machine says when a thread blocks (Linux does), so that
    /// `asleep_share` can be measured; elsewhere it reads 0.
    pub fn can_tell_blocking() -> bool {
        Asleep::measurable()
    }

    /// Spawns one task per wait of `shape` on the current runtime, each
    /// running `nap`, and waits for them all.
    pub async fn measure_shape<N, F>(shape: &Shape, nap: &N) -> Measured
    where
        N: Fn(Duration) -> F,
        F: Future<Output = ()> + Send + 'static,
    {
        let gauge = Gauge::default();
        let held = Held::new();
        let asleep = Asleep::default();
        let start = Instant::now();
        let tasks: Vec<_> = shape
            .lengths
            .iter()
            .enumerate()
            .map(|(i, &length)| {
                let lasted = Arc::new(AtomicU64::new(0));
                let napping = Followed {
                    inner: Box::pin(held.wrap(nap(length))),
                    gauge: gauge.clone(),
                    started: None,
                    lasted: lasted.clone(),
                    asleep: asleep.clone(),
                };
                let task = tokio::spawn(napping.traced(format!("napper {}", i + 1)));
                (task, lasted, length)
            })
            .collect();
        let mut ratios = Vec::new();
        for (task, lasted, length) in tasks {
            task.await.expect("a napper does not panic");
            let lasted = Duration::from_micros(lasted.load(Ordering::SeqCst));
            ratios.push(lasted.as_secs_f64() / length.as_secs_f64());
        }
        let elapsed = start.elapsed();
        Measured {
            elapsed_ratio: elapsed.as_secs_f64() / shape.longest().as_secs_f64(),
            at_once: f64::from(gauge.most.load(Ordering::SeqCst)) / shape.lengths.len() as f64,
            shortest_ratio: ratios.iter().copied().fold(f64::INFINITY, f64::min),
            longest_ratio: ratios.iter().copied().fold(0.0, f64::max),
            longest_poll_ratio: held.longest_ratio(shape.shortest()),
            asleep_share: asleep.total().as_secs_f64() / elapsed.as_secs_f64().max(1e-9),
            longest_cpu_ratio: held.longest_cpu_ratio(TICK),
            polls_per_wait: held.polls() as f64 / shape.lengths.len().max(1) as f64,
        }
    }

    /// Measures every workload in turn on the current runtime, beside a
    /// heartbeat, and sets the facts: the worst of each over the workloads.
    pub async fn measure<N, F>(facts: &Facts, shapes: &[Shape], nap: N) -> Vec<Measured>
    where
        N: Fn(Duration) -> F,
        F: Future<Output = ()> + Send + 'static,
    {
        let heartbeat = Heartbeat::spawn(TICK);
        let mut all = Vec::new();
        for shape in shapes {
            all.push(measure_shape(shape, &nap).await);
        }
        // Give the heartbeat one more turn, so that a late tick is measured.
        tokio::time::sleep(TICK).await;
        let most = |f: fn(&Measured) -> f64| all.iter().map(f).fold(0.0, f64::max);
        let least = |f: fn(&Measured) -> f64| all.iter().map(f).fold(f64::INFINITY, f64::min);
        facts.set("elapsed_ratio", most(|m| m.elapsed_ratio));
        facts.set("heartbeat_lateness", heartbeat.worst_lateness_ratio());
        facts.set("naps_at_once", least(|m| m.at_once));
        facts.set("shortest_nap_ratio", least(|m| m.shortest_ratio));
        facts.set("longest_nap_ratio", most(|m| m.longest_ratio));
        facts.set("longest_poll_ratio", most(|m| m.longest_poll_ratio));
        facts.set("asleep_share", most(|m| m.asleep_share));
        facts.set("longest_cpu_ratio", most(|m| m.longest_cpu_ratio));
        facts.set("polls_per_wait", most(|m| m.polls_per_wait));
        all
    }

    pub fn run<N, F>(facts: &Facts, nap: N)
    where
        N: Fn(Duration) -> F,
        F: Future<Output = ()> + Send + 'static,
    {
        let shapes = shapes(&mut Rng::for_scenario("sleep"));
        println!(
            "Tasks each wait a while with {}, on a one-thread runtime, beside a heartbeat",
            facts.the("nap")
        );
        println!("that should tick every 10 ms, under two workloads:");
        say_seed();
        let all = runtime().block_on(measure(facts, &shapes, nap));
        for (shape, m) in shapes.iter().zip(&all) {
            println!(
                "  {}: done after {:.1} times the longest; {:.0}% of them in progress at once;",
                shape.name,
                m.elapsed_ratio,
                m.at_once * 100.0
            );
            println!(
                "    each lasted {:.2} to {:.2} times its length; the longest poll held the thread for {:.2} of the shortest wait;",
                m.shortest_ratio, m.longest_ratio, m.longest_poll_ratio
            );
            println!(
                "    each wait was polled {:.1} times on average, computing at most {:.2} of a tick in one poll.",
                m.polls_per_wait, m.longest_cpu_ratio
            );
        }
        println!(
            "The heartbeat was up to {:.1} ticks late; the thread slept inside the waits' polls for {:.0}% of the time.",
            facts.get("heartbeat_lateness").unwrap_or(0.0),
            facts.get("asleep_share").unwrap_or(0.0) * 100.0
        );
        println!(
            "(In the timeline below, \"napper 1\" stands for the first wait of both workloads: its polls add up both.)"
        );
        if !Asleep::measurable() {
            println!(
                "(This system does not say when a thread blocks, so that share reads 0 here.)"
            );
        }
    }

    pub fn piece<'a, N, F>(name: &'static str, nap: N) -> Piece<'a>
    where
        N: Fn(Duration) -> F + 'a,
        F: Future<Output = ()> + Send + 'static,
    {
        Piece::new(name, move |facts| run(facts, nap))
    }

    /// The exercise binary's `main`: judges the learner's `nap`.
    pub fn exercise<N, F>(nap: N) -> ExitCode
    where
        N: Fn(Duration) -> F,
        F: Future<Output = ()> + Send + 'static,
    {
        shared::lesson::main(
            LESSON,
            Variant::Exercise("sleep"),
            vec![SPEC.with(vec![piece("", nap)])],
        )
    }
}

/// One hit's future: while it is polled, saves that finish are this hit's.
struct Hit<F> {
    id: usize,
    inner: Pin<Box<F>>,
}

impl<F: Future<Output = ()>> Future for Hit<F> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let outer = POLLING_HIT.replace(Some(self.id));
        let done = self.inner.as_mut().poll(cx);
        POLLING_HIT.set(outer);
        done
    }
}

/// The `mutex` scenario: futures joined in one task each count a hit
/// under a lock and save the count, beside a heartbeat, under two
/// workloads.
pub mod mutex {
    use super::*;
    use std::process::ExitCode;

    pub static SPEC: Spec = Spec {
        name: "mutex",
        facts: &[
            fact(
                "hits_saved",
                "hits saved by their own future, over all the hits made (1 is every one)",
            )
            .live(),
            fact(
                "wrong_saves",
                "saves that were not each of the counts once, or that finished outside their hit's own future",
            ),
            fact(
                "heartbeat_lateness",
                "the heartbeat's worst lateness, in 10 ms ticks",
            )
            .timing(),
            fact(
                "longest_poll_ratio",
                "the longest single poll of a hit over the save's time",
            )
            .timing(),
            fact(
                "polls_per_hit",
                "polls of the hits, per hit (worst workload)",
            ),
            fact(
                "asleep_share",
                "the share of the hits' time their thread slept inside their polls (worst workload)",
            )
            .timing(),
        ],
    };

    /// One workload: the count stored so far (where the counter starts),
    /// when each hit comes (from the start), and how long a save takes.
    #[derive(Clone, Debug)]
    pub struct Shape {
        pub name: String,
        pub stored: u32,
        pub arrivals: Vec<Duration>,
        pub save: Duration,
    }

    /// The two workloads of one run: two hits at once with 20 ms saves,
    /// then 3 to 6 hits, two at once and the others while the first saves
    /// are still going, with saves of 15 to 30 ms. Each counter starts at
    /// a count picked at random.
    pub fn shapes(rng: &mut Rng) -> Vec<Shape> {
        let ms = Duration::from_millis;
        let two = Shape {
            name: "two hits at once, 20 ms saves".into(),
            stored: rng.between(0, 9_999) as u32,
            arrivals: vec![Duration::ZERO; 2],
            save: SAVE,
        };
        let n = rng.between(3, 6) as usize;
        let save = ms(rng.between(15, 30));
        let mut arrivals = vec![Duration::ZERO; 2];
        arrivals.extend((2..n).map(|_| ms(rng.between(2, 8))));
        let more = Shape {
            name: format!("{n} hits within 8 ms, {} ms saves", save.as_millis()),
            stored: rng.between(0, 9_999) as u32,
            arrivals,
            save,
        };
        vec![two, more]
    }

    /// What one workload measured.
    #[derive(Clone, Debug, PartialEq)]
    pub struct Measured {
        /// Hits whose own future saved.
        pub saved: usize,
        pub wrong: usize,
        pub longest_poll_ratio: f64,
        pub polls_per_hit: f64,
        pub asleep_share: f64,
    }

    /// Runs `record_hit` once per hit of `shape`, all joined in one task
    /// on the current runtime (so no `Send` is needed), on a counter made
    /// by `new_hits`. Never returns if they deadlock: that is the bug.
    pub async fn measure_shape<S, R>(
        shape: &Shape,
        new_hits: fn(u32) -> S,
        record_hit: &R,
    ) -> Measured
    where
        R: AsyncFn(&S),
    {
        SAVED.with(|s| s.borrow_mut().clear());
        SAVE_TIME.set(shape.save);
        let hits = new_hits(shape.stored);
        let held = Held::new();
        let futures: Vec<_> = shape
            .arrivals
            .iter()
            .enumerate()
            .map(|(id, &at)| {
                let (hits, held) = (&hits, &held);
                let label = char::from(b'A' + (id % 26) as u8);
                Hit {
                    id,
                    inner: Box::pin(
                        async move {
                            if !at.is_zero() {
                                tokio::time::sleep(at).await;
                            }
                            held.wrap(record_hit(hits)).await;
                        }
                        .traced(format!("future {label}")),
                    ),
                }
            })
            .collect();
        // Joined in this one task; a future is polled only when woken, so
        // that its polls are its own.
        use futures::StreamExt;
        let started = std::time::Instant::now();
        futures
            .into_iter()
            .collect::<futures::stream::FuturesUnordered<_>>()
            .collect::<Vec<()>>()
            .await;
        let took = started.elapsed();
        // A save left running by its hit may still finish: give it the time.
        tokio::time::sleep(shape.save + TICK).await;
        let saves = SAVED.with(|s| s.borrow().clone());
        let n = shape.arrivals.len();
        let mut by_hit = vec![0; n];
        let mut counts = vec![0; n];
        for &(count, hit) in &saves {
            if let Some(hit) = hit {
                by_hit[hit] += 1;
            }
            if let Some(k) = count.checked_sub(shape.stored + 1)
                && (k as usize) < n
            {
                counts[k as usize] += 1;
            }
        }
        // A good save: made by its own hit's future, the only save of that
        // hit, of a count that no other save has.
        let good = saves
            .iter()
            .filter(|&&(count, hit)| {
                let own = hit.is_some_and(|h| by_hit[h] == 1);
                let once = count
                    .checked_sub(shape.stored + 1)
                    .is_some_and(|k| (k as usize) < n && counts[k as usize] == 1);
                own && once
            })
            .count();
        Measured {
            saved: by_hit.iter().filter(|&&c| c >= 1).count(),
            wrong: saves.len() - good,
            longest_poll_ratio: held.longest_ratio(shape.save),
            polls_per_hit: held.polls() as f64 / n.max(1) as f64,
            asleep_share: held.asleep().as_secs_f64() / took.as_secs_f64().max(1e-9),
        }
    }

    /// Measures every workload in turn beside a heartbeat, reporting the
    /// hits saved as it goes, and sets the facts.
    pub async fn measure<S, R>(
        facts: &Facts,
        shapes: &[Shape],
        new_hits: fn(u32) -> S,
        record_hit: R,
    ) -> Vec<Measured>
    where
        R: AsyncFn(&S),
    {
        let total: usize = shapes.iter().map(|s| s.arrivals.len()).sum();
        facts.set("hits_saved", 0);
        let heartbeat = Heartbeat::spawn(TICK);
        let mut all: Vec<Measured> = Vec::new();
        for shape in shapes {
            all.push(measure_shape(shape, new_hits, &record_hit).await);
            let saved: usize = all.iter().map(|m| m.saved).sum();
            facts.set("hits_saved", saved as f64 / total as f64);
        }
        facts.set(
            "wrong_saves",
            all.iter().map(|m| m.wrong).sum::<usize>() as f64,
        );
        facts.set("heartbeat_lateness", heartbeat.worst_lateness_ratio());
        facts.set(
            "longest_poll_ratio",
            all.iter().map(|m| m.longest_poll_ratio).fold(0.0, f64::max),
        );
        facts.set(
            "polls_per_hit",
            all.iter().map(|m| m.polls_per_hit).fold(0.0, f64::max),
        );
        facts.set(
            "asleep_share",
            all.iter().map(|m| m.asleep_share).fold(0.0, f64::max),
        );
        all
    }

    pub fn run<S, R>(facts: &Facts, new_hits: fn(u32) -> S, record_hit: R)
    where
        R: AsyncFn(&S),
    {
        let shapes = shapes(&mut Rng::for_scenario("mutex"));
        println!("Futures joined in one task on a one-thread runtime each count a hit with");
        println!(
            "{} and save the count (an .await), beside a heartbeat, under two workloads:",
            facts.the("record_hit")
        );
        say_seed();
        for shape in &shapes {
            println!("  {}, the counter starting at {}", shape.name, shape.stored);
        }
        println!("(If they deadlock, the watchdog stops the program after 2 s.)");
        runtime().block_on(measure(facts, &shapes, new_hits, record_hit));
        println!(
            "All done: {:.0}% of the hits saved by their own future, {} wrong saves; the heartbeat was up to {:.1} ticks late;",
            facts.get("hits_saved").unwrap_or(0.0) * 100.0,
            facts.get("wrong_saves").unwrap_or(0.0),
            facts.get("heartbeat_lateness").unwrap_or(0.0)
        );
        println!(
            "each hit was polled {:.1} times on average.",
            facts.get("polls_per_hit").unwrap_or(0.0)
        );
        println!(
            "(In the timeline below, \"future A\" stands for the first hit of both workloads: its polls add up both, and the wait before a later hit comes.)"
        );
    }

    pub fn piece<'a, S: 'a, R>(
        name: &'static str,
        new_hits: fn(u32) -> S,
        record_hit: R,
    ) -> Piece<'a>
    where
        R: AsyncFn(&S) + 'a,
    {
        Piece::new(name, move |facts| run(facts, new_hits, record_hit))
    }

    /// The exercise binary's `main`: judges the learner's `record_hit`.
    pub fn exercise<S, R>(new_hits: fn(u32) -> S, record_hit: R) -> ExitCode
    where
        R: AsyncFn(&S),
    {
        shared::lesson::main(
            LESSON,
            Variant::Exercise("mutex"),
            vec![SPEC.with(vec![piece("", new_hits, record_hit)])],
        )
    }
}
