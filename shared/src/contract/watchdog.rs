//! A plain thread that stops a stuck lesson.
//!
//! A lesson about deadlocks must not need Ctrl-C. The watchdog wakes every
//! few milliseconds, streams new events to the report file, and ends the
//! process with a clear explanation when nothing has been recorded for the
//! quiet period (a stall) or the run has gone on past its deadline. It is a
//! plain OS thread, not a task, so it keeps running when every task and
//! every runtime thread is stuck.

use crate::contract::report::{DEADLINE_ENV, QUIET_ENV, STALL_EXIT_CODE};
use crate::event::StallReason;
use crate::record::recorder::Recorder;
use crate::view::timeline::{CHART_WIDTH, Timeline};
use std::io::Write;
use std::sync::{Mutex, Once};
use std::time::Duration;

/// How long a run may go without progress, and how long it may run at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub quiet: Duration,
    pub deadline: Duration,
}

impl Limits {
    pub const DEFAULT: Limits = Limits {
        quiet: Duration::from_secs(2),
        deadline: Duration::from_secs(20),
    };

    /// `default`, overridden by `LESSON_QUIET_MS` and `LESSON_DEADLINE_MS`
    /// (the runner sets them from the lesson's manifest).
    pub fn from_env(default: Limits) -> Limits {
        Limits::from_lookup(default, |key| std::env::var(key).ok())
    }

    fn from_lookup(default: Limits, get: impl Fn(&str) -> Option<String>) -> Limits {
        let read = |key: &str| {
            get(key)
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_millis)
        };
        Limits {
            quiet: read(QUIET_ENV).unwrap_or(default.quiet),
            deadline: read(DEADLINE_ENV).unwrap_or(default.deadline),
        }
    }
}

/// What the watchdog decides after looking at the clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Fine,
    Stalled(StallReason),
}

/// The decision, apart from the thread, so it can be tested.
pub fn decide(limits: Limits, quiet_us: u64, elapsed_us: u64) -> Decision {
    if quiet_us >= limits.quiet.as_micros() as u64 {
        Decision::Stalled(StallReason::Quiet)
    } else if elapsed_us >= limits.deadline.as_micros() as u64 {
        Decision::Stalled(StallReason::Deadline)
    } else {
        Decision::Fine
    }
}

static LIMITS: Mutex<Limits> = Mutex::new(Limits::DEFAULT);

/// How to run the scenarios a stall keeps from running, for the last words.
static NOT_YET_RUN: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Tells the watchdog the commands that run the scenarios still to come,
/// so that a stall can say how to see them.
pub fn not_yet_run(commands: Vec<String>) {
    *NOT_YET_RUN.lock().unwrap_or_else(|e| e.into_inner()) = commands;
}

/// Lets a scenario that is expected never to finish say how long it may
/// run before the watchdog stops it. The runner's `LESSON_DEADLINE_MS`, when
/// set, still wins.
pub fn default_deadline(deadline: Duration) {
    if std::env::var_os(DEADLINE_ENV).is_none() {
        LIMITS.lock().unwrap_or_else(|e| e.into_inner()).deadline = deadline;
    }
}
const TICK: Duration = Duration::from_millis(20);

/// Starts watching `rec` (once per process; later calls only change limits).
pub fn watch(rec: &'static Recorder, limits: Limits) {
    *LIMITS.lock().unwrap_or_else(|e| e.into_inner()) = limits;
    static START: Once = Once::new();
    START.call_once(|| {
        std::thread::Builder::new()
            .name("watchdog".into())
            .spawn(move || {
                crate::record::sched::claim_this_thread();
                loop {
                    std::thread::sleep(TICK);
                    rec.tick();
                    if !rec.is_running() {
                        continue;
                    }
                    let limits = *LIMITS.lock().unwrap_or_else(|e| e.into_inner());
                    if let Decision::Stalled(reason) = decide(limits, rec.quiet_us(), rec.now_us())
                    {
                        stop(rec, reason);
                    }
                }
            })
            .expect("could not start the watchdog thread");
    });
}

fn stop(rec: &'static Recorder, reason: StallReason) -> ! {
    let after_ms = match reason {
        StallReason::Quiet => rec.quiet_us() / 1000,
        StallReason::Deadline => rec.now_us() / 1000,
    };
    let (stall, events) = rec.stall(reason, after_ms);
    let timeline = Timeline::from_events(&events);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out);
    let _ = write!(out, "{}", timeline.describe_stall(&stall));
    let _ = writeln!(out);
    let _ = write!(out, "{}", timeline.ascii(CHART_WIDTH));
    let rest = NOT_YET_RUN
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    if !rest.is_empty() {
        let _ = writeln!(
            out,
            "The stall kept the other scenarios from running; to see them, run: {}",
            rest.join(", ")
        );
    }
    let _ = out.flush();
    std::process::exit(STALL_EXIT_CODE);
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        quiet: Duration::from_millis(500),
        deadline: Duration::from_secs(5),
    };

    #[test]
    fn quiet_for_the_whole_quiet_period_is_a_stall() {
        assert_eq!(decide(LIMITS, 499_999, 1_000_000), Decision::Fine);
        assert_eq!(
            decide(LIMITS, 500_000, 1_000_000),
            Decision::Stalled(StallReason::Quiet)
        );
    }

    #[test]
    fn busy_past_the_deadline_is_stopped_too() {
        assert_eq!(decide(LIMITS, 0, 4_999_999), Decision::Fine);
        assert_eq!(
            decide(LIMITS, 0, 5_000_000),
            Decision::Stalled(StallReason::Deadline)
        );
    }

    #[test]
    fn limits_come_from_the_environment_when_set() {
        let none = Limits::from_lookup(LIMITS, |_| None);
        assert_eq!(none, LIMITS);
        let both = Limits::from_lookup(LIMITS, |key| match key {
            QUIET_ENV => Some("1500".into()),
            DEADLINE_ENV => Some(" 9000 ".into()),
            _ => None,
        });
        assert_eq!(both.quiet, Duration::from_millis(1500));
        assert_eq!(both.deadline, Duration::from_millis(9000));
        let junk = Limits::from_lookup(LIMITS, |_| Some("soon".into()));
        assert_eq!(junk, LIMITS, "an unreadable value keeps the default");
    }
}
