//! `buffered` drives the futures it holds only while the stream itself is
//! polled. While the loop body awaits something else, a fetch that needs
//! polling to make progress stands still. The pipeline's fetches do not,
//! because reqwest's connection runs on a task of its own; a fetch that is a
//! plain future of several steps, each awaited in turn, does. Time is
//! tokio's paused clock, so the counts are exact.

use futures::StreamExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

const STEP: Duration = Duration::from_millis(10);
/// Round trips of the first fetch, and of each of the three others.
const FIRST: u32 = 1;
const OTHERS: u32 = 5;
const BODY: Duration = Duration::from_millis(100);

/// A fetch of `n` round trips, each begun only when the last has ended:
/// it advances only while something polls it.
async fn fetch(n: u32, steps: Arc<AtomicU32>) {
    for _ in 0..n {
        tokio::time::sleep(STEP).await;
        steps.fetch_add(1, SeqCst);
    }
}

/// Steps the other fetches made while the loop body awaited its first
/// (slow) hand-over: `spawned` runs each fetch as a task of its own.
async fn steps_during_the_body(spawned: bool) -> u32 {
    let steps = Arc::new(AtomicU32::new(0));
    let fetches = (0..4).map(|i| {
        let (n, steps) = (if i == 0 { FIRST } else { OTHERS }, steps.clone());
        async move {
            if spawned {
                tokio::spawn(fetch(n, steps)).await.expect("no panic");
            } else {
                fetch(n, steps).await;
            }
        }
    });
    let mut fetched = std::pin::pin!(futures::stream::iter(fetches).buffered(4));
    fetched.next().await.expect("a first fetch");
    let before = steps.load(SeqCst);
    // The loop body: a slow send to the next stage, say.
    tokio::time::sleep(BODY).await;
    let during = steps.load(SeqCst) - before;
    while fetched.next().await.is_some() {}
    during
}

#[tokio::test(start_paused = true)]
async fn a_buffered_stream_stands_still_while_the_loop_body_awaits() {
    // Four fetches started together: when the first is done, the other
    // three have four steps left each, and none is taken while the body
    // waits.
    assert_eq!(steps_during_the_body(false).await, 0);
}

#[tokio::test(start_paused = true)]
async fn fetches_spawned_as_tasks_go_on_while_the_loop_body_awaits() {
    // All of the three others' steps left: 100 ms is time for all four.
    assert_eq!(steps_during_the_body(true).await, 3 * (OTHERS - FIRST));
}
