//! Lesson 08 · exercise `backpressure`: a path that stays small.
//!
//! `ask_all` sends the requests of `requests()` (a few hundred, of 1 KiB)
//! to a server that serves 8 at once, each with a oneshot for its reply
//! (1 KiB too), and hands every reply to `answers`, in the requests'
//! order. It sends them all before it takes a reply, so nearly every
//! request and reply is alive at once. Keep few of them alive, wherever
//! they wait, keep the server busy, and lose none, then run
//!
//!     cargo xtask try lesson-08 backpressure
//!
//! Stuck? `cargo xtask hint lesson-08 backpressure`. Start over: `cargo xtask reset lesson-08 backpressure`.

use lesson_08::{Answers, Call, requests, server};
use tokio::sync::{mpsc, oneshot};

/// TODO: the client should not run far ahead of the replies it has taken.
pub async fn ask_all(answers: Answers) {
    let (calls, inbox) = mpsc::unbounded_channel();
    let server = tokio::spawn(server(inbox));
    let mut replies = Vec::new();
    for request in requests() {
        let (reply, answer) = oneshot::channel();
        calls
            .send(Call { request, reply })
            .expect("the server is running");
        replies.push(answer);
    }
    for answer in replies {
        answers.take(answer.await.expect("the server replies"));
    }
    drop(calls);
    server.await.expect("the server does not panic");
}

// Leave this as it is: it hands your `ask_all` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_08::requests::exercise(ask_all)
}
