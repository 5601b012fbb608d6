//! The lesson's claims, measured in real time: the harness sends this test
//! process a real SIGINT in every run (tokio's handler is installed first,
//! so it does not end the process), and runs one at a time, so that no
//! run's signal reaches another. Counts are judged exactly; times, loosely
//! here and by `cargo xtask check`.

use lesson_13::{broken, fixed, shutdown};
use shared::grade::{Grader, Observed};
use shared::lesson::Facts;
use shared::work::shape::Rng;
use std::time::Duration;

fn measured(
    seed: u64,
    serve: impl AsyncFn(lesson_13::Listener, lesson_13::Store, Duration),
) -> (Facts, Vec<shutdown::Measured>) {
    let facts = Facts::for_test(&shutdown::SPEC);
    let m = shutdown::measure(&facts, &shutdown::shapes(&mut Rng::new(seed)), serve);
    (facts, m)
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
fn a_real_ctrl_c_is_survived_and_each_broken_form_loses_what_the_fix_keeps() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &shutdown::SPEC).only(COUNTED);
    let done = || Observed::Completes;
    for seed in [1, 2] {
        // main returns: the runtime drops the workers mid-write, and the
        // queue with them.
        let (f, m) = measured(seed, broken::serve);
        grader.assert_bug(&format!("main returns (seed {seed})"), done(), &f);
        assert!(m[1].half >= 1 && m[1].lost > m[1].half, "{m:?}");
        assert!(m.iter().all(|m| m.tasks_left >= 1), "{m:?}");
        // The whole turn raced: records cut between their two steps.
        let (f, m) = measured(seed, broken::serve_split);
        grader.assert_bug(&format!("a worker's turn raced (seed {seed})"), done(), &f);
        assert!(m[1].half >= 1, "{m:?}");
        // The send raced: in the burst, the request being sent is lost
        // whole, and nothing is half-written.
        let (f, m) = measured(seed, broken::serve_send);
        grader.assert_bug(&format!("the send raced (seed {seed})"), done(), &f);
        assert_eq!((m[1].lost, m[1].half, m[1].unanswered), (1, 0, 1), "{m:?}");

        let (f, m) = measured(seed, fixed::serve);
        grader.assert_fixed(&format!("token + tracker (seed {seed})"), done(), &f);
        // The overruns: the records that cannot finish given up at the
        // deadline, and reported, counted; more in the second.
        for m in &m[2..] {
            assert!(m.given_up >= 1 && m.reported == m.given_up, "{m:?}");
        }
        assert!(m[3].given_up > m[2].given_up, "{m:?}");
        for m in &m[..2] {
            assert!(!m.forced && m.shutdown_ratio < 1.0, "{m:?}");
            assert!(m.polls < 200, "{m:?}");
            assert_eq!(m.answered, m.accepted, "{m:?}");
        }
        let (f, m) = measured(seed, fixed::serve_watch);
        grader.assert_fixed(&format!("watch + JoinSet (seed {seed})"), done(), &f);
        for m in &m[2..] {
            assert!(m.given_up >= 1 && m.reported == m.given_up, "{m:?}");
        }
        for m in &m[..2] {
            assert!(!m.forced && m.shutdown_ratio < 1.0, "{m:?}");
            assert_eq!(m.answered, m.accepted, "{m:?}");
        }
    }
}

/// Neither a timeout of the service's own nor a count of records written
/// into it can pass for the deadline and the count it is given: the two
/// overruns' deadlines leave no time that is neither before 0.95 of the
/// long one (`gave_up_early`) nor a quarter past the short one
/// (`over_deadline`), and they give up different numbers of records
/// (`overreported`, `unreported`).
#[test]
fn the_two_overruns_differ_in_their_deadline_and_in_what_cannot_finish() {
    for seed in 0..500 {
        let s = shutdown::shapes(&mut Rng::new(seed));
        assert_eq!(s.len(), 4);
        assert!(s[..2].iter().all(|s| s.beyond.is_empty()));
        let (short, long) = (&s[2], &s[3]);
        assert!(!short.beyond.is_empty() && short.beyond.len() < long.beyond.len());
        assert!(long.deadline.mul_f64(0.95) > short.deadline.mul_f64(1.25));
    }
}
