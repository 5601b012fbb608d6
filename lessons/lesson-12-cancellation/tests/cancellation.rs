//! The lesson's claims, proven by counting: on paused tokio time where a
//! clock is involved, and by what the harness counts otherwise. Workloads
//! are drawn from fixed seeds here, several of them, so that a claim is
//! proven under more than one shape and a failure can be replayed.

use lesson_12::{broken, fixed, handle, lines, starve, stop};
use shared::lesson::Facts;
use shared::work::shape::Rng;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const SEEDS: [u64; 4] = [1, 2, 3, 2024];

#[tokio::test(start_paused = true)]
async fn every_line_lost_to_the_timer_comes_back_as_a_piece_of_a_line() {
    for seed in SEEDS {
        for delivery in lines::deliveries(&mut Rng::new(seed)) {
            let m = lines::measure_one(&delivery, &broken::collect).await;
            // Each delivery holds a stall longer than a tick with a part of
            // a line waiting: the timer wins there at least.
            assert!(m.lost >= 1, "seed {seed}, {}: {m:?}", delivery.name);
            // A dropped read loses what it had read; the next one returns
            // the rest of that line, up to its newline, as a line.
            assert_eq!(m.garbled, m.lost, "seed {seed}, {}", delivery.name);
            assert_eq!(m.duplicated, 0);

            let m = lines::measure_one(&delivery, &fixed::collect).await;
            assert_eq!((m.lost, m.garbled, m.duplicated), (0, 0, 0), "seed {seed}");
            // On paused time the interval keeps its 10 ms exactly.
            assert!(m.gap <= 1.0 + 1e-9, "seed {seed}: {m:?}");
            assert!((0.9..=1.2).contains(&m.ratio), "seed {seed}: {m:?}");
        }
    }
}

#[test]
fn lines_are_compared_with_what_was_sent_one_by_one() {
    let sent: Vec<String> = ["a 1", "b 2", "c 3"].map(String::from).to_vec();
    let got = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        lines::compare(&sent, &got(&["a 1\n", "b 2", "c 3\r\n"])),
        (0, 0, 0)
    );
    // Every line twice: nothing lost, nothing garbled, three duplicated.
    let twice = got(&["a 1", "a 1", "b 2", "b 2", "c 3", "c 3"]);
    assert_eq!(lines::compare(&sent, &twice), (0, 0, 3));
    // A line cut in two: lost, and both pieces garbled.
    assert_eq!(
        lines::compare(&sent, &got(&["a 1", "b", " 2", "c 3"])),
        (1, 2, 0)
    );
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

    for seed in SEEDS {
        for round in handle::rounds(&mut Rng::new(seed)) {
            let slow = round.calls.iter().filter(|c| !c.fast()).count() as u32;
            let m = handle::measure_one(&round, &broken::ask).await;
            // Every too-slow job is left running, and sends its email.
            assert_eq!((m.left_running, m.late_emails), (slow, slow), "seed {seed}");
            assert_eq!(m.fast_unanswered, 0);

            let m = handle::measure_one(&round, &fixed::ask).await;
            assert_eq!((m.left_running, m.late_emails), (0, 0), "seed {seed}");
            assert_eq!((m.fast_unanswered, m.slow_answered), (0, 0), "seed {seed}");
            // On paused time the caller gives up at its deadline exactly.
            for w in &m.waits {
                assert!((1.0..1.05).contains(w), "seed {seed}: waited {w}");
            }
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_job_that_ignores_the_stop_is_dropped_at_the_deadline_with_what_it_held() {
    for seed in SEEDS {
        let shapes = stop::shapes(&mut Rng::new(seed));
        let facts = Facts::for_test(&stop::SPEC);
        let m = stop::measure(&facts, &shapes, broken::record).await;
        for m in &m {
            // Dropped at the deadline exactly (paused time), never early.
            assert!(m.forced && !m.early, "seed {seed}: {m:?}");
            assert!((1.0..1.05).contains(&m.stop_ratio), "seed {seed}: {m:?}");
            assert_eq!(m.after_return, 0, "seed {seed}: {m:?}");
            assert!(m.taken_before_stop >= 10, "seed {seed}: {m:?}");
        }
        // With readings in hand as the sensor goes quiet: 2 to 6 lost,
        // none taken after the stop.
        assert!((2..=6).contains(&m[0].lost), "seed {seed}: {:?}", m[0]);
        assert_eq!(m[0].taken_after_stop, 0, "seed {seed}");
        // In the middle of a write, with the sensor going on: the write
        // ends, and the job reads on.
        assert!(m[1].taken_after_stop >= 1, "seed {seed}: {:?}", m[1]);

        let facts = Facts::for_test(&stop::SPEC);
        for m in stop::measure(&facts, &shapes, fixed::record).await {
            assert!(!m.forced && !m.early, "seed {seed}: {m:?}");
            // At most a batch's write after the stop: 9 lines of 3 ms at
            // most, and a deadline of 60 ms at least.
            assert!(m.stop_ratio <= 0.45, "seed {seed}: {m:?}");
            let counts = (m.lost, m.half, m.taken_after_stop, m.after_return, m.bad);
            assert_eq!(counts, (0, 0, 0, 0, 0), "seed {seed}: {m:?}");
            // Woken only by readings, lines and the stop, never for
            // nothing, quiet stretches and all; and it goes on at the stop.
            assert_eq!(m.idle_wakes, 0, "seed {seed}: {m:?}");
            assert_eq!(m.stop_seen, 0.0, "seed {seed}: {m:?}");
            assert!(!m.fell_back, "seed {seed}: {m:?}");
        }
    }
}

/// The stop during a write comes once the write has written lines, on
/// any machine: it is timed from the write's own lines, not from its
/// start. A write raced against the stop is cut half-way, never before
/// its first line nor after its end.
#[tokio::test(start_paused = true)]
async fn a_stop_during_a_write_always_finds_it_half_way() {
    use lesson_12::{BATCH, Log, Sensor};
    use tokio_util::sync::CancellationToken;
    async fn write_raced(stop: CancellationToken, sensor: Sensor, log: Log) {
        let mut batch = Vec::new();
        loop {
            tokio::select! {
                biased;
                _ = stop.cancelled() => break,
                reading = sensor.next() => batch.push(reading),
            }
            if batch.len() == BATCH {
                let full = std::mem::take(&mut batch);
                tokio::select! {
                    biased;
                    _ = stop.cancelled() => break,
                    _ = log.write(full) => {}
                }
            }
        }
    }
    for seed in 0..40 {
        let shapes = stop::shapes(&mut Rng::new(seed));
        let facts = Facts::for_test(&stop::SPEC);
        let m = stop::measure(&facts, &shapes, write_raced).await;
        assert!(!m[1].fell_back, "seed {seed}: {:?}", m[1]);
        assert_eq!(m[1].half, 1, "seed {seed}: {:?}", m[1]);
        // The batch cut half-way is lost whole: nothing else is.
        assert_eq!(m[1].lost as usize, BATCH, "seed {seed}: {:?}", m[1]);
    }
}

/// Why `biased;` is not needed with this sensor: a reading goes only to a
/// `next()` that was already waiting when it came, never to one polled
/// for the first time. So after the stop, a `select!` that polls `next()`
/// first still finds only the stop ready.
#[tokio::test(start_paused = true)]
async fn a_reading_goes_only_to_a_next_already_waiting() {
    use futures::FutureExt;
    use lesson_12::{BATCH, Log, Sensor};
    use tokio_util::sync::CancellationToken;
    async fn tries_first(stop: CancellationToken, sensor: Sensor, log: Log) {
        let mut batch = Vec::new();
        loop {
            // Any time: a next() polled once finds no reading ready.
            assert!(sensor.next().now_or_never().is_none());
            if stop.is_cancelled() {
                break;
            }
            tokio::select! {
                _ = stop.cancelled() => {}
                reading = sensor.next() => batch.push(reading),
            }
            if batch.len() == BATCH {
                log.write(std::mem::take(&mut batch)).await;
                assert!(sensor.next().now_or_never().is_none());
            }
        }
        if !batch.is_empty() {
            log.write(batch).await;
        }
    }
    for seed in SEEDS {
        let shapes = stop::shapes(&mut Rng::new(seed));
        let facts = Facts::for_test(&stop::SPEC);
        for m in stop::measure(&facts, &shapes, tries_first).await {
            assert_eq!((m.taken_after_stop, m.lost), (0, 0), "seed {seed}: {m:?}");
        }
    }
}

/// Two backlogs of about 50 and 90 ms of work: enough for the counts.
fn test_loads() -> Vec<starve::Load> {
    let mut rng = Rng::new(11);
    let us = Duration::from_micros;
    vec![
        starve::Load::new(&mut rng, 1200, us(45)),
        starve::Load::new(&mut rng, 1000, us(90)),
    ]
}

#[test]
fn a_loop_that_is_always_ready_gives_nobody_a_turn() {
    let facts = Facts::for_test(&starve::SPEC);
    let loads = test_loads();
    for (m, load) in starve::measure(&facts, &loads, broken::process)
        .iter()
        .zip(&loads)
    {
        assert_eq!(m.turns, 0, "{m:?}");
        // The whole backlog's work, between two turns of the neighbour.
        let whole = (load.items as u128 * load.cost.as_micros()) as f64 / 10_000.0;
        assert!((m.longest_turn - whole).abs() < 1e-6, "{m:?}");
        assert!(!m.wrong_sum);
        // Loose and true on any machine: the work takes at least about its
        // calibrated time, all in one poll, and the heartbeat waits for it.
        assert!(m.held >= whole / 2.0, "{m:?}");
        assert!(m.lateness >= whole / 2.0 - 1.0, "{m:?}");
    }

    let facts = Facts::for_test(&starve::SPEC);
    for (m, load) in starve::measure(&facts, &loads, fixed::process)
        .iter()
        .zip(&loads)
    {
        // tokio's budget is 128 units a poll: the 129th item's
        // `consume_budget` returns Pending, after that item's work. So at
        // most 129 items a poll, and a turn for the neighbour after each.
        let budget = (129 * load.cost.as_micros()) as f64 / 10_000.0;
        assert!(m.longest_turn <= budget + 1e-6, "{m:?}");
        assert!(m.turns >= (load.items / 129) as u64, "{m:?}");
        assert!(!m.wrong_sum);
    }
}
