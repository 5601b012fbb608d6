//! More to know about wakers and pinning, proven by counting: which way of
//! waking clones the waker, and why a boxed future may move while the future
//! in the box may not.

use lesson_03::{CountPolls, TimerDelay};
use shared::work::wakers::CountingWaker;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

const HOUR: Duration = Duration::from_secs(3600);

// ANCHOR: wake_kinds
/// A waker that writes down, each time it is woken, how many `Arc`s point
/// at it. Like lesson 03's `Task`, it implements only `wake`.
#[derive(Default)]
struct Witness(Mutex<Vec<usize>>);

impl Wake for Witness {
    fn wake(self: Arc<Self>) {
        self.0.lock().unwrap().push(Arc::strong_count(&self));
    }
}

#[test]
fn wake_consumes_the_waker_and_the_default_wake_by_ref_clones_it_first() {
    let witness = Arc::new(Witness::default());
    let waker = Waker::from(witness.clone());
    assert_eq!(Arc::strong_count(&witness), 2, "ours, and the waker's");

    // `wake_by_ref(&self)` has only a reference, but `wake` wants an Arc of
    // its own: the default `wake_by_ref` clones one (3 Arcs) to hand over.
    waker.wake_by_ref();
    assert_eq!(*witness.0.lock().unwrap(), [3]);
    assert_eq!(Arc::strong_count(&witness), 2, "the clone is gone again");

    // `wake(self)` moves the waker's own Arc in: no clone, and afterwards
    // the waker no longer exists.
    waker.wake();
    assert_eq!(*witness.0.lock().unwrap(), [3, 2]);
    assert_eq!(Arc::strong_count(&witness), 1, "only ours is left");
}
// ANCHOR_END: wake_kinds

// ANCHOR: not_unpin
/// Keeps a reference to its own local across an `.await`: while it waits,
/// the future holds both `word` and `borrowed`, which points at `word`.
async fn count_letters(delay: TimerDelay, word: String) -> usize {
    let borrowed = &word;
    delay.await;
    borrowed.len()
}

/// Polls a future that the caller may move between polls, as a plain
/// `&mut` allows: only an `Unpin` future may be polled this way.
fn poll_unpin<F: Future + Unpin>(future: &mut F, cx: &mut Context<'_>) -> Poll<F::Output> {
    Pin::new(future).poll(cx)
}
// ANCHOR_END: not_unpin

// ANCHOR: box_pin
#[test]
fn a_boxed_future_is_unpin_because_moving_the_box_leaves_the_future_in_place() {
    let delay = TimerDelay::new(HOUR);
    let trigger = delay.trigger();
    let (_, waker) = CountingWaker::new();
    let mut cx = Context::from_waker(&waker);

    // `poll_unpin(&mut count_letters(...), ...)` does not compile (see the
    // crate's docs). In a box it does:
    let mut boxed = Box::pin(count_letters(delay, "pinned".to_string()));
    assert!(poll_unpin(&mut boxed, &mut cx).is_pending());
    let future_at = std::ptr::from_ref(&*boxed);

    let mut shelf = [boxed]; // the box moves...
    assert_eq!(
        std::ptr::from_ref(&*shelf[0]),
        future_at,
        "...and the future in it stays where it was"
    );
    trigger.fire();
    assert_eq!(poll_unpin(&mut shelf[0], &mut cx), Poll::Ready(6));

    // `pin!` pins on the stack instead: the `Pin<&mut _>` it gives is Unpin
    // too, and the future it points at cannot be reached to be moved.
    let mut on_the_stack = pin!(count_letters(TimerDelay::new(HOUR), "stack".to_string()));
    assert!(poll_unpin(&mut on_the_stack, &mut cx).is_pending());
}
// ANCHOR_END: box_pin

// ANCHOR: projection
fn is_unpin<T: Unpin>() {}

#[test]
fn count_polls_is_unpin_around_an_unpin_future_and_still_polls_one_that_is_not() {
    // A hand-written future with no self-references is Unpin on its own...
    is_unpin::<TimerDelay>();
    // ...and `pin_project!` made `CountPolls` Unpin when its `#[pin]` field
    // is. (Around an async fn's future it is not: a doctest in src/lib.rs.)
    is_unpin::<CountPolls<TimerDelay, fn(u32)>>();

    // CountPolls::poll got a `Pin<&mut F>` for `inner` from the projection,
    // so it works around a future that is not Unpin as well.
    let (_, waker) = CountingWaker::new();
    let mut cx = Context::from_waker(&waker);
    let delay = TimerDelay::new(HOUR);
    let trigger = delay.trigger();
    let mut counted = pin!(CountPolls::new(
        count_letters(delay, "projected".to_string()),
        |_| {}
    ));
    assert!(counted.as_mut().poll(&mut cx).is_pending());
    trigger.fire();
    assert_eq!(counted.as_mut().poll(&mut cx), Poll::Ready((9, 2)));
}
// ANCHOR_END: projection
