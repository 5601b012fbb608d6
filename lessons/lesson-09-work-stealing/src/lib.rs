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
//!   tokio's: look at the global queue first every 61st time.
//! - `stealing`: tasks spawned by a task land in its worker's local queue.
//!   A worker that never steals leaves its siblings idle while one queue
//!   holds all the work. The cure: steal half of a sibling's queue.

pub mod reactor;
pub mod runtime;

use runtime::{Pick, Policy, Runtime, Task};
use shared::TraceExt;
use shared::lesson::{Facts, Piece, Spec, Variant, fact};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::time::{Duration, Instant};

/// Lesson 01's executor for one future (poll, and park until woken), for
/// the thread that calls [`runtime::Runtime::block_on`].
pub use lesson_01::block_on;

/// A future that returns `Pending` once, waking itself first: "let the
/// others have a turn". Lesson 01's `YieldNow`.
pub fn yield_now() -> lesson_01::YieldNow {
    lesson_01::YieldNow::default()
}

/// How often a worker looks at the global queue first, as tokio does.
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
    /// tokio's order: every 61st time the global queue first, so that it
    /// cannot be starved; then local work; then the global queue; then
    /// half of a sibling's queue.
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

/// Polls a task that keeps waking itself may make, at most, before the
/// harness gives up on the injected task being run earlier.
pub const YIELD_CAP: u64 = 200_000;

/// The `fairness` scenario: one worker, a task that keeps waking itself,
/// and a task spawned from outside.
pub mod fairness {
    use super::*;

    pub static SPEC: Spec = Spec {
        name: "fairness",
        facts: &[fact(
            "injected_wait_polls",
            "polls the worker made between the outside task's spawn and its first poll",
        )],
    };

    /// Runs the scenario on a one-worker runtime with `policy`.
    pub fn measure(facts: &Facts, policy: Policy) {
        let runtime = Runtime::new(1, policy);
        let handle = runtime.handle();
        let injected_ran = Arc::new(AtomicBool::new(false));
        let busy = {
            let injected_ran = injected_ran.clone();
            async move {
                let mut turns = 0;
                // Yields until the outside task has run (or for a long while).
                while !injected_ran.load(SeqCst) && turns < YIELD_CAP {
                    yield_now().await;
                    turns += 1;
                }
            }
        };
        let busy = handle.spawn(busy.traced("busy (wakes itself)"));
        // Once the busy task is going, spawn from this thread: the task goes
        // to the global queue.
        while runtime.stats().polls.load(SeqCst) < 100 {
            std::thread::sleep(Duration::from_millis(1));
        }
        let (injected, task) = handle.spawn_counted(
            {
                let injected_ran = injected_ran.clone();
                async move { injected_ran.store(true, SeqCst) }
            }
            .traced("spawned from outside"),
        );
        runtime.block_on(async {
            injected.await;
            busy.await;
        });
        let waited = task.waited_polls().unwrap_or(u64::MAX);
        facts.set("injected_wait_polls", waited as f64);
    }

    pub fn run(facts: &Facts, policy: Policy) {
        println!(
            "One worker, with {} policy: a task wakes itself over and over; another is spawned from outside.",
            facts.the("pick")
        );
        measure(facts, policy);
        println!(
            "The outside task waited {} polls for its first turn.",
            facts.get("injected_wait_polls").unwrap_or(0.0)
        );
    }

    pub fn piece<'a>(name: &'static str, policy: Policy) -> Piece<'a> {
        Piece::new(name, move |facts| run(facts, policy))
    }
}

/// Jobs in the `stealing` scenario's batch.
pub const JOBS: u32 = 8;
/// CPU time of one job.
pub const JOB_TIME: Duration = Duration::from_millis(20);

/// One job: `JOB_TIME` of hashing, timed.
fn job(i: u32) -> Duration {
    let started = Instant::now();
    shared::blocking("hashing", || {
        std::hint::black_box(shared::work::cpu::burn(JOB_TIME))
    });
    std::hint::black_box(i);
    started.elapsed()
}

/// The `stealing` scenario: two workers, and a batch spawned by one task.
pub mod stealing {
    use super::*;

    pub static SPEC: Spec = Spec {
        name: "stealing",
        facts: &[
            fact(
                "workers_busy",
                "workers running jobs at once, on average (job time over the batch's time)",
            ),
            fact(
                "tasks_stolen",
                "times a worker stole from its sibling's queue",
            ),
        ],
    };

    /// Runs the batch on a two-worker runtime with `policy`; returns the
    /// batch's time.
    pub fn measure(facts: &Facts, policy: Policy) -> Duration {
        let runtime = Runtime::new(2, policy);
        let handle = runtime.handle();
        // One task spawns the batch: every job lands in its worker's queue.
        let parent = handle.spawn(
            async {
                let handle = runtime::handle();
                let started = Instant::now();
                let jobs: Vec<_> = (0..JOBS)
                    .map(|i| handle.spawn(async move { job(i) }.traced("job")))
                    .collect();
                let mut busy = Duration::ZERO;
                for j in jobs {
                    busy += j.await;
                }
                (busy, started.elapsed())
            }
            .traced("parent"),
        );
        let (busy, took) = runtime.block_on(parent);
        facts.set("workers_busy", busy.as_secs_f64() / took.as_secs_f64());
        facts.set("tasks_stolen", runtime.stats().steals.load(SeqCst) as f64);
        took
    }

    /// The same batch on tokio's multi-threaded runtime, for comparison.
    pub fn on_tokio() -> Duration {
        let tokio = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .expect("tokio starts");
        tokio.block_on(async {
            tokio::spawn(async {
                let started = Instant::now();
                let jobs: Vec<_> = (0..JOBS)
                    .map(|i| tokio::spawn(async move { job(i) }))
                    .collect();
                for j in jobs {
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
            "Two workers, with {} policy: one task spawns {JOBS} jobs of {} ms, all into its worker's queue.",
            facts.the("pick"),
            JOB_TIME.as_millis()
        );
        let took = measure(facts, policy);
        let tokio = on_tokio();
        println!(
            "The batch took {} ms ({:.2} workers busy on average, {} steals); on tokio, {} ms.",
            took.as_millis(),
            facts.get("workers_busy").unwrap_or(0.0),
            facts.get("tasks_stolen").unwrap_or(0.0),
            tokio.as_millis()
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
        "lesson-09",
        Variant::Exercise("policy"),
        vec![
            fairness::SPEC.with(vec![fairness::piece("", pick)]),
            stealing::SPEC.with(vec![stealing::piece("", pick)]),
        ],
    )
}
