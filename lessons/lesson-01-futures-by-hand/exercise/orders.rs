//! Lesson 01 · exercise `orders`: cook every dish at once.
//!
//! The harness hands each service's dishes to `pass` and runs the future it
//! returns on this lesson's `block_on`. A `Dish` is a future: it goes in the
//! oven at its first poll and is ready with its ticket number when its
//! cooking time (picked at run time) is up; the oven then wakes the waker of
//! its latest poll. `Pass` below is ready at once, and not one dish is
//! cooked. Then run
//!
//!     cargo xtask try lesson-01
//!
//! Stuck? `cargo xtask hint lesson-01`. Start over: `cargo xtask reset lesson-01`.

use lesson_01::Dish;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// TODO: write `poll` by hand (no `join_all`), so that all of a service's
/// dishes cook at the same time, none is polled after it returned `Ready`,
/// and the list holds the tickets in the order the dishes were ready.
pub struct Pass {
    dishes: Vec<Dish>,
}

impl Future for Pass {
    type Output = Vec<u32>;

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Vec<u32>> {
        let _ = &self.dishes;
        Poll::Ready(Vec::new())
    }
}

pub fn pass(dishes: Vec<Dish>) -> Pass {
    Pass { dishes }
}

// Leave this as it is: it hands your `pass` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_01::pass::exercise(pass)
}
