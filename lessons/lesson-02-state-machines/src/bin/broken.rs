//! Lesson 02, broken: a handler whose future holds a 16 KiB buffer in its
//! states, and a state machine that rebuilds its inner future on every
//! poll.
//! Run it with `cargo xtask run lesson-02 --broken`.

use lesson_02::{broken, naps, size};
use shared::lesson::Variant;
use std::process::ExitCode;

fn main() -> ExitCode {
    shared::lesson::main(
        lesson_02::LESSON,
        Variant::Broken,
        vec![
            size::SPEC.with(vec![size::piece("", broken::handle).note(
                "The request is alive across the backend's .await, so it is part of every\n\
                 waiting task: 16 KiB each that nobody will read until the backend answers.",
            )]),
            naps::SPEC.with(vec![naps::piece("", broken::naps)]),
        ],
    )
}
