//! Lesson 05 · exercise `deadline`: stop after one second.
//!
//! `read_until_deadline` reads numbers from an endless stream (they come
//! every few milliseconds, or in bursts) and should stop after one second,
//! returning how many it read. It never stops. Make it stop on time, then
//! run
//!
//!     cargo xtask try lesson-05 deadline
//!
//! Stuck? `cargo xtask hint lesson-05 deadline`. Start over: `cargo xtask reset lesson-05 deadline`.

use futures::StreamExt;
use lesson_05::{DEADLINE, Numbers};
use tokio::time::sleep;

/// TODO: this should return one second after it starts.
pub async fn read_until_deadline(mut numbers: Numbers) -> u32 {
    let mut read = 0;
    loop {
        tokio::select! {
            Some(_) = numbers.next() => read += 1,
            () = sleep(DEADLINE) => return read,
        }
    }
}

// Leave this as it is: it hands your `read_until_deadline` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_05::deadline::exercise(read_until_deadline)
}
