//! Lesson 04 · exercise `cpu`: CPU jobs over lent inputs, on every core.
//!
//! `run_jobs` gets the inputs of a batch of CPU jobs, lent (`&[Input]`),
//! and computes each with `compute`, a plain function that hashes for a
//! few milliseconds. It runs them one after another, in one poll, on the
//! thread that polls it. Make them run on several threads at once, with the
//! results in the order of the inputs, while the thread that polls
//! `run_jobs` stays free for other tasks. Then run
//!
//!     cargo xtask try lesson-04 cpu
//!
//! (On a machine with one core this cannot be judged: there is nothing to
//! run in parallel on.)
//!
//! Stuck? `cargo xtask hint lesson-04 cpu`. Start over: `cargo xtask reset lesson-04 cpu`.

use lesson_04::share::{Input, compute};

/// TODO: the jobs should run on several threads at once, results in order.
pub async fn run_jobs(inputs: &[Input]) -> Vec<u64> {
    inputs.iter().map(compute).collect()
}

// Leave this as it is: it hands your `run_jobs` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_04::share::exercise(run_jobs)
}
