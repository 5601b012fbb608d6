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
use std::future::Future;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

/// Pings sent in the `close` scenario.
pub const PINGS: u32 = 10;
/// Messages sent in the `backpressure` scenario.
pub const ITEMS: u32 = 300;
/// Room in the bounded channel.
pub const CAPACITY: usize = 16;
/// How long the slow consumer spends on each message.
pub const WORK: Duration = Duration::from_millis(1);

// ANCHOR: handler
/// Counts pings until the channel closes, that is, until every sender is
/// gone. `recv` returns `None` only then.
pub async fn count_pings(mut pings: mpsc::Receiver<u32>) -> u32 {
    let run = this_run(); // for the harness, which watches what we count
    let mut count = 0;
    while let Some(_ping) = pings.recv().await {
        count += 1;
        note(run, |seen| seen.pings_received += 1);
    }
    note(run, |seen| seen.handler_done = true);
    count
}

/// Sends `PINGS` pings, 5 ms apart, then returns, dropping its sender.
pub async fn send_pings(pings: mpsc::Sender<u32>) {
    for i in 0..PINGS {
        tokio::time::sleep(Duration::from_millis(5)).await;
        pings.send(i).await.expect("the handler is listening");
    }
    shared::mark("producer done; its sender is dropped");
}
// ANCHOR_END: handler

/// A message in the `backpressure` scenario: a 1 KiB payload.
pub type Msg = Vec<u8>;

/// The receiving end of either kind of channel, so that one consumer can
/// read from both.
pub trait Inbox {
    fn next(&mut self) -> impl Future<Output = Option<Msg>>;
    /// Messages waiting in the channel.
    fn waiting(&self) -> usize;
}

impl Inbox for mpsc::Receiver<Msg> {
    fn next(&mut self) -> impl Future<Output = Option<Msg>> {
        self.recv()
    }
    fn waiting(&self) -> usize {
        self.len()
    }
}

impl Inbox for mpsc::UnboundedReceiver<Msg> {
    fn next(&mut self) -> impl Future<Output = Option<Msg>> {
        self.recv()
    }
    fn waiting(&self) -> usize {
        self.len()
    }
}

/// What the slow consumer saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Consumed {
    pub received: u32,
    /// The longest the channel's queue ever was.
    pub peak_queue: usize,
}

/// What the lesson's own handler and consumer saw on this thread, for the
/// harness (the scenarios run on a current-thread runtime).
#[derive(Debug, Default, Clone, Copy)]
pub struct Seen {
    pub pings_received: u32,
    pub handler_done: bool,
    pub received: u32,
    pub peak_queue: usize,
}

thread_local! {
    /// The harness's current run, and what it has seen.
    static SEEN: std::cell::RefCell<(u64, Seen)> = std::cell::RefCell::new((0, Seen::default()));
}

/// What this thread's handler and consumer have seen in the current run.
pub fn seen() -> Seen {
    SEEN.with(|s| s.borrow().1)
}

/// The current run's number.
fn this_run() -> u64 {
    SEEN.with(|s| s.borrow().0)
}

/// Starts a new run: a spawned handler left over from an earlier one (a
/// task outlives the future that spawned it) can no longer count in it.
fn new_run() {
    SEEN.with(|s| {
        let mut s = s.borrow_mut();
        *s = (s.0 + 1, Seen::default());
    });
}

/// Notes what a handler or consumer of run `run` saw, if it is still the
/// current run.
fn note(run: u64, f: impl FnOnce(&mut Seen)) {
    SEEN.with(|s| {
        let mut s = s.borrow_mut();
        if s.0 == run {
            f(&mut s.1);
        }
    });
}

/// Takes `WORK` per message, and notes how long the queue gets.
pub async fn slow_consumer(mut inbox: impl Inbox) -> Consumed {
    let mut seen = Consumed {
        received: 0,
        peak_queue: 0,
    };
    let run = this_run();
    loop {
        seen.peak_queue = seen.peak_queue.max(inbox.waiting());
        note(run, |s| s.peak_queue = seen.peak_queue);
        let Some(msg) = inbox.next().await else {
            return seen;
        };
        std::hint::black_box(msg);
        seen.received += 1;
        note(run, |s| s.received = seen.received);
        tokio::time::sleep(WORK).await;
    }
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
        let consumer = tokio::spawn(slow_consumer(rx).traced("consumer"));
        let producer = async move {
            for _ in 0..ITEMS {
                tx.send(vec![0u8; 1024]).expect("the consumer is running"); // BROKEN: never waits
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
        let consumer = tokio::spawn(slow_consumer(rx).traced("consumer"));
        let producer = async move {
            for _ in 0..ITEMS {
                tx.send(vec![0u8; 1024])
                    .await
                    .expect("the consumer is running"); // FIXED: waits
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

/// The `close` scenario: a handler counts pings until its channel closes.
pub mod close {
    use super::*;
    use std::process::ExitCode;

    pub static SPEC: Spec = Spec {
        name: "close",
        facts: &[
            fact("pings_received", "pings the handler received, of 10 sent").live(),
            fact(
                "handler_done",
                "1 once the handler saw its channel close and stopped",
            )
            .live(),
        ],
    };

    fn report(facts: &Facts) {
        let seen = seen();
        facts.set("pings_received", seen.pings_received);
        facts.set("handler_done", u32::from(seen.handler_done));
    }

    /// Runs `session` on the current runtime (a current-thread one: the
    /// reporter reads what this thread's handler saw), with what the handler
    /// sees reported every 10 ms. Never returns if the handler waits for
    /// ever: that is the bug.
    pub async fn measure<S>(facts: &Facts, session: S)
    where
        S: AsyncFnOnce() -> u32,
    {
        new_run();
        report(facts);
        let reporter = {
            let facts = facts.clone();
            async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    report(&facts);
                }
            }
        };
        // A task of its own, untraced: it must not wake the session's task,
        // or the session would look busy to the watchdog while it hangs.
        let reporter = tokio::spawn(reporter);
        session().traced("session").await;
        reporter.abort();
        report(facts);
    }

    pub fn run<S>(facts: &Facts, session: S)
    where
        S: AsyncFnOnce() -> u32,
    {
        println!(
            "A producer sends {PINGS} pings; a handler counts them until the channel closes ({}).",
            facts.the("ping_session")
        );
        println!("(If it never closes, the watchdog stops the program after 2 s.)");
        runtime().block_on(measure(facts, session));
        println!(
            "The handler received {} pings and stopped: its channel closed.",
            facts.get("pings_received").unwrap_or(0.0)
        );
    }

    pub fn piece<'a, S>(name: &'static str, session: S) -> Piece<'a>
    where
        S: AsyncFnOnce() -> u32 + 'a,
    {
        Piece::new(name, move |facts| run(facts, session))
    }

    /// The exercise binary's `main`: judges the learner's session.
    pub fn exercise<S>(session: S) -> ExitCode
    where
        S: AsyncFnOnce() -> u32,
    {
        shared::lesson::main(
            "lesson-08",
            Variant::Exercise("close"),
            vec![SPEC.with(vec![piece("", session)])],
        )
    }
}

/// The `backpressure` scenario: a fast producer, a slow consumer.
pub mod backpressure {
    use super::*;
    use std::process::ExitCode;

    pub static SPEC: Spec = Spec {
        name: "backpressure",
        facts: &[
            fact(
                "peak_queue",
                "the most messages ever waiting in the channel",
            ),
            fact(
                "peak_ratio",
                "the most messages ever waiting, over the 300 sent",
            ),
            fact("received", "messages the consumer received, of 300 sent"),
        ],
    };

    /// Runs `flood` on the current runtime and reads what the lesson's slow
    /// consumer saw.
    pub async fn measure<F>(facts: &Facts, flood: F)
    where
        F: AsyncFnOnce() -> Consumed,
    {
        new_run();
        flood().await;
        let seen = seen();
        facts.set("peak_queue", seen.peak_queue as u32);
        facts.set("peak_ratio", seen.peak_queue as f64 / f64::from(ITEMS));
        facts.set("received", seen.received);
    }

    pub fn run<F>(facts: &Facts, flood: F)
    where
        F: AsyncFnOnce() -> Consumed,
    {
        println!(
            "A producer sends {ITEMS} messages of 1 KiB as fast as it can ({}); the consumer",
            facts.the("flood")
        );
        println!("needs 1 ms for each.");
        runtime().block_on(measure(facts, flood));
        let peak = facts.get("peak_queue").unwrap_or(0.0);
        println!(
            "The queue peaked at {peak} messages ({peak} KiB); the consumer received {}.",
            facts.get("received").unwrap_or(0.0)
        );
    }

    pub fn piece<'a, F>(name: &'static str, flood: F) -> Piece<'a>
    where
        F: AsyncFnOnce() -> Consumed + 'a,
    {
        Piece::new(name, move |facts| run(facts, flood))
    }

    /// The exercise binary's `main`: judges the learner's `flood`.
    pub fn exercise<F>(flood: F) -> ExitCode
    where
        F: AsyncFnOnce() -> Consumed,
    {
        shared::lesson::main(
            "lesson-08",
            Variant::Exercise("backpressure"),
            vec![SPEC.with(vec![piece("", flood)])],
        )
    }
}
