//! `cargo xtask book [--open]`: builds the lessons, checks the book against
//! them (includes, anchors, and every fact a chapter quotes, as the
//! binaries declare them), draws every timeline from a real run, writes
//! each lesson's table of facts, and builds the book with mdBook.

use crate::book;
use crate::compile::{self, Checked, Exes};
use crate::lessons::{Lesson, Variant, Workspace};
use crate::runs::{build_and_check, run_judged};
use crate::ui::label;
use crate::{Failure, parse_args, process};
use shared::view::timeline::Timeline;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

pub fn command(args: &[String]) -> Result<ExitCode, Failure> {
    let (flags, _) = parse_args(args, &["--open"], 0, "cargo xtask book [--open]")?;
    let ws = Workspace::load()?;
    let book_dir = ws.root.join("book");
    let book_src = book_dir.join("src");
    let mdbook = book::mdbook(&ws)?;
    let quiz_dir = book::mdbook_quiz(&ws)?;
    let lessons: Vec<&Lesson> = ws.lessons.iter().collect();
    let (exes, checked) = build_and_check(&lessons)?;
    let facts: BTreeSet<String> = checked
        .iter()
        .flat_map(|c| [&c.broken, &c.fixed])
        .flat_map(|d| d.scenarios.iter().flat_map(|s| s.facts.iter()))
        .map(|f| f.name.clone())
        .collect();
    let problems = book::check_sources(&book_src, &ws.lessons, Some(&facts));
    if !problems.is_empty() {
        return Err(Failure::new(format!(
            "the book has drifted from the code:\n  {}",
            problems.join("\n  ")
        )));
    }
    let out_dir = book_src.join(book::GENERATED);
    // Start clean, so that a renamed scenario leaves no stale picture behind.
    let _ = std::fs::remove_dir_all(&out_dir);
    std::fs::create_dir_all(&out_dir)
        .map_err(|e| Failure::new(format!("cannot create {}: {e}", out_dir.display())))?;
    println!("Drawing the timelines from real runs:");
    for c in &checked {
        draw_lesson(&ws, &exes, c, &out_dir)?;
        write(
            &out_dir,
            &book::predictions_quiz_name(&c.lesson),
            &book::predictions_quiz(&c.lesson),
        )?;
    }
    let problems = book::check_generated(&book_src, &ws);
    if !problems.is_empty() {
        return Err(Failure::new(problems.join("\n  ")));
    }
    let index = build(&mdbook, quiz_dir.as_deref(), &book_dir)?;
    println!("The book is at {}", index.display());
    if flags.contains(&"--open") {
        open(&index);
    }
    Ok(ExitCode::SUCCESS)
}

fn write(out_dir: &Path, name: &str, text: &str) -> Result<(), Failure> {
    let path = out_dir.join(name);
    std::fs::write(&path, text)
        .map_err(|e| Failure::new(format!("cannot write {}: {e}", path.display())))
}

/// Runs every piece of every scenario of a lesson, draws each timeline as
/// SVG, and writes the lesson's table of facts.
fn draw_lesson(ws: &Workspace, exes: &Exes, c: &Checked, out_dir: &Path) -> Result<(), Failure> {
    let lesson = &c.lesson;
    let mut rows = vec![book::FACTS_HEADER.to_string()];
    let mut details: Vec<String> = Vec::new();
    for scenario in &lesson.scenarios {
        let mut measured: Vec<(String, Vec<(String, f64)>)> = Vec::new();
        for variant in Variant::BOTH {
            let expect = scenario.claim_for(&variant);
            let exe = compile::exe(exes, lesson, &variant)?;
            for piece in c.pieces(&variant, &scenario.name) {
                let (result, j) = run_judged(ws, exe, lesson, scenario, &variant, &piece, false)?;
                let timeline = Timeline::from_events(&result.report.events);
                let run = label(&variant, &piece);
                let title = format!(
                    "{} · {} · {run}: {}",
                    lesson.id,
                    scenario.name,
                    j.observed.describe()
                );
                let svg = book::svg_name(lesson, &scenario.name, &variant, &piece);
                write(out_dir, &svg, &timeline.svg(&title))?;
                rows.push(book::facts_row(&scenario.name, &run, expect, &j));
                println!(
                    "  book/src/{}/{svg}  ({})",
                    book::GENERATED,
                    j.observed.describe()
                );
                measured.push((run, j.facts));
            }
        }
        details.push(book::all_facts_table(&scenario.name, &measured));
    }
    let text = rows.join("\n") + "\n" + &details.concat();
    write(out_dir, &book::facts_name(lesson), &text)
}

/// Builds the book with mdBook; returns its front page.
fn build(mdbook: &Path, quiz_dir: Option<&Path>, book_dir: &Path) -> Result<PathBuf, Failure> {
    let mut command = Command::new(mdbook);
    if let Some(dir) = quiz_dir {
        // mdbook finds its preprocessors on PATH: ours first.
        let path = std::env::var_os("PATH").unwrap_or_default();
        let joined = std::env::join_paths(
            std::iter::once(dir.to_path_buf()).chain(std::env::split_paths(&path)),
        )
        .map_err(|e| Failure::new(format!("cannot add {} to PATH: {e}", dir.display())))?;
        command.env("PATH", joined);
    }
    let status = command
        .arg("build")
        .arg(book_dir)
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
    Ok(book_dir.join("book").join("index.html"))
}

/// Opens the book in the learner's browser, or says where it is.
fn open(index: &Path) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let opened = Command::new(opener)
        .arg(index)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .is_ok();
    if !opened {
        println!("(could not find {opener} to open it; open the file above in a browser)");
    }
}
