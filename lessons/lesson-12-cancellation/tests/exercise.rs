//! The graders of lesson 12 grade the untouched exercises, the lesson's
//! fixes, other fixes written differently, and other forms of each bug, all
//! measured by the same harnesses: `lines` and `handle` on paused tokio
//! time; `stop` and `starve` in real time, judged on what they count (reads
//! after the stop, turns given to a neighbour), which does not depend on
//! the machine's speed. `cargo xtask check` judges the times.

use lesson_12::{Backlog, Input, Job, Sensor, Status, broken, fixed, handle, lines, starve, stop};
use shared::grade::{Grader, Observed};
use shared::lesson::Facts;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[allow(dead_code)]
#[path = "fixtures/lines/bug_biased_read_first.rs"]
mod bug_biased_read_first;
#[allow(dead_code)]
#[path = "fixtures/stop/bug_checked_every_fifty.rs"]
mod bug_checked_every_fifty;
#[allow(dead_code)]
#[path = "fixtures/stop/bug_checked_once.rs"]
mod bug_checked_once;
#[allow(dead_code)]
#[path = "fixtures/lines/bug_no_reports.rs"]
mod bug_no_reports;
#[allow(dead_code)]
#[path = "fixtures/lines/bug_read_until.rs"]
mod bug_read_until;
#[allow(dead_code)]
#[path = "fixtures/handle/bug_select_sleep.rs"]
mod bug_select_sleep;
#[allow(dead_code)]
#[path = "fixtures/starve/bug_skips_items.rs"]
mod bug_skips_items;
#[allow(dead_code)]
#[path = "fixtures/handle/bug_waits_for_ever.rs"]
mod bug_waits_for_ever;
#[allow(dead_code)]
#[path = "fixtures/starve/bug_yield_at_the_end.rs"]
mod bug_yield_at_the_end;
#[allow(dead_code)]
#[path = "fixtures/handle/fix_join_set.rs"]
mod fix_join_set;
#[allow(dead_code)]
#[path = "fixtures/lines/fix_kept_future.rs"]
mod fix_kept_future;
#[allow(dead_code)]
#[path = "fixtures/handle/fix_no_spawn.rs"]
mod fix_no_spawn;
#[allow(dead_code)]
#[path = "fixtures/lines/fix_reader_task.rs"]
mod fix_reader_task;
#[allow(dead_code)]
#[path = "fixtures/stop/fix_take_while.rs"]
mod fix_take_while;
#[allow(dead_code)]
#[path = "fixtures/starve/fix_tokio_channel.rs"]
mod fix_tokio_channel;
#[allow(dead_code)]
#[path = "fixtures/stop/fix_while_not_cancelled.rs"]
mod fix_while_not_cancelled;
#[allow(dead_code)]
#[path = "fixtures/starve/fix_yield_every_hundred.rs"]
mod fix_yield_every_hundred;
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

async fn read_lines(collect: impl AsyncFnOnce(Input, Status) -> Vec<String>) -> Facts {
    let facts = Facts::for_test(&lines::SPEC);
    lines::measure(&facts, collect).await;
    facts
}

#[tokio::test(start_paused = true)]
async fn the_lines_grader_tells_every_fix_from_every_form_of_the_bug() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &lines::SPEC);
    let done = || Observed::Completes;
    grader.assert_fixed(
        "the reference fix",
        done(),
        &read_lines(fixed::collect).await,
    );
    grader.assert_fixed(
        "a reader task and a channel",
        done(),
        &read_lines(fix_reader_task::collect).await,
    );
    grader.assert_fixed(
        "one read kept across turns",
        done(),
        &read_lines(fix_kept_future::collect).await,
    );

    grader.assert_bug(
        "the reference bug",
        done(),
        &read_lines(broken::collect).await,
    );
    grader.assert_bug(
        "the untouched exercise",
        done(),
        &read_lines(start_lines::collect).await,
    );
    grader.assert_bug(
        "read_until into a fresh buffer",
        done(),
        &read_lines(bug_read_until::collect).await,
    );
    grader.assert_bug(
        "biased towards the read",
        done(),
        &read_lines(bug_biased_read_first::collect).await,
    );
    grader.assert_not_fixed(
        "no progress reports",
        done(),
        &read_lines(bug_no_reports::collect).await,
    );
}

async fn asked(ask: impl AsyncFn(Job, Duration) -> Option<u64>) -> Facts {
    let facts = Facts::for_test(&handle::SPEC);
    handle::measure(&facts, ask).await;
    facts
}

#[tokio::test(start_paused = true)]
async fn the_handle_grader_tells_every_fix_from_every_form_of_the_bug() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &handle::SPEC);
    let done = || Observed::Completes;
    grader.assert_fixed("the reference fix", done(), &asked(fixed::ask).await);
    grader.assert_fixed(
        "no task, a timeout on the job",
        done(),
        &asked(fix_no_spawn::ask).await,
    );
    grader.assert_fixed("a JoinSet dropped", done(), &asked(fix_join_set::ask).await);

    grader.assert_bug("the reference bug", done(), &asked(broken::ask).await);
    grader.assert_bug(
        "the untouched exercise",
        done(),
        &asked(start_handle::ask).await,
    );
    grader.assert_bug(
        "a handle that loses a select!",
        done(),
        &asked(bug_select_sleep::ask).await,
    );
    grader.assert_not_fixed(
        "waiting for the slow job",
        done(),
        &asked(bug_waits_for_ever::ask).await,
    );
}

/// Reads of 5 ms instead of 10: half the time, and the counts are the same.
fn sampled(sample: fn(CancellationToken, Sensor) -> u32) -> Facts {
    let facts = Facts::for_test(&stop::SPEC);
    stop::measure(&facts, Duration::from_millis(5), sample);
    facts
}

#[test]
fn the_stop_grader_tells_every_fix_from_every_form_of_the_bug() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &stop::SPEC)
        .only(&["reads_after_stop", "reads_before_stop"]);
    let done = || Observed::Completes;
    grader.assert_fixed("the reference fix", done(), &sampled(fixed::sample));
    grader.assert_fixed(
        "the loop's condition",
        done(),
        &sampled(fix_while_not_cancelled::sample),
    );
    grader.assert_fixed("take_while", done(), &sampled(fix_take_while::sample));

    grader.assert_bug("the reference bug", done(), &sampled(broken::sample));
    grader.assert_bug(
        "the untouched exercise",
        done(),
        &sampled(start_stop::sample),
    );
    grader.assert_bug(
        "checked once, at the start",
        done(),
        &sampled(bug_checked_once::sample),
    );
    grader.assert_not_fixed(
        "checked every fifty reads",
        done(),
        &sampled(bug_checked_every_fifty::sample),
    );
}

/// A quarter of the backlog: the turns counted do not need more.
fn processed(process: impl AsyncFnOnce(Backlog) -> u64) -> Facts {
    let facts = Facts::for_test(&starve::SPEC);
    starve::measure(&facts, lesson_12::ITEMS / 4, process);
    facts
}

#[test]
fn the_starve_grader_tells_every_fix_from_every_form_of_the_bug() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &starve::SPEC)
        .only(&["neighbour_turns", "wrong_sum"]);
    let done = || Observed::Completes;
    grader.assert_fixed("the reference fix", done(), &processed(fixed::process));
    grader.assert_fixed(
        "yield_now every hundred",
        done(),
        &processed(fix_yield_every_hundred::process),
    );
    grader.assert_fixed(
        "through a tokio channel",
        done(),
        &processed(fix_tokio_channel::process),
    );

    grader.assert_bug("the reference bug", done(), &processed(broken::process));
    grader.assert_bug(
        "the untouched exercise",
        done(),
        &processed(start_starve::process),
    );
    grader.assert_bug(
        "one yield at the end",
        done(),
        &processed(bug_yield_at_the_end::process),
    );
    grader.assert_not_fixed(
        "half the items skipped",
        done(),
        &processed(bug_skips_items::process),
    );
}
