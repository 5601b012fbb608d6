//! `cargo xtask`: list, run and check the lessons.
//!
//! Lessons are found through `cargo metadata`; each lesson's manifest says
//! what its broken and fixed programs are expected to do, and `check` holds
//! them to it. See `cargo xtask help`.

mod book;
mod judge;
mod lessons;
mod process;

use judge::{Judgement, json_line, judge, verdict};
use lessons::{Lesson, Variant, Workspace, cargo};
use serde_json::Value;
use shared::timeline::Timeline;
use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

/// An error for the learner: one clear line, no backtrace.
#[derive(Debug)]
pub struct Failure(pub String);

const HELP: &str = "\
cargo xtask: run and check the lessons of Async Rust, Broken and Fixed

usage: cargo xtask <command> [arguments]

commands:
  list                                        the lessons, one line each
  run <lesson> [--broken | --fixed] [scenario]
                                              build a lesson and run it: its narration,
                                              its timeline and a verdict, broken then fixed
  check [lesson] [--json]                     run every variant of every scenario and compare
                                              it with the lesson's manifest; exits 1 on any
                                              mismatch (--json: one JSON object per variant)
  book [--open]                               draw every timeline from a real run and build
                                              the book with mdBook (installed if missing)
  help                                        this text

A lesson can be named lesson-05, lesson-5, 05 or 5.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match dispatch(&args) {
        Ok(code) => code,
        Err(Failure(message)) => {
            eprintln!("error: {message}");
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
        other => Err(Failure(format!(
            "unknown command '{other}'; the commands are list, run, check, book and help (see `cargo xtask help`)"
        ))),
    }
}

fn no_more(command: &str, rest: &[String]) -> Result<(), Failure> {
    match rest.first() {
        None => Ok(()),
        Some(extra) => Err(Failure(format!(
            "`{command}` takes no arguments, but got '{extra}' (see `cargo xtask help`)"
        ))),
    }
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
    for l in &ws.lessons {
        let scenarios: Vec<&str> = l.scenarios.iter().map(|s| s.name.as_str()).collect();
        println!(
            "{}  {:<title_w$}  scenarios: {}",
            l.id,
            l.title,
            scenarios.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Builds the binaries of `lessons` and returns where each one is.
fn build(lessons: &[&Lesson]) -> Result<HashMap<String, PathBuf>, Failure> {
    let mut cmd = Command::new(cargo());
    cmd.args([
        "build",
        "--bins",
        "--message-format=json-render-diagnostics",
    ]);
    for l in lessons {
        cmd.args(["-p", &l.id]);
    }
    let output = cmd
        .stderr(Stdio::inherit())
        .stdout(Stdio::piped())
        .output()
        .map_err(|e| Failure(format!("could not run cargo build: {e}")))?;
    if process::interrupted() {
        return Err(Failure("interrupted".into()));
    }
    if !output.status.success() {
        return Err(Failure(
            "the lessons did not build; cargo's messages above say why".into(),
        ));
    }
    let mut exes = HashMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if msg.get("reason").and_then(Value::as_str) != Some("compiler-artifact") {
            continue;
        }
        if let (Some(name), Some(exe)) = (
            msg.pointer("/target/name").and_then(Value::as_str),
            msg.get("executable").and_then(Value::as_str),
        ) {
            exes.insert(name.to_string(), PathBuf::from(exe));
        }
    }
    Ok(exes)
}

fn exe_for<'a>(
    exes: &'a HashMap<String, PathBuf>,
    lesson: &Lesson,
    variant: Variant,
) -> Result<&'a Path, Failure> {
    let bin = lesson.bin(variant);
    exes.get(&bin)
        .map(PathBuf::as_path)
        .ok_or_else(|| Failure(format!("cargo built no binary named {bin}")))
}

fn report_path(ws: &Workspace, lesson: &Lesson, scenario: &str, variant: Variant) -> PathBuf {
    ws.target_dir.join("xtask").join("reports").join(format!(
        "{}-{scenario}-{}.jsonl",
        lesson.id,
        variant.name()
    ))
}

fn limits(lesson: &Lesson, scenario: &lessons::Scenario) -> process::Limits {
    process::Limits {
        quiet: Duration::from_millis(lesson.quiet_ms),
        deadline: Duration::from_millis(scenario.deadline_ms.unwrap_or(lesson.deadline_ms)),
        // The child's own watchdog explains a stall better than we can, so
        // it gets the first chance; on a loaded machine it may be late.
        grace: Duration::from_secs(2),
    }
}

struct Paint {
    on: bool,
}

impl Paint {
    fn stdout() -> Paint {
        Paint {
            on: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    fn wrap(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

fn run(args: &[String]) -> Result<ExitCode, Failure> {
    let mut lesson_arg = None;
    let mut variants = Variant::BOTH.to_vec();
    let mut scenario_arg = None;
    for a in args {
        match a.as_str() {
            "--broken" => variants = vec![Variant::Broken],
            "--fixed" => variants = vec![Variant::Fixed],
            flag if flag.starts_with('-') => {
                return Err(Failure(format!(
                    "unknown flag '{flag}'; usage: cargo xtask run <lesson> [--broken | --fixed] [scenario]"
                )));
            }
            _ if lesson_arg.is_none() => lesson_arg = Some(a.clone()),
            _ if scenario_arg.is_none() => scenario_arg = Some(a.clone()),
            extra => {
                return Err(Failure(format!(
                    "unexpected argument '{extra}'; usage: cargo xtask run <lesson> [--broken | --fixed] [scenario]"
                )));
            }
        }
    }
    let ws = Workspace::load()?;
    let Some(lesson_arg) = lesson_arg else {
        let ids: Vec<&str> = ws.lessons.iter().map(|l| l.id.as_str()).collect();
        return Err(Failure(format!(
            "which lesson? usage: cargo xtask run <lesson> [--broken | --fixed] [scenario]; lessons: {}",
            ids.join(", ")
        )));
    };
    let lesson = ws.find(&lesson_arg)?;
    let scenarios: Vec<_> = match &scenario_arg {
        None => lesson.scenarios.iter().collect(),
        Some(name) => {
            let s = lesson
                .scenarios
                .iter()
                .find(|s| &s.name == name)
                .ok_or_else(|| {
                    let names: Vec<&str> =
                        lesson.scenarios.iter().map(|s| s.name.as_str()).collect();
                    Failure(format!(
                        "{} has no scenario '{name}'; its scenarios are: {}",
                        lesson.id,
                        names.join(", ")
                    ))
                })?;
            vec![s]
        }
    };
    process::catch_interrupts();
    let exes = build(&[lesson])?;
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
        for &variant in &variants {
            let expect = scenario.expect(variant);
            println!();
            println!(
                "{}",
                paint.wrap(
                    "1",
                    &format!(
                        "▶ {} · {} · {}: {}",
                        lesson.id,
                        scenario.name,
                        variant.name(),
                        scenario.summary
                    )
                )
            );
            println!("  the lesson predicts: {}", expect.claim);
            println!();
            let Some((result, j)) = run_variant(&ws, &exes, lesson, scenario, variant, true)?
            else {
                return Ok(ExitCode::from(130));
            };
            if result.stopped.is_some() {
                // The child's own watchdog did not get to explain; we do.
                print_runner_stop(&result, &j);
            }
            let line = verdict(variant, expect, &j);
            let (mark, colour) = if j.ok() { ("✔", "32") } else { ("✘", "31") };
            println!("{}", paint.wrap(colour, &format!("{mark} {line}")));
            all_ok &= j.ok();
        }
    }
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Runs one variant of one scenario and judges it. `None` means the learner
/// pressed Ctrl-C: the child's group is already gone, and the caller should
/// exit with code 130.
fn run_variant(
    ws: &Workspace,
    exes: &HashMap<String, PathBuf>,
    lesson: &Lesson,
    scenario: &lessons::Scenario,
    variant: Variant,
    stream: bool,
) -> Result<Option<(process::RunResult, Judgement)>, Failure> {
    let exe = exe_for(exes, lesson, variant)?;
    let path = report_path(ws, lesson, &scenario.name, variant);
    ensure_parent(&path)?;
    let result = process::run(
        exe,
        &[&scenario.name],
        &path,
        &limits(lesson, scenario),
        stream,
    )?;
    if result.stopped == Some(process::Stopped::Interrupted) {
        eprintln!(
            "interrupted: stopped {} and everything it started",
            exe_name(exe)
        );
        return Ok(None);
    }
    let j = judge(&result, scenario.expect(variant));
    Ok(Some((result, j)))
}

fn exe_name(exe: &Path) -> String {
    exe.file_name()
        .map_or_else(|| exe.display().to_string(), |n| n.to_string_lossy().into())
}

fn ensure_parent(path: &Path) -> Result<(), Failure> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure(format!("cannot create {}: {e}", dir.display())))?;
    }
    Ok(())
}

fn print_runner_stop(result: &process::RunResult, j: &Judgement) {
    println!();
    println!(
        "runner: stopped the program ({}); its last events:",
        j.observed.describe()
    );
    let timeline = Timeline::from_events(&result.report.events);
    for line in timeline.last_events(8) {
        println!("  {line}");
    }
    print!("{}", timeline.ascii(shared::lesson::CHART_WIDTH));
}

fn check(args: &[String]) -> Result<ExitCode, Failure> {
    let mut json = false;
    let mut lesson_arg = None;
    for a in args {
        match a.as_str() {
            "--json" => json = true,
            flag if flag.starts_with('-') => {
                return Err(Failure(format!(
                    "unknown flag '{flag}'; usage: cargo xtask check [lesson] [--json]"
                )));
            }
            _ if lesson_arg.is_none() => lesson_arg = Some(a.clone()),
            extra => {
                return Err(Failure(format!(
                    "unexpected argument '{extra}'; usage: cargo xtask check [lesson] [--json]"
                )));
            }
        }
    }
    let ws = Workspace::load()?;
    let lessons: Vec<&Lesson> = match &lesson_arg {
        Some(q) => vec![ws.find(q)?],
        None => ws.lessons.iter().collect(),
    };
    if lessons.is_empty() {
        return Err(Failure("there are no lessons to check".into()));
    }
    process::catch_interrupts();
    let exes = build(&lessons)?;
    let paint = Paint::stdout();
    let expected_w = lessons
        .iter()
        .flat_map(|l| l.scenarios.iter())
        .flat_map(|s| [s.broken.describe(), s.fixed.describe()])
        .map(|d| d.chars().count())
        .max()
        .unwrap_or(8)
        .max(8);
    let scenario_w = lessons
        .iter()
        .flat_map(|l| l.scenarios.iter())
        .map(|s| s.name.len())
        .max()
        .unwrap_or(8)
        .max(8);
    if !json {
        println!(
            "{:<9}  {:<scenario_w$}  {:<7}  {:<8}  {:<expected_w$}  observed",
            "lesson", "scenario", "variant", "verdict", "expected"
        );
    }
    let mut failures = Vec::new();
    let mut count = 0;
    for lesson in &lessons {
        for scenario in &lesson.scenarios {
            for variant in Variant::BOTH {
                let expect = scenario.expect(variant);
                let Some((result, j)) = run_variant(&ws, &exes, lesson, scenario, variant, false)?
                else {
                    return Ok(ExitCode::from(130));
                };
                count += 1;
                if json {
                    println!(
                        "{}",
                        json_line(&lesson.id, &scenario.name, variant, expect, &result, &j)
                    );
                } else {
                    let word = if j.ok() {
                        paint.wrap("32", &format!("{:<8}", "ok"))
                    } else {
                        paint.wrap("31", &format!("{:<8}", "MISMATCH"))
                    };
                    println!(
                        "{:<9}  {:<scenario_w$}  {:<7}  {word}  {:<expected_w$}  {}",
                        lesson.id,
                        scenario.name,
                        variant.name(),
                        expect.describe(),
                        j.observed_summary(expect)
                    );
                }
                if !j.ok() {
                    failures.push((lesson.id.clone(), scenario.name.clone(), variant, j, result));
                }
            }
        }
    }
    if json {
        return Ok(if failures.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    println!();
    if failures.is_empty() {
        println!(
            "{}",
            paint.wrap(
                "32",
                &format!("all {count} variants behaved as their lessons predict")
            )
        );
        return Ok(ExitCode::SUCCESS);
    }
    for (lesson, scenario, variant, j, result) in &failures {
        println!(
            "{}",
            paint.wrap(
                "31",
                &format!(
                    "✘ {lesson} · {scenario} · {}: {}",
                    variant.name(),
                    j.problems.join("; ")
                )
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
        println!("  full report: {}", result.report_path.display());
    }
    println!(
        "{} of {count} variants did not behave as their lessons predict",
        failures.len()
    );
    Ok(ExitCode::from(1))
}

fn build_book(args: &[String]) -> Result<ExitCode, Failure> {
    let mut open = false;
    for a in args {
        match a.as_str() {
            "--open" => open = true,
            other => {
                return Err(Failure(format!(
                    "unexpected argument '{other}'; usage: cargo xtask book [--open]"
                )));
            }
        }
    }
    let ws = Workspace::load()?;
    let book_dir = ws.root.join("book");
    let book_src = book_dir.join("src");
    let problems = book::check_sources(&book_src, &ws.lessons);
    if !problems.is_empty() {
        return Err(Failure(format!(
            "the book has drifted from the code:\n  {}",
            problems.join("\n  ")
        )));
    }
    let mdbook = book::mdbook()?;
    process::catch_interrupts();
    let lessons: Vec<&Lesson> = ws.lessons.iter().collect();
    let exes = build(&lessons)?;
    let out_dir = book_src.join(book::GENERATED);
    // Start clean, so that a renamed scenario leaves no stale picture behind.
    let _ = std::fs::remove_dir_all(&out_dir);
    std::fs::create_dir_all(&out_dir)
        .map_err(|e| Failure(format!("cannot create {}: {e}", out_dir.display())))?;
    let write = |name: &str, text: &str| {
        let path = out_dir.join(name);
        std::fs::write(&path, text)
            .map_err(|e| Failure(format!("cannot write {}: {e}", path.display())))
    };
    println!("Drawing the timelines from real runs:");
    for lesson in &lessons {
        let mut rows = vec![book::FACTS_HEADER.to_string()];
        let mut details: Vec<String> = Vec::new();
        for scenario in &lesson.scenarios {
            let mut measured: Vec<Vec<(String, f64)>> = Vec::new();
            for variant in Variant::BOTH {
                let expect = scenario.expect(variant);
                let Some((result, j)) = run_variant(&ws, &exes, lesson, scenario, variant, false)?
                else {
                    return Ok(ExitCode::from(130));
                };
                let timeline = Timeline::from_events(&result.report.events);
                let title = format!(
                    "{} · {} · {}: {}",
                    lesson.id,
                    scenario.name,
                    variant.name(),
                    j.observed.describe()
                );
                let svg = book::svg_name(lesson, &scenario.name, variant);
                write(&svg, &timeline.svg(&title))?;
                rows.push(book::facts_row(&scenario.name, variant, expect, &j));
                println!(
                    "  book/src/{}/{svg}  ({})",
                    book::GENERATED,
                    j.observed.describe()
                );
                measured.push(j.facts);
            }
            details.push(book::all_facts_table(
                &scenario.name,
                &measured[0],
                &measured[1],
            ));
        }
        let text = rows.join("\n") + "\n" + &details.concat();
        write(&book::facts_name(lesson), &text)?;
    }
    let problems = book::check_generated(&book_src, &ws);
    if !problems.is_empty() {
        return Err(Failure(problems.join("\n  ")));
    }
    let status = Command::new(&mdbook)
        .arg("build")
        .arg(&book_dir)
        .status()
        .map_err(|e| Failure(format!("could not run {}: {e}", mdbook.display())))?;
    if !status.success() {
        return Err(Failure(
            "mdbook could not build the book; its messages above say why".into(),
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
