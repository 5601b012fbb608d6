//! What a learner has done in a lesson's exercises: `exercise/.progress.json`
//! in the lesson's folder (git ignores it).
//!
//! Progress is precious: a file that does not parse is kept aside, never
//! overwritten; every change is a read-modify-write under a lock (two
//! terminals may run `hint` or `try` at once), written to a temporary file
//! and renamed into place, so a reader never sees half of it.

// One libc call: flock, for the lock file.
#![allow(unsafe_code)]

use crate::Failure;
use crate::lessons::Lesson;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::os::fd::AsRawFd;
use std::path::PathBuf;

/// A stable hash of a file's bytes (FNV-1a, 64 bits): it says whether the
/// file changed since it was judged fixed.
pub fn fingerprint(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h = (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
    }
    format!("{h:016x}")
}

/// Milliseconds since 1970: when a reset happened, to compare with when a
/// run began.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExerciseState {
    /// The fingerprint of the source that was built and judged fixed.
    #[serde(default)]
    pub solved: Option<String>,
    /// Hints shown so far.
    #[serde(default)]
    pub hints: usize,
    /// When the exercise was last reset: a verdict on a run that began
    /// before it does not count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset_at_ms: Option<u64>,
}

/// A learner's first prediction of what a scenario's broken program does.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Predicted {
    /// The answer's letter: `a`, `b`...
    pub chose: String,
    pub right: bool,
}

/// What a learner has done in one lesson's exercises, and the predictions
/// they made before its broken programs ran.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Progress {
    #[serde(default)]
    pub exercises: BTreeMap<String, ExerciseState>,
    /// By scenario.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub predictions: BTreeMap<String, Predicted>,
}

/// Where an exercise stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// The learner's file is still its starting point (or is missing).
    NotStarted,
    /// The file exists and has not been judged fixed as it is now.
    InProgress,
    Solved,
    /// Judged fixed once, and edited since.
    EditedSinceSolved,
}

impl Status {
    pub fn describe(self) -> &'static str {
        match self {
            Status::NotStarted => "· not started",
            Status::InProgress => "… in progress",
            Status::Solved => "✔ solved",
            Status::EditedSinceSolved => "✔ solved, edited since",
        }
    }
}

/// Held while a progress file is read, changed and written.
struct Lock(std::fs::File);

impl Lock {
    fn take(lesson: &Lesson) -> Result<Lock, Failure> {
        let path = lesson.dir.join("exercise").join(".progress.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Failure::new(format!("cannot open {}: {e}", path.display())))?;
        // SAFETY: flock on a file descriptor we own has no memory-safety
        // preconditions. It blocks until the other holder is done.
        unsafe {
            libc::flock(file.as_raw_fd(), libc::LOCK_EX);
        }
        Ok(Lock(file))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // SAFETY: as above; closing the file would release it too.
        unsafe {
            libc::flock(self.0.as_raw_fd(), libc::LOCK_UN);
        }
    }
}

impl Progress {
    pub fn path(lesson: &Lesson) -> PathBuf {
        lesson.dir.join("exercise").join(".progress.json")
    }

    /// The lesson's progress. Nothing recorded is a fresh start; a file
    /// that does not parse is moved aside (with a one-line warning), so
    /// that the next write cannot destroy what it held.
    pub fn load(lesson: &Lesson) -> Progress {
        let path = Progress::path(lesson);
        let Ok(bytes) = std::fs::read(&path) else {
            return Progress::default();
        };
        match serde_json::from_slice(&bytes) {
            Ok(p) => p,
            Err(e) => {
                let aside = path.with_file_name(format!(".progress.json.unreadable-{}", now_ms()));
                let kept = std::fs::rename(&path, &aside).is_ok();
                eprintln!(
                    "warning: {} could not be read ({e}); {}, and progress starts afresh",
                    path.display(),
                    if kept {
                        format!("it was kept as {}", aside.display())
                    } else {
                        "it could not be moved aside".to_string()
                    }
                );
                Progress::default()
            }
        }
    }

    /// Reads the progress, lets `change` edit it, and writes it back, all
    /// under the lesson's progress lock. Returns what `change` returned.
    pub fn update<R>(
        lesson: &Lesson,
        change: impl FnOnce(&mut Progress) -> R,
    ) -> Result<R, Failure> {
        let _lock = Lock::take(lesson)?;
        let mut progress = Progress::load(lesson);
        let before = progress.clone();
        let out = change(&mut progress);
        if progress != before {
            progress.save(lesson)?;
        }
        Ok(out)
    }

    fn save(&self, lesson: &Lesson) -> Result<(), Failure> {
        let path = Progress::path(lesson);
        let tmp = path.with_file_name(format!(".progress.json.{}.tmp", std::process::id()));
        let text = serde_json::to_string_pretty(self).expect("progress serialises") + "\n";
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                Failure::new(format!("cannot write {}: {e}", path.display()))
            })
    }

    /// Records the verdict on exercise `name` of a run that began at
    /// `began_ms` and built `source`: `Some(true)` (fixed) marks that
    /// source solved; `Some(false)` (not fixed, or not compiling) clears
    /// any mark. A reset since the run began wins, and nothing is recorded.
    /// Returns whether the verdict was recorded.
    pub fn record(
        lesson: &Lesson,
        name: &str,
        fixed: bool,
        source: &[u8],
        began_ms: u64,
    ) -> Result<bool, Failure> {
        Progress::update(lesson, |p| {
            let state = p.state(name);
            if state.reset_at_ms.is_some_and(|at| at >= began_ms) {
                return false;
            }
            state.solved = fixed.then(|| fingerprint(source));
            true
        })
    }

    pub fn state(&mut self, name: &str) -> &mut ExerciseState {
        self.exercises.entry(name.to_string()).or_default()
    }

    pub fn status(&self, lesson: &Lesson, name: &str) -> Status {
        let Ok(bytes) = std::fs::read(lesson.exercise_file(name)) else {
            return Status::NotStarted;
        };
        if std::fs::read(lesson.exercise_start(name)).is_ok_and(|start| start == bytes) {
            return Status::NotStarted;
        }
        match self.exercises.get(name).and_then(|s| s.solved.as_ref()) {
            Some(hash) if *hash == fingerprint(&bytes) => Status::Solved,
            Some(_) => Status::EditedSinceSolved,
            None => Status::InProgress,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lesson(dir: &std::path::Path) -> Lesson {
        std::fs::create_dir_all(dir.join("exercise").join("start")).unwrap();
        Lesson {
            id: "lesson-09".into(),
            number: 9,
            title: "t".into(),
            idea: "i".into(),
            chapter: "c.md".into(),
            dir: dir.to_path_buf(),
            manifest_path: dir.join("Cargo.toml"),
            scenarios: vec![],
            exercises: vec![],
            quiet_ms: 1,
            deadline_ms: 1,
        }
    }

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("xtask-progress-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn fingerprints_are_stable_and_tell_files_apart() {
        assert_eq!(fingerprint(b""), "cbf29ce484222325");
        assert_eq!(fingerprint(b"a"), "af63dc4c8601ec8c");
        assert_ne!(fingerprint(b"fn main() {}"), fingerprint(b"fn main() { }"));
    }

    #[test]
    fn progress_survives_a_round_trip_and_rejects_unknown_keys() {
        let mut p = Progress::default();
        p.state("report").hints = 2;
        p.state("report").solved = Some("00ff".into());
        let text = serde_json::to_string(&p).unwrap();
        let back: Progress = serde_json::from_str(&text).unwrap();
        assert_eq!(back, p);
        assert!(serde_json::from_str::<Progress>("{\"exercise\": 1}").is_err());
    }

    #[test]
    fn status_follows_the_file_and_what_was_solved() {
        let dir = scratch("status");
        let lesson = lesson(&dir);
        let mut p = Progress::default();
        assert_eq!(p.status(&lesson, "x"), Status::NotStarted);
        std::fs::write(lesson.exercise_start("x"), "v0").unwrap();
        std::fs::write(lesson.exercise_file("x"), "v0").unwrap();
        assert_eq!(p.status(&lesson, "x"), Status::NotStarted, "as it started");
        std::fs::write(lesson.exercise_file("x"), "v1").unwrap();
        assert_eq!(p.status(&lesson, "x"), Status::InProgress);
        p.state("x").solved = Some(fingerprint(b"v1"));
        assert_eq!(p.status(&lesson, "x"), Status::Solved);
        std::fs::write(lesson.exercise_file("x"), "v2").unwrap();
        assert_eq!(p.status(&lesson, "x"), Status::EditedSinceSolved);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_progress_file_that_does_not_parse_is_kept_aside_not_overwritten() {
        let dir = scratch("broken");
        let lesson = lesson(&dir);
        let path = Progress::path(&lesson);
        let broken = r#"{"exercises": {"report": {"solved": 12"#;
        std::fs::write(&path, broken).unwrap();
        Progress::update(&lesson, |p| p.state("report").hints = 1).unwrap();
        let kept: Vec<PathBuf> = std::fs::read_dir(dir.join("exercise"))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.to_string_lossy().contains("unreadable"))
            .collect();
        assert_eq!(kept.len(), 1, "{kept:?}");
        assert_eq!(std::fs::read_to_string(&kept[0]).unwrap(), broken);
        assert_eq!(Progress::load(&lesson).exercises["report"].hints, 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_verdict_marks_the_source_that_was_built_and_a_failure_clears_it() {
        let dir = scratch("verdict");
        let lesson = lesson(&dir);
        std::fs::write(lesson.exercise_start("x"), "start").unwrap();
        std::fs::write(lesson.exercise_file("x"), "edited after the build").unwrap();
        assert!(Progress::record(&lesson, "x", true, b"built", 1).unwrap());
        let p = Progress::load(&lesson);
        assert_eq!(p.exercises["x"].solved, Some(fingerprint(b"built")));
        assert_eq!(
            p.status(&lesson, "x"),
            Status::EditedSinceSolved,
            "the file now is not what was judged"
        );
        std::fs::write(lesson.exercise_file("x"), "built").unwrap();
        assert_eq!(Progress::load(&lesson).status(&lesson, "x"), Status::Solved);
        assert!(Progress::record(&lesson, "x", false, b"built", 2).unwrap());
        assert_eq!(Progress::load(&lesson).exercises["x"].solved, None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_reset_during_a_run_wins_over_its_verdict() {
        let dir = scratch("reset");
        let lesson = lesson(&dir);
        Progress::update(&lesson, |p| p.state("x").reset_at_ms = Some(500)).unwrap();
        assert!(
            !Progress::record(&lesson, "x", true, b"v", 400).unwrap(),
            "the run began before the reset"
        );
        assert_eq!(Progress::load(&lesson).exercises["x"].solved, None);
        assert!(Progress::record(&lesson, "x", true, b"v", 600).unwrap());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn updates_from_many_threads_at_once_lose_nothing() {
        let dir = scratch("many");
        let lesson = lesson(&dir);
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let lesson = lesson.clone();
                std::thread::spawn(move || {
                    for _ in 0..10 {
                        Progress::update(&lesson, |p| {
                            p.state(&format!("e{i}")).hints += 1;
                        })
                        .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let p = Progress::load(&lesson);
        for i in 0..8 {
            assert_eq!(p.exercises[&format!("e{i}")].hints, 10);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
