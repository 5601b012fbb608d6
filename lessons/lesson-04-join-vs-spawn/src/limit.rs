//! The `limit` scenario (the `fetch` exercise): the server takes at most
//! `limit` requests at once, and every todo must still come back as soon
//! as `limit` requests in flight allow, under three workloads picked at
//! run time; in the last the server fails one request, and the only right
//! answer is then an error.
//!
//! The ideal is the time `limit` slots take when each slot, the moment its
//! answer comes, sends the next request in the order asked. Batches of
//! `limit` wait for their slowest member while the other slots sit idle,
//! and the second workload has one slow request among many quick ones, so
//! batches miss the ideal by half or more.

use super::*;
use std::process::ExitCode;

pub static SPEC: Spec = Spec {
    name: "limit",
    facts: &[
        fact(
            "fetch_ratio",
            "the time for all the todos over the ideal: each freed slot sends the next request at once (worst workload)",
        )
        .timing(),
        fact(
            "over_limit",
            "the most requests the server answered at once, beyond the limit (worst workload)",
        ),
        fact(
            "wrong_todos",
            "todos missing, out of the order asked, or not what the server sent",
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

/// One workload: the todos to fetch, in the order asked (not sorted), how
/// long the server takes for each, and how many requests it takes at once.
#[derive(Clone, Debug)]
pub struct Shape {
    pub name: String,
    pub ids: Vec<u32>,
    pub latencies: Vec<Duration>,
    pub limit: usize,
    /// The id of the todo whose request the server fails (404), if any.
    pub fails: Option<u32>,
}

impl Shape {
    pub fn slowest(&self) -> Duration {
        self.latencies.iter().copied().max().unwrap_or_default()
    }

    /// The ideal: `limit` slots, each sending the next request in the
    /// order asked as soon as its answer comes.
    pub fn ideal(&self) -> Duration {
        let mut free = vec![Duration::ZERO; self.limit.max(1)];
        for &latency in &self.latencies {
            let slot = (0..free.len()).min_by_key(|&i| free[i]).unwrap_or(0);
            free[slot] += latency;
        }
        free.into_iter().max().unwrap_or_default()
    }

    /// Batches of `limit`, each awaited whole before the next is sent.
    pub fn in_batches(&self) -> Duration {
        self.latencies
            .chunks(self.limit.max(1))
            .map(|batch| batch.iter().copied().max().unwrap_or_default())
            .sum()
    }

    /// A window of `limit` in the order asked (`StreamExt::buffered`):
    /// request `i` is sent only once every request up to `i - limit` has
    /// answered.
    pub fn in_order_window(&self) -> Duration {
        let mut ends: Vec<Duration> = Vec::new();
        let mut start = Duration::ZERO;
        for (i, &latency) in self.latencies.iter().enumerate() {
            if i >= self.limit {
                let before = ends[..=i - self.limit].iter().copied().max();
                start = start.max(before.unwrap_or_default());
            }
            ends.push(start + latency);
        }
        ends.into_iter().max().unwrap_or_default()
    }

    fn latency_table(&self) -> HashMap<u32, Duration> {
        self.ids
            .iter()
            .copied()
            .zip(self.latencies.iter().copied())
            .collect()
    }
}

/// `count` different todo ids from 1 to 999, in no particular order.
fn some_ids(rng: &mut Rng, count: usize) -> Vec<u32> {
    let mut ids: Vec<u32> = Vec::with_capacity(count);
    while ids.len() < count {
        let id = rng.between(1, 999) as u32;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

/// The three workloads of one run: 8 to 12 todos that all take the same
/// 80 to 120 ms, at most 2 to 4 at once; then 16 to 20 todos, at most 3
/// or 4 at once, the first of which takes as long as all the others would
/// on the remaining slots (15 to 25 ms each); then 8 to 12 todos of 60 to
/// 140 ms each, at most 2 or 3 at once, one of which (drawn at run time)
/// the server fails.
pub fn shapes(rng: &mut Rng) -> Vec<Shape> {
    let ms = Duration::from_millis;
    let n = rng.between(8, 12) as usize;
    let latency = ms(rng.between(80, 120));
    let limit = rng.between(2, 4) as usize;
    let steady = Shape {
        name: format!(
            "{n} todos, each answered after {} ms, at most {limit} at once",
            latency.as_millis()
        ),
        ids: some_ids(rng, n),
        latencies: vec![latency; n],
        limit,
        fails: None,
    };
    let n = rng.between(16, 20) as usize;
    let limit = rng.between(3, 4) as usize;
    let quick: Vec<Duration> = (1..n).map(|_| ms(rng.between(15, 25))).collect();
    let slow = quick.iter().sum::<Duration>() / (limit as u32 - 1);
    // Whole milliseconds: tokio's timer counts in them.
    let slow = ms(slow.as_millis() as u64);
    let one_slow = Shape {
        name: format!(
            "{n} todos, at most {limit} at once: the first answered after {} ms, the others after 15 to 25",
            slow.as_millis()
        ),
        ids: some_ids(rng, n),
        latencies: std::iter::once(slow).chain(quick).collect(),
        limit,
        fails: None,
    };
    let n = rng.between(8, 12) as usize;
    let limit = rng.between(2, 3) as usize;
    let ids = some_ids(rng, n);
    let failing = Shape {
        name: format!(
            "{n} todos of 60 to 140 ms, at most {limit} at once, one of which the server fails"
        ),
        fails: Some(ids[rng.between(0, n as u64 - 1) as usize]),
        ids,
        latencies: (0..n).map(|_| ms(rng.between(60, 140))).collect(),
        limit,
    };
    vec![steady, one_slow, failing]
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
    pub asleep_share: f64,
    pub polls_per_todo: f64,
    pub got: usize,
    pub error: Option<String>,
}

/// Fetches one workload's todos with `fetch_all`, timed on tokio's clock,
/// and checks what came back against what the server sent.
pub async fn measure_shape<F>(backend: fetch::Backend, shape: &Shape, fetch_all: &F) -> Measured
where
    F: AsyncFn(&Api, &[u32], usize) -> anyhow::Result<Vec<Todo>>,
{
    let server = match backend {
        fetch::Backend::Http => Some(
            shared::work::server::DemoServer::start(LATENCY)
                .expect("the demo server starts on 127.0.0.1"),
        ),
        fetch::Backend::Fake => None,
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
    let got = held.wrap(fetch_all(&api, &shape.ids, shape.limit)).await;
    let took = start.elapsed();
    let max_in_flight = match &server {
        // Counted by the server itself, as it answers.
        Some(server) => server.stats().max_in_flight(),
        None => api.max_in_flight(),
    };
    let slowest = shape.slowest();
    // With every request answered, the todos must be what the server sent;
    // with one failed, the only right answer is an error.
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
        ratio: took.as_secs_f64() / shape.ideal().as_secs_f64(),
        max_in_flight,
        wrong: wrong as u32,
        hidden: shape.fails.is_some() && got.is_ok(),
        longest_poll_ratio: held.longest_ratio(slowest),
        longest_asleep_ratio: held.longest_asleep_ratio(slowest),
        asleep_share: held.asleep().as_secs_f64() / took.as_secs_f64().max(1e-9),
        polls_per_todo: held.polls() as f64 / shape.ids.len().max(1) as f64,
        got: got.as_ref().map_or(0, Vec::len),
        error,
    }
}

/// Measures every workload in turn and sets the facts: the worst of each.
pub async fn measure<F>(facts: &Facts, backend: fetch::Backend, shapes: &[Shape], fetch_all: F)
where
    F: AsyncFn(&Api, &[u32], usize) -> anyhow::Result<Vec<Todo>>,
{
    if backend == fetch::Backend::Http {
        fetch::warm_up().await;
    }
    let mut all = Vec::new();
    for shape in shapes {
        all.push((shape.limit, measure_shape(backend, shape, &fetch_all).await));
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
        (None, true) => println!(
            "  {}: Ok with {} todos, though the server failed a request; {polls}.",
            shape.name, m.got
        ),
        (None, false) => println!(
            "  {}: {} todos back in {:.2} times the ideal; the server answered at most {} at once; {polls}.",
            shape.name, m.got, m.ratio, m.max_in_flight
        ),
        (Some(e), _) => println!(
            "  {}: the fetch returned an error after {:.2} times the ideal: {e}; {polls}.",
            shape.name, m.ratio
        ),
    }
}

fn set_facts(facts: &Facts, all: &[(usize, Measured)]) {
    let worst = |f: fn(&Measured) -> f64| all.iter().map(|(_, m)| f(m)).fold(0.0, f64::max);
    facts.set("fetch_ratio", worst(|m| m.ratio));
    let over = all
        .iter()
        .map(|(limit, m)| m.max_in_flight.saturating_sub(*limit as u64))
        .max()
        .unwrap_or(0);
    facts.set("over_limit", over as f64);
    facts.set("wrong_todos", all.iter().map(|(_, m)| m.wrong).sum::<u32>());
    facts.set(
        "errors_hidden",
        all.iter().filter(|(_, m)| m.hidden).count() as f64,
    );
    facts.set("longest_poll_ratio", worst(|m| m.longest_poll_ratio));
    facts.set("longest_asleep_ratio", worst(|m| m.longest_asleep_ratio));
    facts.set("asleep_share", worst(|m| m.asleep_share));
    facts.set("polls_per_todo", worst(|m| m.polls_per_todo));
}

/// [`measure`] against the real server, with narration.
pub fn run<F>(facts: &Facts, fetch_all: F)
where
    F: AsyncFn(&Api, &[u32], usize) -> anyhow::Result<Vec<Todo>>,
{
    let shapes = shapes(&mut Rng::for_scenario("limit"));
    println!(
        "Fetching todos with {} from a server that takes at most a few requests at once,",
        facts.the("fetch_all")
    );
    println!(
        "under three workloads (seed {}; LESSON_SEED={} replays them):",
        seed(),
        seed()
    );
    runtime().block_on(async {
        fetch::warm_up().await;
        let mut all = Vec::new();
        for shape in &shapes {
            let m = measure_shape(fetch::Backend::Http, shape, &fetch_all).await;
            narrate(shape, &m);
            all.push((shape.limit, m));
        }
        set_facts(facts, &all);
    });
}

pub fn piece<'a, F>(name: &'static str, fetch_all: F) -> Piece<'a>
where
    F: AsyncFn(&Api, &[u32], usize) -> anyhow::Result<Vec<Todo>> + 'a,
{
    Piece::new(name, move |facts| run(facts, fetch_all))
}

/// The `fetch` exercise binary's `main`: judges the learner's `fetch_all`.
pub fn exercise<F>(fetch_all: F) -> ExitCode
where
    F: AsyncFn(&Api, &[u32], usize) -> anyhow::Result<Vec<Todo>>,
{
    shared::lesson::main(
        LESSON,
        Variant::Exercise("fetch"),
        vec![SPEC.with(vec![piece("", fetch_all)])],
    )
}
