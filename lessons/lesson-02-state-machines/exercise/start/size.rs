//! Lesson 02 · exercise `size`: make a waiting handler small.
//!
//! A server spawns one `handle` task per request. Each reads its request
//! into a 16 KiB buffer, then waits for a slow backend. Two thousand
//! handlers waiting at once hold over 30 MiB, though none of them will look
//! at its buffer again. Change `handle` so that a waiting handler holds no
//! buffer (its reply must stay the checksum of its request's bytes, which
//! change with every run; it must still read its request before it waits,
//! since the backend is asked on the request's behalf, and still wait for
//! the backend), then run
//!
//!     cargo xtask try lesson-02 size
//!
//! Stuck? `cargo xtask hint lesson-02 size`. Start over: `cargo xtask reset lesson-02 size`.

use lesson_02::{BUFFER, Backend, Reply, checksum, read_request, wait_for_backend};

/// TODO: a handler waiting for the backend should not hold the buffer.
pub async fn handle(id: u32, backend: Backend) -> Reply {
    let mut buffer = [0u8; BUFFER];
    let len = read_request(id, &mut buffer);
    wait_for_backend(backend).await;
    Reply {
        id,
        checksum: checksum(&buffer[..len]),
    }
}

// Leave this as it is: it hands your `handle` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_02::size::exercise(handle)
}
