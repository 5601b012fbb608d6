//! # Lesson 02: state machines
//!
//! The compiler turns an `async fn` into an enum: one variant per `.await`
//! where it can stop, each holding the local variables still needed after
//! that point. The future is at least as big as its biggest variant. This
//! crate writes such an enum by hand beside the `async fn` it mirrors, then
//! shows the two ways the layout bites: a big local kept across an `.await`,
//! or a big future awaited in place, makes every task big; and a
//! hand-written state machine that forgets to keep its inner future in its
//! state starts over on every poll.

use shared::TraceExt;
use shared::lesson::{Facts, Piece, Spec, Variant, fact};
use shared::record::held::Held;
use shared::record::threads::name_threads;
use shared::work::shape::{Rng, seed};
use std::cell::RefCell;
use std::future::Future;
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::{Instant, Sleep};

/// This lesson's id, `lesson-02`: its package name.
pub const LESSON: &str = env!("CARGO_PKG_NAME");

// ANCHOR: step
/// A hand-written future that is ready on its `n`-th poll (and wakes its
/// task each time it says "not yet"). Stands in for any real await: a
/// timer, a socket, a lock.
#[derive(Debug)]
pub struct Steps {
    left: u32,
    value: u32,
}

pub fn steps(n: u32, value: u32) -> Steps {
    Steps { left: n, value }
}

impl Future for Steps {
    type Output = u32;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        self.left = self.left.saturating_sub(1);
        if self.left == 0 {
            Poll::Ready(self.value)
        } else {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}
// ANCHOR_END: step

// ANCHOR: async_fn
/// Brews a coffee: grind, then pour. Two `.await`s, so two places to stop.
pub async fn brew(order: u32) -> u32 {
    let grams = steps(2, 18).await; // stop 1: `order` is still needed later
    let ml = steps(3, 200).await; // stop 2: `order` and `grams` are needed later
    order * 1000 + grams + ml
}
// ANCHOR_END: async_fn

// ANCHOR: state_machine
/// What the compiler makes of `brew`, written out. Each variant is a place
/// where `brew` can be paused, with exactly the locals alive there.
#[derive(Debug)]
pub enum Brew {
    /// Not polled yet: only the argument.
    Start { order: u32 },
    /// Paused at the first `.await`.
    Grinding { order: u32, grind: Steps },
    /// Paused at the second `.await`.
    Pouring { order: u32, grams: u32, pour: Steps },
    /// Finished; polling again is a bug.
    Done,
}

impl Future for Brew {
    type Output = u32;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        // `Brew` holds no self-references, so it is `Unpin` and we may
        // take `&mut` freely. (The compiler's version never is `Unpin`.)
        let this = &mut *self;
        loop {
            match this {
                Brew::Start { order } => {
                    *this = Brew::Grinding {
                        order: *order,
                        grind: steps(2, 18),
                    };
                }
                Brew::Grinding { order, grind } => match Pin::new(grind).poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(grams) => {
                        *this = Brew::Pouring {
                            order: *order,
                            grams,
                            pour: steps(3, 200),
                        };
                    }
                },
                Brew::Pouring { order, grams, pour } => match Pin::new(pour).poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(ml) => {
                        let out = *order * 1000 + *grams + ml;
                        *this = Brew::Done;
                        return Poll::Ready(out);
                    }
                },
                Brew::Done => panic!("`Brew` polled after it finished"),
            }
        }
    }
}
// ANCHOR_END: state_machine

/// The size of each request buffer.
pub const BUFFER: usize = 16 * 1024;

/// A reply: what is left of a request once it has been handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    pub id: u32,
    pub checksum: u64,
}

/// The salt of the requests now being served: set by the harness for each
/// round, from the run's seed, so that no reply can be worked out before
/// the program runs.
static SALT: AtomicU64 = AtomicU64::new(0);

/// Mixes the bits of `x` (splitmix64's finaliser).
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// How many bytes of each request of the round now being served have been
/// read (index: the request's id): reset by the harness before the round's
/// handlers start.
static READ: Mutex<Vec<usize>> = Mutex::new(Vec::new());

/// Request `id` in the round now being served: the hash its bytes are made
/// from, its length (between a quarter of [`BUFFER`] and all of it), and
/// how many parts it comes in (one to four).
fn request_shape(id: u32) -> (u64, usize, usize) {
    let h = mix(SALT.load(Ordering::SeqCst) ^ u64::from(id));
    let quarter = BUFFER / 4;
    let len = quarter + (h % (BUFFER - quarter + 1) as u64) as usize;
    let parts = 1 + ((h >> 40) % 4) as usize;
    (h, len, parts)
}

/// Bytes `from..from + into.len()` of the request whose hash is `h`, put
/// in `into`: eight at a time, from one mixed word each.
fn request_bytes(h: u64, from: usize, into: &mut [u8]) {
    let (mut i, mut k) = (from, 0);
    while k < into.len() {
        let word = mix(h ^ (i / 8) as u64).to_le_bytes();
        let skip = i % 8;
        let take = (8 - skip).min(into.len() - k);
        into[k..k + take].copy_from_slice(&word[skip..skip + take]);
        i += take;
        k += take;
    }
}

/// Waits for the next part of request `id` to arrive, as a socket read
/// would, and puts its bytes at the start of `into` (as many as fit):
/// `Some(n)` for `n` bytes read, `None` once the whole request has been
/// read. A request comes in one to four parts. The harness notes how much
/// of each request was read.
pub async fn next_part(id: u32, into: &mut [u8]) -> Option<usize> {
    Arrival { arrived: false }.await; // the part arrives
    let (h, len, parts) = request_shape(id);
    let mut read = READ.lock().unwrap_or_else(|e| e.into_inner());
    if read.len() <= id as usize {
        read.resize(id as usize + 1, 0);
    }
    let done = read[id as usize];
    let n = len.div_ceil(parts).min(len - done).min(into.len());
    if n == 0 {
        return None;
    }
    request_bytes(h, done, &mut into[..n]);
    read[id as usize] = done + n;
    Some(n)
}

/// A part's arrival: not yet at the first poll (which asks to be polled
/// again at once), there at the second.
struct Arrival {
    arrived: bool,
}

impl Future for Arrival {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.arrived {
            return Poll::Ready(());
        }
        self.arrived = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

// ANCHOR: receive
/// A request, received whole: its bytes, in a buffer of [`BUFFER`] bytes.
pub struct Request {
    len: usize,
    buffer: [u8; BUFFER],
}

impl Request {
    /// The request's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.buffer[..self.len]
    }
}

/// Receives request `id`: reads its parts into the buffer as they arrive,
/// until it is whole.
pub async fn receive(id: u32) -> Request {
    let mut request = Request {
        len: 0,
        buffer: [0u8; BUFFER],
    };
    while let Some(n) = next_part(id, &mut request.buffer[request.len..]).await {
        request.len += n;
    }
    request
}
// ANCHOR_END: receive

/// The checksum of `bytes` (FNV-1a, taken eight bytes at a time).
pub fn checksum(bytes: &[u8]) -> u64 {
    let step = |h: u64, x: u64| (h ^ x).wrapping_mul(0x100_0000_01b3);
    let mut words = bytes.chunks_exact(8);
    let mut h = 0xcbf2_9ce4_8422_2325;
    for word in &mut words {
        h = step(h, u64::from_le_bytes(word.try_into().expect("8 bytes")));
    }
    words
        .remainder()
        .iter()
        .fold(h, |h, &b| step(h, u64::from(b)))
}

/// The slow backend every handler waits for: handlers wait until the value
/// turns `true`.
pub type Backend = watch::Receiver<bool>;

/// Counts handlers that have reached their `.await`, so the harness knows
/// when all of them are waiting.
static PARKED: AtomicU32 = AtomicU32::new(0);

/// Handlers that have finished (which none should before the backend
/// answers).
static FINISHED: AtomicU32 = AtomicU32::new(0);

/// Told each time a handler reaches its `.await` or finishes.
static ARRIVED: tokio::sync::Notify = tokio::sync::Notify::const_new();

pub async fn wait_for_backend(mut backend: Backend) {
    PARKED.fetch_add(1, Ordering::SeqCst);
    ARRIVED.notify_one();
    // The sender lives until every handler is done, so this cannot fail.
    let _ = backend.wait_for(|ready| *ready).await;
}

pub mod broken {
    use super::*;

    #[expect(
        clippy::large_futures,
        reason = "the lesson's bug: receive's 16 KiB future is awaited in place"
    )]
    // ANCHOR: broken_handler
    /// Receives a request, waits for the backend, replies with a checksum.
    pub async fn handle(id: u32, backend: Backend) -> Reply {
        let request = receive(id).await;
        wait_for_backend(backend).await; // BROKEN: every waiting task holds 16 KiB
        Reply {
            id,
            checksum: checksum(request.bytes()),
        }
    }
    // ANCHOR_END: broken_handler

    // ANCHOR: broken_naps
    /// Should take `count` naps, one after the other, and return what they
    /// gave, added up. It keeps how many naps are left and the total so
    /// far, but not the nap it is waiting for.
    pub struct Naps {
        left: u32,
        total: u64,
    }

    impl Future for Naps {
        type Output = u64;

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u64> {
            while self.left > 0 {
                let mut this_nap = Box::pin(nap()); // BROKEN: a new nap on every poll,
                match this_nap.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending, // ...dropped here, timer and all
                    Poll::Ready(value) => {
                        self.total += value;
                        self.left -= 1;
                    }
                }
            }
            Poll::Ready(self.total)
        }
    }

    pub fn naps(count: u32) -> Naps {
        Naps {
            left: count,
            total: 0,
        }
    }
    // ANCHOR_END: broken_naps
}

pub mod fixed {
    use super::*;

    // ANCHOR: fixed_handler
    /// The same handler, small in every state: `receive`'s future is boxed,
    /// so while the request comes in it is on the heap, and freed once the
    /// request is whole; the request's scope ends before the backend wait,
    /// so only the 8-byte checksum is kept across it.
    pub async fn handle(id: u32, backend: Backend) -> Reply {
        let checksum = {
            let request = Box::pin(receive(id)).await; // FIXED: not inside this future
            checksum(request.bytes())
        }; // FIXED: the request is gone here
        wait_for_backend(backend).await; // the future holds no buffer now
        Reply { id, checksum }
    }
    // ANCHOR_END: fixed_handler

    // ANCHOR: fixed_naps
    /// The same naps, with the nap in progress kept in the machine.
    pub struct Naps {
        left: u32,
        total: u64,
        current: Option<Pin<Box<Nap>>>, // FIXED: the nap lives from poll to poll
    }

    impl Future for Naps {
        type Output = u64;

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u64> {
            // `Naps` is `Unpin` (the nap is boxed), so `&mut` is fine here.
            let this = &mut *self;
            while this.left > 0 {
                // A new nap only when the last one is over.
                let current = this.current.get_or_insert_with(|| Box::pin(nap()));
                match current.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending, // kept for the next poll
                    Poll::Ready(value) => {
                        this.total += value;
                        this.left -= 1;
                        this.current = None; // a fired nap stays ready: drop it
                    }
                }
            }
            Poll::Ready(this.total)
        }
    }

    pub fn naps(count: u32) -> Naps {
        Naps {
            left: count,
            total: 0,
            current: None,
        }
    }
    // ANCHOR_END: fixed_naps
}

/// How long a nap lasts when no harness has picked its length (a test that
/// calls [`nap`] on its own). The harness picks 30 to 60 ms for each nap.
pub const NAP: Duration = Duration::from_millis(30);

/// What the harness keeps about one nap: when it was made, when it first
/// said `Ready`, its length, and what its timer's wake-up became: when the
/// timer woke the waker the nap was given, when the nap was next polled,
/// and the polls it had before its timer woke it.
#[derive(Debug)]
struct NapRecord {
    made: Instant,
    fired: Mutex<Option<Instant>>,
    length: Duration,
    woken: Mutex<Woken>,
}

#[derive(Debug, Default)]
struct Woken {
    /// When the timer woke the nap's waker.
    at: Option<Instant>,
    /// When the nap was polled first after that.
    noticed: Option<Instant>,
    /// Polls of the nap before its timer woke it.
    polls_before: u32,
}

impl NapRecord {
    /// How late the nap's wake-up was noticed, over its length: from the
    /// timer's wake-up to the next poll of the nap, or to `end` if none
    /// came (`None` if the timer never woke).
    fn late_ratio(&self, end: Instant) -> Option<f64> {
        let w = self.woken.lock().unwrap();
        let at = w.at?;
        let late = w.noticed.unwrap_or(end).saturating_duration_since(at);
        Some(late.as_secs_f64() / self.length.as_secs_f64())
    }

    /// Polls of the nap before its timer woke it, besides the one that
    /// started it.
    fn unwoken_polls(&self) -> u32 {
        self.woken.lock().unwrap().polls_before.saturating_sub(1)
    }
}

/// The waker the harness polls a nap's timer with: it notes when the timer
/// woke it, then wakes the waker the nap was last polled with.
struct NapWaker {
    record: Arc<NapRecord>,
    theirs: Mutex<Option<std::task::Waker>>,
}

impl std::task::Wake for NapWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.record
            .woken
            .lock()
            .unwrap()
            .at
            .get_or_insert_with(Instant::now);
        let theirs = self.theirs.lock().unwrap().clone();
        if let Some(w) = theirs {
            w.wake();
        }
    }
}

// ANCHOR: nap
/// One nap: a future that is ready, with a number, once a tokio timer of a
/// length the harness picks when the program runs has fired. The harness
/// picks the numbers too, and watches every nap. Like tokio's `Sleep`
/// inside it, a `Nap` is not `Unpin`: to poll one across several polls of
/// your own future, keep it pinned (`Box::pin(nap())`).
pub struct Nap {
    // The harness's fields: the timer, the number, what it notes about this
    // nap, and the marker that makes a `Nap` not `Unpin`, as a `Sleep` is.
    sleep: RefCell<Pin<Box<Sleep>>>,
    value: u64,
    record: Option<Arc<NapRecord>>,
    waker: Option<Arc<NapWaker>>,
    _pinned: PhantomPinned,
}

/// Starts one nap: a fresh timer, counted by the harness. Once it has
/// fired, the nap stays ready, with the same number, however often it is
/// polled.
pub fn nap() -> Nap {
    let (length, value, record) = PLAN.try_with(|plan| plan.start()).unwrap_or((NAP, 1, None));
    let waker = record.as_ref().map(|record| {
        Arc::new(NapWaker {
            record: record.clone(),
            theirs: Mutex::new(None),
        })
    });
    Nap {
        sleep: RefCell::new(Box::pin(tokio::time::sleep(length))),
        value,
        record,
        waker,
        _pinned: PhantomPinned,
    }
}
// ANCHOR_END: nap

impl Future for Nap {
    type Output = u64;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u64> {
        let this = self.into_ref().get_ref();
        let ready = match (&this.record, &this.waker) {
            (Some(record), Some(waker)) => {
                {
                    let mut w = record.woken.lock().unwrap();
                    match w.at {
                        None => w.polls_before += 1,
                        Some(_) => {
                            w.noticed.get_or_insert_with(Instant::now);
                        }
                    }
                }
                *waker.theirs.lock().unwrap() = Some(cx.waker().clone());
                // The timer wakes the harness's waker, which notes the time
                // and wakes `cx`'s.
                let ours = std::task::Waker::from(waker.clone());
                this.sleep
                    .borrow_mut()
                    .as_mut()
                    .poll(&mut Context::from_waker(&ours))
            }
            _ => this.sleep.borrow_mut().as_mut().poll(cx),
        };
        if ready.is_ready()
            && let Some(record) = &this.record
        {
            record
                .fired
                .lock()
                .unwrap()
                .get_or_insert_with(Instant::now);
        }
        ready.map(|()| this.value)
    }
}

/// What one state machine is to nap: the lengths of its naps and the
/// numbers they give, in order, and a record of every nap it started. The
/// harness hands it to the machine's task; [`nap`] takes the next length
/// and number from it.
#[derive(Debug)]
pub struct NapPlan {
    lengths: Vec<Duration>,
    values: Vec<u64>,
    naps: Mutex<Vec<Arc<NapRecord>>>,
}

tokio::task_local! {
    static PLAN: Arc<NapPlan>;
}

impl NapPlan {
    /// A plan of `lengths.len()` naps; the `i`-th nap started gives
    /// `values[i]` (the numbers go round again past the last).
    pub fn new(lengths: Vec<Duration>, values: Vec<u64>) -> Arc<NapPlan> {
        assert_eq!(lengths.len(), values.len(), "a number for every nap");
        Arc::new(NapPlan {
            lengths,
            values,
            naps: Mutex::new(Vec::new()),
        })
    }

    fn start(&self) -> (Duration, u64, Option<Arc<NapRecord>>) {
        let mut naps = self.naps.lock().unwrap();
        let i = naps.len() % self.lengths.len();
        let (length, value) = (self.lengths[i], self.values[i]);
        let record = Arc::new(NapRecord {
            made: Instant::now(),
            fired: Mutex::new(None),
            length,
            woken: Mutex::new(Woken::default()),
        });
        naps.push(record.clone());
        (length, value, Some(record))
    }

    /// The naps it should take.
    pub fn due(&self) -> usize {
        self.lengths.len()
    }

    /// What a machine that takes its naps returns: their numbers added up.
    pub fn total(&self) -> u64 {
        self.values.iter().sum()
    }

    /// The time its naps take, one after the other.
    pub fn time(&self) -> Duration {
        self.lengths.iter().sum()
    }

    pub fn shortest(&self) -> Duration {
        self.lengths.iter().copied().min().unwrap_or(NAP)
    }

    /// Naps started so far.
    pub fn started(&self) -> usize {
        self.naps.lock().unwrap().len()
    }

    /// Naps that ran to their end, each started after the one before it
    /// ended: naps taken one after the other, as due (at most as many as
    /// are due).
    pub fn done(&self) -> usize {
        let naps = self.naps.lock().unwrap();
        let mut done = 0;
        let mut free_since: Option<Instant> = None;
        for nap in naps.iter() {
            let Some(fired) = *nap.fired.lock().unwrap() else {
                continue;
            };
            if free_since.is_none_or(|t| nap.made >= t) {
                done += 1;
                free_since = Some(fired);
            }
        }
        done.min(self.due())
    }

    /// The latest any nap's wake-up was noticed, over that nap's length
    /// (a wake-up never noticed counts until `end`).
    pub fn late_ratio(&self, end: Instant) -> f64 {
        self.naps
            .lock()
            .unwrap()
            .iter()
            .filter_map(|n| n.late_ratio(end))
            .fold(0.0, f64::max)
    }

    /// Polls of its naps made before their timers woke them, besides the
    /// poll that started each.
    pub fn unwoken_polls(&self) -> u32 {
        self.naps
            .lock()
            .unwrap()
            .iter()
            .map(|n| n.unwoken_polls())
            .sum()
    }

    /// `fut`, with this plan as the one its calls to [`nap`] take lengths
    /// from.
    pub fn scope<F: Future>(self: &Arc<Self>, fut: F) -> impl Future<Output = F::Output> + use<F> {
        PLAN.scope(self.clone(), fut)
    }

    /// Calls `f` (a state machine's constructor) with this plan in scope.
    pub fn make<R>(self: &Arc<Self>, f: impl FnOnce() -> R) -> R {
        PLAN.sync_scope(self.clone(), f)
    }
}

/// The process's resident anonymous memory (heap, stacks and statics the
/// program has written to), in bytes, from `/proc/self/status` (Linux
/// only). Unlike the allocator's count, it sees memory outside the heap: a
/// `static` array that a program fills grows it too.
pub fn resident_bytes() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
            .map(|kb| kb * 1024)
    };
    field("RssAnon:").or_else(|| field("VmRSS:"))
}

/// What spawning many handlers cost.
#[derive(Debug, Clone, Copy)]
pub struct Parked {
    /// Heap bytes held per task while every handler waited.
    pub bytes_per_task: usize,
    /// Resident memory the process grew by, per task, while every handler
    /// waited (`None` where it cannot be read).
    pub resident_per_task: Option<usize>,
    /// Handlers that waited for the backend without having read their
    /// request.
    pub unread_requests: u32,
    /// Replies received once the backend answered.
    pub replies: u32,
    /// Replies whose checksum was not the request's.
    pub wrong_replies: u32,
    /// Handlers that replied before the backend answered.
    pub early_replies: u32,
}

/// The checksum a correct handler replies with for request `id`, in the
/// round now being served.
fn expected_checksum(id: u32) -> u64 {
    let (h, len, _) = request_shape(id);
    let mut bytes = vec![0u8; len];
    request_bytes(h, 0, &mut bytes);
    checksum(&bytes)
}

/// Spawns `n` handlers on a current-thread runtime, one after another,
/// each once the one before it is parked at its backend wait (or has
/// finished, which it should not have); once every one is parked,
/// measures the heap they hold (counted by this crate's allocator), then
/// lets them finish and checks every reply against the request's bytes.
pub fn park_handlers<F, Fut>(n: u32, handle: F) -> Parked
where
    F: Fn(u32, Backend) -> Fut,
    Fut: Future<Output = Reply> + Send + 'static,
{
    let mut builder = tokio::runtime::Builder::new_current_thread();
    let runtime = name_threads(&mut builder, "", 0)
        .build()
        .expect("a current-thread runtime always builds");
    let (ready, backend) = watch::channel(false);
    PARKED.store(0, Ordering::SeqCst);
    FINISHED.store(0, Ordering::SeqCst);
    *READ.lock().unwrap_or_else(|e| e.into_inner()) = vec![0; n as usize];
    let work = async move {
        let resident_before = resident_bytes();
        let before = shared::work::alloc::live_bytes();
        // The requests come one after another: each handler is spawned once
        // the one before it is waiting (or, wrongly, done), so what a
        // handler needs only while it receives is freed before the next
        // one starts, and the memory counted is what the waiting ones hold.
        // The spawning is not traced, so that the recorder's notes of it
        // add nothing to the memory counted.
        let arrived = || PARKED.load(Ordering::SeqCst) + FINISHED.load(Ordering::SeqCst);
        let mut handles = Vec::with_capacity(n as usize);
        for id in 0..n {
            let handler = handle(id, backend.clone());
            // `map`, not an `async` block: it adds no copy of the handler's
            // future to the task.
            handles.push(tokio::spawn(futures::FutureExt::map(handler, |reply| {
                FINISHED.fetch_add(1, Ordering::SeqCst);
                ARRIVED.notify_one();
                reply
            })));
            while arrived() <= id {
                ARRIVED.notified().await;
            }
        }
        drop(backend);
        let waiting = async move {
            let early_replies = FINISHED.load(Ordering::SeqCst);
            let held = shared::work::alloc::live_bytes().saturating_sub(before);
            let resident_per_task = resident_before
                .zip(resident_bytes())
                .map(|(before, now)| now.saturating_sub(before) / n as usize);
            let unread_requests = READ
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .zip(0..)
                .filter(|&(&read, id)| read < request_shape(id).1)
                .count() as u32;
            shared::mark(&format!(
                "{n} handlers waiting, holding {:.1} MiB",
                held as f64 / (1024.0 * 1024.0)
            ));
            ready.send_replace(true);
            let (mut replies, mut wrong_replies) = (0, 0);
            for (id, handle) in (0..).zip(handles) {
                let reply = handle.await.expect("a handler does not panic");
                replies += 1;
                if reply.id != id || reply.checksum != expected_checksum(id) {
                    wrong_replies += 1;
                }
            }
            Parked {
                bytes_per_task: held / n as usize,
                resident_per_task,
                unread_requests,
                replies,
                wrong_replies,
                early_replies,
            }
        };
        waiting.traced("all waiting, then released").await
    };
    runtime.block_on(work)
}

/// A runtime with a timer, for the naps.
pub fn timer_runtime() -> tokio::runtime::Runtime {
    let mut builder = tokio::runtime::Builder::new_current_thread();
    name_threads(&mut builder, "", 0)
        .enable_time()
        .build()
        .expect("a current-thread runtime always builds")
}

/// Every allocation in a program that uses this crate is counted, so the
/// `size` harness can measure what waiting tasks hold.
#[global_allocator]
static ALLOC: shared::work::alloc::CountingAlloc = shared::work::alloc::CountingAlloc;

/// The `size` scenario: how big a handler's future is, and what thousands
/// of waiting handlers hold, in two rounds of requests.
pub mod size {
    use super::*;
    use std::process::ExitCode;

    pub static SPEC: Spec = Spec {
        name: "size",
        facts: &[
            fact("future_bytes", "bytes in one handler's future"),
            fact(
                "bytes_per_task",
                "heap bytes each waiting handler task holds (the most of the rounds)",
            ),
            fact(
                "wrong_replies",
                "replies whose checksum is not that of the request's bytes",
            ),
            fact(
                "early_replies",
                "handlers that replied before the backend answered",
            ),
            fact(
                "resident_per_task",
                "resident memory the process grew by per waiting handler, wherever the handler keeps its bytes (the most of the rounds; Linux only)",
            ),
            fact(
                "unread_requests",
                "handlers that waited for the backend without having read their request",
            ),
        ],
    };

    /// One round of requests: how many handlers wait at once, and the salt
    /// that makes its requests' bytes.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Round {
        pub handlers: u32,
        pub salt: u64,
    }

    /// The real run's two rounds, picked by `rng`: 800 to 1400 handlers,
    /// then 1600 to 2400, each round's requests made of bytes no program
    /// can know before it runs.
    pub fn rounds(rng: &mut Rng) -> Vec<Round> {
        vec![
            Round {
                handlers: rng.between(800, 1400) as u32,
                salt: rng.salt(),
            },
            Round {
                handlers: rng.between(1600, 2400) as u32,
                salt: rng.salt(),
            },
        ]
    }

    /// Measures `handle`: the size of its future, and the heap per task
    /// while each round's handlers wait; checks every reply. (The tests use
    /// fewer handlers.)
    pub fn measure<F, Fut>(facts: &Facts, rounds: &[Round], handle: F) -> Vec<Parked>
    where
        F: Fn(u32, Backend) -> Fut,
        Fut: Future<Output = Reply> + Send + 'static,
    {
        facts.set("future_bytes", size_of::<Fut>() as u32);
        let parked: Vec<Parked> = rounds
            .iter()
            .map(|round| {
                SALT.store(round.salt, Ordering::SeqCst);
                park_handlers(round.handlers, &handle)
            })
            .collect();
        facts.set(
            "bytes_per_task",
            parked.iter().map(|p| p.bytes_per_task).max().unwrap_or(0) as u32,
        );
        facts.set(
            "wrong_replies",
            parked.iter().map(|p| p.wrong_replies).sum::<u32>(),
        );
        facts.set(
            "early_replies",
            parked.iter().map(|p| p.early_replies).sum::<u32>(),
        );
        // Where the resident size cannot be read (not Linux), the allocator's
        // count stands in for it.
        facts.set(
            "resident_per_task",
            parked
                .iter()
                .map(|p| p.resident_per_task.unwrap_or(p.bytes_per_task))
                .max()
                .unwrap_or(0) as u32,
        );
        facts.set(
            "unread_requests",
            parked.iter().map(|p| p.unread_requests).sum::<u32>(),
        );
        parked
    }

    /// [`measure`] with narration, on this run's rounds.
    pub fn run<F, Fut>(facts: &Facts, handle: F)
    where
        F: Fn(u32, Backend) -> Fut,
        Fut: Future<Output = Reply> + Send + 'static,
    {
        let rounds = rounds(&mut Rng::for_scenario(SPEC.name));
        println!(
            "Each request handler receives its request into a {} KiB buffer, then waits for a slow backend.",
            BUFFER / 1024
        );
        println!(
            "{} future is {} bytes. Requests come one after another, in two rounds; all of a\nround's handlers wait at once, {} then {},",
            facts.The("handler's"),
            size_of::<Fut>(),
            rounds[0].handlers,
            rounds[1].handlers
        );
        println!(
            "their requests made at run time (seed {}; LESSON_SEED={} replays them):",
            seed(),
            seed()
        );
        let parked = measure(facts, &rounds, handle);
        for (round, p) in rounds.iter().zip(&parked) {
            let resident = match p.resident_per_task {
                Some(r) => format!(", {r} bytes resident"),
                None => String::new(),
            };
            println!(
                "  {} handlers: {} bytes of heap per waiting task ({:.2} MiB in all){resident};\n    {} requests unread while waiting; {} of {} replies right, {} before the backend answered.",
                round.handlers,
                p.bytes_per_task,
                (p.bytes_per_task * round.handlers as usize) as f64 / (1024.0 * 1024.0),
                p.unread_requests,
                p.replies - p.wrong_replies,
                p.replies,
                p.early_replies
            );
        }
    }

    pub fn piece<'a, F, Fut>(name: &'static str, handle: F) -> Piece<'a>
    where
        F: Fn(u32, Backend) -> Fut + 'a,
        Fut: Future<Output = Reply> + Send + 'static,
    {
        Piece::new(name, move |facts| run(facts, handle))
    }

    /// The exercise binary's `main`: judges the learner's `handle`.
    pub fn exercise<F, Fut>(handle: F) -> ExitCode
    where
        F: Fn(u32, Backend) -> Fut,
        Fut: Future<Output = Reply> + Send + 'static,
    {
        shared::lesson::main(
            LESSON,
            Variant::Exercise("size"),
            vec![SPEC.with(vec![piece("", handle)])],
        )
    }
}

/// The `naps` scenario: a hand-written state machine that should take a
/// count of naps one after the other and return their numbers added up,
/// judged in two shapes: beside a heartbeat that polls its task often, and
/// alone in a task of its own, several at once.
pub mod naps {
    use super::*;
    use std::process::ExitCode;

    pub static SPEC: Spec = Spec {
        name: "naps",
        facts: &[
            fact(
                "naps_started",
                "naps started, over the naps due (the most of the shapes)",
            )
            .live(),
            fact(
                "naps_done",
                "naps that ran to their end, one after the other, over the naps due (the fewest of the shapes)",
            ),
            fact(
                "elapsed_ratio",
                "the time the naps took, over their lengths added up (the shape farthest from 1)",
            )
            .timing(),
            fact(
                "held_ratio",
                "the longest a state machine held its thread in one poll, over its shortest nap",
            )
            .timing(),
            fact(
                "poll_asleep_ratio",
                "the longest a state machine's thread slept inside one of its polls (or its making or dropping), over its shortest nap",
            )
            .timing(),
            fact(
                "poll_cpu_ratio",
                "the most CPU time a state machine used in one poll (or its making or dropping), over its shortest nap",
            )
            .timing(),
            fact(
                "polls_per_nap",
                "polls of the state machines per nap due, leaving out the polls the heartbeat's ticks caused (the most of the shapes)",
            ),
            fact(
                "late_ratio",
                "the longest from a nap's timer waking the waker the nap was given to the next poll of that nap, over the nap's length (the most of all naps)",
            )
            .timing(),
            fact(
                "unwoken_polls",
                "polls of a nap, alone in its task, before its timer had woken it, besides the poll that started it",
            ),
            fact(
                "wrong_totals",
                "state machines that finished with a number other than their naps' numbers added up",
            ),
            fact(
                "short_machines",
                "state machines that finished having started fewer naps than were due",
            ),
        ],
    };

    /// One shape: whether a heartbeat shares the machines' task (and how
    /// often it ticks), each machine's naps, and the number each nap gives
    /// (`values[m][i]` for machine `m`'s `i`-th nap).
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Shape {
        pub heartbeat: Option<Duration>,
        pub machines: Vec<Vec<Duration>>,
        pub values: Vec<Vec<u64>>,
    }

    impl Shape {
        pub fn describe(&self) -> String {
            let naps = |m: &Vec<Duration>| {
                m.iter()
                    .map(|d| d.as_millis().to_string())
                    .collect::<Vec<_>>()
                    .join(" + ")
            };
            let list = self
                .machines
                .iter()
                .map(|m| format!("{} naps: {} ms", m.len(), naps(m)))
                .collect::<Vec<_>>()
                .join(", ");
            match self.heartbeat {
                Some(tick) => format!(
                    "one machine ({list}) beside a heartbeat every {} ms in the same task",
                    tick.as_millis()
                ),
                None => format!(
                    "{} machines at once ({list}), each alone in a task of its own",
                    self.machines.len()
                ),
            }
        }
    }

    fn naps(rng: &mut Rng, count: u64) -> Vec<Duration> {
        (0..count)
            .map(|_| Duration::from_millis(rng.between(30, 60)))
            .collect()
    }

    /// The two shapes, picked by `rng`: one machine of 3 or 4 naps beside
    /// a heartbeat of 5 to 15 ms, then 2 or 3 machines each alone in its
    /// task, where nothing but its own wake-ups gets it polled: the first
    /// of 2 naps, the others of 2 to 4. So no one count fits both shapes.
    /// Every nap lasts 30 to 60 ms and gives a number from 1 to 999 999.
    /// The first machine alone has a short nap (30 to 38 ms) and a long one
    /// (50 to 60 ms), in either order: a task polled on a clock instead of
    /// on its wake-ups either polls the long nap before its timer woke it
    /// or notices the short one's end 12 ms late or more (a third of it).
    pub fn shapes(rng: &mut Rng) -> Vec<Shape> {
        let shape = |heartbeat, counts: Vec<u64>, rng: &mut Rng| {
            let machines: Vec<_> = counts.iter().map(|&c| naps(rng, c)).collect();
            let values = machines
                .iter()
                .map(|m| m.iter().map(|_| rng.between(1, 999_999)).collect())
                .collect();
            Shape {
                heartbeat,
                machines,
                values,
            }
        };
        let tick = Duration::from_millis(rng.between(5, 15));
        let count = rng.between(3, 4);
        let beside = shape(Some(tick), vec![count], rng);
        let mut counts = vec![2];
        for _ in 1..rng.between(2, 3) {
            counts.push(rng.between(2, 4));
        }
        let mut alone = shape(None, counts, rng);
        let mut first = vec![
            Duration::from_millis(rng.between(30, 38)),
            Duration::from_millis(rng.between(50, 60)),
        ];
        rng.shuffle(&mut first);
        alone.machines[0] = first;
        vec![beside, alone]
    }

    /// What one shape showed.
    #[derive(Clone, Debug, PartialEq)]
    pub struct Shown {
        pub due: usize,
        pub started: usize,
        pub done: usize,
        /// Time taken over the longest machine's naps added up.
        pub elapsed_ratio: f64,
        /// Heartbeat ticks in the shape.
        pub ticks: u32,
        /// Polls of the machines, all together.
        pub polls: u64,
        /// Machines that finished with another number than their naps'
        /// numbers added up.
        pub wrong_totals: u32,
        /// Machines that finished having started fewer naps than due.
        pub short: u32,
        /// The latest a nap's wake-up was noticed, over its length.
        pub late_ratio: f64,
        /// Polls of naps before their timers woke them, besides the first
        /// of each (counted only where each machine is alone in its task).
        pub unwoken_polls: u32,
    }

    impl Shown {
        /// Polls per nap due, leaving out one poll per heartbeat tick (each
        /// tick polls the task, and so the machine beside it). A machine
        /// that waits for its wake-ups is polled once to start, once at
        /// each nap's end, and on the heartbeat's ticks: under two per nap.
        /// One that wakes itself over and over is polled far more.
        pub fn polls_per_nap(&self) -> f64 {
            self.polls.saturating_sub(u64::from(self.ticks)) as f64 / self.due.max(1) as f64
        }
    }

    /// A state machine under the harness's watch: each of its polls is
    /// counted, and each poll, and its drop, is timed into `held`. The
    /// machine never sees any of it. (Boxed, so that this is `Unpin`
    /// whatever the machine is.)
    struct Watched<N> {
        inner: Option<Pin<Box<N>>>,
        held: Held,
        polls: Arc<AtomicU64>,
        /// What the machine returned, once it has.
        out: Arc<Mutex<Option<u64>>>,
    }

    impl<N: Future<Output = u64>> Future for Watched<N> {
        type Output = ();

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            let this = self.get_mut();
            let Some(inner) = this.inner.as_mut() else {
                return Poll::Ready(());
            };
            this.polls.fetch_add(1, Ordering::Relaxed);
            let Poll::Ready(total) = this.held.time(|| inner.as_mut().poll(cx)) else {
                return Poll::Pending;
            };
            *this.out.lock().unwrap() = Some(total);
            let done = this.inner.take();
            this.held.time(|| drop(done));
            Poll::Ready(())
        }
    }

    impl<N> Drop for Watched<N> {
        fn drop(&mut self) {
            if let Some(inner) = self.inner.take() {
                self.held.time(|| drop(inner));
            }
        }
    }

    /// Runs `machines` together in one task beside a heartbeat ticking
    /// every `tick`, until all are done; at every tick the facts get the
    /// naps started so far (over `due`), so a run that never ends still
    /// reports them. Returns the ticks.
    pub async fn naps_with_heartbeat<F: Future<Output = ()>>(
        machines: F,
        tick: Duration,
        plans: &[Arc<NapPlan>],
        facts: &Facts,
    ) -> u32 {
        let due: usize = plans.iter().map(|p| p.due()).sum();
        let started = || plans.iter().map(|p| p.started()).sum::<usize>() as f64 / due as f64;
        let mut ticks = 0;
        let heartbeat = async {
            let mut interval = tokio::time::interval(tick);
            loop {
                interval.tick().await;
                ticks += 1;
                facts.set("naps_started", started());
            }
        };
        tokio::select! {
            () = machines => {}
            () = heartbeat.traced("heartbeat") => unreachable!("the heartbeat never ends"),
        }
        ticks
    }

    /// Runs the machines `make` makes (given each machine's count of
    /// naps), in each shape in turn, on the current runtime (which needs a
    /// timer), and measures them. Never returns if the machine beside the
    /// heartbeat never finishes: that is the bug. Alone, a machine that
    /// waits for wake-ups nobody will send is given up on after four times
    /// its naps.
    pub async fn measure<N>(facts: &Facts, shapes: &[Shape], make: fn(u32) -> N) -> Vec<Shown>
    where
        N: Future<Output = u64> + 'static,
    {
        let held = Held::new();
        let mut shortest = Duration::MAX;
        let mut shown = Vec::new();
        for shape in shapes {
            shared::mark(&shape.describe());
            let plans: Vec<Arc<NapPlan>> = shape
                .machines
                .iter()
                .zip(&shape.values)
                .map(|(m, v)| NapPlan::new(m.clone(), v.clone()))
                .collect();
            shortest = shortest.min(plans.iter().map(|p| p.shortest()).min().unwrap_or(NAP));
            let ideal = plans.iter().map(|p| p.time()).max().unwrap_or(NAP);
            let polls = Arc::new(AtomicU64::new(0));
            let outs: Vec<Arc<Mutex<Option<u64>>>> = plans.iter().map(|_| Arc::default()).collect();
            let machines: Vec<_> = plans
                .iter()
                .zip(&outs)
                .enumerate()
                .map(|(i, (plan, out))| {
                    // Making a machine is timed like a poll: it runs on the
                    // thread the machines share, too.
                    let count = plan.due() as u32;
                    let machine = plan.make(|| held.time(|| make(count)));
                    let watched = Watched {
                        inner: Some(Box::pin(machine)),
                        held: held.clone(),
                        polls: polls.clone(),
                        out: out.clone(),
                    };
                    plan.scope(watched).traced(format!("machine {}", i + 1))
                })
                .collect();
            let start = Instant::now();
            let ticks = match shape.heartbeat {
                Some(tick) => {
                    let all = futures::future::join_all(machines);
                    let all = async {
                        all.await;
                    };
                    naps_with_heartbeat(all, tick, &plans, facts).await
                }
                None => {
                    let local = tokio::task::LocalSet::new();
                    let cap = ideal * 4 + Duration::from_millis(100);
                    local
                        .run_until(async {
                            let tasks: Vec<_> =
                                machines.into_iter().map(tokio::task::spawn_local).collect();
                            let _ =
                                tokio::time::timeout(cap, futures::future::join_all(tasks)).await;
                        })
                        .await;
                    0
                }
            };
            let elapsed = start.elapsed();
            let end = Instant::now();
            let due: usize = plans.iter().map(|p| p.due()).sum();
            shown.push(Shown {
                due,
                started: plans.iter().map(|p| p.started()).sum(),
                done: plans.iter().map(|p| p.done()).sum(),
                elapsed_ratio: elapsed.as_secs_f64() / ideal.as_secs_f64(),
                ticks,
                polls: polls.load(Ordering::Relaxed),
                wrong_totals: plans
                    .iter()
                    .zip(&outs)
                    .filter(|(plan, out)| out.lock().unwrap().is_some_and(|t| t != plan.total()))
                    .count() as u32,
                short: plans
                    .iter()
                    .zip(&outs)
                    .filter(|(plan, out)| {
                        out.lock().unwrap().is_some() && plan.started() < plan.due()
                    })
                    .count() as u32,
                late_ratio: plans.iter().map(|p| p.late_ratio(end)).fold(0.0, f64::max),
                // Beside the heartbeat, its ticks poll the machine too.
                unwoken_polls: if shape.heartbeat.is_none() {
                    plans.iter().map(|p| p.unwoken_polls()).sum()
                } else {
                    0
                },
            });
        }
        let ratio = |n: usize, due: usize| n as f64 / due.max(1) as f64;
        facts.set(
            "naps_started",
            shown
                .iter()
                .map(|s| ratio(s.started, s.due))
                .fold(0.0, f64::max),
        );
        facts.set(
            "naps_done",
            shown
                .iter()
                .map(|s| ratio(s.done, s.due))
                .fold(f64::INFINITY, f64::min),
        );
        facts.set(
            "elapsed_ratio",
            shown
                .iter()
                .map(|s| s.elapsed_ratio)
                .max_by(|a, b| a.ln().abs().total_cmp(&b.ln().abs()))
                .unwrap_or(0.0),
        );
        facts.set("held_ratio", held.longest_ratio(shortest));
        facts.set("poll_asleep_ratio", held.longest_asleep_ratio(shortest));
        facts.set("poll_cpu_ratio", held.longest_cpu_ratio(shortest));
        facts.set(
            "polls_per_nap",
            shown.iter().map(Shown::polls_per_nap).fold(0.0, f64::max),
        );
        facts.set(
            "late_ratio",
            shown.iter().map(|s| s.late_ratio).fold(0.0, f64::max),
        );
        facts.set(
            "unwoken_polls",
            shown.iter().map(|s| s.unwoken_polls).sum::<u32>(),
        );
        facts.set(
            "wrong_totals",
            shown.iter().map(|s| s.wrong_totals).sum::<u32>(),
        );
        facts.set("short_machines", shown.iter().map(|s| s.short).sum::<u32>());
        shown
    }

    /// [`measure`] with narration, on a runtime of its own.
    pub fn run<N>(facts: &Facts, make: fn(u32) -> N)
    where
        N: Future<Output = u64> + 'static,
    {
        shared::contract::watchdog::default_deadline(Duration::from_secs(2));
        let shapes = shapes(&mut Rng::for_scenario(SPEC.name));
        println!(
            "{} state machine should take its naps, one after the other, and return",
            facts.The("hand-written")
        );
        println!("what they gave, added up.");
        println!(
            "It runs in two shapes, nap lengths picked at run time (seed {}; LESSON_SEED={}",
            seed(),
            seed()
        );
        println!("replays them):");
        for (i, shape) in shapes.iter().enumerate() {
            println!("  {}. {}", i + 1, shape.describe());
        }
        println!("(If it never finishes, the watchdog stops it after 2 s.)");
        let shown = timer_runtime().block_on(measure(facts, &shapes, make));
        for (i, s) in shown.iter().enumerate() {
            println!(
                "Shape {}: {} of {} naps taken one after the other, {} started, in {:.2} times their lengths{};\n  a nap's end noticed at most {:.2} of the nap late; {} machine(s) returned a wrong total.",
                i + 1,
                s.done,
                s.due,
                s.started,
                s.elapsed_ratio,
                if s.ticks > 0 {
                    format!(", over {} heartbeat ticks", s.ticks)
                } else {
                    String::new()
                },
                s.late_ratio,
                s.wrong_totals
            );
        }
    }

    pub fn piece<'a, N>(name: &'static str, make: fn(u32) -> N) -> Piece<'a>
    where
        N: Future<Output = u64> + 'static,
    {
        Piece::new(name, move |facts| run(facts, make))
    }

    /// The exercise binary's `main`: judges the learner's state machine.
    pub fn exercise<N>(make: fn(u32) -> N) -> ExitCode
    where
        N: Future<Output = u64> + 'static,
    {
        shared::lesson::main(
            LESSON,
            Variant::Exercise("naps"),
            vec![SPEC.with(vec![piece("", make)])],
        )
    }
}
