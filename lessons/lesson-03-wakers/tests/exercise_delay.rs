//! The `delay` grader grades: the untouched exercise, the lesson's fix,
//! other fixes written differently (those with a thread per delay are
//! right here; the crowd scenario's tests judge their threads), and other
//! forms of the bug, each run
//! through the same harness in real time (the delays run on their own
//! timer threads), on the delays of a fixed seed, and judged against the
//! manifest's claims. A run still going after a few seconds counts as
//! hanging.
//!
//! The counts (polls, delays left, delays early) are exact on any machine,
//! and judge every run. Of the timing facts, only what holds on any machine
//! is asserted: no delay ends before its length (a wait ratio of at least
//! 1), and a delay that sleeps in `poll`, or for a fixed 150 ms, shows it
//! (a sleep lasts at least what it asked for, however busy the machine).

use lesson_03::delay::{self, Plan};
use lesson_03::{ForgetfulDelay, QueuedDelay, TimerDelay};
use shared::grade::{Grader, Observed, observe_within};
use shared::lesson::Facts;
use shared::work::shape::Rng;
use std::future::Future;
use std::time::Duration;

#[allow(dead_code)]
#[path = "fixtures/delay/bug_first_waker_only.rs"]
mod bug_first_waker_only;
#[allow(dead_code)]
#[path = "fixtures/delay/bug_fixed_length.rs"]
mod bug_fixed_length;
#[allow(dead_code)]
#[path = "fixtures/delay/bug_ready_while_a_thread_waits.rs"]
mod bug_ready_while_a_thread_waits;
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
#[path = "fixtures/delay/bug_timer_but_no_wake.rs"]
mod bug_timer_but_no_wake;
#[allow(dead_code)]
#[path = "fixtures/delay/bug_tokio_sleep.rs"]
mod bug_tokio_sleep;
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
#[path = "../exercise/start/delay.rs"]
mod start;

/// The delay scenario takes under a second when it works.
const LIMIT: Duration = Duration::from_millis(3000);

/// The facts that are counts: exact on any machine.
const COUNTS: [&str; 3] = ["most_polls", "delays_unfinished", "early_delays"];

fn plan() -> Plan {
    Plan::new(&mut Rng::new(11))
}

fn in_delay<D: Future<Output = ()> + Send + 'static>(make: fn(Duration) -> D) -> (Observed, Facts) {
    let facts = Facts::for_test(&delay::SPEC);
    let theirs = facts.clone();
    let observed = observe_within(LIMIT, move || delay::measure(&theirs, &plan(), make));
    (observed, facts)
}

type Run = Box<dyn FnOnce() -> (Observed, Facts) + Send>;

fn run<D: Future<Output = ()> + Send + 'static>(make: fn(Duration) -> D) -> Run {
    Box::new(move || in_delay(make))
}

#[test]
fn a_plan_has_a_short_and_a_long_delay_on_each_executor() {
    for seed in 0..50 {
        let plan = Plan::new(&mut Rng::new(seed));
        for set in [&plan.ours, &plan.tokio] {
            assert!((2..=4).contains(&set.len()), "{plan:?}");
            assert!(set.iter().any(|d| d.as_millis() <= 60), "{plan:?}");
            assert!(set.iter().any(|d| d.as_millis() >= 140), "{plan:?}");
        }
    }
    assert_ne!(Plan::new(&mut Rng::new(1)), Plan::new(&mut Rng::new(2)));
}

#[test]
fn the_delay_grader_tells_every_fix_from_every_form_of_the_bug() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &delay::SPEC);
    let counts = grader.only(&COUNTS);
    // Hanging runs are only noticed at the limit, so every run goes at
    // once, each on threads of its own.
    let runs: Vec<(&str, Run)> = vec![
        ("the reference fix", run(TimerDelay::new)),
        (
            "wakers sent over a channel",
            run(bug_thread_per_delay_channel::delay),
        ),
        (
            "a waker slot replaced on every poll",
            run(bug_thread_per_delay_slot::delay),
        ),
        (
            "an AtomicWaker",
            run(bug_thread_per_delay_atomic_waker::delay),
        ),
        ("one timer thread for all", run(fix_one_timer_thread::delay)),
        ("the crowd's fix", run(QueuedDelay::new)),
        ("a parked timer thread", run(fix_parked_timer::delay)),
        (
            "Tokio's timer on a thread of its own",
            run(fix_tokio_timer_thread::delay),
        ),
        ("a wake-up under the lock", run(bug_thread_per_delay::delay)),
        ("the reference bug", run(ForgetfulDelay::new)),
        ("the untouched exercise", run(start::delay)),
        (
            "a timer that wakes nobody",
            run(bug_timer_but_no_wake::delay),
        ),
        (
            "a waker kept from the first poll only",
            run(bug_first_waker_only::delay),
        ),
        ("a delay that spins", run(bug_spin::delay)),
        ("a thread sleep in poll", run(bug_sleep_in_poll::delay)),
        (
            "Ready while a thread waits",
            run(bug_ready_while_a_thread_waits::delay),
        ),
        ("a fixed 150 ms", run(bug_fixed_length::delay)),
        (
            "a thread that wakes every 5 ms",
            run(bug_ticking_thread::delay),
        ),
        ("tokio's sleep", run(bug_tokio_sleep::delay)),
    ];
    let started: Vec<_> = runs
        .into_iter()
        .map(|(what, r)| (what, std::thread::spawn(r)))
        .collect();
    let results: Vec<(&str, (Observed, Facts))> = started
        .into_iter()
        .map(|(what, t)| (what, t.join().expect("the harness does not panic")))
        .collect();
    for (what, (o, f)) in results {
        match what {
            "the reference fix" => {
                assert_eq!(
                    f.get("most_polls"),
                    Some(3.0),
                    "one to start, one in its new task, one when fired"
                );
                assert!(f.get("wait_ratio").unwrap() >= 1.0, "{f:?}");
                counts.assert_fixed(what, o, &f);
            }
            // A thread per delay is right here: the crowd judges threads.
            "wakers sent over a channel"
            | "a waker slot replaced on every poll"
            | "an AtomicWaker"
            | "a wake-up under the lock"
            | "one timer thread for all"
            | "the crowd's fix"
            | "a parked timer thread"
            | "Tokio's timer on a thread of its own" => {
                assert!(f.get("wait_ratio").unwrap() >= 1.0, "{what}: {f:?}");
                counts.assert_fixed(what, o, &f)
            }
            "the reference bug" | "the untouched exercise" | "a timer that wakes nobody" => {
                grader.assert_bug(what, o.clone(), &f);
                grader.assert_diagnosed(what, o, &f, &["no-wake"]);
            }
            "a waker kept from the first poll only" => {
                assert!(
                    matches!(o, Observed::Hangs { .. }),
                    "a stale waker hangs once the delay moves: {o:?}"
                );
                grader.assert_diagnosed(what, o, &f, &["no-wake"]);
            }
            "a thread sleep in poll" => {
                // Its counts are those of a fix: one poll per delay, none
                // early. Only its hold on the thread gives it away: the
                // first poll of each executor's first delay sleeps through
                // nearly all of it.
                counts.assert_fixed(what, o.clone(), &f);
                assert!(f.get("held_ratio").unwrap() > 0.5, "{f:?}");
                grader.assert_diagnosed(what, o, &f, &[]);
            }
            "Ready while a thread waits" => {
                // Ready at its first poll: early, unless a very busy machine
                // kept that poll from coming before the delay's length.
                assert!(f.get("early_delays").unwrap() > 0.0, "{f:?}");
                counts.assert_diagnosed(what, o, &f, &["ready-early"]);
            }
            "a fixed 150 ms" => {
                // The shortest delay is at most 60 ms: 150 ms is 2.5 times it.
                assert!(f.get("wait_ratio").unwrap() >= 2.5, "{f:?}");
                grader.assert_not_fixed(what, o, &f);
            }
            "a thread that wakes every 5 ms" => {
                assert!(f.get("most_polls").unwrap() > 4.0, "{f:?}");
                // On a busy machine it may not finish within the limit
                // too: then the delays left unwoken are named as well.
                let named = counts.diagnoses(o.clone(), &f);
                assert!(named.contains(&"woken-too-often".to_string()), "{named:?}");
                counts.assert_not_fixed(what, o, &f);
            }
            "tokio's sleep" => {
                assert!(
                    matches!(&o, Observed::Panics(m) if m.contains("there is no reactor running")),
                    "our executor has no timer: {o:?}"
                );
                grader.assert_diagnosed(what, o, &f, &["no-reactor"]);
            }
            "a delay that spins" => counts.assert_diagnosed(what, o, &f, &["woken-too-often"]),
            _ => counts.assert_not_fixed(what, o, &f),
        }
    }
}
