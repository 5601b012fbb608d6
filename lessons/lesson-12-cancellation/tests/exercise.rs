//! The graders of lesson 12 grade the untouched exercises, the lesson's
//! fixes, other fixes written differently, and other forms of each bug, all
//! measured by the same harnesses under the same two workloads each:
//! `lines` and `handle` on paused tokio time, for several seeds; `stop`
//! and `starve` in real time, judged on what they count (reads after the
//! stop, work between two turns of a neighbour, results against the
//! harness's own record), which does not depend on the machine's speed.
//! `cargo xtask check` and `cargo xtask fixtures` judge the times.

use lesson_12::{Backlog, Input, Job, Sensor, Status, broken, fixed, handle, lines, starve, stop};
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
#[path = "fixtures/stop/bug_checked_every_fifty.rs"]
mod stop_bug_checked_every_fifty;
#[allow(dead_code)]
#[path = "fixtures/stop/bug_checked_once.rs"]
mod stop_bug_checked_once;
#[allow(dead_code)]
#[path = "fixtures/stop/bug_drops_last_reading.rs"]
mod stop_bug_drops_last_reading;
#[allow(dead_code)]
#[path = "fixtures/stop/bug_one_more_read.rs"]
mod stop_bug_one_more_read;
#[allow(dead_code)]
#[path = "fixtures/stop/bug_reads_on_a_thread.rs"]
mod stop_bug_reads_on_a_thread;
#[allow(dead_code)]
#[path = "fixtures/stop/bug_stops_after_ten_reads.rs"]
mod stop_bug_stops_after_ten_reads;
#[allow(dead_code)]
#[path = "fixtures/stop/bug_stops_on_a_timer.rs"]
mod stop_bug_stops_on_a_timer;
#[allow(dead_code)]
#[path = "fixtures/stop/bug_waits_for_the_stop.rs"]
mod stop_bug_waits_for_the_stop;
#[allow(dead_code)]
#[path = "fixtures/stop/fix_take_while.rs"]
mod stop_fix_take_while;
#[allow(dead_code)]
#[path = "fixtures/stop/fix_while_not_cancelled.rs"]
mod stop_fix_while_not_cancelled;

const SEEDS: [u64; 3] = [5, 6, 2025];

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

/// Short reads and early stops: the counts are the same as in the real
/// scenario, in less time. The first pace stops after 12 reads, the
/// second after 4, so that no count of reads and no fixed time fits both.
fn sampled(sample: fn(CancellationToken, Sensor) -> u32) -> Facts {
    let mut rng = Rng::new(8);
    let ms = Duration::from_millis;
    let paces = [
        stop::Pace::new(&mut rng, ms(4), ms(48)),
        stop::Pace::new(&mut rng, ms(6), ms(24)),
    ];
    let facts = Facts::for_test(&stop::SPEC);
    for m in stop::measure(&facts, &paces, sample) {
        // Loose and true on any machine: the program had not stopped
        // before its job returned.
        assert!(m.stop_reads >= m.job_ended, "{m:?}");
    }
    facts
}

#[test]
fn the_stop_grader_tells_every_fix_from_every_form_of_the_bug() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &stop::SPEC).only(&[
        "reads_after_stop",
        "reads_before_stop",
        "stopped_early",
        "wrong_total",
    ]);
    let done = || Observed::Completes;
    grader.assert_fixed("the reference fix", done(), &sampled(fixed::sample));
    grader.assert_fixed(
        "the loop's condition",
        done(),
        &sampled(stop_fix_while_not_cancelled::sample),
    );
    grader.assert_fixed("take_while", done(), &sampled(stop_fix_take_while::sample));

    let f = sampled(broken::sample);
    assert_eq!(
        grader.diagnoses(done(), &f),
        ["stop-seen-late"],
        "the reference bug"
    );
    grader.assert_bug("the reference bug", done(), &f);
    let f = sampled(start_stop::sample);
    assert_eq!(
        grader.diagnoses(done(), &f),
        ["stop-seen-late"],
        "the untouched exercise"
    );
    grader.assert_bug("the untouched exercise", done(), &f);
    let f = sampled(stop_bug_checked_once::sample);
    assert_eq!(
        grader.diagnoses(done(), &f),
        ["stop-seen-late"],
        "checked once, at the start"
    );
    grader.assert_bug("checked once, at the start", done(), &f);
    let f = sampled(stop_bug_checked_every_fifty::sample);
    assert_eq!(
        grader.diagnoses(done(), &f),
        ["stop-seen-late"],
        "checked every fifty reads"
    );
    grader.assert_not_fixed("checked every fifty reads", done(), &f);
    let counted = sampled(stop_bug_stops_after_ten_reads::sample);
    assert!(
        grader.diagnoses(done(), &counted).is_empty(),
        "ten reads, whatever the stop"
    );
    grader.assert_not_fixed("ten reads, whatever the stop", done(), &counted);
    // With slow reads the stop comes after at most 5 reads have begun,
    // however busy the machine: the five more are after it.
    assert!(counted.get("reads_after_stop") >= Some(2.0), "{counted:?}");
    let f = sampled(stop_bug_stops_on_a_timer::sample);
    assert_eq!(
        grader.diagnoses(done(), &f),
        ["stop-seen-late"],
        "100 ms of reads, whatever the stop"
    );
    grader.assert_not_fixed("100 ms of reads, whatever the stop", done(), &f);
    let decoy = sampled(stop_bug_reads_on_a_thread::sample);
    assert!(
        grader.diagnoses(done(), &decoy).is_empty(),
        "reads moved to a thread of their own"
    );
    grader.assert_not_fixed("reads moved to a thread of their own", done(), &decoy);
    assert_eq!(decoy.get("wrong_total"), Some(2.0), "{decoy:?}");
    let idle = sampled(stop_bug_waits_for_the_stop::sample);
    assert!(
        grader.diagnoses(done(), &idle).is_empty(),
        "a job that never reads"
    );
    grader.assert_not_fixed("a job that never reads", done(), &idle);
    assert_eq!(idle.get("reads_before_stop"), Some(0.0), "{idle:?}");
    let dropped = sampled(stop_bug_drops_last_reading::sample);
    assert!(
        grader.diagnoses(done(), &dropped).is_empty(),
        "the last reading thrown away"
    );
    grader.assert_not_fixed("the last reading thrown away", done(), &dropped);
    assert_eq!(dropped.get("wrong_total"), Some(2.0), "{dropped:?}");
    // One read after the one in progress: in both paces, whenever the stop
    // comes (but for a race of a few instructions, in both at once).
    let one_more = sampled(stop_bug_one_more_read::sample);
    assert!(
        grader.diagnoses(done(), &one_more).is_empty(),
        "one more read after the stop"
    );
    grader.assert_not_fixed("one more read after the stop", done(), &one_more);
    assert_eq!(one_more.get("reads_after_stop"), Some(1.0), "{one_more:?}");
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
