//! # Lesson 08: channels
//!
//! Tasks share by communicating. A channel has two ends, and the receiving
//! end learns that no more messages will come only when the **last** sender
//! is dropped. A bounded channel makes a fast producer wait for a slow
//! consumer (backpressure); an unbounded one lets the queue grow instead.
//! This crate shows both mistakes, then the other channels tokio offers and
//! how threads and tasks talk to each other.

use shared::TraceExt;
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
    let mut count = 0;
    while let Some(_ping) = pings.recv().await {
        count += 1;
        shared::fact("pings_received", count);
    }
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

impl Consumed {
    /// Hands the facts to the runner, under the same names for both
    /// variants.
    pub fn report(&self) {
        shared::fact("peak_queue", self.peak_queue as u32);
        shared::fact("peak_ratio", self.peak_queue as f64 / f64::from(ITEMS));
        shared::fact("received", self.received);
    }
}

/// Takes `WORK` per message, and notes how long the queue gets.
pub async fn slow_consumer(mut inbox: impl Inbox) -> Consumed {
    let mut seen = Consumed {
        received: 0,
        peak_queue: 0,
    };
    loop {
        seen.peak_queue = seen.peak_queue.max(inbox.waiting());
        let Some(msg) = inbox.next().await else {
            return seen;
        };
        std::hint::black_box(msg);
        seen.received += 1;
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
