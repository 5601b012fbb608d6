//! Lesson 12 · exercise `stop`: a blocking job that stops when asked.
//!
//! `sample` runs on tokio's blocking pool and reads a sensor up to `READS`
//! times. While it reads, the program is asked to stop, but it takes dozens
//! of reads more to end: the runtime waits for the job. Make the job stop
//! soon after the stop is asked for, keeping what it read, then run
//!
//!     cargo xtask try lesson-12 stop
//!
//! Stuck? `cargo xtask hint lesson-12 stop`. Start over: `cargo xtask reset lesson-12 stop`.

use lesson_12::{READS, Sensor};
use tokio_util::sync::CancellationToken;

/// TODO: stop reading once `stop` is cancelled.
pub fn sample(stop: CancellationToken, sensor: Sensor) -> u32 {
    let _ = stop;
    let mut total = 0;
    for _ in 0..READS {
        total += sensor.read();
    }
    total
}

// Leave this as it is: it hands your `sample` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_12::stop::exercise(sample)
}
