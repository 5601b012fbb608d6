//! # Lesson 12: cancellation
//!
//! In async Rust, cancelling is dropping: a future that is dropped before it
//! completes simply never runs again. That is cheap and it is everywhere
//! (`select!` drops its losers, `timeout` drops what ran out of time), and
//! it surprises in four ways:
//!
//! - a future dropped halfway loses what it held (`lines`, and `frames`,
//!   the `lines` exercise, with records of a length and their bytes);
//! - dropping a task's `JoinHandle` does not cancel the task (`handle`);
//! - a job asked to stop, with a deadline, must end its own waits, finish
//!   what it has begun, and keep what it has taken: dropped at the
//!   deadline, it is cut at whichever `.await` it waits at (`stop`);
//! - a loop whose every `.await` is ready at once never gives its thread
//!   back, so nothing else on that thread runs, not even to cancel it
//!   (`starve`);
//! - of several spawned tasks raced for the first good answer, the losers
//!   run on unless each is aborted (`race`, the `handle` exercise).
//!
//! Each scenario's harness measures from outside the code under lesson,
//! under two workloads drawn from a seed when the program runs (printed
//! with the narration; `LESSON_SEED` replays a run), with data made at run
//! time, so that neither counting nor constants can stand in for the fix.

use shared::TraceExt;
use shared::lesson::{Facts, Piece, Spec, Variant, fact};
use shared::record::held::Held;
use shared::record::parked::Parked;
use shared::work::alive::{Alive, Census};
use shared::work::heartbeat::Heartbeat;
use shared::work::shape::{Rng, SEED_ENV, seed};
use std::cell::Cell;
use std::future::Future;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

/// This lesson's id, `lesson-12`: its package name.
pub const LESSON: &str = env!("CARGO_PKG_NAME");

/// A current-thread runtime with a timer, as the scenarios use.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime always builds")
}

/// A runtime as [`runtime`] builds it, and the time its thread spends
/// parked: idle, with nothing to poll until a wake-up comes. A spin (a task
/// that yields or wakes itself, again and again) never lets it park,
/// however busy the machine; waiting for a wake-up does.
fn watched_runtime() -> (tokio::runtime::Runtime, Parked) {
    let mut builder = tokio::runtime::Builder::new_current_thread();
    builder.enable_time();
    let parked = Parked::watch(&mut builder);
    let runtime = builder
        .build()
        .expect("a current-thread runtime always builds");
    (runtime, parked)
}

const APP_BUSY: &str = "the share of the run that the runtime was not parked (idle, waiting for a wake-up): small for a program that waits, near 1 for one kept busy by a spin, wherever the spin is";

/// The line that tells how to replay this run's workloads.
fn say_seed() {
    let seed = seed();
    println!("Workloads drawn from seed {seed} ({SEED_ENV}={seed} replays them).");
}

/// A number that depends on every bit of `x`: for data made at run time.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Of several ratios to an ideal of 1, the one farthest from it (0.5 is as
/// far as 2): the worst over the workloads, for a fact bounded on both
/// sides.
fn farthest_from_one(ratios: impl IntoIterator<Item = f64>) -> f64 {
    ratios.into_iter().fold(1.0, |worst: f64, r: f64| {
        if r.max(1e-9).ln().abs() > worst.ln().abs() {
            r
        } else {
            worst
        }
    })
}

// ---------------------------------------------------------------- lines --

/// How often the reader must report its progress.
pub const STATUS_EVERY: Duration = Duration::from_millis(10);

/// What the reader reads from: lines arriving over an in-memory pipe, in
/// pieces, as lines come off a slow network.
pub type Input = tokio::io::BufReader<tokio::io::DuplexStream>;

/// Where the reader reports its progress; the harness notes when each
/// report is made, and the count it gives, to check against the lines it
/// had sent by then. Only the harness makes one.
#[derive(Clone)]
pub struct Status {
    at: Arc<Mutex<Vec<(tokio::time::Instant, usize)>>>,
}

impl Status {
    fn new() -> Status {
        Status { at: Arc::default() }
    }

    /// Reports that `lines` lines have been read so far.
    pub fn report(&self, lines: usize) {
        let now = tokio::time::Instant::now();
        self.at
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((now, lines));
    }

    fn reports(&self) -> Vec<(tokio::time::Instant, usize)> {
        self.at.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
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

    // ANCHOR: broken_frames
    /// Reads one record: its length in 2 bytes, then that many bytes.
    async fn read_record(input: &mut Input) -> std::io::Result<String> {
        let len = input.read_u16().await?;
        let mut bytes = vec![0; usize::from(len)];
        input.read_exact(&mut bytes).await?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Reads records until the input ends, reporting every 10 ms.
    pub async fn collect_records(mut input: Input, status: Status) -> Vec<String> {
        let mut every = tokio::time::interval(STATUS_EVERY);
        let mut records = Vec::new();
        loop {
            tokio::select! {
                // BROKEN: when the timer wins, the bytes of the record
                // read so far are dropped with `read_record`'s future
                record = read_record(&mut input) => match record {
                    Ok(record) => records.push(record),
                    Err(_) => return records, // the input has ended
                },
                _ = every.tick() => status.report(records.len()),
            }
        }
    }
    // ANCHOR_END: broken_frames

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

    // ANCHOR: broken_race
    /// Downloads the file from every mirror at once, and answers with the
    /// checksum of the first good copy.
    pub async fn fastest(mirrors: Vec<Mirror>) -> u64 {
        let (done, mut results) = tokio::sync::mpsc::unbounded_channel();
        for mirror in &mirrors {
            let (done, download) = (done.clone(), mirror.run());
            tokio::spawn(async move {
                let _ = done.send(download.await);
            });
        }
        loop {
            let result = results.recv().await.expect("`done` is still here");
            if let Ok(checksum) = result {
                // BROKEN: returning drops the receiver, not the tasks:
                // every other download goes on, for nobody
                return checksum;
            }
        }
    }
    // ANCHOR_END: broken_race

    // ANCHOR: broken_stop
    /// Reads the sensor and writes the readings to the log, `BATCH` at a
    /// time, until it is stopped.
    pub async fn record(stop: CancellationToken, sensor: Sensor, log: Log) {
        let _ = stop; // BROKEN: nobody ever looks at it
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            batch.push(sensor.next().await);
            if batch.len() == BATCH {
                log.write(std::mem::take(&mut batch)).await;
            }
        }
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

    // ANCHOR: broken_halt
    /// Works through the backlog until it ends or `stop` is cancelled,
    /// and returns the sum of the work done.
    pub async fn process_until_stopped(mut backlog: Backlog, stop: CancellationToken) -> u64 {
        let all = async move {
            let mut sum: u64 = 0;
            while let Some(item) = backlog.next().await {
                sum = sum.wrapping_add(work(item));
            }
            sum
        };
        tokio::select! {
            // BROKEN: `all` never returns Pending, so the stop is never
            // looked at, and nothing else on the thread runs meanwhile
            sum = all => sum,
            _ = stop.cancelled() => 0,
        }
    }
    // ANCHOR_END: broken_halt
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

    // ANCHOR: fixed_frames
    /// The same, with the bytes read kept outside the race: `read_buf` is
    /// cancel-safe (it reads nothing unless it completes), and the bytes
    /// of a record not yet whole wait in `buf` for the next turn.
    pub async fn collect_records(mut input: Input, status: Status) -> Vec<String> {
        let mut every = tokio::time::interval(STATUS_EVERY);
        let mut buf: Vec<u8> = Vec::new(); // FIXED: outlives every turn
        let mut records = Vec::new();
        loop {
            tokio::select! {
                read = input.read_buf(&mut buf) => {
                    if read.expect("a pipe in memory does not fail") == 0 {
                        return records; // the input has ended
                    }
                    // Every record now whole in `buf`, in order.
                    while let [hi, lo, rest @ ..] = &buf[..] {
                        let len = usize::from(u16::from_be_bytes([*hi, *lo]));
                        if rest.len() < len {
                            break;
                        }
                        records.push(String::from_utf8_lossy(&rest[..len]).into_owned());
                        buf.drain(..2 + len);
                    }
                }
                _ = every.tick() => status.report(records.len()),
            }
        }
    }
    // ANCHOR_END: fixed_frames

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

    // ANCHOR: fixed_race
    /// The same, with the downloads in a `JoinSet`, which aborts the tasks
    /// still in it when it is dropped.
    pub async fn fastest(mirrors: Vec<Mirror>) -> u64 {
        let mut downloads = tokio::task::JoinSet::new();
        for mirror in &mirrors {
            downloads.spawn(mirror.run());
        }
        // Each download as it finishes, first come first served.
        while let Some(done) = downloads.join_next().await {
            if let Ok(checksum) = done.expect("a download does not panic") {
                // FIXED: returning drops `downloads`, which aborts every
                // task still in it
                return checksum;
            }
        }
        unreachable!("one mirror at least has the file")
    }
    // ANCHOR_END: fixed_race

    // ANCHOR: fixed_stop
    /// The same, stopping when asked: the wait for a reading ends at the
    /// stop, a write once begun is finished, and the readings in hand are
    /// written before it returns.
    pub async fn record(stop: CancellationToken, sensor: Sensor, log: Log) {
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            tokio::select! {
                // FIXED: the stop ends the wait; `next` is cancel-safe
                _ = stop.cancelled() => break,
                reading = sensor.next() => batch.push(reading),
            }
            if batch.len() == BATCH {
                // Not raced with the stop: a write dropped half-way would
                // leave half a batch in the log.
                log.write(std::mem::take(&mut batch)).await;
            }
        }
        if !batch.is_empty() {
            log.write(batch).await; // FIXED: what was taken is kept
        }
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

    // ANCHOR: fixed_halt
    /// The same, with the sum kept by the loop itself, which looks at the
    /// stop before each item and hands its thread back now and then.
    pub async fn process_until_stopped(mut backlog: Backlog, stop: CancellationToken) -> u64 {
        let mut sum: u64 = 0;
        while let Some(item) = backlog.next().await {
            if stop.is_cancelled() {
                break; // FIXED: an item taken, not worked, is not counted
            }
            sum = sum.wrapping_add(work(item));
            // FIXED: Pending once tokio's budget is spent
            tokio::task::coop::consume_budget().await;
        }
        sum
    }
    // ANCHOR_END: fixed_halt
}

/// The `lines` scenario: a `select!` loop over a line reader and a timer.
pub mod lines {
    use super::*;

    pub static SPEC: Spec = Spec {
        name: "lines",
        facts: &[
            fact(
                "lines_lost",
                "lines sent that the reader never returned whole, over both deliveries",
            ),
            fact(
                "lines_garbled",
                "lines returned that were never sent: pieces of lines, or lines run together",
            ),
            fact("lines_duplicated", "lines returned more than once"),
            fact(
                "status_gap",
                "the longest time the reader went without a progress report, in 10 ms ticks",
            )
            .timing(),
            fact(
                "status_ratio",
                "progress reports made over reports due, one per 10 ms, in the delivery farthest from 1",
            )
            .timing(),
            fact(
                "status_wrong",
                "progress reports whose count of lines was more than the lines sent by then, or fewer than the lines sent 50 ms before it",
            )
            .timing(),
            fact(
                "reader_polls",
                "polls of the reader per 10 ms tick of its run, in the delivery with the most: a handful for a reader that waits, thousands for one that spins",
            ),
            fact(
                "reader_asleep",
                "the time the reader's thread slept inside its polls (a blocking sleep, lock or wait), in 10 ms ticks, over both deliveries",
            )
            .timing(),
            fact("app_busy", APP_BUSY).timing(),
        ],
    };

    /// How far behind the lines sent a progress report may be: the lines
    /// the reader has, not those still in the pipe, and a busy machine can
    /// keep it from the last ones for a while.
    pub const STATUS_SLACK: Duration = Duration::from_millis(50);

    /// How the lines of one run arrive: what is written, and when.
    #[derive(Clone, Debug)]
    pub struct Delivery {
        /// What this delivery is, for the narration.
        pub name: String,
        /// Each write: how long to wait before it, and its bytes.
        writes: Vec<(Duration, Vec<u8>)>,
        /// The lines sent, without their newlines.
        sent: Vec<String>,
    }

    const WORDS: [&str; 16] = [
        "amber", "basalt", "cinder", "delta", "ember", "fjord", "granite", "harbour", "inlet",
        "juniper", "kelp", "lagoon", "moraine", "nettle", "oxbow", "pumice",
    ];

    /// Line `i` of a delivery: a salt no program can know beforehand, the
    /// line's number, and a few words, so that its length varies too.
    pub(crate) fn line(rng: &mut Rng, salt: u64, i: usize) -> String {
        let mut text = format!("{:08x}-{i:02}:", (salt ^ mix(i as u64)) as u32);
        for _ in 0..rng.between(2, 9) {
            text.push(' ');
            text.push_str(WORDS[rng.between(0, WORDS.len() as u64 - 1) as usize]);
        }
        text
    }

    /// Cuts `bytes` at `cuts` distinct points, in order.
    fn cut(rng: &mut Rng, bytes: &[u8], cuts: usize) -> Vec<Vec<u8>> {
        let mut at: Vec<usize> = Vec::new();
        while at.len() < cuts.min(bytes.len() - 1) {
            let c = rng.between(1, bytes.len() as u64 - 1) as usize;
            if !at.contains(&c) {
                at.push(c);
            }
        }
        at.sort_unstable();
        let mut pieces = Vec::new();
        let mut from = 0;
        for c in at.into_iter().chain([bytes.len()]) {
            pieces.push(bytes[from..c].to_vec());
            from = c;
        }
        pieces
    }

    impl Delivery {
        /// A trickle: each line in two or three pieces cut at random points,
        /// a few ms apart, and one line that stalls for longer than a tick.
        pub fn trickle(rng: &mut Rng) -> Delivery {
            let salt = rng.salt();
            let count = rng.between(8, 12) as usize;
            let slow = rng.between(0, count as u64 - 1) as usize;
            let mut writes = Vec::new();
            let mut sent = Vec::new();
            for i in 0..count {
                let text = line(rng, salt, i);
                let bytes = format!("{text}\n").into_bytes();
                sent.push(text);
                let cuts = rng.between(1, 2) as usize;
                let pieces = cut(rng, &bytes, cuts);
                for (p, piece) in pieces.into_iter().enumerate() {
                    let wait = match p {
                        0 => rng.duration_between(ms(2), ms(8)),
                        // A tick surely falls inside this stall.
                        1 if i == slow => rng.duration_between(ms(12), ms(16)),
                        _ => rng.duration_between(ms(3), ms(8)),
                    };
                    writes.push((wait, piece));
                }
            }
            Delivery {
                name: format!(
                    "a trickle: {count} lines, each in 2 or 3 pieces cut at random, 3 to 8 ms apart (one 12 to 16 ms)"
                ),
                writes,
                sent,
            }
        }

        /// Bursts: a few whole lines at once and the start of the next,
        /// then a pause (one of them long) before the rest.
        pub fn bursts(rng: &mut Rng) -> Delivery {
            let salt = rng.salt();
            let bursts = rng.between(4, 6) as usize;
            let long = rng.between(0, bursts as u64 - 1) as usize;
            let mut writes = Vec::new();
            let mut sent = Vec::new();
            let mut carry: Vec<u8> = Vec::new();
            let mut wait = Duration::ZERO;
            for b in 0..bursts {
                let mut burst = std::mem::take(&mut carry);
                for _ in 0..rng.between(2, 6) {
                    let text = line(rng, salt, sent.len());
                    burst.extend_from_slice(format!("{text}\n").as_bytes());
                    sent.push(text);
                }
                // The start of one more line, whose end waits for the pause.
                let text = line(rng, salt, sent.len());
                let bytes = format!("{text}\n").into_bytes();
                sent.push(text);
                let split = rng.between(1, bytes.len() as u64 - 2) as usize;
                burst.extend_from_slice(&bytes[..split]);
                carry = bytes[split..].to_vec();
                writes.push((wait, burst));
                wait = if b == long {
                    rng.duration_between(ms(80), ms(100))
                } else {
                    rng.duration_between(ms(12), ms(25))
                };
            }
            writes.push((wait, carry));
            Delivery {
                name: format!(
                    "bursts: {bursts} bursts of 3 to 7 lines, the last cut short, then a pause of 12 to 25 ms (one of 80 to 100 ms)"
                ),
                writes,
                sent,
            }
        }

        /// Lines sent.
        pub fn len(&self) -> usize {
            self.sent.len()
        }

        pub fn is_empty(&self) -> bool {
            self.sent.is_empty()
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// This run's two deliveries, drawn from `rng`.
    pub fn deliveries(rng: &mut Rng) -> Vec<Delivery> {
        vec![Delivery::trickle(rng), Delivery::bursts(rng)]
    }

    /// One write, as the sender made it: when it began, when it had
    /// written its bytes, and the lines sent whole once it had.
    #[derive(Clone, Copy, Debug)]
    pub(crate) struct Sent {
        pub(crate) began: tokio::time::Instant,
        pub(crate) ended: tokio::time::Instant,
        pub(crate) whole: usize,
    }

    async fn send(
        mut pipe: tokio::io::DuplexStream,
        writes: Vec<(Duration, Vec<u8>)>,
    ) -> Vec<Sent> {
        let mut sent = Vec::new();
        let mut whole = 0;
        for (wait, bytes) in writes {
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            let began = tokio::time::Instant::now();
            // A reader that gave up early has closed its end: nothing to do.
            if pipe.write_all(&bytes).await.is_err() {
                break;
            }
            whole += bytes.iter().filter(|&&b| b == b'\n').count();
            sent.push(Sent {
                began,
                ended: tokio::time::Instant::now(),
                whole,
            });
        }
        // Dropping the pipe's end is the end of the input.
        sent
    }

    /// Reports whose count is more than the lines whose writing had begun
    /// when it was made (no reader can have read them), or fewer than the
    /// lines written whole [`STATUS_SLACK`] before it.
    pub(crate) fn wrong_reports(sent: &[Sent], reports: &[(tokio::time::Instant, usize)]) -> u32 {
        reports
            .iter()
            .filter(|&&(at, count)| {
                let most = sent
                    .iter()
                    .filter(|s| s.began <= at)
                    .map(|s| s.whole)
                    .max()
                    .unwrap_or(0);
                let least = sent
                    .iter()
                    .filter(|s| s.ended + STATUS_SLACK <= at)
                    .map(|s| s.whole)
                    .max()
                    .unwrap_or(0);
                count > most || count < least
            })
            .count() as u32
    }

    /// What came back, against what was sent: lines never returned whole,
    /// lines returned that were never sent, and extra copies of lines.
    pub fn compare(sent: &[String], got: &[String]) -> (u32, u32, u32) {
        let mut seen = vec![0u32; sent.len()];
        let mut garbled = 0;
        for g in got {
            let g = g.trim_end_matches(['\n', '\r']);
            match sent.iter().position(|s| s == g) {
                Some(i) => seen[i] += 1,
                None => garbled += 1,
            }
        }
        let lost = seen.iter().filter(|&&n| n == 0).count() as u32;
        let duplicated = seen.iter().map(|&n| n.saturating_sub(1)).sum();
        (lost, garbled, duplicated)
    }

    /// What one delivery measured.
    #[derive(Clone, Debug)]
    pub struct Measured {
        pub lost: u32,
        pub garbled: u32,
        pub duplicated: u32,
        /// The longest time without a report, in ticks.
        pub gap: f64,
        /// Reports made over reports due.
        pub ratio: f64,
        /// Reports whose count was not the lines the reader could have had.
        pub wrong_reports: u32,
        /// Polls of the reader per tick of its run.
        pub polls: f64,
        /// Time its thread slept inside its polls, in ticks.
        pub asleep: f64,
    }

    /// Feeds one delivery to `collect` and checks what comes back.
    pub async fn measure_one<C>(delivery: &Delivery, collect: &C) -> Measured
    where
        C: AsyncFn(Input, Status) -> Vec<String>,
    {
        let (sending, receiving) = tokio::io::duplex(64 * 1024);
        let status = Status::new();
        let held = Held::new();
        // tokio's clock: the tests run this on paused time.
        let started = tokio::time::Instant::now();
        let sender = tokio::spawn(send(sending, delivery.writes.clone()).traced("sender"));
        let got = held
            .wrap(collect(tokio::io::BufReader::new(receiving), status.clone()).traced("reader"))
            .await;
        let ended = tokio::time::Instant::now();
        let sent = sender.await.expect("the sender does not panic");
        let (lost, garbled, duplicated) = compare(&delivery.sent, &got);
        // Reports made while the reader ran; the gaps between them, and
        // from its start and to its end.
        let reports: Vec<_> = status
            .reports()
            .into_iter()
            .filter(|(t, _)| *t <= ended)
            .collect();
        let wrong_reports = wrong_reports(&sent, &reports);
        let mut times: Vec<_> = reports.into_iter().map(|(t, _)| t).collect();
        times.sort_unstable();
        let reports = times.len();
        let mut gap = Duration::ZERO;
        let mut last = started;
        for t in times.into_iter().chain([ended]) {
            gap = gap.max(t.saturating_duration_since(last));
            last = t;
        }
        let took = ended - started;
        let due = (took.as_secs_f64() / STATUS_EVERY.as_secs_f64()).max(1.0);
        Measured {
            lost,
            garbled,
            duplicated,
            gap: gap.as_secs_f64() / STATUS_EVERY.as_secs_f64(),
            ratio: reports as f64 / due,
            wrong_reports,
            polls: held.polls() as f64 / due,
            asleep: held.asleep().as_secs_f64() / STATUS_EVERY.as_secs_f64(),
        }
    }

    /// Feeds each delivery to `collect`, and sets the facts: counts summed
    /// over the deliveries, times the worst of them.
    pub async fn measure<C>(facts: &Facts, deliveries: &[Delivery], collect: C) -> Vec<Measured>
    where
        C: AsyncFn(Input, Status) -> Vec<String>,
    {
        let mut all = Vec::new();
        for delivery in deliveries {
            all.push(measure_one(delivery, &collect).await);
        }
        facts.set("lines_lost", all.iter().map(|m| m.lost).sum::<u32>());
        facts.set("lines_garbled", all.iter().map(|m| m.garbled).sum::<u32>());
        facts.set(
            "lines_duplicated",
            all.iter().map(|m| m.duplicated).sum::<u32>(),
        );
        facts.set("status_gap", all.iter().map(|m| m.gap).fold(0.0, f64::max));
        facts.set(
            "status_ratio",
            farthest_from_one(all.iter().map(|m| m.ratio)),
        );
        facts.set(
            "status_wrong",
            all.iter().map(|m| m.wrong_reports).sum::<u32>(),
        );
        facts.set(
            "reader_polls",
            all.iter().map(|m| m.polls).fold(0.0, f64::max),
        );
        facts.set("reader_asleep", all.iter().map(|m| m.asleep).sum::<f64>());
        all
    }

    /// [`measure`] in real time, on a runtime of its own whose parking is
    /// watched: sets `app_busy` too.
    pub fn measure_watched<C>(facts: &Facts, deliveries: &[Delivery], collect: C) -> Vec<Measured>
    where
        C: AsyncFn(Input, Status) -> Vec<String>,
    {
        let (runtime, parked) = watched_runtime();
        let (measured, busy) =
            parked.busy(|| runtime.block_on(measure(facts, deliveries, collect)));
        facts.set("app_busy", busy);
        measured
    }

    pub fn run<C>(facts: &Facts, collect: C)
    where
        C: AsyncFn(Input, Status) -> Vec<String>,
    {
        println!(
            "A reader ({} function) takes lines that arrive in pieces, and reports its progress every 10 ms.",
            facts.the("collect")
        );
        say_seed();
        let deliveries = deliveries(&mut Rng::for_scenario("lines"));
        for (i, d) in deliveries.iter().enumerate() {
            println!("Delivery {}: {}.", i + 1, d.name);
        }
        let measured = measure_watched(facts, &deliveries, collect);
        for (i, (d, m)) in deliveries.iter().zip(&measured).enumerate() {
            println!(
                "Delivery {}: of {} lines, {} lost, {} pieces returned as lines, {} duplicated; at most {:.1} ticks without a report, {} report(s) with a count the reader could not have had; {:.1} polls a tick.",
                i + 1,
                d.len(),
                m.lost,
                m.garbled,
                m.duplicated,
                m.gap,
                m.wrong_reports,
                m.polls
            );
        }
    }

    pub fn piece<'a, C>(name: &'static str, collect: C) -> Piece<'a>
    where
        C: AsyncFn(Input, Status) -> Vec<String> + 'a,
    {
        Piece::new(name, move |facts| run(facts, collect))
    }

    /// The exercise binary's `main`: judges the learner's `collect`.
    pub fn exercise<C>(collect: C) -> ExitCode
    where
        C: AsyncFn(Input, Status) -> Vec<String>,
    {
        shared::lesson::main(
            LESSON,
            Variant::Exercise("lines"),
            vec![SPEC.with(vec![piece("", collect)])],
        )
    }
}

// --------------------------------------------------------------- frames --

/// The `frames` scenario: a `select!` loop over a reader of records, each
/// a 2-byte length then that many bytes, and a timer.
pub mod frames {
    use super::lines::{Sent, compare, line, wrong_reports};
    use super::*;

    pub static SPEC: Spec = Spec {
        name: "frames",
        facts: &[
            fact(
                "records_lost",
                "records sent that the reader never returned whole, over both deliveries",
            ),
            fact(
                "records_garbled",
                "records returned that were never sent: pieces of records, or bytes read as a length that was not one",
            ),
            fact("records_duplicated", "records returned more than once"),
            fact(
                "status_gap",
                "the longest time the reader went without a progress report, in 10 ms ticks",
            )
            .timing(),
            fact(
                "status_ratio",
                "progress reports made over reports due, one per 10 ms, in the delivery farthest from 1",
            )
            .timing(),
            fact(
                "status_wrong",
                "progress reports whose count of records was more than the records sent by then, or fewer than the records sent 50 ms before it",
            )
            .timing(),
            fact(
                "reader_polls",
                "polls of the reader per 10 ms tick of its run, in the delivery with the most: a handful for a reader that waits, thousands for one that spins",
            ),
            fact(
                "reader_asleep",
                "the time the reader's thread slept inside its polls (a blocking sleep, lock or wait), in 10 ms ticks, over both deliveries",
            )
            .timing(),
            fact("app_busy", APP_BUSY).timing(),
        ],
    };

    /// How the records of one run arrive: what is written, and when.
    #[derive(Clone, Debug)]
    pub struct Delivery {
        /// What this delivery is, for the narration.
        pub name: String,
        /// Each write: how long to wait before it, its bytes, and the
        /// records sent whole once it is written.
        writes: Vec<(Duration, Vec<u8>, usize)>,
        /// The records sent, as text.
        sent: Vec<String>,
    }

    /// A record as it goes over the pipe: its length in 2 bytes,
    /// big-endian, then its bytes.
    fn framed(text: &str) -> Vec<u8> {
        let mut bytes = (text.len() as u16).to_be_bytes().to_vec();
        bytes.extend_from_slice(text.as_bytes());
        bytes
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    impl Delivery {
        /// A trickle: each record in two or three pieces cut at random
        /// points, 2 to 8 ms apart; one record stops for 12 to 16 ms after
        /// the first byte of its length, another in the middle of its
        /// bytes, so a tick surely falls inside each.
        pub fn trickle(rng: &mut Rng) -> Delivery {
            let salt = rng.salt();
            let count = rng.between(8, 12) as usize;
            let in_length = rng.between(0, count as u64 - 1) as usize;
            let in_body = (in_length + rng.between(1, count as u64 - 1) as usize) % count;
            let mut writes = Vec::new();
            let mut sent = Vec::new();
            for i in 0..count {
                let text = line(rng, salt, i);
                let bytes = framed(&text);
                sent.push(text);
                let stall = if i == in_length {
                    Some(1)
                } else if i == in_body {
                    Some(rng.between(3, bytes.len() as u64 - 2) as usize)
                } else {
                    None
                };
                let mut cuts: Vec<usize> = stall.into_iter().collect();
                let pieces = rng.between(2, 3) as usize;
                while cuts.len() < pieces - 1 {
                    let c = rng.between(1, bytes.len() as u64 - 1) as usize;
                    if !cuts.contains(&c) {
                        cuts.push(c);
                    }
                }
                cuts.sort_unstable();
                let mut from = 0;
                for c in cuts.into_iter().chain([bytes.len()]) {
                    let wait = if from == 0 {
                        rng.duration_between(ms(2), ms(8))
                    } else if stall == Some(from) {
                        rng.duration_between(ms(12), ms(16))
                    } else {
                        rng.duration_between(ms(3), ms(8))
                    };
                    let whole = if c == bytes.len() { i + 1 } else { i };
                    writes.push((wait, bytes[from..c].to_vec(), whole));
                    from = c;
                }
            }
            Delivery {
                name: format!(
                    "a trickle: {count} records, each in 2 or 3 pieces cut at random, 2 to 8 ms apart (one stopping after the first byte of its length, one in the middle of its bytes, for 12 to 16 ms)"
                ),
                writes,
                sent,
            }
        }

        /// Bursts: a few whole records at once and the start of the next,
        /// then a pause (one of them long) before the rest.
        pub fn bursts(rng: &mut Rng) -> Delivery {
            let salt = rng.salt();
            let bursts = rng.between(4, 6) as usize;
            let long = rng.between(0, bursts as u64 - 1) as usize;
            let mut writes = Vec::new();
            let mut sent: Vec<String> = Vec::new();
            let mut carry: Vec<u8> = Vec::new();
            let mut wait = Duration::ZERO;
            for b in 0..bursts {
                let mut burst = std::mem::take(&mut carry);
                for _ in 0..rng.between(2, 6) {
                    let text = line(rng, salt, sent.len());
                    burst.extend_from_slice(&framed(&text));
                    sent.push(text);
                }
                let whole = sent.len();
                // The start of one more record, whose end waits for the
                // pause.
                let text = line(rng, salt, sent.len());
                let bytes = framed(&text);
                sent.push(text);
                let split = rng.between(1, bytes.len() as u64 - 1) as usize;
                burst.extend_from_slice(&bytes[..split]);
                carry = bytes[split..].to_vec();
                writes.push((wait, burst, whole));
                wait = if b == long {
                    rng.duration_between(ms(80), ms(100))
                } else {
                    rng.duration_between(ms(12), ms(25))
                };
            }
            writes.push((wait, carry, sent.len()));
            Delivery {
                name: format!(
                    "bursts: {bursts} bursts of 3 to 7 records, the last cut short, then a pause of 12 to 25 ms (one of 80 to 100 ms)"
                ),
                writes,
                sent,
            }
        }

        /// Records sent.
        pub fn len(&self) -> usize {
            self.sent.len()
        }

        pub fn is_empty(&self) -> bool {
            self.sent.is_empty()
        }
    }

    /// This run's two deliveries, drawn from `rng`.
    pub fn deliveries(rng: &mut Rng) -> Vec<Delivery> {
        vec![Delivery::trickle(rng), Delivery::bursts(rng)]
    }

    async fn send(
        mut pipe: tokio::io::DuplexStream,
        writes: Vec<(Duration, Vec<u8>, usize)>,
    ) -> Vec<Sent> {
        let mut sent = Vec::new();
        for (wait, bytes, whole) in writes {
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            let began = tokio::time::Instant::now();
            // A reader that gave up early has closed its end: nothing to do.
            if pipe.write_all(&bytes).await.is_err() {
                break;
            }
            sent.push(Sent {
                began,
                ended: tokio::time::Instant::now(),
                whole,
            });
        }
        // Dropping the pipe's end is the end of the input.
        sent
    }

    /// What one delivery measured.
    #[derive(Clone, Debug)]
    pub struct Measured {
        pub lost: u32,
        pub garbled: u32,
        pub duplicated: u32,
        /// The longest time without a report, in ticks.
        pub gap: f64,
        /// Reports made over reports due.
        pub ratio: f64,
        /// Reports whose count was not the records the reader could have
        /// had.
        pub wrong_reports: u32,
        /// Polls of the reader per tick of its run.
        pub polls: f64,
        /// Time its thread slept inside its polls, in ticks.
        pub asleep: f64,
    }

    /// Feeds one delivery to `collect` and checks what comes back.
    pub async fn measure_one<C>(delivery: &Delivery, collect: &C) -> Measured
    where
        C: AsyncFn(Input, Status) -> Vec<String>,
    {
        let (sending, receiving) = tokio::io::duplex(64 * 1024);
        let status = Status::new();
        let held = Held::new();
        // tokio's clock: the tests run this on paused time.
        let started = tokio::time::Instant::now();
        let sender = tokio::spawn(send(sending, delivery.writes.clone()).traced("sender"));
        let got = held
            .wrap(collect(tokio::io::BufReader::new(receiving), status.clone()).traced("reader"))
            .await;
        let ended = tokio::time::Instant::now();
        let sent = sender.await.expect("the sender does not panic");
        let (lost, garbled, duplicated) = compare(&delivery.sent, &got);
        let reports: Vec<_> = status
            .reports()
            .into_iter()
            .filter(|(t, _)| *t <= ended)
            .collect();
        let wrong_reports = wrong_reports(&sent, &reports);
        let mut times: Vec<_> = reports.into_iter().map(|(t, _)| t).collect();
        times.sort_unstable();
        let reports = times.len();
        let mut gap = Duration::ZERO;
        let mut last = started;
        for t in times.into_iter().chain([ended]) {
            gap = gap.max(t.saturating_duration_since(last));
            last = t;
        }
        let took = ended - started;
        let due = (took.as_secs_f64() / STATUS_EVERY.as_secs_f64()).max(1.0);
        Measured {
            lost,
            garbled,
            duplicated,
            gap: gap.as_secs_f64() / STATUS_EVERY.as_secs_f64(),
            ratio: reports as f64 / due,
            wrong_reports,
            polls: held.polls() as f64 / due,
            asleep: held.asleep().as_secs_f64() / STATUS_EVERY.as_secs_f64(),
        }
    }

    /// Feeds each delivery to `collect`, and sets the facts: counts summed
    /// over the deliveries, times the worst of them.
    pub async fn measure<C>(facts: &Facts, deliveries: &[Delivery], collect: C) -> Vec<Measured>
    where
        C: AsyncFn(Input, Status) -> Vec<String>,
    {
        let mut all = Vec::new();
        for delivery in deliveries {
            all.push(measure_one(delivery, &collect).await);
        }
        facts.set("records_lost", all.iter().map(|m| m.lost).sum::<u32>());
        facts.set(
            "records_garbled",
            all.iter().map(|m| m.garbled).sum::<u32>(),
        );
        facts.set(
            "records_duplicated",
            all.iter().map(|m| m.duplicated).sum::<u32>(),
        );
        facts.set("status_gap", all.iter().map(|m| m.gap).fold(0.0, f64::max));
        facts.set(
            "status_ratio",
            farthest_from_one(all.iter().map(|m| m.ratio)),
        );
        facts.set(
            "status_wrong",
            all.iter().map(|m| m.wrong_reports).sum::<u32>(),
        );
        facts.set(
            "reader_polls",
            all.iter().map(|m| m.polls).fold(0.0, f64::max),
        );
        facts.set("reader_asleep", all.iter().map(|m| m.asleep).sum::<f64>());
        all
    }

    /// [`measure`] in real time, on a runtime of its own whose parking is
    /// watched: sets `app_busy` too.
    pub fn measure_watched<C>(facts: &Facts, deliveries: &[Delivery], collect: C) -> Vec<Measured>
    where
        C: AsyncFn(Input, Status) -> Vec<String>,
    {
        let (runtime, parked) = watched_runtime();
        let (measured, busy) =
            parked.busy(|| runtime.block_on(measure(facts, deliveries, collect)));
        facts.set("app_busy", busy);
        measured
    }

    pub fn run<C>(facts: &Facts, collect: C)
    where
        C: AsyncFn(Input, Status) -> Vec<String>,
    {
        println!(
            "A reader ({} function) takes records (a 2-byte length, then the record's bytes) that arrive in pieces, and reports its progress every 10 ms.",
            facts.the("collect")
        );
        say_seed();
        let deliveries = deliveries(&mut Rng::for_scenario("frames"));
        for (i, d) in deliveries.iter().enumerate() {
            println!("Delivery {}: {}.", i + 1, d.name);
        }
        let measured = measure_watched(facts, &deliveries, collect);
        for (i, (d, m)) in deliveries.iter().zip(&measured).enumerate() {
            println!(
                "Delivery {}: of {} records, {} lost, {} returned that were never sent, {} duplicated; at most {:.1} ticks without a report, {} report(s) with a count the reader could not have had; {:.1} polls a tick.",
                i + 1,
                d.len(),
                m.lost,
                m.garbled,
                m.duplicated,
                m.gap,
                m.wrong_reports,
                m.polls
            );
        }
    }

    pub fn piece<'a, C>(name: &'static str, collect: C) -> Piece<'a>
    where
        C: AsyncFn(Input, Status) -> Vec<String> + 'a,
    {
        Piece::new(name, move |facts| run(facts, collect))
    }

    /// The exercise binary's `main`: judges the learner's `collect`.
    pub fn exercise<C>(collect: C) -> ExitCode
    where
        C: AsyncFn(Input, Status) -> Vec<String>,
    {
        shared::lesson::main(
            LESSON,
            Variant::Exercise("lines"),
            vec![SPEC.with(vec![piece("", collect)])],
        )
    }
}

// --------------------------------------------------------------- handle --

/// A job that takes a while, then does something that matters (sends an
/// email, say) and answers with its result, which no program can know
/// before the job has run. The harness counts the emails, and how many of
/// the job's runs are still alive: made and neither finished nor dropped.
#[derive(Clone)]
pub struct Job {
    takes: Duration,
    answer: u64,
    label: &'static str,
    record: Arc<JobRecord>,
}

struct JobRecord {
    emails: AtomicU32,
    runs: Census,
}

impl Job {
    fn new(takes: Duration, answer: u64, label: &'static str) -> Job {
        Job {
            takes,
            answer,
            label,
            record: Arc::new(JobRecord {
                emails: AtomicU32::new(0),
                runs: Census::new(),
            }),
        }
    }

    /// The job itself, ready to be spawned or awaited.
    pub fn run(&self) -> impl Future<Output = u64> + Send + 'static {
        let (takes, answer, record) = (self.takes, self.answer, self.record.clone());
        // Alive from now until this run finishes or is dropped, wherever
        // it is kept: a task, a JoinSet, a Vec.
        let alive: Alive<()> = self.record.runs.make(());
        async move {
            let _alive = alive;
            tokio::time::sleep(takes).await;
            record.emails.fetch_add(1, Ordering::Relaxed);
            shared::mark("the job sent its email");
            answer
        }
        .traced(self.label)
    }

    fn emails(&self) -> u32 {
        self.record.emails.load(Ordering::Relaxed)
    }

    /// Runs of this job not yet finished nor dropped.
    fn running(&self) -> u64 {
        self.record.runs.alive()
    }
}

/// The `handle` scenario: a caller that gives up on slow jobs.
pub mod handle {
    use super::*;

    pub static SPEC: Spec = Spec {
        name: "handle",
        facts: &[
            fact(
                "fast_unanswered",
                "jobs that finish in time whose own answer did not come back",
            ),
            fact(
                "slow_answered",
                "too-slow jobs for which an answer came back anyway",
            ),
            fact(
                "deadline_ratio",
                "how long the caller waited for a too-slow job, over its deadline, the wait farthest from 1",
            )
            .timing(),
            fact(
                "left_running",
                "too-slow jobs still running, neither finished nor dropped, just after the caller gave up on them",
            ),
            fact(
                "late_emails",
                "emails the too-slow jobs sent after their caller had given up on them",
            ),
            fact(
                "caller_held",
                "the longest the caller held its thread in one poll by its own doing (computing, or asleep in a blocking call; not the time a busy machine paused it), over the deadline",
            )
            .timing(),
            fact(
                "caller_polls",
                "polls of one call of the caller, the call with the most: a few for a caller that awaits, thousands for one that spins",
            ),
            fact(
                "caller_asleep",
                "the time the caller's thread slept inside its polls during one call (a blocking sleep or wait), over the deadline, the call with the most",
            )
            .timing(),
            fact("app_busy", APP_BUSY).timing(),
        ],
    };

    /// One call of `ask`: the deadline it is given, and how long its job
    /// takes. A job that takes less than its deadline must be answered.
    #[derive(Clone, Debug)]
    pub struct Call {
        pub deadline: Duration,
        pub takes: Duration,
        answer: u64,
    }

    impl Call {
        pub fn fast(&self) -> bool {
            self.takes < self.deadline
        }
    }

    /// Calls made one after another, or all at once.
    #[derive(Clone, Debug)]
    pub struct Round {
        pub name: String,
        pub at_once: bool,
        pub calls: Vec<Call>,
    }

    /// Moments after the caller has given up, when a cancelled job must be
    /// gone: an aborted task is dropped at the runtime's next turn.
    const GRACE: Duration = Duration::from_millis(2);

    fn calls(rng: &mut Rng, fast: u64, slow: u64) -> Vec<Call> {
        let mut calls: Vec<Call> = (0..fast + slow)
            .map(|i| {
                let deadline = rng.duration_between(ms(40), ms(80));
                // Fast jobs leave the caller most of its deadline to spare,
                // so that a busy machine cannot make them late.
                let takes = if i < fast {
                    rng.duration_between(ms(2), deadline / 4)
                } else {
                    rng.duration_between(deadline * 5 / 2, deadline * 7 / 2)
                };
                Call {
                    deadline,
                    takes,
                    answer: rng.salt(),
                }
            })
            .collect();
        rng.shuffle(&mut calls);
        calls
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// This run's two rounds, drawn from `rng`: calls one at a time (one or
    /// two of each kind, in a random order), then several at once.
    pub fn rounds(rng: &mut Rng) -> Vec<Round> {
        let (fast, slow) = (rng.between(1, 2), rng.between(1, 2));
        let one_by_one = calls(rng, fast, slow);
        let (fast, slow) = (rng.between(2, 3), rng.between(2, 3));
        let at_once = calls(rng, fast, slow);
        let describe = |calls: &[Call]| {
            calls
                .iter()
                .map(|c| {
                    format!(
                        "{} ms ({})",
                        c.takes.as_millis(),
                        if c.fast() { "fast" } else { "too slow" }
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        vec![
            Round {
                name: format!("one at a time, jobs of {}", describe(&one_by_one)),
                at_once: false,
                calls: one_by_one,
            },
            Round {
                name: format!("all at once, jobs of {}", describe(&at_once)),
                at_once: true,
                calls: at_once,
            },
        ]
    }

    /// What one call did.
    struct Answered {
        call: Call,
        job: Job,
        answer: Option<u64>,
        waited: Duration,
        held: Duration,
        polls: u64,
        asleep: Duration,
        emails_then: u32,
        running: u64,
    }

    async fn call<A>(ask: &A, call: &Call) -> Answered
    where
        A: AsyncFn(Job, Duration) -> Option<u64>,
    {
        let label = if call.fast() { "fast job" } else { "slow job" };
        let job = Job::new(call.takes, call.answer, label);
        let held = Held::new();
        let asked = tokio::time::Instant::now(); // paused in the tests
        let answer = held
            .wrap(ask(job.clone(), call.deadline).traced("caller"))
            .await;
        let waited = asked.elapsed();
        let emails_then = job.emails();
        tokio::time::sleep(GRACE).await;
        Answered {
            call: call.clone(),
            running: job.running(),
            job,
            answer,
            waited,
            held: held.own_longest(),
            polls: held.polls(),
            asleep: held.asleep(),
            emails_then,
        }
    }

    /// What a round measured.
    pub struct Measured {
        pub fast_unanswered: u32,
        pub slow_answered: u32,
        /// Each too-slow job's wait over its deadline.
        pub waits: Vec<f64>,
        pub left_running: u32,
        pub late_emails: u32,
        pub held: f64,
        /// The most polls of one call.
        pub polls: u64,
        /// The most time asleep in one call's polls, over its deadline.
        pub asleep: f64,
    }

    /// Makes a round's calls, then waits to see whether the too-slow jobs
    /// still do their work.
    pub async fn measure_one<A>(round: &Round, ask: &A) -> Measured
    where
        A: AsyncFn(Job, Duration) -> Option<u64>,
    {
        let answered: Vec<Answered> = if round.at_once {
            // Each call is polled only when it is woken, so its polls are
            // its own.
            use futures::StreamExt;
            let calls: futures::stream::FuturesUnordered<_> =
                round.calls.iter().map(|c| call(ask, c)).collect();
            calls.collect().await
        } else {
            let mut all = Vec::new();
            for c in &round.calls {
                all.push(call(ask, c).await);
            }
            all
        };
        // A job left running sends its email when its time is up.
        if answered.iter().any(|a| a.job.running() > 0) {
            let longest = round.calls.iter().map(|c| c.takes).max();
            tokio::time::sleep(longest.unwrap_or_default() + ms(20)).await;
        }
        let (fast, slow): (Vec<&Answered>, Vec<&Answered>) =
            answered.iter().partition(|a| a.call.fast());
        Measured {
            fast_unanswered: fast
                .iter()
                .filter(|a| a.answer != Some(a.call.answer))
                .count() as u32,
            slow_answered: slow.iter().filter(|a| a.answer.is_some()).count() as u32,
            waits: slow
                .iter()
                .map(|a| a.waited.as_secs_f64() / a.call.deadline.as_secs_f64())
                .collect(),
            left_running: slow.iter().filter(|a| a.running > 0).count() as u32,
            late_emails: slow.iter().map(|a| a.job.emails() - a.emails_then).sum(),
            held: answered
                .iter()
                .map(|a| a.held.as_secs_f64() / a.call.deadline.as_secs_f64())
                .fold(0.0, f64::max),
            polls: answered.iter().map(|a| a.polls).max().unwrap_or(0),
            asleep: answered
                .iter()
                .map(|a| a.asleep.as_secs_f64() / a.call.deadline.as_secs_f64())
                .fold(0.0, f64::max),
        }
    }

    /// Makes each round's calls, and sets the facts: counts summed over
    /// the rounds, times the worst of them.
    pub async fn measure<A>(facts: &Facts, rounds: &[Round], ask: A) -> Vec<Measured>
    where
        A: AsyncFn(Job, Duration) -> Option<u64>,
    {
        let mut all = Vec::new();
        for round in rounds {
            all.push(measure_one(round, &ask).await);
        }
        let sum = |f: fn(&Measured) -> u32| all.iter().map(f).sum::<u32>();
        facts.set("fast_unanswered", sum(|m| m.fast_unanswered));
        facts.set("slow_answered", sum(|m| m.slow_answered));
        facts.set(
            "deadline_ratio",
            farthest_from_one(all.iter().flat_map(|m| m.waits.iter().copied())),
        );
        facts.set("left_running", sum(|m| m.left_running));
        facts.set("late_emails", sum(|m| m.late_emails));
        facts.set(
            "caller_held",
            all.iter().map(|m| m.held).fold(0.0, f64::max),
        );
        facts.set(
            "caller_polls",
            all.iter().map(|m| m.polls).max().unwrap_or(0) as f64,
        );
        facts.set(
            "caller_asleep",
            all.iter().map(|m| m.asleep).fold(0.0, f64::max),
        );
        all
    }

    /// [`measure`] in real time, on a runtime of its own whose parking is
    /// watched: sets `app_busy` too.
    pub fn measure_watched<A>(facts: &Facts, rounds: &[Round], ask: A) -> Vec<Measured>
    where
        A: AsyncFn(Job, Duration) -> Option<u64>,
    {
        let (runtime, parked) = watched_runtime();
        let (measured, busy) = parked.busy(|| runtime.block_on(measure(facts, rounds, ask)));
        facts.set("app_busy", busy);
        measured
    }

    pub fn run<A>(facts: &Facts, ask: A)
    where
        A: AsyncFn(Job, Duration) -> Option<u64>,
    {
        println!(
            "A caller ({} function) gives each job a deadline of 40 to 80 ms; some jobs take less, some 2.5 to 3.5 times more.",
            facts.the("ask")
        );
        say_seed();
        let rounds = rounds(&mut Rng::for_scenario("handle"));
        for (i, r) in rounds.iter().enumerate() {
            println!("Round {}: {}.", i + 1, r.name);
        }
        let measured = measure_watched(facts, &rounds, ask);
        for (i, m) in measured.iter().enumerate() {
            println!(
                "Round {}: {} fast job(s) unanswered, {} slow job(s) answered, {} left running, {} late email(s); at most {} polls for one call.",
                i + 1,
                m.fast_unanswered,
                m.slow_answered,
                m.left_running,
                m.late_emails,
                m.polls
            );
        }
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
            LESSON,
            Variant::Exercise("handle"),
            vec![SPEC.with(vec![piece("", ask)])],
        )
    }
}

// ----------------------------------------------------------------- race --

/// Why a mirror gave no file: it failed.
#[derive(Debug)]
pub struct Failed;

/// One mirror of a file: a download that takes its time, then writes the
/// file (or fails) and gives the file's checksum, which no program can
/// know before a good mirror has given it. The harness notes when each
/// download finishes, and counts the downloads still alive: made and
/// neither finished nor dropped.
pub struct Mirror {
    takes: Duration,
    gives: Result<u64, ()>,
    record: Arc<RaceRecord>,
}

struct RaceRecord {
    finished: Mutex<Vec<tokio::time::Instant>>,
    runs: Census,
}

impl Mirror {
    /// The download itself, ready to be spawned or awaited.
    pub fn run(&self) -> impl Future<Output = Result<u64, Failed>> + Send + 'static {
        let (takes, gives, record) = (self.takes, self.gives, self.record.clone());
        // Alive from now until this download finishes or is dropped,
        // wherever it is kept: a task, a JoinSet, a Vec.
        let alive: Alive<()> = self.record.runs.make(());
        async move {
            let _alive = alive;
            tokio::time::sleep(takes).await;
            record
                .finished
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(tokio::time::Instant::now());
            match gives {
                Ok(checksum) => {
                    shared::mark("the mirror wrote its file");
                    Ok(checksum)
                }
                Err(()) => {
                    shared::mark("the mirror failed");
                    Err(Failed)
                }
            }
        }
        .traced(if gives.is_ok() {
            "mirror"
        } else {
            "failing mirror"
        })
    }
}

/// The `race` scenario: the first good download of several wins, and the
/// others must stop.
pub mod race {
    use super::*;

    pub static SPEC: Spec = Spec {
        name: "race",
        facts: &[
            fact(
                "wrong_answers",
                "races whose answer was not the file's checksum, as the good mirrors gave it",
            ),
            fact(
                "answer_ratio",
                "how long the caller took to answer, over the time the fastest good mirror took, the race with the most",
            )
            .timing(),
            fact(
                "left_running",
                "downloads still running, neither finished nor dropped, just after the caller answered",
            ),
            fact(
                "late_downloads",
                "downloads that finished (wrote their file, or failed) after the caller had answered",
            ),
            fact(
                "caller_held",
                "the longest the caller held its thread in one poll by its own doing (computing, or asleep in a blocking call; not the time a busy machine paused it), over the fastest good download's time",
            )
            .timing(),
            fact(
                "caller_polls",
                "polls of one race's caller, the race with the most: one per download that finished before the answer, and one more, for a caller that awaits; thousands for one that spins",
            ),
            fact(
                "caller_asleep",
                "the time the caller's thread slept inside its polls during one race (a blocking sleep or wait), over the fastest good download's time, the race with the most",
            )
            .timing(),
            fact("app_busy", APP_BUSY).timing(),
        ],
    };

    /// One mirror as a round plans it: how long it takes, and whether it
    /// fails.
    #[derive(Clone, Debug)]
    pub struct Plan {
        pub takes: Duration,
        pub fails: bool,
    }

    /// One race: mirrors in a random order, and the checksum the good ones
    /// give.
    #[derive(Clone, Debug)]
    pub struct Round {
        pub name: String,
        pub mirrors: Vec<Plan>,
        checksum: u64,
    }

    impl Round {
        /// The time of the fastest good download: the ideal time to answer.
        pub fn best(&self) -> Duration {
            self.mirrors
                .iter()
                .filter(|m| !m.fails)
                .map(|m| m.takes)
                .min()
                .expect("a round has a good mirror")
        }

        fn slowest(&self) -> Duration {
            self.mirrors
                .iter()
                .map(|m| m.takes)
                .max()
                .unwrap_or_default()
        }
    }

    /// Moments after the caller has answered, when a cancelled download
    /// must be gone: an aborted task is dropped at the runtime's next turn.
    const GRACE: Duration = Duration::from_millis(2);

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn times(rng: &mut Rng, n: u64, lo: Duration, hi: Duration) -> Vec<Duration> {
        (0..n).map(|_| rng.duration_between(lo, hi)).collect()
    }

    fn round(rng: &mut Rng, name: &str, good: Vec<Duration>, failing: Vec<Duration>) -> Round {
        let mut mirrors: Vec<Plan> = good
            .into_iter()
            .map(|takes| Plan {
                takes,
                fails: false,
            })
            .chain(failing.into_iter().map(|takes| Plan { takes, fails: true }))
            .collect();
        rng.shuffle(&mut mirrors);
        let list = mirrors
            .iter()
            .map(|m| {
                let how = if m.fails { " (fails)" } else { "" };
                format!("{} ms{how}", m.takes.as_millis())
            })
            .collect::<Vec<_>>()
            .join(", ");
        Round {
            name: format!("{name}: {} mirrors, {list}", mirrors.len()),
            mirrors,
            checksum: rng.salt(),
        }
    }

    /// This run's two races, drawn from `rng`. In both, a good mirror is
    /// 2.5 to 4 times slower than the fastest one, and the others come
    /// 5 ms or more after it. First, failures come before the first good
    /// file (which takes 30 to 45 ms); then, with a file twice as quick
    /// (12 to 20 ms), one failure comes first and the others after it,
    /// among good mirrors close behind.
    pub fn rounds(rng: &mut Rng) -> Vec<Round> {
        let best = rng.duration_between(ms(30), ms(45));
        let mut good = vec![best];
        let slow = rng.between(1, 2);
        good.extend(times(rng, slow, best * 5 / 2, best * 4));
        let failing = rng.between(2, 3);
        let failing = times(rng, failing, ms(3), ms(12));
        let first = round(rng, "failures first", good, failing);

        let best = rng.duration_between(ms(12), ms(20));
        let close = rng.between(1, 2);
        let mut good = vec![best];
        good.extend(times(rng, close, best * 13 / 10 + ms(5), best * 2 + ms(5)));
        good.push(rng.duration_between(best * 3, best * 4));
        let mut failing = vec![rng.duration_between(ms(2), ms(6))];
        let late = rng.between(1, 2);
        failing.extend(times(rng, late, best * 3 / 2 + ms(5), best * 3));
        let second = round(
            rng,
            "good mirrors close behind, failures after",
            good,
            failing,
        );
        vec![first, second]
    }

    /// What a race measured.
    pub struct Measured {
        pub answer: u64,
        pub wrong: bool,
        /// The caller's time over the fastest good download's.
        pub ratio: f64,
        pub left_running: u64,
        pub late_downloads: u32,
        /// The caller's longest poll of its own, over the fastest good
        /// download's time.
        pub held: f64,
        pub polls: u64,
        /// Time asleep in the caller's polls, over the same.
        pub asleep: f64,
    }

    /// Runs a race, then waits to see whether downloads still finish.
    pub async fn measure_one<F>(round: &Round, fastest: &F) -> Measured
    where
        F: AsyncFn(Vec<Mirror>) -> u64,
    {
        let record = Arc::new(RaceRecord {
            finished: Mutex::new(Vec::new()),
            runs: Census::new(),
        });
        let mirrors = round
            .mirrors
            .iter()
            .map(|plan| Mirror {
                takes: plan.takes,
                gives: if plan.fails {
                    Err(())
                } else {
                    Ok(round.checksum)
                },
                record: record.clone(),
            })
            .collect();
        let held = Held::new();
        let asked = tokio::time::Instant::now(); // paused in the tests
        let answer = held.wrap(fastest(mirrors).traced("caller")).await;
        let answered = tokio::time::Instant::now();
        let took = answered - asked;
        tokio::time::sleep(GRACE).await;
        let left_running = record.runs.alive();
        // A download left running finishes when its time is up.
        if left_running > 0 {
            tokio::time::sleep_until(asked + round.slowest() + ms(20)).await;
        }
        let late_downloads = record
            .finished
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|&&at| at > answered)
            .count() as u32;
        let best = round.best().as_secs_f64();
        Measured {
            answer,
            wrong: answer != round.checksum,
            ratio: took.as_secs_f64() / best,
            left_running,
            late_downloads,
            held: held.own_longest().as_secs_f64() / best,
            polls: held.polls(),
            asleep: held.asleep().as_secs_f64() / best,
        }
    }

    /// Runs each round's race, and sets the facts: counts summed over the
    /// rounds, times the worst of them.
    pub async fn measure<F>(facts: &Facts, rounds: &[Round], fastest: F) -> Vec<Measured>
    where
        F: AsyncFn(Vec<Mirror>) -> u64,
    {
        let mut all = Vec::new();
        for round in rounds {
            all.push(measure_one(round, &fastest).await);
        }
        let most = |f: fn(&Measured) -> f64| all.iter().map(f).fold(0.0, f64::max);
        facts.set(
            "wrong_answers",
            all.iter().filter(|m| m.wrong).count() as u32,
        );
        facts.set("answer_ratio", most(|m| m.ratio));
        facts.set(
            "left_running",
            all.iter().map(|m| m.left_running).sum::<u64>() as f64,
        );
        facts.set(
            "late_downloads",
            all.iter().map(|m| m.late_downloads).sum::<u32>(),
        );
        facts.set("caller_held", most(|m| m.held));
        facts.set("caller_polls", most(|m| m.polls as f64));
        facts.set("caller_asleep", most(|m| m.asleep));
        all
    }

    /// [`measure`] in real time, on a runtime of its own whose parking is
    /// watched: sets `app_busy` too.
    pub fn measure_watched<F>(facts: &Facts, rounds: &[Round], fastest: F) -> Vec<Measured>
    where
        F: AsyncFn(Vec<Mirror>) -> u64,
    {
        let (runtime, parked) = watched_runtime();
        let (measured, busy) = parked.busy(|| runtime.block_on(measure(facts, rounds, fastest)));
        facts.set("app_busy", busy);
        measured
    }

    pub fn run<F>(facts: &Facts, fastest: F)
    where
        F: AsyncFn(Vec<Mirror>) -> u64,
    {
        println!(
            "A caller ({} function) downloads a file from several mirrors at once; some fail. The first good file wins, and the other downloads must stop.",
            facts.the("fastest")
        );
        say_seed();
        let rounds = rounds(&mut Rng::for_scenario("race"));
        for (i, r) in rounds.iter().enumerate() {
            println!("Race {}: {}.", i + 1, r.name);
        }
        let measured = measure_watched(facts, &rounds, fastest);
        for (i, (m, r)) in measured.iter().zip(&rounds).enumerate() {
            println!(
                "Race {}: answered {} ({}) in {:.1} times the fastest good mirror's {} ms; {} download(s) left running, {} finished after the answer; {} polls of the caller.",
                i + 1,
                m.answer,
                if m.wrong {
                    "not the file's checksum"
                } else {
                    "the file's checksum"
                },
                m.ratio,
                r.best().as_millis(),
                m.left_running,
                m.late_downloads,
                m.polls
            );
        }
    }

    pub fn piece<'a, F>(name: &'static str, fastest: F) -> Piece<'a>
    where
        F: AsyncFn(Vec<Mirror>) -> u64 + 'a,
    {
        Piece::new(name, move |facts| run(facts, fastest))
    }

    /// The exercise binary's `main`: judges the learner's `fastest`.
    pub fn exercise<F>(fastest: F) -> ExitCode
    where
        F: AsyncFn(Vec<Mirror>) -> u64,
    {
        shared::lesson::main(
            LESSON,
            Variant::Exercise("handle"),
            vec![SPEC.with(vec![piece("", fastest)])],
        )
    }
}

// ----------------------------------------------------------------- stop --

/// How many readings the job writes to the log at a time. Once the stop
/// has been asked for, a last, shorter batch is allowed.
pub const BATCH: usize = 8;

/// One reading of the sensor. Only the sensor makes one, and it cannot be
/// copied: the harness knows how many it handed out, and how many reached
/// the log in a whole batch.
#[derive(Debug)]
pub struct Reading {
    value: u32,
}

impl Reading {
    /// The number the sensor read.
    pub fn value(&self) -> u32 {
        self.value
    }
}

/// A batch as the log saw it.
#[derive(Clone, Debug)]
struct Written {
    len: usize,
    lines: usize,
    whole: bool,
    /// Begun once the stop had been asked for: it may be short.
    after_stop: bool,
    /// Begun once the job had returned: by something it left working.
    after_return: bool,
}

/// What ends the first part of a run: the moment the stop is asked for.
#[derive(Clone, Copy, Debug)]
enum Trigger {
    /// Once `from` readings have been taken, at a reading that leaves 2 to
    /// `BATCH - 2` readings in the job's hands: the sensor goes quiet
    /// then, and the stop comes a millisecond later.
    InHand {
        from: u32,
        quiet: Duration,
    },
    /// When line `line - 1` of batch number `batch` (both from 1) has
    /// been written: the stop comes in the middle of line `line`. Keyed
    /// to the write's own progress, not to a time, so the write is
    /// half-way at the stop on any machine.
    Writing {
        batch: usize,
        line: u32,
    },
    Fired,
}

/// The harness's record of one run of the job: the sensor's schedule,
/// each reading handed out, each batch and line written, and when.
struct Logbook {
    stop: CancellationToken,
    salt: u64,
    rng: Rng,
    gaps: (Duration, Duration),
    line_time: Duration,
    /// The sensor's next reading is due then.
    next_due: tokio::time::Instant,
    /// Quiet stretches to come, in which a job that waits is never woken:
    /// after reading number `after` (from 1) or a later one, the first
    /// taken with no write under way and 1 to `BATCH - 2` readings in
    /// hand (so none begins in the stretch either), or at reading
    /// `after + BATCH` whatever, the sensor is quiet this long.
    stretches: Vec<(u32, Duration)>,
    /// Writes begun and neither finished nor dropped.
    writing: u32,
    taken: u32,
    taken_after_stop: u32,
    /// Readings handed to the log's `write`.
    handed: usize,
    batches: Vec<Written>,
    /// Set once the job has returned, or was dropped.
    returned: bool,
    after_return: u32,
    /// Things the job can be woken for: readings taken, lines written,
    /// writes begun and ended, the stop. A poll of the job that it asked
    /// for (by waking its waker) with none of these since its last such
    /// poll is a wake-up for nothing: the job woke itself.
    events: u64,
    /// `events` at the job's last poll that it asked for.
    last_seen: Option<u64>,
    idle_wakes: u32,
    /// Polls of a waiting `next()` with nothing to wake it for.
    idle_looks: u32,
    /// The last reading taken or line written: a job that does neither
    /// for [`stop::IDLE`] gets its stop anyway.
    last_progress: tokio::time::Instant,
    /// If the stop's moment has not come by this many readings taken, it
    /// comes anyway (a job that never writes, or never holds readings).
    fallback_after: u32,
    /// The stop came by a fallback, not at the workload's moment.
    fell_back: bool,
    /// The job's first progress once the stop had been asked for: a write
    /// begun, or a line of one written (a reading taken, too, wrongly).
    went_on: Option<tokio::time::Instant>,
    trigger: Trigger,
    stop_at: Option<tokio::time::Instant>,
}

impl Logbook {
    fn advance(&mut self) {
        let (lo, hi) = self.gaps;
        self.next_due += self.rng.duration_between(lo, hi);
    }

    fn fire(&mut self, at: tokio::time::Instant, ready: &tokio::sync::Notify) {
        self.trigger = Trigger::Fired;
        self.stop_at = Some(at);
        ready.notify_one();
    }

    fn after_return(&mut self) {
        if self.returned {
            self.after_return += 1;
        }
    }

    /// Something the job may be woken for happened; `progress`: a reading
    /// taken or a write begun or going on.
    fn event(&mut self, progress: bool) {
        self.events += 1;
        if progress {
            let now = tokio::time::Instant::now();
            self.last_progress = now;
            if self.stop.is_cancelled() && self.went_on.is_none() {
                self.went_on = Some(now);
            }
        }
    }

    /// The job's poll that it asked for has just ended: was there
    /// anything to wake it for?
    fn job_woken(&mut self) {
        if self.last_seen == Some(self.events) {
            self.idle_wakes += 1;
        }
        self.last_seen = Some(self.events);
    }
}

struct Shared {
    book: Mutex<Logbook>,
    /// Told when the stop's moment is known.
    ready: tokio::sync::Notify,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Logbook> {
        self.book.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A waker that notes that it was woken, then wakes the task's own.
struct Flag {
    woken: AtomicBool,
    waker: Mutex<Option<std::task::Waker>>,
}

impl std::task::Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        if let Some(w) = &*self.waker.lock().unwrap_or_else(|e| e.into_inner()) {
            w.wake_by_ref();
        }
    }
}

/// A sensor that makes a reading every few milliseconds, on its own
/// schedule: a reading is handed to a `next()` that waits for it, and is
/// missed if nobody waits.
#[derive(Clone)]
pub struct Sensor {
    shared: Arc<Shared>,
}

impl Sensor {
    /// Waits for the sensor's next reading. Cancel-safe: a reading is
    /// taken only in the poll that returns it, so dropping this future
    /// takes nothing. The sensor may go quiet for a long while.
    pub async fn next(&self) -> Reading {
        let mut look = Look { seen: None };
        loop {
            let due = {
                let mut l = self.shared.lock();
                let now = tokio::time::Instant::now();
                while l.next_due <= now {
                    l.advance(); // missed: nobody was waiting
                }
                l.next_due
            };
            let mut sleep = std::pin::pin!(tokio::time::sleep_until(due));
            std::future::poll_fn(|cx| {
                let ready = sleep.as_mut().poll(cx);
                if ready.is_pending() {
                    look.pending(&mut self.shared.lock());
                }
                ready
            })
            .await;
            let mut l = self.shared.lock();
            if l.next_due != due {
                l.event(false); // the sensor's own doing, not the job's
                continue; // taken by another call meanwhile
            }
            let n = l.taken;
            l.taken += 1;
            l.event(true);
            if l.stop.is_cancelled() {
                l.taken_after_stop += 1;
            }
            l.after_return();
            let in_hand = (l.taken as usize).saturating_sub(l.handed);
            let calm = l.writing == 0 && (1..=BATCH - 2).contains(&in_hand);
            let taken = l.taken;
            match l
                .stretches
                .iter()
                .position(|&(after, _)| taken >= after && (calm || taken >= after + BATCH as u32))
            {
                Some(i) => {
                    let (_, quiet) = l.stretches.remove(i);
                    l.next_due = due + quiet;
                }
                None => l.advance(),
            }
            let now = tokio::time::Instant::now();
            if let Trigger::InHand { from, quiet } = l.trigger {
                if l.taken >= from && (2..=BATCH - 2).contains(&in_hand) && l.stretches.is_empty() {
                    l.next_due = now + quiet;
                    l.fire(now + Duration::from_millis(1), &self.shared.ready);
                }
            }
            if !matches!(l.trigger, Trigger::Fired) && l.taken >= l.fallback_after {
                l.fell_back = true;
                l.fire(now + Duration::from_millis(1), &self.shared.ready);
            }
            let value = 1 + (mix(l.salt ^ u64::from(n)) % 999) as u32;
            return Reading { value };
        }
    }
}

/// One `next()`'s view of the job's wake-ups: polled again while its
/// reading is not due, with nothing having happened since it was last
/// polled, it was polled by a task (the job's, or one of its own, on any
/// runtime) that woke itself.
struct Look {
    seen: Option<u64>,
}

impl Look {
    fn pending(&mut self, l: &mut Logbook) {
        if self.seen == Some(l.events) {
            l.idle_looks += 1;
        }
        self.seen = Some(l.events);
    }
}

/// A write under way, until it ends or is dropped.
struct Writing(Arc<Shared>);

impl Drop for Writing {
    fn drop(&mut self) {
        self.0.lock().writing -= 1;
    }
}

/// A log that writes a batch line by line: one line per reading, then the
/// batch's end. A batch is whole once its end is written.
#[derive(Clone)]
pub struct Log {
    shared: Arc<Shared>,
}

impl Log {
    /// Writes `batch` to the log, one line per reading, each line taking
    /// 1 to 3 ms, then the batch's end. Not cancel-safe: dropped half-way, it leaves
    /// the lines written so far, half a batch, in the log, and the rest of
    /// the readings are lost.
    pub async fn write(&self, batch: Vec<Reading>) {
        let (index, line_time) = {
            let mut l = self.shared.lock();
            let after_stop = l.stop.is_cancelled();
            let after_return = l.returned;
            l.event(true);
            l.handed += batch.len();
            l.batches.push(Written {
                len: batch.len(),
                lines: 0,
                whole: false,
                after_stop,
                after_return,
            });
            l.after_return();
            l.writing += 1;
            let index = l.batches.len() - 1;
            (index, l.line_time)
        };
        let _writing = Writing(self.shared.clone());
        for _reading in batch {
            tokio::time::sleep(line_time).await;
            let mut l = self.shared.lock();
            l.batches[index].lines += 1;
            l.event(true);
            l.after_return();
            if let Trigger::Writing { batch, line } = l.trigger
                && index + 1 == batch
                && l.batches[index].lines + 1 == line as usize
            {
                let at = tokio::time::Instant::now() + line_time / 2;
                l.fire(at, &self.shared.ready);
            }
        }
        tokio::time::sleep(line_time).await;
        let mut l = self.shared.lock();
        l.batches[index].whole = true;
        l.event(true);
        l.after_return();
    }
}

/// The `stop` scenario: a job that reads a sensor and writes the readings
/// to a log in batches, asked to stop, with a deadline.
pub mod stop {
    use super::*;

    pub static SPEC: Spec = Spec {
        name: "stop",
        facts: &[
            fact(
                "stop_ratio",
                "time from the stop until the job returned (or was dropped at the deadline), over the deadline, in the worse workload",
            )
            .timing(),
            fact(
                "forced_stops",
                "workloads in which the job had not returned by the deadline, and was dropped there",
            )
            .timing(),
            fact(
                "readings_lost",
                "readings the sensor handed out that never reached the log in a whole batch, over both workloads",
            ),
            fact(
                "half_batches",
                "batches begun before the job returned and left half-written in the log (some lines, no end), over both workloads",
            ),
            fact(
                "taken_after_stop",
                "readings handed out once the stop had been asked for, over both workloads",
            ),
            fact(
                "after_return",
                "readings handed out and lines written after the job had returned, over both workloads",
            ),
            fact(
                "bad_batches",
                "batches of more than 8 readings, or of fewer begun before the stop, over both workloads",
            ),
            fact(
                "stopped_early",
                "workloads in which the job returned before anyone asked it to stop",
            ),
            fact(
                "taken_before_stop",
                "readings handed out before the stop, in the workload with fewer",
            ),
            fact(
                "idle_wakes",
                "times the job (or a task of its, waiting for a reading) was woken with nothing to wake it for: no reading, no line of a write, no stop since it was last woken; over both workloads",
            ),
            fact(
                "stop_seen",
                "time from the stop until the job went on (wrote, or returned), over the deadline, in the workload where the stop comes while it waits",
            )
            .timing(),
            fact(
                "job_held",
                "the longest the job held its thread in one poll by its own doing, over the deadline",
            )
            .timing(),
            fact("app_busy", APP_BUSY).timing(),
        ],
    };

    /// One workload: how the sensor and the log go, and when the stop
    /// comes.
    #[derive(Clone, Debug)]
    pub struct Shape {
        pub name: String,
        /// The time from the stop to the deadline.
        pub grace: Duration,
        gaps: (Duration, Duration),
        line_time: Duration,
        stretches: Vec<(u32, Duration)>,
        trigger: Trigger,
        fallback_after: u32,
        salt: u64,
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    impl Shape {
        /// The stop comes while readings are in the job's hands, and the
        /// sensor goes quiet then, for longer than the deadline. Before
        /// that, it is quiet twice: once for 30 to 60 ms, once for longer
        /// than any deadline.
        pub fn quiet(rng: &mut Rng) -> Shape {
            let grace = ms(rng.between(60, 80));
            let gap = (ms(2), ms(4));
            let line_time = ms(rng.between(1, 2));
            let short = (rng.between(2, 5) as u32, ms(rng.between(30, 60)));
            let long = (rng.between(9, 12) as u32, ms(rng.between(90, 120)));
            let from = long.0 + rng.between(1, BATCH as u64 - 2) as u32;
            Shape {
                name: format!(
                    "a reading every 2 to 4 ms, quiet for {} ms from reading {} on, and for {} ms from reading {} on, lines of {} ms; the stop comes with readings in hand, and the sensor goes quiet; a deadline of {} ms",
                    short.1.as_millis(),
                    short.0,
                    long.1.as_millis(),
                    long.0,
                    line_time.as_millis(),
                    grace.as_millis()
                ),
                grace,
                gaps: gap,
                line_time,
                stretches: vec![short, long],
                trigger: Trigger::InHand {
                    from,
                    quiet: grace + ms(5),
                },
                fallback_after: from + 3 * BATCH as u32,
                salt: rng.salt(),
            }
        }

        /// The stop comes in the middle of a batch's write, and the sensor
        /// goes on. Before that, it is quiet once, for longer than any
        /// deadline.
        pub fn writing(rng: &mut Rng) -> Shape {
            let grace = ms(rng.between(60, 80));
            let gap = (ms(6), ms(10));
            let line_time = ms(rng.between(2, 3));
            let batch = rng.between(2, 3) as usize;
            let line = rng.between(2, BATCH as u64 / 2) as u32;
            // By reading 14 at the latest: before batch 2 begins.
            let long = (rng.between(3, 6) as u32, ms(rng.between(90, 120)));
            Shape {
                name: format!(
                    "a reading every 6 to 10 ms, quiet for {} ms from reading {} on, lines of {} ms; the stop comes during line {line} of batch {batch}, and the sensor goes on; a deadline of {} ms",
                    long.1.as_millis(),
                    long.0,
                    line_time.as_millis(),
                    grace.as_millis()
                ),
                grace,
                gaps: gap,
                line_time,
                stretches: vec![long],
                trigger: Trigger::Writing { batch, line },
                fallback_after: (batch as u32 + 2) * BATCH as u32,
                salt: rng.salt(),
            }
        }

        /// The stop comes while the job waits for a reading.
        fn waits_at_the_stop(&self) -> bool {
            matches!(self.trigger, Trigger::InHand { .. })
        }
    }

    /// This run's two workloads, drawn from `rng`.
    pub fn shapes(rng: &mut Rng) -> Vec<Shape> {
        vec![Shape::quiet(rng), Shape::writing(rng)]
    }

    /// If the job takes no reading and writes no line for this long
    /// (longer than any quiet stretch and any write), the stop comes
    /// anyway: a job that never reads.
    pub const IDLE: Duration = Duration::from_millis(300);

    /// What one workload measured.
    #[derive(Clone, Debug)]
    pub struct Measured {
        pub stop_ratio: f64,
        pub forced: bool,
        pub early: bool,
        pub taken: u32,
        pub taken_before_stop: u32,
        pub lost: u32,
        pub half: u32,
        pub taken_after_stop: u32,
        pub after_return: u32,
        pub bad: u32,
        /// Wake-ups of the job with nothing to wake it for.
        pub idle_wakes: u32,
        /// From the stop until the job wrote or returned, over the
        /// deadline; 0 where the stop comes during a write.
        pub stop_seen: f64,
        /// The stop came by a fallback, not at the workload's moment.
        pub fell_back: bool,
        pub held: f64,
    }

    /// Runs `record` under one workload: asks it to stop at the workload's
    /// moment, drops it if it has not returned by the deadline, then
    /// watches a deadline's time more for anything it left working.
    pub async fn measure_one<R>(shape: &Shape, record: &R) -> Measured
    where
        R: AsyncFn(CancellationToken, Sensor, Log),
    {
        let stop = CancellationToken::new();
        let now = tokio::time::Instant::now();
        let mut rng = Rng::new(shape.salt);
        let first = now + rng.duration_between(shape.gaps.0, shape.gaps.1);
        let shared = Arc::new(Shared {
            book: Mutex::new(Logbook {
                stop: stop.clone(),
                salt: shape.salt,
                rng,
                gaps: shape.gaps,
                line_time: shape.line_time,
                next_due: first,
                stretches: shape.stretches.clone(),
                writing: 0,
                taken: 0,
                taken_after_stop: 0,
                handed: 0,
                batches: Vec::new(),
                returned: false,
                after_return: 0,
                events: 0,
                last_seen: None,
                idle_wakes: 0,
                idle_looks: 0,
                last_progress: now,
                fallback_after: shape.fallback_after,
                fell_back: false,
                went_on: None,
                trigger: shape.trigger,
                stop_at: None,
            }),
            ready: tokio::sync::Notify::new(),
        });
        let sensor = Sensor {
            shared: shared.clone(),
        };
        let log = Log {
            shared: shared.clone(),
        };
        let held = Held::new();
        // The job is polled only when it asked to be (by waking its
        // waker), and each such poll is checked for a cause: a job that
        // waits is woken only by a reading, a line of its write, or the
        // stop. The harness's own wake-ups are not the job's: it is not
        // polled for them.
        let counted = {
            let shared = shared.clone();
            let mut job = Box::pin(held.wrap(record(stop.clone(), sensor, log).traced("job")));
            let flag = Arc::new(Flag {
                woken: AtomicBool::new(true), // the first poll counts
                waker: Mutex::new(None),
            });
            let waker = std::task::Waker::from(flag.clone());
            std::future::poll_fn(move |cx| {
                *flag.waker.lock().unwrap_or_else(|e| e.into_inner()) = Some(cx.waker().clone());
                if !flag.woken.swap(false, Ordering::SeqCst) {
                    return std::task::Poll::Pending;
                }
                let polled = job
                    .as_mut()
                    .poll(&mut std::task::Context::from_waker(&waker));
                shared.lock().job_woken();
                polled
            })
        };
        let mut job = Some(Box::pin(counted));
        let moment = async {
            loop {
                let idle_at = shared.lock().last_progress + IDLE;
                tokio::select! {
                    _ = shared.ready.notified() => break,
                    _ = tokio::time::sleep_until(idle_at) => {}
                }
                let mut l = shared.lock();
                if matches!(l.trigger, Trigger::Fired) {
                    break;
                }
                if l.last_progress + IDLE <= tokio::time::Instant::now() {
                    l.fell_back = true;
                    l.fire(tokio::time::Instant::now(), &shared.ready);
                    break;
                }
            }
            let at = shared.lock().stop_at;
            if let Some(at) = at {
                tokio::time::sleep_until(at).await;
            }
        };
        let early = tokio::select! {
            _ = job.as_mut().expect("the job is there") => true,
            _ = moment => false,
        };
        stop.cancel(); // say, Ctrl-C was pressed
        shared.lock().event(false);
        shared::mark("stop asked for");
        let asked = tokio::time::Instant::now();
        let forced = match job.as_mut() {
            Some(job) if !early => tokio::time::timeout(shape.grace, job).await.is_err(),
            _ => false,
        };
        // At the deadline the program drops the job, as a runtime's
        // shutdown or an abort would: at whichever .await it waits.
        drop(job.take());
        let ended = tokio::time::Instant::now();
        shared.lock().returned = true;
        if forced {
            shared::mark("deadline: the job dropped");
        }
        // Anything the job left working shows now.
        tokio::time::sleep(shape.grace).await;
        let l = shared.lock();
        let kept: usize = l.batches.iter().filter(|b| b.whole).map(|b| b.len).sum();
        let went_on = l.went_on.map_or(ended, |at| at.min(ended));
        Measured {
            stop_ratio: if early {
                0.0
            } else {
                ended.duration_since(asked).as_secs_f64() / shape.grace.as_secs_f64()
            },
            forced,
            early,
            taken: l.taken,
            taken_before_stop: l.taken - l.taken_after_stop,
            lost: (l.taken as usize).saturating_sub(kept) as u32,
            half: l
                .batches
                .iter()
                .filter(|b| b.lines > 0 && !b.whole && !b.after_return)
                .count() as u32,
            taken_after_stop: l.taken_after_stop,
            after_return: l.after_return,
            bad: l
                .batches
                .iter()
                .filter(|b| b.len > BATCH || (b.len < BATCH && !b.after_stop))
                .count() as u32,
            idle_wakes: l.idle_wakes.max(l.idle_looks),
            stop_seen: if early || !shape.waits_at_the_stop() {
                0.0
            } else {
                went_on.duration_since(asked).as_secs_f64() / shape.grace.as_secs_f64()
            },
            fell_back: l.fell_back,
            held: held.own_longest().as_secs_f64() / shape.grace.as_secs_f64(),
        }
    }

    /// Runs each workload, and sets the facts: counts summed, times and
    /// rates the worse of the two.
    pub async fn measure<R>(facts: &Facts, shapes: &[Shape], record: R) -> Vec<Measured>
    where
        R: AsyncFn(CancellationToken, Sensor, Log),
    {
        let mut all = Vec::new();
        for shape in shapes {
            all.push(measure_one(shape, &record).await);
        }
        let worst = |f: fn(&Measured) -> f64| all.iter().map(f).fold(0.0, f64::max);
        let sum = |f: fn(&Measured) -> u32| all.iter().map(f).sum::<u32>();
        facts.set("stop_ratio", worst(|m| m.stop_ratio));
        facts.set("forced_stops", sum(|m| u32::from(m.forced)));
        facts.set("readings_lost", sum(|m| m.lost));
        facts.set("half_batches", sum(|m| m.half));
        facts.set("taken_after_stop", sum(|m| m.taken_after_stop));
        facts.set("after_return", sum(|m| m.after_return));
        facts.set("bad_batches", sum(|m| m.bad));
        facts.set("stopped_early", sum(|m| u32::from(m.early)));
        facts.set(
            "taken_before_stop",
            all.iter().map(|m| m.taken_before_stop).min().unwrap_or(0),
        );
        facts.set("idle_wakes", sum(|m| m.idle_wakes));
        facts.set("stop_seen", worst(|m| m.stop_seen));
        facts.set("job_held", worst(|m| m.held));
        all
    }

    /// [`measure`] in real time, on a runtime of its own whose parking is
    /// watched: sets `app_busy` too.
    pub fn measure_watched<R>(facts: &Facts, shapes: &[Shape], record: R) -> Vec<Measured>
    where
        R: AsyncFn(CancellationToken, Sensor, Log),
    {
        let (runtime, parked) = watched_runtime();
        let (measured, busy) = parked.busy(|| runtime.block_on(measure(facts, shapes, record)));
        facts.set("app_busy", busy);
        measured
    }

    pub fn run<R>(facts: &Facts, record: R)
    where
        R: AsyncFn(CancellationToken, Sensor, Log),
    {
        println!(
            "A job ({} function) reads a sensor and writes the readings to a log, {BATCH} at a time; it is asked to stop, with a deadline.",
            facts.the("record")
        );
        say_seed();
        let shapes = shapes(&mut Rng::for_scenario("stop"));
        for (i, s) in shapes.iter().enumerate() {
            println!("Workload {}: {}.", i + 1, s.name);
        }
        let measured = measure_watched(facts, &shapes, record);
        for (i, m) in measured.iter().enumerate() {
            let end = if m.early {
                "returned before the stop".to_string()
            } else if m.fell_back {
                "the workload's moment for the stop never came, so the stop came anyway; "
                    .to_string()
                    + &if m.forced {
                        "the job was still running at the deadline: dropped there".to_string()
                    } else {
                        format!("it returned {:.2} of the deadline after it", m.stop_ratio)
                    }
            } else if m.forced {
                "still running at the deadline: dropped there".to_string()
            } else {
                format!(
                    "returned {:.2} of the deadline after the stop",
                    m.stop_ratio
                )
            };
            println!(
                "Workload {}: {end}; {} readings taken, {} lost, {} after the stop; {} half-written batch(es); {} thing(s) done after the return; woken {} time(s) for nothing.",
                i + 1,
                m.taken,
                m.lost,
                m.taken_after_stop,
                m.half,
                m.after_return,
                m.idle_wakes,
            );
        }
    }

    pub fn piece<'a, R>(name: &'static str, record: R) -> Piece<'a>
    where
        R: AsyncFn(CancellationToken, Sensor, Log) + 'a,
    {
        Piece::new(name, move |facts| run(facts, record))
    }

    /// The exercise binary's `main`: judges the learner's `record`.
    pub fn exercise<R>(record: R) -> ExitCode
    where
        R: AsyncFn(CancellationToken, Sensor, Log),
    {
        shared::lesson::main(
            LESSON,
            Variant::Exercise("stop"),
            vec![SPEC.with(vec![piece("", record)])],
        )
    }
}

// --------------------------------------------------------------- starve --

/// The heartbeat's period.
pub const TICK: Duration = Duration::from_millis(10);

thread_local! {
    /// Work done on this thread so far, in µs of the items' nominal cost:
    /// the harness's neighbour reads it to see how much work was done
    /// between two of its turns.
    static WORK_HERE: Cell<u64> = const { Cell::new(0) };
    /// The time the items' work took on this thread so far, in ns.
    static WORK_NS_HERE: Cell<u64> = const { Cell::new(0) };
    /// The CPU time the items' work took on this thread so far, in ns.
    static WORK_CPU_HERE: Cell<u64> = const { Cell::new(0) };
}

fn work_here() -> u64 {
    WORK_HERE.with(Cell::get)
}

fn work_ns_here() -> u64 {
    WORK_NS_HERE.with(Cell::get)
}

fn work_cpu_here() -> u64 {
    WORK_CPU_HERE.with(Cell::get)
}

/// This thread's CPU time so far, in ns (0 where it cannot be read).
fn cpu_ns() -> u64 {
    shared::record::sched::thread_cpu_time().map_or(0, |t| t.as_nanos() as u64)
}

/// The harness's record of one backlog: each item's work, as it is done.
struct Ledger {
    salt: u64,
    rounds: u64,
    cost_us: u64,
    /// Work done so far, in µs of the items' set cost, on any thread
    /// (shared with the harness's stopper, which must not hold the ledger).
    work_us: Arc<AtomicU64>,
    /// The time the items' work took so far, in ns, as the clock saw it
    /// (a busy machine stretches it as it stretches the loop).
    work_ns: AtomicU64,
    /// The CPU time the items' work took so far, in ns, on any thread (a
    /// busy machine does not stretch it).
    work_cpu: AtomicU64,
    done: Vec<AtomicBool>,
    results: Vec<AtomicU64>,
}

/// One item of a backlog. Its work depends on a salt made at run time and
/// on the item itself, so no result can be known, or remembered from
/// another item, without doing the work.
#[derive(Clone)]
pub struct Item {
    index: usize,
    ledger: Arc<Ledger>,
}

/// Work waiting in memory: `next` is always ready at once, like a queue
/// that is never empty, a buffered reader with data, or an iterator.
pub struct Backlog {
    next: usize,
    ledger: Arc<Ledger>,
}

impl Backlog {
    fn new(items: usize, cost: Duration, salt: u64) -> Backlog {
        Backlog {
            next: 0,
            ledger: Arc::new(Ledger {
                salt,
                rounds: shared::work::cpu::calibration().rounds_for(cost),
                cost_us: cost.as_micros() as u64,
                work_us: Arc::new(AtomicU64::new(0)),
                work_ns: AtomicU64::new(0),
                work_cpu: AtomicU64::new(0),
                done: (0..items).map(|_| AtomicBool::new(false)).collect(),
                results: (0..items).map(|_| AtomicU64::new(0)).collect(),
            }),
        }
    }

    /// The next item, or `None` at the end. Never waits.
    pub async fn next(&mut self) -> Option<Item> {
        if self.next == self.ledger.done.len() {
            return None;
        }
        self.next += 1;
        Some(Item {
            index: self.next - 1,
            ledger: self.ledger.clone(),
        })
    }
}

/// One item's work: some computation (35 to 75 µs of it, depending on the
/// backlog). Its result is noted in the harness's record.
pub fn work(item: Item) -> u64 {
    let l = &item.ledger;
    let seed = l.salt ^ mix(item.index as u64);
    // Both clocks are read inside the wall time's bounds, so that a pause
    // of the thread at a read of its CPU clock counts as the item's time.
    let began = std::time::Instant::now();
    let cpu = cpu_ns();
    let result = shared::work::cpu::hash_rounds(seed, l.rounds);
    let cpu = cpu_ns().saturating_sub(cpu);
    let took = began.elapsed().as_nanos() as u64;
    l.work_ns.fetch_add(took, Ordering::Relaxed);
    l.work_cpu.fetch_add(cpu, Ordering::Relaxed);
    WORK_NS_HERE.with(|w| w.set(w.get() + took));
    WORK_CPU_HERE.with(|w| w.set(w.get() + cpu));
    l.results[item.index].store(result, Ordering::Relaxed);
    l.done[item.index].store(true, Ordering::Relaxed);
    WORK_HERE.with(|w| w.set(w.get() + l.cost_us));
    l.work_us.fetch_add(l.cost_us, Ordering::Relaxed);
    result
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
            )
            .timing(),
            fact(
                "worker_held",
                "the most CPU time the loop spent in one poll, in 10 ms ticks: the work it did before giving its thread back, which a busy machine does not stretch",
            )
            .timing(),
            fact(
                "worker_asleep",
                "the time the loop's thread slept inside its polls (a blocking join, sleep or wait), in 10 ms ticks, in the backlog with the most",
            )
            .timing(),
            fact(
                "longest_turn",
                "the most work the thread did between two turns of another task, in 10 ms ticks of the items' set cost: counted, not timed",
            ),
            fact(
                "neighbour_turns",
                "turns another task on the thread got while the loop ran, in the backlog with fewer",
            ),
            fact(
                "wrong_sum",
                "backlogs whose result was not every item's work combined",
            ),
        ],
    };

    /// One backlog of the scenario: how many items, and how long each one's
    /// work takes.
    #[derive(Clone, Debug)]
    pub struct Load {
        pub name: String,
        pub items: usize,
        pub cost: Duration,
        salt: u64,
    }

    impl Load {
        pub fn new(rng: &mut Rng, items: usize, cost: Duration) -> Load {
            Load {
                name: format!("{items} items of {} µs", cost.as_micros()),
                items,
                cost,
                salt: rng.salt(),
            }
        }
    }

    /// This run's two backlogs, drawn from `rng`: many light items, and
    /// fewer heavier ones, each 90 ms of work or more.
    pub fn loads(rng: &mut Rng) -> Vec<Load> {
        let light = (rng.between(3000, 4000) as usize, rng.between(35, 45));
        let light = Load::new(rng, light.0, Duration::from_micros(light.1));
        let heavy = (rng.between(1500, 2000) as usize, rng.between(60, 75));
        let heavy = Load::new(rng, heavy.0, Duration::from_micros(heavy.1));
        vec![light, heavy]
    }

    /// How late the heartbeat can be beside a loop that yields through
    /// tokio's budget, in ticks: two of the loop's slices of 128 items (the
    /// slice in which its timer falls due, and one more, since the loop
    /// runs in `block_on`'s own future, which is polled first after the
    /// thread visits the driver; `tests/budget_turns.rs` counts it), and
    /// up to 1 ms more, since tokio's timer rounds a deadline up to the
    /// next millisecond. An item takes what it took in this run, where the
    /// loop did its work on its own thread (a machine busy with other work
    /// makes each item slower than its nominal cost), else its nominal
    /// cost.
    pub fn two_slices(load: &Load, measured: &Measured) -> f64 {
        let item = measured
            .item_took
            .unwrap_or(load.cost)
            .max(load.cost)
            .as_secs_f64();
        (2.0 * 128.0 * item + 0.001) / TICK.as_secs_f64()
    }

    /// What one backlog measured.
    #[derive(Clone, Debug)]
    pub struct Measured {
        pub lateness: f64,
        pub held: f64,
        /// Time its thread slept inside the loop's polls, in ticks.
        pub asleep: f64,
        pub longest_turn: f64,
        pub turns: u64,
        pub wrong_sum: bool,
        /// The mean time one item's work took on the loop's thread, if the
        /// loop worked there.
        pub item_took: Option<Duration>,
    }

    /// Runs `process` on a current-thread runtime beside a heartbeat and a
    /// neighbour task that counts its turns.
    pub fn measure_one<P>(load: &Load, process: &P) -> Measured
    where
        P: AsyncFn(Backlog) -> u64,
    {
        let backlog = Backlog::new(load.items, load.cost, load.salt);
        let ledger = backlog.ledger.clone();
        let held = Held::new();
        let (sum, lateness, turns, longest, work_here) = runtime().block_on(async {
            let heartbeat = Heartbeat::spawn(TICK);
            tokio::time::sleep(TICK * 2).await;
            // A neighbour that counts its turns, and the work done on the
            // thread between two of them: how long the loop (or any task
            // it started) kept everyone else waiting, whatever the clock
            // says. It yields, to get a turn after each of the loop's
            // polls; when it has seen no work for many turns (the work is
            // done elsewhere), it naps instead, so as not to keep a core
            // busy for nothing.
            let turns = Arc::new(AtomicU64::new(0));
            let longest = Arc::new(AtomicU64::new(0));
            let neighbour = tokio::spawn({
                let (turns, longest) = (turns.clone(), longest.clone());
                async move {
                    let mut last = work_here();
                    let mut idle = 0u32;
                    loop {
                        let now = work_here();
                        longest.fetch_max(now - last, Ordering::Relaxed);
                        idle = if now == last { idle + 1 } else { 0 };
                        last = now;
                        turns.fetch_add(1, Ordering::Relaxed);
                        if idle < 50 {
                            tokio::task::yield_now().await;
                        } else {
                            tokio::time::sleep(Duration::from_millis(1)).await;
                        }
                    }
                }
                .traced("neighbour")
                .cancelled_quietly()
            });
            tokio::task::yield_now().await; // its first turn, before the loop
            let before = turns.load(Ordering::Relaxed);
            let here_before = work_ns_here();
            let sum = held.wrap(process(backlog).traced("worker")).await;
            let work_here = work_ns_here() - here_before;
            // One more turn, to see the work done since the last one.
            let end = turns.load(Ordering::Relaxed);
            while turns.load(Ordering::Relaxed) == end {
                tokio::task::yield_now().await;
            }
            let turns = turns.load(Ordering::Relaxed) - before;
            neighbour.abort();
            tokio::time::sleep(TICK * 2).await;
            (
                sum,
                heartbeat.worst_lateness_ratio(),
                turns,
                longest.load(Ordering::Relaxed),
                work_here,
            )
        });
        let all_done = ledger.done.iter().all(|d| d.load(Ordering::Relaxed));
        let expected = ledger
            .results
            .iter()
            .fold(0u64, |s, r| s.wrapping_add(r.load(Ordering::Relaxed)));
        Measured {
            lateness,
            held: held.longest_cpu_ratio(TICK),
            asleep: held.asleep().as_secs_f64() / TICK.as_secs_f64(),
            longest_turn: longest as f64 / TICK.as_micros() as f64,
            // The last turn only saw the loop end.
            turns: turns.saturating_sub(1),
            wrong_sum: !all_done || sum != expected,
            item_took: (work_here > 0 && load.items > 0)
                .then(|| Duration::from_nanos(work_here / load.items as u64)),
        }
    }

    /// Runs each backlog, and sets the facts: the worse of the two.
    pub fn measure<P>(facts: &Facts, loads: &[Load], process: P) -> Vec<Measured>
    where
        P: AsyncFn(Backlog) -> u64,
    {
        let all: Vec<Measured> = loads.iter().map(|l| measure_one(l, &process)).collect();
        let worst = |f: fn(&Measured) -> f64| all.iter().map(f).fold(0.0, f64::max);
        facts.set("heartbeat_lateness", worst(|m| m.lateness));
        facts.set("worker_held", worst(|m| m.held));
        facts.set("worker_asleep", worst(|m| m.asleep));
        facts.set("longest_turn", worst(|m| m.longest_turn));
        facts.set(
            "neighbour_turns",
            all.iter().map(|m| m.turns).min().unwrap_or(0) as f64,
        );
        facts.set(
            "wrong_sum",
            all.iter().filter(|m| m.wrong_sum).count() as u32,
        );
        all
    }

    pub fn run<P>(facts: &Facts, process: P)
    where
        P: AsyncFn(Backlog) -> u64,
    {
        println!(
            "A loop ({} function) works through an always-ready backlog, beside a 10 ms heartbeat, on one thread.",
            facts.the("process")
        );
        say_seed();
        let loads = loads(&mut Rng::for_scenario("starve"));
        for (i, l) in loads.iter().enumerate() {
            println!("Backlog {}: {}.", i + 1, l.name);
        }
        let measured = measure(facts, &loads, process);
        for (i, (m, l)) in measured.iter().zip(&loads).enumerate() {
            println!(
                "Backlog {}: the heartbeat was up to {:.1} ticks late (a loop that yields through tokio's budget: up to {:.1}, two slices of 128 items); at most {:.1} ticks of work between two turns of the neighbour, which had {} turns.",
                i + 1,
                m.lateness,
                two_slices(l, m),
                m.longest_turn,
                m.turns
            );
        }
    }

    pub fn piece<'a, P>(name: &'static str, process: P) -> Piece<'a>
    where
        P: AsyncFn(Backlog) -> u64 + 'a,
    {
        Piece::new(name, move |facts| run(facts, process))
    }

    /// The exercise binary's `main`: judges the learner's `process`.
    pub fn exercise<P>(process: P) -> ExitCode
    where
        P: AsyncFn(Backlog) -> u64,
    {
        shared::lesson::main(
            LESSON,
            Variant::Exercise("starve"),
            vec![SPEC.with(vec![piece("", process)])],
        )
    }
}

// ----------------------------------------------------------------- halt --

/// The `halt` scenario: a loop over an always-ready backlog, beside a
/// heartbeat, that must also stop when asked and report the work it did.
pub mod halt {
    use super::*;

    pub static SPEC: Spec = Spec {
        name: "halt",
        facts: &[
            fact(
                "heartbeat_lateness",
                "the heartbeat's worst lateness, in 10 ms ticks",
            )
            .timing(),
            fact(
                "worker_held",
                "the most CPU time the loop spent in one poll, in 10 ms ticks: the work it did before giving its thread back, which a busy machine does not stretch",
            )
            .timing(),
            fact(
                "worker_asleep",
                "the time the loop's thread slept inside its polls (a blocking join, sleep or wait), in 10 ms ticks, in the backlog with the most",
            )
            .timing(),
            fact(
                "longest_turn",
                "the most work the thread did between two turns of another task, in 10 ms ticks of the items' set cost: counted, not timed",
            ),
            fact(
                "neighbour_turns",
                "turns another task on the thread got while the loop ran through the backlog with no stop",
            ),
            fact(
                "stop_lag",
                "the work done after the stop was asked for, in 10 ms ticks of the items' set cost: counted, not timed",
            ),
            fact(
                "worker_idle",
                "the time the loop's thread stood idle (parked, nothing to run) while the loop ran, beyond the time of the work done meanwhile on other threads, over the time its items' work took (worst backlog): 0 for a loop that works and gives way, far more for one that sleeps between items",
            )
            .timing(),
            fact(
                "stopped_early",
                "backlogs the loop left unfinished although no stop had been asked for",
            ),
            fact(
                "wrong_sum",
                "backlogs whose result was not the work of every item done, combined",
            ),
            fact(
                "kept_after_return",
                "backlogs of which the program still held something (the backlog or an item) just after the loop returned: counted exactly, not timed",
            ),
            fact(
                "after_return",
                "items worked after the loop had returned, counted at the end of the whole run",
            ),
            fact(
                "threads_busy",
                "the time the program's own threads (every thread but the harness's, whenever it was made) spent on a core or waiting for one while the loop ran, beyond the time of the items' work done on them, over the time the items' work took, a tick at least (worst backlog): about 1 for a thread that spins",
            )
            .timing(),
            fact(
                "worker_spun",
                "the CPU time the loop's polls spent on its thread beyond the CPU time of the items' work done in them, over the CPU time all the items' work took, a tick at least (worst backlog): near 0 for a loop that works and gives way, about 1 for one that spins while it waits for a thread",
            ),
            fact(
                "sleeping_polls",
                "polls of the loop in which its thread slept (a blocking sleep, join or wait), in the backlog with the most",
            ),
            fact(
                "empty_polls",
                "polls of the loop that gave its thread back with no item worked in them, in the backlog with the most",
            ),
        ],
    };

    /// One backlog: how many items, how long each one's work takes, and
    /// when the stop comes, as a share of the whole backlog's work (none:
    /// it does not come).
    #[derive(Clone, Debug)]
    pub struct Load {
        pub name: String,
        pub items: usize,
        pub cost: Duration,
        pub stop_at: Option<f64>,
        salt: u64,
    }

    impl Load {
        /// A backlog of `items` items of `cost` each, stopped after
        /// `stop_at` of its work (a share, from 0 to 1), or never.
        pub fn new(rng: &mut Rng, items: usize, cost: Duration, stop_at: Option<f64>) -> Load {
            Load {
                name: format!("{items} items of {} µs", cost.as_micros()),
                items,
                cost,
                stop_at,
                salt: rng.salt(),
            }
        }
    }

    /// This run's two backlogs, drawn from `rng`: many light items, with
    /// a stop after 30 to 50% of their work; then fewer heavier ones, with
    /// no stop. Each is 90 ms of work or more.
    pub fn loads(rng: &mut Rng) -> Vec<Load> {
        let items = rng.between(3000, 4000) as usize;
        let cost = Duration::from_micros(rng.between(35, 45));
        let stop_at = rng.between(30, 50) as f64 / 100.0;
        let light = Load {
            name: format!(
                "{items} items of {} µs, stopped after about {:.0}% of them",
                cost.as_micros(),
                stop_at * 100.0
            ),
            items,
            cost,
            stop_at: Some(stop_at),
            salt: rng.salt(),
        };
        let items = rng.between(1500, 2000) as usize;
        let cost = Duration::from_micros(rng.between(60, 75));
        let heavy = Load {
            name: format!("{items} items of {} µs, no stop", cost.as_micros()),
            items,
            cost,
            stop_at: None,
            salt: rng.salt(),
        };
        vec![light, heavy]
    }

    /// What one backlog measured.
    #[derive(Clone, Debug)]
    pub struct Measured {
        pub lateness: f64,
        pub held: f64,
        pub asleep: f64,
        pub longest_turn: f64,
        pub turns: u64,
        /// Work after the stop, in ticks; `None` if no stop came.
        pub stop_lag: Option<f64>,
        /// The time its thread was idle while the loop ran (beyond the work
        /// done elsewhere meanwhile), over the time its items' work took.
        pub idle: f64,
        pub stopped_early: bool,
        pub wrong_sum: bool,
        /// Whether the program still held the backlog, or an item of it,
        /// just after the loop returned.
        pub kept: bool,
        /// The work done on the backlog (µs of the items' set cost), as
        /// the ledger counts it, and its count when the loop returned.
        pub work_us: Arc<AtomicU64>,
        pub work_at_return: u64,
        pub cost_us: u64,
        /// The program's threads' time beyond the items' work done on
        /// them, over the items' work time.
        pub threads_busy: f64,
        /// The loop's polls' CPU time beyond its items' work, over the
        /// items' work time.
        pub spun: f64,
        /// Polls of the loop in which its thread slept.
        pub sleeping_polls: u32,
        /// Polls of the loop that returned Pending with no item worked.
        pub empty_polls: u32,
    }

    /// Runs `process` on a current-thread runtime beside a heartbeat and a
    /// neighbour task that counts its turns; a thread of the harness's own
    /// cancels the stop when the time for its share of the work has passed.
    pub fn measure_one<P>(load: &Load, process: &P) -> Measured
    where
        P: AsyncFn(Backlog, CancellationToken) -> u64,
    {
        // Every thread alive now but this one and the kit's is the
        // program's: made in its `main`, or by an earlier backlog and kept.
        let harness = shared::record::sched::HarnessThreads::begin();
        let backlog = Backlog::new(load.items, load.cost, load.salt);
        let ledger = backlog.ledger.clone();
        let stop = CancellationToken::new();
        let held = Held::new();
        // The stopper: started with the loop, it waits for its share of the
        // backlog's time, unless the loop returns first, then notes the
        // work done so far and cancels the stop.
        let (go, gone) = std::sync::mpsc::channel::<()>();
        let (returned, has_returned) = std::sync::mpsc::channel::<()>();
        let stopper = load.stop_at.map(|share| {
            let wait = load.cost.mul_f64(load.items as f64 * share);
            // The work's count only, not the ledger: the harness's only
            // hold on the ledger is its own, so that whatever else holds
            // it after the loop returned is the program's.
            let (stop, work_us) = (stop.clone(), ledger.work_us.clone());
            std::thread::spawn(move || {
                shared::record::sched::claim_this_thread();
                gone.recv().ok()?;
                match has_returned.recv_timeout(wait) {
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                        let at = work_us.load(Ordering::SeqCst);
                        stop.cancel();
                        Some(at)
                    }
                    _ => None,
                }
            })
        });
        // The runtime's thread parks only when no task is ready: never
        // while a loop works or yields, whatever the machine's load.
        let (runtime, parked) = watched_runtime();
        // The harness's threads (this one, which runs the runtime; the
        // stopper; the kit's), left out of `threads_busy`.
        let harness_threads = harness.now();
        let polls = Polls::default();
        let (sum, lateness, turns, longest, idle, work_here, others, kept) =
            runtime.block_on(async {
                let heartbeat = Heartbeat::spawn(TICK);
                tokio::time::sleep(TICK * 2).await;
                let turns = Arc::new(AtomicU64::new(0));
                let longest = Arc::new(AtomicU64::new(0));
                let neighbour = tokio::spawn({
                    let (turns, longest) = (turns.clone(), longest.clone());
                    async move {
                        let mut last = work_here();
                        let mut idle = 0u32;
                        loop {
                            let now = work_here();
                            longest.fetch_max(now - last, Ordering::Relaxed);
                            idle = if now == last { idle + 1 } else { 0 };
                            last = now;
                            turns.fetch_add(1, Ordering::Relaxed);
                            if idle < 50 {
                                tokio::task::yield_now().await;
                            } else {
                                tokio::time::sleep(Duration::from_millis(1)).await;
                            }
                        }
                    }
                    .traced("neighbour")
                    .cancelled_quietly()
                });
                tokio::task::yield_now().await; // its first turn, before the loop
                let before = turns.load(Ordering::Relaxed);
                let _ = go.send(());
                // The time threads the program made ran or waited for a core.
                let others = shared::work::cpu::BusyWatch::leaving_out(harness_threads);
                let (parked_before, here_before) = (parked.total(), work_ns_here());
                let sum = {
                    let worker = held.wrap(process(backlog, stop.clone()).traced("worker"));
                    polls.watch(worker).await
                };
                // The loop's future is dropped by now: the harness's `ledger`
                // is its only hold left, and any other is the backlog or an
                // item, kept by the program (in a thread, a task, a static).
                let kept = Arc::strong_count(&ledger) > 1;
                let idle = parked.total().saturating_sub(parked_before);
                let work_here = work_ns_here() - here_before;
                let others = others.finish().time;
                let _ = returned.send(());
                let end = turns.load(Ordering::Relaxed);
                while turns.load(Ordering::Relaxed) == end {
                    tokio::task::yield_now().await;
                }
                let turns = turns.load(Ordering::Relaxed) - before;
                neighbour.abort();
                tokio::time::sleep(TICK * 2).await;
                (
                    sum,
                    heartbeat.worst_lateness_ratio(),
                    turns,
                    longest.load(Ordering::Relaxed),
                    idle,
                    work_here,
                    others,
                    kept,
                )
            });
        let work_then = ledger.work_us.load(Ordering::SeqCst);
        let stopped_at = stopper.and_then(|t| t.join().ok().flatten());
        let done = ledger
            .done
            .iter()
            .filter(|d| d.load(Ordering::Relaxed))
            .count();
        let expected = ledger
            .results
            .iter()
            .zip(&ledger.done)
            .filter(|(_, d)| d.load(Ordering::Relaxed))
            .fold(0u64, |s, (r, _)| s.wrapping_add(r.load(Ordering::Relaxed)));
        let tick_us = TICK.as_micros() as f64;
        // The time of the items' work, and of the part done elsewhere than
        // on the loop's thread (at least a microsecond, for a loop that did
        // nothing).
        let all = ledger.work_ns.load(Ordering::Relaxed);
        let elsewhere = all.saturating_sub(work_here);
        // The items' work, times, at least a tick: a stop that comes before
        // the loop did much (a busy machine gave it little of its time)
        // must not make a poll's or a thread's start look like a spin.
        let tick_ns = TICK.as_nanos() as u64;
        let work_cpu = ledger.work_cpu.load(Ordering::Relaxed).max(tick_ns) as f64;
        let work_wall = all.max(tick_ns) as f64;
        let all = all.max(1_000) as f64;
        Measured {
            lateness,
            held: held.longest_cpu_ratio(TICK),
            asleep: held.asleep().as_secs_f64() / TICK.as_secs_f64(),
            longest_turn: longest as f64 / tick_us,
            turns: turns.saturating_sub(1),
            stop_lag: stopped_at.map(|at| work_then.saturating_sub(at) as f64 / tick_us),
            // Idle while work went on elsewhere is waiting for that work,
            // not idling (at least a microsecond of work, for a loop that
            // did nothing).
            idle: (idle.as_nanos() as u64).saturating_sub(elsewhere) as f64 / all,
            stopped_early: done < load.items && stopped_at.is_none(),
            wrong_sum: sum != expected,
            kept,
            work_us: ledger.work_us.clone(),
            work_at_return: work_then,
            cost_us: ledger.cost_us.max(1),
            // Item work is timed by the clock, which counts the time a
            // busy machine paused it: taking it off can only make a spin
            // look smaller, never a fix look busier.
            threads_busy: (others.as_nanos() as u64).saturating_sub(elsewhere) as f64 / work_wall,
            // CPU time over CPU time: a busy machine stretches neither.
            spun: polls.spare_ns.get() as f64 / work_cpu,
            sleeping_polls: polls.slept.get(),
            empty_polls: polls.empty.get(),
        }
    }

    /// What the loop's polls did, each looked at as it ran: CPU time
    /// beyond the items' work, sleeps, and polls with no work.
    #[derive(Default)]
    struct Polls {
        spare_ns: Cell<u64>,
        slept: Cell<u32>,
        empty: Cell<u32>,
    }

    impl Polls {
        /// `fut`, each of its polls looked at.
        async fn watch<F: Future>(&self, fut: F) -> F::Output {
            use shared::record::sched::voluntary_switches;
            let mut fut = std::pin::pin!(fut);
            std::future::poll_fn(|cx| {
                // The CPU clock read last before the poll and first after
                // it, so that the other reads are not counted.
                let (slept, items, items_cpu) =
                    (voluntary_switches(), work_here(), work_cpu_here());
                let cpu = cpu_ns();
                let result = fut.as_mut().poll(cx);
                // The poll's CPU time, but for its items' work.
                let spare = cpu_ns()
                    .saturating_sub(cpu)
                    .saturating_sub(work_cpu_here() - items_cpu);
                self.spare_ns.set(self.spare_ns.get() + spare);
                if voluntary_switches() > slept {
                    self.slept.set(self.slept.get() + 1);
                }
                if result.is_pending() && work_here() == items {
                    self.empty.set(self.empty.get() + 1);
                }
                result
            })
            .await
        }
    }

    /// Runs each backlog, and sets the facts: the worse of the two.
    pub fn measure<P>(facts: &Facts, loads: &[Load], process: P) -> Vec<Measured>
    where
        P: AsyncFn(Backlog, CancellationToken) -> u64,
    {
        let all: Vec<Measured> = loads.iter().map(|l| measure_one(l, &process)).collect();
        let worst = |f: fn(&Measured) -> f64| all.iter().map(f).fold(0.0, f64::max);
        facts.set("heartbeat_lateness", worst(|m| m.lateness));
        facts.set("worker_held", worst(|m| m.held));
        facts.set("worker_asleep", worst(|m| m.asleep));
        facts.set("longest_turn", worst(|m| m.longest_turn));
        facts.set(
            "neighbour_turns",
            all.iter()
                .filter(|m| m.stop_lag.is_none())
                .map(|m| m.turns)
                .min()
                .unwrap_or(0) as f64,
        );
        facts.set("stop_lag", worst(|m| m.stop_lag.unwrap_or(0.0)));
        facts.set("worker_idle", worst(|m| m.idle));
        facts.set(
            "stopped_early",
            all.iter().filter(|m| m.stopped_early).count() as u32,
        );
        facts.set(
            "wrong_sum",
            all.iter().filter(|m| m.wrong_sum).count() as u32,
        );
        facts.set(
            "kept_after_return",
            all.iter().filter(|m| m.kept).count() as u32,
        );
        // Looked at once every backlog is done: work left to a thread, a
        // task or a static shows by now.
        let after: u64 = all
            .iter()
            .map(|m| {
                m.work_us
                    .load(Ordering::SeqCst)
                    .saturating_sub(m.work_at_return)
                    / m.cost_us
            })
            .sum();
        facts.set("after_return", after as u32);
        facts.set("threads_busy", worst(|m| m.threads_busy));
        facts.set("worker_spun", worst(|m| m.spun));
        facts.set(
            "sleeping_polls",
            all.iter().map(|m| m.sleeping_polls).max().unwrap_or(0),
        );
        facts.set(
            "empty_polls",
            all.iter().map(|m| m.empty_polls).max().unwrap_or(0),
        );
        all
    }

    pub fn run<P>(facts: &Facts, process: P)
    where
        P: AsyncFn(Backlog, CancellationToken) -> u64,
    {
        println!(
            "A loop ({} function) works through an always-ready backlog, beside a 10 ms heartbeat, on one thread, and must stop when asked, with the sum of the work it did.",
            facts.the("process")
        );
        say_seed();
        let loads = loads(&mut Rng::for_scenario("halt"));
        for (i, l) in loads.iter().enumerate() {
            println!("Backlog {}: {}.", i + 1, l.name);
        }
        let measured = measure(facts, &loads, process);
        for (i, m) in measured.iter().enumerate() {
            let lag = match m.stop_lag {
                Some(lag) => format!("{lag:.1} ticks of work after the stop"),
                None => "no stop came".to_string(),
            };
            println!(
                "Backlog {}: the heartbeat was up to {:.1} ticks late; at most {:.1} ticks of work between two turns of the neighbour, which had {} turns; the thread stood idle for {:.2} times the loop's work; {lag}; {}.",
                i + 1,
                m.lateness,
                m.longest_turn,
                m.turns,
                m.idle,
                if m.wrong_sum {
                    "the sum was not the work done"
                } else {
                    "the sum was the work done"
                }
            );
        }
    }

    pub fn piece<'a, P>(name: &'static str, process: P) -> Piece<'a>
    where
        P: AsyncFn(Backlog, CancellationToken) -> u64 + 'a,
    {
        Piece::new(name, move |facts| run(facts, process))
    }

    /// The exercise binary's `main`: judges the learner's `process`.
    pub fn exercise<P>(process: P) -> ExitCode
    where
        P: AsyncFn(Backlog, CancellationToken) -> u64,
    {
        shared::lesson::main(
            LESSON,
            Variant::Exercise("starve"),
            vec![SPEC.with(vec![piece("", process)])],
        )
    }
}
