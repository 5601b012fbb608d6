//! Lesson 03, fixed: a delay whose timer thread keeps the latest waker and
//! wakes it once: two polls, an idle core, on any executor; and, for a crowd,
//! a delay that hands its deadline to one timer thread for all.
//! Run it with `cargo xtask run lesson-03 --fixed`.

use lesson_03::{QueuedDelay, TimerDelay, crowd, delay, spin};
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
            crowd::SPEC.with(vec![crowd::piece("", QueuedDelay::new).note(
                "One timer thread waited for every delay: it slept until the earliest\n\
                 deadline, and a new delay's earlier deadline woke it to look again.",
            )]),
        ],
    )
}
