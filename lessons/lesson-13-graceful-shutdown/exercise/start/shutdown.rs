//! Lesson 13 · exercise `shutdown`: shut a service down on Ctrl-C, and
//! lose nothing.
//!
//! This service spawns a task per request: it writes the request's record
//! to the store (two steps, a few milliseconds each), then answers the
//! client. On Ctrl-C, `serve` returns at once, and `main` drops the
//! runtime with every task in it: records are cut in half, and clients
//! are left unanswered. `listener.accept()` is cancel-safe;
//! `store.write()` is not. Some records take longer than the deadline:
//! those may be given up, but must be reported
//! (`store.report_unfinished(n)`), never dropped in silence.
//!
//! Then run `cargo xtask try lesson-13 shutdown`. Stuck?
//! `cargo xtask hint lesson-13 shutdown`. Start over: `cargo xtask reset lesson-13 shutdown`.

use lesson_13::{Listener, Store};
use std::time::Duration;

/// TODO: on Ctrl-C, stop accepting, let every request already accepted be
/// written and answered, and return once all of that is done, well before
/// `deadline`. If the deadline comes first, report how many requests are
/// still unfinished, and return. Leave no other task running.
pub async fn serve(listener: Listener, store: Store, deadline: Duration) {
    let _ = deadline;
    tokio::spawn(async move {
        loop {
            let mut request = listener.accept().await;
            let store = store.clone();
            tokio::spawn(async move {
                let receipt = store.write(&mut request).await;
                request.answer(receipt).await;
            });
        }
    });
    tokio::signal::ctrl_c()
        .await
        .expect("tokio's Ctrl-C handler installs");
}

// Leave this as it is: it hands your `serve` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_13::shutdown::exercise(serve)
}
