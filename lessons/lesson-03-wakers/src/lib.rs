//! # Lesson 03: wakers
//!
//! Returning `Poll::Pending` is a promise: "someone will wake me when it is
//! worth polling again". An executor does not poll a pending task on its
//! own; it waits for the task's `Waker` to be called. This crate writes three
//! delay futures by hand, one per way of keeping (or breaking) that promise,
//! and a small executor that runs tasks only when their wakers ask.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;
use tokio::time::Instant;

// ANCHOR: forgetful
/// BROKEN: says "not yet" and arranges nothing. Nobody will ever call the
/// waker, so no executor will ever poll this future again.
pub struct ForgetfulDelay {
    deadline: Instant,
}

impl ForgetfulDelay {
    pub fn new(duration: Duration) -> Self {
        ForgetfulDelay {
            deadline: Instant::now() + duration,
        }
    }
}

impl Future for ForgetfulDelay {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            Poll::Ready(())
        } else {
            Poll::Pending // BROKEN: a promise nobody will keep
        }
    }
}
// ANCHOR_END: forgetful

// ANCHOR: spin
/// NOT A FIX: wakes itself on every poll, so the executor polls it again at
/// once, over and over, until the deadline. It finishes, but it keeps a
/// core busy doing nothing.
pub struct SpinDelay {
    deadline: Instant,
}

impl SpinDelay {
    pub fn new(duration: Duration) -> Self {
        SpinDelay {
            deadline: Instant::now() + duration,
        }
    }
}

impl Future for SpinDelay {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            Poll::Ready(())
        } else {
            cx.waker().wake_by_ref(); // SPIN: "poll me again right now"
            Poll::Pending
        }
    }
}
// ANCHOR_END: spin

// ANCHOR: timer_delay
/// What the future and its timer thread share.
#[derive(Default)]
struct Shared {
    fired: bool,
    waker: Option<Waker>,
}

/// FIXED: on its first poll it starts a timer thread. Every poll leaves the
/// current waker where the thread can find it; when the time is up, the
/// thread sets `fired` and wakes that waker, once.
pub struct TimerDelay {
    duration: Duration,
    shared: Arc<Mutex<Shared>>,
    started: bool,
}

impl TimerDelay {
    pub fn new(duration: Duration) -> Self {
        TimerDelay {
            duration,
            shared: Arc::default(),
            started: false,
        }
    }
}

impl Future for TimerDelay {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut shared = self.shared.lock().unwrap();
        if shared.fired {
            return Poll::Ready(());
        }
        // FIXED: keep the *latest* waker. The task may have moved to another
        // thread or executor since the last poll; waking an old waker could
        // wake nobody.
        match &shared.waker {
            Some(old) if old.will_wake(cx.waker()) => {}
            _ => shared.waker = Some(cx.waker().clone()),
        }
        drop(shared);
        if !self.started {
            self.started = true;
            let trigger = self.trigger();
            let duration = self.duration;
            std::thread::spawn(move || {
                std::thread::sleep(duration);
                trigger.fire();
            });
        }
        Poll::Pending
    }
}
// ANCHOR_END: timer_delay

// ANCHOR: trigger
/// The timer's side of a [`TimerDelay`]: what the timer thread holds.
pub struct Trigger(Arc<Mutex<Shared>>);

impl Trigger {
    /// Marks the delay as done and wakes whoever polled it last.
    pub fn fire(&self) {
        let waker = {
            let mut shared = self.0.lock().unwrap();
            shared.fired = true;
            shared.waker.take()
        };
        // Wake outside the lock: the woken task may poll (and lock) at once.
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}
// ANCHOR_END: trigger

impl TimerDelay {
    /// A handle that fires this delay. The timer thread uses one; tests use
    /// one to fire it exactly when they want.
    pub fn trigger(&self) -> Trigger {
        Trigger(self.shared.clone())
    }
}

pin_project_lite::pin_project! {
    /// Counts the polls of the future inside and reports each new count to
    /// `report`, so the count is known even if the program never finishes.
    pub struct CountPolls<F> {
        #[pin]
        inner: F,
        polls: u32,
        report: fn(u32),
    }
}

impl<F> CountPolls<F> {
    pub fn new(inner: F, report: fn(u32)) -> Self {
        CountPolls {
            inner,
            polls: 0,
            report,
        }
    }
}

impl<F: Future> Future for CountPolls<F> {
    type Output = (F::Output, u32);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        *this.polls += 1;
        (this.report)(*this.polls);
        match this.inner.poll(cx) {
            Poll::Ready(v) => Poll::Ready((v, *this.polls)),
            Poll::Pending => Poll::Pending,
        }
    }
}

// ANCHOR: executor
type Job = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A task: a future, plus the way back onto the run queue.
struct Task {
    id: usize,
    future: Mutex<Option<Job>>,
    run_queue: Sender<Arc<Task>>,
}

/// A hand-built waker: waking a task means putting it back on the queue.
impl Wake for Task {
    fn wake(self: Arc<Self>) {
        let queue = self.run_queue.clone();
        // If the executor is gone there is nobody left to run it: fine.
        let _ = queue.send(self);
    }
}

/// An executor in thirty lines. It polls a task when the task is first
/// spawned and after that *only* when the task's waker sends it back on
/// the run queue. Between wake-ups it sleeps in `recv`.
pub struct MiniExecutor {
    run_queue: Sender<Arc<Task>>,
    woken: Receiver<Arc<Task>>,
    polls: HashMap<usize, u32>,
}

impl Default for MiniExecutor {
    fn default() -> Self {
        let (run_queue, woken) = channel();
        MiniExecutor {
            run_queue,
            woken,
            polls: HashMap::new(),
        }
    }
}

impl MiniExecutor {
    pub fn spawn(&mut self, future: impl Future<Output = ()> + Send + 'static) {
        let id = self.polls.len();
        self.polls.insert(id, 0);
        let task = Arc::new(Task {
            id,
            future: Mutex::new(Some(Box::pin(future))),
            run_queue: self.run_queue.clone(),
        });
        self.run_queue.send(task).unwrap();
    }

    /// Runs until every task is done; returns each task's poll count, in
    /// spawn order.
    pub fn run(mut self) -> Vec<u32> {
        let mut unfinished = self.polls.len();
        while unfinished > 0 {
            // Sleeps until some waker puts a task on the queue.
            let task = self.woken.recv().unwrap();
            let mut slot = task.future.lock().unwrap();
            let Some(future) = slot.as_mut() else {
                continue; // a late wake-up for a finished task
            };
            let waker = Waker::from(task.clone());
            let mut cx = Context::from_waker(&waker);
            *self.polls.get_mut(&task.id).unwrap() += 1;
            if future.as_mut().poll(&mut cx).is_ready() {
                *slot = None;
                unfinished -= 1;
            }
        }
        (0..self.polls.len()).map(|id| self.polls[&id]).collect()
    }
}
// ANCHOR_END: executor

/// A runtime with no timer and no I/O driver: our futures bring their own
/// wake-ups (or, when broken, none).
pub fn current_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime always builds")
}

/// Process CPU time used while running `f`, over the wall-clock time it
/// took: about 1 when one core was busy the whole time, near 0 when asleep.
pub fn cpu_ratio<R>(f: impl FnOnce() -> R) -> (R, f64) {
    let wall = std::time::Instant::now();
    let cpu = shared::workload::cpu_time();
    let out = f();
    let used = shared::workload::cpu_time().saturating_sub(cpu);
    (
        out,
        used.as_secs_f64() / wall.elapsed().as_secs_f64().max(1e-9),
    )
}
