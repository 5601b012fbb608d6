//! Lesson 09 · exercise `policy`: how an idle worker sleeps.
//!
//! A worker of the lesson's runtime that finds no task in any queue calls
//! `park`, and whoever puts a task in a queue calls `pushed` afterwards.
//! This parking loses wake-ups: a task pushed after a worker's last look
//! but before its `wait` notifies nobody, and it waits until some later
//! push happens to wake a worker. Make it lose none, and keep idle
//! workers asleep (no looking again and again). Then run
//!
//!     cargo xtask try lesson-09
//!
//! Stuck? `cargo xtask hint lesson-09`. Start over: `cargo xtask reset lesson-09`.

use lesson_09::runtime::{Idle, Parking};
use std::sync::{Condvar, Mutex};

#[derive(Default)]
pub struct Park {
    lock: Mutex<()>,
    wake: Condvar,
}

impl Parking for Park {
    /// TODO: a push that comes after the worker's last look, even while
    /// this runs, must still wake a worker. `idle.work_waiting()` looks in
    /// every queue again.
    fn park(&self, _idle: &Idle<'_>) {
        let guard = self.lock.lock().unwrap();
        drop(self.wake.wait(guard).unwrap());
    }

    fn pushed(&self) {
        self.wake.notify_one();
    }
}

// Leave this as it is: it hands your `Park` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_09::exercise::<Park>()
}
