//! Lesson 06 · exercise `sleep`: waits that overlap.
//!
//! Tasks each call `nap` to wait a while (about 100 ms), on a runtime with
//! one thread, beside a heartbeat that ticks every 10 ms. They wait one
//! after another, and the heartbeat starves. Make the waits overlap (each
//! still lasting as long as it is asked to), then run
//!
//!     cargo xtask try lesson-06 sleep
//!
//! Stuck? `cargo xtask hint lesson-06 sleep`. Start over: `cargo xtask reset lesson-06 sleep`.

use std::time::Duration;

/// TODO: wait `length` without holding the thread.
pub async fn nap(length: Duration) {
    std::thread::sleep(length);
}

// Leave this as it is: it hands your `nap` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_06::sleep::exercise(nap)
}
