//! Delays that keep their promise for most of the wait and block the
//! thread inside `poll` for the rest, asleep or computing, judged in a
//! binary of its own: the CPU time a busy wait gets depends on what else
//! the machine runs, and nothing else in this process runs beside it.
//!
//! What is asserted holds on any machine: a sleep lasts at least what it
//! asked for, and the time the thread slept inside a poll is measured on
//! Linux only; a busy wait of 15% of a delay gets a fiftieth of it in CPU
//! time unless the machine gives this process under an eighth of a core.

use lesson_03::delay::{self, Plan};
use lesson_03::{TimerDelay, spin};
use shared::grade::{Grader, Observed, observe_within};
use shared::lesson::Facts;
use shared::work::shape::Rng;
use std::time::Duration;

#[allow(dead_code)]
#[path = "fixtures/delay/bug_busy_wait_the_last_bit.rs"]
mod bug_busy_wait_the_last_bit;
#[allow(dead_code)]
#[path = "fixtures/delay/bug_sleep_the_last_fifth.rs"]
mod bug_sleep_the_last_fifth;

const LIMIT: Duration = Duration::from_millis(3000);

fn in_delay<D: std::future::Future<Output = ()> + Send + 'static>(
    make: fn(Duration) -> D,
) -> (Observed, Facts) {
    let facts = Facts::for_test(&delay::SPEC);
    let theirs = facts.clone();
    let plan = Plan::new(&mut Rng::new(11));
    let observed = observe_within(LIMIT, move || delay::measure(&theirs, &plan, make));
    (observed, facts)
}

#[test]
fn a_block_at_the_end_of_a_delay_is_caught_by_the_time_asleep_or_computing() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &delay::SPEC);
    let counts = grader.only(&["most_polls", "delays_unfinished", "early_delays"]);

    // The lesson's fix spends microseconds in a poll: neither fact comes
    // near its bound, however busy the machine.
    let (o, f) = in_delay(TimerDelay::new);
    grader
        .only(&["poll_asleep_ratio", "poll_cpu_ratio"])
        .assert_fixed("the reference fix", o, &f);

    // Woken at 79% of the delay, then asleep in `poll` for the rest: the
    // counts of a fix, and a longest poll under `held_ratio`'s bound.
    let (o, f) = in_delay(bug_sleep_the_last_fifth::delay);
    counts.assert_fixed("a sleep for the last fifth, by its counts", o.clone(), &f);
    if cfg!(target_os = "linux") {
        assert!(f.get("poll_asleep_ratio").unwrap() >= 0.2, "{f:?}");
        grader
            .only(&["poll_asleep_ratio"])
            .assert_not_fixed("a sleep for the last fifth", o, &f);
    }

    // Woken at 85%, then a busy wait in `poll` for the rest.
    let (o, f) = in_delay(bug_busy_wait_the_last_bit::delay);
    counts.assert_fixed("a busy wait at the end, by its counts", o.clone(), &f);
    assert!(f.get("poll_cpu_ratio").unwrap() > 0.02, "{f:?}");
    grader
        .only(&["poll_cpu_ratio"])
        .assert_not_fixed("a busy wait at the end", o, &f);

    // The spin scenario measures the same hold.
    let spin_grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &spin::SPEC);
    let facts = Facts::for_test(&spin::SPEC);
    let theirs = facts.clone();
    let shapes = spin::shapes(&mut Rng::new(5));
    let o = observe_within(LIMIT, move || {
        spin::measure(&theirs, &shapes, bug_sleep_the_last_fifth::delay)
    });
    if cfg!(target_os = "linux") {
        assert!(facts.get("poll_asleep_ratio").unwrap() >= 0.2, "{facts:?}");
        spin_grader.only(&["poll_asleep_ratio"]).assert_not_fixed(
            "a sleep for the last fifth, on tokio",
            o,
            &facts,
        );
    }
}
