//! The frame every lesson binary runs in, and the contract between a
//! lesson's harness and the code it judges.
//!
//! A lesson's library holds, for each scenario, a [`Spec`] (its name and the
//! facts it measures, each with what it means) and a **harness**: a function
//! that runs one piece (an implementation of the code the scenario is about) and writes
//! what it measured into [`Facts`]. The broken, fixed and exercise binaries
//! are thin: each hands its pieces ([`Piece`]s) to [`main`], which
//! picks what to run from the command line, starts the recorder and the
//! watchdog, runs each piece, and prints its timeline and facts. When the
//! runner has set `LESSON_REPORT`, everything is also written there.
//!
//! Facts come only from a harness: the code under judgement never gets a
//! [`Facts`] to write into.

use crate::contract::report::{DESCRIBE_ENV, REPORT_ENV};
use crate::contract::watchdog::{self, Limits};
use crate::record::recorder::global;
use crate::view::number::format_value;
use crate::view::timeline::{CHART_WIDTH, Timeline};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::process::ExitCode;
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

/// Which side of the lesson a run shows: the bug, the cure, or the
/// learner's file for the named exercise (judged by the fixed claim). A
/// lesson binary names its exercise with a `&'static str`; the runner,
/// which reads names at run time, with a `String`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant<N = &'static str> {
    Broken,
    Fixed,
    Exercise(N),
}

impl<N> Variant<N> {
    /// The two sides every scenario has.
    pub const BOTH: [Variant<N>; 2] = [Variant::Broken, Variant::Fixed];

    pub fn name(&self) -> &'static str {
        match self {
            Variant::Broken => "broken",
            Variant::Fixed => "fixed",
            Variant::Exercise(_) => "exercise",
        }
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
    fn new(spec: &'static Spec, yours: bool, live: bool) -> Facts {
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

type Run<'a> = Box<dyn FnOnce(&Facts) + 'a>;

/// One piece: the code a scenario is about, as one binary writes it (the
/// bug, a cure, the learner's attempt), handed to the scenario's harness.
pub struct Piece<'a> {
    /// Empty when the variant has one piece; otherwise a short
    /// slug (`interval`) that names it on the command line.
    pub name: &'static str,
    note: Option<&'static str>,
    run: Run<'a>,
}

impl<'a> Piece<'a> {
    /// `run` calls the scenario's harness with this piece.
    pub fn new(name: &'static str, run: impl FnOnce(&Facts) + 'a) -> Piece<'a> {
        Piece {
            name,
            note: None,
            run: Box::new(run),
        }
    }

    /// A few words printed after the run, for the binary's own narration:
    /// what this piece does differently.
    pub fn note(mut self, text: &'static str) -> Piece<'a> {
        self.note = Some(text);
        self
    }
}

/// A scenario made runnable: its spec, and the pieces a binary runs in it.
/// (The claims about a scenario are a [`crate::contract::manifest::Scenario`].)
pub struct Runnable<'a> {
    pub spec: &'static Spec,
    pub pieces: Vec<Piece<'a>>,
}

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

/// What the command line asked for.
#[derive(Debug, PartialEq, Eq)]
enum Ask {
    Describe,
    Run(Vec<(usize, Vec<usize>)>),
}

/// Parses `args` (without the program name): `[SCENARIO [PIECE]]`.
fn select(
    program: &str,
    args: &[String],
    scenarios: &[Runnable<'_>],
) -> Result<Ask, (String, ExitCode)> {
    let names = || {
        scenarios
            .iter()
            .map(|s| s.spec.name)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let all_pieces = |i: usize| (0..scenarios[i].pieces.len()).collect::<Vec<_>>();
    let usage = format!("usage: {program} [SCENARIO [PIECE]]");
    match args {
        [] => Ok(Ask::Run(
            (0..scenarios.len()).map(|i| (i, all_pieces(i))).collect(),
        )),
        [flag] if flag == "-h" || flag == "--help" => Err((
            format!(
                "{usage}\nruns every scenario when none is named; scenarios: {}",
                names()
            ),
            ExitCode::SUCCESS,
        )),
        [flag] if flag == "--describe" => Ok(Ask::Describe),
        [name, rest @ ..] if !name.starts_with('-') && rest.len() <= 1 => {
            let Some(i) = scenarios.iter().position(|s| s.spec.name == name) else {
                return Err((
                    format!(
                        "error: {program} has no scenario '{name}'; try one of: {}",
                        names()
                    ),
                    ExitCode::from(2),
                ));
            };
            match rest.first() {
                None => Ok(Ask::Run(vec![(i, all_pieces(i))])),
                Some(piece) => {
                    let pieces = &scenarios[i].pieces;
                    match pieces.iter().position(|p| p.name == piece) {
                        Some(p) => Ok(Ask::Run(vec![(i, vec![p])])),
                        None => Err((
                            format!(
                                "error: scenario {name} of {program} has no piece '{piece}'; it has: {}",
                                pieces
                                    .iter()
                                    .map(|p| if p.name.is_empty() {
                                        "(one, unnamed)"
                                    } else {
                                        p.name
                                    })
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                            ExitCode::from(2),
                        )),
                    }
                }
            }
        }
        _ => Err((
            format!(
                "error: unexpected arguments '{}'; {usage} (scenarios: {})",
                args.join(" "),
                names()
            ),
            ExitCode::from(2),
        )),
    }
}

/// Writing to a closed pipe (`lesson-01-fixed | head`) ends the program
/// quietly, as it does any Unix tool, instead of panicking.
#[allow(unsafe_code)]
fn quiet_broken_pipes() {
    #[cfg(unix)]
    // SAFETY: restoring a signal's default disposition has no
    // preconditions.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// The message a panic was raised with.
pub(crate) fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        global().panic(&panic_text(info.payload()));
        default(info);
    }));
}

/// Runs a lesson binary: `lesson` is its id ("lesson-01").
pub fn main(lesson: &str, variant: Variant, mut scenarios: Vec<Runnable<'_>>) -> ExitCode {
    let program = match variant {
        Variant::Exercise(name) => format!("{lesson}-exercise-{name}"),
        _ => format!("{lesson}-{}", variant.name()),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let chosen = match select(&program, &args, &scenarios) {
        Ok(Ask::Describe) => {
            let specs: Vec<(&Spec, Vec<&str>)> = scenarios
                .iter()
                .map(|s| (s.spec, s.pieces.iter().map(|p| p.name).collect()))
                .collect();
            let specs: Vec<(&Spec, &[&str])> =
                specs.iter().map(|(s, p)| (*s, p.as_slice())).collect();
            let d = Description::of(lesson, variant, &specs);
            let text = serde_json::to_string(&d).expect("a description serialises");
            // The runner asks for it in a file of its own, which nothing
            // the program prints can get mixed into.
            match std::env::var_os(DESCRIBE_ENV) {
                Some(path) => {
                    if let Err(e) = std::fs::write(&path, text + "\n") {
                        eprintln!(
                            "error: cannot write the description to {}: {e}",
                            path.to_string_lossy()
                        );
                        return ExitCode::from(2);
                    }
                }
                None => println!("{text}"),
            }
            return ExitCode::SUCCESS;
        }
        Ok(Ask::Run(chosen)) => chosen,
        Err((message, code)) => {
            if code == ExitCode::SUCCESS {
                println!("{message}");
            } else {
                eprintln!("{message}");
            }
            return code;
        }
    };
    let mut sink = match std::env::var_os(REPORT_ENV) {
        Some(path) => match File::create(&path) {
            Ok(f) => Some(f),
            Err(e) => {
                eprintln!(
                    "error: cannot write the report file {}: {e}",
                    path.to_string_lossy()
                );
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    install_panic_hook();
    quiet_broken_pipes();
    // Calibrate CPU work now, so that it does not show up inside the first
    // poll of whichever task burns CPU first.
    crate::work::cpu::calibration();
    let rec = global();
    watchdog::watch(rec, Limits::from_env(Limits::DEFAULT));
    // Every (scenario, piece) to run, in order, as commands for the
    // watchdog's "not yet run" list.
    let mut order: Vec<(usize, usize)> = Vec::new();
    for (s, pieces) in &chosen {
        order.extend(pieces.iter().map(|p| (*s, *p)));
    }
    let command = |s: usize, p: usize| {
        let sc = &scenarios[s];
        let piece = sc.pieces[p].name;
        if piece.is_empty() {
            format!("{program} {}", sc.spec.name)
        } else {
            format!("{program} {} {piece}", sc.spec.name)
        }
    };
    let commands: Vec<String> = order.iter().map(|&(s, p)| command(s, p)).collect();
    let mut runs: Vec<(usize, usize, Run<'_>)> = Vec::new();
    for &(s, p) in &order {
        let run = std::mem::replace(&mut scenarios[s].pieces[p].run, Box::new(|_| {}));
        runs.push((s, p, run));
    }
    let mut code = ExitCode::SUCCESS;
    for (i, (s, p, run)) in runs.into_iter().enumerate() {
        watchdog::not_yet_run(commands[i + 1..].to_vec());
        let spec = scenarios[s].spec;
        let piece = &scenarios[s].pieces[p];
        let mut title = match variant {
            Variant::Exercise(name) => format!("your exercise {name} · scenario {}", spec.name),
            _ => format!("{program} · {}", spec.name),
        };
        if !piece.name.is_empty() {
            title.push_str(&format!(" · {}", piece.name));
        }
        println!(
            "━━ {title} {}",
            "━".repeat(70usize.saturating_sub(title.chars().count()))
        );
        rec.begin(lesson, spec.name, variant.name(), piece.name, sink.take());
        let facts = Facts::new(spec, matches!(variant, Variant::Exercise(_)), true);
        run(&facts);
        let events = rec.finish();
        let timeline = Timeline::from_events(&events);
        println!();
        print!("{}", timeline.ascii(CHART_WIDTH));
        if let Some(reason) = facts.skipped() {
            println!("Skipped on this machine: {reason}");
        } else {
            let list: Vec<String> = facts
                .values()
                .iter()
                .map(|(n, v)| format!("{n} = {}", format_value(*v)))
                .collect();
            if !list.is_empty() {
                println!("Measured: {}", list.join(", "));
            }
            let missing = facts.unmeasured();
            if !missing.is_empty() {
                eprintln!(
                    "error: the harness of scenario {} did not measure: {}",
                    spec.name,
                    missing.join(", ")
                );
                code = ExitCode::from(2);
            }
        }
        if let Some(note) = piece.note {
            println!("{note}");
        }
        println!();
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    static SLEEP: Spec = Spec {
        name: "sleep",
        facts: &[fact("ratio", "elapsed over one wait")],
    };
    static MUTEX: Spec = Spec {
        name: "mutex",
        facts: &[],
    };

    fn scenarios() -> Vec<Runnable<'static>> {
        vec![
            SLEEP.with(vec![Piece::new("", |_| {})]),
            MUTEX.with(vec![
                Piece::new("scoped", |_| {}),
                Piece::new("tokio", |_| {}),
            ]),
        ]
    }

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn no_argument_runs_every_piece_of_every_scenario_in_order() {
        let ask = select("p", &[], &scenarios()).unwrap();
        assert_eq!(ask, Ask::Run(vec![(0, vec![0]), (1, vec![0, 1])]));
    }

    #[test]
    fn a_scenario_and_a_piece_can_be_named() {
        let s = scenarios();
        assert_eq!(
            select("p", &args(&["mutex"]), &s).unwrap(),
            Ask::Run(vec![(1, vec![0, 1])])
        );
        assert_eq!(
            select("p", &args(&["mutex", "tokio"]), &s).unwrap(),
            Ask::Run(vec![(1, vec![1])])
        );
        assert_eq!(
            select("p", &args(&["--describe"]), &s).unwrap(),
            Ask::Describe
        );
    }

    #[test]
    fn unknown_names_are_one_clear_line_and_exit_code_2() {
        let s = scenarios();
        for bad in [
            &["nap"][..],
            &["mutex", "std"],
            &["--fast"],
            &["a", "b", "c"],
        ] {
            let Err((message, code)) = select("p", &args(bad), &s) else {
                panic!("accepted {bad:?}")
            };
            assert_eq!(code, ExitCode::from(2));
            assert_eq!(message.lines().count(), 1, "{message}");
        }
    }

    #[test]
    fn help_lists_the_scenarios_and_succeeds() {
        let Err((message, code)) = select("p", &args(&["--help"]), &scenarios()) else {
            panic!("help ran the scenarios")
        };
        assert_eq!(code, ExitCode::SUCCESS);
        assert!(message.contains("usage: p") && message.contains("sleep, mutex"));
    }

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
