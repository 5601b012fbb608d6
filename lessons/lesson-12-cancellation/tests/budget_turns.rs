//! How late a heartbeat can be beside a loop that yields through tokio's
//! budget, on a current-thread runtime, and why it depends on where the
//! loop runs.
//!
//! A timer that is due is only seen when the thread visits the driver,
//! which it does when the loop yields (its budget of 128 units spent). The
//! heartbeat's task is woken there. What runs next differs:
//!
//! - a loop in `block_on`'s own future (the body of `#[tokio::main]`, and
//!   where lesson 12's harness runs the `starve` loop) is polled again
//!   first, so the heartbeat waits for one more of its slices: up to two
//!   slices in all;
//! - a loop in a spawned task was woken after the heartbeat (its wake-up
//!   was deferred to the driver's visit), so the heartbeat runs first: up
//!   to one slice.
//!
//! Counted in the loop's slices, not timed, so a busy machine changes
//! nothing.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The loop's slices (polls) that began after the heartbeat's timer was
/// due and before the heartbeat ran. The timer is made due before the loop
/// starts (the thread is blocked for a while first), so every slice counts.
async fn slices_the_heartbeat_waited(spawned: bool) -> usize {
    let starts: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let the_loop = {
        let starts = starts.clone();
        async move {
            let mut slice = std::pin::pin!(async move {
                // Always-ready work that spends the budget: about 20 µs an
                // item, so a slice of 128 items takes a few ms.
                for _ in 0..3_000 {
                    let until = Instant::now() + Duration::from_micros(20);
                    while Instant::now() < until {
                        std::hint::spin_loop();
                    }
                    tokio::task::coop::consume_budget().await;
                }
            });
            std::future::poll_fn(|cx| {
                starts.lock().unwrap().push(Instant::now());
                slice.as_mut().poll(cx)
            })
            .await
        }
    };
    let heartbeat = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1)).await;
        Instant::now()
    });
    // The heartbeat's first poll: its timer is set.
    tokio::task::yield_now().await;
    // The timer is now due, but nothing has looked at it yet.
    std::thread::sleep(Duration::from_millis(10));
    if spawned {
        tokio::spawn(the_loop).await.unwrap();
    } else {
        the_loop.await;
    }
    let ran = heartbeat.await.unwrap();
    let starts = starts.lock().unwrap();
    assert!(
        starts.len() > 10,
        "the loop should yield many times: {}",
        starts.len()
    );
    starts.iter().filter(|&&s| s < ran).count()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

#[test]
fn in_block_on_s_future_the_loop_gets_one_more_slice_before_the_heartbeat() {
    // The slice in which the timer was due, and one more.
    let waited = runtime().block_on(slices_the_heartbeat_waited(false));
    assert_eq!(waited, 2);
}

#[test]
fn in_a_spawned_task_the_heartbeat_runs_at_the_loop_s_next_yield() {
    // Only the slice in which the timer was due.
    let waited = runtime().block_on(slices_the_heartbeat_waited(true));
    assert_eq!(waited, 1);
}
