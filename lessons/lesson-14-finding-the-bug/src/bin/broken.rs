//! Lesson 14, broken: the same service five times, each with one fault
//! hidden somewhere in it. Its users only see the symptom.
//! Run it with `cargo xtask run lesson-14 --broken` (add `--metrics` for
//! the task monitors' table, `--trace` for a file to open in Perfetto).

use lesson_14::{BLOCKING, LOCK, LOST, QUEUE, STARVE, broken, piece};
use shared::lesson::Variant;
use std::process::ExitCode;

fn main() -> ExitCode {
    shared::lesson::main(
        lesson_14::LESSON,
        Variant::Broken,
        vec![
            BLOCKING.with(vec![piece::<broken::Blocking>("").note(
                "Users report: most requests are quick, but now and then even a cached one takes as long as a load from the store.",
            )]),
            STARVE.with(vec![piece::<broken::Starve>("").note(
                "Users report: every kind of request is slow, in waves, cached or not.",
            )]),
            QUEUE.with(vec![piece::<broken::Queue>("").note(
                "Operators report: after a burst of traffic the service's memory grows, and stays up long after the last answer.",
            )]),
            LOCK.with(vec![piece::<broken::Lock>("").note(
                "Users report: every now and then the whole service stops answering, and only a restart brings it back.",
            )]),
            LOST.with(vec![piece::<broken::Lost>("").note(
                "Users report: a few requests never get an answer; the others are quick.",
            )]),
        ],
    )
}
