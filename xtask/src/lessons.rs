//! Finding the lessons: `cargo metadata` and each lesson's
//! `[package.metadata.lesson]`, read strictly by `shared::contract::manifest`. Nothing
//! here lists lessons by hand.

use crate::Failure;
pub use shared::contract::manifest::{Exercise, Expect, Lesson, Scenario};
use std::path::PathBuf;

/// Which side of a lesson a run shows: the kit's [`shared::lesson::Variant`],
/// naming an exercise read at run time.
pub type Variant = shared::lesson::Variant<String>;

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
        let dir = std::env::current_dir()
            .map_err(|e| Failure::new(format!("cannot read the current folder: {e}")))?;
        let meta = shared::contract::manifest::Metadata::load(&dir).map_err(Failure::new)?;
        Ok(Workspace {
            root: meta.root,
            target_dir: meta.target_dir,
            lessons: meta.lessons,
        })
    }

    /// Finds a lesson by its id (`lesson-05`), its number with or without
    /// the prefix and leading zeros (`lesson-5`, `05`, `5`), or its folder
    /// name (`lesson-05-select-pinned-sleep`). Nothing else: `5x` is not 5.
    pub fn find(&self, query: &str) -> Result<&Lesson, Failure> {
        // An id is one short word: `5\n` or a pasted paragraph is not one.
        let q = query.to_lowercase();
        let digits = q
            .strip_prefix("lesson")
            .map(|rest| rest.strip_prefix(['-', '_']).unwrap_or(rest))
            .unwrap_or(&q);
        let number: Option<u32> = if !digits.is_empty()
            && digits.len() <= 3
            && digits.chars().all(|c| c.is_ascii_digit())
        {
            digits.parse().ok()
        } else {
            None
        };
        let found = self.lessons.iter().find(|l| {
            let dir = l.dir.file_name().and_then(|d| d.to_str()).unwrap_or("");
            l.id == q || dir == q || number == Some(l.number)
        });
        match found {
            Some(l) => Ok(l),
            None => Err(Failure::new(self.unknown(query, number))),
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
            format!(
                "no lesson {}: this workspace has no lessons yet",
                crate::shown(query)
            )
        } else {
            format!(
                "no lesson {}. The lessons are: {list}.{hint}",
                crate::shown(query)
            )
        }
    }
}

/// The scenario `name` of `lesson`, or a one-line error listing them.
pub fn find_scenario<'a>(lesson: &'a Lesson, name: &str) -> Result<&'a Scenario, Failure> {
    lesson.scenario(name).ok_or_else(|| {
        let names: Vec<&str> = lesson.scenarios.iter().map(|s| s.name.as_str()).collect();
        Failure::new(format!(
            "{} has no scenario {}; its scenarios are: {}",
            lesson.id,
            crate::shown(name),
            names.join(", ")
        ))
    })
}

/// The exercise `name` of `lesson`, or a one-line error listing them.
pub fn find_exercise<'a>(lesson: &'a Lesson, name: &str) -> Result<&'a Exercise, Failure> {
    lesson.exercise(name).ok_or_else(|| {
        let names: Vec<&str> = lesson.exercises.iter().map(|e| e.name.as_str()).collect();
        Failure::new(if names.is_empty() {
            format!("{} has no exercises", lesson.id)
        } else {
            format!(
                "{} has no exercise {}; its exercises are: {}",
                lesson.id,
                crate::shown(name),
                names.join(", ")
            )
        })
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn package(name: &str) -> Value {
        json!({
            "name": name,
            "manifest_path": format!("/ws/lessons/{name}-topic/Cargo.toml"),
            "targets": [
                {"kind": ["bin"], "name": format!("{name}-broken")},
                {"kind": ["bin"], "name": format!("{name}-fixed")},
            ],
            "metadata": {"lesson": {
                "title": name.to_uppercase(),
                "idea": "an idea",
                "chapter": "ch.md",
                "scenario": [{
                    "name": "main",
                    "summary": "s",
                    "broken": {"outcome": "hangs", "claim": "it hangs"},
                    "fixed": {"outcome": "completes", "claim": "it ends"},
                }],
            }},
        })
    }

    fn workspace() -> Workspace {
        let meta = json!({
            "workspace_root": "/ws",
            "target_directory": "/ws/target",
            "packages": [
                package("lesson-05"),
                {"name": "shared", "manifest_path": "/ws/shared/Cargo.toml", "targets": [], "metadata": null},
                package("lesson-01"),
            ],
        });
        let m = shared::contract::manifest::Metadata::from_json(&meta).unwrap();
        Workspace {
            root: m.root,
            target_dir: m.target_dir,
            lessons: m.lessons,
        }
    }

    #[test]
    fn lessons_come_from_package_metadata_in_number_order() {
        let ws = workspace();
        let ids: Vec<_> = ws.lessons.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(ids, ["lesson-01", "lesson-05"]);
    }

    #[test]
    fn every_scenario_asks_a_prediction_before_its_broken_run() {
        let ws = Workspace::load().expect("cargo metadata works in tests");
        let missing: Vec<String> = ws
            .lessons
            .iter()
            .flat_map(|l| {
                l.scenarios
                    .iter()
                    .filter(|s| s.prediction.is_none())
                    .map(move |s| format!("{} {}", l.id, s.name))
            })
            .collect();
        assert!(missing.is_empty(), "no prediction: {missing:?}");
        // And every chapter's quiz asks what a broken run's timeline shows.
        let silent: Vec<&str> = ws
            .lessons
            .iter()
            .filter(|l| {
                !l.scenarios.iter().any(|s| {
                    s.prediction
                        .as_ref()
                        .is_some_and(|p| !p.timeline_wrong.is_empty())
                })
            })
            .map(|l| l.id.as_str())
            .collect();
        assert!(
            silent.is_empty(),
            "no question about a broken run's timeline (timeline_wrong): {silent:?}"
        );
    }

    #[test]
    fn lesson_ids_are_forgiving_about_form() {
        let ws = workspace();
        for q in [
            "lesson-05",
            "lesson-5",
            "lesson5",
            "lesson_05",
            "05",
            "5",
            "005",
            "Lesson-05",
            "lesson-05-topic",
        ] {
            assert_eq!(ws.find(q).unwrap().id, "lesson-05", "query {q}");
        }
    }

    #[test]
    fn lesson_ids_are_strict_about_content() {
        let ws = workspace();
        for q in [
            "1x",
            "05a",
            "5.0",
            "lesson-5x",
            "lesson--5",
            "-5",
            "",
            "five",
            "5\n",
            " 5",
        ] {
            assert!(ws.find(q).is_err(), "accepted {q:?}");
        }
    }

    #[test]
    fn an_unknown_lesson_lists_the_lessons_and_the_nearest() {
        let ws = workspace();
        let err = ws.find("lesson-99").unwrap_err().to_string();
        assert!(err.contains("lesson-01 (LESSON-01)"), "{err}");
        assert!(err.contains("Did you mean lesson-05?"), "{err}");
        assert_eq!(err.lines().count(), 1);
        let err = ws.find("lesson-o1").unwrap_err().to_string();
        assert!(err.contains("Did you mean lesson-01?"), "{err}");
    }

    #[test]
    fn the_exercise_is_judged_by_the_fixed_claim() {
        let ws = workspace();
        let s = &ws.lessons[0].scenarios[0];
        assert_eq!(
            s.claim_for(&Variant::Exercise("main".into())).claim,
            s.fixed.claim
        );
        assert_eq!(
            ws.lessons[0].bin_for(&Variant::Exercise("main".into())),
            "lesson-01-exercise-main"
        );
    }
}
