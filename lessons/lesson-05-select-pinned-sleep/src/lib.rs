//! # Lesson 05: select with a pinned sleep
//!
//! `tokio::select!` polls several futures and, as soon as one finishes,
//! drops all the others. A future created inside a `loop { select! { ... } }`
//! is therefore created anew, and dropped, on every turn. For a timer that
//! means "start again". A future that must survive across turns has to live
//! outside the loop, pinned, and be selected by `&mut`.

use futures::{Stream, StreamExt};
use shared::TraceExt;
use shared::lesson::{Facts, Piece, Spec, Variant, fact};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep};

/// A work item arrives this often.
pub const WORK_EVERY: Duration = Duration::from_millis(10);
/// The worker should report this often.
pub const REPORT_EVERY: Duration = Duration::from_millis(100);
/// How many work items the producer sends (one second's worth).
pub const ITEMS: u32 = 100;
/// How long the `deadline` scenario may read its stream.
pub const DEADLINE: Duration = Duration::from_secs(1);

/// The worker's inbox. The harness counts every item taken out of it.
pub struct Work {
    items: mpsc::Receiver<u32>,
    taken: Arc<AtomicU32>,
}

impl Work {
    /// The next item, or `None` once the producer is done. Like
    /// `mpsc::Receiver::recv`, it is cancel-safe: if it loses a `select!`,
    /// no item is lost.
    pub async fn recv(&mut self) -> Option<u32> {
        let item = self.items.recv().await;
        if item.is_some() {
            self.taken.fetch_add(1, Ordering::SeqCst);
        }
        item
    }
}

/// Where the worker reports. The harness notes when each report was made.
pub struct Reports {
    times: Arc<Mutex<Vec<Instant>>>,
    handled: Arc<AtomicU32>,
}

impl Reports {
    /// Makes one report (and marks it on the timeline).
    pub fn report(&mut self) {
        let mut times = self.times.lock().unwrap();
        times.push(Instant::now());
        shared::mark(&format!(
            "report {}: {} items handled",
            times.len(),
            self.handled.load(Ordering::SeqCst)
        ));
    }
}

/// Sends `ITEMS` work items, one every `WORK_EVERY`, then hangs up.
pub async fn producer(tx: mpsc::Sender<u32>) {
    let mut every = tokio::time::interval(WORK_EVERY);
    for item in 0..ITEMS {
        every.tick().await;
        if tx.send(item).await.is_err() {
            return;
        }
    }
}

pub mod broken {
    use super::*;

    // ANCHOR: broken_worker
    /// Handles work items until there are no more, and should report every
    /// 100 ms meanwhile.
    pub async fn worker(mut work: Work, mut reports: Reports) {
        loop {
            tokio::select! {
                item = work.recv() => match item {
                    Some(item) => handle(item),
                    None => return,
                },
                // BROKEN: a brand-new 100 ms sleep on every turn of the loop.
                // Work arrives every 10 ms, so it never gets to finish.
                () = sleep(REPORT_EVERY) => reports.report(),
            }
        }
    }
    // ANCHOR_END: broken_worker

    // ANCHOR: broken_deadline
    /// Reads numbers for at most `DEADLINE`... or so it seems.
    pub async fn read_until_deadline(numbers: impl Stream<Item = u32>) -> u32 {
        let mut numbers = pin!(numbers);
        let mut read = 0;
        loop {
            tokio::select! {
                Some(_) = numbers.next() => read += 1,
                () = sleep(DEADLINE) => return read, // BROKEN: restarts on every number
            }
        }
    }
    // ANCHOR_END: broken_deadline
}

pub mod fixed {
    use super::*;

    // ANCHOR: fixed_worker
    /// The same worker with one timer that lives across the loop.
    pub async fn worker(mut work: Work, mut reports: Reports) {
        // FIXED: created once, outside the loop, and pinned where it is.
        let report_timer = sleep(REPORT_EVERY);
        tokio::pin!(report_timer);
        loop {
            tokio::select! {
                item = work.recv() => match item {
                    Some(item) => handle(item),
                    None => return,
                },
                // FIXED: `&mut` polls the one timer without consuming it...
                () = &mut report_timer => {
                    reports.report();
                    // ...and after it fires, we set it for the next report.
                    report_timer.as_mut().reset(Instant::now() + REPORT_EVERY);
                }
            }
        }
    }
    // ANCHOR_END: fixed_worker

    // ANCHOR: fixed_interval
    /// The library's answer: an `Interval` keeps its own schedule, and its
    /// `tick()` is safe to drop unfinished in a `select!`.
    pub async fn worker_with_interval(mut work: Work, mut reports: Reports) {
        // The first tick one period from now (`interval` would tick at once).
        let mut every = tokio::time::interval_at(Instant::now() + REPORT_EVERY, REPORT_EVERY);
        loop {
            tokio::select! {
                item = work.recv() => match item {
                    Some(item) => handle(item),
                    None => return,
                },
                _ = every.tick() => reports.report(),
            }
        }
    }
    // ANCHOR_END: fixed_interval

    // ANCHOR: fixed_deadline
    /// Reads numbers for at most `DEADLINE`: one deadline, pinned outside
    /// the loop.
    pub async fn read_until_deadline(numbers: impl Stream<Item = u32>) -> u32 {
        let mut numbers = pin!(numbers);
        let deadline = sleep(DEADLINE); // FIXED: one deadline for the whole read
        tokio::pin!(deadline);
        let mut read = 0;
        loop {
            tokio::select! {
                Some(_) = numbers.next() => read += 1,
                () = &mut deadline => return read,
            }
        }
    }
    // ANCHOR_END: fixed_deadline
}

/// Handles one work item (quickly: the work itself is not the point).
pub fn handle(item: u32) {
    std::hint::black_box(item);
}

/// An endless stream of numbers, one every `WORK_EVERY`. The harness counts
/// the numbers read.
pub struct Numbers {
    inner: Pin<Box<dyn Stream<Item = u32> + Send>>,
    read: Arc<AtomicU32>,
    facts: Option<Facts>,
}

impl Stream for Numbers {
    type Item = u32;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<u32>> {
        let next = self.inner.as_mut().poll_next(cx);
        if let Poll::Ready(Some(_)) = next {
            let read = self.read.fetch_add(1, Ordering::SeqCst) + 1;
            if let Some(facts) = &self.facts {
                facts.set("numbers_read", read);
            }
        }
        next
    }
}

/// The numbers, counted into `read` (and into `facts`, as they are read).
pub fn numbers(read: Arc<AtomicU32>, facts: Option<Facts>) -> Numbers {
    // On a fixed schedule (a number at 10, 20, 30... ms), so a slow reader
    // or a busy machine cannot make fewer numbers arrive in a second.
    let every = tokio::time::interval_at(Instant::now() + WORK_EVERY, WORK_EVERY);
    let inner = futures::stream::unfold((0u32, every), |(n, mut every)| async move {
        every.tick().await;
        Some((n, (n + 1, every)))
    });
    Numbers {
        inner: Box::pin(inner),
        read,
        facts,
    }
}

/// The runtime every scenario runs on: one thread, with a timer.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime always builds")
}

/// `select!` can only poll `&mut sleep` if the sleep cannot move, and a
/// `Sleep` is not `Unpin`, so this does not compile:
///
/// ```compile_fail,E0277
#[doc = include_str!("snippets/unpinned_sleep.rs")]
/// ```
///
/// `tokio::pin!(sleep)` (or `std::pin::pin!`, or `Box::pin`) fixes it.
pub struct SleepMustBePinned;

/// The `report` scenario: a worker gets an item every 10 ms for about a
/// second, and should report every 100 ms meanwhile.
pub mod report {
    use super::*;
    use std::process::ExitCode;

    pub static SPEC: Spec = Spec {
        name: "report",
        facts: &[
            fact(
                "report_ratio",
                "reports made over reports due (the run's length over 100 ms)",
            ),
            fact(
                "longest_gap_ratio",
                "the longest stretch without a report, over the 100 ms it should be",
            ),
            fact("items_handled", "work items the worker took, of 100 sent"),
        ],
    };

    /// Runs `worker` against a producer on the current runtime (which needs
    /// a timer), and measures its reports: how many, and how evenly spread.
    pub async fn measure<W>(facts: &Facts, worker: W)
    where
        W: AsyncFnOnce(Work, Reports),
    {
        let (tx, rx) = mpsc::channel(16);
        let taken = Arc::new(AtomicU32::new(0));
        let times = Arc::new(Mutex::new(Vec::new()));
        let work = Work {
            items: rx,
            taken: taken.clone(),
        };
        let reports = Reports {
            times: times.clone(),
            handled: taken.clone(),
        };
        let start = Instant::now();
        let producer = tokio::spawn(producer(tx).traced("producer"));
        worker(work, reports).traced("worker").await;
        let end = Instant::now();
        producer.abort(); // if the worker stopped early
        let times = times.lock().unwrap().clone();
        let period = REPORT_EVERY.as_secs_f64();
        let due = end.duration_since(start).as_secs_f64() / period;
        let mut marks = vec![start];
        marks.extend(times.iter().copied());
        marks.push(end);
        let longest = marks
            .windows(2)
            .map(|w| w[1].saturating_duration_since(w[0]).as_secs_f64())
            .fold(0.0, f64::max);
        facts.set("report_ratio", times.len() as f64 / due.max(1e-9));
        facts.set("longest_gap_ratio", longest / period);
        facts.set("items_handled", taken.load(Ordering::SeqCst));
    }

    pub fn run<W>(facts: &Facts, worker: W)
    where
        W: AsyncFnOnce(Work, Reports),
    {
        println!(
            "{} gets an item every {} ms ({ITEMS} in all) and should report every {} ms.",
            facts.The("worker"),
            WORK_EVERY.as_millis(),
            REPORT_EVERY.as_millis()
        );
        runtime().block_on(measure(facts, worker));
        println!(
            "It took {} items and reported {:.2} times per report due; the longest stretch without a report was {:.1} times the period.",
            facts.get("items_handled").unwrap_or(0.0),
            facts.get("report_ratio").unwrap_or(0.0),
            facts.get("longest_gap_ratio").unwrap_or(0.0)
        );
    }

    pub fn piece<'a, W>(name: &'static str, worker: W) -> Piece<'a>
    where
        W: AsyncFnOnce(Work, Reports) + 'a,
    {
        Piece::new(name, move |facts| run(facts, worker))
    }

    /// The exercise binary's `main`: judges the learner's worker.
    pub fn exercise<W>(worker: W) -> ExitCode
    where
        W: AsyncFnOnce(Work, Reports),
    {
        shared::lesson::main(
            "lesson-05",
            Variant::Exercise("report"),
            vec![SPEC.with(vec![piece("", worker)])],
        )
    }
}

/// The `deadline` scenario: read an endless stream for at most `DEADLINE`.
pub mod deadline {
    use super::*;
    use std::process::ExitCode;

    pub static SPEC: Spec = Spec {
        name: "deadline",
        facts: &[
            fact(
                "deadline_ratio",
                "the time the read took over the 1 s deadline",
            ),
            fact("numbers_read", "numbers read (one arrives every 10 ms)").live(),
        ],
    };

    /// Runs `read` on the numbers, on the current runtime. Never returns
    /// if the read never ends: that is the bug.
    pub async fn measure<R>(facts: &Facts, read: R)
    where
        R: AsyncFnOnce(Numbers) -> u32,
    {
        let count = Arc::new(AtomicU32::new(0));
        let start = Instant::now();
        read(numbers(count.clone(), Some(facts.clone())))
            .traced("reader")
            .await;
        facts.set(
            "deadline_ratio",
            start.elapsed().as_secs_f64() / DEADLINE.as_secs_f64(),
        );
        facts.set("numbers_read", count.load(Ordering::SeqCst));
    }

    pub fn run<R>(facts: &Facts, read: R)
    where
        R: AsyncFnOnce(Numbers) -> u32,
    {
        shared::contract::watchdog::default_deadline(Duration::from_secs(3));
        println!(
            "{} reads an endless stream (a number every 10 ms) for at most 1 s.",
            facts.The("reader")
        );
        println!("(If it never stops, the watchdog stops it after 3 s.)");
        runtime().block_on(measure(facts, read));
        println!(
            "It read {} numbers, and stopped after {:.2} times the deadline.",
            facts.get("numbers_read").unwrap_or(0.0),
            facts.get("deadline_ratio").unwrap_or(0.0)
        );
    }

    pub fn piece<'a, R>(name: &'static str, read: R) -> Piece<'a>
    where
        R: AsyncFnOnce(Numbers) -> u32 + 'a,
    {
        Piece::new(name, move |facts| run(facts, read))
    }

    /// The exercise binary's `main`: judges the learner's reader.
    pub fn exercise<R>(read: R) -> ExitCode
    where
        R: AsyncFnOnce(Numbers) -> u32,
    {
        shared::lesson::main(
            "lesson-05",
            Variant::Exercise("deadline"),
            vec![SPEC.with(vec![piece("", read)])],
        )
    }
}
