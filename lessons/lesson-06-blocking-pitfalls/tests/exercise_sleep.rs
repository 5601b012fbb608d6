//! The `sleep` exercise's grader (the `schedule` scenario) grades: the
//! untouched exercise, the lesson's fix, other fixes written differently,
//! and other forms of the bug, each run by the same harness under a run's
//! two workloads. Those that only wait run on paused tokio time, where the
//! drift of every event is exact: a fix drifts 0 and a wait per gap drifts
//! by all the work before it. Those that block or spin run on real time (a
//! blocking sleep knows nothing of tokio's clock, and a spin would stop
//! paused time from moving), judged on what gives each away on any
//! machine: the longest poll, or the polls per event, measured alone.

use lesson_06::schedule::{self, Plan};
use lesson_06::{broken, fixed, runtime};
use shared::grade::{Grader, Observed, observe_within};
use shared::lesson::Facts;
use shared::work::shape::Rng;
use std::time::Duration;

#[allow(dead_code)]
#[path = "fixtures/sleep/bug_block_the_last_bit.rs"]
mod bug_block_the_last_bit;
#[allow(dead_code)]
#[path = "fixtures/sleep/bug_busy_wait.rs"]
mod bug_busy_wait;
#[allow(dead_code)]
#[path = "fixtures/sleep/bug_fire_not_awaited.rs"]
mod bug_fire_not_awaited;
#[allow(dead_code)]
#[path = "fixtures/sleep/bug_guess_the_work.rs"]
mod bug_guess_the_work;
#[allow(dead_code)]
#[path = "fixtures/sleep/bug_interval.rs"]
mod bug_interval;
#[allow(dead_code)]
#[path = "fixtures/sleep/bug_sleep_each_gap.rs"]
mod bug_sleep_each_gap;
#[allow(dead_code)]
#[path = "fixtures/sleep/bug_spin_the_last_bit.rs"]
mod bug_spin_the_last_bit;
#[allow(dead_code)]
#[path = "fixtures/sleep/bug_yield_spin.rs"]
mod bug_yield_spin;
#[allow(dead_code)]
#[path = "fixtures/sleep/fix_all_at_once.rs"]
mod fix_all_at_once;
#[allow(dead_code)]
#[path = "fixtures/sleep/fix_sleep_the_rest.rs"]
mod fix_sleep_the_rest;
#[allow(dead_code)]
#[path = "../exercise/start/sleep.rs"]
mod start;

/// Taken by each test here, so that the real-time runs that spin or block
/// never share the machine with another test's runs (on one core, a spin
/// beside a fix would stretch the fix's polls).
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn paused() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
}

/// Runs `follow` through the harness on a thread of its own, on the
/// runtime `runtime` makes.
fn run_on<R: AsyncFn(&Plan) + Send + 'static>(
    runtime: fn() -> tokio::runtime::Runtime,
    follow: R,
) -> std::thread::JoinHandle<(Observed, Facts)> {
    std::thread::spawn(move || {
        let facts = Facts::for_test(&schedule::SPEC);
        let theirs = facts.clone();
        let observed = observe_within(Duration::from_secs(30), move || {
            let shapes = schedule::shapes(&mut Rng::for_scenario("schedule"));
            runtime().block_on(schedule::measure(&theirs, &shapes, follow));
        });
        (observed, facts)
    })
}

#[test]
fn the_schedule_grader_tells_every_fix_from_every_wrong_wait() {
    let _one = one_at_a_time();
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &schedule::SPEC);
    let fixes = [
        ("the reference sleep_until", run_on(paused, fixed::follow)),
        (
            "sleep for what is left",
            run_on(paused, fix_sleep_the_rest::follow),
        ),
        (
            "every event its own future",
            run_on(paused, fix_all_at_once::follow),
        ),
    ];
    let wrong: [(&str, &[&str], _); 4] = [
        (
            "tokio's sleep for each gap",
            &["drifts"],
            run_on(paused, bug_sleep_each_gap::follow),
        ),
        (
            "each gap less a guess of the work",
            &["early"],
            run_on(paused, bug_guess_the_work::follow),
        ),
        (
            "an interval of the first gap",
            &["early"],
            run_on(paused, bug_interval::follow),
        ),
        (
            "fire made, never awaited",
            &["events-missing"],
            run_on(paused, bug_fire_not_awaited::follow),
        ),
    ];
    // A fix is judged on the facts that paused time makes exact; its
    // longest poll is real time, which a busy machine can stretch.
    let exact = grader.only(&[
        "events_on_plan",
        "early_events",
        "worst_drift",
        "heartbeat_lateness",
        "polls_per_event",
    ]);
    for (what, t) in fixes {
        let (o, f) = t.join().unwrap();
        exact.assert_fixed(what, o, &f);
        // On paused time, no event is a moment late.
        assert_eq!(f.get("worst_drift"), Some(0.0), "{what}: {:?}", f.values());
    }
    for (what, ids, t) in wrong {
        let (o, f) = t.join().unwrap();
        grader.assert_not_fixed(what, o.clone(), &f);
        let mut shown = grader.diagnoses(o, &f);
        // Its longest poll is real time: on a very busy machine, one poll
        // can be paused for a whole gap. Its polls slept and computed for
        // microseconds all the same, so that is no thread held.
        let own = f.get("poll_asleep_ratio").unwrap() + f.get("poll_cpu_ratio").unwrap();
        if own <= 0.2 {
            shown.retain(|id| id != "thread-held");
        }
        assert_eq!(shown, ids, "{what}: {:?}", f.values());
    }
    // The drift of a gap waited after each event is at least the work of
    // the six events before the seventh, 60 ms: twice the bound.
    let (_, f) = run_on(paused, bug_sleep_each_gap::follow).join().unwrap();
    assert!(f.get("worst_drift").unwrap() >= 6.0, "{:?}", f.values());
}

/// On real time: a blocking sleep for each gap (the untouched exercise and
/// the lesson's bug) is the bug, on every fact of the broken claim; a loop
/// that watches the clock holds the thread too. Both hold the thread for a
/// whole gap in one poll, whatever the machine's speed.
#[test]
fn a_follower_that_holds_the_thread_is_the_bug() {
    let _one = one_at_a_time();
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &schedule::SPEC);
    let runs = [
        (
            "the untouched exercise",
            true,
            run_on(runtime, start::follow),
        ),
        ("the reference bug", true, run_on(runtime, broken::follow)),
        (
            "a busy wait on the clock",
            false,
            run_on(runtime, bug_busy_wait::follow),
        ),
    ];
    for (what, bug, t) in runs {
        let (o, f) = t.join().unwrap();
        if bug {
            grader.assert_bug(what, o.clone(), &f);
        }
        grader.assert_diagnosed(what, o, &f, &["thread-held"]);
    }
}

/// On real time, alone (its polls come as fast as its core lets): a
/// follower that checks the clock and yields keeps time, but is polled
/// hundreds of times an event.
#[test]
fn a_follower_that_spins_on_the_clock_is_not_a_fix() {
    let _one = one_at_a_time();
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &schedule::SPEC);
    let (o, f) = run_on(runtime, bug_yield_spin::follow).join().unwrap();
    assert_eq!(o, Observed::Completes, "{:?}", f.values());
    assert!(f.get("polls_per_event").unwrap() > 8.0, "{:?}", f.values());
    let shown = grader.diagnoses(o.clone(), &f);
    assert!(shown.contains(&"wakes-itself".to_string()), "{shown:?}");
    grader.assert_not_fixed("a spin on the clock, yielding", o, &f);
}

/// On real time, alone: a follower that waits with tokio's timer to 10 ms
/// before each event, then blocks for the rest (a `std::thread::sleep`, or
/// a loop on the clock), keeps time and never holds the thread for half a
/// gap; but in one poll its thread slept, or it computed, for far more
/// than a fix's microseconds. A busy machine stretches neither: it takes
/// CPU time from a spin, but the longest of some fifty spins still gets
/// most of its 10 ms.
#[test]
fn blocking_for_the_last_bit_of_a_wait_is_not_a_fix() {
    let _one = one_at_a_time();
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &schedule::SPEC);
    let (o, f) = run_on(runtime, bug_block_the_last_bit::follow)
        .join()
        .unwrap();
    assert_eq!(o, Observed::Completes, "{:?}", f.values());
    if cfg!(target_os = "linux") {
        held_for_a_while(
            &grader,
            "a blocking sleep for the last 10 ms",
            o,
            &f,
            "asleep-in-a-poll",
        );
    }
    let (o, f) = run_on(runtime, bug_spin_the_last_bit::follow)
        .join()
        .unwrap();
    assert_eq!(o, Observed::Completes, "{:?}", f.values());
    if cfg!(unix) {
        held_for_a_while(
            &grader,
            "a busy loop for the last 10 ms",
            o,
            &f,
            "busy-in-a-poll",
        );
    }
}

/// Asserts that `what` is judged not fixed and named by `id`, or, if a
/// busy machine stretched one of its polls to a whole gap, by thread-held
/// (a busy machine may make it drift too).
fn held_for_a_while(grader: &Grader, what: &str, o: Observed, f: &Facts, id: &str) {
    grader.assert_not_fixed(what, o.clone(), f);
    let shown = grader.diagnoses(o, f);
    assert!(
        shown.iter().any(|s| s == id || s == "thread-held"),
        "{what}: {shown:?} {:?}",
        f.values()
    );
}

/// On real time, alone: a fix's polls sleep and compute for microseconds,
/// far under the bound, however busy the machine.
#[test]
fn a_fix_neither_sleeps_nor_computes_in_its_polls() {
    let _one = one_at_a_time();
    let fixes = [
        ("the reference sleep_until", run_on(runtime, fixed::follow)),
        (
            "every event its own future",
            run_on(runtime, fix_all_at_once::follow),
        ),
    ];
    for (what, t) in fixes {
        let (o, f) = t.join().unwrap();
        assert_eq!(o, Observed::Completes, "{what}: {:?}", f.values());
        for fact in ["poll_asleep_ratio", "poll_cpu_ratio"] {
            assert!(f.get(fact).unwrap() <= 0.2, "{what}: {:?}", f.values());
        }
    }
}

/// Every run's workloads separate a drifting wait and a fixed period from
/// a fix: seven events or more per plan, each event's work shorter than
/// any gap, and in the uneven workload a first gap that is the shortest,
/// with a later one at least 15 ms longer.
#[test]
fn every_workload_separates_drift_from_a_fix() {
    for seed in 0..300 {
        let shapes = schedule::shapes(&mut Rng::new(seed));
        assert_eq!(shapes.len(), 2);
        for shape in &shapes {
            assert!(shape.followers.len() >= 3);
            for events in &shape.followers {
                assert!(events.len() >= 7);
                let mut previous = Duration::ZERO;
                for &(at, work) in events {
                    assert!(work >= Duration::from_millis(10));
                    assert!(work < at - previous, "{seed}: {events:?}");
                    previous = at;
                }
            }
        }
        for events in &shapes[1].followers {
            let gaps: Vec<Duration> = std::iter::once(events[0].0)
                .chain(events.windows(2).map(|w| w[1].0 - w[0].0))
                .collect();
            assert!(gaps.iter().all(|&g| g >= gaps[0]));
            assert!(
                gaps.iter()
                    .any(|&g| g >= gaps[0] + Duration::from_millis(15))
            );
        }
    }
}
