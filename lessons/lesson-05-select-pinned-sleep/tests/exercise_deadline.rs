//! The `deadline` exercise's grader (scenario `quiet`) grades, on paused
//! tokio time (the clock moves only when every task waits, so every count
//! and ratio is exact): the untouched exercise, the lesson's fix, other
//! fixes written differently, and other forms of the bug, each under the
//! shapes of several seeds. A read still going after ten seconds of paused
//! time hangs. Readers that block the thread or spin run in real time, in
//! `exercise_thread.rs`.

use lesson_05::quiet::{self, QUIET};
use lesson_05::{DEADLINE, Numbers, PROGRESS_EVERY, Progress, broken, fixed};
use shared::grade::{Grader, Observed};
use shared::lesson::Facts;
use shared::work::shape::Rng;
use std::time::Duration;

#[allow(dead_code)]
#[path = "fixtures/deadline/bug_counts_turns.rs"]
mod bug_counts_turns;
#[allow(dead_code)]
#[path = "fixtures/deadline/bug_deadline_checked_at_progress.rs"]
mod bug_deadline_checked_at_progress;
#[allow(dead_code)]
#[path = "fixtures/deadline/bug_deadline_checked_every_turn.rs"]
mod bug_deadline_checked_every_turn;
#[allow(dead_code)]
#[path = "fixtures/deadline/bug_deadline_only.rs"]
mod bug_deadline_only;
#[allow(dead_code)]
#[path = "fixtures/deadline/bug_no_progress.rs"]
mod bug_no_progress;
#[allow(dead_code)]
#[path = "fixtures/deadline/bug_progress_when_a_number_comes.rs"]
mod bug_progress_when_a_number_comes;
#[allow(dead_code)]
#[path = "fixtures/deadline/bug_quiet_checked_at_progress.rs"]
mod bug_quiet_checked_at_progress;
#[allow(dead_code)]
#[path = "fixtures/deadline/bug_quiet_never_reset.rs"]
mod bug_quiet_never_reset;
#[allow(dead_code)]
#[path = "fixtures/deadline/bug_quiet_reset_every_turn.rs"]
mod bug_quiet_reset_every_turn;
#[allow(dead_code)]
#[path = "fixtures/deadline/fix_boxed_quiet_made_per_number.rs"]
mod fix_boxed_quiet_made_per_number;
#[allow(dead_code)]
#[path = "fixtures/deadline/fix_sleep_until_kept_instants.rs"]
mod fix_sleep_until_kept_instants;
#[allow(dead_code)]
#[path = "fixtures/deadline/fix_timeout_around_the_loop.rs"]
mod fix_timeout_around_the_loop;
#[allow(dead_code)]
#[path = "../exercise/start/deadline.rs"]
mod start;

/// Asserts that `what` is judged not fixed and named by the diagnoses
/// `ids`. The time a poll holds the thread is real time even on paused
/// time (a loaded machine may pause a poll), so `holds-the-thread`, which
/// the real-time tests check, is left out here.
fn assert_diagnosed(grader: &Grader, what: &str, o: Observed, f: &Facts, ids: &[&str]) {
    grader.assert_not_fixed(what, o.clone(), f);
    let mut found = grader.diagnoses(o, f);
    found.retain(|d| d != "holds-the-thread");
    assert_eq!(found, ids, "{what}: the diagnoses shown ({:?})", f.values());
}

/// Seeds to judge under: each picks other rates, bursts and pauses.
const SEEDS: [u64; 3] = [3, 17, 90_210];

/// Ten seconds of paused time: ten times the deadline. (On paused time a
/// read ends within a millisecond of when it is due: tokio's timer counts
/// in whole milliseconds.)
const LIMIT: Duration = Duration::from_secs(10);

async fn reader_run(seed: u64, read: impl AsyncFn(Numbers, Progress) -> u32) -> (Observed, Facts) {
    let facts = Facts::for_test(&quiet::SPEC);
    let shapes = quiet::shapes(&mut Rng::new(seed));
    let observed = match tokio::time::timeout(LIMIT, quiet::measure(&facts, &shapes, read)).await {
        Ok(_) => Observed::Completes,
        Err(_) => Observed::timed_out(LIMIT),
    };
    (observed, facts)
}

#[tokio::test(start_paused = true)]
async fn the_quiet_grader_tells_every_fix_from_every_form_of_the_bug() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &quiet::SPEC);
    for seed in SEEDS {
        let (o, f) = reader_run(seed, fixed::read_until_quiet).await;
        assert!(f.get("late_ratio").unwrap() < 0.01, "{f:?}");
        grader.assert_fixed("the reference quiet timer", o, &f);
        for (what, (o, f)) in [
            (
                "sleeps until kept instants",
                reader_run(seed, fix_sleep_until_kept_instants::read).await,
            ),
            (
                "a timeout around the loop",
                reader_run(seed, fix_timeout_around_the_loop::read).await,
            ),
            (
                "a boxed quiet timer made anew per number",
                reader_run(seed, fix_boxed_quiet_made_per_number::read).await,
            ),
        ] {
            assert!(f.get("late_ratio").unwrap() < 0.01, "{what}: {f:?}");
            grader.assert_fixed(what, o, &f);
        }

        // Never ends: no deadline, and the progress restarts the quiet
        // sleep.
        for (what, (o, f)) in [
            (
                "the reference bug",
                reader_run(seed, broken::read_until_quiet).await,
            ),
            (
                "the untouched exercise",
                reader_run(seed, start::read).await,
            ),
        ] {
            grader.assert_bug(what, o.clone(), &f);
            assert_diagnosed(&grader, what, o, &f, &["never-stops"]);
        }
        // The progress restarts the quiet wait: the deadline ends the
        // bursts' read, 1.5 QUIET late or more.
        for (what, (o, f)) in [
            (
                "the chapter's deadline, the quiet sleep left in the loop",
                reader_run(seed, bug_deadline_only::read).await,
            ),
            (
                "a quiet timer reset on every turn",
                reader_run(seed, bug_quiet_reset_every_turn::read).await,
            ),
        ] {
            assert!(f.get("late_ratio").unwrap() >= 1.5, "{what}: {f:?}");
            assert_diagnosed(&grader, what, o, &f, &["quiet-restarted-by-progress"]);
        }
        // The quiet and the deadline looked at only when a report is due:
        // both reads 35 ms late.
        let (o, f) = reader_run(seed, bug_quiet_checked_at_progress::read).await;
        for fact in ["late_ratio", "quiet_late_ratio", "deadline_late_ratio"] {
            let late = f.get(fact).unwrap();
            assert!((0.15..=0.25).contains(&late), "{fact}: {f:?}");
        }
        assert_diagnosed(
            &grader,
            "the quiet looked at when a report is due",
            o,
            &f,
            &[
                "quiet-looked-at-now-and-then",
                "deadline-looked-at-now-and-then",
            ],
        );
        // A right quiet timer, and the deadline looked at only when a
        // report is due: the steady read ends at 1035 ms, 35 ms late.
        let (o, f) = reader_run(seed, bug_deadline_checked_at_progress::read).await;
        assert!(f.get("quiet_late_ratio").unwrap() < 0.01, "{f:?}");
        let late = f.get("deadline_late_ratio").unwrap();
        assert!((0.15..=0.25).contains(&late), "{f:?}");
        assert_eq!(f.get("early_stops"), Some(0.0), "{f:?}");
        assert_diagnosed(
            &grader,
            "the deadline looked at when a report is due",
            o,
            &f,
            &["deadline-looked-at-now-and-then"],
        );
        // The deadline looked at on every turn: nearly on time while
        // numbers come, 35 ms late when they stop before the deadline.
        let (o, f) = reader_run(seed, bug_deadline_checked_every_turn::read).await;
        assert!(f.get("quiet_late_ratio").unwrap() < 0.01, "{f:?}");
        let late = f.get("deadline_late_ratio").unwrap();
        assert!((0.15..=0.25).contains(&late), "{f:?}");
        assert_diagnosed(
            &grader,
            "the deadline looked at on every turn",
            o,
            &f,
            &["deadline-looked-at-now-and-then"],
        );
        let (o, f) = reader_run(seed, bug_quiet_never_reset::read).await;
        assert_eq!(f.get("early_stops"), Some(3.0), "{f:?}");
        assert_diagnosed(
            &grader,
            "a quiet timer no number moves",
            o,
            &f,
            &["quiet-never-restarted"],
        );

        // On time, with no progress, or progress only when numbers come.
        let (o, f) = reader_run(seed, bug_no_progress::read).await;
        assert_eq!(f.get("progress_ratio"), Some(0.0), "{f:?}");
        assert!(f.get("late_ratio").unwrap() < 0.01, "{f:?}");
        assert_diagnosed(&grader, "no progress at all", o, &f, &[]);
        let (o, f) = reader_run(seed, bug_progress_when_a_number_comes::read).await;
        assert!(f.get("progress_gap_ratio").unwrap() >= 3.0, "{f:?}");
        assert!(f.get("late_ratio").unwrap() < 0.01, "{f:?}");
        assert_diagnosed(&grader, "progress when a number comes", o, &f, &[]);

        let (o, f) = reader_run(seed, bug_counts_turns::read).await;
        assert!(f.get("wrong_counts").unwrap() >= 2.0, "{f:?}");
        assert_diagnosed(&grader, "a count of the loop's turns", o, &f, &[]);
    }
}

/// For every workload the harness can draw: the steady shape is due at
/// the deadline, the bursts' well before it (so a read that only the
/// deadline ends is 1.5 QUIET late), and every pause in the bursts is
/// longer than the progress period and shorter than QUIET.
#[test]
fn every_workload_separates_the_bug_from_the_fix() {
    for seed in 0..500 {
        let shapes = quiet::shapes(&mut Rng::new(seed));
        assert_eq!(shapes.len(), 3);
        assert_eq!(shapes[0].quiet_due(QUIET, DEADLINE), DEADLINE);
        // The third is due at the deadline with no number in its last
        // 100 ms, and its quiet 50 ms or more after: looking at the clock
        // when a number comes or a report is due is no deadline.
        assert_eq!(shapes[2].quiet_due(QUIET, DEADLINE), DEADLINE);
        let last = (0..)
            .map(|i| shapes[2].at(i))
            .take_while(|&t| t < DEADLINE)
            .last()
            .unwrap();
        assert!(
            DEADLINE - last >= Duration::from_millis(100)
                && last + QUIET >= DEADLINE + Duration::from_millis(50),
            "{last:?}"
        );
        let due = shapes[1].quiet_due(QUIET, DEADLINE);
        assert!(DEADLINE - due >= QUIET * 3 / 2, "{due:?}");
        // 10 ms past a progress report's time, and so is the deadline: a
        // reader that looks at either only when it reports is late.
        assert_eq!(due.as_millis() % PROGRESS_EVERY.as_millis(), 10, "{due:?}");
        assert_eq!(
            DEADLINE.as_millis() % PROGRESS_EVERY.as_millis(),
            10,
            "{DEADLINE:?}"
        );
        assert!(due >= QUIET + Duration::from_millis(60), "{due:?}");
        let mut last = Duration::ZERO;
        for i in 0.. {
            let at = shapes[1].at(i);
            if at >= due {
                break;
            }
            let gap = at - last;
            assert!(
                gap.is_zero() || (gap >= Duration::from_millis(60) && gap < QUIET),
                "{gap:?}"
            );
            last = at;
        }
    }
}
