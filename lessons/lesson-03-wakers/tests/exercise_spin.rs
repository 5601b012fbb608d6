//! The `spin` grader grades, in a binary of its own: the CPU time it
//! measures is the whole process's, so no other test may run beside it.

use lesson_03::{SpinDelay, TimerDelay, spin};
use shared::grade::{Grader, Observed, observe_within};
use shared::lesson::Facts;
use shared::work::shape::Rng;
use std::future::Future;
use std::time::Duration;

#[allow(dead_code)]
#[path = "fixtures/delay/bug_sleep_in_poll.rs"]
mod bug_sleep_in_poll;
#[allow(dead_code)]
#[path = "fixtures/delay/bug_spin.rs"]
mod bug_spin;
#[allow(dead_code)]
#[path = "fixtures/delay/bug_thread_per_delay.rs"]
mod bug_thread_per_delay;
#[allow(dead_code)]
#[path = "fixtures/delay/bug_thread_per_delay_atomic_waker.rs"]
mod bug_thread_per_delay_atomic_waker;
#[allow(dead_code)]
#[path = "fixtures/delay/bug_thread_per_delay_channel.rs"]
mod bug_thread_per_delay_channel;
#[allow(dead_code)]
#[path = "fixtures/delay/bug_thread_per_delay_slot.rs"]
mod bug_thread_per_delay_slot;
#[allow(dead_code)]
#[path = "fixtures/delay/bug_ticking_thread.rs"]
mod bug_ticking_thread;
#[allow(dead_code)]
#[path = "fixtures/delay/fix_one_timer_thread.rs"]
mod fix_one_timer_thread;
#[allow(dead_code)]
#[path = "../exercise/start/delay.rs"]
mod start;

/// The spin scenario takes under half a second when it works.
const LIMIT: Duration = Duration::from_millis(2000);

fn in_spin<D: Future<Output = ()> + Send + 'static>(make: fn(Duration) -> D) -> (Observed, Facts) {
    let facts = Facts::for_test(&spin::SPEC);
    let theirs = facts.clone();
    let shapes = spin::shapes(&mut Rng::new(5));
    let observed = observe_within(LIMIT, move || spin::measure(&theirs, &shapes, make));
    (observed, facts)
}

#[test]
fn the_spin_grader_tells_a_sleeping_delay_from_a_spinning_one() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &spin::SPEC);
    // Counts, and the CPU time a waiting delay costs: nothing, on any
    // machine (the process is alone in this binary). The longest poll of a
    // fix is a few microseconds, but a busy machine may preempt it: that is
    // for `cargo xtask check`, which measures again when the machine is busy.
    let fixes = grader.only(&["polls", "busy_ratio", "early_delays"]);
    let (o, f) = in_spin(TimerDelay::new);
    fixes.assert_fixed("the reference fix", o, &f);
    let (o, f) = in_spin(bug_thread_per_delay_channel::delay);
    fixes.assert_fixed("wakers sent over a channel", o, &f);
    let (o, f) = in_spin(bug_thread_per_delay_slot::delay);
    fixes.assert_fixed("a waker slot replaced on every poll", o, &f);
    let (o, f) = in_spin(bug_thread_per_delay_atomic_waker::delay);
    fixes.assert_fixed("an AtomicWaker", o, &f);
    let (o, f) = in_spin(fix_one_timer_thread::delay);
    fixes.assert_fixed("one timer thread for all", o, &f);
    let (o, f) = in_spin(bug_thread_per_delay::delay);
    fixes.assert_fixed("a wake-up under the lock", o, &f);

    // How much CPU a spin gets depends on what else the machine runs (on a
    // box with every core busy, under a third): the spins are judged here
    // by their polls, a count; `cargo xtask check` judges their CPU too.
    let spins = grader.only(&["polls"]);
    let (o, f) = in_spin(SpinDelay::new);
    spins.assert_bug("the reference spin", o, &f);
    let (o, f) = in_spin(bug_spin::delay);
    spins.assert_bug("another spin", o, &f);
    let (o, f) = in_spin(bug_ticking_thread::delay);
    assert!(f.get("polls").unwrap() > 3.0, "{f:?}");
    grader.assert_not_fixed("a thread that wakes every 5 ms", o, &f);
    let (o, f) = in_spin(start::delay);
    grader.assert_not_fixed("the untouched exercise, which hangs", o, &f);

    // A sleep in poll: two polls at most, an idle core, nothing early; it
    // held the thread for most of each delay it slept through (the first
    // delay of each shape is polled at once, and sleeps to its end).
    let (o, f) = in_spin(bug_sleep_in_poll::delay);
    fixes.assert_fixed("a sleep in poll, by its counts and CPU", o.clone(), &f);
    assert!(f.get("held_ratio").unwrap() > 0.5, "{f:?}");
    grader.assert_not_fixed("a sleep in poll", o, &f);
}
