//! Lesson 05 · exercise `report`: a report timer that fires.
//!
//! The worker takes work items as they come, and should make a report every
//! 100 ms meanwhile. While items keep coming, it never reports once. Make
//! the reports come on schedule, however the work comes (the harness sends
//! it steadily, and in bursts with pauses), then run
//!
//!     cargo xtask try lesson-05 report
//!
//! Stuck? `cargo xtask hint lesson-05 report`. Start over: `cargo xtask reset lesson-05 report`.

use lesson_05::{REPORT_EVERY, Reports, Work, handle};
use tokio::time::sleep;

/// TODO: this should report every 100 ms while items keep arriving.
pub async fn worker(mut work: Work, mut reports: Reports) {
    loop {
        tokio::select! {
            item = work.recv() => match item {
                Some(item) => handle(item),
                None => return,
            },
            () = sleep(REPORT_EVERY) => reports.report(),
        }
    }
}

// Leave this as it is: it hands your `worker` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_05::report::exercise(worker)
}
