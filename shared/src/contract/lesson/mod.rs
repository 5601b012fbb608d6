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

mod describe;
mod facts;

pub use describe::{DescribedFact, DescribedScenario, Description};
pub use facts::{FactSpec, Facts, Spec, fact};

use crate::contract::report::{DESCRIBE_ENV, REPORT_ENV};
use crate::contract::watchdog::{self, Limits};
use crate::record::recorder::global;
use crate::view::number::format_value;
use crate::view::timeline::{CHART_WIDTH, Timeline};
use std::fs::File;
use std::process::ExitCode;

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
        Ok(Ask::Describe) => return describe(lesson, variant, &scenarios),
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
    watchdog::watch(global(), Limits::from_env(Limits::DEFAULT));
    // Every (scenario, piece) to run, in order, with the command that runs
    // it alone, for the watchdog's "not yet run" list.
    let order: Vec<(usize, usize)> = chosen
        .iter()
        .flat_map(|(s, pieces)| pieces.iter().map(move |p| (*s, *p)))
        .collect();
    let commands: Vec<String> = order
        .iter()
        .map(|&(s, p)| match scenarios[s].pieces[p].name {
            "" => format!("{program} {}", scenarios[s].spec.name),
            piece => format!("{program} {} {piece}", scenarios[s].spec.name),
        })
        .collect();
    let mut code = ExitCode::SUCCESS;
    for (i, &(s, p)) in order.iter().enumerate() {
        watchdog::not_yet_run(commands[i + 1..].to_vec());
        let run = std::mem::replace(&mut scenarios[s].pieces[p].run, Box::new(|_| {}));
        let stage = Stage {
            lesson,
            program: &program,
            variant,
            spec: scenarios[s].spec,
            piece: &scenarios[s].pieces[p],
        };
        if !stage.run(run, sink.take()) {
            code = ExitCode::from(2);
        }
    }
    code
}

/// Writes what the binary's code declares, for the runner (`--describe`).
fn describe(lesson: &str, variant: Variant, scenarios: &[Runnable<'_>]) -> ExitCode {
    let specs: Vec<(&Spec, Vec<&str>)> = scenarios
        .iter()
        .map(|s| (s.spec, s.pieces.iter().map(|p| p.name).collect()))
        .collect();
    let specs: Vec<(&Spec, &[&str])> = specs.iter().map(|(s, p)| (*s, p.as_slice())).collect();
    let d = Description::of(lesson, variant, &specs);
    let text = serde_json::to_string(&d).expect("a description serialises");
    // The runner asks for it in a file of its own, which nothing the
    // program prints can get mixed into.
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
    ExitCode::SUCCESS
}

/// One piece of one scenario, about to run in this binary.
struct Stage<'a> {
    lesson: &'a str,
    program: &'a str,
    variant: Variant,
    spec: &'static Spec,
    piece: &'a Piece<'a>,
}

impl Stage<'_> {
    /// Runs the piece under the recorder, then shows its timeline and its
    /// facts. Returns `false` if its harness left a fact unmeasured.
    fn run(&self, run: Run<'_>, sink: Option<File>) -> bool {
        let mut title = match self.variant {
            Variant::Exercise(name) => {
                format!("your exercise {name} · scenario {}", self.spec.name)
            }
            _ => format!("{} · {}", self.program, self.spec.name),
        };
        if !self.piece.name.is_empty() {
            title.push_str(&format!(" · {}", self.piece.name));
        }
        println!(
            "━━ {title} {}",
            "━".repeat(70usize.saturating_sub(title.chars().count()))
        );
        let rec = global();
        rec.begin(
            self.lesson,
            self.spec.name,
            self.variant.name(),
            self.piece.name,
            sink,
        );
        let facts = Facts::new(
            self.spec,
            matches!(self.variant, Variant::Exercise(_)),
            true,
        );
        run(&facts);
        let events = rec.finish();
        println!();
        print!("{}", Timeline::from_events(&events).ascii(CHART_WIDTH));
        let complete = self.show_facts(&facts);
        if let Some(note) = self.piece.note {
            println!("{note}");
        }
        println!();
        complete
    }

    /// "Measured: a = 1, b = 2", or why nothing was; `false` if a declared
    /// fact was never measured (a bug in the harness).
    fn show_facts(&self, facts: &Facts) -> bool {
        if let Some(reason) = facts.skipped() {
            println!("Skipped on this machine: {reason}");
            return true;
        }
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
                self.spec.name,
                missing.join(", ")
            );
        }
        missing.is_empty()
    }
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
}
