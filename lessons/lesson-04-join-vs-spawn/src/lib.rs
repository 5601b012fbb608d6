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
//!
//! Every scenario is judged under two or three workloads picked when the
//! program runs (from `shared::work::shape::seed`; `LESSON_SEED` replays a
//! run), so that no fixed count or constant can stand in for the fix. The
//! `fetch` exercise has a scenario of its own, [`limit`]: a server that
//! takes at most a few requests at once.

use serde::Deserialize;
use shared::TraceExt;
use shared::lesson::{Facts, Piece, Spec, Variant, fact};
use shared::record::held::Held;
use shared::record::threads::{default_workers, multi_thread_parking};
use shared::work::gauge::AtOnce;
use shared::work::shape::{Rng, seed};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// This lesson's id, `lesson-04`: its package name.
pub const LESSON: &str = env!("CARGO_PKG_NAME");

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

// ANCHOR: api
/// The HTTP client for the lesson's own server on 127.0.0.1. Cloning it is
/// cheap, and `todo` hands back a future that owns all it needs
/// (`'static`), so the future can be moved into a spawned task.
#[derive(Clone)]
pub struct Api {
    inner: Arc<ApiInner>,
}

impl Api {
    /// Fetches one todo.
    pub fn todo(&self, id: u32) -> impl Future<Output = anyhow::Result<Todo>> + Send + 'static {
        let api = self.inner.clone();
        async move {
            // The harness picks how long the server takes for each todo,
            // and which request, if any, it fails.
            let delay_ms = api.latency(id).as_millis();
            let path = if api.fails == Some(id) {
                format!("todos/{id}/gone") // the server answers 404 Not Found
            } else {
                format!("todos/{id}")
            };
            let todo = match &api.target {
                Target::Http { client, base } => {
                    client
                        .get(format!("{base}/{path}?delay_ms={delay_ms}"))
                        .send()
                        .await?
                        .error_for_status()?
                        .json::<Todo>()
                        .await?
                }
                Target::Fake(fake) => fake.answer(id, api.latency(id), &path).await?,
            };
            api.keep(&todo); // the harness's record of what the server sent
            Ok(todo)
        }
        .traced(format!("todo {id}"))
    }
}
// ANCHOR_END: api

enum Target {
    Http {
        client: reqwest::Client,
        base: String,
    },
    /// For the tests: a "request" that sleeps for its latency on tokio's
    /// clock, so that paused time makes every elapsed time exact.
    Fake(FakeServer),
}

struct ApiInner {
    target: Target,
    /// The latency of each todo the harness asks for; others take
    /// `LATENCY`.
    latencies: HashMap<u32, Duration>,
    /// The todo whose request the server fails, if any.
    fails: Option<u32>,
    /// Every todo a request brought back, by id: what the server sent.
    answered: Mutex<HashMap<u32, Todo>>,
}

impl ApiInner {
    fn latency(&self, id: u32) -> Duration {
        self.latencies.get(&id).copied().unwrap_or(LATENCY)
    }

    fn keep(&self, todo: &Todo) {
        self.answered
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(todo.id, todo.clone());
    }
}

/// The fake server behind [`Api::fake`]: it counts the requests it is
/// answering, as the real one does.
#[derive(Default)]
struct FakeServer {
    in_flight: AtOnce,
}

impl FakeServer {
    async fn answer(&self, id: u32, latency: Duration, path: &str) -> anyhow::Result<Todo> {
        let _answering = self.in_flight.enter();
        tokio::time::sleep(latency).await;
        match shared::work::server::resource(&format!("/{path}")) {
            Some(_) => Ok(expected_todo(id)),
            None => anyhow::bail!("HTTP status client error (404 Not Found) for /{path}"),
        }
    }
}

impl Api {
    fn with(target: Target, latencies: HashMap<u32, Duration>, fails: Option<u32>) -> Api {
        Api {
            inner: Arc::new(ApiInner {
                target,
                latencies,
                fails,
                answered: Mutex::default(),
            }),
        }
    }

    /// An API for the real server; every todo takes `LATENCY`.
    pub fn new(server: &shared::work::server::DemoServer) -> Api {
        Api::http(server, HashMap::new(), None)
    }

    fn http(
        server: &shared::work::server::DemoServer,
        latencies: HashMap<u32, Duration>,
        fails: Option<u32>,
    ) -> Api {
        Api::with(
            Target::Http {
                client: shared::work::server::client(),
                base: server.url(""),
            },
            latencies,
            fails,
        )
    }

    /// An API that answers without a network: each request takes
    /// `LATENCY` of tokio's time and returns what the server would.
    pub fn fake() -> Api {
        Api::with(Target::Fake(FakeServer::default()), HashMap::new(), None)
    }

    /// For the fake API: the most requests it was answering at the same
    /// moment. (The real server counts its own: `DemoServer::stats`.)
    pub fn max_in_flight(&self) -> u64 {
        match &self.inner.target {
            Target::Fake(fake) => fake.in_flight.most(),
            Target::Http { .. } => 0,
        }
    }

    /// The todo the server sent for `id`, if a request brought it back.
    fn answered(&self, id: u32) -> Option<Todo> {
        self.inner
            .answered
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .cloned()
    }
}

/// The todo the server sends for `id`.
pub fn expected_todo(id: u32) -> Todo {
    let json =
        shared::work::server::resource(&format!("/todos/{id}")).expect("the server has todo {id}");
    serde_json::from_value(json).expect("a todo deserialises")
}

/// Ten todos, for the tests and the book's examples.
pub const IDS: std::ops::RangeInclusive<u32> = 1..=10;

/// How long the server takes to answer a todo, unless the harness picks
/// another latency.
pub const LATENCY: Duration = Duration::from_millis(100);

pub mod broken {
    use super::*;

    // ANCHOR: broken_fetch
    /// Fetches the todos one after another: each request starts only when
    /// the previous one has answered.
    pub async fn fetch_all(api: &Api, ids: &[u32]) -> anyhow::Result<Vec<Todo>> {
        let mut todos = Vec::new();
        for &id in ids {
            todos.push(api.todo(id).await?); // BROKEN: waits for each in turn
        }
        Ok(todos)
    }
    // ANCHOR_END: broken_fetch

    // ANCHOR: broken_cpu
    /// Runs the CPU jobs joined in one task, hoping for parallelism. A task
    /// runs on one thread at a time, so they take turns on that thread.
    pub async fn run_jobs(jobs: u32) -> Vec<u64> {
        let jobs = (1..=jobs).map(job);
        futures::future::join_all(jobs).await // BROKEN: one task, one thread
    }
    // ANCHOR_END: broken_cpu

    // ANCHOR: broken_limit
    /// Sends every request at once, though the server takes at most
    /// `limit` at a time.
    pub async fn fetch_limited(api: &Api, ids: &[u32], _limit: usize) -> anyhow::Result<Vec<Todo>> {
        let requests = ids.iter().map(|&id| api.todo(id));
        futures::future::join_all(requests)
            .await
            .into_iter()
            .collect() // BROKEN: all of them in flight at once
    }
    // ANCHOR_END: broken_limit

    // ANCHOR: broken_share
    /// Computes every job over the lent inputs, one after another, on the
    /// thread that polls it.
    pub async fn run_shared(inputs: &[share::Input]) -> Vec<u64> {
        inputs.iter().map(share::compute).collect() // BROKEN: one thread, one poll
    }
    // ANCHOR_END: broken_share
}

pub mod fixed {
    use super::*;
    use tokio::task::JoinSet;

    // ANCHOR: fixed_join_all
    /// Starts every request at once and waits for all of them: one task,
    /// many requests in flight.
    pub async fn fetch_all(api: &Api, ids: &[u32]) -> anyhow::Result<Vec<Todo>> {
        let requests = ids.iter().map(|&id| api.todo(id));
        futures::future::join_all(requests)
            .await
            .into_iter()
            .collect() // FIXED
    }
    // ANCHOR_END: fixed_join_all

    // ANCHOR: fixed_join_set
    /// The same with a `JoinSet`: one spawned task per request, results
    /// collected as they finish (so we sort them afterwards: the ids come
    /// in increasing order).
    pub async fn fetch_all_join_set(api: &Api, ids: &[u32]) -> anyhow::Result<Vec<Todo>> {
        let mut set = JoinSet::new();
        for &id in ids {
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
    pub async fn run_jobs(jobs: u32) -> Vec<u64> {
        let tasks: Vec<_> = (1..=jobs)
            .map(|i| tokio::spawn(job(i))) // FIXED
            .collect();
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.expect("a job does not panic"));
        }
        results
    }
    // ANCHOR_END: fixed_cpu

    // ANCHOR: fixed_limit
    /// At most `limit` requests in flight: each request waits for one of
    /// `limit` permits, and gives it back when its answer is in, so the
    /// next request goes the moment any slot is free.
    pub async fn fetch_limited(api: &Api, ids: &[u32], limit: usize) -> anyhow::Result<Vec<Todo>> {
        let slots = tokio::sync::Semaphore::new(limit); // FIXED
        let requests = ids.iter().map(|&id| {
            let slots = &slots;
            async move {
                let _slot = slots.acquire().await?; // held until the answer is in
                api.todo(id).await
            }
        });
        futures::future::try_join_all(requests).await
    }
    // ANCHOR_END: fixed_limit

    // ANCHOR: fixed_share
    /// Each job in a task of its own, with its own copy of its input (a
    /// task cannot borrow from the call that spawned it); the handles
    /// awaited in the order of the inputs.
    pub async fn run_shared(inputs: &[share::Input]) -> Vec<u64> {
        let tasks: Vec<_> = inputs
            .iter()
            .map(|input| {
                let input = input.clone(); // FIXED: the task owns what it uses
                tokio::spawn(async move { share::compute(&input) })
            })
            .collect();
        let mut results = Vec::with_capacity(tasks.len());
        for task in tasks {
            results.push(task.await.expect("a job does not panic"));
        }
        results
    }
    // ANCHOR_END: fixed_share
}

/// How long a job computes when no harness has set up a batch.
pub const JOB_TIME: Duration = Duration::from_millis(10);

/// The batch of CPU jobs the `cpu` harness is running: each job's input
/// (different for every job, made when the program runs) and length, and
/// what happened to each.
struct Batch {
    jobs: Vec<JobInput>,
    /// How many times each job was run (1 each, for a right answer).
    runs: Vec<AtomicU32>,
    /// Calls of `job(i)` with an `i` that is not one of the batch's jobs.
    strays: AtomicU32,
    /// Jobs computed inside a poll of `run_jobs`, on the thread polling it.
    in_poll: AtomicU32,
    computing: AtOnce,
    /// When each run of a job computed, from start to end.
    spans: Mutex<Vec<(Instant, Instant)>>,
    /// The CPU time of every run of a job, by its thread's own clock (ns).
    jobs_cpu_ns: AtomicU64,
    /// The threads that computed a job (by the ids `/proc` gives).
    job_threads: Mutex<Vec<u64>>,
    /// The CPU time of all the polls of `run_jobs` (ns).
    polls_cpu_ns: AtomicU64,
    /// Polls of `run_jobs` in which its thread slept (gave up its core).
    sleeping_polls: AtomicU32,
    /// Wakes of `run_jobs`' task by the runtime's timer: from a worker
    /// thread inside its park, where the timers that are due fire.
    timer_wakes: AtomicU32,
}

#[derive(Clone, Copy, Debug)]
struct JobInput {
    seed: u64,
    rounds: u64,
}

impl JobInput {
    fn compute(self) -> u64 {
        shared::work::cpu::hash_rounds(self.seed, self.rounds)
    }
}

/// The batch that `job(i)` belongs to while a harness runs one.
static BATCH: Mutex<Option<Arc<Batch>>> = Mutex::new(None);

/// Held while a harness runs a batch: harnesses in one process (tests
/// run at the same time) take turns.
static ONE_BATCH_AT_A_TIME: Mutex<()> = Mutex::new(());

thread_local! {
    /// Set on a thread while it polls `run_jobs` (the harness's future): a
    /// job that runs then runs inside that poll, on the runtime's thread.
    static IN_RUN_JOBS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// Set on a worker thread of the lesson's runtime while it parks (it
    /// has nothing to do): a wake it makes then is a timer that is due (or
    /// an I/O event), fired by the runtime, not a job's end passed on.
    static PARKED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// `run_jobs`'s future, marking its thread for the length of each poll,
/// and counting, for the batch, what its polls did: their CPU time, the
/// polls in which the thread slept, and (through the waker it is given)
/// the wakes that came from the runtime's timer.
struct InPoll<F> {
    future: std::pin::Pin<Box<F>>,
    batch: Arc<Batch>,
}

impl<F: Future> Future for InPoll<F> {
    type Output = F::Output;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        let batch = self.batch.clone();
        // run_jobs gets a waker that notes where each wake comes from.
        let waker = std::task::Waker::from(Arc::new(Waking {
            inner: cx.waker().clone(),
            batch: batch.clone(),
        }));
        let mut cx = std::task::Context::from_waker(&waker);
        let switches = shared::record::sched::voluntary_switches();
        let cpu = thread_cpu();
        let before = IN_RUN_JOBS.replace(true);
        let out = self.future.as_mut().poll(&mut cx);
        IN_RUN_JOBS.set(before);
        let cpu = thread_cpu().saturating_sub(cpu);
        batch.polls_cpu_ns.fetch_add(nanos(cpu), Ordering::SeqCst);
        if shared::record::sched::voluntary_switches() > switches {
            batch.sleeping_polls.fetch_add(1, Ordering::SeqCst);
        }
        out
    }
}

/// The waker `run_jobs` gets: its task's own, counting the wakes that come
/// from a parked worker of the runtime (its timer).
struct Waking {
    inner: std::task::Waker,
    batch: Arc<Batch>,
}

impl std::task::Wake for Waking {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if PARKED.get() {
            self.batch.timer_wakes.fetch_add(1, Ordering::SeqCst);
        }
        self.inner.wake_by_ref();
    }
}

fn current_batch() -> Option<Arc<Batch>> {
    BATCH.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

impl Batch {
    fn run(&self, i: u32) -> u64 {
        let Some(input) = i
            .checked_sub(1)
            .and_then(|k| self.jobs.get(k as usize).copied())
        else {
            self.strays.fetch_add(1, Ordering::SeqCst);
            return 0;
        };
        self.runs[i as usize - 1].fetch_add(1, Ordering::SeqCst);
        if IN_RUN_JOBS.get() {
            self.in_poll.fetch_add(1, Ordering::SeqCst);
        }
        let _computing = self.computing.enter();
        let cpu = thread_cpu();
        let started = Instant::now();
        let out = input.compute();
        let finished = Instant::now();
        // Time on a core, which a job waiting for one does not get: jobs
        // time-sliced on one core add up to at most the wall time.
        let cpu = thread_cpu().saturating_sub(cpu);
        self.jobs_cpu_ns.fetch_add(nanos(cpu), Ordering::SeqCst);
        if let Some(tid) = shared::record::sched::this_thread_id() {
            let mut threads = self.job_threads.lock().unwrap_or_else(|e| e.into_inner());
            if !threads.contains(&tid) {
                threads.push(tid);
            }
        }
        self.spans
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((started, finished));
        out
    }
}

/// The calling thread's CPU time (zero where it cannot be read).
fn thread_cpu() -> Duration {
    shared::record::sched::thread_cpu_time().unwrap_or_default()
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// The cores this process may run on, as the standard library saw them
/// the first time the lesson asked (before any program's code ran): a
/// program that pins its own thread to one core changes what the standard
/// library says afterwards, and the batches' ideal time with it.
pub fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(shared::work::cpu::cores)
}

/// CPU job `i` of the current batch (1 to the batch's size): hashing its
/// own input for a while, with no `.await` inside. The lesson counts how
/// many jobs compute at the same moment. Each job is traced as `job i`, so
/// the timeline shows where it ran, however it is run.
pub fn job(i: u32) -> impl Future<Output = u64> + Send + 'static {
    let batch = current_batch();
    async move {
        match batch {
            Some(batch) => batch.run(i),
            // Outside the harness (in the tests), a plain job.
            None => shared::work::cpu::burn(JOB_TIME) ^ u64::from(i),
        }
    }
    .traced(format!("job {i}"))
}

/// `tokio::spawn` needs a `'static` future: this does not compile, because
/// the task could outlive `orders`. Moving the data in (`async move`) or
/// sharing it through an `Arc` fixes it.
///
/// ```compile_fail,E0373
#[doc = include_str!("snippets/spawn_borrows.rs")]
/// ```
pub struct SpawnNeedsStatic;

/// Why [`Api::todo`] returns `impl Future<Output = ...> + Send + 'static`.
/// Code that is generic over an API (a trait) knows only what the return
/// type promises, and `tokio::spawn` needs both promises.
///
/// Without `Send`, the future may not move to another thread, and a task
/// may be polled by any worker thread:
///
/// ```compile_fail,E0277
#[doc = include_str!("snippets/trait_future_not_send.rs")]
/// ```
///
/// Without `'static`, the future is taken to borrow `self` (a trait
/// method's `impl Trait` captures every lifetime in scope), and a task may
/// outlive the call that spawned it:
///
/// ```compile_fail,E0521
#[doc = include_str!("snippets/trait_future_borrows.rs")]
/// ```
///
/// With both, the generic code compiles; `tests/concepts.rs` runs it.
pub struct SpawnNeedsSendAndStatic;

/// The multi-threaded runtime the lesson runs on: one worker per core,
/// named `worker` on the timeline (threads that run `spawn_blocking` jobs
/// are `blocking pool`).
pub fn runtime() -> tokio::runtime::Runtime {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    // A worker parks when it has nothing left to do, and fires the timers
    // that are due as it does: a task it wakes then was woken by a timer.
    builder.enable_all().on_thread_unpark(|| PARKED.set(false));
    let parking = || PARKED.set(true);
    multi_thread_parking(&mut builder, "worker", default_workers(), parking)
        .expect("the runtime builds")
}

pub mod limit;
pub mod share;

/// The `fetch` scenario: requests to a server that answers each after a
/// latency, under two workloads.
pub mod fetch {
    use super::*;

    pub static SPEC: Spec = Spec {
        name: "fetch",
        facts: &[
            fact(
                "fetch_ratio",
                "the time for all the todos over the slowest one's latency (worst workload)",
            )
            .timing(),
            fact(
                "max_in_flight",
                "the most requests the server answered at once (fewest over the workloads)",
            ),
            fact(
                "wrong_todos",
                "todos missing, out of order, or not what the server sent",
            ),
            fact(
                "errors_hidden",
                "workloads in which the server failed a request and fetch_all still returned Ok",
            ),
            fact(
                "longest_poll_ratio",
                "the longest single poll of fetch_all over the slowest latency",
            )
            .timing(),
            fact(
                "longest_asleep_ratio",
                "the longest time the thread slept inside one poll of fetch_all, over the slowest latency",
            )
            .timing(),
            fact(
                "longest_cpu_ratio",
                "the most CPU time of one poll of fetch_all, over the slowest latency",
            )
            .timing(),
            fact(
                "asleep_share",
                "the share of fetch_all's time its thread slept inside its polls (worst workload)",
            )
            .timing(),
            fact(
                "polls_per_todo",
                "polls of fetch_all per todo asked for (worst workload)",
            ),
        ],
    };

    /// One workload: which todos to fetch (in increasing order), how
    /// long the server takes for each, and which one it fails, if any.
    #[derive(Clone, Debug)]
    pub struct Shape {
        pub name: String,
        pub ids: Vec<u32>,
        pub latencies: Vec<Duration>,
        /// The id of the todo whose request the server fails (404).
        pub fails: Option<u32>,
    }

    impl Shape {
        /// The latency of the slowest request: the least time any fetch
        /// of them all can take.
        pub fn slowest(&self) -> Duration {
            self.latencies.iter().copied().max().unwrap_or_default()
        }

        fn latency_table(&self) -> HashMap<u32, Duration> {
            self.ids
                .iter()
                .copied()
                .zip(self.latencies.iter().copied())
                .collect()
        }
    }

    /// `count` different todo ids from 1 to 999, in increasing order.
    fn some_ids(rng: &mut Rng, count: usize) -> Vec<u32> {
        let mut ids: Vec<u32> = Vec::with_capacity(count);
        while ids.len() < count {
            let id = rng.between(1, 999) as u32;
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids.sort_unstable();
        ids
    }

    /// The three workloads of one run: 8 to 12 todos that all take the
    /// same 80 to 120 ms; 10 to 16 todos that each take 60 to 140 ms; and
    /// 6 to 10 todos of 60 to 140 ms, one of which the server fails.
    pub fn shapes(rng: &mut Rng) -> Vec<Shape> {
        let ms = Duration::from_millis;
        let n = rng.between(8, 12) as usize;
        // Whole milliseconds: tokio's timer counts in them.
        let latency = ms(rng.between(80, 120));
        let steady = Shape {
            name: format!("{n} todos, each answered after {} ms", latency.as_millis()),
            ids: some_ids(rng, n),
            latencies: vec![latency; n],
            fails: None,
        };
        let n = rng.between(10, 16) as usize;
        let uneven = Shape {
            name: format!("{n} todos, each answered after 60 to 140 ms"),
            ids: some_ids(rng, n),
            latencies: (0..n).map(|_| ms(rng.between(60, 140))).collect(),
            fails: None,
        };
        let n = rng.between(6, 10) as usize;
        let ids = some_ids(rng, n);
        let failing = Shape {
            name: format!("{n} todos of 60 to 140 ms, one of which the server fails"),
            fails: Some(ids[rng.between(0, n as u64 - 1) as usize]),
            ids,
            latencies: (0..n).map(|_| ms(rng.between(60, 140))).collect(),
        };
        vec![steady, uneven, failing]
    }

    /// What one workload measured.
    #[derive(Clone, Debug, PartialEq)]
    pub struct Measured {
        pub ratio: f64,
        pub max_in_flight: u64,
        pub wrong: u32,
        /// The server failed a request, and `fetch_all` returned `Ok`.
        pub hidden: bool,
        pub longest_poll_ratio: f64,
        pub longest_asleep_ratio: f64,
        pub longest_cpu_ratio: f64,
        pub asleep_share: f64,
        pub polls_per_todo: f64,
        pub got: usize,
        pub error: Option<String>,
    }

    /// Where the requests go: the real server on 127.0.0.1, or the fake
    /// (for tests on paused time).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Backend {
        Http,
        Fake,
    }

    /// Fetches one workload's todos with `fetch_all`, timed on tokio's clock
    /// (exact under paused time, with the fake backend), and checks what
    /// came back against what the server sent.
    pub async fn measure_shape<F>(backend: Backend, shape: &Shape, fetch_all: &F) -> Measured
    where
        F: AsyncFn(&Api, &[u32]) -> anyhow::Result<Vec<Todo>>,
    {
        let server = match backend {
            Backend::Http => Some(
                shared::work::server::DemoServer::start(LATENCY)
                    .expect("the demo server starts on 127.0.0.1"),
            ),
            Backend::Fake => None,
        };
        let api = match &server {
            Some(server) => Api::http(server, shape.latency_table(), shape.fails),
            None => Api::with(
                Target::Fake(FakeServer::default()),
                shape.latency_table(),
                shape.fails,
            ),
        };
        let held = Held::new();
        let start = tokio::time::Instant::now();
        let got = held.wrap(fetch_all(&api, &shape.ids)).await;
        let took = start.elapsed();
        let max_in_flight = match &server {
            // Counted by the server itself, as it answers.
            Some(server) => server.stats().max_in_flight(),
            None => api.max_in_flight(),
        };
        let slowest = shape.slowest();
        // With every request answered, the todos must be what the server
        // sent; with one failed, the only right answer is an error.
        let (wrong, error) = match &got {
            Ok(_) if shape.fails.is_some() => (0, None),
            Ok(todos) => {
                let right = shape
                    .ids
                    .iter()
                    .zip(todos)
                    .filter(|&(&id, todo)| api.answered(id).as_ref() == Some(todo))
                    .count();
                (shape.ids.len().max(todos.len()) - right, None)
            }
            Err(e) if shape.fails.is_some() => (0, Some(format!("{e:#}"))),
            Err(e) => (shape.ids.len(), Some(format!("{e:#}"))),
        };
        Measured {
            ratio: took.as_secs_f64() / slowest.as_secs_f64(),
            max_in_flight,
            wrong: wrong as u32,
            hidden: shape.fails.is_some() && got.is_ok(),
            longest_poll_ratio: held.longest_ratio(slowest),
            longest_asleep_ratio: held.longest_asleep_ratio(slowest),
            longest_cpu_ratio: held.longest_cpu_ratio(slowest),
            asleep_share: held.asleep().as_secs_f64() / took.as_secs_f64().max(1e-9),
            polls_per_todo: held.polls() as f64 / shape.ids.len().max(1) as f64,
            got: got.as_ref().map_or(0, Vec::len),
            error,
        }
    }

    /// One untimed request, so that what a process does only once (starting
    /// the threads that resolve addresses, say) is not charged to the first
    /// workload.
    pub(crate) async fn warm_up() {
        let server = shared::work::server::DemoServer::start(Duration::ZERO)
            .expect("the demo server starts on 127.0.0.1");
        let _ = Api::http(&server, HashMap::new(), None).todo(1).await;
    }

    /// Measures every workload in turn and sets the facts: the worst of
    /// each over the workloads.
    pub async fn measure<F>(facts: &Facts, backend: Backend, shapes: &[Shape], fetch_all: F)
    where
        F: AsyncFn(&Api, &[u32]) -> anyhow::Result<Vec<Todo>>,
    {
        if backend == Backend::Http {
            warm_up().await;
        }
        let mut all = Vec::new();
        for shape in shapes {
            all.push(measure_shape(backend, shape, &fetch_all).await);
        }
        set_facts(facts, &all);
    }

    fn narrate(shape: &Shape, m: &Measured) {
        let polls = format!(
            "{:.1} polls per todo, asleep in them {:.0}% of the time",
            m.polls_per_todo,
            m.asleep_share * 100.0
        );
        match (&m.error, shape.fails.is_some()) {
            (None, false) => println!(
                "  {}: {} todos back in {:.2} times the slowest latency; the server answered at most {} at once; {polls}.",
                shape.name, m.got, m.ratio, m.max_in_flight
            ),
            (None, true) => println!(
                "  {}: Ok with {} todos, though the server failed a request; {polls}.",
                shape.name, m.got
            ),
            (Some(e), _) => println!(
                "  {}: the fetch returned an error after {:.2} times the slowest latency: {e}; {polls}.",
                shape.name, m.ratio
            ),
        }
    }

    fn set_facts(facts: &Facts, all: &[Measured]) {
        let worst = |f: fn(&Measured) -> f64| all.iter().map(f).fold(0.0, f64::max);
        facts.set("fetch_ratio", worst(|m| m.ratio));
        facts.set(
            "max_in_flight",
            all.iter().map(|m| m.max_in_flight).min().unwrap_or(0) as f64,
        );
        facts.set("wrong_todos", all.iter().map(|m| m.wrong).sum::<u32>());
        facts.set(
            "errors_hidden",
            all.iter().filter(|m| m.hidden).count() as f64,
        );
        facts.set("longest_poll_ratio", worst(|m| m.longest_poll_ratio));
        facts.set("longest_asleep_ratio", worst(|m| m.longest_asleep_ratio));
        facts.set("longest_cpu_ratio", worst(|m| m.longest_cpu_ratio));
        facts.set("asleep_share", worst(|m| m.asleep_share));
        facts.set("polls_per_todo", worst(|m| m.polls_per_todo));
    }

    /// [`measure`] against the real server, with narration.
    pub fn run<F>(facts: &Facts, fetch_all: F)
    where
        F: AsyncFn(&Api, &[u32]) -> anyhow::Result<Vec<Todo>>,
    {
        let shapes = shapes(&mut Rng::for_scenario("fetch"));
        println!(
            "Fetching todos from the lesson's server with {}, under three workloads",
            facts.the("fetch_all")
        );
        println!("(seed {}; LESSON_SEED={} replays them):", seed(), seed());
        runtime().block_on(async {
            warm_up().await;
            let mut all = Vec::new();
            for shape in &shapes {
                let m = measure_shape(Backend::Http, shape, &fetch_all).await;
                narrate(shape, &m);
                all.push(m);
            }
            set_facts(facts, &all);
        });
    }

    pub fn piece<'a, F>(name: &'static str, fetch_all: F) -> Piece<'a>
    where
        F: AsyncFn(&Api, &[u32]) -> anyhow::Result<Vec<Todo>> + 'a,
    {
        Piece::new(name, move |facts| run(facts, fetch_all))
    }
}

/// The `cpu` scenario: batches of CPU jobs with inputs made at run time,
/// under two workloads.
pub mod cpu {
    use super::*;

    pub static SPEC: Spec = Spec {
        name: "cpu",
        facts: &[
            fact(
                "most_at_once",
                "the most jobs computing at the same moment (fewest over the workloads)",
            ),
            fact(
                "overlap",
                "jobs computing at once on average while the batch ran (worst workload)",
            )
            .timing(),
            fact("wrong_results", "job results missing or wrong"),
            fact(
                "extra_runs",
                "jobs computed more than once, or jobs asked for that the batch does not have",
            ),
            fact(
                "jobs_in_poll",
                "jobs computed inside a poll of run_jobs, on the thread polling it (all the workloads)",
            ),
            fact(
                "longest_asleep_ratio",
                "the longest time the thread slept inside one poll of run_jobs, over the batch's ideal time (worst workload)",
            )
            .timing(),
            fact(
                "longest_cpu_ratio",
                "the most CPU time of one poll of run_jobs, over the batch's ideal time (worst workload)",
            )
            .timing(),
            fact(
                "asleep_share",
                "the share of the batch's time the thread polling run_jobs slept inside its polls (worst workload)",
            )
            .timing(),
            fact(
                "polls_per_job",
                "polls of run_jobs per job (worst workload)",
            ),
        ],
    };

    /// One workload: how many jobs, and how long each one hashes.
    #[derive(Clone, Debug)]
    pub struct Shape {
        pub name: String,
        pub lengths: Vec<Duration>,
    }

    impl Shape {
        pub fn jobs(&self) -> u32 {
            self.lengths.len() as u32
        }

        /// The jobs' time, added up: what a plain loop takes.
        pub fn serial(&self) -> Duration {
            self.lengths.iter().sum()
        }

        /// The batch's ideal time on `cores` cores: its jobs' time shared
        /// out evenly over the cores (or over the jobs, if fewer).
        pub fn ideal(&self, cores: usize) -> Duration {
            self.serial() / cores.clamp(1, self.lengths.len().max(1)) as u32
        }
    }

    /// The two workloads of one run on a machine with `cores` cores, with
    /// at least two jobs per core (12 to 128): jobs that all hash for the
    /// same 6 to 10 ms, then a few more jobs of 2 to 20 ms each.
    pub fn shapes(cores: usize, rng: &mut Rng) -> Vec<Shape> {
        let ms = Duration::from_millis;
        let n = (2 * cores).clamp(12, 128);
        let length = rng.duration_between(ms(6), ms(10));
        let even = Shape {
            name: format!("{n} jobs of {:.1} ms", length.as_secs_f64() * 1000.0),
            lengths: vec![length; n],
        };
        let n = n + rng.between(1, (cores as u64 / 2).max(4)) as usize;
        let uneven = Shape {
            name: format!("{n} jobs of 2 to 20 ms"),
            lengths: (0..n)
                .map(|_| rng.duration_between(ms(2), ms(20)))
                .collect(),
        };
        vec![even, uneven]
    }

    /// What one workload measured.
    #[derive(Clone, Debug, PartialEq)]
    pub struct Measured {
        pub most_at_once: u64,
        pub overlap: f64,
        pub wrong: u32,
        pub extra: u32,
        /// Jobs computed inside a poll of `run_jobs`, on its thread.
        pub in_poll: u32,
        /// The plain loop's time over the time here.
        pub speedup: f64,
        pub longest_asleep_ratio: f64,
        pub longest_cpu_ratio: f64,
        pub asleep_share: f64,
        pub polls_per_job: f64,
        /// The longest poll of `run_jobs`, by the wall clock, over the
        /// batch's ideal time.
        pub longest_poll_ratio: f64,
        /// The CPU time of all of `run_jobs`' polls, over the batch's ideal
        /// time.
        pub polls_cpu_ratio: f64,
        /// Polls of `run_jobs` in which its thread slept.
        pub sleeping_polls: u32,
        /// Wakes of `run_jobs`' task by the runtime's timer.
        pub timer_wakes: u32,
        /// The CPU time of the threads that computed no job (all but the
        /// one polling `run_jobs` and the kit's), over the jobs' CPU time
        /// per thread that computed any.
        pub threads_busy: f64,
        /// The jobs' CPU time over the batch's time: how many cores they
        /// really had, on average.
        pub cpu_overlap: f64,
    }

    /// Runs one workload: the same jobs in a plain loop first (the
    /// harness's own record of every answer), then through `run_jobs` on
    /// `runtime`, and compares.
    #[allow(clippy::redundant_closure)]
    pub fn measure_shape<F>(
        runtime: &tokio::runtime::Runtime,
        shape: &Shape,
        rng: &mut Rng,
        run_jobs: &F,
    ) -> Measured
    where
        F: AsyncFn(u32) -> Vec<u64>,
    {
        measure_batch(runtime, shape, rng, |jobs| run_jobs(jobs), false)
    }

    /// Runs one workload's batch through the future `begin(jobs)` makes,
    /// and measures it. With `in_order`, the results must come in the
    /// order of the jobs; otherwise in any order.
    pub(crate) fn measure_batch<Fut>(
        runtime: &tokio::runtime::Runtime,
        shape: &Shape,
        rng: &mut Rng,
        begin: impl FnOnce(u32) -> Fut,
        in_order: bool,
    ) -> Measured
    where
        Fut: Future<Output = Vec<u64>>,
    {
        let cal = shared::work::cpu::calibration();
        let inputs: Vec<JobInput> = shape
            .lengths
            .iter()
            .map(|&d| JobInput {
                seed: rng.salt(),
                rounds: cal.rounds_for(d),
            })
            .collect();
        // Taken before the plain loop too: another test's loop would be a
        // thread busy beside this batch's jobs.
        let _turn = ONE_BATCH_AT_A_TIME
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let started = Instant::now();
        let mut wanted: Vec<u64> = shared::blocking("the same jobs in a plain loop", || {
            inputs.iter().map(|j| j.compute()).collect()
        });
        let serial = started.elapsed();
        if !in_order {
            wanted.sort_unstable();
        }
        let batch = Arc::new(Batch {
            runs: inputs.iter().map(|_| AtomicU32::new(0)).collect(),
            jobs: inputs,
            strays: AtomicU32::new(0),
            in_poll: AtomicU32::new(0),
            computing: AtOnce::new(),
            spans: Mutex::default(),
            jobs_cpu_ns: AtomicU64::new(0),
            job_threads: Mutex::default(),
            polls_cpu_ns: AtomicU64::new(0),
            sleeping_polls: AtomicU32::new(0),
            timer_wakes: AtomicU32::new(0),
        });
        // A runtime's idle workers keep spinning a moment after a run before
        // they sleep; a short pause keeps that from slowing the next one.
        std::thread::sleep(Duration::from_millis(5));
        *BATCH.lock().unwrap_or_else(|e| e.into_inner()) = Some(batch.clone());
        let held = Held::new();
        let polled = InPoll {
            future: Box::pin(begin(shape.jobs())),
            batch: batch.clone(),
        };
        // Every thread of the process but this one (which polls run_jobs,
        // and is watched poll by poll) and the kit's own: the runtime's
        // workers, the blocking pool, and every thread the program made,
        // whenever. Those that computed no job did other work.
        let this_thread = shared::record::sched::this_thread_id();
        let threads = shared::work::cpu::BusyWatch::leaving_out(this_thread.into_iter().collect());
        let start = Instant::now();
        let mut got = runtime.block_on(held.wrap(polled));
        let end = Instant::now();
        let (_, threads) = threads.finish_by_thread();
        let ideal = shape.ideal(cores());
        let ns = |n: &AtomicU64| Duration::from_nanos(n.load(Ordering::SeqCst));
        let job_threads = batch.job_threads.lock().unwrap_or_else(|e| e.into_inner());
        // Their time on a core: a thread that spins beside the jobs gets
        // about as much as a thread that computes them, however busy the
        // machine (time waiting for a core would count the wake-ups of a
        // pool's idle threads, which wait long behind a dozen jobs).
        let no_job: Duration = threads
            .iter()
            .filter(|(tid, _)| !job_threads.contains(tid))
            .map(|(_, counts)| counts.ran)
            .sum();
        let job_thread = ns(&batch.jobs_cpu_ns) / (job_threads.len().max(1) as u32);
        if !in_order {
            got.sort_unstable();
        }
        // Jobs that were left running are counted too: wait for them.
        std::thread::sleep(Duration::from_millis(5));
        *BATCH.lock().unwrap_or_else(|e| e.into_inner()) = None;
        let right = if in_order {
            wanted.iter().zip(&got).filter(|(w, g)| w == g).count()
        } else {
            multiset_matches(&wanted, &got)
        };
        let extra = batch
            .runs
            .iter()
            .map(|r| r.load(Ordering::SeqCst).saturating_sub(1))
            .sum::<u32>()
            + batch.strays.load(Ordering::SeqCst);
        let span = end - start;
        let spans = batch.spans.lock().unwrap_or_else(|e| e.into_inner());
        let busy: Duration = spans
            .iter()
            .map(|&(a, b)| b.min(end).saturating_duration_since(a.max(start)))
            .sum();
        Measured {
            most_at_once: batch.computing.most(),
            overlap: busy.as_secs_f64() / span.as_secs_f64(),
            wrong: (wanted.len().max(got.len()) - right) as u32,
            extra,
            in_poll: batch.in_poll.load(Ordering::SeqCst),
            speedup: serial.as_secs_f64() / span.as_secs_f64(),
            longest_asleep_ratio: held.longest_asleep_ratio(ideal),
            longest_cpu_ratio: held.longest_cpu_ratio(ideal),
            asleep_share: held.asleep().as_secs_f64() / span.as_secs_f64().max(1e-9),
            polls_per_job: held.polls() as f64 / f64::from(shape.jobs().max(1)),
            longest_poll_ratio: held.longest_ratio(ideal),
            polls_cpu_ratio: ns(&batch.polls_cpu_ns).as_secs_f64() / ideal.as_secs_f64().max(1e-9),
            sleeping_polls: batch.sleeping_polls.load(Ordering::SeqCst),
            timer_wakes: batch.timer_wakes.load(Ordering::SeqCst),
            threads_busy: no_job.as_secs_f64() / job_thread.as_secs_f64().max(1e-9),
            cpu_overlap: ns(&batch.jobs_cpu_ns).as_secs_f64() / span.as_secs_f64().max(1e-9),
        }
    }

    /// How many of `got` (sorted) match `wanted` (sorted), each used once.
    fn multiset_matches(wanted: &[u64], got: &[u64]) -> usize {
        let (mut i, mut j, mut n) = (0, 0, 0);
        while i < wanted.len() && j < got.len() {
            match wanted[i].cmp(&got[j]) {
                std::cmp::Ordering::Equal => {
                    n += 1;
                    i += 1;
                    j += 1;
                }
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
            }
        }
        n
    }

    /// Measures every workload on `runtime` and sets the facts, the worst
    /// of each over the workloads. Returns each workload's measurements.
    pub fn measure<F>(
        facts: &Facts,
        runtime: &tokio::runtime::Runtime,
        shapes: &[Shape],
        rng: &mut Rng,
        run_jobs: F,
    ) -> Vec<Measured>
    where
        F: AsyncFn(u32) -> Vec<u64>,
    {
        let all: Vec<Measured> = shapes
            .iter()
            .map(|shape| measure_shape(runtime, shape, rng, &run_jobs))
            .collect();
        set_facts(facts, &all);
        all
    }

    /// Sets the facts from every workload's measurements: the worst of each.
    pub(crate) fn set_facts(facts: &Facts, all: &[Measured]) {
        facts.set(
            "most_at_once",
            all.iter().map(|m| m.most_at_once).min().unwrap_or(0) as f64,
        );
        facts.set(
            "overlap",
            all.iter().map(|m| m.overlap).fold(f64::INFINITY, f64::min),
        );
        facts.set("wrong_results", all.iter().map(|m| m.wrong).sum::<u32>());
        facts.set("extra_runs", all.iter().map(|m| m.extra).sum::<u32>());
        facts.set("jobs_in_poll", all.iter().map(|m| m.in_poll).sum::<u32>());
        let worst = |f: fn(&Measured) -> f64| all.iter().map(f).fold(0.0, f64::max);
        facts.set("longest_asleep_ratio", worst(|m| m.longest_asleep_ratio));
        facts.set("longest_cpu_ratio", worst(|m| m.longest_cpu_ratio));
        facts.set("asleep_share", worst(|m| m.asleep_share));
        facts.set("polls_per_job", worst(|m| m.polls_per_job));
    }

    /// [`measure`] on the multi-threaded runtime, with narration.
    pub fn run<F>(facts: &Facts, run_jobs: F)
    where
        F: AsyncFn(u32) -> Vec<u64>,
    {
        let cores = cores();
        let mut rng = Rng::for_scenario("cpu");
        let shapes = shapes(cores, &mut rng);
        println!(
            "CPU jobs, each hashing an input made just now, first in a plain loop (the harness's"
        );
        println!(
            "own answers), then through {}, on {cores} core(s), under two workloads",
            facts.the("run_jobs")
        );
        println!("(seed {}; LESSON_SEED={} replays them):", seed(), seed());
        let all = measure(facts, &runtime(), &shapes, &mut rng, run_jobs);
        for (shape, m) in shapes.iter().zip(&all) {
            println!(
                "  {}: {:.2} jobs computing at once on average (at best {}), at most {}; {:.2} times as fast as the loop;",
                shape.name,
                m.overlap,
                cores.min(shape.jobs() as usize),
                m.most_at_once,
                m.speedup
            );
            println!(
                "    run_jobs was polled {:.1} times per job; in its longest poll it slept {:.2} and computed {:.2} of the batch's ideal time;",
                m.polls_per_job, m.longest_asleep_ratio, m.longest_cpu_ratio
            );
            println!(
                "    its thread slept inside its polls for {:.0}% of the batch's time, and computed {} of the jobs there.",
                m.asleep_share * 100.0,
                m.in_poll
            );
        }
    }

    pub fn piece<'a, F>(name: &'static str, run_jobs: F) -> Piece<'a>
    where
        F: AsyncFn(u32) -> Vec<u64> + 'a,
    {
        Piece::new(name, move |facts| run(facts, run_jobs))
    }
}
