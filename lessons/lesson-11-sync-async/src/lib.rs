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
//! - calling tokio from a thread that no runtime knows about (`no-reactor`:
//!   "there is no reactor running").
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
use shared::work::heartbeat::Heartbeat;
use std::future::Future;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The app's runtime: one thread, with a timer, as
/// `#[tokio::main(flavor = "current_thread")]` builds it.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime always builds")
}

/// What the services in this lesson answer for `id`. Private: a piece can
/// get it only by asking.
fn answer(id: u32) -> u64 {
    u64::from(id) * 100 + 99
}

// --------------------------------------------------------------- nested --

/// Calls made in the `nested` scenario.
pub const CALLS: u32 = 8;
/// How long the catalog service takes to answer.
pub const CALL_TIME: Duration = Duration::from_millis(30);
/// The heartbeat's period: six ticks in every call.
pub const TICK: Duration = Duration::from_millis(5);

/// A price catalog's client library. Like many libraries that wrap an async
/// client for sync callers, its blocking `price` builds a runtime and blocks
/// on it. It also has an async `price_async`.
#[derive(Clone)]
pub struct Catalog {
    heartbeat: Arc<Heartbeat>,
    blocked: Arc<AtomicU32>,
}

impl Catalog {
    fn new(heartbeat: Arc<Heartbeat>) -> Catalog {
        Catalog {
            heartbeat,
            blocked: Arc::default(),
        }
    }

    // ANCHOR: catalog
    /// The price of `item`. Blocks the calling thread until it comes.
    pub fn price(&self, item: u32) -> u64 {
        shared::blocking("Catalog::price", || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .expect("a current-thread runtime always builds");
            // Panics if this thread is already driving a runtime.
            runtime.block_on(self.price_async(item))
        })
    }
    // ANCHOR_END: catalog

    /// The price of `item`, for async callers.
    pub async fn price_async(&self, item: u32) -> u64 {
        let ticks = self.heartbeat.ticks();
        tokio::time::sleep(CALL_TIME).await; // the request on the wire
        // The app's heartbeat did not tick during the call: the app's thread
        // was kept from everything else while it waited.
        if self.heartbeat.ticks() == ticks {
            self.blocked.fetch_add(1, Ordering::Relaxed);
        }
        answer(item)
    }
}

// ----------------------------------------------------------- drop-runtime --

/// Requests the app serves in the `drop-runtime` scenario...
pub const REQUESTS: u32 = 4;
/// ...each asking for this many balances.
pub const ACCOUNTS: u32 = 5;
/// How long the ledger takes to answer one query.
pub const QUERY_TIME: Duration = Duration::from_millis(3);

/// A ledger service. `connect` opens a [`Connection`]; the harness counts
/// how many were opened and how many had their runtime shut down.
#[derive(Clone, Default)]
pub struct Ledger {
    opened: Arc<AtomicU32>,
    closed: Arc<AtomicU32>,
}

impl Ledger {
    /// Opens a connection, with a runtime of its own.
    pub fn connect(&self) -> Connection {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("connection")
            .enable_time()
            .build()
            .expect("a one-worker runtime builds");
        self.opened.fetch_add(1, Ordering::Relaxed);
        Connection {
            runtime: Some(runtime),
            closed: self.closed.clone(),
        }
    }

    /// Connections opened whose runtime is not shut down (yet).
    fn left_running(&self) -> u32 {
        self.opened.load(Ordering::Relaxed) - self.closed.load(Ordering::Relaxed)
    }
}

// ANCHOR: connection
/// A connection to the ledger. Like clients that work the same for sync and
/// async callers, it runs its network work on a runtime it owns, on a
/// thread of its own.
pub struct Connection {
    runtime: Option<tokio::runtime::Runtime>,
    closed: Arc<AtomicU32>,
}

impl Connection {
    /// The balance of `account`. The query runs on the connection's runtime;
    /// the future it returns can be awaited on any runtime.
    pub fn balance(&self, account: u32) -> impl Future<Output = u64> + Send + 'static {
        let runtime = self.runtime.as_ref().expect("open until dropped");
        let query = runtime.spawn(
            async move {
                tokio::time::sleep(QUERY_TIME).await;
                answer(account)
            }
            .traced("query"),
        );
        async move { query.await.expect("a query does not panic") }
    }

    /// Shuts the connection's runtime down without waiting for its thread.
    pub fn shutdown_background(mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
            self.closed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            // Waits for the runtime's thread to stop: panics on a thread
            // that drives a runtime, where waiting is not allowed.
            shared::blocking("Runtime::drop", || drop(runtime));
            self.closed.fetch_add(1, Ordering::Relaxed);
        }
    }
}
// ANCHOR_END: connection

// ------------------------------------------------------------- no-reactor --

/// Readings the driver delivers in the `no-reactor` scenario.
pub const READINGS: u32 = 20;
/// The time between two readings.
pub const READING_GAP: Duration = Duration::from_millis(2);
/// How long a save takes.
pub const SAVE_TIME: Duration = Duration::from_millis(3);
/// How long the harness waits for the last saves after the driver stops.
const SETTLE: Duration = Duration::from_millis(500);

/// One sensor reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reading(pub u32);

/// Where readings are saved: an async API, built on tokio's timer (a
/// database client, say). The harness looks at what was saved.
#[derive(Clone, Default)]
pub struct Store {
    saved: Arc<Mutex<Vec<u32>>>,
}

impl Store {
    /// Saves `reading`. Must run inside a tokio runtime: it uses its timer.
    pub fn save(&self, reading: Reading) -> impl Future<Output = ()> + Send + 'static {
        let saved = self.saved.clone();
        async move {
            tokio::time::sleep(SAVE_TIME).await;
            saved
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(reading.0);
        }
        .traced("save")
    }

    fn lost(&self) -> u32 {
        let saved = self.saved.lock().unwrap_or_else(|e| e.into_inner());
        (0..READINGS).filter(|r| !saved.contains(r)).count() as u32
    }
}

// ------------------------------------------------------------ the pieces --

pub mod broken {
    use super::*;

    // ANCHOR: broken_nested
    /// Quotes the price of `item`, from async code.
    pub async fn quote(catalog: Catalog, item: u32) -> u64 {
        // BROKEN: `price` blocks on a runtime of its own, on this thread,
        // which is already driving the app's runtime
        catalog.price(item)
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
    /// The same, with the blocking call moved to tokio's blocking pool.
    pub async fn quote(catalog: Catalog, item: u32) -> u64 {
        // FIXED: a blocking-pool thread drives no runtime, so it may block
        tokio::task::spawn_blocking(move || catalog.price(item))
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

    // ANCHOR: fixed_no_reactor
    /// The same, with the runtime's handle carried to the driver's thread.
    pub fn on_reading(store: Store) -> impl FnMut(Reading) + Send + 'static {
        // FIXED: taken here, where the app's runtime is running
        let runtime = tokio::runtime::Handle::current();
        move |reading| {
            runtime.spawn(store.save(reading)); // FIXED: spawned through it
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
                "calls whose answer was missing or wrong, of 8",
            ),
            fact(
                "blocked_calls",
                "calls during which the app's thread ran nothing else (its 5 ms heartbeat never ticked), of 8",
            ),
        ],
    };

    /// Asks `quote` for eight prices, one after another, on the app's
    /// current-thread runtime, beside a heartbeat.
    pub fn measure<Q>(facts: &Facts, quote: Q)
    where
        Q: AsyncFn(Catalog, u32) -> u64,
    {
        // Each call is traced on its own, and the loop around them is not:
        // a panic then comes in a call's first poll, which no wake-up led
        // to, and the recording stays whole.
        let (wrong, blocked) = runtime().block_on(async {
            let catalog = Catalog::new(Arc::new(Heartbeat::spawn(TICK)));
            tokio::time::sleep(TICK * 2).await;
            let mut wrong = 0;
            for item in 0..CALLS {
                if quote(catalog.clone(), item).traced("quote").await != answer(item) {
                    wrong += 1;
                }
            }
            (wrong, catalog.blocked.load(Ordering::Relaxed))
        });
        facts.set("wrong_answers", wrong);
        facts.set("blocked_calls", blocked);
    }

    pub fn run<Q>(facts: &Facts, quote: Q)
    where
        Q: AsyncFn(Catalog, u32) -> u64,
    {
        println!(
            "Async code ({} function) asks a blocking catalog client for {CALLS} prices, 30 ms each, beside a 5 ms heartbeat.",
            facts.the("quote")
        );
        measure(facts, quote);
        println!(
            "Wrong or missing answers: {}; calls that kept the app's thread from everything else: {}.",
            facts.get("wrong_answers").unwrap_or(0.0),
            facts.get("blocked_calls").unwrap_or(0.0)
        );
    }

    pub fn piece<'a, Q>(name: &'static str, quote: Q) -> Piece<'a>
    where
        Q: AsyncFn(Catalog, u32) -> u64 + 'a,
    {
        Piece::new(name, move |facts| run(facts, quote))
    }

    /// The exercise binary's `main`: judges the learner's `quote`.
    pub fn exercise<Q>(quote: Q) -> ExitCode
    where
        Q: AsyncFn(Catalog, u32) -> u64,
    {
        shared::lesson::main(
            "lesson-11",
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
                "balances missing or wrong, of 20 (4 requests of 5)",
            ),
            fact(
                "runtimes_left_running",
                "connections whose runtime was never shut down, when the program ended",
            ),
        ],
    };

    /// Serves four requests with `balances` on the app's current-thread
    /// runtime, then shuts that runtime down and counts the connections
    /// still running.
    pub fn measure<B>(facts: &Facts, balances: B)
    where
        B: AsyncFn(Ledger, Vec<u32>) -> Vec<u64>,
    {
        let ledger = Ledger::default();
        let runtime = runtime();
        // Not traced: the panic comes at the end of a request, in a poll
        // that a wake-up led to, and a recording cannot show a poll that
        // never ended. The queries, on the connections' threads, are.
        let wrong = runtime.block_on(async {
            let mut wrong = 0;
            for request in 0..REQUESTS {
                let accounts: Vec<u32> = (request * ACCOUNTS..(request + 1) * ACCOUNTS).collect();
                let found = balances(ledger.clone(), accounts.clone()).await;
                let right = accounts
                    .iter()
                    .enumerate()
                    .filter(|(i, a)| found.get(*i) == Some(&answer(**a)))
                    .count() as u32;
                wrong += ACCOUNTS - right;
            }
            wrong
        });
        drop(runtime); // waits for the blocking pool, where a drop may be under way
        facts.set("wrong_answers", wrong);
        facts.set("runtimes_left_running", ledger.left_running());
    }

    pub fn run<B>(facts: &Facts, balances: B)
    where
        B: AsyncFn(Ledger, Vec<u32>) -> Vec<u64>,
    {
        println!(
            "Async code ({} function) serves {REQUESTS} requests for {ACCOUNTS} balances each, through a ledger connection that owns a runtime.",
            facts.the("balances")
        );
        measure(facts, balances);
        println!(
            "Wrong or missing balances: {}; connections left running at the end: {}.",
            facts.get("wrong_answers").unwrap_or(0.0),
            facts.get("runtimes_left_running").unwrap_or(0.0)
        );
    }

    pub fn piece<'a, B>(name: &'static str, balances: B) -> Piece<'a>
    where
        B: AsyncFn(Ledger, Vec<u32>) -> Vec<u64> + 'a,
    {
        Piece::new(name, move |facts| run(facts, balances))
    }

    /// The exercise binary's `main`: judges the learner's `balances`.
    pub fn exercise<B>(balances: B) -> ExitCode
    where
        B: AsyncFn(Ledger, Vec<u32>) -> Vec<u64>,
    {
        shared::lesson::main(
            "lesson-11",
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
        facts: &[fact(
            "readings_lost",
            "readings the driver delivered that were never saved, of 20",
        )],
    };

    /// Calls `on_reading` on the app's runtime, as an async `main` would
    /// to register its callback, then starts the driver's thread, which
    /// calls the callback with each reading. A panic on the driver's thread
    /// is passed on.
    pub fn measure<M, C>(facts: &Facts, on_reading: M)
    where
        M: FnOnce(Store) -> C,
        C: FnMut(Reading) + Send + 'static,
    {
        let store = Store::default();
        let runtime = runtime();
        let ended = runtime.block_on(
            async {
                let mut callback = on_reading(store.clone());
                let driver = std::thread::Builder::new()
                    .name("driver".into())
                    .spawn(move || {
                        for i in 0..READINGS {
                            std::thread::sleep(READING_GAP);
                            shared::blocking("callback", || callback(Reading(i)));
                        }
                    })
                    .expect("a thread starts");
                // Wait for the driver without blocking the app's thread.
                tokio::task::spawn_blocking(move || driver.join())
                    .await
                    .expect("joining does not panic")
            }
            .traced("app"),
        );
        // The driver's thread died: the app panics in turn, with the same
        // message, outside the runtime, where no poll is left unfinished.
        if let Err(panic) = ended {
            let message = panic
                .downcast_ref::<&str>()
                .map(|m| m.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "the driver's thread panicked".into());
            panic!("{message}");
        }
        runtime.block_on(
            async {
                let stopped = Instant::now();
                while store.lost() > 0 && stopped.elapsed() < SETTLE {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
            .traced("app"),
        );
        facts.set("readings_lost", store.lost());
    }

    pub fn run<M, C>(facts: &Facts, on_reading: M)
    where
        M: FnOnce(Store) -> C,
        C: FnMut(Reading) + Send + 'static,
    {
        println!(
            "A sensor driver calls back {READINGS} times, on a plain thread of its own; the callback from {} function saves each reading with an async store.",
            facts.the("on_reading")
        );
        measure(facts, on_reading);
        println!(
            "Readings lost: {} of {READINGS}.",
            facts.get("readings_lost").unwrap_or(0.0)
        );
    }

    pub fn piece<'a, M, C>(name: &'static str, on_reading: M) -> Piece<'a>
    where
        M: FnOnce(Store) -> C + 'a,
        C: FnMut(Reading) + Send + 'static,
    {
        Piece::new(name, move |facts| run(facts, on_reading))
    }

    /// The exercise binary's `main`: judges the learner's `on_reading`.
    pub fn exercise<M, C>(on_reading: M) -> ExitCode
    where
        M: FnOnce(Store) -> C,
        C: FnMut(Reading) + Send + 'static,
    {
        shared::lesson::main(
            "lesson-11",
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
