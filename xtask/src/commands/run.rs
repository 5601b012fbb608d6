//! `cargo xtask run <lesson>`: builds a lesson and runs it, broken then
//! fixed (or the side asked for), showing each program's narration and
//! timeline as it runs and a one-sentence verdict after it.

use crate::compile::{self, Checked, Exes};
use crate::judge::verdict;
use crate::lessons::{Lesson, Scenario, Variant, Workspace, find_scenario};
use crate::runs::{build_and_check, print_runner_stop, run_judged};
use crate::ui::{Paint, label, mark};
use crate::{Failure, parse_args, tracefile};
use shared::grade::{Judgement, Verdict};
use std::path::Path;
use std::process::ExitCode;

const USAGE: &str =
    "cargo xtask run <lesson> [--broken | --fixed] [scenario] [--trace] [--metrics] [--no-predict]";

pub fn command(args: &[String]) -> Result<ExitCode, Failure> {
    let (flags, words) = parse_args(
        args,
        &[
            "--broken",
            "--fixed",
            "--trace",
            "--metrics",
            "--no-predict",
        ],
        2,
        USAGE,
    )?;
    let predicting = crate::predict::wanted(flags.contains(&"--no-predict"));
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
            "which lesson? usage: {USAGE}; lessons: {}",
            ids.join(", ")
        )));
    };
    let lesson = ws.find(lesson_arg)?;
    if flags.contains(&"--metrics") {
        ask_for_metrics(lesson)?;
    }
    let scenarios: Vec<&Scenario> = match words.get(1) {
        None => lesson.scenarios.iter().collect(),
        Some(name) => vec![find_scenario(lesson, name)?],
    };
    let (exes, checked) = build_and_check(&[lesson])?;
    introduce(&ws, lesson);
    let mut all_ok = true;
    for scenario in scenarios {
        let scenario = checked[0]
            .lesson
            .scenario(&scenario.name)
            .expect("checked lessons keep their scenarios");
        for variant in &variants {
            let mut predicted = None;
            if predicting && *variant == Variant::Broken {
                predicted = crate::predict::ask(&checked[0].lesson, scenario)?;
            }
            for piece in checked[0].pieces(variant, &scenario.name) {
                let run = Piece {
                    ws: &ws,
                    exes: &exes,
                    checked: &checked[0],
                    scenario,
                    variant,
                    piece: &piece,
                };
                let j = run.show(traced.as_mut())?;
                all_ok &= j.verdict() != Verdict::Mismatch;
                if let (Some(chosen), Some(p)) = (predicted.take(), &scenario.prediction) {
                    crate::predict::compare(p, chosen, &j);
                }
            }
        }
    }
    if let Some(t) = &traced {
        let what = match words.get(1) {
            Some(name) => format!("{}-{name}", lesson.id),
            None => lesson.id.clone(),
        };
        t.write(&tracefile::path(&ws.target_dir, &what))?;
    }
    invite(lesson);
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Asks the lesson's programs for their task monitors' table, through the
/// environment they inherit; or says, in one line, that the lesson has
/// none (only a lesson that depends on tokio-metrics monitors its tasks).
fn ask_for_metrics(lesson: &Lesson) -> Result<(), Failure> {
    let manifest = std::fs::read_to_string(&lesson.manifest_path).unwrap_or_default();
    let monitors = manifest
        .lines()
        .any(|l| l.trim_start().starts_with("tokio-metrics"));
    if !monitors {
        return Err(Failure::new(format!(
            "{} has no task monitors to print: `--metrics` is for lesson-14, whose service monitors each kind of task with tokio-metrics",
            lesson.id
        )));
    }
    set_metrics_env();
    Ok(())
}

#[allow(unsafe_code)]
fn set_metrics_env() {
    // SAFETY: the runner is still one thread here (it has started no
    // thread yet, only finished child processes), so no other thread can
    // be reading the environment while it changes.
    unsafe { std::env::set_var(shared::contract::report::METRICS_ENV, "1") };
}

/// The lesson's title, idea, and where to read along.
fn introduce(ws: &Workspace, lesson: &Lesson) {
    let paint = Paint::stdout();
    println!(
        "{}",
        paint.wrap("1", &format!("{}: {}", lesson.id, lesson.title))
    );
    println!("{}", lesson.idea);
    println!("{}", read_along(&ws.root.join("book"), &lesson.chapter));
}

/// Where to read the chapter: the built page if `cargo xtask book` has made
/// it, otherwise how to make it (the markdown source is full of include
/// directives, not for reading).
fn read_along(book: &Path, chapter: &str) -> String {
    format!("Read along: {}", chapter_page(book, chapter))
}

/// The chapter's page: `file://…` once the book is built, otherwise its
/// name and how to build the book.
pub(crate) fn chapter_page(book: &Path, chapter: &str) -> String {
    let name = Path::new(chapter).with_extension("html");
    let page = book.join("book").join(&name);
    if page.exists() {
        format!("file://{}", page.display())
    } else {
        format!(
            "{} in the book (`cargo xtask book --open` builds it and opens it)",
            name.display()
        )
    }
}

/// After the runs: the learner's turn.
fn invite(lesson: &Lesson) {
    if lesson.exercises.is_empty() {
        return;
    }
    let names: Vec<&str> = lesson.exercises.iter().map(|e| e.name.as_str()).collect();
    println!();
    println!(
        "Now fix it yourself: `cargo xtask try {}` (the exercises: {}).",
        lesson.id,
        names.join(", ")
    );
}

/// One piece of one variant of one scenario, to run in front of the learner.
struct Piece<'a> {
    ws: &'a Workspace,
    exes: &'a Exes,
    checked: &'a Checked,
    scenario: &'a Scenario,
    variant: &'a Variant,
    piece: &'a str,
}

impl Piece<'_> {
    /// Says what the lesson predicts, runs it with its output streamed,
    /// and says what was measured. Returns the judgement.
    fn show(&self, traced: Option<&mut tracefile::Collected>) -> Result<Judgement, Failure> {
        let lesson = &self.checked.lesson;
        let paint = Paint::stdout();
        let expect = self.scenario.claim_for(self.variant);
        let name = format!(
            "{} · {} · {}",
            lesson.id,
            self.scenario.name,
            label(self.variant, self.piece)
        );
        println!();
        println!(
            "{}",
            paint.wrap("1", &format!("▶ {name}: {}", self.scenario.summary))
        );
        println!("  the lesson predicts: {}", expect.claim);
        println!();
        let exe = compile::exe(self.exes, lesson, self.variant)?;
        let (result, j) = run_judged(
            self.ws,
            exe,
            lesson,
            self.scenario,
            self.variant,
            self.piece,
            true,
        )?;
        if let Some(t) = traced {
            t.add(name, &result.report.events);
        }
        if result.stopped.is_some() {
            // The child's own watchdog did not get to explain; we do.
            print_runner_stop(&result, &j);
        }
        let line = verdict(&label(self.variant, self.piece), expect, &j);
        let (sign, colour) = mark(j.verdict());
        println!("{}", paint.wrap(colour, &format!("{sign} {line}")));
        Ok(j)
    }
}

#[cfg(test)]
mod tests {
    use super::read_along;

    #[test]
    fn read_along_points_at_the_built_page_or_says_how_to_build_it() {
        let book = std::env::temp_dir().join(format!("xtask-read-along-{}", std::process::id()));
        let chapter = "lesson-05-select-pinned-sleep.md";
        let _ = std::fs::remove_dir_all(&book);
        let before = read_along(&book, chapter);
        assert!(before.starts_with("Read along: "), "{before}");
        assert!(before.contains("cargo xtask book --open"), "{before}");
        assert!(
            !before.contains(".md"),
            "never the markdown source: {before}"
        );

        std::fs::create_dir_all(book.join("book")).unwrap();
        let page = book.join("book").join("lesson-05-select-pinned-sleep.html");
        std::fs::write(&page, "<html>").unwrap();
        let after = read_along(&book, chapter);
        assert_eq!(after, format!("Read along: file://{}", page.display()));
        std::fs::remove_dir_all(&book).unwrap();
    }
}
