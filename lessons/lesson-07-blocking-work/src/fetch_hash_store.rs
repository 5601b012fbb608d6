//! The `fetch-hash-store` scenario, the `jobs` exercise's: each job is an
//! async fetch, then CPU work on what it fetched, then an async store. The
//! CPU part has to leave the runtime in the middle of an async flow, while
//! the fetches (which only wait) still overlap.

use super::*;
use std::future::Future;

/// The thread name `runtime()` gives a multi-threaded runtime's workers.
const WORKER: &str = "tokio worker";

/// One job of a workload: how long its fetch waits, how long its hashing
/// computes, and how long its store waits.
#[derive(Clone, Copy, Debug)]
pub struct Step {
    pub fetch: Duration,
    pub hash: Duration,
    pub store: Duration,
}

/// One workload of the scenario.
#[derive(Clone, Debug)]
pub struct Workload {
    pub name: String,
    pub jobs: Vec<Step>,
}

impl Workload {
    /// The shortest time the whole batch could take on `cores` cores: no
    /// sooner than its slowest job done alone, and no sooner than the
    /// first page could arrive, plus all the hashing spread over the
    /// cores, plus the shortest store.
    pub fn ideal(&self, cores: usize) -> Duration {
        let cores = cores.min(self.jobs.len()).max(1) as u32;
        let alone = self
            .jobs
            .iter()
            .map(|s| s.fetch + s.hash + s.store)
            .max()
            .unwrap_or_default();
        let first = self.jobs.iter().map(|s| s.fetch).min().unwrap_or_default();
        let last = self.jobs.iter().map(|s| s.store).min().unwrap_or_default();
        let hashing: Duration = self.jobs.iter().map(|s| s.hash).sum();
        alone.max(first + hashing / cores + last)
    }
}

/// The two workloads of one run on a machine with `cores` cores.
///
/// First, four jobs per core whose pages arrive together (after 20 to
/// 40 ms), each hashing for the same 40 to 60 ms and storing for 20 to
/// 40 ms longer than that; but one or two pages come in late, only after
/// the others could all have been hashed. A program that hashes no page
/// before the slowest is in leaves the cores idle all that time, and one
/// that keeps a core while a job waits for its store leaves it idle for
/// every store.
///
/// Then three to five jobs per core whose pages take 80 to 150 ms each,
/// each hashing for 15 to 40 ms, with stores of 2 to 5 ms: fetches that
/// wait in line take many times the shortest time.
pub fn workloads(cores: usize, rng: &mut Rng) -> Vec<Workload> {
    let ms = Duration::from_millis;
    let n = (4 * cores).clamp(8, 256);
    let fetch = ms(rng.between(20, 40));
    let hash = ms(rng.between(40, 60));
    let store = hash + ms(rng.between(20, 40));
    let mut jobs: Vec<Step> = (0..n).map(|_| Step { fetch, hash, store }).collect();
    // After every other page could have been hashed, at places made at
    // run time.
    let late = fetch + hash * n.div_ceil(cores.max(1)) as u32 + ms(rng.between(10, 30));
    let slow = rng.between(1, 2) as usize;
    let mut order: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut order);
    for &i in &order[..slow] {
        jobs[i].fetch = late;
    }
    let together = Workload {
        name: format!(
            "{n} jobs, pages in after {} ms ({slow} after {} ms), {} ms of hashing and {} ms of storing each",
            fetch.as_millis(),
            late.as_millis(),
            hash.as_millis(),
            store.as_millis()
        ),
        jobs,
    };
    let cores = cores as u64;
    let n = rng.between(3 * cores, 5 * cores).clamp(8, 256) as usize;
    let spread = Workload {
        name: format!("{n} jobs, pages in after 80 to 150 ms, 15 to 40 ms of hashing each"),
        jobs: (0..n)
            .map(|_| Step {
                fetch: ms(rng.between(80, 150)),
                hash: ms(rng.between(15, 40)),
                store: ms(rng.between(2, 5)),
            })
            .collect(),
    };
    vec![together, spread]
}

/// The jobs of one batch and the harness's record of them. Cloning it is
/// cheap: clones share the record.
#[derive(Clone)]
pub struct Queue {
    inner: Arc<QueueInner>,
}

struct QueueInner {
    steps: Vec<Step>,
    inputs: Vec<JobInput>,
    /// What each job's hashing gave, as the harness saw it.
    answers: Vec<AtomicU64>,
    /// How long each job's hashing took, in microseconds (0: not hashed).
    took_us: Vec<AtomicU64>,
    hashed: Vec<AtomicU32>,
    stored: Vec<AtomicU32>,
    /// Stores of a digest that was not its job's answer.
    stored_wrong: AtomicU32,
    /// The runtime's own thread, on a current-thread runtime.
    runtime_thread: Mutex<Option<ThreadId>>,
    on_runtime: AtomicU32,
    count: Mutex<ThreadCount>,
    /// When each page came in, and when it left the waiting pages: its
    /// hashing began, or it was dropped unhashed.
    waiting: Mutex<Vec<(Instant, Waiting)>>,
}

/// A change in the pages waiting to be hashed, or in the hashings running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Waiting {
    PageIn,
    HashStart,
    HashEnd,
    PageGone,
}

/// The core time, between `start` and `end`, during which a fetched page
/// waited for its hashing while a core (one of `cores`) had no page to
/// hash: at each moment, the waiting pages or the idle cores, whichever
/// are fewer. A busy core is not idle, so a page that waits for a free
/// core costs nothing; a page that waits for the slowest fetch, or for a
/// store to end, does. Each stretch of such time counts only after its
/// first `grace`: a thread woken to hash a page takes a moment to run,
/// longer on a busy machine.
fn idle_while_waiting(
    mut marks: Vec<(Instant, Waiting)>,
    start: Instant,
    end: Instant,
    cores: usize,
    grace: Duration,
) -> Duration {
    marks.sort_by_key(|&(t, _)| t);
    let level = |waiting: usize, running: usize| waiting.min(cores.saturating_sub(running));
    let (mut waiting, mut running) = (0usize, 0usize);
    let mut idle = Duration::ZERO;
    // The last mark seen, and when the current stretch began.
    let (mut last, mut since) = (start, start);
    // Each mark, then the end (`None`), which changes nothing.
    let marks = marks
        .into_iter()
        .map(|(t, what)| (t.clamp(start, end), Some(what)))
        .chain([(end, None)]);
    for (t, what) in marks {
        let now = level(waiting, running);
        let from = last.max(since + grace);
        if now > 0 && t > from {
            idle += (t - from) * now as u32;
        }
        last = t;
        match what {
            Some(Waiting::PageIn) => waiting += 1,
            Some(Waiting::HashStart) => {
                waiting = waiting.saturating_sub(1);
                running += 1;
            }
            Some(Waiting::HashEnd) => running = running.saturating_sub(1),
            Some(Waiting::PageGone) => waiting = waiting.saturating_sub(1),
            None => {}
        }
        if now == 0 && level(waiting, running) > 0 {
            since = t;
        }
    }
    idle
}

/// A fetched page: the input of one job's hashing. Only
/// [`Queue::fetch`] makes one, and [`hash`] uses it up.
pub struct Page {
    i: usize,
    queue: Queue,
    hashed: bool,
}

impl Drop for Page {
    fn drop(&mut self) {
        if !self.hashed {
            self.queue.mark(Waiting::PageGone);
        }
    }
}

/// One job's result: only [`hash`] makes one, and [`Queue::store`] uses it
/// up.
pub struct Digest {
    i: usize,
    value: u64,
}

impl Digest {
    /// The job this digest is for.
    pub fn job(&self) -> u64 {
        self.i as u64
    }
}

impl Page {
    /// The job this page is for.
    pub fn job(&self) -> u64 {
        self.i as u64
    }
}

impl Queue {
    fn new(workload: &Workload, rng: &mut Rng) -> Queue {
        let cal = shared::work::cpu::calibration();
        let inputs: Vec<JobInput> = workload
            .jobs
            .iter()
            .map(|s| JobInput {
                seed: rng.salt(),
                rounds: cal.rounds_for(s.hash),
                length: s.hash,
            })
            .collect();
        let zeros32 = || inputs.iter().map(|_| AtomicU32::new(0)).collect();
        Queue {
            inner: Arc::new(QueueInner {
                steps: workload.jobs.clone(),
                answers: inputs.iter().map(|_| AtomicU64::new(0)).collect(),
                took_us: inputs.iter().map(|_| AtomicU64::new(0)).collect(),
                hashed: zeros32(),
                stored: zeros32(),
                inputs,
                stored_wrong: AtomicU32::new(0),
                runtime_thread: Mutex::new(None),
                on_runtime: AtomicU32::new(0),
                count: Mutex::default(),
                waiting: Mutex::default(),
            }),
        }
    }

    /// How many jobs there are. They are numbered from 0.
    pub fn len(&self) -> u64 {
        self.inner.steps.len() as u64
    }

    /// Whether there are no jobs (there always are some).
    pub fn is_empty(&self) -> bool {
        self.inner.steps.is_empty()
    }

    /// Fetches job `i`'s page: an async wait (a download, say), then the
    /// page. Panics if there is no job `i`.
    pub async fn fetch(&self, i: u64) -> Page {
        let i = usize::try_from(i)
            .ok()
            .filter(|&i| i < self.inner.steps.len())
            .unwrap_or_else(|| panic!("there is no job {i}: jobs are numbered 0 to len() - 1"));
        tokio::time::sleep(self.inner.steps[i].fetch).await;
        self.mark(Waiting::PageIn);
        Page {
            i,
            queue: self.clone(),
            hashed: false,
        }
    }

    /// Stores a job's digest: an async wait (a write to a database, say).
    /// The digest counts as stored once this returns.
    pub async fn store(&self, digest: Digest) {
        tokio::time::sleep(self.inner.steps[digest.i].store).await;
        let right = self.inner.answers[digest.i].load(Ordering::SeqCst) == digest.value;
        if !right {
            self.inner.stored_wrong.fetch_add(1, Ordering::SeqCst);
        }
        self.inner.stored[digest.i].fetch_add(1, Ordering::SeqCst);
    }

    fn mark(&self, what: Waiting) {
        self.inner
            .waiting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((Instant::now(), what));
    }

    /// See [`idle_while_waiting`].
    fn idle_while_waiting(
        &self,
        start: Instant,
        end: Instant,
        cores: usize,
        grace: Duration,
    ) -> Duration {
        let marks = self
            .inner
            .waiting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        idle_while_waiting(marks, start, end, cores, grace)
    }

    /// The time the workload's hashing is planned to take, all jobs added.
    fn planned_hashing(&self) -> Duration {
        self.inner.steps.iter().map(|s| s.hash).sum()
    }

    fn count(&self) -> std::sync::MutexGuard<'_, ThreadCount> {
        self.inner.count.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The workload, with each hashing as long as it took in this run (a
    /// busy machine stretches them): the ideal time is measured from it.
    fn as_hashed(&self, workload: &Workload) -> Workload {
        let mut w = workload.clone();
        for (step, took) in w.jobs.iter_mut().zip(&self.inner.took_us) {
            match took.load(Ordering::SeqCst) {
                0 => {}
                us => step.hash = Duration::from_micros(us),
            }
        }
        w
    }

    /// Jobs hashed other than once.
    fn not_once(&self) -> u32 {
        self.inner
            .hashed
            .iter()
            .filter(|r| r.load(Ordering::SeqCst) != 1)
            .count() as u32
    }

    /// Jobs whose digest was not stored exactly once, right.
    fn not_stored(&self) -> u32 {
        let missing = self
            .inner
            .stored
            .iter()
            .filter(|r| r.load(Ordering::SeqCst) != 1)
            .count() as u32;
        missing + self.inner.stored_wrong.load(Ordering::SeqCst)
    }
}

/// Hashes a fetched page: CPU work, tens of milliseconds of it, that
/// never waits. Recorded on the timeline as a blocking call of whatever
/// thread runs it.
pub fn hash(mut page: Page) -> Digest {
    page.hashed = true;
    page.queue.mark(Waiting::HashStart);
    let inner = &page.queue.inner;
    let input = inner.inputs[page.i];
    let me = std::thread::current();
    let runtime_thread = *inner
        .runtime_thread
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if me.name() == Some(WORKER) || Some(me.id()) == runtime_thread {
        inner.on_runtime.fetch_add(1, Ordering::SeqCst);
    }
    {
        let mut c = page.queue.count();
        c.seen.insert(me.id());
        c.running += 1;
        c.most_at_once = c.most_at_once.max(c.running);
    }
    let started = Instant::now();
    let value = shared::blocking("hashing", || input.compute());
    {
        let mut c = page.queue.count();
        c.running -= 1;
        c.busy += started.elapsed();
        c.spans.push((started, Instant::now()));
    }
    inner.took_us[page.i].store(started.elapsed().as_micros() as u64, Ordering::SeqCst);
    inner.hashed[page.i].fetch_add(1, Ordering::SeqCst);
    inner.answers[page.i].store(value, Ordering::SeqCst);
    page.queue.mark(Waiting::HashEnd);
    Digest { i: page.i, value }
}

/// What one run (one workload on one runtime) measured.
#[derive(Clone, Debug)]
pub struct Measured {
    pub heartbeat_lateness: f64,
    pub alarm_lateness: f64,
    pub runtime_busy: f64,
    pub on_runtime_thread: u32,
    pub oversubscription: f64,
    pub elapsed_ratio: f64,
    pub idle_while_waiting: f64,
    pub not_once: u32,
    pub not_stored: u32,
    pub longest_poll_ratio: f64,
    pub longest_cpu_ratio: f64,
    pub asleep_share: f64,
    pub polls_per_job: f64,
    pub most_at_once: usize,
}

/// The two runtimes a run is judged on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    CurrentThread,
    MultiThread,
}

impl Flavor {
    fn name(self) -> &'static str {
        match self {
            Flavor::CurrentThread => "current-thread",
            Flavor::MultiThread => "multi-threaded",
        }
    }

    fn runtime(self) -> tokio::runtime::Runtime {
        match self {
            Flavor::MultiThread => runtime(),
            Flavor::CurrentThread => {
                let mut builder = tokio::runtime::Builder::new_current_thread();
                name_threads(&mut builder, "", 0)
                    .enable_time()
                    .build()
                    .expect("a current-thread runtime always builds")
            }
        }
    }
}

/// The runtime threads' busy time so far, added up.
fn busy(runtime: &tokio::runtime::Runtime) -> Duration {
    let m = runtime.metrics();
    (0..m.num_workers())
        .map(|w| m.worker_total_busy_duration(w))
        .sum()
}

/// Runs `run_jobs` on one workload on a runtime of `flavor`, as a task,
/// beside a heartbeat, and measures it.
pub fn timed<F, Fut>(flavor: Flavor, workload: &Workload, rng: &mut Rng, run_jobs: &F) -> Measured
where
    F: Fn(Queue) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let runtime = flavor.runtime();
    let queue = Queue::new(workload, rng);
    if flavor == Flavor::CurrentThread {
        *queue.inner.runtime_thread.lock().unwrap() = Some(std::thread::current().id());
    }
    let held = Held::new();
    let workers = runtime.metrics().num_workers().max(1) as f64;
    let (start, end, not_stored, lateness, alarm_lateness, busy_before, stop) =
        runtime.block_on(async {
            let heartbeat = Heartbeat::spawn(TICK);
            tokio::time::sleep(TICK * 2).await;
            // The machine's share: a plain thread's alarm, on the same ticks.
            let alarm = Alarm::start(TICK);
            let busy_before = busy(&runtime);
            let start = Instant::now();
            let task = tokio::spawn(held.wrap(run_jobs(queue.clone())).traced("run_jobs"));
            let done = task.await;
            let end = Instant::now();
            // A closed report: what is stored after run_jobs returned does
            // not count.
            let not_stored = queue.not_stored();
            if let Err(e) = done {
                if e.is_panic() {
                    std::panic::resume_unwind(e.into_panic());
                }
            }
            tokio::time::sleep(TICK * 2).await;
            let lateness = heartbeat.worst_lateness_ratio();
            drop(heartbeat);
            (
                start,
                end,
                not_stored,
                lateness,
                alarm.worst_lateness_ratio(),
                busy_before,
                Instant::now(),
            )
        });
    let busy_during = busy(&runtime).saturating_sub(busy_before);
    drop(runtime);
    let cores = cores().min(workload.jobs.len()).max(1);
    let span = (end - start).as_secs_f64().max(1e-9);
    let c = queue.count();
    let longest = workload
        .jobs
        .iter()
        .map(|s| s.hash)
        .max()
        .unwrap_or_default();
    Measured {
        heartbeat_lateness: lateness,
        alarm_lateness,
        runtime_busy: busy_during.as_secs_f64() / (stop - start).as_secs_f64().max(1e-9) / workers,
        on_runtime_thread: queue.inner.on_runtime.load(Ordering::SeqCst),
        oversubscription: c.most_at_once as f64 / cores as f64,
        elapsed_ratio: span / queue.as_hashed(workload).ideal(cores).as_secs_f64(),
        idle_while_waiting: queue
            .idle_while_waiting(start, end, cores, TICK)
            .as_secs_f64()
            / queue.planned_hashing().as_secs_f64().max(1e-9),
        not_once: queue.not_once(),
        not_stored,
        longest_poll_ratio: held.longest_ratio(longest),
        longest_cpu_ratio: held.longest_cpu_ratio(TICK),
        asleep_share: held.asleep().as_secs_f64() / span,
        polls_per_job: held.polls() as f64 / queue.len().max(1) as f64,
        most_at_once: c.most_at_once,
    }
}

fn worst(all: &[Measured], f: fn(&Measured) -> f64) -> f64 {
    all.iter().map(f).fold(0.0, f64::max)
}

pub static SPEC: Spec = Spec {
    name: "fetch-hash-store",
    facts: &[
        fact(
            "heartbeat_lateness",
            "the heartbeat's worst lateness, in 10 ms ticks",
        )
        .timing(),
        fact(
            "alarm_lateness",
            "the worst lateness of a plain thread's alarm on the same ticks, beside the same work: the machine's share, in ticks",
        )
        .timing(),
        fact(
            "jobs_on_runtime_thread",
            "hashings that ran on a thread of the runtime (a tokio worker, or a current-thread runtime's one thread)",
        ),
        fact(
            "runtime_busy",
            "the share of the runtime threads' time they were busy while the batch ran (worst run)",
        )
        .timing(),
        fact(
            "oversubscription",
            "the most hashings running at once, over the cores",
        ),
        fact(
            "elapsed_ratio",
            "the batch's time over the shortest it could take (worst run)",
        )
        .timing(),
        fact(
            "idle_while_waiting",
            "the core time left idle while fetched pages waited for their hashing (each stretch after its first 10 ms), over the batch's planned hashing time (worst run)",
        )
        .timing(),
        fact(
            "jobs_not_once",
            "jobs whose page was not hashed exactly once",
        ),
        fact(
            "not_stored",
            "jobs whose digest was not stored exactly once by the time run_jobs returned",
        ),
        fact(
            "longest_poll_ratio",
            "the longest single poll of run_jobs over the longest hashing",
        )
        .timing(),
        fact(
            "longest_cpu_ratio",
            "the most CPU time of one poll of run_jobs, in 10 ms ticks",
        )
        .timing(),
        fact(
            "asleep_share",
            "the share of the batch's time the thread polling run_jobs slept inside its polls (worst run)",
        )
        .timing(),
        fact("polls_per_job", "polls of run_jobs per job (worst run)"),
    ],
};

/// Runs `run_jobs` on every workload, first on a current-thread runtime
/// and then on a multi-threaded one, and sets the facts: the worst of
/// each (the sum, for counts).
pub fn measure<F, Fut>(
    facts: &Facts,
    workloads: &[Workload],
    rng: &mut Rng,
    run_jobs: F,
) -> Vec<(Flavor, Measured)>
where
    F: Fn(Queue) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut all = Vec::new();
    for flavor in [Flavor::CurrentThread, Flavor::MultiThread] {
        for w in workloads {
            all.push((flavor, timed(flavor, w, rng, &run_jobs)));
        }
    }
    let m: Vec<Measured> = all.iter().map(|(_, m)| m.clone()).collect();
    facts.set("heartbeat_lateness", worst(&m, |m| m.heartbeat_lateness));
    facts.set("alarm_lateness", worst(&m, |m| m.alarm_lateness));
    facts.set(
        "jobs_on_runtime_thread",
        m.iter().map(|m| m.on_runtime_thread).sum::<u32>(),
    );
    facts.set("runtime_busy", worst(&m, |m| m.runtime_busy));
    facts.set("oversubscription", worst(&m, |m| m.oversubscription));
    facts.set("elapsed_ratio", worst(&m, |m| m.elapsed_ratio));
    facts.set("idle_while_waiting", worst(&m, |m| m.idle_while_waiting));
    facts.set("jobs_not_once", m.iter().map(|m| m.not_once).sum::<u32>());
    facts.set("not_stored", m.iter().map(|m| m.not_stored).sum::<u32>());
    facts.set("longest_poll_ratio", worst(&m, |m| m.longest_poll_ratio));
    facts.set("longest_cpu_ratio", worst(&m, |m| m.longest_cpu_ratio));
    facts.set("asleep_share", worst(&m, |m| m.asleep_share));
    facts.set("polls_per_job", worst(&m, |m| m.polls_per_job));
    all
}

pub fn run<F, Fut>(facts: &Facts, run_jobs: F)
where
    F: Fn(Queue) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut rng = Rng::for_scenario("fetch-hash-store");
    let workloads = workloads(cores(), &mut rng);
    println!(
        "Jobs that each fetch a page (an async wait), hash it (CPU work) and store the digest",
    );
    println!(
        "(an async wait), through {}, on {} core(s), beside a 10 ms heartbeat: each workload",
        facts.the("run_jobs"),
        cores()
    );
    println!(
        "on a current-thread runtime, then on a multi-threaded one (two workloads, from seed {0};",
        seed()
    );
    println!(
        "LESSON_SEED={0} replays them: {1})",
        seed(),
        workloads
            .iter()
            .map(|w| w.name.as_str())
            .collect::<Vec<_>>()
            .join("; then ")
    );
    let all = measure(facts, &workloads, &mut rng, run_jobs);
    for (w, (flavor, m)) in workloads.iter().cycle().zip(&all) {
        println!(
            "  {}, {} jobs: {:.1}x the shortest time; cores idle with pages waiting {:.0}% of the hashing time;",
            flavor.name(),
            w.jobs.len(),
            m.elapsed_ratio,
            m.idle_while_waiting * 100.0
        );
        println!(
            "    the heartbeat up to {:.1} ticks late (a plain thread's alarm: {:.1}); the runtime's threads {:.0}% busy;",
            m.heartbeat_lateness,
            m.alarm_lateness,
            m.runtime_busy * 100.0
        );
        println!(
            "    {} hashings on a runtime thread, at most {} at once; {} jobs not stored; run_jobs polled {:.1} times per job.",
            m.on_runtime_thread, m.most_at_once, m.not_stored, m.polls_per_job
        );
    }
}

pub fn piece<'a, F, Fut>(name: &'static str, run_jobs: F) -> Piece<'a>
where
    F: Fn(Queue) -> Fut + 'a,
    Fut: Future<Output = ()> + Send + 'static,
{
    Piece::new(name, move |facts| run(facts, run_jobs))
}

/// The exercise binary's `main`: judges the learner's `run_jobs` on both
/// runtimes.
pub fn exercise<Fut>(run_jobs: fn(Queue) -> Fut) -> std::process::ExitCode
where
    Fut: Future<Output = ()> + Send + 'static,
{
    shared::lesson::main(
        LESSON,
        Variant::Exercise("jobs"),
        vec![SPEC.with(vec![piece("", run_jobs)])],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(start: Instant, ms: u64) -> Instant {
        start + Duration::from_millis(ms)
    }

    /// Pages that wait for a busy core cost nothing; a page that waits
    /// while a core is free costs that core's time, after the grace.
    #[test]
    fn idle_counts_free_cores_with_pages_waiting() {
        use Waiting::*;
        let s = Instant::now();
        let ms = Duration::from_millis;
        // Two cores, both hashing from 0 to 50 while a third page waits:
        // nothing idle. Then one core hashes the third page only at 80: 30
        // ms of one idle core, 20 of them past a 10 ms grace.
        let marks = vec![
            (at(s, 0), PageIn),
            (at(s, 0), PageIn),
            (at(s, 0), HashStart),
            (at(s, 0), HashStart),
            (at(s, 5), PageIn),
            (at(s, 50), HashEnd),
            (at(s, 50), HashEnd),
            (at(s, 80), HashStart),
            (at(s, 120), HashEnd),
        ];
        let idle = |cores, grace| idle_while_waiting(marks.clone(), s, at(s, 120), cores, grace);
        assert_eq!(idle(2, ms(10)), ms(20));
        assert_eq!(idle(2, Duration::ZERO), ms(30));
        // On one core, the third page waits for a busy core until 50: only
        // 50 to 80 is idle, with one core to lose.
        assert_eq!(idle(1, ms(10)), ms(20));
        // Three pages waiting and two idle cores cost two cores' time; a
        // page dropped unhashed waits no more.
        let waiting = vec![
            (at(s, 0), PageIn),
            (at(s, 0), PageIn),
            (at(s, 0), PageIn),
            (at(s, 100), PageGone),
            (at(s, 100), PageGone),
            (at(s, 150), PageGone),
        ];
        let idle = idle_while_waiting(waiting, s, at(s, 200), 2, ms(10));
        assert_eq!(idle, ms(2 * 90 + 50));
        // A page never hashed waits to the end, and nothing after it counts.
        let never = vec![(at(s, 0), PageIn), (at(s, 500), PageGone)];
        assert_eq!(idle_while_waiting(never, s, at(s, 100), 4, ms(10)), ms(90));
    }
}
