//! Building lesson binaries with cargo, and asking each what its code
//! declares (`--describe`), so the manifest can be checked against it.

use crate::Failure;
use crate::lessons::{Lesson, Variant, cargo};
use crate::process;
use serde_json::Value;
use shared::contract::manifest::EXERCISE_FEATURE;
use shared::contract::report::DESCRIBE_ENV;
use shared::lesson::Description;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Built binaries by name.
pub type Exes = HashMap<String, PathBuf>;

/// What `cargo build --message-format=json` said.
struct BuildOutput {
    success: bool,
    exes: Exes,
    /// Each error's text, as rustc renders it.
    errors: Vec<String>,
}

fn cargo_build(args: &[&str], colour: bool) -> Result<BuildOutput, Failure> {
    let format = if colour {
        "--message-format=json-diagnostic-rendered-ansi"
    } else {
        "--message-format=json"
    };
    let output = Command::new(cargo())
        .arg("build")
        .args(args)
        .arg(format)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .stdout(Stdio::piped())
        .output()
        .map_err(|e| Failure::new(format!("could not run cargo build: {e}")))?;
    if process::interrupted() {
        return Err(Failure::interrupted());
    }
    let mut exes = HashMap::new();
    let mut errors = Vec::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        match msg.get("reason").and_then(Value::as_str) {
            Some("compiler-artifact") => {
                if let (Some(name), Some(exe)) = (
                    msg.pointer("/target/name").and_then(Value::as_str),
                    msg.get("executable").and_then(Value::as_str),
                ) {
                    exes.insert(name.to_string(), PathBuf::from(exe));
                }
            }
            Some("compiler-message") => {
                let level = msg.pointer("/message/level").and_then(Value::as_str);
                if matches!(
                    level,
                    Some("error") | Some("error: internal compiler error")
                ) {
                    if let Some(text) = msg.pointer("/message/rendered").and_then(Value::as_str) {
                        errors.push(text.trim_end().to_string());
                    }
                }
            }
            _ => {}
        }
    }
    Ok(BuildOutput {
        success: output.status.success(),
        exes,
        errors,
    })
}

/// Builds the broken and fixed binaries of `lessons`.
pub fn lessons(lessons: &[&Lesson]) -> Result<Exes, Failure> {
    let mut args = vec!["--bins"];
    for l in lessons {
        args.extend(["-p", l.id.as_str()]);
    }
    let out = cargo_build(&args, false)?;
    if !out.success {
        for e in &out.errors {
            eprintln!("{e}\n");
        }
        return Err(Failure::new(
            "the lessons did not build; the compiler's messages above say why",
        ));
    }
    Ok(out.exes)
}

/// How an exercise's build went.
pub enum ExerciseBuild {
    Built(PathBuf),
    /// The learner's file does not compile: rustc's errors.
    Errors(Vec<String>),
}

/// Builds the binary of one exercise: the learner's file, with the
/// lesson's library.
pub fn exercise(lesson: &Lesson, name: &str, quiet: bool) -> Result<ExerciseBuild, Failure> {
    let bin = lesson.exercise_bin(name);
    let features = format!("{}/{EXERCISE_FEATURE}", lesson.id);
    let colour = crate::ui::colour();
    let mut args = vec!["-p", &lesson.id, "--features", &features, "--bin", &bin];
    if quiet {
        args.push("--quiet");
    }
    let out = cargo_build(&args, colour)?;
    if out.success {
        return match out.exes.get(&bin) {
            Some(exe) => Ok(ExerciseBuild::Built(exe.clone())),
            None => Err(Failure::new(format!("cargo built no binary named {bin}"))),
        };
    }
    if out.errors.is_empty() {
        return Err(Failure::new(format!(
            "cargo could not build {bin}; its messages above say why"
        )));
    }
    Ok(ExerciseBuild::Errors(out.errors))
}

pub fn exe<'a>(exes: &'a Exes, lesson: &Lesson, variant: &Variant) -> Result<&'a Path, Failure> {
    let bin = lesson.bin_for(variant);
    exes.get(&bin)
        .map(PathBuf::as_path)
        .ok_or_else(|| Failure::new(format!("cargo built no binary named {bin}")))
}

/// Runs `exe --describe`, which writes what the binary's code declares to
/// a file of its own (so nothing the program prints can spoil it), under
/// the same guard as any run: its own process group, a time limit, Ctrl-C,
/// and nothing left running afterwards.
pub fn describe(exe: &Path) -> Result<Description, String> {
    const LIMIT: Duration = Duration::from_secs(10);
    let file = process::unique_beside(&std::env::temp_dir().join("xtask-describe.json"), "json");
    let _ = std::fs::remove_file(&file);
    let limits = process::Limits {
        quiet: LIMIT,
        deadline: LIMIT,
        grace: Duration::ZERO,
    };
    let env = [(DESCRIBE_ENV, file.display().to_string())];
    let run = process::supervise(exe, &["--describe"], &env, None, &limits, false)
        .map_err(|e| e.to_string())?;
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    let _ = std::fs::remove_file(&file);
    if run.stopped == Some(process::Stopped::Interrupted) {
        return Err("interrupted".into());
    }
    if run.stopped.is_some() {
        return Err(format!(
            "it did not answer --describe within {} s",
            LIMIT.as_secs()
        ));
    }
    serde_json::from_str(text.trim()).map_err(|_| {
        let ended = match run.status {
            Some(s) if s.success() => String::new(),
            _ => format!(" ({})", run.exit_description()),
        };
        format!(
            "it did not describe itself{ended} (does its main still hand the code to the lesson's harness?)"
        )
    })
}

/// A lesson whose manifest has been checked against its binaries' code,
/// with what each binary runs.
pub struct Checked {
    pub lesson: Lesson,
    pub broken: Description,
    pub fixed: Description,
}

impl Checked {
    pub fn description(&self, variant: &Variant) -> &Description {
        match variant {
            Variant::Broken => &self.broken,
            _ => &self.fixed,
        }
    }

    /// The pieces a variant runs for `scenario`.
    pub fn pieces(&self, variant: &Variant, scenario: &str) -> Vec<String> {
        pieces_of(self.description(variant), scenario)
    }
}

pub fn pieces_of(d: &Description, scenario: &str) -> Vec<String> {
    d.scenarios
        .iter()
        .find(|s| s.name == scenario)
        .map(|s| s.pieces.clone())
        .unwrap_or_default()
}

/// What fact `name` of `scenario` means, from a description.
pub fn meaning(d: &Description, scenario: &str, name: &str) -> Option<String> {
    d.scenarios
        .iter()
        .find(|s| s.name == scenario)?
        .facts
        .iter()
        .find(|f| f.name == name)
        .map(|f| f.meaning.clone())
}

/// Checks `lesson`'s manifest against its built broken and fixed binaries.
pub fn check(lesson: &Lesson, exes: &Exes) -> Result<Checked, Failure> {
    let mut lesson = lesson.clone();
    let mut described = Vec::new();
    for variant in Variant::BOTH {
        let exe = exe(exes, &lesson, &variant)?;
        let d = describe(exe)
            .map_err(|e| Failure::new(format!("{}: {e}", lesson.bin_for(&variant))))?;
        lesson.check_against(&d).map_err(Failure::new)?;
        described.push(d);
    }
    let fixed = described.pop().expect("two descriptions");
    let broken = described.pop().expect("two descriptions");
    Ok(Checked {
        lesson,
        broken,
        fixed,
    })
}
