//! Lesson 05, fixed: one pinned timer across the loop, or an interval.
//! Run it with `cargo xtask run lesson-05 --fixed`.

use lesson_05::{DEADLINE, ITEMS, REPORT_EVERY, WORK_EVERY, fixed, numbers, run_worker, runtime};
use shared::TraceExt;
use shared::lesson::{Scenario, Variant};
use std::process::ExitCode;
use std::time::Instant;

fn report() {
    println!(
        "A worker gets an item every {} ms ({ITEMS} in all) and should report every {} ms.",
        WORK_EVERY.as_millis(),
        REPORT_EVERY.as_millis()
    );
    let rt = runtime();
    println!("1. With one pinned sleep, reset after each report:");
    shared::mark("pinned sleep");
    let (tally, due) = rt.block_on(run_worker(fixed::worker));
    println!(
        "   handled {} items, reported {} times; {due} reports were due.",
        tally.handled, tally.reports
    );
    shared::fact(
        "report_ratio",
        f64::from(tally.reports) / f64::from(due.max(1)),
    );
    println!("2. With tokio::time::interval:");
    shared::mark("interval");
    let (tally2, due2) = rt.block_on(run_worker(fixed::worker_with_interval));
    println!(
        "   handled {} items, reported {} times; {due2} reports were due.",
        tally2.handled, tally2.reports
    );
    shared::fact(
        "interval_ratio",
        f64::from(tally2.reports) / f64::from(due2.max(1)),
    );
    shared::fact("items_handled", tally.handled.min(tally2.handled));
}

fn deadline() {
    println!("Reading an endless stream (a number every 10 ms) for at most 1 s.");
    let start = Instant::now();
    let read = runtime().block_on(fixed::read_until_deadline(numbers()).traced("reader"));
    let took = start.elapsed();
    println!(
        "Read {read} numbers, and stopped after {} ms.",
        took.as_millis()
    );
    shared::fact(
        "deadline_ratio",
        took.as_secs_f64() / DEADLINE.as_secs_f64(),
    );
}

fn main() -> ExitCode {
    shared::lesson::main(
        "lesson-05",
        Variant::Fixed,
        &[
            Scenario::new("report", report),
            Scenario::new("deadline", deadline),
        ],
    )
}
