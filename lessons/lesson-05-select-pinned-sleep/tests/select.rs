//! Lesson 05's claims on paused tokio time: the clock moves only when every
//! task waits, so these counts are exact on any machine.

use lesson_05::Schedule;
use shared::lesson::Facts;
use shared::work::shape::Arrivals;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::sleep;

/// Whether a measured ratio is `want`, but for floating-point rounding.
fn is(got: Option<f64>, want: f64) -> bool {
    got.is_some_and(|g| (g - want).abs() < 1e-9)
}

/// One steady shape, an item every 10 ms for 990 ms, as the lesson's
/// first version had: easy numbers to check by hand.
fn every_10ms() -> Vec<Arrivals> {
    vec![Arrivals::steady(Duration::from_millis(10), 99)]
}

#[tokio::test(start_paused = true)]
async fn a_sleep_made_inside_the_loop_never_fires() {
    let facts = Facts::for_test(&lesson_05::report::SPEC);
    lesson_05::report::measure(&facts, every_10ms(), lesson_05::broken::worker).await;
    assert_eq!(facts.get("items_lost"), Some(0.0));
    assert_eq!(facts.get("report_ratio"), Some(0.0));
    // Items arrive from 10 to 990 ms, and the worker ends when they stop.
    assert!(is(facts.get("longest_gap_ratio"), 9.9), "{facts:?}");
}

#[tokio::test(start_paused = true)]
async fn a_pinned_sleep_reset_after_each_report_fires_every_time() {
    let facts = Facts::for_test(&lesson_05::report::SPEC);
    lesson_05::report::measure(&facts, every_10ms(), lesson_05::fixed::worker).await;
    // Reports at 100, 200, ..., 900 ms: nine in 9.9 periods.
    assert!(is(facts.get("report_ratio"), 9.0 / 9.9), "{facts:?}");
    assert!(is(facts.get("longest_gap_ratio"), 1.0), "{facts:?}");
}

#[tokio::test(start_paused = true)]
async fn an_interval_fires_every_time_too() {
    let facts = Facts::for_test(&lesson_05::report::SPEC);
    lesson_05::report::measure(&facts, every_10ms(), lesson_05::fixed::worker_with_interval).await;
    assert!(is(facts.get("report_ratio"), 9.0 / 9.9), "{facts:?}");
    assert_eq!(facts.get("items_lost"), Some(0.0));
}

#[tokio::test(start_paused = true)]
async fn a_pinned_deadline_ends_the_read_on_time() {
    let facts = Facts::for_test(&lesson_05::deadline::SPEC);
    let steady = [Schedule::steady(Duration::from_millis(10))];
    lesson_05::deadline::measure(&facts, &steady, lesson_05::fixed::read_until_deadline).await;
    assert_eq!(facts.get("deadline_ratio"), Some(1.0));
    assert_eq!(facts.get("early_stops"), Some(0.0));
    assert_eq!(facts.get("wrong_counts"), Some(0.0));
    // A number every 10 ms; the one due at exactly 1 s may lose the race.
    let read = facts.get("numbers_read").unwrap();
    assert!((99.0..=100.0).contains(&read), "read {read}");
}

#[tokio::test(start_paused = true)]
async fn a_deadline_made_inside_the_loop_never_comes() {
    let facts = Facts::for_test(&lesson_05::deadline::SPEC);
    let steady = [Schedule::steady(Duration::from_millis(10))];
    let outcome = tokio::time::timeout(
        Duration::from_secs(10),
        lesson_05::deadline::measure(&facts, &steady, lesson_05::broken::read_until_deadline),
    )
    .await;
    assert!(outcome.is_err(), "still reading ten seconds later");
    assert!(facts.get("numbers_read").unwrap() >= 999.0);
}

#[test]
fn schedules_repeat_their_pattern_for_ever() {
    let steady = Schedule::steady(Duration::from_millis(4));
    assert_eq!(steady.at(0), Duration::from_millis(4));
    assert_eq!(steady.at(249), Duration::from_secs(1));
    assert_eq!(steady.count_within(Duration::from_secs(1)), 250);
    let mut rng = shared::work::shape::Rng::new(5);
    let bursts = Schedule::bursts(&mut rng);
    let within = bursts.count_within(Duration::from_secs(1));
    assert!(within > 10, "{within}");
    // The pattern goes on after its first round, in order.
    let later: Vec<Duration> = (0..3 * within).map(|i| bursts.at(i)).collect();
    assert!(later.windows(2).all(|w| w[0] <= w[1]));
    let at_once = later.windows(2).filter(|w| w[0] == w[1]).count();
    assert!(at_once as u32 > within, "bursts come at once: {at_once}");
}

#[test]
fn the_bursts_pause_across_the_deadline() {
    // Whatever the seed: no number from 0.9 s at the latest until 1.5 s at
    // the earliest, so a look at the clock when a number comes ends a read
    // half a second late or more.
    for seed in 0..200 {
        let bursts = Schedule::bursts(&mut shared::work::shape::Rng::new(seed));
        let (last, next) = bursts.gap_around(lesson_05::DEADLINE);
        assert!(last <= Duration::from_millis(900), "{seed}: {last:?}");
        assert!(next >= Duration::from_millis(1500), "{seed}: {next:?}");
        assert!(bursts.count_within(lesson_05::DEADLINE) >= 30, "{seed}");
    }
}

/// Sets its flag when dropped.
struct DropGuard(Arc<AtomicBool>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[tokio::test(start_paused = true)]
async fn select_drops_the_branch_that_loses() {
    let dropped = Arc::new(AtomicBool::new(false));
    let guard = DropGuard(dropped.clone());
    let slow = async move {
        let _guard = guard; // lives as long as this future
        sleep(Duration::from_secs(1)).await;
        "slow"
    };
    let winner = tokio::select! {
        w = slow => w,
        () = sleep(Duration::from_millis(10)) => "fast",
    };
    assert_eq!(winner, "fast");
    assert!(
        dropped.load(Ordering::SeqCst),
        "the slow branch was dropped, unfinished"
    );
}

#[tokio::test(start_paused = true)]
async fn recv_is_cancel_safe_no_message_is_lost_when_it_loses() {
    let (tx, mut rx) = mpsc::channel(8);
    tokio::spawn(async move {
        for i in 0..5 {
            sleep(Duration::from_millis(15)).await;
            tx.send(i).await.unwrap();
        }
    });
    let mut got = Vec::new();
    let mut ticks = tokio::time::interval(Duration::from_millis(10));
    loop {
        tokio::select! {
            msg = rx.recv() => match msg {
                Some(m) => got.push(m),
                None => break,
            },
            _ = ticks.tick() => {} // wins often, and cancels recv each time
        }
    }
    assert_eq!(got, [0, 1, 2, 3, 4], "every message arrived, in order");
}

#[tokio::test(start_paused = true)]
async fn a_half_done_read_loses_data_when_it_loses() {
    let (tx, mut rx) = mpsc::channel(8);
    tokio::spawn(async move {
        tx.send("first half").await.unwrap();
        sleep(Duration::from_millis(50)).await;
        tx.send("second half").await.unwrap();
    });
    // Reads a message in two parts. Not cancel-safe: if it is dropped
    // between the two receives, the first part is gone with it.
    let mut read_pair = async || (rx.recv().await, rx.recv().await);
    let outcome = tokio::select! {
        pair = read_pair() => Some(pair),
        () = sleep(Duration::from_millis(20)) => None,
    };
    assert!(outcome.is_none(), "the timeout won, mid-read");
    let next = rx.recv().await;
    assert_eq!(next, Some("second half"), "the first half was lost");
}

/// Runs `turns` selects between two branches that are both ready at once,
/// and counts how often the first one wins.
async fn first_branch_wins(turns: u32, biased: bool) -> u32 {
    let mut first = 0;
    for _ in 0..turns {
        let won_first = if biased {
            tokio::select! {
                biased;
                () = std::future::ready(()) => true,
                () = std::future::ready(()) => false,
            }
        } else {
            tokio::select! {
                () = std::future::ready(()) => true,
                () = std::future::ready(()) => false,
            }
        };
        first += u32::from(won_first);
    }
    first
}

#[tokio::test]
async fn select_checks_ready_branches_in_random_order_unless_biased() {
    // Random order: over 200 turns each branch wins some (a fair coin
    // would miss one side with odds of 1 in 2^199).
    let first = first_branch_wins(200, false).await;
    assert!(first > 0 && first < 200, "first won {first} of 200");
    // `biased;`: top to bottom, so the first ready branch always wins.
    assert_eq!(first_branch_wins(200, true).await, 200);
}

#[tokio::test]
async fn select_runs_the_winners_branch_after_dropping_the_losers() {
    let dropped = Arc::new(AtomicBool::new(false));
    let guard = DropGuard(dropped.clone());
    let loser = async move {
        let _guard = guard;
        std::future::pending::<()>().await
    };
    let seen_in_branch = tokio::select! {
        () = std::future::ready(()) => dropped.load(Ordering::SeqCst),
        () = loser => unreachable!("it never completes"),
    };
    assert!(
        seen_in_branch,
        "the loser was dropped before the branch ran"
    );
}
