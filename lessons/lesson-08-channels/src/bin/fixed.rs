//! Lesson 08, fixed: no sender left once no job can come, a bounded channel,
//! and a path of requests and replies bounded from end to end.
//! Run it with `cargo xtask run lesson-08 --fixed`.

use lesson_08::{backpressure, close, fixed, requests};
use shared::lesson::Variant;
use std::process::ExitCode;

fn main() -> ExitCode {
    shared::lesson::main(
        lesson_08::LESSON,
        Variant::Fixed,
        vec![
            close::SPEC.with(vec![close::piece("", fixed::job_session).note(
                "The producer's channel closed when the producer was done; the worker kept its\n\
                 retries on a channel of its own, and stopped once none was out.",
            )]),
            backpressure::SPEC.with(vec![backpressure::piece("", fixed::flood).note(
                "When the channel was full, send().await waited for room: the producer ran at\n\
                 the consumer's pace.",
            )]),
            requests::SPEC.with(vec![requests::piece("", fixed::ask_all).note(
                "The calls and the replies waiting to be taken were both bounded: the client ran\n\
                 at most a channel's room ahead, and the server's slots stayed busy.",
            )]),
        ],
    )
}
