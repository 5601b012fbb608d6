//! The `sleep` grader grades: the untouched exercise, the lesson's fix,
//! other fixes written differently, and other forms of the bug, each run by
//! the same harness under a run's two workloads in real time (a blocking
//! sleep knows nothing of tokio's clock), all at once, each on a thread of
//! its own. On a test machine that may be busy, a fix is judged here only
//! on the facts that do not depend on its speed (how many waits
//! overlapped, and that each lasted as long as asked), and its timing
//! facts are checked loosely; a form of the bug is judged on every fact,
//! since what gives each one away holds on any machine: a blocking sleep
//! never ends early, and a thread asleep in a poll is asleep.

use lesson_06::sleep::{self, Shape};
use lesson_06::{broken, fixed, runtime};
use shared::grade::{Grader, Observed, observe_within};
use shared::lesson::Facts;
use shared::work::shape::Rng;
use std::future::Future;
use std::time::Duration;

#[allow(dead_code)]
#[path = "fixtures/sleep/bug_busy_wait.rs"]
mod bug_busy_wait;
#[allow(dead_code)]
#[path = "fixtures/sleep/bug_fixed_length.rs"]
mod bug_fixed_length;
#[allow(dead_code)]
#[path = "fixtures/sleep/bug_no_wait.rs"]
mod bug_no_wait;
#[allow(dead_code)]
#[path = "fixtures/sleep/bug_sleep_in_slices.rs"]
mod bug_sleep_in_slices;
#[allow(dead_code)]
#[path = "fixtures/sleep/bug_spawned_sleep.rs"]
mod bug_spawned_sleep;
#[allow(dead_code)]
#[path = "fixtures/sleep/bug_yield_spin.rs"]
mod bug_yield_spin;
#[allow(dead_code)]
#[path = "fixtures/sleep/bug_yield_then_block.rs"]
mod bug_yield_then_block;
#[allow(dead_code)]
#[path = "fixtures/sleep/fix_sleep_until.rs"]
mod fix_sleep_until;
#[allow(dead_code)]
#[path = "fixtures/sleep/fix_spawn_blocking.rs"]
mod fix_spawn_blocking;
#[allow(dead_code)]
#[path = "fixtures/sleep/fix_timeout.rs"]
mod fix_timeout;
#[allow(dead_code)]
#[path = "../exercise/start/sleep.rs"]
mod start;

type Run = Box<dyn FnOnce() -> (Observed, Facts) + Send>;

fn shapes() -> Vec<Shape> {
    sleep::shapes(&mut Rng::for_scenario("sleep"))
}

fn run<F: Future<Output = ()> + Send + 'static>(nap: fn(Duration) -> F) -> Run {
    Box::new(move || {
        let facts = Facts::for_test(&sleep::SPEC);
        let theirs = facts.clone();
        let observed = observe_within(Duration::from_secs(30), move || {
            runtime().block_on(sleep::measure(&theirs, &shapes(), nap));
        });
        (observed, facts)
    })
}

/// How a run must be judged.
#[derive(Clone, Copy, PartialEq)]
enum Should {
    Fix,
    /// The lesson's bug: judged not fixed, and as the broken claim says.
    Bug,
    /// Wrong some other way: judged not fixed.
    NotFixed,
    /// A spin, measured alone: judged not fixed, for its polls.
    Spin,
}

#[test]
fn the_sleep_grader_tells_every_fix_from_every_form_of_the_bug() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &sleep::SPEC);
    let exact = grader.only(&["naps_at_once", "shortest_nap_ratio", "polls_per_wait"]);
    let blocking_shows = sleep::can_tell_blocking();
    let mut runs: Vec<(&str, Should, Run)> = vec![
        ("the reference fix", Should::Fix, run(fixed::nap)),
        ("sleep_until", Should::Fix, run(fix_sleep_until::nap)),
        ("spawn_blocking", Should::Fix, run(fix_spawn_blocking::nap)),
        ("a timeout on nothing", Should::Fix, run(fix_timeout::nap)),
        ("the reference bug", Should::Bug, run(broken::nap)),
        ("the untouched exercise", Should::Bug, run(start::nap)),
        ("a busy wait", Should::Bug, run(bug_busy_wait::nap)),
        (
            "a yield, then a blocking sleep",
            Should::NotFixed,
            run(bug_yield_then_block::nap),
        ),
        (
            "always 100 ms",
            Should::NotFixed,
            run(bug_fixed_length::nap),
        ),
        (
            "the sleep spawned and left",
            Should::NotFixed,
            run(bug_spawned_sleep::nap),
        ),
        (
            "a wait that does not wait",
            Should::NotFixed,
            run(bug_no_wait::nap),
        ),
        (
            "a spin on the clock, yielding",
            Should::Spin,
            run(bug_yield_spin::nap),
        ),
    ];
    if blocking_shows {
        runs.push((
            "a blocking sleep in 1 ms slices",
            Should::NotFixed,
            run(bug_sleep_in_slices::nap),
        ));
    }
    // The fixes first, together (they only wait), then the rest, which
    // hold threads and burn cores: a fix is never measured beside them;
    // last the spin, alone, since its polls come as fast as its core lets.
    let (fixes, others): (Vec<_>, Vec<_>) = runs
        .into_iter()
        .partition(|(_, should, _)| *should == Should::Fix);
    let (spins, others): (Vec<_>, Vec<_>) = others
        .into_iter()
        .partition(|(_, should, _)| *should == Should::Spin);
    let mut judged = Vec::new();
    for batch in [fixes, others, spins] {
        let started: Vec<_> = batch
            .into_iter()
            .map(|(what, should, r)| (what, should, std::thread::spawn(r)))
            .collect();
        for (what, should, thread) in started {
            judged.push((
                what,
                should,
                thread.join().expect("the harness does not panic"),
            ));
        }
    }
    for (what, should, (o, f)) in judged {
        match should {
            Should::Fix => {
                exact.assert_fixed(what, o, &f);
                // Loosely, on any machine: a wait that gives the thread
                // back never sleeps in a poll for long.
                if blocking_shows {
                    assert!(
                        f.get("asleep_share").unwrap() < 0.25,
                        "{what}: {:?}",
                        f.values()
                    );
                }
                assert!(
                    f.get("elapsed_ratio").unwrap() >= 1.0,
                    "{what}: {:?}",
                    f.values()
                );
            }
            Should::Bug => {
                if let Some(ids) = diagnosed_as(what) {
                    assert_eq!(grader.diagnoses(o.clone(), &f), ids, "{}", what);
                }
                grader.assert_bug(what, o, &f)
            }
            Should::NotFixed => {
                if let Some(ids) = diagnosed_as(what) {
                    assert_eq!(grader.diagnoses(o.clone(), &f), ids, "{}", what);
                }
                grader.assert_not_fixed(what, o, &f)
            }
            Should::Spin => {
                // Polled again at once after every poll, for the whole
                // wait: many times more than the bound, even on a busy
                // machine (76 times a wait measured at a load of 11 on
                // two cores).
                assert!(
                    f.get("polls_per_wait").unwrap() > 6.0,
                    "{what}: {:?}",
                    f.values()
                );
                if let Some(ids) = diagnosed_as(what) {
                    assert_eq!(grader.diagnoses(o.clone(), &f), ids, "{}", what);
                }
                grader.assert_not_fixed(what, o, &f);
            }
        }
    }
}

/// Every workload has a wait of 60 ms and one of 150 ms in its second
/// workload, and at least eight waits of one length in its first, so that
/// waits of one fixed length, or one after another, always show.
#[test]
fn every_workload_separates_the_bug_from_the_fix() {
    for seed in 0..200 {
        let shapes = sleep::shapes(&mut Rng::new(seed));
        let even = &shapes[0];
        assert!(even.lengths.len() >= 8);
        assert!(even.lengths.iter().all(|&l| l == even.longest()));
        let mixed = &shapes[1];
        assert_eq!(mixed.shortest(), Duration::from_millis(60));
        assert_eq!(mixed.longest(), Duration::from_millis(150));
    }
}

/// The diagnoses a learner is shown for each wrong fix named here (its
/// manifest's `[[exercise.diagnosis]]`); `None`: not pinned down, as its
/// facts vary with the machine or the run.
fn diagnosed_as(what: &str) -> Option<&'static [&'static str]> {
    Some(match what {
        "the reference bug" => &["thread-held"],
        "the untouched exercise" => &["thread-held"],
        "a busy wait" => &["thread-held"],
        "a yield, then a blocking sleep" => &["thread-held"],
        "always 100 ms" => &[],
        "the sleep spawned and left" => &["no-real-wait"],
        "a wait that does not wait" => &["no-real-wait"],
        "a blocking sleep in 1 ms slices" => &["wakes-itself"],
        "a spin on the clock, yielding" => &["wakes-itself"],
        _ => return None,
    })
}
