//! The `crowd` grader grades: the lesson's two delays (one thread per
//! delay, the scenario's bug; one timer thread for all, its fix), other
//! fixes with one timer thread written differently, and the wrong ones
//! that have one timer thread too, each run through the same harness in
//! real time on the delays of several seeds, and judged against the
//! manifest's claims. The runs go one after another: the harness counts
//! the threads of the whole process.
//!
//! Threads, polls, delays left and delays early are counts, exact on any
//! machine, and judge every run. Of the timing facts, only what holds on
//! any machine is asserted: no delay ends before its length, a timer
//! thread deaf while it sleeps finishes a delay at least three times its
//! length (a sleep lasts at least what it asked for), and a timer thread
//! that never sleeps keeps the process busy, and one that naps between
//! rounds is woken over and over.

use lesson_03::crowd::{self, Plan};
use lesson_03::{QueuedDelay, TimerDelay};
use shared::grade::{Grader, Observed, observe_within};
use shared::lesson::Facts;
use shared::work::shape::Rng;
use std::future::Future;
use std::time::Duration;

#[allow(dead_code)]
#[path = "fixtures/delay/fix_one_timer_thread.rs"]
mod fix_one_timer_thread;
#[allow(dead_code)]
#[path = "fixtures/delay/fix_parked_timer.rs"]
mod fix_parked_timer;
#[allow(dead_code)]
#[path = "fixtures/delay/fix_tokio_timer_thread.rs"]
mod fix_tokio_timer_thread;

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
#[path = "fixtures/delay/bug_timer_misses_new_deadlines.rs"]
mod bug_timer_misses_new_deadlines;
#[allow(dead_code)]
#[path = "fixtures/delay/bug_timer_naps.rs"]
mod bug_timer_naps;
#[allow(dead_code)]
#[path = "fixtures/delay/bug_timer_spins.rs"]
mod bug_timer_spins;
#[allow(dead_code)]
#[path = "fixtures/delay/bug_timer_wakes_everyone.rs"]
mod bug_timer_wakes_everyone;

/// A crowd run takes well under a second when it works.
const LIMIT: Duration = Duration::from_millis(4000);

/// The facts that are counts: exact on any machine.
const COUNTS: [&str; 4] = [
    "most_polls",
    "delays_unfinished",
    "early_delays",
    "threads_per_delay",
];

fn in_crowd<D: Future<Output = ()> + Send + 'static>(
    seed: u64,
    make: fn(Duration) -> D,
) -> (Observed, Facts) {
    let facts = Facts::for_test(&crowd::SPEC);
    let theirs = facts.clone();
    let plan = Plan::new(&mut Rng::new(seed));
    let observed = observe_within(LIMIT, move || crowd::measure(&theirs, &plan, make));
    (observed, facts)
}

#[test]
fn a_plan_has_a_crowd_and_a_chain_beside_a_long_delay() {
    for seed in 0..50 {
        let plan = Plan::new(&mut Rng::new(seed));
        assert!((20..=32).contains(&plan.at_once.len()), "{plan:?}");
        let longest = plan.at_once.iter().max().unwrap();
        assert_eq!(&plan.at_once[0], longest, "the longest is made first");
        assert!((3..=5).contains(&plan.chain.len()), "{plan:?}");
        // The chain's second delay is made at 60 ms at most, and ends at
        // 120 ms at most: long before the long one.
        assert!(plan.chain.iter().all(|d| d.as_millis() <= 60), "{plan:?}");
        assert!(plan.long.as_millis() >= 240, "{plan:?}");
    }
    assert_ne!(Plan::new(&mut Rng::new(1)), Plan::new(&mut Rng::new(2)));
}

#[test]
fn the_crowd_grader_tells_one_timer_thread_from_one_per_delay_and_from_wrong_timers() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &crowd::SPEC);
    let counts = grader.only(&COUNTS);
    for seed in [3, 17] {
        for (what, (o, f)) in [
            ("the reference fix", in_crowd(seed, QueuedDelay::new)),
            (
                "a timer thread fed by a channel",
                in_crowd(seed, fix_one_timer_thread::delay),
            ),
            (
                "a parked timer thread",
                in_crowd(seed, fix_parked_timer::delay),
            ),
            (
                "Tokio's timer on a thread of its own",
                in_crowd(seed, fix_tokio_timer_thread::delay),
            ),
        ] {
            assert!(f.get("wait_ratio").unwrap() >= 1.0, "{what}: {f:?}");
            assert!(f.get("threads_per_delay").unwrap() <= 0.1, "{what}: {f:?}");
            counts.assert_fixed(what, o, &f);
        }
        for (what, (o, f)) in [
            ("the delay scenario's fix", in_crowd(seed, TimerDelay::new)),
            (
                "the old hints' fix",
                in_crowd(seed, bug_thread_per_delay::delay),
            ),
            (
                "an AtomicWaker and a thread each",
                in_crowd(seed, bug_thread_per_delay_atomic_waker::delay),
            ),
            (
                "wakers over a channel to a thread each",
                in_crowd(seed, bug_thread_per_delay_channel::delay),
            ),
            (
                "a slot and a thread each",
                in_crowd(seed, bug_thread_per_delay_slot::delay),
            ),
        ] {
            // Only what the timing facts cannot spoil: a busy machine may
            // make a delay late, never a thread fewer.
            counts.assert_bug(what, o.clone(), &f);
            counts.assert_diagnosed(what, o, &f, &["thread-per-delay"]);
        }
        let (o, f) = in_crowd(seed, bug_timer_misses_new_deadlines::delay);
        assert!(f.get("wait_ratio").unwrap() >= 3.0, "{f:?}");
        assert!(f.get("threads_per_delay").unwrap() <= 0.1, "{f:?}");
        grader.assert_diagnosed(
            "a timer thread deaf while it sleeps",
            o,
            &f,
            &["late-new-deadline"],
        );

        let (o, f) = in_crowd(seed, bug_timer_wakes_everyone::delay);
        assert!(f.get("most_polls").unwrap() >= 10.0, "{f:?}");
        counts.assert_diagnosed(
            "a timer thread that wakes everyone",
            o,
            &f,
            &["woken-by-others"],
        );
    }
    // Last two: their threads never stop. A timer thread that naps for
    // microseconds between rounds: seldom busy, but woken over and over.
    // Named as a napper on a quiet machine (busy_ratio 0.13 to 0.16). On a
    // busy one, each of its wake-ups also waits for a core, and that
    // waiting counts as busy: busy_ratio went past 0.2 beside a build, and
    // it was told it keeps a core busy. Either way it is told it watches
    // the clock, never that it is fixed.
    let (o, f) = in_crowd(5, bug_timer_naps::delay);
    assert!(f.get("wakeups_per_delay").unwrap() > 30.0, "{f:?}");
    grader.assert_not_fixed("a timer thread that naps", o.clone(), &f);
    let named = grader.diagnoses(o, &f);
    let expected: &[&str] = if f.get("busy_ratio").unwrap() <= 0.2 {
        &["napping-timer"]
    } else {
        &["busy-timer"]
    };
    assert_eq!(named, expected, "a timer thread that naps: {f:?}");
    // And one that never stops spinning (the napping thread beside it
    // only adds wake-ups).
    let (o, f) = in_crowd(5, bug_timer_spins::delay);
    assert!(f.get("busy_ratio").unwrap() > 0.2, "{f:?}");
    grader.assert_diagnosed("a timer thread that spins", o, &f, &["busy-timer"]);
}
