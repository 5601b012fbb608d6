//! Reading manifests: `cargo metadata`'s output, each lesson's
//! `[package.metadata.lesson]` read strictly into a [`Lesson`], with a
//! one-line error naming the file and the key for anything wrong.

use super::{
    Answer, Bound, Condition, Diagnosis, EXERCISE_FEATURE, Exercise, Expect, Lesson, Outcome,
    Pattern, Prediction, Scenario, Shows,
};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

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
    #[serde(default)]
    predict: Option<RawPrediction>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrediction {
    question: String,
    timeline: String,
    #[serde(default)]
    timeline_wrong: Vec<String>,
    answer: Vec<RawAnswer>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAnswer {
    say: String,
    why: String,
    #[serde(default)]
    right: bool,
    #[serde(default)]
    when: Vec<String>,
    #[serde(default)]
    hangs: bool,
    #[serde(default)]
    panic: Option<String>,
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
    #[serde(default)]
    diagnosis: Vec<RawDiagnosis>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDiagnosis {
    id: String,
    #[serde(default)]
    scenario: Option<String>,
    #[serde(default)]
    when: Option<Vec<String>>,
    #[serde(default)]
    panic: Option<String>,
    #[serde(default)]
    hangs: bool,
    say: String,
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
    let at = At(&manifest_path);
    let raw: RawLesson = serde_path_to_error::deserialize(meta).map_err(|e| {
        let path = e.path().to_string();
        let key = if path == "." { String::new() } else { path };
        at.error(&key, &e.into_inner().to_string())
    })?;
    let number: u32 = name
        .strip_prefix("lesson-")
        .filter(|n| n.len() == 2 && n.chars().all(|c| c.is_ascii_digit()))
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| at.error("", "belongs to a package whose name is not lesson-NN"))?;
    let bins = binaries(package);
    for variant in ["broken", "fixed"] {
        let bin = format!("{name}-{variant}");
        if !bins.iter().any(|(b, _)| *b == bin) {
            return Err(at.error("", &format!("its package needs a binary named {bin}")));
        }
    }
    let dir = manifest_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let scenarios = read_scenarios(raw.scenario, &at)?;
    let exercises = read_exercises(raw.exercise, &scenarios, &bins, &name, &dir, &at)?;
    for (key, v) in [("quiet_ms", raw.quiet_ms), ("deadline_ms", raw.deadline_ms)] {
        if v == Some(0) {
            return Err(at.error(key, "must be more than 0"));
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

/// Makes the one-line errors that name the manifest file and the key.
struct At<'a>(&'a Path);

impl At<'_> {
    fn error(&self, key: &str, problem: &str) -> String {
        if key.is_empty() {
            format!("{}: [package.metadata.lesson]: {problem}", self.0.display())
        } else {
            format!(
                "{}: [package.metadata.lesson] {key}: {problem}",
                self.0.display()
            )
        }
    }
}

/// The package's binaries, with the features each requires.
fn binaries(package: &Value) -> Vec<(&str, Vec<&str>)> {
    package
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
        .collect()
}

fn read_scenarios(raw: Vec<RawScenario>, at: &At<'_>) -> Result<Vec<Scenario>, String> {
    if raw.is_empty() {
        return Err(at.error(
            "scenario",
            "needs at least one [[package.metadata.lesson.scenario]]",
        ));
    }
    let mut scenarios: Vec<Scenario> = Vec::new();
    for (i, s) in raw.into_iter().enumerate() {
        let key = format!("scenario[{i}]");
        if !is_slug(&s.name) {
            return Err(at.error(
                &format!("{key}.name"),
                &format!("'{}' must be lower-case letters, digits and dashes", s.name),
            ));
        }
        if scenarios.iter().any(|o| o.name == s.name) {
            return Err(at.error(
                &format!("{key}.name"),
                &format!("a second scenario named {}", s.name),
            ));
        }
        if s.deadline_ms == Some(0) {
            return Err(at.error(&format!("{key}.deadline_ms"), "must be more than 0"));
        }
        let key = format!("scenario {}", s.name);
        let check = |k: &str, p: &str| at.error(k, p);
        let broken = s.broken.check(&format!("{key}: broken"), &check)?;
        let fixed = s.fixed.check(&format!("{key}: fixed"), &check)?;
        let prediction = match s.predict {
            Some(p) => Some(read_prediction(
                p,
                &format!("{key}: predict"),
                (&broken, &fixed),
                at,
            )?),
            None => None,
        };
        scenarios.push(Scenario {
            broken,
            fixed,
            name: s.name,
            summary: s.summary,
            deadline_ms: s.deadline_ms,
            live_facts: Vec::new(),
            prediction,
        });
    }
    Ok(scenarios)
}

/// A prediction has a question, where the timeline shows the answer, and
/// three or four answers, each saying how a run would show it; exactly one
/// is right, and it must follow from the broken claim, while every other
/// one contradicts it (see [`Shows`]).
fn read_prediction(
    p: RawPrediction,
    key: &str,
    (broken, fixed): (&Expect, &Expect),
    at: &At<'_>,
) -> Result<Prediction, String> {
    for (field, text) in [("question", &p.question), ("timeline", &p.timeline)] {
        if text.trim().is_empty() {
            return Err(at.error(&format!("{key}.{field}"), "is empty"));
        }
    }
    if p.timeline_wrong.len() == 1 || p.timeline_wrong.iter().any(|t| t.trim().is_empty()) {
        return Err(at.error(
            &format!("{key}.timeline_wrong"),
            "give two or more wrong descriptions of the timeline, none empty (or none)",
        ));
    }
    if !(3..=4).contains(&p.answer.len()) {
        return Err(at.error(
            &format!("{key}.answer"),
            &format!("has {} answers: give three or four", p.answer.len()),
        ));
    }
    let rights = p.answer.iter().filter(|a| a.right).count();
    if rights != 1 {
        return Err(at.error(
            &format!("{key}.answer"),
            &format!("marks {rights} answers right: mark exactly one with right = true"),
        ));
    }
    let mut answers = Vec::new();
    for (i, a) in p.answer.into_iter().enumerate() {
        let here = format!("{key}.answer[{i}]");
        for (field, text) in [("say", &a.say), ("why", &a.why)] {
            if text.trim().is_empty() {
                return Err(at.error(&format!("{here}.{field}"), "is empty"));
            }
        }
        let mut conditions = Vec::new();
        for (j, text) in a.when.iter().enumerate() {
            let c =
                Condition::parse(text).map_err(|e| at.error(&format!("{here}.when[{j}]"), &e))?;
            if !broken
                .facts
                .iter()
                .chain(&fixed.facts)
                .any(|b| b.name == c.fact)
            {
                return Err(at.error(
                    &format!("{here}.when[{j}]"),
                    &format!("the scenario bounds no fact named {}", c.fact),
                ));
            }
            conditions.push(c);
        }
        let shows = match (a.panic, a.hangs) {
            (Some(_), true) => {
                return Err(at.error(
                    &here,
                    "a run that panicked did not hang: give panic or hangs, not both",
                ));
            }
            (Some(_), false) if !conditions.is_empty() => {
                return Err(at.error(
                    &here,
                    "a run that panicked reports no facts to compare: give panic or when, not both",
                ));
            }
            (Some(piece), false) if piece.trim().is_empty() => {
                return Err(at.error(&format!("{here}.panic"), "is empty"));
            }
            (Some(piece), false) => Shows::Panics(piece),
            (None, true) => Shows::Hangs(conditions),
            (None, false) => Shows::Completes(conditions),
        };
        if a.right {
            if let Some(why) = shows.not_implied_by(broken) {
                return Err(at.error(
                    &here,
                    &format!("is marked right, but the broken program need not show it: {why}"),
                ));
            }
        } else if !shows.refuted_by(broken) {
            return Err(at.error(
                &here,
                "is a wrong answer that the broken claim does not rule out: give it an outcome or a condition the broken bounds contradict",
            ));
        }
        answers.push(Answer {
            say: a.say,
            why: a.why,
            right: a.right,
            shows,
        });
    }
    Ok(Prediction {
        question: p.question,
        timeline: p.timeline,
        timeline_wrong: p.timeline_wrong,
        answers,
    })
}

fn read_exercises(
    raw: Vec<RawExercise>,
    scenarios: &[Scenario],
    bins: &[(&str, Vec<&str>)],
    package: &str,
    dir: &Path,
    at: &At<'_>,
) -> Result<Vec<Exercise>, String> {
    let mut exercises: Vec<Exercise> = Vec::new();
    for (i, e) in raw.into_iter().enumerate() {
        let key = format!("exercise[{i}]");
        if !is_slug(&e.name) {
            return Err(at.error(
                &format!("{key}.name"),
                &format!("'{}' must be lower-case letters, digits and dashes", e.name),
            ));
        }
        if exercises.iter().any(|o| o.name == e.name) {
            return Err(at.error(
                &format!("{key}.name"),
                &format!("a second exercise named {}", e.name),
            ));
        }
        check_exercise(&e, &key, scenarios, bins, package, dir, at)?;
        let key = format!("exercise {}", e.name);
        let mut diagnoses: Vec<Diagnosis> = Vec::new();
        for (j, d) in e.diagnosis.into_iter().enumerate() {
            let d = read_diagnosis(
                d,
                &format!("{key}: diagnosis[{j}]"),
                &e.scenarios,
                scenarios,
                at,
            )?;
            if diagnoses.iter().any(|o| o.id == d.id) {
                return Err(at.error(
                    &format!("{key}: diagnosis[{j}].id"),
                    &format!("a second diagnosis named {}", d.id),
                ));
            }
            diagnoses.push(d);
        }
        exercises.push(Exercise {
            name: e.name,
            scenarios: e.scenarios,
            goal: e.goal,
            hints: e.hints,
            diagnoses,
        });
    }
    Ok(exercises)
}

/// A diagnosis has a slug for an id, something to say, and one pattern:
/// conditions on facts that its scenarios bound, or a piece of a panic
/// message.
fn read_diagnosis(
    d: RawDiagnosis,
    key: &str,
    judged_by: &[String],
    scenarios: &[Scenario],
    at: &At<'_>,
) -> Result<Diagnosis, String> {
    if !is_slug(&d.id) {
        return Err(at.error(
            &format!("{key}.id"),
            &format!("'{}' must be lower-case letters, digits and dashes", d.id),
        ));
    }
    let key = format!("{key} ({})", d.id);
    if d.say.trim().is_empty() {
        return Err(at.error(&format!("{key}.say"), "is empty"));
    }
    let within: Vec<&Scenario> = match &d.scenario {
        Some(name) if !judged_by.contains(name) => {
            return Err(at.error(
                &format!("{key}.scenario"),
                &format!(
                    "'{name}' is not one of the exercise's scenarios ({})",
                    judged_by.join(", ")
                ),
            ));
        }
        Some(name) => scenarios.iter().filter(|s| s.name == *name).collect(),
        None => scenarios
            .iter()
            .filter(|s| judged_by.contains(&s.name))
            .collect(),
    };
    let pattern = match (d.when, d.panic) {
        (None, None) => {
            return Err(at.error(
                &key,
                "needs when = [\"fact op number\", ...] or panic = \"a piece of the message\"",
            ));
        }
        (Some(_), Some(_)) => {
            return Err(at.error(&key, "takes when or panic, not both"));
        }
        (None, Some(_)) if d.hangs => {
            return Err(at.error(
                &format!("{key}.hangs"),
                "a run that panicked did not hang: hangs goes with when",
            ));
        }
        (None, Some(fragment)) if fragment.trim().is_empty() => {
            return Err(at.error(&format!("{key}.panic"), "is empty"));
        }
        (None, Some(fragment)) => Pattern::Panic(fragment),
        (Some(when), None) if when.is_empty() => {
            return Err(at.error(&format!("{key}.when"), "names no condition"));
        }
        (Some(when), None) => {
            let mut conditions = Vec::new();
            for (i, text) in when.iter().enumerate() {
                let here = format!("{key}.when[{i}]");
                let c = Condition::parse(text).map_err(|e| at.error(&here, &e))?;
                let bounded = |s: &&Scenario| {
                    s.broken
                        .facts
                        .iter()
                        .chain(&s.fixed.facts)
                        .any(|b| b.name == c.fact)
                };
                if !within.iter().any(bounded) {
                    let mut known: Vec<&str> = within
                        .iter()
                        .flat_map(|s| s.broken.facts.iter().chain(&s.fixed.facts))
                        .map(|b| b.name.as_str())
                        .collect();
                    known.sort_unstable();
                    known.dedup();
                    return Err(at.error(
                        &here,
                        &format!(
                            "no scenario it looks in bounds a fact named {} (they bound: {})",
                            c.fact,
                            known.join(", ")
                        ),
                    ));
                }
                conditions.push(c);
            }
            Pattern::Facts(conditions)
        }
    };
    Ok(Diagnosis {
        id: d.id,
        scenario: d.scenario,
        pattern,
        hangs: d.hangs,
        say: d.say,
    })
}

/// An exercise names scenarios that exist, has hints, a binary built only
/// with the exercise feature, and a starting point.
fn check_exercise(
    e: &RawExercise,
    key: &str,
    scenarios: &[Scenario],
    bins: &[(&str, Vec<&str>)],
    package: &str,
    dir: &Path,
    at: &At<'_>,
) -> Result<(), String> {
    if e.scenarios.is_empty() {
        return Err(at.error(&format!("{key}.scenarios"), "names no scenario to judge it"));
    }
    for s in &e.scenarios {
        if !scenarios.iter().any(|o| &o.name == s) {
            return Err(at.error(
                &format!("{key}.scenarios"),
                &format!("names '{s}', which is not a scenario of this lesson"),
            ));
        }
    }
    if e.hints.is_empty() {
        return Err(at.error(&format!("{key}.hints"), "needs at least one hint"));
    }
    let bin = format!("{package}-exercise-{}", e.name);
    match bins.iter().find(|(b, _)| *b == bin) {
        None => {
            return Err(at.error(
                key,
                &format!(
                    "needs a [[bin]] named {bin} with path = \"exercise/{}.rs\"",
                    e.name
                ),
            ));
        }
        Some((_, features)) if !features.contains(&EXERCISE_FEATURE) => {
            return Err(at.error(
                key,
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
        return Err(at.error(
            key,
            &format!("its starting point {} does not exist", start.display()),
        ));
    }
    Ok(())
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

    /// A prediction for the test lesson's scenario, whose broken program
    /// hangs with `polls` at most 1.
    fn predicted(answers: Value) -> Value {
        let mut m = lesson_meta();
        m["scenario"][0]["predict"] = json!({
            "question": "What will it do?",
            "timeline": "Look at the worker's row.",
            "answer": answers,
        });
        m
    }

    #[test]
    fn a_prediction_is_read_when_its_right_answer_follows_from_the_broken_claim() {
        let m = predicted(json!([
            {"say": "It ends soon.", "why": "w", "when": ["ratio >= 0.8"]},
            {"say": "It hangs, polled once.", "why": "w", "right": true, "hangs": true, "when": ["polls <= 1"]},
            {"say": "It panics.", "why": "w", "panic": "boom"},
        ]));
        let l = lesson_of_package(&package("lesson-02", m))
            .unwrap()
            .unwrap();
        let p = l.scenarios[0].prediction.as_ref().unwrap();
        assert_eq!(p.answers.len(), 3);
        assert_eq!(p.right().0, 1);
        assert_eq!(p.answers[2].shows, Shows::Panics("boom".into()));
    }

    #[test]
    fn a_prediction_that_disagrees_with_the_broken_claim_is_an_error() {
        // The right answer must follow from the claim: it hangs, not ends.
        let err = error_of(predicted(json!([
            {"say": "It ends.", "why": "w", "right": true},
            {"say": "It hangs.", "why": "w", "hangs": true, "when": ["polls >= 5"]},
            {"say": "It panics.", "why": "w", "panic": "boom"},
        ])));
        assert!(err.contains("scenario main: predict.answer[0]"), "{err}");
        assert!(err.contains("outcome is hangs"), "{err}");
        // A condition the claim does not promise.
        let err = error_of(predicted(json!([
            {"say": "Polled at most twice.", "why": "w", "right": true, "hangs": true, "when": ["polls <= 0"]},
            {"say": "It ends.", "why": "w"},
            {"say": "It panics.", "why": "w", "panic": "boom"},
        ])));
        assert!(err.contains("does not promise polls <= 0"), "{err}");
        // A wrong answer the claim allows: it hangs, polled once, is what
        // the claim says.
        let err = error_of(predicted(json!([
            {"say": "It hangs.", "why": "w", "right": true, "hangs": true},
            {"say": "It hangs after one poll.", "why": "w", "hangs": true, "when": ["polls <= 1"]},
            {"say": "It panics.", "why": "w", "panic": "boom"},
        ])));
        assert!(err.contains("predict.answer[1]"), "{err}");
        assert!(err.contains("does not rule out"), "{err}");
        // Exactly one right answer, three or four answers.
        let err = error_of(predicted(json!([
            {"say": "a", "why": "w", "right": true, "hangs": true},
            {"say": "b", "why": "w", "right": true, "hangs": true},
            {"say": "c", "why": "w", "panic": "boom"},
        ])));
        assert!(err.contains("marks 2 answers right"), "{err}");
        let err = error_of(predicted(json!([
            {"say": "a", "why": "w", "right": true, "hangs": true},
            {"say": "c", "why": "w", "panic": "boom"},
        ])));
        assert!(err.contains("has 2 answers"), "{err}");
        let err = error_of(predicted(json!([
            {"say": "a", "why": "w", "right": true, "hangs": true},
            {"say": "b", "why": "w", "when": ["pols >= 2"]},
            {"say": "c", "why": "w", "panic": "boom"},
        ])));
        assert!(err.contains("bounds no fact named pols"), "{err}");
        let mut one_wrong = predicted(json!([
            {"say": "a", "why": "w", "right": true, "hangs": true},
            {"say": "b", "why": "w", "panic": "boom"},
            {"say": "c", "why": "w", "when": ["ratio >= 0.8"]},
        ]));
        one_wrong["scenario"][0]["predict"]["timeline_wrong"] = json!(["only one"]);
        assert!(error_of(one_wrong).contains("timeline_wrong"));
    }

    /// A lesson with one exercise, `main`, whose diagnoses are `diagnoses`,
    /// in a folder of its own that holds the exercise's starting point.
    fn with_diagnoses(diagnoses: Value) -> Result<Lesson, String> {
        let dir = std::env::temp_dir().join(format!(
            "diagnoses-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let start = dir.join("lessons/lesson-02-topic/exercise/start");
        std::fs::create_dir_all(&start).unwrap();
        std::fs::write(start.join("main.rs"), "fn main() {}").unwrap();
        let mut m = lesson_meta();
        m["exercise"] = json!([{"name": "main", "scenarios": ["main"], "goal": "g", "hints": ["h"], "diagnosis": diagnoses}]);
        let mut p = package("lesson-02", m);
        p["manifest_path"] = json!(dir.join("lessons/lesson-02-topic/Cargo.toml"));
        p["targets"]
            .as_array_mut()
            .unwrap()
            .push(json!({"kind": ["bin"], "name": "lesson-02-exercise-main", "required-features": ["exercise"]}));
        let read = lesson_of_package(&p).map(Option::unwrap);
        let _ = std::fs::remove_dir_all(&dir);
        read
    }

    fn diagnosis_error(d: Value) -> String {
        let err = with_diagnoses(json!([d])).unwrap_err();
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(
            err.contains(
                "lesson-02-topic/Cargo.toml: [package.metadata.lesson] exercise main: diagnosis[0]"
            ),
            "names the lesson, the exercise and the diagnosis: {err}"
        );
        err
    }

    #[test]
    fn a_diagnosis_is_read_with_its_conditions_or_its_panic() {
        let l = with_diagnoses(json!([
            {"id": "never-polled", "when": ["polls <= 1", "ratio < 0.5"], "say": "s"},
            {"id": "no-reactor", "panic": "no reactor", "scenario": "main", "say": "t"},
        ]))
        .unwrap();
        let d = &l.exercises[0].diagnoses;
        assert_eq!(d.len(), 2);
        let Pattern::Facts(c) = &d[0].pattern else {
            panic!("{:?}", d[0])
        };
        assert_eq!(c[1].describe(), "ratio < 0.5");
        assert_eq!(d[1].pattern, Pattern::Panic("no reactor".into()));
        assert!(l.diagnoses_that_fit_a_fix().is_empty());
    }

    #[test]
    fn a_diagnosis_on_a_fact_no_scenario_bounds_is_an_error() {
        let err = diagnosis_error(json!({"id": "d", "when": ["pols <= 1"], "say": "s"}));
        assert!(err.contains("when[0]"), "{err}");
        assert!(
            err.contains("bounds a fact named pols (they bound: polls, ratio)"),
            "{err}"
        );
    }

    #[test]
    fn a_diagnosis_with_a_bad_comparison_is_an_error() {
        let err = diagnosis_error(json!({"id": "d", "when": ["polls =< 1"], "say": "s"}));
        assert!(err.contains("'=<' is not a comparison"), "{err}");
        let err = diagnosis_error(json!({"id": "d", "when": ["polls<=1"], "say": "s"}));
        assert!(err.contains("is not a comparison"), "{err}");
        let err = diagnosis_error(json!({"id": "d", "when": ["polls <= NaN"], "say": "s"}));
        assert!(err.contains("not a finite number"), "{err}");
    }

    #[test]
    fn a_diagnosis_needs_when_or_panic_and_not_both() {
        let err = diagnosis_error(json!({"id": "d", "say": "s"}));
        assert!(err.contains("needs when = "), "{err}");
        let err =
            diagnosis_error(json!({"id": "d", "when": ["polls <= 1"], "panic": "x", "say": "s"}));
        assert!(err.contains("not both"), "{err}");
        let err = diagnosis_error(json!({"id": "d", "when": [], "say": "s"}));
        assert!(err.contains("names no condition"), "{err}");
        let err = diagnosis_error(json!({"id": "d", "panic": "x", "scenario": "nope", "say": "s"}));
        assert!(
            err.contains("'nope' is not one of the exercise's scenarios"),
            "{err}"
        );
        let err = with_diagnoses(json!([{"id": "d", "panic": "x", "say": "s", "hint": "h"}]))
            .unwrap_err();
        assert!(err.contains("exercise[0].diagnosis[0]"), "{err}");
        assert!(err.contains("unknown field `hint`"), "{err}");
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
}
