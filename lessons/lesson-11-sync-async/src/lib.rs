//! # Lesson 11: bridging sync and async
//!
//! A tokio runtime is a thread (or a few) running an event loop, and a
//! thread can only do one thing at a time: drive that loop, or wait. Code
//! that crosses between plain blocking code and async code has to respect
//! that, and tokio panics, with a message of its own, in three places where
//! it does not:
//!
//! - blocking on a runtime from a thread that is already driving one
//!   (`nested`: "Cannot start a runtime from within a runtime");
//! - dropping a runtime, which waits for its threads, from such a thread
//!   (`drop-runtime`: "Cannot drop a runtime in a context where blocking
//!   is not allowed");
//! - spawning a task or making a timer or socket from a thread that no
//!   runtime knows about (`no-reactor`: "there is no reactor running");
//!   tokio's channels and locks need no runtime (save their `_timeout`
//!   methods).
//!
//! `reopen`, the `drop-runtime` exercise's scenario, adds what panics do
//! not catch: `shutdown_background` never waits, so a connection closed
//! that way is still closing when the next one opens.
//!
//! The fourth surprise is a compile error: `tokio::spawn` moves a task
//! between threads, so a task must be `Send`, and so must every value it
//! holds across an `.await` (see [`RcAcrossAwait`] and
//! [`StdGuardAcrossAwait`]).
//!
//! Each scenario's harness supplies the library on the other side of the
//! bridge and measures from outside the code under lesson.

use shared::TraceExt;
use shared::lesson::{Facts, Piece, Spec, Variant, fact};
use shared::record::held::Held;
use shared::record::parked::Parked;
use shared::record::sched::thread_ids;
use shared::record::threads::{multi_thread, name_threads};
use shared::work::heartbeat::Heartbeat;
use shared::work::shape::{Rng, SEED_ENV, seed};
use std::future::Future;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// This lesson's id, `lesson-11`: its package name.
pub const LESSON: &str = env!("CARGO_PKG_NAME");

/// The app's runtime: one thread, with a timer, as
/// `#[tokio::main(flavor = "current_thread")]` builds it.
pub fn runtime() -> tokio::runtime::Runtime {
    let mut builder = tokio::runtime::Builder::new_current_thread();
    name_threads(&mut builder, "", 0)
        .enable_time()
        .build()
        .expect("a current-thread runtime always builds")
}

/// The app's heartbeat ticks this often. The blocking facts count in it:
/// how long, at most, the app's thread was kept from everything else.
pub const TICK: Duration = Duration::from_millis(10);

/// A 64-bit mixing function (splitmix64's finaliser).
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// What a service answers, made from a salt drawn when the program runs:
/// a piece can get an answer only by asking the service, never by working
/// it out.
#[derive(Clone, Copy, Debug)]
struct Answers {
    salt: u64,
}

impl Answers {
    fn new(rng: &mut Rng) -> Answers {
        Answers { salt: rng.salt() }
    }

    fn of(&self, id: u32) -> u64 {
        mix(self.salt ^ u64::from(id)) % 1_000_000_000
    }

    /// How long the service takes for `id`: in `lo..=hi`, the same each
    /// time it is asked.
    fn time(&self, id: u32, lo: Duration, hi: Duration) -> Duration {
        let span = (hi - lo).as_micros() as u64 + 1;
        lo + Duration::from_micros(mix(!self.salt ^ u64::from(id)) % span)
    }
}

/// The message a panic was raised with.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|m| m.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a task panicked".into())
}

/// Says which workloads this run judges, and how to replay them.
fn narrate_shapes<'a>(names: impl IntoIterator<Item = &'a str>) {
    let seed = seed();
    println!("Workloads from seed {seed} ({SEED_ENV}={seed} replays them):");
    for (i, name) in names.into_iter().enumerate() {
        println!("  {}. {name}", i + 1);
    }
}

/// The facts every scenario here reports about the app's thread: the
/// longest single poll (or call) of the piece on it, the heartbeat's worst
/// lateness, both in ticks, and how busy the thread was.
fn report_app_thread(facts: &Facts, longest: Duration, lateness: f64, busy: f64) {
    facts.set("longest_hold", longest.as_secs_f64() / TICK.as_secs_f64());
    facts.set("heartbeat_lateness", lateness);
    facts.set("app_busy", busy);
}

const HEARTBEAT_LATENESS: &str = "the app's 10 ms heartbeat's worst lateness, in ticks: the longest the app's thread was kept from it";

const APP_BUSY: &str = "the share of a workload's time that the app's runtime was not parked (idle, waiting for a wake-up), the busier workload: small for an app that waits, 1 for one kept busy by a spin, wherever the spin is";

/// The app's runtime, as [`runtime`] builds it, and the time its thread
/// spends parked: idle, with nothing to poll until a wake-up comes. A spin
/// (a task that yields or wakes itself, again and again) never lets it
/// park, however busy the machine; waiting for a wake-up does.
fn watched_runtime() -> (tokio::runtime::Runtime, Parked) {
    let mut builder = tokio::runtime::Builder::new_current_thread();
    name_threads(&mut builder, "", 0).enable_time();
    let parked = Parked::watch(&mut builder);
    let runtime = builder
        .build()
        .expect("a current-thread runtime always builds");
    (runtime, parked)
}

/// What the polls of a piece's calls showed.
#[derive(Default)]
struct PollsSeen {
    longest: Duration,
    most_polls: u64,
    asleep: Duration,
}

impl PollsSeen {
    fn add(&mut self, call: &Held) {
        self.longest = self.longest.max(call.own_longest());
        self.most_polls = self.most_polls.max(call.polls());
        self.asleep += call.asleep();
    }
}

std::thread_local! {
    /// The call whose poll is under way on this thread, if any: what the
    /// harness's services note their progress in when a call uses them.
    static CALL: std::cell::RefCell<Option<Progress>> = const { std::cell::RefCell::new(None) };
}

/// What the harness's side of one call did, and what the call's polls
/// showed of it. The harness's services (the catalog, the rates client,
/// the ledger and its connections) note each thing they finish for the
/// call (an answer given, a callback called, a close done): the only
/// things a call can be waiting for. A call that awaits is polled when one
/// of them has happened; a call that looks again and again (a loop that
/// yields, or sleeps, between looks) is polled when nothing has.
#[derive(Clone, Default)]
struct Progress(Arc<Mutex<ProgressLog>>);

#[derive(Default)]
struct ProgressLog {
    /// Things the harness finished for the call, and when the last one was.
    happened: u64,
    last: Option<Instant>,
    /// The call's polls, when the first began, and `happened` as the last
    /// two began.
    polls: u64,
    started: Option<Instant>,
    at_last: u64,
    at_one_before: u64,
    /// Polls after the first with nothing new from the previous poll's
    /// start to the next one's (or the call's end). The next poll's start,
    /// not this one's: a call may be woken by the harness's progress a
    /// moment before the harness notes it (the callback's state dropped as
    /// it returns, say).
    looks: u64,
    /// When the call ended: the time from the last thing that happened to
    /// the poll that ended it, as a share of the call's length.
    late: Option<f64>,
}

impl Progress {
    fn log(&self) -> std::sync::MutexGuard<'_, ProgressLog> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Something the call may be waiting for has happened.
    fn note(&self) {
        let mut log = self.log();
        log.happened += 1;
        log.last = Some(Instant::now());
    }

    /// The call being polled on this thread, if any.
    fn current() -> Option<Progress> {
        CALL.with(|c| c.borrow().clone())
    }

    /// `call`, watched: its polls are counted, and the looks among them.
    async fn watch<F: Future>(self, call: F) -> F::Output {
        let mut call = std::pin::pin!(call);
        std::future::poll_fn(move |cx| {
            let poll_began = Instant::now();
            {
                let mut log = self.log();
                // The poll before this one, if it was not the first.
                if log.polls >= 2 && log.happened == log.at_one_before {
                    log.looks += 1;
                }
                log.at_one_before = log.at_last;
                log.at_last = log.happened;
            }
            let previous = CALL.with(|c| c.replace(Some(self.clone())));
            let out = call.as_mut().poll(cx);
            CALL.with(|c| *c.borrow_mut() = previous);
            let mut log = self.log();
            if log.polls == 0 {
                log.started = Some(poll_began);
            }
            log.polls += 1;
            if out.is_ready() {
                // This poll, the last, if it was not the first.
                if log.polls >= 2 && log.happened == log.at_one_before {
                    log.looks += 1;
                }
                let began = log.started.unwrap_or(poll_began);
                let late = log
                    .last
                    .filter(|at| *at > began)
                    .map(|at| poll_began.saturating_duration_since(at))
                    .unwrap_or_default();
                let length = began.elapsed().as_secs_f64().max(1e-9);
                log.late = Some(late.as_secs_f64() / length);
            }
            out
        })
        .await
    }
}

/// What the calls of a workload (or of a run) showed of their waits.
#[derive(Default)]
struct WaitsSeen {
    looks: u64,
    late_sum: f64,
    ended: u32,
}

impl WaitsSeen {
    fn add(&mut self, call: &Progress) {
        let log = call.log();
        self.looks += log.looks;
        if let Some(late) = log.late {
            self.late_sum += late;
            self.ended += 1;
        }
    }

    /// The mean of the calls' lateness, as a share of their length.
    fn late(&self) -> f64 {
        self.late_sum / f64::from(self.ended.max(1))
    }
}

/// How many threads that were not in `before` are still alive, once
/// `grace` has passed or fewer than `allowed` are (threads that are ending
/// have that long to end). 0 where the system does not list threads.
fn threads_left(before: &Option<Vec<u64>>, allowed: usize, grace: Duration) -> usize {
    let Some(before) = before else { return 0 };
    let since = Instant::now();
    loop {
        let new = thread_ids()
            .unwrap_or_default()
            .iter()
            .filter(|t| !before.contains(t))
            .count();
        if new <= allowed || since.elapsed() >= grace {
            return new.saturating_sub(allowed);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// How long threads that are ending have to end before they count as left
/// running: a close's goodbye (up to 140 ms) and more.
const THREADS_END: Duration = Duration::from_millis(500);

/// A timing fact: on a machine busy enough, a thread that is ending may
/// take longer than [`THREADS_END`] to go, and the lesson's fix is then
/// re-measured.
const THREADS_LEFT: &str = "threads started during a workload (by your code, or by a runtime it built) still running after it ended and everything the harness started had stopped, the workload with the most";

// --------------------------------------------------------------- nested --

/// The catalog answers one price in this long at least...
pub const CALL_MIN: Duration = Duration::from_millis(100);
/// ...and at most (the time depends on the item).
pub const CALL_MAX: Duration = Duration::from_millis(140);

/// A currency, as the catalog names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Currency(pub u32);

/// Rates are in thousandths: a rate of 1000 leaves a price as it is.
pub const RATE_ONE: u64 = 1000;

/// A price catalog's client library, with only a blocking API. Like many
/// libraries that wrap an async client for sync callers, its `price` builds
/// a runtime and blocks on it; and it calls back for the exchange rate of
/// the currency it lists the item in.
#[derive(Clone)]
pub struct Catalog {
    answers: Answers,
    progress: Progress,
}

impl Catalog {
    // ANCHOR: catalog
    /// The price of `item`, in the app's currency. Blocks the calling
    /// thread until it comes: first the item's listing (100 to 140 ms, on
    /// a runtime of its own), then the rate of the listing's currency,
    /// which it asks `rate` for on a thread of its own.
    pub fn price(&self, item: u32, rate: impl FnOnce(Currency) -> u64 + Send + 'static) -> u64 {
        shared::blocking("Catalog::price", || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .expect("a current-thread runtime always builds");
            // Panics if this thread is already driving a runtime.
            let (listed, currency) = runtime.block_on(self.listing(item));
            drop(runtime);
            self.progress.note(); // the callback is called
            // The callback runs on the library's own thread, which belongs
            // to no runtime; its panic is passed on to the caller.
            let asked = std::thread::Builder::new()
                .name("catalog".into())
                .spawn(move || rate(currency))
                .expect("a thread starts")
                .join();
            self.progress.note(); // the price is known
            match asked {
                Ok(rate) => listed * rate / RATE_ONE,
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    }
    // ANCHOR_END: catalog

    /// The item's listed price and its currency.
    async fn listing(&self, item: u32) -> (u64, Currency) {
        // The request on the wire.
        tokio::time::sleep(self.answers.time(item, CALL_MIN, CALL_MAX)).await;
        (self.answers.of(item), self.currency(item))
    }

    /// The same catalog, noting what it does in `progress`.
    fn for_call(&self, progress: &Progress) -> Catalog {
        Catalog {
            answers: self.answers,
            progress: progress.clone(),
        }
    }

    fn currency(&self, item: u32) -> Currency {
        Currency((mix(self.answers.salt ^ 0x5eed ^ u64::from(item)) % 1000) as u32)
    }

    /// What the price of `item` is, at the rates the app's service gives.
    fn expected(&self, item: u32, rates: &Rates) -> u64 {
        self.answers.of(item) * rates.of(self.currency(item)) / RATE_ONE
    }
}

/// The rate the service gives for `currency`: 0.5 to 1.5.
fn rate_of(answers: &Answers, currency: Currency) -> u64 {
    RATE_ONE / 2 + mix(answers.salt ^ 0xca5e ^ u64::from(currency.0)) % RATE_ONE
}

/// A rate lookup takes this long on the wire.
pub const RATE_TIME: Duration = Duration::from_millis(2);

/// The app's exchange-rate client: async only. Its connection is a task
/// on the app's runtime, which answers each lookup; the client's timer is
/// made on the runtime of the thread that asks.
#[derive(Clone)]
pub struct Rates {
    answers: Answers,
    requests: tokio::sync::mpsc::UnboundedSender<RateRequest>,
    progress: Progress,
}

type RateRequest = (Currency, tokio::sync::oneshot::Sender<u64>, Progress);

impl Rates {
    /// Starts the connection's task: on the app's runtime.
    fn start(answers: Answers) -> Rates {
        let (requests, mut incoming) = tokio::sync::mpsc::unbounded_channel::<RateRequest>();
        tokio::spawn(async move {
            while let Some((currency, reply, progress)) = incoming.recv().await {
                progress.note(); // the rate is answered
                let _ = reply.send(rate_of(&answers, currency));
            }
        });
        Rates {
            answers,
            requests,
            progress: Progress::default(),
        }
    }

    /// The same client, noting what it does in `progress`.
    fn for_call(&self, progress: &Progress) -> Rates {
        Rates {
            progress: progress.clone(),
            ..self.clone()
        }
    }

    fn of(&self, currency: Currency) -> u64 {
        rate_of(&self.answers, currency)
    }

    /// The rate of `currency`, in thousandths. Needs a tokio runtime where
    /// it is first polled (its timer), and the app's runtime free to
    /// answer.
    pub fn rate(&self, currency: Currency) -> impl Future<Output = u64> + Send + 'static {
        let (requests, progress) = (self.requests.clone(), self.progress.clone());
        async move {
            tokio::time::sleep(RATE_TIME).await;
            progress.note(); // the lookup is on the wire
            let (reply, answer) = tokio::sync::oneshot::channel();
            requests
                .send((currency, reply, progress))
                .expect("the rates connection runs while the app does");
            answer.await.expect("the rates connection answers")
        }
    }
}

/// One workload of the `nested` scenario: which items the app prices, and
/// whether it asks one after another or all at once.
#[derive(Clone, Debug)]
pub struct Calls {
    pub name: String,
    pub items: Vec<u32>,
    pub at_once: bool,
}

impl Calls {
    /// Two workloads: a few calls one after another, and a few at once.
    pub fn shapes(rng: &mut Rng) -> Vec<Calls> {
        let mut items = |lo, hi| {
            let n = rng.between(lo, hi);
            (0..n)
                .map(|_| rng.between(1, 99_999) as u32)
                .collect::<Vec<_>>()
        };
        let (one_by_one, together) = (items(3, 5), items(4, 8));
        vec![
            Calls {
                name: format!(
                    "{} calls one after another, {} to {} ms each",
                    one_by_one.len(),
                    CALL_MIN.as_millis(),
                    CALL_MAX.as_millis()
                ),
                items: one_by_one,
                at_once: false,
            },
            Calls {
                name: format!("{} calls at once (joined)", together.len()),
                items: together,
                at_once: true,
            },
        ]
    }
}

// ----------------------------------------------------------- drop-runtime --

/// A query to the ledger takes this long at least...
pub const QUERY_MIN: Duration = Duration::from_millis(1);
/// ...and at most.
pub const QUERY_MAX: Duration = Duration::from_millis(5);
/// Closing a connection (its goodbye to the ledger) takes this long at
/// least...
pub const CLOSE_MIN: Duration = Duration::from_millis(100);
/// ...and at most.
pub const CLOSE_MAX: Duration = Duration::from_millis(140);
/// In the `reopen` scenario, a connection answers this many balances at
/// most; then it must be closed, and another opened.
pub const PER_CONNECTION: usize = 3;

/// A ledger service. `connect` opens a [`Connection`]; the harness counts
/// how many were opened and how many had their runtime shut down.
#[derive(Clone)]
pub struct Ledger {
    answers: Answers,
    opened: Arc<AtomicU32>,
    closed: Arc<AtomicU32>,
    progress: Progress,
    /// Balances one connection answers (`PER_CONNECTION` in `reopen`).
    per_connection: usize,
    /// This request's connections whose goodbye has not finished.
    seat: Arc<AtomicU32>,
    /// Connections opened while another of the same request was still
    /// open or closing, over the whole run.
    reopened: Arc<AtomicU32>,
    /// When this request's last close ended, and how long it took.
    last_close: Arc<Mutex<Option<(Instant, Duration)>>>,
    /// For each connection opened after a close of its request had ended:
    /// the time from that end to the open, over the close's length.
    reopen_gaps: Arc<Mutex<Vec<f64>>>,
}

impl Ledger {
    fn new(answers: Answers) -> Ledger {
        Ledger {
            answers,
            opened: Arc::default(),
            closed: Arc::default(),
            progress: Progress::default(),
            per_connection: usize::MAX,
            seat: Arc::default(),
            reopened: Arc::default(),
            last_close: Arc::default(),
            reopen_gaps: Arc::default(),
        }
    }

    /// The same ledger, noting what its connections do in `progress`.
    fn for_call(&self, progress: &Progress) -> Ledger {
        Ledger {
            progress: progress.clone(),
            seat: Arc::default(),
            last_close: Arc::default(),
            ..self.clone()
        }
    }

    /// Opens a connection, with a runtime of its own.
    pub fn connect(&self) -> Connection {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.enable_time();
        let runtime =
            multi_thread(&mut builder, "connection", 1).expect("a one-worker runtime builds");
        let number = self.opened.fetch_add(1, Ordering::SeqCst);
        // The connection's goodbye: a blocking task that waits for the close
        // and then takes its time. Shutting the runtime down waits for it.
        let close_time = self.answers.time(number, CLOSE_MIN, CLOSE_MAX);
        let (closing, close) = std::sync::mpsc::channel::<()>();
        if self.seat.fetch_add(1, Ordering::SeqCst) > 0 {
            self.reopened.fetch_add(1, Ordering::SeqCst);
        } else if let Some((ended, took)) = *self.last_close.lock().unwrap() {
            let gap = ended.elapsed().as_secs_f64() / took.as_secs_f64();
            self.reopen_gaps.lock().unwrap().push(gap);
        }
        let (seat, last_close) = (self.seat.clone(), self.last_close.clone());
        runtime.spawn_blocking(move || {
            let _ = close.recv();
            std::thread::sleep(close_time);
            *last_close.lock().unwrap() = Some((Instant::now(), close_time));
            seat.fetch_sub(1, Ordering::SeqCst); // closed: the seat is free
        });
        Connection {
            runtime: Some(runtime),
            answers: self.answers,
            left: AtomicUsize::new(self.per_connection),
            closing: Some(closing),
            closed: self.closed.clone(),
            progress: Progress::current().unwrap_or_else(|| self.progress.clone()),
        }
    }

    /// Connections opened whose runtime was never shut down.
    fn left_running(&self) -> u32 {
        self.opened.load(Ordering::SeqCst) - self.closed.load(Ordering::SeqCst)
    }
}

// ANCHOR: connection
/// A connection to the ledger. Like clients that work the same for sync and
/// async callers, it runs its network work on a runtime it owns, on a
/// thread of its own.
pub struct Connection {
    runtime: Option<tokio::runtime::Runtime>,
    answers: Answers,
    /// Balances it may still answer.
    left: AtomicUsize,
    /// Dropped to start the close.
    closing: Option<std::sync::mpsc::Sender<()>>,
    closed: Arc<AtomicU32>,
    /// Where the close is noted (the harness's record of what it did).
    progress: Progress,
}

impl Connection {
    /// The balance of `account`. The query runs on the connection's runtime;
    /// the future it returns can be awaited on any runtime.
    pub fn balance(&self, account: u32) -> impl Future<Output = u64> + Send + 'static {
        let runtime = self.runtime.as_ref().expect("open until dropped");
        let spent = self
            .left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        assert!(
            spent.is_ok(),
            "this connection has answered {PER_CONNECTION} balances, its most: close it and open another"
        );
        let answers = self.answers;
        // Noted for the request being served, whichever connection it uses.
        let progress = Progress::current().unwrap_or_else(|| self.progress.clone());
        let query = runtime.spawn(
            async move {
                tokio::time::sleep(answers.time(account, QUERY_MIN, QUERY_MAX)).await;
                progress.note(); // the balance is answered
                answers.of(account)
            }
            .traced("query"),
        );
        async move { query.await.expect("a query does not panic") }
    }

    /// Shuts the connection's runtime down without waiting for its threads
    /// (its goodbye finishes in the background).
    pub fn shutdown_background(mut self) {
        if let Some(runtime) = self.runtime.take() {
            self.closed.fetch_add(1, Ordering::SeqCst);
            self.closing.take();
            runtime.shutdown_background();
            self.progress.note(); // nothing left to wait for
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            self.closed.fetch_add(1, Ordering::SeqCst);
            self.closing.take(); // the goodbye starts
            // Waits for the runtime's threads to stop, goodbye included
            // (100 to 140 ms): panics on a thread that drives a runtime,
            // where waiting is not allowed.
            shared::blocking("Runtime::drop", || drop(runtime));
            self.progress.note(); // closed
        }
    }
}
// ANCHOR_END: connection

/// One workload of the `drop-runtime` scenario: the requests the app
/// serves (each a list of accounts), one after another or all at once.
#[derive(Clone, Debug)]
pub struct Requests {
    pub name: String,
    pub accounts: Vec<Vec<u32>>,
    pub at_once: bool,
}

impl Requests {
    /// Two workloads: a few requests one after another, and a few at once.
    pub fn shapes(rng: &mut Rng) -> Vec<Requests> {
        Requests::sized(rng, 2, 6)
    }

    /// The same, with `lo` to `hi` balances a request.
    pub fn sized(rng: &mut Rng, lo: u64, hi: u64) -> Vec<Requests> {
        let mut requests = |n_lo, n_hi| {
            let n = rng.between(n_lo, n_hi);
            (0..n)
                .map(|_| {
                    let accounts = rng.between(lo, hi);
                    (0..accounts)
                        .map(|_| rng.between(1, 99_999) as u32)
                        .collect()
                })
                .collect::<Vec<Vec<u32>>>()
        };
        let (one_by_one, together) = (requests(3, 5), requests(3, 5));
        vec![
            Requests {
                name: format!(
                    "{} requests one after another, {lo} to {hi} balances each",
                    one_by_one.len()
                ),
                accounts: one_by_one,
                at_once: false,
            },
            Requests {
                name: format!("{} requests at once (joined)", together.len()),
                accounts: together,
                at_once: true,
            },
        ]
    }
}

// ------------------------------------------------------------- no-reactor --

/// A save takes this long at least...
pub const SAVE_MIN: Duration = Duration::from_millis(4);
/// ...and at most (the time depends on the reading): saves that run at
/// once finish in any order.
pub const SAVE_MAX: Duration = Duration::from_millis(8);
/// The driver's buffer: while fewer readings than this wait unsaved, its
/// callback must return at once; when this many wait, it may wait for room.
pub const BUFFER: usize = 4;
/// A callback that takes this long or more held the driver.
pub const DRIVER_HELD: Duration = Duration::from_millis(2);
/// How long the driver stays quiet after its last reading before it stops.
pub const QUIET: Duration = Duration::from_millis(100);
/// How long the harness waits for the last saves after the driver stops.
const SETTLE: Duration = Duration::from_millis(500);
/// And then for the app's tasks to end.
const STOP_WAIT: Duration = Duration::from_millis(100);

/// One sensor reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reading(pub u32);

/// What the store saw.
#[derive(Default)]
struct Log {
    saved: Vec<u32>,
    /// Calls of `save`.
    started: usize,
    /// Saves under way now, and the most at once.
    saving: usize,
    most_at_once: usize,
    /// When `save` was called for each reading.
    called: Vec<(u32, Instant)>,
    /// Readings the driver has delivered so far.
    delivered: usize,
    /// The app's runtime and heartbeat, watched while nothing is to be
    /// done (every reading delivered so far saved, no save under way): the
    /// wake-ups and ticks when that began, and the wake-ups and ticks
    /// then.
    watch: Option<(Parked, Arc<Heartbeat>)>,
    idle_since: Option<(u64, u64)>,
    idle_wakes: u64,
    idle_ticks: u64,
}

impl Log {
    fn wakes_and_ticks(&self) -> Option<(u64, u64)> {
        let (parked, heartbeat) = self.watch.as_ref()?;
        Some((parked.wake_ups(), heartbeat.ticks()))
    }

    /// Nothing to be done from now, until the next reading.
    fn idle_begins(&mut self) {
        if self.saving == 0 && self.saved.len() == self.delivered && self.started == self.delivered
        {
            self.idle_since = self.wakes_and_ticks();
        }
    }

    /// A reading comes, or the driver stops.
    fn idle_ends(&mut self) {
        if let (Some((wakes, ticks)), Some((w, t))) =
            (self.idle_since.take(), self.wakes_and_ticks())
        {
            self.idle_wakes += w - wakes;
            self.idle_ticks += t - ticks;
        }
    }
}

/// Where readings are saved: a log, with an async API built on tokio's
/// timer (a database client, say). Saves must run one at a time, in the
/// order the readings came. The harness looks at what was saved.
#[derive(Clone, Default)]
pub struct Store {
    log: Arc<Mutex<Log>>,
}

impl Store {
    fn log(&self) -> std::sync::MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Saves `reading` (4 to 8 ms). Must run inside a tokio runtime: it uses
    /// its timer.
    pub fn save(&self, reading: Reading) -> impl Future<Output = ()> + Send + 'static {
        let store = self.clone();
        {
            let mut log = store.log();
            log.started += 1;
            log.called.push((reading.0, Instant::now()));
        }
        let span = (SAVE_MAX - SAVE_MIN).as_micros() as u64 + 1;
        let time = SAVE_MIN + Duration::from_micros(mix(u64::from(reading.0)) % span);
        async move {
            {
                let mut log = store.log();
                log.saving += 1;
                log.most_at_once = log.most_at_once.max(log.saving);
            }
            tokio::time::sleep(time).await;
            let mut log = store.log();
            log.saving -= 1;
            log.saved.push(reading.0);
            log.idle_begins();
        }
        .traced("save")
    }

    fn saved(&self) -> Vec<u32> {
        self.log().saved.clone()
    }

    fn started(&self) -> usize {
        self.log().started
    }

    /// The driver delivers a reading: says whether nothing was to be done
    /// until then (every reading before it saved, no save under way).
    fn delivering(&self) -> bool {
        let mut log = self.log();
        log.idle_ends();
        let idle =
            log.saving == 0 && log.saved.len() == log.delivered && log.started == log.delivered;
        log.delivered += 1;
        idle
    }
}

/// Bursts of readings in the `no-reactor` scenario's second workload...
pub const BURSTS: u32 = 3;
/// ...with a pause of this long at least between two of them...
pub const PAUSE_MIN: Duration = Duration::from_millis(120);
/// ...and at most.
pub const PAUSE_MAX: Duration = Duration::from_millis(160);

/// In the third workload, readings come this long apart at least...
pub const SPARSE_MIN: Duration = Duration::from_millis(15);
/// ...and at most: each comes when the one before it is saved.
pub const SPARSE_MAX: Duration = Duration::from_millis(30);

/// One workload of the `no-reactor` scenario: when the driver delivers each
/// reading (from its start), and the readings' values, made at run time.
#[derive(Clone, Debug)]
pub struct Deliveries {
    pub name: String,
    pub at: Vec<Duration>,
    pub values: Vec<u32>,
}

impl Deliveries {
    /// Three workloads: readings a few milliseconds apart, bursts of
    /// readings at once with long pauses between them, and readings that
    /// each come when the last is saved.
    pub fn shapes(rng: &mut Rng) -> Vec<Deliveries> {
        let count = rng.between(12, 24) as usize;
        let steady = shared::work::shape::Arrivals::jittered(
            rng,
            Duration::from_millis(1),
            Duration::from_millis(4),
            count,
        );
        let mut bursts = Vec::new();
        let mut t = Duration::from_millis(2);
        for burst in 0..BURSTS {
            if burst > 0 {
                t += rng.duration_between(PAUSE_MIN, PAUSE_MAX);
            }
            for _ in 0..rng.between(8, 12) {
                bursts.push(t);
            }
        }
        let sparse_count = rng.between(10, 14) as usize;
        let sparse =
            shared::work::shape::Arrivals::jittered(rng, SPARSE_MIN, SPARSE_MAX, sparse_count);
        let mut values = |n: usize| {
            let mut made: Vec<u32> = Vec::with_capacity(n);
            while made.len() < n {
                let v = rng.next_u64() as u32;
                if !made.contains(&v) {
                    made.push(v);
                }
            }
            made
        };
        let (a, b, c) = (
            values(steady.len()),
            values(bursts.len()),
            values(sparse.len()),
        );
        vec![
            Deliveries {
                name: format!("{} readings, {}", steady.len(), steady.name),
                at: steady.at,
                values: a,
            },
            Deliveries {
                name: format!(
                    "{} readings in {BURSTS} bursts, {} to {} ms apart",
                    bursts.len(),
                    PAUSE_MIN.as_millis(),
                    PAUSE_MAX.as_millis()
                ),
                at: bursts,
                values: b,
            },
            Deliveries {
                name: format!("{} readings, {}", sparse.len(), sparse.name),
                at: sparse.at,
                values: c,
            },
        ]
    }
}

// ------------------------------------------------------------ the pieces --

pub mod broken {
    use super::*;

    // ANCHOR: broken_nested
    /// Quotes the price of `item`, from async code, at the app's rates.
    pub async fn quote(catalog: Catalog, rates: Rates, item: u32) -> u64 {
        // BROKEN: `price` blocks on a runtime of its own, on this thread,
        // which is already driving the app's runtime
        catalog.price(item, move |currency| {
            futures::executor::block_on(rates.rate(currency))
        })
    }
    // ANCHOR_END: broken_nested

    // ANCHOR: broken_drop
    /// Fetches the balance of each account, through a connection of its own.
    pub async fn balances(ledger: Ledger, accounts: Vec<u32>) -> Vec<u64> {
        let connection = ledger.connect();
        let mut found = Vec::with_capacity(accounts.len());
        for account in accounts {
            found.push(connection.balance(account).await);
        }
        found
        // BROKEN: `connection` is dropped here, on the app's runtime thread,
        // and its runtime with it: that drop waits for a thread
    }
    // ANCHOR_END: broken_drop

    // ANCHOR: broken_reopen
    /// `reopen`: a connection answers `PER_CONNECTION` balances at most, so
    /// a request opens one for each few accounts, and shuts each down in
    /// the background.
    pub async fn reopening_balances(ledger: Ledger, accounts: Vec<u32>) -> Vec<u64> {
        let mut found = Vec::with_capacity(accounts.len());
        for few in accounts.chunks(PER_CONNECTION) {
            let connection = ledger.connect();
            for &account in few {
                found.push(connection.balance(account).await);
            }
            // BROKEN: no panic, and no wait: the close goes on in the
            // background, so the next connection opens before it is over
            connection.shutdown_background();
        }
        found
    }
    // ANCHOR_END: broken_reopen

    // ANCHOR: broken_no_reactor
    /// Makes the callback the sensor driver calls, on its own thread, with
    /// each reading.
    pub fn on_reading(store: Store) -> impl FnMut(Reading) + Send + 'static {
        move |reading| {
            // BROKEN: the driver's thread is not a runtime's thread, and no
            // runtime was entered on it: tokio::spawn finds none
            tokio::spawn(store.save(reading));
        }
    }
    // ANCHOR_END: broken_no_reactor
}

pub mod fixed {
    use super::*;

    // ANCHOR: fixed_nested
    /// The same, with the blocking call on tokio's blocking pool, and the
    /// rate asked of the app's runtime from there.
    pub async fn quote(catalog: Catalog, rates: Rates, item: u32) -> u64 {
        // FIXED: taken here, on the app's runtime
        let app = tokio::runtime::Handle::current();
        // FIXED: a blocking-pool thread drives no runtime, so it may block
        tokio::task::spawn_blocking(move || {
            catalog.price(item, move |currency| {
                // FIXED: the catalog's thread knows no runtime; through the
                // handle it blocks on the app's, which is free to answer,
                // since the app's thread awaits
                app.block_on(rates.rate(currency))
            })
        })
        .await
        .expect("price does not panic on a blocking thread")
    }
    // ANCHOR_END: fixed_nested

    // ANCHOR: fixed_drop
    /// The same, with the connection dropped where waiting is allowed.
    pub async fn balances(ledger: Ledger, accounts: Vec<u32>) -> Vec<u64> {
        let connection = ledger.connect();
        let mut found = Vec::with_capacity(accounts.len());
        for account in accounts {
            found.push(connection.balance(account).await);
        }
        // FIXED: the drop, and its wait, happen on a blocking-pool thread
        tokio::task::spawn_blocking(move || drop(connection))
            .await
            .expect("the connection shuts down");
        found
    }
    // ANCHOR_END: fixed_drop

    // ANCHOR: fixed_reopen
    /// `reopen`, with each close done on the blocking pool and awaited
    /// before the next connection opens.
    pub async fn reopening_balances(ledger: Ledger, accounts: Vec<u32>) -> Vec<u64> {
        let mut found = Vec::with_capacity(accounts.len());
        for few in accounts.chunks(PER_CONNECTION) {
            let connection = ledger.connect();
            for &account in few {
                found.push(connection.balance(account).await);
            }
            // FIXED: the drop waits for the close on a thread that may
            // wait; the request awaits that thread's end, so the close is
            // over before the loop opens the next connection
            tokio::task::spawn_blocking(move || drop(connection))
                .await
                .expect("the connection shuts down");
        }
        found
    }
    // ANCHOR_END: fixed_reopen

    // ANCHOR: fixed_no_reactor
    /// The same, through a channel with room for [`BUFFER`] readings, and
    /// one task on the app's runtime that saves them in order.
    pub fn on_reading(store: Store) -> impl FnMut(Reading) + Send + 'static {
        // FIXED: room for 4 readings; a fifth waits for room
        let (readings, mut incoming) = tokio::sync::mpsc::channel(BUFFER);
        // FIXED: spawned here, where the app's runtime is running; one save
        // at a time, in order, until every sender is dropped
        tokio::spawn(async move {
            while let Some(reading) = incoming.recv().await {
                store.save(reading).await;
            }
        });
        move |reading| {
            // FIXED: returns at once while there is room, else waits for it
            // (a plain thread may wait; a runtime's thread may not)
            readings
                .blocking_send(reading)
                .expect("the saving task runs until the callback is dropped");
        }
    }
    // ANCHOR_END: fixed_no_reactor
}

// ------------------------------------------------------------ harnesses --

/// The `nested` scenario: async code calls a blocking client library that
/// blocks on a runtime of its own.
pub mod nested {
    use super::*;

    pub static SPEC: Spec = Spec {
        name: "nested",
        facts: &[
            fact(
                "wrong_answers",
                "calls whose price was missing or not the one the catalog gave at the app's rate, over both workloads (every call counts as missing until the calls end)",
            )
            .live(),
            fact(
                "longest_hold",
                "the longest time one poll of quote held the app's thread by its own doing (computing, or asleep in a blocking call; not the time a busy machine paused it), in 10 ms ticks",
            )
            .timing(),
            fact("heartbeat_lateness", HEARTBEAT_LATENESS).timing(),
            fact(
                "quote_polls",
                "polls of one call of quote, the call with the most: a few for a call that awaits, thousands for one that spins",
            ),
            fact(
                "quote_asleep",
                "the time the app's thread slept inside quote's polls (a blocking join, sleep or wait), in 10 ms ticks, over both workloads",
            )
            .timing(),
            fact(
                "quote_looks",
                "polls of quote, after each call's first, that came when nothing the call could wait for had happened since its previous poll began (no callback called, no rate answered, no price known): looks, not wake-ups, over both workloads",
            ).timing(),
            fact(
                "quote_late",
                "the time from the last thing a call could wait for (the price known) to the poll that ended it, as a share of the call's length, the mean over every call: 0 for a call woken when the price comes, a share of its period for one that looks now and then",
            )
            .timing(),
            fact("threads_left", THREADS_LEFT).timing(),
            fact("app_busy", APP_BUSY).timing(),
        ],
    };

    /// Prices items with `quote` on the app's current-thread runtime,
    /// beside a heartbeat, under each workload drawn for this run.
    pub fn measure<Q>(facts: &Facts, quote: Q)
    where
        Q: AsyncFn(Catalog, Rates, u32) -> u64,
    {
        let mut rng = Rng::for_scenario(SPEC.name);
        let shapes = Calls::shapes(&mut rng);
        measure_shapes(facts, &shapes, &mut rng, quote);
    }

    /// [`measure`] under the given workloads.
    pub fn measure_shapes<Q>(facts: &Facts, shapes: &[Calls], rng: &mut Rng, quote: Q)
    where
        Q: AsyncFn(Catalog, Rates, u32) -> u64,
    {
        let mut calls = PollsSeen::default();
        let (mut waits, mut left) = (WaitsSeen::default(), 0usize);
        // Every price is missing until the calls end: what a run that hangs
        // reports.
        let calls_made: usize = shapes.iter().map(|shape| shape.items.len()).sum();
        facts.set("wrong_answers", calls_made as f64);
        let (mut wrong, mut lateness, mut busiest) = (0, 0.0f64, 0.0f64);
        for shape in shapes {
            let catalog = Catalog {
                answers: Answers::new(rng),
                progress: Progress::default(),
            };
            let each: Vec<Held> = shape.items.iter().map(|_| Held::new()).collect();
            let progress: Vec<Progress> = shape.items.iter().map(|_| Progress::default()).collect();
            let threads_before = thread_ids();
            let (runtime, parked) = watched_runtime();
            // Each call is traced on its own, and the loop around them is
            // not: a panic then comes in a call's first poll, which no
            // wake-up led to, and the recording stays whole.
            let ((w, late), busy) = parked.busy(|| {
                runtime.block_on(async {
                    let heartbeat = Heartbeat::spawn(TICK);
                    tokio::time::sleep(TICK * 2).await;
                    let rates = Rates::start(catalog.answers);
                    let ask = |i: usize| {
                        let p = &progress[i];
                        let call = quote(catalog.for_call(p), rates.for_call(p), shape.items[i]);
                        each[i].wrap(p.clone().watch(call)).traced("quote")
                    };
                    let got: Vec<u64> = if shape.at_once {
                        // Each call is polled only when it is woken, so its
                        // polls are its own.
                        use futures::StreamExt;
                        let all: futures::stream::FuturesOrdered<_> =
                            (0..shape.items.len()).map(ask).collect();
                        all.collect().await
                    } else {
                        let mut got = Vec::new();
                        for i in 0..shape.items.len() {
                            got.push(ask(i).await);
                        }
                        got
                    };
                    // The heartbeat's turn, to see how late it is after the calls.
                    tokio::time::sleep(TICK * 2).await;
                    let right = shape
                        .items
                        .iter()
                        .zip(&got)
                        .filter(|(item, price)| **price == catalog.expected(**item, &rates))
                        .count();
                    (
                        (shape.items.len() - right) as u32,
                        heartbeat.worst_lateness_ratio(),
                    )
                })
            });
            drop(runtime);
            left = left.max(threads_left(&threads_before, 0, THREADS_END));
            each.iter().for_each(|call| calls.add(call));
            progress.iter().for_each(|call| waits.add(call));
            wrong += w;
            lateness = lateness.max(late);
            busiest = busiest.max(busy);
        }
        facts.set("wrong_answers", wrong);
        facts.set("quote_polls", calls.most_polls as f64);
        facts.set(
            "quote_asleep",
            calls.asleep.as_secs_f64() / TICK.as_secs_f64(),
        );
        facts.set("quote_looks", waits.looks as f64);
        facts.set("quote_late", waits.late());
        facts.set("threads_left", left as f64);
        report_app_thread(facts, calls.longest, lateness, busiest);
    }

    pub fn run<Q>(facts: &Facts, quote: Q)
    where
        Q: AsyncFn(Catalog, Rates, u32) -> u64,
    {
        println!(
            "Async code ({} function) asks a blocking catalog client for prices, beside a 10 ms heartbeat; the client asks back, on a thread of its own, for each rate, which the app's async rates client gives.",
            facts.the("quote")
        );
        let mut rng = Rng::for_scenario(SPEC.name);
        let shapes = Calls::shapes(&mut rng);
        narrate_shapes(shapes.iter().map(|s| s.name.as_str()));
        measure_shapes(facts, &shapes, &mut rng, quote);
        let get = |name| facts.get(name).unwrap_or(f64::NAN);
        println!(
            "Wrong or missing prices: {}; the app's thread was held for up to {:.1} ticks in one poll, and its heartbeat was up to {:.1} ticks late; up to {} polls for one call, {} of them looks with nothing new; prices noticed {:.1}% of a call late on average; threads left running: {}; the app's runtime not parked {:.0}% of the time.",
            get("wrong_answers"),
            get("longest_hold"),
            get("heartbeat_lateness"),
            get("quote_polls"),
            get("quote_looks"),
            get("quote_late") * 100.0,
            get("threads_left"),
            get("app_busy") * 100.0,
        );
    }

    pub fn piece<'a, Q>(name: &'static str, quote: Q) -> Piece<'a>
    where
        Q: AsyncFn(Catalog, Rates, u32) -> u64 + 'a,
    {
        Piece::new(name, move |facts| run(facts, quote))
    }

    /// The exercise binary's `main`: judges the learner's `quote`.
    pub fn exercise<Q>(quote: Q) -> ExitCode
    where
        Q: AsyncFn(Catalog, Rates, u32) -> u64,
    {
        shared::lesson::main(
            LESSON,
            Variant::Exercise("nested"),
            vec![SPEC.with(vec![piece("", quote)])],
        )
    }
}

/// The `drop-runtime` scenario: async code opens and drops a connection
/// that owns a runtime.
pub mod drop_runtime {
    use super::*;

    pub static SPEC: Spec = Spec {
        name: "drop-runtime",
        facts: &[
            fact(
                "wrong_answers",
                "balances missing, or not the ledger's, over both workloads",
            ),
            fact(
                "runtimes_left_running",
                "connections whose runtime was never shut down, when the app's runtime ended",
            ),
            fact(
                "longest_hold",
                "the longest time one poll of balances held the app's thread by its own doing (computing, or asleep in a blocking call; not the time a busy machine paused it), in 10 ms ticks",
            )
            .timing(),
            fact("heartbeat_lateness", HEARTBEAT_LATENESS).timing(),
            fact(
                "balances_polls",
                "polls of one request to balances, the request with the most: a few per balance for a request that awaits, thousands for one that spins",
            ),
            fact(
                "balances_asleep",
                "the time the app's thread slept inside the polls of balances (a blocking join, sleep or wait), in 10 ms ticks, over both workloads",
            )
            .timing(),
            fact(
                "balances_looks",
                "polls of balances, after each request's first, that came when nothing the request could wait for had happened since its previous poll began (no balance answered, no connection closed): looks, not wake-ups, over both workloads",
            ).timing(),
            fact(
                "balances_late",
                "the time from the last thing a request could wait for (its last balance, or its connection's close) to the poll that ended it, as a share of the request's length, the mean over every request: 0 for a request woken when that happens, a share of its period for one that looks now and then",
            )
            .timing(),
            fact(
                "threads_left",
                "threads started during a workload (by your code, or by a runtime it built) still running after it ended and everything the harness started had stopped, beside those of the connections left open, the workload with the most",
            )
            .timing(),
            fact("app_busy", APP_BUSY).timing(),
        ],
    };

    /// Serves requests with `balances` on the app's current-thread runtime,
    /// beside a heartbeat, under each workload drawn for this run; then
    /// counts the connections still running.
    pub fn measure<B>(facts: &Facts, balances: B)
    where
        B: AsyncFn(Ledger, Vec<u32>) -> Vec<u64>,
    {
        let mut rng = Rng::for_scenario(SPEC.name);
        let shapes = Requests::shapes(&mut rng);
        measure_shapes(facts, &shapes, &mut rng, balances);
    }

    /// [`measure`] under the given workloads.
    pub fn measure_shapes<B>(facts: &Facts, shapes: &[Requests], rng: &mut Rng, balances: B)
    where
        B: AsyncFn(Ledger, Vec<u32>) -> Vec<u64>,
    {
        serve(facts, shapes, rng, balances, None);
    }

    /// Serves the workloads; with `per_connection`, each connection answers
    /// that many balances at most, and the connections a request opened
    /// while another of its own was open or closing are counted
    /// (`opened_while_closing`).
    pub(crate) fn serve<B>(
        facts: &Facts,
        shapes: &[Requests],
        rng: &mut Rng,
        balances: B,
        per_connection: Option<usize>,
    ) where
        B: AsyncFn(Ledger, Vec<u32>) -> Vec<u64>,
    {
        // One ledger for the whole run: a connection kept for the
        // program's life serves every workload.
        let mut ledger = Ledger::new(Answers::new(rng));
        if let Some(most) = per_connection {
            ledger.per_connection = most;
        }
        let mut requests = PollsSeen::default();
        let returned_open = AtomicU32::new(0);
        let (mut waits, mut left) = (WaitsSeen::default(), 0usize);
        let (mut wrong, mut lateness, mut busiest) = (0, 0.0f64, 0.0f64);
        for shape in shapes {
            let (threads_before, open_before) = (thread_ids(), ledger.left_running());
            let (runtime, parked) = watched_runtime();
            let each: Vec<Held> = shape.accounts.iter().map(|_| Held::new()).collect();
            let progress: Vec<Progress> =
                shape.accounts.iter().map(|_| Progress::default()).collect();
            // The requests are not traced: the panic comes at the end of a
            // request, in a poll that a wake-up led to, and a recording
            // cannot show a poll that never ended. The queries, on the
            // connections' threads, are.
            let ((w, late), busy) = parked.busy(|| {
                runtime.block_on(async {
                    let heartbeat = Heartbeat::spawn(TICK);
                    tokio::time::sleep(TICK * 2).await;
                    let serve = |i: usize| {
                        let p = &progress[i];
                        let mine = ledger.for_call(p);
                        let seat = mine.seat.clone();
                        let request = balances(mine, shape.accounts[i].clone());
                        let watched = each[i].wrap(p.clone().watch(request));
                        let returned_open = &returned_open;
                        async move {
                            let found = watched.await;
                            // A connection of this request still open, or its
                            // close not over, as the request returns.
                            if seat.load(Ordering::SeqCst) > 0 {
                                returned_open.fetch_add(1, Ordering::SeqCst);
                            }
                            found
                        }
                    };
                    let found: Vec<Vec<u64>> = if shape.at_once {
                        // Each request is polled only when it is woken, so its
                        // polls are its own.
                        use futures::StreamExt;
                        let all: futures::stream::FuturesOrdered<_> =
                            (0..shape.accounts.len()).map(serve).collect();
                        all.collect().await
                    } else {
                        let mut found = Vec::new();
                        for i in 0..shape.accounts.len() {
                            found.push(serve(i).await);
                        }
                        found
                    };
                    // The heartbeat's turn, to see how late it is after the requests.
                    tokio::time::sleep(TICK * 2).await;
                    let mut wrong = 0;
                    for (accounts, found) in shape.accounts.iter().zip(&found) {
                        let right = accounts
                            .iter()
                            .enumerate()
                            .filter(|(i, a)| found.get(*i) == Some(&ledger.answers.of(**a)))
                            .count();
                        wrong +=
                            accounts.len() - right + found.len().saturating_sub(accounts.len());
                    }
                    (wrong as u32, heartbeat.worst_lateness_ratio())
                })
            });
            drop(runtime); // waits for the blocking pool, where a drop may be under way
            // A connection left open keeps its worker and its goodbye's
            // thread: counted by runtimes_left_running, not here.
            let opened = ledger.left_running().saturating_sub(open_before) as usize;
            left = left.max(threads_left(&threads_before, opened * 2, THREADS_END));
            each.iter().for_each(|request| requests.add(request));
            progress.iter().for_each(|request| waits.add(request));
            wrong += w;
            lateness = lateness.max(late);
            busiest = busiest.max(busy);
        }
        facts.set("wrong_answers", wrong);
        facts.set("runtimes_left_running", ledger.left_running());
        facts.set("balances_polls", requests.most_polls as f64);
        facts.set(
            "balances_asleep",
            requests.asleep.as_secs_f64() / TICK.as_secs_f64(),
        );
        facts.set("balances_looks", waits.looks as f64);
        facts.set("balances_late", waits.late());
        facts.set("threads_left", left as f64);
        if per_connection.is_some() {
            facts.set(
                "opened_while_closing",
                ledger.reopened.load(Ordering::SeqCst),
            );
            facts.set(
                "returned_while_closing",
                returned_open.load(Ordering::SeqCst),
            );
            let gaps = ledger.reopen_gaps.lock().unwrap().clone();
            let mean = gaps.iter().sum::<f64>() / gaps.len().max(1) as f64;
            facts.set("reopen_late", mean);
        }
        report_app_thread(facts, requests.longest, lateness, busiest);
    }

    pub fn run<B>(facts: &Facts, balances: B)
    where
        B: AsyncFn(Ledger, Vec<u32>) -> Vec<u64>,
    {
        println!(
            "Async code ({} function) serves requests for balances through a ledger connection that owns a runtime; closing a connection takes 100 to 140 ms.",
            facts.the("balances")
        );
        let mut rng = Rng::for_scenario(SPEC.name);
        let shapes = Requests::shapes(&mut rng);
        narrate_shapes(shapes.iter().map(|s| s.name.as_str()));
        measure_shapes(facts, &shapes, &mut rng, balances);
        let get = |name| facts.get(name).unwrap_or(f64::NAN);
        println!(
            "Wrong or missing balances: {}; connections left running at the end: {}; the app's thread was held for up to {:.1} ticks in one poll, and its heartbeat was up to {:.1} ticks late; up to {} polls for one request, {} of them looks with nothing new; closes noticed {:.1}% of a request late on average; threads left running: {}; the app's runtime not parked {:.0}% of the time.",
            get("wrong_answers"),
            get("runtimes_left_running"),
            get("longest_hold"),
            get("heartbeat_lateness"),
            get("balances_polls"),
            get("balances_looks"),
            get("balances_late") * 100.0,
            get("threads_left"),
            get("app_busy") * 100.0,
        );
    }

    pub fn piece<'a, B>(name: &'static str, balances: B) -> Piece<'a>
    where
        B: AsyncFn(Ledger, Vec<u32>) -> Vec<u64> + 'a,
    {
        Piece::new(name, move |facts| run(facts, balances))
    }
}

/// The `reopen` scenario, the `drop-runtime` exercise's: a connection
/// answers [`PER_CONNECTION`] balances at most, and a request may have one
/// connection at a time, counted until its close has finished.
pub mod reopen {
    use super::*;

    pub static SPEC: Spec = Spec {
        name: "reopen",
        facts: &[
            fact(
                "wrong_answers",
                "balances missing, or not the ledger's, over both workloads",
            ),
            fact(
                "runtimes_left_running",
                "connections whose runtime was never shut down, when the app's runtime ended",
            ),
            fact(
                "longest_hold",
                "the longest time one poll of balances held the app's thread by its own doing (computing, or asleep in a blocking call; not the time a busy machine paused it), in 10 ms ticks",
            )
            .timing(),
            fact("heartbeat_lateness", HEARTBEAT_LATENESS).timing(),
            fact(
                "balances_polls",
                "polls of one request to balances, the request with the most: a few per balance for a request that awaits, thousands for one that spins",
            ),
            fact(
                "balances_asleep",
                "the time the app's thread slept inside the polls of balances (a blocking join, sleep or wait), in 10 ms ticks, over both workloads",
            )
            .timing(),
            fact(
                "balances_looks",
                "polls of balances, after each request's first, that came when nothing the request could wait for had happened since its previous poll began (no balance answered, no connection closed): looks, not wake-ups, over both workloads",
            ).timing(),
            fact(
                "balances_late",
                "the time from the last thing a request could wait for (its last balance, or its connection's close) to the poll that ended it, as a share of the request's length, the mean over every request: 0 for a request woken when that happens, a share of its period for one that looks now and then",
            )
            .timing(),
            fact(
                "threads_left",
                "threads started during a workload (by your code, or by a runtime it built) still running after it ended and everything the harness started had stopped, beside those of the connections left open, the workload with the most",
            )
            .timing(),
            fact(
                "opened_while_closing",
                "connections a request opened while another of its own was still open, or still closing (its goodbye not finished), over both workloads",
            ),
            fact(
                "returned_while_closing",
                "requests that returned while one of their connections was still open or closing (its goodbye not finished), over both workloads",
            ),
            fact(
                "reopen_late",
                "the time from the end of a request's close to its next connection's open, over the close's length, the mean over every such open: near 0 for a request woken by the close, more for one that waits a set time",
            )
            .timing(),
            fact("app_busy", APP_BUSY).timing(),
        ],
    };

    /// The workloads: requests of 4 to 9 balances, so two or three
    /// connections each.
    pub fn shapes(rng: &mut Rng) -> Vec<Requests> {
        Requests::sized(rng, 4, 9)
    }

    /// Serves requests with `balances`, as `drop-runtime` does, under each
    /// workload drawn for this run.
    pub fn measure<B>(facts: &Facts, balances: B)
    where
        B: AsyncFn(Ledger, Vec<u32>) -> Vec<u64>,
    {
        let mut rng = Rng::for_scenario(SPEC.name);
        let shapes = shapes(&mut rng);
        drop_runtime::serve(facts, &shapes, &mut rng, balances, Some(PER_CONNECTION));
    }

    pub fn run<B>(facts: &Facts, balances: B)
    where
        B: AsyncFn(Ledger, Vec<u32>) -> Vec<u64>,
    {
        println!(
            "Async code ({} function) serves requests for balances through ledger connections that own a runtime. A connection answers {PER_CONNECTION} balances at most, and the ledger lets a request have one connection at a time: one still closing (100 to 140 ms) counts.",
            facts.the("balances")
        );
        let mut rng = Rng::for_scenario(SPEC.name);
        let shapes = shapes(&mut rng);
        narrate_shapes(shapes.iter().map(|s| s.name.as_str()));
        drop_runtime::serve(facts, &shapes, &mut rng, balances, Some(PER_CONNECTION));
        let get = |name| facts.get(name).unwrap_or(f64::NAN);
        println!(
            "Wrong or missing balances: {}; connections opened while another of the same request was open or closing: {}, and after a close, late by {:.1}% of its length on average; left running at the end: {}; the app's thread was held for up to {:.1} ticks in one poll, and its heartbeat was up to {:.1} ticks late; up to {} polls for one request, {} of them looks with nothing new; closes noticed {:.1}% of a request late on average; threads left running: {}; the app's runtime not parked {:.0}% of the time.",
            get("wrong_answers"),
            get("opened_while_closing"),
            get("reopen_late") * 100.0,
            get("runtimes_left_running"),
            get("longest_hold"),
            get("heartbeat_lateness"),
            get("balances_polls"),
            get("balances_looks"),
            get("balances_late") * 100.0,
            get("threads_left"),
            get("app_busy") * 100.0,
        );
    }

    pub fn piece<'a, B>(name: &'static str, balances: B) -> Piece<'a>
    where
        B: AsyncFn(Ledger, Vec<u32>) -> Vec<u64> + 'a,
    {
        Piece::new(name, move |facts| run(facts, balances))
    }

    /// The `drop-runtime` exercise binary's `main`: judges the learner's
    /// `balances`.
    pub fn exercise<B>(balances: B) -> ExitCode
    where
        B: AsyncFn(Ledger, Vec<u32>) -> Vec<u64>,
    {
        shared::lesson::main(
            LESSON,
            Variant::Exercise("drop-runtime"),
            vec![SPEC.with(vec![piece("", balances)])],
        )
    }
}

/// The `no-reactor` scenario: a sensor driver calls back, on a plain thread
/// of its own, into code that uses tokio.
pub mod no_reactor {
    use super::*;

    pub static SPEC: Spec = Spec {
        name: "no-reactor",
        facts: &[
            fact(
                "readings_lost",
                "readings the driver delivered that were never saved, over both workloads",
            ),
            fact(
                "wrong_saves",
                "saves of a value the driver never delivered, or of one saved already",
            ),
            fact(
                "out_of_order",
                "saved readings that came before one the driver delivered earlier, over both workloads",
            ),
            fact(
                "saves_at_once",
                "the most saves under way at the same time",
            ),
            fact(
                "most_waiting",
                "the most readings handed to the callback and not yet being saved, seen when a callback returned: the backlog the driver was let build",
            ),
            fact(
                "driver_held",
                "callbacks that held the driver's thread 2 ms or more while fewer than 4 readings waited, over both workloads",
            )
            .timing(),
            fact(
                "tasks_left",
                "tasks of yours still alive on the app's runtime 100 ms after the driver stopped and its readings were saved, the workload with the most",
            )
            .timing(),
            fact("threads_left", THREADS_LEFT).timing(),
            fact(
                "idle_wake_ups",
                "wake-ups of the app's runtime per tick of its heartbeat while nothing was to be done (every reading delivered so far saved, no save under way), over both workloads: the heartbeat's own (about 2: its timer may wake the thread just before it is due) for code that waits for a reading, and more for code that looks again and again, each look a timer of its own",
            )
            .timing(),
            fact(
                "save_late",
                "the time from a reading that came when nothing was to be done (the first, the first of a burst, each of the third workload's) to the call of save for it, in 10 ms ticks, the mean over all of them: at once for code woken by the reading, half its period or more for code that looks now and then",
            )
            .timing(),
            fact(
                "longest_hold",
                "the time the call to on_reading held the app's thread by its own doing (computing, or asleep in a blocking call; not the time a busy machine paused it), in 10 ms ticks",
            )
            .timing(),
            fact("heartbeat_lateness", HEARTBEAT_LATENESS).timing(),
            fact("app_busy", APP_BUSY).timing(),
        ],
    };

    /// What the driver's thread saw of the callback.
    #[derive(Default)]
    struct Driven {
        most_waiting: usize,
        held: u32,
        /// Readings that came when nothing was to be done, and when.
        came_idle: Vec<(u32, Instant)>,
    }

    type PanicHook = dyn Fn(&std::panic::PanicHookInfo<'_>) + Send + Sync;

    /// Puts the panic hook that was there back when a run ends, however it
    /// ends.
    struct RestoreHook(Arc<PanicHook>);

    impl Drop for RestoreHook {
        fn drop(&mut self) {
            if std::thread::panicking() {
                return; // not allowed then
            }
            let previous = self.0.clone();
            std::panic::set_hook(Box::new(move |info| previous(info)));
        }
    }

    /// Calls `on_reading` on the app's runtime, as an async `main` would
    /// to register its callback, then starts the driver's thread, which
    /// calls the callback with each reading and drops it when done; under
    /// each workload drawn for this run. A panic on the driver's thread is
    /// passed on.
    pub fn measure<M, C>(facts: &Facts, on_reading: M)
    where
        M: Fn(Store) -> C,
        C: FnMut(Reading) + Send + 'static,
    {
        let shapes = Deliveries::shapes(&mut Rng::for_scenario(SPEC.name));
        measure_shapes(facts, &shapes, on_reading);
    }

    /// [`measure`] under the given workloads.
    pub fn measure_shapes<M, C>(facts: &Facts, shapes: &[Deliveries], on_reading: M)
    where
        M: Fn(Store) -> C,
        C: FnMut(Reading) + Send + 'static,
    {
        let held = Held::new();
        let (mut lost, mut wrong, mut lateness, mut busiest) = (0, 0, 0.0f64, 0.0f64);
        let (mut disorder, mut at_once, mut waiting, mut driver_held, mut left) =
            (0u32, 0usize, 0usize, 0u32, 0usize);
        let (mut threads_alive, mut idle_wakes, mut idle_ticks) = (0usize, 0u64, 0u64);
        let (mut late_sum, mut came_idle) = (Duration::ZERO, 0u32);
        // A task of the app's that panics is caught by tokio, and its
        // message only printed: it is kept here, and passed on at the end.
        let app_thread = std::thread::current().id();
        let task_panic: Arc<Mutex<Option<String>>> = Arc::default();
        let previous: Arc<PanicHook> = Arc::from(std::panic::take_hook());
        let mut restore = Some(RestoreHook(previous.clone()));
        {
            let (task_panic, previous) = (task_panic.clone(), previous.clone());
            std::panic::set_hook(Box::new(move |info| {
                if std::thread::current().id() == app_thread {
                    let mut first = task_panic.lock().unwrap_or_else(|e| e.into_inner());
                    first.get_or_insert_with(|| crate::panic_message(info.payload()));
                }
                previous(info);
            }));
        }
        for shape in shapes {
            let store = Store::default();
            let threads_before = thread_ids();
            let (runtime, parked) = watched_runtime();
            let ((heartbeat, ended, before), busy) = parked.busy(|| {
                runtime.block_on(
                    async {
                        let heartbeat = Arc::new(Heartbeat::spawn(TICK));
                        store.log().watch = Some((parked.clone(), heartbeat.clone()));
                        tokio::time::sleep(TICK * 2).await;
                        let before = tokio::runtime::Handle::current()
                            .metrics()
                            .num_alive_tasks();
                        let mut callback = held.time(|| on_reading(store.clone()));
                        let deliveries = shape.clone();
                        let theirs = store.clone();
                        let driver = std::thread::Builder::new()
                            .name("driver".into())
                            .spawn(move || {
                                let mut seen = Driven::default();
                                let start = Instant::now();
                                for (n, (at, value)) in
                                    deliveries.at.iter().zip(&deliveries.values).enumerate()
                                {
                                    let due = start + *at;
                                    std::thread::sleep(
                                        due.saturating_duration_since(Instant::now()),
                                    );
                                    let waited = n.saturating_sub(theirs.started());
                                    let called = Instant::now();
                                    if theirs.delivering() {
                                        seen.came_idle.push((*value, called));
                                    }
                                    shared::blocking("callback", || callback(Reading(*value)));
                                    if called.elapsed() >= DRIVER_HELD && waited < BUFFER {
                                        seen.held += 1;
                                    }
                                    seen.most_waiting = seen
                                        .most_waiting
                                        .max((n + 1).saturating_sub(theirs.started()));
                                }
                                // The driver goes quiet for a while, then stops:
                                // it lets go of the callback.
                                std::thread::sleep(QUIET);
                                theirs.log().idle_ends();
                                drop(callback);
                                seen
                            })
                            .expect("a thread starts");
                        // Wait for the driver without blocking the app's thread.
                        let ended = tokio::task::spawn_blocking(move || driver.join())
                            .await
                            .expect("joining does not panic");
                        (heartbeat, ended, before)
                    }
                    .traced("app"),
                )
            });
            busiest = busiest.max(busy);
            // The driver's thread died: the app panics in turn, with the same
            // message, outside the runtime, where no poll is left unfinished.
            let seen = match ended {
                Ok(seen) => seen,
                Err(panic) => {
                    let message = panic
                        .downcast_ref::<&str>()
                        .map(|m| m.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "the driver's thread panicked".into());
                    drop(restore.take());
                    panic!("{message}");
                }
            };
            let alive = runtime.block_on(
                async {
                    let stopped = Instant::now();
                    while store.saved().len() < shape.values.len() && stopped.elapsed() < SETTLE {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                    // Then the tasks the callback started have a while to end.
                    let metrics = tokio::runtime::Handle::current().metrics();
                    let saved = Instant::now();
                    while metrics.num_alive_tasks() > before && saved.elapsed() < STOP_WAIT {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                    metrics.num_alive_tasks()
                }
                .traced("app"),
            );
            left = left.max(alive.saturating_sub(before));
            lateness = lateness.max(heartbeat.worst_lateness_ratio());
            store.log().watch = None;
            drop(heartbeat);
            drop(runtime);
            threads_alive = threads_alive.max(threads_left(&threads_before, 0, THREADS_END));
            {
                let log = store.log();
                idle_wakes += log.idle_wakes;
                idle_ticks += log.idle_ticks;
                for (value, came) in &seen.came_idle {
                    if let Some((_, called)) = log.called.iter().find(|(v, _)| v == value) {
                        late_sum += called.saturating_duration_since(*came);
                        came_idle += 1;
                    }
                }
            }
            let saved = store.saved();
            lost += shape.values.iter().filter(|v| !saved.contains(v)).count() as u32;
            let mut counted: Vec<u32> = Vec::new();
            let mut last = None;
            for v in saved {
                let place = shape.values.iter().position(|d| *d == v);
                if place.is_some() && !counted.contains(&v) {
                    counted.push(v);
                    if place < last {
                        disorder += 1;
                    }
                    last = last.max(place);
                } else {
                    wrong += 1;
                }
            }
            at_once = at_once.max(store.log().most_at_once);
            waiting = waiting.max(seen.most_waiting);
            driver_held += seen.held;
        }
        drop(restore.take());
        if let Some(message) = task_panic.lock().unwrap_or_else(|e| e.into_inner()).take() {
            panic!("{message}");
        }
        facts.set("readings_lost", lost);
        facts.set("wrong_saves", wrong);
        facts.set("out_of_order", disorder);
        facts.set("saves_at_once", at_once as f64);
        facts.set("most_waiting", waiting as f64);
        facts.set("driver_held", driver_held);
        facts.set("tasks_left", left as f64);
        facts.set("threads_left", threads_alive as f64);
        facts.set(
            "idle_wake_ups",
            idle_wakes as f64 / idle_ticks.max(1) as f64,
        );
        let save_late = late_sum.as_secs_f64() / f64::from(came_idle.max(1));
        facts.set("save_late", save_late / TICK.as_secs_f64());
        report_app_thread(facts, held.own_longest(), lateness, busiest);
    }

    pub fn run<M, C>(facts: &Facts, on_reading: M)
    where
        M: Fn(Store) -> C,
        C: FnMut(Reading) + Send + 'static,
    {
        println!(
            "A sensor driver calls back on a plain thread of its own, with a buffer of {BUFFER} readings; the callback from {} function has each reading saved, one at a time and in order, in an async store.",
            facts.the("on_reading")
        );
        let shapes = Deliveries::shapes(&mut Rng::for_scenario(SPEC.name));
        narrate_shapes(shapes.iter().map(|s| s.name.as_str()));
        measure_shapes(facts, &shapes, on_reading);
        let get = |name| facts.get(name).unwrap_or(f64::NAN);
        println!(
            "Readings lost: {}; wrong saves: {}; saved out of order: {}; up to {} saves at once; up to {} readings waiting; the driver held {} times with room in its buffer; tasks left running after it stopped: {}, threads: {}; with nothing to do, {:.2} wake-ups of the app's runtime per tick of its heartbeat, and a reading that came then saved {:.2} ticks after it on average; the app's heartbeat was up to {:.1} ticks late; the app's runtime not parked {:.0}% of the time.",
            get("readings_lost"),
            get("wrong_saves"),
            get("out_of_order"),
            get("saves_at_once"),
            get("most_waiting"),
            get("driver_held"),
            get("tasks_left"),
            get("threads_left"),
            get("idle_wake_ups"),
            get("save_late"),
            get("heartbeat_lateness"),
            get("app_busy") * 100.0,
        );
    }

    pub fn piece<'a, M, C>(name: &'static str, on_reading: M) -> Piece<'a>
    where
        M: Fn(Store) -> C + 'a,
        C: FnMut(Reading) + Send + 'static,
    {
        Piece::new(name, move |facts| run(facts, on_reading))
    }

    /// The exercise binary's `main`: judges the learner's `on_reading`.
    pub fn exercise<M, C>(on_reading: M) -> ExitCode
    where
        M: Fn(Store) -> C,
        C: FnMut(Reading) + Send + 'static,
    {
        shared::lesson::main(
            LESSON,
            Variant::Exercise("no-reactor"),
            vec![SPEC.with(vec![piece("", on_reading)])],
        )
    }
}

// ------------------------------------------------------------------ Send --

// The compiler's error for a future that is not `Send` ("future cannot be
// sent between threads safely") has no error code, so the doctests below
// cannot name one. Each was compiled by hand to check that it fails for the
// reason given.

/// `Rc` counts its owners without atomic operations, so std does not let it
/// cross threads: it is not `Send`. A local of an async block that is still
/// alive at an `.await` is kept inside the block's future, so that future is
/// not `Send` either, and `tokio::spawn`, which may move a task to another
/// worker at any `.await`, refuses it:
///
/// ```compile_fail
#[doc = include_str!("snippets/spawn_holding_rc.rs")]
/// ```
///
/// `tests/send.rs` shows the fixes: an `Arc`, the `Rc` dropped before the
/// `.await`, or `spawn_local` on a `LocalSet`, which never moves its tasks.
pub struct RcAcrossAwait;

/// `std::sync::MutexGuard` is not `Send` either, so a task that holds one
/// across an `.await` cannot be spawned:
///
/// ```compile_fail
#[doc = include_str!("snippets/spawn_holding_std_guard.rs")]
/// ```
///
/// The fixes, in `tests/send.rs`: end the guard's scope before the
/// `.await`, or use `tokio::sync::Mutex`, whose guard may be held there.
/// Where no `Send` is needed ([`log_holding_std_guard`]), the same code
/// compiles, and clippy's `await_holding_lock` is what catches it.
pub struct StdGuardAcrossAwait;

// ANCHOR: holding_std_guard
/// Holds a std guard across an `.await`. It compiles: nothing here asks for
/// `Send`, so only clippy objects (and `#[expect]` checks that it does).
#[expect(clippy::await_holding_lock)]
pub async fn log_holding_std_guard(log: Arc<Mutex<Vec<&'static str>>>) {
    let mut lines = log.lock().unwrap();
    lines.push("started");
    tokio::task::yield_now().await; // `lines` still holds the lock here
    lines.push("done");
}
// ANCHOR_END: holding_std_guard
