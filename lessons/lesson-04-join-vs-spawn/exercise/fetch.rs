//! Lesson 04 · exercise `fetch`: many requests, but not too many at once.
//!
//! `fetch_all` asks the lesson's server for the todos with the given ids,
//! all at once, with `join_all`. But this server takes at most
//! `limit` requests at a time (the harness picks the limit, the latencies
//! and the ids when it runs). Keep at most `limit` requests in flight, and
//! keep the server as busy as that allows: the moment one answer comes, the
//! next request goes. Return the todos in the order of `ids`. Then run
//!
//!     cargo xtask try lesson-04 fetch
//!
//! Stuck? `cargo xtask hint lesson-04 fetch`. Start over: `cargo xtask reset lesson-04 fetch`.

use lesson_04::{Api, Todo};

/// TODO: never more than `limit` requests in flight, and never fewer while
/// some are still to be sent.
pub async fn fetch_all(api: &Api, ids: &[u32], limit: usize) -> anyhow::Result<Vec<Todo>> {
    let _ = limit; // not used yet
    let requests = ids.iter().map(|&id| api.todo(id));
    futures::future::join_all(requests)
        .await
        .into_iter()
        .collect()
}

// Leave this as it is: it hands your `fetch_all` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_04::limit::exercise(fetch_all)
}
