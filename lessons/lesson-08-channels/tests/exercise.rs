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
#[path = "fixtures/backpressure/fix_producer_task.rs"]
mod fix_producer_task;

#[allow(dead_code)]
#[path = "fixtures/close/bug_abort_after_a_grace.rs"]
mod bug_abort_after_a_grace;
#[allow(dead_code)]
#[path = "fixtures/close/bug_count_to_jobs.rs"]
mod bug_count_to_jobs;
#[allow(dead_code)]
#[path = "fixtures/close/bug_last_sender_after_a_job.rs"]
mod bug_last_sender_after_a_job;
#[allow(dead_code)]
#[path = "fixtures/close/bug_last_sender_before_a_wait.rs"]
mod bug_last_sender_before_a_wait;
#[allow(dead_code)]
#[path = "fixtures/close/bug_producer_gets_the_original.rs"]
mod bug_producer_gets_the_original;
#[allow(dead_code)]
#[path = "fixtures/close/bug_spin_on_the_worker.rs"]
mod bug_spin_on_the_worker;
#[allow(dead_code)]
#[path = "fixtures/close/bug_stop_after_a_long_silence.rs"]
mod bug_stop_after_a_long_silence;
#[allow(dead_code)]
#[path = "fixtures/close/bug_stop_after_a_silence.rs"]
mod bug_stop_after_a_silence;
#[allow(dead_code)]
#[path = "fixtures/close/bug_stop_on_an_empty_queue.rs"]
mod bug_stop_on_an_empty_queue;
#[allow(dead_code)]
#[path = "fixtures/close/bug_weak_requeue.rs"]
mod bug_weak_requeue;
#[allow(dead_code)]
#[path = "fixtures/close/bug_worker_left_behind.rs"]
mod bug_worker_left_behind;
#[allow(dead_code)]
#[path = "fixtures/close/fix_drop_the_retry_sender.rs"]
mod fix_drop_the_retry_sender;
#[allow(dead_code)]
#[path = "fixtures/close/fix_local_queue.rs"]
mod fix_local_queue;
#[allow(dead_code)]
#[path = "fixtures/close/fix_retry_in_place.rs"]
mod fix_retry_in_place;
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

/// Measures `run` on a runtime of its own, with paused time: tasks a wrong
/// fix leaves behind stay with it, and do not change what the next one
/// counts.
fn session(run: impl AsyncFn()) -> (Observed, Facts) {
    let facts = Facts::for_test(&close::SPEC);
    let mut rng = Rng::for_scenario("close");
    let shapes = close::shapes(&mut rng);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a paused runtime builds");
    let measured = close::measure(&facts, &shapes, run);
    let observed = match runtime.block_on(async { tokio::time::timeout(LIMIT, measured).await }) {
        Ok(()) => Observed::Completes,
        Err(_) => Observed::timed_out(LIMIT),
    };
    (observed, facts)
}

#[test]
fn the_close_grader_tells_every_fix_from_every_form_of_the_bug() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &close::SPEC);
    let (o, f) = session(fixed::job_session);
    assert_eq!(f.get("stop_lag"), Some(0.0), "{:?}", f.values());
    grader.assert_fixed("the reference fix", o, &f);
    let (o, f) = session(fix_local_queue::job_session);
    grader.assert_fixed("the failed jobs in a VecDeque", o, &f);
    let (o, f) = session(fix_drop_the_retry_sender::job_session);
    grader.assert_fixed("the retry channel's sender dropped", o, &f);
    let (o, f) = session(fix_retry_in_place::job_session);
    grader.assert_fixed("a failed job tried again in place", o, &f);

    let (o, f) = session(broken::job_session);
    grader.assert_bug("the reference bug", o, &f);
    for (what, o, f) in [
        ("the untouched exercise", session(start_close::job_session)),
        (
            "the producer given the original sender",
            session(bug_producer_gets_the_original::job_session),
        ),
    ]
    .map(|(what, (o, f))| (what, o, f))
    {
        assert_eq!(f.get("jobs_done"), Some(1.0), "{what}: {:?}", f.values());
        grader.assert_diagnosed(what, o.clone(), &f, &["own-sender"]);
        grader.assert_bug(what, o, &f);
    }
    // A worker that keeps its sender and counts the senders left stops in
    // the first two sessions (the last job is done after the producer is
    // gone), and waits for ever in the third, whose producer goes while
    // the worker is waiting: every job done, two sessions of three started.
    for (what, o, f) in [
        (
            "a check for the last sender after each job",
            session(bug_last_sender_after_a_job::job_session),
        ),
        (
            "a check for the last sender before each wait",
            session(bug_last_sender_before_a_wait::job_session),
        ),
    ]
    .map(|(what, (o, f))| (what, o, f))
    {
        assert_eq!(f.get("jobs_done"), Some(1.0), "{what}: {:?}", f.values());
        assert_eq!(
            f.get("sessions_over"),
            Some(2.0 / 3.0),
            "{what}: {:?}",
            f.values()
        );
        grader.assert_diagnosed(what, o, &f, &["own-sender"]);
    }
    // A count from the constant hangs in the first session, which has
    // fewer jobs.
    let (o, f) = session(bug_count_to_jobs::job_session);
    grader.assert_diagnosed("a count to JOBS", o, &f, &["own-sender"]);

    // A worker that gives up after 100 ms of silence misses the jobs after
    // the long pause; one that waits 400 ms does every job, but returns
    // 400 ms after the last: `stop_lag`, exactly, on paused time.
    let (o, f) = session(bug_stop_after_a_silence::job_session);
    assert!(f.get("jobs_done").unwrap() < 1.0, "{:?}", f.values());
    grader.assert_diagnosed(
        "a stop after 100 ms of silence",
        o,
        &f,
        &["stopped-early", "waited-for-silence", "left-running"],
    );
    let (o, f) = session(bug_stop_after_a_long_silence::job_session);
    assert_eq!(f.get("jobs_done"), Some(1.0), "{:?}", f.values());
    assert!(f.get("stop_lag").unwrap() > 1.0, "{:?}", f.values());
    grader.assert_diagnosed(
        "a stop after 400 ms of silence",
        o,
        &f,
        &["waited-for-silence"],
    );
    let (o, f) = session(bug_stop_on_an_empty_queue::job_session);
    grader.assert_diagnosed(
        "a stop on an empty queue",
        o,
        &f,
        &["stopped-early", "left-running"],
    );
    let (o, f) = session(bug_weak_requeue::job_session);
    // Each session's last job at least, and any other that fails once
    // the producer is done.
    assert!(f.get("lost").unwrap() >= 3.0, "{:?}", f.values());
    grader.assert_diagnosed("a weak sender for the retries", o, &f, &["lost-a-retry"]);
    let (o, f) = session(bug_abort_after_a_grace::job_session);
    assert!(f.get("lost").unwrap() >= 1.0, "{:?}", f.values());
    grader.assert_diagnosed(
        "the worker aborted 100 ms after the producer",
        o,
        &f,
        &["lost-a-retry", "waited-for-silence"],
    );
    let (o, f) = session(bug_worker_left_behind::job_session);
    assert!(f.get("left_running").unwrap() >= 1.0, "{:?}", f.values());
    grader.assert_diagnosed(
        "the worker left behind",
        o,
        &f,
        &["stopped-early", "left-running"],
    );
}

/// Runs `measure` on a real-time one-thread runtime: a spin never lets
/// paused time move (the clock moves only when nothing is left to run).
fn on_real_time(measure: impl FnOnce() + Send + 'static) -> Observed {
    observe_within(Duration::from_secs(20), measure)
}

/// A session that waits for its worker by checking and yielding is
/// polled again at once after every poll, while the jobs are tried.
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
            bug_spin_on_the_worker::job_session,
        ));
    });
    assert!(f_get(&facts, "polls_per_try") > 4.0, "{:?}", facts.values());
    grader.assert_diagnosed(
        "a spin until the worker is done",
        o.clone(),
        &facts,
        &["checks-in-a-loop"],
    );
    grader.assert_not_fixed("a spin until the worker is done", o, &facts);
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

/// The session of a run (from `seed`) whose producer keeps its sender a
/// while after its last job, measured alone on paused time.
fn lingering(seed: u64, run: impl AsyncFn()) -> (Observed, Facts) {
    let facts = Facts::for_test(&close::SPEC);
    let shapes: Vec<_> = close::shapes(&mut Rng::new(seed))
        .into_iter()
        .filter(|s| s.producer_ends.is_some())
        .collect();
    assert_eq!(shapes.len(), 1, "one session whose producer lingers");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a paused runtime builds");
    let measured = close::measure(&facts, &shapes, run);
    let observed = match runtime.block_on(async { tokio::time::timeout(LIMIT, measured).await }) {
        Ok(()) => Observed::Completes,
        Err(_) => Observed::timed_out(LIMIT),
    };
    (observed, facts)
}

/// In the session whose producer keeps its sender a while after its last
/// job, every correct worker returns as soon as the producer goes, and a
/// worker that counts the senders left waits for ever, whatever the seed:
/// the worker is idle when the producer goes.
#[test]
fn the_lingering_producer_catches_a_count_of_senders_in_every_run() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &close::SPEC);
    for seed in 0..30 {
        for (what, (o, f)) in [
            ("the reference fix", lingering(seed, fixed::job_session)),
            (
                "the failed jobs in a VecDeque",
                lingering(seed, fix_local_queue::job_session),
            ),
            (
                "the retry channel's sender dropped",
                lingering(seed, fix_drop_the_retry_sender::job_session),
            ),
            (
                "a failed job tried again in place",
                lingering(seed, fix_retry_in_place::job_session),
            ),
        ] {
            assert_eq!(f.get("stop_lag"), Some(0.0), "{what}, seed {seed}");
            grader.assert_fixed(&format!("{what}, seed {seed}"), o, &f);
        }
        for (what, (o, f)) in [
            (
                "a check for the last sender after each job",
                lingering(seed, bug_last_sender_after_a_job::job_session),
            ),
            (
                "a check for the last sender before each wait",
                lingering(seed, bug_last_sender_before_a_wait::job_session),
            ),
        ] {
            assert_eq!(f.get("jobs_done"), Some(1.0), "{what}, seed {seed}");
            grader.assert_bug(&format!("{what}, seed {seed}"), o, &f);
        }
    }
}
