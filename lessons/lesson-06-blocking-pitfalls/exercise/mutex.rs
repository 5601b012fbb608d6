//! Lesson 06 · exercise `mutex`: every hit counted, no deadlock.
//!
//! Futures, joined in one task on a one-thread runtime, each call
//! `record_hit`: count a hit under a lock, then save the new count (an
//! `.await` that takes a while). The program hangs. Make every hit counted
//! and saved, without blocking the thread, then run
//!
//!     cargo xtask try lesson-06 mutex
//!
//! You may change `Hits` and `new_hits` too.
//!
//! Stuck? `cargo xtask hint lesson-06 mutex`. Start over: `cargo xtask reset lesson-06 mutex`.

use lesson_06::save;
use std::sync::Mutex;

/// The shared counter.
pub type Hits = Mutex<u32>;

/// The counter, starting from the hits `stored` so far.
pub fn new_hits(stored: u32) -> Hits {
    Mutex::new(stored)
}

/// TODO: count a hit and save the new count, without a deadlock.
pub async fn record_hit(hits: &Hits) {
    let mut count = hits.lock().unwrap();
    *count += 1;
    save(*count).await;
}

// Leave this as it is: it hands your code to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_06::mutex::exercise(new_hits, record_hit)
}
