//! Lesson 01, fixed: the same orders, handed to an executor that polls them.
//! Run it with `cargo xtask run lesson-01 --fixed`.

use lesson_01::{Kitchen, ORDERS, fixed, polls_made};
use shared::lesson::{Scenario, Variant};
use std::process::ExitCode;

fn orders() {
    let kitchen = Kitchen::default();

    println!("1. Await each order in turn, inside block_on (our ten-line executor):");
    shared::mark("await each order in turn");
    let before = polls_made();
    fixed::cook_in_turn(&kitchen);
    let in_turn_polls = polls_made() - before;
    println!("   block_on polled {in_turn_polls} times; each order ran start to finish.");

    println!("2. Join all three orders into one future, then block_on that:");
    shared::mark("join all three orders");
    let joined = Kitchen::default();
    let before = polls_made();
    fixed::cook_joined(&joined);
    let joined_polls = polls_made() - before;
    let interleaved = joined.interleaved();
    println!(
        "   block_on polled {joined_polls} times; each poll moved every order one step{}.",
        if interleaved {
            ", so their steps interleave"
        } else {
            ""
        }
    );
    println!("   One thread did all of it: joining is concurrency, not parallelism.");

    let placed = 2 * ORDERS.len();
    let cooked = kitchen.cooked() + joined.cooked();
    println!("Dishes cooked: {cooked} of {placed}.");
    shared::fact("orders_placed", placed as u32);
    shared::fact("orders_cooked", cooked as u32);
    shared::fact("cooked_ratio", cooked as f64 / placed as f64);
    shared::fact("interleaved", u32::from(interleaved));
    shared::fact("polls", polls_made());
}

fn main() -> ExitCode {
    shared::lesson::main(
        "lesson-01",
        Variant::Fixed,
        &[Scenario::new("orders", orders)],
    )
}
