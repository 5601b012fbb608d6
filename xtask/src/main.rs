//! `cargo xtask`: run, check and learn from the lessons.
//!
//! Lessons are found through `cargo metadata`; each lesson's manifest says
//! what its broken and fixed programs do, and `check` holds them to it. A
//! learner's exercise is judged by the same harness against the fixed
//! claim (`try`, `watch`). See `cargo xtask help`.

#[cfg(not(unix))]
compile_error!(
    "cargo xtask runs on Linux and macOS. On Windows, use WSL 2 (see the README's Platforms section)."
);

mod book;
mod commands;
mod compile;
mod exercise;
mod guard;
mod judge;
mod lessons;
mod machine;
mod predict;
mod process;
mod progress;
mod prose;
mod runs;
mod tracefile;
mod ui;

pub use runs::{print_runner_stop, run_judged, run_one};
use std::fmt;
use std::process::ExitCode;
pub use ui::{Paint, shown};

/// An error for the learner: one clear line, no backtrace. Or the learner
/// pressed Ctrl-C, which ends the xtask with code 130.
#[derive(Debug)]
pub struct Failure {
    message: String,
    interrupted: bool,
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            interrupted: false,
        }
    }

    pub fn interrupted() -> Failure {
        Failure {
            message: "interrupted".into(),
            interrupted: true,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The exit code for Ctrl-C, as shells report it.
pub const INTERRUPTED: u8 = 130;

const HELP: &str = "\
cargo xtask: run, check and learn from the lessons of Async Rust, Broken and Fixed

usage: cargo xtask <command> [arguments]

learn:
  list                                    the lessons, and how far you are with their exercises
  run <lesson> [--broken | --fixed] [scenario] [--trace] [--metrics] [--no-predict]
                                          build a lesson and run it: its narration, its
                                          timeline and a verdict, broken then fixed
                                          (--trace: also a trace file for Perfetto;
                                          --metrics: lesson 14's task monitors' table; at a
                                          terminal it first asks you to predict what the
                                          broken program will do, unless --no-predict)
  try <lesson> [exercise] [--trace]       judge your fix in the lesson's exercise file
                                          (exit 0 fixed, 1 not yet, 3 inconclusive: the
                                          machine was busy, try again; 4 cannot be
                                          judged on this machine)
  watch [lesson [exercise]]               judge it again on every save (Ctrl-C to stop)
  hint <lesson> [exercise]                the next hint for an exercise
  reset <lesson> [exercise] [--yes]       put an exercise back to its start (asks first)
  book [--open]                           draw every timeline from a real run and build
                                          the book with mdBook

check:
  check [lesson [scenario]] [--json]      run every variant of every scenario and compare
                                          it with the lesson's manifest; exits 1 on any
                                          mismatch (--json: one JSON object per run)
  fixtures [lesson [exercise]]            for the lessons' authors: judge every fixture fix
                                          and bug as if it were a learner's exercise
  help                                    this text

A lesson can be named lesson-05, lesson-5, 05 or 5.";

fn main() -> ExitCode {
    // From here on Ctrl-C only sets a flag: whatever runs ends its children
    // and returns, and we exit with 130.
    let args: Vec<String> = std::env::args().skip(1).collect();
    // The runner starts itself as the guard of each program it runs.
    if args.first().map(String::as_str) == Some(guard::COMMAND) {
        return ExitCode::from(guard::main(&args[1..]));
    }
    process::catch_interrupts();
    process::quiet_broken_pipes();
    let result = dispatch(&args);
    if process::interrupted() {
        eprintln!("interrupted");
        return ExitCode::from(INTERRUPTED);
    }
    match result {
        Ok(code) => code,
        Err(f) if f.interrupted => {
            eprintln!("interrupted");
            ExitCode::from(INTERRUPTED)
        }
        Err(f) => {
            eprintln!("error: {f}");
            ExitCode::from(2)
        }
    }
}

fn dispatch(args: &[String]) -> Result<ExitCode, Failure> {
    let Some(command) = args.first() else {
        println!("{HELP}");
        return Ok(ExitCode::SUCCESS);
    };
    let rest = &args[1..];
    match command.as_str() {
        "help" | "--help" | "-h" => {
            println!("{HELP}");
            Ok(ExitCode::SUCCESS)
        }
        "list" => commands::list::command(rest),
        "run" => commands::run::command(rest),
        "check" => commands::check::command(rest),
        "book" => commands::book::command(rest),
        "try" => exercise::try_command(rest),
        "watch" => exercise::watch_command(rest),
        "hint" => exercise::hint_command(rest),
        "reset" => exercise::reset_command(rest),
        "fixtures" => exercise::fixtures_command(rest),
        process::SUPERVISE => process::supervise_command(rest),
        other => Err(Failure::new(format!(
            "unknown command {}; the commands are list, run, try, watch, hint, reset, book, check, fixtures and help (see `cargo xtask help`)",
            shown(other)
        ))),
    }
}

pub fn no_more(command: &str, rest: &[String]) -> Result<(), Failure> {
    match rest.first() {
        None => Ok(()),
        Some(extra) => Err(Failure::new(format!(
            "`{command}` takes no arguments, but got {} (see `cargo xtask help`)",
            shown(extra)
        ))),
    }
}

/// Splits arguments into flags (checked against `known`) and up to `max`
/// positional words.
pub fn parse_args<'a>(
    args: &'a [String],
    known: &[&str],
    max: usize,
    usage: &str,
) -> Result<(Vec<&'a str>, Vec<&'a str>), Failure> {
    let mut flags = Vec::new();
    let mut words = Vec::new();
    for a in args {
        if a.starts_with('-') {
            if !known.contains(&a.as_str()) {
                return Err(Failure::new(format!(
                    "unknown flag {}; usage: {usage}",
                    shown(a)
                )));
            }
            flags.push(a.as_str());
        } else if words.len() < max {
            words.push(a.as_str());
        } else {
            return Err(Failure::new(format!(
                "unexpected argument {}; usage: {usage}",
                shown(a)
            )));
        }
    }
    Ok((flags, words))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn arguments_are_split_into_known_flags_and_words() {
        let args = strings(&["5", "--json", "report"]);
        let (flags, words) = parse_args(&args, &["--json"], 2, "u").unwrap();
        assert_eq!(flags, ["--json"]);
        assert_eq!(words, ["5", "report"]);
        let err = parse_args(&strings(&["--fast"]), &["--json"], 2, "usage here").unwrap_err();
        assert_eq!(err.to_string(), "unknown flag '--fast'; usage: usage here");
        let err = parse_args(&strings(&["a", "b", "c"]), &[], 2, "u").unwrap_err();
        assert!(err.to_string().contains("unexpected argument 'c'"));
        let err = parse_args(&strings(&["--fast\nand more"]), &[], 2, "u").unwrap_err();
        assert_eq!(err.to_string().lines().count(), 1);
    }
}
