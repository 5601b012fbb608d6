//! Lesson 07, broken: CPU jobs hashed inline in async tasks, and
//! block_in_place on a current-thread runtime; and jobs that fetch, hash
//! and store, hashing inside their task (the `jobs` exercise's scenario).
//! Run it with `cargo xtask run lesson-07 --broken`.

use lesson_07::{approaches, broken, current_thread, fetch_hash_store};
use shared::lesson::Variant;
use std::process::ExitCode;

fn main() -> ExitCode {
    shared::lesson::main(
        lesson_07::LESSON,
        Variant::Broken,
        vec![
            approaches::SPEC
                .with(vec![approaches::piece("", broken::inline).note(
                    "The workers were busy hashing, so nobody polled the heartbeat.",
                )]),
            current_thread::SPEC.with(vec![current_thread::piece("", broken::block_in_place)]),
            fetch_hash_store::SPEC.with(vec![
                fetch_hash_store::piece("", broken::fetch_hash_store).note(
                    "The hashing ran inside the task's polls: on one thread, the heartbeat\n\
                     waited for it; on several, one worker hashed every page, one after another.",
                ),
            ]),
        ],
    )
}
