//! The lesson's claims, measured in real time: each hidden fault meets its
//! broken claim and shows its own signal in the task monitors; the fixes
//! meet the fixed claim. A timing claim gets three tries, for a busy
//! machine; a watchdog ends a test that hangs.

use lesson_14::{
    BLOCKING, KINDS, LOCK, LOST, Measured, Monitors, QUEUE, STARVE, Service, broken, fixed,
    measure, shapes,
};
use shared::grade::{Grader, Observed};
use shared::lesson::{Facts, Spec};
use shared::work::shape::Rng;
use std::time::Duration;

/// Ends the test process if a test runs past `limit`.
fn watchdog(limit: Duration) {
    std::thread::spawn(move || {
        std::thread::sleep(limit);
        eprintln!("watchdog: the test ran past {limit:?}");
        std::process::exit(101);
    });
}

/// One run at a time: the runs measure time, and share two cores.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn measured<S: Service>(spec: &'static Spec, seed: u64) -> (Facts, Vec<Measured>, Monitors) {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let facts = Facts::for_test(spec);
    let monitors = Monitors::new();
    let m = measure::<S>(&facts, &shapes(&mut Rng::new(seed)), &monitors);
    (facts, m, monitors)
}

/// Up to three tries of `check`, each on a fresh run: `Ok` on the first
/// that passes.
fn within_three_tries<S: Service>(
    spec: &'static Spec,
    check: impl Fn(&Facts, &[Measured], &Monitors) -> Result<(), String>,
) {
    let mut last = String::new();
    for seed in [1, 2, 3] {
        let (f, m, mon) = measured::<S>(spec, seed);
        match check(&f, &m, &mon) {
            Ok(()) => return,
            Err(e) => last = e,
        }
    }
    panic!("three tries missed: {last}");
}

fn judged(spec: &'static Spec, fixed: bool) -> impl Fn(&Facts) -> Result<(), String> {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), spec);
    move |f: &Facts| {
        let j = if fixed {
            grader.against_fixed(Observed::Completes, f)
        } else {
            grader.against_broken(Observed::Completes, f)
        };
        if j.ok() {
            Ok(())
        } else {
            Err(format!("{}: {:?}", j.summary(), f.values()))
        }
    }
}

/// The total time `kind` spent in slow polls is at least ten times every
/// other kind's.
fn slow_polls_point_at(mon: &Monitors, kind: &str) -> Result<(), String> {
    let of = |k: &str| mon.metrics(k).total_slow_poll_duration;
    let culprit = of(kind);
    if culprit < Duration::from_millis(50) {
        return Err(format!("{kind}: only {culprit:?} in slow polls"));
    }
    for other in KINDS.iter().filter(|k| **k != kind) {
        if of(other) * 10 > culprit {
            return Err(format!(
                "{other} spent {:?} in slow polls, {kind} {culprit:?}",
                of(other)
            ));
        }
    }
    Ok(())
}

fn a_blocking_handler_is_the_kind_with_the_slow_polls() {
    let claim = judged(&BLOCKING, false);
    within_three_tries::<broken::Blocking>(&BLOCKING, |f, _, mon| {
        claim(f)?;
        slow_polls_point_at(mon, "handler")
    });
}

fn a_loop_that_never_yields_is_the_refresher_s_slow_polls_and_everyone_else_s_long_delays() {
    let claim = judged(&STARVE, false);
    within_three_tries::<broken::Starve>(&STARVE, |f, _, mon| {
        claim(f)?;
        slow_polls_point_at(mon, "refresher")?;
        // The victims: tasks woken while the ranking runs wait for it.
        let late = mon.metrics("reporter").total_long_delay_count;
        if late < 3 {
            return Err(format!("the reporter had {late} long delays"));
        }
        Ok(())
    });
}

fn an_unbounded_queue_keeps_the_auditor_busy_after_the_last_answer() {
    let claim = judged(&QUEUE, false);
    within_three_tries::<broken::Queue>(&QUEUE, |f, m, mon| {
        claim(f)?;
        // No poll of the service is slow: the slow-poll counts do not point
        // at it; the auditor's polls after the clients are done do.
        let slow: u64 = ["handler", "refresher", "auditor"]
            .iter()
            .map(|k| mon.metrics(k).total_slow_poll_count)
            .sum();
        let after = m[1].auditor_polls_after;
        if slow > 5 || after < 100 {
            return Err(format!("slow polls {slow}, auditor polls after {after}"));
        }
        Ok(())
    });
    within_three_tries::<fixed::Sound>(&QUEUE, |_, m, _| {
        let after = m[1].auditor_polls_after;
        if after > 80 {
            return Err(format!("auditor polls after the last answer: {after}"));
        }
        Ok(())
    });
}

fn a_lock_held_across_an_await_stops_every_task_and_the_thread_sleeps() {
    let claim = judged(&LOCK, false);
    within_three_tries::<broken::Lock>(&LOCK, |f, m, _| {
        claim(f)?;
        // The steady workload has misses: the service stops there.
        let Some(stuck) = &m[0].stuck else {
            return Err("the steady workload's service thread ended".into());
        };
        // No poll of any kind ended in the seconds the harness waited: the
        // monitors' counts stop (a slow poll would end, and count).
        if stuck.polls > 0 {
            return Err(format!("{} polls ended meanwhile", stuck.polls));
        }
        // Asleep, not computing: blocked on the lock.
        if stuck.cpu.is_some_and(|c| c > Duration::from_millis(20)) {
            return Err(format!("the thread used {:?} of CPU", stuck.cpu));
        }
        if stuck.state.is_some_and(|s| s != 'S') {
            return Err(format!("the thread's state was {:?}", stuck.state));
        }
        Ok(())
    });
}

fn a_lost_waker_leaves_handlers_never_polled_again_nor_ended() {
    let claim = judged(&LOST, false);
    within_three_tries::<broken::Lost>(&LOST, |f, m, mon| {
        claim(f)?;
        // In the burst: the handlers the clients gave up on were first
        // polled, never ended, and never polled again; nothing held the
        // thread meanwhile.
        let burst = &m[1];
        if burst.handlers_left < 1 || burst.handlers_left < u64::from(burst.lost) {
            return Err(format!(
                "handlers left {}, requests lost {}",
                burst.handlers_left, burst.lost
            ));
        }
        let slow: u64 = ["handler", "refresher", "auditor"]
            .iter()
            .map(|k| mon.metrics(k).total_slow_poll_count)
            .sum();
        if slow > 5 || burst.stuck.is_some() {
            return Err(format!("slow polls {slow}, stuck {:?}", burst.stuck));
        }
        Ok(())
    });
}

fn the_fixes_meet_the_fixed_claim() {
    within_three_tries::<fixed::Counted>(&LOCK, |f, _, _| judged(&LOCK, true)(f));
    within_three_tries::<fixed::Kept>(&LOST, |f, _, _| judged(&LOST, true)(f));
    within_three_tries::<fixed::Sound>(&LOST, |f, _, _| judged(&LOST, true)(f));
    within_three_tries::<fixed::Sound>(&BLOCKING, |f, _, _| judged(&BLOCKING, true)(f));
    within_three_tries::<fixed::Yielding>(&STARVE, |f, _, _| judged(&STARVE, true)(f));
}

/// One test, which runs each check in turn: a run counts the threads that
/// start while it runs, and the test harness starts a thread for each test
/// as another ends.
#[test]
fn every_check_in_turn() {
    watchdog(Duration::from_secs(500));
    a_blocking_handler_is_the_kind_with_the_slow_polls();
    a_loop_that_never_yields_is_the_refresher_s_slow_polls_and_everyone_else_s_long_delays();
    an_unbounded_queue_keeps_the_auditor_busy_after_the_last_answer();
    a_lock_held_across_an_await_stops_every_task_and_the_thread_sleeps();
    a_lost_waker_leaves_handlers_never_polled_again_nor_ended();
    the_fixes_meet_the_fixed_claim();
}
