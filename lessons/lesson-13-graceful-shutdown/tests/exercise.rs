//! The grader of lesson 13's exercise grades the untouched exercise, the
//! lesson's fixes, other fixes written differently, and other forms of the
//! bug, each measured by the same harness under the same two workloads, in
//! real time (a real SIGINT each). Counts are judged exactly here; the
//! times by `cargo xtask check` and `cargo xtask fixtures`, except the
//! spin's, which no busy machine can fake.

use lesson_13::{Listener, Store, fixed, shutdown};
use shared::grade::{Grader, Observed};
use shared::lesson::Facts;
use shared::work::shape::Rng;
use std::time::Duration;

#[allow(dead_code)]
#[path = "fixtures/shutdown/bug_aborts_at_ctrl_c.rs"]
mod bug_aborts_at_ctrl_c;
#[allow(dead_code)]
#[path = "fixtures/shutdown/bug_never_stops_accepting.rs"]
mod bug_never_stops_accepting;
#[allow(dead_code)]
#[path = "fixtures/shutdown/bug_permit_raced.rs"]
mod bug_permit_raced;
#[allow(dead_code)]
#[path = "fixtures/shutdown/bug_request_raced.rs"]
mod bug_request_raced;
#[allow(dead_code)]
#[path = "fixtures/shutdown/bug_spins_until_done.rs"]
mod bug_spins_until_done;
#[allow(dead_code)]
#[path = "fixtures/shutdown/fix_join_set.rs"]
mod fix_join_set;
#[allow(dead_code)]
#[path = "fixtures/shutdown/fix_no_spawn.rs"]
mod fix_no_spawn;
#[allow(dead_code)]
#[path = "../exercise/start/shutdown.rs"]
mod start_shutdown;

const SEED: u64 = 7;

fn measured(serve: impl AsyncFn(Listener, Store, Duration)) -> Facts {
    let facts = Facts::for_test(&shutdown::SPEC);
    shutdown::measure(&facts, &shutdown::shapes(&mut Rng::new(SEED)), serve);
    facts
}

/// The facts a busy machine cannot change.
const COUNTED: &[&str] = &[
    "records_lost",
    "records_half",
    "unanswered",
    "tasks_left",
    "after_return",
    "early_returns",
    "answered_before_stop",
];

#[test]
fn the_shutdown_grader_tells_every_fix_from_every_form_of_the_bug() {
    let full = Grader::new(env!("CARGO_MANIFEST_DIR"), &shutdown::SPEC);
    let grader = full.only(COUNTED);
    let done = || Observed::Completes;

    grader.assert_fixed("the lesson's fix", done(), &measured(fixed::serve));
    grader.assert_fixed(
        "the chapter's solution",
        done(),
        &measured(fixed::serve_per_request),
    );
    grader.assert_fixed(
        "a JoinSet, no accept task",
        done(),
        &measured(fix_join_set::serve),
    );
    grader.assert_fixed(
        "FuturesUnordered, no task",
        done(),
        &measured(fix_no_spawn::serve),
    );

    let named = |what: &str, facts: &Facts, ids: &[&str]| {
        assert_eq!(full.diagnoses(done(), facts), ids, "{what}: {facts:?}");
    };
    // Returns at Ctrl-C: tasks left, records cut and lost, clients
    // unanswered.
    let f = measured(start_shutdown::serve);
    grader.assert_bug("the untouched exercise", done(), &f);
    named("the untouched exercise", &f, &["returned-too-soon"]);
    assert!(f.get("records_half") >= Some(1.0), "{f:?}");

    let f = measured(bug_aborts_at_ctrl_c::serve);
    grader.assert_bug("every task aborted", done(), &f);
    named("every task aborted", &f, &["cut-mid-write"]);

    let f = measured(bug_request_raced::serve);
    grader.assert_bug("each request raced with the stop", done(), &f);
    named("each request raced with the stop", &f, &["cut-mid-write"]);

    // It loses a request only if the stop lands while a request waits for
    // its permit: nearly always in the burst, not always on one core.
    // Several seeds; one showing it is enough.
    let f = [SEED, 8, 9]
        .into_iter()
        .map(|seed| {
            let facts = Facts::for_test(&shutdown::SPEC);
            let shapes = shutdown::shapes(&mut Rng::new(seed));
            shutdown::measure(&facts, &shapes, bug_permit_raced::serve);
            facts
        })
        .find(|f| f.get("records_lost") >= Some(1.0))
        .expect("the permit's wait raced never lost a request");
    grader.assert_bug("the permit's wait raced", done(), &f);
    named("the permit's wait raced", &f, &["dropped-whole"]);
    assert_eq!(f.get("records_half"), Some(0.0), "{f:?}");

    // Nothing stops the accept loop: the wait lasts the whole deadline,
    // and the loop is left running.
    let f = measured(bug_never_stops_accepting::serve);
    grader.assert_not_fixed("the accept loop never stopped", done(), &f);
    assert!(f.get("tasks_left") >= Some(1.0), "{f:?}");
    assert!(f.get("shutdown_ratio") >= Some(0.95), "{f:?}");
    let ids = full.diagnoses(done(), &f);
    assert!(ids.iter().any(|i| i == "returned-too-soon"), "{ids:?}");

    // Loses nothing, but spins: only the runtime's parking tells.
    let f = measured(bug_spins_until_done::serve);
    grader.assert_fixed("a spinning wait, on its counts", done(), &f);
    full.only(&["shutdown_spin"])
        .assert_not_fixed("a spinning wait", done(), &f);
    named("a spinning wait", &f, &["checks-in-a-loop"]);
}
