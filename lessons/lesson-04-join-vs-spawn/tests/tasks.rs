//! What spawning means: parallel tasks, isolated panics, detached handles.

use std::sync::{Arc, Barrier};
use std::time::Duration;

fn two_workers() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn joined_jobs_all_run_on_the_one_thread_that_polls_the_task() {
    let runtime = two_workers();
    // The recorder records only while a run is going.
    shared::record::recorder::global().begin(lesson_04::LESSON, "cpu", "test", "", None);
    runtime.block_on(lesson_04::broken::run_jobs(8));
    let events = shared::record::recorder::global().snapshot();
    let mut lanes: Vec<u32> = events
        .iter()
        .filter_map(|e| match e {
            shared::event::Event::Span(s) if s.task.starts_with("job ") => Some(s.lane),
            _ => None,
        })
        .collect();
    lanes.sort_unstable();
    lanes.dedup();
    assert_eq!(lanes.len(), 1, "every job was polled on the same thread");
}

#[test]
fn spawned_tasks_run_at_the_same_time_on_different_threads() {
    // A barrier for two opens only when two threads wait at it at the same
    // moment: two tasks pass it only if they really run in parallel.
    let runtime = two_workers();
    let barrier = Arc::new(Barrier::new(2));
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let barrier = barrier.clone();
            runtime.spawn(async move { barrier.wait().is_leader() })
        })
        .collect();
    std::thread::spawn(move || {
        let leaders = runtime.block_on(async {
            let mut leaders = 0;
            for h in handles {
                leaders += u32::from(h.await.unwrap());
            }
            leaders
        });
        let _ = done_tx.send(leaders);
    });
    // If the tasks could not run in parallel they would wait forever; the
    // timeout only turns that into a failure instead of a hang.
    let leaders = done_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("both tasks passed the barrier");
    assert_eq!(leaders, 1);
}

#[tokio::test]
async fn a_panic_in_a_spawned_task_comes_back_as_a_join_error() {
    let task = tokio::spawn(async {
        panic!("the task failed");
    });
    let err = task
        .await
        .expect_err("the panic is reported, not propagated");
    assert!(err.is_panic());
    // We are still running: the panic stayed inside its task.
    let fine = tokio::spawn(async { 6 * 7 }).await.unwrap();
    assert_eq!(fine, 42);
}

#[tokio::test(start_paused = true)]
async fn dropping_a_join_handle_detaches_the_task_it_does_not_cancel_it() {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let handle = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        tx.send("finished anyway").unwrap();
    });
    drop(handle);
    assert_eq!(rx.await.unwrap(), "finished anyway");
}

#[tokio::test(start_paused = true)]
async fn abort_is_how_you_cancel_a_spawned_task() {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let _ = tx.send(());
    });
    handle.abort();
    assert!(handle.await.unwrap_err().is_cancelled());
    assert!(
        rx.await.is_err(),
        "the task was dropped before it could send"
    );
}
