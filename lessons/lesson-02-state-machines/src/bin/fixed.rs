//! Lesson 02, fixed: the buffer dropped before the .await, and each inner
//! future kept in the state that waits on it.
//! Run it with `cargo xtask run lesson-02 --fixed`.

use lesson_02::{BUFFER, NAPS_STARTED, fixed, naps_with_heartbeat, park_handlers, timer_runtime};
use shared::lesson::{Scenario, Variant};
use std::process::ExitCode;
use std::sync::atomic::Ordering;

#[global_allocator]
static ALLOC: shared::alloc::CountingAlloc = shared::alloc::CountingAlloc;

const HANDLERS: u32 = 2000;

fn size() {
    let (_ready, backend) = tokio::sync::watch::channel(false);
    let future_bytes = size_of_val(&fixed::handle(0, backend));
    println!(
        "Each request handler reads into a {} KiB buffer and keeps only the",
        BUFFER / 1024
    );
    println!("checksum across the .await. One handler future is {future_bytes} bytes.");
    println!("Spawning {HANDLERS} of them and letting them all wait:");
    let parked = park_handlers(HANDLERS, fixed::spawn_handler);
    println!(
        "  {} bytes of heap per waiting task, {:.2} MiB in all.",
        parked.bytes_per_task,
        (parked.bytes_per_task * HANDLERS as usize) as f64 / (1024.0 * 1024.0)
    );
    parked.report(future_bytes);
}

fn naps() {
    println!("A hand-written state machine naps 30 ms twice, keeping each nap in its");
    println!("state. A heartbeat in the same task ticks every 10 ms.");
    let ticks = timer_runtime().block_on(naps_with_heartbeat(fixed::TwoNaps::Start));
    println!(
        "Done after {ticks} heartbeat ticks, having started {} naps.",
        NAPS_STARTED.load(Ordering::SeqCst)
    );
}

fn main() -> ExitCode {
    shared::lesson::main(
        "lesson-02",
        Variant::Fixed,
        &[Scenario::new("size", size), Scenario::new("naps", naps)],
    )
}
