//! `cargo xtask watch [lesson [exercise]]`: judge again on every save, and
//! move on to the next exercise once one is fixed.

use super::attempt::try_one;
use super::judging::Judged;
use super::{chosen, note_reference_edits, show};
use crate::lessons::{Exercise, Lesson, Workspace};
use crate::progress::{Progress, Status};
use crate::ui::Paint;
use crate::{Failure, parse_args, process};
use shared::grade::Verdict;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

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
    let first = if words.len() == 2 {
        Some(0)
    } else {
        unsolved(0)
    };
    let Some(mut at) = first else {
        println!("Every exercise here is solved already. `cargo xtask reset` one to do it again.");
        return Ok(ExitCode::SUCCESS);
    };
    let mut noted = Vec::new();
    loop {
        let (lesson, ex) = queue[at];
        if !noted.contains(&lesson.id) {
            note_reference_edits(&ws, lesson);
            noted.push(lesson.id.clone());
        }
        let (judged, source) = judge_until_conclusive(&ws, lesson, ex)?;
        // Fixed moves on; so does a claim this machine cannot measure (it
        // stays unsolved, and `list` says so).
        if judged.fixed() || judged == Judged::Ran(Verdict::Skipped) {
            let Some(next) = unsolved(at + 1) else {
                println!();
                println!(
                    "{}",
                    Paint::stdout().wrap(
                        "32;1",
                        "Every exercise you asked to watch is fixed. Well done!"
                    )
                );
                return Ok(ExitCode::SUCCESS);
            };
            at = next;
            announce_next(&ws, queue[at]);
            continue;
        }
        wait_for_next_save(&ws, &lesson.exercise_file(&ex.name), &source)?;
    }
}

/// Judges the exercise; a busy moment proves nothing either way, so an
/// inconclusive verdict is judged again by itself, a few times.
fn judge_until_conclusive(
    ws: &Workspace,
    lesson: &Lesson,
    ex: &Exercise,
) -> Result<(Judged, Vec<u8>), Failure> {
    let mut judged = try_one(ws, lesson, ex, false)?;
    for _ in 0..2 {
        if judged.0 != Judged::Ran(Verdict::Inconclusive) {
            break;
        }
        println!();
        println!(
            "{}",
            Paint::stdout().wrap("2", "──── inconclusive: judging it again in a moment ────")
        );
        if !pause(Duration::from_secs(2)) {
            return Err(Failure::interrupted());
        }
        judged = try_one(ws, lesson, ex, false)?;
    }
    Ok(judged)
}

fn announce_next(ws: &Workspace, (lesson, ex): (&Lesson, &Exercise)) {
    println!();
    println!(
        "{}",
        Paint::stdout().wrap(
            "1",
            &format!(
                "Next: {} · exercise {}. Its file: {}",
                lesson.id,
                ex.name,
                show(ws, &lesson.exercise_file(&ex.name))
            )
        )
    );
    println!();
}

/// Waits until the file differs from the source that was judged (a save
/// made while it was being judged counts at once).
fn wait_for_next_save(ws: &Workspace, file: &Path, judged: &[u8]) -> Result<(), Failure> {
    let paint = Paint::stdout();
    println!();
    println!(
        "{}",
        paint.wrap(
            "2",
            &format!(
                "Watching {}: save it to judge it again. Ctrl-C to stop.",
                show(ws, file)
            )
        )
    );
    if std::fs::read(file).map_or(true, |now| now == judged) && !wait_for_save(file, judged) {
        return Err(Failure::interrupted());
    }
    println!();
    println!(
        "{}",
        paint.wrap(
            "2",
            &format!("──── {} changed: judging it again ────", show(ws, file))
        )
    );
    println!();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
