//! The `fetch` grader grades, on paused tokio time with the fake API (each
//! request takes exactly one latency of tokio's clock): the untouched
//! exercise, the lesson's fixes, other fixes written differently, and other
//! forms of the bug, each measured by the same harness.

use lesson_04::{Api, Todo, broken, fetch, fixed};
use shared::grade::{Grader, Observed};
use shared::lesson::Facts;

#[allow(dead_code)]
#[path = "fixtures/fetch/bug_pairs.rs"]
mod bug_pairs;
#[allow(dead_code)]
#[path = "fixtures/fetch/bug_spawn_and_await_at_once.rs"]
mod bug_spawn_and_await_at_once;
#[allow(dead_code)]
#[path = "fixtures/fetch/bug_unordered.rs"]
mod bug_unordered;
#[allow(dead_code)]
#[path = "fixtures/fetch/fix_buffered_stream.rs"]
mod fix_buffered_stream;
#[allow(dead_code)]
#[path = "fixtures/fetch/fix_spawn_then_await.rs"]
mod fix_spawn_then_await;
#[allow(dead_code)]
#[path = "fixtures/fetch/fix_try_join_all.rs"]
mod fix_try_join_all;
#[allow(dead_code)]
#[path = "../exercise/start/fetch.rs"]
mod start;

async fn measured(fetch_all: impl AsyncFn(&Api) -> anyhow::Result<Vec<Todo>>) -> Facts {
    let facts = Facts::for_test(&fetch::SPEC);
    let _ = fetch::measure(&facts, &Api::fake(), fetch_all).await;
    facts
}

#[tokio::test(start_paused = true)]
async fn the_fetch_grader_tells_every_fix_from_every_form_of_the_bug() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &fetch::SPEC);
    let done = || Observed::Completes;
    let f = measured(fixed::fetch_all).await;
    assert_eq!(f.get("fetch_ratio"), Some(1.0), "exactly one latency");
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

    let f = measured(broken::fetch_all).await;
    assert_eq!(f.get("fetch_ratio"), Some(10.0), "exactly ten latencies");
    grader.assert_bug("the reference bug", done(), &f);
    grader.assert_bug(
        "the untouched exercise",
        done(),
        &measured(start::fetch_all).await,
    );
    grader.assert_bug(
        "spawned and awaited at once",
        done(),
        &measured(bug_spawn_and_await_at_once::fetch_all).await,
    );
    grader.assert_not_fixed(
        "two at a time",
        done(),
        &measured(bug_pairs::fetch_all).await,
    );
    grader.assert_not_fixed(
        "answers out of order",
        done(),
        &measured(bug_unordered::fetch_all).await,
    );
}
