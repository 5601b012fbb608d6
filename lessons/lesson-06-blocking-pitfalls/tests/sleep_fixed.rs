//! The fixed half of the sleep claims, on paused time: exact on any machine.

use lesson_06::sleep::{self, Shape};
use lesson_06::{NAP, NAPPERS, TICK, fixed};
use shared::lesson::Facts;
use std::time::Duration;

#[tokio::test(start_paused = true)]
async fn waits_that_yield_the_thread_overlap_and_the_heartbeat_keeps_time() {
    let start = tokio::time::Instant::now();
    let facts = Facts::for_test(&sleep::SPEC);
    let ten = Shape {
        name: "ten waits of 100 ms".into(),
        lengths: vec![NAP; NAPPERS as usize],
    };
    let mixed = Shape {
        name: "waits of 60 to 150 ms".into(),
        lengths: [60, 150, 90, 120].map(Duration::from_millis).to_vec(),
    };
    sleep::measure(&facts, &[ten, mixed], fixed::nap).await;
    // Each workload takes its longest wait; then one heartbeat tick.
    assert_eq!(start.elapsed(), NAP + Duration::from_millis(150) + TICK);
    assert_eq!(facts.get("elapsed_ratio"), Some(1.0));
    assert_eq!(facts.get("heartbeat_lateness"), Some(0.0));
    assert_eq!(facts.get("naps_at_once"), Some(1.0), "all of them at once");
    assert_eq!(facts.get("shortest_nap_ratio"), Some(1.0));
    assert_eq!(facts.get("longest_nap_ratio"), Some(1.0));
    assert!(
        facts.get("asleep_share").unwrap() < 0.05,
        "{:?}",
        facts.values()
    );
}
