//! Lesson 06, fixed: tokio's sleep, and locks that are never held by a
//! paused future (or are async); and the answers to the exercises'
//! scenarios, `schedule` and `cache`.
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
                "Every event fired at its planned time, and the heartbeat kept time\n\
                 (the code is the sleep exercise's solution in the chapter).",
            )]),
            cache::SPEC.with(vec![cache::piece("", fixed::new_cache, fixed::get).note(
                "Each key was fetched once, different keys at the same time, and the\n\
                 heartbeat kept time (the code is the mutex exercise's solution in the chapter).",
            )]),
        ],
    )
}
