//! Lesson 12 · exercise `starve`: a loop that lets others run.
//!
//! `process` works through a backlog whose `next()` is always ready, on the
//! same thread as a 10 ms heartbeat. The heartbeat gets no turn until the
//! whole backlog is done. Let it keep time, with the same result, then run
//!
//!     cargo xtask try lesson-12 starve
//!
//! Stuck? `cargo xtask hint lesson-12 starve`. Start over: `cargo xtask reset lesson-12 starve`.

use lesson_12::{Backlog, work};

/// TODO: the heartbeat must get its turns while this runs.
pub async fn process(mut backlog: Backlog) -> u64 {
    let mut sum: u64 = 0;
    while let Some(item) = backlog.next().await {
        sum = sum.wrapping_add(work(item));
    }
    sum
}

// Leave this as it is: it hands your `process` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_12::starve::exercise(process)
}
