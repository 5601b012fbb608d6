//! Lesson 10, fixed: one runtime, bounded queues at every seam, CPU work on
//! rayon, and a stop that drains what was read.
//! Run it with `cargo xtask run lesson-10 --fixed`.

use lesson_10::{fixed, fixed_stage, flow, stop, uneven};
use shared::lesson::Variant;
use std::process::ExitCode;

fn main() -> ExitCode {
    shared::lesson::main(
        lesson_10::LESSON,
        Variant::Fixed,
        vec![
            flow::SPEC.with(vec![flow::piece("", fixed::run_pipeline).note(
                "The full queue parked the reader, the allowed fetches ran at a time, and the runtime's thread only waited.",
            )]),
            stop::SPEC.with(vec![stop::piece("", fixed::run_pipeline).note(
                "The reader stopped reading and dropped its sender; what was already inside flowed out, and every thread was joined.",
            )]),
            uneven::SPEC.with(vec![uneven::piece("", fixed_stage::fetch_in_order).note(
                "Behind each slow fetch, the free slots kept fetching up to the window; the finished ones waited in the map for their turn.",
            )]),
        ],
    )
}
