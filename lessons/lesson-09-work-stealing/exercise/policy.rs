//! Lesson 09 · exercise `policy`: which task runs next.
//!
//! Each worker of the lesson's runtime calls `pick` to choose its next task.
//! This one takes its own local work first, then the global queue. A task
//! spawned from outside waits for ever while a local task keeps waking
//! itself, and a worker with nothing of its own sits idle while its sibling
//! has a full queue. Fix both, then run
//!
//!     cargo xtask try lesson-09
//!
//! Stuck? `cargo xtask hint lesson-09`. Start over: `cargo xtask reset lesson-09`.

use lesson_09::runtime::{Pick, Task};
use std::sync::Arc;

/// TODO: be fair to the global queue, and do not idle while a sibling has work.
pub fn pick(pick: &mut Pick<'_>) -> Option<Arc<Task>> {
    pick.local().or_else(|| pick.global())
}

// Leave this as it is: it hands your `pick` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_09::exercise(pick)
}
