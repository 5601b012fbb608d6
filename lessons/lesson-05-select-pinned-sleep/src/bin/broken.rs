//! Lesson 05, broken: a timer created inside a select! loop.
//! Run it with `cargo xtask run lesson-05 --broken`.

use lesson_05::{ITEMS, REPORT_EVERY, WORK_EVERY, broken, numbers, run_worker, runtime};
use shared::TraceExt;
use shared::lesson::{Scenario, Variant};
use std::process::ExitCode;
use std::time::Duration;

fn report() {
    println!(
        "A worker gets an item every {} ms ({ITEMS} in all) and should report every {} ms.",
        WORK_EVERY.as_millis(),
        REPORT_EVERY.as_millis()
    );
    let (tally, due) = runtime().block_on(run_worker(broken::worker));
    println!(
        "It handled {} items and reported {} times; {due} reports were due.",
        tally.handled, tally.reports
    );
    if tally.reports == 0 {
        println!("Each new item won the select!, which dropped the sleep; the next turn");
        println!("made a new 100 ms sleep. None ever got to 100 ms.");
    }
    shared::fact(
        "report_ratio",
        f64::from(tally.reports) / f64::from(due.max(1)),
    );
    shared::fact("items_handled", tally.handled);
}

fn deadline() {
    shared::watchdog::default_deadline(Duration::from_secs(3));
    println!("Reading an endless stream (a number every 10 ms) for at most 1 s.");
    println!("(If it never stops, the watchdog stops it after 3 s.)");
    let read = runtime().block_on(broken::read_until_deadline(numbers()).traced("reader"));
    println!("Read {read} numbers."); // never printed
}

fn main() -> ExitCode {
    shared::lesson::main(
        "lesson-05",
        Variant::Broken,
        &[
            Scenario::new("report", report),
            Scenario::new("deadline", deadline),
        ],
    )
}
