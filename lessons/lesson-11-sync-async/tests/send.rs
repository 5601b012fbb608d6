//! The fixes for a task that is not `Send`, each compiled and run. The
//! broken versions are the `compile_fail` doctests of `src/lib.rs`.

use std::rc::Rc;
use std::sync::{Arc, Mutex};

/// A log two tasks write to, with a pause (an `.await`) between their two
/// lines.
type Log = Arc<Mutex<Vec<String>>>;

// ANCHOR: scope_ended
/// Locks, writes, and unlocks before the `.await`: nothing that is not
/// `Send` is alive at the `.await`, so the task can be spawned.
async fn write_unlocked_across_the_await(log: Log, who: &'static str) {
    {
        let mut lines = log.lock().unwrap();
        lines.push(format!("{who} started"));
    } // FIXED: the guard is dropped here, before the .await
    tokio::task::yield_now().await;
    log.lock().unwrap().push(format!("{who} done"));
}
// ANCHOR_END: scope_ended

/// On one thread, `a` yields at its `.await` and `b` gets its turn.
#[tokio::test]
async fn a_guard_dropped_before_the_await_leaves_a_task_that_can_be_spawned() {
    let log = Log::default();
    let a = tokio::spawn(write_unlocked_across_the_await(log.clone(), "a"));
    let b = tokio::spawn(write_unlocked_across_the_await(log.clone(), "b"));
    a.await.unwrap();
    b.await.unwrap();
    // Unlocked during the .await: `b` wrote while `a` was waiting.
    let lines = log.lock().unwrap().clone();
    let at = |line: &str| lines.iter().position(|l| l == line).unwrap();
    assert_eq!(lines.len(), 4);
    assert!(at("b started") < at("a done"), "{lines:?}");
}

// ANCHOR: tokio_mutex
/// tokio's `Mutex` is made to be held across an `.await`: its guard is
/// `Send`, and a task that waits for the lock yields until it gets it,
/// instead of blocking its thread.
async fn write_locked_across_the_await(log: Arc<tokio::sync::Mutex<Vec<String>>>, who: &str) {
    let mut lines = log.lock().await; // FIXED: an async lock
    lines.push(format!("{who} started"));
    tokio::task::yield_now().await; // still locked, and still Send
    lines.push(format!("{who} done"));
}
// ANCHOR_END: tokio_mutex

#[tokio::test]
async fn a_tokio_mutex_guard_may_be_held_across_an_await_in_a_spawned_task() {
    let log = Arc::new(tokio::sync::Mutex::new(Vec::new()));
    let a = tokio::spawn({
        let log = log.clone();
        async move { write_locked_across_the_await(log, "a").await }
    });
    let b = tokio::spawn({
        let log = log.clone();
        async move { write_locked_across_the_await(log, "b").await }
    });
    a.await.unwrap();
    b.await.unwrap();
    // Locked during the .await: `b` waited for `a`'s two lines.
    let lines = log.lock().await.clone();
    assert_eq!(lines, ["a started", "a done", "b started", "b done"]);
}

// ANCHOR: local_set
/// `spawn_local` runs a task on the thread that drives its `LocalSet`, and
/// never moves it: an `Rc` may live across its `.await`s.
fn count_names_on_this_thread() -> usize {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async {
        let task = tokio::task::spawn_local(async {
            let names = Rc::new(vec!["ada", "grace"]);
            tokio::task::yield_now().await; // FIXED: this task stays put
            names.len()
        });
        task.await.unwrap()
    })
}
// ANCHOR_END: local_set

#[test]
fn spawn_local_runs_a_task_that_holds_an_rc_across_an_await() {
    assert_eq!(count_names_on_this_thread(), 2);
}

#[test]
fn an_arc_instead_of_an_rc_makes_the_task_send() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let count = runtime.block_on(async {
        tokio::spawn(async {
            let names = Arc::new(vec!["ada", "grace"]);
            tokio::task::yield_now().await;
            names.len()
        })
        .await
        .unwrap()
    });
    assert_eq!(count, 2);
}

/// Where nothing asks for `Send` (a `LocalSet`, `block_on`, `join!`), a std
/// guard held across an `.await` compiles: the compiler cannot help there,
/// and clippy's `await_holding_lock` (expected on the function) does.
#[test]
fn a_std_guard_across_an_await_compiles_where_no_send_is_asked_for() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async {
        tokio::task::spawn_local(lesson_11::log_holding_std_guard(log.clone()))
            .await
            .unwrap();
    });
    assert_eq!(*log.lock().unwrap(), ["started", "done"]);
}
