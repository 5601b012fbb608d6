//! The claims of lesson 03, proven with counting wakers, manual triggers and
//! paused tokio time: no test here depends on how fast the machine is.

use lesson_03::{CountPolls, ForgetfulDelay, MiniExecutor, SpinDelay, TimerDelay};
use shared::work::wakers::CountingWaker;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

const HOUR: Duration = Duration::from_secs(3600);

fn counting() -> (std::sync::Arc<CountingWaker>, std::task::Waker) {
    CountingWaker::new()
}

fn wakes(counter: &CountingWaker) -> usize {
    counter.wakes()
}

#[test]
fn the_forgetful_delay_says_pending_and_arranges_no_wake_up() {
    let (counter, waker) = counting();
    let mut cx = Context::from_waker(&waker);
    let mut delay = pin!(ForgetfulDelay::new(HOUR));
    assert_eq!(delay.as_mut().poll(&mut cx), Poll::Pending);
    assert_eq!(wakes(&counter), 0, "nobody was asked to wake the task");
}

static FORGETFUL_POLLS: AtomicU32 = AtomicU32::new(0);

#[tokio::test(start_paused = true)]
async fn tokio_never_polls_the_forgetful_delay_again_even_long_after_its_deadline() {
    let delay = CountPolls::new(ForgetfulDelay::new(Duration::from_millis(100)), |n| {
        FORGETFUL_POLLS.store(n, Ordering::SeqCst)
    });
    // A task of its own, so that only its own waker could get it polled.
    let task = tokio::spawn(delay);
    // With time paused, tokio moves the clock on whenever nothing can run:
    // this sleep ends at once, 100 times past the delay's deadline.
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert!(!task.is_finished(), "the delay never finished");
    assert_eq!(
        FORGETFUL_POLLS.load(Ordering::SeqCst),
        1,
        "polled once, never again"
    );
    task.abort();
}

static RESCUED_POLLS: AtomicU32 = AtomicU32::new(0);

#[tokio::test(start_paused = true)]
async fn inside_a_timeout_the_forgetful_delay_finishes_only_by_accident() {
    let delay = CountPolls::new(ForgetfulDelay::new(Duration::from_millis(100)), |n| {
        RESCUED_POLLS.store(n, Ordering::SeqCst)
    });
    let start = tokio::time::Instant::now();
    // The timeout's own timer wakes the task at 10 s; the task then polls
    // everything in it, the delay included, which is long past its deadline.
    let result = tokio::time::timeout(Duration::from_secs(10), delay).await;
    assert!(result.is_ok(), "it finished...");
    assert!(start.elapsed() >= Duration::from_secs(10), "...9.9 s late");
    assert_eq!(RESCUED_POLLS.load(Ordering::SeqCst), 2);
}

#[test]
fn the_spinning_delay_wakes_itself_once_for_every_pending() {
    let (counter, waker) = counting();
    let mut cx = Context::from_waker(&waker);
    let mut delay = pin!(SpinDelay::new(HOUR));
    for i in 1..=5 {
        assert_eq!(delay.as_mut().poll(&mut cx), Poll::Pending);
        assert_eq!(
            wakes(&counter),
            i,
            "each Pending asks to be polled again at once"
        );
    }
}

#[test]
fn the_timer_wakes_the_waker_of_the_latest_poll_not_an_old_one() {
    let (a_counter, a) = counting();
    let (b_counter, b) = counting();
    let mut delay = pin!(TimerDelay::new(HOUR));
    let trigger = delay.trigger();
    assert_eq!(
        delay.as_mut().poll(&mut Context::from_waker(&a)),
        Poll::Pending
    );
    // The task moves: the next poll comes with another waker.
    assert_eq!(
        delay.as_mut().poll(&mut Context::from_waker(&b)),
        Poll::Pending
    );
    trigger.fire();
    assert_eq!(wakes(&a_counter), 0, "the stale waker is not woken");
    assert_eq!(wakes(&b_counter), 1, "the latest waker is woken, once");
    assert_eq!(
        delay.as_mut().poll(&mut Context::from_waker(&b)),
        Poll::Ready(())
    );
}

#[test]
fn our_executor_polls_a_timer_delay_exactly_twice() {
    let mut executor = MiniExecutor::default();
    executor.spawn(TimerDelay::new(Duration::from_millis(5)));
    executor.spawn(TimerDelay::new(Duration::from_millis(10)));
    executor.spawn(async {}); // ready at once: one poll
    assert_eq!(executor.run(), [2, 2, 1]);
}

#[test]
fn tokio_polls_the_same_timer_delay_exactly_twice() {
    let runtime = lesson_03::current_thread_runtime();
    let ((), polls) = runtime.block_on(CountPolls::new(
        TimerDelay::new(Duration::from_millis(5)),
        |_| {},
    ));
    assert_eq!(polls, 2);
}

#[test]
fn join_polls_every_branch_whenever_any_branch_wakes() {
    // Three delays in one task share its waker, so the task cannot tell which
    // one woke it and polls them all: a future must expect extra polls.
    let delays = [
        TimerDelay::new(HOUR),
        TimerDelay::new(HOUR),
        TimerDelay::new(HOUR),
    ];
    let triggers: Vec<_> = delays.iter().map(TimerDelay::trigger).collect();
    let [a, b, c] = delays.map(|d| CountPolls::new(d, |_| {}));
    let mut joined = pin!(async {
        let (a, b, c) = tokio::join!(a, b, c);
        [a.1, b.1, c.1]
    });
    let (counter, waker) = counting();
    let mut cx = Context::from_waker(&waker);
    assert!(joined.as_mut().poll(&mut cx).is_pending());
    for (fired, trigger) in (1..).zip(&triggers[..2]) {
        trigger.fire();
        // Each delay kept the very waker the task gave `join!`.
        assert_eq!(wakes(&counter), fired);
        assert!(joined.as_mut().poll(&mut cx).is_pending());
    }
    triggers[2].fire();
    assert_eq!(wakes(&counter), 3);
    assert_eq!(joined.as_mut().poll(&mut cx), Poll::Ready([2, 3, 4]));
}
