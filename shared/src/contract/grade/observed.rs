//! What a run was seen to do, apart from its facts.

use crate::event::StallReason;
use crate::view::number::format_value;

/// What a run was seen to do.
#[derive(Clone, Debug, PartialEq)]
pub enum Observed {
    Completes,
    Hangs {
        /// Who stopped it: the child's own watchdog or the runner (or, in a
        /// test, the test's timeout).
        by_runner: bool,
        /// Stopped because nothing happened (`Quiet`), or because it never
        /// finished (`Deadline`).
        reason: StallReason,
        after_ms: u64,
    },
    Panics(String),
    /// The harness did not run the claim on this machine, and says why.
    Skipped(String),
    /// Ended some other way: a crash, a bad exit code, a missing report.
    Fails(String),
    Interrupted,
}

impl Observed {
    /// What a test's timeout of `limit` means: the run hangs.
    pub fn timed_out(limit: std::time::Duration) -> Observed {
        Observed::Hangs {
            by_runner: true,
            reason: StallReason::Deadline,
            after_ms: limit.as_millis() as u64,
        }
    }

    pub fn word(&self) -> &'static str {
        match self {
            Observed::Completes => "completes",
            Observed::Hangs { .. } => "hangs",
            Observed::Panics(_) => "panics",
            Observed::Skipped(_) => "skipped",
            Observed::Fails(_) => "fails",
            Observed::Interrupted => "interrupted",
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Observed::Completes => "completes".into(),
            Observed::Hangs {
                by_runner,
                reason,
                after_ms,
            } => {
                let who = if *by_runner {
                    "the runner"
                } else {
                    "its watchdog"
                };
                let secs = format_value(*after_ms as f64 / 1000.0);
                match reason {
                    StallReason::Quiet => {
                        format!("hangs (no progress for {secs} s; stopped by {who})")
                    }
                    StallReason::Deadline => {
                        format!("hangs (unfinished after {secs} s; stopped by {who})")
                    }
                }
            }
            Observed::Panics(m) => format!("panics \"{}\"", first_line(m)),
            Observed::Skipped(why) => format!("skipped ({why})"),
            Observed::Fails(why) => format!("fails ({why})"),
            Observed::Interrupted => "interrupted".into(),
        }
    }
}

pub(super) fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}
