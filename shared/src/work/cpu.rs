//! CPU work of a known duration.
//!
//! "Hash for 50 ms" has to mean 50 ms on a fast laptop and on a slow CI box,
//! so the work is calibrated once per process: we time a fixed number of
//! rounds several times and keep the fastest (the one least disturbed by other
//! programs), then convert durations to rounds with that rate.

use std::hint::black_box;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// One round of work: a few steps of a 64-bit mixing function. Cheap enough
/// to make durations precise, opaque enough that the optimiser keeps it.
#[inline]
fn round(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Runs `rounds` rounds of hashing and returns the final value.
pub fn hash_rounds(seed: u64, rounds: u64) -> u64 {
    let mut x = seed;
    for _ in 0..rounds {
        x = round(black_box(x));
    }
    x
}

/// How fast this machine hashes.
#[derive(Clone, Copy, Debug)]
pub struct Calibration {
    pub rounds_per_ms: f64,
}

impl Calibration {
    fn measure() -> Calibration {
        const PROBE: u64 = 50_000;
        // Warm up, then keep the fastest of several short probes.
        hash_rounds(1, PROBE);
        let mut best = Duration::MAX;
        for i in 0..7 {
            let t = Instant::now();
            black_box(hash_rounds(i, PROBE));
            best = best.min(t.elapsed());
        }
        let ms = best.as_secs_f64() * 1000.0;
        Calibration {
            rounds_per_ms: PROBE as f64 / ms.max(1e-6),
        }
    }

    /// Rounds that take about `d` on an idle core.
    pub fn rounds_for(&self, d: Duration) -> u64 {
        (self.rounds_per_ms * d.as_secs_f64() * 1000.0)
            .round()
            .max(1.0) as u64
    }
}

/// The process's calibration, measured the first time it is asked for.
pub fn calibration() -> Calibration {
    static CAL: OnceLock<Calibration> = OnceLock::new();
    *CAL.get_or_init(Calibration::measure)
}

/// Keeps this thread's CPU busy hashing for about `d` (on an idle core; on a
/// loaded machine it takes longer, which is why lessons compare ratios).
/// Returns the hash so that callers can show the work was real.
pub fn burn(d: Duration) -> u64 {
    hash_rounds(d.as_nanos() as u64, calibration().rounds_for(d))
}

/// The cores this program may run on, as the standard library sees them
/// (on Linux this follows `taskset` and container limits).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// CPU time this process has used so far, on all its threads, in user and
/// system mode. Compare two readings with the wall-clock time between them:
/// a ratio near 1 means one core was kept busy the whole time.
#[cfg(unix)]
#[allow(unsafe_code)]
pub fn cpu_time() -> Duration {
    // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable rusage for the duration of the
    // call; getrusage (POSIX, on Linux and macOS) only writes into it.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    if rc != 0 {
        return Duration::ZERO;
    }
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// Off Unix the lessons cannot read the CPU time (see the README's
/// Platforms section); a claim built on it then fails plainly.
#[cfg(not(unix))]
pub fn cpu_time() -> Duration {
    Duration::ZERO
}

/// What a [`BusyWatch`] saw.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Busy {
    /// The time the process's threads ran or waited for a core, over the
    /// wall time: about 1 for one thread that never rests, near 0 for
    /// threads that wait for events.
    pub ratio: f64,
    /// The times they were put on a core: each wake-up of a sleeping
    /// thread counts, and each return of a thread that gave up its core or
    /// was made to. Zero where it cannot be read.
    pub runs: u64,
    /// The threads the process had when the watch started, and the most it
    /// had at once while watched (the watch's own thread, and any left out,
    /// not counted). Zero where they cannot be counted.
    pub threads_before: usize,
    pub threads_most: usize,
    /// The time itself, summed over the threads (what `ratio` divides by
    /// the wall time).
    pub time: Duration,
}

/// How much this process's threads wanted a core over a stretch of time:
/// the time they ran plus the time they waited for a core (ready to run,
/// but every core taken), summed over the threads, over the wall time. A
/// thread that loops with `yield_now` beside busy programs gets little CPU
/// time, since each yield hands its core away; but it is always running or
/// waiting to run, so its busy time is the whole wall time, however busy
/// the machine. A thread that sleeps or waits on a lock adds nothing to
/// it, but each of its wake-ups counts in [`Busy::runs`]: a thread that
/// naps for microseconds in a loop is seldom busy, and wakes all the time.
///
/// A thread of its own samples `/proc/self/task/*/schedstat` (Linux) every
/// 2 ms, so a thread that ends between samples loses at most its last 2 ms.
/// Where that file cannot be read, the watch counts the process's CPU time
/// instead ([`cpu_time`]), and [`BusyWatch::runnable_seen`] says so; a
/// watch that leaves threads out ([`BusyWatch::leaving_out`]) then sees
/// nothing, and says 0.
pub struct BusyWatch {
    wall: Instant,
    cpu: Duration,
    sampler: Option<Sampler>,
    leaves_out: bool,
}

type Sampler = (
    std::sync::Arc<std::sync::atomic::AtomicBool>,
    std::thread::JoinHandle<(Busy, Vec<(u64, crate::record::sched::SchedStat)>)>,
);

/// Every thread of the process but the caller and, if some are left out,
/// those and the threads claimed by now, with its time on a core and
/// waiting for one, and its runs, so far.
#[cfg(target_os = "linux")]
fn schedstat_now(
    me: u64,
    left_out: Option<&[u64]>,
) -> Option<Vec<(u64, crate::record::sched::SchedStat)>> {
    let claimed = match left_out {
        Some(_) => crate::record::sched::claimed_threads(),
        None => Vec::new(),
    };
    let left_out = left_out.unwrap_or_default();
    let mut all = Vec::new();
    for tid in crate::record::sched::thread_ids()? {
        if tid == me || left_out.contains(&tid) || claimed.contains(&tid) {
            continue;
        }
        // A thread that ended since the listing has no file: skip it.
        if let Some(s) = crate::record::sched::SchedStat::of_thread(tid) {
            all.push((tid, s));
        }
    }
    Some(all)
}

impl BusyWatch {
    /// Starts watching every thread of the process now.
    pub fn start() -> BusyWatch {
        BusyWatch {
            sampler: Self::sampler(None),
            cpu: cpu_time(),
            wall: Instant::now(),
            leaves_out: false,
        }
    }

    /// Starts watching now, every thread but those listed (by the ids that
    /// [`crate::record::sched::thread_ids`] gives) and those claimed by the
    /// time of each sample ([`crate::record::sched::claim_this_thread`]):
    /// given a harness's threads ([`crate::record::sched::HarnessThreads`]),
    /// it counts only the threads of the program under watch.
    pub fn leaving_out(threads: Vec<u64>) -> BusyWatch {
        BusyWatch {
            sampler: Self::sampler(Some(threads)),
            cpu: cpu_time(),
            wall: Instant::now(),
            leaves_out: true,
        }
    }

    #[cfg(target_os = "linux")]
    fn sampler(left_out: Option<Vec<u64>>) -> Option<Sampler> {
        use crate::record::sched::SchedStat;
        use std::collections::HashMap;
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::{Arc, mpsc};
        let stop = Arc::new(AtomicBool::new(false));
        let (ready, started) = mpsc::channel();
        let stopped = stop.clone();
        let thread = std::thread::Builder::new()
            .name("busy-watch".into())
            .spawn(move || {
                crate::record::sched::claim_this_thread();
                let Some(me) = crate::record::sched::this_thread_id() else {
                    let _ = ready.send(false);
                    return Default::default();
                };
                // Each thread's figures at the start (zero for a thread
                // born later), and at the latest sample.
                let mut first: HashMap<u64, SchedStat> = HashMap::new();
                let mut last: HashMap<u64, SchedStat> = HashMap::new();
                let Some(now) = schedstat_now(me, left_out.as_deref()) else {
                    let _ = ready.send(false);
                    return Default::default();
                };
                let threads_before = now.len();
                let mut threads_most = threads_before;
                for (tid, t) in now {
                    first.insert(tid, t);
                    last.insert(tid, t);
                }
                let _ = ready.send(true);
                loop {
                    let done = stopped.load(Ordering::SeqCst);
                    let now = schedstat_now(me, left_out.as_deref()).unwrap_or_default();
                    threads_most = threads_most.max(now.len());
                    for (tid, t) in now {
                        last.insert(tid, t);
                    }
                    if done {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(2));
                }
                let (mut busy, mut runs) = (Duration::ZERO, 0);
                let mut by_thread = Vec::new();
                for (tid, now) in &last {
                    let then = first.get(tid).copied().unwrap_or_default();
                    let since = SchedStat {
                        ran: now.ran.saturating_sub(then.ran),
                        waited: now.waited.saturating_sub(then.waited),
                        runs: now.runs.saturating_sub(then.runs),
                    };
                    busy += since.ran + since.waited;
                    runs += since.runs;
                    by_thread.push((*tid, since));
                }
                let busy = Busy {
                    ratio: busy.as_secs_f64(),
                    runs,
                    threads_before,
                    threads_most,
                    time: busy,
                };
                (busy, by_thread)
            })
            .ok()?;
        match started.recv() {
            Ok(true) => Some((stop, thread)),
            _ => {
                let _ = thread.join();
                None
            }
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn sampler(_: Option<Vec<u64>>) -> Option<Sampler> {
        None
    }

    /// Whether the time waited for a core, the runs and the threads are
    /// counted (Linux); if not, the ratio is the CPU time alone.
    pub fn runnable_seen(&self) -> bool {
        self.sampler.is_some()
    }

    /// Stops watching, and says what it saw since [`BusyWatch::start`].
    pub fn finish(self) -> Busy {
        self.finish_by_thread().0
    }

    /// [`BusyWatch::finish`], and each thread's own counts while watched
    /// (by the ids that [`crate::record::sched::thread_ids`] gives; a
    /// thread that ended while watched is there with its counts until its
    /// last sample). Empty where the threads cannot be watched one by one.
    pub fn finish_by_thread(self) -> (Busy, Vec<(u64, crate::record::sched::SchedStat)>) {
        let wall = self.wall.elapsed().as_secs_f64().max(1e-9);
        match self.sampler {
            Some((stop, thread)) => {
                stop.store(true, std::sync::atomic::Ordering::SeqCst);
                let (mut busy, by_thread) = thread.join().unwrap_or_default();
                // The sampler sums seconds; the ratio is over the wall time.
                busy.ratio /= wall;
                (busy, by_thread)
            }
            None if self.leaves_out => Default::default(),
            None => {
                let time = cpu_time().saturating_sub(self.cpu);
                let busy = Busy {
                    ratio: time.as_secs_f64() / wall,
                    time,
                    ..Busy::default()
                };
                (busy, Vec::new())
            }
        }
    }

    /// [`BusyWatch::finish`]'s ratio alone.
    pub fn ratio(self) -> f64 {
        self.finish().ratio
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_counts_the_work_this_thread_does() {
        let before = cpu_time();
        burn(Duration::from_millis(30));
        // The rounds for 30 ms at the fastest measured rate need at least
        // that much CPU time, however slowly they actually ran. (Other test
        // threads can only add to the process's total.)
        assert!(cpu_time() - before >= Duration::from_millis(15));
    }

    #[test]
    fn hashing_is_deterministic_and_depends_on_every_round() {
        assert_eq!(hash_rounds(7, 1000), hash_rounds(7, 1000));
        assert_ne!(hash_rounds(7, 1000), hash_rounds(7, 1001));
        assert_ne!(hash_rounds(7, 1000), hash_rounds(8, 1000));
    }

    #[test]
    fn rounds_scale_with_duration() {
        let cal = Calibration {
            rounds_per_ms: 1000.0,
        };
        assert_eq!(cal.rounds_for(Duration::from_millis(20)), 20_000);
        assert_eq!(cal.rounds_for(Duration::from_micros(500)), 500);
        assert_eq!(cal.rounds_for(Duration::ZERO), 1, "never zero work");
    }

    #[test]
    fn calibration_measures_a_positive_rate_once() {
        let a = calibration();
        let b = calibration();
        assert!(a.rounds_per_ms > 0.0);
        assert_eq!(
            a.rounds_per_ms, b.rounds_per_ms,
            "measured once per process"
        );
    }
}
