//! The graders of lesson 07 grade: the untouched exercise, the lesson's
//! fixes, other fixes written differently, and other forms of the bug, each
//! run by the same harness in real time (the claim is about threads kept
//! busy), one after another, in a binary of its own.

use lesson_07::{Batch, approaches, broken, current_thread, fixed, runtime};
use shared::grade::{Grader, Observed, observe_within};
use shared::lesson::Facts;
use std::future::Future;
use std::time::Duration;

#[allow(dead_code)]
#[path = "fixtures/jobs/bug_block_in_place.rs"]
mod bug_block_in_place;
#[allow(dead_code)]
#[path = "fixtures/jobs/bug_one_task_yielding.rs"]
mod bug_one_task_yielding;
#[allow(dead_code)]
#[path = "fixtures/jobs/bug_spawn_blocking_unlimited.rs"]
mod bug_spawn_blocking_unlimited;
#[allow(dead_code)]
#[path = "fixtures/jobs/fix_blocking_threads_per_core.rs"]
mod fix_blocking_threads_per_core;
#[allow(dead_code)]
#[path = "fixtures/jobs/fix_rayon_scope.rs"]
mod fix_rayon_scope;
#[allow(dead_code)]
#[path = "../exercise/start/jobs.rs"]
mod start;

fn on_workers<Fut>(approach: fn(Batch) -> Fut) -> (Observed, Facts)
where
    Fut: Future<Output = u64> + 'static,
{
    let facts = Facts::for_test(&approaches::SPEC);
    let theirs = facts.clone();
    let observed = observe_within(Duration::from_secs(30), move || {
        approaches::measure(&theirs, &runtime(), Batch::default(), approach)
    });
    (observed, facts)
}

fn on_one_thread<Fut>(approach: fn(Batch) -> Fut) -> (Observed, Facts)
where
    Fut: Future<Output = u64> + 'static,
{
    let facts = Facts::for_test(&current_thread::SPEC);
    let theirs = facts.clone();
    let observed = observe_within(Duration::from_secs(30), move || {
        current_thread::measure(&theirs, Batch::default(), approach)
    });
    (observed, facts)
}

#[test]
fn the_graders_tell_every_fix_from_every_form_of_the_bug() {
    let workers = Grader::new(env!("CARGO_MANIFEST_DIR"), &approaches::SPEC);
    let one_thread = Grader::new(env!("CARGO_MANIFEST_DIR"), &current_thread::SPEC);

    let (o, f) = on_workers(fixed::spawn_blocking);
    workers.assert_fixed("spawn_blocking, per core", o, &f);
    let (o, f) = on_workers(fixed::block_in_place);
    workers.assert_fixed("block_in_place, per core", o, &f);
    let (o, f) = on_workers(fixed::rayon_spawn);
    workers.assert_fixed("rayon::spawn", o, &f);
    let (o, f) = on_workers(fixed::par_iter);
    workers.assert_fixed("par_iter", o, &f);
    let (o, f) = on_workers(fix_rayon_scope::run_jobs);
    workers.assert_fixed("par_iter inside spawn_blocking", o, &f);
    let (o, f) = on_workers(fix_blocking_threads_per_core::run_jobs);
    workers.assert_fixed("a blocking thread per core", o, &f);
    let (o, f) = on_workers(bug_block_in_place::run_jobs);
    workers.assert_fixed("block_in_place, on a multi-threaded runtime", o, &f);

    let (o, f) = on_workers(broken::inline);
    workers.assert_bug("the reference bug", o, &f);
    let (o, f) = on_workers(start::run_jobs);
    workers.assert_bug("the untouched exercise", o, &f);
    if lesson_07::cores() >= 2 {
        // On one core, one task hashing is all the core can do anyway.
        let (o, f) = on_workers(bug_one_task_yielding::run_jobs);
        workers.assert_not_fixed("one task, yielding between jobs", o, &f);
    }
    let (o, f) = on_workers(bug_spawn_blocking_unlimited::run_jobs);
    workers.assert_not_fixed("spawn_blocking with no limit", o, &f);

    let (o, f) = on_one_thread(fixed::spawn_blocking);
    one_thread.assert_fixed("spawn_blocking, on one thread", o, &f);
    let (o, f) = on_one_thread(fixed::rayon_spawn);
    one_thread.assert_fixed("rayon::spawn, on one thread", o, &f);
    let (o, f) = on_one_thread(fix_rayon_scope::run_jobs);
    one_thread.assert_fixed("par_iter inside spawn_blocking, on one thread", o, &f);
    let (o, f) = on_one_thread(broken::block_in_place);
    one_thread.assert_bug("the reference bug", o, &f);
    let (o, f) = on_one_thread(bug_block_in_place::run_jobs);
    one_thread.assert_bug("block_in_place with a semaphore", o, &f);
    let (o, f) = on_one_thread(start::run_jobs);
    one_thread.assert_not_fixed("the untouched exercise, on one thread", o, &f);
    let (o, f) = on_one_thread(bug_one_task_yielding::run_jobs);
    one_thread.assert_not_fixed("one task, yielding between jobs, on one thread", o, &f);
}

/// No bound is out of reach on any machine from 1 to 64 cores: a batch
/// always has several jobs per core (so the cores can all be kept busy),
/// stays under the blocking pool's 512 threads, and takes about the same
/// time everywhere.
#[test]
fn the_plan_fits_every_machine_from_1_to_64_cores() {
    for cores in [1, 2, 4, 8, 16, 32, 64] {
        let plan = lesson_07::plan(cores);
        assert!(plan.jobs >= 2 * cores as u64, "{cores} cores: {plan:?}");
        assert!(plan.jobs <= 512);
        let rounds = plan.jobs.div_ceil(cores as u64);
        assert!(
            (4..=8).contains(&rounds),
            "{cores} cores: {rounds} jobs per core"
        );
    }
}
