//! # Lesson 10: a pipeline across threads, tasks and rayon
//!
//! Records flow through four stages, each on the kind of thread that suits
//! it:
//!
//! - a **reader** thread reads JSON lines and parses them (blocking I/O);
//! - an **async** stage fetches each record's details over HTTP, a few at a
//!   time (waiting, on the runtime);
//! - a **CPU** stage scores each record on rayon's pool (computing);
//! - a **writer** thread writes the results, in input order (blocking I/O).
//!
//! The code under lesson is the wiring between them: one function,
//! `run_pipeline`, handed the stages by the harness. The harness owns the
//! input, the HTTP server, the CPU work and the output, so it measures
//! everything from outside: what went in, what came out, how much piled up
//! in between, and whether the runtime's thread stayed free.
//!
//! `rayon::spawn` takes a `'static` closure, because the job may run after
//! the caller has returned. A closure that borrows the caller's record
//! does not compile:
//!
//! ```compile_fail,E0373
//! fn score_later(record: String) {
//!     // error[E0373]: closure may outlive the current function, but it
//!     // borrows `record`, which is owned by the current function
//!     rayon::spawn(|| println!("{}", record.len()));
//! }
//! ```
//!
//! A `move` closure, which owns the record, does:
//!
//! ```
//! fn score_later(record: String) {
//!     rayon::spawn(move || println!("{}", record.len()));
//! }
//! ```

use serde::Deserialize;
use shared::TraceExt;
use shared::lesson::{Facts, Piece, Spec, Variant, fact};
use shared::record::held::Held;
use shared::record::parked::Parked;
use shared::record::threads::name_threads;
use shared::work::heartbeat::Heartbeat;
use shared::work::shape::{Rng, SEED_ENV, seed};
use std::future::Future;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// This lesson's id, `lesson-10`: its package name.
pub const LESSON: &str = env!("CARGO_PKG_NAME");

/// A 64-bit mixing function (splitmix64's finaliser).
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The sizes and speeds of one run, drawn when the program starts.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Well-formed records in the input.
    pub records: u64,
    /// Every this many lines, one line is malformed.
    pub malformed_every: u64,
    /// How long the server takes to answer one fetch, on average (each
    /// record's fetch takes 10% more or less).
    pub latency: Duration,
    /// CPU time to score one record.
    pub cpu_time: Duration,
    /// How many records each queue between two stages may hold.
    pub capacity: usize,
    /// How many fetches may be in flight at once.
    pub in_flight: usize,
    /// When the harness asks the pipeline to stop, if it does.
    pub stop_after: Option<Duration>,
    /// Mixed into the input's contents and into every score: no output can
    /// be worked out before the run.
    pub salt: u64,
}

impl Config {
    /// The input: numbered lines (from 1). Line `n` holds the record with
    /// id `n` and a todo drawn for this run, except every
    /// `malformed_every`-th line, which is broken in one of four ways.
    pub fn lines(&self) -> Vec<(usize, String)> {
        let total = self.total_lines();
        (1..=total)
            .map(|n| {
                let text = if self.is_malformed(n) {
                    match (n / self.malformed_every) % 4 {
                        0 => String::new(),
                        1 => format!("{{\"id\": {n}, \"todo\": "),
                        2 => "not json at all".to_string(),
                        _ => format!("{{\"id\": \"{n}\", \"todo\": 3}}"),
                    }
                } else {
                    format!("{{\"id\": {n}, \"todo\": {}}}", self.todo_of(n))
                };
                (n as usize, text)
            })
            .collect()
    }

    /// The todo that line `id` names.
    pub fn todo_of(&self, id: u64) -> u64 {
        1 + mix(self.salt ^ id) % 500
    }

    /// How long the server waits for record `id`: `latency`, 10% more or
    /// less, in whole milliseconds (what a request can ask for).
    pub fn latency_of(&self, id: u64) -> Duration {
        let percent = 90 + mix(!self.salt ^ id) % 21;
        Duration::from_millis(self.latency.as_millis() as u64 * percent / 100)
    }

    /// Lines in the input, well-formed and malformed.
    pub fn total_lines(&self) -> u64 {
        let mut lines = 0;
        let mut good = 0;
        while good < self.records {
            lines += 1;
            if !self.is_malformed(lines) {
                good += 1;
            }
        }
        lines
    }

    pub fn is_malformed(&self, line: u64) -> bool {
        line % self.malformed_every == 0
    }

    /// The ids of the well-formed records.
    pub fn ids(&self) -> Vec<u64> {
        (1..=self.total_lines())
            .filter(|&n| !self.is_malformed(n))
            .collect()
    }

    /// Room for records inside a pipeline built to this configuration:
    /// three queues full, every fetch slot busy, and as many records being
    /// scored. A pipeline whose queues are bounded by `capacity` does not
    /// hold more.
    pub fn room(&self) -> usize {
        3 * self.capacity + 2 * self.in_flight
    }

    /// The shortest time any pipeline of this shape can take over the
    /// whole input, when one request costs `per_request` beyond the wait
    /// it asks the server for: its slowest stage, with the time to fill
    /// and to drain the pipeline around it.
    ///
    /// - Fetching: the records in input order (the order the reader hands
    ///   them over), each started the moment one of the `in_flight` slots
    ///   is free (no pipeline knows a fetch's time before it answers), each
    ///   taking its wait and `per_request`; then the last record still has
    ///   to be scored. Starting each fetch as early as a slot allows makes
    ///   every later start as early as it can be, so no order-keeping
    ///   schedule ends sooner.
    /// - Scoring, one job per core: it cannot start before the first
    ///   record is fetched.
    ///
    /// Ordered output costs nothing here: a pipeline with room for the
    /// answers that wait behind a slower one keeps every slot busy.
    pub fn ideal(&self, per_request: Duration) -> Duration {
        let mut slots = vec![Duration::ZERO; self.in_flight.max(1)];
        let mut first = None;
        for id in self.ids() {
            let slot = slots.iter_mut().min().expect("at least one slot");
            *slot += self.latency_of(id) + per_request;
            first.get_or_insert(*slot);
        }
        let fetched = slots.iter().copied().max().unwrap_or_default();
        let scoring = self.cpu_time * self.records as u32 / shared::work::cpu::cores() as u32;
        (fetched + self.cpu_time).max(first.unwrap_or_default() + scoring)
    }

    /// The score of record `id`, worked out by the harness from its own
    /// record of the input and of the server's answers; `None` for an id
    /// that is not a well-formed record of the input.
    pub fn expected_score(&self, id: u64) -> Option<u64> {
        if id == 0 || id > self.total_lines() || self.is_malformed(id) {
            return None;
        }
        let record = Record {
            id,
            todo: self.todo_of(id),
        };
        let todo: Todo = serde_json::from_value(shared::work::server::resource(&format!(
            "/todos/{}",
            record.todo
        ))?)
        .ok()?;
        Some(score_of(self.salt, record, &Details::new(record, todo)))
    }
}

/// One workload: a name for the narration, and its sizes and speeds.
#[derive(Clone, Debug)]
pub struct Shape {
    pub name: String,
    pub config: Config,
}

impl Shape {
    fn named(config: Config) -> Shape {
        let name = format!(
            "{} records ({} malformed lines), fetches of about {} ms {} at a time, {} ms of scoring each, queues of {}",
            config.records,
            config.total_lines() - config.records,
            config.latency.as_millis(),
            config.in_flight,
            config.cpu_time.as_millis(),
            config.capacity
        );
        Shape { name, config }
    }

    /// Many quick fetches, or a few slow ones, drawn for this run.
    fn draw(rng: &mut Rng, fast: bool, records: (u64, u64)) -> Config {
        let ms = |rng: &mut Rng, lo, hi| Duration::from_millis(rng.between(lo, hi));
        if fast {
            Config {
                records: rng.between(records.0, records.1),
                malformed_every: rng.between(7, 12),
                latency: ms(rng, 15, 25),
                cpu_time: ms(rng, 1, 2),
                capacity: rng.between(2, 4) as usize,
                in_flight: rng.between(3, 5) as usize,
                stop_after: None,
                salt: rng.salt(),
            }
        } else {
            Config {
                records: rng.between(records.0, records.1),
                malformed_every: rng.between(4, 7),
                latency: ms(rng, 70, 90),
                cpu_time: ms(rng, 2, 4),
                capacity: rng.between(1, 2) as usize,
                in_flight: 2,
                stop_after: None,
                salt: rng.salt(),
            }
        }
    }

    /// The `flow` scenario's workloads: many quick fetches, then a few slow
    /// ones.
    pub fn flow(rng: &mut Rng) -> Vec<Shape> {
        vec![
            Shape::named(Shape::draw(rng, true, (50, 70))),
            Shape::named(Shape::draw(rng, false, (14, 18))),
        ]
    }

    /// The `stop` scenario's workloads: long inputs, quick and slow, each
    /// with a stop asked for early on.
    pub fn stop(rng: &mut Rng) -> Vec<Shape> {
        let mut quick = Shape::draw(rng, true, (150, 150));
        quick.stop_after =
            Some(rng.duration_between(Duration::from_millis(80), Duration::from_millis(150)));
        let mut slow = Shape::draw(rng, false, (50, 50));
        slow.stop_after =
            Some(rng.duration_between(Duration::from_millis(150), Duration::from_millis(250)));
        [quick, slow]
            .into_iter()
            .map(|config| {
                let mut shape = Shape::named(config);
                shape.name.push_str(&format!(
                    "; stop asked for after {} ms",
                    config.stop_after.unwrap_or_default().as_millis()
                ));
                shape
            })
            .collect()
    }
}

/// Says which workloads this run judges, and how to replay them.
fn narrate_shapes(shapes: &[Shape]) {
    let seed = seed();
    println!("Workloads from seed {seed} ({SEED_ENV}={seed} replays them):");
    for (i, shape) in shapes.iter().enumerate() {
        println!("  {}. {}", i + 1, shape.name);
    }
}

/// One record, as a line of the input holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Record {
    pub id: u64,
    pub todo: u64,
}

/// A todo as the server sends it.
#[derive(Deserialize)]
struct Todo {
    id: u64,
    title: String,
    user_id: u64,
}

/// What the server said about one record's todo. Only a fetch makes one,
/// for the record it was fetched for, and scoring uses it up: it cannot be
/// made up, copied (so one fetch cannot serve two records), or used for
/// another record without changing the score.
///
/// ```compile_fail,E0599
/// fn twice(details: lesson_10::Details) -> (lesson_10::Details, lesson_10::Details) {
///     // error[E0599]: no method named `clone` found for struct `Details` in
///     // the current scope
///     (details.clone(), details)
/// }
/// ```
#[derive(Debug)]
pub struct Details {
    record: Record,
    todo: u64,
    title: String,
    user_id: u64,
}

impl Details {
    fn new(record: Record, todo: Todo) -> Details {
        Details {
            record,
            todo: todo.id,
            title: todo.title,
            user_id: todo.user_id,
        }
    }
}

/// A record's score: from the run's salt, the record, and the details
/// fetched for it. Details fetched for another record give another score.
fn score_of(salt: u64, record: Record, details: &Details) -> u64 {
    let mut h = mix(salt ^ record.id) ^ mix(record.todo.rotate_left(17));
    h = mix(h ^ details.record.id) ^ mix(h ^ details.record.todo.rotate_left(29));
    h = mix(h ^ details.todo) ^ mix(h ^ details.user_id.rotate_left(41));
    for b in details.title.bytes() {
        h = mix(h ^ u64::from(b));
    }
    h % 1_000_000_007
}

/// A scored record: what the pipeline writes. Only [`Cpu::score`] makes
/// one, and it cannot be copied, so a result cannot be made up or written
/// twice from one scoring:
///
/// ```compile_fail,E0451
/// // error[E0451]: fields `id` and `score` of struct `Scored` are private
/// let made_up = lesson_10::Scored { id: 1, score: 2 };
/// ```
#[derive(Debug, PartialEq, Eq)]
pub struct Scored {
    id: u64,
    score: u64,
}

impl Scored {
    /// The record's id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Its score.
    pub fn score(&self) -> u64 {
        self.score
    }
}

/// What the harness counts while the pipeline runs.
struct Counts {
    /// Lines handed out by the input.
    taken: AtomicU64,
    /// Lines finished with: written, or reported as malformed.
    done: AtomicU64,
    /// The most lines taken and not yet done at one moment: records held
    /// anywhere inside the pipeline (a queue, a buffer, a task).
    inside: AtomicU64,
    /// (id, score) of each result written, in the order written.
    written: Mutex<Vec<(u64, u64)>>,
    malformed: Mutex<Vec<usize>>,
    /// Set when the pipeline has returned.
    returned: AtomicBool,
    /// Results written after that.
    late_writes: AtomicU64,
    /// The thread that drives the runtime the pipeline runs on.
    runtime_thread: std::sync::OnceLock<std::thread::ThreadId>,
    /// Records scored on that thread: computing there holds it.
    scored_on_runtime: AtomicU64,
    /// Lines taken from the input after the stop was asked for.
    taken_after_stop: AtomicU64,
}

impl Counts {
    fn finished_one(&self) {
        self.done.fetch_add(1, Ordering::SeqCst);
    }
}

/// Held by every stage handle the harness gives out. When the last one is
/// dropped, nothing of the pipeline is left running.
type Alive = Arc<()>;

/// The input: numbered lines of JSON, read one at a time (a file, say).
pub struct Input {
    lines: std::vec::IntoIter<(usize, String)>,
    counts: Arc<Counts>,
    /// The harness's own handle on the stop, to count the lines taken
    /// after it.
    stop: CancellationToken,
    _alive: Alive,
}

impl Iterator for Input {
    type Item = (usize, String);

    /// The next line and its number (from 1).
    fn next(&mut self) -> Option<(usize, String)> {
        shared::record::recorder::name_lane("reader");
        let line = self.lines.next()?;
        if self.stop.is_cancelled() {
            self.counts.taken_after_stop.fetch_add(1, Ordering::SeqCst);
        }
        let taken = self.counts.taken.fetch_add(1, Ordering::SeqCst) + 1;
        let inside = taken - self.counts.done.load(Ordering::SeqCst);
        self.counts.inside.fetch_max(inside, Ordering::SeqCst);
        Some(line)
    }
}

/// The HTTP client for the lesson's server on 127.0.0.1.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    base: String,
    config: Config,
    /// In the `uneven` scenario: which records are slow, and the log of
    /// fetch starts and ends.
    uneven: Option<(Slow, Arc<FetchLog>)>,
    _alive: Alive,
}

impl Fetcher {
    /// Fetches the details of `record`'s todo. The future owns all it
    /// needs, so it can be spawned, and runs on any tokio runtime. (`use<>`
    /// says it borrows nothing, not even `self`: in edition 2024 a returned
    /// `impl Trait` would otherwise capture `&self`, and a `move` closure
    /// that calls `fetcher.details(r)` on a fetcher it owns would not
    /// compile.)
    pub fn details(&self, record: Record) -> impl Future<Output = Details> + Send + use<> {
        let mut latency = self.config.latency_of(record.id);
        if let Some((slow, _)) = &self.uneven {
            if slow.is(record.id) {
                latency *= slow.factor;
            }
        }
        let url = format!(
            "{}/todos/{}?delay_ms={}",
            self.base,
            record.todo,
            latency.as_millis()
        );
        let (client, alive) = (self.client.clone(), self._alive.clone());
        let log = self.uneven.as_ref().map(|(_, log)| log.clone());
        let noted = log.clone();
        let fetch = async move {
            let _alive = alive;
            // Noted at the first poll: when the fetch really starts.
            let _fetching = log.clone().map(|log| log.started(record.id));
            let todo = client
                .get(url)
                .send()
                .await
                .and_then(|r| r.error_for_status())
                .expect("the lesson's server answers")
                .json::<Todo>()
                .await
                .expect("the lesson's server sends a todo");
            Details::new(record, todo)
        };
        Noting::new(fetch, noted, Some(record.id)).traced(format!("fetch {}", record.id))
    }
}

/// The CPU stage's work: scoring a record takes `cpu_time` of computing.
#[derive(Clone)]
pub struct Cpu {
    cost: Duration,
    salt: u64,
    counts: Arc<Counts>,
    _alive: Alive,
}

impl Cpu {
    /// Scores one record with the details fetched for it. Blocks its
    /// thread while it computes. The harness notes whether that thread is
    /// the one that drives the runtime.
    pub fn score(&self, record: Record, details: Details) -> Scored {
        if self.counts.runtime_thread.get() == Some(&std::thread::current().id()) {
            self.counts.scored_on_runtime.fetch_add(1, Ordering::SeqCst);
        }
        shared::record::recorder::name_lane("cpu");
        let work = shared::blocking("score", || shared::work::cpu::burn(self.cost));
        std::hint::black_box(work);
        Scored {
            id: record.id,
            score: score_of(self.salt, record, &details),
        }
    }
}

/// Where results go, and where malformed lines are reported.
#[derive(Clone)]
pub struct Sink {
    counts: Arc<Counts>,
    _alive: Alive,
}

impl Sink {
    /// Writes one result. The harness checks each against its own record
    /// of the input: each once, in input order, with the right score.
    pub fn write(&self, scored: Scored) {
        shared::record::recorder::name_lane("writer");
        if self.counts.returned.load(Ordering::SeqCst) {
            self.counts.late_writes.fetch_add(1, Ordering::SeqCst);
        }
        self.counts
            .written
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((scored.id, scored.score));
        self.counts.finished_one();
    }

    /// Reports a line that is not a record, with its number, and skips it.
    pub fn malformed(&self, line: usize, error: &serde_json::Error) {
        std::hint::black_box(error);
        self.counts
            .malformed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(line);
        self.counts.finished_one();
    }
}

/// Everything a pipeline needs, handed out by the harness.
pub struct Stages {
    pub input: Input,
    pub fetcher: Fetcher,
    pub cpu: Cpu,
    pub sink: Sink,
    /// How many records each queue between two stages may hold.
    pub capacity: usize,
    /// How many fetches may be in flight at once.
    pub in_flight: usize,
    /// Cancelled when the program is asked to stop (Ctrl-C, say).
    pub stop: CancellationToken,
}

pub mod broken {
    use super::*;

    // ANCHOR: broken
    /// A first design of the pipeline: threads, a runtime per record, unbounded queues,
    /// and the whole of it run inside an async function.
    pub async fn run_pipeline(stages: Stages) {
        let Stages {
            input,
            fetcher,
            cpu,
            sink,
            ..
        } = stages;
        // BROKEN: unbounded queues: the reader never waits, however far
        // behind the later stages fall
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
                        // BROKEN: a runtime built, used once and dropped,
                        // for every record
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
        // BROKEN: joining threads is blocking: the runtime's thread is held
        // for the whole run. And nobody ever looks at `stages.stop`.
        reader.join().unwrap();
        for worker in workers {
            worker.join().unwrap();
        }
        writer.join().unwrap();
    }
    // ANCHOR_END: broken
}

pub mod fixed {
    use super::*;
    use futures::StreamExt;

    // ANCHOR: fixed
    /// One runtime, a bounded queue at every seam, CPU work on rayon, and a
    /// stop that closes the input and lets what was read flow out.
    pub async fn run_pipeline(stages: Stages) {
        let Stages {
            input,
            fetcher,
            cpu,
            sink,
            capacity,
            in_flight,
            stop,
        } = stages;
        // ANCHOR: reader_seam
        // FIXED: bounded: `blocking_send` parks the reader while the queue
        // is full, and the async side awaits `recv` without blocking
        let (records_tx, mut records) = tokio::sync::mpsc::channel::<Record>(capacity);
        let reader = {
            let sink = sink.clone();
            std::thread::spawn(move || {
                let mut input = input;
                // FIXED: the stop is checked before each line is read, so
                // every line read is passed on
                while !stop.is_cancelled() {
                    let Some((line, text)) = input.next() else {
                        break;
                    };
                    match serde_json::from_str::<Record>(&text) {
                        Ok(record) => {
                            if records_tx.blocking_send(record).is_err() {
                                break;
                            }
                        }
                        Err(error) => sink.malformed(line, &error),
                    }
                }
                // Dropping `records_tx` here ends the next stage's input.
            })
        };
        // ANCHOR_END: reader_seam
        // ANCHOR: writer_seam
        // Results travel as oneshot receivers, in input order, so the
        // writer waits for each in turn whatever order rayon finishes in.
        let (results_tx, mut results) =
            tokio::sync::mpsc::channel::<tokio::sync::oneshot::Receiver<Scored>>(capacity);
        let writer = std::thread::spawn(move || {
            while let Some(result) = results.blocking_recv() {
                sink.write(result.blocking_recv().expect("every job sends its result"));
            }
        });
        // ANCHOR_END: writer_seam
        // ANCHOR: middle
        {
            let records = futures::stream::poll_fn(move |cx| records.poll_recv(cx));
            // FIXED: a fetch runs only while it holds one of `in_flight`
            // permits, and gives it back as soon as it has its answer
            let slots = Arc::new(tokio::sync::Semaphore::new(in_flight));
            let fetched = records
                .map(|record| {
                    let (details, slots) = (fetcher.details(record), slots.clone());
                    async move {
                        let _slot = slots.acquire().await.expect("never closed");
                        (record, details.await)
                    }
                })
                // FIXED: handed on in the order the records came in, with
                // room for a queue's worth of answers waiting their turn,
                // so a quick answer behind a slower one frees its slot
                .buffered(in_flight + capacity);
            let mut fetched = std::pin::pin!(fetched);
            while let Some((record, details)) = fetched.next().await {
                let (done, result) = tokio::sync::oneshot::channel();
                let cpu = cpu.clone();
                // FIXED: the computing happens on rayon's threads; the
                // runtime's thread only hands the job over
                rayon::spawn(move || {
                    let _ = done.send(cpu.score(record, details));
                });
                if results_tx.send(result).await.is_err() {
                    break;
                }
            }
        }
        // ANCHOR_END: middle
        // ANCHOR: shutdown
        drop(results_tx); // FIXED: the writer's loop ends with the last sender
        // FIXED: wait for the threads on the blocking pool, not here
        tokio::task::spawn_blocking(move || {
            reader.join().expect("the reader does not panic");
            writer.join().expect("the writer does not panic");
        })
        .await
        .expect("joining does not panic");
        // ANCHOR_END: shutdown
    }
    // ANCHOR_END: fixed
}

/// The heartbeat's period: the unit of the facts about the runtime's thread.
pub const TICK: Duration = Duration::from_millis(10);
/// How long the harness waits for a pipeline's leftovers to end.
pub const GRACE: Duration = Duration::from_millis(200);

/// What one run of a pipeline showed.
pub struct Observed {
    config: Config,
    counts: Arc<Counts>,
    /// From the call to the pipeline until it returned.
    pub took: Duration,
    /// What a request cost beyond its wait, measured just before and just
    /// after the run (the median; zero for a stopped run).
    pub per_request: Duration,
    /// From the stop request until the pipeline returned.
    pub stop_to_exit: Option<Duration>,
    /// The heartbeat's worst lateness, in ticks.
    pub lateness: f64,
    /// The longest single poll of the pipeline's future, in ticks.
    pub longest_hold: f64,
    /// The share of the run the runtime was not parked.
    pub busy: f64,
    /// Polls of the pipeline's future.
    pub polls: u64,
    /// Stage handles still alive after the grace period.
    pub left: usize,
    /// The most requests the server worked on at once.
    pub most_fetches: u64,
}

impl Observed {
    /// Lines the pipeline took from the input.
    pub fn taken(&self) -> u64 {
        self.counts.taken.load(Ordering::SeqCst)
    }

    /// Well-formed records among the lines taken.
    pub fn records_taken(&self) -> Vec<u64> {
        (1..=self.taken())
            .filter(|&n| !self.config.is_malformed(n))
            .collect()
    }

    /// (id, score) of each result written, in the order written.
    pub fn results(&self) -> Vec<(u64, u64)> {
        self.counts
            .written
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Ids written, in the order they were written.
    pub fn written(&self) -> Vec<u64> {
        self.results().into_iter().map(|(id, _)| id).collect()
    }

    /// Line numbers reported as malformed, in the order reported.
    pub fn reported(&self) -> Vec<usize> {
        self.counts
            .malformed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Records among `expected` that were never written.
    pub fn lost(&self, expected: &[u64]) -> usize {
        let written = self.written();
        expected.iter().filter(|id| !written.contains(id)).count()
    }

    /// Writes beyond the first of each id.
    pub fn duplicated(&self) -> usize {
        let mut ids = self.written();
        let all = ids.len();
        ids.sort_unstable();
        ids.dedup();
        all - ids.len()
    }

    /// Results written after one that came later in the input.
    pub fn out_of_order(&self) -> usize {
        self.written().windows(2).filter(|w| w[1] < w[0]).count()
    }

    /// Results whose score is not the one the harness works out from its
    /// own record of the input and the server, or whose id was never in
    /// the input.
    pub fn wrong_results(&self) -> usize {
        self.results()
            .iter()
            .filter(|(id, score)| self.config.expected_score(*id) != Some(*score))
            .count()
    }

    /// Results written after the pipeline had returned.
    pub fn late_writes(&self) -> u64 {
        self.counts.late_writes.load(Ordering::SeqCst)
    }

    /// Malformed lines reported with their own line number, over the
    /// malformed lines in the input.
    pub fn malformed_reported(&self) -> f64 {
        let mut reported = self.reported();
        reported.sort_unstable();
        reported.dedup();
        let malformed: Vec<usize> = (1..=self.config.total_lines())
            .filter(|&n| self.config.is_malformed(n))
            .map(|n| n as usize)
            .collect();
        let right = malformed.iter().filter(|n| reported.contains(n)).count();
        right as f64 / malformed.len().max(1) as f64
    }

    /// The most records inside the pipeline at once, over its room.
    pub fn peak_queue_ratio(&self) -> f64 {
        self.counts.inside.load(Ordering::SeqCst) as f64 / self.config.room() as f64
    }

    /// The most fetches the server worked on at once, over the fetches
    /// allowed.
    pub fn in_flight_ratio(&self) -> f64 {
        self.most_fetches as f64 / self.config.in_flight as f64
    }

    /// Records scored on the thread that drives the runtime.
    pub fn scored_on_runtime(&self) -> u64 {
        self.counts.scored_on_runtime.load(Ordering::SeqCst)
    }

    /// Lines taken from the input after the stop was asked for.
    pub fn taken_after_stop(&self) -> u64 {
        self.counts.taken_after_stop.load(Ordering::SeqCst)
    }
}

/// What requests cost on this machine beyond the wait they ask the server
/// for: the client's work and the server's, and the server's timer, which
/// ends a wait on the first millisecond tick at or after it (up to a
/// millisecond more). Measured on `runtime` with `client`, on a server of
/// its own (so the run's server counts only the run): `in_flight` requests
/// at once, each asking the workload's `latency`, three times over.
fn request_costs(
    runtime: &tokio::runtime::Runtime,
    client: &reqwest::Client,
    config: &Config,
) -> Vec<Duration> {
    let server = shared::work::server::DemoServer::start(config.latency)
        .expect("the lesson's server starts on 127.0.0.1");
    let wait = config.latency.as_millis() as u64;
    runtime.block_on(async {
        let mut costs = Vec::new();
        for _ in 0..3 {
            let requests = (1..=config.in_flight).map(|todo| {
                let request = client.get(server.url(&format!("/todos/{todo}?delay_ms={wait}")));
                async move {
                    let started = Instant::now();
                    request
                        .send()
                        .await
                        .expect("the lesson's server answers")
                        .json::<Todo>()
                        .await
                        .expect("the lesson's server sends a todo");
                    started
                        .elapsed()
                        .saturating_sub(Duration::from_millis(wait))
                }
            });
            costs.extend(futures::future::join_all(requests).await);
        }
        costs
    })
}

/// Runs `pipeline` once on a current-thread runtime beside a heartbeat,
/// with a real HTTP server, and reports what it saw.
pub fn drive<P>(config: Config, pipeline: P) -> Observed
where
    P: AsyncFnOnce(Stages),
{
    let server = shared::work::server::DemoServer::start(config.latency)
        .expect("the lesson's server starts on 127.0.0.1");
    // No connection pool: each fetch opens its own connection, whose task
    // runs on the runtime that made it. The broken pipeline drops a runtime
    // after every record, and no pooled connection may outlive it.
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .build()
        .expect("a plain-HTTP client always builds");
    let counts = Arc::new(Counts {
        taken: AtomicU64::new(0),
        done: AtomicU64::new(0),
        inside: AtomicU64::new(0),
        written: Mutex::new(Vec::new()),
        malformed: Mutex::new(Vec::new()),
        returned: AtomicBool::new(false),
        late_writes: AtomicU64::new(0),
        runtime_thread: std::sync::OnceLock::new(),
        scored_on_runtime: AtomicU64::new(0),
        taken_after_stop: AtomicU64::new(0),
    });
    let alive: Alive = Arc::new(());
    let liveness: Weak<()> = Arc::downgrade(&alive);
    let stop = CancellationToken::new();
    let stages = Stages {
        input: Input {
            lines: config.lines().into_iter(),
            counts: counts.clone(),
            stop: stop.clone(),
            _alive: alive.clone(),
        },
        fetcher: Fetcher {
            client,
            base: server.url(""),
            config,
            uneven: None,
            _alive: alive.clone(),
        },
        cpu: Cpu {
            cost: config.cpu_time,
            salt: config.salt,
            counts: counts.clone(),
            _alive: alive.clone(),
        },
        sink: Sink {
            counts: counts.clone(),
            _alive: alive,
        },
        capacity: config.capacity,
        in_flight: config.in_flight,
        stop: stop.clone(),
    };
    shared::record::recorder::group("fetch ", "fetches");
    let mut builder = tokio::runtime::Builder::new_current_thread();
    name_threads(&mut builder, "", 0).enable_all();
    let parked = Parked::watch(&mut builder);
    let runtime = builder
        .build()
        .expect("a current-thread runtime always builds");
    // A run that is not stopped is held to its ideal: what a request costs
    // is measured just before it and just after it, and the median taken.
    let calibrate = config.stop_after.is_none();
    let client = stages.fetcher.client.clone();
    let mut costs = if calibrate {
        request_costs(&runtime, &client, &config)
    } else {
        Vec::new()
    };
    let stopped_at: Arc<Mutex<Option<Instant>>> = Arc::default();
    let held = Held::new();
    let ((took, returned, lateness, left), busy) = parked.busy(|| {
        runtime.block_on(
            async {
                let _ = counts.runtime_thread.set(std::thread::current().id());
                let heartbeat = Heartbeat::spawn(TICK);
                tokio::time::sleep(TICK * 2).await;
                let stopper = config.stop_after.map(|after| {
                    let (stop, stopped_at) = (stop.clone(), stopped_at.clone());
                    // A plain thread, so the stop comes on time even when the
                    // runtime's thread is blocked.
                    std::thread::spawn(move || {
                        std::thread::sleep(after);
                        *stopped_at.lock().unwrap_or_else(|e| e.into_inner()) =
                            Some(Instant::now());
                        stop.cancel();
                        shared::mark("stop asked for");
                    })
                });
                let started = Instant::now();
                held.wrap(pipeline(stages)).traced("pipeline").await;
                let returned = Instant::now();
                counts.returned.store(true, Ordering::SeqCst);
                let took = returned - started;
                // Whatever still holds a stage handle is still running.
                let waited = Instant::now();
                while liveness.strong_count() > 0 && waited.elapsed() < GRACE {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                let left = liveness.strong_count();
                tokio::time::sleep(TICK * 2).await;
                if let Some(stopper) = stopper {
                    stopper.join().expect("the stopper does not panic");
                }
                (took, returned, heartbeat.worst_lateness_ratio(), left)
            }
            .traced("main"),
        )
    });
    if calibrate {
        costs.extend(request_costs(&runtime, &client, &config));
    }
    drop(runtime);
    costs.sort_unstable();
    let per_request = costs.get(costs.len() / 2).copied().unwrap_or_default();
    let stop_to_exit = stopped_at
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .map(|at| returned.saturating_duration_since(at));
    Observed {
        config,
        counts,
        took,
        per_request,
        stop_to_exit,
        lateness,
        longest_hold: held.own_longest().as_secs_f64() / TICK.as_secs_f64(),
        busy,
        polls: held.polls(),
        left,
        most_fetches: server.stats().max_in_flight(),
    }
}

/// The `flow` scenario: the whole input, with nobody asking to stop.
pub mod flow {
    use super::*;

    pub static SPEC: Spec = Spec {
        name: "flow",
        facts: &[
            fact(
                "throughput_ratio",
                "the shortest time a pipeline of this shape could take (the fetches in input order, each as soon as a slot is free and taking its wait plus what a request costs here, then the last score), over the time the run took; the worst workload",
            )
            .timing(),
            fact(
                "peak_queue_ratio",
                "the most records inside the pipeline at once (read, not yet written, wherever they were), over its room (three queues full, every fetch slot and as many scorings busy); the worst workload",
            ),
            fact("lost", "well-formed records never written, over both workloads"),
            fact("duplicated", "records written more than once"),
            fact(
                "out_of_order",
                "results written after one that came later in the input",
            ),
            fact(
                "wrong_results",
                "results whose score is not the one worked out from the input and the server's answers for that record",
            ),
            fact(
                "in_flight_ratio",
                "the most fetches the server worked on at once, over the fetches allowed; the workload where it was highest",
            ),
            fact(
                "fetch_overlap",
                "the most fetches the server worked on at once, over the fetches allowed; the workload where it was lowest",
            ),
            fact(
                "heartbeat_lateness",
                "the runtime's heartbeat's worst lateness, in 10 ms ticks",
            )
            .timing(),
            fact(
                "longest_hold",
                "the longest time one poll of the pipeline held the runtime's thread by its own doing (computing, or asleep in a blocking call; not the time a busy machine paused it), in 10 ms ticks",
            )
            .timing(),
            fact(
                "scored_on_runtime",
                "records scored on the runtime's thread (the CPU work done where the fetches are driven), over both workloads",
            ),
            fact(
                "runtime_busy",
                "the share of a workload's time that the runtime was not parked (idle, waiting for a wake-up), the busier workload: its HTTP work for a pipeline that waits, 1 for one that spins, wherever the spin is",
            )
            .timing(),
            fact(
                "pipeline_polls",
                "polls of the pipeline's future per record read, the workload with the most: a few for a pipeline that waits, thousands for one that spins",
            ),
            fact(
                "malformed_reported",
                "malformed lines reported with their line number, over the malformed lines; the worst workload",
            ),
            fact(
                "late_writes",
                "results written after the pipeline had returned",
            ),
            fact(
                "threads_left",
                "stage handles still held after the pipeline returned (and 200 ms more): by a thread or task left running",
            ),
        ],
    };

    /// Runs `pipeline` over the whole input of each workload.
    pub fn measure<P>(facts: &Facts, shapes: &[Shape], pipeline: P)
    where
        P: AsyncFn(Stages),
    {
        let (mut throughput, mut peak, mut in_flight, mut lateness, mut hold) =
            (f64::INFINITY, 0.0f64, 0.0f64, 0.0f64, 0.0f64);
        let (mut on_runtime, mut busy, mut polls) = (0, 0.0f64, 0.0f64);
        let mut overlap = f64::INFINITY;
        let (mut lost, mut duplicated, mut out_of_order, mut wrong, mut late, mut left) =
            (0, 0, 0, 0, 0, 0);
        let mut malformed = f64::INFINITY;
        for shape in shapes {
            let config = shape.config;
            let seen = drive(config, &pipeline);
            throughput = throughput
                .min(config.ideal(seen.per_request).as_secs_f64() / seen.took.as_secs_f64());
            peak = peak.max(seen.peak_queue_ratio());
            in_flight = in_flight.max(seen.in_flight_ratio());
            overlap = overlap.min(seen.in_flight_ratio());
            lateness = lateness.max(seen.lateness);
            hold = hold.max(seen.longest_hold);
            on_runtime += seen.scored_on_runtime();
            busy = busy.max(seen.busy);
            polls = polls.max(seen.polls as f64 / seen.records_taken().len().max(1) as f64);
            malformed = malformed.min(seen.malformed_reported());
            lost += seen.lost(&config.ids());
            duplicated += seen.duplicated();
            out_of_order += seen.out_of_order();
            wrong += seen.wrong_results();
            late += seen.late_writes();
            left += seen.left;
        }
        facts.set("throughput_ratio", throughput);
        facts.set("peak_queue_ratio", peak);
        facts.set("lost", lost as u32);
        facts.set("duplicated", duplicated as u32);
        facts.set("out_of_order", out_of_order as u32);
        facts.set("wrong_results", wrong as u32);
        facts.set("in_flight_ratio", in_flight);
        facts.set("fetch_overlap", overlap);
        facts.set("heartbeat_lateness", lateness);
        facts.set("longest_hold", hold);
        facts.set("scored_on_runtime", on_runtime as u32);
        facts.set("runtime_busy", busy);
        facts.set("pipeline_polls", polls);
        facts.set("malformed_reported", malformed);
        facts.set("late_writes", late as u32);
        facts.set("threads_left", left as u32);
    }

    pub fn run<P>(facts: &Facts, pipeline: P)
    where
        P: AsyncFn(Stages),
    {
        println!(
            "JSON lines go through {}, from a reader thread to a writer thread, under two workloads.",
            facts.the("pipeline"),
        );
        let shapes = Shape::flow(&mut Rng::for_scenario(SPEC.name));
        narrate_shapes(&shapes);
        measure(facts, &shapes, pipeline);
        let get = |name| facts.get(name).unwrap_or(f64::NAN);
        println!(
            "Throughput at worst {:.2} of the ideal; at most {:.1}× the room inside; lost {}, duplicated {}, out of order {}, wrong {}; heartbeat up to {:.1} ticks late; {} record(s) scored on the runtime's thread; the runtime not parked {:.0}% of the time.",
            get("throughput_ratio"),
            get("peak_queue_ratio"),
            get("lost"),
            get("duplicated"),
            get("out_of_order"),
            get("wrong_results"),
            get("heartbeat_lateness"),
            get("scored_on_runtime"),
            get("runtime_busy") * 100.0,
        );
    }

    pub fn piece<'a, P>(name: &'static str, pipeline: P) -> Piece<'a>
    where
        P: AsyncFn(Stages) + 'a,
    {
        Piece::new(name, move |facts| run(facts, pipeline))
    }
}

/// The `stop` scenario: long inputs, and a stop asked for early on.
pub mod stop {
    use super::*;

    pub static SPEC: Spec = Spec {
        name: "stop",
        facts: &[
            fact(
                "lost",
                "records the pipeline read from its input but never wrote, over both workloads",
            ),
            fact("duplicated", "records written more than once"),
            fact(
                "wrong_results",
                "results whose score is not the one worked out from the input and the server's answers for that record",
            ),
            fact(
                "late_writes",
                "results written after the pipeline had returned",
            ),
            fact(
                "threads_left",
                "stage handles still held after the pipeline returned (and 200 ms more): by a thread or task left running",
            ),
            fact(
                "stop_ratio",
                "time from the stop request until the pipeline returned, in fetches (the workload's average fetch time); the worst workload",
            )
            .timing(),
            fact(
                "lines_after_stop",
                "lines taken from the input after the stop was asked for, the worst workload",
            ),
        ],
    };

    /// Runs `pipeline` under each workload, and asks it to stop early on.
    pub fn measure<P>(facts: &Facts, shapes: &[Shape], pipeline: P)
    where
        P: AsyncFn(Stages),
    {
        let (mut lost, mut duplicated, mut wrong, mut late, mut left) = (0, 0, 0, 0, 0);
        let mut ratio = 0.0f64;
        let mut after_stop = 0;
        for shape in shapes {
            let config = shape.config;
            let seen = drive(config, &pipeline);
            lost += seen.lost(&seen.records_taken());
            duplicated += seen.duplicated();
            wrong += seen.wrong_results();
            late += seen.late_writes();
            left += seen.left;
            after_stop = after_stop.max(seen.taken_after_stop());
            // No stop seen (the run ended first): not a number fails every
            // bound.
            let this = seen
                .stop_to_exit
                .map_or(f64::NAN, |d| d.as_secs_f64() / config.latency.as_secs_f64());
            ratio = if this.is_nan() || ratio.is_nan() {
                f64::NAN
            } else {
                ratio.max(this)
            };
        }
        facts.set("lost", lost as u32);
        facts.set("duplicated", duplicated as u32);
        facts.set("wrong_results", wrong as u32);
        facts.set("late_writes", late as u32);
        facts.set("threads_left", left as u32);
        facts.set("stop_ratio", ratio);
        facts.set("lines_after_stop", after_stop as u32);
    }

    pub fn run<P>(facts: &Facts, pipeline: P)
    where
        P: AsyncFn(Stages),
    {
        println!(
            "Long inputs through {}; early on, the program is asked to stop.",
            facts.the("pipeline"),
        );
        let shapes = Shape::stop(&mut Rng::for_scenario(SPEC.name));
        narrate_shapes(&shapes);
        measure(facts, &shapes, pipeline);
        let get = |name| facts.get(name).unwrap_or(f64::NAN);
        println!(
            "It stopped at worst {:.1} fetches' time after the request; of the records it had read, {} lost, {} duplicated, {} wrong; {} written after it returned; {} stage handle(s) still held.",
            get("stop_ratio"),
            get("lost"),
            get("duplicated"),
            get("wrong_results"),
            get("late_writes"),
            get("threads_left"),
        );
    }

    pub fn piece<'a, P>(name: &'static str, pipeline: P) -> Piece<'a>
    where
        P: AsyncFn(Stages) + 'a,
    {
        Piece::new(name, move |facts| run(facts, pipeline))
    }
}

/// In the `uneven` scenario, the records whose fetch takes `factor`
/// times as long (a slow backend, a big answer).
#[derive(Clone, Debug)]
pub struct Slow {
    pub ids: Vec<u64>,
    pub factor: u32,
}

impl Slow {
    /// Every `every`-th record, from the one after the first window, with
    /// a window of records after it.
    pub fn every(config: &Config, every: usize, window: usize, factor: u32) -> Slow {
        let ids = config.ids();
        Slow {
            ids: (window + 1..ids.len().saturating_sub(window))
                .step_by(every)
                .map(|p| ids[p])
                .collect(),
            factor,
        }
    }

    /// Whether record `id`'s fetch is a slow one.
    pub fn is(&self, id: u64) -> bool {
        self.ids.contains(&id)
    }
}

/// The harness's log of the `uneven` scenario's fetches: when each starts
/// and runs to its end, and when each record is handed on; and the events
/// that may wake the stage, to tell the polls they explain from the others.
pub struct FetchLog {
    inner: Mutex<LogInner>,
    /// Events from outside the stage that can wake it, each counted just
    /// before it wakes anything: a record sent to it or its input closed
    /// (by the reader), a fetch woken, room in the queue it hands on to.
    events: AtomicU64,
    /// Polls of the stage with no such event since the poll before: a
    /// stage woken by a timer, a yield, or itself.
    idle_polls: AtomicU64,
    /// Set while the stage is being polled.
    in_poll: AtomicBool,
}

struct LogInner {
    /// Each well-formed record's place in the input (from 0).
    place: std::collections::HashMap<u64, usize>,
    handed: Vec<bool>,
    /// The first place not yet handed on.
    oldest: usize,
    /// Places whose fetch has started (been polled), and has been driven
    /// (polled again after it was woken).
    started: Vec<bool>,
    driven: Vec<bool>,
    /// Fetches started for a record not in the input, or for a record
    /// whose fetch had started before.
    extra: u64,
    /// The farthest a fetch started from the oldest record not yet handed
    /// on, counting both (1: the oldest itself).
    reach: usize,
    /// Slow fetches followed by at least a window of records, while each
    /// runs: the fetches of records after it driven since it started.
    slow_running: std::collections::HashMap<usize, u64>,
    /// Places of those slow records.
    slow_places: Vec<usize>,
    /// For each of them that ended: the fetches behind it driven while it
    /// ran.
    during_slow: Vec<u64>,
    /// Set when the stage has returned; records handed on after that.
    returned: bool,
    handed_late: u64,
}

/// Ends a fetch in the log when dropped (the fetch done, or dropped).
pub struct FetchGuard {
    log: Arc<FetchLog>,
    id: u64,
}

impl Drop for FetchGuard {
    fn drop(&mut self) {
        self.log.ended(self.id);
    }
}

impl FetchLog {
    fn new(config: &Config, slow: &Slow, window: usize) -> FetchLog {
        let ids = config.ids();
        let place: std::collections::HashMap<u64, usize> =
            ids.iter().enumerate().map(|(p, &id)| (id, p)).collect();
        let slow_places = ids
            .iter()
            .enumerate()
            .filter(|&(p, &id)| slow.is(id) && p + window <= ids.len())
            .map(|(p, _)| p)
            .collect();
        FetchLog {
            inner: Mutex::new(LogInner {
                handed: vec![false; ids.len()],
                started: vec![false; ids.len()],
                driven: vec![false; ids.len()],
                place,
                oldest: 0,
                extra: 0,
                reach: 0,
                slow_running: Default::default(),
                slow_places,
                during_slow: Vec::new(),
                returned: false,
                handed_late: 0,
            }),
            events: AtomicU64::new(0),
            idle_polls: AtomicU64::new(0),
            in_poll: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LogInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// An event that may wake the stage, noted before it wakes it.
    fn event(&self) {
        self.events.fetch_add(1, Ordering::SeqCst);
    }

    fn started(self: Arc<Self>, id: u64) -> FetchGuard {
        {
            let mut log = self.lock();
            match log.place.get(&id).copied() {
                Some(p) if !log.started[p] => {
                    log.started[p] = true;
                    let reach = (p + 1).saturating_sub(log.oldest);
                    log.reach = log.reach.max(reach);
                    if log.slow_places.contains(&p) {
                        log.slow_running.insert(p, 0);
                    }
                }
                _ => log.extra += 1,
            }
        }
        FetchGuard { log: self, id }
    }

    /// A fetch polled again after it was woken: it is being driven, not
    /// only started and parked.
    fn driven(&self, id: u64) {
        let mut log = self.lock();
        if let Some(&p) = log.place.get(&id) {
            if !log.driven[p] {
                log.driven[p] = true;
                for (&slow, done) in log.slow_running.iter_mut() {
                    if p > slow {
                        *done += 1;
                    }
                }
            }
        }
    }

    fn ended(&self, id: u64) {
        let mut log = self.lock();
        if let Some(&p) = log.place.get(&id) {
            if let Some(during) = log.slow_running.remove(&p) {
                log.during_slow.push(during);
            }
        }
    }

    fn handed(&self, id: u64) {
        let mut log = self.lock();
        if log.returned {
            log.handed_late += 1;
        }
        if let Some(&p) = log.place.get(&id) {
            log.handed[p] = true;
            while log.oldest < log.handed.len() && log.handed[log.oldest] {
                log.oldest += 1;
            }
        }
    }
}

/// A future whose wakes are noted in the log as events before they wake
/// whoever polled it (a fetch, a send to the next stage); for a fetch,
/// the first poll after a wake is noted too.
struct Noting<F> {
    future: std::pin::Pin<Box<F>>,
    log: Option<Arc<FetchLog>>,
    fetch: Option<u64>,
    woken: Arc<AtomicBool>,
    polled: bool,
    driven: bool,
}

impl<F: Future> Noting<F> {
    fn new(future: F, log: Option<Arc<FetchLog>>, fetch: Option<u64>) -> Noting<F> {
        Noting {
            future: Box::pin(future),
            log,
            fetch,
            woken: Arc::new(AtomicBool::new(false)),
            polled: false,
            driven: false,
        }
    }
}

struct NoteWake {
    log: Arc<FetchLog>,
    woken: Arc<AtomicBool>,
    waker: std::task::Waker,
}

impl std::task::Wake for NoteWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        self.log.event();
        self.waker.wake_by_ref();
    }
}

impl<F: Future> Future for Noting<F> {
    type Output = F::Output;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        let Some(log) = self.log.clone() else {
            return self.future.as_mut().poll(cx);
        };
        if let Some(id) = self.fetch {
            if self.polled && !self.driven && self.woken.load(Ordering::SeqCst) {
                self.driven = true;
                log.driven(id);
            }
            self.polled = true;
        }
        let waker = std::task::Waker::from(Arc::new(NoteWake {
            log,
            woken: self.woken.clone(),
            waker: cx.waker().clone(),
        }));
        self.future
            .as_mut()
            .poll(&mut std::task::Context::from_waker(&waker))
    }
}

/// The stage's future, each poll of which is checked against the events:
/// a poll with none since the poll before was not asked for by anything
/// the stage waits on.
struct Watched<F> {
    future: std::pin::Pin<Box<F>>,
    log: Arc<FetchLog>,
    last: Option<u64>,
}

impl<F: Future> Future for Watched<F> {
    type Output = F::Output;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        let now = self.log.events.load(Ordering::SeqCst);
        if self.last == Some(now) {
            self.log.idle_polls.fetch_add(1, Ordering::SeqCst);
        }
        self.last = Some(now);
        // A wake during the poll itself is the stage asking to be polled
        // again at once (`FuturesUnordered` does, to be fair to others,
        // after polling each of its futures): an event, not a timer.
        let waker = std::task::Waker::from(Arc::new(StageWake {
            log: self.log.clone(),
            waker: cx.waker().clone(),
        }));
        self.log.in_poll.store(true, Ordering::SeqCst);
        let poll = self
            .future
            .as_mut()
            .poll(&mut std::task::Context::from_waker(&waker));
        self.log.in_poll.store(false, Ordering::SeqCst);
        poll
    }
}

struct StageWake {
    log: Arc<FetchLog>,
    waker: std::task::Waker,
}

impl std::task::Wake for StageWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.log.in_poll.load(Ordering::SeqCst) {
            self.log.event();
        }
        self.waker.wake_by_ref();
    }
}

/// What the `uneven` scenario hands to the fetch stage under lesson.
pub struct Fetching {
    /// The records, in input order, from the reader thread; closed when
    /// the input ends.
    pub records: tokio::sync::mpsc::Receiver<Record>,
    /// Fetches one record's details (the future starts the fetch when it
    /// is first polled).
    pub fetcher: Fetcher,
    /// How many fetches may run at once.
    pub in_flight: usize,
    /// A fetch may start only for a record fewer than `window` places
    /// after the oldest record not yet handed on (counting both, at most
    /// `window` records between them).
    pub window: usize,
    /// Where each record goes with its details, in input order, to be
    /// scored and written.
    pub out: Out,
}

/// The queue to the scoring stage: a bounded `tokio::sync::mpsc` sender,
/// through which the harness sees each record handed on.
#[derive(Clone)]
pub struct Out {
    tx: tokio::sync::mpsc::Sender<(Record, Details)>,
    log: Arc<FetchLog>,
}

impl Out {
    /// Hands a record and its details on, waiting while the queue is full
    /// (as `Sender::send`). The record counts as handed on from the call.
    pub async fn send(
        &self,
        pair: (Record, Details),
    ) -> Result<(), tokio::sync::mpsc::error::SendError<(Record, Details)>> {
        self.log.handed(pair.0.id);
        Noting::new(self.tx.send(pair), Some(self.log.clone()), None).await
    }
}

pub mod broken_stage {
    use super::*;
    use futures::StreamExt;

    // ANCHOR: broken_stage
    /// The fetch stage as one first writes it: `buffered`.
    pub async fn fetch_in_order(stage: Fetching) {
        let Fetching {
            mut records,
            fetcher,
            in_flight,
            out,
            ..
        } = stage;
        let records = futures::stream::poll_fn(move |cx| records.poll_recv(cx));
        // BROKEN: `buffered` counts a finished fetch as one of its
        // `in_flight` until it is handed on: behind a slow fetch, the
        // others finish and wait, and no new fetch starts
        let fetched = records
            .map(|record| {
                let details = fetcher.details(record);
                async move { (record, details.await) }
            })
            .buffered(in_flight);
        let mut fetched = std::pin::pin!(fetched);
        while let Some(pair) = fetched.next().await {
            if out.send(pair).await.is_err() {
                break;
            }
        }
    }
    // ANCHOR_END: broken_stage
}

pub mod fixed_stage {
    use super::*;
    use futures::StreamExt;
    use futures::stream::FuturesUnordered;
    use std::collections::BTreeMap;

    // ANCHOR: fixed_stage
    /// Fetches run in any order, at most `in_flight` at once; each finished
    /// one waits, numbered by its place, until every earlier one has gone
    /// on; and no fetch starts `window` or more places past the oldest
    /// record not yet handed on.
    pub async fn fetch_in_order(stage: Fetching) {
        let Fetching {
            mut records,
            fetcher,
            in_flight,
            window,
            out,
        } = stage;
        let mut running = FuturesUnordered::new();
        let mut finished = BTreeMap::new();
        // Places: of the next record to start, of the next to hand on.
        let (mut next_in, mut next_out) = (0u64, 0u64);
        let mut open = true;
        loop {
            // FIXED: a free slot is enough to start a fetch, however slow
            // the oldest one is, as long as it is within the window
            let room = running.len() < in_flight && next_in - next_out < window as u64;
            tokio::select! {
                record = records.recv(), if open && room => match record {
                    Some(record) => {
                        let (place, details) = (next_in, fetcher.details(record));
                        next_in += 1;
                        running.push(async move { (place, record, details.await) });
                    }
                    None => open = false,
                },
                Some((place, record, details)) = running.next() => {
                    finished.insert(place, (record, details));
                    // FIXED: hand on, in input order, all that can go
                    while let Some(pair) = finished.remove(&next_out) {
                        next_out += 1;
                        if out.send(pair).await.is_err() {
                            return;
                        }
                    }
                }
                else => break,
            }
        }
    }
    // ANCHOR_END: fixed_stage
}

/// What one run of a fetch stage showed.
struct UnevenSeen {
    lost: usize,
    out_of_order: usize,
    wrong: usize,
    in_flight_ratio: f64,
    reach_ratio: f64,
    window_use: f64,
    held_ratio: f64,
    hold: f64,
    polls: f64,
    idle_polls: f64,
    extra_fetches: u64,
    handed_late: u64,
    elsewhere: f64,
    busy: f64,
    left: usize,
}

/// Runs `stage` once between the lesson's reader and its scoring and
/// writing, on a current-thread runtime beside a heartbeat.
fn drive_stage<S>(config: Config, slow: Slow, window: usize, stage: S) -> UnevenSeen
where
    S: AsyncFnOnce(Fetching),
{
    // Every thread alive now but this one and the kit's is the program's:
    // made in its `main`, or by an earlier workload and kept.
    let harness = shared::record::sched::HarnessThreads::begin();
    let server = shared::work::server::DemoServer::start(config.latency)
        .expect("the lesson's server starts on 127.0.0.1");
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .build()
        .expect("a plain-HTTP client always builds");
    let counts = Arc::new(Counts {
        taken: AtomicU64::new(0),
        done: AtomicU64::new(0),
        inside: AtomicU64::new(0),
        written: Mutex::new(Vec::new()),
        malformed: Mutex::new(Vec::new()),
        returned: AtomicBool::new(false),
        late_writes: AtomicU64::new(0),
        runtime_thread: std::sync::OnceLock::new(),
        scored_on_runtime: AtomicU64::new(0),
        taken_after_stop: AtomicU64::new(0),
    });
    let log = Arc::new(FetchLog::new(&config, &slow, window));
    let alive: Alive = Arc::new(());
    let liveness: Weak<()> = Arc::downgrade(&alive);
    let input = Input {
        lines: config.lines().into_iter(),
        counts: counts.clone(),
        stop: CancellationToken::new(),
        _alive: alive.clone(),
    };
    let fetcher = Fetcher {
        client,
        base: server.url(""),
        config,
        uneven: Some((slow, log.clone())),
        _alive: alive.clone(),
    };
    let cpu = Cpu {
        cost: config.cpu_time,
        salt: config.salt,
        counts: counts.clone(),
        _alive: alive.clone(),
    };
    let sink = Sink {
        counts: counts.clone(),
        _alive: alive,
    };
    // The lesson's reader and writer, as in its fixed pipeline.
    let (records_tx, records) = tokio::sync::mpsc::channel::<Record>(config.capacity);
    let (out, mut handed) = tokio::sync::mpsc::channel::<(Record, Details)>(config.capacity);
    let out = Out {
        tx: out,
        log: log.clone(),
    };
    let reader = {
        let (sink, log) = (sink.clone(), log.clone());
        std::thread::spawn(move || {
            shared::record::sched::claim_this_thread();
            for (line, text) in input {
                match serde_json::from_str::<Record>(&text) {
                    Ok(record) => {
                        // As `blocking_send`, with the send noted as an
                        // event between the wait for room and the wake.
                        let Ok(room) = futures::executor::block_on(records_tx.reserve()) else {
                            break;
                        };
                        log.event();
                        room.send(record);
                    }
                    Err(error) => sink.malformed(line, &error),
                }
            }
            log.event();
            drop(records_tx);
        })
    };
    let writer = std::thread::spawn(move || {
        shared::record::sched::claim_this_thread();
        while let Some((record, details)) = handed.blocking_recv() {
            sink.write(cpu.score(record, details));
        }
    });
    shared::record::recorder::group("fetch ", "fetches");
    let mut builder = tokio::runtime::Builder::new_current_thread();
    name_threads(&mut builder, "", 0).enable_all();
    let parked = Parked::watch(&mut builder);
    let runtime = builder
        .build()
        .expect("a current-thread runtime always builds");
    let held = Held::new();
    let handed_over = Fetching {
        records,
        fetcher,
        in_flight: config.in_flight,
        window,
        out,
    };
    // Taken before the stage is first called, which may run its code.
    let harness_threads = harness.now();
    let watched = Watched {
        future: Box::pin(stage(handed_over)),
        log: log.clone(),
        last: None,
    };
    let mut elsewhere = 0.0;
    let (left, busy) = parked.busy(|| {
        runtime.block_on(
            async {
                let _ = counts.runtime_thread.set(std::thread::current().id());
                // The program's threads, and how long they were on a core
                // or waiting for one while the stage ran: a thread that
                // spins is always one or the other, however busy the
                // machine.
                let threads = shared::work::cpu::BusyWatch::leaving_out(harness_threads);
                held.wrap(watched).traced("fetch stage").await;
                log.lock().returned = true;
                elsewhere = threads.finish().ratio;
                counts.returned.store(true, Ordering::SeqCst);
                // The reader and the writer end when their channels close:
                // at once, unless the stage left a sender or a receiver
                // alive somewhere.
                let waited = Instant::now();
                while (!reader.is_finished()
                    || !writer.is_finished()
                    || liveness.strong_count() > 0)
                    && waited.elapsed() < GRACE
                {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                liveness.strong_count()
            }
            .traced("main"),
        )
    });
    drop(runtime);
    let written: Vec<(u64, u64)> = counts
        .written
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let ids: Vec<u64> = written.iter().map(|&(id, _)| id).collect();
    let log_idle = log.idle_polls.load(Ordering::SeqCst);
    let log = log.lock();
    let room = 2 * config.capacity + window + 3;
    UnevenSeen {
        lost: config.ids().iter().filter(|id| !ids.contains(id)).count(),
        out_of_order: ids.windows(2).filter(|w| w[1] < w[0]).count(),
        wrong: written
            .iter()
            .filter(|(id, score)| config.expected_score(*id) != Some(*score))
            .count(),
        in_flight_ratio: server.stats().max_in_flight() as f64 / config.in_flight as f64,
        reach_ratio: log.reach as f64 / window as f64,
        window_use: log
            .during_slow
            .iter()
            .map(|&n| n as f64 / (window - 1) as f64)
            .fold(
                if log.during_slow.is_empty() {
                    0.0
                } else {
                    f64::INFINITY
                },
                f64::min,
            ),
        held_ratio: counts.inside.load(Ordering::SeqCst) as f64 / room as f64,
        hold: held.own_longest().as_secs_f64() / TICK.as_secs_f64(),
        polls: held.polls() as f64 / config.records as f64,
        idle_polls: log_idle as f64 / config.records as f64,
        extra_fetches: log.extra,
        handed_late: log.handed_late,
        elsewhere,
        busy,
        left,
    }
}

/// One workload of the `uneven` scenario.
#[derive(Clone, Debug)]
pub struct UnevenShape {
    pub name: String,
    pub config: Config,
    pub slow: Slow,
    pub window: usize,
}

impl UnevenShape {
    /// Two workloads: quick fetches three or four at a time, a window of
    /// three times that; and slower ones two at a time, a window of five.
    pub fn draw(rng: &mut Rng) -> Vec<UnevenShape> {
        let f = rng.between(3, 4);
        let mut shape = |in_flight: u64, window: usize, latency: (u64, u64), factor: u32| {
            let every = 2 * window as u64 + rng.between(2, 4);
            let config = Config {
                records: rng.between(2 * every + 2 * window as u64, 2 * every + 3 * window as u64),
                malformed_every: rng.between(9, 13),
                latency: Duration::from_millis(rng.between(latency.0, latency.1)),
                cpu_time: Duration::from_millis(1),
                capacity: rng.between(1, 3) as usize,
                in_flight: in_flight as usize,
                stop_after: None,
                salt: rng.salt(),
            };
            let name = format!(
                "{} records, fetches of about {} ms {in_flight} at a time, one record in {every} {factor} times as slow; a window of {window}, queues of {}",
                config.records,
                config.latency.as_millis(),
                config.capacity,
            );
            UnevenShape {
                name,
                slow: Slow::every(&config, every as usize, window, factor),
                config,
                window,
            }
        };
        let quick = shape(f, 3 * f as usize, (10, 14), 10);
        vec![quick, shape(2, 5, (18, 24), 12)]
    }
}

/// The `uneven` scenario: a fetch stage that keeps input order while some
/// fetches take ten times as long as the others.
pub mod uneven {
    use super::*;

    pub static SPEC: Spec = Spec {
        name: "uneven",
        facts: &[
            fact(
                "window_use",
                "while a slow fetch ran, the fetches of records behind it that were driven (polled again once woken), over the most the window allows (window - 1); the slow fetch where it was fewest",
            )
            .timing(),
            fact(
                "reach_ratio",
                "the farthest a fetch started from the oldest record not yet handed on (counting both), over the window; both workloads",
            ),
            fact(
                "in_flight_ratio",
                "the most fetches the server worked on at once, over the fetches allowed; both workloads",
            ),
            fact(
                "held_ratio",
                "the most records inside at once (read, not yet written, wherever they were), over the room the queues and the window give; both workloads",
            ),
            fact("lost", "records never handed on, over both workloads"),
            fact(
                "out_of_order",
                "records handed on after one that came later in the input",
            ),
            fact(
                "wrong_results",
                "results whose score is not the one worked out from the input and the server's answers for that record",
            ),
            fact(
                "stage_polls",
                "polls of the stage's future per record, the workload with the most: a few for a stage that waits, hundreds for one that spins",
            ),
            fact(
                "idle_polls",
                "polls of the stage per record with nothing since the poll before that it could have been waiting for (no record sent to it, no fetch woken, no room made in the queue it hands on to), the workload with the most: none for a stage that waits to be woken",
            ),
            fact(
                "extra_fetches",
                "fetches started for a record that is not in the input, or for a record fetched before, over both workloads",
            ),
            fact(
                "handed_late",
                "records handed on after the stage had returned, over both workloads",
            ),
            fact(
                "threads_busy",
                "the time the program's own threads (every thread but the harness's, whenever it was made) spent on a core or waiting for one while the stage ran, over the stage's time, the busier workload: about 1 for each thread that spins",
            ),
            fact(
                "runtime_busy",
                "the share of a workload's time that the runtime was not parked, the busier workload: 1 for a stage that spins, wherever the spin is",
            )
            .timing(),
            fact(
                "longest_hold",
                "the longest time one poll of the stage held the runtime's thread by its own doing, in 10 ms ticks",
            )
            .timing(),
            fact(
                "threads_left",
                "stage handles still held 200 ms after the stage returned: by a task or thread left running",
            ),
        ],
    };

    /// Runs `stage` under the given workloads.
    pub fn measure<S>(facts: &Facts, shapes: &[UnevenShape], stage: S)
    where
        S: AsyncFn(Fetching),
    {
        let (mut lost, mut order, mut wrong, mut left) = (0, 0, 0, 0);
        let (mut in_flight, mut reach, mut held, mut hold) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
        let (mut polls, mut busy, mut used) = (0.0f64, 0.0f64, f64::INFINITY);
        let (mut idle, mut extra, mut late, mut elsewhere) = (0.0f64, 0, 0, 0.0f64);
        for shape in shapes {
            let seen = drive_stage(shape.config, shape.slow.clone(), shape.window, &stage);
            lost += seen.lost;
            order += seen.out_of_order;
            wrong += seen.wrong;
            left += seen.left;
            in_flight = in_flight.max(seen.in_flight_ratio);
            reach = reach.max(seen.reach_ratio);
            held = held.max(seen.held_ratio);
            hold = hold.max(seen.hold);
            polls = polls.max(seen.polls);
            busy = busy.max(seen.busy);
            used = used.min(seen.window_use);
            idle = idle.max(seen.idle_polls);
            extra += seen.extra_fetches;
            late += seen.handed_late;
            elsewhere = elsewhere.max(seen.elsewhere);
        }
        facts.set("window_use", used);
        facts.set("reach_ratio", reach);
        facts.set("in_flight_ratio", in_flight);
        facts.set("held_ratio", held);
        facts.set("lost", lost as u32);
        facts.set("out_of_order", order as u32);
        facts.set("wrong_results", wrong as u32);
        facts.set("stage_polls", polls);
        facts.set("idle_polls", idle);
        facts.set("extra_fetches", extra as u32);
        facts.set("handed_late", late as u32);
        facts.set("threads_busy", elsewhere);
        facts.set("runtime_busy", busy);
        facts.set("longest_hold", hold);
        facts.set("threads_left", left as u32);
    }

    pub fn run<S>(facts: &Facts, stage: S)
    where
        S: AsyncFn(Fetching),
    {
        println!(
            "Records go through {} between the reader and the scoring; some fetches take ten times as long as the others.",
            facts.the("fetch stage"),
        );
        let shapes = UnevenShape::draw(&mut Rng::for_scenario(SPEC.name));
        let seed = seed();
        println!("Workloads from seed {seed} ({SEED_ENV}={seed} replays them):");
        for (i, shape) in shapes.iter().enumerate() {
            println!("  {}. {}", i + 1, shape.name);
        }
        measure(facts, &shapes, stage);
        let get = |name| facts.get(name).unwrap_or(f64::NAN);
        println!(
            "Behind a slow fetch, at worst {:.0}% of the window was used; fetches reached {:.2} of the window and ran {:.2} of the allowed at once; {:.2} of the room held; lost {}, out of order {}, wrong {}.",
            get("window_use") * 100.0,
            get("reach_ratio"),
            get("in_flight_ratio"),
            get("held_ratio"),
            get("lost"),
            get("out_of_order"),
            get("wrong_results"),
        );
    }

    pub fn piece<'a, S>(name: &'static str, stage: S) -> Piece<'a>
    where
        S: AsyncFn(Fetching) + 'a,
    {
        Piece::new(name, move |facts| run(facts, stage))
    }
}

/// The exercise binary's `main`: judges the learner's fetch stage.
pub fn exercise<S>(stage: S) -> ExitCode
where
    S: AsyncFn(Fetching),
{
    shared::lesson::main(
        LESSON,
        Variant::Exercise("pipeline"),
        vec![uneven::SPEC.with(vec![uneven::piece("", stage)])],
    )
}

#[cfg(test)]
mod idle_polls {
    use super::*;

    fn log() -> Arc<FetchLog> {
        let config = Config {
            records: 4,
            malformed_every: 3,
            latency: Duration::from_millis(10),
            cpu_time: Duration::from_millis(1),
            capacity: 1,
            in_flight: 2,
            stop_after: None,
            salt: 1,
        };
        let slow = Slow {
            ids: Vec::new(),
            factor: 1,
        };
        Arc::new(FetchLog::new(&config, &slow, 3))
    }

    async fn watched(log: &Arc<FetchLog>, stage: impl Future<Output = ()>) -> u64 {
        Watched {
            future: Box::pin(stage),
            log: log.clone(),
            last: None,
        }
        .await;
        log.idle_polls.load(Ordering::SeqCst)
    }

    #[tokio::test(start_paused = true)]
    async fn a_stage_woken_by_a_timer_is_polled_idle_each_time() {
        let log = log();
        let idle = watched(&log, async {
            for _ in 0..10 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
        .await;
        assert_eq!(idle, 10);
    }

    #[tokio::test(start_paused = true)]
    async fn a_stage_woken_by_what_it_waits_on_is_never_idle() {
        let log = log();
        let (tx, mut rx) = tokio::sync::mpsc::channel::<u32>(1);
        let sender = log.clone();
        tokio::spawn(async move {
            for n in 0..10 {
                tokio::time::sleep(Duration::from_millis(1)).await;
                // As the harness's reader does: noted, then sent.
                sender.event();
                let _ = tx.send(n).await;
            }
        });
        let idle = watched(&log, async move { while rx.recv().await.is_some() {} }).await;
        assert_eq!(idle, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_wake_from_inside_the_stage_s_own_poll_is_not_idle() {
        let log = log();
        // Asks to be polled again from within its poll, as
        // `FuturesUnordered` does after polling each of its futures.
        let mut asked = false;
        let idle = watched(
            &log,
            std::future::poll_fn(move |cx| {
                if asked {
                    std::task::Poll::Ready(())
                } else {
                    asked = true;
                    cx.waker().wake_by_ref();
                    std::task::Poll::Pending
                }
            }),
        )
        .await;
        assert_eq!(idle, 0);
    }
}
