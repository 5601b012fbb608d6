//! More to know about lesson 01, proven by counting polls and wake-ups: leaf
//! futures and the futures built around them, and what `#[tokio::main]`
//! writes for you.

use shared::work::wakers::CountingWaker;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use tokio::runtime::{Builder, Handle, RuntimeFlavor};

// ANCHOR: leaf
/// The outside world, as far as this test goes: a door that the test opens.
/// In real code it is a clock, a socket, another thread.
#[derive(Default)]
struct Door {
    open: Cell<bool>,
    waiter: RefCell<Option<Waker>>,
    /// Every answer the leaf gave, in order: `true` for `Ready`.
    answers: RefCell<Vec<bool>>,
}

impl Door {
    fn open(&self) {
        self.open.set(true);
        if let Some(waker) = self.waiter.take() {
            waker.wake();
        }
    }

    fn wait(&self) -> WaitForDoor<'_> {
        WaitForDoor { door: self }
    }
}

/// A leaf future: written by hand, with a `poll` of its own that asks the
/// outside world, and leaves its waker there when the answer is "not yet".
struct WaitForDoor<'d> {
    door: &'d Door,
}

impl Future for WaitForDoor<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let open = self.door.open.get();
        self.door.answers.borrow_mut().push(open);
        if open {
            return Poll::Ready(());
        }
        *self.door.waiter.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}
// ANCHOR_END: leaf

// ANCHOR: non_leaf
/// Non-leaf futures: the compiler writes their `poll`, and all it does is
/// poll the future they are waiting on.
async fn go_in(door: &Door) -> &'static str {
    door.wait().await;
    "in"
}

async fn visit(door: &Door) -> String {
    let step = go_in(door).await;
    format!("went {step}")
}
// ANCHOR_END: non_leaf

// ANCHOR: leaf_test
#[test]
fn each_poll_of_the_outer_future_polls_the_leaf_once_and_answers_as_it_did() {
    let door = Door::default();
    let (counter, waker) = CountingWaker::new();
    let mut cx = Context::from_waker(&waker);
    let mut outer = pin!(visit(&door));
    let mut outer_answers = Vec::new();
    for _ in 0..3 {
        outer_answers.push(outer.as_mut().poll(&mut cx).is_ready());
    }
    door.open();
    // The waker that reached the leaf is the one given to the outermost
    // future: the layers in between only passed the Context down.
    assert_eq!(counter.wakes(), 1);
    let last = outer.as_mut().poll(&mut cx);
    outer_answers.push(last.is_ready());
    assert_eq!(outer_answers, [false, false, false, true]);
    assert_eq!(
        *door.answers.borrow(),
        outer_answers,
        "one leaf poll per outer poll, and the same answer"
    );
    assert_eq!(last, Poll::Ready("went in".to_string()));
}
// ANCHOR_END: leaf_test

// ANCHOR: tokio_main
/// Async work that needs a runtime: a timer, and a task of its own.
async fn add_later(a: u32, b: u32) -> u32 {
    tokio::time::sleep(Duration::from_millis(1)).await;
    let task = tokio::spawn(async move { a + b });
    task.await.expect("the task does not panic")
}

/// With the macro. It takes the `async` off the function and gives it a
/// body that builds a runtime and blocks on the original body.
#[tokio::main]
async fn with_the_macro() -> (u32, RuntimeFlavor) {
    let sum = add_later(20, 22).await;
    (sum, Handle::current().runtime_flavor())
}

/// By hand: the body the macro writes, near enough.
fn by_hand() -> (u32, RuntimeFlavor) {
    Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("Failed building the Runtime")
        .block_on(async {
            let sum = add_later(20, 22).await;
            (sum, Handle::current().runtime_flavor())
        })
}

#[test]
fn tokio_main_is_a_plain_function_that_blocks_on_a_multi_thread_runtime() {
    // No longer async: a plain function pointer can hold it.
    let with_the_macro: fn() -> (u32, RuntimeFlavor) = with_the_macro;
    assert_eq!(with_the_macro(), (42, RuntimeFlavor::MultiThread));
    assert_eq!(by_hand(), with_the_macro());
}
// ANCHOR_END: tokio_main

// ANCHOR: enable_all
#[test]
#[should_panic(expected = "timers are disabled")]
fn without_enable_all_the_runtime_has_no_timer() {
    let runtime = Builder::new_multi_thread().build().unwrap();
    runtime.block_on(add_later(20, 22));
}
// ANCHOR_END: enable_all
