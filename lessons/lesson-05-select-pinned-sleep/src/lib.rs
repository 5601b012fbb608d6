//! # Lesson 05: select with a pinned sleep
//!
//! `tokio::select!` polls several futures and, as soon as one finishes,
//! drops all the others. A future created inside a `loop { select! { ... } }`
//! is therefore created anew, and dropped, on every turn. For a timer that
//! means "start again". A future that must survive across turns has to live
//! outside the loop, pinned, and be selected by `&mut`.

use futures::{Stream, StreamExt};
use shared::TraceExt;
use std::pin::pin;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep};

/// A work item arrives this often.
pub const WORK_EVERY: Duration = Duration::from_millis(10);
/// The worker should report this often.
pub const REPORT_EVERY: Duration = Duration::from_millis(100);
/// How many work items the producer sends (one second's worth).
pub const ITEMS: u32 = 100;
/// How long the `deadline` scenario may read its stream.
pub const DEADLINE: Duration = Duration::from_secs(1);

/// What a worker did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub handled: u32,
    pub reports: u32,
}

/// Sends `ITEMS` work items, one every `WORK_EVERY`, then hangs up.
pub async fn producer(tx: mpsc::Sender<u32>) {
    let mut every = tokio::time::interval(WORK_EVERY);
    for item in 0..ITEMS {
        every.tick().await;
        if tx.send(item).await.is_err() {
            return;
        }
    }
}

fn report(tally: &mut Tally) {
    tally.reports += 1;
    shared::mark(&format!(
        "report {}: {} items handled",
        tally.reports, tally.handled
    ));
}

pub mod broken {
    use super::*;

    // ANCHOR: broken_worker
    /// Handles work items and should report every 100 ms.
    pub async fn worker(mut work: mpsc::Receiver<u32>) -> Tally {
        let mut tally = Tally {
            handled: 0,
            reports: 0,
        };
        loop {
            tokio::select! {
                item = work.recv() => match item {
                    Some(_) => tally.handled += 1,
                    None => return tally,
                },
                // BROKEN: a brand-new 100 ms sleep on every turn of the loop.
                // Work arrives every 10 ms, so it never gets to finish.
                () = sleep(REPORT_EVERY) => report(&mut tally),
            }
        }
    }
    // ANCHOR_END: broken_worker

    // ANCHOR: broken_deadline
    /// Reads numbers for at most `DEADLINE`... or so it seems.
    pub async fn read_until_deadline(numbers: impl Stream<Item = u32>) -> u32 {
        let mut numbers = pin!(numbers);
        let mut read = 0;
        loop {
            tokio::select! {
                Some(_) = numbers.next() => read += 1,
                () = sleep(DEADLINE) => return read, // BROKEN: restarts on every number
            }
        }
    }
    // ANCHOR_END: broken_deadline
}

pub mod fixed {
    use super::*;

    // ANCHOR: fixed_worker
    /// The same worker with one timer that lives across the loop.
    pub async fn worker(mut work: mpsc::Receiver<u32>) -> Tally {
        let mut tally = Tally {
            handled: 0,
            reports: 0,
        };
        // FIXED: created once, outside the loop, and pinned where it is.
        let report_timer = sleep(REPORT_EVERY);
        tokio::pin!(report_timer);
        loop {
            tokio::select! {
                item = work.recv() => match item {
                    Some(_) => tally.handled += 1,
                    None => return tally,
                },
                // FIXED: `&mut` polls the one timer without consuming it...
                () = &mut report_timer => {
                    report(&mut tally);
                    // ...and after it fires, we set it for the next report.
                    report_timer.as_mut().reset(Instant::now() + REPORT_EVERY);
                }
            }
        }
    }
    // ANCHOR_END: fixed_worker

    // ANCHOR: fixed_interval
    /// The library's answer: an `Interval` keeps its own schedule, and its
    /// `tick()` is safe to drop unfinished in a `select!`.
    pub async fn worker_with_interval(mut work: mpsc::Receiver<u32>) -> Tally {
        let mut tally = Tally {
            handled: 0,
            reports: 0,
        };
        // The first tick one period from now (`interval` would tick at once).
        let mut reports = tokio::time::interval_at(Instant::now() + REPORT_EVERY, REPORT_EVERY);
        loop {
            tokio::select! {
                item = work.recv() => match item {
                    Some(_) => tally.handled += 1,
                    None => return tally,
                },
                _ = reports.tick() => report(&mut tally),
            }
        }
    }
    // ANCHOR_END: fixed_interval

    // ANCHOR: fixed_deadline
    /// Reads numbers for at most `DEADLINE`: one deadline, pinned outside
    /// the loop.
    pub async fn read_until_deadline(numbers: impl Stream<Item = u32>) -> u32 {
        let mut numbers = pin!(numbers);
        let deadline = sleep(DEADLINE); // FIXED: one deadline for the whole read
        tokio::pin!(deadline);
        let mut read = 0;
        loop {
            tokio::select! {
                Some(_) = numbers.next() => read += 1,
                () = &mut deadline => return read,
            }
        }
    }
    // ANCHOR_END: fixed_deadline
}

/// An endless stream of numbers, one every `WORK_EVERY`.
pub fn numbers() -> impl Stream<Item = u32> {
    futures::stream::unfold(0u32, |n| async move {
        sleep(WORK_EVERY).await;
        Some((n, n + 1))
    })
}

/// Runs a producer and `worker` on a current-thread runtime; returns the
/// worker's tally and how many reports were due in the time it ran.
pub async fn run_worker<F, Fut>(worker: F) -> (Tally, u32)
where
    F: FnOnce(mpsc::Receiver<u32>) -> Fut,
    Fut: std::future::Future<Output = Tally>,
{
    let (tx, rx) = mpsc::channel(16);
    let start = Instant::now();
    let producer = tokio::spawn(producer(tx).traced("producer"));
    let tally = worker(rx).traced("worker").await;
    producer.await.expect("the producer does not panic");
    let due = (start.elapsed().as_secs_f64() / REPORT_EVERY.as_secs_f64()).floor() as u32;
    (tally, due)
}

/// The runtime every scenario runs on: one thread, with a timer.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime always builds")
}

/// `select!` can only poll `&mut sleep` if the sleep cannot move, and a
/// `Sleep` is not `Unpin`, so this does not compile:
///
/// ```compile_fail,E0277
#[doc = include_str!("snippets/unpinned_sleep.rs")]
/// ```
///
/// `tokio::pin!(sleep)` (or `std::pin::pin!`, or `Box::pin`) fixes it.
pub struct SleepMustBePinned;
