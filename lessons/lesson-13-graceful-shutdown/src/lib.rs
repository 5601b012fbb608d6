//! # Lesson 13: shutting down gracefully
//!
//! A small service on 127.0.0.1: a listener takes connections, a queue
//! hands each request to a worker, and a worker writes the request's record
//! to a store in two steps, then answers the client. While it is busy, the
//! harness sends its own process a real SIGINT, as Ctrl-C in a terminal
//! would, and the piece under lesson (`serve`) must shut the service down:
//! stop accepting, let the work already accepted finish, within a deadline,
//! and return.
//!
//! The harness counts, from outside the piece: records lost and records
//! half-written (by the store), requests accepted and never answered (by
//! its own clients), tasks still alive when `serve` returned (by the
//! runtime), and the shutdown's time over its deadline (by its own clock).
//! When `serve` returns, the harness drops the runtime, as `main` returning
//! would: whatever is still running is dropped where it stands.
//!
//! Four workloads are drawn when the program runs (`LESSON_SEED` replays
//! them): a steady stream of clients; a burst, stopped at the moment the
//! service is stuck; and two streams (a short deadline and a long one) in
//! which one to four records cannot be finished by the deadline, which
//! `serve` must give up and report
//! (`Store::report_unfinished`), never drop in silence.

use shared::TraceExt;
use shared::lesson::{Facts, Piece, Spec, Variant, fact};
use shared::work::shape::{Rng, SEED_ENV, seed};
use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

/// This lesson's id, `lesson-13`: its package name.
pub const LESSON: &str = env!("CARGO_PKG_NAME");

/// How many workers the service runs.
pub const WORKERS: usize = 4;

/// How many requests the queue between the listener and the workers holds.
pub const QUEUE: usize = 16;

/// A number that depends on every bit of `x`: for data made at run time.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

// ------------------------------------------------------ the pieces --

pub mod broken {
    use super::*;

    // ANCHOR: broken
    /// Starts the service, waits for Ctrl-C, and returns.
    pub async fn serve(listener: Listener, store: Store, deadline: Duration) {
        let _ = deadline; // BROKEN: nothing is waited for
        let (queue, requests) = tokio::sync::mpsc::channel::<Request>(QUEUE);
        let requests = Arc::new(tokio::sync::Mutex::new(requests));
        for _ in 0..WORKERS {
            let (requests, store) = (requests.clone(), store.clone());
            tokio::spawn(async move {
                loop {
                    // The lock is let go at the end of this statement.
                    let Some(mut request) = requests.lock().await.recv().await else {
                        break;
                    };
                    let receipt = store.write(&mut request).await;
                    request.answer(receipt).await;
                }
            });
        }
        tokio::spawn(async move {
            loop {
                let request = listener.accept().await;
                if queue.send(request).await.is_err() {
                    break;
                }
            }
        });
        tokio::signal::ctrl_c()
            .await
            .expect("tokio's Ctrl-C handler installs");
        // BROKEN: returning ends `main`, and dropping the runtime drops
        // every task wherever it is: mid-write, or with requests queued
    }
    // ANCHOR_END: broken

    // ANCHOR: broken_split
    /// Stops on Ctrl-C and waits for its tasks, but a worker's whole turn
    /// (take a request, write its record in two steps, answer) is raced
    /// with the stop.
    pub async fn serve_split(listener: Listener, store: Store, deadline: Duration) {
        let stop = CancellationToken::new();
        let tracker = tokio_util::task::TaskTracker::new();
        let (queue, requests) = tokio::sync::mpsc::channel::<Request>(QUEUE);
        let requests = Arc::new(tokio::sync::Mutex::new(requests));
        for _ in 0..WORKERS {
            let (requests, store, stop) = (requests.clone(), store.clone(), stop.clone());
            tracker.spawn(async move {
                loop {
                    tokio::select! {
                        _ = stop.cancelled() => break,
                        // BROKEN: dropped between the record's two steps,
                        // this leaves the record half-written
                        _ = async {
                            let Some(mut request) = requests.lock().await.recv().await else {
                                return;
                            };
                            let receipt = store.write(&mut request).await;
                            request.answer(receipt).await;
                        } => {}
                    }
                }
            });
        }
        let accepting = stop.child_token();
        tracker.spawn(async move {
            loop {
                let request = tokio::select! {
                    _ = accepting.cancelled() => break,
                    request = listener.accept() => request,
                };
                if queue.send(request).await.is_err() {
                    break;
                }
            }
        });
        tracker.close();
        tokio::signal::ctrl_c()
            .await
            .expect("tokio's Ctrl-C handler installs");
        stop.cancel();
        let _ = tokio::time::timeout(deadline, tracker.wait()).await;
    }
    // ANCHOR_END: broken_split

    // ANCHOR: broken_send
    /// Stops on Ctrl-C and lets the workers drain the queue, but the
    /// listener's send into the queue is raced with the stop.
    pub async fn serve_send(listener: Listener, store: Store, deadline: Duration) {
        let stop = CancellationToken::new();
        let tracker = tokio_util::task::TaskTracker::new();
        let (queue, requests) = tokio::sync::mpsc::channel::<Request>(QUEUE);
        let requests = Arc::new(tokio::sync::Mutex::new(requests));
        for _ in 0..WORKERS {
            let (requests, store) = (requests.clone(), store.clone());
            tracker.spawn(async move {
                loop {
                    // The lock is let go at the end of this statement.
                    let Some(mut request) = requests.lock().await.recv().await else {
                        break;
                    };
                    let receipt = store.write(&mut request).await;
                    request.answer(receipt).await;
                }
            });
        }
        let accepting = stop.child_token();
        tracker.spawn(async move {
            loop {
                tokio::select! {
                    _ = accepting.cancelled() => break,
                    // BROKEN: with the queue full, the stop wins while
                    // `send` waits, and the request it holds is dropped
                    _ = async {
                        let request = listener.accept().await;
                        let _ = queue.send(request).await;
                    } => {}
                }
            }
        });
        tracker.close();
        tokio::signal::ctrl_c()
            .await
            .expect("tokio's Ctrl-C handler installs");
        stop.cancel();
        let _ = tokio::time::timeout(deadline, tracker.wait()).await;
    }
    // ANCHOR_END: broken_send
}

pub mod fixed {
    use super::*;
    use tokio_util::task::TaskTracker;

    // ANCHOR: fixed
    /// Starts the service; on Ctrl-C, stops accepting, lets the workers
    /// finish every request already accepted, and waits for them, up to the
    /// deadline.
    pub async fn serve(listener: Listener, store: Store, deadline: Duration) {
        let stop = CancellationToken::new(); // FIXED: the root of the tree
        let tracker = TaskTracker::new(); // FIXED: every task is tracked
        // FIXED: requests accepted and not yet answered, to report
        let open = Arc::new(AtomicUsize::new(0));
        let (queue, requests) = tokio::sync::mpsc::channel::<Request>(QUEUE);
        let requests = Arc::new(tokio::sync::Mutex::new(requests));
        for _ in 0..WORKERS {
            let (requests, store, open) = (requests.clone(), store.clone(), open.clone());
            // A worker ends when the queue is closed and empty: it never
            // gives up a record half-way.
            tracker.spawn(async move {
                loop {
                    // The lock is let go at the end of this statement.
                    let Some(mut request) = requests.lock().await.recv().await else {
                        break;
                    };
                    let receipt = store.write(&mut request).await;
                    request.answer(receipt).await;
                    open.fetch_sub(1, Ordering::SeqCst);
                }
            });
        }
        let accepting = stop.child_token(); // FIXED: cancelled with the root
        let counting = open.clone();
        tracker.spawn(async move {
            loop {
                // Only the wait for a client is raced: `accept` is cancel-safe.
                let request = tokio::select! {
                    _ = accepting.cancelled() => break,
                    request = listener.accept() => request,
                };
                counting.fetch_add(1, Ordering::SeqCst);
                // Not raced: a request is queued whole, or not taken at all.
                if queue.send(request).await.is_err() {
                    break;
                }
            }
            // FIXED: the listener and the queue's sender are dropped here:
            // the queue closes, and the workers end once it is empty
        });
        tracker.close();
        tokio::signal::ctrl_c()
            .await
            .expect("tokio's Ctrl-C handler installs");
        stop.cancel(); // FIXED: stop accepting
        // FIXED: wait for every task, but not for ever
        if tokio::time::timeout(deadline, tracker.wait())
            .await
            .is_err()
        {
            // FIXED: what cannot finish in time is reported, not lost in silence
            store.report_unfinished(open.load(Ordering::SeqCst));
        }
    }
    // ANCHOR_END: fixed

    // ANCHOR: fixed_exercise
    /// The exercise's service (a task per request), shut down gracefully:
    /// the solution of `exercise/shutdown.rs`.
    pub async fn serve_per_request(listener: Listener, store: Store, deadline: Duration) {
        let stop = CancellationToken::new();
        let tracker = TaskTracker::new();
        let (accepting, requests) = (stop.child_token(), tracker.clone());
        let report = store.clone();
        tracker.spawn(async move {
            loop {
                let mut request = tokio::select! {
                    _ = accepting.cancelled() => break,
                    request = listener.accept() => request,
                };
                let store = store.clone();
                // Each request's task is tracked, and never raced.
                requests.spawn(async move {
                    let receipt = store.write(&mut request).await;
                    request.answer(receipt).await;
                });
            }
        });
        tokio::signal::ctrl_c()
            .await
            .expect("tokio's Ctrl-C handler installs");
        stop.cancel();
        // `wait` returns once the tracker is closed and holds no task;
        // closing it does not stop anyone spawning into it.
        tracker.close();
        if tokio::time::timeout(deadline, tracker.wait())
            .await
            .is_err()
        {
            // The accept loop has ended: each task left holds one request.
            report.report_unfinished(tracker.len());
        }
    }
    // ANCHOR_END: fixed_exercise

    // ANCHOR: fixed_watch
    /// The same shutdown, written with a watch channel for the stop and a
    /// `JoinSet` to wait on.
    pub async fn serve_watch(listener: Listener, store: Store, deadline: Duration) {
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let mut tasks = tokio::task::JoinSet::new();
        let open = Arc::new(AtomicUsize::new(0));
        let (queue, requests) = tokio::sync::mpsc::channel::<Request>(QUEUE);
        let requests = Arc::new(tokio::sync::Mutex::new(requests));
        for _ in 0..WORKERS {
            let (requests, store, open) = (requests.clone(), store.clone(), open.clone());
            tasks.spawn(async move {
                loop {
                    // The lock is let go at the end of this statement.
                    let Some(mut request) = requests.lock().await.recv().await else {
                        break;
                    };
                    let receipt = store.write(&mut request).await;
                    request.answer(receipt).await;
                    open.fetch_sub(1, Ordering::SeqCst);
                }
            });
        }
        let counting = open.clone();
        tasks.spawn(async move {
            loop {
                let request = tokio::select! {
                    // Ready once the value changes, or if the sender is gone.
                    _ = stopped.changed() => break,
                    request = listener.accept() => request,
                };
                counting.fetch_add(1, Ordering::SeqCst);
                if queue.send(request).await.is_err() {
                    break;
                }
            }
        });
        tokio::signal::ctrl_c()
            .await
            .expect("tokio's Ctrl-C handler installs");
        stop.send_replace(true);
        let all_done = async { while tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(deadline, all_done).await.is_err() {
            store.report_unfinished(open.load(Ordering::SeqCst));
        }
        // Dropping a JoinSet aborts what is left in it.
    }
    // ANCHOR_END: fixed_watch
}

// -------------------------------------------------- the service kit --

/// A request's record as the store holds it.
#[derive(Clone, Copy, Debug, Default)]
struct Record {
    value: u64,
    head: bool,
    tail: bool,
}

/// When the harness sends the signal.
#[derive(Clone, Copy, Debug)]
enum Trigger {
    /// Once this many answers have come back.
    Answers(u32),
    /// The first this many writes run through; the store holds every later
    /// one after its first step (the gate). Once those first answers are
    /// sent, the signal comes when the service is stuck: its runtime is
    /// about to rest with every write begun held at the gate, and the
    /// listener holding a request it cannot hand on (or every client
    /// accepted). Nothing can move until the signal, which opens the gate:
    /// the moment is the same on any machine.
    Stuck(u32),
}

/// The harness's record of one run.
struct Book {
    salt: u64,
    steps: (Duration, Duration),
    /// This client's record takes longer.
    slow: Option<(u32, Duration)>,
    deadline: Duration,
    trigger: Trigger,
    /// These clients' records take `beyond_step` a step: longer than the
    /// deadline allows.
    beyond: Vec<u32>,
    beyond_step: Duration,
    /// How many clients the burst has.
    burst: u32,
    /// Answers the service has written.
    sent: u32,
    /// Writes begun, writes not yet finished, and of those, writes held
    /// at the gate.
    begun: u32,
    in_write: u32,
    held: u32,
    /// What the piece said it gave up (`Store::report_unfinished`).
    reported: u32,
    first_answer: Option<Instant>,
    /// Requests the listener handed out.
    accepted: u32,
    /// Of those, accepted late: once the service was seen waiting for
    /// clients at `LATE_RESTS` rests since the signal, or half a deadline
    /// after it.
    accepted_late: u32,
    /// By the clients: answers that came back right.
    answered: u32,
    /// Of those, answers to clients not in `beyond`.
    answered_within: u32,
    answered_before_stop: u32,
    records: HashMap<u32, Record>,
    signal_at: Option<Instant>,
    returned: bool,
    /// Accepts, store steps and answers once `serve` had returned.
    after_return: u32,
    /// What the service did that the harness sees (accepts, store steps,
    /// answers, reports, the signal), and when it last did any.
    events: u32,
    last_event: Option<Instant>,
    /// Accepts now waiting for a client.
    accepts_waiting: u32,
    /// Times the service's runtime went to rest after the signal was sent
    /// with an accept waiting for a client.
    waiting_rests: u32,
}

impl Book {
    /// Something the service did: an accept, a store step, an answer.
    fn event(&mut self) {
        self.events += 1;
        self.last_event = Some(Instant::now());
    }

    fn after_return(&mut self) {
        self.event();
        if self.returned {
            self.after_return += 1;
        }
    }

    /// Sends the signal if this run's moment has come.
    fn check(&mut self, shared: &Shared) {
        if self.signal_at.is_some() {
            return;
        }
        let now = match self.trigger {
            Trigger::Answers(n) => self.answered >= n,
            Trigger::Stuck(_) => false,
        };
        if now {
            self.fire(shared);
        }
    }

    /// Called as the service's runtime goes to rest: sends the signal if
    /// the service is stuck at the gate.
    fn check_stuck(&mut self, shared: &Shared) {
        let stuck = matches!(self.trigger, Trigger::Stuck(n) if self.sent >= n)
            && self.signal_at.is_none()
            && self.held >= 1
            && self.held == self.in_write
            && (self.accepted > self.begun || self.accepted >= self.burst);
        if stuck {
            self.fire(shared);
        }
    }

    fn fire(&mut self, shared: &Shared) {
        self.signal_at = Some(Instant::now());
        self.answered_before_stop = self.answered.max(self.sent);
        self.event();
        send_sigint();
        shared::mark("Ctrl-C: SIGINT sent to this process");
        shared.signalled.notify_one();
        shared.gate.cancel();
    }
}

struct Shared {
    book: Mutex<Book>,
    /// Told when the signal has been sent.
    signalled: tokio::sync::Notify,
    /// Told when the server's runtime is gone.
    gone: tokio::sync::Notify,
    arrivals_off: AtomicBool,
    /// Cancelled when the signal is sent: opens the gate.
    gate: CancellationToken,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// How long an answer takes to send: the harness's clients read slowly.
const ANSWER_PAUSE: Duration = Duration::from_millis(2);

/// An accept is late once the service's runtime has gone to rest this many
/// times since the signal with an accept waiting for a client: a service
/// that stops accepting when it hears the stop is seen waiting at one rest
/// at most (the one at which the signal reaches the runtime).
const LATE_RESTS: u32 = 3;

/// Set once this process has tokio's SIGINT handler, for good.
static HANDLER: AtomicBool = AtomicBool::new(false);

/// Sends SIGINT to this process, as Ctrl-C in a terminal would (which
/// sends it to every process in the terminal's foreground group).
#[allow(unsafe_code)]
fn send_sigint() {
    assert!(
        HANDLER.load(Ordering::SeqCst),
        "SIGINT without tokio's handler would end the process"
    );
    let pid = std::process::id() as libc::pid_t;
    // SAFETY: `kill` takes two plain integers and touches no memory of
    // ours; the signal goes to this process, whose SIGINT handler is
    // tokio's (checked above), so it does not end it.
    let sent = unsafe { libc::kill(pid, libc::SIGINT) };
    assert_eq!(sent, 0, "kill(own pid, SIGINT) failed");
}

/// The service's listener on 127.0.0.1. Made by the harness.
pub struct Listener {
    inner: tokio::net::TcpListener,
    shared: Arc<Shared>,
}

impl Listener {
    /// Waits for the next client and returns its request. Cancel-safe: a
    /// connection is taken only in the poll that returns it, so dropping
    /// this future takes nothing.
    pub async fn accept(&self) -> Request {
        // Counted as waiting for a client from its first pending poll
        // until it returns or is dropped.
        let mut waiting = Waiting {
            shared: &self.shared,
            on: false,
        };
        loop {
            let accepted = std::future::poll_fn(|cx| {
                let polled = self.inner.poll_accept(cx);
                waiting.set(polled.is_pending());
                polled
            })
            .await;
            // A client that gave up before we took it is an error here;
            // the next one will do.
            if let Ok((stream, _)) = accepted {
                let mut b = self.shared.lock();
                b.accepted += 1;
                // Late: once the service has been seen waiting for clients
                // at a few of its runtime's rests since the signal (a fix
                // stops waiting when it hears the stop, before it next
                // rests), or half a deadline after it.
                if let Some(at) = b.signal_at
                    && (b.waiting_rests >= LATE_RESTS || at.elapsed() > b.deadline / 2)
                {
                    b.accepted_late += 1;
                }
                b.after_return();
                b.check(&self.shared);
                return Request {
                    stream,
                    id: None,
                    shared: self.shared.clone(),
                };
            }
        }
    }
}

/// Marks an `accept` as waiting for a client, in the harness's record.
struct Waiting<'a> {
    shared: &'a Shared,
    on: bool,
}

impl Waiting<'_> {
    fn set(&mut self, on: bool) {
        if on != self.on {
            let mut b = self.shared.lock();
            if on {
                b.accepts_waiting += 1;
            } else {
                b.accepts_waiting -= 1;
            }
            self.on = on;
        }
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.set(false);
    }
}

/// One client's request, and its connection. Only the listener makes one.
/// Dropped without an answer, it closes the connection: the client is left
/// unanswered.
pub struct Request {
    stream: tokio::net::TcpStream,
    id: Option<u32>,
    shared: Arc<Shared>,
}

impl Request {
    /// Answers the client, whose record `receipt` says is written, and
    /// closes the connection.
    pub async fn answer(mut self, receipt: Receipt) {
        assert_eq!(receipt.id, self.id, "a receipt for another request");
        self.shared.lock().after_return();
        if let Some(id) = self.id {
            // The client reads slowly: the answer takes a moment to send,
            // so a task dropped before its answer is sent leaves its client
            // unanswered.
            tokio::time::sleep(ANSWER_PAUSE).await;
            let written = self.stream.write_all(format!("ok {id}\n").as_bytes()).await;
            if written.is_ok() {
                let mut b = self.shared.lock();
                b.sent += 1;
                b.event();
            }
        }
    }
}

/// The store's word that a request's record is written whole.
#[derive(Debug)]
pub struct Receipt {
    id: Option<u32>,
}

/// The store the workers write records to. Made by the harness.
#[derive(Clone)]
pub struct Store {
    shared: Arc<Shared>,
}

impl Store {
    /// Reads the request's record from its client, then writes it in two
    /// steps (a few milliseconds each). Not cancel-safe: dropped between
    /// the steps, it leaves the record half-written.
    pub async fn write(&self, request: &mut Request) -> Receipt {
        let index = {
            let mut b = self.shared.lock();
            b.begun += 1;
            b.in_write += 1;
            b.event();
            b.begun
        };
        let receipt = self.write_inner(request, index).await;
        self.shared.lock().in_write -= 1;
        receipt
    }

    /// Tells the harness that `requests` accepted requests are given up
    /// unfinished, as a log line or an alert would tell whoever runs the
    /// service. The harness checks it against its own record: every
    /// request accepted and not written whole must be reported.
    pub fn report_unfinished(&self, requests: usize) {
        let mut b = self.shared.lock();
        b.reported += requests as u32;
        b.event();
        shared::mark(&format!("serve reported {requests} request(s) unfinished"));
    }

    async fn write_inner(&self, request: &mut Request, index: u32) -> Receipt {
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        // The client sends one short line; it is read a byte at a time so
        // that nothing after it is taken.
        while let Ok(1) = request.stream.read(&mut byte).await {
            if byte[0] == b'\n' {
                break;
            }
            line.push(byte[0]);
        }
        let text = String::from_utf8_lossy(&line);
        let mut words = text.split_whitespace().map(str::parse::<u64>);
        let (Some(Ok(id)), Some(Ok(value))) = (words.next(), words.next()) else {
            return Receipt { id: None }; // the client went away
        };
        let id = id as u32;
        request.id = Some(id);
        let step = {
            let mut b = self.shared.lock();
            b.after_return();
            b.records.insert(
                id,
                Record {
                    value,
                    head: true,
                    tail: false,
                },
            );
            let (lo, hi) = b.steps;
            match b.slow {
                _ if b.beyond.contains(&id) => b.beyond_step,
                Some((slow, step)) if slow == id => step,
                _ => Rng::new(b.salt ^ mix(u64::from(id))).duration_between(lo, hi),
            }
        };
        tokio::time::sleep(step).await; // the record is half-written here
        let held = {
            let mut b = self.shared.lock();
            let held = matches!(b.trigger, Trigger::Stuck(n) if index > n) && b.signal_at.is_none();
            if held {
                b.held += 1;
            }
            held
        };
        if held {
            self.shared.gate.cancelled().await;
            let mut b = self.shared.lock();
            b.held -= 1;
            b.event();
        }
        tokio::time::sleep(step).await;
        let mut b = self.shared.lock();
        b.after_return();
        if let Some(r) = b.records.get_mut(&id) {
            r.tail = true;
        }
        Receipt { id: Some(id) }
    }
}

// ----------------------------------------------------- the scenario --

/// The `shutdown` scenario: a busy service, a real Ctrl-C, a deadline.
pub mod shutdown {
    use super::*;

    pub static SPEC: Spec = Spec {
        name: "shutdown",
        facts: &[
            fact(
                "shutdown_ratio",
                "time from the SIGINT until serve returned (or was dropped at twice the deadline), over the deadline, in the worse of the two workloads whose work can all finish in time",
            )
            .timing(),
            fact(
                "over_deadline",
                "time serve took past its deadline (0 if it returned within it), over the deadline, in the worst workload",
            )
            .timing(),
            fact(
                "unreported",
                "requests accepted and not written whole (given up at the deadline, or lost) that serve did not report with Store::report_unfinished, over the workloads in which serve returned by itself",
            ),
            fact(
                "forced_stops",
                "workloads in which serve had not returned at twice the deadline, and was dropped there",
            )
            .timing(),
            fact(
                "records_lost",
                "requests accepted whose record never got written whole, over the workloads, leaving out the records that cannot be finished by the deadline",
            ),
            fact(
                "records_half",
                "records begun and never finished (the first step written, not the second), over the workloads, leaving out the records that cannot be finished by the deadline",
            ),
            fact(
                "unanswered",
                "requests accepted whose client never got its answer, over the workloads, leaving out the records that cannot be finished by the deadline",
            ),
            fact(
                "tasks_left",
                "tasks still alive in the runtime when serve returned, over the workloads, less one for each record given up at the deadline",
            ),
            fact(
                "accepted_late",
                "requests accepted once the service had been seen waiting for clients at 3 of its runtime's rests since the SIGINT (a service that stops when it hears the stop is seen at one at most), or more than half a deadline after it, over the workloads",
            )
            .timing(),
            fact(
                "after_return",
                "accepts, store steps and answers once serve had returned, over the workloads",
            ),
            fact(
                "early_returns",
                "workloads in which serve returned before the SIGINT",
            ),
            fact(
                "answered_before_stop",
                "answers given (written by the service, or read by the clients) when the SIGINT was sent, in the workload with fewer",
            ),
            fact(
                "shutdown_polls",
                "times serve's future was polled from the SIGINT to its return, in the worst workload: once per wake-up for a shutdown that waits (a busy machine only merges wake-ups), thousands for one that checks in a loop",
            )
            .timing(),
            fact(
                "idle_polls",
                "polls of serve from the SIGINT to its return at which nothing had happened since its last poll and nothing happened in it (no accept, store step, answer or report by the service, no task ended), in the worst workload: a wait that awaits its tasks is woken by them, a loop on a timer wakes with nothing new",
            )
            .timing(),
            fact(
                "idle_after_done",
                "time from the service's last act (accept, store step, answer or report) to serve's return, over the deadline, in the worst workload in which serve returned by itself and gave nothing up",
            )
            .timing(),
            fact(
                "gave_up_early",
                "workloads in which serve returned with records that cannot finish in time given up, before 0.95 of its deadline from the SIGINT",
            ),
            fact(
                "overreported",
                "requests reported unfinished with Store::report_unfinished beyond those accepted and not answered, over the workloads in which serve returned by itself",
            ),
            fact(
                "others_busy",
                "time that the piece's own threads (every thread but the harness's: the service's runtime thread, the clients' thread, the kit's; whenever the piece made them) ran or waited for a core, from the SIGINT to serve's return, over the deadline, in the worst workload",
            )
            .timing(),
        ],
    };

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// One workload.
    #[derive(Clone, Debug)]
    pub struct Shape {
        pub name: String,
        pub deadline: Duration,
        steps: (Duration, Duration),
        /// Clients arrive this often, until serve returns...
        every: Option<(Duration, Duration)>,
        /// ...or this many at once.
        burst: u32,
        /// One client whose record's steps take this long.
        slow: Option<(u32, Duration)>,
        /// Clients whose records cannot be written before the deadline.
        pub beyond: Vec<u32>,
        trigger: Trigger,
        salt: u64,
    }

    impl Shape {
        /// Clients arrive every 3 to 6 ms, and go on arriving after the
        /// signal.
        pub fn steady(rng: &mut Rng) -> Shape {
            let deadline = ms(rng.between(250, 350));
            let answers = rng.between(15, 25) as u32;
            Shape {
                name: format!(
                    "a client every 3 to 6 ms, records of two steps of 3 to 8 ms; Ctrl-C after {answers} answers; a deadline of {} ms",
                    deadline.as_millis()
                ),
                deadline,
                steps: (ms(3), ms(8)),
                every: Some((ms(3), ms(6))),
                burst: 0,
                slow: None,
                beyond: Vec::new(),
                trigger: Trigger::Answers(answers),
                salt: rng.salt(),
            }
        }

        /// Clients arrive as in `steady`, but `count` early records take a
        /// step and a half of the deadline each: begun long before the
        /// signal, they still cannot be finished by the deadline, drawn
        /// from `deadline_ms`.
        pub fn overrun(rng: &mut Rng, deadline_ms: (u64, u64), count: u64) -> Shape {
            let deadline = ms(rng.between(deadline_ms.0, deadline_ms.1));
            let answers = rng.between(10, 15) as u32;
            let mut beyond = vec![rng.between(2, 5) as u32];
            while (beyond.len() as u64) < count {
                let last = beyond[beyond.len() - 1];
                beyond.push(last + 1 + rng.between(0, 2) as u32);
            }
            let ids: Vec<String> = beyond.iter().map(u32::to_string).collect();
            Shape {
                name: format!(
                    "a client every 3 to 6 ms, records of two steps of 3 to 8 ms, but the steps of client(s) {} take {} ms each; Ctrl-C after {answers} answers; a deadline of {} ms",
                    ids.join(", "),
                    (deadline * 3 / 2).as_millis(),
                    deadline.as_millis()
                ),
                deadline,
                steps: (ms(3), ms(8)),
                every: Some((ms(3), ms(6))),
                burst: 0,
                slow: None,
                beyond,
                trigger: Trigger::Answers(answers),
                salt: rng.salt(),
            }
        }

        /// A burst of clients; once a few are answered, the store holds
        /// every record half-way until the signal, which comes when the
        /// service is stuck (a full queue, no permit left, or every client
        /// taken).
        pub fn burst(rng: &mut Rng) -> Shape {
            let deadline = ms(rng.between(400, 500));
            let burst = rng.between(32, 40) as u32;
            let answers = rng.between(2, 4) as u32;
            // Client ids follow the order of connecting, not of accepting:
            // the slow one may be among the first writes or held.
            let slow = (rng.between(5, 8) as u32, ms(rng.between(30, 40)));
            Shape {
                name: format!(
                    "{burst} clients at once, records of two steps of 3 to 8 ms (client {}'s, of {} ms); after the first {answers} records the store holds each one half-way until Ctrl-C, which comes once those are answered and the service is stuck; a deadline of {} ms",
                    slow.0,
                    slow.1.as_millis(),
                    deadline.as_millis()
                ),
                slow: Some(slow),
                beyond: Vec::new(),
                deadline,
                steps: (ms(3), ms(8)),
                every: None,
                burst,
                trigger: Trigger::Stuck(answers),
                salt: rng.salt(),
            }
        }
    }

    /// This run's four workloads, drawn from `rng`: a steady stream, a
    /// burst, and two overruns, one with a short deadline and one with a
    /// long one, and a different number of records that cannot finish in
    /// each (so that neither a fixed timeout nor a fixed count of records
    /// given up can pass for the deadline and the count serve is given).
    pub fn shapes(rng: &mut Rng) -> Vec<Shape> {
        let short = rng.between(1, 2);
        let long = short + rng.between(1, 2);
        vec![
            Shape::steady(rng),
            Shape::burst(rng),
            Shape::overrun(rng, (250, 350), short),
            Shape::overrun(rng, (500, 700), long),
        ]
    }

    /// If the signal's moment never comes (a service that answers nobody),
    /// it comes anyway this long after the start.
    const FALLBACK: Duration = Duration::from_millis(1500);

    /// How long the clients wait for answers once the server's runtime is
    /// gone (only a thread the piece left behind could still answer).
    const LINGER: Duration = Duration::from_millis(300);

    /// What one workload measured.
    #[derive(Clone, Debug)]
    pub struct Measured {
        pub shutdown_ratio: f64,
        pub forced: bool,
        pub early: bool,
        pub accepted: u32,
        pub answered: u32,
        pub answered_before_stop: u32,
        pub lost: u32,
        pub half: u32,
        pub unanswered: u32,
        pub tasks_left: u32,
        /// Records of the `beyond` clients not written whole (given up).
        pub given_up: u32,
        pub reported: u32,
        /// Given up (or lost) and not reported, if serve returned itself.
        pub unreported: u32,
        pub accepted_late: u32,
        pub after_return: u32,
        pub polls: u32,
        /// Polls of serve after the signal at which nothing had happened
        /// since its last poll, and nothing happened in it: no accept,
        /// store step, answer or report, and no task ended.
        pub idle_polls: u32,
        /// Time from the service's last act (accept, store step, answer,
        /// report) to serve's return, over the deadline, where serve
        /// returned by itself and gave nothing up.
        pub idle_after: f64,
        /// serve returned with records given up before 0.95 of its deadline.
        pub gave_up_early: bool,
        /// Requests reported unfinished beyond those accepted and not
        /// answered.
        pub overreported: u32,
        /// Time threads made by the piece (not the harness's) ran or
        /// waited for a core, from the signal to serve's return, over the
        /// deadline.
        pub others_busy: f64,
        /// The signal was sent at the fallback: the workload's moment for
        /// it (answers in, or the service stuck at the gate) never came.
        pub signal_late: bool,
    }

    /// Signals are for the whole process: one run at a time.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

    /// Runs `serve` under one workload, in real time: a runtime of its own
    /// for the service, a thread with a runtime of its own for the clients.
    pub fn measure_one<S>(shape: &Shape, serve: &S) -> Measured
    where
        S: AsyncFn(Listener, Store, Duration),
    {
        let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        // Every thread alive now but this one and the kit's is the piece's:
        // made in its `main`, or by an earlier workload and kept.
        let harness = shared::record::sched::HarnessThreads::begin();
        let mut builder = tokio::runtime::Builder::new_current_thread();
        builder.enable_all();
        // As the runtime goes to rest, the harness looks whether the
        // service is stuck at the gate (the burst's moment for the signal).
        let at_rest: Arc<std::sync::OnceLock<Arc<Shared>>> = Arc::default();
        {
            let at_rest = at_rest.clone();
            builder.on_thread_park(move || {
                if let Some(shared) = at_rest.get() {
                    let mut b = shared.lock();
                    let signalled = b.signal_at.is_some();
                    b.check_stuck(shared);
                    if signalled && b.accepts_waiting > 0 {
                        b.waiting_rests += 1;
                    }
                }
            });
        }
        let runtime = builder.build().expect("a current-thread runtime builds");
        // tokio installs its SIGINT handler when the first listener for it
        // is made, and keeps it for the life of the process. Made here,
        // before any signal is sent, so that a SIGINT never finds the
        // default action (which ends the process).
        let _sigint = {
            let _in = runtime.enter();
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
                .expect("tokio's SIGINT handler installs")
        };
        HANDLER.store(true, Ordering::SeqCst);
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port on 127.0.0.1");
        std_listener
            .set_nonblocking(true)
            .expect("a listener can be non-blocking");
        let addr = std_listener.local_addr().expect("a bound address");
        let shared = Arc::new(Shared {
            book: Mutex::new(Book {
                salt: shape.salt,
                steps: shape.steps,
                slow: shape.slow,
                deadline: shape.deadline,
                trigger: shape.trigger,
                beyond: shape.beyond.clone(),
                beyond_step: shape.deadline * 3 / 2,
                burst: shape.burst,
                sent: 0,
                begun: 0,
                in_write: 0,
                held: 0,
                reported: 0,
                first_answer: None,
                accepted: 0,
                accepted_late: 0,
                answered: 0,
                answered_within: 0,
                answered_before_stop: 0,
                records: HashMap::new(),
                signal_at: None,
                returned: false,
                after_return: 0,
                events: 0,
                last_event: None,
                accepts_waiting: 0,
                waiting_rests: 0,
            }),
            signalled: tokio::sync::Notify::new(),
            gone: tokio::sync::Notify::new(),
            arrivals_off: AtomicBool::new(false),
            gate: CancellationToken::new(),
        });
        let _ = at_rest.set(shared.clone());
        let clients = {
            let (shape, shared) = (shape.clone(), shared.clone());
            std::thread::Builder::new()
                .name("clients".into())
                .spawn(move || {
                    shared::record::sched::claim_this_thread();
                    run_clients(addr, &shape, shared)
                })
                .expect("a thread for the clients")
        };
        let listener = {
            let _in = runtime.enter();
            Listener {
                inner: tokio::net::TcpListener::from_std(std_listener)
                    .expect("a tokio listener from a std one"),
                shared: shared.clone(),
            }
        };
        let store = Store {
            shared: shared.clone(),
        };
        let started = Instant::now();
        // The harness's threads (this one, which runs the service's
        // runtime; the clients'; the kit's), left out of `others_busy`:
        // every other thread is the piece's, whenever it was made.
        let harness_threads = harness.now();
        let signal_late = std::cell::Cell::new(false);
        let (early, forced, ended, tasks_left, polls, idle_polls, others) =
            runtime.block_on(async {
                let mut inner =
                    std::pin::pin!(serve(listener, store, shape.deadline).traced("serve"));
                // Counts serve's polls once the signal is heard, and of those,
                // the idle ones: nothing the harness sees (its events, the
                // runtime's alive tasks) changed since the last poll or in it.
                let (counting, polls) = (std::cell::Cell::new(false), std::cell::Cell::new(0u32));
                let idle = std::cell::Cell::new(0u32);
                let seen = std::cell::Cell::new(None::<(u32, usize)>);
                let state = || {
                    let alive = tokio::runtime::Handle::current()
                        .metrics()
                        .num_alive_tasks();
                    (shared.lock().events, alive)
                };
                let mut serve = std::pin::pin!(std::future::poll_fn(|cx| {
                    if !counting.get() {
                        return inner.as_mut().poll(cx);
                    }
                    polls.set(polls.get() + 1);
                    let before = state();
                    let result = inner.as_mut().poll(cx);
                    let after = state();
                    if seen.get() == Some(before) && before == after {
                        idle.set(idle.get() + 1);
                    }
                    seen.set(Some(after));
                    result
                }));
                let mut finished = false;
                let early = tokio::select! {
                    // The signal may have reached tokio (and ended serve)
                    // before this select heard of it: the record says.
                    _ = &mut serve => {
                        finished = true;
                        shared.lock().signal_at.is_none()
                    }
                    _ = shared.signalled.notified() => false,
                    _ = tokio::time::sleep(FALLBACK) => {
                        let mut b = shared.lock();
                        if b.signal_at.is_none() {
                            signal_late.set(true);
                            b.fire(&shared);
                        }
                        false
                    }
                };
                counting.set(true);
                // The time threads the piece made ran or waited for a core.
                let others = shared::work::cpu::BusyWatch::leaving_out(harness_threads);
                let forced = !finished
                    && tokio::time::timeout(shape.deadline * 2, &mut serve)
                        .await
                        .is_err();
                let ended = Instant::now();
                let tasks_left = tokio::runtime::Handle::current()
                    .metrics()
                    .num_alive_tasks() as u32;
                shared.lock().returned = true;
                shared::mark(if forced {
                    "serve dropped at twice the deadline"
                } else {
                    "serve returned"
                });
                let others = others.finish().time;
                (
                    early,
                    forced,
                    ended,
                    tasks_left,
                    polls.get(),
                    idle.get(),
                    others,
                )
            });
        // As `main` returning would: every task still in the runtime is
        // dropped where it stands. A thread blocked in the piece is not
        // waited for.
        runtime.shutdown_timeout(Duration::from_millis(100));
        shared::mark("runtime dropped");
        shared.arrivals_off.store(true, Ordering::SeqCst);
        shared.gone.notify_one();
        clients.join().expect("the clients do not panic");
        let b = shared.lock();
        let signal_at = b.signal_at.unwrap_or(started);
        // The records of the `beyond` clients cannot be finished in time:
        // counted apart, as given up.
        let within = |id: &u32| !b.beyond.contains(id);
        let whole_all = b.records.values().filter(|r| r.head && r.tail).count() as u32;
        let given_up = b
            .beyond
            .iter()
            .filter(|id| b.records.get(id).is_some_and(|r| r.head && !r.tail))
            .count() as u32;
        let whole = b
            .records
            .iter()
            .filter(|(id, r)| within(id) && r.head && r.tail)
            .count() as u32;
        let half = b
            .records
            .iter()
            .filter(|(id, r)| within(id) && r.head && !r.tail)
            .count() as u32;
        let accepted = b.accepted.saturating_sub(b.beyond.len() as u32);
        let answered = b.answered_within;
        let in_shutdown = ended.saturating_duration_since(signal_at);
        let deadline = shape.deadline.as_secs_f64();
        let returned_itself = !early && !forced;
        // Requests accepted and not answered: unfinished.
        let unfinished = b.accepted.saturating_sub(b.sent);
        // Where something was given up, serve's last act is its report,
        // judged apart.
        let idle_after = match b.last_event {
            Some(at) if returned_itself && given_up == 0 => {
                ended.saturating_duration_since(at).as_secs_f64() / deadline
            }
            _ => 0.0,
        };
        Measured {
            shutdown_ratio: if early {
                0.0
            } else {
                in_shutdown.as_secs_f64() / shape.deadline.as_secs_f64()
            },
            forced,
            early,
            accepted: b.accepted,
            answered: b.answered,
            answered_before_stop: b.answered_before_stop,
            lost: accepted.saturating_sub(whole),
            half,
            unanswered: accepted.saturating_sub(answered),
            // A task holding a record given up is still alive: not counted.
            tasks_left: tasks_left.saturating_sub(given_up),
            given_up,
            reported: b.reported,
            unreported: if forced {
                0
            } else {
                b.accepted
                    .saturating_sub(whole_all)
                    .saturating_sub(b.reported)
            },
            accepted_late: b.accepted_late,
            after_return: b.after_return,
            polls,
            idle_polls,
            idle_after,
            gave_up_early: returned_itself
                && given_up >= 1
                && in_shutdown.as_secs_f64() < 0.95 * deadline,
            overreported: if returned_itself {
                b.reported.saturating_sub(unfinished)
            } else {
                0
            },
            others_busy: others.as_secs_f64() / deadline,
            signal_late: signal_late.get(),
        }
    }

    /// The clients: each connects, sends one record, and waits for its
    /// answer. Their runtime is on a thread of its own.
    fn run_clients(addr: std::net::SocketAddr, shape: &Shape, shared: Arc<Shared>) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread runtime builds");
        runtime.block_on(async {
            let over = CancellationToken::new();
            let mut clients = tokio::task::JoinSet::new();
            let mut rng = Rng::new(shape.salt ^ 0x5eed);
            let id = std::cell::Cell::new(0u32);
            let spawn = |clients: &mut tokio::task::JoinSet<()>, rng: &mut Rng| {
                id.set(id.get() + 1);
                let value = rng.salt() % 1_000_000;
                clients.spawn(client(addr, id.get(), value, shared.clone(), over.clone()));
            };
            match shape.every {
                Some((lo, hi)) => {
                    while !shared.arrivals_off.load(Ordering::SeqCst) && id.get() < 1000 {
                        spawn(&mut clients, &mut rng);
                        let gap = rng.duration_between(lo, hi);
                        tokio::select! {
                            _ = tokio::time::sleep(gap) => {}
                            _ = shared.gone.notified() => break,
                        }
                    }
                    // Put back the wake-up if the loop ended on its own.
                    shared.gone.notify_one();
                }
                None => {
                    for _ in 0..shape.burst {
                        spawn(&mut clients, &mut rng);
                    }
                }
            }
            let all = async { while clients.join_next().await.is_some() {} };
            tokio::select! {
                _ = all => {}
                _ = async {
                    shared.gone.notified().await;
                    tokio::time::sleep(LINGER).await;
                } => {}
            }
            over.cancel();
            while clients.join_next().await.is_some() {}
        });
    }

    async fn client(
        addr: std::net::SocketAddr,
        id: u32,
        value: u64,
        shared: Arc<Shared>,
        over: CancellationToken,
    ) {
        let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
            return; // refused: the listener is gone
        };
        if stream
            .write_all(format!("{id} {value}\n").as_bytes())
            .await
            .is_err()
        {
            return;
        }
        let mut answer = Vec::new();
        tokio::select! {
            // An answer already in hand is read before giving up, however
            // late this thread gets to run.
            biased;
            _ = stream.read_to_end(&mut answer) => {}
            _ = over.cancelled() => return,
        }
        if answer == format!("ok {id}\n").as_bytes() {
            let mut b = shared.lock();
            // Right only if the store holds this client's value, whole.
            if b.records
                .get(&id)
                .is_some_and(|r| r.value == value && r.tail)
            {
                b.answered += 1;
                if !b.beyond.contains(&id) {
                    b.answered_within += 1;
                }
                b.first_answer.get_or_insert_with(Instant::now);
                b.check(&shared);
            }
        }
    }

    /// Runs each workload, and sets the facts: counts summed, times the
    /// worse of the two.
    pub fn measure<S>(facts: &Facts, shapes: &[Shape], serve: S) -> Vec<Measured>
    where
        S: AsyncFn(Listener, Store, Duration),
    {
        // The signal is meant for a moment of each workload. On a starved
        // machine that moment may not come before the fallback, and the
        // run is then not the workload designed (records a fix finishes
        // in time can be left past its deadline): such a run is made
        // again, once.
        let all: Vec<Measured> = shapes
            .iter()
            .map(|s| {
                let first = measure_one(s, &serve);
                if first.signal_late {
                    println!("  (the moment for the signal never came: the machine may be busy; that workload runs again)");
                    measure_one(s, &serve)
                } else {
                    first
                }
            })
            .collect();
        let worst = |f: fn(&Measured) -> f64| all.iter().map(f).fold(0.0, f64::max);
        let sum = |f: fn(&Measured) -> u32| all.iter().map(f).sum::<u32>();
        facts.set(
            "shutdown_ratio",
            all.iter()
                .zip(shapes)
                .filter(|(_, s)| s.beyond.is_empty())
                .map(|(m, _)| m.shutdown_ratio)
                .fold(0.0, f64::max),
        );
        facts.set(
            "over_deadline",
            worst(|m| (m.shutdown_ratio - 1.0).max(0.0)),
        );
        facts.set("unreported", sum(|m| m.unreported));
        facts.set("forced_stops", sum(|m| u32::from(m.forced)));
        facts.set("records_lost", sum(|m| m.lost));
        facts.set("records_half", sum(|m| m.half));
        facts.set("unanswered", sum(|m| m.unanswered));
        facts.set("tasks_left", sum(|m| m.tasks_left));
        facts.set("accepted_late", sum(|m| m.accepted_late));
        facts.set("after_return", sum(|m| m.after_return));
        facts.set("early_returns", sum(|m| u32::from(m.early)));
        facts.set(
            "answered_before_stop",
            all.iter()
                .map(|m| m.answered_before_stop)
                .min()
                .unwrap_or(0),
        );
        facts.set(
            "shutdown_polls",
            all.iter().map(|m| m.polls).max().unwrap_or(0),
        );
        facts.set(
            "idle_polls",
            all.iter().map(|m| m.idle_polls).max().unwrap_or(0),
        );
        facts.set("idle_after_done", worst(|m| m.idle_after));
        facts.set("gave_up_early", sum(|m| u32::from(m.gave_up_early)));
        facts.set("overreported", sum(|m| m.overreported));
        facts.set("others_busy", worst(|m| m.others_busy));
        all
    }

    pub fn run<S>(facts: &Facts, serve: S)
    where
        S: AsyncFn(Listener, Store, Duration),
    {
        println!(
            "A service on 127.0.0.1 ({} function): a listener, a queue, {WORKERS} workers writing records in two steps. Mid-run, this process sends itself a real SIGINT (Ctrl-C).",
            facts.the("serve")
        );
        let seed = seed();
        println!("Workloads drawn from seed {seed} ({SEED_ENV}={seed} replays them).");
        let shapes = shapes(&mut Rng::for_scenario("shutdown"));
        for (i, s) in shapes.iter().enumerate() {
            println!("Workload {}: {}.", i + 1, s.name);
        }
        let measured = measure(facts, &shapes, serve);
        for (i, m) in measured.iter().enumerate() {
            let end = if m.early {
                "serve returned before the Ctrl-C".to_string()
            } else if m.forced {
                "serve still running at twice the deadline: dropped there".to_string()
            } else {
                format!(
                    "serve returned {:.2} of the deadline after the Ctrl-C",
                    m.shutdown_ratio
                )
            };
            println!(
                "Workload {}: {end}; {} requests accepted, {} answered; {} record(s) lost, {} of them half-written; {} unanswered; {} task(s) left running; {} given up at the deadline, {} reported by serve.",
                i + 1,
                m.accepted,
                m.answered,
                m.lost,
                m.half,
                m.unanswered,
                m.tasks_left,
                m.given_up,
                m.reported,
            );
        }
    }

    pub fn piece<'a, S>(name: &'static str, serve: S) -> Piece<'a>
    where
        S: AsyncFn(Listener, Store, Duration) + 'a,
    {
        Piece::new(name, move |facts| run(facts, serve))
    }

    /// The exercise binary's `main`: judges the learner's `serve`.
    pub fn exercise<S>(serve: S) -> ExitCode
    where
        S: AsyncFn(Listener, Store, Duration),
    {
        shared::lesson::main(
            LESSON,
            Variant::Exercise("shutdown"),
            vec![SPEC.with(vec![piece("", serve)])],
        )
    }
}
