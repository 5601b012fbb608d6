//! The grader of lesson 13's exercise grades the untouched exercise, the
//! lesson's fixes, other fixes written differently, and other forms of the
//! bug, each measured by the same harness under the same three workloads, in
//! real time (a real SIGINT each). Counts are judged exactly here; the
//! times by `cargo xtask check` and `cargo xtask fixtures`.

use lesson_13::{Listener, Store, fixed, shutdown};
use shared::grade::{Grader, Observed};
use shared::lesson::Facts;
use shared::work::shape::Rng;
use std::time::Duration;

#[allow(dead_code)]
#[path = "fixtures/shutdown/bug_abort_and_report.rs"]
mod bug_abort_and_report;
#[allow(dead_code)]
#[path = "fixtures/shutdown/bug_aborts_at_ctrl_c.rs"]
mod bug_aborts_at_ctrl_c;
#[allow(dead_code)]
#[path = "fixtures/shutdown/bug_answer_uncounted.rs"]
mod bug_answer_uncounted;
#[allow(dead_code)]
#[path = "fixtures/shutdown/bug_block_spells.rs"]
mod bug_block_spells;
#[allow(dead_code)]
#[path = "fixtures/shutdown/bug_fixed_sleep.rs"]
mod bug_fixed_sleep;
#[allow(dead_code)]
#[path = "fixtures/shutdown/bug_gives_up_silently.rs"]
mod bug_gives_up_silently;
#[allow(dead_code)]
#[path = "fixtures/shutdown/bug_grace_accept.rs"]
mod bug_grace_accept;
#[allow(dead_code)]
#[path = "fixtures/shutdown/bug_ignores_deadline.rs"]
mod bug_ignores_deadline;
#[allow(dead_code)]
#[path = "fixtures/shutdown/bug_never_stops_accepting.rs"]
mod bug_never_stops_accepting;
#[allow(dead_code)]
#[path = "fixtures/shutdown/bug_no_deadline.rs"]
mod bug_no_deadline;
#[allow(dead_code)]
#[path = "fixtures/shutdown/bug_permit_raced.rs"]
mod bug_permit_raced;
#[allow(dead_code)]
#[path = "fixtures/shutdown/bug_report_two.rs"]
mod bug_report_two;
#[allow(dead_code)]
#[path = "fixtures/shutdown/bug_request_raced.rs"]
mod bug_request_raced;
#[allow(dead_code)]
#[path = "fixtures/shutdown/bug_spin_thread_kept_from_the_first_workload.rs"]
mod bug_spin_thread_kept_from_the_first_workload;
#[allow(dead_code)]
#[path = "fixtures/shutdown/bug_spin_thread_made_first.rs"]
mod bug_spin_thread_made_first;
#[allow(dead_code)]
#[path = "fixtures/shutdown/bug_spin_thread_wait.rs"]
mod bug_spin_thread_wait;
#[allow(dead_code)]
#[path = "fixtures/shutdown/bug_spins_until_done.rs"]
mod bug_spins_until_done;
#[allow(dead_code)]
#[path = "fixtures/shutdown/bug_timer_poll_2ms.rs"]
mod bug_timer_poll_2ms;
#[allow(dead_code)]
#[path = "fixtures/shutdown/bug_timer_poll_wait.rs"]
mod bug_timer_poll_wait;
#[allow(dead_code)]
#[path = "fixtures/shutdown/fix_guard_channel.rs"]
mod fix_guard_channel;
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
    "unreported",
    "gave_up_early",
    "overreported",
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
    grader.assert_fixed(
        "a channel closed by the last task, no tracker",
        done(),
        &measured(fix_guard_channel::serve),
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

    // The burst's signal comes once the service is stuck: here, with the
    // listener waiting for a permit that no one can give back. Lost every
    // time, on any machine.
    let f = measured(bug_permit_raced::serve);
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

    // Waits with a deadline, but drops what is left at it without a word.
    let f = measured(bug_gives_up_silently::serve);
    grader.assert_not_fixed("given up in silence", done(), &f);
    named("given up in silence", &f, &["gave-up-silently"]);
    // Every record that cannot finish, in both overruns.
    let beyond: usize = shutdown::shapes(&mut Rng::new(SEED))
        .iter()
        .map(|s| s.beyond.len())
        .sum();
    assert_eq!(f.get("unreported"), Some(beyond as f64), "{f:?}");

    // No deadline: the records that cannot finish hold it up until the
    // harness drops it at twice the deadline.
    let f = measured(bug_no_deadline::serve);
    assert_eq!(f.get("unreported"), Some(0.0), "{f:?}");
    full.only(&["forced_stops", "over_deadline"])
        .assert_not_fixed("no deadline", done(), &f);
    named("no deadline", &f, &["no-end-to-the-wait"]);

    // Loses nothing, but spins: only serve's polls tell.
    let f = measured(bug_spins_until_done::serve);
    grader.assert_fixed("a spinning wait, on its counts", done(), &f);
    full.only(&["shutdown_polls"])
        .assert_not_fixed("a spinning wait", done(), &f);
    named("a spinning wait", &f, &["checks-in-a-loop"]);

    // Answers at once that it gives everything up, and returns: reporting
    // is not finishing.
    let f = measured(bug_abort_and_report::serve);
    grader.assert_bug("gives up at once and says so", done(), &f);

    // Counts a task done before its answer is sent: the answers on their
    // way are cut with the runtime (an answer takes the harness's slow
    // clients a moment).
    let f = measured(bug_answer_uncounted::serve);
    grader.assert_not_fixed("done before the answer", done(), &f);
    assert!(f.get("unanswered") >= Some(1.0), "{f:?}");

    // Checks a counter on a timer, or blocks the thread in spells: woken
    // with nothing new, again and again.
    let has = |what: &str, f: &Facts, id: &str| {
        let ids = full.diagnoses(done(), f);
        assert!(ids.iter().any(|i| i == id), "{what}: {ids:?} {f:?}");
    };
    let f = measured(bug_timer_poll_wait::serve);
    grader.assert_fixed("a 5 ms timer loop, on its counts", done(), &f);
    full.only(&["idle_polls"])
        .assert_not_fixed("a 5 ms timer loop", done(), &f);
    has("a 5 ms timer loop", &f, "wakes-for-nothing");
    let f = measured(bug_timer_poll_2ms::serve);
    full.only(&["idle_polls"])
        .assert_not_fixed("a 2 ms timer loop", done(), &f);
    let f = measured(bug_block_spells::serve);
    full.only(&["idle_polls"])
        .assert_not_fixed("blocking in spells", done(), &f);

    // Spins on a thread of its own: serve is polled a few times, but a
    // core is kept busy for the whole wait.
    let f = measured(bug_spin_thread_wait::serve);
    grader.assert_fixed("a spinning thread, on its counts", done(), &f);
    full.only(&["others_busy"])
        .assert_not_fixed("a spinning thread", done(), &f);
    has("a spinning thread", &f, "spins-elsewhere");
    // The same spin on a thread made before the harness began (in
    // `main`), or by the first workload and kept: a thread is the piece's
    // whenever it was made.
    bug_spin_thread_made_first::start_the_thread();
    let f = measured(bug_spin_thread_made_first::serve);
    full.only(&["others_busy"])
        .assert_not_fixed("a spinning thread made first", done(), &f);
    has("a spinning thread made first", &f, "spins-elsewhere");
    let f = measured(bug_spin_thread_kept_from_the_first_workload::serve);
    full.only(&["others_busy"]).assert_not_fixed(
        "a spinning thread kept from the first workload",
        done(),
        &f,
    );
    has(
        "a spinning thread kept from the first workload",
        &f,
        "spins-elsewhere",
    );

    // Sleeps a guessed half deadline: idles when the work is done sooner,
    // gives up early when it is not.
    let f = measured(bug_fixed_sleep::serve);
    grader.assert_not_fixed("a guessed sleep", done(), &f);
    assert!(f.get("gave_up_early") >= Some(1.0), "{f:?}");
    full.only(&["idle_after_done"])
        .assert_not_fixed("a guessed sleep", done(), &f);

    // A timeout of its own instead of the deadline given: early in the
    // long overrun.
    let f = measured(bug_ignores_deadline::serve);
    grader.assert_not_fixed("a timeout of its own", done(), &f);
    named("a timeout of its own", &f, &["gave-up-early"]);

    // A hard-coded count of what is given up: wrong in one overrun or
    // the other.
    let f = measured(bug_report_two::serve);
    grader.assert_not_fixed("a made-up report", done(), &f);

    // Keeps its door open for a third of the deadline after Ctrl-C.
    let f = measured(bug_grace_accept::serve);
    full.only(&["accepted_late"])
        .assert_not_fixed("a grace period for new clients", done(), &f);
    has("a grace period for new clients", &f, "kept-accepting");
}
