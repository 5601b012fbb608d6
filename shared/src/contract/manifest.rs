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

use crate::contract::lesson::{Description, Variant};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

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

// The manifest as written. Every struct rejects keys it does not know.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLesson {
    title: String,
    idea: String,
    chapter: String,
    #[serde(default)]
    quiet_ms: Option<u64>,
    #[serde(default)]
    deadline_ms: Option<u64>,
    scenario: Vec<RawScenario>,
    #[serde(default)]
    exercise: Vec<RawExercise>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: String,
    summary: String,
    #[serde(default)]
    deadline_ms: Option<u64>,
    broken: RawExpect,
    fixed: RawExpect,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum RawOutcome {
    Completes,
    Hangs,
    Panics,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    outcome: RawOutcome,
    #[serde(default)]
    panic: Option<String>,
    claim: String,
    #[serde(default)]
    facts: BTreeMap<String, RawBound>,
    #[serde(default)]
    needs_cores: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBound {
    #[serde(default)]
    min: Option<f64>,
    #[serde(default)]
    max: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExercise {
    name: String,
    scenarios: Vec<String>,
    goal: String,
    hints: Vec<String>,
}

/// Names that become parts of file and binary names: `report`, `current-thread`.
fn is_slug(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
}

impl RawExpect {
    fn check(self, key: &str, at: &dyn Fn(&str, &str) -> String) -> Result<Expect, String> {
        let outcome = match (self.outcome, self.panic) {
            (RawOutcome::Panics, Some(fragment)) if !fragment.trim().is_empty() => {
                Outcome::Panics(fragment)
            }
            (RawOutcome::Panics, _) => {
                return Err(at(
                    &format!("{key}.panic"),
                    "outcome = \"panics\" needs a panic = \"...\": a fragment of the expected message",
                ));
            }
            (_, Some(_)) => {
                return Err(at(
                    &format!("{key}.panic"),
                    "only an outcome of \"panics\" takes a panic message",
                ));
            }
            (RawOutcome::Completes, None) => Outcome::Completes,
            (RawOutcome::Hangs, None) => Outcome::Hangs,
        };
        if self.claim.trim().is_empty() {
            return Err(at(&format!("{key}.claim"), "is empty"));
        }
        if self.needs_cores == Some(0) {
            return Err(at(&format!("{key}.needs_cores"), "must be at least 1"));
        }
        let mut facts = Vec::new();
        for (name, b) in self.facts {
            let here = format!("{key}.facts.{name}");
            for v in [b.min, b.max].into_iter().flatten() {
                if !v.is_finite() {
                    return Err(at(&here, "bounds must be finite numbers"));
                }
            }
            match (b.min, b.max) {
                (None, None) => return Err(at(&here, "needs a min, a max, or both")),
                (Some(lo), Some(hi)) if lo > hi => {
                    return Err(at(&here, &format!("min {lo} is greater than max {hi}")));
                }
                _ => {}
            }
            facts.push(Bound {
                name,
                min: b.min,
                max: b.max,
                timing: false,
            });
        }
        Ok(Expect {
            outcome,
            claim: self.claim,
            facts,
            needs_cores: self.needs_cores.unwrap_or(1),
        })
    }
}

/// Reads one package of `cargo metadata`'s output into a lesson, or `None`
/// when the package is not a lesson (it has no `[package.metadata.lesson]`).
pub fn lesson_of_package(package: &Value) -> Result<Option<Lesson>, String> {
    let Some(meta) = package.pointer("/metadata/lesson") else {
        return Ok(None);
    };
    let name = package
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_string();
    let manifest_path = PathBuf::from(
        package
            .get("manifest_path")
            .and_then(Value::as_str)
            .unwrap_or("?"),
    );
    let at = |key: &str, problem: &str| {
        if key.is_empty() {
            format!(
                "{}: [package.metadata.lesson]: {problem}",
                manifest_path.display()
            )
        } else {
            format!(
                "{}: [package.metadata.lesson] {key}: {problem}",
                manifest_path.display()
            )
        }
    };
    let raw: RawLesson = serde_path_to_error::deserialize(meta).map_err(|e| {
        let path = e.path().to_string();
        let key = if path == "." { String::new() } else { path };
        at(&key, &e.into_inner().to_string())
    })?;
    let number: u32 = name
        .strip_prefix("lesson-")
        .filter(|n| n.len() == 2 && n.chars().all(|c| c.is_ascii_digit()))
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| at("", "belongs to a package whose name is not lesson-NN"))?;
    let bins: Vec<(&str, Vec<&str>)> = package
        .get("targets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|t| {
            t.get("kind")
                .and_then(Value::as_array)
                .is_some_and(|k| k.iter().any(|k| k == "bin"))
        })
        .filter_map(|t| {
            let name = t.get("name").and_then(Value::as_str)?;
            let features = t
                .get("required-features")
                .and_then(Value::as_array)
                .map(|f| f.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            Some((name, features))
        })
        .collect();
    for variant in ["broken", "fixed"] {
        let bin = format!("{name}-{variant}");
        if !bins.iter().any(|(b, _)| *b == bin) {
            return Err(at("", &format!("its package needs a binary named {bin}")));
        }
    }
    if raw.scenario.is_empty() {
        return Err(at(
            "scenario",
            "needs at least one [[package.metadata.lesson.scenario]]",
        ));
    }
    let mut scenarios: Vec<Scenario> = Vec::new();
    for (i, s) in raw.scenario.into_iter().enumerate() {
        let key = format!("scenario[{i}]");
        if !is_slug(&s.name) {
            return Err(at(
                &format!("{key}.name"),
                &format!("'{}' must be lower-case letters, digits and dashes", s.name),
            ));
        }
        if scenarios.iter().any(|o| o.name == s.name) {
            return Err(at(
                &format!("{key}.name"),
                &format!("a second scenario named {}", s.name),
            ));
        }
        if s.deadline_ms == Some(0) {
            return Err(at(&format!("{key}.deadline_ms"), "must be more than 0"));
        }
        let key = format!("scenario {}", s.name);
        scenarios.push(Scenario {
            broken: s.broken.check(&format!("{key}: broken"), &at)?,
            fixed: s.fixed.check(&format!("{key}: fixed"), &at)?,
            name: s.name,
            summary: s.summary,
            deadline_ms: s.deadline_ms,
            live_facts: Vec::new(),
        });
    }
    let dir = manifest_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut exercises: Vec<Exercise> = Vec::new();
    for (i, e) in raw.exercise.into_iter().enumerate() {
        let key = format!("exercise[{i}]");
        if !is_slug(&e.name) {
            return Err(at(
                &format!("{key}.name"),
                &format!("'{}' must be lower-case letters, digits and dashes", e.name),
            ));
        }
        if exercises.iter().any(|o| o.name == e.name) {
            return Err(at(
                &format!("{key}.name"),
                &format!("a second exercise named {}", e.name),
            ));
        }
        if e.scenarios.is_empty() {
            return Err(at(
                &format!("{key}.scenarios"),
                "names no scenario to judge it",
            ));
        }
        for s in &e.scenarios {
            if !scenarios.iter().any(|o| &o.name == s) {
                return Err(at(
                    &format!("{key}.scenarios"),
                    &format!("names '{s}', which is not a scenario of this lesson"),
                ));
            }
        }
        if e.hints.is_empty() {
            return Err(at(&format!("{key}.hints"), "needs at least one hint"));
        }
        let bin = format!("{name}-exercise-{}", e.name);
        match bins.iter().find(|(b, _)| *b == bin) {
            None => {
                return Err(at(
                    &key,
                    &format!(
                        "needs a [[bin]] named {bin} with path = \"exercise/{}.rs\"",
                        e.name
                    ),
                ));
            }
            Some((_, features)) if !features.contains(&EXERCISE_FEATURE) => {
                return Err(at(
                    &key,
                    &format!(
                        "the binary {bin} needs required-features = [\"{EXERCISE_FEATURE}\"], so that cargo test never builds a learner's unfinished file"
                    ),
                ));
            }
            Some(_) => {}
        }
        let start = dir
            .join("exercise")
            .join("start")
            .join(format!("{}.rs", e.name));
        if !start.is_file() {
            return Err(at(
                &key,
                &format!("its starting point {} does not exist", start.display()),
            ));
        }
        exercises.push(Exercise {
            name: e.name,
            scenarios: e.scenarios,
            goal: e.goal,
            hints: e.hints,
        });
    }
    for (key, v) in [("quiet_ms", raw.quiet_ms), ("deadline_ms", raw.deadline_ms)] {
        if v == Some(0) {
            return Err(at(key, "must be more than 0"));
        }
    }
    Ok(Some(Lesson {
        id: name,
        number,
        title: raw.title,
        idea: raw.idea,
        chapter: raw.chapter,
        dir,
        manifest_path,
        scenarios,
        exercises,
        quiet_ms: raw.quiet_ms.unwrap_or(2_000),
        deadline_ms: raw.deadline_ms.unwrap_or(15_000),
    }))
}

/// The workspace as `cargo metadata` describes it.
#[derive(Clone, Debug)]
pub struct Metadata {
    pub root: PathBuf,
    pub target_dir: PathBuf,
    /// In lesson-number order.
    pub lessons: Vec<Lesson>,
}

impl Metadata {
    /// Reads `cargo metadata --no-deps` output.
    pub fn from_json(meta: &Value) -> Result<Metadata, String> {
        let path = |key: &str| {
            meta.get(key)
                .and_then(Value::as_str)
                .map(PathBuf::from)
                .ok_or_else(|| format!("`cargo metadata` printed no {key}"))
        };
        let mut lessons = Vec::new();
        for package in meta
            .get("packages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(lesson) = lesson_of_package(package)? {
                if let Some(other) = lessons.iter().find(|l: &&Lesson| l.number == lesson.number) {
                    return Err(format!(
                        "{} and {} are both lesson {}",
                        other.id, lesson.id, lesson.number
                    ));
                }
                lessons.push(lesson);
            }
        }
        lessons.sort_by_key(|l| l.number);
        Ok(Metadata {
            root: path("workspace_root")?,
            target_dir: path("target_directory")?,
            lessons,
        })
    }

    /// Runs `cargo metadata` for the workspace that holds `dir`.
    pub fn load(dir: &Path) -> Result<Metadata, String> {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let output = Command::new(&cargo)
            .args(["metadata", "--format-version", "1", "--no-deps"])
            .current_dir(dir)
            .output()
            .map_err(|e| format!("could not run `{cargo} metadata`: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "`cargo metadata` failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        let meta: Value = serde_json::from_slice(&output.stdout)
            .map_err(|e| format!("`cargo metadata` printed something unreadable: {e}"))?;
        Metadata::from_json(&meta)
    }

    /// The lesson whose folder is `dir`: for a lesson's own tests, with
    /// `env!("CARGO_MANIFEST_DIR")`.
    pub fn lesson_at(dir: &str) -> Lesson {
        let dir = Path::new(dir);
        let meta = Metadata::load(dir).unwrap_or_else(|e| panic!("{e}"));
        meta.lessons
            .into_iter()
            .find(|l| l.dir == dir)
            .unwrap_or_else(|| panic!("{} holds no lesson", dir.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::lesson::{DescribedFact, DescribedScenario};
    use serde_json::json;

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

    fn error_of(meta: Value) -> String {
        let err = lesson_of_package(&package("lesson-02", meta)).unwrap_err();
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(
            err.starts_with("/ws/lessons/lesson-02-topic/Cargo.toml: [package.metadata.lesson]"),
            "names the file: {err}"
        );
        err
    }

    #[test]
    fn a_good_manifest_is_read() {
        let l = lesson_of_package(&package("lesson-05", lesson_meta()))
            .unwrap()
            .unwrap();
        assert_eq!(l.number, 5);
        assert_eq!(l.title, "Select");
        assert_eq!(l.scenarios[0].broken.outcome, Outcome::Hangs);
        assert_eq!(l.quiet_ms, 2_000);
        assert_eq!(l.bin("fixed"), "lesson-05-fixed");
        assert_eq!(l.exercise_bin("report"), "lesson-05-exercise-report");
    }

    #[test]
    fn an_unknown_key_is_an_error_naming_it() {
        let mut m = lesson_meta();
        m["scenario"][0]["broken"]["fact"] = json!({"polls": {"max": 1}});
        let err = error_of(m);
        assert!(err.contains("scenario[0].broken"), "{err}");
        assert!(err.contains("unknown field `fact`"), "{err}");
    }

    #[test]
    fn a_misspelt_min_is_an_error_not_a_dropped_bound() {
        let mut m = lesson_meta();
        m["scenario"][0]["fixed"]["facts"]["ratio"] = json!({"mni": 1, "max": 3});
        let err = error_of(m);
        assert!(err.contains("scenario[0].fixed.facts.ratio"), "{err}");
        assert!(err.contains("unknown field `mni`"), "{err}");
    }

    #[test]
    fn min_above_max_is_an_error() {
        let mut m = lesson_meta();
        m["scenario"][0]["fixed"]["facts"]["ratio"] = json!({"min": 3, "max": 1});
        let err = error_of(m);
        assert!(err.contains("scenario main: fixed.facts.ratio"), "{err}");
        assert!(err.contains("min 3 is greater than max 1"), "{err}");
    }

    #[test]
    fn a_deadline_written_as_text_is_an_error() {
        let mut m = lesson_meta();
        m["scenario"][0]["deadline_ms"] = json!("3000");
        let err = error_of(m);
        assert!(err.contains("scenario[0].deadline_ms"), "{err}");
        assert!(err.contains("invalid type: string"), "{err}");
    }

    #[test]
    fn a_bound_without_limits_and_unknown_outcomes_are_errors() {
        let mut m = lesson_meta();
        m["scenario"][0]["fixed"]["facts"]["ratio"] = json!({});
        assert!(error_of(m).contains("needs a min, a max, or both"));
        let mut m = lesson_meta();
        m["scenario"][0]["fixed"]["outcome"] = json!("explodes");
        let err = error_of(m);
        assert!(err.contains("scenario[0].fixed.outcome"), "{err}");
        assert!(err.contains("unknown variant `explodes`"), "{err}");
        let mut m = lesson_meta();
        m["scenario"][0]["broken"]["outcome"] = json!("panics");
        assert!(error_of(m).contains("broken.panic"));
    }

    #[test]
    fn an_exercise_needs_its_scenarios_its_binary_and_its_hints() {
        let mut m = lesson_meta();
        m["exercise"] =
            json!([{"name": "main", "scenarios": ["nope"], "goal": "g", "hints": ["h"]}]);
        assert!(error_of(m).contains("names 'nope'"));
        let mut m = lesson_meta();
        m["exercise"] =
            json!([{"name": "main", "scenarios": ["main"], "goal": "g", "hints": ["h"]}]);
        let err = error_of(m);
        assert!(
            err.contains("needs a [[bin]] named lesson-02-exercise-main"),
            "{err}"
        );
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
