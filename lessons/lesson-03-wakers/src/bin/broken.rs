//! Lesson 03, broken: a delay future that returns Pending without arranging
//! a wake-up (it hangs), one that wakes itself on every poll (it spins), and
//! a crowd of delays that each start a timer thread of their own.
//! Run it with `cargo xtask run lesson-03 --broken`.

use lesson_03::{ForgetfulDelay, SpinDelay, TimerDelay, crowd, delay, spin};
use shared::lesson::Variant;
use std::process::ExitCode;

fn main() -> ExitCode {
    shared::lesson::main(
        lesson_03::LESSON,
        Variant::Broken,
        vec![
            delay::SPEC.with(vec![delay::piece("", ForgetfulDelay::new)]),
            spin::SPEC.with(vec![spin::piece("", SpinDelay::new).note(
                "Every one of those polls but the last only said \"not yet\", and asked to be\n\
                 polled again at once.",
            )]),
            crowd::SPEC.with(vec![crowd::piece("", TimerDelay::new).note(
                "Every delay finished on time, and each had a thread of its own asleep until\n\
                 then: as many threads as delays waiting.",
            )]),
        ],
    )
}
