//! Lesson 04 · exercise `fetch`: ten requests in the time of one.
//!
//! `fetch_all` asks the lesson's server for ten todos. The server answers
//! each after 100 ms, and `fetch_all` takes a whole second. Make it take
//! about one latency, returning the same ten todos in the same order, then
//! run
//!
//!     cargo xtask try lesson-04 fetch
//!
//! Stuck? `cargo xtask hint lesson-04 fetch`. Start over: `cargo xtask reset lesson-04 fetch`.

use lesson_04::{Api, IDS, Todo};

/// TODO: the ten requests should not wait for each other.
pub async fn fetch_all(api: &Api) -> anyhow::Result<Vec<Todo>> {
    let mut todos = Vec::new();
    for id in IDS {
        todos.push(api.todo(id).await?);
    }
    Ok(todos)
}

// Leave this as it is: it hands your `fetch_all` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_04::fetch::exercise(fetch_all)
}
