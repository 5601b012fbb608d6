//! # Lesson 08: channels
//!
//! Tasks share by communicating. A channel has two ends, and the receiving
//! end learns that no more messages will come only when the **last** sender
//! is dropped. A bounded channel makes a fast producer wait for a slow
//! consumer (backpressure); an unbounded one lets the queue grow instead,
//! and a path of requests and replies must be bounded from end to end, not
//! at one channel (`requests`).
//! This crate shows both mistakes, then the other channels tokio offers and
//! how threads and tasks talk to each other.

use shared::TraceExt;
use shared::lesson::{Facts, Piece, Spec, Variant, fact};
use shared::record::held::Held;
use shared::record::threads::name_threads;
use shared::work::alive::{Alive, Census};
use shared::work::shape::{Arrivals, Rng, seed};
use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

/// This lesson's id, `lesson-08`: its package name.
pub const LESSON: &str = env!("CARGO_PKG_NAME");

/// Jobs the producer submits when no harness has picked how many.
pub const JOBS: u32 = 10;
/// Messages `messages()` makes when no harness has picked how many.
pub const ITEMS: u32 = 300;
/// Room in the lesson's bounded channel.
pub const CAPACITY: usize = 16;
/// How long the slow consumer spends on each message when no harness has
/// picked another time.
pub const WORK: Duration = Duration::from_millis(1);

// ANCHOR: jobs
/// A job for the worker. Only [`submit_jobs`] makes one, and only
/// [`try_job`] does it; it cannot be copied, and one dropped before it is
/// done is lost.
pub struct Job {
    id: usize,
    session: Arc<JobSession>,
    /// Done, or refused by a closed queue: no longer the worker's to lose.
    settled: bool,
}

/// Submits the session's jobs to `queue` on the harness's schedule (ten
/// jobs, 5 ms apart, outside a harness), then returns, dropping its
/// sender (in some sessions, a little while after its last job).
pub async fn submit_jobs(queue: mpsc::UnboundedSender<Job>) {
    let session = job_session_now();
    let start = tokio::time::Instant::now();
    for id in 0..session.plan.len() {
        tokio::time::sleep_until(start + session.plan[id].at).await;
        if queue.is_closed() {
            shared::mark("nobody receives any more: the producer stops");
            return;
        }
        if let Err(mpsc::error::SendError(mut job)) = queue.send(session.make(id)) {
            job.settled = true;
            return;
        }
    }
    if let Some(end) = session.producer_ends {
        shared::mark("all jobs submitted; the producer keeps its sender a while");
        tokio::time::sleep_until(start + end).await;
    }
    session.producer_done();
    shared::mark("the producer is done: its sender is dropped");
    drop(queue);
}

/// Tries a job, which takes a little while. Most jobs succeed; some fail
/// for now, and come back as `Err(job)`, to be tried again later (a job
/// fails a few times at most).
pub async fn try_job(mut job: Job) -> Result<(), Job> {
    let session = job.session.clone();
    tokio::time::sleep(session.start_try(job.id)).await;
    if session.fails_now(job.id) {
        return Err(job);
    }
    job.settled = true;
    session.finished(job.id);
    Ok(())
}
// ANCHOR_END: jobs

impl Drop for Job {
    fn drop(&mut self) {
        if !self.settled {
            self.session.lost.fetch_add(1, Ordering::SeqCst);
        }
    }
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Job({})", self.id)
    }
}

/// One job of a session's plan: when it is submitted, how long each try
/// of it takes, and how many of its tries fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    pub at: Duration,
    pub work: Duration,
    pub fails: u32,
}

/// One session of the `close` scenario, as the harness set it up, and what
/// happened to its jobs.
struct JobSession {
    plan: Vec<Step>,
    /// When the producer drops its sender, if not at once after its last
    /// job.
    producer_ends: Option<Duration>,
    /// When it did.
    producer_done_at: Mutex<Option<tokio::time::Instant>>,
    /// Tries of each job that have failed so far.
    failed: Mutex<Vec<u32>>,
    tries: AtomicU32,
    done: AtomicU32,
    lost: AtomicU32,
    /// When the last job was done, if every job is.
    all_done_at: Mutex<Option<tokio::time::Instant>>,
}

impl JobSession {
    fn new(plan: Vec<Step>, producer_ends: Option<Duration>) -> JobSession {
        JobSession {
            failed: Mutex::new(vec![0; plan.len()]),
            plan,
            producer_ends,
            producer_done_at: Mutex::default(),
            tries: AtomicU32::new(0),
            done: AtomicU32::new(0),
            lost: AtomicU32::new(0),
            all_done_at: Mutex::default(),
        }
    }

    fn make(self: &Arc<Self>, id: usize) -> Job {
        Job {
            id,
            session: self.clone(),
            settled: false,
        }
    }

    fn jobs(&self) -> u32 {
        self.plan.len() as u32
    }

    /// Counts a try of job `id`, and says how long it takes.
    fn start_try(&self, id: usize) -> Duration {
        self.tries.fetch_add(1, Ordering::SeqCst);
        self.plan[id].work
    }

    /// Whether this try of job `id` fails (its first `fails` tries do).
    fn fails_now(&self, id: usize) -> bool {
        let mut failed = self.failed.lock().unwrap_or_else(|e| e.into_inner());
        let fails = failed[id] < self.plan[id].fails;
        if fails {
            failed[id] += 1;
        }
        fails
    }

    fn finished(&self, _id: usize) {
        let done = self.done.fetch_add(1, Ordering::SeqCst) + 1;
        if done == self.jobs() {
            *self.all_done_at.lock().unwrap_or_else(|e| e.into_inner()) =
                Some(tokio::time::Instant::now());
            shared::mark("every job done");
        }
    }

    fn all_done_at(&self) -> Option<tokio::time::Instant> {
        *self.all_done_at.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn producer_done(&self) {
        *self
            .producer_done_at
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(tokio::time::Instant::now());
    }

    /// When no job could come any more: every job done, and the producer
    /// gone (if it has gone yet).
    fn over_at(&self) -> Option<tokio::time::Instant> {
        let done = self.all_done_at()?;
        let producer = *self
            .producer_done_at
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        Some(producer.map_or(done, |p| p.max(done)))
    }
}

thread_local! {
    /// The `close` session the harness is running on this thread.
    static JOB_SESSION: RefCell<Option<Arc<JobSession>>> = const { RefCell::new(None) };
}

/// The session of the current run: outside a harness, ten jobs 5 ms apart,
/// 1 ms a try; every third job, and the last, fails once.
fn job_session_now() -> Arc<JobSession> {
    JOB_SESSION.with(|c| c.borrow().clone()).unwrap_or_else(|| {
        let plan = (0..JOBS)
            .map(|i| Step {
                at: Duration::from_millis(5) * (i + 1),
                work: Duration::from_millis(1),
                fails: u32::from(i % 3 == 2 || i + 1 == JOBS),
            })
            .collect();
        Arc::new(JobSession::new(plan, None))
    })
}

/// The payload of a message in the `backpressure` scenario: about 1 KiB,
/// made by the harness (only [`messages`] makes them).
#[derive(Debug)]
pub struct Payload {
    seq: u32,
    body: Vec<u8>,
}

impl Payload {
    /// Where it came in the producer's order, from 0.
    pub fn seq(&self) -> u32 {
        self.seq
    }
}

/// A message: a payload that counts itself alive from the moment it is
/// made until it is dropped, wherever it is kept in between.
pub type Msg = Alive<Payload>;

/// One flood of the `backpressure` scenario, as the harness set it up:
/// how many messages, their salt, how long the consumer takes for each,
/// and what it received.
struct Flood {
    census: Census,
    items: u32,
    salt: u64,
    /// How long the consumer works on message `i`.
    work: Vec<Duration>,
    received: AtomicU32,
    wrong: AtomicU32,
    next_seq: AtomicU32,
}

impl Flood {
    fn new(items: u32, salt: u64, work: Vec<Duration>) -> Flood {
        Flood {
            census: Census::new(),
            items,
            salt,
            work,
            received: AtomicU32::new(0),
            wrong: AtomicU32::new(0),
            next_seq: AtomicU32::new(0),
        }
    }

    fn body(&self, seq: u32) -> Vec<u8> {
        let mut x = self.salt ^ u64::from(seq);
        (0..1024)
            .map(|_| {
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                (x >> 56) as u8
            })
            .collect()
    }

    /// Checks a message the consumer received: made by this flood's
    /// census, intact, and after every message received before it. (A
    /// message skipped is not wrong here: it is lost.)
    fn check(&self, msg: &Msg) {
        let next = self.next_seq.load(Ordering::SeqCst);
        let right = self.census.made_it(msg)
            && msg.seq >= next
            && msg.seq < self.items
            && msg.body == self.body(msg.seq);
        if right {
            self.received.fetch_add(1, Ordering::SeqCst);
            self.next_seq.store(msg.seq + 1, Ordering::SeqCst);
        } else {
            self.wrong.fetch_add(1, Ordering::SeqCst);
        }
    }
}

thread_local! {
    /// The flood the harness is running on this thread.
    static FLOOD: RefCell<Option<Arc<Flood>>> = const { RefCell::new(None) };
}

fn flood_run() -> Arc<Flood> {
    FLOOD
        .with(|f| f.borrow().clone())
        .unwrap_or_else(|| Arc::new(Flood::new(ITEMS, 0, vec![WORK; ITEMS as usize])))
}

/// The messages the producer has to send, made one at a time as it asks
/// for them: as many as the harness picked (300 outside a harness).
pub fn messages() -> impl Iterator<Item = Msg> + Send + 'static {
    let flood = flood_run();
    (0..flood.items).map(move |seq| {
        flood.census.make(Payload {
            seq,
            body: flood.body(seq),
        })
    })
}

mod sealed {
    pub trait Sealed {}
}

/// The receiving end of either kind of channel, so that one consumer can
/// read from both. Sealed: only the lesson's channels are inboxes.
pub trait Inbox: sealed::Sealed {
    fn next(&mut self) -> impl Future<Output = Option<Msg>>;
}

impl sealed::Sealed for mpsc::Receiver<Msg> {}
impl sealed::Sealed for mpsc::UnboundedReceiver<Msg> {}

impl Inbox for mpsc::Receiver<Msg> {
    fn next(&mut self) -> impl Future<Output = Option<Msg>> {
        self.recv()
    }
}

impl Inbox for mpsc::UnboundedReceiver<Msg> {
    fn next(&mut self) -> impl Future<Output = Option<Msg>> {
        self.recv()
    }
}

/// What the slow consumer says it received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Consumed {
    pub received: u32,
}

/// Takes a while over each message (as long as the harness says), checks
/// it, and drops it.
pub fn slow_consumer(inbox: impl Inbox) -> impl Future<Output = Consumed> {
    consume(inbox).traced("consumer")
}

async fn consume(mut inbox: impl Inbox) -> Consumed {
    let flood = flood_run();
    let mut received = 0;
    while let Some(msg) = inbox.next().await {
        flood.check(&msg);
        let work = flood.work.get(msg.seq as usize).copied().unwrap_or(WORK);
        received += 1;
        drop(msg);
        tokio::time::sleep(work).await;
    }
    Consumed { received }
}

pub mod broken {
    use super::*;

    // ANCHOR: broken_close
    /// Starts the producer and the worker, and waits for the worker.
    pub async fn job_session() {
        let (queue, jobs) = mpsc::unbounded_channel();
        tokio::spawn(submit_jobs(queue.clone()).traced("producer"));
        let worker = tokio::spawn(work_through(jobs, queue).traced("worker"));
        worker.await.expect("the worker does not panic");
    }

    /// Tries each job as it comes. A job that fails goes back into the
    /// queue, behind the others, to be tried again.
    async fn work_through(
        mut jobs: mpsc::UnboundedReceiver<Job>,
        requeue: mpsc::UnboundedSender<Job>,
    ) {
        while let Some(job) = jobs.recv().await {
            if let Err(job) = try_job(job).await {
                requeue.send(job).expect("the worker is still receiving");
            }
        }
        // BROKEN: never reached. `requeue` is a sender of the worker's own
        // queue, so the queue never closes while the worker runs.
    }
    // ANCHOR_END: broken_close

    // ANCHOR: broken_flood
    /// A fast producer and a slow consumer over an unbounded channel.
    pub async fn flood() -> Consumed {
        let (tx, rx) = mpsc::unbounded_channel();
        let consumer = tokio::spawn(slow_consumer(rx));
        let producer = async move {
            for msg in messages() {
                tx.send(msg).expect("the consumer is running"); // BROKEN: never waits
            }
        };
        producer.traced("producer").await;
        consumer.await.expect("the consumer does not panic")
    }
    // ANCHOR_END: broken_flood

    // ANCHOR: broken_requests
    /// Sends every request, then takes every reply, in order.
    pub async fn ask_all(answers: Answers) {
        let (calls, inbox) = mpsc::unbounded_channel();
        let server = tokio::spawn(server(inbox));
        let mut replies = Vec::new();
        for request in requests() {
            let (reply, answer) = oneshot::channel();
            calls
                .send(Call { request, reply })
                .expect("the server is running");
            replies.push(answer);
        }
        // BROKEN: by now every request waits in the server's queue, and
        // the replies pile up in their oneshots until they are taken
        for answer in replies {
            answers.take(answer.await.expect("the server replies"));
        }
        drop(calls);
        server.await.expect("the server does not panic");
    }
    // ANCHOR_END: broken_requests
}

pub mod fixed {
    use super::*;

    // ANCHOR: fixed_close
    /// The producer's channel has one sender, the producer's: it closes
    /// when the producer is done.
    pub async fn job_session() {
        let (queue, jobs) = mpsc::unbounded_channel();
        tokio::spawn(submit_jobs(queue).traced("producer"));
        let worker = tokio::spawn(work_through(jobs).traced("worker"));
        worker.await.expect("the worker does not panic");
    }

    /// The worker sends failed jobs back on a channel of its own, and
    /// counts how many are out: once the producer's channel has closed and
    /// none is out, no job can come any more, and it stops.
    async fn work_through(mut jobs: mpsc::UnboundedReceiver<Job>) {
        let (again, mut retries) = mpsc::unbounded_channel();
        let mut out = 0; // failed jobs sent back, not yet taken again
        let mut submitting = true; // until the producer's channel closes
        while submitting || out > 0 {
            let job = tokio::select! {
                Some(job) = retries.recv(), if out > 0 => {
                    out -= 1;
                    job
                }
                job = jobs.recv(), if submitting => match job {
                    Some(job) => job,
                    None => {
                        submitting = false;
                        continue;
                    }
                },
            };
            if let Err(job) = try_job(job).await {
                again.send(job).expect("the worker holds the receiver");
                out += 1;
            }
        }
    }
    // ANCHOR_END: fixed_close

    // ANCHOR: fixed_flood
    /// The same over a bounded channel: when it is full, `send().await`
    /// waits for room, so the producer runs at the consumer's pace.
    pub async fn flood() -> Consumed {
        let (tx, rx) = mpsc::channel(CAPACITY);
        let consumer = tokio::spawn(slow_consumer(rx));
        let producer = async move {
            for msg in messages() {
                tx.send(msg).await.expect("the consumer is running"); // FIXED: waits
            }
        };
        producer.traced("producer").await;
        consumer.await.expect("the consumer does not panic")
    }
    // ANCHOR_END: fixed_flood

    // ANCHOR: fixed_requests
    /// The same with the whole path bounded: the calls in a bounded
    /// channel, and the replies' oneshots in another, read by a task that
    /// takes each reply as it comes. The client can be at most
    /// `CAPACITY` replies ahead of what has been taken.
    pub async fn ask_all(answers: Answers) {
        let (calls, inbox) = mpsc::channel(CAPACITY);
        let server = tokio::spawn(server(inbox));
        // FIXED: the replies waiting to be taken are bounded too
        let (pending, mut waiting) = mpsc::channel::<oneshot::Receiver<Packet>>(CAPACITY);
        let taker = tokio::spawn(async move {
            while let Some(answer) = waiting.recv().await {
                answers.take(answer.await.expect("the server replies"));
            }
        });
        for request in requests() {
            let (reply, answer) = oneshot::channel();
            calls
                .send(Call { request, reply })
                .await
                .expect("the server is running");
            pending.send(answer).await.expect("the taker is running");
        }
        drop((calls, pending));
        taker.await.expect("the taker does not panic");
        server.await.expect("the server does not panic");
    }
    // ANCHOR_END: fixed_requests
}

// ANCHOR: request_response
/// A request that carries the way back: a oneshot sender for the answer.
pub struct Square {
    pub n: u64,
    pub reply: oneshot::Sender<u64>,
}

/// Serves requests one at a time until every client is gone.
pub async fn square_worker(mut requests: mpsc::Receiver<Square>) {
    while let Some(Square { n, reply }) = requests.recv().await {
        // The client may have given up; then nobody wants the answer.
        let _ = reply.send(n * n);
    }
}

/// Asks the worker and waits for its answer.
pub async fn ask_square(worker: &mpsc::Sender<Square>, n: u64) -> Option<u64> {
    let (reply, answer) = oneshot::channel();
    worker.send(Square { n, reply }).await.ok()?;
    answer.await.ok()
}
// ANCHOR_END: request_response

// ANCHOR: broadcast
/// Every subscriber gets every message, as long as it keeps up: a receiver
/// that falls more than `capacity` messages behind loses the oldest ones
/// and is told how many it missed.
pub fn news(capacity: usize) -> broadcast::Sender<String> {
    broadcast::channel(capacity).0
}
// ANCHOR_END: broadcast

// ANCHOR: watch
/// Only the latest value: receivers that look now and then see the current
/// setting, never a backlog of old ones.
pub fn setting(initial: u32) -> (watch::Sender<u32>, watch::Receiver<u32>) {
    watch::channel(initial)
}
// ANCHOR_END: watch

// ANCHOR: bridge
/// A plain thread (a sensor driver, say) feeding async code: it may block,
/// so it uses `blocking_send`, which waits for room without a runtime.
pub fn start_sensor(readings: mpsc::Sender<u32>, count: u32) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for reading in 0..count {
            if readings.blocking_send(reading).is_err() {
                return; // the async side hung up
            }
        }
    })
}

/// Async code feeding a plain thread (a logger writing files, say): an
/// unbounded crossbeam channel's `send` never blocks, so it is safe to call
/// from a task; the thread blocks in `recv`, which is what threads do.
pub fn start_logger(
    lines: crossbeam_channel::Receiver<String>,
) -> std::thread::JoinHandle<Vec<String>> {
    std::thread::spawn(move || lines.iter().collect())
}
// ANCHOR_END: bridge

/// The runtime for the scenarios: one thread, with a timer.
pub fn runtime() -> tokio::runtime::Runtime {
    let mut builder = tokio::runtime::Builder::new_current_thread();
    name_threads(&mut builder, "", 0)
        .enable_time()
        .build()
        .expect("a current-thread runtime always builds")
}

/// Prints the seed a run's workloads came from, and how to replay it.
fn say_seed() {
    println!(
        "(workloads from seed {0}; LESSON_SEED={0} replays them)",
        seed()
    );
}

/// The `close` scenario: a producer submits jobs, and a worker tries each,
/// sending the ones that fail back to be tried again, in four sessions.
pub mod close {
    use super::*;
    use std::process::ExitCode;

    pub static SPEC: Spec = Spec {
        name: "close",
        facts: &[
            fact(
                "jobs_done",
                "jobs done, over the jobs of the sessions started",
            )
            .live(),
            fact(
                "sessions_over",
                "sessions that returned, over the sessions started",
            )
            .live(),
            fact("lost", "jobs dropped before they were done"),
            fact(
                "left_running",
                "the most tasks still running after a session returned",
            ),
            fact(
                "stop_lag",
                "the longest time from when no job could come any more (every job done, the producer gone) to the session's return, over the longest pause between two jobs",
            )
            .timing(),
            fact(
                "polls_per_try",
                "polls of the session per try of a job (worst session)",
            ),
        ],
    };

    /// One workload: each job's step of the plan.
    #[derive(Clone, Debug)]
    pub struct Shape {
        pub name: String,
        pub steps: Vec<Step>,
        /// When the producer drops its sender, if not right after its
        /// last job.
        pub producer_ends: Option<Duration>,
    }

    /// A plan for jobs submitted at `at`: each try takes 1 to 3 ms, and a
    /// job fails 0 to 2 times (half of them never); the last job fails
    /// `last_fails` times, each try of it taking `last_work`.
    fn plan(rng: &mut Rng, at: Vec<Duration>, last_fails: u32, last_work: Duration) -> Vec<Step> {
        let ms = Duration::from_millis;
        let n = at.len();
        at.into_iter()
            .enumerate()
            .map(|(i, at)| {
                if i + 1 == n {
                    Step {
                        at,
                        work: last_work,
                        fails: last_fails,
                    }
                } else {
                    Step {
                        at,
                        work: rng.duration_between(ms(1), ms(3)),
                        fails: [0, 0, 1, 2][rng.between(0, 3) as usize],
                    }
                }
            })
            .collect()
    }

    /// The four sessions of one run: 5 to 9 jobs, one every 3 to 8 ms; 11
    /// to 20 jobs in bursts over about 60 ms, the last failing twice, each
    /// try of it 40 to 60 ms; then 6 to 10 jobs 3 to 8 ms apart with one
    /// pause of 150 to 300 ms among them. In each of these, the last job
    /// fails at least once: it is tried again after the producer is done.
    /// Third among them, 4 to 8 jobs 3 to 8 ms apart whose last 2 or 3
    /// never fail, and a producer that drops its sender 10 to 40 ms after
    /// every job could have been done: the worker is idle, waiting, when it
    /// goes.
    pub fn shapes(rng: &mut Rng) -> Vec<Shape> {
        let ms = Duration::from_millis;
        let n = rng.between(5, 9) as usize;
        let steady = Arrivals::steady(ms(rng.between(3, 8)), n);
        let work = rng.duration_between(ms(1), ms(3));
        let fails = rng.between(1, 2) as u32;
        let steady = Shape {
            name: format!("{n} jobs, {}", steady.name),
            steps: plan(rng, steady.at, fails, work),
            producer_ends: None,
        };
        let n = rng.between(11, 20) as usize;
        let bursts = Arrivals::bursts(rng, ms(60), n);
        let work = rng.duration_between(ms(40), ms(60));
        let bursts = Shape {
            name: format!(
                "{n} jobs in {}; the last fails twice, {} ms a try",
                bursts.name.replace(" items", ""),
                work.as_millis()
            ),
            steps: plan(rng, bursts.at, 2, work),
            producer_ends: None,
        };
        let n = rng.between(6, 10) as usize;
        let every = ms(rng.between(3, 8));
        let pause = ms(rng.between(150, 300));
        let after = rng.between(2, n as u64 - 2) as usize;
        let at = (1..=n as u32)
            .map(|i| {
                every * i
                    + if i as usize > after {
                        pause
                    } else {
                        Duration::ZERO
                    }
            })
            .collect();
        let work = rng.duration_between(ms(1), ms(3));
        let fails = rng.between(1, 2) as u32;
        let paused = Shape {
            name: format!(
                "{n} jobs, {} ms apart, with a pause of {} ms after the {}",
                every.as_millis(),
                pause.as_millis(),
                ordinal(after)
            ),
            steps: plan(rng, at, fails, work),
            producer_ends: None,
        };
        let n = rng.between(4, 8) as usize;
        let lingering = Arrivals::steady(ms(rng.between(3, 8)), n);
        let work = rng.duration_between(ms(1), ms(3));
        let mut steps = plan(rng, lingering.at, 0, work);
        let last = steps.len() - rng.between(2, 3) as usize;
        for step in &mut steps[last..] {
            step.fails = 0;
        }
        // However the worker goes about it, one try at a time, it is done
        // by the last job plus every try of every job.
        let tries: Duration = steps.iter().map(|s| s.work * (s.fails + 1)).sum();
        let linger = tries + ms(rng.between(10, 40));
        let lingering = Shape {
            name: format!(
                "{n} jobs, {}; the last {} never fail, and the producer goes {} ms after its last job",
                lingering.name.replace(" items", ""),
                n - last,
                linger.as_millis()
            ),
            producer_ends: Some(steps[n - 1].at + linger),
            steps,
        };
        vec![steady, bursts, lingering, paused]
    }

    /// `1st`, `2nd`, `3rd`, `4th`, ...
    fn ordinal(n: usize) -> String {
        let suffix = match (n % 10, n % 100) {
            (_, 11..=13) => "th",
            (1, _) => "st",
            (2, _) => "nd",
            (3, _) => "rd",
            _ => "th",
        };
        format!("{n}{suffix}")
    }

    impl Shape {
        /// The longest time between two jobs submitted (or before the
        /// first).
        pub fn longest_pause(&self) -> Duration {
            let mut last = Duration::ZERO;
            let mut longest = Duration::ZERO;
            for step in &self.steps {
                longest = longest.max(step.at.saturating_sub(last));
                last = step.at;
            }
            longest
        }
    }

    /// Where a run stands: its sessions so far, and what was seen when
    /// each returned.
    #[derive(Default)]
    struct Tally {
        sessions: Vec<Arc<JobSession>>,
        over: usize,
        left_running: usize,
        lags: Vec<Duration>,
        polls_per_try: Vec<f64>,
    }

    impl Tally {
        fn report(&self, facts: &Facts) {
            let jobs: u32 = self.sessions.iter().map(|s| s.jobs()).sum();
            let done: u32 = self
                .sessions
                .iter()
                .map(|s| s.done.load(Ordering::SeqCst))
                .sum();
            facts.set(
                "jobs_done",
                if jobs == 0 {
                    0.0
                } else {
                    f64::from(done) / f64::from(jobs)
                },
            );
            facts.set(
                "sessions_over",
                if self.sessions.is_empty() {
                    0.0
                } else {
                    self.over as f64 / self.sessions.len() as f64
                },
            );
        }
    }

    /// Tasks alive on the current runtime.
    fn alive_tasks() -> usize {
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks()
    }

    /// Runs `session` once per workload on the current runtime (a
    /// current-thread one: the producer learns its session from this
    /// thread), with the jobs done reported every 10 ms. Never returns if
    /// a session waits for ever: that is the bug.
    pub async fn measure<S>(facts: &Facts, shapes: &[Shape], session: S)
    where
        S: AsyncFn(),
    {
        let tally = Arc::new(Mutex::new(Tally::default()));
        Tally::default().report(facts);
        let reporter = {
            let (tally, facts) = (tally.clone(), facts.clone());
            async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    tally
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .report(&facts);
                }
            }
        };
        // A task of its own, untraced: it must not wake the session's task,
        // or the session would look busy to the watchdog while it hangs.
        let reporter = tokio::spawn(reporter);
        let ours = alive_tasks();
        for shape in shapes {
            let run = Arc::new(JobSession::new(shape.steps.clone(), shape.producer_ends));
            JOB_SESSION.with(|c| *c.borrow_mut() = Some(run.clone()));
            tally
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .sessions
                .push(run.clone());
            let held = Held::new();
            held.wrap(session().traced("session")).await;
            let returned = tokio::time::Instant::now();
            let done_at = run.over_at();
            // A task that has just finished or been aborted is gone once
            // the runtime has had a turn or two; one still waiting is not.
            for _ in 0..4 {
                tokio::task::yield_now().await;
            }
            let left = alive_tasks().saturating_sub(ours);
            let mut t = tally.lock().unwrap_or_else(|e| e.into_inner());
            t.over += 1;
            t.left_running = t.left_running.max(left);
            if let Some(done_at) = done_at {
                t.lags.push(returned.saturating_duration_since(done_at));
            }
            t.polls_per_try
                .push(held.polls() as f64 / f64::from(run.tries.load(Ordering::SeqCst).max(1)));
        }
        JOB_SESSION.with(|c| *c.borrow_mut() = None);
        reporter.abort();
        let tally = tally.lock().unwrap_or_else(|e| e.into_inner());
        tally.report(facts);
        facts.set(
            "lost",
            tally
                .sessions
                .iter()
                .map(|s| s.lost.load(Ordering::SeqCst))
                .sum::<u32>(),
        );
        facts.set("left_running", tally.left_running as f64);
        let pause = shapes
            .iter()
            .map(Shape::longest_pause)
            .max()
            .unwrap_or_default();
        let lag = tally.lags.iter().copied().max().unwrap_or_default();
        facts.set(
            "stop_lag",
            lag.as_secs_f64() / pause.as_secs_f64().max(1e-9),
        );
        facts.set(
            "polls_per_try",
            tally.polls_per_try.iter().copied().fold(0.0, f64::max),
        );
    }

    pub fn run<S>(facts: &Facts, session: S)
    where
        S: AsyncFn(),
    {
        let mut rng = Rng::for_scenario("close");
        let shapes = shapes(&mut rng);
        println!(
            "A producer submits jobs; a worker tries each, and sends those that fail back to be tried again ({}).",
            facts.the("job_session")
        );
        println!("Four sessions, in each about half of the jobs failing once or twice:");
        for shape in &shapes {
            println!("  {}", shape.name);
        }
        say_seed();
        println!("(If a session never ends, the watchdog stops the program after 2 s.)");
        runtime().block_on(measure(facts, &shapes, session));
        println!(
            "{:.0}% of the jobs were done and {} lost; {:.0}% of the sessions returned, leaving at most {} tasks running;",
            facts.get("jobs_done").unwrap_or(0.0) * 100.0,
            facts.get("lost").unwrap_or(0.0),
            facts.get("sessions_over").unwrap_or(0.0) * 100.0,
            facts.get("left_running").unwrap_or(0.0)
        );
        println!(
            "a session returned at most {:.2} of the long pause after its last job was done and its producer gone, and was polled at most {:.1} times per try.",
            facts.get("stop_lag").unwrap_or(0.0),
            facts.get("polls_per_try").unwrap_or(0.0)
        );
    }

    pub fn piece<'a, S>(name: &'static str, session: S) -> Piece<'a>
    where
        S: AsyncFn() + 'a,
    {
        Piece::new(name, move |facts| run(facts, session))
    }

    /// The exercise binary's `main`: judges the learner's session.
    pub fn exercise<S>(session: S) -> ExitCode
    where
        S: AsyncFn(),
    {
        shared::lesson::main(
            LESSON,
            Variant::Exercise("close"),
            vec![SPEC.with(vec![piece("", session)])],
        )
    }
}

/// The `backpressure` scenario: a fast producer, a slow consumer, under
/// two workloads.
pub mod backpressure {
    use super::*;
    use std::process::ExitCode;

    pub static SPEC: Spec = Spec {
        name: "backpressure",
        facts: &[
            fact(
                "most_alive",
                "the most messages made and not yet consumed at once, wherever they were kept",
            ),
            fact(
                "peak_ratio",
                "the most messages made and not yet consumed at once, over the messages sent (worst workload)",
            ),
            fact("lost", "messages sent that the consumer never received"),
            fact(
                "wrong_messages",
                "messages received out of order, twice, damaged or not the producer's, and counts the flood misreported",
            ),
            fact(
                "polls_per_message",
                "polls of flood per message (worst workload)",
            ),
            fact(
                "idle_per_message",
                "times the runtime's thread had nothing to run and went to sleep while flood ran, per message (fewest over the workloads)",
            ),
        ],
    };

    /// One workload: how many messages, and how long the consumer takes
    /// over each.
    #[derive(Clone, Debug)]
    pub struct Shape {
        pub name: String,
        pub work: Vec<Duration>,
    }

    /// The two workloads of one run: 150 to 250 messages that take the
    /// consumer 2 ms each; then 150 to 250 messages of 1 ms each, with one
    /// stall of 3/4 to 1 ms per message somewhere in the middle.
    pub fn shapes(rng: &mut Rng) -> Vec<Shape> {
        let ms = Duration::from_millis;
        let n = rng.between(150, 250) as usize;
        let w = ms(2);
        let slow = Shape {
            name: format!("{n} messages, {} ms each", w.as_millis()),
            work: vec![w; n],
        };
        let n = rng.between(150, 250) as usize;
        // Long enough to queue a good share of them behind it.
        let stall = ms(rng.between(n as u64 * 3 / 4, n as u64));
        let mut work = vec![ms(1); n];
        work[rng.between(n as u64 / 5, n as u64 * 3 / 5) as usize] = stall;
        let stalling = Shape {
            name: format!(
                "{n} messages, 1 ms each, and one stall of {} ms",
                stall.as_millis()
            ),
            work,
        };
        vec![slow, stalling]
    }

    /// What one workload measured.
    #[derive(Clone, Debug, PartialEq)]
    pub struct Measured {
        pub most_alive: u64,
        pub peak_ratio: f64,
        pub lost: u32,
        pub wrong: u32,
        pub polls_per_message: f64,
        pub idle_per_message: f64,
    }

    /// How many times the current runtime's thread (its first worker) has
    /// parked: gone to sleep with nothing left to run.
    fn parks() -> u64 {
        tokio::runtime::Handle::current()
            .metrics()
            .worker_park_count(0)
    }

    /// Runs `flood` once per workload on the current runtime, and compares
    /// what the consumer received with what was made.
    pub async fn measure<F>(
        facts: &Facts,
        shapes: &[Shape],
        rng: &mut Rng,
        flood: F,
    ) -> Vec<Measured>
    where
        F: AsyncFn() -> Consumed,
    {
        let mut all = Vec::new();
        for shape in shapes {
            let run = Arc::new(Flood::new(
                shape.work.len() as u32,
                rng.salt(),
                shape.work.clone(),
            ));
            FLOOD.with(|f| *f.borrow_mut() = Some(run.clone()));
            let held = Held::new();
            let parked = parks();
            let said = held.wrap(flood()).await;
            let parked = parks() - parked;
            FLOOD.with(|f| *f.borrow_mut() = None);
            let received = run.received.load(Ordering::SeqCst);
            let misreported =
                u32::from(said.received != received + run.wrong.load(Ordering::SeqCst));
            all.push(Measured {
                most_alive: run.census.most(),
                peak_ratio: run.census.most() as f64 / f64::from(run.items),
                lost: run.items - received,
                wrong: run.wrong.load(Ordering::SeqCst) + misreported,
                polls_per_message: held.polls() as f64 / f64::from(run.items.max(1)),
                idle_per_message: parked as f64 / f64::from(run.items.max(1)),
            });
        }
        facts.set(
            "most_alive",
            all.iter().map(|m| m.most_alive).max().unwrap_or(0) as f64,
        );
        facts.set(
            "peak_ratio",
            all.iter().map(|m| m.peak_ratio).fold(0.0, f64::max),
        );
        facts.set("lost", all.iter().map(|m| m.lost).sum::<u32>());
        facts.set("wrong_messages", all.iter().map(|m| m.wrong).sum::<u32>());
        facts.set(
            "polls_per_message",
            all.iter().map(|m| m.polls_per_message).fold(0.0, f64::max),
        );
        facts.set(
            "idle_per_message",
            all.iter()
                .map(|m| m.idle_per_message)
                .fold(f64::INFINITY, f64::min),
        );
        all
    }

    pub fn run<F>(facts: &Facts, flood: F)
    where
        F: AsyncFn() -> Consumed,
    {
        let mut rng = Rng::for_scenario("backpressure");
        let shapes = shapes(&mut rng);
        println!(
            "A producer sends messages of 1 KiB as fast as it can ({}) to a slower consumer,",
            facts.the("flood")
        );
        println!("under two workloads:");
        for shape in &shapes {
            println!("  {}", shape.name);
        }
        say_seed();
        let all = runtime().block_on(measure(facts, &shapes, &mut rng, flood));
        for (shape, m) in shapes.iter().zip(&all) {
            println!(
                "  {} messages: at most {} alive at once ({} KiB); {} lost, {} wrong; flood polled {:.1} times per message, the thread idle {:.2} times per message.",
                shape.work.len(),
                m.most_alive,
                m.most_alive,
                m.lost,
                m.wrong,
                m.polls_per_message,
                m.idle_per_message
            );
        }
    }

    pub fn piece<'a, F>(name: &'static str, flood: F) -> Piece<'a>
    where
        F: AsyncFn() -> Consumed + 'a,
    {
        Piece::new(name, move |facts| run(facts, flood))
    }

    /// The exercise binary's `main`: judges the learner's `flood`.
    pub fn exercise<F>(flood: F) -> ExitCode
    where
        F: AsyncFn() -> Consumed,
    {
        shared::lesson::main(
            LESSON,
            Variant::Exercise("backpressure"),
            vec![SPEC.with(vec![piece("", flood)])],
        )
    }
}

// ------------------------------------------------------------- requests --

/// How many requests the `requests` scenario's server serves at once.
pub const SERVER_SLOTS: usize = 8;

/// A request or a reply in the `requests` scenario: about 1 KiB, made by
/// the harness (only [`requests`] and [`server`] make them), that counts
/// itself alive from the moment it is made until it is dropped, wherever it
/// is kept in between.
pub type Packet = Alive<Payload>;

/// A request to the server, with the way back for its reply.
pub struct Call {
    pub request: Packet,
    pub reply: oneshot::Sender<Packet>,
}

/// One run of the `requests` scenario, as the harness set it up.
struct Exchange {
    census: Census,
    items: u32,
    salt: u64,
    /// How long the server takes over request `i`.
    latency: Vec<Duration>,
    /// How long the harness's taker of the answers stays busy after it
    /// takes reply `i` (none past the end): a slow consumer, at times.
    stalls: Vec<Duration>,
    taken: AtomicU32,
    wrong: AtomicU32,
    next_seq: AtomicU32,
}

impl Exchange {
    fn new(items: u32, salt: u64, latency: Vec<Duration>, stalls: Vec<Duration>) -> Exchange {
        Exchange {
            census: Census::new(),
            items,
            salt,
            latency,
            stalls,
            taken: AtomicU32::new(0),
            wrong: AtomicU32::new(0),
            next_seq: AtomicU32::new(0),
        }
    }

    fn body(&self, seq: u32, reply: bool) -> Vec<u8> {
        let mut x = self.salt ^ u64::from(seq) ^ if reply { 0x5eed << 32 } else { 0 };
        (0..1024)
            .map(|_| {
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                (x >> 56) as u8
            })
            .collect()
    }

    /// Checks a reply handed to [`Answers::take`]: made by this run's
    /// server, intact, and the next in the requests' order.
    fn check(&self, reply: &Packet) {
        let next = self.next_seq.load(Ordering::SeqCst);
        let right = self.census.made_it(reply)
            && reply.seq == next
            && reply.body == self.body(reply.seq, true);
        if right {
            self.taken.fetch_add(1, Ordering::SeqCst);
            self.next_seq.store(next + 1, Ordering::SeqCst);
        } else {
            self.wrong.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// Where the exchange the harness is running is kept: one per runtime,
/// shared by the thread that drives it and all of its threads.
type Slot = Arc<Mutex<Option<Arc<Exchange>>>>;

thread_local! {
    /// The slot of the runtime this thread belongs to (a slot of its own,
    /// for a thread of no runtime of the harness's).
    static EXCHANGE: RefCell<Slot> = RefCell::new(Slot::default());
}

fn slot() -> Slot {
    EXCHANGE.with(|f| f.borrow().clone())
}

fn set_exchange(run: Option<Arc<Exchange>>) {
    *slot().lock().unwrap_or_else(|e| e.into_inner()) = run;
}

fn exchange_run() -> Arc<Exchange> {
    let run = slot().lock().unwrap_or_else(|e| e.into_inner()).clone();
    run.unwrap_or_else(|| {
        Arc::new(Exchange::new(
            ITEMS,
            0,
            vec![Duration::from_millis(4); ITEMS as usize],
            Vec::new(),
        ))
    })
}

/// The `requests` scenario's runtime: 2 worker threads (on one core too:
/// they share it), so that while the taker of the answers is busy, the
/// client and the server can go on, as they would with a slow consumer
/// elsewhere. The calling thread and all of the runtime's threads share
/// one [`Slot`].
pub fn requests_runtime() -> tokio::runtime::Runtime {
    let shared = slot();
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    name_threads(&mut builder, "worker", 2)
        .enable_time()
        .on_thread_start(move || EXCHANGE.with(|f| *f.borrow_mut() = shared.clone()))
        .build()
        .expect("a runtime of 2 threads always builds")
}

/// The taker of the answers is busy for `time`: it holds its thread. On a
/// runtime of several threads, tokio hands the thread's other tasks to
/// another thread meanwhile (`block_in_place`), so that the client and the
/// server go on. On one thread nothing could go on, and nothing could pile
/// up: there it is not busy at all.
fn taker_busy(time: Duration) {
    use tokio::runtime::{Handle, RuntimeFlavor};
    if time.is_zero() {
        return;
    }
    if let Ok(h) = Handle::try_current()
        && h.runtime_flavor() == RuntimeFlavor::MultiThread
    {
        tokio::task::block_in_place(|| std::thread::sleep(time));
    }
}

/// The requests to send, made one at a time as they are asked for, in
/// order: as many as the harness picked (300 outside a harness).
pub fn requests() -> impl Iterator<Item = Packet> + Send + 'static {
    let run = exchange_run();
    (0..run.items).map(move |seq| {
        run.census.make(Payload {
            seq,
            body: run.body(seq, false),
        })
    })
}

/// The receiving end of either kind of channel of calls. Sealed: only
/// tokio's mpsc channels are call inboxes.
pub trait CallInbox: sealed::Sealed {
    fn next(&mut self) -> impl Future<Output = Option<Call>>;
}

impl sealed::Sealed for mpsc::Receiver<Call> {}
impl sealed::Sealed for mpsc::UnboundedReceiver<Call> {}

impl CallInbox for mpsc::Receiver<Call> {
    fn next(&mut self) -> impl Future<Output = Option<Call>> {
        self.recv()
    }
}

impl CallInbox for mpsc::UnboundedReceiver<Call> {
    fn next(&mut self) -> impl Future<Output = Option<Call>> {
        self.recv()
    }
}

/// The server: takes calls in order, serves up to [`SERVER_SLOTS`] of
/// them at once (each takes its time: a lookup elsewhere, say), and sends
/// each reply back on its call's oneshot. It returns once its inbox has
/// closed and every call taken has been answered.
pub fn server(inbox: impl CallInbox) -> impl Future<Output = ()> {
    serve(inbox).traced("server")
}

async fn serve(mut inbox: impl CallInbox) {
    use futures::StreamExt;
    let run = exchange_run();
    let mut serving = futures::stream::FuturesUnordered::new();
    let mut open = true;
    loop {
        tokio::select! {
            call = inbox.next(), if open && serving.len() < SERVER_SLOTS => match call {
                Some(Call { request, reply }) => {
                    let run = run.clone();
                    serving.push(async move {
                        let seq = request.seq;
                        let latency = run.latency.get(seq as usize).copied();
                        tokio::time::sleep(latency.unwrap_or(Duration::from_millis(4))).await;
                        drop(request);
                        let answer = run.census.make(Payload { seq, body: run.body(seq, true) });
                        // The client may have given up: then nobody wants it.
                        let _ = reply.send(answer);
                    });
                }
                None => open = false,
            },
            Some(()) = serving.next(), if !serving.is_empty() => {}
            else => return,
        }
    }
}

/// Where the client hands each reply, in the requests' order: the harness
/// checks it, then drops it.
pub struct Answers {
    _only_the_harness: (),
}

impl Answers {
    /// Takes the reply to the next request.
    /// At times, the taker is slow: it is busy for a while after it takes
    /// a reply (in one of the workloads).
    pub fn take(&self, reply: Packet) {
        let started = ThreadClock::now();
        let run = exchange_run();
        run.check(&reply);
        let stall = run.stalls.get(reply.seq as usize).copied();
        drop(reply);
        taker_busy(stall.unwrap_or_default());
        // Noted for the client's polls: this time is the harness's, not
        // the client's, even when the client calls `take` in its own poll.
        let spent = ThreadClock::now().since(started);
        IN_TAKE.with(|t| t.set(t.get().plus(spent)));
    }
}

/// A thread's clocks: the wall time, its CPU time, and the times it went
/// to sleep of its own accord (Linux; elsewhere 0), now or over a while.
#[derive(Clone, Copy, Debug, Default)]
struct ThreadClock {
    wall: Duration,
    cpu: Duration,
    slept: u64,
}

impl ThreadClock {
    fn now() -> ThreadClock {
        use shared::record::sched::{thread_cpu_time, voluntary_switches};
        static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        ThreadClock {
            wall: START.get_or_init(std::time::Instant::now).elapsed(),
            cpu: thread_cpu_time().unwrap_or_default(),
            slept: voluntary_switches().unwrap_or(0),
        }
    }

    /// What passed from `before` to this reading.
    fn since(self, before: ThreadClock) -> ThreadClock {
        ThreadClock {
            wall: self.wall.saturating_sub(before.wall),
            cpu: self.cpu.saturating_sub(before.cpu),
            slept: self.slept.saturating_sub(before.slept),
        }
    }

    fn plus(self, other: ThreadClock) -> ThreadClock {
        ThreadClock {
            wall: self.wall + other.wall,
            cpu: self.cpu + other.cpu,
            slept: self.slept + other.slept,
        }
    }

    fn minus(self, other: ThreadClock) -> ThreadClock {
        ThreadClock {
            wall: self.wall.saturating_sub(other.wall),
            cpu: self.cpu.saturating_sub(other.cpu),
            slept: self.slept.saturating_sub(other.slept),
        }
    }
}

thread_local! {
    /// The time this thread has spent in [`Answers::take`] so far.
    static IN_TAKE: std::cell::Cell<ThreadClock> = std::cell::Cell::new(ThreadClock::default());
}

/// Polls `fut`, and keeps in `longest` the longest time one of its polls
/// kept its thread by its own doing, leaving out the time it spent in
/// [`Answers::take`] (the taker's pauses are the harness's): its CPU time,
/// or, if it went to sleep (a blocking call: `std::thread::sleep`, a lock,
/// a nested `block_on`), its wall time. A poll that waits for nothing
/// returns within microseconds; one that loops until its work is done
/// holds its thread for the whole workload.
async fn own_polls<F: Future>(fut: F, longest: &mut Duration) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(|cx| {
        let (before, taken) = (ThreadClock::now(), IN_TAKE.with(|t| t.get()));
        let out = fut.as_mut().poll(cx);
        let in_take = IN_TAKE.with(|t| t.get()).minus(taken);
        let poll = ThreadClock::now().since(before).minus(in_take);
        let own = if poll.slept > 0 { poll.wall } else { poll.cpu };
        *longest = (*longest).max(own);
        out
    })
    .await
}

/// Watches every thread of the process but its own, while a workload
/// runs, for the longest time one of them stayed awake: on a core, or
/// ready and waiting for one, without going to sleep of its own accord. A
/// thread that waits for events sleeps between them, so its stretches
/// last as long as one event's work (and, on a busy machine, its wait for
/// a core). A thread that spins (a loop of `try_recv`, `yield_now` or
/// `spin_loop`, on a runtime's thread, inside `block_in_place`, or on a
/// thread of the program's own) never sleeps: its stretch is the whole
/// workload, however busy the machine (it is always running or waiting to
/// run). Reads Linux's `/proc/self/task/*/schedstat` and `status` every
/// 5 ms; elsewhere it sees nothing, and says 0.
struct Awake {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<Duration>>,
}

impl Awake {
    fn start() -> Awake {
        use std::sync::atomic::AtomicBool;
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let (ready, started) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("awake-watch".into())
            .spawn(move || {
                shared::record::sched::claim_this_thread();
                let me = shared::record::sched::this_thread_id();
                let mut seen = HashMap::new();
                let mut longest = Duration::ZERO;
                let mut first = true;
                loop {
                    let done = stopped.load(Ordering::SeqCst);
                    for tid in shared::record::sched::thread_ids().unwrap_or_default() {
                        if Some(tid) != me {
                            longest = longest.max(awake_since_sleep(&mut seen, tid, first));
                        }
                    }
                    if first {
                        first = false;
                        let _ = ready.send(());
                    }
                    if done {
                        return longest;
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
            })
            .ok();
        if thread.is_some() {
            let _ = started.recv();
        }
        Awake { stop, thread }
    }

    /// Stops watching, and says the longest time a thread stayed awake.
    fn finish(mut self) -> Duration {
        self.stop.store(true, Ordering::SeqCst);
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default()
    }
}

/// A thread's time awake (on a core or waiting for one) and its sleeps at
/// the last sample, and its time awake since it last went to sleep.
type Stretch = (Duration, u64, Duration);

/// Samples thread `tid` into `seen`, and says how long it has been awake
/// since it last went to sleep. A thread seen for the first time after
/// the `first` sample was born since: all of its life counts. A thread
/// that went to sleep since the last sample starts again from 0 (what it
/// did after it woke is left out: 5 ms at most).
fn awake_since_sleep(seen: &mut HashMap<u64, Stretch>, tid: u64, first: bool) -> Duration {
    let (Some(s), Some(slept)) = (
        shared::record::sched::SchedStat::of_thread(tid),
        sleeps_of(tid),
    ) else {
        return Duration::ZERO; // ended, or not Linux
    };
    let awake = s.ran + s.waited;
    let born = if first { awake } else { Duration::ZERO };
    let (was_awake, was_slept, stretch) =
        seen.get(&tid).copied().unwrap_or((born, 0, Duration::ZERO));
    let stretch = if slept > was_slept {
        Duration::ZERO
    } else {
        stretch + awake.saturating_sub(was_awake)
    };
    seen.insert(tid, (awake, slept, stretch));
    stretch
}

/// The times thread `tid` of this process went to sleep of its own accord
/// so far (Linux's voluntary context switches).
fn sleeps_of(tid: u64) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/self/task/{tid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))?
        .trim()
        .parse()
        .ok()
}

/// The `requests` scenario: a client sends requests to a server that
/// serves several at once, and hands on the replies in order.
pub mod requests {
    use super::*;
    use std::process::ExitCode;

    pub static SPEC: Spec = Spec {
        name: "requests",
        facts: &[
            fact(
                "most_alive",
                "the most requests and replies made and not yet taken at once, wherever they were kept",
            ),
            fact(
                "peak_ratio",
                "the most requests and replies alive at once, over the requests sent (worst workload)",
            ),
            fact(
                "lost",
                "requests whose reply never reached the harness's answers",
            ),
            fact(
                "wrong_answers",
                "replies handed on out of the requests' order, twice, damaged or not the server's",
            ),
            fact(
                "time_ratio",
                "how long the client took, over the time the server needs for every request with all its slots busy (worst workload)",
            )
            .timing(),
            fact(
                "polls_per_request",
                "polls of the client per request (worst workload)",
            ),
            fact(
                "hold_share",
                "the longest one poll of the client kept its thread by its own doing (working, or asleep in a blocking call), the taker's pauses left out, over the client's time (worst workload)",
            ),
            fact(
                "awake_share",
                "the longest a thread of the program stayed on a core or waiting for one without going to sleep, wherever it was, over the client's time (worst workload; measured on the harness's runtime of 2 threads)",
            )
            // A machine so busy that a thread woken for each reply gets a
            // core less often than its replies come keeps it awake too:
            // a miss is measured again, beside the lesson's own fix.
            .timing(),
        ],
    };

    /// One workload: how long the server takes over each request, and
    /// how long the taker of the answers is busy after each reply (none:
    /// never).
    #[derive(Clone, Debug)]
    pub struct Shape {
        pub name: String,
        pub latency: Vec<Duration>,
        pub stalls: Vec<Duration>,
    }

    impl Shape {
        /// The least time the server can take for every request, with all
        /// its slots busy: their time shared over the slots, and never
        /// less than the longest one; plus the time the taker of the
        /// answers is busy, if it is.
        pub fn ideal(&self) -> Duration {
            let sum: Duration = self.latency.iter().sum();
            let longest = self.latency.iter().max().copied().unwrap_or_default();
            (sum / SERVER_SLOTS as u32).max(longest) + self.stalls.iter().sum::<Duration>()
        }
    }

    /// The three workloads of one run: 150 to 250 requests of 4 to 8 ms
    /// each; then 150 to 250 of 2 to 12 ms; then 300 to 400 of 4 to 8 ms
    /// whose answers are taken slowly at times: three times, once in each
    /// third of the run, the taker is busy for 120 to 160 ms after a reply
    /// (long enough for the server to make 120 replies or more meanwhile).
    /// Whole milliseconds: a timer rounds its deadline up to the next one.
    pub fn shapes(rng: &mut Rng) -> Vec<Shape> {
        let ms = Duration::from_millis;
        let n = rng.between(150, 250) as usize;
        let even = Shape {
            name: format!("{n} requests of 4 to 8 ms each"),
            latency: (0..n).map(|_| ms(rng.between(4, 8))).collect(),
            stalls: Vec::new(),
        };
        let n = rng.between(150, 250) as usize;
        let uneven = Shape {
            name: format!("{n} requests of 2 to 12 ms each"),
            latency: (0..n).map(|_| ms(rng.between(2, 12))).collect(),
            stalls: Vec::new(),
        };
        let n = rng.between(300, 400) as usize;
        let mut stalls = vec![Duration::ZERO; n];
        for third in 0..3 {
            let at = rng.between(
                (n * third / 3 + 10) as u64,
                (n * (third + 1) / 3 - 10) as u64,
            );
            stalls[at as usize] = ms(rng.between(120, 160));
        }
        let slow = Shape {
            name: format!(
                "{n} requests of 4 to 8 ms each, their answers taken slowly at times (three pauses of 120 to 160 ms)"
            ),
            latency: (0..n).map(|_| ms(rng.between(4, 8))).collect(),
            stalls,
        };
        vec![even, uneven, slow]
    }

    /// What one workload measured.
    #[derive(Clone, Debug, PartialEq)]
    pub struct Measured {
        pub most_alive: u64,
        pub peak_ratio: f64,
        pub lost: u32,
        pub wrong: u32,
        pub time_ratio: f64,
        pub polls_per_request: f64,
        pub hold_share: f64,
        /// Not measured on a runtime of one thread (the tests' paused
        /// time).
        pub awake_share: Option<f64>,
    }

    /// Whether the current runtime has several threads (the harness's:
    /// real time).
    fn many_threads() -> bool {
        use tokio::runtime::{Handle, RuntimeFlavor};
        Handle::current().runtime_flavor() == RuntimeFlavor::MultiThread
    }

    /// Runs `ask_all` once per workload on the current runtime, and
    /// compares the replies handed on with the requests made.
    pub async fn measure<F>(
        facts: &Facts,
        shapes: &[Shape],
        rng: &mut Rng,
        ask_all: F,
    ) -> Vec<Measured>
    where
        F: AsyncFn(Answers),
    {
        let mut all = Vec::new();
        for shape in shapes {
            let run = Arc::new(Exchange::new(
                shape.latency.len() as u32,
                rng.salt(),
                shape.latency.clone(),
                shape.stalls.clone(),
            ));
            set_exchange(Some(run.clone()));
            let held = Held::new();
            let mut hold = Duration::ZERO;
            // Threads are watched on the harness's runtime of 2 threads,
            // in real time; not on the tests' paused time, where nothing
            // ever sleeps.
            let awake = many_threads().then(Awake::start);
            let started = tokio::time::Instant::now(); // paused in the tests
            held.wrap(own_polls(
                ask_all(Answers {
                    _only_the_harness: (),
                })
                .traced("client"),
                &mut hold,
            ))
            .await;
            let took = started.elapsed();
            let awake = awake.map(Awake::finish);
            set_exchange(None);
            let taken = run.taken.load(Ordering::SeqCst);
            // Over the client's time, or the server's best time if the
            // client gave up sooner (dropping requests, say).
            let time = took.max(shape.ideal()).as_secs_f64().max(1e-9);
            let share = |d: Duration| d.as_secs_f64() / time;
            all.push(Measured {
                hold_share: share(hold),
                awake_share: awake.map(share),
                most_alive: run.census.most(),
                peak_ratio: run.census.most() as f64 / f64::from(run.items),
                lost: run.items - taken,
                wrong: run.wrong.load(Ordering::SeqCst),
                time_ratio: took.as_secs_f64() / shape.ideal().as_secs_f64(),
                polls_per_request: held.polls() as f64 / f64::from(run.items.max(1)),
            });
        }
        facts.set(
            "most_alive",
            all.iter().map(|m| m.most_alive).max().unwrap_or(0) as f64,
        );
        facts.set(
            "peak_ratio",
            all.iter().map(|m| m.peak_ratio).fold(0.0, f64::max),
        );
        facts.set("lost", all.iter().map(|m| m.lost).sum::<u32>());
        facts.set("wrong_answers", all.iter().map(|m| m.wrong).sum::<u32>());
        facts.set(
            "time_ratio",
            all.iter().map(|m| m.time_ratio).fold(0.0, f64::max),
        );
        facts.set(
            "polls_per_request",
            all.iter().map(|m| m.polls_per_request).fold(0.0, f64::max),
        );
        facts.set(
            "hold_share",
            all.iter().map(|m| m.hold_share).fold(0.0, f64::max),
        );
        if all.iter().all(|m| m.awake_share.is_some()) {
            facts.set(
                "awake_share",
                all.iter().filter_map(|m| m.awake_share).fold(0.0, f64::max),
            );
        }
        all
    }

    pub fn run<F>(facts: &Facts, ask_all: F)
    where
        F: AsyncFn(Answers),
    {
        let mut rng = Rng::for_scenario("requests");
        let shapes = shapes(&mut rng);
        println!(
            "A client ({}) sends requests of 1 KiB to a server that serves {SERVER_SLOTS} at once, and hands on each reply of 1 KiB, in order,",
            facts.the("ask_all")
        );
        println!("under three workloads:");
        for shape in &shapes {
            println!("  {}", shape.name);
        }
        say_seed();
        let all = requests_runtime().block_on(measure(facts, &shapes, &mut rng, ask_all));
        for (shape, m) in shapes.iter().zip(&all) {
            println!(
                "  {} requests: at most {} requests and replies alive at once; {} lost, {} wrong; {:.1} times the server's best time; the client polled {:.1} times per request;",
                shape.latency.len(),
                m.most_alive,
                m.lost,
                m.wrong,
                m.time_ratio,
                m.polls_per_request
            );
            println!(
                "    one poll of the client held its thread for {:.2} of its time at most, and a thread stayed awake for {:.2} of it at most.",
                m.hold_share,
                m.awake_share.unwrap_or(0.0)
            );
        }
    }

    pub fn piece<'a, F>(name: &'static str, ask_all: F) -> Piece<'a>
    where
        F: AsyncFn(Answers) + 'a,
    {
        Piece::new(name, move |facts| run(facts, ask_all))
    }

    /// The exercise binary's `main`: judges the learner's `ask_all`.
    pub fn exercise<F>(ask_all: F) -> ExitCode
    where
        F: AsyncFn(Answers),
    {
        shared::lesson::main(
            LESSON,
            Variant::Exercise("backpressure"),
            vec![SPEC.with(vec![piece("", ask_all)])],
        )
    }
}
