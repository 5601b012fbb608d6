//! The `flush` scenario (the `report` exercise): a worker puts the items
//! it takes in a batch, flushes the batch `FLUSH_AFTER` after the first
//! item in it came, and reports every `REPORT_EVERY` meanwhile, under the
//! report scenario's two shapes of work.
//!
//! Two timers in one `select!`: the report's keeps a schedule of its own;
//! the flush's is started by the first item of a batch (not by the ones
//! after it), and is off while the batch is empty.

use super::*;
use std::future::Future;
use std::process::ExitCode;

/// How long after the first item of a batch came the batch is flushed.
pub const FLUSH_AFTER: Duration = Duration::from_millis(60);

/// Each flush: when it was made, and the numbers of the items it held.
type Flushes = Arc<Mutex<Vec<(Instant, Vec<u32>)>>>;

/// The worker's batch: items pushed wait in it until it is flushed. The
/// harness notes when each flush was made and which items it held.
pub struct Batch {
    items: Vec<Item>,
    flushes: Flushes,
}

impl Batch {
    /// Puts an item in the batch.
    pub fn push(&mut self, item: Item) {
        self.items.push(item);
    }

    /// Whether the batch holds no item.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// How many items the batch holds.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Handles every item in the batch, which is then empty (and marks it
    /// on the timeline).
    pub fn flush(&mut self) {
        let numbers: Vec<u32> = self.items.iter().map(Item::number).collect();
        shared::mark(&format!("flush: {} items", numbers.len()));
        for item in self.items.drain(..) {
            handle(item);
        }
        self.flushes.lock().unwrap().push((Instant::now(), numbers));
    }
}

pub static SPEC: Spec = Spec {
    name: "flush",
    facts: &[
        fact(
            "flush_late_ratio",
            "how long after it was due a batch was flushed (FLUSH_AFTER after its first item came), over FLUSH_AFTER (the latest)",
        )
        .timing(),
        fact(
            "early_flushes",
            "batches flushed before their first item had waited FLUSH_AFTER, the work still coming",
        ),
        fact("empty_flushes", "flushes of an empty batch"),
        fact(
            "items_lost",
            "work items sent that no flush handled",
        ),
        fact(
            "report_ratio",
            "reports made over reports due (the run's length over 100 ms), in the shape where it was farthest from 1",
        )
        .timing(),
        fact(
            "longest_gap_ratio",
            "the longest stretch without a report, over the 100 ms it should be (the worst shape)",
        )
        .timing(),
        fact(
            "held_ratio",
            "the longest the worker held its thread in one poll, over FLUSH_AFTER",
        )
        .timing(),
        fact(
            "asleep_ratio",
            "the longest the runtime's thread slept of its own accord without a rest, in the worker or any task it spawned, over FLUSH_AFTER",
        )
        .timing(),
        fact(
            "busy_ratio",
            "the most CPU time the runtime's thread used without a rest, in the worker or any task it spawned, over FLUSH_AFTER",
        )
        .timing(),
        fact(
            "asleep_share",
            "all the time the runtime's thread slept of its own accord while it had work, over the time the worker ran (the worst shape)",
        )
        .timing(),
        fact(
            "polls_per_event",
            "the worker's polls over the items sent and the reports due (the most of the shapes)",
        ),
        fact(
            "left_behind",
            "items the worker had taken 0.75 FLUSH_AFTER or more before a flush that neither that flush nor an earlier one held",
        ),
        fact(
            "idle_polls",
            "the worker's polls in which it took no item, made no report and no flush (the most of the shapes)",
        ),
        fact(
            "wakes_per_event",
            "the runtime thread's wake-ups, in the worker or any task it spawned, over the moments something was due: items sent (a burst is one), reports due, flushes made (the most of the shapes)",
        ),
        fact(
            "others_busy",
            "the time the program's own threads (every thread but the harness's and the runtime's; whenever the program made them) ran or waited for a core, over the run's time",
        )
        .timing(),
    ],
};

/// What one shape showed.
#[derive(Clone, Debug, PartialEq)]
pub struct Shown {
    pub sent: u32,
    pub flushed: u32,
    pub flushes: usize,
    pub late: f64,
    pub early: u32,
    pub empty: u32,
    pub reports: usize,
    pub due: f64,
    pub longest_gap: f64,
    pub polls: u64,
    pub asleep_share: f64,
    pub busy: Duration,
    pub longest_asleep: Duration,
    pub left_behind: u32,
    pub idle_polls: u64,
    pub wakes: u64,
    /// The moments something was due: items sent (a burst is one),
    /// reports due, flushes made.
    pub moments: f64,
}

impl Shown {
    pub fn ratio(&self) -> f64 {
        self.reports as f64 / self.due.max(1e-9)
    }

    pub fn polls_per_event(&self) -> f64 {
        self.polls as f64 / (f64::from(self.sent) + self.due).max(1.0)
    }

    pub fn wakes_per_event(&self) -> f64 {
        self.wakes as f64 / self.moments.max(1.0)
    }
}

/// Runs `worker` against a producer of `arrivals`, on the current runtime.
pub async fn measure_shape<W>(worker: &W, arrivals: Arrivals, held: &Held) -> Shown
where
    W: AsyncFn(Work, Reports, Batch),
{
    let (tx, rx) = mpsc::channel(16);
    let taken = Arc::new(AtomicU32::new(0));
    let handled = Arc::new(AtomicU32::new(0));
    let times = Arc::new(Mutex::new(Vec::new()));
    let flushes: Flushes = Arc::default();
    let took = Took::default();
    let work = Work {
        items: rx,
        taken: taken.clone(),
        took: took.clone(),
    };
    let reports = Reports {
        times: times.clone(),
        handled: handled.clone(),
    };
    let batch = Batch {
        items: Vec::new(),
        flushes: flushes.clone(),
    };
    let sent = arrivals.len() as u32;
    let plan = arrivals.at.clone();
    let last_sent = plan.last().copied().unwrap_or_default();
    let (polls, asleep) = (held.polls(), held.asleep());
    stretches::begin();
    let start = Instant::now();
    let producer = tokio::spawn(producer(tx, arrivals, start, handled.clone()).traced("producer"));
    let working = held.time(|| worker(work, reports, batch));
    // A poll in which the worker took no item, made no report and no
    // flush is idle: a worker that waits is woken by an item or a timer
    // that is due, and does something each time.
    let done = || {
        taken.load(Ordering::SeqCst) as usize
            + times.lock().unwrap().len()
            + flushes.lock().unwrap().len()
    };
    let mut idle_polls = 0;
    let mut working = pin!(working);
    let watched = std::future::poll_fn(|cx| {
        let before = done();
        let poll = working.as_mut().poll(cx);
        if poll.is_pending() && done() == before {
            idle_polls += 1;
        }
        poll
    });
    held.wrap(watched).traced("worker").await;
    let end = Instant::now();
    let thread = stretches::end();
    producer.abort();
    let times = times.lock().unwrap().clone();
    let flushes = flushes.lock().unwrap().clone();
    // When the worker took each item, by number.
    let mut taken_at = vec![None; sent as usize];
    for (n, at) in took.lock().unwrap().iter() {
        taken_at[*n as usize] = Some(*at);
    }
    // A flush takes the whole batch: every item the worker had taken
    // by then, but those taken in its last moments, is in it or in an
    // earlier flush.
    let mut in_a_flush = vec![false; sent as usize];
    let mut left = vec![false; sent as usize];
    for (at, numbers) in &flushes {
        for &n in numbers {
            in_a_flush[n as usize] = true;
        }
        for n in 0..sent as usize {
            if !in_a_flush[n] && taken_at[n].is_some_and(|t| t + FLUSH_AFTER * 3 / 4 <= *at) {
                left[n] = true;
            }
        }
    }
    // The moments items were sent: a burst's items are sent at once.
    let mut moments = plan.clone();
    moments.dedup();
    // Each batch is due FLUSH_AFTER after its first item was sent (the
    // producer sends on a schedule, so an item is never sent early).
    let mut late: f64 = 0.0;
    let (mut early, mut empty) = (0, 0);
    for (at, numbers) in &flushes {
        let Some(first) = numbers.iter().map(|&n| plan[n as usize]).min() else {
            empty += 1;
            continue;
        };
        let due = start + first + FLUSH_AFTER;
        if *at < due {
            // A flush once the work is all sent (at its end) may be early.
            if at.duration_since(start) < last_sent {
                early += 1;
            }
        } else {
            late = late.max(at.duration_since(due).as_secs_f64() / FLUSH_AFTER.as_secs_f64());
        }
    }
    let period = REPORT_EVERY.as_secs_f64();
    let mut marks = vec![start];
    marks.extend(times.iter().copied());
    marks.push(end);
    let longest = marks
        .windows(2)
        .map(|w| w[1].saturating_duration_since(w[0]).as_secs_f64())
        .fold(0.0, f64::max);
    let ran = end.duration_since(start).as_secs_f64().max(1e-9);
    Shown {
        sent,
        flushed: flushes.iter().map(|(_, n)| n.len() as u32).sum(),
        flushes: flushes.len(),
        late,
        early,
        empty,
        reports: times.len(),
        due: ran / period,
        longest_gap: longest / period,
        polls: held.polls() - polls,
        asleep_share: thread
            .map_or(held.asleep().saturating_sub(asleep), |t| t.asleep)
            .as_secs_f64()
            / ran,
        busy: thread.map_or(held.longest_cpu(), |t| t.longest_cpu),
        longest_asleep: thread.map_or(held.longest_asleep(), |t| t.longest_asleep),
        left_behind: left.iter().filter(|&&l| l).count() as u32,
        idle_polls,
        // Where the thread's wake-ups cannot be counted (paused time, not
        // Linux), the worker's polls stand in for them.
        wakes: thread.map_or(held.polls() - polls, |t| t.wakes),
        moments: moments.len() as f64
            + ran / period
            + flushes.iter().filter(|(_, n)| !n.is_empty()).count() as f64,
    }
}

/// Runs `worker` under each shape in turn and sets the facts: the worst
/// of the shapes for each.
pub async fn measure<W>(facts: &Facts, shapes: Vec<Arrivals>, worker: W) -> Vec<Shown>
where
    W: AsyncFn(Work, Reports, Batch),
{
    let held = Held::new();
    let mut shown = Vec::new();
    // Every thread alive now but this one (the runtime's) and the kit's
    // is the program's: made in its `main`, say. A thread that spins is
    // always on a core or waiting for one, however busy the machine.
    let harness = shared::record::sched::HarnessThreads::begin();
    let others = shared::work::cpu::BusyWatch::leaving_out(harness.now());
    let start = Instant::now();
    for arrivals in shapes {
        shared::mark(&format!("work comes {}", arrivals.name));
        shown.push(measure_shape(&worker, arrivals, &held).await);
    }
    // Over the run's time on tokio's clock (the same as the wall's but on
    // paused time, where a test's other threads may run meanwhile).
    let others = others.finish().time.as_secs_f64() / start.elapsed().as_secs_f64().max(1e-9);
    let worst = |f: fn(&Shown) -> f64| shown.iter().map(f).fold(0.0, f64::max);
    facts.set("flush_late_ratio", worst(|s| s.late));
    facts.set("early_flushes", shown.iter().map(|s| s.early).sum::<u32>());
    facts.set("empty_flushes", shown.iter().map(|s| s.empty).sum::<u32>());
    facts.set(
        "items_lost",
        shown
            .iter()
            .map(|s| s.sent - s.flushed.min(s.sent))
            .sum::<u32>(),
    );
    let farthest = shown
        .iter()
        .map(Shown::ratio)
        .max_by(|a, b| a.ln().abs().total_cmp(&b.ln().abs()))
        .unwrap_or(0.0);
    facts.set("report_ratio", farthest);
    facts.set("longest_gap_ratio", worst(|s| s.longest_gap));
    facts.set("held_ratio", held.longest_ratio(FLUSH_AFTER));
    facts.set(
        "asleep_ratio",
        worst(|s| s.longest_asleep.as_secs_f64() / FLUSH_AFTER.as_secs_f64()),
    );
    facts.set(
        "busy_ratio",
        worst(|s| s.busy.as_secs_f64() / FLUSH_AFTER.as_secs_f64()),
    );
    facts.set("asleep_share", worst(|s| s.asleep_share));
    facts.set("polls_per_event", worst(Shown::polls_per_event));
    facts.set(
        "left_behind",
        shown.iter().map(|s| s.left_behind).sum::<u32>(),
    );
    facts.set(
        "idle_polls",
        shown.iter().map(|s| s.idle_polls).max().unwrap_or(0) as f64,
    );
    facts.set("wakes_per_event", worst(Shown::wakes_per_event));
    facts.set("others_busy", others);
    shown
}

pub fn run<W>(facts: &Facts, worker: W)
where
    W: AsyncFn(Work, Reports, Batch),
{
    let shapes = report::shapes(&mut Rng::for_scenario(SPEC.name));
    println!(
        "{} puts the items it takes in a batch, flushes the batch {} ms after its",
        facts.The("worker"),
        FLUSH_AFTER.as_millis()
    );
    println!(
        "first item came, and reports every {} ms. The work comes in two shapes,",
        REPORT_EVERY.as_millis()
    );
    println!(
        "picked at run time (seed {}; LESSON_SEED={} replays them):",
        seed(),
        seed()
    );
    for (i, a) in shapes.iter().enumerate() {
        println!(
            "  {}. {}: {} items over {} ms",
            i + 1,
            a.name,
            a.len(),
            a.span().as_millis()
        );
    }
    let shown = runtime().block_on(measure(facts, shapes, worker));
    for (i, s) in shown.iter().enumerate() {
        println!(
            "Shape {}: {} of {} items flushed, in {} flushes ({} early, {} empty; the latest {:.2} of {} ms late; {} left behind); {} reports for {:.1} due; {} idle polls; {} wake-ups for {:.0} moments.",
            i + 1,
            s.flushed,
            s.sent,
            s.flushes,
            s.early,
            s.empty,
            s.late,
            FLUSH_AFTER.as_millis(),
            s.left_behind,
            s.reports,
            s.due,
            s.idle_polls,
            s.wakes,
            s.moments
        );
    }
}

pub fn piece<'a, W>(name: &'static str, worker: W) -> Piece<'a>
where
    W: AsyncFn(Work, Reports, Batch) + 'a,
{
    Piece::new(name, move |facts| run(facts, worker))
}

/// The `report` exercise binary's `main`: judges the learner's worker.
pub fn exercise<W>(worker: W) -> ExitCode
where
    W: AsyncFn(Work, Reports, Batch),
{
    shared::lesson::main(
        LESSON,
        Variant::Exercise("report"),
        vec![SPEC.with(vec![piece("", worker)])],
    )
}
