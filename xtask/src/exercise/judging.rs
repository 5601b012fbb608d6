//! Judging a learner's exercise: build their file, run every scenario
//! that judges it under the fixed claim, measure the lesson's own fix when
//! only a timing fact missed, and say what was measured on their program.

use super::show;
use crate::compile::{self, ExerciseBuild};
use crate::lessons::{Exercise, Lesson, Scenario, Variant, Workspace};
use crate::ui::Paint;
use crate::{Failure, print_runner_stop, process, run_one, tracefile};
use shared::contract::manifest::Diagnosis;
use shared::grade::{Judgement, Verdict};
use std::path::Path;

/// How judging an exercise went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Judged {
    DoesNotCompile,
    /// It ran: a mismatch in any scenario is a mismatch; otherwise an
    /// inconclusive one makes it inconclusive, then a skipped one skipped.
    Ran(Verdict),
    /// It was judged fixed, but the learner reset the exercise while it
    /// ran: nothing was recorded, and the file is back at its start.
    Superseded,
}

impl Judged {
    pub(super) fn fixed(self) -> bool {
        self == Judged::Ran(Verdict::Ok)
    }
}

/// The exit code of `try` for each way judging can go. 0: fixed; 1: not
/// fixed (or does not compile); 3: inconclusive, run it again; 4: skipped,
/// the claim cannot be measured on this machine. (2 is a bad argument or
/// another error of the runner's.)
pub(super) fn exit_code(judged: Judged) -> u8 {
    match judged {
        Judged::Ran(Verdict::Ok) => 0,
        Judged::Ran(Verdict::Mismatch) | Judged::DoesNotCompile | Judged::Superseded => 1,
        Judged::Ran(Verdict::Inconclusive) => 3,
        Judged::Ran(Verdict::Skipped) => 4,
    }
}

/// The verdict of several scenarios together.
pub(super) fn overall(verdicts: impl IntoIterator<Item = Verdict>) -> Verdict {
    let all: Vec<Verdict> = verdicts.into_iter().collect();
    [Verdict::Mismatch, Verdict::Inconclusive, Verdict::Skipped]
        .into_iter()
        .find(|v| all.contains(v))
        .unwrap_or(Verdict::Ok)
}

/// What was judged: the verdict, each scenario's judgement, and the bytes
/// of the learner's file as they were when it was built.
pub(super) struct Outcome {
    pub(super) judged: Judged,
    pub(super) results: Vec<(String, Judgement)>,
    pub(super) source: Vec<u8>,
}

/// The learner's run of `scenario` missed only timing facts, on a machine
/// that other programs kept busy. Measure the lesson's own fix at once, on
/// the same machine: if it misses the same facts, the machine is too busy
/// to tell, and the verdict is inconclusive. If not, the learner's program
/// is measured once more, and that run decides.
pub(super) fn measure_again(
    ws: &Workspace,
    lesson: &Lesson,
    scenario: &Scenario,
    exe: &Path,
    first: Judgement,
    stream: bool,
) -> Result<(Option<process::RunResult>, Judgement), Failure> {
    if stream {
        println!();
        println!(
            "(a timing fact missed its bound: {}. Measuring the lesson's own fix now, to see whether this machine is too busy to tell.)",
            first.summary()
        );
    }
    let exes = compile::lessons(&[lesson])?;
    let fixed = compile::exe(&exes, lesson, &Variant::Fixed)?;
    let described = compile::describe(fixed)
        .map_err(|e| Failure::new(format!("{}: {e}", lesson.bin_for(&Variant::Fixed))))?;
    let piece = compile::pieces_of(&described, &scenario.name)
        .into_iter()
        .next()
        .unwrap_or_default();
    let (reference, rj) = run_one(ws, fixed, lesson, scenario, &Variant::Fixed, &piece, false)?;
    // The machine is to blame only for what it did to the lesson's own fix
    // too: every fact the learner's program missed must have missed there,
    // or come close to its bound (a machine that pushes the lesson's own
    // fix that close can push another fix over).
    if missed_the_same(&first, &rj) {
        let mut j = first;
        let busy = crate::judge::busy(&reference)
            .map(|why| format!("; {why}"))
            .unwrap_or_default();
        let theirs: Vec<String> = j
            .problems
            .iter()
            .filter_map(|p| match p {
                shared::grade::Problem::OutOfBounds { bound, .. } => rj
                    .facts
                    .iter()
                    .find(|(n, _)| *n == bound.name)
                    .map(|(n, v)| format!("{n} = {}", shared::view::number::format_value(*v))),
                _ => None,
            })
            .collect();
        j.make_inconclusive(format!(
            "the lesson's own fix, measured just after, missed too or came close: {}{busy}",
            theirs.join(", ")
        ));
        return Ok((None, j));
    }
    if stream {
        println!(
            "(the lesson's own fix did not miss the same way just now: measuring your program once more)"
        );
    }
    let variant = Variant::Exercise(String::new());
    let (again, j) = run_one(ws, exe, lesson, scenario, &variant, "", false)?;
    Ok((Some(again), j))
}

/// How close to its bound a fact of the lesson's own fix must come for a
/// miss of the same fact to be the machine's doing: within the last
/// 30% below a maximum, or 30% above a minimum.
const NEAR: f64 = 0.7;

/// Whether the reference run missed, or came close to missing, every fact
/// the learner's run missed (and the learner's run missed some).
pub(super) fn missed_the_same(learner: &Judgement, reference: &Judgement) -> bool {
    let missed: Vec<_> = learner
        .problems
        .iter()
        .filter_map(|p| match p {
            shared::grade::Problem::OutOfBounds { bound, .. } => Some(bound),
            _ => None,
        })
        .collect();
    let near = |bound: &shared::contract::manifest::Bound| {
        let Some(&(_, v)) = reference.facts.iter().find(|(n, _)| *n == bound.name) else {
            return false;
        };
        !bound.holds(v)
            || bound.max.is_some_and(|m| m > 0.0 && v >= m * NEAR)
            || bound.min.is_some_and(|m| m > 0.0 && v <= m * (2.0 - NEAR))
    };
    !missed.is_empty() && missed.into_iter().all(near)
}

/// Builds the learner's file, runs every scenario that judges it, and says
/// what happened in plain words. With `stream`, the program's own output
/// (narration, timeline) is shown as it runs.
pub(super) fn judge_exercise(
    ws: &Workspace,
    lesson: &Lesson,
    ex: &Exercise,
    stream: bool,
    mut traced: Option<&mut tracefile::Collected>,
) -> Result<Outcome, Failure> {
    let paint = Paint::stdout();
    let file = lesson.exercise_file(&ex.name);
    if stream {
        println!(
            "{}",
            paint.wrap(
                "1",
                &format!("▶ {} · exercise {}: {}", lesson.id, ex.name, ex.goal)
            )
        );
        println!("  your file: {}", show(ws, &file));
        println!("  building it...");
    }
    // What is built and judged is the file as it is now: an edit saved
    // while it runs is judged next time, never credited with this verdict.
    let source = std::fs::read(&file)
        .map_err(|e| Failure::new(format!("cannot read {}: {e}", show(ws, &file))))?;
    let exe = match compile::exercise(lesson, &ex.name, !stream)? {
        ExerciseBuild::Built(exe) => exe,
        ExerciseBuild::Errors(errors) => {
            if stream {
                print_build_errors(ws, &file, &errors);
            }
            return Ok(Outcome {
                judged: Judged::DoesNotCompile,
                results: Vec::new(),
                source,
            });
        }
    };
    let described = compile::describe(&exe).map_err(|e| {
        Failure::new(format!(
            "{}: {e}. Keep the `fn main` at the end of {} as the starting point has it (`cargo xtask reset {} {}` starts over).",
            lesson.exercise_bin(&ex.name),
            show(ws, &file),
            lesson.id,
            ex.name
        ))
    })?;
    let mut checked = lesson.clone();
    checked.check_against(&described).map_err(Failure::new)?;
    let mut results = Vec::new();
    let variant = Variant::Exercise(ex.name.clone());
    for name in &ex.scenarios {
        let scenario = checked
            .scenario(name)
            .expect("the manifest names only its own scenarios");
        let (result, j) = judge_scenario(ws, &checked, scenario, &exe, &variant, stream)?;
        if let Some(t) = traced.as_deref_mut() {
            t.add(
                format!("{} · {} · your {}", lesson.id, scenario.name, ex.name),
                &result.report.events,
            );
        }
        results.push((scenario.name.clone(), j));
    }
    let judged = Judged::Ran(overall(results.iter().map(|(_, j)| j.verdict())));
    if stream {
        println!();
        for (name, j) in &results {
            let meaning = |fact: &str| compile::meaning(&described, name, fact);
            let expect = &checked.scenario(name).expect("known scenario").fixed;
            print_scenario_verdict(&paint, name, expect, j, meaning);
        }
        for line in likely_causes(ex, judged, &results) {
            println!("{}", paint.wrap("33", &line));
        }
    }
    Ok(Outcome {
        judged,
        results,
        source,
    })
}

/// Runs the learner's program in one scenario and judges it; a timing
/// miss on a busy machine is measured again (see [`measure_again`]).
fn judge_scenario(
    ws: &Workspace,
    checked: &Lesson,
    scenario: &Scenario,
    exe: &Path,
    variant: &Variant,
    stream: bool,
) -> Result<(process::RunResult, Judgement), Failure> {
    if stream {
        println!();
        println!(
            "{}",
            Paint::stdout().wrap(
                "1",
                &format!("▶ scenario {}: {}", scenario.name, scenario.summary)
            )
        );
        // Not the lesson's claim for its own fix: that names the lesson's
        // mechanism (its tool, its constant), which is the answer. The
        // exercise's goal, printed above, says what any fix achieves, and
        // the verdict gives each fact beside what a fix gives.
        println!();
    }
    let (mut result, mut j) = run_one(ws, exe, checked, scenario, variant, "", stream)?;
    if stream && result.stopped.is_some() {
        print_runner_stop(&result, &j);
    }
    // A timing miss on a machine measured to be quiet while it ran is the
    // program's own; only a busy machine needs a second look.
    if j.only_timing_misses() && crate::judge::busy(&result).is_some() {
        let (again, judged) = measure_again(ws, checked, scenario, exe, j, stream)?;
        j = judged;
        if let Some(again) = again {
            result = again;
        }
    }
    Ok((result, j))
}

/// The manifest's diagnoses that the results show: only under a ✘
/// verdict, never a ✔ or an inconclusive one.
pub(super) fn diagnoses_shown<'a>(
    ex: &'a Exercise,
    judged: Judged,
    results: &[(String, Judgement)],
) -> Vec<&'a Diagnosis> {
    if judged != Judged::Ran(Verdict::Mismatch) {
        return Vec::new();
    }
    shared::grade::diagnose(ex, results)
}

/// [`diagnoses_shown`] as the learner reads them, after the numbers.
pub(super) fn likely_causes(
    ex: &Exercise,
    judged: Judged,
    results: &[(String, Judgement)],
) -> Vec<String> {
    diagnoses_shown(ex, judged, results)
        .into_iter()
        .map(|d| format!("  Likely cause: {}", d.say))
        .collect()
}

pub(super) fn print_build_errors(ws: &Workspace, file: &Path, errors: &[String]) {
    const SHOWN: usize = 3;
    println!();
    for e in errors.iter().take(SHOWN) {
        println!("{e}\n");
    }
    let more = errors.len().saturating_sub(SHOWN);
    let count = if errors.len() == 1 {
        "an error".to_string()
    } else {
        format!("{} errors", errors.len())
    };
    let more = if more > 0 {
        format!(" ({more} more not shown; fix these first)")
    } else {
        String::new()
    };
    println!(
        "{}",
        Paint::stdout().wrap(
            "31",
            &format!(
                "✘ Your exercise does not compile yet: {count} above{more}. Fix {} and save it.",
                show(ws, file)
            )
        )
    );
}

/// One scenario's verdict on the learner's program: what was measured on
/// it, fact by fact, beside what a fix gives. It never restates the
/// lesson's claim as if it were a fact about their code.
pub(super) fn print_scenario_verdict(
    paint: &Paint,
    name: &str,
    expect: &shared::contract::manifest::Expect,
    j: &Judgement,
    meaning: impl Fn(&str) -> Option<String>,
) {
    match j.verdict() {
        Verdict::Skipped => println!(
            "{}",
            paint.wrap(
                "33",
                &format!(
                    "– {name}: cannot be judged on this machine: {}",
                    j.observed.describe()
                )
            )
        ),
        Verdict::Ok => {
            println!(
                "{}",
                paint.wrap(
                    "32",
                    &format!(
                        "✔ {name}: your program {}, and every fact measured on it is what a fix gives:",
                        j.observed.describe()
                    )
                )
            );
            for line in j.plain_measured(expect, &meaning) {
                println!("    - {line}");
            }
        }
        Verdict::Inconclusive => {
            println!(
                "{}",
                paint.wrap(
                    "33",
                    &format!(
                        "? {name}: inconclusive: this machine is too busy right now to tell. Run it again."
                    )
                )
            );
            for p in &j.problems {
                println!("    - {}", p.plain(&meaning));
            }
            if let Some(why) = &j.inconclusive {
                println!("    ({why})");
            }
        }
        Verdict::Mismatch => {
            println!("{}", paint.wrap("31", &format!("✘ {name}: not fixed yet:")));
            for p in &j.problems {
                println!("    - {}", p.plain(&meaning));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_same_misses_or_near_misses_in_the_lessons_own_fix_excuse_a_learners_run() {
        use shared::contract::manifest::{Bound, Expect, Outcome};
        use shared::grade::{Observed, judge};
        let e = Expect {
            outcome: Outcome::Completes,
            claim: "c".into(),
            facts: ["longest_hold", "heartbeat_lateness"]
                .map(|name| Bound {
                    name: name.into(),
                    min: None,
                    max: Some(6.0),
                    timing: true,
                })
                .to_vec(),
            needs_cores: 1,
        };
        let run = |hold: f64, late: f64| {
            judge(
                &e,
                Observed::Completes,
                vec![
                    ("longest_hold".into(), hold),
                    ("heartbeat_lateness".into(), late),
                ],
            )
        };
        let learner = run(11.0, 2.0);
        assert!(
            !missed_the_same(&learner, &run(1.0, 7.0)),
            "another fact missed"
        );
        assert!(missed_the_same(&learner, &run(8.0, 7.0)));
        assert!(
            !missed_the_same(&learner, &run(1.0, 1.0)),
            "the fix met the claim"
        );
        // Within the last 30% below the bound of 6: close enough for a
        // busy machine to push another fix over; 4 is not.
        assert!(missed_the_same(&learner, &run(4.5, 1.0)));
        assert!(!missed_the_same(&learner, &run(4.0, 1.0)));
        assert!(
            !missed_the_same(&run(1.0, 1.0), &run(8.0, 7.0)),
            "the learner missed nothing"
        );
        // A minimum of 0.65: within 30% above it (0.845) is close.
        let e = Expect {
            facts: vec![Bound {
                name: "throughput_ratio".into(),
                min: Some(0.65),
                max: None,
                timing: true,
            }],
            ..e
        };
        let run = |ratio: f64| {
            judge(
                &e,
                Observed::Completes,
                vec![("throughput_ratio".into(), ratio)],
            )
        };
        assert!(missed_the_same(&run(0.5), &run(0.8)));
        assert!(!missed_the_same(&run(0.5), &run(0.9)));
    }

    #[test]
    fn a_likely_cause_is_printed_only_under_a_wrong_verdict() {
        use shared::contract::manifest::{Bound, Condition, Diagnosis, Expect, Outcome, Pattern};
        use shared::grade::{Observed, judge};
        let ex = Exercise {
            name: "report".into(),
            scenarios: vec!["report".into()],
            goal: "g".into(),
            hints: vec!["h".into()],
            diagnoses: vec![Diagnosis {
                id: "remade".into(),
                scenario: None,
                pattern: Pattern::Facts(vec![Condition::parse("reports <= 0").unwrap()]),
                hangs: false,
                say: "the timer is made again on every turn".into(),
            }],
        };
        let e = Expect {
            outcome: Outcome::Completes,
            claim: "c".into(),
            facts: vec![Bound {
                name: "reports".into(),
                min: Some(8.0),
                max: None,
                timing: false,
            }],
            needs_cores: 1,
        };
        let run = |reports: f64| {
            let j = judge(&e, Observed::Completes, vec![("reports".into(), reports)]);
            vec![("report".to_string(), j)]
        };
        let wrong = run(0.0);
        let judged = Judged::Ran(overall(wrong.iter().map(|(_, j)| j.verdict())));
        assert_eq!(
            likely_causes(&ex, judged, &wrong),
            ["  Likely cause: the timer is made again on every turn"]
        );
        let right = run(9.0);
        assert!(likely_causes(&ex, Judged::Ran(Verdict::Ok), &right).is_empty());
        assert!(
            likely_causes(&ex, Judged::Ran(Verdict::Inconclusive), &wrong).is_empty(),
            "never on an inconclusive verdict"
        );
        assert!(likely_causes(&ex, Judged::DoesNotCompile, &[]).is_empty());
    }

    #[test]
    fn try_exits_with_one_code_per_verdict() {
        assert_eq!(exit_code(Judged::Ran(Verdict::Ok)), 0);
        assert_eq!(exit_code(Judged::Ran(Verdict::Mismatch)), 1);
        assert_eq!(exit_code(Judged::DoesNotCompile), 1);
        assert_eq!(exit_code(Judged::Ran(Verdict::Inconclusive)), 3);
        assert_eq!(exit_code(Judged::Ran(Verdict::Skipped)), 4);
        assert_eq!(
            overall([Verdict::Ok, Verdict::Skipped, Verdict::Inconclusive]),
            Verdict::Inconclusive
        );
        assert_eq!(
            overall([Verdict::Inconclusive, Verdict::Mismatch]),
            Verdict::Mismatch
        );
        assert_eq!(overall([Verdict::Ok, Verdict::Ok]), Verdict::Ok);
    }
}
