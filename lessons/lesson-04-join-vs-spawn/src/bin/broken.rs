//! Lesson 04, broken: requests awaited one after another, and CPU jobs
//! joined in one task in the hope of parallelism.
//! Run it with `cargo xtask run lesson-04 --broken`.

use lesson_04::{broken, cpu, fetch};
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
        ],
    )
}
