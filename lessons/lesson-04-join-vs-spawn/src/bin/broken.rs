//! Lesson 04, broken: requests awaited one after another, and CPU jobs
//! joined in one task in the hope of parallelism.
//! Run it with `cargo xtask run lesson-04 --broken`.

use lesson_04::{Api, IDS, JOB_TIME, JOBS, LATENCY, ROUNDS, broken, runtime, speedup, timed};
use shared::lesson::{Scenario, Variant};
use shared::server::DemoServer;
use std::process::ExitCode;

fn fetch() {
    let server = DemoServer::start(LATENCY).expect("the demo server starts on 127.0.0.1");
    let api = Api::new(&server);
    println!(
        "The server answers each request after {} ms.",
        LATENCY.as_millis()
    );
    println!(
        "Fetching todos {}..={} with a loop of .await:",
        IDS.start(),
        IDS.end()
    );
    let (todos, took) = timed(|| runtime().block_on(broken::fetch_all(&api)));
    let todos = todos.expect("the demo server answers");
    let ratio = took.as_secs_f64() / LATENCY.as_secs_f64();
    println!(
        "  got {} todos (\"{}\", ...) in {} ms: {ratio:.1} times one request's latency.",
        todos.len(),
        todos[0].title,
        took.as_millis()
    );
    println!(
        "  At most {} request was in flight at any moment.",
        server.stats().max_in_flight()
    );
    shared::fact("fetch_ratio", ratio);
    shared::fact("max_in_flight", server.stats().max_in_flight() as u32);
}

fn cpu() {
    let rt = runtime();
    println!(
        "{JOBS} jobs of {} ms, {ROUNDS} times in a plain loop (the baseline) and {ROUNDS} times",
        JOB_TIME.as_millis()
    );
    println!("joined in one task on the multi-threaded runtime; the totals count.");
    let totals = speedup(|| timed(|| rt.block_on(broken::run_jobs())).1);
    let (serial, took, speedup) = (totals.serial, totals.run, totals.ratio());
    println!(
        "  loops: {} ms in all; joined: {} ms in all; a speedup of {speedup:.2}.",
        serial.as_millis(),
        took.as_millis()
    );
    println!("  Every job ran on the same thread; the other workers sat idle.");
    shared::fact("cpu_speedup", speedup);
}

fn main() -> ExitCode {
    shared::lesson::main(
        "lesson-04",
        Variant::Broken,
        &[Scenario::new("fetch", fetch), Scenario::new("cpu", cpu)],
    )
}
