//! Lesson 11, fixed: the blocking call on the blocking pool, the runtime
//! dropped there too, and the runtime's handle carried to the plain thread.
//! Run it with `cargo xtask run lesson-11 --fixed`.

use lesson_11::{drop_runtime, fixed, nested, no_reactor, reopen};
use shared::lesson::Variant;
use std::process::ExitCode;

fn main() -> ExitCode {
    shared::lesson::main(
        lesson_11::LESSON,
        Variant::Fixed,
        vec![
            nested::SPEC.with(vec![nested::piece("", fixed::quote).note(
                "Each price call blocked a blocking-pool thread; the app's thread kept its heartbeat.",
            )]),
            drop_runtime::SPEC.with(vec![drop_runtime::piece("", fixed::balances).note(
                "Each connection's runtime was dropped on a blocking-pool thread, where its wait is allowed.",
            )]),
            no_reactor::SPEC.with(vec![no_reactor::piece("", fixed::on_reading).note(
                "The driver's thread spawned each save through the app runtime's Handle.",
            )]),
            reopen::SPEC.with(vec![reopen::piece("", fixed::reopening_balances).note(
                "Each close ran on a blocking-pool thread, and was over before the next connection opened.",
            )]),
        ],
    )
}
