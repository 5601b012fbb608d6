//! `cargo bench -p lesson-09`: the lesson's runtime against tokio's, and
//! lesson 03's hand-written executor against `futures::executor`.
//!
//! Not a statistics package: each workload runs five times and the best
//! time is kept, which is enough to see factors of two. Run it on an idle
//! machine; the numbers are this machine's, not a law.

use lesson_09::runtime::Runtime;
use lesson_09::{fixed, yield_now};
use std::time::{Duration, Instant};

/// Tasks spawned, and yields each makes, in the spawn-and-yield workload.
const TASKS: usize = 20_000;
const YIELDS: usize = 10;
/// Yield-once futures run one after another by a single-threaded executor.
const ONE_BY_ONE: usize = 1_000_000;

fn best(mut run: impl FnMut() -> Duration) -> Duration {
    (0..5).map(|_| run()).min().expect("five runs")
}

async fn yielder() {
    for _ in 0..YIELDS {
        yield_now().await;
    }
}

fn ours(runtime: &Runtime) -> Duration {
    let handle = runtime.handle();
    let start = Instant::now();
    runtime.block_on(async {
        let tasks: Vec<_> = (0..TASKS).map(|_| handle.spawn(yielder())).collect();
        for t in tasks {
            t.await;
        }
    });
    start.elapsed()
}

fn tokio(runtime: &tokio::runtime::Runtime) -> Duration {
    let start = Instant::now();
    runtime.block_on(async {
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                tokio::spawn(async {
                    for _ in 0..YIELDS {
                        tokio::task::yield_now().await;
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.expect("a task does not panic");
        }
    });
    start.elapsed()
}

async fn many_yields() {
    for _ in 0..ONE_BY_ONE {
        yield_now().await;
    }
}

fn main() {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "spawn-and-yield: {TASKS} tasks of {YIELDS} yields each, {workers} worker(s); best of 5 runs"
    );
    let stealing = Runtime::new(workers, fixed::work_stealing);
    let one_queue = Runtime::with_one_queue(workers);
    let multi = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .expect("tokio starts");
    let current = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio starts");
    let rows = [
        ("tokio, multi-thread", best(|| tokio(&multi))),
        ("tokio, current-thread", best(|| tokio(&current))),
        ("ours, work-stealing", best(|| ours(&stealing))),
        ("ours, one locked queue", best(|| ours(&one_queue))),
    ];
    let base = rows[0].1.as_secs_f64();
    println!("| runtime | time | over tokio multi-thread |");
    println!("|---|---|---|");
    for (name, t) in rows {
        println!(
            "| {name} | {:.1} ms | {:.2}× |",
            t.as_secs_f64() * 1e3,
            t.as_secs_f64() / base
        );
    }

    println!();
    println!("one task, {ONE_BY_ONE} yields, one thread; best of 5 runs");
    let block_on = best(|| {
        let start = Instant::now();
        futures::executor::block_on(many_yields());
        start.elapsed()
    });
    let lesson_03 = best(|| {
        let start = Instant::now();
        let mut executor = lesson_03::MiniExecutor::default();
        executor.spawn(many_yields());
        executor.run();
        start.elapsed()
    });
    println!("| executor | time | over futures::executor::block_on |");
    println!("|---|---|---|");
    for (name, t) in [
        ("futures::executor::block_on", block_on),
        ("lesson 03's MiniExecutor", lesson_03),
    ] {
        println!(
            "| {name} | {:.1} ms | {:.2}× |",
            t.as_secs_f64() * 1e3,
            t.as_secs_f64() / block_on.as_secs_f64()
        );
    }
}
