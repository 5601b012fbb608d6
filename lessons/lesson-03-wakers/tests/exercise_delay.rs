//! The `delay` grader grades: the untouched exercise, the lesson's fix,
//! other fixes written differently, and other forms of the bug, each run
//! through the same harness, in real time (the delays run on their own timer threads),
//! and judged against the manifest's claims. A run still going after a few
//! seconds counts as hanging.

use lesson_03::{ForgetfulDelay, TimerDelay, delay};
use shared::grade::{Grader, Observed, observe_within};
use shared::lesson::Facts;
use std::future::Future;
use std::time::Duration;

#[allow(dead_code)]
#[path = "fixtures/delay/bug_first_waker_only.rs"]
mod bug_first_waker_only;
#[allow(dead_code)]
#[path = "fixtures/delay/bug_spin.rs"]
mod bug_spin;
#[allow(dead_code)]
#[path = "fixtures/delay/bug_timer_but_no_wake.rs"]
mod bug_timer_but_no_wake;
#[allow(dead_code)]
#[path = "fixtures/delay/fix_clone_from.rs"]
mod fix_clone_from;
#[allow(dead_code)]
#[path = "fixtures/delay/fix_waker_channel.rs"]
mod fix_waker_channel;
#[allow(dead_code)]
#[path = "../exercise/start/delay.rs"]
mod start;

/// The delay scenario takes under half a second when it works.
const LIMIT: Duration = Duration::from_millis(2500);

fn in_delay<D: Future<Output = ()> + Send + 'static>(make: fn(Duration) -> D) -> (Observed, Facts) {
    let facts = Facts::for_test(&delay::SPEC);
    let theirs = facts.clone();
    let observed = observe_within(LIMIT, move || delay::measure(&theirs, make));
    (observed, facts)
}

type Run = Box<dyn FnOnce() -> (Observed, Facts) + Send>;

fn run<D: Future<Output = ()> + Send + 'static>(make: fn(Duration) -> D) -> Run {
    Box::new(move || in_delay(make))
}

#[test]
fn the_delay_grader_tells_every_fix_from_every_form_of_the_bug() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &delay::SPEC);
    // Hanging runs are only noticed at the limit, so every run goes at
    // once, each on threads of its own.
    let runs: Vec<(&str, Run)> = vec![
        ("the reference fix", run(TimerDelay::new)),
        ("wakers sent over a channel", run(fix_waker_channel::delay)),
        (
            "a waker slot replaced on every poll",
            run(fix_clone_from::delay),
        ),
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
                grader.assert_fixed(what, o, &f);
            }
            "wakers sent over a channel" | "a waker slot replaced on every poll" => {
                grader.assert_fixed(what, o, &f)
            }
            "the reference bug" | "the untouched exercise" | "a timer that wakes nobody" => {
                grader.assert_bug(what, o, &f)
            }
            "a waker kept from the first poll only" => {
                assert!(
                    matches!(o, Observed::Hangs { .. }),
                    "a stale waker hangs once the delay moves: {o:?}"
                );
                grader.assert_not_fixed(what, o, &f);
            }
            _ => grader.assert_not_fixed(what, o, &f),
        }
    }
}
