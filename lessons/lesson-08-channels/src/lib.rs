//! # Lesson 08: channels
//!
//! Tasks share by communicating. A channel has two ends, and the receiving
//! end learns that no more messages will come only when the **last** sender
//! is dropped. A bounded channel makes a fast producer wait for a slow
//! consumer (backpressure); an unbounded one lets the queue grow instead.
//! This crate shows both mistakes, then the other channels tokio offers and
//! how threads and tasks talk to each other.

use shared::TraceExt;
use shared::lesson::{Facts, Piece, Spec, Variant, fact};
use shared::record::held::Held;
use shared::work::alive::{Alive, Census};
use shared::work::shape::{Arrivals, Rng, seed};
use std::cell::RefCell;
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

/// This lesson's id, `lesson-08`: its package name.
pub const LESSON: &str = env!("CARGO_PKG_NAME");

/// Pings the producer sends when no harness has picked how many.
pub const PINGS: u32 = 10;
/// Messages `messages()` makes when no harness has picked how many.
pub const ITEMS: u32 = 300;
/// Room in the lesson's bounded channel.
pub const CAPACITY: usize = 16;
/// How long the slow consumer spends on each message when no harness has
/// picked another time.
pub const WORK: Duration = Duration::from_millis(1);

// ANCHOR: handler
/// Counts pings until the channel closes, that is, until every sender is
/// gone. `recv` returns `None` only then.
pub async fn count_pings(mut pings: mpsc::Receiver<u32>) -> u32 {
    let seen = handler_seen(); // for the harness, which watches what we count
    let mut count = 0;
    while let Some(ping) = pings.recv().await {
        count += 1;
        seen.ping(ping);
    }
    seen.closed(count);
    count
}

/// Sends pings on the harness's schedule (ten, 5 ms apart, when there is
/// no harness), then returns, dropping its sender.
pub async fn send_pings(pings: mpsc::Sender<u32>) {
    let session = close_session(); // when to send each ping, and what it says
    let start = tokio::time::Instant::now();
    for (i, at) in session.at.iter().enumerate() {
        tokio::time::sleep_until(start + *at).await;
        pings
            .send(session.ping(i))
            .await
            .expect("the handler is listening");
        session.sent.fetch_add(1, Ordering::SeqCst);
    }
    session.producer_done();
    shared::mark("producer done; its sender is dropped");
}
// ANCHOR_END: handler

/// One session of the `close` scenario, as the harness set it up: when
/// each ping is sent, what it says (made with a salt, so that the handler
/// can tell the producer's pings from others), and what each handler saw.
struct CloseSession {
    at: Vec<Duration>,
    salt: u32,
    sent: AtomicU32,
    /// When the producer had sent its last ping, if it has.
    producer_done: Mutex<Option<tokio::time::Instant>>,
    handlers: Mutex<Vec<HandlerSeen>>,
}

#[derive(Clone, Copy, Debug, Default)]
struct HandlerSeen {
    /// Pings from this session's producer.
    genuine: u32,
    /// Anything else.
    foreign: u32,
    /// What it returned, once its channel closed, and when.
    closed_with: Option<(u32, tokio::time::Instant)>,
}

impl CloseSession {
    fn new(at: Vec<Duration>, salt: u32) -> CloseSession {
        CloseSession {
            at,
            salt,
            sent: AtomicU32::new(0),
            producer_done: Mutex::default(),
            handlers: Mutex::default(),
        }
    }

    fn producer_done(&self) {
        *self.producer_done.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(tokio::time::Instant::now());
    }

    fn ping(&self, i: usize) -> u32 {
        self.salt ^ i as u32
    }

    fn pings(&self) -> u32 {
        self.at.len() as u32
    }

    fn handlers(&self) -> std::sync::MutexGuard<'_, Vec<HandlerSeen>> {
        self.handlers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Pings the session's handlers received from its producer.
    fn received(&self) -> u32 {
        self.handlers().iter().map(|h| h.genuine).sum()
    }

    /// When a handler saw its channel close after every one of this
    /// session's pings (and nothing else), and returned their count, if
    /// one did.
    fn handler_done_at(&self) -> Option<tokio::time::Instant> {
        let n = self.pings();
        self.handlers().iter().find_map(|h| match h.closed_with {
            Some((count, at)) if h.genuine == n && h.foreign == 0 && count == n => Some(at),
            _ => None,
        })
    }

    fn handler_done(&self) -> bool {
        self.handler_done_at().is_some()
    }

    /// How long after the producer's last ping its handler ended: nothing
    /// tells the handler that the producer is done but the channel's
    /// closing. Zero if either has not ended.
    fn close_lag(&self) -> Duration {
        let done = *self.producer_done.lock().unwrap_or_else(|e| e.into_inner());
        match (done, self.handler_done_at()) {
            (Some(done), Some(ended)) => ended.saturating_duration_since(done),
            _ => Duration::ZERO,
        }
    }
}

thread_local! {
    /// The `close` session the harness is running on this thread.
    static CLOSE: RefCell<Option<Arc<CloseSession>>> = const { RefCell::new(None) };
}

/// The session of the current run (ten pings 5 ms apart outside a harness).
fn close_session() -> Arc<CloseSession> {
    CLOSE.with(|c| c.borrow().clone()).unwrap_or_else(|| {
        let at = (1..=PINGS).map(|i| Duration::from_millis(5) * i).collect();
        Arc::new(CloseSession::new(at, 0))
    })
}

/// What one handler saw, noted in its session.
struct Seen {
    session: Arc<CloseSession>,
    me: usize,
}

fn handler_seen() -> Seen {
    let session = close_session();
    let me = {
        let mut handlers = session.handlers();
        handlers.push(HandlerSeen::default());
        handlers.len() - 1
    };
    Seen { session, me }
}

impl Seen {
    fn ping(&self, ping: u32) {
        let genuine = (ping ^ self.session.salt) < self.session.pings();
        let mut handlers = self.session.handlers();
        if genuine {
            handlers[self.me].genuine += 1;
        } else {
            handlers[self.me].foreign += 1;
        }
    }

    fn closed(&self, count: u32) {
        self.session.handlers()[self.me].closed_with = Some((count, tokio::time::Instant::now()));
    }
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
    /// Starts the ping handler and a producer, and waits for the count.
    pub async fn ping_session() -> u32 {
        let (pings, inbox) = mpsc::channel(8);
        let handler = tokio::spawn(count_pings(inbox).traced("handler"));
        tokio::spawn(send_pings(pings.clone()).traced("producer"));
        // BROKEN: `pings`, the original sender, is still alive here, so the
        // channel never closes and the handler never stops waiting.
        handler.await.expect("the handler does not panic")
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
}

pub mod fixed {
    use super::*;

    // ANCHOR: fixed_close
    /// The same, with the original sender moved into the producer: when the
    /// producer is done, the last sender is gone and `recv` returns `None`.
    pub async fn ping_session() -> u32 {
        let (pings, inbox) = mpsc::channel(8);
        let handler = tokio::spawn(count_pings(inbox).traced("handler"));
        tokio::spawn(send_pings(pings).traced("producer")); // FIXED: moved, not cloned
        handler.await.expect("the handler does not panic")
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
    tokio::runtime::Builder::new_current_thread()
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

/// The `close` scenario: a handler counts pings until its channel closes,
/// in two sessions with pings on different schedules.
pub mod close {
    use super::*;
    use std::process::ExitCode;

    pub static SPEC: Spec = Spec {
        name: "close",
        facts: &[
            fact(
                "pings_received",
                "pings the handlers received from the producer, over the pings sent",
            )
            .live(),
            fact(
                "handler_done",
                "sessions whose handler saw its channel close after all their pings before the session returned, over the sessions",
            )
            .live(),
            fact(
                "wrong_count",
                "sessions whose count was not the pings the producer sent",
            ),
            fact(
                "close_lag",
                "the longest time from a producer's last ping to its handler's end, over the long pause between pings",
            )
            .timing(),
            fact(
                "polls_per_ping",
                "polls of the session per ping sent (worst session)",
            ),
        ],
    };

    /// One workload: when each ping is sent, from the session's start.
    #[derive(Clone, Debug)]
    pub struct Shape {
        pub name: String,
        pub at: Vec<Duration>,
    }

    /// The three sessions of one run: 6 to 14 pings, one every 3 to 8 ms;
    /// 8 to 20 pings in bursts with pauses, over about 60 ms; then 6 to 10
    /// pings 3 to 8 ms apart, with one pause of 150 to 300 ms among them
    /// (longer than any short guess that the producer is done).
    pub fn shapes(rng: &mut Rng) -> Vec<Shape> {
        let ms = Duration::from_millis;
        let n = rng.between(6, 14) as usize;
        let steady = Arrivals::steady(ms(rng.between(3, 8)), n);
        let n = rng.between(8, 20) as usize;
        let bursts = Arrivals::bursts(rng, ms(60), n);
        let mut shapes: Vec<Shape> = [steady, bursts]
            .into_iter()
            .map(|a| Shape {
                name: format!("{} pings, {}", a.len(), a.name),
                at: a.at,
            })
            .collect();
        let n = rng.between(6, 10) as usize;
        let every = ms(rng.between(3, 8));
        let pause = ms(rng.between(150, 300));
        let after = rng.between(2, n as u64 - 2) as usize;
        shapes.push(Shape {
            name: format!(
                "{n} pings, {} ms apart, with a pause of {} ms after the {after}th",
                every.as_millis(),
                pause.as_millis()
            ),
            at: (1..=n as u32)
                .map(|i| {
                    every * i
                        + if i as usize > after {
                            pause
                        } else {
                            Duration::ZERO
                        }
                })
                .collect(),
        });
        shapes
    }

    impl Shape {
        /// The longest time between two pings (or before the first).
        pub fn longest_pause(&self) -> Duration {
            let mut last = Duration::ZERO;
            let mut longest = Duration::ZERO;
            for &at in &self.at {
                longest = longest.max(at.saturating_sub(last));
                last = at;
            }
            longest
        }
    }

    /// Where a run stands: its sessions so far, and for each that
    /// returned, its count and whether its handler was done by then.
    #[derive(Default)]
    struct Tally {
        sessions: Vec<Arc<CloseSession>>,
        counts: Vec<u32>,
        done: Vec<bool>,
        lags: Vec<Duration>,
        polls_per_ping: Vec<f64>,
    }

    impl Tally {
        fn report(&self, facts: &Facts) {
            let sent: u32 = self
                .sessions
                .iter()
                .map(|s| s.sent.load(Ordering::SeqCst))
                .sum();
            let received: u32 = self.sessions.iter().map(|s| s.received()).sum();
            let done = self.done.iter().filter(|&&d| d).count();
            facts.set(
                "pings_received",
                if sent == 0 {
                    0.0
                } else {
                    f64::from(received) / f64::from(sent)
                },
            );
            facts.set(
                "handler_done",
                if self.sessions.is_empty() {
                    0.0
                } else {
                    done as f64 / self.sessions.len() as f64
                },
            );
        }
    }

    /// Runs `session` once per workload on the current runtime (a
    /// current-thread one: the handler and the producer learn their
    /// session from this thread), with what the handlers see reported
    /// every 10 ms. Never returns if a handler waits for ever: that is
    /// the bug.
    pub async fn measure<S>(facts: &Facts, shapes: &[Shape], rng: &mut Rng, session: S)
    where
        S: AsyncFn() -> u32,
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
        for shape in shapes {
            let run = Arc::new(CloseSession::new(shape.at.clone(), rng.salt() as u32));
            CLOSE.with(|c| *c.borrow_mut() = Some(run.clone()));
            tally
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .sessions
                .push(run.clone());
            let held = Held::new();
            let count = held.wrap(session().traced("session")).await;
            // Done means done when the session returned: a handler left
            // to finish later was not waited for.
            let done = run.handler_done();
            let mut t = tally.lock().unwrap_or_else(|e| e.into_inner());
            t.counts.push(count);
            t.done.push(done);
            t.lags.push(run.close_lag());
            t.polls_per_ping
                .push(held.polls() as f64 / f64::from(run.sent.load(Ordering::SeqCst).max(1)));
        }
        CLOSE.with(|c| *c.borrow_mut() = None);
        reporter.abort();
        let tally = tally.lock().unwrap_or_else(|e| e.into_inner());
        tally.report(facts);
        let wrong = tally
            .sessions
            .iter()
            .zip(&tally.counts)
            .filter(|&(s, count)| *count != s.pings())
            .count();
        facts.set("wrong_count", wrong as f64);
        let pause = shapes
            .iter()
            .map(Shape::longest_pause)
            .max()
            .unwrap_or_default();
        let lag = tally.lags.iter().copied().max().unwrap_or_default();
        facts.set(
            "close_lag",
            lag.as_secs_f64() / pause.as_secs_f64().max(1e-9),
        );
        facts.set(
            "polls_per_ping",
            tally.polls_per_ping.iter().copied().fold(0.0, f64::max),
        );
    }

    pub fn run<S>(facts: &Facts, session: S)
    where
        S: AsyncFn() -> u32,
    {
        let mut rng = Rng::for_scenario("close");
        let shapes = shapes(&mut rng);
        println!(
            "A producer sends pings; a handler counts them until the channel closes ({}).",
            facts.the("ping_session")
        );
        println!("Three sessions:");
        for shape in &shapes {
            println!("  {}", shape.name);
        }
        say_seed();
        println!("(If a handler never stops, the watchdog stops the program after 2 s.)");
        runtime().block_on(measure(facts, &shapes, &mut rng, session));
        println!(
            "The handlers received {:.0}% of the pings; {:.0}% of the sessions' handlers saw their channel close; {} wrong counts;",
            facts.get("pings_received").unwrap_or(0.0) * 100.0,
            facts.get("handler_done").unwrap_or(0.0) * 100.0,
            facts.get("wrong_count").unwrap_or(0.0)
        );
        println!(
            "a handler ended at most {:.2} of the long pause after its producer's last ping; a session was polled at most {:.1} times per ping.",
            facts.get("close_lag").unwrap_or(0.0),
            facts.get("polls_per_ping").unwrap_or(0.0)
        );
    }

    pub fn piece<'a, S>(name: &'static str, session: S) -> Piece<'a>
    where
        S: AsyncFn() -> u32 + 'a,
    {
        Piece::new(name, move |facts| run(facts, session))
    }

    /// The exercise binary's `main`: judges the learner's session.
    pub fn exercise<S>(session: S) -> ExitCode
    where
        S: AsyncFn() -> u32,
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
