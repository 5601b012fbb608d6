//! Lesson 08, fixed: no sender left once no job can come, and a bounded channel.
//! Run it with `cargo xtask run lesson-08 --fixed`.

use lesson_08::{backpressure, close, fixed};
use shared::lesson::Variant;
use std::process::ExitCode;

fn main() -> ExitCode {
    shared::lesson::main(
        lesson_08::LESSON,
        Variant::Fixed,
        vec![
            close::SPEC.with(vec![close::piece("", fixed::job_session).note(
                "The producer's channel closed when the producer was done; the worker kept its\n\
                 retries on a channel of its own, and stopped once none was out.",
            )]),
            backpressure::SPEC.with(vec![backpressure::piece("", fixed::flood).note(
                "When the channel was full, send().await waited for room: the producer ran at\n\
                 the consumer's pace.",
            )]),
        ],
    )
}
