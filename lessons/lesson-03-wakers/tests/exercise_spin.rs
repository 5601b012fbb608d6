//! The `spin` grader grades, in a binary of its own: the CPU time it
//! measures is the whole process's, so no other test may run beside it.

use lesson_03::{SpinDelay, TimerDelay, spin};
use shared::grade::{Grader, Observed, observe_within};
use shared::lesson::Facts;
use std::future::Future;
use std::time::Duration;

#[allow(dead_code)]
#[path = "fixtures/delay/bug_spin.rs"]
mod bug_spin;
#[allow(dead_code)]
#[path = "fixtures/delay/fix_clone_from.rs"]
mod fix_clone_from;
#[allow(dead_code)]
#[path = "fixtures/delay/fix_waker_channel.rs"]
mod fix_waker_channel;
#[allow(dead_code)]
#[path = "../exercise/start/delay.rs"]
mod start;

/// The spin scenario takes 200 ms when it works.
const LIMIT: Duration = Duration::from_millis(1500);

fn in_spin<D: Future<Output = ()> + Send + 'static>(make: fn(Duration) -> D) -> (Observed, Facts) {
    let facts = Facts::for_test(&spin::SPEC);
    let theirs = facts.clone();
    let observed = observe_within(LIMIT, move || spin::measure(&theirs, make));
    (observed, facts)
}

#[test]
fn the_spin_grader_tells_a_sleeping_delay_from_a_spinning_one() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &spin::SPEC);
    let (o, f) = in_spin(TimerDelay::new);
    grader.assert_fixed("the reference fix", o, &f);
    let (o, f) = in_spin(fix_waker_channel::delay);
    grader.assert_fixed("wakers sent over a channel", o, &f);
    let (o, f) = in_spin(fix_clone_from::delay);
    grader.assert_fixed("a waker slot replaced on every poll", o, &f);

    // How much CPU a spin gets depends on what else the machine runs (on a
    // box with every core busy, under a third): the spins are judged here
    // by their polls, a count; `cargo xtask check` judges their CPU too.
    let spins = grader.only(&["polls"]);
    let (o, f) = in_spin(SpinDelay::new);
    spins.assert_bug("the reference spin", o, &f);
    let (o, f) = in_spin(bug_spin::delay);
    spins.assert_bug("another spin", o, &f);
    let (o, f) = in_spin(start::delay);
    grader.assert_not_fixed("the untouched exercise, which hangs", o, &f);
}
