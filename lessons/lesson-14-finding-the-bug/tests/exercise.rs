//! The grader of lesson 14's exercise grades the untouched exercise, the
//! chapter's solution, other fixes written differently, and other forms of
//! the bug (the symptom-hiders among them), each measured by the same
//! harness under the same two workloads, in real time. A timing verdict
//! gets three tries, for a busy machine; the counts are judged exactly.

use lesson_14::{BLOCKING, Monitors, Service, measure, shapes, solution};
use shared::grade::{Grader, Observed};
use shared::lesson::Facts;
use shared::work::shape::Rng;
use std::time::Duration;

#[allow(dead_code)]
#[path = "fixtures/service/bug_block_in_place.rs"]
mod bug_block_in_place;
#[allow(dead_code)]
#[path = "fixtures/service/bug_blocks_in_own_task.rs"]
mod bug_blocks_in_own_task;
#[allow(dead_code)]
#[path = "fixtures/service/bug_blocks_in_spells.rs"]
mod bug_blocks_in_spells;
#[allow(dead_code)]
#[path = "fixtures/service/bug_caches_wrong_value.rs"]
mod bug_caches_wrong_value;
#[allow(dead_code)]
#[path = "fixtures/service/bug_guesses_misses.rs"]
mod bug_guesses_misses;
#[allow(dead_code)]
#[path = "fixtures/service/bug_lock_across_await.rs"]
mod bug_lock_across_await;
#[allow(dead_code)]
#[path = "fixtures/service/bug_own_queue_loses_wakers.rs"]
mod bug_own_queue_loses_wakers;
#[allow(dead_code)]
#[path = "fixtures/service/bug_private_runtime.rs"]
mod bug_private_runtime;
#[allow(dead_code)]
#[path = "fixtures/service/bug_sleeps_between_yields.rs"]
mod bug_sleeps_between_yields;
#[allow(dead_code)]
#[path = "fixtures/service/bug_spins_in_spells.rs"]
mod bug_spins_in_spells;
#[allow(dead_code)]
#[path = "fixtures/service/bug_stops_ranking.rs"]
mod bug_stops_ranking;
#[allow(dead_code)]
#[path = "fixtures/service/bug_thread_per_miss.rs"]
mod bug_thread_per_miss;
#[allow(dead_code)]
#[path = "fixtures/service/bug_times_out_lost_sends.rs"]
mod bug_times_out_lost_sends;
#[allow(dead_code)]
#[path = "fixtures/service/bug_unbounded_queue.rs"]
mod bug_unbounded_queue;
#[allow(dead_code)]
#[path = "fixtures/service/bug_warms_with_zero.rs"]
mod bug_warms_with_zero;
#[allow(dead_code)]
#[path = "fixtures/service/bug_yield_waits_for_pool.rs"]
mod bug_yield_waits_for_pool;
#[allow(dead_code)]
#[path = "fixtures/service/bug_yields_around.rs"]
mod bug_yields_around;
#[allow(dead_code)]
#[path = "fixtures/service/fix_join_neighbour.rs"]
mod fix_join_neighbour;
#[allow(dead_code)]
#[path = "fixtures/service/fix_no_warming.rs"]
mod fix_no_warming;
#[allow(dead_code)]
#[path = "fixtures/service/fix_spawn_blocking.rs"]
mod fix_spawn_blocking;
#[allow(dead_code)]
#[path = "fixtures/service/fix_warm_in_background.rs"]
mod fix_warm_in_background;
#[allow(dead_code)]
#[path = "../exercise/start/service.rs"]
mod start_service;

static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn measured<S: Service>(seed: u64) -> Facts {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let facts = Facts::for_test(&BLOCKING);
    measure::<S>(&facts, &shapes(&mut Rng::new(seed)), &Monitors::new());
    facts
}

fn grader() -> Grader {
    Grader::new(env!("CARGO_MANIFEST_DIR"), &BLOCKING)
}

/// Judged fixed in one of three runs.
fn fixed<S: Service>(what: &str) {
    let g = grader();
    let mut last = None;
    for seed in [1, 2, 3] {
        let f = measured::<S>(seed);
        if g.against_fixed(Observed::Completes, &f).ok() {
            return;
        }
        last = Some(f);
    }
    let f = last.expect("three runs");
    g.assert_fixed(what, Observed::Completes, &f);
}

/// Judged not fixed, with exactly these diagnoses, in one run.
fn wrong<S: Service>(what: &str, ids: &[&str]) -> Facts {
    let f = measured::<S>(7);
    grader().assert_diagnosed(what, Observed::Completes, &f, ids);
    f
}

fn watchdog(limit: Duration) {
    std::thread::spawn(move || {
        std::thread::sleep(limit);
        eprintln!("watchdog: the test ran past {limit:?}");
        std::process::exit(101);
    });
}

fn every_fix_is_judged_fixed() {
    fixed::<solution::Shop>("the chapter's solution");
    fixed::<fix_spawn_blocking::Shop>("the client on the blocking pool");
    fixed::<fix_warm_in_background::Shop>("warming in a task of its own");
    fixed::<fix_no_warming::Shop>("no warming");
    fixed::<fix_join_neighbour::Shop>("the key and its neighbour awaited together");
}

fn every_wrong_program_is_judged_not_fixed_and_named() {
    let f = wrong::<start_service::Shop>("the untouched exercise", &["holds-the-thread"]);
    assert!(f.get("longest_poll") >= Some(0.7), "{f:?}");
    wrong::<bug_yields_around::Shop>("yields around the call", &["holds-the-thread"]);
    // The monitors never see the learner's own task; the late hits do.
    let f = wrong::<bug_blocks_in_own_task::Shop>(
        "the call moved into a spawned task",
        &["asleep-between-rests"],
    );
    assert_eq!(f.get("slow_polls"), Some(0.0), "{f:?}");
    // The panic kills the handler's task, and its connection's requests go
    // unanswered. (The poll that panics may also be long: unwinding with a
    // backtrace takes a while.)
    let f = measured::<bug_block_in_place::Shop>(7);
    let g = grader();
    g.assert_not_fixed("block_in_place", Observed::Completes, &f);
    let ids = g.diagnoses(Observed::Completes, &f);
    assert!(ids.iter().any(|i| i == "wrong-values"), "{ids:?}");
    wrong::<bug_guesses_misses::Shop>(
        "a guess first, the load later",
        &["asleep-between-rests", "wrong-values"],
    );
    wrong::<bug_unbounded_queue::Shop>("an unbounded audit queue", &["queue-unbounded"]);
    wrong::<bug_stops_ranking::Shop>("the refresher switched off", &["no-rankings"]);
}

fn what_the_service_leaves_behind_is_judged() {
    // Wrong values in the cache, asked for again or not.
    let f = wrong::<bug_warms_with_zero::Shop>("0 kept for the next key", &["cache-wrong"]);
    assert_eq!(f.get("wrong_answers"), Some(0.0), "{f:?}");
    wrong::<bug_caches_wrong_value::Shop>("the missed key kept plus one", &["cache-wrong"]);
    // Threads of its own: one per miss, or a runtime's workers left running.
    let f = wrong::<bug_thread_per_miss::Shop>("a thread per miss", &["thread-per-miss"]);
    assert!(f.get("threads_started") >= Some(5.0), "{f:?}");
    // (Building the runtime on a handler's path may also make a long poll.)
    let f = measured::<bug_private_runtime::Shop>(7);
    let g = grader();
    g.assert_not_fixed("a runtime of its own", Observed::Completes, &f);
    let ids = g.diagnoses(Observed::Completes, &f);
    for id in ["thread-per-miss", "threads-left"] {
        assert!(ids.iter().any(|i| i == id), "{id}: {ids:?} {f:?}");
    }
    assert!(f.get("threads_left") >= Some(1.0), "{f:?}");
}

fn a_wait_cut_into_spells_is_judged_not_fixed() {
    // Each spell is short; what they add up to is not. (The store is asked
    // on a thread per miss, which shows too.)
    for (what, f) in [
        (
            "asleep in 3 ms spells",
            measured::<bug_blocks_in_spells::Shop>(7),
        ),
        (
            "spinning in 4 ms spells",
            measured::<bug_spins_in_spells::Shop>(7),
        ),
    ] {
        let g = grader();
        g.assert_not_fixed(what, Observed::Completes, &f);
        let ids = g.diagnoses(Observed::Completes, &f);
        // (A spell that oversleeps on a busy machine may pass the longest
        // poll's bound too; the diagnosis then names that.)
        assert!(
            ids.iter()
                .any(|i| i == "held-in-spells" || i == "holds-the-thread"),
            "{what}: {ids:?} {f:?}"
        );
        assert!(f.get("held_in_spells") > Some(1.0), "{what}: {f:?}");
    }
    // Spells with a yield between them: one long stretch asleep, in short
    // polls; the diagnosis says so.
    let f = measured::<bug_sleeps_between_yields::Shop>(7);
    let g = grader();
    g.assert_not_fixed("asleep between yields", Observed::Completes, &f);
    let ids = g.diagnoses(Observed::Completes, &f);
    assert!(
        ids.iter().any(|i| i == "asleep-between-rests"),
        "{ids:?} {f:?}"
    );
    assert!(f.get("longest_poll") <= Some(0.25), "{f:?}");
    // The load on the blocking pool, waited for in a loop of
    // `std::thread::yield_now`: the handler holds the thread for the whole
    // load. Quiet, that is CPU time in one poll; beside busy programs each
    // yield hands the core away, the loop shows as waits for a core, and
    // the symptom (slow hits) and the monitors' slow polls judge it.
    let f = measured::<bug_yield_waits_for_pool::Shop>(7);
    grader().assert_not_fixed("a yield loop waiting for the pool", Observed::Completes, &f);
}

/// Judged not fixed, in one run, with `id` among its diagnoses.
fn wrong_with<S: Service>(what: &str, id: &str) -> Facts {
    let f = measured::<S>(7);
    let g = grader();
    g.assert_not_fixed(what, Observed::Completes, &f);
    let ids = g.diagnoses(Observed::Completes, &f);
    assert!(
        ids.iter().any(|i| i == id),
        "{what}: {id} not in {ids:?} {f:?}"
    );
    f
}

fn a_service_that_stops_or_loses_requests_is_judged_not_fixed() {
    // The service's thread blocks on the lock for good: the harness gives
    // up on it (and leaves it blocked until the test process ends).
    let f =
        wrong_with::<bug_lock_across_await::Shop>("a lock held across an await", "service-stuck");
    assert!(f.get("lost_requests") >= Some(4.0), "{f:?}");
    // A few handlers are never woken again; the rest of the service goes on.
    let f = wrong_with::<bug_own_queue_loses_wakers::Shop>(
        "a queue that keeps one waker",
        "requests-lost",
    );
    assert_eq!(f.get("service_stuck"), Some(0.0), "{f:?}");
    assert!(f.get("handlers_left") >= Some(1.0), "{f:?}");
    // The symptom hidden: every request answered, the events dropped.
    let f = wrong_with::<bug_times_out_lost_sends::Shop>(
        "a timeout around the send that loses its wake-up",
        "events-lost",
    );
    assert_eq!(f.get("lost_requests"), Some(0.0), "{f:?}");
}

/// One test, which runs each check in turn: a run counts the threads that
/// start while it runs, and the test harness starts a thread for each test
/// as another ends.
#[test]
fn every_check_in_turn() {
    watchdog(Duration::from_secs(600));
    every_fix_is_judged_fixed();
    every_wrong_program_is_judged_not_fixed_and_named();
    what_the_service_leaves_behind_is_judged();
    a_wait_cut_into_spells_is_judged_not_fixed();
    a_service_that_stops_or_loses_requests_is_judged_not_fixed();
}
