//! `cargo xtask list`: the lessons, and how far the learner is with their
//! exercises.

use crate::lessons::Workspace;
use crate::progress::{Progress, Status};
use crate::ui::Paint;
use crate::{Failure, no_more};
use std::process::ExitCode;

pub fn command(args: &[String]) -> Result<ExitCode, Failure> {
    no_more("list", args)?;
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
        let progress = Progress::load(l);
        let status: Vec<String> = l
            .exercises
            .iter()
            .map(|e| {
                let s = progress.status(l, &e.name);
                let text = format!("{} {}", e.name, s.describe());
                match s {
                    Status::Solved => paint.wrap("32", &text),
                    _ => text,
                }
            })
            .collect();
        if !status.is_empty() {
            println!("{:10}  exercises: {}", "", status.join(", "));
        }
        if let Some(line) = predictions(l, &progress) {
            println!("{:10}  {line}", "");
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

/// "predictions: 1 of 2 right (1 of 2 scenarios predicted)", once the
/// learner has predicted something in this lesson.
fn predictions(lesson: &crate::lessons::Lesson, progress: &Progress) -> Option<String> {
    let asked = lesson
        .scenarios
        .iter()
        .filter(|s| s.prediction.is_some())
        .count();
    let made: Vec<bool> = lesson
        .scenarios
        .iter()
        .filter_map(|s| progress.predictions.get(&s.name))
        .map(|p| p.right)
        .collect();
    if made.is_empty() {
        return None;
    }
    let right = made.iter().filter(|&&r| r).count();
    Some(format!(
        "predictions: {right} of {} right ({} of {asked} scenarios predicted)",
        made.len(),
        made.len()
    ))
}
