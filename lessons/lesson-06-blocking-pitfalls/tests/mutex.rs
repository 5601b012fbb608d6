//! The mutex claims, proven by polling by hand: no thread is ever blocked,
//! so no test here can hang.

use lesson_06::{SAVE, TICK, broken, fixed, mutex};
use shared::lesson::Facts;
use std::future::Future;
use std::pin::pin;
use std::sync::Mutex;
use std::task::{Context, Waker};
use tokio::time::Instant;

/// Two hits at once, with saves of `SAVE`, the counter starting at 0.
fn two_at_once() -> [mutex::Shape; 1] {
    [mutex::Shape {
        name: "two at once".into(),
        stored: 0,
        arrivals: vec![std::time::Duration::ZERO; 2],
        save: SAVE,
    }]
}

#[tokio::test(start_paused = true)]
async fn a_std_guard_held_across_await_is_still_locked_while_its_future_is_paused() {
    let hits = Mutex::new(0);
    let mut future_a = pin!(broken::record_hit(&hits));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(
        future_a.as_mut().poll(&mut cx).is_pending(),
        "A pauses in save()"
    );
    // Future B's `hits.lock()`, on this same thread, would now never return
    // (std: it "might panic or deadlock"), and A needs this thread to be
    // polled again and unlock.
    assert!(
        hits.try_lock().is_err(),
        "the lock is held by a future that is not running"
    );
}

#[tokio::test(start_paused = true)]
async fn a_guard_scoped_before_the_await_is_released_while_its_future_is_paused() {
    let hits = Mutex::new(0);
    let mut future_a = pin!(fixed::record_hit(&hits));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(
        future_a.as_mut().poll(&mut cx).is_pending(),
        "A pauses in save()"
    );
    assert_eq!(*hits.try_lock().expect("the lock is free"), 1);
}

#[tokio::test(start_paused = true)]
async fn with_scoped_guards_both_saves_overlap() {
    let facts = Facts::for_test(&mutex::SPEC);
    let start = Instant::now();
    mutex::measure(&facts, &two_at_once(), Mutex::new, fixed::record_hit).await;
    assert_eq!(facts.get("hits_saved"), Some(1.0), "every hit saved");
    assert_eq!(facts.get("wrong_saves"), Some(0.0));
    // Two 20 ms saves at once; then the harness waits one save and a tick,
    // for any save still running.
    assert_eq!(start.elapsed(), SAVE + SAVE + TICK);
    assert_eq!(facts.get("heartbeat_lateness"), Some(0.0));
}

#[tokio::test(start_paused = true)]
async fn an_async_mutex_makes_the_second_future_wait_without_blocking() {
    let hits = tokio::sync::Mutex::new(0);
    let mut future_a = pin!(fixed::record_hit_in_order(&hits));
    let mut future_b = pin!(fixed::record_hit_in_order(&hits));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(
        future_a.as_mut().poll(&mut cx).is_pending(),
        "A holds the lock, saving"
    );
    assert!(
        future_b.as_mut().poll(&mut cx).is_pending(),
        "B waits for the lock by returning Pending: the thread stays free"
    );
}

#[tokio::test(start_paused = true)]
async fn with_an_async_mutex_the_saves_happen_one_after_the_other() {
    let facts = Facts::for_test(&mutex::SPEC);
    let start = Instant::now();
    mutex::measure(
        &facts,
        &two_at_once(),
        tokio::sync::Mutex::new,
        fixed::record_hit_in_order,
    )
    .await;
    assert_eq!(facts.get("hits_saved"), Some(1.0), "every hit saved");
    assert_eq!(
        start.elapsed(),
        SAVE * 2 + SAVE + TICK,
        "in order: A, then B"
    );
    assert_eq!(
        facts.get("heartbeat_lateness"),
        Some(0.0),
        "the heartbeat kept time while B waited"
    );
}
