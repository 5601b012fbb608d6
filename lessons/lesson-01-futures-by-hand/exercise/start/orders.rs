//! Lesson 01 · exercise `orders`: get every order cooked.
//!
//! `take_orders` places the orders on the kitchen's pad the way you would
//! start work in JavaScript, by calling an async fn for each, and not one
//! dish gets cooked. Change it so that every order on the pad is cooked,
//! then run
//!
//!     cargo xtask try lesson-01
//!
//! Stuck? `cargo xtask hint lesson-01`. Start over: `cargo xtask reset lesson-01`.

use lesson_01::{Kitchen, place_order};

/// TODO: every order placed here should end up cooked.
pub fn take_orders(kitchen: &Kitchen) {
    for order in kitchen.orders() {
        let _ = place_order(kitchen, order);
    }
}

// Leave this as it is: it hands your `take_orders` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_01::orders::exercise(take_orders)
}
