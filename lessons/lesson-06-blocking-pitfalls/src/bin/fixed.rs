//! Lesson 06, fixed: tokio's sleep, and locks that are never held by a
//! paused future (or are async); in the exercises' scenarios, waits to a
//! deadline and a cache that fetches each key once.
//! Run it with `cargo xtask run lesson-06 --fixed`.

use lesson_06::{cache, fixed, mutex, schedule, sleep};
use shared::lesson::Variant;
use std::process::ExitCode;
use std::sync::Mutex;

fn main() -> ExitCode {
    shared::lesson::main(
        lesson_06::LESSON,
        Variant::Fixed,
        vec![
            sleep::SPEC.with(vec![sleep::piece("", fixed::nap).note(
                "tokio::time::sleep returned Pending and gave the thread back: the waits\n\
                 overlapped, and the heartbeat kept time.",
            )]),
            mutex::SPEC.with(vec![
                mutex::piece("scoped-guard", Mutex::new, fixed::record_hit)
                    .note("The std guard was dropped before the .await: the lock was free while A waited."),
                mutex::piece(
                    "tokio-mutex",
                    tokio::sync::Mutex::new,
                    fixed::record_hit_in_order,
                )
                .note("B waited for tokio's Mutex with an .await, so the thread stayed free for A."),
            ]),
            schedule::SPEC.with(vec![schedule::piece("", fixed::follow).note(
                "Each follower waited with sleep_until for its event's own time, counted\n\
                 from its start: the thread stayed free, and no event moved later.",
            )]),
            cache::SPEC.with(vec![cache::piece("", fixed::new_cache, fixed::get).note(
                "The std lock was held only to find a key's cell; the gets of a key being\n\
                 fetched waited on that cell with an .await.",
            )]),
        ],
    )
}
