//! The fixed half of the sleep claims, on paused time: exact on any machine.

use lesson_06::{NAP, TICK, fixed, nappers};

#[tokio::test(start_paused = true)]
async fn waits_that_yield_the_thread_overlap_and_the_heartbeat_keeps_time() {
    let start = tokio::time::Instant::now();
    let measured = nappers(fixed::nap).await;
    // The ten naps all end at 100 ms; then one heartbeat tick is waited for.
    assert_eq!(start.elapsed(), NAP + TICK);
    assert_eq!(measured.lateness, 0.0);
}
