//! Lesson 12 · exercise `lines`: records that a timer must not spoil.
//!
//! `collect` reads records that arrive in pieces, and reports its progress
//! every 10 ms. A record is its length in 2 bytes (big-endian), then that
//! many bytes of text. Each time the timer wins the race while a record is
//! half-read, that record is lost, and so are those after it. Read every
//! record whole, keep reporting every 10 ms, then run
//!
//!     cargo xtask try lesson-12 lines
//!
//! Stuck? `cargo xtask hint lesson-12 lines`. Start over: `cargo xtask reset lesson-12 lines`.

use lesson_12::{Input, STATUS_EVERY, Status};
use tokio::io::AsyncReadExt;

/// Reads one record: its length in 2 bytes, then that many bytes.
async fn read_record(input: &mut Input) -> std::io::Result<String> {
    let len = input.read_u16().await?;
    let mut bytes = vec![0; usize::from(len)];
    input.read_exact(&mut bytes).await?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// TODO: no record may be lost when the timer wins.
pub async fn collect(mut input: Input, status: Status) -> Vec<String> {
    let mut every = tokio::time::interval(STATUS_EVERY);
    let mut records = Vec::new();
    loop {
        tokio::select! {
            record = read_record(&mut input) => match record {
                Ok(record) => records.push(record),
                Err(_) => return records, // the input has ended
            },
            _ = every.tick() => status.report(records.len()),
        }
    }
}

// Leave this as it is: it hands your `collect` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_12::frames::exercise(collect)
}
