//! Lesson 12 · exercise `handle`: giving up means stopping.
//!
//! `ask` spawns a job and waits at most `deadline` for its answer. It gives
//! up on time, but the slow job goes on and sends its email anyway, after
//! nobody wants it. Make a job you gave up on do nothing more, then run
//!
//!     cargo xtask try lesson-12 handle
//!
//! Stuck? `cargo xtask hint lesson-12 handle`. Start over: `cargo xtask reset lesson-12 handle`.

use lesson_12::Job;
use std::time::Duration;

/// TODO: after the deadline, the job must not go on running.
pub async fn ask(job: Job, deadline: Duration) -> Option<u64> {
    let handle = tokio::spawn(job.run());
    let answer = tokio::time::timeout(deadline, handle).await.ok()?;
    Some(answer.expect("the job does not panic"))
}

// Leave this as it is: it hands your `ask` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_12::handle::exercise(ask)
}
