//! `cargo xtask reset <lesson> [exercise] [--yes]`: back to the start,
//! asking first, and never discarding a file it cannot read.

use super::{chosen, show};
use crate::lessons::Workspace;
use crate::progress::{ExerciseState, Progress, now_ms};
use crate::{Failure, parse_args};
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
