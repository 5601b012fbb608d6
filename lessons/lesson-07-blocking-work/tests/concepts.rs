//! What else is true of blocking work, each proven by counting or by the
//! order of events, never by a clock's reading.

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Long enough for anything that should happen on a loaded machine.
const PATIENCE: Duration = Duration::from_secs(10);

/// Waits, on the current thread, until `count` has moved past `from`, or
/// until `PATIENCE` is up. Returns whether it moved.
fn wait_for_change(count: &AtomicU64, from: u64) -> bool {
    let until = Instant::now() + PATIENCE;
    while Instant::now() < until {
        if count.load(SeqCst) != from {
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    false
}

/// A future that counts its turns and yields after each one, forever.
async fn count_turns(turns: Arc<AtomicU64>) {
    loop {
        turns.fetch_add(1, SeqCst);
        tokio::task::yield_now().await;
    }
}

// ANCHOR: not_abortable
#[tokio::test]
async fn spawn_blocking_work_cannot_be_aborted_once_it_runs() {
    let (started_tx, started) = tokio::sync::oneshot::channel();
    let (go, go_rx) = mpsc::channel::<()>();
    let job = tokio::task::spawn_blocking(move || {
        started_tx.send(()).unwrap();
        go_rx.recv().unwrap(); // a blocking call, like a slow read
        "finished anyway"
    });
    let _ = tokio::time::timeout(PATIENCE, started)
        .await
        .expect("the job starts");

    job.abort(); // asks to cancel the job: nothing can stop a thread mid-call
    go.send(()).unwrap();

    // The job ran to its end and its result is still delivered.
    assert_eq!(job.await.unwrap(), "finished anyway");
}
// ANCHOR_END: not_abortable

// ANCHOR: shutdown_waits
#[test]
fn dropping_a_runtime_waits_for_its_blocking_work() {
    let events = Arc::new(Mutex::new(Vec::new()));
    let log = |e: &'static str| {
        let events = events.clone();
        move || events.lock().unwrap().push(e)
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (go, go_rx) = mpsc::channel::<()>();
    let job_done = log("job done");
    runtime.spawn_blocking(move || {
        go_rx.recv().unwrap();
        job_done();
    });
    // Someone else lets the job finish, a little later.
    let released = log("released");
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        released();
        go.send(()).unwrap();
    });

    drop(runtime); // returns only when the blocking job has returned
    log("runtime dropped")();

    releaser.join().unwrap();
    let seen = events.lock().unwrap().clone();
    assert_eq!(seen, ["released", "job done", "runtime dropped"]);
}

#[test]
fn shutdown_timeout_stops_waiting_but_does_not_stop_the_job() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (go, go_rx) = mpsc::channel::<()>();
    let (done_tx, done) = mpsc::channel();
    runtime.spawn_blocking(move || {
        go_rx.recv().unwrap();
        done_tx.send("job done").unwrap();
    });

    // The job cannot finish before `go` is sent, which is after this returns.
    runtime.shutdown_timeout(Duration::from_millis(10));
    assert!(done.try_recv().is_err(), "the job is still waiting");

    go.send(()).unwrap();
    // The job's thread outlived its runtime and still ran to its end.
    assert_eq!(done.recv_timeout(PATIENCE), Ok("job done"));
}
// ANCHOR_END: shutdown_waits

// ANCHOR: block_in_place_suspends
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_in_place_suspends_the_other_futures_of_its_task() {
    let other_task = Arc::new(AtomicU64::new(0));
    let same_task = Arc::new(AtomicU64::new(0));
    tokio::spawn(count_turns(other_task.clone()));

    let (o, s) = (other_task.clone(), same_task.clone());
    let blocked = async move {
        tokio::task::yield_now().await; // let the joined counter start
        tokio::task::block_in_place(|| {
            let (o_before, s_before) = (o.load(SeqCst), s.load(SeqCst));
            // Another task moves on: it runs on another worker thread...
            let other_moved = wait_for_change(&o, o_before);
            // ...but a future polled by this same task cannot.
            let same_moved = s.load(SeqCst) != s_before;
            (other_moved, same_moved)
        })
    };
    // `select!` (like `join!`) polls both futures inside one task.
    let (other_moved, same_moved) = tokio::select! {
        seen = blocked => seen,
        _ = count_turns(same_task) => unreachable!("it counts forever"),
    };
    assert!(other_moved, "a separate task ran during block_in_place");
    assert!(!same_moved, "a future in the same task did not");
}
// ANCHOR_END: block_in_place_suspends

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawn_blocking_lets_the_other_futures_of_its_task_run() {
    let same_task = Arc::new(AtomicU64::new(0));
    let s = same_task.clone();
    let blocked = async move {
        tokio::task::yield_now().await;
        let before = s.load(SeqCst);
        // The waiting is an `.await`: the task goes on polling its other future.
        tokio::task::spawn_blocking(move || wait_for_change(&s, before))
            .await
            .unwrap()
    };
    let same_moved = tokio::select! {
        moved = blocked => moved,
        _ = count_turns(same_task) => unreachable!("it counts forever"),
    };
    assert!(same_moved);
}

// ANCHOR: budget
/// Spawns a loop that takes `messages` messages from a channel already full
/// of them, so every `recv` is ready at once, and a second task that notes
/// how far the loop had got when the second task first ran.
async fn loop_beside_a_neighbour(messages: u64, unconstrained: bool) -> u64 {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for i in 0..messages {
        tx.send(i).unwrap();
    }
    let taken = Arc::new(AtomicU64::new(0));
    let counter = taken.clone();
    let drain = async move {
        while let Some(_message) = rx.recv().await {
            counter.fetch_add(1, SeqCst);
        }
    };
    drop(tx);
    let drain = if unconstrained {
        tokio::spawn(tokio::task::coop::unconstrained(drain))
    } else {
        tokio::spawn(drain)
    };
    let taken_then = taken.clone();
    let neighbour = tokio::spawn(async move { taken_then.load(SeqCst) });
    drain.await.unwrap();
    neighbour.await.unwrap()
}

#[tokio::test] // one thread: the two tasks take turns
async fn tokio_resources_make_a_busy_loop_yield() {
    // Each `recv` spends a unit of the task's budget; when it runs out,
    // `recv` returns Pending once, and the neighbour gets its turn.
    let seen = loop_beside_a_neighbour(1_000, false).await;
    assert!(
        seen > 0 && seen < 1_000,
        "the neighbour ran mid-loop ({seen})"
    );

    // Opted out of the budget, the loop never yields: the neighbour waits
    // for all of it. A loop on something other than tokio's resources
    // (plain computation, a `std` channel) behaves like this too.
    let seen = loop_beside_a_neighbour(1_000, true).await;
    assert_eq!(seen, 1_000, "the neighbour ran only after the loop");
}
// ANCHOR_END: budget
