//! Lesson 07, fixed: the same jobs through spawn_blocking, block_in_place,
//! rayon::spawn and par_iter, each judged on its own; and spawn_blocking on
//! a current-thread runtime; and the answer to the `jobs` exercise's
//! scenario, `fetch-hash-store`.
//! Run it with `cargo xtask run lesson-07 --fixed`.

use lesson_07::{approaches, current_thread, fetch_hash_store, fixed};
use shared::lesson::Variant;
use std::process::ExitCode;

fn main() -> ExitCode {
    shared::lesson::main(
        lesson_07::LESSON,
        Variant::Fixed,
        vec![
            approaches::SPEC.with(vec![
                approaches::piece("spawn-blocking", fixed::spawn_blocking).note(
                    "tokio's blocking pool hashed, one job per core; the workers stayed free.",
                ),
                approaches::piece("block-in-place", fixed::block_in_place)
                    .note("Each job's worker handed its other tasks to a new worker, then hashed."),
                approaches::piece("rayon-spawn", fixed::rayon_spawn)
                    .note("rayon's pool, one thread per core, hashed; the tasks awaited oneshots."),
                approaches::piece("par-iter", fixed::par_iter)
                    .note("One big job, split by par_iter over rayon's pool."),
            ]),
            current_thread::SPEC.with(vec![current_thread::piece("", fixed::spawn_blocking).note(
                "The blocking pool is separate from the runtime's one thread, which ran no job.",
            )]),
            fetch_hash_store::SPEC.with(vec![
                fetch_hash_store::piece("", fixed::fetch_hash_store).note(
                    "Every page was hashed off the runtime, one per core at a time, while the\n\
                     fetches and stores overlapped (the code is the jobs exercise's solution in\n\
                     the chapter).",
                ),
            ]),
        ],
    )
}
