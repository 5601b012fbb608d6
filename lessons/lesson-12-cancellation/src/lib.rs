//! # Lesson 12: cancellation
//!
//! In async Rust, cancelling is dropping: a future that is dropped before it
//! completes simply never runs again. That is cheap and it is everywhere
//! (`select!` drops its losers, `timeout` drops what ran out of time), and
//! it surprises in four ways:
//!
//! - a future dropped halfway loses what it held (`lines`);
//! - dropping a task's `JoinHandle` does not cancel the task (`handle`);
//! - blocking work cannot be dropped at all, and a runtime waits for it
//!   when it shuts down (`stop`);
//! - a loop whose every `.await` is ready at once never gives its thread
//!   back, so nothing else on that thread runs, not even to cancel it
//!   (`starve`).
//!
//! Each scenario's harness measures from outside the code under lesson.

use shared::TraceExt;
use shared::lesson::{Facts, Piece, Spec, Variant, fact};
use shared::work::heartbeat::Heartbeat;
use std::future::Future;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

/// A current-thread runtime with a timer, as the scenarios use.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime always builds")
}

// ---------------------------------------------------------------- lines --

/// Lines sent in the `lines` scenario.
pub const LINES: u32 = 20;
/// How often the reader must report its progress.
pub const STATUS_EVERY: Duration = Duration::from_millis(10);

/// What the reader reads from: lines arriving over an in-memory pipe, each
/// in two pieces, 7 ms apart, as lines come off a slow network.
pub type Input = tokio::io::BufReader<tokio::io::DuplexStream>;

/// The text of line `i`.
pub fn line_text(i: u32) -> String {
    format!("line {i:02}: the quick brown fox jumps over the lazy dog")
}

/// Where the reader reports its progress; the harness counts the reports.
#[derive(Clone, Default)]
pub struct Status {
    reports: Arc<AtomicU32>,
}

impl Status {
    /// Reports that `lines` lines have been read so far.
    pub fn report(&self, lines: usize) {
        std::hint::black_box(lines);
        self.reports.fetch_add(1, Ordering::Relaxed);
    }

    fn count(&self) -> u32 {
        self.reports.load(Ordering::Relaxed)
    }
}

async fn send_lines(mut pipe: tokio::io::DuplexStream) {
    for i in 0..LINES {
        let text = format!("{}\n", line_text(i));
        let (first, rest) = text.as_bytes().split_at(text.len() / 2);
        pipe.write_all(first).await.expect("the pipe is open");
        tokio::time::sleep(Duration::from_millis(7)).await;
        pipe.write_all(rest).await.expect("the pipe is open");
        tokio::time::sleep(Duration::from_millis(8)).await;
    }
    // Dropping the pipe's end is the end of the input.
}

pub mod broken {
    use super::*;

    // ANCHOR: broken_lines
    /// Reads every line, and reports progress every 10 ms meanwhile.
    pub async fn collect(mut input: Input, status: Status) -> Vec<String> {
        let mut every = tokio::time::interval(STATUS_EVERY);
        let mut lines = Vec::new();
        let mut line = String::new();
        loop {
            tokio::select! {
                // BROKEN: when the timer wins, this read is dropped, and the
                // half line it had read so far is dropped with it
                read = input.read_line(&mut line) => {
                    if read.expect("a pipe in memory does not fail") == 0 {
                        return lines;
                    }
                    lines.push(std::mem::take(&mut line));
                }
                _ = every.tick() => status.report(lines.len()),
            }
        }
    }
    // ANCHOR_END: broken_lines

    // ANCHOR: broken_handle
    /// Asks a job for its answer, giving up after `deadline`.
    pub async fn ask(job: Job, deadline: Duration) -> Option<u64> {
        let handle = tokio::spawn(job.run());
        // BROKEN: on time-out the handle is dropped, which only detaches the
        // task: the job runs on, and does its work for nobody
        let answer = tokio::time::timeout(deadline, handle).await.ok()?;
        Some(answer.expect("the job does not panic"))
    }
    // ANCHOR_END: broken_handle

    // ANCHOR: broken_stop
    /// Samples the sensor `READS` times. Runs on a blocking thread.
    pub fn sample(stop: CancellationToken, sensor: Sensor) -> u32 {
        let _ = stop; // BROKEN: nobody ever looks at it
        let mut total = 0;
        for _ in 0..READS {
            total += sensor.read();
        }
        total
    }
    // ANCHOR_END: broken_stop

    // ANCHOR: broken_starve
    /// Works through the backlog, item by item.
    pub async fn process(mut backlog: Backlog) -> u64 {
        let mut sum: u64 = 0;
        // BROKEN: `next()` is always ready, so this loop never returns
        // Pending, and its thread runs nothing else until it is done
        while let Some(item) = backlog.next().await {
            sum = sum.wrapping_add(work(item));
        }
        sum
    }
    // ANCHOR_END: broken_starve
}

pub mod fixed {
    use super::*;

    // ANCHOR: fixed_lines
    /// The same, with a reader that keeps a half-read line inside itself:
    /// `Lines::next_line` is cancel-safe, so losing a race loses nothing.
    pub async fn collect(input: Input, status: Status) -> Vec<String> {
        let mut every = tokio::time::interval(STATUS_EVERY);
        let mut incoming = input.lines(); // FIXED: the buffer outlives each read
        let mut lines = Vec::new();
        loop {
            tokio::select! {
                line = incoming.next_line() => {
                    match line.expect("a pipe in memory does not fail") {
                        Some(line) => lines.push(line),
                        None => return lines,
                    }
                }
                _ = every.tick() => status.report(lines.len()),
            }
        }
    }
    // ANCHOR_END: fixed_lines

    // ANCHOR: fixed_handle
    /// The same, but on time-out the job is aborted, not abandoned.
    pub async fn ask(job: Job, deadline: Duration) -> Option<u64> {
        let mut handle = tokio::spawn(job.run());
        match tokio::time::timeout(deadline, &mut handle).await {
            Ok(answer) => Some(answer.expect("the job does not panic")),
            Err(_) => {
                handle.abort(); // FIXED: the task is dropped at its next .await
                None
            }
        }
    }
    // ANCHOR_END: fixed_handle

    // ANCHOR: fixed_stop
    /// The same, stopping as soon as it is asked to.
    pub fn sample(stop: CancellationToken, sensor: Sensor) -> u32 {
        let mut total = 0;
        for _ in 0..READS {
            if stop.is_cancelled() {
                break; // FIXED: checked before every read
            }
            total += sensor.read();
        }
        total
    }
    // ANCHOR_END: fixed_stop

    // ANCHOR: fixed_starve
    /// The same, handing the thread back now and then.
    pub async fn process(mut backlog: Backlog) -> u64 {
        let mut sum: u64 = 0;
        while let Some(item) = backlog.next().await {
            sum = sum.wrapping_add(work(item));
            // FIXED: returns Pending once tokio's budget for this task is
            // spent, so the others get their turn
            tokio::task::coop::consume_budget().await;
        }
        sum
    }
    // ANCHOR_END: fixed_starve
}

/// The `lines` scenario: a `select!` loop over a line reader and a timer.
pub mod lines {
    use super::*;

    pub static SPEC: Spec = Spec {
        name: "lines",
        facts: &[
            fact(
                "lines_lost",
                "lines sent that the reader never returned whole, of 20",
            ),
            fact("lines_garbled", "lines returned that were never sent"),
            fact(
                "status_ratio",
                "progress reports made over the reports due (one per 10 ms)",
            ),
        ],
    };

    /// Feeds the lines to `collect` and checks what comes back.
    pub async fn measure<C>(facts: &Facts, collect: C)
    where
        C: AsyncFnOnce(Input, Status) -> Vec<String>,
    {
        let (sending, receiving) = tokio::io::duplex(1024);
        let status = Status::default();
        // tokio's clock: the tests run this on paused time.
        let started = tokio::time::Instant::now();
        let sender = tokio::spawn(send_lines(sending).traced("sender"));
        let got = collect(tokio::io::BufReader::new(receiving), status.clone())
            .traced("reader")
            .await;
        let took = started.elapsed();
        sender.await.expect("the sender does not panic");
        let sent: Vec<String> = (0..LINES).map(line_text).collect();
        let got: Vec<&str> = got
            .iter()
            .map(|l| l.trim_end_matches(['\n', '\r']))
            .collect();
        let lost = sent.iter().filter(|s| !got.contains(&s.as_str())).count();
        let garbled = got.iter().filter(|g| !sent.iter().any(|s| s == *g)).count();
        facts.set("lines_lost", lost as u32);
        facts.set("lines_garbled", garbled as u32);
        let due = took.as_secs_f64() / STATUS_EVERY.as_secs_f64();
        facts.set("status_ratio", f64::from(status.count()) / due.max(1.0));
    }

    pub fn run<C>(facts: &Facts, collect: C)
    where
        C: AsyncFnOnce(Input, Status) -> Vec<String>,
    {
        println!(
            "{LINES} lines arrive in two pieces each; a reader ({} function) takes them and reports every 10 ms.",
            facts.the("collect")
        );
        runtime().block_on(measure(facts, collect));
        println!(
            "Lines lost: {}; pieces of lines returned as if they were lines: {}.",
            facts.get("lines_lost").unwrap_or(0.0),
            facts.get("lines_garbled").unwrap_or(0.0)
        );
    }

    pub fn piece<'a, C>(name: &'static str, collect: C) -> Piece<'a>
    where
        C: AsyncFnOnce(Input, Status) -> Vec<String> + 'a,
    {
        Piece::new(name, move |facts| run(facts, collect))
    }

    /// The exercise binary's `main`: judges the learner's `collect`.
    pub fn exercise<C>(collect: C) -> ExitCode
    where
        C: AsyncFnOnce(Input, Status) -> Vec<String>,
    {
        shared::lesson::main(
            "lesson-12",
            Variant::Exercise("lines"),
            vec![SPEC.with(vec![piece("", collect)])],
        )
    }
}

// --------------------------------------------------------------- handle --

/// How long the caller waits for an answer.
pub const DEADLINE: Duration = Duration::from_millis(50);
/// A job that answers in time.
pub const FAST_JOB: Duration = Duration::from_millis(20);
/// A job too slow for the deadline.
pub const SLOW_JOB: Duration = Duration::from_millis(200);

/// A job that takes a while, then does something that matters (sends an
/// email, say) and answers 42. The harness counts the emails.
#[derive(Clone)]
pub struct Job {
    takes: Duration,
    label: &'static str,
    emails: Arc<AtomicU32>,
}

impl Job {
    fn new(takes: Duration, label: &'static str) -> Job {
        Job {
            takes,
            label,
            emails: Arc::default(),
        }
    }

    /// The job itself, ready to be spawned or awaited.
    pub fn run(&self) -> impl Future<Output = u64> + Send + 'static {
        let (takes, emails) = (self.takes, self.emails.clone());
        async move {
            tokio::time::sleep(takes).await;
            emails.fetch_add(1, Ordering::Relaxed);
            shared::mark("the job sent its email");
            42
        }
        .traced(self.label)
    }

    fn emails(&self) -> u32 {
        self.emails.load(Ordering::Relaxed)
    }
}

/// The `handle` scenario: a caller that gives up on a slow job.
pub mod handle {
    use super::*;

    pub static SPEC: Spec = Spec {
        name: "handle",
        facts: &[
            fact(
                "fast_answered",
                "1 if the job that answers in time got its answer back",
            ),
            fact(
                "slow_answered",
                "1 if the too-slow job's answer came back anyway",
            ),
            fact(
                "deadline_ratio",
                "how long the caller waited for the slow job, over the 50 ms deadline",
            ),
            fact(
                "late_emails",
                "emails the slow job sent after its caller had given up on it",
            ),
        ],
    };

    /// Calls `ask` with a fast job and with a slow one, then waits to see
    /// whether the slow one still does its work.
    pub async fn measure<A>(facts: &Facts, ask: A)
    where
        A: AsyncFn(Job, Duration) -> Option<u64>,
    {
        let fast = Job::new(FAST_JOB, "fast job");
        let answer = ask(fast.clone(), DEADLINE).traced("caller").await;
        facts.set("fast_answered", u32::from(answer == Some(42)));

        let slow = Job::new(SLOW_JOB, "slow job");
        let asked = tokio::time::Instant::now(); // paused in the tests
        let answer = ask(slow.clone(), DEADLINE).traced("caller").await;
        let waited = asked.elapsed();
        let emails_then = slow.emails();
        facts.set("slow_answered", u32::from(answer.is_some()));
        facts.set(
            "deadline_ratio",
            waited.as_secs_f64() / DEADLINE.as_secs_f64(),
        );
        // Long enough for a job that was left running to finish.
        tokio::time::sleep(SLOW_JOB * 2).await;
        facts.set("late_emails", slow.emails() - emails_then);
    }

    pub fn run<A>(facts: &Facts, ask: A)
    where
        A: AsyncFn(Job, Duration) -> Option<u64>,
    {
        println!(
            "A caller ({} function) gives a job 50 ms to answer: a 20 ms job, then a 200 ms one.",
            facts.the("ask")
        );
        runtime().block_on(measure(facts, ask));
        println!(
            "It waited {:.1}× the deadline for the slow job; after it gave up, that job sent {} email(s).",
            facts.get("deadline_ratio").unwrap_or(0.0),
            facts.get("late_emails").unwrap_or(0.0)
        );
    }

    pub fn piece<'a, A>(name: &'static str, ask: A) -> Piece<'a>
    where
        A: AsyncFn(Job, Duration) -> Option<u64> + 'a,
    {
        Piece::new(name, move |facts| run(facts, ask))
    }

    /// The exercise binary's `main`: judges the learner's `ask`.
    pub fn exercise<A>(ask: A) -> ExitCode
    where
        A: AsyncFn(Job, Duration) -> Option<u64>,
    {
        shared::lesson::main(
            "lesson-12",
            Variant::Exercise("handle"),
            vec![SPEC.with(vec![piece("", ask)])],
        )
    }
}

// ----------------------------------------------------------------- stop --

/// Reads the sampling job makes when nobody stops it: a second's worth.
pub const READS: u32 = 100;
/// How long one sensor read blocks its thread.
pub const READ_TIME: Duration = Duration::from_millis(10);
/// When the program is asked to stop.
pub const STOP_AFTER: Duration = Duration::from_millis(100);

/// A sensor whose driver blocks for each read. The harness counts the
/// reads, and those begun after the stop was asked for.
#[derive(Clone)]
pub struct Sensor {
    read_time: Duration,
    stop_asked: CancellationToken,
    reads: Arc<AtomicU32>,
    after_stop: Arc<AtomicU32>,
}

impl Sensor {
    /// A sensor whose reads take `read_time`; `stop_asked` is the harness's
    /// own copy of the stop signal.
    pub fn new(read_time: Duration, stop_asked: CancellationToken) -> Sensor {
        Sensor {
            read_time,
            stop_asked,
            reads: Arc::default(),
            after_stop: Arc::default(),
        }
    }

    /// One reading. Blocks the thread for the sensor's read time.
    pub fn read(&self) -> u32 {
        if self.stop_asked.is_cancelled() {
            self.after_stop.fetch_add(1, Ordering::Relaxed);
        }
        shared::blocking("sensor read", || std::thread::sleep(self.read_time));
        self.reads.fetch_add(1, Ordering::Relaxed);
        7
    }

    /// Reads so far, and those begun after the stop.
    pub fn counts(&self) -> (u32, u32) {
        (
            self.reads.load(Ordering::Relaxed),
            self.after_stop.load(Ordering::Relaxed),
        )
    }
}

/// The `stop` scenario: a program asked to stop while a blocking job runs.
pub mod stop {
    use super::*;

    pub static SPEC: Spec = Spec {
        name: "stop",
        facts: &[
            fact(
                "stop_reads",
                "time from the stop request until the program had stopped, in sensor reads (10 ms each)",
            ),
            fact(
                "reads_after_stop",
                "sensor reads begun after the stop was asked for",
            ),
            fact(
                "reads_before_stop",
                "sensor reads made before the stop was asked for",
            ),
        ],
    };

    /// Starts `sample` on the blocking pool, asks it to stop after 100 ms,
    /// and measures how long the runtime takes to shut down.
    pub fn measure<S>(facts: &Facts, read_time: Duration, sample: S)
    where
        S: FnOnce(CancellationToken, Sensor) -> u32 + Send + 'static,
    {
        let stop = CancellationToken::new();
        let sensor = Sensor::new(read_time, stop.clone());
        let runtime = runtime();
        let (asked, before) = runtime.block_on(
            async {
                let (token, job_sensor) = (stop.clone(), sensor.clone());
                let job = tokio::task::spawn_blocking(move || sample(token, job_sensor));
                tokio::time::sleep(STOP_AFTER).await;
                let before = sensor.counts().0;
                stop.cancel(); // say, Ctrl-C was pressed
                shared::mark("stop asked for");
                drop(job); // main returns without waiting for the job
                (Instant::now(), before)
            }
            .traced("main"),
        );
        drop(runtime); // what leaving `#[tokio::main]` does: it waits
        let took = asked.elapsed();
        let (_, after) = sensor.counts();
        facts.set("stop_reads", took.as_secs_f64() / read_time.as_secs_f64());
        facts.set("reads_after_stop", after);
        facts.set("reads_before_stop", before);
    }

    pub fn run<S>(facts: &Facts, sample: S)
    where
        S: FnOnce(CancellationToken, Sensor) -> u32 + Send + 'static,
    {
        println!(
            "A blocking job ({} function) reads a sensor, 10 ms a read; after 100 ms the program is asked to stop.",
            facts.the("sample")
        );
        measure(facts, READ_TIME, sample);
        println!(
            "It took {:.0} reads' time to stop; {} read(s) began after the stop was asked for.",
            facts.get("stop_reads").unwrap_or(0.0),
            facts.get("reads_after_stop").unwrap_or(0.0)
        );
    }

    pub fn piece<'a, S>(name: &'static str, sample: S) -> Piece<'a>
    where
        S: FnOnce(CancellationToken, Sensor) -> u32 + Send + 'static,
    {
        Piece::new(name, move |facts| run(facts, sample))
    }

    /// The exercise binary's `main`: judges the learner's `sample`.
    pub fn exercise<S>(sample: S) -> ExitCode
    where
        S: FnOnce(CancellationToken, Sensor) -> u32 + Send + 'static,
    {
        shared::lesson::main(
            "lesson-12",
            Variant::Exercise("stop"),
            vec![SPEC.with(vec![piece("", sample)])],
        )
    }
}

// --------------------------------------------------------------- starve --

/// Items in the backlog.
pub const ITEMS: u64 = 4000;
/// CPU time for one item.
pub const ITEM_TIME: Duration = Duration::from_micros(50);
/// The heartbeat's period.
pub const TICK: Duration = Duration::from_millis(10);

/// Work waiting in memory: `next` is always ready at once, like a queue
/// that is never empty, a buffered reader with data, or an iterator.
pub struct Backlog {
    left: std::ops::Range<u64>,
}

impl Backlog {
    pub fn new(items: u64) -> Backlog {
        Backlog { left: 0..items }
    }

    /// The next item, or `None` at the end. Never waits.
    pub async fn next(&mut self) -> Option<u64> {
        self.left.next()
    }
}

/// One item's work: about 50 µs of computation.
pub fn work(item: u64) -> u64 {
    shared::work::cpu::burn(ITEM_TIME) ^ item
}

/// What one item's work returns apart from its number, computed once.
fn burn_value() -> u64 {
    static VALUE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *VALUE.get_or_init(|| shared::work::cpu::burn(ITEM_TIME))
}

/// The `starve` scenario: a busy loop beside a heartbeat, on one thread.
pub mod starve {
    use super::*;

    pub static SPEC: Spec = Spec {
        name: "starve",
        facts: &[
            fact(
                "heartbeat_lateness",
                "the heartbeat's worst lateness, in 10 ms ticks",
            ),
            fact(
                "neighbour_turns",
                "turns another task on the thread got while the loop ran",
            ),
            fact(
                "wrong_sum",
                "1 if the result was not every item's work combined",
            ),
        ],
    };

    /// Runs `process` on a current-thread runtime beside a heartbeat.
    pub fn measure<P>(facts: &Facts, items: u64, process: P)
    where
        P: AsyncFnOnce(Backlog) -> u64,
    {
        let expected = (0..items).fold(0u64, |sum, i| sum.wrapping_add(burn_value() ^ i));
        let (sum, lateness, turns) = runtime().block_on(async {
            let heartbeat = Heartbeat::spawn(TICK);
            tokio::time::sleep(TICK * 2).await;
            // A neighbour that counts its turns: a measure of how often the
            // loop let anyone else run, whatever the clock says.
            let turns = Arc::new(AtomicU32::new(0));
            let neighbour = tokio::spawn({
                let turns = turns.clone();
                async move {
                    loop {
                        turns.fetch_add(1, Ordering::Relaxed);
                        tokio::task::yield_now().await;
                    }
                }
            });
            tokio::task::yield_now().await; // its first turn, before the loop
            let before = turns.load(Ordering::Relaxed);
            let sum = process(Backlog::new(items)).traced("worker").await;
            let turns = turns.load(Ordering::Relaxed) - before;
            neighbour.abort();
            tokio::time::sleep(TICK * 2).await;
            (sum, heartbeat.worst_lateness_ratio(), turns)
        });
        facts.set("heartbeat_lateness", lateness);
        facts.set("neighbour_turns", turns);
        facts.set("wrong_sum", u32::from(sum != expected));
    }

    pub fn run<P>(facts: &Facts, process: P)
    where
        P: AsyncFnOnce(Backlog) -> u64,
    {
        println!(
            "A loop ({} function) works through {ITEMS} items of 50 µs each, beside a 10 ms heartbeat, on one thread.",
            facts.the("process")
        );
        measure(facts, ITEMS, process);
        println!(
            "The heartbeat was up to {:.1} ticks late.",
            facts.get("heartbeat_lateness").unwrap_or(0.0)
        );
    }

    pub fn piece<'a, P>(name: &'static str, process: P) -> Piece<'a>
    where
        P: AsyncFnOnce(Backlog) -> u64 + 'a,
    {
        Piece::new(name, move |facts| run(facts, process))
    }

    /// The exercise binary's `main`: judges the learner's `process`.
    pub fn exercise<P>(process: P) -> ExitCode
    where
        P: AsyncFnOnce(Backlog) -> u64,
    {
        shared::lesson::main(
            "lesson-12",
            Variant::Exercise("starve"),
            vec![SPEC.with(vec![piece("", process)])],
        )
    }
}
