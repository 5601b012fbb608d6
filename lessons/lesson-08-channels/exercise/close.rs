//! Lesson 08 · exercise `close`: a handler that stops.
//!
//! `ping_session` starts a handler that counts pings until its channel
//! closes, and a producer that sends ten pings and finishes. All ten pings
//! arrive, but the handler never stops, and the session waits for it
//! forever. Make the handler stop once the producer is done, then run
//!
//!     cargo xtask try lesson-08 close
//!
//! Stuck? `cargo xtask hint lesson-08 close`. Start over: `cargo xtask reset lesson-08 close`.

use lesson_08::{count_pings, send_pings};
use tokio::sync::mpsc;

/// TODO: the handler should stop after the producer's last ping.
pub async fn ping_session() -> u32 {
    let (pings, inbox) = mpsc::channel(8);
    let handler = tokio::spawn(count_pings(inbox));
    tokio::spawn(send_pings(pings.clone()));
    handler.await.expect("the handler does not panic")
}

// Leave this as it is: it hands your `ping_session` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_08::close::exercise(ping_session)
}
