//! `cargo xtask fixtures [lesson [exercise]]`, for the lessons' authors:
//! every fixture fix and bug, and the untouched starting point, judged end
//! to end as a learner's file would be, under real time.

use super::judging::{Judged, diagnoses_shown, judge_exercise};
use super::{chosen, show};
use crate::lessons::{Exercise, Lesson, Workspace};
use crate::ui::Paint;
use crate::{Failure, parse_args};
use shared::grade::Verdict;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

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
        Judged::Ran(Verdict::Skipped) | Judged::DoesNotCompile | Judged::Superseded => Some(false),
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
    let work: Vec<(&Lesson, &Exercise)> = match words.first() {
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
    let (mut count, mut mismatches, mut inconclusive) = (0, 0, 0);
    println!(
        "{:<9} {:<12} {:<34} {:<9} {:<8} {:>7}  {:<22} what the judge saw",
        "lesson", "exercise", "fixture", "should be", "verdict", "time", "likely cause"
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
            let (as_named, cause, detail) = judge_fixture(&ws, lesson, ex, should_fix)?;
            count += 1;
            match as_named {
                Some(false) => mismatches += 1,
                None => inconclusive += 1,
                Some(true) => {}
            }
            let row = Row {
                fixture: &fixture,
                should_fix,
                as_named,
                cause: &cause,
                detail: &detail,
            };
            print_row(lesson, ex, &row, started);
        }
    }
    Ok(summary(count, mismatches, inconclusive))
}

/// Judges the fixture now in the learner's file: whether it was judged as
/// its name says (see [`fixture_as_named`]), the ids of the diagnoses the
/// learner would be shown (empty when none matched), and what the judge
/// saw. A
/// fixture the runner cannot judge at all (it does not describe itself, say)
/// is not as named, and the run goes on.
fn judge_fixture(
    ws: &Workspace,
    lesson: &Lesson,
    ex: &Exercise,
    should_fix: bool,
) -> Result<(Option<bool>, String, String), Failure> {
    let outcome = match judge_exercise(ws, lesson, ex, false, None) {
        Ok(o) => o,
        Err(f) if crate::process::interrupted() => return Err(f),
        Err(f) => {
            return Ok((
                Some(false),
                String::new(),
                format!("could not be judged: {f}"),
            ));
        }
    };
    let cause = diagnoses_shown(ex, outcome.judged, &outcome.results)
        .iter()
        .map(|d| d.id.as_str())
        .collect::<Vec<_>>()
        .join(",");
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
        Judged::Superseded => "reset while it was judged".to_string(),
        Judged::Ran(Verdict::Skipped) => {
            format!("skipped, so nothing was proven: {}", detail.join("; "))
        }
        Judged::Ran(_) => detail.join("; "),
    };
    Ok((fixture_as_named(outcome.judged, should_fix), cause, detail))
}

/// One fixture's row of the table.
struct Row<'a> {
    fixture: &'a std::path::Path,
    should_fix: bool,
    as_named: Option<bool>,
    /// The diagnoses' ids, comma-separated; empty when none matched.
    cause: &'a str,
    detail: &'a str,
}

fn print_row(lesson: &Lesson, ex: &Exercise, row: &Row<'_>, started: Instant) {
    let Row {
        fixture,
        should_fix,
        as_named,
        cause,
        detail,
    } = *row;
    let paint = Paint::stdout();
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
    let cause = if cause.is_empty() { "-" } else { cause };
    println!(
        "{:<9} {:<12} {:<34} {:<9} {word} {:>5.1} s  {cause:<22} {detail}",
        lesson.id,
        ex.name,
        name,
        if should_fix { "fixed" } else { "not fixed" },
        started.elapsed().as_secs_f64(),
    );
}

/// The last line, and the exit code: 1 when any fixture was judged wrongly.
fn summary(count: usize, mismatches: usize, inconclusive: usize) -> ExitCode {
    let paint = Paint::stdout();
    println!();
    let busy_note = if inconclusive > 0 {
        format!(
            " ({inconclusive} inconclusive: only timing facts missed, and the lesson's own fix missed too)"
        )
    } else {
        String::new()
    };
    if mismatches == 0 {
        let line = format!(
            "all {} fixtures judged were judged as their names say{busy_note}",
            count - inconclusive
        );
        println!("{}", paint.wrap("32", &line));
        ExitCode::SUCCESS
    } else {
        let line = format!("{mismatches} of {count} fixtures were judged wrongly{busy_note}");
        println!("{}", paint.wrap("31", &line));
        ExitCode::from(1)
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
}
