//! The `cache` scenario, judged by the `mutex` exercise: gets joined in one
//! task on a one-thread runtime each ask a cache for a page by key, beside
//! a heartbeat, under two workloads. On a miss the page is fetched, an
//! `.await` that takes a while, and kept for the next get of that key.
//! Many gets of one key come while it is being fetched.

use super::{TICK, say_seed};
use shared::TraceExt;
use shared::lesson::{Facts, Piece, Spec, Variant, fact};
use shared::record::held::Held;
use shared::work::heartbeat::Heartbeat;
use shared::work::shape::Rng;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::Instant;

pub static SPEC: Spec = Spec {
    name: "cache",
    facts: &[
        fact(
            "gets_answered",
            "gets that returned a fetched page of their own key, over all the gets (1 is every one)",
        )
        .live(),
        fact(
            "extra_fetches",
            "fetches beyond one for each key asked for",
        ),
        fact(
            "elapsed_ratio",
            "the time for all the gets over the ideal: each key fetched once, from its first get (worst workload)",
        )
        .timing(),
        fact(
            "heartbeat_lateness",
            "the heartbeat's worst lateness, in 10 ms ticks",
        )
        .timing(),
        fact(
            "longest_poll_ratio",
            "the longest a get kept the thread in one poll, over the shortest fetch",
        )
        .timing(),
        fact(
            "polls_of_a_get",
            "the most times one get was polled (worst workload)",
        ),
        fact(
            "polls_during_the_fetch",
            "the most polls of one get, after its first, while the fetch of its page was running (worst workload)",
        ),
    ],
};

/// A fetched page. Only [`fetch`] makes one; clones are the same page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    key: u32,
    body: u64,
}

impl Page {
    /// The key this page was fetched for.
    pub fn key(&self) -> u32 {
        self.key
    }
}

/// The fetches of the current run on this thread, and how long each key's
/// fetch takes.
#[derive(Default)]
struct Fetches {
    times: HashMap<u32, Duration>,
    next_body: u64,
    made: Vec<(u32, u64)>,
    /// When each page's fetch began and ended, by its body: steps of
    /// [`STEP`].
    ran: HashMap<u64, (u64, u64)>,
}

thread_local! {
    static FETCHES: RefCell<Fetches> = RefCell::new(Fetches::default());
    /// A count that orders the ends of fetches and of the gets' polls on
    /// this thread, exactly, however close together they come.
    static STEP: Cell<u64> = const { Cell::new(0) };
}

/// The next step of [`STEP`].
fn step() -> u64 {
    STEP.with(|s| {
        s.set(s.get() + 1);
        s.get()
    })
}

/// How long a fetch takes when the harness has not said.
const FETCH: Duration = Duration::from_millis(25);

/// Fetches the page for `key`: counted the moment this future is first
/// polled, then it takes a while (20 to 30 ms, each key its own time).
pub async fn fetch(key: u32) -> Page {
    let began = step();
    let (time, body) = FETCHES.with(|f| {
        let mut f = f.borrow_mut();
        let body = f.next_body;
        f.next_body += 1;
        f.made.push((key, body));
        (f.times.get(&key).copied().unwrap_or(FETCH), body)
    });
    tokio::time::sleep(time).await;
    let ended = step();
    FETCHES.with(|f| f.borrow_mut().ran.insert(body, (began, ended)));
    Page { key, body }
}

/// The steps at which each of a get's polls that returned `Pending` began
/// and ended.
type Pendings = Vec<(u64, u64)>;

/// A get's future, noting its [`Pendings`].
struct Steps<F> {
    inner: Pin<Box<F>>,
    pending: Pendings,
}

impl<F: Future> Future for Steps<F> {
    type Output = (F::Output, Pendings);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let began = step();
        match self.inner.as_mut().poll(cx) {
            Poll::Ready(out) => Poll::Ready((out, std::mem::take(&mut self.pending))),
            Poll::Pending => {
                let ended = step();
                self.pending.push((began, ended));
                Poll::Pending
            }
        }
    }
}

/// One workload: when each get comes (from the start) and its key, and how
/// long each key's fetch takes.
#[derive(Clone, Debug)]
pub struct Shape {
    pub name: String,
    pub gets: Vec<(Duration, u32)>,
    pub fetch_times: HashMap<u32, Duration>,
    pub first_body: u64,
}

impl Shape {
    /// The time every get would be answered by if each key were fetched
    /// once, from its first get, all at the same time.
    pub fn ideal(&self) -> Duration {
        let mut first: HashMap<u32, Duration> = HashMap::new();
        for &(at, key) in &self.gets {
            let f = first.entry(key).or_insert(at);
            *f = (*f).min(at);
        }
        let fetched = first
            .iter()
            .map(|(key, &at)| at + self.fetch_times[key])
            .max()
            .unwrap_or_default();
        let last = self
            .gets
            .iter()
            .map(|&(at, _)| at)
            .max()
            .unwrap_or_default();
        fetched.max(last)
    }

    pub fn shortest_fetch(&self) -> Duration {
        self.fetch_times.values().copied().min().unwrap_or(FETCH)
    }
}

/// The two workloads of one run, with keys picked at random. First 3 or 4
/// keys, 8 to 12 gets all at once, each key asked for at least twice; then
/// 4 to 6 keys, each first asked for in the first 4 ms, and 6 to 10 more
/// gets of them within 45 ms (some while the fetch runs, some after). A
/// fetch takes 20 to 30 ms, each key its own time.
pub fn shapes(rng: &mut Rng) -> Vec<Shape> {
    let ms = Duration::from_millis;
    let shape = |rng: &mut Rng, keys: usize, extra: usize, first: u64, later: u64| {
        let mut picked = HashSet::new();
        while picked.len() < keys {
            picked.insert(rng.between(1, 999_999) as u32);
        }
        let mut keys: Vec<u32> = picked.into_iter().collect();
        keys.sort_unstable();
        rng.shuffle(&mut keys);
        let fetch_times: HashMap<u32, Duration> =
            keys.iter().map(|&k| (k, ms(rng.between(20, 30)))).collect();
        let mut gets: Vec<(Duration, u32)> = keys
            .iter()
            .map(|&k| (ms(rng.between(0, first)), k))
            .collect();
        for i in 0..extra {
            // Every key a second time first, then any.
            let key = if i < keys.len() {
                keys[i]
            } else {
                keys[rng.between(0, keys.len() as u64 - 1) as usize]
            };
            gets.push((ms(rng.between(0, later)), key));
        }
        rng.shuffle(&mut gets);
        (gets, fetch_times)
    };
    let n = rng.between(3, 4) as usize;
    let total = rng.between(8, 12) as usize;
    let (gets, fetch_times) = shape(rng, n, total - n, 0, 0);
    let burst = Shape {
        name: format!("{} gets of {n} keys at once", gets.len()),
        gets,
        fetch_times,
        first_body: rng.between(1, 1 << 40),
    };
    let n = rng.between(4, 6) as usize;
    let extra = rng.between(6, 10) as usize;
    let (gets, fetch_times) = shape(rng, n, extra, 4, 45);
    let spread = Shape {
        name: format!("{} gets of {n} keys within 45 ms", gets.len()),
        gets,
        fetch_times,
        first_body: rng.between(1, 1 << 40),
    };
    vec![burst, spread]
}

/// What one workload measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Measured {
    pub answered: usize,
    pub extra_fetches: usize,
    pub elapsed_ratio: f64,
    pub longest_poll_ratio: f64,
    pub polls_of_a_get: f64,
    pub polls_during_the_fetch: f64,
}

/// Runs `get` once per get of `shape`, all joined in one task on the
/// current runtime, on a cache made by `new_cache`. Never returns if they
/// deadlock: that is the bug.
pub async fn measure_shape<C, R>(shape: &Shape, new_cache: fn() -> C, get: &R) -> Measured
where
    R: AsyncFn(&C, u32) -> Page,
{
    FETCHES.with(|f| {
        *f.borrow_mut() = Fetches {
            times: shape.fetch_times.clone(),
            next_body: shape.first_body,
            made: Vec::new(),
            ran: HashMap::new(),
        }
    });
    let cache = new_cache();
    // One for each get, so that one get polled over and over shows.
    let held: Vec<Held> = shape.gets.iter().map(|_| Held::new()).collect();
    let gets: futures::stream::FuturesUnordered<_> = shape
        .gets
        .iter()
        .zip(&held)
        .enumerate()
        .map(|(i, (&(at, key), held))| {
            let cache = &cache;
            async move {
                if !at.is_zero() {
                    tokio::time::sleep(at).await;
                }
                let steps = Steps {
                    inner: Box::pin(held.wrap(get(cache, key))),
                    pending: Vec::new(),
                };
                let (page, pending) = steps.await;
                (key, page, pending)
            }
            .traced(format!("get {}", i + 1))
        })
        .collect();
    use futures::StreamExt;
    let started = Instant::now();
    let answers: Vec<(u32, Page, Pendings)> = gets.collect().await;
    let took = started.elapsed();
    let (made, ran) = FETCHES.with(|f| {
        let mut f = f.borrow_mut();
        (std::mem::take(&mut f.made), std::mem::take(&mut f.ran))
    });
    // A get that waits for a fetch is polled first, then woken when that
    // fetch ends: after its first poll, none of its polls lies wholly
    // inside the fetch of its page. One that looks again on a timer of its
    // own is polled there.
    let during_the_fetch = answers
        .iter()
        .map(|(_, page, pending)| {
            let Some(&(began, ended)) = ran.get(&page.body) else {
                return 0;
            };
            pending
                .iter()
                .skip(1)
                .filter(|&&(from, to)| began < from && to < ended)
                .count()
        })
        .max()
        .unwrap_or(0);
    let fetched: HashSet<(u32, u64)> = made.iter().copied().collect();
    let keys: HashSet<u32> = made.iter().map(|&(k, _)| k).collect();
    Measured {
        answered: answers
            .iter()
            .filter(|(key, page, _)| page.key == *key && fetched.contains(&(page.key, page.body)))
            .count(),
        extra_fetches: made.len() - keys.len(),
        elapsed_ratio: took.as_secs_f64() / shape.ideal().as_secs_f64().max(1e-9),
        longest_poll_ratio: held
            .iter()
            .map(|h| h.longest_ratio(shape.shortest_fetch()))
            .fold(0.0, f64::max),
        polls_of_a_get: held.iter().map(Held::polls).max().unwrap_or(0) as f64,
        polls_during_the_fetch: during_the_fetch as f64,
    }
}

/// Measures every workload in turn beside a heartbeat, reporting the gets
/// answered as it goes, and sets the facts.
pub async fn measure<C, R>(
    facts: &Facts,
    shapes: &[Shape],
    new_cache: fn() -> C,
    get: R,
) -> Vec<Measured>
where
    R: AsyncFn(&C, u32) -> Page,
{
    let total: usize = shapes.iter().map(|s| s.gets.len()).sum();
    facts.set("gets_answered", 0);
    let heartbeat = Heartbeat::spawn(TICK);
    let mut all: Vec<Measured> = Vec::new();
    for shape in shapes {
        all.push(measure_shape(shape, new_cache, &get).await);
        let answered: usize = all.iter().map(|m| m.answered).sum();
        facts.set("gets_answered", answered as f64 / total as f64);
    }
    let most = |f: fn(&Measured) -> f64| all.iter().map(f).fold(0.0, f64::max);
    facts.set(
        "extra_fetches",
        all.iter().map(|m| m.extra_fetches).sum::<usize>() as f64,
    );
    facts.set("elapsed_ratio", most(|m| m.elapsed_ratio));
    facts.set("heartbeat_lateness", heartbeat.worst_lateness_ratio());
    facts.set("longest_poll_ratio", most(|m| m.longest_poll_ratio));
    facts.set("polls_of_a_get", most(|m| m.polls_of_a_get));
    facts.set("polls_during_the_fetch", most(|m| m.polls_during_the_fetch));
    all
}

pub fn run<C, R>(facts: &Facts, new_cache: fn() -> C, get: R)
where
    R: AsyncFn(&C, u32) -> Page,
{
    let shapes = shapes(&mut Rng::for_scenario("cache"));
    println!(
        "Gets joined in one task on a one-thread runtime each ask {} for a page,",
        facts.the("cache")
    );
    println!("fetching it on a miss (an .await), beside a heartbeat, under two workloads:");
    say_seed();
    for shape in &shapes {
        println!("  {}", shape.name);
    }
    println!("(If they deadlock, the watchdog stops the program after 2 s.)");
    let all = super::runtime().block_on(measure(facts, &shapes, new_cache, get));
    for (shape, m) in shapes.iter().zip(&all) {
        println!(
            "  {}: {} of {} answered, {} extra fetches, done after {:.2} times the ideal;",
            shape.name,
            m.answered,
            shape.gets.len(),
            m.extra_fetches,
            m.elapsed_ratio
        );
        println!(
            "    the longest poll held the thread for {:.2} of the shortest fetch; a get was polled up to {} times,",
            m.longest_poll_ratio, m.polls_of_a_get
        );
        println!(
            "    {} of them while the fetch of its page was still running, after its first.",
            m.polls_during_the_fetch
        );
    }
    println!(
        "The heartbeat was up to {:.1} ticks late.",
        facts.get("heartbeat_lateness").unwrap_or(0.0)
    );
    println!(
        "(In the timeline below, \"get 1\" stands for the first get of both workloads: its polls add up both, and the wait before a later get comes.)"
    );
}

pub fn piece<'a, C: 'a, R>(name: &'static str, new_cache: fn() -> C, get: R) -> Piece<'a>
where
    R: AsyncFn(&C, u32) -> Page + 'a,
{
    Piece::new(name, move |facts| run(facts, new_cache, get))
}

/// The `mutex` exercise binary's `main`: judges the learner's cache.
pub fn exercise<C, R>(new_cache: fn() -> C, get: R) -> ExitCode
where
    R: AsyncFn(&C, u32) -> Page,
{
    shared::lesson::main(
        super::LESSON,
        Variant::Exercise("mutex"),
        vec![SPEC.with(vec![piece("", new_cache, get)])],
    )
}
