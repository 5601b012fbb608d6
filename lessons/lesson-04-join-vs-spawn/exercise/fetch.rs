//! Lesson 04 · exercise `fetch`: many requests in the time of one.
//!
//! `fetch_all` asks the lesson's server for the todos with the given ids.
//! The server answers each after about 100 ms, and `fetch_all` takes that
//! long for every todo in turn. Make it take about the time of the slowest
//! one, returning the same todos in the same order (or the error, if a
//! request fails), then run
//!
//!     cargo xtask try lesson-04 fetch
//!
//! Stuck? `cargo xtask hint lesson-04 fetch`. Start over: `cargo xtask reset lesson-04 fetch`.

use lesson_04::{Api, Todo};

/// TODO: the requests should not wait for each other.
pub async fn fetch_all(api: &Api, ids: &[u32]) -> anyhow::Result<Vec<Todo>> {
    let mut todos = Vec::new();
    for &id in ids {
        todos.push(api.todo(id).await?);
    }
    Ok(todos)
}

// Leave this as it is: it hands your `fetch_all` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_04::fetch::exercise(fetch_all)
}
