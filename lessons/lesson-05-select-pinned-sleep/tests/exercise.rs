//! The graders of lesson 05 grade, on paused tokio time (the clock moves
//! only when every task waits, so every count and ratio is exact): the
//! untouched exercises, the lesson's fixes, other fixes written
//! differently, and other forms of the bug, each measured by the same
//! harness. A read still going after ten seconds of paused time hangs.

use lesson_05::{Numbers, Reports, Work, broken, deadline, fixed, report};
use shared::grade::{Grader, Observed};
use shared::lesson::Facts;
use std::time::Duration;

#[allow(dead_code)]
#[path = "fixtures/report/bug_reports_at_the_end.rs"]
mod bug_reports_at_the_end;
#[allow(dead_code)]
#[path = "fixtures/report/bug_reset_on_every_item.rs"]
mod bug_reset_on_every_item;
#[allow(dead_code)]
#[path = "fixtures/report/fix_boxed_sleep.rs"]
mod fix_boxed_sleep;
#[allow(dead_code)]
#[path = "fixtures/report/fix_interval_ticks_at_once.rs"]
mod fix_interval_ticks_at_once;
#[allow(dead_code)]
#[path = "fixtures/report/fix_sleep_until_a_kept_instant.rs"]
mod fix_sleep_until_a_kept_instant;
#[allow(dead_code)]
#[path = "../exercise/start/report.rs"]
mod start_report;

#[allow(dead_code)]
#[path = "fixtures/deadline/bug_no_reading.rs"]
mod bug_no_reading;
#[allow(dead_code)]
#[path = "fixtures/deadline/bug_timeout_per_number.rs"]
mod bug_timeout_per_number;
#[allow(dead_code)]
#[path = "fixtures/deadline/fix_sleep_until.rs"]
mod fix_sleep_until;
#[allow(dead_code)]
#[path = "fixtures/deadline/fix_timeout.rs"]
mod fix_timeout;
#[allow(dead_code)]
#[path = "../exercise/start/deadline.rs"]
mod start_deadline;

async fn worker_run(worker: impl AsyncFnOnce(Work, Reports)) -> Facts {
    let facts = Facts::for_test(&report::SPEC);
    report::measure(&facts, worker).await;
    facts
}

#[tokio::test(start_paused = true)]
async fn the_report_grader_tells_every_fix_from_every_form_of_the_bug() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &report::SPEC);
    let done = || Observed::Completes;
    for (what, f) in [
        (
            "the reference pinned sleep",
            worker_run(fixed::worker).await,
        ),
        (
            "the reference interval",
            worker_run(fixed::worker_with_interval).await,
        ),
        (
            "an interval that ticks at once",
            worker_run(fix_interval_ticks_at_once::worker).await,
        ),
        (
            "a sleep until a kept instant",
            worker_run(fix_sleep_until_a_kept_instant::worker).await,
        ),
        ("a boxed sleep", worker_run(fix_boxed_sleep::worker).await),
    ] {
        grader.assert_fixed(what, done(), &f);
    }
    for (what, f) in [
        ("the reference bug", worker_run(broken::worker).await),
        (
            "the untouched exercise",
            worker_run(start_report::worker).await,
        ),
        (
            "a pinned timer reset by every item",
            worker_run(bug_reset_on_every_item::worker).await,
        ),
    ] {
        grader.assert_bug(what, done(), &f);
    }
    grader.assert_not_fixed(
        "every report in one burst at the end",
        done(),
        &worker_run(bug_reports_at_the_end::worker).await,
    );
}

/// Ten seconds of paused time: ten times the deadline.
const LIMIT: Duration = Duration::from_secs(10);

async fn reader_run(read: impl AsyncFnOnce(Numbers) -> u32) -> (Observed, Facts) {
    let facts = Facts::for_test(&deadline::SPEC);
    let observed = match tokio::time::timeout(LIMIT, deadline::measure(&facts, read)).await {
        Ok(()) => Observed::Completes,
        Err(_) => Observed::timed_out(LIMIT),
    };
    (observed, facts)
}

#[tokio::test(start_paused = true)]
async fn the_deadline_grader_tells_every_fix_from_every_form_of_the_bug() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &deadline::SPEC);
    let (o, f) = reader_run(fixed::read_until_deadline).await;
    grader.assert_fixed("the reference fix", o, &f);
    let (o, f) = reader_run(fix_timeout::read_until_deadline).await;
    grader.assert_fixed("a timeout around the read", o, &f);
    let (o, f) = reader_run(fix_sleep_until::read_until_deadline).await;
    grader.assert_fixed("a sleep until a kept instant", o, &f);

    let (o, f) = reader_run(broken::read_until_deadline).await;
    grader.assert_bug("the reference bug", o, &f);
    let (o, f) = reader_run(start_deadline::read_until_deadline).await;
    grader.assert_bug("the untouched exercise", o, &f);
    let (o, f) = reader_run(bug_timeout_per_number::read_until_deadline).await;
    grader.assert_bug("a timeout around each number", o, &f);
    let (o, f) = reader_run(bug_no_reading::read_until_deadline).await;
    grader.assert_not_fixed("a read that reads nothing", o, &f);
}
