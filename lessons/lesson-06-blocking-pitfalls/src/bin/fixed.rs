//! Lesson 06, fixed: tokio's sleep, and locks that are never held by a
//! paused task (or are async).
//! Run it with `cargo xtask run lesson-06 --fixed`.

use lesson_06::{NAP, NAPPERS, fixed, nappers, runtime, two_hits};
use shared::lesson::{Scenario, Variant};
use std::process::ExitCode;
use std::sync::Mutex;

fn sleep() {
    println!(
        "{NAPPERS} tasks each wait {} ms with tokio::time::sleep, on a one-thread runtime,",
        NAP.as_millis()
    );
    println!("beside a heartbeat that should tick every 10 ms.");
    let measured = runtime().block_on(nappers(fixed::nap));
    let ratio = measured.elapsed_ratio();
    println!(
        "All done after {} ms: {ratio:.2} times one wait. The heartbeat was at most {:.1} ticks late.",
        measured.elapsed.as_millis(),
        measured.lateness
    );
    measured.report();
}

fn mutex() {
    let rt = runtime();
    println!("Tasks A and B, joined on a one-thread runtime, each count a hit and save it.");
    println!("1. With a std::sync::Mutex whose guard is dropped before the .await:");
    shared::mark("std mutex, guard scoped");
    let hits = Mutex::new(0);
    let late_a = rt.block_on(two_hits(|| fixed::record_hit(&hits)));
    let scoped = *hits.lock().unwrap();
    println!("   {scoped} hits counted; heartbeat at most {late_a:.1} ticks late.");
    println!("2. With a tokio::sync::Mutex held across the .await, so saves stay in order:");
    shared::mark("tokio mutex");
    let ordered = tokio::sync::Mutex::new(0);
    let late_b = rt.block_on(two_hits(|| fixed::record_hit_in_order(&ordered)));
    let in_order = *ordered.blocking_lock();
    println!("   {in_order} hits counted; heartbeat at most {late_b:.1} ticks late.");
    shared::fact("hits", scoped + in_order);
    shared::fact("heartbeat_lateness", late_a.max(late_b));
}

fn main() -> ExitCode {
    shared::lesson::main(
        "lesson-06",
        Variant::Fixed,
        &[Scenario::new("sleep", sleep), Scenario::new("mutex", mutex)],
    )
}
