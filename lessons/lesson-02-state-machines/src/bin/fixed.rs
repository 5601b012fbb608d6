//! Lesson 02, fixed: the buffer dropped before the .await, and each inner
//! future kept in the state that waits on it.
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
                "The buffer's scope ends before the .await: only the 8-byte checksum is kept.",
            )]),
            naps::SPEC.with(vec![naps::piece("", fixed::naps).note(
                "The nap in progress lives in the machine: each poll checks the same timer, and a new nap is made once it has fired.",
            )]),
        ],
    )
}
