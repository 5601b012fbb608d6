//! The graders of lesson 08 grade, on paused tokio time: the untouched
//! exercises, the lesson's fixes, other fixes written differently, and
//! other forms of the bug, each measured by the same harness under a run's
//! two workloads. A session still waiting after ten seconds of paused time
//! hangs.

use lesson_08::{Consumed, backpressure, broken, close, fixed};
use shared::grade::{Grader, Observed, observe_within};
use shared::lesson::Facts;
use shared::work::shape::Rng;
use std::time::Duration;

#[allow(dead_code)]
#[path = "fixtures/backpressure/bug_collect_first.rs"]
mod bug_collect_first;
#[allow(dead_code)]
#[path = "fixtures/backpressure/bug_paced_producer.rs"]
mod bug_paced_producer;
#[allow(dead_code)]
#[path = "fixtures/backpressure/bug_side_queue.rs"]
mod bug_side_queue;
#[allow(dead_code)]
#[path = "fixtures/backpressure/bug_spawned_spin.rs"]
mod bug_spawned_spin;
#[allow(dead_code)]
#[path = "fixtures/backpressure/bug_task_per_message.rs"]
mod bug_task_per_message;
#[allow(dead_code)]
#[path = "fixtures/backpressure/bug_try_send_spin.rs"]
mod bug_try_send_spin;
#[allow(dead_code)]
#[path = "fixtures/close/bug_wait_for_the_producer.rs"]
mod bug_wait_for_the_producer;
#[allow(dead_code)]
#[path = "fixtures/backpressure/fix_producer_task.rs"]
mod fix_producer_task;
#[allow(dead_code)]
#[path = "fixtures/close/fix_sender_in_a_scope.rs"]
mod fix_sender_in_a_scope;

#[allow(dead_code)]
#[path = "fixtures/close/bug_abort_the_handler.rs"]
mod bug_abort_the_handler;
#[allow(dead_code)]
#[path = "fixtures/close/bug_idle_relay.rs"]
mod bug_idle_relay;
#[allow(dead_code)]
#[path = "fixtures/close/bug_idle_relay_long.rs"]
mod bug_idle_relay_long;
#[allow(dead_code)]
#[path = "fixtures/close/bug_sender_kept_in_a_struct.rs"]
mod bug_sender_kept_in_a_struct;
#[allow(dead_code)]
#[path = "fixtures/close/bug_spin_on_the_handler.rs"]
mod bug_spin_on_the_handler;
#[allow(dead_code)]
#[path = "fixtures/close/fix_drop_original.rs"]
mod fix_drop_original;
#[allow(dead_code)]
#[path = "fixtures/close/fix_producer_awaited_first.rs"]
mod fix_producer_awaited_first;
#[allow(dead_code)]
#[path = "../exercise/start/close.rs"]
mod start_close;

#[allow(dead_code)]
#[path = "fixtures/backpressure/bug_drop_when_full.rs"]
mod bug_drop_when_full;
#[allow(dead_code)]
#[path = "fixtures/backpressure/bug_huge_bound.rs"]
mod bug_huge_bound;
#[allow(dead_code)]
#[path = "fixtures/backpressure/fix_capacity_one.rs"]
mod fix_capacity_one;
#[allow(dead_code)]
#[path = "fixtures/backpressure/fix_reserve_a_permit.rs"]
mod fix_reserve_a_permit;
#[allow(dead_code)]
#[path = "../exercise/start/backpressure.rs"]
mod start_backpressure;

const LIMIT: Duration = Duration::from_secs(10);

async fn session(run: impl AsyncFn() -> u32) -> (Observed, Facts) {
    let facts = Facts::for_test(&close::SPEC);
    let mut rng = Rng::for_scenario("close");
    let shapes = close::shapes(&mut rng);
    let measured = close::measure(&facts, &shapes, &mut rng, run);
    let observed = match tokio::time::timeout(LIMIT, measured).await {
        Ok(()) => Observed::Completes,
        Err(_) => Observed::timed_out(LIMIT),
    };
    (observed, facts)
}

#[tokio::test(start_paused = true)]
async fn the_close_grader_tells_every_fix_from_every_form_of_the_bug() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &close::SPEC);
    let (o, f) = session(fixed::ping_session).await;
    assert_eq!(f.get("close_lag"), Some(0.0), "{:?}", f.values());
    grader.assert_fixed("the reference fix", o, &f);
    let (o, f) = session(fix_drop_original::ping_session).await;
    grader.assert_fixed("the original dropped", o, &f);
    let (o, f) = session(fix_producer_awaited_first::ping_session).await;
    grader.assert_fixed("the producer run in the session", o, &f);
    let (o, f) = session(fix_sender_in_a_scope::ping_session).await;
    grader.assert_fixed("the original sender in an inner block", o, &f);

    let (o, f) = session(broken::ping_session).await;
    grader.assert_bug("the reference bug", o, &f);
    let (o, f) = session(start_close::ping_session).await;
    grader.assert_diagnosed("the untouched exercise", o.clone(), &f, &["sender-alive"]);
    grader.assert_bug("the untouched exercise", o, &f);
    let (o, f) = session(bug_sender_kept_in_a_struct::ping_session).await;
    grader.assert_diagnosed(
        "a spare sender in a struct",
        o.clone(),
        &f,
        &["sender-alive"],
    );
    grader.assert_bug("a spare sender in a struct", o, &f);
    let (o, f) = session(bug_abort_the_handler::ping_session).await;
    grader.assert_diagnosed(
        "a handler aborted, not finished",
        o.clone(),
        &f,
        &["stopped-early"],
    );
    grader.assert_not_fixed("a handler aborted, not finished", o, &f);
    let (o, f) = session(bug_wait_for_the_producer::ping_session).await;
    assert_eq!(f.get("handler_done"), Some(0.0), "{:?}", f.values());
    grader.assert_diagnosed(
        "the producer waited for instead",
        o.clone(),
        &f,
        &["stopped-early"],
    );
    grader.assert_not_fixed("the producer waited for instead", o, &f);

    // A relay that guesses the producer is done after 100 ms of silence
    // gives up during the long pause, and its handler misses the rest;
    // one that waits 400 ms gets every ping, but its handler ends 400 ms
    // after the producer, more than the whole pause.
    let (o, f) = session(bug_idle_relay::ping_session).await;
    assert!(f.get("handler_done").unwrap() < 1.0, "{:?}", f.values());
    grader.assert_diagnosed(
        "a relay closed after 100 ms of silence",
        o.clone(),
        &f,
        &["stopped-early"],
    );
    grader.assert_not_fixed("a relay closed after 100 ms of silence", o, &f);
    let (o, f) = session(bug_idle_relay_long::ping_session).await;
    assert_eq!(f.get("handler_done"), Some(1.0), "{:?}", f.values());
    assert!(f.get("close_lag").unwrap() > 1.0, "{:?}", f.values());
    grader.assert_not_fixed("a relay closed after 400 ms of silence", o, &f);
}

/// Runs `measure` on a real-time one-thread runtime: a spin never lets
/// paused time move (the clock moves only when nothing is left to run).
fn on_real_time(measure: impl FnOnce() + Send + 'static) -> Observed {
    observe_within(Duration::from_secs(20), measure)
}

/// A session that waits for its handler by checking and yielding is
/// polled again at once after every poll, while the pings trickle in.
#[test]
fn a_session_that_spins_is_not_a_fix() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &close::SPEC);
    let facts = Facts::for_test(&close::SPEC);
    let theirs = facts.clone();
    let o = on_real_time(move || {
        let mut rng = Rng::for_scenario("close");
        let shapes = close::shapes(&mut rng);
        lesson_08::runtime().block_on(close::measure(
            &theirs,
            &shapes,
            &mut rng,
            bug_spin_on_the_handler::ping_session,
        ));
    });
    assert!(
        f_get(&facts, "polls_per_ping") > 4.0,
        "{:?}",
        facts.values()
    );
    grader.assert_diagnosed(
        "a spin until the handler is done",
        o.clone(),
        &facts,
        &["checks-in-a-loop"],
    );
    grader.assert_not_fixed("a spin until the handler is done", o, &facts);
}

fn f_get(f: &Facts, name: &str) -> f64 {
    f.get(name)
        .unwrap_or_else(|| panic!("{name} was not measured: {:?}", f.values()))
}

/// A producer that spins on `try_send`, yielding, while the channel is
/// full, in `flood` or in a task of its own: the runtime's thread never
/// goes idle, and `flood`, if it spins there, is polled again at once
/// after every poll.
#[test]
fn a_producer_that_spins_is_not_a_fix() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &backpressure::SPEC);
    let run = |flood: fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = Consumed>>>| {
        let facts = Facts::for_test(&backpressure::SPEC);
        let theirs = facts.clone();
        let o = on_real_time(move || {
            let mut rng = Rng::for_scenario("backpressure");
            let shapes = backpressure::shapes(&mut rng);
            lesson_08::runtime().block_on(backpressure::measure(&theirs, &shapes, &mut rng, flood));
        });
        (o, facts)
    };
    let (o, f) = run(|| Box::pin(bug_try_send_spin::flood()));
    assert!(f_get(&f, "polls_per_message") > 4.0, "{:?}", f.values());
    assert!(f_get(&f, "idle_per_message") < 0.5, "{:?}", f.values());
    grader.assert_not_fixed("a spin on try_send in flood", o, &f);
    let (o, f) = run(|| Box::pin(bug_spawned_spin::flood()));
    assert!(f_get(&f, "idle_per_message") < 0.5, "{:?}", f.values());
    grader.assert_not_fixed("a spin on try_send in a task", o, &f);
}

async fn flooded(run: impl AsyncFn() -> Consumed) -> Facts {
    let facts = Facts::for_test(&backpressure::SPEC);
    let mut rng = Rng::for_scenario("backpressure");
    let shapes = backpressure::shapes(&mut rng);
    backpressure::measure(&facts, &shapes, &mut rng, run).await;
    facts
}

#[tokio::test(start_paused = true)]
async fn the_backpressure_grader_tells_every_fix_from_every_form_of_the_bug() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &backpressure::SPEC);
    let done = || Observed::Completes;
    grader.assert_fixed("the reference fix", done(), &flooded(fixed::flood).await);
    grader.assert_fixed(
        "room for one",
        done(),
        &flooded(fix_capacity_one::flood).await,
    );
    grader.assert_fixed(
        "a reserved slot per message",
        done(),
        &flooded(fix_reserve_a_permit::flood).await,
    );
    grader.assert_fixed(
        "the producer spawned, the consumer here",
        done(),
        &flooded(fix_producer_task::flood).await,
    );

    grader.assert_bug("the reference bug", done(), &flooded(broken::flood).await);
    grader.assert_bug(
        "the untouched exercise",
        done(),
        &flooded(start_backpressure::flood).await,
    );
    grader.assert_bug(
        "a bound larger than everything sent",
        done(),
        &flooded(bug_huge_bound::flood).await,
    );
    grader.assert_not_fixed(
        "messages dropped when full",
        done(),
        &flooded(bug_drop_when_full::flood).await,
    );
    for (what, f) in [
        (
            "a side queue beside a bounded channel",
            flooded(bug_side_queue::flood).await,
        ),
        (
            "a task per message",
            flooded(bug_task_per_message::flood).await,
        ),
        (
            "a producer paced by a guess",
            flooded(bug_paced_producer::flood).await,
        ),
        (
            "every message made first",
            flooded(bug_collect_first::flood).await,
        ),
    ] {
        assert_eq!(f.get("lost"), Some(0.0), "{what} loses nothing");
        if let Some(ids) = diagnosed_as(what) {
            assert_eq!(grader.diagnoses(done(), &f), ids, "{what}");
        }
        grader.assert_not_fixed(what, done(), &f);
    }
}

/// The diagnoses a learner is shown for each wrong fix named here (its
/// manifest's `[[exercise.diagnosis]]`); `None`: not pinned down, as its
/// facts vary with the machine or the run.
fn diagnosed_as(what: &str) -> Option<&'static [&'static str]> {
    Some(match what {
        "a side queue beside a bounded channel" => &["no-backpressure"],
        "a task per message" => &["no-backpressure"],
        "every message made first" => &["no-backpressure"],
        _ => return None,
    })
}
