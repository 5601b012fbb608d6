//! Lesson 07, broken: CPU jobs hashed inline in async tasks, and
//! block_in_place on a current-thread runtime.
//! Run it with `cargo xtask run lesson-07 --broken`.

use lesson_07::{Batch, JOB_TIME, JOBS, broken, measure, runtime};
use shared::lesson::{Scenario, Variant};
use std::process::ExitCode;

fn approaches() {
    let rt = runtime();
    println!(
        "{JOBS} jobs of {} ms of hashing, each in its own async task, beside a 10 ms heartbeat:",
        JOB_TIME.as_millis()
    );
    let m = measure(
        &rt,
        ("inline", "inline in async tasks"),
        JOBS,
        broken::inline,
    );
    println!(
        "  {:.0} jobs/s, {} at once; the heartbeat was up to {:.1} ticks late.",
        m.jobs_per_sec(),
        m.at_once,
        m.lateness
    );
    println!("  The workers were busy hashing, so nobody polled the heartbeat.");
    shared::fact("heartbeat_lateness", m.lateness);
    shared::fact("jobs_per_sec", m.jobs_per_sec());
}

fn current_thread() {
    println!("block_in_place, on a current-thread runtime:");
    let sum = broken::block_in_place_on_current_thread(Batch::default()); // panics
    println!("  done: {sum}"); // never printed
}

fn main() -> ExitCode {
    shared::lesson::main(
        "lesson-07",
        Variant::Broken,
        &[
            Scenario::new("approaches", approaches),
            Scenario::new("current-thread", current_thread),
        ],
    )
}
