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

use lesson_05::{Batch, Numbers, Progress, Reports, Work, fixed, flush, quiet, report, runtime};
use shared::grade::{Grader, Observed};
use shared::lesson::Facts;
use shared::work::shape::Rng;

#[allow(dead_code)]
#[path = "fixtures/report/bug_blocking_sleep.rs"]
mod bug_blocking_sleep_report;
#[allow(dead_code)]
#[path = "fixtures/report/bug_spawned_ticker.rs"]
mod bug_spawned_ticker;
#[allow(dead_code)]
#[path = "fixtures/report/bug_spin_thread.rs"]
mod bug_spin_thread;
#[allow(dead_code)]
#[path = "fixtures/report/bug_timer_never_switched_off.rs"]
mod bug_timer_never_switched_off;

#[allow(dead_code)]
#[path = "fixtures/deadline/bug_block_for_the_quiet.rs"]
mod bug_block_for_the_quiet;
#[allow(dead_code)]
#[path = "fixtures/deadline/bug_yield_spin.rs"]
mod bug_yield_spin_deadline;

/// The steady shape of `seed`'s work, in real time.
fn worker_run(seed: u64, worker: impl AsyncFn(Work, Reports, Batch)) -> Facts {
    let facts = Facts::for_test(&flush::SPEC);
    let steady = report::shapes(&mut Rng::new(seed)).swap_remove(0);
    runtime().block_on(flush::measure(&facts, vec![steady], worker));
    facts
}

/// Both shapes of `seed`'s work, in real time.
fn worker_run_both(seed: u64, worker: impl AsyncFn(Work, Reports, Batch)) -> Facts {
    let facts = Facts::for_test(&flush::SPEC);
    let shapes = report::shapes(&mut Rng::new(seed));
    runtime().block_on(flush::measure(&facts, shapes, worker));
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
    let workers = Grader::new(env!("CARGO_MANIFEST_DIR"), &flush::SPEC);
    let readers = Grader::new(env!("CARGO_MANIFEST_DIR"), &quiet::SPEC);
    let done = || Observed::Completes;

    // The lesson's fix: no sleep, no long stretch of work, a poll or so
    // per item.
    let mechanism = workers.only(&[
        "asleep_ratio",
        "asleep_share",
        "busy_ratio",
        "polls_per_event",
        "empty_flushes",
        "early_flushes",
        "items_lost",
    ]);
    let f = worker_run(4, fixed::worker_with_batches);
    mechanism.assert_fixed("the reference flush timer", done(), &f);
    // A fired flush timer never switched off stays ready: the empty batch
    // is flushed turn after turn.
    let f = worker_run(4, bug_timer_never_switched_off::worker);
    assert!(f.get("empty_flushes").unwrap() > 100.0, "{f:?}");
    workers.only(&["empty_flushes"]).assert_not_fixed(
        "a flush timer never switched off",
        done(),
        &f,
    );
    assert!(
        workers
            .diagnoses(done(), &f)
            .contains(&"empty-flush".to_string()),
        "{f:?}"
    );
    // Blocks the thread for FLUSH_AFTER at a batch's first item: held for
    // at least that long in one poll (a sleep lasts what it asked for).
    let f = worker_run(4, bug_blocking_sleep_report::worker);
    assert!(f.get("held_ratio").unwrap() >= 1.0, "{f:?}");
    workers
        .only(&["held_ratio"])
        .assert_not_fixed("a blocking sleep for each batch", done(), &f);
    assert!(
        workers
            .diagnoses(done(), &f)
            .contains(&"holds-the-thread".to_string()),
        "{f:?}"
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

    if !cfg!(target_os = "linux") {
        return;
    }
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

    // The runtime thread's wake-ups: the lesson's fix wakes at most twice
    // per moment something is due (tokio's timer wheel adds one for a
    // timer across a 64 ms slot's start); a task that sleeps 1 ms in a
    // loop wakes it hundreds of times in the pauses between bursts,
    // however busy the machine (a late wake-up only delays the next).
    let wakes = workers.only(&["wakes_per_event", "idle_polls", "others_busy"]);
    let f = worker_run_both(4, fixed::worker_with_batches);
    wakes.assert_fixed("the reference, both shapes", done(), &f);
    let f = worker_run_both(4, bug_spawned_ticker::worker);
    assert!(f.get("wakes_per_event").unwrap() > 5.0, "{f:?}");
    wakes.assert_not_fixed("a spawned task that sleeps 1 ms in a loop", done(), &f);
    assert!(
        workers
            .diagnoses(done(), &f)
            .contains(&"wakes-elsewhere".to_string()),
        "{f:?}"
    );

    // Last, as it never stops: a thread made before the harness starts,
    // spinning on the clock, is on a core or waiting for one all along.
    bug_spin_thread::start_spinner();
    let f = worker_run(4, bug_spin_thread::worker);
    assert!(f.get("others_busy").unwrap() > 0.5, "{f:?}");
    workers
        .only(&["others_busy"])
        .assert_not_fixed("a thread spinning on the clock", done(), &f);
    assert!(
        workers
            .diagnoses(done(), &f)
            .contains(&"spins-elsewhere".to_string()),
        "{f:?}"
    );
}
