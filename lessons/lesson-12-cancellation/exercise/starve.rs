//! Lesson 12 · exercise `starve`: a loop that lets others run, and stops.
//!
//! `process` works through a backlog whose `next()` is always ready, on the
//! same thread as a 10 ms heartbeat, and must stop when `stop` is
//! cancelled (from another thread, part-way through; or not at all),
//! returning the sum of the work it did. The heartbeat gets no turn until
//! the whole backlog is done, and the stop is never seen. Let the heartbeat
//! keep time, stop soon after the stop comes, and return the sum of every
//! item worked, then run
//!
//!     cargo xtask try lesson-12 starve
//!
//! Stuck? `cargo xtask hint lesson-12 starve`. Start over: `cargo xtask reset lesson-12 starve`.

use lesson_12::{Backlog, work};
use tokio_util::sync::CancellationToken;

/// TODO: the heartbeat must get its turns, and the stop must be seen.
pub async fn process(mut backlog: Backlog, stop: CancellationToken) -> u64 {
    let all = async move {
        let mut sum: u64 = 0;
        while let Some(item) = backlog.next().await {
            sum = sum.wrapping_add(work(item));
        }
        sum
    };
    tokio::select! {
        sum = all => sum,
        _ = stop.cancelled() => 0,
    }
}

// Leave this as it is: it hands your `process` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_12::halt::exercise(process)
}
