//! # Lesson 09: a tiny work-stealing runtime
//!
//! How does a multi-threaded runtime decide which task runs next, on which
//! thread? This crate has a small one, written to be read
//! ([`runtime`], [`reactor`]), whose scheduling **policy** is one function.
//! Two scenarios show what each part of tokio's design prevents:
//!
//! - `fairness`: a worker that always takes its own local work first never
//!   looks at the global queue while a task keeps waking itself, so a task
//!   spawned from outside waits far beyond its fair share. The cure is
//!   tokio's: look at the global queue first every so often (here every
//!   61st time, as tokio once did; tokio now tunes its interval).
//! - `stealing`: tasks spawned by a task land in its worker's local queue.
//!   A worker that never steals leaves its siblings idle while one queue
//!   holds all the work. The cure: steal half of a sibling's queue.

pub mod reactor;
pub mod runtime;

/// This lesson's id, `lesson-09`: its package name.
pub const LESSON: &str = env!("CARGO_PKG_NAME");

use runtime::{Idle, Parking, Pick, Policy, Runtime, Task};
use shared::TraceExt;
use shared::lesson::{Facts, Piece, Spec, Variant, fact};
use shared::work::gauge::AtOnce;
use shared::work::shape::{Rng, SEED_ENV, seed};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Lesson 01's executor for one future (poll, and park until woken), for
/// the thread that calls [`runtime::Runtime::block_on`].
pub use lesson_01::block_on;

/// A future that returns `Pending` once, waking itself first: "let the
/// others have a turn". Lesson 01's `YieldNow`.
pub fn yield_now() -> lesson_01::YieldNow {
    lesson_01::YieldNow::default()
}

/// How often a worker looks at the global queue first: every 61st pick.
/// 61 was tokio's fixed interval. tokio's multi-threaded workers now start
/// at 61 and tune it to their tasks' poll times (from 2 to 127); its
/// current-thread runtime uses 31.
pub const GLOBAL_EVERY: u64 = 61;

pub mod broken {
    use super::*;

    // ANCHOR: broken_local_first
    /// Local work first, always; the global queue only when there is none.
    pub fn local_first(pick: &mut Pick<'_>) -> Option<Arc<Task>> {
        // BROKEN: while a local task keeps waking itself, the local queue is
        // never empty, and the global queue is never looked at
        pick.local()
            .or_else(|| pick.global())
            .or_else(|| pick.steal())
    }
    // ANCHOR_END: broken_local_first

    // ANCHOR: broken_no_stealing
    /// Fair to the global queue, but never takes a sibling's work.
    pub fn no_stealing(pick: &mut Pick<'_>) -> Option<Arc<Task>> {
        if pick.tick % GLOBAL_EVERY == 0 {
            if let Some(task) = pick.global() {
                return Some(task);
            }
        }
        // BROKEN: an idle worker waits while a sibling's queue is full
        pick.local().or_else(|| pick.global())
    }
    // ANCHOR_END: broken_no_stealing

    // ANCHOR: broken_parking
    /// Sleeps on a condition variable until a push notifies it.
    #[derive(Default)]
    pub struct Forgetful {
        lock: Mutex<()>,
        wake: Condvar,
    }

    impl Parking for Forgetful {
        fn park(&self, _idle: &Idle<'_>) {
            let guard = self.lock.lock().unwrap();
            // BROKEN: a push between the worker's last look and this wait
            // notified nobody, and nothing will notify it again
            drop(self.wake.wait(guard).unwrap());
        }

        fn pushed(&self) {
            self.wake.notify_one();
        }
    }
    // ANCHOR_END: broken_parking
}

pub mod fixed {
    use super::*;

    // ANCHOR: fixed_policy
    /// tokio's order, at a fixed interval: every 61st time the global queue
    /// first, so that it cannot be starved; then local work; then the global
    /// queue; then half of a sibling's queue.
    pub fn work_stealing(pick: &mut Pick<'_>) -> Option<Arc<Task>> {
        if pick.tick % GLOBAL_EVERY == 0 {
            // FIXED: the global queue gets a turn, however busy we are
            if let Some(task) = pick.global() {
                return Some(task);
            }
        }
        pick.local()
            .or_else(|| pick.global())
            .or_else(|| pick.steal()) // FIXED: idle? take a sibling's work
    }
    // ANCHOR_END: fixed_policy

    // ANCHOR: fixed_parking
    /// Counts the sleepers; a sleeper looks again, holding the lock, after
    /// it is counted; a push takes the lock only when someone sleeps.
    #[derive(Default)]
    pub struct Sleepers {
        sleeping: AtomicUsize,
        lock: Mutex<()>,
        wake: Condvar,
    }

    impl Parking for Sleepers {
        fn park(&self, idle: &Idle<'_>) {
            let mut guard = self.lock.lock().unwrap();
            // FIXED: counted before the last look: a push after this
            // sees a sleeper, and waits for the lock to notify it
            self.sleeping.fetch_add(1, SeqCst);
            // FIXED: a push before this is found by this look
            while !idle.work_waiting() {
                guard = self.wake.wait(guard).unwrap();
            }
            self.sleeping.fetch_sub(1, SeqCst);
        }

        fn pushed(&self) {
            // FIXED: nobody asleep, nothing to do (no lock, for most pushes)
            if self.sleeping.load(SeqCst) > 0 {
                let _guard = self.lock.lock().unwrap();
                self.wake.notify_one();
            }
        }
    }
    // ANCHOR_END: fixed_parking
}

/// Polls the tasks that keep waking themselves may make in all, at most,
/// before the harness gives up on the outside tasks being run earlier.
pub const YIELD_CAP: u64 = 50_000;
/// How long the runtime may sit with every worker parked and nothing
/// moving before the harness calls the tasks not yet finished lost.
pub const STUCK: Duration = Duration::from_millis(250);

/// Says which workloads this run judges, and how to replay them.
fn narrate_shapes<'a>(names: impl IntoIterator<Item = &'a str>) {
    let seed = seed();
    println!("Workloads from seed {seed} ({SEED_ENV}={seed} replays them):");
    for (i, name) in names.into_iter().enumerate() {
        println!("  {}. {name}", i + 1);
    }
}

/// Waits until `done`, or until the runtime is stuck (every worker parked
/// and nothing moving for [`STUCK`]: a task the policy dropped or never
/// picks will never finish), or until `limit`.
fn settle(runtime: &Runtime, done: impl Fn() -> bool, limit: Duration) {
    let started = Instant::now();
    let mut last = runtime.progress();
    let mut since = Instant::now();
    while !done() && started.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(1));
        let now = runtime.progress();
        if now != last {
            (last, since) = (now, Instant::now());
        } else if runtime.all_parked() && since.elapsed() > STUCK {
            break;
        }
    }
}

/// One workload of the `fairness` scenario: how many tasks keep waking
/// themselves, and when (after how many polls) the outside tasks come.
#[derive(Clone, Debug)]
pub struct Injections {
    pub name: String,
    pub busy: usize,
    pub at_polls: Vec<u64>,
}

impl Injections {
    /// Two workloads: one busy task, and several; each with a few outside
    /// tasks spawned at random points.
    pub fn shapes(rng: &mut Rng) -> Vec<Injections> {
        let several = rng.between(3, 5) as usize;
        let mut shape = |busy: usize| {
            let count = rng.between(2, 4);
            let mut at: Vec<u64> = (0..count).map(|_| rng.between(100, 4_000)).collect();
            at.sort_unstable();
            // At least 100 polls apart: one outside task at a time.
            for i in 1..at.len() {
                at[i] = at[i].max(at[i - 1] + 100);
            }
            let points = at
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            Injections {
                name: format!(
                    "{busy} task(s) waking themselves; {count} tasks spawned from outside after {points} polls"
                ),
                busy,
                at_polls: at,
            }
        };
        let one = shape(1);
        vec![one, shape(several)]
    }
}

/// The `fairness` scenario: one worker, tasks that keep waking themselves,
/// and tasks spawned from outside.
pub mod fairness {
    use super::*;

    pub static SPEC: Spec = Spec {
        name: "fairness",
        facts: &[
            fact(
                "injected_wait_polls",
                "polls the worker made between an outside task's spawn and its first poll; the longest wait of any outside task in either workload",
            ),
            fact(
                "tasks_lost",
                "tasks spawned that never finished (dropped, or never picked), over both workloads",
            ),
        ],
    };

    /// Runs the scenario under each workload drawn for this run.
    pub fn measure(facts: &Facts, policy: Policy) {
        let shapes = Injections::shapes(&mut Rng::for_scenario(SPEC.name));
        measure_shapes(facts, &shapes, policy);
    }

    /// [`measure`] under the given workloads, each on a one-worker runtime
    /// with `policy`.
    pub fn measure_shapes(facts: &Facts, shapes: &[Injections], policy: Policy) {
        let (mut worst, mut lost) = (0u64, 0u64);
        for shape in shapes {
            let runtime = Runtime::new(1, policy);
            let handle = runtime.handle();
            let outside = shape.at_polls.len() as u64;
            let (ran, finished, turns) = (
                Arc::new(AtomicU64::new(0)),
                Arc::new(AtomicU64::new(0)),
                Arc::new(AtomicU64::new(0)),
            );
            // A first task spawns the busy ones on the worker, into its
            // local queue, so that only outside tasks use the global one.
            let busy = shape.busy;
            let starter = {
                let (ran, finished, turns) = (ran.clone(), finished.clone(), turns.clone());
                async move {
                    let local = runtime::handle();
                    for _ in 0..busy {
                        let (ran, finished, turns) = (ran.clone(), finished.clone(), turns.clone());
                        // Yields until every outside task has run (or for
                        // a long while).
                        drop(
                            local.spawn(
                                async move {
                                    while ran.load(SeqCst) < outside
                                        && turns.fetch_add(1, SeqCst) < YIELD_CAP
                                    {
                                        yield_now().await;
                                    }
                                    finished.fetch_add(1, SeqCst);
                                }
                                .traced("busy (wakes itself)"),
                            ),
                        );
                    }
                    finished.fetch_add(1, SeqCst);
                }
            };
            drop(handle.spawn(starter.traced("starter")));
            // Spawned from this thread, each outside task goes to the
            // global queue.
            let mut spawned = Vec::new();
            let mut last = 0;
            for &at in &shape.at_polls {
                // One outside task in the global queue at a time: the next
                // comes 100 polls after the last at least, when a fair
                // worker has run it.
                let at = at.max(last + 100);
                settle(
                    &runtime,
                    || runtime.stats().polls() >= at,
                    Duration::from_secs(5),
                );

                let (ran, finished) = (ran.clone(), finished.clone());
                let (join, task) = handle.spawn_counted(
                    async move {
                        ran.fetch_add(1, SeqCst);
                        finished.fetch_add(1, SeqCst);
                    }
                    .traced("spawned from outside"),
                );
                drop(join);
                last = task.queued_at();
                spawned.push(task);
            }
            let total = 1 + shape.busy as u64 + outside;
            settle(
                &runtime,
                || finished.load(SeqCst) == total,
                Duration::from_secs(10),
            );
            let now = runtime.stats().polls();
            for task in &spawned {
                worst = worst.max(task.waited_polls_by(now));
            }
            lost += total - finished.load(SeqCst).min(total);
        }
        facts.set("injected_wait_polls", worst as f64);
        facts.set("tasks_lost", lost as f64);
    }

    pub fn run(facts: &Facts, policy: Policy) {
        println!(
            "One worker, with {} policy: tasks wake themselves over and over; others are spawned from outside.",
            facts.the("pick")
        );
        let shapes = Injections::shapes(&mut Rng::for_scenario(SPEC.name));
        narrate_shapes(shapes.iter().map(|s| s.name.as_str()));
        measure_shapes(facts, &shapes, policy);
        println!(
            "The outside tasks waited at most {} polls for their first turn; {} task(s) never finished.",
            facts.get("injected_wait_polls").unwrap_or(f64::NAN),
            facts.get("tasks_lost").unwrap_or(f64::NAN),
        );
    }

    pub fn piece<'a>(name: &'static str, policy: Policy) -> Piece<'a> {
        Piece::new(name, move |facts| run(facts, policy))
    }
}

/// One workload of the `stealing` scenario: the batches one task spawns,
/// one after another, and how long each job computes.
#[derive(Clone, Debug)]
pub struct Waves {
    pub name: String,
    /// Jobs in each batch.
    pub jobs: Vec<u32>,
    pub job_time: Duration,
}

impl Waves {
    /// Two workloads: one batch, and two batches one after the other.
    pub fn shapes(rng: &mut Rng) -> Vec<Waves> {
        let ms = |rng: &mut Rng, lo, hi| Duration::from_millis(rng.between(lo, hi));
        let one = (rng.between(6, 12) as u32, ms(rng, 10, 20));
        let two = (
            [rng.between(4, 8) as u32, rng.between(4, 8) as u32],
            ms(rng, 8, 15),
        );
        vec![
            Waves {
                name: format!("one batch of {} jobs of {} ms", one.0, one.1.as_millis()),
                jobs: vec![one.0],
                job_time: one.1,
            },
            Waves {
                name: format!(
                    "two batches, of {} and then {} jobs of {} ms",
                    two.0[0],
                    two.0[1],
                    two.1.as_millis()
                ),
                jobs: two.0.to_vec(),
                job_time: two.1,
            },
        ]
    }
}

/// One job: `time` of hashing, counted while it runs.
fn job(i: u32, time: Duration, at_once: &AtOnce) -> Duration {
    let started = Instant::now();
    let _running = at_once.enter();
    shared::blocking("hashing", || {
        std::hint::black_box(shared::work::cpu::burn(time))
    });
    std::hint::black_box(i);
    started.elapsed()
}

/// The `stealing` scenario: two workers, and batches spawned by one task.
pub mod stealing {
    use super::*;

    pub static SPEC: Spec = Spec {
        name: "stealing",
        facts: &[
            fact(
                "workers_busy",
                "workers running jobs at once, on average (job time over the batch's time); the worst batch",
            )
            .timing(),
            fact(
                "jobs_at_once",
                "the most jobs running at the same moment, in the batch where it was fewest",
            ),
            fact(
                "tasks_stolen",
                "times a worker stole from its sibling's queue",
            ),
            fact(
                "tasks_lost",
                "tasks spawned that never finished (dropped, or never picked), over both workloads",
            ),
        ],
    };

    /// What one batch showed: job time over batch time, and the most jobs
    /// at once.
    type Batch = (f64, u64);

    /// Runs the scenario under each workload drawn for this run.
    pub fn measure(facts: &Facts, policy: Policy) {
        let shapes = Waves::shapes(&mut Rng::for_scenario(SPEC.name));
        measure_shapes(facts, &shapes, policy);
    }

    /// [`measure`] under the given workloads, each on a two-worker runtime
    /// with `policy`.
    pub fn measure_shapes(facts: &Facts, shapes: &[Waves], policy: Policy) {
        let (mut busy, mut at_once, mut stolen, mut lost) = (f64::INFINITY, u64::MAX, 0, 0);
        for shape in shapes {
            let runtime = Runtime::new(2, policy);
            let handle = runtime.handle();
            let batches: Arc<Mutex<Vec<Batch>>> = Arc::default();
            let finished = Arc::new(AtomicU64::new(0));
            // One task spawns each batch: every job lands in its worker's
            // queue.
            let parent = {
                let (batches, finished) = (batches.clone(), finished.clone());
                let (waves, time) = (shape.jobs.clone(), shape.job_time);
                async move {
                    let handle = runtime::handle();
                    for n in waves {
                        let gauge = Arc::new(AtOnce::new());
                        let started = Instant::now();
                        let jobs: Vec<_> = (0..n)
                            .map(|i| {
                                let (gauge, finished) = (gauge.clone(), finished.clone());
                                handle.spawn(
                                    async move {
                                        let took = job(i, time, &gauge);
                                        finished.fetch_add(1, SeqCst);
                                        took
                                    }
                                    .traced("job"),
                                )
                            })
                            .collect();
                        let mut working = Duration::ZERO;
                        for j in jobs {
                            working += j.await;
                        }
                        let took = started.elapsed().as_secs_f64();
                        batches
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push((working.as_secs_f64() / took, gauge.most()));
                    }
                    finished.fetch_add(1, SeqCst);
                }
                .traced("parent")
            };
            drop(handle.spawn(parent));
            let total = 1 + u64::from(shape.jobs.iter().sum::<u32>());
            settle(
                &runtime,
                || finished.load(SeqCst) == total,
                Duration::from_secs(10),
            );
            lost += total - finished.load(SeqCst).min(total);
            stolen += runtime.stats().steals.load(SeqCst);
            drop(runtime);
            let batches = batches.lock().unwrap_or_else(|e| e.into_inner()).clone();
            // A batch that never finished counts as the worst of all.
            if batches.len() < shape.jobs.len() {
                busy = 0.0;
                at_once = 0;
            }
            for (b, most) in batches {
                busy = busy.min(b);
                at_once = at_once.min(most);
            }
        }
        facts.set("workers_busy", busy);
        facts.set("jobs_at_once", at_once as f64);
        facts.set("tasks_stolen", stolen as f64);
        facts.set("tasks_lost", lost as f64);
    }

    /// A batch of `jobs` jobs of `time` on tokio's multi-threaded runtime,
    /// for comparison.
    pub fn on_tokio(jobs: u32, time: Duration) -> Duration {
        let tokio = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .expect("tokio starts");
        tokio.block_on(async move {
            tokio::spawn(async move {
                let gauge = Arc::new(AtOnce::new());
                let started = Instant::now();
                let handles: Vec<_> = (0..jobs)
                    .map(|i| {
                        let gauge = gauge.clone();
                        tokio::spawn(async move { job(i, time, &gauge) })
                    })
                    .collect();
                for j in handles {
                    j.await.expect("a job does not panic");
                }
                started.elapsed()
            })
            .await
            .expect("the parent does not panic")
        })
    }

    pub fn run(facts: &Facts, policy: Policy) {
        println!(
            "Two workers, with {} policy: one task spawns batches of CPU jobs, all into its worker's queue.",
            facts.the("pick"),
        );
        let shapes = Waves::shapes(&mut Rng::for_scenario(SPEC.name));
        narrate_shapes(shapes.iter().map(|s| s.name.as_str()));
        measure_shapes(facts, &shapes, policy);
        let (jobs, time) = (shapes[0].jobs[0], shapes[0].job_time);
        let tokio = on_tokio(jobs, time);
        let get = |name| facts.get(name).unwrap_or(f64::NAN);
        println!(
            "In the worst batch, {:.2} workers were busy on average and at most {} jobs ran at once; {} steals; {} task(s) never finished. The first batch on tokio took {} ms (ideally {} ms).",
            get("workers_busy"),
            get("jobs_at_once"),
            get("tasks_stolen"),
            get("tasks_lost"),
            tokio.as_millis(),
            (time * jobs.div_ceil(2)).as_millis(),
        );
    }

    pub fn piece<'a>(name: &'static str, policy: Policy) -> Piece<'a> {
        Piece::new(name, move |facts| run(facts, policy))
    }
}

/// After this long without its task polled, the harness calls a wake-up
/// lost and wakes a worker itself (a correct parking takes microseconds).
pub const LOST_AFTER: Duration = Duration::from_millis(30);
/// The two quiet spells of each workload, when no task is woken: an idle
/// worker should sleep through them.
pub const QUIET: Duration = Duration::from_millis(50);
/// Wake-ups lost after which the harness stops a workload: enough to judge.
pub const LOST_ENOUGH: u64 = 3;

/// One workload of the `parking` scenario: how many workers, and the
/// tasks woken from outside at each step, with the pause after it.
#[derive(Clone, Debug)]
pub struct Rings {
    pub name: String,
    pub workers: usize,
    /// Tasks woken together at each step, and the pause after it (µs).
    /// The shapes drawn wake one at a time; a test may wake more.
    pub steps: Vec<(usize, u64)>,
}

impl Rings {
    /// Two workloads, tasks woken one at a time: one worker, and four.
    pub fn shapes(rng: &mut Rng) -> Vec<Rings> {
        let mut shape = |workers: usize, steps: u64| {
            let n = rng.between(steps, steps + steps / 2);
            let mut steps: Vec<(usize, u64)> =
                (0..n).map(|_| (1, rng.between(2_000, 5_000))).collect();
            // Two quiet spells, when no task is woken for a while.
            let first = rng.between(0, n / 2 - 1) as usize;
            let second = rng.between(n / 2, n - 1) as usize;
            for at in [first, second] {
                steps[at].1 = QUIET.as_micros() as u64;
            }
            Rings {
                name: format!(
                    "{workers} worker(s), {} tasks; {n} times a task woken from outside, 2 to 5 ms apart, with two pauses of 50 ms",
                    workers * 3
                ),
                workers,
                steps,
            }
        };
        let one = shape(1, 40);
        vec![one, shape(4, 30)]
    }
}

/// What a task waits for: a bell rung from outside the runtime.
#[derive(Default)]
struct Bell {
    /// Rung and not yet heard.
    rung: Mutex<(bool, Option<std::task::Waker>)>,
    /// The task waits at the bell and nobody has rung it yet.
    free: AtomicBool,
}

impl Bell {
    /// Rings: wakes the task waiting (a push to the global queue, from
    /// this thread).
    fn ring(&self) {
        let waker = {
            let mut rung = self.rung.lock().unwrap_or_else(|e| e.into_inner());
            rung.0 = true;
            rung.1.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    fn heard(&self) -> impl std::future::Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| {
            let mut rung = self.rung.lock().unwrap_or_else(|e| e.into_inner());
            if std::mem::take(&mut rung.0) {
                rung.1 = None;
                std::task::Poll::Ready(())
            } else {
                rung.1 = Some(cx.waker().clone());
                std::task::Poll::Pending
            }
        })
    }
}

/// The `parking` scenario: idle workers, and tasks woken from outside.
pub mod parking {
    use super::*;
    use std::sync::mpsc;

    pub static SPEC: Spec = Spec {
        name: "parking",
        facts: &[
            fact(
                "wakeups_lost",
                "tasks woken while the workers were idle that were not polled within 30 ms (the harness then wakes a worker itself; a correct parking takes well under a millisecond), over both workloads",
            )
            .timing(),
            fact(
                "idle_looks_per_wake",
                "times a worker looked for a task and found none (its policy, or its parking through `work_waiting`), per task woken from outside; the worse workload",
            ),
            fact(
                "empty_wakeups",
                "times an idle worker came back from `park` with nothing pushed since it last looked (a timer, or no sleep at all), over both workloads",
            ),
            fact(
                "wakes_answered",
                "tasks woken that ran, over tasks woken (1: all of them), over both workloads",
            ),
        ],
    };

    /// The harness's half of a wake-up that comes at the worst moment.
    #[derive(Default)]
    struct Pushed {
        started: Mutex<Option<Instant>>,
        done: AtomicBool,
    }

    /// The harness's record of one workload.
    #[derive(Default)]
    struct Counts {
        rung: AtomicU64,
        answered: AtomicU64,
        /// Pushes asked of the pusher thread, and pushes it has done.
        asked: AtomicU64,
        pushed: AtomicU64,
        /// Set at each step: one wake-up may come at the worst moment.
        armed: AtomicBool,
        /// Where it comes at this step: just before `park` (false), or
        /// just after a look from inside it that found nothing (true).
        inside: AtomicBool,
    }

    /// Rings one free bell, if any: from `start`, round the list.
    fn ring_free(bells: &[Arc<Bell>], start: usize, counts: &Counts) -> bool {
        for k in 0..bells.len() {
            let bell = &bells[(start + k) % bells.len()];
            if bell.free.swap(false, SeqCst) {
                counts.rung.fetch_add(1, SeqCst);
                bell.ring();
                return true;
            }
        }
        false
    }

    /// Runs the scenario under each workload drawn for this run.
    pub fn measure(facts: &Facts, parking: fn() -> Box<dyn Parking>) {
        let shapes = Rings::shapes(&mut Rng::for_scenario(SPEC.name));
        measure_shapes(facts, &shapes, parking);
    }

    /// [`measure`] under the given workloads.
    pub fn measure_shapes(facts: &Facts, shapes: &[Rings], parking: fn() -> Box<dyn Parking>) {
        let (mut lost, mut looks, mut empty) = (0u64, 0f64, 0u64);
        let (mut rung, mut answered) = (0u64, 0u64);
        for (w, shape) in shapes.iter().enumerate() {
            let counts = Arc::new(Counts::default());
            let bells: Arc<Vec<Arc<Bell>>> =
                Arc::new((0..shape.workers * 3).map(|_| Arc::default()).collect());
            // The worst moment: a worker has just looked and found nothing.
            // A thread of the harness wakes a task then, and the worker
            // waits until that push is done (or, if the push waits for the
            // worker, 300 µs).
            let (to_pusher, requests) = mpsc::channel::<Arc<Pushed>>();
            let pusher = {
                let (bells, counts) = (bells.clone(), counts.clone());
                std::thread::spawn(move || {
                    shared::record::recorder::name_lane("pusher");
                    let mut next = 0;
                    for pushed in requests {
                        *pushed.started.lock().unwrap() = Some(Instant::now());
                        next += 1;
                        ring_free(&bells, next, &counts);
                        pushed.done.store(true, SeqCst);
                        counts.pushed.fetch_add(1, SeqCst);
                    }
                })
            };
            let to_pusher = Mutex::new(to_pusher);
            let hook = {
                let counts = counts.clone();
                move |inside: bool| {
                    if counts.inside.load(SeqCst) != inside || !counts.armed.swap(false, SeqCst) {
                        return;
                    }
                    let pushed = Arc::new(Pushed::default());
                    counts.asked.fetch_add(1, SeqCst);
                    if to_pusher.lock().unwrap().send(pushed.clone()).is_err() {
                        counts.asked.fetch_sub(1, SeqCst);
                        return;
                    }
                    let asked = Instant::now();
                    while !pushed.done.load(SeqCst) && asked.elapsed() < Duration::from_millis(5) {
                        let started = *pushed.started.lock().unwrap();
                        if started.is_some_and(|t| t.elapsed() > Duration::from_micros(300)) {
                            break;
                        }
                        std::hint::spin_loop();
                    }
                }
            };
            let runtime = Runtime::with_parking(
                shape.workers,
                fixed::work_stealing,
                parking(),
                Some(Box::new(hook)),
            );
            let handle = runtime.handle();
            for bell in bells.iter() {
                let (bell, counts) = (bell.clone(), counts.clone());
                drop(
                    handle.spawn(
                        async move {
                            loop {
                                bell.free.store(true, SeqCst);
                                bell.heard().await;
                                counts.answered.fetch_add(1, SeqCst);
                            }
                        }
                        .traced("woken from outside"),
                    ),
                );
            }
            settle(
                &runtime,
                || bells.iter().all(|b| b.free.load(SeqCst)) && runtime.all_parked(),
                Duration::from_secs(2),
            );
            let looks_before = runtime.stats().idle_looks.load(SeqCst);
            let empty_before = runtime.stats().empty_wakeups.load(SeqCst);
            let mut stuck = 0;
            let mut rng = Rng::for_scenario(&format!("{}{w}", SPEC.name));
            for (i, &(together, pause)) in shape.steps.iter().enumerate() {
                counts.inside.store(i % 2 == 1, SeqCst);
                counts.armed.store(true, SeqCst);
                let step = Instant::now();
                for _ in 0..together {
                    ring_free(&bells, rng.between(0, 100) as usize, &counts);
                }
                let all_ran = || counts.answered.load(SeqCst) >= counts.rung.load(SeqCst);
                while !all_ran() && step.elapsed() < LOST_AFTER {
                    std::thread::sleep(Duration::from_micros(100));
                }
                if !all_ran() {
                    stuck += 1;
                    let rescue = Instant::now();
                    while !all_ran() && rescue.elapsed() < Duration::from_secs(1) {
                        runtime.kick();
                        std::thread::sleep(Duration::from_millis(2));
                    }
                }
                counts.armed.store(false, SeqCst);
                if stuck >= LOST_ENOUGH || !all_ran() {
                    break;
                }
                std::thread::sleep(Duration::from_micros(pause));
            }
            // A push the hook asked for may be made after the last step's
            // look (on a busy core the pusher thread can be that late): wait
            // for it, then give its task the time any step gets.
            let tail = Instant::now();
            while counts.pushed.load(SeqCst) < counts.asked.load(SeqCst)
                && tail.elapsed() < Duration::from_secs(1)
            {
                std::thread::sleep(Duration::from_micros(100));
            }
            let tail = Instant::now();
            let all_ran = || counts.answered.load(SeqCst) >= counts.rung.load(SeqCst);
            while !all_ran() && tail.elapsed() < LOST_AFTER {
                std::thread::sleep(Duration::from_micros(100));
            }
            if !all_ran() {
                stuck += 1;
            }
            let events = counts.rung.load(SeqCst).max(1);
            let idle = runtime.stats().idle_looks.load(SeqCst) - looks_before;
            looks = f64::max(looks, idle as f64 / events as f64);
            empty += runtime.stats().empty_wakeups.load(SeqCst) - empty_before;
            lost += stuck;
            rung += counts.rung.load(SeqCst);
            answered += counts.answered.load(SeqCst).min(counts.rung.load(SeqCst));
            drop(runtime);
            // It ends with the runtime's last thread (a worker that never
            // woke may keep it): not waited for.
            drop(pusher);
        }
        facts.set("wakeups_lost", lost as f64);
        facts.set("idle_looks_per_wake", looks);
        facts.set("empty_wakeups", empty as f64);
        facts.set("wakes_answered", answered as f64 / rung.max(1) as f64);
    }

    pub fn run(facts: &Facts, parking: fn() -> Box<dyn Parking>) {
        println!(
            "Workers with nothing to do sleep with {} parking; tasks are woken from outside, some of them just as a worker has looked and found nothing.",
            facts.the("idle workers'")
        );
        let shapes = Rings::shapes(&mut Rng::for_scenario(SPEC.name));
        narrate_shapes(shapes.iter().map(|s| s.name.as_str()));
        measure_shapes(facts, &shapes, parking);
        let get = |name| facts.get(name).unwrap_or(f64::NAN);
        println!(
            "{} wake-up(s) lost (a task woken, and no worker to run it for 30 ms); {} wake-up(s) with nothing new; {:.2} looks that found nothing per task woken; {:.0}% of the woken tasks ran.",
            get("wakeups_lost"),
            get("empty_wakeups"),
            get("idle_looks_per_wake"),
            get("wakes_answered") * 100.0,
        );
    }

    pub fn piece<'a, P: Parking + Default>(name: &'static str) -> Piece<'a> {
        Piece::new(name, move |facts| run(facts, || Box::new(P::default())))
    }
}

/// The exercise binary's `main`: judges the learner's parking.
pub fn exercise<P: Parking + Default>() -> ExitCode {
    shared::lesson::main(
        LESSON,
        Variant::Exercise("policy"),
        vec![parking::SPEC.with(vec![parking::piece::<P>("")])],
    )
}
