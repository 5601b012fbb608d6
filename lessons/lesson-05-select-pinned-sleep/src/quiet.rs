//! The `quiet` scenario (the `deadline` exercise): read an endless stream
//! until it has been quiet for `QUIET`, and for at most `DEADLINE` in all,
//! reporting progress every `PROGRESS_EVERY` meanwhile.
//!
//! Three timers in one `select!`: a schedule that must keep time (the
//! progress), one deadline for the whole read, and a quiet timer that only
//! a number may restart. Progress comes more often than `QUIET`, so a
//! quiet timer made anew on every turn of the loop is restarted by the
//! progress too, and never fires.

use super::*;
use std::process::ExitCode;

/// How long the stream must be quiet (no number) for the read to end.
pub const QUIET: Duration = Duration::from_millis(200);
/// How often the reader reports its progress. Not a divisor of the
/// deadline (1 s): a report is due at 990 ms and the next at 1035, so a
/// reader that looks at the deadline only when it reports ends 35 ms late,
/// and a count of reports cannot stand in for the second.
pub const PROGRESS_EVERY: Duration = Duration::from_millis(45);

/// Where the reader reports its progress. The harness notes when each
/// report was made.
pub struct Progress {
    times: Arc<Mutex<Vec<Instant>>>,
    read: Arc<AtomicU32>,
}

impl Progress {
    /// Makes one progress report (and marks it on the timeline).
    pub fn report(&mut self) {
        let mut times = self.times.lock().unwrap();
        times.push(Instant::now());
        shared::mark(&format!(
            "progress {}: {} numbers read",
            times.len(),
            self.read.load(Ordering::SeqCst)
        ));
    }
}

pub static SPEC: Spec = Spec {
    name: "quiet",
    facts: &[
        fact(
            "late_ratio",
            "how long after it was due a read ended (after QUIET without a number, or at the deadline), over QUIET (the latest of the shapes)",
        )
        .timing(),
        fact(
            "quiet_late_ratio",
            "how long after it was due a read due QUIET after its last number ended, over QUIET",
        )
        .timing(),
        fact(
            "deadline_late_ratio",
            "how long after the deadline a read due at the deadline ended, over QUIET",
        )
        .timing(),
        fact("early_stops", "reads that ended before they were due"),
        fact(
            "wrong_counts",
            "how far the counts the reader returned were from the numbers it read, in all",
        ),
        fact(
            "progress_ratio",
            "progress reports made over reports due (the read's length over 45 ms), in the shape where it was farthest from 1",
        )
        .timing(),
        fact(
            "progress_gap_ratio",
            "the longest stretch of a read without a progress report, over the 45 ms it should be (the worst shape)",
        )
        .timing(),
        fact("numbers_read", "numbers read, in all").live(),
        fact(
            "held_ratio",
            "the longest the reader held its thread in one poll, over QUIET",
        )
        .timing(),
        fact(
            "asleep_ratio",
            "the longest the runtime's thread slept of its own accord without a rest, in the reader or any task it spawned, over QUIET",
        )
        .timing(),
        fact(
            "busy_ratio",
            "the most CPU time the runtime's thread used without a rest, in the reader or any task it spawned, over QUIET",
        )
        .timing(),
        fact(
            "asleep_share",
            "all the time the runtime's thread slept of its own accord while it had work, in the reader or any task it spawned, over the time it read (the worst shape)",
        )
        .timing(),
        fact(
            "polls_per_event",
            "the reader's polls over the numbers it read and the progress reports due (the most of the shapes)",
        ),
    ],
};

impl Schedule {
    /// When a reader that stops after `quiet` without a number, and at
    /// `cap` at the latest, is due to stop.
    pub fn quiet_due(&self, quiet: Duration, cap: Duration) -> Duration {
        let mut last = Duration::ZERO;
        for i in 0.. {
            if last + quiet >= cap {
                return cap;
            }
            let next = self.at(i);
            if next > last + quiet {
                return last + quiet;
            }
            last = next;
        }
        cap
    }
}

/// The three shapes of stream, picked by `rng`: steady at a rate of its own
/// (a number every 3 to 6 ms), never quiet, so only the deadline ends the
/// read; and bursts of 5 to 20 numbers with pauses of 60 to 150 ms (each
/// one longer than the progress period, shorter than `QUIET`), until none
/// come from a moment 0.3 to 0.5 s in, so the read is due to end `QUIET`
/// after the last burst, well before the deadline, and 10 ms after a
/// progress report is due. The steady read is due at the deadline, which
/// is 10 ms after a progress report too (990 ms): whichever timer a reader
/// looks at only when it reports, it ends 35 ms late. The third is
/// steady again until a moment 0.86 to 0.9 s in, then quiet: its read is
/// due at the deadline too, with no number to look at the clock for.
pub fn shapes(rng: &mut Rng) -> Vec<Schedule> {
    let every = Duration::from_millis(rng.between(3, 6));
    let ms = Duration::from_millis;
    let quiet_from = rng.duration_between(ms(300), ms(450));
    let mut pattern = Vec::new();
    let mut t = Duration::ZERO;
    loop {
        t += rng.duration_between(ms(60), ms(150));
        if t > quiet_from {
            break;
        }
        for _ in 0..rng.between(5, 20) {
            pattern.push(t);
        }
    }
    // The last burst is moved later (by less than a period), so that the
    // read, due QUIET after it, is due 10 ms after a report: a reader that
    // looks at the quiet only when it reports ends 35 ms late.
    if let Some(&last) = pattern.last() {
        let period = PROGRESS_EVERY.as_millis() as u64;
        let quiet = QUIET.as_millis() as u64 % period;
        let at = last.as_millis() as u64;
        // The read is due at `moved + QUIET`, 10 ms past a report's time.
        let moved = ms(at + (10 + 2 * period - quiet - at % period) % period);
        for t in pattern.iter_mut().filter(|t| **t == last) {
            *t = moved;
        }
    }
    let bursts = Schedule {
        name: format!(
            "bursts of 5 to 20 numbers, with pauses of 60 to 150 ms, and none after {} ms",
            pattern.last().copied().unwrap_or_default().as_millis()
        ),
        pattern,
        // Long past any deadline: the pattern is never seen twice.
        period: ms(5000),
    };
    // Steady again, until a moment 0.86 to 0.9 s in: the quiet would end
    // the read 50 ms or more after the deadline, so the deadline is due
    // first, with no number in its last 100 ms or more. A reader that looks
    // at the deadline only when a number comes or a report is due is late.
    let stop = rng.duration_between(ms(860), ms(900));
    let again = Duration::from_millis(rng.between(3, 6));
    let pattern: Vec<Duration> = (1..)
        .map(|i| again * i)
        .take_while(|&t| t <= stop)
        .collect();
    let stops = Schedule {
        name: format!(
            "steady, a number every {} ms, and none after {} ms",
            again.as_millis(),
            pattern.last().copied().unwrap_or_default().as_millis()
        ),
        pattern,
        // Long past any deadline: the pattern is never seen twice.
        period: ms(5000),
    };
    vec![Schedule::steady(every), bursts, stops]
}

/// What one read showed.
#[derive(Clone, Debug, PartialEq)]
pub struct Read {
    /// What the reader returned.
    pub returned: u32,
    /// Numbers it read, counted by the stream.
    pub read: u32,
    /// When it was due to end, from its start.
    pub due: Duration,
    /// When it ended, from its start.
    pub took: Duration,
    /// Progress reports made.
    pub reports: usize,
    /// The longest stretch without a progress report, over the period.
    pub longest_gap: f64,
    /// The reader's polls (its making counts as one).
    pub polls: u64,
    pub asleep_share: f64,
    pub busy: Duration,
    pub longest_asleep: Duration,
}

impl Read {
    /// How late the read ended, over `QUIET` (0 if on time or early).
    pub fn late(&self) -> f64 {
        self.took.saturating_sub(self.due).as_secs_f64() / QUIET.as_secs_f64()
    }

    /// Progress reports due: the read's length over the period.
    pub fn reports_due(&self) -> f64 {
        self.took.as_secs_f64() / PROGRESS_EVERY.as_secs_f64()
    }

    pub fn progress_ratio(&self) -> f64 {
        self.reports as f64 / self.reports_due().max(1e-9)
    }

    /// Polls per number read and report due (and one for the end): a
    /// reader that waits is polled about once for each; one that wakes
    /// itself over and over, hundreds of times.
    pub fn polls_per_event(&self) -> f64 {
        self.polls as f64 / (f64::from(self.read) + self.reports_due() + 1.0)
    }
}

/// Runs `read` once per shape, on the current runtime. Never returns if a
/// read never ends.
pub async fn measure<R>(facts: &Facts, shapes: &[Schedule], read: R) -> Vec<Read>
where
    R: AsyncFn(Numbers, Progress) -> u32,
{
    let held = Held::new();
    let mut reads: Vec<Read> = Vec::new();
    let count = Arc::new(AtomicU32::new(0));
    let live = LiveCount::start(facts, "numbers_read", count.clone());
    for schedule in shapes {
        shared::mark(&format!("numbers come {}", schedule.name));
        let before = count.load(Ordering::SeqCst);
        let times = Arc::new(Mutex::new(Vec::new()));
        let progress = Progress {
            times: times.clone(),
            read: count.clone(),
        };
        let start = Instant::now();
        let numbers = Numbers::new(schedule.clone(), start, count.clone());
        let (polls, asleep) = (held.polls(), held.asleep());
        stretches::begin();
        let reading = held.time(|| read(numbers, progress));
        let returned = held.wrap(reading).traced("reader").await;
        let end = Instant::now();
        let took = end.duration_since(start);
        let thread = stretches::end();
        let times = times.lock().unwrap().clone();
        let mut marks = vec![start];
        marks.extend(times.iter().copied().filter(|&t| t <= end));
        marks.push(end);
        let longest = marks
            .windows(2)
            .map(|w| w[1].saturating_duration_since(w[0]).as_secs_f64())
            .fold(0.0, f64::max);
        let ran = took.as_secs_f64().max(1e-9);
        reads.push(Read {
            returned,
            read: count.load(Ordering::SeqCst) - before,
            due: schedule.quiet_due(QUIET, DEADLINE),
            took,
            reports: times.len(),
            longest_gap: longest / PROGRESS_EVERY.as_secs_f64(),
            polls: held.polls() - polls,
            asleep_share: thread
                .map_or(held.asleep().saturating_sub(asleep), |t| t.asleep)
                .as_secs_f64()
                / ran,
            busy: thread.map_or(held.longest_cpu(), |t| t.longest_cpu),
            longest_asleep: thread.map_or(held.longest_asleep(), |t| t.longest_asleep),
        });
    }
    facts.set(
        "late_ratio",
        reads.iter().map(Read::late).fold(0.0, f64::max),
    );
    let late_where = |at_deadline: bool| {
        reads
            .iter()
            .filter(|r| (r.due >= DEADLINE) == at_deadline)
            .map(Read::late)
            .fold(0.0, f64::max)
    };
    facts.set("quiet_late_ratio", late_where(false));
    facts.set("deadline_late_ratio", late_where(true));
    facts.set(
        "early_stops",
        reads.iter().filter(|r| r.took < r.due).count() as u32,
    );
    facts.set(
        "wrong_counts",
        reads
            .iter()
            .map(|r| r.returned.abs_diff(r.read))
            .sum::<u32>(),
    );
    let farthest = reads
        .iter()
        .map(Read::progress_ratio)
        .max_by(|a, b| a.ln().abs().total_cmp(&b.ln().abs()))
        .unwrap_or(0.0);
    facts.set("progress_ratio", farthest);
    facts.set(
        "progress_gap_ratio",
        reads.iter().map(|r| r.longest_gap).fold(0.0, f64::max),
    );
    drop(live);
    facts.set("held_ratio", held.longest_ratio(QUIET));
    let worst = |f: fn(&Read) -> f64| reads.iter().map(f).fold(0.0, f64::max);
    facts.set(
        "asleep_ratio",
        worst(|r| r.longest_asleep.as_secs_f64() / QUIET.as_secs_f64()),
    );
    facts.set(
        "busy_ratio",
        worst(|r| r.busy.as_secs_f64() / QUIET.as_secs_f64()),
    );
    facts.set("asleep_share", worst(|r| r.asleep_share));
    facts.set("polls_per_event", worst(Read::polls_per_event));
    reads
}

pub fn run<R>(facts: &Facts, read: R)
where
    R: AsyncFn(Numbers, Progress) -> u32,
{
    shared::contract::watchdog::default_deadline(Duration::from_secs(5));
    let shapes = shapes(&mut Rng::for_scenario(SPEC.name));
    println!(
        "{} reads an endless stream until it has been quiet for {} ms, for at most",
        facts.The("reader"),
        QUIET.as_millis()
    );
    println!(
        "1 s, reporting progress every {} ms; three times, in shapes picked at run time",
        PROGRESS_EVERY.as_millis()
    );
    println!("(seed {}; LESSON_SEED={} replays them):", seed(), seed());
    for (i, s) in shapes.iter().enumerate() {
        println!(
            "  {}. {}: the read is due to end {} ms in",
            i + 1,
            s.name,
            s.quiet_due(QUIET, DEADLINE).as_millis()
        );
    }
    println!("(If a read never stops, the watchdog stops it after 5 s.)");
    let reads = runtime().block_on(measure(facts, &shapes, read));
    for (i, r) in reads.iter().enumerate() {
        println!(
            "Shape {}: it read {} numbers, said it read {}, and stopped {} ms in (due at {} ms), with {} progress reports for {:.1} due.",
            i + 1,
            r.read,
            r.returned,
            r.took.as_millis(),
            r.due.as_millis(),
            r.reports,
            r.reports_due()
        );
    }
}

pub fn piece<'a, R>(name: &'static str, read: R) -> Piece<'a>
where
    R: AsyncFn(Numbers, Progress) -> u32 + 'a,
{
    Piece::new(name, move |facts| run(facts, read))
}

/// The `deadline` exercise binary's `main`: judges the learner's reader.
pub fn exercise<R>(read: R) -> ExitCode
where
    R: AsyncFn(Numbers, Progress) -> u32,
{
    shared::lesson::main(
        LESSON,
        Variant::Exercise("deadline"),
        vec![SPEC.with(vec![piece("", read)])],
    )
}
