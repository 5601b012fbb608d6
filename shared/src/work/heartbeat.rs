//! A task that ticks on a schedule and measures how late each tick is.
//!
//! It is the canary of lessons 06 and 07: a runtime thread that is blocked
//! cannot poll it, so its ticks come late, and the worst lateness (in ticks)
//! says how long the thread was taken away from everyone else.

use crate::TraceExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

/// A running heartbeat. Stops when dropped.
pub struct Heartbeat {
    tick: Duration,
    worst_us: Arc<AtomicU64>,
    ticks: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl Heartbeat {
    /// Spawns the heartbeat on the current runtime. A tick more than
    /// `mark_after` late is marked on the timeline.
    pub fn spawn(tick: Duration) -> Heartbeat {
        let worst_us = Arc::new(AtomicU64::new(0));
        let ticks = Arc::new(AtomicU64::new(0));
        let (w, t) = (worst_us.clone(), ticks.clone());
        let task = tokio::spawn(
            async move {
                let mut interval = tokio::time::interval(tick);
                // After a stall, measure from the real schedule, but do not
                // fire a burst of catch-up ticks.
                interval.set_missed_tick_behavior(MissedTickBehavior::Skip);
                loop {
                    let due = interval.tick().await;
                    let late = Instant::now().saturating_duration_since(due);
                    let late_us = late.as_micros() as u64;
                    t.fetch_add(1, Ordering::Relaxed);
                    if late_us > w.load(Ordering::Relaxed) {
                        w.store(late_us, Ordering::Relaxed);
                    }
                    if late >= tick * 3 {
                        crate::mark(&format!("heartbeat {} ms late", late.as_millis()));
                    }
                }
            }
            .traced("heartbeat")
            .cancelled_quietly(),
        );
        Heartbeat {
            tick,
            worst_us,
            ticks,
            task,
        }
    }

    /// The worst lateness so far, in ticks: 0 is perfect, 10 means one tick
    /// came ten ticks late.
    pub fn worst_lateness_ratio(&self) -> f64 {
        self.worst_us.load(Ordering::Relaxed) as f64 / self.tick.as_micros() as f64
    }

    /// The worst lateness so far.
    pub fn worst_lateness(&self) -> Duration {
        Duration::from_micros(self.worst_us.load(Ordering::Relaxed))
    }

    /// Ticks so far.
    pub fn ticks(&self) -> u64 {
        self.ticks.load(Ordering::Relaxed)
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A plain thread that sleeps until each tick and measures how late it
/// wakes: the operating system's share of a heartbeat's lateness. No
/// runtime is involved, so when the heartbeat and the alarm are about as
/// late, the lateness is the machine's (its other threads and programs
/// took the cores), not the runtime's. Stops when dropped.
pub struct Alarm {
    tick: Duration,
    worst_us: Arc<AtomicU64>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Alarm {
    /// Starts the alarm's thread, its first tick one `tick` from now.
    pub fn start(tick: Duration) -> Alarm {
        let worst_us = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (w, s) = (worst_us.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("alarm".into())
            .spawn(move || {
                crate::record::sched::claim_this_thread();
                let mut due = std::time::Instant::now() + tick;
                while !s.load(Ordering::Relaxed) {
                    std::thread::sleep(due.saturating_duration_since(std::time::Instant::now()));
                    let now = std::time::Instant::now();
                    let late = now.saturating_duration_since(due).as_micros() as u64;
                    w.fetch_max(late, Ordering::Relaxed);
                    // As the heartbeat does: after a stall, no catch-up.
                    while due <= now {
                        due += tick;
                    }
                }
            })
            .ok();
        Alarm {
            tick,
            worst_us,
            stop,
            thread,
        }
    }

    /// The worst lateness so far, in ticks.
    pub fn worst_lateness_ratio(&self) -> f64 {
        self.worst_us.load(Ordering::Relaxed) as f64 / self.tick.as_micros() as f64
    }
}

impl Drop for Alarm {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_free_thread_keeps_the_heartbeat_on_time() {
        let beat = Heartbeat::spawn(Duration::from_millis(10));
        tokio::time::sleep(Duration::from_millis(105)).await;
        assert_eq!(beat.ticks(), 11, "ticks at 0, 10, ..., 100 ms");
        assert_eq!(beat.worst_lateness(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn a_blocked_thread_makes_it_late() {
        let beat = Heartbeat::spawn(Duration::from_millis(10));
        tokio::time::sleep(Duration::from_millis(15)).await;
        // Hold the only runtime thread without yielding. Paused time does not
        // move on its own, so advance the clock by hand while "blocked".
        tokio::time::advance(Duration::from_millis(50)).await;
        tokio::task::yield_now().await;
        assert!(
            beat.worst_lateness_ratio() >= 4.0,
            "{:?}",
            beat.worst_lateness()
        );
    }
}
