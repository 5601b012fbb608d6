//! The `report` grader grades, on paused tokio time (the clock moves
//! only when every task waits, so every count and ratio is exact): the
//! untouched exercise, the lesson's fixes, other fixes written
//! differently, and other forms of the bug, each measured by the same
//! harness under the shapes of several seeds. The wrong program that
//! blocks the thread with `std::thread::sleep` runs in real time (paused
//! time does not move while a thread sleeps): it is judged by the longest
//! poll, which a sleep makes at least as long as it asked for, on any
//! machine. (The `deadline` exercise's grader: `exercise_deadline.rs`.)

use lesson_05::{Reports, Work, broken, fixed, report, runtime};
use shared::grade::{Grader, Observed};
use shared::lesson::Facts;
use shared::work::shape::Rng;

#[allow(dead_code)]
#[path = "fixtures/report/bug_blocking_sleep.rs"]
mod bug_blocking_sleep_report;
#[allow(dead_code)]
#[path = "fixtures/report/bug_every_tenth_item.rs"]
mod bug_every_tenth_item;
#[allow(dead_code)]
#[path = "fixtures/report/bug_gives_up_in_a_pause.rs"]
mod bug_gives_up_in_a_pause;
#[allow(dead_code)]
#[path = "fixtures/report/bug_report_on_arrival.rs"]
mod bug_report_on_arrival;
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
#[path = "fixtures/report/fix_reporter_task.rs"]
mod fix_reporter_task;
#[allow(dead_code)]
#[path = "fixtures/report/fix_sleep_until_a_kept_instant.rs"]
mod fix_sleep_until_a_kept_instant;
#[allow(dead_code)]
#[path = "fixtures/report/fix_timeout_at.rs"]
mod fix_timeout_at;
#[allow(dead_code)]
#[path = "../exercise/start/report.rs"]
mod start_report;

/// Seeds to judge under: each picks other rates, bursts and pauses.
const SEEDS: [u64; 3] = [3, 17, 90_210];

async fn worker_run(seed: u64, worker: impl AsyncFn(Work, Reports)) -> Facts {
    let facts = Facts::for_test(&report::SPEC);
    report::measure(&facts, report::shapes(&mut Rng::new(seed)), worker).await;
    facts
}

#[tokio::test(start_paused = true)]
async fn the_report_grader_tells_every_fix_from_every_form_of_the_bug() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &report::SPEC);
    let done = || Observed::Completes;
    for seed in SEEDS {
        for (what, f) in [
            (
                "the reference pinned sleep",
                worker_run(seed, fixed::worker).await,
            ),
            (
                "the reference interval",
                worker_run(seed, fixed::worker_with_interval).await,
            ),
            (
                "an interval that ticks at once",
                worker_run(seed, fix_interval_ticks_at_once::worker).await,
            ),
            (
                "a sleep until a kept instant",
                worker_run(seed, fix_sleep_until_a_kept_instant::worker).await,
            ),
            (
                "a boxed sleep",
                worker_run(seed, fix_boxed_sleep::worker).await,
            ),
            (
                "timeout_at, no select",
                worker_run(seed, fix_timeout_at::worker).await,
            ),
            (
                "a reporter task on an interval",
                worker_run(seed, fix_reporter_task::worker).await,
            ),
        ] {
            grader.assert_fixed(what, done(), &f);
        }
        for (what, f) in [
            ("the reference bug", worker_run(seed, broken::worker).await),
            (
                "the untouched exercise",
                worker_run(seed, start_report::worker).await,
            ),
            (
                "a pinned timer reset by every item",
                worker_run(seed, bug_reset_on_every_item::worker).await,
            ),
        ] {
            grader.assert_bug(what, done(), &f);
            grader.assert_diagnosed(what, done(), &f, &["timer-restarted"]);
        }
        for (what, f) in [
            (
                "every report in one burst at the end",
                worker_run(seed, bug_reports_at_the_end::worker).await,
            ),
            (
                "a report every 10th item",
                worker_run(seed, bug_every_tenth_item::worker).await,
            ),
            (
                "a look at the clock when an item comes",
                worker_run(seed, bug_report_on_arrival::worker).await,
            ),
        ] {
            assert_eq!(f.get("items_lost"), Some(0.0), "{what}");
            grader.assert_not_fixed(what, done(), &f);
        }
        let f = worker_run(seed, bug_gives_up_in_a_pause::worker).await;
        assert!(f.get("items_lost").unwrap() > 0.0, "{f:?}");
        grader.only(&["items_lost"]).assert_not_fixed(
            "a worker that gives up in a pause",
            done(),
            &f,
        );
    }
}

#[tokio::test(start_paused = true)]
async fn counting_items_is_caught_in_each_shape_on_its_own() {
    // A report every 10th item: too many reports in the fast steady shape,
    // a pause longer than a period without one in the bursts.
    for seed in SEEDS {
        let held = shared::record::held::Held::new();
        let [steady, bursts] = &report::shapes(&mut Rng::new(seed))[..] else {
            panic!("two shapes")
        };
        let s = report::measure_shape(&bug_every_tenth_item::worker, steady.clone(), &held).await;
        assert!(s.ratio() > 1.25, "steady: {s:?}");
        let b = report::measure_shape(&bug_every_tenth_item::worker, bursts.clone(), &held).await;
        assert!(b.longest_gap > 1.5, "bursts: {b:?}");
        let b = report::measure_shape(&bug_report_on_arrival::worker, bursts.clone(), &held).await;
        assert!(b.longest_gap > 1.5, "bursts: {b:?}");
        // A correct fix meets both, to the period: on paused time a timer
        // fires exactly when it is due.
        for shape in [steady, bursts] {
            let f = report::measure_shape(&fixed::worker, shape.clone(), &held).await;
            assert!(f.longest_gap <= 1.0 + 1e-9, "{f:?}");
            assert_eq!(f.reports as f64, f.due.floor(), "{f:?}");
        }
    }
}

#[test]
fn a_blocking_sleep_in_the_worker_is_caught_by_its_longest_poll() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &report::SPEC);
    let facts = Facts::for_test(&report::SPEC);
    runtime().block_on(report::measure(
        &facts,
        report::shapes(&mut Rng::new(SEEDS[0])),
        bug_blocking_sleep_report::worker,
    ));
    // A thread sleep lasts at least what it asked for, however busy the
    // machine: the worker held the thread a whole period at least.
    assert!(facts.get("held_ratio").unwrap() >= 1.0, "{facts:?}");
    grader.assert_not_fixed(
        "std::thread::sleep in the worker",
        Observed::Completes,
        &facts,
    );
}
