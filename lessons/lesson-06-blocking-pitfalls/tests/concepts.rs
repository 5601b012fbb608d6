//! More to know about tasks, threads and locks, proven by counting and by
//! the order of events, never by a clock's reading.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Barrier;

// ANCHOR: sync
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_arc_of_a_mutex_or_an_atomic_can_go_into_spawned_tasks() {
    // Mutex<u64> and AtomicU64 are Send and Sync, so their Arcs are Send.
    let locked = Arc::new(Mutex::new(0_u64));
    let atomic = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let (locked, atomic) = (locked.clone(), atomic.clone());
            tokio::spawn(async move {
                *locked.lock().unwrap() += 1;
                atomic.fetch_add(1, SeqCst);
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    // Two worker threads shared them, and no increment was lost.
    assert_eq!(*locked.lock().unwrap(), 100);
    assert_eq!(atomic.load(SeqCst), 100);
}
// ANCHOR_END: sync

// ANCHOR: fifo
#[tokio::test(start_paused = true)]
async fn tokio_mutex_hands_out_the_lock_in_the_order_it_was_asked_for() {
    let lock = Arc::new(tokio::sync::Mutex::new(Vec::new())); // who held it, in turn
    let asked = Arc::new(Mutex::new(Vec::new())); // who asked for it, in turn
    let held = lock.lock().await; // taken, so that everyone else queues

    // Task i asks after DELAYS[i] ms: they queue up as 3, 1, 4, 0, 2, which
    // is neither the order they were spawned in nor its reverse.
    const DELAYS: [u64; 5] = [4, 2, 5, 1, 3];
    let tasks: Vec<_> = (0..DELAYS.len())
        .map(|i| {
            let (lock, asked) = (lock.clone(), asked.clone());
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(DELAYS[i])).await;
                asked.lock().unwrap().push(i);
                lock.lock().await.push(i); // asks, in the same poll as the line above
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(10)).await; // all five are queued
    drop(held);
    for task in tasks {
        task.await.unwrap();
    }

    let asked = asked.lock().unwrap().clone();
    assert_eq!(asked, [3, 1, 4, 0, 2]);
    assert_eq!(*lock.lock().await, asked, "first come, first served");
}
// ANCHOR_END: fifo

// ANCHOR: locals
thread_local! {
    static ON_THIS_THREAD: Cell<&'static str> = const { Cell::new("nobody") };
}

tokio::task_local! {
    static IN_THIS_TASK: Cell<&'static str>;
}

#[tokio::test] // one thread: both tasks run on it
async fn a_thread_local_is_shared_by_every_task_on_its_thread() {
    let both_wrote = Arc::new(Barrier::new(2));
    let spawn = |name: &'static str| {
        let both_wrote = both_wrote.clone();
        tokio::spawn(async move {
            ON_THIS_THREAD.set(name);
            both_wrote.wait().await; // the other task writes meanwhile
            ON_THIS_THREAD.get()
        })
    };
    let (a, b) = (spawn("A"), spawn("B"));
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    // One note for the thread: both read the last write, so one of the two
    // tasks reads the other's name.
    assert_eq!(a, b);
}

#[tokio::test] // the same thread, the same two tasks
async fn a_task_local_belongs_to_its_task() {
    let both_wrote = Arc::new(Barrier::new(2));
    let spawn = |name: &'static str| {
        let both_wrote = both_wrote.clone();
        let task = async move {
            IN_THIS_TASK.with(|note| note.set(name));
            both_wrote.wait().await;
            IN_THIS_TASK.with(|note| note.get())
        };
        tokio::spawn(IN_THIS_TASK.scope(Cell::new("nobody"), task))
    };
    let (a, b) = (spawn("A"), spawn("B"));
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    assert_eq!((a, b), ("A", "B"), "each task read its own note");
}
// ANCHOR_END: locals

/// Two futures joined in one task each read the count under the lock,
/// release it, write `count + 1` back, then save. With no `.await` between
/// the read and the write no hit is lost: a future runs until an `.await`
/// returns `Pending`, so one reads and writes before the other is polled.
/// With an `.await` between them, both read 0 and both save 1.
#[tokio::test(flavor = "current_thread")]
async fn a_read_then_write_loses_a_hit_only_with_an_await_between() {
    async fn hit(hits: &Mutex<u32>, saved: &Mutex<Vec<u32>>, await_between: bool) {
        let seen = *hits.lock().unwrap();
        if await_between {
            tokio::task::yield_now().await;
        }
        let count = seen + 1;
        *hits.lock().unwrap() = count;
        tokio::task::yield_now().await; // the save: an `.await` that waits
        saved.lock().unwrap().push(count);
    }
    for (await_between, expected) in [(false, [1, 2]), (true, [1, 1])] {
        let hits = Mutex::new(0);
        let saved = Mutex::new(Vec::new());
        tokio::join!(
            hit(&hits, &saved, await_between),
            hit(&hits, &saved, await_between),
        );
        let mut saved = saved.into_inner().unwrap();
        saved.sort_unstable();
        assert_eq!(saved, expected, "an .await between: {await_between}");
        assert_eq!(hits.into_inner().unwrap(), expected[1]);
    }
}
