//! Lesson 12 · exercise `lines`: a read that a timer must not spoil.
//!
//! `collect` reads lines that arrive in pieces, and reports its progress
//! every 10 ms. Each time the timer wins the race, a line is lost, and its
//! end comes back as if it were a line. Read every line whole, keep
//! reporting every 10 ms, then run
//!
//!     cargo xtask try lesson-12 lines
//!
//! Stuck? `cargo xtask hint lesson-12 lines`. Start over: `cargo xtask reset lesson-12 lines`.

use lesson_12::{Input, STATUS_EVERY, Status};
use tokio::io::AsyncBufReadExt;

/// TODO: no line may be lost when the timer wins.
pub async fn collect(mut input: Input, status: Status) -> Vec<String> {
    let mut every = tokio::time::interval(STATUS_EVERY);
    let mut lines = Vec::new();
    let mut line = String::new();
    loop {
        tokio::select! {
            read = input.read_line(&mut line) => {
                if read.expect("a pipe in memory does not fail") == 0 {
                    return lines;
                }
                lines.push(std::mem::take(&mut line));
            }
            _ = every.tick() => status.report(lines.len()),
        }
    }
}

// Leave this as it is: it hands your `collect` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_12::lines::exercise(collect)
}
