//! The two naps under paused tokio time: the clock only moves when every
//! task is waiting, so the counts below are exact on any machine. One test,
//! because both halves read the same nap counter.

use lesson_02::{NAP, NAPS_STARTED, broken, fixed, naps_with_heartbeat};
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::time::Instant;

#[tokio::test(start_paused = true)]
async fn a_nap_kept_in_the_state_finishes_and_a_rebuilt_one_never_does() {
    let before = NAPS_STARTED.load(Ordering::SeqCst);
    let start = Instant::now();
    naps_with_heartbeat(fixed::TwoNaps::Start).await;
    assert_eq!(start.elapsed(), 2 * NAP, "two naps, back to back");
    assert_eq!(NAPS_STARTED.load(Ordering::SeqCst) - before, 2);

    let before = NAPS_STARTED.load(Ordering::SeqCst);
    let outcome = tokio::time::timeout(
        Duration::from_secs(10),
        naps_with_heartbeat(broken::TwoNaps::First),
    )
    .await;
    assert!(
        outcome.is_err(),
        "10 s later the 60 ms of naps are not done"
    );
    let started = NAPS_STARTED.load(Ordering::SeqCst) - before;
    // One nap per heartbeat (every 10 ms for 10 s), each thrown away.
    assert!(started >= 1000, "{started} naps started");
}
