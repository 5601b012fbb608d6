//! Lesson 05, fixed: one pinned timer across the loop, or an interval (and,
//! for the `deadline` exercise's scenario, three timers in one loop).
//! Run it with `cargo xtask run lesson-05 --fixed`.

use lesson_05::{deadline, fixed, flush, quiet, report};
use shared::lesson::Variant;
use std::process::ExitCode;

fn main() -> ExitCode {
    shared::lesson::main(
        lesson_05::LESSON,
        Variant::Fixed,
        vec![
            report::SPEC.with(vec![
                report::piece("pinned-sleep", fixed::worker).note(
                    "One sleep, pinned outside the loop and selected by &mut, reset after it fired.",
                ),
                report::piece("interval", fixed::worker_with_interval)
                    .note("An interval keeps its own schedule across the loop's turns."),
            ]),
            deadline::SPEC.with(vec![deadline::piece("", fixed::read_until_deadline).note(
                "One deadline for the whole read, pinned outside the loop.",
            )]),
            quiet::SPEC.with(vec![quiet::piece("", fixed::read_until_quiet).note(
                "Three timers kept across the loop: the progress interval, one deadline, and a\n\
                 quiet timer reset only when a number came (the deadline exercise's solution).",
            )]),
            flush::SPEC.with(vec![flush::piece("", fixed::worker_with_batches).note(
                "An interval for the reports; a flush timer started by each batch's first item\n\
                 and off while the batch was empty (the report exercise's solution).",
            )]),
        ],
    )
}
