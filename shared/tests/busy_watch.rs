//! The busy watch counts a thread that yields in a loop as busy, however
//! busy the machine, and a thread that sleeps as idle. Alone in its own
//! process, so that no other test's threads count, and one test at a time.

use shared::work::cpu::BusyWatch;
use std::sync::Mutex;
use std::time::{Duration, Instant};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

#[test]
fn a_thread_that_yields_in_a_loop_is_busy_and_one_that_sleeps_is_not() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let watch = BusyWatch::start();
    let until = Instant::now() + Duration::from_millis(100);
    std::thread::spawn(move || {
        while Instant::now() < until {
            std::thread::yield_now();
        }
    })
    .join()
    .unwrap();
    let spinning = watch.ratio();

    let watch = BusyWatch::start();
    std::thread::spawn(|| std::thread::sleep(Duration::from_millis(100)))
        .join()
        .unwrap();
    let sleeping = watch.ratio();

    // A loop of yields is always running or ready to run: about one thread's
    // worth of the wall time (the last 2 ms may go unseen, and the wall
    // time includes starting and joining the thread).
    assert!(spinning > 0.7, "a yielding loop: {spinning}");
    if cfg!(target_os = "linux") {
        // The sleeping thread's start and end, and the main thread's, take
        // microseconds; a busy machine can make them wait for a core, but
        // not for a tenth of the wall time.
        assert!(sleeping < 0.1, "a sleeping thread: {sleeping}");
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_watch_that_leaves_threads_out_counts_only_the_others() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    use shared::record::sched::thread_ids;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    // A thread that yields in a loop, started before the watch and left out.
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = stop.clone();
    let old = std::thread::spawn(move || {
        while !stopped.load(Ordering::SeqCst) {
            std::thread::yield_now();
        }
    });
    std::thread::sleep(Duration::from_millis(5));
    let watch = BusyWatch::leaving_out(thread_ids().unwrap());
    std::thread::sleep(Duration::from_millis(100));
    let quiet = watch.finish();
    // The same, with a new thread that yields in a loop beside it.
    let watch = BusyWatch::leaving_out(thread_ids().unwrap());
    let until = Instant::now() + Duration::from_millis(100);
    std::thread::spawn(move || {
        while Instant::now() < until {
            std::thread::yield_now();
        }
    })
    .join()
    .unwrap();
    let busy = watch.finish();
    stop.store(true, Ordering::SeqCst);
    old.join().unwrap();
    assert!(
        quiet.ratio < 0.1,
        "only the left-out spinner ran: {quiet:?}"
    );
    assert!(busy.ratio > 0.7, "a new spinner: {busy:?}");
    // `time` is what the ratio divides by the wall time.
    assert!(busy.time >= Duration::from_millis(70), "{busy:?}");
}
