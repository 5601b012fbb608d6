//! `cargo xtask try <lesson> [exercise]`: judge the learner's fix once,
//! record the verdict, and say what to do next.

use super::judging::{Judged, exit_code, judge_exercise, overall};
use super::{chosen, ensure_file, note_reference_edits, show};
use crate::lessons::{Exercise, Lesson, Workspace};
use crate::progress::{Progress, now_ms};
use crate::ui::Paint;
use crate::{Failure, parse_args, tracefile};
use shared::grade::Verdict;
use std::process::ExitCode;

/// Judges one exercise, records the result, and says what to do next.
/// Returns the verdict and the source that was built and judged.
pub(super) fn try_one(
    ws: &Workspace,
    lesson: &Lesson,
    ex: &Exercise,
    trace: bool,
) -> Result<(Judged, Vec<u8>), Failure> {
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
                return Ok((Judged::Superseded, outcome.source));
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
                "  Compare it with the lesson's own fix: `mod fixed` in {}, explained in the Solution blocks of its chapter: {}.",
                show(ws, &lesson.dir.join("src").join("lib.rs")),
                crate::commands::run::chapter_page(&ws.root.join("book"), &lesson.chapter)
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
        // Printed where it happened, above.
        Judged::Superseded => {}
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
    Ok((outcome.judged, outcome.source))
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
        verdicts.push(match try_one(&ws, lesson, ex, trace)?.0 {
            Judged::DoesNotCompile | Judged::Superseded => Verdict::Mismatch,
            Judged::Ran(v) => v,
        });
    }
    Ok(ExitCode::from(exit_code(Judged::Ran(overall(verdicts)))))
}
