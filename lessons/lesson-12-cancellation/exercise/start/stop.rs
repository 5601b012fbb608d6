//! Lesson 12 · exercise `stop`: stop when asked, before a deadline, and
//! lose nothing.
//!
//! `record` waits for the sensor's readings and writes them to the log in
//! batches of `BATCH`. The program cancels `stop` (think Ctrl-C), and
//! drops `record` if it has not returned within a deadline (60 to 80 ms).
//! This one never looks at `stop`, so it is always dropped, losing what it
//! held. The sensor may go quiet for longer than the deadline.
//! `sensor.next()` is cancel-safe; `log.write()` is not: dropped half-way,
//! it leaves half a batch in the log.
//!
//! Then run `cargo xtask try lesson-12 stop`. Stuck?
//! `cargo xtask hint lesson-12 stop`. Start over: `cargo xtask reset lesson-12 stop`.

use lesson_12::{BATCH, Log, Sensor};
use tokio_util::sync::CancellationToken;

/// TODO: once `stop` is cancelled, return well before the deadline, having
/// taken no more readings, left no batch half-written, and written every
/// reading taken (a last batch may be shorter than `BATCH`). Leave nothing
/// running when you return.
pub async fn record(stop: CancellationToken, sensor: Sensor, log: Log) {
    let _ = stop;
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        batch.push(sensor.next().await);
        if batch.len() == BATCH {
            log.write(std::mem::take(&mut batch)).await;
        }
    }
}

// Leave this as it is: it hands your `record` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_12::stop::exercise(record)
}
