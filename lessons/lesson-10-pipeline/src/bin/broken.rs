//! Lesson 10, broken: a first design of the pipeline, with unbounded queues, a runtime
//! per record, and the whole run blocking the runtime's thread.
//! Run it with `cargo xtask run lesson-10 --broken`.

use lesson_10::{broken, broken_stage, flow, stop, uneven};
use shared::lesson::Variant;
use std::process::ExitCode;

fn main() -> ExitCode {
    shared::lesson::main(
        lesson_10::LESSON,
        Variant::Broken,
        vec![
            flow::SPEC.with(vec![flow::piece("", broken::run_pipeline).note(
                "The reader ran ahead of everything into an unbounded queue, and joining the threads held the runtime's thread for the whole run.",
            )]),
            stop::SPEC.with(vec![stop::piece("", broken::run_pipeline).note(
                "Nobody looked at the stop: every line was already read, and all of it went through first.",
            )]),
            uneven::SPEC.with(vec![uneven::piece("", broken_stage::fetch_in_order).note(
                "Behind each slow fetch, the finished ones waited in `buffered` and held its slots: no new fetch started until the slow one was handed on.",
            )]),
        ],
    )
}
