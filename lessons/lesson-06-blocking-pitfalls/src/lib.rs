//! # Lesson 06: blocking pitfalls
//!
//! An executor can switch tasks only when a task's `poll` returns, which
//! happens at an `.await` that is not ready. A call that blocks the thread
//! (`std::thread::sleep`, a `std::sync::Mutex` that is held elsewhere, a long
//! computation) keeps the poll from returning, and every other task on that
//! thread waits with it. A heartbeat task ticking every 10 ms shows the harm.

use shared::TraceExt;
use shared::heartbeat::Heartbeat;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long each task in the `sleep` scenario waits.
pub const NAP: Duration = Duration::from_millis(100);
/// How many tasks wait.
pub const NAPPERS: u32 = 10;
/// The heartbeat's period.
pub const TICK: Duration = Duration::from_millis(10);
/// How long "saving" takes in the `mutex` scenario.
pub const SAVE: Duration = Duration::from_millis(20);

pub mod broken {
    use super::*;

    // ANCHOR: broken_nap
    /// Waits for `NAP` the way a synchronous program would.
    pub async fn nap() {
        shared::blocking("std::thread::sleep", || {
            std::thread::sleep(NAP); // BROKEN: blocks the whole thread
        });
    }
    // ANCHOR_END: broken_nap

    // ANCHOR: broken_hit
    /// Counts a page hit and saves the new count, holding the lock
    /// throughout so that saves happen in order.
    #[expect(
        clippy::await_holding_lock,
        reason = "the bug this lesson shows: a std guard held across .await"
    )]
    pub async fn record_hit(hits: &Mutex<u32>) {
        shared::mark("waiting for the lock");
        let mut count = hits.lock().unwrap(); // a std::sync::Mutex
        shared::mark("took the lock");
        *count += 1;
        save(*count).await; // BROKEN: the guard is held across this .await
        shared::mark("released the lock");
    }
    // ANCHOR_END: broken_hit
}

pub mod fixed {
    use super::*;

    // ANCHOR: fixed_nap
    /// Waits for `NAP` by telling the runtime's timer, and giving the thread
    /// back in the meantime.
    pub async fn nap() {
        tokio::time::sleep(NAP).await; // FIXED: yields the thread while waiting
    }
    // ANCHOR_END: fixed_nap

    // ANCHOR: fixed_hit_scope
    /// Ends the guard's scope before the `.await`: the lock is held only
    /// while the count changes, never while the task is paused.
    pub async fn record_hit(hits: &Mutex<u32>) {
        let count = {
            let mut count = hits.lock().unwrap();
            shared::mark("took the lock");
            *count += 1;
            *count
        }; // FIXED: the guard is dropped here, before the .await
        shared::mark("released the lock");
        save(count).await;
    }
    // ANCHOR_END: fixed_hit_scope

    // ANCHOR: fixed_hit_async_mutex
    /// When the lock really must be held across the `.await` (here, to keep
    /// saves in order), use an async mutex: waiting for it is an `.await`,
    /// so a task that finds it taken gives the thread back.
    pub async fn record_hit_in_order(hits: &tokio::sync::Mutex<u32>) {
        shared::mark("waiting for the lock");
        let mut count = hits.lock().await; // FIXED: waits without blocking
        shared::mark("took the lock");
        *count += 1;
        save(*count).await; // holding a tokio guard across .await is fine
        shared::mark("released the lock");
    }
    // ANCHOR_END: fixed_hit_async_mutex
}

/// Stands in for writing the count somewhere: an `.await` that takes `SAVE`.
pub async fn save(_count: u32) {
    tokio::time::sleep(SAVE).await;
}

/// The runtime for both scenarios: one thread, as in many servers' tests
/// and in every `#[tokio::main(flavor = "current_thread")]`.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime always builds")
}

/// What a run measured.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    pub elapsed: Duration,
    /// The heartbeat's worst lateness, in ticks.
    pub lateness: f64,
}

impl Measured {
    /// Elapsed time over one task's wait: 1 is ideal, `NAPPERS` is serial.
    pub fn elapsed_ratio(&self) -> f64 {
        self.elapsed.as_secs_f64() / NAP.as_secs_f64()
    }

    /// Hands the facts to the runner, under the same names for both
    /// variants.
    pub fn report(&self) {
        shared::fact("elapsed_ratio", self.elapsed_ratio());
        shared::fact("heartbeat_lateness", self.lateness);
    }
}

/// Runs `record_hit` twice, joined in one task (so no `Send` is needed),
/// beside a heartbeat. Returns the heartbeat's worst lateness, in ticks.
pub async fn two_hits<'a, F, Fut>(record_hit: F) -> f64
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()> + 'a,
{
    let heartbeat = Heartbeat::spawn(TICK);
    tokio::join!(record_hit().traced("task A"), record_hit().traced("task B"));
    tokio::time::sleep(TICK).await;
    heartbeat.worst_lateness_ratio()
}

/// Spawns `NAPPERS` tasks running `nap`, beside a heartbeat, and waits for
/// them all.
pub async fn nappers<F, Fut>(nap: F) -> Measured
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let heartbeat = Heartbeat::spawn(TICK);
    let start = Instant::now();
    let tasks: Vec<_> = (1..=NAPPERS)
        .map(|i| tokio::spawn(nap().traced(format!("napper {i}"))))
        .collect();
    for task in tasks {
        task.await.expect("a napper does not panic");
    }
    let elapsed = start.elapsed();
    // Give the heartbeat one more turn, so that a late tick is measured.
    tokio::time::sleep(TICK).await;
    Measured {
        elapsed,
        lateness: heartbeat.worst_lateness_ratio(),
    }
}

/// `std::sync::MutexGuard` is not `Send`, so a future that holds one across
/// an `.await` is not `Send` either, and `tokio::spawn` on the
/// multi-threaded runtime refuses it:
///
/// ```compile_fail,E0277
#[doc = include_str!("snippets/spawn_holding_guard.rs")]
/// ```
///
/// `block_on`, `join!` and `spawn_local` do not need `Send` (their futures
/// never leave the thread), so there the same code compiles, and deadlocks
/// at run time.
pub struct GuardIsNotSend;
