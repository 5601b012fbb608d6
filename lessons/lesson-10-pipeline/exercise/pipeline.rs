//! Lesson 10 · exercise `pipeline`: wire the seams right.
//!
//! `run_pipeline` reads JSON lines on a thread, fetches each record's
//! details over HTTP, scores it (CPU work) and writes the results. As it
//! stands, the reader runs ahead into unbounded queues, every record gets
//! a runtime of its own, the results come out in any order, the whole run
//! blocks the runtime's thread, and a stop request is ignored. Make it keep
//! the runtime's thread free, bound every queue, fetch at most
//! `stages.in_flight` at once, score on rayon, write in input order, and
//! stop soon after `stages.stop` is cancelled without losing a record it
//! has read. Then run
//!
//!     cargo xtask try lesson-10
//!
//! Stuck? `cargo xtask hint lesson-10`. Start over: `cargo xtask reset lesson-10`.

use lesson_10::{Record, Scored, Stages};

/// TODO: one runtime (the one this runs on), bounded queues, rayon for the
/// scoring, and a stop that drains what was read.
pub async fn run_pipeline(stages: Stages) {
    let Stages {
        input,
        fetcher,
        cpu,
        sink,
        ..
    } = stages;
    let (records_tx, records) = crossbeam_channel::unbounded::<Record>();
    let (results_tx, results) = crossbeam_channel::unbounded::<Scored>();
    let reader = {
        let sink = sink.clone();
        std::thread::spawn(move || {
            for (line, text) in input {
                match serde_json::from_str::<Record>(&text) {
                    Ok(record) => records_tx.send(record).unwrap(),
                    Err(error) => sink.malformed(line, &error),
                }
            }
        })
    };
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (records, results) = (records.clone(), results_tx.clone());
            let (fetcher, cpu) = (fetcher.clone(), cpu.clone());
            std::thread::spawn(move || {
                while let Ok(record) = records.recv() {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    let details = runtime.block_on(fetcher.details(record));
                    results.send(cpu.score(record, details)).unwrap();
                }
            })
        })
        .collect();
    drop(results_tx);
    let writer = std::thread::spawn(move || {
        for scored in results {
            sink.write(scored);
        }
    });
    reader.join().unwrap();
    for worker in workers {
        worker.join().unwrap();
    }
    writer.join().unwrap();
}

// Leave this as it is: it hands your `run_pipeline` to the lesson's harness.
fn main() -> std::process::ExitCode {
    lesson_10::exercise(run_pipeline)
}
