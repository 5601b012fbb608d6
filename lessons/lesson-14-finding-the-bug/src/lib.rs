//! # Lesson 14: finding the bug
//!
//! A small service on 127.0.0.1, written by someone else: a listener hands
//! each connection to a handler task, which answers each request from a
//! cache (or, on a miss, from a slow store) and sends an audit event to a
//! queue; an auditor task writes the queue to a slow log; a refresher task
//! rebuilds a ranking from the recent requests every 60 ms; a reporter and
//! a cleanup task tick beside them. A few dozen tasks of six kinds.
//!
//! The piece under lesson is the service's own code: a type implementing
//! [`Service`] (its handler, its refresher and its auditor). The harness
//! owns everything else: the listener, the connections, the clients, the
//! reporter and the cleanup, and the measures. Each of the service's tasks
//! is spawned by the harness inside a tokio-metrics [`TaskMonitor`] for its
//! kind and a [`Longest`] (the longest poll, by its own doing), so what the tools say
//! about a kind of task is measured from outside the code.
//!
//! Each scenario hides one fault from an earlier lesson in the service, with
//! its own symptom: a blocking call on the path of some requests (lesson 06),
//! a loop that never yields in a background task (lesson 12), an unbounded
//! queue under a burst (lesson 08), a `std` lock held across an `.await`,
//! a waker lost on a rare path (lesson 03).
//!
//! Two workloads are drawn when the program runs (`LESSON_SEED` replays
//! them): a steady stream of requests, a few of them misses; and a burst,
//! each connection sending its requests back to back.

use shared::TraceExt;
use shared::lesson::{FactSpec, Facts, Piece, Spec, Variant, fact};
use shared::record::sched::{self, SchedStat, SchedStatFile, this_thread_id, thread_ids};
use shared::work::alive::{Alive, Census};
use shared::work::shape::{Rng, SEED_ENV, seed};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tokio_metrics::{TaskMetrics, TaskMonitor};

/// This lesson's id, `lesson-14`: its package name.
pub const LESSON: &str = env!("CARGO_PKG_NAME");

/// One load from the store: the unit of every time in this lesson.
pub const LOAD: Duration = Duration::from_millis(20);

/// One write to the audit log.
pub const WRITE: Duration = Duration::from_millis(1);

/// How long the refresher waits between two rankings.
pub const REFRESH_EVERY: Duration = Duration::from_millis(60);

/// The most audit events a correct service holds at once: a queue of up to
/// [`QUEUE_MOST`], and one per connection.
pub const QUEUE_MOST: usize = 32;

/// The monitors' slow-poll and long-delay thresholds: half a load.
/// (tokio-metrics' default, 50 µs, suits a quiet machine whose polls take
/// microseconds; this one's faults hold the thread for a whole load, and a
/// busy machine can pause any poll for a few milliseconds.)
pub const SLOW: Duration = Duration::from_millis(10);

/// The environment variable that asks a lesson binary for its task
/// monitors' table (`cargo xtask run lesson-14 --metrics` sets it).
pub const METRICS_ENV: &str = shared::contract::report::METRICS_ENV;

/// A number that depends on every bit of `x`: for data made at run time.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

// ------------------------------------------------------ the service --

/// The service's own code: what runs in its handler, refresher and auditor
/// tasks. The harness makes one with [`Service::start`] and spawns each
/// task; `refresh` and `audit` run until the harness ends the run.
///
/// The harness runs the service's tasks on one thread, in a tokio
/// `LocalSet` (`spawn_local`), as frameworks that run a runtime per thread
/// do: the futures need not be `Send`.
pub trait Service: Send + Sync + Sized + 'static {
    /// Makes the service (its queues, its state) before the first request.
    fn start(app: &App) -> Self;
    /// Answers one request with its key's value; its audit event
    /// ([`Request::into_event`]) must reach the log.
    fn handle(&self, app: &App, request: Request) -> impl Future<Output = u64>;
    /// The refresher: [`REFRESH_EVERY`] after the last one, ranks the recent requests
    /// ([`App::recent`]) and publishes the ranking.
    fn refresh(&self, app: &App) -> impl Future<Output = ()>;
    /// The auditor: writes every audit event to the log ([`App::log`]).
    fn audit(&self, app: &App) -> impl Future<Output = ()>;
}

/// A service as the harness holds it: a [`Service`] with its futures
/// boxed. The harness is then compiled once for every service, instead of
/// once for each: the lesson's programs, and an exercise after each edit,
/// build faster. A box costs one allocation per request.
trait Served {
    fn handle_boxed<'a>(&'a self, app: &'a App, request: Request) -> LocalBoxed<'a, u64>;
    fn refresh_boxed<'a>(&'a self, app: &'a App) -> LocalBoxed<'a, ()>;
    fn audit_boxed<'a>(&'a self, app: &'a App) -> LocalBoxed<'a, ()>;
}

type LocalBoxed<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

impl<S: Service> Served for S {
    fn handle_boxed<'a>(&'a self, app: &'a App, request: Request) -> LocalBoxed<'a, u64> {
        Box::pin(Service::handle(self, app, request))
    }
    fn refresh_boxed<'a>(&'a self, app: &'a App) -> LocalBoxed<'a, ()> {
        Box::pin(Service::refresh(self, app))
    }
    fn audit_boxed<'a>(&'a self, app: &'a App) -> LocalBoxed<'a, ()> {
        Box::pin(Service::audit(self, app))
    }
}

/// Makes the service to run: [`Service::start`], for the harness.
type Start = fn(&App) -> Arc<dyn Served + Send + Sync>;

fn start<S: Service>(app: &App) -> Arc<dyn Served + Send + Sync> {
    Arc::new(S::start(app))
}

pub mod broken {
    use super::*;
    use tokio::sync::mpsc;

    // ANCHOR: broken_blocking
    /// A service whose handler, on a cache miss, asks the store with its
    /// synchronous client.
    pub struct Blocking {
        events: mpsc::Sender<AuditEvent>,
        queue: Mutex<Option<mpsc::Receiver<AuditEvent>>>,
    }

    impl Service for Blocking {
        fn start(_: &App) -> Self {
            let (events, queue) = mpsc::channel(QUEUE_MOST);
            Blocking {
                events,
                queue: Mutex::new(Some(queue)),
            }
        }

        async fn handle(&self, app: &App, request: Request) -> u64 {
            let key = request.key();
            let _ = self.events.send(request.into_event()).await;
            match app.cache().get(key) {
                Some(value) => value,
                None => {
                    // BROKEN: `fetch` waits for the store's answer with
                    // the thread: no other task runs for a whole load
                    let value = app.store().fetch(key);
                    app.cache().put(key, value);
                    value
                }
            }
        }

        async fn refresh(&self, app: &App) {
            rank_off_thread(app).await;
        }

        async fn audit(&self, app: &App) {
            let queue = self.queue.lock().unwrap().take();
            write_all(app, queue).await;
        }
    }
    // ANCHOR_END: broken_blocking

    // ANCHOR: broken_starve
    /// A service whose refresher ranks the recent requests in one go.
    pub struct Starve {
        events: mpsc::Sender<AuditEvent>,
        queue: Mutex<Option<mpsc::Receiver<AuditEvent>>>,
    }

    impl Service for Starve {
        fn start(_: &App) -> Self {
            let (events, queue) = mpsc::channel(QUEUE_MOST);
            Starve {
                events,
                queue: Mutex::new(Some(queue)),
            }
        }

        async fn handle(&self, app: &App, request: Request) -> u64 {
            let key = request.key();
            let _ = self.events.send(request.into_event()).await;
            cached_or_loaded(app, key).await
        }

        async fn refresh(&self, app: &App) {
            loop {
                tokio::time::sleep(REFRESH_EVERY).await;
                let recent = app.recent();
                let id = recent.id();
                let mut total: u64 = 0;
                // BROKEN: a plain loop of CPU work never returns Pending:
                // the thread runs nothing else until the ranking is done
                for item in recent {
                    total = total.wrapping_add(score(item));
                }
                app.publish(id, total);
            }
        }

        async fn audit(&self, app: &App) {
            let queue = self.queue.lock().unwrap().take();
            write_all(app, queue).await;
        }
    }
    // ANCHOR_END: broken_starve

    // ANCHOR: broken_queue
    /// A service whose audit queue has no bound.
    pub struct Queue {
        // BROKEN: nothing ever makes a handler wait for the auditor
        events: mpsc::UnboundedSender<AuditEvent>,
        queue: Mutex<Option<mpsc::UnboundedReceiver<AuditEvent>>>,
    }

    impl Service for Queue {
        fn start(_: &App) -> Self {
            let (events, queue) = mpsc::unbounded_channel();
            Queue {
                events,
                queue: Mutex::new(Some(queue)),
            }
        }

        async fn handle(&self, app: &App, request: Request) -> u64 {
            let key = request.key();
            let _ = self.events.send(request.into_event());
            cached_or_loaded(app, key).await
        }

        async fn refresh(&self, app: &App) {
            rank_off_thread(app).await;
        }

        async fn audit(&self, app: &App) {
            let Some(mut queue) = self.queue.lock().unwrap().take() else {
                return;
            };
            while let Some(event) = queue.recv().await {
                app.log().write(event).await;
            }
        }
    }
    // ANCHOR_END: broken_queue

    // ANCHOR: broken_lock
    /// A service that counts its hits and misses, under a lock.
    pub struct Lock {
        events: mpsc::Sender<AuditEvent>,
        queue: Mutex<Option<mpsc::Receiver<AuditEvent>>>,
        counts: Mutex<Counts>,
    }

    impl Service for Lock {
        fn start(_: &App) -> Self {
            let (events, queue) = mpsc::channel(QUEUE_MOST);
            Lock {
                events,
                queue: Mutex::new(Some(queue)),
                counts: Mutex::new(Counts::default()),
            }
        }

        #[expect(clippy::await_holding_lock)]
        async fn handle(&self, app: &App, request: Request) -> u64 {
            let key = request.key();
            let _ = self.events.send(request.into_event()).await;
            let mut counts = self.counts.lock().unwrap();
            match app.cache().get(key) {
                Some(value) => {
                    counts.hits += 1;
                    value
                }
                None => {
                    counts.misses += 1;
                    // BROKEN: the guard lives across the await: a handler
                    // that locks meanwhile blocks the only thread, and this
                    // one can never be polled again to unlock
                    let value = app.store().load(key).await;
                    app.cache().put(key, value);
                    value
                }
            }
        }

        async fn refresh(&self, app: &App) {
            rank_off_thread(app).await;
        }

        async fn audit(&self, app: &App) {
            let queue = self.queue.lock().unwrap().take();
            write_all(app, queue).await;
        }
    }
    // ANCHOR_END: broken_lock

    // ANCHOR: broken_lost
    /// A service with an audit queue of its own making: up to
    /// [`QUEUE_MOST`] events; a handler that finds it full waits for room.
    pub struct Lost {
        queue: OwnQueue,
    }

    impl Service for Lost {
        fn start(_: &App) -> Self {
            Lost {
                queue: OwnQueue::default(),
            }
        }

        async fn handle(&self, app: &App, request: Request) -> u64 {
            let key = request.key();
            self.queue.send(request.into_event()).await;
            cached_or_loaded(app, key).await
        }

        async fn refresh(&self, app: &App) {
            rank_off_thread(app).await;
        }

        async fn audit(&self, app: &App) {
            loop {
                let event = self.queue.recv().await;
                app.log().write(event).await;
            }
        }
    }

    #[derive(Default)]
    pub struct OwnQueue {
        state: Mutex<QueueState>,
    }

    #[derive(Default)]
    struct QueueState {
        events: std::collections::VecDeque<AuditEvent>,
        /// Who to wake when there is room again.
        sender: Option<Waker>,
        /// Who to wake when there is an event.
        receiver: Option<Waker>,
    }

    impl OwnQueue {
        pub fn send(&self, event: AuditEvent) -> SendEvent<'_> {
            SendEvent {
                queue: self,
                event: Some(event),
            }
        }

        pub fn recv(&self) -> RecvEvent<'_> {
            RecvEvent { queue: self }
        }
    }

    pub struct SendEvent<'a> {
        queue: &'a OwnQueue,
        event: Option<AuditEvent>,
    }

    impl Future for SendEvent<'_> {
        type Output = ();

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            let this = self.get_mut();
            let mut state = this.queue.state.lock().unwrap();
            if state.events.len() < QUEUE_MOST {
                state.events.extend(this.event.take());
                if let Some(receiver) = state.receiver.take() {
                    receiver.wake();
                }
                return Poll::Ready(());
            }
            // BROKEN: one slot for every waiting sender: a second sender's
            // waker takes the place of the first's, which nobody will wake
            state.sender = Some(cx.waker().clone());
            Poll::Pending
        }
    }

    pub struct RecvEvent<'a> {
        queue: &'a OwnQueue,
    }

    impl Future for RecvEvent<'_> {
        type Output = AuditEvent;

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<AuditEvent> {
            let mut state = self.queue.state.lock().unwrap();
            match state.events.pop_front() {
                Some(event) => {
                    if let Some(sender) = state.sender.take() {
                        sender.wake();
                    }
                    Poll::Ready(event)
                }
                None => {
                    state.receiver = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        }
    }
    // ANCHOR_END: broken_lost
}

pub mod fixed {
    use super::*;
    use tokio::sync::mpsc;

    // ANCHOR: fixed
    /// The service with none of the three faults: loads are awaited, the
    /// ranking is worked out on a blocking-pool thread, and the audit queue
    /// holds at most [`QUEUE_MOST`] events.
    pub struct Sound {
        // FIXED: bounded: a full queue makes the handler wait
        events: mpsc::Sender<AuditEvent>,
        queue: Mutex<Option<mpsc::Receiver<AuditEvent>>>,
    }

    impl Service for Sound {
        fn start(_: &App) -> Self {
            let (events, queue) = mpsc::channel(QUEUE_MOST);
            Sound {
                events,
                queue: Mutex::new(Some(queue)),
            }
        }

        async fn handle(&self, app: &App, request: Request) -> u64 {
            let key = request.key();
            let _ = self.events.send(request.into_event()).await;
            // FIXED: a miss awaits the store: the thread serves others
            cached_or_loaded(app, key).await
        }

        async fn refresh(&self, app: &App) {
            // FIXED: the CPU work runs on a blocking-pool thread
            rank_off_thread(app).await;
        }

        async fn audit(&self, app: &App) {
            let queue = self.queue.lock().unwrap().take();
            write_all(app, queue).await;
        }
    }
    // ANCHOR_END: fixed

    // ANCHOR: fixed_yield
    /// The same service, whose refresher stays on the runtime thread but
    /// gives it back every 16 items.
    pub struct Yielding(Sound);

    impl Service for Yielding {
        fn start(app: &App) -> Self {
            Yielding(Sound::start(app))
        }

        async fn handle(&self, app: &App, request: Request) -> u64 {
            self.0.handle(app, request).await
        }

        async fn refresh(&self, app: &App) {
            loop {
                tokio::time::sleep(REFRESH_EVERY).await;
                let recent = app.recent();
                let id = recent.id();
                let mut total: u64 = 0;
                for (i, item) in recent.enumerate() {
                    total = total.wrapping_add(score(item));
                    if i % 16 == 15 {
                        // FIXED: Pending once, so every other task gets a turn
                        tokio::task::yield_now().await;
                    }
                }
                app.publish(id, total);
            }
        }

        async fn audit(&self, app: &App) {
            self.0.audit(app).await;
        }
    }
    // ANCHOR_END: fixed_yield

    // ANCHOR: fixed_lock
    /// The service that counts its hits and misses, with the lock held only
    /// while it counts.
    pub struct Counted {
        sound: Sound,
        counts: Mutex<Counts>,
    }

    impl Service for Counted {
        fn start(app: &App) -> Self {
            Counted {
                sound: Sound::start(app),
                counts: Mutex::new(Counts::default()),
            }
        }

        async fn handle(&self, app: &App, request: Request) -> u64 {
            let key = request.key();
            let _ = self.sound.events.send(request.into_event()).await;
            let cached = app.cache().get(key);
            {
                let mut counts = self.counts.lock().unwrap();
                match cached {
                    Some(_) => counts.hits += 1,
                    None => counts.misses += 1,
                }
            } // FIXED: the guard is dropped here, before any await
            match cached {
                Some(value) => value,
                None => {
                    let value = app.store().load(key).await;
                    app.cache().put(key, value);
                    value
                }
            }
        }

        async fn refresh(&self, app: &App) {
            self.sound.refresh(app).await;
        }

        async fn audit(&self, app: &App) {
            self.sound.audit(app).await;
        }
    }
    // ANCHOR_END: fixed_lock

    // ANCHOR: fixed_lost
    /// The queue of its own making, which keeps the waker of every sender
    /// that waits.
    #[derive(Default)]
    pub struct KeptQueue {
        state: Mutex<KeptState>,
    }

    #[derive(Default)]
    struct KeptState {
        events: std::collections::VecDeque<AuditEvent>,
        // FIXED: every waiting sender's waker, in the order they came
        senders: std::collections::VecDeque<Waker>,
        receiver: Option<Waker>,
    }

    impl Future for SendKept<'_> {
        type Output = ();

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            let this = self.get_mut();
            let mut state = this.queue.state.lock().unwrap();
            if state.events.len() < QUEUE_MOST {
                state.events.extend(this.event.take());
                if let Some(receiver) = state.receiver.take() {
                    receiver.wake();
                }
                return Poll::Ready(());
            }
            // FIXED: kept beside the others, none replaced
            state.senders.push_back(cx.waker().clone());
            Poll::Pending
        }
    }

    impl Future for RecvKept<'_> {
        type Output = AuditEvent;

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<AuditEvent> {
            let mut state = self.queue.state.lock().unwrap();
            match state.events.pop_front() {
                Some(event) => {
                    // One place is free: the sender that waited longest
                    // takes it (if another got there first, it waits again)
                    if let Some(sender) = state.senders.pop_front() {
                        sender.wake();
                    }
                    Poll::Ready(event)
                }
                None => {
                    state.receiver = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        }
    }
    // ANCHOR_END: fixed_lost

    impl KeptQueue {
        pub fn send(&self, event: AuditEvent) -> SendKept<'_> {
            SendKept {
                queue: self,
                event: Some(event),
            }
        }

        pub fn recv(&self) -> RecvKept<'_> {
            RecvKept { queue: self }
        }
    }

    pub struct SendKept<'a> {
        queue: &'a KeptQueue,
        event: Option<AuditEvent>,
    }

    pub struct RecvKept<'a> {
        queue: &'a KeptQueue,
    }

    /// The service with the queue of its own making, fixed.
    pub struct Kept {
        queue: KeptQueue,
    }

    impl Service for Kept {
        fn start(_: &App) -> Self {
            Kept {
                queue: KeptQueue::default(),
            }
        }

        async fn handle(&self, app: &App, request: Request) -> u64 {
            let key = request.key();
            self.queue.send(request.into_event()).await;
            cached_or_loaded(app, key).await
        }

        async fn refresh(&self, app: &App) {
            rank_off_thread(app).await;
        }

        async fn audit(&self, app: &App) {
            loop {
                let event = self.queue.recv().await;
                app.log().write(event).await;
            }
        }
    }
}

pub mod solution {
    use super::*;
    use tokio::sync::mpsc;

    // ANCHOR: fixed_exercise
    /// The exercise's service, fixed: the helper that keeps the next key
    /// warm awaits the store instead of waiting for it with the thread.
    pub struct Shop {
        events: mpsc::Sender<AuditEvent>,
        queue: Mutex<Option<mpsc::Receiver<AuditEvent>>>,
    }

    impl Service for Shop {
        fn start(_: &App) -> Self {
            let (events, queue) = mpsc::channel(QUEUE_MOST);
            Shop {
                events,
                queue: Mutex::new(Some(queue)),
            }
        }

        async fn handle(&self, app: &App, request: Request) -> u64 {
            let key = request.key();
            let _ = self.events.send(request.into_event()).await;
            if let Some(value) = app.cache().get(key) {
                return value;
            }
            let value = app.store().load(key).await;
            app.cache().put(key, value);
            warm_neighbour(app, key).await; // FIXED: awaited
            value
        }

        async fn refresh(&self, app: &App) {
            rank_off_thread(app).await;
        }

        async fn audit(&self, app: &App) {
            let queue = self.queue.lock().unwrap().take();
            write_all(app, queue).await;
        }
    }

    /// Misses come in runs: keep the next key warm in the cache.
    async fn warm_neighbour(app: &App, key: u64) {
        let next = key + 1;
        if app.cache().get(next).is_none() {
            // FIXED: `load` returns Pending while the store works
            let value = app.store().load(next).await;
            app.cache().put(next, value);
        }
    }
    // ANCHOR_END: fixed_exercise
}

/// What a service may count under a lock: its hits and misses.
#[derive(Default, Debug)]
pub struct Counts {
    pub hits: u64,
    pub misses: u64,
}

/// A key's value from the cache, or, on a miss, awaited from the store
/// (and kept in the cache).
pub async fn cached_or_loaded(app: &App, key: u64) -> u64 {
    match app.cache().get(key) {
        Some(value) => value,
        None => {
            let value = app.store().load(key).await;
            app.cache().put(key, value);
            value
        }
    }
}

/// The refresher's loop, with each ranking worked out on tokio's blocking
/// pool.
pub async fn rank_off_thread(app: &App) {
    loop {
        tokio::time::sleep(REFRESH_EVERY).await;
        let recent = app.recent();
        let id = recent.id();
        let ranked = tokio::task::spawn_blocking(move || {
            recent.fold(0u64, |total, item| total.wrapping_add(score(item)))
        })
        .await;
        if let Ok(total) = ranked {
            app.publish(id, total);
        }
    }
}

/// The auditor's loop: every event from `queue` to the log, one by one.
pub async fn write_all(app: &App, queue: Option<tokio::sync::mpsc::Receiver<AuditEvent>>) {
    let Some(mut queue) = queue else { return };
    while let Some(event) = queue.recv().await {
        app.log().write(event).await;
    }
}

// -------------------------------------------------- the service kit --

/// What the service is given: its cache, its store, its log, and the
/// recent requests. Made by the harness; clones share one.
#[derive(Clone)]
pub struct App {
    shared: Arc<Shared>,
}

impl App {
    pub fn cache(&self) -> &Cache {
        &self.shared.cache
    }

    pub fn store(&self) -> &Store {
        &self.shared.store
    }

    pub fn log(&self) -> &Log {
        &self.shared.log
    }

    /// The requests seen since the last ranking, to rank: an iterator of
    /// 1,250 items, always ready, each [`score`]d in about 20 µs of CPU
    /// work (25 ms in all).
    pub fn recent(&self) -> Recent {
        let mut b = self.shared.lock();
        b.rankings_asked += 1;
        let id = b.rankings_asked;
        let salt = mix(b.salt ^ id);
        Recent {
            id: RankingId(id),
            next: 0,
            items: self.shared.recent_items,
            salt,
            rounds: self.shared.rounds,
            shared: self.shared.clone(),
        }
    }

    /// Publishes the ranking of the recent requests `id`: the sum of their
    /// scores.
    pub fn publish(&self, id: RankingId, total: u64) {
        let s = &self.shared;
        // Right only if every item was scored (an item cannot be copied, so
        // none twice) and the total is their scores' sum.
        let scored = s.scored.lock().unwrap().get(&id.0).copied();
        let sum = s.totals.lock().unwrap().get(&id.0).copied();
        let right = scored == Some(s.recent_items) && sum == Some(total);
        let mut b = s.lock();
        if right {
            b.rankings_right += 1;
        } else {
            b.rankings_wrong += 1;
        }
    }
}

/// Which ranking a [`Recent`] is for.
#[derive(Clone, Copy, Debug)]
pub struct RankingId(u64);

/// The recent requests, to rank: an iterator whose items are always ready.
pub struct Recent {
    id: RankingId,
    next: u64,
    items: u64,
    salt: u64,
    rounds: u64,
    shared: Arc<Shared>,
}

impl Recent {
    /// Which ranking these items are for: give it to [`App::publish`].
    pub fn id(&self) -> RankingId {
        self.id
    }
}

/// One recent request, to score.
pub struct Item {
    ranking: u64,
    index: u64,
    salt: u64,
    rounds: u64,
    shared: Arc<Shared>,
}

impl Iterator for Recent {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        if self.next == self.items {
            return None;
        }
        self.next += 1;
        Some(Item {
            ranking: self.id.0,
            index: self.next - 1,
            salt: self.salt,
            rounds: self.rounds,
            shared: self.shared.clone(),
        })
    }
}

/// An item's score: about 20 µs of CPU work, which depends on a salt made
/// at run time, so it cannot be known without doing it.
pub fn score(item: Item) -> u64 {
    let value = shared::work::cpu::hash_rounds(item.salt ^ mix(item.index), item.rounds);
    {
        let mut totals = item.shared.totals.lock().unwrap();
        let t = totals.entry(item.ranking).or_insert(0);
        *t = t.wrapping_add(value);
    }
    *item
        .shared
        .scored
        .lock()
        .unwrap()
        .entry(item.ranking)
        .or_insert(0) += 1;
    value
}

/// The service's cache: a key's value, if it is there. Quick: a lock held
/// for a lookup.
pub struct Cache {
    map: Mutex<HashMap<u64, u64>>,
    /// The store's salt: what every key's value is.
    salt: u64,
    /// Values put that were not the store's value for their key.
    wrong: AtomicU64,
}

impl Cache {
    pub fn get(&self, key: u64) -> Option<u64> {
        self.map.lock().unwrap().get(&key).copied()
    }

    pub fn put(&self, key: u64, value: u64) {
        if value != value_of(self.salt, key) {
            self.wrong.fetch_add(1, Ordering::Relaxed);
        }
        self.map.lock().unwrap().insert(key, value);
    }
}

/// The store behind the cache: every key's value, one [`LOAD`] away.
pub struct Store {
    salt: u64,
    loads: AtomicU64,
}

impl Store {
    /// Loads a key's value: waits a [`LOAD`] for the store's answer without
    /// holding the thread.
    pub async fn load(&self, key: u64) -> u64 {
        tokio::time::sleep(LOAD).await;
        self.answer(key)
    }

    /// The store's synchronous client: sends the request and waits for the
    /// answer (a [`LOAD`]) on the calling thread.
    pub fn fetch(&self, key: u64) -> u64 {
        std::thread::sleep(LOAD);
        self.answer(key)
    }

    fn answer(&self, key: u64) -> u64 {
        self.loads.fetch_add(1, Ordering::Relaxed);
        value_of(self.salt, key)
    }
}

fn value_of(salt: u64, key: u64) -> u64 {
    mix(salt ^ mix(key)) % 1_000_000_000
}

/// One request's audit event: made by the harness, counted alive until it
/// is dropped, wherever it is kept.
pub struct AuditEvent {
    inner: Alive<u64>,
}

/// The audit log: one [`WRITE`] per event, one at a time.
pub struct Log {
    census: Arc<Census>,
    written: AtomicU64,
    foreign: AtomicU64,
    writing: tokio::sync::Mutex<()>,
}

impl Log {
    /// Writes one event (a [`WRITE`] each; writes wait for each other).
    pub async fn write(&self, event: AuditEvent) {
        let _one_at_a_time = self.writing.lock().await;
        tokio::time::sleep(WRITE).await;
        if self.census.made_it(&event.inner) {
            self.written.fetch_add(1, Ordering::SeqCst);
        } else {
            self.foreign.fetch_add(1, Ordering::SeqCst);
        }
        let _ = *event.inner;
    }
}

/// One client's request: a key.
pub struct Request {
    key: u64,
    event: AuditEvent,
}

impl Request {
    pub fn key(&self) -> u64 {
        self.key
    }

    /// The request's audit event, for the log.
    pub fn into_event(self) -> AuditEvent {
        self.event
    }
}

/// The harness's record of one workload.
struct Book {
    salt: u64,
    rankings_asked: u64,
    rankings_right: u32,
    rankings_wrong: u32,
}

struct Shared {
    book: Mutex<Book>,
    cache: Cache,
    store: Store,
    log: Log,
    recent_items: u64,
    rounds: u64,
    /// Per ranking: the items scored, and their scores' sum.
    scored: Mutex<HashMap<u64, u64>>,
    totals: Mutex<HashMap<u64, u64>>,
    /// The clients' thread, for its waits for a core (0 until known).
    client_tid: AtomicU64,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|e| e.into_inner())
    }
}

// ----------------------------------------------------- the monitors --

/// The kinds of task the service runs, each with its own monitor.
pub const KINDS: [&str; 6] = [
    "accept",
    "handler",
    "refresher",
    "auditor",
    "reporter",
    "cleanup",
];

/// The kinds that run the service's own code.
pub const SERVICE_KINDS: [&str; 3] = ["handler", "refresher", "auditor"];

/// A tokio-metrics `TaskMonitor` and a [`Longest`] poll for each kind of
/// task.
#[derive(Clone)]
pub struct Monitors {
    pub kinds: Vec<(&'static str, TaskMonitor, Longest)>,
}

/// The longest time one poll held its thread by its own doing: the CPU
/// time it took, and the time it slept in a blocking call (its wall time
/// less its CPU time and its time waiting for a core, if it gave up its
/// core of its own accord). A busy machine does not stretch it. Clones
/// share one.
#[derive(Clone, Default)]
pub struct Longest {
    ns: Arc<AtomicU64>,
    /// Each poll's own time beyond its first [`SPELL`], summed.
    spells_ns: Arc<AtomicU64>,
}

impl Longest {
    pub fn get(&self) -> Duration {
        Duration::from_nanos(self.ns.load(Ordering::Relaxed))
    }

    /// The polls' own time beyond their first [`SPELL`], summed.
    pub fn in_spells(&self) -> Duration {
        Duration::from_nanos(self.spells_ns.load(Ordering::Relaxed))
    }

    fn wrap<F: Future>(&self, fut: F) -> Timed<F> {
        Timed {
            inner: Box::pin(fut),
            longest: self.clone(),
        }
    }
}

/// A future whose every poll is timed into a [`Longest`].
struct Timed<F> {
    inner: std::pin::Pin<Box<F>>,
    longest: Longest,
}

impl<F: Future> Future for Timed<F> {
    type Output = F::Output;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        let (at, t0) = (Instant::now(), SchedTimes::now());
        let out = self.inner.as_mut().poll(cx);
        let (wall, t) = (at.elapsed(), SchedTimes::now());
        // Its own doing: the CPU time it took, and the time it slept.
        let own = if t.known {
            t.running.saturating_sub(t0.running) + t.asleep_since(&t0, wall)
        } else {
            wall
        };
        self.longest
            .ns
            .fetch_max(own.as_nanos() as u64, Ordering::Relaxed);
        self.longest.spells_ns.fetch_add(
            own.saturating_sub(SPELL).as_nanos() as u64,
            Ordering::Relaxed,
        );
        out
    }
}

impl Default for Monitors {
    fn default() -> Self {
        Monitors::new()
    }
}

impl Monitors {
    pub fn new() -> Monitors {
        // ANCHOR: monitor
        Monitors {
            kinds: KINDS
                .iter()
                .map(|k| {
                    let mut b = TaskMonitor::builder();
                    b.with_slow_poll_threshold(SLOW)
                        .with_long_delay_threshold(SLOW);
                    (*k, b.build(), Longest::default())
                })
                .collect(),
        }
        // ANCHOR_END: monitor
    }

    fn of(&self, kind: &str) -> &(&'static str, TaskMonitor, Longest) {
        self.kinds
            .iter()
            .find(|(k, _, _)| *k == kind)
            .expect("a known kind")
    }

    /// A kind's metrics so far.
    pub fn metrics(&self, kind: &str) -> TaskMetrics {
        self.of(kind).1.cumulative()
    }

    /// A kind's longest poll, by its own doing.
    pub fn longest(&self, kind: &str) -> Duration {
        self.of(kind).2.get()
    }

    /// Spawns `fut` as a task of `kind`: monitored, timed, and traced.
    fn spawn<F>(&self, kind: &str, label: String, fut: F) -> tokio::task::JoinHandle<()>
    where
        F: Future<Output = ()> + 'static,
    {
        let (_, monitor, longest) = self.of(kind);
        // ANCHOR: instrument
        tokio::task::spawn_local(
            monitor.instrument(longest.wrap(fut.traced(label).cancelled_quietly())),
        )
        // ANCHOR_END: instrument
    }

    /// The table `--metrics` prints: one row per kind.
    pub fn table(&self) -> String {
        let ms = |d: Duration| format!("{:.2}", d.as_secs_f64() * 1000.0);
        let mut out = format!(
            "Task monitors (tokio-metrics TaskMonitor, one per kind; slow poll and long delay: over {} ms)\n",
            SLOW.as_millis()
        );
        out.push_str(&format!(
            "  {:<10} {:>5} {:>6} {:>10} {:>11} {:>10} {:>14} {:>11} {:>10}\n",
            "kind",
            "tasks",
            "polls",
            "slow polls",
            "slow-poll %",
            "mean poll",
            "mean scheduled",
            "long delays",
            "mean idle"
        ));
        for (kind, monitor, _) in &self.kinds {
            let m = monitor.cumulative();
            out.push_str(&format!(
                "  {:<10} {:>5} {:>6} {:>10} {:>11} {:>10} {:>14} {:>11} {:>10}\n",
                kind,
                m.instrumented_count,
                m.total_poll_count,
                m.total_slow_poll_count,
                format!("{:.1}", m.slow_poll_ratio() * 100.0),
                format!("{} ms", ms(m.mean_poll_duration())),
                format!("{} ms", ms(m.mean_scheduled_duration())),
                m.total_long_delay_count,
                format!("{} ms", ms(m.mean_idle_duration())),
            ));
        }
        out
    }
}

// ----------------------------------------------------- the scenarios --

/// The facts every scenario measures: the same harness, the same service,
/// a different hidden fault.
pub const FACTS: &[FactSpec] = &[
    fact(
        "hit_p99",
        "the 99th percentile of the time a request answered from the cache took, from when it was due, in the steady workload, in loads (20 ms)",
    )
    .timing(),
    fact(
        "slow_hits",
        "the share of requests answered from the cache that took more than half a load (10 ms), in the steady workload, each less the time the runtime thread waited for a core while the service had the request and the clients' thread while the client had its answer (where the system does not count it, the latency as seen)",
    )
    .timing(),
    fact(
        "longest_poll",
        "the longest time one poll of the service's tasks (handlers, refresher, auditor) held its thread by its own doing (CPU work, or asleep in a blocking call), in loads",
    )
    .timing(),
    fact(
        "thread_asleep",
        "the longest time the runtime thread slept inside its work between two of its rests (a blocking call in any task on it, the harness's or one the service spawned itself), in loads",
    )
    .timing(),
    fact(
        "held_in_spells",
        "the time past 1 ms of each poll of the service's tasks (computing or asleep), or, if larger, of each sleep of the runtime thread inside its work (in any task), summed over the steady workload, in loads: a wait cut into short spells adds up",
    )
    .timing(),
    fact(
        "slow_polls",
        "polls of the service's tasks that the task monitors counted slow (10 ms or more), over the workloads",
    )
    .timing(),
    fact(
        "lost_requests",
        "requests the clients gave up on, unanswered after 1.5 s (a client then closes its connection), over the workloads",
    )
    .timing(),
    fact(
        "service_stuck",
        "workloads after which the service's runtime thread never ended: 2.5 s after the clients were done, no poll of any task had ended",
    )
    .timing(),
    fact(
        "handlers_left",
        "handler tasks started and never ended, though every client had hung up 0.5 s before, the workload with the most",
    )
    .timing(),
    fact(
        "events_held",
        "the most audit events alive at once (in the queue or anywhere else), in the burst",
    ),
    fact(
        "events_unwritten",
        "audit events made and never written to the log, over the workloads",
    ),
    fact(
        "wrong_answers",
        "requests answered with a wrong value, or not answered, over the workloads",
    ),
    fact(
        "cache_wrong",
        "values put into the cache that were not the store's value for their key, over the workloads (whether or not a later request asked for them)",
    ),
    fact(
        "threads_started",
        "threads started during a workload by the service's code or a runtime it built (not the harness's, nor its runtime's blocking pool), seen every 2 ms, the workload with the most",
    ),
    fact(
        "threads_left",
        "threads the service's code (or a runtime it built) started that were still running after a workload ended and everything the harness started had stopped, the workload with the most",
    )
    .timing(),
    fact(
        "rankings",
        "rankings published right, over the workloads (one is due 60 ms after the one before)",
    )
    .timing(),
    fact(
        "rankings_wrong",
        "rankings published that were not the sum of every recent request's score, over the workloads",
    ),
];

pub static BLOCKING: Spec = Spec {
    name: "blocking",
    facts: FACTS,
};

pub static STARVE: Spec = Spec {
    name: "starve",
    facts: FACTS,
};

pub static QUEUE: Spec = Spec {
    name: "queue",
    facts: FACTS,
};

pub static LOCK: Spec = Spec {
    name: "lock",
    facts: FACTS,
};

pub static LOST: Spec = Spec {
    name: "lost",
    facts: FACTS,
};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// One workload.
#[derive(Clone, Debug)]
pub struct Shape {
    pub name: String,
    /// How many connections the clients open.
    pub connections: u32,
    /// Steady: requests every `gap` (spread over the connections), one in
    /// `miss_every` a miss; burst: `per_connection` requests back to back.
    pub steady: bool,
    pub requests: u32,
    gap: Duration,
    miss_every: u32,
    salt: u64,
}

impl Shape {
    pub fn steady(rng: &mut Rng) -> Shape {
        let connections = rng.between(8, 12) as u32;
        let requests = rng.between(170, 210) as u32;
        let gap = Duration::from_micros(rng.between(1800, 2200));
        let miss_every = rng.between(15, 20) as u32;
        Shape {
            name: format!(
                "{requests} requests over {connections} connections, one every {:.1} ms, about one in {miss_every} a cache miss",
                gap.as_secs_f64() * 1000.0
            ),
            connections,
            steady: true,
            requests,
            gap,
            miss_every,
            salt: rng.salt(),
        }
    }

    pub fn burst(rng: &mut Rng) -> Shape {
        let connections = rng.between(8, 12) as u32;
        let per = rng.between(24, 30) as u32;
        Shape {
            name: format!(
                "a burst: {connections} connections each send {per} requests back to back, all cache hits"
            ),
            connections,
            steady: false,
            requests: connections * per,
            gap: Duration::ZERO,
            miss_every: 0,
            salt: rng.salt(),
        }
    }
}

/// This run's two workloads, drawn from `rng`.
pub fn shapes(rng: &mut Rng) -> Vec<Shape> {
    vec![Shape::steady(rng), Shape::burst(rng)]
}

/// Keys 0..HOT are in the cache from the start.
const HOT: u64 = 64;
/// How long a client waits for an answer before it gives up.
const GIVE_UP: Duration = Duration::from_millis(1500);
/// How long the harness waits for the log to catch up once the clients are
/// done.
const DRAIN: Duration = Duration::from_millis(1500);
/// How many recent requests a ranking has: 25 ms of CPU work.
const RECENT_ITEMS: u64 = 1250;
const ITEM_COST: Duration = Duration::from_micros(20);

/// What one workload measured.
#[derive(Clone, Debug, Default)]
pub struct Measured {
    /// The hits' 99th percentile, as the user sees it (waits for a core
    /// included).
    pub hit_p99: f64,
    /// Of the hits, the share over half a load, each less the time the
    /// runtime thread waited for a core while the service had the request,
    /// and the clients' thread while the client had its answer.
    pub slow_hits: f64,
    /// The same share, of the latencies as the user sees them.
    pub slow_hits_plain: f64,
    /// Whether the threads' waits for a core were known (else `slow_hits`
    /// is of the plain latencies).
    pub waits_known: bool,
    pub hits: usize,
    pub answered: u32,
    pub wrong: u32,
    /// Requests the clients gave up on: no answer in [`GIVE_UP`].
    pub lost: u32,
    /// Handler tasks started and not ended once every client had hung up.
    pub handlers_left: u64,
    /// If the service's thread never ended: how it was stuck.
    pub stuck: Option<Stuck>,
    pub events_made: u64,
    pub events_held: u64,
    pub events_unwritten: u64,
    pub rankings_right: u32,
    pub rankings_wrong: u32,
    /// The longest the runtime thread slept inside its work between two
    /// rests, in loads.
    pub thread_asleep: f64,
    /// The service's polls' own time beyond their first [`SPELL`], or the
    /// runtime thread's sleeps inside its work beyond theirs, summed over
    /// the workload (the larger), in loads.
    pub held_in_spells: f64,
    /// Values put into the cache that were not the store's.
    pub cache_wrong: u64,
    /// Threads the service's code started during the workload, and those
    /// still running after it.
    pub threads_started: usize,
    pub threads_left: usize,
    /// The auditor's polls once the clients were done.
    pub auditor_polls_after: u64,
    pub elapsed: Duration,
}

/// One client's record of its requests.
#[derive(Default)]
struct ClientRecord {
    /// As the client saw them.
    hit_latencies: Vec<Duration>,
    /// Less the threads' waits for a core while each had the request.
    hit_latencies_own: Vec<Duration>,
    answered: u32,
    wrong: u32,
    lost: u32,
    waits_known: bool,
    /// Some hit's waits could not be read.
    waits_unknown: bool,
}

/// The time two threads have waited for a core, runnable (the second field
/// of Linux's `schedstat`, in ns): the runtime thread's and the calling
/// thread's (the clients').
struct Waits {
    runtime: SchedStatFile,
    client: SchedStatFile,
}

impl Waits {
    fn open(runtime_tid: Option<u64>) -> Option<Waits> {
        Some(Waits {
            runtime: SchedStatFile::of_thread(runtime_tid?)?,
            client: SchedStatFile::of_this_thread()?,
        })
    }

    /// Both threads' waits so far.
    fn now(&self) -> Option<(Duration, Duration)> {
        Some((self.runtime.read()?.waited, self.client.read()?.waited))
    }
}

/// Runs the service `S` under one workload: a current-thread runtime of its
/// own for the service, on a thread of its own, and a thread with a runtime
/// of its own for the clients.
fn measure_one(start: Start, shape: &Shape, monitors: &Monitors) -> Measured {
    // The runtime thread's work between two rests, watched through its
    // park hooks: whatever task blocks it, spawned by the harness or not.
    let rests = Arc::new(Rests::default());
    let polls_in_spells = || -> Duration {
        SERVICE_KINDS
            .iter()
            .map(|k| monitors.of(k).2.in_spells())
            .sum()
    };
    let polls_before = polls_in_spells();
    // Handlers of an earlier workload that never ended are not this one's.
    let handlers_alive = || {
        let h = monitors.metrics("handler");
        h.instrumented_count - h.dropped_count
    };
    let left_before = handlers_alive();
    let threads = Threads::watch();
    let census = Census::new();
    let shared = Arc::new(Shared {
        book: Mutex::new(Book {
            salt: shape.salt,
            rankings_asked: 0,
            rankings_right: 0,
            rankings_wrong: 0,
        }),
        cache: Cache {
            map: Mutex::new((0..HOT).map(|k| (k, value_of(shape.salt, k))).collect()),
            salt: shape.salt,
            wrong: AtomicU64::new(0),
        },
        store: Store {
            salt: shape.salt,
            loads: AtomicU64::new(0),
        },
        log: Log {
            census: Arc::new(census),
            written: AtomicU64::new(0),
            foreign: AtomicU64::new(0),
            writing: tokio::sync::Mutex::new(()),
        },
        recent_items: RECENT_ITEMS,
        rounds: shared::work::cpu::calibration().rounds_for(ITEM_COST),
        scored: Mutex::new(HashMap::new()),
        totals: Mutex::new(HashMap::new()),
        client_tid: AtomicU64::new(0),
    });
    let app = App {
        shared: shared.clone(),
    };
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port on 127.0.0.1");
    std_listener
        .set_nonblocking(true)
        .expect("a listener can be non-blocking");
    let addr = std_listener.local_addr().expect("a bound address");
    let clients_done = Arc::new(tokio::sync::Notify::new());
    let started = Instant::now();
    // The service's runtime runs on a thread of its own, so that a service
    // that deadlocks its thread does not stop the harness: the harness
    // waits for it a while, then measures how it is stuck.
    let (tid_tx, tid_rx) = std::sync::mpsc::channel::<Option<u64>>();
    let (end_tx, end_rx) = std::sync::mpsc::channel::<(u64, u64)>();
    let service_thread = {
        let (rests, ours) = (rests.clone(), threads.ours.clone());
        let (monitors, app, shared) = (monitors.clone(), app.clone(), shared.clone());
        let clients_done = clients_done.clone();
        std::thread::Builder::new()
            .name("service".into())
            .spawn(move || {
                Threads::ours_too(&ours);
                let _ = tid_tx.send(this_thread_id());
                let runtime = {
                    let (parked, unparked) = (rests.clone(), rests.clone());
                    tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .on_thread_start(move || Threads::ours_too(&ours))
                        .on_thread_park(move || parked.rest())
                        .on_thread_unpark(move || unparked.wake())
                        .build()
                        .expect("a current-thread runtime builds")
                };
                rests.wake();
                let local = tokio::task::LocalSet::new();
                let ends = runtime.block_on(local.run_until(serve(
                    start,
                    app,
                    shared,
                    monitors,
                    std_listener,
                    clients_done,
                    left_before,
                )));
                // Every task still in the runtime is dropped; a thread
                // blocked in the piece is not waited for long.
                drop(local);
                runtime.shutdown_timeout(ms(200));
                let _ = end_tx.send(ends);
            })
            .expect("a thread for the service")
    };
    let runtime_tid = tid_rx.recv().ok().flatten();
    let clients = {
        let (shape, shared) = (shape.clone(), shared.clone());
        let ours = threads.ours.clone();
        std::thread::Builder::new()
            .name("clients".into())
            .spawn(move || {
                Threads::ours_too(&ours);
                if let Some(tid) = this_thread_id() {
                    shared.client_tid.store(tid, Ordering::SeqCst);
                }
                run_clients(addr, &shape, runtime_tid)
            })
            .expect("a thread for the clients")
    };
    let record = clients.join().expect("the clients do not panic");
    clients_done.notify_one();
    let all_polls = || -> u64 {
        KINDS
            .iter()
            .map(|k| monitors.metrics(k).total_poll_count)
            .sum()
    };
    let (polls_then, cpu_then) = (all_polls(), runtime_tid.and_then(thread_run_time));
    let (auditor_polls_after, handlers_left, stuck) = match end_rx.recv_timeout(DRAIN + STUCK) {
        Ok((after, left)) => {
            let _ = service_thread.join();
            (after, left, None)
        }
        Err(_) => {
            // Still not done: stuck inside a poll. It cannot be ended alone;
            // it stays blocked, using nothing, until the process ends.
            let stuck = Stuck {
                polls: all_polls() - polls_then,
                cpu: match (cpu_then, runtime_tid.and_then(thread_run_time)) {
                    (Some(a), Some(b)) => Some(b.saturating_sub(a)),
                    _ => None,
                },
                state: runtime_tid.and_then(thread_state),
                waited: DRAIN + STUCK,
            };
            (0, handlers_alive() - left_before, Some(stuck))
        }
    };
    let (threads_started, threads_left) = threads.count();
    let b = shared.lock();
    let mut plain = record.hit_latencies.clone();
    plain.sort();
    let p99 = if plain.is_empty() {
        Duration::ZERO
    } else {
        plain[((plain.len() as f64 * 0.99).ceil() as usize).clamp(1, plain.len()) - 1]
    };
    let hits = &record.hit_latencies_own;
    let made = shared.log.census.made();
    Measured {
        hit_p99: p99.as_secs_f64() / LOAD.as_secs_f64(),
        slow_hits: if hits.is_empty() {
            0.0
        } else {
            hits.iter().filter(|h| **h > LOAD / 2).count() as f64 / hits.len() as f64
        },
        slow_hits_plain: if plain.is_empty() {
            0.0
        } else {
            plain.iter().filter(|h| **h > LOAD / 2).count() as f64 / plain.len() as f64
        },
        waits_known: record.waits_known,
        hits: hits.len(),
        answered: record.answered,
        wrong: record.wrong
            + shape
                .requests
                .saturating_sub(record.answered + record.wrong),
        lost: record.lost,
        handlers_left,
        stuck,
        events_made: made,
        events_held: shared.log.census.most(),
        events_unwritten: made.saturating_sub(shared.log.written.load(Ordering::SeqCst)),
        rankings_right: b.rankings_right,
        rankings_wrong: b.rankings_wrong,
        thread_asleep: rests.longest_asleep().as_secs_f64() / LOAD.as_secs_f64(),
        held_in_spells: rests
            .in_spells()
            .max(polls_in_spells().saturating_sub(polls_before))
            .as_secs_f64()
            / LOAD.as_secs_f64(),
        cache_wrong: shared.cache.wrong.load(Ordering::Relaxed),
        threads_started,
        threads_left,
        auditor_polls_after,
        elapsed: started.elapsed(),
    }
}

/// How long the harness waits, past the time it gives the log to catch up,
/// for the service's thread to end before it counts it stuck.
const STUCK: Duration = Duration::from_millis(1000);

/// How a service's thread that never ended was stuck, over the time the
/// harness waited for it once the clients were done.
#[derive(Clone, Debug)]
pub struct Stuck {
    /// The polls of every kind of task that ended meanwhile (the monitors'
    /// counts, which grow as each poll returns).
    pub polls: u64,
    /// The runtime thread's time on a core meanwhile (from
    /// `/proc/self/task/<tid>/schedstat`), where the system counts it.
    pub cpu: Option<Duration>,
    /// The runtime thread's state then (`/proc/self/task/<tid>/stat`): `S`
    /// asleep, `R` running or runnable.
    pub state: Option<char>,
    pub waited: Duration,
}

/// The service's tasks, on its own runtime thread, until the clients are
/// done and the log has caught up: returns the auditor's polls after the
/// clients were done, and the handler tasks then started and not ended.
async fn serve(
    start: Start,
    app: App,
    shared: Arc<Shared>,
    monitors: Monitors,
    std_listener: std::net::TcpListener,
    clients_done: Arc<tokio::sync::Notify>,
    left_before: u64,
) -> (u64, u64) {
    let service = start(&app);
    let mut tasks = Vec::new();
    {
        let (service, app) = (service.clone(), app.clone());
        tasks.push(monitors.spawn("refresher", "refresher".into(), async move {
            service.refresh_boxed(&app).await;
        }));
    }
    {
        let (service, app) = (service.clone(), app.clone());
        tasks.push(monitors.spawn("auditor", "auditor".into(), async move {
            service.audit_boxed(&app).await;
        }));
    }
    tasks.push(monitors.spawn("reporter", "reporter".into(), {
        let shared = shared.clone();
        async move {
            let mut every = tokio::time::interval(ms(10));
            loop {
                every.tick().await;
                // A report: how much the store and the log have done.
                let _ = shared.store.loads.load(Ordering::Relaxed)
                    + shared.log.written.load(Ordering::Relaxed);
            }
        }
    }));
    tasks.push(monitors.spawn("cleanup", "cleanup".into(), {
        let shared = shared.clone();
        async move {
            let mut every = tokio::time::interval(ms(25));
            loop {
                every.tick().await;
                // Drops the misses' keys: the cache keeps its hot keys.
                shared.cache.map.lock().unwrap().retain(|k, _| *k < HOT * 4);
            }
        }
    }));
    let listener =
        tokio::net::TcpListener::from_std(std_listener).expect("a tokio listener from a std one");
    {
        let (service, app, monitors2) = (service.clone(), app.clone(), monitors.clone());
        let census = shared.log.census.clone();
        tasks.push(monitors.spawn("accept", "accept".into(), async move {
            let mut n = 0u32;
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                n += 1;
                let (service, app, census) = (service.clone(), app.clone(), census.clone());
                monitors2.spawn(
                    "handler",
                    format!("handler {n}"),
                    connection(stream, service, app, census),
                );
            }
        }));
    }
    clients_done.notified().await;
    let auditor_at_end = monitors.metrics("auditor").total_poll_count;
    // Waits for the log to catch up with the events made.
    let drain = Instant::now();
    while shared.log.written.load(Ordering::SeqCst) + shared.log.foreign.load(Ordering::SeqCst)
        < shared.log.census.made()
        && drain.elapsed() < DRAIN
    {
        tokio::time::sleep(ms(5)).await;
    }
    // Every client has hung up: each handler ends once it reads that.
    let left = || {
        let h = monitors.metrics("handler");
        (h.instrumented_count - h.dropped_count).saturating_sub(left_before)
    };
    let hung_up = Instant::now();
    while left() > 0 && hung_up.elapsed() < HANG_UP {
        tokio::time::sleep(ms(5)).await;
    }
    let handlers_left = left();
    for t in &tasks {
        t.abort();
    }
    (
        monitors.metrics("auditor").total_poll_count - auditor_at_end,
        handlers_left,
    )
}

/// How long handlers have, once every client has hung up, to see it and
/// end.
const HANG_UP: Duration = Duration::from_millis(500);

/// A thread's time on a core (see [`SchedStat`]).
fn thread_run_time(tid: u64) -> Option<Duration> {
    Some(SchedStat::of_thread(tid)?.ran)
}

/// A thread's state, from `/proc/self/task/<tid>/stat` (the field after
/// its name, which ends with the last `)`).
fn thread_state(tid: u64) -> Option<char> {
    let text = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).ok()?;
    text[text.rfind(')')? + 1..].trim_start().chars().next()
}

/// A poll, or a stretch of the runtime thread's sleep inside its work, up
/// to this long is not counted in `held_in_spells`: a poll of the service
/// takes far less (a slice of a ranking, 16 items, a third of it); a
/// request waiting behind one this long is not late.
pub const SPELL: Duration = Duration::from_millis(1);

/// The runtime thread's stretches of work between two rests: how long it
/// slept inside one of them of its own accord (a blocking call, in any task
/// on the thread). See [`SchedTimes::asleep_since`]: being paused by a busy
/// machine is waiting, not sleeping, so it is left out.
#[derive(Default)]
struct Rests {
    /// When the current stretch began, and the thread's times then.
    began: Mutex<Option<(Instant, SchedTimes)>>,
    longest_asleep_ns: AtomicU64,
    /// Over the workload: each stretch's time asleep beyond its first
    /// [`SPELL`], summed.
    in_spells_ns: AtomicU64,
}

impl Rests {
    /// The thread starts working.
    fn wake(&self) {
        *self.began.lock().unwrap() = Some((Instant::now(), SchedTimes::now()));
    }

    /// The thread is about to rest.
    fn rest(&self) {
        let Some((at, t0)) = self.began.lock().unwrap().take() else {
            return;
        };
        let asleep = SchedTimes::now().asleep_since(&t0, at.elapsed());
        self.longest_asleep_ns
            .fetch_max(asleep.as_nanos() as u64, Ordering::Relaxed);
        self.in_spells_ns.fetch_add(
            asleep.saturating_sub(SPELL).as_nanos() as u64,
            Ordering::Relaxed,
        );
    }

    fn in_spells(&self) -> Duration {
        Duration::from_nanos(self.in_spells_ns.load(Ordering::Relaxed))
    }

    fn longest_asleep(&self) -> Duration {
        Duration::from_nanos(self.longest_asleep_ns.load(Ordering::Relaxed))
    }
}

/// The threads of this process that the service's own code starts during a
/// workload: every thread seen (sampled every 2 ms, so a thread that lives
/// a few milliseconds is seen) that was not there before, less the
/// harness's own (the clients, the sampler, and the blocking pool of the
/// runtime the harness built, which says so as each thread starts).
struct Threads {
    before: Option<Vec<u64>>,
    ours: Arc<Mutex<Vec<u64>>>,
    seen: Arc<Mutex<std::collections::HashSet<u64>>>,
    stop: Arc<AtomicBool>,
    sampler: Option<std::thread::JoinHandle<()>>,
}

impl Threads {
    /// Starts watching: call before the harness starts any thread.
    fn watch() -> Threads {
        let before = thread_ids();
        let ours = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::new(Mutex::new(std::collections::HashSet::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let sampler = before.as_ref().and_then(|_| {
            let (ours, seen, stop) = (ours.clone(), seen.clone(), stop.clone());
            std::thread::Builder::new()
                .name("thread-census".into())
                .spawn(move || {
                    Threads::ours_too(&ours);
                    while !stop.load(Ordering::SeqCst) {
                        if let Some(ids) = thread_ids() {
                            seen.lock().unwrap().extend(ids);
                        }
                        std::thread::sleep(ms(2));
                    }
                })
                .ok()
        });
        Threads {
            before,
            ours,
            seen,
            stop,
            sampler,
        }
    }

    /// Counts the calling thread as the harness's.
    fn ours_too(ours: &Mutex<Vec<u64>>) {
        if let Some(id) = this_thread_id() {
            ours.lock().unwrap_or_else(|e| e.into_inner()).push(id);
        }
    }

    fn foreign(&self, ids: impl IntoIterator<Item = u64>) -> usize {
        let Some(before) = &self.before else { return 0 };
        let ours = self.ours.lock().unwrap_or_else(|e| e.into_inner());
        ids.into_iter()
            .filter(|t| !before.contains(t) && !ours.contains(t))
            .count()
    }

    /// Once the workload is over and everything the harness started has
    /// stopped: the service's threads started during it, and those still
    /// running once threads that are ending have had [`THREADS_END`] to end.
    fn count(mut self) -> (usize, usize) {
        if let Some(ids) = thread_ids() {
            self.seen.lock().unwrap().extend(ids);
        }
        self.stop.store(true, Ordering::SeqCst);
        if let Some(s) = self.sampler.take() {
            let _ = s.join();
        }
        let seen: Vec<u64> = self.seen.lock().unwrap().iter().copied().collect();
        let started = self.foreign(seen);
        let since = Instant::now();
        let left = loop {
            let left = self.foreign(thread_ids().unwrap_or_default());
            if left == 0 || since.elapsed() >= THREADS_END {
                break left;
            }
            std::thread::sleep(ms(5));
        };
        (started, left)
    }
}

/// How long threads that are ending have to end before they count as left
/// running.
const THREADS_END: Duration = Duration::from_millis(500);

/// This thread's time on a core, and its time runnable but waiting for one,
/// as the operating system counts them (`/proc/thread-self/schedstat` on
/// Linux; elsewhere unknown, and nothing is counted).
#[derive(Clone, Copy, Default)]
struct SchedTimes {
    running: Duration,
    waiting: Duration,
    /// Times the thread gave up its core of its own accord.
    switches: u64,
    known: bool,
}

impl SchedTimes {
    /// The time the thread slept of its own accord since `before`, over
    /// `wall`: the wall time less its CPU time and its time waiting for a
    /// core, counted only if it gave up its core of its own accord (a
    /// virtual machine whose host is busy also stops the thread, without
    /// its giving up anything).
    fn asleep_since(&self, before: &SchedTimes, wall: Duration) -> Duration {
        if !self.known || self.switches == before.switches {
            return Duration::ZERO;
        }
        wall.saturating_sub(self.running.saturating_sub(before.running))
            .saturating_sub(self.waiting.saturating_sub(before.waiting))
    }
}

impl SchedTimes {
    fn now() -> SchedTimes {
        thread_local! {
            static FILE: Option<SchedStatFile> = SchedStatFile::of_this_thread();
        }
        // The file's time on a core is brought up to date only at the
        // scheduler's ticks; the thread's CPU clock is exact.
        let stat = FILE.with(|file| file.as_ref().and_then(SchedStatFile::read));
        match (sched::thread_cpu_time(), stat, sched::voluntary_switches()) {
            (Some(running), Some(stat), Some(switches)) => SchedTimes {
                running,
                waiting: stat.waited,
                switches,
                known: true,
            },
            _ => SchedTimes::default(),
        }
    }
}

/// One connection's handler: reads each request (a key, one a line),
/// hands it to the service, writes the answer.
async fn connection(
    stream: tokio::net::TcpStream,
    service: Arc<dyn Served + Send + Sync>,
    app: App,
    census: Arc<Census>,
) {
    let (read, mut write) = stream.into_split();
    let mut lines = tokio::io::BufReader::new(read).lines();
    // The clients' thread's waits for a core, read as each answer goes out.
    let client = match app.shared.client_tid.load(Ordering::SeqCst) {
        0 => None,
        tid => SchedStatFile::of_thread(tid),
    };
    let stamp = |d: Option<Duration>| d.map_or("-".to_string(), |d| d.as_nanos().to_string());
    while let Ok(Some(line)) = lines.next_line().await {
        let Ok(key) = line.trim().parse::<u64>() else {
            break;
        };
        let request = Request {
            key,
            event: AuditEvent {
                inner: census.make(key),
            },
        };
        let value = service.handle_boxed(&app, request).await;
        // The answer, with both threads' waits for a core so far: the
        // runtime thread's (this one) and the clients'.
        let (runtime_waited, client_waited) = (
            SchedTimes::now().known.then(|| SchedTimes::now().waiting),
            client
                .as_ref()
                .and_then(SchedStatFile::read)
                .map(|s| s.waited),
        );
        if write
            .write_all(
                format!(
                    "{value} {} {}\n",
                    stamp(runtime_waited),
                    stamp(client_waited)
                )
                .as_bytes(),
            )
            .await
            .is_err()
        {
            break;
        }
    }
}

/// The clients: each connection sends its requests in turn, each once it
/// is due and the answer before it is in, and checks each answer.
///
/// Each hit's latency is also kept less the time the machine kept the
/// request waiting: the clients' thread's waits for a core while it sent
/// the request, the runtime thread's from then until the answer went out
/// (the service had it), and the clients' thread's from then until the
/// answer was read (the client had it). A thread's wait while the request was in the other's hands did
/// not hold it up, so neither the larger of the two waits nor their sum
/// over the whole request is right: the sum counts twice a moment when
/// both waited, the larger leaves out a wait of each in turn.
fn run_clients(
    addr: std::net::SocketAddr,
    shape: &Shape,
    runtime_tid: Option<u64>,
) -> ClientRecord {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime builds");
    let mut rng = Rng::new(shape.salt ^ 0x5eed);
    // Each connection's requests: (due after the start, key).
    let mut plans: Vec<Vec<(Duration, u64)>> = vec![Vec::new(); shape.connections as usize];
    let offset = rng.between(0, u64::from(shape.miss_every.max(1)) - 1);
    for i in 0..shape.requests {
        let c = (i % shape.connections) as usize;
        let miss = shape.steady && u64::from(i) % u64::from(shape.miss_every) == offset;
        let key = if miss {
            1_000_000 + u64::from(i) * 7 + rng.between(0, 7)
        } else {
            rng.between(0, HOT - 1)
        };
        plans[c].push((shape.gap * i, key));
    }
    let salt = shape.salt;
    let waits = Arc::new(Waits::open(runtime_tid));
    runtime.block_on(async move {
        let start = tokio::time::Instant::now();
        let mut clients = tokio::task::JoinSet::new();
        for plan in plans {
            let waits = waits.clone();
            clients.spawn(async move {
                let mut record = ClientRecord::default();
                let Ok(stream) = tokio::net::TcpStream::connect(addr).await else {
                    return record;
                };
                let (read, mut write) = stream.into_split();
                let mut lines = tokio::io::BufReader::new(read).lines();
                for (due, key) in plan {
                    tokio::time::sleep_until(start + due).await;
                    let (sent, waited) =
                        (Instant::now(), waits.as_ref().as_ref().and_then(Waits::now));
                    if write
                        .write_all(format!("{key}\n").as_bytes())
                        .await
                        .is_err()
                    {
                        break;
                    }
                    let written = waits.as_ref().as_ref().and_then(Waits::now);
                    let line = match tokio::time::timeout(GIVE_UP, lines.next_line()).await {
                        Ok(Ok(Some(line))) => line,
                        Err(_) => {
                            // No answer: the client gives up on the
                            // connection, as a user gives up on the page.
                            record.lost += 1;
                            break;
                        }
                        _ => break,
                    };
                    let mut fields = line.split_whitespace();
                    let answer = fields.next().and_then(|v| v.parse::<u64>().ok());
                    let mut stamp = || -> Option<Duration> {
                        Some(Duration::from_nanos(fields.next()?.parse().ok()?))
                    };
                    let (runtime_at_answer, client_at_answer) = (stamp(), stamp());
                    if answer == Some(value_of(salt, key)) {
                        record.answered += 1;
                        if key < HOT {
                            let took = sent.elapsed();
                            // Each thread's wait counted only while the
                            // request was in its hands: the runtime
                            // thread's until the answer went out, the
                            // clients' thread's from then on.
                            let now = waits.as_ref().as_ref().and_then(Waits::now);
                            let own =
                                match (waited, written, runtime_at_answer, client_at_answer, now) {
                                    (
                                        Some((_, c0)),
                                        Some((rw, cw)),
                                        Some(ra),
                                        Some(ca),
                                        Some((_, c1)),
                                    ) => took
                                        .saturating_sub(cw.saturating_sub(c0))
                                        .saturating_sub(ra.saturating_sub(rw))
                                        .saturating_sub(c1.saturating_sub(ca)),
                                    _ => {
                                        record.waits_unknown = true;
                                        took
                                    }
                                };
                            record.hit_latencies.push(took);
                            record.hit_latencies_own.push(own);
                        }
                    } else {
                        record.wrong += 1;
                    }
                }
                record
            });
        }
        let mut all = ClientRecord::default();
        while let Some(r) = clients.join_next().await {
            if let Ok(r) = r {
                all.hit_latencies.extend(r.hit_latencies);
                all.hit_latencies_own.extend(r.hit_latencies_own);
                all.answered += r.answered;
                all.wrong += r.wrong;
                all.lost += r.lost;
                all.waits_unknown |= r.waits_unknown;
            }
        }
        all.waits_known = waits.is_some() && !all.waits_unknown;
        all
    })
}

/// Runs each workload, and sets the facts.
pub fn measure<S: Service>(facts: &Facts, shapes: &[Shape], monitors: &Monitors) -> Vec<Measured> {
    measure_all(start::<S>, facts, shapes, monitors)
}

fn measure_all(
    start: Start,
    facts: &Facts,
    shapes: &[Shape],
    monitors: &Monitors,
) -> Vec<Measured> {
    let all: Vec<Measured> = shapes
        .iter()
        .map(|s| measure_one(start, s, monitors))
        .collect();
    let steady = shapes.iter().position(|s| s.steady).unwrap_or(0);
    let burst = shapes.iter().position(|s| !s.steady).unwrap_or(0);
    facts.set("hit_p99", all[steady].hit_p99);
    facts.set("slow_hits", all[steady].slow_hits);
    let longest = SERVICE_KINDS
        .iter()
        .map(|k| monitors.longest(k))
        .max()
        .unwrap_or_default();
    facts.set("longest_poll", longest.as_secs_f64() / LOAD.as_secs_f64());
    facts.set(
        "slow_polls",
        SERVICE_KINDS
            .iter()
            .map(|k| monitors.metrics(k).total_slow_poll_count)
            .sum::<u64>() as f64,
    );
    facts.set(
        "thread_asleep",
        all.iter().map(|m| m.thread_asleep).fold(0.0, f64::max),
    );
    facts.set("held_in_spells", all[steady].held_in_spells);
    facts.set("events_held", all[burst].events_held as f64);
    facts.set(
        "events_unwritten",
        all.iter().map(|m| m.events_unwritten).sum::<u64>() as f64,
    );
    facts.set("wrong_answers", all.iter().map(|m| m.wrong).sum::<u32>());
    facts.set("lost_requests", all.iter().map(|m| m.lost).sum::<u32>());
    facts.set(
        "service_stuck",
        all.iter().filter(|m| m.stuck.is_some()).count() as f64,
    );
    facts.set(
        "handlers_left",
        all.iter().map(|m| m.handlers_left).max().unwrap_or(0) as f64,
    );
    facts.set(
        "cache_wrong",
        all.iter().map(|m| m.cache_wrong).sum::<u64>() as f64,
    );
    facts.set(
        "threads_started",
        all.iter().map(|m| m.threads_started).max().unwrap_or(0) as f64,
    );
    facts.set(
        "threads_left",
        all.iter().map(|m| m.threads_left).max().unwrap_or(0) as f64,
    );
    facts.set(
        "rankings",
        all.iter().map(|m| m.rankings_right).sum::<u32>(),
    );
    facts.set(
        "rankings_wrong",
        all.iter().map(|m| m.rankings_wrong).sum::<u32>(),
    );
    all
}

/// Whether this run should print the monitors' table.
pub fn metrics_asked() -> bool {
    std::env::var_os(METRICS_ENV).is_some_and(|v| !v.is_empty() && v != "0")
}

fn run(start: Start, facts: &Facts) {
    println!(
        "{} runs on 127.0.0.1: handlers answer from a cache or a slow store and queue an audit event; an auditor writes them to a slow log; a refresher ranks the recent requests, 60 ms after its last ranking; a reporter and a cleanup tick beside them. All on one runtime thread.",
        facts.The("service")
    );
    let seed = seed();
    println!("Workloads drawn from seed {seed} ({SEED_ENV}={seed} replays them).");
    shared::record::recorder::group("handler ", "handlers");
    let shapes = shapes(&mut Rng::for_scenario(facts.spec().name));
    for (i, s) in shapes.iter().enumerate() {
        println!("Workload {}: {}.", i + 1, s.name);
    }
    let monitors = Monitors::new();
    let measured = measure_all(start, facts, &shapes, &monitors);
    for (i, (m, s)) in measured.iter().zip(&shapes).enumerate() {
        if s.steady {
            println!(
                "Workload {}: {} answered right, {} wrong or unanswered; cache hits took up to {:.1} ms at the 99th percentile (a load from the store takes {} ms), and {:.0}% of them over 10 ms ({:.0}% less the time the threads waited for a core).",
                i + 1,
                m.answered,
                m.wrong,
                m.hit_p99 * LOAD.as_secs_f64() * 1000.0,
                LOAD.as_millis(),
                m.slow_hits_plain * 100.0,
                m.slow_hits * 100.0,
            );
        } else {
            println!(
                "Workload {}: {} answered right, {} wrong or unanswered; up to {} audit events were held in memory at once, {} never written.",
                i + 1,
                m.answered,
                m.wrong,
                m.events_held,
                m.events_unwritten
            );
        }
    }
    for (i, m) in measured.iter().enumerate() {
        if m.lost > 0 || m.handlers_left > 0 {
            println!(
                "Workload {}: the clients gave up on {} requests, unanswered after {:.1} s; {} handler tasks had not ended, though their clients had hung up.",
                i + 1,
                m.lost,
                GIVE_UP.as_secs_f64(),
                m.handlers_left
            );
        }
        if let Some(s) = &m.stuck {
            println!(
                "Workload {}: the service's thread never ended. In the {:.1} s the harness waited for it, {} polls ended (of any task), the thread used {} of CPU, and its state was {}. It is left blocked until the program ends.",
                i + 1,
                s.waited.as_secs_f64(),
                s.polls,
                s.cpu.map_or("an unknown amount".into(), |c| format!(
                    "{:.1} ms",
                    c.as_secs_f64() * 1000.0
                )),
                match s.state {
                    Some('S') => "S (asleep, waiting for something)".to_string(),
                    Some(c) => c.to_string(),
                    None => "unknown".to_string(),
                }
            );
        }
    }
    if measured.iter().any(|m| !m.waits_known) {
        println!(
            "(This system does not say how long a thread waited for a core: slow_hits counts the latencies as the clients saw them.)"
        );
    }
    if metrics_asked() {
        println!();
        print!("{}", monitors.table());
    } else {
        println!(
            "(Each kind of task's monitor: `cargo xtask run lesson-14 --metrics`, or {METRICS_ENV}=1 before any command.)"
        );
    }
}

/// A piece: the service `S`, run by the harness.
pub fn piece<'a, S: Service>(name: &'static str) -> Piece<'a> {
    Piece::new(name, move |facts| run(start::<S>, facts))
}

/// The exercise binary's `main`: judges the learner's service.
pub fn exercise<S: Service>() -> ExitCode {
    shared::lesson::main(
        LESSON,
        Variant::Exercise("service"),
        vec![BLOCKING.with(vec![piece::<S>("")])],
    )
}
