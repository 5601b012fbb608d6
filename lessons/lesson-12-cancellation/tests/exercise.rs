//! The graders of lesson 12 grade the untouched exercises, the lesson's
//! fixes, other fixes written differently, and other forms of each bug, all
//! measured by the same harnesses under the same two workloads each:
//! `lines`, `handle` and `stop` on paused tokio time, for several seeds;
//! `starve` in real time, judged on what it counts (work between two
//! turns of a neighbour, results against the harness's own record), which
//! does not depend on the machine's speed.
//! `cargo xtask check` and `cargo xtask fixtures` judge the times.

use lesson_12::{
    Backlog, Input, Job, Log, Sensor, Status, broken, fixed, handle, lines, starve, stop,
};
use shared::grade::{Grader, Observed};
use shared::lesson::Facts;
use shared::work::shape::Rng;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[allow(dead_code)]
#[path = "fixtures/handle/bug_aborts_the_wrapper.rs"]
mod handle_bug_aborts_the_wrapper;
#[allow(dead_code)]
#[path = "fixtures/handle/bug_blocking_wait.rs"]
mod handle_bug_blocking_wait;
#[allow(dead_code)]
#[path = "fixtures/handle/bug_made_up_answer.rs"]
mod handle_bug_made_up_answer;
#[allow(dead_code)]
#[path = "fixtures/handle/bug_never_runs.rs"]
mod handle_bug_never_runs;
#[allow(dead_code)]
#[path = "fixtures/handle/bug_select_sleep.rs"]
mod handle_bug_select_sleep;
#[allow(dead_code)]
#[path = "fixtures/handle/bug_sleeps_in_small_steps.rs"]
mod handle_bug_sleeps_in_small_steps;
#[allow(dead_code)]
#[path = "fixtures/handle/bug_spinning_watchdog.rs"]
mod handle_bug_spinning_watchdog;
#[allow(dead_code)]
#[path = "fixtures/handle/bug_spins_until_the_deadline.rs"]
mod handle_bug_spins_until_the_deadline;
#[allow(dead_code)]
#[path = "fixtures/handle/bug_waits_for_ever.rs"]
mod handle_bug_waits_for_ever;
#[allow(dead_code)]
#[path = "fixtures/handle/fix_join_set.rs"]
mod handle_fix_join_set;
#[allow(dead_code)]
#[path = "fixtures/handle/fix_no_spawn.rs"]
mod handle_fix_no_spawn;
#[allow(dead_code)]
#[path = "fixtures/handle/fix_wait_then_abort.rs"]
mod handle_fix_wait_then_abort;
#[allow(dead_code)]
#[path = "fixtures/lines/bug_biased_read_first.rs"]
mod lines_bug_biased_read_first;
#[allow(dead_code)]
#[path = "fixtures/lines/bug_buffer_never_cleared.rs"]
mod lines_bug_buffer_never_cleared;
#[allow(dead_code)]
#[path = "fixtures/lines/bug_lines_made_each_turn.rs"]
mod lines_bug_lines_made_each_turn;
#[allow(dead_code)]
#[path = "fixtures/lines/bug_made_up_status.rs"]
mod lines_bug_made_up_status;
#[allow(dead_code)]
#[path = "fixtures/lines/bug_no_reports.rs"]
mod lines_bug_no_reports;
#[allow(dead_code)]
#[path = "fixtures/lines/bug_read_until.rs"]
mod lines_bug_read_until;
#[allow(dead_code)]
#[path = "fixtures/lines/bug_report_per_line.rs"]
mod lines_bug_report_per_line;
#[allow(dead_code)]
#[path = "fixtures/lines/bug_sleeps_between_reports.rs"]
mod lines_bug_sleeps_between_reports;
#[allow(dead_code)]
#[path = "fixtures/lines/bug_spinning_reporter.rs"]
mod lines_bug_spinning_reporter;
#[allow(dead_code)]
#[path = "fixtures/lines/bug_spins_on_now_or_never.rs"]
mod lines_bug_spins_on_now_or_never;
#[allow(dead_code)]
#[path = "fixtures/lines/fix_kept_future.rs"]
mod lines_fix_kept_future;
#[allow(dead_code)]
#[path = "fixtures/lines/fix_read_until_kept_buffer.rs"]
mod lines_fix_read_until_kept_buffer;
#[allow(dead_code)]
#[path = "fixtures/lines/fix_reader_task.rs"]
mod lines_fix_reader_task;
#[allow(dead_code)]
#[path = "fixtures/lines/fix_reporter_task.rs"]
mod lines_fix_reporter_task;
#[allow(dead_code)]
#[path = "../exercise/start/handle.rs"]
mod start_handle;
#[allow(dead_code)]
#[path = "../exercise/start/lines.rs"]
mod start_lines;
#[allow(dead_code)]
#[path = "../exercise/start/starve.rs"]
mod start_starve;
#[allow(dead_code)]
#[path = "../exercise/start/stop.rs"]
mod start_stop;
#[allow(dead_code)]
#[path = "fixtures/starve/bug_joins_a_thread.rs"]
mod starve_bug_joins_a_thread;
#[allow(dead_code)]
#[path = "fixtures/starve/bug_joins_threads_in_chunks.rs"]
mod starve_bug_joins_threads_in_chunks;
#[allow(dead_code)]
#[path = "fixtures/starve/bug_skips_items.rs"]
mod starve_bug_skips_items;
#[allow(dead_code)]
#[path = "fixtures/starve/bug_spawned_loop.rs"]
mod starve_bug_spawned_loop;
#[allow(dead_code)]
#[path = "fixtures/starve/bug_thread_yield.rs"]
mod starve_bug_thread_yield;
#[allow(dead_code)]
#[path = "fixtures/starve/bug_yield_at_the_end.rs"]
mod starve_bug_yield_at_the_end;
#[allow(dead_code)]
#[path = "fixtures/starve/bug_yield_every_thousand.rs"]
mod starve_bug_yield_every_thousand;
#[allow(dead_code)]
#[path = "fixtures/starve/bug_yields_only_at_first.rs"]
mod starve_bug_yields_only_at_first;
#[allow(dead_code)]
#[path = "fixtures/starve/fix_spawn_blocking.rs"]
mod starve_fix_spawn_blocking;
#[allow(dead_code)]
#[path = "fixtures/starve/fix_tokio_channel.rs"]
mod starve_fix_tokio_channel;
#[allow(dead_code)]
#[path = "fixtures/starve/fix_yield_every_hundred.rs"]
mod starve_fix_yield_every_hundred;
#[allow(dead_code)]
#[path = "fixtures/stop/bug_batch_in_hand_dropped.rs"]
mod stop_bug_batch_in_hand_dropped;
#[allow(dead_code)]
#[path = "fixtures/stop/bug_checked_between_reads.rs"]
mod stop_bug_checked_between_reads;
#[allow(dead_code)]
#[path = "fixtures/stop/bug_checked_once.rs"]
mod stop_bug_checked_once;
#[allow(dead_code)]
#[path = "fixtures/stop/bug_fills_the_batch.rs"]
mod stop_bug_fills_the_batch;
#[allow(dead_code)]
#[path = "fixtures/stop/bug_last_write_spawned.rs"]
mod stop_bug_last_write_spawned;
#[allow(dead_code)]
#[path = "fixtures/stop/bug_looks_every_millisecond.rs"]
mod stop_bug_looks_every_millisecond;
#[allow(dead_code)]
#[path = "fixtures/stop/bug_looks_every_ten_milliseconds.rs"]
mod stop_bug_looks_every_ten_milliseconds;
#[allow(dead_code)]
#[path = "fixtures/stop/bug_loop_left_running.rs"]
mod stop_bug_loop_left_running;
#[allow(dead_code)]
#[path = "fixtures/stop/bug_loop_on_a_thread.rs"]
mod stop_bug_loop_on_a_thread;
#[allow(dead_code)]
#[path = "fixtures/stop/bug_no_batches.rs"]
mod stop_bug_no_batches;
#[allow(dead_code)]
#[path = "fixtures/stop/bug_spins_on_the_token.rs"]
mod stop_bug_spins_on_the_token;
#[allow(dead_code)]
#[path = "fixtures/stop/bug_waits_for_the_stop.rs"]
mod stop_bug_waits_for_the_stop;
#[allow(dead_code)]
#[path = "fixtures/stop/bug_whole_turn_raced.rs"]
mod stop_bug_whole_turn_raced;
#[allow(dead_code)]
#[path = "fixtures/stop/bug_write_raced.rs"]
mod stop_bug_write_raced;
#[allow(dead_code)]
#[path = "fixtures/stop/fix_reader_task.rs"]
mod stop_fix_reader_task;
#[allow(dead_code)]
#[path = "fixtures/stop/fix_run_until_cancelled.rs"]
mod stop_fix_run_until_cancelled;

const SEEDS: [u64; 3] = [5, 6, 2025];

/// The tests in real time run one at a time: a spin in one would take the
/// CPU that a fix measured in another needs, on a one-core machine.
static REAL_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    REAL_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

async fn read_lines(seed: u64, collect: impl AsyncFn(Input, Status) -> Vec<String>) -> Facts {
    let facts = Facts::for_test(&lines::SPEC);
    let deliveries = lines::deliveries(&mut Rng::new(seed));
    lines::measure(&facts, &deliveries, collect).await;
    facts
}

/// Every fact of `lines` but `app_busy`, which needs a runtime of the
/// harness's own, in real time.
const LINES_PAUSED: &[&str] = &[
    "lines_lost",
    "lines_garbled",
    "lines_duplicated",
    "status_gap",
    "status_ratio",
    "status_wrong",
    "reader_polls",
    "reader_asleep",
];

#[tokio::test(start_paused = true)]
async fn the_lines_grader_tells_every_fix_from_every_form_of_the_bug() {
    // On paused time every fact is exact, the times too.
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &lines::SPEC).only(LINES_PAUSED);
    let done = || Observed::Completes;
    for seed in SEEDS {
        let fixed = |what: &str, facts: &Facts| {
            grader.assert_fixed(&format!("{what} (seed {seed})"), done(), facts)
        };
        fixed("the reference fix", &read_lines(seed, fixed::collect).await);
        fixed(
            "a reader task and a channel",
            &read_lines(seed, lines_fix_reader_task::collect).await,
        );
        fixed(
            "one read kept across turns",
            &read_lines(seed, lines_fix_kept_future::collect).await,
        );
        fixed(
            "read_until into a kept buffer",
            &read_lines(seed, lines_fix_read_until_kept_buffer::collect).await,
        );
        fixed(
            "a reporter task, no select!",
            &read_lines(seed, lines_fix_reporter_task::collect).await,
        );

        let bug = |what: &str, facts: &Facts| {
            assert_eq!(
                grader.diagnoses(done(), facts),
                ["read-cancelled"],
                "{what}"
            );
            grader.assert_bug(&format!("{what} (seed {seed})"), done(), facts)
        };
        bug(
            "the reference bug",
            &read_lines(seed, broken::collect).await,
        );
        bug(
            "the untouched exercise",
            &read_lines(seed, start_lines::collect).await,
        );
        bug(
            "read_until into a fresh buffer",
            &read_lines(seed, lines_bug_read_until::collect).await,
        );
        bug(
            "biased towards the read",
            &read_lines(seed, lines_bug_biased_read_first::collect).await,
        );
        bug(
            "a Lines reader made on every turn",
            &read_lines(seed, lines_bug_lines_made_each_turn::collect).await,
        );

        let not_fixed = |what: &str, facts: &Facts| {
            let named: &[&str] = if what == "a buffer never emptied" {
                &["read-cancelled"]
            } else {
                &[]
            };
            assert_eq!(grader.diagnoses(done(), facts), named, "{what}");
            grader.assert_not_fixed(&format!("{what} (seed {seed})"), done(), facts)
        };
        not_fixed(
            "no progress reports",
            &read_lines(seed, lines_bug_no_reports::collect).await,
        );
        let per_line = read_lines(seed, lines_bug_report_per_line::collect).await;
        not_fixed("a report per line, not per 10 ms", &per_line);
        // Nothing is lost: the long pause between bursts is what catches it.
        assert_eq!(per_line.get("lines_lost"), Some(0.0));
        assert!(per_line.get("status_gap") >= Some(8.0), "{per_line:?}");
        let run_together = read_lines(seed, lines_bug_buffer_never_cleared::collect).await;
        not_fixed("a buffer never emptied", &run_together);
        assert!(run_together.get("lines_garbled") >= Some(1.0));
        // Every line whole and a report every tick, but each says 0.
        let made_up = read_lines(seed, lines_bug_made_up_status::collect).await;
        not_fixed("every report made up", &made_up);
        assert_eq!(made_up.get("lines_lost"), Some(0.0));
        assert!(made_up.get("status_wrong") >= Some(1.0), "{made_up:?}");
    }
}

/// In real time, on the harness's own runtime.
fn read_lines_watched(seed: u64, collect: impl AsyncFn(Input, Status) -> Vec<String>) -> Facts {
    let facts = Facts::for_test(&lines::SPEC);
    let deliveries = lines::deliveries(&mut Rng::new(seed));
    lines::measure_watched(&facts, &deliveries, collect);
    facts
}

/// Real time: a reader that never waits keeps paused time from moving on.
#[test]
fn the_lines_grader_catches_a_reader_that_spins_or_sleeps() {
    let _alone = one_at_a_time();
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &lines::SPEC);
    let done = || Observed::Completes;
    // A fix, loosely: its runtime parks between the lines and the ticks.
    let fix = read_lines_watched(7, fixed::collect);
    assert!(fix.get("app_busy") < Some(0.5), "{fix:?}");
    // Counted: a spin is polled hundreds of times a tick even when a busy
    // machine gives it a fraction of a core.
    let spin = read_lines_watched(7, lines_bug_spins_on_now_or_never::collect);
    grader
        .only(&["lines_lost", "lines_garbled", "reader_polls"])
        .assert_not_fixed("now_or_never and yield, again and again", done(), &spin);
    assert!(spin.get("reader_polls") > Some(20.0), "{spin:?}");
    assert_eq!(spin.get("lines_lost"), Some(0.0));
    // A blocking sleep of a tick lasts at least a tick, on any machine; it
    // is seen as sleep on Linux.
    let sleeper = read_lines_watched(7, lines_bug_sleeps_between_reports::collect);
    assert_eq!(sleeper.get("lines_lost"), Some(0.0));
    if cfg!(target_os = "linux") {
        assert!(
            grader.diagnoses(done(), &sleeper).is_empty(),
            "a blocking sleep between reports"
        );
        grader.assert_not_fixed("a blocking sleep between reports", done(), &sleeper);
        assert!(sleeper.get("reader_asleep") >= Some(10.0), "{sleeper:?}");
    }
    // The spin in a reporter task: the reader waits, the reports are
    // right; the runtime never parks while the reporter spins, however
    // busy the machine.
    let reporter = read_lines_watched(7, lines_bug_spinning_reporter::collect);
    grader
        .only(LINES_PAUSED)
        .assert_fixed("a reporter task that spins", done(), &reporter);
    grader
        .only(&["app_busy"])
        .assert_not_fixed("a reporter task that spins", done(), &reporter);
}

async fn asked(seed: u64, ask: impl AsyncFn(Job, Duration) -> Option<u64>) -> Facts {
    let facts = Facts::for_test(&handle::SPEC);
    let rounds = handle::rounds(&mut Rng::new(seed));
    handle::measure(&facts, &rounds, ask).await;
    facts
}

#[tokio::test(start_paused = true)]
async fn the_handle_grader_tells_every_fix_from_every_form_of_the_bug() {
    // How long a poll holds the thread, and sleeps in it, is wall-clock
    // time, which a busy test machine can stretch: those facts are checked
    // below, from below. Polls are counted.
    let names = [
        "fast_unanswered",
        "slow_answered",
        "deadline_ratio",
        "left_running",
        "late_emails",
        "caller_polls",
    ];
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &handle::SPEC).only(&names);
    let done = || Observed::Completes;
    for seed in SEEDS {
        let fixed = |what: &str, facts: &Facts| {
            grader.assert_fixed(&format!("{what} (seed {seed})"), done(), facts)
        };
        fixed("the reference fix", &asked(seed, fixed::ask).await);
        fixed(
            "no task, a timeout on the job",
            &asked(seed, handle_fix_no_spawn::ask).await,
        );
        fixed(
            "a JoinSet dropped",
            &asked(seed, handle_fix_join_set::ask).await,
        );
        fixed(
            "a sleep, then abort",
            &asked(seed, handle_fix_wait_then_abort::ask).await,
        );

        let bug = |what: &str, facts: &Facts| {
            assert_eq!(grader.diagnoses(done(), facts), ["still-running"], "{what}");
            grader.assert_bug(&format!("{what} (seed {seed})"), done(), facts)
        };
        bug("the reference bug", &asked(seed, broken::ask).await);
        bug(
            "the untouched exercise",
            &asked(seed, start_handle::ask).await,
        );
        bug(
            "a handle that loses a select!",
            &asked(seed, handle_bug_select_sleep::ask).await,
        );
        bug(
            "the wrapper task aborted, the job detached",
            &asked(seed, handle_bug_aborts_the_wrapper::ask).await,
        );

        let not_fixed = |what: &str, facts: &Facts| {
            assert!(grader.diagnoses(done(), facts).is_empty(), "{what}");
            grader.assert_not_fixed(&format!("{what} (seed {seed})"), done(), facts)
        };
        not_fixed(
            "waiting for the slow job",
            &asked(seed, handle_bug_waits_for_ever::ask).await,
        );
        let made_up = asked(seed, handle_bug_made_up_answer::ask).await;
        not_fixed("an answer made up", &made_up);
        assert!(made_up.get("fast_unanswered") >= Some(1.0));
        let never = asked(seed, handle_bug_never_runs::ask).await;
        not_fixed("a job that never runs", &never);
        assert!(never.get("fast_unanswered") >= Some(1.0));
        let blocking = asked(seed, handle_bug_blocking_wait::ask).await;
        not_fixed("a blocking sleep in the caller", &blocking);
        // A blocking sleep of the deadline holds the thread for at least
        // the deadline, on any machine (less the few µs of CPU time the
        // sleep's own call takes, when it is counted as sleep).
        assert!(blocking.get("caller_held") >= Some(0.95), "{blocking:?}");
    }
}

/// In real time, on the harness's own runtime.
fn asked_watched(seed: u64, ask: impl AsyncFn(Job, Duration) -> Option<u64>) -> Facts {
    let facts = Facts::for_test(&handle::SPEC);
    let rounds = handle::rounds(&mut Rng::new(seed));
    handle::measure_watched(&facts, &rounds, ask);
    facts
}

/// Real time: a caller that never waits keeps paused time from moving on.
#[test]
fn the_handle_grader_catches_a_caller_that_spins_or_sleeps() {
    let _alone = one_at_a_time();
    let counted = [
        "fast_unanswered",
        "slow_answered",
        "left_running",
        "late_emails",
        "caller_polls",
    ];
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &handle::SPEC);
    let done = || Observed::Completes;
    // The answers and emails are right; the polls are not.
    // A fix, loosely: its runtime parks while the jobs take their time.
    let fix = asked_watched(7, fixed::ask);
    assert!(fix.get("app_busy") < Some(0.5), "{fix:?}");
    let spin = asked_watched(7, handle_bug_spins_until_the_deadline::ask);
    grader
        .only(&counted)
        .assert_not_fixed("is_finished and yield, again and again", done(), &spin);
    assert_eq!(spin.get("late_emails"), Some(0.0));
    assert!(spin.get("caller_polls") > Some(20.0), "{spin:?}");
    // A millisecond's blocking sleep per poll: tens of polls a call, and
    // the deadline spent asleep (seen as sleep on Linux).
    let steps = asked_watched(7, handle_bug_sleeps_in_small_steps::ask);
    assert_eq!(steps.get("late_emails"), Some(0.0));
    if cfg!(target_os = "linux") {
        assert_eq!(
            grader.diagnoses(done(), &steps),
            ["checks-in-a-loop"],
            "a millisecond's sleep at a time"
        );
        grader.assert_not_fixed("a millisecond's sleep at a time", done(), &steps);
        assert!(steps.get("caller_asleep") >= Some(0.5), "{steps:?}");
    }
    // The spin in a watchdog task: the caller awaits, the answers are
    // right; the runtime never parks while the watchdog spins.
    let watchdog = asked_watched(7, handle_bug_spinning_watchdog::ask);
    grader
        .only(&counted)
        .assert_fixed("a watchdog task that spins", done(), &watchdog);
    grader
        .only(&["app_busy"])
        .assert_not_fixed("a watchdog task that spins", done(), &watchdog);
}

async fn recorded(seed: u64, record: impl AsyncFn(CancellationToken, Sensor, Log)) -> Facts {
    let facts = Facts::for_test(&stop::SPEC);
    let shapes = stop::shapes(&mut Rng::new(seed));
    stop::measure(&facts, &shapes, record).await;
    facts
}

/// Every fact of `stop` but the wall-clock ones: how long a poll held the
/// thread, and `app_busy`, which needs a runtime of the harness's own.
const STOP_PAUSED: &[&str] = &[
    "stop_ratio",
    "forced_stops",
    "readings_lost",
    "half_batches",
    "taken_after_stop",
    "after_return",
    "bad_batches",
    "stopped_early",
    "taken_before_stop",
    "idle_wakes",
    "stop_seen",
];

#[tokio::test(start_paused = true)]
async fn the_stop_grader_tells_every_fix_from_every_form_of_the_bug() {
    // On paused time every fact is exact, the times too.
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &stop::SPEC).only(STOP_PAUSED);
    let done = || Observed::Completes;
    for seed in SEEDS {
        let fixed = |what: &str, facts: &Facts| {
            grader.assert_fixed(&format!("{what} (seed {seed})"), done(), facts)
        };
        fixed("the reference fix", &recorded(seed, fixed::record).await);
        fixed(
            "run_until_cancelled",
            &recorded(seed, stop_fix_run_until_cancelled::record).await,
        );
        fixed(
            "a reader task and a channel",
            &recorded(seed, stop_fix_reader_task::record).await,
        );

        let named = |what: &str, facts: &Facts, ids: &[&str]| {
            assert_eq!(grader.diagnoses(done(), facts), ids, "{what} (seed {seed})");
        };
        // Dropped at the deadline in both workloads; at a write in the
        // second, for some seeds (a true diagnosis too).
        for (what, f) in [
            ("the reference bug", recorded(seed, broken::record).await),
            (
                "the untouched exercise",
                recorded(seed, start_stop::record).await,
            ),
            (
                "checked once, at the start",
                recorded(seed, stop_bug_checked_once::record).await,
            ),
        ] {
            named(what, &f, &["waits-through-the-stop"]);
            assert_eq!(f.get("forced_stops"), Some(2.0), "{what}");
            grader.assert_bug(&format!("{what} (seed {seed})"), done(), &f);
        }

        let not_fixed = |what: &str, facts: &Facts| {
            grader.assert_not_fixed(&format!("{what} (seed {seed})"), done(), facts)
        };
        // The chapter's blocking fix: in time when the stop comes during a
        // write, dropped at the deadline when it comes during a wait.
        let f = recorded(seed, stop_bug_checked_between_reads::record).await;
        named("checked before each read", &f, &["waits-through-the-stop"]);
        not_fixed("checked before each read", &f);
        assert_eq!(f.get("forced_stops"), Some(1.0), "{f:?}");
        assert_eq!(f.get("taken_after_stop"), Some(0.0), "{f:?}");
        let f = recorded(seed, stop_bug_fills_the_batch::record).await;
        named(
            "the batch filled after the stop",
            &f,
            &["waits-through-the-stop"],
        );
        not_fixed("the batch filled after the stop", &f);
        let f = recorded(seed, stop_bug_whole_turn_raced::record).await;
        named("the whole turn raced", &f, &["dropped-mid-write"]);
        not_fixed("the whole turn raced", &f);
        assert_eq!(f.get("half_batches"), Some(1.0), "{f:?}");
        assert_eq!(f.get("forced_stops"), Some(0.0), "{f:?}");
        let f = recorded(seed, stop_bug_write_raced::record).await;
        named("the write raced", &f, &["dropped-mid-write"]);
        not_fixed("the write raced", &f);
        assert_eq!(f.get("half_batches"), Some(1.0), "{f:?}");
        let f = recorded(seed, stop_bug_batch_in_hand_dropped::record).await;
        named("the batch in hand dropped", &f, &["in-hand-dropped"]);
        not_fixed("the batch in hand dropped", &f);
        assert!(f.get("readings_lost") >= Some(2.0), "{f:?}");
        let f = recorded(seed, stop_bug_last_write_spawned::record).await;
        named("the last write spawned", &f, &["left-working"]);
        not_fixed("the last write spawned", &f);
        let f = recorded(seed, stop_bug_loop_left_running::record).await;
        named("the loop left running", &f, &["left-working"]);
        not_fixed("the loop left running", &f);
        // On time, and nothing lost: but woken every millisecond to look.
        let f = recorded(seed, stop_bug_looks_every_millisecond::record).await;
        named("a look every millisecond", &f, &["checks-in-a-loop"]);
        not_fixed("a look every millisecond", &f);
        assert!(f.get("idle_wakes") >= Some(100.0), "{f:?}");
        // The same every 10 ms: never woken for nothing while readings
        // come every 2 to 4 ms, but 3 or more times in each quiet stretch.
        let f = recorded(seed, stop_bug_looks_every_ten_milliseconds::record).await;
        named("a look every 10 ms", &f, &["checks-in-a-loop"]);
        not_fixed("a look every 10 ms", &f);
        assert!(f.get("idle_wakes") >= Some(3.0 + 9.0 + 9.0), "{f:?}");
        // On time, and nothing lost: but batches of one.
        let f = recorded(seed, stop_bug_no_batches::record).await;
        named("no batches", &f, &[]);
        not_fixed("no batches", &f);
        assert_eq!(f.get("readings_lost"), Some(0.0), "{f:?}");
        let f = recorded(seed, stop_bug_waits_for_the_stop::record).await;
        named("never reads", &f, &[]);
        not_fixed("never reads", &f);
        assert_eq!(f.get("taken_before_stop"), Some(0.0), "{f:?}");
    }
}

/// A job that looks at the stop every `period` instead of waiting for it:
/// with a timeout on the wait, restarted at each reading (`interval`
/// false), or with an interval that ticks on whatever comes; in the job
/// itself, or in a reader task that feeds the job through a channel.
async fn looks_every(
    period: Duration,
    interval: bool,
    in_a_task: bool,
    stop: CancellationToken,
    sensor: Sensor,
    log: Log,
) {
    if in_a_task {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let reader = tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut next = Box::pin(sensor.next());
            while !stop.is_cancelled() {
                let reading = if interval {
                    tokio::select! {
                        reading = &mut next => reading,
                        _ = tick.tick() => continue,
                    }
                } else {
                    match tokio::time::timeout(period, sensor.next()).await {
                        Ok(reading) => reading,
                        Err(_) => continue,
                    }
                };
                next = Box::pin(sensor.next());
                let _ = tx.send(reading);
            }
        });
        let mut batch = Vec::with_capacity(lesson_12::BATCH);
        while let Some(reading) = rx.recv().await {
            batch.push(reading);
            if batch.len() == lesson_12::BATCH {
                log.write(std::mem::take(&mut batch)).await;
            }
        }
        reader.await.expect("the reader does not panic");
        if !batch.is_empty() {
            log.write(batch).await;
        }
        return;
    }
    let mut batch = Vec::with_capacity(lesson_12::BATCH);
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut next = Box::pin(sensor.next());
    while !stop.is_cancelled() {
        let reading = if interval {
            tokio::select! {
                reading = &mut next => reading,
                _ = tick.tick() => continue,
            }
        } else {
            match tokio::time::timeout(period, &mut next).await {
                Ok(reading) => reading,
                Err(_) => continue,
            }
        };
        next = Box::pin(sensor.next());
        batch.push(reading);
        if batch.len() == lesson_12::BATCH {
            log.write(std::mem::take(&mut batch)).await;
        }
    }
    if !batch.is_empty() {
        log.write(batch).await;
    }
}

#[tokio::test(start_paused = true)]
async fn no_period_of_looking_at_the_stop_passes() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &stop::SPEC).only(STOP_PAUSED);
    let done = || Observed::Completes;
    for seed in SEEDS {
        for ms in [
            1, 2, 3, 5, 8, 10, 15, 20, 30, 45, 60, 75, 89, 95, 120, 160, 250, 400, 1000,
        ] {
            for (interval, in_a_task) in
                [(false, false), (true, false), (false, true), (true, true)]
            {
                let period = Duration::from_millis(ms);
                let f = recorded(seed, async |stop, sensor, log| {
                    looks_every(period, interval, in_a_task, stop, sensor, log).await
                })
                .await;
                let what = format!(
                    "a look every {ms} ms (interval: {interval}, in a task: {in_a_task}, seed {seed})"
                );
                grader.assert_not_fixed(&what, done(), &f);
                // Up to the long quiet stretch (90 ms or more), woken for
                // nothing; past it, the stop is seen too late.
                if ms < 90 {
                    assert!(f.get("idle_wakes") >= Some(1.0), "{what}: {f:?}");
                } else {
                    let late =
                        f.get("stop_seen") > Some(0.25) || f.get("forced_stops") >= Some(1.0);
                    assert!(late || f.get("idle_wakes") >= Some(1.0), "{what}: {f:?}");
                }
                // Nothing else is wrong with it in the job itself (a
                // reader task may take a reading after the stop).
                for fact in [
                    "readings_lost",
                    "half_batches",
                    "taken_after_stop",
                    "after_return",
                ] {
                    if f.get("forced_stops") == Some(0.0) && !in_a_task {
                        assert_eq!(f.get(fact), Some(0.0), "{what}: {fact} in {f:?}");
                    }
                }
            }
        }
    }
}

fn watched(record: impl AsyncFn(CancellationToken, Sensor, Log)) -> Facts {
    let facts = Facts::for_test(&stop::SPEC);
    stop::measure_watched(&facts, &stop::shapes(&mut Rng::new(7)), record);
    facts
}

/// Real time: a job that never waits keeps paused time from moving on.
#[test]
fn the_stop_grader_catches_a_job_that_spins() {
    let _alone = one_at_a_time();
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &stop::SPEC);
    let done = || Observed::Completes;
    // A fix, loosely: its runtime parks while it waits.
    let fix = watched(fixed::record);
    assert!(fix.get("app_busy") < Some(0.5), "{fix:?}");
    // Woken only by readings, lines and the stop, in real time too.
    assert_eq!(fix.get("idle_wakes"), Some(0.0), "{fix:?}");
    let spin = watched(stop_bug_spins_on_the_token::record);
    assert_eq!(spin.get("readings_lost"), Some(0.0), "{spin:?}");
    assert!(spin.get("idle_wakes") > Some(20.0), "{spin:?}");
    assert_eq!(grader.diagnoses(done(), &spin), ["checks-in-a-loop"]);
    grader.only(&["idle_wakes"]).assert_not_fixed(
        "is_cancelled and yield, again and again",
        done(),
        &spin,
    );
    // A thread of its own with a runtime of its own: real time only (its
    // clock is not the test's paused one). It reads on after the return.
    let thread = watched(stop_bug_loop_on_a_thread::record);
    assert_eq!(
        grader.diagnoses(done(), &thread),
        ["left-working"],
        "{thread:?}"
    );
    grader.assert_not_fixed("the loop left running on a thread", done(), &thread);
    assert!(thread.get("after_return") >= Some(1.0), "{thread:?}");
}

/// Two backlogs of about 50 and 90 ms of work: the counts need no more.
fn processed(process: impl AsyncFn(Backlog) -> u64) -> Facts {
    let mut rng = Rng::new(12);
    let us = Duration::from_micros;
    let loads = [
        starve::Load::new(&mut rng, 1200, us(45)),
        starve::Load::new(&mut rng, 1000, us(90)),
    ];
    let facts = Facts::for_test(&starve::SPEC);
    starve::measure(&facts, &loads, process);
    facts
}

#[test]
fn the_starve_grader_tells_every_fix_from_every_form_of_the_bug() {
    let _alone = one_at_a_time();
    // The work between two turns is counted in items: exact on any
    // machine. The heartbeat and the longest poll are times, judged by
    // `cargo xtask check`.
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &starve::SPEC).only(&[
        "longest_turn",
        "neighbour_turns",
        "wrong_sum",
    ]);
    let done = || Observed::Completes;
    grader.assert_fixed("the reference fix", done(), &processed(fixed::process));
    grader.assert_fixed(
        "yield_now every hundred",
        done(),
        &processed(starve_fix_yield_every_hundred::process),
    );
    grader.assert_fixed(
        "through a tokio channel",
        done(),
        &processed(starve_fix_tokio_channel::process),
    );
    grader.assert_fixed(
        "the work on the blocking pool",
        done(),
        &processed(starve_fix_spawn_blocking::process),
    );

    let f = processed(broken::process);
    assert_eq!(
        grader.diagnoses(done(), &f),
        ["holds-the-thread"],
        "the reference bug"
    );
    grader.assert_bug("the reference bug", done(), &f);
    let f = processed(start_starve::process);
    assert_eq!(
        grader.diagnoses(done(), &f),
        ["holds-the-thread"],
        "the untouched exercise"
    );
    grader.assert_bug("the untouched exercise", done(), &f);
    let f = processed(starve_bug_yield_at_the_end::process);
    assert_eq!(
        grader.diagnoses(done(), &f),
        ["holds-the-thread"],
        "one yield at the end"
    );
    grader.assert_bug("one yield at the end", done(), &f);
    let f = processed(starve_bug_spawned_loop::process);
    assert_eq!(
        grader.diagnoses(done(), &f),
        ["holds-the-thread"],
        "the loop moved into a task"
    );
    grader.assert_bug("the loop moved into a task", done(), &f);
    let f = processed(starve_bug_thread_yield::process);
    eprintln!(
        "DIAG12 std::thread::yield_now: {:?}",
        grader.diagnoses(done(), &f)
    );
    grader.assert_bug("std::thread::yield_now", done(), &f);
    let f = processed(starve_bug_yield_every_thousand::process);
    assert_eq!(
        grader.diagnoses(done(), &f),
        ["holds-the-thread"],
        "a yield every thousand items"
    );
    grader.assert_not_fixed("a yield every thousand items", done(), &f);
    let skipped = processed(starve_bug_skips_items::process);
    assert!(
        grader.diagnoses(done(), &skipped).is_empty(),
        "half the items skipped"
    );
    grader.assert_not_fixed("half the items skipped", done(), &skipped);
    assert_eq!(skipped.get("wrong_sum"), Some(2.0));
    // 256 items with yields, then 700 or more without: 4 ticks of work or
    // more between two turns, counted.
    let warm_up = processed(starve_bug_yields_only_at_first::process);
    assert_eq!(
        grader.diagnoses(done(), &warm_up),
        ["holds-the-thread"],
        "yields for the first 256 items only"
    );
    grader.assert_not_fixed("yields for the first 256 items only", done(), &warm_up);
    assert!(warm_up.get("longest_turn") > Some(3.0), "{warm_up:?}");

    // Judged on every fact: a blocking join sleeps through the work (9
    // ticks of it) on any machine, seen as sleep on Linux; the neighbour
    // gets no turn, counted.
    let all = Grader::new(env!("CARGO_MANIFEST_DIR"), &starve::SPEC);
    let joined = processed(starve_bug_joins_a_thread::process);
    assert_eq!(
        all.diagnoses(done(), &joined),
        ["blocks-on-threads"],
        "a blocking join in the loop"
    );
    all.assert_not_fixed("a blocking join in the loop", done(), &joined);
    assert_eq!(
        joined.get("longest_turn"),
        Some(0.0),
        "no work on the thread"
    );
    if cfg!(target_os = "linux") {
        assert!(joined.get("worker_asleep") >= Some(4.5), "{joined:?}");
    }
    assert_eq!(joined.get("neighbour_turns"), Some(0.0), "{joined:?}");

    // The work in chunks on threads, each joined: no long poll, but the
    // loop sleeps through the work (a join lasts as long as the work it
    // waits for, on any machine; seen as sleep on Linux).
    let chunks = processed(starve_bug_joins_threads_in_chunks::process);
    assert_eq!(chunks.get("wrong_sum"), Some(0.0));
    if cfg!(target_os = "linux") {
        assert_eq!(
            all.diagnoses(done(), &chunks),
            ["blocks-on-threads"],
            "chunks joined on threads"
        );
        all.assert_not_fixed("chunks joined on threads", done(), &chunks);
        assert!(chunks.get("worker_asleep") >= Some(1.5), "{chunks:?}");
    }
}
