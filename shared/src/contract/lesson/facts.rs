//! What a scenario measures: its [`Spec`] (the facts it declares, each
//! with what it means) and the [`Facts`] its harness writes into. Facts
//! come only from a harness: the code under judgement never gets a
//! [`Facts`] to write into.

use super::{Piece, Runnable};
use crate::record::recorder::global;
use std::sync::Mutex;

/// One fact a scenario measures, and what it means in plain words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FactSpec {
    pub name: &'static str,
    pub meaning: &'static str,
    /// Measured in time (a ratio to the ideal), so a busy machine can push
    /// it past its bound: a miss is measured again before it counts.
    pub timing: bool,
    /// Reported as it grows (a count that a hanging program never
    /// finishes), so it may be set many times; the last value counts. Any
    /// other fact is set once, and a second value is an error.
    pub live: bool,
}

/// Declares a fact: `fact("report_ratio", "reports fired over reports due")`.
/// It is set once; see [`FactSpec::timing`] and [`FactSpec::live`].
pub const fn fact(name: &'static str, meaning: &'static str) -> FactSpec {
    FactSpec {
        name,
        meaning,
        timing: false,
        live: false,
    }
}

impl FactSpec {
    /// Marks a fact measured in time, which a busy machine can spoil.
    pub const fn timing(mut self) -> FactSpec {
        self.timing = true;
        self
    }

    /// Marks a fact reported as it grows.
    pub const fn live(mut self) -> FactSpec {
        self.live = true;
        self
    }
}

/// A scenario as its code declares it: its name and every fact its harness
/// measures. The manifest may bound only these facts.
#[derive(Debug, PartialEq, Eq)]
pub struct Spec {
    pub name: &'static str,
    pub facts: &'static [FactSpec],
}

impl Spec {
    /// The scenario with the pieces a binary hands it.
    pub fn with<'a>(&'static self, pieces: Vec<Piece<'a>>) -> Runnable<'a> {
        Runnable { spec: self, pieces }
    }

    pub fn meaning(&self, fact: &str) -> Option<&'static str> {
        self.facts
            .iter()
            .find(|f| f.name == fact)
            .map(|f| f.meaning)
    }
}

/// Where a harness writes what it measured. Made by [`main`] for each run
/// (or by a test with [`Facts::for_test`]), never by the code under
/// judgement. Clones share one set of facts, so a harness can hand one to
/// a task or a thread that reports as it goes.
#[derive(Debug, Clone)]
pub struct Facts {
    inner: std::sync::Arc<FactsInner>,
}

#[derive(Debug)]
struct FactsInner {
    spec: &'static Spec,
    yours: bool,
    live: bool,
    values: Mutex<Vec<(&'static str, f64)>>,
    skipped: Mutex<Option<String>>,
}

impl Facts {
    pub(super) fn new(spec: &'static Spec, yours: bool, live: bool) -> Facts {
        Facts {
            inner: std::sync::Arc::new(FactsInner {
                spec,
                yours,
                live,
                values: Mutex::new(Vec::new()),
                skipped: Mutex::new(None),
            }),
        }
    }

    /// Facts that only collect, for a test that runs a harness in process.
    pub fn for_test(spec: &'static Spec) -> Facts {
        Facts::new(spec, false, false)
    }

    pub fn spec(&self) -> &'static Spec {
        self.inner.spec
    }

    /// Records a measurement. A live fact may be set again, replacing it (a
    /// hanging program's count, reported as it grows); setting the same
    /// value again does nothing. A name the spec does not declare, or a
    /// second value for a fact that is not live, is a bug in the harness,
    /// and panics.
    pub fn set(&self, name: &str, value: impl Into<f64>) {
        let value = value.into();
        let Some(declared) = self.inner.spec.facts.iter().find(|f| f.name == name) else {
            panic!(
                "harness bug: scenario {} does not declare a fact named {name}",
                self.inner.spec.name
            );
        };
        {
            let mut values = self.inner.values.lock().unwrap_or_else(|e| e.into_inner());
            match values.iter_mut().find(|(n, _)| *n == declared.name) {
                // The same value again is not news: it must not look like
                // progress to the watchdog.
                Some(slot) if slot.1 == value || (slot.1.is_nan() && value.is_nan()) => return,
                Some(slot) if declared.live => slot.1 = value,
                Some(slot) => panic!(
                    "harness bug: scenario {} sets fact {} twice ({} and then {value}); declare it `.live()` if it grows as it is measured",
                    self.inner.spec.name, declared.name, slot.1
                ),
                None => values.push((declared.name, value)),
            }
        }
        if self.inner.live {
            global().fact(declared.name, value);
        }
    }

    pub fn get(&self, name: &str) -> Option<f64> {
        self.inner
            .values
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    }

    /// Says the claim cannot be measured on this machine, and why. The
    /// runner shows it as skipped: neither passed nor failed.
    pub fn skip(&self, reason: impl Into<String>) {
        let reason = reason.into();
        if self.inner.live {
            global().skip(&reason);
        }
        *self.inner.skipped.lock().unwrap_or_else(|e| e.into_inner()) = Some(reason);
    }

    pub fn skipped(&self) -> Option<String> {
        self.inner
            .skipped
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Every measurement, in the order the spec declares the facts.
    pub fn values(&self) -> Vec<(String, f64)> {
        let values = self.inner.values.lock().unwrap_or_else(|e| e.into_inner());
        self.inner
            .spec
            .facts
            .iter()
            .filter_map(|f| {
                values
                    .iter()
                    .find(|(n, _)| *n == f.name)
                    .map(|(n, v)| (n.to_string(), *v))
            })
            .collect()
    }

    /// Declared facts that were never set.
    pub fn unmeasured(&self) -> Vec<&'static str> {
        let values = self.inner.values.lock().unwrap_or_else(|e| e.into_inner());
        self.inner
            .spec
            .facts
            .iter()
            .map(|f| f.name)
            .filter(|n| !values.iter().any(|(v, _)| v == n))
            .collect()
    }

    /// "your worker" when the learner's exercise runs, "the worker"
    /// otherwise: narration is about *their* program.
    pub fn the(&self, thing: &str) -> String {
        if self.inner.yours {
            format!("your {thing}")
        } else {
            format!("the {thing}")
        }
    }

    /// [`Facts::the`], capitalised for the start of a sentence.
    #[allow(non_snake_case)]
    pub fn The(&self, thing: &str) -> String {
        if self.inner.yours {
            format!("Your {thing}")
        } else {
            format!("The {thing}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static SLEEP: Spec = Spec {
        name: "sleep",
        facts: &[fact("ratio", "elapsed over one wait")],
    };

    #[test]
    fn facts_keep_the_declared_order_and_know_what_is_missing() {
        static TWO: Spec = Spec {
            name: "two",
            facts: &[fact("a", "first"), fact("b", "second").live()],
        };
        let facts = Facts::for_test(&TWO);
        facts.set("b", 2);
        assert_eq!(facts.unmeasured(), ["a"]);
        facts.set("a", 1.5);
        facts.set("b", 3);
        assert_eq!(
            facts.values(),
            [("a".to_string(), 1.5), ("b".to_string(), 3.0)]
        );
        assert_eq!(facts.the("worker"), "the worker");
    }

    #[test]
    #[should_panic(expected = "does not declare a fact named c")]
    fn an_undeclared_fact_is_a_harness_bug() {
        Facts::for_test(&SLEEP).set("c", 1);
    }

    #[test]
    #[should_panic(expected = "sets fact ratio twice")]
    fn a_second_value_for_a_fact_that_is_not_live_is_a_harness_bug() {
        let facts = Facts::for_test(&SLEEP);
        facts.set("ratio", 1);
        facts.set("ratio", 1); // the same value again is not news
        facts.set("ratio", 2);
    }
}
