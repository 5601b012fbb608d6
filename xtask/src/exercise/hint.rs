//! `cargo xtask hint <lesson> [exercise]`: one more hint each time.

use super::{chosen, show};
use crate::lessons::{Workspace, find_exercise};
use crate::progress::{Progress, Status};
use crate::{Failure, parse_args};
use std::process::ExitCode;

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
            "That was the last hint. The lesson's own fix is `mod fixed` in {}, explained in the Solution blocks of its chapter: {}.",
            show(&ws, &lesson.dir.join("src").join("lib.rs")),
            crate::commands::run::chapter_page(&ws.root.join("book"), &lesson.chapter)
        );
    }
    Ok(ExitCode::SUCCESS)
}
