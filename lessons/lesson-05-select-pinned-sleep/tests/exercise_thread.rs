//! Workers and readers that never let paused time move (they yield, or
//! sleep the thread, instead of waiting), run in real time in a binary of
//! its own with a single test: what the harness measures of the runtime's
//! thread (its time asleep, the CPU time of a stretch without a rest) is
//! measured on the whole process, so nothing else may run beside it.
//!
//! What is asserted holds on any machine: a spin is polled hundreds of
//! times per item however slow the machine, a sleep lasts at least what it
//! asked for (the time asleep is measured on Linux only), and a correct
//! worker neither sleeps inside its polls nor computes for milliseconds
//! without a rest, however busy the machine (CPU time is not stretched by
//! waiting, and waiting for a core is not counted as sleeping). Each
//! program runs one shape only, the steady one, to keep the test short.

use lesson_05::{Numbers, Progress, Reports, Work, fixed, quiet, report, runtime};
use shared::grade::{Grader, Observed};
use shared::lesson::Facts;
use shared::work::shape::Rng;

#[allow(dead_code)]
#[path = "fixtures/report/bug_blocking_reporter_task.rs"]
mod bug_blocking_reporter_task;
#[allow(dead_code)]
#[path = "fixtures/report/bug_short_sleep_every_turn.rs"]
mod bug_short_sleep_every_turn_report;
#[allow(dead_code)]
#[path = "fixtures/report/bug_sleep_then_yield.rs"]
mod bug_sleep_then_yield;
#[allow(dead_code)]
#[path = "fixtures/report/bug_yield_spin.rs"]
mod bug_yield_spin_report;
#[allow(dead_code)]
#[path = "fixtures/report/fix_reporter_task.rs"]
mod fix_reporter_task;

#[allow(dead_code)]
#[path = "fixtures/deadline/bug_block_for_the_quiet.rs"]
mod bug_block_for_the_quiet;
#[allow(dead_code)]
#[path = "fixtures/report/bug_sleep_never_reset.rs"]
mod bug_sleep_never_reset;
#[allow(dead_code)]
#[path = "fixtures/deadline/bug_yield_spin.rs"]
mod bug_yield_spin_deadline;

/// The steady shape of `seed`'s work, in real time.
fn worker_run(seed: u64, worker: impl AsyncFn(Work, Reports)) -> Facts {
    let facts = Facts::for_test(&report::SPEC);
    let steady = report::shapes(&mut Rng::new(seed)).swap_remove(0);
    runtime().block_on(report::measure(&facts, vec![steady], worker));
    facts
}

/// One shape of `seed`'s streams (0 steady, 1 bursts), in real time.
fn reader_run(seed: u64, shape: usize, read: impl AsyncFn(Numbers, Progress) -> u32) -> Facts {
    let facts = Facts::for_test(&quiet::SPEC);
    let one = quiet::shapes(&mut Rng::new(seed)).swap_remove(shape);
    runtime().block_on(quiet::measure(&facts, &[one], read));
    facts
}

#[test]
fn loops_that_never_wait_are_caught_by_their_polls_or_their_sleeps() {
    let linux = cfg!(target_os = "linux");
    let workers = Grader::new(env!("CARGO_MANIFEST_DIR"), &report::SPEC);
    let readers = Grader::new(env!("CARGO_MANIFEST_DIR"), &quiet::SPEC);
    let done = || Observed::Completes;

    // The lesson's fix, and a fix whose reports come from a task of its
    // own: no sleep, no long stretch of work, a poll or so per item.
    let mechanism = workers.only(&[
        "asleep_ratio",
        "asleep_share",
        "busy_ratio",
        "polls_per_event",
    ]);
    let f = worker_run(4, fixed::worker);
    mechanism.assert_fixed("the reference pinned sleep", done(), &f);
    let f = worker_run(4, fix_reporter_task::worker);
    mechanism.assert_fixed("a reporter task on an interval", done(), &f);

    // Yields instead of waiting: polled over and over.
    let f = worker_run(4, bug_yield_spin_report::worker);
    assert_eq!(f.get("items_lost"), Some(0.0), "{f:?}");
    assert!(f.get("polls_per_event").unwrap() > 10.0, "{f:?}");
    workers.only(&["polls_per_event"]).assert_diagnosed(
        "a loop that yields instead of waiting",
        done(),
        &f,
        &["wakes-itself"],
    );
    // A fired sleep never reset: it stays ready, and reports pour out.
    let f = worker_run(4, bug_sleep_never_reset::worker);
    assert!(f.get("report_ratio").unwrap() > 10.0, "{f:?}");
    workers.only(&["report_ratio"]).assert_diagnosed(
        "a fired sleep never reset",
        done(),
        &f,
        &["fires-too-often"],
    );
    let f = reader_run(4, 0, fixed::read_until_quiet);
    readers
        .only(&["wrong_counts", "early_stops", "polls_per_event"])
        .assert_fixed("the reference quiet timer", done(), &f);
    let f = reader_run(4, 0, bug_yield_spin_deadline::read);
    assert_eq!(f.get("wrong_counts"), Some(0.0), "{f:?}");
    assert!(f.get("polls_per_event").unwrap() > 10.0, "{f:?}");
    readers.only(&["polls_per_event"]).assert_diagnosed(
        "a loop that yields instead of waiting",
        done(),
        &f,
        &["wakes-itself"],
    );

    if !linux {
        return;
    }
    // Sleeps instead of waiting: 30 ms on every turn, then 4 ms (each
    // short, and together nearly the whole run), then in a task the
    // worker spawned, which the harness does not wrap: the runtime's
    // thread is watched whatever task it runs.
    let f = worker_run(4, bug_sleep_then_yield::worker);
    assert!(f.get("asleep_ratio").unwrap() >= 0.3, "{f:?}");
    workers
        .only(&["asleep_ratio"])
        .assert_not_fixed("a 30 ms sleep on every turn", done(), &f);
    let f = worker_run(4, bug_short_sleep_every_turn_report::worker);
    assert!(f.get("asleep_share").unwrap() >= 0.5, "{f:?}");
    workers
        .only(&["asleep_share"])
        .assert_not_fixed("a 4 ms sleep on every turn", done(), &f);
    let f = worker_run(4, bug_blocking_reporter_task::worker);
    assert_eq!(f.get("items_lost"), Some(0.0), "{f:?}");
    assert!(f.get("asleep_share").unwrap() >= 0.5, "{f:?}");
    workers.only(&["asleep_share"]).assert_not_fixed(
        "a reporter task that sleeps the thread",
        done(),
        &f,
    );
    // Blocks for the rest of the quiet wait when a progress report finds
    // no number: asleep for 100 ms or more in one stretch (a sleep lasts
    // at least what it asked for).
    let f = reader_run(4, 1, bug_block_for_the_quiet::read);
    assert_eq!(f.get("wrong_counts"), Some(0.0), "{f:?}");
    assert!(f.get("asleep_ratio").unwrap() >= 0.4, "{f:?}");
    readers
        .only(&["asleep_ratio", "held_ratio"])
        .assert_not_fixed(
            "a blocking sleep for the rest of the quiet wait",
            done(),
            &f,
        );
    assert!(
        readers
            .diagnoses(done(), &f)
            .contains(&"holds-the-thread".to_string()),
        "{f:?}"
    );
}
