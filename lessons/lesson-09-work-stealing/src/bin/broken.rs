//! Lesson 09, broken: a worker that never looks at the global queue while it
//! has local work, workers that never steal, and a parking that loses
//! wake-ups.
//! Run it with `cargo xtask run lesson-09 --broken`.

use lesson_09::{broken, fairness, parking, stealing};
use shared::lesson::Variant;
use std::process::ExitCode;

fn main() -> ExitCode {
    shared::lesson::main(
        lesson_09::LESSON,
        Variant::Broken,
        vec![
            fairness::SPEC.with(vec![fairness::piece("", broken::local_first).note(
                "The busy task was always in the local queue, so the global queue waited until it stopped.",
            )]),
            stealing::SPEC.with(vec![stealing::piece("", broken::no_stealing).note(
                "The second worker found the global queue empty and went back to sleep, every time.",
            )]),
            parking::SPEC.with(vec![parking::piece::<broken::Forgetful>("").note(
                "A task woken just as the worker had looked and found nothing notified nobody: the worker was not waiting yet.",
            )]),
        ],
    )
}
