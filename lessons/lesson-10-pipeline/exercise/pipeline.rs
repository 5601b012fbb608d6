//! Lesson 10 · exercise `pipeline`: a fetch stage that keeps order when
//! some fetches are slow.
//!
//! Between the lesson's reader and its scoring, `fetch_in_order` fetches
//! each record's details and hands record and details on, in input order.
//! As it stands it is the fetch stage as one first writes it,
//! `buffered(in_flight)`. Here one fetch in a dozen or two takes ten times
//! as long as the others, and while it runs, the other slots finish their
//! fetches and then sit idle. Keep up to `in_flight` fetches running
//! whenever records are waiting, start none `window` or more places past
//! the oldest record not yet handed on, and still hand on in input order.
//! Then run
//!
//!     cargo xtask try lesson-10
//!
//! Stuck? `cargo xtask hint lesson-10`. Start over: `cargo xtask reset lesson-10`.

use futures::StreamExt;
use lesson_10::Fetching;

/// TODO: a slow fetch must not hold up the starts of the ones behind it
/// (within the window), nor their place in the output.
pub async fn fetch_in_order(stage: Fetching) {
    let Fetching {
        mut records,
        fetcher,
        in_flight,
        out,
        ..
    } = stage;
    let records = futures::stream::poll_fn(move |cx| records.poll_recv(cx));
    let fetched = records
        .map(|record| {
            let details = fetcher.details(record);
            async move { (record, details.await) }
        })
        .buffered(in_flight);
    let mut fetched = std::pin::pin!(fetched);
    while let Some(pair) = fetched.next().await {
        if out.send(pair).await.is_err() {
            break;
        }
    }
}

// Leave this as it is: it hands your `fetch_in_order` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_10::exercise(fetch_in_order)
}
