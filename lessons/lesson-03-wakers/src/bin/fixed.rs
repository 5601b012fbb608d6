//! Lesson 03, fixed: a delay whose timer thread keeps the latest waker and
//! wakes it once, run by our own executor and by tokio.
//! Run it with `cargo xtask run lesson-03 --fixed`.

use lesson_03::{CountPolls, MiniExecutor, TimerDelay, cpu_ratio, current_thread_runtime};
use shared::TraceExt;
use shared::lesson::{Scenario, Variant};
use std::process::ExitCode;
use std::time::Duration;

const DELAYS_MS: [u64; 3] = [50, 100, 150];

fn delay() {
    println!("1. Our own executor (a run queue and a hand-built waker) runs three timer");
    println!("   delays of 50, 100 and 150 ms:");
    shared::mark("our executor starts");
    let mut executor = MiniExecutor::default();
    for ms in DELAYS_MS {
        executor.spawn(TimerDelay::new(Duration::from_millis(ms)).traced(format!("delay {ms} ms")));
    }
    let ours = executor.run();
    println!("   polls per delay: {ours:?}: one to start the timer, one when it fired.");

    println!("2. tokio runs the same three delays, each spawned as a task of its own:");
    shared::mark("tokio starts");
    let runtime = current_thread_runtime();
    let tokio_polls = runtime.block_on(async {
        let handles = DELAYS_MS.map(|ms| {
            let delay = CountPolls::new(TimerDelay::new(Duration::from_millis(ms)), |_| {});
            tokio::spawn(delay.traced(format!("tokio: delay {ms} ms")))
        });
        let mut polls = Vec::new();
        for handle in handles {
            polls.push(handle.await.expect("a delay does not panic").1);
        }
        polls
    });
    println!(
        "   polls per delay: {tokio_polls:?}. Same future, other executor, same promise kept."
    );
    let most = ours
        .iter()
        .chain(tokio_polls.iter())
        .copied()
        .max()
        .unwrap_or(0);
    shared::fact("polls", most);
}

fn spin() {
    println!("A 200 ms timer delay: its timer thread sleeps, then wakes the task once.");
    let runtime = current_thread_runtime();
    let delay = CountPolls::new(TimerDelay::new(Duration::from_millis(200)), |_| {});
    let (((), polls), cpu) = cpu_ratio(|| runtime.block_on(delay.traced("timer delay 200 ms")));
    println!(
        "It finished after {polls} polls, with the CPU busy {:.0}% of the time.",
        cpu * 100.0
    );
    shared::fact("polls", polls);
    shared::fact("cpu_ratio", cpu);
}

fn main() -> ExitCode {
    shared::lesson::main(
        "lesson-03",
        Variant::Fixed,
        &[Scenario::new("delay", delay), Scenario::new("spin", spin)],
    )
}
