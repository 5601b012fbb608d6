//! Workloads chosen at run time, so that a program is judged by what it
//! does with time and data, not by what it can count on.
//!
//! If work always arrives every 10 ms, "report after every 10th item" looks
//! exactly like "report every 100 ms", and "stop after 100 numbers" like "stop
//! after one second". A harness therefore judges a claim under at least two
//! workload shapes (another rate, bursts and pauses, another count),
//! picked from a seed when the program runs, and makes the data a piece
//! must process at run time too ([`Rng::salt`]), so that no answer can be
//! rebuilt from public constants or remembered from one item to the next.
//!
//! The seed comes from the clock, or from `LESSON_SEED` to replay a run:
//! a harness prints it with its narration.

use std::sync::OnceLock;
use std::time::Duration;

/// Environment variable: the seed for a run's workloads, to replay one.
pub const SEED_ENV: &str = "LESSON_SEED";

/// This process's seed: `LESSON_SEED` when it is set to a number, else one
/// made from the clock and the process id. The same for the whole process.
pub fn seed() -> u64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    *SEED.get_or_init(|| {
        std::env::var(SEED_ENV)
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos() as u64);
                // Keep it short enough to type: 6 digits.
                splitmix(now ^ u64::from(std::process::id()).rotate_left(32)) % 1_000_000
            })
    })
}

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A small, fast random number generator (splitmix64): plenty for picking
/// workloads, and the same numbers for the same seed on every machine.
#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    /// A generator for one scenario: the process's seed mixed with the
    /// scenario's name, so that scenarios do not share their numbers.
    pub fn for_scenario(name: &str) -> Rng {
        let mut h = seed();
        for b in name.bytes() {
            h = splitmix(h ^ u64::from(b));
        }
        Rng::new(h)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        splitmix(self.state)
    }

    /// A number in `lo..=hi`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        assert!(lo <= hi, "between({lo}, {hi})");
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// A duration in `lo..=hi`, to the microsecond.
    pub fn duration_between(&mut self, lo: Duration, hi: Duration) -> Duration {
        Duration::from_micros(self.between(lo.as_micros() as u64, hi.as_micros() as u64))
    }

    /// A value no program can know before it runs: mix it into the data a
    /// piece must process, and check the piece's answer against it.
    pub fn salt(&mut self) -> u64 {
        self.next_u64()
    }

    /// Puts `items` in a random order.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.between(0, i as u64) as usize;
            items.swap(i, j);
        }
    }
}

/// When each piece of work arrives, as offsets from the start of the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arrivals {
    /// What this shape is, for narration: "steady, every 10 ms".
    pub name: String,
    /// Sorted, from the start of the run.
    pub at: Vec<Duration>,
}

impl Arrivals {
    /// `count` items, one every `every`, the first after `every`.
    pub fn steady(every: Duration, count: usize) -> Arrivals {
        Arrivals {
            name: format!("steady, one every {} ms", every.as_millis()),
            at: (1..=count as u32).map(|i| every * i).collect(),
        }
    }

    /// Bursts of a few items at once, with pauses between them, spread over
    /// about `span`: counting items no longer tells how much time passed.
    pub fn bursts(rng: &mut Rng, span: Duration, count: usize) -> Arrivals {
        let mut at = Vec::with_capacity(count);
        let mut t = Duration::ZERO;
        let mean_gap = span / (count as u32).max(1);
        while at.len() < count {
            let burst = rng.between(2, 12) as usize;
            for _ in 0..burst.min(count - at.len()) {
                at.push(t);
            }
            // The pause after a burst is worth the burst's share of time,
            // give or take half.
            let pause = mean_gap * burst as u32;
            t += rng.duration_between(pause / 2, pause * 3 / 2);
        }
        Arrivals {
            name: format!(
                "bursts of 2 to 12 items, with pauses, over about {} ms",
                span.as_millis()
            ),
            at,
        }
    }

    /// `count` items at random gaps between `lo` and `hi`.
    pub fn jittered(rng: &mut Rng, lo: Duration, hi: Duration, count: usize) -> Arrivals {
        let mut t = Duration::ZERO;
        let at = (0..count)
            .map(|_| {
                t += rng.duration_between(lo, hi);
                t
            })
            .collect();
        Arrivals {
            name: format!(
                "one every {} to {} ms, at random",
                lo.as_millis(),
                hi.as_millis()
            ),
            at,
        }
    }

    /// When the last item arrives.
    pub fn span(&self) -> Duration {
        self.at.last().copied().unwrap_or_default()
    }

    pub fn len(&self) -> usize {
        self.at.len()
    }

    pub fn is_empty(&self) -> bool {
        self.at.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_numbers() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        let mut c = Rng::new(8);
        let xs: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        let zs: Vec<u64> = (0..5).map(|_| c.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
    }

    #[test]
    fn numbers_stay_in_their_range() {
        let mut rng = Rng::new(1);
        for _ in 0..1000 {
            let n = rng.between(3, 5);
            assert!((3..=5).contains(&n));
        }
        assert_eq!(rng.between(4, 4), 4);
        let mut v: Vec<u32> = (0..20).collect();
        rng.shuffle(&mut v);
        let mut sorted = v.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..20).collect::<Vec<_>>());
    }

    #[test]
    fn shapes_have_their_count_in_order() {
        let mut rng = Rng::new(42);
        let steady = Arrivals::steady(Duration::from_millis(10), 100);
        assert_eq!(steady.len(), 100);
        assert_eq!(steady.span(), Duration::from_secs(1));
        for shape in [
            Arrivals::bursts(&mut rng, Duration::from_secs(1), 100),
            Arrivals::jittered(
                &mut rng,
                Duration::from_millis(2),
                Duration::from_millis(20),
                100,
            ),
        ] {
            assert_eq!(shape.len(), 100, "{}", shape.name);
            assert!(shape.at.windows(2).all(|w| w[0] <= w[1]), "{}", shape.name);
            assert!(shape.span() > Duration::from_millis(150), "{}", shape.name);
        }
        let bursts = Arrivals::bursts(&mut rng, Duration::from_secs(1), 100);
        let at_once = bursts.at.windows(2).filter(|w| w[0] == w[1]).count();
        assert!(at_once > 30, "bursts come at once: {at_once}");
    }

    #[test]
    fn a_scenario_gets_numbers_of_its_own() {
        let mut a = Rng::for_scenario("report");
        let mut b = Rng::for_scenario("deadline");
        assert_ne!(a.next_u64(), b.next_u64());
    }
}
