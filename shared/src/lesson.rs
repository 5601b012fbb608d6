//! The frame every lesson binary runs in.
//!
//! A binary lists its scenarios and hands them to [`main`]. The harness picks
//! the scenario(s) from the command line, starts the recorder and the
//! watchdog, runs each scenario, and prints its timeline and facts. When the
//! runner has set `LESSON_REPORT`, everything is also written there.

use crate::recorder::global;
use crate::report::REPORT_ENV;
use crate::timeline::Timeline;
use crate::watchdog::{self, Limits};
use std::fs::File;
use std::process::ExitCode;
use std::sync::Mutex;

/// Columns of time in the terminal chart.
pub const CHART_WIDTH: usize = 60;

/// How to run the scenarios that a stall keeps from running, for the
/// watchdog's last words.
static NOT_YET_RUN: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The commands for the scenarios that have not run yet.
pub(crate) fn not_yet_run() -> Vec<String> {
    NOT_YET_RUN
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
}

/// Which side of the lesson a binary shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    Broken,
    Fixed,
}

impl Variant {
    pub fn name(self) -> &'static str {
        match self {
            Variant::Broken => "broken",
            Variant::Fixed => "fixed",
        }
    }
}

/// One runnable story of a lesson.
#[derive(Clone, Copy)]
pub struct Scenario {
    pub name: &'static str,
    pub run: fn(),
}

impl Scenario {
    /// The scenario `name`, run by `run`.
    pub const fn new(name: &'static str, run: fn()) -> Scenario {
        Scenario { name, run }
    }
}

/// Parses `args` (without the program name) into the scenarios to run.
fn select<'a>(
    program: &str,
    args: &[String],
    scenarios: &'a [Scenario],
) -> Result<Vec<&'a Scenario>, (String, ExitCode)> {
    let names = || {
        scenarios
            .iter()
            .map(|s| s.name)
            .collect::<Vec<_>>()
            .join(", ")
    };
    match args {
        [] => Ok(scenarios.iter().collect()),
        [flag] if flag == "-h" || flag == "--help" => Err((
            format!(
                "usage: {program} [SCENARIO]\nruns every scenario when none is named; scenarios: {}",
                names()
            ),
            ExitCode::SUCCESS,
        )),
        [name] if !name.starts_with('-') => match scenarios.iter().find(|s| s.name == name) {
            Some(s) => Ok(vec![s]),
            None => Err((
                format!(
                    "error: {program} has no scenario '{name}'; try one of: {}",
                    names()
                ),
                ExitCode::from(2),
            )),
        },
        _ => Err((
            format!(
                "error: unexpected arguments '{}'; usage: {program} [SCENARIO] (scenarios: {})",
                args.join(" "),
                names()
            ),
            ExitCode::from(2),
        )),
    }
}

fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into());
        global().panic(&message);
        default(info);
    }));
}

/// Runs a lesson binary: `lesson` is its id ("lesson-01").
pub fn main(lesson: &str, variant: Variant, scenarios: &[Scenario]) -> ExitCode {
    let program = format!("{lesson}-{}", variant.name());
    let args: Vec<String> = std::env::args().skip(1).collect();
    let chosen = match select(&program, &args, scenarios) {
        Ok(c) => c,
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
    // Calibrate CPU work now, so that it does not show up inside the first
    // poll of whichever task burns CPU first.
    crate::workload::calibration();
    let rec = global();
    watchdog::watch(rec, Limits::from_env(Limits::DEFAULT));
    for (i, scenario) in chosen.iter().enumerate() {
        *NOT_YET_RUN.lock().unwrap_or_else(|e| e.into_inner()) = chosen[i + 1..]
            .iter()
            .map(|s| format!("{program} {}", s.name))
            .collect();
        let title = format!("{program} · {}", scenario.name);
        println!(
            "━━ {title} {}",
            "━".repeat(70usize.saturating_sub(title.len()))
        );
        rec.begin(lesson, scenario.name, variant.name(), sink.take());
        (scenario.run)();
        let events = rec.finish();
        let timeline = Timeline::from_events(&events);
        println!();
        print!("{}", timeline.ascii(CHART_WIDTH));
        let facts = crate::report::Report { events }.facts();
        if !facts.is_empty() {
            let list: Vec<String> = facts
                .iter()
                .map(|(n, v)| format!("{n} = {}", crate::report::format_value(*v)))
                .collect();
            println!("Measured: {}", list.join(", "));
        }
        println!();
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nothing() {}

    const SCENARIOS: &[Scenario] = &[
        Scenario {
            name: "sleep",
            run: nothing,
        },
        Scenario {
            name: "mutex",
            run: nothing,
        },
    ];

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn no_argument_runs_every_scenario_in_order() {
        let chosen = select("p", &[], SCENARIOS).unwrap();
        let names: Vec<_> = chosen.iter().map(|s| s.name).collect();
        assert_eq!(names, ["sleep", "mutex"]);
    }

    #[test]
    fn a_scenario_name_runs_just_that_one() {
        let chosen = select("p", &args(&["mutex"]), SCENARIOS).unwrap();
        assert_eq!(chosen.len(), 1);
        assert_eq!(chosen[0].name, "mutex");
    }

    #[test]
    fn an_unknown_scenario_is_one_clear_line_and_exit_code_2() {
        let Err((message, code)) = select("p", &args(&["nap"]), SCENARIOS) else {
            panic!("accepted an unknown scenario")
        };
        assert_eq!(code, ExitCode::from(2));
        assert_eq!(message.lines().count(), 1);
        assert!(message.contains("'nap'") && message.contains("sleep, mutex"));
        let Err((_, code)) = select("p", &args(&["--fast"]), SCENARIOS) else {
            panic!("accepted an unknown flag")
        };
        assert_eq!(code, ExitCode::from(2));
    }

    #[test]
    fn help_lists_the_scenarios_and_succeeds() {
        let Err((message, code)) = select("p", &args(&["--help"]), SCENARIOS) else {
            panic!("help ran the scenarios")
        };
        assert_eq!(code, ExitCode::SUCCESS);
        assert!(message.contains("usage: p"));
    }
}
