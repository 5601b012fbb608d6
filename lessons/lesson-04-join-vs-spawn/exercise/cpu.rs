//! Lesson 04 · exercise `cpu`: CPU jobs on every core.
//!
//! `run_jobs` runs `jobs` CPU-bound jobs of 10 ms on tokio's multi-threaded
//! runtime, and it is no faster than a plain loop. Make the jobs run on
//! several threads at once (the results may come in any order), then run
//!
//!     cargo xtask try lesson-04 cpu
//!
//! (On a machine with one core this cannot be judged: there is nothing to
//! run in parallel on.)
//!
//! Stuck? `cargo xtask hint lesson-04 cpu`. Start over: `cargo xtask reset lesson-04 cpu`.

use lesson_04::job;

/// TODO: the jobs should run in parallel.
pub async fn run_jobs(jobs: u32) -> Vec<u64> {
    let jobs = (1..=jobs).map(job);
    futures::future::join_all(jobs).await
}

// Leave this as it is: it hands your `run_jobs` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_04::cpu::exercise(run_jobs)
}
