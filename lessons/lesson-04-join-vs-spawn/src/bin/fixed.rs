//! Lesson 04, fixed: requests joined (or spawned into a JoinSet), CPU jobs
//! spawned as tasks, and (the `fetch` exercise's scenario) at most `limit`
//! requests in flight, each freed slot taking the next, and (the `cpu`
//! exercise's) a task per job, each owning its input.
//! Run it with `cargo xtask run lesson-04 --fixed`.

use lesson_04::{cpu, fetch, fixed, limit, share};
use shared::lesson::Variant;
use std::process::ExitCode;

fn main() -> ExitCode {
    shared::lesson::main(
        lesson_04::LESSON,
        Variant::Fixed,
        vec![
            fetch::SPEC.with(vec![
                fetch::piece("join-all", fixed::fetch_all)
                    .note("join_all kept every request in flight at once, inside one task."),
                fetch::piece("join-set", fixed::fetch_all_join_set)
                    .note("The JoinSet made each request a task of its own."),
            ]),
            cpu::SPEC.with(vec![cpu::piece("", fixed::run_jobs).note(
                "Each job was a task of its own, so every worker thread could take one.",
            )]),
            limit::SPEC.with(vec![limit::piece("", fixed::fetch_limited).note(
                "Each request held one of `limit` permits until its answer came, so the next\n\
                 request went the moment a slot was free (the fetch exercise's solution).",
            )]),
            share::SPEC.with(vec![share::piece("", fixed::run_shared).note(
                "Each job was a task with its own copy of its input, so the workers computed\n\
                 them at once (the cpu exercise's solution).",
            )]),
        ],
    )
}
