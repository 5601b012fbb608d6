//! Lesson 06 · exercise `mutex`: two hits, no deadlock.
//!
//! Two futures, joined in one task on a one-thread runtime, each call
//! `record_hit`: count a hit under a lock, then save the new count (an
//! `.await` that takes 20 ms). The program hangs. Make both hits counted
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

pub fn new_hits() -> Hits {
    Mutex::new(0)
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
