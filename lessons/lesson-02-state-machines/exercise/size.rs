//! The bug, moved out of sight: each handler's buffer goes into a `Vec`
//! kept beside the tasks (a "buffer pool" that is never emptied), and the
//! handler keeps only its index across the `.await`. The future is small;
//! the memory held while the handlers wait is the same 16 KiB each.

use lesson_02::{BUFFER, Backend, Reply, checksum, read_request, wait_for_backend};
use std::sync::Mutex;

static POOL: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

pub async fn handle(id: u32, backend: Backend) -> Reply {
    let (slot, len) = {
        let mut buffer = vec![0u8; BUFFER];
        let len = read_request(id, &mut buffer);
        let mut pool = POOL.lock().unwrap();
        pool.push(buffer);
        (pool.len() - 1, len)
    };
    wait_for_backend(backend).await;
    let pool = POOL.lock().unwrap();
    Reply {
        id,
        checksum: checksum(&pool[slot][..len]),
    }
}

fn main() -> std::process::ExitCode {
    lesson_02::size::exercise(handle)
}
