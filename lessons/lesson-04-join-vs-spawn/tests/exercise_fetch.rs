//! The `fetch` grader grades, on paused tokio time with the fake server
//! (each request takes exactly its latency of tokio's clock, so every
//! timing fact is exact): the untouched exercise, the lesson's fixes, other
//! fixes written differently, and other forms of the bug, each measured by
//! the same harness under both of a run's workloads. One wrong fix blocks
//! its thread, which paused time cannot show (the clock would never move):
//! it is judged against the real server, in real time, on a fact that has
//! a lower bound on any machine.

use lesson_04::fetch::{self, Backend, Shape};
use lesson_04::{Api, Todo, broken, fixed};
use shared::grade::{Grader, Observed};
use shared::lesson::Facts;
use shared::work::shape::Rng;

#[allow(dead_code)]
#[path = "fixtures/fetch/bug_block_on.rs"]
mod bug_block_on;
#[allow(dead_code)]
#[path = "fixtures/fetch/bug_pairs.rs"]
mod bug_pairs;
#[allow(dead_code)]
#[path = "fixtures/fetch/bug_skip_the_server.rs"]
mod bug_skip_the_server;
#[allow(dead_code)]
#[path = "fixtures/fetch/bug_sleep_between_checks.rs"]
mod bug_sleep_between_checks;
#[allow(dead_code)]
#[path = "fixtures/fetch/bug_spawn_and_await_at_once.rs"]
mod bug_spawn_and_await_at_once;
#[allow(dead_code)]
#[path = "fixtures/fetch/bug_spin_until_finished.rs"]
mod bug_spin_until_finished;
#[allow(dead_code)]
#[path = "fixtures/fetch/bug_swallow_errors.rs"]
mod bug_swallow_errors;
#[allow(dead_code)]
#[path = "fixtures/fetch/bug_unordered.rs"]
mod bug_unordered;
#[allow(dead_code)]
#[path = "fixtures/fetch/fix_buffered_stream.rs"]
mod fix_buffered_stream;
#[allow(dead_code)]
#[path = "fixtures/fetch/fix_join_set_in_place.rs"]
mod fix_join_set_in_place;
#[allow(dead_code)]
#[path = "fixtures/fetch/fix_spawn_then_await.rs"]
mod fix_spawn_then_await;
#[allow(dead_code)]
#[path = "fixtures/fetch/fix_try_join_all.rs"]
mod fix_try_join_all;
#[allow(dead_code)]
#[path = "../exercise/start/fetch.rs"]
mod start;

fn shapes() -> Vec<Shape> {
    fetch::shapes(&mut Rng::for_scenario("fetch"))
}

async fn measured(fetch_all: impl AsyncFn(&Api, &[u32]) -> anyhow::Result<Vec<Todo>>) -> Facts {
    let facts = Facts::for_test(&fetch::SPEC);
    fetch::measure(&facts, Backend::Fake, &shapes(), fetch_all).await;
    facts
}

#[tokio::test(start_paused = true)]
async fn the_fetch_grader_tells_every_fix_from_every_form_of_the_bug() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &fetch::SPEC);
    let done = || Observed::Completes;
    let f = measured(fixed::fetch_all).await;
    assert_eq!(
        f.get("fetch_ratio"),
        Some(1.0),
        "exactly the slowest latency"
    );
    grader.assert_fixed("the reference join_all", done(), &f);
    grader.assert_fixed(
        "the reference JoinSet",
        done(),
        &measured(fixed::fetch_all_join_set).await,
    );
    grader.assert_fixed(
        "try_join_all",
        done(),
        &measured(fix_try_join_all::fetch_all).await,
    );
    grader.assert_fixed(
        "spawned, then awaited in order",
        done(),
        &measured(fix_spawn_then_await::fetch_all).await,
    );
    grader.assert_fixed(
        "a buffered stream",
        done(),
        &measured(fix_buffered_stream::fetch_all).await,
    );
    grader.assert_fixed(
        "a JoinSet that puts each answer in its place",
        done(),
        &measured(fix_join_set_in_place::fetch_all).await,
    );

    let f = measured(broken::fetch_all).await;
    assert!(
        f.get("fetch_ratio").unwrap() >= 8.0,
        "at least eight latencies in a row: {:?}",
        f.values()
    );
    grader.assert_bug("the reference bug", done(), &f);
    for (what, f) in [
        ("the untouched exercise", measured(start::fetch_all).await),
        (
            "spawned and awaited at once",
            measured(bug_spawn_and_await_at_once::fetch_all).await,
        ),
    ] {
        grader.assert_bug(what, done(), &f);
        grader.assert_diagnosed(what, done(), &f, &["one-at-a-time"]);
    }
    grader.assert_diagnosed(
        "two at a time",
        done(),
        &measured(bug_pairs::fetch_all).await,
        &[],
    );
    let f = measured(bug_unordered::fetch_all).await;
    assert!(f.get("wrong_todos").unwrap() > 0.0, "{:?}", f.values());
    grader.assert_diagnosed(
        "answers in the order they arrived",
        done(),
        &f,
        &["wrong-todos"],
    );
    let f = measured(bug_skip_the_server::fetch_all).await;
    assert_eq!(
        f.get("fetch_ratio").map(|r| r < 1.0),
        Some(true),
        "fast: it never waited for an answer"
    );
    grader.assert_not_fixed("todos rebuilt instead of fetched", done(), &f);
    // The server fails one request of the third workload: a fix returns
    // the error, and a fetch that drops it returns Ok with fewer todos.
    let f = measured(bug_swallow_errors::fetch_all).await;
    assert_eq!(f.get("errors_hidden"), Some(1.0), "{:?}", f.values());
    assert_eq!(f.get("wrong_todos"), Some(0.0), "{:?}", f.values());
    grader.assert_diagnosed("a failed request dropped", done(), &f, &[]);
}

fn real(fetch_all: impl AsyncFn(&Api, &[u32]) -> anyhow::Result<Vec<Todo>>) -> Facts {
    let facts = Facts::for_test(&fetch::SPEC);
    lesson_04::runtime().block_on(fetch::measure(&facts, Backend::Http, &shapes(), fetch_all));
    facts
}

/// The real server counts the requests it answers at once, and the harness
/// records what it sent: a fix is judged fixed on those facts there too,
/// and a fix that blocks the thread holds it, in one poll, for at least the
/// slowest latency (a server never answers early), whatever the machine.
/// A fetch that waits by spinning (on paused time it would spin for ever:
/// the clock moves only when nothing is left to run) is polled thousands
/// of times per todo, and one that sleeps between checks is asleep in its
/// polls for almost all its time, on any machine.
#[test]
fn against_the_real_server_requests_are_counted_where_they_are_answered() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &fetch::SPEC);
    let exact = grader.only(&[
        "max_in_flight",
        "wrong_todos",
        "errors_hidden",
        "polls_per_todo",
    ]);
    let f = real(fixed::fetch_all);
    exact.assert_fixed("the reference join_all", Observed::Completes, &f);
    let f = real(fix_try_join_all::fetch_all);
    exact.assert_fixed("try_join_all", Observed::Completes, &f);

    let f = real(bug_spin_until_finished::fetch_all);
    assert!(f.get("polls_per_todo").unwrap() > 100.0, "{:?}", f.values());
    grader.assert_diagnosed(
        "a spin until every task finished",
        Observed::Completes,
        &f,
        &["checks-in-a-loop"],
    );
    if cfg!(target_os = "linux") {
        let f = real(bug_sleep_between_checks::fetch_all);
        assert!(f.get("asleep_share").unwrap() > 0.5, "{:?}", f.values());
        grader.assert_not_fixed("a blocking sleep between checks", Observed::Completes, &f);
    }

    let f = real(bug_block_on::fetch_all);
    assert!(
        f.get("longest_poll_ratio").unwrap() >= 1.0,
        "{:?}",
        f.values()
    );
    if cfg!(target_os = "linux") {
        // Asleep in that poll until the slowest answer came.
        assert!(
            f.get("longest_asleep_ratio").unwrap() >= 0.5,
            "{:?}",
            f.values()
        );
    }
    exact.assert_fixed(
        "block_on, on the facts it gets right",
        Observed::Completes,
        &f,
    );
    grader.assert_not_fixed("block_on, holding the thread", Observed::Completes, &f);
}

/// The first workload has at least eight todos, so the bug always takes at
/// least eight latencies there, and the fixed bound is far below; two at a
/// time misses it in each workload where the server fails nothing; and the
/// third workload has one failed request among those asked for.
#[test]
fn every_workload_separates_the_bug_from_the_fix() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &fetch::SPEC);
    let bound = |claim: &shared::contract::manifest::Expect, fact: &str| {
        claim
            .facts
            .iter()
            .find(|b| b.name == fact)
            .cloned()
            .unwrap()
    };
    let broken_min = bound(&grader.scenario().broken, "fetch_ratio").min.unwrap();
    let fixed_max = bound(&grader.scenario().fixed, "fetch_ratio").max.unwrap();
    for seed in 0..200 {
        let shapes = fetch::shapes(&mut Rng::new(seed));
        assert_eq!(shapes.len(), 3);
        let failing = &shapes[2];
        assert!(failing.fails.is_some_and(|id| failing.ids.contains(&id)));
        let steady = &shapes[0];
        let one_at_a_time = steady.latencies.iter().sum::<std::time::Duration>();
        assert!(one_at_a_time.as_secs_f64() / steady.slowest().as_secs_f64() >= broken_min);
        for s in &shapes {
            assert!(s.ids.windows(2).all(|w| w[0] < w[1]), "{s:?}");
            assert_eq!(s.ids.len(), s.latencies.len());
            if s.fails.is_some() {
                continue;
            }
            // Two at a time takes at least half as many waits as todos.
            let pairs = s.ids.len().div_ceil(2) as f64;
            let shortest = s.latencies.iter().min().unwrap().as_secs_f64();
            assert!(
                pairs * shortest / s.slowest().as_secs_f64() > fixed_max,
                "{s:?}"
            );
        }
    }
}
