//! Where each approach runs its jobs, and how many at once: facts that do
//! not depend on the machine's speed.

use lesson_07::{Batch, Shape, broken, cores, current_thread, fixed, rayon_pool};
use shared::lesson::Facts;
use shared::work::shape::Rng;
use std::time::Duration;

/// Four jobs per core (at least 8).
fn jobs() -> usize {
    (4 * cores()).clamp(8, 256)
}

/// A full batch of short jobs: what these tests check does not depend on
/// how long a job takes. Every call makes the same jobs.
fn short() -> Batch {
    Batch::of(jobs() as u64).lasting(Duration::from_millis(1))
}

/// The same, as a workload for a harness.
fn short_shape() -> [Shape; 1] {
    [Shape {
        name: "short jobs".into(),
        lengths: vec![Duration::from_millis(1); jobs()],
    }]
}

fn runtime_with(workers: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_time()
        .build()
        .unwrap()
}

#[test]
fn inline_jobs_run_on_the_runtime_workers_themselves() {
    let threads = short();
    runtime_with(2).block_on(broken::inline(threads.clone()));
    assert!(threads.distinct() <= 2, "only the two workers ran jobs");
    assert!(threads.most_at_once() <= 2);
}

#[test]
fn spawn_blocking_with_a_semaphore_runs_one_job_per_core_at_most() {
    let threads = short();
    runtime_with(2).block_on(fixed::spawn_blocking(threads.clone()));
    assert!(threads.most_at_once() <= cores());
}

#[test]
fn block_in_place_with_a_semaphore_runs_one_job_per_core_at_most() {
    let threads = short();
    runtime_with(2).block_on(fixed::block_in_place(threads.clone()));
    assert!(threads.most_at_once() <= cores());
}

#[test]
fn rayon_never_uses_more_threads_than_its_pool() {
    let pool = rayon_pool().current_num_threads();
    let spawned = short();
    runtime_with(1).block_on(fixed::rayon_spawn(spawned.clone()));
    let split = short();
    runtime_with(1).block_on(fixed::par_iter(split.clone()));
    for threads in [spawned, split] {
        assert!(threads.distinct() <= pool);
        assert!(threads.most_at_once() <= pool);
    }
}

#[test]
fn every_approach_computes_the_same_answer() {
    let rt = runtime_with(2);
    let expected = rt.block_on(broken::inline(short()));
    assert_eq!(rt.block_on(fixed::spawn_blocking(short())), expected);
    assert_eq!(rt.block_on(fixed::block_in_place(short())), expected);
    assert_eq!(rt.block_on(fixed::rayon_spawn(short())), expected);
    assert_eq!(rt.block_on(fixed::par_iter(short())), expected);
    let b = short();
    assert_eq!(expected, b.answer(), "computed by the harness itself");
    assert_eq!(b.not_once(), b.jobs() as u32, "no job of b ran");
}

#[test]
#[should_panic(expected = "can call blocking only when running on the multi-threaded runtime")]
fn block_in_place_panics_on_a_current_thread_runtime() {
    let facts = Facts::for_test(&current_thread::SPEC);
    current_thread::measure(
        &facts,
        &short_shape(),
        &mut Rng::new(1),
        broken::block_in_place,
    );
}

#[test]
fn spawn_blocking_works_on_a_current_thread_runtime() {
    let facts = Facts::for_test(&current_thread::SPEC);
    current_thread::measure(
        &facts,
        &short_shape(),
        &mut Rng::new(1),
        fixed::spawn_blocking,
    );
    assert_eq!(
        facts.get("jobs_on_runtime_thread"),
        Some(0.0),
        "the blocking pool ran every job"
    );
    assert_eq!(facts.get("wrong_sum"), Some(0.0));
    assert_eq!(facts.get("jobs_not_once"), Some(0.0));
}
