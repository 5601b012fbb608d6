//! The grader of lesson 09 judges each policy in both scenarios, under the
//! workloads drawn for this run, on what the runtime and the harness count:
//! polls before each outside task's first turn, tasks that never finished,
//! jobs running at once, steals. The busy time of the workers is a time,
//! judged by `cargo xtask check`; here only its bound for a worker that
//! runs every job itself, which no machine can beat.
//!
//! Policies tuned to one workload are judged under a workload made to show
//! it every time.

use lesson_09::runtime::Policy;
use lesson_09::{Injections, Waves, broken, fairness, fixed, stealing};
use shared::grade::{Grader, Observed};
use shared::lesson::Facts;
use shared::work::shape::seed;
use std::time::Duration;

#[allow(dead_code)]
#[path = "fixtures/policy/bug_fair_but_never_steals.rs"]
mod bug_fair_but_never_steals;
#[allow(dead_code)]
#[path = "fixtures/policy/bug_fair_only_at_start_up.rs"]
mod bug_fair_only_at_start_up;
#[allow(dead_code)]
#[path = "fixtures/policy/bug_steals_but_local_first.rs"]
mod bug_steals_but_local_first;
#[allow(dead_code)]
#[path = "fixtures/policy/bug_steals_to_get_started.rs"]
mod bug_steals_to_get_started;
#[allow(dead_code)]
#[path = "fixtures/policy/bug_takes_local_then_global.rs"]
mod bug_takes_local_then_global;
#[allow(dead_code)]
#[path = "fixtures/policy/fix_global_first_always.rs"]
mod fix_global_first_always;
#[allow(dead_code)]
#[path = "fixtures/policy/fix_own_count.rs"]
mod fix_own_count;
#[allow(dead_code)]
#[path = "fixtures/policy/fix_steal_before_global.rs"]
mod fix_steal_before_global;
#[allow(dead_code)]
#[path = "../exercise/start/policy.rs"]
mod start;

/// The facts counted exactly.
const STEAL_COUNTS: &[&str] = &["jobs_at_once", "tasks_stolen", "tasks_lost"];

struct Judged {
    fairness: Facts,
    stealing: Facts,
}

/// Both scenarios under this run's workloads.
fn judged(policy: Policy) -> Judged {
    let f = Facts::for_test(&fairness::SPEC);
    fairness::measure(&f, policy);
    let s = Facts::for_test(&stealing::SPEC);
    stealing::measure(&s, policy);
    Judged {
        fairness: f,
        stealing: s,
    }
}

fn get(facts: &Facts, name: &str) -> f64 {
    facts
        .get(name)
        .unwrap_or_else(|| panic!("{name} was measured (seed {})", seed()))
}

fn fair() -> Grader {
    Grader::new(env!("CARGO_MANIFEST_DIR"), &fairness::SPEC)
}

fn steal() -> Grader {
    Grader::new(env!("CARGO_MANIFEST_DIR"), &stealing::SPEC).only(STEAL_COUNTS)
}

/// One worker alone all the time runs its jobs one after another: their
/// times add up to the batch's time at most, on any machine.
fn assert_one_worker_busy(what: &str, facts: &Facts) {
    let busy = get(facts, "workers_busy");
    assert!(
        busy <= 1.05,
        "{what}: workers_busy {busy} (seed {})",
        seed()
    );
}

#[test]
fn the_grader_judges_every_fix_fixed() {
    let done = || Observed::Completes;
    for (what, policy) in [
        ("the reference fix", fixed::work_stealing as Policy),
        (
            "the global queue first, always",
            fix_global_first_always::pick,
        ),
        (
            "every 31st pick, stealing first",
            fix_steal_before_global::pick,
        ),
        ("a count of its own, every 50th pick", fix_own_count::pick),
    ] {
        let j = judged(policy);
        fair().assert_fixed(what, done(), &j.fairness);
        steal().assert_fixed(what, done(), &j.stealing);
    }
}

#[test]
fn the_grader_judges_every_form_of_the_bug_not_fixed() {
    let done = || Observed::Completes;
    let j = judged(broken::local_first);
    assert_eq!(
        fair().diagnoses(done(), &j.fairness),
        ["global-starved"],
        "local first"
    );
    fair().assert_bug("local first", done(), &j.fairness);
    let j = judged(broken::no_stealing);
    assert_eq!(
        steal().diagnoses(done(), &j.stealing),
        ["never-steals"],
        "no stealing"
    );
    steal().assert_bug("no stealing", done(), &j.stealing);
    assert_one_worker_busy("no stealing", &j.stealing);

    let j = judged(start::pick);
    assert_eq!(
        fair().diagnoses(done(), &j.fairness),
        ["global-starved"],
        "the untouched exercise (fairness)"
    );
    fair().assert_bug("the untouched exercise (fairness)", done(), &j.fairness);
    assert_eq!(
        steal().diagnoses(done(), &j.stealing),
        ["never-steals"],
        "the untouched exercise (stealing)"
    );
    steal().assert_bug("the untouched exercise (stealing)", done(), &j.stealing);
    assert_one_worker_busy("the untouched exercise", &j.stealing);

    let j = judged(bug_steals_but_local_first::pick);
    assert_eq!(
        fair().diagnoses(done(), &j.fairness),
        ["global-starved"],
        "stealing, but local first"
    );
    fair().assert_bug("stealing, but local first", done(), &j.fairness);
    steal().assert_fixed("stealing, but local first", done(), &j.stealing);

    let j = judged(bug_fair_but_never_steals::pick);
    fair().assert_fixed("fair, but never stealing", done(), &j.fairness);
    assert_eq!(
        steal().diagnoses(done(), &j.stealing),
        ["never-steals"],
        "fair, but never stealing"
    );
    steal().assert_bug("fair, but never stealing", done(), &j.stealing);

    // Taking the local task before looking at the global queue drops it
    // whenever the global queue has something: a busy task is lost at every
    // outside spawn.
    let j = judged(bug_takes_local_then_global::pick);
    assert!(
        fair().diagnoses(done(), &j.fairness).is_empty(),
        "the local task taken up front"
    );
    fair().assert_not_fixed("the local task taken up front", done(), &j.fairness);
    assert!(get(&j.fairness, "tasks_lost") >= 1.0);
}

#[test]
fn a_policy_tuned_to_one_workload_fails_another() {
    let done = || Observed::Completes;
    // Fair for the first 256 picks only: outside tasks after 1000 and 2000
    // polls wait for the busy task to give up.
    let late = [Injections {
        name: "outside tasks after 1000 and 2000 polls".into(),
        busy: 1,
        at_polls: vec![1_000, 2_000],
    }];
    let facts = Facts::for_test(&fairness::SPEC);
    fairness::measure_shapes(&facts, &late, bug_fair_only_at_start_up::pick);
    assert_eq!(
        fair().diagnoses(done(), &facts),
        ["global-starved"],
        "fair only at start-up"
    );
    fair().assert_bug("fair only at start-up", done(), &facts);
    let facts = Facts::for_test(&fairness::SPEC);
    fairness::measure_shapes(&facts, &late, fixed::work_stealing);
    fair().assert_fixed("the reference fix, outside tasks late", done(), &facts);

    // Stealing only on a worker's first pick: the second batch stays on one
    // worker (or, if the idle worker was slow to wake, the first did).
    let two = [Waves {
        name: "two batches of 6 jobs of 10 ms".into(),
        jobs: vec![6, 6],
        job_time: Duration::from_millis(10),
    }];
    let facts = Facts::for_test(&stealing::SPEC);
    stealing::measure_shapes(&facts, &two, bug_steals_to_get_started::pick);
    assert!(
        steal().diagnoses(done(), &facts).is_empty(),
        "stealing to get started"
    );
    steal().assert_not_fixed("stealing to get started", done(), &facts);
    assert_eq!(get(&facts, "jobs_at_once"), 1.0);
    let facts = Facts::for_test(&stealing::SPEC);
    stealing::measure_shapes(&facts, &two, fixed::work_stealing);
    steal().assert_fixed("the reference fix, two batches", done(), &facts);
}
