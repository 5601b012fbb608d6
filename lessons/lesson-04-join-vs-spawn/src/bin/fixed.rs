//! Lesson 04, fixed: requests joined (and as a JoinSet), and CPU jobs
//! spawned as tasks.
//! Run it with `cargo xtask run lesson-04 --fixed`.

use lesson_04::{Api, IDS, JOB_TIME, JOBS, LATENCY, ROUNDS, fixed, runtime, speedup, timed};
use shared::lesson::{Scenario, Variant};
use shared::server::DemoServer;
use std::process::ExitCode;

fn fetch() {
    let server = DemoServer::start(LATENCY).expect("the demo server starts on 127.0.0.1");
    let api = Api::new(&server);
    let rt = runtime();
    println!(
        "The server answers each request after {} ms.",
        LATENCY.as_millis()
    );
    println!(
        "1. Fetching todos {}..={} with join_all:",
        IDS.start(),
        IDS.end()
    );
    shared::mark("join_all");
    let (todos, joined) = timed(|| rt.block_on(fixed::fetch_all(&api)));
    let todos = todos.expect("the demo server answers");
    let joined_ratio = joined.as_secs_f64() / LATENCY.as_secs_f64();
    println!(
        "   got {} todos in {} ms: {joined_ratio:.2} times one latency.",
        todos.len(),
        joined.as_millis()
    );
    println!("2. The same with a JoinSet, one task per request:");
    shared::mark("JoinSet");
    let (todos, set) = timed(|| rt.block_on(fixed::fetch_all_join_set(&api)));
    let todos = todos.expect("the demo server answers");
    let set_ratio = set.as_secs_f64() / LATENCY.as_secs_f64();
    println!(
        "   got {} todos in {} ms: {set_ratio:.2} times one latency.",
        todos.len(),
        set.as_millis()
    );
    println!(
        "   Up to {} requests were in flight at once.",
        server.stats().max_in_flight()
    );
    shared::fact("fetch_ratio", joined_ratio.max(set_ratio));
    shared::fact("max_in_flight", server.stats().max_in_flight() as u32);
}

fn cpu() {
    let rt = runtime();
    println!(
        "{JOBS} jobs of {} ms, {ROUNDS} times in a plain loop (the baseline) and {ROUNDS} times",
        JOB_TIME.as_millis()
    );
    println!("each spawned as a task on the multi-threaded runtime; the totals count.");
    let totals = speedup(|| timed(|| rt.block_on(fixed::run_jobs())).1);
    let (serial, took, speedup) = (totals.serial, totals.run, totals.ratio());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "  loops: {} ms in all; spawned: {} ms in all; a speedup of {speedup:.2} ({cores} cores, so at best {cores}).",
        serial.as_millis(),
        took.as_millis()
    );
    shared::fact("cpu_speedup", speedup);
}

fn main() -> ExitCode {
    shared::lesson::main(
        "lesson-04",
        Variant::Fixed,
        &[Scenario::new("fetch", fetch), Scenario::new("cpu", cpu)],
    )
}
