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
use shared::lesson::{Facts, Piece, Spec, Variant, fact};
use shared::work::gauge::AtOnce;
use std::future::Future;
use std::sync::Arc;
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

// ANCHOR: api
/// The HTTP client for the lesson's own server on 127.0.0.1. Cloning it is
/// cheap, and `todo` hands back a future that owns all it needs
/// (`'static`), so the future can be moved into a spawned task.
#[derive(Clone)]
pub struct Api {
    inner: Arc<ApiInner>,
}

impl Api {
    pub fn new(server: &shared::work::server::DemoServer) -> Api {
        Api::with(Target::Http {
            client: shared::work::server::client(),
            base: server.url(""),
        })
    }

    /// Fetches one todo.
    pub fn todo(&self, id: u32) -> impl Future<Output = anyhow::Result<Todo>> + Send + 'static {
        let api = self.inner.clone();
        async move {
            let _counted = api.in_flight.enter(); // the harness counts requests in flight
            match &api.target {
                Target::Http { client, base } => {
                    let todo = client
                        .get(format!("{base}/todos/{id}"))
                        .send()
                        .await?
                        .error_for_status()?
                        .json::<Todo>()
                        .await?;
                    Ok(todo)
                }
                Target::Fake => {
                    tokio::time::sleep(LATENCY).await;
                    Ok(expected_todo(id))
                }
            }
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
    /// For the tests: a "request" that sleeps for the latency on tokio's
    /// clock, so that paused time makes every elapsed time exact.
    Fake,
}

struct ApiInner {
    target: Target,
    in_flight: AtOnce,
}

impl Api {
    fn with(target: Target) -> Api {
        Api {
            inner: Arc::new(ApiInner {
                target,
                in_flight: AtOnce::new(),
            }),
        }
    }

    /// An API that answers without a network: each request takes
    /// `LATENCY` of tokio's time and returns what the server would.
    pub fn fake() -> Api {
        Api::with(Target::Fake)
    }

    /// The most requests that were in flight at the same moment.
    pub fn max_in_flight(&self) -> u64 {
        self.inner.in_flight.most()
    }
}

/// The todo the server sends for `id`.
pub fn expected_todo(id: u32) -> Todo {
    let json =
        shared::work::server::resource(&format!("/todos/{id}")).expect("the server has todo {id}");
    serde_json::from_value(json).expect("a todo deserialises")
}

/// The todos every fetch scenario asks for.
pub const IDS: std::ops::RangeInclusive<u32> = 1..=10;

/// The delay the server adds to every request.
pub const LATENCY: Duration = Duration::from_millis(100);

pub mod broken {
    use super::*;

    // ANCHOR: broken_fetch
    /// Fetches the todos one after another: each request starts only when
    /// the previous one has answered.
    pub async fn fetch_all(api: &Api) -> anyhow::Result<Vec<Todo>> {
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
    pub async fn run_jobs(jobs: u32) -> Vec<u64> {
        let jobs = (1..=jobs).map(|i| job(i).traced(format!("job {i}")));
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
    pub async fn fetch_all(api: &Api) -> anyhow::Result<Vec<Todo>> {
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
    pub async fn fetch_all_join_set(api: &Api) -> anyhow::Result<Vec<Todo>> {
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
    pub async fn run_jobs(jobs: u32) -> Vec<u64> {
        let tasks: Vec<_> = (1..=jobs)
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

/// How long one job computes (on an idle core).
pub const JOB_TIME: Duration = Duration::from_millis(10);

/// Jobs computing right now, and the most there ever were at once.
static COMPUTING: AtOnce = AtOnce::new();

/// The answer job `i` computes.
fn compute(i: u32) -> u64 {
    shared::work::cpu::burn(JOB_TIME) ^ u64::from(i)
}

/// One CPU job: hashing for `JOB_TIME`, with no `.await` inside. The lesson
/// counts how many jobs compute at the same moment.
pub async fn job(i: u32) -> u64 {
    let _computing = COMPUTING.enter();
    compute(i)
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

/// The multi-threaded runtime the lesson runs on: one worker per core.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .thread_name("worker")
        .enable_all()
        .build()
        .expect("the runtime builds")
}

/// The `fetch` scenario: ten requests to a server that answers each after
/// `LATENCY`.
pub mod fetch {
    use super::*;
    use std::process::ExitCode;

    pub static SPEC: Spec = Spec {
        name: "fetch",
        facts: &[
            fact(
                "fetch_ratio",
                "the time for all ten todos over one request's latency",
            ),
            fact("max_in_flight", "the most requests in flight at once"),
            fact("wrong_todos", "todos missing, wrong or out of order"),
        ],
    };

    /// Fetches the ten todos with `fetch_all` through `api`, timed on
    /// tokio's clock (exact under paused time, with the fake API), and
    /// checks what came back.
    pub async fn measure<F>(facts: &Facts, api: &Api, fetch_all: F) -> anyhow::Result<Vec<Todo>>
    where
        F: AsyncFn(&Api) -> anyhow::Result<Vec<Todo>>,
    {
        let start = tokio::time::Instant::now();
        let got = fetch_all(api).await;
        let took = start.elapsed();
        facts.set("fetch_ratio", took.as_secs_f64() / LATENCY.as_secs_f64());
        facts.set("max_in_flight", api.max_in_flight() as u32);
        let wanted: Vec<Todo> = IDS.map(expected_todo).collect();
        let wrong = match &got {
            Ok(todos) => {
                let right = wanted.iter().zip(todos).filter(|(w, t)| w == t).count();
                wanted.len().max(todos.len()) - right
            }
            Err(_) => wanted.len(),
        };
        facts.set("wrong_todos", wrong as u32);
        got
    }

    /// [`measure`] against the real server, with narration.
    pub fn run<F>(facts: &Facts, fetch_all: F)
    where
        F: AsyncFn(&Api) -> anyhow::Result<Vec<Todo>>,
    {
        let server = shared::work::server::DemoServer::start(LATENCY)
            .expect("the demo server starts on 127.0.0.1");
        let api = Api::new(&server);
        println!(
            "The server answers each request after {} ms. Fetching todos {}..={} with {}:",
            LATENCY.as_millis(),
            IDS.start(),
            IDS.end(),
            facts.the("fetch_all")
        );
        let got = runtime().block_on(measure(facts, &api, fetch_all));
        match got {
            Ok(todos) => println!(
                "  got {} todos in {:.2} times one request's latency; at most {} request(s) in flight at once.",
                todos.len(),
                facts.get("fetch_ratio").unwrap_or(0.0),
                api.max_in_flight()
            ),
            Err(e) => println!("  the fetch failed: {e}"),
        }
    }

    pub fn piece<'a, F>(name: &'static str, fetch_all: F) -> Piece<'a>
    where
        F: AsyncFn(&Api) -> anyhow::Result<Vec<Todo>> + 'a,
    {
        Piece::new(name, move |facts| run(facts, fetch_all))
    }

    /// The exercise binary's `main`: judges the learner's `fetch_all`.
    pub fn exercise<F>(fetch_all: F) -> ExitCode
    where
        F: AsyncFn(&Api) -> anyhow::Result<Vec<Todo>>,
    {
        shared::lesson::main(
            "lesson-04",
            Variant::Exercise("fetch"),
            vec![SPEC.with(vec![piece("", fetch_all)])],
        )
    }
}

/// The `cpu` scenario: CPU jobs, timed against the same jobs in a plain
/// loop.
pub mod cpu {
    use super::*;
    use std::process::ExitCode;

    pub static SPEC: Spec = Spec {
        name: "cpu",
        facts: &[
            fact(
                "cpu_speedup",
                "the jobs' time in a plain loop over their time here (1 is no faster)",
            ),
            fact("most_at_once", "the most jobs computing at the same moment"),
            fact("wrong_results", "job results missing or wrong"),
        ],
    };

    /// How much work, for a machine with `cores` cores.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Plan {
        /// Jobs in a batch: at least one per core, so every core can work.
        pub jobs: u32,
        /// Batches timed, each against the plain loop.
        pub rounds: u32,
    }

    /// Enough jobs to keep every core busy, and enough rounds that about
    /// 1.4 s of serial work is timed on any machine.
    pub fn plan(cores: usize) -> Plan {
        let jobs = (cores as u32).clamp(8, 64);
        Plan {
            jobs,
            rounds: (144 / jobs).max(3),
        }
    }

    /// The plain loop: the same jobs, one after another, on this thread.
    /// Returns how long they took.
    fn serial_baseline(jobs: u32) -> Duration {
        let start = Instant::now();
        shared::blocking("serial baseline: all jobs in a loop", || {
            for i in 1..=jobs {
                std::hint::black_box(compute(i));
            }
        });
        start.elapsed()
    }

    /// Times `run_jobs` on `runtime` against the plain loop, `plan.rounds`
    /// times in alternation (so a busy moment on the machine cannot favour
    /// one), and checks the results.
    pub fn measure<F>(facts: &Facts, runtime: &tokio::runtime::Runtime, plan: Plan, run_jobs: F)
    where
        F: AsyncFn(u32) -> Vec<u64>,
    {
        let mut wanted: Vec<u64> = (1..=plan.jobs).map(compute).collect();
        wanted.sort_unstable();
        COMPUTING.reset_most();
        let (mut serial, mut parallel) = (Duration::ZERO, Duration::ZERO);
        let mut wrong = 0;
        // A runtime's idle workers keep spinning a moment after a run before
        // they sleep; a short pause keeps that from slowing the next timing.
        let settle = || std::thread::sleep(Duration::from_millis(5));
        for _ in 0..plan.rounds {
            settle();
            serial += serial_baseline(plan.jobs);
            settle();
            let start = Instant::now();
            let mut got = runtime.block_on(run_jobs(plan.jobs));
            parallel += start.elapsed();
            got.sort_unstable();
            let right = wanted.iter().zip(&got).filter(|(w, g)| w == g).count();
            wrong = wrong.max(wanted.len().max(got.len()) - right);
        }
        facts.set("cpu_speedup", serial.as_secs_f64() / parallel.as_secs_f64());
        facts.set("most_at_once", COMPUTING.most() as u32);
        facts.set("wrong_results", wrong as u32);
    }

    /// [`measure`] on the multi-threaded runtime, with narration.
    pub fn run<F>(facts: &Facts, run_jobs: F)
    where
        F: AsyncFn(u32) -> Vec<u64>,
    {
        let cores = shared::work::cpu::cores();
        let plan = plan(cores);
        println!(
            "{} jobs of {} ms, {} times in a plain loop (the baseline) and {} times through {}, on {cores} core(s):",
            plan.jobs,
            JOB_TIME.as_millis(),
            plan.rounds,
            plan.rounds,
            facts.the("run_jobs")
        );
        measure(facts, &runtime(), plan, run_jobs);
        println!(
            "  a speedup of {:.2} (at best {}); at most {} jobs computed at the same moment.",
            facts.get("cpu_speedup").unwrap_or(0.0),
            cores.min(plan.jobs as usize),
            facts.get("most_at_once").unwrap_or(0.0)
        );
    }

    pub fn piece<'a, F>(name: &'static str, run_jobs: F) -> Piece<'a>
    where
        F: AsyncFn(u32) -> Vec<u64> + 'a,
    {
        Piece::new(name, move |facts| run(facts, run_jobs))
    }

    /// The exercise binary's `main`: judges the learner's `run_jobs`.
    pub fn exercise<F>(run_jobs: F) -> ExitCode
    where
        F: AsyncFn(u32) -> Vec<u64>,
    {
        shared::lesson::main(
            "lesson-04",
            Variant::Exercise("cpu"),
            vec![SPEC.with(vec![piece("", run_jobs)])],
        )
    }
}
