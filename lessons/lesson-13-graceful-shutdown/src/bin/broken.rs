//! Lesson 13, broken: a service that returns from `main` on Ctrl-C, and two
//! shutdowns that wait but race work that must not be cut.
//! Run it with `cargo xtask run lesson-13 --broken`.

use lesson_13::{broken, shutdown};
use shared::lesson::Variant;
use std::process::ExitCode;

fn main() -> ExitCode {
    shared::lesson::main(
        lesson_13::LESSON,
        Variant::Broken,
        vec![shutdown::SPEC.with(vec![
            shutdown::piece("main-returns", broken::serve).note(
                "serve returned at the Ctrl-C; dropping the runtime dropped every task where it stood: records half-written, requests queued and never answered.",
            ),
            shutdown::piece("split", broken::serve_split).note(
                "The stop won the race against a worker's turn: records were cut between their two steps, and the queue was left unread.",
            ),
            shutdown::piece("send", broken::serve_send).note(
                "The stop won the race against a send into the full queue: the request being sent was dropped, unanswered.",
            ),
        ])],
    )
}
