//! Lesson 08, broken: a channel that never closes, and one that never
//! pushes back.
//! Run it with `cargo xtask run lesson-08 --broken`.

use lesson_08::{CAPACITY, ITEMS, PINGS, broken, runtime};
use shared::TraceExt;
use shared::lesson::{Scenario, Variant};
use std::process::ExitCode;

fn close() {
    println!("A producer sends {PINGS} pings; a handler counts them until the channel closes.");
    println!("(If it never closes, the watchdog stops the program after 2 s.)");
    let count = runtime().block_on(broken::ping_session().traced("main"));
    println!("The handler counted {count} pings."); // never printed
}

fn backpressure() {
    println!("A producer sends {ITEMS} messages of 1 KiB as fast as it can over an unbounded");
    println!("channel; the consumer needs 1 ms for each.");
    let seen = runtime().block_on(broken::flood());
    println!(
        "The queue peaked at {} messages ({} KiB), {:.0}% of all that was sent.",
        seen.peak_queue,
        seen.peak_queue,
        seen.peak_queue as f64 / f64::from(ITEMS) * 100.0
    );
    println!(
        "With a million messages it would hold a gigabyte. (A bounded channel would hold {CAPACITY}.)"
    );
    seen.report();
}

fn main() -> ExitCode {
    shared::lesson::main(
        "lesson-08",
        Variant::Broken,
        &[
            Scenario::new("close", close),
            Scenario::new("backpressure", backpressure),
        ],
    )
}
