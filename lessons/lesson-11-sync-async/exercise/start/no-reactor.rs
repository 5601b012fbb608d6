//! Lesson 11 · exercise `no-reactor`: tokio from a plain thread.
//!
//! A sensor driver calls the callback that `on_reading` makes, on a thread
//! of its own, with each reading, and drops the callback when it stops.
//! The callback spawns a task to save each reading, and tokio panics:
//! "there is no reactor running, must be called from the context of a
//! Tokio 1.x runtime". Then run
//!
//!     cargo xtask try lesson-11 no-reactor
//!
//! Stuck? `cargo xtask hint lesson-11 no-reactor`. Start over: `cargo xtask reset lesson-11 no-reactor`.

use lesson_11::{Reading, Store};

/// TODO: save every reading, once, with `store.save`:
/// - one save at a time, in the order the readings came (the store is a log;
///   a save takes 4 to 8 ms);
/// - the driver has a buffer of `lesson_11::BUFFER` (4) readings: while
///   fewer wait unsaved, the callback must return at once; when 4 wait, it
///   must wait for room (never drop a reading);
/// - when the driver drops the callback, nothing you started may keep
///   running.
///
/// `on_reading` itself is called on the app's runtime (one thread, which
/// must never block).
pub fn on_reading(store: Store) -> impl FnMut(Reading) + Send + 'static {
    move |reading| {
        tokio::spawn(store.save(reading));
    }
}

// Leave this as it is: it hands your `on_reading` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_11::no_reactor::exercise(on_reading)
}
