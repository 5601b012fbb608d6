//! Lesson 03 · exercise `delay`: keep the promise of `Pending`.
//!
//! `MyDelay` should finish once its time is up. It says `Pending` but
//! arranges no wake-up, so no executor ever polls it again, and the
//! program hangs. Make it finish when its time is up (the harness picks the
//! lengths when it runs), having been polled only a few times, on any
//! executor, even if it moves to another task half way, without keeping a
//! core busy, and without holding the thread that polls it. The harness
//! also runs 20 to 32 delays at once, and makes new ones while others
//! wait: at most one thread for every four delays pending may wait for
//! them, and each must still finish on time. Then run
//!
//!     cargo xtask try lesson-03
//!
//! Stuck? `cargo xtask hint lesson-03`. Start over: `cargo xtask reset lesson-03`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// TODO: make sure someone wakes the task when the time is up, with a few
/// threads at most for any number of delays.
pub struct MyDelay {
    deadline: Instant,
}

impl Future for MyDelay {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// The harness makes each delay with this.
pub fn delay(duration: Duration) -> MyDelay {
    MyDelay {
        deadline: Instant::now() + duration,
    }
}

// Leave this as it is: it hands your `delay` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_03::exercise(delay)
}
