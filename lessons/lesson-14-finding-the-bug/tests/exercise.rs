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
#[path = "fixtures/service/bug_guesses_misses.rs"]
mod bug_guesses_misses;
#[allow(dead_code)]
#[path = "fixtures/service/bug_stops_ranking.rs"]
mod bug_stops_ranking;
#[allow(dead_code)]
#[path = "fixtures/service/bug_unbounded_queue.rs"]
mod bug_unbounded_queue;
#[allow(dead_code)]
#[path = "fixtures/service/bug_yields_around.rs"]
mod bug_yields_around;
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

#[test]
fn every_fix_is_judged_fixed() {
    watchdog(Duration::from_secs(180));
    fixed::<solution::Shop>("the chapter's solution");
    fixed::<fix_spawn_blocking::Shop>("the client on the blocking pool");
    fixed::<fix_warm_in_background::Shop>("warming in a task of its own");
    fixed::<fix_no_warming::Shop>("no warming");
}

#[test]
fn every_wrong_program_is_judged_not_fixed_and_named() {
    watchdog(Duration::from_secs(180));
    let f = wrong::<start_service::Shop>("the untouched exercise", &["holds-the-thread"]);
    assert!(f.get("longest_poll") >= Some(0.7), "{f:?}");
    wrong::<bug_yields_around::Shop>("yields around the call", &["holds-the-thread"]);
    // The monitors never see the learner's own task; the late hits do.
    let f = wrong::<bug_blocks_in_own_task::Shop>(
        "the call moved into a spawned task",
        &["blocked-out-of-sight"],
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
        &["blocked-out-of-sight", "wrong-values"],
    );
    wrong::<bug_unbounded_queue::Shop>("an unbounded audit queue", &["queue-unbounded"]);
    wrong::<bug_stops_ranking::Shop>("the refresher switched off", &["no-rankings"]);
}
