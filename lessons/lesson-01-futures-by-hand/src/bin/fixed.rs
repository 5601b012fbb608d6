//! Lesson 01, fixed: the same orders, handed to an executor that polls them;
//! and a hand-written future that cooks all the dishes at once.
//! Run it with `cargo xtask run lesson-01 --fixed`.

use lesson_01::{fixed, orders, pass};
use shared::lesson::Variant;
use std::process::ExitCode;

fn main() -> ExitCode {
    shared::lesson::main(
        lesson_01::LESSON,
        Variant::Fixed,
        vec![
            orders::SPEC.with(vec![
                orders::piece("in-turn", fixed::cook_in_turn).note(
                    "Each order was awaited inside block_on (our ten-line executor) before the next\n\
                     was placed: one after another.",
                ),
                orders::piece("joined", fixed::cook_joined).note(
                    "join_all made one future of all three; each poll moved every order one step.\n\
                     One thread did all of it: joining is concurrency, not parallelism.",
                ),
            ]),
            pass::SPEC.with(vec![pass::piece("", fixed::pass).note(
                "Every poll of the pass polled each dish still in the oven, with its own Context:\n\
                 the oven woke the one task when any dish was done, and the dishes cooked at once.",
            )]),
        ],
    )
}
