//! Recording must not hold up what it records. Two threads each run a
//! runtime whose two traced tasks take turns (so every poll is an event of
//! its own), beside a traced heartbeat, while a thread flushes the report
//! to a file every 20 ms as the watchdog does. The heartbeat's worst
//! lateness with the recorder on is compared with the same run with the
//! recorder off. Writing a big batch of events used to hold the lock that
//! every poll takes, and the heartbeat came tens of milliseconds late.
//!
//! The recorder is process-wide, so this file holds this one test.

use shared::TraceExt;
use shared::record::recorder::global;
use shared::work::heartbeat::Heartbeat;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const TICK: Duration = Duration::from_millis(10);
/// Polls each thread makes: enough for well over 100,000 events in all.
const POLLS_PER_THREAD: u64 = 80_000;

/// Two tasks that take turns on one current-thread runtime, `polls` polls
/// between them, with a heartbeat beside them when `beat` is set. Returns
/// the heartbeat's worst lateness.
fn take_turns(polls: u64, beat: bool) -> Duration {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async move {
        let heartbeat = beat.then(|| Heartbeat::spawn(TICK));
        let left = Arc::new(AtomicU64::new(polls));
        let turns = |name: &'static str| {
            let left = left.clone();
            tokio::spawn(
                async move {
                    while left
                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                        .is_ok()
                    {
                        tokio::task::yield_now().await;
                    }
                }
                .traced(name),
            )
        };
        let (a, b) = (turns("a"), turns("b"));
        a.await.unwrap();
        b.await.unwrap();
        heartbeat.map_or(Duration::ZERO, |h| h.worst_lateness())
    })
}

/// One run: returns the heartbeat's worst lateness and the events recorded.
fn run(record: bool) -> (Duration, usize) {
    let rec = global();
    let path = std::env::temp_dir().join(format!(
        "recording-does-not-stall-{}.jsonl",
        std::process::id()
    ));
    if record {
        rec.begin(
            "test",
            "load",
            "fixed",
            "",
            Some(std::fs::File::create(&path).unwrap()),
        );
    }
    let stop = Arc::new(AtomicBool::new(false));
    let flusher = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(20));
                rec.tick();
            }
        })
    };
    let other = std::thread::spawn(|| take_turns(POLLS_PER_THREAD, false));
    let late = take_turns(POLLS_PER_THREAD, true);
    other.join().unwrap();
    stop.store(true, Ordering::Relaxed);
    flusher.join().unwrap();
    let events = if record { rec.finish().len() } else { 0 };
    let _ = std::fs::remove_file(&path);
    (late, events)
}

#[test]
fn a_heartbeat_beside_a_busy_recording_is_no_later_than_without_it() {
    // Best of three of each, taken in turns, so that a moment when the
    // machine was busy does not decide.
    let mut recorded = Duration::MAX;
    let mut unrecorded = Duration::MAX;
    let mut events = usize::MAX;
    let started = Instant::now();
    for _ in 0..3 {
        let (late, n) = run(true);
        recorded = recorded.min(late);
        events = events.min(n);
        unrecorded = unrecorded.min(run(false).0);
    }
    println!(
        "worst heartbeat lateness, best of 3: recorded {recorded:?} ({events} events), unrecorded {unrecorded:?}; took {:?}",
        started.elapsed()
    );
    assert!(events >= 100_000, "only {events} events were recorded");
    // Two ticks of slack: the recorder's own work per poll may cost a
    // little, but never a stall of tens of milliseconds.
    assert!(
        recorded <= unrecorded + 2 * TICK,
        "recording made the heartbeat {recorded:?} late, against {unrecorded:?} without it"
    );
}
