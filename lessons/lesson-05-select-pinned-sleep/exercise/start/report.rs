//! Lesson 05 · exercise `report`: a report on schedule, and batches flushed
//! on time.
//!
//! The worker takes work items as they come and puts them in a batch. It
//! should flush the batch `FLUSH_AFTER` (60 ms) after the first item in it
//! came (not after the last), never flush an empty batch, flush what is
//! left when the work ends, and report every `REPORT_EVERY` (100 ms)
//! meanwhile. While items keep coming, it neither reports nor flushes. Fix
//! it (the harness sends the work steadily, and in bursts with pauses),
//! then run
//!
//!     cargo xtask try lesson-05 report
//!
//! Stuck? `cargo xtask hint lesson-05 report`. Start over: `cargo xtask reset lesson-05 report`.

use lesson_05::{Batch, FLUSH_AFTER, REPORT_EVERY, Reports, Work};
use tokio::time::sleep;

/// TODO: report every 100 ms, and flush each batch 60 ms after its first
/// item came, however the items come.
pub async fn worker(mut work: Work, mut reports: Reports, mut batch: Batch) {
    loop {
        tokio::select! {
            item = work.recv() => match item {
                Some(item) => batch.push(item),
                None => {
                    if !batch.is_empty() {
                        batch.flush();
                    }
                    return;
                }
            },
            () = sleep(REPORT_EVERY) => reports.report(),
            () = sleep(FLUSH_AFTER) => batch.flush(),
        }
    }
}

// Leave this as it is: it hands your `worker` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_05::flush::exercise(worker)
}
