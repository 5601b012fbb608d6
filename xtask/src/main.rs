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
mod compile;
mod exercise;
mod guard;
mod judge;
mod lessons;
mod process;
mod progress;
mod prose;
mod tracefile;

use compile::{Checked, Exes};
use judge::{busy, json_line, judge_run, verdict};
use lessons::{Lesson, Variant, Workspace, find_scenario};
use shared::grade::{Judgement, Verdict};
use shared::view::timeline::Timeline;
use std::fmt;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

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
  run <lesson> [--broken | --fixed] [scenario] [--trace]
                                          build a lesson and run it: its narration, its
                                          timeline and a verdict, broken then fixed
                                          (--trace: also a trace file for Perfetto)
  try <lesson> [exercise] [--trace]       judge your fix in the lesson's exercise file
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
        "list" => {
            no_more(command, rest)?;
            list()
        }
        "run" => run(rest),
        "check" => check(rest),
        "book" => build_book(rest),
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

fn no_more(command: &str, rest: &[String]) -> Result<(), Failure> {
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

fn list() -> Result<ExitCode, Failure> {
    let ws = Workspace::load()?;
    if ws.lessons.is_empty() {
        println!("no lessons yet");
    }
    let title_w = ws
        .lessons
        .iter()
        .map(|l| l.title.chars().count())
        .max()
        .unwrap_or(0);
    let paint = Paint::stdout();
    for l in &ws.lessons {
        let scenarios: Vec<&str> = l.scenarios.iter().map(|s| s.name.as_str()).collect();
        println!(
            "{}  {:<title_w$}  scenarios: {}",
            l.id,
            l.title,
            scenarios.join(", ")
        );
        let progress = progress::Progress::load(l);
        let status: Vec<String> = l
            .exercises
            .iter()
            .map(|e| {
                let s = progress.status(l, &e.name);
                let text = format!("{} {}", e.name, s.describe());
                match s {
                    progress::Status::Solved => paint.wrap("32", &text),
                    _ => text,
                }
            })
            .collect();
        if !status.is_empty() {
            println!("{:10}  exercises: {}", "", status.join(", "));
        }
    }
    if ws.lessons.iter().any(|l| !l.exercises.is_empty()) {
        println!();
        println!(
            "Fix a bug yourself: `cargo xtask try <lesson>` (or `watch` to judge on every save)."
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn report_path(
    ws: &Workspace,
    lesson: &Lesson,
    scenario: &str,
    variant: &Variant,
    piece: &str,
) -> PathBuf {
    let mut name = format!("{}-{scenario}-{}", lesson.id, variant.name());
    if let Variant::Exercise(e) = variant {
        name.push_str(&format!("-{e}"));
    }
    if !piece.is_empty() {
        name.push_str(&format!("-{piece}"));
    }
    ws.target_dir
        .join("xtask")
        .join("reports")
        .join(format!("{name}.jsonl"))
}

pub fn limits(lesson: &Lesson, scenario: &lessons::Scenario) -> process::Limits {
    process::Limits {
        quiet: Duration::from_millis(lesson.quiet_ms),
        deadline: Duration::from_millis(scenario.deadline_ms.unwrap_or(lesson.deadline_ms)),
        // The child's own watchdog explains a stall better than we can, so
        // it gets the first chance; on a loaded machine it may be late.
        grace: Duration::from_secs(2),
    }
}

/// An argument as an error message shows it: quoted, on one line (a
/// newline or other control character is escaped), and at most 40
/// characters (a pasted paragraph is cut, saying how long it was).
pub fn shown(arg: &str) -> String {
    const MOST: usize = 40;
    let count = arg.chars().count();
    let cut: String = arg.chars().take(MOST).collect();
    let quoted: String = cut.chars().flat_map(char::escape_debug).collect();
    if count > MOST {
        format!("'{quoted}…' ({count} characters)")
    } else {
        format!("'{quoted}'")
    }
}

/// Whether to colour what goes to stdout: only on a terminal that can
/// show colour, and never when `NO_COLOR` is set (no-color.org).
pub fn colour() -> bool {
    colour_for(
        std::io::stdout().is_terminal(),
        std::env::var_os("NO_COLOR").is_some(),
        std::env::var("TERM").ok().as_deref(),
    )
}

fn colour_for(terminal: bool, no_color: bool, term: Option<&str>) -> bool {
    terminal && !no_color && term != Some("dumb")
}

pub struct Paint {
    on: bool,
}

impl Paint {
    pub fn stdout() -> Paint {
        Paint { on: colour() }
    }

    pub fn wrap(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// The label of one run: `fixed`, `fixed (interval)`.
pub fn label(variant: &Variant, piece: &str) -> String {
    if piece.is_empty() {
        variant.name().to_string()
    } else {
        format!("{} ({piece})", variant.name())
    }
}

/// Runs one variant (one piece) of one scenario and judges it.
/// `Err` with `interrupted` when the learner pressed Ctrl-C: the child's
/// group is already gone.
pub fn run_one(
    ws: &Workspace,
    exe: &Path,
    lesson: &Lesson,
    scenario: &lessons::Scenario,
    variant: &Variant,
    piece: &str,
    stream: bool,
) -> Result<(process::RunResult, Judgement), Failure> {
    // A file of its own for every run: two runs at once (a `watch` in one
    // terminal, a `try` in another) never read each other's report.
    let path = process::unique_beside(
        &report_path(ws, lesson, &scenario.name, variant, piece),
        "jsonl",
    );
    ensure_parent(&path)?;
    let mut args = vec![scenario.name.as_str()];
    if !piece.is_empty() {
        args.push(piece);
    }
    let result = process::run(exe, &args, &path, &limits(lesson, scenario), stream)?;
    if result.stopped == Some(process::Stopped::Interrupted) {
        eprintln!(
            "interrupted: stopped {} and everything it started",
            exe_name(exe)
        );
        return Err(Failure::interrupted());
    }
    let j = judge_run(&result, scenario.claim_for(variant), &scenario.live_facts);
    if stream && !result.left_running.is_empty() {
        println!("{}", left_running(&result.left_running, variant));
    }
    // A report worth reading is kept (`check` names it); the rest go.
    if j.verdict() != Verdict::Mismatch {
        let _ = std::fs::remove_file(&path);
    }
    Ok((result, j))
}

/// "your program left 2 processes running: sleep (pid 41), yes (pid 42);
/// they were stopped".
pub fn left_running(left: &[guard::Left], variant: &Variant) -> String {
    let whose = match variant {
        Variant::Exercise(_) => "your program",
        _ => "the program",
    };
    let list: Vec<String> = left
        .iter()
        .take(5)
        .map(|l| format!("{} (pid {})", l.name, l.pid))
        .collect();
    let more = match left.len().saturating_sub(5) {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    let (n, them, were) = if left.len() == 1 {
        ("1 process".to_string(), "it", "was")
    } else {
        (format!("{} processes", left.len()), "they", "were")
    };
    format!(
        "note: {whose} left {n} running when it ended: {}{more}; {them} {were} stopped.",
        list.join(", ")
    )
}

/// [`run_one`], with a second measurement when only timing facts missed:
/// a busy moment must not fail a program. If the second run misses too,
/// on a machine measured to be busy while it ran, the verdict is
/// inconclusive; on a quiet machine the miss stands.
pub fn run_judged(
    ws: &Workspace,
    exe: &Path,
    lesson: &Lesson,
    scenario: &lessons::Scenario,
    variant: &Variant,
    piece: &str,
    stream: bool,
) -> Result<(process::RunResult, Judgement), Failure> {
    let (result, j) = run_one(ws, exe, lesson, scenario, variant, piece, stream)?;
    if !j.only_timing_misses() {
        return Ok((result, j));
    }
    if stream {
        println!();
        println!(
            "(a timing fact missed its bound: {}; measuring once more, in case the machine was busy)",
            j.summary()
        );
        println!();
    }
    let (result, mut j) = run_one(ws, exe, lesson, scenario, variant, piece, stream)?;
    if j.only_timing_misses() {
        if let Some(why) = busy(&result) {
            j.make_inconclusive(format!("it missed twice, and {why}"));
        }
    }
    Ok((result, j))
}

/// The mark and colour of a verdict.
pub fn mark(v: Verdict) -> (&'static str, &'static str) {
    match v {
        Verdict::Ok => ("✔", "32"),
        Verdict::Skipped => ("–", "33"),
        Verdict::Inconclusive => ("?", "33"),
        Verdict::Mismatch => ("✘", "31"),
    }
}

fn exe_name(exe: &Path) -> String {
    exe.file_name()
        .map_or_else(|| exe.display().to_string(), |n| n.to_string_lossy().into())
}

pub fn ensure_parent(path: &Path) -> Result<(), Failure> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure::new(format!("cannot create {}: {e}", dir.display())))?;
    }
    Ok(())
}

/// When the runner, not the child's watchdog, stopped a program, it says
/// what it saw.
pub fn print_runner_stop(result: &process::RunResult, j: &Judgement) {
    println!();
    println!(
        "runner: stopped the program ({}); its last events:",
        j.observed.describe()
    );
    let timeline = Timeline::from_events(&result.report.events);
    for line in timeline.last_events(8) {
        println!("  {line}");
    }
    print!("{}", timeline.ascii(shared::view::timeline::CHART_WIDTH));
}

/// Builds `lessons` and checks each manifest against its code.
fn build_and_check(lessons: &[&Lesson]) -> Result<(Exes, Vec<Checked>), Failure> {
    let exes = compile::lessons(lessons)?;
    let checked = lessons
        .iter()
        .map(|l| compile::check(l, &exes))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((exes, checked))
}

fn run(args: &[String]) -> Result<ExitCode, Failure> {
    let usage = "cargo xtask run <lesson> [--broken | --fixed] [scenario] [--trace]";
    let (flags, words) = parse_args(args, &["--broken", "--fixed", "--trace"], 2, usage)?;
    let mut traced = flags
        .contains(&"--trace")
        .then(tracefile::Collected::default);
    let variants = match (flags.contains(&"--broken"), flags.contains(&"--fixed")) {
        (true, false) => vec![Variant::Broken],
        (false, true) => vec![Variant::Fixed],
        _ => Variant::BOTH.to_vec(),
    };
    let ws = Workspace::load()?;
    let Some(lesson_arg) = words.first() else {
        let ids: Vec<&str> = ws.lessons.iter().map(|l| l.id.as_str()).collect();
        return Err(Failure::new(format!(
            "which lesson? usage: {usage}; lessons: {}",
            ids.join(", ")
        )));
    };
    let lesson = ws.find(lesson_arg)?;
    let scenarios: Vec<_> = match words.get(1) {
        None => lesson.scenarios.iter().collect(),
        Some(name) => vec![find_scenario(lesson, name)?],
    };
    let (exes, checked) = build_and_check(&[lesson])?;
    let checked = &checked[0];
    let paint = Paint::stdout();
    let mut all_ok = true;
    println!(
        "{}",
        paint.wrap("1", &format!("{}: {}", lesson.id, lesson.title))
    );
    println!("{}", lesson.idea);
    let chapter = ws.root.join("book").join("src").join(&lesson.chapter);
    if chapter.exists() {
        println!("Read along: {}", chapter.display());
    }
    for scenario in scenarios {
        let scenario = checked
            .lesson
            .scenario(&scenario.name)
            .expect("checked lessons keep their scenarios");
        for variant in &variants {
            let expect = scenario.claim_for(variant);
            let exe = compile::exe(&exes, lesson, variant)?;
            for piece in checked.pieces(variant, &scenario.name) {
                println!();
                println!(
                    "{}",
                    paint.wrap(
                        "1",
                        &format!(
                            "▶ {} · {} · {}: {}",
                            lesson.id,
                            scenario.name,
                            label(variant, &piece),
                            scenario.summary
                        )
                    )
                );
                println!("  the lesson predicts: {}", expect.claim);
                println!();
                let (result, j) = run_judged(&ws, exe, lesson, scenario, variant, &piece, true)?;
                if let Some(t) = traced.as_mut() {
                    t.add(
                        format!(
                            "{} · {} · {}",
                            lesson.id,
                            scenario.name,
                            label(variant, &piece)
                        ),
                        &result.report.events,
                    );
                }
                if result.stopped.is_some() {
                    // The child's own watchdog did not get to explain; we do.
                    print_runner_stop(&result, &j);
                }
                let line = verdict(&label(variant, &piece), expect, &j);
                let (sign, colour) = mark(j.verdict());
                println!("{}", paint.wrap(colour, &format!("{sign} {line}")));
                all_ok &= j.verdict() != Verdict::Mismatch;
            }
        }
    }
    if let Some(t) = &traced {
        let what = match words.get(1) {
            Some(_) => format!(
                "{}-{}",
                lesson.id,
                scenarios_named(lesson, &t.runs).unwrap_or_default()
            ),
            None => lesson.id.clone(),
        };
        t.write(&tracefile::path(&ws.target_dir, &what))?;
    }
    if !lesson.exercises.is_empty() {
        println!();
        println!(
            "Now fix it yourself: `cargo xtask try {}` (the exercises: {}).",
            lesson.id,
            lesson
                .exercises
                .iter()
                .map(|e| e.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The one scenario a set of runs is about, when they are about one.
fn scenarios_named(
    lesson: &Lesson,
    runs: &[(String, Vec<shared::event::Event>)],
) -> Option<String> {
    lesson
        .scenarios
        .iter()
        .find(|s| {
            runs.iter()
                .all(|(name, _)| name.contains(&format!(" · {} · ", s.name)))
        })
        .map(|s| s.name.clone())
}

fn check(args: &[String]) -> Result<ExitCode, Failure> {
    let usage = "cargo xtask check [lesson [scenario]] [--json]";
    let (flags, words) = parse_args(args, &["--json"], 2, usage)?;
    let json = flags.contains(&"--json");
    let ws = Workspace::load()?;
    let lessons: Vec<&Lesson> = match words.first() {
        Some(q) => vec![ws.find(q)?],
        None => ws.lessons.iter().collect(),
    };
    if lessons.is_empty() {
        return Err(Failure::new("there are no lessons to check"));
    }
    let only_scenario = match words.get(1) {
        Some(name) => Some(find_scenario(lessons[0], name)?.name.clone()),
        None => None,
    };
    let (exes, checked) = build_and_check(&lessons)?;
    let paint = Paint::stdout();
    let expected_w = checked
        .iter()
        .flat_map(|c| c.lesson.scenarios.iter())
        .flat_map(|s| [s.broken.describe(), s.fixed.describe()])
        .map(|d| d.chars().count())
        .max()
        .unwrap_or(8)
        .max(8);
    let scenario_w = checked
        .iter()
        .flat_map(|c| c.lesson.scenarios.iter())
        .map(|s| s.name.len())
        .max()
        .unwrap_or(8)
        .max(8);
    let variant_w = checked
        .iter()
        .flat_map(|c| {
            c.lesson.scenarios.iter().flat_map(move |s| {
                Variant::BOTH.into_iter().flat_map(move |v| {
                    c.pieces(&v, &s.name)
                        .into_iter()
                        .map(move |p| label(&v, &p).chars().count())
                })
            })
        })
        .max()
        .unwrap_or(7)
        .max(7);
    if !json {
        println!(
            "{:<9}  {:<scenario_w$}  {:<variant_w$}  {:<12}  {:<expected_w$}  observed",
            "lesson", "scenario", "variant", "verdict", "expected"
        );
    }
    let mut failures = Vec::new();
    let mut trace_failures: Vec<(String, Vec<String>)> = Vec::new();
    let (mut count, mut skipped) = (0, 0);
    let mut inconclusive: Vec<String> = Vec::new();
    for c in &checked {
        let lesson = &c.lesson;
        for scenario in &lesson.scenarios {
            if only_scenario.as_ref().is_some_and(|n| *n != scenario.name) {
                continue;
            }
            for variant in Variant::BOTH {
                let expect = scenario.claim_for(&variant);
                let exe = compile::exe(&exes, lesson, &variant)?;
                for piece in c.pieces(&variant, &scenario.name) {
                    let (result, j) =
                        run_judged(&ws, exe, lesson, scenario, &variant, &piece, false)?;
                    count += 1;
                    // Every recording must also make a sound trace file.
                    let name = format!(
                        "{} · {} · {}",
                        lesson.id,
                        scenario.name,
                        label(&variant, &piece)
                    );
                    let problems = tracefile::problems(&name, &result.report.events);
                    if !problems.is_empty() {
                        trace_failures.push((name, problems));
                    }
                    match j.verdict() {
                        Verdict::Skipped => skipped += 1,
                        Verdict::Inconclusive => inconclusive.push(format!(
                            "{} · {} · {}: {}",
                            lesson.id,
                            scenario.name,
                            label(&variant, &piece),
                            j.summary()
                        )),
                        Verdict::Ok | Verdict::Mismatch => {}
                    }
                    if json {
                        println!(
                            "{}",
                            json_line(
                                &lesson.id,
                                &scenario.name,
                                &variant,
                                &piece,
                                expect,
                                &result,
                                &j
                            )
                        );
                    } else {
                        let (_, colour) = mark(j.verdict());
                        println!(
                            "{:<9}  {:<scenario_w$}  {:<variant_w$}  {}  {:<expected_w$}  {}",
                            lesson.id,
                            scenario.name,
                            label(&variant, &piece),
                            paint.wrap(colour, &format!("{:<12}", j.verdict().to_string())),
                            expect.describe(),
                            j.observed_summary(expect)
                        );
                    }
                    if j.verdict() == Verdict::Mismatch {
                        failures.push((
                            lesson.clone(),
                            scenario.name.clone(),
                            label(&variant, &piece),
                            j,
                            result,
                        ));
                    }
                }
            }
        }
    }
    for (name, problems) in &trace_failures {
        eprintln!("✘ {name}: its recording does not make a sound trace file:");
        for p in problems.iter().take(5) {
            eprintln!("    - {p}");
        }
    }
    if json {
        return Ok(if failures.is_empty() && trace_failures.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    println!();
    if failures.is_empty() && !trace_failures.is_empty() {
        println!(
            "{} of {} recordings did not make a sound trace file (see above)",
            trace_failures.len(),
            count
        );
        return Ok(ExitCode::from(1));
    }
    let mut notes = Vec::new();
    if skipped > 0 {
        notes.push(format!(
            "{skipped} skipped: their claims need more cores than this machine has"
        ));
    }
    if !inconclusive.is_empty() {
        notes.push(format!(
            "{} inconclusive: a timing fact missed twice while the machine was busy",
            inconclusive.len()
        ));
    }
    let skipped_note = if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join("; "))
    };
    for line in &inconclusive {
        println!("{}", paint.wrap("33", &format!("? {line}")));
    }
    let judged = count - skipped - inconclusive.len();
    if failures.is_empty() {
        println!(
            "{}",
            paint.wrap(
                "32",
                &format!(
                    "all {judged} variants judged behaved as their lessons predict{skipped_note}"
                )
            )
        );
        return Ok(ExitCode::SUCCESS);
    }
    for (lesson, scenario, label, j, result) in &failures {
        println!(
            "{}",
            paint.wrap(
                "31",
                &format!("✘ {} · {scenario} · {label}: {}", lesson.id, j.summary())
            )
        );
        let tail: Vec<&str> = result.output.lines().collect();
        let from = tail.len().saturating_sub(12);
        if !tail.is_empty() {
            println!("  its last output:");
            for line in &tail[from..] {
                println!("  │ {line}");
            }
        }
        for problem in &result.problems {
            println!("  {problem}");
        }
        println!("  full report: {}", result.report_path.display());
        if let Some(edits) = exercise::reference_edits(&ws, lesson) {
            println!(
                "  note: you have changed this lesson's own files ({edits}). `check` judges the lesson's reference programs;"
            );
            println!(
                "  to judge a fix of yours, put it in the exercise file and run `cargo xtask try {}`.",
                lesson.id
            );
        }
    }
    println!(
        "{} of {judged} variants judged did not behave as their lessons predict{skipped_note}",
        failures.len(),
    );
    Ok(ExitCode::from(1))
}

fn build_book(args: &[String]) -> Result<ExitCode, Failure> {
    let (flags, _) = parse_args(args, &["--open"], 0, "cargo xtask book [--open]")?;
    let open = flags.contains(&"--open");
    let ws = Workspace::load()?;
    let book_dir = ws.root.join("book");
    let book_src = book_dir.join("src");
    let problems = book::check_sources(&book_src, &ws.lessons);
    if !problems.is_empty() {
        return Err(Failure::new(format!(
            "the book has drifted from the code:\n  {}",
            problems.join("\n  ")
        )));
    }
    let mdbook = book::mdbook(&ws)?;
    let lessons: Vec<&Lesson> = ws.lessons.iter().collect();
    let (exes, checked) = build_and_check(&lessons)?;
    let out_dir = book_src.join(book::GENERATED);
    // Start clean, so that a renamed scenario leaves no stale picture behind.
    let _ = std::fs::remove_dir_all(&out_dir);
    std::fs::create_dir_all(&out_dir)
        .map_err(|e| Failure::new(format!("cannot create {}: {e}", out_dir.display())))?;
    let write = |name: &str, text: &str| {
        let path = out_dir.join(name);
        std::fs::write(&path, text)
            .map_err(|e| Failure::new(format!("cannot write {}: {e}", path.display())))
    };
    println!("Drawing the timelines from real runs:");
    for c in &checked {
        let lesson = &c.lesson;
        let mut rows = vec![book::FACTS_HEADER.to_string()];
        let mut details: Vec<String> = Vec::new();
        for scenario in &lesson.scenarios {
            let mut measured: Vec<(String, Vec<(String, f64)>)> = Vec::new();
            for variant in Variant::BOTH {
                let expect = scenario.claim_for(&variant);
                let exe = compile::exe(&exes, lesson, &variant)?;
                for piece in c.pieces(&variant, &scenario.name) {
                    let (result, j) =
                        run_judged(&ws, exe, lesson, scenario, &variant, &piece, false)?;
                    let timeline = Timeline::from_events(&result.report.events);
                    let title = format!(
                        "{} · {} · {}: {}",
                        lesson.id,
                        scenario.name,
                        label(&variant, &piece),
                        j.observed.describe()
                    );
                    let svg = book::svg_name(lesson, &scenario.name, &variant, &piece);
                    write(&svg, &timeline.svg(&title))?;
                    rows.push(book::facts_row(
                        &scenario.name,
                        &label(&variant, &piece),
                        expect,
                        &j,
                    ));
                    println!(
                        "  book/src/{}/{svg}  ({})",
                        book::GENERATED,
                        j.observed.describe()
                    );
                    measured.push((label(&variant, &piece), j.facts));
                }
            }
            details.push(book::all_facts_table(&scenario.name, &measured));
        }
        let text = rows.join("\n") + "\n" + &details.concat();
        write(&book::facts_name(lesson), &text)?;
    }
    let problems = book::check_generated(&book_src, &ws);
    if !problems.is_empty() {
        return Err(Failure::new(problems.join("\n  ")));
    }
    let status = Command::new(&mdbook)
        .arg("build")
        .arg(&book_dir)
        .status()
        .map_err(|e| Failure::new(format!("could not run {}: {e}", mdbook.display())))?;
    if process::interrupted() {
        return Err(Failure::interrupted());
    }
    if !status.success() {
        return Err(Failure::new(
            "mdbook could not build the book; its messages above say why",
        ));
    }
    let index = book_dir.join("book").join("index.html");
    println!("The book is at {}", index.display());
    if open {
        let opener = if cfg!(target_os = "macos") {
            "open"
        } else {
            "xdg-open"
        };
        let opened = Command::new(opener)
            .arg(&index)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .is_ok();
        if !opened {
            println!("(could not find {opener} to open it; open the file above in a browser)");
        }
    }
    Ok(ExitCode::SUCCESS)
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
    }

    #[test]
    fn colour_only_on_a_terminal_that_wants_it() {
        assert!(colour_for(true, false, Some("xterm-256color")));
        assert!(colour_for(true, false, None));
        assert!(!colour_for(true, false, Some("dumb")));
        assert!(!colour_for(true, true, Some("xterm")));
        assert!(!colour_for(false, false, Some("xterm")));
    }

    #[test]
    fn arguments_in_errors_are_short_and_on_one_line() {
        assert_eq!(shown("5"), "'5'");
        assert_eq!(shown("5\n"), "'5\\n'");
        let long = "x".repeat(100_000);
        let s = shown(&long);
        assert!(s.len() < 80 && s.ends_with("(100000 characters)"), "{s}");
        let err = parse_args(&strings(&["--fast\nand more"]), &[], 2, "u").unwrap_err();
        assert_eq!(err.to_string().lines().count(), 1);
    }

    #[test]
    fn labels_name_the_piece_when_there_are_several() {
        assert_eq!(label(&Variant::Fixed, ""), "fixed");
        assert_eq!(label(&Variant::Fixed, "interval"), "fixed (interval)");
    }
}
