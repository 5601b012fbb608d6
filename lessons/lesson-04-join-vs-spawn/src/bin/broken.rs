//! Lesson 04, broken: requests awaited one after another, CPU jobs joined
//! in one task in the hope of parallelism, and (the `fetch` exercise's
//! scenario) every request sent at once to a server that takes a few, and
//! (the `cpu` exercise's) jobs over lent inputs computed in one poll.
//! Run it with `cargo xtask run lesson-04 --broken`.

use lesson_04::{broken, cpu, fetch, limit, share};
use shared::lesson::Variant;
use std::process::ExitCode;

fn main() -> ExitCode {
    shared::lesson::main(
        lesson_04::LESSON,
        Variant::Broken,
        vec![
            fetch::SPEC.with(vec![fetch::piece("", broken::fetch_all).note(
                "Each .await waited for its answer before the next request was even sent.",
            )]),
            cpu::SPEC.with(vec![cpu::piece("", broken::run_jobs).note(
                "Every job ran on the one thread that polled the joined task; the other\n\
                 workers sat idle.",
            )]),
            limit::SPEC.with(vec![limit::piece("", broken::fetch_limited).note(
                "join_all sent every request at once: the server had more in flight than it takes.",
            )]),
            share::SPEC.with(vec![share::piece("", broken::run_shared).note(
                "Every job ran in the one poll of run_jobs, on the thread that polled it.",
            )]),
        ],
    )
}
