//! The busy watch counts a thread that yields in a loop as busy, however
//! busy the machine, and a thread that sleeps as idle. Alone in its own
//! process, so that no other test's threads count.

use shared::work::cpu::BusyWatch;
use std::time::{Duration, Instant};

#[test]
fn a_thread_that_yields_in_a_loop_is_busy_and_one_that_sleeps_is_not() {
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
