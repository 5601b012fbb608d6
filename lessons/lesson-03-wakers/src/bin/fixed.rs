//! Lesson 03, fixed: a delay whose timer thread keeps the latest waker and
//! wakes it once: two polls, an idle core, on any executor.
//! Run it with `cargo xtask run lesson-03 --fixed`.

use lesson_03::{TimerDelay, delay, spin};
use shared::lesson::Variant;
use std::process::ExitCode;

fn main() -> ExitCode {
    shared::lesson::main(
        lesson_03::LESSON,
        Variant::Fixed,
        vec![
            delay::SPEC.with(vec![delay::piece("", TimerDelay::new).note(
                "One poll to start the timer, one when it fired, on every executor: the timer\n\
                 thread woke whichever waker polled the delay last.",
            )]),
            spin::SPEC
                .with(vec![spin::piece("", TimerDelay::new).note(
                    "The timer thread slept; the task slept; the core was free.",
                )]),
        ],
    )
}
