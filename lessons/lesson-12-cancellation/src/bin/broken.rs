//! Lesson 12, broken: a read lost to a timer, a job left running, a job
//! that ignores the stop until its deadline, a loop that never yields, and
//! the losers of a race left running.
//! Run it with `cargo xtask run lesson-12 --broken`.

use lesson_12::{broken, frames, halt, handle, lines, race, starve, stop};
use shared::lesson::Variant;
use std::process::ExitCode;

fn main() -> ExitCode {
    shared::lesson::main(
        lesson_12::LESSON,
        Variant::Broken,
        vec![
            lines::SPEC.with(vec![lines::piece("", broken::collect).note(
                "Each time the timer won, select! dropped read_line, and the half line it held.",
            )]),
            handle::SPEC.with(vec![handle::piece("", broken::ask).note(
                "Dropping the JoinHandle detached the task; it ran to its end for nobody.",
            )]),
            stop::SPEC.with(vec![stop::piece("", broken::record).note(
                "The job never looked at the stop: dropped at the deadline, it lost the readings in its hands.",
            )]),
            starve::SPEC.with(vec![starve::piece("", broken::process).note(
                "The loop never returned Pending, so the heartbeat waited for the whole backlog.",
            )]),
            race::SPEC.with(vec![race::piece("", broken::fastest).note(
                "Returning dropped the channel, not the tasks: the other downloads ran to their end for nobody.",
            )]),
            frames::SPEC.with(vec![frames::piece("", broken::collect_records).note(
                "Each time the timer won, select! dropped read_record, and the bytes of the record it had read: the next length was read from the middle of a record.",
            )]),
            halt::SPEC.with(vec![halt::piece("", broken::process_until_stopped).note(
                "The loop never returned Pending: the select! never looked at the stop, and the heartbeat waited for the whole backlog.",
            )]),
        ],
    )
}
