//! The `backpressure` exercise's grader on real time, on the harness's
//! runtime of 2 threads, where it watches how a client waits wherever its
//! code runs: a spin moved out of the client's own future (into a task it
//! spawns, into `block_in_place`, onto a thread made in `main`) never lets
//! its thread sleep (`awake_share`); a loop that sleeps between looks
//! inside one poll holds the client's thread (`hold_share`). Every fix
//! stays fixed.
//!
//! A file of its own, its runs one at a time: `awake_share` watches every
//! thread of the process, so another test's threads would count too.

use lesson_08::{Answers, fixed, requests};
use shared::grade::{Grader, Observed, observe_within};
use shared::lesson::Facts;
use shared::work::shape::Rng;
use std::time::Duration;

#[allow(dead_code)]
#[path = "fixtures/backpressure/bug_block_in_place_spin.rs"]
mod bug_block_in_place_spin;
#[allow(dead_code)]
#[path = "fixtures/backpressure/bug_spawned_spin.rs"]
mod bug_spawned_spin;
#[allow(dead_code)]
#[path = "fixtures/backpressure/bug_spin_thread_main.rs"]
mod bug_spin_thread_main;
#[allow(dead_code)]
#[path = "fixtures/backpressure/bug_thread_sleep_poll.rs"]
mod bug_thread_sleep_poll;
#[allow(dead_code)]
#[path = "fixtures/backpressure/fix_buffered.rs"]
mod fix_buffered;
#[allow(dead_code)]
#[path = "fixtures/backpressure/fix_select_window.rs"]
mod fix_select_window;
#[allow(dead_code)]
#[path = "fixtures/backpressure/fix_semaphore.rs"]
mod fix_semaphore;
#[allow(dead_code)]
#[path = "fixtures/backpressure/fix_window_in_a_deque.rs"]
mod fix_window_in_a_deque;

static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Every fact but `time_ratio`, which a busy test machine can push past
/// its bound (`cargo xtask check` and `fixtures` judge it).
const COUNTED: &[&str] = &[
    "most_alive",
    "peak_ratio",
    "lost",
    "wrong_answers",
    "polls_per_request",
    "hold_share",
    "awake_share",
];

/// The three workloads of a run (seed 8), measured as the harness
/// measures them: in real time, on its runtime of 2 threads. A run still
/// going after 20 s hangs (the run takes about a second).
fn asked(run: impl AsyncFn(Answers) + Send + 'static) -> (Observed, Facts) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let facts = Facts::for_test(&requests::SPEC);
    let theirs = facts.clone();
    let o = observe_within(Duration::from_secs(20), move || {
        let mut rng = Rng::new(8);
        let shapes = requests::shapes(&mut rng);
        lesson_08::requests_runtime().block_on(requests::measure(&theirs, &shapes, &mut rng, run));
    });
    (o, facts)
}

fn grader(facts: &[&str]) -> Grader {
    Grader::new(env!("CARGO_MANIFEST_DIR"), &requests::SPEC).only(facts)
}

/// Asserts that `what` is not fixed by `fact` alone, and that the
/// diagnoses shown include `id`.
fn caught_by(what: &str, (o, f): (Observed, Facts), fact: &str, id: &str) {
    grader(&[fact]).assert_not_fixed(what, o.clone(), &f);
    let named = grader(COUNTED).diagnoses(o, &f);
    assert!(
        named.iter().any(|n| n == id),
        "{what}: {named:?} ({:?})",
        f.values()
    );
}

#[test]
fn every_fix_waits_without_holding_or_spinning() {
    for (what, (o, f)) in [
        ("the reference fix", asked(fixed::ask_all)),
        ("a buffered stream", asked(fix_buffered::ask_all)),
        ("a permit per request", asked(fix_semaphore::ask_all)),
        (
            "a window in a VecDeque",
            asked(fix_window_in_a_deque::ask_all),
        ),
        (
            "one loop, select! between the oldest reply and room to send",
            asked(fix_select_window::ask_all),
        ),
    ] {
        grader(COUNTED).assert_fixed(what, o, &f);
    }
}

#[test]
fn a_spin_is_caught_wherever_it_is() {
    caught_by(
        "a spin in a spawned task",
        asked(bug_spawned_spin::ask_all),
        "awake_share",
        "spins-elsewhere",
    );
    caught_by(
        "a spin inside block_in_place",
        asked(bug_block_in_place_spin::ask_all),
        "awake_share",
        "spins-elsewhere",
    );
    // Made before the harness, as its `main` does.
    bug_spin_thread_main::start_spinner();
    caught_by(
        "a spin on a thread made in main",
        asked(bug_spin_thread_main::ask_all),
        "awake_share",
        "spins-elsewhere",
    );
}

#[test]
fn a_poll_that_holds_its_thread_is_caught() {
    caught_by(
        "a loop of tries and std::thread::sleep in one poll",
        asked(bug_thread_sleep_poll::ask_all),
        "hold_share",
        "holds-its-thread",
    );
}
