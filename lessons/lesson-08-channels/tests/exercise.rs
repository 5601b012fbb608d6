//! The graders of lesson 08 grade, on paused tokio time: the untouched
//! exercises, the lesson's fixes, other fixes written differently, and
//! other forms of the bug, each measured by the same harness under a run's
//! two workloads. A session still waiting after ten seconds of paused time
//! hangs.

use lesson_08::{Answers, Consumed, backpressure, broken, close, fixed, requests};
use shared::grade::{Grader, Observed, observe_within};
use shared::lesson::Facts;
use shared::work::shape::Rng;
use std::time::Duration;

#[allow(dead_code)]
#[path = "fixtures/close/bug_abort_after_a_grace.rs"]
mod bug_abort_after_a_grace;
#[allow(dead_code)]
#[path = "fixtures/backpressure/bug_bounded_calls_only.rs"]
mod bug_bounded_calls_only;
#[allow(dead_code)]
#[path = "fixtures/close/bug_count_to_jobs.rs"]
mod bug_count_to_jobs;
#[allow(dead_code)]
#[path = "fixtures/backpressure/bug_drop_when_full.rs"]
mod bug_drop_when_full;
#[allow(dead_code)]
#[path = "fixtures/close/bug_last_sender_after_a_job.rs"]
mod bug_last_sender_after_a_job;
#[allow(dead_code)]
#[path = "fixtures/close/bug_last_sender_before_a_wait.rs"]
mod bug_last_sender_before_a_wait;
#[allow(dead_code)]
#[path = "fixtures/backpressure/bug_one_at_a_time.rs"]
mod bug_one_at_a_time;
#[allow(dead_code)]
#[path = "fixtures/close/bug_producer_gets_the_original.rs"]
mod bug_producer_gets_the_original;
#[allow(dead_code)]
#[path = "fixtures/backpressure/bug_replies_to_an_unbounded_taker.rs"]
mod bug_replies_to_an_unbounded_taker;
#[allow(dead_code)]
#[path = "fixtures/backpressure/bug_requests_made_first.rs"]
mod bug_requests_made_first;
#[allow(dead_code)]
#[path = "fixtures/close/bug_spin_on_the_worker.rs"]
mod bug_spin_on_the_worker;
#[allow(dead_code)]
#[path = "fixtures/backpressure/bug_spins_on_try_recv.rs"]
mod bug_spins_on_try_recv;
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
#[path = "fixtures/backpressure/bug_unordered.rs"]
mod bug_unordered;
#[allow(dead_code)]
#[path = "fixtures/close/bug_weak_requeue.rs"]
mod bug_weak_requeue;
#[allow(dead_code)]
#[path = "fixtures/backpressure/bug_window_fifth.rs"]
mod bug_window_fifth;
#[allow(dead_code)]
#[path = "fixtures/close/bug_worker_left_behind.rs"]
mod bug_worker_left_behind;
#[allow(dead_code)]
#[path = "fixtures/backpressure/fix_buffered.rs"]
mod fix_buffered;
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
#[path = "fixtures/backpressure/fix_select_window.rs"]
mod fix_select_window;
#[allow(dead_code)]
#[path = "fixtures/backpressure/fix_semaphore.rs"]
mod fix_semaphore;
#[allow(dead_code)]
#[path = "fixtures/backpressure/fix_window_in_a_deque.rs"]
mod fix_window_in_a_deque;
#[allow(dead_code)]
#[path = "../exercise/start/close.rs"]
mod start_close;

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

async fn flooded(run: impl AsyncFn() -> Consumed) -> Facts {
    let facts = Facts::for_test(&backpressure::SPEC);
    let mut rng = Rng::for_scenario("backpressure");
    let shapes = backpressure::shapes(&mut rng);
    backpressure::measure(&facts, &shapes, &mut rng, run).await;
    facts
}

/// The chapter's `backpressure` scenario, its fix and its bug (the
/// exercise `backpressure` is judged by the `requests` scenario, below).
#[tokio::test(start_paused = true)]
async fn the_backpressure_scenario_tells_its_fix_from_its_bug() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &backpressure::SPEC);
    let done = || Observed::Completes;
    grader.assert_fixed("the reference fix", done(), &flooded(fixed::flood).await);
    grader.assert_bug("the reference bug", done(), &flooded(broken::flood).await);
}

async fn asked(seed: u64, run: impl AsyncFn(Answers)) -> Facts {
    let facts = Facts::for_test(&requests::SPEC);
    let mut rng = Rng::new(seed);
    let shapes = requests::shapes(&mut rng);
    requests::measure(&facts, &shapes, &mut rng, run).await;
    facts
}

const SEEDS: [u64; 3] = [5, 6, 2025];

/// Every fact of `requests` but `awake_share`, which watches the threads
/// on the harness's runtime of 2 threads, in real time (`tests/spins.rs`):
/// on paused time, nothing ever sleeps.
const PAUSED: &[&str] = &[
    "most_alive",
    "peak_ratio",
    "lost",
    "wrong_answers",
    "time_ratio",
    "polls_per_request",
    "hold_share",
];

#[tokio::test(start_paused = true)]
async fn the_requests_grader_tells_every_fix_from_every_form_of_the_bug() {
    // On paused time every fact is exact, the time too.
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &requests::SPEC).only(PAUSED);
    let done = || Observed::Completes;
    for seed in SEEDS {
        let fixed = |what: &str, facts: &Facts| {
            assert!(
                grader.diagnoses(done(), facts).is_empty(),
                "{what}: {:?}",
                facts.values()
            );
            grader.assert_fixed(&format!("{what} (seed {seed})"), done(), facts)
        };
        fixed("the reference fix", &asked(seed, fixed::ask_all).await);
        fixed(
            "a buffered stream",
            &asked(seed, fix_buffered::ask_all).await,
        );
        fixed(
            "a permit per request, given back with its reply",
            &asked(seed, fix_semaphore::ask_all).await,
        );
        fixed(
            "a window in a VecDeque",
            &asked(seed, fix_window_in_a_deque::ask_all).await,
        );
        fixed(
            "one loop, select! between the oldest reply and room to send",
            &asked(seed, fix_select_window::ask_all).await,
        );

        let wrong = |what: &str, named: &[&str], facts: &Facts| {
            assert_eq!(grader.diagnoses(done(), facts), named, "{what}");
            grader.assert_not_fixed(&format!("{what} (seed {seed})"), done(), facts)
        };
        for (what, f) in [
            ("the reference bug", asked(seed, broken::ask_all).await),
            (
                "the untouched exercise",
                asked(seed, start_backpressure::ask_all).await,
            ),
            (
                "the calls bounded, the replies taken after",
                asked(seed, bug_bounded_calls_only::ask_all).await,
            ),
            (
                "every request made first",
                asked(seed, bug_requests_made_first::ask_all).await,
            ),
        ] {
            wrong(what, &["piles-up"], &f);
            assert_eq!(f.get("lost"), Some(0.0), "{what}");
            assert_eq!(f.get("wrong_answers"), Some(0.0), "{what}");
            grader.assert_bug(&format!("{what} (seed {seed})"), done(), &f);
        }
        let one = asked(seed, bug_one_at_a_time::ask_all).await;
        wrong("one request at a time", &["one-at-a-time"], &one);
        assert!(one.get("time_ratio") >= Some(4.0), "{one:?}");
        let unordered = asked(seed, bug_unordered::ask_all).await;
        wrong(
            "the replies in the server's order",
            &["out-of-order"],
            &unordered,
        );
        let shed = asked(seed, bug_drop_when_full::ask_all).await;
        wrong("requests dropped when full", &["dropped-when-full"], &shed);
        // A fifth of 300 to 400 requests, in the third workload: 60 or
        // more alive at once, under a quarter of them.
        let fifth = asked(seed, bug_window_fifth::ask_all).await;
        wrong(
            "a window of a fifth of the requests",
            &["bound-grows-with-the-run"],
            &fifth,
        );
        assert!(fifth.get("most_alive") >= Some(60.0), "{fifth:?}");
    }
}

/// A client that looks for its replies with `try_recv` and yields until
/// they are there, in real time: a spin never lets paused time move.
#[test]
fn a_client_that_spins_is_not_a_fix() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &requests::SPEC);
    let facts = Facts::for_test(&requests::SPEC);
    let theirs = facts.clone();
    let o = on_real_time(move || {
        let mut rng = Rng::for_scenario("requests");
        let shapes = requests::shapes(&mut rng);
        lesson_08::runtime().block_on(requests::measure(
            &theirs,
            &shapes,
            &mut rng,
            bug_spins_on_try_recv::ask_all,
        ));
    });
    assert!(
        f_get(&facts, "polls_per_request") > 4.0,
        "{:?}",
        facts.values()
    );
    grader.assert_diagnosed(
        "a spin on try_recv",
        o.clone(),
        &facts,
        &["checks-in-a-loop"],
    );
    grader.assert_not_fixed("a spin on try_recv", o, &facts);
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

/// The workload whose taker of the answers is slow at times, measured as
/// the harness measures it: in real time, on its runtime of 2 threads
/// (on one thread, a taker that holds it stops everything, and nothing
/// can pile up).
fn taken_slowly(run: impl AsyncFn(Answers) + Send + 'static) -> (Observed, Facts) {
    let facts = Facts::for_test(&requests::SPEC);
    let theirs = facts.clone();
    let o = on_real_time(move || {
        let mut rng = Rng::new(8);
        let shapes: Vec<_> = requests::shapes(&mut rng)
            .into_iter()
            .filter(|s| !s.stalls.is_empty())
            .collect();
        assert_eq!(shapes.len(), 1, "one workload with a slow taker");
        lesson_08::requests_runtime().block_on(requests::measure(&theirs, &shapes, &mut rng, run));
    });
    (o, facts)
}

/// A path bounded on the requests' side only, the replies' oneshots sent
/// to the taker over an unbounded channel, keeps few alive while the
/// answers are taken at once; while the taker is busy, the replies pile
/// up in their oneshots. Every fix stays fixed: what waits for the taker
/// is bounded too. Counted, not timed.
#[test]
fn a_slow_taker_piles_up_the_replies_of_a_path_bounded_on_one_side() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &requests::SPEC).only(&[
        "peak_ratio",
        "lost",
        "wrong_answers",
        "polls_per_request",
    ]);
    let (o, f) = taken_slowly(bug_replies_to_an_unbounded_taker::ask_all);
    grader.assert_not_fixed(
        "the replies' oneshots sent unbounded to a taker",
        o.clone(),
        &f,
    );
    let named = grader.diagnoses(o, &f);
    assert!(
        named == ["piles-up-while-slow"] || named == ["piles-up"],
        "{named:?}: {:?}",
        f.values()
    );
    for (what, o, f) in [
        ("the reference fix", taken_slowly(fixed::ask_all)),
        ("a buffered stream", taken_slowly(fix_buffered::ask_all)),
        ("a permit per request", taken_slowly(fix_semaphore::ask_all)),
        (
            "a window in a VecDeque",
            taken_slowly(fix_window_in_a_deque::ask_all),
        ),
    ]
    .map(|(w, (o, f))| (w, o, f))
    {
        grader.assert_fixed(what, o, &f);
    }
}
