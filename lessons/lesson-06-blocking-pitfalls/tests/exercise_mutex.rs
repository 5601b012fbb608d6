//! The `mutex` exercise's grader (the `cache` scenario) grades, on paused
//! tokio time: the untouched exercise, the lesson's fix, other fixes
//! written differently, and other forms of the bug, each run by the same
//! harness under a run's two workloads, on a thread of its own. A run that
//! deadlocks never ends; after a few seconds it counts as hanging and its
//! thread is left behind, blocked.

use lesson_06::cache::{self, Page};
use lesson_06::{broken, fixed};
use shared::grade::{Grader, Observed, observe_within};
use shared::lesson::Facts;
use shared::work::shape::Rng;
use std::time::Duration;

#[allow(dead_code)]
#[path = "fixtures/mutex/bug_block_on_the_fetch.rs"]
mod bug_block_on_the_fetch;
#[allow(dead_code)]
#[path = "fixtures/mutex/bug_check_then_fetch.rs"]
mod bug_check_then_fetch;
#[allow(dead_code, clippy::await_holding_lock)]
#[path = "fixtures/mutex/bug_guard_in_a_match.rs"]
mod bug_guard_in_a_match;
#[allow(dead_code)]
#[path = "fixtures/mutex/bug_look_again.rs"]
mod bug_look_again;
#[allow(dead_code)]
#[path = "fixtures/mutex/bug_look_every_10ms.rs"]
mod bug_look_every_10ms;
#[allow(dead_code)]
#[path = "fixtures/mutex/bug_no_cache.rs"]
mod bug_no_cache;
#[allow(dead_code)]
#[path = "fixtures/mutex/bug_one_async_lock.rs"]
mod bug_one_async_lock;
#[allow(dead_code)]
#[path = "fixtures/mutex/fix_key_locks.rs"]
mod fix_key_locks;
#[allow(dead_code)]
#[path = "fixtures/mutex/fix_notify_per_key.rs"]
mod fix_notify_per_key;
#[allow(dead_code)]
#[path = "fixtures/mutex/fix_shared_fetch.rs"]
mod fix_shared_fetch;
#[allow(dead_code)]
#[path = "fixtures/mutex/fix_watch_per_key.rs"]
mod fix_watch_per_key;
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

fn run<C: 'static, R: AsyncFn(&C, u32) -> Page + Send + 'static>(
    new_cache: fn() -> C,
    get: R,
) -> std::thread::JoinHandle<(Observed, Facts)> {
    run_on(paused, new_cache, get)
}

fn run_on<C: 'static, R: AsyncFn(&C, u32) -> Page + Send + 'static>(
    runtime: fn() -> tokio::runtime::Runtime,
    new_cache: fn() -> C,
    get: R,
) -> std::thread::JoinHandle<(Observed, Facts)> {
    std::thread::spawn(move || {
        let facts = Facts::for_test(&cache::SPEC);
        let theirs = facts.clone();
        let observed = observe_within(Duration::from_secs(3), move || {
            let shapes = cache::shapes(&mut Rng::for_scenario("cache"));
            runtime().block_on(cache::measure(&theirs, &shapes, new_cache, get));
        });
        (observed, facts)
    })
}

#[test]
fn the_cache_grader_tells_every_fix_from_every_form_of_the_bug() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &cache::SPEC);
    // Every run at once: a deadlock is only noticed at the limit.
    let fixes = [
        (
            "the reference OnceCell per key",
            run(fixed::new_cache, fixed::get),
        ),
        (
            "a tokio Mutex per key",
            run(fix_key_locks::new_cache, fix_key_locks::get),
        ),
        (
            "the fetch shared",
            run(fix_shared_fetch::new_cache, fix_shared_fetch::get),
        ),
        (
            "a watch channel per key",
            run(fix_watch_per_key::new_cache, fix_watch_per_key::get),
        ),
        (
            "a Notify per key",
            run(fix_notify_per_key::new_cache, fix_notify_per_key::get),
        ),
    ];
    let bugs = [
        ("the reference bug", run(broken::new_cache, broken::get)),
        ("the untouched exercise", run(start::new_cache, start::get)),
        (
            "a guard kept by a match",
            run(bug_guard_in_a_match::new_cache, bug_guard_in_a_match::get),
        ),
    ];
    let wrong: [(&str, &[&str], _); 8] = [
        (
            "the fetch run by block_on, holding the lock",
            &["blocked-on-the-lock"],
            run(
                bug_block_on_the_fetch::new_cache,
                bug_block_on_the_fetch::get,
            ),
        ),
        (
            "the lock let go before the fetch",
            &["fetched-twice"],
            run(bug_check_then_fetch::new_cache, bug_check_then_fetch::get),
        ),
        (
            "no cache",
            &["fetched-twice"],
            run(bug_no_cache::new_cache, bug_no_cache::get),
        ),
        (
            "one tokio Mutex over the map",
            &["one-at-a-time"],
            run(bug_one_async_lock::new_cache, bug_one_async_lock::get),
        ),
        (
            "looking again every millisecond",
            &["wakes-itself"],
            run(bug_look_again::new_cache, bug_look_again::get),
        ),
        (
            "looking again every 10 ms",
            &["wakes-itself"],
            run(bug_look_every_10ms::new_cache, bug_look_every_10ms::get),
        ),
        (
            "looking again every 5 ms",
            &["wakes-itself"],
            run(bug_look_every_10ms::new_cache, async |c, k| {
                bug_look_every_10ms::look_every(c, k, Duration::from_millis(5)).await
            }),
        ),
        (
            "looking again every 20 ms",
            &["wakes-itself"],
            run(bug_look_every_10ms::new_cache, async |c, k| {
                bug_look_every_10ms::look_every(c, k, Duration::from_millis(20)).await
            }),
        ),
    ];
    // A fix is judged on the facts that paused time makes exact; its
    // longest poll is real time, which a busy machine can stretch.
    let exact = grader.only(&[
        "gets_answered",
        "extra_fetches",
        "elapsed_ratio",
        "heartbeat_lateness",
        "polls_of_a_get",
        "polls_during_the_fetch",
    ]);
    for (what, t) in fixes {
        let (o, f) = t.join().unwrap();
        exact.assert_fixed(what, o, &f);
    }
    for (what, t) in bugs {
        let (o, f) = t.join().unwrap();
        grader.assert_bug(what, o.clone(), &f);
        grader.assert_diagnosed(what, o, &f, &["blocked-on-the-lock"]);
    }
    for (what, ids, t) in wrong {
        let (o, f) = t.join().unwrap();
        grader.assert_diagnosed(what, o, &f, ids);
    }
}

/// On paused time, one lock over the map held across the fetch takes two
/// times the ideal or more: every workload has three keys or more asked
/// for at once, each fetch 20 to 30 ms.
#[test]
fn one_fetch_at_a_time_is_far_from_the_ideal() {
    let (o, f) = run(bug_one_async_lock::new_cache, bug_one_async_lock::get)
        .join()
        .unwrap();
    assert_eq!(o, Observed::Completes);
    assert!(f.get("elapsed_ratio").unwrap() >= 1.9, "{:?}", f.values());
    assert_eq!(f.get("extra_fetches"), Some(0.0));
}

/// On real time, where a 1 ms sleep lasts a little longer (on a very busy
/// machine, several ms, so that a get may be polled only six times): a get
/// that looks again every millisecond is still polled while a fetch of
/// 20 ms or more runs.
#[test]
fn a_get_that_looks_again_and_again_is_not_a_fix() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &cache::SPEC);
    let (o, f) = run_on(
        lesson_06::runtime,
        bug_look_again::new_cache,
        bug_look_again::get,
    )
    .join()
    .unwrap();
    assert!(
        f.get("polls_during_the_fetch").unwrap() >= 1.0,
        "{:?}",
        f.values()
    );
    let shown = grader.diagnoses(o.clone(), &f);
    assert!(shown.contains(&"wakes-itself".to_string()), "{shown:?}");
    grader.assert_not_fixed("looking again every millisecond", o, &f);
}

/// On real time: a get that looks again every 10 ms is polled a few times
/// only, but at least once while the fetch it waits for still runs, which
/// no get that is woken by the fetch's end ever is; a fix, on real time
/// too, never is.
#[test]
fn a_get_that_looks_again_on_a_timer_is_not_a_fix() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &cache::SPEC);
    let poller = run_on(
        lesson_06::runtime,
        bug_look_every_10ms::new_cache,
        bug_look_every_10ms::get,
    );
    let fix = run_on(
        lesson_06::runtime,
        fix_notify_per_key::new_cache,
        fix_notify_per_key::get,
    );
    let (o, f) = poller.join().unwrap();
    assert!(
        f.get("polls_during_the_fetch").unwrap() >= 1.0,
        "{:?}",
        f.values()
    );
    grader.assert_diagnosed("looking again every 10 ms", o, &f, &["wakes-itself"]);
    let (o, f) = fix.join().unwrap();
    assert_eq!(o, Observed::Completes);
    assert_eq!(
        f.get("polls_during_the_fetch"),
        Some(0.0),
        "{:?}",
        f.values()
    );
}

/// Every run's workloads: each key asked for at least twice, the first
/// gets of every key in the first 4 ms, so that a get fetching again, or
/// fetches one at a time, always show.
#[test]
fn every_workload_asks_for_each_key_twice_at_once() {
    for seed in 0..300 {
        let shapes = cache::shapes(&mut Rng::new(seed));
        assert_eq!(shapes.len(), 2);
        for shape in &shapes {
            assert!(shape.fetch_times.len() >= 3);
            for &key in shape.fetch_times.keys() {
                let gets: Vec<_> = shape.gets.iter().filter(|&&(_, k)| k == key).collect();
                assert!(gets.len() >= 2, "{seed}: {key}");
                assert!(gets.iter().any(|&&(at, _)| at <= Duration::from_millis(4)));
            }
        }
    }
}
