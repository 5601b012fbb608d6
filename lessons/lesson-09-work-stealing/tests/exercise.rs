//! The grader of lesson 09 judges each parking in the `parking` scenario,
//! under the workloads drawn for this run, on what the runtime and the
//! harness count: tasks woken that no worker ran within 30 ms, returns
//! from `park` with nothing pushed, looks that found nothing. And the
//! lesson's policies in `fairness` and `stealing`, as the broken and
//! fixed programs run them.

use lesson_09::runtime::{Parking, Policy};
use lesson_09::{broken, fairness, fixed, parking, stealing};
use shared::grade::{Grader, Observed};
use shared::lesson::Facts;
use shared::work::shape::seed;

#[allow(dead_code)]
#[path = "fixtures/policy/bug_counted_after_the_look.rs"]
mod bug_counted_after_the_look;
#[allow(dead_code)]
#[path = "fixtures/policy/bug_look_then_lock.rs"]
mod bug_look_then_lock;
#[allow(dead_code)]
#[path = "fixtures/policy/bug_notify_without_lock.rs"]
mod bug_notify_without_lock;
#[allow(dead_code)]
#[path = "fixtures/policy/bug_timeout_and_look.rs"]
mod bug_timeout_and_look;
#[allow(dead_code)]
#[path = "fixtures/policy/bug_wait_timeout.rs"]
mod bug_wait_timeout;
#[allow(dead_code)]
#[path = "fixtures/policy/bug_wakes_everyone.rs"]
mod bug_wakes_everyone;
#[allow(dead_code)]
#[path = "fixtures/policy/bug_yield_spin.rs"]
mod bug_yield_spin;
#[allow(dead_code)]
#[path = "fixtures/policy/fix_lock_every_push.rs"]
mod fix_lock_every_push;
#[allow(dead_code)]
#[path = "fixtures/policy/fix_push_count.rs"]
mod fix_push_count;
#[allow(dead_code)]
#[path = "fixtures/policy/fix_thread_park.rs"]
mod fix_thread_park;
#[allow(dead_code)]
#[path = "../exercise/start/policy.rs"]
mod start;

/// The facts counted exactly in `stealing`.
const STEAL_COUNTS: &[&str] = &["jobs_at_once", "tasks_stolen", "tasks_lost"];

fn make<P: Parking + Default>() -> Box<dyn Parking> {
    Box::new(P::default())
}

/// The `parking` scenario under this run's workloads.
fn parked(parking: fn() -> Box<dyn Parking>) -> Facts {
    let facts = Facts::for_test(&parking::SPEC);
    parking::measure(&facts, parking);
    facts
}

fn get(facts: &Facts, name: &str) -> f64 {
    facts
        .get(name)
        .unwrap_or_else(|| panic!("{name} was measured (seed {})", seed()))
}

fn park() -> Grader {
    Grader::new(env!("CARGO_MANIFEST_DIR"), &parking::SPEC)
}

fn done() -> Observed {
    Observed::Completes
}

#[test]
fn every_correct_parking_is_judged_fixed() {
    for (what, parking) in [
        ("the reference fix", make::<fixed::Sleepers> as fn() -> _),
        ("a lock on every push", make::<fix_lock_every_push::Park>),
        ("a count of pushes", make::<fix_push_count::Park>),
        ("thread::park and a list", make::<fix_thread_park::Park>),
    ] {
        // `wakeups_lost` is a timing fact (a woken task not run within
        // 30 ms): a machine busy with other work can hold a worker's
        // thread that long. A fix gets three tries; the bug loses a
        // wake-up at the grader's moment every time.
        let mut facts = parked(parking);
        for _ in 0..2 {
            if park().against_fixed(done(), &facts).ok() {
                break;
            }
            facts = parked(parking);
        }
        park().assert_fixed(what, done(), &facts);
    }
}

#[test]
fn a_parking_that_loses_wake_ups_is_judged_the_bug() {
    for (what, parking) in [
        (
            "the lesson's broken parking",
            make::<broken::Forgetful> as fn() -> _,
        ),
        ("the untouched exercise", make::<start::Park>),
        ("a look before the lock", make::<bug_look_then_lock::Park>),
        (
            "a notify without the lock",
            make::<bug_notify_without_lock::Park>,
        ),
        (
            "sleepers counted after the look",
            make::<bug_counted_after_the_look::Park>,
        ),
    ] {
        let facts = parked(parking);
        park().assert_bug(what, done(), &facts);
        assert_eq!(park().diagnoses(done(), &facts), ["wakeup-lost"], "{what}");
    }
}

#[test]
fn a_parking_that_does_not_sleep_until_a_push_is_judged_not_fixed() {
    for (what, parking) in [
        (
            "a 1 ms timeout",
            make::<bug_wait_timeout::Park> as fn() -> _,
        ),
        ("a yield for a sleep", make::<bug_yield_spin::Park>),
        (
            "a look again, a 10 ms timeout",
            make::<bug_timeout_and_look::Park>,
        ),
    ] {
        let facts = parked(parking);
        park().assert_diagnosed(what, done(), &facts, &["wakes-on-a-timer"]);
        // Nothing was lost for long: only the timer gives it away.
        assert_eq!(get(&facts, "wakeups_lost"), 0.0, "{what}");
    }
    // A loaded machine puts woken workers back to sleep late, so fewer of
    // them are asleep for the next `notify_all`: the herd shows less. Of
    // three runs, the one that shows it most.
    let facts = (0..3)
        .map(|_| parked(make::<bug_wakes_everyone::Park>))
        .max_by(|a, b| get(a, "idle_looks_per_wake").total_cmp(&get(b, "idle_looks_per_wake")))
        .expect("three runs");
    park().assert_diagnosed("notify_all", done(), &facts, &["wakes-everyone"]);
    assert_eq!(get(&facts, "wakeups_lost"), 0.0, "notify_all");
}

/// The lesson's policies, as the broken and fixed programs run them.
#[test]
fn the_lessons_policies_are_judged_as_the_lesson_says() {
    let fair = Grader::new(env!("CARGO_MANIFEST_DIR"), &fairness::SPEC);
    let steal = Grader::new(env!("CARGO_MANIFEST_DIR"), &stealing::SPEC).only(STEAL_COUNTS);
    let judged = |policy: Policy| {
        let f = Facts::for_test(&fairness::SPEC);
        fairness::measure(&f, policy);
        let s = Facts::for_test(&stealing::SPEC);
        stealing::measure(&s, policy);
        (f, s)
    };
    let (f, s) = judged(fixed::work_stealing);
    fair.assert_fixed("the fixed policy", done(), &f);
    steal.assert_fixed("the fixed policy", done(), &s);
    let (f, _) = judged(broken::local_first);
    fair.assert_bug("local first", done(), &f);
    let (_, s) = judged(broken::no_stealing);
    steal.assert_bug("no stealing", done(), &s);
    // One worker alone runs its jobs one after another: their times add
    // up to the batch's time at most, on any machine.
    let busy = get(&s, "workers_busy");
    assert!(
        busy <= 1.05,
        "no stealing: workers_busy {busy} (seed {})",
        seed()
    );
}
