//! Lesson 11 · exercise `nested`: a blocking library in async code, which
//! calls back into async code.
//!
//! `quote` runs on the app's runtime and asks a catalog library for a
//! price. The library's `price` builds a runtime of its own and blocks on
//! it, and tokio panics: "Cannot start a runtime from within a runtime".
//! Then the library asks the callback for an exchange rate, on a thread of
//! its own; the rate comes from `rates.rate`, which is async, and whose
//! connection is a task on the app's runtime. Then run
//!
//!     cargo xtask try lesson-11 nested
//!
//! Stuck? `cargo xtask hint lesson-11 nested`. Start over: `cargo xtask reset lesson-11 nested`.

use lesson_11::{Catalog, Rates};

/// TODO: get every price, with the rate from `rates`, without ever
/// blocking the app's thread (its only thread, a current-thread runtime).
pub async fn quote(catalog: Catalog, rates: Rates, item: u32) -> u64 {
    catalog.price(item, move |currency| {
        futures::executor::block_on(rates.rate(currency))
    })
}

// Leave this as it is: it hands your `quote` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_11::nested::exercise(quote)
}
