//! Lesson 11, broken: a blocking library called from async code, a runtime
//! dropped in async code, and tokio called from a plain thread. Each one
//! panics; and (`reopen`, the `drop-runtime` exercise's) connections
//! opened while the one before is still closing. Run it with `cargo xtask run lesson-11 --broken`.

use lesson_11::{broken, drop_runtime, nested, no_reactor, reopen};
use shared::lesson::Variant;
use std::process::ExitCode;

fn main() -> ExitCode {
    shared::lesson::main(
        lesson_11::LESSON,
        Variant::Broken,
        vec![
            nested::SPEC.with(vec![nested::piece("", broken::quote)]),
            drop_runtime::SPEC.with(vec![drop_runtime::piece("", broken::balances)]),
            no_reactor::SPEC.with(vec![no_reactor::piece("", broken::on_reading)]),
            reopen::SPEC.with(vec![reopen::piece("", broken::reopening_balances)]),
            reopen::SPEC.with(vec![reopen::piece("", broken::reopening_balances)]),
        ],
    )
}
