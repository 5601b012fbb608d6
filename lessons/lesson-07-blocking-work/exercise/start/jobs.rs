//! Lesson 07 · exercise `jobs`: CPU work in the middle of an async flow.
//!
//! Each job fetches a page (an async wait), hashes it (tens of
//! milliseconds of CPU work) and stores the digest (an async wait); all
//! the jobs run at once. A heartbeat should tick every 10 ms, and it is
//! many ticks late. Make it keep time, on a current-thread runtime and on
//! a multi-threaded one, with the cores hashing one page each at a time
//! and the batch as quick as it can be, then run
//!
//!     cargo xtask try lesson-07
//!
//! Stuck? `cargo xtask hint lesson-07`. Start over: `cargo xtask reset lesson-07`.

use lesson_07::{Queue, hash};

/// TODO: the hashing must not run on the runtime's threads, and no job
/// may wait for another's fetch or store. Every digest must be stored
/// before `run_jobs` returns.
pub async fn run_jobs(queue: Queue) {
    let jobs = (0..queue.len()).map(|i| {
        let queue = queue.clone();
        async move {
            let page = queue.fetch(i).await;
            let digest = hash(page);
            queue.store(digest).await;
        }
    });
    futures::future::join_all(jobs).await;
}

// Leave this as it is: it hands your `run_jobs` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_07::exercise(run_jobs)
}
