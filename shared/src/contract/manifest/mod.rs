//! A lesson's manifest: `[package.metadata.lesson]` in its `Cargo.toml`.
//!
//! It states the lesson's claims: for each scenario, what the broken and the
//! fixed programs do (an outcome and bounds on measured facts), and the
//! exercises a learner fixes. The runner (`cargo xtask`), the lesson's own
//! tests and the book's tables all read it from here, through `cargo
//! metadata`.
//!
//! It is read strictly: an unknown key, a value of the wrong type, a bound
//! with `min > max` or no limit at all, or a fact the scenario's code does
//! not declare is an error of one line that names the file and the key.

mod diagnosis;
mod prediction;
mod read;

pub use diagnosis::{Compare, Condition, Diagnosis, Pattern};
pub use prediction::{Answer, Prediction, Shows, letter};
pub use read::{Metadata, lesson_of_package};

use crate::contract::lesson::{Description, Variant};
use std::path::PathBuf;

/// The Cargo feature that builds a lesson's exercise binaries. Off by
/// default, so that `cargo test` and `cargo clippy` never compile a
/// learner's half-finished file.
pub const EXERCISE_FEATURE: &str = "exercise";

/// What a variant is expected to do when it ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Completes,
    Hangs,
    /// Panics with a message containing this fragment.
    Panics(String),
}

impl Outcome {
    pub fn describe(&self) -> String {
        match self {
            Outcome::Completes => "completes".into(),
            Outcome::Hangs => "hangs".into(),
            Outcome::Panics(fragment) => format!("panics \"{fragment}\""),
        }
    }

    /// The verb, for "expected it to ...".
    pub fn infinitive(&self) -> String {
        match self {
            Outcome::Completes => "complete".into(),
            Outcome::Hangs => "hang".into(),
            Outcome::Panics(fragment) => format!("panic with \"{fragment}\""),
        }
    }
}

/// Bounds on one measured fact (both inclusive).
#[derive(Clone, Debug, PartialEq)]
pub struct Bound {
    pub name: String,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// The fact is measured in time (its code declares it so; set when the
    /// manifest is checked against the code): a busy machine can spoil it.
    pub timing: bool,
}

impl Bound {
    /// Whether `value` is within the bounds. Not-a-number never is.
    pub fn holds(&self, value: f64) -> bool {
        !value.is_nan()
            && self.min.is_none_or(|m| value >= m)
            && self.max.is_none_or(|m| value <= m)
    }

    /// The limits, for printing a value beside them.
    pub fn limits(&self) -> Vec<f64> {
        self.min.into_iter().chain(self.max).collect()
    }

    /// "0.8..1.2", "≥ 2", "≤ 0", "= 1".
    pub fn range(&self) -> String {
        use crate::view::number::format_value as v;
        match (self.min, self.max) {
            (Some(a), Some(b)) if a == b => format!("= {}", v(a)),
            (Some(a), Some(b)) => format!("in {}..{}", v(a), v(b)),
            (Some(a), None) => format!("≥ {}", v(a)),
            (None, Some(b)) => format!("≤ {}", v(b)),
            (None, None) => "reported".into(),
        }
    }

    pub fn describe(&self) -> String {
        format!("{} {}", self.name, self.range())
    }
}

/// What the lesson says one variant of one scenario does.
#[derive(Clone, Debug, PartialEq)]
pub struct Expect {
    pub outcome: Outcome,
    pub claim: String,
    /// In the order the scenario's code declares its facts.
    pub facts: Vec<Bound>,
    /// The claim needs parallelism: on a machine with fewer cores it is
    /// skipped, with the reason, never failed or passed.
    pub needs_cores: u32,
}

impl Expect {
    pub fn describe(&self) -> String {
        let needs = (self.needs_cores > 1).then(|| format!("(needs {} cores)", self.needs_cores));
        std::iter::once(self.outcome.describe())
            .chain(self.facts.iter().map(Bound::describe))
            .chain(needs)
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// What a lesson claims about one scenario, for each side.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub summary: String,
    /// Overrides the lesson's `deadline_ms` for this scenario.
    pub deadline_ms: Option<u64>,
    pub broken: Expect,
    pub fixed: Expect,
    /// The facts its code reports as they grow, which may appear in a
    /// report more than once (set when the manifest is checked against the
    /// code).
    pub live_facts: Vec<String>,
    /// A question about the broken program, asked before it runs.
    pub prediction: Option<Prediction>,
}

impl Scenario {
    /// The claim a run of `variant` is judged by: a learner's exercise is
    /// judged by the fixed claim.
    pub fn claim_for<N>(&self, variant: &Variant<N>) -> &Expect {
        match variant {
            Variant::Broken => &self.broken,
            Variant::Fixed | Variant::Exercise(_) => &self.fixed,
        }
    }
}

/// A file the learner edits, judged against the fixed claims of its
/// scenarios.
#[derive(Clone, Debug, PartialEq)]
pub struct Exercise {
    /// `report`: the file `exercise/report.rs`, the binary
    /// `lesson-05-exercise-report`.
    pub name: String,
    /// The scenarios whose fixed claims judge it.
    pub scenarios: Vec<String>,
    /// What a fix achieves, in one line.
    pub goal: String,
    /// From a nudge to nearly the answer.
    pub hints: Vec<String>,
    /// Known wrong fixes, recognised in what was measured, in the order
    /// the manifest gives them.
    pub diagnoses: Vec<Diagnosis>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Lesson {
    /// The package name, `lesson-NN`.
    pub id: String,
    pub number: u32,
    pub title: String,
    pub idea: String,
    pub chapter: String,
    /// The lesson's folder.
    pub dir: PathBuf,
    pub manifest_path: PathBuf,
    pub scenarios: Vec<Scenario>,
    pub exercises: Vec<Exercise>,
    pub quiet_ms: u64,
    pub deadline_ms: u64,
}

impl Lesson {
    pub fn scenario(&self, name: &str) -> Option<&Scenario> {
        self.scenarios.iter().find(|s| s.name == name)
    }

    pub fn exercise(&self, name: &str) -> Option<&Exercise> {
        self.exercises.iter().find(|e| e.name == name)
    }

    /// The binary of a variant: `lesson-05-broken`.
    pub fn bin(&self, variant: &str) -> String {
        format!("{}-{variant}", self.id)
    }

    /// The binary that runs `variant`: `lesson-05-fixed`, or for an
    /// exercise `lesson-05-exercise-report`.
    pub fn bin_for(&self, variant: &Variant<String>) -> String {
        match variant {
            Variant::Exercise(name) => self.exercise_bin(name),
            other => self.bin(other.name()),
        }
    }

    /// The binary that runs the learner's exercise `name`.
    pub fn exercise_bin(&self, name: &str) -> String {
        format!("{}-exercise-{name}", self.id)
    }

    /// The learner's file for exercise `name`.
    pub fn exercise_file(&self, name: &str) -> PathBuf {
        self.dir.join("exercise").join(format!("{name}.rs"))
    }

    /// The exercise's starting point, which `reset` copies back.
    pub fn exercise_start(&self, name: &str) -> PathBuf {
        self.dir
            .join("exercise")
            .join("start")
            .join(format!("{name}.rs"))
    }

    /// Prefixes a problem with the manifest's path and table.
    fn at(&self, key: &str, problem: &str) -> String {
        format!(
            "{}: [package.metadata.lesson] {key}: {problem}",
            self.manifest_path.display()
        )
    }

    /// Checks the manifest against what the code of one binary declares
    /// (`--describe`): the same scenarios, and bounds only on facts the
    /// scenario measures. Sorts each variant's bounds into the code's order.
    pub fn check_against(&mut self, described: &Description) -> Result<(), String> {
        let expected: Vec<&str> = if described.variant == "exercise" {
            let name = described
                .exercise
                .as_deref()
                .ok_or_else(|| self.at("exercise", "the exercise binary names no exercise"))?;
            let exercise = self.exercise(name).ok_or_else(|| {
                self.at(
                    "exercise",
                    &format!("has no exercise named {name}, but its binary runs one"),
                )
            })?;
            exercise.scenarios.iter().map(String::as_str).collect()
        } else {
            self.scenarios.iter().map(|s| s.name.as_str()).collect()
        };
        let declared: Vec<&str> = described
            .scenarios
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        for name in &expected {
            if !declared.contains(name) {
                return Err(self.at(
                    &format!("scenario {name}"),
                    &format!(
                        "{} runs no such scenario (it runs: {})",
                        self.bin(&described.variant),
                        declared.join(", ")
                    ),
                ));
            }
        }
        for name in &declared {
            if !expected.contains(name) {
                return Err(self.at(
                    "scenario",
                    &format!(
                        "{} runs a scenario '{name}' that the manifest does not describe",
                        self.bin(&described.variant)
                    ),
                ));
            }
        }
        let manifest_path = self.manifest_path.clone();
        for scenario in &mut self.scenarios {
            let Some(code) = described.scenarios.iter().find(|s| s.name == scenario.name) else {
                continue;
            };
            let known: Vec<&str> = code.facts.iter().map(|f| f.name.as_str()).collect();
            scenario.live_facts = code
                .facts
                .iter()
                .filter(|f| f.live)
                .map(|f| f.name.clone())
                .collect();
            for (variant, expect) in [
                ("broken", &mut scenario.broken),
                ("fixed", &mut scenario.fixed),
            ] {
                for bound in &mut expect.facts {
                    if let Some(f) = code.facts.iter().find(|f| f.name == bound.name) {
                        bound.timing = f.timing;
                    }
                    if !known.contains(&bound.name.as_str()) {
                        return Err(format!(
                            "{}: [package.metadata.lesson] scenario {}: {variant}.facts.{}: the scenario measures no such fact (it measures: {})",
                            manifest_path.display(),
                            scenario.name,
                            bound.name,
                            known.join(", ")
                        ));
                    }
                }
                expect
                    .facts
                    .sort_by_key(|b| known.iter().position(|k| *k == b.name));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::lesson::{DescribedFact, DescribedScenario};
    use read::lesson_of_package;
    use serde_json::{Value, json};

    fn package(name: &str, lesson: Value) -> Value {
        json!({
            "name": name,
            "manifest_path": format!("/ws/lessons/{name}-topic/Cargo.toml"),
            "targets": [
                {"kind": ["lib"], "name": name.replace('-', "_")},
                {"kind": ["bin"], "name": format!("{name}-broken")},
                {"kind": ["bin"], "name": format!("{name}-fixed")},
            ],
            "metadata": {"lesson": lesson},
        })
    }

    fn lesson_meta() -> Value {
        json!({
            "title": "Select",
            "idea": "an idea",
            "chapter": "ch.md",
            "scenario": [{
                "name": "main",
                "summary": "s",
                "broken": {"outcome": "hangs", "claim": "it hangs", "facts": {"polls": {"max": 1}}},
                "fixed": {"outcome": "completes", "claim": "it ends", "facts": {"ratio": {"min": 0.8, "max": 1.2}, "polls": {"min": 2}}},
            }],
        })
    }

    fn described(variant: &str, facts: &[&str]) -> Description {
        Description {
            lesson: "lesson-05".into(),
            variant: variant.into(),
            exercise: None,
            scenarios: vec![DescribedScenario {
                name: "main".into(),
                facts: facts
                    .iter()
                    .map(|f| DescribedFact {
                        name: (*f).into(),
                        meaning: format!("the {f}"),
                        timing: *f == "ratio",
                        live: false,
                    })
                    .collect(),
                pieces: vec![String::new()],
            }],
        }
    }

    #[test]
    fn a_fact_the_code_does_not_measure_is_caught_when_the_lesson_is_loaded() {
        let mut l = lesson_of_package(&package("lesson-05", lesson_meta()))
            .unwrap()
            .unwrap();
        let err = l
            .check_against(&described("fixed", &["polls", "ratoi"]))
            .unwrap_err();
        assert_eq!(err.lines().count(), 1);
        assert!(err.contains("Cargo.toml"), "{err}");
        assert!(
            err.contains("scenario main: broken.facts.polls") || err.contains("fixed.facts.ratio"),
            "{err}"
        );
        assert!(err.contains("measures no such fact"), "{err}");

        l.check_against(&described("fixed", &["ratio", "polls"]))
            .unwrap();
        let order: Vec<&str> = l.scenarios[0]
            .fixed
            .facts
            .iter()
            .map(|b| b.name.as_str())
            .collect();
        assert_eq!(order, ["ratio", "polls"], "the code's order");
        let timing: Vec<bool> = l.scenarios[0]
            .fixed
            .facts
            .iter()
            .map(|b| b.timing)
            .collect();
        assert_eq!(
            timing,
            [true, false],
            "the code says which facts are timing"
        );

        let mut other = described("fixed", &["ratio", "polls"]);
        other.scenarios[0].name = "elsewhere".into();
        assert!(
            l.check_against(&other)
                .unwrap_err()
                .contains("runs no such scenario")
        );
    }

    #[test]
    fn bounds_are_inclusive_and_nan_never_holds() {
        let b = Bound {
            name: "ratio".into(),
            min: Some(0.8),
            max: None,
            timing: true,
        };
        assert!(b.holds(0.8) && b.holds(5.0) && !b.holds(0.79) && !b.holds(f64::NAN));
        assert!(b.holds(f64::INFINITY));
        assert_eq!(b.describe(), "ratio ≥ 0.8");
        let exact = Bound {
            name: "polls".into(),
            min: Some(14.0),
            max: Some(14.0),
            timing: false,
        };
        assert_eq!(exact.describe(), "polls = 14");
        assert!(!exact.holds(13.0) && !exact.holds(15.0));
    }
}
