//! Lesson 08, broken: a queue that never closes, and a channel that never
//! pushes back, nor a path of requests and replies bounded at one end only.
//! Run it with `cargo xtask run lesson-08 --broken`.

use lesson_08::{backpressure, broken, close, requests};
use shared::lesson::Variant;
use std::process::ExitCode;

fn main() -> ExitCode {
    shared::lesson::main(
        lesson_08::LESSON,
        Variant::Broken,
        vec![
            close::SPEC.with(vec![close::piece("", broken::job_session).note(
                "Every job was done, and the worker waited on: its own sender for the retries\n\
                 kept its queue open.",
            )]),
            backpressure::SPEC.with(vec![backpressure::piece("", broken::flood).note(
                "send() on an unbounded channel never waits, so the queue held whatever the\n\
                 consumer had not reached yet. With a million messages it would hold a gigabyte.",
            )]),
            requests::SPEC.with(vec![requests::piece("", broken::ask_all).note(
                "Every request was sent at once: the requests waited in the server's queue, and\n\
                 their replies in their oneshots until the client came to take them.",
            )]),
        ],
    )
}
