//! Lesson 01, broken: orders "placed" by calling an async fn, never awaited.
//! Run it with `cargo xtask run lesson-01 --broken`.

use lesson_01::{Kitchen, ORDERS, broken, polls_made};
use shared::lesson::{Scenario, Variant};
use std::process::ExitCode;

fn orders() {
    println!(
        "The café calls an async fn for each of its {} orders,",
        ORDERS.len()
    );
    println!("the way you would start work in JavaScript: place_order(&kitchen, order);");
    let kitchen = Kitchen::default();
    broken::take_orders(&kitchen);
    let cooked = kitchen.cooked();
    println!(
        "All orders placed. Dishes cooked: {cooked} of {}.",
        ORDERS.len()
    );
    if cooked == 0 {
        println!("Not one line of cook() ran. Calling an async fn only builds a future,");
        println!("and a future does nothing until something polls it. These three were");
        println!("dropped at the end of their statement, unpolled (the marks below).");
    }
    shared::fact("orders_placed", ORDERS.len() as u32);
    shared::fact("orders_cooked", cooked as u32);
    shared::fact("cooked_ratio", cooked as f64 / ORDERS.len() as f64);
    shared::fact("polls", polls_made());
}

fn main() -> ExitCode {
    shared::lesson::main(
        "lesson-01",
        Variant::Broken,
        &[Scenario::new("orders", orders)],
    )
}
