//! Deciding what a run did, and whether that is what the lesson says.

use crate::lessons::{Expect, Outcome, Variant};
use crate::process::{RunResult, Stopped};
use serde_json::{Value, json};
use shared::report::{StallReason, format_value};

/// What a run was seen to do.
#[derive(Clone, Debug, PartialEq)]
pub enum Observed {
    Completes,
    Hangs {
        /// Who stopped it: the child's own watchdog or the runner.
        by_runner: bool,
        /// Stopped because nothing happened (`Quiet`), or because it never
        /// finished (`Deadline`).
        reason: StallReason,
        after_ms: u64,
    },
    Panics(String),
    /// Ended some other way: a crash, a bad exit code, a missing report.
    Fails(String),
    Interrupted,
}

impl Observed {
    pub fn of(run: &RunResult) -> Observed {
        match run.stopped {
            Some(Stopped::Interrupted) => return Observed::Interrupted,
            Some(Stopped::Quiet) => {
                return Observed::Hangs {
                    by_runner: true,
                    reason: StallReason::Quiet,
                    after_ms: run.elapsed.as_millis() as u64,
                };
            }
            Some(Stopped::Deadline) => {
                return Observed::Hangs {
                    by_runner: true,
                    reason: StallReason::Deadline,
                    after_ms: run.elapsed.as_millis() as u64,
                };
            }
            None => {}
        }
        if let Some(stall) = run.report.stall() {
            return Observed::Hangs {
                by_runner: false,
                reason: stall.reason,
                after_ms: stall.after_ms,
            };
        }
        let code = run.status.and_then(|s| s.code());
        if code == Some(0) {
            return if run.report.ended() {
                Observed::Completes
            } else if run.report.events.is_empty() {
                Observed::Fails("exited without writing a report".into())
            } else {
                Observed::Fails("exited before its scenario ended".into())
            };
        }
        if let Some(message) = run.report.panic_message() {
            return Observed::Panics(message.to_string());
        }
        if code == Some(101) {
            return Observed::Panics("(message not recorded)".into());
        }
        Observed::Fails(run.exit_description())
    }

    pub fn word(&self) -> &'static str {
        match self {
            Observed::Completes => "completes",
            Observed::Hangs { .. } => "hangs",
            Observed::Panics(_) => "panics",
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
            Observed::Fails(why) => format!("fails ({why})"),
            Observed::Interrupted => "interrupted".into(),
        }
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// The comparison of one run with its expectation.
pub struct Judgement {
    pub observed: Observed,
    pub facts: Vec<(String, f64)>,
    /// Empty when the run did what the lesson says.
    pub problems: Vec<String>,
}

impl Judgement {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// The observed facts that the expectation bounds, as `name = value`.
    pub fn observed_summary(&self, expect: &Expect) -> String {
        let mut parts = vec![self.observed.describe()];
        for b in &expect.facts {
            match self.facts.iter().find(|(n, _)| *n == b.name) {
                Some((n, v)) => parts.push(format!("{n} = {}", format_value(*v))),
                None => parts.push(format!("{} missing", b.name)),
            }
        }
        parts.join("; ")
    }
}

pub fn judge(run: &RunResult, expect: &Expect) -> Judgement {
    let observed = Observed::of(run);
    let facts = run.report.facts();
    let mut problems = Vec::new();
    let outcome_ok = match (&expect.outcome, &observed) {
        (Outcome::Completes, Observed::Completes) | (Outcome::Hangs, Observed::Hangs { .. }) => {
            true
        }
        (Outcome::Panics(fragment), Observed::Panics(message)) => {
            if message.contains(fragment.as_str()) {
                true
            } else {
                problems.push(format!(
                    "it panicked with \"{}\", which does not contain the expected \"{fragment}\"",
                    first_line(message)
                ));
                false
            }
        }
        _ => false,
    };
    if !outcome_ok && problems.is_empty() {
        problems.push(format!(
            "expected it to {}, but it {}",
            expect
                .outcome
                .describe()
                .replace("completes", "complete")
                .replace("hangs", "hang")
                .replace("panics", "panic"),
            observed.describe()
        ));
    }
    for bound in &expect.facts {
        match facts.iter().find(|(n, _)| *n == bound.name) {
            None => problems.push(format!("fact {} was not reported", bound.name)),
            Some((_, v)) if !bound.holds(*v) => problems.push(format!(
                "{} = {}, expected {}",
                bound.name,
                format_value(*v),
                bound.describe().trim_start_matches(&bound.name).trim()
            )),
            Some(_) => {}
        }
    }
    Judgement {
        observed,
        facts,
        problems,
    }
}

/// One sentence for the end of `cargo xtask run`.
pub fn verdict(variant: Variant, expect: &Expect, j: &Judgement) -> String {
    let facts = expect
        .facts
        .iter()
        .filter_map(|b| {
            j.facts
                .iter()
                .find(|(n, _)| *n == b.name)
                .map(|(n, v)| format!("{n} = {}", format_value(*v)))
        })
        .collect::<Vec<_>>()
        .join(", ");
    let facts = if facts.is_empty() {
        String::new()
    } else {
        format!(" ({facts})")
    };
    if j.ok() {
        let how = match &j.observed {
            Observed::Hangs { .. } => format!("{}; ", j.observed.describe()),
            Observed::Panics(_) => format!("{}; ", j.observed.describe()),
            _ => String::new(),
        };
        format!(
            "{}: {how}as the lesson predicts, {}{facts}.",
            variant.name(),
            expect.claim
        )
    } else {
        format!(
            "{}: NOT as the lesson predicts ({}): {}.",
            variant.name(),
            expect.claim,
            j.problems.join("; ")
        )
    }
}

/// One JSON object for `cargo xtask check --json`.
pub fn json_line(
    lesson: &str,
    scenario: &str,
    variant: Variant,
    expect: &Expect,
    run: &RunResult,
    j: &Judgement,
) -> Value {
    let bounds: serde_json::Map<String, Value> = expect
        .facts
        .iter()
        .map(|b| (b.name.clone(), json!({"min": b.min, "max": b.max})))
        .collect();
    let facts: serde_json::Map<String, Value> =
        j.facts.iter().map(|(n, v)| (n.clone(), json!(v))).collect();
    let panic = match &expect.outcome {
        Outcome::Panics(f) => Some(f.clone()),
        _ => None,
    };
    json!({
        "lesson": lesson,
        "scenario": scenario,
        "variant": variant.name(),
        "expected": {
            "outcome": expect.outcome.describe().split(' ').next(),
            "panic": panic,
            "claim": expect.claim,
            "facts": bounds,
        },
        "observed": {
            "outcome": j.observed.word(),
            "detail": j.observed.describe(),
            "facts": facts,
            "exit": run.exit_description(),
            "elapsed_ms": run.elapsed.as_millis() as u64,
        },
        "verdict": if j.ok() { "ok" } else { "mismatch" },
        "problems": j.problems,
        "report": run.report_path.display().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lessons::Bound;
    use shared::report::{Event, Report, Stall};
    use std::os::unix::process::ExitStatusExt;
    use std::process::ExitStatus;
    use std::time::Duration;

    fn run(code: i32, events: Vec<Event>, stopped: Option<Stopped>) -> RunResult {
        RunResult {
            status: Some(ExitStatus::from_raw(code << 8)),
            stopped,
            report: Report { events },
            output: String::new(),
            elapsed: Duration::from_millis(1234),
            report_path: "/tmp/r.jsonl".into(),
        }
    }

    fn fact(name: &str, value: f64) -> Event {
        Event::Fact {
            name: name.into(),
            value,
        }
    }

    fn end() -> Event {
        Event::End { elapsed_us: 1 }
    }

    fn expect(outcome: Outcome, facts: Vec<Bound>) -> Expect {
        Expect {
            outcome,
            claim: "the claim".into(),
            facts,
        }
    }

    fn at_most(name: &str, max: f64) -> Bound {
        Bound {
            name: name.into(),
            min: None,
            max: Some(max),
        }
    }

    #[test]
    fn a_run_within_its_bounds_is_ok() {
        let r = run(0, vec![fact("polls", 0.0), end()], None);
        let j = judge(&r, &expect(Outcome::Completes, vec![at_most("polls", 0.0)]));
        assert!(j.ok(), "{:?}", j.problems);
        let v = verdict(Variant::Broken, &expect(Outcome::Completes, vec![]), &j);
        assert!(
            v.starts_with("broken: as the lesson predicts, the claim"),
            "{v}"
        );
    }

    #[test]
    fn a_fact_out_of_bounds_or_missing_is_named() {
        let r = run(0, vec![fact("polls", 3.0), end()], None);
        let e = expect(
            Outcome::Completes,
            vec![at_most("polls", 0.0), at_most("ratio", 1.0)],
        );
        let j = judge(&r, &e);
        assert_eq!(
            j.problems,
            ["polls = 3, expected ≤ 0", "fact ratio was not reported"]
        );
        assert!(verdict(Variant::Fixed, &e, &j).contains("NOT as the lesson predicts"));
    }

    #[test]
    fn outcomes_are_told_apart() {
        let stall = Event::Stall(Stall {
            reason: StallReason::Quiet,
            at_us: 0,
            after_ms: 2000,
            blocked: vec![],
            waiting: vec![],
        });
        let hung = run(3, vec![stall], None);
        assert!(matches!(
            Observed::of(&hung),
            Observed::Hangs {
                by_runner: false,
                ..
            }
        ));
        let killed = run(0, vec![], Some(Stopped::Quiet));
        assert!(matches!(
            Observed::of(&killed),
            Observed::Hangs {
                by_runner: true,
                ..
            }
        ));
        let panicked = run(
            101,
            vec![Event::Panic {
                message: "can call blocking only when running on the multi-threaded runtime".into(),
            }],
            None,
        );
        let j = judge(
            &panicked,
            &expect(Outcome::Panics("multi-threaded runtime".into()), vec![]),
        );
        assert!(j.ok(), "{:?}", j.problems);
        let j = judge(&panicked, &expect(Outcome::Panics("other".into()), vec![]));
        assert!(!j.ok());
        let silent = run(0, vec![], None);
        assert_eq!(
            Observed::of(&silent),
            Observed::Fails("exited without writing a report".into())
        );
        let crashed = run(1, vec![], None);
        assert_eq!(
            Observed::of(&crashed),
            Observed::Fails("exit code 1".into())
        );
    }

    #[test]
    fn completing_when_a_hang_was_expected_is_a_mismatch() {
        let r = run(0, vec![end()], None);
        let j = judge(&r, &expect(Outcome::Hangs, vec![]));
        assert_eq!(j.problems, ["expected it to hang, but it completes"]);
    }
}
