//! Predictions: a question about a scenario's broken program that the
//! learner answers before they see it run.
//!
//! ```toml
//! [package.metadata.lesson.scenario.predict]
//! question = "What will the worker do while numbers keep arriving?"
//! timeline = "In the timeline, look for ... "   # where the run shows it
//!
//! [[package.metadata.lesson.scenario.predict.answer]]
//! say = "It reports every 100 ms, as it was asked to."
//! why = "The sleep is made anew on every turn of the loop, so ..."
//! when = ["report_ratio >= 0.8"]
//!
//! [[package.metadata.lesson.scenario.predict.answer]]
//! say = "It never reports while numbers keep coming."
//! why = "..."
//! right = true
//! when = ["report_ratio <= 0.1"]
//! ```
//!
//! Each answer says how a run would show it: `when` conditions on the
//! scenario's facts (a run that completed), `hangs = true` (with or
//! without conditions), or `panic = "a piece of the message"`. The
//! manifest is checked with them: the right answer must follow from the
//! broken claim (its outcome, and each condition from the broken bound on
//! that fact), and every other answer must contradict it (another outcome,
//! or a condition no value within the broken bounds meets). So a
//! prediction cannot say one thing while the lesson claims another.

use super::diagnosis::Range;
use super::{Condition, Expect, Outcome};
use crate::contract::grade::{Judgement, Observed};

/// How a run would show an answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Shows {
    /// It completes, and every condition holds on its facts.
    Completes(Vec<Condition>),
    /// It hangs, and every condition holds on the facts it reported.
    Hangs(Vec<Condition>),
    /// It panics with a message containing this piece.
    Panics(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    /// The answer, as the learner reads it.
    pub say: String,
    /// Why it is what happens, or why it is not.
    pub why: String,
    pub right: bool,
    pub shows: Shows,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    pub question: String,
    /// Where in the run's timeline the answer can be seen.
    pub timeline: String,
    /// Wrong descriptions of that timeline, for a quiz question that asks
    /// what it shows (none: no such question).
    pub timeline_wrong: Vec<String>,
    /// Three or four, one of them right.
    pub answers: Vec<Answer>,
}

impl Prediction {
    /// The right answer, and its index.
    pub fn right(&self) -> (usize, &Answer) {
        self.answers
            .iter()
            .enumerate()
            .find(|(_, a)| a.right)
            .expect("a prediction read from a manifest has a right answer")
    }

    /// The answers a run showed (those whose outcome and conditions it
    /// met), by index.
    pub fn shown_by(&self, j: &Judgement) -> Vec<usize> {
        self.answers
            .iter()
            .enumerate()
            .filter(|(_, a)| a.shows.shown_by(&j.observed, &j.facts))
            .map(|(i, _)| i)
            .collect()
    }
}

/// The letter a learner presses for answer `i`: `a`, `b`, ...
pub fn letter(i: usize) -> char {
    (b'a' + i as u8) as char
}

impl Shows {
    fn conditions(&self) -> &[Condition] {
        match self {
            Shows::Completes(c) | Shows::Hangs(c) => c,
            Shows::Panics(_) => &[],
        }
    }

    /// Whether a run that ended so, with these facts, shows it.
    pub fn shown_by(&self, observed: &Observed, facts: &[(String, f64)]) -> bool {
        let holds = |c: &[Condition]| c.iter().all(|c| c.holds_on(facts));
        match (self, observed) {
            (Shows::Completes(c), Observed::Completes) => holds(c),
            (Shows::Hangs(c), Observed::Hangs { .. }) => holds(c),
            (Shows::Panics(piece), Observed::Panics(message)) => message.contains(piece.as_str()),
            _ => false,
        }
    }

    /// Why a run within `broken` (its outcome, and every fact within its
    /// bounds) need not show this answer; `None` when every such run does.
    pub fn not_implied_by(&self, broken: &Expect) -> Option<String> {
        match (self, &broken.outcome) {
            (Shows::Completes(_), Outcome::Completes) | (Shows::Hangs(_), Outcome::Hangs) => {}
            (Shows::Panics(piece), Outcome::Panics(fragment)) => {
                return (!fragment.contains(piece.as_str())).then(|| {
                    format!("the broken claim's panic \"{fragment}\" does not contain \"{piece}\"")
                });
            }
            (_, outcome) => {
                return Some(format!(
                    "the broken claim's outcome is {}",
                    outcome.describe()
                ));
            }
        }
        for c in self.conditions() {
            let bound = broken.facts.iter().find(|b| b.name == c.fact);
            let Some(bound) = bound else {
                return Some(format!(
                    "the broken claim does not bound {}, so it cannot promise {}",
                    c.fact,
                    c.describe()
                ));
            };
            // Every value within the bound must meet the condition: the
            // bound's range and the condition's opposite have nothing in
            // common (for `=`, the bound is that one value).
            let implied = match c.opposite() {
                Some(opposite) => Range::of(Some(bound)).and(&opposite).is_empty(),
                None => bound.min == Some(c.value) && bound.max == Some(c.value),
            };
            if !implied {
                return Some(format!(
                    "the broken claim bounds {} but does not promise {}",
                    bound.describe(),
                    c.describe()
                ));
            }
        }
        None
    }

    /// Whether no run within `broken` can show this answer.
    pub fn refuted_by(&self, broken: &Expect) -> bool {
        let same_outcome = match (self, &broken.outcome) {
            (Shows::Completes(_), Outcome::Completes) | (Shows::Hangs(_), Outcome::Hangs) => true,
            (Shows::Panics(piece), Outcome::Panics(fragment)) => {
                fragment.contains(piece.as_str()) || piece.contains(fragment.as_str())
            }
            _ => false,
        };
        !same_outcome
            || self.conditions().iter().any(|c| {
                let bound = broken.facts.iter().find(|b| b.name == c.fact);
                bound.is_some() && Range::of(bound).and(c).is_empty()
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::manifest::Bound;

    fn broken(outcome: Outcome, facts: Vec<Bound>) -> Expect {
        Expect {
            outcome,
            claim: "c".into(),
            facts,
            needs_cores: 1,
        }
    }

    fn bound(name: &str, min: Option<f64>, max: Option<f64>) -> Bound {
        Bound {
            name: name.into(),
            min,
            max,
            timing: false,
        }
    }

    fn when(conditions: &[&str]) -> Shows {
        Shows::Completes(
            conditions
                .iter()
                .map(|c| Condition::parse(c).unwrap())
                .collect(),
        )
    }

    #[test]
    fn the_right_answer_must_follow_from_the_broken_claim() {
        let claim = broken(
            Outcome::Completes,
            vec![bound("report_ratio", None, Some(0.05))],
        );
        assert_eq!(when(&["report_ratio <= 0.1"]).not_implied_by(&claim), None);
        assert_eq!(
            when(&["report_ratio < 0.05"])
                .not_implied_by(&claim)
                .map(|_| ()),
            Some(()),
            "0.05 itself is within the bound"
        );
        assert!(
            when(&["report_ratio >= 0"])
                .not_implied_by(&claim)
                .is_some(),
            "the bound has no lower end"
        );
        assert!(
            when(&["polls >= 2"])
                .not_implied_by(&claim)
                .unwrap()
                .contains("does not bound polls")
        );
        assert!(
            Shows::Hangs(vec![])
                .not_implied_by(&claim)
                .unwrap()
                .contains("outcome is completes")
        );
        let panics = broken(Outcome::Panics("no reactor running".into()), vec![]);
        assert_eq!(
            Shows::Panics("no reactor".into()).not_implied_by(&panics),
            None
        );
        assert!(
            Shows::Panics("overflow".into())
                .not_implied_by(&panics)
                .is_some()
        );
    }

    #[test]
    fn a_wrong_answer_must_contradict_the_broken_claim() {
        let claim = broken(
            Outcome::Completes,
            vec![bound("report_ratio", None, Some(0.05))],
        );
        assert!(when(&["report_ratio >= 0.8"]).refuted_by(&claim));
        assert!(
            !when(&["report_ratio >= 0.05"]).refuted_by(&claim),
            "0.05 is within the bound"
        );
        assert!(
            !when(&["polls >= 2"]).refuted_by(&claim),
            "the claim says nothing of polls"
        );
        assert!(Shows::Hangs(vec![]).refuted_by(&claim));
        assert!(Shows::Panics("x".into()).refuted_by(&claim));
        assert!(!when(&[]).refuted_by(&claim), "it does complete");
    }

    #[test]
    fn a_run_shows_the_answers_it_meets() {
        let facts = vec![("report_ratio".to_string(), 0.0)];
        assert!(when(&["report_ratio <= 0.1"]).shown_by(&Observed::Completes, &facts));
        assert!(!when(&["report_ratio >= 0.8"]).shown_by(&Observed::Completes, &facts));
        assert!(!Shows::Panics("x".into()).shown_by(&Observed::Completes, &facts));
        assert!(
            Shows::Panics("no reactor".into())
                .shown_by(&Observed::Panics("there is no reactor running".into()), &[])
        );
        assert_eq!(letter(0), 'a');
        assert_eq!(letter(3), 'd');
    }
}
