//! Lesson 12 · exercise `handle`: the first good file wins.
//!
//! `fastest` downloads a file from several mirrors at once and answers
//! with the checksum of the first good copy; some mirrors fail. It answers
//! on time, but every other download goes on after the answer, for nobody.
//! Answer as soon as the first good file comes, stop every other download,
//! then run
//!
//!     cargo xtask try lesson-12 handle
//!
//! Stuck? `cargo xtask hint lesson-12 handle`. Start over: `cargo xtask reset lesson-12 handle`.

use lesson_12::Mirror;

/// TODO: once you have the answer, no download may go on running.
pub async fn fastest(mirrors: Vec<Mirror>) -> u64 {
    let (done, mut results) = tokio::sync::mpsc::unbounded_channel();
    for mirror in &mirrors {
        let (done, download) = (done.clone(), mirror.run());
        tokio::spawn(async move {
            let _ = done.send(download.await);
        });
    }
    loop {
        let result = results.recv().await.expect("`done` is still here");
        if let Ok(checksum) = result {
            return checksum;
        }
    }
}

// Leave this as it is: it hands your `fastest` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_12::race::exercise(fastest)
}
