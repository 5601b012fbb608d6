//! Lesson 02, broken: a big buffer kept across an .await, and a state
//! machine that rebuilds its inner future on every poll.
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
                "The buffer is alive across the .await, so it is part of every waiting\n\
                 task: 16 KiB each that nobody will read until the backend answers.",
            )]),
            naps::SPEC.with(vec![naps::piece("", broken::naps)]),
        ],
    )
}
