//! `cargo xtask check [lesson [scenario]] [--json]`: runs every piece of
//! every variant of every scenario, compares each with its lesson's
//! manifest, prints one row per run, and exits 1 on any mismatch. A timing
//! miss is measured again (see [`run_judged`]); a second miss on a machine
//! measured to be busy is counted as inconclusive, not failed.

use crate::compile::{self, Checked, Exes};
use crate::judge::json_line;
use crate::lessons::{Lesson, Scenario, Variant, Workspace, find_scenario};
use crate::process::RunResult;
use crate::runs::{build_and_check, run_judged};
use crate::ui::{Paint, label, mark};
use crate::{Failure, exercise, parse_args, tracefile};
use shared::grade::{Judgement, Verdict};
use std::process::ExitCode;

pub fn command(args: &[String]) -> Result<ExitCode, Failure> {
    let usage = "cargo xtask check [lesson [scenario]] [--json]";
    let (flags, words) = parse_args(args, &["--json"], 2, usage)?;
    let json = flags.contains(&"--json");
    let ws = Workspace::load()?;
    let lessons: Vec<&Lesson> = match words.first() {
        Some(q) => vec![ws.find(q)?],
        None => ws.lessons.iter().collect(),
    };
    if lessons.is_empty() {
        return Err(Failure::new("there are no lessons to check"));
    }
    let only = match words.get(1) {
        Some(name) => Some(find_scenario(lessons[0], name)?.name.clone()),
        None => None,
    };
    let (exes, checked) = build_and_check(&lessons)?;
    let table = Table::for_lessons(&checked);
    if !json {
        table.header();
    }
    let mut tally = Tally::default();
    for c in &checked {
        for scenario in &c.lesson.scenarios {
            if only.as_ref().is_some_and(|n| *n != scenario.name) {
                continue;
            }
            for variant in Variant::BOTH {
                for piece in c.pieces(&variant, &scenario.name) {
                    let (result, j) = run_one_checked(&ws, &exes, c, scenario, &variant, &piece)?;
                    let expect = scenario.claim_for(&variant);
                    if json {
                        let line = json_line(
                            &c.lesson.id,
                            &scenario.name,
                            &variant,
                            &piece,
                            expect,
                            &result,
                            &j,
                        );
                        println!("{line}");
                    } else {
                        table.row(&c.lesson, scenario, &variant, &piece, &j);
                    }
                    tally.add(&c.lesson, scenario, label(&variant, &piece), j, result);
                }
            }
        }
    }
    Ok(tally.finish(&ws, json))
}

/// Runs one piece for `check`, quietly.
fn run_one_checked(
    ws: &Workspace,
    exes: &Exes,
    c: &Checked,
    scenario: &Scenario,
    variant: &Variant,
    piece: &str,
) -> Result<(RunResult, Judgement), Failure> {
    let exe = compile::exe(exes, &c.lesson, variant)?;
    run_judged(ws, exe, &c.lesson, scenario, variant, piece, false)
}

/// The widths of the table's columns, from everything it will hold.
struct Table {
    scenario_w: usize,
    variant_w: usize,
    expected_w: usize,
}

impl Table {
    fn for_lessons(checked: &[Checked]) -> Table {
        let scenarios = || checked.iter().flat_map(|c| c.lesson.scenarios.iter());
        let widest = |it: &mut dyn Iterator<Item = usize>, least: usize| {
            it.max().unwrap_or(least).max(least)
        };
        let expected_w = widest(
            &mut scenarios()
                .flat_map(|s| [s.broken.describe(), s.fixed.describe()])
                .map(|d| d.chars().count()),
            8,
        );
        let scenario_w = widest(&mut scenarios().map(|s| s.name.len()), 8);
        let variant_w = widest(
            &mut checked.iter().flat_map(|c| {
                c.lesson.scenarios.iter().flat_map(move |s| {
                    Variant::BOTH.into_iter().flat_map(move |v| {
                        c.pieces(&v, &s.name)
                            .into_iter()
                            .map(move |p| label(&v, &p).chars().count())
                    })
                })
            }),
            7,
        );
        Table {
            scenario_w,
            variant_w,
            expected_w,
        }
    }

    fn header(&self) {
        let (sw, vw, ew) = (self.scenario_w, self.variant_w, self.expected_w);
        println!(
            "{:<9}  {:<sw$}  {:<vw$}  {:<12}  {:<ew$}  observed",
            "lesson", "scenario", "variant", "verdict", "expected"
        );
    }

    fn row(
        &self,
        lesson: &Lesson,
        scenario: &Scenario,
        variant: &Variant,
        piece: &str,
        j: &Judgement,
    ) {
        let (sw, vw, ew) = (self.scenario_w, self.variant_w, self.expected_w);
        let expect = scenario.claim_for(variant);
        let (_, colour) = mark(j.verdict());
        println!(
            "{:<9}  {:<sw$}  {:<vw$}  {}  {:<ew$}  {}",
            lesson.id,
            scenario.name,
            label(variant, piece),
            Paint::stdout().wrap(colour, &format!("{:<12}", j.verdict().to_string())),
            expect.describe(),
            j.observed_summary(expect)
        );
    }
}

/// A run that did not behave as its lesson predicts.
struct Failed {
    lesson: Lesson,
    what: String,
    j: Judgement,
    result: RunResult,
}

/// What `check` saw, run by run.
#[derive(Default)]
struct Tally {
    count: usize,
    skipped: usize,
    inconclusive: Vec<String>,
    failures: Vec<Failed>,
    /// Recordings that do not make a sound trace file.
    bad_traces: Vec<(String, Vec<String>)>,
}

impl Tally {
    fn add(
        &mut self,
        lesson: &Lesson,
        scenario: &Scenario,
        label: String,
        j: Judgement,
        result: RunResult,
    ) {
        self.count += 1;
        let what = format!("{} · {} · {label}", lesson.id, scenario.name);
        // Every recording must also make a sound trace file.
        let problems = tracefile::problems(&what, &result.report.events);
        if !problems.is_empty() {
            self.bad_traces.push((what.clone(), problems));
        }
        match j.verdict() {
            Verdict::Skipped => self.skipped += 1,
            Verdict::Inconclusive => self.inconclusive.push(format!("{what}: {}", j.summary())),
            Verdict::Ok => {}
            Verdict::Mismatch => self.failures.push(Failed {
                lesson: lesson.clone(),
                what,
                j,
                result,
            }),
        }
    }

    /// Says how it went, and the exit code.
    fn finish(&self, ws: &Workspace, json: bool) -> ExitCode {
        for (name, problems) in &self.bad_traces {
            eprintln!("✘ {name}: its recording does not make a sound trace file:");
            for p in problems.iter().take(5) {
                eprintln!("    - {p}");
            }
        }
        let ok = self.failures.is_empty() && self.bad_traces.is_empty();
        let code = if ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        };
        if json {
            return code;
        }
        println!();
        let paint = Paint::stdout();
        for line in &self.inconclusive {
            println!("{}", paint.wrap("33", &format!("? {line}")));
        }
        for f in &self.failures {
            f.explain(ws);
        }
        let judged = self.count - self.skipped - self.inconclusive.len();
        let notes = self.notes();
        if self.failures.is_empty() && !self.bad_traces.is_empty() {
            println!(
                "{} of {} recordings did not make a sound trace file (see above)",
                self.bad_traces.len(),
                self.count
            );
        } else if self.failures.is_empty() {
            let line =
                format!("all {judged} variants judged behaved as their lessons predict{notes}");
            println!("{}", paint.wrap("32", &line));
        } else {
            println!(
                "{} of {judged} variants judged did not behave as their lessons predict{notes}",
                self.failures.len()
            );
        }
        code
    }

    /// " (2 skipped: ...; 1 inconclusive: ...)", or nothing.
    fn notes(&self) -> String {
        let mut notes = Vec::new();
        if self.skipped > 0 {
            notes.push(format!(
                "{} skipped: their claims need more cores than this machine has",
                self.skipped
            ));
        }
        if !self.inconclusive.is_empty() {
            notes.push(format!(
                "{} inconclusive: a timing fact missed twice while the machine was busy",
                self.inconclusive.len()
            ));
        }
        if notes.is_empty() {
            String::new()
        } else {
            format!(" ({})", notes.join("; "))
        }
    }
}

impl Failed {
    /// What went wrong, the program's last words, and where its report is.
    fn explain(&self, ws: &Workspace) {
        println!(
            "{}",
            Paint::stdout().wrap("31", &format!("✘ {}: {}", self.what, self.j.summary()))
        );
        let tail: Vec<&str> = self.result.output.lines().collect();
        if !tail.is_empty() {
            println!("  its last output:");
            for line in &tail[tail.len().saturating_sub(12)..] {
                println!("  │ {line}");
            }
        }
        for problem in &self.result.problems {
            println!("  {problem}");
        }
        println!("  full report: {}", self.result.report_path.display());
        if let Some(edits) = exercise::reference_edits(ws, &self.lesson) {
            println!(
                "  note: you have changed this lesson's own files ({edits}). `check` judges the lesson's reference programs;"
            );
            println!(
                "  to judge a fix of yours, put it in the exercise file and run `cargo xtask try {}`.",
                self.lesson.id
            );
        }
    }
}
