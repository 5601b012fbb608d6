//! Memory per task, counted by a counting allocator. One test in its own
//! binary, so no other test's allocations are counted with it.

use lesson_02::{BUFFER, broken, fixed, park_handlers};

#[global_allocator]
static ALLOC: shared::alloc::CountingAlloc = shared::alloc::CountingAlloc;

#[test]
fn every_waiting_task_holds_its_future_on_the_heap() {
    let broken = park_handlers(300, broken::spawn_handler);
    let fixed = park_handlers(300, fixed::spawn_handler);
    assert_eq!((broken.replies, fixed.replies), (300, 300));
    assert!(
        broken.bytes_per_task >= BUFFER,
        "each broken task holds the buffer: {} bytes",
        broken.bytes_per_task
    );
    assert!(
        fixed.bytes_per_task <= 1024,
        "a fixed task is small: {} bytes",
        fixed.bytes_per_task
    );
}
