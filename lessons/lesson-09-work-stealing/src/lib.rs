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

use runtime::{Pick, Policy, Runtime, Task};
use shared::TraceExt;
use shared::lesson::{Facts, Piece, Spec, Variant, fact};
use shared::work::gauge::AtOnce;
use shared::work::shape::{Rng, SEED_ENV, seed};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
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
                    || runtime.stats().polls.load(SeqCst) >= at,
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
            let now = runtime.stats().polls.load(SeqCst);
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

/// The exercise binary's `main`: judges the learner's policy in both
/// scenarios.
pub fn exercise(pick: Policy) -> ExitCode {
    shared::lesson::main(
        LESSON,
        Variant::Exercise("policy"),
        vec![
            fairness::SPEC.with(vec![fairness::piece("", pick)]),
            stealing::SPEC.with(vec![stealing::piece("", pick)]),
        ],
    )
}
