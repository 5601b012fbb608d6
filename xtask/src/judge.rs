//! Deciding what a child process did, and saying whether that is what the
//! lesson claims. The comparison itself is `shared::grade::judge`, which the
//! lessons' own tests use too.

use crate::lessons::{Expect, Variant};
use crate::process::{RunResult, Stopped};
use serde_json::{Value, json};
use shared::grade::{Judgement, Observed, judge};
use shared::manifest::Outcome;
use shared::report::StallReason;

/// What a finished (or stopped) child was seen to do.
pub fn observe(run: &RunResult) -> Observed {
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
        // A report we could not read in full proves nothing.
        if let Some(problem) = run.problems.first() {
            return Observed::Fails(problem.to_string());
        }
        if let Some(reason) = run.report.skipped() {
            return Observed::Skipped(reason.to_string());
        }
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

/// Judges a child's run against a claim.
pub fn judge_run(run: &RunResult, expect: &Expect) -> Judgement {
    judge(expect, observe(run), run.report.facts())
}

/// What a run's verdict is, as a word for tables.
pub fn word(j: &Judgement) -> &'static str {
    if j.skipped() {
        "skipped"
    } else if j.ok() {
        "ok"
    } else {
        "MISMATCH"
    }
}

/// One sentence for the end of `cargo xtask run`.
pub fn verdict(label: &str, expect: &Expect, j: &Judgement) -> String {
    if j.skipped() {
        return format!("{label}: {}; nothing to judge here.", j.observed.describe());
    }
    let facts = expect
        .facts
        .iter()
        .filter_map(|b| j.fact(&b.name).map(|v| (b, v)))
        .map(|(b, v)| {
            format!(
                "{} = {}",
                b.name,
                shared::report::format_beside(v, &b.limits())
            )
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
            Observed::Hangs { .. } | Observed::Panics(_) => format!("{}; ", j.observed.describe()),
            _ => String::new(),
        };
        format!(
            "{label}: {how}as the lesson predicts, {}{facts}.",
            expect.claim
        )
    } else {
        format!(
            "{label}: NOT as the lesson predicts ({}): {}.",
            expect.claim,
            j.summary()
        )
    }
}

/// One JSON object for `cargo xtask check --json`.
pub fn json_line(
    lesson: &str,
    scenario: &str,
    variant: &Variant,
    piece: &str,
    expect: &Expect,
    run: &RunResult,
    j: &Judgement,
) -> Value {
    let bounds: serde_json::Map<String, Value> = expect
        .facts
        .iter()
        .map(|b| (b.name.clone(), json!({"min": b.min, "max": b.max})))
        .collect();
    // JSON has no NaN: such a fact is written as the string "NaN".
    let facts: serde_json::Map<String, Value> = j
        .facts
        .iter()
        .map(|(n, v)| {
            let value = if v.is_finite() {
                json!(v)
            } else {
                json!(shared::report::format_value(*v))
            };
            (n.clone(), value)
        })
        .collect();
    let panic = match &expect.outcome {
        Outcome::Panics(f) => Some(f.clone()),
        _ => None,
    };
    let skipped = match &j.observed {
        Observed::Skipped(why) => Some(why.clone()),
        _ => None,
    };
    json!({
        "lesson": lesson,
        "scenario": scenario,
        "variant": variant.name(),
        "implementation": piece,
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
            "report_problems": run.problems.iter().map(ToString::to_string).collect::<Vec<_>>(),
        },
        "verdict": if j.skipped() { "skipped" } else if j.ok() { "ok" } else { "mismatch" },
        "skipped": skipped,
        "problems": j.problems.iter().map(|p| p.terse()).collect::<Vec<_>>(),
        "report": run.report_path.display().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::manifest::Bound;
    use shared::report::{Event, ProblemKind, Report, ReportProblem, Stall};
    use std::os::unix::process::ExitStatusExt;
    use std::process::ExitStatus;
    use std::time::Duration;

    fn run(code: i32, events: Vec<Event>, stopped: Option<Stopped>) -> RunResult {
        RunResult {
            status: Some(ExitStatus::from_raw(code << 8)),
            stopped,
            report: Report { events },
            problems: vec![],
            output: String::new(),
            elapsed: Duration::from_millis(1234),
            report_path: "/tmp/r.jsonl".into(),
        }
    }

    fn expect(outcome: Outcome, facts: Vec<Bound>) -> Expect {
        Expect {
            outcome,
            claim: "the claim".into(),
            facts,
            needs_cores: 1,
        }
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
        assert!(matches!(
            observe(&run(3, vec![stall], None)),
            Observed::Hangs {
                by_runner: false,
                ..
            }
        ));
        assert!(matches!(
            observe(&run(0, vec![], Some(Stopped::Quiet))),
            Observed::Hangs {
                by_runner: true,
                ..
            }
        ));
        let panicked = run(
            101,
            vec![Event::Panic {
                message: "boom".into(),
            }],
            None,
        );
        assert_eq!(observe(&panicked), Observed::Panics("boom".into()));
        assert_eq!(
            observe(&run(0, vec![], None)),
            Observed::Fails("exited without writing a report".into())
        );
        assert_eq!(
            observe(&run(1, vec![], None)),
            Observed::Fails("exit code 1".into())
        );
        let skipped = run(
            0,
            vec![
                Event::Skip {
                    reason: "needs 2 cores".into(),
                },
                Event::End { elapsed_us: 1 },
            ],
            None,
        );
        assert_eq!(observe(&skipped), Observed::Skipped("needs 2 cores".into()));
    }

    #[test]
    fn a_report_with_a_bad_line_fails_a_run_that_exited_well() {
        let mut r = run(0, vec![Event::End { elapsed_us: 1 }], None);
        r.problems.push(ReportProblem {
            line: 2,
            kind: ProblemKind::NotUtf8,
        });
        assert_eq!(
            observe(&r),
            Observed::Fails("report line 2 is not UTF-8 text".into())
        );
    }

    #[test]
    fn verdicts_say_ok_mismatch_or_skipped() {
        let e = expect(
            Outcome::Completes,
            vec![Bound {
                name: "polls".into(),
                min: None,
                max: Some(0.0),
            }],
        );
        let ok = judge_run(
            &run(
                0,
                vec![
                    Event::Fact {
                        name: "polls".into(),
                        value: 0.0,
                    },
                    Event::End { elapsed_us: 1 },
                ],
                None,
            ),
            &e,
        );
        assert_eq!(word(&ok), "ok");
        assert_eq!(
            verdict("broken", &e, &ok),
            "broken: as the lesson predicts, the claim (polls = 0)."
        );
        let bad = judge_run(&run(0, vec![Event::End { elapsed_us: 1 }], None), &e);
        assert_eq!(word(&bad), "MISMATCH");
        assert!(verdict("fixed", &e, &bad).contains("fact polls was not reported"));
        let skipped = judge_run(
            &run(
                0,
                vec![
                    Event::Skip {
                        reason: "needs 2 cores".into(),
                    },
                    Event::End { elapsed_us: 1 },
                ],
                None,
            ),
            &e,
        );
        assert_eq!(word(&skipped), "skipped");
        let line = json_line(
            "lesson-04",
            "cpu",
            &Variant::Fixed,
            "",
            &e,
            &run(0, vec![], None),
            &skipped,
        );
        assert_eq!(line["verdict"], "skipped");
        assert_eq!(line["skipped"], "needs 2 cores");
    }
}
