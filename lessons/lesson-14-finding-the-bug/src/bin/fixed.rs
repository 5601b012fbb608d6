//! Lesson 14, fixed: the service with each fault found and fixed: a miss
//! awaits the store, the ranking runs on the blocking pool (or yields every
//! 16 items), the audit queue is bounded, the counts' lock is
//! released before any await, every waiting sender's waker is kept.
//! Run it with `cargo xtask run lesson-14 --fixed`.

use lesson_14::{BLOCKING, LOCK, LOST, QUEUE, STARVE, fixed, piece};
use shared::lesson::Variant;
use std::process::ExitCode;

fn main() -> ExitCode {
    shared::lesson::main(
        lesson_14::LESSON,
        Variant::Fixed,
        vec![
            BLOCKING.with(vec![piece::<fixed::Sound>("").note(
                "A miss awaits the store: the thread serves other requests meanwhile.",
            )]),
            STARVE.with(vec![
                piece::<fixed::Sound>("pool")
                    .note("The ranking runs on a blocking-pool thread: the runtime thread stays free."),
                piece::<fixed::Yielding>("yield")
                    .note("The ranking yields every 16 items: every other task gets a turn in between."),
            ]),
            QUEUE.with(vec![piece::<fixed::Sound>("").note(
                "The audit queue holds 32 events: a full queue makes the handlers wait, and the memory held stays small.",
            )]),
            LOCK.with(vec![piece::<fixed::Counted>("").note(
                "The counts' lock is held only while counting: its guard is dropped before the load is awaited.",
            )]),
            LOST.with(vec![
                piece::<fixed::Kept>("wakers")
                    .note("The queue keeps the waker of every sender that waits, and wakes them in turn."),
                piece::<fixed::Sound>("channel")
                    .note("tokio's bounded channel instead of a queue of our own: it keeps every waiting sender."),
            ]),
        ],
    )
}
