//! Lesson 02's claims about layout and polling, proven without a clock.

use lesson_02::{
    BUFFER, Backend, Brew, Reply, brew, broken, checksum, fixed, receive, wait_for_backend,
};
use shared::work::wakers::CountingWaker;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll};

#[test]
fn the_hand_written_enum_and_the_async_fn_agree_poll_by_poll() {
    let (fn_wakes, fn_waker) = CountingWaker::new();
    let (enum_wakes, enum_waker) = CountingWaker::new();
    let mut by_compiler = pin!(brew(7));
    let mut by_hand = pin!(Brew::Start { order: 7 });
    let mut trace = Vec::new();
    loop {
        let a = by_compiler
            .as_mut()
            .poll(&mut Context::from_waker(&fn_waker));
        let b = by_hand.as_mut().poll(&mut Context::from_waker(&enum_waker));
        assert_eq!(a, b, "poll {} differs", trace.len() + 1);
        assert_eq!(
            fn_wakes.wakes(),
            enum_wakes.wakes(),
            "both asked to be woken the same number of times"
        );
        trace.push(a);
        if a.is_ready() {
            break;
        }
    }
    // Grinding takes two polls, pouring three, and the poll that finishes
    // grinding also makes pouring's first step: four polls in all.
    assert_eq!(
        trace,
        [
            Poll::Pending,
            Poll::Pending,
            Poll::Pending,
            Poll::Ready(7218)
        ]
    );
    assert_eq!(fn_wakes.wakes(), 3, "one wake-up for each Pending");
}

/// The same 16 KiB of bytes as the handlers' buffer, but not `Copy`, and
/// with a destructor: here `drop` really moves the bytes out of the
/// variable and ends them.
struct NotCopy([u8; BUFFER]);

impl Drop for NotCopy {
    fn drop(&mut self) {}
}

/// Fills `buffer` with `id`'s bytes, as a read would; returns how many.
fn read_request(id: u32, buffer: &mut [u8]) -> usize {
    let len = buffer.len() / 2 + id as usize % (buffer.len() / 2);
    for (i, b) in buffer[..len].iter_mut().enumerate() {
        *b = (i as u32 ^ id) as u8;
    }
    len
}

/// Borrowed to be filled and read, then dropped before the `.await`.
async fn borrowed_then_dropped(id: u32, backend: Backend) -> Reply {
    let mut buffer = NotCopy([0u8; BUFFER]);
    let len = read_request(id, &mut buffer.0);
    let sum = checksum(&buffer.0[..len]);
    drop(buffer);
    wait_for_backend(backend).await;
    Reply { id, checksum: sum }
}

fn read_into_new_buffer(id: u32) -> ([u8; BUFFER], usize) {
    let mut buffer = [0u8; BUFFER];
    let len = read_request(id, &mut buffer);
    (buffer, len)
}

fn checksum_of(buffer: [u8; BUFFER], len: usize) -> u64 {
    checksum(&buffer[..len])
}

/// The same array, `Copy` as ever, but never borrowed in the `async fn`:
/// made and handed on by value only.
async fn passed_by_value_only(id: u32, backend: Backend) -> Reply {
    let (buffer, len) = read_into_new_buffer(id);
    let sum = checksum_of(buffer, len);
    wait_for_backend(backend).await;
    Reply { id, checksum: sum }
}

/// What keeps a local in the future is a borrow, not `Copy`: a local that
/// was ever borrowed keeps its place until the end of its scope, even if it
/// was moved out (dropped) before the `.await`; one that was never borrowed
/// is kept only if it is used after the `.await`.
#[test]
fn a_local_once_borrowed_stays_in_the_future_until_its_scope_ends() {
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let borrowed = size_of_val(&borrowed_then_dropped(1, rx.clone()));
    let by_value = size_of_val(&passed_by_value_only(1, rx));
    assert!(borrowed >= BUFFER, "borrowed, then dropped: {borrowed}");
    assert!(by_value <= 1024, "never borrowed: {by_value}");
}

#[test]
fn a_future_is_as_big_as_the_locals_it_keeps_across_an_await() {
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let broken_size = size_of_val(&broken::handle(1, rx.clone()));
    let fixed_size = size_of_val(&fixed::handle(1, rx));
    assert!(broken_size >= BUFFER, "the buffer is inside: {broken_size}");
    assert!(
        fixed_size * 50 <= broken_size,
        "{fixed_size} bytes is at most a fiftieth of {broken_size}"
    );
}

/// The future an `.await` waits on is kept inside the future that awaits
/// it: a caller whose waiting state keeps nothing is still as big as the
/// callee it awaits in place, and small when the callee is boxed.
#[test]
fn a_future_awaited_in_place_is_a_state_of_its_caller() {
    #[expect(clippy::large_futures, reason = "the point of the test")]
    async fn in_place(id: u32, backend: Backend) -> Reply {
        let checksum = checksum(receive(id).await.bytes());
        wait_for_backend(backend).await;
        Reply { id, checksum }
    }
    async fn boxed(id: u32, backend: Backend) -> Reply {
        let checksum = checksum(Box::pin(receive(id)).await.bytes());
        wait_for_backend(backend).await;
        Reply { id, checksum }
    }
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let callee = size_of_val(&receive(1));
    let in_place = size_of_val(&in_place(1, rx.clone()));
    let boxed = size_of_val(&boxed(1, rx));
    assert!(callee >= BUFFER, "receive holds its buffer: {callee}");
    assert!(in_place >= callee, "{in_place} holds receive's {callee}");
    assert!(boxed <= 1024, "boxed: {boxed}");
}

#[test]
fn both_handlers_give_the_right_replies() {
    // Each request can be received once, as from a socket: each handler
    // gets a round of its own, checked against the harness's record.
    for (name, parked) in [
        ("broken", lesson_02::park_handlers(20, broken::handle)),
        ("fixed", lesson_02::park_handlers(20, fixed::handle)),
    ] {
        assert_eq!(parked.replies, 20, "{name}");
        assert_eq!(
            parked.wrong_replies, 0,
            "{name}: the fix changes where the bytes live, not the answer"
        );
        assert_eq!(parked.unread_requests, 0, "{name}");
    }
}

// ANCHOR: naps_async_fn
/// What the `naps` state machine should do, as the compiler would write it.
async fn naps(count: u32) -> u64 {
    let mut total = 0;
    for _ in 0..count {
        total += lesson_02::nap().await;
    }
    total
}
// ANCHOR_END: naps_async_fn

#[tokio::test(start_paused = true)]
async fn the_fixed_machine_does_what_the_async_fn_does() {
    // Outside the harness a nap lasts `NAP` and gives 1.
    for count in 0..4 {
        let start = tokio::time::Instant::now();
        assert_eq!(naps(count).await, u64::from(count));
        let by_compiler = start.elapsed();
        let start = tokio::time::Instant::now();
        assert_eq!(fixed::naps(count).await, u64::from(count));
        assert_eq!(start.elapsed(), by_compiler);
        assert_eq!(by_compiler, lesson_02::NAP * count);
    }
}
