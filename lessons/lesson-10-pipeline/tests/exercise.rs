//! The graders of lesson 10 grade the untouched exercise, the lesson's fix,
//! other fixes written differently, and other forms of the bug, all run
//! through the same harness with a real server. They judge what is
//! counted (records inside the pipeline, lost, duplicated, out of order,
//! fetches at once, malformed lines reported, handles left), plus the
//! heartbeat for the bug, whose whole-run blocking no load can hide, and
//! the time to stop, whose bounds are far apart. `cargo xtask check`
//! judges the other times.

use lesson_10::{Config, Stages, broken, fixed, flow, stop};
use shared::grade::{Grader, Observed};
use shared::lesson::Facts;

#[allow(dead_code)]
#[path = "fixtures/pipeline/bug_drops_what_is_inside.rs"]
mod bug_drops_what_is_inside;
#[allow(dead_code)]
#[path = "fixtures/pipeline/bug_fetch_all_then_par_iter.rs"]
mod bug_fetch_all_then_par_iter;
#[allow(dead_code)]
#[path = "fixtures/pipeline/bug_scoped_threads.rs"]
mod bug_scoped_threads;
#[allow(dead_code)]
#[path = "fixtures/pipeline/fix_one_stream.rs"]
mod fix_one_stream;
#[allow(dead_code)]
#[path = "fixtures/pipeline/fix_tasks_and_semaphore.rs"]
mod fix_tasks_and_semaphore;
#[allow(dead_code)]
#[path = "../exercise/start/pipeline.rs"]
mod start;

fn flowed(pipeline: impl AsyncFnOnce(Stages)) -> Facts {
    let facts = Facts::for_test(&flow::SPEC);
    flow::measure(&facts, Config::FLOW, pipeline);
    facts
}

fn stopped(pipeline: impl AsyncFnOnce(Stages)) -> Facts {
    let facts = Facts::for_test(&stop::SPEC);
    stop::measure(&facts, Config::STOP, pipeline);
    facts
}

#[test]
fn the_flow_grader_tells_every_fix_from_every_form_of_the_bug() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &flow::SPEC).only(&[
        "peak_queue_ratio",
        "lost",
        "duplicated",
        "out_of_order",
        "in_flight_ratio",
        "malformed_reported",
    ]);
    let done = || Observed::Completes;
    grader.assert_fixed("the reference fix", done(), &flowed(fixed::run_pipeline));
    grader.assert_fixed(
        "tasks and a semaphore",
        done(),
        &flowed(fix_tasks_and_semaphore::run_pipeline),
    );
    grader.assert_fixed(
        "one buffered stream",
        done(),
        &flowed(fix_one_stream::run_pipeline),
    );

    grader.assert_bug("the reference bug", done(), &flowed(broken::run_pipeline));
    grader.assert_bug(
        "the untouched exercise",
        done(),
        &flowed(start::run_pipeline),
    );
    grader.assert_bug(
        "fetch everything, then par_iter",
        done(),
        &flowed(bug_fetch_all_then_par_iter::run_pipeline),
    );
    grader.assert_bug(
        "scoped threads, a runtime per worker",
        done(),
        &flowed(bug_scoped_threads::run_pipeline),
    );

    // The heartbeat, for the bug only: the runtime's thread is held for
    // the whole run (or the whole scoring), hundreds of milliseconds.
    let heartbeat = Grader::new(env!("CARGO_MANIFEST_DIR"), &flow::SPEC)
        .only(&["heartbeat_lateness", "peak_queue_ratio"]);
    heartbeat.assert_bug(
        "fetch everything, then par_iter",
        done(),
        &flowed(bug_fetch_all_then_par_iter::run_pipeline),
    );
}

#[test]
fn the_stop_grader_tells_every_fix_from_every_form_of_the_bug() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &stop::SPEC);
    let done = || Observed::Completes;
    grader.assert_fixed("the reference fix", done(), &stopped(fixed::run_pipeline));
    grader.assert_fixed(
        "tasks and a semaphore",
        done(),
        &stopped(fix_tasks_and_semaphore::run_pipeline),
    );
    grader.assert_fixed(
        "one buffered stream",
        done(),
        &stopped(fix_one_stream::run_pipeline),
    );

    grader.assert_bug("the reference bug", done(), &stopped(broken::run_pipeline));
    grader.assert_bug(
        "the untouched exercise",
        done(),
        &stopped(start::run_pipeline),
    );
    grader.assert_bug(
        "fetch everything, then par_iter",
        done(),
        &stopped(bug_fetch_all_then_par_iter::run_pipeline),
    );
    grader.assert_bug(
        "scoped threads, a runtime per worker",
        done(),
        &stopped(bug_scoped_threads::run_pipeline),
    );
    let dropped = stopped(bug_drops_what_is_inside::run_pipeline);
    grader.assert_not_fixed("dropping what is inside", done(), &dropped);
    assert!(dropped.get("lost").is_some_and(|lost| lost >= 1.0));
}
