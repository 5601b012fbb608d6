//! Lesson 06 · exercise `sleep`: waits that overlap.
//!
//! Ten tasks each call `nap`, which should wait 100 ms, on a runtime with
//! one thread, beside a heartbeat that ticks every 10 ms. They take a whole
//! second, and the heartbeat starves. Make the ten waits overlap (each
//! still lasting its 100 ms), then run
//!
//!     cargo xtask try lesson-06 sleep
//!
//! Stuck? `cargo xtask hint lesson-06 sleep`. Start over: `cargo xtask reset lesson-06 sleep`.

use lesson_06::NAP;

/// TODO: wait 100 ms without holding the thread.
pub async fn nap() {
    std::thread::sleep(NAP);
}

// Leave this as it is: it hands your `nap` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_06::sleep::exercise(nap)
}
