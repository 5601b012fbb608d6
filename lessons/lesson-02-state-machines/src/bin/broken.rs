//! Lesson 02, broken: a big buffer kept across an .await, and a state
//! machine that rebuilds its inner future on every poll.
//! Run it with `cargo xtask run lesson-02 --broken`.

use lesson_02::{BUFFER, NAPS_STARTED, broken, naps_with_heartbeat, park_handlers, timer_runtime};
use shared::lesson::{Scenario, Variant};
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::Duration;

#[global_allocator]
static ALLOC: shared::alloc::CountingAlloc = shared::alloc::CountingAlloc;

const HANDLERS: u32 = 2000;

fn size() {
    let (_ready, backend) = tokio::sync::watch::channel(false);
    let future_bytes = size_of_val(&broken::handle(0, backend));
    println!(
        "Each request handler reads into a {} KiB buffer, then waits for a",
        BUFFER / 1024
    );
    println!("slow backend. One handler future is {future_bytes} bytes.");
    println!("Spawning {HANDLERS} of them and letting them all wait:");
    let parked = park_handlers(HANDLERS, broken::spawn_handler);
    println!(
        "  {} bytes of heap per waiting task, {:.1} MiB in all, for buffers",
        parked.bytes_per_task,
        (parked.bytes_per_task * HANDLERS as usize) as f64 / (1024.0 * 1024.0)
    );
    println!("  that nobody will read again until the backend answers.");
    parked.report(future_bytes);
}

fn naps() {
    shared::watchdog::default_deadline(Duration::from_secs(2));
    println!("A hand-written state machine naps 30 ms twice. A heartbeat in the same");
    println!("task ticks every 10 ms, so the task is polled every 10 ms.");
    println!("(If it never finishes, the watchdog stops it after 2 s.)");
    let ticks = timer_runtime().block_on(naps_with_heartbeat(broken::TwoNaps::First));
    println!(
        "Done after {ticks} ticks and {} naps.",
        NAPS_STARTED.load(Ordering::SeqCst)
    ); // never printed
}

fn main() -> ExitCode {
    shared::lesson::main(
        "lesson-02",
        Variant::Broken,
        &[Scenario::new("size", size), Scenario::new("naps", naps)],
    )
}
