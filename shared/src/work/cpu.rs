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
