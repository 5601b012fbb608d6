//! Running one piece of one scenario, and judging it: where its report
//! goes, how long it may take, what to say when the runner had to stop it.

use crate::compile::{self, Checked, Exes};
use crate::judge::{busy, judge_run};
use crate::lessons::{self, Lesson, Variant, Workspace};
use crate::{Failure, guard, process};
use shared::grade::{Judgement, Verdict};
use shared::view::timeline::Timeline;
use std::path::{Path, PathBuf};
use std::time::Duration;

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
pub fn build_and_check(lessons: &[&Lesson]) -> Result<(Exes, Vec<Checked>), Failure> {
    let exes = compile::lessons(lessons)?;
    let checked = lessons
        .iter()
        .map(|l| compile::check(l, &exes))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((exes, checked))
}
