//! Lesson 06, broken: std::thread::sleep inside async, and a std mutex
//! guard held across .await (and the same two bugs in the exercises'
//! scenarios, `schedule` and `cache`).
//! Run it with `cargo xtask run lesson-06 --broken`.

use lesson_06::{broken, cache, mutex, schedule, sleep};
use shared::lesson::Variant;
use std::process::ExitCode;
use std::sync::Mutex;

fn main() -> ExitCode {
    shared::lesson::main(
        lesson_06::LESSON,
        Variant::Broken,
        vec![
            sleep::SPEC.with(vec![sleep::piece("", broken::nap).note(
                "Each std::thread::sleep held the runtime's only thread for its whole wait:\n\
                 no other napper, and not the heartbeat, could run meanwhile.",
            )]),
            mutex::SPEC.with(vec![mutex::piece("", Mutex::new, broken::record_hit)]),
            schedule::SPEC.with(vec![schedule::piece("", broken::follow).note(
                "Each gap waited with std::thread::sleep held the thread: the followers took\n\
                 turns, and every event after the first few came late.",
            )]),
            cache::SPEC.with(vec![cache::piece("", broken::new_cache, broken::get)]),
        ],
    )
}
