//! Lesson 08 · exercise `close`: a worker that stops.
//!
//! A producer submits jobs; the worker tries each one, and a job that
//! fails goes back into the queue to be tried again. Every job gets done,
//! but the worker never stops, and the session waits for it forever. Make
//! the worker stop as soon as every job is done, failed ones included
//! (without knowing in advance how many jobs there are), then run
//!
//!     cargo xtask try lesson-08 close
//!
//! Stuck? `cargo xtask hint lesson-08 close`. Start over: `cargo xtask reset lesson-08 close`.

use lesson_08::{Job, submit_jobs, try_job};
use shared::TraceExt; // .traced(name): the task gets a row in your timeline
use tokio::sync::mpsc;

pub async fn job_session() {
    let (queue, jobs) = mpsc::unbounded_channel();
    tokio::spawn(submit_jobs(queue.clone()).traced("producer"));
    let worker = tokio::spawn(work_through(jobs, queue).traced("worker"));
    worker.await.expect("the worker does not panic");
}

/// TODO: stop once no job can come any more: the producer is done, and no
/// failed job is still to be tried. A job that fails must still be tried
/// again.
async fn work_through(mut jobs: mpsc::UnboundedReceiver<Job>, requeue: mpsc::UnboundedSender<Job>) {
    while let Some(job) = jobs.recv().await {
        if let Err(job) = try_job(job).await {
            requeue.send(job).expect("the worker is still receiving");
        }
    }
}

// Leave this as it is: it hands your `job_session` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_08::close::exercise(job_session)
}
