//! Lesson 11 · exercise `nested`: a blocking library in async code.
//!
//! `quote` runs on the app's runtime and asks a catalog library for a
//! price. The library's `price` builds a runtime of its own and blocks on
//! it, and tokio panics: "Cannot start a runtime from within a runtime".
//! Get every price without blocking the app's thread, then run
//!
//!     cargo xtask try lesson-11 nested
//!
//! Stuck? `cargo xtask hint lesson-11 nested`. Start over: `cargo xtask reset lesson-11 nested`.

use lesson_11::Catalog;

/// TODO: get the price without blocking on a runtime from this thread.
pub async fn quote(catalog: Catalog, item: u32) -> u64 {
    catalog.price(item)
}

// Leave this as it is: it hands your `quote` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_11::nested::exercise(quote)
}
