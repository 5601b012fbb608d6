//! Lesson 03, broken: a delay future that returns Pending without arranging
//! a wake-up (it hangs), and one that wakes itself on every poll (it spins).
//! Run it with `cargo xtask run lesson-03 --broken`.

use lesson_03::{CountPolls, ForgetfulDelay, SpinDelay, cpu_ratio, current_thread_runtime};
use shared::TraceExt;
use shared::lesson::{Scenario, Variant};
use std::process::ExitCode;
use std::time::Duration;

fn delay() {
    println!("tokio's block_on polls a hand-written 100 ms delay. The delay returns");
    println!("Pending, but arranges no wake-up. Will tokio ever poll it again?");
    let runtime = current_thread_runtime();
    let delay = CountPolls::new(ForgetfulDelay::new(Duration::from_millis(100)), |n| {
        shared::fact("polls", n)
    });
    let ((), polls) = runtime.block_on(delay.traced("forgetful delay 100 ms"));
    println!("It finished after {polls} polls."); // never printed
}

fn spin() {
    println!("A 200 ms delay that wakes itself every time it says Pending:");
    let runtime = current_thread_runtime();
    let delay = CountPolls::new(SpinDelay::new(Duration::from_millis(200)), |_| {});
    let (((), polls), cpu) = cpu_ratio(|| runtime.block_on(delay.traced("spinning delay 200 ms")));
    println!(
        "It finished, after {polls} polls, with the CPU busy {:.0}% of the time.",
        cpu * 100.0
    );
    println!("Every one of those polls but the last only said \"not yet\".");
    shared::fact("polls", polls);
    shared::fact("cpu_ratio", cpu);
}

fn main() -> ExitCode {
    shared::lesson::main(
        "lesson-03",
        Variant::Broken,
        &[Scenario::new("delay", delay), Scenario::new("spin", spin)],
    )
}
