//! Lesson 05, broken: a timer created inside a select! loop (and, for the
//! `deadline` exercise's scenario, a quiet timer that progress restarts).
//! Run it with `cargo xtask run lesson-05 --broken`.

use lesson_05::{broken, deadline, flush, quiet, report};
use shared::lesson::Variant;
use std::process::ExitCode;

fn main() -> ExitCode {
    shared::lesson::main(
        lesson_05::LESSON,
        Variant::Broken,
        vec![
            report::SPEC.with(vec![report::piece("", broken::worker).note(
                "Each new item won the select!, which dropped the sleep; the next turn made\n\
                 a new 100 ms sleep. None ever got to 100 ms.",
            )]),
            deadline::SPEC.with(vec![deadline::piece("", broken::read_until_deadline)]),
            quiet::SPEC.with(vec![quiet::piece("", broken::read_until_quiet)]),
            flush::SPEC.with(vec![flush::piece("", broken::worker_with_batches).note(
                "The items kept coming, so neither sleep made anew on each turn ever fired:\n\
                 no report, and no flush until the work ended.",
            )]),
        ],
    )
}
