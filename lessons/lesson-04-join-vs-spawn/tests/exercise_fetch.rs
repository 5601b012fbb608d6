//! The `fetch` exercise's grader (scenario `limit`) grades, on paused tokio
//! time with the fake server (each request takes exactly its latency of
//! tokio's clock, so every timing fact is exact): the untouched exercise,
//! the lesson's fix, other fixes written differently, and other forms of
//! the bug, each measured by the same harness under both of a run's
//! workloads. Wrong fixes that block the thread or spin cannot be run on
//! paused time (the clock would never move): they are judged against the
//! real server, in real time, on facts with a bound any machine keeps.

use lesson_04::limit::{self, Shape};
use lesson_04::{Api, Todo, broken, fetch::Backend, fixed};
use shared::grade::{Grader, Observed};
use shared::lesson::Facts;
use shared::work::shape::Rng;

#[allow(dead_code)]
#[path = "fixtures/fetch/bug_batches.rs"]
mod bug_batches;
#[allow(dead_code)]
#[path = "fixtures/fetch/bug_block_on.rs"]
mod bug_block_on;
#[allow(dead_code)]
#[path = "fixtures/fetch/bug_buffered_in_order.rs"]
mod bug_buffered_in_order;
#[allow(dead_code)]
#[path = "fixtures/fetch/bug_errors_filtered_out.rs"]
mod bug_errors_filtered_out;
#[allow(dead_code)]
#[path = "fixtures/fetch/bug_one_at_a_time.rs"]
mod bug_one_at_a_time;
#[allow(dead_code)]
#[path = "fixtures/fetch/bug_one_permit_too_many.rs"]
mod bug_one_permit_too_many;
#[allow(dead_code)]
#[path = "fixtures/fetch/bug_order_of_arrival.rs"]
mod bug_order_of_arrival;
#[allow(dead_code)]
#[path = "fixtures/fetch/bug_permit_dropped_at_once.rs"]
mod bug_permit_dropped_at_once;
#[allow(dead_code)]
#[path = "fixtures/fetch/bug_skip_the_server.rs"]
mod bug_skip_the_server;
#[allow(dead_code)]
#[path = "fixtures/fetch/bug_sorted_by_id.rs"]
mod bug_sorted_by_id;
#[allow(dead_code)]
#[path = "fixtures/fetch/bug_try_acquire_spin.rs"]
mod bug_try_acquire_spin;
#[allow(dead_code)]
#[path = "fixtures/fetch/fix_buffer_unordered_in_place.rs"]
mod fix_buffer_unordered_in_place;
#[allow(dead_code)]
#[path = "fixtures/fetch/fix_join_set_refill.rs"]
mod fix_join_set_refill;
#[allow(dead_code)]
#[path = "fixtures/fetch/fix_workers.rs"]
mod fix_workers;
#[allow(dead_code)]
#[path = "../exercise/start/fetch.rs"]
mod start;

fn shapes() -> Vec<Shape> {
    limit::shapes(&mut Rng::for_scenario("limit"))
}

async fn measured(
    fetch_all: impl AsyncFn(&Api, &[u32], usize) -> anyhow::Result<Vec<Todo>>,
) -> Facts {
    let facts = Facts::for_test(&limit::SPEC);
    limit::measure(&facts, Backend::Fake, &shapes(), fetch_all).await;
    facts
}

#[tokio::test(start_paused = true)]
async fn the_limit_grader_tells_every_fix_from_every_form_of_the_bug() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &limit::SPEC);
    let done = || Observed::Completes;
    let f = measured(fixed::fetch_limited).await;
    assert_eq!(f.get("fetch_ratio"), Some(1.0), "exactly the ideal");
    grader.assert_fixed("the reference semaphore", done(), &f);
    for (what, f) in [
        (
            "buffer_unordered, each answer put in its place",
            measured(fix_buffer_unordered_in_place::fetch_all).await,
        ),
        (
            "a JoinSet refilled as each request finishes",
            measured(fix_join_set_refill::fetch_all).await,
        ),
        (
            "`limit` workers taking the next id",
            measured(fix_workers::fetch_all).await,
        ),
    ] {
        assert_eq!(f.get("fetch_ratio"), Some(1.0), "{what}: {:?}", f.values());
        grader.assert_fixed(what, done(), &f);
    }

    // Over the limit: every request at once (the chapter's join_all, the
    // untouched exercise), a permit dropped at once, one permit too many.
    for (what, f) in [
        ("the reference bug", measured(broken::fetch_limited).await),
        ("the untouched exercise", measured(start::fetch_all).await),
        (
            "a permit dropped as soon as it is taken",
            measured(bug_permit_dropped_at_once::fetch_all).await,
        ),
    ] {
        grader.assert_bug(what, done(), &f);
        grader.assert_diagnosed(what, done(), &f, &["over-the-limit"]);
    }
    let f = measured(bug_one_permit_too_many::fetch_all).await;
    assert_eq!(f.get("over_limit"), Some(1.0), "{:?}", f.values());
    grader.assert_diagnosed("one permit too many", done(), &f, &["over-the-limit"]);

    // Within the limit, but slots left empty.
    for (what, f, least) in [
        (
            "batches of `limit`",
            measured(bug_batches::fetch_all).await,
            1.45,
        ),
        (
            "an ordered window (buffered)",
            measured(bug_buffered_in_order::fetch_all).await,
            1.45,
        ),
        (
            "one at a time",
            measured(bug_one_at_a_time::fetch_all).await,
            1.8,
        ),
    ] {
        assert_eq!(f.get("over_limit"), Some(0.0), "{what}: {:?}", f.values());
        assert!(
            f.get("fetch_ratio").unwrap() >= least,
            "{what}: {:?}",
            f.values()
        );
        grader.assert_diagnosed(what, done(), &f, &["idle-slots"]);
    }

    // The wrong todos.
    for (what, f) in [
        (
            "answers in the order they arrived",
            measured(bug_order_of_arrival::fetch_all).await,
        ),
        (
            "answers sorted by id",
            measured(bug_sorted_by_id::fetch_all).await,
        ),
    ] {
        assert!(
            f.get("wrong_todos").unwrap() > 0.0,
            "{what}: {:?}",
            f.values()
        );
        assert_eq!(f.get("fetch_ratio"), Some(1.0), "{what}: {:?}", f.values());
        grader.assert_diagnosed(what, done(), &f, &["wrong-todos"]);
    }
    // A failed request dropped and Ok returned: on time, within the limit,
    // every todo that came in its place, and the failure hidden.
    let f = measured(bug_errors_filtered_out::fetch_all).await;
    assert_eq!(f.get("errors_hidden"), Some(1.0), "{:?}", f.values());
    assert_eq!(f.get("over_limit"), Some(0.0), "{:?}", f.values());
    assert_eq!(f.get("wrong_todos"), Some(0.0), "{:?}", f.values());
    assert!(f.get("fetch_ratio").unwrap() <= 1.0, "{:?}", f.values());
    grader.assert_not_fixed("a failed request filtered out", done(), &f);
    grader.assert_diagnosed(
        "a failed request filtered out",
        done(),
        &f,
        &["errors-hidden"],
    );

    let f = measured(bug_skip_the_server::fetch_all).await;
    assert!(f.get("fetch_ratio").unwrap() < 0.01, "{:?}", f.values());
    grader.assert_diagnosed(
        "todos rebuilt instead of fetched",
        done(),
        &f,
        &["wrong-todos", "errors-hidden"],
    );
}

fn real(fetch_all: impl AsyncFn(&Api, &[u32], usize) -> anyhow::Result<Vec<Todo>>) -> Facts {
    let facts = Facts::for_test(&limit::SPEC);
    lesson_04::runtime().block_on(limit::measure(&facts, Backend::Http, &shapes(), fetch_all));
    facts
}

/// The real server counts the requests it answers at once: the reference
/// stays within the limit there too. A fix that blocks the thread holds
/// it, in one poll, for at least the slowest latency (a server never
/// answers early); one that tries for a permit and yields is polled
/// hundreds of times per todo, on any machine.
#[test]
fn against_the_real_server_the_limit_is_counted_where_requests_are_answered() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &limit::SPEC);
    let exact = grader.only(&["over_limit", "wrong_todos", "polls_per_todo"]);
    let f = real(fixed::fetch_limited);
    exact.assert_fixed("the reference semaphore", Observed::Completes, &f);
    let f = real(broken::fetch_limited);
    assert!(f.get("over_limit").unwrap() >= 4.0, "{:?}", f.values());

    let f = real(bug_try_acquire_spin::fetch_all);
    assert!(f.get("polls_per_todo").unwrap() > 100.0, "{:?}", f.values());
    assert_eq!(f.get("over_limit"), Some(0.0), "{:?}", f.values());
    grader.assert_diagnosed(
        "try_acquire, yield, try again",
        Observed::Completes,
        &f,
        &["checks-in-a-loop"],
    );

    let f = real(bug_block_on::fetch_all);
    assert!(
        f.get("longest_poll_ratio").unwrap() >= 1.0,
        "{:?}",
        f.values()
    );
    exact.assert_fixed(
        "block_on, on the facts it gets right",
        Observed::Completes,
        &f,
    );
    grader.assert_diagnosed(
        "block_on, holding the thread",
        Observed::Completes,
        &f,
        &["holds-the-thread"],
    );
}

/// For every workload the harness can draw: the broken claim's count over
/// the limit holds, batches and an ordered window miss the fixed bound by
/// a margin, and one at a time by more.
#[test]
fn every_workload_separates_the_bug_from_the_fix() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &limit::SPEC);
    let bound = |claim: &shared::contract::manifest::Expect, fact: &str| {
        claim
            .facts
            .iter()
            .find(|b| b.name == fact)
            .cloned()
            .unwrap()
    };
    let over_min = bound(&grader.scenario().broken, "over_limit").min.unwrap();
    let fixed_max = bound(&grader.scenario().fixed, "fetch_ratio").max.unwrap();
    for seed in 0..500 {
        let shapes = limit::shapes(&mut Rng::new(seed));
        assert_eq!(shapes.len(), 3);
        // One workload has a request the server fails, drawn from its ids.
        let failing: Vec<_> = shapes.iter().filter_map(|s| s.fails).collect();
        assert_eq!(failing.len(), 1, "{shapes:?}");
        assert!(shapes[2].ids.contains(&failing[0]), "{shapes:?}");
        let (mut batches, mut window, mut serial) = (0.0f64, 0.0f64, 0.0f64);
        for s in &shapes {
            assert_eq!(s.ids.len(), s.latencies.len());
            assert!((s.ids.len() - s.limit) as f64 >= over_min, "{s:?}");
            let ideal = s.ideal().as_secs_f64();
            batches = batches.max(s.in_batches().as_secs_f64() / ideal);
            window = window.max(s.in_order_window().as_secs_f64() / ideal);
            let sum: std::time::Duration = s.latencies.iter().sum();
            serial = serial.max(sum.as_secs_f64() / ideal);
        }
        assert!(batches >= 1.45 && batches > fixed_max + 0.1, "{shapes:?}");
        assert!(window >= 1.45 && window > fixed_max + 0.1, "{shapes:?}");
        assert!(serial >= 1.8, "{shapes:?}");
        // The ids are not sorted, so sorting by id is not the order asked.
        assert!(shapes.iter().all(|s| s.ids.windows(2).any(|w| w[0] > w[1])));
    }
}
