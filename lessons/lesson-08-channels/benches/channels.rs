//! Messages per second through std, crossbeam and tokio channels.
//!
//! `cargo bench -p lesson-08` (a release build). One million `u64`s from one
//! producer, then from four producers sharing the work, to one consumer;
//! each channel unbounded and bounded (1024 slots). Every figure is the
//! median of five runs. Threads for std and crossbeam; tasks on a
//! multi-threaded runtime for tokio.

use std::time::{Duration, Instant};

const MESSAGES: u64 = 1_000_000;
const BOUND: usize = 1024;
const RUNS: usize = 5;

/// Runs `f` (which returns the elapsed time) a few times; the median rate.
fn median_rate(f: impl Fn() -> Duration) -> f64 {
    let mut rates: Vec<f64> = (0..RUNS)
        .map(|_| MESSAGES as f64 / f().as_secs_f64())
        .collect();
    rates.sort_by(f64::total_cmp);
    rates[RUNS / 2]
}

/// Sends `MESSAGES` split over `producers` threads through a thread
/// channel, receiving on this thread.
fn threads<S: Send + Clone + 'static>(
    producers: u64,
    channel: impl Fn() -> (S, Box<dyn FnMut() -> Option<u64>>),
    send: fn(&S, u64),
) -> Duration {
    let (tx, mut recv) = channel();
    let start = Instant::now();
    let handles: Vec<_> = (0..producers)
        .map(|_| {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for i in 0..MESSAGES / producers {
                    send(&tx, i);
                }
            })
        })
        .collect();
    drop(tx);
    let mut got = 0;
    while let Some(v) = recv() {
        std::hint::black_box(v);
        got += 1;
    }
    let took = start.elapsed();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(got, MESSAGES);
    took
}

fn tokio_channel(producers: u64, bounded: bool) -> Duration {
    // The two kinds have different types, so one macro serves both: the
    // channel, and how to send on it (`send(i)` or `send(i).await`).
    macro_rules! run {
        (($tx:ident, $rx:ident) = $make:expr, |$i:ident| $send:expr) => {{
            let ($tx, mut $rx) = $make;
            let handles: Vec<_> = (0..producers)
                .map(|_| {
                    let $tx = $tx.clone();
                    tokio::spawn(async move {
                        for $i in 0..MESSAGES / producers {
                            $send;
                        }
                    })
                })
                .collect();
            drop($tx);
            let got = tokio::spawn(async move {
                let mut got = 0;
                while $rx.recv().await.is_some() {
                    got += 1;
                }
                got
            })
            .await
            .unwrap();
            (handles, got)
        }};
    }
    let rt = tokio::runtime::Builder::new_multi_thread().build().unwrap();
    rt.block_on(async {
        let start = Instant::now();
        let (handles, got) = if bounded {
            run!((tx, rx) = tokio::sync::mpsc::channel(BOUND), |i| tx
                .send(i)
                .await
                .unwrap())
        } else {
            run!((tx, rx) = tokio::sync::mpsc::unbounded_channel(), |i| tx
                .send(i)
                .unwrap())
        };
        let took = start.elapsed();
        for h in handles {
            h.await.unwrap();
        }
        assert_eq!(got, MESSAGES);
        took
    })
}

fn main() {
    // `cargo test --benches` runs this with `--bench`-less arguments; only
    // measure when asked to bench.
    if !std::env::args().any(|a| a == "--bench") {
        println!("run with `cargo bench -p lesson-08` to measure");
        return;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "{} million u64 messages to one consumer; median of {RUNS} runs; {cores} cores.\n",
        MESSAGES / 1_000_000
    );
    println!("| channel | kind | producers | million messages / s |");
    println!("|---|---|---:|---:|");
    for producers in [1, 4] {
        // One row per thread channel: its name, its kind, and how to make one.
        macro_rules! thread_row {
            ($name:expr, $kind:expr, $make:expr) => {
                (
                    $name,
                    $kind,
                    median_rate(|| {
                        threads(
                            producers,
                            || {
                                let (tx, rx) = $make;
                                (tx, Box::new(move || rx.recv().ok()))
                            },
                            |tx, v| tx.send(v).unwrap(),
                        )
                    }),
                )
            };
        }
        let rows: [(&str, &str, f64); 6] = [
            thread_row!(
                "std::sync::mpsc",
                "unbounded",
                std::sync::mpsc::channel::<u64>()
            ),
            thread_row!(
                "std::sync::mpsc",
                "bounded",
                std::sync::mpsc::sync_channel::<u64>(BOUND)
            ),
            thread_row!(
                "crossbeam-channel",
                "unbounded",
                crossbeam_channel::unbounded::<u64>()
            ),
            thread_row!(
                "crossbeam-channel",
                "bounded",
                crossbeam_channel::bounded::<u64>(BOUND)
            ),
            (
                "tokio::sync::mpsc",
                "unbounded",
                median_rate(|| tokio_channel(producers, false)),
            ),
            (
                "tokio::sync::mpsc",
                "bounded",
                median_rate(|| tokio_channel(producers, true)),
            ),
        ];
        for (name, kind, rate) in rows {
            println!("| {name} | {kind} | {producers} | {:.1} |", rate / 1e6);
        }
    }
}
