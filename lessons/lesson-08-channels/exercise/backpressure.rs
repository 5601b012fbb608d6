//! Lesson 08 · exercise `backpressure`: a queue that stays small.
//!
//! `flood` sends the messages of `messages()` (a few hundred, of 1 KiB) as
//! fast as it can to a consumer that takes a while over each, and the
//! channel's queue grows to hold almost all of them. Keep the messages
//! waiting few, wherever they wait, without losing one, then run
//!
//!     cargo xtask try lesson-08 backpressure
//!
//! Stuck? `cargo xtask hint lesson-08 backpressure`. Start over: `cargo xtask reset lesson-08 backpressure`.

use lesson_08::{Consumed, messages, slow_consumer};
use tokio::sync::mpsc;

/// TODO: the producer should not run far ahead of the consumer.
pub async fn flood() -> Consumed {
    let (tx, rx) = mpsc::unbounded_channel();
    let consumer = tokio::spawn(slow_consumer(rx));
    for msg in messages() {
        tx.send(msg).expect("the consumer is running");
    }
    drop(tx);
    consumer.await.expect("the consumer does not panic")
}

// Leave this as it is: it hands your `flood` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_08::backpressure::exercise(flood)
}
