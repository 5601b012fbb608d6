//! # Lesson 02: state machines
//!
//! The compiler turns an `async fn` into an enum: one variant per `.await`
//! where it can stop, each holding the local variables still needed after
//! that point. The future is at least as big as its biggest variant. This
//! crate writes such an enum by hand beside the `async fn` it mirrors, then
//! shows the two ways the layout bites: a big local kept across an `.await`
//! makes every task big, and a hand-written state machine that forgets to
//! keep its inner future in its state starts over on every poll.

use shared::TraceExt;
use shared::lesson::{Facts, Piece, Spec, Variant, fact};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Sleep;

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

/// Fills `buffer` with request `id`'s bytes, as reading a socket would, and
/// returns how many bytes the request has.
pub fn read_request(id: u32, buffer: &mut [u8]) -> usize {
    let len = buffer.len() / 2 + (id as usize % (buffer.len() / 2));
    for (i, b) in buffer[..len].iter_mut().enumerate() {
        *b = (i as u32).wrapping_mul(31).wrapping_add(id) as u8;
    }
    len
}

pub fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// The slow backend every handler waits for: handlers wait until the value
/// turns `true`.
pub type Backend = watch::Receiver<bool>;

/// Counts handlers that have reached their `.await`, so the harness knows
/// when all of them are waiting.
pub static PARKED: AtomicU32 = AtomicU32::new(0);

pub async fn wait_for_backend(mut backend: Backend) {
    PARKED.fetch_add(1, Ordering::SeqCst);
    // The sender lives until every handler is done, so this cannot fail.
    let _ = backend.wait_for(|ready| *ready).await;
}

pub mod broken {
    use super::*;

    // ANCHOR: broken_handler
    /// Reads a request, waits for the backend, replies with a checksum.
    pub async fn handle(id: u32, backend: Backend) -> Reply {
        let mut buffer = [0u8; BUFFER]; // BROKEN: alive across the .await below
        let len = read_request(id, &mut buffer);
        wait_for_backend(backend).await; // so every waiting task holds 16 KiB
        Reply {
            id,
            checksum: checksum(&buffer[..len]),
        }
    }
    // ANCHOR_END: broken_handler

    // ANCHOR: broken_naps
    /// Should nap 30 ms twice, then finish. It keeps only *which* nap it is
    /// in, not the nap itself.
    pub enum TwoNaps {
        First,
        Second,
        Done,
    }

    impl Future for TwoNaps {
        type Output = ();

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            loop {
                match *self {
                    TwoNaps::First | TwoNaps::Second => {
                        let mut nap = Box::pin(nap()); // BROKEN: a new nap on every poll,
                        if nap.as_mut().poll(cx).is_pending() {
                            return Poll::Pending; // ...dropped here, timer and all
                        }
                        *self = match *self {
                            TwoNaps::First => TwoNaps::Second,
                            _ => TwoNaps::Done,
                        };
                    }
                    TwoNaps::Done => return Poll::Ready(()),
                }
            }
        }
    }
    // ANCHOR_END: broken_naps
}

pub mod fixed {
    use super::*;

    // ANCHOR: fixed_handler
    /// The same handler, with the buffer's scope ended before the `.await`:
    /// only the 8-byte checksum is kept across it.
    pub async fn handle(id: u32, backend: Backend) -> Reply {
        let checksum = {
            let mut buffer = [0u8; BUFFER]; // FIXED: dropped at the end of this block
            let len = read_request(id, &mut buffer);
            checksum(&buffer[..len])
        };
        wait_for_backend(backend).await; // the future holds no buffer now
        Reply { id, checksum }
    }
    // ANCHOR_END: fixed_handler

    // ANCHOR: fixed_naps
    /// The same two naps, with each nap kept in the state that waits on it.
    pub enum TwoNaps {
        Start,
        First(Pin<Box<Sleep>>), // FIXED: the nap lives in the state
        Second(Pin<Box<Sleep>>),
        Done,
    }

    impl Future for TwoNaps {
        type Output = ();

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            loop {
                let next = match &mut *self {
                    TwoNaps::Start => TwoNaps::First(Box::pin(nap())),
                    TwoNaps::First(nap_one) => match nap_one.as_mut().poll(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(()) => TwoNaps::Second(Box::pin(nap())),
                    },
                    TwoNaps::Second(nap_two) => match nap_two.as_mut().poll(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(()) => TwoNaps::Done,
                    },
                    TwoNaps::Done => return Poll::Ready(()),
                };
                *self = next;
            }
        }
    }
    // ANCHOR_END: fixed_naps
}

/// How long one nap lasts.
pub const NAP: Duration = Duration::from_millis(30);

thread_local! {
    /// Naps started on this thread so far (each is a fresh 30 ms timer).
    static NAPS_STARTED: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Naps started on this thread so far.
pub fn naps_started() -> u32 {
    NAPS_STARTED.with(std::cell::Cell::get)
}

/// One 30 ms nap: a fresh timer, counted.
pub fn nap() -> Sleep {
    NAPS_STARTED.with(|n| n.set(n.get() + 1));
    tokio::time::sleep(NAP)
}

/// Runs `naps` beside a heartbeat that ticks every 10 ms in the same task,
/// as real code often has, until the naps are done; at every tick the facts
/// get the naps started so far, so a run that never ends still reports them.
/// Returns the ticks.
pub async fn naps_with_heartbeat(naps: impl Future<Output = ()>, facts: &Facts) -> u32 {
    let before = naps_started();
    let mut ticks = 0;
    let heartbeat = async {
        let mut interval = tokio::time::interval(Duration::from_millis(10));
        loop {
            interval.tick().await;
            ticks += 1;
            facts.set("naps_started", naps_started() - before);
        }
    };
    tokio::select! {
        () = naps.traced("two naps") => {}
        () = heartbeat.traced("heartbeat") => unreachable!("the heartbeat never ends"),
    }
    facts.set("naps_started", naps_started() - before);
    ticks
}

/// What spawning many handlers cost.
#[derive(Debug, Clone, Copy)]
pub struct Parked {
    /// Heap bytes held per task while every handler waited.
    pub bytes_per_task: usize,
    /// Replies received once the backend answered.
    pub replies: u32,
    /// Replies whose checksum was not the request's.
    pub wrong_replies: u32,
}

/// The checksum a correct handler replies with for request `id`.
pub fn expected_checksum(id: u32) -> u64 {
    let mut buffer = vec![0u8; BUFFER];
    let len = read_request(id, &mut buffer);
    checksum(&buffer[..len])
}

/// Spawns `n` handlers on a current-thread runtime, waits until all of them
/// are parked at their `.await`, measures the heap they hold (counted by
/// this crate's allocator), then lets them finish and checks every reply.
pub fn park_handlers<F, Fut>(n: u32, handle: F) -> Parked
where
    F: Fn(u32, Backend) -> Fut,
    Fut: Future<Output = Reply> + Send + 'static,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime always builds");
    let (ready, backend) = watch::channel(false);
    PARKED.store(0, Ordering::SeqCst);
    let work = async move {
        let before = shared::work::alloc::live_bytes();
        let handles: Vec<_> = (0..n)
            .map(|id| tokio::spawn(handle(id, backend.clone())))
            .collect();
        // Let every handler run up to its .await.
        while PARKED.load(Ordering::SeqCst) < n {
            tokio::task::yield_now().await;
        }
        let held = shared::work::alloc::live_bytes().saturating_sub(before);
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
            replies,
            wrong_replies,
        }
    };
    runtime.block_on(work.traced("spawn, wait, release"))
}

/// A runtime with a timer, for the naps.
pub fn timer_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime always builds")
}

/// Every allocation in a program that uses this crate is counted, so the
/// `size` harness can measure what waiting tasks hold.
#[global_allocator]
static ALLOC: shared::work::alloc::CountingAlloc = shared::work::alloc::CountingAlloc;

/// The `size` scenario: how big a handler's future is, and what thousands
/// of waiting handlers hold.
pub mod size {
    use super::*;
    use std::process::ExitCode;

    pub static SPEC: Spec = Spec {
        name: "size",
        facts: &[
            fact("future_bytes", "bytes in one handler's future"),
            fact(
                "bytes_per_task",
                "heap bytes each waiting handler task holds",
            ),
            fact("wrong_replies", "replies with the wrong checksum"),
        ],
    };

    /// Handlers spawned by the real run.
    pub const HANDLERS: u32 = 2000;

    /// Measures `handle`: the size of its future, and the heap per task
    /// while `n` of them wait. (The tests use fewer handlers.)
    pub fn measure<F, Fut>(facts: &Facts, n: u32, handle: F) -> Parked
    where
        F: Fn(u32, Backend) -> Fut,
        Fut: Future<Output = Reply> + Send + 'static,
    {
        facts.set("future_bytes", size_of::<Fut>() as u32);
        let parked = park_handlers(n, handle);
        facts.set("bytes_per_task", parked.bytes_per_task as u32);
        facts.set("wrong_replies", parked.wrong_replies);
        parked
    }

    /// [`measure`] with narration.
    pub fn run<F, Fut>(facts: &Facts, handle: F)
    where
        F: Fn(u32, Backend) -> Fut,
        Fut: Future<Output = Reply> + Send + 'static,
    {
        println!(
            "Each request handler reads into a {} KiB buffer, then waits for a slow backend.",
            BUFFER / 1024
        );
        println!(
            "{} future is {} bytes. Spawning {HANDLERS} of them and letting them all wait:",
            facts.The("handler's"),
            size_of::<Fut>()
        );
        let parked = measure(facts, HANDLERS, handle);
        println!(
            "  {} bytes of heap per waiting task, {:.2} MiB in all; {} of {} replies correct.",
            parked.bytes_per_task,
            (parked.bytes_per_task * HANDLERS as usize) as f64 / (1024.0 * 1024.0),
            parked.replies - parked.wrong_replies,
            parked.replies
        );
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
            "lesson-02",
            Variant::Exercise("size"),
            vec![SPEC.with(vec![piece("", handle)])],
        )
    }
}

/// The `naps` scenario: a hand-written state machine that should nap twice.
pub mod naps {
    use super::*;
    use std::process::ExitCode;

    pub static SPEC: Spec = Spec {
        name: "naps",
        facts: &[
            fact("naps_started", "30 ms naps started").live(),
            fact("elapsed_ratio", "time taken over two naps' time"),
        ],
    };

    /// Runs the naps beside a heartbeat in one task, on the current
    /// runtime (which needs a timer), and measures them. Never returns if
    /// the naps never finish: that is the bug.
    pub async fn measure<N: Future<Output = ()>>(facts: &Facts, naps: N) -> u32 {
        let start = tokio::time::Instant::now();
        let ticks = naps_with_heartbeat(naps, facts).await;
        facts.set(
            "elapsed_ratio",
            start.elapsed().as_secs_f64() / (2.0 * NAP.as_secs_f64()),
        );
        ticks
    }

    /// [`measure`] with narration, on a runtime of its own.
    pub fn run<N: Future<Output = ()>>(facts: &Facts, naps: impl FnOnce() -> N) {
        shared::contract::watchdog::default_deadline(Duration::from_secs(2));
        println!(
            "{} state machine should nap 30 ms twice. A heartbeat in the same task ticks",
            facts.The("hand-written")
        );
        println!("every 10 ms, so the task is polled every 10 ms.");
        println!("(If it never finishes, the watchdog stops it after 2 s.)");
        // The state machine is made inside the runtime: a nap needs its timer.
        let ticks = timer_runtime().block_on(async { measure(facts, naps()).await });
        println!(
            "Done after {ticks} heartbeat ticks, having started {} naps.",
            facts.get("naps_started").unwrap_or(0.0)
        );
    }

    pub fn piece<'a, N: Future<Output = ()>>(
        name: &'static str,
        naps: impl FnOnce() -> N + 'a,
    ) -> Piece<'a> {
        Piece::new(name, move |facts| run(facts, naps))
    }

    /// The exercise binary's `main`: judges the learner's state machine.
    pub fn exercise<N: Future<Output = ()>>(naps: fn() -> N) -> ExitCode {
        shared::lesson::main(
            "lesson-02",
            Variant::Exercise("naps"),
            vec![SPEC.with(vec![piece("", naps)])],
        )
    }
}
