//! # Lesson 05: select with a pinned sleep
//!
//! `tokio::select!` polls several futures and, as soon as one finishes,
//! drops all the others. A future created inside a `loop { select! { ... } }`
//! is therefore created anew, and dropped, on every turn. For a timer that
//! means "start again". A future that must survive across turns has to live
//! outside the loop, pinned, and be selected by `&mut`.
//!
//! The harnesses judge each piece under two workload shapes picked when the
//! program runs (a steady rate, and bursts with pauses), so that counting
//! items cannot stand in for watching the time.
//!
//! The exercises have scenarios of their own: [`flush`] (a report on a
//! schedule beside a batch flushed a while after its first item) and
//! [`quiet`] (a read that ends when the stream goes quiet, or at a
//! deadline, with progress on a schedule).

use futures::{Stream, StreamExt};
use shared::TraceExt;
use shared::lesson::{Facts, Piece, Spec, Variant, fact};
use shared::record::held::Held;
use shared::record::threads::name_threads;
use shared::work::shape::{Arrivals, Rng, seed};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{Instant, Sleep, sleep, sleep_until};

/// This lesson's id, `lesson-05`: its package name.
pub const LESSON: &str = env!("CARGO_PKG_NAME");

/// The worker should report this often.
pub const REPORT_EVERY: Duration = Duration::from_millis(100);
/// How long the `deadline` scenario may read its stream.
pub const DEADLINE: Duration = Duration::from_secs(1);

/// One work item. Only the harness makes them, and handling one uses it
/// up: the harness counts every item handled.
#[derive(Debug)]
pub struct Item {
    number: u32,
    handled: Arc<AtomicU32>,
}

impl Item {
    /// The item's number, in the order the producer sent it.
    pub fn number(&self) -> u32 {
        self.number
    }
}

/// The worker's inbox. The harness counts every item taken out of it, and
/// notes when each was taken.
pub struct Work {
    items: mpsc::Receiver<Item>,
    taken: Arc<AtomicU32>,
    took: Took,
}

/// Each item taken: its number, and when the worker took it.
pub type Took = Arc<Mutex<Vec<(u32, Instant)>>>;

impl Work {
    /// The next item, or `None` once the producer is done. Like
    /// `mpsc::Receiver::recv`, it is cancel-safe: if it loses a `select!`,
    /// no item is lost.
    pub async fn recv(&mut self) -> Option<Item> {
        let item = self.items.recv().await;
        if let Some(item) = &item {
            self.taken.fetch_add(1, Ordering::SeqCst);
            self.took
                .lock()
                .unwrap()
                .push((item.number, Instant::now()));
        }
        item
    }
}

/// Where the worker reports. The harness notes when each report was made.
pub struct Reports {
    times: Arc<Mutex<Vec<Instant>>>,
    handled: Arc<AtomicU32>,
}

impl Reports {
    /// Makes one report (and marks it on the timeline).
    pub fn report(&mut self) {
        let mut times = self.times.lock().unwrap();
        times.push(Instant::now());
        shared::mark(&format!(
            "report {}: {} items handled",
            times.len(),
            self.handled.load(Ordering::SeqCst)
        ));
    }
}

/// Handles one work item (quickly: the work itself is not the point). The
/// harness counts it.
pub fn handle(item: Item) {
    item.handled.fetch_add(1, Ordering::SeqCst);
    std::hint::black_box(item.number);
}

/// Sends one item at each of `arrivals`' moments after `start`, then hangs
/// up. Items due at the same moment (a burst) are sent back to back.
pub async fn producer(
    tx: mpsc::Sender<Item>,
    arrivals: Arrivals,
    start: Instant,
    handled: Arc<AtomicU32>,
) {
    for (number, at) in (0..).zip(arrivals.at) {
        sleep_until(start + at).await;
        let item = Item {
            number,
            handled: handled.clone(),
        };
        if tx.send(item).await.is_err() {
            return;
        }
    }
}

pub mod broken {
    use super::*;

    // ANCHOR: broken_worker
    /// Handles work items until there are no more, and should report every
    /// 100 ms meanwhile.
    pub async fn worker(mut work: Work, mut reports: Reports) {
        loop {
            tokio::select! {
                item = work.recv() => match item {
                    Some(item) => handle(item),
                    None => return,
                },
                // BROKEN: a brand-new 100 ms sleep on every turn of the loop.
                // Work arrives every 10 ms, so it never gets to finish.
                () = sleep(REPORT_EVERY) => reports.report(),
            }
        }
    }
    // ANCHOR_END: broken_worker

    // ANCHOR: broken_deadline
    /// Reads numbers for at most `DEADLINE`... or so it seems.
    pub async fn read_until_deadline(numbers: impl Stream<Item = u32>) -> u32 {
        let mut numbers = pin!(numbers);
        let mut read = 0;
        loop {
            tokio::select! {
                Some(_) = numbers.next() => read += 1,
                () = sleep(DEADLINE) => return read, // BROKEN: restarts on every number
            }
        }
    }
    // ANCHOR_END: broken_deadline

    // ANCHOR: broken_quiet
    /// Reads until the stream has been quiet for `QUIET`, reporting
    /// progress meanwhile... or so it seems.
    pub async fn read_until_quiet(mut numbers: Numbers, mut progress: Progress) -> u32 {
        let start = Instant::now();
        let mut every = tokio::time::interval_at(start + PROGRESS_EVERY, PROGRESS_EVERY);
        let mut read = 0;
        loop {
            tokio::select! {
                Some(_) = numbers.next() => read += 1,
                _ = every.tick() => progress.report(),
                // BROKEN: made anew on every turn, a progress report's too;
                // and no deadline at all.
                () = sleep(QUIET) => return read,
            }
        }
    }
    // ANCHOR_END: broken_quiet

    // ANCHOR: broken_flush
    /// Puts the items in a batch, to be flushed `FLUSH_AFTER` after the
    /// first item in it came, and reports every `REPORT_EVERY`... or so
    /// it seems.
    pub async fn worker_with_batches(mut work: Work, mut reports: Reports, mut batch: Batch) {
        loop {
            tokio::select! {
                item = work.recv() => match item {
                    Some(item) => batch.push(item),
                    None => {
                        if !batch.is_empty() {
                            batch.flush();
                        }
                        return;
                    }
                },
                // BROKEN: both timers made anew on every turn.
                () = sleep(REPORT_EVERY) => reports.report(),
                () = sleep(FLUSH_AFTER) => batch.flush(),
            }
        }
    }
    // ANCHOR_END: broken_flush
}

pub mod fixed {
    use super::*;

    // ANCHOR: fixed_worker
    /// The same worker with one timer that lives across the loop.
    pub async fn worker(mut work: Work, mut reports: Reports) {
        // FIXED: created once, outside the loop, and pinned where it is.
        let report_timer = sleep(REPORT_EVERY);
        tokio::pin!(report_timer);
        loop {
            tokio::select! {
                item = work.recv() => match item {
                    Some(item) => handle(item),
                    None => return,
                },
                // FIXED: `&mut` polls the one timer without consuming it...
                () = &mut report_timer => {
                    reports.report();
                    // ...and after it fires, we set it for the next report.
                    report_timer.as_mut().reset(Instant::now() + REPORT_EVERY);
                }
            }
        }
    }
    // ANCHOR_END: fixed_worker

    // ANCHOR: fixed_interval
    /// The library's answer: an `Interval` keeps its own schedule, and its
    /// `tick()` is safe to drop unfinished in a `select!`.
    pub async fn worker_with_interval(mut work: Work, mut reports: Reports) {
        // The first tick one period from now (`interval` would tick at once).
        let mut every = tokio::time::interval_at(Instant::now() + REPORT_EVERY, REPORT_EVERY);
        loop {
            tokio::select! {
                item = work.recv() => match item {
                    Some(item) => handle(item),
                    None => return,
                },
                _ = every.tick() => reports.report(),
            }
        }
    }
    // ANCHOR_END: fixed_interval

    // ANCHOR: fixed_deadline
    /// Reads numbers for at most `DEADLINE`: one deadline, pinned outside
    /// the loop.
    pub async fn read_until_deadline(numbers: impl Stream<Item = u32>) -> u32 {
        let mut numbers = pin!(numbers);
        let deadline = sleep(DEADLINE); // FIXED: one deadline for the whole read
        tokio::pin!(deadline);
        let mut read = 0;
        loop {
            tokio::select! {
                Some(_) = numbers.next() => read += 1,
                () = &mut deadline => return read,
            }
        }
    }
    // ANCHOR_END: fixed_deadline

    // ANCHOR: fixed_quiet
    /// Reads until the stream has been quiet for `QUIET`, for at most
    /// `DEADLINE`, reporting progress meanwhile: three timers that live
    /// across the loop's turns, and only a number restarts the quiet one.
    pub async fn read_until_quiet(mut numbers: Numbers, mut progress: Progress) -> u32 {
        let start = Instant::now();
        let mut every = tokio::time::interval_at(start + PROGRESS_EVERY, PROGRESS_EVERY);
        let deadline = sleep_until(start + DEADLINE); // FIXED: one for the whole read
        let quiet = sleep_until(start + QUIET);
        tokio::pin!(deadline, quiet);
        let mut read = 0;
        loop {
            tokio::select! {
                Some(_) = numbers.next() => {
                    read += 1;
                    // FIXED: a number, and only a number, restarts it.
                    quiet.as_mut().reset(Instant::now() + QUIET);
                }
                _ = every.tick() => progress.report(),
                () = &mut quiet => return read,
                () = &mut deadline => return read,
            }
        }
    }
    // ANCHOR_END: fixed_quiet

    // ANCHOR: fixed_flush
    /// Reports on an interval, and flushes each batch `FLUSH_AFTER` after
    /// its first item came: the flush timer is started by a batch's first
    /// item, and off while the batch is empty.
    pub async fn worker_with_batches(mut work: Work, mut reports: Reports, mut batch: Batch) {
        let mut every = tokio::time::interval_at(Instant::now() + REPORT_EVERY, REPORT_EVERY);
        let flush = sleep(FLUSH_AFTER);
        tokio::pin!(flush);
        loop {
            tokio::select! {
                item = work.recv() => match item {
                    Some(item) => {
                        if batch.is_empty() {
                            // FIXED: a batch's first item starts its timer.
                            flush.as_mut().reset(Instant::now() + FLUSH_AFTER);
                        }
                        batch.push(item);
                    }
                    None => {
                        if !batch.is_empty() {
                            batch.flush();
                        }
                        return;
                    }
                },
                _ = every.tick() => reports.report(),
                // FIXED: not polled at all while the batch is empty.
                () = &mut flush, if !batch.is_empty() => batch.flush(),
            }
        }
    }
    // ANCHOR_END: fixed_flush
}

/// The runtime every scenario runs on: one thread, with a timer. The
/// thread that builds it, which is the one that runs it, is watched
/// between rests (see [`stretches`]).
pub fn runtime() -> tokio::runtime::Runtime {
    stretches::hooked();
    let mut builder = tokio::runtime::Builder::new_current_thread();
    name_threads(&mut builder, "", 0)
        .enable_time()
        .on_thread_unpark(stretches::woke)
        .on_thread_park(stretches::rests)
        .build()
        .expect("a current-thread runtime always builds")
}

/// What the runtime's thread does between rests, whatever task it runs: a
/// busy stretch lasts from the moment the thread wakes (or the harness
/// starts watching) until it parks again, with nothing left to run. A
/// piece may spawn tasks of its own, which the harness does not wrap; a
/// task that sleeps the thread, or computes without a rest, shows here.
///
/// For each stretch, its wall time is split in three: the CPU time used
/// (the process's, exact: the runtime's thread does nearly all of it, and
/// one thread's share is at most the wall time), the time the thread
/// waited for a core while it could have run (a busy machine's doing:
/// Linux's `schedstat`), and the rest, when it was asleep of its own
/// accord (a sleep, a lock, a join), counted only if it gave up its core
/// of its own accord (a voluntary context switch). Both counts come from
/// [`shared::record::sched`]. Leaving out the wait for a core keeps the
/// time asleep honest on a busy machine: a thread that sleeps a
/// microsecond on a lock and is then kept waiting for a core for 15 ms
/// slept a microsecond. Linux only: elsewhere [`end`] says nothing was
/// measured.
pub mod stretches {
    use shared::record::sched;
    use std::cell::RefCell;
    use std::time::{Duration, Instant};

    #[derive(Clone, Copy)]
    struct Clock {
        wall: Instant,
        cpu: Duration,
        waited: Duration,
        voluntary: u64,
    }

    impl Clock {
        fn now() -> Option<Clock> {
            // The time this thread waited for a core. (Its time on a core
            // may be a scheduler tick old; the process's CPU time is exact,
            // and this thread does nearly all of it.)
            Some(Clock {
                wall: Instant::now(),
                cpu: shared::work::cpu::cpu_time(),
                waited: sched::SchedStat::of_this_thread()?.waited,
                voluntary: sched::voluntary_switches()?,
            })
        }
    }

    /// What the busy stretches of one watch showed.
    #[derive(Clone, Copy, Debug, Default, PartialEq)]
    pub struct Shown {
        /// The most time the thread slept of its own accord in one stretch.
        pub longest_asleep: Duration,
        /// All the time it slept of its own accord while busy.
        pub asleep: Duration,
        /// The most CPU time one stretch used.
        pub longest_cpu: Duration,
        /// How many times the thread woke from a rest.
        pub wakes: u64,
    }

    #[derive(Default)]
    struct Watch {
        hooked: bool,
        on: bool,
        since: Option<Clock>,
        shown: Shown,
    }

    impl Watch {
        fn account(&mut self, since: Clock) {
            let Some(now) = Clock::now() else { return };
            let wall = now.wall.duration_since(since.wall);
            // Other threads of the process may have run meanwhile, on
            // other cores: one thread's share is at most the wall time.
            let cpu = now.cpu.saturating_sub(since.cpu).min(wall);
            self.shown.longest_cpu = self.shown.longest_cpu.max(cpu);
            if now.voluntary > since.voluntary {
                let asleep = wall
                    .saturating_sub(cpu)
                    .saturating_sub(now.waited.saturating_sub(since.waited));
                self.shown.longest_asleep = self.shown.longest_asleep.max(asleep);
                self.shown.asleep += asleep;
            }
        }
    }

    thread_local! {
        static WATCH: RefCell<Watch> = RefCell::default();
    }

    /// This thread's runtime calls [`woke`] and [`rests`].
    pub fn hooked() {
        WATCH.with_borrow_mut(|w| w.hooked = true);
    }

    /// The runtime's thread woke up: a busy stretch begins.
    pub fn woke() {
        WATCH.with_borrow_mut(|w| {
            if w.on {
                w.since = Clock::now();
                w.shown.wakes += 1;
            }
        });
    }

    /// The runtime's thread is about to park: its busy stretch ends.
    pub fn rests() {
        WATCH.with_borrow_mut(|w| {
            if let Some(since) = w.since.take() {
                w.account(since);
            }
        });
    }

    /// Starts watching this thread's busy stretches, if its runtime is
    /// hooked (the harness is busy now: a stretch begins).
    pub fn begin() {
        WATCH.with_borrow_mut(|w| {
            w.on = w.hooked;
            w.shown = Shown::default();
            w.since = if w.on { Clock::now() } else { None };
        });
    }

    /// Stops watching, and says what the stretches showed (`None` if
    /// nothing could be measured: not Linux, or a runtime not hooked).
    pub fn end() -> Option<Shown> {
        WATCH.with_borrow_mut(|w| {
            if let Some(since) = w.since.take() {
                w.account(since);
            }
            let was_on = std::mem::take(&mut w.on);
            (was_on && Clock::now().is_some()).then_some(w.shown)
        })
    }
}

/// `select!` can only poll `&mut sleep` if the sleep cannot move, and a
/// `Sleep` is not `Unpin`, so this does not compile:
///
/// ```compile_fail,E0277
#[doc = include_str!("snippets/unpinned_sleep.rs")]
/// ```
///
/// `tokio::pin!(sleep)` (or `std::pin::pin!`, or `Box::pin`) fixes it.
pub struct SleepMustBePinned;

/// When the numbers of the `deadline` scenario come: for ever, on a
/// schedule fixed in advance (a pattern that repeats), so that a slow
/// reader or a busy machine cannot make fewer numbers come in a second.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// What this shape is, for narration.
    pub name: String,
    /// When the numbers of one round of the pattern come, from its start.
    pattern: Vec<Duration>,
    /// How long one round lasts.
    period: Duration,
}

impl Schedule {
    /// A number every `every`, the first after `every`.
    pub fn steady(every: Duration) -> Schedule {
        Schedule {
            name: format!("steady, a number every {} ms", every.as_millis()),
            pattern: vec![every],
            period: every,
        }
    }

    /// Bursts of 10 to 40 numbers at once, with pauses of 60 to 200 ms
    /// between them, but for one long pause across the deadline: none come
    /// from a moment 0.75 to 0.9 s after the start until 1.5 to 1.8 s. A
    /// reader that looks at the clock only when a number comes is still
    /// reading long after its deadline.
    pub fn bursts(rng: &mut Rng) -> Schedule {
        let quiet_from =
            rng.duration_between(Duration::from_millis(750), Duration::from_millis(900));
        let quiet_until =
            rng.duration_between(Duration::from_millis(1500), Duration::from_millis(1800));
        let mut pattern = Vec::new();
        let mut t = Duration::ZERO;
        while t < Duration::from_millis(2300) {
            t += rng.duration_between(Duration::from_millis(60), Duration::from_millis(200));
            if t > quiet_from && t < quiet_until {
                t = quiet_until;
            }
            for _ in 0..rng.between(10, 40) {
                pattern.push(t);
            }
        }
        let period =
            t + rng.duration_between(Duration::from_millis(60), Duration::from_millis(200));
        Schedule {
            name: format!(
                "bursts of 10 to 40 numbers, with pauses of 60 to 200 ms, and none from {} to {} ms",
                quiet_from.as_millis(),
                quiet_until.as_millis()
            ),
            pattern,
            period,
        }
    }

    /// The stretch without a number around `d`: when the last number at
    /// or before it comes (zero if none), and when the first after it.
    pub fn gap_around(&self, d: Duration) -> (Duration, Duration) {
        let after = self.count_within(d);
        let before = after.checked_sub(1).map_or(Duration::ZERO, |i| self.at(i));
        (before, self.at(after))
    }

    /// When number `i` (from 0) comes, from the start.
    pub fn at(&self, i: u32) -> Duration {
        let len = self.pattern.len() as u32;
        self.period * (i / len) + self.pattern[(i % len) as usize]
    }

    /// How many numbers come within `d` of the start.
    pub fn count_within(&self, d: Duration) -> u32 {
        let mut n = 0;
        while self.at(n) <= d {
            n += 1;
        }
        n
    }
}

/// An endless stream of numbers on a [`Schedule`]. The harness counts
/// every number read.
pub struct Numbers {
    schedule: Schedule,
    start: Instant,
    next: u32,
    due: Pin<Box<Sleep>>,
    read: Arc<AtomicU32>,
}

impl Stream for Numbers {
    type Item = u32;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<u32>> {
        if self.due.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        let n = self.next;
        self.next += 1;
        let next_at = self.start + self.schedule.at(self.next);
        self.due.as_mut().reset(next_at);
        self.read.fetch_add(1, Ordering::SeqCst);
        Poll::Ready(Some(n))
    }
}

impl Numbers {
    /// The numbers of `schedule` from `start`, each one read counted into
    /// `read` (nothing else: a poll of the stream takes no lock).
    pub fn new(schedule: Schedule, start: Instant, read: Arc<AtomicU32>) -> Numbers {
        let first = start + schedule.at(0);
        Numbers {
            schedule,
            start,
            next: 0,
            due: Box::pin(sleep_until(first)),
            read,
        }
    }
}

/// Copies a count into a live fact every 20 ms, from a thread of its own,
/// and once more when dropped: a run that never ends still shows how far
/// it got, and the polls of the code under judgement take none of the
/// locks that setting a fact takes.
struct LiveCount {
    facts: Facts,
    name: &'static str,
    count: Arc<AtomicU32>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LiveCount {
    fn start(facts: &Facts, name: &'static str, count: Arc<AtomicU32>) -> LiveCount {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (theirs, stopped, counted) = (facts.clone(), stop.clone(), count.clone());
        let thread = std::thread::spawn(move || {
            while !stopped.load(Ordering::SeqCst) {
                theirs.set(name, counted.load(Ordering::SeqCst));
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        LiveCount {
            facts: facts.clone(),
            name,
            count,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for LiveCount {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.facts.set(self.name, self.count.load(Ordering::SeqCst));
    }
}

pub mod flush;
pub mod quiet;
pub use flush::{Batch, FLUSH_AFTER};
pub use quiet::{PROGRESS_EVERY, Progress, QUIET};

/// The `report` scenario: a worker gets items in two shapes of traffic
/// and should report every 100 ms meanwhile.
pub mod report {
    use super::*;

    pub static SPEC: Spec = Spec {
        name: "report",
        facts: &[
            fact(
                "report_ratio",
                "reports made over reports due (the run's length over 100 ms), in the shape where it was farthest from 1",
            )
            .timing(),
            fact(
                "longest_gap_ratio",
                "the longest stretch without a report, over the 100 ms it should be (the worst shape)",
            )
            .timing(),
            fact("items_lost", "work items sent that the worker never handled"),
            fact(
                "held_ratio",
                "the longest the worker held its thread in one poll, over the 100 ms report period",
            )
            .timing(),
            fact(
                "asleep_ratio",
                "the longest the runtime's thread slept of its own accord without a rest, in the worker or any task it spawned, over the 100 ms report period",
            )
            .timing(),
            fact(
                "busy_ratio",
                "the most CPU time the runtime's thread used without a rest, in the worker or any task it spawned, over the 100 ms report period",
            )
            .timing(),
            fact(
                "asleep_share",
                "all the time the runtime's thread slept of its own accord while it had work, in the worker or any task it spawned, over the time the worker ran (the worst shape)",
            )
            .timing(),
            fact(
                "polls_per_event",
                "the worker's polls over the items sent and the reports due (the most of the shapes)",
            ),
        ],
    };

    /// The two shapes the work comes in, picked by `rng`: steady at a rate
    /// of its own (10 items in 30 to 70 ms), and bursts of items at once
    /// with pauses longer than the report period between them. Counting
    /// items tells the time in neither.
    pub fn shapes(rng: &mut Rng) -> Vec<Arrivals> {
        let every = Duration::from_millis(rng.between(3, 7));
        let span = rng.duration_between(Duration::from_millis(650), Duration::from_millis(850));
        let steady = Arrivals::steady(every, (span.as_micros() / every.as_micros()) as usize);
        let mut at = Vec::new();
        let mut t = Duration::ZERO;
        for _ in 0..4 {
            t += rng.duration_between(Duration::from_millis(180), Duration::from_millis(280));
            for _ in 0..rng.between(5, 20) {
                at.push(t);
            }
        }
        let bursts = Arrivals {
            name: "4 bursts of 5 to 20 items, each after a pause of 180 to 280 ms".into(),
            at,
        };
        vec![steady, bursts]
    }

    /// What one shape showed.
    #[derive(Clone, Debug, PartialEq)]
    pub struct Shown {
        pub sent: u32,
        pub handled: u32,
        pub reports: usize,
        /// The run's length over the report period.
        pub due: f64,
        /// The longest stretch without a report, over the period.
        pub longest_gap: f64,
        /// The worker's polls (its making counts as one).
        pub polls: u64,
        /// All the time the runtime's thread slept of its own accord while
        /// busy (or, where that cannot be measured, inside the worker's
        /// polls), over the run's length.
        pub asleep_share: f64,
        /// The most CPU time the runtime's thread used without a rest (or,
        /// where that cannot be measured, in one poll of the worker).
        pub busy: Duration,
        /// The longest it slept of its own accord without a rest (or, where
        /// that cannot be measured, in one poll of the worker).
        pub longest_asleep: Duration,
    }

    impl Shown {
        pub fn ratio(&self) -> f64 {
            self.reports as f64 / self.due.max(1e-9)
        }

        /// Polls per thing worth a poll: an item sent, a report due. A
        /// worker that waits is polled about once for each (less, when a
        /// burst is taken in one poll); one that wakes itself over and over
        /// is polled thousands of times.
        pub fn polls_per_event(&self) -> f64 {
            self.polls as f64 / (f64::from(self.sent) + self.due).max(1.0)
        }
    }

    /// Runs `worker` against a producer of `arrivals`, on the current
    /// runtime (which needs a timer), timing its polls, and its making,
    /// into `held` (a fresh one for each shape).
    pub async fn measure_shape<W>(worker: &W, arrivals: Arrivals, held: &Held) -> Shown
    where
        W: AsyncFn(Work, Reports),
    {
        let (tx, rx) = mpsc::channel(16);
        let taken = Arc::new(AtomicU32::new(0));
        let handled = Arc::new(AtomicU32::new(0));
        let times = Arc::new(Mutex::new(Vec::new()));
        let work = Work {
            items: rx,
            taken: taken.clone(),
            took: Took::default(),
        };
        let reports = Reports {
            times: times.clone(),
            handled: handled.clone(),
        };
        let sent = arrivals.len() as u32;
        let (polls, asleep) = (held.polls(), held.asleep());
        stretches::begin();
        let start = Instant::now();
        let producer =
            tokio::spawn(producer(tx, arrivals, start, handled.clone()).traced("producer"));
        let working = held.time(|| worker(work, reports));
        held.wrap(working).traced("worker").await;
        let end = Instant::now();
        let thread = stretches::end();
        producer.abort(); // if the worker stopped early
        let times = times.lock().unwrap().clone();
        let period = REPORT_EVERY.as_secs_f64();
        let mut marks = vec![start];
        marks.extend(times.iter().copied());
        marks.push(end);
        let longest = marks
            .windows(2)
            .map(|w| w[1].saturating_duration_since(w[0]).as_secs_f64())
            .fold(0.0, f64::max);
        let ran = end.duration_since(start).as_secs_f64().max(1e-9);
        Shown {
            sent,
            handled: handled.load(Ordering::SeqCst),
            reports: times.len(),
            due: ran / period,
            longest_gap: longest / period,
            polls: held.polls() - polls,
            asleep_share: thread
                .map_or(held.asleep().saturating_sub(asleep), |t| t.asleep)
                .as_secs_f64()
                / ran,
            busy: thread.map_or(held.longest_cpu(), |t| t.longest_cpu),
            longest_asleep: thread.map_or(held.longest_asleep(), |t| t.longest_asleep),
        }
    }

    /// Runs `worker` under each shape in turn and sets the facts: the
    /// worst of the shapes for each.
    pub async fn measure<W>(facts: &Facts, shapes: Vec<Arrivals>, worker: W) -> Vec<Shown>
    where
        W: AsyncFn(Work, Reports),
    {
        let held = Held::new();
        let mut shown = Vec::new();
        for arrivals in shapes {
            shared::mark(&format!("work comes {}", arrivals.name));
            shown.push(measure_shape(&worker, arrivals, &held).await);
        }
        let farthest = shown
            .iter()
            .map(Shown::ratio)
            .max_by(|a, b| a.ln().abs().total_cmp(&b.ln().abs()))
            .unwrap_or(0.0);
        facts.set("report_ratio", farthest);
        facts.set(
            "longest_gap_ratio",
            shown.iter().map(|s| s.longest_gap).fold(0.0, f64::max),
        );
        facts.set(
            "items_lost",
            shown
                .iter()
                .map(|s| s.sent - s.handled.min(s.sent))
                .sum::<u32>(),
        );
        facts.set("held_ratio", held.longest_ratio(REPORT_EVERY));
        let worst = |f: fn(&Shown) -> f64| shown.iter().map(f).fold(0.0, f64::max);
        facts.set(
            "asleep_ratio",
            worst(|s| s.longest_asleep.as_secs_f64() / REPORT_EVERY.as_secs_f64()),
        );
        facts.set(
            "busy_ratio",
            worst(|s| s.busy.as_secs_f64() / REPORT_EVERY.as_secs_f64()),
        );
        facts.set("asleep_share", worst(|s| s.asleep_share));
        facts.set("polls_per_event", worst(Shown::polls_per_event));
        shown
    }

    pub fn run<W>(facts: &Facts, worker: W)
    where
        W: AsyncFn(Work, Reports),
    {
        let shapes = shapes(&mut Rng::for_scenario(SPEC.name));
        println!(
            "{} takes work items and should report every {} ms meanwhile. The work",
            facts.The("worker"),
            REPORT_EVERY.as_millis()
        );
        println!(
            "comes in two shapes, picked at run time (seed {}; LESSON_SEED={} replays them):",
            seed(),
            seed()
        );
        for (i, a) in shapes.iter().enumerate() {
            println!(
                "  {}. {}: {} items over {} ms",
                i + 1,
                a.name,
                a.len(),
                a.span().as_millis()
            );
        }
        let shown = runtime().block_on(measure(facts, shapes, worker));
        for (i, s) in shown.iter().enumerate() {
            println!(
                "Shape {}: {} of {} items handled; {} reports for {:.1} due; the longest stretch without a report was {:.2} periods.",
                i + 1,
                s.handled,
                s.sent,
                s.reports,
                s.due,
                s.longest_gap
            );
        }
    }

    pub fn piece<'a, W>(name: &'static str, worker: W) -> Piece<'a>
    where
        W: AsyncFn(Work, Reports) + 'a,
    {
        Piece::new(name, move |facts| run(facts, worker))
    }
}

/// The `deadline` scenario: read an endless stream for at most `DEADLINE`,
/// once for each of two shapes of stream.
pub mod deadline {
    use super::*;

    pub static SPEC: Spec = Spec {
        name: "deadline",
        facts: &[
            fact(
                "deadline_ratio",
                "the time a read took over the 1 s deadline (the longest of the shapes)",
            )
            .timing(),
            fact("early_stops", "reads that ended before the deadline"),
            fact(
                "wrong_counts",
                "how far the counts the reader returned were from the numbers it read, in all",
            ),
            fact(
                "read_ratio",
                "numbers read over numbers that came before the deadline (the lowest of the shapes)",
            )
            .timing(),
            fact("numbers_read", "numbers read, in all").live(),
            fact(
                "held_ratio",
                "the longest the reader held its thread in one poll, over the deadline",
            )
            .timing(),
            fact(
                "asleep_ratio",
                "the longest the runtime's thread slept of its own accord without a rest, in the reader or any task it spawned, over the deadline",
            )
            .timing(),
            fact(
                "busy_ratio",
                "the most CPU time the runtime's thread used without a rest, in the reader or any task it spawned, over the deadline",
            )
            .timing(),
            fact(
                "asleep_share",
                "all the time the runtime's thread slept of its own accord while it had work, in the reader or any task it spawned, over the time it read (the worst shape)",
            )
            .timing(),
            fact(
                "polls_per_number",
                "the reader's polls over the numbers it read (the most of the shapes)",
            ),
        ],
    };

    /// The two shapes of stream, picked by `rng`: steady at a rate of its
    /// own (a number every 3 to 6 ms), and bursts with pauses, one of them
    /// across the deadline. A count of numbers tells the time in neither,
    /// and in the second, nor does the arrival of a number.
    pub fn shapes(rng: &mut Rng) -> Vec<Schedule> {
        let every = Duration::from_millis(rng.between(3, 6));
        vec![Schedule::steady(every), Schedule::bursts(rng)]
    }

    /// What one read showed.
    #[derive(Clone, Debug, PartialEq)]
    pub struct Read {
        /// What the reader returned.
        pub returned: u32,
        /// Numbers it read, counted by the stream.
        pub read: u32,
        /// Numbers that came within the deadline.
        pub came: u32,
        /// The read's length over the deadline.
        pub took: f64,
        /// The reader's polls (its making counts as one).
        pub polls: u64,
        /// All the time the runtime's thread slept of its own accord while
        /// busy (or, where that cannot be measured, inside the reader's
        /// polls), over the read's length.
        pub asleep_share: f64,
        /// The most CPU time the runtime's thread used without a rest (or,
        /// where that cannot be measured, in one poll of the reader).
        pub busy: Duration,
        /// The longest it slept of its own accord without a rest (or, where
        /// that cannot be measured, in one poll of the reader).
        pub longest_asleep: Duration,
    }

    impl Read {
        /// Polls per number read (and one for the deadline): a reader that
        /// waits is polled about once per number that comes alone, once
        /// per burst; one that wakes itself over and over, thousands of
        /// times.
        pub fn polls_per_number(&self) -> f64 {
            self.polls as f64 / f64::from(self.read + 1)
        }
    }

    /// Runs `read` once per shape, on the current runtime. Never returns
    /// if a read never ends: that is the bug.
    pub async fn measure<R>(facts: &Facts, shapes: &[Schedule], read: R) -> Vec<Read>
    where
        R: AsyncFn(Numbers) -> u32,
    {
        let held = Held::new();
        let mut reads: Vec<Read> = Vec::new();
        // Every number read, in all the shapes.
        let count = Arc::new(AtomicU32::new(0));
        let live = LiveCount::start(facts, "numbers_read", count.clone());
        for schedule in shapes {
            shared::mark(&format!("numbers come {}", schedule.name));
            let before = count.load(Ordering::SeqCst);
            let start = Instant::now();
            let numbers = Numbers::new(schedule.clone(), start, count.clone());
            let (polls, asleep) = (held.polls(), held.asleep());
            stretches::begin();
            let reading = held.time(|| read(numbers));
            let returned = held.wrap(reading).traced("reader").await;
            let ran = start.elapsed().as_secs_f64().max(1e-9);
            let thread = stretches::end();
            let read = count.load(Ordering::SeqCst) - before;
            reads.push(Read {
                returned,
                read,
                came: schedule.count_within(DEADLINE),
                took: ran / DEADLINE.as_secs_f64(),
                polls: held.polls() - polls,
                asleep_share: thread
                    .map_or(held.asleep().saturating_sub(asleep), |t| t.asleep)
                    .as_secs_f64()
                    / ran,
                busy: thread.map_or(held.longest_cpu(), |t| t.longest_cpu),
                longest_asleep: thread.map_or(held.longest_asleep(), |t| t.longest_asleep),
            });
        }
        facts.set(
            "deadline_ratio",
            reads.iter().map(|r| r.took).fold(0.0, f64::max),
        );
        facts.set(
            "early_stops",
            reads.iter().filter(|r| r.took < 1.0).count() as u32,
        );
        facts.set(
            "wrong_counts",
            reads
                .iter()
                .map(|r| r.returned.abs_diff(r.read))
                .sum::<u32>(),
        );
        facts.set(
            "read_ratio",
            reads
                .iter()
                .map(|r| f64::from(r.read) / f64::from(r.came.max(1)))
                .fold(f64::INFINITY, f64::min),
        );
        drop(live);
        facts.set("held_ratio", held.longest_ratio(DEADLINE));
        let worst = |f: fn(&Read) -> f64| reads.iter().map(f).fold(0.0, f64::max);
        facts.set(
            "asleep_ratio",
            worst(|r| r.longest_asleep.as_secs_f64() / DEADLINE.as_secs_f64()),
        );
        facts.set(
            "busy_ratio",
            worst(|r| r.busy.as_secs_f64() / DEADLINE.as_secs_f64()),
        );
        facts.set("asleep_share", worst(|r| r.asleep_share));
        facts.set("polls_per_number", worst(Read::polls_per_number));
        reads
    }

    pub fn run<R>(facts: &Facts, read: R)
    where
        R: AsyncFn(Numbers) -> u32,
    {
        shared::contract::watchdog::default_deadline(Duration::from_secs(4));
        let shapes = shapes(&mut Rng::for_scenario(SPEC.name));
        println!(
            "{} reads an endless stream for at most 1 s, twice, in two shapes picked at",
            facts.The("reader")
        );
        println!(
            "run time (seed {}; LESSON_SEED={} replays them):",
            seed(),
            seed()
        );
        for (i, s) in shapes.iter().enumerate() {
            println!(
                "  {}. {}: {} numbers come within the second",
                i + 1,
                s.name,
                s.count_within(DEADLINE)
            );
        }
        println!("(If a read never stops, the watchdog stops it after 4 s.)");
        let reads = runtime().block_on(measure(facts, &shapes, read));
        for (i, r) in reads.iter().enumerate() {
            println!(
                "Shape {}: it read {} of the {} numbers due, said it read {}, and stopped after {:.2} times the deadline.",
                i + 1,
                r.read,
                r.came,
                r.returned,
                r.took
            );
        }
    }

    pub fn piece<'a, R>(name: &'static str, read: R) -> Piece<'a>
    where
        R: AsyncFn(Numbers) -> u32 + 'a,
    {
        Piece::new(name, move |facts| run(facts, read))
    }
}
