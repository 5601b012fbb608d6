//! Exercises: the learner fixes a lesson's bug in a file of their own, and
//! the runner judges *their* program against the lesson's fixed claim, with
//! the same harness that judges ours.
//!
//! Each exercise is a file the learner edits, `exercise/<name>.rs`, which
//! ships as a copy of its starting point, `exercise/start/<name>.rs`: `reset`
//! copies the start back, with no need for git (and a deleted file is made
//! again from it). `exercise/.progress.json`, which git ignores, remembers
//! what was solved and how many hints were shown.

use crate::compile::{self, ExerciseBuild};
use crate::lessons::{Exercise, Lesson, Scenario, Variant, Workspace, find_exercise};
use crate::progress::{ExerciseState, Progress, Status, now_ms};
use crate::{Failure, Paint, parse_args, print_runner_stop, process, run_one, tracefile};
use shared::grade::{Judgement, Verdict};
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant, SystemTime};

/// A path for messages: relative to the workspace when it is inside it.
fn show(ws: &Workspace, path: &Path) -> String {
    path.strip_prefix(&ws.root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Makes the learner's file from the starting point if it does not exist.
/// Returns whether it did.
fn ensure_file(ws: &Workspace, lesson: &Lesson, ex: &Exercise) -> Result<bool, Failure> {
    let file = lesson.exercise_file(&ex.name);
    if file.exists() {
        return Ok(false);
    }
    let start = lesson.exercise_start(&ex.name);
    std::fs::copy(&start, &file).map_err(|e| {
        Failure::new(format!(
            "cannot copy {} to {}: {e}",
            show(ws, &start),
            show(ws, &file)
        ))
    })?;
    println!(
        "Made your copy of the exercise: {} (from {}).",
        show(ws, &file),
        show(ws, &start)
    );
    Ok(true)
}

/// The lesson's own files (not its exercise files) that git says were
/// changed, as a short list; `None` when there are none or git cannot tell.
pub fn reference_edits(ws: &Workspace, lesson: &Lesson) -> Option<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(&ws.root)
        .args(["status", "--porcelain=v1", "--untracked-files=no", "--"])
        .arg(&lesson.dir)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let dir = lesson.dir.strip_prefix(&ws.root).ok()?;
    let mut changed: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| l.get(3..))
        .map(|p| p.trim_matches('"').to_string())
        .filter_map(|p| {
            Path::new(&p)
                .strip_prefix(dir)
                .ok()
                .map(|r| r.display().to_string())
        })
        .filter(|p| !p.starts_with("exercise/") || p.starts_with("exercise/start/"))
        .collect();
    if changed.is_empty() {
        return None;
    }
    let more = changed.len().saturating_sub(3);
    changed.truncate(3);
    let mut text = changed.join(", ");
    if more > 0 {
        text.push_str(&format!(" and {more} more"));
    }
    Some(text)
}

/// How judging an exercise went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Judged {
    DoesNotCompile,
    /// It ran: a mismatch in any scenario is a mismatch; otherwise an
    /// inconclusive one makes it inconclusive, then a skipped one skipped.
    Ran(Verdict),
}

impl Judged {
    fn fixed(self) -> bool {
        self == Judged::Ran(Verdict::Ok)
    }
}

/// The exit code of `try` for each way judging can go. 0: fixed; 1: not
/// fixed (or does not compile); 3: inconclusive, run it again; 4: skipped,
/// the claim cannot be measured on this machine. (2 is a bad argument or
/// another error of the runner's.)
fn exit_code(judged: Judged) -> u8 {
    match judged {
        Judged::Ran(Verdict::Ok) => 0,
        Judged::Ran(Verdict::Mismatch) | Judged::DoesNotCompile => 1,
        Judged::Ran(Verdict::Inconclusive) => 3,
        Judged::Ran(Verdict::Skipped) => 4,
    }
}

/// The verdict of several scenarios together.
fn overall(verdicts: impl IntoIterator<Item = Verdict>) -> Verdict {
    let all: Vec<Verdict> = verdicts.into_iter().collect();
    [Verdict::Mismatch, Verdict::Inconclusive, Verdict::Skipped]
        .into_iter()
        .find(|v| all.contains(v))
        .unwrap_or(Verdict::Ok)
}

/// What was judged: the verdict, each scenario's judgement, and the bytes
/// of the learner's file as they were when it was built.
struct Outcome {
    judged: Judged,
    results: Vec<(String, Judgement)>,
    source: Vec<u8>,
}

/// The learner's run of `scenario` missed only timing facts. Measure the
/// lesson's own fix at once, on the same machine: if it misses too, the
/// machine is too busy to tell, and the verdict is inconclusive. If it
/// meets the claim, the learner's program is measured once more, and that
/// run decides.
fn measure_again(
    ws: &Workspace,
    lesson: &Lesson,
    scenario: &Scenario,
    exe: &Path,
    first: Judgement,
    stream: bool,
) -> Result<(Option<process::RunResult>, Judgement), Failure> {
    if stream {
        println!();
        println!(
            "(a timing fact missed its bound: {}. Measuring the lesson's own fix now, to see whether this machine is too busy to tell.)",
            first.summary()
        );
    }
    let exes = compile::lessons(&[lesson])?;
    let fixed = compile::exe(&exes, lesson, &Variant::Fixed)?;
    let described = compile::describe(fixed)
        .map_err(|e| Failure::new(format!("{}: {e}", lesson.bin_for(&Variant::Fixed))))?;
    let piece = compile::pieces_of(&described, &scenario.name)
        .into_iter()
        .next()
        .unwrap_or_default();
    let (reference, rj) = run_one(ws, fixed, lesson, scenario, &Variant::Fixed, &piece, false)?;
    if !rj.ok() {
        let mut j = first;
        let busy = crate::judge::busy(&reference)
            .map(|why| format!("; {why}"))
            .unwrap_or_default();
        j.make_inconclusive(format!(
            "the lesson's own fix, measured just after, missed too ({}){busy}",
            rj.summary()
        ));
        return Ok((None, j));
    }
    if stream {
        println!("(the lesson's own fix met the claim just now: measuring your program once more)");
    }
    let variant = Variant::Exercise(String::new());
    let (again, j) = run_one(ws, exe, lesson, scenario, &variant, "", false)?;
    Ok((Some(again), j))
}

/// Builds the learner's file, runs every scenario that judges it, and says
/// what happened in plain words. With `stream`, the program's own output
/// (narration, timeline) is shown as it runs.
fn judge_exercise(
    ws: &Workspace,
    lesson: &Lesson,
    ex: &Exercise,
    stream: bool,
    mut traced: Option<&mut tracefile::Collected>,
) -> Result<Outcome, Failure> {
    let paint = Paint::stdout();
    let file = lesson.exercise_file(&ex.name);
    if stream {
        println!(
            "{}",
            paint.wrap(
                "1",
                &format!("▶ {} · exercise {}: {}", lesson.id, ex.name, ex.goal)
            )
        );
        println!("  your file: {}", show(ws, &file));
        println!("  building it...");
    }
    // What is built and judged is the file as it is now: an edit saved
    // while it runs is judged next time, never credited with this verdict.
    let source = std::fs::read(&file)
        .map_err(|e| Failure::new(format!("cannot read {}: {e}", show(ws, &file))))?;
    let exe = match compile::exercise(lesson, &ex.name, !stream)? {
        ExerciseBuild::Built(exe) => exe,
        ExerciseBuild::Errors(errors) => {
            if stream {
                print_build_errors(ws, &file, &errors);
            }
            return Ok(Outcome {
                judged: Judged::DoesNotCompile,
                results: Vec::new(),
                source,
            });
        }
    };
    let described = compile::describe(&exe).map_err(|e| {
        Failure::new(format!(
            "{}: {e}. Keep the `fn main` at the end of {} as the starting point has it (`cargo xtask reset {} {}` starts over).",
            lesson.exercise_bin(&ex.name),
            show(ws, &file),
            lesson.id,
            ex.name
        ))
    })?;
    let mut checked = lesson.clone();
    checked.check_against(&described).map_err(Failure::new)?;
    let mut results = Vec::new();
    let variant = Variant::Exercise(ex.name.clone());
    for name in &ex.scenarios {
        let scenario = checked
            .scenario(name)
            .expect("the manifest names only its own scenarios");
        if stream {
            println!();
            println!(
                "{}",
                paint.wrap(
                    "1",
                    &format!("▶ scenario {}: {}", scenario.name, scenario.summary)
                )
            );
            println!("  a fix: {}", scenario.fixed.claim);
            println!();
        }
        let (mut result, mut j) = run_one(ws, &exe, &checked, scenario, &variant, "", stream)?;
        if stream && result.stopped.is_some() {
            print_runner_stop(&result, &j);
        }
        if j.only_timing_misses() {
            let (again, judged) = measure_again(ws, &checked, scenario, &exe, j, stream)?;
            j = judged;
            if let Some(again) = again {
                result = again;
            }
        }
        if let Some(t) = traced.as_deref_mut() {
            t.add(
                format!("{} · {} · your {}", lesson.id, scenario.name, ex.name),
                &result.report.events,
            );
        }
        results.push((scenario.name.clone(), j));
    }
    let judged = Judged::Ran(overall(results.iter().map(|(_, j)| j.verdict())));
    if stream {
        println!();
        for (name, j) in &results {
            let meaning = |fact: &str| compile::meaning(&described, name, fact);
            let expect = &checked.scenario(name).expect("known scenario").fixed;
            print_scenario_verdict(&paint, name, expect, j, meaning);
        }
    }
    Ok(Outcome {
        judged,
        results,
        source,
    })
}

fn print_build_errors(ws: &Workspace, file: &Path, errors: &[String]) {
    const SHOWN: usize = 3;
    println!();
    for e in errors.iter().take(SHOWN) {
        println!("{e}\n");
    }
    let more = errors.len().saturating_sub(SHOWN);
    let count = if errors.len() == 1 {
        "an error".to_string()
    } else {
        format!("{} errors", errors.len())
    };
    let more = if more > 0 {
        format!(" ({more} more not shown; fix these first)")
    } else {
        String::new()
    };
    println!(
        "{}",
        Paint::stdout().wrap(
            "31",
            &format!(
                "✘ Your exercise does not compile yet: {count} above{more}. Fix {} and save it.",
                show(ws, file)
            )
        )
    );
}

/// One scenario's verdict on the learner's program: what was measured on
/// it, fact by fact, beside what a fix gives. It never restates the
/// lesson's claim as if it were a fact about their code.
fn print_scenario_verdict(
    paint: &Paint,
    name: &str,
    expect: &shared::contract::manifest::Expect,
    j: &Judgement,
    meaning: impl Fn(&str) -> Option<String>,
) {
    match j.verdict() {
        Verdict::Skipped => println!(
            "{}",
            paint.wrap(
                "33",
                &format!(
                    "– {name}: cannot be judged on this machine: {}",
                    j.observed.describe()
                )
            )
        ),
        Verdict::Ok => {
            println!(
                "{}",
                paint.wrap(
                    "32",
                    &format!(
                        "✔ {name}: your program {}, and every fact measured on it is what a fix gives:",
                        j.observed.describe()
                    )
                )
            );
            for line in j.plain_measured(expect, &meaning) {
                println!("    - {line}");
            }
        }
        Verdict::Inconclusive => {
            println!(
                "{}",
                paint.wrap(
                    "33",
                    &format!(
                        "? {name}: inconclusive: this machine is too busy right now to tell. Run it again."
                    )
                )
            );
            for p in &j.problems {
                println!("    - {}", p.plain(&meaning));
            }
            if let Some(why) = &j.inconclusive {
                println!("    ({why})");
            }
        }
        Verdict::Mismatch => {
            println!("{}", paint.wrap("31", &format!("✘ {name}: not fixed yet:")));
            for p in &j.problems {
                println!("    - {}", p.plain(&meaning));
            }
        }
    }
}

/// Judges one exercise, records the result, and says what to do next.
fn try_one(ws: &Workspace, lesson: &Lesson, ex: &Exercise, trace: bool) -> Result<Judged, Failure> {
    ensure_file(ws, lesson, ex)?;
    let mut traced = trace.then(tracefile::Collected::default);
    let began_ms = now_ms();
    let outcome = judge_exercise(ws, lesson, ex, true, traced.as_mut())?;
    if let Some(t) = &traced {
        let what = format!("{}-exercise-{}", lesson.id, ex.name);
        t.write(&tracefile::path(&ws.target_dir, &what))?;
    }
    let paint = Paint::stdout();
    let file = lesson.exercise_file(&ex.name);
    match outcome.judged {
        Judged::Ran(Verdict::Ok) => {
            // A reset made while this ran wins over its verdict.
            if !Progress::record(lesson, &ex.name, true, &outcome.source, began_ms)? {
                println!(
                    "{}",
                    paint.wrap(
                        "33",
                        "  (the exercise was reset while it was being judged, so this verdict is not recorded)"
                    )
                );
                return Ok(outcome.judged);
            }
            println!(
                "{}",
                paint.wrap(
                    "32;1",
                    &format!(
                        "✔ Exercise {} of {} is fixed: every fact measured on your program is what a fix gives.",
                        ex.name, lesson.id
                    )
                )
            );
            println!(
                "  Compare it with the lesson's own fix: `mod fixed` in {}, explained in book/src/{}.",
                show(ws, &lesson.dir.join("src").join("lib.rs")),
                lesson.chapter
            );
        }
        Judged::Ran(Verdict::Skipped) => {
            println!(
                "{}",
                paint.wrap(
                    "33",
                    "– This machine cannot measure the claim (see above), so your fix was not judged. It is not marked solved."
                )
            );
        }
        Judged::Ran(Verdict::Inconclusive) => {
            println!(
                "{}",
                paint.wrap(
                    "33",
                    &format!(
                        "? Inconclusive: the machine was too busy to tell (see above). Nothing is recorded; run `cargo xtask try {} {}` again.",
                        lesson.id, ex.name
                    )
                )
            );
        }
        Judged::Ran(Verdict::Mismatch) | Judged::DoesNotCompile => {
            // A solved mark is for the code as it is: a failed verdict ends it.
            Progress::record(lesson, &ex.name, false, &outcome.source, began_ms)?;
            println!(
                "  Edit {}, then run `cargo xtask try {} {}` again (or `cargo xtask watch {}` to judge on every save).",
                show(ws, &file),
                lesson.id,
                ex.name,
                lesson.id
            );
            println!(
                "  Stuck? `cargo xtask hint {} {}` gives one hint at a time.",
                lesson.id, ex.name
            );
        }
    }
    Ok(outcome.judged)
}

fn note_reference_edits(ws: &Workspace, lesson: &Lesson) {
    if let Some(edits) = reference_edits(ws, lesson) {
        println!(
            "{}",
            Paint::stdout().wrap(
                "33",
                &format!(
                    "note: you have changed the lesson's own files ({edits}). They are the reference: the harness that measures your program lives there, so edits to them can change the verdict. Fix the bug in your exercise file instead (`git checkout -- {}` restores the lesson).",
                    lesson.dir.strip_prefix(&ws.root).unwrap_or(&lesson.dir).display()
                )
            )
        );
    }
}

/// The exercises a command is about: the named one, or all of the lesson's.
fn chosen<'a>(lesson: &'a Lesson, name: Option<&str>) -> Result<Vec<&'a Exercise>, Failure> {
    match name {
        Some(n) => Ok(vec![find_exercise(lesson, n)?]),
        None if lesson.exercises.is_empty() => {
            Err(Failure::new(format!("{} has no exercises", lesson.id)))
        }
        None => Ok(lesson.exercises.iter().collect()),
    }
}

pub fn try_command(args: &[String]) -> Result<ExitCode, Failure> {
    let usage = "cargo xtask try <lesson> [exercise] [--trace]";
    let (flags, words) = parse_args(args, &["--trace"], 2, usage)?;
    let trace = flags.contains(&"--trace");
    let ws = Workspace::load()?;
    let Some(q) = words.first() else {
        return Err(Failure::new(format!("which lesson? usage: {usage}")));
    };
    let lesson = ws.find(q)?;
    let exercises = chosen(lesson, words.get(1).copied())?;
    note_reference_edits(&ws, lesson);
    let mut verdicts = Vec::new();
    for (i, ex) in exercises.iter().enumerate() {
        if i > 0 {
            println!();
        }
        verdicts.push(match try_one(&ws, lesson, ex, trace)? {
            Judged::DoesNotCompile => Verdict::Mismatch,
            Judged::Ran(v) => v,
        });
    }
    Ok(ExitCode::from(exit_code(Judged::Ran(overall(verdicts)))))
}

pub fn hint_command(args: &[String]) -> Result<ExitCode, Failure> {
    let usage = "cargo xtask hint <lesson> [exercise]";
    let (_, words) = parse_args(args, &[], 2, usage)?;
    let ws = Workspace::load()?;
    let Some(q) = words.first() else {
        return Err(Failure::new(format!("which lesson? usage: {usage}")));
    };
    let lesson = ws.find(q)?;
    let progress = Progress::load(lesson);
    let ex = match words.get(1) {
        Some(n) => find_exercise(lesson, n)?,
        // The first exercise not yet solved, or the first.
        None => chosen(lesson, None)?
            .into_iter()
            .find(|e| progress.status(lesson, &e.name) != Status::Solved)
            .unwrap_or(&lesson.exercises[0]),
    };
    let shown = Progress::update(lesson, |p| {
        let state = p.state(&ex.name);
        state.hints = (state.hints + 1).min(ex.hints.len());
        state.hints
    })?;
    let total = ex.hints.len();
    println!("{} · exercise {}: {}", lesson.id, ex.name, ex.goal);
    for (i, hint) in ex.hints.iter().take(shown).enumerate() {
        println!();
        println!("Hint {} of {total}: {hint}", i + 1);
    }
    println!();
    if shown < total {
        println!(
            "Run `cargo xtask hint {} {}` again for the next hint.",
            lesson.id, ex.name
        );
    } else {
        println!(
            "That was the last hint. The lesson's own fix is `mod fixed` in {}, explained in book/src/{}.",
            show(&ws, &lesson.dir.join("src").join("lib.rs")),
            lesson.chapter
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Asks a yes/no question on the terminal; no terminal means no.
fn confirm(question: &str) -> bool {
    if !std::io::stdin().is_terminal() {
        return false;
    }
    print!("{question} [y/N] ");
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    if std::io::stdin().lock().read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim().to_lowercase().as_str(), "y" | "yes")
}

pub fn reset_command(args: &[String]) -> Result<ExitCode, Failure> {
    let usage = "cargo xtask reset <lesson> [exercise] [--yes]";
    let (flags, words) = parse_args(args, &["--yes", "-y"], 2, usage)?;
    let yes = !flags.is_empty();
    let ws = Workspace::load()?;
    let Some(q) = words.first() else {
        return Err(Failure::new(format!("which lesson? usage: {usage}")));
    };
    let lesson = ws.find(q)?;
    let exercises = chosen(lesson, words.get(1).copied())?;
    for ex in exercises {
        let file = lesson.exercise_file(&ex.name);
        let start = lesson.exercise_start(&ex.name);
        let start_bytes = std::fs::read(&start)
            .map_err(|e| Failure::new(format!("cannot read {}: {e}", show(&ws, &start))))?;
        let edited = edited_since_start(&file, &start_bytes)
            .map_err(|e| Failure::new(format!(
                "cannot read {} ({e}), so reset will not replace it: it may hold your work. Move it away yourself, then run reset again",
                show(&ws, &file)
            )))?;
        if edited && !yes {
            if !std::io::stdin().is_terminal() {
                return Err(Failure::new(format!(
                    "reset would discard your changes to {}; run it again with --yes to confirm",
                    show(&ws, &file)
                )));
            }
            if !confirm(&format!(
                "Discard your changes to {} and start over?",
                show(&ws, &file)
            )) {
                println!("Kept {} as it is.", show(&ws, &file));
                continue;
            }
        }
        std::fs::write(&file, &start_bytes)
            .map_err(|e| Failure::new(format!("cannot write {}: {e}", show(&ws, &file))))?;
        // Forget the exercise, and note when: a verdict of a run that
        // began before now (a `watch` in another terminal) must not undo it.
        Progress::update(lesson, |p| {
            *p.state(&ex.name) = ExerciseState {
                reset_at_ms: Some(now_ms()),
                ..ExerciseState::default()
            };
        })?;
        println!(
            "{} is back at its start{}.",
            show(&ws, &file),
            if edited { "" } else { " (it had no changes)" }
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether the learner's `file` differs from its start. A missing file has
/// nothing to lose; a file that cannot be read is an error, since what it
/// holds cannot be known.
fn edited_since_start(file: &Path, start: &[u8]) -> std::io::Result<bool> {
    match std::fs::read(file) {
        Ok(bytes) => Ok(bytes != start),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Sleeps for `d`, unless the learner presses Ctrl-C (then `false`).
fn pause(d: Duration) -> bool {
    let until = Instant::now() + d;
    while Instant::now() < until {
        if process::interrupted() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    !process::interrupted()
}

/// What a file looks like from outside, cheaply.
fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// Waits until `path` has changed and then stayed the same for a moment
/// (an editor may write a file in several steps). Returns `false` if the
/// learner pressed Ctrl-C.
fn wait_for_save(path: &Path, judged: &[u8]) -> bool {
    const POLL: Duration = Duration::from_millis(100);
    const SETTLE: Duration = Duration::from_millis(150);
    let mut last = stamp(path);
    loop {
        if process::interrupted() {
            return false;
        }
        std::thread::sleep(POLL);
        let now = stamp(path);
        if now == last {
            continue;
        }
        // Changed: wait until it stops changing.
        let mut settled_since = Instant::now();
        let mut seen = now;
        while settled_since.elapsed() < SETTLE {
            if process::interrupted() {
                return false;
            }
            std::thread::sleep(Duration::from_millis(30));
            let again = stamp(path);
            if again != seen {
                seen = again;
                settled_since = Instant::now();
            }
        }
        last = seen;
        // A save that changed nothing (or a touch) needs no new verdict.
        if std::fs::read(path).is_ok_and(|bytes| bytes != judged) {
            return true;
        }
    }
}

pub fn watch_command(args: &[String]) -> Result<ExitCode, Failure> {
    let usage = "cargo xtask watch [lesson [exercise]]";
    let (_, words) = parse_args(args, &[], 2, usage)?;
    let ws = Workspace::load()?;
    // The exercises to go through, in order.
    let queue: Vec<(&Lesson, &Exercise)> = match words.first() {
        Some(q) => {
            let lesson = ws.find(q)?;
            chosen(lesson, words.get(1).copied())?
                .into_iter()
                .map(|e| (lesson, e))
                .collect()
        }
        None => ws
            .lessons
            .iter()
            .flat_map(|l| l.exercises.iter().map(move |e| (l, e)))
            .collect(),
    };
    if queue.is_empty() {
        return Err(Failure::new("there are no exercises to watch"));
    }
    let unsolved = |from: usize| {
        (from..queue.len()).find(|&i| {
            let (l, e) = queue[i];
            Progress::load(l).status(l, &e.name) != Status::Solved
        })
    };
    // A named exercise is watched even if solved; otherwise the first one
    // not yet solved.
    let Some(mut at) = (if words.len() == 2 {
        Some(0)
    } else {
        unsolved(0)
    }) else {
        println!("Every exercise here is solved already. `cargo xtask reset` one to do it again.");
        return Ok(ExitCode::SUCCESS);
    };
    let paint = Paint::stdout();
    let mut noted = Vec::new();
    loop {
        let (lesson, ex) = queue[at];
        if !noted.contains(&lesson.id) {
            note_reference_edits(&ws, lesson);
            noted.push(lesson.id.clone());
        }
        let file = lesson.exercise_file(&ex.name);
        let mut judged = try_one(&ws, lesson, ex, false)?;
        // A busy moment proves nothing either way: judge again by itself,
        // a few times, before waiting for a save.
        let mut again = 0;
        while judged == Judged::Ran(Verdict::Inconclusive) && again < 2 {
            again += 1;
            println!();
            println!(
                "{}",
                paint.wrap("2", "──── inconclusive: judging it again in a moment ────")
            );
            if !pause(Duration::from_secs(2)) {
                return Err(Failure::interrupted());
            }
            judged = try_one(&ws, lesson, ex, false)?;
        }
        // Fixed moves on; so does a claim this machine cannot measure (it
        // stays unsolved, and `list` says so).
        if judged.fixed() || judged == Judged::Ran(Verdict::Skipped) {
            match unsolved(at + 1) {
                Some(next) => {
                    at = next;
                    let (l, e) = queue[at];
                    println!();
                    println!(
                        "{}",
                        paint.wrap(
                            "1",
                            &format!(
                                "Next: {} · exercise {}. Its file: {}",
                                l.id,
                                e.name,
                                show(&ws, &l.exercise_file(&e.name))
                            )
                        )
                    );
                    println!();
                    continue;
                }
                None => {
                    println!();
                    println!(
                        "{}",
                        paint.wrap(
                            "32;1",
                            "Every exercise you asked to watch is fixed. Well done!"
                        )
                    );
                    return Ok(ExitCode::SUCCESS);
                }
            }
        }
        let judged = std::fs::read(&file).unwrap_or_default();
        println!();
        println!(
            "{}",
            paint.wrap(
                "2",
                &format!(
                    "Watching {}: save it to judge it again. Ctrl-C to stop.",
                    show(&ws, &file)
                )
            )
        );
        if !wait_for_save(&file, &judged) {
            return Err(Failure::interrupted());
        }
        println!();
        println!(
            "{}",
            paint.wrap(
                "2",
                &format!("──── {} changed: judging it again ────", show(&ws, &file))
            )
        );
        println!();
    }
}

/// The learner's file, set aside while a fixture stands in for it, and put
/// back however the fixtures command ends.
struct SetAside {
    file: PathBuf,
    saved: Option<Vec<u8>>,
}

impl Drop for SetAside {
    fn drop(&mut self) {
        let _ = match &self.saved {
            Some(bytes) => std::fs::write(&self.file, bytes),
            None => std::fs::remove_file(&self.file),
        };
    }
}

/// A fixture's file name says what it is: `fix_*.rs` must be judged fixed,
/// `bug_*.rs` must not.
fn fixtures_of(lesson: &Lesson, ex: &Exercise) -> Vec<(PathBuf, bool)> {
    let dir = lesson.dir.join("tests").join("fixtures").join(&ex.name);
    let mut found: Vec<(PathBuf, bool)> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?.to_string();
            if !name.ends_with(".rs") {
                return None;
            }
            if name.starts_with("fix_") {
                Some((p, true))
            } else if name.starts_with("bug_") {
                Some((p, false))
            } else {
                None
            }
        })
        .collect();
    found.push((lesson.exercise_start(&ex.name), false));
    found.sort();
    found
}

/// Whether a fixture was judged as its name says: `Some(true)` if so,
/// `Some(false)` if not, `None` when the machine was too busy to tell. A
/// skipped run proves nothing, so it is never "as named"; nor is a bug
/// that does not compile, which shows no bug at all.
fn fixture_as_named(judged: Judged, should_fix: bool) -> Option<bool> {
    match judged {
        Judged::Ran(Verdict::Inconclusive) => None,
        Judged::Ran(Verdict::Skipped) | Judged::DoesNotCompile => Some(false),
        Judged::Ran(Verdict::Ok) => Some(should_fix),
        Judged::Ran(Verdict::Mismatch) => Some(!should_fix),
    }
}

/// For the lessons' authors: every fixture fix and bug, and the untouched
/// starting point, judged end to end as a learner's file would be, under
/// real time. Each fix must be judged fixed; each bug, not.
pub fn fixtures_command(args: &[String]) -> Result<ExitCode, Failure> {
    let usage = "cargo xtask fixtures [lesson [exercise]]";
    let (_, words) = parse_args(args, &[], 2, usage)?;
    let ws = Workspace::load()?;
    let mut work: Vec<(&Lesson, &Exercise)> = Vec::new();
    match words.first() {
        Some(q) => {
            let lesson = ws.find(q)?;
            for e in chosen(lesson, words.get(1).copied())? {
                work.push((lesson, e));
            }
        }
        None => {
            for l in &ws.lessons {
                for e in &l.exercises {
                    work.push((l, e));
                }
            }
        }
    }
    let paint = Paint::stdout();
    let mut mismatches = 0;
    let mut inconclusive = 0;
    let mut count = 0;
    println!(
        "{:<9} {:<12} {:<34} {:<9} {:<8} {:>7}  what the judge saw",
        "lesson", "exercise", "fixture", "should be", "verdict", "time"
    );
    for (lesson, ex) in work {
        let file = lesson.exercise_file(&ex.name);
        let _aside = SetAside {
            saved: std::fs::read(&file).ok(),
            file: file.clone(),
        };
        for (fixture, should_fix) in fixtures_of(lesson, ex) {
            let started = Instant::now();
            std::fs::copy(&fixture, &file)
                .map_err(|e| Failure::new(format!("cannot copy {}: {e}", show(&ws, &fixture))))?;
            let outcome = judge_exercise(&ws, lesson, ex, false, None)?;
            count += 1;
            let as_named = fixture_as_named(outcome.judged, should_fix);
            match as_named {
                Some(false) => mismatches += 1,
                None => inconclusive += 1,
                Some(true) => {}
            }
            let detail: Vec<String> = outcome
                .results
                .iter()
                .map(|(s, j)| {
                    if j.ok() {
                        format!("{s}: fixed")
                    } else {
                        format!("{s}: {}", j.summary())
                    }
                })
                .collect();
            let detail = match outcome.judged {
                Judged::DoesNotCompile => "does not compile".to_string(),
                Judged::Ran(Verdict::Skipped) => {
                    format!("skipped, so nothing was proven: {}", detail.join("; "))
                }
                Judged::Ran(_) => detail.join("; "),
            };
            let word = match as_named {
                None => paint.wrap("33", "inconcl."),
                Some(true) => paint.wrap("32", "ok      "),
                Some(false) => paint.wrap("31", "MISMATCH"),
            };
            let name = fixture
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let name = if fixture.starts_with(lesson.dir.join("exercise")) {
                format!("(start) {name}")
            } else {
                name
            };
            println!(
                "{:<9} {:<12} {:<34} {:<9} {word} {:>5.1} s  {detail}",
                lesson.id,
                ex.name,
                name,
                if should_fix { "fixed" } else { "not fixed" },
                started.elapsed().as_secs_f64(),
            );
        }
    }
    println!();
    let busy_note = if inconclusive > 0 {
        format!(
            " ({inconclusive} inconclusive: only timing facts missed, and the lesson's own fix missed too)"
        )
    } else {
        String::new()
    };
    if mismatches == 0 {
        println!(
            "{}",
            paint.wrap(
                "32",
                &format!(
                    "all {} fixtures judged were judged as their names say{busy_note}",
                    count - inconclusive
                )
            )
        );
        Ok(ExitCode::SUCCESS)
    } else {
        println!(
            "{}",
            paint.wrap(
                "31",
                &format!("{mismatches} of {count} fixtures were judged wrongly{busy_note}")
            )
        );
        Ok(ExitCode::from(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixture_is_as_named_only_when_the_run_proved_it() {
        assert_eq!(fixture_as_named(Judged::Ran(Verdict::Ok), true), Some(true));
        assert_eq!(
            fixture_as_named(Judged::Ran(Verdict::Ok), false),
            Some(false)
        );
        assert_eq!(
            fixture_as_named(Judged::Ran(Verdict::Mismatch), false),
            Some(true)
        );
        assert_eq!(
            fixture_as_named(Judged::Ran(Verdict::Skipped), true),
            Some(false),
            "a skipped run proves nothing"
        );
        assert_eq!(
            fixture_as_named(Judged::DoesNotCompile, false),
            Some(false),
            "a bug that does not compile shows no bug"
        );
        assert_eq!(
            fixture_as_named(Judged::Ran(Verdict::Inconclusive), true),
            None
        );
    }

    #[test]
    fn try_exits_with_one_code_per_verdict() {
        assert_eq!(exit_code(Judged::Ran(Verdict::Ok)), 0);
        assert_eq!(exit_code(Judged::Ran(Verdict::Mismatch)), 1);
        assert_eq!(exit_code(Judged::DoesNotCompile), 1);
        assert_eq!(exit_code(Judged::Ran(Verdict::Inconclusive)), 3);
        assert_eq!(exit_code(Judged::Ran(Verdict::Skipped)), 4);
        assert_eq!(
            overall([Verdict::Ok, Verdict::Skipped, Verdict::Inconclusive]),
            Verdict::Inconclusive
        );
        assert_eq!(
            overall([Verdict::Inconclusive, Verdict::Mismatch]),
            Verdict::Mismatch
        );
        assert_eq!(overall([Verdict::Ok, Verdict::Ok]), Verdict::Ok);
    }

    #[test]
    fn reset_never_discards_a_file_it_cannot_read() {
        let dir = std::env::temp_dir().join(format!("xtask-reset-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("report.rs");
        assert!(
            !edited_since_start(&file, b"start").unwrap(),
            "missing: nothing to lose"
        );
        std::fs::write(&file, "start").unwrap();
        assert!(!edited_since_start(&file, b"start").unwrap());
        std::fs::write(&file, "mine").unwrap();
        assert!(edited_since_start(&file, b"start").unwrap());
        // A folder where the file should be cannot be read as one.
        std::fs::remove_file(&file).unwrap();
        std::fs::create_dir(&file).unwrap();
        assert!(edited_since_start(&file, b"start").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_save_is_noticed_once_it_settles_and_a_touch_is_not() {
        let path = std::env::temp_dir().join(format!("xtask-watch-{}.rs", std::process::id()));
        std::fs::write(&path, "one").unwrap();
        let writer = {
            let path = path.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(250));
                // A touch: same bytes, new time. Not a change to judge.
                std::fs::write(&path, "one").unwrap();
                std::thread::sleep(Duration::from_millis(400));
                std::fs::write(&path, "two, longer").unwrap();
            })
        };
        let started = Instant::now();
        assert!(wait_for_save(&path, b"one"));
        assert!(
            started.elapsed() >= Duration::from_millis(600),
            "woke for the touch"
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"two, longer");
        writer.join().unwrap();
        std::fs::remove_file(&path).unwrap();
    }
}
