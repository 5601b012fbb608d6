//! For a lesson's tests: its harness run in process, judged against the
//! claims in the lesson's manifest by the same [`judge`] the runner uses.

use super::{Judgement, Observed, judge};

/// For a lesson's tests: runs `f` (a harness run) on a thread of its own
/// and says how it ended: completed, panicked (with the message), or still
/// running after `limit`, which counts as hanging. A thread that hangs is
/// left behind; it ends with the test process.
pub fn observe_within(limit: std::time::Duration, f: impl FnOnce() + Send + 'static) -> Observed {
    let (done_tx, done) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        let _ = done_tx.send(result);
    });
    match done.recv_timeout(limit) {
        Ok(Ok(())) => {
            let _ = thread.join();
            Observed::Completes
        }
        Ok(Err(payload)) => {
            let _ = thread.join();
            Observed::Panics(crate::contract::lesson::panic_text(payload.as_ref()))
        }
        Err(_) => Observed::timed_out(limit),
    }
}

/// For a lesson's tests: judges in-process runs of its harness against the
/// claims in the lesson's manifest, and fails the test with the judgement
/// in plain words when a run is not judged as it should be.
pub struct Grader {
    scenario: crate::contract::manifest::Scenario,
    /// The exercises this scenario judges, for their diagnoses.
    exercises: Vec<crate::contract::manifest::Exercise>,
}

impl Grader {
    /// The grader of the scenario `spec` of the lesson in `dir` (pass
    /// `env!("CARGO_MANIFEST_DIR")`). Panics, naming the key, if the
    /// manifest bounds a fact the spec does not declare.
    pub fn new(dir: &str, spec: &'static crate::contract::lesson::Spec) -> Grader {
        let lesson = crate::contract::manifest::Metadata::lesson_at(dir);
        let scenario = lesson
            .scenario(spec.name)
            .unwrap_or_else(|| panic!("{} has no scenario {}", lesson.id, spec.name))
            .clone();
        for (variant, expect) in [("broken", &scenario.broken), ("fixed", &scenario.fixed)] {
            for b in &expect.facts {
                assert!(
                    spec.meaning(&b.name).is_some(),
                    "{}: scenario {}: {variant}.facts.{}: the harness measures no such fact",
                    lesson.manifest_path.display(),
                    spec.name,
                    b.name
                );
            }
        }
        let exercises = lesson
            .exercises
            .iter()
            .filter(|e| e.scenarios.iter().any(|s| s == spec.name))
            .cloned()
            .collect();
        Grader {
            scenario,
            exercises,
        }
    }

    pub fn scenario(&self) -> &crate::contract::manifest::Scenario {
        &self.scenario
    }

    /// The same grader, judging only the facts named here: for a test that
    /// cannot measure the others honestly (a wall-clock ratio on a busy
    /// test machine). Those stay judged by `cargo xtask check`.
    pub fn only(&self, facts: &[&str]) -> Grader {
        let mut scenario = self.scenario.clone();
        for expect in [&mut scenario.broken, &mut scenario.fixed] {
            expect.facts.retain(|b| facts.contains(&b.name.as_str()));
        }
        Grader {
            scenario,
            exercises: self.exercises.clone(),
        }
    }

    fn observed(observed: Observed, facts: &crate::contract::lesson::Facts) -> Observed {
        match facts.skipped() {
            Some(why) => Observed::Skipped(why),
            None => observed,
        }
    }

    /// The run's judgement against the fixed claim.
    pub fn against_fixed(
        &self,
        observed: Observed,
        facts: &crate::contract::lesson::Facts,
    ) -> Judgement {
        judge(
            &self.scenario.fixed,
            Self::observed(observed, facts),
            facts.values(),
        )
    }

    /// The run's judgement against the broken claim.
    pub fn against_broken(
        &self,
        observed: Observed,
        facts: &crate::contract::lesson::Facts,
    ) -> Judgement {
        judge(
            &self.scenario.broken,
            Self::observed(observed, facts),
            facts.values(),
        )
    }

    /// Asserts that `what` is judged fixed (or could not be measured here).
    pub fn assert_fixed(
        &self,
        what: &str,
        observed: Observed,
        facts: &crate::contract::lesson::Facts,
    ) {
        let j = self.against_fixed(observed, facts);
        assert!(
            j.ok() || j.skipped(),
            "{what} should be judged fixed, but: {} (facts: {:?})",
            j.summary(),
            j.facts
        );
    }

    /// Asserts that `what`, a form of the bug, is judged not fixed, and
    /// that it does what the lesson says the broken program does.
    pub fn assert_bug(
        &self,
        what: &str,
        observed: Observed,
        facts: &crate::contract::lesson::Facts,
    ) {
        let fixed = self.against_fixed(observed.clone(), facts);
        if fixed.skipped() {
            return;
        }
        assert!(
            !fixed.ok(),
            "{what} is a form of the bug, but was judged fixed (facts: {:?})",
            fixed.facts
        );
        let broken = self.against_broken(observed, facts);
        assert!(
            broken.ok(),
            "{what} should meet the broken claim, but: {} (facts: {:?})",
            broken.summary(),
            broken.facts
        );
    }

    /// The ids of the diagnoses a learner would be shown for this run:
    /// those of the exercises this scenario judges that match it, when it
    /// is judged not fixed.
    pub fn diagnoses(
        &self,
        observed: Observed,
        facts: &crate::contract::lesson::Facts,
    ) -> Vec<String> {
        let results = [(
            self.scenario.name.clone(),
            self.against_fixed(observed, facts),
        )];
        self.exercises
            .iter()
            .flat_map(|e| super::diagnose(e, &results))
            .map(|d| d.id.clone())
            .collect()
    }

    /// Asserts that `what`, a wrong fix, is judged not fixed and named by
    /// exactly the diagnoses `ids` (none: `&[]`).
    pub fn assert_diagnosed(
        &self,
        what: &str,
        observed: Observed,
        facts: &crate::contract::lesson::Facts,
        ids: &[&str],
    ) {
        self.assert_not_fixed(what, observed.clone(), facts);
        let found = self.diagnoses(observed, facts);
        assert_eq!(
            found,
            ids,
            "{what}: the diagnoses shown (facts: {:?})",
            facts.values()
        );
    }

    /// Asserts that `what` is judged not fixed (a wrong fix that is not
    /// simply the lesson's bug).
    pub fn assert_not_fixed(
        &self,
        what: &str,
        observed: Observed,
        facts: &crate::contract::lesson::Facts,
    ) {
        let fixed = self.against_fixed(observed, facts);
        assert!(
            fixed.skipped() || !fixed.ok(),
            "{what} is wrong, but was judged fixed (facts: {:?})",
            fixed.facts
        );
    }
}

/// For a lesson's tests: every fixture in `tests/fixtures/<exercise>/` of
/// the lesson in `dir` is judged by its tests. `sources` are the test files'
/// texts (`include_str!` each): each fixture must be included by a
/// `#[path = "fixtures/<exercise>/<file>"]` module that the tests then use
/// (`<module>::`). The runner's `cargo xtask fixtures` finds fixtures by
/// their file names; this proves the tests judge the same set.
///
/// It also proves that no diagnosis of the lesson's exercises could blame a
/// fix: each pattern must be impossible for a run within the fixed claim
/// (see [`Diagnosis::fits_a_fix_of`](crate::contract::manifest::Diagnosis::fits_a_fix_of)).
pub fn assert_every_fixture_judged(dir: &str, sources: &[&str]) {
    let lesson = crate::contract::manifest::Metadata::lesson_at(dir);
    let fits = lesson.diagnoses_that_fit_a_fix();
    assert!(
        fits.is_empty(),
        "{}: these diagnoses could match a run within the fixed claim, so they could blame a correct fix: {} (add a condition that the fixed bounds rule out)",
        lesson.manifest_path.display(),
        fits.join("; ")
    );
    let fixtures = std::path::Path::new(dir).join("tests").join("fixtures");
    let mut missing = Vec::new();
    let mut count = 0;
    for exercise in std::fs::read_dir(&fixtures).into_iter().flatten().flatten() {
        let ex = exercise.file_name().to_string_lossy().into_owned();
        for file in std::fs::read_dir(exercise.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = file.file_name().to_string_lossy().into_owned();
            if !name.ends_with(".rs") {
                continue;
            }
            count += 1;
            let path = format!("\"fixtures/{ex}/{name}\"");
            let judged = sources.iter().any(|src| {
                included_as(src, &path).is_some_and(|module| {
                    sources.iter().any(|s| s.contains(&format!("{module}::")))
                })
            });
            if !judged {
                missing.push(format!("tests/fixtures/{ex}/{name}"));
            }
        }
    }
    assert!(count > 0, "{} holds no fixtures", fixtures.display());
    assert!(
        missing.is_empty(),
        "fixtures no test judges (include each with #[path] and use it): {}",
        missing.join(", ")
    );
}

/// The name of the module that `#[path = <path>]` in `src` includes.
fn included_as(src: &str, path: &str) -> Option<String> {
    let at = src.find(&format!("#[path = {path}]"))?;
    let rest = &src[at..];
    let m = rest.find("mod ")?;
    let name: String = rest[m + 4..]
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::manifest::{Bound, Expect, Outcome, Scenario};
    use crate::lesson::{Facts, Spec, fact};

    static SPEC: Spec = Spec {
        name: "report",
        facts: &[fact("reports", "reports made")],
    };

    /// Broken: no reports. Fixed: 8 to 12.
    fn grader() -> Grader {
        let expect = |min, max| Expect {
            outcome: Outcome::Completes,
            claim: "c".into(),
            facts: vec![Bound {
                name: "reports".into(),
                min,
                max,
                timing: false,
            }],
            needs_cores: 1,
        };
        Grader {
            scenario: Scenario {
                name: "report".into(),
                summary: "s".into(),
                deadline_ms: None,
                broken: expect(None, Some(0.0)),
                fixed: expect(Some(8.0), Some(12.0)),
                live_facts: vec![],
                prediction: None,
            },
            exercises: vec![crate::contract::manifest::Exercise {
                name: "report".into(),
                scenarios: vec!["report".into()],
                goal: "g".into(),
                hints: vec!["h".into()],
                diagnoses: vec![crate::contract::manifest::Diagnosis {
                    id: "none".into(),
                    scenario: None,
                    pattern: crate::contract::manifest::Pattern::Facts(vec![
                        crate::contract::manifest::Condition::parse("reports <= 0").unwrap(),
                    ]),
                    hangs: false,
                    say: "no report was made".into(),
                }],
            }],
        }
    }

    fn facts(reports: f64) -> Facts {
        let f = Facts::for_test(&SPEC);
        f.set("reports", reports);
        f
    }

    fn panics(f: impl FnOnce() + std::panic::UnwindSafe) -> bool {
        std::panic::catch_unwind(f).is_err()
    }

    #[test]
    fn a_fix_is_judged_fixed_and_a_fix_out_of_bounds_fails_the_test() {
        let g = grader();
        g.assert_fixed("ten reports", Observed::Completes, &facts(10.0));
        assert!(panics(|| grader().assert_fixed(
            "three reports",
            Observed::Completes,
            &facts(3.0)
        )));
        assert!(panics(|| grader().assert_fixed(
            "a hang",
            Observed::timed_out(std::time::Duration::from_secs(1)),
            &facts(10.0)
        )));
    }

    #[test]
    fn a_bug_must_fail_the_fixed_claim_and_meet_the_broken_one() {
        grader().assert_bug("no reports", Observed::Completes, &facts(0.0));
        assert!(
            panics(|| grader().assert_bug("ten reports", Observed::Completes, &facts(10.0))),
            "a bug judged fixed fails the test"
        );
        assert!(
            panics(|| grader().assert_bug("three reports", Observed::Completes, &facts(3.0))),
            "a wrong program that is not the lesson's bug is not `assert_bug`"
        );
        grader().assert_not_fixed("three reports", Observed::Completes, &facts(3.0));
        assert!(panics(|| grader().assert_not_fixed(
            "ten",
            Observed::Completes,
            &facts(10.0)
        )));
    }

    #[test]
    fn a_wrong_fix_is_named_by_its_diagnosis_and_a_fix_by_none() {
        let g = grader();
        g.assert_diagnosed("no reports", Observed::Completes, &facts(0.0), &["none"]);
        g.assert_diagnosed("three reports", Observed::Completes, &facts(3.0), &[]);
        assert!(g.diagnoses(Observed::Completes, &facts(10.0)).is_empty());
        assert!(panics(|| grader().assert_diagnosed(
            "three reports",
            Observed::Completes,
            &facts(3.0),
            &["none"]
        )));
    }

    #[test]
    fn a_skipped_run_proves_nothing_either_way() {
        let f = facts(3.0);
        f.skip("needs 2 cores");
        let g = grader();
        g.assert_fixed("skipped", Observed::Completes, &f);
        g.assert_bug("skipped", Observed::Completes, &f);
        assert!(g.against_fixed(Observed::Completes, &f).skipped());
    }

    #[test]
    fn a_fixture_is_judged_when_included_by_path_and_used() {
        let src = "#[path = \"fixtures/report/fix_a.rs\"]\nmod fix_a;\nfn t() { fix_a::worker; }";
        assert_eq!(
            included_as(src, "\"fixtures/report/fix_a.rs\""),
            Some("fix_a".into())
        );
        assert_eq!(included_as(src, "\"fixtures/report/fix_b.rs\""), None);
    }

    #[test]
    fn only_keeps_the_facts_named() {
        let g = grader().only(&[]);
        assert!(g.scenario().fixed.facts.is_empty());
        g.assert_fixed("anything", Observed::Completes, &facts(3.0));
    }

    #[test]
    fn a_run_that_times_out_is_observed_as_a_hang_and_a_panic_with_its_message() {
        let hang = observe_within(std::time::Duration::from_millis(50), || {
            std::thread::sleep(std::time::Duration::from_secs(5))
        });
        assert_eq!(hang.word(), "hangs");
        let panic = observe_within(std::time::Duration::from_secs(5), || panic!("boom"));
        assert_eq!(panic, Observed::Panics("boom".into()));
        let done = observe_within(std::time::Duration::from_secs(5), || {});
        assert_eq!(done, Observed::Completes);
    }
}
