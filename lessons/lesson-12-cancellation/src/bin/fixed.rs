//! Lesson 12, fixed: a cancel-safe read, an aborted job, a job that stops
//! when asked, a loop that yields, and a race whose losers are aborted.
//! Run it with `cargo xtask run lesson-12 --fixed`.

use lesson_12::{fixed, frames, halt, handle, lines, race, starve, stop};
use shared::lesson::Variant;
use std::process::ExitCode;

fn main() -> ExitCode {
    shared::lesson::main(
        lesson_12::LESSON,
        Variant::Fixed,
        vec![
            lines::SPEC.with(vec![lines::piece("", fixed::collect).note(
                "The Lines reader kept each half line inside itself while the timer ran.",
            )]),
            handle::SPEC.with(vec![handle::piece("", fixed::ask).note(
                "abort() dropped the slow job at its next .await, before it sent anything.",
            )]),
            stop::SPEC.with(vec![stop::piece("", fixed::record).note(
                "The stop ended the wait for a reading; the write in progress and the readings in hand were finished first.",
            )]),
            starve::SPEC.with(vec![starve::piece("", fixed::process).note(
                "consume_budget returned Pending every 128 items, so the heartbeat and its neighbour got their turns between slices.",
            )]),
            race::SPEC.with(vec![race::piece("", fixed::fastest).note(
                "Returning dropped the JoinSet, which aborted every download still in it.",
            )]),
            frames::SPEC.with(vec![frames::piece("", fixed::collect_records).note(
                "The bytes read were kept in a buffer outside the select!, so a record cut by a tick was finished on the next turn.",
            )]),
            halt::SPEC.with(vec![halt::piece("", fixed::process_until_stopped).note(
                "The loop looked at the stop before each item and yielded through tokio's budget; the sum was kept outside any raced future.",
            )]),
        ],
    )
}
