//! Finding the lessons: `cargo metadata` and each lesson's
//! `[package.metadata.lesson]`. Nothing here lists lessons by hand.

use crate::Failure;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

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
}

/// Bounds on one measured fact (both inclusive).
#[derive(Clone, Debug, PartialEq)]
pub struct Bound {
    pub name: String,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl Bound {
    pub fn holds(&self, value: f64) -> bool {
        self.min.is_none_or(|m| value >= m) && self.max.is_none_or(|m| value <= m)
    }

    pub fn describe(&self) -> String {
        use shared::report::format_value as v;
        match (self.min, self.max) {
            (Some(a), Some(b)) if a == b => format!("{} = {}", self.name, v(a)),
            (Some(a), Some(b)) => format!("{} in {}..{}", self.name, v(a), v(b)),
            (Some(a), None) => format!("{} ≥ {}", self.name, v(a)),
            (None, Some(b)) => format!("{} ≤ {}", self.name, v(b)),
            (None, None) => format!("{} reported", self.name),
        }
    }
}

/// What the lesson says one variant of one scenario does.
#[derive(Clone, Debug, PartialEq)]
pub struct Expect {
    pub outcome: Outcome,
    pub claim: String,
    pub facts: Vec<Bound>,
}

impl Expect {
    pub fn describe(&self) -> String {
        std::iter::once(self.outcome.describe())
            .chain(self.facts.iter().map(Bound::describe))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub summary: String,
    /// Overrides the lesson's `deadline_ms` for this scenario.
    pub deadline_ms: Option<u64>,
    pub broken: Expect,
    pub fixed: Expect,
}

impl Scenario {
    pub fn expect(&self, variant: Variant) -> &Expect {
        match variant {
            Variant::Broken => &self.broken,
            Variant::Fixed => &self.fixed,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    Broken,
    Fixed,
}

impl Variant {
    pub const BOTH: [Variant; 2] = [Variant::Broken, Variant::Fixed];

    pub fn name(self) -> &'static str {
        match self {
            Variant::Broken => "broken",
            Variant::Fixed => "fixed",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Lesson {
    /// The package name, `lesson-NN`.
    pub id: String,
    pub number: u32,
    pub title: String,
    pub idea: String,
    pub chapter: String,
    pub dir: PathBuf,
    pub scenarios: Vec<Scenario>,
    pub quiet_ms: u64,
    pub deadline_ms: u64,
}

impl Lesson {
    pub fn bin(&self, variant: Variant) -> String {
        format!("{}-{}", self.id, variant.name())
    }
}

/// The workspace as the runner sees it.
pub struct Workspace {
    pub root: PathBuf,
    pub target_dir: PathBuf,
    pub lessons: Vec<Lesson>,
}

pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

impl Workspace {
    pub fn load() -> Result<Workspace, Failure> {
        let output = Command::new(cargo())
            .args(["metadata", "--format-version", "1", "--no-deps"])
            .output()
            .map_err(|e| Failure(format!("could not run `cargo metadata`: {e}")))?;
        if !output.status.success() {
            return Err(Failure(format!(
                "`cargo metadata` failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        let meta: Value = serde_json::from_slice(&output.stdout).map_err(|e| {
            Failure(format!(
                "`cargo metadata` printed something unreadable: {e}"
            ))
        })?;
        Workspace::from_metadata(&meta)
    }

    pub fn from_metadata(meta: &Value) -> Result<Workspace, Failure> {
        let path = |key: &str| {
            meta.get(key)
                .and_then(Value::as_str)
                .map(PathBuf::from)
                .ok_or_else(|| Failure(format!("`cargo metadata` has no {key}")))
        };
        let root = path("workspace_root")?;
        let target_dir = path("target_directory")?;
        let mut lessons = Vec::new();
        for package in meta
            .get("packages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(lesson) = package.pointer("/metadata/lesson") {
                lessons.push(parse_lesson(package, lesson)?);
            }
        }
        lessons.sort_by_key(|l| l.number);
        Ok(Workspace {
            root,
            target_dir,
            lessons,
        })
    }

    /// Finds a lesson by a forgiving name: `lesson-05`, `lesson-5`, `lesson5`,
    /// `05`, `5`, or the folder name `lesson-05-select`.
    pub fn find(&self, query: &str) -> Result<&Lesson, Failure> {
        let q = query.trim().to_lowercase();
        let digits = q
            .strip_prefix("lesson")
            .unwrap_or(&q)
            .trim_start_matches(['-', '_', ' ']);
        let number: Option<u32> = digits
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .filter(|d| !d.is_empty())
            .and_then(|d| d.parse().ok());
        let found = self.lessons.iter().find(|l| {
            let dir = l.dir.file_name().and_then(|d| d.to_str()).unwrap_or("");
            l.id == q || dir == q || (number == Some(l.number) && digits.len() <= 3)
        });
        match found {
            Some(l) => Ok(l),
            None => Err(Failure(self.unknown(query, number))),
        }
    }

    fn unknown(&self, query: &str, number: Option<u32>) -> String {
        let list = self
            .lessons
            .iter()
            .map(|l| format!("{} ({})", l.id, l.title))
            .collect::<Vec<_>>()
            .join(", ");
        let nearest = match number {
            Some(n) => self.lessons.iter().min_by_key(|l| l.number.abs_diff(n)),
            None => self
                .lessons
                .iter()
                .min_by_key(|l| edit_distance(&query.to_lowercase(), &l.id)),
        };
        let hint = nearest.map_or(String::new(), |l| format!(" Did you mean {}?", l.id));
        if self.lessons.is_empty() {
            format!("no lesson '{query}': this workspace has no lessons yet")
        } else {
            format!("no lesson '{query}'. The lessons are: {list}.{hint}")
        }
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

fn parse_lesson(package: &Value, meta: &Value) -> Result<Lesson, Failure> {
    let name = package
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_string();
    let manifest = package
        .get("manifest_path")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_string();
    let bad = |what: &str| {
        Failure(format!(
            "{manifest}: [package.metadata.lesson] {what} (see the design's lesson contract)"
        ))
    };
    let text = |v: &Value, key: &str| -> Result<String, Failure> {
        v.get(key)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| bad(&format!("needs a text `{key}`")))
    };
    let number: u32 = name
        .strip_prefix("lesson-")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| bad("belongs to a package whose name is not lesson-NN"))?;
    let bins: Vec<&str> = package
        .get("targets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|t| {
            t.get("kind")
                .and_then(Value::as_array)
                .is_some_and(|k| k.iter().any(|k| k == "bin"))
        })
        .filter_map(|t| t.get("name").and_then(Value::as_str))
        .collect();
    for variant in Variant::BOTH {
        let bin = format!("{name}-{}", variant.name());
        if !bins.contains(&bin.as_str()) {
            return Err(bad(&format!("needs a binary named {bin}")));
        }
    }
    let mut scenarios = Vec::new();
    for s in meta
        .get("scenario")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("needs at least one [[package.metadata.lesson.scenario]]"))?
    {
        let scenario_name = text(s, "name")?;
        let expect = |variant: Variant| -> Result<Expect, Failure> {
            let v = s.get(variant.name()).ok_or_else(|| {
                bad(&format!(
                    "scenario {scenario_name} needs {}.outcome",
                    variant.name()
                ))
            })?;
            let outcome = match text(v, "outcome")?.as_str() {
                "completes" => Outcome::Completes,
                "hangs" => Outcome::Hangs,
                "panics" => Outcome::Panics(text(v, "panic").map_err(|_| {
                    bad(&format!(
                        "scenario {scenario_name}: {}.outcome = \"panics\" needs {}.panic, a fragment of the message",
                        variant.name(),
                        variant.name()
                    ))
                })?),
                other => {
                    return Err(bad(&format!(
                        "scenario {scenario_name}: unknown outcome '{other}' (completes, hangs or panics)"
                    )));
                }
            };
            let mut facts = Vec::new();
            if let Some(map) = v.get("facts").and_then(Value::as_object) {
                for (fact, b) in map {
                    let num = |k: &str| b.get(k).and_then(Value::as_f64);
                    let bound = Bound {
                        name: fact.clone(),
                        min: num("min"),
                        max: num("max"),
                    };
                    if bound.min.is_none() && bound.max.is_none() {
                        return Err(bad(&format!(
                            "scenario {scenario_name}: fact {fact} needs a min or a max"
                        )));
                    }
                    facts.push(bound);
                }
            }
            Ok(Expect {
                outcome,
                claim: text(v, "claim")?,
                facts,
            })
        };
        scenarios.push(Scenario {
            summary: text(s, "summary")?,
            deadline_ms: s.get("deadline_ms").and_then(Value::as_u64),
            broken: expect(Variant::Broken)?,
            fixed: expect(Variant::Fixed)?,
            name: scenario_name,
        });
    }
    let dir = PathBuf::from(&manifest)
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default();
    let ms = |key: &str, default: u64| meta.get(key).and_then(Value::as_u64).unwrap_or(default);
    Ok(Lesson {
        id: name,
        number,
        title: text(meta, "title")?,
        idea: text(meta, "idea")?,
        chapter: text(meta, "chapter")?,
        dir,
        scenarios,
        quiet_ms: ms("quiet_ms", 2_000),
        deadline_ms: ms("deadline_ms", 15_000),
    })
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

    fn lesson_meta(title: &str) -> Value {
        json!({
            "title": title,
            "idea": "an idea",
            "chapter": "ch.md",
            "scenario": [{
                "name": "main",
                "summary": "s",
                "broken": {"outcome": "hangs", "claim": "it hangs", "facts": {"polls": {"max": 1}}},
                "fixed": {"outcome": "completes", "claim": "it ends", "facts": {"ratio": {"min": 0.8, "max": 1.2}}},
            }],
        })
    }

    fn workspace() -> Workspace {
        let meta = json!({
            "workspace_root": "/ws",
            "target_directory": "/ws/target",
            "packages": [
                package("lesson-05", lesson_meta("Select")),
                {"name": "shared", "manifest_path": "/ws/shared/Cargo.toml", "targets": [], "metadata": null},
                package("lesson-01", lesson_meta("Futures")),
            ],
        });
        Workspace::from_metadata(&meta).unwrap()
    }

    #[test]
    fn lessons_come_from_package_metadata_in_number_order() {
        let ws = workspace();
        let ids: Vec<_> = ws.lessons.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(ids, ["lesson-01", "lesson-05"]);
        let l = &ws.lessons[1];
        assert_eq!(l.title, "Select");
        assert_eq!(l.bin(Variant::Fixed), "lesson-05-fixed");
        assert_eq!(l.scenarios[0].broken.outcome, Outcome::Hangs);
        assert_eq!(l.scenarios[0].fixed.facts[0].min, Some(0.8));
        assert_eq!(l.quiet_ms, 2_000);
    }

    #[test]
    fn lesson_ids_are_forgiving() {
        let ws = workspace();
        for q in [
            "lesson-05",
            "lesson-5",
            "lesson5",
            "05",
            "5",
            "Lesson-05",
            "lesson-05-topic",
        ] {
            assert_eq!(ws.find(q).unwrap().id, "lesson-05", "query {q}");
        }
    }

    #[test]
    fn an_unknown_lesson_lists_the_lessons_and_the_nearest() {
        let ws = workspace();
        let err = ws.find("lesson-99").unwrap_err().0;
        assert!(err.contains("lesson-01 (Futures)"), "{err}");
        assert!(err.contains("Did you mean lesson-05?"), "{err}");
        assert_eq!(err.lines().count(), 1);
        let err = ws.find("lesson-o1").unwrap_err().0;
        assert!(err.contains("Did you mean lesson-01?"), "{err}");
        assert!(ws.find("555").is_err());
    }

    #[test]
    fn a_bad_manifest_names_its_file_and_what_is_missing() {
        let mut broken = lesson_meta("x");
        broken["scenario"][0]["fixed"]["outcome"] = json!("explodes");
        let meta = json!({
            "workspace_root": "/ws", "target_directory": "/ws/target",
            "packages": [package("lesson-02", broken)],
        });
        let err = Workspace::from_metadata(&meta).err().unwrap().0;
        assert!(
            err.contains("/ws/lessons/lesson-02-topic/Cargo.toml"),
            "{err}"
        );
        assert!(err.contains("unknown outcome 'explodes'"), "{err}");

        let mut no_panic_text = lesson_meta("x");
        no_panic_text["scenario"][0]["broken"]["outcome"] = json!("panics");
        let meta = json!({
            "workspace_root": "/ws", "target_directory": "/ws/target",
            "packages": [package("lesson-03", no_panic_text)],
        });
        let err = Workspace::from_metadata(&meta).err().unwrap().0;
        assert!(err.contains("broken.panic"), "{err}");
    }

    #[test]
    fn bounds_are_inclusive_and_described_plainly() {
        let b = Bound {
            name: "ratio".into(),
            min: Some(0.8),
            max: None,
        };
        assert!(b.holds(0.8) && b.holds(5.0) && !b.holds(0.79));
        assert_eq!(b.describe(), "ratio ≥ 0.8");
        let exact = Bound {
            name: "polls".into(),
            min: Some(14.0),
            max: Some(14.0),
        };
        assert_eq!(exact.describe(), "polls = 14");
        assert!(!exact.holds(13.0) && !exact.holds(15.0));
    }
}
