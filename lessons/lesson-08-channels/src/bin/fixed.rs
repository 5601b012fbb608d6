//! Lesson 08, fixed: the last sender dropped, and a bounded channel.
//! Run it with `cargo xtask run lesson-08 --fixed`.

use lesson_08::{CAPACITY, ITEMS, PINGS, fixed, runtime};
use shared::TraceExt;
use shared::lesson::{Scenario, Variant};
use std::process::ExitCode;

fn close() {
    println!("A producer sends {PINGS} pings; a handler counts them until the channel closes.");
    let count = runtime().block_on(fixed::ping_session().traced("main"));
    println!("The producer finished, its sender (the last one) was dropped, the channel");
    println!("closed, and the handler counted {count} pings.");
    shared::fact("pings_counted", count);
}

fn backpressure() {
    println!("A producer sends {ITEMS} messages of 1 KiB over a channel with room for {CAPACITY};");
    println!("the consumer needs 1 ms for each.");
    let seen = runtime().block_on(fixed::flood());
    println!(
        "The queue peaked at {} messages ({} KiB); the producer waited for room instead.",
        seen.peak_queue, seen.peak_queue
    );
    seen.report();
}

fn main() -> ExitCode {
    shared::lesson::main(
        "lesson-08",
        Variant::Fixed,
        &[
            Scenario::new("close", close),
            Scenario::new("backpressure", backpressure),
        ],
    )
}
