//! What a binary's code declares, printed by `--describe` for the runner,
//! which checks the lesson's manifest against it: its scenarios, the facts
//! each measures (and whether they are timing or live), and its pieces.

use super::{Spec, Variant};
use serde::{Deserialize, Serialize};

/// What a binary's code declares, printed by `--describe` for the runner,
/// which checks the manifest against it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Description {
    pub lesson: String,
    pub variant: String,
    #[serde(default)]
    pub exercise: Option<String>,
    pub scenarios: Vec<DescribedScenario>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DescribedScenario {
    pub name: String,
    pub facts: Vec<DescribedFact>,
    /// The names of its pieces (one empty name when it has one).
    pub pieces: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DescribedFact {
    pub name: String,
    pub meaning: String,
    /// See [`FactSpec::timing`].
    #[serde(default)]
    pub timing: bool,
    /// See [`FactSpec::live`].
    #[serde(default)]
    pub live: bool,
}

impl Description {
    /// The description of `specs` as one variant of `lesson`: lessons'
    /// tests use it to check their manifest against their code.
    pub fn of(lesson: &str, variant: Variant, specs: &[(&Spec, &[&str])]) -> Description {
        Description {
            lesson: lesson.into(),
            variant: variant.name().into(),
            exercise: match variant {
                Variant::Exercise(name) => Some(name.into()),
                Variant::Broken | Variant::Fixed => None,
            },
            scenarios: specs
                .iter()
                .map(|(spec, pieces)| DescribedScenario {
                    name: spec.name.into(),
                    facts: spec
                        .facts
                        .iter()
                        .map(|f| DescribedFact {
                            name: f.name.into(),
                            meaning: f.meaning.into(),
                            timing: f.timing,
                            live: f.live,
                        })
                        .collect(),
                    pieces: pieces.iter().map(|p| p.to_string()).collect(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lesson::fact;

    static SLEEP: Spec = Spec {
        name: "sleep",
        facts: &[fact("ratio", "elapsed over one wait")],
    };

    #[test]
    fn a_description_round_trips_through_json() {
        let d = Description::of(
            "lesson-06",
            Variant::Exercise("sleep"),
            &[(&SLEEP, &["yours"])],
        );
        let text = serde_json::to_string(&d).unwrap();
        let back: Description = serde_json::from_str(&text).unwrap();
        assert_eq!(back, d);
        assert_eq!(back.exercise.as_deref(), Some("sleep"));
        assert_eq!(back.scenarios[0].facts[0].meaning, "elapsed over one wait");
    }
}
