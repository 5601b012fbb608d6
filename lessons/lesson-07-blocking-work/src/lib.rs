//! # Lesson 07: spawn_blocking vs block_in_place vs rayon
//!
//! CPU-heavy or blocking work must leave the runtime's worker threads, or
//! every task on them waits (lesson 06). There are several ways out, and
//! they suit different work: tokio's blocking pool (`spawn_blocking`),
//! turning the current worker into a blocking thread (`block_in_place`), and
//! a separate pool sized to the cores (rayon). This crate runs the same batch
//! of CPU jobs each way, beside a heartbeat, and measures them.

use shared::TraceExt;
use shared::lesson::{Facts, Piece, Spec, Variant, fact};
use shared::work::heartbeat::Heartbeat;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

/// How long one job hashes (on an idle core).
pub const JOB_TIME: Duration = Duration::from_millis(40);
/// The heartbeat's period.
pub const TICK: Duration = Duration::from_millis(10);

/// A batch of jobs: how many, and a record of which threads ran them and
/// how many ran at the same time.
#[derive(Clone)]
pub struct Batch {
    jobs: u64,
    job_time: Duration,
    count: Arc<Mutex<ThreadCount>>,
}

impl Default for Batch {
    /// The batch this machine's plan calls for.
    fn default() -> Self {
        Batch::of(plan(cores()).jobs)
    }
}

/// How much work, for a machine with `cores` cores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Jobs in a batch: four per core, so every approach has a queue of work
    /// to keep each core busy (at least 8, and at most 256, well under the
    /// blocking pool's 512 threads).
    pub jobs: u64,
}

/// The plan for a machine with `cores` cores. A batch takes about four
/// jobs' time (160 ms) when the cores are used well, on any machine.
pub fn plan(cores: usize) -> Plan {
    Plan {
        jobs: (4 * cores as u64).clamp(8, 256),
    }
}

#[derive(Default)]
struct ThreadCount {
    seen: HashSet<ThreadId>,
    busy: Duration,
    jobs_by_thread: Vec<ThreadId>,
    running: usize,
    most_at_once: usize,
}

impl Batch {
    /// A batch of `jobs` jobs of `JOB_TIME` each.
    pub fn of(jobs: u64) -> Batch {
        Batch {
            jobs,
            job_time: JOB_TIME,
            count: Arc::default(),
        }
    }

    /// The same batch with jobs of `job_time` each: the tests use 1 ms jobs,
    /// since what they check does not depend on the duration.
    pub fn lasting(self, job_time: Duration) -> Batch {
        Batch { job_time, ..self }
    }

    /// How many jobs the batch has.
    pub fn jobs(&self) -> u64 {
        self.jobs
    }

    fn start(&self) {
        let mut c = self.count.lock().unwrap();
        c.seen.insert(std::thread::current().id());
        c.jobs_by_thread.push(std::thread::current().id());
        c.running += 1;
        c.most_at_once = c.most_at_once.max(c.running);
    }

    fn end(&self, took: Duration) {
        let mut c = self.count.lock().unwrap();
        c.running -= 1;
        c.busy += took;
    }

    /// The jobs' own durations, added up.
    pub fn busy(&self) -> Duration {
        self.count.lock().unwrap().busy
    }

    /// Distinct threads that ran at least one job.
    pub fn distinct(&self) -> usize {
        self.count.lock().unwrap().seen.len()
    }

    /// How many jobs ran on thread `id`.
    pub fn jobs_on(&self, id: ThreadId) -> usize {
        let c = self.count.lock().unwrap();
        c.jobs_by_thread.iter().filter(|t| **t == id).count()
    }

    /// The most jobs that were running at the same moment.
    pub fn most_at_once(&self) -> usize {
        self.count.lock().unwrap().most_at_once
    }
}

/// One CPU job: hashing for `JOB_TIME`, recorded on the timeline as a
/// blocking call of whatever thread runs it.
pub fn hash_job(i: u64, batch: &Batch) -> u64 {
    batch.start();
    let started = Instant::now();
    let out = shared::blocking("hashing", || shared::work::cpu::burn(batch.job_time) ^ i);
    batch.end(started.elapsed());
    out
}

/// The rayon pool: one thread per core, named for the timeline.
pub fn rayon_pool() -> &'static rayon::ThreadPool {
    static POOL: OnceLock<rayon::ThreadPool> = OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("rayon #{}", i + 1))
            .build()
            .expect("the rayon pool starts")
    })
}

pub mod broken {
    use super::*;

    // ANCHOR: broken_inline
    /// Runs each job right inside an async task, on a runtime worker.
    pub async fn inline(batch: Batch) -> u64 {
        let tasks: Vec<_> = (0..batch.jobs())
            .map(|i| {
                let batch = batch.clone();
                // BROKEN: hashes on the worker; its other tasks wait 40 ms
                tokio::spawn(async move { hash_job(i, &batch) }.traced(format!("job {i}")))
            })
            .collect();
        let mut sum = 0;
        for task in tasks {
            sum ^= task.await.unwrap();
        }
        sum
    }
    // ANCHOR_END: broken_inline

    // ANCHOR: broken_current_thread
    /// Tells tokio before each job "this thread is about to block".
    /// On a multi-threaded runtime tokio hands the thread's other tasks to
    /// another worker first. A current-thread runtime has no other thread to
    /// hand them to, so there it panics.
    pub async fn block_in_place(batch: Batch) -> u64 {
        let mut sum = 0;
        for i in 0..batch.jobs() {
            // BROKEN on a current-thread runtime: nowhere to hand the tasks
            sum ^= tokio::task::block_in_place(|| hash_job(i, &batch));
        }
        sum
    }
    // ANCHOR_END: broken_current_thread
}

pub mod fixed {
    use super::*;
    use tokio::sync::Semaphore;
    use tokio::task::JoinSet;

    async fn collect(mut jobs: JoinSet<u64>) -> u64 {
        let mut sum = 0;
        while let Some(done) = jobs.join_next().await {
            sum ^= done.expect("a job does not panic");
        }
        sum
    }

    // ANCHOR: spawn_blocking
    /// Sends the jobs to tokio's blocking pool, one per core at a time: the
    /// pool would otherwise start a thread for every job it cannot hand to
    /// an idle one (up to 512), far more than there are cores. Waiting for
    /// a permit is an `.await`, so it blocks nothing.
    pub async fn spawn_blocking(batch: Batch) -> u64 {
        let per_core = Arc::new(Semaphore::new(cores()));
        let mut jobs = JoinSet::new();
        for i in 0..batch.jobs() {
            let permit = per_core.clone().acquire_owned().await.unwrap();
            let batch = batch.clone();
            jobs.spawn_blocking(move || {
                shared::record::recorder::name_lane("blocking pool");
                let _permit = permit; // held until the job is done
                hash_job(i, &batch) // FIXED: off the workers, one per core
            });
        }
        collect(jobs).await
    }
    // ANCHOR_END: spawn_blocking

    // ANCHOR: block_in_place
    /// Each job's task tells tokio "this worker is about to block": tokio
    /// hands the worker's other tasks to a fresh thread, then lets it block.
    /// One job per core at a time, as above.
    pub async fn block_in_place(batch: Batch) -> u64 {
        let per_core = Arc::new(Semaphore::new(cores()));
        let mut jobs = JoinSet::new();
        for i in 0..batch.jobs() {
            let (batch, per_core) = (batch.clone(), per_core.clone());
            jobs.spawn(
                async move {
                    let _permit = per_core.acquire_owned().await.unwrap();
                    // FIXED: the worker's other tasks move elsewhere first
                    tokio::task::block_in_place(|| hash_job(i, &batch))
                }
                .traced(format!("job {i}")),
            );
        }
        collect(jobs).await
    }
    // ANCHOR_END: block_in_place

    // ANCHOR: rayon_spawn
    /// Hands each job to rayon's pool (one thread per core) and awaits the
    /// answer on a oneshot channel: the task waits without blocking.
    pub async fn rayon_spawn(batch: Batch) -> u64 {
        let answers: Vec<_> = (0..batch.jobs())
            .map(|i| {
                let batch = batch.clone();
                let (tx, rx) = tokio::sync::oneshot::channel();
                rayon_pool().spawn(move || {
                    let _ = tx.send(hash_job(i, &batch)); // FIXED: on rayon's pool
                });
                rx
            })
            .collect();
        let mut sum = 0;
        for answer in answers {
            sum ^= answer.await.expect("rayon runs every job");
        }
        sum
    }
    // ANCHOR_END: rayon_spawn

    // ANCHOR: par_iter
    /// One large job, split by rayon: `par_iter` spreads the pieces over
    /// the pool and blocks its caller until all are done, so the caller
    /// is itself a rayon task, and async code awaits a oneshot.
    pub async fn par_iter(batch: Batch) -> u64 {
        use rayon::prelude::*;
        let (tx, rx) = tokio::sync::oneshot::channel();
        rayon_pool().spawn(move || {
            let sum = (0..batch.jobs())
                .into_par_iter()
                .map(|i| hash_job(i, &batch))
                .reduce(|| 0, |a, b| a ^ b);
            let _ = tx.send(sum);
        });
        rx.await.expect("rayon finishes the job")
    }
    // ANCHOR_END: par_iter
}

pub use shared::work::cpu::cores;

/// The multi-threaded runtime, one worker per core.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .thread_name("tokio worker")
        .enable_time()
        .build()
        .expect("the runtime builds")
}

/// The XOR of every job's answer in a batch: what any correct approach
/// returns. Every job hashes the same rounds, so one hash is enough.
pub fn expected_sum(jobs: u64, job_time: Duration) -> u64 {
    let hash = shared::work::cpu::burn(job_time);
    (0..jobs).fold(0, |sum, i| sum ^ hash ^ i)
}

/// Runs `approach` on `batch` on `runtime`, beside a heartbeat. Returns its
/// answer, how long it took, and the heartbeat's worst lateness in ticks.
fn timed<F, Fut>(
    runtime: &tokio::runtime::Runtime,
    batch: &Batch,
    approach: F,
) -> (u64, Duration, f64)
where
    F: FnOnce(Batch) -> Fut,
    Fut: std::future::Future<Output = u64>,
{
    // On the timeline, the jobs' tasks share one letter and colour.
    shared::record::recorder::group("job ", "CPU jobs");
    runtime.block_on(async {
        let heartbeat = Heartbeat::spawn(TICK);
        // Let the heartbeat settle into its schedule first.
        tokio::time::sleep(TICK * 2).await;
        let start = Instant::now();
        let sum = approach(batch.clone()).await;
        let elapsed = start.elapsed();
        // One more tick, so that a tick delayed by the last job is measured.
        tokio::time::sleep(TICK * 2).await;
        (sum, elapsed, heartbeat.worst_lateness_ratio())
    })
}

/// The `approaches` scenario: a batch of CPU jobs on the multi-threaded
/// runtime, beside a heartbeat.
pub mod approaches {
    use super::*;

    pub static SPEC: Spec = Spec {
        name: "approaches",
        facts: &[
            fact(
                "heartbeat_lateness",
                "the heartbeat's worst lateness, in 10 ms ticks",
            ),
            fact(
                "core_usage",
                "jobs in progress on average, over the cores (1 is every core hashing)",
            ),
            fact(
                "oversubscription",
                "the most jobs running at once, over the cores",
            ),
            fact("wrong_sum", "1 if the answer was not the jobs' answer"),
        ],
    };

    /// Measures `approach` on `batch` with `runtime` (multi-threaded).
    pub fn measure<F, Fut>(
        facts: &Facts,
        runtime: &tokio::runtime::Runtime,
        batch: Batch,
        approach: F,
    ) where
        F: FnOnce(Batch) -> Fut,
        Fut: std::future::Future<Output = u64>,
    {
        let (sum, elapsed, lateness) = timed(runtime, &batch, approach);
        let cores = (cores() as u64).min(batch.jobs()) as f64;
        facts.set("heartbeat_lateness", lateness);
        facts.set(
            "core_usage",
            batch.busy().as_secs_f64() / elapsed.as_secs_f64() / cores,
        );
        facts.set("oversubscription", batch.most_at_once() as f64 / cores);
        facts.set(
            "wrong_sum",
            u32::from(sum != expected_sum(batch.jobs(), batch.job_time)),
        );
    }

    pub fn run<F, Fut>(facts: &Facts, approach: F)
    where
        F: FnOnce(Batch) -> Fut,
        Fut: std::future::Future<Output = u64>,
    {
        let batch = Batch::default();
        println!(
            "{} jobs of {} ms of hashing on {} core(s), through {}, beside a 10 ms heartbeat:",
            batch.jobs(),
            JOB_TIME.as_millis(),
            cores(),
            facts.the("run_jobs")
        );
        measure(facts, &runtime(), batch.clone(), approach);
        println!(
            "  the heartbeat was up to {:.1} ticks late; the cores were {:.0}% busy hashing;",
            facts.get("heartbeat_lateness").unwrap_or(0.0),
            facts.get("core_usage").unwrap_or(0.0) * 100.0
        );
        println!(
            "  at most {} jobs ran at once, on {} threads.",
            batch.most_at_once(),
            batch.distinct()
        );
    }

    pub fn piece<'a, F, Fut>(name: &'static str, approach: F) -> Piece<'a>
    where
        F: FnOnce(Batch) -> Fut + 'a,
        Fut: std::future::Future<Output = u64>,
    {
        Piece::new(name, move |facts| run(facts, approach))
    }
}

/// The `current-thread` scenario: the same batch, on a current-thread
/// runtime (as `#[tokio::main(flavor = "current_thread")]` makes).
pub mod current_thread {
    use super::*;

    pub static SPEC: Spec = Spec {
        name: "current-thread",
        facts: &[
            fact(
                "jobs_on_runtime_thread",
                "jobs that ran on the runtime's one thread",
            ),
            fact(
                "heartbeat_lateness",
                "the heartbeat's worst lateness, in 10 ms ticks",
            ),
            fact("wrong_sum", "1 if the answer was not the jobs' answer"),
        ],
    };

    // ANCHOR: current_thread
    /// Measures `approach` on `batch` on a current-thread runtime built
    /// here, on this thread.
    pub fn measure<F, Fut>(facts: &Facts, batch: Batch, approach: F)
    where
        F: FnOnce(Batch) -> Fut,
        Fut: std::future::Future<Output = u64>,
    {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a current-thread runtime always builds");
        let (sum, _, lateness) = timed(&runtime, &batch, approach);
        facts.set(
            "jobs_on_runtime_thread",
            batch.jobs_on(std::thread::current().id()) as u32,
        );
        facts.set("heartbeat_lateness", lateness);
        facts.set(
            "wrong_sum",
            u32::from(sum != expected_sum(batch.jobs(), batch.job_time)),
        );
    }
    // ANCHOR_END: current_thread

    pub fn run<F, Fut>(facts: &Facts, approach: F)
    where
        F: FnOnce(Batch) -> Fut,
        Fut: std::future::Future<Output = u64>,
    {
        let batch = Batch::default();
        println!(
            "The same {} jobs through {}, on a current-thread runtime, beside a heartbeat:",
            batch.jobs(),
            facts.the("run_jobs")
        );
        measure(facts, batch, approach);
        println!(
            "  {} jobs ran on the runtime's own thread; the heartbeat was up to {:.1} ticks late.",
            facts.get("jobs_on_runtime_thread").unwrap_or(0.0),
            facts.get("heartbeat_lateness").unwrap_or(0.0)
        );
    }

    pub fn piece<'a, F, Fut>(name: &'static str, approach: F) -> Piece<'a>
    where
        F: FnOnce(Batch) -> Fut + 'a,
        Fut: std::future::Future<Output = u64>,
    {
        Piece::new(name, move |facts| run(facts, approach))
    }
}

/// The exercise binary's `main`: judges the learner's `run_jobs` on both
/// runtimes.
pub fn exercise<Fut>(run_jobs: fn(Batch) -> Fut) -> std::process::ExitCode
where
    Fut: std::future::Future<Output = u64>,
{
    shared::lesson::main(
        "lesson-07",
        Variant::Exercise("jobs"),
        vec![
            approaches::SPEC.with(vec![approaches::piece("", run_jobs)]),
            current_thread::SPEC.with(vec![current_thread::piece("", run_jobs)]),
        ],
    )
}
