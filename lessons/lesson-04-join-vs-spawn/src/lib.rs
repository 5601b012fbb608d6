//! # Lesson 04: join vs spawn
//!
//! `join!` and `join_all` give concurrency inside one task: while one future
//! waits, another runs, all on the same thread. `tokio::spawn` makes
//! separate tasks, which a multi-threaded runtime runs on several threads at
//! once. Waiting needs only the first; computing needs the second.
//!
//! `spawn` takes ownership of its future, which must not borrow anything
//! from the spawning function, because the task may outlive it. See
//! [`SpawnNeedsStatic`].

use serde::Deserialize;
use shared::TraceExt;
use std::future::Future;
use std::time::{Duration, Instant};

// ANCHOR: todo
/// One todo, as the server sends it (JSON) and as we use it (typed).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Todo {
    pub id: u32,
    pub user_id: u32,
    pub title: String,
    pub completed: bool,
}
// ANCHOR_END: todo

/// Something that can fetch a todo: the real HTTP client, or a fake for
/// tests that run on paused time.
pub trait Fetch: Clone + Send + Sync + 'static {
    fn todo(&self, id: u32) -> impl Future<Output = anyhow::Result<Todo>> + Send + 'static;
}

// ANCHOR: api
/// The HTTP client for the lesson's own server on 127.0.0.1.
#[derive(Clone)]
pub struct Api {
    client: reqwest::Client,
    base: String,
}

impl Api {
    pub fn new(server: &shared::server::DemoServer) -> Api {
        Api {
            client: shared::server::client(),
            base: server.url(""),
        }
    }
}

impl Fetch for Api {
    fn todo(&self, id: u32) -> impl Future<Output = anyhow::Result<Todo>> + Send + 'static {
        let request = self.client.get(format!("{}/todos/{id}", self.base));
        async move {
            let todo = request
                .send()
                .await?
                .error_for_status()?
                .json::<Todo>()
                .await?;
            Ok(todo)
        }
        .traced(format!("todo {id}"))
    }
}
// ANCHOR_END: api

/// The todos every fetch scenario asks for.
pub const IDS: std::ops::RangeInclusive<u32> = 1..=10;

/// The delay the server adds to every request.
pub const LATENCY: Duration = Duration::from_millis(100);

pub mod broken {
    use super::*;

    // ANCHOR: broken_fetch
    /// Fetches the todos one after another: each request starts only when
    /// the previous one has answered.
    pub async fn fetch_all(api: &impl Fetch) -> anyhow::Result<Vec<Todo>> {
        let mut todos = Vec::new();
        for id in IDS {
            todos.push(api.todo(id).await?); // BROKEN: waits for each in turn
        }
        Ok(todos)
    }
    // ANCHOR_END: broken_fetch

    // ANCHOR: broken_cpu
    /// Runs the CPU jobs joined in one task, hoping for parallelism. A task
    /// runs on one thread at a time, so they take turns on that thread.
    pub async fn run_jobs() -> Vec<u64> {
        let jobs = (1..=super::JOBS).map(|i| job(i).traced(format!("job {i}")));
        futures::future::join_all(jobs).await // BROKEN: one task, one thread
    }
    // ANCHOR_END: broken_cpu
}

pub mod fixed {
    use super::*;
    use tokio::task::JoinSet;

    // ANCHOR: fixed_join_all
    /// Starts every request at once and waits for all of them: one task,
    /// many requests in flight.
    pub async fn fetch_all(api: &impl Fetch) -> anyhow::Result<Vec<Todo>> {
        let requests = IDS.map(|id| api.todo(id));
        futures::future::join_all(requests)
            .await
            .into_iter()
            .collect() // FIXED
    }
    // ANCHOR_END: fixed_join_all

    // ANCHOR: fixed_join_set
    /// The same with a `JoinSet`: one spawned task per request, results
    /// collected as they finish (so we sort them afterwards).
    pub async fn fetch_all_join_set(api: &impl Fetch) -> anyhow::Result<Vec<Todo>> {
        let mut set = JoinSet::new();
        for id in IDS {
            set.spawn(api.todo(id)); // FIXED: each request is a task
        }
        let mut todos = Vec::new();
        while let Some(done) = set.join_next().await {
            todos.push(done??); // the task's panic, then the request's error
        }
        todos.sort_by_key(|t| t.id);
        Ok(todos)
    }
    // ANCHOR_END: fixed_join_set

    // ANCHOR: fixed_cpu
    /// Spawns each CPU job as a task: the runtime's worker threads take them
    /// in parallel.
    pub async fn run_jobs() -> Vec<u64> {
        let tasks: Vec<_> = (1..=super::JOBS)
            .map(|i| tokio::spawn(job(i).traced(format!("job {i}")))) // FIXED
            .collect();
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.expect("a job does not panic"));
        }
        results
    }
    // ANCHOR_END: fixed_cpu
}

/// How many CPU jobs the `cpu` scenario runs.
pub const JOBS: u32 = 8;
/// How long one job computes (on an idle core).
pub const JOB_TIME: Duration = Duration::from_millis(10);
/// Rounds of (baseline, then the variant), timed in alternation.
pub const ROUNDS: usize = 18;

/// One CPU job: hashing, with no `.await` inside.
pub async fn job(i: u32) -> u64 {
    shared::workload::burn(JOB_TIME) ^ u64::from(i)
}

/// The same jobs run one after another in a plain loop: the baseline for
/// the speedup. Returns how long they took.
pub fn serial_baseline() -> Duration {
    let start = Instant::now();
    shared::blocking("serial baseline: all jobs in a loop", || {
        for i in 1..=JOBS {
            std::hint::black_box(shared::workload::burn(JOB_TIME) ^ u64::from(i));
        }
    });
    start.elapsed()
}

/// `tokio::spawn` needs a `'static` future: this does not compile, because
/// the task could outlive `orders`. Moving the data in (`async move`) or
/// sharing it through an `Arc` fixes it.
///
/// ```compile_fail,E0373
#[doc = include_str!("snippets/spawn_borrows.rs")]
/// ```
pub struct SpawnNeedsStatic;

/// The speedup of `variant` over the plain-loop baseline: both are timed
/// back to back, `ROUNDS` times, and the totals compared. On a busy machine
/// a thread sometimes has a core to itself and sometimes shares one; many
/// short rounds, taken in turns, even that luck out between the two.
pub fn speedup(variant: impl Fn() -> Duration) -> Speedup {
    let mut total = Speedup {
        serial: Duration::ZERO,
        run: Duration::ZERO,
    };
    // A runtime's idle workers keep spinning a moment after a run before
    // they sleep; a short pause keeps that from slowing the next timing.
    let settle = || std::thread::sleep(Duration::from_millis(5));
    for _ in 0..ROUNDS {
        settle();
        total.serial += serial_baseline();
        settle();
        total.run += variant();
    }
    total
}

/// Total times: the baseline's and the variant's.
#[derive(Debug, Clone, Copy)]
pub struct Speedup {
    pub serial: Duration,
    pub run: Duration,
}

impl Speedup {
    pub fn ratio(&self) -> f64 {
        self.serial.as_secs_f64() / self.run.as_secs_f64()
    }
}

/// The multi-threaded runtime the lesson runs on: one worker per core.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .thread_name("worker")
        .enable_all()
        .build()
        .expect("the runtime builds")
}

/// Runs `f` and returns its output and how long it took.
pub fn timed<R>(f: impl FnOnce() -> R) -> (R, Duration) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed())
}
