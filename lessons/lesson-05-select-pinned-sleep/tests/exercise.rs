//! The `report` exercise's grader (scenario `flush`) grades, on paused
//! tokio time (the clock moves only when every task waits, so every count
//! and ratio is exact): the untouched exercise, the lesson's fix, other
//! fixes written differently, and other forms of the bug, each measured
//! by the same harness under the shapes of several seeds. Workers that
//! block the thread or never stop waking themselves run in real time, in
//! `exercise_thread.rs`. (The `deadline` exercise's grader:
//! `exercise_deadline.rs`.)

use lesson_05::{Batch, Reports, Work, broken, fixed, flush, report};
use shared::grade::{Grader, Observed};
use shared::lesson::Facts;
use shared::work::shape::Rng;

#[allow(dead_code)]
#[path = "fixtures/report/bug_check_on_arrival.rs"]
mod bug_check_on_arrival;
#[allow(dead_code)]
#[path = "fixtures/report/bug_flush_on_an_interval.rs"]
mod bug_flush_on_an_interval;
#[allow(dead_code)]
#[path = "fixtures/report/bug_flush_reset_every_item.rs"]
mod bug_flush_reset_every_item;
#[allow(dead_code)]
#[path = "fixtures/report/bug_per_item_delay.rs"]
mod bug_per_item_delay;
#[allow(dead_code)]
#[path = "fixtures/report/bug_report_fixed_only.rs"]
mod bug_report_fixed_only;
#[allow(dead_code)]
#[path = "fixtures/report/bug_tick20.rs"]
mod bug_tick20;
#[allow(dead_code)]
#[path = "fixtures/report/fix_armed_flag.rs"]
mod fix_armed_flag;
#[allow(dead_code)]
#[path = "fixtures/report/fix_optional_boxed_timer.rs"]
mod fix_optional_boxed_timer;
#[allow(dead_code)]
#[path = "fixtures/report/fix_sleep_until_first_item.rs"]
mod fix_sleep_until_first_item;
#[allow(dead_code)]
#[path = "fixtures/report/fix_sleep_until_state.rs"]
mod fix_sleep_until_state;
#[allow(dead_code)]
#[path = "../exercise/start/report.rs"]
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

async fn worker_run(seed: u64, worker: impl AsyncFn(Work, Reports, Batch)) -> Facts {
    let facts = Facts::for_test(&flush::SPEC);
    flush::measure(&facts, report::shapes(&mut Rng::new(seed)), worker).await;
    facts
}

#[tokio::test(start_paused = true)]
async fn the_flush_grader_tells_every_fix_from_every_form_of_the_bug() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &flush::SPEC);
    let done = || Observed::Completes;
    for seed in SEEDS {
        for (what, f) in [
            (
                "the reference",
                worker_run(seed, fixed::worker_with_batches).await,
            ),
            (
                "a sleep until the first item's instant",
                worker_run(seed, fix_sleep_until_first_item::worker).await,
            ),
            (
                "an optional boxed timer",
                worker_run(seed, fix_optional_boxed_timer::worker).await,
            ),
            (
                "an armed flag, and an interval that ticks at once",
                worker_run(seed, fix_armed_flag::worker).await,
            ),
            (
                "sleeps until two instants kept as state, made each turn",
                worker_run(seed, fix_sleep_until_state::worker).await,
            ),
        ] {
            assert!(f.get("flush_late_ratio").unwrap() < 0.02, "{what}: {f:?}");
            grader.assert_fixed(what, done(), &f);
        }

        for (what, f) in [
            (
                "the reference bug",
                worker_run(seed, broken::worker_with_batches).await,
            ),
            (
                "the untouched exercise",
                worker_run(seed, start::worker).await,
            ),
        ] {
            grader.assert_bug(what, done(), &f);
            assert_diagnosed(
                &grader,
                what,
                done(),
                &f,
                &["timer-restarted", "flush-restarted", "empty-flush"],
            );
        }
        // The chapter's report fix, the flush sleep left in the loop.
        let f = worker_run(seed, bug_report_fixed_only::worker).await;
        assert!(f.get("flush_late_ratio").unwrap() >= 5.0, "{f:?}");
        assert_diagnosed(
            &grader,
            "the report fixed, the flush sleep left in the loop",
            done(),
            &f,
            &["flush-restarted", "empty-flush"],
        );
        let f = worker_run(seed, bug_flush_reset_every_item::worker).await;
        assert!(f.get("flush_late_ratio").unwrap() >= 5.0, "{f:?}");
        assert_eq!(f.get("empty_flushes"), Some(0.0), "{f:?}");
        assert_diagnosed(
            &grader,
            "a flush timer reset by every item",
            done(),
            &f,
            &["flush-restarted"],
        );
        // After a burst, the batch waits for the next one.
        let f = worker_run(seed, bug_check_on_arrival::worker).await;
        assert!(f.get("flush_late_ratio").unwrap() >= 2.0, "{f:?}");
        assert_diagnosed(
            &grader,
            "a look at the clock when an item comes",
            done(),
            &f,
            &["flush-restarted"],
        );
        let f = worker_run(seed, bug_flush_on_an_interval::worker).await;
        assert!(f.get("early_flushes").unwrap() >= 2.0, "{f:?}");
        assert!(f.get("flush_late_ratio").unwrap() < 0.02, "{f:?}");
        assert_diagnosed(
            &grader,
            "a flush on an interval of its own",
            done(),
            &f,
            &["flush-on-a-schedule"],
        );
        // Each item flushed on its own when its 60 ms are up: on time, but
        // the items that came after a batch's first are left out of it.
        let f = worker_run(seed, bug_per_item_delay::worker).await;
        assert!(f.get("left_behind").unwrap() >= 10.0, "{f:?}");
        assert!(f.get("flush_late_ratio").unwrap() < 0.02, "{f:?}");
        assert_diagnosed(
            &grader,
            "each item delayed on its own, outside the batch",
            done(),
            &f,
            &["flush-takes-too-little"],
        );
        // A 20 ms sleep made anew each turn, and a look at the clock:
        // woken every 20 ms in the pauses with nothing to do.
        let f = worker_run(seed, bug_tick20::worker).await;
        assert!(f.get("idle_polls").unwrap() >= 20.0, "{f:?}");
        assert_diagnosed(
            &grader,
            "a 20 ms sleep made each turn, and a look at the clock",
            done(),
            &f,
            &["looks-now-and-then"],
        );
    }
}

/// For every workload the harness can draw: the steady shape lasts long
/// enough that a batch flushed only at the end is 5 FLUSH_AFTER late, and
/// the pauses between bursts are long enough that a batch left until the
/// next burst is 2 late.
#[test]
fn every_workload_separates_the_bug_from_the_fix() {
    let after = flush::FLUSH_AFTER;
    for seed in 0..500 {
        let shapes = report::shapes(&mut Rng::new(seed));
        let steady = &shapes[0];
        let last = *steady.at.last().unwrap();
        assert!(last - steady.at[0] >= after * 6, "{:?}", steady.name);
        let bursts = &shapes[1];
        for w in bursts.at.windows(2) {
            assert!(
                w[1] == w[0] || w[1] - w[0] >= after * 3,
                "{:?}",
                bursts.name
            );
        }
    }
}
