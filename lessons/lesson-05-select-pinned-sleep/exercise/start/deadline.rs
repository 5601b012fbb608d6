//! Lesson 05 · exercise `deadline`: stop when the stream goes quiet, or at
//! the deadline.
//!
//! `read` reads numbers from an endless stream (they come every few
//! milliseconds, or in bursts with pauses) and reports its progress every
//! 45 ms. It should stop once no number has come for `QUIET` (200 ms), and
//! after `DEADLINE` (1 s) in any case, whichever comes first, returning how
//! many numbers it read; the progress reports must keep their schedule
//! meanwhile. It never stops. Fix it, then run
//!
//!     cargo xtask try lesson-05 deadline
//!
//! Stuck? `cargo xtask hint lesson-05 deadline`. Start over: `cargo xtask reset lesson-05 deadline`.

use futures::StreamExt;
use lesson_05::{DEADLINE, Numbers, PROGRESS_EVERY, Progress, QUIET};
use tokio::time::{Instant, interval_at, sleep};

/// TODO: stop `QUIET` after the last number, or `DEADLINE` after the start,
/// whichever comes first; keep reporting every `PROGRESS_EVERY` until then.
pub async fn read(mut numbers: Numbers, mut progress: Progress) -> u32 {
    let _ = DEADLINE; // not used yet
    let mut every = interval_at(Instant::now() + PROGRESS_EVERY, PROGRESS_EVERY);
    let mut read = 0;
    loop {
        tokio::select! {
            Some(_) = numbers.next() => read += 1,
            _ = every.tick() => progress.report(),
            () = sleep(QUIET) => return read,
        }
    }
}

// Leave this as it is: it hands your `read` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_05::quiet::exercise(read)
}
