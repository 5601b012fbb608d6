//! Lesson 11 · exercise `no-reactor`: tokio from a plain thread.
//!
//! A sensor driver calls the callback that `on_reading` makes, on a thread
//! of its own, with each reading. The callback spawns a task to save it,
//! and tokio panics: "there is no reactor running, must be called from the
//! context of a Tokio 1.x runtime". Save every reading, then run
//!
//!     cargo xtask try lesson-11 no-reactor
//!
//! Stuck? `cargo xtask hint lesson-11 no-reactor`. Start over: `cargo xtask reset lesson-11 no-reactor`.

use lesson_11::{Reading, Store};

/// TODO: make the callback work on a thread that no runtime knows about.
/// (`on_reading` itself is called on the app's runtime.)
pub fn on_reading(store: Store) -> impl FnMut(Reading) + Send + 'static {
    move |reading| {
        tokio::spawn(store.save(reading));
    }
}

// Leave this as it is: it hands your `on_reading` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_11::no_reactor::exercise(on_reading)
}
