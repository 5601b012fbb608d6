//! Lesson 02 · exercise `size`: make a handler small in every state.
//!
//! A server spawns one `handle` task per request. Each receives its request
//! with the lesson's `receive` (which reads the request's parts into a
//! 16 KiB buffer as they arrive), then waits for a slow backend, then
//! replies with the checksum of the request's bytes. Two thousand handlers
//! waiting at once hold over 60 MiB.
//!
//! Change `handle` (not `receive`, which is the lesson's) so that its
//! future is under 1 KiB and a waiting handler holds no request, on the
//! heap or anywhere else. The reply must stay the checksum of the
//! request's bytes, which change with every run; the handler must still
//! receive its whole request before it waits (the backend is asked on the
//! request's behalf), and still wait for the backend. Then run
//!
//!     cargo xtask try lesson-02 size
//!
//! Stuck? `cargo xtask hint lesson-02 size`. Start over: `cargo xtask reset lesson-02 size`.

use lesson_02::{Backend, Reply, checksum, receive, wait_for_backend};

/// TODO: make this future small, and a waiting handler hold no request.
pub async fn handle(id: u32, backend: Backend) -> Reply {
    let request = receive(id).await;
    wait_for_backend(backend).await;
    Reply {
        id,
        checksum: checksum(request.bytes()),
    }
}

// Leave this as it is: it hands your `handle` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_02::size::exercise(handle)
}
