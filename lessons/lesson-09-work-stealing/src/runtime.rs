//! A small multi-threaded runtime, written to be read.
//!
//! - A **task** is an `Arc` holding a boxed future. Its waker is the task
//!   itself (`std::task::Wake`): waking it puts it back in a queue.
//! - Each **worker** thread has a local queue (crossbeam's `Worker`), and
//!   all share one **global** queue (crossbeam's `Injector`). A task woken
//!   on a worker goes to that worker's local queue; one woken anywhere
//!   else (another thread, the reactor) goes to the global queue.
//! - Which task a worker runs next is decided by a **policy**, one small
//!   function: the piece this lesson is about. The good one takes local
//!   work first, but looks at the global queue every 61st time so that it
//!   cannot be starved, and steals from its siblings when it runs dry.
//! - A worker with nothing to do **parks** on a condition variable. It
//!   counts itself asleep, then looks once more before it waits, so no
//!   wake-up is lost. A push wakes one sleeper and takes it off the count,
//!   so the pushes behind it do not wake it again.
//! - A **reactor** thread keeps the timers and the sockets' readiness
//!   (mio): it sleeps in `Poll::poll` until the next deadline or event, and
//!   turns each into a call to the waker that asked for it.

use crossbeam_deque::{Injector, Steal, Stealer, Worker};
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;

type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

// ANCHOR: task
/// A spawned future, and the way back to the runtime that runs it.
pub struct Task {
    future: Mutex<Option<BoxFuture>>,
    /// Set while the task sits in a queue, so that it is queued only once.
    queued: AtomicBool,
    shared: Weak<Shared>,
    /// Polls the runtime had made in all once this task was queued, and
    /// when it was first polled (0 until then): how long it waited.
    spawned_at: AtomicU64,
    first_polled_at: AtomicU64,
}

impl Wake for Task {
    fn wake(self: Arc<Self>) {
        self.schedule();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.clone().schedule();
    }
}

impl Task {
    /// Puts the task in a queue, unless it is in one already.
    fn schedule(self: Arc<Self>) {
        if self.queued.swap(true, SeqCst) {
            return;
        }
        // On one of our own workers, the worker's queue (and no reference
        // count to touch); anywhere else, through the runtime.
        let outside = WORKER.with(|w| match &*w.borrow() {
            Some((shared, local))
                if std::ptr::eq(Arc::as_ptr(shared), self.shared.as_ptr())
                    && shared.one_queue.is_none() =>
            {
                local.push(self);
                shared.pushed();
                None
            }
            _ => Some(self),
        });
        if let Some(task) = outside {
            if let Some(shared) = task.shared.upgrade() {
                shared.push(task);
            }
        }
    }

    /// Polls the task once, on worker number `worker`.
    fn run(self: Arc<Self>, shared: &Shared, worker: usize) {
        // Cleared before the poll: a wake-up during it queues the task again.
        self.queued.store(false, SeqCst);
        // Only this worker writes its counter: a plain add, not an atomic one.
        let polls = &shared.stats.polls[worker].0;
        polls.store(polls.load(Relaxed) + 1, Relaxed);
        if self.first_polled_at.load(Relaxed) == 0 {
            self.first_polled_at.store(shared.stats.polls(), Relaxed);
        }
        let waker = Waker::from(self.clone());
        let mut cx = Context::from_waker(&waker);
        let mut slot = self.future.lock().unwrap();
        if let Some(future) = slot.as_mut() {
            if future.as_mut().poll(&mut cx).is_ready() {
                *slot = None; // done: drop the future now
            }
        }
    }
}
// ANCHOR_END: task

/// What a worker's policy can do to find its next task.
pub struct Pick<'a> {
    shared: &'a Shared,
    local: &'a Worker<Arc<Task>>,
    index: usize,
    /// How many tasks this worker has run; the policy may use it to do
    /// something every so often.
    pub tick: u64,
}

impl Pick<'_> {
    /// The next task from this worker's own queue.
    pub fn local(&mut self) -> Option<Arc<Task>> {
        self.local.pop()
    }

    /// A task from the global queue (moving a few more into the local one).
    pub fn global(&mut self) -> Option<Arc<Task>> {
        loop {
            match self.shared.injector.steal_batch_and_pop(self.local) {
                Steal::Success(task) => return Some(task),
                Steal::Empty => return None,
                Steal::Retry => continue,
            }
        }
    }

    /// Half the tasks of the first sibling that has some; returns one.
    pub fn steal(&mut self) -> Option<Arc<Task>> {
        let n = self.shared.stealers.len();
        for k in 1..n {
            let sibling = &self.shared.stealers[(self.index + k) % n];
            loop {
                match sibling.steal_batch_and_pop(self.local) {
                    Steal::Success(task) => {
                        self.shared.stats.steals.fetch_add(1, SeqCst);
                        return Some(task);
                    }
                    Steal::Empty => break,
                    Steal::Retry => continue,
                }
            }
        }
        None
    }
}

/// A worker's scheduling policy: which task to run next, if any.
pub type Policy = fn(&mut Pick<'_>) -> Option<Arc<Task>>;

/// Counters a harness reads.
pub struct Stats {
    /// Polls made by each worker. One counter per worker, each on a cache
    /// line of its own: a counter that every worker bumps at every poll
    /// would move its line from core to core each time, and slow down
    /// every read of whatever shares the line.
    polls: Vec<OwnLine>,
    /// Successful steals from a sibling.
    pub steals: AtomicU64,
    /// Times a worker looked for a task and found none: its policy, and
    /// each look of a parking through [`Idle::work_waiting`].
    pub idle_looks: AtomicU64,
    /// Times a parking returned with nothing pushed since the worker's
    /// last look began: it woke on a timer, or never slept.
    pub empty_wakeups: AtomicU64,
    /// Times a worker went to sleep in the runtime's own parking.
    pub parks: AtomicU64,
    /// Times a push woke a sleeping worker there.
    pub wakes: AtomicU64,
}

/// A counter alone on its cache line (128 bytes: two 64-byte lines,
/// which some processors fetch together).
#[repr(align(128))]
#[derive(Default)]
struct OwnLine(AtomicU64);

impl Stats {
    fn new(workers: usize) -> Stats {
        Stats {
            polls: (0..workers).map(|_| OwnLine::default()).collect(),
            steals: AtomicU64::new(0),
            idle_looks: AtomicU64::new(0),
            empty_wakeups: AtomicU64::new(0),
            parks: AtomicU64::new(0),
            wakes: AtomicU64::new(0),
        }
    }

    /// Polls made so far, by all workers together.
    pub fn polls(&self) -> u64 {
        self.polls.iter().map(|p| p.0.load(SeqCst)).sum()
    }
}

struct Shared {
    /// The design this lesson argues against: one queue behind one lock,
    /// shared by every worker (when set, the other queues are unused).
    one_queue: Option<Mutex<std::collections::VecDeque<Arc<Task>>>>,
    injector: Injector<Arc<Task>>,
    stealers: Vec<Stealer<Arc<Task>>>,
    policy: Policy,
    /// Pushes so far, counted only for a parking of the caller's own.
    pushes: AtomicU64,
    /// Workers in `park` (for a harness: all asleep?).
    parked: AtomicUsize,
    /// Workers asleep that no push has woken yet.
    sleeping: AtomicUsize,
    /// Wake-ups sent and not yet taken by a sleeper.
    park_lock: Mutex<usize>,
    unpark: Condvar,
    shutdown: AtomicBool,
    stats: Stats,
    /// A parking of the caller's own, instead of the one above.
    parking: Option<Box<dyn Parking>>,
    /// Called on a worker each time it has found no work, before it parks
    /// and whenever its parking looks again: a harness's hook.
    on_idle: Option<IdleHook>,
}

/// A harness's hook, called when a worker goes idle; the argument says
/// whether it comes from [`Idle::work_waiting`] (else: before `park`).
pub type IdleHook = Box<dyn Fn(bool) + Send + Sync>;

// ANCHOR: parking_trait
/// How an idle worker sleeps, and how a push wakes it: a runtime built
/// with [`Runtime::with_parking`] calls these instead of its own.
pub trait Parking: Send + Sync + 'static {
    /// Called by a worker that has just looked in every queue and found
    /// no task. Return when there may be one: the worker looks again.
    fn park(&self, idle: &Idle<'_>);
    /// Called by whoever has just put a task in a queue (a worker, the
    /// reactor, any thread), after the task is there.
    fn pushed(&self);
}

/// What a worker in [`Parking::park`] can ask the runtime.
pub struct Idle<'a> {
    shared: &'a Shared,
}

impl Idle<'_> {
    /// Looks in every queue now: whether a task waits in the global queue
    /// or in any worker's local queue (or the runtime is shutting down,
    /// and the worker should return).
    pub fn work_waiting(&self) -> bool {
        let waiting = self.shared.work_waiting();
        if !waiting {
            self.shared.stats.idle_looks.fetch_add(1, SeqCst);
            if let Some(hook) = &self.shared.on_idle {
                hook(true);
            }
        }
        waiting
    }
}
// ANCHOR_END: parking_trait

/// A worker thread's own: which runtime it belongs to, and its local queue.
type WorkerSlot = Option<(Arc<Shared>, Worker<Arc<Task>>)>;

thread_local! {
    static WORKER: RefCell<WorkerSlot> = const { RefCell::new(None) };
}

impl Shared {
    /// Whether a task waits in any queue (or the runtime is shutting down).
    fn work_waiting(&self) -> bool {
        std::sync::atomic::fence(SeqCst);
        self.shutdown.load(SeqCst)
            || !self.injector.is_empty()
            || self.stealers.iter().any(|s| !s.is_empty())
    }

    /// Queues a task from outside our workers: on the global queue (or
    /// the one locked queue). Then wakes a parked worker.
    fn push(&self, task: Arc<Task>) {
        match &self.one_queue {
            Some(queue) => queue.lock().unwrap().push_back(task),
            None => self.injector.push(task),
        }
        self.pushed();
    }

    // ANCHOR: park
    /// After any push: wake a sleeping worker, if one sleeps that no push
    /// has woken yet.
    fn pushed(&self) {
        if let Some(parking) = &self.parking {
            // Counted for the harness, which tells a parking's empty
            // wake-ups by it; also orders the push before what follows.
            self.pushes.fetch_add(1, SeqCst);
            parking.pushed();
            return;
        }
        // The push before this fence, and the count of sleepers after it,
        // are seen in this order by a worker going to sleep.
        std::sync::atomic::fence(SeqCst);
        if self.sleeping.load(SeqCst) > 0 {
            let mut woken = self.park_lock.lock().unwrap();
            if self.sleeping.load(SeqCst) > 0 {
                // This push wakes it, and takes it off the count: the
                // pushes that follow, until it sleeps again, leave it be.
                self.sleeping.fetch_sub(1, SeqCst);
                *woken += 1;
                self.unpark.notify_one();
                self.stats.wakes.fetch_add(1, Relaxed);
            }
        }
    }

    /// Sleeps until a push wakes this worker, or until a look finds work.
    fn park(&self) {
        self.parked.fetch_add(1, SeqCst);
        let mut woken = self.park_lock.lock().unwrap();
        // Counted before the last look: a push after this sees a sleeper,
        // and waits for the lock to wake it; a push before it is found.
        self.sleeping.fetch_add(1, SeqCst);
        self.stats.parks.fetch_add(1, Relaxed);
        while *woken == 0 && !self.work_waiting() {
            woken = self.unpark.wait(woken).unwrap();
        }
        if *woken > 0 {
            *woken -= 1; // a push woke us, and took us off the count
        } else {
            self.sleeping.fetch_sub(1, SeqCst); // we found work ourselves
        }
        drop(woken);
        self.parked.fetch_sub(1, SeqCst);
    }
    // ANCHOR_END: park
}

// ANCHOR: worker_loop
fn worker_loop(shared: Arc<Shared>, handle: Handle, index: usize, local: Worker<Arc<Task>>) {
    WORKER.with(|w| *w.borrow_mut() = Some((shared.clone(), local)));
    let _current = CurrentHandle::set(handle);
    shared::record::recorder::name_lane(&format!("worker {}", index + 1));
    let mut tick = 0;
    while !shared.shutdown.load(SeqCst) {
        let seen = shared.pushes.load(SeqCst);
        let next = match &shared.one_queue {
            Some(queue) => queue.lock().unwrap().pop_front(),
            None => WORKER.with(|w| {
                let w = w.borrow();
                let (_, local) = w.as_ref().expect("set above");
                let mut pick = Pick {
                    shared: &shared,
                    local,
                    index,
                    tick,
                };
                (shared.policy)(&mut pick)
            }),
        };
        match next {
            Some(task) => {
                tick += 1;
                task.run(&shared, index);
            }
            None => {
                shared.stats.idle_looks.fetch_add(1, SeqCst);
                match &shared.parking {
                    Some(parking) => {
                        if let Some(hook) = &shared.on_idle {
                            hook(false);
                        }
                        shared.parked.fetch_add(1, SeqCst);
                        parking.park(&Idle { shared: &shared });
                        shared.parked.fetch_sub(1, SeqCst);
                        if shared.pushes.load(SeqCst) == seen && !shared.shutdown.load(SeqCst) {
                            shared.stats.empty_wakeups.fetch_add(1, SeqCst);
                        }
                    }
                    None => shared.park(),
                }
            }
        }
    }
    // Tasks left in queues hold no reference to us: drop them here.
    WORKER.with(|w| w.borrow_mut().take());
}
// ANCHOR_END: worker_loop

/// The runtime: its workers, its reactor, its queues.
pub struct Runtime {
    shared: Arc<Shared>,
    workers: Vec<thread::JoinHandle<()>>,
    reactor: crate::reactor::Reactor,
}

impl Runtime {
    /// A runtime with `workers` threads, each choosing work with `policy`.
    pub fn new(workers: usize, policy: Policy) -> Runtime {
        Runtime::build(workers, policy, false, None, None)
    }

    /// A runtime whose idle workers sleep, and are woken, through
    /// `parking`; `on_idle` (a harness's) is called as [`IdleHook`] says.
    pub fn with_parking(
        workers: usize,
        policy: Policy,
        parking: Box<dyn Parking>,
        on_idle: Option<IdleHook>,
    ) -> Runtime {
        Runtime::build(workers, policy, false, Some(parking), on_idle)
    }

    /// Calls the parking's `pushed` as a push would, with nothing pushed:
    /// a harness's way to wake a worker that a lost wake-up left asleep.
    pub fn kick(&self) {
        self.shared.pushed();
    }

    /// A runtime whose workers share one locked queue: correct, and slower
    /// as soon as they contend for the lock. For comparison only.
    pub fn with_one_queue(workers: usize) -> Runtime {
        Runtime::build(workers, |_| None, true, None, None)
    }

    fn build(
        workers: usize,
        policy: Policy,
        one_queue: bool,
        parking: Option<Box<dyn Parking>>,
        on_idle: Option<IdleHook>,
    ) -> Runtime {
        // First in, first out: tasks on one worker take turns.
        let locals: Vec<Worker<Arc<Task>>> = (0..workers).map(|_| Worker::new_fifo()).collect();
        let shared = Arc::new(Shared {
            one_queue: one_queue.then(Default::default),
            injector: Injector::new(),
            stealers: locals.iter().map(Worker::stealer).collect(),
            policy,
            pushes: AtomicU64::new(0),
            parked: AtomicUsize::new(0),
            sleeping: AtomicUsize::new(0),
            park_lock: Mutex::new(0),
            unpark: Condvar::new(),
            shutdown: AtomicBool::new(false),
            stats: Stats::new(workers),
            parking,
            on_idle,
        });
        let reactor = crate::reactor::Reactor::start();
        let handle = Handle {
            shared: Arc::downgrade(&shared),
            reactor: reactor.handle(),
        };
        let workers = locals
            .into_iter()
            .enumerate()
            .map(|(i, local)| {
                let (shared, handle) = (shared.clone(), handle.clone());
                thread::Builder::new()
                    .name(format!("worker {}", i + 1))
                    .spawn(move || worker_loop(shared, handle, i, local))
                    .expect("a worker thread starts")
            })
            .collect();
        Runtime {
            shared,
            workers,
            reactor,
        }
    }

    /// A handle to spawn with, from anywhere.
    pub fn handle(&self) -> Handle {
        Handle {
            shared: Arc::downgrade(&self.shared),
            reactor: self.reactor.handle(),
        }
    }

    /// The runtime's counters.
    pub fn stats(&self) -> &Stats {
        &self.shared.stats
    }

    /// Polls made and pushes to any queue so far (pushes are counted only
    /// with a parking of the caller's own): while neither moves and every
    /// worker is parked, nothing will ever run again (unless a timer, a
    /// socket or another thread wakes a task).
    pub fn progress(&self) -> (u64, u64) {
        (self.shared.stats.polls(), self.shared.pushes.load(SeqCst))
    }

    /// Whether every worker is parked, waiting for a push.
    pub fn all_parked(&self) -> bool {
        self.shared.parked.load(SeqCst) == self.workers.len()
    }

    /// Weak references to what the worker threads and the reactor thread
    /// hold while they run: dead once every one of them has returned.
    pub fn liveness(&self) -> Liveness {
        Liveness {
            workers: Arc::downgrade(&self.shared),
            reactor: self.reactor.liveness(),
        }
    }

    /// Runs `future` to completion on this thread, while the workers run
    /// the tasks it spawns. Inside it, [`handle`] gives this runtime.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _enter = CurrentHandle::set(self.handle());
        crate::block_on(future)
    }
}

impl Drop for Runtime {
    /// Stops the workers and waits for them: no thread is left behind.
    /// Tasks still queued or waiting are dropped, unfinished.
    fn drop(&mut self) {
        self.shared.shutdown.store(true, SeqCst);
        {
            let _guard = self.shared.park_lock.lock().unwrap();
            self.shared.unpark.notify_all();
        }
        if self.shared.parking.is_some() {
            // A parking of the caller's own wakes a worker per `pushed`:
            // push nothing until every worker has returned (or 2 s, after
            // which a worker that never wakes is left behind).
            let started = std::time::Instant::now();
            while self.workers.iter().any(|w| !w.is_finished())
                && started.elapsed() < std::time::Duration::from_secs(2)
            {
                self.shared.pushed();
                thread::sleep(std::time::Duration::from_millis(1));
            }
            self.workers.retain(|w| w.is_finished());
        }
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
        while !self.shared.injector.steal().is_empty() {}
    }
}

/// See [`Runtime::liveness`].
pub struct Liveness {
    workers: Weak<Shared>,
    reactor: Weak<dyn std::any::Any + Send + Sync>,
}

impl Liveness {
    /// Whether any worker or reactor thread is still running.
    pub fn any_thread_alive(&self) -> bool {
        self.workers.strong_count() > 0 || self.reactor.strong_count() > 0
    }
}

/// Spawns onto a runtime from any thread.
#[derive(Clone)]
pub struct Handle {
    shared: Weak<Shared>,
    reactor: crate::reactor::ReactorHandle,
}

/// A spawned task's result, to await.
pub struct JoinHandle<T> {
    inner: Arc<Mutex<(Option<T>, Option<Waker>)>>,
}

impl<T> Future for JoinHandle<T> {
    type Output = T;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut inner = self.inner.lock().unwrap();
        match inner.0.take() {
            Some(value) => Poll::Ready(value),
            None => {
                inner.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl Handle {
    /// Spawns `future` as a task. From one of this runtime's workers it
    /// goes to that worker's local queue; from anywhere else, to the
    /// global one.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_counted(future).0
    }

    /// Spawns, and also returns the task, to see how long it waited.
    pub fn spawn_counted<F>(&self, future: F) -> (JoinHandle<F::Output>, Arc<Task>)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let inner = Arc::new(Mutex::new((None, None::<Waker>)));
        let done = inner.clone();
        let body = async move {
            let value = future.await;
            let waker = {
                let mut done = done.lock().unwrap();
                done.0 = Some(value);
                done.1.take()
            };
            if let Some(w) = waker {
                w.wake();
            }
        };
        let shared = self.shared.upgrade().expect("the runtime is running");
        let task = Arc::new(Task {
            future: Mutex::new(Some(Box::pin(body))),
            queued: AtomicBool::new(false),
            shared: self.shared.clone(),
            spawned_at: AtomicU64::new(0),
            first_polled_at: AtomicU64::new(0),
        });
        task.clone().schedule();
        // Read once the task is in its queue: the polls counted as its wait
        // are all polls it could have had (a thread slow to get here counts
        // a little less, never more).
        task.spawned_at.store(shared.stats.polls(), SeqCst);
        (JoinHandle { inner }, task)
    }

    /// The reactor's side: timers and sockets.
    pub fn reactor(&self) -> &crate::reactor::ReactorHandle {
        &self.reactor
    }
}

impl Task {
    /// Polls the runtime made between this task's spawn and its first
    /// poll (`None` if it has not been polled yet).
    pub fn waited_polls(&self) -> Option<u64> {
        match self.first_polled_at.load(SeqCst) {
            0 => None,
            at => Some((at - 1).saturating_sub(self.spawned_at.load(SeqCst))),
        }
    }

    /// Polls the runtime had made in all once this task was queued.
    pub fn queued_at(&self) -> u64 {
        self.spawned_at.load(SeqCst)
    }

    /// [`Task::waited_polls`], or, for a task never polled, the polls made
    /// since its spawn up to `polls_now`: how long it has waited so far.
    pub fn waited_polls_by(&self, polls_now: u64) -> u64 {
        self.waited_polls()
            .unwrap_or_else(|| polls_now.saturating_sub(self.spawned_at.load(SeqCst)))
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Handle>> = const { RefCell::new(None) };
}

/// The handle of the runtime this thread is in: inside `block_on`, or on
/// a worker.
pub fn handle() -> Handle {
    CURRENT
        .with(|c| c.borrow().clone())
        .expect("not inside one of our runtimes")
}

struct CurrentHandle(Option<Handle>);

impl CurrentHandle {
    fn set(handle: Handle) -> CurrentHandle {
        CurrentHandle(CURRENT.with(|c| c.borrow_mut().replace(handle)))
    }
}

impl Drop for CurrentHandle {
    fn drop(&mut self) {
        CURRENT.with(|c| *c.borrow_mut() = self.0.take());
    }
}
