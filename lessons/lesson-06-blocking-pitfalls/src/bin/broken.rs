//! Lesson 06, broken: std::thread::sleep inside async, and a std mutex
//! guard held across .await.
//! Run it with `cargo xtask run lesson-06 --broken`.

use lesson_06::{NAP, NAPPERS, broken, nappers, runtime, two_hits};
use shared::lesson::{Scenario, Variant};
use std::process::ExitCode;
use std::sync::Mutex;

fn sleep() {
    println!(
        "{NAPPERS} tasks each wait {} ms with std::thread::sleep, on a one-thread runtime,",
        NAP.as_millis()
    );
    println!("beside a heartbeat that should tick every 10 ms.");
    let measured = runtime().block_on(nappers(broken::nap));
    let ratio = measured.elapsed_ratio();
    println!(
        "All done after {} ms: {ratio:.1} times one wait. The heartbeat was up to {:.0} ticks late.",
        measured.elapsed.as_millis(),
        measured.lateness
    );
    measured.report();
}

fn mutex() {
    println!("Tasks A and B, joined on a one-thread runtime, each count a hit under a");
    println!("std::sync::Mutex and save the count (an .await) before unlocking.");
    println!("(If they deadlock, the watchdog stops the program after 2 s.)");
    let hits = Mutex::new(0);
    let lateness = runtime().block_on(two_hits(|| broken::record_hit(&hits)));
    println!("Both done; heartbeat at most {lateness:.0} ticks late."); // never printed
}

fn main() -> ExitCode {
    shared::lesson::main(
        "lesson-06",
        Variant::Broken,
        &[Scenario::new("sleep", sleep), Scenario::new("mutex", mutex)],
    )
}
