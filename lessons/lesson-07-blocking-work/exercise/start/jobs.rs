//! Lesson 07 · exercise `jobs`: CPU work off the async threads.
//!
//! `run_jobs` runs a batch of CPU jobs (40 ms of hashing each) as async
//! tasks, and returns the XOR of their answers. Meanwhile a heartbeat
//! should tick every 10 ms, and it is many ticks late. Make the heartbeat
//! keep time and the cores stay busy, one job per core at a time, on a
//! multi-threaded runtime and on a current-thread one, then run
//!
//!     cargo xtask try lesson-07
//!
//! Stuck? `cargo xtask hint lesson-07`. Start over: `cargo xtask reset lesson-07`.

use lesson_07::{Batch, hash_job};

/// TODO: the hashing should not hold the runtime's threads.
pub async fn run_jobs(batch: Batch) -> u64 {
    let tasks: Vec<_> = (0..batch.jobs())
        .map(|i| {
            let batch = batch.clone();
            tokio::spawn(async move { hash_job(i, &batch) })
        })
        .collect();
    let mut sum = 0;
    for task in tasks {
        sum ^= task.await.unwrap();
    }
    sum
}

// Leave this as it is: it hands your `run_jobs` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_07::exercise(run_jobs)
}
