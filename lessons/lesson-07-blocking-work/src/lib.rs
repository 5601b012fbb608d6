//! # Lesson 07: spawn_blocking vs block_in_place vs rayon
//!
//! CPU-heavy or blocking work must leave the runtime's worker threads, or
//! every task on them waits (lesson 06). There are several ways out, and
//! they suit different work: tokio's blocking pool (`spawn_blocking`),
//! turning the current worker into a blocking thread (`block_in_place`), and
//! a separate pool sized to the cores (rayon). This crate runs the same batch
//! of CPU jobs each way, beside a heartbeat, and measures them.

use shared::TraceExt;
use shared::heartbeat::Heartbeat;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

/// How many jobs in a batch.
pub const JOBS: u64 = 24;
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
    fn default() -> Self {
        Batch::of(JOBS)
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
    let out = shared::blocking("hashing", || shared::workload::burn(batch.job_time) ^ i);
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
    /// `block_in_place` on a current-thread runtime: there is no other worker
    /// to hand the runtime's tasks to, so tokio panics.
    pub fn block_in_place_on_current_thread(batch: Batch) -> u64 {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime always builds");
        runtime.block_on(async {
            // BROKEN: panics: there is no other thread to take over
            tokio::task::block_in_place(|| hash_job(0, &batch))
        })
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
    /// Sends every job to tokio's blocking pool at once. The pool starts a
    /// thread for each job it cannot hand to an idle one, up to 512.
    pub async fn spawn_blocking_unbounded(batch: Batch) -> u64 {
        let mut jobs = JoinSet::new();
        for i in 0..batch.jobs() {
            let batch = batch.clone();
            jobs.spawn_blocking(move || {
                shared::recorder::name_lane("blocking pool");
                hash_job(i, &batch) // off the workers, but a thread per job
            });
        }
        collect(jobs).await
    }

    /// The same, with a semaphore that lets one job per core run at a time.
    /// Waiting for a permit is an `.await`, so it blocks nothing.
    pub async fn spawn_blocking(batch: Batch) -> u64 {
        let per_core = Arc::new(Semaphore::new(cores()));
        let mut jobs = JoinSet::new();
        for i in 0..batch.jobs() {
            let permit = per_core.clone().acquire_owned().await.unwrap();
            let batch = batch.clone();
            jobs.spawn_blocking(move || {
                shared::recorder::name_lane("blocking pool");
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

    // ANCHOR: current_thread
    /// On a current-thread runtime, `spawn_blocking` works: the blocking
    /// pool is separate from the runtime's one thread, which runs no job.
    pub fn spawn_blocking_on_current_thread(batch: Batch) -> CurrentThreadRun {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a current-thread runtime always builds");
        let (sum, lateness) = runtime.block_on(async {
            let heartbeat = Heartbeat::spawn(TICK);
            let sum = spawn_blocking(batch.clone()).await; // FIXED
            tokio::time::sleep(TICK).await;
            (sum, heartbeat.worst_lateness_ratio())
        });
        CurrentThreadRun {
            sum,
            lateness,
            jobs_on_runtime_thread: batch.jobs_on(std::thread::current().id()),
        }
    }
    // ANCHOR_END: current_thread
}

/// The number of cores, as the standard library sees it.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// What the current-thread run measured.
#[derive(Debug, Clone, Copy)]
pub struct CurrentThreadRun {
    pub sum: u64,
    /// The heartbeat's worst lateness, in ticks.
    pub lateness: f64,
    /// Jobs that ran on the runtime's own thread (this one).
    pub jobs_on_runtime_thread: usize,
}

/// What one approach measured.
#[derive(Debug, Clone)]
pub struct Measured {
    /// A short name for facts: `rayon_spawn`.
    pub key: &'static str,
    /// A name for people: `rayon::spawn + oneshot`.
    pub name: &'static str,
    /// Jobs run.
    pub jobs: u64,
    /// The jobs' own durations, added up.
    pub busy: Duration,
    pub elapsed: Duration,
    /// The heartbeat's worst lateness, in ticks.
    pub lateness: f64,
    /// Distinct OS threads that ran jobs.
    pub threads: usize,
    /// The most jobs running at the same moment.
    pub at_once: usize,
}

impl Measured {
    pub fn jobs_per_sec(&self) -> f64 {
        self.jobs as f64 / self.elapsed.as_secs_f64()
    }

    /// How many jobs were in progress, on average: the jobs' own durations
    /// over the elapsed time. With at most one job per core, that is how many
    /// cores were kept hashing, and the ideal is the core count; gaps between
    /// jobs (an approach's overhead) lower it. Unlike jobs per second, it
    /// does not change when the whole machine happens to run faster or
    /// slower (a shared or throttled machine does), so approaches measured a
    /// few seconds apart can be compared fairly.
    pub fn in_progress(&self) -> f64 {
        self.busy.as_secs_f64() / self.elapsed.as_secs_f64()
    }

    /// Two measurements of the same approach as one: the times and jobs
    /// added up, the worst lateness and the most threads kept.
    pub fn and(self, other: Measured) -> Measured {
        Measured {
            jobs: self.jobs + other.jobs,
            busy: self.busy + other.busy,
            elapsed: self.elapsed + other.elapsed,
            lateness: self.lateness.max(other.lateness),
            threads: self.threads.max(other.threads),
            at_once: self.at_once.max(other.at_once),
            ..self
        }
    }
}

/// Runs one approach on a batch of `jobs` on `runtime`, beside a
/// heartbeat, and measures it.
pub fn measure<F, Fut>(
    runtime: &tokio::runtime::Runtime,
    (key, name): (&'static str, &'static str),
    jobs: u64,
    approach: F,
) -> Measured
where
    F: FnOnce(Batch) -> Fut,
    Fut: std::future::Future<Output = u64>,
{
    shared::mark(name);
    let batch = Batch::of(jobs);
    let (elapsed, lateness) = runtime.block_on(async {
        let heartbeat = Heartbeat::spawn(TICK);
        // Let the heartbeat settle into its schedule first.
        tokio::time::sleep(TICK * 2).await;
        let start = Instant::now();
        std::hint::black_box(approach(batch.clone()).await);
        let elapsed = start.elapsed();
        // One more tick, so that a tick delayed by the last job is measured.
        tokio::time::sleep(TICK * 2).await;
        (elapsed, heartbeat.worst_lateness_ratio())
    });
    Measured {
        key,
        name,
        jobs,
        busy: batch.busy(),
        elapsed,
        lateness,
        threads: batch.distinct(),
        at_once: batch.most_at_once(),
    }
}

/// The multi-threaded runtime, one worker per core.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .thread_name("tokio worker")
        .enable_time()
        .build()
        .expect("the runtime builds")
}
