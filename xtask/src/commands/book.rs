//! `cargo xtask book [--open]`: draws every timeline from a real run,
//! writes each lesson's table of facts, and builds the book with mdBook.

use crate::book;
use crate::compile;
use crate::lessons::{Lesson, Variant, Workspace};
use crate::runs::{build_and_check, run_judged};
use crate::ui::label;
use crate::{Failure, parse_args, process};
use shared::view::timeline::Timeline;
use std::process::{Command, ExitCode, Stdio};

pub fn command(args: &[String]) -> Result<ExitCode, Failure> {
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
