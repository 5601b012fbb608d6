//! The `sleep` grader grades: the untouched exercise, the lesson's fix,
//! other fixes written differently, and other forms of the bug, each run by
//! the same harness in real time (a blocking sleep knows nothing of tokio's
//! clock), all at once, each on a thread of its own. On a test machine that
//! may be busy, only the facts that do not depend on its speed are judged
//! here: how many waits overlapped, and that each lasted its 100 ms. The
//! elapsed time and the heartbeat are judged by `cargo xtask check`.

use lesson_06::{broken, fixed, runtime, sleep};
use shared::grade::{Grader, Observed, observe_within};
use shared::lesson::Facts;
use std::future::Future;
use std::time::Duration;

#[allow(dead_code)]
#[path = "fixtures/sleep/bug_busy_wait.rs"]
mod bug_busy_wait;
#[allow(dead_code)]
#[path = "fixtures/sleep/bug_no_wait.rs"]
mod bug_no_wait;
#[allow(dead_code)]
#[path = "fixtures/sleep/fix_sleep_until.rs"]
mod fix_sleep_until;
#[allow(dead_code)]
#[path = "fixtures/sleep/fix_spawn_blocking.rs"]
mod fix_spawn_blocking;
#[allow(dead_code)]
#[path = "../exercise/start/sleep.rs"]
mod start;

type Run = Box<dyn FnOnce() -> (Observed, Facts) + Send>;

fn run<F: Future<Output = ()> + Send + 'static>(nap: fn() -> F) -> Run {
    Box::new(move || {
        let facts = Facts::for_test(&sleep::SPEC);
        let theirs = facts.clone();
        let observed = observe_within(Duration::from_secs(20), move || {
            runtime().block_on(sleep::measure(&theirs, nap))
        });
        (observed, facts)
    })
}

#[test]
fn the_sleep_grader_tells_every_fix_from_every_form_of_the_bug() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &sleep::SPEC)
        .only(&["naps_at_once", "shortest_nap_ratio"]);
    let runs: Vec<(&str, bool, Run)> = vec![
        ("the reference fix", true, run(fixed::nap)),
        ("sleep_until", true, run(fix_sleep_until::nap)),
        ("spawn_blocking", true, run(fix_spawn_blocking::nap)),
        ("the reference bug", false, run(broken::nap)),
        ("the untouched exercise", false, run(start::nap)),
        ("a busy wait", false, run(bug_busy_wait::nap)),
    ];
    let started: Vec<_> = runs
        .into_iter()
        .map(|(what, fix, r)| (what, fix, std::thread::spawn(r)))
        .collect();
    for (what, fix, thread) in started {
        let (o, f) = thread.join().expect("the harness does not panic");
        if fix {
            grader.assert_fixed(what, o, &f);
        } else {
            grader.assert_bug(what, o, &f);
        }
    }
    let (o, f) = run(bug_no_wait::nap)();
    grader.assert_not_fixed("a wait that does not wait", o, &f);
}
