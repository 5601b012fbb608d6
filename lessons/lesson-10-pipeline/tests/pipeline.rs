//! The lesson's claims, proven by counting: what went into the pipeline,
//! what came out, and what was still held when it returned. Each run is
//! bounded by a time limit, so a pipeline that hangs fails the test
//! instead of stopping it.

use lesson_10::{Config, Observed, Record, Stages, broken, drive, fixed};
use shared::grade::{Observed as Ended, observe_within};
use std::sync::mpsc;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(20);

/// Small and quick: 20 records, one line in four malformed, 5 ms fetches.
const SMALL: Config = Config {
    records: 20,
    malformed_every: 4,
    latency: Duration::from_millis(5),
    cpu_time: Duration::from_millis(1),
    capacity: 2,
    in_flight: 2,
    stop_after: None,
    salt: 0x5eed,
};

/// 60 records, 20 ms fetches two at a time (0.6 s), stopped after 60 ms.
const STOPPED: Config = Config {
    records: 60,
    malformed_every: 10,
    latency: Duration::from_millis(20),
    cpu_time: Duration::from_millis(1),
    capacity: 2,
    in_flight: 2,
    stop_after: Some(Duration::from_millis(60)),
    salt: 0x5eed,
};

/// Runs `pipeline` under the time limit and hands back what it saw.
fn run<P>(config: Config, pipeline: P) -> Observed
where
    P: AsyncFnOnce(Stages) + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    let ended = observe_within(LIMIT, move || {
        let _ = tx.send(drive(config, pipeline));
    });
    assert_eq!(ended, Ended::Completes, "the pipeline completes in time");
    rx.recv().expect("the run reported")
}

#[test]
fn every_malformed_line_is_reported_with_its_number_and_skipped() {
    // Four kinds: empty, cut short, not JSON, a string where a number goes.
    let malformed: Vec<usize> = SMALL
        .lines()
        .iter()
        .filter(|(_, text)| serde_json::from_str::<Record>(text).is_err())
        .map(|(n, _)| *n)
        .collect();
    assert_eq!(malformed, [4, 8, 12, 16, 20, 24]);

    let seen = run(SMALL, fixed::run_pipeline);
    let mut reported = seen.reported();
    reported.sort_unstable();
    assert_eq!(reported, malformed, "each reported once, by its number");
    // Skipped, not fatal: every other line came out, once, in order, each
    // with the score the harness works out from the input and the server.
    let good: Vec<u64> = (1..=26).filter(|n| n % 4 != 0).collect();
    assert_eq!(seen.written(), good);
    assert_eq!(seen.wrong_results(), 0);
}

#[test]
fn a_stop_mid_run_loses_nothing_writes_nothing_twice_and_leaves_no_thread() {
    let seen = run(STOPPED, fixed::run_pipeline);
    // Mid-run: bounded queues kept the reader near the writer, so when the
    // stop came most of the input was still unread.
    let total = STOPPED.total_lines();
    assert!(
        seen.taken() < total / 2,
        "{} of {total} lines read",
        seen.taken()
    );
    // Everything read came out, once and in order; nothing else did.
    assert_eq!(seen.written(), seen.records_taken());
    assert_eq!(seen.duplicated(), 0);
    // Every stage handle was dropped: no thread or task is left.
    assert_eq!(seen.left, 0);

    // The broken pipeline ignores the stop: it reads the whole input, and
    // writes it in whatever order its two workers finish.
    let seen = run(STOPPED, broken::run_pipeline);
    assert_eq!(seen.taken(), total);
    assert_eq!(seen.lost(&seen.records_taken()), 0);
}

#[test]
fn bounded_queues_hold_the_reader_back_and_unbounded_ones_do_not() {
    let seen = run(SMALL, fixed::run_pipeline);
    assert!(
        seen.peak_queue_ratio() <= 1.0,
        "{}",
        seen.peak_queue_ratio()
    );
    assert!(seen.in_flight_ratio() <= 1.0);
    let seen = run(SMALL, broken::run_pipeline);
    // The reader read all 26 lines before the first fetch came back.
    assert!(seen.peak_queue_ratio() > 1.0, "{}", seen.peak_queue_ratio());
}

/// The shape a learner writes first: a `move` closure that owns a fetcher
/// and returns its fetch. It compiles because `details` captures nothing
/// of `&self` (`+ use<>`); with edition 2024's default capture it would
/// not ("captured variable cannot escape `FnMut` closure body").
#[allow(dead_code)]
fn a_move_closure_can_return_a_fetch_of_the_fetcher_it_owns(
    fetcher: lesson_10::Fetcher,
    records: Vec<Record>,
) -> impl Iterator<Item = impl std::future::Future<Output = lesson_10::Details> + Send + 'static> {
    records.into_iter().map(move |r| fetcher.details(r))
}
