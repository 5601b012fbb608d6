//! The `cpu` grader grades, in a binary of its own (the harness counts jobs
//! computing at once across the whole process): the untouched exercise,
//! the lesson's fix, other fixes written differently, and other forms of
//! the bug. Here, on a test machine that may be busy, only the facts that
//! do not depend on its speed are judged: how many jobs computed at the
//! same moment, and whether the results are right. The speedup is judged
//! under real time by `cargo xtask check` and `cargo xtask fixtures`.

use lesson_04::{broken, cpu, fixed};
use shared::grade::{Grader, Observed};
use shared::lesson::Facts;

#[allow(dead_code)]
#[path = "fixtures/cpu/bug_futures_unordered.rs"]
mod bug_futures_unordered;
#[allow(dead_code)]
#[path = "fixtures/cpu/bug_spawn_one_task.rs"]
mod bug_spawn_one_task;
#[allow(dead_code)]
#[path = "fixtures/cpu/fix_join_set.rs"]
mod fix_join_set;
#[allow(dead_code)]
#[path = "fixtures/cpu/fix_spawn_blocking.rs"]
mod fix_spawn_blocking;
#[allow(dead_code)]
#[path = "../exercise/start/cpu.rs"]
mod start;

fn measured(run_jobs: impl AsyncFn(u32) -> Vec<u64>) -> Facts {
    let facts = Facts::for_test(&cpu::SPEC);
    let plan = cpu::Plan { jobs: 8, rounds: 1 };
    cpu::measure(&facts, &lesson_04::runtime(), plan, run_jobs);
    facts
}

#[test]
fn the_cpu_grader_tells_every_fix_from_every_form_of_the_bug() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &cpu::SPEC)
        .only(&["most_at_once", "wrong_results"]);
    let done = || Observed::Completes;
    // On one core the fixed claim is skipped, and these pass as skipped.
    grader.assert_fixed("the reference fix", done(), &measured(fixed::run_jobs));
    grader.assert_fixed("a JoinSet", done(), &measured(fix_join_set::run_jobs));
    grader.assert_fixed(
        "the blocking pool",
        done(),
        &measured(fix_spawn_blocking::run_jobs),
    );

    grader.assert_bug("the reference bug", done(), &measured(broken::run_jobs));
    grader.assert_bug("the untouched exercise", done(), &measured(start::run_jobs));
    grader.assert_bug(
        "FuturesUnordered in one task",
        done(),
        &measured(bug_futures_unordered::run_jobs),
    );
    grader.assert_bug(
        "one spawned task joining them all",
        done(),
        &measured(bug_spawn_one_task::run_jobs),
    );
}

/// No bound is out of reach on any machine from 1 to 64 cores: there are
/// always at least as many jobs as cores (up to 64), so the fixed speedup
/// of 1.3 and two jobs at once are possible wherever there are two cores,
/// and the claim is skipped where there is one.
#[test]
fn the_cpu_plan_fits_every_machine_from_1_to_64_cores() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &cpu::SPEC);
    let fixed = &grader.scenario().fixed;
    let bound = |name: &str| fixed.facts.iter().find(|b| b.name == name).unwrap();
    for cores in [1, 2, 4, 8, 16, 32, 64] {
        let plan = cpu::plan(cores);
        assert!(
            plan.jobs as usize >= cores.min(64),
            "{cores} cores: {plan:?}"
        );
        let serial_ms = plan.jobs * plan.rounds * lesson_04::JOB_TIME.as_millis() as u32;
        assert!(
            (1_000..=4_000).contains(&serial_ms),
            "{cores} cores: {serial_ms} ms of serial work"
        );
        if cores < fixed.needs_cores as usize {
            continue;
        }
        let best_speedup = cores.min(plan.jobs as usize) as f64;
        assert!(best_speedup >= bound("cpu_speedup").min.unwrap() * 1.5);
        assert!(cores.min(plan.jobs as usize) as f64 >= bound("most_at_once").min.unwrap());
    }
    assert_eq!(fixed.needs_cores, 2);
}
