//! Lesson 01, broken: orders "placed" by calling an async fn, never awaited;
//! and dishes cooked one after another where they could cook at once.
//! Run it with `cargo xtask run lesson-01 --broken`.

use lesson_01::{broken, dishes_in_turn, orders, pass};
use shared::lesson::Variant;
use std::process::ExitCode;

fn main() -> ExitCode {
    shared::lesson::main(
        lesson_01::LESSON,
        Variant::Broken,
        vec![
            orders::SPEC.with(vec![orders::piece("", broken::take_orders).note(
                "Not one line of cook() ran. Calling an async fn only builds a future, and a\n\
                 future does nothing until something polls it. These three were dropped at the\n\
                 end of their statement, unpolled (the marks above).",
            )]),
            pass::SPEC.with(vec![pass::piece("", dishes_in_turn).note(
                "Every dish was cooked, and listed as it came out; but each went in the oven\n\
                 only when the one before it was out, so the service took all their times\n\
                 added up.",
            )]),
        ],
    )
}
