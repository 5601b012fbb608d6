//! The `mutex` grader grades, on paused tokio time: the untouched
//! exercise, the lesson's fixes, other fixes written differently, and other
//! forms of the bug, each run by the same harness under a run's two
//! workloads, on a thread of its own. A run that deadlocks never ends;
//! after a few seconds it counts as hanging and its thread is left behind,
//! blocked.

use lesson_06::{broken, fixed, mutex};
use shared::grade::{Grader, Observed, observe_within};
use shared::lesson::Facts;
use shared::work::shape::Rng;
use std::time::Duration;

#[allow(dead_code, clippy::await_holding_lock)]
#[path = "fixtures/mutex/bug_block_on_the_save.rs"]
mod bug_block_on_the_save;
#[allow(dead_code, clippy::await_holding_lock, clippy::match_single_binding)]
#[path = "fixtures/mutex/bug_guard_in_a_match.rs"]
mod bug_guard_in_a_match;
#[allow(dead_code)]
#[path = "fixtures/mutex/bug_own_counter.rs"]
mod bug_own_counter;
#[allow(dead_code)]
#[path = "fixtures/mutex/bug_read_then_write.rs"]
mod bug_read_then_write;
#[allow(dead_code)]
#[path = "fixtures/mutex/bug_spawned_save.rs"]
mod bug_spawned_save;
#[allow(dead_code, clippy::await_holding_lock)]
#[path = "fixtures/mutex/bug_try_lock_sleep.rs"]
mod bug_try_lock_sleep;
#[allow(dead_code, clippy::await_holding_lock)]
#[path = "fixtures/mutex/bug_try_lock_spin.rs"]
mod bug_try_lock_spin;
#[allow(dead_code)]
#[path = "fixtures/mutex/fix_atomic.rs"]
mod fix_atomic;
// Clippy's lint does not see that `drop(guard)` releases the lock before
// the `.await`; it is released, and there is no deadlock.
#[allow(dead_code, clippy::await_holding_lock)]
#[path = "fixtures/mutex/fix_drop_the_guard.rs"]
mod fix_drop_the_guard;
#[allow(dead_code)]
#[path = "fixtures/mutex/fix_tokio_rwlock.rs"]
mod fix_tokio_rwlock;
#[allow(dead_code, clippy::await_holding_lock)]
#[path = "../exercise/start/mutex.rs"]
mod start;

fn paused() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
}

fn run<S: 'static, R: AsyncFn(&S) + Send + 'static>(
    new_hits: fn(u32) -> S,
    record_hit: R,
) -> std::thread::JoinHandle<(Observed, Facts)> {
    run_on(paused, new_hits, record_hit)
}

fn run_on<S: 'static, R: AsyncFn(&S) + Send + 'static>(
    runtime: fn() -> tokio::runtime::Runtime,
    new_hits: fn(u32) -> S,
    record_hit: R,
) -> std::thread::JoinHandle<(Observed, Facts)> {
    std::thread::spawn(move || {
        let facts = Facts::for_test(&mutex::SPEC);
        let theirs = facts.clone();
        let observed = observe_within(Duration::from_secs(3), move || {
            let shapes = mutex::shapes(&mut Rng::for_scenario("mutex"));
            runtime().block_on(mutex::measure(&theirs, &shapes, new_hits, record_hit));
        });
        (observed, facts)
    })
}

#[test]
fn the_mutex_grader_tells_every_fix_from_every_form_of_the_bug() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &mutex::SPEC);
    // Every run at once: a deadlock is only noticed at the limit.
    let fixes = [
        (
            "the reference scoped guard",
            run(std::sync::Mutex::new, fixed::record_hit),
        ),
        (
            "the reference tokio Mutex",
            run(tokio::sync::Mutex::new, fixed::record_hit_in_order),
        ),
        (
            "drop(guard)",
            run(fix_drop_the_guard::new_hits, fix_drop_the_guard::record_hit),
        ),
        (
            "an atomic",
            run(fix_atomic::new_hits, fix_atomic::record_hit),
        ),
        (
            "tokio's RwLock",
            run(fix_tokio_rwlock::new_hits, fix_tokio_rwlock::record_hit),
        ),
    ];
    let bugs = [
        (
            "the reference bug",
            run(std::sync::Mutex::new, broken::record_hit),
        ),
        (
            "the untouched exercise",
            run(start::new_hits, start::record_hit),
        ),
        (
            "a guard kept by a match",
            run(
                bug_guard_in_a_match::new_hits,
                bug_guard_in_a_match::record_hit,
            ),
        ),
    ];
    let wrong = [
        (
            "a hit lost between read and write",
            run(
                bug_read_then_write::new_hits,
                bug_read_then_write::record_hit,
            ),
        ),
        (
            "the save spawned and left",
            run(bug_spawned_save::new_hits, bug_spawned_save::record_hit),
        ),
        (
            "a counter of its own",
            run(bug_own_counter::new_hits, bug_own_counter::record_hit),
        ),
        (
            "the save run by block_on, holding the lock",
            run(
                bug_block_on_the_save::new_hits,
                bug_block_on_the_save::record_hit,
            ),
        ),
    ];
    for (what, t) in fixes {
        let (o, f) = t.join().unwrap();
        grader.assert_fixed(what, o, &f);
    }
    for (what, t) in bugs {
        let (o, f) = t.join().unwrap();
        if let Some(ids) = diagnosed_as(what) {
            assert_eq!(grader.diagnoses(o.clone(), &f), ids, "{}", what);
        }
        grader.assert_bug(what, o, &f);
    }
    for (what, t) in wrong {
        let (o, f) = t.join().unwrap();
        if let Some(ids) = diagnosed_as(what) {
            assert_eq!(grader.diagnoses(o.clone(), &f), ids, "{}", what);
        }
        grader.assert_not_fixed(what, o, &f);
    }
}

/// A hit that spins on `try_lock`, yielding, while the holder's save is
/// paused: on real time (on paused time the clock would never move while
/// it spins, so the save it waits for would never end), it is polled again
/// at once after every poll, for a whole save. One that sleeps between
/// tries keeps the thread asleep in its polls most of the time (Linux
/// tells).
#[test]
fn a_hit_that_spins_or_sleeps_on_the_lock_is_not_a_fix() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &mutex::SPEC);
    let (o, f) = run_on(
        lesson_06::runtime,
        bug_try_lock_spin::new_hits,
        bug_try_lock_spin::record_hit,
    )
    .join()
    .unwrap();
    assert_eq!(o, Observed::Completes, "{:?}", f.values());
    assert!(f.get("polls_per_hit").unwrap() > 6.0, "{:?}", f.values());
    grader.assert_diagnosed("a spin on try_lock", o.clone(), &f, &["wakes-itself"]);
    grader.assert_not_fixed("a spin on try_lock", o, &f);
    if cfg!(target_os = "linux") {
        let (o, f) = run_on(
            lesson_06::runtime,
            bug_try_lock_sleep::new_hits,
            bug_try_lock_sleep::record_hit,
        )
        .join()
        .unwrap();
        assert_eq!(o, Observed::Completes, "{:?}", f.values());
        assert!(f.get("asleep_share").unwrap() > 0.5, "{:?}", f.values());
        grader.assert_diagnosed(
            "a blocking sleep between tries of the lock",
            o.clone(),
            &f,
            &[],
        );
        grader.assert_not_fixed("a blocking sleep between tries of the lock", o, &f);
    }
}

/// The diagnoses a learner is shown for each wrong fix named here (its
/// manifest's `[[exercise.diagnosis]]`); `None`: not pinned down, as its
/// facts vary with the machine or the run.
fn diagnosed_as(what: &str) -> Option<&'static [&'static str]> {
    Some(match what {
        "the reference bug" => &["blocked-on-the-lock"],
        "the untouched exercise" => &["blocked-on-the-lock"],
        "a guard kept by a match" => &["blocked-on-the-lock"],
        "a hit lost between read and write" => &["lost-updates"],
        "the save spawned and left" => &["lost-updates"],
        "a counter of its own" => &["lost-updates"],
        "the save run by block_on, holding the lock" => &["blocked-on-the-lock"],
        _ => return None,
    })
}
