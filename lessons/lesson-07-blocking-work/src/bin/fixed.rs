//! Lesson 07, fixed: the same jobs through spawn_blocking, block_in_place,
//! rayon::spawn and par_iter, measured side by side.
//! Run it with `cargo xtask run lesson-07 --fixed`.

use lesson_07::{
    Batch, JOB_TIME, JOBS, Measured, broken, cores, fixed, measure, rayon_pool, runtime,
};
use shared::lesson::{Scenario, Variant};
use std::process::ExitCode;

fn show(m: &Measured) {
    println!(
        "  {:<28} {:>4.0} jobs/s  {:>5.2} busy  {:>2} at once on {:>2} threads  heartbeat {:>4.1} ticks late",
        m.name,
        m.jobs_per_sec(),
        m.in_progress(),
        m.at_once,
        m.threads,
        m.lateness
    );
}

fn approaches() {
    let rt = runtime();
    println!(
        "{JOBS} jobs of {} ms of hashing on {} cores, beside a 10 ms heartbeat, six ways:",
        JOB_TIME.as_millis(),
        cores()
    );
    let inline = measure(
        &rt,
        ("inline", "inline (for comparison)"),
        JOBS,
        broken::inline,
    );
    show(&inline);
    // Each fix runs half the batch, in order, then the other half in reverse
    // order, so that a busy moment on the machine cannot favour one of them.
    let half = JOBS / 2;
    let spawn_blocking = ("spawn_blocking", "spawn_blocking, per core");
    let block_in_place = ("block_in_place", "block_in_place, per core");
    let rayon_spawn = ("rayon_spawn", "rayon::spawn + oneshot");
    let par_iter = ("par_iter", "rayon par_iter");
    let first = [
        measure(&rt, spawn_blocking, half, fixed::spawn_blocking),
        measure(&rt, block_in_place, half, fixed::block_in_place),
        measure(&rt, rayon_spawn, half, fixed::rayon_spawn),
        measure(&rt, par_iter, half, fixed::par_iter),
    ];
    let second = [
        measure(&rt, par_iter, half, fixed::par_iter),
        measure(&rt, rayon_spawn, half, fixed::rayon_spawn),
        measure(&rt, block_in_place, half, fixed::block_in_place),
        measure(&rt, spawn_blocking, half, fixed::spawn_blocking),
    ];
    let fixes: Vec<Measured> = first
        .into_iter()
        .zip(second.into_iter().rev())
        .map(|(a, b)| a.and(b))
        .collect();
    for m in &fixes {
        show(m);
    }
    let unbounded = measure(
        &rt,
        ("unbounded", "spawn_blocking, all at once"),
        JOBS,
        fixed::spawn_blocking_unbounded,
    );
    show(&unbounded);
    for m in &fixes {
        let key = m.key;
        shared::fact(&format!("{key}_lateness"), m.lateness);
        shared::fact(&format!("{key}_jobs_per_sec"), m.jobs_per_sec());
        shared::fact(&format!("{key}_in_progress"), m.in_progress());
        shared::fact(&format!("{key}_threads"), m.threads as u32);
        shared::fact(&format!("{key}_at_once"), m.at_once as u32);
    }
    let worst = fixes.iter().map(|m| m.lateness).fold(0.0, f64::max);
    // Throughput is compared among the three ways of running many separate
    // jobs (par_iter runs one big job, which ends only with its last piece),
    // as jobs in progress on average: jobs per second corrected for how fast
    // the machine happened to hash while each approach ran.
    let per_job = &fixes[..3];
    let best_rate = per_job
        .iter()
        .map(Measured::in_progress)
        .fold(0.0, f64::max);
    let worst_rate = per_job
        .iter()
        .map(Measured::in_progress)
        .fold(f64::MAX, f64::min);
    let pool = rayon_pool().current_num_threads();
    println!(
        "All at once, the blocking pool ran {} jobs at once on {} cores: the heartbeat's",
        unbounded.at_once,
        cores()
    );
    println!(
        "thread then competes with all of them ({:.1} ticks late). One job per core avoids that.",
        unbounded.lateness
    );
    let rayon_threads = fixes[2].threads;
    println!(
        "The heartbeat was {:.0} times less late than inline. Of the three ways to run many",
        inline.lateness / worst.max(0.01)
    );
    println!(
        "jobs, the slowest kept {:.0}% as many jobs going as the fastest. rayon used {rayon_threads}",
        worst_rate / best_rate * 100.0
    );
    println!("threads; its pool has {pool}. (\"busy\" is jobs in progress on average.)");
    shared::fact("inline_lateness", inline.lateness);
    shared::fact("unbounded_lateness", unbounded.lateness);
    shared::fact("unbounded_threads", unbounded.threads as u32);
    shared::fact("unbounded_at_once", unbounded.at_once as u32);
    shared::fact(
        "blocking_pool_growth",
        unbounded.at_once as f64 / cores() as f64,
    );
    shared::fact("lateness_improvement", inline.lateness / worst.max(0.01));
    shared::fact("throughput_spread", worst_rate / best_rate);
    shared::fact("rayon_threads_ratio", rayon_threads as f64 / pool as f64);
}

fn current_thread() {
    println!("spawn_blocking (one job per core), on a current-thread runtime, beside a heartbeat:");
    let run = fixed::spawn_blocking_on_current_thread(Batch::default());
    println!(
        "  all {JOBS} jobs done, {} of them on the runtime's own thread; the heartbeat was",
        run.jobs_on_runtime_thread
    );
    println!("  at most {:.1} ticks late.", run.lateness);
    shared::fact("jobs_on_runtime_thread", run.jobs_on_runtime_thread as u32);
    shared::fact("heartbeat_lateness", run.lateness);
}

fn main() -> ExitCode {
    shared::lesson::main(
        "lesson-07",
        Variant::Fixed,
        &[
            Scenario::new("approaches", approaches),
            Scenario::new("current-thread", current_thread),
        ],
    )
}
