//! # Lesson 03: wakers
//!
//! Returning `Poll::Pending` is a promise: "someone will wake me when it is
//! worth polling again". An executor does not poll a pending task on its
//! own; it waits for the task's `Waker` to be called. This crate writes three
//! delay futures by hand, one per way of keeping (or breaking) that promise,
//! and a small executor that runs tasks only when their wakers ask.
//!
//! # `wake` and `wake_by_ref`
//!
//! [`Waker::wake`] takes the waker by value and uses it up;
//! [`Waker::wake_by_ref`] borrows it, so it can be woken again later. A
//! future that only has `cx.waker()` (a reference) calls `wake_by_ref`;
//! code that owns a waker it no longer needs, like [`Trigger::fire`], calls
//! `wake`. After `wake`, the waker is gone:
//!
//! ```compile_fail,E0382
#![doc = include_str!("snippets/wake_consumes.rs")]
//! ```
//!
//! # Why an `async fn`'s future is not `Unpin`
//!
//! A future the compiler writes may hold a reference into itself: a local
//! borrowed across an `.await` is kept in the future beside the reference
//! to it. Moved to another address after its first poll, such a future
//! would keep pointing at the old one. So the compiler makes these futures
//! `!Unpin` (all of them: it does not check whether they really borrow),
//! and they may be polled only through a `Pin`, a promise that they will
//! not move again. Code that wants to move a future between polls asks for
//! `Unpin`, and the compiler refuses an `async fn`'s future:
//!
//! ```compile_fail,E0277
#![doc = include_str!("snippets/async_fn_not_unpin.rs")]
//! ```
//!
//! `Box::pin` makes it acceptable: moving the box does not move the future
//! inside it (`tests/concepts.rs` checks both).
//!
//! A wrapper made with `pin_project!`, like [`CountPolls`], is `Unpin` only
//! when the future it wraps is:
//!
//! ```compile_fail,E0277
#![doc = include_str!("snippets/count_polls_not_unpin.rs")]
//! ```

use shared::TraceExt;
use shared::lesson::{Facts, Piece, Spec, Variant, fact};
use shared::record::held::Held;
use shared::record::threads::name_threads;
use shared::view::number::format_value;
use shared::work::shape::{Rng, seed};
use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;
use tokio::time::Instant;

/// This lesson's id, `lesson-03`: its package name.
pub const LESSON: &str = env!("CARGO_PKG_NAME");

// ANCHOR: forgetful
/// BROKEN: says "not yet" and arranges nothing. Nobody will ever call the
/// waker, so no executor will ever poll this future again.
pub struct ForgetfulDelay {
    deadline: Instant,
}

impl ForgetfulDelay {
    pub fn new(duration: Duration) -> Self {
        ForgetfulDelay {
            deadline: Instant::now() + duration,
        }
    }
}

impl Future for ForgetfulDelay {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            Poll::Ready(())
        } else {
            Poll::Pending // BROKEN: a promise nobody will keep
        }
    }
}
// ANCHOR_END: forgetful

// ANCHOR: spin
/// NOT A FIX: wakes itself on every poll, so the executor polls it again at
/// once, over and over, until the deadline. It finishes, but it keeps a
/// core busy doing nothing.
pub struct SpinDelay {
    deadline: Instant,
}

impl SpinDelay {
    pub fn new(duration: Duration) -> Self {
        SpinDelay {
            deadline: Instant::now() + duration,
        }
    }
}

impl Future for SpinDelay {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            Poll::Ready(())
        } else {
            cx.waker().wake_by_ref(); // SPIN: "poll me again right now"
            Poll::Pending
        }
    }
}
// ANCHOR_END: spin

// ANCHOR: timer_delay
/// What the future and its timer thread share.
#[derive(Default)]
struct Shared {
    fired: bool,
    waker: Option<Waker>,
}

/// FIXED: on its first poll it starts a timer thread. Every poll leaves the
/// current waker where the thread can find it; when the time is up, the
/// thread sets `fired` and wakes that waker, once.
pub struct TimerDelay {
    duration: Duration,
    shared: Arc<Mutex<Shared>>,
    started: bool,
}

impl TimerDelay {
    pub fn new(duration: Duration) -> Self {
        TimerDelay {
            duration,
            shared: Arc::default(),
            started: false,
        }
    }
}

impl Future for TimerDelay {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut shared = self.shared.lock().unwrap();
        if shared.fired {
            return Poll::Ready(());
        }
        // FIXED: keep the *latest* waker. Between polls this future may have
        // been handed to another task, or be polled by a combinator that
        // gives each of its futures a waker of its own (`FuturesUnordered`
        // does); an old waker would wake the wrong task, or one that is gone.
        // `will_wake` is a cheap check that spares the clone when the waker
        // is the same.
        match &shared.waker {
            Some(old) if old.will_wake(cx.waker()) => {}
            _ => shared.waker = Some(cx.waker().clone()),
        }
        drop(shared);
        if !self.started {
            self.started = true;
            let trigger = self.trigger();
            let duration = self.duration;
            std::thread::spawn(move || {
                std::thread::sleep(duration);
                trigger.fire();
            });
        }
        Poll::Pending
    }
}
// ANCHOR_END: timer_delay

// ANCHOR: trigger
/// The timer's side of a [`TimerDelay`]: what the timer thread holds.
pub struct Trigger(Arc<Mutex<Shared>>);

impl Trigger {
    /// Marks the delay as done and wakes whoever polled it last.
    pub fn fire(&self) {
        let waker = {
            let mut shared = self.0.lock().unwrap();
            shared.fired = true;
            shared.waker.take()
        };
        // Wake outside the lock: the woken task may poll (and lock) at once.
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}
// ANCHOR_END: trigger

impl TimerDelay {
    /// A handle that fires this delay. The timer thread uses one; tests use
    /// one to fire it exactly when they want.
    pub fn trigger(&self) -> Trigger {
        Trigger(self.shared.clone())
    }
}

// ANCHOR: fixed_queue
/// The deadlines still to come, each with the [`Trigger`] of its delay, and
/// the bell that tells the timer thread the list has changed.
type Timers = (Mutex<Vec<(std::time::Instant, Trigger)>>, Condvar);

/// The one timer thread's list, made (and the thread started) the first
/// time any delay needs it.
fn timers() -> &'static Timers {
    static TIMERS: OnceLock<Timers> = OnceLock::new();
    TIMERS.get_or_init(|| {
        std::thread::spawn(run_timers);
        (Mutex::new(Vec::new()), Condvar::new())
    })
}

/// The timer thread: fires every deadline that has passed, then sleeps
/// until the earliest one left, or until a new delay rings the bell (its
/// deadline may be earlier than the one it was sleeping for).
fn run_timers() {
    let (list, bell) = timers();
    let mut list = list.lock().unwrap();
    loop {
        let now = std::time::Instant::now();
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut *list)
            .into_iter()
            .partition(|(at, _)| *at <= now);
        *list = later;
        if !due.is_empty() {
            drop(list); // fire outside the lock: a woken task may poll at once
            for (_, trigger) in due {
                trigger.fire();
            }
            list = timers().0.lock().unwrap();
            continue;
        }
        list = match list.iter().map(|(at, _)| *at).min() {
            None => bell.wait(list).unwrap(),
            Some(next) => bell.wait_timeout(list, next - now).unwrap().0,
        };
    }
}

/// FIXED for a crowd: like [`TimerDelay`], but its first poll hands its
/// deadline and trigger to the one timer thread that serves every delay,
/// instead of starting a thread of its own.
pub struct QueuedDelay {
    deadline: std::time::Instant,
    shared: Arc<Mutex<Shared>>,
    queued: bool,
}

impl QueuedDelay {
    pub fn new(duration: Duration) -> Self {
        QueuedDelay {
            deadline: std::time::Instant::now() + duration,
            shared: Arc::default(),
            queued: false,
        }
    }
}

impl Future for QueuedDelay {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut shared = self.shared.lock().unwrap();
        if shared.fired {
            return Poll::Ready(());
        }
        shared.waker = Some(cx.waker().clone()); // the latest waker, as before
        drop(shared);
        if !self.queued {
            self.queued = true;
            let (list, bell) = timers();
            let trigger = Trigger(self.shared.clone());
            list.lock().unwrap().push((self.deadline, trigger));
            bell.notify_one(); // FIXED: maybe earlier than what the thread waits for
        }
        Poll::Pending
    }
}
// ANCHOR_END: fixed_queue

// `inner` may be an async fn's future, which is not `Unpin`: once polled it
// must not move. So `poll`, given a `Pin<&mut CountPolls>`, may not take a
// plain `&mut` to `inner` (that would let it be moved out), and turning the
// pin on the whole into a `Pin<&mut F>` on one field is an `unsafe` step if
// written by hand. `pin_project!` writes it for us, and makes it sound: a
// `#[pin]` field is only ever reached as a `Pin<&mut _>`, `CountPolls` is
// `Unpin` only when `F` is, and a `Drop` impl that could move `inner` out is
// refused. The crate itself has no unsafe code (`unsafe_code` is denied).
// ANCHOR: count_polls
pin_project_lite::pin_project! {
    /// Counts the polls of the future inside and reports each new count to
    /// `report`, so the count is known even if the program never finishes.
    pub struct CountPolls<F, R> {
        #[pin]
        inner: F,
        polls: u32,
        report: R,
    }
}

impl<F, R: FnMut(u32)> CountPolls<F, R> {
    pub fn new(inner: F, report: R) -> Self {
        CountPolls {
            inner,
            polls: 0,
            report,
        }
    }
}

impl<F: Future, R: FnMut(u32)> Future for CountPolls<F, R> {
    type Output = (F::Output, u32);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // The projection: `inner` as `Pin<&mut F>`, which is what polling
        // it takes, and `polls` and `report` as plain `&mut`, free to change.
        let this = self.project();
        *this.polls += 1;
        (this.report)(*this.polls);
        match this.inner.poll(cx) {
            Poll::Ready(v) => Poll::Ready((v, *this.polls)),
            Poll::Pending => Poll::Pending,
        }
    }
}
// ANCHOR_END: count_polls

/// The broken delays, under the names every lesson uses.
pub mod broken {
    pub use super::{ForgetfulDelay, SpinDelay};
}

/// The fixed delays, under the name every lesson uses.
pub mod fixed {
    pub use super::{QueuedDelay, TimerDelay, Trigger};
}

// ANCHOR: executor
type Job = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A task: a future, plus the way back onto the run queue.
struct Task {
    id: usize,
    future: Mutex<Option<Job>>,
    run_queue: Sender<Arc<Task>>,
}

/// A hand-built waker: waking a task means putting it back on the queue.
impl Wake for Task {
    fn wake(self: Arc<Self>) {
        let queue = self.run_queue.clone();
        // If the executor is gone there is nobody left to run it: fine.
        let _ = queue.send(self);
    }
}

/// A small executor. It polls a task when the task is first spawned and
/// after that *only* when the task's waker sends it back on the run queue.
/// Between wake-ups it sleeps in `recv`.
pub struct MiniExecutor {
    run_queue: Sender<Arc<Task>>,
    woken: Receiver<Arc<Task>>,
    /// Polls made of each task, by its number.
    polls: Vec<u32>,
}

impl Default for MiniExecutor {
    fn default() -> Self {
        let (run_queue, woken) = channel();
        MiniExecutor {
            run_queue,
            woken,
            polls: Vec::new(),
        }
    }
}

impl MiniExecutor {
    pub fn spawn(&mut self, future: impl Future<Output = ()> + Send + 'static) {
        let id = self.polls.len();
        self.polls.push(0);
        let task = Arc::new(Task {
            id,
            future: Mutex::new(Some(Box::pin(future))),
            run_queue: self.run_queue.clone(),
        });
        self.run_queue.send(task).unwrap();
    }

    /// Runs until every task is done; returns each task's poll count, in
    /// spawn order.
    pub fn run(mut self) -> Vec<u32> {
        let mut unfinished = self.polls.len();
        while unfinished > 0 {
            // Sleeps until some waker puts a task on the queue.
            let task = self.woken.recv().unwrap();
            let mut slot = task.future.lock().unwrap();
            let Some(future) = slot.as_mut() else {
                continue; // a late wake-up for a finished task
            };
            let waker = Waker::from(task.clone());
            let mut cx = Context::from_waker(&waker);
            self.polls[task.id] += 1;
            if future.as_mut().poll(&mut cx).is_ready() {
                *slot = None;
                unfinished -= 1;
            }
        }
        self.polls
    }
}
// ANCHOR_END: executor

/// A runtime with no timer and no I/O driver: our futures bring their own
/// wake-ups (or, when broken, none).
pub fn current_thread_runtime() -> tokio::runtime::Runtime {
    let mut builder = tokio::runtime::Builder::new_current_thread();
    name_threads(&mut builder, "", 0)
        .build()
        .expect("a current-thread runtime always builds")
}

/// How busy the process was while running `f` (the kit's
/// [`shared::work::cpu::BusyWatch`]): the time its threads ran or waited
/// for a core, over the wall-clock time it took (about 1 when a thread
/// never rested, near 0 when they all slept), the times they were put on a
/// core, and the most threads it had. A loop that yields its core on every
/// round is always ready to run, so it counts as busy even beside other
/// busy programs, where it gets little CPU time; a loop that naps for
/// microseconds is seldom busy, but wakes all the time.
pub fn watch_busy<R>(f: impl FnOnce() -> R) -> (R, shared::work::cpu::Busy) {
    let watch = shared::work::cpu::BusyWatch::start();
    let out = f();
    (out, watch.finish())
}

/// What the harness keeps about one delay, from outside it: its length,
/// when it was made, when it finished, and how it spent its polls (and
/// its making): the longest, and the most time asleep or computing in one
/// (a delay that sleeps inside `poll` holds its thread there).
#[derive(Debug)]
pub struct DelayRecord {
    pub length: Duration,
    made: std::time::Instant,
    finished: Mutex<Option<std::time::Instant>>,
    held: Held,
}

impl DelayRecord {
    /// How long it took from being made to finishing, if it finished.
    pub fn took(&self) -> Option<Duration> {
        self.finished
            .lock()
            .unwrap()
            .map(|end| end.duration_since(self.made))
    }

    /// Finished before its time was up: no wait at all is not a delay.
    pub fn early(&self) -> bool {
        self.took().is_some_and(|t| t < self.length)
    }

    /// The longest single poll, over the delay's length.
    pub fn held_ratio(&self) -> f64 {
        self.held.longest_ratio(self.length)
    }

    /// The longest the thread slept inside one poll, over the delay's
    /// length (Linux; 0 elsewhere).
    pub fn asleep_ratio(&self) -> f64 {
        self.held.longest_asleep_ratio(self.length)
    }

    /// The most CPU time one poll used, over the delay's length.
    pub fn cpu_ratio(&self) -> f64 {
        self.held.longest_cpu_ratio(self.length)
    }
}

pin_project_lite::pin_project! {
    /// A delay under watch: notes the moment it is ready.
    pub struct Watched<F> {
        #[pin]
        inner: F,
        record: Arc<DelayRecord>,
    }
}

impl<F: Future> Future for Watched<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let out = this.inner.poll(cx);
        if out.is_ready() {
            this.record
                .finished
                .lock()
                .unwrap()
                .get_or_insert_with(std::time::Instant::now);
        }
        out
    }
}

/// A delay of `length` made by `make`, with its polls counted (each new
/// count handed to `report`) and timed, and its end noted. Making it is
/// timed like a poll: a future is made on the thread that polls it. The
/// record is the harness's: the delay itself never sees it.
pub fn watch<D, R>(
    make: fn(Duration) -> D,
    length: Duration,
    report: R,
) -> (
    Arc<DelayRecord>,
    Watched<CountPolls<shared::record::held::HeldFuture<D>, R>>,
)
where
    D: Future<Output = ()>,
    R: FnMut(u32),
{
    let record = Arc::new(DelayRecord {
        length,
        made: std::time::Instant::now(),
        finished: Mutex::new(None),
        held: Held::new(),
    });
    let made = record.held.time(|| make(length));
    // Only the delay's own polls are timed: counting them, and reporting
    // the count, is the harness's work, done outside.
    let delay = CountPolls::new(record.held.wrap(made), report);
    let watched = Watched {
        inner: delay,
        record: record.clone(),
    };
    (record, watched)
}

/// Facts every harness of this lesson sets from its records, once every
/// delay has finished: early ones (exact), and the worst wait and hold.
fn judge_records(facts: &Facts, records: &[Arc<DelayRecord>], wait_ratio: bool) {
    facts.set(
        "early_delays",
        records.iter().filter(|r| r.early()).count() as u32,
    );
    if wait_ratio {
        facts.set(
            "wait_ratio",
            records
                .iter()
                .filter_map(|r| r.took().map(|t| t.as_secs_f64() / r.length.as_secs_f64()))
                .fold(0.0, f64::max),
        );
    }
    facts.set(
        "held_ratio",
        records.iter().map(|r| r.held_ratio()).fold(0.0, f64::max),
    );
    facts.set(
        "poll_asleep_ratio",
        records.iter().map(|r| r.asleep_ratio()).fold(0.0, f64::max),
    );
    facts.set(
        "poll_cpu_ratio",
        records.iter().map(|r| r.cpu_ratio()).fold(0.0, f64::max),
    );
}

/// The facts every scenario of this lesson measures about a delay's hold
/// on its thread.
const HOLD_FACTS: [shared::lesson::FactSpec; 3] = [
    fact(
        "held_ratio",
        "the longest a delay held its thread in one poll, over the delay's length",
    )
    .timing(),
    fact(
        "poll_asleep_ratio",
        "the longest a delay's thread slept inside one of its polls (or its making), over the delay's length",
    )
    .timing(),
    fact(
        "poll_cpu_ratio",
        "the most CPU time a delay used in one poll (or its making), over the delay's length",
    )
    .timing(),
];

/// Keeps the most polls any one delay has taken, and reports it at once.
fn most_polls(facts: &Facts) -> impl Fn(u32) + Clone + Send + Sync + 'static {
    let most = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let facts = facts.clone();
    move |polls| {
        let m = most
            .fetch_max(polls, std::sync::atomic::Ordering::SeqCst)
            .max(polls);
        facts.set("most_polls", m);
    }
}

/// A length in `lo..=hi` ms.
fn ms(rng: &mut Rng, lo: u64, hi: u64) -> Duration {
    Duration::from_millis(rng.between(lo, hi))
}

/// The `delay` scenario: delay futures are run by our executor, by tokio,
/// and one is moved from one task to another half way through.
pub mod delay {
    use super::*;

    pub static SPEC: Spec = Spec {
        name: "delay",
        facts: &[
            fact("most_polls", "the most polls any one delay took").live(),
            fact(
                "delays_unfinished",
                "delays not finished (yet), of those the run makes",
            )
            .live(),
            fact(
                "early_delays",
                "delays that were ready before their time was up",
            ),
            fact("wait_ratio", "the longest a delay took, over its length").timing(),
            HOLD_FACTS[0],
            HOLD_FACTS[1],
            HOLD_FACTS[2],
        ],
    };

    /// The delays of one run, picked when it starts: 2 to 4 on our
    /// executor and 2 to 4 on tokio, each set with one short (40 to 60 ms)
    /// and one long (140 to 180 ms), and one of 60 to 140 ms that moves.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Plan {
        pub ours: Vec<Duration>,
        pub tokio: Vec<Duration>,
        pub moved: Duration,
    }

    impl Plan {
        pub fn new(rng: &mut Rng) -> Plan {
            let set = |rng: &mut Rng| {
                let mut lengths = vec![ms(rng, 40, 60), ms(rng, 140, 180)];
                for _ in 0..rng.between(0, 2) {
                    lengths.push(ms(rng, 40, 180));
                }
                rng.shuffle(&mut lengths);
                lengths
            };
            let ours = set(rng);
            let tokio = set(rng);
            Plan {
                ours,
                tokio,
                moved: ms(rng, 60, 140),
            }
        }

        pub fn count(&self) -> usize {
            self.ours.len() + self.tokio.len() + 1
        }
    }

    fn list(lengths: &[Duration]) -> String {
        lengths
            .iter()
            .map(|d| d.as_millis().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Runs the plan's delays, made by `make`, three ways; a delay that
    /// arranges no wake-up (or wakes a stale waker) never finishes, so
    /// this never returns. Facts are reported as they are measured.
    pub fn measure<D>(facts: &Facts, plan: &Plan, make: fn(Duration) -> D)
    where
        D: Future<Output = ()> + Send + 'static,
    {
        let report = most_polls(facts);
        let mut records = Vec::new();
        let mut unfinished = plan.count() as u32;
        facts.set("delays_unfinished", unfinished);

        shared::mark("our executor runs its delays");
        let mut executor = MiniExecutor::default();
        for &length in &plan.ours {
            let (record, delay) = watch(make, length, report.clone());
            records.push(record);
            executor.spawn(
                async move {
                    delay.await;
                }
                .traced(format!("delay {} ms", length.as_millis())),
            );
        }
        unfinished -= executor.run().len() as u32;
        facts.set("delays_unfinished", unfinished);

        shared::mark("tokio runs its delays, a task each");
        let runtime = current_thread_runtime();
        runtime.block_on(async {
            let tasks: Vec<_> = plan
                .tokio
                .iter()
                .map(|&length| {
                    let (record, delay) = watch(make, length, report.clone());
                    records.push(record);
                    tokio::spawn(delay.traced(format!("tokio: delay {} ms", length.as_millis())))
                })
                .collect();
            for task in tasks {
                task.await.expect("a delay does not panic");
                unfinished -= 1;
                facts.set("delays_unfinished", unfinished);
            }
        });

        shared::mark("one delay moves to another task after its first poll");
        let (record, delay) = watch(make, plan.moved, report);
        records.push(record);
        runtime.block_on(moved(delay));
        facts.set("delays_unfinished", unfinished - 1);
        judge_records(facts, &records, true);
    }

    // ANCHOR: moved
    /// Polls a delay once in task A, then hands it to task B, which awaits
    /// the rest. The delay must wake B, the waker of its latest poll: A is
    /// gone by then.
    async fn moved<D>(delay: D)
    where
        D: Future + Send + 'static,
        D::Output: Send,
    {
        let mut delay = Box::pin(delay);
        #[expect(
            clippy::async_yields_async,
            reason = "task A hands the half-polled delay back, for task B to finish"
        )]
        let task_a = async move {
            std::future::poll_fn(|cx| {
                let _ = delay.as_mut().poll(cx);
                Poll::Ready(())
            })
            .await;
            delay
        };
        let delay = tokio::spawn(task_a.traced("task A: first poll"))
            .await
            .expect("task A does not panic");
        tokio::spawn(delay.traced("task B: the rest"))
            .await
            .expect("task B does not panic");
    }
    // ANCHOR_END: moved

    /// [`measure`] with narration, on the delays of this run's seed.
    pub fn run<D>(facts: &Facts, make: fn(Duration) -> D)
    where
        D: Future<Output = ()> + Send + 'static,
    {
        let plan = Plan::new(&mut Rng::for_scenario(SPEC.name));
        println!(
            "{} delays run on our own executor ({} ms),",
            facts.The("hand-written"),
            list(&plan.ours),
        );
        println!(
            "then on tokio ({} ms), then one of {} ms is moved to another task after",
            list(&plan.tokio),
            plan.moved.as_millis()
        );
        println!(
            "its first poll. The lengths are picked at run time (seed {}; LESSON_SEED={}",
            seed(),
            seed()
        );
        println!("replays them).");
        println!("(If a delay is never woken, the watchdog stops the program after 2 s.)");
        measure(facts, &plan, make);
        println!(
            "All {} delays finished; none took more than {} polls, {} finished before its time,",
            plan.count(),
            facts.get("most_polls").unwrap_or(0.0),
            facts.get("early_delays").unwrap_or(0.0),
        );
        println!(
            "and the longest single poll held the thread for {} of its delay.",
            format_value(facts.get("held_ratio").unwrap_or(0.0))
        );
    }

    pub fn piece<D>(name: &'static str, make: fn(Duration) -> D) -> Piece<'static>
    where
        D: Future<Output = ()> + Send + 'static,
    {
        Piece::new(name, move |facts| run(facts, make))
    }
}

/// The `spin` scenario: delays on tokio, and how busy they keep a core, in two
/// shapes: one delay alone, then three at once, each in a task of its own.
pub mod spin {
    use super::*;

    pub static SPEC: Spec = Spec {
        name: "spin",
        facts: &[
            fact("polls", "the most polls any one delay took").live(),
            fact(
                "busy_ratio",
                "the time the process's threads ran or waited for a core, over the time it took (1 is a thread that never rests)",
            )
            .timing(),
            fact(
                "early_delays",
                "delays that were ready before their time was up",
            ),
            HOLD_FACTS[0],
            HOLD_FACTS[1],
            HOLD_FACTS[2],
        ],
    };

    /// The delays of each shape, picked when the run starts: one of 150 to
    /// 250 ms alone, then three of 80 to 200 ms at once.
    pub fn shapes(rng: &mut Rng) -> Vec<Vec<Duration>> {
        vec![
            vec![ms(rng, 150, 250)],
            (0..3).map(|_| ms(rng, 80, 200)).collect(),
        ]
    }

    /// Runs each shape's delays on tokio, a task each, and measures their
    /// polls, their CPU time, and their records.
    pub fn measure<D>(facts: &Facts, shapes: &[Vec<Duration>], make: fn(Duration) -> D)
    where
        D: Future<Output = ()> + Send + 'static,
    {
        let runtime = current_thread_runtime();
        let most = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let report = {
            let (facts, most) = (facts.clone(), most.clone());
            move |n: u32| {
                let m = most
                    .fetch_max(n, std::sync::atomic::Ordering::SeqCst)
                    .max(n);
                // Every thousandth poll is enough to show a spin's count.
                if m == n && (n <= 10 || n % 1000 == 0) {
                    facts.set("polls", n);
                }
            }
        };
        let mut records = Vec::new();
        let ((), busy) = watch_busy(|| {
            for (i, lengths) in shapes.iter().enumerate() {
                shared::mark(&format!("shape {}: {} at once", i + 1, lengths.len()));
                runtime.block_on(async {
                    let tasks: Vec<_> = lengths
                        .iter()
                        .map(|&length| {
                            let (record, delay) = watch(make, length, report.clone());
                            records.push(record);
                            tokio::spawn(delay.traced(format!("delay {} ms", length.as_millis())))
                        })
                        .collect();
                    for task in tasks {
                        task.await.expect("a delay does not panic");
                    }
                });
            }
        });
        facts.set("polls", most.load(std::sync::atomic::Ordering::SeqCst));
        facts.set("busy_ratio", busy.ratio);
        judge_records(facts, &records, false);
    }

    pub fn run<D>(facts: &Facts, make: fn(Duration) -> D)
    where
        D: Future<Output = ()> + Send + 'static,
    {
        let shapes = shapes(&mut Rng::for_scenario(SPEC.name));
        let ms = |d: &Duration| d.as_millis().to_string();
        println!(
            "tokio runs {} of {} ms alone, then three at once ({} ms),",
            facts.the("delay"),
            ms(&shapes[0][0]),
            shapes[1].iter().map(ms).collect::<Vec<_>>().join(", ")
        );
        println!(
            "a task each, and we count their polls and how busy they kept the process (seed {};",
            seed()
        );
        println!("LESSON_SEED={} replays it).", seed());
        measure(facts, &shapes, make);
        println!(
            "They finished after at most {} polls each; the process was busy {:.0}% of the time.",
            facts.get("polls").unwrap_or(0.0),
            facts.get("busy_ratio").unwrap_or(0.0) * 100.0
        );
    }

    pub fn piece<D>(name: &'static str, make: fn(Duration) -> D) -> Piece<'static>
    where
        D: Future<Output = ()> + Send + 'static,
    {
        Piece::new(name, move |facts| run(facts, make))
    }
}

/// The `crowd` scenario: dozens of delays pending at once on our executor,
/// then delays made one after another while a long one waits. How many
/// threads wait for them, and does each finish on time?
pub mod crowd {
    use super::*;

    pub static SPEC: Spec = Spec {
        name: "crowd",
        facts: &[
            fact("most_polls", "the most polls any one delay took").live(),
            fact(
                "delays_unfinished",
                "delays not finished (yet), of those the run makes",
            )
            .live(),
            fact(
                "early_delays",
                "delays that were ready before their time was up",
            ),
            fact("wait_ratio", "the longest a delay took, over its length").timing(),
            fact(
                "threads_per_delay",
                "the most threads the process had beyond those it had before, over the delays pending at once",
            ),
            fact(
                "busy_ratio",
                "the time the process's threads ran or waited for a core, over the time it took (1 is a thread that never rests)",
            )
            .timing(),
            fact(
                "wakeups_per_delay",
                "the times the process's threads were put on a core (woken, or given it back), over the delays",
            ),
            HOLD_FACTS[0],
            HOLD_FACTS[1],
            HOLD_FACTS[2],
        ],
    };

    /// The delays of one run, picked when it starts. First a crowd: 20 to
    /// 32 delays at once, the longest (150 to 200 ms) made first, the
    /// others 60 to 150 ms. Then one long delay (240 to 300 ms), and beside
    /// it a chain of 3 to 5 short ones (40 to 60 ms), each made when the
    /// one before it is done: the second is made while only the long one
    /// waits, with a deadline long before the long one's.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Plan {
        pub at_once: Vec<Duration>,
        pub long: Duration,
        pub chain: Vec<Duration>,
    }

    impl Plan {
        pub fn new(rng: &mut Rng) -> Plan {
            let n = rng.between(20, 32);
            let mut rest: Vec<Duration> = (1..n).map(|_| ms(rng, 60, 150)).collect();
            rng.shuffle(&mut rest);
            let mut at_once = vec![ms(rng, 150, 200)];
            at_once.extend(rest);
            let long = ms(rng, 240, 300);
            let chain = (0..rng.between(3, 5)).map(|_| ms(rng, 40, 60)).collect();
            Plan {
                at_once,
                long,
                chain,
            }
        }

        pub fn count(&self) -> usize {
            self.at_once.len() + 1 + self.chain.len()
        }
    }

    /// Runs the plan's delays, made by `make`, on our executor: the crowd,
    /// then the long delay and the chain. A delay that is never woken
    /// leaves this waiting for ever.
    pub fn measure<D>(facts: &Facts, plan: &Plan, make: fn(Duration) -> D)
    where
        D: Future<Output = ()> + Send + 'static,
    {
        let report = most_polls(facts);
        let records: Arc<Mutex<Vec<Arc<DelayRecord>>>> = Arc::default();
        let mut unfinished = plan.count() as u32;
        facts.set("delays_unfinished", unfinished);
        let ((), busy) = watch_busy(|| {
            shared::mark(&format!("{} delays at once", plan.at_once.len()));
            let mut executor = MiniExecutor::default();
            for &length in &plan.at_once {
                let (record, delay) = watch(make, length, report.clone());
                records.lock().unwrap().push(record);
                executor.spawn(
                    async move {
                        delay.await;
                    }
                    .traced(format!("delay {} ms", length.as_millis())),
                );
            }
            unfinished -= executor.run().len() as u32;
            facts.set("delays_unfinished", unfinished);

            shared::mark("a long delay, and short ones made while it waits");
            let mut executor = MiniExecutor::default();
            let (record, long) = watch(make, plan.long, report.clone());
            records.lock().unwrap().push(record);
            executor.spawn(
                async move {
                    long.await;
                }
                .traced(format!("delay {} ms", plan.long.as_millis())),
            );
            let (chain, report, records) = (plan.chain.clone(), report.clone(), records.clone());
            executor.spawn(
                async move {
                    for length in chain {
                        let (record, delay) = watch(make, length, report.clone());
                        records.lock().unwrap().push(record);
                        delay.await;
                    }
                }
                .traced("a chain of short delays"),
            );
            executor.run();
            facts.set("delays_unfinished", 0);
        });
        let threads = if busy.threads_before > 0 {
            busy.threads_most.saturating_sub(busy.threads_before) as f64 / plan.at_once.len() as f64
        } else {
            println!("(This system has no /proc/self/task: threads and wake-ups are not counted.)");
            0.0
        };
        facts.set("threads_per_delay", threads);
        facts.set("wakeups_per_delay", busy.runs as f64 / plan.count() as f64);
        facts.set("busy_ratio", busy.ratio);
        judge_records(facts, &records.lock().unwrap(), true);
    }

    /// [`measure`] with narration, on the delays of this run's seed.
    pub fn run<D>(facts: &Facts, make: fn(Duration) -> D)
    where
        D: Future<Output = ()> + Send + 'static,
    {
        let plan = Plan::new(&mut Rng::for_scenario(SPEC.name));
        println!(
            "Our executor runs {} of {} at once ({} to {} ms), then one of {} ms",
            plan.at_once.len(),
            facts.the("delays"),
            plan.at_once
                .iter()
                .min()
                .unwrap_or(&Duration::ZERO)
                .as_millis(),
            plan.at_once
                .iter()
                .max()
                .unwrap_or(&Duration::ZERO)
                .as_millis(),
            plan.long.as_millis(),
        );
        println!(
            "beside a chain of {} short ones ({} ms), each made when the one before it is done.",
            plan.chain.len(),
            plan.chain
                .iter()
                .map(|d| d.as_millis().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        println!(
            "The lengths are picked at run time (seed {}; LESSON_SEED={} replays them).",
            seed(),
            seed()
        );
        println!("(If a delay is never woken, the watchdog stops the program after 2 s.)");
        measure(facts, &plan, make);
        let threads = facts.get("threads_per_delay").unwrap_or(0.0);
        println!(
            "All {} delays finished, none later than {}× its length. While {} waited at once,",
            plan.count(),
            format_value(facts.get("wait_ratio").unwrap_or(0.0)),
            plan.at_once.len(),
        );
        println!(
            "the process had up to {} threads more than before.",
            (threads * plan.at_once.len() as f64).round()
        );
    }

    pub fn piece<D>(name: &'static str, make: fn(Duration) -> D) -> Piece<'static>
    where
        D: Future<Output = ()> + Send + 'static,
    {
        Piece::new(name, move |facts| run(facts, make))
    }
}

/// The exercise binary's `main`: judges the learner's delay in all three
/// scenarios.
pub fn exercise<D>(make: fn(Duration) -> D) -> std::process::ExitCode
where
    D: Future<Output = ()> + Send + 'static,
{
    shared::lesson::main(
        LESSON,
        Variant::Exercise("delay"),
        vec![
            delay::SPEC.with(vec![delay::piece("", make)]),
            spin::SPEC.with(vec![spin::piece("", make)]),
            crowd::SPEC.with(vec![crowd::piece("", make)]),
        ],
    )
}
