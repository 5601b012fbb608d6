//! Judging a run against a lesson's claim.
//!
//! One judge serves everyone: the runner (`cargo xtask check` and `try`)
//! judges a child process; the lessons' tests judge a harness run in
//! process. Both hand over what was [`Observed`] and the facts the harness
//! measured; [`judge`] compares them with an [`Expect`] from the manifest.

mod grader;
mod observed;
mod problem;

pub use grader::{Grader, assert_every_fixture_judged, observe_within};
pub use observed::Observed;
pub use problem::{Problem, wanted};

use crate::contract::manifest::{Diagnosis, Exercise, Expect, Outcome, Pattern};
use crate::view::number::format_beside;

/// What a judgement comes to, in one word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The run did what its claim says.
    Ok,
    /// It did not.
    Mismatch,
    /// The claim cannot be measured on this machine (too few cores, say):
    /// nothing was proven either way.
    Skipped,
    /// Only timing facts missed, and the machine was measured to be too
    /// busy to tell: run it again.
    Inconclusive,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verdict::Ok => "ok",
            Verdict::Mismatch => "mismatch",
            Verdict::Skipped => "skipped",
            Verdict::Inconclusive => "inconclusive",
        })
    }
}

/// The comparison of one run with its claim.
#[derive(Clone, Debug, PartialEq)]
#[must_use = "a judgement proves nothing until someone looks at it"]
pub struct Judgement {
    pub observed: Observed,
    pub facts: Vec<(String, f64)>,
    /// Empty when the run did what the lesson says.
    pub problems: Vec<Problem>,
    /// Set when the problems are timing misses that a busy machine
    /// explains: why the run proves nothing either way.
    pub inconclusive: Option<String>,
}

impl Judgement {
    /// The run did what the claim says. A skipped run is not ok: it proved
    /// nothing (see [`Judgement::skipped`]).
    pub fn ok(&self) -> bool {
        self.verdict() == Verdict::Ok
    }

    pub fn skipped(&self) -> bool {
        matches!(self.observed, Observed::Skipped(_))
    }

    pub fn verdict(&self) -> Verdict {
        if self.skipped() {
            Verdict::Skipped
        } else if self.problems.is_empty() {
            Verdict::Ok
        } else if self.inconclusive.is_some() {
            Verdict::Inconclusive
        } else {
            Verdict::Mismatch
        }
    }

    /// The run ended as claimed, and every fact it missed is a timing fact:
    /// a busy machine could be the cause, so it is worth measuring again.
    pub fn only_timing_misses(&self) -> bool {
        !self.problems.is_empty()
            && self
                .problems
                .iter()
                .all(|p| matches!(p, Problem::OutOfBounds { bound, .. } if bound.timing))
    }

    /// Says the misses prove nothing, and why.
    pub fn make_inconclusive(&mut self, why: impl Into<String>) {
        self.inconclusive = Some(why.into());
    }

    /// The problems in one line, for tables and test failures.
    pub fn summary(&self) -> String {
        if self.skipped() {
            return self.observed.describe();
        }
        let problems = self
            .problems
            .iter()
            .map(Problem::terse)
            .collect::<Vec<_>>()
            .join("; ");
        match &self.inconclusive {
            Some(why) => format!("{problems} (inconclusive: {why})"),
            None => problems,
        }
    }

    pub fn fact(&self, name: &str) -> Option<f64> {
        self.facts.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }

    /// The observed facts that the claim bounds, as `name = value`.
    pub fn observed_summary(&self, expect: &Expect) -> String {
        let mut parts = vec![self.observed.describe()];
        if self.skipped() {
            return parts.remove(0);
        }
        for b in &expect.facts {
            match self.fact(&b.name) {
                Some(v) => parts.push(format!("{} = {}", b.name, format_beside(v, &b.limits()))),
                None => parts.push(format!("{} missing", b.name)),
            }
        }
        parts.join("; ")
    }

    /// Each bounded fact that was measured, in plain words for a learner:
    /// `reports made over reports due (report_ratio): 0.98; a fix gives 0.8
    /// to 1.25`.
    pub fn plain_measured(
        &self,
        expect: &Expect,
        meaning: impl Fn(&str) -> Option<String>,
    ) -> Vec<String> {
        expect
            .facts
            .iter()
            .filter_map(|b| {
                let v = self.fact(&b.name)?;
                let what = meaning(&b.name).unwrap_or_else(|| b.name.clone());
                Some(format!(
                    "{what} ({}): {}; a fix gives {}",
                    b.name,
                    format_beside(v, &b.limits()),
                    wanted(b)
                ))
            })
            .collect()
    }

    /// What was measured, fact by fact beside its bounds:
    /// `report_ratio = 0.98 (in 0.8..1.25)`.
    pub fn measured_against(&self, expect: &Expect) -> Vec<String> {
        expect
            .facts
            .iter()
            .filter_map(|b| {
                self.fact(&b.name).map(|v| {
                    format!(
                        "{} = {} ({})",
                        b.name,
                        format_beside(v, &b.limits()),
                        b.range()
                    )
                })
            })
            .collect()
    }
}

/// The known wrong fixes of `exercise` that its judged scenarios show, in
/// the manifest's order. Only a scenario judged ✘ is looked at: an ok,
/// skipped or inconclusive one names no mistake. A `when` pattern is
/// looked for in a run that completed or hung, never in one that panicked.
pub fn diagnose<'a>(exercise: &'a Exercise, results: &[(String, Judgement)]) -> Vec<&'a Diagnosis> {
    exercise
        .diagnoses
        .iter()
        .filter(|d| {
            results.iter().any(|(scenario, j)| {
                j.verdict() == Verdict::Mismatch
                    && d.scenario.as_ref().is_none_or(|s| s == scenario)
                    && (!d.hangs || matches!(j.observed, Observed::Hangs { .. }))
                    && match &d.pattern {
                        // A run that panicked (or crashed) was cut short:
                        // its facts tell nothing; its panic may.
                        Pattern::Facts(conditions) => {
                            matches!(j.observed, Observed::Completes | Observed::Hangs { .. })
                                && conditions.iter().all(|c| c.holds_on(&j.facts))
                        }
                        Pattern::Panic(fragment) => matches!(
                            &j.observed,
                            Observed::Panics(message) if message.contains(fragment.as_str())
                        ),
                    }
            })
        })
        .collect()
}

/// Compares what a run did with what the lesson claims. A skipped run has
/// no problems, and is not ok either: nothing was proven. A claim that
/// needs more cores than this machine has is skipped.
pub fn judge(expect: &Expect, observed: Observed, facts: Vec<(String, f64)>) -> Judgement {
    judge_on(crate::work::cpu::cores(), expect, observed, facts)
}

/// [`judge`] on a machine with `cores` cores.
pub fn judge_on(
    cores: usize,
    expect: &Expect,
    observed: Observed,
    facts: Vec<(String, f64)>,
) -> Judgement {
    let observed =
        if (cores as u32) < expect.needs_cores && !matches!(observed, Observed::Interrupted) {
            Observed::Skipped(format!(
                "the claim needs at least {} cores; this machine has {cores}",
                expect.needs_cores
            ))
        } else {
            observed
        };
    let mut problems = Vec::new();
    if matches!(observed, Observed::Skipped(_)) {
        return Judgement {
            observed,
            facts,
            problems,
            inconclusive: None,
        };
    }
    let outcome_ok = match (&expect.outcome, &observed) {
        (Outcome::Completes, Observed::Completes) | (Outcome::Hangs, Observed::Hangs { .. }) => {
            true
        }
        (Outcome::Panics(fragment), Observed::Panics(message)) => {
            message.contains(fragment.as_str())
        }
        _ => false,
    };
    if !outcome_ok {
        problems.push(Problem::Outcome {
            expected: expect.outcome.clone(),
            observed: observed.clone(),
        });
    }
    // A run that did not complete never got to measure some facts; its
    // outcome already says what went wrong.
    let finished = matches!(observed, Observed::Completes);
    for bound in &expect.facts {
        match facts.iter().find(|(n, _)| *n == bound.name) {
            None if !finished && !outcome_ok => {}
            None => problems.push(Problem::Missing {
                fact: bound.name.clone(),
            }),
            Some((_, v)) if !bound.holds(*v) => problems.push(Problem::OutOfBounds {
                bound: bound.clone(),
                value: *v,
            }),
            Some(_) => {}
        }
    }
    Judgement {
        observed,
        facts,
        problems,
        inconclusive: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::manifest::Bound;
    use crate::event::StallReason;

    fn expect(outcome: Outcome, facts: Vec<Bound>) -> Expect {
        Expect {
            outcome,
            claim: "the claim".into(),
            facts,
            needs_cores: 1,
        }
    }

    fn between(name: &str, min: Option<f64>, max: Option<f64>) -> Bound {
        Bound {
            name: name.into(),
            min,
            max,
            timing: name.ends_with("ratio") || name.ends_with("speedup"),
        }
    }

    fn facts(list: &[(&str, f64)]) -> Vec<(String, f64)> {
        list.iter().map(|(n, v)| (n.to_string(), *v)).collect()
    }

    #[test]
    fn a_run_within_its_bounds_is_ok() {
        let e = expect(Outcome::Completes, vec![between("polls", None, Some(0.0))]);
        let j = judge(&e, Observed::Completes, facts(&[("polls", 0.0)]));
        assert!(j.ok(), "{:?}", j.problems);
    }

    #[test]
    fn a_fact_out_of_bounds_or_missing_is_named() {
        let e = expect(
            Outcome::Completes,
            vec![
                between("polls", None, Some(0.0)),
                between("ratio", None, Some(1.0)),
            ],
        );
        let j = judge(&e, Observed::Completes, facts(&[("polls", 3.0)]));
        assert_eq!(
            j.summary(),
            "polls = 3, expected ≤ 0; fact ratio was not reported"
        );
    }

    #[test]
    fn a_value_just_outside_its_bound_does_not_print_as_the_bound() {
        let e = expect(
            Outcome::Completes,
            vec![between("deadline_ratio", Some(0.99), Some(1.5))],
        );
        let j = judge(
            &e,
            Observed::Completes,
            facts(&[("deadline_ratio", 0.98999)]),
        );
        assert_eq!(
            j.summary(),
            "deadline_ratio = 0.98999, expected in 0.99..1.5"
        );
    }

    #[test]
    fn not_a_number_fails_every_bound_and_says_so() {
        let e = expect(Outcome::Completes, vec![between("ratio", None, Some(1e9))]);
        let j = judge(&e, Observed::Completes, facts(&[("ratio", f64::NAN)]));
        assert!(!j.ok());
        let plain = j.problems[0].plain(|_| Some("reports over due".into()));
        assert!(plain.contains("is not a number"), "{plain}");
    }

    #[test]
    fn plain_words_name_the_meaning_and_what_a_fix_gives() {
        let e = expect(
            Outcome::Completes,
            vec![between("report_ratio", Some(0.8), Some(1.2))],
        );
        let j = judge(&e, Observed::Completes, facts(&[("report_ratio", 0.0)]));
        let plain = j.problems[0].plain(|_| Some("reports fired over reports due".into()));
        assert_eq!(
            plain,
            "reports fired over reports due (report_ratio) is 0; a fix gives 0.8 to 1.2"
        );
    }

    #[test]
    fn a_run_that_hung_is_not_also_blamed_for_facts_it_never_reached() {
        let e = expect(
            Outcome::Completes,
            vec![
                between("hits", Some(2.0), Some(2.0)),
                between("lateness", None, Some(5.0)),
            ],
        );
        let hang = Observed::Hangs {
            by_runner: false,
            reason: StallReason::Quiet,
            after_ms: 2000,
        };
        let j = judge(&e, hang, facts(&[("hits", 0.0)]));
        assert_eq!(
            j.summary(),
            "expected it to complete, but it hangs (no progress for 2 s; stopped by its watchdog); hits = 0, expected = 2"
        );
    }

    #[test]
    fn an_expected_hang_that_hung_without_its_fact_is_missing_the_fact() {
        // The hang was predicted, so the fact should have been reported as
        // it grew: its absence is a problem, not an excuse.
        let e = expect(
            Outcome::Hangs,
            vec![between("numbers_read", Some(150.0), None)],
        );
        let hang = Observed::Hangs {
            by_runner: false,
            reason: StallReason::Deadline,
            after_ms: 3000,
        };
        let j = judge(&e, hang.clone(), vec![]);
        assert_eq!(j.verdict(), Verdict::Mismatch);
        assert_eq!(j.summary(), "fact numbers_read was not reported");
        let j = judge(&e, hang, facts(&[("numbers_read", 290.0)]));
        assert_eq!(j.verdict(), Verdict::Ok);
    }

    #[test]
    fn a_completed_run_without_a_bounded_fact_is_missing_it() {
        let e = expect(Outcome::Completes, vec![between("hits", Some(2.0), None)]);
        let j = judge(&e, Observed::Completes, vec![]);
        assert_eq!(
            j.problems,
            [Problem::Missing {
                fact: "hits".into()
            }]
        );
    }

    #[test]
    fn only_timing_misses_can_be_inconclusive() {
        let e = expect(
            Outcome::Completes,
            vec![
                between("lateness_ratio", None, Some(3.0)),
                between("hits", Some(2.0), None),
            ],
        );
        let timing_only = judge(
            &e,
            Observed::Completes,
            facts(&[("lateness_ratio", 4.0), ("hits", 2.0)]),
        );
        assert!(timing_only.only_timing_misses());
        let mut busy = timing_only.clone();
        busy.make_inconclusive("load 3.9 on 2 cores");
        assert_eq!(busy.verdict(), Verdict::Inconclusive);
        assert!(!busy.ok());
        assert!(
            busy.summary()
                .ends_with("(inconclusive: load 3.9 on 2 cores)")
        );
        let both = judge(
            &e,
            Observed::Completes,
            facts(&[("lateness_ratio", 4.0), ("hits", 1.0)]),
        );
        assert!(
            !both.only_timing_misses(),
            "a wrong count is never the machine's fault"
        );
        let ok = judge(
            &e,
            Observed::Completes,
            facts(&[("lateness_ratio", 1.0), ("hits", 2.0)]),
        );
        assert!(!ok.only_timing_misses(), "nothing missed");
        let hung = judge(
            &e,
            Observed::Hangs {
                by_runner: false,
                reason: StallReason::Quiet,
                after_ms: 2000,
            },
            facts(&[("lateness_ratio", 4.0), ("hits", 2.0)]),
        );
        assert!(!hung.only_timing_misses(), "a hang is not a timing miss");
    }

    #[test]
    fn a_diagnosis_names_a_mistake_only_in_a_scenario_judged_wrong() {
        use crate::contract::manifest::{Condition, Diagnosis, Exercise, Pattern};
        let diagnosis = |id: &str, pattern| Diagnosis {
            id: id.into(),
            scenario: None,
            pattern,
            hangs: false,
            say: format!("{id} happened"),
        };
        let ex = Exercise {
            name: "report".into(),
            scenarios: vec!["report".into(), "deadline".into()],
            goal: "g".into(),
            hints: vec!["h".into()],
            diagnoses: vec![
                diagnosis(
                    "remade",
                    Pattern::Facts(vec![
                        Condition::parse("report_ratio <= 0.1").unwrap(),
                        Condition::parse("polls >= 2").unwrap(),
                    ]),
                ),
                diagnosis("no-reactor", Pattern::Panic("no reactor running".into())),
            ],
        };
        let e = expect(
            Outcome::Completes,
            vec![between("report_ratio", Some(0.8), Some(1.2))],
        );
        let ids = |results: &[(String, Judgement)]| -> Vec<String> {
            diagnose(&ex, results)
                .iter()
                .map(|d| d.id.clone())
                .collect()
        };
        let run = |ratio: f64, polls: f64| {
            judge(
                &e,
                Observed::Completes,
                facts(&[("report_ratio", ratio), ("polls", polls)]),
            )
        };
        let fine = ("deadline".to_string(), run(1.0, 9.0));
        assert_eq!(
            ids(&[("report".into(), run(0.0, 5.0)), fine.clone()]),
            ["remade"]
        );
        assert!(
            ids(&[("report".into(), run(0.0, 1.0)), fine.clone()]).is_empty(),
            "every condition must hold"
        );
        assert!(
            ids(&[("report".into(), run(0.5, 5.0))]).is_empty(),
            "a ✘ of another shape"
        );
        let missing = judge(&e, Observed::Completes, facts(&[("polls", 5.0)]));
        assert!(
            ids(&[("report".into(), missing)]).is_empty(),
            "a fact not reported meets no condition"
        );
        let panicked = judge(
            &e,
            Observed::Panics("there is no reactor running, must be called from ...".into()),
            vec![],
        );
        assert_eq!(ids(&[("report".into(), panicked)]), ["no-reactor"]);
        let cut_short = judge(
            &e,
            Observed::Panics("boom".into()),
            facts(&[("report_ratio", 0.0), ("polls", 5.0)]),
        );
        assert!(
            ids(&[("report".into(), cut_short)]).is_empty(),
            "the facts of a run that panicked tell nothing"
        );
        // Never on a ✔, a skipped or an inconclusive run.
        let mut timing = e.clone();
        timing.facts[0].timing = true;
        let mut busy = judge(
            &timing,
            Observed::Completes,
            facts(&[("report_ratio", 0.0), ("polls", 5.0)]),
        );
        busy.make_inconclusive("busy");
        assert!(ids(&[("report".into(), busy)]).is_empty());
        let skipped = judge(
            &e,
            Observed::Skipped("one core".into()),
            facts(&[("report_ratio", 0.0), ("polls", 5.0)]),
        );
        assert!(ids(&[("report".into(), skipped)]).is_empty());
        let loose = expect(Outcome::Completes, vec![]);
        let ok = judge(
            &loose,
            Observed::Completes,
            facts(&[("report_ratio", 0.0), ("polls", 5.0)]),
        );
        assert!(ok.ok());
        assert!(ids(&[("report".into(), ok)]).is_empty());
        // One for hangs matches only a run that hung.
        let mut hung = ex.clone();
        hung.diagnoses[0].hangs = true;
        let wrong = [("report".to_string(), run(0.0, 5.0))];
        assert!(diagnose(&hung, &wrong).is_empty());
        let hang = Observed::Hangs {
            by_runner: false,
            reason: StallReason::Quiet,
            after_ms: 2000,
        };
        let stuck = judge(&e, hang, facts(&[("report_ratio", 0.0), ("polls", 5.0)]));
        assert_eq!(diagnose(&hung, &[("report".into(), stuck)]).len(), 1);
        // A diagnosis that names its scenario looks only there.
        let mut only = ex.clone();
        only.diagnoses[0].scenario = Some("deadline".into());
        let found = diagnose(&only, &[("report".into(), run(0.0, 5.0))]);
        assert!(found.is_empty());
    }

    #[test]
    fn verdicts_have_one_word_each() {
        let words: Vec<String> = [
            Verdict::Ok,
            Verdict::Mismatch,
            Verdict::Skipped,
            Verdict::Inconclusive,
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        assert_eq!(words, ["ok", "mismatch", "skipped", "inconclusive"]);
    }

    #[test]
    fn outcomes_are_told_apart() {
        let hang = Observed::Hangs {
            by_runner: false,
            reason: StallReason::Quiet,
            after_ms: 2000,
        };
        assert!(judge(&expect(Outcome::Hangs, vec![]), hang.clone(), vec![]).ok());
        let j = judge(&expect(Outcome::Completes, vec![]), hang, vec![]);
        assert_eq!(
            j.summary(),
            "expected it to complete, but it hangs (no progress for 2 s; stopped by its watchdog)"
        );
        let panicked = Observed::Panics(
            "can call blocking only when running on the multi-threaded runtime".into(),
        );
        let e = expect(Outcome::Panics("multi-threaded runtime".into()), vec![]);
        assert!(judge(&e, panicked.clone(), vec![]).ok());
        let e = expect(Outcome::Panics("other".into()), vec![]);
        assert!(
            judge(&e, panicked, vec![])
                .summary()
                .contains("does not contain")
        );
    }

    #[test]
    fn a_claim_that_needs_more_cores_than_there_are_is_skipped_with_the_reason() {
        let mut e = expect(
            Outcome::Completes,
            vec![between("speedup", Some(1.3), None)],
        );
        e.needs_cores = 2;
        let j = judge_on(1, &e, Observed::Completes, facts(&[("speedup", 0.96)]));
        assert!(j.skipped() && !j.ok());
        assert_eq!(
            j.summary(),
            "skipped (the claim needs at least 2 cores; this machine has 1)"
        );
        let j = judge_on(2, &e, Observed::Completes, facts(&[("speedup", 1.8)]));
        assert!(j.ok());
        let j = judge_on(64, &e, Observed::Completes, facts(&[("speedup", 0.96)]));
        assert!(!j.ok() && !j.skipped());
    }

    #[test]
    fn a_skipped_run_is_neither_ok_nor_a_mismatch() {
        let e = expect(
            Outcome::Completes,
            vec![between("speedup", Some(1.3), None)],
        );
        let j = judge(&e, Observed::Skipped("needs 2 cores".into()), vec![]);
        assert!(!j.ok());
        assert!(j.skipped());
        assert!(j.problems.is_empty());
        assert_eq!(j.summary(), "skipped (needs 2 cores)");
    }
}
