//! Lesson 09, fixed: tokio's policy with a fixed interval (tokio tunes
//! its own, starting at 61), the global queue first every 61st time, and
//! stealing when idle; and idle workers that sleep without losing a
//! wake-up.
//! Run it with `cargo xtask run lesson-09 --fixed`.

use lesson_09::{fairness, fixed, parking, stealing};
use shared::lesson::Variant;
use std::process::ExitCode;

fn main() -> ExitCode {
    shared::lesson::main(
        lesson_09::LESSON,
        Variant::Fixed,
        vec![
            fairness::SPEC.with(vec![fairness::piece("", fixed::work_stealing).note(
                "Every 61st poll the worker looked at the global queue first, and found the outside task.",
            )]),
            stealing::SPEC.with(vec![stealing::piece("", fixed::work_stealing).note(
                "The idle worker took half of its sibling's queue, and the two ran the batch together.",
            )]),
            parking::SPEC.with(vec![parking::piece::<fixed::Sleepers>("").note(
                "A worker counted itself asleep, then looked again with the lock held: a push that came after its look found it counted, and waited for the lock to wake it.",
            )]),
        ],
    )
}
