//! Lesson 02, fixed: a handler small in every state, and the nap in
//! progress kept in the state machine.
//! Run it with `cargo xtask run lesson-02 --fixed`.

use lesson_02::{fixed, naps, size};
use shared::lesson::Variant;
use std::process::ExitCode;

fn main() -> ExitCode {
    shared::lesson::main(
        lesson_02::LESSON,
        Variant::Fixed,
        vec![
            size::SPEC.with(vec![size::piece("", fixed::handle).note(
                "receive's future is boxed and freed once the request is in; only the 8-byte\n\
                 checksum is kept across the backend's .await.",
            )]),
            naps::SPEC.with(vec![naps::piece("", fixed::naps).note(
                "The nap in progress lives in the machine: each poll checks the same timer, and a new nap is made once it has fired.",
            )]),
        ],
    )
}
