//! Lesson 08, fixed: the last sender dropped, and a bounded channel.
//! Run it with `cargo xtask run lesson-08 --fixed`.

use lesson_08::{backpressure, close, fixed};
use shared::lesson::Variant;
use std::process::ExitCode;

fn main() -> ExitCode {
    shared::lesson::main(
        lesson_08::LESSON,
        Variant::Fixed,
        vec![
            close::SPEC.with(vec![close::piece("", fixed::ping_session).note(
                "The producer finished, its sender (the last one) was dropped, the channel\n\
                 closed, and recv returned None.",
            )]),
            backpressure::SPEC.with(vec![backpressure::piece("", fixed::flood).note(
                "When the channel was full, send().await waited for room: the producer ran at\n\
                 the consumer's pace.",
            )]),
        ],
    )
}
