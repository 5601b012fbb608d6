//! One way a run differs from its claim, said tersely for tables and
//! plainly for a learner.

use super::Observed;
use super::observed::first_line;
use crate::contract::manifest::{Bound, Outcome};
use crate::view::number::{format_beside, format_value};

/// One way a run differs from its claim.
#[derive(Clone, Debug, PartialEq)]
pub enum Problem {
    /// It ended the wrong way.
    Outcome {
        expected: Outcome,
        observed: Observed,
    },
    /// A bounded fact was never measured.
    Missing { fact: String },
    /// A fact outside its bounds (or not a number).
    OutOfBounds { bound: Bound, value: f64 },
}

impl Problem {
    /// For the check table: `report_ratio = 0, expected in 0.8..1.2`.
    pub fn terse(&self) -> String {
        match self {
            Problem::Outcome { expected, observed } => match (expected, observed) {
                (Outcome::Panics(fragment), Observed::Panics(message)) => format!(
                    "it panicked with \"{}\", which does not contain the expected \"{fragment}\"",
                    first_line(message)
                ),
                _ => format!(
                    "expected it to {}, but it {}",
                    expected.infinitive(),
                    observed.describe()
                ),
            },
            Problem::Missing { fact } => format!("fact {fact} was not reported"),
            Problem::OutOfBounds { bound, value } => format!(
                "{} = {}, expected {}",
                bound.name,
                format_beside(*value, &bound.limits()),
                bound.range()
            ),
        }
    }

    /// For a learner, about their program, with what the fact means:
    /// `reports fired over reports due: 0; a fix gives 0.8 to 1.2`.
    pub fn plain(&self, meaning: impl Fn(&str) -> Option<String>) -> String {
        match self {
            Problem::Outcome { expected, observed } => match (expected, observed) {
                (_, Observed::Hangs { .. }) => format!(
                    "your program {}; a fix {}",
                    observed.describe(),
                    expected.describe()
                ),
                (_, Observed::Panics(m)) => format!(
                    "your program panicked: \"{}\"; a fix {}",
                    first_line(m),
                    expected.describe()
                ),
                (Outcome::Completes, Observed::Fails(why)) => {
                    format!("your program failed ({why}); a fix completes")
                }
                _ => format!(
                    "your program {}; a fix {}",
                    observed.describe(),
                    expected.describe()
                ),
            },
            Problem::Missing { fact } => format!(
                "{fact} was never measured (did the program stop before the harness could measure it?)"
            ),
            Problem::OutOfBounds { bound, value } => {
                let what = meaning(&bound.name).unwrap_or_else(|| bound.name.clone());
                let wanted = wanted(bound);
                if value.is_nan() {
                    format!(
                        "{what} ({}) is not a number; a fix gives {wanted}",
                        bound.name
                    )
                } else {
                    format!(
                        "{what} ({}) is {}; a fix gives {wanted}",
                        bound.name,
                        format_beside(*value, &bound.limits())
                    )
                }
            }
        }
    }
}

/// What a fix gives, in words: "0.8 to 1.2", "at least 2", "0".
pub fn wanted(bound: &Bound) -> String {
    match (bound.min, bound.max) {
        (Some(a), Some(b)) if a == b => format_value(a),
        (Some(a), Some(b)) => format!("{} to {}", format_value(a), format_value(b)),
        (Some(a), None) => format!("at least {}", format_value(a)),
        (None, Some(0.0)) => "0".into(),
        (None, Some(b)) => format!("at most {}", format_value(b)),
        (None, None) => "any value".into(),
    }
}
