//! The claims of lesson 01, proven without a clock: by poll counts, wake
//! counts and the kitchen's log.

use lesson_01::{Kitchen, Note, Order, YieldNow, block_on, broken, cook, fixed, polls_made};
use shared::work::wakers::CountingWaker;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll};

/// A kitchen with three orders on its pad, numbered 1 to 3.
fn three_orders() -> Kitchen {
    Kitchen::new(vec![
        Order {
            number: 1,
            dish: "soup",
        },
        Order {
            number: 2,
            dish: "pasta",
        },
        Order {
            number: 3,
            dish: "salad",
        },
    ])
}

#[test]
fn calling_an_async_fn_runs_none_of_its_body() {
    let kitchen = three_orders();
    let future = cook(&kitchen, kitchen.orders()[0]);
    assert!(kitchen.log().is_empty(), "not even the first line ran");
    drop(future);
    assert!(kitchen.log().is_empty(), "dropping it ran nothing either");
}

#[test]
fn the_first_poll_runs_the_body_up_to_the_first_pending() {
    let kitchen = three_orders();
    let (counter, waker) = CountingWaker::new();
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(cook(&kitchen, kitchen.orders()[1]));
    assert_eq!(future.as_mut().poll(&mut cx), Poll::Pending);
    assert_eq!(
        kitchen.log(),
        [Note::Started(2), Note::Step(2, "chop")],
        "one poll: start, first step, then Pending at the first yield"
    );
    assert_eq!(counter.wakes(), 1, "and it asked to be polled again");
}

#[test]
fn yield_now_is_pending_once_and_wakes_before_saying_so() {
    let (counter, waker) = CountingWaker::new();
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(YieldNow::default());
    assert_eq!(future.as_mut().poll(&mut cx), Poll::Pending);
    assert_eq!(counter.wakes(), 1);
    assert_eq!(future.as_mut().poll(&mut cx), Poll::Ready(()));
    assert_eq!(counter.wakes(), 1, "Ready needs no wake-up");
}

#[test]
fn block_on_polls_until_ready() {
    let before = polls_made();
    block_on(YieldNow::default());
    assert_eq!(polls_made() - before, 2, "Pending, then Ready");
    assert_eq!(block_on(async { 6 * 7 }), 42, "and hands back the output");
}

#[test]
fn the_broken_kitchen_cooks_nothing() {
    let kitchen = three_orders();
    let before = polls_made();
    broken::take_orders(&kitchen);
    assert_eq!(kitchen.cooked(), 0);
    assert!(kitchen.log().is_empty());
    assert_eq!(polls_made(), before, "nobody polled anything");
}

#[test]
fn awaiting_in_turn_cooks_one_order_after_another() {
    let kitchen = three_orders();
    let before = polls_made();
    fixed::cook_in_turn(&kitchen);
    assert_eq!(kitchen.cooked(), 3);
    assert_eq!(kitchen.step_order(), [1, 1, 1, 2, 2, 2, 3, 3, 3]);
    assert!(!kitchen.interleaved());
    // One first poll, then three more per order: the poll that finishes one
    // order goes straight on into the next.
    assert_eq!(polls_made() - before, 10);
}

#[test]
fn joining_moves_every_order_one_step_per_poll() {
    let kitchen = three_orders();
    let before = polls_made();
    fixed::cook_joined(&kitchen);
    assert_eq!(kitchen.cooked(), 3);
    assert_eq!(kitchen.step_order(), [1, 2, 3, 1, 2, 3, 1, 2, 3]);
    assert!(kitchen.interleaved());
    assert_eq!(
        polls_made() - before,
        4,
        "three steps, then the finishing poll"
    );
}
