//! Lesson 06 · exercise `sleep`: a schedule that keeps time.
//!
//! Followers, on a runtime with one thread, each fire a list of events at
//! planned times: event `i` is due `plan.offsets()[i]` after `follow`
//! starts. Firing an event, `plan.fire(i).await`, takes a while (each event
//! its own time). Beside them a heartbeat ticks every 10 ms. Now each
//! follower holds the thread while it waits, so they take turns, and the
//! events come late. Fix `follow`, then run
//!
//!     cargo xtask try lesson-06 sleep
//!
//! Stuck? `cargo xtask hint lesson-06 sleep`. Start over: `cargo xtask reset lesson-06 sleep`.

use lesson_06::schedule::Plan;
use std::time::Duration;

/// TODO: fire every event at its planned time, without holding the thread
/// while you wait, and without drift: each event is due at its offset from
/// the start, however long the events before it took to fire.
pub async fn follow(plan: &Plan) {
    let mut previous = Duration::ZERO;
    for (i, &due) in plan.offsets().iter().enumerate() {
        std::thread::sleep(due - previous); // wait out the gap before event i
        previous = due;
        plan.fire(i).await;
    }
}

// Leave this as it is: it hands your `follow` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_06::schedule::exercise(follow)
}
