//! Deciding what a child process did, and saying whether that is what the
//! lesson claims. The comparison itself is `shared::grade::judge`, which the
//! lessons' own tests use too.

use crate::lessons::{Expect, Variant};
use crate::process::{RunResult, Stopped};
use serde_json::{Value, json};
use shared::contract::manifest::Outcome;
use shared::event::StallReason;
use shared::grade::{Judgement, Observed, Verdict, judge};

/// What a finished (or stopped) child was seen to do. `live` names the
/// facts its harness may report more than once.
pub fn observe(run: &RunResult, live: &[String]) -> Observed {
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
    // Lines added to the report after the harness finished (or a fact
    // written over) must not stand in for what the harness measured.
    if let Some(problem) = run.report.closing_problems(live).into_iter().next() {
        return Observed::Fails(problem);
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
pub fn judge_run(run: &RunResult, expect: &Expect, live: &[String]) -> Judgement {
    judge(expect, observe(run, live), run.report.facts())
}

/// Other programs kept at least this share of our cores busy while a run
/// ran: too busy for a timing fact to prove anything.
const BUSY_SHARE: f64 = 0.25;

/// Why the machine was too busy, while `run` ran, for its timing facts to
/// count; `None` when it was quiet enough (or cannot be measured here).
pub fn busy(run: &RunResult) -> Option<String> {
    let cores = shared::work::cpu::cores();
    let others = run.others_busy?;
    (others >= BUSY_SHARE * cores as f64).then(|| {
        format!(
            "other programs kept {} of the {cores} core{} it may use busy while it ran",
            shared::view::number::format_value((others * 10.0).round() / 10.0),
            if cores == 1 { "" } else { "s" }
        )
    })
}

/// One sentence for the end of `cargo xtask run`: what was measured, beside
/// what the lesson predicts. It states the facts; the claim stays the
/// lesson's.
pub fn verdict(label: &str, expect: &Expect, j: &Judgement) -> String {
    let measured = j.measured_against(expect);
    let facts = if measured.is_empty() {
        String::new()
    } else {
        format!(", {}", measured.join(", "))
    };
    match j.verdict() {
        Verdict::Skipped => format!("{label}: {}; nothing to judge here.", j.observed.describe()),
        Verdict::Ok => format!(
            "{label}: {}{facts}: as the lesson predicts.",
            j.observed.describe()
        ),
        Verdict::Inconclusive => format!(
            "{label}: inconclusive, the machine is too busy to tell: {}. Run it again when it is quieter.",
            j.summary()
        ),
        Verdict::Mismatch => format!(
            "{label}: NOT as the lesson predicts ({}): {}.",
            expect.claim,
            j.summary()
        ),
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
                json!(shared::view::number::format_value(*v))
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
        "piece": piece,
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
        "verdict": j.verdict().to_string(),
        "inconclusive": j.inconclusive,
        "skipped": skipped,
        "problems": j.problems.iter().map(|p| p.terse()).collect::<Vec<_>>(),
        "report": run.report_path.display().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::contract::manifest::Bound;
    use shared::contract::report::{ProblemKind, Report, ReportProblem};
    use shared::event::{Event, Stall};
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
            others_busy: Some(0.0),
            left_running: vec![],
        }
    }

    fn start() -> Event {
        Event::Start {
            lesson: "lesson-05".into(),
            scenario: "report".into(),
            variant: "exercise".into(),
            piece: String::new(),
        }
    }

    fn fact(name: &str, value: f64) -> Event {
        Event::Fact {
            name: name.into(),
            value,
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

    fn at_most(name: &str, max: f64, timing: bool) -> Bound {
        Bound {
            name: name.into(),
            min: None,
            max: Some(max),
            timing,
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
            observe(&run(3, vec![stall], None), &[]),
            Observed::Hangs {
                by_runner: false,
                ..
            }
        ));
        assert!(matches!(
            observe(&run(0, vec![], Some(Stopped::Quiet)), &[]),
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
        assert_eq!(observe(&panicked, &[]), Observed::Panics("boom".into()));
        assert_eq!(
            observe(&run(0, vec![], None), &[]),
            Observed::Fails("exited without writing a report".into())
        );
        assert_eq!(
            observe(&run(1, vec![], None), &[]),
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
        assert_eq!(
            observe(&skipped, &[]),
            Observed::Skipped("needs 2 cores".into())
        );
    }

    #[test]
    fn an_exit_0_with_output_but_no_end_is_a_failure_not_a_finished_run() {
        let r = run(0, vec![start(), fact("polls", 2.0)], None);
        assert_eq!(
            observe(&r, &[]),
            Observed::Fails("exited before its scenario ended".into())
        );
    }

    #[test]
    fn a_report_with_a_bad_line_fails_a_run_that_exited_well() {
        let mut r = run(0, vec![Event::End { elapsed_us: 1 }], None);
        r.problems.push(ReportProblem {
            line: 2,
            kind: ProblemKind::NotUtf8,
        });
        assert_eq!(
            observe(&r, &[]),
            Observed::Fails("report line 2 is not UTF-8 text".into())
        );
    }

    #[test]
    fn a_fact_appended_after_the_end_fails_the_run_instead_of_overriding_the_measurement() {
        let e = expect(
            Outcome::Completes,
            vec![at_most("lateness_ratio", 1.0, true)],
        );
        let r = run(
            0,
            vec![
                start(),
                fact("lateness_ratio", 9.0),
                Event::End { elapsed_us: 1 },
                fact("lateness_ratio", 0.5),
            ],
            None,
        );
        let j = judge_run(&r, &e, &[]);
        assert_eq!(j.verdict(), Verdict::Mismatch);
        assert!(
            matches!(&j.observed, Observed::Fails(why) if why.contains("after the run's end")),
            "{:?}",
            j.observed
        );
    }

    #[test]
    fn a_fact_written_twice_fails_the_run_unless_its_harness_says_it_grows() {
        let e = expect(
            Outcome::Completes,
            vec![at_most("lateness_ratio", 1.0, true)],
        );
        let r = run(
            0,
            vec![
                start(),
                fact("lateness_ratio", 9.0),
                fact("lateness_ratio", 0.5),
                Event::End { elapsed_us: 1 },
            ],
            None,
        );
        assert_eq!(judge_run(&r, &e, &[]).verdict(), Verdict::Mismatch);
        assert_eq!(
            judge_run(&r, &e, &["lateness_ratio".into()]).verdict(),
            Verdict::Ok,
            "a live fact's last value counts"
        );
    }

    #[test]
    fn a_busy_machine_is_named_and_a_quiet_one_is_not() {
        let mut r = run(0, vec![], None);
        r.others_busy = Some(0.01);
        assert_eq!(busy(&r), None);
        r.others_busy = Some(64.0);
        let why = busy(&r).expect("busy");
        assert!(why.starts_with("other programs kept 64 of the"), "{why}");
        r.others_busy = None;
        assert_eq!(busy(&r), None, "unknown is not busy");
    }

    #[test]
    fn verdicts_state_what_was_measured() {
        let e = expect(Outcome::Completes, vec![at_most("polls", 0.0, false)]);
        let ok = judge_run(
            &run(
                0,
                vec![start(), fact("polls", 0.0), Event::End { elapsed_us: 1 }],
                None,
            ),
            &e,
            &[],
        );
        assert_eq!(ok.verdict(), Verdict::Ok);
        assert_eq!(
            verdict("broken", &e, &ok),
            "broken: completes, polls = 0 (≤ 0): as the lesson predicts."
        );
        let bad = judge_run(&run(0, vec![Event::End { elapsed_us: 1 }], None), &e, &[]);
        assert_eq!(bad.verdict(), Verdict::Mismatch);
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
            &[],
        );
        assert_eq!(skipped.verdict(), Verdict::Skipped);
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
