//! # Lesson 07: spawn_blocking vs block_in_place vs rayon
//!
//! CPU-heavy or blocking work must leave the runtime's worker threads, or
//! every task on them waits (lesson 06). There are several ways out, and
//! they suit different work: tokio's blocking pool (`spawn_blocking`),
//! turning the current worker into a blocking thread (`block_in_place`), and
//! a separate pool sized to the cores (rayon). This crate runs the same batch
//! of CPU jobs each way, beside a heartbeat, and measures them; and, for the
//! `jobs` exercise, jobs whose CPU work sits between two async waits
//! (`fetch_hash_store`).

use shared::TraceExt;
use shared::lesson::{Facts, Piece, Spec, Variant, fact};
use shared::record::held::Held;
use shared::record::threads::{default_workers, multi_thread, name_threads};
use shared::work::heartbeat::{Alarm, Heartbeat};
use shared::work::shape::{Rng, seed};
use std::collections::HashSet;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

/// This lesson's id, `lesson-07`: its package name.
pub const LESSON: &str = env!("CARGO_PKG_NAME");

/// How long a job hashes in the tests' batches, unless they ask otherwise.
pub const JOB_TIME: Duration = Duration::from_millis(40);
/// The heartbeat's period.
pub const TICK: Duration = Duration::from_millis(10);

/// A batch of jobs: each job's input (different for every job, made when
/// the program runs) and length, and a record of what happened: each job's
/// answer, how many times it ran, on which threads, and how many ran at
/// the same time. Cloning it is cheap: clones share the record.
#[derive(Clone)]
pub struct Batch {
    inner: Arc<BatchInner>,
}

struct BatchInner {
    jobs: Vec<JobInput>,
    answers: Vec<AtomicU64>,
    runs: Vec<AtomicU32>,
    /// Calls of `hash_job` with an `i` that is not one of the batch's.
    strays: AtomicU32,
    count: Mutex<ThreadCount>,
}

#[derive(Clone, Copy, Debug)]
struct JobInput {
    seed: u64,
    rounds: u64,
    length: Duration,
}

impl JobInput {
    fn compute(self) -> u64 {
        shared::work::cpu::hash_rounds(self.seed, self.rounds)
    }
}

#[derive(Default)]
struct ThreadCount {
    seen: HashSet<ThreadId>,
    busy: Duration,
    /// When each job ran, from start to end.
    spans: Vec<(Instant, Instant)>,
    jobs_by_thread: Vec<ThreadId>,
    running: usize,
    most_at_once: usize,
}

impl Batch {
    /// A batch of jobs of the given lengths, each with an input made from
    /// `rng`.
    pub fn new(lengths: &[Duration], rng: &mut Rng) -> Batch {
        let cal = shared::work::cpu::calibration();
        let jobs: Vec<JobInput> = lengths
            .iter()
            .map(|&length| JobInput {
                seed: rng.salt(),
                rounds: cal.rounds_for(length),
                length,
            })
            .collect();
        Batch {
            inner: Arc::new(BatchInner {
                answers: jobs.iter().map(|_| AtomicU64::new(0)).collect(),
                runs: jobs.iter().map(|_| AtomicU32::new(0)).collect(),
                jobs,
                strays: AtomicU32::new(0),
                count: Mutex::default(),
            }),
        }
    }

    /// A batch of `jobs` jobs of `JOB_TIME` each, with inputs from this
    /// run's seed.
    pub fn of(jobs: u64) -> Batch {
        Batch::new(
            &vec![JOB_TIME; jobs as usize],
            &mut Rng::for_scenario("batch"),
        )
    }

    /// The same jobs lasting `job_time` each: the tests use 1 ms jobs, since
    /// what they check does not depend on the duration. (A new batch, with
    /// a record of its own.)
    pub fn lasting(self, job_time: Duration) -> Batch {
        let mut rng = Rng::new(self.inner.jobs.first().map_or(0, |j| j.seed));
        Batch::new(&vec![job_time; self.inner.jobs.len()], &mut rng)
    }

    /// How many jobs the batch has.
    pub fn jobs(&self) -> u64 {
        self.inner.jobs.len() as u64
    }

    fn count(&self) -> std::sync::MutexGuard<'_, ThreadCount> {
        self.inner.count.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn start(&self) {
        let mut c = self.count();
        c.seen.insert(std::thread::current().id());
        c.jobs_by_thread.push(std::thread::current().id());
        c.running += 1;
        c.most_at_once = c.most_at_once.max(c.running);
    }

    fn end(&self, started: Instant) {
        let mut c = self.count();
        c.running -= 1;
        c.busy += started.elapsed();
        c.spans.push((started, Instant::now()));
    }

    /// The jobs' own durations, added up.
    pub fn busy(&self) -> Duration {
        self.count().busy
    }

    /// The jobs' time between `from` and `to`, added up: jobs running
    /// then, on average, times the time.
    fn busy_between(&self, from: Instant, to: Instant) -> Duration {
        self.count()
            .spans
            .iter()
            .map(|&(a, b)| b.min(to).saturating_duration_since(a.max(from)))
            .sum()
    }

    /// Distinct threads that ran at least one job.
    pub fn distinct(&self) -> usize {
        self.count().seen.len()
    }

    /// How many jobs ran on thread `id`.
    pub fn jobs_on(&self, id: ThreadId) -> usize {
        self.count()
            .jobs_by_thread
            .iter()
            .filter(|t| **t == id)
            .count()
    }

    /// The most jobs that were running at the same moment.
    pub fn most_at_once(&self) -> usize {
        self.count().most_at_once
    }

    /// The longest job's length: a poll that runs that job lasts at least
    /// as long.
    pub fn longest(&self) -> Duration {
        self.inner
            .jobs
            .iter()
            .map(|j| j.length)
            .max()
            .unwrap_or_default()
    }

    /// Jobs that did not run exactly once, and calls for jobs the batch
    /// does not have.
    pub fn not_once(&self) -> u32 {
        let not_once = self
            .inner
            .runs
            .iter()
            .filter(|r| r.load(Ordering::SeqCst) != 1)
            .count() as u32;
        not_once + self.inner.strays.load(Ordering::SeqCst)
    }

    /// The right answer: the XOR of every job's answer. The answers the
    /// jobs gave are the harness's record; a job that never ran is
    /// computed here.
    pub fn answer(&self) -> u64 {
        (0..self.inner.jobs.len())
            .map(|i| match self.inner.runs[i].load(Ordering::SeqCst) {
                0 => self.inner.jobs[i].compute(),
                _ => self.inner.answers[i].load(Ordering::SeqCst),
            })
            .fold(0, |sum, a| sum ^ a)
    }
}

/// One CPU job of `batch`: hashing job `i`'s input for its length,
/// recorded on the timeline as a blocking call of whatever thread runs it.
/// Jobs are numbered from 0.
pub fn hash_job(i: u64, batch: &Batch) -> u64 {
    let Some(&input) = usize::try_from(i)
        .ok()
        .and_then(|i| batch.inner.jobs.get(i))
    else {
        batch.inner.strays.fetch_add(1, Ordering::SeqCst);
        return 0;
    };
    batch.start();
    let started = Instant::now();
    let out = shared::blocking("hashing", || input.compute());
    batch.end(started);
    batch.inner.runs[i as usize].fetch_add(1, Ordering::SeqCst);
    batch.inner.answers[i as usize].store(out, Ordering::SeqCst);
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
    use crate::fetch_hash_store::{Queue, hash};

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
    /// On a multi-threaded runtime tokio first hands the worker's queues and
    /// driver to a thread from the blocking pool. A current-thread runtime
    /// has no such hand-over, so there it panics.
    pub async fn block_in_place(batch: Batch) -> u64 {
        let mut sum = 0;
        for i in 0..batch.jobs() {
            // BROKEN on a current-thread runtime: nowhere to hand the tasks
            sum ^= tokio::task::block_in_place(|| hash_job(i, &batch));
        }
        sum
    }
    // ANCHOR_END: broken_current_thread

    // ANCHOR: broken_fetch_hash_store
    /// Each job fetches its page, hashes it and stores the digest, in one
    /// async flow; the flows are joined in one task, so the fetches and
    /// the stores overlap.
    pub async fn fetch_hash_store(queue: Queue) {
        let jobs = (0..queue.len()).map(|i| {
            let queue = queue.clone();
            async move {
                let page = queue.fetch(i).await;
                let digest = hash(page); // BROKEN: computes inside the task's poll
                queue.store(digest).await;
            }
        });
        futures::future::join_all(jobs).await;
    }
    // ANCHOR_END: broken_fetch_hash_store
}

pub mod fixed {
    use super::*;
    use crate::fetch_hash_store::{Queue, hash};
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
                let _permit = permit; // held until the job is done
                hash_job(i, &batch) // FIXED: off the workers, one per core
            });
        }
        collect(jobs).await
    }
    // ANCHOR_END: spawn_blocking

    // ANCHOR: block_in_place
    /// Each job's task tells tokio "this worker is about to block": tokio
    /// hands the worker's queues to a blocking-pool thread, then lets it block.
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

    // ANCHOR: fetch_hash_store
    /// Each job's flow stays async, all of them at once, but its hashing
    /// goes to the blocking pool: the flow awaits it there, holding a
    /// permit for one core only while it hashes, so a job waiting for its
    /// page or its store keeps no core from the others.
    pub async fn fetch_hash_store(queue: Queue) {
        let per_core = Arc::new(Semaphore::new(cores()));
        let jobs = (0..queue.len()).map(|i| {
            let (queue, per_core) = (queue.clone(), per_core.clone());
            async move {
                let page = queue.fetch(i).await; // every fetch waits at once
                let permit = per_core.acquire_owned().await.unwrap();
                let digest = tokio::task::spawn_blocking(move || {
                    let _permit = permit; // a core, for the hashing only
                    hash(page) // FIXED: off the runtime, one per core
                })
                .await
                .expect("hashing does not panic");
                queue.store(digest).await;
            }
        });
        futures::future::join_all(jobs).await;
    }
    // ANCHOR_END: fetch_hash_store
}

pub use shared::work::cpu::cores;

pub mod fetch_hash_store;
pub use fetch_hash_store::{Digest, Page, Queue, exercise, hash};

/// The multi-threaded runtime, one worker per core. Its threads are named
/// for the timeline: `tokio worker` for its workers, `blocking pool` for
/// the threads that run `spawn_blocking` jobs.
pub fn runtime() -> tokio::runtime::Runtime {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_time();
    multi_thread(&mut builder, "tokio worker", default_workers()).expect("the runtime builds")
}

/// One workload: how long each job of the batch hashes.
#[derive(Clone, Debug)]
pub struct Shape {
    pub name: String,
    pub lengths: Vec<Duration>,
}

/// The two workloads of one run on a machine with `cores` cores: four jobs
/// per core (8 to 256) that each hash for the same 40 to 60 ms, then three
/// to six jobs per core of 10 to 60 ms each. With every core busy, each
/// takes about four jobs' time on any machine.
pub fn shapes(cores: usize, rng: &mut Rng) -> Vec<Shape> {
    let ms = Duration::from_millis;
    let cores = cores as u64;
    let n = (4 * cores).clamp(8, 256) as usize;
    let length = ms(rng.between(40, 60));
    let even = Shape {
        name: format!("{n} jobs of {} ms", length.as_millis()),
        lengths: vec![length; n],
    };
    let n = rng.between(3 * cores, 6 * cores).clamp(8, 256) as usize;
    let uneven = Shape {
        name: format!("{n} jobs of 10 to 60 ms"),
        lengths: (0..n).map(|_| ms(rng.between(10, 60))).collect(),
    };
    vec![even, uneven]
}

/// What one workload measured, on either runtime.
#[derive(Clone, Debug, PartialEq)]
pub struct Measured {
    pub heartbeat_lateness: f64,
    pub alarm_lateness: f64,
    pub core_usage: f64,
    pub oversubscription: f64,
    pub wrong_sum: bool,
    pub not_once: u32,
    pub longest_poll_ratio: f64,
    pub longest_asleep_ratio: f64,
    pub longest_cpu_ratio: f64,
    pub asleep_share: f64,
    pub polls_per_job: f64,
    pub on_runtime_thread: usize,
    pub most_at_once: usize,
    pub threads: usize,
}

/// Runs `approach` on a batch made for `shape` on `runtime`, beside a
/// heartbeat, and measures it.
fn timed<F, Fut>(
    runtime: &tokio::runtime::Runtime,
    shape: &Shape,
    rng: &mut Rng,
    approach: &F,
) -> Measured
where
    F: Fn(Batch) -> Fut,
    Fut: std::future::Future<Output = u64>,
{
    let batch = Batch::new(&shape.lengths, rng);
    // On the timeline, the jobs' tasks share one letter and colour.
    shared::record::recorder::group("job ", "CPU jobs");
    let held = Held::new();
    let (sum, start, end, lateness, alarm_lateness) = runtime.block_on(async {
        let heartbeat = Heartbeat::spawn(TICK);
        // Let the heartbeat settle into its schedule first.
        tokio::time::sleep(TICK * 2).await;
        // The machine's share: a plain thread's alarm, on the same ticks.
        let alarm = Alarm::start(TICK);
        let start = Instant::now();
        let sum = held.wrap(approach(batch.clone())).await;
        let end = Instant::now();
        // One more tick, so that a tick delayed by the last job is measured.
        tokio::time::sleep(TICK * 2).await;
        let alarm_lateness = alarm.worst_lateness_ratio();
        (
            sum,
            start,
            end,
            heartbeat.worst_lateness_ratio(),
            alarm_lateness,
        )
    });
    let cores = (cores() as u64).min(batch.jobs()) as f64;
    let span = (end - start).as_secs_f64().max(1e-9);
    Measured {
        heartbeat_lateness: lateness,
        alarm_lateness,
        core_usage: batch.busy_between(start, end).as_secs_f64() / span / cores,
        oversubscription: batch.most_at_once() as f64 / cores,
        wrong_sum: sum != batch.answer(),
        not_once: batch.not_once(),
        longest_poll_ratio: held.longest_ratio(batch.longest()),
        longest_asleep_ratio: held.longest_asleep_ratio(TICK),
        longest_cpu_ratio: held.longest_cpu_ratio(TICK),
        asleep_share: held.asleep().as_secs_f64() / span,
        polls_per_job: held.polls() as f64 / batch.jobs().max(1) as f64,
        on_runtime_thread: batch.jobs_on(std::thread::current().id()),
        most_at_once: batch.most_at_once(),
        threads: batch.distinct(),
    }
}

fn worst(all: &[Measured], f: fn(&Measured) -> f64) -> f64 {
    all.iter().map(f).fold(0.0, f64::max)
}

/// The facts, the same in both scenarios, on how `run_jobs` held the
/// thread that polled it: the worst over the workloads.
fn set_holding_facts(facts: &Facts, all: &[Measured]) {
    facts.set(
        "longest_asleep_ratio",
        worst(all, |m| m.longest_asleep_ratio),
    );
    facts.set("longest_cpu_ratio", worst(all, |m| m.longest_cpu_ratio));
    facts.set("asleep_share", worst(all, |m| m.asleep_share));
    facts.set("polls_per_job", worst(all, |m| m.polls_per_job));
}

/// What a workload's run did to the thread that polled `run_jobs`, in
/// words.
fn say_holding(m: &Measured) {
    println!(
        "    run_jobs was polled {:.1} times per job; its thread slept inside its polls for {:.0}% of the batch (at most {:.1} ticks in one), and computed at most {:.2} ticks in one.",
        m.polls_per_job,
        m.asleep_share * 100.0,
        m.longest_asleep_ratio,
        m.longest_cpu_ratio
    );
}

fn say_shapes(shapes: &[Shape]) {
    println!(
        "(two workloads, from seed {0}; LESSON_SEED={0} replays them: {1})",
        seed(),
        shapes
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", then ")
    );
}

/// The `approaches` scenario: batches of CPU jobs on the multi-threaded
/// runtime, beside a heartbeat, under two workloads.
pub mod approaches {
    use super::*;

    pub static SPEC: Spec = Spec {
        name: "approaches",
        facts: &[
            fact(
                "heartbeat_lateness",
                "the heartbeat's worst lateness, in 10 ms ticks",
            )
            .timing(),
            fact(
                "alarm_lateness",
                "the worst lateness of a plain thread's alarm on the same ticks, beside the same work: the machine's share, in ticks",
            )
            .timing(),
            fact(
                "core_usage",
                "jobs hashing on average, over the cores (1 is every core hashing; worst workload)",
            )
            .timing(),
            fact(
                "oversubscription",
                "the most jobs hashing at once, over the cores",
            ),
            fact(
                "wrong_sum",
                "workloads whose answer was not the XOR of every job's answer",
            ),
            fact(
                "jobs_not_once",
                "jobs that did not run exactly once (or that the batch does not have)",
            ),
            fact(
                "longest_poll_ratio",
                "the longest single poll of run_jobs over the longest job",
            )
            .timing(),
            fact(
                "longest_asleep_ratio",
                "the longest time the thread slept inside one poll of run_jobs, in 10 ms ticks",
            )
            .timing(),
            fact(
                "longest_cpu_ratio",
                "the most CPU time of one poll of run_jobs, in 10 ms ticks",
            )
            .timing(),
            fact(
                "asleep_share",
                "the share of the batch's time the thread polling run_jobs slept inside its polls (worst workload)",
            )
            .timing(),
            fact("polls_per_job", "polls of run_jobs per job (worst workload)"),
        ],
    };

    /// Measures `approach` under every workload on `runtime`
    /// (multi-threaded), and sets the facts: the worst of each.
    pub fn measure<F, Fut>(
        facts: &Facts,
        runtime: &tokio::runtime::Runtime,
        shapes: &[Shape],
        rng: &mut Rng,
        approach: F,
    ) -> Vec<Measured>
    where
        F: Fn(Batch) -> Fut,
        Fut: std::future::Future<Output = u64>,
    {
        let all: Vec<Measured> = shapes
            .iter()
            .map(|shape| timed(runtime, shape, rng, &approach))
            .collect();
        facts.set("heartbeat_lateness", worst(&all, |m| m.heartbeat_lateness));
        facts.set("alarm_lateness", worst(&all, |m| m.alarm_lateness));
        facts.set(
            "core_usage",
            all.iter()
                .map(|m| m.core_usage)
                .fold(f64::INFINITY, f64::min),
        );
        facts.set("oversubscription", worst(&all, |m| m.oversubscription));
        facts.set(
            "wrong_sum",
            all.iter().filter(|m| m.wrong_sum).count() as f64,
        );
        facts.set("jobs_not_once", all.iter().map(|m| m.not_once).sum::<u32>());
        facts.set("longest_poll_ratio", worst(&all, |m| m.longest_poll_ratio));
        set_holding_facts(facts, &all);
        all
    }

    pub fn run<F, Fut>(facts: &Facts, approach: F)
    where
        F: Fn(Batch) -> Fut,
        Fut: std::future::Future<Output = u64>,
    {
        let mut rng = Rng::for_scenario("approaches");
        let shapes = shapes(cores(), &mut rng);
        println!(
            "Batches of CPU jobs, each hashing an input made just now, on {} core(s), through {},",
            cores(),
            facts.the("run_jobs")
        );
        println!("beside a 10 ms heartbeat, on the multi-threaded runtime");
        say_shapes(&shapes);
        let all = measure(facts, &runtime(), &shapes, &mut rng, approach);
        for (shape, m) in shapes.iter().zip(&all) {
            println!(
                "  {}: the heartbeat up to {:.1} ticks late (a plain thread's alarm: {:.1}); the cores {:.0}% busy hashing; at most {} jobs at once, on {} threads;",
                shape.name,
                m.heartbeat_lateness,
                m.alarm_lateness,
                m.core_usage * 100.0,
                m.most_at_once,
                m.threads
            );
            say_holding(m);
        }
    }

    pub fn piece<'a, F, Fut>(name: &'static str, approach: F) -> Piece<'a>
    where
        F: Fn(Batch) -> Fut + 'a,
        Fut: std::future::Future<Output = u64>,
    {
        Piece::new(name, move |facts| run(facts, approach))
    }
}

/// The `current-thread` scenario: the same batches, on a current-thread
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
            )
            .timing(),
            fact(
                "alarm_lateness",
                "the worst lateness of a plain thread's alarm on the same ticks, beside the same work: the machine's share, in ticks",
            )
            .timing(),
            fact(
                "wrong_sum",
                "workloads whose answer was not the XOR of every job's answer",
            ),
            fact(
                "jobs_not_once",
                "jobs that did not run exactly once (or that the batch does not have)",
            ),
            fact(
                "longest_poll_ratio",
                "the longest single poll of run_jobs over the longest job",
            )
            .timing(),
            fact(
                "longest_asleep_ratio",
                "the longest time the thread slept inside one poll of run_jobs, in 10 ms ticks",
            )
            .timing(),
            fact(
                "longest_cpu_ratio",
                "the most CPU time of one poll of run_jobs, in 10 ms ticks",
            )
            .timing(),
            fact(
                "asleep_share",
                "the share of the batch's time the thread polling run_jobs slept inside its polls (worst workload)",
            )
            .timing(),
            fact("polls_per_job", "polls of run_jobs per job (worst workload)"),
        ],
    };

    /// A current-thread runtime with a timer. It starts no worker thread:
    /// the threads it starts are its blocking pool's.
    fn current_thread_runtime() -> tokio::runtime::Runtime {
        let mut builder = tokio::runtime::Builder::new_current_thread();
        name_threads(&mut builder, "", 0)
            .enable_time()
            .build()
            .expect("a current-thread runtime always builds")
    }

    // ANCHOR: current_thread
    /// Measures `approach` under every workload on a current-thread
    /// runtime built here, on this thread.
    pub fn measure<F, Fut>(
        facts: &Facts,
        shapes: &[Shape],
        rng: &mut Rng,
        approach: F,
    ) -> Vec<Measured>
    where
        F: Fn(Batch) -> Fut,
        Fut: std::future::Future<Output = u64>,
    {
        let runtime = current_thread_runtime();
        let all: Vec<Measured> = shapes
            .iter()
            .map(|shape| timed(&runtime, shape, rng, &approach))
            .collect();
        facts.set(
            "jobs_on_runtime_thread",
            all.iter().map(|m| m.on_runtime_thread).sum::<usize>() as f64,
        );
        facts.set("heartbeat_lateness", worst(&all, |m| m.heartbeat_lateness));
        facts.set("alarm_lateness", worst(&all, |m| m.alarm_lateness));
        facts.set(
            "wrong_sum",
            all.iter().filter(|m| m.wrong_sum).count() as f64,
        );
        facts.set("jobs_not_once", all.iter().map(|m| m.not_once).sum::<u32>());
        facts.set("longest_poll_ratio", worst(&all, |m| m.longest_poll_ratio));
        set_holding_facts(facts, &all);
        all
    }
    // ANCHOR_END: current_thread

    pub fn run<F, Fut>(facts: &Facts, approach: F)
    where
        F: Fn(Batch) -> Fut,
        Fut: std::future::Future<Output = u64>,
    {
        let mut rng = Rng::for_scenario("current-thread");
        let shapes = shapes(cores(), &mut rng);
        println!(
            "The same kind of batches through {}, on a current-thread runtime, beside a heartbeat",
            facts.the("run_jobs")
        );
        say_shapes(&shapes);
        let all = measure(facts, &shapes, &mut rng, approach);
        for (shape, m) in shapes.iter().zip(&all) {
            println!(
                "  {}: {} jobs ran on the runtime's own thread; the heartbeat was up to {:.1} ticks late (a plain thread's alarm: {:.1});",
                shape.name, m.on_runtime_thread, m.heartbeat_lateness, m.alarm_lateness
            );
            say_holding(m);
        }
    }

    pub fn piece<'a, F, Fut>(name: &'static str, approach: F) -> Piece<'a>
    where
        F: Fn(Batch) -> Fut + 'a,
        Fut: std::future::Future<Output = u64>,
    {
        Piece::new(name, move |facts| run(facts, approach))
    }
}
