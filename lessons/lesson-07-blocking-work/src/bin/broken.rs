//! Lesson 07, broken: CPU jobs hashed inline in async tasks, and
//! block_in_place on a current-thread runtime.
//! Run it with `cargo xtask run lesson-07 --broken`.

use lesson_07::{approaches, broken, current_thread};
use shared::lesson::Variant;
use std::process::ExitCode;

fn main() -> ExitCode {
    shared::lesson::main(
        lesson_07::LESSON,
        Variant::Broken,
        vec![
            approaches::SPEC
                .with(vec![approaches::piece("", broken::inline).note(
                    "The workers were busy hashing, so nobody polled the heartbeat.",
                )]),
            current_thread::SPEC.with(vec![current_thread::piece("", broken::block_in_place)]),
        ],
    )
}
