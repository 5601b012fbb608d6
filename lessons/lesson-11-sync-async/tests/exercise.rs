//! The graders of lesson 11 grade the untouched exercises, the lesson's
//! fixes, other fixes written differently, and other forms of each bug,
//! each measured by the same harness in real time (the harnesses build
//! their own runtimes, and the libraries under them run on real clocks),
//! on a thread of its own, so that a panic is seen with its message.

use lesson_11::{Catalog, Ledger, Reading, Store, broken, drop_runtime, fixed, nested, no_reactor};
use shared::grade::{Grader, Observed, observe_within};
use shared::lesson::Facts;
use std::time::Duration;

#[allow(dead_code)]
#[path = "fixtures/nested/bug_block_in_place.rs"]
mod bug_block_in_place;
#[allow(dead_code)]
#[path = "fixtures/drop-runtime/bug_connected_on_blocking_pool.rs"]
mod bug_connected_on_blocking_pool;
#[allow(dead_code)]
#[path = "fixtures/drop-runtime/bug_dropped_in_a_task.rs"]
mod bug_dropped_in_a_task;
#[allow(dead_code)]
#[path = "fixtures/drop-runtime/bug_forgotten.rs"]
mod bug_forgotten;
#[allow(dead_code)]
#[path = "fixtures/nested/bug_handle_block_on.rs"]
mod bug_handle_block_on;
#[allow(dead_code)]
#[path = "fixtures/no-reactor/bug_handle_taken_late.rs"]
mod bug_handle_taken_late;
#[allow(dead_code)]
#[path = "fixtures/nested/bug_own_runtime.rs"]
mod bug_own_runtime;
#[allow(dead_code)]
#[path = "fixtures/nested/bug_thread_joined.rs"]
mod bug_thread_joined;
#[allow(dead_code)]
#[path = "fixtures/no-reactor/bug_timer_made_on_the_driver.rs"]
mod bug_timer_made_on_the_driver;
#[allow(dead_code)]
#[path = "fixtures/no-reactor/bug_try_current.rs"]
mod bug_try_current;
#[allow(dead_code)]
#[path = "fixtures/nested/fix_async_api.rs"]
mod fix_async_api;
#[allow(dead_code)]
#[path = "fixtures/no-reactor/fix_channel_bridge.rs"]
mod fix_channel_bridge;
#[allow(dead_code)]
#[path = "fixtures/no-reactor/fix_handle_block_on.rs"]
mod fix_handle_block_on;
#[allow(dead_code)]
#[path = "fixtures/drop-runtime/fix_one_connection.rs"]
mod fix_one_connection;
#[allow(dead_code)]
#[path = "fixtures/drop-runtime/fix_shutdown_background.rs"]
mod fix_shutdown_background;
#[allow(dead_code)]
#[path = "fixtures/nested/fix_thread_and_oneshot.rs"]
mod fix_thread_and_oneshot;
#[allow(dead_code)]
#[path = "../exercise/start/drop-runtime.rs"]
mod start_drop_runtime;
#[allow(dead_code)]
#[path = "../exercise/start/nested.rs"]
mod start_nested;
#[allow(dead_code)]
#[path = "../exercise/start/no-reactor.rs"]
mod start_no_reactor;

/// Long enough for any run here; a run still going after it hangs.
const LIMIT: Duration = Duration::from_secs(30);

fn quoted<Q>(quote: Q) -> (Observed, Facts)
where
    Q: AsyncFn(Catalog, u32) -> u64 + Send + 'static,
{
    let facts = Facts::for_test(&nested::SPEC);
    let theirs = facts.clone();
    let observed = observe_within(LIMIT, move || nested::measure(&theirs, quote));
    (observed, facts)
}

#[test]
fn the_nested_grader_tells_every_fix_from_every_form_of_the_bug() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &nested::SPEC);
    let (o, f) = quoted(fixed::quote);
    grader.assert_fixed("the reference fix", o, &f);
    let (o, f) = quoted(fix_async_api::quote);
    grader.assert_fixed("the async API", o, &f);
    let (o, f) = quoted(fix_thread_and_oneshot::quote);
    grader.assert_fixed("a thread and a oneshot channel", o, &f);

    let (o, f) = quoted(broken::quote);
    grader.assert_bug("the reference bug", o, &f);
    let (o, f) = quoted(start_nested::quote);
    grader.assert_bug("the untouched exercise", o, &f);
    let (o, f) = quoted(bug_own_runtime::quote);
    grader.assert_bug("the async API in a runtime of our own", o, &f);
    let (o, f) = quoted(bug_handle_block_on::quote);
    grader.assert_bug("Handle::block_on on the app's thread", o, &f);
    let (o, f) = quoted(bug_thread_joined::quote);
    grader.assert_not_fixed("a thread, joined", o, &f);
    let (o, f) = quoted(bug_block_in_place::quote);
    assert!(
        matches!(&o, Observed::Panics(m) if m.contains("multi-threaded runtime")),
        "{o:?}"
    );
    grader.assert_not_fixed("block_in_place, on a current-thread runtime", o, &f);
}

fn served<B>(balances: B) -> (Observed, Facts)
where
    B: AsyncFn(Ledger, Vec<u32>) -> Vec<u64> + Send + 'static,
{
    let facts = Facts::for_test(&drop_runtime::SPEC);
    let theirs = facts.clone();
    let observed = observe_within(LIMIT, move || drop_runtime::measure(&theirs, balances));
    (observed, facts)
}

#[test]
fn the_drop_runtime_grader_tells_every_fix_from_every_form_of_the_bug() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &drop_runtime::SPEC);
    let (o, f) = served(fixed::balances);
    grader.assert_fixed("the reference fix", o, &f);
    let (o, f) = served(fix_shutdown_background::balances);
    grader.assert_fixed("shutdown_background", o, &f);
    // Measured once in this process: the static keeps the first connection.
    let (o, f) = served(fix_one_connection::balances);
    grader.assert_fixed("one connection for the program's life", o, &f);

    let (o, f) = served(broken::balances);
    grader.assert_bug("the reference bug", o, &f);
    let (o, f) = served(start_drop_runtime::balances);
    grader.assert_bug("the untouched exercise", o, &f);
    let (o, f) = served(bug_connected_on_blocking_pool::balances);
    grader.assert_bug("opened on the blocking pool, dropped here", o, &f);
    let (o, f) = served(bug_dropped_in_a_task::balances);
    grader.assert_bug("dropped in a spawned task", o, &f);
    let (o, f) = served(bug_forgotten::balances);
    grader.assert_not_fixed("forgotten", o, &f);
}

fn driven<M, C>(on_reading: M) -> (Observed, Facts)
where
    M: FnOnce(Store) -> C + Send + 'static,
    C: FnMut(Reading) + Send + 'static,
{
    let facts = Facts::for_test(&no_reactor::SPEC);
    let theirs = facts.clone();
    let observed = observe_within(LIMIT, move || no_reactor::measure(&theirs, on_reading));
    (observed, facts)
}

#[test]
fn the_no_reactor_grader_tells_every_fix_from_every_form_of_the_bug() {
    let grader = Grader::new(env!("CARGO_MANIFEST_DIR"), &no_reactor::SPEC);
    let (o, f) = driven(fixed::on_reading);
    grader.assert_fixed("the reference fix", o, &f);
    let (o, f) = driven(fix_channel_bridge::on_reading);
    grader.assert_fixed("a channel bridge", o, &f);
    let (o, f) = driven(fix_handle_block_on::on_reading);
    grader.assert_fixed("Handle::block_on on the driver's thread", o, &f);

    let (o, f) = driven(broken::on_reading);
    grader.assert_bug("the reference bug", o, &f);
    let (o, f) = driven(start_no_reactor::on_reading);
    grader.assert_bug("the untouched exercise", o, &f);
    let (o, f) = driven(bug_handle_taken_late::on_reading);
    grader.assert_bug("Handle::current on the driver's thread", o, &f);
    let (o, f) = driven(bug_timer_made_on_the_driver::on_reading);
    grader.assert_bug("a timer made on the driver's thread", o, &f);
    let (o, f) = driven(bug_try_current::on_reading);
    grader.assert_not_fixed("no runtime, no save", o, &f);
}
