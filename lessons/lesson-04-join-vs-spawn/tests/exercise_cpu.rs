//! The `cpu` grader grades, in a binary of its own (a batch of jobs is the
//! process's current batch while it runs): the untouched exercise, the
//! lesson's fix, other fixes written differently, and other forms of the
//! bug, under two short workloads. On a test machine that may be busy, a
//! fix is judged here only on the facts that do not depend on its speed
//! (how many jobs computed at the same moment, the results, the runs); a
//! form of the bug is judged on everything, since what gives it away holds
//! on any machine (jobs that take turns on one thread never overlap). The
//! workloads the lesson really runs are judged under real time by `cargo
//! xtask check` and `cargo xtask fixtures`.

use lesson_04::cpu::{self, Shape};
use lesson_04::{broken, fixed};
use shared::grade::{Grader, Observed};
use shared::lesson::Facts;
use shared::work::shape::Rng;
use std::time::Duration;

#[allow(dead_code)]
#[path = "fixtures/cpu/bug_futures_unordered.rs"]
mod bug_futures_unordered;
#[allow(dead_code)]
#[path = "fixtures/cpu/bug_off_by_one.rs"]
mod bug_off_by_one;
#[allow(dead_code)]
#[path = "fixtures/cpu/bug_one_spawned.rs"]
mod bug_one_spawned;
#[allow(dead_code)]
#[path = "fixtures/cpu/bug_rayon_block_on.rs"]
mod bug_rayon_block_on;
#[allow(dead_code)]
#[path = "fixtures/cpu/bug_sleep_between_checks.rs"]
mod bug_sleep_between_checks;
#[allow(dead_code)]
#[path = "fixtures/cpu/bug_spawn_one_task.rs"]
mod bug_spawn_one_task;
#[allow(dead_code)]
#[path = "fixtures/cpu/bug_spawned_and_inline.rs"]
mod bug_spawned_and_inline;
#[allow(dead_code)]
#[path = "fixtures/cpu/bug_spin_until_finished.rs"]
mod bug_spin_until_finished;
#[allow(dead_code)]
#[path = "fixtures/cpu/fix_chunks_per_core.rs"]
mod fix_chunks_per_core;
#[allow(dead_code)]
#[path = "fixtures/cpu/fix_join_set.rs"]
mod fix_join_set;
#[allow(dead_code)]
#[path = "fixtures/cpu/fix_spawn_blocking.rs"]
mod fix_spawn_blocking;
#[allow(dead_code)]
#[path = "../exercise/start/cpu.rs"]
mod start;

/// Two short workloads: twelve jobs of 5 ms, and thirteen of 2 to 8 ms.
fn shapes() -> Vec<Shape> {
    let ms = Duration::from_millis;
    vec![
        Shape {
            name: "even".into(),
            lengths: vec![ms(5); 12],
        },
        Shape {
            name: "uneven".into(),
            lengths: (0..13).map(|i| ms(2 + i % 7)).collect(),
        },
    ]
}

fn measured(run_jobs: impl AsyncFn(u32) -> Vec<u64>) -> Facts {
    let facts = Facts::for_test(&cpu::SPEC);
    let mut rng = Rng::for_scenario("cpu");
    cpu::measure(&facts, &lesson_04::runtime(), &shapes(), &mut rng, run_jobs);
    facts
}

#[test]
fn the_cpu_grader_tells_every_fix_from_every_form_of_the_bug() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &cpu::SPEC);
    let exact = grader.only(&[
        "most_at_once",
        "wrong_results",
        "extra_runs",
        "polls_per_job",
    ]);
    let done = || Observed::Completes;
    // On one core the fixed claim is skipped, and these pass as skipped.
    // A machine busy with other work may run a whole short batch on one
    // worker, while the other waits for a core: a fix gets three tries to
    // show two jobs at once. (No form of the bug below can, however many
    // tries it gets: its jobs share one thread.)
    let fixed_in_three_tries = |what: &str, f: &dyn Fn() -> Facts| {
        let mut facts = f();
        for _ in 0..2 {
            let j = exact.against_fixed(done(), &facts);
            if j.ok() || j.skipped() {
                break;
            }
            facts = f();
        }
        exact.assert_fixed(what, done(), &facts);
    };
    fixed_in_three_tries("the reference fix", &|| measured(fixed::run_jobs));
    fixed_in_three_tries("a JoinSet", &|| measured(fix_join_set::run_jobs));
    fixed_in_three_tries("the blocking pool", &|| {
        measured(fix_spawn_blocking::run_jobs)
    });
    fixed_in_three_tries("a task per core", &|| {
        measured(fix_chunks_per_core::run_jobs)
    });

    // Jobs that take turns on one thread: at most one at a time, and an
    // average of at most one, on any machine.
    for (what, f) in [
        ("the reference bug", measured(broken::run_jobs)),
        ("the untouched exercise", measured(start::run_jobs)),
        (
            "FuturesUnordered in one task",
            measured(bug_futures_unordered::run_jobs),
        ),
        (
            "one spawned task joining them all",
            measured(bug_spawn_one_task::run_jobs),
        ),
    ] {
        assert!(
            f.get("overlap").unwrap() <= 1.0 + 1e-9,
            "{what}: {:?}",
            f.values()
        );
        grader.assert_bug(what, done(), &f);
        if shared::work::cpu::cores() >= 2 {
            grader.assert_diagnosed(what, done(), &f, &["one-thread"]);
        }
    }
    grader.assert_not_fixed(
        "counted from 0",
        done(),
        &measured(bug_off_by_one::run_jobs),
    );
    let f = measured(bug_spawned_and_inline::run_jobs);
    assert!(f.get("extra_runs").unwrap() >= 1.0, "{:?}", f.values());
    grader.assert_not_fixed("spawned, then computed again", done(), &f);
}

/// Jobs that run in parallel while `run_jobs` holds or wastes the thread
/// that polls it: a spin is polled thousands of times a batch, on any
/// machine; a thread that waits inside `run_jobs`' polls (blocked for the
/// whole batch, or asleep a millisecond at a time) is asleep there for
/// almost all of the batch, however busy the machine (Linux tells).
#[test]
fn parallel_jobs_waited_for_by_holding_the_thread_are_not_a_fix() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &cpu::SPEC);
    let done = || Observed::Completes;
    let f = measured(bug_spin_until_finished::run_jobs);
    assert!(f.get("polls_per_job").unwrap() > 100.0, "{:?}", f.values());
    let what = "a spin until every task finished";
    grader.assert_not_fixed(what, done(), &f);
    if shared::work::cpu::cores() >= 2 {
        grader.assert_diagnosed(what, done(), &f, &["checks-in-a-loop"]);
    }
    if cfg!(target_os = "linux") {
        for (what, f) in [
            (
                "rayon, each job run by block_on, the batch awaited by none",
                measured(bug_rayon_block_on::run_jobs),
            ),
            (
                "a blocking sleep between checks",
                measured(bug_sleep_between_checks::run_jobs),
            ),
        ] {
            assert!(
                f.get("asleep_share").unwrap() > 0.5,
                "{what}: {:?}",
                f.values()
            );
            grader.assert_not_fixed(what, done(), &f);
        }
    }
}

/// A half fix that overlaps two jobs once is caught by the average: one
/// job spawned beside the others joined in one task cannot average more
/// than about one job at a time plus that one job's share.
#[test]
fn one_spawned_job_is_not_parallelism() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &cpu::SPEC);
    let ms = Duration::from_millis;
    let facts = Facts::for_test(&cpu::SPEC);
    let long = [Shape {
        name: "twenty jobs of 5 ms".into(),
        lengths: vec![ms(5); 20],
    }];
    let mut rng = Rng::for_scenario("cpu");
    cpu::measure(
        &facts,
        &lesson_04::runtime(),
        &long,
        &mut rng,
        bug_one_spawned::run_jobs,
    );
    grader.assert_not_fixed("one job spawned", Observed::Completes, &facts);
}

/// No bound is out of reach on any machine from 1 to 64 cores: there are
/// always at least two jobs per core (up to 64 cores), so two jobs at once
/// and an average well above 1.3 are possible wherever there are two
/// cores, and the claim is skipped where there is one.
#[test]
fn the_cpu_workloads_fit_every_machine_from_1_to_64_cores() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &cpu::SPEC);
    let fixed = &grader.scenario().fixed;
    assert_eq!(fixed.needs_cores, 2);
    for cores in [1, 2, 4, 8, 16, 32, 64] {
        for seed in 0..50 {
            let shapes = cpu::shapes(cores, &mut Rng::new(seed));
            assert_eq!(shapes.len(), 2);
            for s in &shapes {
                assert!(s.jobs() as usize >= 2 * cores, "{cores} cores: {s:?}");
                let serial = s.serial();
                assert!(
                    serial >= Duration::from_millis(20) && serial <= Duration::from_millis(2600),
                    "{cores} cores: {serial:?} of serial work"
                );
            }
        }
    }
}
