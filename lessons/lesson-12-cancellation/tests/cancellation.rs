//! The lesson's claims, proven by counting: on paused tokio time where a
//! clock is involved, and by what the harness counts otherwise.

use lesson_12::{ITEMS, READS, broken, fixed, handle, lines, starve, stop};
use shared::lesson::Facts;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

fn get(facts: &Facts, name: &str) -> f64 {
    facts
        .get(name)
        .unwrap_or_else(|| panic!("{name} was measured"))
}

#[tokio::test(start_paused = true)]
async fn every_line_lost_to_the_timer_comes_back_as_half_a_line() {
    let facts = Facts::for_test(&lines::SPEC);
    lines::measure(&facts, broken::collect).await;
    let lost = get(&facts, "lines_lost");
    // The 10 ms ticks at 20, 50, 80 ... 290 ms each fall inside a line
    // (line i arrives at 15i and 15i + 7 ms): at least ten are lost.
    assert!(lost >= 10.0, "{lost} lines lost");
    // Each lost line's second half is then read as if it were a line.
    assert_eq!(get(&facts, "lines_garbled"), lost);

    let facts = Facts::for_test(&lines::SPEC);
    lines::measure(&facts, fixed::collect).await;
    assert_eq!(get(&facts, "lines_lost"), 0.0);
    assert_eq!(get(&facts, "lines_garbled"), 0.0);
}

#[tokio::test(start_paused = true)]
async fn a_dropped_join_handle_leaves_its_task_running() {
    let ran_on = Arc::new(AtomicBool::new(false));
    let flag = ran_on.clone();
    let handle = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        flag.store(true, Ordering::SeqCst);
    });
    drop(handle); // detaches: nothing is cancelled
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(ran_on.load(Ordering::SeqCst));

    let handle = tokio::spawn(tokio::time::sleep(Duration::from_millis(100)));
    handle.abort();
    let ended = handle.await.unwrap_err();
    assert!(ended.is_cancelled(), "abort cancels at the next .await");

    let facts = Facts::for_test(&handle::SPEC);
    handle::measure(&facts, broken::ask).await;
    assert_eq!(get(&facts, "late_emails"), 1.0);
    let facts = Facts::for_test(&handle::SPEC);
    handle::measure(&facts, fixed::ask).await;
    assert_eq!(get(&facts, "late_emails"), 0.0);
    assert_eq!(get(&facts, "fast_answered"), 1.0);
}

#[test]
fn a_blocking_job_that_ignores_the_stop_runs_every_read_it_planned() {
    let read = Duration::from_millis(2);
    let facts = Facts::for_test(&stop::SPEC);
    stop::measure(&facts, read, broken::sample);
    let (before, after) = (
        get(&facts, "reads_before_stop"),
        get(&facts, "reads_after_stop"),
    );
    // The runtime's shutdown waited for all of them: none was dropped.
    assert!(
        before + after >= f64::from(READS) - 1.0,
        "{before} + {after}"
    );

    let facts = Facts::for_test(&stop::SPEC);
    stop::measure(&facts, read, fixed::sample);
    assert!(get(&facts, "reads_after_stop") <= 1.0);
}

#[test]
fn a_loop_that_is_always_ready_gives_nobody_a_turn() {
    let facts = Facts::for_test(&starve::SPEC);
    starve::measure(&facts, ITEMS / 4, broken::process);
    assert_eq!(get(&facts, "neighbour_turns"), 0.0);
    assert_eq!(get(&facts, "wrong_sum"), 0.0);

    let facts = Facts::for_test(&starve::SPEC);
    starve::measure(&facts, ITEMS / 4, fixed::process);
    // tokio's budget is 128 units a poll: a yield at least every 128 items.
    let turns = get(&facts, "neighbour_turns");
    assert!(turns >= (ITEMS / 4 / 128) as f64, "{turns} turns");
    assert_eq!(get(&facts, "wrong_sum"), 0.0);
}
