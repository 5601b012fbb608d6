//! Diagnoses: a known wrong fix of an exercise, recognised by a pattern in
//! what was measured on it, and named in a sentence for the learner.
//!
//! ```toml
//! [[package.metadata.lesson.exercise.diagnosis]]
//! id = "timer-remade"                                   # short, for tables
//! when = ["report_ratio <= 0.1", "polls_per_item >= 2"] # all must hold
//! say = "The timer is made again on every turn ..."
//! ```
//!
//! or `panic = "there is no reactor running"` (a piece of the panic
//! message) instead of `when`. With `hangs = true`, a `when` pattern
//! matches only a run that hung (its facts are those reported as they grew). A condition is `fact op number`, with `op`
//! one of `<`, `<=`, `>`, `>=`, `=`. The fact is looked up in one scenario
//! at a time: a `when` pattern matches when every condition holds on the
//! facts of one scenario of the exercise (or of `scenario = "name"` only,
//! when the diagnosis names one). Only a scenario judged ✘ is looked at,
//! and a `when` pattern only in a run that completed or hung.

use super::{Bound, Lesson, Outcome, Scenario};

/// How a condition compares a fact with its number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compare {
    Less,
    AtMost,
    Greater,
    AtLeast,
    Equal,
}

impl Compare {
    fn symbol(self) -> &'static str {
        match self {
            Compare::Less => "<",
            Compare::AtMost => "<=",
            Compare::Greater => ">",
            Compare::AtLeast => ">=",
            Compare::Equal => "=",
        }
    }
}

/// `report_ratio <= 0.1`.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    pub fact: String,
    pub compare: Compare,
    pub value: f64,
}

impl Condition {
    /// Reads `fact op number`; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<Condition, String> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let [fact, op, number] = words[..] else {
            return Err(format!(
                "'{text}' is not a comparison: write `fact op number`, with spaces, e.g. \"polls >= 2\""
            ));
        };
        let compare = match op {
            "<" => Compare::Less,
            "<=" => Compare::AtMost,
            ">" => Compare::Greater,
            ">=" => Compare::AtLeast,
            "=" | "==" => Compare::Equal,
            _ => {
                return Err(format!(
                    "'{text}': '{op}' is not a comparison (use <, <=, >, >= or =)"
                ));
            }
        };
        let value: f64 = number
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| format!("'{text}': '{number}' is not a finite number"))?;
        if !fact.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("'{text}': '{fact}' is not a fact's name"));
        }
        Ok(Condition {
            fact: fact.to_string(),
            compare,
            value,
        })
    }

    /// Whether a measured value satisfies it. Not-a-number never does.
    pub fn holds(&self, v: f64) -> bool {
        match self.compare {
            Compare::Less => v < self.value,
            Compare::AtMost => v <= self.value,
            Compare::Greater => v > self.value,
            Compare::AtLeast => v >= self.value,
            Compare::Equal => v == self.value,
        }
    }

    /// Whether it holds on the facts of one run; a fact not reported does
    /// not satisfy it.
    pub fn holds_on(&self, facts: &[(String, f64)]) -> bool {
        facts
            .iter()
            .find(|(n, _)| *n == self.fact)
            .is_some_and(|(_, v)| self.holds(*v))
    }

    pub fn describe(&self) -> String {
        format!("{} {} {}", self.fact, self.compare.symbol(), self.value)
    }

    /// The condition that holds exactly where this one does not (for a
    /// number); `None` for `=`, whose opposite is not an interval.
    pub fn opposite(&self) -> Option<Condition> {
        let compare = match self.compare {
            Compare::Less => Compare::AtLeast,
            Compare::AtMost => Compare::Greater,
            Compare::Greater => Compare::AtMost,
            Compare::AtLeast => Compare::Less,
            Compare::Equal => return None,
        };
        Some(Condition {
            compare,
            ..self.clone()
        })
    }
}

/// What a diagnosis recognises.
#[derive(Clone, Debug, PartialEq)]
pub enum Pattern {
    /// Every condition holds on the facts of one scenario.
    Facts(Vec<Condition>),
    /// The run panicked with a message containing this piece.
    Panic(String),
}

/// A known wrong fix and what to say about it.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnosis {
    /// Short, for the fixtures table: `timer-remade`.
    pub id: String,
    /// Looked for only in this scenario; `None`: in any of the exercise's.
    pub scenario: Option<String>,
    pub pattern: Pattern,
    /// Matches only a run that hung.
    pub hangs: bool,
    /// The sentence for the learner: what their program does wrong, as a
    /// hint, never the code of the fix.
    pub say: String,
}

impl Diagnosis {
    /// Whether a fix of `scenario` (a run within its fixed claim) could
    /// show this pattern: if it could, the diagnosis could blame a correct
    /// program whenever another of its scenarios fails.
    pub fn fits_a_fix_of(&self, scenario: &Scenario) -> bool {
        if self.scenario.as_ref().is_some_and(|s| *s != scenario.name) {
            return false;
        }
        if self.hangs && scenario.fixed.outcome != Outcome::Hangs {
            return false;
        }
        match &self.pattern {
            Pattern::Panic(_) => matches!(scenario.fixed.outcome, Outcome::Panics(_)),
            Pattern::Facts(conditions) => conditions.iter().all(|c| {
                let bound = scenario.fixed.facts.iter().find(|b| b.name == c.fact);
                // Every condition on this fact, together with the fix's bound.
                let mut range = Range::of(bound);
                for other in conditions.iter().filter(|o| o.fact == c.fact) {
                    range = range.and(other);
                }
                !range.is_empty()
            }),
        }
    }
}

/// An interval of values, each end open or closed.
#[derive(Clone, Copy)]
pub(super) struct Range {
    lo: f64,
    lo_open: bool,
    hi: f64,
    hi_open: bool,
}

impl Range {
    pub(super) fn of(bound: Option<&Bound>) -> Range {
        Range {
            lo: bound.and_then(|b| b.min).unwrap_or(f64::NEG_INFINITY),
            lo_open: false,
            hi: bound.and_then(|b| b.max).unwrap_or(f64::INFINITY),
            hi_open: false,
        }
    }

    pub(super) fn and(mut self, c: &Condition) -> Range {
        let v = c.value;
        let raise = |r: &mut Range, open: bool| {
            if v > r.lo || (v == r.lo && open) {
                r.lo = v;
                r.lo_open = open;
            }
        };
        let lower = |r: &mut Range, open: bool| {
            if v < r.hi || (v == r.hi && open) {
                r.hi = v;
                r.hi_open = open;
            }
        };
        match c.compare {
            Compare::Less => lower(&mut self, true),
            Compare::AtMost => lower(&mut self, false),
            Compare::Greater => raise(&mut self, true),
            Compare::AtLeast => raise(&mut self, false),
            Compare::Equal => {
                raise(&mut self, false);
                lower(&mut self, false);
            }
        }
        self
    }

    pub(super) fn is_empty(&self) -> bool {
        self.lo > self.hi || (self.lo == self.hi && (self.lo_open || self.hi_open))
    }
}

impl Lesson {
    /// Each diagnosis that a fix could show (see
    /// [`Diagnosis::fits_a_fix_of`]), as `exercise/id in scenario`. A
    /// lesson's tests assert there are none.
    pub fn diagnoses_that_fit_a_fix(&self) -> Vec<String> {
        let mut found = Vec::new();
        for ex in &self.exercises {
            for d in &ex.diagnoses {
                for name in &ex.scenarios {
                    if let Some(s) = self.scenario(name)
                        && d.fits_a_fix_of(s)
                    {
                        found.push(format!("{}/{} in scenario {name}", ex.name, d.id));
                    }
                }
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::manifest::Expect;

    #[test]
    fn conditions_are_read_and_bad_ones_say_why() {
        let c = Condition::parse("report_ratio <= 0.1").unwrap();
        assert_eq!(c.fact, "report_ratio");
        assert_eq!(c.compare, Compare::AtMost);
        assert!(c.holds(0.1) && !c.holds(0.11) && !c.holds(f64::NAN));
        assert_eq!(c.describe(), "report_ratio <= 0.1");
        assert!(
            Condition::parse("polls>=2")
                .unwrap_err()
                .contains("not a comparison")
        );
        assert!(
            Condition::parse("polls => 2")
                .unwrap_err()
                .contains("'=>' is not a comparison")
        );
        assert!(
            Condition::parse("polls >= many")
                .unwrap_err()
                .contains("not a finite number")
        );
        assert!(Condition::parse("polls >= inf").is_err());
    }

    fn scenario(fixed: Vec<Bound>) -> Scenario {
        let expect = |facts| Expect {
            outcome: Outcome::Completes,
            claim: "c".into(),
            facts,
            needs_cores: 1,
        };
        Scenario {
            name: "main".into(),
            summary: "s".into(),
            deadline_ms: None,
            broken: expect(vec![]),
            fixed: expect(fixed),
            live_facts: vec![],
            prediction: None,
        }
    }

    fn when(conditions: &[&str]) -> Diagnosis {
        Diagnosis {
            id: "d".into(),
            scenario: None,
            pattern: Pattern::Facts(
                conditions
                    .iter()
                    .map(|c| Condition::parse(c).unwrap())
                    .collect(),
            ),
            hangs: false,
            say: "s".into(),
        }
    }

    #[test]
    fn a_pattern_that_a_fix_could_show_is_found() {
        let s = scenario(vec![Bound {
            name: "ratio".into(),
            min: Some(0.8),
            max: Some(1.2),
            timing: true,
        }]);
        assert!(!when(&["ratio <= 0.1"]).fits_a_fix_of(&s));
        assert!(!when(&["ratio > 1.2"]).fits_a_fix_of(&s), "an open end");
        assert!(when(&["ratio >= 1.2"]).fits_a_fix_of(&s), "1.2 is a fix");
        assert!(
            when(&["polls >= 2"]).fits_a_fix_of(&s),
            "the fix does not bound polls"
        );
        assert!(!when(&["polls >= 2", "ratio < 0.5"]).fits_a_fix_of(&s));
        assert!(
            !when(&["polls >= 3", "polls <= 2"]).fits_a_fix_of(&s),
            "no value meets both"
        );
        let mut elsewhere = when(&["polls >= 2"]);
        elsewhere.scenario = Some("other".into());
        assert!(!elsewhere.fits_a_fix_of(&s));
        let mut hung = when(&["polls >= 2"]);
        hung.hangs = true;
        assert!(!hung.fits_a_fix_of(&s), "a fix completes");
        let panic = Diagnosis {
            pattern: Pattern::Panic("no reactor".into()),
            ..when(&[])
        };
        assert!(!panic.fits_a_fix_of(&s), "a fix completes");
    }
}
