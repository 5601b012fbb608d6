//! Exercises: the learner fixes a lesson's bug in a file of their own, and
//! the runner judges *their* program against the lesson's fixed claim, with
//! the same harness that judges ours.
//!
//! Each exercise is a file the learner edits, `exercise/<name>.rs`, which
//! ships as a copy of its starting point, `exercise/start/<name>.rs`: `reset`
//! copies the start back, with no need for git (and a deleted file is made
//! again from it). `exercise/.progress.json`, which git ignores, remembers
//! what was solved and how many hints were shown.

mod attempt;
mod fixtures;
mod hint;
mod judging;
mod reset;
mod watch;

pub use attempt::try_command;
pub use fixtures::fixtures_command;
pub use hint::hint_command;
pub use reset::reset_command;
pub use watch::watch_command;

use crate::Failure;
use crate::lessons::{Exercise, Lesson, Workspace, find_exercise};
use crate::ui::Paint;
use std::path::Path;
use std::process::{Command, Stdio};

/// A path for messages: relative to the workspace when it is inside it.
pub(crate) fn show(ws: &Workspace, path: &Path) -> String {
    path.strip_prefix(&ws.root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Makes the learner's file from the starting point if it does not exist.
/// Returns whether it did.
pub(crate) fn ensure_file(ws: &Workspace, lesson: &Lesson, ex: &Exercise) -> Result<bool, Failure> {
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

pub(crate) fn note_reference_edits(ws: &Workspace, lesson: &Lesson) {
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
pub(crate) fn chosen<'a>(
    lesson: &'a Lesson,
    name: Option<&str>,
) -> Result<Vec<&'a Exercise>, Failure> {
    match name {
        Some(n) => Ok(vec![find_exercise(lesson, n)?]),
        None if lesson.exercises.is_empty() => {
            Err(Failure::new(format!("{} has no exercises", lesson.id)))
        }
        None => Ok(lesson.exercises.iter().collect()),
    }
}
