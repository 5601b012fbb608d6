//! Lesson 05's claims on paused tokio time: the clock moves only when every
//! task waits, so these counts are exact on any machine.

use lesson_05::{DEADLINE, ITEMS, broken, fixed, numbers, run_worker};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep};

#[tokio::test(start_paused = true)]
async fn a_sleep_made_inside_the_loop_never_fires() {
    let (tally, due) = run_worker(broken::worker).await;
    assert_eq!(tally.handled, ITEMS);
    assert_eq!(due, 9, "items arrive from 0 to 990 ms");
    assert_eq!(tally.reports, 0);
}

#[tokio::test(start_paused = true)]
async fn a_pinned_sleep_reset_after_each_report_fires_every_time() {
    let (tally, due) = run_worker(fixed::worker).await;
    assert_eq!(tally.handled, ITEMS);
    assert_eq!(tally.reports, due);
    assert_eq!(due, 9);
}

#[tokio::test(start_paused = true)]
async fn an_interval_fires_every_time_too() {
    let (tally, due) = run_worker(fixed::worker_with_interval).await;
    assert_eq!((tally.handled, tally.reports), (ITEMS, due));
}

#[tokio::test(start_paused = true)]
async fn a_pinned_deadline_ends_the_read_on_time() {
    let start = Instant::now();
    let read = fixed::read_until_deadline(numbers()).await;
    assert_eq!(start.elapsed(), DEADLINE);
    // A number every 10 ms; the one due at exactly 1 s may lose the race.
    assert!((99..=100).contains(&read), "read {read}");
}

#[tokio::test(start_paused = true)]
async fn a_deadline_made_inside_the_loop_never_comes() {
    let outcome = tokio::time::timeout(
        Duration::from_secs(10),
        broken::read_until_deadline(numbers()),
    )
    .await;
    assert!(outcome.is_err(), "still reading ten seconds later");
}

/// Sets its flag when dropped.
struct DropGuard(Arc<AtomicBool>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[tokio::test(start_paused = true)]
async fn select_drops_the_branch_that_loses() {
    let dropped = Arc::new(AtomicBool::new(false));
    let guard = DropGuard(dropped.clone());
    let slow = async move {
        let _guard = guard; // lives as long as this future
        sleep(Duration::from_secs(1)).await;
        "slow"
    };
    let winner = tokio::select! {
        w = slow => w,
        () = sleep(Duration::from_millis(10)) => "fast",
    };
    assert_eq!(winner, "fast");
    assert!(
        dropped.load(Ordering::SeqCst),
        "the slow branch was dropped, unfinished"
    );
}

#[tokio::test(start_paused = true)]
async fn recv_is_cancel_safe_no_message_is_lost_when_it_loses() {
    let (tx, mut rx) = mpsc::channel(8);
    tokio::spawn(async move {
        for i in 0..5 {
            sleep(Duration::from_millis(15)).await;
            tx.send(i).await.unwrap();
        }
    });
    let mut got = Vec::new();
    let mut ticks = tokio::time::interval(Duration::from_millis(10));
    loop {
        tokio::select! {
            msg = rx.recv() => match msg {
                Some(m) => got.push(m),
                None => break,
            },
            _ = ticks.tick() => {} // wins often, and cancels recv each time
        }
    }
    assert_eq!(got, [0, 1, 2, 3, 4], "every message arrived, in order");
}

#[tokio::test(start_paused = true)]
async fn a_half_done_read_loses_data_when_it_loses() {
    let (tx, mut rx) = mpsc::channel(8);
    tokio::spawn(async move {
        tx.send("first half").await.unwrap();
        sleep(Duration::from_millis(50)).await;
        tx.send("second half").await.unwrap();
    });
    // Reads a message in two parts. Not cancel-safe: if it is dropped
    // between the two receives, the first part is gone with it.
    let mut read_pair = async || (rx.recv().await, rx.recv().await);
    let outcome = tokio::select! {
        pair = read_pair() => Some(pair),
        () = sleep(Duration::from_millis(20)) => None,
    };
    assert!(outcome.is_none(), "the timeout won, mid-read");
    let next = rx.recv().await;
    assert_eq!(next, Some("second half"), "the first half was lost");
}
