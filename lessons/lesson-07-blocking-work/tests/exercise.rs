//! The graders of lesson 07 grade: the untouched exercise, the lesson's
//! fixes, other fixes written differently, and other forms of the bug, each
//! run by the same harness under a run's two workloads in real time (the
//! claim is about threads kept busy), one after another, in a binary of its
//! own. On a test machine that may be busy, a fix is judged here only on
//! the facts that do not depend on its speed (jobs at once, where they ran,
//! each run once, the answer); a form of the bug is judged on every fact
//! when what gives it away holds on any machine: jobs one at a time never
//! average more than one, a poll that runs a job lasts as long as the job,
//! and tokio checks its timers only between polls, so workers that hash
//! job after job leave the heartbeat waiting for the batch.

use lesson_07::{Batch, Shape, approaches, broken, cores, current_thread, fixed, runtime, shapes};
use shared::grade::{Grader, Observed, observe_within};
use shared::lesson::Facts;
use shared::work::shape::Rng;
use std::future::Future;
use std::time::Duration;

#[allow(dead_code)]
#[path = "fixtures/jobs/bug_block_in_place.rs"]
mod bug_block_in_place;
#[allow(dead_code)]
#[path = "fixtures/jobs/bug_counted_from_one.rs"]
mod bug_counted_from_one;
#[allow(dead_code)]
#[path = "fixtures/jobs/bug_not_awaited.rs"]
mod bug_not_awaited;
#[allow(dead_code)]
#[path = "fixtures/jobs/bug_one_task_yielding.rs"]
mod bug_one_task_yielding;
#[allow(dead_code)]
#[path = "fixtures/jobs/bug_par_iter_inline.rs"]
mod bug_par_iter_inline;
#[allow(dead_code)]
#[path = "fixtures/jobs/bug_sleep_between_checks.rs"]
mod bug_sleep_between_checks;
#[allow(dead_code)]
#[path = "fixtures/jobs/bug_spawn_blocking_unlimited.rs"]
mod bug_spawn_blocking_unlimited;
#[allow(dead_code)]
#[path = "fixtures/jobs/bug_try_recv_spin.rs"]
mod bug_try_recv_spin;
#[allow(dead_code)]
#[path = "fixtures/jobs/fix_blocking_threads_per_core.rs"]
mod fix_blocking_threads_per_core;
#[allow(dead_code)]
#[path = "fixtures/jobs/fix_buffer_unordered.rs"]
mod fix_buffer_unordered;
#[allow(dead_code)]
#[path = "fixtures/jobs/fix_rayon_scope.rs"]
mod fix_rayon_scope;
#[allow(dead_code)]
#[path = "../exercise/start/jobs.rs"]
mod start;

/// Two short workloads, for what does not depend on the jobs' length:
/// four jobs per core of 8 ms, then three per core of 2 to 14 ms.
fn short() -> Vec<Shape> {
    let ms = Duration::from_millis;
    let n = (4 * cores()).clamp(8, 256);
    let m = (3 * cores()).clamp(8, 256);
    vec![
        Shape {
            name: "even".into(),
            lengths: vec![ms(8); n],
        },
        Shape {
            name: "uneven".into(),
            lengths: (0..m).map(|i| ms(2 + (i as u64 * 5) % 13)).collect(),
        },
    ]
}

/// The lesson's own workloads, for a claim about the heartbeat.
fn real(rng: &mut Rng) -> Vec<Shape> {
    shapes(cores(), rng)
}

fn on_workers_with<Fut>(
    workloads: fn(&mut Rng) -> Vec<Shape>,
    approach: fn(Batch) -> Fut,
) -> (Observed, Facts)
where
    Fut: Future<Output = u64> + 'static,
{
    let facts = Facts::for_test(&approaches::SPEC);
    let theirs = facts.clone();
    let observed = observe_within(Duration::from_secs(30), move || {
        let mut rng = Rng::for_scenario("approaches");
        let shapes = workloads(&mut rng);
        approaches::measure(&theirs, &runtime(), &shapes, &mut rng, approach);
    });
    (observed, facts)
}

fn on_workers<Fut>(approach: fn(Batch) -> Fut) -> (Observed, Facts)
where
    Fut: Future<Output = u64> + 'static,
{
    on_workers_with(|_| short(), approach)
}

fn on_one_thread<Fut>(approach: fn(Batch) -> Fut) -> (Observed, Facts)
where
    Fut: Future<Output = u64> + 'static,
{
    let facts = Facts::for_test(&current_thread::SPEC);
    let theirs = facts.clone();
    let observed = observe_within(Duration::from_secs(30), move || {
        let mut rng = Rng::for_scenario("current-thread");
        current_thread::measure(&theirs, &short(), &mut rng, approach);
    });
    (observed, facts)
}

/// A fix keeps no more jobs at once than there are cores, so its cores
/// cannot be more than all busy: on any machine, the average is at most
/// the most.
fn loosely_in_order(what: &str, f: &Facts) {
    let usage = f.get("core_usage").unwrap();
    let most = f.get("oversubscription").unwrap();
    assert!(usage <= most + 1e-9, "{what}: {:?}", f.values());
}

fn workers() -> Grader {
    Grader::new(env!("CARGO_MANIFEST_DIR"), &approaches::SPEC)
}

fn one_thread() -> Grader {
    Grader::new(env!("CARGO_MANIFEST_DIR"), &current_thread::SPEC)
}

#[test]
fn on_the_workers_every_fix_is_judged_fixed() {
    let workers_exact = workers().only(&[
        "oversubscription",
        "wrong_sum",
        "jobs_not_once",
        "polls_per_job",
    ]);
    for (what, (o, f)) in [
        (
            "spawn_blocking, per core",
            on_workers(fixed::spawn_blocking),
        ),
        (
            "block_in_place, per core",
            on_workers(fixed::block_in_place),
        ),
        ("rayon::spawn", on_workers(fixed::rayon_spawn)),
        ("par_iter", on_workers(fixed::par_iter)),
        (
            "par_iter inside spawn_blocking",
            on_workers(fix_rayon_scope::run_jobs),
        ),
        (
            "a blocking thread per core",
            on_workers(fix_blocking_threads_per_core::run_jobs),
        ),
        (
            "spawn_blocking, buffered per core",
            on_workers(fix_buffer_unordered::run_jobs),
        ),
        (
            "block_in_place, on a multi-threaded runtime",
            on_workers(bug_block_in_place::run_jobs),
        ),
    ] {
        workers_exact.assert_fixed(what, o, &f);
        loosely_in_order(what, &f);
    }
}

#[test]
fn on_the_workers_every_form_of_the_bug_is_judged_not_fixed() {
    let workers = workers();
    let (o, f) = on_workers_with(real, broken::inline);
    workers.assert_bug("the reference bug", o, &f);
    let (o, f) = on_workers_with(real, start::run_jobs);
    workers.assert_bug("the untouched exercise", o, &f);
    if cores() >= 2 {
        // On one core, one task hashing is all the core can do anyway.
        let (o, f) = on_workers(bug_one_task_yielding::run_jobs);
        assert!(
            f.get("core_usage").unwrap() <= 1.0 / cores() as f64 + 1e-9,
            "one job at a time: {:?}",
            f.values()
        );
        workers.assert_not_fixed("one task, yielding between jobs", o, &f);
    }
    for (what, (o, f)) in [
        (
            "spawn_blocking with no limit",
            on_workers(bug_spawn_blocking_unlimited::run_jobs),
        ),
        (
            "par_iter right in the task",
            on_workers(bug_par_iter_inline::run_jobs),
        ),
        (
            "jobs counted from 1",
            on_workers(bug_counted_from_one::run_jobs),
        ),
    ] {
        if let Some(ids) = diagnosed_as(what) {
            assert_eq!(workers.diagnoses(o.clone(), &f), ids, "{}", what);
        }
        workers.assert_not_fixed(what, o, &f);
    }
    // Last: its jobs go on running after it returns.
    let (o, f) = on_workers(bug_not_awaited::run_jobs);
    workers.assert_not_fixed("jobs not waited for", o, &f);
}

#[test]
fn on_one_thread_the_fixes_are_told_from_the_bugs() {
    let one_thread = one_thread();
    let one_thread_exact = one_thread.only(&[
        "jobs_on_runtime_thread",
        "wrong_sum",
        "jobs_not_once",
        "polls_per_job",
    ]);
    for (what, (o, f)) in [
        (
            "spawn_blocking, on one thread",
            on_one_thread(fixed::spawn_blocking),
        ),
        (
            "rayon::spawn, on one thread",
            on_one_thread(fixed::rayon_spawn),
        ),
        (
            "par_iter inside spawn_blocking, on one thread",
            on_one_thread(fix_rayon_scope::run_jobs),
        ),
        (
            "spawn_blocking, buffered per core, on one thread",
            on_one_thread(fix_buffer_unordered::run_jobs),
        ),
    ] {
        one_thread_exact.assert_fixed(what, o, &f);
    }
    let (o, f) = on_one_thread(broken::block_in_place);
    one_thread.assert_bug("the reference bug", o, &f);
    let (o, f) = on_one_thread(bug_block_in_place::run_jobs);
    one_thread.assert_diagnosed(
        "block_in_place with a semaphore",
        o.clone(),
        &f,
        &["block-in-place"],
    );
    one_thread.assert_bug("block_in_place with a semaphore", o, &f);
    for (what, (o, f)) in [
        (
            "the untouched exercise, on one thread",
            on_one_thread(start::run_jobs),
        ),
        (
            "one task, yielding between jobs, on one thread",
            on_one_thread(bug_one_task_yielding::run_jobs),
        ),
        (
            "par_iter right in the task, on one thread",
            on_one_thread(bug_par_iter_inline::run_jobs),
        ),
    ] {
        if let Some(ids) = diagnosed_as(what) {
            assert_eq!(one_thread.diagnoses(o.clone(), &f), ids, "{}", what);
        }
        one_thread.assert_not_fixed(what, o, &f);
    }
}

/// Jobs off the runtime's threads, but awaited by holding the thread that
/// polls `run_jobs`: a spin on a channel, yielding, is polled again at once
/// after every poll for the whole batch, on either runtime; a blocking
/// sleep between checks keeps that thread asleep inside its polls for
/// almost all of the batch, however busy the machine (Linux tells).
#[test]
fn jobs_awaited_by_holding_the_thread_are_not_a_fix() {
    let (workers, one_thread) = (workers(), one_thread());
    let (o, f) = on_workers_with(real, bug_try_recv_spin::run_jobs);
    assert!(f.get("polls_per_job").unwrap() > 6.0, "{:?}", f.values());
    workers.assert_diagnosed("a spin on try_recv", o.clone(), &f, &["checks-in-a-loop"]);
    workers.assert_not_fixed("a spin on try_recv", o, &f);
    let (o, f) = on_one_thread(bug_try_recv_spin::run_jobs);
    assert!(f.get("polls_per_job").unwrap() > 6.0, "{:?}", f.values());
    one_thread.assert_diagnosed(
        "a spin on try_recv, on one thread",
        o.clone(),
        &f,
        &["checks-in-a-loop"],
    );
    one_thread.assert_not_fixed("a spin on try_recv, on one thread", o, &f);
    if cfg!(target_os = "linux") {
        let (o, f) = on_workers(bug_sleep_between_checks::run_jobs);
        assert!(f.get("asleep_share").unwrap() > 0.5, "{:?}", f.values());
        workers.assert_not_fixed("a blocking sleep between checks", o, &f);
        let (o, f) = on_one_thread(bug_sleep_between_checks::run_jobs);
        assert!(f.get("asleep_share").unwrap() > 0.5, "{:?}", f.values());
        one_thread.assert_not_fixed("a blocking sleep between checks, on one thread", o, &f);
    }
}

/// No bound is out of reach on any machine from 1 to 64 cores: a batch
/// always has several jobs per core (so the cores can all be kept busy),
/// stays under the blocking pool's 512 threads, and takes about the same
/// time everywhere.
#[test]
fn the_workloads_fit_every_machine_from_1_to_64_cores() {
    for cores in [1, 2, 4, 8, 16, 32, 64] {
        for seed in 0..50 {
            for shape in shapes(cores, &mut Rng::new(seed)) {
                let jobs = shape.lengths.len();
                assert!(jobs >= 2 * cores.min(64), "{cores} cores: {shape:?}");
                assert!(jobs <= 512);
                let rounds = jobs.div_ceil(cores);
                assert!(
                    (3..=8).contains(&rounds),
                    "{cores} cores: {rounds} jobs per core"
                );
            }
        }
    }
}

/// The diagnoses a learner is shown for each wrong fix named here (its
/// manifest's `[[exercise.diagnosis]]`); `None`: not pinned down, as its
/// facts vary with the machine or the run.
fn diagnosed_as(what: &str) -> Option<&'static [&'static str]> {
    Some(match what {
        "the untouched exercise, on one thread" => &["on-the-runtime-thread"],
        "one task, yielding between jobs, on one thread" => &["on-the-runtime-thread"],
        "spawn_blocking with no limit" => &["too-many-threads"],
        _ => return None,
    })
}
