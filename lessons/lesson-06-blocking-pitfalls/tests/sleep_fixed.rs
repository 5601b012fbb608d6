//! The fixed half of the sleep claims, on paused time: exact on any machine.

use lesson_06::{NAP, NAPPERS, TICK, fixed, sleep};
use shared::lesson::Facts;

#[tokio::test(start_paused = true)]
async fn waits_that_yield_the_thread_overlap_and_the_heartbeat_keeps_time() {
    let start = tokio::time::Instant::now();
    let facts = Facts::for_test(&sleep::SPEC);
    sleep::measure(&facts, fixed::nap).await;
    // The ten naps all end at 100 ms; then one heartbeat tick is waited for.
    assert_eq!(start.elapsed(), NAP + TICK);
    assert_eq!(facts.get("elapsed_ratio"), Some(1.0));
    assert_eq!(facts.get("heartbeat_lateness"), Some(0.0));
    assert_eq!(facts.get("naps_at_once"), Some(f64::from(NAPPERS)));
}
